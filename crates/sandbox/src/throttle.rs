//! Server-side rate limits: the sandbox answers with the API's own throttle error when a client
//! goes faster than the documented limit.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::time::Duration;

use governor::{DefaultDirectRateLimiter, Quota};

/// One token bucket per operation.
#[derive(Debug, Default)]
pub struct Throttle {
    buckets: HashMap<&'static str, DefaultDirectRateLimiter>,
    /// A bucket every operation also draws from (limits per license or shop).
    shared: Option<DefaultDirectRateLimiter>,
}

impl Throttle {
    /// Buckets for `(operation, requests per second, burst)`, with time running `scale` times
    /// faster (as the client's limits in benches).
    pub fn new(limits: &[(&'static str, f64, u32)], scale: f64) -> Throttle {
        let buckets = limits.iter().map(|&(op, per_second, burst)| (op, bucket(per_second, burst, scale))).collect();
        Throttle { buckets, shared: None }
    }

    /// Adds a limit all operations share (楽天 per license, au PAY and Qoo10 per shop).
    pub fn with_shared(mut self, per_second: f64, burst: u32, scale: f64) -> Throttle {
        self.shared = Some(bucket(per_second, burst, scale));
        self
    }

    /// No limits at all (a sandbox for quick tests).
    pub fn off() -> Throttle {
        Throttle::default()
    }

    /// Whether `operation` may run now; `false` means: answer with the throttle error.
    pub fn admit(&self, operation: &str) -> bool {
        self.shared.as_ref().is_none_or(|b| b.check().is_ok())
            && self.buckets.get(operation).is_none_or(|b| b.check().is_ok())
    }
}

/// A token bucket of `per_second × scale` with `burst`.
fn bucket(per_second: f64, burst: u32, scale: f64) -> DefaultDirectRateLimiter {
    let period = Duration::from_secs_f64((1.0 / (per_second * scale)).clamp(1e-6, 86_400.0));
    let quota = Quota::with_period(period)
        .unwrap_or(Quota::per_second(NonZeroU32::MIN))
        .allow_burst(NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN));
    DefaultDirectRateLimiter::direct(quota)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bursts_pass_then_requests_are_refused() {
        let t = Throttle::new(&[("getOrders", 1.0 / 60.0, 3)], 1.0);
        assert!((0..3).all(|_| t.admit("getOrders")));
        assert!(!t.admit("getOrders"));
        assert!(t.admit("getOrder"), "unlisted operations are not limited");
    }

    #[test]
    fn a_shared_limit_counts_every_operation() {
        let t = Throttle::new(&[("searchOrder", 1.0, 1), ("getOrder", 1.0, 1)], 1.0).with_shared(1.0, 1, 1.0);
        assert!(t.admit("searchOrder"));
        assert!(!t.admit("getOrder"), "the license's one request a second is spent");
    }
}
