//! Orders and watermarks: round trips, conditional writes, the two indexes.

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::Duration;
use ichigen_aws::table::{BY_STATUS, GSI1PK, GSI2PK, PK, SK, status_pk};
use ichigen_core::order::{Marketplace, OrderStatus};
use ichigen_core::pipeline::NoStock;
use ichigen_core::pipeline::{
    MailKind, OrderKey, OrderStore, PendingWindow, StaffDecision, StoredOrder, Watermark, WatermarkStore, Written,
};

use ichigen_core::sample::SampleOrders;

use crate::common::{Moto, TABLE, jst, order, stored};

#[tokio::test]
async fn orders_round_trip_intact() {
    let moto = Moto::new().await;
    let store = moto.store().await;
    let mut samples = SampleOrders::new(7);
    let start = jst("2026-11-01T09:00:00+09:00");
    let mut kinds = std::collections::BTreeSet::new();
    // Varied sample orders: several destinations, islands, mail-bin, findings with evidence.
    for n in 0..40 {
        let marketplace = Marketplace::ALL[n % Marketplace::ALL.len()];
        let mut s = stored(order(&mut samples, "shop-a", marketplace, n, start + Duration::minutes(n as i64)));
        if n == 3 {
            s.staff = StaffDecision::Held { reason: "電話確認中".into(), at: start };
            s.mails_due = vec![MailKind::ThankYou, MailKind::StaffAlert];
            s.expires_at = None;
        }
        kinds.extend(s.findings.iter().map(|f| f.code));
        assert_eq!(store.put(&s, None).await.unwrap(), Written::Yes);
        assert_eq!(store.get(&s.key()).await.unwrap().as_ref(), Some(&s), "order {n}");
    }
    assert!(kinds.len() >= 3, "the sample covers several finding codes: {kinds:?}");
    let missing = OrderKey { shop_id: "shop-a".into(), marketplace: Marketplace::Yahoo, order_id: "none".into() };
    assert_eq!(store.get(&missing).await.unwrap(), None);
}

#[tokio::test]
async fn stale_writer_gets_a_conflict() {
    let moto = Moto::new().await;
    let store = moto.store().await;
    let mut samples = SampleOrders::new(7);
    let first = stored(order(&mut samples, "shop-a", Marketplace::Rakuten, 1, jst("2026-11-01T10:00:00+09:00")));
    assert_eq!(store.put(&first, None).await.unwrap(), Written::Yes);
    // A second "first" writer: the order exists already.
    assert_eq!(store.put(&first, None).await.unwrap(), Written::Conflict);

    let mut a = first.clone();
    a.rev = 2;
    a.order.source_status = "発送待ち".into();
    let mut b = first.clone();
    b.rev = 2;
    b.order.source_status = "キャンセル".into();
    assert_eq!(store.put(&a, Some(1)).await.unwrap(), Written::Yes);
    assert_eq!(store.put(&b, Some(1)).await.unwrap(), Written::Conflict);
    assert_eq!(store.get(&first.key()).await.unwrap(), Some(a));
}

#[tokio::test]
async fn list_by_status_in_order_time_within_bounds() {
    let moto = Moto::new().await;
    let store = moto.store().await;
    let mut samples = SampleOrders::new(7);
    let base = jst("2026-11-01T09:00:00+09:00");
    let mut ready = Vec::new();
    // Written out of time order, over several marketplaces; one of another status, one of another shop.
    for (n, minutes) in [(0usize, 50i64), (1, 10), (2, 30), (3, 0), (4, 40), (5, 20)] {
        let mut s =
            stored(order(&mut samples, "shop-a", Marketplace::ALL[n % 3], n, base + Duration::minutes(minutes)));
        s.status = OrderStatus::ReadyToShip;
        store.put(&s, None).await.unwrap();
        ready.push(s);
    }
    let mut other_status =
        stored(order(&mut samples, "shop-a", Marketplace::Rakuten, 10, base + Duration::minutes(15)));
    other_status.status = OrderStatus::Shipped;
    store.put(&other_status, None).await.unwrap();
    let mut other_shop = stored(order(&mut samples, "shop-b", Marketplace::Rakuten, 11, base + Duration::minutes(15)));
    other_shop.status = OrderStatus::ReadyToShip;
    store.put(&other_shop, None).await.unwrap();
    ready.sort_by_key(|s| s.order.ordered_at);
    let minutes =
        |list: &[StoredOrder]| -> Vec<i64> { list.iter().map(|s| (s.order.ordered_at - base).num_minutes()).collect() };

    let all = store.list_by_status("shop-a", OrderStatus::ReadyToShip, None, None).await.unwrap();
    assert_eq!(all, ready);
    // Bounds in another offset than the orders: compared as instants. `since` in, `until` out.
    let since = jst("2026-11-01T00:10:00Z");
    let until = jst("2026-11-01T00:40:00Z");
    let list = store.list_by_status("shop-a", OrderStatus::ReadyToShip, Some(since), Some(until)).await.unwrap();
    assert_eq!(minutes(&list), [10, 20, 30]);
    let list = store.list_by_status("shop-a", OrderStatus::ReadyToShip, Some(since), None).await.unwrap();
    assert_eq!(minutes(&list), [10, 20, 30, 40, 50]);
    let list = store.list_by_status("shop-a", OrderStatus::ReadyToShip, None, Some(until)).await.unwrap();
    assert_eq!(minutes(&list), [0, 10, 20, 30]);
    let list = store.list_by_status("shop-a", OrderStatus::Shipped, None, None).await.unwrap();
    assert_eq!(list, [other_status]);
    assert!(store.list_by_status("shop-a", OrderStatus::Cancelled, None, None).await.unwrap().is_empty());
}

#[tokio::test]
async fn list_by_status_follows_pages() {
    let moto = Moto::new().await;
    let store = moto.store().await;
    let mut samples = SampleOrders::new(7);
    let base = jst("2026-11-01T09:00:00+09:00");
    // 60 orders of ~36 KB each: more than one 1 MB query page (moto pages by size as DynamoDB does).
    let mut big = stored(order(&mut samples, "shop-a", Marketplace::Rakuten, 0, base));
    big.order.remarks = "備考".repeat(6_000);
    for n in 0..60 {
        let mut s = big.clone();
        s.order.order_id = format!("big-{n:03}");
        s.order.ordered_at = base + Duration::seconds(n);
        store.put(&s, None).await.unwrap();
    }
    let first_page = moto
        .dynamodb()
        .query()
        .table_name(TABLE)
        .index_name(BY_STATUS)
        .key_condition_expression("#p = :p")
        .expression_attribute_names("#p", GSI1PK)
        .expression_attribute_values(":p", AttributeValue::S(status_pk("shop-a", big.status)))
        .send()
        .await
        .unwrap();
    assert!(first_page.last_evaluated_key().is_some(), "the query needs more than one page");
    let list = store.list_by_status("shop-a", big.status, None, None).await.unwrap();
    let ids: Vec<_> = list.iter().map(|s| s.order.order_id.clone()).collect();
    let expected: Vec<_> = (0..60).map(|n| format!("big-{n:03}")).collect();
    assert_eq!(ids, expected);
}

#[tokio::test]
async fn bundle_mates_are_the_open_orders_with_the_key() {
    let moto = Moto::new().await;
    let store = moto.store().await;
    let mut samples = SampleOrders::new(7);
    let at = jst("2026-11-02T12:00:00+09:00");
    let mut keys = Vec::new();
    for (n, marketplace) in [Marketplace::Rakuten, Marketplace::Yahoo, Marketplace::Qoo10].into_iter().enumerate() {
        let mut s = stored(order(&mut samples, "shop-a", marketplace, n, at));
        s.bundle_key = Some("k1".into());
        store.put(&s, None).await.unwrap();
        keys.push(s);
    }
    let mut other_key = stored(order(&mut samples, "shop-a", Marketplace::Rakuten, 20, at));
    other_key.bundle_key = Some("k2".into());
    store.put(&other_key, None).await.unwrap();
    let mut other_shop = stored(order(&mut samples, "shop-b", Marketplace::Rakuten, 21, at));
    other_shop.bundle_key = Some("k1".into());
    store.put(&other_shop, None).await.unwrap();

    // The Yahoo order ships: the processor drops its key, and the index entry must go with it.
    let mut shipped = keys[1].clone();
    shipped.status = OrderStatus::Shipped;
    shipped.bundle_key = None;
    shipped.rev = 2;
    assert_eq!(store.put(&shipped, Some(1)).await.unwrap(), Written::Yes);
    let raw = moto
        .dynamodb()
        .get_item()
        .table_name(TABLE)
        .key(PK, AttributeValue::S("SHOP#shop-a".into()))
        .key(SK, AttributeValue::S(format!("ORDER#yahoo#{}", shipped.order.order_id)))
        .send()
        .await
        .unwrap();
    assert!(!raw.item().unwrap().contains_key(GSI2PK), "closed order left in the sparse index");

    let mut mates = store.bundle_mates("shop-a", "k1").await.unwrap();
    mates.sort();
    let mut expected = vec![keys[0].key(), keys[2].key()];
    expected.sort();
    assert_eq!(mates, expected);
    assert_eq!(store.bundle_mates("shop-a", "k2").await.unwrap(), [other_key.key()]);
    assert!(store.bundle_mates("shop-a", "k3").await.unwrap().is_empty());
}

#[tokio::test]
async fn watermarks_are_written_conditionally() {
    let moto = Moto::new().await;
    let store = moto.store().await;
    assert_eq!(store.get_watermark("shop-a", Marketplace::Rakuten).await.unwrap(), None);
    let mut mark = Watermark {
        shop_id: "shop-a".into(),
        marketplace: Marketplace::Rakuten,
        pulled_to: jst("2026-11-01T09:00:00+09:00"),
        pending: None,
        retry: [("R-left-out".to_string(), 2)].into(),
        reconciled_at: Some(jst("2026-11-01T08:00:00+09:00")),
        reconcile_after: Some("R-0001".into()),
        recent: [("R-0002".to_string(), jst("2026-11-01T09:00:00+09:00"))].into(),
        queued: Default::default(),
        rev: 1,
        updated_at: jst("2026-11-01T09:00:05+09:00"),
    };
    assert_eq!(store.put_watermark(&mark, None).await.unwrap(), Written::Yes);
    assert_eq!(store.put_watermark(&mark, None).await.unwrap(), Written::Conflict);
    assert_eq!(store.get_watermark("shop-a", Marketplace::Rakuten).await.unwrap().as_ref(), Some(&mark));

    mark.rev = 2;
    mark.pending = Some(PendingWindow {
        from: jst("2026-11-01T09:00:00+09:00"),
        to: jst("2026-11-01T09:05:00+09:00"),
        cursor: Some("page=3".into()),
        pages_done: 2,
    });
    assert_eq!(store.put_watermark(&mark, Some(1)).await.unwrap(), Written::Yes);
    let mut stale = mark.clone();
    stale.pending = None;
    assert_eq!(store.put_watermark(&stale, Some(1)).await.unwrap(), Written::Conflict);
    assert_eq!(store.get_watermark("shop-a", Marketplace::Rakuten).await.unwrap(), Some(mark));
    assert_eq!(store.get_watermark("shop-a", Marketplace::Yahoo).await.unwrap(), None);
}

#[tokio::test]
async fn one_pull_lease_per_pair_until_it_ends_or_runs_out() {
    let moto = Moto::new().await;
    let store = moto.store().await;
    let (now, until) = (jst("2026-11-01T09:00:00+09:00"), jst("2026-11-01T09:15:00+09:00"));
    assert!(store.take_lease("shop-a", Marketplace::Qoo10, "run-a", now, until).await.unwrap());
    assert!(!store.take_lease("shop-a", Marketplace::Qoo10, "run-b", now, until).await.unwrap(), "held by run-a");
    assert!(store.take_lease("shop-a", Marketplace::Rakuten, "run-b", now, until).await.unwrap(), "another pair");
    store.end_lease("shop-a", Marketplace::Qoo10, "run-b").await.unwrap();
    assert!(!store.take_lease("shop-a", Marketplace::Qoo10, "run-b", now, until).await.unwrap(), "only run-a ends it");
    let later = jst("2026-11-01T09:15:00+09:00");
    assert!(store.take_lease("shop-a", Marketplace::Qoo10, "run-b", later, later).await.unwrap(), "run-a's ran out");
    store.end_lease("shop-a", Marketplace::Qoo10, "run-b").await.unwrap();
    assert!(store.take_lease("shop-a", Marketplace::Qoo10, "run-c", now, until).await.unwrap(), "ended");
}

/// The shipping states and a pair's pending tracking writes, through the use cases that write them.
#[tokio::test]
async fn shipping_states_and_pending_tracking_writes_are_kept() {
    use ichigen_core::pipeline::shipping::{mark_printed, record_tracking};
    use ichigen_core::pipeline::{PendingWrites, Recorded, ShipState, TrackingWrites};
    use ichigen_core::{Carrier, Tracking};
    let moto = Moto::new().await;
    let store = moto.store().await;
    let mut samples = SampleOrders::new(7);
    let now = jst("2026-11-30T10:00:00+09:00");
    let mut s = stored(order(&mut samples, "shop-a", Marketplace::Qoo10, 1, now - Duration::hours(3)));
    s.status = OrderStatus::ReadyToShip;
    s.order.status = OrderStatus::ReadyToShip;
    assert_eq!(store.put(&s, None).await.unwrap(), Written::Yes);
    let key = s.key();
    mark_printed(&store, &key, &[1], "ゆうパックプリントR", now).await.unwrap();
    assert_eq!(store.get(&key).await.unwrap().unwrap().ship_state(), Some(ShipState::Printed));
    let t = Tracking {
        carrier: Carrier::Japanpost,
        number: "123456789013".into(),
        shipped_at: Some(now),
        shipment_id: None,
    };
    assert_eq!(record_tracking(&store, &NoStock, &key, 1, t.clone(), now).await.unwrap(), Recorded::Shipped);
    assert_eq!(record_tracking(&store, &NoStock, &key, 1, t, now).await.unwrap(), Recorded::Unchanged);
    assert_eq!(store.get(&key).await.unwrap().unwrap().ship_state(), Some(ShipState::Shipped));
    let writes = store.get_writes("shop-a", Marketplace::Qoo10).await.unwrap().unwrap();
    assert_eq!((writes.writes.len(), &writes.writes[0].order), (1, &key));
    let mut next = writes.clone();
    next.rev += 1;
    next.writes.clear();
    assert_eq!(store.put_writes(&next, Some(writes.rev + 5)).await.unwrap(), Written::Conflict);
    assert_eq!(store.put_writes(&next, Some(writes.rev)).await.unwrap(), Written::Yes);
    assert_eq!(store.get_writes("shop-a", Marketplace::Qoo10).await.unwrap(), Some(next));
    let fresh = PendingWrites::empty("shop-a", Marketplace::Yahoo, now);
    assert_eq!(store.put_writes(&fresh, None).await.unwrap(), Written::Yes);
    assert_eq!(store.put_writes(&fresh, None).await.unwrap(), Written::Conflict);
}
