//! A sale day on the five sandbox malls (issue 16): one stock master of `skus` shop SKUs and
//! `units` units, each SKU listed on all five malls; simulated buyers buy on every mall at random
//! (the malls sell only what they show, and take the units off at once), some cancel (each mall
//! gives the units back or not, as its sandbox says); each (shop, mall) pair is pulled and pushed
//! on its own schedule by the embedded home's puller (SQLite store, stock push after the pull),
//! the processor stores what it queues. The clock runs `scale` times faster than the shop's: rate
//! limits, the pull interval, Amazon's order lag and Qoo10's stock delay are all divided by it.
//!
//! What it counts comes from the buyers' side, not from ichigen: units sold beyond the shop's
//! stock (oversold), and how long a SKU the shop had sold out stayed buyable on some mall.
#![allow(clippy::unwrap_used, clippy::expect_used)] // Test support: a failed setup is a test bug.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{FixedOffset, NaiveDate, Utc};
use ichigen_core::pipeline::memory::MemoryNotices;
use ichigen_core::pipeline::{
    MailJob, OrderStore, ProcessSettings, Processor, PullSettings, Puller, ShopDirectory, ShopSettings, StockPush,
    consume_batch,
};
use ichigen_core::stock::push::{FOLLOW_UP_GAP, PushSettings};
use ichigen_core::stock::{Count, Edit, Listing, MALLS, Part, Stock, StockStore, holder};
use ichigen_core::{Marketplace, Order, OrderStatus};
use ichigen_local::{JsonlQuarantine, MAIL_QUEUE, ORDERS_QUEUE, SqliteQueue, SqliteStore};
use ichigen_marketplaces::amazon::client::{AmazonClient, AmazonConfig, AmazonCredentials};
use ichigen_marketplaces::client::{HttpConfig, RetryPolicy};
use ichigen_marketplaces::{AnyClient, HttpSettings, MarketplaceSecret, build_client};
use ichigen_sandbox::{Faults, SandboxConfig, Seed, Shelf, Started, amazon, aupay, qoo10, rakuten, yahoo};

/// The shop of the sale day.
pub const SHOP: &str = "shop-sale";

/// How a sale day runs.
#[derive(Debug, Clone)]
pub struct SaleDay {
    /// Shop SKUs, each listed on every mall.
    pub skus: usize,
    /// Units in the stock master over all SKUs.
    pub units: i64,
    /// How much faster than the shop's clock the simulation runs.
    pub scale: f64,
    /// The pull (and push) interval of every pair, on the shop's clock.
    pub interval: Duration,
    /// How many intervals the buyers keep buying.
    pub intervals: u32,
    /// Buy attempts per interval, over all malls.
    pub buyers_per_interval: u32,
    /// Share of placed orders their buyer cancels a little later.
    pub cancel_share: f64,
    /// The push's safety buffer (units of each SKU no mall is given).
    pub buffer: u32,
    /// Seed of the buyers' dice.
    pub seed: u64,
}

/// What a sale day came to.
#[derive(Debug, Clone, Default)]
pub struct Figures {
    /// Buy attempts.
    pub attempts: usize,
    /// Orders the malls accepted.
    pub orders: usize,
    /// Units in them.
    pub units_sold: i64,
    /// Orders their buyers cancelled.
    pub cancelled: usize,
    /// Units in those.
    pub units_cancelled: i64,
    /// Units the malls accepted beyond the shop's stock at the moment of the sale.
    pub oversold: i64,
    /// Buy attempts a mall refused because it showed too few.
    pub refused: usize,
    /// Orders per mall.
    pub orders_by_mall: BTreeMap<Marketplace, usize>,
    /// SKUs the shop sold out (all its units sold, net of cancellations) at some point.
    pub sold_out_skus: usize,
    /// The longest time (shop's clock) a sold-out SKU stayed buyable on some mall.
    pub longest_window: Duration,
    /// Items written and units pushed, per mall, over the day.
    pub pushed: BTreeMap<Marketplace, (usize, i64)>,
    /// Drift reported (items), alarms and other stock failures, over all pulls.
    pub drift: usize,
    /// Stock failures the pulls reported.
    pub failures: Vec<String>,
    /// Shop-clock time from the last sale (or cancellation) until each mall had been given what
    /// the ledger allots it: it shows it, or a write of it is on its way inside the mall's own
    /// delay (Qoo10). [`Figures::told_after`] is the latest.
    pub told_by_mall: BTreeMap<Marketplace, Duration>,
    /// Each pair's longest run on the shop's clock, from the time it was due to its end (a slow
    /// machine's seconds count `scale` times over).
    pub longest_run: BTreeMap<Marketplace, Duration>,
    /// Shop-clock time from the last sale (or cancellation) until every mall showed what the
    /// ledger allots it.
    pub settled_after: Option<Duration>,
    /// Shop-clock time from the last sale (or cancellation) until, for every SKU, the malls together
    /// had been given the master's available units less the buffer (every unit the push may give
    /// out is on some mall: the shares are final).
    pub full_after: Option<Duration>,
    /// Items whose mall number still differed from the ledger at the end: (mall, item, shown, allotted).
    pub unsettled: Vec<(Marketplace, String, i64, i64)>,
    /// SKUs whose numbers shown on all malls together exceed what the master has available.
    pub over_shown: Vec<(String, i64, i64)>,
    /// Pull runs made.
    pub pulls: usize,
    /// Of those, runs made before their time because another pair's run moved a share that
    /// waited for them.
    pub early_runs: usize,
    /// Units the malls sold (net of cancellations) that the master does not hold at the end.
    pub unheld: i64,
    /// Orders stored at the end, per mall.
    pub stored_by_mall: BTreeMap<Marketplace, usize>,
    /// Wall time the buyers spent inside the malls' buy calls.
    pub buying: Duration,
}

/// One mall's sandbox and its own stock (the mall's side of the sale).
enum Desk {
    Rakuten(rakuten::BackOffice),
    Yahoo(yahoo::Control),
    Amazon(amazon::BackOffice),
    Aupay(aupay::Stockroom),
    Qoo10(qoo10::BackOffice),
}

impl Desk {
    fn shelf(&self) -> &Shelf {
        match self {
            Desk::Rakuten(d) => d.shelf(),
            Desk::Yahoo(d) => d.shelf(),
            Desk::Amazon(d) => d.shelf(),
            Desk::Aupay(d) => d.shelf(),
            Desk::Qoo10(d) => d.shelf(),
        }
    }

    /// Lists `item` at 0: the first push gives it its share. 楽天 and Yahoo items give stock back
    /// on a buyer's cancel (their per-item setting, on); the other malls do as their sandbox does.
    fn list(&self, item: &str) {
        match self {
            Desk::Rakuten(d) => d.list_item(item, 0, true),
            Desk::Yahoo(d) => d.list_item(item, 0, true),
            Desk::Amazon(d) => d.list_item(item, 0),
            Desk::Aupay(d) => d.list_item(item, 0),
            Desk::Qoo10(d) => d.list_item(item, 0, Some(1_980), NaiveDate::from_ymd_opt(2027, 3, 31)),
        }
    }

    fn key(&self, item: &str) -> String {
        match self {
            Desk::Rakuten(_) => rakuten::stock::key(item, item),
            _ => item.to_owned(),
        }
    }

    fn shown(&self, item: &str) -> i64 {
        self.shelf().shown(&self.key(item)).unwrap_or(0)
    }

    /// What `item` will show once the writes on their way have landed (the mall's delay).
    fn latest(&self, item: &str) -> i64 {
        self.shelf().latest(&self.key(item)).unwrap_or(0)
    }

    fn buy(&self, item: &str, units: u32) -> Option<String> {
        let lines = [(item, units)];
        match self {
            Desk::Rakuten(d) => d.buy(&lines),
            Desk::Yahoo(d) => d.buy(&lines),
            Desk::Amazon(d) => d.buy(&lines),
            Desk::Aupay(d) => d.buy(&lines),
            Desk::Qoo10(d) => d.buy(&lines),
        }
    }

    /// The buyer cancels (a buyer's cancel on each mall: 楽天 and Yahoo per item setting, Amazon
    /// gives back, au PAY does not, Qoo10 does — each as its sandbox documents).
    fn cancel(&self, order_id: &str) -> bool {
        match self {
            Desk::Rakuten(d) => d.cancel(order_id),
            Desk::Yahoo(d) => d.cancel(order_id).is_some(),
            Desk::Amazon(d) => d.cancel(order_id, "BUYER").is_ok(),
            Desk::Aupay(d) => d.cancel(order_id).is_some(),
            Desk::Qoo10(d) => d.cancel(order_id),
        }
    }
}

struct Mall {
    marketplace: Marketplace,
    desk: Arc<Desk>,
    client: AnyClient,
    _sandbox: Started,
}

fn scaled(d: Duration, scale: f64) -> Duration {
    d.div_f64(scale)
}

async fn open_mall(marketplace: Marketplace, scale: f64) -> Mall {
    let seed = Seed {
        orders: 0,
        seed: 7,
        start: chrono::DateTime::parse_from_rfc3339("2026-12-01T09:00:00+09:00").unwrap(),
        step_secs: 600,
        shop_id: SHOP.into(),
    };
    let config = SandboxConfig { port: 0, seed, faults: Faults::default(), throttle: Some(scale) };
    let (sandbox, desk) = match marketplace {
        Marketplace::Rakuten => {
            let (s, d) = rakuten::start_with_back_office(config, rakuten::RESULT_CAP).await.unwrap();
            (s, Desk::Rakuten(d))
        }
        Marketplace::Yahoo => {
            let (s, d) = yahoo::start_with_control(config).await.unwrap();
            (s, Desk::Yahoo(d))
        }
        Marketplace::Amazon => {
            // Amazon's searches end 2 minutes before now (the API): on the scaled clock.
            let lag = chrono::Duration::from_std(scaled(Duration::from_secs(120), scale)).unwrap();
            let options = amazon::AmazonOptions { before_lag: lag, ..Default::default() };
            let (s, d) = amazon::start_with_office(config, options).await.unwrap();
            (s, Desk::Amazon(d))
        }
        Marketplace::Aupay => {
            let (s, d) = aupay::start_with_stock(config).await.unwrap();
            (s, Desk::Aupay(d))
        }
        Marketplace::Qoo10 => {
            let (s, d) = qoo10::start_with_back_office(config, qoo10::Options::default()).await.unwrap();
            (s, Desk::Qoo10(d))
        }
        other => panic!("{other} is not a mall of the sale day"),
    };
    // The mall's own delay before a written number shows, on the scaled clock.
    let shelf = desk.shelf();
    shelf.set_latency(scaled(shelf.latency(), scale));
    let secret = MarketplaceSecret::from_json(&ichigen_sandbox::secret_json(marketplace, &sandbox)).unwrap();
    let http = HttpSettings {
        timeout: Duration::from_secs(10),
        retry: RetryPolicy { retries: 3, min_delay: Duration::from_millis(5), max_delay: Duration::from_millis(50) },
        rate_scale: scale,
    };
    let client = if marketplace == Marketplace::Amazon {
        // The client keeps its searches 130 s before now (the API refuses a later end): on the
        // scaled clock, as the sandbox's own lag is.
        let mut config = HttpConfig::new(sandbox.base_url());
        config.retry = http.retry;
        config.rate_scale = scale;
        let config = AmazonConfig {
            http: config,
            lwa_base_url: sandbox.base_url(),
            before_lag: chrono::Duration::from_std(scaled(Duration::from_secs(130), scale)).unwrap(),
            seller_id: Some(amazon::listings::SELLER_ID.into()),
            ..AmazonConfig::new(SHOP)
        };
        let creds = AmazonCredentials::new(
            amazon::CLIENT_ID,
            amazon::CLIENT_SECRET.to_owned(),
            amazon::REFRESH_TOKEN.to_owned(),
        );
        AnyClient::new(AmazonClient::new(config, creds).unwrap())
    } else {
        build_client(SHOP, &secret, http).unwrap()
    };
    Mall { marketplace, desk: Arc::new(desk), client, _sandbox: sandbox }
}

/// The SKU names (also each mall's item code: lower-case letters and digits suit every mall).
pub fn sku(i: usize) -> String {
    format!("sale{i:03}")
}

/// The shop's truth, kept by the buyers' side: units sold net of cancellations per SKU.
struct Truth {
    stock: BTreeMap<String, i64>,
    sold: BTreeMap<String, i64>,
    sold_out_since: BTreeMap<String, Instant>,
    ever_sold_out: std::collections::BTreeSet<String>,
}

impl Truth {
    fn remaining(&self, sku: &str) -> i64 {
        self.stock[sku] - self.sold.get(sku).copied().unwrap_or(0)
    }
}

/// What the buyers' thread and the pipeline share.
struct Shared {
    truth: Truth,
    figures: Figures,
    longest: Duration,
    /// The last time a buyer bought or cancelled: what the malls show changed then.
    last_sale: Instant,
}

/// Prints what the store knows of items a run reported as drift: the SKU row and the mall's
/// orders of it (ids, status, times on the shop's clock before the run).
async fn trace_drift(
    store: &SqliteStore,
    marketplace: Marketplace,
    began: chrono::DateTime<FixedOffset>,
    items: &[String],
    scale: f64,
) {
    let rows = store.stocks(SHOP).await.unwrap();
    for item in items {
        if let Some(r) = rows.iter().find(|r| &r.sku == item) {
            eprintln!(
                "DRIFT {marketplace} {item}: reserved {} allotted {:?} drawn {:?} cancelled {:?}",
                r.reserved, r.allotted, r.drawn, r.cancelled
            );
        }
        for o in stored_orders(store).await {
            let o = &o.order;
            if o.marketplace == marketplace && o.items.iter().any(|i| &i.sku == item) {
                let ago =
                    |t: chrono::DateTime<FixedOffset>| ((began - t).num_milliseconds() as f64 * scale / 1000.0) as i64;
                eprintln!(
                    "  {} {:?} placed {}s before, updated {}s before",
                    o.order_id,
                    o.status,
                    ago(o.ordered_at),
                    ago(o.source_updated_at)
                );
            }
        }
    }
}

/// Every order stored for the shop, in any status.
async fn stored_orders(store: &SqliteStore) -> Vec<ichigen_core::pipeline::StoredOrder> {
    let mut out = Vec::new();
    for status in OrderStatus::ALL {
        out.extend(store.list_by_status(SHOP, status, None, None).await.unwrap());
    }
    out
}

/// `ICHIGEN_SALE_TRACE=1`: print each pair's runs after the sale and what is unsettled.
fn trace() -> bool {
    std::env::var_os("ICHIGEN_SALE_TRACE").is_some()
}

fn jst_now() -> chrono::DateTime<FixedOffset> {
    Utc::now().with_timezone(&ichigen_core::JST)
}

/// The buyers and the watcher (see [`run`]).
fn buy_and_watch(
    day: &SaleDay,
    desks: &[(Marketplace, Arc<Desk>)],
    shared: &Mutex<Shared>,
    done: &AtomicBool,
    interval: Duration,
    selling_until: Instant,
) {
    let mut dice = fastrand::Rng::with_seed(day.seed ^ 0x5a1e);
    let gap = interval / day.buyers_per_interval.max(1);
    let mut to_cancel: Vec<(Instant, usize, String, String, u32)> = Vec::new();
    while !done.load(Ordering::Relaxed) {
        std::thread::sleep(if Instant::now() < selling_until { gap.mul_f64(0.5 + dice.f64()) } else { gap });
        let now = Instant::now();
        let mut sh = shared.lock().unwrap();
        if now < selling_until {
            let (due, later): (Vec<_>, Vec<_>) = to_cancel.drain(..).partition(|c| c.0 <= now);
            to_cancel = later;
            for (_, mall, id, item, units) in due {
                if desks[mall].1.cancel(&id) {
                    sh.last_sale = Instant::now();
                    let t = &mut sh.truth;
                    *t.sold.entry(item.clone()).or_default() -= i64::from(units);
                    if t.remaining(&item) > 0 {
                        t.sold_out_since.remove(&item);
                    }
                    sh.figures.cancelled += 1;
                    sh.figures.units_cancelled += i64::from(units);
                }
            }
            let mall = dice.usize(..desks.len());
            let item = sku(dice.usize(..day.skus));
            let units = if dice.f64() < 0.8 { 1 } else { 2 };
            sh.figures.attempts += 1;
            let began = Instant::now();
            let bought = desks[mall].1.buy(&item, units);
            sh.figures.buying += began.elapsed();
            match bought {
                None => sh.figures.refused += 1,
                Some(id) => {
                    sh.last_sale = Instant::now();
                    let t = &mut sh.truth;
                    let before = t.remaining(&item);
                    *t.sold.entry(item.clone()).or_default() += i64::from(units);
                    let after = t.remaining(&item);
                    if after <= 0 && !t.sold_out_since.contains_key(&item) {
                        t.sold_out_since.insert(item.clone(), Instant::now());
                        t.ever_sold_out.insert(item.clone());
                    }
                    let f = &mut sh.figures;
                    // Units beyond what the shop still had when the mall took the order.
                    f.oversold += (i64::from(units) - before.max(0)).max(0);
                    if trace() || i64::from(units) > before {
                        let shown: Vec<i64> = desks.iter().map(|d| d.1.shown(&item)).collect();
                        let over = if i64::from(units) > before { " OVERSOLD" } else { "" };
                        eprintln!(
                            "sale {} {id} {item} ×{units}: the shop had {before}, malls show {shown:?}{over}",
                            desks[mall].0
                        );
                    }
                    f.orders += 1;
                    f.units_sold += i64::from(units);
                    *f.orders_by_mall.entry(desks[mall].0).or_default() += 1;
                    if dice.f64() < day.cancel_share {
                        let when = Instant::now() + interval.mul_f64(0.2 + 2.0 * dice.f64());
                        to_cancel.push((when, mall, id, item, units));
                    }
                }
            }
        }
        // The watcher.
        let open: Vec<Duration> = sh
            .truth
            .sold_out_since
            .iter()
            .filter(|(item, _)| desks.iter().any(|(_, d)| d.shown(item) > 0))
            .map(|(_, since)| since.elapsed())
            .collect();
        for o in open {
            sh.longest = sh.longest.max(o);
        }
    }
}

/// Runs the sale day in `dir` (the SQLite store and the quarantine file).
pub async fn run(day: &SaleDay, dir: &std::path::Path) -> Figures {
    let scale = day.scale;
    let interval = scaled(day.interval, scale);
    let mut malls = Vec::new();
    for m in MALLS {
        malls.push(open_mall(m, scale).await);
    }
    let store = SqliteStore::open(&dir.join("ichigen.db")).unwrap();
    store.put_shop(&ShopSettings::new(SHOP, "sale@example.jp", "staff@example.jp")).await.unwrap();

    // The stock master: `units` spread over the SKUs at random (at least 1 each).
    let mut dice = fastrand::Rng::with_seed(day.seed);
    let mut stock: BTreeMap<String, i64> = (0..day.skus).map(|i| (sku(i), 1)).collect();
    for _ in 0..(day.units - day.skus as i64).max(0) {
        *stock.get_mut(&sku(dice.usize(..day.skus))).unwrap() += 1;
    }
    let by = Edit { who: "sale-day", why: "棚卸し", at: jst_now() };
    for (s, n) in &stock {
        store.count(SHOP, s, Some(s), Count::Set(*n), &by).await.unwrap();
        for m in &malls {
            let listing =
                Listing { marketplace: m.marketplace, item: s.clone(), parts: vec![Part { sku: s.clone(), units: 1 }] };
            store.put_listing(SHOP, &listing).await.unwrap();
            m.desk.list(s);
        }
    }

    let orders = SqliteQueue::<Order>::new(&store, ORDERS_QUEUE);
    let mails = SqliteQueue::<MailJob>::new(&store, MAIL_QUEUE);
    let quarantine = JsonlQuarantine::new(dir.join("quarantine.jsonl"));
    let notices = MemoryNotices::new();
    let processor =
        Processor::new(&store, &store, &mails, ichigen_marketplaces::policies(), ProcessSettings::default())
            .with_stock(&store);
    let policies = ichigen_marketplaces::policies();
    // The look-back over the last watermark runs on the shop's clock too: unscaled, 15 minutes
    // would be the whole day, read again on every run.
    let overlap = scaled(PullSettings::default().overlap, scale);
    let settings = PullSettings { first_lookback: Duration::from_secs(3600), overlap, ..PullSettings::default() };

    let shared = Arc::new(Mutex::new(Shared {
        truth: Truth {
            stock: stock.clone(),
            sold: BTreeMap::new(),
            sold_out_since: BTreeMap::new(),
            ever_sold_out: Default::default(),
        },
        figures: Figures::default(),
        longest: Duration::ZERO,
        last_sale: Instant::now(),
    }));
    let start = Instant::now();
    let selling_until = start + interval * day.intervals;
    let done = Arc::new(AtomicBool::new(false));

    // The buyers, on their own thread (a mall takes an order at once, whatever ichigen is doing):
    // an attempt every so often on a mall and SKU picked at random; a share of the orders
    // cancelled a little later. Between attempts, and after the last one until the day ends, the
    // watcher: while a SKU the shop sold out shows on some mall, its window stays open.
    let desks: Vec<(Marketplace, Arc<Desk>)> = malls.iter().map(|m| (m.marketplace, m.desk.clone())).collect();
    let buyers = {
        let (shared, done, day) = (shared.clone(), done.clone(), day.clone());
        std::thread::spawn(move || buy_and_watch(&day, &desks, &shared, &done, interval, selling_until))
    };

    // Each pair on its own schedule: pull, hold, push; and at once when another pair's run moved
    // a share that waits for this one (`StockReport::rebalance`).
    let wake: Vec<tokio::sync::Notify> = malls.iter().map(|_| tokio::sync::Notify::new()).collect();
    let pair = |i: usize| {
        let m = &malls[i];
        let (store, orders, quarantine, mails, notices, shared, done, wake, malls) =
            (&store, &orders, &quarantine, &mails, &notices, &shared, &done, &wake, &malls);
        let policy = policies.of(m.marketplace);
        async move {
            let puller = Puller {
                source: &m.client,
                queue: orders,
                marks: store,
                quarantine,
                store,
                mails,
                notices,
                policy,
                settings,
            };
            let push = StockPush {
                stock: store,
                mall: &m.client,
                notices,
                settings: PushSettings {
                    buffer: day.buffer,
                    latency: scaled(policy.stock_latency, scale),
                    follow_up_gap: scaled(FOLLOW_UP_GAP, scale),
                },
                follow_up: false,
            };
            let follow_up = StockPush { follow_up: true, ..push };
            let gap = push.settings.follow_up_gap;
            let mut ticks = tokio::time::interval(interval);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
            let mut last_end = Instant::now();
            // When a write on its way to the mall shows (Qoo10's delay): the pair runs then.
            let mut again: Option<Instant> = None;
            while !done.load(Ordering::Relaxed) {
                let at = again.unwrap_or_else(|| Instant::now() + interval * 1000);
                let (due, early) = tokio::select! {
                    t = ticks.tick() => (t.into_std(), false),
                    () = wake[i].notified() => (Instant::now(), true),
                    () = tokio::time::sleep_until(at.into()) => (at, true),
                };
                again = None;
                // No run of the pair within the gap of its last: a scheduled one right after a
                // follow-up would read Amazon before its write shows.
                tokio::time::sleep((last_end + gap).saturating_duration_since(Instant::now())).await;
                let (began, clock) = (jst_now(), Instant::now());
                let report = if early {
                    puller.push_only(SHOP, began, || Duration::from_secs(600), &follow_up).await
                } else {
                    puller.run_with(SHOP, began, || Duration::from_secs(600), &push).await
                };
                last_end = Instant::now();
                if trace()
                    && let Ok(r) = &report
                    && !r.stock.drift.is_empty()
                {
                    trace_drift(store, m.marketplace, began, &r.stock.drift, scale).await;
                }
                if let Ok(r) = &report {
                    // A write on its way shows then; a follow-up that came too soon goes again.
                    let due = r.stock.due_again_at.map(|at| (at - jst_now()).to_std().unwrap_or_default());
                    again = due.or(r.stock.wait).map(|wait| Instant::now() + wait);
                    for (j, other) in malls.iter().enumerate() {
                        if r.stock.rebalance.contains(&other.marketplace) {
                            wake[j].notify_one();
                        }
                    }
                }
                let mut sh = shared.lock().unwrap();
                if trace() && Instant::now() >= selling_until {
                    let since = sh.last_sale.elapsed().mul_f64(scale).as_secs();
                    let stock = report.as_ref().map(|r| r.stock.clone()).unwrap_or_default();
                    let queued = report.as_ref().map_or(0, |r| r.queued);
                    eprintln!(
                        "run {}{} +{since}s (took {} s): queued {queued} held {} pushed {} unchanged {} pending {} drift {:?} wakes {:?} {}",
                        m.marketplace,
                        if early { " (early)" } else { "" },
                        clock.elapsed().mul_f64(scale).as_secs(),
                        stock.orders_held,
                        stock.items_pushed,
                        stock.items_unchanged,
                        stock.pending,
                        stock.drift,
                        stock.rebalance,
                        report.as_ref().err().map(ToString::to_string).unwrap_or_default()
                    );
                }
                let f = &mut sh.figures;
                f.pulls += 1;
                f.early_runs += usize::from(early);
                let took = due.elapsed().mul_f64(scale);
                let longest = f.longest_run.entry(m.marketplace).or_default();
                *longest = took.max(*longest);
                match report {
                    Ok(r) => {
                        let e = f.pushed.entry(m.marketplace).or_default();
                        e.0 += r.stock.items_pushed;
                        e.1 += r.stock.units_pushed;
                        f.drift += r.stock.drift.len();
                        if let Some(failure) = r.stock.failure {
                            f.failures.push(format!("{}: {failure}", m.marketplace));
                        }
                    }
                    Err(e) => f.failures.push(format!("{}: pull: {e}", m.marketplace)),
                }
            }
        }
    };
    let schedule = async {
        tokio::join!(pair(0), pair(1), pair(2), pair(3), pair(4));
    };

    // The processor stores what the pullers queue.
    let process = async {
        while !done.load(Ordering::Relaxed) {
            let batch = consume_batch(&orders, 100, |order: Order| {
                let processor = &processor;
                async move { processor.handle(order, jst_now()).await }
            })
            .await
            .unwrap();
            if batch.taken == 0 {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
    };

    // After the buyers stop: wait until every mall shows what the ledger allots it and the
    // shares are final, up to ten intervals, then end the day. Looked at every twentieth of an
    // interval.
    let settle = async {
        // Looked at all day: when the malls last came to be given (and to show) their numbers
        // after the last sale or cancellation (a mall that restores a cancelled order's units
        // changes its number as a sale does) — not only once the buyers stop, as a day whose
        // SKUs sold out early has its last sale long before its end.
        let give_up = selling_until + interval * 10;
        let (mut shown_at, mut full_at, mut last_event) = (None::<Instant>, None, None);
        let mut told_at: BTreeMap<Marketplace, Option<Instant>> = BTreeMap::new();
        loop {
            tokio::time::sleep(interval / 20).await;
            let untold = compare(&store, &malls, Desk::latest).await;
            let unsettled = compare(&store, &malls, Desk::shown).await;
            let rows = store.stocks(SHOP).await.unwrap();
            // The SKUs whose malls together are not given master − buffer yet, with what each
            // mall is given.
            let short: Vec<(&Stock, Vec<i64>)> = rows
                .iter()
                .map(|r| (r, malls.iter().map(|m| m.desk.latest(&r.sku)).collect::<Vec<_>>()))
                .filter(|(r, given)| given.iter().sum::<i64>() != (r.available() - i64::from(day.buffer)).max(0))
                .collect();
            let full = short.is_empty();
            let now = Instant::now();
            let mut sh = shared.lock().unwrap();
            let event = sh.last_sale;
            if last_event != Some(event) {
                (shown_at, full_at, last_event) = (None, None, Some(event));
                told_at.clear();
            }
            for m in &malls {
                let off = |list: &[(Marketplace, String, i64, i64)]| list.iter().any(|u| u.0 == m.marketplace);
                let told = !off(&untold) || !off(&unsettled);
                let at = told_at.entry(m.marketplace).or_default();
                *at = if told { at.or(Some(now)) } else { None };
            }
            shown_at = if unsettled.is_empty() { shown_at.or(Some(now)) } else { None };
            full_at = if full { full_at.or(Some(now)) } else { None };
            if trace() && now >= selling_until {
                let since = sh.last_sale.elapsed().mul_f64(scale).as_secs();
                eprintln!(
                    "settle +{since}s: {} unsettled {:?}",
                    unsettled.len(),
                    unsettled.iter().take(8).collect::<Vec<_>>()
                );
                for (r, given) in &short {
                    eprintln!(
                        "  not full {}: available {} given {given:?} allotted {:?} drawn {:?} cancelled {:?}",
                        r.sku,
                        r.available(),
                        r.allotted,
                        r.drawn,
                        r.cancelled
                    );
                }
                for (_, sku, _, _) in unsettled.iter().take(4) {
                    if let Some(r) = rows.iter().find(|r| &r.sku == sku) {
                        eprintln!(
                            "  {sku}: reserved {} allotted {:?} drawn {:?} cancelled {:?}",
                            r.reserved, r.allotted, r.drawn, r.cancelled
                        );
                    }
                }
            }
            if now < selling_until {
                continue;
            }
            let last_sale = sh.last_sale;
            let after = |t: Instant| t.saturating_duration_since(last_sale).mul_f64(scale);
            // The first time every mall shows its allotment; then on until the shares are final.
            if let Some(at) = shown_at
                && sh.figures.settled_after.is_none()
            {
                sh.figures.told_by_mall = told_at.iter().filter_map(|(m, at)| at.map(|at| (*m, after(at)))).collect();
                sh.figures.settled_after = Some(after(at));
            }
            if let Some(at) = full_at {
                sh.figures.full_after = Some(after(at));
            }
            if sh.figures.settled_after.is_some() && full_at.is_some() {
                break;
            }
            if now > give_up {
                if sh.figures.settled_after.is_none() {
                    sh.figures.unsettled = unsettled;
                }
                break;
            }
        }
        done.store(true, Ordering::Relaxed);
    };
    tokio::join!(schedule, process, settle);
    buyers.join().unwrap();

    let sh = Arc::try_unwrap(shared).ok().unwrap().into_inner().unwrap();
    let mut f = sh.figures;
    f.longest_window = sh.longest.mul_f64(scale);
    f.sold_out_skus = sh.truth.ever_sold_out.len();
    let truth = sh.truth;
    // Σ shown over malls ≤ available in the master, per SKU.
    let rows = store.stocks(SHOP).await.unwrap();
    for row in rows {
        // Sales the malls made that the master does not hold (not pulled, or lost).
        f.unheld += truth.sold.get(&row.sku).copied().unwrap_or(0) - row.reserved;
        let shown: i64 = malls.iter().map(|m| m.desk.shown(&row.sku)).sum();
        if shown > row.available().max(0) {
            f.over_shown.push((row.sku.clone(), shown, row.available()));
        }
    }
    for o in stored_orders(&store).await {
        *f.stored_by_mall.entry(o.order.marketplace).or_default() += 1;
    }
    for (_, text) in notices.sent() {
        f.failures.push(format!("staff notice: {}", text.lines().take(6).collect::<Vec<_>>().join(" / ")));
    }
    f
}

/// Items whose mall number (`shown`: now, or [`Desk::latest`]) differs from what the ledger
/// allots them: (mall, item, number, allotted).
async fn compare(
    store: &SqliteStore,
    malls: &[Mall],
    number: fn(&Desk, &str) -> i64,
) -> Vec<(Marketplace, String, i64, i64)> {
    let rows = store.stocks(SHOP).await.unwrap();
    let mut out = Vec::new();
    for row in &rows {
        for m in malls {
            let allotted = row.allotted.get(&holder(m.marketplace, &row.sku)).copied().unwrap_or(0);
            let shown = number(&m.desk, &row.sku);
            if shown != allotted {
                out.push((m.marketplace, row.sku.clone(), shown, allotted));
            }
        }
    }
    out
}

impl SaleDay {
    /// How soon after the last sale `mall` can have been given its number, on the shop's clock,
    /// when its longest run took `run` (from the time it was due to its end).
    ///
    /// The pair runs once an interval, but a sale reaches a pull only once the mall's order
    /// search shows it: Amazon's client stays 130 s behind now (the API refuses a later end), and
    /// every search speaks whole seconds (one second of the machine's clock is `scale` seconds
    /// of the shop's). A mall that shows a written number only after its own delay (Qoo10, up to
    /// 10 minutes) cannot be compared, so is not written again, until the write made before the
    /// sale shows: the next run after that delay gives it its number. Qoo10 then shows it after
    /// the same delay (`told_by_mall` against `settled_after`).
    pub fn settle_bound(&self, mall: Marketplace, run: Duration) -> Duration {
        let second = Duration::from_secs_f64(self.scale);
        let search_lag = match mall {
            Marketplace::Amazon => AmazonConfig::new(SHOP).before_lag.to_std().unwrap_or_default() + second,
            _ => second,
        };
        let delay = ichigen_marketplaces::policies().of(mall).stock_latency;
        self.interval + search_lag.max(delay) + run
    }
}

/// Seconds, or that it did not happen within the ten intervals looked at.
fn secs(d: Option<Duration>) -> String {
    d.map_or("not within 10 intervals".to_string(), |d| format!("{:.0} s", d.as_secs_f64()))
}

impl Figures {
    /// When the last mall had been given its number, after the last sale (or cancellation).
    pub fn told_after(&self) -> Option<Duration> {
        self.told_by_mall.values().max().copied()
    }

    /// [`SaleDay::settle_bound`] of `mall` with its longest run of this day.
    pub fn settle_bound(&self, day: &SaleDay, mall: Marketplace) -> Duration {
        day.settle_bound(mall, self.longest_run.get(&mall).copied().unwrap_or_default())
    }

    /// How long after the last sale the malls together can take to be given master − buffer:
    /// the last mall's own bound (each mall has its number by then), then the last unit to move
    /// — a shrink written then to a mall with a delay of its own shows that delay later (Qoo10's
    /// 10 minutes), and the taking mall's follow-up runs the gap after the shrink's write — and
    /// that run.
    pub fn full_bound(&self, day: &SaleDay) -> Duration {
        let latest = MALLS.iter().map(|m| self.settle_bound(day, *m)).max().unwrap_or_default();
        let delay = MALLS.iter().map(|m| ichigen_marketplaces::policies().of(*m).stock_latency).max();
        let run = self.longest_run.values().max().copied().unwrap_or_default();
        latest + delay.unwrap_or_default() + FOLLOW_UP_GAP + run
    }

    /// The figures as a Markdown table for docs/PERFORMANCE.md.
    pub fn markdown(&self, day: &SaleDay) -> String {
        let mut s = String::new();
        s.push_str(&format!(
            "{} SKUs, {} units, {} pull intervals of {} min on the shop's clock (run {}× faster), {} buy attempts per interval, {:.0}% of orders cancelled, buffer {}.\n\n",
            day.skus,
            day.units,
            day.intervals,
            day.interval.as_secs() / 60,
            day.scale,
            day.buyers_per_interval,
            day.cancel_share * 100.0,
            day.buffer
        ));
        s.push_str("| buy attempts | orders | units sold | cancelled (units) | refused: sold out | **oversold units** | SKUs sold out | longest sold-out-but-buyable window | every mall given / showing its number, after the last sale or cancel | malls together given master − buffer, after it (bound) | sales the master does not hold |\n");
        s.push_str("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        s.push_str(&format!(
            "| {} | {} | {} | {} ({}) | {} | **{}** | {} | {:.1} s | {} / {} | {} ({:.0} s) | {} |\n\n",
            self.attempts,
            self.orders,
            self.units_sold,
            self.cancelled,
            self.units_cancelled,
            self.refused,
            self.oversold,
            self.sold_out_skus,
            self.longest_window.as_secs_f64(),
            secs(self.told_after()),
            secs(self.settled_after),
            secs(self.full_after),
            self.full_bound(day).as_secs_f64(),
            self.unheld
        ));
        s.push_str("| mall | orders | items written | units pushed | given its number, after the last sale or cancel | bound: interval + search lag or own delay + longest run |\n|---|---:|---:|---:|---:|---:|\n");
        for m in MALLS {
            let (items, units) = self.pushed.get(&m).copied().unwrap_or_default();
            s.push_str(&format!(
                "| {m} | {} | {items} | {units} | {} | {:.0} s |\n",
                self.orders_by_mall.get(&m).copied().unwrap_or(0),
                secs(self.told_by_mall.get(&m).copied()),
                self.settle_bound(day, m).as_secs_f64()
            ));
        }
        s
    }
}
