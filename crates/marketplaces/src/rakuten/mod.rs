//! 楽天市場 RMS RakutenPayOrderAPI: getOrder response bodies → canonical Orders.

pub mod client;
pub mod codes;
pub(crate) mod credentials;
pub mod map;
pub mod stock;
pub mod wire;

use ichigen_core::{MarketplacePolicy, Reconcile};
use std::time::Duration;

use crate::registry::Registration;
use ichigen_core::{Marketplace, Order};

use crate::error::field_path;
use crate::{BadOrder, Body, NormalizeError};
pub use client::RakutenClient;
pub use map::map_order;
use wire::{Envelope, GetOrderResponse, OrderModel};

/// What the pipeline must know of 楽天市場's rules.
pub const POLICY: MarketplacePolicy = MarketplacePolicy {
    marketplace: Marketplace::Rakuten,
    buyer_mail: true,
    remark_sections: &["配送日時指定", "ギフト配送希望"],
    // Cancellations have no date type of their own in searchOrder: every pull reads the open
    // orders again by id (getOrder takes 100 a call).
    reconcile: Some(Reconcile { every: Duration::ZERO, older_than: Duration::ZERO }),
    // 注文確認 (confirmOrder) of an order waiting at 100 注文確認待ち.
    awaits_acknowledgement: Some(codes::awaits_confirmation),
    // Not documented (fact sheet inventory.md §0): taken as immediate.
    stock_latency: Duration::ZERO,
};

/// 楽天市場 in the marketplaces' registry.
pub static REGISTRATION: Registration = Registration {
    policy: POLICY,
    check_secret: <credentials::Credentials as crate::secret::CredentialFields>::check,
    build: credentials::build,
    normalize,
};

/// Turns getOrder response bodies, exactly as the API returned them, into validated canonical Orders.
///
/// An error body (gateway `Results` envelope, or any `ERROR` message) → [`NormalizeError::Api`] with the
/// first error's own code and message; one failed order in a getOrder body fails the whole body so no
/// order is silently dropped. A body of another operation, bad JSON or a missing/impossible field →
/// [`NormalizeError::Malformed`] (naming the field, never its value). An order breaking the canonical
/// contract → [`NormalizeError::Invalid`].
pub fn normalize(shop_id: &str, bodies: &[Body]) -> Result<Vec<Order>, NormalizeError> {
    let mut orders = Vec::new();
    for body in bodies {
        let response = parse_get_order(&body.text)?;
        for order in response.order_model_list.as_deref().unwrap_or_default() {
            orders.push(map_order(shop_id, order)?);
        }
    }
    Ok(orders)
}

fn malformed(operation: &str, detail: impl Into<String>) -> NormalizeError {
    NormalizeError::malformed(Marketplace::Rakuten, operation, detail)
}

/// Describes a serde_json error without its message text, which can quote values (personal data).
fn json_error(what: &str, path: &str, e: &serde_json::Error) -> String {
    let at = if path.is_empty() || path == "." { String::new() } else { format!(" at field {path}") };
    match e.classify() {
        serde_json::error::Category::Eof => format!("{what} is truncated (line {}, column {})", e.line(), e.column()),
        serde_json::error::Category::Syntax | serde_json::error::Category::Io => {
            format!("{what} is not valid JSON (line {}, column {})", e.line(), e.column())
        }
        serde_json::error::Category::Data => {
            let msg = e.to_string();
            // `missing field `x`` names a field only; every other data error may quote the value.
            match msg.strip_prefix("missing field ").and_then(|rest| rest.split('`').nth(1)) {
                Some(field) => format!("{what}: required field {field} is missing{at}"),
                None => format!("{what}: wrong type or impossible value{at}"),
            }
        }
    }
}

/// Parses one body as a getOrder response, classifying error bodies and other operations' bodies.
pub fn parse_get_order(text: &str) -> Result<GetOrderResponse, NormalizeError> {
    check_get_order(text)?;
    let mut de = serde_json::Deserializer::from_str(text);
    serde_path_to_error::deserialize::<_, GetOrderResponse>(&mut de).map_err(|e| {
        let path = field_path(e.path());
        malformed(map::OPERATION, json_error("OrderModelList", &path, e.inner()))
    })
}

/// The orders of a getOrder body read one by one: those that deserialised, and those that did not
/// (with the order number and order time when readable). Error bodies, other operations' bodies
/// and bad JSON still fail the whole body.
pub fn parse_get_order_lenient(text: &str) -> Result<(Vec<OrderModel>, Vec<BadOrder>), NormalizeError> {
    check_get_order(text)?;
    let raw: RawGetOrder =
        serde_json::from_str(text).map_err(|e| malformed(map::OPERATION, json_error("body", "", &e)))?;
    let mut good = Vec::new();
    let mut bad = Vec::new();
    for (i, value) in raw.order_model_list.unwrap_or_default().into_iter().enumerate() {
        let number = value.get("orderNumber").and_then(serde_json::Value::as_str).map(str::to_owned);
        let ordered_at = value.get("orderDatetime").and_then(serde_json::Value::as_str).and_then(map::order_time);
        match serde_path_to_error::deserialize::<_, OrderModel>(value) {
            Ok(model) => good.push(model),
            Err(e) => {
                let path = field_path(e.path());
                let error = malformed(map::OPERATION, json_error(&format!("OrderModelList[{i}]"), &path, e.inner()));
                bad.push(BadOrder::new(number.as_deref(), error).ordered(ordered_at));
            }
        }
    }
    Ok((good, bad))
}

/// A getOrder body with each order kept as JSON, to read the orders one by one.
#[derive(serde::Deserialize)]
struct RawGetOrder {
    #[serde(rename = "OrderModelList")]
    order_model_list: Option<Vec<serde_json::Value>>,
}

/// Checks that a body is a getOrder response: error bodies become `Api`, other operations'
/// bodies and bad JSON `Malformed`.
fn check_get_order(text: &str) -> Result<(), NormalizeError> {
    let envelope: Envelope =
        serde_json::from_str(text).map_err(|e| malformed(map::OPERATION, json_error("body", "", &e)))?;
    let messages = envelope.message_model_list.as_deref().unwrap_or_default();
    let operation = messages
        .iter()
        .find_map(|m| m.message_code.as_deref().and_then(codes::operation_of_code))
        .unwrap_or(if envelope.order_number_list.is_some() || envelope.pagination_response_model.is_some() {
            "searchOrder"
        } else {
            map::OPERATION
        });
    if let Some(results) = &envelope.results {
        return Err(NormalizeError::Api {
            marketplace: Marketplace::Rakuten,
            operation: map::OPERATION.to_owned(),
            code: results.error_code.clone().unwrap_or_default(),
            message: results.message.clone().unwrap_or_default(),
        });
    }
    if let Some(error) = messages.iter().find(|m| m.message_type.as_deref() == Some(codes::ERROR_MESSAGE_TYPE)) {
        return Err(NormalizeError::Api {
            marketplace: Marketplace::Rakuten,
            operation: operation.to_owned(),
            code: error.message_code.clone().unwrap_or_default(),
            message: error.message.clone().unwrap_or_default(),
        });
    }
    if operation != map::OPERATION {
        return Err(malformed(operation, format!("this is a {operation} response, not a getOrder response")));
    }
    if envelope.order_model_list.is_none() {
        return Err(malformed(map::OPERATION, "not a getOrder response: OrderModelList is missing"));
    }
    Ok(())
}
