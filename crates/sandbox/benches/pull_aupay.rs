//! Pulls 10,000 orders from the au PAY sandbox with the real client, both enforcing the
//! documented limits, and reports how close the pull runs to the allowed request rate.
//!
//! `cargo bench -p ichigen-sandbox --bench pull_aupay`
#![allow(clippy::unwrap_used, clippy::expect_used)] // a bench: a failure is a failed run.

use std::collections::HashSet;
use std::sync::atomic::Ordering;
use std::time::Instant;

use ichigen_marketplaces::aupay::client::{LIMITS, SEARCH_LIST, SHARED_LIMIT};
use ichigen_marketplaces::aupay::{AupayClient, AupayCredentials};
use ichigen_marketplaces::client::{HttpConfig, OrderSource, Window};
use ichigen_sandbox::aupay::{API_KEY, SHOP_ID, start_counted};
use ichigen_sandbox::{Faults, SandboxConfig, Seed};

const ORDERS: usize = 10_000;
/// Stored open orders re-read by id (one call each).
const BY_ID: usize = 500;
/// Scale of the by-id part: 500 calls at 1/s would take over 8 minutes.
const F_BY_ID: f64 = 50.0;

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    rt.block_on(run());
}

async fn run() {
    let limit = LIMITS.iter().find(|(op, _)| *op == SEARCH_LIST).map(|&(_, l)| l).expect("search limit");
    let seed = Seed { orders: ORDERS, ..Seed::default() };
    // Pages of 1000 over 30-day windows: about 12 requests at 1/s, well under a minute, so the
    // real limits are kept (F = 1).
    let f = 1.0;
    let (sandbox, requests) =
        start_counted(SandboxConfig { port: 0, seed, faults: Faults::default(), throttle: Some(f) })
            .await
            .expect("sandbox");
    let all = sandbox.book.all();
    let from = all.iter().map(|o| o.ordered_at).min().expect("orders") - chrono::Duration::days(1);
    let to = all.iter().map(|o| o.ordered_at).max().expect("orders") + chrono::Duration::days(1);
    let window = Window { from, to };

    let mut config = HttpConfig::new(sandbox.base_url());
    config.rate_scale = f;
    let creds = AupayCredentials { shop_id: SHOP_ID.into(), api_key: API_KEY.into() };
    let client = AupayClient::new(config, "shop-demo", creds).expect("client").with_lookback(chrono::Duration::zero());

    let started = Instant::now();
    let mut seen = HashSet::new();
    let mut doubled = 0usize;
    let mut cursor: Option<String> = None;
    let mut pages = 0usize;
    loop {
        let page = client.changed_orders(&window, cursor.as_deref()).await.expect("page");
        pages += 1;
        for o in page.orders {
            if !seen.insert(o.order_id) {
                doubled += 1;
            }
        }
        match page.next {
            Some(n) => cursor = Some(n),
            None => break,
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    let lost = all.iter().filter(|o| !seen.contains(&o.order_id)).count();
    assert_eq!((lost, doubled), (0, 0), "lost / doubled orders");
    assert_eq!(seen.len(), ORDERS);

    let made = requests.load(Ordering::Relaxed);
    let rate = limit.per_second * f;
    let allowed = f64::from(limit.burst) + rate * elapsed;
    println!("au PAY pull: {ORDERS} orders, scale F = {f}");
    println!("  limit: {} req/s, burst {} (searchTradeInfoListProc, unverified)", limit.per_second, limit.burst);
    println!("  requests made: {made} ({pages} pages)");
    println!("  elapsed: {elapsed:.2} s");
    println!(
        "  achieved rate: {:.3} req/s; allowed over that time: {allowed:.1} requests; achieved {:.1}% of allowed",
        made as f64 / elapsed,
        100.0 * made as f64 / allowed
    );
    println!("  orders/s: {:.0}", ORDERS as f64 / elapsed);
    println!("  lost: {lost}, doubled: {doubled}");

    // Re-reading stored open orders by id: one searchTradeInfoProc call each, at the shop's
    // shared 1/s × F_BY_ID (a fresh sandbox at that scale).
    let (sandbox, requests) = start_counted(SandboxConfig {
        port: 0,
        seed: Seed { orders: BY_ID, ..Seed::default() },
        faults: Faults::default(),
        throttle: Some(F_BY_ID),
    })
    .await
    .expect("sandbox");
    let mut config = HttpConfig::new(sandbox.base_url());
    config.rate_scale = F_BY_ID;
    let creds = AupayCredentials { shop_id: SHOP_ID.into(), api_key: API_KEY.into() };
    let client = AupayClient::new(config, "shop-demo", creds).expect("client");
    let ids: Vec<String> = sandbox.book.all().into_iter().map(|o| o.order_id).collect();
    let started = Instant::now();
    let mut read = HashSet::new();
    let mut returned = 0usize;
    for chunk in ids.chunks(AupayClient::MAX_IDS_PER_CALL) {
        let page = client.orders_by_id(chunk).await.expect("orders by id");
        let missing = page.missing.clone();
        assert!(missing.is_empty(), "missing ids: {missing:?}");
        returned += page.orders.len();
        read.extend(page.orders.into_iter().map(|o| o.order_id));
    }
    let elapsed = started.elapsed().as_secs_f64();
    let lost = ids.iter().filter(|id| !read.contains(*id)).count();
    assert_eq!((lost, returned - read.len()), (0, 0), "lost / doubled orders by id");
    let made = requests.load(Ordering::Relaxed);
    let allowed = f64::from(SHARED_LIMIT.burst) + SHARED_LIMIT.per_second * F_BY_ID * elapsed;
    println!("au PAY orders_by_id: {BY_ID} ids, scale F = {F_BY_ID}");
    println!(
        "  requests made: {made} searchTradeInfoProc ({} id per call), elapsed {elapsed:.2} s, achieved {:.1}% of allowed",
        AupayClient::MAX_IDS_PER_CALL,
        100.0 * made as f64 / allowed
    );
    println!("  lost: 0, doubled: 0");
}
