//! Mail routes on the in-memory adapters: 楽天 buyer mail takes the shop's 楽天 relay with the
//! registered sender, other marketplaces the shop's sender; without relay settings nothing is
//! lost (parked, staff told once, sent once the settings are there); a masked address never
//! reaches the shop's sender; a bounced address is not mailed again.

mod policies;

use std::time::Duration;

use chrono::{DateTime, FixedOffset};
use ichigen_core::pipeline::memory::{MemoryMailQueue, MemoryMailer, MemoryQueue, MemoryRelays, MemoryStore};
use ichigen_core::pipeline::{
    MailEvent, MailEventKind, MailEvents, MailJob, MailRoute, Notified, Notifier, NotifyError, ParkedMail,
    ProcessSettings, Processor, RelayPassword, RelaySettings, ShopDirectory, ShopSettings,
};
use ichigen_core::{Marketplace, Order};
use policies::POLICIES;
use serde_json::json;

const NOW: &str = "2026-11-27T10:10:00+09:00";
const REGISTERED: &str = "order-confirm@shop.example.jp";

fn t(s: &str) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(s).expect("test time")
}

fn order(marketplace: &str, id: &str, email: &str) -> Order {
    serde_json::from_value(json!({
        "schema_version": 1, "shop_id": "shop-1", "marketplace": marketplace,
        "order_id": id,
        "ordered_at": "2026-11-27T10:00:00+09:00", "source_updated_at": "2026-11-27T10:05:00+09:00",
        "status": "new", "source_status": "100",
        "buyer": {"name": "佐藤 花子", "name_kana": "サトウ ハナコ", "email": email, "phone": "03-1234-5678"},
        "ship_to": {"country": "JP", "postal_code": "1000001", "prefecture": "東京都", "city": "千代田区",
                    "address1": "千代田1-1", "address2": "", "name": "佐藤 花子", "phone": "03-1234-5678"},
        "items": [{"sku": "TSHIRT-M", "name": "Tシャツ", "quantity": 1, "unit_price": 2980}],
        "payment_method": "credit_card", "source_payment_method": "1",
        "delivery": {"method": "standard", "source_method": "宅配便"},
        "totals": {"goods": 2980, "shipping": 600, "fee": 0, "discount": 0, "total": 3580}
    }))
    .expect("valid order")
}

fn shop() -> ShopSettings {
    let mut s = ShopSettings::new("shop-1", "いちげん商店", "shop@example.jp");
    s.staff_to = vec!["staff@example.jp".into()];
    s
}

fn relay() -> RelaySettings {
    RelaySettings {
        host: "sub.fw.rakuten.ne.jp".into(),
        port: 587,
        auth_id: "auth-id".into(),
        password: RelayPassword::new("pw"),
        from: REGISTERED.into(),
        ca_pem: None,
    }
}

struct World {
    store: MemoryStore,
    jobs: MemoryMailQueue,
    shop_mail: MemoryMailer,
    relay_mail: MemoryMailer,
}

impl World {
    async fn new(orders: &[Order]) -> World {
        let w = World {
            store: MemoryStore::new(),
            jobs: MemoryQueue::new(),
            shop_mail: MemoryMailer::new(),
            relay_mail: MemoryMailer::new(),
        };
        w.store.put_shop(&shop()).await.expect("shop");
        let p = Processor::new(&w.store, &w.store, &w.jobs, POLICIES, ProcessSettings::default());
        for o in orders {
            p.process(o.clone(), t(NOW)).await.expect("processed");
        }
        w
    }

    fn notifier(&self) -> Notifier<&MemoryStore, &MemoryStore, &MemoryStore, &MemoryMailer, MemoryRelays<'_>> {
        Notifier::new(&self.store, &self.store, &self.store, &self.shop_mail, POLICIES, Duration::from_secs(120))
            .with_relays(MemoryRelays { directory: &self.store, mailer: &self.relay_mail })
    }
}

fn masked(n: u32) -> String {
    format!("a1b2c3d4e5f6{n:04}s1@pc.fw.rakuten.ne.jp")
}

#[tokio::test]
async fn rakuten_mail_takes_the_relay_with_the_registered_sender_and_the_others_the_shop_sender() {
    let w = World::new(&[order("rakuten", "R-1", &masked(1)), order("yahoo", "Y-1", "taro@example.jp")]).await;
    w.store.put_relay_settings("shop-1", Marketplace::Rakuten, relay());
    let jobs = w.jobs.drain();
    let n = w.notifier();
    for job in jobs.iter().chain(jobs.iter()) {
        n.notify(job, t(NOW)).await.expect("notified");
    }
    let relayed = w.relay_mail.sent();
    assert_eq!(relayed.len(), 1, "one 楽天 thank-you, once");
    let (_, m) = &relayed[0];
    assert_eq!((m.from.as_str(), m.to.clone()), (REGISTERED, vec![masked(1)]));
    assert!(m.tags.contains(&("route", "rakuten-relay".to_string())));
    let shop = w.shop_mail.sent();
    assert_eq!(shop.len(), 1, "one Yahoo thank-you, once");
    assert_eq!(
        (shop[0].1.from.as_str(), shop[0].1.to.clone()),
        ("shop@example.jp", vec!["taro@example.jp".to_string()])
    );
    assert!(shop[0].1.tags.contains(&("route", "shop".to_string())));
}

#[tokio::test]
async fn without_relay_settings_rakuten_mail_waits_staff_are_told_once_and_it_goes_out_once_later() {
    let w = World::new(&[
        order("rakuten", "R-1", &masked(1)),
        order("rakuten", "R-2", &masked(2)),
        order("yahoo", "Y-1", "taro@example.jp"),
    ])
    .await;
    let jobs = w.jobs.drain();
    let n = w.notifier();
    let mut told = 0;
    for job in jobs.iter().chain(jobs.iter()) {
        match n.notify(job, t(NOW)).await.expect("no error") {
            Notified::Parked { route, told_staff } => {
                assert_eq!(route, MailRoute::Relay(Marketplace::Rakuten));
                told += usize::from(told_staff);
            }
            Notified::Sent(_) | Notified::AlreadySent(_) => assert_eq!(job.order.marketplace, Marketplace::Yahoo),
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(told, 1, "one notice for the waiting spell");
    assert!(w.relay_mail.sent().is_empty());
    let shop = w.shop_mail.sent();
    let notices: Vec<_> = shop.iter().filter(|(_, m)| m.to == ["staff@example.jp"]).collect();
    assert_eq!(notices.len(), 1);
    let notice = &notices[0].1;
    assert!(notice.subject.contains("楽天市場のお客様へのメールが送信待ち"), "{}", notice.subject);
    assert!(notice.text.contains("メールサーバ設定情報") && notice.text.contains("R-1"), "{}", notice.text);
    assert!(!notice.text.contains("pc.fw.rakuten.ne.jp"), "no buyer address in the notice");
    assert_eq!(w.store.parked("shop-1", Marketplace::Rakuten, 10).await.expect("parked").len(), 2);

    // The shop stores its settings; a drain sends each waiting mail once, and again sends nothing.
    w.store.put_relay_settings("shop-1", Marketplace::Rakuten, relay());
    let drained = n.drain("shop-1", Marketplace::Rakuten, t(NOW), 10).await.expect("drain");
    assert_eq!((drained.sent, drained.waiting), (2, 0), "{drained:?}");
    let again = n.drain("shop-1", Marketplace::Rakuten, t(NOW), 10).await.expect("drain");
    assert_eq!(again.sent, 0);
    for job in &jobs {
        let done = n.notify(job, t(NOW)).await.expect("replay");
        assert!(matches!(done, Notified::AlreadySent(_)), "{done:?}");
    }
    let mut to: Vec<String> = w.relay_mail.sent().into_iter().map(|(_, m)| m.to[0].clone()).collect();
    to.sort();
    assert_eq!(to, [masked(1), masked(2)]);
    assert!(w.relay_mail.sent().iter().all(|(_, m)| m.from == REGISTERED));

    // A new waiting spell tells staff again.
    let w2 = World::new(&[order("rakuten", "R-9", &masked(9))]).await;
    let job: MailJob = w2.jobs.drain().pop().expect("job");
    assert!(matches!(w2.notifier().notify(&job, t(NOW)).await, Ok(Notified::Parked { told_staff: true, .. })));
}

#[tokio::test]
async fn a_relay_send_takes_the_waiting_mails_along() {
    let w = World::new(&[order("rakuten", "R-1", &masked(1))]).await;
    let first = w.jobs.drain();
    let n = w.notifier();
    n.notify(&first[0], t(NOW)).await.expect("parked");
    w.store.put_relay_settings("shop-1", Marketplace::Rakuten, relay());
    let p = Processor::new(&w.store, &w.store, &w.jobs, POLICIES, ProcessSettings::default());
    p.process(order("rakuten", "R-2", &masked(2)), t(NOW)).await.expect("processed");
    for job in w.jobs.drain() {
        assert!(matches!(n.notify(&job, t(NOW)).await, Ok(Notified::Sent(_))));
    }
    assert_eq!(w.relay_mail.sent().len(), 2, "the new mail and the waiting one");
    assert!(w.store.parked("shop-1", Marketplace::Rakuten, 10).await.expect("parked").is_empty());
}

#[tokio::test]
async fn a_masked_address_never_reaches_the_shop_sender() {
    let w = World::new(&[]).await;
    let mut s = shop();
    // A misconfigured staff address: staff mail takes the shop's sender, which must refuse it.
    s.staff_to = vec![masked(7)];
    s.rules_toml = "[[blacklist]]\nname = \"佐藤 花子\"\nphone = \"03-1234-5678\"\nreason = \"受取拒否\"\n".into();
    w.store.put_shop(&s).await.expect("shop");
    let p = Processor::new(&w.store, &w.store, &w.jobs, POLICIES, ProcessSettings::default());
    p.process(order("yahoo", "Y-1", "taro@example.jp"), t(NOW)).await.expect("held");
    let job = w.jobs.drain().pop().expect("staff alert job");
    let err = w.notifier().notify(&job, t(NOW)).await.expect_err("refused");
    assert!(matches!(err, NotifyError::Route(_)) && !err.is_retryable(), "{err}");
    assert!(w.shop_mail.sent().is_empty() && w.relay_mail.sent().is_empty());
    assert_eq!(w.store.sent_count(), 0);
}

#[tokio::test]
async fn a_bounced_address_is_not_mailed_again() {
    let w = World::new(&[order("yahoo", "Y-1", "gone@example.jp")]).await;
    w.store
        .record_event(&MailEvent {
            shop_id: "shop-1".into(),
            marketplace: Marketplace::Yahoo,
            order_id: "Y-0".into(),
            mail_kind: "thank_you".into(),
            kind: MailEventKind::HardBounce,
            address: "Gone@Example.jp".into(),
            at: t(NOW),
            detail: "Permanent/General".into(),
            message_id: "m-1".into(),
        })
        .await
        .expect("recorded");
    let job = w.jobs.drain().pop().expect("job");
    let done = w.notifier().notify(&job, t(NOW)).await.expect("skipped");
    assert!(matches!(done, Notified::Skipped(why) if why.contains("bounced")), "{done:?}");
    assert!(w.shop_mail.sent().is_empty());
    let events = w.store.events("shop-1").await.expect("events");
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].order_id, "Y-0");
}
