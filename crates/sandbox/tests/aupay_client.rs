//! The real au PAY client against the au PAY sandbox.
#![allow(clippy::unwrap_used)] // a test file: a failed unwrap is a failed test.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use chrono::{DateTime, FixedOffset, Timelike};
use ichigen_core::carrier::check_digit;
use ichigen_core::{Carrier, Marketplace, Order, OrderStatus, Tracking};
use ichigen_marketplaces::aupay::{self, AupayClient, AupayCredentials};
use ichigen_marketplaces::client::{ClientError, HttpConfig, OrderSource, RetryPolicy, Window};
use ichigen_marketplaces::{Body, NormalizeError};
use ichigen_sandbox::aupay::{
    self as aupay_sandbox, API_KEY, SEARCH_LIST_PATH, SHOP_ID, UPDATE_TRADE_INFO_PATH, start, start_counted,
};
use ichigen_sandbox::{Faults, SandboxConfig, Seed, Started};

/// Option names the client gives to gift details (the canonical order has only a gift flag).
const GIFT_OPTION_NAMES: &[&str] = &["ラッピング", "熨斗名入れ1", "熨斗名入れ2", "熨斗名入れ3", "ギフトメッセージ"];

fn jst() -> FixedOffset {
    ichigen_core::JST
}

fn seed(orders: usize, step_secs: i64, start: DateTime<FixedOffset>) -> Seed {
    Seed { orders, step_secs, start, seed: 7, ..Seed::default() }
}

fn nov1() -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339("2026-11-01T09:00:00+09:00").unwrap()
}

async fn sandbox(seed: Seed, throttle: Option<f64>, faults: Faults) -> Started {
    start(SandboxConfig { port: 0, seed, faults, throttle }).await.unwrap()
}

fn quick_retry(retries: usize) -> RetryPolicy {
    RetryPolicy { retries, min_delay: Duration::from_millis(5), max_delay: Duration::from_millis(40) }
}

fn client_with(s: &Started, key: &str, timeout: Duration, retry: RetryPolicy, rate_scale: f64) -> AupayClient {
    let config = HttpConfig { base_url: s.base_url(), timeout, retry, rate_scale };
    let creds = AupayCredentials { shop_id: SHOP_ID.into(), api_key: key.into() };
    AupayClient::new(config, "shop-demo", creds).unwrap()
}

fn client(s: &Started) -> AupayClient {
    client_with(s, API_KEY, Duration::from_secs(5), quick_retry(3), 1000.0)
}

/// A window covering every seeded order (a day either side).
fn whole(s: &Started) -> Window {
    let all = s.book.all();
    let from = all.iter().map(|o| o.ordered_at).min().unwrap() - chrono::Duration::days(1);
    let to = all.iter().map(|o| o.ordered_at).max().unwrap() + chrono::Duration::days(1);
    Window { from, to }
}

/// Follows cursors to the end; returns the orders and the number of pages (no seeded order is
/// ever set aside).
async fn pull(c: &AupayClient, w: &Window) -> Result<(Vec<Order>, usize), ClientError> {
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

fn minute(t: DateTime<FixedOffset>) -> DateTime<FixedOffset> {
    t.with_second(0).unwrap().with_nanosecond(0).unwrap()
}

/// Key fields equal the seeded order's. au PAY cannot carry: a second destination (`shipments`,
/// one `sender*` per order), requested delivery date / time slot, `source_updated_at` (no such
/// field), seconds of `ordered_at`, the time of `shipped_at` (a date), the address split (one
/// string, re-split by the client), gift details beyond a flag (they come back as options).
fn assert_same(seeded: &Order, got: &Order) {
    let id = &seeded.order_id;
    assert_eq!(got.marketplace, Marketplace::Aupay);
    assert_eq!(got.shop_id, seeded.shop_id, "{id}");
    assert_eq!(got.ordered_at, minute(seeded.ordered_at), "{id}");
    assert_eq!(got.status, seeded.status, "{id}");
    assert_eq!(got.totals, seeded.totals, "{id}");
    assert_eq!(got.payment_method, seeded.payment_method, "{id}");
    assert_eq!(got.delivery.method, seeded.delivery.method, "{id}");
    let key = ichigen_core::text::postal_code_key(&seeded.ship_to.postal_code);
    assert_eq!(Some(&got.ship_to.postal_code), key.as_ref(), "{id}");
    let addr = |o: &Order| {
        let a = &o.ship_to;
        format!("{}{}{}{}", a.prefecture, a.city, a.address1, a.address2)
    };
    assert_eq!(addr(got), addr(seeded), "{id}");
    // A buyer who typed the prefecture into the city field gets it split out again.
    if !seeded.ship_to.prefecture.is_empty() {
        assert_eq!(got.ship_to.prefecture, seeded.ship_to.prefecture, "{id}");
    }
    assert_eq!(got.ship_to.name, seeded.ship_to.name, "{id}");
    assert_eq!(got.ship_to.phone, seeded.ship_to.phone, "{id}");
    assert_eq!(got.buyer.name, seeded.buyer.name, "{id}");
    assert_eq!(got.buyer.email, seeded.buyer.email, "{id}");
    assert_eq!(got.remarks.trim(), seeded.remarks.trim(), "{id}");
    assert_eq!(got.gift, seeded.gift, "{id}");
    assert_eq!(got.items.len(), seeded.items.len(), "{id}");
    for (g, s) in got.items.iter().zip(&seeded.items) {
        assert_eq!((&g.sku, &g.name, g.quantity, g.unit_price), (&s.sku, &s.name, s.quantity, s.unit_price), "{id}");
        let opts: Vec<_> = g.options.iter().filter(|o| !GIFT_OPTION_NAMES.contains(&o.name.as_str())).collect();
        assert_eq!(opts, s.options.iter().collect::<Vec<_>>(), "{id}");
    }
    assert_eq!(got.tracking.len(), seeded.tracking.len().min(1), "{id}");
    if let (Some(g), Some(s)) = (got.tracking.first(), seeded.tracking.first()) {
        assert_eq!((g.carrier, &g.number), (s.carrier, &s.number), "{id}");
        let day = |t: &Tracking| t.shipped_at.map(|d| d.with_timezone(&jst()).date_naive());
        assert_eq!(day(g), day(s), "{id}");
    }
}

#[tokio::test]
async fn a_pull_crosses_pages_and_window_splits_and_returns_every_order_once() {
    // 400 orders 3 h apart: 50 days, so two 30-day sub-windows; pages of 40. All in the past: a
    // sandbox shows no order before its time.
    let start = chrono::Utc::now().fixed_offset() - chrono::Duration::days(55);
    let s = sandbox(seed(400, 3 * 3600, start), None, Faults::default()).await;
    let c = client(&s).with_page_size(40).with_lookback(chrono::Duration::zero());
    let w = whole(&s);
    assert!((w.to - w.from).num_days() > 30, "the window must need a split");
    let (orders, pages) = pull(&c, &w).await.unwrap();
    assert!(pages > 10, "{pages} pages");
    let got = by_id(orders);
    let seeded = s.book.all();
    assert_eq!(got.len(), seeded.len());
    for o in &seeded {
        assert_same(o, got.get(&o.order_id).unwrap_or_else(|| panic!("{} missing", o.order_id)));
    }
    // The seed has what must survive the trip.
    assert!(seeded.iter().any(|o| o.status == OrderStatus::Shipped && !o.tracking.is_empty()));
    assert!(seeded.iter().any(|o| o.status == OrderStatus::Cancelled));
    assert!(seeded.iter().any(|o| o.items.len() > 1) && seeded.iter().any(|o| o.gift));
    assert!(seeded.iter().any(|o| !o.remarks.is_empty()));
}

#[tokio::test]
async fn a_pull_resumes_from_a_cursor_and_cuts_partial_days_to_the_window() {
    let s = sandbox(seed(120, 3 * 3600, nov1()), None, Faults::default()).await;
    let c = client(&s).with_page_size(25).with_lookback(chrono::Duration::zero());
    let all = s.book.all();
    // A window starting and ending inside days (the API's times are whole minutes: an order at
    // 10:00:30 reads as 10:00 and belongs to the window holding 10:00).
    let w = Window { from: all[10].ordered_at, to: all[100].ordered_at };
    let first = c.changed_orders(&w, None).await.unwrap();
    let cursor = first.next.clone().unwrap();
    // A new client (a new run) resumes from the stored cursor.
    let c2 = client(&s).with_page_size(25).with_lookback(chrono::Duration::zero());
    let (rest, _) = {
        let mut orders = Vec::new();
        let mut cur = Some(cursor);
        let mut pages = 0;
        while let Some(k) = cur {
            let p = c2.changed_orders(&w, Some(&k)).await.unwrap();
            orders.extend(p.orders);
            cur = p.next;
            pages += 1;
        }
        (orders, pages)
    };
    let got = by_id(first.orders.into_iter().chain(rest).collect());
    let want: Vec<&Order> =
        all.iter().filter(|o| minute(o.ordered_at) >= w.from && minute(o.ordered_at) < w.to).collect();
    assert_eq!(got.len(), want.len());
    assert!(want.iter().all(|o| got.contains_key(&o.order_id)));
    let bad = c.changed_orders(&w, Some("v1.19990101.1")).await.unwrap_err();
    assert!(matches!(bad, ClientError::Rejected { .. }), "{bad:?}");
}

#[tokio::test]
async fn wrong_credentials_are_an_auth_error_and_not_retried() {
    let s = sandbox(seed(10, 3600, nov1()), None, Faults::default()).await;
    let slow_retry = RetryPolicy { retries: 5, min_delay: Duration::from_secs(2), max_delay: Duration::from_secs(2) };
    let c = client_with(&s, "wrong-key", Duration::from_secs(5), slow_retry, 1000.0);
    let started = Instant::now();
    let err = c.changed_orders(&whole(&s), None).await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(1), "retried: {:?}", started.elapsed());
    match &err {
        ClientError::Auth { code, operation, .. } => {
            assert_eq!(code, "0002");
            assert_eq!(*operation, "searchTradeInfoListProc");
        }
        other => panic!("{other:?}"),
    }
    assert!(!err.is_retryable());
    assert!(!format!("{err} {err:?}").contains("wrong-key"), "the key leaked into the error");
    // The sandbox's own answer: 401 with the API's envelope.
    let r = reqwest::Client::new()
        .get(format!("{}{SEARCH_LIST_PATH}?shopId={SHOP_ID}&startDate=20261101&endDate=20261102", s.base_url()))
        .header("Authorization", format!("Bearer  {API_KEY}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401, "a stray space fails as on the real API");
    assert!(r.text().await.unwrap().contains("<code>0002</code>"));
}

#[tokio::test]
async fn sandbox_enforces_window_paging_and_shop_rules() {
    let s = sandbox(seed(10, 3600, nov1()), None, Faults::default()).await;
    let http = reqwest::Client::new();
    let get = |q: String| {
        http.get(format!("{}{SEARCH_LIST_PATH}?{q}", s.base_url()))
            .header("Authorization", format!("Bearer {API_KEY}"))
            .send()
    };
    for q in [
        format!("shopId={SHOP_ID}&startDate=20261101&endDate=20261201"),
        format!("shopId={SHOP_ID}&startDate=20261101&endDate=20261102&totalCount=1001"),
        format!("shopId={SHOP_ID}&startDate=20261101&endDate=20261102&startCount=0"),
        format!("shopId={SHOP_ID}&startDate=20261105&endDate=20261102"),
        "shopId=99999999&startDate=20261101&endDate=20261102".to_string(),
        "startDate=20261101&endDate=20261102".to_string(),
    ] {
        let r = get(q.clone()).await.unwrap();
        assert_eq!(r.status(), 400, "{q}");
        let body = r.text().await.unwrap();
        assert!(body.contains("<status>1</status>") && body.contains("<code>CME0022</code>"), "{q}: {body}");
    }
    // 30 days inclusive is allowed; no hits is status 0 with resultCount 0.
    let r = get(format!("shopId={SHOP_ID}&startDate=2026-12-01&endDate=2026-12-30")).await.unwrap();
    assert_eq!(r.status(), 200);
    let body = r.text().await.unwrap();
    assert!(body.contains("<status>0</status>") && body.contains("<resultCount>0</resultCount>"), "{body}");
}

#[tokio::test]
async fn throttle_answers_are_retried_and_the_pull_succeeds() {
    // Sandbox at 20 requests/s (scaled), client 50 times looser.
    let s = sandbox(seed(200, 3 * 3600, nov1()), Some(20.0), Faults::default()).await;
    let http = reqwest::Client::new();
    let url = format!("{}{SEARCH_LIST_PATH}?shopId={SHOP_ID}&startDate=20261101&endDate=20261102", s.base_url());
    let mut throttled = None;
    for _ in 0..10 {
        let r = http.get(&url).header("Authorization", format!("Bearer {API_KEY}")).send().await.unwrap();
        if r.status() == 429 {
            throttled = Some((r.headers().get("retry-after").is_some(), r.text().await.unwrap()));
            break;
        }
    }
    let (has_retry_after, body) = throttled.expect("a burst is throttled");
    assert!(has_retry_after && body.contains("<status>1</status>"));
    let c = client_with(&s, API_KEY, Duration::from_secs(5), quick_retry(20), 1000.0)
        .with_page_size(10)
        .with_lookback(chrono::Duration::zero());
    let (orders, pages) = pull(&c, &whole(&s)).await.unwrap();
    assert!(pages >= 20);
    assert_eq!(by_id(orders).len(), 200);
}

#[tokio::test]
async fn server_errors_and_hangs_are_retried_and_run_out_as_retryable() {
    let faults = Faults { error_rate: 0.3, timeout_rate: 0.15, hang: Duration::from_secs(3), ..Faults::default() };
    let s = sandbox(seed(150, 3 * 3600, nov1()), None, faults).await;
    let c = client_with(&s, API_KEY, Duration::from_millis(250), quick_retry(12), 1000.0)
        .with_page_size(15)
        .with_lookback(chrono::Duration::zero());
    let (orders, _) = pull(&c, &whole(&s)).await.unwrap();
    assert_eq!(by_id(orders).len(), 150);

    s.faults.set(Faults { error_rate: 1.0, ..Faults::default() });
    let c = client_with(&s, API_KEY, Duration::from_millis(250), quick_retry(2), 1000.0);
    let err = c.changed_orders(&whole(&s), None).await.unwrap_err();
    assert!(matches!(err, ClientError::Server { status: 503, .. }) && err.is_retryable(), "{err:?}");

    s.faults.set(Faults { timeout_rate: 1.0, hang: Duration::from_secs(3), ..Faults::default() });
    let started = Instant::now();
    let err = c.changed_orders(&whole(&s), None).await.unwrap_err();
    assert!(matches!(err, ClientError::Transport { timeout: true, .. }) && err.is_retryable(), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn malformed_bodies_are_permanent_and_name_marketplace_and_operation() {
    let s = sandbox(seed(30, 3600, nov1()), None, Faults { malformed_rate: 1.0, ..Faults::default() }).await;
    let c = client(&s);
    let err = c.changed_orders(&whole(&s), None).await.unwrap_err();
    assert!(!err.is_retryable());
    match &err {
        ClientError::Malformed(NormalizeError::Malformed { marketplace, operation, .. }) => {
            assert_eq!(*marketplace, Marketplace::Aupay);
            assert_eq!(operation, "searchTradeInfoListProc");
        }
        other => panic!("{other:?}"),
    }
    let order = s.book.all().into_iter().find(|o| o.status != OrderStatus::Shipped).unwrap();
    let err = c.register_tracking(&order, &yamato(1)).await.unwrap_err();
    match &err {
        ClientError::Malformed(NormalizeError::Malformed { marketplace, operation, .. }) => {
            assert_eq!(*marketplace, Marketplace::Aupay);
            assert_eq!(operation, "updateTradeInfoProc");
        }
        other => panic!("{other:?}"),
    }
}

fn yamato(n: u64) -> Tracking {
    let first11 = format!("{:011}", 40_000_000_000u64 + n);
    let number = format!("{first11}{}", check_digit(&first11).unwrap());
    Tracking {
        carrier: Carrier::Yamato,
        number,
        shipped_at: Some(chrono::Utc::now().with_timezone(&jst())),
        shipment_id: None,
    }
}

#[tokio::test]
async fn tracking_write_back_shows_in_the_next_window() {
    let now = chrono::Utc::now().with_timezone(&jst());
    let s = sandbox(seed(40, 3600, now - chrono::Duration::days(3)), None, Faults::default()).await;
    let c = client(&s);
    let (orders, _) = pull(&c, &Window { from: now - chrono::Duration::days(4), to: now }).await.unwrap();
    let order = orders.iter().find(|o| o.status.is_open()).unwrap().clone();
    assert!(order.tracking.is_empty());

    let bad = Tracking { number: "1234-5678-9012".into(), ..yamato(0) };
    assert!(matches!(c.register_tracking(&order, &bad).await, Err(ClientError::Rejected { .. })));

    let tracking = yamato(5);
    c.register_tracking(&order, &tracking).await.unwrap();

    // The next window (the last minute) still re-polls the order dates of the lookback.
    let later = chrono::Utc::now().with_timezone(&jst());
    let (next, _) =
        pull(&c, &Window { from: later - chrono::Duration::minutes(1), to: later + chrono::Duration::minutes(1) })
            .await
            .unwrap();
    let got = next.iter().find(|o| o.order_id == order.order_id).unwrap();
    assert_eq!(got.status, OrderStatus::Shipped);
    assert_eq!(got.tracking.len(), 1);
    assert_eq!((got.tracking[0].carrier, got.tracking[0].number.as_str()), (Carrier::Yamato, tracking.number.as_str()));

    // A wrapped body is refused the way the real API refuses it.
    let wrapped = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><request><updateTradeInfo><shopId>{SHOP_ID}</shopId>\
         <orderId>{}</orderId><shippingDate>2026/11/20</shippingDate><shippingCarrier>1</shippingCarrier>\
         <shippingNumber>{}</shippingNumber></updateTradeInfo></request>",
        order.order_id, tracking.number
    );
    let r = reqwest::Client::new()
        .post(format!("{}{UPDATE_TRADE_INFO_PATH}", s.base_url()))
        .header("Authorization", format!("Bearer {API_KEY}"))
        .header("Content-Type", "application/xml; charset=utf-8")
        .body(wrapped)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("必須入力項目です"));
}

#[tokio::test]
async fn normalize_reads_the_sandbox_bodies_as_the_client_does() {
    let s = sandbox(seed(60, 3600, nov1()), None, Faults::default()).await;
    let body = reqwest::Client::new()
        .get(format!(
            "{}{SEARCH_LIST_PATH}?shopId={SHOP_ID}&startDate=20261101&endDate=20261104&dateType=0&totalCount=1000&startCount=1",
            s.base_url()
        ))
        .header("Authorization", format!("Bearer {API_KEY}"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let normalized = aupay::normalize("shop-demo", &[Body { name: "sandbox".into(), text: body }]).unwrap();
    assert_eq!(normalized.len(), 60);
    let from = DateTime::parse_from_rfc3339("2026-11-01T00:00:00+09:00").unwrap();
    let to = DateTime::parse_from_rfc3339("2026-11-05T00:00:00+09:00").unwrap();
    let c = client(&s).with_lookback(chrono::Duration::zero());
    let (pulled, _) = pull(&c, &Window { from, to }).await.unwrap();
    assert_eq!(normalized, pulled);
}

fn now_jst() -> DateTime<FixedOffset> {
    chrono::Utc::now().with_timezone(&jst())
}

#[tokio::test]
async fn changes_of_orders_placed_before_the_lookback_are_read_by_id() {
    // Orders placed 40 days ago: outside the client's 14-day re-poll of order dates.
    let now = now_jst();
    let (s, requests) = start_counted(SandboxConfig {
        port: 0,
        seed: seed(60, 3600, now - chrono::Duration::days(40)),
        faults: Faults::default(),
        throttle: None,
    })
    .await
    .unwrap();
    let c = client(&s);
    let all = s.book.all();
    let pick = |status: OrderStatus, skip: &[String]| {
        all.iter().find(|o| o.status == status && !skip.contains(&o.order_id)).map(|o| o.order_id.clone()).unwrap()
    };
    let unpaid = pick(OrderStatus::AwaitingPayment, &[]);
    let new = pick(OrderStatus::New, &[]);
    let to_ship = pick(OrderStatus::ReadyToShip, &[]);
    let to_cancel = pick(OrderStatus::ReadyToShip, std::slice::from_ref(&to_ship));
    let stored: HashMap<String, Order> = all.iter().map(|o| (o.order_id.clone(), o.clone())).collect();

    let changed_from = now_jst();
    aupay_sandbox::confirm_payment(&s.book, &unpaid).unwrap();
    aupay_sandbox::mark_ready_to_ship(&s.book, &new).unwrap();
    let number = format!("12345678901{}", check_digit("12345678901").unwrap());
    let shipped_at = now - chrono::Duration::days(1);
    let tracking =
        Tracking { carrier: Carrier::Yamato, number: number.clone(), shipped_at: Some(shipped_at), shipment_id: None };
    aupay_sandbox::ship(&s.book, &to_ship, tracking).unwrap();
    aupay_sandbox::cancel(&s.book, &to_cancel).unwrap();
    assert!(aupay_sandbox::confirm_payment(&s.book, &to_cancel).is_none(), "only an unpaid order can be paid");

    // The search cannot see them: it filters on order dates only.
    let w = Window { from: changed_from, to: now_jst() + chrono::Duration::minutes(1) };
    let (found, _) = pull(&c, &w).await.unwrap();
    for id in [&unpaid, &new, &to_ship, &to_cancel] {
        assert!(found.iter().all(|o| &o.order_id != id), "{id} is outside the re-polled order dates");
    }

    // By id, in one pull: each change. A repeated id is read once; an unknown or non-numeric id
    // is reported missing.
    let before = requests.load(std::sync::atomic::Ordering::Relaxed);
    let ids = vec![unpaid.clone(), new.clone(), to_ship.clone(), to_cancel.clone(), "999999999".into(), "x-1".into()];
    let ids = [ids.clone(), vec![new.clone()]].concat();
    let page = c.orders_by_id(&ids).await.unwrap();
    let missing = page.missing.clone();
    assert_eq!(AupayClient::MAX_IDS_PER_CALL, 1);
    assert_eq!(missing, vec!["999999999".to_string(), "x-1".to_string()]);
    assert!(page.rejected.is_empty() && page.next.is_none());
    assert_eq!(requests.load(std::sync::atomic::Ordering::Relaxed) - before, 5, "one call per distinct numeric id");
    let got = by_id(page.orders);
    assert_eq!(got.len(), 4);
    for (id, want, label) in [
        (&unpaid, OrderStatus::ReadyToShip, "発送待ち"),
        (&new, OrderStatus::ReadyToShip, "発送待ち"),
        (&to_ship, OrderStatus::Shipped, "完了"),
        (&to_cancel, OrderStatus::Cancelled, "キャンセル"),
    ] {
        let o = &got[id];
        assert_eq!((o.status, o.source_status.as_str()), (want, label), "{id}");
        assert_eq!(o.ordered_at, minute(stored[id].ordered_at), "{id}: orderDate stays");
    }
    // No update time: a status change moves nothing; the registered shipping date does.
    assert_eq!(got[&unpaid].source_updated_at, got[&unpaid].ordered_at);
    assert_eq!(got[&to_cancel].source_updated_at, got[&to_cancel].ordered_at);
    let t = &got[&to_ship].tracking;
    assert_eq!(t.len(), 1);
    assert_eq!((t[0].carrier, t[0].number.as_str()), (Carrier::Yamato, number.as_str()));
    assert_eq!(t[0].shipped_at.map(|d| d.date_naive()), Some(shipped_at.date_naive()));
    assert!(got[&to_ship].source_updated_at > got[&to_ship].ordered_at);
}

#[tokio::test]
async fn orders_by_id_keeps_to_the_shared_limit_and_sets_broken_orders_aside() {
    // Sandbox and client both at the documented 1/s per shop × 20; no retries, so a refusal fails.
    let s = sandbox(seed(12, 3600, nov1()), Some(20.0), Faults::default()).await;
    let c = client_with(&s, API_KEY, Duration::from_secs(5), quick_retry(0), 20.0);
    let ids: Vec<String> = s.book.all().iter().map(|o| o.order_id.clone()).collect();
    let t = Instant::now();
    let page = c.orders_by_id(&ids).await.unwrap();
    let missing = page.missing.clone();
    assert_eq!((page.orders.len(), missing.len()), (12, 0));
    assert!(t.elapsed() >= Duration::from_millis(500), "12 calls at 20/s: {:?}", t.elapsed());

    s.faults.set(Faults { corrupt_orders: vec![ids[2].clone()], ..Faults::default() });
    let page = c.orders_by_id(&ids[..4]).await.unwrap();
    assert_eq!(page.orders.len(), 3);
    assert_eq!(page.rejected.len(), 1);
    assert_eq!(page.rejected[0].order_id.as_deref(), Some(ids[2].as_str()));

    // The API's error envelope is an error of the call, naming the operation.
    let wrong = client_with(&s, "wrong-key", Duration::from_secs(5), quick_retry(0), 20.0);
    let e = wrong.orders_by_id(&ids[..1]).await.unwrap_err();
    assert!(matches!(&e, ClientError::Auth { operation: "searchTradeInfoProc", .. }), "{e}");
}

/// A `shippingCarrier` outside the sheet's code list (§7: 1, 2, 4, 5, 6, 7, 9) is refused as the
/// API refuses a bad parameter (§9: `status` 1, `CME0022`, a 「[field]…」 message), HTTP 400, and the
/// order stays without a number.
#[tokio::test]
async fn a_wrong_carrier_code_is_refused_as_a_bad_parameter() {
    let s = sandbox(seed(10, 3600, nov1()), None, Faults::default()).await;
    let order = s.book.all().into_iter().find(|o| o.status.is_open()).unwrap();
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><request><shopId>{SHOP_ID}</shopId><orderId>{}</orderId>\
         <shippingDate>2026/11/30</shippingDate><shippingCarrier>3</shippingCarrier>\
         <shippingNumber>123456789012</shippingNumber></request>",
        order.order_id
    );
    let r = reqwest::Client::new()
        .post(format!("{}{UPDATE_TRADE_INFO_PATH}", s.base_url()))
        .header("Authorization", format!("Bearer {API_KEY}"))
        .header("Content-Type", "application/xml; charset=utf-8")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let text = r.text().await.unwrap();
    assert!(text.contains("<status>1</status>") && text.contains("CME0022"), "{text}");
    assert!(text.contains("[shippingCarrier]"), "{text}");
    assert!(s.book.get(&order.order_id).unwrap().tracking.is_empty(), "nothing written");
}
