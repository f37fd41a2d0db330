//! Retries with jittered exponential backoff for retryable errors, honouring the API's wait.

use std::future::Future;
use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};

use super::ClientError;

/// How hard to try before giving up with a retryable error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt.
    pub retries: usize,
    /// First backoff delay (before jitter).
    pub min_delay: Duration,
    /// Longest backoff delay, and the longest Retry-After we honour.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy { retries: 5, min_delay: Duration::from_millis(250), max_delay: Duration::from_secs(30) }
    }
}

impl RetryPolicy {
    /// Runs `call` until it succeeds, fails permanently, or the retries are spent. A throttle
    /// answer with Retry-After waits at least that long.
    pub async fn run<T, F, Fut>(&self, call: F) -> Result<T, ClientError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, ClientError>>,
    {
        let backoff = ExponentialBuilder::default()
            .with_min_delay(self.min_delay)
            .with_max_delay(self.max_delay)
            .with_max_times(self.retries)
            .with_jitter();
        let max = self.max_delay;
        call.retry(backoff)
            .sleep(tokio::time::sleep)
            .when(ClientError::is_retryable)
            .adjust(move |e, planned| planned.map(|d| e.retry_after().map_or(d, |wait| wait.min(max).max(d))))
            .await
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use ichigen_core::Marketplace;

    use super::*;

    fn quick() -> RetryPolicy {
        RetryPolicy { retries: 3, min_delay: Duration::from_millis(1), max_delay: Duration::from_millis(5) }
    }

    fn server_error() -> ClientError {
        ClientError::Server {
            marketplace: Marketplace::Rakuten,
            operation: "getOrder",
            status: 503,
            code: String::new(),
        }
    }

    #[tokio::test]
    async fn retryable_errors_are_retried_until_success() {
        let calls = AtomicUsize::new(0);
        let out = quick()
            .run(|| async { if calls.fetch_add(1, Ordering::SeqCst) < 2 { Err(server_error()) } else { Ok(7) } })
            .await;
        assert_eq!(out.ok(), Some(7));
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn retries_run_out_with_the_retryable_error() {
        let calls = AtomicUsize::new(0);
        let out: Result<(), _> = quick()
            .run(|| async {
                calls.fetch_add(1, Ordering::SeqCst);
                Err(server_error())
            })
            .await;
        assert!(out.is_err_and(|e| e.is_retryable()));
        assert_eq!(calls.load(Ordering::SeqCst), 4);
    }

    #[tokio::test]
    async fn permanent_errors_are_not_retried() {
        let calls = AtomicUsize::new(0);
        let out: Result<(), _> = quick()
            .run(|| async {
                calls.fetch_add(1, Ordering::SeqCst);
                Err(ClientError::Auth {
                    marketplace: Marketplace::Yahoo,
                    operation: "orderList",
                    code: "px-04102".into(),
                    message: "expired".into(),
                })
            })
            .await;
        assert!(out.is_err_and(|e| !e.is_retryable()));
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }
}
