//! What every marketplace client shares: rate limits, retries, error classes, HTTP plumbing,
//! and the `OrderSource` contract the puller drives.

mod any;
mod error;
mod http;
mod limit;
mod retry;
mod source;

pub use any::{AnyClient, BuildError, HttpSettings, build_client};
pub use error::ClientError;
pub use http::{Http, HttpConfig, Reply, retry_after};
pub use limit::{Limit, RateLimiter};
pub use retry::RetryPolicy;
pub use source::{OrderPage, OrderSource, Pulled, Window, pull_window, rejects};
