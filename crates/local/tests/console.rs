//! The console's ports on the SQLite store: list pages by keyset with every filter, tab counts
//! kept by the store's triggers, the audit log and the mail history.
#![allow(clippy::unwrap_used)]

use chrono::{Duration, FixedOffset};
use ichigen_core::console::{AuditEntry, AuditLog, MailHistory, OrderList, OrderQuery};
use ichigen_core::pipeline::{MailKey, MailKind, MailLedger, OrderKey, OrderStore, StoredOrder};
use ichigen_core::sample::SampleOrders;
use ichigen_core::tab::ListTab;
use ichigen_core::{Marketplace, Order, OrderStatus, PaymentMethod};
use ichigen_local::SqliteStore;

fn order(n: usize) -> Order {
    let mut o = SampleOrders::new(7).clean_order(Marketplace::Yahoo, n);
    o.shop_id = "s1".into();
    o.order_id = format!("order-{n:03}");
    // One minute apart, in order.
    o.ordered_at =
        chrono::DateTime::parse_from_rfc3339("2026-12-01T10:00:00+09:00").unwrap() + Duration::minutes(n as i64);
    o.status = OrderStatus::New;
    o
}

fn stored(order: Order, status: OrderStatus) -> StoredOrder {
    StoredOrder {
        hold_episode: 0,
        ship_with: None,
        stored_at: order.ordered_at,
        order,
        status,
        findings: Vec::new(),
        staff: Default::default(),
        mails_due: Vec::new(),
        parcels: Vec::new(),
        acknowledgement: None,
        content_fp: "c".into(),
        check_fp: "k".into(),
        bundle_key: None,
        rev: 1,
        expires_at: None,
    }
}

fn ids(page: &[StoredOrder]) -> Vec<String> {
    page.iter().map(|s| s.order.order_id.clone()).collect()
}

#[tokio::test]
async fn pages_follow_the_keyset_newest_first_and_filters_combine() {
    let store = SqliteStore::open_in_memory().unwrap();
    for n in 0..7 {
        let mut o = order(n);
        if n % 2 == 0 {
            o.payment_method = PaymentMethod::Cod;
        }
        if n == 3 {
            o.items[0].sku = "GIFT-BOX".into();
            o.buyer.name = "山田 花子".into();
        }
        store.put(&stored(o, if n == 5 { OrderStatus::OnHold } else { OrderStatus::New }), None).await.unwrap();
    }
    let q = OrderQuery::default();
    let first = store.page("s1", &q, None, 3).await.unwrap();
    assert_eq!(ids(&first.orders), ["order-006", "order-005", "order-004"]);
    let second = store.page("s1", &q, first.next.as_ref(), 3).await.unwrap();
    assert_eq!(ids(&second.orders), ["order-003", "order-002", "order-001"]);
    let last = store.page("s1", &q, second.next.as_ref(), 3).await.unwrap();
    assert_eq!(ids(&last.orders), ["order-000"]);
    assert!(last.next.is_none());

    let cod = OrderQuery { payment: Some(PaymentMethod::Cod), ..OrderQuery::default() };
    assert_eq!(
        ids(&store.page("s1", &cod, None, 10).await.unwrap().orders),
        ["order-006", "order-004", "order-002", "order-000"]
    );
    let held = OrderQuery { tab: Some(ListTab::OnHold), ..OrderQuery::default() };
    assert_eq!(ids(&store.page("s1", &held, None, 10).await.unwrap().orders), ["order-005"]);
    let sku = OrderQuery { sku: Some("GIFT-BOX".into()), ..OrderQuery::default() };
    assert_eq!(ids(&store.page("s1", &sku, None, 10).await.unwrap().orders), ["order-003"]);
    let partial = OrderQuery { sku: Some("GIFT".into()), ..OrderQuery::default() };
    assert!(store.page("s1", &partial, None, 10).await.unwrap().orders.is_empty(), "SKUs match whole");
    // Buyer name without the space, full-width: width and spaces ignored.
    let text = OrderQuery { text: Some("山田花子".into()), ..OrderQuery::default() };
    assert_eq!(ids(&store.page("s1", &text, None, 10).await.unwrap().orders), ["order-003"]);
    let id = OrderQuery { text: Some("ＯＲＤＥＲ-００６".into()), ..OrderQuery::default() };
    assert_eq!(ids(&store.page("s1", &id, None, 10).await.unwrap().orders), ["order-006"]);
    let since =
        OrderQuery { since: Some(order(5).ordered_at), marketplace: Some(Marketplace::Yahoo), ..OrderQuery::default() };
    assert_eq!(ids(&store.page("s1", &since, None, 10).await.unwrap().orders), ["order-006", "order-005"]);
    let other = OrderQuery { marketplace: Some(Marketplace::Rakuten), ..OrderQuery::default() };
    assert!(store.page("s1", &other, None, 10).await.unwrap().orders.is_empty());
    assert!(store.page("s2", &q, None, 10).await.unwrap().orders.is_empty(), "another shop's list");
}

#[tokio::test]
async fn tab_counts_follow_every_write() {
    let store = SqliteStore::open_in_memory().unwrap();
    for n in 0..4 {
        store.put(&stored(order(n), OrderStatus::New), None).await.unwrap();
    }
    assert_eq!(store.tab_counts("s1").await.unwrap(), [(ListTab::New, 4)]);
    let key = OrderKey { shop_id: "s1".into(), marketplace: Marketplace::Yahoo, order_id: "order-001".into() };
    let mut s = store.get(&key).await.unwrap().unwrap();
    s.status = OrderStatus::OnHold;
    s.rev = 2;
    store.put(&s, Some(1)).await.unwrap();
    assert_eq!(store.tab_counts("s1").await.unwrap(), [(ListTab::New, 3), (ListTab::OnHold, 1)]);
    // A write that loses its race changes no count.
    s.status = OrderStatus::Cancelled;
    s.rev = 3;
    store.put(&s, Some(1)).await.unwrap();
    assert_eq!(store.tab_counts("s1").await.unwrap(), [(ListTab::New, 3), (ListTab::OnHold, 1)]);
}

#[tokio::test]
async fn audit_and_mail_history_read_back_per_order() {
    let store = SqliteStore::open_in_memory().unwrap();
    let key = OrderKey { shop_id: "s1".into(), marketplace: Marketplace::Yahoo, order_id: "order-001".into() };
    let at = chrono::DateTime::parse_from_rfc3339("2026-12-01T10:00:00+09:00").unwrap();
    for (action, order) in [("hold", Some(key.clone())), ("rules_save", None), ("release", Some(key.clone()))] {
        let e = AuditEntry {
            shop_id: "s1".into(),
            at,
            staff: "佐藤".into(),
            action: action.into(),
            order,
            detail: "理由".into(),
        };
        store.record_action(&e).await.unwrap();
    }
    let mine: Vec<String> = store.order_actions(&key).await.unwrap().into_iter().map(|e| e.action).collect();
    assert_eq!(mine, ["release", "hold"]);
    let all = store.recent_actions("s1", 2).await.unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(all[0].staff, "佐藤");
    assert!(store.recent_actions("s2", 10).await.unwrap().is_empty());

    let mail = MailKey::once(key.clone(), MailKind::ThankYou);
    let later: chrono::DateTime<FixedOffset> = at + Duration::minutes(5);
    store.claim(&mail, at, later).await.unwrap();
    store.mark_sent(&mail, "<m1@example>", at).await.unwrap();
    let history = store.order_mails(&key).await.unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].kind, MailKind::ThankYou);
    assert_eq!(history[0].message_id.as_deref(), Some("<m1@example>"));
}

#[tokio::test]
async fn a_version_7_store_is_upgraded_with_its_orders_listed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ichigen.db");
    {
        let store = SqliteStore::open(&path).unwrap();
        for n in 0..3 {
            store
                .put(&stored(order(n), if n == 1 { OrderStatus::OnHold } else { OrderStatus::New }), None)
                .await
                .unwrap();
        }
    }
    // Back to what version 7 had (the console came with 8, the queue's not-before time with 9, stock
    // with 10, its allotment ledger and push records with 11): no list columns, indexes, counts,
    // audit or stock.
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch(
        "DROP TRIGGER orders_tab_insert; DROP TRIGGER orders_tab_delete; DROP TRIGGER orders_tab_update;
         DROP TABLE tab_counts; DROP INDEX orders_by_tab; DROP INDEX orders_by_time; DROP TABLE audit;
         ALTER TABLE orders DROP COLUMN tab; ALTER TABLE orders DROP COLUMN payment;
         ALTER TABLE orders DROP COLUMN delivery; ALTER TABLE orders DROP COLUMN prefectures;
         ALTER TABLE orders DROP COLUMN skus; ALTER TABLE orders DROP COLUMN findings;
         ALTER TABLE orders DROP COLUMN search; ALTER TABLE queue DROP COLUMN not_before;
         DROP TABLE stock; DROP TABLE stock_listings; DROP TABLE stock_holdings; DROP TABLE stock_changes;
         DROP TABLE stock_pushes;
         PRAGMA user_version = 7;",
    )
    .unwrap();
    drop(conn);
    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(store.tab_counts("s1").await.unwrap(), [(ListTab::New, 2), (ListTab::OnHold, 1)]);
    let held = OrderQuery { tab: Some(ListTab::OnHold), ..OrderQuery::default() };
    assert_eq!(ids(&store.page("s1", &held, None, 10).await.unwrap().orders), ["order-001"]);
    let version: i64 =
        rusqlite::Connection::open(&path).unwrap().pragma_query_value(None, "user_version", |r| r.get(0)).unwrap();
    assert_eq!(version, 11, "upgraded to the current version");
}
