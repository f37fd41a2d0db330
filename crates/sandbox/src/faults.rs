//! Fault injection: what can go wrong with a real marketplace API, on demand.

use std::sync::Mutex;
use std::time::Duration;

/// Knobs, each a share of requests (0.0–1.0) or a delay.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Faults {
    /// Share of requests answered with the API's server error (5xx).
    pub error_rate: f64,
    /// Added to every response.
    pub latency: Duration,
    /// Share of requests that hang for `hang` before answering (clients time out first).
    pub timeout_rate: f64,
    /// How long a hanging request hangs.
    pub hang: Duration,
    /// Share of responses whose body is cut in half (malformed).
    pub malformed_rate: f64,
    /// Orders (sandbox ids) served with one field broken wherever they appear, while the rest of
    /// the body stays sound: what one bad record in a real answer looks like. Each sandbox says
    /// which field it breaks.
    pub corrupt_orders: Vec<String>,
}

/// What to do to one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Answer normally.
    None,
    /// Answer with the API's 5xx error.
    ServerError,
    /// Wait this long first.
    Hang(Duration),
    /// Answer with a truncated body.
    Malformed,
}

/// Draws faults from a seeded generator, so a failing test can be replayed.
#[derive(Debug)]
pub struct FaultDice {
    faults: Mutex<(Faults, fastrand::Rng)>,
}

impl FaultDice {
    /// Dice for `faults`, seeded.
    pub fn new(faults: Faults, seed: u64) -> FaultDice {
        FaultDice { faults: Mutex::new((faults, fastrand::Rng::with_seed(seed))) }
    }

    /// Changes the knobs while running (tests switch faults on and off).
    pub fn set(&self, faults: Faults) {
        if let Ok(mut g) = self.faults.lock() {
            g.0 = faults;
        }
    }

    /// Whether order `order_id` is to be served broken (see [`Faults::corrupt_orders`]).
    pub fn corrupts(&self, order_id: &str) -> bool {
        self.faults.lock().is_ok_and(|g| g.0.corrupt_orders.iter().any(|id| id == order_id))
    }

    /// The added latency and the fault for the next request.
    pub fn roll(&self) -> (Duration, Fault) {
        let Ok(mut g) = self.faults.lock() else { return (Duration::ZERO, Fault::None) };
        let (f, rng) = &mut *g;
        let r = rng.f64();
        let fault = if r < f.error_rate {
            Fault::ServerError
        } else if r < f.error_rate + f.timeout_rate {
            Fault::Hang(f.hang)
        } else if r < f.error_rate + f.timeout_rate + f.malformed_rate {
            Fault::Malformed
        } else {
            Fault::None
        };
        (f.latency, fault)
    }
}

/// Cuts a body in half at a character boundary: what a dropped connection leaves.
pub fn truncate(body: &str) -> String {
    let mut end = body.len() / 2;
    while !body.is_char_boundary(end) {
        end -= 1;
    }
    body[..end].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_are_respected_roughly_and_replayable() {
        let f = Faults { error_rate: 0.2, malformed_rate: 0.1, ..Faults::default() };
        let a: Vec<_> = {
            let d = FaultDice::new(f.clone(), 9);
            (0..1000).map(|_| d.roll().1).collect()
        };
        let d = FaultDice::new(f, 9);
        let b: Vec<_> = (0..1000).map(|_| d.roll().1).collect();
        assert_eq!(a, b);
        let errors = a.iter().filter(|f| **f == Fault::ServerError).count();
        assert!((150..250).contains(&errors), "{errors}");
        assert!(a.contains(&Fault::Malformed));
    }

    #[test]
    fn corrupt_orders_are_named() {
        let d = FaultDice::new(Faults { corrupt_orders: vec!["a-1".into()], ..Faults::default() }, 1);
        assert!(d.corrupts("a-1") && !d.corrupts("a-2"));
        d.set(Faults::default());
        assert!(!d.corrupts("a-1"));
    }

    #[test]
    fn truncation_keeps_utf8_valid() {
        let t = truncate("{\"name\":\"山田太郎\"}");
        assert!(t.len() < 20);
    }
}
