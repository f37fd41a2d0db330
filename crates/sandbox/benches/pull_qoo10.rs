//! Pulls 10,000 Qoo10 orders from the sandbox with the client, both enforcing the documented
//! limits (1 request/second per operation, burst 1; unverified), and reports how close the pull
//! comes to the allowed request rate.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashSet;
use std::time::{Duration, Instant};

use ichigen_core::Marketplace;
use ichigen_marketplaces::client::{HttpConfig, OrderSource, RetryPolicy, Window};
use ichigen_marketplaces::qoo10::client::{LIMITS, OP_SEARCH};
use ichigen_marketplaces::qoo10::{Qoo10Client, Qoo10Credentials};
use ichigen_sandbox::{SandboxConfig, Seed};

const ORDERS: usize = 10_000;

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio runtime");
    rt.block_on(run());
}

async fn run() {
    // 10,000 orders 10 minutes apart: 69 days, 10 seven-day sub-windows x 5 status searches, about
    // 50 searches: under a minute at the real 1 request/second, so F = 1.
    let factor = 1.0;
    let seed = Seed { orders: ORDERS, step_secs: 600, ..Seed::default() };
    let config = SandboxConfig { seed, throttle: Some(factor), ..SandboxConfig::default() };
    let sandbox = ichigen_sandbox::qoo10::start(config).await.expect("sandbox starts");
    let cred = |n: &str| sandbox.credentials.iter().find(|(k, _)| *k == n).map(|(_, v)| v.clone()).unwrap();
    let http = HttpConfig {
        base_url: sandbox.base_url(),
        timeout: Duration::from_secs(30),
        retry: RetryPolicy { retries: 8, min_delay: Duration::from_millis(50), max_delay: Duration::from_secs(2) },
        rate_scale: factor,
    };
    let creds = Qoo10Credentials::new(cred("api_key"), cred("user_id"), cred("password"));
    let client = Qoo10Client::new(http, creds, "shop-demo").unwrap();

    let all = sandbox.book.all();
    let from = all.iter().map(|o| o.ordered_at).min().unwrap() - chrono::Duration::hours(1);
    let to = all.iter().map(|o| o.ordered_at).max().unwrap() + chrono::Duration::days(2);
    let window = Window { from, to };

    let start = Instant::now();
    let (mut seen, mut got, mut pages, mut cursor) = (HashSet::new(), 0usize, 0usize, None::<String>);
    loop {
        let page = client.changed_orders(&window, cursor.as_deref()).await.expect("pull succeeds");
        pages += 1;
        for o in page.orders {
            assert_eq!(o.marketplace, Marketplace::Qoo10);
            assert!(seen.insert(o.order_id), "an order came back twice");
            got += 1;
        }
        match page.next {
            Some(n) => cursor = Some(n),
            None => break,
        }
    }
    let elapsed = start.elapsed().as_secs_f64();
    let expected: HashSet<String> = all.iter().map(|o| o.order_id.clone()).collect();
    assert_eq!(seen, expected, "orders lost");
    assert_eq!(got, ORDERS);

    let requests = client.requests_sent();
    // One CreateCertificationKey; the rest are searches (retries after a throttle answer included).
    let searches = requests - 1;
    let limit = LIMITS.iter().find(|(op, _)| *op == OP_SEARCH).map(|(_, l)| *l).unwrap();
    let allowed = f64::from(limit.burst) + limit.per_second * factor * elapsed;
    println!("qoo10 pull: {ORDERS} orders, F = {factor}");
    println!("requests made: {requests} ({searches} GetShippingInfo_v2 attempts, {pages} pages, 1 certification)");
    println!("elapsed: {elapsed:.2} s");
    println!(
        "search rate: {:.3} req/s achieved ({searches} attempts) vs {:.3} req/s allowed ({} burst + {}/s x F over {elapsed:.2} s) = {:.1} % (pages only, excluding throttled attempts and cap re-searches: {:.1} %)",
        searches as f64 / elapsed,
        allowed / elapsed,
        limit.burst,
        limit.per_second,
        100.0 * searches as f64 / allowed,
        100.0 * pages as f64 / allowed
    );
    println!("orders/s: {:.1}", ORDERS as f64 / elapsed);
    println!("lost: 0, doubled: 0");
}
