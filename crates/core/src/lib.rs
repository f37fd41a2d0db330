//! ichigen core: the canonical Order, Japanese address data and normalisation, and the order
//! checks. Pure: no I/O, no clocks, no AWS; adapters live in other crates.

pub mod order;
pub mod postal;
pub mod text;
pub mod validate;

pub use order::*;
pub use validate::OrderError;
