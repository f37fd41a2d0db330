//! What every marketplace client shares: rate limits, retries, error classes, HTTP plumbing,
//! and the marketplace contract (core's `OrderSource`) re-exported for the clients.

mod any;
mod cursor;
mod error;
mod http;
mod limit;
mod rejects;
mod retry;

pub use any::{AnyClient, BuildError, HttpSettings, build_client};
pub use cursor::Cursor;
pub use error::ClientError;
pub use http::{Http, HttpConfig, Reply, retry_after};
pub use ichigen_core::pipeline::{OrderPage, OrderSource, Pulled, Window, pull_window};
pub use limit::{Limit, RateLimiter};
pub use rejects::rejects;
pub use retry::RetryPolicy;
