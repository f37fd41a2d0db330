//! Errors of marketplace work, classified the way a caller must act on them.

use ichigen_core::Marketplace;

/// Why a marketplace response could not be turned into orders.
#[derive(Debug, thiserror::Error)]
pub enum NormalizeError {
    /// The body is the API's own error envelope: its code and message, verbatim.
    #[error("{marketplace} {operation}: the API answered with error {code}: {message}")]
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
    #[error("{marketplace} order {order_id}: {source}")]
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

/// One response body as the marketplace API returned it.
#[derive(Debug, Clone)]
pub struct Body {
    /// Where it came from (a file name), for messages.
    pub name: String,
    /// The body text (JSON or XML).
    pub text: String,
}
