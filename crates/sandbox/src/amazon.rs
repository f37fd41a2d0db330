//! Amazon SP-API emulator for Amazon.co.jp: Orders API v2026-01-01 reads, Orders v0
//! confirmShipment, LWA.
//!
//! Serves the real paths and methods of the published models: `POST /auth/o2/token` (LWA,
//! form-encoded), `GET /orders/2026-01-01/orders` (searchOrders), `GET
//! /orders/2026-01-01/orders/{orderId}` (getOrder) and `POST
//! /orders/v0/orders/{orderId}/shipmentConfirmation` (confirmShipment, not deprecated). The v0 read
//! operations (getOrders, getOrderItems, getOrderAddress, ...) and the Tokens API are no longer
//! served: after 2027-03-27 Amazon removes them. Orders are rendered here from the seeded
//! canonical orders with `serde_json::json!`, independently of the client's wire structs.
//!
//! What it checks the way the model says: the access token; the app's roles (no role that reads
//! orders → 403; personal fields absent without Direct-to-Consumer Shipping / Delivery, buyer data
//! only for `UNSHIPPED`, `PARTIALLY_SHIPPED`, `SHIPPED`); `includedData` (each block is present only
//! when asked for); searchOrders' window rules (exactly one of `createdAfter` / `lastUpdatedAfter`,
//! no mixing, `*Before` at least two minutes in the past), filters, page size, and pagination
//! tokens (same parameters on every page, except `maxResultsPerPage` and `includedData`; expired
//! after 24 hours); the usage plans with `x-amzn-RateLimit-Limit` on 200/400/404 and a bare 429.
//! Back-office changes (payment authorised, shipped in Seller Central, cancelled, a buyer's cancel
//! request) go through [`BackOffice`] and move `lastUpdatedTime` like any change by Amazon or the
//! seller. A corrupt order (`Faults::corrupt_orders`) is served without its required `createdTime`.

// The checks return the API's own error answer as `Err`; it is sent at once, never stored.
#![allow(clippy::result_large_err)]

pub mod listings;

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
use crate::{
    Fault, FaultDice, OrderBook, Restock, SandboxConfig, Shelf, Started, Throttle, TimeField, buyer_order, seed_orders,
    serve,
};

/// Amazon.co.jp marketplace id.
pub const MARKETPLACE_ID: &str = "A1VC38T7YXB528";
/// LWA client id the sandbox accepts.
pub const CLIENT_ID: &str = "amzn1.application-oa2-client.ichigensandbox";
/// LWA client secret the sandbox accepts (a test value).
pub const CLIENT_SECRET: &str = "sandbox-client-secret";
/// Refresh token the sandbox accepts (a test value).
pub const REFRESH_TOKEN: &str = "Atzr|sandbox-refresh-token";

/// Documented usage plans: (operation, requests per second, burst).
pub const USAGE_PLANS: [(&str, f64, u32); 6] = [
    ("searchOrders", 0.0056, 20),
    ("getOrder", 0.5, 30),
    ("confirmShipment", 2.0, 10),
    // Listings Items v2021-08-01 (inventory.md §3.2, §3.3).
    (listings::PATCH, 5.0, 5),
    (listings::SEARCH, 5.0, 5),
    (listings::GET, 5.0, 10),
];

const ORDERS_PATH: &str = "/orders/2026-01-01/orders";

/// Every `includedData` value of the model.
const INCLUDED_DATA: [&str; 11] = [
    "BUYER",
    "RECIPIENT",
    "PROCEEDS",
    "EXPENSE",
    "PROMOTION",
    "CANCELLATION",
    "FULFILLMENT",
    "PACKAGES",
    "TAX",
    "PAYMENT",
    "FULFILLMENT_ORDERS",
];
const FULFILLMENT_STATUSES: [&str; 7] =
    ["PENDING_AVAILABILITY", "PENDING", "UNSHIPPED", "PARTIALLY_SHIPPED", "SHIPPED", "CANCELLED", "UNFULFILLABLE"];

/// How the sandbox answers where the published sources are silent.
// unverified: whether a missing role gives an error or absent fields (the sheet: parse as
// optional; the sandbox leaves them out); the sign of a DISCOUNT breakdown (negative here); what a
// package's `carrier` echoes (the carrierName for carrierCode Other, else the code); the message of
// an expired pagination token (400 InvalidInput like every other bad parameter).
const UNVERIFIED: Unverified =
    Unverified { discount_negative: true, expired_token_message: "The paginationToken has expired." };

struct Unverified {
    discount_negative: bool,
    expired_token_message: &'static str,
}

/// Roles an SP-API app can hold that matter to Orders v2026-01-01 ("Access Orders PII", "Get
/// orders with filtering criteria").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Inventory and Order Tracking: order data without personal data.
    InventoryAndOrderTracking,
    /// Direct-to-Consumer Shipping (Restricted): the buyer name of FBM orders (the only role that
    /// gives it in JP).
    DirectToConsumerShipping,
    /// Direct-to-Consumer Delivery (Restricted): the shipping address and the buyer e-mail.
    DirectToConsumerDelivery,
    /// Tax Invoicing (Restricted): no buyer name in JP.
    TaxInvoicing,
}

/// Knobs of the Amazon sandbox beyond [`SandboxConfig`].
#[derive(Debug, Clone)]
pub struct AmazonOptions {
    /// How far before now `lastUpdatedBefore` / `createdBefore` must be (the API: 2 minutes).
    pub before_lag: chrono::Duration,
    /// How long a `paginationToken` stays valid (the API: 24 hours).
    pub pagination_token_ttl: Duration,
    /// Lifetime of access tokens (the API: 3600 s).
    pub token_ttl: Duration,
    /// The roles of the calling app.
    pub roles: Vec<Role>,
}

impl Default for AmazonOptions {
    fn default() -> Self {
        AmazonOptions {
            before_lag: chrono::Duration::minutes(2),
            pagination_token_ttl: Duration::from_secs(24 * 3600),
            token_ttl: Duration::from_secs(3600),
            roles: vec![
                Role::InventoryAndOrderTracking,
                Role::DirectToConsumerShipping,
                Role::DirectToConsumerDelivery,
            ],
        }
    }
}

/// Starts the Amazon sandbox with the documented rules.
pub async fn start(config: SandboxConfig) -> std::io::Result<Started> {
    start_with(config, AmazonOptions::default()).await
}

/// Starts the Amazon sandbox with `options` (tests shorten the 2-minute rule).
pub async fn start_with(config: SandboxConfig, options: AmazonOptions) -> std::io::Result<Started> {
    start_with_office(config, options).await.map(|(s, _)| s)
}

/// Starts the Amazon sandbox and hands back its Seller Central / Amazon side as well.
pub async fn start_with_office(
    config: SandboxConfig,
    options: AmazonOptions,
) -> std::io::Result<(Started, BackOffice)> {
    let mut orders = seed_orders(Marketplace::Amazon, &config.seed);
    for (n, o) in orders.iter_mut().enumerate() {
        o.order_id = amazon_order_id(n);
        // The API speaks whole seconds.
        o.ordered_at = o.ordered_at.with_nanosecond(0).unwrap_or(o.ordered_at);
        o.source_updated_at = o.source_updated_at.with_nanosecond(0).unwrap_or(o.source_updated_at);
        for t in &mut o.tracking {
            t.shipped_at = t.shipped_at.map(|at| at.with_nanosecond(0).unwrap_or(at));
        }
    }
    // Seeded shipped FBM orders were confirmed in Seller Central: one package per parcel.
    let mut packages = HashMap::new();
    for o in orders.iter().filter(|o| o.status == OrderStatus::Shipped && !o.fulfilled_by_marketplace) {
        let list: Vec<Package> = o
            .tracking
            .iter()
            .enumerate()
            .map(|(i, t)| Package {
                reference: (i + 1).to_string(),
                carrier: carrier_name(t.carrier).to_string(),
                number: t.number.clone(),
                ship_time: t.shipped_at.unwrap_or(o.ordered_at),
                lines: if i == 0 {
                    o.items.iter().enumerate().map(|(l, it)| (l, it.quantity)).collect()
                } else {
                    vec![]
                },
            })
            .collect();
        packages.insert(o.order_id.clone(), list);
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
        extra: Mutex::new(Extra { packages, ..Extra::default() }),
        // unverified: no published delay; ACCEPTED is applied asynchronously (inventory.md §3.2, §3.6).
        shelf: Arc::new(Shelf::new(Duration::from_secs(30))),
        stranded: Mutex::new(Vec::new()),
        revoked: std::sync::atomic::AtomicBool::new(false),
        buyers: std::sync::atomic::AtomicUsize::new(0),
        shop_id: config.seed.shop_id.clone(),
    });
    let router = Router::new()
        .route("/auth/o2/token", post(lwa_token))
        .route(ORDERS_PATH, get(search_orders))
        .route(&format!("{ORDERS_PATH}/{{id}}"), get(get_order))
        .route("/orders/v0/orders/{id}/shipmentConfirmation", post(confirm_shipment));
    let router = listings::routes(router).fallback(not_found).with_state(Arc::clone(&state));
    let running = serve(router, config.port).await?;
    let started = Started {
        running,
        credentials: vec![
            ("client_id", CLIENT_ID.to_string()),
            ("client_secret", CLIENT_SECRET.to_string()),
            ("refresh_token", REFRESH_TOKEN.to_string()),
            ("marketplace_id", MARKETPLACE_ID.to_string()),
            ("seller_id", listings::SELLER_ID.to_string()),
        ],
        book,
        faults,
        shelf: Arc::clone(&state.shelf),
    };
    let office = BackOffice { sb: state };
    // The items the seeded orders sell (their seller SKUs), merchant-fulfilled, with a
    // hand-kept quantity.
    for (sku, _, _) in crate::listed_items(&config.seed) {
        office.list_item(sku, crate::HAND_KEPT);
    }
    Ok((started, office))
}

/// The `n`th seeded order's 3-7-7 id.
pub fn amazon_order_id(n: usize) -> String {
    format!("503-{:07}-{:07}", (n * 7_919 + 1_234_567) % 10_000_000, n % 10_000_000)
}

/// `orderItemId` of line `index` of `order_id` (14 digits).
pub fn order_item_id(order_id: &str, index: usize) -> String {
    let digits: String = order_id.chars().filter(char::is_ascii_digit).collect();
    format!("{}{:02}", digits.get(5..).unwrap_or("000000000000"), index % 100)
}

/// One confirmed package of an order.
#[derive(Debug, Clone, PartialEq)]
pub struct Package {
    /// `packageReferenceId`.
    pub reference: String,
    /// The carrier as the package shows it (`carrierName` for `carrierCode=Other`, else the code).
    pub carrier: String,
    /// Tracking number.
    pub number: String,
    /// `shipDate` of the confirmation.
    pub ship_time: DateTime<FixedOffset>,
    /// (line index, units) in the package.
    pub lines: Vec<(usize, u32)>,
}

/// Amazon's side of an order beyond the canonical fields.
#[derive(Debug, Default)]
struct Extra {
    packages: HashMap<String, Vec<Package>>,
    /// Who cancelled (`BUYER`, `MERCHANT`, `AMAZON`).
    cancelled_by: HashMap<String, String>,
    /// A buyer's open cancel request, with its reason.
    cancel_requests: HashMap<String, String>,
}

struct Sandbox {
    book: Arc<OrderBook>,
    faults: Arc<FaultDice>,
    throttle: Throttle,
    scale: f64,
    throttled: bool,
    options: AmazonOptions,
    grants: Mutex<HashMap<String, Instant>>,
    extra: Mutex<Extra>,
    /// The seller-fulfilled and FBA quantities ([`listings`]).
    shelf: Arc<Shelf>,
    /// FBA SKUs a seller quantity switched to merchant-fulfilled.
    stranded: Mutex<Vec<String>>,
    /// The app's authorisation was removed: the refresh token is refused.
    revoked: std::sync::atomic::AtomicBool,
    /// Orders simulated buyers placed so far.
    buyers: std::sync::atomic::AtomicUsize,
    /// The shop the seeded orders belong to.
    shop_id: String,
}

type S = State<Arc<Sandbox>>;

/// Seller Central and Amazon acting on orders, as the real back office does: each change moves the
/// order's `lastUpdatedTime` ("any change made by Amazon or the seller, including changes to order
/// status").
#[derive(Clone)]
pub struct BackOffice {
    sb: Arc<Sandbox>,
}

impl std::fmt::Debug for BackOffice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BackOffice").finish_non_exhaustive()
    }
}

impl BackOffice {
    /// Amazon authorises the payment of a `PENDING` order: it becomes `UNSHIPPED` (ready to ship).
    pub fn authorize_payment(&self, order_id: &str) -> Result<(), &'static str> {
        let o = self.sb.book.get(order_id).ok_or("no such order")?;
        if o.status != OrderStatus::AwaitingPayment {
            return Err("the order is not PENDING");
        }
        self.sb.book.update(order_id, |o| {
            o.status = OrderStatus::ReadyToShip;
            o.source_status = "UNSHIPPED".into();
        });
        Ok(())
    }

    /// The seller confirms a package in Seller Central: `lines` (line index, units), or every unit
    /// still open when `None`. Returns the package's `packageReferenceId` (the next free number).
    pub fn ship_in_seller_central(
        &self,
        order_id: &str,
        carrier: Carrier,
        number: &str,
        lines: Option<&[(usize, u32)]>,
    ) -> Result<String, &'static str> {
        let order = self.sb.book.get(order_id).ok_or("no such order")?;
        let packages = self.packages(order_id);
        let reference = (packages.len() + 1).to_string();
        let open = open_units(&order, &packages);
        let lines: Vec<(usize, u32)> = match lines {
            Some(l) => l.to_vec(),
            None => open.iter().enumerate().filter(|(_, n)| **n > 0).map(|(i, n)| (i, *n)).collect(),
        };
        let p = Package {
            reference: reference.clone(),
            carrier: carrier_name(carrier).to_string(),
            number: number.to_string(),
            ship_time: Utc::now().fixed_offset(),
            lines,
        };
        add_package(&self.sb, &order, p, None)?;
        Ok(reference)
    }

    /// The order is cancelled by `by` (`BUYER`, `MERCHANT` or `AMAZON`). The units come back to
    /// the SKU (a buyer's cancel, or the seller's for the buyer: inventory.md §3.5; unverified for
    /// a cancel by Amazon, taken as the same).
    pub fn cancel(&self, order_id: &str, by: &str) -> Result<(), &'static str> {
        self.cancel_restocking(order_id, by, Restock::Always)
    }

    /// The seller cancels with the reason "no inventory": the units do **not** come back
    /// (inventory.md §3.5).
    pub fn cancel_for_no_inventory(&self, order_id: &str) -> Result<(), &'static str> {
        self.cancel_restocking(order_id, "MERCHANT", Restock::Never)
    }

    /// A simulated buyer orders `lines` (seller SKU, units) now at ¥1,000 a unit: placed (its
    /// units taken off the listing) only if every SKU offers enough; `None`: sold out, no order.
    /// An order of FBA SKUs is fulfilled by Amazon.
    pub fn buy(&self, lines: &[(&str, u32)]) -> Option<String> {
        let sb = &self.sb;
        let n = sb.buyers.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let items: Vec<(String, u32, i64)> = lines.iter().map(|(sku, q)| ((*sku).to_owned(), *q, 1_000)).collect();
        let mut o = buyer_order(Marketplace::Amazon, &sb.shop_id, n, &items);
        o.order_id = amazon_order_id(900_000 + n);
        o.fulfilled_by_marketplace = lines.first().is_some_and(|(sku, _)| sb.shelf.is_mall_managed(sku));
        // A new FBM order waits for the payment to be authorised (PENDING).
        o.status = OrderStatus::AwaitingPayment;
        o.source_status = "PENDING".into();
        let taken: Vec<(String, i64)> = lines.iter().map(|(sku, q)| ((*sku).to_owned(), i64::from(*q))).collect();
        if !sb.shelf.sell(&o.order_id, &taken) {
            return None;
        }
        let id = o.order_id.clone();
        sb.book.insert(o);
        Some(id)
    }

    fn cancel_restocking(&self, order_id: &str, by: &str, restock: Restock) -> Result<(), &'static str> {
        let o = self.sb.book.get(order_id).ok_or("no such order")?;
        if matches!(o.status, OrderStatus::Shipped | OrderStatus::Cancelled) {
            return Err("a shipped or cancelled order cannot be cancelled");
        }
        if let Ok(mut x) = self.sb.extra.lock() {
            x.cancelled_by.insert(order_id.to_string(), by.to_string());
            x.cancel_requests.remove(order_id);
        }
        self.sb.book.update(order_id, |o| {
            o.status = OrderStatus::Cancelled;
            o.source_status = "CANCELLED".into();
        });
        self.sb.shelf.cancel(order_id, restock);
        Ok(())
    }

    /// The buyer asks to cancel an open order (the seller must look before shipping).
    pub fn request_cancellation(&self, order_id: &str, reason: &str) -> Result<(), &'static str> {
        let o = self.sb.book.get(order_id).ok_or("no such order")?;
        if !o.status.is_open() {
            return Err("the order is not open");
        }
        if let Ok(mut x) = self.sb.extra.lock() {
            x.cancel_requests.insert(order_id.to_string(), reason.to_string());
        }
        self.sb.book.update(order_id, |_| {});
        Ok(())
    }

    /// The packages the order has.
    pub fn packages(&self, order_id: &str) -> Vec<Package> {
        self.sb.extra.lock().ok().and_then(|x| x.packages.get(order_id).cloned()).unwrap_or_default()
    }
}

/// Units of each line not yet in a package.
fn open_units(o: &Order, packages: &[Package]) -> Vec<u32> {
    o.items
        .iter()
        .enumerate()
        .map(|(i, it)| {
            let packed: u32 = packages.iter().flat_map(|p| &p.lines).filter(|(l, _)| *l == i).map(|(_, n)| *n).sum();
            it.quantity.saturating_sub(packed)
        })
        .collect()
}

/// Adds `p` to the order (or replaces the package `replacing`, an edit), checks the units, moves
/// the order to `SHIPPED` once every unit is packed, and moves `lastUpdatedTime`.
fn add_package(sb: &Sandbox, order: &Order, p: Package, replacing: Option<usize>) -> Result<(), &'static str> {
    let mut x = sb.extra.lock().map_err(|_| "internal state unavailable")?;
    let mut list = x.packages.get(&order.order_id).cloned().unwrap_or_default();
    if let Some(i) = replacing {
        if i < list.len() {
            list.remove(i);
        }
    }
    let open = open_units(order, &list);
    let mut taken = vec![0u32; open.len()];
    for (line, n) in &p.lines {
        let slot = taken.get_mut(*line).ok_or("orderItemId does not belong to the order.")?;
        *slot = slot.saturating_add(*n);
    }
    if p.lines.is_empty() || p.lines.iter().any(|(_, n)| *n == 0) || taken.iter().zip(&open).any(|(t, o)| t > o) {
        return Err("quantity must be between 1 and the unshipped quantity.");
    }
    match replacing {
        Some(i) if i <= list.len() => list.insert(i, p),
        _ => list.push(p),
    }
    let all = open_units(order, &list).iter().all(|n| *n == 0);
    let tracking: Vec<Tracking> = list
        .iter()
        .map(|p| Tracking {
            carrier: carrier_of(&p.carrier),
            number: p.number.clone(),
            shipped_at: Some(p.ship_time),
            shipment_id: None,
        })
        .collect();
    x.packages.insert(order.order_id.clone(), list);
    drop(x);
    sb.book.update(&order.order_id, |o| {
        if all {
            o.status = OrderStatus::Shipped;
            o.source_status = "SHIPPED".into();
        }
        o.tracking = tracking;
    });
    Ok(())
}

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
    // The applied rate "when available" (an unthrottled sandbox has none), on the answers the model
    // lists it for: 200, 400, 404 (not 403, 413, 415, 429, 500, 503).
    let listed = matches!(status.as_u16(), 200 | 204 | 400 | 404);
    if let Some(rate) = rate_of(operation).filter(|_| sb.throttled && listed) {
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

fn order_not_found(sb: &Sandbox, operation: &str) -> Response {
    respond(sb, operation, StatusCode::NOT_FOUND, Some(errors("NotFound", "The requested order was not found.", "")))
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

/// The caller of an SP-API operation, checked the way the API does: a live LWA token, then the
/// usage plan.
fn authorize(sb: &Sandbox, operation: &str, headers: &HeaderMap) -> Result<(), Response> {
    let Some(token) = headers.get("x-amz-access-token").and_then(|v| v.to_str().ok()) else {
        return Err(denied(sb, operation, "Access token is missing in the request header."));
    };
    let until = sb.grants.lock().ok().and_then(|g| g.get(token).copied());
    let Some(until) = until else {
        return Err(denied(sb, operation, "The access token you provided is revoked, malformed or invalid."));
    };
    if until <= Instant::now() {
        return Err(denied(sb, operation, "The access token you provided has expired."));
    }
    if !sb.throttle.admit(operation) {
        let body = errors("QuotaExceeded", "You exceeded your quota for the requested resource.", "");
        return Err(respond(sb, operation, StatusCode::TOO_MANY_REQUESTS, Some(body)));
    }
    Ok(())
}

fn has_role(sb: &Sandbox, role: Role) -> bool {
    sb.options.roles.contains(&role)
}

/// Reading orders at all needs one of the order roles.
fn may_read_orders(sb: &Sandbox, op: &str) -> Result<(), Response> {
    if sb.options.roles.is_empty() {
        return Err(denied(sb, op, "The application is not authorized for any role that reads orders."));
    }
    Ok(())
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
    if field("refresh_token") != REFRESH_TOKEN || sb.revoked.load(std::sync::atomic::Ordering::SeqCst) {
        return lwa_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "The request has an invalid grant parameter : refresh_token",
        );
    }
    let token = new_token("Atza|");
    if let Ok(mut g) = sb.grants.lock() {
        g.insert(token.clone(), Instant::now() + sb.options.token_ttl);
    }
    let body = json!({
        "access_token": token,
        "refresh_token": REFRESH_TOKEN,
        "token_type": "bearer",
        "expires_in": sb.options.token_ttl.as_secs(),
    });
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

/// The query, with array parameters as lists: comma-separated values (Swagger 2.0's default
/// `csv`) and repeated keys are both read.
struct Params(Vec<(String, String)>);

impl Params {
    fn one(&self, k: &str) -> Option<&str> {
        self.0.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str())
    }

    fn list(&self, k: &str) -> Option<Vec<String>> {
        let values: Vec<String> = self
            .0
            .iter()
            .filter(|(n, _)| n == k)
            .flat_map(|(_, v)| v.split(',').map(|s| s.trim().to_string()))
            .filter(|s| !s.is_empty())
            .collect();
        (self.0.iter().any(|(n, _)| n == k)).then_some(values)
    }
}

/// Everything a page depends on that must not change while paging.
#[derive(Debug, Clone, PartialEq)]
struct Filters {
    created: bool,
    /// The `*After` / `*Before` values as sent (normalised to UTC seconds), `None` when not sent.
    after: String,
    before_sent: Option<String>,
    statuses: Vec<String>,
    marketplaces: Vec<String>,
    fulfilled_by: Vec<String>,
}

impl Filters {
    fn encode(&self) -> String {
        [
            if self.created { "C" } else { "U" }.to_string(),
            self.after.clone(),
            self.before_sent.clone().unwrap_or_default(),
            self.statuses.join(","),
            self.marketplaces.join(","),
            self.fulfilled_by.join(","),
        ]
        .join("|")
    }
}

/// What a pagination token stands for: the filters, the applied bound, the last order delivered
/// (by time and id, so orders that change while paging shift nothing) and when it was issued.
struct Token {
    filters: String,
    before: String,
    last_at: String,
    last_id: String,
    issued_ms: i64,
}

fn encode_token(t: &Token) -> String {
    hex(&format!("{}\n{}\n{}\n{}\n{}", t.filters, t.before, t.last_at, t.last_id, t.issued_ms))
}

fn decode_token(s: &str) -> Option<Token> {
    let text = unhex(s)?;
    let f: Vec<&str> = text.split('\n').collect();
    let [filters, before, last_at, last_id, issued] = f.as_slice() else { return None };
    Some(Token {
        filters: filters.to_string(),
        before: before.to_string(),
        last_at: last_at.to_string(),
        last_id: last_id.to_string(),
        issued_ms: issued.parse().ok()?,
    })
}

/// `includedData` of a request: validated against the model's enum.
fn included(sb: &Sandbox, op: &str, p: &Params) -> Result<Vec<String>, Response> {
    let list = p.list("includedData").unwrap_or_default();
    if let Some(bad) = list.iter().find(|v| !INCLUDED_DATA.contains(&v.as_str())) {
        let _ = bad;
        return Err(invalid(sb, op, "includedData has a value that is not allowed."));
    }
    Ok(list)
}

fn filters(sb: &Sandbox, op: &str, p: &Params, now: DateTime<FixedOffset>) -> Result<(Filters, String), Response> {
    let created = p.one("createdAfter").is_some();
    let updated = p.one("lastUpdatedAfter").is_some();
    let (a, b) = match (created, updated) {
        (true, true) | (false, false) => {
            return Err(invalid(sb, op, "Exactly one of createdAfter and lastUpdatedAfter must be provided."));
        }
        (true, false) => ("createdAfter", "createdBefore"),
        (false, true) => ("lastUpdatedAfter", "lastUpdatedBefore"),
    };
    let other = if created { ["lastUpdatedAfter", "lastUpdatedBefore"] } else { ["createdAfter", "createdBefore"] };
    if other.iter().any(|k| p.one(k).is_some()) {
        return Err(invalid(
            sb,
            op,
            "createdAfter/createdBefore cannot be combined with lastUpdatedAfter/lastUpdatedBefore.",
        ));
    }
    let after =
        p.one(a).and_then(parse_iso).ok_or_else(|| invalid(sb, op, &format!("{a} is not a valid ISO 8601 date.")))?;
    let latest = now - sb.options.before_lag;
    let (before, before_sent) = match p.one(b) {
        None => (latest, None),
        Some(v) => match parse_iso(v) {
            None => return Err(invalid(sb, op, &format!("{b} is not a valid ISO 8601 date."))),
            Some(t) if t < after => return Err(invalid(sb, op, &format!("{b} must be equal to or after {a}."))),
            Some(t) if t > latest => {
                return Err(invalid(
                    sb,
                    op,
                    &format!("{b} must be at least two minutes before the time of the request."),
                ));
            }
            Some(t) => (t, Some(utc(t))),
        },
    };
    let statuses = p.list("fulfillmentStatuses").unwrap_or_default();
    if statuses.iter().any(|s| !FULFILLMENT_STATUSES.contains(&s.as_str())) {
        return Err(invalid(sb, op, "fulfillmentStatuses has a value that is not allowed."));
    }
    let marketplaces = p.list("marketplaceIds").unwrap_or_default();
    if marketplaces.len() > 50 {
        return Err(invalid(sb, op, "marketplaceIds accepts at most 50 values."));
    }
    let fulfilled_by = p.list("fulfilledBy").unwrap_or_default();
    if fulfilled_by.iter().any(|s| !matches!(s.as_str(), "MERCHANT" | "AMAZON")) {
        return Err(invalid(sb, op, "fulfilledBy has a value that is not allowed."));
    }
    let f = Filters { created, after: utc(after), before_sent, statuses, marketplaces, fulfilled_by };
    Ok((f, utc(before)))
}

async fn search_orders(
    State(sb): S,
    headers: HeaderMap,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Response {
    let op = "searchOrders";
    let malformed = match pre_faults(&sb, op).await {
        Ok(m) => m,
        Err(r) => return r,
    };
    if let Err(r) = authorize(&sb, op, &headers).and_then(|_| may_read_orders(&sb, op)) {
        return r;
    }
    let Ok(Query(q)) = query else { return invalid(&sb, op, "The query string could not be read.") };
    let p = Params(q);
    let size = match p.one("maxResultsPerPage").map(str::parse::<usize>) {
        None => 100,
        Some(Ok(n)) if (1..=100).contains(&n) => n,
        Some(_) => return invalid(&sb, op, "maxResultsPerPage must be between 1 and 100."),
    };
    let include = match included(&sb, op, &p) {
        Ok(i) => i,
        Err(r) => return r,
    };
    let now = Utc::now().fixed_offset();
    let (f, applied_before) = match filters(&sb, op, &p, now) {
        Ok(x) => x,
        Err(r) => return r,
    };
    // A token continues exactly the search it came from.
    let (before, last) = match p.one("paginationToken") {
        None => (applied_before, None),
        Some(t) => {
            let Some(tok) = decode_token(t) else { return invalid(&sb, op, "The paginationToken is not valid.") };
            if now.timestamp_millis() - tok.issued_ms > sb.options.pagination_token_ttl.as_millis() as i64 {
                return invalid(&sb, op, UNVERIFIED.expired_token_message);
            }
            if tok.filters != f.encode() {
                return invalid(
                    &sb,
                    op,
                    "The request parameters must be the same as in the first request when paginationToken is used.",
                );
            }
            let Some(at) = parse_iso(&tok.last_at) else {
                return invalid(&sb, op, "The paginationToken is not valid.");
            };
            (tok.before, Some((at, tok.last_id)))
        }
    };
    let (Some(after_t), Some(before_t)) = (parse_iso(&f.after), parse_iso(&before)) else {
        return invalid(&sb, op, "The paginationToken is not valid.");
    };
    let field = if f.created { TimeField::Ordered } else { TimeField::Updated };
    let at = |o: &Order| if f.created { o.ordered_at } else { o.source_updated_at };
    let jp = f.marketplaces.is_empty() || f.marketplaces.iter().any(|m| m == MARKETPLACE_ID);
    let rendered = {
        let Ok(extra) = sb.extra.lock() else {
            return respond(&sb, op, StatusCode::INTERNAL_SERVER_ERROR, Some(errors("InternalFailure", "", "")));
        };
        let hits: Vec<Order> = sb
            .book
            .search(field, after_t, before_t)
            .into_iter()
            .filter(|_| jp)
            .filter(|o| last.as_ref().is_none_or(|(t, id)| (at(o), &o.order_id) > (*t, id)))
            .filter(|o| f.statuses.is_empty() || f.statuses.iter().any(|s| s == status_of(o, &extra)))
            .filter(|o| f.fulfilled_by.is_empty() || f.fulfilled_by.iter().any(|b| b == fulfilled_by(o)))
            .collect();
        let page: Vec<&Order> = hits.iter().take(size).collect();
        let orders: Vec<Value> = page.iter().map(|o| corrupt(&sb, o, render_order(&sb, o, &include, &extra))).collect();
        let more = (hits.len() > size).then(|| page.last().map(|l| (utc(at(l)), l.order_id.clone()))).flatten();
        (orders, more)
    };
    let (orders, more) = rendered;
    let mut body = json!({ "orders": orders });
    if let Some((last_at, last_id)) = more {
        let tok =
            Token { filters: f.encode(), before: before.clone(), last_at, last_id, issued_ms: now.timestamp_millis() };
        body["pagination"] = json!({ "nextToken": encode_token(&tok) });
    }
    body[if f.created { "createdBefore" } else { "lastUpdatedBefore" }] = json!(before);
    finish(malformed, respond(&sb, op, StatusCode::OK, Some(body.to_string()))).await
}

async fn get_order(
    State(sb): S,
    headers: HeaderMap,
    Path(id): Path<String>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Response {
    let op = "getOrder";
    let malformed = match pre_faults(&sb, op).await {
        Ok(m) => m,
        Err(r) => return r,
    };
    if let Err(r) = authorize(&sb, op, &headers).and_then(|_| may_read_orders(&sb, op)) {
        return r;
    }
    let Ok(Query(q)) = query else { return invalid(&sb, op, "The query string could not be read.") };
    let include = match included(&sb, op, &Params(q)) {
        Ok(i) => i,
        Err(r) => return r,
    };
    let Some(order) = sb.book.get(&id) else { return order_not_found(&sb, op) };
    let rendered = {
        let Ok(extra) = sb.extra.lock() else {
            return respond(&sb, op, StatusCode::INTERNAL_SERVER_ERROR, Some(errors("InternalFailure", "", "")));
        };
        render_order(&sb, &order, &include, &extra)
    };
    let body = json!({ "order": corrupt(&sb, &order, rendered) });
    finish(malformed, respond(&sb, op, StatusCode::OK, Some(body.to_string()))).await
}

/// A corrupt order lacks the required `createdTime` (Faults::corrupt_orders).
fn corrupt(sb: &Sandbox, o: &Order, mut v: Value) -> Value {
    if sb.faults.corrupts(&o.order_id) {
        if let Some(m) = v.as_object_mut() {
            m.remove("createdTime");
        }
    }
    v
}

/// The Japanese carrier names the sandbox uses as `carrierName` (its own table, not the client's).
fn carrier_name(c: Carrier) -> &'static str {
    match c {
        Carrier::Yamato => "ヤマト運輸",
        Carrier::Sagawa => "佐川急便",
        Carrier::Japanpost => "日本郵便",
        _ => "その他",
    }
}

/// A package's carrier text → carrier.
fn carrier_of(text: &str) -> Carrier {
    match text {
        "ヤマト運輸" | "YamatoTransport" | "YAMATO" => Carrier::Yamato,
        "佐川急便" | "SagawaExpress" | "SAGAWA" => Carrier::Sagawa,
        "日本郵便" => Carrier::Japanpost,
        _ => Carrier::Other,
    }
}

async fn confirm_shipment(State(sb): S, headers: HeaderMap, Path(id): Path<String>, body: String) -> Response {
    let op = "confirmShipment";
    let malformed = match pre_faults(&sb, op).await {
        Ok(m) => m,
        Err(r) => return r,
    };
    if let Err(r) = authorize(&sb, op, &headers) {
        return r;
    }
    let Some(order) = sb.book.get(&id) else { return order_not_found(&sb, op) };
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
    let Some(reference) = s("packageReferenceId").filter(|r| r.parse::<u64>().is_ok_and(|n| n > 0)) else {
        return invalid(&sb, op, "packageReferenceId must be a positive numeric value.");
    };
    let Some(carrier_code) = s("carrierCode") else { return invalid(&sb, op, "carrierCode is required.") };
    let carrier_name = s("carrierName");
    if carrier_code == "Other" && carrier_name.is_none() {
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
    let mut parsed = Vec::with_capacity(lines.len());
    for l in lines {
        let item = l.get("orderItemId").and_then(Value::as_str).unwrap_or_default();
        let Some(i) = (0..order.items.len()).find(|&i| order_item_id(&id, i) == item) else {
            return invalid(&sb, op, "orderItemId does not belong to the order.");
        };
        let Some(qty) = l.get("quantity").and_then(Value::as_u64).and_then(|q| u32::try_from(q).ok()) else {
            return invalid(&sb, op, "quantity must be an integer.");
        };
        parsed.push((i, qty));
    }
    let existing = sb
        .extra
        .lock()
        .ok()
        .and_then(|x| x.packages.get(&id).and_then(|l| l.iter().position(|p| p.reference == reference)));
    let status = sb.extra.lock().map(|x| status_of(&order, &x)).unwrap_or("UNSHIPPED");
    // A new package needs an order still to ship; an existing number edits its package, which a
    // shipped order allows too ("Orders API" use case: edit the shipment details of shipped orders).
    let allowed = match existing {
        None => matches!(status, "UNSHIPPED" | "PARTIALLY_SHIPPED"),
        Some(_) => matches!(status, "UNSHIPPED" | "PARTIALLY_SHIPPED" | "SHIPPED"),
    };
    if !allowed {
        return invalid(&sb, op, "The order is not in a status that can be confirmed.");
    }
    // unverified: what `packages[].carrier` echoes.
    let carrier = if carrier_code == "Other" { carrier_name.unwrap_or("Other") } else { carrier_code };
    let package = Package {
        reference: reference.to_string(),
        carrier: carrier.to_string(),
        number: number.to_string(),
        ship_time: ship_date,
        lines: parsed,
    };
    if let Err(details) = add_package(&sb, &order, package, existing) {
        return invalid(&sb, op, details);
    }
    finish(malformed, respond(&sb, op, StatusCode::NO_CONTENT, None)).await
}

// ---- rendering: canonical order → Orders v2026-01-01 JSON ----

/// `fulfillmentStatus` the API shows for an order.
fn status_of(o: &Order, extra: &Extra) -> &'static str {
    match o.status {
        OrderStatus::AwaitingPayment => "PENDING",
        OrderStatus::Shipped => "SHIPPED",
        OrderStatus::Cancelled => "CANCELLED",
        OrderStatus::New | OrderStatus::ReadyToShip | OrderStatus::OnHold => {
            let packed = extra.packages.get(&o.order_id).is_some_and(|l| l.iter().any(|p| !p.lines.is_empty()));
            if packed { "PARTIALLY_SHIPPED" } else { "UNSHIPPED" }
        }
    }
}

fn fulfilled_by(o: &Order) -> &'static str {
    if o.fulfilled_by_marketplace { "AMAZON" } else { "MERCHANT" }
}

fn yen(amount: i64) -> Value {
    json!({ "amount": amount.to_string(), "currencyCode": "JPY" })
}

/// The relay address Amazon shows instead of the buyer's own.
fn relay_email(o: &Order) -> String {
    let digits: String = o.order_id.chars().filter(char::is_ascii_digit).collect();
    format!("{digits}x@marketplace.amazon.co.jp")
}

/// `paymentMethod` of the sandbox's payment executions (the model's examples: CashOnDelivery,
/// ConvenienceStore, CreditCard, Invoice).
fn payment_method(o: &Order) -> Option<&'static str> {
    match o.payment_method {
        PaymentMethod::Cod => Some("CashOnDelivery"),
        PaymentMethod::ConvenienceStore => Some("ConvenienceStore"),
        PaymentMethod::CreditCard => Some("CreditCard"),
        PaymentMethod::Deferred => Some("Invoice"),
        PaymentMethod::MarketplacePay => Some("GiftCard"),
        PaymentMethod::BankTransfer | PaymentMethod::Other => None,
    }
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
    let jst = ichigen_core::JST;
    let t = date.and_time(NaiveTime::from_hms_opt(hour.min(23), 0, 0)?);
    jst.from_local_datetime(&t).single().map(utc)
}

fn render_order(sb: &Sandbox, o: &Order, include: &[String], extra: &Extra) -> Value {
    let has = |k: &str| include.iter().any(|i| i == k);
    let status = status_of(o, extra);
    let merchant = !o.fulfilled_by_marketplace;
    let buyer_visible = matches!(status, "UNSHIPPED" | "PARTIALLY_SHIPPED" | "SHIPPED");
    let packages: &[Package] = extra.packages.get(&o.order_id).map(Vec::as_slice).unwrap_or_default();
    let ship_by = o.ordered_at + chrono::Duration::days(2);
    let deliver_by = ship_by + chrono::Duration::days(3);
    let mut v = json!({
        "orderId": o.order_id,
        "createdTime": utc(o.ordered_at),
        "lastUpdatedTime": utc(o.source_updated_at),
        "programs": [],
        "associatedOrders": [],
        "salesChannel": { "channelName": "AMAZON", "marketplaceId": MARKETPLACE_ID, "marketplaceName": "Amazon.co.jp" },
    });
    if has("BUYER") {
        // Without the role, or outside UNSHIPPED / PARTIALLY_SHIPPED / SHIPPED, the fields are absent.
        let mut b = json!({});
        if buyer_visible && has_role(sb, Role::DirectToConsumerShipping) {
            b["buyerName"] = json!(o.buyer.name);
        }
        // The anonymised e-mail: merchant-fulfilled orders only (model, Buyer.buyerEmail).
        if buyer_visible && merchant && has_role(sb, Role::DirectToConsumerDelivery) {
            b["buyerEmail"] = json!(relay_email(o));
        }
        v["buyer"] = b;
    }
    if has("RECIPIENT") {
        let a = &o.ship_to;
        let mut addr = json!({ "city": a.city, "stateOrRegion": a.prefecture, "countryCode": a.country });
        addr["addressType"] =
            json!(if o.delivery.method == DeliveryMethod::Pickup { "PICKUP_POINT" } else { "RESIDENTIAL" });
        if has_role(sb, Role::DirectToConsumerDelivery) {
            addr["name"] = json!(a.name);
            addr["addressLine1"] = json!(a.address1);
            if !a.address2.trim().is_empty() {
                addr["addressLine2"] = json!(a.address2);
            }
            addr["postalCode"] = json!(a.postal_code);
            // The phone is suppressed for FBA orders and for shipped FBM orders past their latest
            // delivery date (model, CustomerAddress.phone).
            let late = status == "SHIPPED" && deliver_by < Utc::now().fixed_offset();
            if let Some(p) = a.phone.as_ref().filter(|_| merchant && !late) {
                addr["phone"] = json!(p);
            }
        }
        let mut r = json!({ "deliveryAddress": addr });
        if !o.remarks.trim().is_empty() {
            r["deliveryPreference"] = json!({ "addressInstruction": o.remarks });
        }
        v["recipient"] = r;
    }
    if has("PROCEEDS") {
        let mut breakdowns = vec![json!({ "type": "ITEM", "subtotal": yen(o.totals.goods) })];
        if o.totals.shipping > 0 {
            breakdowns.push(json!({ "type": "SHIPPING", "subtotal": yen(o.totals.shipping) }));
        }
        if o.totals.fee > 0 {
            let kind = if o.payment_method == PaymentMethod::Cod { "COD_FEE" } else { "OTHER" };
            breakdowns.push(json!({ "type": kind, "subtotal": yen(o.totals.fee) }));
        }
        if o.totals.discount > 0 {
            let d = if UNVERIFIED.discount_negative { -o.totals.discount } else { o.totals.discount };
            breakdowns
                .push(json!({ "type": "DISCOUNT", "subtotal": { "amount": d.to_string(), "currencyCode": "JPY" } }));
        }
        v["proceeds"] = json!({ "grandTotal": yen(o.totals.total), "breakdowns": breakdowns });
    }
    if has("PAYMENT") {
        let executions: Vec<Value> = payment_method(o)
            .map(|m| json!({ "paymentMethod": m, "paymentAmount": yen(o.totals.total) }))
            .into_iter()
            .collect();
        v["payment"] = json!({ "paymentExecutions": executions });
    }
    if has("FULFILLMENT") {
        let mut f = json!({
            "fulfillmentStatus": status,
            "fulfilledBy": fulfilled_by(o),
            "fulfillmentServiceLevel": if o.delivery.requested_date.is_some() { "SCHEDULED" } else { "STANDARD" },
        });
        if merchant && !matches!(status, "PENDING" | "CANCELLED") {
            f["shipByWindow"] = json!({ "earliestDateTime": utc(o.ordered_at), "latestDateTime": utc(ship_by) });
            f["deliverByWindow"] = json!({ "earliestDateTime": utc(ship_by), "latestDateTime": utc(deliver_by) });
        }
        v["fulfillment"] = f;
    }
    v["orderItems"] = json!(render_items(o, include, packages, extra));
    if has("PACKAGES") && merchant {
        let list: Vec<Value> = packages
            .iter()
            .map(|p| {
                json!({
                    "packageReferenceId": p.reference,
                    "createdTime": utc(p.ship_time),
                    "shipTime": utc(p.ship_time),
                    "packageStatus": { "status": "SHIPPED" },
                    "carrier": p.carrier,
                    "trackingNumber": p.number,
                    "packageItems": p.lines.iter().map(|(l, n)| json!({ "orderItemId": order_item_id(&o.order_id, *l), "quantity": n })).collect::<Vec<_>>(),
                })
            })
            .collect();
        v["packages"] = json!(list);
    }
    v
}

fn render_items(o: &Order, include: &[String], packages: &[Package], extra: &Extra) -> Vec<Value> {
    let has = |k: &str| include.iter().any(|i| i == k);
    o.items
        .iter()
        .enumerate()
        .map(|(i, it)| {
            let asin = format!("B0{:08X}", (i as u32).wrapping_add(it.sku.bytes().map(u32::from).sum::<u32>() * 7919));
            let line_total = it.unit_price * i64::from(it.quantity);
            let mut v = json!({
                "orderItemId": order_item_id(&o.order_id, i),
                "quantityOrdered": it.quantity,
                "product": {
                    "asin": asin,
                    "title": it.name,
                    "sellerSku": it.sku,
                    "condition": { "conditionType": "NEW", "conditionSubtype": "NEW" },
                    "price": { "unitPrice": yen(it.unit_price) },
                },
            });
            if has("PROCEEDS") {
                v["proceeds"] = json!({
                    "proceedsTotal": yen(line_total),
                    "breakdowns": [ { "type": "ITEM", "subtotal": yen(line_total) } ],
                });
            }
            if has("CANCELLATION") {
                if let Some(by) = extra.cancelled_by.get(&o.order_id) {
                    v["cancellation"] =
                        json!({ "cancellationExecution": { "cancelledBy": by, "cancelReason": "CANCELLED" } });
                } else if let Some(reason) = extra.cancel_requests.get(&o.order_id).filter(|_| i == 0) {
                    v["cancellation"] =
                        json!({ "cancellationRequest": { "requester": "BUYER", "cancelReason": reason } });
                }
            }
            if has("FULFILLMENT") {
                let packed: u32 =
                    packages.iter().flat_map(|p| &p.lines).filter(|(l, _)| *l == i).map(|(_, n)| *n).sum();
                let done = if o.status == OrderStatus::Shipped { it.quantity } else { packed.min(it.quantity) };
                let mut f = json!({ "quantityFulfilled": done, "quantityUnfulfilled": it.quantity - done });
                if o.gift {
                    f["packing"] = json!({ "giftOption": { "giftWrapLevel": "Standard" } });
                }
                let mut shipping = json!({});
                if let Some(date) = o.delivery.requested_date {
                    let hours = o.delivery.requested_time_slot.as_deref().and_then(slot_hours);
                    let mut w = json!({});
                    if let Some(start) = jst_at(date, hours.map_or(0, |h| h.0)) {
                        w["earliestDateTime"] = json!(start);
                    }
                    if let Some(end) = hours.and_then(|h| jst_at(date, h.1)) {
                        w["latestDateTime"] = json!(end);
                    }
                    shipping["scheduledDeliveryWindow"] = w;
                }
                if o.payment_method == PaymentMethod::Cod {
                    shipping["shippingConstraints"] = json!({ "cashOnDelivery": "MANDATORY" });
                }
                if shipping.as_object().is_some_and(|m| !m.is_empty()) {
                    f["shipping"] = shipping;
                }
                v["fulfillment"] = f;
            }
            v
        })
        .collect()
}
