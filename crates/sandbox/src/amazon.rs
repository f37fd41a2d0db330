//! Amazon SP-API (Orders v0, Tokens, LWA) emulator for Amazon.co.jp.
//!
//! Serves the real paths and methods: `POST /auth/o2/token` (LWA, form-encoded), `POST
//! /tokens/2021-03-01/restrictedDataToken`, `GET /orders/v0/orders`, `GET /orders/v0/orders/{id}`,
//! `.../orderItems`, `.../address`, `.../buyerInfo` and `POST .../shipmentConfirmation`. Orders are
//! rendered here from the seeded canonical orders with `serde_json::json!`, independently of the
//! client's wire structs. It checks `x-amz-access-token` (LWA token or a Restricted Data Token that
//! lists the operation), gives PII only to an RDT, enforces the getOrders window and paging rules
//! and the per-operation usage plans, injects faults and applies shipment confirmations. A corrupt
//! order (`Faults::corrupt_orders`) is served without its required `PurchaseDate`.

// The checks return the API's own error answer as `Err`; it is sent at once, never stored.
#![allow(clippy::result_large_err)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use chrono::{DateTime, FixedOffset, NaiveTime, SecondsFormat, TimeZone, Timelike, Utc};
use ichigen_core::{Carrier, DeliveryMethod, Marketplace, Order, OrderStatus, PaymentMethod, Tracking};
use serde_json::{Value, json};

use crate::faults::truncate;
use crate::{Fault, FaultDice, OrderBook, SandboxConfig, Started, Throttle, TimeField, seed_orders, serve};

/// Amazon.co.jp marketplace id.
pub const MARKETPLACE_ID: &str = "A1VC38T7YXB528";
/// LWA client id the sandbox accepts.
pub const CLIENT_ID: &str = "amzn1.application-oa2-client.ichigensandbox";
/// LWA client secret the sandbox accepts (a test value).
pub const CLIENT_SECRET: &str = "sandbox-client-secret";
/// Refresh token the sandbox accepts (a test value).
pub const REFRESH_TOKEN: &str = "Atzr|sandbox-refresh-token";

/// Documented usage plans: (operation, requests per second, burst).
pub const USAGE_PLANS: [(&str, f64, u32); 9] = [
    ("getOrders", 0.0167, 20),
    ("getOrder", 0.5, 30),
    ("getOrderItems", 0.5, 30),
    ("getOrderAddress", 0.5, 30),
    ("getOrderBuyerInfo", 0.5, 30),
    ("getOrderItemsBuyerInfo", 0.5, 30),
    ("confirmShipment", 2.0, 10),
    ("updateShipmentStatus", 5.0, 15),
    ("createRestrictedDataToken", 1.0, 10),
];

/// Knobs of the Amazon sandbox beyond [`SandboxConfig`].
#[derive(Debug, Clone)]
pub struct AmazonOptions {
    /// How far before now `LastUpdatedBefore` / `CreatedBefore` must be (the API: 2 minutes).
    pub before_lag: chrono::Duration,
    /// How long a `NextToken` stays valid.
    // unverified: the API documents no NextToken lifetime; the sandbox makes tokens expire.
    pub next_token_ttl: Duration,
    /// Lifetime of access tokens and RDTs (the API: 3600 s).
    pub token_ttl: Duration,
}

impl Default for AmazonOptions {
    fn default() -> Self {
        AmazonOptions {
            before_lag: chrono::Duration::minutes(2),
            next_token_ttl: Duration::from_secs(300),
            token_ttl: Duration::from_secs(3600),
        }
    }
}

/// Starts the Amazon sandbox with the documented rules.
pub async fn start(config: SandboxConfig) -> std::io::Result<Started> {
    start_with(config, AmazonOptions::default()).await
}

/// Starts the Amazon sandbox with `options` (tests shorten the 2-minute rule).
pub async fn start_with(config: SandboxConfig, options: AmazonOptions) -> std::io::Result<Started> {
    let mut orders = seed_orders(Marketplace::Amazon, &config.seed);
    for (n, o) in orders.iter_mut().enumerate() {
        o.order_id = amazon_order_id(n);
        // The API speaks whole seconds.
        o.ordered_at = o.ordered_at.with_nanosecond(0).unwrap_or(o.ordered_at);
        o.source_updated_at = o.source_updated_at.with_nanosecond(0).unwrap_or(o.source_updated_at);
    }
    let book = Arc::new(OrderBook::new(orders));
    let faults = Arc::new(FaultDice::new(config.faults.clone(), config.seed.seed));
    let throttle = match config.throttle {
        Some(scale) => Throttle::new(&USAGE_PLANS, scale),
        None => Throttle::off(),
    };
    let state = Arc::new(Sandbox {
        book: Arc::clone(&book),
        faults: Arc::clone(&faults),
        throttle,
        scale: config.throttle.unwrap_or(1.0),
        throttled: config.throttle.is_some(),
        options,
        grants: Mutex::new(HashMap::new()),
        shipped: Mutex::new(HashMap::new()),
    });
    let router = Router::new()
        .route("/auth/o2/token", post(lwa_token))
        .route("/tokens/2021-03-01/restrictedDataToken", post(create_rdt))
        .route("/orders/v0/orders", get(get_orders))
        .route("/orders/v0/orders/{id}", get(get_order))
        .route("/orders/v0/orders/{id}/orderItems", get(get_order_items))
        .route("/orders/v0/orders/{id}/address", get(get_order_address))
        .route("/orders/v0/orders/{id}/buyerInfo", get(get_order_buyer_info))
        .route("/orders/v0/orders/{id}/shipmentConfirmation", post(confirm_shipment))
        .fallback(not_found)
        .with_state(state);
    let running = serve(router, config.port).await?;
    Ok(Started {
        running,
        credentials: vec![
            ("client_id", CLIENT_ID.to_string()),
            ("client_secret", CLIENT_SECRET.to_string()),
            ("refresh_token", REFRESH_TOKEN.to_string()),
            ("marketplace_id", MARKETPLACE_ID.to_string()),
        ],
        book,
        faults,
    })
}

/// The `n`th seeded order's 3-7-7 id.
pub fn amazon_order_id(n: usize) -> String {
    format!("503-{:07}-{:07}", (n * 7_919 + 1_234_567) % 10_000_000, n % 10_000_000)
}

/// `OrderItemId` of line `index` of `order_id` (14 digits).
pub fn order_item_id(order_id: &str, index: usize) -> String {
    let digits: String = order_id.chars().filter(char::is_ascii_digit).collect();
    format!("{}{:02}", digits.get(5..).unwrap_or("000000000000"), index % 100)
}

/// What an access token grants.
#[derive(Debug, Clone)]
enum Grant {
    Access { until: Instant },
    Restricted { until: Instant, resources: Vec<Resource> },
}

#[derive(Debug, Clone)]
struct Resource {
    method: String,
    path: String,
    data_elements: Vec<String>,
}

struct Sandbox {
    book: Arc<OrderBook>,
    faults: Arc<FaultDice>,
    throttle: Throttle,
    scale: f64,
    throttled: bool,
    options: AmazonOptions,
    grants: Mutex<HashMap<String, Grant>>,
    /// Units shipped per line, by order id (confirmShipment).
    shipped: Mutex<HashMap<String, Vec<u32>>>,
}

type S = State<Arc<Sandbox>>;

fn utc(t: DateTime<FixedOffset>) -> String {
    t.with_timezone(&Utc).to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn rate_of(operation: &str) -> Option<f64> {
    USAGE_PLANS.iter().find(|(op, _, _)| *op == operation).map(|(_, r, _)| *r)
}

fn respond(sb: &Sandbox, operation: &str, status: StatusCode, body: Option<String>) -> Response {
    let mut b = Response::builder().status(status).header(
        "x-amzn-RequestId",
        format!("{:08x}-sbx0-4000-8000-{:012x}", fastrand::u32(..), fastrand::u64(..1 << 48)),
    );
    // The applied rate, when limits are enforced ("when available": an unthrottled sandbox has none).
    if let Some(rate) = rate_of(operation).filter(|_| sb.throttled) {
        b = b.header("x-amzn-RateLimit-Limit", format!("{}", rate * sb.scale));
    }
    let body = match body {
        Some(text) => {
            b = b.header("content-type", "application/json");
            Body::from(text)
        }
        None => Body::empty(),
    };
    b.body(body).unwrap_or_else(|_| Response::new(Body::empty()))
}

fn errors(code: &str, message: &str, details: &str) -> String {
    json!({ "errors": [ { "code": code, "message": message, "details": details } ] }).to_string()
}

fn invalid(sb: &Sandbox, operation: &str, details: &str) -> Response {
    respond(sb, operation, StatusCode::BAD_REQUEST, Some(errors("InvalidInput", "Invalid Input", details)))
}

fn denied(sb: &Sandbox, operation: &str, details: &str) -> Response {
    let body = errors("Unauthorized", "Access to requested resource is denied.", details);
    respond(sb, operation, StatusCode::FORBIDDEN, Some(body))
}

async fn not_found(State(sb): S) -> Response {
    respond(&sb, "", StatusCode::NOT_FOUND, Some(errors("NotFound", "Resource not found.", "")))
}

/// Latency, hangs and 5xx before the operation; `Err` is the answer to send instead.
async fn pre_faults(sb: &Sandbox, operation: &str) -> Result<bool, Response> {
    let (latency, fault) = sb.faults.roll();
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    match fault {
        Fault::None => Ok(false),
        Fault::Malformed => Ok(true),
        Fault::Hang(d) => {
            tokio::time::sleep(d).await;
            Ok(false)
        }
        Fault::ServerError => Err(respond(
            sb,
            operation,
            StatusCode::INTERNAL_SERVER_ERROR,
            Some(errors("InternalFailure", "We encountered an internal error. Please try again.", "")),
        )),
    }
}

async fn finish(malformed: bool, resp: Response) -> Response {
    if !malformed {
        return resp;
    }
    // The dice said "cut the body": the same answer with half its bytes.
    let (parts, body) = resp.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap_or_default();
    let text = String::from_utf8_lossy(&bytes).to_string();
    Response::from_parts(parts, Body::from(truncate(&text)))
}

/// The caller of an SP-API operation, checked the way the API does.
fn authorize(sb: &Sandbox, operation: &str, headers: &HeaderMap) -> Result<Grant, Response> {
    let Some(token) = headers.get("x-amz-access-token").and_then(|v| v.to_str().ok()) else {
        return Err(denied(sb, operation, "Access token is missing in the request header."));
    };
    let grant = sb.grants.lock().ok().and_then(|g| g.get(token).cloned());
    let Some(grant) = grant else {
        return Err(denied(sb, operation, "The access token you provided is revoked, malformed or invalid."));
    };
    let until = match &grant {
        Grant::Access { until } | Grant::Restricted { until, .. } => *until,
    };
    if until <= Instant::now() {
        return Err(denied(sb, operation, "The access token you provided has expired."));
    }
    if !sb.throttle.admit(operation) {
        let body = errors("QuotaExceeded", "You exceeded your quota for the requested resource.", "");
        return Err(respond(sb, operation, StatusCode::TOO_MANY_REQUESTS, Some(body)));
    }
    Ok(grant)
}

/// Whether `grant` may call `method template` (as `concrete`), and which data elements it unlocks.
fn covers(grant: &Grant, method: &str, template: &str, concrete: &str) -> Option<Vec<String>> {
    match grant {
        Grant::Access { .. } => None,
        Grant::Restricted { resources, .. } => resources
            .iter()
            .find(|r| r.method.eq_ignore_ascii_case(method) && (r.path == template || r.path == concrete))
            .map(|r| r.data_elements.clone()),
    }
}

/// Plain tokens may call non-restricted operations; an RDT only what it lists.
fn plain_or_listed(
    sb: &Sandbox,
    op: &str,
    grant: &Grant,
    template: &str,
    concrete: &str,
) -> Result<Vec<String>, Response> {
    match grant {
        Grant::Access { .. } => Ok(Vec::new()),
        Grant::Restricted { .. } => covers(grant, "GET", template, concrete)
            .ok_or_else(|| denied(sb, op, "The Restricted Data Token does not cover this resource.")),
    }
}

fn lwa_error(status: StatusCode, error: &str, description: &str) -> Response {
    let body = json!({ "error": error, "error_description": description }).to_string();
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Body::from(body))
        .unwrap_or_else(|_| Response::new(Body::empty()))
}

fn new_token(prefix: &str) -> String {
    let mut s = String::from(prefix);
    for _ in 0..40 {
        s.push(fastrand::alphanumeric());
    }
    s
}

async fn lwa_token(State(sb): S, form: Result<Form<HashMap<String, String>>, FormRejection>) -> Response {
    let op = "lwaToken";
    let malformed = match pre_faults(&sb, op).await {
        Ok(m) => m,
        Err(r) => return r,
    };
    let Ok(Form(f)) = form else {
        return lwa_error(StatusCode::BAD_REQUEST, "invalid_request", "The request is missing a required parameter");
    };
    let field = |k: &str| f.get(k).map(String::as_str).unwrap_or_default();
    if field("grant_type") != "refresh_token" {
        return lwa_error(StatusCode::BAD_REQUEST, "unsupported_grant_type", "The grant type is not supported");
    }
    if field("client_id") != CLIENT_ID || field("client_secret") != CLIENT_SECRET {
        return lwa_error(StatusCode::UNAUTHORIZED, "invalid_client", "Client authentication failed");
    }
    if field("refresh_token") != REFRESH_TOKEN {
        return lwa_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "The request has an invalid grant parameter : refresh_token",
        );
    }
    let token = new_token("Atza|");
    if let Ok(mut g) = sb.grants.lock() {
        g.insert(token.clone(), Grant::Access { until: Instant::now() + sb.options.token_ttl });
    }
    let body = json!({
        "access_token": token,
        "refresh_token": REFRESH_TOKEN,
        "token_type": "bearer",
        "expires_in": sb.options.token_ttl.as_secs(),
    });
    finish(malformed, respond(&sb, op, StatusCode::OK, Some(body.to_string()))).await
}

async fn create_rdt(State(sb): S, headers: HeaderMap, body: String) -> Response {
    let op = "createRestrictedDataToken";
    let malformed = match pre_faults(&sb, op).await {
        Ok(m) => m,
        Err(r) => return r,
    };
    match authorize(&sb, op, &headers) {
        Ok(Grant::Access { .. }) => {}
        Ok(Grant::Restricted { .. }) => return denied(&sb, op, "A Restricted Data Token cannot mint another."),
        Err(r) => return r,
    }
    let bad =
        |d: &str| respond(&sb, op, StatusCode::BAD_REQUEST, Some(errors("InvalidRequest", "Invalid request.", d)));
    let Ok(v) = serde_json::from_str::<Value>(&body) else { return bad("Request body is not valid JSON.") };
    let Some(list) = v.get("restrictedResources").and_then(Value::as_array).filter(|l| !l.is_empty()) else {
        return bad("Resource not provided.");
    };
    if list.len() > 50 {
        return bad("At most 50 restrictedResources are allowed.");
    }
    let mut resources = Vec::new();
    for r in list {
        let (Some(method), Some(path)) =
            (r.get("method").and_then(Value::as_str), r.get("path").and_then(Value::as_str))
        else {
            return bad("Each restricted resource needs method and path.");
        };
        let data_elements: Vec<String> = r
            .get("dataElements")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).map(str::to_string).collect())
            .unwrap_or_default();
        if let Some(e) = data_elements
            .iter()
            .find(|e| !matches!(e.as_str(), "buyerInfo" | "shippingAddress" | "buyerTaxInformation"))
        {
            let _ = e;
            return bad("Unknown dataElements value.");
        }
        resources.push(Resource { method: method.to_string(), path: path.to_string(), data_elements });
    }
    let token = new_token("Atz.sprdt|");
    if let Ok(mut g) = sb.grants.lock() {
        g.insert(token.clone(), Grant::Restricted { until: Instant::now() + sb.options.token_ttl, resources });
    }
    let body = json!({ "restrictedDataToken": token, "expiresIn": sb.options.token_ttl.as_secs() });
    finish(malformed, respond(&sb, op, StatusCode::OK, Some(body.to_string()))).await
}

fn parse_iso(s: &str) -> Option<DateTime<FixedOffset>> {
    DateTime::parse_from_rfc3339(s.trim()).ok()
}

fn hex(s: &str) -> String {
    s.bytes().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Option<String> {
    if s.len() % 2 != 0 {
        return None;
    }
    let bytes: Option<Vec<u8>> =
        (0..s.len()).step_by(2).map(|i| s.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok())).collect();
    String::from_utf8(bytes?).ok()
}

/// What a NextToken stands for.
struct Page {
    created: bool,
    after: String,
    before: String,
    offset: usize,
    size: usize,
    issued_ms: i64,
}

fn encode_token(p: &Page) -> String {
    let fam = if p.created { "C" } else { "U" };
    hex(&format!("{fam}|{}|{}|{}|{}|{}", p.after, p.before, p.offset, p.size, p.issued_ms))
}

fn decode_token(t: &str) -> Option<Page> {
    let text = unhex(t)?;
    let f: Vec<&str> = text.split('|').collect();
    let [fam, after, before, offset, size, issued] = f.as_slice() else { return None };
    Some(Page {
        created: match *fam {
            "C" => true,
            "U" => false,
            _ => return None,
        },
        after: after.to_string(),
        before: before.to_string(),
        offset: offset.parse().ok()?,
        size: size.parse().ok()?,
        issued_ms: issued.parse().ok()?,
    })
}

async fn get_orders(
    State(sb): S,
    headers: HeaderMap,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Response {
    let op = "getOrders";
    let malformed = match pre_faults(&sb, op).await {
        Ok(m) => m,
        Err(r) => return r,
    };
    let grant = match authorize(&sb, op, &headers) {
        Ok(g) => g,
        Err(r) => return r,
    };
    let pii = match plain_or_listed(&sb, op, &grant, "/orders/v0/orders", "/orders/v0/orders") {
        Ok(p) => p,
        Err(r) => return r,
    };
    let Ok(Query(q)) = query else { return invalid(&sb, op, "The query string could not be read.") };
    let param = |k: &str| q.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let ids: Vec<&str> = param("MarketplaceIds").map(|v| v.split(',').map(str::trim).collect()).unwrap_or_default();
    if ids.is_empty() || ids.iter().all(|i| i.is_empty()) {
        return invalid(&sb, op, "MarketplaceIds is required.");
    }
    if ids.len() > 50 {
        return invalid(&sb, op, "MarketplaceIds accepts at most 50 values.");
    }
    if !ids.contains(&MARKETPLACE_ID) {
        return invalid(&sb, op, "Invalid MarketplaceIds: the seller is not registered in these marketplaces.");
    }
    let size = match param("MaxResultsPerPage").map(str::parse::<usize>) {
        None => 100,
        Some(Ok(n)) if (1..=100).contains(&n) => n,
        Some(_) => return invalid(&sb, op, "MaxResultsPerPage must be between 1 and 100."),
    };
    let now = Utc::now().fixed_offset();
    let page = if let Some(t) = param("NextToken") {
        let Some(p) = decode_token(t) else { return invalid(&sb, op, "Invalid NextToken.") };
        if now.timestamp_millis() - p.issued_ms > sb.options.next_token_ttl.as_millis() as i64 {
            return invalid(&sb, op, "NextToken has expired.");
        }
        let (a, b) =
            if p.created { ("CreatedAfter", "CreatedBefore") } else { ("LastUpdatedAfter", "LastUpdatedBefore") };
        let same = |k: &str, v: &str| param(k).is_none_or(|sent| parse_iso(sent) == parse_iso(v));
        if !same(a, &p.after) || !same(b, &p.before) || size != p.size {
            return invalid(&sb, op, "The request parameters must not change when NextToken is used.");
        }
        p
    } else {
        let created = param("CreatedAfter").is_some() || param("CreatedBefore").is_some();
        let updated = param("LastUpdatedAfter").is_some() || param("LastUpdatedBefore").is_some();
        if created && updated {
            return invalid(
                &sb,
                op,
                "CreatedAfter/CreatedBefore and LastUpdatedAfter/LastUpdatedBefore cannot be combined.",
            );
        }
        let (a, b) =
            if created { ("CreatedAfter", "CreatedBefore") } else { ("LastUpdatedAfter", "LastUpdatedBefore") };
        let Some(after) = param(a) else {
            return invalid(&sb, op, "Either CreatedAfter or LastUpdatedAfter is required.");
        };
        let Some(after_t) = parse_iso(after) else {
            return invalid(&sb, op, &format!("{a} is not a valid ISO 8601 date."));
        };
        let latest = now - sb.options.before_lag;
        let before_t = match param(b) {
            None => latest,
            Some(v) => match parse_iso(v) {
                None => return invalid(&sb, op, &format!("{b} is not a valid ISO 8601 date.")),
                Some(t) if t < after_t => return invalid(&sb, op, &format!("{b} must be later than {a}.")),
                Some(t) if t > latest => {
                    return invalid(&sb, op, &format!("{b} must be a date at least 2 minutes before the request."));
                }
                Some(t) => t,
            },
        };
        Page { created, after: utc(after_t), before: utc(before_t), offset: 0, size, issued_ms: now.timestamp_millis() }
    };
    let (Some(after), Some(before)) = (parse_iso(&page.after), parse_iso(&page.before)) else {
        return invalid(&sb, op, "Invalid NextToken.");
    };
    let field = if page.created { TimeField::Ordered } else { TimeField::Updated };
    let hits = sb.book.search(field, after, before);
    let shipped = sb.shipped.lock().map(|s| s.clone()).unwrap_or_default();
    let orders: Vec<Value> = hits
        .iter()
        .skip(page.offset)
        .take(page.size)
        .map(|o| corrupt(&sb, o, render_order(o, &pii, shipped.get(&o.order_id).map(Vec::as_slice))))
        .collect();
    let mut payload = json!({ "Orders": orders });
    if page.offset + page.size < hits.len() {
        let next = Page { offset: page.offset + page.size, issued_ms: now.timestamp_millis(), ..page };
        payload["NextToken"] = json!(encode_token(&next));
        payload[if next.created { "CreatedBefore" } else { "LastUpdatedBefore" }] = json!(next.before);
    } else {
        payload[if page.created { "CreatedBefore" } else { "LastUpdatedBefore" }] = json!(page.before);
    }
    finish(malformed, respond(&sb, op, StatusCode::OK, Some(json!({ "payload": payload }).to_string()))).await
}

/// A corrupt order's header lacks the required `PurchaseDate` (Faults::corrupt_orders).
fn corrupt(sb: &Sandbox, o: &Order, mut header: Value) -> Value {
    if sb.faults.corrupts(&o.order_id) {
        if let Some(h) = header.as_object_mut() {
            h.remove("PurchaseDate");
        }
    }
    header
}

/// Common start of the per-order GETs: faults, auth, throttle, the order.
async fn order_op(
    sb: &Sandbox,
    op: &str,
    headers: &HeaderMap,
    id: &str,
    template: &str,
    restricted: bool,
) -> Result<(bool, Order, Vec<String>), Response> {
    let malformed = pre_faults(sb, op).await?;
    let grant = authorize(sb, op, headers)?;
    let concrete = template.replace("{orderId}", id);
    let pii = if restricted {
        covers(&grant, "GET", template, &concrete)
            .ok_or_else(|| denied(sb, op, "This operation requires a Restricted Data Token for this resource."))?
    } else {
        plain_or_listed(sb, op, &grant, template, &concrete)?
    };
    let order = sb.book.get(id).ok_or_else(|| {
        respond(sb, op, StatusCode::NOT_FOUND, Some(errors("NotFound", "The requested order was not found.", "")))
    })?;
    Ok((malformed, order, pii))
}

async fn get_order(State(sb): S, headers: HeaderMap, Path(id): Path<String>) -> Response {
    let op = "getOrder";
    match order_op(&sb, op, &headers, &id, "/orders/v0/orders/{orderId}", false).await {
        Ok((m, o, pii)) => {
            let shipped = sb.shipped.lock().ok().and_then(|s| s.get(&id).cloned());
            let body = json!({ "payload": corrupt(&sb, &o, render_order(&o, &pii, shipped.as_deref())) });
            finish(m, respond(&sb, op, StatusCode::OK, Some(body.to_string()))).await
        }
        Err(r) => r,
    }
}

async fn get_order_items(State(sb): S, headers: HeaderMap, Path(id): Path<String>) -> Response {
    let op = "getOrderItems";
    match order_op(&sb, op, &headers, &id, "/orders/v0/orders/{orderId}/orderItems", false).await {
        Ok((m, o, _)) => {
            let shipped = sb.shipped.lock().ok().and_then(|s| s.get(&id).cloned());
            let body = json!({ "payload": { "AmazonOrderId": o.order_id, "OrderItems": render_items(&o, shipped.as_deref()) } });
            finish(m, respond(&sb, op, StatusCode::OK, Some(body.to_string()))).await
        }
        Err(r) => r,
    }
}

async fn get_order_address(State(sb): S, headers: HeaderMap, Path(id): Path<String>) -> Response {
    let op = "getOrderAddress";
    match order_op(&sb, op, &headers, &id, "/orders/v0/orders/{orderId}/address", true).await {
        Ok((m, o, _)) => {
            let mut payload = json!({ "AmazonOrderId": o.order_id });
            if has_address(&o) {
                payload["ShippingAddress"] = render_address(&o, true);
            }
            if !o.remarks.trim().is_empty() {
                payload["DeliveryPreferences"] = json!({ "AddressInstructions": o.remarks });
            }
            finish(m, respond(&sb, op, StatusCode::OK, Some(json!({ "payload": payload }).to_string()))).await
        }
        Err(r) => r,
    }
}

async fn get_order_buyer_info(State(sb): S, headers: HeaderMap, Path(id): Path<String>) -> Response {
    let op = "getOrderBuyerInfo";
    match order_op(&sb, op, &headers, &id, "/orders/v0/orders/{orderId}/buyerInfo", true).await {
        Ok((m, o, _)) => {
            let payload =
                json!({ "AmazonOrderId": o.order_id, "BuyerEmail": relay_email(&o), "BuyerName": o.buyer.name });
            finish(m, respond(&sb, op, StatusCode::OK, Some(json!({ "payload": payload }).to_string()))).await
        }
        Err(r) => r,
    }
}

/// Amazon's own `carrierCode` names → carriers (the sandbox's table, not the client's).
fn carrier_of(code: &str) -> Carrier {
    match code {
        "Yamato Transport" => Carrier::Yamato,
        "Sagawa Express" => Carrier::Sagawa,
        "Japan Post" => Carrier::Japanpost,
        _ => Carrier::Other,
    }
}

async fn confirm_shipment(State(sb): S, headers: HeaderMap, Path(id): Path<String>, body: String) -> Response {
    let op = "confirmShipment";
    let malformed = match pre_faults(&sb, op).await {
        Ok(m) => m,
        Err(r) => return r,
    };
    if let Err(r) = authorize(&sb, op, &headers).and_then(|g| plain_or_listed(&sb, op, &g, "", "")) {
        return r;
    }
    let Some(order) = sb.book.get(&id) else {
        return respond(
            &sb,
            op,
            StatusCode::NOT_FOUND,
            Some(errors("NotFound", "The requested order was not found.", "")),
        );
    };
    let Ok(v) = serde_json::from_str::<Value>(&body) else {
        return invalid(&sb, op, "Request body is not valid JSON.");
    };
    if v.get("marketplaceId").and_then(Value::as_str) != Some(MARKETPLACE_ID) {
        return invalid(&sb, op, "marketplaceId is missing or not A1VC38T7YXB528.");
    }
    if v.get("codCollectionMethod").is_some_and(|c| c.as_str() != Some("DirectPayment")) {
        return invalid(&sb, op, "codCollectionMethod must be DirectPayment.");
    }
    let Some(p) = v.get("packageDetail") else { return invalid(&sb, op, "packageDetail is required.") };
    let s = |k: &str| p.get(k).and_then(Value::as_str).filter(|v| !v.trim().is_empty());
    if s("packageReferenceId").is_none_or(|r| r.parse::<u64>().map_or(true, |n| n == 0)) {
        return invalid(&sb, op, "packageReferenceId must be a positive integer.");
    }
    let Some(carrier_code) = s("carrierCode") else { return invalid(&sb, op, "carrierCode is required.") };
    if carrier_code == "Other" && s("carrierName").is_none() {
        return invalid(&sb, op, "carrierName is required when carrierCode is Other.");
    }
    let Some(number) = s("trackingNumber") else { return invalid(&sb, op, "trackingNumber is required.") };
    let Some(ship_date) = s("shipDate").and_then(parse_iso) else {
        return invalid(&sb, op, "shipDate must be an ISO 8601 date-time.");
    };
    let Some(lines) = p.get("orderItems").and_then(Value::as_array).filter(|l| !l.is_empty()) else {
        return invalid(&sb, op, "orderItems is required.");
    };
    if order.fulfilled_by_marketplace {
        return invalid(&sb, op, "Shipment confirmation is not allowed for orders fulfilled by Amazon.");
    }
    if !matches!(amazon_status(&order, None), "Unshipped" | "PartiallyShipped") {
        return invalid(&sb, op, "The order is not in a status that can be confirmed.");
    }
    let all = match record_shipment(&sb, &order, &id, lines) {
        Ok(all) => all,
        Err(details) => return invalid(&sb, op, details),
    };
    let tracking = Tracking {
        carrier: carrier_of(carrier_code),
        number: number.to_string(),
        shipped_at: Some(ship_date),
        shipment_id: None,
    };
    sb.book.update(&id, |o| {
        if all {
            o.status = OrderStatus::Shipped;
            o.source_status = "Shipped".into();
        }
        o.tracking.push(tracking);
    });
    finish(malformed, respond(&sb, op, StatusCode::NO_CONTENT, None)).await
}

/// Adds the confirmed quantities; `Ok(true)` when every unit of the order is shipped.
fn record_shipment(sb: &Sandbox, order: &Order, id: &str, lines: &[Value]) -> Result<bool, &'static str> {
    let mut shipped_all = sb.shipped.lock().map_err(|_| "internal state unavailable")?;
    let mut shipped = shipped_all.get(id).cloned().unwrap_or_else(|| vec![0; order.items.len()]);
    for l in lines {
        let item = l.get("orderItemId").and_then(Value::as_str).unwrap_or_default();
        let qty = l.get("quantity").and_then(Value::as_u64).unwrap_or(0);
        let i = (0..order.items.len())
            .find(|&i| order_item_id(id, i) == item)
            .ok_or("orderItemId does not belong to the order.")?;
        let open = u64::from(order.items[i].quantity.saturating_sub(shipped[i]));
        if qty == 0 || qty > open {
            return Err("quantity must be between 1 and the unshipped quantity.");
        }
        shipped[i] += qty as u32;
    }
    let all = order.items.iter().zip(&shipped).all(|(it, s)| *s >= it.quantity);
    shipped_all.insert(id.to_string(), shipped);
    Ok(all)
}

// ---- rendering: canonical order → Orders v0 JSON ----

/// `OrderStatus` the API shows for a seeded order.
fn amazon_status(o: &Order, shipped: Option<&[u32]>) -> &'static str {
    match o.status {
        OrderStatus::AwaitingPayment => "Pending",
        OrderStatus::Shipped => "Shipped",
        OrderStatus::Cancelled => "Canceled",
        OrderStatus::New | OrderStatus::ReadyToShip | OrderStatus::OnHold => {
            if shipped.is_some_and(|s| s.iter().any(|n| *n > 0)) { "PartiallyShipped" } else { "Unshipped" }
        }
    }
}

/// Whether the API shows a shipping address for the order's status.
fn has_address(o: &Order) -> bool {
    matches!(o.status, OrderStatus::New | OrderStatus::ReadyToShip | OrderStatus::OnHold | OrderStatus::Shipped)
}

fn yen(amount: i64) -> Value {
    json!({ "CurrencyCode": "JPY", "Amount": amount.to_string() })
}

/// The relay address Amazon shows instead of the buyer's own.
fn relay_email(o: &Order) -> String {
    let digits: String = o.order_id.chars().filter(char::is_ascii_digit).collect();
    format!("{digits}x@marketplace.amazon.co.jp")
}

fn payment(o: &Order) -> (&'static str, Vec<&'static str>) {
    match o.payment_method {
        PaymentMethod::Cod => ("COD", vec!["COD"]),
        PaymentMethod::ConvenienceStore => ("CVS", vec!["CVS"]),
        PaymentMethod::CreditCard => ("Other", vec!["CreditCard"]),
        PaymentMethod::MarketplacePay => ("Other", vec!["Standard"]),
        PaymentMethod::Deferred => ("Other", vec!["Invoice"]),
        PaymentMethod::BankTransfer | PaymentMethod::Other => ("Other", vec![]),
    }
}

fn render_address(o: &Order, pii: bool) -> Value {
    let a = &o.ship_to;
    let mut v = json!({
        "City": a.city,
        "StateOrRegion": a.prefecture,
        "PostalCode": a.postal_code,
        "CountryCode": a.country,
    });
    if pii {
        v["Name"] = json!(a.name);
        v["AddressLine1"] = json!(a.address1);
        if !a.address2.trim().is_empty() {
            v["AddressLine2"] = json!(a.address2);
        }
        if let Some(p) = &a.phone {
            v["Phone"] = json!(p);
        }
        v["AddressType"] = json!("Residential");
    }
    v
}

fn render_order(o: &Order, pii: &[String], shipped: Option<&[u32]>) -> Value {
    let status = amazon_status(o, shipped);
    let units: u32 = o.items.iter().map(|i| i.quantity).sum();
    let units_shipped: u32 = if status == "Shipped" { units } else { shipped.map_or(0, |s| s.iter().sum()) };
    let (method, details) = payment(o);
    let mfn = !o.fulfilled_by_marketplace;
    let mut v = json!({
        "AmazonOrderId": o.order_id,
        "PurchaseDate": utc(o.ordered_at),
        "LastUpdateDate": utc(o.source_updated_at),
        "OrderStatus": status,
        "FulfillmentChannel": if mfn { "MFN" } else { "AFN" },
        "SalesChannel": "Amazon.co.jp",
        "OrderChannel": "Amazon.co.jp",
        "ShipServiceLevel": o.delivery.source_method,
        "ShipmentServiceLevelCategory": if o.delivery.requested_date.is_some() { "Scheduled" } else { "Standard" },
        "NumberOfItemsShipped": units_shipped,
        "NumberOfItemsUnshipped": units - units_shipped.min(units),
        "PaymentMethod": method,
        "PaymentMethodDetails": details,
        "MarketplaceId": MARKETPLACE_ID,
        "OrderType": "StandardOrder",
        "IsPrime": false,
        "IsBusinessOrder": false,
        "IsPremiumOrder": false,
        "IsReplacementOrder": false,
        "IsGlobalExpressEnabled": false,
        "IsSoldByAB": false,
        "IsISPU": false,
        "IsAccessPointOrder": o.delivery.method == DeliveryMethod::Pickup,
        "HasRegulatedItems": false,
    });
    if status != "Pending" {
        v["OrderTotal"] = yen(o.totals.total);
    }
    if o.payment_method == PaymentMethod::Cod && status != "Pending" {
        v["PaymentExecutionDetail"] = json!([{ "Payment": yen(o.totals.total), "PaymentMethod": "COD" }]);
    }
    if mfn && status != "Pending" && status != "Canceled" {
        let ship_by = o.ordered_at + chrono::Duration::days(2);
        v["EarliestShipDate"] = json!(utc(o.ordered_at));
        v["LatestShipDate"] = json!(utc(ship_by));
    }
    if has_address(o) {
        v["ShippingAddress"] = render_address(o, pii.iter().any(|e| e == "shippingAddress"));
    }
    if pii.iter().any(|e| e == "buyerInfo") {
        v["BuyerInfo"] = json!({ "BuyerEmail": relay_email(o), "BuyerName": o.buyer.name });
    } else {
        v["BuyerInfo"] = json!({});
    }
    v
}

/// Start and end hour (JST) of a seeded time slot.
fn slot_hours(slot: &str) -> Option<(u32, u32)> {
    if slot == "午前中" {
        return Some((8, 12));
    }
    let (a, b) = slot.split_once('-')?;
    Some((a.trim().parse().ok()?, b.trim().parse().ok()?))
}

fn jst_at(date: chrono::NaiveDate, hour: u32) -> Option<String> {
    let jst = FixedOffset::east_opt(9 * 3600)?;
    let t = date.and_time(NaiveTime::from_hms_opt(hour.min(23), 0, 0)?);
    jst.from_local_datetime(&t).single().map(utc)
}

fn render_items(o: &Order, shipped: Option<&[u32]>) -> Vec<Value> {
    let pending = amazon_status(o, shipped) == "Pending";
    o.items
        .iter()
        .enumerate()
        .map(|(i, it)| {
            let line_total = it.unit_price * i64::from(it.quantity);
            let q_shipped = if o.status == OrderStatus::Shipped {
                it.quantity
            } else {
                shipped.and_then(|s| s.get(i).copied()).unwrap_or(0)
            };
            let asin: String =
                format!("B0{:08X}", (i as u32).wrapping_add(it.sku.bytes().map(u32::from).sum::<u32>() * 7919));
            let mut v = json!({
                "ASIN": asin,
                "OrderItemId": order_item_id(&o.order_id, i),
                "SellerSKU": it.sku,
                "Title": it.name,
                "QuantityOrdered": it.quantity,
                "QuantityShipped": q_shipped,
                "ProductInfo": { "NumberOfItems": "1" },
                "ConditionId": "New",
                "ConditionSubtypeId": "New",
                "IsGift": if o.gift { "true" } else { "false" },
                "IsTransparency": false,
                "SerialNumberRequired": false,
            });
            if !pending {
                // Prices include consumption tax in Japan; *Tax is the 10% share inside them.
                v["ItemPrice"] = yen(line_total);
                v["ItemTax"] = yen(line_total * 10 / 110);
                // Order-level amounts ride on the first line, as Amazon splits them per line.
                let first = i == 0;
                let shipping = if first { o.totals.shipping } else { 0 };
                v["ShippingPrice"] = yen(shipping);
                v["ShippingTax"] = yen(shipping * 10 / 110);
                v["ShippingDiscount"] = yen(0);
                v["ShippingDiscountTax"] = yen(0);
                let discount = if first { o.totals.discount } else { 0 };
                v["PromotionDiscount"] = yen(discount);
                v["PromotionDiscountTax"] = yen(discount * 10 / 110);
                if first && o.totals.fee > 0 {
                    v["CODFee"] = yen(o.totals.fee);
                    v["CODFeeDiscount"] = yen(0);
                }
            }
            if let Some(date) = o.delivery.requested_date {
                let hours = o.delivery.requested_time_slot.as_deref().and_then(slot_hours);
                if let Some(start) = jst_at(date, hours.map_or(0, |h| h.0)) {
                    v["ScheduledDeliveryStartDate"] = json!(start);
                }
                if let Some(end) = hours.and_then(|h| jst_at(date, h.1)) {
                    v["ScheduledDeliveryEndDate"] = json!(end);
                }
            }
            v
        })
        .collect()
}
