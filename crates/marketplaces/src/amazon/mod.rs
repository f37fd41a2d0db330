//! Amazon.co.jp (SP-API Orders v0): response bodies → canonical Orders.
//!
//! One order is built from several bodies joined by `AmazonOrderId`: a header from getOrders
//! (`payload.Orders[]`, any number of pages) or getOrder, plus optional getOrderItems (pages),
//! getOrderAddress, getOrderBuyerInfo and getOrderItemsBuyerInfo bodies. Each body's operation is
//! recognised from its shape; a body whose name starts with an operation id (`getOrder_x.json`)
//! must be of that operation. Pending orders and calls made without a Restricted Data Token lack the
//! address and buyer: they still map, with empty strings where the personal data is absent.

pub mod client;
pub mod codes;
mod credentials;
pub mod map;
pub mod wire;

use ichigen_core::MarketplacePolicy;

use crate::registry::Registration;
use std::collections::HashMap;

use ichigen_core::{Marketplace, Order};
use serde::de::DeserializeOwned;
use serde_json::Value;

use map::malformed;
pub use map::{OrderParts, map_order};
use wire::{ErrorList, OrderAddress, OrderBuyerInfo, OrderItemsBuyerInfoList, OrderItemsList, OrdersList, WireOrder};

use crate::{BadOrder, Body, NormalizeError};

/// What the pipeline must know of Amazon.co.jp's rules.
pub const POLICY: MarketplacePolicy = MarketplacePolicy {
    marketplace: Marketplace::Amazon,
    // Amazon's policy forbids sellers to mail its buyers outside its messaging service.
    buyer_mail: false,
    remark_sections: &[],
    // searchOrders filters on lastUpdatedAfter: every change shows in a window.
    reconcile: None,
};

/// Amazon.co.jp in the marketplaces' registry.
pub static REGISTRATION: Registration =
    Registration { policy: POLICY, check_secret: credentials::check, build: credentials::build, normalize };

/// Operation ids this module knows, longest first so prefixes match the most specific one.
const OPERATIONS: [&str; 9] = [
    "createRestrictedDataToken",
    "getOrderItemsBuyerInfo",
    "updateShipmentStatus",
    "getOrderBuyerInfo",
    "confirmShipment",
    "getOrderAddress",
    "getOrderItems",
    "getOrders",
    "getOrder",
];

/// Label used when neither the body's name nor its shape tells the operation.
const UNKNOWN_OPERATION: &str = "unknown operation";

/// Turns SP-API Orders v0 response bodies into validated canonical orders, in the order their
/// headers first appear.
pub fn normalize(shop_id: &str, bodies: &[Body]) -> Result<Vec<Order>, NormalizeError> {
    let mut set = OrderSet::default();
    for body in bodies {
        set.add(parse(body)?)?;
    }
    set.finish(shop_id)
}

/// One body, recognised and deserialised.
#[derive(Debug)]
pub enum Parsed {
    /// getOrders page.
    Orders(OrdersList),
    /// getOrder.
    Order(Box<WireOrder>),
    /// getOrderItems page.
    Items(OrderItemsList),
    /// getOrderAddress.
    Address(Box<OrderAddress>),
    /// getOrderBuyerInfo.
    Buyer(OrderBuyerInfo),
    /// getOrderItemsBuyerInfo page.
    ItemsBuyerInfo(OrderItemsBuyerInfoList),
}

/// The operation a body's file name announces (`getOrders_200.json` → `getOrders`).
pub fn operation_from_name(name: &str) -> Option<&'static str> {
    let file = name.rsplit(['/', '\\']).next().unwrap_or(name);
    OPERATIONS
        .into_iter()
        .find(|op| file.strip_prefix(op).is_some_and(|rest| !rest.starts_with(|c: char| c.is_ascii_alphanumeric())))
}

/// Recognises and deserialises one body; API error envelopes become `NormalizeError::Api`.
pub fn parse(body: &Body) -> Result<Parsed, NormalizeError> {
    parse_split(body)?
}

/// As [`parse`], but tells apart a body that is no readable answer of an Orders v0 operation
/// (outer error: bad JSON, error envelope, unknown payload) from one whose payload fields do not
/// read (inner error: the order's own data is broken).
pub fn parse_split(body: &Body) -> Result<Result<Parsed, NormalizeError>, NormalizeError> {
    let (detected, payload) = envelope(body)?;
    Ok(typed_payload(detected, payload))
}

/// A getOrders page read order by order.
#[derive(Debug)]
pub struct OrdersPage {
    /// The headers that deserialised.
    pub orders: Vec<WireOrder>,
    /// The headers that did not, with `AmazonOrderId` and `PurchaseDate` when readable.
    pub bad: Vec<BadOrder>,
    /// `NextToken`, if any.
    pub next_token: Option<String>,
}

/// A getOrders body read order by order (see [`OrdersPage`]); a body that is no getOrders answer
/// fails whole.
pub fn parse_orders_lenient(body: &Body) -> Result<OrdersPage, NormalizeError> {
    const OP: &str = "getOrders";
    let (detected, payload) = envelope(body)?;
    if detected != OP {
        return Err(malformed(detected, format!("body is a {detected} response, not {OP}")));
    }
    let next_token = match payload.get("NextToken") {
        None | Some(Value::Null) => None,
        Some(Value::String(t)) => Some(t.clone()),
        Some(_) => return Err(malformed(OP, "payload.NextToken: has a wrong type or an impossible value")),
    };
    let Some(Value::Array(orders)) = payload.get("Orders") else {
        return Err(malformed(OP, "payload.Orders: has a wrong type or an impossible value"));
    };
    let mut good = Vec::with_capacity(orders.len());
    let mut bad = Vec::new();
    for (i, value) in orders.iter().enumerate() {
        let text = |k: &str| value.get(k).and_then(Value::as_str);
        let ordered_at = text("PurchaseDate")
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(t.trim()).ok())
            .map(|t| t.with_timezone(&map::JST));
        match typed::<WireOrder>(OP, &format!("payload.Orders[{i}]"), value.clone()) {
            Ok(order) => good.push(order),
            Err(e) => bad.push(BadOrder::new(text("AmazonOrderId"), e).ordered(ordered_at)),
        }
    }
    Ok(OrdersPage { orders: good, bad, next_token })
}

/// Recognises a body's operation and returns its payload; error envelopes become `Api`.
fn envelope(body: &Body) -> Result<(&'static str, Value), NormalizeError> {
    let hint = operation_from_name(&body.name);
    let named = hint.unwrap_or(UNKNOWN_OPERATION);
    if body.text.trim().is_empty() {
        return Err(malformed(named, "empty body (confirmShipment and updateShipmentStatus answer 204 with no body)"));
    }
    let value: Value = serde_json::from_str(&body.text).map_err(|e| {
        malformed(
            named,
            format!("not valid JSON ({:?} error at line {} column {})", e.classify(), e.line(), e.column()),
        )
    })?;
    let Value::Object(map) = value else {
        return Err(malformed(named, "body is not a JSON object"));
    };
    if let Some(errors) = map.get("errors") {
        if errors.as_array().is_none_or(|a| !a.is_empty()) {
            let list: ErrorList = typed(named, "", Value::Object(map.clone()))?;
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
        return Err(malformed("createRestrictedDataToken", "a Restricted Data Token response is not an order body"));
    }
    let Some(payload) = map.get("payload") else {
        let what = match hint {
            Some("confirmShipment") => "a confirmShipment body is not an order body",
            _ => "payload is missing",
        };
        return Err(malformed(named, what));
    };
    let Value::Object(fields) = payload else {
        return Err(malformed(named, "payload is not an object"));
    };
    let has = |k: &str| fields.contains_key(k);
    let detected = if has("Orders") {
        "getOrders"
    } else if has("OrderItems") {
        let lines = fields.get("OrderItems").and_then(Value::as_array);
        let order_lines =
            lines.is_some_and(|l| l.iter().any(|i| i.get("QuantityOrdered").is_some() || i.get("ASIN").is_some()));
        if order_lines || (lines.is_some_and(|l| l.is_empty()) && hint == Some("getOrderItems")) {
            "getOrderItems"
        } else {
            "getOrderItemsBuyerInfo"
        }
    } else if has("PurchaseDate") || has("OrderStatus") {
        "getOrder"
    } else if has("ShippingAddress") || has("DeliveryPreferences") || has("BuyerCompanyName") {
        "getOrderAddress"
    } else if has("BuyerEmail") || has("BuyerName") || has("PurchaseOrderNumber") {
        "getOrderBuyerInfo"
    } else {
        match hint {
            Some(op @ ("getOrderAddress" | "getOrderBuyerInfo")) => op,
            _ => return Err(malformed(named, "payload is of no known Orders v0 operation")),
        }
    };
    if let Some(h) = hint {
        if h != detected {
            return Err(malformed(h, format!("body is a {detected} response, not {h}")));
        }
    }
    Ok((detected, payload.clone()))
}

/// The payload of `detected` deserialised into its type.
fn typed_payload(detected: &'static str, payload: Value) -> Result<Parsed, NormalizeError> {
    Ok(match detected {
        "getOrders" => Parsed::Orders(typed(detected, "payload", payload)?),
        "getOrder" => Parsed::Order(Box::new(typed(detected, "payload", payload)?)),
        "getOrderItems" => Parsed::Items(typed(detected, "payload", payload)?),
        "getOrderAddress" => Parsed::Address(Box::new(typed(detected, "payload", payload)?)),
        "getOrderBuyerInfo" => Parsed::Buyer(typed(detected, "payload", payload)?),
        _ => Parsed::ItemsBuyerInfo(typed(detected, "payload", payload)?),
    })
}

/// Deserialises with the failing field's path in the error, never its value.
fn typed<T: DeserializeOwned>(op: &str, prefix: &str, value: Value) -> Result<T, NormalizeError> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let mut path = prefix.to_string();
        for seg in e.path().iter() {
            match seg {
                serde_path_to_error::Segment::Seq { index } => path.push_str(&format!("[{index}]")),
                serde_path_to_error::Segment::Map { key } | serde_path_to_error::Segment::Enum { variant: key } => {
                    // Keys are our field names; anything else is not echoed.
                    let safe = !key.is_empty() && key.len() <= 64 && key.bytes().all(|b| b.is_ascii_alphanumeric());
                    if !path.is_empty() {
                        path.push('.');
                    }
                    path.push_str(if safe { key } else { "?" });
                }
                serde_path_to_error::Segment::Unknown => path.push_str(".?"),
            }
        }
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

/// Bodies collected so far, joined by `AmazonOrderId`.
#[derive(Debug, Default)]
struct OrderSet {
    order: Vec<String>,
    headers: HashMap<String, (WireOrder, &'static str)>,
    items: HashMap<String, Vec<wire::WireOrderItem>>,
    item_info: HashMap<String, Vec<wire::OrderItemBuyerInfo>>,
    address: HashMap<String, OrderAddress>,
    buyer: HashMap<String, OrderBuyerInfo>,
}

impl OrderSet {
    fn add(&mut self, parsed: Parsed) -> Result<(), NormalizeError> {
        match parsed {
            Parsed::Orders(list) => {
                for o in list.orders {
                    self.header(o, "getOrders");
                }
            }
            Parsed::Order(o) => self.header(*o, "getOrder"),
            Parsed::Items(list) => {
                let lines = self.items.entry(list.amazon_order_id).or_default();
                for line in list.order_items {
                    // A repeated page replaces its lines instead of doubling them.
                    lines.retain(|l| l.order_item_id != line.order_item_id);
                    lines.push(line);
                }
            }
            Parsed::ItemsBuyerInfo(list) => {
                let infos = self.item_info.entry(list.amazon_order_id).or_default();
                for e in list.order_items {
                    infos.retain(|i| i.order_item_id != e.order_item_id);
                    infos.push(e);
                }
            }
            Parsed::Address(a) => {
                self.address.insert(a.amazon_order_id.clone(), *a);
            }
            Parsed::Buyer(b) => {
                self.buyer.insert(b.amazon_order_id.clone(), b);
            }
        }
        Ok(())
    }

    /// Keeps the newer of two headers of the same order (by `LastUpdateDate`; later body on a tie).
    fn header(&mut self, o: WireOrder, op: &'static str) {
        let id = o.amazon_order_id.clone();
        if let Some((old, _)) = self.headers.get(&id) {
            let newer = |a: &WireOrder| chrono::DateTime::parse_from_rfc3339(a.last_update_date.trim()).ok();
            if let (Some(old_t), Some(new_t)) = (newer(old), newer(&o)) {
                if old_t > new_t {
                    return;
                }
            }
        } else {
            self.order.push(id.clone());
        }
        self.headers.insert(id, (o, op));
    }

    fn finish(mut self, shop_id: &str) -> Result<Vec<Order>, NormalizeError> {
        let orphan = |op: &str| malformed(op, "AmazonOrderId matches no getOrders or getOrder body");
        if self.items.keys().any(|id| !self.headers.contains_key(id)) {
            return Err(orphan("getOrderItems"));
        }
        if self.item_info.keys().any(|id| !self.headers.contains_key(id)) {
            return Err(orphan("getOrderItemsBuyerInfo"));
        }
        if self.address.keys().any(|id| !self.headers.contains_key(id)) {
            return Err(orphan("getOrderAddress"));
        }
        if self.buyer.keys().any(|id| !self.headers.contains_key(id)) {
            return Err(orphan("getOrderBuyerInfo"));
        }
        let mut out = Vec::with_capacity(self.order.len());
        for id in &self.order {
            let Some((header, op)) = self.headers.remove(id) else { continue };
            let parts = OrderParts {
                header,
                header_operation: op,
                items: self.items.remove(id),
                item_buyer_info: self.item_info.remove(id).unwrap_or_default(),
                address: self.address.remove(id),
                buyer: self.buyer.remove(id),
            };
            out.push(map_order(shop_id, &parts)?);
        }
        Ok(out)
    }
}
