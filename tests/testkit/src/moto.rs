//! moto server as the local AWS.
//!
//! One moto server serves a whole test run; every test isolates itself in its own moto account:
//!
//! ```no_run
//! # async fn example() {
//! use ichigen_testkit::moto;
//! let endpoint = moto::endpoint();
//! let account = moto::fresh_account();
//! let config = moto::sdk_config(&endpoint, &account).await;
//! let sqs = aws_sdk_sqs::Client::new(&config);
//! # }
//! ```
//!
//! What moto records does not say which account or region it belongs to (`/moto-api/data.json` is one
//! flat list per model class for the whole server), so the mail a test sent is told apart by message id:
//! every SESv2 `SendEmail` that goes through an [`sdk_config`] is remembered with its account.

use std::collections::HashSet;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_smithy_http_client::tls;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::byte_stream::ByteStream;
use serde::Deserialize;

/// Environment variable that names a running moto server, e.g. `http://127.0.0.1:40123` (set by `scripts/test`).
pub const ENDPOINT_VAR: &str = "ICHIGEN_MOTO_ENDPOINT";
/// Region of every config made by [`sdk_config`].
pub const REGION: &str = "ap-northeast-1";
/// Request header from which moto takes the account a request acts in.
pub const ACCOUNT_HEADER: &str = "x-moto-account-id";
/// The account moto uses for requests that name none (e.g. from a Lambda binary run as a child process).
pub const DEFAULT_ACCOUNT: &str = "123456789012";

/// How long a self-started moto server may take to answer.
const START_TIMEOUT: Duration = Duration::from_secs(30);
/// SESv2 `SendEmail` is `POST` to this path.
const SESV2_SEND_PATH: &str = "/v2/email/outbound-emails";

/// The moto server for this test process: `ICHIGEN_MOTO_ENDPOINT` when set (`scripts/test` starts one for the
/// whole run), else one server started on first use from the repository's `.venv-moto/` and shared by every
/// test of the process. Blocks while that server starts (~0.5 s).
///
/// The self-started server is stopped when the test process exits, however it exits: it runs under a
/// `sh` that waits on a pipe from this process and kills it when the pipe closes.
///
/// # Panics
/// When neither is available: "moto is not installed: run scripts/test (or scripts/moto install)"; or when
/// the server does not answer within 30 s (the message shows the end of its log).
pub fn endpoint() -> String {
    if let Some(url) = std::env::var(ENDPOINT_VAR).ok().filter(|url| !url.is_empty()) {
        return url.trim_end_matches('/').to_owned();
    }
    static SERVER: OnceLock<SelfStarted> = OnceLock::new();
    SERVER.get_or_init(SelfStarted::start).url.clone()
}

/// A moto server that this process started; it lives as long as `_keeper`'s stdin is open, i.e. as long as the process.
struct SelfStarted {
    url: String,
    _keeper: Child,
}

impl SelfStarted {
    fn start() -> Self {
        let moto_server = repo_root().join(".venv-moto/bin/moto_server");
        if !moto_server.is_file() {
            panic!(
                "moto is not installed: run scripts/test (or scripts/moto install); looked for {}",
                moto_server.display()
            );
        }
        let port = free_port();
        let log = std::env::temp_dir().join(format!("ichigen-moto-{port}.log"));
        // `read` returns when this process's end of the pipe closes, which the kernel does even on a crash.
        let script = r#""$0" -H 127.0.0.1 -p "$1" >"$2" 2>&1 </dev/null & pid=$!; read -r _; kill "$pid""#;
        let keeper = Command::new("sh")
            .arg("-c")
            .arg(script)
            .arg(&moto_server)
            .arg(port.to_string())
            .arg(&log)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|err| panic!("cannot start {} through sh: {err}", moto_server.display()));
        let started = Instant::now();
        while !answers(port) {
            if started.elapsed() > START_TIMEOUT {
                panic!(
                    "moto_server did not answer GET /moto-api/ on port {port} within {START_TIMEOUT:?}; end of {}:\n{}",
                    log.display(),
                    log_tail(&log)
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Self { url: format!("http://127.0.0.1:{port}"), _keeper: keeper }
    }
}

/// The repository root: this crate lives in `tests/testkit`.
fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap_or_else(|err| panic!("cannot bind 127.0.0.1:0: {err}"));
    match listener.local_addr() {
        Ok(addr) => addr.port(),
        Err(err) => panic!("cannot read the address of a bound socket: {err}"),
    }
}

/// Whether moto answers `GET /moto-api/` with 200 (plain HTTP/1.0 on a socket: this runs before any runtime).
fn answers(port: u16) -> bool {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_millis(500)) else {
        return false;
    };
    if stream.set_read_timeout(Some(Duration::from_secs(2))).is_err()
        || stream.write_all(format!("GET /moto-api/ HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\n\r\n").as_bytes()).is_err()
    {
        return false;
    }
    let mut status_line = [0u8; 12];
    stream.read_exact(&mut status_line).is_ok() && status_line.starts_with(b"HTTP/1.") && &status_line[9..] == b"200"
}

fn log_tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_else(|err| format!("(cannot read the log: {err})"));
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}

/// A random 12-digit moto account id, never [`DEFAULT_ACCOUNT`]: one per test keeps parallel tests apart.
pub fn fresh_account() -> String {
    loop {
        let account = fastrand::u64(100_000_000_000..1_000_000_000_000).to_string();
        if account != DEFAULT_ACCOUNT {
            return account;
        }
    }
}

/// Credentials that act in one moto account without the account header: for processes that cannot add
/// headers, such as a Lambda binary run as a child process (give it these as `AWS_ACCESS_KEY_ID` and
/// `AWS_SECRET_ACCESS_KEY`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessKey {
    /// The access key id, `AKIA…`.
    pub access_key_id: String,
    /// Its secret (moto checks no signatures; it is passed on only because the SDK requires one).
    pub secret_access_key: String,
}

/// Creates an IAM user with an access key in `account` and returns the key.
///
/// moto takes the account of a request from the `x-moto-account-id` header when there is one, else from the
/// access key in its `Authorization` header: a key that IAM created in account X acts in X, any other key in
/// [`DEFAULT_ACCOUNT`]. So a child process given this key works in `account`, apart from parallel tests.
///
/// The two IAM calls are made by hand (query protocol, unsigned: moto does not check signatures) rather than
/// through aws-sdk-iam, a large crate that the tests need for nothing else.
///
/// # Panics
/// When moto refuses a call or its answer holds no access key.
pub async fn access_key(endpoint: &str, account: &str) -> AccessKey {
    let user = format!("ichigen-lambda-{:08x}", fastrand::u32(..));
    iam_call(endpoint, account, &[("Action", "CreateUser"), ("UserName", &user)]).await;
    let created = iam_call(endpoint, account, &[("Action", "CreateAccessKey"), ("UserName", &user)]).await;
    let field = |tag: &str| {
        let open = format!("<{tag}>");
        let start = created.find(&open).map(|at| at + open.len());
        let end = created.find(&format!("</{tag}>"));
        match (start, end) {
            (Some(start), Some(end)) if start <= end => created[start..end].to_owned(),
            _ => panic!("CreateAccessKey in account {account}: no <{tag}> in moto's answer:\n{created}"),
        }
    };
    AccessKey { access_key_id: field("AccessKeyId"), secret_access_key: field("SecretAccessKey") }
}

/// One IAM query-protocol call in `account`; returns moto's XML answer.
async fn iam_call(endpoint: &str, account: &str, params: &[(&str, &str)]) -> String {
    let url = format!("{}/", endpoint.trim_end_matches('/'));
    let action = params.iter().find(|(name, _)| *name == "Action").map(|(_, value)| *value).unwrap_or("IAM call");
    let mut form: Vec<(&str, &str)> = params.to_vec();
    form.push(("Version", "2010-05-08"));
    let response = reqwest::Client::new()
        .post(&url)
        .header(ACCOUNT_HEADER, account)
        // moto serves every service on one port and routes by the service named in the credential scope.
        .header(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=AKIAMOTOTESTKIT/20260101/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=0",
        )
        .form(&form)
        .send()
        .await
        .unwrap_or_else(|err| panic!("IAM {action} at {url}: {err}"));
    let status = response.status();
    let body = response.text().await.unwrap_or_else(|err| panic!("IAM {action}: reading the answer: {err}"));
    assert!(status.is_success(), "IAM {action} in account {account}: {status}: {body}");
    body
}

/// An SDK config for moto at `endpoint` acting in `account`: region ap-northeast-1, dummy credentials, no
/// settings from the host's environment, and the header `x-moto-account-id: <account>` on every request.
///
/// The header is added by the config's HTTP client rather than by an interceptor because an `SdkConfig`
/// cannot carry interceptors; this way every client built from the config (`aws_sdk_*::Client::new(&config)`),
/// including those built by the code under test, acts in `account`.
///
/// # Panics
/// When `account` is not 12 digits (moto would accept it, real AWS never has one).
pub async fn sdk_config(endpoint: &str, account: &str) -> SdkConfig {
    assert!(
        account.len() == 12 && account.bytes().all(|byte| byte.is_ascii_digit()),
        "a moto account id is 12 digits, not {account:?}"
    );
    let inner = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(tls::rustls_provider::CryptoMode::AwsLc))
        .build_https();
    aws_config::defaults(BehaviorVersion::latest())
        .empty_test_environment()
        .test_credentials()
        .region(Region::new(REGION))
        .endpoint_url(endpoint)
        .http_client(InAccount { inner, account: account.to_owned() })
        .load()
        .await
}

/// HTTP client that puts every request into one moto account.
#[derive(Debug)]
struct InAccount {
    inner: SharedHttpClient,
    account: String,
}

impl HttpClient for InAccount {
    fn http_connector(&self, settings: &HttpConnectorSettings, components: &RuntimeComponents) -> SharedHttpConnector {
        SharedHttpConnector::new(InAccountConnector {
            inner: self.inner.http_connector(settings, components),
            account: self.account.clone(),
        })
    }
}

#[derive(Debug)]
struct InAccountConnector {
    inner: SharedHttpConnector,
    account: String,
}

impl HttpConnector for InAccountConnector {
    fn call(&self, mut request: HttpRequest) -> HttpConnectorFuture {
        request.headers_mut().insert(ACCOUNT_HEADER, self.account.clone());
        let sends_mail = request.method() == "POST" && request.uri_mut().path() == SESV2_SEND_PATH;
        let response = self.inner.call(request);
        if !sends_mail {
            return response;
        }
        let account = self.account.clone();
        HttpConnectorFuture::new(async move {
            let mut response = response.await?;
            if response.status().is_success() {
                // The response is tiny JSON; read it for the message id and hand the SDK the same bytes.
                let body = std::mem::replace(response.body_mut(), SdkBody::taken());
                let bytes =
                    ByteStream::new(body).collect().await.map_err(|err| ConnectorError::io(err.into()))?.to_vec();
                if let Ok(sent) = serde_json::from_slice::<SendEmailOutput>(&bytes) {
                    remember_sent(account, sent.message_id);
                }
                *response.body_mut() = SdkBody::from(bytes);
            }
            Ok(response)
        })
    }
}

#[derive(Deserialize)]
struct SendEmailOutput {
    #[serde(rename = "MessageId")]
    message_id: String,
}

/// (account, message id) of every SESv2 send made through an [`sdk_config`] in this process.
static SENT: Mutex<Vec<(String, String)>> = Mutex::new(Vec::new());

fn remember_sent(account: String, message_id: String) {
    SENT.lock().unwrap_or_else(PoisonError::into_inner).push((account, message_id));
}

fn sent_ids(account: &str) -> HashSet<String> {
    let sent = SENT.lock().unwrap_or_else(PoisonError::into_inner);
    sent.iter().filter(|(owner, _)| owner == account).map(|(_, id)| id.clone()).collect()
}

/// A mail that moto's SES accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentMail {
    /// The `MessageId` that SendEmail returned.
    pub message_id: String,
    /// The sender as given (`FromEmailAddress`).
    pub from: String,
    /// Simple mail: the To addresses. Raw mail: every recipient, envelope and To/Cc/Bcc headers alike
    /// (moto does not keep them apart), without duplicates.
    pub to: Vec<String>,
    /// Simple mail: the Cc addresses; raw mail: empty.
    pub cc: Vec<String>,
    /// Simple mail: the Bcc addresses; raw mail: empty.
    pub bcc: Vec<String>,
    /// Simple mail: the subject; raw mail: `None` (it is in [`SentMail::raw`]).
    pub subject: Option<String>,
    /// Simple mail: the HTML part when there is one, else the text part (moto keeps only one); raw mail: `None`.
    pub body: Option<String>,
    /// Raw mail: the whole MIME message as sent; simple mail: `None`.
    pub raw: Option<String>,
}

/// The mail sent in `account` through an [`sdk_config`] of this process (SESv2 `SendEmail`, simple and raw),
/// simple mail first, each kind in the order sent.
///
/// Mail sent otherwise (another process, the SES v1 API) cannot be told apart by account: see
/// [`all_ses_messages`].
///
/// # Panics
/// When moto's `/moto-api/data.json` cannot be read.
pub async fn ses_messages(endpoint: &str, account: &str) -> Vec<SentMail> {
    let ids = sent_ids(account);
    all_ses_messages(endpoint).await.into_iter().filter(|mail| ids.contains(&mail.message_id)).collect()
}

/// Every mail moto's SES accepted since it started or was last reset, of all accounts and regions
/// (moto records neither), simple mail first, each kind in the order sent.
///
/// # Panics
/// When moto's `/moto-api/data.json` cannot be read.
pub async fn all_ses_messages(endpoint: &str) -> Vec<SentMail> {
    let url = format!("{}/moto-api/data.json", endpoint.trim_end_matches('/'));
    let response = reqwest::get(&url).await.unwrap_or_else(|err| panic!("GET {url}: {err}"));
    let status = response.status();
    let body = response.bytes().await.unwrap_or_else(|err| panic!("GET {url}: reading the body: {err}"));
    assert!(status.is_success(), "GET {url}: {status}: {}", String::from_utf8_lossy(&body));
    let data: ModelData =
        serde_json::from_slice(&body).unwrap_or_else(|err| panic!("GET {url}: not moto's model data: {err}"));
    let ses = data.ses.unwrap_or_default();
    let simple = ses.message.into_iter().map(|message| SentMail {
        message_id: message.id,
        from: message.source,
        to: message.destinations.to,
        cc: message.destinations.cc,
        bcc: message.destinations.bcc,
        subject: Some(message.subject),
        body: Some(message.body),
        raw: None,
    });
    let raw = ses.raw_message.into_iter().map(|message| {
        let mut to: Vec<String> = Vec::with_capacity(message.destinations.len());
        for address in message.destinations {
            if !to.contains(&address) {
                to.push(address);
            }
        }
        SentMail {
            message_id: message.id,
            from: message.source.unwrap_or_default(),
            to,
            cc: Vec::new(),
            bcc: Vec::new(),
            subject: None,
            body: None,
            raw: Some(message.raw_data),
        }
    });
    simple.chain(raw).collect()
}

/// The part of `/moto-api/data.json` read here: `{service: {ModelClass: [instance attributes…]}}`.
#[derive(Deserialize)]
struct ModelData {
    ses: Option<SesModels>,
}

#[derive(Deserialize, Default)]
struct SesModels {
    #[serde(rename = "Message", default)]
    message: Vec<SimpleRecord>,
    #[serde(rename = "RawMessage", default)]
    raw_message: Vec<RawRecord>,
}

#[derive(Deserialize)]
struct SimpleRecord {
    id: String,
    source: String,
    subject: String,
    body: String,
    destinations: SimpleDestinations,
}

#[derive(Deserialize)]
struct SimpleDestinations {
    #[serde(rename = "ToAddresses", default)]
    to: Vec<String>,
    #[serde(rename = "CcAddresses", default)]
    cc: Vec<String>,
    #[serde(rename = "BccAddresses", default)]
    bcc: Vec<String>,
}

#[derive(Deserialize)]
struct RawRecord {
    id: String,
    source: Option<String>,
    destinations: Vec<String>,
    raw_data: String,
}
