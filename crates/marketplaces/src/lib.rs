//! Marketplace APIs: one folder per marketplace (wire formats, codes, mapping to the canonical
//! Order, client, credentials, policy), the plumbing they share, and the registry that lists them.
//! From the orders queue on, ichigen speaks only the canonical Order.

pub mod amazon;
pub mod aupay;
pub mod back_office;
pub mod client;
pub mod error;
pub mod labels;
pub mod qoo10;
pub mod rakuten;
pub mod registry;
pub mod relay;
pub mod secret;
pub mod yahoo;

pub use client::{AnyClient, BuildError, HttpSettings, build_client};
pub use error::{BadOrder, Body, NormalizeError};
use ichigen_core::{Marketplace, Order};
pub use registry::{REGISTRY, Registration, policies, registration};
pub use secret::{MarketplaceSecret, SecretError};

/// Turns response bodies of `marketplace`'s API, exactly as returned, into validated Orders.
pub fn normalize(marketplace: Marketplace, shop_id: &str, bodies: &[Body]) -> Result<Vec<Order>, NormalizeError> {
    match registration(marketplace) {
        Some(r) => (r.normalize)(shop_id, bodies),
        None => Err(NormalizeError::Malformed {
            marketplace,
            operation: "normalize".into(),
            detail: "not pulled from an API (orders imported from a file); use `ichigen check` on canonical orders"
                .into(),
        }),
    }
}
