//! The real Rakuten client against the Rakuten sandbox.
#![allow(clippy::unwrap_used)] // Test helpers, not only #[test] functions, unwrap.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use base64::Engine;
use chrono::{DateTime, FixedOffset};
use ichigen_core::pipeline::Acknowledged;
use ichigen_core::{Carrier, Order, OrderStatus, Tracking};
use ichigen_marketplaces::client::{ClientError, HttpConfig, OrderSource, RetryPolicy, Window};
use ichigen_marketplaces::rakuten::RakutenClient;
use ichigen_marketplaces::rakuten::client::SecretString;
use ichigen_marketplaces::{Body, NormalizeError};
use ichigen_sandbox::rakuten::{self, LICENSE_KEY, SERVICE_SECRET};
use ichigen_sandbox::{Faults, SandboxConfig, Seed, Started};
use serde_json::{Value, json};

const SHOP: &str = "shop-r";

fn t(s: &str) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(s).unwrap()
}

fn config(orders: usize, step_secs: i64) -> SandboxConfig {
    SandboxConfig {
        port: 0,
        seed: Seed { orders, seed: 11, start: t("2026-01-10T09:00:00+09:00"), step_secs, shop_id: SHOP.into() },
        faults: Faults::default(),
        throttle: None,
    }
}

fn http(sandbox: &Started, retries: usize, timeout: Duration) -> HttpConfig {
    HttpConfig {
        timeout,
        retry: RetryPolicy { retries, min_delay: Duration::from_millis(5), max_delay: Duration::from_millis(40) },
        rate_scale: 1_000.0,
        ..HttpConfig::new(sandbox.base_url())
    }
}

fn client_with(config: HttpConfig, secret: &str, key: &str) -> RakutenClient {
    RakutenClient::new(config, SHOP, &SecretString::from(secret), &SecretString::from(key)).unwrap()
}

fn client(sandbox: &Started) -> RakutenClient {
    client_with(http(sandbox, 4, Duration::from_secs(5)), SERVICE_SECRET, LICENSE_KEY)
}

fn whole_year() -> Window {
    Window { from: t("2026-01-01T00:00:00+09:00"), to: t("2026-11-20T00:00:00+09:00") }
}

/// Follows cursors to the end; returns the orders and the number of pages.
async fn pull(client: &RakutenClient, window: &Window) -> Result<(Vec<Order>, usize), ClientError> {
    let mut orders = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let page = client.changed_orders(window, cursor.as_deref()).await?;
        pages += 1;
        orders.extend(page.orders);
        match page.next {
            Some(next) => cursor = Some(next),
            None => return Ok((orders, pages)),
        }
        assert!(pages < 10_000, "the cursor never ends");
    }
}

/// Every seeded order exactly once, each equal to the sandbox's own record of it.
fn assert_exactly_the_book(sandbox: &Started, pulled: &[Order]) {
    let book = sandbox.book.all();
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for o in pulled {
        *seen.entry(o.order_id.as_str()).or_default() += 1;
    }
    let doubled: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
    assert!(doubled.is_empty(), "doubled: {doubled:?}");
    let missed: Vec<_> = book.iter().filter(|o| !seen.contains_key(o.order_id.as_str())).map(|o| &o.order_id).collect();
    assert!(missed.is_empty(), "missed {} of {}: {missed:?}", missed.len(), book.len());
    assert_eq!(pulled.len(), book.len());
    for o in pulled {
        let seeded = sandbox.book.get(&o.order_id).unwrap();
        // The book holds each order as Rakuten can carry it (see the sandbox module doc), so the
        // whole canonical order must come back: status, totals, items, addresses and postal
        // codes, payment, delivery, buyer, remarks, gift, tracking, times.
        assert_eq!(o, &seeded, "order {}", o.order_id);
    }
}

#[tokio::test]
async fn paging_across_pages_and_window_splits_returns_every_order_once() {
    // 300 orders one day apart: five 63-day windows; a result cap of 50 halves each of them,
    // and pages of 20 numbers give several pages per half.
    let sandbox = rakuten::start_with_result_cap(config(300, 86_400), 50).await.unwrap();
    let client = client(&sandbox).with_page_size(20).with_result_cap(50);
    let (orders, pages) = pull(&client, &whole_year()).await.unwrap();
    assert!(pages > 20, "{pages} pages");
    assert_exactly_the_book(&sandbox, &orders);
    // The seed's variety made it through: multi-destination, shipped, several payment methods.
    assert!(orders.iter().any(|o| o.shipments.len() == 2));
    assert!(orders.iter().any(|o| o.status == OrderStatus::Shipped && !o.tracking.is_empty()));
    assert!(orders.iter().any(|o| o.status == OrderStatus::Cancelled));
    // Resuming from a cursor mid-way gives the rest, no more.
    let first = client.changed_orders(&whole_year(), None).await.unwrap();
    let rest = {
        let mut orders = first.orders.clone();
        let mut cursor = first.next.clone();
        while let Some(c) = cursor {
            let page = client.changed_orders(&whole_year(), Some(&c)).await.unwrap();
            orders.extend(page.orders);
            cursor = page.next;
        }
        orders
    };
    assert_eq!(rest.len(), 300);

    // Control: a client that trusts the 15,000 cap against this 50-result sandbox loses orders,
    // so the split above is what kept every order.
    let naive = client_with(http(&sandbox, 4, Duration::from_secs(5)), SERVICE_SECRET, LICENSE_KEY).with_page_size(20);
    let (partial, _) = pull(&naive, &whole_year()).await.unwrap();
    assert!(partial.len() < 300, "{}", partial.len());
}

#[tokio::test]
async fn the_real_page_size_and_cap_pull_a_window_in_few_requests() {
    let sandbox = rakuten::start(config(250, 3_600)).await.unwrap();
    let (orders, pages) = pull(&client(&sandbox), &whole_year()).await.unwrap();
    assert_exactly_the_book(&sandbox, &orders);
    // 323 days = 6 windows of at most 63 days, in each of the 6 passes (dateType 1–6): one page each.
    assert_eq!(pages, 36);
}

#[tokio::test]
async fn a_window_reaching_past_730_days_is_cut_to_what_the_api_can_search() {
    let sandbox = rakuten::start(config(50, 3_600)).await.unwrap();
    let window = Window { from: t("2019-01-01T00:00:00+09:00"), to: t("2026-11-20T00:00:00+09:00") };
    let (orders, _) = pull(&client(&sandbox), &window).await.unwrap();
    assert_exactly_the_book(&sandbox, &orders);
}

#[tokio::test]
async fn wrong_credentials_are_auth_errors_and_not_retried() {
    let sandbox = rakuten::start(config(10, 600)).await.unwrap();
    let mut cfg = http(&sandbox, 3, Duration::from_secs(5));
    cfg.retry.min_delay = Duration::from_secs(2);
    cfg.retry.max_delay = Duration::from_secs(2);
    let client = client_with(cfg, SERVICE_SECRET, "SL391234_expired");
    let start = Instant::now();
    let err = client.changed_orders(&whole_year(), None).await.unwrap_err();
    assert!(start.elapsed() < Duration::from_secs(1), "retried: {:?}", start.elapsed());
    match &err {
        ClientError::Auth { code, operation, .. } => {
            assert_eq!(code, "ES01-01");
            assert_eq!(*operation, "searchOrder");
        }
        other => panic!("{other:?}"),
    }
    assert!(!err.is_retryable());
    let shown = format!("{err} {err:?} {client:?}");
    assert!(!shown.contains("SL391234_expired") && !shown.contains(SERVICE_SECRET), "{shown}");
}

#[tokio::test]
async fn throttle_answers_are_retried_until_the_pull_succeeds() {
    let mut cfg = config(120, 3_600);
    cfg.throttle = Some(25.0); // 25 requests/second per operation, burst 1.
    let sandbox = rakuten::start(cfg).await.unwrap();

    // The sandbox really throttles: of four requests sent at once (a loaded machine cannot
    // space them out), the burst of one passes and the others are refused.
    let body = search_body("2026-01-10T00:00:00+0900", "2026-01-20T00:00:00+0900", 30, 1);
    let auth = auth_header();
    let answers = tokio::join!(
        raw(&sandbox, "searchOrder", &body, &auth),
        raw(&sandbox, "searchOrder", &body, &auth),
        raw(&sandbox, "searchOrder", &body, &auth),
        raw(&sandbox, "searchOrder", &body, &auth),
    );
    let answers = [answers.0, answers.1, answers.2, answers.3];
    assert!(answers.iter().any(|a| a.0 == 200), "{answers:?}");
    let refused = answers.iter().find(|a| a.0 == 429).expect("a burst is refused");
    assert!(refused.1.contains("\"Results\""), "{}", refused.1);

    // The client's own limit is 1,000/s here: it runs into the sandbox's and must retry.
    let client =
        client_with(http(&sandbox, 12, Duration::from_secs(5)), SERVICE_SECRET, LICENSE_KEY).with_page_size(10);
    let throttled = || rakuten::request_counts().iter().map(|c| c.throttled).sum::<u64>();
    let before = throttled();
    let (orders, _) = pull(&client, &whole_year()).await.unwrap();
    assert_exactly_the_book(&sandbox, &orders);
    // Only this test turns the sandbox's limits on, so these refusals were the client's.
    assert!(throttled() > before, "the pull never ran into the limit");
}

#[tokio::test]
async fn server_errors_and_hangs_are_retried_and_give_up_retryable() {
    let mut cfg = config(60, 3_600);
    cfg.faults = Faults { error_rate: 0.3, timeout_rate: 0.15, hang: Duration::from_millis(800), ..Faults::default() };
    let sandbox = rakuten::start(cfg).await.unwrap();
    let client =
        client_with(http(&sandbox, 10, Duration::from_millis(250)), SERVICE_SECRET, LICENSE_KEY).with_page_size(15);
    let (orders, _) = pull(&client, &whole_year()).await.unwrap();
    assert_exactly_the_book(&sandbox, &orders);

    sandbox.faults.set(Faults { error_rate: 1.0, ..Faults::default() });
    let err = client.changed_orders(&whole_year(), None).await.unwrap_err();
    assert!(matches!(err, ClientError::Server { status: 500, .. }), "{err:?}");
    assert!(err.is_retryable());

    sandbox.faults.set(Faults { timeout_rate: 1.0, hang: Duration::from_millis(800), ..Faults::default() });
    let quick = client_with(http(&sandbox, 1, Duration::from_millis(150)), SERVICE_SECRET, LICENSE_KEY);
    let err = quick.changed_orders(&whole_year(), None).await.unwrap_err();
    assert!(matches!(err, ClientError::Transport { timeout: true, .. }), "{err:?}");
    assert!(err.is_retryable());
}

#[tokio::test]
async fn malformed_bodies_are_permanent_and_name_marketplace_and_operation() {
    let mut cfg = config(20, 3_600);
    cfg.faults = Faults { malformed_rate: 1.0, ..Faults::default() };
    let sandbox = rakuten::start(cfg).await.unwrap();
    let client = client(&sandbox);
    let err = client.changed_orders(&whole_year(), None).await.unwrap_err();
    assert!(!err.is_retryable());
    match &err {
        ClientError::Malformed(NormalizeError::Malformed { marketplace, operation, .. }) => {
            assert_eq!(*marketplace, ichigen_core::Marketplace::Rakuten);
            assert_eq!(operation, "searchOrder");
        }
        other => panic!("{other:?}"),
    }
    assert!(err.to_string().contains("rakuten searchOrder"), "{err}");

    // A truncated getOrder body too: search normally, then cut the detail answer.
    sandbox.faults.set(Faults::default());
    let first = client.changed_orders(&whole_year(), None).await.unwrap();
    assert!(!first.orders.is_empty());
    let numbers: Vec<String> = first.orders.iter().take(3).map(|o| o.order_id.clone()).collect();
    sandbox.faults.set(Faults { malformed_rate: 1.0, ..Faults::default() });
    let order = sandbox.book.get(&numbers[0]).unwrap();
    let tracking = Tracking { carrier: Carrier::Yamato, number: valid_number(), shipped_at: None, shipment_id: None };
    let err = client.register_tracking(&order, &tracking).await.unwrap_err();
    match &err {
        ClientError::Malformed(NormalizeError::Malformed { operation, .. }) => assert_eq!(operation, "getOrder"),
        other => panic!("{other:?}"),
    }
}

fn valid_number() -> String {
    let first11 = "12345678901";
    format!("{first11}{}", ichigen_core::carrier::check_digit(first11).unwrap())
}

#[tokio::test]
async fn registered_tracking_comes_back_shipped_in_the_next_window() {
    let sandbox = rakuten::start(config(80, 3_600)).await.unwrap();
    let client = client(&sandbox);
    let (orders, _) = pull(&client, &whole_year()).await.unwrap();
    let single = orders.iter().find(|o| o.status.is_open() && o.shipments.is_empty()).unwrap().clone();
    let multi = Some(orders.iter().find(|o| o.status.is_open() && o.shipments.len() == 2).unwrap().clone());

    let before = chrono::Utc::now().fixed_offset() - chrono::Duration::seconds(1);
    let shipped_at = Some(t("2026-11-26T15:00:00+09:00"));
    let tracking = Tracking { carrier: Carrier::Sagawa, number: valid_number(), shipped_at, shipment_id: None };
    client.register_tracking(&single, &tracking).await.unwrap();
    // Idempotent: the same number again adds no row.
    client.register_tracking(&single, &tracking).await.unwrap();
    // A bad check digit is refused before any request.
    let bad = Tracking { number: "123456789019".into(), ..tracking.clone() };
    let err = client.register_tracking(&single, &bad).await.unwrap_err();
    assert!(matches!(err, ClientError::Rejected { .. }), "{err:?}");
    if let Some(multi) = &multi {
        let baskets = basket_ids(multi);
        client.register_tracking_to(multi, &tracking, &baskets[0]).await.unwrap();
        let second = Tracking { carrier: Carrier::Japanpost, number: "3333-4444-5555".into(), ..tracking.clone() };
        let second = Tracking {
            number: format!("{}{}", "33334444555", ichigen_core::carrier::check_digit("33334444555").unwrap()),
            ..second
        };
        client.register_tracking_to(multi, &second, &baskets[1]).await.unwrap();
    }

    let after = Window { from: before, to: chrono::Utc::now().fixed_offset() + chrono::Duration::seconds(2) };
    let (changed, _) = pull(&client, &after).await.unwrap();
    let got = changed.iter().find(|o| o.order_id == single.order_id).expect("the shipped order is in the next window");
    assert_eq!(got.status, OrderStatus::Shipped);
    assert_eq!(got.source_status, "500");
    assert_eq!(got.tracking.len(), 1, "{:?}", got.tracking);
    assert_eq!(got.tracking[0].number, tracking.number);
    assert_eq!(got.tracking[0].carrier, Carrier::Sagawa);
    assert_eq!(got.tracking[0].shipped_at, Some(t("2026-11-26T00:00:00+09:00")));
    assert!(got.source_updated_at > single.source_updated_at);
    if let Some(multi) = &multi {
        let got = changed.iter().find(|o| o.order_id == multi.order_id).unwrap();
        assert_eq!(got.tracking.len(), 2);
        assert_eq!(got.status, OrderStatus::Shipped);
    }
    // Nothing else changed in that window.
    assert_eq!(changed.len(), 1 + usize::from(multi.is_some()));
}

/// `ESA ` + Base64 of `serviceSecret:licenseKey`, computed outside Rust.
fn auth_header() -> String {
    assert_eq!(SERVICE_SECRET, "SP391234_sandbox-service-secret");
    assert_eq!(LICENSE_KEY, "SL391234_sandbox-license-key");
    "ESA U1AzOTEyMzRfc2FuZGJveC1zZXJ2aWNlLXNlY3JldDpTTDM5MTIzNF9zYW5kYm94LWxpY2Vuc2Uta2V5".into()
}

fn search_body(from: &str, to: &str, size: i64, page: i64) -> Value {
    json!({"dateType": 1, "startDatetime": from, "endDatetime": to,
        "PaginationRequestModel": {"requestRecordsAmount": size, "requestPage": page,
            "SortModelList": [{"sortColumn": 1, "sortDirection": 1}]}})
}

async fn raw(sandbox: &Started, op: &str, body: &Value, auth: &str) -> (u16, String) {
    let resp = reqwest::Client::new()
        .post(format!("{}/es/2.0/order/{op}/", sandbox.base_url()))
        .header("Authorization", auth)
        .header("Content-Type", "application/json;charset=utf-8")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    (resp.status().as_u16(), resp.text().await.unwrap())
}

#[tokio::test]
async fn the_sandbox_answers_rakutens_own_errors() {
    let sandbox = rakuten::start(config(40, 3_600)).await.unwrap();
    let ok = search_body("2026-01-10T00:00:00+0900", "2026-01-20T00:00:00+0900", 30, 1);
    let (status, body) = raw(&sandbox, "searchOrder", &ok, "ESA d3Jvbmc6d3Jvbmc=").await;
    assert_eq!((status, body.as_str()), (401, r#"{"Results":{"errorCode":"ES01-01","message":"Un-Authorised"}}"#));
    let (status, body) = {
        let resp = reqwest::Client::new()
            .post(format!("{}/es/2.0/order/searchOrder/", sandbox.base_url()))
            .header("Authorization", auth_header())
            .header("Content-Type", "text/plain")
            .body(ok.to_string())
            .send()
            .await
            .unwrap();
        (resp.status().as_u16(), resp.text().await.unwrap())
    };
    assert_eq!(status, 415);
    assert!(body.contains("ES04-03"), "{body}");
    let cases = [
        (json!({"startDatetime": "2026-01-10T00:00:00+0900", "endDatetime": "2026-01-20T00:00:00+0900"}), "ERROR_009"),
        (search_body("2026-01-10T00:00:00+09:00", "2026-01-20T00:00:00+0900", 30, 1), "ERROR_011"),
        (search_body("2026-01-10T00:00:00+0900", "2026-03-15T00:00:00+0900", 30, 1), "ERROR_011"),
        (search_body("2026-01-10T00:00:00+0900", "2026-01-20T00:00:00+0900", 1001, 1), "ERROR_011"),
        (search_body("2026-01-10T00:00:00+0900", "2026-01-20T00:00:00+0900", 30, 0), "ERROR_011"),
    ];
    for (body, code) in cases {
        let (status, text) = raw(&sandbox, "searchOrder", &body, &auth_header()).await;
        assert_eq!(status, 400, "{text}");
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["MessageModelList"][0]["messageType"], "ERROR");
        assert!(v["MessageModelList"][0]["messageCode"].as_str().unwrap().ends_with(code), "{text}");
        assert!(v["orderNumberList"].is_null());
    }
    let (status, text) = raw(&sandbox, "searchOrder", &ok, &auth_header()).await;
    assert_eq!(status, 200);
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["MessageModelList"][0]["messageCode"], "ORDER_EXT_API_SEARCH_ORDER_INFO_101");
    let numbers = v["orderNumberList"].as_array().unwrap();
    assert!(!numbers.is_empty());
    let re = numbers[0].as_str().unwrap();
    let parts: Vec<&str> = re.split('-').collect();
    assert_eq!((parts.len(), parts[0], parts[1].len(), parts[2].len()), (3, "391234", 8, 10), "{re}");
    let too_many: Vec<String> = (0..101).map(|i| format!("391234-20260110-{i:010}")).collect();
    let (status, _) =
        raw(&sandbox, "getOrder", &json!({"orderNumberList": too_many, "version": 10}), &auth_header()).await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn normalize_reads_the_sandboxs_own_bodies() {
    let sandbox = rakuten::start(config(60, 3_600)).await.unwrap();
    let (pulled, _) = pull(&client(&sandbox), &whole_year()).await.unwrap();
    let numbers: Vec<&str> = pulled.iter().take(40).map(|o| o.order_id.as_str()).collect();
    let (status, text) =
        raw(&sandbox, "getOrder", &json!({"orderNumberList": numbers, "version": 10}), &auth_header()).await;
    assert_eq!(status, 200);
    let orders =
        ichigen_marketplaces::rakuten::normalize(SHOP, &[Body { name: "getOrder.json".into(), text }]).unwrap();
    assert_eq!(orders, pulled[..40].to_vec());
    // The same through the crate-level entry point.
    let (_, text) =
        raw(&sandbox, "getOrder", &json!({"orderNumberList": numbers, "version": 10}), &auth_header()).await;
    let again = ichigen_marketplaces::normalize(
        ichigen_core::Marketplace::Rakuten,
        SHOP,
        &[Body { name: "getOrder.json".into(), text }],
    )
    .unwrap();
    assert_eq!(again, orders);
}

/// The basketIds of an order's destinations, as the client maps them.
fn basket_ids(order: &Order) -> Vec<String> {
    order.shipments.iter().map(|s| s.shipment_id.clone().unwrap()).collect()
}

/// A window from the start of the current second (Rakuten's times are whole seconds) to a bit
/// after `change` ran; waits first so no earlier change falls into it.
async fn window_around(change: impl FnOnce() -> bool) -> Window {
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    let now = chrono::Utc::now().fixed_offset();
    let from = now - chrono::Duration::nanoseconds(i64::from(now.timestamp_subsec_nanos()));
    assert!(change(), "the back office refused the change");
    Window { from, to: chrono::Utc::now().fixed_offset() + chrono::Duration::seconds(2) }
}

async fn pulled_once(client: &RakutenClient, window: &Window, id: &str) -> Option<Order> {
    let (orders, _) = pull(client, window).await.unwrap();
    let hits: Vec<&Order> = orders.iter().filter(|o| o.order_id == id).collect();
    assert!(hits.len() <= 1, "order {id} came {} times in one window", hits.len());
    hits.first().map(|o| (*o).clone())
}

#[tokio::test]
async fn an_order_placed_before_the_window_reaches_each_later_state_within_one_pull() {
    let (sandbox, back) = rakuten::start_with_back_office(config(60, 3_600), rakuten::RESULT_CAP).await.unwrap();
    let client = client(&sandbox);
    let (all, _) = pull(&client, &whole_year()).await.unwrap();
    // Placed in January, long before every window below; not confirmed yet (100).
    let new = all.iter().find(|o| o.status == OrderStatus::New && o.shipments.is_empty()).unwrap().clone();
    let id = new.order_id.as_str();
    assert!(back.dates(id).is_some_and(|d| d == rakuten::Dates::default()));

    // 注文確認 → 200, found through dateType 2 (注文確認日).
    let w = window_around(|| back.confirm(id)).await;
    let got = pulled_once(&client, &w, id).await.expect("confirmed order in the window of its 注文確認");
    assert_eq!((got.status, got.source_status.as_str()), (OrderStatus::AwaitingPayment, "200"));
    assert!(got.ordered_at < w.from && got.source_updated_at >= w.from);

    // 決済確定: only 決済確定日 moves (no OrderModel field, no status): found through dateType 6.
    let w = window_around(|| back.settle_payment(id)).await;
    let got = pulled_once(&client, &w, id).await.expect("settled order in the window of its 決済確定");
    assert_eq!(got.status, OrderStatus::AwaitingPayment);
    assert!(got.source_updated_at < w.from, "決済確定 stamps nothing the OrderModel shows");

    // 注文確定 (paid, ready to ship) → 300, found through dateType 3 (注文確定日).
    let w = window_around(|| back.fix(id)).await;
    let got = pulled_once(&client, &w, id).await.expect("fixed order in the window of its 注文確定");
    assert_eq!((got.status, got.source_status.as_str()), (OrderStatus::ReadyToShip, "300"));
    assert!(got.source_updated_at >= w.from);

    // 発送 in RMS with tracking, dated yesterday → 500, found through dateType 5 (発送完了報告日).
    let jst = ichigen_core::JST;
    let yesterday = chrono::Utc::now().with_timezone(&jst).date_naive() - chrono::Duration::days(1);
    let basket = back.basket_ids(id)[0];
    let number = valid_number();
    let w = window_around(|| back.ship(id, basket, Carrier::Yamato, &number, yesterday)).await;
    let got = pulled_once(&client, &w, id).await.expect("shipped order in the window of its 発送完了報告");
    assert_eq!((got.status, got.source_status.as_str()), (OrderStatus::Shipped, "500"));
    assert_eq!(got.tracking.len(), 1);
    assert_eq!((got.tracking[0].carrier, got.tracking[0].number.as_str()), (Carrier::Yamato, number.as_str()));
    assert!(back.dates(id).unwrap().reported.is_some_and(|t| t >= w.from));

    // Cancelled: no date type catches it and no date moves, so no window finds it...
    let w = window_around(|| back.cancel(id)).await;
    assert!(pulled_once(&client, &w, id).await.is_none());
    // ...but reading it by number does, within the same pull.
    let page = client.orders_by_id(&[id.to_owned()]).await.unwrap();
    let missing = page.missing.clone();
    assert!(missing.is_empty());
    assert_eq!(page.orders.len(), 1);
    assert_eq!((page.orders[0].status, page.orders[0].source_status.as_str()), (OrderStatus::Cancelled, "900"));
    assert_eq!(page.orders[0].source_updated_at, got.source_updated_at, "a cancellation moves no time");
    assert!(!back.cancel(id), "already cancelled");

    // An open order cancelled before shipping: also only by number.
    let open = all.iter().find(|o| o.status == OrderStatus::ReadyToShip).unwrap();
    let w = window_around(|| back.cancel(&open.order_id)).await;
    assert!(pulled_once(&client, &w, &open.order_id).await.is_none());
    let page = client.orders_by_id(std::slice::from_ref(&open.order_id)).await.unwrap();
    assert_eq!(page.orders[0].status, OrderStatus::Cancelled);
}

#[tokio::test]
async fn an_order_matching_several_date_types_comes_once_per_window_even_when_resumed() {
    let (sandbox, back) = rakuten::start_with_back_office(config(40, 3_600), rakuten::RESULT_CAP).await.unwrap();
    let client = client(&sandbox);
    let (all, _) = pull(&client, &whole_year()).await.unwrap();
    let news: Vec<String> =
        all.iter().filter(|o| o.status == OrderStatus::New).take(2).map(|o| o.order_id.clone()).collect();
    assert_eq!(news.len(), 2);
    // Confirmed, fixed and settled in the same window: passes 2, 3 and 6 all list them.
    let w = window_around(|| news.iter().all(|id| back.confirm(id) && back.fix(id) && back.settle_payment(id))).await;
    let (orders, pages) = pull(&client, &w).await.unwrap();
    let mut ids: Vec<&str> = orders.iter().map(|o| o.order_id.as_str()).collect();
    ids.sort_unstable();
    let mut want: Vec<&str> = news.iter().map(String::as_str).collect();
    want.sort_unstable();
    assert_eq!(ids, want);
    assert_eq!(pages, 6, "one page per dateType");

    // A fresh client (another process) resuming at each cursor of that pull returns exactly the
    // rest: it rebuilds the numbers of the earlier passes by searching them again.
    let mut cursors = Vec::new();
    let mut cursor: Option<String> = None;
    let mut seen_so_far: Vec<Vec<String>> = Vec::new();
    loop {
        let page = client.changed_orders(&w, cursor.as_deref()).await.unwrap();
        seen_so_far.push(page.orders.iter().map(|o| o.order_id.clone()).collect());
        match page.next {
            Some(next) => {
                cursors.push(next.clone());
                cursor = Some(next);
            }
            None => break,
        }
    }
    for (k, c) in cursors.iter().enumerate() {
        let fresh = self::client(&sandbox);
        let mut rest: Vec<String> = seen_so_far[..=k].concat();
        let mut cursor = Some(c.clone());
        while let Some(c) = cursor {
            let page = fresh.changed_orders(&w, Some(&c)).await.unwrap();
            rest.extend(page.orders.into_iter().map(|o| o.order_id));
            cursor = page.next;
        }
        rest.sort_unstable();
        assert_eq!(rest, want, "resumed at cursor {k}");
    }

    // A cursor of another window is refused, not replayed into nonsense.
    let other = Window { from: w.from - chrono::Duration::days(1), to: w.from };
    let err = client.changed_orders(&other, Some(&cursors[2])).await.unwrap_err();
    assert!(matches!(&err, ClientError::Rejected { code, .. } if code == "cursor"), "{err:?}");
}

#[tokio::test]
async fn a_page_with_an_order_getorder_leaves_out_returns_the_others_and_names_it() {
    let (sandbox, back) = rakuten::start_with_back_office(config(30, 3_600), rakuten::RESULT_CAP).await.unwrap();
    let client = client(&sandbox);
    let (all, _) = pull(&client, &whole_year()).await.unwrap();
    assert_eq!(all.len(), 30);
    let gone = all[7].order_id.clone();
    back.leave_out(&[gone.as_str()]);

    // The real answer: HTTP 200, one INFO_102 with the number, no OrderModel for it.
    let asked = [all[6].order_id.as_str(), gone.as_str()];
    let (status, text) =
        raw(&sandbox, "getOrder", &json!({"orderNumberList": asked, "version": 10}), &auth_header()).await;
    assert_eq!(status, 200, "{text}");
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["OrderModelList"].as_array().unwrap().len(), 1);
    let info = v["MessageModelList"].as_array().unwrap().iter().find(|m| m["orderNumber"] == gone.as_str()).unwrap();
    assert_eq!(
        (info["messageType"].as_str(), info["messageCode"].as_str()),
        (Some("INFO"), Some("ORDER_EXT_API_GET_ORDER_INFO_102"))
    );

    // A pull page: the other 29 orders, the left-out one named, no error.
    let page = client.changed_orders(&whole_year(), None).await.unwrap();
    let missing = page.missing.clone();
    assert_eq!(missing, std::slice::from_ref(&gone));
    assert_eq!(page.orders.len(), 29);
    assert!(page.rejected.is_empty());
    assert!(page.orders.iter().all(|o| o.order_id != gone));
    assert_eq!(page.orders, all.iter().filter(|o| o.order_id != gone).cloned().collect::<Vec<_>>());
    // The trait's page (no room for missing ids yet) goes on too.
    let page = client.changed_orders(&whole_year(), None).await.unwrap();
    assert_eq!(page.orders.len(), 29);

    // By number: the others come, the left-out one is named; repeated ids are asked once.
    let mut ids: Vec<String> = all.iter().map(|o| o.order_id.clone()).collect();
    ids.push(all[0].order_id.clone());
    ids.push("391234-20260110-9999999999".to_owned()); // unknown to Rakuten: left out too
    let page = client.orders_by_id(&ids).await.unwrap();
    let missing = page.missing.clone();
    assert_eq!(page.orders.len(), 29);
    assert_eq!(missing, [gone.clone(), "391234-20260110-9999999999".to_owned()]);

    // Once Rakuten returns it again, the retry by number finds it.
    back.leave_out(&[]);
    let page = client.orders_by_id(std::slice::from_ref(&gone)).await.unwrap();
    let missing = page.missing.clone();
    assert!(missing.is_empty());
    assert_eq!(page.orders, [all[7].clone()]);
}

#[tokio::test]
async fn orders_by_id_reads_more_than_one_call_holds_in_batches() {
    assert_eq!(RakutenClient::MAX_IDS_PER_CALL, 100);
    let sandbox = rakuten::start(config(230, 600)).await.unwrap();
    let client = client(&sandbox);
    let ids: Vec<String> = sandbox.book.all().into_iter().rev().map(|o| o.order_id).collect();
    let page = client.orders_by_id(&ids).await.unwrap();
    let missing = page.missing.clone();
    assert!(missing.is_empty() && page.rejected.is_empty() && page.next.is_none());
    // In the order asked, each equal to the sandbox's record.
    assert_eq!(page.orders.iter().map(|o| o.order_id.clone()).collect::<Vec<_>>(), ids);
    for o in &page.orders {
        assert_eq!(o, &sandbox.book.get(&o.order_id).unwrap());
    }
    // More than 100 numbers in one getOrder is refused by the API: so the client did batch.
    let (status, _) =
        raw(&sandbox, "getOrder", &json!({"orderNumberList": ids[..101], "version": 10}), &auth_header()).await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn tracking_for_a_two_destination_order_goes_to_the_basket_it_belongs_to() {
    let (sandbox, back) = rakuten::start_with_back_office(config(80, 3_600), rakuten::RESULT_CAP).await.unwrap();
    let client = client(&sandbox);
    let (orders, _) = pull(&client, &whole_year()).await.unwrap();
    let multi = orders.iter().find(|o| o.status.is_open() && o.shipments.len() == 2).unwrap().clone();
    let id = multi.order_id.as_str();
    let baskets = basket_ids(&multi);
    let sandbox_baskets: Vec<String> = back.basket_ids(id).iter().map(i64::to_string).collect();
    assert_eq!(baskets, sandbox_baskets);
    let today = chrono::Utc::now().with_timezone(&ichigen_core::JST);
    let first = Tracking {
        carrier: Carrier::Sagawa,
        number: valid_number(),
        shipped_at: Some(today.fixed_offset()),
        shipment_id: None,
    };
    let second_digits = format!("{}{}", "33334444555", ichigen_core::carrier::check_digit("33334444555").unwrap());
    let second = Tracking { carrier: Carrier::Japanpost, number: second_digits, ..first.clone() };

    // The canonical tracking does not say which destination: the client refuses to guess.
    let err = client.register_tracking(&multi, &first).await.unwrap_err();
    assert!(matches!(&err, ClientError::Rejected { code, .. } if code == "destination_unknown"), "{err:?}");
    assert!(back.shipping_rows(id).is_empty(), "nothing was written");
    // A basketId that is not one of the order's.
    let err = client.register_tracking_to(&multi, &first, "123").await.unwrap_err();
    assert!(matches!(&err, ClientError::Rejected { code, .. } if code == "destination"), "{err:?}");

    // The second destination's parcel first: it lands on the second basket, not the first free one.
    let b0: i64 = baskets[0].parse().unwrap();
    let b1: i64 = baskets[1].parse().unwrap();
    client.register_tracking_to(&multi, &first, &baskets[1]).await.unwrap();
    assert_eq!(back.shipping_rows(id), [(b1, first.number.clone())]);
    let reported = back.dates(id).unwrap().reported.unwrap();
    // Idempotent on its basket; refused on the other.
    client.register_tracking_to(&multi, &first, &baskets[1]).await.unwrap();
    let err = client.register_tracking_to(&multi, &first, &baskets[0]).await.unwrap_err();
    assert!(matches!(&err, ClientError::Rejected { code, .. } if code == "destination"), "{err:?}");
    // The trait's call sees it registered already: nothing to do.
    client.register_tracking(&multi, &first).await.unwrap();
    assert_eq!(back.shipping_rows(id).len(), 1);

    // The second parcel, later: the order is already 500, so 発送完了報告日 stays; its ship date
    // (dateType 4, 発送日) still brings the order into the window.
    let w = {
        tokio::time::sleep(Duration::from_millis(1_100)).await;
        let from = chrono::Utc::now().fixed_offset() - chrono::Duration::milliseconds(10);
        client.register_tracking_to(&multi, &second, &baskets[0]).await.unwrap();
        Window { from, to: chrono::Utc::now().fixed_offset() + chrono::Duration::seconds(2) }
    };
    assert_eq!(back.shipping_rows(id), [(b1, first.number.clone()), (b0, second.number.clone())]);
    assert_eq!(back.dates(id).unwrap().reported, Some(reported));
    let got = pulled_once(&client, &w, id).await.expect("second parcel's order in the window of its ship date");
    assert_eq!(got.status, OrderStatus::Shipped);
    let numbers: Vec<&str> = got.tracking.iter().map(|t| t.number.as_str()).collect();
    // Tracking comes back per destination, in destination order.
    assert_eq!(numbers, [second.number.as_str(), first.number.as_str()]);

    // A single-destination order needs no basket.
    let single = orders.iter().find(|o| o.status.is_open() && o.shipments.is_empty()).unwrap();
    client.register_tracking(single, &first).await.unwrap();
    let rows = back.shipping_rows(&single.order_id);
    assert_eq!(rows, [(back.basket_ids(&single.order_id)[0], first.number.clone())]);
}

#[tokio::test]
async fn the_license_expiry_is_read_by_api_and_an_expired_key_stops_every_call() {
    let (sandbox, back) = rakuten::start_with_back_office(config(3, 3_600), rakuten::RESULT_CAP).await.unwrap();
    let c = client(&sandbox);
    let today = chrono::Utc::now().with_timezone(&ichigen_core::JST).date_naive();
    let known = c.credential_expiry().await.unwrap();
    assert_eq!(known.len(), 1);
    assert_eq!(known[0].credential, "license_key", "the name of the pair's expiry record");
    assert_eq!(known[0].last_day, today + chrono::Duration::days(rakuten::LICENSE_DAYS), "issued at start, 90 days");

    back.set_license_last_day(today + chrono::Duration::days(3));
    assert_eq!(c.license_expiry().await.unwrap(), today + chrono::Duration::days(3));

    // A wrong key cannot read its expiry: an authentication error, without the key in its text.
    let wrong = client_with(http(&sandbox, 0, Duration::from_secs(5)), SERVICE_SECRET, "SL391234_other-key");
    let err = wrong.license_expiry().await.unwrap_err();
    assert!(matches!(err, ClientError::Auth { .. }), "{err:?}");
    assert!(!format!("{err} {err:?}").contains("other-key"), "{err}");

    // Expired yesterday: the expiry call and the order calls are refused alike (HTTP 401).
    back.set_license_last_day(today - chrono::Duration::days(1));
    assert!(matches!(c.license_expiry().await.unwrap_err(), ClientError::Auth { .. }));
    let err = c.changed_orders(&whole_year(), None).await.unwrap_err();
    assert!(matches!(err, ClientError::Auth { ref code, .. } if code == "GA0001"), "{err:?}");
}

/// A carrier code outside the sheet's list (§7.6) is refused as updateOrderShipping refuses a bad
/// field (§8.1 constraints, §8.2): HTTP 400 with one `…_UPDATE_ORDERSHIPPING_ERROR_011` message
/// naming `deliveryCompany`, and nothing is written; the client takes such an answer as a refusal
/// that will not pass (never retried).
#[tokio::test]
async fn a_wrong_carrier_code_is_refused_with_error_011_and_writes_nothing() {
    let (sandbox, back) = rakuten::start_with_back_office(config(20, 3_600), rakuten::RESULT_CAP).await.unwrap();
    let order = sandbox.book.all().into_iter().find(|o| o.status.is_open() && o.shipments.is_empty()).unwrap();
    let basket = back.basket_ids(&order.order_id)[0];
    let body = json!({"orderNumber": order.order_id, "BasketidModelList": [{"basketId": basket,
        "ShippingModelList": [{"deliveryCompany": "9999", "shippingNumber": "123456789012",
            "shippingDate": "2026-11-30"}]}]});
    let (status, text) = raw(&sandbox, "updateOrderShipping", &body, &auth_header()).await;
    assert_eq!(status, 400, "{text}");
    let v: Value = serde_json::from_str(&text).unwrap();
    let m = &v["MessageModelList"][0];
    assert_eq!(m["messageType"], "ERROR");
    assert_eq!(m["messageCode"], "ORDER_EXT_API_UPDATE_ORDERSHIPPING_ERROR_011");
    assert!(m["message"].as_str().unwrap().contains("deliveryCompany"), "{m}");
    assert!(back.shipping_rows(&order.order_id).is_empty(), "nothing written");
    // The same 400 through the client (a number the marketplace refuses by format): permanent.
    let client = client(&sandbox);
    let long = Tracking { carrier: Carrier::Other, number: "9".repeat(121), shipped_at: None, shipment_id: None };
    let err = client.register_tracking(&order, &long).await.unwrap_err();
    assert!(
        matches!(&err, ClientError::Rejected { code, .. } if code == "ORDER_EXT_API_UPDATE_ORDERSHIPPING_ERROR_011"),
        "{err:?}"
    );
    assert!(!err.is_retryable());
    assert!(back.shipping_rows(&order.order_id).is_empty());
}

#[tokio::test]
async fn confirm_order_moves_orders_at_100_and_reads_the_others_from_their_progress() {
    let (sandbox, back) = rakuten::start_with_back_office(config(60, 3_600), rakuten::RESULT_CAP).await.unwrap();
    let client = client(&sandbox);
    let (orders, _) = pull(&client, &whole_year()).await.unwrap();
    let at_100: Vec<Order> = orders.iter().filter(|o| o.source_status == "100").take(3).cloned().collect();
    let moved_on = orders.iter().find(|o| o.source_status == "300").unwrap().clone();
    assert_eq!(at_100.len(), 3, "the seed has new orders at 100");
    // One of them confirmed by hand in RMS meanwhile.
    assert!(back.confirm(&at_100[2].order_id));

    let mut batch = at_100.clone();
    batch.push(moved_on.clone());
    let ship_by = chrono::NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
    let answers = client.acknowledge(&batch, ship_by).await.unwrap();
    assert_eq!(answers.len(), 4);
    assert_eq!(answers[0], Acknowledged::Done);
    assert_eq!(answers[1], Acknowledged::Done);
    for (answer, progress) in [(&answers[2], "200"), (&answers[3], "300")] {
        match answer {
            Acknowledged::NotAwaited { why } => assert!(why.contains(progress), "{why}"),
            other => panic!("an order no longer at 100 is not a refusal: {other:?}"),
        }
    }
    for o in &at_100[..2] {
        assert_eq!(back.order_progress(&o.order_id), Some(200));
        assert!(back.dates(&o.order_id).unwrap().confirmed.is_some(), "shopOrderCfmDatetime is stamped");
        assert_eq!(back.confirm_calls(&o.order_id), 1);
    }
    assert_eq!(back.order_progress(&moved_on.order_id), Some(300), "confirmOrder leaves other orders alone");

    // Read back: the order shows 200 and its 注文確認 time.
    let page = client.orders_by_id(&[at_100[0].order_id.clone()]).await.unwrap();
    assert_eq!(page.orders[0].source_status, "200");
    assert_eq!(page.orders[0].status, OrderStatus::AwaitingPayment);

    // More than one call takes is refused before any request.
    let many: Vec<Order> = std::iter::repeat_n(at_100[0].clone(), 101).collect();
    assert!(matches!(client.acknowledge(&many, ship_by).await, Err(ClientError::Rejected { .. })));
    assert_eq!(OrderSource::max_acks_per_call(&client), 100);
}

#[tokio::test]
async fn confirm_order_answers_one_message_per_order_in_the_raw() {
    let (sandbox, back) = rakuten::start_with_back_office(config(20, 3_600), rakuten::RESULT_CAP).await.unwrap();
    let new_id = sandbox.book.all().into_iter().find(|o| o.status == OrderStatus::New).unwrap().order_id;
    let url = format!("{}/es/2.0/order/confirmOrder/", sandbox.base_url());
    let auth =
        format!("ESA {}", base64::engine::general_purpose::STANDARD.encode(format!("{SERVICE_SECRET}:{LICENSE_KEY}")));
    let post = |body: Value| {
        reqwest::Client::new()
            .post(&url)
            .header("Authorization", &auth)
            .header("Content-Type", "application/json; charset=utf-8")
            .body(body.to_string())
            .send()
    };
    let reply = post(json!({"orderNumberList": [new_id, "391234-20260101-9999999999"]})).await.unwrap();
    assert_eq!(reply.status(), 200);
    let body: Value = reply.json().await.unwrap();
    let list = body["MessageModelList"].as_array().unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0]["messageCode"], "ORDER_EXT_API_CONFIRM_ORDER_INFO_101");
    assert_eq!(list[0]["message"], "注文確認に成功しました。");
    assert_eq!(list[0]["orderNumber"], new_id.as_str());
    assert_eq!(list[1]["messageType"], "ERROR");
    assert_eq!(back.order_progress(&new_id), Some(200));
    // Again: the order is no longer at 100.
    let again: Value = post(json!({"orderNumberList": [new_id]})).await.unwrap().json().await.unwrap();
    assert_eq!(again["MessageModelList"][0]["messageType"], "ERROR");
    assert_eq!(back.confirm_calls(&new_id), 2);
    // No list, or more than 100: the request itself is refused.
    assert_eq!(post(json!({})).await.unwrap().status(), 400);
    let too_many: Vec<String> = (0..101).map(|i| format!("391234-20260101-{i:010}")).collect();
    assert_eq!(post(json!({ "orderNumberList": too_many })).await.unwrap().status(), 400);
}
