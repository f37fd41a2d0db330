//! Pulls 10,000 orders from the Yahoo sandbox with sandbox and client both enforcing the
//! documented limits (1 request/second per operation), scaled by one factor F, and reports how
//! close the pull comes to the allowed rate.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use chrono::TimeDelta;
use ichigen_core::Marketplace;
use ichigen_marketplaces::client::{HttpConfig, OrderSource, RetryPolicy, Window};
use ichigen_marketplaces::yahoo::client::{LIMITS, OP_INFO, OP_LIST};
use ichigen_marketplaces::yahoo::{YahooClient, YahooCredentials};
use ichigen_sandbox::{Faults, SandboxConfig, Seed, seed_orders, yahoo};
use secrecy::SecretString;

const ORDERS: usize = 10_000;
/// Stored open orders re-read by id after the pull.
const BY_ID: usize = 1_000;
/// 10,000 orderInfo calls at 1/s would take 2.8 hours; F = 50 brings it to about 200 s. The
/// calls are sequential, so each loses the timer's rounding and the scheduling delay of a loaded
/// machine (about 1 ms) on top of the period: at F = 200 (5 ms) that was 20% of the rate, at
/// F = 50 (20 ms) it is about 5%. At the real 1/s it is 0.1%.
const F: f64 = 50.0;

fn main() {
    let rt = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("no tokio runtime: {e}");
            std::process::exit(1);
        }
    };
    if let Err(e) = rt.block_on(run()) {
        eprintln!("pull_yahoo failed: {e}");
        std::process::exit(1);
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let seed = Seed { orders: ORDERS, ..Seed::default() };
    let config = SandboxConfig { port: 0, seed: seed.clone(), faults: Faults::default(), throttle: Some(F) };
    let (started, control) = yahoo::start_with_control(config).await?;
    let cred =
        |name: &str| started.credentials.iter().find(|(n, _)| *n == name).map(|(_, v)| v.clone()).unwrap_or_default();
    let creds = YahooCredentials {
        seller_id: cred("seller_id"),
        client_id: cred("client_id"),
        client_secret: SecretString::from(cred("client_secret")),
        refresh_token: SecretString::from(cred("refresh_token")),
        public_key_pem: SecretString::from(cred("public_key_pem")),
        key_version: cred("key_version"),
        token_url: cred("token_url"),
    };
    let http = HttpConfig {
        base_url: started.base_url(),
        timeout: Duration::from_secs(10),
        retry: RetryPolicy { retries: 10, min_delay: Duration::from_millis(5), max_delay: Duration::from_millis(200) },
        rate_scale: F,
    };
    // One page per list page: fewest orderList calls (production pages are smaller to meet a deadline).
    let client = YahooClient::new(http, "shop-demo", creds)?.with_details_per_page(2000);

    let seeded = seed_orders(Marketplace::Yahoo, &seed);
    let first = seeded.iter().map(|o| o.ordered_at).min().ok_or("no orders")?;
    let last = seeded.iter().map(|o| o.source_updated_at).max().ok_or("no orders")?;
    let window = Window { from: first - TimeDelta::hours(1), to: last + TimeDelta::hours(1) };

    let t = Instant::now();
    let mut ids = HashSet::new();
    let mut pulled = 0usize;
    let mut cursor: Option<String> = None;
    loop {
        let page = client.changed_orders(&window, cursor.as_deref()).await?;
        pulled += page.orders.len();
        ids.extend(page.orders.into_iter().map(|o| o.order_id));
        match page.next {
            Some(n) => cursor = Some(n),
            None => break,
        }
    }
    let elapsed = t.elapsed().as_secs_f64();
    let doubled = pulled - ids.len();
    let lost = (0..ORDERS).filter(|&n| !ids.contains(&yahoo::order_id(n))).count();
    assert_eq!((lost, doubled), (0, 0), "lost or doubled orders");

    let (info, info_refused) = control.requests(OP_INFO);
    let (list, list_refused) = control.requests(OP_LIST);
    let limit = |op: &str| LIMITS.iter().find(|(o, _)| *o == op).map(|(_, l)| *l).ok_or("no limit");
    let info_limit = limit(OP_INFO)?;
    let list_limit = limit(OP_LIST)?;
    let allowed_info = info_limit.per_second * F * elapsed + f64::from(info_limit.burst);
    let allowed_list = list_limit.per_second * F * elapsed + f64::from(list_limit.burst);
    let admitted_info = (info - info_refused) as f64;
    println!("pull_yahoo: {ORDERS} orders, scale F = {F} (sandbox and client limits = documented × F)");
    println!(
        "requests: {} total ({info} orderInfo, {list} orderList, {} token), refused by the sandbox throttle: {}",
        info + list + control.issued(),
        control.issued(),
        info_refused + list_refused
    );
    println!("elapsed: {elapsed:.2} s, orders pulled: {pulled} (lost 0, doubled 0)");
    println!(
        "orderInfo (the bottleneck): {:.1} req/s achieved vs {:.1} req/s allowed ({} rate × F, burst {}) = {:.1}% of the allowed requests",
        admitted_info / elapsed,
        info_limit.per_second * F,
        info_limit.per_second,
        info_limit.burst,
        100.0 * admitted_info / allowed_info
    );
    println!(
        "all operations: {:.1}% of the allowed requests (orderList needs only {list} of its {allowed_list:.0})",
        100.0 * (admitted_info + (list - list_refused) as f64) / (allowed_info + allowed_list)
    );
    println!("throughput: {:.0} orders/s", pulled as f64 / elapsed);

    // Re-reading stored open orders by id (orders placed before the look-back): one orderInfo each.
    let ids: Vec<String> = (0..BY_ID).map(yahoo::order_id).collect();
    let (info_before, refused_before) = control.requests(OP_INFO);
    let t = Instant::now();
    let mut read = HashSet::new();
    let mut returned = 0usize;
    for chunk in ids.chunks(YahooClient::MAX_IDS_PER_CALL) {
        let page = client.orders_by_id(chunk).await?;
        let missing = page.missing.clone();
        if !missing.is_empty() {
            return Err(format!("missing ids: {missing:?}").into());
        }
        returned += page.orders.len();
        read.extend(page.orders.into_iter().map(|o| o.order_id));
    }
    let by_id_elapsed = t.elapsed().as_secs_f64();
    let (info_after, refused_after) = control.requests(OP_INFO);
    let (calls, refused) = (info_after - info_before, refused_after - refused_before);
    let lost = ids.iter().filter(|id| !read.contains(*id)).count();
    assert_eq!((lost, returned - read.len()), (0, 0), "lost or doubled orders by id");
    let allowed = info_limit.per_second * F * by_id_elapsed + f64::from(info_limit.burst);
    println!(
        "orders_by_id: {BY_ID} ids in {calls} orderInfo calls ({} id per call), refused {refused}, {by_id_elapsed:.2} s, \
{:.1}% of the allowed requests, lost 0, doubled 0",
        YahooClient::MAX_IDS_PER_CALL,
        100.0 * (calls - refused) as f64 / allowed
    );
    Ok(())
}
