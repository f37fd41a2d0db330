//! The embedded day the harness drives: the five sandboxes (their state outlives every process
//! life), and the steps a shop's day takes — pull → process → notify, the marketplaces changing
//! orders later, staff releasing and holding orders and importing tracking, the write-back and
//! its shipping mails — each through the real use cases over the real embedded adapters (the
//! SQLite store and its queues, the `.eml` outbox), every port wrapped in [`Faulty`].
//!
//! A process life runs on its own thread with its own runtime and opens the store afresh; a
//! kill ends the life by unwinding it, and the next life resumes at the step that was under way
//! (what an operator or a scheduler does: run the pipeline again, repeat the staff command).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, FixedOffset, TimeDelta, Utc};
use ichigen_core::pipeline::NoStock;
use ichigen_core::pipeline::memory::MemoryNotices;
use ichigen_core::pipeline::shipping::record_tracking;
use ichigen_core::pipeline::{
    CarrierAccounts, MailJob, MessageFailure, Notifier, OrderKey, OrderStore, ProcessSettings, Processor, PullSettings,
    Puller, ShopContact, ShopDirectory, ShopSettings, StaffDecision, StoredOrder, TrackingWrites, WatermarkStore,
    consume_batch, staff,
};
use ichigen_core::{Carrier, Marketplace, Order, OrderStatus, Tracking};
use ichigen_local::{EmlOutbox, JsonlQuarantine, MAIL_QUEUE, SqliteQueue, SqliteStore};
use ichigen_marketplaces::client::{AnyClient, RetryPolicy};
use ichigen_marketplaces::{HttpSettings, MarketplaceSecret, build_client};
use ichigen_sandbox::{Faults, SandboxConfig, Seed, Started};

use crate::inject::{Injector, Killed};
use crate::wrap::{Faulty, StandInRelays, Watched};

/// The harness shop.
pub const SHOP_ID: &str = "shop-harness";
/// Sender of its buyer mails (and the stand-in relays' registered sender).
pub const MAIL_FROM: &str = "shop@example.jp";
/// The shop's rules: the repository's commented example, blacklist included, so some orders hold.
const RULES: &str = include_str!("../../../rules.example.toml");
/// The five marketplaces with a sandbox.
pub const MARKETPLACES: [Marketplace; 5] =
    [Marketplace::Rakuten, Marketplace::Yahoo, Marketplace::Amazon, Marketplace::Aupay, Marketplace::Qoo10];
/// Marketplace rate limits ×this against the sandboxes (as the demo).
const RATE_SCALE: f64 = 1_000.0;
/// The seeded orders span this long, ending [`TIMELINE_GAP`] before the run (as the demo).
const SPAN: TimeDelta = TimeDelta::days(2);
const TIMELINE_GAP: TimeDelta = TimeDelta::minutes(20 * 60 + 15);
/// A mail claim's lease: short, so a claim a dead life left ends within a pause of the harness.
pub const MAIL_LEASE: Duration = Duration::from_millis(300);
/// The time a pull says it has, and its page budget: the pair's pull lease is their sum, so a
/// lease a dead life left ends within a pause of the harness.
const PULL_TIME: Duration = Duration::from_millis(200);
/// How long the harness waits after a kill before the next life: every lease the dead life took
/// has ended by then (what a Lambda's lease does at its deadline).
pub const AFTER_KILL: Duration = Duration::from_millis(550);
/// Tries of one order or mail job whose failure may pass, as the demo.
const ATTEMPTS: usize = 3;
/// Settle cycles at most at the end of the day.
const SETTLE_CYCLES: usize = 8;

/// One sandbox with its back office.
pub struct Market {
    /// Which marketplace.
    pub marketplace: Marketplace,
    /// The running sandbox (its book is the marketplace's truth).
    pub sandbox: Started,
    secret: String,
    office: Office,
}

/// The back-office handle of a sandbox, where it has one beyond its book.
enum Office {
    Rakuten(ichigen_sandbox::rakuten::BackOffice),
    Yahoo(ichigen_sandbox::yahoo::Control),
    Qoo10(ichigen_sandbox::qoo10::BackOffice),
    Book,
}

impl Market {
    /// The marketplace's own cancellation (its back office), or false when it does not apply.
    fn cancel(&self, order_id: &str) -> bool {
        match &self.office {
            Office::Rakuten(o) => o.cancel(order_id),
            Office::Yahoo(c) => c.cancel(order_id).is_some(),
            Office::Qoo10(o) => o.cancel(order_id),
            Office::Book => match self.marketplace {
                Marketplace::Aupay => ichigen_sandbox::aupay::cancel(&self.sandbox.book, order_id).is_some(),
                _ => false,
            },
        }
    }

    /// A fresh client for a process life (a new process builds its clients anew).
    pub fn client(&self) -> anyhow::Result<AnyClient> {
        let secret = MarketplaceSecret::from_json(&self.secret).context("sandbox secret")?;
        let http =
            HttpSettings { timeout: Duration::from_secs(10), retry: RetryPolicy::default(), rate_scale: RATE_SCALE };
        build_client(SHOP_ID, &secret, http).context("sandbox client")
    }
}

/// Starts the five sandboxes with `orders` orders from `seed`, the demo's timeline.
pub async fn start_markets(orders: usize, seed: u64) -> anyhow::Result<Vec<Market>> {
    let end = Utc::now().with_timezone(&ichigen_core::JST) - TIMELINE_GAP;
    let end = end - TimeDelta::nanoseconds(i64::from(chrono::Timelike::nanosecond(&end)));
    let mut markets = Vec::new();
    for (i, marketplace) in MARKETPLACES.into_iter().enumerate() {
        let n = orders / MARKETPLACES.len() + usize::from(i < orders % MARKETPLACES.len());
        let step_secs = (SPAN.num_seconds() / i64::try_from(n.max(1)).unwrap_or(i64::MAX)).max(1);
        let start = end - TimeDelta::seconds(step_secs * i64::try_from(n).unwrap_or(0));
        let seed = Seed {
            orders: n,
            seed: seed.wrapping_mul(1_000).wrapping_add(i as u64),
            start,
            step_secs,
            shop_id: SHOP_ID.to_string(),
        };
        let config = SandboxConfig { port: 0, seed, faults: Faults::default(), throttle: None };
        let (sandbox, office) = match marketplace {
            Marketplace::Rakuten => {
                let (s, o) =
                    ichigen_sandbox::rakuten::start_with_back_office(config, ichigen_sandbox::rakuten::RESULT_CAP)
                        .await?;
                (s, Office::Rakuten(o))
            }
            Marketplace::Yahoo => {
                let (s, c) = ichigen_sandbox::yahoo::start_with_control(config).await?;
                (s, Office::Yahoo(c))
            }
            Marketplace::Qoo10 => {
                let (s, o) =
                    ichigen_sandbox::qoo10::start_with_back_office(config, ichigen_sandbox::qoo10::Options::default())
                        .await?;
                (s, Office::Qoo10(o))
            }
            _ => (ichigen_sandbox::start(marketplace, config).await?, Office::Book),
        };
        let secret = ichigen_sandbox::secret_json(marketplace, &sandbox);
        markets.push(Market { marketplace, sandbox, secret, office });
    }
    Ok(markets)
}

/// The harness shop: the demo's settings.
pub fn shop() -> ShopSettings {
    let mut shop = ShopSettings::new(SHOP_ID, "いちげん商店（ハーネス）", MAIL_FROM);
    shop.staff_to = vec!["staff@example.jp".to_string()];
    shop.rules_toml = RULES.to_string();
    shop.signature = "――――――――――――――――\nいちげん商店\nshop@example.jp\n".to_string();
    shop.contact = ShopContact {
        company: "株式会社いちげん（ハーネス）".to_string(),
        postal_code: "150-0002".to_string(),
        address: "東京都渋谷区渋谷2丁目21-1".to_string(),
        phone: "03-0000-0000".to_string(),
        email: MAIL_FROM.to_string(),
        hours: "平日 10:00〜17:00".to_string(),
    };
    shop.carrier_accounts = CarrierAccounts {
        yamato_billing_code: "0300000000".to_string(),
        yamato_freight_code: "01".to_string(),
        sagawa_customer_code: "000000000000".to_string(),
    };
    shop
}

/// The steps of the day, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    /// Pull every marketplace, process the orders queue, send the mail queue.
    Cycle,
    /// The marketplaces change orders: cancellations, address edits with and without a new
    /// update time, tracking on an open order, a change indexed late.
    ChangesAtMarketplaces,
    /// Staff release held orders, hold one by hand, import tracking numbers.
    Staff,
    /// The marketplaces change orders staff acted on: a released order's address is edited
    /// (it is checked again and held again), the hand-held order is cancelled.
    LaterChanges,
    /// A day passes: every pair's reconciliation by id falls due (its last one is moved a day
    /// back), as it does within a day at the marketplaces' reconcile periods (Yahoo hourly, Qoo10
    /// daily): what their searches cannot show (a change indexed late, an edit that moves no
    /// search date) is read then.
    DayPasses,
    /// Cycles until nothing changes and nothing waits.
    Settle,
}

const STEPS: [Step; 9] = [
    Step::Cycle,
    Step::ChangesAtMarketplaces,
    Step::Cycle,
    Step::Staff,
    Step::Cycle,
    Step::LaterChanges,
    Step::Cycle,
    Step::DayPasses,
    Step::Settle,
];

/// Moves every pair's last reconciliation a day back: the harness's clock, not a pipeline action.
async fn day_passes(store: &SqliteStore) -> anyhow::Result<()> {
    for m in MARKETPLACES {
        if let Some(mut mark) = store.get_watermark(SHOP_ID, m).await? {
            let expected = Some(mark.rev);
            mark.reconciled_at = mark.reconciled_at.map(|at| at - TimeDelta::days(1));
            store.put_watermark(&mark, expected).await?;
        }
    }
    Ok(())
}

/// The orders the day's script picked (once, so a repeated step acts on the same ones).
#[derive(Debug, Default, Clone)]
pub struct Picks {
    /// Held orders staff release.
    pub release: Vec<OrderKey>,
    /// The open order staff hold by hand.
    pub hold: Option<OrderKey>,
    /// Orders staff record a tracking number for, with the number.
    pub ship: Vec<(OrderKey, String)>,
    /// The changes made at the marketplaces: order and what.
    pub changes: Vec<(OrderKey, &'static str)>,
    /// Whether the marketplaces' changes were made.
    pub changed: bool,
    /// Whether the later changes were made.
    pub changed_later: bool,
}

/// One scenario's durable state and the harness's view of it.
pub struct Scenario<'m> {
    /// The sandboxes.
    pub markets: &'m [Market],
    /// The injector (counts, the armed fault, observations).
    pub inj: Arc<Injector>,
    /// The scenario's folder: `ichigen.db`, `outbox/`, `quarantine.jsonl`.
    pub dir: PathBuf,
    step: AtomicUsize,
    picks: Mutex<Picks>,
    /// Process lives run (1 + kills).
    pub lives: usize,
    /// Panics other than a simulated kill: bugs of the code under test, described.
    pub panics: Vec<String>,
    /// Errors the day's steps reported (kept going; the checker judges the outcome).
    pub errors: Vec<String>,
}

impl<'m> Scenario<'m> {
    /// A scenario over `markets` in `dir`, injecting through `inj`.
    pub fn new(markets: &'m [Market], inj: Arc<Injector>, dir: &Path) -> Scenario<'m> {
        Scenario {
            markets,
            inj,
            dir: dir.to_path_buf(),
            step: AtomicUsize::new(0),
            picks: Mutex::new(Picks::default()),
            lives: 0,
            panics: Vec::new(),
            errors: Vec::new(),
        }
    }

    /// The store's file.
    pub fn db(&self) -> PathBuf {
        self.dir.join("ichigen.db")
    }

    /// Runs the day to its end, one process life after another.
    pub fn run(&mut self) -> anyhow::Result<()> {
        {
            let store = SqliteStore::open(&self.db())?;
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            rt.block_on(store.put_shop(&shop()))?;
        }
        // A dead life is the only end of a life other than finishing.
        while self.step.load(Ordering::SeqCst) < STEPS.len() {
            self.lives += 1;
            if self.lives > 6 {
                anyhow::bail!("the day did not finish in 6 process lives");
            }
            let outcome = std::thread::scope(|s| {
                s.spawn(|| -> anyhow::Result<Vec<String>> {
                    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
                    rt.block_on(self.life())
                })
                .join()
            });
            match outcome {
                Ok(Ok(errors)) => self.errors.extend(errors),
                Ok(Err(e)) => return Err(e),
                Err(payload) if payload.is::<Killed>() => std::thread::sleep(AFTER_KILL),
                Err(payload) => {
                    let what = payload
                        .downcast_ref::<String>()
                        .cloned()
                        .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_string()))
                        .unwrap_or_else(|| "a panic".to_string());
                    self.panics.push(what);
                    // The step panicked for real: go on with the next one, as an operator would.
                    self.step.fetch_add(1, Ordering::SeqCst);
                }
            }
        }
        Ok(())
    }

    /// One process life: the store opened afresh, fresh use-case objects, from the step under way.
    async fn life(&self) -> anyhow::Result<Vec<String>> {
        let store = SqliteStore::open(&self.db())?;
        let outbox = EmlOutbox::for_store(self.dir.join("outbox"), &store)?;
        let quarantine = JsonlQuarantine::new(self.dir.join("quarantine.jsonl"));
        let orders = SqliteQueue::<Order>::new(&store, "orders");
        let mails = SqliteQueue::<MailJob>::new(&store, "mail");
        let life = Life::new(self, &store, &outbox, &quarantine, &orders, &mails)?;
        let mut errors = Vec::new();
        loop {
            let at = self.step.load(Ordering::SeqCst);
            let Some(&step) = STEPS.get(at) else { break };
            match step {
                Step::Cycle => {
                    life.cycle(&mut errors).await?;
                }
                Step::ChangesAtMarketplaces => self.changes_at_marketplaces(&store).await?,
                Step::Staff => life.staff(&mut errors).await?,
                Step::LaterChanges => self.later_changes(&store).await?,
                Step::DayPasses => day_passes(&store).await?,
                Step::Settle => life.settle(&mut errors).await?,
            }
            self.step.fetch_add(1, Ordering::SeqCst);
        }
        Ok(errors)
    }

    fn picks(&self) -> std::sync::MutexGuard<'_, Picks> {
        self.picks.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// What the day's script picked.
    pub fn picked(&self) -> Picks {
        self.picks().clone()
    }

    fn market(&self, marketplace: Marketplace) -> Option<&Market> {
        self.markets.iter().find(|m| m.marketplace == marketplace)
    }

    /// The marketplaces change orders (not a fault point: this is the outside world).
    async fn changes_at_marketplaces(&self, store: &SqliteStore) -> anyhow::Result<()> {
        if self.picks().changed {
            return Ok(());
        }
        let stored = all_stored(store).await?;
        let now = Utc::now().with_timezone(&ichigen_core::JST);
        for m in self.markets.iter().filter(|m| m.marketplace != Marketplace::Amazon) {
            let book = &m.sandbox.book;
            let mine: Vec<&StoredOrder> = stored
                .iter()
                .filter(|s| s.order.marketplace == m.marketplace && s.order.shipments.len() <= 1)
                .collect();
            // Each change takes the next open order not held, so every kind of change reaches
            // every marketplace even with a handful of orders each.
            let quiet_edits = matches!(m.marketplace, Marketplace::Rakuten | Marketplace::Aupay);
            // Qoo10 documents no destination change after the order, and its only per-order read
            // has no address fields (fact sheet): an edit there could be neither made nor seen.
            let address_edits = m.marketplace != Marketplace::Qoo10;
            let mut next = 0..;
            let (cancel_at, moved_at) = (next.next().unwrap_or(0), next.next().unwrap_or(1));
            let quiet_at = if quiet_edits { next.next() } else { None };
            let (tracking_at, late_at) = (next.next().unwrap_or(3), next.next().unwrap_or(4));
            let open_free: Vec<&&StoredOrder> =
                mine.iter().filter(|s| s.status.is_open() && s.status != OrderStatus::OnHold).collect();
            let held: Vec<&&StoredOrder> = mine.iter().filter(|s| s.status == OrderStatus::OnHold).collect();
            let mut log: Vec<(OrderKey, &'static str)> = Vec::new();
            // A cancellation of an open order and of a held one.
            if let Some(s) = open_free.get(cancel_at)
                && m.cancel(&s.order.order_id)
            {
                log.push((s.key(), "cancelled at the marketplace"));
            }
            // (Only where another held order is left for staff to release.)
            if let Some(s) = held.get(1)
                && m.cancel(&s.order.order_id)
            {
                log.push((s.key(), "cancelled at the marketplace while held"));
            }
            // An address edit that moves the update time.
            if let Some(s) = open_free.get(moved_at).filter(|_| address_edits) {
                book.update(&s.order.order_id, |o| edit_address(o, "（追記）"));
                log.push((s.key(), "address edited, update time moved"));
            }
            // One that does not, where the marketplace does not move it on every change (楽天,
            // au PAY, Qoo10: issue 13); Yahoo and Amazon move it on any change.
            if let Some(s) = quiet_at.and_then(|at| open_free.get(at)) {
                book.update_at(&s.order.order_id, None, |o| edit_address(o, "（訂正）"));
                log.push((s.key(), "address edited, update time kept"));
            }
            // Tracking entered at the marketplace while the order stays open.
            if let Some(s) = open_free.get(tracking_at) {
                let number = tracking_number(&s.order.order_id);
                book.update(&s.order.order_id, |o| {
                    o.tracking.push(Tracking {
                        carrier: Carrier::Yamato,
                        number,
                        shipped_at: Some(now),
                        shipment_id: None,
                    });
                });
                log.push((s.key(), "tracking entered at the marketplace, order still open"));
            }
            // A change indexed late: its update time is before the last watermark minus the overlap.
            if let Some(s) = open_free.get(late_at).filter(|_| address_edits) {
                book.update_at(&s.order.order_id, Some(now - TimeDelta::hours(2)), |o| edit_address(o, "（遅延）"));
                log.push((s.key(), "address edited, indexed late (update time 2 h back, beyond the overlap)"));
            }
            self.picks().changes.extend(log);
        }
        self.picks().changed = true;
        Ok(())
    }

    /// The marketplaces change orders staff acted on.
    async fn later_changes(&self, store: &SqliteStore) -> anyhow::Result<()> {
        if self.picks().changed_later {
            return Ok(());
        }
        let picks = self.picked();
        // A released order's address edited at the marketplace: checked again, held again.
        let mut log: Vec<(OrderKey, &'static str)> = Vec::new();
        if let Some(key) = picks.release.first()
            && let Some(m) = self.market(key.marketplace)
        {
            m.sandbox.book.update(&key.order_id, |o| edit_address(o, "（再編集）"));
            log.push((key.clone(), "released by staff, then its address edited at the marketplace"));
        }
        // The order staff held by hand is cancelled at the marketplace.
        if let Some(key) = &picks.hold
            && let Some(m) = self.market(key.marketplace)
            && m.cancel(&key.order_id)
        {
            log.push((key.clone(), "held by staff, then cancelled at the marketplace"));
        }
        let _ = store;
        let mut picks = self.picks();
        picks.changes.extend(log);
        picks.changed_later = true;
        Ok(())
    }
}

/// A small edit of the address's second line.
fn edit_address(o: &mut Order, note: &str) {
    o.ship_to.address2.push_str(note);
    if let Some(first) = o.shipments.first_mut() {
        first.ship_to.address2.push_str(note);
    }
}

/// A valid Yamato number made from an order id (deterministic).
pub fn tracking_number(order_id: &str) -> String {
    let mut h: u64 = 1469598103934665603;
    for b in order_id.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(1099511628211);
    }
    let first11 = format!("{:011}", 10_000_000_000 + h % 89_999_999_999);
    let cd = ichigen_core::carrier::check_digit(&first11).unwrap_or(0);
    format!("{first11}{cd}")
}

/// Every stored order of the harness shop.
pub async fn all_stored<S: OrderStore>(store: &S) -> anyhow::Result<Vec<StoredOrder>> {
    let mut out = Vec::new();
    for status in OrderStatus::ALL {
        out.extend(store.list_by_status(SHOP_ID, status, None, None).await?);
    }
    Ok(out)
}

fn now() -> DateTime<FixedOffset> {
    Utc::now().with_timezone(&ichigen_core::JST)
}

type FStore<'a> = Faulty<&'a SqliteStore>;
type FMailer<'a> = Faulty<Watched<'a>>;
type FRelays<'a> = Faulty<StandInRelays<Watched<'a>>>;

/// One life's use-case objects over the wrapped adapters.
struct Life<'a, 'm> {
    sc: &'a Scenario<'m>,
    store: &'a SqliteStore,
    fstore: FStore<'a>,
    orders: &'a SqliteQueue<'a, Order>,
    mails: &'a SqliteQueue<'a, MailJob>,
    forders: Faulty<&'a SqliteQueue<'a, Order>>,
    fmails: Faulty<&'a SqliteQueue<'a, MailJob>>,
    fquarantine: Faulty<&'a JsonlQuarantine>,
    fmailer: FMailer<'a>,
    frelays: FRelays<'a>,
    sources: Vec<(Marketplace, Faulty<AnyClient>)>,
}

impl<'a, 'm> Life<'a, 'm> {
    fn new(
        sc: &'a Scenario<'m>,
        store: &'a SqliteStore,
        outbox: &'a EmlOutbox,
        quarantine: &'a JsonlQuarantine,
        orders: &'a SqliteQueue<'a, Order>,
        mails: &'a SqliteQueue<'a, MailJob>,
    ) -> anyhow::Result<Self> {
        let inj = &sc.inj;
        let watched = Watched { outbox, store, inj };
        let mut sources = Vec::new();
        for m in sc.markets {
            sources.push((m.marketplace, Faulty::new(m.client()?, inj, format!("OrderSource:{}", m.marketplace))));
        }
        Ok(Life {
            sc,
            store,
            fstore: Faulty::new(store, inj, "store"),
            orders,
            mails,
            forders: Faulty::new(orders, inj, "OrderQueue"),
            fmails: Faulty::new(mails, inj, "MailQueue"),
            fquarantine: Faulty::new(quarantine, inj, "Quarantine"),
            fmailer: Faulty::new(watched, inj, "Mailer"),
            frelays: Faulty::new(StandInRelays { mailer: watched, registered_from: MAIL_FROM }, inj, "RelayMailers"),
            sources,
        })
    }

    fn notifier(&self) -> Notifier<&FStore<'a>, &FStore<'a>, &FStore<'a>, &FMailer<'a>, &FRelays<'a>> {
        Notifier::new(
            &self.fstore,
            &self.fstore,
            &self.fstore,
            &self.fmailer,
            ichigen_marketplaces::policies(),
            MAIL_LEASE,
        )
        .with_relays(&self.frelays)
    }

    /// Pull every marketplace, process every queued order, send every queued mail.
    async fn cycle(&self, errors: &mut Vec<String>) -> anyhow::Result<()> {
        self.pull_all(errors).await;
        self.process_all(errors).await?;
        self.notify_all(errors).await?;
        Ok(())
    }

    async fn pull_all(&self, errors: &mut Vec<String>) {
        let notices = Faulty::new(MemoryNotices::new(), &self.sc.inj, "StaffNotices");
        let settings = PullSettings {
            first_lookback: (SPAN + TIMELINE_GAP + TimeDelta::hours(1)).to_std().unwrap_or_default(),
            page_budget: PULL_TIME,
            ..PullSettings::default()
        };
        for (marketplace, source) in &self.sources {
            let puller = Puller {
                source,
                queue: &self.forders,
                marks: &self.fstore,
                quarantine: &self.fquarantine,
                store: &self.fstore,
                mails: &self.fmails,
                notices: &notices,
                policy: ichigen_marketplaces::policies().of(*marketplace),
                settings,
            };
            if let Err(e) = puller.run(SHOP_ID, now(), || PULL_TIME).await {
                errors.push(format!("pull {marketplace}: {e}"));
            }
        }
    }

    async fn process_all(&self, errors: &mut Vec<String>) -> anyhow::Result<()> {
        let processor = Processor::new(
            &self.fstore,
            &self.fstore,
            &self.fmails,
            ichigen_marketplaces::policies(),
            ProcessSettings::default(),
        );
        // Through the consume port, as the demo and the Lambdas take their queues.
        loop {
            let batch = consume_batch(&self.orders, 100, |order: Order| {
                let processor = &processor;
                async move {
                    let key = OrderKey::of(&order);
                    let mut attempt = 1;
                    loop {
                        match processor.process(order.clone(), now()).await {
                            Ok(_) => return Ok(()),
                            Err(e) if e.is_retryable() && attempt < ATTEMPTS => attempt += 1,
                            Err(e) => {
                                return Err(MessageFailure::new(e.is_retryable(), format!("process {key}: {e}")));
                            }
                        }
                    }
                }
            })
            .await?;
            errors.extend(batch.failures.iter().map(|(_, f)| f.reason.clone()));
            if batch.taken == 0 {
                return Ok(());
            }
        }
    }

    /// Sends the mail queue once through; a failed job stays queued (as the demo). Each pass is
    /// a run of its own (a new consumer, as each `ichigen mail drain` or notifier invocation is):
    /// a job failed or put back by an earlier pass is taken again once it is due.
    async fn notify_all(&self, errors: &mut Vec<String>) -> anyhow::Result<()> {
        let notifier = self.notifier();
        let mails = SqliteQueue::<MailJob>::new(self.store, MAIL_QUEUE);
        loop {
            let batch = consume_batch(&mails, 100, |job: MailJob| {
                let notifier = &notifier;
                async move {
                    let mut attempt = 1;
                    loop {
                        let at = now();
                        match notifier.notify(&job, at).await {
                            Ok(_) => {
                                self.sc.inj.settled((job.order.clone(), job.kind));
                                return Ok(());
                            }
                            // A live claim is not retried at once: the job waits for its lease.
                            Err(e) if e.is_retryable() && e.wait(at).is_none() && attempt < ATTEMPTS => attempt += 1,
                            Err(e) => {
                                return Err(MessageFailure {
                                    retryable: e.is_retryable(),
                                    reason: format!("{} mail of {}: {e}", job.kind, job.order),
                                    wait: e.wait(at),
                                });
                            }
                        }
                    }
                }
            })
            .await?;
            errors.extend(batch.failures.iter().map(|(_, f)| f.reason.clone()));
            if batch.taken == 0 {
                return Ok(());
            }
        }
    }

    /// Staff actions, as `ichigen orders release|hold` and `ichigen tracking import` do them.
    async fn staff(&self, errors: &mut Vec<String>) -> anyhow::Result<()> {
        let unpicked = {
            let p = self.sc.picks();
            p.release.is_empty() && p.hold.is_none() && p.ship.is_empty()
        };
        let stored = if unpicked { all_stored(self.store).await? } else { Vec::new() };
        let picks = {
            let mut picks = self.sc.picks();
            if unpicked {
                let single = |s: &&StoredOrder| s.order.shipments.len() <= 1 && !s.order.fulfilled_by_marketplace;
                picks.release = stored
                    .iter()
                    .filter(|s| s.status == OrderStatus::OnHold && s.staff == StaffDecision::None)
                    .filter(|s| s.order.marketplace != Marketplace::Amazon)
                    .take(2)
                    .map(StoredOrder::key)
                    .collect();
                let free: Vec<&StoredOrder> = stored
                    .iter()
                    .filter(|s| matches!(s.status, OrderStatus::New | OrderStatus::ReadyToShip))
                    .filter(single)
                    .filter(|s| s.order.tracking.is_empty() && s.parcels.is_empty())
                    .filter(|s| s.order.marketplace != Marketplace::Amazon)
                    .collect();
                picks.hold = free.first().map(|s| s.key());
                picks.ship = free
                    .iter()
                    .skip(1)
                    .filter(|s| s.order.marketplace != Marketplace::Qoo10 || s.order.status == OrderStatus::ReadyToShip)
                    .take(3)
                    .map(|s| (s.key(), tracking_number(&s.order.order_id)))
                    .collect();
            }
            picks.clone()
        };
        let policies = ichigen_marketplaces::policies();
        // A command that fails is run once more, as a staff member would.
        for key in &picks.release {
            if !self.decide(key, None, &policies, errors).await? {
                self.decide(key, None, &policies, errors).await?;
            }
        }
        if let Some(key) = &picks.hold
            && !self.decide(key, Some("電話で確認中"), &policies, errors).await?
        {
            self.decide(key, Some("電話で確認中"), &policies, errors).await?;
        }
        for (key, number) in &picks.ship {
            for _ in 0..2 {
                let tracking = Tracking {
                    carrier: Carrier::Yamato,
                    number: number.clone(),
                    shipped_at: Some(now()),
                    shipment_id: None,
                };
                match record_tracking(&self.fstore, &NoStock, key, 1, tracking, now()).await {
                    Ok(_) => break,
                    Err(e) => errors.push(format!("tracking {key}: {e}")),
                }
            }
        }
        Ok(())
    }

    /// `ichigen orders release|hold`: the decision (its mail jobs on the durable queue), then the
    /// queued mail sent, exactly as the command does.
    async fn decide(
        &self,
        key: &OrderKey,
        hold: Option<&str>,
        policies: &ichigen_core::Policies,
        errors: &mut Vec<String>,
    ) -> anyhow::Result<bool> {
        let before = match self.fstore.get(key).await {
            Ok(Some(before)) => before,
            Ok(None) => return Ok(true),
            Err(e) => {
                errors.push(format!("staff {key}: {e}"));
                return Ok(false);
            }
        };
        if hold.is_none() && before.status != OrderStatus::OnHold {
            // "not on hold: nothing to release, no mail".
            return Ok(true);
        }
        // The decision's jobs go on the durable mail queue before the command returns.
        let fjobs = Faulty::new(self.mails, &self.sc.inj, "StaffMailQueue");
        let decided = match hold {
            None => staff::release(&self.fstore, &fjobs, &NoStock, policies, key, now()).await,
            Some(reason) => staff::hold(&self.fstore, &fjobs, &NoStock, policies, key, reason, now()).await,
        };
        if let Err(e) = decided {
            errors.push(format!("staff {key}: {e}"));
            return Ok(false);
        }
        // Then the command sends what is queued, as `ichigen mail drain` does; a failure leaves it queued.
        let before = errors.len();
        self.notify_all(errors).await?;
        Ok(errors.len() == before)
    }

    /// Cycles until a cycle writes no order and leaves nothing queued or pending.
    async fn settle(&self, errors: &mut Vec<String>) -> anyhow::Result<()> {
        for _ in 0..SETTLE_CYCLES {
            let puts = self.puts();
            self.cycle(errors).await?;
            let pending = self.store.get_writes(SHOP_ID, Marketplace::Rakuten).await.ok().flatten();
            let mut writes_pending = pending.is_some_and(|p| !p.writes.is_empty());
            for m in MARKETPLACES {
                writes_pending |=
                    self.store.get_writes(SHOP_ID, m).await.ok().flatten().is_some_and(|p| !p.writes.is_empty());
            }
            // A sandbox moves an order's update time at least a second past its previous one, so
            // two changes within a second stamp the second one ahead of the clock: it is not
            // searchable before then. The day is not over before the marketplaces' clocks passed it.
            let latest = self
                .sc
                .markets
                .iter()
                .flat_map(|m| m.sandbox.book.all())
                .map(|o| o.source_updated_at)
                .max()
                .unwrap_or_else(now);
            let ahead = (latest + TimeDelta::seconds(1) - now()).to_std().ok();
            if let Some(wait) = ahead {
                tokio::time::sleep(wait + Duration::from_millis(100)).await;
                continue;
            }
            let quiet = self.puts() == puts && self.orders.is_empty()? && self.mails.is_empty()? && !writes_pending;
            if quiet {
                return Ok(());
            }
            // A claim a failure left ends before the next cycle tries its mail again.
            if !self.mails.is_empty()? {
                tokio::time::sleep(MAIL_LEASE).await;
            }
        }
        errors.push("the day did not settle".to_string());
        Ok(())
    }

    fn puts(&self) -> u64 {
        self.sc.inj.counts().iter().filter(|(m, _)| m.port == "OrderStore" && m.method == "put").map(|(_, n)| *n).sum()
    }
}
