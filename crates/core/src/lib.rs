//! ichigen core: the canonical Order, Japanese address data and normalisation, and the order
//! checks. Pure: no I/O, no clocks, no AWS; adapters live in other crates.

pub mod address;
pub mod carrier;
pub mod checks;
pub mod console;
pub mod export;
pub mod finding;
pub mod islands;
pub mod japanese;
pub mod labels;
pub mod marketplace;
pub mod order;
pub mod pipeline;
pub mod postal;
pub mod rules;
pub mod sample;
pub mod spreadsheet;
pub mod stock;
pub mod tab;
pub mod text;
pub mod validate;

pub use checks::{BundleIndex, CheckEngine, CheckOutcome};
pub use finding::{Finding, FindingCode, Severity};
pub use marketplace::{JST, MarketplacePolicy, Policies, Reconcile};
pub use order::*;
pub use rules::Rules;
pub use validate::OrderError;
