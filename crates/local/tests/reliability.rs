//! Issue 13's findings on the embedded adapters, asserted on what is delivered (the `.eml`
//! outbox): each hold episode alerts staff, an ambiguous send keeps its claim, a buyer mail is
//! re-checked at send time, a job meeting a live claim waits for its lease without using up its
//! tries.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use chrono::{DateTime, FixedOffset};
use ichigen_core::pipeline::NoStock;
use ichigen_core::pipeline::memory::MemoryQueue;
use ichigen_core::pipeline::{
    Claim, MailEvent, MailEvents, MailJob, MailKey, MailKind, MailLedger, MessageFailure, Notifier, OrderKey,
    ParkedMail, PortError, ProcessSettings, Processor, Queue, ShopDirectory, ShopSettings, consume_batch, staff,
};
use ichigen_core::sample::SampleOrders;
use ichigen_core::{Marketplace, Order};
use ichigen_local::{EmlOutbox, MAIL_QUEUE, MAX_ATTEMPTS, SqliteQueue, SqliteStore};

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

    staff::release(&store, &mails, &NoStock, &policies, &key, now).await.unwrap();
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
            staff::hold(&store, &mails, &NoStock, &policies, &OrderKey::of(&o), "住所確認中", now).await.unwrap();
        }
        for job in jobs.into_iter().chain(mails.drain()) {
            let done = notifier.notify(&job, now).await.unwrap();
            assert!(matches!(done, ichigen_core::pipeline::Notified::Skipped(_)), "{then}: {done:?}");
        }
    }
    assert_eq!(delivered(&outbox, MailKind::Shipping), 0, "no shipping mail to a cancelled or held order");
}

/// Runs one embedded "run" of the notifier over the durable mail queue: a new consumer, as each
/// `ichigen demo` or `ichigen mail drain` is, taking until nothing is left for it.
async fn mail_run<M: ichigen_core::pipeline::Mailer>(
    store: &SqliteStore,
    notifier: &Notifier<&SqliteStore, &SqliteStore, &SqliteStore, M>,
    now: DateTime<FixedOffset>,
) -> (usize, usize) {
    let queue = SqliteQueue::<MailJob>::new(store, MAIL_QUEUE);
    let (mut sent, mut failed) = (0, 0);
    loop {
        let batch =
            consume_batch(&queue, 10, |job: MailJob| async move { notifier.handle(&job, now).await }).await.unwrap();
        if batch.taken == 0 {
            return (sent, failed);
        }
        sent += batch.done.len();
        failed += batch.failed + batch.dead_lettered;
    }
}

/// Issue 13: a poison mail job (its shop is not configured) fails each run until the queue gives
/// up on it after `MAX_ATTEMPTS` runs; it lands in the dead letters and the other jobs go on.
/// Redriven once the shop is configured, it is delivered once.
#[tokio::test]
async fn a_poison_mail_job_is_dead_lettered_after_its_tries_and_delivered_once_redriven() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("ichigen.db")).unwrap();
    shop(&store).await;
    let outbox = EmlOutbox::for_store(dir.path().join("outbox"), &store).unwrap();
    let policies = ichigen_marketplaces::policies();
    let queue = SqliteQueue::<MailJob>::new(&store, MAIL_QUEUE);
    let processor = Processor::new(&store, &store, &queue, policies, ProcessSettings::default());
    let notifier = Notifier::new(&store, &store, &store, &outbox, policies, Duration::from_secs(120));
    let now = at("2026-11-05T10:00:00+09:00");
    let clean = |n: usize, shop_id: &str| {
        let mut o = blacklisted(n);
        o.shop_id = shop_id.into();
        o.buyer.phone = Some("03-1111-2222".into());
        o.ship_to.phone = Some("03-1111-2222".into());
        o
    };
    // The poison job: an order of shop s2, whose settings are not stored (yet).
    let poison = clean(10, "s2");
    let stored = ichigen_core::pipeline::StoredOrder {
        order: poison.clone(),
        status: ichigen_core::OrderStatus::New,
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
        rev: 1,
        stored_at: now,
        expires_at: None,
    };
    ichigen_core::pipeline::OrderStore::put(&store, &stored, None).await.unwrap();
    queue.send_all(&[MailJob { order: OrderKey::of(&poison), kind: MailKind::ThankYou }]).await.unwrap();

    for run in 1..=MAX_ATTEMPTS as usize {
        // Each run brings a good order too: its thank-you goes out, whatever the poison job does.
        processor.process(clean(run, "s1"), now).await.unwrap();
        let (sent, failed) = mail_run(&store, &notifier, now).await;
        assert_eq!((sent, failed), (1, 1), "run {run}");
    }
    assert_eq!(delivered(&outbox, MailKind::ThankYou), MAX_ATTEMPTS as usize);
    let dead = store.dead_letters(None).unwrap();
    assert_eq!(dead.len(), 1, "{dead:?}");
    assert_eq!(dead[0].queue, MAIL_QUEUE);
    assert_eq!(dead[0].attempts, MAX_ATTEMPTS);
    assert_eq!(dead[0].about, format!("s2/yahoo/{} thank_you", poison.order_id));
    assert!(dead[0].reason.contains("shop s2 is not configured"), "{}", dead[0].reason);
    assert!(queue.is_empty().unwrap(), "the poison job left the queue");
    assert_eq!(mail_run(&store, &notifier, now).await, (0, 0), "later runs no longer fail on it");

    // Fixed: the shop is configured; redriven, the job is delivered, once.
    let mut s2 = ShopSettings::new("s2", "第二商店", "shop2@example.jp");
    s2.staff_to = vec!["staff@example.jp".into()];
    store.put_shop(&s2).await.unwrap();
    assert_eq!(store.redrive(Some("orders"), &[]).unwrap(), 0, "another queue's filter moves nothing");
    assert_eq!(store.redrive(None, &[dead[0].id]).unwrap(), 1);
    assert!(store.dead_letters(None).unwrap().is_empty());
    assert_eq!(mail_run(&store, &notifier, now).await, (1, 0));
    assert_eq!(mail_run(&store, &notifier, now).await, (0, 0));
    assert_eq!(delivered(&outbox, MailKind::ThankYou), MAX_ATTEMPTS as usize + 1);
}

/// An unreadable message is dead-lettered at once, by its position, and the rest go on.
#[tokio::test]
async fn an_unreadable_queue_message_is_dead_lettered_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ichigen.db");
    let store = SqliteStore::open(&path).unwrap();
    let queue = SqliteQueue::<MailJob>::new(&store, MAIL_QUEUE);
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute("INSERT INTO queue (name, body) VALUES ('mail', '{\"shop_id\": 山田')", [])
        .unwrap();
    let batch = consume_batch(&queue, 10, |_job: MailJob| async { Ok::<(), MessageFailure>(()) }).await.unwrap();
    assert_eq!((batch.taken, batch.dead_lettered), (1, 1));
    let dead = store.dead_letters(Some(MAIL_QUEUE)).unwrap();
    assert_eq!(dead.len(), 1);
    assert!(!dead[0].reason.contains("山田") && dead[0].reason.contains("line 1"), "{}", dead[0].reason);
}

/// The real SQLite ledger whose first claim is stored, then answered as failed (its answer lost
/// on the way back); every other call goes through.
struct ClaimAnswerLost<'a> {
    store: &'a SqliteStore,
    lost: std::sync::atomic::AtomicBool,
}

impl MailLedger for ClaimAnswerLost<'_> {
    async fn claim(
        &self,
        key: &MailKey,
        now: DateTime<FixedOffset>,
        lease_until: DateTime<FixedOffset>,
    ) -> Result<Claim, PortError> {
        let claim = self.store.claim(key, now, lease_until).await?;
        if !self.lost.swap(true, std::sync::atomic::Ordering::SeqCst) {
            return Err(PortError::retryable("sqlite claim mail", "the answer was lost"));
        }
        Ok(claim)
    }
    async fn mark_sent(&self, key: &MailKey, message_id: &str, at: DateTime<FixedOffset>) -> Result<(), PortError> {
        self.store.mark_sent(key, message_id, at).await
    }
    async fn release(&self, key: &MailKey) -> Result<(), PortError> {
        self.store.release(key).await
    }
}

impl ParkedMail for ClaimAnswerLost<'_> {
    async fn park(&self, job: &MailJob, at: DateTime<FixedOffset>) -> Result<bool, PortError> {
        self.store.park(job, at).await
    }
    async fn parked(&self, shop_id: &str, marketplace: Marketplace, limit: usize) -> Result<Vec<MailJob>, PortError> {
        self.store.parked(shop_id, marketplace, limit).await
    }
    async fn unpark(&self, job: &MailJob) -> Result<(), PortError> {
        self.store.unpark(job).await
    }
    async fn clear_waiting(&self, shop_id: &str, marketplace: Marketplace) -> Result<(), PortError> {
        self.store.clear_waiting(shop_id, marketplace).await
    }
}

impl MailEvents for ClaimAnswerLost<'_> {
    async fn record_event(&self, event: &MailEvent) -> Result<(), PortError> {
        self.store.record_event(event).await
    }
    async fn events(&self, shop_id: &str) -> Result<Vec<MailEvent>, PortError> {
        self.store.events(shop_id).await
    }
    async fn is_suppressed(&self, shop_id: &str, address: &str) -> Result<bool, PortError> {
        self.store.is_suppressed(shop_id, address).await
    }
}

/// Issue 13 (`timeout MailLedger.claim` of the fault harness): the claim is stored but its answer
/// is lost. Every run within the claim's lease meets it `Busy`; the job waits on the queue for
/// the lease's end without using up its tries, and is then delivered once. (Before, each run
/// counted a try, the job was dead-lettered after `MAX_ATTEMPTS` runs, and no mail went out.)
#[tokio::test]
async fn a_claim_whose_answer_was_lost_delivers_its_mail_once_after_the_lease_and_dead_letters_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("ichigen.db")).unwrap();
    shop(&store).await;
    let outbox = EmlOutbox::for_store(dir.path().join("outbox"), &store).unwrap();
    let policies = ichigen_marketplaces::policies();
    let queue = SqliteQueue::<MailJob>::new(&store, MAIL_QUEUE);
    let processor = Processor::new(&store, &store, &queue, policies, ProcessSettings::default());
    let mut clean = blacklisted(3);
    clean.buyer.phone = Some("03-1111-2222".into());
    clean.ship_to.phone = Some("03-1111-2222".into());
    processor.process(clean, chrono::Utc::now().fixed_offset()).await.unwrap();
    let lease = Duration::from_secs(2);
    let ledger = ClaimAnswerLost { store: &store, lost: false.into() };
    let notifier = Notifier::new(&store, &store, &ledger, &outbox, policies, lease);
    let run = || async {
        let queue = SqliteQueue::<MailJob>::new(&store, MAIL_QUEUE);
        let now = chrono::Utc::now().fixed_offset();
        let mut totals = (0, 0, 0);
        loop {
            let batch = consume_batch(&queue, 10, |job: MailJob| {
                let notifier = &notifier;
                async move { notifier.handle(&job, now).await }
            })
            .await
            .unwrap();
            if batch.taken == 0 {
                return totals;
            }
            totals.0 += batch.done.len();
            totals.1 += batch.failed + batch.dead_lettered;
            totals.2 += batch.put_back;
        }
    };
    let started = std::time::Instant::now();
    // The lost answer: the job fails once (its claim is stored).
    assert_eq!(run().await, (0, 1, 0));
    // The next run meets the live claim: put back until the lease ends, not a try.
    assert_eq!(run().await, (0, 0, 1));
    // More runs than the job has tries, all within the lease: the job is not taken, not buried.
    for _ in 0..MAX_ATTEMPTS {
        assert_eq!(run().await, (0, 0, 0));
    }
    assert!(started.elapsed() < lease, "the runs above ran within the lease (machine too slow)");
    assert!(store.dead_letters(None).unwrap().is_empty(), "nothing dead-lettered");
    assert_eq!(delivered(&outbox, MailKind::ThankYou), 0);
    tokio::time::sleep(lease.saturating_sub(started.elapsed()) + Duration::from_millis(100)).await;
    assert_eq!(run().await, (1, 0, 0), "taken again once the lease ended, and sent");
    assert_eq!(run().await, (0, 0, 0));
    assert_eq!(delivered(&outbox, MailKind::ThankYou), 1, "delivered exactly once");
    assert!(store.dead_letters(None).unwrap().is_empty() && queue.is_empty().unwrap());
}
