//! RakutenPayOrderAPI client: `searchOrder` + `getOrder` for "orders changed in a window" and
//! "these orders by number", `updateOrderShipping` for tracking write-back, `confirmOrder` for
//! the shop's 注文確認.
//!
//! - Auth: `Authorization: ESA base64(serviceSecret:licenseKey)` on every call; both secrets are
//!   held as [`SecretString`] and the header value is marked sensitive. Never logged, never in
//!   `Debug` output or errors.
//! - Changed orders: Rakuten has no "updated since" search. The window is pulled in one pass per
//!   `dateType` that moves with an order's life ([`PASSES`]): 1 注文日 (new orders), 2 注文確認日,
//!   3 注文確定日, 4 発送日, 5 発送完了報告日, 6 決済確定日. Each pass walks sub-windows of at most
//!   63 days (the API's limit); a sub-window whose `totalRecordsAmount` exceeds the 15,000
//!   retrievable results is halved until it fits. Pages are 1,000 numbers (oldest first).
//! - One order can match several passes (ordered and confirmed in the same window): a page only
//!   fetches and returns the numbers no earlier search page of the same window returned, so no
//!   order comes twice per window. The client remembers those numbers between calls; a cursor it
//!   has not seen (another process, a restart) makes it replay the window's earlier searches
//!   (search calls only, no details) to rebuild them, so a resumed pull returns exactly what an
//!   uninterrupted one would.
//! - Cancellations and changes (400) have no date type: the puller re-reads open orders with
//!   [`RakutenClient::orders_by_id`] (getOrder, 100 numbers a call).
//! - getOrder can leave out a requested order (an `INFO` message per missing number, e.g.
//!   `ORDER_EXT_API_GET_ORDER_INFO_102`, and no `OrderModel`): that number is logged (the number
//!   only) and returned as missing, and the rest of the page goes on.
//! - Details come from `getOrder` in batches of 100 (version 10).
//! - 注文確認: `confirmOrder` takes up to 100 numbers and answers one message per order (fact sheet
//!   §8.4, §10), some may succeed and others not: every message is read. `…_CONFIRM_ORDER_INFO_101`
//!   is done. Any other answer (or none) for an order is checked against the order itself
//!   (getOrder): confirmOrder is only meaningful at 100 注文確認待ち, so an order that has left 100
//!   (confirmed in RMS, cancelled, moved on by Rakuten) did not need it — not an error, nothing to
//!   alert; one still at 100 was refused, and that is reported with Rakuten's code.
//! - The cursor is `r2:<pass>:<sub-window start>:<sub-window end>:<page>:<pull start>` (Unix
//!   seconds): one call of [`OrderSource::changed_orders`] is one search page plus its detail
//!   fetches, so a puller stopped anywhere resumes exactly there. Cursors of the two-pass version
//!   (`r1:`) are still read: a pull stopped in its second pass restarts at the second pass.

use std::collections::HashSet;
use std::fmt;
use std::sync::Mutex;

use base64::Engine;
use chrono::{Duration, NaiveDate, TimeZone, Timelike};
use ichigen_core::carrier::{tracking_digits, tracking_number_valid};
use ichigen_core::pipeline::{Acknowledged, KnownExpiry};
use ichigen_core::{Carrier, JST, Marketplace, Order, Tracking};
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderValue};
use secrecy::ExposeSecret;
/// The secret type the credentials are passed in.
pub use secrecy::SecretString;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::codes::{self, GATEWAY_UNAUTHORISED};
use super::map::order_time;
use super::wire::{Envelope, MessagesResponse, OrderModel, PackageModel, SearchOrderResponse};
use super::{map_order, parse_get_order_lenient};
use crate::client::{ClientError, Cursor, Http, HttpConfig, Limit, OrderPage, OrderSource, Reply, Window, rejects};
use crate::{BadOrder, NormalizeError};

/// Production host of the RMS WEB SERVICE (paths start with `/es/2.0/order/`).
pub const PRODUCTION_BASE_URL: &str = "https://api.rms.rakuten.co.jp";
/// `searchOrder`.
pub const SEARCH_ORDER: &str = "searchOrder";
/// `getOrder`.
pub const GET_ORDER: &str = "getOrder";
/// `updateOrderShipping`.
pub const UPDATE_ORDER_SHIPPING: &str = "updateOrderShipping";
/// `confirmOrder` (注文確認).
pub const CONFIRM_ORDER: &str = "confirmOrder";

/// LicenseManagementAPI `license.expiryDate.get`.
pub const LICENSE_EXPIRY_DATE: &str = "license.expiryDate.get";

/// The answer of [`LICENSE_EXPIRY_DATE`].
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct LicenseExpiry {
    expiry_date: String,
}

/// The limit all operations share: the fact sheet's "1 request/second per license".
// unverified: no published number; public clients pace themselves at one request a second overall.
pub const SHARED_LIMIT: Limit = Limit::new(1.0, 1);

/// The documented limit of every operation this client calls.
pub const LIMITS: [(&str, Limit); 7] = [
    // unverified: Rakuten publishes no number; public clients and one vendor use 1 request/second.
    (SEARCH_ORDER, Limit::new(1.0, 1)),
    // unverified: same 1 request/second default.
    (GET_ORDER, Limit::new(1.0, 1)),
    // unverified: same 1 request/second default.
    (UPDATE_ORDER_SHIPPING, Limit::new(1.0, 1)),
    // unverified: same 1 request/second default.
    (CONFIRM_ORDER, Limit::new(1.0, 1)),
    // InventoryAPI 2.0 (inventory.md §1.2, official transcription): write 1/s, bulk reads 5/s.
    (super::stock::BULK_UPSERT, Limit::new(1.0, 1)),
    (super::stock::BULK_GET, Limit::new(5.0, 5)),
    (super::stock::BULK_GET_RANGE, Limit::new(5.0, 5)),
];

/// Longest search window the API accepts (endDatetime at most 63 days after startDatetime).
pub const MAX_WINDOW_DAYS: i64 = 63;
/// How far back orders can be searched and fetched.
pub const LOOK_BACK_DAYS: i64 = 730;
/// Largest searchOrder page (`requestRecordsAmount`).
pub const MAX_PAGE_SIZE: u32 = 1_000;
/// Only the first 15,000 matches of a search are retrievable.
pub const RESULT_CAP: u64 = 15_000;
/// Most order numbers per getOrder call.
pub const GET_ORDER_BATCH: usize = 100;
/// Most order numbers per confirmOrder call (fact sheet §2, §9).
pub const CONFIRM_ORDER_BATCH: usize = 100;
/// getOrder response version requested (the newest, social gift).
pub const GET_ORDER_VERSION: i64 = 10;
/// `dateType` of each pass, in the order they are walked: 1 注文日, 2 注文確認日, 3 注文確定日,
/// 4 発送日, 5 発送完了報告日, 6 決済確定日 (fact sheet §4.4, §7.2). None of them is "last updated"
/// and none catches a cancellation: those come from [`RakutenClient::orders_by_id`].
pub const PASSES: [i64; 6] = [1, 2, 3, 4, 5, 6];
/// Pulls in progress whose earlier search numbers are remembered between calls.
const SEEN_WINDOWS: usize = 4;
/// Content type of every request, exactly as the official samples write it.
pub(super) const JSON_UTF8: &str = "application/json; charset=utf-8";

/// Rakuten RMS order client for one shop (one serviceSecret/licenseKey pair).
pub struct RakutenClient {
    pub(super) http: Http,
    shop_id: String,
    /// The whole `ESA ...` header value.
    authorization: SecretString,
    /// The licenseKey alone: the expiry-date call names it in its query.
    license_key: SecretString,
    page_size: u32,
    result_cap: u64,
    /// Order numbers the search pages of recent pulls returned so far (the pass dedupe).
    seen: Mutex<Vec<Seen>>,
    /// Where each SKU管理番号 lives, from the stock rows (see [`super::stock`]).
    pub(super) addresses: Mutex<Option<super::stock::AddressBook>>,
}

impl fmt::Debug for RakutenClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RakutenClient")
            .field("shop_id", &self.shop_id)
            .field("authorization", &"[redacted]")
            .field("page_size", &self.page_size)
            .field("result_cap", &self.result_cap)
            .finish_non_exhaustive()
    }
}

/// Where a pull is: pass (index into [`PASSES`]), sub-window `[a, b]` inclusive, page, and the
/// start every pass of this pull begins at (the window start, cut to what the API can search).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct Position {
    pass: usize,
    a: i64,
    b: i64,
    page: u32,
    start: i64,
}

impl Cursor for Position {
    const TAG: &'static str = "rakuten-2";

    fn valid(&self) -> bool {
        self.pass < PASSES.len() && self.page > 0 && self.b >= self.a && self.a >= self.start
    }
}

impl Position {
    /// The first page of the first pass of a pull over `[start, end]`.
    fn first(start: i64, end: i64) -> Position {
        Position { pass: 0, a: start, b: sub_window_end(start, end), page: 1, start }
    }

    /// The position a cursor of a pull ending at `end` holds, and whether the numbers of the pages
    /// before it can be rebuilt by replaying the searches (not for cursors of the two-pass
    /// version, `r1:<pass>:<a>:<b>:<page>`, whose path differs).
    fn resume(s: &str, end: i64) -> Option<(Position, bool)> {
        if let Some(p) = Position::decode(s) {
            return (p.b <= end).then_some((p, true));
        }
        let number = |p: Option<&str>| p.and_then(|p| p.parse::<i64>().ok());
        let mut parts = s.strip_prefix("r1:")?.split(':');
        let pass = number(parts.next())?;
        let a = number(parts.next())?;
        let b = number(parts.next())?;
        let page = u32::try_from(number(parts.next())?).ok()?;
        if parts.next().is_some() || page == 0 || b < a || b > end {
            return None;
        }
        // The start of the pull is not in these cursors: `i64::MIN` asks the caller to fill it in.
        match pass {
            0 => Some((Position { pass: 0, a, b, page, start: i64::MIN }, false)),
            // Its first pass is done: go on with the second pass from the start of the pull.
            1 => Some((Position { pass: 1, a, b, page: 1, start: i64::MIN }, false)),
            _ => None,
        }
    }
}

/// The order numbers the search pages of one pull returned before position `next`.
struct Seen {
    end: i64,
    next: Position,
    numbers: HashSet<String>,
}

/// One getOrder batch read: orders that deserialised, orders that did not, numbers left out.
type Batch = (Vec<OrderModel>, Vec<BadOrder>, Vec<String>);

impl RakutenClient {
    /// Most order numbers [`RakutenClient::orders_by_id`] sends in one getOrder call.
    pub const MAX_IDS_PER_CALL: usize = GET_ORDER_BATCH;

    /// A client for `shop_id` with the shop's RMS `serviceSecret` and `licenseKey`.
    pub fn new(
        config: HttpConfig,
        shop_id: impl Into<String>,
        service_secret: &SecretString,
        license_key: &SecretString,
    ) -> Result<RakutenClient, reqwest::Error> {
        let joined = format!("{}:{}", service_secret.expose_secret(), license_key.expose_secret());
        let authorization =
            SecretString::from(format!("ESA {}", base64::engine::general_purpose::STANDARD.encode(joined)));
        Ok(RakutenClient {
            http: Http::new(Marketplace::Rakuten, config, &LIMITS)?.with_shared_limit(SHARED_LIMIT),
            shop_id: shop_id.into(),
            authorization,
            license_key: license_key.clone(),
            page_size: MAX_PAGE_SIZE,
            result_cap: RESULT_CAP,
            seen: Mutex::new(Vec::new()),
            addresses: Mutex::new(None),
        })
    }

    /// Uses pages of `size` order numbers (clamped to 1..=1000); tests use small pages.
    pub fn with_page_size(mut self, size: u32) -> RakutenClient {
        self.page_size = size.clamp(1, MAX_PAGE_SIZE);
        self
    }

    /// Splits windows at `cap` results instead of 15,000; tests use a small cap.
    pub fn with_result_cap(mut self, cap: u64) -> RakutenClient {
        self.result_cap = cap.clamp(1, RESULT_CAP);
        self
    }

    fn error(&self, operation: &'static str, status: u16, code: &str, message: &str) -> ClientError {
        ClientError::Rejected {
            marketplace: Marketplace::Rakuten,
            operation,
            status,
            code: code.to_owned(),
            message: message.to_owned(),
        }
    }

    /// Rakuten's own rules first (gateway envelope, MessageModelList errors), then the generic ones.
    pub(super) fn classify(&self, operation: &'static str, reply: Reply) -> Result<Reply, ClientError> {
        let status = reply.status.as_u16();
        if let Ok(envelope) = serde_json::from_str::<Envelope>(&reply.body) {
            if let Some(results) = &envelope.results {
                let code = results.error_code.clone().unwrap_or_default();
                let message = results.message.clone().unwrap_or_default();
                // ES01-01: wrong secret/key, expired licenseKey, function not enabled.
                // unverified: ES04-01 (order functions not enabled) is also a permission problem.
                if code == GATEWAY_UNAUTHORISED || code == "ES04-01" || status == 401 || status == 403 {
                    return Err(ClientError::Auth { marketplace: Marketplace::Rakuten, operation, code, message });
                }
                if status == 429 {
                    return self.http.classify_status(operation, reply);
                }
                if reply.status.is_server_error() {
                    return Err(ClientError::Server { marketplace: Marketplace::Rakuten, operation, status, code });
                }
                return Err(self.error(operation, status, &code, &message));
            }
            let first_error = envelope
                .message_model_list
                .as_deref()
                .unwrap_or_default()
                .iter()
                .find(|m| m.message_type.as_deref() == Some(codes::ERROR_MESSAGE_TYPE));
            // confirmOrder answers order by order, each message naming its order: those are read
            // one by one by the caller, not a failure of the call.
            let per_order = operation == CONFIRM_ORDER
                && matches!(status, 200 | 400)
                && envelope.message_model_list.as_deref().unwrap_or_default().iter().all(|m| m.order_number.is_some());
            if let Some(m) = first_error.filter(|_| !per_order) {
                let code = m.message_code.clone().unwrap_or_default();
                if status == 429 {
                    return self.http.classify_status(operation, reply);
                }
                if reply.status.is_server_error() {
                    return Err(ClientError::Server { marketplace: Marketplace::Rakuten, operation, status, code });
                }
                return Err(self.error(operation, status, &code, m.message.as_deref().unwrap_or_default()));
            }
        }
        self.http.classify_status(operation, reply)
    }

    /// The `Authorization` header, marked sensitive.
    pub(super) fn auth_header(&self, operation: &'static str) -> Result<HeaderValue, ClientError> {
        let mut auth = HeaderValue::from_str(self.authorization.expose_secret()).map_err(|_| ClientError::Auth {
            marketplace: Marketplace::Rakuten,
            operation,
            code: "credentials".into(),
            message: "serviceSecret or licenseKey holds characters a header cannot carry".into(),
        })?;
        auth.set_sensitive(true);
        Ok(auth)
    }

    /// The licenseKey's last valid day, from LicenseManagementAPI `license.expiryDate.get`
    /// (fact sheet §3: a JST date-time without offset; HTTP 401 once the key has expired).
    pub async fn license_expiry(&self) -> Result<NaiveDate, ClientError> {
        let operation = LICENSE_EXPIRY_DATE;
        let url = self.http.url("/es/1.0/license-management/license-key/expiry-date");
        let auth = self.auth_header(operation)?;
        let reply = self
            .http
            .send(
                operation,
                || {
                    self.http
                        .client()
                        .get(&url)
                        .query(&[("licenseKey", self.license_key.expose_secret())])
                        .header(AUTHORIZATION, auth.clone())
                },
                |op, reply| self.classify(op, reply),
            )
            .await?;
        let answer: LicenseExpiry = Self::parse(operation, &reply.body)?;
        chrono::NaiveDateTime::parse_from_str(&answer.expiry_date, "%Y-%m-%dT%H:%M:%S")
            .map(|at| at.date())
            .map_err(|_| malformed(operation, "expiryDate is not YYYY-MM-DDThh:mm:ss"))
    }

    /// POSTs `body` as JSON to `/es/2.0/order/<operation>/` and returns the accepted reply.
    async fn post(&self, operation: &'static str, body: &serde_json::Value) -> Result<Reply, ClientError> {
        let url = self.http.url(&format!("/es/2.0/order/{operation}/"));
        let body = body.to_string();
        let auth = self.auth_header(operation)?;
        self.http
            .send(
                operation,
                || {
                    self.http
                        .client()
                        .post(&url)
                        .header(AUTHORIZATION, auth.clone())
                        .header(CONTENT_TYPE, JSON_UTF8)
                        .body(body.clone())
                },
                |op, reply| self.classify(op, reply),
            )
            .await
    }

    pub(super) fn parse<T: DeserializeOwned>(operation: &'static str, text: &str) -> Result<T, ClientError> {
        serde_json::from_str(text).map_err(|e| {
            let what = match e.classify() {
                serde_json::error::Category::Eof => "body is truncated",
                serde_json::error::Category::Syntax | serde_json::error::Category::Io => "body is not valid JSON",
                serde_json::error::Category::Data => "body has a missing field or a wrong type",
            };
            malformed(operation, format!("{what} (line {}, column {})", e.line(), e.column()))
        })
    }

    /// One searchOrder page for `date_type` in `[a, b]` (Unix seconds, inclusive).
    async fn search(&self, date_type: i64, a: i64, b: i64, page: u32) -> Result<SearchOrderResponse, ClientError> {
        let body = json!({
            "dateType": date_type,
            "startDatetime": rakuten_time(a),
            "endDatetime": rakuten_time(b),
            "PaginationRequestModel": {
                "requestRecordsAmount": self.page_size,
                "requestPage": page,
                "SortModelList": [{"sortColumn": 1, "sortDirection": 1}],
            },
        });
        let reply = self.post(SEARCH_ORDER, &body).await?;
        let response: SearchOrderResponse = Self::parse(SEARCH_ORDER, &reply.body)?;
        if response.message_model_list.is_none() {
            return Err(malformed(SEARCH_ORDER, "MessageModelList is missing: not a searchOrder response"));
        }
        Ok(response)
    }

    /// The search page at `cur`, its sub-window halved until its matches are all retrievable;
    /// returns the position actually searched.
    async fn fitting_search(&self, mut cur: Position) -> Result<(Position, SearchOrderResponse), ClientError> {
        loop {
            let response = self.search(PASSES[cur.pass], cur.a, cur.b, cur.page).await?;
            let total = response.pagination_response_model.as_ref().and_then(|p| p.total_records_amount);
            let total = u64::try_from(total.unwrap_or(0)).unwrap_or(0);
            if total <= self.result_cap {
                return Ok((cur, response));
            }
            if cur.b <= cur.a {
                return Err(self.error(
                    SEARCH_ORDER,
                    0,
                    "result_cap",
                    "more orders in one second than the API lets a search return",
                ));
            }
            // Too many to retrieve: halve the sub-window and start it again.
            cur = Position { b: cur.a + (cur.b - cur.a) / 2, page: 1, ..cur };
        }
    }

    /// The numbers the search pages before `target` returned, by searching them again.
    async fn replay(&self, target: Position, end: i64) -> Result<HashSet<String>, ClientError> {
        let mut numbers = HashSet::new();
        let mut cur = Position::first(target.start, end);
        while cur != target {
            let (searched, response) = self.fitting_search(cur).await?;
            let total_pages = response.pagination_response_model.and_then(|p| p.total_pages).unwrap_or(0);
            let list = response.order_number_list.unwrap_or_default();
            let empty = list.is_empty();
            numbers.extend(list);
            cur = advance(searched, total_pages, empty, end)
                .ok_or_else(|| self.error(SEARCH_ORDER, 0, "cursor", "cursor does not belong to this window"))?;
        }
        Ok(numbers)
    }

    fn take_seen(&self, end: i64, at: &Position) -> Option<HashSet<String>> {
        let mut memo = self.seen.lock().ok()?;
        let i = memo.iter().position(|s| s.end == end && s.next == *at)?;
        Some(memo.swap_remove(i).numbers)
    }

    fn keep_seen(&self, end: i64, next: Position, numbers: HashSet<String>) {
        if let Ok(mut memo) = self.seen.lock() {
            memo.retain(|s| !(s.end == end && s.next.start == next.start));
            if memo.len() >= SEEN_WINDOWS {
                memo.remove(0);
            }
            memo.push(Seen { end, next, numbers });
        }
    }

    /// getOrder for up to 100 order numbers. A requested order the answer leaves out (with an
    /// `INFO` message such as `ORDER_EXT_API_GET_ORDER_INFO_102`, or with none) is logged by
    /// number and returned as missing; only `ERROR` messages fail the call.
    async fn get_orders(&self, numbers: &[String]) -> Result<Batch, ClientError> {
        let body = json!({ "orderNumberList": numbers, "version": GET_ORDER_VERSION });
        let reply = self.post(GET_ORDER, &body).await?;
        let (orders, mut bad) = parse_get_order_lenient(&reply.body).map_err(|e| match e {
            NormalizeError::Api { code, message, .. } => self.error(GET_ORDER, reply.status.as_u16(), &code, &message),
            other => ClientError::Malformed(other),
        })?;
        let returned = |n: &String| {
            orders.iter().any(|o| &o.order_number == n) || bad.iter().any(|b| b.order_id.as_ref() == Some(n))
        };
        let unmatched: Vec<usize> = (0..numbers.len()).filter(|&i| !returned(&numbers[i])).collect();
        let nameless: Vec<usize> = (0..bad.len()).filter(|&i| bad[i].order_id.is_none()).collect();
        // An order whose number did not read is one of the numbers not seen; with one of each it is
        // known which.
        if let ([m], [b]) = (unmatched.as_slice(), nameless.as_slice()) {
            bad[*b].order_id = Some(numbers[*m].clone());
            return Ok((orders, bad, Vec::new()));
        }
        let missing: Vec<String> = unmatched.iter().map(|&i| numbers[i].clone()).collect();
        if !missing.is_empty() {
            // The message Rakuten gave for each left-out number, when there is one (codes only).
            let messages = serde_json::from_str::<MessagesResponse>(&reply.body)
                .ok()
                .and_then(|m| m.message_model_list)
                .unwrap_or_default();
            for n in &missing {
                let code = messages
                    .iter()
                    .find(|m| m.order_number.as_ref() == Some(n))
                    .and_then(|m| m.message_code.as_deref())
                    .unwrap_or("none");
                tracing::warn!(
                    marketplace = "rakuten",
                    operation = GET_ORDER,
                    order_id = %n,
                    message_code = code,
                    "getOrder left out a requested order; it is retried by number on the next pull"
                );
            }
        }
        Ok((orders, bad, missing))
    }

    /// Canonical orders for `numbers`, fetched in batches of 100, in the order given; the orders
    /// that could not be read, mapped or validated; the numbers getOrder left out.
    async fn details(&self, numbers: &[String]) -> Result<(Vec<Order>, Vec<BadOrder>, Vec<String>), ClientError> {
        let mut out = Vec::with_capacity(numbers.len());
        let mut rejected = Vec::new();
        let mut missing = Vec::new();
        for batch in numbers.chunks(GET_ORDER_BATCH) {
            let (models, mut bad, mut left_out) = self.get_orders(batch).await?;
            for n in batch {
                if let Some(m) = models.iter().find(|m| &m.order_number == n) {
                    match map_order(&self.shop_id, m) {
                        Ok(order) => out.push(order),
                        Err(error) => rejected
                            .push(BadOrder::new(Some(&m.order_number), error).ordered(order_time(&m.order_datetime))),
                    }
                }
            }
            rejected.append(&mut bad);
            missing.append(&mut left_out);
        }
        Ok((out, rejected, missing))
    }

    /// The page at `cursor` of the orders changed in `window`, with the order numbers getOrder
    /// left out of it (already logged; to be read again by number).
    async fn changed_orders_page(&self, window: &Window, cursor: Option<&str>) -> Result<OrderPage, ClientError> {
        let (window_start, end) = bounds(window);
        // Orders older than 730 days cannot be searched (and a search starting there is refused):
        // start a day inside the limit.
        let oldest = chrono::Utc::now().timestamp() - Duration::days(LOOK_BACK_DAYS - 1).num_seconds();
        let start = window_start.max(oldest);
        let (cur, replayable) = match cursor {
            None if start > end => return Ok(OrderPage::default()),
            None => (Position::first(start, end), true),
            Some(s) => {
                let bad_cursor = || self.error(SEARCH_ORDER, 0, "cursor", "cursor does not belong to this window");
                let (c, replayable) = Position::resume(s, end).ok_or_else(bad_cursor)?;
                let c = match c {
                    Position { start: i64::MIN, pass: 0, .. } => Position { start: start.min(c.a), ..c },
                    Position { start: i64::MIN, .. } => Position { pass: 1, ..Position::first(start, end) },
                    c => c,
                };
                if c.start < window_start || start > end {
                    return Err(bad_cursor());
                }
                (c, replayable)
            }
        };
        let mut seen = match self.take_seen(end, &cur) {
            Some(seen) => seen,
            None if replayable => self.replay(cur, end).await?,
            None => HashSet::new(),
        };
        match self.page_at(cur, end, &mut seen).await {
            Ok((page, missing, next)) => {
                if let Some(next) = next {
                    self.keep_seen(end, next, seen);
                }
                Ok(OrderPage { next: next.map(|c| c.encode()), missing, ..page })
            }
            Err(e) => {
                // Kept for the retry of the same cursor.
                self.keep_seen(end, cur, seen);
                Err(e)
            }
        }
    }

    /// One search page and the details of the numbers on it that `seen` does not hold yet; adds
    /// them to `seen` only when the whole page succeeded.
    async fn page_at(
        &self,
        cur: Position,
        end: i64,
        seen: &mut HashSet<String>,
    ) -> Result<(OrderPage, Vec<String>, Option<Position>), ClientError> {
        let (searched, response) = self.fitting_search(cur).await?;
        let numbers = response.order_number_list.unwrap_or_default();
        let mut fresh = Vec::new();
        let mut on_page = HashSet::new();
        for n in &numbers {
            if !seen.contains(n) && on_page.insert(n.clone()) {
                fresh.push(n.clone());
            }
        }
        let (orders, bad, missing) = self.details(&fresh).await?;
        seen.extend(on_page);
        let total_pages = response.pagination_response_model.and_then(|p| p.total_pages).unwrap_or(0);
        let next = advance(searched, total_pages, numbers.is_empty(), end);
        let rejected = rejects(&self.shop_id, Marketplace::Rakuten, bad);
        Ok((OrderPage { orders, rejected, missing: Vec::new(), next: None }, missing, next))
    }

    /// Registers a parcel on the destination (`basketId`, the canonical `Shipment::shipment_id`)
    /// it went to. [`OrderSource::register_tracking`] does the same for a single-destination order
    /// and refuses a multi-destination one, because the canonical tracking does not say which
    /// destination a parcel went to and a guess can put the number on the wrong recipient.
    pub async fn register_tracking_to(
        &self,
        order: &Order,
        tracking: &Tracking,
        basket_id: &str,
    ) -> Result<(), ClientError> {
        self.write_tracking(order, tracking, Some(basket_id)).await
    }

    async fn write_tracking(
        &self,
        order: &Order,
        tracking: &Tracking,
        destination: Option<&str>,
    ) -> Result<(), ClientError> {
        if !tracking_number_valid(tracking.carrier, &tracking.number) {
            return Err(self.error(
                UPDATE_ORDER_SHIPPING,
                0,
                "tracking_number",
                "tracking number has the wrong length or check digit for its carrier",
            ));
        }
        let number = match tracking.carrier {
            Carrier::Other => tracking.number.trim().to_owned(),
            _ => tracking_digits(&tracking.number),
        };
        // Fresh detail: the basketId of each destination and the rows already registered.
        let (models, bad, _) = self.get_orders(std::slice::from_ref(&order.order_id)).await?;
        let Some(model) = models.into_iter().find(|m| m.order_number == order.order_id) else {
            return Err(match bad.into_iter().next() {
                Some(b) => b.error.into(),
                // Left out this time: worth another try later, like the pull's missing orders.
                None => ClientError::Server {
                    marketplace: Marketplace::Rakuten,
                    operation: GET_ORDER,
                    status: 200,
                    code: "order_not_returned".into(),
                },
            });
        };
        let packages: Vec<PackageModel> = model
            .package_model_list
            .unwrap_or_default()
            .into_iter()
            .filter(|p| p.package_delete_flag != Some(1))
            .collect();
        let registered = |p: &PackageModel| {
            p.shipping_model_list
                .as_deref()
                .unwrap_or_default()
                .iter()
                .any(|s| s.shipping_number.as_deref().map(str::trim) == Some(number.as_str()))
        };
        let holder = packages.iter().find(|p| registered(p));
        let package = match destination {
            None => {
                if holder.is_some() {
                    return Ok(()); // Already registered: idempotent.
                }
                match packages.as_slice() {
                    [only] => only,
                    [] => return Err(malformed(GET_ORDER, "PackageModelList: no destination")),
                    several => {
                        return Err(self.error(
                            UPDATE_ORDER_SHIPPING,
                            0,
                            "destination_unknown",
                            &format!(
                                "the order has {} destinations (basketId) and the tracking does not say which one \
                                 the parcel went to: write it back by hand",
                                several.len()
                            ),
                        ));
                    }
                }
            }
            Some(id) => {
                let id = id.trim();
                let package =
                    packages.iter().find(|p| p.basket_id.is_some_and(|b| b.to_string() == id)).ok_or_else(|| {
                        self.error(
                            UPDATE_ORDER_SHIPPING,
                            0,
                            "destination",
                            "basketId is not a destination of this order",
                        )
                    })?;
                match holder {
                    Some(h) if h.basket_id == package.basket_id => return Ok(()), // Already there.
                    Some(_) => {
                        return Err(self.error(
                            UPDATE_ORDER_SHIPPING,
                            0,
                            "destination",
                            "the tracking number is already registered on another destination of this order",
                        ));
                    }
                    None => package,
                }
            }
        };
        let basket_id = package.basket_id.ok_or_else(|| malformed(GET_ORDER, "PackageModelList.basketId: missing"))?;
        let shipped: NaiveDate = tracking
            .shipped_at
            .map(|t| t.with_timezone(&JST).date_naive())
            .unwrap_or_else(|| chrono::Utc::now().with_timezone(&JST).date_naive());
        let body = json!({
            "orderNumber": order.order_id,
            "BasketidModelList": [{
                "basketId": basket_id,
                "ShippingModelList": [{
                    "deliveryCompany": codes::carrier_code(tracking.carrier),
                    "shippingNumber": number,
                    "shippingDate": shipped.format("%Y-%m-%d").to_string(),
                }],
            }],
        });
        let reply = self.post(UPDATE_ORDER_SHIPPING, &body).await?;
        let response: MessagesResponse = Self::parse(UPDATE_ORDER_SHIPPING, &reply.body)?;
        if response.message_model_list.is_none_or(|l| l.is_empty()) {
            return Err(malformed(UPDATE_ORDER_SHIPPING, "MessageModelList is missing or empty"));
        }
        Ok(())
    }
}

impl RakutenClient {
    /// 注文確認 of up to [`CONFIRM_ORDER_BATCH`] orders in one confirmOrder call; one answer per
    /// order, in order (see the module notes for how each message is read).
    pub async fn confirm_orders(&self, orders: &[Order]) -> Result<Vec<Acknowledged>, ClientError> {
        if orders.len() > CONFIRM_ORDER_BATCH {
            return Err(self.error(CONFIRM_ORDER, 0, "batch", "more than 100 orders in one confirmOrder call"));
        }
        let numbers: Vec<String> = orders.iter().map(|o| o.order_id.clone()).collect();
        let reply = self.post(CONFIRM_ORDER, &json!({ "orderNumberList": numbers })).await?;
        let response: MessagesResponse = Self::parse(CONFIRM_ORDER, &reply.body)?;
        let messages = response.message_model_list.unwrap_or_default();
        if messages.is_empty() {
            return Err(malformed(CONFIRM_ORDER, "MessageModelList is missing or empty"));
        }
        let said = |n: &String| messages.iter().find(|m| m.order_number.as_ref() == Some(n));
        let confirmed =
            |n: &String| said(n).is_some_and(|m| m.message_code.as_deref() == Some(codes::CONFIRM_ORDER_OK));
        let unconfirmed: Vec<String> = numbers.iter().filter(|n| !confirmed(n)).cloned().collect();
        // Where each order stands now, for those confirmOrder did not confirm.
        let (models, _, _) =
            if unconfirmed.is_empty() { Default::default() } else { self.get_orders(&unconfirmed).await? };
        let answers = numbers
            .iter()
            .map(|n| {
                if confirmed(n) {
                    return Acknowledged::Done;
                }
                let code = said(n).and_then(|m| m.message_code.as_deref()).unwrap_or("no message");
                let text = said(n).and_then(|m| m.message.as_deref()).unwrap_or("");
                tracing::warn!(
                    marketplace = "rakuten",
                    operation = CONFIRM_ORDER,
                    order_id = %n,
                    message_code = code,
                    "confirmOrder did not confirm an order; its orderProgress decides"
                );
                match models.iter().find(|m| &m.order_number == n) {
                    Some(m) if m.order_progress != codes::AWAITING_CONFIRMATION => Acknowledged::NotAwaited {
                        why: format!("orderProgress {} (confirmOrder: {code})", m.order_progress),
                    },
                    Some(_) => Acknowledged::Refused { retryable: false, reason: format!("{code} {text}") },
                    None => Acknowledged::Refused {
                        retryable: true,
                        reason: format!("confirmOrder: {code}; getOrder did not return the order"),
                    },
                }
            })
            .collect();
        Ok(answers)
    }
}

/// The position after the page searched at `cur`: the next page, the next sub-window, the next
/// pass from the pull's start, or the end.
fn advance(cur: Position, total_pages: i64, empty_page: bool, end: i64) -> Option<Position> {
    if i64::from(cur.page) < total_pages && !empty_page {
        Some(Position { page: cur.page + 1, ..cur })
    } else if cur.b < end {
        Some(Position { a: cur.b + 1, b: sub_window_end(cur.b + 1, end), page: 1, ..cur })
    } else if cur.pass + 1 < PASSES.len() {
        Some(Position { pass: cur.pass + 1, ..Position::first(cur.start, end) })
    } else {
        None
    }
}

fn malformed(operation: &str, detail: impl Into<String>) -> ClientError {
    ClientError::malformed(Marketplace::Rakuten, operation, detail)
}

/// `YYYY-MM-DDThh:mm:ss+0900` of a Unix time.
fn rakuten_time(unix: i64) -> String {
    JST.timestamp_opt(unix, 0).single().map(|t| t.format("%Y-%m-%dT%H:%M:%S+0900").to_string()).unwrap_or_default()
}

/// `[from, to)` as whole seconds `[start, end]`, inclusive as the API searches.
fn bounds(window: &Window) -> (i64, i64) {
    let start = window.from.timestamp() + i64::from(window.from.nanosecond() > 0);
    let end = if window.to.nanosecond() > 0 { window.to.timestamp() } else { window.to.timestamp() - 1 };
    (start, end)
}

fn sub_window_end(a: i64, end: i64) -> i64 {
    (a + Duration::days(MAX_WINDOW_DAYS).num_seconds()).min(end)
}

impl OrderSource for RakutenClient {
    type Error = ClientError;

    fn max_ids_per_call(&self) -> usize {
        RakutenClient::MAX_IDS_PER_CALL
    }

    /// getOrder in batches of [`RakutenClient::MAX_IDS_PER_CALL`] (each call paced by the
    /// license's rate limit); the ids it did not return are logged by id and listed as missing.
    /// Repeated ids are asked once.
    async fn orders_by_id(&self, ids: &[String]) -> Result<OrderPage, ClientError> {
        let mut asked = HashSet::new();
        let unique: Vec<String> = ids.iter().filter(|id| asked.insert(id.as_str())).cloned().collect();
        let (orders, bad, missing) = self.details(&unique).await?;
        let rejected = rejects(&self.shop_id, Marketplace::Rakuten, bad);
        Ok(OrderPage { orders, rejected, missing, next: None })
    }

    fn marketplace(&self) -> Marketplace {
        Marketplace::Rakuten
    }

    async fn changed_orders(&self, window: &Window, cursor: Option<&str>) -> Result<OrderPage, ClientError> {
        self.changed_orders_page(window, cursor).await
    }

    /// On the destination the parcel names (`shipment_id`, the basketId); a multi-destination
    /// order's parcel that names none is refused rather than guessed.
    async fn credential_expiry(&self) -> Result<Vec<KnownExpiry>, ClientError> {
        let last_day = self.license_expiry().await?;
        Ok(vec![KnownExpiry { credential: super::credentials::LICENSE_KEY, last_day }])
    }

    async fn register_tracking(&self, order: &Order, tracking: &Tracking) -> Result<(), ClientError> {
        self.write_tracking(order, tracking, tracking.shipment_id.as_deref()).await
    }

    fn max_acks_per_call(&self) -> usize {
        CONFIRM_ORDER_BATCH
    }

    async fn acknowledge(&self, orders: &[Order], _ship_by: NaiveDate) -> Result<Vec<Acknowledged>, ClientError> {
        self.confirm_orders(orders).await
    }
}

#[cfg(test)]
mod tests {
    use chrono::DateTime;

    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        let c = Position { pass: 5, a: 100, b: 200, page: 3, start: 50 };
        assert_eq!(Position::resume(&c.encode(), 300), Some((c, true)));
        let json = |pass: i64, a: i64, b: i64, page: i64, start: i64| {
            format!("rakuten-2.{{\"pass\":{pass},\"a\":{a},\"b\":{b},\"page\":{page},\"start\":{start}}}")
        };
        for bad in [
            String::new(),
            "rakuten-2.".into(),
            json(6, 100, 200, 1, 50),
            json(0, 100, 99, 1, 50),
            json(0, 100, 200, 0, 50),
            json(0, 100, 200, 1, 150),
            json(0, 100, 400, 1, 50),
            json(0, 100, 200, 1, 50).replacen("rakuten-2", "rakuten-9", 1),
            "r2:0:100:200:1:50".into(),
            "r1:2:0:1:1".into(),
            "r1:0:5:4:1".into(),
            "r1:0:1:2:0".into(),
            "r1:0:1:2:1:9".into(),
        ] {
            assert_eq!(Position::resume(&bad, 300), None, "{bad}");
        }
        // Two-pass cursors still read; the caller fills in the start of the pull.
        let (old, replay) = Position::resume("r1:0:100:200:2", 300).unwrap();
        assert_eq!((old.pass, old.a, old.b, old.page, old.start, replay), (0, 100, 200, 2, i64::MIN, false));
        let (old, _) = Position::resume("r1:1:100:200:4", 300).unwrap();
        assert_eq!((old.pass, old.start), (1, i64::MIN));
    }

    #[test]
    fn positions_walk_pages_then_sub_windows_then_passes() {
        let end = 10 * 86_400;
        let first = Position::first(0, end);
        assert_eq!(advance(first, 3, false, end), Some(Position { page: 2, ..first }));
        // An empty page ends the sub-window whatever the page count says.
        assert_eq!(advance(first, 3, true, end).map(|c| c.pass), Some(1));
        let last_pass = Position { pass: PASSES.len() - 1, ..first };
        assert_eq!(advance(last_pass, 1, false, end), None);
        let halved = Position { b: 5 * 86_400, ..first };
        assert_eq!(advance(halved, 1, false, end), Some(Position { a: 5 * 86_400 + 1, b: end, ..first }));
    }

    #[test]
    fn times_are_jst_with_plain_offset() {
        let t = DateTime::parse_from_rfc3339("2025-03-01T00:00:00Z").unwrap();
        assert_eq!(rakuten_time(t.timestamp()), "2025-03-01T09:00:00+0900");
    }

    #[test]
    fn windows_are_whole_seconds_end_exclusive() {
        let from = DateTime::parse_from_rfc3339("2025-03-01T00:00:00.5+09:00").unwrap();
        let to = DateTime::parse_from_rfc3339("2025-03-02T00:00:00+09:00").unwrap();
        let (a, b) = bounds(&Window { from, to });
        assert_eq!(a, from.timestamp() + 1);
        assert_eq!(b, to.timestamp() - 1);
    }

    #[test]
    fn debug_hides_the_credentials() {
        let c = RakutenClient::new(
            HttpConfig::new("http://127.0.0.1:9"),
            "shop",
            &SecretString::from("SP1_secret-value"),
            &SecretString::from("SL1_license-value"),
        )
        .unwrap();
        let shown = format!("{c:?}");
        assert!(!shown.contains("secret-value") && !shown.contains("license-value") && !shown.contains("ESA"));
    }
}
