//! What an order holds of the stock, from the order as it is now: its item lines through the
//! shop's listings to shop SKUs, held as its status says.

use std::collections::{BTreeMap, BTreeSet};

use crate::order::{Marketplace, Order, OrderStatus};
use crate::pipeline::{ShipState, StoredOrder};

use super::{HoldState, Holding, Listing, Version, holder};

/// An order line whose item takes no known shop SKU: staff must map it (`ichigen stock map`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("商品 {item} ({marketplace}) に対応する在庫SKUがありません(ichigen stock map で対応付けてください)")]
pub struct Unmapped {
    /// The marketplace.
    pub marketplace: Marketplace,
    /// The item's identity there (the order line's `sku`).
    pub item: String,
}

/// The listings of a shop by (marketplace, item), and its SKUs: how order lines find their stock.
#[derive(Debug, Clone, Default)]
pub struct Catalogue {
    listings: BTreeMap<(Marketplace, String), Listing>,
    skus: BTreeSet<String>,
}

impl Catalogue {
    /// The catalogue of these listings and shop SKUs.
    pub fn new(listings: Vec<Listing>, skus: impl IntoIterator<Item = String>) -> Catalogue {
        Catalogue {
            listings: listings.into_iter().map(|l| ((l.marketplace, l.item.clone()), l)).collect(),
            skus: skus.into_iter().collect(),
        }
    }

    /// The shop's listings on `marketplace`, by item.
    pub fn listings_of(&self, marketplace: Marketplace) -> impl Iterator<Item = &Listing> {
        self.listings.values().filter(move |l| l.marketplace == marketplace)
    }

    /// Every listing of the shop.
    pub fn listings(&self) -> impl Iterator<Item = &Listing> {
        self.listings.values()
    }

    /// Whether the shop has no stock master (no SKUs, no listings): its orders move nothing and
    /// no item is unmapped, exactly as before the shop kept stock in ichigen.
    pub fn is_empty(&self) -> bool {
        self.listings.is_empty() && self.skus.is_empty()
    }

    /// Units of each shop SKU one `item` of `marketplace` takes.
    fn parts(&self, marketplace: Marketplace, item: &str) -> Result<Vec<(String, i64)>, Unmapped> {
        let item = item.trim();
        if let Some(l) = self.listings.get(&(marketplace, item.to_string())) {
            return Ok(l.parts.iter().map(|p| (p.sku.clone(), i64::from(p.units))).collect());
        }
        if self.skus.contains(item) {
            return Ok(vec![(item.to_string(), 1)]);
        }
        Err(Unmapped { marketplace, item: item.to_string() })
    }
}

/// Whether an order's goods are the shop's to hold: not cancelled, not shipped by the
/// marketplace's own warehouse (Amazon FBA).
fn holds_shop_stock(o: &Order) -> bool {
    !o.fulfilled_by_marketplace && o.status != OrderStatus::Cancelled
}

/// The order's lines whose item takes no known shop SKU, each item once; none when the shop has
/// no stock master or the order holds none of the shop's stock.
pub fn unmapped(o: &Order, catalogue: &Catalogue) -> Vec<Unmapped> {
    let mut out: Vec<Unmapped> = Vec::new();
    if catalogue.is_empty() || !holds_shop_stock(o) {
        return out;
    }
    for item in &o.items {
        if let Err(u) = catalogue.parts(o.marketplace, &item.sku)
            && !out.contains(&u)
        {
            out.push(u);
        }
    }
    out
}

/// What `s` should hold now: its lines' units, reserved while open, consumed once shipped (the
/// marketplace says so, or the shop recorded a tracking number for every parcel), nothing once
/// cancelled or when the marketplace ships it from its own warehouse (Amazon FBA: not the shop's
/// stock). Every unmapped line is reported; the holding is then not known.
pub fn target(s: &StoredOrder, catalogue: &Catalogue) -> Result<Holding, Vec<Unmapped>> {
    let shipped_by_shop = s.ship_state().is_some_and(|st| st >= ShipState::Shipped);
    target_of(&s.order, shipped_by_shop, catalogue)
}

/// What `o` should hold as the marketplace shows it (`shipped_by_shop`: the shop recorded a
/// tracking number for every parcel) — [`target`] for an order not stored yet, as the puller
/// holds what it pulled before the processor stores it. Each unit is also counted under the
/// listed item it was sold as (whose allotment it takes), and the holding carries the order's
/// version.
pub fn target_of(o: &Order, shipped_by_shop: bool, catalogue: &Catalogue) -> Result<Holding, Vec<Unmapped>> {
    let version = Some(Version { updated_at: o.source_updated_at, progress: crate::pipeline::process::progress(o) });
    if o.fulfilled_by_marketplace {
        return Ok(Holding { version, ..Holding::none() });
    }
    let mut units: BTreeMap<String, i64> = BTreeMap::new();
    let mut by_item: BTreeMap<String, BTreeMap<String, i64>> = BTreeMap::new();
    let mut unmapped = Vec::new();
    for item in &o.items {
        match catalogue.parts(o.marketplace, &item.sku) {
            Ok(parts) => {
                let of_item = by_item.entry(holder(o.marketplace, &item.sku)).or_default();
                for (sku, per) in parts {
                    let n = per * i64::from(item.quantity);
                    *units.entry(sku.clone()).or_default() += n;
                    *of_item.entry(sku).or_default() += n;
                }
            }
            Err(u) if !unmapped.contains(&u) => unmapped.push(u),
            Err(_) => {}
        }
    }
    if o.status == OrderStatus::Cancelled {
        // Nothing held; the units per item are kept so that an order first seen cancelled counts
        // as cancelled for its item (`Step::of`): a mall that sold it and did not give the units
        // back shows them missing, and the push gives them back. Unmapped lines hold nothing.
        return Ok(Holding { by_item, version, ..Holding::none() });
    }
    let shipped = o.status == OrderStatus::Shipped || shipped_by_shop;
    let state = if shipped { HoldState::Consumed } else { HoldState::Reserved };
    if unmapped.is_empty() { Ok(Holding { units, state, by_item, version }) } else { Err(unmapped) }
}
