//! Yahoo!ショッピング store-operation order API (注文API): response bodies → canonical orders.
//!
//! Only `orderInfo` bodies hold orders. `orderList` (headers only) and `orderCount` bodies are
//! rejected as `Malformed`, unless they are the API's error envelope, which becomes `Api`.

pub mod authorize;
pub mod client;
pub mod codes;
mod credentials;
pub mod map;
pub mod stock;
pub mod wire;

use ichigen_core::{MarketplacePolicy, Reconcile};
use std::time::Duration;

use crate::registry::Registration;
use ichigen_core::{Marketplace, Order};
use quick_xml::events::Event;

use crate::{Body, NormalizeError};
pub use authorize::AuthorizeStatus;
pub use client::{YahooClient, YahooCredentials, YahooSetupError};
use map::malformed;

/// What the pipeline must know of Yahoo!ショッピング's rules.
pub const POLICY: MarketplacePolicy = MarketplacePolicy {
    marketplace: Marketplace::Yahoo,
    buyer_mail: true,
    remark_sections: &[],
    // No "changed since" search: the client searches the look-back by order date and keeps the
    // orders whose LastUpdateTime falls in the window, so a change stamped before the window (indexed
    // late) is never listed as changed: every open order is read again by id, hourly.
    reconcile: Some(Reconcile { every: Duration::from_secs(3600), older_than: Duration::ZERO }),
    awaits_acknowledgement: None,
    // Not documented (fact sheet inventory.md §0): taken as immediate.
    stock_latency: Duration::ZERO,
};

/// Yahoo!ショッピング in the marketplaces' registry.
pub static REGISTRATION: Registration = Registration {
    policy: POLICY,
    check_secret: <credentials::Credentials as crate::secret::CredentialFields>::check,
    build: credentials::build,
    normalize,
};

/// Largest body accepted (bytes); one order is a few kilobytes.
pub const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;
/// Deepest element nesting accepted; real bodies nest 5 levels.
pub const MAX_DEPTH: usize = 32;

/// Canonical orders of `shop_id` from `orderInfo` response bodies, in body order; the first error stops.
pub fn normalize(shop_id: &str, bodies: &[Body]) -> Result<Vec<Order>, NormalizeError> {
    let mut orders = Vec::new();
    for body in bodies {
        orders.extend(normalize_body(shop_id, &body.name, &body.text)?);
    }
    Ok(orders)
}

/// A body saved as a string literal (`<?xml version=\"1.0\" ...>\n<Error>`, as test suites of
/// public clients store them) back as the XML the API sent; `None` for a body that is already XML.
fn unescape_stored(text: &str) -> Option<String> {
    text.starts_with("<?xml version=\\\"").then(|| text.replace("\\\"", "\"").replace("\\n", "\n").replace("\\t", "\t"))
}

/// The operation a body named `name` (e.g. `orderList_page1.xml`) came from, for error messages;
/// `orderInfo` unless the name says otherwise.
fn operation_hint(name: &str) -> &'static str {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    ["orderList", "orderCount", "orderStatusChange", "orderShipStatusChange", "orderPayStatusChange"]
        .into_iter()
        .find(|op| base.starts_with(op))
        .unwrap_or(map::OPERATION)
}

/// Canonical orders from one response body (`name` only helps to name the operation in errors).
pub fn normalize_body(shop_id: &str, name: &str, text: &str) -> Result<Vec<Order>, NormalizeError> {
    parse_info(name, text)?.iter().map(|info| map::map_order(shop_id, info)).collect()
}

/// The `<OrderInfo>` elements of an `orderInfo` response body, not yet mapped: the API's error
/// envelope becomes `Api`, another operation's body or broken XML `Malformed`.
pub fn parse_info(name: &str, text: &str) -> Result<Vec<wire::OrderInfo>, NormalizeError> {
    let hint = operation_hint(name);
    // A UTF-8 byte order mark is not part of the document.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let unescaped = unescape_stored(text);
    let text = unescaped.as_deref().unwrap_or(text);
    match root_element(text, hint)?.as_str() {
        "Error" => {
            let e: wire::ErrorBody = parse(text, hint)?;
            Err(api_error(hint, &e, None))
        }
        // orderList answers with a bare <Result>.
        "Result" => {
            let r: wire::ResultBody = parse(text, "orderList")?;
            check_status(&r, "orderList")?;
            Err(malformed(
                "orderList",
                "the body is an orderList response (order headers only), not an orderInfo response: fetch each order with orderInfo",
            ))
        }
        "ResultSet" => {
            let set: wire::ResultSet = parse(text, hint)?;
            let r = set.result.ok_or_else(|| malformed(hint, "ResultSet.Result is missing"))?;
            let op = if r.count.is_some() { "orderCount" } else { hint };
            check_status(&r, op)?;
            if r.count.is_some() {
                return Err(malformed("orderCount", "the body is an orderCount response, not an orderInfo response"));
            }
            if r.order_info.is_empty() {
                return Err(malformed(op, "Result.OrderInfo is missing: the body is not an orderInfo response"));
            }
            Ok(r.order_info)
        }
        _ => Err(malformed(hint, "the root element is not ResultSet, Result or Error")),
    }
}

/// Checks `Result.Status`: `OK` passes; any other status is the API's error (`Status NG` envelope).
fn check_status(r: &wire::ResultBody, op: &str) -> Result<(), NormalizeError> {
    match map::text(&r.status) {
        Some("OK") => Ok(()),
        None => Err(malformed(op, "Result.Status is missing")),
        Some(status) => {
            // unverified: the shape of a non-OK result. Accepted: <Error><Code/><Message/></Error> inside
            // <Result>, or <Code>/<Message> directly in <Result>; without a code the status is the code.
            let inner = r.error.clone().unwrap_or_default();
            let e = wire::ErrorBody {
                code: inner.code.or_else(|| r.code.clone()),
                message: inner.message.or_else(|| r.message.clone()),
            };
            // Yahoo's statuses are `OK` and `NG`; anything else is not a code to repeat (a body
            // that is not what it claims may carry anything there).
            Err(api_error(op, &e, Some(if status == "NG" { "NG" } else { "unexpected-status" })))
        }
    }
}

/// `Api` error with the API's code and message. Some auth errors (401 expired token) have no `Code`:
/// then the `error="…"` parameter of the Bearer challenge in the message is the code
/// (`invalid_token`), else `fallback_code`, else empty.
fn api_error(op: &str, e: &wire::ErrorBody, fallback_code: Option<&str>) -> NormalizeError {
    let message = map::text(&e.message).unwrap_or_default();
    let code = map::text(&e.code)
        .map(str::to_string)
        .or_else(|| bearer_error(message))
        .or_else(|| fallback_code.map(str::to_string))
        .unwrap_or_default();
    NormalizeError::Api {
        marketplace: Marketplace::Yahoo,
        operation: op.to_string(),
        code,
        message: message.to_string(),
    }
}

/// The `error="…"` parameter of a `Bearer realm=…, error="invalid_token", …` text.
fn bearer_error(message: &str) -> Option<String> {
    let start = message.find("error=\"")? + "error=\"".len();
    let rest = message.get(start..)?;
    let end = rest.find('"')?;
    rest.get(..end).filter(|c| !c.is_empty()).map(str::to_string)
}

/// Deserializes a body whose root has been checked. Serde's messages can quote values, so only the
/// field-naming `duplicate field` / `missing field` messages are passed on.
fn parse<'de, T: serde::Deserialize<'de>>(text: &'de str, op: &str) -> Result<T, NormalizeError> {
    quick_xml::de::from_str(text).map_err(|e| {
        let msg = e.to_string();
        let safe = msg.starts_with("duplicate field `") || msg.starts_with("missing field `");
        if safe {
            malformed(op, format!("unexpected XML structure: {msg}"))
        } else {
            malformed(op, format!("the XML does not have the shape of an {op} response"))
        }
    })
}

/// Checks that `text` is one well-formed, not too deep XML document and returns its root's local name
/// (namespaces such as `xmlns="urn:yahoo:api"` are ignored).
fn root_element(text: &str, op: &str) -> Result<String, NormalizeError> {
    if text.len() > MAX_BODY_BYTES {
        return Err(malformed(op, format!("the body is larger than {MAX_BODY_BYTES} bytes")));
    }
    let mut reader = quick_xml::Reader::from_str(text);
    let mut depth = 0usize;
    let mut root: Option<String> = None;
    let mut closed = false;
    loop {
        let event = reader.read_event().map_err(|_| {
            malformed(op, format!("the body is not well-formed XML (at byte {})", reader.error_position()))
        })?;
        match event {
            Event::Start(ref e) | Event::Empty(ref e) if depth == 0 => {
                if root.is_some() {
                    return Err(malformed(op, "the body has more than one root element"));
                }
                let name = std::str::from_utf8(e.local_name().into_inner())
                    .map_err(|_| malformed(op, "the root element name is not UTF-8"))?
                    .to_string();
                root = Some(name);
                if matches!(event, Event::Start(_)) {
                    depth = 1;
                } else {
                    closed = true;
                }
            }
            Event::Start(_) => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(malformed(op, format!("the XML nests deeper than {MAX_DEPTH} elements")));
                }
            }
            Event::End(_) => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    closed = true;
                }
            }
            Event::Text(t) if depth == 0 && t.iter().any(|b| !b.is_ascii_whitespace()) => {
                return Err(malformed(op, "the body is not XML (text outside the root element)"));
            }
            Event::Eof => break,
            _ => {}
        }
    }
    match root {
        None => Err(malformed(op, "the body is empty or holds no XML element")),
        Some(_) if !closed || depth != 0 => Err(malformed(op, "the XML is truncated (unclosed elements)")),
        Some(r) => Ok(r),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operation_is_taken_from_the_body_name() {
        assert_eq!(operation_hint("dir/orderList_200.xml"), "orderList");
        assert_eq!(operation_hint("x.xml"), "orderInfo");
    }

    #[test]
    fn bearer_error_code_is_read_from_the_challenge() {
        assert_eq!(
            bearer_error(r#"Bearer realm="yahooapis.jp", error="invalid_token""#).as_deref(),
            Some("invalid_token")
        );
        assert_eq!(bearer_error("error=\""), None);
    }
}
