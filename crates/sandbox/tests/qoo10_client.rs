//! The real Qoo10 client against the Qoo10 sandbox.

// Test helpers outside #[test] functions unwrap as the tests do.
#![allow(clippy::unwrap_used)]

use std::collections::HashMap;
use std::time::{Duration, Instant};

use chrono::{DateTime, FixedOffset};
use ichigen_core::carrier::tracking_digits;
use ichigen_core::pipeline::Acknowledged;
use ichigen_core::{Carrier, Marketplace, Order, OrderStatus, Tracking};
use ichigen_marketplaces::client::{ClientError, HttpConfig, OrderSource, RetryPolicy, Window};
use ichigen_marketplaces::qoo10::client::{API_PATH, OP_SEARCH};
use ichigen_marketplaces::qoo10::{Qoo10Client, Qoo10Credentials};
use ichigen_marketplaces::{Body, NormalizeError};
use ichigen_sandbox::qoo10::{BackOffice, Options, start, start_with, start_with_back_office};
use ichigen_sandbox::{Faults, SandboxConfig, Seed, Started};

/// `orders` seeded `step_secs` apart, the last two days ago: every one placed already (a sandbox
/// shows no order before its time).
fn sandbox_config(orders: usize, step_secs: i64) -> SandboxConfig {
    let span = chrono::Duration::seconds(step_secs * orders as i64) + chrono::Duration::days(2);
    // In JST and whole seconds, as QAPI speaks.
    let now = chrono::Utc::now().with_timezone(&ichigen_core::JST);
    let start = now - span - chrono::Duration::nanoseconds(i64::from(chrono::Timelike::nanosecond(&now)));
    SandboxConfig {
        seed: Seed { orders, step_secs, start, ..Seed::default() },
        throttle: None,
        ..SandboxConfig::default()
    }
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
/// compared as mapped): the buyer-paid fee (COD fee; `fee` is 0 and `total` lacks it), `New`
/// (a paid Qoo10 order is `On request(2)` → ready to ship), a time slot without a date, shipment
/// ids, the verbatim source labels, recipient kana, the phone's domestic spelling,
/// `source_updated_at` (derived from the dates). A cancelled order is read with the per-order
/// method, which has no `ShippingRate`: its shipping reads 0.
fn assert_same(got: &Order, seeded: &Order) {
    let id = &seeded.order_id;
    let status = if seeded.status == OrderStatus::New { OrderStatus::ReadyToShip } else { seeded.status };
    assert_eq!(got.status, status, "{id} status");
    assert_eq!(got.items, seeded.items, "{id} items");
    let t = seeded.totals;
    let shipping = if seeded.status == OrderStatus::Cancelled { 0 } else { t.shipping };
    assert_eq!(
        (got.totals.goods, got.totals.shipping, got.totals.discount, got.totals.fee, got.totals.total),
        (t.goods, shipping, t.discount, 0, t.goods + shipping - t.discount),
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
    for st in [OrderStatus::AwaitingPayment, OrderStatus::ReadyToShip, OrderStatus::Shipped, OrderStatus::Cancelled] {
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

#[tokio::test]
async fn f2_each_destination_of_a_pack_gets_its_own_number_on_its_own_lines() {
    let s = start(sandbox_config(400, 600)).await.unwrap();
    let c = client(&s);
    let (orders, _) = pull(&c, &everything(&s)).await.unwrap();
    let order = orders
        .iter()
        .find(|o| o.status == OrderStatus::ReadyToShip && o.shipments.len() == 2)
        .expect("a paid pack sent to two addresses")
        .clone();
    let ids: Vec<String> = order.shipments.iter().map(|sh| sh.shipment_id.clone().expect("its order lines")).collect();
    assert_ne!(ids[0], ids[1]);
    let since: DateTime<FixedOffset> = chrono::Utc::now().fixed_offset() - chrono::Duration::seconds(2);
    let numbers = ["123456789013", "234567890126"];
    for (id, number) in ids.iter().zip(numbers) {
        let t = Tracking {
            carrier: Carrier::Yamato,
            number: number.into(),
            shipped_at: None,
            shipment_id: Some(id.clone()),
        };
        c.register_tracking(&order, &t).await.unwrap();
    }
    // A destination that is not the order's is refused before any request.
    let foreign = Tracking {
        carrier: Carrier::Yamato,
        number: "345678901234".into(),
        shipped_at: None,
        shipment_id: Some("1".into()),
    };
    assert!(matches!(c.register_tracking(&order, &foreign).await, Err(ClientError::Rejected { .. })));

    let w = Window { from: since, to: chrono::Utc::now().fixed_offset() + chrono::Duration::seconds(2) };
    let (changed, _) = pull(&c, &w).await.unwrap();
    let got = &by_id(changed)[&order.order_id];
    assert_eq!(got.status, OrderStatus::Shipped);
    let mut seen: Vec<&str> = got.tracking.iter().map(|t| t.number.as_str()).collect();
    seen.sort_unstable();
    assert_eq!(seen, numbers, "each destination's number, once");
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
    // The search answers labels, never a claim field (fact sheet §4.2, §7).
    assert!(body_has_labels_only(&bodies[0].text));
    for o in &normalized {
        // Status 2 lines only: a cancelled line is not in the search.
        assert_eq!(o.status, OrderStatus::ReadyToShip);
        assert_eq!(o.source_status, "On request(2)");
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

/// Every `shippingStatus` of a search answer is a label with the code in parentheses, and no row
/// has a claim field.
fn body_has_labels_only(text: &str) -> bool {
    let v: serde_json::Value = serde_json::from_str(text).unwrap();
    let rows = v["ResultObject"].as_array().unwrap();
    !rows.is_empty()
        && rows.iter().all(|r| {
            let st = r["shippingStatus"].as_str().unwrap_or("");
            st.ends_with(')') && st.contains('(') && r.get("claimStatus").is_none()
        })
}

fn with_back_office(orders: usize, step_secs: i64) -> (Started, BackOffice) {
    let rt = tokio::runtime::Handle::current();
    tokio::task::block_in_place(|| {
        rt.block_on(start_with_back_office(sandbox_config(orders, step_secs), Options::default()))
    })
    .unwrap()
}

/// A window from `since` to a little after now: after every seeded order date.
fn since(t: DateTime<FixedOffset>) -> Window {
    Window { from: t, to: chrono::Utc::now().fixed_offset() + chrono::Duration::seconds(2) }
}

fn now_minus(secs: i64) -> DateTime<FixedOffset> {
    chrono::Utc::now().fixed_offset() - chrono::Duration::seconds(secs)
}

/// The start of a window for the next change: a whole second after every earlier change (QAPI
/// times are whole seconds).
async fn tick() -> DateTime<FixedOffset> {
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let now = chrono::Utc::now().fixed_offset();
    now - chrono::Duration::nanoseconds(i64::from(chrono::Timelike::nanosecond(&now)))
}

/// The first seeded order of `status` (and, for a payment, of a payment that can wait).
fn seeded(s: &Started, status: OrderStatus, skip: usize) -> Order {
    s.book.all().into_iter().filter(|o| o.status == status && o.items.len() == 1).nth(skip).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn h_an_order_placed_before_the_window_is_seen_paid_shipped_and_cancelled_within_one_pull() {
    let (s, desk) = with_back_office(240, 1800);
    let c = client(&s);
    // The first pull over every order: status 1 is awaiting payment (an unpaid store/prepaid order).
    let all = by_id(pull(&c, &everything(&s)).await.unwrap().0);
    let unpaid = seeded(&s, OrderStatus::AwaitingPayment, 0);
    assert_eq!(all[&unpaid.order_id].status, OrderStatus::AwaitingPayment);
    assert_eq!(all[&unpaid.order_id].source_status, "Awaiting shipping(1)");
    let last_order = s.book.all().iter().map(|o| o.ordered_at).max().unwrap();
    assert!(last_order < now_minus(60), "every order is placed before the windows below");

    // Paid: found by its payment date.
    let t = tick().await;
    assert!(desk.pay(&unpaid.order_id));
    let got = by_id(pull(&c, &since(t)).await.unwrap().0);
    assert_eq!(got.len(), 1, "only the paid order changed");
    let paid = &got[&unpaid.order_id];
    assert_eq!((paid.status, paid.source_status.as_str()), (OrderStatus::ReadyToShip, "On request(2)"));

    // Seller confirm (2 → 3) moves no date and changes nothing canonical; the by-id read shows it.
    assert!(desk.confirm(&unpaid.order_id));
    let page = c.orders_by_id(std::slice::from_ref(&unpaid.order_id)).await.unwrap();
    let missing = page.missing.clone();
    assert!(missing.is_empty());
    assert_eq!(
        (page.orders[0].status, page.orders[0].source_status.as_str()),
        (OrderStatus::ReadyToShip, "Seller confirm(3)")
    );

    // Shipped with tracking in QSM: found by its shipping date.
    let t = tick().await;
    assert!(desk.ship(&unpaid.order_id, "ヤマト運輸", "123456789013"));
    let got = by_id(pull(&c, &since(t)).await.unwrap().0);
    let shipped = &got[&unpaid.order_id];
    assert_eq!((shipped.status, shipped.source_status.as_str()), (OrderStatus::Shipped, "On delivery(4)"));
    assert_eq!((shipped.tracking[0].carrier, shipped.tracking[0].number.as_str()), (Carrier::Yamato, "123456789013"));

    // Cancelled after payment: gone from the shipping search, found through the claim search.
    let ready = seeded(&s, OrderStatus::ReadyToShip, 0);
    let other = seeded(&s, OrderStatus::New, 0);
    assert_eq!(all[&ready.order_id].status, OrderStatus::ReadyToShip);
    let t = tick().await;
    assert!(desk.cancel(&ready.order_id));
    let got = by_id(pull(&c, &since(t)).await.unwrap().0);
    assert_eq!(got.len(), 1, "only the cancelled order changed");
    let cancelled = &got[&ready.order_id];
    assert_eq!((cancelled.status, cancelled.source_status.as_str()), (OrderStatus::Cancelled, "3"));
    assert_eq!(cancelled.items, ready.items);
    assert_eq!(cancelled.ordered_at, ready.ordered_at);
    // The shipping search no longer lists it: a pull over its order and payment dates does not
    // see it (its cancel date is now, outside that window); its neighbours are still there.
    let fresh = client(&s);
    let again = by_id(pull(&fresh, &everything(&s)).await.unwrap().0);
    assert!(!again.contains_key(&ready.order_id), "a cancelled order vanishes from GetShippingInfo");
    assert_eq!(again[&other.order_id].status, OrderStatus::ReadyToShip);

    // An unpaid order that is cancelled (16) is cancelled too.
    let unpaid2 = seeded(&s, OrderStatus::AwaitingPayment, 1);
    let t = tick().await;
    assert!(desk.cancel(&unpaid2.order_id));
    let got = by_id(pull(&c, &since(t)).await.unwrap().0);
    assert_eq!(
        (got[&unpaid2.order_id].status, got[&unpaid2.order_id].source_status.as_str()),
        (OrderStatus::Cancelled, "16")
    );
    // A paid order cannot have tracking registered once cancelled, nor an unpaid one at all.
    let unpaid3 = seeded(&s, OrderStatus::AwaitingPayment, 2);
    let tracking =
        Tracking { carrier: Carrier::Yamato, number: "1234-5678-9013".into(), shipped_at: None, shipment_id: None };
    assert!(matches!(c.register_tracking(&all[&unpaid3.order_id], &tracking).await, Err(ClientError::Rejected { .. })));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn i_orders_by_id_read_the_current_state_of_packs_with_one_call_per_line() {
    let (s, desk) = with_back_office(60, 3600);
    let ready = seeded(&s, OrderStatus::ReadyToShip, 0);
    let unpaid = seeded(&s, OrderStatus::AwaitingPayment, 0);
    let to_cancel = seeded(&s, OrderStatus::New, 0);
    let seeded_cancel = seeded(&s, OrderStatus::Cancelled, 0);
    let multi = s.book.all().into_iter().find(|o| o.items.len() >= 2 && o.status == OrderStatus::ReadyToShip).unwrap();
    assert_eq!(ichigen_marketplaces::qoo10::client::MAX_IDS_PER_CALL, 1);

    // A client that has seen nothing: it sweeps the searches once to learn the packs' lines.
    let c = client(&s);
    // The reads can run on any worker thread.
    fn send<T: Send>(t: T) -> T {
        t
    }
    drop(send(c.orders_by_id(&[])));
    drop(send(c.changed_orders(&everything(&s), None)));
    let ids = vec![ready.order_id.clone(), unpaid.order_id.clone(), seeded_cancel.order_id.clone(), "999999999".into()];
    let page = c.orders_by_id(&ids).await.unwrap();
    let missing = page.missing.clone();
    assert_eq!(missing, vec!["999999999".to_owned()], "an id Qoo10 does not know");
    let got = by_id(page.orders);
    assert_same(&got[&ready.order_id], &ready);
    assert_same(&got[&unpaid.order_id], &unpaid);
    assert_eq!(got[&unpaid.order_id].status, OrderStatus::AwaitingPayment);
    assert_eq!(got[&seeded_cancel.order_id].status, OrderStatus::Cancelled);
    let after_first = c.requests_sent();

    // Changes since: one per-order call per line, no sweep again.
    assert!(desk.cancel(&to_cancel.order_id));
    assert!(desk.pay(&unpaid.order_id));
    let lines = desk.order_lines(&multi.order_id);
    assert!(desk.cancel_line(*lines.last().unwrap()));
    let ids = vec![to_cancel.order_id.clone(), unpaid.order_id.clone(), multi.order_id.clone()];
    let page = c.orders_by_id(&ids).await.unwrap();
    let missing = page.missing.clone();
    assert!(missing.is_empty());
    let got = by_id(page.orders);
    assert_eq!(got[&to_cancel.order_id].status, OrderStatus::Cancelled, "cancelled after payment");
    assert_eq!(got[&unpaid.order_id].status, OrderStatus::ReadyToShip, "paid");
    let partly = &got[&multi.order_id];
    assert_eq!(partly.status, OrderStatus::ReadyToShip, "the other lines still ship");
    assert_eq!(partly.items, multi.items[..multi.items.len() - 1].to_vec(), "the cancelled line is left out");
    // The totals keep the shipping fee the per-order read lacks (taken from the search row).
    assert_eq!(partly.totals.shipping, multi.totals.shipping);
    let calls = c.requests_sent() - after_first;
    let expected = 1 + 1 + multi.items.len() as u64;
    assert_eq!(calls, expected, "one call per line of each pack");
    let _ = to_cancel;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn j_a_cancel_request_holds_and_a_cancelled_line_leaves_its_pack_in_the_pull() {
    let (s, desk) = with_back_office(60, 3600);
    let c = client(&s);
    let ready = seeded(&s, OrderStatus::ReadyToShip, 0);
    let multi = s.book.all().into_iter().find(|o| o.items.len() >= 2 && o.status == OrderStatus::New).unwrap();
    let t = tick().await;
    assert!(desk.request_cancel(&ready.order_id));
    assert!(desk.cancel_line(*desk.order_lines(&multi.order_id).last().unwrap()));
    let got = by_id(pull(&c, &since(t)).await.unwrap().0);
    assert_eq!(got.len(), 2, "{:?}", got.keys());
    assert_eq!((got[&ready.order_id].status, got[&ready.order_id].source_status.as_str()), (OrderStatus::OnHold, "1"));
    let partly = &got[&multi.order_id];
    assert_eq!(partly.status, OrderStatus::ReadyToShip);
    assert_eq!(partly.items, multi.items[..multi.items.len() - 1].to_vec());
    assert_eq!(partly.totals.shipping, multi.totals.shipping, "live lines come from the search, fee included");
}

#[tokio::test]
async fn k_the_sandbox_serves_the_claim_search_and_the_per_order_read_as_published() {
    let s = start(sandbox_config(60, 3600)).await.unwrap();
    let base = format!("{}{API_PATH}", s.base_url());
    let raw = reqwest::Client::new();
    let cert: serde_json::Value = raw
        .post(format!("{base}/CertificationAPI.CreateCertificationKey"))
        .header("GiosisCertificationKey", credential(&s, "api_key"))
        .header("QAPIVersion", "1.0")
        .form(&[("user_id", credential(&s, "user_id")), ("pwd", credential(&s, "password"))])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let sak = cert["ResultObject"].as_str().unwrap().to_owned();
    let call = |method: &'static str, form: Vec<(&'static str, String)>| {
        let (raw, base, sak) = (raw.clone(), base.clone(), sak.clone());
        async move {
            let r = raw
                .post(format!("{base}/{method}"))
                .header("GiosisCertificationKey", sak)
                .header("QAPIVersion", "1.0")
                .form(&form)
                .send()
                .await
                .unwrap();
            r.json::<serde_json::Value>().await.unwrap()
        }
    };
    let cancelled = seeded(&s, OrderStatus::Cancelled, 0);
    let day = |d: i64| (cancelled.ordered_at + chrono::Duration::days(d)).format("%Y%m%d").to_string();
    let claims = call(
        "ShippingBasic.GetClaimInfo_V3",
        vec![
            ("ClaimStat", "3".into()),
            ("search_Sdate", day(-1)),
            ("search_Edate", day(1)),
            ("search_condition", "1".into()),
        ],
    )
    .await;
    assert_eq!(claims["ResultCode"], 0);
    let rows = claims["ResultObject"].as_array().unwrap();
    let row =
        rows.iter().find(|r| r["packNo"].as_u64().map(|n| n.to_string()) == Some(cancelled.order_id.clone())).unwrap();
    assert_eq!(row["claimStatus"], "3");
    assert!(row["cancelRefundDate"].as_str().is_some_and(|d| !d.is_empty()));
    let order_no = row["orderNo"].to_string();
    // Over 90 days: the claim search's own code.
    let too_long = call(
        "ShippingBasic.GetClaimInfo_V3",
        vec![("ClaimStat", "3".into()), ("search_Sdate", day(-100)), ("search_Edate", day(1))],
    )
    .await;
    assert_eq!(too_long["ResultCode"], -10003);

    let one = call("ShippingBasic.GetShippingAndClaimInfoByOrderNo_V2", vec![("OrderNo", order_no.clone())]).await;
    let r = &one["ResultObject"][0];
    assert_eq!(r["claimStatus"], "3");
    assert!(r["shippingStatus"].as_str().unwrap().ends_with(')'), "a label");
    assert!(r.get("trackingNo").is_some() && r.get("TrackingNo").is_none(), "lower-case keys of this method");
    assert!(r.get("ShippingRate").is_none() && r.get("Addr1").is_none());
    let none = call("ShippingBasic.GetShippingAndClaimInfoByOrderNo_V2", vec![("OrderNo", "1".into())]).await;
    assert_eq!(none["ResultCode"], -10003);
    let bad = call("ShippingBasic.GetShippingAndClaimInfoByOrderNo_V2", vec![("OrderNo", "x".into())]).await;
    assert_eq!(bad["ResultCode"], -10002);
    // The normalize module reads the per-order answer.
    let text = one.to_string();
    let o = &ichigen_marketplaces::normalize(Marketplace::Qoo10, "shop-demo", &[Body { name: "one".into(), text }])
        .unwrap()[0];
    assert_eq!((o.order_id.as_str(), o.status), (cancelled.order_id.as_str(), OrderStatus::Cancelled));

    // No search of any status lists the cancelled pack.
    for st in 1..=5 {
        let v = call(
            "ShippingBasic.GetShippingInfo_v2",
            vec![
                ("ShippingStat", st.to_string()),
                ("search_Sdate", day(-1)),
                ("search_Edate", day(1)),
                ("search_condition", "1".into()),
            ],
        )
        .await;
        let rows = v["ResultObject"].as_array().unwrap();
        assert!(
            rows.iter().all(|r| r["packNo"].as_u64().map(|n| n.to_string()) != Some(cancelled.order_id.clone())),
            "status {st}"
        );
        assert!(rows.iter().all(|r| r.get("claimStatus").is_none()));
    }
}

#[tokio::test]
async fn the_seller_check_moves_every_line_of_a_requested_pack_and_reads_the_rest_as_not_awaited() {
    let (s, office) = start_with_back_office(sandbox_config(40, 3_600), Options::default()).await.unwrap();
    let c = client(&s);
    let (orders, _) = pull(&c, &everything(&s)).await.unwrap();
    let requested: Vec<Order> =
        orders.iter().filter(|o| ichigen_marketplaces::qoo10::codes::awaits_seller_check(o)).take(2).cloned().collect();
    assert_eq!(requested.len(), 2, "the seed has paid packs at On request(2)");
    assert!(requested.iter().all(|o| o.source_status == "On request(2)"));
    let confirmed = orders.iter().find(|o| o.source_status == "Seller confirm(3)").unwrap().clone();
    let ship_by = chrono::Utc::now().with_timezone(&ichigen_core::JST).date_naive() + chrono::Duration::days(2);

    let mut batch = requested.clone();
    batch.push(confirmed.clone());
    let answers = c.acknowledge(&batch, ship_by).await.unwrap();
    assert_eq!(answers[..2], [Acknowledged::Done, Acknowledged::Done]);
    // Checked already in QSM: -10012 on each line counts as done (nothing left to do).
    assert_eq!(answers[2], Acknowledged::Done);
    for o in &requested {
        for line in office.order_lines(&o.order_id) {
            assert_eq!(office.line_status(line), Some(3), "配送準備 after the check");
            let check = office.seller_check(line).expect("recorded per line");
            assert_eq!(check.est_ship, Some(ship_by));
            assert_eq!(office.seller_check_calls(line), 1);
        }
    }
    // A second check of the same pack: -10012, still done, one more call per line.
    assert_eq!(c.acknowledge(&requested[..1], ship_by).await.unwrap(), [Acknowledged::Done]);
    // An unpaid pack is not at 配送要請: -10013, not awaited.
    let unpaid = orders.iter().find(|o| o.status == OrderStatus::AwaitingPayment).unwrap().clone();
    match &c.acknowledge(std::slice::from_ref(&unpaid), ship_by).await.unwrap()[0] {
        Acknowledged::NotAwaited { why } => assert!(why.contains("-10013"), "{why}"),
        other => panic!("{other:?}"),
    }
    // Read back by id: the pack now shows Seller confirm(3).
    let page = c.orders_by_id(&[requested[0].order_id.clone()]).await.unwrap();
    assert_eq!(page.orders[0].source_status, "Seller confirm(3)");
}

#[tokio::test]
async fn the_seller_check_refuses_a_ship_date_in_the_past() {
    let (s, office) = start_with_back_office(sandbox_config(20, 3_600), Options::default()).await.unwrap();
    let c = client(&s);
    let (orders, _) = pull(&c, &everything(&s)).await.unwrap();
    let pack = orders.iter().find(|o| ichigen_marketplaces::qoo10::codes::awaits_seller_check(o)).unwrap().clone();
    let yesterday = chrono::Utc::now().with_timezone(&ichigen_core::JST).date_naive() - chrono::Duration::days(1);
    match &c.acknowledge(std::slice::from_ref(&pack), yesterday).await.unwrap()[0] {
        Acknowledged::Refused { retryable: false, reason } => assert!(reason.contains("-10018"), "{reason}"),
        other => panic!("{other:?}"),
    }
    let line = office.order_lines(&pack.order_id)[0];
    assert_eq!(office.line_status(line), Some(2), "nothing changed");
    assert!(office.seller_check(line).is_none());
}

#[tokio::test]
async fn a_new_client_that_learned_a_pack_from_a_seller_check_or_a_write_back_reads_it_whole_by_id() {
    // A new process (a Lambda's cold start, the demo run again) knows a pack's lines from the
    // seller check or the tracking write-back (searches by its order time), but not the search
    // rows that carry what the per-order read lacks (`Addr1`/`Addr2`, `ShippingRate`). Its read
    // by id must still be the whole order, not one with the address run together and no fee.
    let (s, office) = start_with_back_office(sandbox_config(40, 3_600), Options::default()).await.unwrap();
    let (orders, _) = pull(&client(&s), &everything(&s)).await.unwrap();
    let whole = |o: &&Order| !o.ship_to.address2.is_empty() && o.totals.shipping > 0 && o.shipments.is_empty();
    let requested = orders
        .iter()
        .filter(whole)
        .find(|o| ichigen_marketplaces::qoo10::codes::awaits_seller_check(o))
        .expect("a paid pack at On request(2) with a second address line and a fee")
        .clone();
    let to_ship = orders
        .iter()
        .filter(whole)
        .find(|o| o.status == OrderStatus::ReadyToShip && o.order_id != requested.order_id)
        .expect("another paid pack")
        .clone();
    let ship_by = chrono::Utc::now().with_timezone(&ichigen_core::JST).date_naive() + chrono::Duration::days(2);
    let tracking =
        Tracking { carrier: Carrier::Yamato, number: "1234-5678-9013".into(), shipped_at: None, shipment_id: None };

    let fresh = client(&s);
    assert_eq!(fresh.acknowledge(std::slice::from_ref(&requested), ship_by).await.unwrap(), [Acknowledged::Done]);
    fresh.register_tracking(&to_ship, &tracking).await.unwrap();
    for before in [&requested, &to_ship] {
        let sent = fresh.requests_sent();
        let page = fresh.orders_by_id(std::slice::from_ref(&before.order_id)).await.unwrap();
        // The rows of the searches that found the pack's lines are kept: one call per line, no
        // sweep of 90 days of searches.
        let lines = office.order_lines(&before.order_id).len() as u64;
        assert_eq!(fresh.requests_sent() - sent, lines, "{} read by id", before.order_id);
        let got = page.orders.first().unwrap_or_else(|| panic!("{} not read: {page:?}", before.order_id));
        let id = &before.order_id;
        assert_eq!(got.ship_to.address1, before.ship_to.address1, "{id} address line 1");
        assert_eq!(got.ship_to.address2, before.ship_to.address2, "{id} address line 2");
        assert_eq!(got.totals, before.totals, "{id} totals (the fee only the search row has)");
    }
}
