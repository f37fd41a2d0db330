//! The SP-API client for Amazon.co.jp: LWA auth, Orders v2026-01-01 `searchOrders` paging with
//! sub-windows, `getOrder` reads by id, and v0 `confirmShipment` write-back.
//!
//! Auth: the refresh token, client id and client secret are exchanged at the LWA token endpoint for
//! a 1-hour access token (cached until a minute before expiry) sent as `x-amz-access-token`. Orders
//! v2026-01-01 returns personal data according to the app's roles: there is no Restricted Data
//! Token, and a field the roles do not unlock is simply absent.
//!
//! Paging: the puller's window is cut into sub-windows of at most [`AmazonConfig::max_window`] and
//! its end is clamped to "now − [`AmazonConfig::before_lag`]" (the API refuses a `lastUpdatedBefore`
//! later than two minutes before now). Each `changed_orders` call sends one searchOrders request
//! (100 orders a page, with items, status, address, buyer, money and packages inside via
//! `includedData`; no per-order detail call). The cursor records the sub-window, the next page's
//! `paginationToken` and when it was issued. A token lives 24 hours: an older one, or one the API
//! refuses, restarts its sub-window from the start. The result order is not documented, so nothing
//! is skipped on a restart: orders of the restarted sub-window may be delivered again, which the
//! store's "newer `source_updated_at` only" rule absorbs.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use chrono::{DateTime, FixedOffset, SecondsFormat, Timelike, Utc};
use ichigen_core::carrier::tracking_number_valid;
use ichigen_core::{JST, Marketplace, Order, OrderStatus, PaymentMethod, Tracking};
use reqwest::header::HeaderMap;
use reqwest::{RequestBuilder, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;
use tokio::task::JoinSet;

use super::codes::{self, MARKETPLACE_ID_JP};
use super::map::map_order;
use super::wire::{ErrorList, WireOrder};
use super::{GET_ORDER, SEARCH_ORDERS, SearchPage, parse_get_order_split, parse_search_lenient};
use crate::client::{
    ClientError, Cursor, Http, HttpConfig, Limit, OrderPage, OrderSource, RateLimiter, Reply, Window, rejects,
    retry_after,
};
use crate::{BadOrder, Body, NormalizeError};

/// confirmShipment (Orders v0, not deprecated).
pub const CONFIRM_SHIPMENT: &str = "confirmShipment";
/// The LWA token exchange.
pub const LWA_TOKEN: &str = "lwaToken";

/// Documented usage plans (rate per second, burst) of every operation this client calls.
pub const LIMITS: [(&str, Limit); 6] = [
    (SEARCH_ORDERS, Limit::new(0.0056, 20)),
    (GET_ORDER, Limit::new(0.5, 30)),
    (CONFIRM_SHIPMENT, Limit::new(2.0, 10)),
    // Listings Items v2021-08-01 (inventory.md §3.2, §3.3).
    (super::stock::PATCH_LISTINGS_ITEM, Limit::new(5.0, 5)),
    (super::stock::SEARCH_LISTINGS_ITEMS, Limit::new(5.0, 5)),
    // unverified: LWA publishes no rate for its token endpoint; tokens are cached for an hour.
    (LWA_TOKEN, Limit::new(1.0, 5)),
];

/// Production LWA host (the token path is `/auth/o2/token`).
pub const LWA_BASE_URL: &str = "https://api.amazon.com";
/// Production SP-API endpoint for Amazon.co.jp (Far East).
pub const SP_API_BASE_URL: &str = "https://sellingpartnerapi-fe.amazon.com";

const LWA_PATH: &str = "/auth/o2/token";
/// searchOrders; getOrder is `{ORDERS_PATH}/{orderId}`.
const ORDERS_PATH: &str = "/orders/2026-01-01/orders";
/// confirmShipment is `{CONFIRM_PATH}/{orderId}/shipmentConfirmation`.
const CONFIRM_PATH: &str = "/orders/v0/orders";
const PAGE_SIZE: u32 = 100;

/// The seller app's LWA credentials. Debug output shows the client id only.
#[derive(Debug, Clone)]
pub struct AmazonCredentials {
    /// `amzn1.application-oa2-client....` (not secret).
    pub client_id: String,
    /// LWA client secret.
    pub client_secret: SecretString,
    /// The seller's refresh token (`Atzr|...`).
    pub refresh_token: SecretString,
}

impl AmazonCredentials {
    /// Credentials from plain strings (read from a secret store); the secrets are wrapped at once.
    pub fn new(client_id: impl Into<String>, client_secret: String, refresh_token: String) -> AmazonCredentials {
        AmazonCredentials {
            client_id: client_id.into(),
            client_secret: SecretString::from(client_secret),
            refresh_token: SecretString::from(refresh_token),
        }
    }
}

/// Everything the client is built from.
#[derive(Debug, Clone)]
pub struct AmazonConfig {
    /// SP-API endpoint, timeout, retries, rate scale.
    pub http: HttpConfig,
    /// LWA base URL (production [`LWA_BASE_URL`]); separate from the SP-API host in real life.
    pub lwa_base_url: String,
    /// Marketplace id (`A1VC38T7YXB528`).
    pub marketplace_id: String,
    /// The shop the pulled orders belong to.
    pub shop_id: String,
    /// Longest sub-window one searchOrders chain covers.
    pub max_window: chrono::Duration,
    /// How far before now a `lastUpdatedBefore` must stay (the API says 2 minutes; we keep a margin).
    pub before_lag: chrono::Duration,
    /// Oldest `paginationToken` the client still sends (the API: 24 hours; we keep a margin).
    /// An older one restarts its sub-window instead.
    pub token_max_age: chrono::Duration,
    /// The seller's id (merchant token) the Listings Items API names in its paths; stock calls
    /// are refused without it.
    pub seller_id: Option<String>,
}

impl AmazonConfig {
    /// Production settings for `shop_id`.
    pub fn new(shop_id: impl Into<String>) -> AmazonConfig {
        AmazonConfig {
            http: HttpConfig::new(SP_API_BASE_URL),
            lwa_base_url: LWA_BASE_URL.to_string(),
            marketplace_id: MARKETPLACE_ID_JP.to_string(),
            shop_id: shop_id.into(),
            max_window: chrono::Duration::days(7),
            before_lag: chrono::Duration::seconds(130),
            token_max_age: chrono::Duration::hours(23),
            seller_id: None,
        }
    }
}

/// A token and when to stop using it.
struct Cached {
    token: SecretString,
    until: Instant,
}

pub(super) struct Inner {
    pub(super) config: AmazonConfig,
    credentials: AmazonCredentials,
    pub(super) api: Http,
    lwa: Http,
    access: Mutex<Option<Cached>>,
    requests: HashMap<&'static str, AtomicU64>,
    /// Buckets slower than the table, set from `x-amzn-RateLimit-Limit` when the API applies a
    /// lower rate to this seller than documented.
    applied: std::sync::Mutex<HashMap<&'static str, (f64, Arc<RateLimiter>)>>,
}

/// The Amazon.co.jp SP-API client. Cheap to clone.
#[derive(Clone)]
pub struct AmazonClient {
    pub(super) inner: Arc<Inner>,
}

impl std::fmt::Debug for AmazonClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AmazonClient")
            .field("base_url", &self.inner.config.http.base_url)
            .field("lwa_base_url", &self.inner.config.lwa_base_url)
            .field("client_id", &self.inner.credentials.client_id)
            .finish_non_exhaustive()
    }
}

/// Where a pull is: the sub-window, and the next page's token with the time it was issued.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Position {
    /// Sub-window start (inclusive), RFC 3339 UTC; also the `lastUpdatedAfter` sent.
    from: String,
    /// Sub-window end (exclusive), also the `lastUpdatedBefore` sent.
    to: String,
    /// `pagination.nextToken` of the next page, sent with exactly `from` / `to`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    token: Option<String>,
    /// When the token was received (Unix seconds): it expires 24 hours later.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    token_at: Option<i64>,
}

impl Cursor for Position {
    const TAG: &'static str = "amazon-2026";
}

fn utc(t: DateTime<FixedOffset>) -> String {
    t.with_timezone(&Utc).to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn parse_time(s: &str) -> Option<DateTime<FixedOffset>> {
    DateTime::parse_from_rfc3339(s.trim()).ok()
}

fn malformed(operation: &str, detail: impl Into<String>) -> ClientError {
    ClientError::malformed(Marketplace::Amazon, operation, detail)
}

fn bad_cursor() -> ClientError {
    ClientError::Rejected {
        marketplace: Marketplace::Amazon,
        operation: SEARCH_ORDERS,
        status: 0,
        code: "InvalidCursor".into(),
        message: "the resume cursor is not one this client wrote".into(),
    }
}

/// The wait a 429 asks for: `Retry-After`, else one token at the `x-amzn-RateLimit-Limit` rate.
fn throttle_wait(headers: &HeaderMap) -> Option<Duration> {
    retry_after(headers).or_else(|| {
        let rate: f64 = headers.get("x-amzn-RateLimit-Limit")?.to_str().ok()?.trim().parse().ok()?;
        (rate.is_finite() && rate > 0.0).then(|| Duration::from_secs_f64((1.0 / rate).min(3600.0)))
    })
}

/// SP-API rules: the `errors[]` code first, then the status.
fn classify_sp(operation: &'static str, reply: Reply) -> Result<Reply, ClientError> {
    let status = reply.status;
    if status.is_success() {
        return Ok(reply);
    }
    let first = serde_json::from_str::<ErrorList>(&reply.body).ok().and_then(|l| l.errors.into_iter().next());
    let (code, message) = first.map(|e| (e.code, e.message)).unwrap_or_default();
    let marketplace = Marketplace::Amazon;
    if status == StatusCode::TOO_MANY_REQUESTS || code == "QuotaExceeded" {
        return Err(ClientError::Throttled { marketplace, operation, retry_after: throttle_wait(&reply.headers) });
    }
    if status.is_server_error() || matches!(code.as_str(), "InternalFailure" | "ServiceUnavailable") {
        return Err(ClientError::Server { marketplace, operation, status: status.as_u16(), code });
    }
    if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN || code == "Unauthorized" {
        let code = if code.is_empty() { status.as_u16().to_string() } else { code };
        return Err(ClientError::Auth { marketplace, operation, code, message });
    }
    Err(ClientError::Rejected { marketplace, operation, status: status.as_u16(), code, message })
}

/// LWA (OAuth 2) error body.
#[derive(Deserialize)]
struct LwaError {
    error: String,
    #[serde(default)]
    error_description: String,
}

/// LWA rules: OAuth error codes about the client or the grant are credential problems.
fn classify_lwa(operation: &'static str, reply: Reply) -> Result<Reply, ClientError> {
    let status = reply.status;
    if status.is_success() {
        return Ok(reply);
    }
    let marketplace = Marketplace::Amazon;
    if status == StatusCode::TOO_MANY_REQUESTS {
        return Err(ClientError::Throttled { marketplace, operation, retry_after: retry_after(&reply.headers) });
    }
    if status.is_server_error() {
        return Err(ClientError::Server { marketplace, operation, status: status.as_u16(), code: String::new() });
    }
    let err = serde_json::from_str::<LwaError>(&reply.body).ok();
    let (code, message) = err.map(|e| (e.error, e.error_description)).unwrap_or_default();
    // unverified: LWA's exact error codes; these are the OAuth 2 ones (RFC 6749 §5.2).
    if matches!(code.as_str(), "invalid_client" | "invalid_grant" | "unauthorized_client")
        || status == StatusCode::UNAUTHORIZED
        || status == StatusCode::FORBIDDEN
    {
        return Err(ClientError::Auth { marketplace, operation, code, message });
    }
    Err(ClientError::Rejected { marketplace, operation, status: status.as_u16(), code, message })
}

#[derive(Deserialize)]
struct LwaToken {
    access_token: String,
    expires_in: u64,
}

pub(super) fn json_body<T: for<'de> Deserialize<'de>>(operation: &str, body: &str) -> Result<T, ClientError> {
    serde_json::from_str(body).map_err(|e| {
        malformed(
            operation,
            format!("not the expected JSON ({:?} error at line {} column {})", e.classify(), e.line(), e.column()),
        )
    })
}

/// An error of a body as a whole: the API's error envelope is a refusal, the rest malformed.
fn body_error(operation: &'static str, e: NormalizeError) -> ClientError {
    match e {
        NormalizeError::Api { code, message, .. } => {
            ClientError::Rejected { marketplace: Marketplace::Amazon, operation, status: 200, code, message }
        }
        other => ClientError::Malformed(other),
    }
}

/// Whether `id` can go into a URL path as it is (Amazon ids are `3-7-7` digits).
fn plausible_order_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// The `packageReferenceId` of a parcel: a positive number derived from its tracking number alone,
/// so a retry of the same parcel reuses it and another parcel of the order gets its own. A number
/// of digits (hyphens and spaces ignored) is used as it is, without leading zeros; anything else
/// gets a stable 64-bit FNV-1a hash of its upper-cased text, reduced to 1..=999,999,999,999.
pub fn package_reference_id(tracking_number: &str) -> String {
    let compact: String =
        tracking_number.chars().filter(|c| !matches!(c, '-' | ' ' | '\u{3000}')).collect::<String>().to_uppercase();
    if !compact.is_empty() && compact.len() <= 18 && compact.bytes().all(|b| b.is_ascii_digit()) {
        let digits = compact.trim_start_matches('0');
        if !digits.is_empty() {
            return digits.to_string();
        }
    }
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in compact.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    (h % 999_999_999_999 + 1).to_string()
}

impl AmazonClient {
    /// Largest number of order ids [`AmazonClient::orders_by_id`] sends in one marketplace call:
    /// getOrder reads one order, and searchOrders cannot filter by id.
    pub const MAX_IDS_PER_CALL: usize = 1;

    /// A client for `config` and `credentials`.
    pub fn new(config: AmazonConfig, credentials: AmazonCredentials) -> Result<AmazonClient, ClientError> {
        let transport = |source: reqwest::Error| ClientError::Transport {
            marketplace: Marketplace::Amazon,
            operation: "build",
            timeout: false,
            source,
        };
        let api = Http::new(Marketplace::Amazon, config.http.clone(), &LIMITS).map_err(transport)?;
        let mut lwa_http = config.http.clone();
        lwa_http.base_url = config.lwa_base_url.trim_end_matches('/').to_string();
        let lwa = Http::new(Marketplace::Amazon, lwa_http, &LIMITS).map_err(transport)?;
        let requests = LIMITS.iter().map(|(op, _)| (*op, AtomicU64::new(0))).collect();
        Ok(AmazonClient {
            inner: Arc::new(Inner {
                config,
                credentials,
                api,
                lwa,
                access: Mutex::new(None),
                requests,
                applied: std::sync::Mutex::new(HashMap::new()),
            }),
        })
    }

    /// Requests sent so far per operation (retries included).
    pub fn requests(&self) -> Vec<(&'static str, u64)> {
        let mut v: Vec<_> = self
            .inner
            .requests
            .iter()
            .map(|(op, n)| (*op, n.load(Ordering::Relaxed)))
            .filter(|(_, n)| *n > 0)
            .collect();
        v.sort();
        v
    }

    fn count(&self, operation: &'static str) {
        if let Some(n) = self.inner.requests.get(operation) {
            n.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// A valid LWA access token (cached until a minute before it expires).
    pub(super) async fn access_token(&self) -> Result<SecretString, ClientError> {
        let mut slot = self.inner.access.lock().await;
        if let Some(c) = slot.as_ref().filter(|c| c.until > Instant::now()) {
            return Ok(c.token.clone());
        }
        let creds = &self.inner.credentials;
        let url = self.inner.lwa.url(LWA_PATH);
        let reply = self
            .inner
            .lwa
            .send(
                LWA_TOKEN,
                || {
                    self.count(LWA_TOKEN);
                    self.inner.lwa.client().post(&url).form(&[
                        ("grant_type", "refresh_token"),
                        ("refresh_token", creds.refresh_token.expose_secret()),
                        ("client_id", creds.client_id.as_str()),
                        ("client_secret", creds.client_secret.expose_secret()),
                    ])
                },
                classify_lwa,
            )
            .await?;
        let t: LwaToken = json_body(LWA_TOKEN, &reply.body)?;
        let token = SecretString::from(t.access_token);
        *slot = Some(Cached { token: token.clone(), until: expiry(t.expires_in) });
        Ok(token)
    }

    /// After a credentials refusal, the cached token is dropped so the next call starts afresh.
    fn forget_on_auth(&self, e: &ClientError) {
        if matches!(e, ClientError::Auth { .. }) {
            if let Ok(mut a) = self.inner.access.try_lock() {
                *a = None;
            }
        }
    }

    /// Sends an SP-API call: waits for a lower applied rate if the API announced one, sends
    /// through the shared plumbing (table limits, retries), learns the applied rate from the reply.
    pub(super) async fn send_sp(
        &self,
        operation: &'static str,
        build: impl Fn() -> RequestBuilder,
    ) -> Result<Reply, ClientError> {
        let applied = self.inner.applied.lock().ok().and_then(|m| m.get(operation).map(|(_, l)| Arc::clone(l)));
        if let Some(l) = applied {
            l.acquire().await;
        }
        self.inner
            .api
            .send(
                operation,
                || {
                    self.count(operation);
                    build()
                },
                |op, reply| {
                    self.note_rate(op, &reply.headers);
                    classify_sp(op, reply)
                },
            )
            .await
            .inspect_err(|e| self.forget_on_auth(e))
    }

    /// Honours `x-amzn-RateLimit-Limit`: a rate below the (scaled) table rate gets its own bucket
    /// that later calls of the operation wait for; a rate back at the table drops it.
    fn note_rate(&self, operation: &'static str, headers: &HeaderMap) {
        let Some(rate) = headers
            .get("x-amzn-RateLimit-Limit")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<f64>().ok())
            .filter(|r| r.is_finite() && *r > 0.0)
        else {
            return;
        };
        let Some((_, table)) = LIMITS.iter().find(|(op, _)| *op == operation) else { return };
        let table = table.scaled(self.inner.config.http.rate_scale);
        let Ok(mut applied) = self.inner.applied.lock() else { return };
        if rate >= table.per_second * 0.999 {
            applied.remove(operation);
        } else if applied.get(operation).is_none_or(|(r, _)| (r - rate).abs() > rate * 1e-3) {
            applied.insert(operation, (rate, Arc::new(RateLimiter::new(Limit::new(rate, table.burst)))));
        }
    }

    /// The rates the API announced below the documented table, by operation.
    pub fn applied_rates(&self) -> Vec<(&'static str, f64)> {
        let mut v: Vec<_> =
            self.inner.applied.lock().map(|m| m.iter().map(|(op, (r, _))| (*op, *r)).collect()).unwrap_or_default();
        v.sort_by(|a, b| a.0.cmp(b.0));
        v
    }

    pub(super) fn sp(&self, b: RequestBuilder, token: &SecretString) -> RequestBuilder {
        b.header("x-amz-access-token", token.expose_secret()).header("accept", "application/json")
    }

    /// GET `path` with `query` for `operation`.
    async fn get(&self, operation: &'static str, path: &str, query: &[(&str, String)]) -> Result<String, ClientError> {
        let token = self.access_token().await?;
        let url = self.inner.api.url(path);
        let reply = self.send_sp(operation, || self.sp(self.inner.api.client().get(&url), &token).query(query)).await?;
        Ok(reply.body)
    }

    /// getOrder of one order with `included` data sets: `Ok(None)` when Amazon does not know the
    /// order (404); the inner error says the order's own fields do not read.
    async fn get_order(
        &self,
        order_id: &str,
        included: &[&str],
    ) -> Result<Option<Result<WireOrder, NormalizeError>>, ClientError> {
        let query = [("includedData", included.join(","))];
        let body = match self.get(GET_ORDER, &format!("{ORDERS_PATH}/{order_id}"), &query).await {
            Err(ClientError::Rejected { status: 404, .. }) => return Ok(None),
            other => other?,
        };
        let parsed = parse_get_order_split(&Body { name: GET_ORDER.to_string(), text: body })
            .map_err(|e| body_error(GET_ORDER, e))?;
        if let Ok(o) = &parsed {
            if o.order_id != order_id {
                return Err(malformed(GET_ORDER, "order.orderId is not the order asked for"));
            }
        }
        Ok(Some(parsed))
    }

    /// The current state of `ids`, one getOrder each (run concurrently, paced by getOrder's token
    /// bucket), with every data set a stored order needs. Orders Amazon does not know (404) come
    /// back as missing, to be retried by the caller; an order that does not read, map or
    /// validate is set aside in `rejected`. Repeated ids are read once.
    async fn read_by_id(&self, ids: &[String]) -> Result<OrderPage, ClientError> {
        let mut seen = HashSet::new();
        let mut bad = Vec::new();
        let mut tasks = JoinSet::new();
        let mut asked = Vec::new();
        for id in ids {
            if !seen.insert(id.as_str()) {
                continue;
            }
            if !plausible_order_id(id) {
                let e = NormalizeError::Malformed {
                    marketplace: Marketplace::Amazon,
                    operation: GET_ORDER.to_string(),
                    detail: "the id is not an Amazon order id; it is not sent".into(),
                };
                bad.push(BadOrder::new(Some(id), e));
                continue;
            }
            let i = asked.len();
            asked.push(id.clone());
            let me = self.clone();
            let id = id.clone();
            tasks.spawn(async move { (i, me.get_order(&id, &codes::INCLUDED_DATA).await) });
        }
        let mut got: Vec<Option<Option<Result<WireOrder, NormalizeError>>>> = (0..asked.len()).map(|_| None).collect();
        let mut first_error = None;
        while let Some(done) = tasks.join_next().await {
            match done {
                Ok((i, Ok(r))) => got[i] = Some(r),
                Ok((_, Err(e))) => {
                    if first_error.is_none() {
                        first_error = Some(e);
                        tasks.abort_all();
                    }
                }
                Err(join) if join.is_cancelled() => {}
                Err(_) => {
                    first_error.get_or_insert_with(|| malformed(GET_ORDER, "read task failed"));
                }
            }
        }
        if let Some(e) = first_error {
            return Err(e);
        }
        let shop = &self.inner.config.shop_id;
        let mut orders = Vec::new();
        let mut missing = Vec::new();
        for (id, r) in asked.into_iter().zip(got) {
            match r.flatten() {
                None => missing.push(id),
                Some(Err(e)) => bad.push(BadOrder::new(Some(&id), e)),
                Some(Ok(o)) => match map_order(shop, GET_ORDER, &o) {
                    Ok(order) => orders.push(order),
                    Err(e) => {
                        let at = parse_time(&o.created_time).map(|t| t.with_timezone(&JST));
                        bad.push(BadOrder::new(Some(&id), e).ordered(at));
                    }
                },
            }
        }
        let rejected = rejects(shop, Marketplace::Amazon, bad);
        Ok(OrderPage { orders, rejected, missing, next: None })
    }

    /// The first sub-window of `window` starting at `from`, or `None` when nothing is left.
    fn sub_window(&self, window: &Window, from: DateTime<FixedOffset>) -> Option<Position> {
        // The API speaks whole seconds: boundaries are cut to them so the cursor is exact.
        let whole = |t: DateTime<FixedOffset>| t.with_nanosecond(0).unwrap_or(t);
        let ceiling = (Utc::now() - self.inner.config.before_lag).fixed_offset();
        let end = whole(window.to.min(ceiling));
        let from = whole(from);
        if from >= end {
            return None;
        }
        let to = (from + self.inner.config.max_window).min(end);
        Some(Position { from: utc(from), to: utc(to), token: None, token_at: None })
    }

    /// One searchOrders call at `cursor`. A token older than the configured age is not sent, and one
    /// the API refuses is dropped: both restart the sub-window from its first page.
    async fn search_page(&self, cur: &Position) -> Result<SearchPage, ClientError> {
        let mut query = vec![
            ("marketplaceIds", self.inner.config.marketplace_id.clone()),
            ("lastUpdatedAfter", cur.from.clone()),
            ("lastUpdatedBefore", cur.to.clone()),
            ("includedData", codes::INCLUDED_DATA.join(",")),
            ("maxResultsPerPage", PAGE_SIZE.to_string()),
        ];
        let max_age = self.inner.config.token_max_age.num_seconds();
        let fresh = cur.token_at.is_none_or(|at| Utc::now().timestamp() - at < max_age);
        let token = cur.token.as_ref().filter(|_| fresh);
        if let Some(t) = token {
            query.push(("paginationToken", t.clone()));
        }
        let body = match self.get(SEARCH_ORDERS, ORDERS_PATH, &query).await {
            // An expired or unknown token: start the sub-window again.
            Err(ClientError::Rejected { status: 400, .. }) if token.is_some() => {
                query.retain(|(k, _)| *k != "paginationToken");
                self.get(SEARCH_ORDERS, ORDERS_PATH, &query).await?
            }
            other => other?,
        };
        parse_search_lenient(&Body { name: SEARCH_ORDERS.to_string(), text: body })
            .map_err(|e| body_error(SEARCH_ORDERS, e))
    }
}

fn expiry(expires_in: u64) -> Instant {
    // A minute's margin, but never a negative life.
    Instant::now() + Duration::from_secs(expires_in.saturating_sub(60).max(expires_in / 2))
}

impl OrderSource for AmazonClient {
    type Error = ClientError;

    fn max_ids_per_call(&self) -> usize {
        AmazonClient::MAX_IDS_PER_CALL
    }

    async fn orders_by_id(&self, ids: &[String]) -> Result<OrderPage, ClientError> {
        self.read_by_id(ids).await
    }

    fn marketplace(&self) -> Marketplace {
        Marketplace::Amazon
    }

    async fn changed_orders(&self, window: &Window, cursor: Option<&str>) -> Result<OrderPage, ClientError> {
        let cur = match cursor {
            Some(c) => Position::decode(c).ok_or_else(bad_cursor)?,
            None => match self.sub_window(window, window.from) {
                Some(c) => c,
                None => return Ok(OrderPage::default()),
            },
        };
        let (from, to) = match (parse_time(&cur.from), parse_time(&cur.to)) {
            (Some(f), Some(t)) if f < t => (f, t),
            _ => return Err(bad_cursor()),
        };
        let SearchPage { orders: found, mut bad, next_token } = self.search_page(&cur).await?;
        let shop = &self.inner.config.shop_id;
        let mut orders = Vec::with_capacity(found.len());
        for o in found {
            let ordered_at = parse_time(&o.created_time).map(|t| t.with_timezone(&JST));
            let Some(t) = parse_time(&o.last_updated_time) else {
                let e = NormalizeError::Malformed {
                    marketplace: Marketplace::Amazon,
                    operation: SEARCH_ORDERS.to_string(),
                    detail: "orders[].lastUpdatedTime is not an ISO 8601 date-time".into(),
                };
                bad.push(BadOrder::new(Some(&o.order_id), e).ordered(ordered_at));
                continue;
            };
            // Sub-windows are [from, to) while the API's bounds are inclusive: an order exactly at
            // `to` belongs to the next sub-window.
            if t < from || t >= to || t < window.from || t >= window.to {
                continue;
            }
            match map_order(shop, SEARCH_ORDERS, &o) {
                Ok(order) => orders.push(order),
                Err(e) => bad.push(BadOrder::new(Some(&o.order_id), e).ordered(ordered_at)),
            }
        }
        let next = match next_token {
            Some(t) => Some(Position { token: Some(t), token_at: Some(Utc::now().timestamp()), ..cur }),
            None => self.sub_window(window, to),
        };
        let next = next.map(|c| c.encode());
        Ok(OrderPage { orders, rejected: rejects(shop, Marketplace::Amazon, bad), next, missing: Vec::new() })
    }

    /// Confirms one parcel with v0 confirmShipment. The parcel gets its own `packageReferenceId`
    /// ([`package_reference_id`] of its tracking number), so a second parcel adds a package instead
    /// of editing the first. Before writing, getOrder (`FULFILLMENT`, `PACKAGES`) tells which
    /// packages exist and what is still open: a parcel already registered (a retry) is not sent
    /// again, and the lines still to ship go into the package.
    async fn register_tracking(&self, order: &Order, tracking: &Tracking) -> Result<(), ClientError> {
        let refuse = |code: &str, message: &str| ClientError::Rejected {
            marketplace: Marketplace::Amazon,
            operation: CONFIRM_SHIPMENT,
            status: 0,
            code: code.to_string(),
            message: message.to_string(),
        };
        if order.fulfilled_by_marketplace {
            return Err(refuse("FulfilledByAmazon", "Amazon ships FBA orders itself; no shipment is confirmed"));
        }
        if !tracking_number_valid(tracking.carrier, &tracking.number) {
            return Err(refuse("InvalidTrackingNumber", "the tracking number fails the carrier's check"));
        }
        if !plausible_order_id(&order.order_id) {
            return Err(refuse("InvalidOrderId", "the order id is not an Amazon order id"));
        }
        let reference = package_reference_id(&tracking.number);
        let current = match self.get_order(&order.order_id, &["FULFILLMENT", "PACKAGES"]).await? {
            Some(r) => r?,
            None => return Err(refuse("NotFound", "Amazon does not know the order")),
        };
        let live = |p: &&super::wire::OrderPackage| p.package_status.as_ref().is_none_or(|s| s.status != "CANCELLED");
        let registered = current.packages.iter().filter(live).any(|p| {
            p.package_reference_id == reference
                || p.tracking_number.as_deref().is_some_and(|n| package_reference_id(n) == reference)
        });
        if registered {
            // A retry of a parcel Amazon already has: nothing to write.
            return Ok(());
        }
        let status = current.fulfillment.as_ref().map(|f| f.fulfillment_status.as_str()).unwrap_or_default();
        if codes::status(status) == Some(OrderStatus::Cancelled) {
            return Err(refuse("OrderCancelled", "the order is cancelled"));
        }
        let items: Vec<_> = current
            .order_items
            .iter()
            .filter_map(|l| {
                let in_packages: u32 = current
                    .packages
                    .iter()
                    .filter(live)
                    .flat_map(|p| &p.package_items)
                    .filter(|pi| pi.order_item_id == l.order_item_id)
                    .map(|pi| pi.quantity)
                    .sum();
                let open = l
                    .fulfillment
                    .as_ref()
                    .and_then(|f| f.quantity_unfulfilled)
                    .unwrap_or_else(|| l.quantity_ordered.saturating_sub(in_packages));
                (open > 0).then(|| serde_json::json!({ "orderItemId": l.order_item_id, "quantity": open }))
            })
            .collect();
        if items.is_empty() {
            return Err(refuse("NothingToShip", "every line of the order is already in a confirmed package"));
        }
        let (carrier_code, carrier_name) = codes::carrier_fields(tracking.carrier);
        let ship_date = tracking.shipped_at.unwrap_or_else(|| Utc::now().with_timezone(&JST));
        let mut package = serde_json::json!({
            "packageReferenceId": reference,
            "carrierCode": carrier_code,
            "trackingNumber": tracking.number,
            "shipDate": ship_date.to_rfc3339_opts(SecondsFormat::Secs, false),
            "orderItems": items,
        });
        if carrier_code == codes::OTHER_CARRIER {
            package["carrierName"] = serde_json::json!(carrier_name);
        }
        let mut body =
            serde_json::json!({ "marketplaceId": self.inner.config.marketplace_id, "packageDetail": package });
        if order.payment_method == PaymentMethod::Cod {
            body["codCollectionMethod"] = serde_json::json!("DirectPayment");
        }
        let token = self.access_token().await?;
        let url = self.inner.api.url(&format!("{CONFIRM_PATH}/{}/shipmentConfirmation", order.order_id));
        self.send_sp(CONFIRM_SHIPMENT, || self.sp(self.inner.api.client().post(&url), &token).json(&body)).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_secrets() {
        let creds = AmazonCredentials {
            client_id: "amzn1.application-oa2-client.x".into(),
            client_secret: SecretString::from("s3cr3t-value".to_string()),
            refresh_token: SecretString::from("Atzr|refresh-value".to_string()),
        };
        let client = AmazonClient::new(AmazonConfig::new("shop"), creds.clone()).unwrap();
        let shown = format!("{client:?} {creds:?}");
        assert!(!shown.contains("s3cr3t") && !shown.contains("refresh-value"), "{shown}");
    }

    #[test]
    fn throttle_hint_comes_from_the_rate_header() {
        let mut h = HeaderMap::new();
        h.insert("x-amzn-RateLimit-Limit", "0.5".parse().unwrap());
        assert_eq!(throttle_wait(&h), Some(Duration::from_secs(2)));
        h.insert("retry-after", "7".parse().unwrap());
        assert_eq!(throttle_wait(&h), Some(Duration::from_secs(7)));
    }

    #[test]
    fn the_limits_are_the_v2026_usage_plans() {
        let limit = |op: &str| LIMITS.iter().find(|(o, _)| *o == op).map(|(_, l)| *l);
        assert_eq!(limit(SEARCH_ORDERS), Some(Limit::new(0.0056, 20)));
        assert_eq!(limit(GET_ORDER), Some(Limit::new(0.5, 30)));
        assert_eq!(limit(CONFIRM_SHIPMENT), Some(Limit::new(2.0, 10)));
        assert!(limit(LWA_TOKEN).is_some());
        assert!(limit("getOrders").is_none() && limit("createRestrictedDataToken").is_none());
    }

    #[test]
    fn package_reference_ids_are_positive_numbers_stable_per_parcel() {
        assert_eq!(package_reference_id("123456789012"), "123456789012");
        assert_eq!(package_reference_id("1234-5678-9012"), "123456789012", "hyphens do not make a new parcel");
        assert_eq!(package_reference_id("000123"), "123");
        let ems = package_reference_id("EA123456789JP");
        assert_eq!(ems, package_reference_id("ea123456789jp"));
        assert_ne!(ems, package_reference_id("EA123456780JP"));
        for id in [ems, package_reference_id("0000"), package_reference_id("")] {
            assert!(id.parse::<u64>().is_ok_and(|n| n > 0), "{id}");
        }
    }

    #[test]
    fn order_ids_that_cannot_go_into_a_path_are_not_sent() {
        assert!(plausible_order_id("250-1234567-8901234"));
        for bad in ["", "../x", "a b", "1/2", "x?y"] {
            assert!(!plausible_order_id(bad), "{bad}");
        }
    }
}
