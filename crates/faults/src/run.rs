//! The enumeration: a clean run records the boundaries, then one run per chosen boundary × fault
//! kind, each checked; the figures add them up.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::check::{Checked, Violation, check};
use crate::day::{Market, Scenario, start_markets};
use crate::inject::{Boundary, Fault, FaultKind, Injector, Method};

/// What to run.
#[derive(Debug, Clone)]
pub struct Options {
    /// Orders seeded across the five sandboxes.
    pub orders: usize,
    /// Generator seed.
    pub seed: u64,
    /// Which call indices of each method get a fault.
    pub indices: Indices,
    /// The fault kinds.
    pub kinds: Vec<FaultKind>,
    /// Only methods whose `port.method` contains this.
    pub only: Option<String>,
    /// Only this call index of each chosen method (instead of those `indices` picks).
    pub index: Option<u64>,
    /// Scenarios run side by side.
    pub jobs: usize,
}

/// Which call indices of a method get a fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Indices {
    /// The first and the last call.
    Ends,
    /// The first, middle and last call.
    Sample,
    /// Every call.
    All,
}

impl std::str::FromStr for Indices {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "ends" => Ok(Indices::Ends),
            "sample" => Ok(Indices::Sample),
            "all" => Ok(Indices::All),
            _ => Err(format!("unknown index choice {s:?} (ends, sample, all)")),
        }
    }
}

/// Methods that only read: a timeout there is the same as a failure (nothing happened that
/// the caller does not know), so they get `fail` and `kill` only.
const READS: [&str; 15] = [
    "get",
    "get_watermark",
    "list_by_status",
    "bundle_mates",
    "shop",
    "blacklist",
    "parked",
    "events",
    "is_suppressed",
    "get_writes",
    "relay",
    "relay_settings",
    "changed_orders",
    "orders_by_id",
    "credential_expiry",
];

/// One scenario's result.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The fault armed (`None`: the clean run).
    pub fault: Option<Fault>,
    /// Whether it was injected (its call happened).
    pub fired: bool,
    /// Process lives the day took.
    pub lives: usize,
    /// What the check found (panics of the code under test are invariant 0).
    pub checked: Checked,
    /// Calls per method.
    pub counts: BTreeMap<Method, u64>,
}

/// Runs the day once with `fault` armed, on fresh sandboxes and a fresh folder, and checks it.
pub fn run_one(opts: &Options, fault: Option<Fault>) -> anyhow::Result<Outcome> {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build()?;
    let markets: Vec<Market> = rt.block_on(start_markets(opts.orders, opts.seed))?;
    let tmp = tempfile::tempdir()?;
    let inj = Arc::new(Injector::new(fault.clone()));
    let mut scenario = Scenario::new(&markets, inj.clone(), tmp.path());
    scenario.run()?;
    let mut checked = rt.block_on(check(tmp.path(), &markets, &inj, &scenario.picked().changes))?;
    for p in &scenario.panics {
        checked.violations.insert(0, Violation { invariant: 0, order: None, detail: format!("panic: {p}") });
    }
    let fired = inj.fired().is_some();
    let counts = inj.counts();
    let lives = scenario.lives;
    drop(scenario);
    drop(markets);
    rt.shutdown_background();
    Ok(Outcome { fault, fired, lives, checked, counts })
}

/// The figures of an enumeration.
#[derive(Debug, Default, Clone)]
pub struct Figures {
    /// Methods called in the clean run.
    pub methods: usize,
    /// Boundaries (method × call index) the clean run recorded.
    pub boundaries: u64,
    /// Boundaries a fault was armed at.
    pub boundaries_tried: usize,
    /// Faults injected, by kind.
    pub injected: BTreeMap<FaultKind, usize>,
    /// Armed faults whose call did not happen in that run (the run took another path).
    pub not_reached: usize,
    /// Scenarios run (the clean one included).
    pub scenarios: usize,
    /// Orders per scenario.
    pub orders: usize,
    /// Mails delivered in the clean run, and over every scenario.
    pub mails_clean: usize,
    /// Mails delivered over every scenario.
    pub mails_total: usize,
    /// Duplicates in the documented window, over every scenario.
    pub documented_duplicates: usize,
    /// Violations of the clean run: the day itself breaks them, whatever the fault.
    pub baseline: Vec<Violation>,
    /// Violations a fault led to (those of the clean run left out), with the fault.
    pub violations: Vec<(Option<Fault>, Violation)>,
}

/// The call indices to try of a method called `n` times.
fn indices(n: u64, which: Indices) -> Vec<u64> {
    match which {
        Indices::All => (1..=n).collect(),
        _ if n <= 2 => (1..=n).collect(),
        Indices::Ends => vec![1, n],
        Indices::Sample => {
            let mut v = vec![1, n.div_ceil(2), n];
            v.dedup();
            v
        }
    }
}

/// Clean run, then every chosen boundary × kind. `progress` sees each outcome as it comes.
pub fn enumerate(opts: &Options, mut progress: impl FnMut(&Outcome)) -> anyhow::Result<Figures> {
    let clean = run_one(opts, None)?;
    progress(&clean);
    let mut f = Figures {
        methods: clean.counts.len(),
        boundaries: clean.counts.values().sum(),
        scenarios: 1,
        orders: clean.checked.orders,
        mails_clean: clean.checked.delivered,
        mails_total: clean.checked.delivered,
        documented_duplicates: clean.checked.documented_duplicates,
        ..Figures::default()
    };
    f.baseline = clean.checked.violations.clone();
    let mut plan = Vec::new();
    for (method, &n) in &clean.counts {
        if opts.only.as_deref().is_some_and(|o| !method.to_string().contains(o)) {
            continue;
        }
        let chosen = match opts.index {
            Some(i) if i <= n => vec![i],
            Some(_) => Vec::new(),
            None => indices(n, opts.indices),
        };
        for index in chosen {
            f.boundaries_tried += 1;
            for &kind in &opts.kinds {
                if kind == FaultKind::Timeout && READS.contains(&method.method) {
                    continue;
                }
                plan.push(Fault { at: Boundary { method: method.clone(), index }, kind });
            }
        }
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let (tx, rx) = std::sync::mpsc::channel::<anyhow::Result<(Fault, Outcome)>>();
    std::thread::scope(|s| -> anyhow::Result<()> {
        for _ in 0..opts.jobs.max(1) {
            let tx = tx.clone();
            let (plan, next) = (&plan, &next);
            s.spawn(move || {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    let Some(fault) = plan.get(i) else { break };
                    let out = run_one(opts, Some(fault.clone())).map(|o| (fault.clone(), o));
                    let failed = out.is_err();
                    if tx.send(out).is_err() || failed {
                        break;
                    }
                }
            });
        }
        drop(tx);
        for got in rx {
            let (fault, out) = got?;
            progress(&out);
            f.scenarios += 1;
            if out.fired {
                *f.injected.entry(fault.kind).or_insert(0) += 1;
            } else {
                f.not_reached += 1;
            }
            f.mails_total += out.checked.delivered;
            f.documented_duplicates += out.checked.documented_duplicates;
            let new = out.checked.violations.iter().filter(|v| !f.baseline.contains(v));
            f.violations.extend(new.map(|v| (Some(fault.clone()), v.clone())));
        }
        Ok(())
    })?;
    Ok(f)
}

impl std::fmt::Display for Figures {
    fn fmt(&self, out: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(out, "fault-injection harness figures")?;
        writeln!(out, "  orders per scenario        {}", self.orders)?;
        writeln!(out, "  port methods called        {}", self.methods)?;
        writeln!(out, "  boundaries enumerated      {} (calls of the clean run)", self.boundaries)?;
        writeln!(out, "  boundaries faulted         {}", self.boundaries_tried)?;
        let kinds: Vec<String> = self.injected.iter().map(|(k, n)| format!("{k} {n}")).collect();
        writeln!(out, "  faults injected            {} ({})", self.injected.values().sum::<usize>(), kinds.join(", "))?;
        writeln!(out, "  armed but not reached      {}", self.not_reached)?;
        writeln!(out, "  scenarios run              {}", self.scenarios)?;
        writeln!(
            out,
            "  mails delivered            {} in the clean run, {} over all scenarios",
            self.mails_clean, self.mails_total
        )?;
        writeln!(
            out,
            "  documented duplicates: {} (the faulted mail's outcome lost or mark not written; resent once after the lease)",
            self.documented_duplicates
        )?;
        writeln!(out, "  violations of the day      {} (in the clean run, so in every scenario)", self.baseline.len())?;
        for v in &self.baseline {
            writeln!(out, "  - clean run: {v}")?;
        }
        writeln!(out, "  violations after faults    {} (beyond those of the clean run)", self.violations.len())?;
        let mut by: BTreeMap<(u8, String), usize> = BTreeMap::new();
        for (fault, v) in &self.violations {
            let at = fault.as_ref().map_or("clean run".to_string(), |f| format!("{} {}", f.kind, f.at.method));
            *by.entry((v.invariant, at)).or_insert(0) += 1;
        }
        for ((inv, at), n) in &by {
            writeln!(out, "    invariant {inv} at {at}: {n}")?;
        }
        for (fault, v) in self.violations.iter().take(20) {
            let at = fault.as_ref().map_or("clean run".to_string(), ToString::to_string);
            writeln!(out, "  - {at}: {v}")?;
        }
        Ok(())
    }
}
