//! Local emulators of the marketplace APIs, on 127.0.0.1 only.
//!
//! Each marketplace module speaks its API's real wire format (paths, methods, JSON or XML,
//! envelopes, error bodies, status codes), checks credentials the way the API does, enforces
//! paging, date-window rules and rate limits, and applies write-backs to its own state. This
//! module holds what they share: serving, fault injection, throttling, order state, seeding.

pub mod amazon;
pub mod aupay;
pub mod book;
pub mod config;
pub mod faults;
pub mod qoo10;
pub mod rakuten;
pub mod secret;
pub mod seed;
pub mod server;
pub mod shelf;
pub mod throttle;
pub mod yahoo;

pub use book::{OrderBook, TimeField};
pub use config::{SandboxConfig, Started};
pub use faults::{Fault, FaultDice, Faults};
pub use secret::{secret_json, start};
pub use seed::{HAND_KEPT, Seed, listed_items, seed_orders};
pub use server::{Running, serve};
pub use shelf::{Kept, Put, Restock, Shelf, buyer_order};
pub use throttle::Throttle;
