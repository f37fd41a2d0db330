//! Client-side rate limits: one token bucket per API operation, set to the documented limit.

use std::num::NonZeroU32;
use std::time::Duration;

use governor::{DefaultDirectRateLimiter, Quota};

/// A documented limit: tokens restored per second and bucket size (Amazon's "rate" and "burst").
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limit {
    /// Requests per second allowed on average (Amazon getOrders: 1/60).
    pub per_second: f64,
    /// Requests allowed at once after a quiet spell.
    pub burst: u32,
}

impl Limit {
    /// A limit of `per_second` requests a second with a bucket of `burst`.
    pub const fn new(per_second: f64, burst: u32) -> Limit {
        Limit { per_second, burst }
    }

    /// The same limit with time running `factor` times faster: for benchmarks and tests that
    /// must not wait a real minute per Amazon call. The sandbox is scaled by the same factor.
    pub fn scaled(self, factor: f64) -> Limit {
        Limit { per_second: self.per_second * factor, burst: self.burst }
    }

    /// Time between two tokens.
    pub fn period(&self) -> Duration {
        // Clamped so a nonsense rate cannot make a zero or endless period.
        Duration::from_secs_f64((1.0 / self.per_second).clamp(1e-6, 86_400.0))
    }
}

/// A token bucket that makes callers wait their turn.
#[derive(Debug)]
pub struct RateLimiter {
    limit: Limit,
    bucket: DefaultDirectRateLimiter,
}

impl RateLimiter {
    /// A full bucket for `limit`.
    pub fn new(limit: Limit) -> RateLimiter {
        let burst = NonZeroU32::new(limit.burst).unwrap_or(NonZeroU32::MIN);
        // `with_period` only fails for a zero period, which `period()` never returns.
        let quota = Quota::with_period(limit.period()).unwrap_or(Quota::per_second(NonZeroU32::MIN)).allow_burst(burst);
        RateLimiter { limit, bucket: DefaultDirectRateLimiter::direct(quota) }
    }

    /// Waits until a request may be sent.
    pub async fn acquire(&self) {
        self.bucket.until_ready().await;
    }

    /// The limit this bucket enforces.
    pub fn limit(&self) -> Limit {
        self.limit
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scaling_keeps_the_burst_and_speeds_the_rate() {
        let amazon_get_orders = Limit::new(1.0 / 60.0, 20);
        let fast = amazon_get_orders.scaled(600.0);
        assert_eq!(fast.burst, 20);
        assert_eq!(fast.period(), Duration::from_millis(100));
    }

    #[tokio::test]
    async fn the_bucket_spaces_requests_after_the_burst() {
        let l = RateLimiter::new(Limit::new(50.0, 2));
        let start = std::time::Instant::now();
        for _ in 0..5 {
            l.acquire().await;
        }
        // 2 at once, then 3 more at 20 ms each.
        assert!(start.elapsed() >= Duration::from_millis(55), "{:?}", start.elapsed());
    }
}
