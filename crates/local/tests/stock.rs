//! The stock master on the SQLite store: the stock store contract (`ichigen_testkit::stock`:
//! staff counts with their history, orders moving stock exactly once — a replayed order changes
//! nothing, shipping consumes, a cancellation releases, a set takes each of its parts, goods
//! shipped are not given back by a later cancellation, concurrent applies move once), and how
//! order lines find their SKUs.
#![allow(clippy::unwrap_used)]

use ichigen_core::stock::holding::{Catalogue, target};
use ichigen_core::{Marketplace, OrderStatus};
use ichigen_local::SqliteStore;
use ichigen_testkit::stock::{self as contract, order};

#[tokio::test]
async fn staff_counts_are_kept_with_who_and_why() {
    contract::staff_counts_are_kept_with_who_and_why(&SqliteStore::open_in_memory().unwrap()).await;
}

#[tokio::test]
async fn an_order_moves_stock_once_through_reserve_ship_and_cancel() {
    contract::an_order_moves_stock_once_through_reserve_ship_and_cancel(&SqliteStore::open_in_memory().unwrap()).await;
}

#[tokio::test]
async fn an_order_first_known_shipped_moves_nothing() {
    contract::an_order_first_known_shipped_moves_nothing(&SqliteStore::open_in_memory().unwrap()).await;
}

#[tokio::test]
async fn concurrent_applies_move_once() {
    contract::concurrent_applies_move_once(&SqliteStore::open_in_memory().unwrap()).await;
}

#[test]
fn an_item_no_listing_or_sku_names_is_unmapped_and_fba_takes_nothing() {
    let catalogue = Catalogue::new(Vec::new(), ["MUG".to_string()]);
    let e = target(&order("R-3", &[("MUG", 1), ("unknown-item", 1)], OrderStatus::New), &catalogue).unwrap_err();
    assert_eq!(e.len(), 1);
    assert_eq!((e[0].marketplace, e[0].item.as_str()), (Marketplace::Rakuten, "unknown-item"));
    assert!(e[0].to_string().contains("ichigen stock map"));
    let mut fba = order("R-4", &[("MUG", 1)], OrderStatus::New);
    fba.order.fulfilled_by_marketplace = true;
    assert!(target(&fba, &catalogue).unwrap().units.is_empty());
    // Every parcel with a tracking number recorded by the shop: consumed, before the marketplace says so.
    let mut ready = order("R-6", &[("MUG", 2)], OrderStatus::ReadyToShip);
    assert_eq!(target(&ready, &catalogue).unwrap().state, ichigen_core::stock::HoldState::Reserved);
    ready.parcel_mut(1).tracking = Some(ichigen_core::order::Tracking {
        carrier: ichigen_core::order::Carrier::Yamato,
        number: "123456789012".into(),
        shipped_at: None,
        shipment_id: None,
    });
    assert_eq!(target(&ready, &catalogue).unwrap().state, ichigen_core::stock::HoldState::Consumed);
}

#[tokio::test]
async fn orders_draw_from_their_items_allotment() {
    contract::orders_draw_from_their_items_allotment(&SqliteStore::open_in_memory().unwrap()).await;
}

#[tokio::test]
async fn push_records_are_kept_per_pair_by_revision() {
    contract::push_records_are_kept_per_pair_by_revision(&SqliteStore::open_in_memory().unwrap()).await;
}
