//! The registered marketplaces: each folder declares its policy, credentials check, client
//! constructor and body reader in one `REGISTRATION`; adding a marketplace adds one line here.

use ichigen_core::{Marketplace, MarketplacePolicy, Order, Policies};
use serde_json::Value;

use crate::client::{AnyClient, BuildError, HttpSettings};
use crate::secret::SecretError;
use crate::{Body, NormalizeError, amazon, aupay, qoo10, rakuten, yahoo};

/// One marketplace, as its folder declares it.
#[derive(Debug)]
pub struct Registration {
    /// What the pipeline must know of its rules.
    pub policy: MarketplacePolicy,
    /// Reads and checks its credential fields (the secret JSON less its `marketplace` tag).
    pub check_secret: fn(&Value) -> Result<(), SecretError>,
    /// Builds its client for a shop from checked credential fields.
    pub build: fn(&str, &Value, HttpSettings) -> Result<AnyClient, BuildError>,
    /// Turns its API's response bodies into validated Orders.
    pub normalize: fn(&str, &[Body]) -> Result<Vec<Order>, NormalizeError>,
}

/// Every marketplace ichigen pulls from.
pub static REGISTRY: &[&Registration] =
    &[&rakuten::REGISTRATION, &yahoo::REGISTRATION, &amazon::REGISTRATION, &aupay::REGISTRATION, &qoo10::REGISTRATION];

/// The registration of `marketplace`, if it is one ichigen pulls from.
pub fn registration(marketplace: Marketplace) -> Option<&'static Registration> {
    REGISTRY.iter().copied().find(|r| r.policy.marketplace == marketplace)
}

/// The declared policies of every registered marketplace, for the use cases.
pub fn policies() -> Policies {
    Policies::new(|m| registration(m).map(|r| r.policy))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_marketplace_is_registered_once() {
        for m in Marketplace::ALL {
            let n = REGISTRY.iter().filter(|r| r.policy.marketplace == m).count();
            assert_eq!(n, usize::from(m != Marketplace::Csv), "{m}");
        }
    }

    #[test]
    fn amazon_buyers_are_never_mailed_and_rakuten_sections_are_not_the_buyers() {
        let p = policies();
        assert!(!p.of(Marketplace::Amazon).buyer_mail);
        assert!(p.of(Marketplace::Rakuten).buyer_mail);
        assert!(p.of(Marketplace::Rakuten).remark_sections.contains(&"配送日時指定"));
        assert!(p.of(Marketplace::Csv).buyer_mail);
    }
}
