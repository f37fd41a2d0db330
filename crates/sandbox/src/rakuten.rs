//! 楽天 RMS RakutenPayOrderAPI sandbox: `searchOrder`, `getOrder`, `updateOrderShipping`, `confirmOrder` under
//! `POST /es/2.0/order/<name>/` (trailing slash optional), JSON in and out.
//!
//! - Auth: `Authorization: ESA base64(serviceSecret:licenseKey)`; anything else → HTTP 401
//!   `{"Results":{"errorCode":"ES01-01","message":"Un-Authorised"}}` (the gateway envelope).
//! - Content type: `application/json` (with or without `; charset=utf-8`, space or not) else HTTP
//!   415 `ES04-03` (unverified code, one public client).
//! - Rate limits (when `throttle` is set): 1 request/second, burst 1 per operation (unverified
//!   default); over it → HTTP 429 with the gateway envelope (the sheet only says 429/503).
//! - searchOrder rules: `dateType` required (`…_ERROR_009`), date-times strictly
//!   `YYYY-MM-DDThh:mm:ss+0900`, window ≤ 63 days, start within 730 days, page size 1…1000, page ≥ 1
//!   (all `…_ERROR_011`, HTTP 400); only the first 15,000 (configurable) matches are retrievable.
//! - searchOrder `dateType` (fact sheet §4.4): 1 `orderDatetime`, 2 `shopOrderCfmDatetime`
//!   (注文確認日), 3 `orderFixDatetime` (注文確定日), 4 the `shippingDate` of a shipment row (発送日),
//!   5 `shippingCmplRptDatetime` (発送完了報告日), 6 決済確定日 (kept by the sandbox, not in the
//!   OrderModel, as on Rakuten). No date type covers a cancellation.
//! - getOrder answers each requested number it cannot return (unknown, or switched off with
//!   [`BackOffice::leave_out`]) with an `INFO` message `ORDER_EXT_API_GET_ORDER_INFO_102`
//!   carrying the `orderNumber`, and no `OrderModel` (fact sheet §5).
//! - confirmOrder (fact sheet §8.4, §10): `orderNumberList` of 1…100 numbers (else HTTP 400
//!   `…_CONFIRM_ORDER_ERROR_011`); one message per order: an order at 100 is confirmed (→ 200
//!   楽天処理中, `shopOrderCfmDatetime` stamped) with `INFO` `ORDER_EXT_API_CONFIRM_ORDER_INFO_101`
//!   `注文確認に成功しました。`; an order not at 100, or unknown, gets an `ERROR` message naming it
//!   (codes unverified: the sheet says only that confirmOrder is meaningful at 100 and that one
//!   call can succeed for some orders and fail for others), HTTP 200. Calls per order are counted
//!   ([`BackOffice::confirm_calls`]).
//! - Back office ([`BackOffice`]): 注文確認, 注文確定, 決済確定, 発送 and cancellation, each moving
//!   exactly the date Rakuten moves (none for a cancellation).
//! - Faults: ServerError → HTTP 500 with a MessageModelList `ERROR`; Hang → sleep then answer;
//!   Malformed → the body cut in half; a corrupt order's `OrdererModel.familyName` carries a
//!   control character (U+0007).
//!
//! Orders are rendered here from the canonical seed, independently of the client's wire structs.
//! The book holds each order as Rakuten can carry it (ids renamed to `<shop>-<YYYYMMDD>-<serial>`,
//! buyer addresses masked as 楽天あんしんメルアドサービス masks them (`<hash>s1@pc.fw.rakuten.ne.jp`),
//! basketIds on destinations, Rakuten's codes in the `source_*` fields, postal codes as digits,
//! one address line, no update time for unconfirmed orders, ship dates at midnight). Rakuten has
//! no "last updated" time: the rendered times are the per-order [`Dates`] below, and the book's
//! `source_updated_at` is only the seed's (a back-office change moves it, Rakuten shows the dates).

pub mod stock;

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicI64, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::Query;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::{DateTime, Duration, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use ichigen_core::{Carrier, DeliveryMethod, Marketplace, Order, OrderStatus, PaymentMethod};
use serde_json::{Value, json};

use crate::book::jst;
use crate::{
    Fault, FaultDice, OrderBook, Restock, SandboxConfig, Shelf, Started, Throttle, buyer_order, faults, seed_orders,
    serve,
};

/// All operations share the license's one request a second (unverified, as the client's).
pub const SHARED_PER_SECOND: f64 = 1.0;
/// The shared bucket's burst: one more than the client's, so network jitter between a client
/// pacing itself at the limit and this bucket does not turn into refusals.
pub const SHARED_BURST: u32 = 2;

/// How long a licenseKey lasts from its issue (fact sheet §3: 90 days).
pub const LICENSE_DAYS: i64 = 90;
/// LicenseManagementAPI `license.expiryDate.get` (fact sheet §3).
const LICENSE_EXPIRY_PATH: &str = "/es/1.0/license-management/license-key/expiry-date";

/// serviceSecret the sandbox accepts.
pub const SERVICE_SECRET: &str = "SP391234_sandbox-service-secret";
/// licenseKey the sandbox accepts.
pub const LICENSE_KEY: &str = "SL391234_sandbox-license-key";
/// Shop number in the order numbers.
pub const SHOP_NUMBER: &str = "391234";
/// `(operation, requests per second, burst)` the sandbox enforces.
// unverified: Rakuten publishes no number; 1 request/second is what public clients use.
pub const LIMITS: [(&str, f64, u32); 4] =
    [("searchOrder", 1.0, 1), ("getOrder", 1.0, 1), ("updateOrderShipping", 1.0, 1), ("confirmOrder", 1.0, 1)];
/// Matches a search can return at most.
pub const RESULT_CAP: usize = 15_000;

const SEARCH_INFO: &str = "ORDER_EXT_API_SEARCH_ORDER_INFO_101";
const SEARCH_NONE: &str = "ORDER_EXT_API_SEARCH_ORDER_INFO_102";
const SEARCH_NO_DATE_TYPE: &str = "ORDER_EXT_API_SEARCH_ORDER_ERROR_009";
const SEARCH_FORMAT: &str = "ORDER_EXT_API_SEARCH_ORDER_ERROR_011";
const GET_INFO: &str = "ORDER_EXT_API_GET_ORDER_INFO_101";
/// getOrder "order could not be retrieved", one per number (official on PurchaseItemAPI getOrderItem).
// unverified: that getOrder itself answers a left-out order this way (fact sheet §5).
const GET_NOT_RETURNED: &str = "ORDER_EXT_API_GET_ORDER_INFO_102";
// unverified: the real codes of these getOrder refusals are behind the RMS login.
const GET_BAD_REQUEST: &str = "ORDER_EXT_API_GET_ORDER_ERROR_001";
const SHIP_ADDED: &str = "ORDER_EXT_API_UPDATE_ORDERSHIPPING_INFO_101";
const SHIP_FORMAT: &str = "ORDER_EXT_API_UPDATE_ORDERSHIPPING_ERROR_011";
const CONFIRM_INFO: &str = "ORDER_EXT_API_CONFIRM_ORDER_INFO_101";
// unverified: the real codes of these confirmOrder refusals are behind the RMS login.
const CONFIRM_FORMAT: &str = "ORDER_EXT_API_CONFIRM_ORDER_ERROR_011";
const CONFIRM_NOT_AT_100: &str = "ORDER_EXT_API_CONFIRM_ORDER_ERROR_002";
const CONFIRM_UNKNOWN: &str = "ORDER_EXT_API_CONFIRM_ORDER_ERROR_001";

/// Whether searchOrder `dateType` 4 (発送日) matches an order when the whole day of one of its
/// shipment rows' `shippingDate` overlaps the window (a date has no time of day).
// unverified: the sheet says 発送日 is "probably ShippingModelList[].shippingDate"; how a date
// meets a date-time window is not published.
const SHIP_DATE_SPANS_ITS_DAY: bool = true;

/// Carrier codes the sandbox accepts in `deliveryCompany` (a subset of RMS's table).
const CARRIERS: [(&str, Carrier); 6] = [
    ("1000", Carrier::Other),
    ("1001", Carrier::Yamato),
    ("1002", Carrier::Sagawa),
    ("1003", Carrier::Japanpost),
    ("1029", Carrier::Japanpost),
    ("1030", Carrier::Yamato),
];

/// Requests received per operation and how many were refused by the rate limit, process-wide
/// (every Rakuten sandbox of the process adds to them; benches run one).
static RECEIVED: [AtomicU64; 4] = [AtomicU64::new(0), AtomicU64::new(0), AtomicU64::new(0), AtomicU64::new(0)];
static THROTTLED: [AtomicU64; 4] = [AtomicU64::new(0), AtomicU64::new(0), AtomicU64::new(0), AtomicU64::new(0)];

/// Requests one operation received since the process started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestCount {
    /// `searchOrder`, `getOrder`, `updateOrderShipping` or `confirmOrder`.
    pub operation: &'static str,
    /// Requests received (any answer).
    pub received: u64,
    /// Of those, refused with the throttle answer.
    pub throttled: u64,
}

/// Requests per operation received by the Rakuten sandboxes of this process.
pub fn request_counts() -> Vec<RequestCount> {
    [Op::Search, Op::Get, Op::Ship, Op::Confirm]
        .into_iter()
        .map(|op| RequestCount {
            operation: op.name(),
            received: RECEIVED[op as usize].load(Ordering::Relaxed),
            throttled: THROTTLED[op as usize].load(Ordering::Relaxed),
        })
        .collect()
}

/// One registered shipment row.
#[derive(Debug, Clone)]
struct Row {
    basket_id: i64,
    detail_id: i64,
    company: String,
    number: String,
    date: NaiveDate,
}

/// The dates Rakuten stamps on an order as it moves (fact sheet §4.4, §6.1).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Dates {
    /// 注文確認日: `shopOrderCfmDatetime`, searchOrder `dateType` 2.
    pub confirmed: Option<DateTime<FixedOffset>>,
    /// 注文確定日: `orderFixDatetime`, `dateType` 3.
    pub fixed: Option<DateTime<FixedOffset>>,
    /// 決済確定日: `dateType` 6; the OrderModel has no field for it.
    pub settled: Option<DateTime<FixedOffset>>,
    /// 発送完了報告日: `shippingCmplRptDatetime`, `dateType` 5.
    pub reported: Option<DateTime<FixedOffset>>,
}

struct Sandbox {
    book: Arc<OrderBook>,
    faults: Arc<FaultDice>,
    throttle: Throttle,
    authorization: String,
    result_cap: usize,
    rows: Mutex<HashMap<String, Vec<Row>>>,
    dates: Mutex<HashMap<String, Dates>>,
    /// Orders getOrder leaves out (answers with INFO_102) while listed.
    left_out: Mutex<HashSet<String>>,
    /// confirmOrder calls that named each order, whatever the answer.
    confirm_calls: Mutex<HashMap<String, usize>>,
    next_row: AtomicI64,
    /// The licenseKey's last valid day (JST): after it every call is refused.
    license_last_day: Mutex<NaiveDate>,
    /// The mall's own stock (InventoryAPI, [`stock`]).
    shelf: Arc<Shelf>,
    /// Orders simulated buyers placed so far.
    buyers: AtomicUsize,
    /// The shop the seeded orders belong to.
    shop_id: String,
}

/// Starts the Rakuten sandbox with the real 15,000-result cap.
pub async fn start(config: SandboxConfig) -> std::io::Result<Started> {
    start_with_result_cap(config, RESULT_CAP).await
}

/// Starts the sandbox with a smaller result cap, so tests can make the client split windows.
pub async fn start_with_result_cap(config: SandboxConfig, result_cap: usize) -> std::io::Result<Started> {
    start_with_back_office(config, result_cap).await.map(|(started, _)| started)
}

/// Starts the sandbox and hands back its back office too, to change orders the way a shop in
/// RMS and Rakuten itself do.
pub async fn start_with_back_office(
    config: SandboxConfig,
    result_cap: usize,
) -> std::io::Result<(Started, BackOffice)> {
    let mut rows = HashMap::new();
    let mut dates = HashMap::new();
    let mut next_row = 700_001;
    let orders: Vec<Order> = seed_orders(Marketplace::Rakuten, &config.seed)
        .into_iter()
        .enumerate()
        .map(|(n, o)| rakutenize(o, n, &mut rows, &mut next_row))
        .collect();
    for o in &orders {
        dates.insert(o.order_id.clone(), seed_dates(o));
    }
    let book = Arc::new(OrderBook::new(orders));
    let faults = Arc::new(FaultDice::new(config.faults.clone(), config.seed.seed));
    let throttle = match config.throttle {
        Some(scale) => {
            let limits: Vec<_> = LIMITS.iter().chain(&stock::LIMITS).copied().collect();
            Throttle::new(&limits, scale).with_shared(SHARED_PER_SECOND, SHARED_BURST, scale)
        }
        None => Throttle::off(),
    };
    let state = Arc::new(Sandbox {
        book: book.clone(),
        faults: faults.clone(),
        throttle,
        authorization: format!("ESA {}", base64(format!("{SERVICE_SECRET}:{LICENSE_KEY}").as_bytes())),
        result_cap,
        rows: Mutex::new(rows),
        dates: Mutex::new(dates),
        left_out: Mutex::new(HashSet::new()),
        confirm_calls: Mutex::new(HashMap::new()),
        next_row: AtomicI64::new(next_row),
        // Issued when the sandbox starts, valid 90 days (fact sheet §3).
        license_last_day: Mutex::new(now_jst().date_naive() + Duration::days(LICENSE_DAYS)),
        // unverified: Rakuten documents no delay before a stock write shows.
        shelf: Arc::new(Shelf::new(std::time::Duration::ZERO)),
        buyers: AtomicUsize::new(0),
        shop_id: config.seed.shop_id.clone(),
    });
    let back_office = BackOffice { sandbox: state.clone() };
    // The items the seeded orders sell, listed with a hand-kept number; 在庫戻しフラグ on.
    for (sku, _, _) in crate::listed_items(&config.seed) {
        back_office.list_item(sku, crate::HAND_KEPT, true);
    }
    let mut router = Router::new();
    for (path, op) in [
        ("searchOrder", Op::Search),
        ("getOrder", Op::Get),
        ("updateOrderShipping", Op::Ship),
        ("confirmOrder", Op::Confirm),
    ] {
        let handler = move |State(st): State<Arc<Sandbox>>, headers: HeaderMap, body: String| async move {
            handle(&st, op, &headers, &body).await
        };
        router = router
            .route(&format!("/es/2.0/order/{path}/"), post(handler))
            .route(&format!("/es/2.0/order/{path}"), post(handler));
    }
    router = router.route(
        LICENSE_EXPIRY_PATH,
        get(|State(st): State<Arc<Sandbox>>, headers: HeaderMap, query: Query<HashMap<String, String>>| async move {
            license_expiry(&st, &headers, &query)
        }),
    );
    router = stock::routes(router);
    let running = serve(router.with_state(state), config.port).await?;
    let started = Started {
        running,
        credentials: vec![("serviceSecret", SERVICE_SECRET.to_owned()), ("licenseKey", LICENSE_KEY.to_owned())],
        book,
        faults,
        shelf: Arc::clone(&back_office.sandbox.shelf),
    };
    Ok((started, back_office))
}

/// What a shop does in RMS and what Rakuten does on its side, applied to the sandbox's orders.
/// Each change moves exactly the date Rakuten moves (see [`Dates`]); a cancellation moves none.
/// Each returns false (and changes nothing) for an unknown order or one not in the right state.
#[derive(Clone)]
pub struct BackOffice {
    sandbox: Arc<Sandbox>,
}

impl std::fmt::Debug for BackOffice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BackOffice").finish_non_exhaustive()
    }
}

/// Now, in JST, in whole seconds (Rakuten's times have no fraction).
fn now_jst() -> DateTime<FixedOffset> {
    let now = Utc::now().with_timezone(&jst());
    now - Duration::nanoseconds(i64::from(now.timestamp_subsec_nanos()))
}

impl BackOffice {
    /// Makes `last_day` the licenseKey's last valid day (a key issued earlier; after it, every
    /// call answers HTTP 401).
    pub fn set_license_last_day(&self, last_day: NaiveDate) {
        *self.sandbox.license_last_day.lock().unwrap_or_else(|e| e.into_inner()) = last_day;
    }

    /// 注文確認 (confirmOrder, or the button in RMS): 100 → 200 楽天処理中; stamps 注文確認日.
    pub fn confirm(&self, order_id: &str) -> bool {
        confirm(&self.sandbox, order_id)
    }

    /// How many confirmOrder calls named the order (whatever they answered).
    pub fn confirm_calls(&self, order_id: &str) -> usize {
        self.sandbox.confirm_calls.lock().ok().and_then(|c| c.get(order_id).copied()).unwrap_or(0)
    }

    /// The order's `orderProgress` now.
    pub fn order_progress(&self, order_id: &str) -> Option<i64> {
        self.sandbox.book.get(order_id).map(|o| progress(o.status))
    }

    /// 注文確定 by Rakuten once payment or authorisation is through: 200 → 300 発送待ち; stamps
    /// 注文確定日.
    pub fn fix(&self, order_id: &str) -> bool {
        change(
            &self.sandbox,
            order_id,
            |s| s == OrderStatus::AwaitingPayment,
            Some(OrderStatus::ReadyToShip),
            |d, now| {
                d.fixed = Some(now);
            },
        )
    }

    /// 決済確定: stamps 決済確定日 (searchable with `dateType` 6) and nothing the OrderModel shows:
    /// the sheet ties no status and no field to it.
    pub fn settle_payment(&self, order_id: &str) -> bool {
        change(&self.sandbox, order_id, |s| s != OrderStatus::Cancelled, None, |d, now| d.settled = Some(now))
    }

    /// 発送: the shop registers a parcel (carrier code, tracking number, ship date) on destination
    /// `basket_id` in RMS, which is the 発送完了報告: an open order goes to 500 and 発送完了報告日 is
    /// stamped (the first report only); the row's `shippingDate` is the 発送日.
    pub fn ship(&self, order_id: &str, basket_id: i64, carrier: Carrier, number: &str, date: NaiveDate) -> bool {
        let st = &self.sandbox;
        let Some(order) = st.book.get(order_id) else { return false };
        if order.status == OrderStatus::Cancelled || !baskets(&order).contains(&basket_id) {
            return false;
        }
        let row = Row {
            basket_id,
            detail_id: st.next_row.fetch_add(1, Ordering::SeqCst),
            company: company_code(carrier).to_owned(),
            number: number.to_owned(),
            date,
        };
        add_rows(st, order_id, vec![(carrier, row)]);
        true
    }

    /// Cancellation (cancelOrder and Rakuten's confirmation, or cancelOrderAfterShipping): → 900
    /// キャンセル確定. No date moves: Rakuten has no cancellation date type and the OrderModel no
    /// cancellation time. Stock comes back as each SKU's 在庫戻しフラグ says
    /// (`inventoryRestoreType` 0).
    pub fn cancel(&self, order_id: &str) -> bool {
        self.cancel_restocking(order_id, Restock::FollowItem)
    }

    /// Cancellation choosing, as RMS's cancel screen and cancelOrder's `inventoryRestoreType`
    /// do, whether the stock comes back (0 follow the SKU, 1 restore, 2 don't; inventory.md §1.6).
    pub fn cancel_restocking(&self, order_id: &str, restock: Restock) -> bool {
        let done =
            change(&self.sandbox, order_id, |s| s != OrderStatus::Cancelled, Some(OrderStatus::Cancelled), |_, _| {});
        if done {
            self.sandbox.shelf.cancel(order_id, restock);
        }
        done
    }

    /// Lists an item in the shop's catalogue with `units` in stock, as the sandbox's orders
    /// carry it: SKU管理番号 (`variantId`) `sku`, 商品管理番号 (`manageNumber`) `sku` in lower
    /// case. `restock_on_cancel` is its 在庫戻しフラグ.
    pub fn list_item(&self, sku: &str, units: i64, restock_on_cancel: bool) {
        self.sandbox.shelf.list(&stock::key(sku, sku), units, restock_on_cancel);
    }

    /// Staff change an item's stock in RMS's own screen: shows at once. False for an item the
    /// shop has not listed.
    pub fn edit_stock(&self, manage_number: &str, variant_id: &str, units: i64) -> bool {
        self.sandbox.shelf.edit(&stock::key(manage_number, variant_id), units)
    }

    /// What the storefront shows for an item now (`None`: not listed).
    pub fn stock(&self, manage_number: &str, variant_id: &str) -> Option<i64> {
        self.sandbox.shelf.shown(&stock::key(manage_number, variant_id))
    }

    /// The mall's stock, for its delay and its call counts.
    pub fn shelf(&self) -> &Shelf {
        &self.sandbox.shelf
    }

    /// A simulated buyer orders `lines` (SKU as listed with [`BackOffice::list_item`], units)
    /// now, at ¥1,000 a unit: placed (as 100 注文確認待ち, its stock taken) only if the storefront
    /// shows enough of every line; `None`: sold out, no order.
    pub fn buy(&self, lines: &[(&str, u32)]) -> Option<String> {
        let st = &self.sandbox;
        let n = st.buyers.fetch_add(1, Ordering::SeqCst);
        let items: Vec<(String, u32, i64)> = lines.iter().map(|(sku, q)| ((*sku).to_owned(), *q, 1_000)).collect();
        let mut next_row = st.next_row.load(Ordering::SeqCst);
        let mut rows = HashMap::new();
        let order = rakutenize(
            buyer_order(Marketplace::Rakuten, &st.shop_id, n, &items),
            900_000 + n,
            &mut rows,
            &mut next_row,
        );
        let id = order.order_id.clone();
        let taken: Vec<(String, i64)> = lines.iter().map(|(sku, q)| (stock::key(sku, sku), i64::from(*q))).collect();
        if !st.shelf.sell(&id, &taken) {
            return None;
        }
        if let Ok(mut dates) = st.dates.lock() {
            dates.insert(id.clone(), seed_dates(&order));
        }
        st.book.insert(order);
        Some(id)
    }

    /// Makes getOrder leave these orders out (INFO_102 instead of the order) until called again
    /// without them.
    pub fn leave_out(&self, order_ids: &[&str]) {
        if let Ok(mut left_out) = self.sandbox.left_out.lock() {
            *left_out = order_ids.iter().map(|id| (*id).to_owned()).collect();
        }
    }

    /// The dates an order carries now.
    pub fn dates(&self, order_id: &str) -> Option<Dates> {
        self.sandbox.dates.lock().ok()?.get(order_id).copied()
    }

    /// The basketIds of an order's destinations, in order.
    pub fn basket_ids(&self, order_id: &str) -> Vec<i64> {
        self.sandbox.book.get(order_id).map(|o| baskets(&o)).unwrap_or_default()
    }

    /// The shipment rows registered on an order, as `(basketId, tracking number)`.
    pub fn shipping_rows(&self, order_id: &str) -> Vec<(i64, String)> {
        let rows = self.sandbox.rows.lock().ok().and_then(|r| r.get(order_id).cloned()).unwrap_or_default();
        rows.into_iter().map(|r| (r.basket_id, r.number)).collect()
    }
}

/// Sets `status` when `allowed(current)`, and stamps the dates `stamp` moves; false (and nothing
/// changed) for an unknown order or one not in the right state.
fn change(
    st: &Sandbox,
    order_id: &str,
    allowed: impl Fn(OrderStatus) -> bool,
    status: Option<OrderStatus>,
    stamp: impl FnOnce(&mut Dates, DateTime<FixedOffset>),
) -> bool {
    if !st.book.get(order_id).is_some_and(|o| allowed(o.status)) {
        return false;
    }
    if let Some(status) = status {
        st.book.update(order_id, |o| {
            o.status = status;
            o.source_status = progress(status).to_string();
        });
    }
    if let Ok(mut dates) = st.dates.lock() {
        stamp(dates.entry(order_id.to_owned()).or_default(), now_jst());
    }
    true
}

/// 注文確認: 100 → 200 楽天処理中, stamping 注文確認日 (`shopOrderCfmDatetime`).
fn confirm(st: &Sandbox, order_id: &str) -> bool {
    change(
        st,
        order_id,
        |s| s == OrderStatus::New,
        Some(OrderStatus::AwaitingPayment),
        |d, now| {
            d.confirmed = Some(now);
        },
    )
}

fn baskets(o: &Order) -> Vec<i64> {
    (0..o.shipments.len().max(1)).map(|k| basket_id(&o.order_id, k)).collect()
}

/// Adds shipment rows as updateOrderShipping (or RMS) does: the 発送完了報告 of an open order moves
/// it to 500 and stamps 発送完了報告日.
fn add_rows(st: &Sandbox, order_number: &str, new_rows: Vec<(Carrier, Row)>) {
    let tracking: Vec<ichigen_core::Tracking> = new_rows
        .iter()
        .map(|(carrier, r)| ichigen_core::Tracking {
            carrier: *carrier,
            number: r.number.clone(),
            shipped_at: r.date.and_time(NaiveTime::MIN).and_local_timezone(jst()).single(),
            shipment_id: Some(r.basket_id.to_string()),
        })
        .collect();
    if let Ok(mut all) = st.rows.lock() {
        all.entry(order_number.to_owned()).or_default().extend(new_rows.into_iter().map(|(_, r)| r));
    }
    let mut reported = false;
    st.book.update(order_number, |o| {
        if o.status.is_open() {
            o.status = OrderStatus::Shipped;
            o.source_status = progress(OrderStatus::Shipped).to_string();
            reported = true;
        }
        // A parcel names its destination only on a multi-destination order (canonical contract).
        let multi = o.shipments.len() >= 2;
        o.tracking.extend(
            tracking.into_iter().map(|t| ichigen_core::Tracking { shipment_id: t.shipment_id.filter(|_| multi), ..t }),
        );
    });
    if reported {
        if let Ok(mut dates) = st.dates.lock() {
            dates.entry(order_number.to_owned()).or_default().reported = Some(now_jst());
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Search = 0,
    Get = 1,
    Ship = 2,
    Confirm = 3,
}

impl Op {
    fn name(self) -> &'static str {
        match self {
            Op::Search => "searchOrder",
            Op::Get => "getOrder",
            Op::Ship => "updateOrderShipping",
            Op::Confirm => "confirmOrder",
        }
    }

    fn code_part(self) -> &'static str {
        match self {
            Op::Search => "SEARCH_ORDER",
            Op::Get => "GET_ORDER",
            Op::Ship => "UPDATE_ORDERSHIPPING",
            Op::Confirm => "CONFIRM_ORDER",
        }
    }
}

fn json_response(status: StatusCode, body: String, truncate: bool) -> Response {
    let body = if truncate { faults::truncate(&body) } else { body };
    let mut r = (status, body).into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json;charset=utf-8"));
    r
}

fn gateway(status: StatusCode, code: &str, message: &str) -> Response {
    json_response(status, json!({"Results": {"errorCode": code, "message": message}}).to_string(), false)
}

fn messages_error(status: StatusCode, code: &str, message: &str, extra: Value, truncate: bool) -> Response {
    let mut body = json!({"MessageModelList": [{"messageType": "ERROR", "messageCode": code, "message": message}]});
    if let (Some(b), Value::Object(extra)) = (body.as_object_mut(), extra) {
        b.extend(extra);
    }
    json_response(status, body.to_string(), truncate)
}

/// The gateway's refusal when the ESA header is wrong, or the licenseKey has expired (HTTP 401;
/// `GA0001` for an expired key in a 2026 production report, fact sheet §3).
fn refused(st: &Sandbox, headers: &HeaderMap) -> Option<Response> {
    let auth = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    if auth != Some(st.authorization.as_str()) {
        return Some(gateway(StatusCode::UNAUTHORIZED, "ES01-01", "Un-Authorised"));
    }
    let last_day = *st.license_last_day.lock().unwrap_or_else(|e| e.into_inner());
    (now_jst().date_naive() > last_day).then(|| gateway(StatusCode::UNAUTHORIZED, "GA0001", "Un-Authorised"))
}

/// `license.expiryDate.get`: `{"expiryDate": "YYYY-MM-DDT23:59:59"}`, JST without an offset.
fn license_expiry(st: &Sandbox, headers: &HeaderMap, query: &HashMap<String, String>) -> Response {
    if let Some(refusal) = refused(st, headers) {
        return refusal;
    }
    if query.get("licenseKey").map(String::as_str) != Some(LICENSE_KEY) {
        return gateway(StatusCode::UNAUTHORIZED, "ES01-01", "Un-Authorised");
    }
    if !st.throttle.admit(LICENSE_EXPIRY_PATH) {
        return gateway(StatusCode::TOO_MANY_REQUESTS, "ES04-02", "Too Many Requests");
    }
    let last_day = *st.license_last_day.lock().unwrap_or_else(|e| e.into_inner());
    json_response(StatusCode::OK, json!({"expiryDate": format!("{}T23:59:59", last_day)}).to_string(), false)
}

async fn handle(st: &Sandbox, op: Op, headers: &HeaderMap, body: &str) -> Response {
    RECEIVED[op as usize].fetch_add(1, Ordering::Relaxed);
    if let Some(refusal) = refused(st, headers) {
        return refusal;
    }
    if !st.throttle.admit(op.name()) {
        THROTTLED[op as usize].fetch_add(1, Ordering::Relaxed);
        // unverified: Rakuten documents no throttle body; the sheet says 429 (or 503). The code
        // here is the sandbox's own choice in the gateway envelope; clients must go by the status.
        return gateway(StatusCode::TOO_MANY_REQUESTS, "ES04-02", "Too Many Requests");
    }
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let media = content_type.split(';').next().unwrap_or("").trim();
    if !media.eq_ignore_ascii_case("application/json") {
        return gateway(StatusCode::UNSUPPORTED_MEDIA_TYPE, "ES04-03", "Unsupported Media Type");
    }
    let (latency, fault) = st.faults.roll();
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let truncate = match fault {
        Fault::None => false,
        Fault::ServerError => {
            // unverified: the real 500 message codes are behind the RMS login; the envelope is real.
            let code = format!("ORDER_EXT_API_{}_ERROR_500", op.code_part());
            return messages_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                &code,
                "システムエラーが発生しました。",
                json!({}),
                false,
            );
        }
        Fault::Hang(d) => {
            tokio::time::sleep(d).await;
            false
        }
        Fault::Malformed => true,
    };
    let request: Value = match serde_json::from_str(body) {
        Ok(v @ Value::Object(_)) => v,
        _ => {
            let code = format!("ORDER_EXT_API_{}_ERROR_011", op.code_part());
            return messages_error(StatusCode::BAD_REQUEST, &code, "リクエストの書式が不正です。", json!({}), truncate);
        }
    };
    match op {
        Op::Search => search(st, &request, truncate),
        Op::Get => get_order(st, &request, truncate),
        Op::Ship => update_shipping(st, &request, truncate),
        Op::Confirm => confirm_order(st, &request, truncate),
    }
}

fn search_error(code: &str, message: &str, truncate: bool) -> Response {
    messages_error(
        StatusCode::BAD_REQUEST,
        code,
        message,
        json!({"orderNumberList": null, "PaginationResponseModel": null}),
        truncate,
    )
}

/// `YYYY-MM-DDThh:mm:ss+0900` and nothing else.
fn strict_time(v: Option<&Value>) -> Option<DateTime<FixedOffset>> {
    let s = v?.as_str()?;
    let local = s.strip_suffix("+0900")?;
    if local.len() != 19 {
        return None;
    }
    let naive = NaiveDateTime::parse_from_str(local, "%Y-%m-%dT%H:%M:%S").ok()?;
    jst().from_local_datetime(&naive).single()
}

fn search(st: &Sandbox, req: &Value, truncate: bool) -> Response {
    let Some(date_type) = req.get("dateType").filter(|v| !v.is_null()) else {
        return search_error(SEARCH_NO_DATE_TYPE, "dateType を指定してください。", truncate);
    };
    let Some(date_type) = date_type.as_i64().filter(|d| (1..=6).contains(d)) else {
        return search_error(SEARCH_FORMAT, "dateType の書式が不正です。", truncate);
    };
    let Some(start) = strict_time(req.get("startDatetime")) else {
        return search_error(SEARCH_FORMAT, "startDatetime の書式が不正です。", truncate);
    };
    let Some(end) = strict_time(req.get("endDatetime")) else {
        return search_error(SEARCH_FORMAT, "endDatetime の書式が不正です。", truncate);
    };
    if end < start || end - start > Duration::days(63) {
        return search_error(SEARCH_FORMAT, "期間指定は63日以内で指定してください。", truncate);
    }
    if start < Utc::now().with_timezone(&jst()) - Duration::days(730) {
        return search_error(SEARCH_FORMAT, "startDatetime は過去730日以内で指定してください。", truncate);
    }
    let paging = req.get("PaginationRequestModel");
    let field = |name: &str, default: i64| match paging.and_then(|p| p.get(name)) {
        None | Some(Value::Null) => Some(default),
        Some(v) => v.as_i64(),
    };
    let Some(size) = field("requestRecordsAmount", 30).filter(|s| (1..=1000).contains(s)) else {
        return search_error(SEARCH_FORMAT, "requestRecordsAmount は1から1000で指定してください。", truncate);
    };
    let Some(page) = field("requestPage", 1).filter(|p| *p >= 1) else {
        return search_error(SEARCH_FORMAT, "requestPage の書式が不正です。", truncate);
    };
    let ascending = paging
        .and_then(|p| p.get("SortModelList"))
        .and_then(Value::as_array)
        .and_then(|l| l.first())
        .and_then(|s| s.get("sortDirection"))
        .and_then(Value::as_i64)
        == Some(1);

    let (a, b) = (start.timestamp(), end.timestamp());
    let mut hits: Vec<Order> = {
        let dates = st.dates.lock().map(|d| d.clone()).unwrap_or_default();
        let rows = st.rows.lock().map(|r| r.clone()).unwrap_or_default();
        st.book
            .all()
            .into_iter()
            .filter(|o| {
                let d = dates.get(&o.order_id).copied().unwrap_or_default();
                let r = rows.get(&o.order_id).map(Vec::as_slice).unwrap_or_default();
                matches_date_type(o, &d, r, date_type, a, b)
            })
            .collect()
    };
    hits.sort_by(|x, y| x.ordered_at.cmp(&y.ordered_at).then_with(|| x.order_id.cmp(&y.order_id)));
    if !ascending {
        hits.reverse();
    }
    let total = hits.len();
    if total == 0 {
        let body = json!({
            "MessageModelList": [{"messageType": "INFO", "messageCode": SEARCH_NONE, "message": "注文検索に成功しました。(検索結果0件)"}],
            "orderNumberList": [],
            "PaginationResponseModel": {"totalRecordsAmount": null, "totalPages": null, "requestPage": null},
        });
        return json_response(StatusCode::OK, body.to_string(), truncate);
    }
    let size = usize::try_from(size).unwrap_or(30);
    let first = usize::try_from(page - 1).unwrap_or(usize::MAX).saturating_mul(size);
    let retrievable = total.min(st.result_cap);
    let numbers: Vec<&str> = hits[..retrievable].iter().skip(first).take(size).map(|o| o.order_id.as_str()).collect();
    let body = json!({
        "MessageModelList": [{"messageType": "INFO", "messageCode": SEARCH_INFO, "message": "注文検索に成功しました。"}],
        "orderNumberList": numbers,
        "PaginationResponseModel": {"totalRecordsAmount": total, "totalPages": total.div_ceil(size), "requestPage": page},
    });
    json_response(StatusCode::OK, body.to_string(), truncate)
}

/// Whether the date `date_type` searches on lies in `[a, b]` (Unix seconds) for this order.
fn matches_date_type(o: &Order, d: &Dates, rows: &[Row], date_type: i64, a: i64, b: i64) -> bool {
    let within = |t: Option<DateTime<FixedOffset>>| t.is_some_and(|t| (a..=b).contains(&t.timestamp()));
    match date_type {
        1 => within(Some(o.ordered_at)),
        2 => within(d.confirmed),
        3 => within(d.fixed),
        4 => rows.iter().any(|r| {
            let Some(day) = r.date.and_time(NaiveTime::MIN).and_local_timezone(jst()).single() else {
                return false;
            };
            let first = day.timestamp();
            let last = if SHIP_DATE_SPANS_ITS_DAY { first + 86_399 } else { first };
            first <= b && last >= a
        }),
        5 => within(d.reported),
        6 => within(d.settled),
        _ => false,
    }
}

/// The dates of a seeded order, consistent with its status and with the book's
/// `source_updated_at` as the latest of them.
fn seed_dates(o: &Order) -> Dates {
    let u = Some(o.source_updated_at);
    match o.status {
        OrderStatus::New => Dates::default(),
        OrderStatus::AwaitingPayment => Dates { confirmed: u, ..Dates::default() },
        OrderStatus::ReadyToShip | OrderStatus::OnHold => {
            Dates { confirmed: u, fixed: u, settled: u, ..Dates::default() }
        }
        OrderStatus::Shipped => {
            let at = Some(o.ordered_at);
            Dates { confirmed: at, fixed: at, settled: at, reported: u }
        }
        // Cancelled after its confirmation; the cancellation itself stamps nothing.
        OrderStatus::Cancelled => Dates { confirmed: u, ..Dates::default() },
    }
}

fn progress(status: OrderStatus) -> i64 {
    match status {
        OrderStatus::New => 100,
        OrderStatus::AwaitingPayment => 200,
        OrderStatus::ReadyToShip => 300,
        OrderStatus::OnHold => 400,
        OrderStatus::Shipped => 500,
        OrderStatus::Cancelled => 900,
    }
}

fn time_text(t: Option<DateTime<FixedOffset>>) -> Value {
    t.map_or(Value::Null, |t| Value::from(t.with_timezone(&jst()).format("%Y-%m-%dT%H:%M:%S+0900").to_string()))
}

fn settlement(m: PaymentMethod) -> (i64, &'static str) {
    match m {
        PaymentMethod::CreditCard => (1, "クレジットカード"),
        PaymentMethod::Cod => (2, "代金引換"),
        PaymentMethod::BankTransfer => (9, "銀行振込"),
        PaymentMethod::ConvenienceStore => (13, "セブンイレブン（前払）"),
        PaymentMethod::Deferred => (21, "後払い決済"),
        PaymentMethod::MarketplacePay => (8, "ポイント"),
        PaymentMethod::Other => (4, "ショッピングクレジット／ローン"),
    }
}

fn delivery(m: DeliveryMethod) -> (&'static str, i64) {
    match m {
        DeliveryMethod::Standard => ("宅配便", 1),
        DeliveryMethod::MailBin => ("メール便", 0),
        DeliveryMethod::Cool => ("宅配便(冷蔵)", 2),
        DeliveryMethod::Frozen => ("宅配便(冷凍)", 3),
        DeliveryMethod::Pickup => ("コンビニ受取", 0),
        DeliveryMethod::Other => ("その他配送", 0),
    }
}

fn shipping_term(slot: Option<&str>) -> i64 {
    match slot {
        None => 0,
        Some("午前中") => 1,
        Some("午後") => 2,
        Some(s) => s
            .split_once('-')
            .and_then(|(a, b)| Some(a.parse::<i64>().ok()? * 100 + b.parse::<i64>().ok()?))
            .unwrap_or(9),
    }
}

fn company_code(c: Carrier) -> &'static str {
    CARRIERS.iter().find(|(_, k)| *k == c).map_or("1000", |(code, _)| code)
}

fn serial(order_id: &str) -> i64 {
    order_id.rsplit('-').next().and_then(|s| s.parse().ok()).unwrap_or(0)
}

fn basket_id(order_id: &str, k: usize) -> i64 {
    300_000_000 + serial(order_id) * 10 + i64::try_from(k).unwrap_or(9) + 1
}

fn digits(s: &str) -> String {
    s.chars().filter(char::is_ascii_digit).collect()
}

/// The masked address 楽天あんしんメルアドサービス hands `shop_id` for a buyer's mailbox, in the form
/// the fact sheet shows (`<hash>s1@pc.fw.rakuten.ne.jp`): a stable hash (FNV-1a) of the shop and the
/// real address, so a buyer keeps one masked address across a shop's orders. (Whether 楽天 masks
/// per shop is unverified; per shop keeps the sandboxes of two shops apart.)
pub fn masked_address(shop_id: &str, email: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in shop_id.bytes().chain([0]).chain(email.trim().to_lowercase().bytes()) {
        h = (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{h:016x}s1@pc.fw.rakuten.ne.jp")
}

/// Rewrites a seeded order the way Rakuten holds it.
fn rakutenize(mut o: Order, n: usize, rows: &mut HashMap<String, Vec<Row>>, next_row: &mut i64) -> Order {
    let date = o.ordered_at.with_timezone(&jst()).format("%Y%m%d");
    o.order_id = format!("{SHOP_NUMBER}-{date}-{:010}", n + 1);
    // Shops never see the buyer's own mailbox (fact sheet §6.2, §13).
    o.buyer.email = o.buyer.email.as_deref().map(|e| masked_address(&o.shop_id, e));
    if o.status == OrderStatus::New {
        // Rakuten stamps no time on an order nobody confirmed yet.
        o.source_updated_at = o.ordered_at;
    }
    o.source_status = progress(o.status).to_string();
    o.source_payment_method = settlement(o.payment_method).1.to_owned();
    o.delivery.source_method = delivery(o.delivery.method).0.to_owned();
    let one_line = |a: &mut ichigen_core::Address| {
        a.postal_code = digits(&a.postal_code);
        if !a.address2.is_empty() {
            a.address1 = format!("{} {}", a.address1, a.address2);
            a.address2.clear();
        }
    };
    one_line(&mut o.ship_to);
    let id = o.order_id.clone();
    for (k, s) in o.shipments.iter_mut().enumerate() {
        one_line(&mut s.ship_to);
        s.shipment_id = Some(basket_id(&id, k).to_string());
    }
    let mut order_rows = Vec::new();
    let multi = o.shipments.len() >= 2;
    for t in &mut o.tracking {
        let day = t.shipped_at.map_or(o.ordered_at.date_naive(), |s| s.with_timezone(&jst()).date_naive());
        t.shipped_at = day.and_time(NaiveTime::MIN).and_local_timezone(jst()).single();
        t.shipment_id = multi.then(|| basket_id(&id, 0).to_string());
        order_rows.push(Row {
            basket_id: basket_id(&id, 0),
            detail_id: *next_row,
            company: company_code(t.carrier).to_owned(),
            number: t.number.clone(),
            date: day,
        });
        *next_row += 1;
    }
    if !order_rows.is_empty() {
        rows.insert(id, order_rows);
    }
    o
}

fn split_name(name: &str) -> (&str, &str) {
    name.split_once([' ', '　']).unwrap_or((name, ""))
}

fn person(a: &ichigen_core::Address, island: bool) -> Value {
    let zip = digits(&a.postal_code);
    let (z1, z2) = if zip.len() == 7 { (&zip[..3], &zip[3..]) } else { (zip.as_str(), "") };
    let (family, first) = split_name(&a.name);
    let phone: Vec<&str> = a.phone.as_deref().map(|p| p.splitn(3, '-').collect()).unwrap_or_default();
    let sub = if a.address2.is_empty() { a.address1.clone() } else { format!("{} {}", a.address1, a.address2) };
    json!({
        "zipCode1": z1, "zipCode2": z2, "prefecture": a.prefecture, "city": a.city, "subAddress": sub,
        "familyName": family, "firstName": first, "familyNameKana": null, "firstNameKana": null,
        "phoneNumber1": phone.first(), "phoneNumber2": phone.get(1), "phoneNumber3": phone.get(2),
        "isolatedIslandFlag": i64::from(island),
    })
}

fn item(it: &ichigen_core::Item, line_id: i64) -> Value {
    let sku_info: Vec<String> = it.options.iter().map(|o| format!("{}:{}", o.name, o.value)).collect();
    json!({
        "itemDetailId": line_id, "itemName": it.name, "itemId": 10_000_000 + (line_id % 1_000_000),
        "itemNumber": it.sku, "manageNumber": it.sku.to_lowercase(), "price": it.unit_price,
        "priceTaxIncl": it.unit_price, "taxRate": 0.1, "units": it.quantity, "includePostageFlag": 0,
        "includeTaxFlag": 1, "includeCashOnDeliveryPostageFlag": 0, "selectedChoice": null,
        "deleteItemFlag": 0, "isSingleItemShipping": 0,
        "SkuModelList": [{"variantId": it.sku, "merchantDefinedSkuId": null,
            "skuInfo": if sku_info.is_empty() { Value::Null } else { Value::from(sku_info.join("\n")) }}],
    })
}

/// One order as getOrder version 10 renders it.
fn render(o: &Order, rows: &[Row], dates: &Dates) -> Value {
    let single = [(o.ship_to.clone(), o.items.clone())];
    let multi: Vec<_> = o.shipments.iter().map(|s| (s.ship_to.clone(), s.items.clone())).collect();
    let destinations: &[(ichigen_core::Address, Vec<ichigen_core::Item>)] =
        if multi.is_empty() { &single } else { &multi };
    let cod = o.payment_method == PaymentMethod::Cod;
    let (delivery_name, delivery_class) = delivery(o.delivery.method);
    let pickup = o.delivery.method == DeliveryMethod::Pickup;
    let serial = serial(&o.order_id);
    let packages: Vec<Value> = destinations
        .iter()
        .enumerate()
        .map(|(k, (to, items))| {
            let basket = basket_id(&o.order_id, k);
            let goods: i64 = items.iter().map(|i| i.unit_price * i64::from(i.quantity)).sum();
            let postage = if k == 0 { o.totals.shipping } else { 0 };
            let lines: Vec<Value> = items
                .iter()
                .enumerate()
                .map(|(j, it)| item(it, serial * 100 + i64::try_from(k * 10 + j).unwrap_or(99)))
                .collect();
            let shipping: Vec<Value> = rows
                .iter()
                .filter(|r| r.basket_id == basket)
                .map(|r| {
                    json!({"shippingDetailId": r.detail_id, "shippingNumber": r.number,
                        "deliveryCompany": r.company, "deliveryCompanyName": null,
                        "shippingDate": r.date.format("%Y-%m-%d").to_string()})
                })
                .collect();
            json!({
                "basketId": basket, "postagePrice": postage, "postageTaxRate": 0.1,
                "deliveryPrice": if k == 0 && cod { o.totals.fee } else { 0 },
                "deliveryTaxRate": 0.1, "goodsTax": 0, "goodsPrice": goods, "totalPrice": goods + postage,
                "noshi": null, "packageDeleteFlag": 0,
                "SenderModel": person(to, false),
                "ItemModelList": lines,
                "ShippingModelList": shipping,
                "DeliveryCvsModel": if pickup { json!({"cvsCode": 1, "storeCode": "000001", "storeName": "ファミリーマート 見本店"}) } else { Value::Null },
                "defaultDeliveryCompanyCode": "1001",
                "dropOffFlag": 0, "dropOffLocation": null,
            })
        })
        .collect();
    let (pay_code, pay_name) = settlement(o.payment_method);
    let kana = o.buyer.name_kana.as_deref().map(split_name);
    let buyer_phone: Vec<&str> = o.buyer.phone.as_deref().map(|p| p.splitn(3, '-').collect()).unwrap_or_default();
    let (family, first) = split_name(&o.buyer.name);
    let t = o.totals;
    let mut head = json!({
        "orderNumber": o.order_id,
        "orderProgress": progress(o.status),
        "subStatusId": null, "subStatusName": null,
        "orderDatetime": time_text(Some(o.ordered_at)),
        "shopOrderCfmDatetime": time_text(dates.confirmed),
        "orderFixDatetime": time_text(dates.fixed),
        "shippingInstDatetime": null,
        "shippingCmplRptDatetime": time_text(dates.reported),
        "cancelDueDate": null,
        "deliveryDate": o.delivery.requested_date.map(|d| d.format("%Y-%m-%d").to_string()),
        "shippingTerm": shipping_term(o.delivery.requested_time_slot.as_deref()),
        "remarks": o.remarks,
        "giftCheckFlag": i64::from(o.gift), "socialGiftFlag": 0,
        "severalSenderFlag": i64::from(destinations.len() > 1), "equalSenderFlag": 0,
        "isolatedIslandFlag": 0, "rakutenMemberFlag": 1, "carrierCode": 0, "emailCarrierCode": 0,
        "orderType": 1, "reserveNumber": null, "reserveDeliveryCount": null,
        "cautionDisplayType": 0, "cautionDisplayDetailType": null, "rakutenConfirmFlag": 0,
        "goodsPrice": t.goods, "postagePrice": t.shipping,
        "deliveryPrice": if cod { t.fee } else { 0 },
        "paymentCharge": if cod { 0 } else { t.fee }, "paymentChargeTaxRate": 0.1,
        "totalPrice": t.goods + t.shipping, "requestPrice": t.total,
        "couponAllTotalPrice": t.discount - t.points, "couponShopPrice": t.discount - t.points,
        "couponOtherPrice": 0,
        "additionalFeeOccurAmountToUser": 0, "additionalFeeOccurAmountToShop": 0,
    });
    let tail = json!({
        "asurakuFlag": 0, "drugFlag": 0, "dealFlag": 0, "membershipType": 0,
        "memo": null, "operator": null, "mailPlugSentence": null, "modifyFlag": 0,
        "receiptIssueCount": 0, "receiptIssueHistoryList": [],
        "deliveryCertPrgFlag": 0, "oneDayOperationFlag": 0,
        "OrdererModel": {
            "zipCode1": null, "zipCode2": null, "prefecture": null, "city": null, "subAddress": null,
            "familyName": family, "firstName": first,
            "familyNameKana": kana.map(|k| k.0), "firstNameKana": kana.map(|k| k.1),
            "phoneNumber1": buyer_phone.first(), "phoneNumber2": buyer_phone.get(1), "phoneNumber3": buyer_phone.get(2),
            "emailAddress": o.buyer.email,
        },
        "SettlementModel": {"settlementMethodCode": pay_code, "settlementMethod": pay_name, "rpaySettlementFlag": 1},
        "DeliveryModel": {"deliveryName": delivery_name, "deliveryClass": delivery_class},
        "PointModel": {"usedPoint": t.points},
        "WrappingModel1": null, "WrappingModel2": null,
        "PackageModelList": packages,
        "CouponModelList": [],
    });
    if let (Value::Object(h), Value::Object(t)) = (&mut head, tail) {
        h.extend(t);
    }
    head
}

fn get_order(st: &Sandbox, req: &Value, truncate: bool) -> Response {
    let bad = |message: &str| {
        messages_error(StatusCode::BAD_REQUEST, GET_BAD_REQUEST, message, json!({"OrderModelList": null}), truncate)
    };
    let Some(numbers) = req.get("orderNumberList").and_then(Value::as_array) else {
        return bad("orderNumberList を指定してください。");
    };
    if numbers.is_empty() || numbers.len() > 100 {
        return bad("orderNumberList は1件以上100件以内で指定してください。");
    }
    if !req.get("version").is_some_and(Value::is_i64) {
        return bad("version を指定してください。");
    }
    let rows = st.rows.lock().map(|r| r.clone()).unwrap_or_default();
    let dates = st.dates.lock().map(|d| d.clone()).unwrap_or_default();
    let left_out = st.left_out.lock().map(|l| l.clone()).unwrap_or_default();
    let mut messages = Vec::new();
    let mut orders = Vec::new();
    for number in numbers.iter().filter_map(Value::as_str) {
        match st.book.get(number).filter(|_| !left_out.contains(number)) {
            Some(o) => {
                let d = dates.get(number).copied().unwrap_or_default();
                let mut model = render(&o, rows.get(number).map(Vec::as_slice).unwrap_or_default(), &d);
                if st.faults.corrupts(number) {
                    corrupt(&mut model);
                }
                orders.push(model);
                messages.push(json!({"messageType": "INFO", "messageCode": GET_INFO,
                    "message": "受注情報取得に成功しました。", "orderNumber": number}));
            }
            None => messages.push(json!({"messageType": "INFO", "messageCode": GET_NOT_RETURNED,
                "message": "受注情報が取得できませんでした。", "orderNumber": number})),
        }
    }
    let body = json!({"version": 10, "MessageModelList": messages, "OrderModelList": orders});
    json_response(StatusCode::OK, body.to_string(), truncate)
}

/// Puts a control character into the orderer's family name, as a broken record would carry it.
fn corrupt(model: &mut Value) {
    if let Some(name) = model.pointer_mut("/OrdererModel/familyName") {
        *name = Value::from(format!("{}\u{7}", name.as_str().unwrap_or_default()));
    }
}

fn update_shipping(st: &Sandbox, req: &Value, truncate: bool) -> Response {
    let bad = |message: &str| messages_error(StatusCode::BAD_REQUEST, SHIP_FORMAT, message, json!({}), truncate);
    let Some(order_number) = req.get("orderNumber").and_then(Value::as_str) else {
        return bad("orderNumber を指定してください。");
    };
    let Some(order) = st.book.get(order_number) else {
        return bad("指定された注文番号は存在しません。");
    };
    let baskets = baskets(&order);
    let Some(list) = req.get("BasketidModelList").and_then(Value::as_array).filter(|l| !l.is_empty()) else {
        return bad("BasketidModelList を指定してください。");
    };
    let mut new_rows = Vec::new();
    for b in list {
        let Some(basket) = b.get("basketId").and_then(Value::as_i64).filter(|id| baskets.contains(id)) else {
            return bad("basketId が不正です。");
        };
        let Some(rows) = b.get("ShippingModelList").and_then(Value::as_array).filter(|l| !l.is_empty()) else {
            return bad("ShippingModelList を指定してください。");
        };
        for r in rows {
            let Some((company, carrier)) = r
                .get("deliveryCompany")
                .and_then(Value::as_str)
                .and_then(|c| CARRIERS.iter().find(|(code, _)| *code == c))
            else {
                return bad("deliveryCompany の書式が不正です。");
            };
            let Some(number) = r
                .get("shippingNumber")
                .and_then(Value::as_str)
                .filter(|n| !n.trim().is_empty() && n.chars().count() <= 120)
            else {
                return bad("shippingNumber の書式が不正です。");
            };
            let date = r.get("shippingDate").and_then(Value::as_str).filter(|d| d.len() == 10);
            let Some(date) = date.and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok()) else {
                return bad("shippingDate の書式が不正です。");
            };
            new_rows.push((
                *carrier,
                Row {
                    basket_id: basket,
                    detail_id: st.next_row.fetch_add(1, Ordering::SeqCst),
                    company: (*company).to_owned(),
                    number: number.trim().to_owned(),
                    date,
                },
            ));
        }
    }
    let messages: Vec<Value> = new_rows
        .iter()
        .enumerate()
        .map(|(i, (_, r))| {
            json!({"messageType": "INFO", "messageCode": SHIP_ADDED, "message": "発送情報の追加設定が完了しました。",
                "dataNumber": i + 1, "shippingDetailId": r.detail_id})
        })
        .collect();
    add_rows(st, order_number, new_rows);
    json_response(StatusCode::OK, json!({"MessageModelList": messages}).to_string(), truncate)
}

/// confirmOrder: one message per requested number (see the module notes).
fn confirm_order(st: &Sandbox, req: &Value, truncate: bool) -> Response {
    let bad = |message: &str| messages_error(StatusCode::BAD_REQUEST, CONFIRM_FORMAT, message, json!({}), truncate);
    let Some(numbers) = req.get("orderNumberList").and_then(Value::as_array) else {
        return bad("orderNumberList を指定してください。");
    };
    if numbers.is_empty() || numbers.len() > 100 {
        return bad("orderNumberList は1件以上100件以内で指定してください。");
    }
    let Some(numbers) = numbers.iter().map(Value::as_str).collect::<Option<Vec<&str>>>() else {
        return bad("orderNumberList の書式が不正です。");
    };
    let mut messages = Vec::new();
    for number in numbers {
        if let Ok(mut calls) = st.confirm_calls.lock() {
            *calls.entry(number.to_owned()).or_default() += 1;
        }
        let (kind, code, message) = if st.book.get(number).is_none() {
            ("ERROR", CONFIRM_UNKNOWN, "指定された注文番号は存在しません。")
        } else if confirm(st, number) {
            ("INFO", CONFIRM_INFO, "注文確認に成功しました。")
        } else {
            ("ERROR", CONFIRM_NOT_AT_100, "注文確認待ちではない注文です。")
        };
        messages.push(json!({"messageType": kind, "messageCode": code, "message": message, "orderNumber": number}));
    }
    json_response(StatusCode::OK, json!({"MessageModelList": messages}).to_string(), truncate)
}

/// Standard Base64 with padding (RFC 4648), written here so the sandbox shares nothing with the client.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], chunk.get(1).copied().unwrap_or(0), chunk.get(2).copied().unwrap_or(0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc4648_vectors() {
        for (plain, encoded) in [("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foobar", "Zm9vYmFy")] {
            assert_eq!(base64(plain.as_bytes()), encoded);
        }
    }

    #[test]
    fn only_the_strict_time_format_passes() {
        assert!(strict_time(Some(&json!("2025-03-01T00:00:00+0900"))).is_some());
        for bad in [
            "2025-03-01T00:00:00+09:00",
            "2025-03-01T00:00:00Z",
            "2025-03-01 00:00:00+0900",
            "2025/03/01T00:00:00+0900",
        ] {
            assert!(strict_time(Some(&json!(bad))).is_none(), "{bad}");
        }
    }

    #[test]
    fn time_slots_become_shipping_terms() {
        assert_eq!(shipping_term(Some("14-16")), 1416);
        assert_eq!(shipping_term(Some("午前中")), 1);
        assert_eq!(shipping_term(None), 0);
    }
}
