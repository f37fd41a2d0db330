//! The shared sandbox parts: serving on loopback, order state and seeding.

use axum::Router;
use axum::routing::get;
use chrono::DateTime;
use ichigen_core::Marketplace;
use ichigen_sandbox::{OrderBook, Seed, TimeField, seed_orders, serve};

#[tokio::test]
async fn serves_on_loopback_until_stopped() {
    let running = serve(Router::new().route("/ping", get(|| async { "pong" })), 0).await.unwrap();
    assert!(running.addr().ip().is_loopback());
    let url = format!("{}/ping", running.base_url());
    assert_eq!(reqwest::get(&url).await.unwrap().text().await.unwrap(), "pong");
    running.stop().await;
    assert!(reqwest::get(&url).await.is_err(), "stopped sandboxes refuse connections");
}

#[test]
fn seeded_orders_spread_over_the_timeline_and_search_is_inclusive_and_stable() {
    let seed = Seed { orders: 300, step_secs: 86_400, ..Seed::default() };
    let orders = seed_orders(Marketplace::Rakuten, &seed);
    assert_eq!(orders.len(), 300);
    let span = orders[299].ordered_at - orders[0].ordered_at;
    assert!(span.num_days() > 250, "{span:?}");
    assert_eq!(orders, seed_orders(Marketplace::Rakuten, &seed), "same seed, same orders");

    let book = OrderBook::new(orders.clone());
    let from = orders[10].ordered_at;
    let to = orders[20].ordered_at;
    let hits = book.search(TimeField::Ordered, from, to);
    assert_eq!(hits.first().map(|o| &o.order_id), Some(&orders[10].order_id));
    assert_eq!(hits.last().map(|o| &o.order_id), Some(&orders[20].order_id));
    assert_eq!(hits.len(), 11);
}

#[test]
fn write_backs_move_the_order_into_the_next_search_for_changes() {
    let orders = seed_orders(Marketplace::Yahoo, &Seed { orders: 20, ..Seed::default() });
    let book = OrderBook::new(orders.clone());
    let id = orders[3].order_id.clone();
    let before = DateTime::parse_from_rfc3339("2027-01-01T00:00:00+09:00").unwrap();
    assert!(book.search(TimeField::Updated, orders[0].ordered_at, before).iter().any(|o| o.order_id == id));
    let now = chrono::Utc::now().fixed_offset();
    let changed = book.update(&id, |o| o.remarks = "changed".into()).unwrap();
    assert!(changed.source_updated_at >= now);
    let later = book.search(TimeField::Updated, now, now + chrono::Duration::days(1));
    assert_eq!(later.iter().map(|o| o.order_id.as_str()).collect::<Vec<_>>(), [id.as_str()]);
    assert!(book.update("no-such-order", |_| {}).is_none());
}
