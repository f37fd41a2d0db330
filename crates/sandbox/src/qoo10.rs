//! Qoo10 QSM API (QAPI) sandbox: `CertificationAPI.CreateCertificationKey`,
//! `ShippingBasic.GetShippingInfo_v2`, `ShippingBasic.GetClaimInfo_V3`,
//! `ShippingBasic.GetShippingAndClaimInfoByOrderNo_V2`, `ShippingBasic.SetSendingInfo` and
//! `ShippingBasic.SetSellerCheckYN_V2` in header
//! style (`POST /GMKT.INC.Front.QAPIService/ebayjapan.qapi/<Class.Method>`, form body,
//! `GiosisCertificationKey` and `QAPIVersion` headers), answering JSON envelopes
//! (`ResultCode` / `ResultMsg` / `ResultObject`) with HTTP 200, as the fact sheet describes.
//!
//! Orders are rendered here from the canonical seed independently of the client's wire types:
//! one row per item (`orderNo`), grouped by `packNo` (the order id). Packs are numbered from
//! [`PACK_BASE`]; line `i` of pack `PACK_BASE + n` is `LINE_BASE + 16 n + i`. The first line of a
//! corrupt pack (`Faults::corrupt_orders`) has `orderQty` as a JSON list.
//!
//! As the real API (fact sheet §4.2, §7): `shippingStatus` is a label with the code in
//! parentheses (`Seller confirm(3)`); search rows carry no claim field; a line whose cancel (or
//! return) is completed vanishes from the shipping search and shows only in the claim search and
//! the per-order read. Seeded orders become: awaiting payment → 1 (unpaid); new → 2 (paid);
//! ready to ship → 3 (seller confirmed); shipped → 4; cancelled → claim 3 on every line; on hold →
//! claim 1 (cancel requested). [`BackOffice`] changes orders as the seller or buyer does in QSM.
//!
//! `SetSellerCheckYN_V2` (the seller check, 発注確認; transcribed QSM spec: "changes the line to
//! 配送準備"): `OrderNo` one line, `EstShipDt` yyyyMMdd optional, `DelayType` 1–4 and `DelayMemo`
//! (≤ 1000 characters) optional. A line at `On request(2)` goes to `Seller confirm(3)` and the
//! check is recorded ([`BackOffice::seller_check`]); a line already checked answers `-10012`, a
//! line not at 2 (unpaid, shipped, cancelled) `-10013`, a ship date that is not a date `-10016`
//! and one before today `-10018` (codes of the bulk variant's spec; unverified for this call). The
//! upper bound of `EstShipDt` (`-10017`) is not published and not enforced. Calls per line are
//! counted.
//!
//! The shop's items and Qoo10's own stock (`ItemsLookup`, `ItemsOrder`, `ItemsOptions` methods,
//! buyers, the expiring key) are in [`stock`]. Order lines are numbered arithmetically from their
//! pack, so buyer packs placed after the start read like seeded ones.

pub mod stock;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Form, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, TimeZone, Utc};
use ichigen_core::{Address, Carrier, DeliveryMethod, Marketplace, Order, OrderStatus, PaymentMethod, Tracking};
use serde_json::{Map, Value};

use crate::book::jst;
use crate::faults::truncate;
use crate::{Fault, FaultDice, OrderBook, Restock, SandboxConfig, Shelf, Started, Throttle, seed_orders, serve};

/// The QAPI service path; the method follows as `/<Class.Method>`.
pub const API_PATH: &str = "/GMKT.INC.Front.QAPIService/ebayjapan.qapi";
/// The API key the sandbox accepts for `CreateCertificationKey`.
pub const API_KEY: &str = "sandbox-qoo10-api-key";
/// The QSM login ID it accepts.
pub const USER_ID: &str = "sandbox-seller";
/// The QSM password it accepts.
pub const PASSWORD: &str = "sandbox-password";
/// First pack number (`packNo`, the order id).
pub const PACK_BASE: u64 = 900_000_000;
/// First order-line number (`orderNo`).
pub const LINE_BASE: u64 = 1_000_000_000;
/// Most lines a pack can have here.
const LINES_PER_PACK: u64 = 16;
/// Rows one search answers at most; the rest are silently left out.
// unverified: the sheet says all rows are returned with an unknown upper bound; a silent cut is
// the worst case a client must survive.
pub const MAX_ROWS: usize = 1_000;
/// Longest search range (error -10002 beyond).
const MAX_RANGE_DAYS: i64 = 90;

const OP_CERTIFY: &str = "CertificationAPI.CreateCertificationKey";
const OP_SEARCH: &str = "ShippingBasic.GetShippingInfo_v2";
const OP_CLAIMS: &str = "ShippingBasic.GetClaimInfo_V3";
const OP_BY_ORDER: &str = "ShippingBasic.GetShippingAndClaimInfoByOrderNo_V2";
const OP_SEND: &str = "ShippingBasic.SetSendingInfo";
const OP_SELLER_CHECK: &str = "ShippingBasic.SetSellerCheckYN_V2";

/// The shipping status labels as QAPI returns them (fact sheet §7, live v2 data).
const LABELS: [&str; 5] =
    ["Awaiting shipping(1)", "On request(2)", "Seller confirm(3)", "On delivery(4)", "Delivered(5)"];

/// All operations share the shop's one request a second (unverified, as the client's).
pub const SHARED_PER_SECOND: f64 = 1.0;
/// The shared bucket's burst: one more than the client's, so network jitter between a client
/// pacing itself at the limit and this bucket does not turn into refusals.
pub const SHARED_BURST: u32 = 2;

/// Rate limits per operation: `(operation, requests per second, burst)`.
// unverified: Qoo10 publishes none; the sheet advises at most 1 request/second.
pub const LIMITS: [(&str, f64, u32); 11] = [
    (OP_CERTIFY, 1.0, 1),
    (OP_SEARCH, 1.0, 1),
    (OP_CLAIMS, 1.0, 1),
    (OP_BY_ORDER, 1.0, 1),
    (OP_SEND, 1.0, 1),
    (OP_SELLER_CHECK, 1.0, 1),
    (stock::OP_DETAIL, 1.0, 1),
    (stock::OP_INVENTORY, 1.0, 1),
    (stock::OP_ALL_GOODS, 1.0, 1),
    (stock::OP_PRICE_QTY_BULK, 1.0, 1),
    (stock::OP_OPTION_QTY, 1.0, 1),
];

/// The longest a write takes to show on the product page: "up to 10 minutes" (official note on
/// every stock method, inventory.md §5.2). The sandbox waits this long divided by the throttle
/// scale, so a test at a scale of 1,000 waits 0.6 s ([`Shelf::set_latency`] changes it).
pub const WRITE_DELAY: std::time::Duration = std::time::Duration::from_secs(600);

/// Buyer packs are numbered from `PACK_BASE + BUYER_PACKS` on, clear of the seeded ones.
const BUYER_PACKS: u64 = 500_000;

/// Sandbox settings beyond [`SandboxConfig`].
#[derive(Debug, Clone)]
pub struct Options {
    /// Rows one search answers at most.
    pub max_rows: usize,
    /// Calls a seller authorization key serves before it is refused (`-10000`), as after a QSM
    /// password change; `None`: keys never lapse.
    pub key_uses: Option<u64>,
}

impl Default for Options {
    fn default() -> Self {
        Options { max_rows: MAX_ROWS, key_uses: None }
    }
}

/// A tracking number registered on one line.
#[derive(Debug, Clone)]
struct Sent {
    corp: String,
    number: String,
    at: DateTime<FixedOffset>,
}

/// The seller check of one line (`SetSellerCheckYN_V2`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SellerCheck {
    /// `EstShipDt`, the promised ship date, when given.
    pub est_ship: Option<NaiveDate>,
    /// `DelayType` (1 preparing, 2 made to order, 3 customer's request, 4 other), when given.
    pub delay_type: Option<u8>,
    /// When it was made.
    pub at: DateTime<FixedOffset>,
}

/// A claim on one line (fact sheet §4.3).
#[derive(Debug, Clone)]
struct Claim {
    /// `claimStatus` code (1 cancel requested, 3 cancel completed ...).
    status: u8,
    requested: DateTime<FixedOffset>,
    completed: Option<DateTime<FixedOffset>>,
    reason: String,
}

impl Claim {
    /// Whether the line has left the shipping search (a completed cancel or return).
    fn gone(&self) -> bool {
        matches!(self.status, 3 | 6 | 16)
    }
}

/// What the seller and buyer did to a pack in QSM, beyond the seed.
#[derive(Debug, Default)]
struct Desk {
    /// Payment time per pack (absent: not paid).
    paid_at: HashMap<String, DateTime<FixedOffset>>,
    /// Packs the seller confirmed (status 3).
    confirmed: std::collections::HashSet<String>,
    /// Claims per line.
    claims: HashMap<u64, Claim>,
    /// Seller checks per line (`SetSellerCheckYN_V2`).
    checked: HashMap<u64, SellerCheck>,
    /// `SetSellerCheckYN_V2` calls per line, whatever they answered.
    check_calls: HashMap<u64, usize>,
}

#[derive(Debug)]
struct Sandbox {
    book: Arc<OrderBook>,
    faults: Arc<FaultDice>,
    throttle: Throttle,
    retry_after_secs: Option<u64>,
    max_rows: usize,
    desk: Mutex<Desk>,
    /// Valid keys and the calls each has served.
    keys: Mutex<HashMap<String, u64>>,
    key_uses: Option<u64>,
    key_seq: AtomicU64,
    sent: Mutex<HashMap<u64, Sent>>,
    /// Qoo10's own stock: one number per item without options (by seller code) and per option row
    /// (by option code).
    shelf: Arc<Shelf>,
    /// The shop's items: codes, prices, sale end dates, option tables ([`stock`]).
    goods: Mutex<stock::Goods>,
    /// The API key passed its one-year validity: every call is refused ([`BackOffice::expire_key`]).
    key_expired: AtomicBool,
    /// Orders simulated buyers placed so far.
    buyers: AtomicUsize,
    /// The shop the orders belong to.
    shop_id: String,
}

impl Sandbox {
    /// Pack and item index of order line `no`, if its pack is in the book.
    fn line(&self, no: u64) -> Option<(String, usize)> {
        let k = no.checked_sub(LINE_BASE)?;
        let pack = (PACK_BASE + k / LINES_PER_PACK).to_string();
        let i = (k % LINES_PER_PACK) as usize;
        self.book.get(&pack).filter(|o| i < o.items.len()).map(|_| (pack, i))
    }

    /// Whether `key` is a valid seller authorization key; counts the use.
    fn use_key(&self, key: &str) -> bool {
        let Ok(mut keys) = self.keys.lock() else { return false };
        let Some(uses) = keys.get_mut(key) else { return false };
        *uses += 1;
        if self.key_uses.is_some_and(|max| *uses > max) {
            keys.remove(key);
            return false;
        }
        true
    }
}

/// Starts the Qoo10 sandbox with default [`Options`].
pub async fn start(config: SandboxConfig) -> std::io::Result<Started> {
    start_with(config, Options::default()).await
}

/// Starts the Qoo10 sandbox.
pub async fn start_with(config: SandboxConfig, options: Options) -> std::io::Result<Started> {
    start_inner(config, options).await.map(|(started, _)| started)
}

async fn start_inner(config: SandboxConfig, options: Options) -> std::io::Result<(Started, Arc<Sandbox>)> {
    let mut orders = seed_orders(Marketplace::Qoo10, &config.seed);
    let mut desk = Desk::default();
    for (n, o) in orders.iter_mut().enumerate() {
        let pack = PACK_BASE + n as u64;
        o.order_id = pack.to_string();
        if o.status != OrderStatus::AwaitingPayment {
            // Paid a minute after ordering, at the latest when the seed last touched it.
            let paid = (o.ordered_at + chrono::Duration::minutes(1)).min(o.source_updated_at.max(o.ordered_at));
            desk.paid_at.insert(o.order_id.clone(), paid);
        }
        if o.status == OrderStatus::ReadyToShip {
            desk.confirmed.insert(o.order_id.clone());
        }
        for i in 0..o.items.len() {
            if let Some(no) = line_no(pack, i) {
                let claim = |status: u8| Claim {
                    status,
                    requested: o.source_updated_at,
                    completed: (status == 3).then_some(o.source_updated_at),
                    reason: "購入者都合".into(),
                };
                match o.status {
                    OrderStatus::Cancelled => {
                        desk.claims.insert(no, claim(3));
                    }
                    OrderStatus::OnHold => {
                        desk.claims.insert(no, claim(1));
                    }
                    _ => {}
                }
            }
        }
    }
    let book = Arc::new(OrderBook::new(orders));
    let faults = Arc::new(FaultDice::new(config.faults.clone(), config.seed.seed));
    let scale = config.throttle.unwrap_or(1.0);
    let (throttle, retry_after_secs) = match config.throttle {
        Some(scale) => {
            let period = 1.0 / (LIMITS[1].1 * scale);
            (
                Throttle::new(&LIMITS, scale).with_shared(SHARED_PER_SECOND, SHARED_BURST, scale),
                (period >= 1.0).then(|| period.ceil() as u64),
            )
        }
        None => (Throttle::off(), None),
    };
    let state = Arc::new(Sandbox {
        book: Arc::clone(&book),
        faults: Arc::clone(&faults),
        throttle,
        retry_after_secs,
        max_rows: options.max_rows.max(1),
        desk: Mutex::new(desk),
        keys: Mutex::new(HashMap::new()),
        key_uses: options.key_uses,
        key_seq: AtomicU64::new(1),
        sent: Mutex::new(HashMap::new()),
        shelf: Arc::new(Shelf::new(WRITE_DELAY.div_f64(scale.max(1.0)))),
        goods: Mutex::new(stock::Goods::default()),
        key_expired: AtomicBool::new(false),
        buyers: AtomicUsize::new(0),
        shop_id: config.seed.shop_id.clone(),
    });
    let router =
        Router::new().route(&format!("{API_PATH}/{{method}}"), post(handle).get(handle)).with_state(Arc::clone(&state));
    let running = serve(router, config.port).await?;
    let started = Started {
        running,
        credentials: vec![("api_key", API_KEY.into()), ("user_id", USER_ID.into()), ("password", PASSWORD.into())],
        book,
        faults,
        shelf: Arc::clone(&state.shelf),
    };
    // The items the seeded orders sell (their seller code; none has an option table), at the
    // catalogue price, with the sale end QSM gives an item listed without one (a year on) and a
    // hand-kept number.
    let sale_end = now_jst().date_naive().checked_add_months(chrono::Months::new(12));
    let office = BackOffice(Arc::clone(&state));
    for (sku, _, price) in crate::listed_items(&config.seed) {
        office.list_item(sku, crate::HAND_KEPT, Some(*price), sale_end);
    }
    Ok((started, state))
}

/// `orderNo` of line `i` of pack `pack`.
fn line_no(pack: u64, i: usize) -> Option<u64> {
    let i = i as u64;
    (i < LINES_PER_PACK && pack >= PACK_BASE).then(|| LINE_BASE + (pack - PACK_BASE) * LINES_PER_PACK + i)
}

fn envelope(code: i64, message: &str, object: Option<Value>) -> Value {
    let mut m = Map::new();
    m.insert("ResultCode".into(), code.into());
    m.insert("ResultMsg".into(), message.into());
    if code != 0 {
        m.insert("ResultObject".into(), Value::Null);
    } else if let Some(o) = object {
        m.insert("ResultObject".into(), o);
    }
    Value::Object(m)
}

fn json_reply(body: &Value, malformed: bool) -> Response {
    let text = body.to_string();
    let text = if malformed { truncate(&text) } else { text };
    (StatusCode::OK, [(header::CONTENT_TYPE, "application/json; charset=utf-8")], text).into_response()
}

fn text_reply(status: StatusCode, text: String) -> Response {
    (status, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], text).into_response()
}

/// The canonical method name of a case-insensitive `Class.Method`, or the plain-text error.
// unverified: method names are reported to be case-insensitive.
fn method(name: &str) -> Result<&'static str, String> {
    let known = [
        OP_CERTIFY,
        OP_SEARCH,
        OP_CLAIMS,
        OP_BY_ORDER,
        OP_SEND,
        OP_SELLER_CHECK,
        stock::OP_DETAIL,
        stock::OP_INVENTORY,
        stock::OP_ALL_GOODS,
        stock::OP_PRICE_QTY_BULK,
        stock::OP_OPTION_QTY,
    ];
    if let Some(op) = known.iter().find(|k| k.eq_ignore_ascii_case(name)) {
        return Ok(op);
    }
    let class = name.split('.').next().unwrap_or("");
    let classes = ["CertificationAPI", "ShippingBasic", "ItemsLookup", "ItemsOrder", "ItemsOptions"];
    if classes.iter().any(|c| c.eq_ignore_ascii_case(class)) {
        Err(format!("Can't find method Info {}", name.split('.').nth(1).unwrap_or("")))
    } else {
        Err(format!("Can't find service Name {class}"))
    }
}

async fn handle(
    State(s): State<Arc<Sandbox>>,
    Path(name): Path<String>,
    headers: HeaderMap,
    Form(params): Form<HashMap<String, String>>,
) -> Response {
    let (latency, fault) = s.faults.roll();
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let op = match method(&name) {
        Ok(op) => op,
        Err(text) => return text_reply(StatusCode::OK, text),
    };
    if !s.throttle.admit(op) {
        // unverified: Qoo10 documents no throttle answer; the sandbox uses HTTP 429.
        let mut r = text_reply(StatusCode::TOO_MANY_REQUESTS, "Too Many Requests".into());
        if let Some(secs) = s.retry_after_secs
            && let Ok(v) = secs.to_string().parse()
        {
            r.headers_mut().insert(header::RETRY_AFTER, v);
        }
        return r;
    }
    match fault {
        Fault::ServerError => {
            // unverified: the body of Qoo10's 5xx; QAPI is an ASP.NET service.
            let html = "<html><head><title>Runtime Error</title></head><body><h1>Server Error in \
                        '/GMKT.INC.Front.QAPIService' Application.</h1></body></html>";
            return (StatusCode::INTERNAL_SERVER_ERROR, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], html)
                .into_response();
        }
        Fault::Hang(d) => tokio::time::sleep(d).await,
        Fault::Malformed | Fault::None => {}
    }
    let malformed = fault == Fault::Malformed;
    let key = headers.get("GiosisCertificationKey").and_then(|v| v.to_str().ok()).unwrap_or("");
    if headers.get("QAPIVersion").is_none() {
        return json_reply(&envelope(-90001, "存在しないAPIです。", None), malformed);
    }
    let param = |k: &str| param(&params, k);
    let expired = s.key_expired.load(Ordering::SeqCst);
    let body = match op {
        // unverified: the codes Qoo10 answers once the API key's year is over; the certification
        // call's own codes are not published, -90005 is the sheet's "key expired".
        OP_CERTIFY if expired => envelope(-90005, "Seller authorization key is expired. Use a new key.", None),
        _ if expired => envelope(-90004, "Seller authorization key is expired. Use a new key.", None),
        OP_CERTIFY => {
            if key != API_KEY {
                envelope(-90001, "存在しないAPIです。", None)
            } else if param("user_id") != USER_ID || param("pwd") != PASSWORD {
                envelope(-10000, "Invalid user id or password", None)
            } else {
                let seq = s.key_seq.fetch_add(1, Ordering::Relaxed);
                let sak = format!("SAK{seq:06}{:016x}", fastrand::u64(..));
                if let Ok(mut keys) = s.keys.lock() {
                    keys.insert(sak.clone(), 0);
                }
                envelope(0, "SUCCESS", Some(Value::String(sak)))
            }
        }
        _ if !s.use_key(key) => envelope(-10000, "Invalid authentication key", None),
        OP_SEARCH => search(&s, &params),
        OP_CLAIMS => claims(&s, &params),
        OP_BY_ORDER => by_order(&s, &params),
        OP_SELLER_CHECK => seller_check(&s, &params),
        OP_SEND => send(&s, &params),
        op => stock::handle(&s, op, &params),
    };
    if matches!(param("returnType"), "xml" | "text/xml") {
        return xml_reply(&body, malformed);
    }
    json_reply(&body, malformed)
}

/// Escapes text for an XML element.
fn xml_escape(s: &str, out: &mut String) {
    out.push_str(&quick_xml::escape::escape(s));
}

fn xml_value(v: &Value, out: &mut String) {
    match v {
        Value::Null => {}
        Value::String(s) => xml_escape(s, out),
        // Decimals as the XML answers show them (`1980.0000`).
        Value::Number(n) if n.is_f64() => out.push_str(&format!("{:.4}", n.as_f64().unwrap_or(0.0))),
        other => xml_escape(&other.to_string(), out),
    }
}

/// The same envelope as XML: `ResultCode`, `ResultMsg`, `ResultObject` under a root element, rows
/// as `<ShippingInfo>` elements.
// unverified: the root element's name (clients do not rely on it) and the row element name.
fn xml_reply(body: &Value, malformed: bool) -> Response {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?><QAPIResult>");
    if let Value::Object(m) = body {
        for (k, v) in m {
            out.push_str(&format!("<{k}>"));
            match v {
                Value::Array(rows) => {
                    for row in rows {
                        out.push_str("<ShippingInfo>");
                        if let Value::Object(fields) = row {
                            for (f, x) in fields {
                                out.push_str(&format!("<{f}>"));
                                xml_value(x, &mut out);
                                out.push_str(&format!("</{f}>"));
                            }
                        }
                        out.push_str("</ShippingInfo>");
                    }
                }
                other => xml_value(other, &mut out),
            }
            out.push_str(&format!("</{k}>"));
        }
    }
    out.push_str("</QAPIResult>");
    let text = if malformed { truncate(&out) } else { out };
    (StatusCode::OK, [(header::CONTENT_TYPE, "text/xml; charset=utf-8")], text).into_response()
}

/// A form parameter, trimmed; absent is empty.
fn param<'a>(params: &'a HashMap<String, String>, key: &str) -> &'a str {
    params.get(key).map(|v| v.trim()).unwrap_or("")
}

/// `yyyyMMdd` (start or end of day) or `yyyyMMddHHmmss`, JST, as unix seconds.
fn parse_time(s: &str, end_of_day: bool) -> Option<i64> {
    let t = match s.len() {
        8 => {
            let d = NaiveDate::parse_from_str(s, "%Y%m%d").ok()?;
            if end_of_day { d.and_hms_opt(23, 59, 59)? } else { d.and_hms_opt(0, 0, 0)? }
        }
        14 => NaiveDateTime::parse_from_str(s, "%Y%m%d%H%M%S").ok()?,
        _ => return None,
    };
    jst().from_local_datetime(&t).single().map(|t| t.timestamp())
}

fn qoo10_time(t: &DateTime<FixedOffset>) -> String {
    t.with_timezone(&jst()).format("%Y-%m-%d %H:%M:%S").to_string()
}

/// What one line looks like now: shipping status (`None`: gone from the search), claim,
/// shipment, payment.
struct LineView {
    status: Option<u8>,
    claim: Option<Claim>,
    shipped: Option<Sent>,
    paid: Option<DateTime<FixedOffset>>,
}

fn carrier_name(c: Carrier) -> &'static str {
    match c {
        Carrier::Yamato => "ヤマト運輸",
        Carrier::Sagawa => "佐川急便",
        Carrier::Japanpost => "日本郵便",
        Carrier::Other => "その他",
    }
}

fn carrier_of(corp: &str) -> Carrier {
    let c = corp.to_lowercase();
    if c.contains("ヤマト") || c.contains("yamato") {
        Carrier::Yamato
    } else if c.contains("佐川") || c.contains("sagawa") {
        Carrier::Sagawa
    } else if c.contains("郵便") || c.contains("ゆうパック") || c.contains("japan post") {
        Carrier::Japanpost
    } else {
        Carrier::Other
    }
}

fn line_view(o: &Order, no: u64, desk: &Desk, sent: &HashMap<u64, Sent>) -> LineView {
    let claim = desk.claims.get(&no).cloned();
    let paid = desk.paid_at.get(&o.order_id).copied();
    let shipped = sent.get(&no).cloned().or_else(|| {
        (o.status == OrderStatus::Shipped).then(|| o.tracking.first()).flatten().map(|t| Sent {
            corp: carrier_name(t.carrier).into(),
            number: t.number.clone(),
            at: t.shipped_at.unwrap_or(o.source_updated_at),
        })
    });
    let status = if claim.as_ref().is_some_and(Claim::gone) {
        // Fact sheet §4.2: a cancelled line is no longer returned by the search.
        None
    } else if shipped.is_some() || o.status == OrderStatus::Shipped {
        Some(4)
    } else if paid.is_none() {
        // `Awaiting shipping(1)`: not paid yet (§7).
        Some(1)
    } else if desk.confirmed.contains(&o.order_id) || desk.checked.contains_key(&no) {
        Some(3)
    } else {
        Some(2)
    };
    LineView { status, claim, shipped, paid }
}

/// Every line of the book with its view, the lock held once.
fn lines_now(s: &Sandbox) -> Vec<(Order, u64, usize, LineView)> {
    let sent = s.sent.lock().map(|g| g.clone()).unwrap_or_default();
    let Ok(desk) = s.desk.lock() else { return Vec::new() };
    let mut out = Vec::new();
    for o in s.book.all() {
        let Ok(pack) = o.order_id.parse::<u64>() else { continue };
        for i in 0..o.items.len() {
            let Some(no) = line_no(pack, i) else { continue };
            let view = line_view(&o, no, &desk, &sent);
            out.push((o.clone(), no, i, view));
        }
    }
    out
}

/// `search_Sdate` / `search_Edate` as a range; `Err` with the method's own answer.
fn range(params: &HashMap<String, String>, bad_date: i64, too_long: i64) -> Result<(i64, i64), Value> {
    let (Some(from), Some(to)) =
        (parse_time(param(params, "search_Sdate"), false), parse_time(param(params, "search_Edate"), true))
    else {
        return Err(envelope(bad_date, "Search Date Error", None));
    };
    if to < from {
        return Err(envelope(bad_date, "Search Date Error", None));
    }
    if to - from > MAX_RANGE_DAYS * 86_400 {
        return Err(envelope(too_long, "Searching period exceeds to 90 days.", None));
    }
    Ok((from, to))
}

fn search(s: &Sandbox, params: &HashMap<String, String>) -> Value {
    let param = |k: &str| param(params, k);
    let Some(status) = param("ShippingStat").parse::<u8>().ok().filter(|v| (1..=5).contains(v)) else {
        return envelope(-10003, "Invalid ShippingStat", None);
    };
    let condition = match param("search_condition") {
        "" => 1,
        c => match c.parse::<u8>().ok().filter(|v| (1..=4).contains(v)) {
            Some(c) => c,
            None => return envelope(-10004, "Invalid search_condition", None),
        },
    };
    // GetShippingInfo: -10001 invalid date, -10002 period exceeded (§9).
    let (from, to) = match range(params, -10001, -10002) {
        Ok(r) => r,
        Err(answer) => return answer,
    };
    let mut hits: Vec<(i64, u64, Value)> = Vec::new();
    for (o, no, i, view) in lines_now(s) {
        if view.status != Some(status) {
            continue;
        }
        let at = match condition {
            1 => Some(o.ordered_at),
            2 => view.paid,
            3 => view.shipped.as_ref().map(|x| x.at),
            _ => None,
        };
        let Some(at) = at.map(|t| t.timestamp()).filter(|t| (from..=to).contains(t)) else { continue };
        let pack = o.order_id.parse::<u64>().unwrap_or_default();
        let mut r = row(s, &o, pack, no, i, &view, RowKind::Search);
        if i == 0 && s.faults.corrupts(&o.order_id) {
            // A broken record: orderQty of the pack's first line is a list (Faults::corrupt_orders).
            r["orderQty"] = Value::Array(vec![Value::from(o.items[i].quantity)]);
        }
        hits.push((at, no, r));
    }
    hits.sort_by_key(|h| (h.0, h.1));
    let rows: Vec<Value> = hits.into_iter().take(s.max_rows).map(|h| h.2).collect();
    envelope(0, "SUCCESS", Some(Value::Array(rows)))
}

/// `GetClaimInfo_V3` (fact sheet §4.3): claim rows of the lines whose claim matches `ClaimStat`
/// (all claims when empty) and whose order / request / completion date (`search_condition` 1 / 2
/// / 3) is in the range.
fn claims(s: &Sandbox, params: &HashMap<String, String>) -> Value {
    let param = |k: &str| param(params, k);
    let stat = match param("ClaimStat") {
        "" => None,
        c => match c.parse::<u8>() {
            Ok(c) => Some(c),
            // unverified: the answer to a claim status that is no number.
            Err(_) => return envelope(-10002, "Search Date Error", None),
        },
    };
    let condition = match param("search_condition") {
        "" => 1,
        c => match c.parse::<u8>().ok().filter(|v| (1..=3).contains(v)) {
            Some(c) => c,
            // unverified: the answer to an unknown search_condition.
            None => return envelope(-10002, "Search Date Error", None),
        },
    };
    // GetClaimInfo_V3: -10002 date error, -10003 period over 90 days (§4.3).
    let (from, to) = match range(params, -10002, -10003) {
        Ok(r) => r,
        Err(answer) => return answer,
    };
    let mut hits: Vec<(i64, u64, Value)> = Vec::new();
    for (o, no, i, view) in lines_now(s) {
        let Some(claim) = view.claim.as_ref() else { continue };
        if stat.is_some_and(|c| c != claim.status) {
            continue;
        }
        let at = match condition {
            1 => Some(o.ordered_at),
            2 => Some(claim.requested),
            _ => claim.completed,
        };
        let Some(at) = at.map(|t| t.timestamp()).filter(|t| (from..=to).contains(t)) else { continue };
        let pack = o.order_id.parse::<u64>().unwrap_or_default();
        hits.push((at, no, claim_row(s, &o, pack, no, i, &view, claim)));
    }
    hits.sort_by_key(|h| (h.0, h.1));
    let rows: Vec<Value> = hits.into_iter().take(s.max_rows).map(|h| h.2).collect();
    envelope(0, "SUCCESS", Some(Value::Array(rows)))
}

/// `GetShippingAndClaimInfoByOrderNo_V2`: one line, shipping and claim fields in one row, also for
/// a cancelled line (fact sheet §2).
fn by_order(s: &Sandbox, params: &HashMap<String, String>) -> Value {
    let Ok(no) = param(params, "OrderNo").parse::<u64>() else {
        return envelope(-10002, "Order number format error", None);
    };
    let Some((pack_id, i)) = s.line(no) else {
        return envelope(-10003, "Order not found", None);
    };
    let Some(o) = s.book.get(&pack_id) else {
        return envelope(-10003, "Order not found", None);
    };
    let sent = s.sent.lock().map(|g| g.clone()).unwrap_or_default();
    let view = match s.desk.lock() {
        Ok(desk) => line_view(&o, no, &desk, &sent),
        Err(_) => return envelope(-10003, "Order not found", None),
    };
    let pack = pack_id.parse::<u64>().unwrap_or_default();
    // The signature returns a list (`List<ShippingClaimInfo_V2>`): one row for the line.
    envelope(0, "SUCCESS", Some(Value::Array(vec![row(s, &o, pack, no, i, &view, RowKind::ByOrder)])))
}

fn destination(o: &Order, i: usize) -> &Address {
    let mut seen = 0;
    for sh in &o.shipments {
        seen += sh.items.len();
        if i < seen {
            return &sh.ship_to;
        }
    }
    &o.ship_to
}

fn payment_label(m: PaymentMethod) -> &'static str {
    match m {
        PaymentMethod::CreditCard => "クレジットカード",
        PaymentMethod::Cod => "代金引換",
        PaymentMethod::BankTransfer => "銀行振込",
        PaymentMethod::ConvenienceStore => "コンビニ決済",
        PaymentMethod::Deferred => "後払い決済",
        PaymentMethod::MarketplacePay => "Qoo10キャッシュ",
        PaymentMethod::Other => "その他",
    }
}

fn shipping_way(m: DeliveryMethod) -> &'static str {
    match m {
        DeliveryMethod::Standard => "宅配便",
        DeliveryMethod::MailBin => "メール便",
        DeliveryMethod::Cool => "クール便(冷蔵)",
        DeliveryMethod::Frozen => "クール便(冷凍)",
        DeliveryMethod::Pickup => "店舗受取",
        DeliveryMethod::Other => "その他",
    }
}

/// `1234567` → `123-4567`; anything else as given.
fn zip(code: &str) -> String {
    let digits: String = code.chars().filter(char::is_ascii_digit).collect();
    if digits.len() == 7 { format!("{}-{}", &digits[..3], &digits[3..]) } else { code.to_owned() }
}

/// A stable Qoo10 item number for a SKU.
fn item_code(sku: &str) -> String {
    let h = sku.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3));
    (1_100_000_000 + h % 100_000_000).to_string()
}

/// A domestic number as QAPI shows phones (`090-1234-5678` → `+81-90-1234-5678`).
fn intl_phone(p: &str) -> String {
    match p.strip_prefix('0') {
        Some(rest) => format!("+81-{rest}"),
        None => p.to_owned(),
    }
}

fn money(yen: i64) -> Value {
    // QAPI sends decimals (`1980.0`).
    Value::from(yen as f64)
}

/// Which method a row is rendered for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RowKind {
    /// `GetShippingInfo_v2`: the §6 field list, no claim field.
    Search,
    /// `GetShippingAndClaimInfoByOrderNo_V2`: its transcribed field list (lower-case
    /// `shippingDate`, `currency`, `deliveryCompany`, `trackingNo`; no `ShippingRate`, `Addr1`,
    /// `Addr2`, `SellerDiscount`; the claim fields).
    ByOrder,
}

/// The claim fields common to the claim search and the per-order read.
fn put_claim(m: &mut Map<String, Value>, claim: Option<&Claim>) {
    let text = |s: String| Value::String(s);
    m.insert("claimStatus".into(), text(claim.map(|c| c.status.to_string()).unwrap_or_default()));
    m.insert(
        "cancelRefundDate".into(),
        text(claim.and_then(|c| c.completed).map(|t| qoo10_time(&t)).unwrap_or_default()),
    );
    m.insert("reason".into(), text(claim.map(|c| c.reason.clone()).unwrap_or_default()));
    m.insert("requestDate".into(), text(claim.map(|c| qoo10_time(&c.requested)).unwrap_or_default()));
}

/// A `GetClaimInfo_V3` row (fact sheet §4.3 field list).
fn claim_row(s: &Sandbox, o: &Order, pack: u64, no: u64, i: usize, view: &LineView, claim: &Claim) -> Value {
    let item = &o.items[i.min(o.items.len().saturating_sub(1))];
    let to = destination(o, i);
    let text = |s: &str| Value::String(s.to_owned());
    let mut m = Map::new();
    put_claim(&mut m, Some(claim));
    m.insert("orderDate".into(), text(&qoo10_time(&o.ordered_at)));
    m.insert("PaymentDate".into(), text(&view.paid.map(|t| qoo10_time(&t)).unwrap_or_default()));
    m.insert("shippingDate".into(), text(&view.shipped.as_ref().map(|x| qoo10_time(&x.at)).unwrap_or_default()));
    m.insert("DeliveredDate".into(), text(""));
    m.insert("orderNo".into(), Value::from(no));
    m.insert("packNo".into(), Value::from(pack));
    let codes = stock::line_codes(s, &item.sku);
    m.insert("itemCode".into(), text(&codes.item_code));
    m.insert("sellerItemCode".into(), text(&codes.seller_code));
    m.insert("itemTitle".into(), text(&item.name));
    m.insert("orderQty".into(), Value::from(item.quantity));
    m.insert("paymentNation".into(), text("JP"));
    m.insert("currency".into(), text("JPY"));
    let first = i == 0;
    let paid = item.unit_price * i64::from(item.quantity) - if first { o.totals.discount } else { 0 }
        + if first { o.totals.shipping } else { 0 };
    m.insert("paymentAmount".into(), money(paid));
    m.insert("deliveryCompany".into(), text(view.shipped.as_ref().map(|x| x.corp.as_str()).unwrap_or("")));
    m.insert("trackingNo".into(), text(view.shipped.as_ref().map(|x| x.number.as_str()).unwrap_or("")));
    for k in ["deliveryCompanyReturn", "trackingNoReturn", "pickupAddress", "paymentReturnShipping", "itemCondition"] {
        m.insert(k.into(), text(""));
    }
    m.insert("zipCode".into(), text(&zip(&to.postal_code)));
    m.insert("receiver".into(), text(&to.name));
    m.insert("receiverTel".into(), text(""));
    m.insert("receiverMobile".into(), text(&intl_phone(to.phone.as_deref().unwrap_or(""))));
    m.insert("buyer".into(), text(&o.buyer.name));
    m.insert("buyerTel".into(), text(""));
    m.insert("buyerMobile".into(), text(&intl_phone(o.buyer.phone.as_deref().unwrap_or(""))));
    m.insert("CODCancelPrice".into(), money(0));
    m.insert("CODQrefundPrice".into(), money(0));
    m.insert("CODCancelRelatedOrder".into(), text(""));
    for k in ["nrDutyTarget", "nrSolType"] {
        m.insert(k.into(), text(""));
    }
    m.insert("nrPartRefundCnt".into(), Value::from(0));
    m.insert("nrPartRefundBalance".into(), money(0));
    Value::Object(m)
}

fn row(s: &Sandbox, o: &Order, pack: u64, no: u64, i: usize, view: &LineView, kind: RowKind) -> Value {
    let item = &o.items[i.min(o.items.len().saturating_sub(1))];
    let paid = view.paid;
    let to = destination(o, i);
    let first = i == 0;
    let discount = if first { o.totals.discount } else { 0 };
    let shipping = if first { o.totals.shipping } else { 0 };
    let option = item
        .options
        .iter()
        .map(|op| if op.name.is_empty() { op.value.clone() } else { format!("{}:{}", op.name, op.value) })
        .collect::<Vec<_>>()
        .join(" / ");
    let hope = match (o.delivery.requested_date, &o.delivery.requested_time_slot) {
        (Some(d), Some(slot)) => format!("{} {slot}", d.format("%Y-%m-%d")),
        (Some(d), None) => d.format("%Y-%m-%d").to_string(),
        // A time slot alone has no field in Qoo10.
        (None, _) => String::new(),
    };
    let addr1 = format!("{}{}{}", to.prefecture, to.city, to.address1);
    let full = if to.address2.is_empty() { addr1.clone() } else { format!("{addr1} {}", to.address2) };
    let phone = intl_phone(to.phone.as_deref().unwrap_or(""));
    let (corp, number, shipped_at) = match &view.shipped {
        Some(x) => (x.corp.clone(), x.number.clone(), qoo10_time(&x.at)),
        None => (String::new(), String::new(), String::new()),
    };
    let line_total = item.unit_price * i64::from(item.quantity) - discount;
    let text = |s: &str| Value::String(s.to_owned());
    let mut m = Map::new();
    let mut put = |k: &str, v: Value| {
        m.insert(k.to_owned(), v);
    };
    // A line gone from the search (cancelled) keeps the status it had in the per-order read.
    let status = view.status.unwrap_or(if view.paid.is_some() { 2 } else { 1 });
    put("shippingStatus", text(LABELS[usize::from(status.clamp(1, 5)) - 1]));
    put("sellerID", text("sandbox-seller"));
    put("orderNo", Value::from(no));
    put("packNo", Value::from(pack));
    put("orderDate", text(&qoo10_time(&o.ordered_at)));
    put("PaymentDate", text(&paid.map(|t| qoo10_time(&t)).unwrap_or_default()));
    put("EstShippingDate", text(""));
    put("ShippingDate", text(&shipped_at));
    put("DeliveredDate", text(""));
    put("buyer", text(&o.buyer.name));
    put("buyer_gata", text(o.buyer.name_kana.as_deref().unwrap_or("")));
    put("buyerTel", text(""));
    put("buyerMobile", text(&intl_phone(o.buyer.phone.as_deref().unwrap_or(""))));
    put("buyerEmail", text(o.buyer.email.as_deref().unwrap_or("")));
    let codes = stock::line_codes(s, &item.sku);
    put("itemCode", text(&codes.item_code));
    put("sellerItemCode", text(&codes.seller_code));
    put("itemTitle", text(&item.name));
    put("option", text(&if option.is_empty() { codes.option_text.clone() } else { option }));
    put("optionCode", text(&codes.option_code));
    put("orderPrice", money(item.unit_price));
    put("orderQty", Value::from(item.quantity));
    put("discount", money(discount));
    put("total", money(line_total));
    put("receiver", text(&to.name));
    put("receiver_gata", text(""));
    put("shippingCountry", text(&to.country));
    put("zipCode", text(&zip(&to.postal_code)));
    put("shippingAddr", text(&full));
    put("Addr1", text(&addr1));
    put("Addr2", text(&to.address2));
    put("receiverTel", text(""));
    put("receiverMobile", text(&phone));
    put("hopeDate", text(&hope));
    for k in ["senderName", "senderTel", "senderNation", "senderZipCode", "senderAddr"] {
        put(k, text(""));
    }
    put("ShippingWay", text(shipping_way(o.delivery.method)));
    put("ShippingMsg", text(&o.remarks));
    put("PaymentMethod", text(payment_label(o.payment_method)));
    put("PaymentNation", text("JP"));
    put("Currency", text("JPY"));
    put("ShippingRate", money(shipping));
    put("shippingRateType", text(if o.totals.shipping > 0 { "Charge" } else { "Free" }));
    put("SellerDiscount", money(0));
    put("Cart_Discount_Seller", money(0));
    put("Cart_Discount_Qoo10", money(0));
    put("SettlePrice", money(line_total + shipping));
    put("RelatedOrder", text(""));
    put("DeliveryCompany", text(&corp));
    put("TrackingNo", text(&number));
    put("PackingNo", text(""));
    put("SellerDeliveryNo", text(""));
    put("VoucherCode", text(""));
    put("Gift", text(if o.gift { "Y" } else { "N" }));
    if kind == RowKind::ByOrder {
        // The per-order read's field list: no estimated date, fee, address parts, seller discount,
        // settlement or related orders; some keys in another case; the claim fields added.
        for k in ["EstShippingDate", "Addr1", "Addr2", "ShippingRate", "SellerDiscount", "SettlePrice", "RelatedOrder"]
        {
            m.remove(k);
        }
        for (from, to) in [
            ("PaymentNation", "paymentNation"),
            ("Currency", "currency"),
            ("ShippingDate", "shippingDate"),
            ("DeliveryCompany", "deliveryCompany"),
            ("TrackingNo", "trackingNo"),
        ] {
            if let Some(v) = m.remove(from) {
                m.insert(to.into(), v);
            }
        }
        m.insert("OrderType".into(), text(""));
        m.insert("cod_price".into(), money(if o.payment_method == PaymentMethod::Cod { o.totals.total } else { 0 }));
        put_claim(&mut m, view.claim.as_ref());
        for k in
            ["deliveryCompanyReturn", "trackingNoReturn", "pickupAddress", "pickupzipCode", "paymentReturnShipping"]
        {
            m.insert(k.into(), text(""));
        }
        m.insert("itemCondition".into(), text(""));
        m.insert("CODCancelPrice".into(), money(0));
        m.insert("CODQrefundPrice".into(), money(0));
        m.insert("CODCancelRelatedOrder".into(), text(""));
        m.insert("nrDutyTarget".into(), text(""));
        m.insert("nrSolType".into(), text(""));
        m.insert("nrPartRefundCnt".into(), Value::from(0));
        m.insert("nrPartRefundBalance".into(), money(0));
    }
    Value::Object(m)
}

fn send(s: &Sandbox, params: &HashMap<String, String>) -> Value {
    let param = |k: &str| param(params, k);
    let raw = param("OrderNo");
    let Ok(no) = raw.parse::<u64>() else {
        return envelope(-10002, "Order number format error", None);
    };
    let Some((pack, _)) = s.line(no) else {
        return envelope(-10003, "Order not found", None);
    };
    let corp = param("ShippingCorp");
    if corp.is_empty() || corp.chars().count() > 200 {
        // unverified: code and wording for a bad ShippingCorp.
        return envelope(-10004, "Invalid ShippingCorp", None);
    }
    let number = param("TrackingNo");
    if number.is_empty() || number.chars().count() > 50 {
        // unverified: code and wording for a bad TrackingNo.
        return envelope(-10005, "Invalid TrackingNo", None);
    }
    let Some(order) = s.book.get(&pack) else {
        return envelope(-10003, "Order not found", None);
    };
    let Ok(mut sent) = s.sent.lock() else {
        return envelope(-10009, "Trade status restricted", None);
    };
    let view = match s.desk.lock() {
        Ok(desk) => line_view(&order, no, &desk, &sent),
        Err(_) => return envelope(-10009, "Trade status restricted", None),
    };
    // Only a paid line waiting to ship (2, 3) without a claim (fact sheet §8: not for status 1 or a
    // cancelled order).
    if !matches!(view.status, Some(2 | 3)) || view.claim.is_some() {
        return envelope(-10009, "Trade status restricted", None);
    }
    let now = Utc::now().with_timezone(&jst());
    let at = jst().timestamp_opt(now.timestamp(), 0).single().unwrap_or(now);
    let x = Sent { corp: corp.to_owned(), number: number.to_owned(), at };
    sent.insert(no, x.clone());
    let all_sent = (0..order.items.len())
        .all(|i| order.order_id.parse::<u64>().ok().and_then(|p| line_no(p, i)).is_none_or(|l| sent.contains_key(&l)));
    drop(sent);
    s.book.update(&pack, |o| {
        if all_sent {
            o.status = OrderStatus::Shipped;
            o.source_status = LABELS[3].into();
        }
        if !o.tracking.iter().any(|t| t.number == x.number) {
            o.tracking.push(Tracking {
                carrier: carrier_of(&x.corp),
                number: x.number.clone(),
                shipped_at: Some(x.at),
                shipment_id: None,
            });
        }
    });
    envelope(0, "SUCCESS", None)
}

/// `SetSellerCheckYN_V2`: the seller check of one line (see the module notes).
fn seller_check(s: &Sandbox, params: &HashMap<String, String>) -> Value {
    let param = |k: &str| param(params, k);
    let Ok(no) = param("OrderNo").parse::<u64>() else {
        return envelope(-10002, "Order number format error", None);
    };
    let Some((pack, _)) = s.line(no) else {
        return envelope(-10003, "Order not found", None);
    };
    let today = now_jst().date_naive();
    let est_ship = match param("EstShipDt") {
        "" => None,
        d => match NaiveDate::parse_from_str(d, "%Y%m%d").ok().filter(|_| d.len() == 8) {
            Some(date) if date < today => return envelope(-10018, "EstShipDt must be today or later", None),
            Some(date) => Some(date),
            None => return envelope(-10016, "EstShipDt is null", None),
        },
    };
    let delay_type = match param("DelayType") {
        "" => None,
        t => match t.parse::<u8>() {
            Ok(t @ 1..=4) => Some(t),
            // unverified: code and wording for a DelayType outside 1–4.
            _ => return envelope(-10004, "Invalid DelayType", None),
        },
    };
    if param("DelayMemo").chars().count() > 1000 {
        // unverified: code and wording for a DelayMemo over 1000 characters.
        return envelope(-10004, "Invalid DelayMemo", None);
    }
    let Some(order) = s.book.get(&pack) else {
        return envelope(-10003, "Order not found", None);
    };
    let sent = s.sent.lock().map(|g| g.clone()).unwrap_or_default();
    let Ok(mut desk) = s.desk.lock() else {
        return envelope(-10009, "Trade status restricted", None);
    };
    *desk.check_calls.entry(no).or_default() += 1;
    match line_view(&order, no, &desk, &sent).status {
        Some(2) => {
            // No date moves (as the seller's confirmation in QSM): the line shows 3 from now on.
            desk.checked.insert(no, SellerCheck { est_ship, delay_type, at: now_jst() });
            envelope(0, "SUCCESS", None)
        }
        Some(3) => envelope(-10012, "Order already confirmed", None),
        _ => envelope(-10013, "Order is not in shipping requested status", None),
    }
}

/// The seller's and buyer's side of QSM, for tests: changes a pack as Qoo10 does, moving the
/// dates Qoo10 moves (payment, shipping, claim request and completion), and the book with it.
#[derive(Clone)]
pub struct BackOffice(Arc<Sandbox>);

impl std::fmt::Debug for BackOffice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BackOffice")
    }
}

/// Now in JST, whole seconds (QAPI times have no fraction).
fn now_jst() -> DateTime<FixedOffset> {
    let now = Utc::now();
    jst().timestamp_opt(now.timestamp(), 0).single().unwrap_or_else(|| now.with_timezone(&jst()))
}

impl BackOffice {
    fn lines_of(&self, pack: &str) -> Vec<u64> {
        let Some(o) = self.0.book.get(pack) else { return Vec::new() };
        let Ok(p) = pack.parse::<u64>() else { return Vec::new() };
        (0..o.items.len()).filter_map(|i| line_no(p, i)).collect()
    }

    /// The `orderNo`s of pack `pack`.
    pub fn order_lines(&self, pack: &str) -> Vec<u64> {
        self.lines_of(pack)
    }

    /// The seller check of line `order_no`, if it was made.
    pub fn seller_check(&self, order_no: u64) -> Option<SellerCheck> {
        self.0.desk.lock().ok()?.checked.get(&order_no).cloned()
    }

    /// How many `SetSellerCheckYN_V2` calls named line `order_no` (whatever they answered).
    pub fn seller_check_calls(&self, order_no: u64) -> usize {
        self.0.desk.lock().ok().and_then(|d| d.check_calls.get(&order_no).copied()).unwrap_or(0)
    }

    /// The shipping status code (1–5) line `order_no` shows now; `None` once it left the search.
    pub fn line_status(&self, order_no: u64) -> Option<u8> {
        let (pack, _) = self.0.line(order_no)?;
        let order = self.0.book.get(&pack)?;
        let sent = self.0.sent.lock().ok()?.clone();
        let desk = self.0.desk.lock().ok()?;
        line_view(&order, order_no, &desk, &sent).status
    }

    /// The buyer pays an unpaid pack (convenience store, bank): status 1 → 2 (`On request(2)`),
    /// `PaymentDate` now. `false` when the pack is unknown or already paid.
    pub fn pay(&self, pack: &str) -> bool {
        let at = now_jst();
        {
            let Ok(mut desk) = self.0.desk.lock() else { return false };
            if self.0.book.get(pack).is_none() || desk.paid_at.contains_key(pack) {
                return false;
            }
            desk.paid_at.insert(pack.to_owned(), at);
        }
        self.0.book.update(pack, |o| {
            o.status = OrderStatus::ReadyToShip;
            o.source_status = LABELS[1].into();
        });
        true
    }

    /// The seller confirms a paid pack in QSM: 2 → 3 (`Seller confirm(3)`). No date moves.
    pub fn confirm(&self, pack: &str) -> bool {
        let Ok(mut desk) = self.0.desk.lock() else { return false };
        if !desk.paid_at.contains_key(pack) {
            return false;
        }
        desk.confirmed.insert(pack.to_owned())
    }

    /// The seller registers carrier and tracking number in QSM for every line (as `SetSendingInfo`
    /// does): status 4, `ShippingDate` now.
    pub fn ship(&self, pack: &str, corp: &str, number: &str) -> bool {
        let at = now_jst();
        let lines = self.lines_of(pack);
        {
            let Ok(desk) = self.0.desk.lock() else { return false };
            if lines.is_empty() || !desk.paid_at.contains_key(pack) || lines.iter().any(|l| desk.claims.contains_key(l))
            {
                return false;
            }
        }
        let Ok(mut sent) = self.0.sent.lock() else { return false };
        for l in &lines {
            sent.insert(*l, Sent { corp: corp.to_owned(), number: number.to_owned(), at });
        }
        drop(sent);
        self.0.book.update(pack, |o| {
            o.status = OrderStatus::Shipped;
            o.source_status = LABELS[3].into();
            o.tracking = vec![Tracking {
                carrier: carrier_of(corp),
                number: number.to_owned(),
                shipped_at: Some(at),
                shipment_id: None,
            }];
        });
        true
    }

    /// The order is cancelled (buyer's request accepted, or the seller cancels): claim 3 on every
    /// line, requested and completed now; the pack leaves the shipping search. An unpaid pack is
    /// cancelled as 16 (unpaid order cancelled).
    pub fn cancel(&self, pack: &str) -> bool {
        let lines = self.lines_of(pack);
        if lines.is_empty() {
            return false;
        }
        let at = now_jst();
        let status = {
            let Ok(mut desk) = self.0.desk.lock() else { return false };
            let status: u8 = if desk.paid_at.contains_key(pack) { 3 } else { 16 };
            for l in &lines {
                let c = Claim { status, requested: at, completed: Some(at), reason: "購入者都合".into() };
                desk.claims.insert(*l, c);
            }
            status
        };
        self.0.book.update(pack, |o| {
            o.status = OrderStatus::Cancelled;
            o.source_status = status.to_string();
        });
        // unverified (inventory.md §5.4): whether Qoo10 gives the units of a cancelled order back.
        // The sandbox does — the choice made with the sale-time decrement in `buy`.
        self.0.shelf.cancel(pack, Restock::Always);
        true
    }

    /// One line of a pack is cancelled (claim 3, now); the other lines stay. The book keeps the
    /// pack's items as seeded (its lines are numbered by item).
    pub fn cancel_line(&self, order_no: u64) -> bool {
        if self.0.line(order_no).is_none() {
            return false;
        }
        let at = now_jst();
        let Ok(mut desk) = self.0.desk.lock() else { return false };
        let c = Claim { status: 3, requested: at, completed: Some(at), reason: "購入者都合".into() };
        desk.claims.insert(order_no, c);
        true
    }

    /// The buyer asks to cancel a pack: claim 1 (cancel requested) on every line, requested now. The
    /// lines stay in the shipping search.
    pub fn request_cancel(&self, pack: &str) -> bool {
        let lines = self.lines_of(pack);
        let at = now_jst();
        {
            let Ok(mut desk) = self.0.desk.lock() else { return false };
            for l in &lines {
                let c = Claim { status: 1, requested: at, completed: None, reason: "購入者都合".into() };
                desk.claims.insert(*l, c);
            }
        }
        self.0.book.update(pack, |o| o.status = OrderStatus::OnHold);
        !lines.is_empty()
    }
}

/// As [`start_with`], also returning the [`BackOffice`].
pub async fn start_with_back_office(config: SandboxConfig, options: Options) -> std::io::Result<(Started, BackOffice)> {
    let (started, state) = start_inner(config, options).await?;
    Ok((started, BackOffice(state)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_methods() {
        assert_eq!(
            parse_time("20261101", false).map(|a| parse_time("20261101", true).map(|b| b - a)),
            Some(Some(86_399))
        );
        assert!(parse_time("2026-11-01", false).is_none());
        assert_eq!(method("shippingbasic.getshippinginfo_V2"), Ok(OP_SEARCH));
        assert!(method("ShippingBasic.Nope").is_err_and(|e| e.starts_with("Can't find method Info")));
        assert!(method("Nope.Nope").is_err_and(|e| e.starts_with("Can't find service Name")));
        assert_eq!(zip("1234567"), "123-4567");
        assert_eq!(line_no(PACK_BASE + 2, 3), Some(LINE_BASE + 35));
        assert_eq!(carrier_of(carrier_name(Carrier::Sagawa)), Carrier::Sagawa);
    }
}
