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
}

impl Throttle {
    /// Buckets for `(operation, requests per second, burst)`, with time running `scale` times
    /// faster (as the client's limits in benches).
    pub fn new(limits: &[(&'static str, f64, u32)], scale: f64) -> Throttle {
        let buckets = limits
            .iter()
            .map(|&(op, per_second, burst)| {
                let period = Duration::from_secs_f64((1.0 / (per_second * scale)).clamp(1e-6, 86_400.0));
                let quota = Quota::with_period(period)
                    .unwrap_or(Quota::per_second(NonZeroU32::MIN))
                    .allow_burst(NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN));
                (op, DefaultDirectRateLimiter::direct(quota))
            })
            .collect();
        Throttle { buckets }
    }

    /// No limits at all (a sandbox for quick tests).
    pub fn off() -> Throttle {
        Throttle::default()
    }

    /// Whether `operation` may run now; `false` means: answer with the throttle error.
    pub fn admit(&self, operation: &str) -> bool {
        self.buckets.get(operation).is_none_or(|b| b.check().is_ok())
    }
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
}
