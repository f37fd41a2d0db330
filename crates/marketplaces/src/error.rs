//! Errors of marketplace work, classified the way a caller must act on them.

use chrono::{DateTime, FixedOffset};
use ichigen_core::Marketplace;

/// Why a marketplace response could not be turned into orders.
#[derive(Debug, thiserror::Error)]
pub enum NormalizeError {
    /// The body is the API's own error envelope: its code and message, verbatim. Shown: the code
    /// alone, when it looks like one (a message may quote what the API was given).
    #[error("{marketplace} {operation}: the API answered with error {}", shown_code(code))]
    Api {
        /// Which marketplace.
        marketplace: Marketplace,
        /// Which API operation the body came from (e.g. `getOrder`).
        operation: String,
        /// The API's error code (e.g. `ES01-01`, `px-04102`, `InvalidInput`).
        code: String,
        /// The API's error message.
        message: String,
    },
    /// The body is not what the operation returns (bad JSON/XML, missing or impossible fields).
    /// `detail` names the field, never its value: values may be personal data.
    #[error("{marketplace} {operation}: malformed response: {detail}")]
    Malformed {
        /// Which marketplace.
        marketplace: Marketplace,
        /// Which API operation the body came from.
        operation: String,
        /// What is wrong, naming the field.
        detail: String,
    },
    /// The mapped order broke the canonical contract.
    #[error("{marketplace} order {}: {source}", shown_id(order_id))]
    Invalid {
        /// Which marketplace.
        marketplace: Marketplace,
        /// The marketplace's order id.
        order_id: String,
        /// What the validation found.
        #[source]
        source: ichigen_core::OrderError,
    },
}

/// Whether `s` is a short token of printable ASCII, as every marketplace's codes and ids are
/// (`ES01-01`, `px-04102`, `391234-20261201-0000001`, `503-1234567-1234567`).
fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= MAX_ID_CHARS
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':' | b'/'))
}

/// An API error code as it may appear in logs and error messages; anything that is not a code is
/// withheld, since a body that is not what it claims to be may carry anything there.
pub fn shown_code(code: &str) -> &str {
    if is_token(code) { code } else { "(withheld: not a code)" }
}

/// An order id as it may appear in logs and error messages (withheld when it is not an id).
pub fn shown_id(id: &str) -> &str {
    if is_token(id) { id } else { "(withheld: not an id)" }
}

/// One response body as the marketplace API returned it.
#[derive(Debug, Clone)]
pub struct Body {
    /// Where it came from (a file name), for messages.
    pub name: String,
    /// The body text (JSON or XML).
    pub text: String,
}

/// One order of a response body that could not be read, mapped or validated while the body itself
/// was fine: the other orders of the body still count, this one is set aside.
#[derive(Debug)]
pub struct BadOrder {
    /// The marketplace's order id, when it could be read.
    pub order_id: Option<String>,
    /// When it was ordered, when that could be read (clients drop orders outside a window with it).
    pub ordered_at: Option<DateTime<FixedOffset>>,
    /// Why; names fields, never values.
    pub error: NormalizeError,
}

/// Longest path segment shown in an error; real field names are far shorter.
const MAX_SEGMENT_CHARS: usize = 64;

/// The path of a field that failed to deserialise, fit for an error message: indices as `[i]`,
/// names joined by `.`, and any segment that is not a plain field name (ASCII letters, digits,
/// `_`) shown as `?` — map keys and XML element names come from the body, and a broken body can
/// make one of them hold a buyer's data.
pub fn field_path(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for seg in path.iter() {
        match seg {
            Segment::Seq { index } => out.push_str(&format!("[{index}]")),
            Segment::Map { key } | Segment::Enum { variant: key } => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(if is_field_name(key) { key } else { "?" });
            }
            Segment::Unknown => out.push_str(if out.is_empty() { "?" } else { ".?" }),
        }
    }
    out
}

/// Whether `s` looks like a field name (and so may be shown): 1–64 ASCII letters, digits or `_`.
pub fn is_field_name(s: &str) -> bool {
    !s.is_empty() && s.len() <= MAX_SEGMENT_CHARS && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// Longest order id kept in a [`BadOrder`]; real ids are far shorter.
const MAX_ID_CHARS: usize = 64;

impl BadOrder {
    /// A bad order; `order_id` is kept only when it looks like an id (short, one line).
    pub fn new(order_id: Option<&str>, error: NormalizeError) -> BadOrder {
        let order_id = order_id
            .map(str::trim)
            .filter(|id| !id.is_empty() && id.chars().count() <= MAX_ID_CHARS && !id.chars().any(char::is_control))
            .map(str::to_owned);
        BadOrder { order_id, ordered_at: None, error }
    }

    /// The same, with the time it was ordered.
    pub fn ordered(mut self, at: Option<DateTime<FixedOffset>>) -> BadOrder {
        self.ordered_at = at;
        self
    }
}

impl NormalizeError {
    /// A body of `marketplace`'s `operation` that does not read: `detail` names the field, never
    /// its value.
    pub fn malformed(marketplace: Marketplace, operation: &str, detail: impl Into<String>) -> NormalizeError {
        NormalizeError::Malformed { marketplace, operation: operation.to_owned(), detail: detail.into() }
    }
}
