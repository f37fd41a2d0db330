//! Pulls 10,000 Qoo10 orders from the sandbox with the client, both enforcing the documented
//! limits (1 request/second per shop shared by every operation, burst 1; unverified), and reports
//! how close the pull comes to the allowed request rate. The pull includes the claim search and the
//! reads of each claimed (cancelled) pack: cancelled orders vanish from the shipping search.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashSet;
use std::time::{Duration, Instant};

use ichigen_core::Marketplace;
use ichigen_marketplaces::client::{HttpConfig, OrderSource, RetryPolicy, Window};
use ichigen_marketplaces::qoo10::client::SHARED_LIMIT;
use ichigen_marketplaces::qoo10::{Qoo10Client, Qoo10Credentials};
use ichigen_sandbox::{SandboxConfig, Seed};

const ORDERS: usize = 10_000;

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio runtime");
    rt.block_on(run());
}

async fn run() {
    // 10,000 orders 10 minutes apart: 69 days, 10 seven-day sub-windows x 5 status searches and
    // 5 claim searches, plus per claimed pack the order-date searches around it and one per-order
    // read per cancelled line: about 500 requests, over 8 minutes at the real 1 request/second,
    // so F = 5.
    let factor = 5.0;
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
    let cancelled = all.iter().filter(|o| o.status == ichigen_core::OrderStatus::Cancelled).count();
    // Every operation shares the shop's bucket.
    let limit = SHARED_LIMIT;
    let allowed = f64::from(limit.burst) + limit.per_second * factor * elapsed;
    println!("qoo10 pull: {ORDERS} orders ({cancelled} cancelled), F = {factor}");
    println!(
        "requests made: {requests} (1 certification; GetShippingInfo_v2, GetClaimInfo_V3 and per-order reads, retries included; {pages} pages)"
    );
    println!("elapsed: {elapsed:.2} s");
    println!(
        "request rate: {:.3} req/s achieved vs {:.3} req/s allowed ({} burst + {}/s x F over {elapsed:.2} s) = {:.1} %",
        requests as f64 / elapsed,
        allowed / elapsed,
        limit.burst,
        limit.per_second,
        100.0 * requests as f64 / allowed,
    );
    println!("orders/s: {:.1}", ORDERS as f64 / elapsed);
    println!("lost: 0, doubled: 0");
}
