//! Amazon.co.jp (SP-API Orders v2026-01-01): response bodies → canonical Orders.
//!
//! Two bodies carry orders: a searchOrders page (`{"orders": [...], "pagination": ...}`) and a
//! getOrder answer (`{"order": {...}}`); neither has the v0 `payload` wrapper. Items are always
//! inside the order; buyer, recipient, money, status and packages come with the `includedData` the
//! request asked for and the roles the app holds, so every such block may be absent. Several bodies
//! may hold the same order: the newer `lastUpdatedTime` wins (the later body on a tie).
//!
//! Orders v0 read bodies (getOrders, getOrderItems, getOrderAddress, ...) are refused by name:
//! Amazon removes those operations on 2027-03-27 and ichigen no longer reads them.

pub mod client;
pub mod codes;
mod credentials;
pub mod map;
pub mod stock;
pub mod wire;

use ichigen_core::MarketplacePolicy;

use crate::registry::Registration;
use std::collections::HashMap;

use ichigen_core::{Marketplace, Order};
use serde::de::DeserializeOwned;
use serde_json::Value;

use map::malformed;
pub use map::map_order;
use wire::{ErrorList, GetOrderResponse, WireOrder};

use crate::{BadOrder, Body, NormalizeError};

/// What the pipeline must know of Amazon.co.jp's rules.
pub const POLICY: MarketplacePolicy = MarketplacePolicy {
    marketplace: Marketplace::Amazon,
    // Amazon's policy forbids sellers to mail its buyers outside its messaging service.
    buyer_mail: false,
    remark_sections: &[],
    // searchOrders filters on lastUpdatedAfter: every change shows in a window.
    reconcile: None,
    awaits_acknowledgement: None,
    // Not documented (fact sheet inventory.md §0): taken as immediate.
    stock_latency: std::time::Duration::ZERO,
};

/// Amazon.co.jp in the marketplaces' registry.
pub static REGISTRATION: Registration = Registration {
    policy: POLICY,
    check_secret: <credentials::Credentials as crate::secret::CredentialFields>::check,
    build: credentials::build,
    normalize,
};

/// searchOrders (v2026-01-01).
pub const SEARCH_ORDERS: &str = "searchOrders";
/// getOrder (v2026-01-01).
pub const GET_ORDER: &str = "getOrder";

/// Operation ids a body's file name may start with, longest first so prefixes match the most
/// specific one. The v0 read names are known only to refuse their bodies by name.
const OPERATIONS: [&str; 9] = [
    "createRestrictedDataToken",
    "getOrderItemsBuyerInfo",
    "getOrderBuyerInfo",
    "confirmShipment",
    "getOrderAddress",
    "getOrderItems",
    "searchOrders",
    "getOrders",
    "getOrder",
];

/// Label used when neither the body's name nor its shape tells the operation.
const UNKNOWN_OPERATION: &str = "unknown operation";

/// Turns SP-API Orders v2026-01-01 response bodies into validated canonical orders, in the order
/// they first appear.
pub fn normalize(shop_id: &str, bodies: &[Body]) -> Result<Vec<Order>, NormalizeError> {
    let mut first_seen: Vec<String> = Vec::new();
    let mut latest: HashMap<String, (WireOrder, &'static str)> = HashMap::new();
    for body in bodies {
        let (op, orders) = match parse(body)? {
            Parsed::Search(page) => (SEARCH_ORDERS, page.orders),
            Parsed::Order(o) => (GET_ORDER, vec![*o]),
        };
        for o in orders {
            keep_newer(&mut first_seen, &mut latest, o, op);
        }
    }
    let mut out = Vec::with_capacity(first_seen.len());
    for id in &first_seen {
        if let Some((o, op)) = latest.remove(id) {
            out.push(map_order(shop_id, op, &o)?);
        }
    }
    Ok(out)
}

/// Keeps the newer of two copies of the same order (by `lastUpdatedTime`; the later on a tie).
fn keep_newer(
    first_seen: &mut Vec<String>,
    latest: &mut HashMap<String, (WireOrder, &'static str)>,
    o: WireOrder,
    op: &'static str,
) {
    let at = |w: &WireOrder| chrono::DateTime::parse_from_rfc3339(w.last_updated_time.trim()).ok();
    match latest.get(&o.order_id) {
        Some((old, _)) => {
            if let (Some(old_t), Some(new_t)) = (at(old), at(&o)) {
                if old_t > new_t {
                    return;
                }
            }
        }
        None => first_seen.push(o.order_id.clone()),
    }
    latest.insert(o.order_id.clone(), (o, op));
}

/// One body, recognised and deserialised.
#[derive(Debug)]
pub enum Parsed {
    /// A searchOrders page.
    Search(wire::SearchOrdersResponse),
    /// A getOrder answer.
    Order(Box<WireOrder>),
}

/// The operation a body's file name announces (`searchOrders_200.json` → `searchOrders`).
pub fn operation_from_name(name: &str) -> Option<&'static str> {
    let file = name.rsplit(['/', '\\']).next().unwrap_or(name);
    OPERATIONS
        .into_iter()
        .find(|op| file.strip_prefix(op).is_some_and(|rest| !rest.starts_with(|c: char| c.is_ascii_alphanumeric())))
}

/// Recognises and deserialises one body; API error envelopes become `NormalizeError::Api`.
pub fn parse(body: &Body) -> Result<Parsed, NormalizeError> {
    let (op, value) = envelope(body)?;
    Ok(match op {
        SEARCH_ORDERS => Parsed::Search(typed(op, "", value)?),
        _ => Parsed::Order(Box::new(typed::<GetOrderResponse>(op, "", value)?.order)),
    })
}

/// A searchOrders page read order by order.
#[derive(Debug)]
pub struct SearchPage {
    /// The orders that deserialised.
    pub orders: Vec<WireOrder>,
    /// The orders that did not, with `orderId` and `createdTime` when readable.
    pub bad: Vec<BadOrder>,
    /// `pagination.nextToken`, if any.
    pub next_token: Option<String>,
}

/// A searchOrders body read order by order (see [`SearchPage`]); a body that is no searchOrders
/// answer fails whole.
pub fn parse_search_lenient(body: &Body) -> Result<SearchPage, NormalizeError> {
    const OP: &str = SEARCH_ORDERS;
    let (detected, value) = envelope(body)?;
    if detected != OP {
        return Err(malformed(detected, format!("body is a {detected} response, not {OP}")));
    }
    let next_token = match value.get("pagination") {
        None | Some(Value::Null) => None,
        Some(p @ Value::Object(_)) => match p.get("nextToken") {
            None | Some(Value::Null) => None,
            Some(Value::String(t)) if t.is_empty() => None,
            Some(Value::String(t)) => Some(t.clone()),
            Some(_) => return Err(malformed(OP, "pagination.nextToken: has a wrong type or an impossible value")),
        },
        Some(_) => return Err(malformed(OP, "pagination: has a wrong type or an impossible value")),
    };
    let Some(Value::Array(orders)) = value.get("orders") else {
        return Err(malformed(OP, "orders: has a wrong type or an impossible value"));
    };
    let mut good = Vec::with_capacity(orders.len());
    let mut bad = Vec::new();
    for (i, v) in orders.iter().enumerate() {
        let text = |k: &str| v.get(k).and_then(Value::as_str);
        let ordered_at = text("createdTime")
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(t.trim()).ok())
            .map(|t| t.with_timezone(&ichigen_core::JST));
        match typed::<WireOrder>(OP, &format!("orders[{i}]"), v.clone()) {
            Ok(o) => good.push(o),
            Err(e) => bad.push(BadOrder::new(text("orderId"), e).ordered(ordered_at)),
        }
    }
    Ok(SearchPage { orders: good, bad, next_token })
}

/// A getOrder body: the outer error says the body is no getOrder answer at all (bad JSON, error
/// envelope, another operation), the inner one that the order's own fields do not read.
pub fn parse_get_order_split(body: &Body) -> Result<Result<WireOrder, NormalizeError>, NormalizeError> {
    let (detected, value) = envelope(body)?;
    if detected != GET_ORDER {
        return Err(malformed(detected, format!("body is a {detected} response, not {GET_ORDER}")));
    }
    let Some(order) = value.get("order").filter(|o| o.is_object()) else {
        return Err(malformed(GET_ORDER, "order: has a wrong type or an impossible value"));
    };
    Ok(typed::<WireOrder>(GET_ORDER, "order", order.clone()))
}

/// Recognises a body's operation; error envelopes become `Api`, v0 and token bodies are refused.
fn envelope(body: &Body) -> Result<(&'static str, Value), NormalizeError> {
    let hint = operation_from_name(&body.name);
    let named = hint.unwrap_or(UNKNOWN_OPERATION);
    if body.text.trim().is_empty() {
        return Err(malformed(named, "empty body (confirmShipment answers 204 with no body)"));
    }
    let value: Value = serde_json::from_str(&body.text).map_err(|e| {
        malformed(
            named,
            format!("not valid JSON ({:?} error at line {} column {})", e.classify(), e.line(), e.column()),
        )
    })?;
    let Value::Object(map) = &value else {
        return Err(malformed(named, "body is not a JSON object"));
    };
    if let Some(errors) = map.get("errors") {
        if errors.as_array().is_none_or(|a| !a.is_empty()) {
            let list: ErrorList = typed(named, "", value.clone())?;
            let first = list.errors.into_iter().next().ok_or_else(|| malformed(named, "errors is empty"))?;
            return Err(NormalizeError::Api {
                marketplace: Marketplace::Amazon,
                operation: named.to_string(),
                code: first.code,
                message: first.message,
            });
        }
    }
    if map.contains_key("restrictedDataToken") {
        return Err(malformed(
            "createRestrictedDataToken",
            "a Restricted Data Token response is not an order body (Orders v2026-01-01 needs no RDT)",
        ));
    }
    if map.contains_key("payload") {
        return Err(malformed(
            named,
            "an Orders v0 body (payload wrapper): Amazon removes the v0 read operations on 2027-03-27; \
             ichigen reads Orders v2026-01-01 (searchOrders, getOrder)",
        ));
    }
    let detected = if map.contains_key("orders") {
        SEARCH_ORDERS
    } else if map.contains_key("order") {
        GET_ORDER
    } else {
        let what = match hint {
            Some("confirmShipment") => "a confirmShipment body is not an order body",
            _ => "body is of no known Orders v2026-01-01 operation (no orders, no order)",
        };
        return Err(malformed(named, what));
    };
    if let Some(h @ (SEARCH_ORDERS | GET_ORDER)) = hint {
        if h != detected {
            return Err(malformed(h, format!("body is a {detected} response, not {h}")));
        }
    }
    Ok((detected, value))
}

/// Deserialises with the failing field's path in the error, never its value.
fn typed<T: DeserializeOwned>(op: &str, prefix: &str, value: Value) -> Result<T, NormalizeError> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let inner_path = crate::error::field_path(e.path());
        let path = match (prefix, inner_path.as_str()) {
            (p, "") => p.to_string(),
            ("", q) => q.to_string(),
            (p, q) if q.starts_with('[') => format!("{p}{q}"),
            (p, q) => format!("{p}.{q}"),
        };
        let inner = e.inner().to_string();
        let what = match inner.strip_prefix("missing field `").and_then(|r| r.split_once('`')) {
            Some((field, _)) if field.bytes().all(|b| b.is_ascii_alphanumeric()) => {
                format!("required field {field} is missing")
            }
            _ => "has a wrong type or an impossible value".to_string(),
        };
        let path = if path.is_empty() { "body".to_string() } else { path };
        malformed(op, format!("{path}: {what}"))
    })
}
