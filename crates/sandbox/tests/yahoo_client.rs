//! The real Yahoo!ショッピング client against the Yahoo sandbox.

#![allow(clippy::unwrap_used)] // Test helpers panic on a broken sandbox, as the tests do.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use chrono::{DateTime, FixedOffset, TimeDelta};
use ichigen_core::{Carrier, Marketplace, Order, OrderStatus, Tracking};
use ichigen_marketplaces::client::{ClientError, HttpConfig, OrderSource, RetryPolicy, Window};
use ichigen_marketplaces::yahoo::{YahooClient, YahooCredentials};
use ichigen_marketplaces::{Body, NormalizeError};
use ichigen_sandbox::yahoo::{self, Control};
use ichigen_sandbox::{Faults, SandboxConfig, Seed, Started, seed_orders};
use secrecy::SecretString;

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
    let seed = Seed { orders: 240, step_secs: 6 * 3600, ..Seed::default() };
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

    // Wrong public-key version: the API refuses the application (px-04307), permanently.
    let mut creds = credentials(&started);
    creds.key_version = "9".into();
    let e = YahooClient::new(cfg.clone(), SHOP, creds).unwrap().changed_orders(&w, None).await.unwrap_err();
    assert!(matches!(&e, ClientError::Auth { code, .. } if code == "px-04307"), "{e}");

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
    let now = chrono::Utc::now().with_timezone(&FixedOffset::east_opt(9 * 3600).unwrap());
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
    let (pulled, _) = pull_all(&c, &w).await.unwrap();
    assert_eq!(pulled.len(), 12);

    let token = raw_token(&started).await;
    let fields = "OrderId,OrderTime,LastUpdateTime,OrderStatus,IsSeen,BuyerComments,PayStatus,PayKind,PayMethod,\
BillFirstName,BillLastName,BillFirstNameKana,BillLastNameKana,BillPhoneNumber,BillMailAddress,ShipStatus,ShipMethod,\
ShipMethodName,ShipRequestDate,ShipRequestTime,ShipCompanyCode,ShipInvoiceNumber1,ShipInvoiceNumber2,ShipDate,\
NeedGiftWrap,ShipFirstName,ShipLastName,ShipZipCode,ShipPrefecture,ShipCity,ShipAddress1,ShipAddress2,ShipPhoneNumber,\
PayCharge,ShipCharge,GiftWrapCharge,Discount,Adjustments,UsePoint,TotalPrice,LineId,ItemId,Title,Quantity,UnitPrice,ItemOption";
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
