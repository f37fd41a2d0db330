//! The console's ports on DynamoDB (moto): list pages newest first by keyset with every filter,
//! tab counts kept with every order write, the audit log, the mail history and staff sessions —
//! the same assertions as the SQLite adapter's tests (`crates/local/tests/console.rs`).

use chrono::{Duration, FixedOffset};
use ichigen_aws::table::{AUDIT_PREFIX, EXPIRES_AT, LIST_TAB, PK, SK, order_sk, shop_pk};
use ichigen_core::console::{AuditEntry, AuditLog, MailHistory, OrderList, OrderQuery, SessionStore, StaffSession};
use ichigen_core::pipeline::{MailKey, MailKind, MailLedger, OrderKey, OrderStore, StoredOrder, Written};
use ichigen_core::sample::SampleOrders;
use ichigen_core::tab::ListTab;
use ichigen_core::{Marketplace, Order, OrderStatus, PaymentMethod};

use crate::common::{Moto, TABLE, jst};

fn order(n: usize) -> Order {
    let mut o = SampleOrders::new(7).clean_order(Marketplace::Yahoo, n);
    o.shop_id = "s1".into();
    o.order_id = format!("order-{n:03}");
    // One minute apart, in order.
    o.ordered_at = jst("2026-12-01T10:00:00+09:00") + Duration::minutes(n as i64);
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
    let moto = Moto::new().await;
    let store = moto.store().await;
    for n in 0..7 {
        let mut o = order(n);
        if n % 2 == 0 {
            o.payment_method = PaymentMethod::Cod;
        }
        if n == 3 {
            o.items[0].sku = "GIFT-BOX".into();
            o.buyer.name = "山田 花子".into();
        }
        let status = if n == 5 { OrderStatus::OnHold } else { OrderStatus::New };
        assert_eq!(store.put(&stored(o, status), None).await.unwrap(), Written::Yes);
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
    // Filtered pages follow the keyset too.
    let cod_first = store.page("s1", &cod, None, 2).await.unwrap();
    assert_eq!(ids(&cod_first.orders), ["order-006", "order-004"]);
    let cod_second = store.page("s1", &cod, cod_first.next.as_ref(), 2).await.unwrap();
    assert_eq!(ids(&cod_second.orders), ["order-002", "order-000"]);
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
    let window = OrderQuery { since: Some(order(2).ordered_at), until: Some(order(4).ordered_at), ..q.clone() };
    assert_eq!(ids(&store.page("s1", &window, None, 10).await.unwrap().orders), ["order-003", "order-002"]);
    let other = OrderQuery { marketplace: Some(Marketplace::Rakuten), ..OrderQuery::default() };
    assert!(store.page("s1", &other, None, 10).await.unwrap().orders.is_empty());
    assert!(store.page("s2", &q, None, 10).await.unwrap().orders.is_empty(), "another shop's list");

    // The record read back is the order itself, without the list columns.
    let key = OrderKey { shop_id: "s1".into(), marketplace: Marketplace::Yahoo, order_id: "order-003".into() };
    assert_eq!(store.get(&key).await.unwrap().unwrap().order.buyer.name, "山田 花子");
}

#[tokio::test]
async fn a_filter_matching_little_stops_at_the_read_budget_and_goes_on_from_there() {
    let moto = Moto::new().await;
    // A small budget keeps the test quick (moto copies the whole table for each transaction).
    const BUDGET: usize = 40;
    let store = moto.store().await.with_page_read_budget(BUDGET);
    let total = BUDGET + 30;
    // The oldest order is the only one with the SKU: the first page reads its budget and stops.
    for n in 0..total {
        let mut o = order(n);
        o.order_id = format!("order-{n:05}");
        if n == 0 {
            o.items[0].sku = "RARE".into();
        }
        store.put(&stored(o, OrderStatus::New), None).await.unwrap();
    }
    let rare = OrderQuery { sku: Some("RARE".into()), ..OrderQuery::default() };
    let first = store.page("s1", &rare, None, 10).await.unwrap();
    assert!(first.orders.is_empty());
    let cursor = first.next.expect("a cursor where the reading stopped");
    assert_eq!(cursor.order_id, format!("order-{:05}", total - BUDGET));
    let second = store.page("s1", &rare, Some(&cursor), 10).await.unwrap();
    assert_eq!(ids(&second.orders), ["order-00000"]);
    assert!(second.next.is_none());
}

#[tokio::test]
async fn tab_counts_follow_every_write() {
    let moto = Moto::new().await;
    let store = moto.store().await;
    for n in 0..4 {
        store.put(&stored(order(n), OrderStatus::New), None).await.unwrap();
    }
    assert_eq!(store.tab_counts("s1").await.unwrap(), [(ListTab::New, 4)]);
    // Writing an order already there changes nothing.
    assert_eq!(store.put(&stored(order(0), OrderStatus::New), None).await.unwrap(), Written::Conflict);
    assert_eq!(store.tab_counts("s1").await.unwrap(), [(ListTab::New, 4)]);
    let key = OrderKey { shop_id: "s1".into(), marketplace: Marketplace::Yahoo, order_id: "order-001".into() };
    let mut s = store.get(&key).await.unwrap().unwrap();
    s.status = OrderStatus::OnHold;
    s.rev = 2;
    assert_eq!(store.put(&s, Some(1)).await.unwrap(), Written::Yes);
    assert_eq!(store.tab_counts("s1").await.unwrap(), [(ListTab::New, 3), (ListTab::OnHold, 1)]);
    // A write that loses its race changes no count.
    s.status = OrderStatus::Cancelled;
    s.rev = 3;
    assert_eq!(store.put(&s, Some(1)).await.unwrap(), Written::Conflict);
    assert_eq!(store.tab_counts("s1").await.unwrap(), [(ListTab::New, 3), (ListTab::OnHold, 1)]);
    // A write in the same tab keeps the counts.
    s.status = OrderStatus::OnHold;
    assert_eq!(store.put(&s, Some(2)).await.unwrap(), Written::Yes);
    assert_eq!(store.tab_counts("s1").await.unwrap(), [(ListTab::New, 3), (ListTab::OnHold, 1)]);
    // The item carries its tab for the list's index.
    let item = moto
        .dynamodb()
        .get_item()
        .table_name(TABLE)
        .key(PK, aws_sdk_dynamodb::types::AttributeValue::S(shop_pk("s1")))
        .key(SK, aws_sdk_dynamodb::types::AttributeValue::S(order_sk(Marketplace::Yahoo, "order-001")))
        .send()
        .await
        .unwrap()
        .item
        .unwrap();
    assert_eq!(item[LIST_TAB].as_s().unwrap(), "on_hold");
    assert_eq!(
        ids(&store
            .page("s1", &OrderQuery { tab: Some(ListTab::OnHold), ..OrderQuery::default() }, None, 10)
            .await
            .unwrap()
            .orders),
        ["order-001"]
    );
}

#[tokio::test]
async fn audit_and_mail_history_read_back_per_order() {
    let moto = Moto::new().await;
    let store = moto.store().await;
    let key = OrderKey { shop_id: "s1".into(), marketplace: Marketplace::Yahoo, order_id: "order-001".into() };
    // An order whose id extends the first one's past a `#`: never in the first one's history.
    let other = OrderKey { order_id: "order-001#2".into(), ..key.clone() };
    let at = jst("2026-12-01T10:00:00+09:00");
    for (action, order) in [
        ("hold", Some(key.clone())),
        ("rules_save", None),
        ("hold", Some(other.clone())),
        ("release", Some(key.clone())),
    ] {
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
    assert_eq!(all[0].action, "release");
    assert_eq!(store.recent_actions("s1", 10).await.unwrap().len(), 4);
    assert!(store.recent_actions("s2", 10).await.unwrap().is_empty());
    // Audit items expire like the rest of the shop's records.
    let items = moto
        .dynamodb()
        .query()
        .table_name(TABLE)
        .key_condition_expression("#pk = :pk AND begins_with(#sk, :p)")
        .expression_attribute_names("#pk", PK)
        .expression_attribute_names("#sk", SK)
        .expression_attribute_values(":pk", aws_sdk_dynamodb::types::AttributeValue::S(shop_pk("s1")))
        .expression_attribute_values(":p", aws_sdk_dynamodb::types::AttributeValue::S(AUDIT_PREFIX.into()))
        .send()
        .await
        .unwrap()
        .items
        .unwrap();
    let expires: i64 = items[0][EXPIRES_AT].as_n().unwrap().parse().unwrap();
    assert!(expires > at.timestamp() + 365 * 86_400);

    let mail = MailKey::once(key.clone(), MailKind::ThankYou);
    let later: chrono::DateTime<FixedOffset> = at + Duration::minutes(5);
    store.claim(&mail, at, later).await.unwrap();
    store.mark_sent(&mail, "<m1@example>", at).await.unwrap();
    store.claim(&MailKey::once(other.clone(), MailKind::Shipping), at, later).await.unwrap();
    let history = store.order_mails(&key).await.unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].kind, MailKind::ThankYou);
    assert_eq!(history[0].message_id.as_deref(), Some("<m1@example>"));
    assert_eq!(history[0].sent_at, Some(at));
}

#[tokio::test]
async fn sessions_end_when_ended_or_expired() {
    let moto = Moto::new().await;
    let store = moto.store().await;
    let now = 1_800_000_000;
    let session =
        StaffSession {
            staff: "佐藤".into(), csrf: "c".repeat(64), expires_at: now + 3600, flash: Some("済".into())
        };
    store.put_session("h1", &session).await.unwrap();
    assert_eq!(store.session("h1", now).await.unwrap(), Some(session.clone()));
    assert_eq!(store.session("h2", now).await.unwrap(), None);
    // TTL deletes late: a session past its end is refused before it is gone.
    assert_eq!(store.session("h1", now + 3600).await.unwrap(), None);
    store.end_session("h1").await.unwrap();
    assert_eq!(store.session("h1", now).await.unwrap(), None);
}
