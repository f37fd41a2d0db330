//! The mail-route records on DynamoDB: parked mails with their one waiting mark, delivery events
//! newest first, suppressed addresses per shop.

use ichigen_core::order::Marketplace;
use ichigen_core::pipeline::{MailEvent, MailEventKind, MailEvents, MailJob, MailKind, OrderKey, ParkedMail};

use crate::common::{Moto, jst};

fn job(order_id: &str) -> MailJob {
    MailJob {
        order: OrderKey { shop_id: "shop-a".into(), marketplace: Marketplace::Rakuten, order_id: order_id.into() },
        kind: MailKind::ThankYou,
    }
}

#[tokio::test]
async fn parked_mails_and_the_waiting_mark() {
    let moto = Moto::new().await;
    let store = moto.store().await;
    let t0 = jst("2026-11-01T10:00:00+09:00");
    assert!(store.park(&job("r-1"), t0).await.unwrap(), "the first parks and marks");
    assert!(!store.park(&job("r-2"), t0).await.unwrap(), "the mark is there");
    assert!(!store.park(&job("r-1"), t0).await.unwrap(), "parking again changes nothing");
    assert_eq!(store.parked("shop-a", Marketplace::Rakuten, 10).await.unwrap(), [job("r-1"), job("r-2")]);
    assert_eq!(store.parked("shop-a", Marketplace::Rakuten, 1).await.unwrap().len(), 1);
    assert!(store.parked("shop-a", Marketplace::Aupay, 10).await.unwrap().is_empty());
    store.unpark(&job("r-1")).await.unwrap();
    assert_eq!(store.parked("shop-a", Marketplace::Rakuten, 10).await.unwrap(), [job("r-2")]);
    store.clear_waiting("shop-a", Marketplace::Rakuten).await.unwrap();
    assert!(store.park(&job("r-3"), t0).await.unwrap(), "a new waiting spell marks again");
}

#[tokio::test]
async fn events_and_suppressed_addresses() {
    let moto = Moto::new().await;
    let store = moto.store().await;
    let event = |kind, address: &str, message_id: &str, at: &str| MailEvent {
        shop_id: "shop-a".into(),
        marketplace: Marketplace::Yahoo,
        order_id: "y-1".into(),
        mail_kind: "thank_you".into(),
        kind,
        address: address.into(),
        at: jst(at),
        detail: "Permanent/General".into(),
        message_id: message_id.into(),
    };
    store
        .record_event(&event(MailEventKind::SoftBounce, "full@example.jp", "m1", "2026-11-01T10:00:00+09:00"))
        .await
        .unwrap();
    let hard = event(MailEventKind::HardBounce, "Gone@Example.jp", "m2", "2026-11-02T10:00:00+09:00");
    store.record_event(&hard).await.unwrap();
    store.record_event(&hard).await.unwrap();
    let events = store.events("shop-a").await.unwrap();
    assert_eq!(events.len(), 2);
    assert_eq!(events[0], hard, "newest first, read back whole");
    assert!(store.is_suppressed("shop-a", "gone@example.jp").await.unwrap());
    assert!(!store.is_suppressed("shop-a", "full@example.jp").await.unwrap());
    assert!(!store.is_suppressed("shop-b", "gone@example.jp").await.unwrap());
}
