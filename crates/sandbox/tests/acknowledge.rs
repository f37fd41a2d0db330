//! 楽天's 注文確認 and Qoo10's seller check end to end in the embedded world: the real clients
//! against the sandboxes, the puller and processor use cases on the SQLite store. A clean new
//! order is acknowledged by the next pull cycle after it was processed; a held one stays where it
//! is until staff release it; a replayed processing and further cycles acknowledge nothing twice
//! (the sandbox counts the calls per order).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use chrono::{DateTime, FixedOffset, Utc};
use ichigen_core::pipeline::NoStock;
use ichigen_core::pipeline::memory::{MemoryNotices, MemoryQueue};
use ichigen_core::pipeline::{
    Acknowledgement, MailJob, OrderKey, OrderSource, OrderStore, ProcessSettings, Processor, PullReport, PullSettings,
    Puller, Rejected, ShopDirectory, ShopSettings, StoredOrder, staff,
};
use ichigen_core::{JST, Marketplace, Order, OrderStatus};
use ichigen_local::SqliteStore;
use ichigen_marketplaces::client::{HttpConfig, RetryPolicy};
use ichigen_marketplaces::qoo10::{Qoo10Client, Qoo10Credentials};
use ichigen_marketplaces::rakuten::RakutenClient;
use ichigen_marketplaces::rakuten::client::SecretString;
use ichigen_sandbox::{SandboxConfig, Seed, Started, qoo10, rakuten};

const SHOP: &str = "shop-ack";

fn now() -> DateTime<FixedOffset> {
    Utc::now().with_timezone(&JST)
}

/// `orders` an hour apart, the last two hours ago (inside the first pull's look-back).
fn config(orders: usize) -> SandboxConfig {
    let start = now() - chrono::Duration::hours(orders as i64 + 2);
    let start = start - chrono::Duration::nanoseconds(i64::from(chrono::Timelike::nanosecond(&start)));
    SandboxConfig {
        seed: Seed { orders, seed: 5, start, step_secs: 3_600, shop_id: SHOP.into() },
        throttle: None,
        ..SandboxConfig::default()
    }
}

fn http(s: &Started) -> HttpConfig {
    HttpConfig {
        retry: RetryPolicy { retries: 3, min_delay: Duration::from_millis(5), max_delay: Duration::from_millis(40) },
        rate_scale: 1_000.0,
        ..HttpConfig::new(s.base_url())
    }
}

fn credential(s: &Started, name: &str) -> String {
    s.credentials.iter().find(|(n, _)| *n == name).map(|(_, v)| v.clone()).unwrap()
}

/// The store, the processor's mail queue, and the shop with its default rules.
async fn store() -> SqliteStore {
    let store = SqliteStore::open_in_memory().unwrap();
    let mut shop = ShopSettings::new(SHOP, "見本商店", "shop@example.jp");
    shop.staff_to = vec!["staff@example.jp".into()];
    shop.ship_lead_days = 3;
    store.put_shop(&shop).await.unwrap();
    store
}

/// One pull cycle of the pair: the puller's run (the pull, then the acknowledgements and tracking
/// writes), then every pulled order through the processor.
async fn cycle<F: OrderSource>(source: &F, store: &SqliteStore, mails: &MemoryQueue<MailJob>) -> PullReport {
    let queue = MemoryQueue::<Order>::new();
    let quarantine = MemoryQueue::<Rejected>::new();
    let notices = MemoryNotices::new();
    let puller = Puller {
        source,
        queue: &queue,
        marks: store,
        quarantine: &quarantine,
        store,
        mails,
        notices: &notices,
        policy: ichigen_marketplaces::policies().of(source.marketplace()),
        settings: PullSettings::default(),
    };
    let report = puller.run(SHOP, now(), || Duration::from_secs(600)).await.unwrap();
    assert!(notices.sent().is_empty(), "nothing refused: {:?}", notices.sent());
    process(store, mails, queue.drain()).await;
    report
}

async fn process(store: &SqliteStore, mails: &MemoryQueue<MailJob>, orders: Vec<Order>) {
    let processor = Processor::new(store, store, mails, ichigen_marketplaces::policies(), ProcessSettings::default());
    for order in orders {
        processor.process(order, now()).await.unwrap();
    }
}

async fn stored(store: &SqliteStore, marketplace: Marketplace, id: &str) -> StoredOrder {
    let key = OrderKey { shop_id: SHOP.into(), marketplace, order_id: id.into() };
    store.get(&key).await.unwrap().unwrap()
}

/// The new orders the sandbox holds, by id.
fn new_orders(s: &Started) -> Vec<String> {
    s.book.all().into_iter().filter(|o| o.status == OrderStatus::New).map(|o| o.order_id).collect()
}

#[tokio::test]
async fn rakuten_clean_orders_are_confirmed_once_held_ones_after_their_release() {
    let (sandbox, office) = rakuten::start_with_back_office(config(40), rakuten::RESULT_CAP).await.unwrap();
    let client = RakutenClient::new(
        http(&sandbox),
        SHOP,
        &SecretString::from(credential(&sandbox, "serviceSecret")),
        &SecretString::from(credential(&sandbox, "licenseKey")),
    )
    .unwrap();
    let store = store().await;
    let mails = MemoryQueue::<MailJob>::new();
    let at_100 = new_orders(&sandbox);
    assert!(at_100.len() >= 4, "the seed has new orders: {}", at_100.len());

    // First cycle: pulled and checked; nothing is confirmed yet, the clean ones are due.
    let first = cycle(&client, &store, &mails).await;
    assert_eq!(first.acknowledged, 0);
    let (mut clean, mut held) = (Vec::new(), Vec::new());
    for id in &at_100 {
        let s = stored(&store, Marketplace::Rakuten, id).await;
        assert_eq!(office.order_progress(id), Some(100));
        if s.is_held() {
            assert_eq!(s.acknowledgement, None, "a held order waits for staff");
            held.push(id.clone());
        } else {
            assert!(s.acknowledgement.as_ref().is_some_and(Acknowledgement::is_due), "{id}: {:?}", s.acknowledgement);
            clean.push(id.clone());
        }
    }
    assert!(!clean.is_empty() && !held.is_empty(), "clean {} held {}", clean.len(), held.len());

    // Second cycle: every clean order confirmed, in one call of up to 100; the held ones stay at 100.
    let second = cycle(&client, &store, &mails).await;
    assert_eq!(second.acknowledged, clean.len(), "{second:?}");
    for id in &clean {
        assert_eq!(office.order_progress(id), Some(200), "{id} is 楽天処理中 after 注文確認");
        assert!(office.dates(id).unwrap().confirmed.is_some());
        assert_eq!(office.confirm_calls(id), 1);
        let s = stored(&store, Marketplace::Rakuten, id).await;
        assert!(matches!(s.acknowledgement, Some(Acknowledgement::Done { .. })), "{:?}", s.acknowledgement);
    }
    for id in &held {
        assert_eq!((office.order_progress(id), office.confirm_calls(id)), (Some(100), 0));
    }

    // A replayed processing (the first cycle's copies again, and the current ones) and another
    // cycle confirm nothing again.
    let replay: Vec<Order> = sandbox.book.all().into_iter().filter(|o| clean.contains(&o.order_id)).collect();
    process(&store, &mails, replay).await;
    let third = cycle(&client, &store, &mails).await;
    assert_eq!(third.acknowledged, 0);
    for id in &clean {
        assert_eq!(office.confirm_calls(id), 1, "{id} confirmed once");
        let s = stored(&store, Marketplace::Rakuten, id).await;
        assert_eq!(s.order.source_status, "200", "the next pull read the order back");
        assert!(matches!(s.acknowledgement, Some(Acknowledgement::Done { .. })), "{:?}", s.acknowledgement);
    }

    // Staff release a held order: the next cycle confirms it, once.
    let released = &held[0];
    let key = OrderKey { shop_id: SHOP.into(), marketplace: Marketplace::Rakuten, order_id: released.clone() };
    staff::release(&store, &mails, &NoStock, &ichigen_marketplaces::policies(), &key, now()).await.unwrap();
    assert_eq!(office.order_progress(released), Some(100), "nothing happens before the pull cycle");
    let fourth = cycle(&client, &store, &mails).await;
    assert_eq!(fourth.acknowledged, 1);
    assert_eq!((office.order_progress(released), office.confirm_calls(released)), (Some(200), 1));
    cycle(&client, &store, &mails).await;
    assert_eq!(office.confirm_calls(released), 1);
    for id in &held[1..] {
        assert_eq!(office.order_progress(id), Some(100), "still held, still unconfirmed");
    }
}

#[tokio::test]
async fn qoo10_clean_packs_are_seller_checked_once_held_ones_after_their_release() {
    let (sandbox, office) = qoo10::start_with_back_office(config(40), qoo10::Options::default()).await.unwrap();
    let creds = Qoo10Credentials::new(
        credential(&sandbox, "api_key"),
        credential(&sandbox, "user_id"),
        credential(&sandbox, "password"),
    );
    let client = Qoo10Client::new(http(&sandbox), creds, SHOP).unwrap();
    let store = store().await;
    let mails = MemoryQueue::<MailJob>::new();
    // Packs at On request(2): paid, not checked.
    let requested: Vec<String> = new_orders(&sandbox)
        .into_iter()
        .filter(|id| office.order_lines(id).iter().all(|&l| office.line_status(l) == Some(2)))
        .collect();
    assert!(requested.len() >= 4, "{}", requested.len());

    cycle(&client, &store, &mails).await;
    let (mut clean, mut held) = (Vec::new(), Vec::new());
    for id in &requested {
        let s = stored(&store, Marketplace::Qoo10, id).await;
        if s.is_held() { held.push(id.clone()) } else { clean.push(id.clone()) }
    }
    assert!(!clean.is_empty() && !held.is_empty(), "clean {} held {}", clean.len(), held.len());

    let second = cycle(&client, &store, &mails).await;
    assert_eq!(second.acknowledged, clean.len(), "{second:?}");
    let promised = now().date_naive() + chrono::Duration::days(3);
    for id in &clean {
        for line in office.order_lines(id) {
            assert_eq!(office.line_status(line), Some(3), "配送準備 after the seller check");
            assert_eq!(office.seller_check(line).unwrap().est_ship, Some(promised), "the shop's lead time");
            assert_eq!(office.seller_check_calls(line), 1);
        }
    }
    for id in &held {
        for line in office.order_lines(id) {
            assert_eq!((office.line_status(line), office.seller_check_calls(line)), (Some(2), 0));
        }
    }

    let replay: Vec<Order> = sandbox.book.all().into_iter().filter(|o| clean.contains(&o.order_id)).collect();
    process(&store, &mails, replay).await;
    assert_eq!(cycle(&client, &store, &mails).await.acknowledged, 0);

    let released = &held[0];
    let key = OrderKey { shop_id: SHOP.into(), marketplace: Marketplace::Qoo10, order_id: released.clone() };
    staff::release(&store, &mails, &NoStock, &ichigen_marketplaces::policies(), &key, now()).await.unwrap();
    assert_eq!(cycle(&client, &store, &mails).await.acknowledged, 1);
    cycle(&client, &store, &mails).await;
    for id in clean.iter().chain([released]) {
        for line in office.order_lines(id) {
            assert_eq!((office.line_status(line), office.seller_check_calls(line)), (Some(3), 1), "{id}");
        }
    }
}
