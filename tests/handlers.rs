//! The Lambda handlers on real SQS, DynamoDB and SES calls (moto server): duplicates and
//! reordering change nothing, a bad message fails alone and ends in the DLQ with its reason
//! logged, each mail goes out once; the puller pushes a stock master kept on DynamoDB to a
//! sandbox mall.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use chrono::TimeDelta;
use ichigen_core::pipeline::{MailJob, MailKind, MailTemplate, OrderStore, ShopDirectory};
use ichigen_core::sample::SampleOrders;
use ichigen_core::{Marketplace, Order, OrderStatus};
use ichigen_integration_tests::{AwsWorld, EXPIRY_PREFIX, logs};
use ichigen_lambda::Metrics;
use ichigen_sandbox::{Faults, SandboxConfig, Seed};

const SHOP: &str = "shop-1";

fn orders(marketplace: Marketplace, n: usize) -> Vec<Order> {
    let mut samples = SampleOrders::new(3);
    (0..n)
        .map(|i| {
            let mut o = samples.clean_order(marketplace, i);
            o.shop_id = SHOP.into();
            o
        })
        .collect()
}

fn bodies(orders: &[Order]) -> Vec<String> {
    orders.iter().map(|o| serde_json::to_string(o).unwrap()).collect()
}

async fn process_all(w: &AwsWorld) -> (usize, usize) {
    let p = w.processor();
    w.deliver(&w.orders_url, |event| {
        let p = &p;
        async move { ichigen_processor::handle(p, event, &mut Metrics::new("processor")).await }
    })
    .await
}

async fn notify_all(w: &AwsWorld) -> (usize, usize) {
    let n = w.notifier();
    w.deliver(&w.mail_url, |event| {
        let n = &n;
        async move { ichigen_notifier::handle(n, None, event, &mut Metrics::new("notifier")).await }
    })
    .await
}

fn jobs(bodies: &[String]) -> Vec<MailJob> {
    bodies.iter().map(|b| serde_json::from_str(b).unwrap()).collect()
}

#[tokio::test]
async fn duplicate_and_out_of_order_deliveries_change_nothing() {
    let w = AwsWorld::new(3).await;
    w.shop(SHOP, "").await;
    let mut two = orders(Marketplace::Rakuten, 2);
    let first = two[0].clone();
    let mut paid = first.clone();
    paid.status = OrderStatus::ReadyToShip;
    paid.source_updated_at = first.source_updated_at + TimeDelta::minutes(30);
    two.push(paid.clone());
    // Newer first, then the older version, then everything again.
    w.send_bodies(&w.orders_url, &bodies(&[paid.clone(), first.clone(), two[1].clone()])).await;
    w.send_bodies(&w.orders_url, &bodies(&two)).await;
    let (handled, failed) = process_all(&w).await;
    assert_eq!((handled, failed), (6, 0));

    let stored = w.store.get(&ichigen_core::pipeline::OrderKey::of(&first)).await.unwrap().unwrap();
    assert_eq!(stored.order.status, OrderStatus::ReadyToShip, "the older version never overwrote the newer");
    assert_eq!(stored.order.source_updated_at, paid.source_updated_at);
    assert!(stored.mails_due.is_empty());
    let mail_jobs = jobs(&w.drain(&w.mail_url).await);
    assert_eq!(mail_jobs.len(), 2, "one thank-you per order: {mail_jobs:?}");
    assert!(mail_jobs.iter().all(|j| j.kind == MailKind::ThankYou));

    // The whole lot redelivered: nothing changes, no mail job.
    w.send_bodies(&w.orders_url, &bodies(&two)).await;
    process_all(&w).await;
    assert!(w.drain(&w.mail_url).await.is_empty());
    assert_eq!(w.stored(SHOP).await.len(), 2);
}

#[tokio::test]
async fn a_bad_message_fails_alone_and_reaches_the_dlq_with_its_reason_logged() {
    let w = AwsWorld::new(3).await;
    w.shop(SHOP, "").await;
    let good = orders(Marketplace::Yahoo, 2);
    let mut invalid = orders(Marketplace::Yahoo, 3).pop().unwrap();
    invalid.totals.total += 100;
    let mut batch = bodies(&good[..1]);
    batch.push("{\"schema_version\": 1, \"shop_id\": ".to_string());
    batch.extend(bodies(&[invalid.clone()]));
    batch.extend(bodies(&good[1..]));
    w.send_bodies(&w.orders_url, &batch).await;

    let (captured, _guard) = logs::capture();
    let p = w.processor();
    let mut batches = 0;
    let first_failures = std::sync::Mutex::new(None);
    w.deliver(&w.orders_url, |event| {
        batches += 1;
        let (p, record, first_failures) = (&p, batches == 1, &first_failures);
        async move {
            let size = event.records.len();
            let r = ichigen_processor::handle(p, event, &mut Metrics::new("processor")).await;
            if record {
                *first_failures.lock().unwrap() = Some((size, r.batch_item_failures.len()));
            }
            r
        }
    })
    .await;
    assert_eq!(
        first_failures.into_inner().unwrap(),
        Some((4, 2)),
        "the first batch of 4 failed only its 2 bad messages"
    );
    assert_eq!(w.stored(SHOP).await.len(), 2, "both good orders are stored");
    assert_eq!(w.depth(&w.orders_url).await, 0);
    let dead = w.drain(&w.orders_dlq_url).await;
    assert_eq!(dead.len(), 2, "both bad messages are in the DLQ after 3 receives");

    let log = captured.text();
    let failures: Vec<serde_json::Value> = log
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["fields"]["message"] == "message failed")
        .collect();
    assert_eq!(failures.len(), 6, "each bad message logged at each of its 3 receives");
    assert!(failures.iter().any(|v| v["fields"]["reason"].as_str().unwrap().contains("is not a valid message")));
    let invalid_reason = failures
        .iter()
        .find(|v| v["fields"]["reason"].as_str().unwrap().contains("totals"))
        .expect("the invalid order's reason names the field");
    assert_eq!(invalid_reason["fields"]["retryable"], false);
    assert!(failures.iter().any(|v| v["fields"]["receive_count"] == "3"));
    for value in [&invalid.buyer.name, &invalid.ship_to.address1] {
        assert!(!log.contains(value.as_str()), "no personal data in logs");
    }
}

#[tokio::test]
async fn each_mail_goes_out_once_and_amazon_buyers_get_none() {
    let w = AwsWorld::new(3).await;
    w.shop(SHOP, "[[blacklist]]\nphone = \"090-0000-0000\"\nreason = \"受取拒否\"\n").await;
    // Yahoo: its buyer mail takes SES (楽天's takes the relay: tests/routes.rs).
    let mut list = orders(Marketplace::Yahoo, 2);
    let mut held = list.pop().unwrap();
    held.buyer.phone = Some("090-0000-0000".into());
    let mut amazon = orders(Marketplace::Amazon, 1);
    list.append(&mut amazon);
    list.push(held.clone());
    w.send_bodies(&w.orders_url, &bodies(&list)).await;
    process_all(&w).await;
    let queued = w.drain(&w.mail_url).await;
    assert_eq!(
        jobs(&queued).iter().map(|j| j.kind).collect::<Vec<_>>(),
        vec![MailKind::ThankYou, MailKind::StaffAlert]
    );
    // Each job delivered twice, as SQS may.
    w.send_bodies(&w.mail_url, &queued).await;
    w.send_bodies(&w.mail_url, &queued).await;
    let (handled, failed) = notify_all(&w).await;
    assert_eq!((handled, failed), (4, 0));
    let sent = w.sent_mail().await;
    assert_eq!(sent.len(), 2, "{sent:?}");
    let thanks = sent.iter().find(|m| m.to == [list[0].buyer.email.clone().unwrap()]).expect("thank-you to the buyer");
    assert_eq!(
        thanks.subject.as_deref(),
        Some(format!("【いちげん商店】ご注文ありがとうございます（ご注文番号：{}）", list[0].order_id).as_str())
    );
    let alert = sent.iter().find(|m| m.to == [ichigen_integration_tests::STAFF_TO]).expect("staff alert");
    assert!(alert.body.as_deref().unwrap().contains("【保留】ブラックリストに該当"));
    assert!(alert.subject.as_deref().unwrap().contains(&held.order_id));
}

#[tokio::test]
async fn a_broken_template_fails_only_its_mail() {
    let w = AwsWorld::new(2).await;
    let mut shop = w.shop(SHOP, "").await;
    shop.templates.insert(
        MailKind::ThankYou,
        MailTemplate { subject: "{{ shop.name }} {{ order.no_such_field }}".into(), body: "x".into() },
    );
    w.store.put_shop(&shop).await.unwrap();
    let other = w.shop("shop-2", "").await;
    let mut list = orders(Marketplace::Qoo10, 1);
    let mut fine = orders(Marketplace::Qoo10, 2).pop().unwrap();
    fine.shop_id = other.shop_id.clone();
    list.push(fine.clone());
    w.send_bodies(&w.orders_url, &bodies(&list)).await;
    process_all(&w).await;
    let (captured, _guard) = logs::capture();
    let (handled, failed) = notify_all(&w).await;
    assert_eq!((handled, failed), (1, 2), "the broken mail failed at each of its 2 receives, the other went out");
    assert_eq!(w.sent_mail().await.len(), 1);
    assert_eq!(w.drain(&w.mail_dlq_url).await.len(), 1);
    assert!(captured.text().contains("thank_you template of shop shop-1"), "{}", captured.text());
}

#[tokio::test]
async fn puller_queues_a_sandbox_window_quarantines_a_broken_order_and_moves_its_watermark() {
    let w = AwsWorld::new(3).await;
    let now = chrono::Utc::now().fixed_offset();
    let seed = Seed { orders: 30, seed: 9, start: now - TimeDelta::hours(20), step_secs: 300, shop_id: SHOP.into() };
    let first = ichigen_sandbox::seed_orders(Marketplace::Rakuten, &seed);
    let config = SandboxConfig { port: 0, seed, faults: Faults::default(), throttle: None };
    let sandbox = ichigen_sandbox::start(Marketplace::Rakuten, config).await.unwrap();
    let broken = sandbox.book.all()[4].order_id.clone();
    sandbox.faults.set(Faults { corrupt_orders: vec![broken.clone()], ..Faults::default() });
    w.put_secret(
        "/ichigen/test/credentials/shop-1/rakuten",
        &ichigen_sandbox::secret_json(Marketplace::Rakuten, &sandbox),
    )
    .await;
    let app = w.puller("/ichigen/test/credentials/", Duration::from_secs(48 * 3600));
    let event = ichigen_puller::PullEvent { shop_id: SHOP.into(), marketplace: Marketplace::Rakuten };
    let deadline = Instant::now() + Duration::from_secs(60);
    let report = app.handle(&event, deadline, &mut Metrics::new("puller")).await.expect("pulled");
    assert!(report.finished);
    assert_eq!(report.queued + report.quarantined, first.len());
    assert_eq!(report.quarantined, 1);
    assert_eq!(w.drain(&w.orders_url).await.len(), first.len() - 1);
    let dead = w.drain(&w.orders_dlq_url).await;
    assert_eq!(dead.len(), 1);
    assert!(dead[0].contains(&broken), "the quarantined message names the order: {}", dead[0]);
    let mark = ichigen_core::pipeline::WatermarkStore::get_watermark(&w.store, SHOP, Marketplace::Rakuten)
        .await
        .unwrap()
        .expect("watermark");
    assert_eq!(mark.pulled_to, report.pulled_to);

    // The next run reads only the overlap: nothing changed there, so all it may queue again are
    // orders it already had (楽天's date-only 発送日 matches every window of its ship day).
    let again = app.handle(&event, deadline, &mut Metrics::new("puller")).await.expect("pulled again");
    let known: std::collections::HashSet<String> = sandbox.book.all().into_iter().map(|o| o.order_id).collect();
    let requeued = w.drain(&w.orders_url).await;
    assert_eq!(requeued.len(), again.queued);
    assert!(again.queued < 5, "{again:?}");
    for body in &requeued {
        let order: ichigen_core::Order = serde_json::from_str(body).expect("an order");
        assert!(known.contains(&order.order_id) && order.order_id != broken, "{}", order.order_id);
    }

    // A run with no time left saves its place and queues nothing.
    let cut = app.handle(&event, Instant::now(), &mut Metrics::new("puller")).await.expect("cut");
    assert!(!cut.finished);
    assert_eq!(cut.pages, 0);
}

#[tokio::test]
async fn a_broken_order_seen_on_every_pull_is_quarantined_once() {
    use ichigen_core::pipeline::{Quarantine, Rejected};
    let w = AwsWorld::new(3).await;
    let q = ichigen_aws::OnceQuarantine::new(
        w.store.clone(),
        ichigen_aws::SqsQuarantine::new(w.sqs.clone(), w.orders_dlq_url.clone()),
    );
    let broken = Rejected {
        shop_id: SHOP.into(),
        marketplace: Marketplace::Yahoo,
        order_id: Some("shop-1-10000001".into()),
        reason: "OrderTime: missing".into(),
    };
    // Yahoo re-reads its look-back on every pull: the same order comes back each time.
    for _ in 0..3 {
        q.quarantine(std::slice::from_ref(&broken)).await.unwrap();
    }
    let mut other_reason = broken.clone();
    other_reason.reason = "TotalPrice: does not add up".into();
    let mut no_id = broken.clone();
    no_id.order_id = None;
    q.quarantine(&[other_reason, no_id]).await.unwrap();
    let dead = w.drain(&w.orders_dlq_url).await;
    assert_eq!(dead.len(), 3, "once per order and reason, and every one without an id: {dead:?}");
}

/// A marketplace whose one page holds the orders given (one of them larger than a queue message
/// may be): the puller and the real SQS adapter are under test, not a marketplace client.
struct OnePage(Vec<Order>);

impl ichigen_core::pipeline::OrderSource for OnePage {
    type Error = ichigen_marketplaces::client::ClientError;
    fn marketplace(&self) -> Marketplace {
        Marketplace::Yahoo
    }
    async fn changed_orders(
        &self,
        _: &ichigen_core::pipeline::Window,
        _: Option<&str>,
    ) -> Result<ichigen_core::pipeline::OrderPage, Self::Error> {
        Ok(ichigen_core::pipeline::OrderPage { orders: self.0.clone(), ..Default::default() })
    }
    fn max_ids_per_call(&self) -> usize {
        10
    }
    async fn orders_by_id(&self, _: &[String]) -> Result<ichigen_core::pipeline::OrderPage, Self::Error> {
        Ok(ichigen_core::pipeline::OrderPage::default())
    }
    async fn register_tracking(&self, _: &Order, _: &ichigen_core::Tracking) -> Result<(), Self::Error> {
        Ok(())
    }
}

#[tokio::test]
async fn an_order_too_large_for_a_queue_message_is_quarantined_by_id_and_its_pair_moves_on() {
    let w = AwsWorld::new(3).await;
    let mut samples = SampleOrders::new(8);
    let mut orders: Vec<Order> = (0..3).map(|n| samples.clean_order(Marketplace::Yahoo, n)).collect();
    for o in &mut orders {
        o.shop_id = SHOP.into();
    }
    // Valid, but 300 KB as JSON: over SQS's 256 KiB.
    orders[1].remarks = "長".repeat(100_000);
    let big = orders[1].order_id.clone();
    let queue = ichigen_aws::SqsQueue::new(w.sqs.clone(), w.orders_url.clone());
    let quarantine = ichigen_aws::OnceQuarantine::new(
        w.store.clone(),
        ichigen_aws::SqsQuarantine::new(w.sqs.clone(), w.orders_dlq_url.clone()),
    );
    let source = OnePage(orders);
    let mails = ichigen_aws::SqsQueue::<ichigen_core::pipeline::MailJob>::new(w.sqs.clone(), w.mail_url.clone());
    let notices = ichigen_core::pipeline::memory::MemoryNotices::new();
    let puller = ichigen_core::pipeline::Puller {
        source: &source,
        queue: &queue,
        marks: &w.store,
        quarantine: &quarantine,
        store: &w.store,
        mails: &mails,
        notices: &notices,
        policy: ichigen_marketplaces::policies().of(Marketplace::Yahoo),
        settings: ichigen_core::pipeline::PullSettings::default(),
    };
    let now = chrono::Utc::now().fixed_offset();
    let report = puller.run(SHOP, now, || Duration::from_secs(60)).await.expect("the pull goes on");
    assert_eq!((report.queued, report.quarantined, report.finished), (2, 1, true), "{report:?}");
    assert_eq!(w.drain(&w.orders_url).await.len(), 2);
    let dead = w.drain(&w.orders_dlq_url).await;
    assert_eq!(dead.len(), 1);
    assert!(dead[0].contains(&big) && dead[0].contains("bytes"), "quarantined by id, with why: {}", dead[0]);
    assert!(!dead[0].contains("長長長"), "the order's text is not in the quarantine message");
    let mark = ichigen_core::pipeline::WatermarkStore::get_watermark(&w.store, SHOP, Marketplace::Yahoo)
        .await
        .unwrap()
        .expect("watermark");
    assert_eq!(mark.pulled_to, now, "the pair moved past the page");
}

#[tokio::test]
async fn a_quarantine_send_that_fails_leaves_no_marker_so_the_next_sighting_forwards_the_order() {
    use ichigen_core::pipeline::{Quarantine, Rejected};
    let w = AwsWorld::new(3).await;
    let broken = Rejected {
        shop_id: SHOP.into(),
        marketplace: Marketplace::Yahoo,
        order_id: Some("shop-1-10000002".into()),
        reason: "OrderTime: missing".into(),
    };
    // The quarantine queue refuses the send (here: it does not exist).
    let gone = format!("{}/{}/ichigen-no-such-queue", w.endpoint, w.account);
    let failing =
        ichigen_aws::OnceQuarantine::new(w.store.clone(), ichigen_aws::SqsQuarantine::new(w.sqs.clone(), gone));
    assert!(failing.quarantine(std::slice::from_ref(&broken)).await.is_err());
    // The next pull sees the order again: it must reach the queue now, not be taken for sent.
    let q = ichigen_aws::OnceQuarantine::new(
        w.store.clone(),
        ichigen_aws::SqsQuarantine::new(w.sqs.clone(), w.orders_dlq_url.clone()),
    );
    q.quarantine(std::slice::from_ref(&broken)).await.unwrap();
    q.quarantine(std::slice::from_ref(&broken)).await.unwrap();
    let dead = w.drain(&w.orders_dlq_url).await;
    assert_eq!(dead.len(), 1, "forwarded once, after the failed send: {dead:?}");
}

#[tokio::test]
async fn a_refresh_token_the_marketplace_rotates_is_saved_back_to_the_pairs_parameter() {
    let w = AwsWorld::new(3).await;
    let now = chrono::Utc::now().fixed_offset();
    let seed = Seed { orders: 5, seed: 4, start: now - TimeDelta::hours(5), step_secs: 600, shop_id: SHOP.into() };
    let config = SandboxConfig { port: 0, seed, faults: Faults::default(), throttle: None };
    let (sandbox, control) = ichigen_sandbox::yahoo::start_with_control(config).await.unwrap();
    control.rotate_refresh_tokens(true);
    let name = "ichigen/test/shop-1/yahoo";
    let stored = ichigen_sandbox::secret_json(Marketplace::Yahoo, &sandbox);
    w.put_secret(name, &stored).await;
    let old: serde_json::Value = serde_json::from_str(&stored).unwrap();
    let app = w.puller("ichigen/test/", Duration::from_secs(24 * 3600));
    let event = ichigen_puller::PullEvent { shop_id: SHOP.into(), marketplace: Marketplace::Yahoo };
    let deadline = Instant::now() + Duration::from_secs(60);
    let report = app.handle(&event, deadline, &mut Metrics::new("puller")).await.expect("pulled");
    assert_eq!(report.queued, 5);
    let saved: serde_json::Value = serde_json::from_str(&w.secret(name).await).unwrap();
    assert_ne!(saved["refresh_token"], old["refresh_token"], "the rotated token is saved");
    assert_eq!(saved["client_secret"], old["client_secret"], "the rest of the secret is kept");
    // The rotated token's life (28 days) is in the pair's expiry record for the daily check.
    let record: serde_json::Value =
        serde_json::from_str(&w.secret(&format!("{EXPIRY_PREFIX}{SHOP}/yahoo")).await).unwrap();
    let expected = (chrono::Utc::now().with_timezone(&ichigen_core::JST) + TimeDelta::days(28)).date_naive();
    assert_eq!(record["refresh_token"], expected.format("%Y-%m-%d").to_string(), "{record}");
    // The old token no longer works at the sandbox: a run that needs a new access token succeeds
    // only with the saved one (a fresh puller, as after a cold start).
    let cold = w.puller("ichigen/test/", Duration::from_secs(24 * 3600));
    cold.handle(&event, deadline, &mut Metrics::new("puller")).await.expect("pulled with the saved token");
}

#[tokio::test]
async fn the_daily_check_tells_the_alarm_topic_of_credentials_about_to_expire_once_and_says_nothing_when_all_is_well() {
    let w = AwsWorld::new(3).await;
    let today = chrono::Utc::now().with_timezone(&ichigen_core::JST).date_naive();
    let seed =
        Seed { orders: 2, seed: 4, start: chrono::Utc::now().fixed_offset(), step_secs: 600, shop_id: SHOP.into() };
    let config = SandboxConfig { port: 0, seed, faults: Faults::default(), throttle: None };
    let (sandbox, back) = ichigen_sandbox::rakuten::start_with_back_office(config, 15_000).await.unwrap();
    back.set_license_last_day(today + TimeDelta::days(10));
    w.put_secret(
        "/ichigen/test/credentials/shop-1/rakuten",
        &ichigen_sandbox::secret_json(Marketplace::Rakuten, &sandbox),
    )
    .await;
    // As Terraform creates them: 楽天's date unknown to the operator, Yahoo's recorded far ahead
    // but its credentials parameter still the placeholder.
    put_string(&w, &format!("{EXPIRY_PREFIX}{SHOP}/rakuten"), r#"{"license_key": "unknown"}"#).await;
    let far = (today + TimeDelta::days(200)).format("%Y-%m-%d");
    put_string(
        &w,
        &format!("{EXPIRY_PREFIX}shop-2/yahoo"),
        &format!(r#"{{"refresh_token": "{far}", "public_key": "{far}"}}"#),
    )
    .await;
    w.put_secret("/ichigen/test/credentials/shop-2/yahoo", "PLACEHOLDER: put this pair's credentials JSON here").await;
    let app = w.puller("/ichigen/test/credentials/", Duration::from_secs(3600));
    let event: ichigen_puller::PullerEvent = serde_json::from_str(r#"{"check": "credentials"}"#).unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);

    let outcome = app.handle_event(&event, deadline, &mut Metrics::new("puller")).await.expect("checked");
    let ichigen_puller::Outcome::Check(report) = outcome else { panic!("{outcome:?}") };
    assert_eq!((report.pairs, report.due, report.notified), (2, 2, true), "{report:?}");
    let notices = w.drain(&w.notices_url).await;
    assert_eq!(notices.len(), 1, "one notice for the whole check: {notices:?}");
    let notice = &notices[0];
    assert!(notice.contains("shop-1 / rakuten / license_key"), "{notice}");
    assert!(notice.contains("あと 10 日") && notice.contains("モールの API による"), "{notice}");
    assert!(notice.contains("shop-2 / yahoo / api：確認できません"), "unset credentials are told: {notice}");
    assert!(!notice.contains("refresh_token"), "Yahoo's dates are far: {notice}");
    assert!(!notice.contains(ichigen_sandbox::rakuten::LICENSE_KEY), "no credential in a notice");

    // Renewed (a new key valid 90 days) and Yahoo's credentials set up: the next day's check is silent.
    back.set_license_last_day(today + TimeDelta::days(90));
    let ssm = aws_sdk_ssm::Client::new(&w.sdk);
    ssm.delete_parameter().name(format!("{EXPIRY_PREFIX}shop-2/yahoo")).send().await.unwrap();
    let quiet = app.check_credentials(today + TimeDelta::days(1)).await.expect("checked");
    assert_eq!((quiet.pairs, quiet.due, quiet.notified), (1, 0, false), "{quiet:?}");
    assert!(w.drain(&w.notices_url).await.is_empty());
}

/// Writes a plain String SSM parameter (an expiry record, as the operator does).
async fn put_string(w: &AwsWorld, name: &str, value: &str) {
    let ssm = aws_sdk_ssm::Client::new(&w.sdk);
    ssm.put_parameter()
        .name(name)
        .value(value)
        .r#type(aws_sdk_ssm::types::ParameterType::String)
        .overwrite(true)
        .send()
        .await
        .expect("put parameter");
}

#[tokio::test]
async fn a_digest_schedule_mails_the_shops_staff_one_digest_per_window_through_ses() {
    use ichigen_core::pipeline::{DigestWindow, StaffAlerts};
    let w = AwsWorld::new(3).await;
    let mut shop = w.shop(SHOP, "").await;
    shop.staff_alerts = StaffAlerts::digest(15).unwrap();
    w.store.put_shop(&shop).await.unwrap();
    // A held order (a remark) stored during the window that closed last. Started well inside the
    // current window, so the notifier below sees the same last window.
    let now = chrono::Utc::now().fixed_offset();
    let next_close = DigestWindow::last_closed(now, 15).end + TimeDelta::minutes(15);
    if (next_close - now) < TimeDelta::seconds(60) {
        tokio::time::sleep((next_close - now + TimeDelta::seconds(1)).to_std().unwrap()).await;
    }
    let window = DigestWindow::last_closed(chrono::Utc::now().fixed_offset(), 15);
    let mut held = orders(Marketplace::Yahoo, 1).remove(0);
    held.remarks = "領収書をお願いします".into();
    let p = w.processor();
    p.process(held.clone(), window.start + TimeDelta::minutes(1)).await.unwrap();
    notify_all(&w).await;
    assert!(w.sent_mail().await.iter().all(|m| m.to != [ichigen_integration_tests::STAFF_TO]), "no alert per order");

    // The schedule's event, exactly as infra/scheduler.tf writes it.
    let event = serde_json::json!({ "digest": SHOP });
    let ichigen_notifier::Invocation::Digest(digest) = ichigen_notifier::Invocation::from_json(event).unwrap() else {
        panic!("a digest event")
    };
    let n = w.notifier();
    for _ in 0..2 {
        ichigen_notifier::handle_digest(&n, &digest, &mut Metrics::new("notifier")).await.unwrap();
    }
    let digests: Vec<_> =
        w.sent_mail().await.into_iter().filter(|m| m.to == [ichigen_integration_tests::STAFF_TO]).collect();
    assert_eq!(digests.len(), 1, "one digest for the window, however often the schedule asks");
    let body = digests[0].body.clone().unwrap_or_default();
    assert!(body.contains(&held.order_id) && body.contains("領収書をお願いします"), "{body}");
}

/// (on hand, reserved, allotted to `holder`) of `sku` in the DynamoDB stock master.
async fn ledger(w: &AwsWorld, sku: &str, holder: &str) -> (i64, i64, i64) {
    use ichigen_core::stock::StockStore;
    let row = w.store.stocks(SHOP).await.unwrap().into_iter().find(|s| s.sku == sku).expect("the SKU");
    (row.on_hand, row.reserved, row.allotted_to(holder))
}

/// A world with the shop, the Yahoo sandbox (seeded with `seed`, showing writes at once) listing
/// `mug-wht` with nothing to sell yet (the cancel of a sale restocks: the item says so), the
/// pair's credentials, and the shop's stock master on DynamoDB: 10 mugs. Returns the running
/// sandbox (it stops when dropped), its control and when the stocktake was.
async fn yahoo_and_ten_mugs(
    seed: u64,
) -> (AwsWorld, ichigen_sandbox::Started, ichigen_sandbox::yahoo::Control, chrono::DateTime<chrono::FixedOffset>) {
    use ichigen_core::stock::{Count, Edit, StockStore};
    let w = AwsWorld::new(3).await;
    w.shop(SHOP, "").await;
    let now = chrono::Utc::now().with_timezone(&ichigen_core::JST);
    // Whole seconds: Yahoo's search times have no fractions.
    let start = now - TimeDelta::hours(2);
    let start = start - TimeDelta::nanoseconds(i64::from(chrono::Timelike::nanosecond(&start)));
    let seed = Seed { orders: 0, seed, start, step_secs: 600, shop_id: SHOP.into() };
    let config = SandboxConfig { port: 0, seed, faults: Faults::default(), throttle: None };
    let (sandbox, control) = ichigen_sandbox::yahoo::start_with_control(config).await.unwrap();
    control.shelf().set_latency(Duration::ZERO);
    control.list_item("mug-wht", 0, true);
    w.put_secret("ichigen/test/shop-1/yahoo", &ichigen_sandbox::secret_json(Marketplace::Yahoo, &sandbox)).await;
    let by = Edit { who: "山田", why: "棚卸", at: now };
    w.store.count(SHOP, "MUG", Some("マグカップ"), Count::Set(10), &by).await.unwrap();
    (w, sandbox, control, now)
}

#[tokio::test]
async fn the_puller_pushes_a_stock_master_kept_on_dynamodb_to_the_mall_and_holds_a_sale_once() {
    use ichigen_core::stock::{Listing, Part, StockStore};
    // 10 mugs, sold on Yahoo as mug-wht.
    let (w, _sandbox, control, _) = yahoo_and_ten_mugs(11).await;
    let listing = Listing {
        marketplace: Marketplace::Yahoo,
        item: "mug-wht".into(),
        parts: vec![Part { sku: "MUG".into(), units: 1 }],
    };
    w.store.put_listing(SHOP, &listing).await.unwrap();
    let holder = "yahoo:mug-wht";

    let app = w.puller("ichigen/test/", Duration::from_secs(24 * 3600));
    let event = ichigen_puller::PullEvent { shop_id: SHOP.into(), marketplace: Marketplace::Yahoo };
    let deadline = Instant::now() + Duration::from_secs(60);
    let first = app.handle(&event, deadline, &mut Metrics::new("puller")).await.expect("pulled");
    assert_eq!(first.stock.failure, None, "{:?}", first.stock);
    assert_eq!((first.stock.items_pushed, first.stock.units_pushed), (1, 10), "{:?}", first.stock);
    assert_eq!(control.stock("mug-wht"), Some(10), "the mall shows the shop's 10");
    assert_eq!(control.shelf().write_calls(), 1);
    assert_eq!(ledger(&w, "MUG", holder).await, (10, 0, 10), "the item's allotment is what it shows");
    let record = w.store.push_state(SHOP, Marketplace::Yahoo).await.unwrap().expect("the pair's push record");
    assert_eq!(record.items.get("mug-wht").and_then(|r| r.written), Some(10));

    // A buyer takes 3: the mall counts down itself. The next run holds the order (on DynamoDB)
    // before it pushes, and writes nothing: the mall already shows the item's allotment.
    let order = control.buy(&[("mug-wht", 3)]).expect("in stock");
    assert_eq!(control.stock("mug-wht"), Some(7));
    // Yahoo's search lists up to a second before now.
    tokio::time::sleep(Duration::from_millis(2_100)).await;
    let second = app.handle(&event, deadline, &mut Metrics::new("puller")).await.expect("pulled");
    assert_eq!(second.stock.failure, None, "{:?}", second.stock);
    assert_eq!(second.stock.orders_held, 1, "{:?}", second.stock);
    assert_eq!((second.stock.items_pushed, second.stock.items_unchanged), (0, 1), "{:?}", second.stock);
    assert_eq!(control.shelf().write_calls(), 1, "the sold units are not given back");
    assert_eq!(ledger(&w, "MUG", holder).await, (10, 3, 7));
    // The processor stores the same order with the same stock: it is held once.
    let (handled, failed) = process_all(&w).await;
    assert_eq!((handled, failed), (1, 0));
    assert_eq!(ledger(&w, "MUG", holder).await, (10, 3, 7), "reserved once, by the puller and the processor");

    // Cancelled: Yahoo gives the units back itself; the ledger releases them, credits them to
    // the item, and sees no drift.
    control.cancel(&order).expect("cancelled");
    assert_eq!(control.stock("mug-wht"), Some(10));
    tokio::time::sleep(Duration::from_millis(2_100)).await;
    let third = app.handle(&event, deadline, &mut Metrics::new("puller")).await.expect("pulled");
    assert_eq!(third.stock.failure, None, "{:?}", third.stock);
    assert!(third.stock.drift.is_empty(), "{:?}", third.stock);
    assert_eq!(ledger(&w, "MUG", holder).await, (10, 0, 10));
    assert_eq!(control.stock("mug-wht"), Some(10));
}

#[tokio::test]
async fn a_share_moved_for_another_mall_sends_it_a_follow_up_and_a_follow_up_pushes_without_pulling() {
    use ichigen_core::pipeline::WatermarkStore;
    use ichigen_core::stock::{Count, Edit, Listing, Part, StockStore};
    use ichigen_puller::FollowUp;
    // 10 mugs, sold on Yahoo and on Amazon: five each.
    let (w, _sandbox, control, now) = yahoo_and_ten_mugs(12).await;
    let by = Edit { who: "山田", why: "棚卸", at: now };
    for (marketplace, item) in [(Marketplace::Yahoo, "mug-wht"), (Marketplace::Amazon, "mug-a")] {
        let listing = Listing { marketplace, item: item.into(), parts: vec![Part { sku: "MUG".into(), units: 1 }] };
        w.store.put_listing(SHOP, &listing).await.unwrap();
    }
    let follow_ups = |bodies: Vec<String>| -> Vec<FollowUp> {
        bodies.iter().map(|b| serde_json::from_str(b).expect("a follow-up")).collect()
    };
    let amazon = FollowUp { shop_id: SHOP.into(), marketplace: Marketplace::Amazon };
    let yahoo = FollowUp { shop_id: SHOP.into(), marketplace: Marketplace::Yahoo };

    // Yahoo's scheduled run takes its five; Amazon's five wait for Amazon's run: it is sent a
    // follow-up instead of waiting for its schedule.
    let app = w.puller("ichigen/test/", Duration::from_secs(24 * 3600));
    let event = ichigen_puller::PullEvent { shop_id: SHOP.into(), marketplace: Marketplace::Yahoo };
    let deadline = Instant::now() + Duration::from_secs(60);
    let first = app.handle(&event, deadline, &mut Metrics::new("puller")).await.expect("pulled");
    assert_eq!(control.stock("mug-wht"), Some(5));
    assert_eq!(first.stock.rebalance.iter().copied().collect::<Vec<_>>(), vec![Marketplace::Amazon]);
    assert_eq!(follow_ups(w.drain(&w.follow_ups_url).await), vec![amazon.clone()]);

    // Staff count 14: a follow-up of Yahoo's (as the queue delivers it to the Lambda) writes
    // its new share, 7, without pulling — the watermark stays — and sends Amazon one again,
    // which the Lambda drops: the shop has no Amazon pair here.
    w.store.count(SHOP, "MUG", None, Count::Set(14), &by).await.unwrap();
    let mark = |w: &AwsWorld| {
        let store = w.store.clone();
        async move { store.get_watermark(SHOP, Marketplace::Yahoo).await.unwrap().expect("watermark") }
    };
    let before = mark(&w).await;
    let queue = ichigen_aws::SqsQueue::<FollowUp>::new(w.sqs.clone(), w.follow_ups_url.clone());
    queue.send_after(&yahoo, Duration::ZERO).await.expect("sent");
    let seen = std::sync::Mutex::new(Vec::new());
    let (handled, failed) = w
        .deliver(&w.follow_ups_url, |batch| {
            seen.lock().unwrap().extend(batch.records.iter().filter_map(|r| r.body.clone()));
            let app = &app;
            async move { app.follow_ups(batch, deadline, &mut Metrics::new("puller")).await }
        })
        .await;
    assert_eq!((handled, failed), (2, 0));
    assert_eq!(follow_ups(seen.into_inner().unwrap()), vec![yahoo.clone(), amazon]);
    assert_eq!(control.stock("mug-wht"), Some(7));
    assert_eq!(control.shelf().write_calls(), 2);
    let after = mark(&w).await;
    assert_eq!((after.rev, after.pulled_to), (before.rev, before.pulled_to), "a follow-up does not pull");

    // Within the gap of the pair's last write, a follow-up runs nothing and is put back.
    let mut config = w.puller_config("ichigen/test/", Duration::from_secs(24 * 3600));
    config.follow_up_gap = Duration::from_secs(3600);
    let patient = ichigen_puller::App::new(config, &w.sdk);
    w.store.count(SHOP, "MUG", None, Count::Set(20), &by).await.unwrap();
    let mut record = aws_lambda_events::event::sqs::SqsMessage::default();
    record.message_id = Some("follow-up-1".into());
    record.body = Some(serde_json::to_string(&yahoo).unwrap());
    let mut batch = aws_lambda_events::event::sqs::SqsEvent::default();
    batch.records.push(record);
    let response = patient.follow_ups(batch, deadline, &mut Metrics::new("puller")).await;
    let put_back: Vec<_> = response.batch_item_failures.iter().map(|f| f.item_identifier.as_str()).collect();
    assert_eq!(put_back, ["follow-up-1"], "put back for the rest of the gap");
    assert_eq!((control.stock("mug-wht"), control.shelf().write_calls()), (Some(7), 2));
}
