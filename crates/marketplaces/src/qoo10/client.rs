//! The Qoo10 QAPI client: seller certification key, order searches split into short windows per
//! shipping status, and the `SetSendingInfo` write-back.
//!
//! Authentication (fact sheet §3, header style): `CertificationAPI.CreateCertificationKey` is called
//! once with the API key in the `GiosisCertificationKey` header and `user_id` / `pwd` in the form
//! body; the seller authorization key (SAK) it returns is cached and sent in the same header on
//! every other call. A data call refused for its key re-creates the SAK once (a changed QSM password
//! invalidates it); a second refusal is `Auth`.
//!
//! "Orders changed in a window": QAPI has no "updated since" search and no paging. Every shipping
//! status is searched by the date that moves an order into it ([`QUERIES`]), so an order appears
//! in exactly one search of a window: status 1 by order date, 2 and 3 by payment date, 4 by
//! shipping date, 5 by delivered date. Each search covers a sub-window of at most
//! [`MAX_SPAN_SECS`] (far below the 90-day cap); an answer with [`ROW_CAP`] rows or more may have
//! been cut, so the sub-window is halved and searched again. One search is one page; the cursor
//! `q<query>:<sub-window start, unix s>:<span s>` says where the pull is.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, FixedOffset, Offset, TimeZone, Timelike};
use ichigen_core::carrier::{tracking_digits, tracking_number_valid};
use ichigen_core::{Marketplace, Order, OrderStatus, Tracking};
use reqwest::header::HeaderValue;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use super::{OPERATION_V2, codes, map, orders_from_rows_lenient, parse_body_lenient};
use crate::client::{
    ClientError, Http, HttpConfig, Limit, OrderPage, OrderSource, Reply, Window, rejects, retry_after,
};
use crate::{Body, NormalizeError};

/// Production host of QAPI (paths start with [`API_PATH`]).
pub const PRODUCTION_BASE_URL: &str = "https://api.qoo10.jp";
/// Path of the QAPI service under the base URL; the method follows as `/<Class.Method>`.
pub const API_PATH: &str = "/GMKT.INC.Front.QAPIService/ebayjapan.qapi";
/// Creates the seller authorization key.
pub const OP_CERTIFY: &str = "CertificationAPI.CreateCertificationKey";
/// Searches order lines by status and date.
pub const OP_SEARCH: &str = OPERATION_V2;
/// Registers carrier and tracking number of one order line.
pub const OP_SEND: &str = "ShippingBasic.SetSendingInfo";
/// The `QAPIVersion` header value.
pub const QAPI_VERSION: &str = "1.0";

/// The limit all operations share: the fact sheet's "1 request/second per shop".
// unverified: no published number; public clients pace themselves at one request a second overall.
pub const SHARED_LIMIT: Limit = Limit::new(1.0, 1);

/// Documented limits per operation, one table.
pub const LIMITS: [(&str, Limit); 3] = [
    // unverified: Qoo10 publishes no limit; the sheet advises at most 1 request/second.
    (OP_CERTIFY, Limit::new(1.0, 1)),
    // unverified: as above.
    (OP_SEARCH, Limit::new(1.0, 1)),
    // unverified: as above.
    (OP_SEND, Limit::new(1.0, 1)),
];

/// Longest search window the API accepts (error `-10002` beyond).
pub const MAX_WINDOW_DAYS: i64 = 90;
/// Longest sub-window the client searches at once (the sheet advises 1–7 days).
pub const MAX_SPAN_SECS: i64 = 7 * 86_400;
/// Rows at which an answer is taken to be cut by the API's (unpublished) upper bound.
// unverified: the sheet says all rows are returned with an unknown upper bound.
pub const ROW_CAP: usize = 1_000;

/// `(ShippingStat, search_condition)` searched for every sub-window: each status by the date that
/// moves an order into it (1 order date, 2 payment date, 3 shipping date, 4 delivered date).
pub const QUERIES: [(u8, u8); 5] = [(1, 1), (2, 2), (3, 2), (4, 3), (5, 4)];

/// Result codes that mean the key is refused or expired (§9).
const AUTH_CODES: [i64; 5] = [-10000, -90001, -90002, -90003, -90004];
/// Also "key expired".
const AUTH_CODE_EXPIRED: i64 = -90005;
/// Longest API message kept in an error (characters).
const MAX_MESSAGE_CHARS: usize = 200;

/// What Qoo10 needs to certify a seller.
#[derive(Clone)]
pub struct Qoo10Credentials {
    /// The QAPI certification key (issued by Qoo10, valid one year).
    pub api_key: SecretString,
    /// The seller's QSM login ID.
    pub user_id: SecretString,
    /// The seller's QSM password.
    pub password: SecretString,
}

impl Qoo10Credentials {
    /// Credentials from the API key, QSM login ID and password.
    pub fn new(api_key: impl Into<String>, user_id: impl Into<String>, password: impl Into<String>) -> Self {
        Qoo10Credentials {
            api_key: SecretString::from(api_key.into()),
            user_id: SecretString::from(user_id.into()),
            password: SecretString::from(password.into()),
        }
    }
}

impl std::fmt::Debug for Qoo10Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Qoo10Credentials([REDACTED])")
    }
}

/// The Qoo10 QAPI client.
pub struct Qoo10Client {
    http: Http,
    credentials: Qoo10Credentials,
    shop_id: String,
    row_cap: usize,
    /// The cached seller authorization key.
    sak: tokio::sync::Mutex<Option<Arc<SecretString>>>,
    /// `packNo` → its `orderNo`s, from the rows seen (the write-back is per line).
    lines: Mutex<HashMap<String, Vec<String>>>,
    /// HTTP requests sent (every attempt, retries included).
    sent: AtomicU64,
}

impl std::fmt::Debug for Qoo10Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Qoo10Client").field("http", &self.http).field("shop_id", &self.shop_id).finish_non_exhaustive()
    }
}

/// Where a pull is: query index, sub-window start (unix seconds), sub-window length (seconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Pos {
    q: usize,
    at: i64,
    span: i64,
}

impl Pos {
    fn encode(&self) -> String {
        format!("q{}:{}:{}", self.q, self.at, self.span)
    }

    fn decode(s: &str) -> Option<Pos> {
        let mut parts = s.strip_prefix('q')?.split(':');
        let q = parts.next()?.parse().ok()?;
        let at = parts.next()?.parse().ok()?;
        let span = parts.next()?.parse().ok()?;
        parts.next().is_none().then_some(Pos { q, at, span })
    }
}

/// The envelope head: enough to classify an answer without reading its rows.
#[derive(Deserialize)]
struct Head {
    #[serde(rename = "ResultCode", default)]
    code: Option<serde_json::Value>,
    #[serde(rename = "ResultMsg", default)]
    message: Option<String>,
    #[serde(rename = "ResultObject", default)]
    object: Option<serde_json::Value>,
}

fn jst() -> FixedOffset {
    // 9 hours is within ±24 h, so this never falls back.
    FixedOffset::east_opt(9 * 3600).unwrap_or_else(|| chrono::Utc.fix())
}

/// The first whole second at or after `t`.
fn ceil_secs(t: &DateTime<FixedOffset>) -> i64 {
    t.timestamp() + i64::from(t.nanosecond() > 0)
}

/// Unix seconds as the API's `yyyyMMddHHmmss` in JST.
fn qoo10_time(secs: i64) -> String {
    match jst().timestamp_opt(secs, 0).single() {
        Some(t) => t.format("%Y%m%d%H%M%S").to_string(),
        None => String::new(),
    }
}

fn text_code(v: &serde_json::Value) -> Option<i64> {
    match v {
        serde_json::Value::Number(n) => n.as_i64(),
        serde_json::Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn short(s: &str) -> String {
    s.chars().filter(|c| !c.is_control()).take(MAX_MESSAGE_CHARS).collect()
}

fn malformed(operation: &str, detail: impl Into<String>) -> ClientError {
    ClientError::Malformed(NormalizeError::Malformed {
        marketplace: Marketplace::Qoo10,
        operation: operation.to_owned(),
        detail: detail.into(),
    })
}

fn rejected(operation: &'static str, code: &str, message: &str) -> ClientError {
    ClientError::Rejected {
        marketplace: Marketplace::Qoo10,
        operation,
        status: 0,
        code: code.to_owned(),
        message: message.to_owned(),
    }
}

/// Whether an error message is the API's "slow down" answer.
// unverified: Qoo10 documents no throttle code; these are the usual wordings.
fn is_throttle_message(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    m.contains("too many request") || m.contains("call limit") || m.contains("rate limit")
}

impl Qoo10Client {
    /// A client for `shop_id` with the documented limits of [`LIMITS`].
    pub fn new(
        config: HttpConfig,
        credentials: Qoo10Credentials,
        shop_id: impl Into<String>,
    ) -> Result<Qoo10Client, reqwest::Error> {
        Ok(Qoo10Client {
            http: Http::new(Marketplace::Qoo10, config, &LIMITS)?.with_shared_limit(SHARED_LIMIT),
            credentials,
            shop_id: shop_id.into(),
            row_cap: ROW_CAP,
            sak: tokio::sync::Mutex::new(None),
            lines: Mutex::new(HashMap::new()),
            sent: AtomicU64::new(0),
        })
    }

    /// The same client taking answers of `cap` rows as cut (tests use a small cap).
    pub fn with_row_cap(mut self, cap: usize) -> Qoo10Client {
        self.row_cap = cap.max(1);
        self
    }

    /// HTTP requests sent so far, retries included (for metrics and benchmarks).
    pub fn requests_sent(&self) -> u64 {
        self.sent.load(Ordering::Relaxed)
    }

    /// Classifies a reply: HTTP 429/5xx/other 4xx by the shared rules, then the body's
    /// `ResultCode` (0 passes, auth codes → `Auth`, throttle wording → `Throttled`, other → `Rejected`).
    fn classify(&self, operation: &'static str, reply: Reply) -> Result<Reply, ClientError> {
        if !reply.status.is_success() {
            return self.http.classify_status(operation, reply);
        }
        let text = reply.body.trim_start_matches('\u{feff}').trim_start();
        if text.starts_with("Can't find") {
            // Unknown class or method: plain text without a code.
            return Err(ClientError::Rejected {
                marketplace: Marketplace::Qoo10,
                operation,
                status: reply.status.as_u16(),
                code: super::PLAIN_TEXT_CODE.to_owned(),
                message: short(text.lines().next().unwrap_or("")),
            });
        }
        let head: Head = serde_json::from_str(text).map_err(|e| {
            if e.is_data() {
                malformed(operation, "the answer is not the ResultCode/ResultMsg envelope")
            } else {
                malformed(operation, format!("invalid JSON at line {} column {}", e.line(), e.column()))
            }
        })?;
        let code = head.code.as_ref().ok_or_else(|| malformed(operation, "ResultCode is missing"))?;
        let code = text_code(code).ok_or_else(|| malformed(operation, "ResultCode is not an integer"))?;
        if code == 0 {
            return Ok(reply);
        }
        let message = short(head.message.as_deref().unwrap_or(""));
        if is_throttle_message(&message) {
            return Err(ClientError::Throttled {
                marketplace: Marketplace::Qoo10,
                operation,
                retry_after: retry_after(&reply.headers),
            });
        }
        // Every refusal of CreateCertificationKey is about the API key, user id or password.
        if operation == OP_CERTIFY || AUTH_CODES.contains(&code) || code == AUTH_CODE_EXPIRED {
            return Err(ClientError::Auth {
                marketplace: Marketplace::Qoo10,
                operation,
                code: code.to_string(),
                message,
            });
        }
        Err(ClientError::Rejected {
            marketplace: Marketplace::Qoo10,
            operation,
            status: reply.status.as_u16(),
            code: code.to_string(),
            message,
        })
    }

    /// One QAPI call in header style with `key` in `GiosisCertificationKey`.
    async fn call(
        &self,
        operation: &'static str,
        key: &SecretString,
        params: &[(&'static str, String)],
    ) -> Result<Reply, ClientError> {
        let mut key = HeaderValue::from_str(key.expose_secret()).map_err(|_| ClientError::Auth {
            marketplace: Marketplace::Qoo10,
            operation,
            code: "key".to_owned(),
            message: "the key is not a valid header value".to_owned(),
        })?;
        key.set_sensitive(true);
        let url = self.http.url(&format!("{API_PATH}/{operation}"));
        let mut form: Vec<(&str, &str)> = vec![("returnType", "application/json")];
        form.extend(params.iter().map(|(k, v)| (*k, v.as_str())));
        self.http
            .send(
                operation,
                || {
                    self.sent.fetch_add(1, Ordering::Relaxed);
                    self.http
                        .client()
                        .post(&url)
                        .header("GiosisCertificationKey", key.clone())
                        .header("QAPIVersion", QAPI_VERSION)
                        .form(&form)
                },
                |op, reply| self.classify(op, reply),
            )
            .await
    }

    /// The cached SAK, created when there is none. `true` when it was created by this call.
    async fn sak(&self) -> Result<(Arc<SecretString>, bool), ClientError> {
        let mut cached = self.sak.lock().await;
        if let Some(k) = cached.as_ref() {
            return Ok((Arc::clone(k), false));
        }
        let c = &self.credentials;
        let params =
            [("user_id", c.user_id.expose_secret().to_owned()), ("pwd", c.password.expose_secret().to_owned())];
        let reply = self.call(OP_CERTIFY, &c.api_key, &params).await?;
        let head: Head = serde_json::from_str(reply.body.trim_start_matches('\u{feff}').trim_start())
            .map_err(|_| malformed(OP_CERTIFY, "invalid JSON"))?;
        let key = match head.object {
            Some(serde_json::Value::String(s)) if !s.trim().is_empty() => s.trim().to_owned(),
            _ => return Err(malformed(OP_CERTIFY, "ResultObject is not the seller authorization key")),
        };
        let key = Arc::new(SecretString::from(key));
        *cached = Some(Arc::clone(&key));
        Ok((key, true))
    }

    /// A data call with the SAK; a refused cached SAK is re-created once.
    async fn authed(&self, operation: &'static str, params: &[(&'static str, String)]) -> Result<Reply, ClientError> {
        let (key, fresh) = self.sak().await?;
        match self.call(operation, &key, params).await {
            Err(ClientError::Auth { .. }) if !fresh => {
                {
                    let mut cached = self.sak.lock().await;
                    if cached.as_ref().is_some_and(|k| Arc::ptr_eq(k, &key)) {
                        *cached = None;
                    }
                }
                let (key, _) = self.sak().await?;
                self.call(operation, &key, params).await
            }
            other => other,
        }
    }

    /// One GetShippingInfo_v2 search over `[from, to]` (unix seconds, inclusive).
    async fn search(&self, status: u8, condition: u8, from: i64, to: i64) -> Result<Body, ClientError> {
        let params = [
            ("ShippingStat", status.to_string()),
            ("search_Sdate", qoo10_time(from)),
            ("search_Edate", qoo10_time(to)),
            ("search_condition", condition.to_string()),
        ];
        let reply = self.authed(OP_SEARCH, &params).await?;
        Ok(Body { name: OP_SEARCH.to_owned(), text: reply.body })
    }

    /// Remembers the `orderNo`s of each pack for the write-back.
    fn remember(&self, rows: &[super::wire::ShippingRow]) {
        let Ok(mut lines) = self.lines.lock() else { return };
        for row in rows {
            let (Some(pack), Some(no)) = (map::pack_key(row), row.order_no.as_ref()) else { continue };
            let entry = lines.entry(pack.to_owned()).or_default();
            if !entry.contains(&no.0) {
                entry.push(no.0.clone());
            }
        }
    }

    /// The `orderNo`s of `order`'s pack: remembered, or searched by its order time.
    async fn order_lines(&self, order: &Order) -> Result<Vec<String>, ClientError> {
        if let Some(l) = self.lines.lock().ok().and_then(|l| l.get(&order.order_id).cloned()) {
            return Ok(l);
        }
        let at = order.ordered_at.timestamp();
        // The shipping statuses the pack's lines can have (the source status may be a claim code).
        let statuses: &[u8] = match order.status {
            OrderStatus::New => &[1],
            OrderStatus::ReadyToShip => &[2, 3],
            OrderStatus::Shipped => &[4, 5],
            _ => &[2, 3, 1],
        };
        for &status in statuses {
            let body = self.search(status, 1, at, at).await?;
            // Rows of other packs that do not read are no reason to refuse this write-back; a row of
            // this pack (or of an unknown one) that does not read is: a line could be missed.
            let (_, rows, bad_rows) = parse_body_lenient(&body)?;
            let ours = |k: &Option<String>| k.as_deref().is_none_or(|k| k == order.order_id);
            if let Some((_, e)) = bad_rows.into_iter().find(|(k, _)| ours(k)) {
                return Err(e.into());
            }
            self.remember(&rows);
            let found: Vec<String> = rows
                .iter()
                .filter(|r| map::pack_key(r) == Some(order.order_id.as_str()))
                .filter_map(|r| r.order_no.as_ref().map(|n| n.0.clone()))
                .collect();
            if !found.is_empty() {
                return Ok(found);
            }
        }
        Err(rejected(OP_SEND, "not-found", "no order lines found for this pack"))
    }
}

impl OrderSource for Qoo10Client {
    type Error = ClientError;

    fn max_ids_per_call(&self) -> usize {
        1
    }

    // merge-pending: the marketplace's by-id read lands with its branch.
    async fn orders_by_id(&self, ids: &[String]) -> Result<OrderPage, ClientError> {
        Ok(OrderPage { missing: ids.to_vec(), ..OrderPage::default() })
    }

    fn marketplace(&self) -> Marketplace {
        Marketplace::Qoo10
    }

    async fn changed_orders(&self, window: &Window, cursor: Option<&str>) -> Result<OrderPage, ClientError> {
        let start = ceil_secs(&window.from);
        let end = ceil_secs(&window.to);
        let mut pos = match cursor {
            None => Pos { q: 0, at: start, span: MAX_SPAN_SECS },
            Some(c) => Pos::decode(c)
                .filter(|p| p.q <= QUERIES.len() && p.at >= start && p.at <= end.max(start))
                .filter(|p| (1..=MAX_SPAN_SECS).contains(&p.span))
                .ok_or_else(|| rejected(OP_SEARCH, "cursor", "the cursor does not belong to this window"))?,
        };
        loop {
            let Some(&(status, condition)) = QUERIES.get(pos.q) else {
                return Ok(OrderPage::default());
            };
            if pos.at >= end {
                pos = Pos { q: pos.q + 1, at: start, span: MAX_SPAN_SECS };
                continue;
            }
            let until = pos.at.saturating_add(pos.span).min(end);
            let body = self.search(status, condition, pos.at, until - 1).await?;
            let (operation, rows, bad_rows) = parse_body_lenient(&body)?;
            if rows.len() + bad_rows.len() >= self.row_cap {
                let width = until - pos.at;
                if width <= 1 {
                    return Err(rejected(OP_SEARCH, "row-cap", "more order lines in one second than one answer holds"));
                }
                pos.span = width / 2;
                continue;
            }
            self.remember(&rows);
            let small = rows.len() + bad_rows.len() < self.row_cap / 4;
            let (orders, bad) =
                orders_from_rows_lenient(&self.shop_id, rows.into_iter().map(|r| (operation, r)).collect(), bad_rows)?;
            let span = if small { pos.span.saturating_mul(2).min(MAX_SPAN_SECS) } else { pos.span };
            let mut next = Pos { q: pos.q, at: until, span };
            if next.at >= end {
                next = Pos { q: pos.q + 1, at: start, span: MAX_SPAN_SECS };
            }
            let next = (next.q < QUERIES.len()).then(|| next.encode());
            let rejected = rejects(&self.shop_id, Marketplace::Qoo10, bad);
            return Ok(OrderPage { orders, rejected, next, missing: Vec::new() });
        }
    }

    async fn register_tracking(&self, order: &Order, tracking: &Tracking) -> Result<(), ClientError> {
        if order.marketplace != Marketplace::Qoo10 {
            return Err(rejected(OP_SEND, "marketplace", "the order is not a Qoo10 order"));
        }
        if order.status == OrderStatus::Cancelled {
            return Err(rejected(OP_SEND, "status", "the order is cancelled"));
        }
        if !tracking_number_valid(tracking.carrier, &tracking.number) {
            return Err(rejected(OP_SEND, "tracking", "the tracking number fails the carrier's format or check digit"));
        }
        let corp = codes::shipping_corp(tracking.carrier)
            .ok_or_else(|| rejected(OP_SEND, "carrier", "the carrier has no Qoo10 ShippingCorp name"))?;
        let number = tracking_digits(&tracking.number);
        for order_no in self.order_lines(order).await? {
            let params = [("OrderNo", order_no), ("ShippingCorp", corp.to_owned()), ("TrackingNo", number.clone())];
            self.authed(OP_SEND, &params).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_junk() {
        let p = Pos { q: 3, at: 1_790_000_000, span: 3600 };
        assert_eq!(Pos::decode(&p.encode()), Some(p));
        assert_eq!(Pos::decode("q1:2"), None);
        assert_eq!(Pos::decode("x1:2:3"), None);
        assert_eq!(Pos::decode("q1:2:3:4"), None);
    }

    #[test]
    fn times_are_jst_seconds() {
        let t = DateTime::parse_from_rfc3339("2026-11-01T00:00:00.5+00:00").unwrap_or_default();
        assert_eq!(ceil_secs(&t), t.timestamp() + 1);
        assert_eq!(qoo10_time(t.timestamp()), "20261101090000");
    }

    #[test]
    fn credentials_never_show_in_debug() {
        let c = Qoo10Credentials {
            api_key: SecretString::from("api-secret"),
            user_id: SecretString::from("seller"),
            password: SecretString::from("pw-secret"),
        };
        let shown = format!("{c:?}");
        assert!(!shown.contains("secret") && !shown.contains("seller"), "{shown}");
    }
}
