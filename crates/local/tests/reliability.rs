//! Issue 13's findings on the embedded adapters, asserted on what is delivered (the `.eml`
//! outbox): each hold episode alerts staff, an ambiguous send keeps its claim, a buyer mail is
//! re-checked at send time.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use chrono::{DateTime, FixedOffset};
use ichigen_core::pipeline::memory::MemoryQueue;
use ichigen_core::pipeline::{
    MailJob, MailKind, Notifier, OrderKey, ProcessSettings, Processor, ShopDirectory, ShopSettings, staff,
};
use ichigen_core::sample::SampleOrders;
use ichigen_core::{Marketplace, Order};
use ichigen_local::{EmlOutbox, SqliteStore};

const PHONE: &str = "090-0000-0000";

fn at(s: &str) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(s).unwrap()
}

/// A Yahoo order (buyer mail through the shop's sender) of a blacklisted buyer.
fn blacklisted(n: usize) -> Order {
    let mut o = SampleOrders::new(7).clean_order(Marketplace::Yahoo, n);
    o.shop_id = "s1".into();
    o.buyer.phone = Some(PHONE.into());
    o.ship_to.phone = Some(PHONE.into());
    o
}

async fn shop(store: &SqliteStore) {
    let mut shop = ShopSettings::new("s1", "見本商店", "shop@example.jp");
    shop.staff_to = vec!["staff@example.jp".into()];
    shop.rules_toml = format!("[[blacklist]]\nphone = \"{PHONE}\"\nreason = \"受取拒否\"\n");
    store.put_shop(&shop).await.unwrap();
}

/// The outbox's files of `kind`.
fn delivered(outbox: &EmlOutbox, kind: MailKind) -> usize {
    std::fs::read_dir(outbox.dir())
        .unwrap()
        .filter(|e| e.as_ref().unwrap().file_name().to_string_lossy().contains(&format!("-{kind}-")))
        .count()
}

#[tokio::test]
async fn an_order_held_a_second_time_alerts_staff_again_and_replays_deliver_nothing_more() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("ichigen.db")).unwrap();
    shop(&store).await;
    let outbox = EmlOutbox::for_store(dir.path().join("outbox"), &store).unwrap();
    let policies = ichigen_marketplaces::policies();
    let mails = MemoryQueue::<MailJob>::new();
    let processor = Processor::new(&store, &store, &mails, policies, ProcessSettings::default());
    let notifier = Notifier::new(&store, &store, &store, &outbox, policies, Duration::from_secs(120));
    let now = at("2026-11-05T10:00:00+09:00");
    let mut all_jobs = Vec::new();
    let mut send = async |jobs: Vec<MailJob>| {
        for job in jobs {
            notifier.notify(&job, now).await.unwrap();
            all_jobs.push(job);
        }
    };

    let first = blacklisted(1);
    let key = OrderKey::of(&first);
    processor.process(first.clone(), now).await.unwrap();
    send(mails.drain()).await;
    assert_eq!(delivered(&outbox, MailKind::StaffAlert), 1, "the first hold alerts staff");

    staff::release(&store, &mails, &policies, &key, now).await.unwrap();
    send(mails.drain()).await;
    assert_eq!(delivered(&outbox, MailKind::ThankYou), 1);

    // The buyer changes the address: checked again, held again by the blacklist.
    let mut moved = first.clone();
    moved.ship_to.address1 = format!("{}（転居先）", moved.ship_to.address1);
    moved.source_updated_at += chrono::TimeDelta::hours(1);
    processor.process(moved.clone(), now).await.unwrap();
    send(mails.drain()).await;
    assert_eq!(delivered(&outbox, MailKind::StaffAlert), 2, "the second hold alerts staff again");

    // Replays of every order and every job: nothing more is delivered.
    processor.process(first, now).await.unwrap();
    processor.process(moved, now).await.unwrap();
    let replays: Vec<MailJob> = all_jobs.clone().into_iter().chain(mails.drain()).collect();
    for job in replays {
        notifier.notify(&job, now).await.unwrap();
    }
    assert_eq!(delivered(&outbox, MailKind::StaffAlert), 2);
    assert_eq!(delivered(&outbox, MailKind::ThankYou), 1);
}

/// Writes the mail into the outbox, then reports that the answer was lost.
struct DeliversThenTimesOut<'a>(&'a EmlOutbox);

impl ichigen_core::pipeline::Mailer for DeliversThenTimesOut<'_> {
    async fn send(
        &self,
        mail: &ichigen_core::pipeline::OutgoingMail,
    ) -> Result<String, ichigen_core::pipeline::SendError> {
        ichigen_core::pipeline::Mailer::send(self.0, mail).await?;
        Err(ichigen_core::pipeline::SendError::Ambiguous("timed out after the request was sent".into()))
    }
}

#[tokio::test]
async fn an_ambiguous_send_keeps_its_claim_so_an_immediate_retry_delivers_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("ichigen.db")).unwrap();
    shop(&store).await;
    let outbox = EmlOutbox::for_store(dir.path().join("outbox"), &store).unwrap();
    let policies = ichigen_marketplaces::policies();
    let mails = MemoryQueue::<MailJob>::new();
    let processor = Processor::new(&store, &store, &mails, policies, ProcessSettings::default());
    let mut clean = blacklisted(2);
    clean.buyer.phone = Some("03-1111-2222".into());
    clean.ship_to.phone = Some("03-1111-2222".into());
    let now = at("2026-11-05T10:00:00+09:00");
    processor.process(clean, now).await.unwrap();
    let job = mails.drain().pop().unwrap();
    assert_eq!(job.kind, MailKind::ThankYou);
    let lease = Duration::from_secs(120);
    let flaky = Notifier::new(&store, &store, &store, DeliversThenTimesOut(&outbox), policies, lease);
    flaky.notify(&job, now).await.expect_err("timed out");
    let sound = Notifier::new(&store, &store, &store, &outbox, policies, lease);
    let retry = sound.notify(&job, now + chrono::TimeDelta::seconds(10)).await.expect_err("claim kept");
    assert!(retry.is_retryable(), "{retry}");
    assert_eq!(delivered(&outbox, MailKind::ThankYou), 1, "one mail, not two");
}

/// Issue 13: which buyer mails an order may get is checked again when the mail is sent: a
/// shipping mail queued before the order was cancelled or held is not delivered.
#[tokio::test]
async fn a_shipping_mail_queued_before_a_cancellation_or_a_hold_is_not_delivered() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("ichigen.db")).unwrap();
    shop(&store).await;
    let outbox = EmlOutbox::for_store(dir.path().join("outbox"), &store).unwrap();
    let policies = ichigen_marketplaces::policies();
    let mails = MemoryQueue::<MailJob>::new();
    let processor = Processor::new(&store, &store, &mails, policies, ProcessSettings::default());
    let notifier = Notifier::new(&store, &store, &store, &outbox, policies, Duration::from_secs(120));
    let now = at("2026-11-05T10:00:00+09:00");

    for (n, then) in [(3, "cancelled"), (4, "held")] {
        let mut o = blacklisted(n);
        o.buyer.phone = Some("03-1111-2222".into());
        o.ship_to.phone = Some("03-1111-2222".into());
        o.status = ichigen_core::OrderStatus::ReadyToShip;
        processor.process(o.clone(), now).await.unwrap();
        mails.drain();
        // The first tracking number: a shipping mail is queued.
        o.tracking.push(ichigen_core::Tracking {
            carrier: ichigen_core::Carrier::Yamato,
            number: format!("12345678901{n}"),
            shipped_at: None,
            shipment_id: None,
        });
        o.source_updated_at += chrono::TimeDelta::minutes(10);
        processor.process(o.clone(), now).await.unwrap();
        let jobs = mails.drain();
        assert_eq!(jobs.iter().map(|j| j.kind).collect::<Vec<_>>(), [MailKind::Shipping]);
        // Before the notifier runs, the order is cancelled at the marketplace, or held by staff.
        if then == "cancelled" {
            o.status = ichigen_core::OrderStatus::Cancelled;
            o.source_updated_at += chrono::TimeDelta::minutes(10);
            processor.process(o.clone(), now).await.unwrap();
        } else {
            staff::hold(&store, &mails, &policies, &OrderKey::of(&o), "住所確認中", now).await.unwrap();
        }
        for job in jobs.into_iter().chain(mails.drain()) {
            let done = notifier.notify(&job, now).await.unwrap();
            assert!(matches!(done, ichigen_core::pipeline::Notified::Skipped(_)), "{then}: {done:?}");
        }
    }
    assert_eq!(delivered(&outbox, MailKind::Shipping), 0, "no shipping mail to a cancelled or held order");
}
