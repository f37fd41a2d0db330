//! The Wow!manager shop API client of au PAY マーケット: order search by order date with
//! day-window splitting and `startCount` paging, and tracking write-back.
//!
//! The API has no "last updated" time and no updated-since search, only a search by order
//! date. "Orders changed in `[from, to)`" is therefore answered by searching the order dates of
//! `[from − lookback, to)` (a sliding re-poll window, 14 days by default): status changes and
//! write-backs of orders placed in the lookback show up again, and the puller diffs. Orders
//! placed before the lookback that are still open are re-read by id with
//! [`AupayClient::orders_by_id`] (`searchTradeInfoProc`, one order a call).

use std::fmt;

use chrono::{Duration, FixedOffset, NaiveDate};
use ichigen_core::carrier::tracking_number_valid;
use ichigen_core::{JST, Marketplace, Order, Tracking};
use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use super::{codes, map, map_order, parse_body, wire};
use crate::client::{
    ClientError, Cursor, Http, HttpConfig, Limit, OrderPage, OrderSource, Reply, Window, rejects, retry_after,
};
use crate::{BadOrder, NormalizeError};

/// Search operation: orders with their lines, by order-date range, paged by `startCount`.
pub const SEARCH_LIST: &str = "searchTradeInfoListProc";
/// One order by id: [`AupayClient::orders_by_id`] re-reads stored open orders with it.
// unverified: several public clients call it with `shopId` + `orderId`; one client states the
// order-id lookup is not available (fact sheet §2).
pub const SEARCH_ONE: &str = "searchTradeInfoProc";
/// Shipping-info write-back (shipping date, carrier code, tracking number).
pub const UPDATE_TRADE_INFO: &str = "updateTradeInfoProc";

/// Production host of the Wow!manager shop API (paths start with [`PATH_PREFIX`]).
pub const PRODUCTION_BASE_URL: &str = "https://api.manager.wowma.jp";
/// Path prefix of every method under the base URL.
pub const PATH_PREFIX: &str = "/wmshopapi/";

/// The limit all operations share: the fact sheet's "1 request/second per shop".
// unverified: no published number; public clients pace themselves at one request a second overall.
pub const SHARED_LIMIT: Limit = Limit::new(1.0, 1);

/// Documented limits, one per operation.
pub const LIMITS: &[(&str, Limit)] = &[
    // unverified: no published limit; every observed client paces itself at ~1 request/second.
    (SEARCH_LIST, Limit::new(1.0, 1)),
    // unverified: as above.
    (SEARCH_ONE, Limit::new(1.0, 1)),
    // unverified: as above.
    (UPDATE_TRADE_INFO, Limit::new(1.0, 1)),
    // unverified: no published limit for the stock functions (inventory.md §0: clients ≈1 req/s).
    (super::stock::UPDATE_STOCK, Limit::new(1.0, 1)),
    (super::stock::SEARCH_STOCKS, Limit::new(1.0, 1)),
];

/// Largest `totalCount` (page size) used.
// unverified: 1000 is the highest value seen working in public clients; one client caps at 500.
pub const MAX_PAGE_SIZE: u32 = 1000;

/// Longest `startDate..=endDate` range of one search, in days (both ends inclusive).
// unverified: the spec's maximum is unknown; one client limits itself to 30 days.
pub const MAX_WINDOW_DAYS: i64 = 30;

/// `dateType` of the search: 0 = order date (受注日).
pub const DATE_TYPE_ORDER_DATE: &str = "0";

/// The API's auth error code (HTTP 401): wrong/expired key, no permission, unregistered IP.
pub const AUTH_ERROR_CODE: &str = "0002";

/// Error codes that mean "too many requests, try later".
// unverified: the API documents no throttle code; HTTP 429 is treated as throttling whatever
// the body says, and these codes as well.
pub const THROTTLE_CODES: &[&str] = &["0429"];

/// Default re-poll lookback of order dates (status changes of orders placed this long ago).
pub const DEFAULT_LOOKBACK_DAYS: i64 = 14;

/// Credentials of one au PAY shop: the `shopId` and the API key (Bearer).
pub struct AupayCredentials {
    /// The numeric `shopId` (店舗ID).
    pub shop_id: SecretString,
    /// The API key issued in Wow!manager (valid ~90 days).
    pub api_key: SecretString,
}

impl fmt::Debug for AupayCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AupayCredentials { .. }")
    }
}

/// au PAY マーケット client: implements [`OrderSource`].
pub struct AupayClient {
    pub(super) http: Http,
    shop: String,
    pub(super) credentials: AupayCredentials,
    page_size: u32,
    lookback: Duration,
}

impl fmt::Debug for AupayClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AupayClient")
            .field("shop", &self.shop)
            .field("page_size", &self.page_size)
            .field("lookback", &self.lookback)
            .finish_non_exhaustive()
    }
}

/// Where a pull is: the first day of the current sub-window and the next `startCount`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct Position {
    day: NaiveDate,
    start_count: u32,
}

impl Cursor for Position {
    const TAG: &'static str = "aupay-2";

    fn valid(&self) -> bool {
        self.start_count > 0
    }
}

impl AupayClient {
    /// A client for ichigen shop `shop` (the `shop_id` of the Orders) with the shop's credentials.
    pub fn new(
        config: HttpConfig,
        shop: impl Into<String>,
        credentials: AupayCredentials,
    ) -> Result<Self, ClientError> {
        let http = Http::new(Marketplace::Aupay, config, LIMITS)
            .map_err(|source| ClientError::Transport {
                marketplace: Marketplace::Aupay,
                operation: SEARCH_LIST,
                timeout: false,
                source,
            })?
            .with_shared_limit(SHARED_LIMIT);
        Ok(AupayClient {
            http,
            shop: shop.into(),
            credentials,
            page_size: MAX_PAGE_SIZE,
            lookback: Duration::days(DEFAULT_LOOKBACK_DAYS),
        })
    }

    /// Sets the page size (`totalCount`), clamped to `1..=MAX_PAGE_SIZE`.
    pub fn with_page_size(mut self, n: u32) -> Self {
        self.page_size = n.clamp(1, MAX_PAGE_SIZE);
        self
    }

    /// Sets how far before `window.from` order dates are re-polled (zero: only the window).
    pub fn with_lookback(mut self, lookback: Duration) -> Self {
        self.lookback = lookback.max(Duration::zero());
        self
    }

    pub(super) fn bearer(&self) -> String {
        format!("Bearer {}", self.credentials.api_key.expose_secret())
    }

    /// The API's body-level rules first, then the generic status rules.
    pub(super) fn classify(&self, operation: &'static str, reply: Reply) -> Result<Reply, ClientError> {
        let marketplace = Marketplace::Aupay;
        if let Some((code, message)) = api_error(&reply.body) {
            if code == AUTH_ERROR_CODE {
                return Err(ClientError::Auth { marketplace, operation, code, message });
            }
            if reply.status == StatusCode::TOO_MANY_REQUESTS || THROTTLE_CODES.contains(&code.as_str()) {
                return Err(ClientError::Throttled {
                    marketplace,
                    operation,
                    retry_after: retry_after(&reply.headers),
                });
            }
            if reply.status.is_server_error() {
                return Err(ClientError::Server { marketplace, operation, status: reply.status.as_u16(), code });
            }
            return Err(ClientError::Rejected { marketplace, operation, status: reply.status.as_u16(), code, message });
        }
        self.http.classify_status(operation, reply)
    }

    /// One `searchTradeInfoListProc` page: `startDate..=endDate` (order date), from `start_count`.
    async fn search_page(&self, start: NaiveDate, end: NaiveDate, start_count: u32) -> Result<String, ClientError> {
        let url = self.http.url(&format!("{PATH_PREFIX}{SEARCH_LIST}"));
        let start_s = start.format("%Y%m%d").to_string();
        let end_s = end.format("%Y%m%d").to_string();
        let total = self.page_size.to_string();
        let from = start_count.to_string();
        let reply = self
            .http
            .send(
                SEARCH_LIST,
                || {
                    self.http
                        .client()
                        .get(&url)
                        .header(AUTHORIZATION, self.bearer())
                        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
                        .query(&[
                            ("shopId", self.credentials.shop_id.expose_secret()),
                            ("startDate", start_s.as_str()),
                            ("endDate", end_s.as_str()),
                            ("dateType", DATE_TYPE_ORDER_DATE),
                            ("totalCount", total.as_str()),
                            ("startCount", from.as_str()),
                        ])
                },
                |op, r| self.classify(op, r),
            )
            .await?;
        Ok(reply.body)
    }

    /// Largest number of order ids [`Self::orders_by_id`] sends in one marketplace call:
    /// `searchTradeInfoProc` takes one `orderId`; `searchTradeInfoListProc` has no order-id
    /// parameter (fact sheet §2, §4), only an order-date range.
    pub const MAX_IDS_PER_CALL: usize = 1;

    /// The current state of stored orders, by id: one `searchTradeInfoProc` call per id, each
    /// waiting its turn in the shop's shared limit (1/s). An id the API returns no order for (an
    /// empty result, `resultCount` 0) or one that is not numeric is returned in the second list
    /// (`missing`), to be retried on the next pull; an order that does not map or validate lands in
    /// `rejected`; a repeated id is read once. Any other failure fails the call.
    async fn read_by_id(&self, ids: &[String]) -> Result<OrderPage, ClientError> {
        let mut orders = Vec::new();
        let mut bad = Vec::new();
        let mut missing = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for id in ids {
            if !seen.insert(id.as_str()) {
                continue;
            }
            let wanted = id.trim();
            if wanted.is_empty() || !wanted.bytes().all(|b| b.is_ascii_digit()) {
                missing.push(id.clone());
                continue;
            }
            let body = self.search_one(wanted).await?;
            let response = read_search(SEARCH_ONE, &body)?;
            let mut infos = response.order_info.iter();
            let (Some(info), None) = (infos.next(), infos.next()) else {
                if response.order_info.is_empty() {
                    missing.push(id.clone());
                    continue;
                }
                return Err(malformed_op(SEARCH_ONE, "the answer holds more than one order"));
            };
            if info.order_id.as_deref().map(str::trim) != Some(wanted) {
                return Err(malformed_op(SEARCH_ONE, "the answer holds another order than the one asked for"));
            }
            match valid_order(&self.shop, info) {
                Ok(order) => orders.push(order),
                Err(error) => bad.push(BadOrder::new(Some(wanted), error).ordered(map::order_time(info))),
            }
        }
        let rejected = rejects(&self.shop, Marketplace::Aupay, bad);
        Ok(OrderPage { orders, rejected, missing, next: None })
    }

    /// `GET searchTradeInfoProc?shopId=…&orderId=…`.
    async fn search_one(&self, order_id: &str) -> Result<String, ClientError> {
        let url = self.http.url(&format!("{PATH_PREFIX}{SEARCH_ONE}"));
        let reply = self
            .http
            .send(
                SEARCH_ONE,
                || {
                    self.http
                        .client()
                        .get(&url)
                        .header(AUTHORIZATION, self.bearer())
                        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
                        .query(&[("shopId", self.credentials.shop_id.expose_secret()), ("orderId", order_id)])
                },
                |op, r| self.classify(op, r),
            )
            .await?;
        Ok(reply.body)
    }

    async fn changed_page(&self, window: &Window, cursor: Option<&str>) -> Result<OrderPage, ClientError> {
        let jst = JST;
        let from = (window.from - self.lookback).with_timezone(&jst);
        let to = window.to.with_timezone(&jst);
        if to <= from {
            return Ok(OrderPage::default());
        }
        let first_day = from.date_naive();
        // `to` is exclusive.
        let last_day = (to - Duration::nanoseconds(1)).date_naive();
        let cur = match cursor {
            None => Position { day: first_day, start_count: 1 },
            Some(s) => Position::decode(s).filter(|c| c.day >= first_day && c.day <= last_day).ok_or_else(|| {
                ClientError::Rejected {
                    marketplace: Marketplace::Aupay,
                    operation: SEARCH_LIST,
                    status: 0,
                    code: "cursor".into(),
                    message: "cursor is not one of this window".into(),
                }
            })?,
        };
        let sub_end = (cur.day + Duration::days(MAX_WINDOW_DAYS - 1)).min(last_day);
        let body = self.search_page(cur.day, sub_end, cur.start_count).await?;
        let response = read_search(SEARCH_LIST, &body)?;
        let returned = response.order_info.len();
        let mut orders = Vec::with_capacity(returned);
        let mut bad = Vec::new();
        // Days are whole; the window's first and last day are cut to the minute here.
        let inside = |t: &chrono::DateTime<FixedOffset>| *t >= from && *t < to;
        for info in &response.order_info {
            match valid_order(&self.shop, info) {
                Ok(order) if inside(&order.ordered_at) => orders.push(order),
                Ok(_) => {}
                Err(error) => {
                    let ordered_at = map::order_time(info);
                    // A broken order whose order date reads and lies outside the window is not ours.
                    if ordered_at.as_ref().is_none_or(inside) {
                        bad.push(BadOrder::new(info.order_id.as_deref(), error).ordered(ordered_at));
                    }
                }
            }
        }
        let next = if returned >= self.page_size as usize {
            let start_count = cur.start_count.checked_add(self.page_size).ok_or_else(|| {
                ClientError::Malformed(super::map::malformed("more results than startCount can address"))
            })?;
            Some(Position { day: cur.day, start_count })
        } else if sub_end < last_day {
            Some(Position { day: sub_end + Duration::days(1), start_count: 1 })
        } else {
            None
        };
        let rejected = rejects(&self.shop, Marketplace::Aupay, bad);
        Ok(OrderPage { orders, rejected, next: next.map(|c| c.encode()), missing: Vec::new() })
    }

    async fn update_trade_info(&self, order: &Order, tracking: &Tracking) -> Result<(), ClientError> {
        let marketplace = Marketplace::Aupay;
        let rejected = |code: &str, message: &str| ClientError::Rejected {
            marketplace,
            operation: UPDATE_TRADE_INFO,
            status: 0,
            code: code.into(),
            message: message.into(),
        };
        if order.marketplace != marketplace {
            return Err(rejected("order", "order is not an au PAY マーケット order"));
        }
        if !order.order_id.bytes().all(|b| b.is_ascii_digit()) || order.order_id.is_empty() {
            return Err(rejected("orderId", "orderId is not numeric"));
        }
        let number = tracking.number.trim();
        if !tracking_number_valid(tracking.carrier, number) {
            return Err(rejected("shippingNumber", "tracking number fails the carrier's format or check digit"));
        }
        let shipped = tracking.shipped_at.unwrap_or_else(|| chrono::Utc::now().fixed_offset()).with_timezone(&JST);
        let body = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<request>\n<shopId>{}</shopId>\n<orderId>{}</orderId>\n\
             <shippingDate>{}</shippingDate>\n<shippingCarrier>{}</shippingCarrier>\n\
             <shippingNumber>{}</shippingNumber>\n</request>\n",
            escape(self.credentials.shop_id.expose_secret()),
            escape(&order.order_id),
            shipped.format("%Y/%m/%d"),
            codes::carrier_code(tracking.carrier),
            escape(number),
        );
        let url = self.http.url(&format!("{PATH_PREFIX}{UPDATE_TRADE_INFO}"));
        let reply = self
            .http
            .send(
                UPDATE_TRADE_INFO,
                || {
                    self.http
                        .client()
                        .post(&url)
                        .header(AUTHORIZATION, self.bearer())
                        .header(CONTENT_TYPE, "application/xml; charset=utf-8")
                        .body(body.clone())
                },
                |op, r| self.classify(op, r),
            )
            .await?;
        // Success is judged on `<result><status>0</status>` alone.
        let malformed = |detail: &str| {
            ClientError::Malformed(NormalizeError::Malformed {
                marketplace,
                operation: UPDATE_TRADE_INFO.into(),
                detail: detail.into(),
            })
        };
        let response = wire::parse(&reply.body).map_err(|_| malformed("XML does not parse"))?;
        match response.result.and_then(|r| r.status).as_deref().map(str::trim) {
            Some("0") => Ok(()),
            Some(_) => Err(rejected("status", "result.status is not 0")),
            None => Err(malformed("result.status is missing")),
        }
    }
}

impl OrderSource for AupayClient {
    type Error = ClientError;

    fn max_ids_per_call(&self) -> usize {
        AupayClient::MAX_IDS_PER_CALL
    }

    async fn orders_by_id(&self, ids: &[String]) -> Result<OrderPage, ClientError> {
        self.read_by_id(ids).await
    }

    fn marketplace(&self) -> Marketplace {
        Marketplace::Aupay
    }

    async fn changed_orders(&self, window: &Window, cursor: Option<&str>) -> Result<OrderPage, ClientError> {
        self.changed_page(window, cursor).await
    }

    async fn register_tracking(&self, order: &Order, tracking: &Tracking) -> Result<(), ClientError> {
        self.update_trade_info(order, tracking).await
    }
}

/// A search answer (`searchTradeInfoListProc` or `searchTradeInfoProc`): the API's error envelope
/// becomes `Rejected`, anything unreadable `Malformed`.
fn read_search(operation: &'static str, body: &str) -> Result<wire::Response, ClientError> {
    parse_body(body).map_err(|e| match e {
        NormalizeError::Api { code, message, .. } => {
            ClientError::Rejected { marketplace: Marketplace::Aupay, operation, status: 200, code, message }
        }
        NormalizeError::Malformed { detail, .. } => malformed_op(operation, detail),
        other => ClientError::Malformed(other),
    })
}

/// `Malformed` naming `operation`.
fn malformed_op(operation: &str, detail: impl Into<String>) -> ClientError {
    ClientError::malformed(Marketplace::Aupay, operation, detail)
}

/// One `<orderInfo>` mapped and validated.
fn valid_order(shop: &str, info: &wire::OrderInfo) -> Result<Order, NormalizeError> {
    let order = map_order(shop, info)?;
    order.validate().map_err(|source| NormalizeError::Invalid {
        marketplace: Marketplace::Aupay,
        order_id: order.order_id.clone(),
        source,
    })?;
    Ok(order)
}

/// The `(code, message)` of an error envelope (`<result><status>1</status>`), if the body is one.
fn api_error(body: &str) -> Option<(String, String)> {
    let response = wire::parse(body).ok()?;
    let result = response.result?;
    if result.status.as_deref().map(str::trim) != Some("1") {
        return None;
    }
    let first = result.error.first();
    let code = first.and_then(|e| e.code.as_deref()).map(str::trim).unwrap_or_default();
    let message = first.and_then(|e| e.message.as_deref()).map(str::trim).unwrap_or_default();
    Some((if code.is_empty() { "status 1".into() } else { code.into() }, message.into()))
}

/// Escapes XML text.
pub(super) fn escape(s: &str) -> String {
    quick_xml::escape::escape(s).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_junk() {
        let c = Position { day: NaiveDate::from_ymd_opt(2026, 11, 3).unwrap(), start_count: 1001 };
        assert_eq!(Position::decode(&c.encode()), Some(c));
        for junk in ["", "v1", "v2.20261103.1", "v1.2026-11-03.1", "v1.20261103.0", "v1.20261103.1.9"] {
            assert_eq!(Position::decode(junk), None, "{junk}");
        }
    }

    #[test]
    fn credentials_never_show_in_debug() {
        let creds = AupayCredentials { shop_id: "54318092".into(), api_key: "SECRETKEY".into() };
        let client = AupayClient::new(HttpConfig::new("http://127.0.0.1:1"), "shop", creds).unwrap();
        let dbg = format!("{client:?}");
        assert!(!dbg.contains("SECRETKEY") && !dbg.contains("54318092"), "{dbg}");
    }

    #[test]
    fn error_envelopes_are_recognised() {
        let body = "<response><result><status>1</status><error><code>0002</code><message>認証に失敗しました</message></error></result></response>";
        assert_eq!(api_error(body), Some(("0002".into(), "認証に失敗しました".into())));
        assert_eq!(api_error("<response><result><status>0</status></result></response>"), None);
        assert_eq!(api_error("<response><resu"), None);
        assert_eq!(escape("a<&>"), "a&lt;&amp;&gt;");
    }
}
