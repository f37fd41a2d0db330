//! The Amazon SP-API client against the Amazon sandbox.
//!
//! Fields Orders v0 cannot carry, so they are not compared with the seeded order: a second
//! destination (`shipments`; one ShippingAddress per order), `tracking` (orders carry none),
//! `buyer.phone` and `buyer.name_kana`, item options (variations are separate ASINs), the buyer's own e-mail (Amazon shows a relay address),
//! `MailBin` / `Cool` / `Frozen` delivery (service levels differ in speed only → Standard),
//! `BankTransfer` (no such Amazon payment → Other), a time slot without a date (Amazon gives a
//! scheduled window of two date-times), remarks of orders not to ship (delivery instructions are
//! read with getOrderAddress for open MFN orders only), and for `Pending` / `Canceled` orders the
//! address, and for `Pending` orders the prices (the API withholds them).

// Test helpers unwrap too.
#![allow(clippy::unwrap_used)]

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, FixedOffset, Utc};
use ichigen_core::carrier::check_digit;
use ichigen_core::{
    Address, Carrier, DeliveryMethod, Marketplace, Order, OrderStatus, PaymentMethod, Totals, Tracking,
};
use ichigen_marketplaces::amazon::client::{AmazonClient, AmazonConfig, AmazonCredentials};
use ichigen_marketplaces::client::{ClientError, HttpConfig, OrderSource, RetryPolicy, Window};
use ichigen_marketplaces::{Body, NormalizeError};
use ichigen_sandbox::amazon::{self, AmazonOptions};
use ichigen_sandbox::{Faults, SandboxConfig, Seed, Started};

fn now() -> DateTime<FixedOffset> {
    Utc::now().fixed_offset()
}

fn seed(orders: usize, step_secs: i64) -> Seed {
    let span = chrono::Duration::seconds(step_secs * orders as i64 * 3 / 2 + 3600);
    Seed { orders, step_secs, start: now() - span, ..Seed::default() }
}

async fn sandbox(seed: Seed, throttle: Option<f64>) -> Started {
    let options = AmazonOptions { before_lag: chrono::Duration::seconds(1), ..AmazonOptions::default() };
    amazon::start_with(SandboxConfig { seed, throttle, ..SandboxConfig::default() }, options).await.unwrap()
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
    // Client limits scaled up so tests do not wait a real minute per getOrders call.
    AmazonClient::new(config(s, quick_retry(3), Duration::from_secs(5), 10_000.0), credentials(amazon::CLIENT_SECRET))
        .unwrap()
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

fn requests(c: &AmazonClient, op: &str) -> u64 {
    c.requests().into_iter().find(|(o, _)| *o == op).map_or(0, |(_, n)| n)
}

/// What the Amazon status and shipping rules make of a seeded order.
fn open_mfn(o: &Order) -> bool {
    !o.fulfilled_by_marketplace && matches!(o.status, OrderStatus::New | OrderStatus::ReadyToShip | OrderStatus::OnHold)
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
    let pending = seeded.status == OrderStatus::AwaitingPayment;
    let totals = if pending { Totals::default() } else { seeded.totals };
    assert_eq!(got.totals, totals, "{id}");
    let items: Vec<_> = seeded
        .items
        .iter()
        .map(|i| {
            let mut i = i.clone();
            // Amazon variations are separate ASINs: no option list on a line.
            i.options.clear();
            if pending {
                i.unit_price = 0;
            }
            i
        })
        .collect();
    assert_eq!(got.items, items, "{id}");
    let has_address = matches!(
        seeded.status,
        OrderStatus::New | OrderStatus::ReadyToShip | OrderStatus::OnHold | OrderStatus::Shipped
    );
    let ship_to = if has_address {
        let digits: String = seeded.ship_to.postal_code.chars().filter(char::is_ascii_digit).collect();
        Address { postal_code: digits, ..seeded.ship_to.clone() }
    } else {
        Address { country: "JP".into(), ..Address::default() }
    };
    assert_eq!(got.ship_to, ship_to, "{id}");
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
    assert_eq!(got.delivery.source_method, seeded.delivery.source_method, "{id}");
    assert_eq!(got.delivery.requested_date, seeded.delivery.requested_date, "{id}");
    let slot = seeded
        .delivery
        .requested_date
        .and(seeded.delivery.requested_time_slot.clone())
        .map(|s| if s == "午前中" { "8-12".to_string() } else { s });
    assert_eq!(got.delivery.requested_time_slot, slot, "{id}");
    let remarks = if open_mfn(seeded) && !seeded.remarks.trim().is_empty() {
        format!("[配送指示] {}", seeded.remarks)
    } else {
        String::new()
    };
    assert_eq!(got.remarks, remarks, "{id}");
    assert_eq!(got.gift, seeded.gift, "{id}");
    assert_eq!(got.buyer.name, seeded.buyer.name, "{id}");
    assert!(got.buyer.email.as_deref().is_some_and(|e| e.ends_with("@marketplace.amazon.co.jp")), "{id}");
    assert!(got.tracking.is_empty(), "Orders v0 carries no tracking numbers");
}

#[tokio::test]
async fn a_pages_and_sub_windows_return_every_order_once_with_its_fields() {
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
    let get_orders = requests(&c, "getOrders");
    assert!(pages >= 5 && get_orders as usize == pages, "{pages} pages, {get_orders} getOrders");
    assert_eq!(requests(&c, "getOrderItems"), 330);
    assert_eq!(requests(&c, "lwaToken"), 1, "the access token is cached");
    assert_eq!(requests(&c, "createRestrictedDataToken"), 1, "the RDT is cached");
    // Every seeded kind came through: AFN, Pending, cancelled, shipped, COD, remarks.
    assert!(got.iter().any(|o| o.fulfilled_by_marketplace));
    assert!(got.iter().any(|o| o.status == OrderStatus::AwaitingPayment));
    assert!(got.iter().any(|o| o.status == OrderStatus::Cancelled));
    assert!(got.iter().any(|o| o.status == OrderStatus::Shipped));
    assert!(got.iter().any(|o| o.payment_method == PaymentMethod::Cod));
    assert!(got.iter().any(|o| !o.remarks.is_empty()));
}

#[tokio::test]
async fn a_cursor_resumes_where_the_puller_stopped_and_a_stale_token_restarts_cleanly() {
    let s = sandbox(seed(250, 600), None).await;
    let c = client(&s);
    let w = everything();
    let first = c.changed_orders(&w, None).await.unwrap();
    let cursor = first.next.clone().unwrap();
    // A second client (a later run) resumes from the stored cursor.
    let (rest, _) = {
        let c2 = client(&s);
        let mut out = Vec::new();
        let mut cur = Some(cursor.clone());
        while let Some(k) = cur {
            let p = c2.changed_orders(&w, Some(&k)).await.unwrap();
            out.extend(p.orders);
            cur = p.next;
        }
        (out, ())
    };
    assert_eq!(first.orders.len() + rest.len(), 250);
    // A cursor whose NextToken the API refuses (here: tampered) restarts the sub-window and skips
    // what the first page delivered.
    let mut v: serde_json::Value = serde_json::from_str(&cursor).unwrap();
    v["token"] = serde_json::json!("00ff");
    let mut restarted = c.changed_orders(&w, Some(&v.to_string())).await.unwrap();
    while restarted.orders.is_empty() {
        let next = restarted.next.clone().expect("more pages");
        restarted = c.changed_orders(&w, Some(&next)).await.unwrap();
    }
    let firsts: Vec<&str> = first.orders.iter().map(|o| o.order_id.as_str()).collect();
    assert!(restarted.orders.iter().all(|o| !firsts.contains(&o.order_id.as_str())));
    assert_eq!(restarted.orders.first().map(|o| &o.order_id), rest.first().map(|o| &o.order_id));
    assert!(matches!(c.changed_orders(&w, Some("garbage")).await, Err(ClientError::Rejected { .. })));
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

    // A refresh token the API does not know: LWA's invalid_grant.
    let creds = AmazonCredentials::new(amazon::CLIENT_ID, amazon::CLIENT_SECRET.to_string(), "Atzr|revoked".into());
    let c = AmazonClient::new(config(&s, quick_retry(3), Duration::from_secs(5), 10_000.0), creds).unwrap();
    let err = c.changed_orders(&everything(), None).await.unwrap_err();
    assert!(matches!(err, ClientError::Auth { ref code, .. } if code == "invalid_grant"), "{err}");

    // The SP-API's own refusal: a token it never issued.
    let resp = reqwest::Client::new()
        .get(format!("{}/orders/v0/orders?MarketplaceIds={}", s.base_url(), amazon::MARKETPLACE_ID))
        .header("x-amz-access-token", "Atza|forged")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    assert!(resp.text().await.unwrap().contains("\"Unauthorized\""));
}

#[tokio::test]
async fn c_throttle_answers_are_retried_until_the_pull_succeeds() {
    let s = sandbox(seed(120, 600), Some(120.0)).await;
    // Sandbox: getOrderItems 60/s burst 30. Client: limits 100x looser, many quick retries.
    let c = AmazonClient::new(
        config(&s, quick_retry(60), Duration::from_secs(5), 12_000.0),
        credentials(amazon::CLIENT_SECRET),
    )
    .unwrap();
    // One sub-window: the sandbox allows getOrders 2/s after a burst of 20.
    let window = Window { from: now() - chrono::Duration::days(3), to: now() + chrono::Duration::hours(1) };
    let (got, _) = pull(&c, &window).await.unwrap();
    assert_eq!(got.len(), 120);
    assert!(requests(&c, "getOrderItems") > 120, "some getOrderItems calls were throttled and retried");
    // The client learnt the applied rates from x-amzn-RateLimit-Limit and now paces itself by them.
    let applied = c.applied_rates();
    assert!(applied.iter().any(|(op, r)| *op == "getOrderItems" && (*r - 60.0).abs() < 1e-9), "{applied:?}");

    // The throttle answer itself: 429 QuotaExceeded with the applied rate.
    let token = access_token(&s.base_url()).await;
    let mut throttled = None;
    for _ in 0..40 {
        let r = reqwest::Client::new()
            .get(format!("{}/orders/v0/orders", s.base_url()))
            .query(&[("MarketplaceIds", amazon::MARKETPLACE_ID), ("LastUpdatedAfter", "2026-01-01T00:00:00Z")])
            .header("x-amz-access-token", &token)
            .send()
            .await
            .unwrap();
        if r.status() == 429 {
            throttled = Some(r);
            break;
        }
    }
    // getOrders: 0.0167/s x 120 = 2/s, burst 20.
    let r = throttled.expect("a burst of 40 exceeds 20");
    let rate: f64 = r.headers()["x-amzn-RateLimit-Limit"].to_str().unwrap().parse().unwrap();
    assert!((rate - 0.0167 * 120.0).abs() < 1e-9, "{rate}");
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
async fn e_a_cut_body_is_a_permanent_malformed_error_naming_the_operation() {
    let s = sandbox(seed(10, 600), None).await;
    let c = client(&s);
    // Tokens first, so the cut body is getOrders'.
    pull(&c, &everything()).await.unwrap();
    let before = requests(&c, "getOrders");
    s.faults.set(Faults { malformed_rate: 1.0, ..Faults::default() });
    let err = c.changed_orders(&everything(), None).await.unwrap_err();
    match &err {
        ClientError::Malformed(NormalizeError::Malformed { marketplace, operation, .. }) => {
            assert_eq!(*marketplace, Marketplace::Amazon);
            assert_eq!(operation, "getOrders");
        }
        other => panic!("{other}"),
    }
    assert!(!err.is_retryable());
    assert_eq!(requests(&c, "getOrders"), before + 1, "not retried");
}

#[tokio::test]
async fn f_confirmed_shipments_come_back_as_shipped() {
    let s = sandbox(seed(60, 600), None).await;
    let c = client(&s);
    let (got, _) = pull(&c, &everything()).await.unwrap();
    let order = got
        .iter()
        .find(|o| o.status == OrderStatus::ReadyToShip && !o.fulfilled_by_marketplace)
        .expect("an open MFN order")
        .clone();
    let first11 = "12345678901";
    let number = format!("{first11}{}", check_digit(first11).unwrap());
    let shipped_at = now();
    let tracking =
        Tracking { carrier: Carrier::Yamato, number: number.clone(), shipped_at: Some(shipped_at), shipment_id: None };

    // A wrong check digit and an AFN order are refused before any call.
    let confirms = requests(&c, "confirmShipment");
    let bad = Tracking { number: format!("{first11}{}", (check_digit(first11).unwrap() + 1) % 10), ..tracking.clone() };
    assert!(matches!(c.register_tracking(&order, &bad).await, Err(ClientError::Rejected { .. })));
    if let Some(afn) = got.iter().find(|o| o.fulfilled_by_marketplace) {
        assert!(matches!(c.register_tracking(afn, &tracking).await, Err(ClientError::Rejected { .. })));
    }
    assert_eq!(requests(&c, "confirmShipment"), confirms);

    let t0 = now();
    c.register_tracking(&order, &tracking).await.unwrap();
    // The sandbox recorded the parcel as Amazon would (carrier name → carrier).
    let held = s.book.get(&order.order_id).unwrap();
    assert_eq!(held.status, OrderStatus::Shipped);
    assert_eq!(held.tracking.last().map(|t| (t.carrier, t.number.as_str())), Some((Carrier::Yamato, number.as_str())));
    // A second confirmation of the same units is refused by the API.
    assert!(matches!(c.register_tracking(&order, &tracking).await, Err(ClientError::Rejected { .. })));

    // LastUpdatedBefore must lie in the past (2 min in production, 1 s here).
    tokio::time::sleep(Duration::from_millis(2_600)).await;
    let window = Window { from: t0 - chrono::Duration::seconds(1), to: now() + chrono::Duration::hours(1) };
    let (changed, _) = pull(&c, &window).await.unwrap();
    assert_eq!(changed.len(), 1, "only the confirmed order changed");
    assert_eq!(changed[0].order_id, order.order_id);
    assert_eq!(changed[0].status, OrderStatus::Shipped);
    assert_eq!(changed[0].source_status, "Shipped");
    // Orders v0 gives no tracking number back: it is checked in the sandbox's state above.
    assert!(changed[0].tracking.is_empty());
}

#[tokio::test]
async fn g_normalize_reads_the_sandbox_bodies_like_the_client() {
    let s = sandbox(seed(30, 600), None).await;
    let c = client(&s);
    let (pulled, _) = pull(&c, &everything()).await.unwrap();

    let http = reqwest::Client::new();
    let base = s.base_url();
    let access = access_token(&base).await;
    let rdt: serde_json::Value = http
        .post(format!("{base}/tokens/2021-03-01/restrictedDataToken"))
        .header("x-amz-access-token", &access)
        .json(&serde_json::json!({ "restrictedResources": [
            { "method": "GET", "path": "/orders/v0/orders", "dataElements": ["buyerInfo", "shippingAddress"] },
            { "method": "GET", "path": "/orders/v0/orders/{orderId}/address" } ] }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let rdt = rdt["restrictedDataToken"].as_str().unwrap().to_string();
    let before = (Utc::now() - chrono::Duration::seconds(5)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let orders_body = http
        .get(format!("{base}/orders/v0/orders"))
        .query(&[
            ("MarketplaceIds", amazon::MARKETPLACE_ID),
            ("LastUpdatedAfter", "2020-01-01T00:00:00Z"),
            ("LastUpdatedBefore", before.as_str()),
        ])
        .header("x-amz-access-token", &rdt)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let mut bodies = vec![Body { name: "getOrders_page1.json".into(), text: orders_body }];
    for o in &pulled {
        let items = http
            .get(format!("{base}/orders/v0/orders/{}/orderItems", o.order_id))
            .header("x-amz-access-token", &access)
            .send()
            .await
            .unwrap();
        assert_eq!(items.headers()["content-type"], "application/json");
        bodies.push(Body { name: format!("getOrderItems_{}.json", o.order_id), text: items.text().await.unwrap() });
        // The address needs the RDT: the plain token is refused.
        let url = format!("{base}/orders/v0/orders/{}/address", o.order_id);
        let plain = http.get(&url).header("x-amz-access-token", &access).send().await.unwrap();
        assert_eq!(plain.status(), 403);
        if open_mfn(&s.book.get(&o.order_id).unwrap()) {
            let text = http.get(&url).header("x-amz-access-token", &rdt).send().await.unwrap().text().await.unwrap();
            bodies.push(Body { name: format!("getOrderAddress_{}.json", o.order_id), text });
        }
    }
    let normalized = ichigen_marketplaces::normalize(Marketplace::Amazon, "shop-demo", &bodies).unwrap();
    assert_eq!(normalized.len(), pulled.len());
    for o in &normalized {
        let p = pulled.iter().find(|p| p.order_id == o.order_id).unwrap();
        assert_eq!(o, p);
    }

    // Without the RDT getOrders still answers, but without the personal data.
    let plain = http
        .get(format!("{base}/orders/v0/orders"))
        .query(&[("MarketplaceIds", amazon::MARKETPLACE_ID), ("LastUpdatedAfter", "2020-01-01T00:00:00Z")])
        .header("x-amz-access-token", &access)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let plain = ichigen_marketplaces::normalize(
        Marketplace::Amazon,
        "shop-demo",
        &[Body { name: "getOrders.json".into(), text: plain }],
    )
    .unwrap();
    assert!(plain.iter().all(|o| o.ship_to.name.is_empty() && o.buyer.name.is_empty()));
}

#[tokio::test]
async fn window_and_paging_rules_answer_with_invalid_input() {
    let s = sandbox(seed(5, 600), None).await;
    let http = reqwest::Client::new();
    let base = s.base_url();
    let token = access_token(&base).await;
    let soon = (Utc::now() + chrono::Duration::minutes(5)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    for query in [
        vec![("LastUpdatedAfter", "2026-01-01T00:00:00Z")],
        vec![("MarketplaceIds", amazon::MARKETPLACE_ID)],
        vec![("MarketplaceIds", amazon::MARKETPLACE_ID), ("LastUpdatedAfter", "yesterday")],
        vec![
            ("MarketplaceIds", amazon::MARKETPLACE_ID),
            ("LastUpdatedAfter", "2026-01-01T00:00:00Z"),
            ("CreatedAfter", "2026-01-01T00:00:00Z"),
        ],
        vec![
            ("MarketplaceIds", amazon::MARKETPLACE_ID),
            ("LastUpdatedAfter", "2026-01-01T00:00:00Z"),
            ("LastUpdatedBefore", soon.as_str()),
        ],
        vec![
            ("MarketplaceIds", amazon::MARKETPLACE_ID),
            ("LastUpdatedAfter", "2026-01-01T00:00:00Z"),
            ("MaxResultsPerPage", "101"),
        ],
        vec![
            ("MarketplaceIds", amazon::MARKETPLACE_ID),
            ("LastUpdatedAfter", "2026-01-01T00:00:00Z"),
            ("NextToken", "zz"),
        ],
    ] {
        let r = http
            .get(format!("{base}/orders/v0/orders"))
            .query(&query)
            .header("x-amz-access-token", &token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400, "{query:?}");
        let body: serde_json::Value = r.json().await.unwrap();
        assert_eq!(body["errors"][0]["code"], "InvalidInput", "{query:?}");
    }
    // A NextToken with changed filters is refused.
    let page = |q: Vec<(&'static str, String)>| {
        let http = http.clone();
        let token = token.clone();
        let base = base.clone();
        async move {
            http.get(format!("{base}/orders/v0/orders"))
                .query(&q)
                .header("x-amz-access-token", token)
                .send()
                .await
                .unwrap()
        }
    };
    let first: serde_json::Value = page(vec![
        ("MarketplaceIds", amazon::MARKETPLACE_ID.into()),
        ("LastUpdatedAfter", "2020-01-01T00:00:00Z".into()),
        ("MaxResultsPerPage", "2".into()),
    ])
    .await
    .json()
    .await
    .unwrap();
    let next = first["payload"]["NextToken"].as_str().unwrap().to_string();
    let changed = page(vec![
        ("MarketplaceIds", amazon::MARKETPLACE_ID.into()),
        ("LastUpdatedAfter", "2021-01-01T00:00:00Z".into()),
        ("MaxResultsPerPage", "2".into()),
        ("NextToken", next.clone()),
    ])
    .await;
    assert_eq!(changed.status(), 400);
    let same = page(vec![
        ("MarketplaceIds", amazon::MARKETPLACE_ID.into()),
        ("LastUpdatedAfter", "2020-01-01T00:00:00Z".into()),
        ("MaxResultsPerPage", "2".into()),
        ("NextToken", next),
    ])
    .await;
    assert_eq!(same.status(), 200);
}
