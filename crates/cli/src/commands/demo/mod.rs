//! `ichigen demo`: the whole pipeline on one machine. Five sandbox marketplaces start in-process
//! with seeded orders; the puller, processor and notifier use cases (the code the Lambdas run)
//! pull → check → store → mail through the embedded adapters (or the AWS ones with
//! `--aws-endpoint`); a summary per marketplace follows, and `DIR/orders.jsonl` and the outbox
//! are written.
//!
//! The sandboxes' orders are anchored in `DIR/demo.json` (seed, count, end of the timeline), so a
//! second run on the same folder meets the same orders: it pulls only what changed since the
//! watermarks and sends no mail twice. The malls' own stock numbers are kept in
//! `DIR/shelves.json` from one run to the next, as a real mall keeps them.

mod aws;
pub mod day;
mod local;
mod shelves;
mod stock;
mod tally;

use std::cell::RefCell;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use chrono::{DateTime, FixedOffset, TimeDelta, Utc};
use clap::Args;
use ichigen_core::pipeline::StockPush;
use ichigen_core::pipeline::memory::MemoryNotices;
use ichigen_core::pipeline::{
    CarrierAccounts, MailJob, Notified, Notifier, OrderQueue, OrderStore, PortError, Processed, Processor,
    PullSettings, Puller, Quarantine, Queue, ShopContact, ShopDirectory, ShopSettings, WatermarkStore,
};
use ichigen_core::pipeline::{
    MailEvents, MailLedger, MailQueue, Mailer, MessageFailure, ParkedMail, RelayMailers, TrackingWrites,
};
use ichigen_core::stock::StockStore;
use ichigen_core::stock::push::{FOLLOW_UP_GAP, PushSettings};
use ichigen_core::{Marketplace, Order, OrderStatus};
use ichigen_marketplaces::client::{AnyClient, RetryPolicy};
use ichigen_marketplaces::{HttpSettings, MarketplaceSecret, build_client};
use ichigen_sandbox::{Faults, SandboxConfig, Seed, Started};
use serde::{Deserialize, Serialize};

use crate::backend::StoreArgs;
use crate::view::{MARKETPLACES, OrderView, all_orders, jst};
pub use tally::{Progress, Summary, Tally};

/// The demo shop's name in mails.
const SHOP_NAME: &str = "いちげん商店（デモ）";
/// Sender of the demo's buyer mails.
pub const MAIL_FROM: &str = "shop@example.jp";
/// Where the demo's staff alerts go.
const STAFF_TO: &str = "staff@example.jp";
/// The demo shop's rules: the commented example of the repository, blacklist included (the sample
/// orders' blacklisted buyer is on it, so some orders are held for it).
const RULES: &str = include_str!("../../../../../rules.example.toml");
/// Marketplace rate limits are multiplied by this against the sandboxes (1 in production).
const RATE_SCALE: f64 = 1_000.0;
/// The seeded orders are spread over this long.
const SPAN: TimeDelta = TimeDelta::days(2);
/// The last seeded order is this long before the first run. The sample's shipped orders were
/// handed to the carrier 20 hours after they were ordered, and Qoo10 finds shipped orders by their
/// shipping date: every shipping date must be in the past, the last one 15 minutes before now,
/// clear of Amazon's rule that a search ends 2 minutes before now.
const TIMELINE_GAP: TimeDelta = TimeDelta::minutes(20 * 60 + 15);
/// How long a mail ledger claim blocks other senders.
const LEASE: Duration = Duration::from_secs(120);
/// Tries of an order or mail job whose failure may pass (a lost write race), before giving up.
const ATTEMPTS: usize = 3;

/// `ichigen demo` options.
#[derive(Args, Debug, Clone)]
pub struct DemoArgs {
    /// Orders to seed, spread across the five marketplaces.
    #[arg(long, default_value_t = 1000)]
    pub orders: usize,
    /// Generator seed: the same seed gives the same orders.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Stop after the morning (pull → check → thank-you). By default the demo goes on with the
    /// shop's afternoon: label data out (DIR/labels/), the carriers' tracking numbers in, written
    /// back to the marketplaces, shipping mails. The afternoon runs on the embedded store only.
    #[arg(long)]
    pub pull_only: bool,
    /// Stock file to load before the pull (as `ichigen stock load` reads it). Without it, a
    /// folder's first run writes a sample one for the sample orders' SKUs to DIR/stock.csv and
    /// loads that; later runs keep the stock the earlier ones moved.
    #[arg(long, value_name = "FILE")]
    pub stock: Option<PathBuf>,
    /// Where orders are kept (the embedded store by default).
    #[command(flatten)]
    pub store: StoreArgs,
}

/// The demo's stock for a run: the file to load (`--stock`), the orders seeded (for the sample
/// file) and when the run began (what the orders moved since is this run's).
pub struct StockRun<'a> {
    /// `--stock`.
    pub file: Option<&'a Path>,
    /// `--orders`.
    pub orders: usize,
    /// The run's start.
    pub since: DateTime<FixedOffset>,
}

/// What `DIR/demo.json` keeps: the sandboxes' orders are a function of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct DemoState {
    seed: u64,
    orders: usize,
    timeline_end: DateTime<FixedOffset>,
}

fn now() -> DateTime<FixedOffset> {
    Utc::now().with_timezone(&jst())
}

/// The state of `dir`, made on the first run; a run with other `--orders`/`--seed` is refused,
/// as its sandboxes would hold other orders under the same ids.
fn load_state(dir: &Path, orders: usize, seed: u64) -> anyhow::Result<DemoState> {
    let path = dir.join("demo.json");
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            let state: DemoState =
                serde_json::from_str(&text).with_context(|| format!("{} is not a demo state file", path.display()))?;
            if state.orders != orders || state.seed != seed {
                bail!(
                    "{} was made with --orders {} --seed {}; run with those, or use another --dir",
                    dir.display(),
                    state.orders,
                    state.seed
                );
            }
            Ok(state)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let end = now() - TIMELINE_GAP;
            // Whole seconds: several marketplace APIs speak in seconds, and the file stays exact.
            let end = end - TimeDelta::nanoseconds(i64::from(chrono::Timelike::nanosecond(&end)));
            let state = DemoState { seed, orders, timeline_end: end };
            write_atomically(&path, serde_json::to_string_pretty(&state)?.as_bytes())?;
            Ok(state)
        }
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    }
}

/// Writes `bytes` to `path` through a temporary file and a rename.
fn write_atomically(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let name = path.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
    let temp = path.with_file_name(format!(".{name}.tmp"));
    std::fs::write(&temp, bytes)
        .and_then(|()| std::fs::rename(&temp, path))
        .with_context(|| format!("writing {}", path.display()))
}

/// The demo shop.
fn demo_shop(shop_id: &str) -> ShopSettings {
    let mut shop = ShopSettings::new(shop_id, SHOP_NAME, MAIL_FROM);
    shop.staff_to = vec![STAFF_TO.to_string()];
    shop.rules_toml = RULES.to_string();
    shop.signature = "――――――――――――――――\nいちげん商店（デモ）\nshop@example.jp\n".to_string();
    shop.contact = ShopContact {
        company: "株式会社いちげん（デモ）".to_string(),
        postal_code: "150-0002".to_string(),
        address: "東京都渋谷区渋谷2丁目21-1".to_string(),
        phone: "03-0000-0000".to_string(),
        email: MAIL_FROM.to_string(),
        hours: "平日 10:00〜17:00（土日祝休み）".to_string(),
    };
    // Made-up contract numbers, so the demo's orders export as label data.
    shop.carrier_accounts = CarrierAccounts {
        yamato_billing_code: "0300000000".to_string(),
        yamato_freight_code: "01".to_string(),
        sagawa_customer_code: "000000000000".to_string(),
    };
    shop
}

/// The demo shop as stored for this run: the demo's identity, rules and staff, with what
/// `ichigen shop` set on an earlier run (templates, contact, payment mail, signature) kept.
pub(crate) fn shop_for_run(demo: &ShopSettings, stored: Option<ShopSettings>) -> ShopSettings {
    let mut shop = demo.clone();
    if let Some(prev) = stored {
        shop.templates = prev.templates;
        shop.contact = prev.contact;
        shop.payment_mail = prev.payment_mail;
        shop.console_url = prev.console_url;
        shop.signature = prev.signature;
    }
    shop
}

/// The pull settings: the first pull reaches back over the whole seeded timeline.
fn pull_settings() -> PullSettings {
    PullSettings {
        first_lookback: (SPAN + TIMELINE_GAP + TimeDelta::hours(1)).to_std().unwrap_or_default(),
        ..PullSettings::default()
    }
}

/// One sandbox marketplace and the client the puller uses on it.
struct Market {
    marketplace: Marketplace,
    seeded: usize,
    client: AnyClient,
    sandbox: Started,
}

/// Starts the five sandboxes with `state.orders` orders spread over them and the timeline, and
/// builds each one's client from the secret an operator would store.
async fn start_markets(state: &DemoState, shop_id: &str) -> anyhow::Result<Vec<Market>> {
    let mut markets = Vec::new();
    for (i, marketplace) in MARKETPLACES.into_iter().enumerate() {
        let n = state.orders / MARKETPLACES.len() + usize::from(i < state.orders % MARKETPLACES.len());
        let step_secs = (SPAN.num_seconds() / i64::try_from(n.max(1)).unwrap_or(i64::MAX)).max(1);
        let start = state.timeline_end - TimeDelta::seconds(step_secs * i64::try_from(n).unwrap_or(0));
        let seed = Seed {
            orders: n,
            seed: state.seed.wrapping_mul(1_000).wrapping_add(i as u64),
            start,
            step_secs,
            shop_id: shop_id.to_string(),
        };
        let config = SandboxConfig { port: 0, seed, faults: Faults::default(), throttle: None };
        let sandbox = ichigen_sandbox::start(marketplace, config)
            .await
            .with_context(|| format!("starting the {marketplace} sandbox"))?;
        let secret = MarketplaceSecret::from_json(&ichigen_sandbox::secret_json(marketplace, &sandbox))
            .with_context(|| format!("{marketplace} sandbox secret"))?;
        let http =
            HttpSettings { timeout: Duration::from_secs(10), retry: RetryPolicy::default(), rate_scale: RATE_SCALE };
        let client = build_client(shop_id, &secret, http).with_context(|| format!("{marketplace} client"))?;
        markets.push(Market { marketplace, seeded: sandbox.book.len(), client, sandbox });
    }
    Ok(markets)
}

/// The orders queue as the puller sees it, moving the progress bar as pages are queued.
struct Counting<'a, Q> {
    inner: &'a Q,
    progress: &'a Progress,
}

impl<Q: Queue<Order>> Queue<Order> for Counting<'_, Q> {
    async fn send_all(&self, messages: &[Order]) -> Result<(), PortError> {
        self.inner.send_all(messages).await?;
        self.progress.pulled(messages.len());
        Ok(())
    }
}

/// Pulls every marketplace once, from its watermark to now. A marketplace that fails is reported
/// and counted; the others go on.
#[allow(clippy::too_many_arguments)] // The demo's one wiring point of the pull.
async fn pull_all<
    Q: OrderQueue,
    W: WatermarkStore + OrderStore + TrackingWrites + ShopDirectory + StockStore,
    X: Quarantine,
    M: MailQueue,
>(
    markets: &[Market],
    shop_id: &str,
    queue: &Q,
    marks: &W,
    quarantine: &X,
    mails: &M,
    tally: &RefCell<Tally>,
    progress: &Progress,
) {
    let queue = Counting { inner: queue, progress };
    let notices = MemoryNotices::new();
    for market in markets {
        let puller = Puller {
            source: &market.client,
            queue: &queue,
            marks,
            quarantine,
            store: marks,
            mails,
            notices: &notices,
            policy: ichigen_marketplaces::policies().of(market.marketplace),
            settings: pull_settings(),
        };
        // After each pull, inside its lease: the pulled orders held and the mall's numbers pushed.
        let push = StockPush {
            stock: marks,
            mall: &market.client,
            notices: &notices,
            settings: PushSettings { buffer: 0, latency: puller.policy.stock_latency, follow_up_gap: FOLLOW_UP_GAP },
            follow_up: false,
        };
        match puller.run_with(shop_id, now(), || Duration::from_secs(3600), &push).await {
            Ok(report) => tally.borrow_mut().pulled(&report),
            Err(e) => {
                tally.borrow_mut().failed(market.marketplace);
                progress.println(&format!("ichigen demo: pulling {}: {e}", market.marketplace));
            }
        }
    }
    // Staff notices go to the alarm topic on AWS; the demo prints them.
    for (subject, text) in notices.sent() {
        progress.println(&format!("ichigen demo: staff notice: {subject}\n{text}"));
    }
    progress.pulls_done();
}

/// Runs one order through the processor's queue handler, trying again at once when the failure
/// may pass.
async fn process_one<S: OrderStore + TrackingWrites, D: ShopDirectory, Q: MailQueue, K: StockStore>(
    processor: &Processor<S, D, Q, K>,
    order: Order,
    tally: &RefCell<Tally>,
    progress: &Progress,
) -> Result<Processed, MessageFailure> {
    let marketplace = order.marketplace;
    let mut attempt = 1;
    loop {
        match processor.handle(order.clone(), now()).await {
            Ok(done) => {
                tally.borrow_mut().processed(&done);
                progress.processed(done.mails.len());
                return Ok(done);
            }
            Err(e) if e.retryable && attempt < ATTEMPTS => attempt += 1,
            Err(e) => {
                tally.borrow_mut().failed(marketplace);
                progress.processed(0);
                // The error names the order by id and the field by name, never a buyer's data.
                progress.println(&format!("ichigen demo: processing: {}", e.reason));
                return Err(e);
            }
        }
    }
}

/// Runs one mail job through the notifier's queue handler, trying again at once when the failure
/// may pass.
pub(crate) async fn notify_one<S, D, L, M, R>(
    notifier: &Notifier<S, D, L, M, R>,
    job: &MailJob,
    tally: &RefCell<Tally>,
    progress: &Progress,
) -> Result<Notified, MessageFailure>
where
    S: OrderStore,
    D: ShopDirectory,
    L: MailLedger + ParkedMail + MailEvents,
    M: Mailer,
    R: RelayMailers,
{
    let mut attempt = 1;
    loop {
        match notifier.handle(job, now()).await {
            Ok(done) => {
                tally.borrow_mut().notified(job.order.marketplace, job.kind, &done);
                progress.mailed();
                return Ok(done);
            }
            Err(e) if e.retryable && attempt < ATTEMPTS => attempt += 1,
            Err(e) => {
                tally.borrow_mut().failed(job.order.marketplace);
                progress.mailed();
                progress.println(&format!("ichigen demo: mail: {}", e.reason));
                return Err(e);
            }
        }
    }
}

/// Writes every stored order as one JSON line to `path` (the whole file anew); returns (orders, on hold).
async fn write_orders<S: OrderStore>(store: &S, shop_id: &str, path: &Path) -> anyhow::Result<(usize, usize)> {
    let orders = all_orders(store, shop_id).await?;
    let mut text = Vec::new();
    for s in &orders {
        serde_json::to_writer(&mut text, &OrderView::from(s))?;
        text.push(b'\n');
    }
    write_atomically(path, &text)?;
    Ok((orders.len(), orders.iter().filter(|s| s.status == OrderStatus::OnHold).count()))
}

fn count_eml(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries.filter_map(Result::ok).filter(|e| e.path().extension().is_some_and(|x| x == "eml")).count()
        })
        .unwrap_or(0)
}

/// Runs the demo.
pub fn run(args: &DemoArgs) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(run_async(args))
}

async fn run_async(args: &DemoArgs) -> anyhow::Result<ExitCode> {
    let dir = args.store.dir.clone();
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let state = load_state(&dir, args.orders, args.seed)?;
    let shop = demo_shop(&args.store.shop);
    let mode = if args.store.uses_aws() { "aws" } else { "embedded" };
    let backend = match &args.store.aws_endpoint {
        Some(url) => format!("AWS adapters at {url} (table {})", args.store.table),
        None if args.store.aws => format!("AWS adapters (table {})", args.store.table),
        None => format!("embedded store {}", args.store.db_path().display()),
    };
    println!(
        "ichigen demo: {} orders on 5 sandbox marketplaces (seed {}, sandbox rate limits ×{RATE_SCALE}), {backend}",
        state.orders, state.seed
    );
    let markets = start_markets(&state, &shop.shop_id).await?;
    shelves::restore(&dir, &markets)?;
    let expected: usize = markets.iter().map(|m| m.seeded).sum();
    let progress = Progress::new(expected);
    let started = Instant::now();
    let stock = StockRun { file: args.stock.as_deref(), orders: state.orders, since: now() };
    let run = if args.store.uses_aws() {
        aws::run(&args.store, &shop, &markets, &progress, &dir, &stock).await.map(|(t, s, h, m)| (t, s, h, None, m))
    } else {
        local::run(&dir, &shop, &markets, &progress, !args.pull_only, &stock).await
    };
    progress.finish();
    // Whatever the run did, the malls' numbers are what they are now.
    let kept = shelves::keep(&dir, &markets);
    let (tally, stored_orders, stored_on_hold, day, moved) = run?;
    kept?;
    let seconds = started.elapsed().as_secs_f64();
    let (marketplaces, total) = tally.finish();
    let outbox = dir.join("outbox");
    let summary = Summary {
        mode: mode.to_string(),
        dir: dir.clone(),
        seed: state.seed,
        orders_seeded: state.orders,
        seconds,
        marketplaces,
        total,
        stored_orders,
        stored_on_hold,
        outbox_files: (!args.store.uses_aws()).then(|| count_eml(&outbox)),
        day,
        stock: Some(moved),
    };
    write_atomically(&dir.join("summary.json"), serde_json::to_string_pretty(&summary)?.as_bytes())?;
    print_summary(&summary, &dir, &args.store)?;
    Ok(if summary.total.failed > 0 { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

fn print_summary(s: &Summary, dir: &Path, args: &StoreArgs) -> anyhow::Result<()> {
    let aws = args.uses_aws();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    writeln!(out, "{}", tally::main_table(s))?;
    if let Some(held) = tally::held_table(s) {
        writeln!(out, "{held}")?;
    }
    if let Some(stock) = stock::table(s) {
        writeln!(out, "{stock}")?;
    }
    let t = &s.total;
    let mut line = format!(
        "{} new or changed, {} read again unchanged; {} mails sent",
        t.new_or_changed,
        t.unchanged,
        t.mails_total()
    );
    if t.mails_already_sent > 0 {
        line.push_str(&format!(", {} already sent before (not sent again)", t.mails_already_sent));
    }
    if t.mails_skipped > 0 {
        line.push_str(&format!(", {} with nothing to send any more", t.mails_skipped));
    }
    if t.mails_parked > 0 {
        line.push_str(&format!(
            ", {} waiting for the shop's 楽天 relay settings (kept; staff were told: ichigen mail relay set)",
            t.mails_parked
        ));
    }
    if t.failed > 0 {
        line.push_str(&format!("; {} FAILED (see above)", t.failed));
    }
    writeln!(out, "{line}")?;
    writeln!(
        out,
        "Amazon forbids mail to its buyers: staff alerts only. Orders first seen shipped or cancelled get no thank-you."
    )?;
    if !aws {
        writeln!(
            out,
            "楽天 buyer mail takes 楽天's relay (X-Ichigen-Route: rakuten-relay); the demo has no relay account, so those \
             files are its stand-in (X-Ichigen-Relay: embedded-stand-in)."
        )?;
    }
    if t.reread > 0 {
        writeln!(out, "{} open orders read again by id (楽天 cancellations, Yahoo and au PAY look-back)", t.reread)?;
    }
    if t.quarantined > 0 {
        writeln!(out, "{} unreadable orders quarantined", t.quarantined)?;
    }
    if t.tracking_registered + t.tracking_retried + t.tracking_failed > 0 {
        writeln!(
            out,
            "tracking write-back: {} numbers registered on the marketplaces, {} to try again, {} refused (staff told); {} shipping mails",
            t.tracking_registered,
            t.tracking_retried,
            t.tracking_failed,
            t.mails.get("shipping").copied().unwrap_or(0)
        )?;
    }
    if let Some(day) = &s.day {
        let labels: Vec<String> = day.labels.iter().map(|(f, n)| format!("{f} {n}")).collect();
        writeln!(
            out,
            "whole day: label data for {} parcels ({}), {} orders left for staff; {} tracking numbers imported, \
             {} registered on the marketplaces, {} shipping mails delivered",
            day.labels.values().sum::<usize>(),
            labels.join(", "),
            day.labels_skipped,
            day.tracking_imported,
            t.tracking_registered,
            t.mails.get("shipping").copied().unwrap_or(0)
        )?;
    }
    if s.day.is_none() && s.mode == "aws" {
        writeln!(out, "the afternoon (label data → tracking numbers → write-back) runs on the embedded store only")?;
    }
    if let Some(stock) = &s.stock {
        let mut line = format!(
            "stock: {} SKUs, {} units on hand, {} reserved by open orders",
            stock.skus, stock.on_hand, stock.reserved
        );
        if !stock.sold_out.is_empty() {
            line.push_str(&format!("; sold out: {}", stock.sold_out.join(", ")));
        }
        writeln!(out, "{line}")?;
    }
    let path = |name: &str| -> PathBuf { dir.join(name) };
    writeln!(out, "wrote:")?;
    writeln!(
        out,
        "  {:<34} {} stored orders ({} on hold)",
        path("orders.jsonl").display(),
        s.stored_orders,
        s.stored_on_hold
    )?;
    match s.outbox_files {
        Some(n) => writeln!(
            out,
            "  {:<34} {n} .eml files ({} new this run)",
            format!("{}/", path("outbox").display()),
            t.mails_total()
        )?,
        None => writeln!(out, "  {:<34} {} mails sent through SES this run", "(SES)", t.mails_total())?,
    }
    if !aws {
        writeln!(out, "  {:<34} the embedded store", path("ichigen.db").display())?;
        if path("quarantine.jsonl").exists() {
            writeln!(out, "  {:<34} unreadable orders", path("quarantine.jsonl").display())?;
        }
    }
    if s.day.is_some() {
        writeln!(
            out,
            "  {:<34} label data (b2/ehiden/yupri.csv) and the carriers' numbers (tracking.csv)",
            format!("{}/", path("labels").display())
        )?;
    }
    if path(shelves::FILE).exists() {
        writeln!(
            out,
            "  {:<34} the marketplaces' own stock numbers, kept for the next run",
            path(shelves::FILE).display()
        )?;
    }
    if path("stock.csv").exists() {
        writeln!(
            out,
            "  {:<34} the sample stock file (ichigen stock list shows the stock now)",
            path("stock.csv").display()
        )?;
    }
    writeln!(out, "  {:<34} this summary as JSON", path("summary.json").display())?;
    writeln!(out, "pull → check → store → mail took {:.1} s", s.seconds)?;
    let where_arg = match &args.aws_endpoint {
        Some(url) => format!(" --aws-endpoint {url} --table {}", args.table),
        None if aws => format!(" --aws --table {}", args.table),
        None if dir == Path::new("ichigen-demo") => String::new(),
        None => format!(" --dir {}", dir.display()),
    };
    writeln!(out, "next: ichigen orders list --status on_hold{where_arg}")?;
    Ok(())
}
