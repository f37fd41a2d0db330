//! Marketplace APIs: wire formats, mapping to the canonical Order, and (later) clients.
//!
//! One module per marketplace. Everything marketplace-specific lives here; from the orders
//! queue on, ichigen speaks only the canonical Order.

pub mod error;
pub mod qoo10;

pub use error::{Body, NormalizeError};
