//! The Qoo10 QAPI client: seller certification key, order searches split into short windows per
//! shipping status, the `SetSendingInfo` write-back, and the seller check `SetSellerCheckYN_V2`.
//!
//! Authentication (fact sheet §3, header style): `CertificationAPI.CreateCertificationKey` is called
//! once with the API key in the `GiosisCertificationKey` header and `user_id` / `pwd` in the form
//! body; the seller authorization key (SAK) it returns is cached and sent in the same header on
//! every other call. A data call refused for its key re-creates the SAK once (a changed QSM password
//! invalidates it); a second refusal is `Auth`.
//!
//! "Orders changed in a window": QAPI has no "updated since" search and no paging. Every shipping
//! status is searched by the date that moves an order into it ([`QUERIES`]), so a live order
//! appears in exactly one search of a window: status 1 by order date, 2 and 3 by payment date, 4 by
//! shipping date, 5 by delivered date. A cancelled line simply vanishes from these searches (fact
//! sheet §4.2), so the claim search `GetClaimInfo_V3` is read next ([`CLAIM_QUERIES`]: pending
//! cancels by request date, completed cancels and returns by completion date). Each pack a claim
//! names is then read whole ([`Qoo10Client::claimed_packs`]): its live lines by order-date searches
//! around its order time, its vanished lines with `GetShippingAndClaimInfoByOrderNo_V2`, so a pack
//! of which one line is cancelled stays an order of its other lines, and a pack with no live line
//! comes back `cancelled`. Each search covers a sub-window of at most [`MAX_SPAN_SECS`] (far below
//! the 90-day cap); an answer with [`ROW_CAP`] rows or more may have been cut, so the sub-window is
//! halved and searched again. One search (with the reads a claim answer needs) is one page; the
//! cursor `q<query>:<sub-window start, unix s>:<span s>` says where the pull is.
//!
//! By id ([`Qoo10Client::orders_by_id`]): QAPI's only per-order read is
//! `GetShippingAndClaimInfoByOrderNo_V2`, one order line (`orderNo`) a call, while our order id is
//! the pack. The client remembers the lines of every pack its searches and claim reads listed, and
//! each line's last search row. Fields the per-order read lacks (`ShippingRate`, `Addr1`/`Addr2`,
//! `SellerDiscount` ...) are taken from that row, so a pack whose lines or rows it does not hold
//! (a new process; lines known only from a claim) makes it sweep the last [`LOOKUP_DAYS`] once
//! (every shipping status and the claim statuses, by order date) to learn them.
//!
//! Seller check ([`OrderSource::acknowledge`]): `SetSellerCheckYN_V2` moves one order line from
//! `On request(2)` 配送要請 to 配送準備 (`Seller confirm(3)`) with the promised ship date
//! `EstShipDt` (yyyyMMdd), so every line of the pack is checked, one call each. A line already
//! checked (`-10012`) counts as done; a line not at 配送要請 (`-10013`: unpaid, shipped, cancelled)
//! did not need it. Both codes come from the transcribed QSM spec of the bulk variant
//! (`SetSellerCheckYNBulk`), whose checks the single call is taken to share (unverified).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, FixedOffset, NaiveDate, TimeZone, Timelike};
use ichigen_core::carrier::{tracking_digits, tracking_number_valid};
use ichigen_core::pipeline::Acknowledged;
use ichigen_core::{JST, Marketplace, Order, OrderStatus, Tracking};
use reqwest::header::HeaderValue;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use serde_json::{Map, Value};

use super::wire::ShippingRow;
use super::{
    OPERATION_BY_ORDER, OPERATION_CLAIMS, OPERATION_V2, claim_row, codes, json_objects, map, orders_from_rows_lenient,
    parse_body_lenient, raw_pack_key, row_from_object,
};
use crate::Body;
use crate::client::{
    ClientError, Cursor, Http, HttpConfig, Limit, OrderPage, OrderSource, Reply, Window, rejects, retry_after,
};

/// Production host of QAPI (paths start with [`API_PATH`]).
pub const PRODUCTION_BASE_URL: &str = "https://api.qoo10.jp";
/// Path of the QAPI service under the base URL; the method follows as `/<Class.Method>`.
pub const API_PATH: &str = "/GMKT.INC.Front.QAPIService/ebayjapan.qapi";
/// Creates the seller authorization key.
pub const OP_CERTIFY: &str = "CertificationAPI.CreateCertificationKey";
/// Searches order lines by status and date.
pub const OP_SEARCH: &str = OPERATION_V2;
/// Searches claims (cancellations, returns ...) by claim status and date.
pub const OP_CLAIMS: &str = OPERATION_CLAIMS;
/// Reads one order line's shipping and claim fields.
pub const OP_BY_ORDER: &str = OPERATION_BY_ORDER;
/// Registers carrier and tracking number of one order line.
pub const OP_SEND: &str = "ShippingBasic.SetSendingInfo";
/// The seller check of one order line: 配送要請 (2) → 配送準備 (3), with the promised ship date.
pub const OP_SELLER_CHECK: &str = "ShippingBasic.SetSellerCheckYN_V2";
/// The `QAPIVersion` header value.
pub const QAPI_VERSION: &str = "1.0";

/// The limit all operations share: the fact sheet's "1 request/second per shop".
// unverified: no published number; public clients pace themselves at one request a second overall.
pub const SHARED_LIMIT: Limit = Limit::new(1.0, 1);

/// Documented limits per operation, one table.
pub const LIMITS: [(&str, Limit); 11] = [
    // unverified: Qoo10 publishes no limit; the sheet advises at most 1 request/second.
    (OP_CERTIFY, Limit::new(1.0, 1)),
    // unverified: as above.
    (OP_SEARCH, Limit::new(1.0, 1)),
    // unverified: as above.
    (OP_CLAIMS, Limit::new(1.0, 1)),
    // unverified: as above.
    (OP_BY_ORDER, Limit::new(1.0, 1)),
    // unverified: as above.
    (OP_SEND, Limit::new(1.0, 1)),
    // unverified: as above.
    (OP_SELLER_CHECK, Limit::new(1.0, 1)),
    // unverified: as above (the stock methods, inventory.md §5.4).
    (super::stock::OP_DETAIL, Limit::new(1.0, 1)),
    // unverified: as above.
    (super::stock::OP_INVENTORY, Limit::new(1.0, 1)),
    // unverified: as above.
    (super::stock::OP_ALL_GOODS, Limit::new(1.0, 1)),
    // unverified: as above.
    (super::stock::OP_PRICE_QTY_BULK, Limit::new(1.0, 1)),
    // unverified: as above.
    (super::stock::OP_OPTION_QTY, Limit::new(1.0, 1)),
];

/// Order ids (packs) `orders_by_id` reads per marketplace call: the per-order read takes one
/// `orderNo` (fact sheet §2), so one, and a pack of several lines takes one call per line.
pub const MAX_IDS_PER_CALL: usize = 1;

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

/// `(ClaimStat, search_condition)` of the claim searches after [`QUERIES`] (fact sheet §4.3):
/// cancel requested (1) and cancelling (2) by claim request date (2); cancel completed (3), return
/// completed (6) and unpaid order cancelled (16) by completion date (3), so a cancel requested
/// before the window and completed in it is found.
pub const CLAIM_QUERIES: [(u8, u8); 5] = [(1, 2), (2, 2), (3, 3), (6, 3), (16, 3)];

/// How far back `orders_by_id` sweeps to learn the lines of a pack it has not seen.
// unverified: how far back the searches reach in total (fact sheet §4.2); one 90-day range.
pub const LOOKUP_DAYS: i64 = 90;

/// Order times of claimed packs closer than this are searched as one range (one search per
/// status instead of one per pack).
const CLUSTER_GAP_SECS: i64 = 86_400;

/// The `ResultCode` of the per-order read for an order number it does not know (§9).
const NOT_FOUND_CODE: &str = "-10003";
/// `SetSellerCheckYN*`: the line is already checked (配送準備 or beyond).
// unverified: listed for SetSellerCheckYNBulk in the transcribed QSM spec, not for the single call.
const ALREADY_CHECKED_CODE: &str = "-10012";
/// `SetSellerCheckYN*`: the line is not at 配送要請 (unpaid, shipped, cancelled).
// unverified: as above.
const NOT_REQUESTED_CODE: &str = "-10013";

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
    /// `packNo` → its `orderNo`s, from the rows seen (the write-back and the by-id read are per line).
    lines: Mutex<HashMap<String, Vec<String>>>,
    /// `orderNo` → its last search row (keys normalised), to fill what the per-order read lacks.
    rows: Mutex<HashMap<String, Map<String, Value>>>,
    /// Whether the by-id lookup sweep has run.
    swept: tokio::sync::Mutex<bool>,
    /// HTTP requests sent (every attempt, retries included).
    sent: AtomicU64,
    /// What the stock client learned of the shop's items ([`super::stock`]).
    pub(super) stock: super::stock::StockState,
}

impl std::fmt::Debug for Qoo10Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Qoo10Client").field("http", &self.http).field("shop_id", &self.shop_id).finish_non_exhaustive()
    }
}

/// Where a pull is: query index, sub-window start (unix seconds), sub-window length (seconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct Pos {
    q: usize,
    at: i64,
    span: i64,
}

impl Cursor for Pos {
    const TAG: &'static str = "qoo10-2";
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

/// The first whole second at or after `t`.
fn ceil_secs(t: &DateTime<FixedOffset>) -> i64 {
    t.timestamp() + i64::from(t.nanosecond() > 0)
}

/// Unix seconds as the API's `yyyyMMddHHmmss` in JST.
fn qoo10_time(secs: i64) -> String {
    match JST.timestamp_opt(secs, 0).single() {
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

/// Adds order line `no` to pack `pack`'s lines.
fn remember_line(lines: &mut HashMap<String, Vec<String>>, pack: &str, no: &str) {
    let entry = lines.entry(pack.to_owned()).or_default();
    if !entry.iter().any(|n| n == no) {
        entry.push(no.to_owned());
    }
}

/// The `orderNo` of a row object (keys normalised), as digits.
fn object_order_no(obj: &Map<String, Value>) -> Option<String> {
    let s = match obj.get("orderno")? {
        Value::Number(n) => n.as_u64()?.to_string(),
        Value::String(s) => s.trim().to_owned(),
        _ => return None,
    };
    (!s.is_empty() && s.len() <= 20 && s.bytes().all(|b| b.is_ascii_digit())).then_some(s)
}

/// Whether a wire value is null or blank text.
fn value_blank(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.trim().is_empty(),
        _ => false,
    }
}

/// A Qoo10 order time (`YYYY-MM-DD HH:MM:SS`, JST) as unix seconds.
fn order_secs(s: &str) -> Option<i64> {
    let t = chrono::NaiveDateTime::parse_from_str(s.trim(), "%Y-%m-%d %H:%M:%S").ok()?;
    JST.from_local_datetime(&t).single().map(|t| t.timestamp())
}

/// Times (unix seconds) merged into ranges `[first, last]` whose neighbours are at most
/// [`CLUSTER_GAP_SECS`] apart.
fn clusters(mut times: Vec<i64>) -> Vec<(i64, i64)> {
    times.sort_unstable();
    times.dedup();
    let mut out: Vec<(i64, i64)> = Vec::new();
    for t in times {
        match out.last_mut() {
            Some((_, end)) if t - *end <= CLUSTER_GAP_SECS => *end = t,
            _ => out.push((t, t)),
        }
    }
    out
}

fn short(s: &str) -> String {
    s.chars().filter(|c| !c.is_control()).take(MAX_MESSAGE_CHARS).collect()
}

fn malformed(operation: &str, detail: impl Into<String>) -> ClientError {
    ClientError::malformed(Marketplace::Qoo10, operation, detail)
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
            rows: Mutex::new(HashMap::new()),
            swept: tokio::sync::Mutex::new(false),
            sent: AtomicU64::new(0),
            stock: super::stock::StockState::default(),
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
    fn classify(&self, operation: &'static str, reply: Reply, pass: &[i64]) -> Result<Reply, ClientError> {
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
        if code == 0 || pass.contains(&code) {
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

    /// One QAPI call in header style with `key` in `GiosisCertificationKey`; the `ResultCode`s in
    /// `pass` come back as answers (a bulk call's "some rows failed"), not as errors.
    async fn call(
        &self,
        operation: &'static str,
        key: &SecretString,
        params: &[(&'static str, String)],
        pass: &[i64],
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
                |op, reply| self.classify(op, reply, pass),
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
        let reply = self.call(OP_CERTIFY, &c.api_key, &params, &[]).await?;
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
        self.authed_passing(operation, params, &[]).await
    }

    /// [`Qoo10Client::authed`], the `ResultCode`s in `pass` answered rather than refused.
    pub(super) async fn authed_passing(
        &self,
        operation: &'static str,
        params: &[(&'static str, String)],
        pass: &[i64],
    ) -> Result<Reply, ClientError> {
        let (key, fresh) = self.sak().await?;
        match self.call(operation, &key, params, pass).await {
            Err(ClientError::Auth { .. }) if !fresh => {
                {
                    let mut cached = self.sak.lock().await;
                    if cached.as_ref().is_some_and(|k| Arc::ptr_eq(k, &key)) {
                        *cached = None;
                    }
                }
                let (key, _) = self.sak().await?;
                self.call(operation, &key, params, pass).await
            }
            other => other,
        }
    }

    /// One GetShippingInfo_v2 search over `[from, to]` (unix seconds, inclusive).
    async fn search(&self, status: u8, condition: u8, from: i64, to: i64) -> Result<Body, ClientError> {
        self.ranged(OP_SEARCH, status, condition, from, to).await
    }

    /// One search of `operation` (`OP_SEARCH`: `ShippingStat`; `OP_CLAIMS`: `ClaimStat`) over
    /// `[from, to]` (unix seconds, inclusive).
    async fn ranged(
        &self,
        operation: &'static str,
        status: u8,
        condition: u8,
        from: i64,
        to: i64,
    ) -> Result<Body, ClientError> {
        let stat = if operation == OP_CLAIMS { "ClaimStat" } else { "ShippingStat" };
        let params = [
            (stat, status.to_string()),
            ("search_Sdate", qoo10_time(from)),
            ("search_Edate", qoo10_time(to)),
            ("search_condition", condition.to_string()),
        ];
        let reply = self.authed(operation, &params).await?;
        Ok(Body { name: operation.to_owned(), text: reply.body })
    }

    /// Every row object of `operation` over `[from, to]`, in sub-windows of at most
    /// [`MAX_SPAN_SECS`] halved at the row cap. Search rows are remembered.
    async fn objects_over(
        &self,
        operation: &'static str,
        status: u8,
        condition: u8,
        from: i64,
        to: i64,
    ) -> Result<Vec<Map<String, Value>>, ClientError> {
        let mut out = Vec::new();
        let (mut at, mut span) = (from, MAX_SPAN_SECS);
        while at <= to {
            let until = at.saturating_add(span).min(to.saturating_add(1));
            let body = self.ranged(operation, status, condition, at, until - 1).await?;
            let (_, objects) = json_objects(operation, &body.text)?;
            if objects.len() >= self.row_cap {
                if until - at <= 1 {
                    return Err(rejected(operation, "row-cap", "more rows in one second than one answer holds"));
                }
                span = (until - at) / 2;
                continue;
            }
            if operation == OP_SEARCH {
                self.remember_objects(&objects);
            }
            out.extend(objects);
            at = until;
        }
        Ok(out)
    }

    /// Remembers search row objects: their pack's lines and the row itself.
    fn remember_objects(&self, objects: &[Map<String, Value>]) {
        let (Ok(mut lines), Ok(mut rows)) = (self.lines.lock(), self.rows.lock()) else { return };
        for obj in objects {
            let (Some(pack), Some(no)) = (raw_pack_key(obj), object_order_no(obj)) else { continue };
            remember_line(&mut lines, &pack, &no);
            rows.insert(no, obj.clone());
        }
    }

    /// The current row(s) of order line `order_no` by `GetShippingAndClaimInfoByOrderNo_V2`, each
    /// completed with the fields it lacks from the line's last search row; `None` when Qoo10 does
    /// not know the number.
    async fn by_order(&self, order_no: &str) -> Result<Option<Vec<Map<String, Value>>>, ClientError> {
        let reply = match self.authed(OP_BY_ORDER, &[("OrderNo", order_no.to_owned())]).await {
            Err(ClientError::Rejected { code, .. }) if code == NOT_FOUND_CODE => return Ok(None),
            other => other?,
        };
        let (_, objects) = json_objects(OP_BY_ORDER, &reply.body)?;
        let merged = {
            let known = self.rows.lock().ok();
            objects
                .into_iter()
                .map(|fresh| {
                    let old = object_order_no(&fresh).and_then(|n| known.as_ref().and_then(|k| k.get(&n).cloned()));
                    match old {
                        // Fresh keys win; keys the per-order read lacks keep the search's value.
                        Some(mut row) => {
                            row.extend(fresh);
                            row
                        }
                        None => fresh,
                    }
                })
                .collect::<Vec<_>>()
        };
        if let Ok(mut lines) = self.lines.lock() {
            for obj in &merged {
                if let (Some(pack), Some(no)) = (raw_pack_key(obj), object_order_no(obj)) {
                    remember_line(&mut lines, &pack, &no);
                }
            }
        }
        Ok((!merged.is_empty()).then_some(merged))
    }

    /// The orders of the packs `claims` name, read whole: live lines from order-date searches
    /// around each pack's order time (one range for order times closer than a day), vanished
    /// lines from the per-order read, each line's claim status set from its claim row.
    async fn claimed_packs(
        &self,
        claims: &[super::wire::ClaimRow],
    ) -> Result<(Vec<Order>, Vec<crate::BadOrder>), ClientError> {
        let mut claim_of: HashMap<String, String> = HashMap::new();
        let mut packs: Vec<String> = Vec::new();
        let mut times: Vec<i64> = Vec::new();
        {
            let Ok(mut lines) = self.lines.lock() else { return Err(malformed(OP_CLAIMS, "client state poisoned")) };
            for c in claims {
                let (Some(pack), Some(no)) = (c.pack_no.as_ref(), c.order_no.as_ref()) else { continue };
                remember_line(&mut lines, &pack.0, &no.0);
                if let Some(st) = c.claim_status.as_deref() {
                    claim_of.insert(no.0.clone(), st.trim().to_owned());
                }
                if !packs.contains(&pack.0) {
                    packs.push(pack.0.clone());
                    if let Some(t) = c.order_date.as_deref().and_then(order_secs) {
                        times.push(t);
                    }
                }
            }
        }
        // Live lines of the claimed packs.
        let mut live: HashMap<String, Vec<Map<String, Value>>> = HashMap::new();
        for (a, b) in clusters(times) {
            for status in 1..=5 {
                for obj in self.objects_over(OP_SEARCH, status, 1, a, b).await? {
                    if let Some(pack) = raw_pack_key(&obj).filter(|p| packs.contains(p)) {
                        live.entry(pack).or_default().push(obj);
                    }
                }
            }
        }
        let mut rows: Vec<(&'static str, ShippingRow)> = Vec::new();
        let mut bad = Vec::new();
        for pack in &packs {
            let mut objects: Vec<(&'static str, Map<String, Value>)> =
                live.remove(pack).unwrap_or_default().into_iter().map(|o| (OP_SEARCH, o)).collect();
            let seen: Vec<String> = objects.iter().filter_map(|(_, o)| object_order_no(o)).collect();
            let known = self.lines.lock().ok().and_then(|l| l.get(pack).cloned()).unwrap_or_default();
            for no in known.iter().filter(|n| !seen.contains(n)) {
                if let Some(found) = self.by_order(no).await? {
                    objects.extend(found.into_iter().map(|o| (OP_BY_ORDER, o)));
                }
            }
            for (i, (op, mut obj)) in objects.into_iter().enumerate() {
                let claim = object_order_no(&obj).and_then(|n| claim_of.get(&n).cloned());
                let has_claim = obj.get("claimstatus").is_some_and(|v| !value_blank(v));
                if let (Some(c), false) = (claim, has_claim) {
                    obj.insert("claimstatus".into(), Value::String(c));
                }
                match row_from_object(op, i, obj) {
                    Ok(row) => rows.push((op, row)),
                    Err(e) => bad.push((Some(pack.clone()), e)),
                }
            }
        }
        let (orders, rejected) = orders_from_rows_lenient(&self.shop_id, rows, bad)?;
        Ok((orders, rejected))
    }

    /// Learns the lines of every pack placed in the last [`LOOKUP_DAYS`] (all shipping statuses and
    /// the claim statuses, by order date), once per client.
    async fn sweep(&self) -> Result<(), ClientError> {
        let mut done = self.swept.lock().await;
        if *done {
            return Ok(());
        }
        let now = chrono::Utc::now().timestamp();
        let from = now - LOOKUP_DAYS * 86_400;
        for status in 1..=5 {
            self.objects_over(OP_SEARCH, status, 1, from, now).await?;
        }
        for (stat, _) in CLAIM_QUERIES {
            let objects = self.objects_over(OP_CLAIMS, stat, 1, from, now).await?;
            let Ok(mut lines) = self.lines.lock() else { continue };
            for obj in objects {
                if let (Some(pack), Some(no)) = (raw_pack_key(&obj), object_order_no(&obj)) {
                    remember_line(&mut lines, &pack, &no);
                }
            }
        }
        *done = true;
        Ok(())
    }

    /// The current state of the orders (packs) `ids`, read line by line with
    /// `GetShippingAndClaimInfoByOrderNo_V2` ([`MAX_IDS_PER_CALL`]), rate-limited as every call.
    /// Ids Qoo10 does not return (unknown number, no line found in the last [`LOOKUP_DAYS`]) come
    /// back as missing, to be retried on the next pull. `next` is always `None`.
    async fn packs_by_id(&self, ids: &[String]) -> Result<OrderPage, ClientError> {
        let is_pack = |id: &str| !id.is_empty() && id.len() <= 20 && id.bytes().all(|b| b.is_ascii_digit());
        let known = |id: &str| self.lines.lock().ok().and_then(|l| l.get(id).cloned()).filter(|l| !l.is_empty());
        // Whole only with every line's search row at hand: the per-order read lacks the address
        // lines and the fee. Lines learned without their rows (a claim, a by-id read) sweep too.
        let whole = |id: &str| {
            known(id).is_some_and(|lines| self.rows.lock().is_ok_and(|r| lines.iter().all(|n| r.contains_key(n))))
        };
        if ids.iter().any(|id| is_pack(id) && !whole(id)) {
            self.sweep().await?;
        }
        let mut missing = Vec::new();
        let mut rows: Vec<(&'static str, ShippingRow)> = Vec::new();
        let mut bad = Vec::new();
        for id in ids {
            let Some(lines) = known(id).filter(|_| is_pack(id)) else {
                missing.push(id.clone());
                continue;
            };
            let mut found = false;
            for no in &lines {
                for (i, obj) in self.by_order(no).await?.unwrap_or_default().into_iter().enumerate() {
                    found = true;
                    match row_from_object(OP_BY_ORDER, i, obj) {
                        Ok(row) => rows.push((OP_BY_ORDER, row)),
                        Err(e) => bad.push((Some(id.clone()), e)),
                    }
                }
            }
            if !found {
                missing.push(id.clone());
            }
        }
        let (orders, bad) = orders_from_rows_lenient(&self.shop_id, rows, bad)?;
        let rejected = rejects(&self.shop_id, Marketplace::Qoo10, bad);
        Ok(OrderPage { orders, rejected, missing, next: None })
    }

    /// The `orderNo`s of `order`'s pack: remembered, or searched by its order time.
    async fn order_lines(&self, order: &Order) -> Result<Vec<String>, ClientError> {
        if let Some(l) = self.lines.lock().ok().and_then(|l| l.get(&order.order_id).cloned()) {
            return Ok(l);
        }
        let at = order.ordered_at.timestamp();
        // The shipping statuses the pack's lines can have (the source status may be a claim code).
        let statuses: &[u8] = match order.status {
            OrderStatus::AwaitingPayment => &[1],
            OrderStatus::ReadyToShip => &[3, 2],
            OrderStatus::Shipped => &[4, 5],
            _ => &[3, 2, 1],
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
            // The rows too, not only the lines: a later read by id completes its lines from them.
            let (_, objects) = json_objects(OP_SEARCH, &body.text)?;
            self.remember_objects(&objects);
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

impl Qoo10Client {
    /// The seller check of every line of `order`'s pack, promising `ship_by`.
    async fn seller_check(&self, order: &Order, ship_by: NaiveDate) -> Result<Acknowledged, ClientError> {
        let date = ship_by.format("%Y%m%d").to_string();
        let (mut done, mut not_requested) = (0, Vec::new());
        for order_no in self.order_lines(order).await? {
            let params = [("OrderNo", order_no.clone()), ("EstShipDt", date.clone())];
            match self.authed(OP_SELLER_CHECK, &params).await {
                Ok(_) => done += 1,
                Err(ClientError::Rejected { code, .. }) if code == ALREADY_CHECKED_CODE => done += 1,
                Err(ClientError::Rejected { code, .. }) if code == NOT_REQUESTED_CODE => not_requested.push(order_no),
                Err(ClientError::Rejected { code, message, .. }) => {
                    return Ok(Acknowledged::Refused {
                        retryable: false,
                        reason: format!("orderNo {order_no}: {code} {message}"),
                    });
                }
                Err(e) => return Err(e),
            }
        }
        Ok(if done > 0 {
            Acknowledged::Done
        } else {
            Acknowledged::NotAwaited {
                why: format!("{NOT_REQUESTED_CODE}: not at On request(2) (orderNo {})", not_requested.join(", ")),
            }
        })
    }
}

impl OrderSource for Qoo10Client {
    type Error = ClientError;

    fn max_ids_per_call(&self) -> usize {
        MAX_IDS_PER_CALL
    }

    async fn orders_by_id(&self, ids: &[String]) -> Result<OrderPage, ClientError> {
        self.packs_by_id(ids).await
    }

    fn marketplace(&self) -> Marketplace {
        Marketplace::Qoo10
    }

    async fn changed_orders(&self, window: &Window, cursor: Option<&str>) -> Result<OrderPage, ClientError> {
        let start = ceil_secs(&window.from);
        let end = ceil_secs(&window.to);
        let queries = QUERIES.len() + CLAIM_QUERIES.len();
        let mut pos = match cursor {
            None => Pos { q: 0, at: start, span: MAX_SPAN_SECS },
            Some(c) => Pos::decode(c)
                .filter(|p| p.q <= queries && p.at >= start && p.at <= end.max(start))
                .filter(|p| (1..=MAX_SPAN_SECS).contains(&p.span))
                .ok_or_else(|| rejected(OP_SEARCH, "cursor", "the cursor does not belong to this window"))?,
        };
        loop {
            let (operation, (status, condition)) = match QUERIES.get(pos.q) {
                Some(&q) => (OP_SEARCH, q),
                None => match pos.q.checked_sub(QUERIES.len()).and_then(|i| CLAIM_QUERIES.get(i)) {
                    Some(&q) => (OP_CLAIMS, q),
                    None => return Ok(OrderPage::default()),
                },
            };
            if pos.at >= end {
                pos = Pos { q: pos.q + 1, at: start, span: MAX_SPAN_SECS };
                continue;
            }
            let until = pos.at.saturating_add(pos.span).min(end);
            let body = self.ranged(operation, status, condition, pos.at, until - 1).await?;
            let (found, orders, bad) = if operation == OP_SEARCH {
                let (operation, objects) = json_objects(OP_SEARCH, &body.text)?;
                let found = objects.len();
                if found >= self.row_cap {
                    (found, Vec::new(), Vec::new())
                } else {
                    self.remember_objects(&objects);
                    let (mut rows, mut bad_rows) = (Vec::with_capacity(found), Vec::new());
                    for (i, obj) in objects.into_iter().enumerate() {
                        let key = raw_pack_key(&obj);
                        match row_from_object(operation, i, obj) {
                            Ok(row) => rows.push((operation, row)),
                            Err(e) => bad_rows.push((key, e)),
                        }
                    }
                    let (orders, bad) = orders_from_rows_lenient(&self.shop_id, rows, bad_rows)?;
                    (found, orders, bad)
                }
            } else {
                let (_, objects) = json_objects(OP_CLAIMS, &body.text)?;
                let found = objects.len();
                if found >= self.row_cap {
                    (found, Vec::new(), Vec::new())
                } else {
                    let claims =
                        objects.into_iter().enumerate().map(|(i, o)| claim_row(i, o)).collect::<Result<Vec<_>, _>>()?;
                    let (orders, bad) = self.claimed_packs(&claims).await?;
                    (found, orders, bad)
                }
            };
            if found >= self.row_cap {
                let width = until - pos.at;
                if width <= 1 {
                    return Err(rejected(operation, "row-cap", "more order lines in one second than one answer holds"));
                }
                pos.span = width / 2;
                continue;
            }
            let small = found < self.row_cap / 4;
            let span = if small { pos.span.saturating_mul(2).min(MAX_SPAN_SECS) } else { pos.span };
            let mut next = Pos { q: pos.q, at: until, span };
            if next.at >= end {
                next = Pos { q: pos.q + 1, at: start, span: MAX_SPAN_SECS };
            }
            let next = (next.q < queries).then(|| next.encode());
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
        // Fact sheet §8: not for status 1 (unpaid).
        if order.status == OrderStatus::AwaitingPayment {
            return Err(rejected(OP_SEND, "status", "the order is not paid yet"));
        }
        if !tracking_number_valid(tracking.carrier, &tracking.number) {
            return Err(rejected(OP_SEND, "tracking", "the tracking number fails the carrier's format or check digit"));
        }
        let corp = codes::shipping_corp(tracking.carrier)
            .ok_or_else(|| rejected(OP_SEND, "carrier", "the carrier has no Qoo10 ShippingCorp name"))?;
        let number = tracking_digits(&tracking.number);
        // One destination of a pack sent to several: only its own lines (its `shipment_id`).
        let lines = match tracking.shipment_id.as_deref() {
            Some(ids) => {
                if !order.shipments.iter().any(|s| s.shipment_id.as_deref() == Some(ids)) {
                    return Err(rejected(OP_SEND, "shipment", "the destination is not one of the order's"));
                }
                let ids: Vec<String> =
                    ids.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect();
                if ids.is_empty() {
                    return Err(rejected(OP_SEND, "shipment", "the destination names no order line"));
                }
                ids
            }
            None => self.order_lines(order).await?,
        };
        for order_no in lines {
            let params = [("OrderNo", order_no), ("ShippingCorp", corp.to_owned()), ("TrackingNo", number.clone())];
            self.authed(OP_SEND, &params).await?;
        }
        Ok(())
    }

    /// One pack a call (its lines one call each, [`OP_SELLER_CHECK`]).
    async fn acknowledge(&self, orders: &[Order], ship_by: NaiveDate) -> Result<Vec<Acknowledged>, ClientError> {
        let mut answers = Vec::with_capacity(orders.len());
        for order in orders {
            answers.push(self.seller_check(order, ship_by).await?);
        }
        Ok(answers)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_junk() {
        let p = Pos { q: 3, at: 1_790_000_000, span: 3600 };
        assert_eq!(Pos::decode(&p.encode()), Some(p));
        assert_eq!(Pos::decode("q1:2:3"), None);
        assert_eq!(Pos::decode("qoo10-2.{\"q\":1}"), None);
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
