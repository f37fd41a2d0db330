//! The SP-API Orders v0 client for Amazon.co.jp: LWA + Restricted Data Token auth, getOrders
//! paging with sub-windows, detail fetch, confirmShipment write-back.
//!
//! Auth: the refresh token, client id and client secret are exchanged at the LWA token endpoint for
//! a 1-hour access token (cached until a minute before expiry) sent as `x-amz-access-token`. One
//! Restricted Data Token covering getOrders (dataElements `buyerInfo`, `shippingAddress`) and the
//! getOrderAddress template is minted with createRestrictedDataToken and cached the same way; the
//! PII operations send it instead of the access token.
//!
//! Paging: the puller's window is cut into sub-windows of at most [`AmazonConfig::max_window`] and
//! its end is clamped to "now − [`AmazonConfig::before_lag`]" (the API refuses a `LastUpdatedBefore`
//! later than two minutes before now). Each `changed_orders` call sends one getOrders request
//! (100 per page, `NextToken` with the unchanged filters), then fetches getOrderItems for every order
//! and getOrderAddress (delivery instructions) for MFN orders still to ship. The cursor records the
//! sub-window, the exact filter values, the next token and the last order delivered, so a puller
//! resumes exactly there; an expired or refused `NextToken` restarts the sub-window and skips what
//! was already delivered.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use chrono::{DateTime, FixedOffset, SecondsFormat, Timelike, Utc};
use ichigen_core::carrier::tracking_number_valid;
use ichigen_core::{Marketplace, Order, PaymentMethod, Tracking};
use reqwest::header::HeaderMap;
use reqwest::{RequestBuilder, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;
use tokio::task::JoinSet;

use super::codes::{self, MARKETPLACE_ID_JP};
use super::map::{JST, OrderParts, map_order};
use super::wire::{ErrorList, OrderAddress, WireOrder, WireOrderItem};
use super::{OrdersPage, Parsed, parse_orders_lenient, parse_split};
use crate::client::{
    ClientError, Http, HttpConfig, Limit, OrderPage, OrderSource, RateLimiter, Reply, Window, rejects, retry_after,
};
use crate::{BadOrder, Body, NormalizeError};

/// getOrders.
pub const GET_ORDERS: &str = "getOrders";
/// getOrderItems.
pub const GET_ORDER_ITEMS: &str = "getOrderItems";
/// getOrderAddress.
pub const GET_ORDER_ADDRESS: &str = "getOrderAddress";
/// confirmShipment.
pub const CONFIRM_SHIPMENT: &str = "confirmShipment";
/// createRestrictedDataToken (Tokens API).
pub const CREATE_RDT: &str = "createRestrictedDataToken";
/// The LWA token exchange.
pub const LWA_TOKEN: &str = "lwaToken";

/// Documented usage plans (rate per second, burst) of every operation this client may call.
pub const LIMITS: [(&str, Limit); 11] = [
    (GET_ORDERS, Limit::new(0.0167, 20)),
    ("getOrder", Limit::new(0.5, 30)),
    (GET_ORDER_ITEMS, Limit::new(0.5, 30)),
    (GET_ORDER_ADDRESS, Limit::new(0.5, 30)),
    ("getOrderBuyerInfo", Limit::new(0.5, 30)),
    ("getOrderItemsBuyerInfo", Limit::new(0.5, 30)),
    (CONFIRM_SHIPMENT, Limit::new(2.0, 10)),
    ("updateShipmentStatus", Limit::new(5.0, 15)),
    ("getOrderRegulatedInfo", Limit::new(0.5, 30)),
    (CREATE_RDT, Limit::new(1.0, 10)),
    // unverified: LWA publishes no rate for its token endpoint; tokens are cached for an hour.
    (LWA_TOKEN, Limit::new(1.0, 5)),
];

/// Production LWA host (the token path is `/auth/o2/token`).
pub const LWA_BASE_URL: &str = "https://api.amazon.com";
/// Production SP-API endpoint for Amazon.co.jp (Far East).
pub const SP_API_BASE_URL: &str = "https://sellingpartnerapi-fe.amazon.com";

const LWA_PATH: &str = "/auth/o2/token";
const RDT_PATH: &str = "/tokens/2021-03-01/restrictedDataToken";
const ORDERS_PATH: &str = "/orders/v0/orders";
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
    /// Longest sub-window one getOrders chain covers.
    pub max_window: chrono::Duration,
    /// How far before now a `LastUpdatedBefore` must stay (the API says 2 minutes; we keep a margin).
    pub before_lag: chrono::Duration,
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
        }
    }
}

/// A token and when to stop using it.
struct Cached {
    token: SecretString,
    until: Instant,
}

struct Inner {
    config: AmazonConfig,
    credentials: AmazonCredentials,
    api: Http,
    lwa: Http,
    access: Mutex<Option<Cached>>,
    rdt: Mutex<Option<Cached>>,
    requests: HashMap<&'static str, AtomicU64>,
    /// Buckets slower than the table, set from `x-amzn-RateLimit-Limit` when the API applies a
    /// lower rate to this seller than documented.
    applied: std::sync::Mutex<HashMap<&'static str, (f64, Arc<RateLimiter>)>>,
}

/// The Amazon.co.jp SP-API client. Cheap to clone.
#[derive(Clone)]
pub struct AmazonClient {
    inner: Arc<Inner>,
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

/// Where a pull is: the sub-window, the exact filters sent, the next token, the last order given.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Cursor {
    /// Sub-window start (inclusive), RFC 3339 UTC.
    from: String,
    /// Sub-window end (exclusive), also the `LastUpdatedBefore` sent.
    to: String,
    /// `NextToken` of the next page, sent with exactly `from` / `to`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    token: Option<String>,
    /// Last order delivered in this sub-window: (`LastUpdateDate`, `AmazonOrderId`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    last: Option<(String, String)>,
}

fn utc(t: DateTime<FixedOffset>) -> String {
    t.with_timezone(&Utc).to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn parse_time(s: &str) -> Option<DateTime<FixedOffset>> {
    DateTime::parse_from_rfc3339(s).ok()
}

fn malformed(operation: &str, detail: impl Into<String>) -> ClientError {
    ClientError::Malformed(NormalizeError::Malformed {
        marketplace: Marketplace::Amazon,
        operation: operation.to_string(),
        detail: detail.into(),
    })
}

fn bad_cursor() -> ClientError {
    ClientError::Rejected {
        marketplace: Marketplace::Amazon,
        operation: GET_ORDERS,
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

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RdtToken {
    restricted_data_token: String,
    expires_in: u64,
}

fn json_body<T: for<'de> Deserialize<'de>>(operation: &str, body: &str) -> Result<T, ClientError> {
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

/// Parses a per-order Orders v0 body, naming `operation`: a body that is no readable answer fails
/// the call, a payload whose fields do not read is the order's own fault (inner error).
fn parse_as(operation: &'static str, text: String) -> Result<Result<Parsed, NormalizeError>, ClientError> {
    parse_split(&Body { name: operation.to_string(), text }).map_err(|e| body_error(operation, e))
}

/// Whether an order's address and instructions are worth a getOrderAddress call.
fn needs_address(o: &WireOrder) -> bool {
    o.fulfillment_channel.as_deref() != Some(codes::FULFILLED_BY_AMAZON)
        && matches!(o.order_status.as_str(), "Unshipped" | "PartiallyShipped")
}

impl AmazonClient {
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
                rdt: Mutex::new(None),
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
    async fn access_token(&self) -> Result<SecretString, ClientError> {
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

    /// A Restricted Data Token for getOrders with PII and getOrderAddress (cached like the access token).
    async fn rdt(&self) -> Result<SecretString, ClientError> {
        let mut slot = self.inner.rdt.lock().await;
        if let Some(c) = slot.as_ref().filter(|c| c.until > Instant::now()) {
            return Ok(c.token.clone());
        }
        let access = self.access_token().await?;
        let body = serde_json::json!({
            "restrictedResources": [
                { "method": "GET", "path": ORDERS_PATH, "dataElements": ["buyerInfo", "shippingAddress"] },
                { "method": "GET", "path": "/orders/v0/orders/{orderId}/address" },
            ]
        });
        let url = self.inner.api.url(RDT_PATH);
        let reply =
            self.send_sp(CREATE_RDT, || self.sp(self.inner.api.client().post(&url), &access).json(&body)).await?;
        let t: RdtToken = json_body(CREATE_RDT, &reply.body)?;
        let token = SecretString::from(t.restricted_data_token);
        *slot = Some(Cached { token: token.clone(), until: expiry(t.expires_in) });
        Ok(token)
    }

    /// After a credentials refusal, the cached tokens are dropped so the next call starts afresh.
    fn forget_on_auth(&self, e: &ClientError) {
        if matches!(e, ClientError::Auth { .. }) {
            if let Ok(mut a) = self.inner.access.try_lock() {
                *a = None;
            }
            if let Ok(mut r) = self.inner.rdt.try_lock() {
                *r = None;
            }
        }
    }

    /// Sends an SP-API call: waits for a lower applied rate if the API announced one, sends
    /// through the shared plumbing (table limits, retries), learns the applied rate from the reply.
    async fn send_sp(&self, operation: &'static str, build: impl Fn() -> RequestBuilder) -> Result<Reply, ClientError> {
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

    fn sp(&self, b: RequestBuilder, token: &SecretString) -> RequestBuilder {
        b.header("x-amz-access-token", token.expose_secret()).header("accept", "application/json")
    }

    /// GET `path` with `query` for `operation`, authorised with `token`.
    async fn get(
        &self,
        operation: &'static str,
        path: &str,
        query: &[(&str, String)],
        token: &SecretString,
    ) -> Result<String, ClientError> {
        let url = self.inner.api.url(path);
        let reply = self.send_sp(operation, || self.sp(self.inner.api.client().get(&url), token).query(query)).await?;
        Ok(reply.body)
    }

    /// Every line of one order (following getOrderItems' `NextToken`); the inner error says the
    /// order's lines do not read.
    async fn order_items(&self, order_id: &str) -> Result<Result<Vec<WireOrderItem>, NormalizeError>, ClientError> {
        let token = self.access_token().await?;
        let path = format!("{ORDERS_PATH}/{order_id}/orderItems");
        let mut lines = Vec::new();
        let mut next: Option<String> = None;
        for _ in 0..1_000 {
            let query: Vec<(&str, String)> = next.iter().map(|t| ("NextToken", t.clone())).collect();
            let body = self.get(GET_ORDER_ITEMS, &path, &query, &token).await?;
            let list = match parse_as(GET_ORDER_ITEMS, body)? {
                Ok(Parsed::Items(list)) => list,
                Ok(_) => return Err(malformed(GET_ORDER_ITEMS, "body is not a getOrderItems response")),
                Err(e) => return Ok(Err(e)),
            };
            if list.amazon_order_id != order_id {
                return Err(malformed(GET_ORDER_ITEMS, "AmazonOrderId is not the order asked for"));
            }
            lines.extend(list.order_items);
            match list.next_token.filter(|t| !t.is_empty()) {
                Some(t) => next = Some(t),
                None => return Ok(Ok(lines)),
            }
        }
        Err(malformed(GET_ORDER_ITEMS, "NextToken never ends"))
    }

    /// getOrderAddress with the RDT; the inner error says the order's address does not read.
    async fn order_address(&self, order_id: &str) -> Result<Result<OrderAddress, NormalizeError>, ClientError> {
        let rdt = self.rdt().await?;
        let body = self.get(GET_ORDER_ADDRESS, &format!("{ORDERS_PATH}/{order_id}/address"), &[], &rdt).await?;
        match parse_as(GET_ORDER_ADDRESS, body)? {
            Ok(Parsed::Address(a)) if a.amazon_order_id == order_id => Ok(Ok(*a)),
            Ok(_) => Err(malformed(GET_ORDER_ADDRESS, "body is not this order's getOrderAddress response")),
            Err(e) => Ok(Err(e)),
        }
    }

    /// Lines (and address for orders to ship) of every header, fetched concurrently; each
    /// operation's token bucket paces them. An order whose details or mapping fail is set aside.
    async fn details(&self, headers: Vec<WireOrder>) -> Result<(Vec<Order>, Vec<BadOrder>), ClientError> {
        let mut tasks = JoinSet::new();
        for (i, h) in headers.iter().enumerate() {
            let me = self.clone();
            let id = h.amazon_order_id.clone();
            tasks.spawn(async move { (i, me.order_items(&id).await.map(|r| r.map(Detail::Items))) });
            if needs_address(h) {
                let me = self.clone();
                let id = h.amazon_order_id.clone();
                tasks.spawn(async move {
                    (i, me.order_address(&id).await.map(|r| r.map(|a| Detail::Address(Box::new(a)))))
                });
            }
        }
        let mut items: Vec<Option<Vec<WireOrderItem>>> = vec![None; headers.len()];
        let mut addresses: Vec<Option<OrderAddress>> = vec![None; headers.len()];
        let mut broken: Vec<Option<NormalizeError>> = (0..headers.len()).map(|_| None).collect();
        let mut first_error = None;
        while let Some(done) = tasks.join_next().await {
            match done {
                Ok((i, Ok(Ok(Detail::Items(l))))) => items[i] = Some(l),
                Ok((i, Ok(Ok(Detail::Address(a))))) => addresses[i] = Some(*a),
                Ok((i, Ok(Err(e)))) => {
                    broken[i].get_or_insert(e);
                }
                Ok((_, Err(e))) => {
                    if first_error.is_none() {
                        first_error = Some(e);
                        tasks.abort_all();
                    }
                }
                Err(join) if join.is_cancelled() => {}
                Err(_) => {
                    first_error.get_or_insert_with(|| malformed(GET_ORDER_ITEMS, "detail task failed"));
                }
            }
        }
        if let Some(e) = first_error {
            return Err(e);
        }
        let shop = &self.inner.config.shop_id;
        let mut orders = Vec::with_capacity(headers.len());
        let mut bad = Vec::new();
        for (header, ((items, address), broken)) in
            headers.into_iter().zip(items.into_iter().zip(addresses).zip(broken))
        {
            let id = header.amazon_order_id.clone();
            let ordered_at = parse_time(header.purchase_date.trim()).map(|t| t.with_timezone(&JST));
            let mapped = match broken {
                Some(e) => Err(e),
                None => {
                    let parts = OrderParts {
                        header,
                        header_operation: GET_ORDERS,
                        items,
                        item_buyer_info: Vec::new(),
                        address,
                        buyer: None,
                    };
                    map_order(shop, &parts)
                }
            };
            match mapped {
                Ok(order) => orders.push(order),
                Err(e) => bad.push(BadOrder::new(Some(&id), e).ordered(ordered_at)),
            }
        }
        Ok((orders, bad))
    }

    /// The first sub-window of `window` starting at `from`, or `None` when nothing is left.
    fn sub_window(&self, window: &Window, from: DateTime<FixedOffset>) -> Option<Cursor> {
        // The API speaks whole seconds: boundaries are cut to them so the cursor is exact.
        let whole = |t: DateTime<FixedOffset>| t.with_nanosecond(0).unwrap_or(t);
        let ceiling = (Utc::now() - self.inner.config.before_lag).fixed_offset();
        let end = whole(window.to.min(ceiling));
        let from = whole(from);
        if from >= end {
            return None;
        }
        let to = (from + self.inner.config.max_window).min(end);
        Some(Cursor { from: utc(from), to: utc(to), token: None, last: None })
    }

    /// One getOrders call at `cursor`, with one restart of the sub-window when its token is refused.
    async fn orders_page(&self, cur: &Cursor) -> Result<OrdersPage, ClientError> {
        let rdt = self.rdt().await?;
        let mut query = vec![
            ("MarketplaceIds", self.inner.config.marketplace_id.clone()),
            ("LastUpdatedAfter", cur.from.clone()),
            ("LastUpdatedBefore", cur.to.clone()),
            ("MaxResultsPerPage", PAGE_SIZE.to_string()),
        ];
        if let Some(t) = &cur.token {
            query.push(("NextToken", t.clone()));
        }
        let body = match self.get(GET_ORDERS, ORDERS_PATH, &query, &rdt).await {
            // A NextToken that expired or no longer fits: start the sub-window again; the cursor's
            // `last` skips what was already delivered.
            Err(ClientError::Rejected { status: 400, .. }) if cur.token.is_some() => {
                query.retain(|(k, _)| *k != "NextToken");
                self.get(GET_ORDERS, ORDERS_PATH, &query, &rdt).await?
            }
            other => other?,
        };
        let page = parse_orders_lenient(&Body { name: GET_ORDERS.to_string(), text: body })
            .map_err(|e| body_error(GET_ORDERS, e))?;
        Ok(OrdersPage { next_token: page.next_token.filter(|t| !t.is_empty()), ..page })
    }
}

enum Detail {
    Items(Vec<WireOrderItem>),
    Address(Box<OrderAddress>),
}

fn expiry(expires_in: u64) -> Instant {
    // A minute's margin, but never a negative life.
    Instant::now() + Duration::from_secs(expires_in.saturating_sub(60).max(expires_in / 2))
}

impl OrderSource for AmazonClient {
    type Error = ClientError;

    fn max_ids_per_call(&self) -> usize {
        1
    }

    // merge-pending: the marketplace's by-id read lands with its branch.
    async fn orders_by_id(&self, ids: &[String]) -> Result<OrderPage, ClientError> {
        Ok(OrderPage { missing: ids.to_vec(), ..OrderPage::default() })
    }

    fn marketplace(&self) -> Marketplace {
        Marketplace::Amazon
    }

    async fn changed_orders(&self, window: &Window, cursor: Option<&str>) -> Result<OrderPage, ClientError> {
        let cur = match cursor {
            Some(c) => serde_json::from_str::<Cursor>(c).map_err(|_| bad_cursor())?,
            None => match self.sub_window(window, window.from) {
                Some(c) => c,
                None => return Ok(OrderPage::default()),
            },
        };
        let (from, to) = match (parse_time(&cur.from), parse_time(&cur.to)) {
            (Some(f), Some(t)) if f < t => (f, t),
            _ => return Err(bad_cursor()),
        };
        let last = match &cur.last {
            Some((t, id)) => Some((parse_time(t).ok_or_else(bad_cursor)?, id.clone())),
            None => None,
        };
        let OrdersPage { orders: headers, mut bad, next_token: token } = self.orders_page(&cur).await?;
        let mut keep = Vec::with_capacity(headers.len());
        let mut best = last.clone();
        for h in headers {
            let Some(t) = parse_time(h.last_update_date.trim()) else {
                let e = NormalizeError::Malformed {
                    marketplace: Marketplace::Amazon,
                    operation: GET_ORDERS.to_string(),
                    detail: "Orders[].LastUpdateDate is not an ISO 8601 date-time".into(),
                };
                let ordered_at = parse_time(h.purchase_date.trim()).map(|t| t.with_timezone(&JST));
                bad.push(BadOrder::new(Some(&h.amazon_order_id), e).ordered(ordered_at));
                continue;
            };
            // Sub-windows are [from, to): an order exactly at `to` belongs to the next one.
            let inside = t >= from && t < to && t >= window.from && t < window.to;
            // unverified: getOrders lists orders by LastUpdateDate ascending (the sandbox does), so
            // after a restart everything up to the last delivered order is skipped.
            let already = last.as_ref().is_some_and(|(lt, lid)| (t, &h.amazon_order_id) <= (*lt, lid));
            if inside && !already {
                if best.as_ref().is_none_or(|(bt, bid)| (t, &h.amazon_order_id) > (*bt, bid)) {
                    best = Some((t, h.amazon_order_id.clone()));
                }
                keep.push(h);
            }
        }
        let new_last = best.map(|(t, id)| (utc(t), id));
        let (orders, mut unmapped) = self.details(keep).await?;
        bad.append(&mut unmapped);
        let next = match token {
            Some(t) => Some(Cursor { token: Some(t), last: new_last, ..cur }),
            None => self.sub_window(window, to),
        };
        let next = next.map(|c| serde_json::to_string(&c)).transpose().map_err(|_| bad_cursor())?;
        let rejected = rejects(&self.inner.config.shop_id, Marketplace::Amazon, bad);
        Ok(OrderPage { orders, rejected, next, missing: Vec::new() })
    }

    async fn register_tracking(&self, order: &Order, tracking: &Tracking) -> Result<(), ClientError> {
        let refuse = |code: &str, message: &str| ClientError::Rejected {
            marketplace: Marketplace::Amazon,
            operation: CONFIRM_SHIPMENT,
            status: 0,
            code: code.to_string(),
            message: message.to_string(),
        };
        if order.fulfilled_by_marketplace {
            return Err(refuse("FulfilledByAmazon", "Amazon ships AFN orders itself; no shipment is confirmed"));
        }
        if !tracking_number_valid(tracking.carrier, &tracking.number) {
            return Err(refuse("InvalidTrackingNumber", "the tracking number fails the carrier's check"));
        }
        let lines = self.order_items(&order.order_id).await??;
        let items: Vec<_> = lines
            .iter()
            .filter_map(|l| {
                let open = l.quantity_ordered.saturating_sub(l.quantity_shipped.unwrap_or(0));
                (open > 0).then(|| serde_json::json!({ "orderItemId": l.order_item_id, "quantity": open }))
            })
            .collect();
        if items.is_empty() {
            return Err(refuse("NothingToShip", "every line of the order is already shipped"));
        }
        let code = codes::carrier_code(tracking.carrier);
        let mut package = serde_json::json!({
            "packageReferenceId": "1",
            "carrierCode": code,
            "trackingNumber": tracking.number,
            "shipDate": tracking.shipped_at.unwrap_or_else(|| Utc::now().with_timezone(&JST)).to_rfc3339_opts(SecondsFormat::Secs, false),
            "orderItems": items,
        });
        if code == "Other" {
            package["carrierName"] = serde_json::json!("その他");
        }
        let mut body =
            serde_json::json!({ "marketplaceId": self.inner.config.marketplace_id, "packageDetail": package });
        if order.payment_method == PaymentMethod::Cod {
            body["codCollectionMethod"] = serde_json::json!("DirectPayment");
        }
        let token = self.access_token().await?;
        let url = self.inner.api.url(&format!("{ORDERS_PATH}/{}/shipmentConfirmation", order.order_id));
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
    fn every_operation_has_a_limit() {
        for op in [GET_ORDERS, GET_ORDER_ITEMS, GET_ORDER_ADDRESS, CONFIRM_SHIPMENT, CREATE_RDT, LWA_TOKEN] {
            assert!(LIMITS.iter().any(|(o, _)| *o == op), "{op}");
        }
        assert_eq!(LIMITS[0].1, Limit::new(0.0167, 20));
    }
}
