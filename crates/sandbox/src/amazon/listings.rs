//! Amazon SP-API Listings Items v2021-08-01 in the sandbox (inventory.md §3): `getListingsItem`,
//! `searchListingsItems` (by SKU identifiers) and `patchListingsItem`, the seller-fulfilled
//! quantity kept on the sandbox's own [`crate::Shelf`].
//!
//! - Paths `/listings/2021-08-01/items/{sellerId}[/{sku}]`, `marketplaceIds` required; a sellerId
//!   other than the authorised seller's → 403 `Unauthorized`.
//! - PATCH body `{productType, patches[]}`: `productType` required; ops `add` | `replace` |
//!   `merge` | `delete` on top-level `/attributes/<name>` only; `fulfillmentAvailability`
//!   (camelCase) → 200 `INVALID` with issue `90000900`; a `fulfillment_availability` entry
//!   without `fulfillment_channel_code` → 400 `InvalidInput` ("not enough values"); `quantity`
//!   a whole number ≥ 0. Accepted → 200 `ACCEPTED` with a `submissionId`, **applied later**
//!   ([`crate::Shelf::set_latency`]; no published delay — 30 s here, reports say minutes to hours).
//! - A PATCH for a SKU Amazon does not know is ACCEPTED and changes nothing (issue #2797): only
//!   `getListingsItem` (404) or a search without it tells.
//! - A seller quantity (`DEFAULT` channel) sent to an FBA SKU switches it to merchant-fulfilled,
//!   stranding its FBA stock (the inventory-feed clarification): the sandbox does exactly that,
//!   and records it ([`BackOffice::stranded`]).
//! - Rates: PATCH 5/s burst 5, search 5/s burst 5, get 5/s burst 10 (listings model).

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::get;
use serde_json::{Value, json};

use super::{BackOffice, MARKETPLACE_ID, S, Sandbox, authorize, denied, errors, finish, invalid, pre_faults, respond};

/// The seller id (merchant token) the sandbox's credentials are authorised for.
pub const SELLER_ID: &str = "A2SANDBOXSELLERJP";
/// `patchListingsItem`.
pub const PATCH: &str = "patchListingsItem";
/// `searchListingsItems`.
pub const SEARCH: &str = "searchListingsItems";
/// `getListingsItem`.
pub const GET: &str = "getListingsItem";
/// Most SKUs one search takes in `identifiers`.
pub const MAX_IDENTIFIERS: usize = 20;
/// The product type the sandbox's listings carry.
pub const PRODUCT_TYPE: &str = "HOME";

/// The listing routes.
pub(super) fn routes(router: Router<Arc<Sandbox>>) -> Router<Arc<Sandbox>> {
    router
        .route("/listings/2021-08-01/items/{seller}", get(search))
        .route("/listings/2021-08-01/items/{seller}/{sku}", get(get_item).patch(patch))
}

/// What every listing call checks first: faults, the token and usage plan, the seller, the
/// marketplace. `Err`: the answer to give.
async fn gate(
    sb: &Sandbox,
    op: &'static str,
    headers: &HeaderMap,
    seller: &str,
    q: &HashMap<String, String>,
) -> Result<bool, Response> {
    let malformed = pre_faults(sb, op).await?;
    authorize(sb, op, headers)?;
    if seller != SELLER_ID {
        return Err(denied(sb, op, "The seller is not authorized for this application."));
    }
    if q.get("marketplaceIds").map(String::as_str) != Some(MARKETPLACE_ID) {
        return Err(invalid(sb, op, "marketplaceIds is missing or not a marketplace of the seller."));
    }
    Ok(malformed)
}

/// One listing as the API renders it with `summaries` and `fulfillmentAvailability`.
fn item(sb: &Sandbox, sku: &str) -> Option<Value> {
    let units = sb.shelf.shown(sku)?;
    let channel = if sb.shelf.is_mall_managed(sku) { "AMAZON_JP" } else { "DEFAULT" };
    Some(json!({
        "sku": sku,
        "summaries": [{
            "marketplaceId": MARKETPLACE_ID, "asin": format!("B0{:08X}", sku.bytes().map(u32::from).sum::<u32>() * 7919),
            "productType": PRODUCT_TYPE, "conditionType": "new_new", "status": ["BUYABLE", "DISCOVERABLE"],
            "itemName": format!("商品 {sku}"),
        }],
        "fulfillmentAvailability": [{"fulfillmentChannelCode": channel, "quantity": units}],
    }))
}

async fn get_item(
    State(sb): S,
    headers: HeaderMap,
    Path((seller, sku)): Path<(String, String)>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let malformed = match gate(&sb, GET, &headers, &seller, &q).await {
        Ok(m) => m,
        Err(r) => return r,
    };
    sb.shelf.count_read_call();
    let resp = match item(&sb, &sku) {
        Some(v) => respond(&sb, GET, StatusCode::OK, Some(v.to_string())),
        None => respond(
            &sb,
            GET,
            StatusCode::NOT_FOUND,
            Some(errors("NOT_FOUND", &format!("SKU '{sku}' not found in marketplace {MARKETPLACE_ID}"), "")),
        ),
    };
    finish(malformed, resp).await
}

async fn search(
    State(sb): S,
    headers: HeaderMap,
    Path(seller): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let malformed = match gate(&sb, SEARCH, &headers, &seller, &q).await {
        Ok(m) => m,
        Err(r) => return r,
    };
    sb.shelf.count_read_call();
    if q.get("identifiersType").map(String::as_str) != Some("SKU") {
        return invalid(&sb, SEARCH, "identifiersType must be SKU when searching by seller SKUs.");
    }
    let skus: Vec<&str> =
        q.get("identifiers").map(|s| s.split(',').filter(|s| !s.is_empty()).collect()).unwrap_or_default();
    if skus.is_empty() || skus.len() > MAX_IDENTIFIERS {
        return invalid(&sb, SEARCH, "identifiers must hold 1 to 20 values.");
    }
    let items: Vec<Value> = skus.iter().filter_map(|sku| item(&sb, sku)).collect();
    let body = json!({"numberOfResults": items.len(), "items": items});
    finish(malformed, respond(&sb, SEARCH, StatusCode::OK, Some(body.to_string()))).await
}

/// The answer of a PATCH: `ACCEPTED` or `INVALID` with its issues.
fn submission(sb: &Sandbox, sku: &str, issues: Vec<Value>) -> Response {
    let status = if issues.is_empty() { "ACCEPTED" } else { "INVALID" };
    let body = json!({
        "sku": sku, "status": status,
        "submissionId": format!("{:032x}", fastrand::u128(..)), "issues": issues,
    });
    respond(sb, PATCH, StatusCode::OK, Some(body.to_string()))
}

fn issue(code: &str, message: &str, attribute: &str) -> Value {
    json!({"code": code, "message": message, "severity": "ERROR", "attributeNames": [attribute], "categories": []})
}

async fn patch(
    State(sb): S,
    headers: HeaderMap,
    Path((seller, sku)): Path<(String, String)>,
    Query(q): Query<HashMap<String, String>>,
    body: String,
) -> Response {
    if let Err(r) = gate(&sb, PATCH, &headers, &seller, &q).await {
        return r;
    }
    sb.shelf.count_write_call();
    let Ok(req) = serde_json::from_str::<Value>(&body) else {
        return invalid(&sb, PATCH, "The request body is not valid JSON.");
    };
    if req.get("productType").and_then(Value::as_str).is_none_or(str::is_empty) {
        return invalid(&sb, PATCH, "productType is required.");
    }
    let Some(patches) = req.get("patches").and_then(Value::as_array).filter(|p| !p.is_empty()) else {
        return invalid(&sb, PATCH, "patches is required.");
    };
    let mut quantity = None;
    for p in patches {
        let op = p.get("op").and_then(Value::as_str).unwrap_or_default();
        if !matches!(op, "add" | "replace" | "merge" | "delete") {
            return invalid(&sb, PATCH, "op must be add, replace, merge or delete.");
        }
        let path = p.get("path").and_then(Value::as_str).unwrap_or_default();
        let Some(attribute) = path.strip_prefix("/attributes/").filter(|a| !a.is_empty() && !a.contains('/')) else {
            return invalid(&sb, PATCH, "Only top-level attributes can be patched.");
        };
        if attribute == "fulfillmentAvailability" {
            return submission(&sb, &sku, vec![issue("90000900", "The provided attributes are invalid.", attribute)]);
        }
        if attribute != "fulfillment_availability" || op == "delete" {
            continue;
        }
        let entries = p.get("value").and_then(Value::as_array).cloned().unwrap_or_default();
        for e in entries {
            let channel = e.get("fulfillment_channel_code").and_then(Value::as_str).unwrap_or_default();
            if channel.is_empty() {
                return invalid(&sb, PATCH, "BAD_REQUEST: not enough values for fulfillment_channel_code.");
            }
            match e.get("quantity").map(|v| v.as_i64().filter(|n| *n >= 0)) {
                Some(Some(n)) if channel == "DEFAULT" => quantity = Some(n),
                Some(Some(_)) => {}
                Some(None) => {
                    return submission(
                        &sb,
                        &sku,
                        vec![issue("4000001", "quantity must be a whole number of 0 or more.", attribute)],
                    );
                }
                None => {}
            }
        }
    }
    if let Some(n) = quantity {
        if sb.shelf.is_mall_managed(&sku) {
            // A seller quantity switches the SKU to merchant-fulfilled; its FBA stock is stranded.
            sb.shelf.list(&sku, n, true);
            if let Ok(mut s) = sb.stranded.lock() {
                s.push(sku.clone());
            }
        } else {
            // Unknown SKU: accepted, nothing changes (by design, issue #2797).
            sb.shelf.put(&sku, n, false);
        }
    }
    submission(&sb, &sku, Vec::new())
}

impl BackOffice {
    /// Lists a seller-fulfilled SKU with `units` (Seller Central's inventory screen).
    pub fn list_item(&self, sku: &str, units: i64) {
        self.sb.shelf.list(sku, units, true);
    }

    /// Lists an FBA SKU: its quantity is the fulfilment centre's.
    pub fn list_fba_item(&self, sku: &str, units: i64) {
        self.sb.shelf.list_mall_managed(sku, units);
    }

    /// Staff change a SKU's quantity in Seller Central: shows at once. False for an unknown SKU.
    pub fn edit_stock(&self, sku: &str, units: i64) -> bool {
        self.sb.shelf.edit(sku, units)
    }

    /// What the detail page offers of a SKU now (`None`: no such listing).
    pub fn stock(&self, sku: &str) -> Option<i64> {
        self.sb.shelf.shown(sku)
    }

    /// Whether the SKU is fulfilled by Amazon now.
    pub fn is_fba(&self, sku: &str) -> bool {
        self.sb.shelf.is_mall_managed(sku)
    }

    /// FBA SKUs a seller quantity switched to merchant-fulfilled (their FBA stock stranded).
    pub fn stranded(&self) -> Vec<String> {
        self.sb.stranded.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// The sandbox's stock, for its delay and call counts.
    pub fn shelf(&self) -> &crate::Shelf {
        &self.sb.shelf
    }

    /// The seller removes the app's authorisation (or it lapses): the refresh token is refused
    /// (`invalid_grant`) and access tokens already issued stop working.
    pub fn revoke_authorization(&self) {
        self.sb.revoked.store(true, std::sync::atomic::Ordering::SeqCst);
        if let Ok(mut g) = self.sb.grants.lock() {
            g.clear();
        }
    }
}
