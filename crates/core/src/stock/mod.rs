//! 在庫: the shop's stock master (one real quantity per shop SKU), what each marketplace item
//! takes of it (1:1 or a set), and what each order holds of it. Orders move stock exactly once:
//! an order's holding is a function of the order as it is now ([`holding::target`]), and the
//! store applies the difference from what it held before in one atomic step
//! ([`StockStore::apply_holding`]) — a redelivered or re-read order changes nothing, a
//! cancellation releases, shipping consumes.

pub mod file;
pub mod holding;
pub mod mall;

use std::collections::BTreeMap;
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
}

impl Stock {
    /// Units that can still be sold: on hand and not held by an order (negative: oversold).
    pub fn available(&self) -> i64 {
        self.on_hand - self.reserved
    }
}

/// One shop SKU a marketplace item takes, and how many units of it per item sold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Part {
    /// The shop's SKU.
    pub sku: String,
    /// Units of it per item.
    pub units: u32,
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

/// What an order holds of the stock: units per shop SKU, and how.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holding {
    /// Units per shop SKU.
    pub units: BTreeMap<String, i64>,
    /// How.
    pub state: HoldState,
}

impl Holding {
    /// Nothing held.
    pub fn none() -> Holding {
        Holding { units: BTreeMap::new(), state: HoldState::Released }
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
            Holding { units: self.units.clone(), state: HoldState::Consumed }
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
}

impl Step {
    /// What making an order's holding `next` does, given what it held before (`None`: nothing
    /// was ever recorded for it). `None`: nothing to write (a replay, a consumed holding, an order
    /// that never held and holds nothing). An order first known to the stock already shipped
    /// moves nothing: its goods left before ichigen counted them (history from before the stock
    /// master, as no thank-you goes to an order first seen shipped); its holding is recorded so
    /// that a later cancellation gives nothing back either.
    pub fn of(prev: Option<&Holding>, next: &Holding) -> Option<Step> {
        match prev {
            Some(p) if p.state == HoldState::Consumed || p == next => None,
            Some(p) => Some(Step { keep: next.clone(), moves: p.deltas(next) }),
            None if next.state == HoldState::Consumed => Some(Step { keep: next.clone(), moves: Vec::new() }),
            None => {
                let moves = Holding::none().deltas(next);
                (!moves.is_empty()).then(|| Step { keep: next.clone(), moves })
            }
        }
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
}
