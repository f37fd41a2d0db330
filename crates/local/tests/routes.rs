//! Mail routes on the embedded store: a 楽天 buyer mail without relay settings is parked in the
//! file (it survives a reopen), staff get one notice in the outbox, and once the settings are
//! stored the waiting mails go out once, each file recording its route; delivery events and
//! suppressed addresses are kept per shop.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, FixedOffset};
use ichigen_core::pipeline::memory::MemoryQueue;
use ichigen_core::pipeline::{
    MailEvent, MailEventKind, MailEvents, MailJob, Mailer, Notified, Notifier, OutgoingMail, ParkedMail, PortError,
    ProcessSettings, Processor, RelayDirectory, RelayMailers, RelayPassword, RelaySettings, SendError, ShopDirectory,
    ShopSettings,
};
use ichigen_core::sample::SampleOrders;
use ichigen_core::{Marketplace, Order};
use ichigen_local::{EmlOutbox, SqliteStore};

fn at(s: &str) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(s).unwrap()
}

fn rakuten_order(n: usize) -> Order {
    let mut o = SampleOrders::new(11).clean_order(Marketplace::Rakuten, n);
    o.shop_id = "s1".into();
    o.buyer.email = Some(format!("0a1b2c3d{n:04}s1@pc.fw.rakuten.ne.jp"));
    o
}

/// Relays from the store's settings, writing into an outbox with the registered sender.
struct OutboxRelays<'a> {
    store: &'a SqliteStore,
    outbox: &'a EmlOutbox,
}

struct OutboxRelay<'a> {
    from: String,
    outbox: &'a EmlOutbox,
}

impl<'a> RelayMailers for OutboxRelays<'a> {
    type Mailer = OutboxRelay<'a>;
    async fn relay(&self, shop_id: &str, marketplace: Marketplace) -> Result<Option<OutboxRelay<'a>>, PortError> {
        Ok(self
            .store
            .relay_settings(shop_id, marketplace)
            .await?
            .map(|s| OutboxRelay { from: s.from, outbox: self.outbox }))
    }
}

impl Mailer for OutboxRelay<'_> {
    async fn send(&self, mail: &OutgoingMail) -> Result<String, SendError> {
        self.outbox.send(&OutgoingMail { from: self.from.clone(), ..mail.clone() }).await
    }
}

fn eml(dir: &Path) -> Vec<String> {
    let mut files: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "eml"))
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect();
    files.sort();
    files
}

#[tokio::test]
async fn rakuten_mail_waits_in_the_file_and_goes_out_once_when_the_relay_is_set() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ichigen.db");
    let now = at("2026-11-05T10:00:00+09:00");
    let outbox = EmlOutbox::new(dir.path().join("outbox")).unwrap();
    let jobs: Vec<MailJob> = {
        let store = SqliteStore::open(&db).unwrap();
        let mut shop = ShopSettings::new("s1", "見本商店", "shop@example.jp");
        shop.staff_to = vec!["staff@example.jp".into()];
        store.put_shop(&shop).await.unwrap();
        let mails = MemoryQueue::<MailJob>::new();
        let processor =
            Processor::new(&store, &store, &mails, ichigen_marketplaces::policies(), ProcessSettings::default());
        for n in 1..=2 {
            processor.process(rakuten_order(n), now).await.unwrap();
        }
        let jobs = mails.drain();
        let notifier =
            Notifier::new(&store, &store, &store, &outbox, ichigen_marketplaces::policies(), Duration::from_secs(120))
                .with_relays(OutboxRelays { store: &store, outbox: &outbox });
        for job in &jobs {
            assert!(matches!(notifier.notify(job, now).await.unwrap(), Notified::Parked { .. }));
        }
        jobs
    };
    let files = eml(outbox.dir());
    assert_eq!(files.len(), 1, "only the staff notice");
    assert!(files[0].contains("To: <staff@example.jp>") && files[0].contains("X-Ichigen-Route: shop"), "{}", files[0]);
    assert!(files[0].contains("X-Ichigen-Kind: relay_waiting"));

    // Reopened: still waiting. The relay settings are stored; the drain sends each mail once.
    let store = SqliteStore::open(&db).unwrap();
    assert_eq!(store.parked("s1", Marketplace::Rakuten, 10).await.unwrap().len(), 2);
    let relay = RelaySettings {
        host: "sub.fw.rakuten.ne.jp".into(),
        port: 587,
        auth_id: "id".into(),
        password: RelayPassword::new("pw"),
        from: "order-confirm@shop.example.jp".into(),
        ca_pem: None,
    };
    store.put_relay_settings("s1", Marketplace::Rakuten, &relay).unwrap();
    let notifier =
        Notifier::new(&store, &store, &store, &outbox, ichigen_marketplaces::policies(), Duration::from_secs(120))
            .with_relays(OutboxRelays { store: &store, outbox: &outbox });
    let drained = notifier.drain("s1", Marketplace::Rakuten, now, 10).await.unwrap();
    assert_eq!((drained.sent, drained.waiting), (2, 0), "{drained:?}");
    assert_eq!(notifier.drain("s1", Marketplace::Rakuten, now, 10).await.unwrap().sent, 0);
    for job in &jobs {
        assert!(matches!(notifier.notify(job, now).await.unwrap(), Notified::AlreadySent(_)));
    }
    let files = eml(outbox.dir());
    let relayed: Vec<&String> = files.iter().filter(|f| f.contains("X-Ichigen-Route: rakuten-relay")).collect();
    assert_eq!(relayed.len(), 2);
    assert!(relayed.iter().all(|f| f.contains("From: <order-confirm@shop.example.jp>")), "{}", relayed[0]);
}

#[tokio::test]
async fn delivery_events_are_kept_and_their_addresses_suppressed() {
    let store = SqliteStore::open_in_memory().unwrap();
    let event = |kind, address: &str, message_id: &str| MailEvent {
        shop_id: "s1".into(),
        marketplace: Marketplace::Yahoo,
        order_id: "o-1".into(),
        mail_kind: "thank_you".into(),
        kind,
        address: address.into(),
        at: at("2026-11-05T10:00:00+09:00"),
        detail: "Permanent/General".into(),
        message_id: message_id.into(),
    };
    store.record_event(&event(MailEventKind::HardBounce, "Gone@example.jp", "m1")).await.unwrap();
    store.record_event(&event(MailEventKind::HardBounce, "Gone@example.jp", "m1")).await.unwrap();
    store.record_event(&event(MailEventKind::SoftBounce, "full@example.jp", "m2")).await.unwrap();
    assert_eq!(store.events("s1").await.unwrap().len(), 2, "the same event twice is kept once");
    assert!(store.is_suppressed("s1", "gone@example.jp").await.unwrap());
    assert!(!store.is_suppressed("s2", "gone@example.jp").await.unwrap(), "per shop");
    assert!(!store.is_suppressed("s1", "full@example.jp").await.unwrap(), "a soft bounce does not suppress");
}
