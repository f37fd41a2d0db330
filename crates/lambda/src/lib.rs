//! What every ichigen Lambda shares: typed config read once from env vars (failing fast with
//! every missing name), CloudWatch EMF metrics, and per-message failure reporting for SQS batches.

pub mod env;
pub mod metrics;
pub mod sqs;

pub use env::{ConfigError, Env};
pub use metrics::Metrics;
pub use sqs::{BatchOutcome, MessageFailure, for_each_message};

/// JSON logs when the function's log format is JSON (`AWS_LAMBDA_LOG_FORMAT`), text otherwise;
/// level from `AWS_LAMBDA_LOG_LEVEL` or `RUST_LOG`.
pub fn init_logging() {
    lambda_runtime::tracing::init_default_subscriber();
}
