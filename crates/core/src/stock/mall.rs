//! A marketplace's own stock numbers (在庫連携), as the use case needs them: set an item's number
//! absolutely, read what the mall shows now. An item is addressed by its identity on that
//! marketplace exactly as the order lines carry it ([`super::Listing::item`]); each client maps it
//! to the mall's own key (楽天 manageNumber + variantId, Yahoo code:subcode, Amazon seller SKU,
//! au PAY item and option codes, Qoo10 item and option codes).
//!
//! Writes are absolute, so writing the same numbers again is harmless: a call that failed part
//! way is simply made again.

use std::future::Future;

use crate::order::Marketplace;

/// The number one marketplace item is to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quantity {
    /// The item's identity on the marketplace (the order line's `sku`).
    pub item: String,
    /// Units to show buyers.
    pub units: u32,
}

/// What became of one item of a write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SetOutcome {
    /// The mall took the number. Where a mall accepts an unknown item silently (楽天, Yahoo,
    /// Amazon) this is also the answer for a typo: only a read-back finds it.
    Written,
    /// The mall refused this item's number (the others may have been taken).
    Refused {
        /// The mall's code, or the client's own when it refused before calling.
        code: String,
        /// Why, in the mall's or the client's words (never buyer data).
        reason: String,
    },
    /// The mall said it has no such item.
    Unknown,
    /// Not written on purpose: the mall keeps this item's stock itself (Amazon FBA — a quantity
    /// would switch it to merchant-fulfilled).
    MallManaged,
}

/// One item's answer to a write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemSet {
    /// The item, as given.
    pub item: String,
    /// What became of it.
    pub outcome: SetOutcome,
}

/// What the mall shows for one item now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shown {
    /// This many units.
    Units(i64),
    /// The mall has no such item (a typo, a deleted item, an unknown item it took silently).
    Missing,
    /// The mall keeps this item's stock itself (Amazon FBA); its number is not the shop's.
    MallManaged(i64),
}

/// One item's answer to a read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemShown {
    /// The item, as given.
    pub item: String,
    /// What the mall shows.
    pub shown: Shown,
}

/// How a failed stock call must be acted on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// Later may work (throttled, the mall's server, the network, maintenance).
    Retryable,
    /// The credentials were refused or have expired: nothing reaches this mall until a person
    /// renews them (drives the alarm).
    Credentials,
    /// The request itself was refused or the answer could not be read: trying again will not help.
    Permanent,
}

/// An error of a stock call, classified.
pub trait StockFailure {
    /// How to act on it.
    fn failure(&self) -> Failure;
}

/// One shop's stock on one marketplace.
pub trait MallStock: Send + Sync {
    /// The client's error.
    type Error: std::error::Error + StockFailure + Send + Sync + 'static;

    /// Which marketplace.
    fn marketplace(&self) -> Marketplace;

    /// The most items the mall takes in one write call (楽天 400, Yahoo 1,000, Amazon 1, au PAY
    /// 200, Qoo10 500).
    fn max_items_per_write(&self) -> usize;

    /// The most items the mall reads in one call.
    fn max_items_per_read(&self) -> usize;

    /// Sets each item's number, in calls of at most [`MallStock::max_items_per_write`] items,
    /// within the shop's rate budget, retrying what is retryable. One answer per item, in the
    /// order given. An error means some calls may not have been made: make the call again.
    fn set_quantities(&self, items: &[Quantity]) -> impl Future<Output = Result<Vec<ItemSet>, Self::Error>> + Send;

    /// What the mall shows now for each item (one answer per item, in the order given), in calls
    /// of at most [`MallStock::max_items_per_read`] items. A write shows only after the mall's
    /// own delay.
    fn read_quantities(&self, items: &[String]) -> impl Future<Output = Result<Vec<ItemShown>, Self::Error>> + Send;
}
