//! The Amazon SP-API client (Orders v2026-01-01 + v0 confirmShipment) against the Amazon sandbox.
//!
//! Fields the API cannot carry, so they are not compared with the seeded order: a second
//! destination (`shipments`; one recipient per order), `buyer.phone` and `buyer.name_kana`, item
//! options (variations are separate ASINs), the buyer's own e-mail (Amazon shows a relay address),
//! `MailBin` / `Cool` / `Frozen` delivery (service levels differ in speed only → Standard),
//! `BankTransfer` (no such Amazon payment → Other), a time slot without a date (Amazon gives a
//! scheduled window of two date-times), the source delivery method (Amazon's service level), the
//! buyer name and e-mail outside UNSHIPPED / PARTIALLY_SHIPPED / SHIPPED, and the tracking of FBA
//! orders (packages are FBM only).

// Test helpers unwrap too.
#![allow(clippy::unwrap_used)]

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, FixedOffset, Utc};
use ichigen_core::carrier::check_digit;
use ichigen_core::{
    Address, Carrier, DeliveryMethod, ItemOption, Marketplace, Order, OrderStatus, PaymentMethod, Tracking,
};
use ichigen_marketplaces::amazon::client::{AmazonClient, AmazonConfig, AmazonCredentials, package_reference_id};
use ichigen_marketplaces::amazon::codes::INCLUDED_DATA;
use ichigen_marketplaces::client::{ClientError, HttpConfig, OrderSource, RetryPolicy, Window};
use ichigen_marketplaces::{Body, NormalizeError};
use ichigen_sandbox::amazon::{self, AmazonOptions, BackOffice, Role};
use ichigen_sandbox::{Faults, SandboxConfig, Seed, Started};

fn now() -> DateTime<FixedOffset> {
    Utc::now().fixed_offset()
}

fn seed(orders: usize, step_secs: i64) -> Seed {
    let span = chrono::Duration::seconds(step_secs * orders as i64 * 3 / 2 + 3600);
    Seed { orders, step_secs, start: now() - span, ..Seed::default() }
}

fn options() -> AmazonOptions {
    AmazonOptions { before_lag: chrono::Duration::seconds(1), ..AmazonOptions::default() }
}

async fn sandbox_with(seed: Seed, throttle: Option<f64>, options: AmazonOptions) -> (Started, BackOffice) {
    amazon::start_with_office(SandboxConfig { seed, throttle, ..SandboxConfig::default() }, options).await.unwrap()
}

async fn sandbox(seed: Seed, throttle: Option<f64>) -> Started {
    sandbox_with(seed, throttle, options()).await.0
}

fn credentials(secret: &str) -> AmazonCredentials {
    AmazonCredentials::new(amazon::CLIENT_ID, secret.to_string(), amazon::REFRESH_TOKEN.to_string())
}

fn quick_retry(retries: usize) -> RetryPolicy {
    RetryPolicy { retries, min_delay: Duration::from_millis(5), max_delay: Duration::from_millis(100) }
}

fn config(s: &Started, retry: RetryPolicy, timeout: Duration, rate_scale: f64) -> AmazonConfig {
    let mut http = HttpConfig::new(s.base_url());
    http.retry = retry;
    http.timeout = timeout;
    http.rate_scale = rate_scale;
    AmazonConfig {
        http,
        lwa_base_url: s.base_url(),
        before_lag: chrono::Duration::seconds(1),
        ..AmazonConfig::new("shop-demo")
    }
}

fn client(s: &Started) -> AmazonClient {
    // Client limits scaled up so tests do not wait three real minutes per searchOrders call.
    AmazonClient::new(config(s, quick_retry(3), Duration::from_secs(5), 10_000.0), credentials(amazon::CLIENT_SECRET))
        .unwrap()
}

/// A window of one 7-day sub-window holding every order of a seed shorter than 3 days.
fn recent() -> Window {
    Window { from: now() - chrono::Duration::days(3), to: now() + chrono::Duration::hours(1) }
}

fn everything() -> Window {
    Window { from: now() - chrono::Duration::days(400), to: now() + chrono::Duration::hours(1) }
}

async fn pull(c: &AmazonClient, window: &Window) -> Result<(Vec<Order>, usize), ClientError> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let page = c.changed_orders(window, cursor.as_deref()).await.inspect_err(|e| eprintln!("{e} at {cursor:?}"))?;
        pages += 1;
        out.extend(page.orders);
        match page.next {
            Some(n) => cursor = Some(n),
            None => return Ok((out, pages)),
        }
        assert!(pages < 1_000, "cursor never ends");
    }
}

/// An LWA access token from the sandbox, fetched by hand (as the client does) for raw requests.
async fn access_token(base: &str) -> String {
    let lwa: serde_json::Value = reqwest::Client::new()
        .post(format!("{base}/auth/o2/token"))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", amazon::REFRESH_TOKEN),
            ("client_id", amazon::CLIENT_ID),
            ("client_secret", amazon::CLIENT_SECRET),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    lwa["access_token"].as_str().unwrap().to_string()
}

async fn raw_search(base: &str, token: &str, query: &[(&str, &str)]) -> reqwest::Response {
    reqwest::Client::new()
        .get(format!("{base}/orders/2026-01-01/orders"))
        .query(query)
        .header("x-amz-access-token", token)
        .send()
        .await
        .unwrap()
}

fn requests(c: &AmazonClient, op: &str) -> u64 {
    c.requests().into_iter().find(|(o, _)| *o == op).map_or(0, |(_, n)| n)
}

fn shows_buyer(o: &Order) -> bool {
    matches!(o.status, OrderStatus::New | OrderStatus::ReadyToShip | OrderStatus::OnHold | OrderStatus::Shipped)
}

fn assert_carried(seeded: &Order, got: &Order) {
    let id = &seeded.order_id;
    assert_eq!(got.marketplace, Marketplace::Amazon);
    assert_eq!(got.shop_id, "shop-demo");
    assert_eq!(got.ordered_at, seeded.ordered_at, "{id}");
    assert_eq!(got.source_updated_at, seeded.source_updated_at, "{id}");
    let status = match seeded.status {
        OrderStatus::New | OrderStatus::ReadyToShip | OrderStatus::OnHold => OrderStatus::ReadyToShip,
        s => s,
    };
    assert_eq!(got.status, status, "{id}");
    assert_eq!(got.fulfilled_by_marketplace, seeded.fulfilled_by_marketplace, "{id}");
    assert_eq!(got.totals, seeded.totals, "{id}");
    let items: Vec<_> = seeded
        .items
        .iter()
        .map(|i| {
            let mut i = i.clone();
            // Amazon variations are separate ASINs; a gift line carries its wrap level.
            i.options = if seeded.gift {
                vec![ItemOption { name: "giftWrapLevel".into(), value: "Standard".into() }]
            } else {
                vec![]
            };
            i
        })
        .collect();
    assert_eq!(got.items, items, "{id}");
    let digits: String = seeded.ship_to.postal_code.chars().filter(char::is_ascii_digit).collect();
    let phone = seeded.ship_to.phone.clone().filter(|_| !seeded.fulfilled_by_marketplace);
    let ship_to = Address { postal_code: digits, phone, ..seeded.ship_to.clone() };
    if seeded.status == OrderStatus::Shipped && !seeded.fulfilled_by_marketplace {
        // The phone of a shipped FBM order is suppressed once its delivery window has passed.
        assert_eq!(Address { phone: None, ..got.ship_to.clone() }, Address { phone: None, ..ship_to }, "{id}");
    } else {
        assert_eq!(got.ship_to, ship_to, "{id}");
    }
    assert!(got.shipments.is_empty());
    let payment = match seeded.payment_method {
        PaymentMethod::BankTransfer => PaymentMethod::Other,
        p => p,
    };
    assert_eq!(got.payment_method, payment, "{id}");
    let method = if seeded.delivery.method == DeliveryMethod::Pickup {
        DeliveryMethod::Pickup
    } else {
        DeliveryMethod::Standard
    };
    assert_eq!(got.delivery.method, method, "{id}");
    let level = if seeded.delivery.requested_date.is_some() { "SCHEDULED" } else { "STANDARD" };
    assert_eq!(got.delivery.source_method, level, "{id}");
    assert_eq!(got.delivery.requested_date, seeded.delivery.requested_date, "{id}");
    let slot = seeded
        .delivery
        .requested_date
        .and(seeded.delivery.requested_time_slot.clone())
        .map(|s| if s == "午前中" { "8-12".to_string() } else { s });
    assert_eq!(got.delivery.requested_time_slot, slot, "{id}");
    let remarks =
        if seeded.remarks.trim().is_empty() { String::new() } else { format!("[配送指示] {}", seeded.remarks) };
    assert_eq!(got.remarks, remarks, "{id}");
    assert_eq!(got.gift, seeded.gift, "{id}");
    if shows_buyer(seeded) {
        assert_eq!(got.buyer.name, seeded.buyer.name, "{id}");
        assert_eq!(
            got.buyer.email.as_deref().is_some_and(|e| e.ends_with("@marketplace.amazon.co.jp")),
            !seeded.fulfilled_by_marketplace,
            "{id}: the relay e-mail of FBM orders only"
        );
    } else {
        assert_eq!((got.buyer.name.as_str(), got.buyer.email.as_deref()), ("", None), "{id}");
    }
    let tracking = if seeded.fulfilled_by_marketplace { vec![] } else { seeded.tracking.clone() };
    assert_eq!(got.tracking, tracking, "{id}: the packages of shipped FBM orders");
}

#[tokio::test]
async fn a_pages_and_sub_windows_return_every_order_once_with_its_fields_and_no_detail_calls() {
    let s = sandbox(seed(330, 3_600), None).await;
    let mut cfg = config(&s, quick_retry(3), Duration::from_secs(5), 10_000.0);
    cfg.max_window = chrono::Duration::days(4);
    let c = AmazonClient::new(cfg, credentials(amazon::CLIENT_SECRET)).unwrap();
    let (got, pages) = pull(&c, &everything()).await.unwrap();
    let seeded = s.book.all();
    assert_eq!(got.len(), seeded.len(), "no order missed or doubled");
    let by_id: HashMap<&str, &Order> = got.iter().map(|o| (o.order_id.as_str(), o)).collect();
    assert_eq!(by_id.len(), got.len(), "an order came back twice");
    for o in &seeded {
        assert_carried(o, by_id.get(o.order_id.as_str()).unwrap_or_else(|| panic!("{} missing", o.order_id)));
    }
    // 330 orders over ~14-20 days in 4-day sub-windows: several sub-windows, some with 2 pages.
    let search = requests(&c, "searchOrders");
    assert!(pages >= 5 && search as usize == pages, "{pages} pages, {search} searchOrders");
    assert_eq!(requests(&c, "getOrder"), 0, "items, address and status come inside the search");
    assert_eq!(requests(&c, "lwaToken"), 1, "the access token is cached");
    assert!(got.iter().any(|o| o.fulfilled_by_marketplace));
    assert!(got.iter().any(|o| o.status == OrderStatus::AwaitingPayment));
    assert!(got.iter().any(|o| o.status == OrderStatus::Cancelled));
    assert!(got.iter().any(|o| o.status == OrderStatus::Shipped && !o.tracking.is_empty()));
    assert!(got.iter().any(|o| o.payment_method == PaymentMethod::Cod));
    assert!(got.iter().any(|o| !o.remarks.is_empty()));
}

#[tokio::test]
async fn a_cursor_resumes_where_the_puller_stopped_and_a_refused_token_restarts_its_sub_window() {
    let s = sandbox(seed(250, 600), None).await;
    let c = client(&s);
    let w = recent();
    let first = c.changed_orders(&w, None).await.unwrap();
    assert_eq!(first.orders.len(), 100);
    let cursor = first.next.clone().unwrap();
    // A second client (a later run) resumes from the stored cursor.
    let c2 = client(&s);
    let mut rest = Vec::new();
    let mut cur = Some(cursor.clone());
    while let Some(k) = cur {
        let p = c2.changed_orders(&w, Some(&k)).await.unwrap();
        rest.extend(p.orders);
        cur = p.next;
    }
    assert_eq!(first.orders.len() + rest.len(), 250);
    // A token the API refuses (here: tampered) restarts the sub-window from its first page: the
    // order of results is not documented, so nothing is skipped and page one comes again.
    let (tag, json) = cursor.split_once('.').unwrap();
    let mut v: serde_json::Value = serde_json::from_str(json).unwrap();
    v["token"] = serde_json::json!("00ff");
    let before = requests(&c, "searchOrders");
    let restarted = c.changed_orders(&w, Some(&format!("{tag}.{v}"))).await.unwrap();
    assert_eq!(requests(&c, "searchOrders"), before + 2, "the refused call, then the restart");
    let ids = |p: &[Order]| p.iter().map(|o| o.order_id.clone()).collect::<Vec<_>>();
    assert_eq!(ids(&restarted.orders), ids(&first.orders));
    assert!(matches!(c.changed_orders(&w, Some("garbage")).await, Err(ClientError::Rejected { .. })));
}

#[tokio::test]
async fn a_pagination_token_older_than_24_hours_restarts_cleanly_and_the_pull_still_completes() {
    // The sandbox lets tokens expire after 1 s here (24 hours in the API).
    let opts = AmazonOptions { pagination_token_ttl: Duration::from_secs(1), ..options() };
    let (s, _) = sandbox_with(seed(250, 600), None, opts).await;
    let c = client(&s);
    let w = recent();
    let first = c.changed_orders(&w, None).await.unwrap();
    assert_eq!(first.orders.len(), 100);
    let cursor = first.next.clone().unwrap();
    tokio::time::sleep(Duration::from_millis(1_300)).await;
    // The client still thinks the token fresh, sends it, is refused, restarts the sub-window.
    let before = requests(&c, "searchOrders");
    let again = c.changed_orders(&w, Some(&cursor)).await.unwrap();
    assert_eq!(requests(&c, "searchOrders"), before + 2);
    assert_eq!(again.orders.len(), first.orders.len());
    // A client that knows the token is too old does not send it at all.
    let mut cfg = config(&s, quick_retry(3), Duration::from_secs(5), 10_000.0);
    cfg.token_max_age = chrono::Duration::milliseconds(500);
    let aware = AmazonClient::new(cfg, credentials(amazon::CLIENT_SECRET)).unwrap();
    let again = aware.changed_orders(&w, Some(&cursor)).await.unwrap();
    assert_eq!(requests(&aware, "searchOrders"), 1, "no refused call");
    assert_eq!(again.orders.len(), first.orders.len());
    // Resumed after the pause, the pull still returns every order (some twice: the store keeps the newer).
    let mut seen = std::collections::HashSet::new();
    let mut cur = Some(cursor);
    while let Some(k) = cur {
        let p = c.changed_orders(&w, Some(&k)).await.unwrap();
        seen.extend(p.orders.into_iter().map(|o| o.order_id));
        cur = p.next;
    }
    assert_eq!(seen.len(), 250);
}

#[tokio::test]
async fn b_wrong_credentials_are_auth_errors_and_not_retried() {
    let s = sandbox(seed(5, 600), None).await;
    let c =
        AmazonClient::new(config(&s, quick_retry(3), Duration::from_secs(5), 10_000.0), credentials("not-the-secret"))
            .unwrap();
    let err = c.changed_orders(&everything(), None).await.unwrap_err();
    assert!(matches!(err, ClientError::Auth { ref code, .. } if code == "invalid_client"), "{err}");
    assert!(!err.is_retryable());
    assert_eq!(requests(&c, "lwaToken"), 1, "not retried");
    assert!(!format!("{err} {err:?} {c:?}").contains("not-the-secret"));

    let creds = AmazonCredentials::new(amazon::CLIENT_ID, amazon::CLIENT_SECRET.to_string(), "Atzr|revoked".into());
    let c = AmazonClient::new(config(&s, quick_retry(3), Duration::from_secs(5), 10_000.0), creds).unwrap();
    let err = c.changed_orders(&everything(), None).await.unwrap_err();
    assert!(matches!(err, ClientError::Auth { ref code, .. } if code == "invalid_grant"), "{err}");

    // The SP-API's own refusal: a token it never issued.
    let resp = raw_search(&s.base_url(), "Atza|forged", &[("lastUpdatedAfter", "2026-01-01T00:00:00Z")]).await;
    assert_eq!(resp.status(), 403);
    assert!(resp.headers().get("x-amzn-RateLimit-Limit").is_none());
    assert!(resp.text().await.unwrap().contains("\"Unauthorized\""));
}

#[tokio::test]
async fn c_throttle_answers_are_retried_and_the_applied_rate_is_learnt() {
    let s = sandbox(seed(120, 600), Some(120.0)).await;
    // Sandbox: getOrder 60/s burst 30. Client: limits 100x looser, many quick retries.
    let c = AmazonClient::new(
        config(&s, quick_retry(60), Duration::from_secs(5), 12_000.0),
        credentials(amazon::CLIENT_SECRET),
    )
    .unwrap();
    let ids: Vec<String> = s.book.all().into_iter().map(|o| o.order_id).collect();
    let page = c.orders_by_id(&ids).await.unwrap();
    let missing = page.missing.clone();
    assert_eq!((page.orders.len(), missing.len()), (120, 0));
    assert!(requests(&c, "getOrder") > 120, "some getOrder calls were throttled and retried");
    let applied = c.applied_rates();
    assert!(applied.iter().any(|(op, r)| *op == "getOrder" && (*r - 60.0).abs() < 1e-9), "{applied:?}");

    // The throttle answer itself: 429 QuotaExceeded, without the rate header (the model lists it
    // on 200/400/404 only); a 200 carries it.
    let token = access_token(&s.base_url()).await;
    let q = [("lastUpdatedAfter", "2026-01-01T00:00:00Z"), ("maxResultsPerPage", "1")];
    let ok = raw_search(&s.base_url(), &token, &q).await;
    let rate: f64 = ok.headers()["x-amzn-RateLimit-Limit"].to_str().unwrap().parse().unwrap();
    assert!((rate - 0.0056 * 120.0).abs() < 1e-9, "{rate}");
    let mut throttled = None;
    for _ in 0..40 {
        let r = raw_search(&s.base_url(), &token, &q).await;
        if r.status() == 429 {
            throttled = Some(r);
            break;
        }
    }
    let r = throttled.expect("a burst of 40 exceeds 20");
    assert!(r.headers().get("x-amzn-RateLimit-Limit").is_none());
    assert!(r.text().await.unwrap().contains("QuotaExceeded"));
}

#[tokio::test]
async fn d_server_errors_and_hangs_are_retried_and_give_up_retryable() {
    let s = sandbox(seed(40, 600), None).await;
    s.faults.set(Faults { error_rate: 0.25, timeout_rate: 0.1, hang: Duration::from_secs(2), ..Faults::default() });
    let c = AmazonClient::new(
        config(&s, quick_retry(8), Duration::from_millis(300), 10_000.0),
        credentials(amazon::CLIENT_SECRET),
    )
    .unwrap();
    let (got, _) = pull(&c, &everything()).await.unwrap();
    assert_eq!(got.len(), 40);

    s.faults.set(Faults { error_rate: 1.0, ..Faults::default() });
    let err = c.changed_orders(&everything(), None).await.unwrap_err();
    assert!(matches!(err, ClientError::Server { status: 500, ref code, .. } if code == "InternalFailure"), "{err}");
    assert!(err.is_retryable());

    s.faults.set(Faults { timeout_rate: 1.0, hang: Duration::from_secs(2), ..Faults::default() });
    let c = AmazonClient::new(
        config(&s, quick_retry(1), Duration::from_millis(200), 10_000.0),
        credentials(amazon::CLIENT_SECRET),
    )
    .unwrap();
    let err = c.changed_orders(&everything(), None).await.unwrap_err();
    assert!(matches!(err, ClientError::Transport { timeout: true, .. }), "{err}");
    assert!(err.is_retryable());
}

#[tokio::test]
async fn e_a_cut_body_is_a_permanent_malformed_error_and_a_corrupt_order_is_set_aside() {
    let s = sandbox(seed(10, 600), None).await;
    let c = client(&s);
    pull(&c, &everything()).await.unwrap();
    let before = requests(&c, "searchOrders");
    s.faults.set(Faults { malformed_rate: 1.0, ..Faults::default() });
    let err = c.changed_orders(&everything(), None).await.unwrap_err();
    match &err {
        ClientError::Malformed(NormalizeError::Malformed { marketplace, operation, .. }) => {
            assert_eq!(*marketplace, Marketplace::Amazon);
            assert_eq!(operation, "searchOrders");
        }
        other => panic!("{other}"),
    }
    assert!(!err.is_retryable());
    assert_eq!(requests(&c, "searchOrders"), before + 1, "not retried");

    let bad = s.book.all()[3].order_id.clone();
    s.faults.set(Faults { corrupt_orders: vec![bad.clone()], ..Faults::default() });
    let page = c.changed_orders(&recent(), None).await.unwrap();
    assert_eq!(page.orders.len(), 9);
    assert_eq!(page.rejected.len(), 1);
    assert_eq!(page.rejected[0].order_id.as_deref(), Some(bad.as_str()));
    assert!(page.rejected[0].reason.contains("createdTime"), "{}", page.rejected[0].reason);
}

fn tracking_number(first11: &str) -> String {
    format!("{first11}{}", check_digit(first11).unwrap())
}

#[tokio::test]
async fn f_each_parcel_is_its_own_package_and_a_retry_writes_nothing() {
    let (s, office) = sandbox_with(seed(80, 600), None, options()).await;
    let c = client(&s);
    let (got, _) = pull(&c, &everything()).await.unwrap();
    let open = |o: &&Order| o.status == OrderStatus::ReadyToShip && !o.fulfilled_by_marketplace;
    let order = got.iter().find(open).expect("an open FBM order").clone();
    let number = tracking_number("12345678901");
    let tracking =
        Tracking { carrier: Carrier::Yamato, number: number.clone(), shipped_at: Some(now()), shipment_id: None };

    // A wrong check digit and an FBA order are refused before any call.
    let bad = Tracking { number: format!("{}9", &number[..11]), ..tracking.clone() };
    if bad.number != number {
        assert!(matches!(c.register_tracking(&order, &bad).await, Err(ClientError::Rejected { .. })));
    }
    if let Some(fba) = got.iter().find(|o| o.fulfilled_by_marketplace) {
        assert!(matches!(c.register_tracking(fba, &tracking).await, Err(ClientError::Rejected { .. })));
    }
    assert_eq!(requests(&c, "confirmShipment"), 0);

    let t0 = now();
    c.register_tracking(&order, &tracking).await.unwrap();
    let packages = office.packages(&order.order_id);
    assert_eq!(packages.len(), 1);
    assert_eq!(packages[0].reference, package_reference_id(&number));
    assert_eq!((packages[0].carrier.as_str(), packages[0].number.as_str()), ("ヤマト運輸", number.as_str()));
    assert_eq!(s.book.get(&order.order_id).unwrap().status, OrderStatus::Shipped);
    // A retry of the same parcel finds its package and writes nothing.
    c.register_tracking(&order, &tracking).await.unwrap();
    assert_eq!(requests(&c, "confirmShipment"), 1);
    assert_eq!(office.packages(&order.order_id).len(), 1);
    // Another parcel for an order whose every unit is packed: nothing left to put in it.
    let other = Tracking { number: tracking_number("12345678902"), ..tracking.clone() };
    let err = c.register_tracking(&order, &other).await.unwrap_err();
    assert!(matches!(err, ClientError::Rejected { ref code, .. } if code == "NothingToShip"), "{err}");

    // The change is seen in one pull over a window after the order date, with its tracking.
    tokio::time::sleep(Duration::from_millis(2_100)).await;
    let window = Window { from: t0 - chrono::Duration::seconds(1), to: now() + chrono::Duration::hours(1) };
    let (changed, _) = pull(&c, &window).await.unwrap();
    assert_eq!(changed.len(), 1, "only the confirmed order changed");
    assert_eq!((changed[0].status, changed[0].source_status.as_str()), (OrderStatus::Shipped, "SHIPPED"));
    assert_eq!(
        changed[0].tracking.iter().map(|t| (t.carrier, t.number.as_str())).collect::<Vec<_>>(),
        [(Carrier::Yamato, number.as_str())]
    );

    // A second parcel of a partly shipped order adds a package instead of overwriting the first.
    let two = got
        .iter()
        .filter(open)
        .find(|o| o.order_id != order.order_id && (o.items.len() > 1 || o.items[0].quantity > 1))
        .expect("an open order with more than one unit")
        .clone();
    let first_ref =
        office.ship_in_seller_central(&two.order_id, Carrier::Sagawa, "111111111111", Some(&[(0, 1)])).unwrap();
    assert_eq!(first_ref, "1");
    let second = Tracking {
        carrier: Carrier::Japanpost,
        number: tracking_number("98765432109"),
        shipped_at: None,
        shipment_id: None,
    };
    c.register_tracking(&two, &second).await.unwrap();
    let packages = office.packages(&two.order_id);
    assert_eq!(packages.len(), 2, "{packages:?}");
    assert_eq!((packages[0].reference.as_str(), packages[0].number.as_str()), ("1", "111111111111"));
    assert_eq!(packages[1].reference, package_reference_id(&second.number));
    assert_eq!(s.book.get(&two.order_id).unwrap().status, OrderStatus::Shipped);
    let page = c.orders_by_id(std::slice::from_ref(&two.order_id)).await.unwrap();
    assert_eq!(page.orders[0].tracking.len(), 2);
    assert_eq!(page.orders[0].tracking[1].carrier, Carrier::Japanpost);

    // Resending an existing packageReferenceId edits that package (the model's "edit shipment
    // details"): still two packages.
    let token = access_token(&s.base_url()).await;
    let body = serde_json::json!({ "marketplaceId": amazon::MARKETPLACE_ID, "packageDetail": {
        "packageReferenceId": "1", "carrierCode": "Other", "carrierName": "佐川急便", "trackingNumber": "222222222222",
        "shipDate": "2026-08-03T09:00:00+09:00",
        "orderItems": [ { "orderItemId": amazon::order_item_id(&two.order_id, 0), "quantity": 1 } ] } });
    let r = reqwest::Client::new()
        .post(format!("{}/orders/v0/orders/{}/shipmentConfirmation", s.base_url(), two.order_id))
        .header("x-amz-access-token", &token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let packages = office.packages(&two.order_id);
    assert_eq!(packages.len(), 2);
    assert_eq!(packages[0].number, "222222222222");
}

#[tokio::test]
async fn g_an_order_placed_before_the_window_is_seen_paid_shipped_and_cancelled_within_one_pull() {
    let (s, office) = sandbox_with(seed(60, 600), None, options()).await;
    let c = client(&s);
    let all = s.book.all();
    let pending = all.iter().find(|o| o.status == OrderStatus::AwaitingPayment).expect("a PENDING order").clone();
    let to_cancel = all
        .iter()
        .find(|o| o.status == OrderStatus::ReadyToShip && o.order_id != pending.order_id)
        .expect("an open order")
        .clone();
    let requested = all
        .iter()
        .find(|o| {
            o.status == OrderStatus::ReadyToShip && ![&pending.order_id, &to_cancel.order_id].contains(&&o.order_id)
        })
        .unwrap()
        .clone();
    // Every pull below uses a window that starts after the orders were placed.
    let pull_since = |from: DateTime<FixedOffset>| {
        let c = c.clone();
        async move {
            tokio::time::sleep(Duration::from_millis(2_100)).await;
            let w = Window { from, to: now() + chrono::Duration::hours(1) };
            let (got, _) = pull(&c, &w).await.unwrap();
            got
        }
    };
    let find = |got: &[Order], id: &str| got.iter().find(|o| o.order_id == id).cloned();

    // Paid: PENDING → UNSHIPPED, which on Amazon is also "ready to ship".
    let t = now() - chrono::Duration::seconds(1);
    assert!(pending.ordered_at < t);
    office.authorize_payment(&pending.order_id).unwrap();
    let got = pull_since(t).await;
    let o = find(&got, &pending.order_id).expect("the paid order is in the next pull");
    assert_eq!((o.status, o.source_status.as_str()), (OrderStatus::ReadyToShip, "UNSHIPPED"));
    assert_eq!(o.buyer.name, pending.buyer.name, "the buyer shows once the order is unshipped");

    // Shipped with tracking, confirmed in Seller Central.
    let t = now() - chrono::Duration::seconds(1);
    office.ship_in_seller_central(&pending.order_id, Carrier::Yamato, "333333333333", None).unwrap();
    let got = pull_since(t).await;
    let o = find(&got, &pending.order_id).expect("the shipped order is in the next pull");
    assert_eq!(o.status, OrderStatus::Shipped);
    assert_eq!(
        o.tracking.iter().map(|t| (t.carrier, t.number.as_str())).collect::<Vec<_>>(),
        [(Carrier::Yamato, "333333333333")]
    );

    // Cancelled by the buyer; another order's buyer asks to cancel (held for a person).
    let t = now() - chrono::Duration::seconds(1);
    office.cancel(&to_cancel.order_id, "BUYER").unwrap();
    office.request_cancellation(&requested.order_id, "ORDERED_BY_MISTAKE").unwrap();
    let got = pull_since(t).await;
    assert_eq!(got.len(), 2, "only the two changed orders");
    let o = find(&got, &to_cancel.order_id).expect("the cancelled order is in the next pull");
    assert_eq!((o.status, o.source_status.as_str()), (OrderStatus::Cancelled, "CANCELLED"));
    let o = find(&got, &requested.order_id).unwrap();
    assert_eq!(o.status, OrderStatus::OnHold);
    assert_eq!(o.remarks.lines().last(), Some("[購入者キャンセル依頼] ORDERED_BY_MISTAKE"));

    // The same states by id; an unknown id comes back as missing.
    let ids = vec![
        pending.order_id.clone(),
        to_cancel.order_id.clone(),
        "503-0000000-0000000".into(),
        pending.order_id.clone(),
    ];
    let page = c.orders_by_id(&ids).await.unwrap();
    let missing = page.missing.clone();
    assert_eq!(AmazonClient::MAX_IDS_PER_CALL, 1);
    assert_eq!(
        page.orders.iter().map(|o| (o.order_id.as_str(), o.status)).collect::<Vec<_>>(),
        [(pending.order_id.as_str(), OrderStatus::Shipped), (to_cancel.order_id.as_str(), OrderStatus::Cancelled)]
    );
    assert_eq!(missing, ["503-0000000-0000000"]);
    assert_eq!(requests(&c, "getOrder"), 3, "one getOrder per distinct id");
    let page = c.orders_by_id(&["../x".to_string()]).await.unwrap();
    let missing = page.missing.clone();
    assert!(page.orders.is_empty() && missing.is_empty() && page.rejected.len() == 1);
}

#[tokio::test]
async fn h_normalize_reads_the_sandbox_bodies_like_the_client_and_roles_decide_the_personal_data() {
    let s = sandbox(seed(30, 600), None).await;
    let c = client(&s);
    let (pulled, _) = pull(&c, &everything()).await.unwrap();
    let base = s.base_url();
    let token = access_token(&base).await;
    let before = (Utc::now() - chrono::Duration::seconds(5)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let included = INCLUDED_DATA.join(",");
    let q = [
        ("marketplaceIds", amazon::MARKETPLACE_ID),
        ("lastUpdatedAfter", "2020-01-01T00:00:00Z"),
        ("lastUpdatedBefore", before.as_str()),
        ("includedData", included.as_str()),
    ];
    let r = raw_search(&base, &token, &q).await;
    assert_eq!(r.headers()["content-type"], "application/json");
    let bodies = vec![Body { name: "searchOrders_page1.json".into(), text: r.text().await.unwrap() }];
    let normalized = ichigen_marketplaces::normalize(Marketplace::Amazon, "shop-demo", &bodies).unwrap();
    assert_eq!(normalized.len(), pulled.len());
    for o in &normalized {
        assert_eq!(Some(o), pulled.iter().find(|p| p.order_id == o.order_id));
    }
    // getOrder of one order gives the same order.
    let one = &pulled[0];
    let text = reqwest::Client::new()
        .get(format!("{base}/orders/2026-01-01/orders/{}", one.order_id))
        .query(&[("includedData", included.as_str())])
        .header("x-amz-access-token", &token)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let got = ichigen_marketplaces::normalize(
        Marketplace::Amazon,
        "shop-demo",
        &[Body { name: "getOrder.json".into(), text }],
    )
    .unwrap();
    assert_eq!(&got[0], one);

    // Without includedData: items only, no status, no address.
    let bare = raw_search(&base, &token, &[("lastUpdatedAfter", "2020-01-01T00:00:00Z")]).await;
    let v: serde_json::Value = bare.json().await.unwrap();
    let first = &v["orders"][0];
    assert!(first["orderItems"].is_array() && first.get("fulfillment").is_none() && first.get("recipient").is_none());

    // An app without the Direct-to-Consumer roles gets no personal data; one without any order
    // role gets 403.
    let only_tracking = AmazonOptions { roles: vec![Role::InventoryAndOrderTracking, Role::TaxInvoicing], ..options() };
    let (s2, _) = sandbox_with(seed(30, 600), None, only_tracking).await;
    let (plain, _) = pull(&client(&s2), &everything()).await.unwrap();
    assert_eq!(plain.len(), 30);
    assert!(plain.iter().all(|o| o.buyer.name.is_empty() && o.buyer.email.is_none()));
    assert!(
        plain
            .iter()
            .all(|o| o.ship_to.name.is_empty() && o.ship_to.address1.is_empty() && o.ship_to.postal_code.is_empty())
    );
    assert!(plain.iter().any(|o| !o.ship_to.city.is_empty()), "city is no personal data");
    let (s3, _) = sandbox_with(seed(3, 600), None, AmazonOptions { roles: vec![], ..options() }).await;
    let err = client(&s3).changed_orders(&everything(), None).await.unwrap_err();
    assert!(matches!(err, ClientError::Auth { ref code, .. } if code == "Unauthorized"), "{err}");
}

#[tokio::test]
async fn window_paging_and_removed_v0_paths_answer_as_the_api_does() {
    let s = sandbox(seed(5, 600), None).await;
    let base = s.base_url();
    let token = access_token(&base).await;
    let soon = (Utc::now() + chrono::Duration::minutes(5)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let after = ("lastUpdatedAfter", "2026-01-01T00:00:00Z");
    for query in [
        vec![("marketplaceIds", amazon::MARKETPLACE_ID)],
        vec![after, ("createdAfter", "2026-01-01T00:00:00Z")],
        vec![("createdAfter", "2026-01-01T00:00:00Z"), ("lastUpdatedBefore", "2026-02-01T00:00:00Z")],
        vec![("lastUpdatedAfter", "yesterday")],
        vec![after, ("lastUpdatedBefore", soon.as_str())],
        vec![after, ("lastUpdatedBefore", "2025-12-01T00:00:00Z")],
        vec![after, ("maxResultsPerPage", "101")],
        vec![after, ("maxResultsPerPage", "0")],
        vec![after, ("includedData", "BUYER,ADDRESS")],
        vec![after, ("fulfillmentStatuses", "Canceled")],
        vec![after, ("fulfilledBy", "AFN")],
        vec![after, ("paginationToken", "zz")],
    ] {
        let r = raw_search(&base, &token, &query).await;
        assert_eq!(r.status(), 400, "{query:?}");
        assert!(r.headers().contains_key("x-amzn-RequestId"));
        let body: serde_json::Value = r.json().await.unwrap();
        assert_eq!(body["errors"][0]["code"], "InvalidInput", "{query:?}");
    }
    // Filters and marketplace ids: a filter, not an error.
    let v: serde_json::Value =
        raw_search(&base, &token, &[after, ("marketplaceIds", "A1F83G8C2ARO7P")]).await.json().await.unwrap();
    assert_eq!(v["orders"].as_array().unwrap().len(), 0);
    assert!(v.get("pagination").is_none(), "no pagination object on the last page");
    assert!(v["lastUpdatedBefore"].is_string());
    let v: serde_json::Value =
        raw_search(&base, &token, &[after, ("fulfilledBy", "MERCHANT,AMAZON")]).await.json().await.unwrap();
    assert_eq!(v["orders"].as_array().unwrap().len(), 5);

    // A token continues only its own search; page size and includedData may change.
    let first: serde_json::Value =
        raw_search(&base, &token, &[after, ("maxResultsPerPage", "2")]).await.json().await.unwrap();
    let next = first["pagination"]["nextToken"].as_str().unwrap().to_string();
    let changed =
        raw_search(&base, &token, &[("lastUpdatedAfter", "2025-01-01T00:00:00Z"), ("paginationToken", &next)]).await;
    assert_eq!(changed.status(), 400);
    let filtered = raw_search(&base, &token, &[after, ("fulfilledBy", "MERCHANT"), ("paginationToken", &next)]).await;
    assert_eq!(filtered.status(), 400);
    let same: serde_json::Value = raw_search(
        &base,
        &token,
        &[after, ("maxResultsPerPage", "3"), ("includedData", "FULFILLMENT"), ("paginationToken", &next)],
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(same["orders"].as_array().unwrap().len(), 3);
    assert!(same["orders"][0]["fulfillment"].is_object());

    // getOrder of an unknown order: 404 NotFound with the rate header; the v0 reads are gone.
    let http = reqwest::Client::new();
    let r = http
        .get(format!("{base}/orders/2026-01-01/orders/503-0000000-0000000"))
        .header("x-amz-access-token", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let id = s.book.all()[0].order_id.clone();
    for path in [
        "/orders/v0/orders".to_string(),
        format!("/orders/v0/orders/{id}"),
        format!("/orders/v0/orders/{id}/orderItems"),
        format!("/orders/v0/orders/{id}/address"),
        format!("/orders/v0/orders/{id}/buyerInfo"),
    ] {
        let r = http.get(format!("{base}{path}")).header("x-amz-access-token", &token).send().await.unwrap();
        assert_eq!(r.status(), 404, "{path}");
    }
    let r = http
        .post(format!("{base}/tokens/2021-03-01/restrictedDataToken"))
        .header("x-amz-access-token", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
}
