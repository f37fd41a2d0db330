//! The real Yahoo!ショッピング client against the Yahoo sandbox.

#![allow(clippy::unwrap_used)] // Test helpers panic on a broken sandbox, as the tests do.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use chrono::{DateTime, FixedOffset, TimeDelta};
use ichigen_core::pipeline::KnownVersions;
use ichigen_core::{Carrier, Marketplace, Order, OrderStatus, Tracking};
use ichigen_marketplaces::client::{ClientError, HttpConfig, OrderSource, RetryPolicy, Window};
use ichigen_marketplaces::yahoo::{AuthorizeStatus, YahooClient, YahooCredentials};
use ichigen_marketplaces::{Body, NormalizeError};
use ichigen_sandbox::yahoo::{self, Control, KeyState};
use ichigen_sandbox::{Faults, SandboxConfig, Seed, Started, seed_orders};
use secrecy::{ExposeSecret, SecretString};

const SHOP: &str = "shop-demo";

fn cred(started: &Started, name: &str) -> String {
    started.credentials.iter().find(|(n, _)| *n == name).map(|(_, v)| v.clone()).unwrap()
}

fn credentials(started: &Started) -> YahooCredentials {
    YahooCredentials {
        seller_id: cred(started, "seller_id"),
        client_id: cred(started, "client_id"),
        client_secret: SecretString::from(cred(started, "client_secret")),
        refresh_token: SecretString::from(cred(started, "refresh_token")),
        public_key_pem: SecretString::from(cred(started, "public_key_pem")),
        key_version: cred(started, "key_version"),
        token_url: cred(started, "token_url"),
    }
}

fn http(started: &Started) -> HttpConfig {
    HttpConfig {
        base_url: started.base_url(),
        timeout: Duration::from_secs(3),
        retry: RetryPolicy { retries: 4, min_delay: Duration::from_millis(5), max_delay: Duration::from_millis(50) },
        // Client limits 1000× the documented 1 req/s: effectively off for quick tests.
        rate_scale: 1000.0,
    }
}

fn client(started: &Started) -> YahooClient {
    YahooClient::new(http(started), SHOP, credentials(started)).unwrap()
}

async fn sandbox(seed: Seed, faults: Faults, throttle: Option<f64>) -> (Started, Control) {
    yahoo::start_with_control(SandboxConfig { port: 0, seed, faults, throttle }).await.unwrap()
}

fn window(from: DateTime<FixedOffset>, to: DateTime<FixedOffset>) -> Window {
    Window { from, to }
}

/// Follows cursors to the end; returns the orders and the number of pages (no seeded order is
/// ever set aside).
async fn pull_all(c: &YahooClient, w: &Window) -> Result<(Vec<Order>, usize), ClientError> {
    let pulled = ichigen_marketplaces::client::pull_window(c, w).await?;
    assert!(pulled.rejected.is_empty(), "{:?}", pulled.rejected);
    Ok((pulled.orders, pulled.pages))
}

fn digits(s: &str) -> String {
    s.chars().filter(char::is_ascii_digit).collect()
}

/// Compares what Yahoo can carry. Not carried (listed): `shipments` (Yahoo splits a
/// multi-destination purchase into one order per destination; the sandbox renders the first
/// destination with every item), `source_status` / `source_payment_method` /
/// `delivery.source_method` (Yahoo's own codes), the postcode's hyphen, and the time of day of
/// `tracking.shipped_at` (`ShipDate` is a date).
fn assert_same(got: &Order, want: &Order) {
    let id = &got.order_id;
    assert_eq!(got.marketplace, Marketplace::Yahoo);
    assert_eq!(got.shop_id, want.shop_id, "{id}");
    assert_eq!(got.status, want.status, "{id} status");
    assert_eq!(got.ordered_at, want.ordered_at, "{id}");
    assert_eq!(got.source_updated_at, want.source_updated_at, "{id}");
    assert_eq!(got.totals, want.totals, "{id} totals");
    assert_eq!(got.items, want.items, "{id} items");
    assert_eq!(got.payment_method, want.payment_method, "{id} payment");
    assert_eq!(got.delivery.method, want.delivery.method, "{id} delivery");
    assert_eq!(got.delivery.requested_date, want.delivery.requested_date, "{id}");
    assert_eq!(got.delivery.requested_time_slot, want.delivery.requested_time_slot, "{id}");
    assert_eq!(got.buyer, want.buyer, "{id} buyer");
    let (g, w) = (&got.ship_to, &want.ship_to);
    assert_eq!(g.postal_code, digits(&w.postal_code), "{id} postal code");
    assert_eq!(
        (&g.prefecture, &g.city, &g.address1, &g.address2, &g.name, &g.phone),
        (&w.prefecture, &w.city, &w.address1, &w.address2, &w.name, &w.phone),
        "{id} ship_to"
    );
    assert_eq!(got.remarks, want.remarks, "{id} remarks");
    assert_eq!(got.gift, want.gift, "{id} gift");
    assert_eq!(got.tracking.len(), want.tracking.len(), "{id} tracking");
    for (g, w) in got.tracking.iter().zip(&want.tracking) {
        assert_eq!((g.carrier, &g.number), (w.carrier, &w.number), "{id} tracking");
        assert_eq!(g.shipped_at.map(|t| t.date_naive()), w.shipped_at.map(|t| t.date_naive()), "{id} ship date");
    }
    assert!(!got.fulfilled_by_marketplace);
}

#[tokio::test]
async fn a_pull_crosses_pages_and_window_splits_without_losing_or_doubling() {
    // 240 orders, one every 6 hours on average: about 75 days, so three 30-day sub-windows.
    // All placed already (a sandbox shows no order before its time), in JST whole seconds.
    let now = chrono::Utc::now().with_timezone(&ichigen_core::JST);
    let start = now - TimeDelta::days(62) - TimeDelta::nanoseconds(i64::from(chrono::Timelike::nanosecond(&now)));
    let seed = Seed { orders: 240, step_secs: 6 * 3600, start, ..Seed::default() };
    let (started, _) = sandbox(seed.clone(), Faults::default(), None).await;
    let c = client(&started).with_page_size(50).with_details_per_page(30);
    let seeded = seed_orders(Marketplace::Yahoo, &seed);
    let first = seeded[0].ordered_at;
    let last = seeded.iter().map(|o| o.source_updated_at).max().unwrap();
    let w = window(first - TimeDelta::hours(1), last + TimeDelta::hours(1));
    let (orders, pages) = pull_all(&c, &w).await.unwrap();
    assert!(pages > 8, "pages: {pages}");
    let mut seen = HashMap::new();
    for o in &orders {
        *seen.entry(o.order_id.clone()).or_insert(0) += 1;
    }
    assert!(seen.values().all(|&n| n == 1), "an order came back twice");
    assert_eq!(orders.len(), seeded.len(), "every seeded order, exactly once");
    for (n, want) in seeded.iter().enumerate() {
        let id = yahoo::order_id(n);
        let got = orders.iter().find(|o| o.order_id == id).unwrap_or_else(|| panic!("{id} missing"));
        assert_same(got, want);
    }
    // Varied data really went through: shipped orders with tracking, gifts, remarks, several payments.
    assert!(orders.iter().any(|o| !o.tracking.is_empty()));
    assert!(orders.iter().any(|o| o.status == OrderStatus::Cancelled));
    assert!(orders.iter().any(|o| !o.remarks.is_empty()));

    // A window later than every change finds nothing; a narrow one finds exactly its changes.
    let (none, _) = pull_all(&c, &window(last + TimeDelta::hours(2), last + TimeDelta::days(3))).await.unwrap();
    assert!(none.is_empty());
    let mid = seeded[100].source_updated_at;
    let narrow = window(mid, mid + TimeDelta::days(2));
    let (some, _) = pull_all(&c, &narrow).await.unwrap();
    let want = seeded.iter().filter(|o| o.source_updated_at >= narrow.from && o.source_updated_at < narrow.to).count();
    assert_eq!(some.len(), want);
}

#[tokio::test]
async fn b_wrong_credentials_are_auth_errors_and_not_retried() {
    let (started, control) = sandbox(Seed { orders: 5, ..Seed::default() }, Faults::default(), None).await;
    let seeded = seed_orders(Marketplace::Yahoo, &Seed { orders: 5, ..Seed::default() });
    let w = window(seeded[0].ordered_at, seeded[4].source_updated_at + TimeDelta::hours(1));

    let mut creds = credentials(&started);
    creds.refresh_token = SecretString::from("not-the-token".to_string());
    let mut cfg = http(&started);
    cfg.retry = RetryPolicy { retries: 3, min_delay: Duration::from_millis(300), max_delay: Duration::from_secs(1) };
    let c = YahooClient::new(cfg.clone(), SHOP, creds).unwrap();
    let t = Instant::now();
    let e = c.changed_orders(&w, None).await.unwrap_err();
    assert!(matches!(&e, ClientError::Auth { code, .. } if code == "invalid_grant"), "{e}");
    assert!(!e.is_retryable());
    assert!(t.elapsed() < Duration::from_millis(250), "an auth error must not be retried");

    let mut creds = credentials(&started);
    creds.client_secret = SecretString::from("wrong".to_string());
    let e = YahooClient::new(cfg.clone(), SHOP, creds).unwrap().changed_orders(&w, None).await.unwrap_err();
    assert!(matches!(&e, ClientError::Auth { code, .. } if code == "invalid_client"), "{e}");
    assert!(!e.to_string().contains("wrong"), "secrets never appear in errors");

    // Wrong public-key version: not refused, the calls run without key authentication and the
    // status header says so (fact sheet §3.2).
    let mut creds = credentials(&started);
    creds.key_version = "9".into();
    let c = YahooClient::new(cfg.clone(), SHOP, creds).unwrap();
    let (orders, _) = pull_all(&c, &w).await.unwrap();
    assert_eq!(orders.len(), 5);
    assert_eq!(c.authorize_status(), Some(AuthorizeStatus::NotFoundKeyVersion));

    // Another store's seller id.
    let mut creds = credentials(&started);
    creds.seller_id = "someone-else".into();
    let e = YahooClient::new(cfg.clone(), SHOP, creds).unwrap().changed_orders(&w, None).await.unwrap_err();
    assert!(matches!(&e, ClientError::Auth { code, .. } if code == "px-04307"), "{e}");

    // Debug output of the client never shows secrets.
    let c = client(&started);
    let debug = format!("{c:?}");
    assert!(!debug.contains(&cred(&started, "client_secret")) && !debug.contains(&cred(&started, "refresh_token")));

    // An expired access token (401 invalid_token) is refreshed once and the call retried.
    let (orders, _) = pull_all(&c, &w).await.unwrap();
    assert_eq!(orders.len(), 5);
    let issued = control.issued();
    control.expire_all();
    let (orders, _) = pull_all(&c, &w).await.unwrap();
    assert_eq!(orders.len(), 5);
    assert_eq!(control.issued(), issued + 1, "one refresh after expiry");
}

#[tokio::test]
async fn c_throttled_answers_are_retried_and_the_pull_succeeds() {
    let seed = Seed { orders: 30, ..Seed::default() };
    // Sandbox: the documented 1 req/s per operation, 20× faster (20/s); the client 1000× (no limit).
    let (started, _) = sandbox(seed.clone(), Faults::default(), Some(20.0)).await;
    let mut cfg = http(&started);
    cfg.retry =
        RetryPolicy { retries: 10, min_delay: Duration::from_millis(20), max_delay: Duration::from_millis(100) };
    let c = YahooClient::new(cfg, SHOP, credentials(&started)).unwrap();
    let seeded = seed_orders(Marketplace::Yahoo, &seed);
    let w = window(seeded[0].ordered_at, seeded[29].source_updated_at + TimeDelta::hours(1));
    let t = Instant::now();
    let (orders, _) = pull_all(&c, &w).await.unwrap();
    assert_eq!(orders.len(), 30);
    // 30 orderInfo calls at 20/s with a burst of 2 take at least 1.4 s: the sandbox throttled.
    assert!(t.elapsed() >= Duration::from_millis(1300), "{:?}", t.elapsed());

    // The throttle answer itself: 403 with the API's error body.
    let token = raw_token(&started).await;
    // Sent at once: a loaded machine could otherwise space sequential requests past the limit.
    let list = list_xml("20261101000000", "20261110000000", 10);
    let burst = tokio::join!(
        raw_post(&started, &token, "orderList", &list),
        raw_post(&started, &token, "orderList", &list),
        raw_post(&started, &token, "orderList", &list),
        raw_post(&started, &token, "orderList", &list),
        raw_post(&started, &token, "orderList", &list),
    );
    let statuses: Vec<(u16, String)> =
        [burst.0, burst.1, burst.2, burst.3, burst.4].into_iter().map(|r| (r.0, r.1)).collect();
    let refused = statuses.iter().find(|(s, _)| *s == 403).expect("a burst is refused");
    assert!(refused.1.contains("<Error><Message>"), "{}", refused.1);
}

#[tokio::test]
async fn d_server_errors_and_hangs_are_retried_then_give_up_retryably() {
    let seed = Seed { orders: 20, ..Seed::default() };
    let faults = Faults { error_rate: 0.3, ..Faults::default() };
    let (started, _) = sandbox(seed.clone(), faults, None).await;
    let seeded = seed_orders(Marketplace::Yahoo, &seed);
    let w = window(seeded[0].ordered_at, seeded[19].source_updated_at + TimeDelta::hours(1));
    let mut cfg = http(&started);
    cfg.timeout = Duration::from_millis(300);
    cfg.retry = RetryPolicy { retries: 8, min_delay: Duration::from_millis(5), max_delay: Duration::from_millis(20) };
    let c = YahooClient::new(cfg, SHOP, credentials(&started)).unwrap();
    let (orders, _) = pull_all(&c, &w).await.unwrap();
    assert_eq!(orders.len(), 20);

    // Hangs longer than the client timeout: timed out, retried.
    started.faults.set(Faults { timeout_rate: 0.2, hang: Duration::from_millis(800), ..Faults::default() });
    let (orders, _) = pull_all(&c, &w).await.unwrap();
    assert_eq!(orders.len(), 20);

    // Always failing: a retryable error once the retries are spent.
    started.faults.set(Faults { error_rate: 1.0, ..Faults::default() });
    let e = c.changed_orders(&w, None).await.unwrap_err();
    assert!(matches!(&e, ClientError::Server { status: 500, code, .. } if code == "od91001"), "{e}");
    assert!(e.is_retryable());
    started.faults.set(Faults { timeout_rate: 1.0, hang: Duration::from_millis(800), ..Faults::default() });
    let e = c.changed_orders(&w, None).await.unwrap_err();
    assert!(matches!(&e, ClientError::Transport { timeout: true, .. }), "{e}");
    assert!(e.is_retryable());
}

#[tokio::test]
async fn e_malformed_bodies_are_permanent_and_name_marketplace_and_operation() {
    let seed = Seed { orders: 3, ..Seed::default() };
    let faults = Faults { malformed_rate: 1.0, ..Faults::default() };
    let (started, _) = sandbox(seed.clone(), faults, None).await;
    let seeded = seed_orders(Marketplace::Yahoo, &seed);
    let w = window(seeded[0].ordered_at, seeded[2].source_updated_at + TimeDelta::hours(1));
    let c = client(&started);
    let e = c.changed_orders(&w, None).await.unwrap_err();
    match &e {
        ClientError::Malformed(NormalizeError::Malformed { marketplace, operation, .. }) => {
            assert_eq!((*marketplace, operation.as_str()), (Marketplace::Yahoo, "orderList"));
        }
        other => panic!("{other}"),
    }
    assert!(!e.is_retryable());
    assert!(e.to_string().contains("yahoo orderList"), "{e}");
}

#[tokio::test]
async fn f_tracking_write_back_shows_up_in_the_next_window() {
    let now = chrono::Utc::now().with_timezone(&ichigen_core::JST);
    let seed = Seed { orders: 20, start: now - TimeDelta::days(5), step_secs: 3600, ..Seed::default() };
    let (started, _) = sandbox(seed.clone(), Faults::default(), None).await;
    let c = client(&started);
    let seeded = seed_orders(Marketplace::Yahoo, &seed);
    let w = window(seeded[0].ordered_at, now);
    let (orders, _) = pull_all(&c, &w).await.unwrap();
    let order = orders.iter().find(|o| o.status.is_open() && o.tracking.is_empty()).unwrap().clone();

    let bad =
        Tracking { carrier: Carrier::Yamato, number: "1234-5678-9012".into(), shipped_at: None, shipment_id: None };
    let e = c.register_tracking(&order, &bad).await.unwrap_err();
    assert!(matches!(&e, ClientError::Rejected { .. }) && !e.is_retryable(), "{e}");

    let before = chrono::Utc::now().with_timezone(&now.timezone()) - TimeDelta::seconds(1);
    let tracking = Tracking {
        carrier: Carrier::Yamato,
        number: "1234-5678-9013".into(),
        shipped_at: Some(before),
        shipment_id: None,
    };
    c.register_tracking(&order, &tracking).await.unwrap();
    let next = window(before, before + TimeDelta::hours(1));
    let (changed, _) = pull_all(&c, &next).await.unwrap();
    assert_eq!(changed.len(), 1, "only the written-back order changed");
    let got = &changed[0];
    assert_eq!(got.order_id, order.order_id);
    assert_eq!(got.status, OrderStatus::Shipped);
    assert_eq!(got.tracking.len(), 1);
    assert_eq!((got.tracking[0].carrier, got.tracking[0].number.as_str()), (Carrier::Yamato, "123456789013"));
    assert_eq!(got.tracking[0].shipped_at.map(|t| t.date_naive()), Some(before.date_naive()));

    // Other carriers: 佐川 by its code, a foreign number kept as written (carrier code 1000).
    let open: Vec<Order> =
        orders.iter().filter(|o| o.status.is_open() && o.order_id != order.order_id).cloned().collect();
    let sagawa =
        Tracking { carrier: Carrier::Sagawa, number: "123456789013".into(), shipped_at: None, shipment_id: None };
    c.register_tracking(&open[0], &sagawa).await.unwrap();
    let other =
        Tracking { carrier: Carrier::Other, number: "EJ123456789JP".into(), shipped_at: None, shipment_id: None };
    c.register_tracking(&open[1], &other).await.unwrap();
    let (changed, _) = pull_all(&c, &next).await.unwrap();
    let find = |id: &str| changed.iter().find(|o| o.order_id == id).unwrap();
    assert_eq!(find(&open[0].order_id).tracking[0].carrier, Carrier::Sagawa);
    let t = &find(&open[1].order_id).tracking[0];
    assert_eq!((t.carrier, t.number.as_str()), (Carrier::Other, "EJ123456789JP"));

    // Unknown order: the API's not-found error, permanent.
    let mut ghost = order.clone();
    ghost.order_id = "snbx-ichigen-1".into();
    let e = c.register_tracking(&ghost, &tracking).await.unwrap_err();
    assert!(matches!(&e, ClientError::Rejected { status: 404, .. }), "{e}");
}

// Raw HTTP helpers for the tests that read the sandbox's own bodies.

async fn raw_token(started: &Started) -> String {
    let r = reqwest::Client::new()
        .post(cred(started, "token_url"))
        .basic_auth(cred(started, "client_id"), Some(cred(started, "client_secret")))
        .form(&[("grant_type", "refresh_token"), ("refresh_token", &cred(started, "refresh_token"))])
        .send()
        .await
        .unwrap();
    let v: serde_json::Value = r.json().await.unwrap();
    v["access_token"].as_str().unwrap().to_string()
}

/// A signature of the right shape (256 bytes, Base64); the sandbox cannot check more.
fn fake_signature() -> String {
    format!("{}==", "A".repeat(342))
}

async fn raw_post(started: &Started, token: &str, op: &str, xml: &str) -> (u16, String) {
    let r = reqwest::Client::new()
        .post(format!("{}/ShoppingWebService/V1/{op}", started.base_url()))
        .bearer_auth(token)
        .header("X-sws-signature", fake_signature())
        .header("X-sws-signature-version", cred(started, "key_version"))
        .header("Content-Type", "application/xml; charset=UTF-8")
        .body(xml.to_string())
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

fn list_xml(from: &str, to: &str, result: u32) -> String {
    format!(
        "<Req><Search><Result>{result}</Result><Start>1</Start><Sort>+order_time</Sort><Condition>\
<OrderTimeFrom>{from}</OrderTimeFrom><OrderTimeTo>{to}</OrderTimeTo></Condition>\
<Field>OrderId,OrderTime,LastUpdateTime</Field></Search><SellerId>{}</SellerId></Req>",
        yahoo::SELLER_ID
    )
}

#[tokio::test]
async fn g_normalize_reads_the_sandbox_bodies_and_parameter_errors_are_the_apis() {
    let seed = Seed { orders: 12, ..Seed::default() };
    let (started, _) = sandbox(seed.clone(), Faults::default(), None).await;
    let seeded = seed_orders(Marketplace::Yahoo, &seed);
    let c = client(&started);
    let w = window(seeded[0].ordered_at, seeded[11].source_updated_at + TimeDelta::hours(1));
    let (mut pulled, _) = pull_all(&c, &w).await.unwrap();
    assert_eq!(pulled.len(), 12);
    // The client reads newest first; the bodies below are read in id order.
    pulled.sort_by(|a, b| a.order_id.cmp(&b.order_id));

    let token = raw_token(&started).await;
    let fields = "OrderId,OrderTime,LastUpdateTime,OrderStatus,IsSeen,BuyerComments,PayStatus,PayKind,PayMethod,\
BillFirstName,BillLastName,BillFirstNameKana,BillLastNameKana,BillPhoneNumber,BillMailAddress,ShipStatus,ShipMethod,\
ShipMethodName,ShipRequestDate,ShipRequestTime,ShipCompanyCode,ShipInvoiceNumber1,ShipInvoiceNumber2,ShipDate,\
NeedGiftWrap,ShipFirstName,ShipLastName,ShipZipCode,ShipPrefecture,ShipCity,ShipAddress1,ShipAddress2,ShipPhoneNumber,\
PayCharge,ShipCharge,GiftWrapCharge,Discount,Adjustments,UsePoint,TotalMallCouponDiscount,TotalPrice,LineId,ItemId,Title,Quantity,UnitPrice,ItemOption";
    let mut bodies = Vec::new();
    for n in 0..12 {
        let xml = format!(
            "<Req><Target><OrderId>{}</OrderId><Field>{fields}</Field></Target><SellerId>{}</SellerId></Req>",
            yahoo::order_id(n),
            yahoo::SELLER_ID
        );
        let (status, body) = raw_post(&started, &token, "orderInfo", &xml).await;
        assert_eq!(status, 200, "{body}");
        assert!(body.starts_with("<?xml") && body.contains("<ResultSet"), "{body}");
        bodies.push(Body { name: format!("orderInfo_{n}.xml"), text: body });
    }
    let normalized = ichigen_marketplaces::yahoo::normalize(SHOP, &bodies).unwrap();
    assert_eq!(normalized, pulled, "normalize and the client read the same orders");
    let via_dispatch = ichigen_marketplaces::normalize(Marketplace::Yahoo, SHOP, &bodies).unwrap();
    assert_eq!(via_dispatch.len(), 12);

    // orderList bodies are headers only: normalize says so instead of inventing orders.
    let (status, list) =
        raw_post(&started, &token, "orderList", &list_xml("20261101000000", "20261130000000", 5)).await;
    assert_eq!(status, 200);
    assert!(list.contains("<Result><Status>OK</Status><Search><TotalCount>12</TotalCount>"), "{list}");
    let e = ichigen_marketplaces::yahoo::normalize(SHOP, &[Body { name: "orderList.xml".into(), text: list }]);
    assert!(matches!(e, Err(NormalizeError::Malformed { operation, .. }) if operation == "orderList"));

    // Parameter errors: od90101 with HTTP 400, read by normalize as the API's error.
    for xml in [
        list_xml("20261101000000", "20261130000000", 2001),
        list_xml("20261001000000", "20261130000000", 10),
        list_xml("2026-11-01", "20261130000000", 10),
    ] {
        let (status, body) = raw_post(&started, &token, "orderList", &xml).await;
        assert_eq!(status, 400, "{body}");
        let e = ichigen_marketplaces::yahoo::normalize(SHOP, &[Body { name: "orderList.xml".into(), text: body }]);
        assert!(matches!(e, Err(NormalizeError::Api { code, .. }) if code == "od90101"));
    }
    // No token: 401 with the Bearer challenge.
    let r = reqwest::Client::new()
        .post(format!("{}/ShoppingWebService/V1/orderInfo", started.base_url()))
        .bearer_auth("expired-token")
        .body("<Req/>")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    let challenge = r.headers()["www-authenticate"].to_str().unwrap().to_string();
    assert!(challenge.contains("error=\"invalid_token\""), "{challenge}");
    let body = r.text().await.unwrap();
    let e = ichigen_marketplaces::yahoo::normalize(SHOP, &[Body { name: "orderInfo.xml".into(), text: body }]);
    assert!(matches!(e, Err(NormalizeError::Api { code, .. }) if code == "invalid_token"));
}

fn now_jst() -> DateTime<FixedOffset> {
    chrono::Utc::now().with_timezone(&ichigen_core::JST)
}

#[tokio::test]
async fn h_authorize_status_is_read_on_every_response_and_counts_down_the_refresh_token() {
    let seed = Seed { orders: 6, ..Seed::default() };
    let (started, control) = sandbox(seed.clone(), Faults::default(), None).await;
    let seeded = seed_orders(Marketplace::Yahoo, &seed);
    let w = window(seeded[0].ordered_at, seeded[5].source_updated_at + TimeDelta::hours(1));
    let expires = now_jst() + TimeDelta::days(20) + TimeDelta::hours(1);
    let c = client(&started).with_refresh_token_expires_at(expires);
    assert_eq!(c.authorize_status(), None, "nothing is known before the first call");
    assert_eq!(c.refresh_token_days_left(), Some(20));

    // A signed call with a valid key: authorized, the 28-day clock is all that counts.
    pull_all(&c, &w).await.unwrap();
    assert_eq!(c.authorize_status(), Some(AuthorizeStatus::Authorized));
    assert_eq!(c.refresh_token_deadline(), Some(expires));
    assert_eq!(c.refresh_token_days_left(), Some(20));

    // The key expires in 暗号鍵管理: calls still work, but without key authentication; the refresh
    // token now stops working within 12 hours, so 0 days are left.
    control.set_key_state(KeyState::Expired);
    let before = now_jst();
    let (orders, _) = pull_all(&c, &w).await.unwrap();
    assert_eq!(orders.len(), 6, "not-authorized calls are served");
    assert_eq!(c.authorize_status(), Some(AuthorizeStatus::ExpiredKeyVersion));
    assert_eq!(c.refresh_token_days_left(), Some(0));
    let deadline = c.refresh_token_deadline().unwrap();
    assert!(deadline >= before + TimeDelta::hours(12) && deadline <= now_jst() + TimeDelta::hours(12), "{deadline}");

    // Switched to 無効: its own status; a new key: authorized again and the 28 days count again.
    control.set_key_state(KeyState::Disabled);
    c.orders_by_id(&[yahoo::order_id(0)]).await.unwrap();
    assert_eq!(c.authorize_status(), Some(AuthorizeStatus::InvalidKeyStatus));
    control.set_key_state(KeyState::Active);
    c.orders_by_id(&[yahoo::order_id(0)]).await.unwrap();
    assert_eq!(c.authorize_status(), Some(AuthorizeStatus::Authorized));
    assert_eq!(c.refresh_token_days_left(), Some(20));

    // The header itself, as the sandbox sends it: `none` without a signature, on errors too.
    let token = raw_token(&started).await;
    let r = reqwest::Client::new()
        .post(format!("{}/ShoppingWebService/V1/orderList", started.base_url()))
        .bearer_auth(&token)
        .body(list_xml("20261101000000", "20261110000000", 10))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.headers()["x-sws-authorize-status"], "none");
    let r = reqwest::Client::new()
        .post(format!("{}/ShoppingWebService/V1/orderInfo", started.base_url()))
        .bearer_auth(&token)
        .header("X-sws-signature", "not base64!")
        .header("X-sws-signature-version", "1")
        .body("<Req/>")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400, "an error answer carries the header too");
    assert_eq!(r.headers()["x-sws-authorize-status"], "invalid-authorize-value");
}

#[tokio::test]
async fn i_a_rotated_refresh_token_is_handed_over_once_and_used_for_the_next_refresh() {
    let seed = Seed { orders: 4, ..Seed::default() };
    let (started, control) = sandbox(seed.clone(), Faults::default(), None).await;
    control.rotate_refresh_tokens(true);
    let seeded = seed_orders(Marketplace::Yahoo, &seed);
    let w = window(seeded[0].ordered_at, seeded[3].source_updated_at + TimeDelta::hours(1));
    let original = cred(&started, "refresh_token");
    let c = client(&started);
    assert!(c.take_rotated_refresh_token().is_none());
    assert_eq!(c.refresh_token_expires_at(), None);

    pull_all(&c, &w).await.unwrap();
    let first = c.take_rotated_refresh_token().expect("the refresh rotated the token");
    assert_ne!(first.expose_secret(), original);
    assert!(c.take_rotated_refresh_token().is_none(), "handed over once");
    assert_eq!(c.current_refresh_token().await.expose_secret(), first.expose_secret());
    // A new token starts a new 28-day clock.
    let left = c.refresh_token_days_left().unwrap();
    assert!((27..=28).contains(&left), "{left}");
    let debug = format!("{c:?}");
    assert!(!debug.contains(first.expose_secret()), "the rotated token never shows in Debug");

    // The next refresh must use the new token: the sandbox retired the original one.
    control.expire_all();
    let (orders, _) = pull_all(&c, &w).await.unwrap();
    assert_eq!(orders.len(), 4);
    let second = c.take_rotated_refresh_token().expect("rotated again");
    assert_ne!(second.expose_secret(), first.expose_secret());
    let e = client(&started).changed_orders(&w, None).await.unwrap_err();
    assert!(matches!(&e, ClientError::Auth { code, .. } if code == "invalid_grant"), "{e}");

    // What the caller saves works for the next process.
    let mut creds = credentials(&started);
    creds.refresh_token = second;
    let next = YahooClient::new(http(&started), SHOP, creds).unwrap();
    assert_eq!(pull_all(&next, &w).await.unwrap().0.len(), 4);
}

#[tokio::test]
async fn j_changes_of_orders_placed_before_the_look_back_are_read_by_id() {
    // Orders placed 100 days ago: outside the client's 60-day look-back of order times.
    let now = now_jst();
    let seed = Seed { orders: 60, start: now - TimeDelta::days(100), step_secs: 3600, ..Seed::default() };
    let (started, control) = sandbox(seed, Faults::default(), None).await;
    let c = client(&started);
    let all = started.book.all();
    let pick = |status: OrderStatus, skip: &[String]| {
        all.iter().find(|o| o.status == status && !skip.contains(&o.order_id)).map(|o| o.order_id.clone()).unwrap()
    };
    let unpaid = pick(OrderStatus::AwaitingPayment, &[]);
    let new = pick(OrderStatus::New, &[]);
    let to_ship = pick(OrderStatus::ReadyToShip, &[]);
    let to_cancel = pick(OrderStatus::ReadyToShip, std::slice::from_ref(&to_ship));
    let stored: HashMap<String, Order> = all.iter().map(|o| (o.order_id.clone(), o.clone())).collect();

    let changed_from = now_jst() - TimeDelta::seconds(1);
    control.confirm_payment(&unpaid).unwrap();
    control.mark_ready_to_ship(&new).unwrap();
    let shipped_at = now - TimeDelta::hours(2);
    let tracking = Tracking {
        carrier: Carrier::Sagawa,
        number: "123456789013".into(),
        shipped_at: Some(shipped_at),
        shipment_id: None,
    };
    control.ship(&to_ship, tracking).unwrap();
    control.cancel(&to_cancel).unwrap();
    assert!(control.cancel(&to_cancel).is_none(), "a cancelled order cannot be cancelled again");

    // The search cannot see them: it filters on order time only.
    let w = window(changed_from, now_jst() + TimeDelta::minutes(1));
    let (found, _) = pull_all(&c, &w).await.unwrap();
    assert!(found.is_empty(), "{:?}", found.iter().map(|o| &o.order_id).collect::<Vec<_>>());

    // By id, in one pull: each change, with LastUpdateTime moved and OrderTime kept.
    let (info_before, _) = control.requests("orderInfo");
    let ghost = format!("{}-99999999", yahoo::SELLER_ID);
    let ids = vec![unpaid.clone(), new.clone(), to_ship.clone(), to_cancel.clone(), ghost.clone(), unpaid.clone()];
    let page = c.orders_by_id(&ids).await.unwrap();
    let missing = page.missing.clone();
    assert_eq!(YahooClient::MAX_IDS_PER_CALL, 1);
    assert_eq!(missing, vec![ghost], "the unknown id is reported, not an error");
    assert!(page.rejected.is_empty() && page.next.is_none());
    assert_eq!(control.requests("orderInfo").0 - info_before, 5, "one orderInfo per distinct id");
    let got: HashMap<&str, &Order> = page.orders.iter().map(|o| (o.order_id.as_str(), o)).collect();
    assert_eq!(got.len(), 4);
    for (id, want) in [
        (&unpaid, OrderStatus::ReadyToShip),
        (&new, OrderStatus::ReadyToShip),
        (&to_ship, OrderStatus::Shipped),
        (&to_cancel, OrderStatus::Cancelled),
    ] {
        let o = got[id.as_str()];
        assert_eq!(o.status, want, "{id}");
        assert!(o.source_updated_at >= changed_from, "{id}: LastUpdateTime moves");
        assert_eq!(o.ordered_at.timestamp(), stored[id].ordered_at.timestamp(), "{id}: OrderTime stays");
    }
    assert_eq!(got[to_cancel.as_str()].source_status, "4");
    let t = &got[to_ship.as_str()].tracking;
    assert_eq!(t.len(), 1);
    assert_eq!((t[0].carrier, t[0].number.as_str()), (Carrier::Sagawa, "123456789013"));
    assert_eq!(t[0].shipped_at.map(|d| d.date_naive()), Some(shipped_at.date_naive()));
}

#[tokio::test]
async fn k_orders_by_id_keeps_to_the_rate_limit_and_sets_broken_orders_aside() {
    let seed = Seed { orders: 12, ..Seed::default() };
    // Sandbox and client both at the documented 1/s × 20.
    let (started, control) = sandbox(seed, Faults::default(), Some(20.0)).await;
    let mut cfg = http(&started);
    cfg.rate_scale = 20.0;
    let c = YahooClient::new(cfg, SHOP, credentials(&started)).unwrap();
    let ids: Vec<String> = (0..12).map(yahoo::order_id).collect();
    let t = Instant::now();
    let page = c.orders_by_id(&ids).await.unwrap();
    let missing = page.missing.clone();
    assert_eq!((page.orders.len(), missing.len()), (12, 0));
    assert!(t.elapsed() >= Duration::from_millis(500), "12 calls at 20/s: {:?}", t.elapsed());
    assert_eq!(control.requests("orderInfo"), (12, 0), "the client paced itself: nothing refused");

    // A broken order is set aside; the others still come through.
    started.faults.set(Faults { corrupt_orders: vec![ids[3].clone()], ..Faults::default() });
    let page = c.orders_by_id(&ids[..5]).await.unwrap();
    let missing = page.missing.clone();
    assert_eq!(page.orders.len(), 4);
    assert_eq!(page.rejected.len(), 1);
    assert_eq!(page.rejected[0].order_id.as_deref(), Some(ids[3].as_str()));
    assert!(missing.is_empty());
}

#[tokio::test]
async fn l_versions_already_queued_are_not_read_again_but_a_newer_version_is() {
    let now = now_jst();
    let seed = Seed { orders: 8, start: now - TimeDelta::hours(2), step_secs: 600, ..Seed::default() };
    let (started, control) = sandbox(seed, Faults::default(), None).await;
    let c = client(&started);
    let w = window(now - TimeDelta::hours(3), now_jst() + TimeDelta::minutes(1));
    let (list_before, _) = control.requests("orderList");
    let (first, pages) = pull_all(&c, &w).await.unwrap();
    assert_eq!(first.len(), 8);
    // 60 days of look-back and 3 hours: three 30-day searches; the 8 orders are read in two pages
    // of 5, the second reusing its search's answer.
    assert_eq!(pages, 4);
    assert_eq!(control.requests("orderList").0 - list_before, 3, "one search per sub-window");
    let known: KnownVersions = first.iter().map(|o| (o.order_id.clone(), o.source_updated_at)).collect();

    // The same window again (the overlap) with what was queued: listed, none read again.
    let (info_before, _) = control.requests("orderInfo");
    let again = pull_skipping(&c, &w, &known).await;
    assert!(again.is_empty(), "{:?}", again.len());
    assert_eq!(control.requests("orderInfo").0, info_before, "no orderInfo for a known version");

    // One order changes at Yahoo (LastUpdateTime moves): only it is read.
    let new = first.iter().find(|o| o.status == OrderStatus::New).map(|o| o.order_id.clone()).unwrap();
    control.mark_ready_to_ship(&new).unwrap();
    let w = window(w.from, now_jst() + TimeDelta::minutes(1));
    let changed = pull_skipping(&c, &w, &known).await;
    assert_eq!(changed.iter().map(|o| o.order_id.as_str()).collect::<Vec<_>>(), vec![new.as_str()]);
    assert_eq!(changed[0].status, OrderStatus::ReadyToShip);
    assert_eq!(control.requests("orderInfo").0, info_before + 1, "one orderInfo: the changed order");

    // Without the known versions every listed order is read, as before.
    let (all, _) = pull_all(&c, &w).await.unwrap();
    assert_eq!(all.len(), 8);
}

/// Every page of `w` (the search's sub-windows), leaving out the known versions.
async fn pull_skipping(c: &YahooClient, w: &Window, known: &KnownVersions) -> Vec<Order> {
    let (mut orders, mut cursor) = (Vec::new(), None::<String>);
    loop {
        let page = c.changed_orders_skipping(w, cursor.as_deref(), known).await.unwrap();
        orders.extend(page.orders);
        match page.next {
            Some(next) => cursor = Some(next),
            None => return orders,
        }
    }
}

#[tokio::test]
async fn m_the_orders_just_placed_are_read_first_oldest_first_then_older_ones_that_changed() {
    let now = now_jst();
    let seed = Seed { orders: 8, start: now - TimeDelta::hours(2), step_secs: 600, ..Seed::default() };
    let (started, control) = sandbox(seed, Faults::default(), None).await;
    let c = client(&started).with_details_per_page(3);
    let (all, _) = pull_all(&c, &window(now - TimeDelta::hours(3), now_jst() + TimeDelta::minutes(1))).await.unwrap();
    let mut by_age = all.clone();
    by_age.sort_by_key(|o| o.ordered_at);
    // The five oldest were queued by the last pull; one of them has changed at Yahoo since, and
    // three orders were placed after that pull.
    let known: KnownVersions = by_age[..5].iter().map(|o| (o.order_id.clone(), o.source_updated_at)).collect();
    let changed = by_age[..5].iter().find(|o| o.status == OrderStatus::New).unwrap().order_id.clone();
    control.mark_ready_to_ship(&changed).unwrap();
    let last_pull = by_age[4].ordered_at + (by_age[5].ordered_at - by_age[4].ordered_at) / 2;
    let w = window(last_pull, now_jst() + TimeDelta::minutes(1));
    // The first page (three reads at one a second) holds the three new orders, oldest first — the
    // buyer who has waited longest first; the changed older order waits for the next page.
    let first = c.changed_orders_skipping(&w, None, &known).await.unwrap();
    let new: Vec<&str> = by_age[5..].iter().map(|o| o.order_id.as_str()).collect();
    assert_eq!(first.orders.iter().map(|o| o.order_id.as_str()).collect::<Vec<_>>(), new);
    let rest = c.changed_orders_skipping(&w, first.next.as_deref(), &known).await.unwrap();
    assert_eq!(rest.orders.iter().map(|o| o.order_id.as_str()).collect::<Vec<_>>(), vec![changed.as_str()]);
    assert!(
        rest.next.is_none()
            || c.changed_orders_skipping(&w, rest.next.as_deref(), &known).await.unwrap().orders.is_empty()
    );
}
