//! What every marketplace client shares: rate limits, retries, error classes, HTTP plumbing,
//! and the `OrderSource` contract the puller drives.

mod error;
mod http;
mod limit;
mod retry;
mod source;

pub use error::ClientError;
pub use http::{Http, HttpConfig, Reply, retry_after};
pub use limit::{Limit, RateLimiter};
pub use retry::RetryPolicy;
pub use source::{OrderPage, OrderSource, Window, pull_window};
