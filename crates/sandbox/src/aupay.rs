//! au PAY マーケット (Wow!manager shop API) sandbox.
//!
//! Serves `GET /wmshopapi/searchTradeInfoListProc`, `GET /wmshopapi/searchTradeInfoProc` and
//! `POST /wmshopapi/updateTradeInfoProc` with the API's XML `<response>` envelope. It checks
//! `Authorization: Bearer <key>` (401 + code `0002`), the `shopId` and the search parameters
//! (400 + `CME0022`), the order-date window (at most 30 days) and the page size (at most
//! 1000), throttles per operation, injects faults, and applies write-backs to its order book. A
//! corrupt order (`Faults::corrupt_orders`) has a `requestPrice` above its `totalPrice`.
//!
//! `searchTradeInfoProc` answers an unknown `orderId` as a search without hits (`status` 0,
//! `resultCount` 0). The back-office functions ([`confirm_payment`], [`mark_ready_to_ship`],
//! [`ship`], [`cancel`]) change an order as the shop does in Wow!manager; the API has no update
//! time, so apart from the fields the change itself sets nothing in the answers moves.
//!
//! The XML here is written by hand from the fact sheet, independently of the client's wire
//! structs, so a mistake in those is not repeated here.

pub mod stock;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::{DateTime, Duration as Days, FixedOffset, NaiveDate, NaiveTime};
use ichigen_core::{Carrier, DeliveryMethod, Marketplace, Order, OrderStatus, PaymentMethod, Tracking};

use crate::book::jst;
use crate::{
    Fault, FaultDice, OrderBook, Restock, SandboxConfig, Shelf, Started, Throttle, TimeField, buyer_order, faults,
    seed_orders, serve,
};

/// The `shopId` the sandbox accepts.
pub const SHOP_ID: &str = "54318092";
/// The API key the sandbox accepts (as `Authorization: Bearer <key>`).
pub const API_KEY: &str = "sandbox-aupay-api-key-0001";

/// Order search (list) path.
pub const SEARCH_LIST_PATH: &str = "/wmshopapi/searchTradeInfoListProc";
/// Single-order search path.
pub const SEARCH_ONE_PATH: &str = "/wmshopapi/searchTradeInfoProc";
/// Shipping-info update path.
pub const UPDATE_TRADE_INFO_PATH: &str = "/wmshopapi/updateTradeInfoProc";

/// Longest search range in days, both ends inclusive.
// unverified: the real maximum is unknown; one public client limits itself to 30 days.
pub const MAX_RANGE_DAYS: i64 = 30;
/// Largest `totalCount`.
// unverified: 1000 is the highest value seen working.
pub const MAX_TOTAL_COUNT: usize = 1000;
/// `totalCount` when omitted.
// unverified: 10 on the sibling item APIs.
pub const DEFAULT_TOTAL_COUNT: usize = 10;

/// All operations share the shop's one request a second (unverified, as the client's).
pub const SHARED_PER_SECOND: f64 = 1.0;
/// The shared bucket's burst: one more than the client's, so network jitter between a client
/// pacing itself at the limit and this bucket does not turn into refusals.
pub const SHARED_BURST: u32 = 2;

/// Per-operation limits enforced when throttling is on: (operation, requests/s, burst).
// unverified: no published limit; clients pace at ~1 request/second. The burst of 2 lets a
// client pacing at exactly 1/s through network jitter (the real server is not millisecond-exact).
pub const LIMITS: &[(&str, f64, u32)] = &[
    ("searchTradeInfoListProc", 1.0, 2),
    ("searchTradeInfoProc", 1.0, 2),
    ("updateTradeInfoProc", 1.0, 2),
    // unverified: no published limit for the stock functions either.
    (stock::UPDATE_STOCK, 1.0, 2),
    (stock::SEARCH_STOCKS, 1.0, 2),
];

/// First order number: seeded order `n` becomes `ORDER_ID_BASE + n` (9 digits, as observed).
const ORDER_ID_BASE: u64 = 352_700_000;

struct App {
    requests: Arc<AtomicU64>,
    book: Arc<OrderBook>,
    faults: Arc<FaultDice>,
    throttle: Throttle,
    /// The shop's stock ([`stock`]).
    shelf: Arc<Shelf>,
    /// The API key passed its expiry (about 90 days after issue): every call answers `0002`.
    key_expired: AtomicBool,
    /// Orders simulated buyers placed so far.
    buyers: AtomicUsize,
    /// The shop the seeded orders belong to.
    shop_id: String,
}

/// Starts the au PAY sandbox.
pub async fn start(config: SandboxConfig) -> std::io::Result<Started> {
    start_counted(config).await.map(|(started, _)| started)
}

/// Starts the au PAY sandbox and hands back a count of the requests it has received (benches).
pub async fn start_counted(config: SandboxConfig) -> std::io::Result<(Started, Arc<AtomicU64>)> {
    start_with_stock(config).await.map(|(started, room)| (started, room.app.requests.clone()))
}

/// Starts the au PAY sandbox and hands back its stock room (Wow!manager's 在庫 screens and its
/// buyers).
pub async fn start_with_stock(config: SandboxConfig) -> std::io::Result<(Started, Stockroom)> {
    let mut orders = seed_orders(Marketplace::Aupay, &config.seed);
    for (n, o) in orders.iter_mut().enumerate() {
        o.order_id = (ORDER_ID_BASE + n as u64).to_string();
    }
    let book = Arc::new(OrderBook::new(orders));
    let faults = Arc::new(FaultDice::new(config.faults.clone(), config.seed.seed));
    let throttle = match config.throttle {
        Some(scale) => Throttle::new(LIMITS, scale).with_shared(SHARED_PER_SECOND, SHARED_BURST, scale),
        None => Throttle::off(),
    };
    let requests = Arc::new(AtomicU64::new(0));
    let app = Arc::new(App {
        requests,
        book: book.clone(),
        faults: faults.clone(),
        throttle,
        // unverified: au PAY documents no delay before a stock write shows.
        shelf: Arc::new(Shelf::new(std::time::Duration::ZERO)),
        key_expired: AtomicBool::new(false),
        buyers: AtomicUsize::new(0),
        shop_id: config.seed.shop_id.clone(),
    });
    let router = Router::new()
        .route(SEARCH_LIST_PATH, get(search_list))
        .route(SEARCH_ONE_PATH, get(search_one))
        .route(UPDATE_TRADE_INFO_PATH, post(update_trade_info))
        .route("/wmshopapi/updateStock", post(stock::update_stock))
        .route("/wmshopapi/searchStocks", get(stock::search_stocks))
        .with_state(app.clone());
    let running = serve(router, config.port).await?;
    let started = Started {
        running,
        credentials: vec![("shopId", SHOP_ID.to_string()), ("apiKey", API_KEY.to_string())],
        book,
        faults,
        shelf: Arc::clone(&app.shelf),
    };
    let room = Stockroom { app };
    // The items the seeded orders sell (their itemCode), each without options (通常在庫), with a
    // hand-kept number.
    for (sku, _, _) in crate::listed_items(&config.seed) {
        room.list_item(sku, crate::HAND_KEPT);
    }
    Ok((started, room))
}

/// Wow!manager's stock screens and the market's buyers, on a running au PAY sandbox.
#[derive(Clone)]
pub struct Stockroom {
    app: Arc<App>,
}

impl std::fmt::Debug for Stockroom {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stockroom").finish_non_exhaustive()
    }
}

impl Stockroom {
    /// Registers an item without options (通常在庫) with `units`.
    pub fn list_item(&self, item_code: &str, units: i64) {
        self.app.shelf.list(&stock::key(item_code, None), units, false);
    }

    /// Registers one option SKU (項目選択肢別在庫) of an item with `units`.
    pub fn list_option(&self, item_code: &str, horizontal: &str, vertical: &str, units: i64) {
        self.app.shelf.list(&stock::key(item_code, Some((horizontal, vertical))), units, false);
    }

    /// Staff change a number in Wow!manager: shows at once. `key` is `itemCode` or
    /// `itemCode:h:v`. False for an unknown key.
    pub fn edit_stock(&self, key: &str, units: i64) -> bool {
        self.app.shelf.edit(key, units)
    }

    /// What the item page shows now (`None`: no such item).
    pub fn stock(&self, key: &str) -> Option<i64> {
        self.app.shelf.shown(key)
    }

    /// The shop's stock, for its delay and call counts.
    pub fn shelf(&self) -> &Shelf {
        &self.app.shelf
    }

    /// The API key passes its expiry date: every call answers HTTP 401 `0002`.
    pub fn expire_api_key(&self) {
        self.app.key_expired.store(true, Ordering::SeqCst);
    }

    /// A simulated buyer orders `lines` (item code of an item without options, units) now at
    /// ¥1,000 a unit: placed only if the page shows enough of every line; `None`: sold out.
    pub fn buy(&self, lines: &[(&str, u32)]) -> Option<String> {
        let app = &self.app;
        let n = app.buyers.fetch_add(1, Ordering::SeqCst);
        let items: Vec<(String, u32, i64)> = lines.iter().map(|(c, q)| ((*c).to_owned(), *q, 1_000)).collect();
        let mut o = buyer_order(Marketplace::Aupay, &app.shop_id, n, &items);
        o.order_id = (ORDER_ID_BASE + 900_000 + n as u64).to_string();
        let taken: Vec<(String, i64)> = lines.iter().map(|(c, q)| ((*c).to_owned(), i64::from(*q))).collect();
        if !app.shelf.sell(&o.order_id, &taken) {
            return None;
        }
        let id = o.order_id.clone();
        app.book.insert(o);
        Some(id)
    }

    /// The order is cancelled in Wow!manager; the units do not come back (unverified choice).
    pub fn cancel(&self, order_id: &str) -> Option<Order> {
        let done = cancel(&self.app.book, order_id);
        if done.is_some() {
            self.app.shelf.cancel(order_id, Restock::Never);
        }
        done
    }
}

/// A back-office change of an order, if `allowed` by its current state; `None`: no such order, or
/// the change does not apply. (The book's own update time moves, but this API never shows it.)
fn back_office(
    book: &OrderBook,
    order_id: &str,
    allowed: impl FnOnce(&Order) -> bool,
    change: impl FnOnce(&mut Order),
) -> Option<Order> {
    book.get(order_id).filter(|o| allowed(o))?;
    book.update(order_id, change)
}

/// Wow!manager: payment of a prepaid order arrives, 発送前入金待ち → 発送待ち. `paymentStatus`
/// stays `N` (it turns `Y` only after shipping, fact sheet §6.1).
pub fn confirm_payment(book: &OrderBook, order_id: &str) -> Option<Order> {
    back_office(book, order_id, |o| o.status == OrderStatus::AwaitingPayment, |o| o.status = OrderStatus::ReadyToShip)
}

/// Wow!manager: the shop confirms a new order, 新規受付 → 発送待ち (fact sheet §8.2).
pub fn mark_ready_to_ship(book: &OrderBook, order_id: &str) -> Option<Order> {
    back_office(book, order_id, |o| o.status == OrderStatus::New, |o| o.status = OrderStatus::ReadyToShip)
}

/// Wow!manager: the shop registers shipping (date, carrier, number) on an open order and
/// completes it: `shipStatus` Y, 完了.
pub fn ship(book: &OrderBook, order_id: &str, tracking: Tracking) -> Option<Order> {
    back_office(
        book,
        order_id,
        |o| o.status.is_open(),
        |o| {
            o.status = OrderStatus::Shipped;
            o.tracking = vec![tracking];
        },
    )
}

/// Wow!manager: the order is cancelled, キャンセル with `cancelStatus` C.
pub fn cancel(book: &OrderBook, order_id: &str) -> Option<Order> {
    back_office(book, order_id, |o| o.status.is_open(), |o| o.status = OrderStatus::Cancelled)
}

/// An XML response with the API's content type.
fn xml(status: StatusCode, body: String) -> Response {
    (status, [(header::CONTENT_TYPE, "application/xml; charset=UTF-8")], body).into_response()
}

/// The API's error envelope.
fn error_body(code: &str, message: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<response>\n  <result>\n    <status>1</status>\n    \
         <error>\n      <code>{}</code>\n      <message>{}</message>\n    </error>\n  </result>\n</response>\n",
        esc(code),
        esc(message)
    )
}

fn error(status: StatusCode, code: &str, message: &str) -> Response {
    xml(status, error_body(code, message))
}

/// Parameter error (`CME0022`, HTTP 400).
// unverified: the HTTP status of parameter errors, and that missing fields use the same code.
fn param_error(message: &str) -> Response {
    error(StatusCode::BAD_REQUEST, "CME0022", message)
}

/// What every call goes through before its own work: throttle, faults, credentials. `Err` is the
/// answer to send; `Ok(malformed)` says whether to truncate the answer.
async fn gate(app: &App, operation: &str, headers: &HeaderMap) -> Result<bool, Response> {
    app.requests.fetch_add(1, Ordering::Relaxed);
    if !app.throttle.admit(operation) {
        // unverified: the API documents no throttle answer; 429 + Retry-After + an error envelope.
        let mut r = error(StatusCode::TOO_MANY_REQUESTS, "0429", "リクエスト数が上限を超えました");
        r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        return Err(r);
    }
    let (latency, fault) = app.faults.roll();
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let malformed = match fault {
        Fault::None => false,
        // unverified: the body of the API's 5xx answers.
        Fault::ServerError => {
            return Err(error(StatusCode::SERVICE_UNAVAILABLE, "9999", "システムエラーが発生しました"));
        }
        Fault::Hang(d) => {
            tokio::time::sleep(d).await;
            false
        }
        Fault::Malformed => true,
    };
    let expected = format!("Bearer {API_KEY}");
    if app.key_expired.load(Ordering::SeqCst) {
        return Err(error(StatusCode::UNAUTHORIZED, "0002", "認証に失敗しました"));
    }
    let ok = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).is_some_and(|v| v == expected);
    if !ok {
        return Err(error(StatusCode::UNAUTHORIZED, "0002", "認証に失敗しました"));
    }
    Ok(malformed)
}

/// The answer, cut in half when the dice said so.
fn finish(malformed: bool, body: String) -> Response {
    if malformed { xml(StatusCode::OK, faults::truncate(&body)) } else { xml(StatusCode::OK, body) }
}

/// Checks `shopId` (required, must be this shop); `Err` is the parameter error message.
fn check_shop(shop: Option<&str>) -> Result<(), &'static str> {
    match shop.map(str::trim) {
        None | Some("") => Err("[shopId]必須入力項目です"),
        Some(SHOP_ID) => Ok(()),
        Some(_) => Err("[shopId]が不正です"),
    }
}

/// `YYYYMMDD` or `YYYY-MM-DD`.
fn param_date(s: &str) -> Option<NaiveDate> {
    let s = s.trim();
    NaiveDate::parse_from_str(s, "%Y%m%d").or_else(|_| NaiveDate::parse_from_str(s, "%Y-%m-%d")).ok()
}

/// A numeric parameter; `Err` is the parameter error message.
fn count(q: &HashMap<String, String>, name: &str, default: usize) -> Result<usize, String> {
    match q.get(name).map(|s| s.trim()) {
        None | Some("") => Ok(default),
        Some(s) => s.parse::<usize>().map_err(|_| format!("[{name}]は数値で指定してください")),
    }
}

async fn search_list(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    query: Result<Query<HashMap<String, String>>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let malformed = match gate(&app, "searchTradeInfoListProc", &headers).await {
        Ok(m) => m,
        Err(r) => return r,
    };
    let Ok(Query(q)) = query else { return param_error("パラメータが不正です") };
    if let Err(m) = check_shop(q.get("shopId").map(String::as_str)) {
        return param_error(m);
    }
    let Some(start) = q.get("startDate").and_then(|s| param_date(s)) else {
        return param_error("[startDate]の形式が不正です");
    };
    let Some(end) = q.get("endDate").and_then(|s| param_date(s)) else {
        return param_error("[endDate]の形式が不正です");
    };
    if end < start {
        return param_error("[endDate]は[startDate]以降の日付を指定してください");
    }
    if (end - start).num_days() + 1 > MAX_RANGE_DAYS {
        return param_error("検索期間は30日以内で指定してください");
    }
    match q.get("dateType").map(|s| s.trim()) {
        None | Some("") | Some("0") => {}
        // unverified: other date types exist (shipping date ...); this sandbox has only order dates.
        Some(_) => return param_error("[dateType]が不正です"),
    }
    let total = match count(&q, "totalCount", DEFAULT_TOTAL_COUNT) {
        Ok(n) if (1..=MAX_TOTAL_COUNT).contains(&n) => n,
        Ok(_) => return param_error("[totalCount]は1から1000の範囲で指定してください"),
        Err(m) => return param_error(&m),
    };
    let first = match count(&q, "startCount", 1) {
        Ok(n) if n >= 1 => n,
        Ok(_) => return param_error("[startCount]は1以上で指定してください"),
        Err(m) => return param_error(&m),
    };
    let (Some(from), Some(to)) = (day_start(start), day_start(end + Days::days(1))) else {
        return param_error("[startDate]の形式が不正です");
    };
    let hits = app.book.search(TimeField::Ordered, from, to - Days::nanoseconds(1));
    let page: Vec<&Order> = hits.iter().skip(first - 1).take(total).collect();
    finish(malformed, render_with(&page, &|o| app.faults.corrupts(&o.order_id)))
}

async fn search_one(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    query: Result<Query<HashMap<String, String>>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let malformed = match gate(&app, "searchTradeInfoProc", &headers).await {
        Ok(m) => m,
        Err(r) => return r,
    };
    let Ok(Query(q)) = query else { return param_error("パラメータが不正です") };
    if let Err(m) = check_shop(q.get("shopId").map(String::as_str)) {
        return param_error(m);
    }
    let Some(id) = q.get("orderId").map(|s| s.trim()).filter(|s| !s.is_empty()) else {
        return param_error("[orderId]必須入力項目です");
    };
    let order = app.book.get(id);
    let page: Vec<&Order> = order.iter().collect();
    finish(malformed, render_with(&page, &|o| app.faults.corrupts(&o.order_id)))
}

async fn update_trade_info(State(app): State<Arc<App>>, headers: HeaderMap, body: String) -> Response {
    let malformed = match gate(&app, "updateTradeInfoProc", &headers).await {
        Ok(m) => m,
        Err(r) => return r,
    };
    let xml_ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().starts_with("application/xml"));
    if !xml_ct {
        return param_error("Content-Typeが不正です");
    }
    let Some(fields) = request_fields(&body) else { return param_error("リクエストXMLの形式が不正です") };
    let field = |name: &str| fields.get(name).map(|s| s.trim()).filter(|s| !s.is_empty());
    if let Err(m) = check_shop(field("shopId")) {
        return param_error(m);
    }
    for required in ["orderId", "shippingDate", "shippingCarrier", "shippingNumber"] {
        if field(required).is_none() {
            return param_error(&format!("[{required}]必須入力項目です"));
        }
    }
    let (Some(id), Some(date), Some(carrier), Some(number)) =
        (field("orderId"), field("shippingDate"), field("shippingCarrier"), field("shippingNumber"))
    else {
        return param_error("リクエストXMLの形式が不正です");
    };
    let Some(shipped) = NaiveDate::parse_from_str(date, "%Y/%m/%d")
        .or_else(|_| NaiveDate::parse_from_str(date, "%Y-%m-%d"))
        .ok()
        .and_then(day_start)
    else {
        return param_error("[shippingDate]の形式が不正です");
    };
    let Some(carrier) = carrier_of(carrier) else { return param_error("[shippingCarrier]が不正です") };
    if number.len() > 64 || !number.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return param_error("[shippingNumber]の形式が不正です");
    }
    let number = number.to_string();
    let updated = app.book.update(id, |o| {
        o.status = OrderStatus::Shipped;
        o.tracking = vec![Tracking { carrier, number, shipped_at: Some(shipped), shipment_id: None }];
    });
    if updated.is_none() {
        return param_error("[orderId]該当する受注が存在しません");
    }
    finish(
        malformed,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<response>\n  <result><status>0</status></result>\n</response>\n"
            .into(),
    )
}

/// Text of the direct children of a `<request>` root; elements nested deeper are not fields.
fn request_fields(body: &str) -> Option<HashMap<String, String>> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(body);
    let mut depth = 0usize;
    let mut current: Option<String> = None;
    let mut fields = HashMap::new();
    let mut saw_root = false;
    loop {
        match reader.read_event().ok()? {
            Event::Start(e) => {
                depth += 1;
                let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                if depth == 1 {
                    if name != "request" {
                        return None;
                    }
                    saw_root = true;
                } else if depth == 2 {
                    current = Some(name);
                } else {
                    current = None;
                }
            }
            Event::Empty(e) if depth == 1 => {
                fields.insert(String::from_utf8_lossy(e.local_name().as_ref()).into_owned(), String::new());
            }
            Event::Text(t) => {
                if let (2, Some(name)) = (depth, &current) {
                    let text = t.xml_content().ok()?;
                    fields.entry(name.clone()).or_insert_with(String::new).push_str(&text);
                }
            }
            Event::GeneralRef(r) => {
                if let (2, Some(name)) = (depth, &current) {
                    let c = match &*r {
                        b"amp" => '&',
                        b"lt" => '<',
                        b"gt" => '>',
                        b"quot" => '"',
                        b"apos" => '\'',
                        _ => r.resolve_char_ref().ok()??,
                    };
                    fields.entry(name.clone()).or_insert_with(String::new).push(c);
                }
            }
            Event::End(_) => {
                if depth == 2 {
                    if let Some(name) = current.take() {
                        fields.entry(name).or_insert_with(String::new);
                    }
                }
                depth = depth.checked_sub(1)?;
            }
            Event::Eof => break,
            _ => {}
        }
    }
    saw_root.then_some(fields)
}

/// The sandbox's own carrier code table (sheet §7).
fn carrier_of(code: &str) -> Option<Carrier> {
    match code {
        "1" => Some(Carrier::Yamato),
        "2" => Some(Carrier::Sagawa),
        "6" => Some(Carrier::Japanpost),
        // unverified: carriers of 4, 5, 7, 9.
        "4" | "5" | "7" | "9" => Some(Carrier::Other),
        _ => None,
    }
}

fn carrier_code(c: Carrier) -> &'static str {
    match c {
        Carrier::Yamato => "1",
        Carrier::Sagawa => "2",
        Carrier::Japanpost => "6",
        Carrier::Other => "9",
    }
}

/// 00:00 JST of `d`.
fn day_start(d: NaiveDate) -> Option<DateTime<FixedOffset>> {
    d.and_time(NaiveTime::MIN).and_local_timezone(jst()).single()
}

/// XML text escaping.
fn esc(s: &str) -> String {
    quick_xml::escape::escape(s).into_owned()
}

/// A success envelope holding `orders`.
pub fn render_response(orders: &[&Order]) -> String {
    render_with(orders, &|_| false)
}

/// A success envelope holding `orders`, those `corrupt` picks broken (Faults::corrupt_orders):
/// their `requestPrice` is more than their `totalPrice`, so the totals cannot add up.
fn render_with(orders: &[&Order], corrupt: &dyn Fn(&Order) -> bool) -> String {
    let mut out = String::with_capacity(256 + orders.len() * 3000);
    out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<response>\n  <result><status>0</status></result>\n");
    out.push_str(&format!("  <resultCount>{}</resultCount>\n", orders.len()));
    for o in orders {
        render_order(&mut out, o, corrupt(o));
    }
    out.push_str("</response>\n");
    out
}

fn status_name(s: OrderStatus) -> &'static str {
    match s {
        OrderStatus::New => "新規受付",
        OrderStatus::AwaitingPayment => "発送前入金待ち",
        OrderStatus::ReadyToShip => "発送待ち",
        OrderStatus::Shipped => "完了",
        OrderStatus::Cancelled => "キャンセル",
        OrderStatus::OnHold => "保留",
    }
}

fn settlement_name(p: PaymentMethod) -> &'static str {
    match p {
        PaymentMethod::CreditCard => "クレジットカード決済",
        PaymentMethod::MarketplacePay => "au PAY（auかんたん決済）",
        // unverified: exact spelling of the next four names.
        PaymentMethod::Cod => "代金引換",
        PaymentMethod::BankTransfer => "銀行ネット決済",
        PaymentMethod::ConvenienceStore => "コンビニ決済",
        PaymentMethod::Deferred => "後払い決済",
        PaymentMethod::Other => "ポイント全額支払い",
    }
}

fn delivery_name(d: DeliveryMethod) -> &'static str {
    match d {
        DeliveryMethod::Standard => "宅配便",
        DeliveryMethod::MailBin => "メール便",
        DeliveryMethod::Cool => "クール便（冷蔵）",
        DeliveryMethod::Frozen => "クール便（冷凍）",
        DeliveryMethod::Pickup => "店頭受取",
        DeliveryMethod::Other => "その他",
    }
}

fn el(out: &mut String, indent: &str, name: &str, value: &str) {
    out.push_str(indent);
    out.push('<');
    out.push_str(name);
    out.push('>');
    out.push_str(&esc(value));
    out.push_str("</");
    out.push_str(name);
    out.push_str(">\n");
}

/// One `<orderInfo>` in the API's element names and formats.
fn render_order(out: &mut String, o: &Order, corrupt: bool) {
    let i = "    ";
    let at = o.ordered_at.with_timezone(&jst());
    let a = &o.ship_to;
    let address = format!("{}{}{}{}", a.prefecture, a.city, a.address1, a.address2);
    let shipped = o.status == OrderStatus::Shipped;
    out.push_str("  <orderInfo>\n");
    el(out, i, "orderId", &o.order_id);
    el(out, i, "orderDate", &at.format("%Y/%m/%d %H:%M").to_string());
    el(out, i, "orderStatus", status_name(o.status));
    el(out, i, "sellMethodSegment", "1");
    el(out, i, "siteAndDevice", "au PAY マーケット(SP(アプリ))");
    el(out, i, "crossBorderEcTradeKbn", "");
    el(out, i, "mailAddress", o.buyer.email.as_deref().unwrap_or_default());
    el(out, i, "ordererName", &o.buyer.name);
    el(out, i, "ordererKana", o.buyer.name_kana.as_deref().unwrap_or_default());
    // The canonical buyer has no address of their own: the orderer's is the destination's.
    el(out, i, "ordererZipCode", &a.postal_code);
    el(out, i, "ordererAddress", &address);
    el(out, i, "ordererPhoneNumber1", o.buyer.phone.as_deref().unwrap_or_default());
    el(out, i, "ordererPhoneNumber2", "");
    el(out, i, "senderName", &a.name);
    el(out, i, "senderKana", "");
    el(out, i, "senderZipCode", &a.postal_code);
    el(out, i, "senderAddress", &address);
    el(out, i, "senderPhoneNumber1", a.phone.as_deref().unwrap_or_default());
    el(out, i, "senderPhoneNumber2", "");
    el(out, i, "orderOption", "");
    el(out, i, "userComment", &o.remarks);
    el(out, i, "tradeRemarks", "");
    el(out, i, "memo", "");
    el(out, i, "settlementName", settlement_name(o.payment_method));
    el(out, i, "paymentStatus", if shipped { "Y" } else { "N" });
    el(out, i, "shipStatus", if shipped { "Y" } else { "N" });
    el(out, i, "cancelStatus", if o.status == OrderStatus::Cancelled { "C" } else { "N" });
    el(out, i, "contactStatus", "N");
    el(out, i, "deliveryName", delivery_name(o.delivery.method));
    el(out, i, "deliveryMethodId", "1");
    match o.tracking.first() {
        Some(t) => {
            let date = t.shipped_at.map(|d| d.with_timezone(&jst()).format("%Y/%m/%d").to_string());
            el(out, i, "shippingDate", date.as_deref().unwrap_or_default());
            el(out, i, "shippingCarrier", carrier_code(t.carrier));
            el(out, i, "shippingNumber", &t.number);
        }
        None => {
            el(out, i, "shippingDate", "");
            el(out, i, "shippingCarrier", "");
            el(out, i, "shippingNumber", "");
        }
    }
    let t = &o.totals;
    let units: u32 = o.items.iter().map(|it| it.quantity).sum();
    el(out, i, "totalSalePrice", &t.goods.to_string());
    el(out, i, "totalSaleUnit", &units.to_string());
    el(out, i, "postagePrice", &t.shipping.to_string());
    el(out, i, "postagePriceTaxRate", "10%");
    el(out, i, "chargePrice", &t.fee.to_string());
    el(out, i, "chargePriceTaxRate", "10%");
    el(out, i, "totalItemOptionPrice", "0");
    el(out, i, "totalGiftWrappingPrice", "0");
    el(out, i, "totalPrice", &(t.goods + t.shipping + t.fee).to_string());
    el(out, i, "couponTotalPrice", &(t.discount - t.points).to_string());
    el(out, i, "usePoint", &t.points.to_string());
    el(out, i, "useAuPointPrice", "0");
    el(out, i, "useAuPoint", "0");
    let request = if corrupt { t.goods + t.shipping + t.fee + 1000 } else { t.total };
    el(out, i, "requestPrice", &request.to_string());
    let limit = (at + Days::days(3)).format("%Y/%m/%d").to_string();
    for (n, it) in o.items.iter().enumerate() {
        let d = "      ";
        out.push_str("    <detail>\n");
        el(out, d, "orderDetailId", &(n + 1).to_string());
        el(out, d, "itemCode", &it.sku);
        el(out, d, "itemManagementId", &it.sku);
        el(out, d, "lotnumber", &(300_000_000 + n).to_string());
        el(out, d, "itemName", &it.name);
        let options: Vec<String> = it.options.iter().map(|op| format!("{}={}", op.name, op.value)).collect();
        el(out, d, "itemOption", &options.join("\n"));
        el(out, d, "itemOptionPrice", "0");
        el(out, d, "giftWrappingPrice", "0");
        // The canonical order has only a gift flag: it travels as a wrapping type on line 1.
        el(out, d, "giftWrappingType", if o.gift && n == 0 { "ギフト包装" } else { "" });
        el(out, d, "itemCancelStatus", if o.status == OrderStatus::Cancelled { "C" } else { "N" });
        el(out, d, "beforeDiscount", &it.unit_price.to_string());
        el(out, d, "discount", "0");
        el(out, d, "itemPrice", &it.unit_price.to_string());
        el(out, d, "unit", &it.quantity.to_string());
        el(out, d, "totalItemPrice", &(it.unit_price * i64::from(it.quantity)).to_string());
        el(out, d, "taxType", "1");
        el(out, d, "taxRate", "10%");
        el(out, d, "reducedTax", "0");
        el(out, d, "shippingDayDispText", "3日以内に発送");
        el(out, d, "shippingTimelimitDate", &limit);
        out.push_str("    </detail>\n");
    }
    out.push_str("  </orderInfo>\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_fields_are_direct_children_only() {
        let f = request_fields("<?xml version=\"1.0\"?><request><orderId>1</orderId><shippingNumber>A&amp;&#66;</shippingNumber></request>")
            .unwrap();
        assert_eq!(f.get("orderId").map(String::as_str), Some("1"));
        assert_eq!(f.get("shippingNumber").map(String::as_str), Some("A&B"));
        let wrapped =
            request_fields("<request><updateTradeInfo><orderId>1</orderId></updateTradeInfo></request>").unwrap();
        assert!(!wrapped.contains_key("orderId"));
        assert!(request_fields("<other><orderId>1</orderId></other>").is_none());
        assert!(request_fields("<request><orderId>1</order").is_none());
    }
}
