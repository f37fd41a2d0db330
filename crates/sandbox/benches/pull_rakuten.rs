//! Pulls 10,000 orders from the Rakuten sandbox with the real client, both sides enforcing the
//! documented limits (scaled by one factor F), and reports how close the pull runs to the limit.
//!
//! `cargo bench -p ichigen-sandbox --bench pull_rakuten`

use std::collections::HashSet;
use std::error::Error;
use std::time::{Duration, Instant};

use chrono::DateTime;
use ichigen_marketplaces::client::{HttpConfig, OrderSource, RetryPolicy, Window};
use ichigen_marketplaces::rakuten::RakutenClient;
use ichigen_marketplaces::rakuten::client::{LIMITS, SHARED_LIMIT, SecretString};
use ichigen_sandbox::rakuten::{self, LICENSE_KEY, SERVICE_SECRET};
use ichigen_sandbox::{Faults, SandboxConfig, Seed};

const ORDERS: usize = 10_000;
/// Time runs this many times faster for client and sandbox alike: at the real 1 request/second,
/// the ~120 requests would take two minutes.
const F: f64 = 4.0;

fn main() -> Result<(), Box<dyn Error>> {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    rt.block_on(run())
}

async fn run() -> Result<(), Box<dyn Error>> {
    let start = DateTime::parse_from_rfc3339("2026-06-01T00:00:00+09:00")?;
    // One order every 15 minutes on average: ~104 days, so two 63-day windows.
    let seed = Seed { orders: ORDERS, seed: 3, start, step_secs: 900, shop_id: "shop-bench".into() };
    let sandbox = rakuten::start(SandboxConfig { port: 0, seed, faults: Faults::default(), throttle: Some(F) }).await?;
    let config = HttpConfig {
        retry: RetryPolicy { retries: 8, min_delay: Duration::from_millis(10), max_delay: Duration::from_secs(1) },
        rate_scale: F,
        ..HttpConfig::new(sandbox.base_url())
    };
    let client = RakutenClient::new(
        config,
        "shop-bench",
        &SecretString::from(SERVICE_SECRET),
        &SecretString::from(LICENSE_KEY),
    )?;
    let window = Window { from: start, to: DateTime::parse_from_rfc3339("2026-10-01T00:00:00+09:00")? };

    let before = rakuten::request_counts();
    let began = Instant::now();
    let mut ids = HashSet::new();
    let mut doubled = 0usize;
    let mut cursor: Option<String> = None;
    loop {
        let page = client.changed_orders(&window, cursor.as_deref()).await?;
        for o in page.orders {
            if !ids.insert(o.order_id) {
                doubled += 1;
            }
        }
        match page.next {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    let elapsed = began.elapsed().as_secs_f64();
    let after = rakuten::request_counts();

    let book: HashSet<String> = sandbox.book.all().into_iter().map(|o| o.order_id).collect();
    let lost = book.difference(&ids).count();
    let extra = ids.difference(&book).count();
    println!("rakuten pull: {ORDERS} orders seeded, F = {F} (limits ×{F} on client and sandbox)");
    println!("orders pulled {}, lost {lost}, doubled {doubled}, unknown {extra}", ids.len());
    let mut total = 0;
    let mut bottleneck = (0.0f64, "");
    for (b, a) in before.iter().zip(&after) {
        let received = a.received - b.received;
        let throttled = a.throttled - b.throttled;
        let admitted = received - throttled;
        total += received;
        let Some(limit) = LIMITS.iter().find(|(op, _)| *op == a.operation).map(|(_, l)| *l) else { continue };
        let allowed = f64::from(limit.burst) + limit.per_second * F * elapsed;
        let share = admitted as f64 / allowed * 100.0;
        if received > 0 {
            println!(
                "  {:<20} requests {received:>4} (throttled {throttled}), admitted {:>6.2}/s of allowed {:>6.2}/s over {elapsed:.1} s = {share:.1}%",
                a.operation,
                admitted as f64 / elapsed,
                allowed / elapsed,
            );
        }
        if share > bottleneck.0 {
            bottleneck = (share, a.operation);
        }
    }
    println!("requests made {total}, elapsed {elapsed:.2} s, {:.2} requests/s", total as f64 / elapsed);
    println!("busiest operation {}: {:.1}% of its own allowance", bottleneck.1, bottleneck.0);
    // The license's shared limit binds: every operation draws from it.
    let admitted_all: u64 =
        before.iter().zip(&after).map(|(b, a)| (a.received - b.received) - (a.throttled - b.throttled)).sum();
    let allowed_all = f64::from(SHARED_LIMIT.burst) + SHARED_LIMIT.per_second * F * elapsed;
    println!(
        "achieved rate against the license's shared limit ({}/s x F): {:.2}/s of {:.2}/s = {:.1}% of allowed",
        SHARED_LIMIT.per_second,
        admitted_all as f64 / elapsed,
        allowed_all / elapsed,
        admitted_all as f64 / allowed_all * 100.0
    );
    println!("orders/s {:.0}", ids.len() as f64 / elapsed);
    if lost != 0 || doubled != 0 || extra != 0 || ids.len() != ORDERS {
        return Err(format!("lost {lost}, doubled {doubled}, unknown {extra}").into());
    }
    Ok(())
}
