//! Seeded orders for a sandbox: the varied sample, spread over a timeline.

use chrono::{DateTime, FixedOffset, Utc};
use ichigen_core::sample::SampleOrders;
use ichigen_core::{Marketplace, Order};

/// How to fill a sandbox.
#[derive(Debug, Clone)]
pub struct Seed {
    /// Number of orders.
    pub orders: usize,
    /// Generator seed: the same seed gives the same orders.
    pub seed: u64,
    /// Time of the first order.
    pub start: DateTime<FixedOffset>,
    /// Seconds between orders on average.
    pub step_secs: i64,
    /// Shop the orders belong to.
    pub shop_id: String,
}

impl Default for Seed {
    fn default() -> Self {
        Seed {
            orders: 200,
            seed: 1,
            start: DateTime::parse_from_rfc3339("2026-11-01T09:00:00+09:00").expect("valid constant"),
            step_secs: 600,
            shop_id: "shop-demo".into(),
        }
    }
}

/// Units of each item a seeded mall shows before anything writes to it: a number the shop kept
/// by hand in the mall's back office.
pub const HAND_KEPT: i64 = 5;

/// The items a sandbox seeded with `seed` lists, as (SKU, name, unit price): the sample
/// catalogue when it has orders (a mall lists the items it sells, and every seeded order line is
/// one of them), nothing otherwise (tests that list their own items start with no orders).
pub fn listed_items(seed: &Seed) -> &'static [(&'static str, &'static str, i64)] {
    if seed.orders > 0 { ichigen_core::sample::catalogue() } else { &[] }
}

/// The orders of `seed` for `marketplace` (ids are the marketplace-neutral `<mp>-<n>`; each
/// sandbox renames them to its own id format).
///
/// An order timed after now is placed when its time comes (the book hides it until then) as a
/// buyer places one: its first version, last updated when it was ordered.
pub fn seed_orders(marketplace: Marketplace, seed: &Seed) -> Vec<Order> {
    let mut sample = SampleOrders::new(seed.seed).with_timeline(seed.start, seed.step_secs);
    let now = Utc::now().fixed_offset();
    (0..seed.orders)
        .map(|n| {
            let mut o = sample.varied_order(marketplace, n);
            o.shop_id = seed.shop_id.clone();
            if o.ordered_at > now {
                o.source_updated_at = o.ordered_at;
            }
            o
        })
        .collect()
}
