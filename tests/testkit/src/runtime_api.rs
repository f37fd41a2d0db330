//! A minimal emulator of the AWS Lambda Runtime API on 127.0.0.1, for process-level tests of Lambda binaries:
//! start it, run the binary with `AWS_LAMBDA_RUNTIME_API` set to [`RuntimeApi::address`], and
//! [`RuntimeApi::invoke`] it.
//!
//! It serves what a runtime client uses: `GET /2018-06-01/runtime/invocation/next` (long poll),
//! `POST /2018-06-01/runtime/invocation/{id}/response`, `POST /2018-06-01/runtime/invocation/{id}/error` and
//! `POST /2018-06-01/runtime/init/error`. One invocation is handed out per `/next`, in the order invoked.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;

/// Header in which a runtime may name the kind of error it reports.
pub const ERROR_TYPE_HEADER: &str = "lambda-runtime-function-error-type";

/// How an invocation ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The function's response: its JSON, or a JSON string holding the body when it is not JSON.
    Response(Value),
    /// The function reported an error for this invocation (`/invocation/{id}/error`).
    Error(FunctionError),
    /// The runtime reported that it failed to initialise (`/init/error`), before or during this invocation.
    InitError(FunctionError),
    /// Neither a response nor an error came within the time given to [`RuntimeApi::invoke`].
    Timeout,
}

/// An error reported by the runtime.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionError {
    /// `errorType` of the JSON body (empty when the body has none).
    pub error_type: String,
    /// `errorMessage` of the JSON body, or the whole body when it is not that JSON.
    pub message: String,
    /// The `Lambda-Runtime-Function-Error-Type` header, when sent.
    pub header_error_type: Option<String>,
}

/// What the emulated function looks like to the runtime.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The function's timeout: `Lambda-Runtime-Deadline-Ms` is the moment an invocation is handed out plus this.
    pub function_timeout: Duration,
    /// Sent as `Lambda-Runtime-Invoked-Function-Arn`.
    pub function_arn: String,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            function_timeout: Duration::from_secs(30),
            function_arn: "arn:aws:lambda:ap-northeast-1:123456789012:function:ichigen-test".to_owned(),
        }
    }
}

/// A running emulator; the server stops when this is dropped.
#[derive(Debug)]
pub struct RuntimeApi {
    address: SocketAddr,
    shared: Arc<Shared>,
    server: JoinHandle<()>,
}

#[derive(Debug)]
struct Shared {
    settings: Settings,
    queue: mpsc::UnboundedSender<Queued>,
    /// Taken by one `/next` at a time; the others wait their turn, as with a single function instance.
    queued: tokio::sync::Mutex<mpsc::UnboundedReceiver<Queued>>,
    state: Mutex<Progress>,
    init_error: watch::Sender<Option<FunctionError>>,
    /// When the first `/next` came; a channel so that [`RuntimeApi::first_poll`] can wait for it.
    first_poll: watch::Sender<Option<Instant>>,
}

#[derive(Debug)]
struct Queued {
    request_id: String,
    event: Value,
    done: oneshot::Sender<Outcome>,
}

#[derive(Debug, Default)]
struct Progress {
    /// Handed out by `/next`, waiting for a response or error.
    in_flight: HashMap<String, oneshot::Sender<Outcome>>,
}

impl Shared {
    fn progress(&self) -> std::sync::MutexGuard<'_, Progress> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl RuntimeApi {
    /// Starts an emulator on a free 127.0.0.1 port with [`Settings::default`] (30 s function timeout).
    pub async fn start() -> Self {
        Self::start_with(Settings::default()).await
    }

    /// Starts an emulator on a free 127.0.0.1 port.
    ///
    /// # Panics
    /// When no port can be bound.
    pub async fn start_with(settings: Settings) -> Self {
        let (queue, queued) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared {
            settings,
            queue,
            queued: tokio::sync::Mutex::new(queued),
            state: Mutex::new(Progress::default()),
            init_error: watch::Sender::new(None),
            first_poll: watch::Sender::new(None),
        });
        let app = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route("/2018-06-01/runtime/invocation/{id}/response", post(respond))
            .route("/2018-06-01/runtime/invocation/{id}/error", post(fail))
            .route("/2018-06-01/runtime/init/error", post(init_fail))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap_or_else(|err| panic!("cannot bind 127.0.0.1:0 for the Runtime API: {err}"));
        let address =
            listener.local_addr().unwrap_or_else(|err| panic!("cannot read the Runtime API's address: {err}"));
        let server = tokio::spawn(async move {
            // Serving only ends on an I/O error of the listener; invocations then end in timeouts, so say why.
            if let Err(err) = axum::serve(listener, app).await {
                eprintln!("the Runtime API emulator on {address} stopped: {err}");
            }
        });
        Self { address, shared, server }
    }

    /// `host:port` to put in `AWS_LAMBDA_RUNTIME_API`.
    pub fn address(&self) -> String {
        self.address.to_string()
    }

    /// Queues `event` for the next `/next` and waits up to `timeout` for how it ends.
    /// Once the runtime has reported an init error, every invocation ends with [`Outcome::InitError`].
    pub async fn invoke(&self, event: Value, timeout: Duration) -> Outcome {
        let mut init_error = self.shared.init_error.subscribe();
        let (done, outcome) = oneshot::channel();
        let request_id = request_id();
        // The receiver lives in `self.shared`, so sending cannot fail.
        let _ = self.shared.queue.send(Queued { request_id: request_id.clone(), event, done });
        let ended = tokio::select! {
            outcome = outcome => outcome.ok(),
            failed = init_error.wait_for(Option::is_some) => {
                failed.ok().and_then(|error| error.clone()).map(Outcome::InitError)
            }
            () = tokio::time::sleep(timeout) => None,
        };
        // Whatever ended the wait, a late response for this id has nobody to go to.
        self.shared.progress().in_flight.remove(&request_id);
        ended.unwrap_or(Outcome::Timeout)
    }

    /// When the runtime first asked for an invocation: its init is over (for cold-start measurements).
    pub fn first_poll_at(&self) -> Option<Instant> {
        *self.shared.first_poll.borrow()
    }

    /// Waits for the runtime's first `/next` and returns when it came (at once when it already has).
    pub async fn first_poll(&self) -> Instant {
        let mut polled = self.shared.first_poll.subscribe();
        match polled.wait_for(Option::is_some).await.map(|at| *at) {
            Ok(Some(at)) => at,
            // The sender lives in `self.shared`, so the wait cannot end otherwise.
            _ => std::future::pending().await,
        }
    }

    /// The init error the runtime reported, if any.
    pub fn init_error(&self) -> Option<FunctionError> {
        self.shared.init_error.borrow().clone()
    }
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// `GET /invocation/next`: waits for an invocation and hands it out.
async fn next(State(shared): State<Arc<Shared>>) -> Response {
    let now = Instant::now();
    shared.first_poll.send_if_modified(|first| first.is_none() && first.replace(now).is_none());
    loop {
        let queued = shared.queued.lock().await.recv().await;
        let Some(queued) = queued else {
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        };
        // The invoker gave up (timeout) before the event was handed out: skip it, as Lambda would never run it.
        if queued.done.is_closed() {
            continue;
        }
        let deadline = SystemTime::now() + shared.settings.function_timeout;
        let deadline_ms = deadline.duration_since(UNIX_EPOCH).map(|since| since.as_millis()).unwrap_or_default();
        shared.progress().in_flight.insert(queued.request_id.clone(), queued.done);
        let mut response = queued.event.to_string().into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        for (name, value) in [
            ("lambda-runtime-aws-request-id", queued.request_id),
            ("lambda-runtime-deadline-ms", deadline_ms.to_string()),
            ("lambda-runtime-invoked-function-arn", shared.settings.function_arn.clone()),
            ("lambda-runtime-trace-id", trace_id()),
        ] {
            match HeaderValue::from_str(&value) {
                Ok(value) => {
                    headers.insert(name, value);
                }
                Err(_) => return (StatusCode::INTERNAL_SERVER_ERROR, format!("bad {name}: {value:?}")).into_response(),
            }
        }
        return response;
    }
}

/// `POST /invocation/{id}/response`.
async fn respond(State(shared): State<Arc<Shared>>, Path(id): Path<String>, body: Bytes) -> Response {
    let value =
        serde_json::from_slice(&body).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&body).into_owned()));
    finish(&shared, &id, Outcome::Response(value))
}

/// `POST /invocation/{id}/error`.
async fn fail(State(shared): State<Arc<Shared>>, Path(id): Path<String>, headers: HeaderMap, body: Bytes) -> Response {
    finish(&shared, &id, Outcome::Error(function_error(&headers, &body)))
}

/// `POST /init/error`.
async fn init_fail(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    shared.init_error.send_replace(Some(function_error(&headers, &body)));
    accepted()
}

fn finish(shared: &Shared, id: &str, outcome: Outcome) -> Response {
    let Some(done) = shared.progress().in_flight.remove(id) else {
        let body =
            json!({"errorMessage": format!("no invocation {id} is in progress"), "errorType": "InvalidRequestID"});
        return (StatusCode::BAD_REQUEST, axum::Json(body)).into_response();
    };
    // The invoker may have timed out meanwhile; then nobody waits for this outcome.
    let _ = done.send(outcome);
    accepted()
}

fn accepted() -> Response {
    (StatusCode::ACCEPTED, axum::Json(json!({"status": "OK"}))).into_response()
}

fn function_error(headers: &HeaderMap, body: &[u8]) -> FunctionError {
    let header_error_type = headers.get(ERROR_TYPE_HEADER).and_then(|value| value.to_str().ok()).map(str::to_owned);
    let parsed: Option<Value> = serde_json::from_slice(body).ok();
    let field =
        |name: &str| parsed.as_ref().and_then(|value| value.get(name)).and_then(Value::as_str).map(str::to_owned);
    FunctionError {
        error_type: field("errorType").unwrap_or_default(),
        message: field("errorMessage").unwrap_or_else(|| String::from_utf8_lossy(body).into_owned()),
        header_error_type,
    }
}

/// A random id in the UUID layout Lambda uses.
fn request_id() -> String {
    let bits = fastrand::u128(..);
    let hex = format!("{bits:032x}");
    format!("{}-{}-{}-{}-{}", &hex[..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..])
}

/// An X-Ray trace header as Lambda sends it: `Root=1-<epoch secs hex>-<96 random bits>;Parent=…;Sampled=0`.
fn trace_id() -> String {
    let seconds = SystemTime::now().duration_since(UNIX_EPOCH).map(|since| since.as_secs()).unwrap_or_default();
    format!("Root=1-{seconds:08x}-{:024x};Parent={:016x};Sampled=0", fastrand::u128(..) >> 32, fastrand::u64(..))
}

/// An SQS event as Lambda's SQS event source mapping hands it to a function: one record per
/// `(message id, body)`, received once, from the queue `queue_name` of the default account. `md5OfBody` is left
/// out (no ichigen function reads it).
pub fn sqs_event(queue_name: &str, messages: &[(&str, &str)]) -> Value {
    let sent_ms = SystemTime::now().duration_since(UNIX_EPOCH).map(|since| since.as_millis()).unwrap_or_default();
    let records: Vec<Value> = messages
        .iter()
        .map(|(id, body)| {
            json!({
                "messageId": id,
                "receiptHandle": format!("receipt-{id}"),
                "body": body,
                "attributes": {
                    "ApproximateReceiveCount": "1",
                    "SentTimestamp": sent_ms.to_string(),
                    "SenderId": "AIDAIENQZJOLO23YVJ4VO",
                    "ApproximateFirstReceiveTimestamp": sent_ms.to_string(),
                },
                "messageAttributes": {},
                "eventSource": "aws:sqs",
                "eventSourceARN": format!("arn:aws:sqs:ap-northeast-1:123456789012:{queue_name}"),
                "awsRegion": "ap-northeast-1",
            })
        })
        .collect();
    json!({ "Records": records })
}
