//! The SMTP test server (aiosmtpd, `scripts/smtp`): STARTTLS with a CA made for the run, AUTH with
//! one user, only the registered sender, every accepted message saved as JSON in a folder.
//!
//! `scripts/test` starts one for the whole run and exports its `ICHIGEN_SMTP_*` variables; a test
//! process started without them starts its own through `scripts/smtp start`, stopped when the
//! process exits (the keeper `sh` stops it when this process's end of a pipe closes).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;

use serde::Deserialize;

/// The running server's settings.
#[derive(Debug, Clone)]
pub struct SmtpServer {
    /// `127.0.0.1`.
    pub host: String,
    /// Its port.
    pub port: u16,
    /// The one AUTH user.
    pub user: String,
    /// Its password.
    pub password: String,
    /// The one sender address it accepts (as a marketplace relay accepts only registered ones).
    pub from: String,
    /// The CA that signed its certificate (PEM).
    pub ca_pem: String,
    /// Where accepted messages are saved.
    pub maildir: PathBuf,
}

/// One accepted message.
#[derive(Debug, Clone, Deserialize)]
pub struct Received {
    /// Envelope sender (MAIL FROM).
    pub mail_from: String,
    /// Envelope recipients (RCPT TO).
    pub rcpt_tos: Vec<String>,
    /// The AUTH user of the session.
    pub auth_user: Option<String>,
    /// Whether the session was under TLS.
    pub tls: bool,
    /// The message as sent.
    pub data: String,
}

impl Received {
    /// The first value of header `name` (decoded), if any.
    pub fn header(&self, name: &str) -> Option<String> {
        let message = mail_parser::MessageParser::default().parse(self.data.as_bytes())?;
        message.header(name).and_then(|h| match h {
            mail_parser::HeaderValue::Text(t) => Some(t.to_string()),
            mail_parser::HeaderValue::Address(a) => a.first().and_then(|a| a.address()).map(str::to_string),
            other => other.as_text().map(str::to_string),
        })
    }

    /// The subject, decoded.
    pub fn subject(&self) -> String {
        mail_parser::MessageParser::default()
            .parse(self.data.as_bytes())
            .and_then(|m| m.subject().map(str::to_string))
            .unwrap_or_default()
    }

    /// The plain-text body, decoded.
    pub fn text(&self) -> String {
        mail_parser::MessageParser::default()
            .parse(self.data.as_bytes())
            .and_then(|m| m.body_text(0).map(|t| t.to_string()))
            .unwrap_or_default()
    }
}

impl SmtpServer {
    /// Every message accepted so far (by every test of the run: filter by recipient).
    pub fn received(&self) -> Vec<Received> {
        let mut names: Vec<PathBuf> = std::fs::read_dir(&self.maildir)
            .unwrap_or_else(|e| panic!("reading {}: {e}", self.maildir.display()))
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        names.sort();
        names
            .iter()
            .map(|p| {
                let text = std::fs::read_to_string(p).unwrap_or_else(|e| panic!("reading {}: {e}", p.display()));
                serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
            })
            .collect()
    }

    /// The messages to `recipient`.
    pub fn received_by(&self, recipient: &str) -> Vec<Received> {
        self.received().into_iter().filter(|r| r.rcpt_tos.iter().any(|t| t.eq_ignore_ascii_case(recipient))).collect()
    }
}

impl SmtpServer {
    /// The server's certificate and private key (PEM files `scripts/smtp` made beside its mail
    /// folder), for a stand-in peer that must be trusted as the server is.
    pub fn certificate_files(&self) -> (PathBuf, PathBuf) {
        let dir = self.maildir.parent().unwrap_or(&self.maildir);
        (dir.join("server.pem"), dir.join("server.key"))
    }
}

/// The server of this test run (see the module doc).
///
/// # Panics
/// When `scripts/smtp start` fails (it prints why: no python3, no openssl, no aiosmtpd from PyPI).
pub fn server() -> &'static SmtpServer {
    static SERVER: OnceLock<(SmtpServer, Option<Child>)> = OnceLock::new();
    &SERVER
        .get_or_init(|| match from_env(|name| std::env::var(name).ok()) {
            Some(server) => (server, None),
            None => self_started(),
        })
        .0
}

fn from_env(var: impl Fn(&str) -> Option<String>) -> Option<SmtpServer> {
    let get = |name: &str| var(&format!("ICHIGEN_SMTP_{name}")).filter(|v| !v.is_empty());
    let ca = get("CA")?;
    Some(SmtpServer {
        host: get("HOST")?,
        port: get("PORT")?.parse().ok()?,
        user: get("USER")?,
        password: get("PASSWORD")?,
        from: get("FROM")?,
        ca_pem: std::fs::read_to_string(&ca).unwrap_or_else(|e| panic!("reading {ca}: {e}")),
        maildir: PathBuf::from(get("MAILDIR")?),
    })
}

fn self_started() -> (SmtpServer, Option<Child>) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/smtp");
    // Prints the variables, then waits on stdin; when this process's end closes, stops the server.
    let keeper = r#"vars="$("$0" start)" || exit 1; printf '%s\n' "$vars" END; eval "$vars"; read -r _; "$0" stop "$ICHIGEN_SMTP_PID""#;
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(keeper)
        .arg(&script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", script.display()));
    let stdout = child.stdout.take().unwrap_or_else(|| panic!("no stdout from {}", script.display()));
    let mut vars = std::collections::HashMap::new();
    for line in BufReader::new(stdout).lines().map_while(Result::ok) {
        if line == "END" {
            break;
        }
        if let Some((k, v)) = line.split_once('=') {
            vars.insert(k.to_string(), v.to_string());
        }
    }
    let server = from_env(|name| vars.get(name).cloned())
        .unwrap_or_else(|| panic!("{} start printed no server (see its message above)", script.display()));
    (server, Some(child))
}
