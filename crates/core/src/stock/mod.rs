//! 在庫: the shop's stock master (one real quantity per shop SKU), what each marketplace item
//! takes of it (1:1 or a set), and what each order holds of it. Orders move stock exactly once:
//! an order's holding is a function of the order as it is now ([`holding::target`]), and the
//! store applies the difference from what it held before in one atomic step
//! ([`StockStore::apply_holding`]) — a redelivered or re-read order changes nothing, a
//! cancellation releases, shipping consumes.

pub mod file;
pub mod holding;
pub mod mall;
pub mod push;

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};

use crate::order::Marketplace;
use crate::pipeline::{OrderKey, PortError};

/// One shop SKU's stock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stock {
    /// The shop's SKU.
    pub sku: String,
    /// What staff call it (from the stock file; may be empty).
    pub name: String,
    /// Units in the shop's hands (set and adjusted by staff; shipping takes them out).
    pub on_hand: i64,
    /// Units held by open orders not yet shipped.
    pub reserved: i64,
    /// When it last changed.
    pub updated_at: DateTime<FixedOffset>,
    /// Units allotted to each listed marketplace item ([`holder`] → units): what that item may
    /// show of this SKU. The push keeps Σ allotted ≤ available, so the malls together can never
    /// sell more than the shop has.
    #[serde(default)]
    pub allotted: BTreeMap<String, i64>,
    /// Units of each holder's orders released by cancellation since its last push (kept while
    /// that push withholds a shortfall): how the push tells a mall that gave them back itself
    /// from an edit in its back office.
    #[serde(default)]
    pub cancelled: BTreeMap<String, i64>,
    /// Units each holder's orders reserved since its number was last written: a mall that shows
    /// a write only after a delay lands it over the sales made meanwhile.
    #[serde(default)]
    pub drawn: BTreeMap<String, i64>,
    /// The row's change counter: every change adds one; a ledger write is conditional on it.
    #[serde(default)]
    pub seq: u64,
}

impl Stock {
    /// A SKU with nothing on hand and nothing allotted.
    pub fn empty(sku: &str, at: DateTime<FixedOffset>) -> Stock {
        Stock {
            sku: sku.to_string(),
            name: String::new(),
            on_hand: 0,
            reserved: 0,
            updated_at: at,
            allotted: BTreeMap::new(),
            cancelled: BTreeMap::new(),
            drawn: BTreeMap::new(),
            seq: 0,
        }
    }

    /// Units that can still be sold: on hand and not held by an order (negative: oversold).
    pub fn available(&self) -> i64 {
        self.on_hand - self.reserved
    }

    /// Units allotted to every holder together.
    pub fn allotted_total(&self) -> i64 {
        self.allotted.values().sum()
    }

    /// Units available and allotted to no holder (negative: a reserve took more than its
    /// holder's allotment, or staff counted fewer).
    pub fn free(&self) -> i64 {
        self.available() - self.allotted_total()
    }

    /// What holder `judged`, whose mall's number its push has just read, may take: the free units
    /// less those the orders of every other `listed` holder released by cancellation or drew by
    /// sale since its last push. Until that mall's next push has read its number they may still
    /// show there: most malls put a cancelled order's units back on sale themselves at once, and
    /// a write the mall shows late (or one that reached it just after a sale) lands over the
    /// sales made meanwhile. Given to another mall, they would show on two. (Holders no push
    /// judges — an unlisted item, an order from a file — keep nothing back.)
    pub fn free_for_push(&self, listed: &BTreeSet<String>, judged: &str) -> i64 {
        let held = |m: &BTreeMap<String, i64>| -> i64 {
            m.iter().filter(|(h, _)| *h != judged && listed.contains(*h)).map(|(_, u)| (*u).max(0)).sum()
        };
        self.free() - held(&self.cancelled) - held(&self.drawn)
    }

    /// Units allotted to `holder`.
    pub fn allotted_to(&self, holder: &str) -> i64 {
        self.allotted.get(holder).copied().unwrap_or(0)
    }

    /// What this SKU's allotments come to per mall: Σ of `allotted` over the holders
    /// `{marketplace}:…` of each of [`MALLS`] (what each mall may sell of it), and apart the units
    /// kept under the [`shrinking`] and [`covering`] keys (allotted to no item).
    pub fn allotted_by_marketplace(&self) -> MallAllotments {
        let mut out = MallAllotments { by_mall: [0; 5], apart: 0 };
        for (key, units) in &self.allotted {
            // A prefixed key (`shrinking>rakuten:…`) has no marketplace before its first colon.
            let mall = key.split_once(':').and_then(|(m, _)| m.parse::<Marketplace>().ok());
            match mall.and_then(|m| MALLS.iter().position(|x| *x == m)) {
                Some(i) => out.by_mall[i] += units,
                None => out.apart += units,
            }
        }
        out
    }

    /// Sets `holder`'s allotment (an empty one is dropped from the map).
    pub fn allot(&mut self, holder: &str, units: i64) {
        set_or_drop(&mut self.allotted, holder, units);
    }

    /// Makes the moves of `step` that concern this SKU: its counts, then each holder's
    /// allotment. A reserve of a holder's order takes its units out of that holder's allotment
    /// (not below zero: the rest comes from the free units) and counts them as drawn; a release
    /// counts them as cancelled (the units are free again).
    pub fn apply(&mut self, step: &Step) {
        for (sku, on_hand, reserved) in &step.moves {
            if *sku == self.sku {
                self.on_hand += on_hand;
                self.reserved += reserved;
            }
        }
        for (sku, holder, units) in &step.draws {
            if *sku != self.sku {
                continue;
            }
            if *units > 0 {
                // From the holder's allotment, then from what its shrink keeps back while a slow
                // mall still sells the old number ([`shrinking`]), then from what covers a number
                // the mall shows beyond the ledger ([`covering`]), then from the free units.
                let mut rest = *units;
                for key in [holder.clone(), shrinking(holder), covering(holder)] {
                    let take = rest.min(self.allotted_to(&key)).max(0);
                    self.allot(&key, self.allotted_to(&key) - take);
                    rest -= take;
                }
                *self.drawn.entry(holder.clone()).or_default() += units;
            } else {
                *self.cancelled.entry(holder.clone()).or_default() -= units;
            }
        }
    }
}

/// The marketplaces whose items take the shop's stock, in display order (orders from a file
/// take stock by their lines' SKUs, not by listings of their own).
pub const MALLS: [Marketplace; 5] =
    [Marketplace::Rakuten, Marketplace::Yahoo, Marketplace::Amazon, Marketplace::Aupay, Marketplace::Qoo10];

/// A mall's short name as the stock file's columns and the stock tables' headers say it.
pub fn mall_column(marketplace: Marketplace) -> &'static str {
    match marketplace {
        Marketplace::Rakuten => "楽天",
        Marketplace::Yahoo => "Yahoo",
        Marketplace::Amazon => "Amazon",
        Marketplace::Aupay => "au PAY",
        Marketplace::Qoo10 => "Qoo10",
        Marketplace::Csv => "直接",
    }
}

/// One SKU's allotments per mall ([`Stock::allotted_by_marketplace`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MallAllotments {
    /// Units allotted to the items of each of [`MALLS`], in that order.
    pub by_mall: [i64; 5],
    /// Units allotted to no item: a shrink on its way to a slow mall ([`shrinking`]) or the
    /// cover of a mall's number the ledger does not explain yet ([`covering`]).
    pub apart: i64,
}

impl MallAllotments {
    /// Units allotted to `marketplace`'s items (0 for one not in [`MALLS`]).
    pub fn of(&self, marketplace: Marketplace) -> i64 {
        MALLS.iter().position(|m| *m == marketplace).map_or(0, |i| self.by_mall[i])
    }
}

/// Sets `key` to `units` in `map`, dropping it at zero.
fn set_or_drop(map: &mut BTreeMap<String, i64>, key: &str, units: i64) {
    if units == 0 {
        map.remove(key);
    } else {
        map.insert(key.to_string(), units);
    }
}

/// The name of a listed marketplace item as the holder of an allotment: `{marketplace}:{item}`
/// (an item may itself hold a colon, as Yahoo's `code:subcode` does; the marketplace never does).
pub fn holder(marketplace: Marketplace, item: &str) -> String {
    format!("{marketplace}:{}", item.trim())
}

/// The allotment key of the units a holder's lower number gave up on a mall that shows writes
/// late (Qoo10): they stay allotted, to no item, until the mall shows the lower number, as the
/// mall still sells the old one meanwhile. Prefixed so that it never names a listed item.
pub fn shrinking(holder: &str) -> String {
    format!("shrinking>{holder}")
}

/// The allotment key of the units that cover what a mall shows of an item beyond the ledger (a
/// rise not explained yet, or drift staff have not decided): kept from the free units so the
/// malls together show no more than the shop has, but not the item's allotment, so the next run
/// still compares the mall's number with the ledger's. Prefixed so that it never names an item.
pub fn covering(holder: &str) -> String {
    format!("covering>{holder}")
}

/// One shop SKU a marketplace item takes, and how many units of it per item sold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Part {
    /// The shop's SKU.
    pub sku: String,
    /// Units of it per item.
    pub units: u32,
}

impl std::str::FromStr for Part {
    type Err = String;

    /// `SKU` (one unit) or `SKU*UNITS` (units 1 or more); the refusal is in staff's words.
    fn from_str(text: &str) -> Result<Part, String> {
        let (sku, units) = match text.rsplit_once('*') {
            Some((sku, n)) => (sku, n.trim().parse::<u32>().ok().filter(|n| *n > 0)),
            None => (text, Some(1)),
        };
        match (sku.trim(), units) {
            ("", _) | (_, None) => Err(format!("「{text}」: SKU か SKU*個数(1以上) で書いてください")),
            (sku, Some(units)) => Ok(Part { sku: sku.to_string(), units }),
        }
    }
}

/// What one marketplace item takes of the shop's stock: its identity on the marketplace (the
/// order line's `sku`: 楽天 SKU管理番号, Yahoo code:subcode, Amazon seller SKU, au PAY and Qoo10
/// item and option codes) and the shop SKUs it is made of. An item with no listing whose identity
/// is itself a shop SKU takes one unit of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Listing {
    /// The marketplace.
    pub marketplace: Marketplace,
    /// The item's identity there.
    pub item: String,
    /// What one item takes (several parts: a set).
    pub parts: Vec<Part>,
}

/// How an order holds its units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HoldState {
    /// Open: the units are reserved.
    Reserved,
    /// Shipped: the units left the shop (taken from on hand).
    Consumed,
    /// Cancelled, or held by the marketplace's own warehouse: nothing held.
    Released,
}

/// The version of an order a holding was computed from: its marketplace time, then how far it
/// has come (the processor's rule of "newer", `process.rs`). A holding of an older version than
/// the one applied is ignored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Version {
    /// The order's `source_updated_at`.
    pub updated_at: DateTime<FixedOffset>,
    /// Its stage (open, ready, shipped, cancelled) and parcels with tracking.
    pub progress: (u8, usize),
}

/// What an order holds of the stock: units per shop SKU, and how.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holding {
    /// Units per shop SKU.
    pub units: BTreeMap<String, i64>,
    /// How.
    pub state: HoldState,
    /// The same units per listed item of the order ([`holder`] → SKU → units): whose allotment
    /// each unit is taken from. Empty for holdings recorded before allotments.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub by_item: BTreeMap<String, BTreeMap<String, i64>>,
    /// The order version it was computed from (none: unknown, never ignored).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<Version>,
}

impl Holding {
    /// Nothing held.
    pub fn none() -> Holding {
        Holding { units: BTreeMap::new(), state: HoldState::Released, by_item: BTreeMap::new(), version: None }
    }

    /// Units reserved per (holder, SKU).
    fn reserved_by_item(&self) -> BTreeMap<(String, String), i64> {
        if self.state != HoldState::Reserved {
            return BTreeMap::new();
        }
        self.by_item
            .iter()
            .flat_map(|(h, skus)| skus.iter().map(move |(sku, u)| ((h.clone(), sku.clone()), *u)))
            .collect()
    }

    /// What `next` changes in each holder's reserve, per (SKU, holder): positive, units the
    /// holder's orders newly reserve; negative, units released (cancelled, or the order takes
    /// fewer). Shipping changes nothing here: shipped units were drawn when reserved.
    pub fn draws(&self, next: &Holding) -> Vec<(String, String, i64)> {
        if next.state == HoldState::Consumed {
            return Vec::new();
        }
        let (before, after) = (self.reserved_by_item(), next.reserved_by_item());
        let keys: std::collections::BTreeSet<&(String, String)> = before.keys().chain(after.keys()).collect();
        keys.into_iter()
            .map(|k| (k, after.get(k).copied().unwrap_or(0) - before.get(k).copied().unwrap_or(0)))
            .filter(|(_, d)| *d != 0)
            .map(|((holder, sku), d)| (sku.clone(), holder.clone(), d))
            .collect()
    }

    /// Units reserved of `sku`.
    pub fn reserved(&self, sku: &str) -> i64 {
        if self.state == HoldState::Reserved { self.units.get(sku).copied().unwrap_or(0) } else { 0 }
    }

    /// Units consumed of `sku`.
    pub fn consumed(&self, sku: &str) -> i64 {
        if self.state == HoldState::Consumed { self.units.get(sku).copied().unwrap_or(0) } else { 0 }
    }

    /// What `next` changes from this holding, per SKU: (on hand, reserved) deltas, SKUs with no
    /// change left out. Consumed units stay consumed: goods that left the shop do not come back
    /// to it by an order's later cancellation (a return is counted by staff).
    pub fn deltas(&self, next: &Holding) -> Vec<(String, i64, i64)> {
        let next = if self.state == HoldState::Consumed {
            Holding { state: HoldState::Consumed, ..self.clone() }
        } else {
            next.clone()
        };
        let skus: std::collections::BTreeSet<&String> = self.units.keys().chain(next.units.keys()).collect();
        skus.into_iter()
            .map(|sku| {
                let on_hand = -(next.consumed(sku) - self.consumed(sku));
                let reserved = next.reserved(sku) - self.reserved(sku);
                (sku.clone(), on_hand, reserved)
            })
            .filter(|(_, a, b)| *a != 0 || *b != 0)
            .collect()
    }
}

/// What applying an order's next holding does: the holding to store and each SKU's (on hand,
/// reserved) move. The one rule both stock adapters follow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// The holding to store.
    pub keep: Holding,
    /// (SKU, on hand, reserved) moves; may be empty when only the holding is recorded.
    pub moves: Vec<(String, i64, i64)>,
    /// (SKU, holder, units) reserved from (positive) or released by (negative) each holder:
    /// moves of the allotments ([`Stock::apply`]).
    pub draws: Vec<(String, String, i64)>,
}

impl Step {
    /// What making an order's holding `next` does, given what it held before (`None`: nothing
    /// was ever recorded for it). `None`: nothing to write (a replay, a consumed holding, an order
    /// that never held and holds nothing). An order first known to the stock already shipped
    /// moves nothing: its goods left before ichigen counted them (history from before the stock
    /// master, as no thank-you goes to an order first seen shipped); its holding is recorded so
    /// that a later cancellation gives nothing back either.
    ///
    /// A holding computed from an older version of the order than the one applied moves nothing
    /// (the puller applies what it pulled before the processor does; a copy it read before a
    /// cancellation must not reserve again).
    pub fn of(prev: Option<&Holding>, next: &Holding) -> Option<Step> {
        if let (Some(before), Some(now)) = (prev.and_then(|p| p.version), next.version)
            && now < before
        {
            return None;
        }
        match prev {
            Some(p) if p.state == HoldState::Consumed || p == next => None,
            Some(p) => Some(Step { keep: next.clone(), moves: p.deltas(next), draws: p.draws(next) }),
            None if next.state == HoldState::Consumed => {
                Some(Step { keep: next.clone(), moves: Vec::new(), draws: Vec::new() })
            }
            // An order first seen cancelled moves nothing; its units count as cancelled for
            // their items (the mall may have sold them and kept them off its shelf).
            None if next.state == HoldState::Released => Some(Step {
                keep: next.clone(),
                moves: Vec::new(),
                draws: next
                    .by_item
                    .iter()
                    .flat_map(|(h, skus)| skus.iter().map(move |(sku, u)| (sku.clone(), h.clone(), -u)))
                    .collect(),
            })
            .filter(|s| !s.draws.is_empty() || next.version.is_some()),
            None => {
                let none = Holding::none();
                let moves = none.deltas(next);
                // A versioned holding that moves nothing (an order first seen cancelled) is still
                // recorded, so that an older copy arriving later cannot reserve.
                (!moves.is_empty() || next.version.is_some()).then(|| Step {
                    keep: next.clone(),
                    moves,
                    draws: none.draws(next),
                })
            }
        }
    }

    /// The SKUs whose rows the step changes.
    pub fn skus(&self) -> std::collections::BTreeSet<&str> {
        self.moves.iter().map(|m| m.0.as_str()).chain(self.draws.iter().map(|d| d.0.as_str())).collect()
    }

    /// Why its moves are made, in staff's words (`ichigen stock history`).
    pub fn why(&self) -> &'static str {
        match self.keep.state {
            HoldState::Reserved => "注文で引当",
            HoldState::Consumed => "出荷",
            HoldState::Released => "キャンセルで引当解除",
        }
    }
}

/// A change of one SKU's stock, recorded with who and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StockChange {
    /// The SKU.
    pub sku: String,
    /// When.
    pub at: DateTime<FixedOffset>,
    /// Who (a staff member, or `ichigen` for an order's holding).
    pub who: String,
    /// Why, in staff's words or the order's.
    pub why: String,
    /// Change of on hand.
    pub on_hand: i64,
    /// Change of reserved.
    pub reserved: i64,
    /// The order that made it, if one.
    pub order: Option<OrderKey>,
}

/// What staff do to one SKU's on-hand count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Count {
    /// It is now this many (a stocktake).
    Set(i64),
    /// This many more (or fewer: a delivery in, a breakage out).
    Adjust(i64),
}

/// Who moves stock for an order (`StockChange::who`).
pub const BY_ORDERS: &str = "ichigen";

/// Who changes stock by hand, why and when.
#[derive(Debug, Clone, Copy)]
pub struct Edit<'a> {
    /// The staff member.
    pub who: &'a str,
    /// Why, in their words.
    pub why: &'a str,
    /// When.
    pub at: DateTime<FixedOffset>,
}

/// Where the stock master, the listings and the orders' holdings are kept.
pub trait StockStore: Send + Sync {
    /// The shop's SKUs, by SKU.
    fn stocks(&self, shop_id: &str) -> impl Future<Output = Result<Vec<Stock>, PortError>> + Send;

    /// Sets or adjusts one SKU's on-hand count (creating it, with `name`, if new); records the
    /// change. Returns the SKU after it.
    fn count(
        &self,
        shop_id: &str,
        sku: &str,
        name: Option<&str>,
        count: Count,
        by: &Edit<'_>,
    ) -> impl Future<Output = Result<Stock, PortError>> + Send;

    /// The shop's listings.
    fn listings(&self, shop_id: &str) -> impl Future<Output = Result<Vec<Listing>, PortError>> + Send;

    /// Records (or replaces) what a marketplace item takes.
    fn put_listing(&self, shop_id: &str, listing: &Listing) -> impl Future<Output = Result<(), PortError>> + Send;

    /// Makes `order`'s holding `next`, in one atomic step: the SKUs' counts move by the
    /// difference from what the order held before ([`Holding::deltas`]), each move recorded.
    /// Returns the moves made (empty: nothing changed, as for a replay).
    fn apply_holding(
        &self,
        order: &OrderKey,
        next: &Holding,
        at: DateTime<FixedOffset>,
    ) -> impl Future<Output = Result<Vec<StockChange>, PortError>> + Send;

    /// One SKU's latest `limit` changes, newest first.
    fn changes(
        &self,
        shop_id: &str,
        sku: &str,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<StockChange>, PortError>> + Send;

    /// Writes `ledger`'s allotments and counters (`allotted`, `cancelled`, `drawn`) onto its
    /// SKU's row if the row is still at `ledger.seq`, moving it to the next seq; the counts are
    /// left as they are. False: the row changed since it was read (read it again).
    fn put_ledger(&self, shop_id: &str, ledger: &Stock) -> impl Future<Output = Result<bool, PortError>> + Send;

    /// The pair's push record (`None`: never pushed).
    fn push_state(
        &self,
        shop_id: &str,
        marketplace: Marketplace,
    ) -> impl Future<Output = Result<Option<push::PushState>, PortError>> + Send;

    /// Writes the pair's push record at `state.rev`, over revision `expected` (`None`: a new
    /// record). Written::Conflict: someone else wrote it meanwhile.
    fn put_push_state(
        &self,
        state: &push::PushState,
        expected: Option<u64>,
    ) -> impl Future<Output = Result<crate::pipeline::Written, PortError>> + Send;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allotments_are_summed_per_mall_and_the_prefixed_keys_apart() {
        let at = chrono::DateTime::parse_from_rfc3339("2026-12-07T10:00:00+09:00").unwrap();
        let mut s = Stock::empty("MUG-WHT", at);
        s.allot(&holder(Marketplace::Rakuten, "mug-wht"), 3);
        s.allot(&holder(Marketplace::Rakuten, "gift-set"), 2);
        // Yahoo's items hold a colon of their own (code:subcode).
        s.allot(&holder(Marketplace::Yahoo, "mug:wht"), 4);
        s.allot(&holder(Marketplace::Qoo10, "q-1"), 1);
        s.allot(&shrinking(&holder(Marketplace::Qoo10, "q-1")), 2);
        s.allot(&covering(&holder(Marketplace::Amazon, "MUG-WHT-FBM")), 5);
        let a = s.allotted_by_marketplace();
        assert_eq!(a.by_mall, [5, 4, 0, 0, 1]);
        assert_eq!(a.apart, 7);
        assert_eq!(a.of(Marketplace::Yahoo), 4);
        assert_eq!(a.of(Marketplace::Amazon), 0, "a cover is not the mall's item's allotment");
        assert_eq!(a.of(Marketplace::Csv), 0);
        assert_eq!(a.by_mall.iter().sum::<i64>() + a.apart, s.allotted_total());
        assert_eq!(Stock::empty("TEA", at).allotted_by_marketplace(), MallAllotments { by_mall: [0; 5], apart: 0 });
    }
}
