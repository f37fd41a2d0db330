//! Staff digests on the in-memory adapters: a shop that chose a digest gets no alert per held
//! order but one mail per window listing what came in, once; a shop without one is untouched.

mod policies;

use std::time::Duration;

use chrono::{DateTime, FixedOffset, NaiveDate};
use ichigen_core::pipeline::memory::{MemoryMailQueue, MemoryMailer, MemoryQueue, MemoryStore};
use ichigen_core::pipeline::{
    DigestWindow, Digested, MailKind, Notified, Notifier, ProcessSettings, Processor, ShopDirectory, ShopSettings,
    StaffAlerts, send_digest,
};
use ichigen_core::{Marketplace, Order};
use policies::POLICIES;
use serde_json::json;

fn t(s: &str) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(s).expect("test time")
}

fn order(id: &str) -> Order {
    serde_json::from_value(json!({
        "schema_version": 1, "shop_id": "shop-1", "marketplace": "yahoo",
        "order_id": id,
        "ordered_at": "2026-11-27T10:00:00+09:00", "source_updated_at": "2026-11-27T10:05:00+09:00",
        "status": "new", "source_status": "2",
        "buyer": {"name": "佐藤 花子", "name_kana": "サトウ ハナコ", "email": "hanako@example.jp", "phone": "03-1234-5678"},
        "ship_to": {"country": "JP", "postal_code": "1000001", "prefecture": "東京都", "city": "千代田区",
                    "address1": "千代田1-1", "address2": "", "name": "佐藤 花子", "phone": "03-1234-5678"},
        "items": [{"sku": "TSHIRT-M", "name": "Tシャツ", "quantity": 1, "unit_price": 2980}],
        "payment_method": "credit_card", "source_payment_method": "1",
        "delivery": {"method": "standard", "source_method": "宅配便"},
        "totals": {"goods": 2980, "shipping": 600, "fee": 0, "discount": 0, "total": 3580}
    }))
    .expect("valid order")
}

fn shop(alerts: StaffAlerts) -> ShopSettings {
    let mut s = ShopSettings::new("shop-1", "いちげん商店", "shop@example.jp");
    s.staff_to = vec!["staff@example.jp".into()];
    s.staff_alerts = alerts;
    s
}

async fn world(alerts: StaffAlerts) -> (MemoryStore, MemoryMailQueue) {
    let store = MemoryStore::new();
    store.put_shop(&shop(alerts)).await.expect("shop");
    (store, MemoryQueue::new())
}

/// Processes a held order (remarks), a warned one (a requested date before the order) and a
/// clean one at `at`, and hands every mail job to the notifier.
async fn three_orders(store: &MemoryStore, mails: &MemoryMailQueue, mailer: &MemoryMailer, at: &str) {
    let processor = Processor::new(store, store, mails, POLICIES, ProcessSettings::default());
    let mut held = order("Y-HELD");
    held.remarks = "のしをお願いします。\n赤い包装紙で".into();
    let mut warned = order("Y-WARN");
    warned.delivery.requested_date = NaiveDate::from_ymd_opt(2026, 11, 20);
    // Another buyer: not a 同梱 candidate of the other two (a warning of its own).
    let mut clean = order("Y-CLEAN");
    clean.buyer.name = "田中 一郎".into();
    clean.ship_to.name = "田中 一郎".into();
    clean.ship_to.address1 = "千代田1-2".into();
    for o in [held, warned, clean] {
        processor.process(o, t(at)).await.expect("processed");
    }
    let notifier = Notifier::new(store, store, store, mailer, POLICIES, Duration::from_secs(120));
    for job in mails.drain() {
        notifier.notify(&job, t(at)).await.expect("notified");
    }
}

fn staff_mails(mailer: &MemoryMailer) -> Vec<ichigen_core::pipeline::OutgoingMail> {
    mailer.sent().into_iter().map(|(_, m)| m).filter(|m| m.to == ["staff@example.jp"]).collect()
}

#[tokio::test]
async fn a_digest_shop_gets_one_mail_per_window_listing_holds_and_warnings_once() {
    let every = StaffAlerts::digest(60).expect("an hourly digest");
    let (store, mails) = world(every).await;
    let mailer = MemoryMailer::new();
    three_orders(&store, &mails, &mailer, "2026-11-27T10:10:00+09:00").await;
    assert!(staff_mails(&mailer).is_empty(), "no alert per order: the digest tells");
    let buyer_mails = mailer.sent().len();
    assert_eq!(buyer_mails, 2, "the clean and the warned order are thanked as usual");

    let notifier = Notifier::new(&store, &store, &store, &mailer, POLICIES, Duration::from_secs(120));
    // 10:59: the last closed window is 09:00–10:00, before the orders came in.
    let early = send_digest(&notifier, "shop-1", t("2026-11-27T10:59:00+09:00")).await.expect("digest");
    assert_eq!(early, Digested::NothingNew);
    assert!(staff_mails(&mailer).is_empty());

    let done = send_digest(&notifier, "shop-1", t("2026-11-27T11:00:05+09:00")).await.expect("digest");
    let Digested::Done { notified: Notified::Sent(_), held: 1, warned: 1 } = done else {
        panic!("one digest with one held and one warned order, got {done:?}")
    };
    let digests = staff_mails(&mailer);
    assert_eq!(digests.len(), 1);
    let d = &digests[0];
    assert!(d.subject.contains("11/27 10:00〜11:00") && d.subject.contains("保留 1件・注意 1件"), "{}", d.subject);
    for needle in [
        "Y-HELD",
        "Y-WARN",
        "佐藤 花子 様",
        "東京都",
        "クレジットカード",
        "3,580円",
        "備考：のしをお願いします。 赤い包装紙で",
        "ichigen orders release yahoo/Y-HELD",
        "お届け希望日",
    ] {
        assert!(d.text.contains(needle), "the digest shows {needle:?}:\n{}", d.text);
    }
    assert!(!d.text.contains("Y-CLEAN"), "a clean order is not in the digest");
    assert!(!d.text.contains("release yahoo/Y-WARN"), "a warned order is not held: nothing to release");

    // Asked again for the same window (a retried schedule): nothing more goes out.
    let again = send_digest(&notifier, "shop-1", t("2026-11-27T11:10:00+09:00")).await.expect("digest");
    assert!(matches!(again, Digested::Done { notified: Notified::AlreadySent(_), .. }), "{again:?}");
    // The next window has nothing new, though the order is still held: no mail.
    let next = send_digest(&notifier, "shop-1", t("2026-11-27T12:00:05+09:00")).await.expect("digest");
    assert_eq!(next, Digested::NothingNew);
    assert_eq!(staff_mails(&mailer).len(), 1);
}

#[tokio::test]
async fn a_shop_without_a_digest_gets_each_alert_at_once_and_no_digest() {
    let (store, mails) = world(StaffAlerts::Each).await;
    let mailer = MemoryMailer::new();
    three_orders(&store, &mails, &mailer, "2026-11-27T10:10:00+09:00").await;
    let alerts = staff_mails(&mailer);
    assert_eq!(alerts.len(), 1, "one alert for the held order");
    assert!(alerts[0].subject.contains("Y-HELD"));
    let notifier = Notifier::new(&store, &store, &store, &mailer, POLICIES, Duration::from_secs(120));
    let asked = send_digest(&notifier, "shop-1", t("2026-11-27T11:00:05+09:00")).await.expect("digest");
    assert_eq!(asked, Digested::NotDigestMode);
    assert_eq!(staff_mails(&mailer).len(), 1);
}

#[test]
fn digest_windows_divide_the_japanese_day() {
    assert!(StaffAlerts::digest(7).is_err());
    assert!(StaffAlerts::digest(105).is_err(), "105 minutes does not divide the day evenly");
    assert!(StaffAlerts::digest(1441).is_err());
    assert_eq!(StaffAlerts::digest(1440), Ok(StaffAlerts::Digest { every_minutes: 1440 }));
    // Daily: the day before, midnight to midnight JST, whatever the clock's zone.
    let w = DigestWindow::last_closed(t("2026-11-27T15:00:30Z"), 1440);
    assert_eq!((w.start, w.end), (t("2026-11-27T00:00:00+09:00"), t("2026-11-28T00:00:00+09:00")));
    let w = DigestWindow::last_closed(t("2026-11-27T10:14:59+09:00"), 15);
    assert_eq!((w.start, w.end), (t("2026-11-27T09:45:00+09:00"), t("2026-11-27T10:00:00+09:00")));
    assert_eq!(w.ledger_key("shop-1").kind, MailKind::StaffAlert);
    assert_eq!(w.ledger_key("shop-1").order.marketplace, Marketplace::Rakuten);
}
