//! au PAY マーケット (Wow!manager shop API): order search responses → canonical Orders, and
//! the API client ([`AupayClient`]) that pulls them and writes tracking back.

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
use quick_xml::events::Event;

pub use client::{AupayClient, AupayCredentials};
pub use map::{OPERATION, map_order};

use crate::{Body, NormalizeError};
use map::malformed;

/// What the pipeline must know of au PAY マーケット's rules.
pub const POLICY: MarketplacePolicy = MarketplacePolicy {
    marketplace: Marketplace::Aupay,
    buyer_mail: true,
    remark_sections: &[],
    // No "changed since" search: the client re-reads the look-back by order date; older open
    // orders are read again by id, hourly.
    reconcile: Some(Reconcile {
        every: Duration::from_secs(3600),
        older_than: Duration::from_secs(client::DEFAULT_LOOKBACK_DAYS as u64 * 86_400),
    }),
    awaits_acknowledgement: None,
    // Not documented (fact sheet inventory.md §0): taken as immediate.
    stock_latency: Duration::ZERO,
};

/// au PAY マーケット in the marketplaces' registry.
pub static REGISTRATION: Registration = Registration {
    policy: POLICY,
    check_secret: <credentials::Credentials as crate::secret::CredentialFields>::check,
    build: credentials::build,
    normalize,
};

/// Turns `searchTradeInfoListProc` response bodies into validated canonical Orders, in order.
pub fn normalize(shop_id: &str, bodies: &[Body]) -> Result<Vec<Order>, NormalizeError> {
    let mut orders = Vec::new();
    for body in bodies {
        for info in parse_body(&body.text)?.order_info {
            let order = map_order(shop_id, &info)?;
            order.validate().map_err(|source| NormalizeError::Invalid {
                marketplace: Marketplace::Aupay,
                order_id: order.order_id.clone(),
                source,
            })?;
            orders.push(order);
        }
    }
    Ok(orders)
}

/// Parses one body: checks the `<response>` root and the `<result>` envelope, turning an error
/// envelope into [`NormalizeError::Api`].
pub fn parse_body(text: &str) -> Result<wire::Response, NormalizeError> {
    match root_name(text)? {
        Some(name) if name == "response" => {}
        Some(_) => return Err(malformed("root element is not <response>")),
        None => return Err(malformed("body has no XML root element")),
    }
    let response = wire::parse(text).map_err(|e| malformed(format!("XML does not parse: {}", xml_error_kind(&e))))?;
    let result = response.result.as_ref().ok_or_else(|| malformed("result is missing"))?;
    match result.status.as_deref().map(str::trim) {
        Some("0") => {}
        Some("1") => {
            let first = result.error.first();
            let code = first.and_then(|e| e.code.as_deref()).unwrap_or_default().trim();
            let messages: Vec<&str> = result.error.iter().filter_map(|e| e.message.as_deref()).map(str::trim).collect();
            return Err(NormalizeError::Api {
                marketplace: Marketplace::Aupay,
                operation: OPERATION.into(),
                // Without an <error> element the status is all the API said.
                code: if code.is_empty() { "status 1".into() } else { code.into() },
                message: messages.join(" / "),
            });
        }
        Some(_) => return Err(malformed("result.status is neither 0 nor 1")),
        None => return Err(malformed("result.status is missing")),
    }
    // Update calls answer with the same envelope but no resultCount: not a search response.
    if response.result_count.is_none() && response.order_info.is_empty() {
        return Err(malformed("resultCount is missing (not a searchTradeInfoListProc response)"));
    }
    Ok(response)
}

/// Name of the first element, or `None` if there is none.
fn root_name(text: &str) -> Result<Option<String>, NormalizeError> {
    let mut reader = quick_xml::Reader::from_str(text);
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) | Ok(Event::Empty(e)) => {
                return Ok(Some(String::from_utf8_lossy(e.local_name().as_ref()).into_owned()));
            }
            Ok(Event::Eof) => return Ok(None),
            Ok(_) => {}
            Err(_) => return Err(malformed("XML does not parse before the root element")),
        }
    }
}

/// A short description of a parse error that never quotes the document's text.
fn xml_error_kind(e: &quick_xml::DeError) -> &'static str {
    use quick_xml::DeError;
    match e {
        DeError::UnexpectedEof => "unexpected end of document",
        DeError::InvalidXml(_) => "invalid XML",
        DeError::Custom(_) => "unexpected structure (an element holds other elements or repeats)",
        _ => "unexpected content",
    }
}
