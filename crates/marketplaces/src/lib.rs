//! Marketplace APIs: wire formats, mapping to the canonical Order, and clients.
//!
//! One module per marketplace. Everything marketplace-specific lives here; from the orders
//! queue on, ichigen speaks only the canonical Order.

pub mod amazon;
pub mod aupay;
pub mod client;
pub mod error;
pub mod qoo10;
pub mod rakuten;
pub mod yahoo;

pub use error::{Body, NormalizeError};
