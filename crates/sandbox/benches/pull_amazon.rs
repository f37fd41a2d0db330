//! Pulls 10,000 orders from the Amazon sandbox (Orders API v2026-01-01) with sandbox and client
//! both enforcing the documented usage plans, scaled by one factor F, and reports how close the
//! pull came to the allowed request rate. Run: `cargo bench -p ichigen-sandbox --bench pull_amazon`.
//!
//! searchOrders returns items, status, address, buyer, money and packages inside each order
//! (`includedData`), so the pull needs no per-order call: its cost is one searchOrders request per
//! 100 orders (plus one per 7-day sub-window tail), at 0.0056 requests a second after a burst of 20.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashSet;
use std::time::{Duration, Instant};

use chrono::{Timelike, Utc};
use ichigen_marketplaces::amazon::client::{AmazonClient, AmazonConfig, AmazonCredentials, LIMITS};
use ichigen_marketplaces::client::{HttpConfig, OrderSource, RetryPolicy, Window};
use ichigen_sandbox::amazon;
use ichigen_sandbox::{SandboxConfig, Seed};

const ORDERS: usize = 10_000;
/// searchOrders (0.0056/s, burst 20) is the only order call: ~110 requests, about 4.5 hours at
/// the real rate. F = 400 brings it to about 40 s.
const F: f64 = 400.0;

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    rt.block_on(run());
}

async fn run() {
    let now = Utc::now().fixed_offset().with_nanosecond(0).unwrap();
    let step = 600;
    let start = now - chrono::Duration::seconds(step * ORDERS as i64 * 3 / 2);
    let seed = Seed { orders: ORDERS, step_secs: step, start, ..Seed::default() };
    let started = amazon::start(SandboxConfig { seed, throttle: Some(F), ..SandboxConfig::default() }).await.unwrap();
    let mut http = HttpConfig::new(started.base_url());
    http.rate_scale = F;
    http.timeout = Duration::from_secs(10);
    http.retry = RetryPolicy { retries: 10, min_delay: Duration::from_millis(5), max_delay: Duration::from_secs(1) };
    let config = AmazonConfig { http, lwa_base_url: started.base_url(), ..AmazonConfig::new("shop-demo") };
    let creds = AmazonCredentials::new(amazon::CLIENT_ID, amazon::CLIENT_SECRET.into(), amazon::REFRESH_TOKEN.into());
    let client = AmazonClient::new(config, creds).unwrap();

    // A back-fill of the seeded months (the first order is placed right after `start`).
    let window = Window { from: start - chrono::Duration::days(1), to: now };
    let t0 = Instant::now();
    let mut cursor: Option<String> = None;
    let mut ids = Vec::with_capacity(ORDERS);
    loop {
        let page = client.changed_orders(&window, cursor.as_deref()).await.expect("pull");
        ids.extend(page.orders.into_iter().map(|o| o.order_id));
        match page.next {
            Some(n) => cursor = Some(n),
            None => break,
        }
    }
    let elapsed = t0.elapsed().as_secs_f64();

    let unique: HashSet<&String> = ids.iter().collect();
    let seeded: HashSet<String> = started.book.all().into_iter().map(|o| o.order_id).collect();
    let lost = seeded.iter().filter(|id| !unique.contains(id)).count();
    let doubled = ids.len() - unique.len();
    println!("pull_amazon: {ORDERS} orders, rate factor F = {F} (sandbox and client), Orders API v2026-01-01");
    println!("orders pulled: {} (lost {lost}, doubled {doubled})", ids.len());
    assert_eq!(lost, 0, "orders lost");
    assert_eq!(doubled, 0, "orders doubled");

    let requests = client.requests();
    let total: u64 = requests.iter().map(|(_, n)| n).sum();
    println!("requests made: {total} in {elapsed:.1} s ({:.0} orders/s)", ids.len() as f64 / elapsed);
    for (op, n) in &requests {
        let Some((_, limit)) = LIMITS.iter().find(|(o, _)| o == op) else { continue };
        let allowed = f64::from(limit.burst) + limit.per_second * F * elapsed;
        println!(
            "  {op:<16} {n:>6} requests, allowed {allowed:>8.1} ({} /s x F, burst {}): {:>5.1}% of the allowed rate",
            limit.per_second,
            limit.burst,
            100.0 * *n as f64 / allowed
        );
    }
    let (_, search) = requests.iter().find(|(o, _)| *o == "searchOrders").copied().unwrap_or(("", 0));
    let limit = LIMITS.iter().find(|(o, _)| *o == "searchOrders").map(|(_, l)| *l).unwrap();
    let allowed = f64::from(limit.burst) + limit.per_second * F * elapsed;
    println!(
        "bottleneck searchOrders: achieved {:.1}% of the allowed rate (target >= 90%); at F = 1 this pull takes {:.1} h",
        100.0 * search as f64 / allowed,
        (search as f64 - f64::from(limit.burst)).max(0.0) / limit.per_second / 3600.0
    );
}
