//! Qoo10 QSM API (QAPI) sandbox: `CertificationAPI.CreateCertificationKey`,
//! `ShippingBasic.GetShippingInfo_v2` and `ShippingBasic.SetSendingInfo` in header style
//! (`POST /GMKT.INC.Front.QAPIService/ebayjapan.qapi/<Class.Method>`, form body,
//! `GiosisCertificationKey` and `QAPIVersion` headers), answering JSON envelopes
//! (`ResultCode` / `ResultMsg` / `ResultObject`) with HTTP 200, as the fact sheet describes.
//!
//! Orders are rendered here from the canonical seed independently of the client's wire types:
//! one row per item (`orderNo`), grouped by `packNo` (the order id). Packs are numbered from
//! [`PACK_BASE`]; line `i` of pack `PACK_BASE + n` is `LINE_BASE + 16 n + i`. The first line of a
//! corrupt pack (`Faults::corrupt_orders`) has `orderQty` as a JSON list.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Form, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, TimeZone, Utc};
use ichigen_core::{Address, Carrier, DeliveryMethod, Item, Marketplace, Order, OrderStatus, PaymentMethod, Tracking};
use serde_json::{Map, Value};

use crate::book::jst;
use crate::faults::truncate;
use crate::{Fault, FaultDice, OrderBook, SandboxConfig, Started, Throttle, seed_orders, serve};

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
const OP_SEND: &str = "ShippingBasic.SetSendingInfo";

/// All operations share the shop's one request a second (unverified, as the client's).
pub const SHARED_PER_SECOND: f64 = 1.0;
/// The shared bucket's burst: one more than the client's, so network jitter between a client
/// pacing itself at the limit and this bucket does not turn into refusals.
pub const SHARED_BURST: u32 = 2;

/// Rate limits per operation: `(operation, requests per second, burst)`.
// unverified: Qoo10 publishes none; the sheet advises at most 1 request/second.
pub const LIMITS: [(&str, f64, u32); 3] = [(OP_CERTIFY, 1.0, 1), (OP_SEARCH, 1.0, 1), (OP_SEND, 1.0, 1)];

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

#[derive(Debug)]
struct Sandbox {
    book: Arc<OrderBook>,
    faults: Arc<FaultDice>,
    throttle: Throttle,
    retry_after_secs: Option<u64>,
    max_rows: usize,
    /// Payment time per pack (absent: not paid).
    paid_at: HashMap<String, DateTime<FixedOffset>>,
    /// `orderNo` → (pack id, item index).
    lines: HashMap<u64, (String, usize)>,
    /// Valid keys and the calls each has served.
    keys: Mutex<HashMap<String, u64>>,
    key_uses: Option<u64>,
    key_seq: AtomicU64,
    sent: Mutex<HashMap<u64, Sent>>,
}

impl Sandbox {
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
    let mut orders = seed_orders(Marketplace::Qoo10, &config.seed);
    let mut paid_at = HashMap::new();
    let mut lines = HashMap::new();
    for (n, o) in orders.iter_mut().enumerate() {
        let pack = PACK_BASE + n as u64;
        o.order_id = pack.to_string();
        if !matches!(o.status, OrderStatus::New | OrderStatus::AwaitingPayment) {
            paid_at.insert(o.order_id.clone(), o.source_updated_at);
        }
        for i in 0..o.items.len() {
            if let Some(no) = line_no(pack, i) {
                lines.insert(no, (o.order_id.clone(), i));
            }
        }
    }
    let book = Arc::new(OrderBook::new(orders));
    let faults = Arc::new(FaultDice::new(config.faults.clone(), config.seed.seed));
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
        paid_at,
        lines,
        keys: Mutex::new(HashMap::new()),
        key_uses: options.key_uses,
        key_seq: AtomicU64::new(1),
        sent: Mutex::new(HashMap::new()),
    });
    let router = Router::new().route(&format!("{API_PATH}/{{method}}"), post(handle).get(handle)).with_state(state);
    let running = serve(router, config.port).await?;
    Ok(Started {
        running,
        credentials: vec![("api_key", API_KEY.into()), ("user_id", USER_ID.into()), ("password", PASSWORD.into())],
        book,
        faults,
    })
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
    let known = [OP_CERTIFY, OP_SEARCH, OP_SEND];
    if let Some(op) = known.iter().find(|k| k.eq_ignore_ascii_case(name)) {
        return Ok(op);
    }
    let class = name.split('.').next().unwrap_or("");
    if ["CertificationAPI", "ShippingBasic"].iter().any(|c| c.eq_ignore_ascii_case(class)) {
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
    let body = match op {
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
        _ => send(&s, &params),
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

/// What one line looks like now: shipping status, claim status, shipment.
struct LineView {
    status: u8,
    claim: Option<u8>,
    shipped: Option<Sent>,
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

fn line_view(o: &Order, no: u64, sent: &HashMap<u64, Sent>) -> LineView {
    if let Some(x) = sent.get(&no) {
        return LineView { status: 4, claim: None, shipped: Some(x.clone()) };
    }
    match o.status {
        // AwaitingPayment cannot be told apart: Qoo10 lists unpaid orders as "waiting" at most.
        OrderStatus::New | OrderStatus::AwaitingPayment => LineView { status: 1, claim: None, shipped: None },
        OrderStatus::ReadyToShip => LineView { status: 2, claim: None, shipped: None },
        OrderStatus::Cancelled => LineView { status: 2, claim: Some(3), shipped: None },
        OrderStatus::OnHold => LineView { status: 2, claim: Some(1), shipped: None },
        OrderStatus::Shipped => {
            let shipped = o.tracking.first().map(|t| Sent {
                corp: carrier_name(t.carrier).into(),
                number: t.number.clone(),
                at: t.shipped_at.unwrap_or(o.source_updated_at),
            });
            LineView { status: 4, claim: None, shipped }
        }
    }
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
    let (Some(from), Some(to)) = (parse_time(param("search_Sdate"), false), parse_time(param("search_Edate"), true))
    else {
        return envelope(-10001, "Invalid date", None);
    };
    if to < from {
        return envelope(-10001, "Invalid date", None);
    }
    if to - from > MAX_RANGE_DAYS * 86_400 {
        return envelope(-10002, "Search period exceeded (max 90 days)", None);
    }
    let sent = s.sent.lock().map(|g| g.clone()).unwrap_or_default();
    let mut hits: Vec<(i64, u64, Value)> = Vec::new();
    for o in s.book.all() {
        let Ok(pack) = o.order_id.parse::<u64>() else { continue };
        let paid = s.paid_at.get(&o.order_id).copied();
        for (i, item) in o.items.iter().enumerate() {
            let Some(no) = line_no(pack, i) else { continue };
            let view = line_view(&o, no, &sent);
            if view.status != status {
                continue;
            }
            let at = match condition {
                1 => Some(o.ordered_at),
                2 => paid,
                3 => view.shipped.as_ref().map(|x| x.at),
                _ => None,
            };
            let Some(at) = at.map(|t| t.timestamp()).filter(|t| (from..=to).contains(t)) else { continue };
            let mut r = row(&o, pack, no, i, item, &view, paid);
            if i == 0 && s.faults.corrupts(&o.order_id) {
                // A broken record: orderQty of the pack's first line is a list (Faults::corrupt_orders).
                r["orderQty"] = Value::Array(vec![Value::from(item.quantity)]);
            }
            hits.push((at, no, r));
        }
    }
    hits.sort_by_key(|h| (h.0, h.1));
    let rows: Vec<Value> = hits.into_iter().take(s.max_rows).map(|h| h.2).collect();
    envelope(0, "SUCCESS", Some(Value::Array(rows)))
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

fn row(
    o: &Order,
    pack: u64,
    no: u64,
    i: usize,
    item: &Item,
    view: &LineView,
    paid: Option<DateTime<FixedOffset>>,
) -> Value {
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
    put("shippingStatus", text(&view.status.to_string()));
    if let Some(c) = view.claim {
        put("claimStatus", text(&c.to_string()));
    }
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
    put("itemCode", text(&item_code(&item.sku)));
    put("sellerItemCode", text(&item.sku));
    put("itemTitle", text(&item.name));
    put("option", text(&option));
    put("optionCode", text(""));
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
    Value::Object(m)
}

fn send(s: &Sandbox, params: &HashMap<String, String>) -> Value {
    let param = |k: &str| param(params, k);
    let raw = param("OrderNo");
    let Ok(no) = raw.parse::<u64>() else {
        return envelope(-10002, "Order number format error", None);
    };
    let Some((pack, _)) = s.lines.get(&no) else {
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
    let Some(order) = s.book.get(pack) else {
        return envelope(-10003, "Order not found", None);
    };
    let Ok(mut sent) = s.sent.lock() else {
        return envelope(-10009, "Trade status restricted", None);
    };
    let view = line_view(&order, no, &sent);
    if !(1..=3).contains(&view.status) || view.claim.is_some() {
        return envelope(-10009, "Trade status restricted", None);
    }
    let now = Utc::now().with_timezone(&jst());
    let at = jst().timestamp_opt(now.timestamp(), 0).single().unwrap_or(now);
    let x = Sent { corp: corp.to_owned(), number: number.to_owned(), at };
    sent.insert(no, x.clone());
    let all_sent = (0..order.items.len())
        .all(|i| order.order_id.parse::<u64>().ok().and_then(|p| line_no(p, i)).is_none_or(|l| sent.contains_key(&l)));
    drop(sent);
    s.book.update(pack, |o| {
        if all_sent {
            o.status = OrderStatus::Shipped;
            o.source_status = "4".into();
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
