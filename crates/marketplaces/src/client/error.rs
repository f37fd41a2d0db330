//! Errors of a marketplace call, classified retryable vs permanent.

use std::time::Duration;

use ichigen_core::Marketplace;

use crate::NormalizeError;
use crate::error::shown_code;

/// Why a marketplace call failed. Messages carry the API's error code, never its message (kept in
/// the field for whoever may read it) and never order data.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// Credentials refused or expired: a person must fix the secret. Permanent.
    #[error("{marketplace} {operation}: credentials refused ({})", shown_code(code))]
    Auth {
        /// Which marketplace.
        marketplace: Marketplace,
        /// Which operation.
        operation: &'static str,
        /// The API's error code.
        code: String,
        /// The API's error message.
        message: String,
    },
    /// The API's throttle answer (429 or its own signal). Retryable, after `retry_after` if given.
    #[error("{marketplace} {operation}: throttled by the API")]
    Throttled {
        /// Which marketplace.
        marketplace: Marketplace,
        /// Which operation.
        operation: &'static str,
        /// How long the API asked us to wait.
        retry_after: Option<Duration>,
    },
    /// 5xx or the API's "try again" error. Retryable.
    #[error("{marketplace} {operation}: server error (HTTP {status}, {})", shown_code(code))]
    Server {
        /// Which marketplace.
        marketplace: Marketplace,
        /// Which operation.
        operation: &'static str,
        /// HTTP status.
        status: u16,
        /// The API's error code, if the body had one.
        code: String,
    },
    /// Connection failure or timeout. Retryable.
    #[error("{marketplace} {operation}: {}: {source}", if *.timeout { "timed out" } else { "connection failed" })]
    Transport {
        /// Which marketplace.
        marketplace: Marketplace,
        /// Which operation.
        operation: &'static str,
        /// Whether it was a timeout.
        timeout: bool,
        /// The HTTP client's error.
        #[source]
        source: reqwest::Error,
    },
    /// The API refused the request itself (bad parameter, unknown order ...). Permanent.
    #[error("{marketplace} {operation}: request refused (HTTP {status}, {})", shown_code(code))]
    Rejected {
        /// Which marketplace.
        marketplace: Marketplace,
        /// Which operation.
        operation: &'static str,
        /// HTTP status.
        status: u16,
        /// The API's error code.
        code: String,
        /// The API's error message.
        message: String,
    },
    /// The body could not be read as that operation's response. Permanent.
    #[error(transparent)]
    Malformed(#[from] NormalizeError),
}

impl ichigen_core::pipeline::Retryable for ClientError {
    fn is_retryable(&self) -> bool {
        ClientError::is_retryable(self)
    }
}

impl ichigen_core::stock::mall::StockFailure for ClientError {
    fn failure(&self) -> ichigen_core::stock::mall::Failure {
        use ichigen_core::stock::mall::Failure;
        match self {
            ClientError::Auth { .. } => Failure::Credentials,
            e if e.is_retryable() => Failure::Retryable,
            _ => Failure::Permanent,
        }
    }
}

impl ClientError {
    /// An answer of `marketplace`'s `operation` that does not read (see [`NormalizeError::malformed`]).
    pub fn malformed(marketplace: Marketplace, operation: &str, detail: impl Into<String>) -> ClientError {
        ClientError::Malformed(NormalizeError::malformed(marketplace, operation, detail))
    }

    /// Whether trying again later can succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self, ClientError::Throttled { .. } | ClientError::Server { .. } | ClientError::Transport { .. })
    }

    /// The wait the API asked for, if it did.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            ClientError::Throttled { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}
