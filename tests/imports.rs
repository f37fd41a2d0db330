//! Tracking numbers in, on AWS (moto server): a B2クラウド issued-data file, made from a label
//! export of the stored orders, dropped into the import bucket under the shop's folder; moto
//! notifies the imports queue as S3 does; the importer handler takes the queue's messages. The
//! orders get their tracking numbers, the pair's pending write-backs exist, and the shop's staff
//! get one mail with the counts; the same message delivered again changes nothing and mails
//! nothing; a file with bad rows applies nothing and its mail names the rows; an unreadable file
//! is mailed about and acknowledged; a folder naming no shop ends in the DLQ.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use aws_lambda_events::event::sqs::SqsBatchResponse;
use chrono::NaiveDate;
use encoding_rs::SHIFT_JIS;
use ichigen_core::labels::{self, LabelOptions, Program};
use ichigen_core::pipeline::{OrderKey, ShopDirectory, StoredOrder, TrackingWrites};
use ichigen_core::sample::SampleOrders;
use ichigen_core::{Marketplace, Order, OrderStatus, Rules};
use ichigen_integration_tests::{AwsWorld, STAFF_TO};
use ichigen_lambda::Metrics;
use ichigen_testkit::moto::SentMail;

const SHOP: &str = "shop-1";

/// A valid 12-digit ヤマト number (mod-7 check digit, `carriers.md`), unique per `i`.
fn number(i: u64) -> String {
    let base = 4_000_000_000 + 10_000 + i;
    format!("{base:011}{}", base % 7)
}

fn sjis(text: &str) -> Vec<u8> {
    let (bytes, _, bad) = SHIFT_JIS.encode(text);
    assert!(!bad);
    bytes.into_owned()
}

/// `n` clean Yahoo orders, paid and ready to ship, each to another buyer (no 同梱 candidates).
fn orders(n: usize) -> Vec<Order> {
    let mut samples = SampleOrders::new(7);
    (0..n)
        .map(|i| {
            let mut o = samples.clean_order(Marketplace::Yahoo, i);
            o.shop_id = SHOP.into();
            o.status = OrderStatus::ReadyToShip;
            o
        })
        .collect()
}

/// Stores the shop (with the ご依頼主 block B2 needs) and processes `orders`.
async fn world(orders: &[Order]) -> AwsWorld {
    let w = AwsWorld::new(3).await;
    let mut shop = w.shop(SHOP, "").await;
    shop.contact.company = "いちげん商店".into();
    shop.contact.postal_code = "100-0001".into();
    shop.contact.address = "東京都千代田区千代田1-1".into();
    shop.contact.phone = "03-1234-5678".into();
    shop.carrier_accounts.yamato_billing_code = "0312345678".into();
    w.store.put_shop(&shop).await.unwrap();
    let bodies: Vec<String> = orders.iter().map(|o| serde_json::to_string(o).unwrap()).collect();
    w.send_bodies(&w.orders_url, &bodies).await;
    let p = w.processor();
    w.deliver(&w.orders_url, |event| {
        let p = &p;
        async move { ichigen_processor::handle(p, event, &mut Metrics::new("processor")).await }
    })
    .await;
    w
}

/// The B2 label export of the stored orders (`ichigen export --format b2`): お客様管理番号 → row.
async fn b2_export(w: &AwsWorld) -> BTreeMap<String, Vec<String>> {
    let shop = w.store.shop(SHOP).await.unwrap().unwrap();
    let stored = w.stored(SHOP).await;
    let opts = LabelOptions { ship_date: NaiveDate::from_ymd_opt(2026, 11, 30).unwrap() };
    let exported = labels::export(Program::B2, &stored, &shop, &Rules::default(), &opts).unwrap();
    assert!(
        exported.skipped.is_empty() && exported.not_ready.is_empty(),
        "{:?} {:?}",
        exported.skipped,
        exported.not_ready
    );
    let (text, _, bad) = SHIFT_JIS.decode(&exported.bytes);
    assert!(!bad);
    let mut reader = csv::ReaderBuilder::new().has_headers(true).from_reader(text.as_bytes());
    reader
        .records()
        .map(|r| {
            let row: Vec<String> = r.unwrap().iter().map(str::to_string).collect();
            (row[0].clone(), row)
        })
        .collect()
}

/// B2クラウド's 発行済データ: the import layout with column 4 伝票番号 filled, header kept.
fn b2_issued(rows: &[(&Vec<String>, String)]) -> Vec<u8> {
    let mut text = "お客様管理番号,送り状種類,クール区分,伝票番号,出荷予定日\r\n".to_string();
    for (r, no) in rows {
        text.push_str(&format!("{},{},{},{},{}\r\n", r[0], r[1], r[2], no, r[4]));
    }
    sjis(&text)
}

/// Delivers the imports queue to the importer handler like the event source mapping; returns
/// (handled, failed) and every message body it handed over.
async fn import_all(w: &AwsWorld, url: &str) -> ((usize, usize), Vec<String>) {
    let importer = w.importer();
    let mut bodies = Vec::new();
    let counts = w
        .deliver(url, |event| {
            bodies.extend(event.records.iter().filter_map(|r| r.body.clone()));
            let importer = &importer;
            async move {
                let response: SqsBatchResponse =
                    ichigen_importer::handle(importer, event, &mut Metrics::new("importer")).await;
                response
            }
        })
        .await;
    (counts, bodies)
}

fn staff_mail(mails: &[SentMail]) -> Vec<&SentMail> {
    mails.iter().filter(|m| m.to == [STAFF_TO]).collect()
}

fn by_key(stored: Vec<StoredOrder>) -> BTreeMap<OrderKey, StoredOrder> {
    stored.into_iter().map(|s| (s.key(), s)).collect()
}

#[tokio::test]
async fn a_dropped_b2_file_ships_the_parcels_and_tells_staff_once() {
    let five = orders(5);
    let w = world(&five).await;
    // S3 bucket names are global across moto's accounts: one per test account, so a second run
    // against the same moto server does not meet the first run's bucket.
    let bucket = format!("ichigen-test-imports-{}", w.account);
    let (url, dlq_url) = w.import_bucket(&bucket, 3).await;
    let rows = b2_export(&w).await;
    assert_eq!(rows.len(), 5, "one label row per order");
    let keys: Vec<&String> = rows.keys().collect();

    // The first three parcels' numbers, in a file whose name has a space and Japanese (the
    // event's key is URL-encoded) and names its format.
    let numbers: Vec<String> = (0..3).map(number).collect();
    let file: Vec<(&Vec<String>, String)> = (0..3).map(|i| (&rows[keys[i]], numbers[i].clone())).collect();
    w.put_file(&bucket, &format!("imports/{SHOP}/11月30日 出荷.b2.csv"), b2_issued(&file)).await;

    let ((handled, failed), bodies) = import_all(&w, &url).await;
    assert_eq!((handled, failed), (2, 0), "moto's s3:TestEvent and the file's event: {bodies:?}");
    assert!(bodies.iter().any(|b| b.contains("s3:TestEvent")), "moto delivers S3's test event: {bodies:?}");
    let event = bodies.iter().find(|b| b.contains("ObjectCreated")).expect("moto delivers the S3 event").clone();

    // The orders carry their tracking numbers (出荷済), the pair's write-backs are queued.
    let stored = by_key(w.stored(SHOP).await);
    let mut shipped = BTreeMap::new();
    for s in stored.values() {
        if let Some(t) = s.parcel(1).and_then(|p| p.tracking.as_ref()) {
            shipped.insert(s.key(), t.number.clone());
        }
    }
    assert_eq!(shipped.len(), 3, "{shipped:?}");
    assert_eq!(shipped.values().cloned().collect::<std::collections::BTreeSet<_>>(), numbers.iter().cloned().collect());
    let writes = w.store.get_writes(SHOP, Marketplace::Yahoo).await.unwrap().expect("pending writes");
    let pairs: BTreeMap<OrderKey, String> =
        writes.writes.iter().map(|x| (x.order.clone(), x.tracking.number.clone())).collect();
    assert_eq!(pairs, shipped, "one write-back per recorded number");

    // Staff got one mail in Japanese with the counts and the rows.
    let mails = w.sent_mail().await;
    let staff = staff_mail(&mails);
    assert_eq!(staff.len(), 1, "{mails:?}");
    let subject = staff[0].subject.as_deref().unwrap();
    assert!(subject.contains("伝票番号を取り込みました") && subject.contains("出荷済 3件"), "{subject}");
    let body = staff[0].body.as_deref().unwrap();
    assert!(body.contains("新たに出荷済にした荷物：3件") && body.contains("11月30日 出荷.b2.csv"), "{body}");
    assert!(numbers.iter().all(|n| body.contains(n.as_str())), "{body}");

    // The same event delivered again (SQS is at least once): nothing changes, no second mail.
    w.send_bodies(&url, std::slice::from_ref(&event)).await;
    let ((handled, failed), _) = import_all(&w, &url).await;
    assert_eq!((handled, failed), (1, 0));
    let again = by_key(w.stored(SHOP).await);
    assert_eq!(
        again.values().map(|s| (s.key(), s.rev)).collect::<Vec<_>>(),
        stored.values().map(|s| (s.key(), s.rev)).collect::<Vec<_>>(),
        "no order was written again"
    );
    assert_eq!(w.store.get_writes(SHOP, Marketplace::Yahoo).await.unwrap().unwrap().rev, writes.rev);
    assert_eq!(staff_mail(&w.sent_mail().await).len(), 1, "the result mail went out once");

    // A file with a good row for a parcel not yet shipped, an unknown お客様管理番号 and a bad
    // check digit applies nothing, and the mail names the two bad lines.
    let mut bad_number = number(90);
    bad_number.replace_range(11.., if bad_number.ends_with('0') { "1" } else { "0" });
    let mut unknown = rows[keys[4]].clone();
    unknown[0] = "Y0000000000001".into();
    let bad = b2_issued(&[(&rows[keys[3]], number(3)), (&unknown, number(91)), (&rows[keys[4]], bad_number)]);
    w.put_file(&bucket, &format!("imports/{SHOP}/bad.b2.csv"), bad).await;
    let ((handled, failed), _) = import_all(&w, &url).await;
    assert_eq!((handled, failed), (1, 0), "refused rows are the file's problem, not a retry");
    let after = by_key(w.stored(SHOP).await);
    assert_eq!(
        after.values().map(|s| (s.key(), s.rev)).collect::<Vec<_>>(),
        again.values().map(|s| (s.key(), s.rev)).collect::<Vec<_>>(),
        "nothing of the bad file was applied, not even its good row"
    );
    assert_eq!(after.values().filter(|s| s.parcel(1).and_then(|p| p.tracking.as_ref()).is_some()).count(), 3);
    let mails = w.sent_mail().await;
    let refused = staff_mail(&mails)
        .into_iter()
        .find(|m| m.subject.as_deref().unwrap().contains("取り込めませんでした"))
        .expect("a refusal mail");
    let body = refused.body.as_deref().unwrap();
    assert!(refused.subject.as_deref().unwrap().contains("要修正 2行"), "{:?}", refused.subject);
    assert!(body.contains("3行目") && body.contains("4行目") && !body.contains("2行目"), "{body}");
    assert!(body.contains("どの伝票番号も登録していません"), "{body}");

    // A file no format reads: staff are told, the message is acknowledged (not retried).
    w.put_file(&bucket, &format!("imports/{SHOP}/memo.csv"), b"a,b\n1,2\n".to_vec()).await;
    let ((handled, failed), _) = import_all(&w, &url).await;
    assert_eq!((handled, failed), (1, 0));
    let mails = w.sent_mail().await;
    let unreadable = staff_mail(&mails)
        .into_iter()
        .find(|m| m.subject.as_deref().unwrap().contains("読めませんでした"))
        .expect("an unreadable-file mail");
    assert!(
        unreadable.body.as_deref().unwrap().contains(".b2.csv"),
        "says how to name the format: {:?}",
        unreadable.body
    );

    // A folder naming no shop has nobody to tell: the message fails until the DLQ takes it.
    w.put_file(&bucket, "imports/no-such-shop/x.b2.csv", b2_issued(&file)).await;
    let ((_, failed), _) = import_all(&w, &url).await;
    assert_eq!(failed, 3, "tried until the redrive policy's 3 receives");
    assert_eq!(w.depth(&dlq_url).await, 1);
    assert_eq!(staff_mail(&w.sent_mail().await).len(), 3, "no mail for it");
}
