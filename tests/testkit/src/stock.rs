//! The stock store contract: one body per behaviour, run against every adapter of
//! [`StockStore`] (the SQLite store in `crates/local/tests/stock.rs`, DynamoDB on moto in
//! `crates/aws/tests/aws/stock.rs`). Each panics on the first difference.
#![allow(clippy::unwrap_used, clippy::missing_panics_doc)]

use chrono::{DateTime, FixedOffset};
use ichigen_core::pipeline::StoredOrder;
use ichigen_core::sample::SampleOrders;
use ichigen_core::stock::holding::{Catalogue, target};
use ichigen_core::stock::{Count, Edit, Listing, Part, StockStore};
use ichigen_core::{Item, Marketplace, OrderStatus};

/// The shop every body works in.
pub const SHOP: &str = "s1";

fn at() -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339("2026-12-07T10:00:00+09:00").unwrap()
}

fn staff(why: &str) -> Edit<'_> {
    Edit { who: "山田", why, at: at() }
}

/// A stored 楽天 order of [`SHOP`] with these (item, quantity) lines and status.
pub fn order(id: &str, items: &[(&str, u32)], status: OrderStatus) -> StoredOrder {
    let mut o = SampleOrders::new(3).clean_order(Marketplace::Rakuten, 1);
    o.shop_id = SHOP.into();
    o.order_id = id.into();
    o.status = status;
    o.items = items
        .iter()
        .map(|(sku, quantity)| Item {
            sku: (*sku).into(),
            name: "品".into(),
            quantity: *quantity,
            unit_price: 1000,
            options: vec![],
        })
        .collect();
    StoredOrder {
        hold_episode: 0,
        ship_with: None,
        acknowledgement: None,
        stored_at: o.ordered_at,
        status: o.status,
        order: o,
        findings: Vec::new(),
        staff: Default::default(),
        mails_due: Vec::new(),
        parcels: Vec::new(),
        content_fp: "c".into(),
        check_fp: "k".into(),
        bundle_key: None,
        rev: 1,
        expires_at: None,
    }
}

/// (SKU, on hand, reserved) of each SKU.
pub async fn counts<S: StockStore>(store: &S) -> Vec<(String, i64, i64)> {
    store.stocks(SHOP).await.unwrap().into_iter().map(|s| (s.sku, s.on_hand, s.reserved)).collect()
}

/// Applies `s`'s holding under the shop's catalogue as stored now; the number of moves.
pub async fn settle<S: StockStore>(store: &S, s: &StoredOrder) -> usize {
    let catalogue = Catalogue::new(
        store.listings(SHOP).await.unwrap(),
        store.stocks(SHOP).await.unwrap().into_iter().map(|s| s.sku),
    );
    let holding = target(s, &catalogue).unwrap();
    store.apply_holding(&s.key(), &holding, at()).await.unwrap().len()
}

/// Staff counts set and adjust on hand, keep the name, and are listed newest first with who and why.
pub async fn staff_counts_are_kept_with_who_and_why<S: StockStore>(store: &S) {
    let s = store.count(SHOP, "MUG", Some("マグカップ"), Count::Set(10), &staff("棚卸")).await.unwrap();
    assert_eq!((s.on_hand, s.reserved, s.name.as_str()), (10, 0, "マグカップ"));
    let s = store.count(SHOP, "MUG", None, Count::Adjust(-2), &staff("破損")).await.unwrap();
    assert_eq!((s.on_hand, s.name.as_str()), (8, "マグカップ"));
    let s = store.count(SHOP, "MUG", None, Count::Set(5), &staff("棚卸")).await.unwrap();
    assert_eq!(s.on_hand, 5);
    // Another SKU whose name starts like it keeps its own history.
    store.count(SHOP, "MUG#2", None, Count::Set(1), &staff("入荷")).await.unwrap();
    let history = store.changes(SHOP, "MUG", 10).await.unwrap();
    let seen: Vec<(i64, &str, &str)> = history.iter().map(|c| (c.on_hand, c.who.as_str(), c.why.as_str())).collect();
    assert_eq!(seen, vec![(-3, "山田", "棚卸"), (-2, "山田", "破損"), (10, "山田", "棚卸")]);
    assert_eq!(store.changes(SHOP, "MUG", 1).await.unwrap().len(), 1);
}

/// An order reserves once (replays and same-holding statuses move nothing), shipping consumes,
/// a cancellation after shipping gives nothing back, a cancellation before it releases; a set
/// takes each of its parts.
pub async fn an_order_moves_stock_once_through_reserve_ship_and_cancel<S: StockStore>(store: &S) {
    store.count(SHOP, "MUG", None, Count::Set(10), &staff("入荷")).await.unwrap();
    store.count(SHOP, "TEA", None, Count::Set(10), &staff("入荷")).await.unwrap();
    // A gift set on 楽天: one item takes two mugs and one tea.
    let set = Listing {
        marketplace: Marketplace::Rakuten,
        item: "gift-set".into(),
        parts: vec![Part { sku: "MUG".into(), units: 2 }, Part { sku: "TEA".into(), units: 1 }],
    };
    store.put_listing(SHOP, &set).await.unwrap();
    assert_eq!(store.listings(SHOP).await.unwrap(), vec![set]);

    let new = order("R-1", &[("gift-set", 2), ("TEA", 1)], OrderStatus::New);
    assert_eq!(settle(store, &new).await, 2);
    assert_eq!(counts(store).await, vec![("MUG".into(), 10, 4), ("TEA".into(), 10, 3)]);
    // The same order again (a redelivery, a re-read, a status that holds the same): nothing moves.
    assert_eq!(settle(store, &new).await, 0);
    let ready = order("R-1", &[("gift-set", 2), ("TEA", 1)], OrderStatus::ReadyToShip);
    assert_eq!(settle(store, &ready).await, 0);
    assert_eq!(counts(store).await, vec![("MUG".into(), 10, 4), ("TEA".into(), 10, 3)]);

    // Shipped: the units leave the shop.
    let shipped = order("R-1", &[("gift-set", 2), ("TEA", 1)], OrderStatus::Shipped);
    assert_eq!(settle(store, &shipped).await, 2);
    assert_eq!(counts(store).await, vec![("MUG".into(), 6, 0), ("TEA".into(), 7, 0)]);
    assert_eq!(settle(store, &shipped).await, 0);
    // Cancelled after shipping: what left the shop does not come back by itself.
    let late_cancel = order("R-1", &[("gift-set", 2), ("TEA", 1)], OrderStatus::Cancelled);
    assert_eq!(settle(store, &late_cancel).await, 0);
    assert_eq!(counts(store).await, vec![("MUG".into(), 6, 0), ("TEA".into(), 7, 0)]);

    // Another order reserved, then cancelled: released.
    let other = order("R-2", &[("MUG", 3)], OrderStatus::AwaitingPayment);
    settle(store, &other).await;
    assert_eq!(counts(store).await[0], ("MUG".into(), 6, 3));
    settle(store, &order("R-2", &[("MUG", 3)], OrderStatus::Cancelled)).await;
    assert_eq!(counts(store).await[0], ("MUG".into(), 6, 0));
    let history = store.changes(SHOP, "MUG", 10).await.unwrap();
    assert_eq!(history[0].why, "キャンセルで引当解除");
    assert_eq!(history[0].order.as_ref().map(|k| k.order_id.as_str()), Some("R-2"));
}

/// An order first known to the stock already shipped moves nothing (its goods left before the
/// stock was counted), and its later cancellation gives nothing back.
pub async fn an_order_first_known_shipped_moves_nothing<S: StockStore>(store: &S) {
    store.count(SHOP, "MUG", None, Count::Set(5), &staff("棚卸")).await.unwrap();
    assert_eq!(settle(store, &order("R-9", &[("MUG", 2)], OrderStatus::Shipped)).await, 0);
    assert_eq!(settle(store, &order("R-9", &[("MUG", 2)], OrderStatus::Cancelled)).await, 0);
    assert_eq!(counts(store).await, vec![("MUG".into(), 5, 0)]);
}

/// Two applies of the same holding at once (two deliveries of one message) move it once.
pub async fn concurrent_applies_move_once<S: StockStore>(store: &S) {
    store.count(SHOP, "MUG", None, Count::Set(10), &staff("入荷")).await.unwrap();
    let new = order("R-5", &[("MUG", 3)], OrderStatus::New);
    let (a, b) = tokio::join!(settle(store, &new), settle(store, &new));
    assert_eq!(a + b, 1, "one of the two applies moved the SKU");
    assert_eq!(counts(store).await, vec![("MUG".into(), 10, 3)]);
    // A count racing an apply: both land.
    let cancel = order("R-5", &[("MUG", 3)], OrderStatus::Cancelled);
    let delivery = staff("入荷");
    let (_, counted) =
        tokio::join!(settle(store, &cancel), store.count(SHOP, "MUG", None, Count::Adjust(5), &delivery));
    counted.unwrap();
    assert_eq!(counts(store).await, vec![("MUG".into(), 15, 0)]);
}

/// The SKU row of `sku`.
pub async fn row<S: StockStore>(store: &S, sku: &str) -> ichigen_core::stock::Stock {
    store.stocks(SHOP).await.unwrap().into_iter().find(|s| s.sku == sku).unwrap()
}

/// The allotment ledger: a ledger write is conditional on the row's seq and leaves the counts;
/// an order's reserve takes its units out of its item's allotment (the rest from the free
/// units) and counts them as drawn, its cancellation counts them as cancelled, shipping leaves
/// the allotments; a holding of an older version of the order moves nothing.
pub async fn orders_draw_from_their_items_allotment<S: StockStore>(store: &S) {
    use ichigen_core::stock::holder;
    store.count(SHOP, "MUG", None, Count::Set(10), &staff("入荷")).await.unwrap();
    let mut r = row(store, "MUG").await;
    let rakuten = holder(Marketplace::Rakuten, "MUG");
    let yahoo = holder(Marketplace::Yahoo, "mug-y");
    r.allot(&rakuten, 2);
    r.allot(&yahoo, 5);
    let stale = r.clone();
    assert!(store.put_ledger(SHOP, &r).await.unwrap());
    assert!(!store.put_ledger(SHOP, &stale).await.unwrap(), "a write over a seq that moved is refused");
    let r = row(store, "MUG").await;
    assert_eq!((r.on_hand, r.reserved, r.allotted_to(&rakuten), r.allotted_to(&yahoo), r.free()), (10, 0, 2, 5, 3));

    // 楽天 order of 3 MUG: 2 from its allotment, 1 from the free units.
    let new = order("R-7", &[("MUG", 3)], OrderStatus::New);
    settle(store, &new).await;
    let r = row(store, "MUG").await;
    assert_eq!((r.reserved, r.allotted_to(&rakuten), r.allotted_to(&yahoo), r.free()), (3, 0, 5, 2));
    assert_eq!(r.drawn.get(&rakuten), Some(&3));
    assert_eq!(settle(store, &new).await, 0, "a replay draws nothing");

    // The copy read before a cancellation, applied after it, moves nothing.
    let mut cancelled = order("R-7", &[("MUG", 3)], OrderStatus::Cancelled);
    cancelled.order.source_updated_at = new.order.source_updated_at + chrono::TimeDelta::minutes(5);
    settle(store, &cancelled).await;
    let r = row(store, "MUG").await;
    assert_eq!((r.reserved, r.cancelled.get(&rakuten), r.free()), (0, Some(&3), 5));
    assert_eq!(settle(store, &new).await, 0, "an older copy does not reserve again");
    assert_eq!(row(store, "MUG").await.reserved, 0);

    // Shipping leaves the allotments as they are.
    let other = order("R-8", &[("MUG", 1)], OrderStatus::New);
    settle(store, &other).await;
    let mut shipped = order("R-8", &[("MUG", 1)], OrderStatus::Shipped);
    shipped.order.source_updated_at = other.order.source_updated_at + chrono::TimeDelta::minutes(5);
    settle(store, &shipped).await;
    let r = row(store, "MUG").await;
    assert_eq!((r.on_hand, r.reserved, r.allotted_to(&yahoo)), (9, 0, 5));
    // A staff count moves the seq: a ledger write read before it is refused.
    let before = row(store, "MUG").await;
    store.count(SHOP, "MUG", None, Count::Adjust(1), &staff("入荷")).await.unwrap();
    assert!(!store.put_ledger(SHOP, &before).await.unwrap());
}

/// A pair's push record is kept per pair, written over its revision only.
pub async fn push_records_are_kept_per_pair_by_revision<S: StockStore>(store: &S) {
    use ichigen_core::pipeline::Written;
    use ichigen_core::stock::push::{PushRecord, PushState};
    assert_eq!(store.push_state(SHOP, Marketplace::Yahoo).await.unwrap(), None);
    let mut state = PushState::new(SHOP, Marketplace::Yahoo, at());
    state.items.insert("mug".into(), PushRecord { written: Some(4), written_at: Some(at()), ..PushRecord::default() });
    state.rev = 1;
    assert_eq!(store.put_push_state(&state, None).await.unwrap(), Written::Yes);
    assert_eq!(store.put_push_state(&state, None).await.unwrap(), Written::Conflict, "created once");
    assert_eq!(store.push_state(SHOP, Marketplace::Yahoo).await.unwrap().as_ref(), Some(&state));
    assert_eq!(store.push_state(SHOP, Marketplace::Rakuten).await.unwrap(), None);
    state.rev = 2;
    assert_eq!(store.put_push_state(&state, Some(1)).await.unwrap(), Written::Yes);
    assert_eq!(store.put_push_state(&state, Some(1)).await.unwrap(), Written::Conflict, "over revision 1 only");
}
