//! Marketplace APIs: wire formats, mapping to the canonical Order, and clients.
//!
//! One module per marketplace. Everything marketplace-specific lives here; from the orders
//! queue on, ichigen speaks only the canonical Order.

pub mod amazon;
pub mod aupay;
pub mod client;
pub mod error;
pub mod labels;
pub mod qoo10;
pub mod rakuten;
pub mod secret;
pub mod yahoo;

pub use client::{AnyClient, BuildError, HttpSettings, build_client};
pub use error::{BadOrder, Body, NormalizeError};
use ichigen_core::{Marketplace, Order};
pub use secret::{MarketplaceSecret, SecretError};

/// Turns response bodies of `marketplace`'s API, exactly as returned, into validated Orders.
pub fn normalize(marketplace: Marketplace, shop_id: &str, bodies: &[Body]) -> Result<Vec<Order>, NormalizeError> {
    match marketplace {
        Marketplace::Rakuten => rakuten::normalize(shop_id, bodies),
        Marketplace::Yahoo => yahoo::normalize(shop_id, bodies),
        Marketplace::Amazon => amazon::normalize(shop_id, bodies),
        Marketplace::Aupay => aupay::normalize(shop_id, bodies),
        Marketplace::Qoo10 => qoo10::normalize(shop_id, bodies),
        Marketplace::Csv => Err(NormalizeError::Malformed {
            marketplace,
            operation: "normalize".into(),
            detail: "csv orders are imported, not pulled from an API; use `ichigen check` on canonical orders".into(),
        }),
    }
}
