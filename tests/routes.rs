//! Mail routes end to end on real calls: the 楽天 and Yahoo sandboxes → pullers → processor →
//! notifier, with moto as AWS (SES, DynamoDB, SSM) and the SMTP test server (aiosmtpd: STARTTLS,
//! AUTH, only the registered sender) as 楽天's relay. Without relay settings 楽天 buyer mail waits
//! and staff are told once; with them it arrives through the relay, once, from the registered
//! address; Yahoo mail goes through SES; a masked address never reaches SES; a wrong relay
//! password is a permanent error that marks nothing sent; a bounce recorded from the SES event
//! stream suppresses the address.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use chrono::{TimeDelta, Utc};
use ichigen_core::pipeline::route::masked_by;
use ichigen_core::pipeline::{MailEvents, MailJob, MailKind, Notified, NotifyError, SendError};
use ichigen_core::{Marketplace, OrderStatus};
use ichigen_integration_tests::{AwsWorld, STAFF_TO};
use ichigen_lambda::Metrics;
use ichigen_notifier::Invocation;
use ichigen_sandbox::{Faults, SandboxConfig, Seed, Started};
use ichigen_testkit::smtp::{SmtpServer, server};
use serde_json::json;

const PREFIX: &str = "/ichigen/routes/credentials/";

async fn sandbox(marketplace: Marketplace, shop: &str, seed: u64) -> Started {
    let now = Utc::now().fixed_offset();
    let seed = Seed { orders: 12, seed, start: now - TimeDelta::hours(20), step_secs: 900, shop_id: shop.to_string() };
    ichigen_sandbox::start(marketplace, SandboxConfig { port: 0, seed, faults: Faults::default(), throttle: None })
        .await
        .unwrap()
}

/// The 楽天 sandbox's secret with `relay` as its `mail_relay` (none: without).
fn rakuten_secret(sandbox: &Started, relay: Option<serde_json::Value>) -> String {
    let mut secret: serde_json::Value =
        serde_json::from_str(&ichigen_sandbox::secret_json(Marketplace::Rakuten, sandbox)).unwrap();
    if let Some(relay) = relay {
        secret["mail_relay"] = relay;
    }
    secret.to_string()
}

fn relay_json(s: &SmtpServer, password: &str) -> serde_json::Value {
    json!({
        "host": s.host, "port": s.port, "auth_id": s.user, "password": password,
        "from": s.from, "ca_pem": s.ca_pem,
    })
}

/// Pulls every sandbox of the shop, processes the orders and returns the mail jobs made.
async fn pull_and_process(w: &AwsWorld, shop: &str, marketplaces: &[Marketplace]) -> Vec<MailJob> {
    let puller = w.puller(PREFIX, Duration::from_secs(72 * 3600));
    for &marketplace in marketplaces {
        let event = ichigen_puller::PullEvent { shop_id: shop.into(), marketplace };
        let report = puller
            .handle(&event, Instant::now() + Duration::from_secs(120), &mut Metrics::new("puller"))
            .await
            .expect("pull");
        assert!(report.finished, "{report:?}");
    }
    let processor = w.processor();
    let (_, failed) = w
        .deliver(&w.orders_url, |event| {
            let p = &processor;
            async move { ichigen_processor::handle(p, event, &mut Metrics::new("processor")).await }
        })
        .await;
    assert_eq!(failed, 0);
    w.drain(&w.mail_url).await.iter().map(|b| serde_json::from_str(b).unwrap()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rakuten_mail_waits_for_the_relay_then_goes_through_it_once_and_the_rest_through_ses() {
    const SHOP: &str = "shop-routes";
    let smtp = server();
    let w = AwsWorld::new(3).await;
    w.shop(SHOP, "").await;
    let rakuten = sandbox(Marketplace::Rakuten, SHOP, 501).await;
    let yahoo = sandbox(Marketplace::Yahoo, SHOP, 502).await;
    let rakuten_param = format!("{PREFIX}{SHOP}/rakuten");
    w.put_secret(&rakuten_param, &rakuten_secret(&rakuten, None)).await;
    w.put_secret(&format!("{PREFIX}{SHOP}/yahoo"), &ichigen_sandbox::secret_json(Marketplace::Yahoo, &yahoo)).await;

    let jobs = pull_and_process(&w, SHOP, &[Marketplace::Rakuten, Marketplace::Yahoo]).await;
    let stored = w.stored(SHOP).await;
    let thanked = |m: Marketplace| -> BTreeSet<String> {
        stored
            .iter()
            .filter(|s| s.order.marketplace == m && s.status.is_open() && s.status != OrderStatus::OnHold)
            .map(|s| s.order.buyer.email.clone().unwrap())
            .collect()
    };
    let (rakuten_buyers, yahoo_buyers) = (thanked(Marketplace::Rakuten), thanked(Marketplace::Yahoo));
    assert!(rakuten_buyers.len() >= 3 && yahoo_buyers.len() >= 3, "{rakuten_buyers:?} {yahoo_buyers:?}");
    assert!(
        rakuten_buyers.iter().all(|a| masked_by(a) == Some(Marketplace::Rakuten)),
        "the sandbox masks: {rakuten_buyers:?}"
    );

    // Round 1, without relay settings, every job twice (SQS delivers at least once).
    let notifier = w.notifier_with(PREFIX);
    let mut parked = 0;
    for job in jobs.iter().chain(jobs.iter()) {
        match notifier.notify(job, Utc::now().fixed_offset()).await.expect("no failure") {
            Notified::Parked { .. } => parked += 1,
            // Staff alerts take the shop's route whatever the marketplace.
            _ => assert!(job.order.marketplace != Marketplace::Rakuten || !job.kind.to_buyer(), "{job:?}"),
        }
    }
    let rakuten_buyer_jobs =
        jobs.iter().filter(|j| j.order.marketplace == Marketplace::Rakuten && j.kind.to_buyer()).count();
    assert_eq!(parked, 2 * rakuten_buyer_jobs);
    let ses = w.sent_mail().await;
    assert!(ses.iter().all(|m| m.to.iter().all(|to| masked_by(to).is_none())), "no masked address reached SES");
    let to_buyers: BTreeSet<String> = ses.iter().filter(|m| m.to != [STAFF_TO]).map(|m| m.to[0].clone()).collect();
    assert_eq!(to_buyers, yahoo_buyers, "Yahoo thank-yous through SES");
    assert_eq!(ses.iter().filter(|m| m.to != [STAFF_TO]).count(), yahoo_buyers.len(), "once each");
    let notices: Vec<_> = ses.iter().filter(|m| m.subject.as_deref().is_some_and(|s| s.contains("送信待ち"))).collect();
    assert_eq!(notices.len(), 1, "staff told once");
    assert_eq!(notices[0].to, [STAFF_TO]);
    assert!(notices[0].body.as_deref().unwrap_or("").contains("メールサーバ設定情報"));
    assert!(rakuten_buyers.iter().all(|a| smtp.received_by(a).is_empty()));

    // The operator adds mail_relay to the 楽天 parameter; the waiting mails go out once.
    w.put_secret_overwrite(&rakuten_param, &rakuten_secret(&rakuten, Some(relay_json(smtp, &smtp.password)))).await;
    let drained = notifier.drain(SHOP, Marketplace::Rakuten, Utc::now().fixed_offset(), 100).await.expect("drain");
    assert_eq!((drained.sent, drained.waiting), (rakuten_buyers.len(), 0), "{drained:?}");
    for job in &jobs {
        let done = notifier.notify(job, Utc::now().fixed_offset()).await.expect("replay");
        assert!(!matches!(done, Notified::Sent(_) | Notified::Parked { .. }), "{job:?}: {done:?}");
    }
    for buyer in &rakuten_buyers {
        let got = smtp.received_by(buyer);
        assert_eq!(got.len(), 1, "{buyer}: exactly once through the relay");
        let r = &got[0];
        assert_eq!(
            (r.mail_from.as_str(), r.auth_user.as_deref(), r.tls),
            (smtp.from.as_str(), Some(smtp.user.as_str()), true)
        );
        assert_eq!(r.header("From").as_deref(), Some(smtp.from.as_str()), "the RMS-registered sender");
        assert_eq!(r.header("To").as_deref(), Some(buyer.as_str()));
        assert!(r.subject().contains("ご注文ありがとうございます"), "{}", r.subject());
        assert_eq!(r.header("X-Ichigen-Route").as_deref(), Some("rakuten-relay"));
    }
    let ses_after = w.sent_mail().await;
    assert_eq!(ses_after.len(), ses.len(), "nothing more through SES");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_relay_password_is_permanent_and_marks_nothing_sent() {
    const SHOP: &str = "shop-badpw";
    let smtp = server();
    let w = AwsWorld::new(3).await;
    w.shop(SHOP, "").await;
    let rakuten = sandbox(Marketplace::Rakuten, SHOP, 503).await;
    let param = format!("{PREFIX}{SHOP}/rakuten");
    w.put_secret(&param, &rakuten_secret(&rakuten, Some(relay_json(smtp, "not-the-password")))).await;
    let jobs = pull_and_process(&w, SHOP, &[Marketplace::Rakuten]).await;
    let job = jobs.iter().find(|j| j.kind == MailKind::ThankYou).expect("a thank-you job");
    let notifier = w.notifier_with(PREFIX);
    for _ in 0..2 {
        let err = notifier.notify(job, Utc::now().fixed_offset()).await.expect_err("refused");
        assert!(matches!(err, NotifyError::Send(SendError::Refused(_))) && !err.is_retryable(), "{err}");
        assert!(err.to_string().contains("535"), "{err}");
    }
    let stored = w.stored(SHOP).await;
    let buyer =
        stored.iter().find(|s| s.order.order_id == job.order.order_id).and_then(|s| s.order.buyer.email.clone());
    assert!(smtp.received_by(&buyer.unwrap()).is_empty());
    assert!(w.sent_mail().await.iter().all(|m| m.to == [STAFF_TO]), "nothing to buyers through SES either");

    // Corrected: the same job now goes out, once.
    w.put_secret_overwrite(&param, &rakuten_secret(&rakuten, Some(relay_json(smtp, &smtp.password)))).await;
    let fresh = w.notifier_with(PREFIX);
    assert!(matches!(fresh.notify(job, Utc::now().fixed_offset()).await, Ok(Notified::Sent(_))));
    assert!(matches!(fresh.notify(job, Utc::now().fixed_offset()).await, Ok(Notified::AlreadySent(_))));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bounce_from_the_ses_event_stream_is_recorded_and_the_address_not_mailed_again() {
    const SHOP: &str = "shop-bounce";
    let w = AwsWorld::new(3).await;
    w.shop(SHOP, "").await;
    let yahoo = sandbox(Marketplace::Yahoo, SHOP, 504).await;
    w.put_secret(&format!("{PREFIX}{SHOP}/yahoo"), &ichigen_sandbox::secret_json(Marketplace::Yahoo, &yahoo)).await;
    let jobs = pull_and_process(&w, SHOP, &[Marketplace::Yahoo]).await;
    let job = jobs.iter().find(|j| j.kind == MailKind::ThankYou).expect("a thank-you job").clone();
    let order = w.stored(SHOP).await;
    let address = order
        .iter()
        .find(|s| s.order.order_id == job.order.order_id)
        .and_then(|s| s.order.buyer.email.clone())
        .unwrap();

    // SES's event for an earlier mail to that address, as the mail-events topic delivers it.
    let ses_event = json!({
        "eventType": "Bounce",
        "bounce": {"bounceType": "Permanent", "bounceSubType": "General", "timestamp": "2026-11-27T01:02:03.000Z",
                   "bouncedRecipients": [{"emailAddress": address, "status": "5.1.1", "action": "failed"}], "feedbackId": "f-1"},
        "mail": {"timestamp": "2026-11-27T01:00:00.000Z", "messageId": "earlier-mail", "source": "shop@example.jp",
                 "destination": [address],
                 "tags": {"kind": ["thank_you"], "marketplace": ["yahoo"], "order_id": [job.order.order_id], "shop": [SHOP], "route": ["shop"]}}
    });
    let sns = json!({"Records": [{
        "EventSource": "aws:sns", "EventVersion": "1.0",
        "EventSubscriptionArn": "arn:aws:sns:ap-northeast-1:123456789012:ichigen-mail-events:0f0e",
        "Sns": {"Type": "Notification", "MessageId": "sns-1", "TopicArn": "arn:aws:sns:ap-northeast-1:123456789012:ichigen-mail-events",
                "Subject": null, "Message": ses_event.to_string(), "Timestamp": "2026-11-27T01:02:04.000Z",
                "SignatureVersion": "1", "Signature": "x", "SigningCertUrl": "https://sns.example/cert.pem",
                "UnsubscribeUrl": "https://sns.example/unsub", "MessageAttributes": {}}
    }]});
    let Ok(Invocation::MailEvents(event)) = Invocation::from_json(sns) else { panic!("an SNS event") };
    ichigen_notifier::handle_mail_events(&w.store, event, &mut Metrics::new("notifier")).await.expect("recorded");

    let events = w.store.events(SHOP).await.unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(
        (events[0].order_id.as_str(), events[0].address.as_str()),
        (job.order.order_id.as_str(), address.as_str())
    );
    let done = w.notifier_with(PREFIX).notify(&job, Utc::now().fixed_offset()).await.expect("skipped");
    assert!(matches!(done, Notified::Skipped(why) if why.contains("bounced")), "{done:?}");
    assert!(w.sent_mail().await.iter().all(|m| m.to != [address.clone()]), "not mailed again");
}
