//! The real Qoo10 client against the Qoo10 sandbox.

// Test helpers outside #[test] functions unwrap as the tests do.
#![allow(clippy::unwrap_used)]

use std::collections::HashMap;
use std::time::{Duration, Instant};

use chrono::{DateTime, FixedOffset};
use ichigen_core::carrier::tracking_digits;
use ichigen_core::{Carrier, Marketplace, Order, OrderStatus, Tracking};
use ichigen_marketplaces::client::{ClientError, HttpConfig, OrderSource, RetryPolicy, Window};
use ichigen_marketplaces::qoo10::client::{API_PATH, OP_SEARCH};
use ichigen_marketplaces::qoo10::{Qoo10Client, Qoo10Credentials};
use ichigen_marketplaces::{Body, NormalizeError};
use ichigen_sandbox::qoo10::{Options, start, start_with};
use ichigen_sandbox::{Faults, SandboxConfig, Seed, Started};

fn sandbox_config(orders: usize, step_secs: i64) -> SandboxConfig {
    SandboxConfig { seed: Seed { orders, step_secs, ..Seed::default() }, throttle: None, ..SandboxConfig::default() }
}

fn credential(s: &Started, name: &str) -> String {
    s.credentials.iter().find(|(n, _)| *n == name).map(|(_, v)| v.clone()).unwrap()
}

fn creds(s: &Started) -> Qoo10Credentials {
    Qoo10Credentials::new(credential(s, "api_key"), credential(s, "user_id"), credential(s, "password"))
}

fn http(s: &Started, retry: RetryPolicy, timeout: Duration) -> HttpConfig {
    HttpConfig { base_url: s.base_url(), timeout, retry, rate_scale: 1000.0 }
}

fn quick_retry(retries: usize) -> RetryPolicy {
    RetryPolicy { retries, min_delay: Duration::from_millis(5), max_delay: Duration::from_millis(50) }
}

fn client(s: &Started) -> Qoo10Client {
    Qoo10Client::new(http(s, quick_retry(3), Duration::from_secs(5)), creds(s), "shop-demo").unwrap()
}

/// A window over every seeded order, its payment and its shipment.
fn everything(s: &Started) -> Window {
    let all = s.book.all();
    let first = all.iter().map(|o| o.ordered_at).min().unwrap();
    let last = all.iter().map(|o| o.ordered_at).max().unwrap();
    Window { from: first - chrono::Duration::hours(1), to: last + chrono::Duration::days(2) }
}

/// Follows cursors to the end; returns the orders and the number of pages (no seeded order is
/// ever set aside).
async fn pull(c: &Qoo10Client, w: &Window) -> Result<(Vec<Order>, usize), ClientError> {
    let pulled = ichigen_marketplaces::client::pull_window(c, w).await?;
    assert!(pulled.rejected.is_empty(), "{:?}", pulled.rejected);
    Ok((pulled.orders, pulled.pages))
}

fn by_id(orders: Vec<Order>) -> HashMap<String, Order> {
    let n = orders.len();
    let map: HashMap<String, Order> = orders.into_iter().map(|o| (o.order_id.clone(), o)).collect();
    assert_eq!(map.len(), n, "an order came back twice");
    map
}

/// The key fields Qoo10 carries equal the seeded order's. Not carried by Qoo10 (so not compared or
/// compared as mapped): the buyer-paid fee (COD fee; `fee` is 0 and `total` lacks it),
/// `AwaitingPayment` (listed as status 1 → `New`), a time slot without a date, shipment ids,
/// the verbatim source labels, recipient kana, the phone's domestic spelling, `source_updated_at` (derived from the dates).
fn assert_same(got: &Order, seeded: &Order) {
    let id = &seeded.order_id;
    let status = if seeded.status == OrderStatus::AwaitingPayment { OrderStatus::New } else { seeded.status };
    assert_eq!(got.status, status, "{id} status");
    assert_eq!(got.items, seeded.items, "{id} items");
    let t = seeded.totals;
    assert_eq!(
        (got.totals.goods, got.totals.shipping, got.totals.discount, got.totals.fee, got.totals.total),
        (t.goods, t.shipping, t.discount, 0, t.total - t.fee),
        "{id} totals"
    );
    assert_eq!(got.ship_to.postal_code, tracking_digits(&seeded.ship_to.postal_code), "{id} postal code");
    assert_eq!(got.ship_to.name, seeded.ship_to.name, "{id} recipient");
    assert_eq!(got.buyer.name, seeded.buyer.name, "{id} buyer");
    // QAPI shows phones with the +81 country code; the number is the same.
    let key = |p: &Option<String>| p.as_deref().and_then(ichigen_core::text::phone_key);
    assert_eq!(key(&got.buyer.phone), key(&seeded.buyer.phone), "{id} buyer phone");
    assert_eq!(key(&got.ship_to.phone), key(&seeded.ship_to.phone), "{id} recipient phone");
    assert_eq!(got.payment_method, seeded.payment_method, "{id} payment");
    assert_eq!(got.delivery.method, seeded.delivery.method, "{id} delivery method");
    assert_eq!(got.delivery.requested_date, seeded.delivery.requested_date, "{id} requested date");
    let slot = seeded.delivery.requested_date.and(seeded.delivery.requested_time_slot.clone());
    assert_eq!(got.delivery.requested_time_slot, slot, "{id} time slot");
    assert_eq!(got.remarks, seeded.remarks, "{id} remarks");
    assert_eq!(got.gift, seeded.gift, "{id} gift");
    assert_eq!(got.ordered_at, seeded.ordered_at, "{id} ordered_at");
    assert_eq!(got.shipments.len(), seeded.shipments.len(), "{id} destinations");
    let numbers = |o: &Order| o.tracking.iter().map(|t| t.number.clone()).collect::<Vec<_>>();
    assert_eq!(numbers(got), numbers(seeded), "{id} tracking");
}

#[tokio::test]
async fn a_pulls_every_order_once_across_windows_and_row_caps() {
    // 600 orders 4 h apart: 100 days (more than the 90-day cap), dense enough that a 25-row cap
    // halves sub-windows.
    let s = start_with(sandbox_config(600, 4 * 3600), Options { max_rows: 25, ..Options::default() }).await.unwrap();
    let c = client(&s).with_row_cap(25);
    let w = everything(&s);
    assert!(w.to - w.from > chrono::Duration::days(90));
    let (orders, pages) = pull(&c, &w).await.unwrap();
    assert!(pages > 20, "{pages} pages");
    let got = by_id(orders);
    let seeded = s.book.all();
    assert_eq!(got.len(), seeded.len(), "orders missed");
    for o in &seeded {
        assert!(o.order_id.len() == 9 && o.order_id.starts_with('9'), "Qoo10 packNo format");
        assert_same(&got[&o.order_id], o);
    }
    // Every kind of seeded order went through.
    for st in [OrderStatus::New, OrderStatus::ReadyToShip, OrderStatus::Shipped, OrderStatus::Cancelled] {
        assert!(got.values().any(|o| o.status == st), "{st:?}");
    }
    assert!(got.values().any(|o| !o.shipments.is_empty()), "multi-destination");

    // A cursor resumes where it was, and a cursor of another window is refused.
    let first = c.changed_orders(&w, None).await.unwrap();
    let next = first.next.unwrap();
    let again = c.changed_orders(&w, Some(&next)).await.unwrap();
    assert_ne!(again.next.as_deref(), Some(next.as_str()));
    let other = Window { from: w.to, to: w.to + chrono::Duration::days(1) };
    assert!(matches!(c.changed_orders(&other, Some(&next)).await, Err(ClientError::Rejected { .. })));
    assert!(matches!(c.changed_orders(&w, Some("junk")).await, Err(ClientError::Rejected { .. })));
}

#[tokio::test]
async fn b_wrong_credentials_are_auth_errors_and_not_retried() {
    let s = start(sandbox_config(10, 3600)).await.unwrap();
    let slow = RetryPolicy { retries: 3, min_delay: Duration::from_secs(2), max_delay: Duration::from_secs(2) };
    for bad in [
        Qoo10Credentials::new(credential(&s, "api_key"), credential(&s, "user_id"), "wrong-password"),
        Qoo10Credentials::new("wrong-api-key", credential(&s, "user_id"), credential(&s, "password")),
    ] {
        let c = Qoo10Client::new(http(&s, slow, Duration::from_secs(5)), bad, "shop-demo").unwrap();
        let t = Instant::now();
        let err = c.changed_orders(&everything(&s), None).await.unwrap_err();
        assert!(t.elapsed() < Duration::from_secs(1), "retried: {:?}", t.elapsed());
        assert!(
            matches!(&err, ClientError::Auth { operation: "CertificationAPI.CreateCertificationKey", .. }),
            "{err}"
        );
        assert!(!err.is_retryable());
        let shown = format!("{err} {err:?} {c:?}");
        assert!(!shown.contains("wrong-password") && !shown.contains("wrong-api-key"), "{shown}");
    }
}

#[tokio::test]
async fn b2_a_lapsed_seller_key_is_created_again_once() {
    let s = start_with(sandbox_config(30, 3600), Options { key_uses: Some(2), ..Options::default() }).await.unwrap();
    let c = client(&s);
    let (orders, pages) = pull(&c, &everything(&s)).await.unwrap();
    assert_eq!(by_id(orders).len(), 30);
    assert!(pages > 2, "{pages} pages: the key lapsed on the way");
}

#[tokio::test]
async fn c_throttled_answers_are_retried_and_the_pull_succeeds() {
    let mut cfg = sandbox_config(40, 3600);
    cfg.throttle = Some(20.0); // 20 requests/s per operation, burst 1.
    let s = start(cfg).await.unwrap();
    // The sandbox refuses a second request right after the first with its throttle answer.
    let url = format!("{}{API_PATH}/{OP_SEARCH}", s.base_url());
    let raw = reqwest::Client::new();
    let codes: Vec<u16> = futures_two(&raw, &url).await;
    assert!(codes.contains(&429), "{codes:?}");

    // Client limits far looser than the sandbox's: throttled answers are retried.
    let retry =
        RetryPolicy { retries: 10, min_delay: Duration::from_millis(10), max_delay: Duration::from_millis(100) };
    let c = Qoo10Client::new(http(&s, retry, Duration::from_secs(5)), creds(&s), "shop-demo").unwrap();
    let (orders, pages) = pull(&c, &everything(&s)).await.unwrap();
    assert_eq!(by_id(orders).len(), 40);
    // No faults: every request beyond one per page (and the certification) was a throttled one.
    assert!(c.requests_sent() > pages as u64 + 1, "{} requests for {pages} pages", c.requests_sent());
}

async fn futures_two(raw: &reqwest::Client, url: &str) -> Vec<u16> {
    let mut codes = Vec::new();
    for _ in 0..3 {
        let r = raw.post(url).header("QAPIVersion", "1.0").form(&[("ShippingStat", "2")]).send().await.unwrap();
        codes.push(r.status().as_u16());
    }
    codes
}

#[tokio::test]
async fn d_server_errors_and_hangs_are_retried_then_reported_as_retryable() {
    let s = start(sandbox_config(30, 3600)).await.unwrap();
    let w = everything(&s);
    let retry = RetryPolicy { retries: 8, min_delay: Duration::from_millis(5), max_delay: Duration::from_millis(20) };
    let c = Qoo10Client::new(http(&s, retry, Duration::from_millis(300)), creds(&s), "shop-demo").unwrap();

    s.faults.set(Faults { error_rate: 0.3, ..Faults::default() });
    let (orders, pages) = pull(&c, &w).await.unwrap();
    assert_eq!(by_id(orders).len(), 30);
    let after_errors = c.requests_sent();
    assert!(after_errors > pages as u64 + 1, "server errors were retried");

    s.faults.set(Faults { timeout_rate: 0.3, hang: Duration::from_secs(1), ..Faults::default() });
    let (orders, pages) = pull(&c, &w).await.unwrap();
    assert_eq!(by_id(orders).len(), 30);
    assert!(c.requests_sent() - after_errors > pages as u64, "hangs were retried");

    let few = quick_retry(2);
    let c = Qoo10Client::new(http(&s, few, Duration::from_millis(300)), creds(&s), "shop-demo").unwrap();
    s.faults.set(Faults { error_rate: 1.0, ..Faults::default() });
    let err = c.changed_orders(&w, None).await.unwrap_err();
    assert!(matches!(err, ClientError::Server { status: 500, .. }), "{err}");
    assert!(err.is_retryable());
    assert_eq!(c.requests_sent(), 3, "first attempt and two retries");

    s.faults.set(Faults { timeout_rate: 1.0, hang: Duration::from_secs(1), ..Faults::default() });
    let err = c.changed_orders(&w, None).await.unwrap_err();
    assert!(matches!(err, ClientError::Transport { timeout: true, .. }), "{err}");
    assert!(err.is_retryable());
}

#[tokio::test]
async fn e_malformed_bodies_are_permanent_and_name_the_operation() {
    let s = start(sandbox_config(20, 3600)).await.unwrap();
    let w = everything(&s);
    let slow = RetryPolicy { retries: 3, min_delay: Duration::from_secs(2), max_delay: Duration::from_secs(2) };

    s.faults.set(Faults { malformed_rate: 1.0, ..Faults::default() });
    let c = Qoo10Client::new(http(&s, slow, Duration::from_secs(5)), creds(&s), "shop-demo").unwrap();
    let t = Instant::now();
    let err = c.changed_orders(&w, None).await.unwrap_err();
    assert!(t.elapsed() < Duration::from_secs(1), "retried");
    assert!(
        matches!(&err, ClientError::Malformed(NormalizeError::Malformed { marketplace: Marketplace::Qoo10, operation, .. })
            if operation == "CertificationAPI.CreateCertificationKey"),
        "{err}"
    );

    // With the key in hand, a cut search answer names the search.
    s.faults.set(Faults::default());
    c.changed_orders(&w, None).await.unwrap();
    s.faults.set(Faults { malformed_rate: 1.0, ..Faults::default() });
    let err = c.changed_orders(&w, None).await.unwrap_err();
    assert!(!err.is_retryable());
    assert!(
        matches!(&err, ClientError::Malformed(NormalizeError::Malformed { marketplace: Marketplace::Qoo10, operation, .. })
            if operation == OP_SEARCH),
        "{err}"
    );
    assert!(err.to_string().contains("qoo10") && err.to_string().contains(OP_SEARCH), "{err}");
}

#[tokio::test]
async fn f_registered_tracking_comes_back_as_shipped() {
    let s = start(sandbox_config(60, 3600)).await.unwrap();
    let c = client(&s);
    let (orders, _) = pull(&c, &everything(&s)).await.unwrap();
    let mut ready = orders.iter().filter(|o| o.status == OrderStatus::ReadyToShip);
    let order = ready.next().unwrap().clone();
    let other = ready.next().unwrap().clone();

    // A number failing the check digit is refused before any request.
    let bad =
        Tracking { carrier: Carrier::Yamato, number: "1234-5678-9012".into(), shipped_at: None, shipment_id: None };
    assert!(matches!(c.register_tracking(&order, &bad).await, Err(ClientError::Rejected { .. })));

    let since: DateTime<FixedOffset> = chrono::Utc::now().fixed_offset() - chrono::Duration::seconds(2);
    let tracking =
        Tracking { carrier: Carrier::Yamato, number: "1234-5678-9013".into(), shipped_at: None, shipment_id: None };
    c.register_tracking(&order, &tracking).await.unwrap();
    // A client that never saw the order finds its lines by searching.
    let fresh = client(&s);
    let sagawa =
        Tracking { carrier: Carrier::Sagawa, number: "123456789024".into(), shipped_at: None, shipment_id: None };
    assert!(ichigen_core::carrier::tracking_number_valid(Carrier::Sagawa, &sagawa.number));
    fresh.register_tracking(&other, &sagawa).await.unwrap();
    // Registering a shipped line again is refused by the API.
    assert!(
        matches!(c.register_tracking(&order, &tracking).await, Err(ClientError::Rejected { code, .. }) if code == "-10009")
    );

    let w = Window { from: since, to: chrono::Utc::now().fixed_offset() + chrono::Duration::seconds(2) };
    let (changed, _) = pull(&c, &w).await.unwrap();
    let changed = by_id(changed);
    assert_eq!(changed.len(), 2, "only the two write-backs changed");
    let got = &changed[&order.order_id];
    assert_eq!(got.status, OrderStatus::Shipped);
    assert_eq!(got.tracking.len(), 1);
    assert_eq!((got.tracking[0].carrier, got.tracking[0].number.as_str()), (Carrier::Yamato, "123456789013"));
    assert!(got.tracking[0].shipped_at.is_some());
    assert_eq!(got.items, order.items);
    let got = &changed[&other.order_id];
    assert_eq!((got.status, got.tracking[0].carrier), (OrderStatus::Shipped, Carrier::Sagawa));
    assert_eq!(s.book.get(&order.order_id).unwrap().status, OrderStatus::Shipped);
}

async fn raw_search(s: &Started, sak: &str, params: &[(&str, &str)]) -> String {
    let url = format!("{}{API_PATH}/ShippingBasic.GetShippingInfo_v2", s.base_url());
    let mut form = params.to_vec();
    if !form.iter().any(|(k, _)| *k == "returnType") {
        form.push(("returnType", "application/json"));
    }
    let r = reqwest::Client::new()
        .post(url)
        .header("GiosisCertificationKey", sak)
        .header("QAPIVersion", "1.0")
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "QAPI answers 200 even for errors");
    r.text().await.unwrap()
}

#[tokio::test]
async fn g_normalize_reads_the_sandbox_bodies_and_the_sandbox_answers_qapi_errors() {
    let s = start(sandbox_config(40, 3600)).await.unwrap();
    let base = format!("{}{API_PATH}", s.base_url());
    let raw = reqwest::Client::new();
    let cert = raw
        .post(format!("{base}/CertificationAPI.CreateCertificationKey"))
        .header("GiosisCertificationKey", credential(&s, "api_key"))
        .header("QAPIVersion", "1.0")
        .form(&[
            ("returnType", "application/json".to_string()),
            ("user_id", credential(&s, "user_id")),
            ("pwd", credential(&s, "password")),
        ])
        .send()
        .await
        .unwrap()
        .json::<serde_json::Value>()
        .await
        .unwrap();
    assert_eq!(cert["ResultCode"], 0);
    let sak = cert["ResultObject"].as_str().unwrap().to_owned();

    // One paid-orders search over two days, normalized by the module, equals what the client pulls.
    let all = s.book.all();
    let day0 = all[0].ordered_at.format("%Y%m%d").to_string();
    let day1 = (all[0].ordered_at + chrono::Duration::days(1)).format("%Y%m%d").to_string();
    let body = raw_search(
        &s,
        &sak,
        &[("ShippingStat", "2"), ("search_Sdate", &day0), ("search_Edate", &day1), ("search_condition", "2")],
    )
    .await;
    let bodies = [Body { name: "sandbox".into(), text: body }];
    let normalized = ichigen_marketplaces::normalize(Marketplace::Qoo10, "shop-demo", &bodies).unwrap();
    assert!(!normalized.is_empty());
    let pulled = by_id(pull(&client(&s), &everything(&s)).await.unwrap().0);
    for o in &normalized {
        // Status 2 lines; a cancel claim on them reads as cancelled.
        assert!(matches!(o.status, OrderStatus::ReadyToShip | OrderStatus::Cancelled), "{:?}", o.status);
        assert_eq!(&pulled[&o.order_id], o);
        assert_same(o, &s.book.get(&o.order_id).unwrap());
    }

    // The same search answered as XML reads the same.
    let xml = raw_search(
        &s,
        &sak,
        &[
            ("ShippingStat", "2"),
            ("search_Sdate", &day0),
            ("search_Edate", &day1),
            ("search_condition", "2"),
            ("returnType", "text/xml"),
        ],
    )
    .await;
    assert!(xml.starts_with("<?xml"), "{}", &xml[..40.min(xml.len())]);
    let bodies = [Body { name: "sandbox.xml".into(), text: xml }];
    let from_xml = ichigen_marketplaces::normalize(Marketplace::Qoo10, "shop-demo", &bodies).unwrap();
    assert_eq!(from_xml, normalized);

    // The API's own errors, in its envelope.
    let code = |body: String| serde_json::from_str::<serde_json::Value>(&body).unwrap()["ResultCode"].as_i64();
    let p = |st: &'static str, a: &'static str, b: &'static str| {
        vec![("ShippingStat", st), ("search_Sdate", a), ("search_Edate", b), ("search_condition", "1")]
    };
    assert_eq!(code(raw_search(&s, &sak, &p("2", "20260101", "20260501")).await), Some(-10002));
    assert_eq!(code(raw_search(&s, &sak, &p("2", "2026-01-01", "20260102")).await), Some(-10001));
    assert_eq!(code(raw_search(&s, &sak, &p("2", "20260105", "20260102")).await), Some(-10001));
    assert_eq!(code(raw_search(&s, &sak, &p("9", "20260101", "20260102")).await), Some(-10003));
    assert_eq!(code(raw_search(&s, "not-a-key", &p("2", "20260101", "20260102")).await), Some(-10000));
    let r = raw.post(format!("{base}/ShippingBasic.NoSuchMethod")).form(&[("a", "b")]).send().await.unwrap();
    assert!(r.text().await.unwrap().starts_with("Can't find method Info"));
}
