//! `SqliteStore` keeps the conditional semantics of the in-memory reference adapters, survives a
//! reopen of its file, and runs the processor and notifier use cases unchanged.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use chrono::{DateTime, FixedOffset, TimeDelta};
use ichigen_core::pipeline::NoStock;
use ichigen_core::pipeline::memory::MemoryQueue;
use ichigen_core::pipeline::{
    Claim, MailJob, MailKey, MailKind, MailLedger, Notified, Notifier, OrderKey, OrderStore, ProcessSettings,
    Processor, ShopDirectory, ShopSettings, StoredOrder, Watermark, WatermarkStore, Written,
};
use ichigen_core::rules::BlacklistEntry;
use ichigen_core::sample::SampleOrders;
use ichigen_core::{Marketplace, Order, OrderStatus};
use ichigen_local::{EmlOutbox, SqliteStore};

fn at(s: &str) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(s).unwrap()
}

fn order(n: usize) -> Order {
    let mut o = SampleOrders::new(7).clean_order(Marketplace::Yahoo, n);
    o.shop_id = "s1".into();
    o
}

fn stored(order: Order, status: OrderStatus, rev: u64) -> StoredOrder {
    StoredOrder {
        stored_at: order.ordered_at,
        order,
        status,
        findings: Vec::new(),
        staff: Default::default(),
        mails_due: Vec::new(),
        hold_episode: 0,
        ship_with: None,
        parcels: Vec::new(),
        acknowledgement: None,
        content_fp: "c".into(),
        check_fp: "k".into(),
        bundle_key: None,
        rev,
        expires_at: None,
    }
}

#[tokio::test]
async fn order_writes_are_conditional_on_the_revision() {
    let store = SqliteStore::open_in_memory().unwrap();
    let first = stored(order(1), OrderStatus::New, 1);
    assert_eq!(store.put(&first, None).await.unwrap(), Written::Yes);
    assert_eq!(store.put(&first, None).await.unwrap(), Written::Conflict, "a second create loses");

    let mut second = first.clone();
    second.rev = 2;
    second.status = OrderStatus::OnHold;
    assert_eq!(store.put(&second, Some(1)).await.unwrap(), Written::Yes);
    let mut stale = first.clone();
    stale.rev = 2;
    assert_eq!(store.put(&stale, Some(1)).await.unwrap(), Written::Conflict, "rev 1 is gone");

    let got = store.get(&first.key()).await.unwrap().unwrap();
    assert_eq!(got, second);
    let missing = OrderKey { order_id: "nope".into(), ..first.key() };
    assert_eq!(store.get(&missing).await.unwrap(), None);
}

#[tokio::test]
async fn list_by_status_is_oldest_first_with_since_inclusive_and_until_exclusive() {
    let store = SqliteStore::open_in_memory().unwrap();
    let times = ["2026-11-03T10:00:00+09:00", "2026-11-01T10:00:00+09:00", "2026-11-02T10:00:00+09:00"];
    for (n, t) in times.iter().enumerate() {
        let mut o = order(n);
        o.ordered_at = at(t);
        store.put(&stored(o, OrderStatus::New, 1), None).await.unwrap();
    }
    let mut held = order(9);
    held.ordered_at = at("2026-11-02T12:00:00+09:00");
    store.put(&stored(held, OrderStatus::OnHold, 1), None).await.unwrap();

    let all = store.list_by_status("s1", OrderStatus::New, None, None).await.unwrap();
    let days: Vec<u32> = all.iter().map(|s| chrono::Datelike::day(&s.order.ordered_at)).collect();
    assert_eq!(days, [1, 2, 3]);
    // The bounds are instants: 01:00 UTC is 10:00 JST.
    let some = store
        .list_by_status("s1", OrderStatus::New, Some(at("2026-11-02T01:00:00Z")), Some(at("2026-11-03T10:00:00+09:00")))
        .await
        .unwrap();
    assert_eq!(some.len(), 1);
    assert_eq!(chrono::Datelike::day(&some[0].order.ordered_at), 2);
    assert_eq!(store.list_by_status("s1", OrderStatus::OnHold, None, None).await.unwrap().len(), 1);
    assert!(store.list_by_status("other", OrderStatus::New, None, None).await.unwrap().is_empty());
}

#[tokio::test]
async fn bundle_mates_are_the_orders_filed_under_the_key() {
    let store = SqliteStore::open_in_memory().unwrap();
    for n in 0..3 {
        let mut s = stored(order(n), OrderStatus::New, 1);
        s.bundle_key = (n < 2).then(|| "h1".to_string());
        store.put(&s, None).await.unwrap();
    }
    let mates = store.bundle_mates("s1", "h1").await.unwrap();
    assert_eq!(mates.len(), 2);
    assert!(mates.iter().all(|k| k.marketplace == Marketplace::Yahoo && k.shop_id == "s1"));
    assert!(store.bundle_mates("s1", "h2").await.unwrap().is_empty());
}

#[tokio::test]
async fn watermarks_are_conditional_too() {
    let store = SqliteStore::open_in_memory().unwrap();
    let mark = Watermark {
        shop_id: "s1".into(),
        marketplace: Marketplace::Qoo10,
        pulled_to: at("2026-11-01T00:00:00+09:00"),
        pending: None,
        retry: [("Q-left-out".to_string(), 1)].into(),
        reconciled_at: Some(at("2026-10-31T23:00:00+09:00")),
        reconcile_after: None,
        recent: Default::default(),
        queued: Default::default(),
        rev: 1,
        updated_at: at("2026-11-01T00:00:00+09:00"),
    };
    assert_eq!(store.put_watermark(&mark, None).await.unwrap(), Written::Yes);
    assert_eq!(store.put_watermark(&mark, None).await.unwrap(), Written::Conflict);
    let next = Watermark { rev: 2, pulled_to: at("2026-11-02T00:00:00+09:00"), ..mark.clone() };
    assert_eq!(store.put_watermark(&next, Some(1)).await.unwrap(), Written::Yes);
    assert_eq!(store.put_watermark(&next, Some(1)).await.unwrap(), Written::Conflict);
    assert_eq!(store.get_watermark("s1", Marketplace::Qoo10).await.unwrap(), Some(next));
    assert_eq!(store.get_watermark("s1", Marketplace::Rakuten).await.unwrap(), None);
}

#[tokio::test]
async fn one_pull_lease_per_pair_until_it_ends_or_runs_out() {
    let store = SqliteStore::open_in_memory().unwrap();
    let (now, until) = (at("2026-11-01T00:00:00+09:00"), at("2026-11-01T00:15:00+09:00"));
    assert!(store.take_lease("s1", Marketplace::Qoo10, "run-a", now, until).await.unwrap());
    assert!(!store.take_lease("s1", Marketplace::Qoo10, "run-b", now, until).await.unwrap(), "held by run-a");
    assert!(store.take_lease("s1", Marketplace::Rakuten, "run-b", now, until).await.unwrap(), "another pair");
    store.end_lease("s1", Marketplace::Qoo10, "run-b").await.unwrap();
    assert!(!store.take_lease("s1", Marketplace::Qoo10, "run-b", now, until).await.unwrap(), "only run-a ends it");
    let later = at("2026-11-01T00:15:00+09:00");
    assert!(store.take_lease("s1", Marketplace::Qoo10, "run-b", later, later).await.unwrap(), "run-a's ran out");
    store.end_lease("s1", Marketplace::Qoo10, "run-b").await.unwrap();
    assert!(store.take_lease("s1", Marketplace::Qoo10, "run-c", now, until).await.unwrap(), "ended");
}

#[tokio::test]
async fn the_mail_ledger_lets_one_sender_through_once() {
    let store = SqliteStore::open_in_memory().unwrap();
    let key = MailKey::once(OrderKey::of(&order(1)), MailKind::ThankYou);
    let now = at("2026-11-01T10:00:00+09:00");
    let lease = now + TimeDelta::minutes(2);
    assert_eq!(store.claim(&key, now, lease).await.unwrap(), Claim::Claimed);
    assert_eq!(store.claim(&key, now + TimeDelta::minutes(1), lease).await.unwrap(), Claim::Busy { until: lease });
    // The lease ended: a retry takes it over.
    let later = now + TimeDelta::minutes(3);
    assert_eq!(store.claim(&key, later, later + TimeDelta::minutes(2)).await.unwrap(), Claim::Claimed);
    store.mark_sent(&key, "m-1", later).await.unwrap();
    assert_eq!(store.claim(&key, later, later).await.unwrap(), Claim::AlreadySent("m-1".into()));
    store.release(&key).await.unwrap();
    assert_eq!(store.claim(&key, later, later).await.unwrap(), Claim::AlreadySent("m-1".into()), "sent stays sent");

    // A released claim is free at once.
    let other = MailKey { kind: MailKind::StaffAlert, ..key.clone() };
    assert_eq!(store.claim(&other, now, lease).await.unwrap(), Claim::Claimed);
    store.release(&other).await.unwrap();
    assert_eq!(store.claim(&other, now, lease).await.unwrap(), Claim::Claimed);
    // A later hold episode of the same order is another entry.
    let next_hold = MailKey { episode: 1, ..other.clone() };
    store.mark_sent(&other, "m-2", now).await.unwrap();
    assert_eq!(store.claim(&next_hold, now, lease).await.unwrap(), Claim::Claimed);
}

#[tokio::test]
async fn shops_and_blacklists() {
    let store = SqliteStore::open_in_memory().unwrap();
    assert_eq!(store.shop("s1").await.unwrap(), None);
    let mut settings = ShopSettings::new("s1", "見本商店", "shop@example.jp");
    store.put_shop(&settings).await.unwrap();
    settings.staff_to = vec!["staff@example.jp".into()];
    store.put_shop(&settings).await.unwrap();
    assert_eq!(store.shop("s1").await.unwrap(), Some(settings));

    let entry = BlacklistEntry {
        name: None,
        phone: Some("090-1234-5678".into()),
        email: None,
        address: None,
        reason: "受取拒否".into(),
    };
    let a = store.add_blacklisted("s1", &entry).await.unwrap();
    let b = store.add_blacklisted("s1", &entry).await.unwrap();
    assert_ne!(a, b);
    assert_eq!(store.blacklist("s1").await.unwrap().len(), 2);
    assert!(store.blacklist("s2").await.unwrap().is_empty());
    assert!(store.remove_blacklisted("s1", &a).await.unwrap());
    assert!(!store.remove_blacklisted("s1", &a).await.unwrap(), "already gone");
    assert!(!store.remove_blacklisted("s2", &b).await.unwrap(), "another shop's entry stays");
    assert!(!store.remove_blacklisted("s1", "not-an-id").await.unwrap());
    let c = store.add_blacklisted("s1", &entry).await.unwrap();
    assert_ne!(c, a, "a removed id is never given again");
    let ids: Vec<String> = store.blacklist("s1").await.unwrap().into_iter().map(|(id, _)| id).collect();
    assert_eq!(ids, [b, c]);
}

#[tokio::test]
async fn the_file_keeps_everything_across_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ichigen.db");
    let s = stored(order(1), OrderStatus::New, 1);
    {
        let store = SqliteStore::open(&path).unwrap();
        store.put(&s, None).await.unwrap();
        store.put_shop(&ShopSettings::new("s1", "見本商店", "shop@example.jp")).await.unwrap();
    }
    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(store.get(&s.key()).await.unwrap(), Some(s));
    assert!(store.shop("s1").await.unwrap().is_some());
}

#[tokio::test]
async fn a_file_of_another_schema_version_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ichigen.db");
    drop(SqliteStore::open(&path).unwrap());
    rusqlite::Connection::open(&path).unwrap().pragma_update(None, "user_version", 99).unwrap();
    let err = SqliteStore::open(&path).unwrap_err().to_string();
    assert!(err.contains("schema version 99"), "{err}");
}

#[tokio::test]
async fn processor_and_notifier_run_unchanged_on_the_store_and_mail_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("ichigen.db")).unwrap();
    let outbox = EmlOutbox::new(dir.path().join("outbox")).unwrap();
    let mut shop = ShopSettings::new("s1", "見本商店", "shop@example.jp");
    shop.staff_to = vec!["staff@example.jp".into()];
    store.put_shop(&shop).await.unwrap();
    let mails = MemoryQueue::<MailJob>::new();
    let processor =
        Processor::new(&store, &store, &mails, ichigen_marketplaces::policies(), ProcessSettings::default());
    let notifier =
        Notifier::new(&store, &store, &store, &outbox, ichigen_marketplaces::policies(), Duration::from_secs(120));
    let o = order(3);
    let now = at("2026-11-05T10:00:00+09:00");

    let done = processor.process(o.clone(), now).await.unwrap();
    assert_eq!(done.mails, [MailKind::ThankYou]);
    for job in mails.drain() {
        assert!(matches!(notifier.notify(&job, now).await.unwrap(), Notified::Sent(_)));
    }
    // A replay of the order and of its mail job: nothing more.
    processor.process(o.clone(), now).await.unwrap();
    assert!(mails.is_empty());
    let job = MailJob { order: OrderKey::of(&o), kind: MailKind::ThankYou };
    assert!(matches!(notifier.notify(&job, now).await.unwrap(), Notified::AlreadySent(_)));

    let files: Vec<_> = std::fs::read_dir(outbox.dir()).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(files.len(), 1);
    assert_eq!(outbox.written().len(), 1);
    let name = files[0].file_name().unwrap().to_string_lossy().to_string();
    assert!(name.ends_with(&format!("-thank_you-yahoo-{}.eml", o.order_id)), "{name}");
    let stored = store.get(&OrderKey::of(&o)).await.unwrap().unwrap();
    assert!(stored.mails_due.is_empty(), "the outbox of the order is cleared");
}

/// One stored record that no longer parses (a bad disk block, a hand edit) costs that record:
/// lists go on without it and name it, instead of failing for every order.
#[tokio::test]
async fn a_record_that_does_not_read_is_skipped_by_lists_and_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ichigen.db");
    let store = SqliteStore::open(&path).unwrap();
    for n in 0..3 {
        store.put(&stored(order(n), OrderStatus::New, 1), None).await.unwrap();
    }
    let bad = order(1);
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute("UPDATE orders SET record = '{\"order\": 山田' WHERE order_id = ?1", [&bad.order_id])
        .unwrap();

    let listed = store.list_by_status("s1", OrderStatus::New, None, None).await.expect("the others are listed");
    assert_eq!(listed.len(), 2);
    assert!(listed.iter().all(|s| s.order.order_id != bad.order_id));
    assert_eq!(store.take_skipped(), [format!("s1/yahoo/{}", bad.order_id)]);
    assert!(store.take_skipped().is_empty(), "each skip is reported once");
}

/// The outbox remembers the store it was written for: a store deleted or emptied beside it would
/// send every mail again, so the outbox refuses the new store, saying what to do.
#[tokio::test]
async fn an_outbox_of_another_store_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ichigen.db");
    let outbox_dir = dir.path().join("outbox");
    let store = SqliteStore::open(&db).unwrap();
    let outbox = EmlOutbox::for_store(&outbox_dir, &store).unwrap();
    let mail = ichigen_core::pipeline::OutgoingMail {
        from: "shop@example.jp".into(),
        to: vec!["buyer@example.com".into()],
        subject: "ご注文ありがとうございます".into(),
        text: "本文".into(),
        reply_to: None,
        tags: vec![("kind", "thank_you".into())],
    };
    ichigen_core::pipeline::Mailer::send(&outbox, &mail).await.unwrap();
    drop((outbox, store));
    // The same store opens its own outbox again.
    let store = SqliteStore::open(&db).unwrap();
    EmlOutbox::for_store(&outbox_dir, &store).expect("its own outbox");
    drop(store);

    for name in ["ichigen.db", "ichigen.db-wal", "ichigen.db-shm"] {
        let _ = std::fs::remove_file(dir.path().join(name));
    }
    let store = SqliteStore::open(&db).unwrap();
    let err = EmlOutbox::for_store(&outbox_dir, &store).expect_err("another store").to_string();
    assert!(err.contains("1 mail") && err.contains("another store") && err.contains("--dir"), "{err}");

    // An outbox from before stores were remembered, beside a store that never sent a mail: refused too.
    std::fs::remove_file(outbox_dir.join(".ichigen-store")).unwrap();
    let err = EmlOutbox::for_store(&outbox_dir, &store).expect_err("unclaimed outbox").to_string();
    assert!(err.contains("another store"), "{err}");
    // Moved away, the new store starts a new outbox.
    std::fs::rename(&outbox_dir, dir.path().join("outbox.old")).unwrap();
    EmlOutbox::for_store(&outbox_dir, &store).expect("a new outbox");
}

/// The shipping states and a pair's pending tracking writes, through the use cases that write them.
#[tokio::test]
async fn shipping_states_and_pending_tracking_writes_are_kept() {
    use ichigen_core::pipeline::shipping::{mark_printed, record_tracking};
    use ichigen_core::pipeline::{PendingWrites, Recorded, ShipState, TrackingWrites};
    use ichigen_core::{Carrier, Tracking};
    let store = SqliteStore::open_in_memory().unwrap();
    let s = stored(order(3), OrderStatus::ReadyToShip, 1);
    store.put(&s, None).await.unwrap();
    let key = s.key();
    let now = at("2026-11-30T10:00:00+09:00");
    assert_eq!(store.get(&key).await.unwrap().unwrap().ship_state(), Some(ShipState::Ready));
    mark_printed(&store, &key, &[1], "B2クラウド", now).await.unwrap();
    assert_eq!(store.get(&key).await.unwrap().unwrap().ship_state(), Some(ShipState::Printed));
    let t = Tracking {
        carrier: Carrier::Yamato,
        number: "1234-5678-9013".into(),
        shipped_at: Some(now),
        shipment_id: None,
    };
    assert_eq!(record_tracking(&store, &NoStock, &key, 1, t.clone(), now).await.unwrap(), Recorded::Shipped);
    assert_eq!(record_tracking(&store, &NoStock, &key, 1, t.clone(), now).await.unwrap(), Recorded::Unchanged);
    let got = store.get(&key).await.unwrap().unwrap();
    assert_eq!(got.ship_state(), Some(ShipState::Shipped));
    assert_eq!(got.parcel(1).unwrap().tracking.as_ref().unwrap().number, "1234-5678-9013");
    let writes = store.get_writes("s1", Marketplace::Yahoo).await.unwrap().unwrap();
    assert_eq!(writes.writes.len(), 1, "queued once");
    assert_eq!(writes.writes[0].order, key);
    // Conditional like every record.
    let mut next = writes.clone();
    next.rev += 1;
    next.writes.clear();
    assert_eq!(store.put_writes(&next, Some(writes.rev + 5)).await.unwrap(), Written::Conflict);
    assert_eq!(store.put_writes(&next, Some(writes.rev)).await.unwrap(), Written::Yes);
    assert_eq!(store.get_writes("s1", Marketplace::Yahoo).await.unwrap(), Some(next.clone()));
    let fresh = PendingWrites::empty("s1", Marketplace::Rakuten, now);
    assert_eq!(store.put_writes(&fresh, None).await.unwrap(), Written::Yes);
    assert_eq!(store.put_writes(&fresh, None).await.unwrap(), Written::Conflict);
    assert_eq!(store.get_writes("s2", Marketplace::Yahoo).await.unwrap(), None);
}

/// A version 5 file (mail ledger keyed by order and kind) is upgraded in place: its sent mails
/// stay sent (as episode 0), and a later hold episode is a new entry.
#[tokio::test]
async fn a_version_5_file_is_upgraded_with_its_sent_mails_and_queued_jobs_kept() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ichigen.db");
    drop(SqliteStore::open(&path).unwrap());
    let key = MailKey::once(OrderKey::of(&order(1)), MailKind::StaffAlert);
    {
        // Back to the version 5 ledger, with one alert sent.
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(
            "DROP TABLE mail_ledger;
             CREATE TABLE mail_ledger (
                 shop_id TEXT NOT NULL, marketplace TEXT NOT NULL, order_id TEXT NOT NULL, kind TEXT NOT NULL,
                 state TEXT NOT NULL CHECK (state IN ('claimed', 'sent')), lease_until INTEGER,
                 message_id TEXT, sent_at TEXT,
                 PRIMARY KEY (shop_id, marketplace, order_id, kind)) WITHOUT ROWID;
             PRAGMA user_version = 5;",
        )
        .unwrap();
        conn.execute(
            "INSERT INTO mail_ledger VALUES (?1, 'yahoo', ?2, 'staff_alert', 'sent', NULL, 'old-1', '2026-11-01')",
            rusqlite::params![key.order.shop_id, key.order.order_id],
        )
        .unwrap();
    }
    {
        // Version 5 queues had no tries column (version 7) and no not-before time (version 9), and
        // there were no console list columns (version 8), stock tables (version 10) or stock push
        // records (version 11): undo them, keep one queued job.
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(
            "DROP TABLE dead_letters; ALTER TABLE queue DROP COLUMN attempts; ALTER TABLE queue DROP COLUMN not_before;
             DROP TRIGGER orders_tab_insert; DROP TRIGGER orders_tab_delete; DROP TRIGGER orders_tab_update;
             DROP TABLE tab_counts; DROP INDEX orders_by_tab; DROP INDEX orders_by_time; DROP TABLE audit;
             ALTER TABLE orders DROP COLUMN tab; ALTER TABLE orders DROP COLUMN payment;
             ALTER TABLE orders DROP COLUMN delivery; ALTER TABLE orders DROP COLUMN prefectures;
             ALTER TABLE orders DROP COLUMN skus; ALTER TABLE orders DROP COLUMN findings;
             ALTER TABLE orders DROP COLUMN search;
             DROP TABLE stock; DROP TABLE stock_listings; DROP TABLE stock_holdings; DROP TABLE stock_changes;
             DROP TABLE stock_pushes;
             INSERT INTO queue (name, body) VALUES ('mail', '{\"shop_id\":\"s1\",\"marketplace\":\"yahoo\",\"order_id\":\"y-9\",\"kind\":\"shipping\"}');
             PRAGMA user_version = 5;",
        )
        .unwrap();
    }
    let store = SqliteStore::open(&path).unwrap();
    let now = at("2026-11-02T10:00:00+09:00");
    let lease = now + TimeDelta::minutes(2);
    assert_eq!(store.claim(&key, now, lease).await.unwrap(), Claim::AlreadySent("old-1".into()));
    // Version 10: the queued job is still there, due, with no tries counted, and no dead letters.
    let queue = ichigen_local::SqliteQueue::<MailJob>::new(&store, ichigen_local::MAIL_QUEUE);
    let taken = ichigen_core::pipeline::Consumer::take(&queue, 10).await.unwrap();
    assert_eq!(taken.len(), 1);
    assert_eq!(taken[0].attempts, 0);
    assert_eq!(taken[0].message.as_ref().unwrap().kind, MailKind::Shipping);
    assert!(store.dead_letters(None).unwrap().is_empty());
    assert_eq!(store.claim(&MailKey { episode: 1, ..key }, now, lease).await.unwrap(), Claim::Claimed);
}
