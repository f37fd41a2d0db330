//! What every marketplace sandbox is started with, and what it hands back.

use std::sync::Arc;

use crate::{FaultDice, Faults, OrderBook, Running, Seed, Shelf};

/// Settings shared by every sandbox.
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    /// Port on 127.0.0.1 (0 = any free port).
    pub port: u16,
    /// Orders to seed.
    pub seed: Seed,
    /// Faults to inject from the start (they can be changed while running).
    pub faults: Faults,
    /// `Some(scale)`: enforce the documented rate limits with time running `scale` times faster
    /// (1.0 = real limits); `None`: no limits (quick tests).
    pub throttle: Option<f64>,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        SandboxConfig { port: 0, seed: Seed::default(), faults: Faults::default(), throttle: Some(1.0) }
    }
}

/// A running sandbox with handles for tests and the demo.
#[derive(Debug)]
pub struct Started {
    /// The server; dropping it stops the sandbox.
    pub running: Running,
    /// The credentials it accepts, as `(name, value)` pairs to print (test values, not secrets).
    pub credentials: Vec<(&'static str, String)>,
    /// Its orders, to inspect or change.
    pub book: Arc<OrderBook>,
    /// Its fault knobs, to change while running.
    pub faults: Arc<FaultDice>,
    /// Its own stock: the items the mall lists and their numbers (to read, or to carry over a
    /// restart with [`Shelf::kept`] and [`Shelf::restore`]).
    pub shelf: Arc<Shelf>,
}

impl Started {
    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        self.running.base_url()
    }
}
