//! One classification of AWS SDK failures for every adapter: retryable or permanent, and an
//! error that says what failed without the service's free text where that may echo personal data.

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use ichigen_core::pipeline::{BoxError, PortError};

/// Error codes that mean "too much right now" or "the service failed": the same call may pass later.
const RETRYABLE_CODES: [&str; 13] = [
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "Throttling",
    "RequestLimitExceeded",
    "RequestThrottled",
    "RequestThrottledException",
    "TooManyRequestsException",
    "LimitExceededException",
    "InternalServerError",
    "InternalFailure",
    "InternalServiceError",
    "ServiceUnavailable",
    "ServiceUnavailableException",
];

/// A failed AWS call: the service's error code and HTTP status (or the transport failure), with
/// the SDK error kept as source unless it was redacted.
#[derive(Debug, thiserror::Error)]
#[error("{summary}")]
pub struct AwsError {
    summary: String,
    code: Option<String>,
    #[source]
    source: Option<BoxError>,
}

impl AwsError {
    /// The service's error code (`ConditionalCheckFailedException`, ...), when it answered.
    pub fn code(&self) -> Option<&str> {
        self.code.as_deref()
    }
}

/// Whether `err` may pass on a later try: throttling, 5xx, timeouts and dispatch failures do;
/// validation, missing resources, denied access and requests that could not be built do not.
pub(crate) fn is_retryable<E: ProvideErrorMetadata>(err: &SdkError<E, HttpResponse>) -> bool {
    match err {
        SdkError::ConstructionFailure(_) => false,
        SdkError::TimeoutError(_) | SdkError::ResponseError(_) => true,
        SdkError::DispatchFailure(f) => !f.is_user(),
        SdkError::ServiceError(e) => {
            e.raw().status().is_server_error() || err.code().is_some_and(|c| RETRYABLE_CODES.contains(&c))
        }
        // Future kinds: trying again is the safer default for an unknown transport failure.
        _ => true,
    }
}

fn summary<E: ProvideErrorMetadata>(err: &SdkError<E, HttpResponse>, with_message: bool) -> String {
    match err {
        SdkError::ConstructionFailure(_) => "request could not be built".to_string(),
        SdkError::TimeoutError(_) => "timed out".to_string(),
        SdkError::DispatchFailure(f) if f.is_timeout() => "connection timed out".to_string(),
        SdkError::DispatchFailure(_) => "request could not be sent".to_string(),
        SdkError::ResponseError(_) => "unreadable response".to_string(),
        SdkError::ServiceError(e) => {
            let code = err.code().unwrap_or("unknown error");
            let status = e.raw().status().as_u16();
            match err.message().filter(|_| with_message) {
                Some(message) => format!("{code} (HTTP {status}): {message}"),
                None => format!("{code} (HTTP {status})"),
            }
        }
        _ => "failed".to_string(),
    }
}

impl AwsError {
    /// Wraps `err`, keeping it as source and the service's message in the summary.
    pub(crate) fn new<E>(err: SdkError<E, HttpResponse>) -> AwsError
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        AwsError { summary: summary(&err, true), code: err.code().map(str::to_string), source: Some(Box::new(err)) }
    }

    /// Wraps `err` for a service whose messages may quote addresses (SES names the refused
    /// recipients): the service's text and the modelled error are dropped, transport failures kept.
    pub(crate) fn redacted<E>(err: SdkError<E, HttpResponse>) -> AwsError
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        let summary = summary(&err, false);
        let code = err.code().map(str::to_string);
        let source: Option<BoxError> = match err {
            SdkError::ServiceError(_) => None,
            other => Some(Box::new(other)),
        };
        AwsError { summary, code, source }
    }
}

/// A [`PortError`] for a failed SDK call of `operation`, classified.
pub(crate) fn port_error<E>(operation: &'static str, err: SdkError<E, HttpResponse>) -> PortError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    PortError { operation, retryable: is_retryable(&err), source: Box::new(AwsError::new(err)) }
}
