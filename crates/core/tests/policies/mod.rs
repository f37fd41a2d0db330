//! Marketplace policies as the core tests declare them (the real declarations live in each
//! marketplace's folder of `ichigen-marketplaces`).

use std::time::Duration;

use ichigen_core::{Marketplace, MarketplacePolicy, Policies, Reconcile};

/// The policies these tests declare: Amazon's buyers are not mailed, 楽天 writes sections of its
/// own into the remarks, 楽天's open orders are read again on every pull.
pub const POLICIES: Policies = Policies::new(|m| match m {
    Marketplace::Amazon => Some(MarketplacePolicy { buyer_mail: false, ..MarketplacePolicy::plain(m) }),
    Marketplace::Rakuten => Some(MarketplacePolicy {
        remark_sections: &["配送日時指定"],
        reconcile: Some(Reconcile { every: Duration::ZERO, older_than: Duration::ZERO }),
        ..MarketplacePolicy::plain(m)
    }),
    _ => None,
});
