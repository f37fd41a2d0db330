//! Yahoo!ショッピング order API sandbox: YConnect token endpoint, `orderList`, `orderInfo`,
//! `orderShipStatusChange`, `orderCount`, with the API's XML envelopes and error bodies.
//!
//! Written from the fact sheet, independently of the client's wire structs: requests are read by
//! element name, responses are written element by element. `orderInfo` serves a corrupt order
//! (`Faults::corrupt_orders`) without its required `OrderTime`.
//!
//! Public-key authentication as the fact sheet (§3.2) describes it: a call without a valid
//! signature is not refused, it runs without key authentication, and every order-API response
//! says so in `X-SWS-Authorize-Status`. [`Control`] plays the back office: the key's state in
//! 暗号鍵管理 (expired, disabled), refresh-token rotation at the token endpoint, and the store's
//! own changes to an order (payment confirmed, ready to ship, shipped, cancelled).

pub mod stock;

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::rejection::FormRejection;
use axum::extract::{Form, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, TimeZone};
use ichigen_core::{Carrier, DeliveryMethod, Marketplace, Order, OrderStatus, PaymentMethod, Tracking};
use serde::Deserialize;

use crate::book::jst;
use crate::faults::truncate;
use crate::{
    Fault, FaultDice, OrderBook, Restock, SandboxConfig, Shelf, Started, Throttle, buyer_order, seed_orders, serve,
};

/// The store account the sandbox serves.
pub const SELLER_ID: &str = "snbx-ichigen";
/// YConnect Client ID it accepts.
pub const CLIENT_ID: &str = "sandbox-yahoo-client-id";
/// YConnect client secret it accepts (a test value).
pub const CLIENT_SECRET: &str = "sandbox-yahoo-client-secret";
/// Refresh token it accepts (a test value).
pub const REFRESH_TOKEN: &str = "sandbox-yahoo-refresh-token";
/// Public-key version it expects in `X-sws-signature-version`.
pub const KEY_VERSION: &str = "1";
/// The store public key handed to clients (a 2048-bit test key; the sandbox has no private key and
/// checks only the signature's shape, as the fact sheet advises).
pub const PUBLIC_KEY_PEM: &str = "-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAwnkHbT1Tt+13hQatIu3P
GnAKpbIv6HJivBFYli/LUcscY4fm7YPlM+RjKYtD92mVLAson6Nt9fxjurEtHhhw
4K5f9FZPHdfeijzub4rrtssZC0D97laPHl4Zk01duaEG4LHYbd6+FnadFcgd9m4m
U7Qk7/PaW+LWX88eEz4h680jHOFNPb5sJV0RMGNlChCYJ6MU/r9zOFrmakqJXFT3
CiM8B4MVc5VRxyun45ds9WfIz3l9s9Wb3C2zsOvrJpwcGQYNyvN6DfhCNK7PLttw
pOQmdMa3xe4E1r/YiMbSFHIqy8q5fKP/iJnhCTdV5c5MLCDSDV+b71OLpIjbSukS
swIDAQAB
-----END PUBLIC KEY-----
";
/// Path of the YConnect v2 token endpoint.
pub const TOKEN_PATH: &str = "/yconnect/v2/token";
/// Path prefix of the order APIs.
pub const API_PREFIX: &str = "/ShoppingWebService/V1/";
/// Access token lifetime (seconds), as YConnect issues them.
pub const TOKEN_TTL_SECS: u64 = 3600;
/// Largest `Result` accepted by `orderList`.
// unverified: the official maximum; public clients use 2000.
pub const MAX_RESULT: usize = 2000;
/// Longest `OrderTimeFrom`–`OrderTimeTo` span accepted (days).
// unverified: not documented; public clients search 30-day windows, so the sandbox refuses more.
pub const MAX_SPAN_DAYS: i64 = 30;

/// Documented limits per operation: `(operation, per second, burst)`.
// unverified: "1 query per second" (order API index); no burst is documented. The sandbox lets a
// second request through in the same period to absorb network jitter between a client spacing
// its calls exactly one period apart and the server's clock.
pub const LIMITS: &[(&str, f64, u32)] = &[
    ("orderList", 1.0, 2),
    ("orderInfo", 1.0, 2),
    ("orderShipStatusChange", 1.0, 2),
    ("orderCount", 1.0, 2),
    // The stock family: "about 1 query per second" to one URL (inventory.md §2.2).
    (stock::GET_STOCK, 1.0, 2),
    (stock::SET_STOCK, 1.0, 2),
];

/// Response header reporting the outcome of public-key authentication (fact sheet §3.2).
pub const AUTHORIZE_STATUS_HEADER: &str = "x-sws-authorize-status";

/// State of the store's public key in ストアクリエイターPro → 設定 → 暗号鍵管理.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum KeyState {
    /// Valid: signed calls are `authorized`.
    #[default]
    Active,
    /// Past its one-year validity: `expired-key-version`.
    Expired,
    /// Switched to 無効: `invalid-key-status`.
    Disabled,
}

struct Sandbox {
    book: Arc<OrderBook>,
    faults: Arc<FaultDice>,
    throttle: Throttle,
    tokens: Mutex<HashMap<String, Instant>>,
    /// Refresh tokens the token endpoint accepts.
    refresh_tokens: Mutex<HashSet<String>>,
    /// Whether a refresh answers with a new refresh token (and retires the old one).
    rotate: AtomicBool,
    key_state: Mutex<KeyState>,
    issued: AtomicU64,
    /// Requests received per operation, and how many of them were refused by the throttle.
    counts: Mutex<HashMap<&'static str, (u64, u64)>>,
    /// The store's stock ([`stock`]).
    shelf: Arc<Shelf>,
    /// Orders simulated buyers placed so far.
    buyers: AtomicUsize,
    /// The shop the seeded orders belong to.
    shop_id: String,
}

type Shared = Arc<Sandbox>;

/// Starts the Yahoo sandbox: seeded orders with Yahoo order ids, the token endpoint and order APIs.
pub async fn start(config: SandboxConfig) -> std::io::Result<Started> {
    start_with_control(config).await.map(|(started, _)| started)
}

/// Yahoo order id of seed order `n`: `<sellerId>-<number>`.
pub fn order_id(n: usize) -> String {
    format!("{SELLER_ID}-{}", 10_000_000 + n)
}

/// A seeded order as Yahoo holds it: Yahoo id, and its `OrderStatus` code kept in `source_status`
/// (a ship-status write-back changes `ShipStatus`, not `OrderStatus`).
fn yahoo_order(n: usize, mut o: Order) -> Order {
    o.order_id = order_id(n);
    o.source_status = match o.status {
        OrderStatus::New | OrderStatus::ReadyToShip | OrderStatus::AwaitingPayment => "2",
        OrderStatus::Shipped => "5",
        OrderStatus::Cancelled => "4",
        OrderStatus::OnHold => "3",
    }
    .to_string();
    o
}

// ---------------------------------------------------------------------------------------------
// Responses

const XML_DECL: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";

fn xml(status: StatusCode, body: String) -> Response {
    (status, [(header::CONTENT_TYPE, "application/xml; charset=UTF-8")], body).into_response()
}

/// `<Error><Message/><Code/></Error>` with `status`.
fn error(status: StatusCode, code: &str, message: &str) -> Response {
    let code = if code.is_empty() { String::new() } else { format!("<Code>{code}</Code>") };
    xml(status, format!("{XML_DECL}<Error><Message>{}</Message>{code}</Error>", esc(message)))
}

fn bad_param(detail: &str) -> Response {
    error(StatusCode::BAD_REQUEST, "od90101", &format!("Invalid parameter. ({detail})"))
}

fn not_permitted() -> Response {
    error(StatusCode::FORBIDDEN, "px-04307", "Use of API is not permitted.")
}

/// 401 with the Bearer challenge, as YConnect-protected APIs answer a missing or expired token.
fn unauthorized(error_code: &str, description: &str) -> Response {
    let challenge = format!(r#"Bearer realm="yahooapis.jp", error="{error_code}", error_description="{description}""#);
    let mut r = error(StatusCode::UNAUTHORIZED, "", &format!("Please provide valid credentials. {challenge}"));
    if let Ok(v) = HeaderValue::from_str(&challenge) {
        r.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
    r
}

fn esc(s: &str) -> String {
    quick_xml::escape::escape(s).into_owned()
}

// ---------------------------------------------------------------------------------------------
// Requests: elements read by name (requests are small, flat documents).

fn unesc(s: &str) -> String {
    // A malformed reference stays as written: the request's own validation then refuses it.
    quick_xml::escape::unescape(s).map_or_else(|_| s.to_string(), |c| c.into_owned())
}

/// Text of the first `<name>` element (`Some("")` for `<name/>`), trimmed and unescaped.
fn element(doc: &str, name: &str) -> Option<String> {
    let open = format!("<{name}>");
    if let Some(i) = doc.find(&open) {
        let rest = &doc[i + open.len()..];
        let end = rest.find(&format!("</{name}>"))?;
        let text = rest[..end].trim();
        let text = text
            .strip_prefix("<![CDATA[")
            .and_then(|t| t.strip_suffix("]]>"))
            .map_or_else(|| unesc(text), str::to_string);
        return Some(text);
    }
    doc.contains(&format!("<{name}/>")).then(String::new)
}

/// Standard Base64 decoding (with or without padding); `None` for anything else.
fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let s = s.trim().trim_end_matches('=');
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for b in s.bytes() {
        let v = match b {
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(((acc >> bits) & 0xff) as u8);
        }
    }
    (bits < 6).then_some(out)
}

/// Request date-time `YYYYMMDDHHmmss` (JST).
fn request_time(s: &str) -> Option<DateTime<FixedOffset>> {
    let naive = NaiveDateTime::parse_from_str(s, "%Y%m%d%H%M%S").ok()?;
    jst().from_local_datetime(&naive).single()
}

fn iso(t: DateTime<FixedOffset>) -> String {
    t.with_timezone(&jst()).format("%Y-%m-%dT%H:%M:%S%:z").to_string()
}

// ---------------------------------------------------------------------------------------------
// Checks every order API makes, in the API's order: fault dice, token, signature, rate limit.

/// What the dice decided for the body of this request.
struct Admitted {
    truncate: bool,
}

async fn admit(s: &Sandbox, op: &'static str, headers: &HeaderMap) -> Result<Admitted, Box<Response>> {
    s.count(op, false);
    let (latency, fault) = s.faults.roll();
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let mut truncate = false;
    match fault {
        Fault::None => {}
        Fault::ServerError => {
            return Err(Box::new(error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "od91001",
                "System error. Please try again later.",
            )));
        }
        Fault::Hang(d) => tokio::time::sleep(d).await,
        Fault::Malformed => truncate = true,
    }
    let auth = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let Some(token) = auth.strip_prefix("Bearer ") else {
        return Err(Box::new(unauthorized("invalid_request", "no access token")));
    };
    let valid = s.tokens.lock().map(|t| t.get(token.trim()).is_some_and(|exp| *exp > Instant::now())).unwrap_or(false);
    if !valid {
        return Err(Box::new(unauthorized("invalid_token", "expired token")));
    }
    // A missing or bad signature is not refused: the call runs without key authentication and
    // `X-SWS-Authorize-Status` says so (added to every order-API answer by `authorize_header`).
    if !s.throttle.admit(op) {
        s.count(op, true);
        // unverified: the code of "利用制限を超えている"; the common-error table gives only HTTP 403.
        return Err(Box::new(error(StatusCode::FORBIDDEN, "", "Request limit exceeded. Please try again later.")));
    }
    Ok(Admitted { truncate })
}

/// `<SellerId>`: missing → px-04001, another store → px-04307.
fn seller(doc: &str) -> Option<Response> {
    match element(doc, "SellerId") {
        None => Some(error(StatusCode::BAD_REQUEST, "px-04001", "seller_id is not specified")),
        Some(s) if s.is_empty() => Some(error(StatusCode::BAD_REQUEST, "px-04001", "seller_id is not specified")),
        Some(s) if s != SELLER_ID => Some(not_permitted()),
        Some(_) => None,
    }
}

fn finish(admitted: &Admitted, body: String) -> Response {
    xml(StatusCode::OK, if admitted.truncate { truncate(&body) } else { body })
}

// ---------------------------------------------------------------------------------------------
// Token endpoint

#[derive(Deserialize)]
struct TokenForm {
    grant_type: Option<String>,
    refresh_token: Option<String>,
}

async fn token(State(s): State<Shared>, headers: HeaderMap, form: Result<Form<TokenForm>, FormRejection>) -> Response {
    let json_error = |status: StatusCode, error: &str, description: &str| {
        (status, Json(serde_json::json!({"error": error, "error_description": description}))).into_response()
    };
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(base64_decode)
        .and_then(|b| String::from_utf8(b).ok());
    if basic.as_deref() != Some(&format!("{CLIENT_ID}:{CLIENT_SECRET}")) {
        return json_error(StatusCode::UNAUTHORIZED, "invalid_client", "client authentication failed");
    }
    let Ok(Form(form)) = form else {
        return json_error(StatusCode::BAD_REQUEST, "invalid_request", "the body is not a form");
    };
    if form.grant_type.as_deref() != Some("refresh_token") {
        return json_error(StatusCode::BAD_REQUEST, "unsupported_grant_type", "grant_type must be refresh_token");
    }
    let presented = form.refresh_token.unwrap_or_default();
    let rotated = {
        let Ok(mut valid) = s.refresh_tokens.lock() else {
            return json_error(StatusCode::INTERNAL_SERVER_ERROR, "server_error", "try again");
        };
        if !valid.contains(&presented) {
            return json_error(StatusCode::BAD_REQUEST, "invalid_grant", "invalid refresh token");
        }
        // unverified: whether YConnect rotates refresh tokens, and whether the old one then stops
        // working; with rotation on, the sandbox retires it (the strict reading).
        if s.rotate.load(Ordering::SeqCst) {
            let n = s.issued.load(Ordering::SeqCst);
            let new = format!("sbx-yahoo-rt-{n:08}-{:016x}", fastrand::u64(..));
            valid.remove(&presented);
            valid.insert(new.clone());
            Some(new)
        } else {
            None
        }
    };
    let n = s.issued.fetch_add(1, Ordering::SeqCst);
    let access = format!("sbx-yahoo-at-{n:08}-{:016x}", fastrand::u64(..));
    if let Ok(mut t) = s.tokens.lock() {
        t.insert(access.clone(), Instant::now() + Duration::from_secs(TOKEN_TTL_SECS));
    }
    let mut body = serde_json::json!({
        "access_token": access,
        "token_type": "Bearer",
        "expires_in": TOKEN_TTL_SECS,
        "id_token": "sandbox.id.token",
    });
    if let Some(new) = rotated {
        body["refresh_token"] = serde_json::Value::String(new);
    }
    Json(body).into_response()
}

/// `X-SWS-Authorize-Status` of a request (fact sheet §3.2). The sandbox has no private key: it
/// checks the signature's shape (Base64 of one 1024- or 2048-bit RSA block) and the version, not
/// the seller id and time inside it (so `expired-timestamp`, `invalid-timestamp`,
/// `invalid-sellerid` and `unauthorized` never occur here).
fn authorize_status(s: &Sandbox, headers: &HeaderMap) -> &'static str {
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim);
    let Some(signature) = text("x-sws-signature") else { return "none" };
    let version = text("x-sws-signature-version").unwrap_or_default();
    if version.is_empty() || !version.bytes().all(|b| b.is_ascii_digit()) {
        return "invalid-key-version";
    }
    if version != KEY_VERSION {
        return "not-found-key-version";
    }
    match s.key_state.lock().map(|k| *k).unwrap_or_default() {
        KeyState::Active => {}
        KeyState::Expired => return "expired-key-version",
        KeyState::Disabled => return "invalid-key-status",
    }
    if !base64_decode(signature).is_some_and(|b| b.len() == 128 || b.len() == 256) {
        return "invalid-authorize-value";
    }
    "authorized"
}

/// Adds `X-SWS-Authorize-Status` to every order-API answer, errors included.
// unverified: whether the header comes with error answers and unsigned calls; the sandbox always
// sends it (`none` for an unsigned call, as the value's meaning suggests).
async fn authorize_header(State(s): State<Shared>, request: Request, next: Next) -> Response {
    let status = authorize_status(&s, request.headers());
    let mut response = next.run(request).await;
    response.headers_mut().insert(AUTHORIZE_STATUS_HEADER, HeaderValue::from_static(status));
    response
}

impl Sandbox {
    fn count(&self, op: &'static str, refused: bool) {
        if let Ok(mut c) = self.counts.lock() {
            let e = c.entry(op).or_default();
            if refused {
                e.1 += 1;
            } else {
                e.0 += 1;
            }
        }
    }

    /// Forgets every access token issued so far (tests: simulate expiry).
    fn expire_tokens(&self) {
        if let Ok(mut t) = self.tokens.lock() {
            t.clear();
        }
    }
}

/// Test and bench knobs of a running Yahoo sandbox that [`Started`] has no room for: expiring
/// access tokens, counting requests.
#[derive(Clone)]
pub struct Control(Shared);

impl std::fmt::Debug for Control {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Control")
    }
}

impl Control {
    /// Makes every access token issued so far invalid (as if expired).
    pub fn expire_all(&self) {
        self.0.expire_tokens();
    }

    /// Access tokens issued so far.
    pub fn issued(&self) -> u64 {
        self.0.issued.load(Ordering::SeqCst)
    }

    /// Requests received for `operation` so far, and how many of them the throttle refused.
    pub fn requests(&self, operation: &str) -> (u64, u64) {
        self.0.counts.lock().ok().and_then(|c| c.get(operation).copied()).unwrap_or((0, 0))
    }

    /// 暗号鍵管理: the key expires or is switched off (or is renewed). Signed calls keep working,
    /// without key authentication, and report it in `X-SWS-Authorize-Status`.
    pub fn set_key_state(&self, state: KeyState) {
        if let Ok(mut k) = self.0.key_state.lock() {
            *k = state;
        }
    }

    /// Whether the token endpoint answers a refresh with a new refresh token (default off: no
    /// public source says YConnect does).
    pub fn rotate_refresh_tokens(&self, on: bool) {
        self.0.rotate.store(on, Ordering::SeqCst);
    }

    /// Changes an order as the store does in the back office (ストアクリエイターPro), if `allowed`
    /// by its current state. Every such change moves `LastUpdateTime` (the sheet: "last change");
    /// `OrderTime` stays. `None`: no such order, or the change does not apply.
    fn back_office(&self, order_id: &str, allowed: bool, change: impl FnOnce(&mut Order)) -> Option<Order> {
        allowed.then(|| self.0.book.update(order_id, change)).flatten()
    }

    /// 入金確認 of a prepaid order waiting for payment: `PayStatus` 0 → 1 and `ShipStatus` 0 → 1
    /// (出荷可), i.e. ready to ship.
    pub fn confirm_payment(&self, order_id: &str) -> Option<Order> {
        let ok = self.0.book.get(order_id).is_some_and(|o| o.status == OrderStatus::AwaitingPayment);
        self.back_office(order_id, ok, |o| o.status = OrderStatus::ReadyToShip)
    }

    /// The store opens a new order (`IsSeen` false → true): it now waits to ship.
    // unverified: whether opening an order moves LastUpdateTime; the sandbox moves it like any change.
    pub fn mark_ready_to_ship(&self, order_id: &str) -> Option<Order> {
        let ok = self.0.book.get(order_id).is_some_and(|o| o.status == OrderStatus::New);
        self.back_office(order_id, ok, |o| o.status = OrderStatus::ReadyToShip)
    }

    /// The store ships an open order with a tracking number entered in the back office:
    /// `ShipStatus` 3, carrier, `ShipInvoiceNumber1`, `ShipDate`; `OrderStatus` stays 2 until 完了.
    pub fn ship(&self, order_id: &str, tracking: Tracking) -> Option<Order> {
        let ok = self.0.book.get(order_id).is_some_and(|o| o.status.is_open());
        self.back_office(order_id, ok, |o| {
            o.status = OrderStatus::Shipped;
            o.tracking = vec![tracking];
        })
    }

    /// The store cancels an open order: `OrderStatus` 4 (キャンセル). The units come back as the
    /// item's 購入者キャンセル在庫取り扱い says (unverified, inventory.md §2.5).
    pub fn cancel(&self, order_id: &str) -> Option<Order> {
        let ok = self.0.book.get(order_id).is_some_and(|o| o.status.is_open());
        let done = self.back_office(order_id, ok, |o| {
            o.status = OrderStatus::Cancelled;
            o.source_status = "4".into();
        });
        if done.is_some() {
            self.0.shelf.cancel(order_id, Restock::FollowItem);
        }
        done
    }

    /// The refresh token stops working (its authorization lapsed or was withdrawn): the token
    /// endpoint refuses it (`invalid_grant`) and access tokens already issued expire.
    pub fn revoke_refresh_tokens(&self) {
        if let Ok(mut r) = self.0.refresh_tokens.lock() {
            r.clear();
        }
        self.0.expire_tokens();
    }

    /// Registers an item (`code`, or `code:subcode`) in the store with `units`; a number written
    /// for that code before is linked to it instead. `restock_on_cancel` is its
    /// 購入者キャンセル在庫取り扱い.
    pub fn list_item(&self, code: &str, units: i64, restock_on_cancel: bool) {
        self.0.shelf.list(code, units, restock_on_cancel);
    }

    /// Staff change the stock in ストアクリエイターPro: shows at once. False for an unknown code.
    pub fn edit_stock(&self, code: &str, units: i64) -> bool {
        self.0.shelf.edit(code, units)
    }

    /// What the store page shows for a code now (`None`: no such item).
    pub fn stock(&self, code: &str) -> Option<i64> {
        self.0.shelf.shown(code)
    }

    /// The store's stock, for its delay and call counts.
    pub fn shelf(&self) -> &Shelf {
        &self.0.shelf
    }

    /// A simulated buyer orders `lines` (item code as listed, units) now at ¥1,000 a unit:
    /// placed only if the store shows enough of every line; `None`: sold out, no order.
    pub fn buy(&self, lines: &[(&str, u32)]) -> Option<String> {
        let s = &self.0;
        let n = s.buyers.fetch_add(1, Ordering::SeqCst);
        let items: Vec<(String, u32, i64)> = lines.iter().map(|(c, q)| ((*c).to_owned(), *q, 1_000)).collect();
        let order = yahoo_order(900_000 + n, buyer_order(Marketplace::Yahoo, &s.shop_id, n, &items));
        let taken: Vec<(String, i64)> = lines.iter().map(|(c, q)| ((*c).to_owned(), i64::from(*q))).collect();
        if !s.shelf.sell(&order.order_id, &taken) {
            return None;
        }
        let id = order.order_id.clone();
        s.book.insert(order);
        Some(id)
    }
}

/// As [`start`], also returning the [`Control`] handle.
pub async fn start_with_control(config: SandboxConfig) -> std::io::Result<(Started, Control)> {
    let orders = seed_orders(Marketplace::Yahoo, &config.seed).into_iter().enumerate().map(|(n, o)| yahoo_order(n, o));
    let book = Arc::new(OrderBook::new(orders.collect()));
    let faults = Arc::new(FaultDice::new(config.faults.clone(), config.seed.seed));
    let throttle = match config.throttle {
        Some(scale) => Throttle::new(LIMITS, scale),
        None => Throttle::off(),
    };
    let state = Arc::new(Sandbox {
        book: book.clone(),
        faults: faults.clone(),
        throttle,
        tokens: Mutex::new(HashMap::new()),
        refresh_tokens: Mutex::new(HashSet::from([REFRESH_TOKEN.to_string()])),
        rotate: AtomicBool::new(false),
        key_state: Mutex::new(KeyState::Active),
        issued: AtomicU64::new(0),
        counts: Mutex::new(HashMap::new()),
        // unverified: Yahoo documents no delay before a stock write shows.
        shelf: Arc::new(Shelf::new(Duration::ZERO)),
        buyers: AtomicUsize::new(0),
        shop_id: config.seed.shop_id.clone(),
    });
    let control = Control(state.clone());
    // The items the seeded orders sell (their ItemId), listed with a hand-kept number;
    // 購入者キャンセル在庫取り扱い: give back.
    for (sku, _, _) in crate::listed_items(&config.seed) {
        control.list_item(sku, crate::HAND_KEPT, true);
    }
    let started = serve_state(state, config.port, book, faults).await?;
    Ok((started, control))
}

async fn serve_state(
    state: Shared,
    port: u16,
    book: Arc<OrderBook>,
    faults: Arc<FaultDice>,
) -> std::io::Result<Started> {
    let shelf = Arc::clone(&state.shelf);
    let router = Router::new()
        .route("/ShoppingWebService/V1/orderList", post(order_list))
        .route("/ShoppingWebService/V1/orderInfo", post(order_info))
        .route("/ShoppingWebService/V1/orderShipStatusChange", post(ship_status_change))
        .route("/ShoppingWebService/V1/orderCount", get(order_count))
        .route("/ShoppingWebService/V1/getStock", post(stock::get_stock))
        .route("/ShoppingWebService/V1/setStock", post(stock::set_stock))
        .route_layer(middleware::from_fn_with_state(state.clone(), authorize_header))
        .route(TOKEN_PATH, post(token))
        .with_state(state);
    let running = serve(router, port).await?;
    let base = running.base_url();
    let credentials = vec![
        ("base_url", base.clone()),
        ("token_url", format!("{base}{TOKEN_PATH}")),
        ("seller_id", SELLER_ID.to_string()),
        ("client_id", CLIENT_ID.to_string()),
        ("client_secret", CLIENT_SECRET.to_string()),
        ("refresh_token", REFRESH_TOKEN.to_string()),
        ("public_key_pem", PUBLIC_KEY_PEM.to_string()),
        ("key_version", KEY_VERSION.to_string()),
    ];
    Ok(Started { running, credentials, book, faults, shelf })
}

// ---------------------------------------------------------------------------------------------
// orderList

async fn order_list(State(s): State<Shared>, headers: HeaderMap, body: String) -> Response {
    let admitted = match admit(&s, "orderList", &headers).await {
        Ok(a) => a,
        Err(r) => return *r,
    };
    if let Some(r) = seller(&body) {
        return r;
    }
    let Some(search) = element(&body, "Search") else { return bad_param("Search") };
    let result = match element(&search, "Result") {
        // unverified: the default page size; one public client defaults to 10.
        None => 10,
        Some(r) => match r.parse::<usize>() {
            Ok(n) if (1..=MAX_RESULT).contains(&n) => n,
            _ => return bad_param("Result"),
        },
    };
    let start = match element(&search, "Start") {
        None => 1,
        Some(v) => match v.parse::<usize>() {
            Ok(n) if n >= 1 => n,
            _ => return bad_param("Start"),
        },
    };
    let descending = match element(&search, "Sort").as_deref() {
        None | Some("" | "+order_time") => false,
        Some("-order_time") => true,
        Some(_) => return bad_param("Sort"),
    };
    let Some(condition) = element(&search, "Condition") else { return bad_param("Condition") };
    let fields = match element(&search, "Field") {
        Some(f) if !f.is_empty() => field_set(&f),
        _ => return bad_param("Field"),
    };
    let mut hits = if let Some(ids) = element(&condition, "OrderId").filter(|v| !v.is_empty()) {
        ids.split(',').filter_map(|id| s.book.get(id.trim())).collect::<Vec<_>>()
    } else {
        let from = element(&condition, "OrderTimeFrom");
        let to = element(&condition, "OrderTimeTo");
        let (Some(from), Some(to)) = (from, to) else {
            return bad_param("Condition needs OrderId or OrderTimeFrom/To");
        };
        let (Some(from), Some(to)) = (request_time(&from), request_time(&to)) else {
            return bad_param("OrderTimeFrom/OrderTimeTo");
        };
        if from > to || to - from > chrono::Duration::days(MAX_SPAN_DAYS) {
            return bad_param("OrderTimeFrom/OrderTimeTo span");
        }
        s.book.search(crate::TimeField::Ordered, from, to)
    };
    if descending {
        hits.reverse();
    }
    let mut out = format!("{XML_DECL}<Result><Status>OK</Status><Search><TotalCount>{}</TotalCount>", hits.len());
    for (i, o) in hits.iter().enumerate().skip(start - 1).take(result) {
        out.push_str("<OrderInfo>");
        out.push_str(&format!("<Index>{}</Index>", i + 1));
        for (name, value) in order_fields(o) {
            if fields.contains(name) {
                push(&mut out, name, &value);
            }
        }
        out.push_str("</OrderInfo>");
    }
    out.push_str("</Search></Result>");
    finish(&admitted, out)
}

fn field_set(list: &str) -> HashSet<String> {
    list.split(',').map(|f| f.trim().to_string()).filter(|f| !f.is_empty()).collect()
}

fn push(out: &mut String, name: &str, value: &str) {
    out.push('<');
    out.push_str(name);
    out.push('>');
    out.push_str(&esc(value));
    out.push_str("</");
    out.push_str(name);
    out.push('>');
}

// ---------------------------------------------------------------------------------------------
// Rendering one order in the orderInfo shape.

/// Family name / given name from a full name written family-first (`山田 太郎`); a name without a
/// space is all family name.
fn split_name(name: &str) -> (String, String) {
    match name.split_once([' ', '　']) {
        Some((last, first)) => (last.trim().to_string(), first.trim().to_string()),
        None => (name.to_string(), String::new()),
    }
}

fn yahoo_ship_status(o: &Order) -> &'static str {
    match o.status {
        OrderStatus::Shipped => "3",
        OrderStatus::AwaitingPayment => "0",
        _ => "1",
    }
}

/// `PayMethod`, `PayMethodName`, `PayKind` of a unified payment method.
fn pay_method(m: PaymentMethod) -> (&'static str, &'static str, &'static str) {
    match m {
        PaymentMethod::CreditCard => ("payment_a1", "クレジットカード決済", "0"),
        PaymentMethod::Cod => ("payment_d1", "商品代引", "4"),
        PaymentMethod::BankTransfer => ("payment_b1", "銀行振込", "3"),
        PaymentMethod::ConvenienceStore => ("payment_a6", "コンビニ決済", "5"),
        PaymentMethod::Deferred => ("payment_c2", "後払い決済", "7"),
        PaymentMethod::MarketplacePay => ("payment_a17", "PayPay残高等", "6"),
        PaymentMethod::Other => ("payment_a8", "モバイルSuica決済", "6"),
    }
}

/// The store's delivery slots (`ShipMethod`, `ShipMethodName`).
fn ship_method(m: DeliveryMethod) -> (&'static str, &'static str) {
    match m {
        DeliveryMethod::Standard => ("postage1", "宅配便"),
        DeliveryMethod::MailBin => ("postage2", "メール便"),
        DeliveryMethod::Cool => ("postage3", "クール便（冷蔵）"),
        DeliveryMethod::Frozen => ("postage4", "クール便（冷凍）"),
        DeliveryMethod::Pickup => ("postage5", "店頭受取"),
        DeliveryMethod::Other => ("postage6", "その他配送"),
    }
}

/// `ShipCompanyCode` ↔ carrier (sandbox's own table, from the fact sheet §7.6).
const COMPANY_CODES: &[(&str, Carrier)] =
    &[("1001", Carrier::Yamato), ("1002", Carrier::Sagawa), ("1003", Carrier::Japanpost), ("1000", Carrier::Other)];

fn company_code(c: Carrier) -> &'static str {
    COMPANY_CODES.iter().find(|(_, k)| *k == c).map_or("1000", |(code, _)| code)
}

fn time_slot_text(slot: &str) -> String {
    match slot.split_once('-') {
        Some((a, b)) if a.chars().all(|c| c.is_ascii_digit()) && b.chars().all(|c| c.is_ascii_digit()) => {
            format!("{a}:00-{b}:00")
        }
        _ => slot.to_string(),
    }
}

/// Order-level fields (flat; also what `orderList` can return).
fn order_fields(o: &Order) -> Vec<(&'static str, String)> {
    let (pay_method, _, _) = pay_method(o.payment_method);
    vec![
        ("OrderId", o.order_id.clone()),
        ("Version", "1".into()),
        ("OrderTime", iso(o.ordered_at)),
        ("LastUpdateTime", iso(o.source_updated_at)),
        ("OrderStatus", o.source_status.clone()),
        ("IsSeen", (o.status != OrderStatus::New).to_string()),
        ("BuyerComments", o.remarks.clone()),
        ("IsMultiShip", (!o.shipments.is_empty()).to_string()),
        ("SocialGiftType", "0".into()),
        ("ShipStatus", yahoo_ship_status(o).into()),
        ("PayStatus", if o.status == OrderStatus::AwaitingPayment { "0" } else { "1" }.into()),
        ("PayMethod", pay_method.into()),
    ]
}

/// Order-level fields that belong directly under `<OrderInfo>` in `orderInfo` (the group fields
/// `ShipStatus`, `PayStatus`, `PayMethod` live in their groups there).
const TOP_LEVEL: [&str; 8] =
    ["OrderId", "Version", "OrderTime", "LastUpdateTime", "OrderStatus", "IsSeen", "BuyerComments", "IsMultiShip"];

fn render_order(o: &Order, fields: &HashSet<String>) -> String {
    let want = |f: &str| fields.contains(f);
    let mut out = String::from("<OrderInfo>");
    for (name, value) in order_fields(o) {
        if (TOP_LEVEL.contains(&name) || name == "SocialGiftType") && want(name) {
            push(&mut out, name, &value);
        }
    }
    let group = |out: &mut String, tag: &str, items: Vec<(&str, String)>| {
        let chosen: Vec<_> = items.into_iter().filter(|(n, _)| want(n)).collect();
        if chosen.is_empty() {
            return;
        }
        out.push_str(&format!("<{tag}>"));
        for (n, v) in chosen {
            push(out, n, &v);
        }
        out.push_str(&format!("</{tag}>"));
    };
    let (pay_method, pay_name, pay_kind) = pay_method(o.payment_method);
    let (bill_last, bill_first) = split_name(&o.buyer.name);
    let (kana_last, kana_first) = split_name(o.buyer.name_kana.as_deref().unwrap_or_default());
    let a = &o.ship_to;
    let zip: String = a.postal_code.chars().filter(char::is_ascii_digit).collect();
    group(
        &mut out,
        "Pay",
        vec![
            ("PayStatus", if o.status == OrderStatus::AwaitingPayment { "0" } else { "1" }.into()),
            (
                "PayType",
                if matches!(o.payment_method, PaymentMethod::Cod | PaymentMethod::Deferred) { "0" } else { "1" }.into(),
            ),
            ("PayKind", pay_kind.into()),
            ("PayMethod", pay_method.into()),
            ("PayMethodName", pay_name.into()),
            ("BillFirstName", bill_first),
            ("BillFirstNameKana", kana_first),
            ("BillLastName", bill_last),
            ("BillLastNameKana", kana_last),
            ("BillZipCode", zip.clone()),
            ("BillPrefecture", a.prefecture.clone()),
            ("BillCity", a.city.clone()),
            ("BillAddress1", a.address1.clone()),
            ("BillAddress2", a.address2.clone()),
            ("BillPhoneNumber", o.buyer.phone.clone().unwrap_or_default()),
            ("BillMailAddress", o.buyer.email.clone().unwrap_or_default()),
        ],
    );
    let (slot, slot_name) = ship_method(o.delivery.method);
    let (ship_last, ship_first) = split_name(&a.name);
    let t1 = o.tracking.first();
    let t2 = o.tracking.get(1);
    group(
        &mut out,
        "Ship",
        vec![
            ("ShipStatus", yahoo_ship_status(o).into()),
            ("ShipMethod", slot.into()),
            ("ShipMethodName", slot_name.into()),
            (
                "ShipRequestDate",
                o.delivery.requested_date.map(|d| d.format("%Y-%m-%d").to_string()).unwrap_or_default(),
            ),
            ("ShipRequestTime", o.delivery.requested_time_slot.as_deref().map(time_slot_text).unwrap_or_default()),
            ("ShipCompanyCode", t1.map(|t| company_code(t.carrier).to_string()).unwrap_or_default()),
            ("ShipInvoiceNumber1", t1.map(|t| t.number.clone()).unwrap_or_default()),
            ("ShipInvoiceNumber2", t2.map(|t| t.number.clone()).unwrap_or_default()),
            (
                "ShipDate",
                t1.and_then(|t| t.shipped_at)
                    .map(|d| d.with_timezone(&jst()).format("%Y-%m-%d").to_string())
                    .unwrap_or_default(),
            ),
            ("NeedGiftWrap", o.gift.to_string()),
            ("ShipFirstName", ship_first),
            ("ShipLastName", ship_last),
            ("ShipZipCode", zip),
            ("ShipPrefecture", a.prefecture.clone()),
            ("ShipCity", a.city.clone()),
            ("ShipAddress1", a.address1.clone()),
            ("ShipAddress2", a.address2.clone()),
            ("ShipPhoneNumber", a.phone.clone().unwrap_or_default()),
        ],
    );
    let t = &o.totals;
    group(
        &mut out,
        "Detail",
        vec![
            ("PayCharge", t.fee.to_string()),
            ("ShipCharge", t.shipping.to_string()),
            ("GiftWrapCharge", "0".into()),
            ("Discount", t.other_discount().to_string()),
            ("Adjustments", "0".into()),
            ("UsePoint", t.points.to_string()),
            ("TotalMallCouponDiscount", t.coupon.to_string()),
            ("TotalPrice", t.total.to_string()),
            ("SettleAmount", t.total.to_string()),
        ],
    );
    group(&mut out, "Seller", vec![("SellerId", SELLER_ID.to_string())]);
    for (i, it) in o.items.iter().enumerate() {
        let mut line = String::new();
        for (n, v) in [
            ("LineId", (i + 1).to_string()),
            ("ItemId", it.sku.clone()),
            ("Title", it.name.clone()),
            ("Quantity", it.quantity.to_string()),
            ("UnitPrice", it.unit_price.to_string()),
        ] {
            if want(n) {
                push(&mut line, n, &v);
            }
        }
        if want("ItemOption") {
            for (k, opt) in it.options.iter().enumerate() {
                line.push_str(&format!("<ItemOption><Index>{}</Index>", k + 1));
                push(&mut line, "Name", &opt.name);
                push(&mut line, "Value", &opt.value);
                line.push_str("</ItemOption>");
            }
        }
        if !line.is_empty() {
            out.push_str("<Item>");
            out.push_str(&line);
            out.push_str("</Item>");
        }
    }
    out.push_str("</OrderInfo>");
    out
}

fn result_set(inner: &str) -> String {
    format!(
        "{XML_DECL}<ResultSet totalResultsAvailable=\"1\" totalResultsReturned=\"1\" firstResultPosition=\"1\"><Result><Status>OK</Status>{inner}</Result></ResultSet>"
    )
}

/// The `<Target>` of an orderInfo or write-back request and its `OrderId`, or the parameter error.
fn target_order(body: &str) -> Result<(String, String), Box<Response>> {
    let target = element(body, "Target").ok_or_else(|| Box::new(bad_param("Target")))?;
    let id = element(&target, "OrderId").filter(|i| !i.is_empty()).ok_or_else(|| Box::new(bad_param("OrderId")))?;
    Ok((target, id))
}

// ---------------------------------------------------------------------------------------------
// orderInfo

async fn order_info(State(s): State<Shared>, headers: HeaderMap, body: String) -> Response {
    let admitted = match admit(&s, "orderInfo", &headers).await {
        Ok(a) => a,
        Err(r) => return *r,
    };
    if let Some(r) = seller(&body) {
        return r;
    }
    let (target, id) = match target_order(&body) {
        Ok(t) => t,
        Err(r) => return *r,
    };
    let fields = match element(&target, "Field") {
        Some(f) if !f.is_empty() => field_set(&f),
        _ => return bad_param("Field"),
    };
    // unverified: the answer for an unknown order on orderInfo. One public client treats `or-01001`
    // as "order not found" there; the HTTP status follows the common table's 404.
    let Some(order) = s.book.get(&id) else { return error(StatusCode::NOT_FOUND, "or-01001", "Order not found.") };
    let mut fields = fields;
    if s.faults.corrupts(&id) {
        // A broken record: the required OrderTime is absent (Faults::corrupt_orders).
        fields.remove("OrderTime");
    }
    finish(&admitted, result_set(&render_order(&order, &fields)))
}

// ---------------------------------------------------------------------------------------------
// orderShipStatusChange

async fn ship_status_change(State(s): State<Shared>, headers: HeaderMap, body: String) -> Response {
    let admitted = match admit(&s, "orderShipStatusChange", &headers).await {
        Ok(a) => a,
        Err(r) => return *r,
    };
    if let Some(r) = seller(&body) {
        return r;
    }
    let (target, id) = match target_order(&body) {
        Ok(t) => t,
        Err(r) => return *r,
    };
    if !matches!(element(&target, "IsPointFix").as_deref(), Some("true" | "false")) {
        return bad_param("IsPointFix");
    }
    let Some(ship) = element(&body, "Ship") else { return bad_param("Ship") };
    let status = match element(&ship, "ShipStatus").as_deref() {
        Some(v @ ("0" | "1" | "2" | "3" | "4")) => v.to_string(),
        _ => return bad_param("ShipStatus"),
    };
    let company = element(&ship, "ShipCompanyCode").filter(|c| !c.is_empty());
    let carrier = match company.as_deref() {
        None => Carrier::Other,
        Some(c) => match COMPANY_CODES.iter().find(|(code, _)| *code == c) {
            Some((_, carrier)) => *carrier,
            None if c.len() == 4 && c.chars().all(|d| d.is_ascii_digit()) => Carrier::Other,
            None => return bad_param("ShipCompanyCode"),
        },
    };
    let numbers: Vec<String> = ["ShipInvoiceNumber1", "ShipInvoiceNumber2"]
        .iter()
        .filter_map(|n| element(&ship, n))
        .filter(|n| !n.is_empty())
        .collect();
    if !numbers.is_empty() && element(&ship, "ShipInvoiceNumberEmptyReason").is_some_and(|r| !r.is_empty()) {
        return bad_param("ShipInvoiceNumberEmptyReason");
    }
    if carrier == Carrier::Yamato
        && numbers.iter().any(|n| n.len() > 14 || !n.chars().all(|c| c.is_ascii_digit() || c == '-'))
    {
        return bad_param("ShipInvoiceNumber1");
    }
    let shipped_at = match element(&ship, "ShipDate").filter(|d| !d.is_empty()) {
        None => None,
        Some(d) => match NaiveDate::parse_from_str(&d, "%Y%m%d") {
            Ok(d) => d.and_hms_opt(0, 0, 0).and_then(|t| jst().from_local_datetime(&t).single()),
            Err(_) => return bad_param("ShipDate"),
        },
    };
    let updated = s.book.update(&id, |o| {
        if matches!(status.as_str(), "3" | "4") && o.status != OrderStatus::Cancelled {
            o.status = OrderStatus::Shipped;
        }
        if !numbers.is_empty() {
            o.tracking = numbers
                .iter()
                .map(|n| Tracking { carrier, number: n.clone(), shipped_at, shipment_id: None })
                .collect();
        }
    });
    if updated.is_none() {
        // unverified: the code for an unknown order on the change APIs.
        return error(StatusCode::NOT_FOUND, "od91801", "Order not found.");
    }
    finish(&admitted, result_set(""))
}

// ---------------------------------------------------------------------------------------------
// orderCount

#[derive(Deserialize)]
struct CountQuery {
    #[serde(rename = "sellerId")]
    seller_id: Option<String>,
}

async fn order_count(State(s): State<Shared>, headers: HeaderMap, Query(q): Query<CountQuery>) -> Response {
    let admitted = match admit(&s, "orderCount", &headers).await {
        Ok(a) => a,
        Err(r) => return *r,
    };
    match q.seller_id.as_deref() {
        None | Some("") => return error(StatusCode::BAD_REQUEST, "px-04001", "seller_id is not specified"),
        Some(id) if id != SELLER_ID => return not_permitted(),
        Some(_) => {}
    }
    let all = s.book.all();
    let new = all.iter().filter(|o| o.status == OrderStatus::New).count();
    let holding = all.iter().filter(|o| o.status == OrderStatus::OnHold).count();
    let body = result_set(&format!(
        "<Count><NewOrder>{new}</NewOrder><NewReserve>0</NewReserve><Holding>{holding}</Holding></Count>"
    ));
    finish(&admitted, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elements_and_base64() {
        let doc =
            "<Req><Search><Result>5</Result><Field>A,B</Field><Empty/></Search><SellerId>a&amp;b</SellerId></Req>";
        assert_eq!(element(doc, "Result").as_deref(), Some("5"));
        assert_eq!(element(doc, "SellerId").as_deref(), Some("a&b"));
        assert_eq!(element(doc, "Empty").as_deref(), Some(""));
        assert_eq!(element(doc, "Missing"), None);
        assert_eq!(base64_decode("aGVsbG8=").as_deref(), Some(&b"hello"[..]));
        assert_eq!(base64_decode("a*"), None);
    }

    #[test]
    fn names_split_family_first() {
        assert_eq!(split_name("山田 太郎"), ("山田".into(), "太郎".into()));
        assert_eq!(split_name("山田太郎"), ("山田太郎".into(), String::new()));
        assert_eq!(time_slot_text("14-16"), "14:00-16:00");
    }
}
