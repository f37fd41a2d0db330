//! The whole pipeline on real calls: the five sandbox marketplaces → pullers → orders queue →
//! processor → DynamoDB → mail queue → notifier → SES (read back from moto), and 楽天 buyer mail
//! through 楽天's relay (the SMTP test server, read back from what it received). Exactly one
//! thank-you per clean non-Amazon order, one staff alert per held order, nothing to Amazon
//! buyers; one shipping mail with a working tracking URL after a tracking number is registered;
//! running every step again sends nothing more.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use chrono::{TimeDelta, Utc};
use ichigen_core::pipeline::StoredOrder;
use ichigen_core::sample::{BLACKLISTED_NAME, BLACKLISTED_PHONE};
use ichigen_core::{BundleIndex, Carrier, CheckEngine, Marketplace, OrderStatus, Rules, Tracking};
use ichigen_integration_tests::{AwsWorld, STAFF_TO, is_thanks, relay_mail, subject_order_id};
use ichigen_lambda::Metrics;
use ichigen_marketplaces::client::{OrderSource, RetryPolicy};
use ichigen_marketplaces::{HttpSettings, MarketplaceSecret, build_client};
use ichigen_sandbox::{Faults, SandboxConfig, Seed, Started};
use ichigen_testkit::moto::SentMail;

const SHOP: &str = "shop-e2e";
const PREFIX: &str = "/ichigen/e2e/credentials/";
const FIVE: [Marketplace; 5] =
    [Marketplace::Rakuten, Marketplace::Yahoo, Marketplace::Amazon, Marketplace::Aupay, Marketplace::Qoo10];

fn rules() -> String {
    format!("[[blacklist]]\nname = \"{BLACKLISTED_NAME}\"\nphone = \"{BLACKLISTED_PHONE}\"\nreason = \"受取拒否\"\n")
}

/// Every step once: each puller, then the processor and the notifier until their queues are empty.
async fn run_pipeline(w: &AwsWorld, puller: &ichigen_puller::App) -> Vec<String> {
    for marketplace in FIVE {
        let event = ichigen_puller::PullEvent { shop_id: SHOP.into(), marketplace };
        let deadline = Instant::now() + Duration::from_secs(120);
        let report = puller.handle(&event, deadline, &mut Metrics::new("puller")).await.expect("pull");
        assert!(report.finished, "{report:?}");
        assert_eq!(report.quarantined, 0, "{report:?}");
    }
    let processor = w.processor();
    let (_, failed) = w
        .deliver(&w.orders_url, |event| {
            let p = &processor;
            async move { ichigen_processor::handle(p, event, &mut Metrics::new("processor")).await }
        })
        .await;
    assert_eq!(failed, 0);
    // Keep every mail job that passes, to deliver them all again at the end.
    let mut jobs = Vec::new();
    let notifier = w.notifier_with(PREFIX);
    let (_, failed) = w
        .deliver(&w.mail_url, |event| {
            jobs.extend(event.records.iter().filter_map(|r| r.body.clone()));
            let n = &notifier;
            async move { ichigen_notifier::handle(n, None, event, &mut Metrics::new("notifier")).await }
        })
        .await;
    assert_eq!(failed, 0);
    jobs
}

fn ids_in_subjects(mail: &[SentMail], pick: impl Fn(&SentMail) -> bool) -> BTreeSet<String> {
    mail.iter()
        .filter(|m| pick(m))
        .filter_map(|m| m.subject.as_deref())
        .map(|s| subject_order_id(s).to_string())
        .collect()
}

/// What moto's SES recorded, and the 楽天 buyer mail the relay received for this test's buyers.
async fn all_mail(w: &AwsWorld) -> Vec<SentMail> {
    let mut mail = w.sent_mail().await;
    assert!(
        mail.iter().all(|m| m.to.iter().all(|to| ichigen_core::pipeline::route::masked_by(to).is_none())),
        "no masked address reaches SES"
    );
    let buyers: BTreeSet<String> = w
        .stored(SHOP)
        .await
        .into_iter()
        .filter(|s| s.order.marketplace == Marketplace::Rakuten)
        .filter_map(|s| s.order.buyer.email)
        .collect();
    let smtp = ichigen_testkit::smtp::server();
    for r in smtp.received().into_iter().filter(|r| r.rcpt_tos.iter().any(|t| buyers.contains(t))) {
        assert_eq!(r.mail_from, smtp.from, "the registered sender");
    }
    mail.extend(relay_mail(&buyers));
    mail
}

fn is_alert(m: &SentMail) -> bool {
    m.to == [STAFF_TO]
}

fn is_shipping(m: &SentMail) -> bool {
    m.subject.as_deref().is_some_and(|s| s.contains("発送いたしました"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_marketplaces_to_sent_mail_exactly_once() {
    let w = AwsWorld::new(3).await;
    w.shop(SHOP, &rules()).await;
    let now = Utc::now().fixed_offset();
    let mut sandboxes: Vec<(Marketplace, Started)> = Vec::new();
    for (i, marketplace) in FIVE.into_iter().enumerate() {
        let seed = Seed {
            orders: 40,
            seed: 100 + i as u64,
            start: now - TimeDelta::hours(26),
            step_secs: 600,
            shop_id: SHOP.into(),
        };
        let config = SandboxConfig { port: 0, seed, faults: Faults::default(), throttle: None };
        let sandbox = ichigen_sandbox::start(marketplace, config).await.unwrap();
        let mut secret: serde_json::Value =
            serde_json::from_str(&ichigen_sandbox::secret_json(marketplace, &sandbox)).unwrap();
        if marketplace == Marketplace::Rakuten {
            // The shop's 楽天 relay: the SMTP test server.
            let s = ichigen_testkit::smtp::server();
            secret["mail_relay"] = serde_json::json!({
                "host": s.host, "port": s.port, "auth_id": s.user, "password": s.password,
                "from": s.from, "ca_pem": s.ca_pem,
            });
        }
        w.put_secret(&format!("{PREFIX}{SHOP}/{marketplace}"), &secret.to_string()).await;
        sandboxes.push((marketplace, sandbox));
    }
    let puller = w.puller(PREFIX, Duration::from_secs(72 * 3600));

    // Round 1: every order is new.
    let mut all_jobs = run_pipeline(&w, &puller).await;
    let stored: Vec<StoredOrder> = w.stored(SHOP).await;
    let seeded: usize = sandboxes.iter().map(|(_, s)| s.book.len()).sum();
    assert_eq!(stored.len(), seeded, "every seeded order is stored");

    // Independently of the pipeline: which orders the shop's rules hold.
    let engine = CheckEngine::new(Rules::from_toml(&rules()).unwrap(), ichigen_marketplaces::policies());
    for s in &stored {
        let held = engine.check(&s.order, &BundleIndex::empty()).status == OrderStatus::OnHold;
        assert_eq!(held, s.status == OrderStatus::OnHold, "order {} hold decision", s.order.order_id);
    }
    let clean_open: BTreeSet<String> = stored
        .iter()
        .filter(|s| s.order.marketplace != Marketplace::Amazon && !s.order.fulfilled_by_marketplace)
        .filter(|s| s.status.is_open() && s.status != OrderStatus::OnHold)
        .map(|s| s.order.order_id.clone())
        .collect();
    let held: BTreeSet<String> =
        stored.iter().filter(|s| s.status == OrderStatus::OnHold).map(|s| s.order.order_id.clone()).collect();
    let amazon: BTreeSet<String> = stored
        .iter()
        .filter(|s| s.order.marketplace == Marketplace::Amazon)
        .map(|s| s.order.order_id.clone())
        .collect();
    assert!(
        clean_open.len() > 50 && !held.is_empty(),
        "a realistic mix: {} clean, {} held",
        clean_open.len(),
        held.len()
    );

    let mail = all_mail(&w).await;
    assert_eq!(ids_in_subjects(&mail, is_thanks), clean_open, "one thank-you per clean open non-Amazon order");
    assert_eq!(mail.iter().filter(|m| is_thanks(m)).count(), clean_open.len(), "and only one each");
    assert_eq!(ids_in_subjects(&mail, is_alert), held, "one staff alert per held order");
    assert_eq!(mail.iter().filter(|m| is_alert(m)).count(), held.len());
    let to_buyers: Vec<&SentMail> = mail.iter().filter(|m| !is_alert(m)).collect();
    assert!(
        to_buyers.iter().all(|m| !amazon.iter().any(|id| m.subject.as_deref().unwrap_or("").contains(id.as_str()))),
        "no mail to Amazon buyers"
    );
    assert_eq!(mail.len(), clean_open.len() + held.len());

    // A tracking number registered on one clean order per marketplace (Amazon: the API has none).
    let mut shipped = Vec::new();
    let mut samples = ichigen_core::sample::SampleOrders::new(77);
    for (marketplace, sandbox) in sandboxes.iter().filter(|(m, _)| *m != Marketplace::Amazon) {
        let number = samples.tracking_number();
        let order = stored
            .iter()
            .find(|s| s.order.marketplace == *marketplace && clean_open.contains(&s.order.order_id))
            .map(|s| s.order.clone())
            .expect("a clean order");
        let secret = MarketplaceSecret::from_json(&ichigen_sandbox::secret_json(*marketplace, sandbox)).unwrap();
        let http =
            HttpSettings { timeout: Duration::from_secs(10), retry: RetryPolicy::default(), rate_scale: 1_000.0 };
        let client = build_client(SHOP, &secret, http).unwrap();
        let tracking = Tracking {
            carrier: Carrier::Yamato,
            number: number.clone(),
            shipped_at: Some(Utc::now().fixed_offset()),
            shipment_id: None,
        };
        client.register_tracking(&order, &tracking).await.expect("tracking written back");
        shipped.push((order.order_id.clone(), number));
    }

    // Round 2: the next pulls see the shipments.
    all_jobs.extend(run_pipeline(&w, &puller).await);
    let mail = all_mail(&w).await;
    let shipping: Vec<&SentMail> = mail.iter().filter(|m| is_shipping(m)).collect();
    assert_eq!(shipping.len(), shipped.len(), "exactly one shipping mail per shipped order");
    for (order_id, number) in &shipped {
        let m = shipping
            .iter()
            .find(|m| m.subject.as_deref().unwrap_or("").contains(order_id.as_str()))
            .expect("shipping mail of the order");
        let url = ichigen_core::carrier::tracking_url(Carrier::Yamato, number).unwrap();
        assert!(url.starts_with("https://") && url.ends_with(number), "{url}");
        assert!(m.body.as_deref().unwrap_or("").contains(&url), "the mail links the tracking page");
    }
    let after_round_two = mail.len();

    // Round 3, and every mail job ever made delivered once more: nothing more is sent.
    let jobs = run_pipeline(&w, &puller).await;
    assert!(jobs.is_empty(), "an unchanged pull makes no mail job: {jobs:?}");
    assert_eq!(all_jobs.len(), clean_open.len() + held.len() + shipped.len());
    let replay = all_jobs;
    w.send_bodies(&w.mail_url, &replay).await;
    let notifier = w.notifier_with(PREFIX);
    w.deliver(&w.mail_url, |event| {
        let n = &notifier;
        async move { ichigen_notifier::handle(n, None, event, &mut Metrics::new("notifier")).await }
    })
    .await;
    assert_eq!(all_mail(&w).await.len(), after_round_two, "replays send nothing");
}
