//! Orders move the shop's stock on the embedded adapters, through the paths that store them: the
//! processor (new, changed, redelivered — healing a crash between the order's write and its stock
//! step —, cancelled), staff release after mapping an unmapped item, and a tracking number
//! recorded by the shop. An unmapped item is a `stock.unmapped` finding that holds the order and
//! alerts staff (the `.eml` delivered), unless the shop's rules make it a note; a shop without a
//! stock master sees nothing of any of it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use chrono::{DateTime, FixedOffset};
use ichigen_core::order::{Carrier, Tracking};
use ichigen_core::pipeline::memory::MemoryQueue;
use ichigen_core::pipeline::shipping::record_tracking;
use ichigen_core::pipeline::{
    Change, MailJob, MailKind, Notifier, OrderKey, OrderStore, ProcessSettings, Processor, ShopDirectory, ShopSettings,
    staff,
};
use ichigen_core::sample::SampleOrders;
use ichigen_core::stock::{Count, Edit, Listing, Part, StockStore};
use ichigen_core::{FindingCode, Item, Marketplace, Order, OrderStatus, Severity};
use ichigen_local::{EmlOutbox, SqliteStore};

const SHOP: &str = "s1";

fn at(s: &str) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(s).unwrap()
}

fn now() -> DateTime<FixedOffset> {
    at("2026-12-07T10:00:00+09:00")
}

/// A clean Yahoo order `id` of these (item, quantity) lines.
fn order(id: &str, lines: &[(&str, u32)]) -> Order {
    let mut o = SampleOrders::new(11).clean_order(Marketplace::Yahoo, 1);
    o.shop_id = SHOP.into();
    o.order_id = id.into();
    o.remarks = String::new();
    o.items = lines
        .iter()
        .map(|(sku, quantity)| Item {
            sku: (*sku).into(),
            name: "品".into(),
            quantity: *quantity,
            unit_price: 1000,
            options: vec![],
        })
        .collect();
    o
}

/// The same order, changed by the marketplace a minute later.
fn changed(o: &Order, status: OrderStatus) -> Order {
    let mut next = o.clone();
    next.status = status;
    next.source_updated_at = o.source_updated_at + chrono::Duration::minutes(1);
    next
}

async fn shop(store: &SqliteStore, rules: &str) {
    let mut shop = ShopSettings::new(SHOP, "見本商店", "shop@example.jp");
    shop.staff_to = vec!["staff@example.jp".into()];
    shop.rules_toml = rules.to_string();
    store.put_shop(&shop).await.unwrap();
}

async fn stock(store: &SqliteStore, sku: &str, units: i64) {
    let by = Edit { who: "山田", why: "棚卸", at: now() };
    store.count(SHOP, sku, None, Count::Set(units), &by).await.unwrap();
}

/// (SKU, on hand, reserved) of each SKU.
async fn counts(store: &SqliteStore) -> Vec<(String, i64, i64)> {
    store.stocks(SHOP).await.unwrap().into_iter().map(|s| (s.sku, s.on_hand, s.reserved)).collect()
}

#[tokio::test]
async fn the_processor_reserves_once_heals_a_crash_and_releases_on_cancel() {
    let store = SqliteStore::open_in_memory().unwrap();
    shop(&store, "").await;
    stock(&store, "MUG", 10).await;
    let mails = MemoryQueue::<MailJob>::new();
    let policies = ichigen_marketplaces::policies();
    let with_stock = Processor::new(&store, &store, &mails, policies, ProcessSettings::default()).with_stock(&store);

    let first = order("Y-1", &[("MUG", 3)]);
    let done = with_stock.process(first.clone(), now()).await.unwrap();
    assert_eq!(done.change, Change::New);
    assert_eq!(done.stock.iter().map(|c| c.reserved).sum::<i64>(), 3);
    assert_eq!(counts(&store).await, vec![("MUG".into(), 10, 3)]);
    // Redelivered: nothing moves.
    let again = with_stock.process(first.clone(), now()).await.unwrap();
    assert_eq!((again.change, again.stock.len()), (Change::Unchanged, 0));
    assert_eq!(counts(&store).await, vec![("MUG".into(), 10, 3)]);

    // A crash between storing an order and its stock step: a processor that stores without the
    // stock stands in for it. The redelivery finds the order unchanged and applies the holding.
    let without_stock = Processor::new(&store, &store, &mails, policies, ProcessSettings::default());
    let second = order("Y-2", &[("MUG", 2)]);
    assert_eq!(without_stock.process(second.clone(), now()).await.unwrap().change, Change::New);
    assert_eq!(counts(&store).await, vec![("MUG".into(), 10, 3)]);
    let healed = with_stock.process(second.clone(), now()).await.unwrap();
    assert_eq!(healed.change, Change::Unchanged);
    assert_eq!(counts(&store).await, vec![("MUG".into(), 10, 5)]);
    assert_eq!(with_stock.process(second.clone(), now()).await.unwrap().stock.len(), 0);

    // Cancelled by the marketplace: released.
    let cancelled = with_stock.process(changed(&first, OrderStatus::Cancelled), now()).await.unwrap();
    assert_eq!(cancelled.change, Change::Updated);
    assert_eq!(counts(&store).await, vec![("MUG".into(), 10, 2)]);
    let history = store.changes(SHOP, "MUG", 1).await.unwrap();
    assert_eq!((history[0].why.as_str(), history[0].reserved), ("キャンセルで引当解除", -3));
}

#[tokio::test]
async fn a_shop_without_a_stock_master_sees_no_finding_and_no_stock() {
    let store = SqliteStore::open_in_memory().unwrap();
    shop(&store, "").await;
    let mails = MemoryQueue::<MailJob>::new();
    let processor =
        Processor::new(&store, &store, &mails, ichigen_marketplaces::policies(), ProcessSettings::default())
            .with_stock(&store);
    let done = processor.process(order("Y-1", &[("ANYTHING", 1)]), now()).await.unwrap();
    assert_eq!(done.status, OrderStatus::New);
    assert!(done.stock.is_empty() && done.hold_codes.is_empty());
    let stored = store.get(&done.key).await.unwrap().unwrap();
    assert!(stored.findings.iter().all(|f| f.code != FindingCode::StockUnmapped));
    assert!(store.stocks(SHOP).await.unwrap().is_empty());
}

#[tokio::test]
async fn an_unmapped_item_holds_the_order_alerts_staff_and_reserves_once_mapped_and_released() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("ichigen.db")).unwrap();
    shop(&store, "").await;
    stock(&store, "MUG", 10).await;
    let outbox = EmlOutbox::for_store(dir.path().join("outbox"), &store).unwrap();
    let policies = ichigen_marketplaces::policies();
    let mails = MemoryQueue::<MailJob>::new();
    let processor = Processor::new(&store, &store, &mails, policies, ProcessSettings::default()).with_stock(&store);
    let notifier = Notifier::new(&store, &store, &store, &outbox, policies, Duration::from_secs(120));

    let done = processor.process(order("Y-7", &[("MUG", 1), ("mug-gift", 2)]), now()).await.unwrap();
    assert_eq!(done.status, OrderStatus::OnHold);
    assert_eq!(done.hold_codes, vec![FindingCode::StockUnmapped]);
    assert!(done.stock.is_empty(), "an order with an unmapped item holds nothing yet");
    assert_eq!(counts(&store).await, vec![("MUG".into(), 10, 0)]);
    let stored = store.get(&done.key).await.unwrap().unwrap();
    let finding = stored.findings.iter().find(|f| f.code == FindingCode::StockUnmapped).unwrap();
    assert_eq!(finding.severity, Severity::Hold);
    assert_eq!(finding.evidence, serde_json::json!({"marketplace": "yahoo", "item": "mug-gift"}));
    // Staff are alerted: the mail is delivered and names the item and what to do.
    let jobs = mails.drain();
    assert_eq!(jobs.iter().map(|j| j.kind).collect::<Vec<_>>(), vec![MailKind::StaffAlert]);
    notifier.notify(&jobs[0], now()).await.unwrap();
    let eml = std::fs::read_dir(outbox.dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|x| x == "eml"))
        .expect("the staff alert is delivered");
    let raw = std::fs::read(&eml).unwrap();
    let parsed = mail_parser::MessageParser::default().parse(&raw).unwrap();
    let body = parsed.body_text(0).unwrap().to_string();
    assert!(body.contains("mug-gift") && body.contains("ichigen stock map"), "{body}");

    // Staff map the item (a set of two mugs) and release the order: its units are reserved.
    let gift = Listing {
        marketplace: Marketplace::Yahoo,
        item: "mug-gift".into(),
        parts: vec![Part { sku: "MUG".into(), units: 2 }],
    };
    store.put_listing(SHOP, &gift).await.unwrap();
    staff::release(&store, &mails, &store, &policies, &done.key, now()).await.unwrap();
    assert_eq!(counts(&store).await, vec![("MUG".into(), 10, 5)]);
    // Released again (nothing to do) or redelivered: nothing more moves.
    processor.process(order("Y-7", &[("MUG", 1), ("mug-gift", 2)]), now()).await.unwrap();
    assert_eq!(counts(&store).await, vec![("MUG".into(), 10, 5)]);
}

#[tokio::test]
async fn a_shop_whose_rules_note_unmapped_items_gets_a_note_not_a_hold() {
    let store = SqliteStore::open_in_memory().unwrap();
    shop(&store, "[severity]\n\"stock.unmapped\" = \"warn\"\n").await;
    stock(&store, "MUG", 10).await;
    let mails = MemoryQueue::<MailJob>::new();
    let processor =
        Processor::new(&store, &store, &mails, ichigen_marketplaces::policies(), ProcessSettings::default())
            .with_stock(&store);
    let done = processor.process(order("Y-8", &[("mystery", 1)]), now()).await.unwrap();
    assert_eq!(done.status, OrderStatus::New);
    let stored = store.get(&done.key).await.unwrap().unwrap();
    let finding = stored.findings.iter().find(|f| f.code == FindingCode::StockUnmapped).unwrap();
    assert_eq!(finding.severity, Severity::Warn);
    assert!(mails.drain().iter().all(|j| j.kind != MailKind::StaffAlert));
}

#[tokio::test]
async fn a_tracking_number_recorded_by_the_shop_consumes_the_units() {
    let store = SqliteStore::open_in_memory().unwrap();
    shop(&store, "").await;
    stock(&store, "MUG", 10).await;
    let mails = MemoryQueue::<MailJob>::new();
    let processor =
        Processor::new(&store, &store, &mails, ichigen_marketplaces::policies(), ProcessSettings::default())
            .with_stock(&store);
    let mut o = order("Y-9", &[("MUG", 4)]);
    o.status = OrderStatus::ReadyToShip;
    let key = OrderKey::of(&o);
    processor.process(o, now()).await.unwrap();
    assert_eq!(counts(&store).await, vec![("MUG".into(), 10, 4)]);
    let tracking =
        Tracking { carrier: Carrier::Yamato, number: "123456789013".into(), shipped_at: None, shipment_id: None };
    record_tracking(&store, &store, &key, 1, tracking.clone(), now()).await.unwrap();
    assert_eq!(counts(&store).await, vec![("MUG".into(), 6, 0)]);
    // The same number again, and the marketplace later saying 発送済み: nothing more.
    record_tracking(&store, &store, &key, 1, tracking, now()).await.unwrap();
    let mut shipped = store.get(&key).await.unwrap().unwrap().order;
    shipped.status = OrderStatus::Shipped;
    shipped.source_updated_at += chrono::Duration::minutes(5);
    processor.process(shipped, now()).await.unwrap();
    assert_eq!(counts(&store).await, vec![("MUG".into(), 6, 0)]);
    assert_eq!(store.changes(SHOP, "MUG", 1).await.unwrap()[0].why, "出荷");
}

#[tokio::test]
async fn a_stock_master_loaded_while_orders_are_open_holds_them_at_once_and_once() {
    use ichigen_core::pipeline::holdings::settle_open;
    let store = SqliteStore::open_in_memory().unwrap();
    shop(&store, "").await;
    let mails = MemoryQueue::<MailJob>::new();
    let policies = ichigen_marketplaces::policies();
    // Orders stored before the shop had a stock master: open, cancelled, shipped.
    let before = Processor::new(&store, &store, &mails, policies, ProcessSettings::default()).with_stock(&store);
    before.process(order("Y-1", &[("MUG", 3)]), now()).await.unwrap();
    before.process(changed(&order("Y-2", &[("MUG", 1)]), OrderStatus::Cancelled), now()).await.unwrap();
    before.process(changed(&order("Y-3", &[("MUG", 2)]), OrderStatus::Shipped), now()).await.unwrap();
    before.process(order("Y-4", &[("TEA", 1)]), now()).await.unwrap();
    assert!(store.stocks(SHOP).await.unwrap().is_empty(), "no master: nothing held");

    // The stocktake: MUG only. The open MUG order is held now; the cancelled and the shipped
    // ones hold nothing; TEA is not in the master (its order holds nothing until it is).
    stock(&store, "MUG", 10).await;
    assert_eq!(settle_open(&store, &store, SHOP, now()).await.unwrap(), 1);
    assert_eq!(counts(&store).await, vec![("MUG".into(), 10, 3)]);
    // Loading again (the same file, or another) moves nothing twice; the processor agrees.
    assert_eq!(settle_open(&store, &store, SHOP, now()).await.unwrap(), 0);
    before.process(order("Y-1", &[("MUG", 3)]), now()).await.unwrap();
    assert_eq!(counts(&store).await, vec![("MUG".into(), 10, 3)]);
    stock(&store, "TEA", 4).await;
    assert_eq!(settle_open(&store, &store, SHOP, now()).await.unwrap(), 1);
    assert_eq!(counts(&store).await, vec![("MUG".into(), 10, 3), ("TEA".into(), 4, 1)]);
}
