//! Orders move stock: the one use case every path that stores an order calls after its write
//! (the processor — also for an order it finds unchanged, so a crash between the write and this
//! step is healed by the redelivery —, staff release and hold, a recorded tracking number). It
//! applies the order's holding ([`holding::target`]) through [`StockStore::apply_holding`], which
//! moves each SKU by the difference from what the order held before: calling it again moves
//! nothing. A shop without a stock master (no SKUs, no listings) is left exactly as before.

use chrono::{DateTime, FixedOffset};
use serde_json::json;

use crate::finding::{Finding, FindingCode};
use crate::order::{Marketplace, Order};
use crate::rules::Rules;
use crate::stock::holding::{self, Catalogue};
use crate::stock::push::PushState;
use crate::stock::{Count, Edit, Holding, Listing, Stock, StockChange, StockStore};

use super::ports::{OrderStore, PortError, Written};
use super::stored::{OrderKey, StoredOrder};

/// No stock store: every shop is a shop without a stock master. What the processor and the staff
/// paths use when they are built without one (`Processor::with_stock` replaces it).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoStock;

impl StockStore for NoStock {
    async fn stocks(&self, _shop_id: &str) -> Result<Vec<Stock>, PortError> {
        Ok(Vec::new())
    }

    async fn count(
        &self,
        _shop_id: &str,
        _sku: &str,
        _name: Option<&str>,
        _count: Count,
        _by: &Edit<'_>,
    ) -> Result<Stock, PortError> {
        Err(PortError::permanent("count stock", "no stock store is configured"))
    }

    async fn listings(&self, _shop_id: &str) -> Result<Vec<Listing>, PortError> {
        Ok(Vec::new())
    }

    async fn put_listing(&self, _shop_id: &str, _listing: &Listing) -> Result<(), PortError> {
        Err(PortError::permanent("put listing", "no stock store is configured"))
    }

    async fn apply_holding(
        &self,
        _order: &OrderKey,
        _next: &Holding,
        _at: DateTime<FixedOffset>,
    ) -> Result<Vec<StockChange>, PortError> {
        Ok(Vec::new())
    }

    async fn changes(&self, _shop_id: &str, _sku: &str, _limit: usize) -> Result<Vec<StockChange>, PortError> {
        Ok(Vec::new())
    }

    async fn put_ledger(&self, _shop_id: &str, _ledger: &Stock) -> Result<bool, PortError> {
        Err(PortError::permanent("put stock ledger", "no stock store is configured"))
    }

    async fn push_state(&self, _shop_id: &str, _marketplace: Marketplace) -> Result<Option<PushState>, PortError> {
        Ok(None)
    }

    async fn put_push_state(&self, _state: &PushState, _expected: Option<u64>) -> Result<Written, PortError> {
        Err(PortError::permanent("put stock push record", "no stock store is configured"))
    }
}

/// The shop's catalogue (listings and SKUs): how its order lines find their stock. Empty for a
/// shop without a stock master.
pub async fn catalogue<K: StockStore>(stock: &K, shop_id: &str) -> Result<Catalogue, PortError> {
    let listings = stock.listings(shop_id).await?;
    let skus = stock.stocks(shop_id).await?.into_iter().map(|s| s.sku);
    Ok(Catalogue::new(listings, skus))
}

/// A `stock.unmapped` finding for each item of `order` that takes no SKU of the shop's stock
/// master, with the severity the shop's rules give it (none when they switch it off). Evidence:
/// the marketplace and the item's identity there, nothing about the buyer.
pub fn unmapped_findings(order: &Order, catalogue: &Catalogue, rules: &Rules) -> Vec<Finding> {
    let Some(severity) = rules.severity_of(FindingCode::StockUnmapped) else {
        return Vec::new();
    };
    holding::unmapped(order, catalogue)
        .into_iter()
        .map(|u| Finding {
            code: FindingCode::StockUnmapped,
            severity,
            message: u.to_string(),
            evidence: json!({ "marketplace": u.marketplace.as_str(), "item": u.item }),
        })
        .collect()
}

/// Applies `stored`'s holding under `catalogue`; returns the moves made (none: nothing changed,
/// no stock master, or an unmapped item — which its `stock.unmapped` finding reports — leaves
/// the holding unknown until staff map it and the order is stored again).
pub async fn settle<K: StockStore>(
    stock: &K,
    catalogue: &Catalogue,
    stored: &StoredOrder,
    now: DateTime<FixedOffset>,
) -> Result<Vec<StockChange>, PortError> {
    if catalogue.is_empty() {
        return Ok(Vec::new());
    }
    match holding::target(stored, catalogue) {
        Ok(next) => stock.apply_holding(&stored.key(), &next, now).await,
        Err(_) => Ok(Vec::new()),
    }
}

/// Holds every open order already stored, under the shop's catalogue as it is now: for a shop
/// that loads its stock master (or new listings) while orders are open, whose units would
/// otherwise stay available — and be pushed to the malls — until the processor stores each order
/// again. Orders already held move nothing. Returns the orders that moved stock.
pub async fn settle_open<S: OrderStore, K: StockStore>(
    orders: &S,
    stock: &K,
    shop_id: &str,
    now: DateTime<FixedOffset>,
) -> Result<usize, PortError> {
    let catalogue = catalogue(stock, shop_id).await?;
    if catalogue.is_empty() {
        return Ok(0);
    }
    let mut moved = 0;
    for status in crate::order::OrderStatus::OPEN {
        for stored in orders.list_by_status(shop_id, status, None, None).await? {
            moved += usize::from(!settle(stock, &catalogue, &stored, now).await?.is_empty());
        }
    }
    Ok(moved)
}

/// [`settle`] with the shop's catalogue read now: for the staff paths, one order at a time.
pub async fn settle_now<K: StockStore>(
    stock: &K,
    stored: &StoredOrder,
    now: DateTime<FixedOffset>,
) -> Result<Vec<StockChange>, PortError> {
    let catalogue = catalogue(stock, &stored.order.shop_id).await?;
    settle(stock, &catalogue, stored, now).await
}
