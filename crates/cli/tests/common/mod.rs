//! Running the `ichigen` binary on a demo folder and reading back what it wrote.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)] // Each test file uses a part of it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;

/// Subject start of the thank-you mail of the demo shop.
pub const THANKS: &str = "【いちげん商店（デモ）】ご注文ありがとうございます（ご注文番号：";
/// Subject start of the staff alert.
pub const ALERT: &str = "[ichigen] 要確認の注文：";

/// The binary, with no ICHIGEN_* or AWS_* settings from the environment of the test run.
pub fn ichigen() -> std::process::Command {
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("ichigen"));
    for (name, _) in std::env::vars() {
        if name.starts_with("ICHIGEN_") || name.starts_with("AWS_") {
            cmd.env_remove(name);
        }
    }
    cmd
}

/// Runs `ichigen args…` and returns its output; panics with stderr when it fails.
pub fn run_ok(args: &[&str]) -> Output {
    let out = ichigen().args(args).output().expect("ichigen runs");
    assert!(
        out.status.success(),
        "ichigen {args:?} failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// stdout as text.
pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Runs the demo with `orders` orders on `dir`; returns its stdout and `summary.json`.
pub fn demo(dir: &Path, orders: usize) -> (String, Value) {
    let out = run_ok(&["demo", "--pull-only", "--orders", &orders.to_string(), "--dir", dir.to_str().unwrap()]);
    (stdout(&out), summary(dir))
}

/// `DIR/summary.json`.
pub fn summary(dir: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).unwrap()).unwrap()
}

/// The lines of `DIR/orders.jsonl`.
pub fn orders(dir: &Path) -> Vec<Value> {
    json_lines(&std::fs::read_to_string(dir.join("orders.jsonl")).unwrap())
}

/// Parses JSON lines.
pub fn json_lines(text: &str) -> Vec<Value> {
    text.lines().filter(|l| !l.trim().is_empty()).map(|l| serde_json::from_str(l).unwrap()).collect()
}

/// `marketplace/order_id` of an order line.
pub fn key(v: &Value) -> String {
    format!("{}/{}", v["marketplace"].as_str().unwrap(), v["order_id"].as_str().unwrap())
}

/// The `.eml` files of `DIR/outbox`, sorted.
pub fn eml_files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir.join("outbox")) else { return Vec::new() };
    let mut files: Vec<PathBuf> =
        entries.map(|e| e.unwrap().path()).filter(|p| p.extension().is_some_and(|x| x == "eml")).collect();
    files.sort();
    files
}

/// A mail read back from an `.eml` file.
#[derive(Debug, Clone)]
pub struct Eml {
    /// The file.
    pub path: PathBuf,
    /// The decoded subject.
    pub subject: String,
    /// The decoded text body.
    pub body: String,
    /// `X-Ichigen-Kind`.
    pub kind: String,
    /// `X-Ichigen-Marketplace`.
    pub marketplace: String,
    /// `X-Ichigen-Order-Id`.
    pub order_id: String,
    /// The recipients.
    pub to: Vec<String>,
}

/// Parses an `.eml` file as MIME; panics when it does not parse.
pub fn parse_eml(path: &Path) -> Eml {
    let raw = std::fs::read(path).unwrap();
    let message = mail_parser::MessageParser::default()
        .parse(&raw)
        .unwrap_or_else(|| panic!("{} does not parse as MIME", path.display()));
    let header = |name: &str| message.header_raw(name).map(|v| v.trim().to_string()).unwrap_or_default();
    Eml {
        path: path.to_path_buf(),
        subject: message.subject().unwrap_or_default().to_string(),
        body: message.body_text(0).map(|b| b.into_owned()).unwrap_or_default(),
        kind: header("X-Ichigen-Kind"),
        marketplace: header("X-Ichigen-Marketplace"),
        order_id: header("X-Ichigen-Order-Id"),
        to: message
            .to()
            .map(|a| a.iter().filter_map(|a| a.address().map(str::to_string)).collect())
            .unwrap_or_default(),
    }
}

/// Mails sent per kind in a summary row.
pub fn mails(row: &Value) -> BTreeMap<String, u64> {
    row["mails"].as_object().unwrap().iter().map(|(k, v)| (k.clone(), v.as_u64().unwrap())).collect()
}

/// A number of a summary row.
pub fn n(row: &Value, field: &str) -> u64 {
    row[field].as_u64().unwrap_or_else(|| panic!("summary has no {field}: {row}"))
}

/// The cells of the printed table's `total` row.
pub fn printed_total(stdout: &str) -> Vec<String> {
    let line = stdout
        .lines()
        .find(|l| l.trim_start_matches(['│', ' ']).starts_with("total"))
        .unwrap_or_else(|| panic!("no total row in:\n{stdout}"));
    line.trim_matches(['│', ' ']).split('┆').map(|c| c.trim().to_string()).collect()
}

/// Whether an order line should have had a thank-you mail on its first run: open, not held,
/// ours to mail (not Amazon, not marketplace-fulfilled).
pub fn thanked(v: &Value) -> bool {
    let status = v["status"].as_str().unwrap();
    let open = matches!(status, "new" | "awaiting_payment" | "ready_to_ship");
    open && v["marketplace"] != "amazon" && v["order"]["fulfilled_by_marketplace"] != true
}

/// `ichigen console` on a store folder, logged in with its one-time token; ended with the test.
pub struct Console {
    child: std::process::Child,
    /// Its port on 127.0.0.1.
    pub port: u16,
    /// The session cookie (`name=value`).
    pub cookie: String,
}

impl Drop for Console {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Console {
    /// Starts the console on `dir` (staff 佐藤) and logs in with the printed token.
    pub fn start(dir: &Path) -> Console {
        use std::io::BufRead;
        let mut child = ichigen()
            .args(["console", "--port", "0", "--staff", "佐藤", "--store", dir.to_str().unwrap()])
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let out = std::io::BufReader::new(child.stdout.take().unwrap());
        let login = out
            .lines()
            .map(Result::unwrap)
            .find_map(|l| l.find("http://127.0.0.1:").map(|at| l[at..].trim().to_string()))
            .expect("the login URL");
        let rest = login.strip_prefix("http://127.0.0.1:").unwrap();
        let (port, path) = rest.split_at(rest.find('/').unwrap());
        let mut console = Console { child, port: port.parse().unwrap(), cookie: String::new() };
        let (status, head) = console.get(path);
        assert_eq!(status, 303, "{head}");
        console.cookie = head
            .lines()
            .find_map(|l| l.strip_prefix("set-cookie: ").or_else(|| l.strip_prefix("Set-Cookie: ")))
            .and_then(|c| c.split(';').next())
            .expect("a session cookie")
            .to_string();
        console
    }

    /// A plain HTTP/1.1 request; (status, head and body).
    fn request(&self, request: &str) -> (u16, String) {
        use std::io::{Read, Write};
        let mut s = std::net::TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        s.write_all(request.as_bytes()).unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        let status = out.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
        (status, out)
    }

    /// GET `path` with the session.
    pub fn get(&self, path: &str) -> (u16, String) {
        self.request(&format!("GET {path} HTTP/1.1\r\nHost: x\r\nCookie: {}\r\nConnection: close\r\n\r\n", self.cookie))
    }

    /// POST the url-encoded `form` to `path` with the session.
    pub fn post(&self, path: &str, form: &str) -> (u16, String) {
        self.request(&format!(
            "POST {path} HTTP/1.1\r\nHost: x\r\nCookie: {}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{form}",
            self.cookie,
            form.len()
        ))
    }
}
