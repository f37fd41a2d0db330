//! Pushing the stock to a marketplace without an oversell window: the pure part (what each
//! item of a mall shows, what the mall's read says about it, the allotment each item is given).
//! The I/O is `pipeline::stock_push`.
//!
//! Every listed item — a *holder* — is allotted units of each SKU it takes, on the SKU's own
//! row, and Σ allotted ≤ available. An item shows `min over parts floor(allotted / units)`, so
//! whatever the timing the malls together cannot sell more than the shop has: a mall only sells
//! what it shows, and what it shows was allotted to it alone.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use chrono::{DateTime, FixedOffset, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::order::Marketplace;

use super::mall::Shown;
use super::{Listing, Stock, covering, holder, shrinking};

/// Runs in a row that must see the same shortfall, with no order of the item pulled in between,
/// before it is drift: three, because a mall whose order search lags (Amazon's, 130 s) can hide a
/// sale from one run and, after that order is cancelled, another sale from the next, so two runs
/// in a row see one unit missing and no order.
pub const DRIFT_AFTER_RUNS: u32 = 3;

/// How soon after a pair's last write a follow-up run of it may read the mall (the default of
/// [`PushSettings::follow_up_gap`]): Amazon shows an accepted write only later (30 s in its
/// sandbox, no published figure), and a read sooner would find the number before it.
pub const FOLLOW_UP_GAP: Duration = Duration::from_secs(60);

/// How a pair pushes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PushSettings {
    /// Units of each SKU no mall is given (a safety buffer, once per SKU whatever the number of
    /// malls listing it): they cover the sales a mall makes between our read of its number and
    /// our write of the next one, and the sales a mall with a delay (`latency`) makes before a
    /// write shows and lands over them.
    pub buffer: u32,
    /// How long the mall takes to show a written number ([`crate::MarketplacePolicy`]'s
    /// `stock_latency`): an item written less long ago is neither compared nor written.
    pub latency: Duration,
    /// How soon after the pair's last write a follow-up run may read the mall
    /// ([`FOLLOW_UP_GAP`]).
    pub follow_up_gap: Duration,
}

/// What became of the last write of an item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "outcome")]
pub enum PushOutcome {
    /// The mall took the number.
    Written,
    /// The mall keeps this item's stock itself (Amazon FBA): never written again.
    MallManaged,
    /// The mall refused the number.
    Refused {
        /// The mall's (or the client's) code.
        code: String,
        /// Why, in its words.
        reason: String,
    },
    /// The mall said it has no such item.
    Unknown,
    /// The mall's read does not show the item (a typo the mall took silently, a deleted item).
    Missing,
}

/// A mall's number that our ledger does not explain: an edit in the mall's back office. The item
/// is not written until staff decide (`ichigen stock accept` / `ichigen stock push --force`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Drift {
    /// What the mall showed.
    pub shown: i64,
    /// What the ledger says it should show.
    pub expected: i64,
    /// When it was first found.
    pub found_at: DateTime<FixedOffset>,
    /// The day staff were last told (told again each day until they decide).
    pub told_on: NaiveDate,
}

/// The push record of one item of a pair.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushRecord {
    /// The number last written.
    pub written: Option<i64>,
    /// When it was written.
    pub written_at: Option<DateTime<FixedOffset>>,
    /// What became of the last write (or read) that said something.
    pub outcome: Option<PushOutcome>,
    /// A shortfall (ledger − shown) the last run could not explain: the same again with no
    /// order to explain it, [`DRIFT_AFTER_RUNS`] runs in a row, is drift.
    pub shortfall: Option<i64>,
    /// Runs in a row before this one that saw the same shortfall with no order of the item pulled.
    #[serde(default)]
    pub shortfall_runs: u32,
    /// A rise (shown − ledger) the last run could not explain: a cancellation the mall restored
    /// before the pull could see it explains it by the next run; the same again is drift.
    #[serde(default)]
    pub excess: Option<i64>,
    /// Drift found and not yet decided by staff.
    pub drift: Option<Drift>,
    /// Staff asked to overwrite the mall's number on the next run (`ichigen stock push --force`).
    pub force: bool,
}

/// What a pair's pushes have done: each item's record and the pair's failures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushState {
    /// The shop.
    pub shop_id: String,
    /// The marketplace.
    pub marketplace: Marketplace,
    /// Per item (its identity on the marketplace).
    pub items: BTreeMap<String, PushRecord>,
    /// Runs in a row whose stock calls failed in a way that may pass.
    pub failed_runs: u32,
    /// The day staff were last alarmed of failing stock calls (once a day).
    pub alarmed_on: Option<NaiveDate>,
    /// Revision: a write is conditional on it.
    pub rev: u64,
    /// When it last changed.
    pub updated_at: DateTime<FixedOffset>,
}

impl PushState {
    /// The state as a follow-up run judges by: seconds after the pair's last run, it does not
    /// stand for a run an interval later, so what that run saw unexplained is not "the same
    /// again" yet (a sale the order search does not list yet would be taken for an edit, or for
    /// a settled shortfall that cancelled units explain).
    pub fn for_follow_up(&self) -> PushState {
        let mut state = self.clone();
        for r in state.items.values_mut() {
            (r.shortfall, r.shortfall_runs, r.excess) = (None, 0, None);
        }
        state
    }

    /// A pair that was never pushed.
    pub fn new(shop_id: &str, marketplace: Marketplace, at: DateTime<FixedOffset>) -> PushState {
        PushState {
            shop_id: shop_id.to_string(),
            marketplace,
            items: BTreeMap::new(),
            failed_runs: 0,
            alarmed_on: None,
            rev: 0,
            updated_at: at,
        }
    }
}

/// Units of each SKU one item takes, as (SKU, units) with units ≥ 1.
fn parts(listing: &Listing) -> Vec<(String, i64)> {
    listing.parts.iter().map(|p| (p.sku.clone(), i64::from(p.units.max(1)))).collect()
}

/// What an item of these parts can show of `allotted(sku)` units: the fewest whole items.
pub fn shows(parts: &[(String, i64)], allotted: impl Fn(&str) -> i64) -> i64 {
    parts.iter().map(|(sku, per)| allotted(sku).max(0) / per).min().unwrap_or(0)
}

/// What the mall's read of one item says, against the ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Write it: the number from the item's allotment after this run, less `withheld` (sales
    /// the mall counted and the pull has not seen yet: never given back). `credit` items'
    /// worth of units the mall gave back itself (cancellations it restored; sales a delayed
    /// write landed over) join its allotment first.
    Push {
        /// Items to hold back from the number written.
        withheld: i64,
        /// Items to add to its allotment from the free units.
        credit: i64,
    },
    /// The mall shows a number the ledger cannot explain: report it, do not write.
    Drift {
        /// What the mall showed.
        shown: i64,
        /// What the ledger expected.
        expected: i64,
        /// Items the mall gave back itself, added to its allotment anyway.
        credit: i64,
        /// True when it is a shortfall seen twice (not a rise).
        shortfall: bool,
    },
    /// The mall shows more than the ledger explains, for the first time: not written this run
    /// (a cancellation the mall restored before our pull could see it is explained by the next
    /// run); the excess is allotted to the item from the free units meanwhile, so the malls
    /// together still show no more than the shop has.
    Unexplained {
        /// Items beyond what the ledger explains.
        excess: i64,
        /// Items the mall gave back itself, added to its allotment.
        credit: i64,
    },
    /// A write is still on its way (inside the mall's delay): neither compared nor written.
    Pending,
    /// The mall keeps the item's stock itself (FBA): never written; its allotment is freed.
    MallManaged,
    /// The mall does not show the item: reported; its allotment is freed.
    Missing,
    /// No read came back for it: left as it is.
    NotRead,
}

/// One item of the pushing mall: its parts, what the ledger says it shows, and the verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemPlan {
    /// The item's identity on the marketplace.
    pub item: String,
    /// Its holder name ([`holder`]).
    pub holder: String,
    /// (SKU, units per item).
    pub parts: Vec<(String, i64)>,
    /// What the ledger says the mall shows now: the item's allotment before this run.
    pub expected: i64,
    /// What the mall showed (`None`: not read).
    pub shown: Option<i64>,
    /// Items its orders took since its number was last written.
    pub drawn: i64,
    /// What to do.
    pub verdict: Verdict,
}

/// The verdict on one item from its record, its expected number, what the mall shows, and the
/// units of its orders cancelled and drawn since its last push (in items).
#[allow(clippy::too_many_arguments)] // The facts one comparison weighs, each named.
fn judge(
    record: Option<&PushRecord>,
    expected: i64,
    shown: Option<Shown>,
    cancelled: i64,
    drawn: i64,
    latency: Duration,
    now: DateTime<FixedOffset>,
) -> Verdict {
    if record.and_then(|r| r.outcome.as_ref()) == Some(&PushOutcome::MallManaged) {
        return Verdict::MallManaged;
    }
    let force = record.is_some_and(|r| r.force);
    let pending = record.and_then(|r| r.written_at).is_some_and(|at| {
        let shows_at = at + chrono::TimeDelta::from_std(latency).unwrap_or(chrono::TimeDelta::MAX);
        !latency.is_zero() && now < shows_at
    });
    if pending && !force {
        return Verdict::Pending;
    }
    let shown = match shown {
        None => return Verdict::NotRead,
        Some(Shown::MallManaged(_)) => return Verdict::MallManaged,
        Some(Shown::Missing) => return Verdict::Missing,
        Some(Shown::Units(n)) => n,
    };
    // An item this pair never wrote: the mall's number predates the stock master (the shop kept
    // it by hand), so there is nothing to compare yet and the first write sets it.
    let never_written = record.is_none_or(|r| r.written.is_none() && r.drift.is_none());
    if force || never_written {
        return Verdict::Push { withheld: 0, credit: 0 };
    }
    // Reported drift stays until staff decide, or the mall shows the number it had before.
    if let Some(d) = record.and_then(|r| r.drift.as_ref())
        && shown != d.expected
    {
        return Verdict::Drift { shown, expected: d.expected, credit: 0, shortfall: shown < d.expected };
    }
    if shown < expected {
        let gap = expected - shown;
        // Orders the mall sold and cancelled before our pull saw them (first seen cancelled:
        // never held here, so still in the allotment) explain a shortfall where the mall kept
        // their units; the number written then gives them back. But a mall that put them back
        // on sale itself shows no shortfall for them, and a new sale its search does not list
        // yet (Amazon's lags) would be taken for them and given back — a CI sale day sold that
        // unit twice. So they explain only a settled shortfall: the same as the last run's, with
        // no order of the item since (a sale hidden then has been pulled by now).
        let settled = record.is_some_and(|r| r.shortfall == Some(gap)) && drawn <= 0;
        let short = if settled { gap - gap.min(cancelled.max(0)) } else { gap };
        if short == 0 {
            return Verdict::Push { withheld: 0, credit: 0 };
        }
        // The same shortfall again is drift only when no order of the item came in since our
        // last write, on DRIFT_AFTER_RUNS runs in a row: otherwise the last one was explained and
        // this is a new sale not seen yet (a busy item on a mall whose search lags, as Amazon's
        // does by two minutes).
        if let Some(r) = record
            && r.shortfall == Some(short)
            && drawn <= 0
            && r.shortfall_runs + 2 >= DRIFT_AFTER_RUNS
        {
            return Verdict::Drift { shown, expected, credit: 0, shortfall: true };
        }
        return Verdict::Push { withheld: short, credit: 0 };
    }
    let excess = shown - expected;
    // First the cancelled units the mall restored itself.
    let restored = excess.min(cancelled.max(0));
    // A write lands over sales made before it shows: those of the mall's delay, and with no
    // delay those made between our read and our write (the pull holds them afterwards).
    let landed_over = (excess - restored).min(drawn.max(0));
    let credit = restored + landed_over;
    if excess > credit {
        if record.and_then(|r| r.excess) == Some(excess - credit) {
            return Verdict::Drift { shown, expected, credit, shortfall: false };
        }
        return Verdict::Unexplained { excess: excess - credit, credit };
    }
    Verdict::Push { withheld: 0, credit }
}

/// The verdict on every listed item of `marketplace`, from the SKU rows as they stand after the
/// run's pulled orders were held, the pair's push record and the mall's read.
pub fn judge_items(
    marketplace: Marketplace,
    listings: &[&Listing],
    rows: &BTreeMap<String, Stock>,
    state: &PushState,
    reads: &BTreeMap<String, Shown>,
    settings: &PushSettings,
    now: DateTime<FixedOffset>,
) -> Vec<ItemPlan> {
    listings
        .iter()
        .filter(|l| l.marketplace == marketplace)
        .map(|l| {
            let h = holder(marketplace, &l.item);
            let parts = parts(l);
            let of = |map: fn(&Stock) -> &BTreeMap<String, i64>| {
                shows(&parts, |sku| rows.get(sku).and_then(|r| map(r).get(&h)).copied().unwrap_or(0))
            };
            let expected = of(|r| &r.allotted);
            let shown = reads.get(&l.item).copied();
            let drawn = of(|r| &r.drawn);
            let verdict =
                judge(state.items.get(&l.item), expected, shown, of(|r| &r.cancelled), drawn, settings.latency, now);
            ItemPlan {
                item: l.item.clone(),
                holder: h,
                parts,
                expected,
                shown: shown.and_then(|s| if let Shown::Units(n) = s { Some(n) } else { None }),
                drawn,
                verdict,
            }
        })
        .collect()
}

/// Each listed holder's fair share of each SKU it takes: the SKU's available units less the
/// buffer, split equally among its holders (the remainder first to those holding more already).
/// Equal rather than weighted by recent sales: a mall that sold out would otherwise be starved by
/// the one that had stock to sell. Result: SKU → holder → units.
/// Holders in `left_out` (items the mall keeps itself or does not show) take no share.
pub fn shares(
    listings: &[&Listing],
    rows: &BTreeMap<String, Stock>,
    buffer: u32,
    left_out: &BTreeSet<String>,
) -> BTreeMap<String, BTreeMap<String, i64>> {
    let mut holders: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for l in listings {
        if left_out.contains(&holder(l.marketplace, &l.item)) {
            continue;
        }
        for p in &l.parts {
            holders.entry(p.sku.clone()).or_default().push(holder(l.marketplace, &l.item));
        }
    }
    holders
        .into_iter()
        .map(|(sku, mut hs)| {
            hs.sort();
            hs.dedup();
            let row = rows.get(&sku);
            let n = hs.len() as i64;
            let available = row.map_or(0, Stock::available);
            let distributable = (available - i64::from(buffer)).max(0);
            let (each, rest) = (distributable / n, distributable % n);
            // The remainder goes first to the holders that already hold more than the equal part
            // (then by name): after a sale it stays where it is instead of moving between malls —
            // each move a write to both and a run of each, Qoo10's showing 10 minutes late.
            let above = |h: &String| row.is_some_and(|r| r.allotted_to(h) > each);
            hs.sort_by(|a, b| above(b).cmp(&above(a)).then_with(|| a.cmp(b)));
            let split = hs.into_iter().enumerate().map(|(i, h)| (h, each + i64::from((i as i64) < rest))).collect();
            (sku, split)
        })
        .collect()
}

/// What each pushed item's allotment is to become (holder → SKU → units): whole items of its
/// share of every part, so no unit sits allotted to a set that cannot use it.
pub fn targets(
    plans: &[ItemPlan],
    shares: &BTreeMap<String, BTreeMap<String, i64>>,
) -> BTreeMap<String, BTreeMap<String, i64>> {
    plans
        .iter()
        .filter(|p| matches!(p.verdict, Verdict::Push { .. }))
        .map(|p| {
            let share = |sku: &str| shares.get(sku).and_then(|s| s.get(&p.holder)).copied().unwrap_or(0);
            let items = shows(&p.parts, share);
            (p.holder.clone(), p.parts.iter().map(|(sku, per)| (sku.clone(), items * per)).collect())
        })
        .collect()
}

/// The first ledger step on one SKU's row, before any write to the mall: credits the units the
/// mall gave back itself, grows each pushed holder towards its target from the free units only
/// (so pairs pushing at the same time never allot a unit twice), frees the allotments of items
/// the mall does not sell for the shop, and clears the cancellations counted for the compared
/// items. Shrinking waits for the mall to take its lower number ([`after_write`]).
pub fn before_write(
    row: &mut Stock,
    plans: &[ItemPlan],
    targets: &BTreeMap<String, BTreeMap<String, i64>>,
    listed: &BTreeSet<String>,
    buffer: u32,
) {
    for p in plans {
        let Some(per) = p.parts.iter().find(|(sku, _)| *sku == row.sku).map(|(_, per)| *per) else {
            continue;
        };
        let credit = match p.verdict {
            Verdict::Pending | Verdict::NotRead => continue,
            Verdict::Push { credit, .. } | Verdict::Unexplained { credit, .. } | Verdict::Drift { credit, .. } => {
                credit
            }
            Verdict::MallManaged | Verdict::Missing => 0,
        };
        // The last lower number shows now (the item is past the mall's delay): what it gave up
        // is free again; and what covered a rise is judged again below.
        row.allot(&shrinking(&p.holder), 0);
        let cover = covering(&p.holder);
        row.allot(&cover, 0);
        if matches!(p.verdict, Verdict::MallManaged | Verdict::Missing) {
            row.allot(&p.holder, 0);
            row.cancelled.remove(&p.holder);
            continue;
        }
        // Units the mall gave back itself (restores, sales a write landed over) join the item's
        // allotment from the free units, which include those its own cancellations released and
        // its own sales drew (kept out of the other items' growth for it, `Stock::free_for_push`).
        let free = |row: &Stock| row.free_for_push(listed, &p.holder).max(0);
        let add = (credit * per).min(free(row));
        row.allot(&p.holder, row.allotted_to(&p.holder) + add);
        // The mall's number is judged: what it did not put back on sale is free again — unless
        // a shortfall is withheld, which orders first seen cancelled may explain on a later run.
        if !matches!(p.verdict, Verdict::Push { withheld: 1.., .. }) {
            row.cancelled.remove(&p.holder);
        }
        // What the mall shows beyond the ledger is covered from the free units while it is
        // unexplained or reported — the malls together never show more than the shop has —,
        // apart from the item's allotment, so the next run still sees the rise.
        if matches!(p.verdict, Verdict::Unexplained { .. } | Verdict::Drift { shortfall: false, .. }) {
            // The credit used every sale drawn since the last write (`judge`): not again.
            row.drawn.remove(&p.holder);
            let (need, have) = (p.shown.unwrap_or(0) * per, row.allotted_to(&p.holder));
            if need > have {
                row.allot(&cover, (need - have).min(free(row)));
            }
        }
        if let Some(want) = targets.get(&p.holder).and_then(|t| t.get(&row.sku)) {
            let have = row.allotted_to(&p.holder);
            // Never into the buffer: the targets leave it out, but while another item's shrink
            // is still to come (its mall runs later, or shows its lower number late) growing
            // into it would leave nothing for the give-backs it is there for.
            let room = (free(row) - i64::from(buffer)).max(0);
            if *want > have {
                row.allot(&p.holder, have + (*want - have).min(room));
            }
        }
    }
}

/// The number a pushed item is to show, from its row's allotments after [`before_write`] and its
/// target: the lower of the two (a shrink is not in the ledger yet), whole items, less what it
/// withholds.
pub fn number(
    plan: &ItemPlan,
    rows: &BTreeMap<String, Stock>,
    targets: &BTreeMap<String, BTreeMap<String, i64>>,
) -> i64 {
    let Verdict::Push { withheld, .. } = plan.verdict else { return 0 };
    let target = targets.get(&plan.holder);
    let items = shows(&plan.parts, |sku| {
        let have = rows.get(sku).map_or(0, |r| r.allotted_to(&plan.holder));
        target.and_then(|t| t.get(sku)).map_or(have, |want| have.min(*want))
    });
    (items - withheld).max(0)
}

/// The second ledger step on one SKU's row, for the holders whose number the mall took (or
/// already showed): their allotment comes down to the target, and their sales since the write
/// start counting again. A holder whose write `shows_later` (the mall's delay) keeps what it gave
/// up under [`shrinking`] until the mall shows it: the mall sells the old number meanwhile.
pub fn after_write(row: &mut Stock, holders: &[(&str, bool)], targets: &BTreeMap<String, BTreeMap<String, i64>>) {
    for (h, shows_later) in holders {
        if let Some(want) = targets.get(*h).and_then(|t| t.get(&row.sku)) {
            let have = row.allotted_to(h);
            if *want < have {
                row.allot(h, *want);
                if *shows_later {
                    let key = shrinking(h);
                    row.allot(&key, row.allotted_to(&key) + have - want);
                }
            }
        }
        row.drawn.remove(*h);
    }
}

/// The other malls to run soon after a run that moved the SKUs `moved` (its orders held, its
/// ledger steps): those with an item whose allotment of such a SKU is now above its share (their
/// run shrinks it and frees the units) or below it with free units to grow into. Run only on
/// their schedule, a unit moving between malls waits for the giver's next run and then the
/// taker's: up to two intervals in which the malls together show less than the master has. An
/// item with a shrink on its way to a slow mall is left out: its run cannot act before the mall
/// shows it. Every holder takes a share here (another pair's FBA item is only known to that
/// pair's push): at worst one run that finds nothing to do.
pub fn rebalance_due(
    listings: &[&Listing],
    rows: &BTreeMap<String, Stock>,
    buffer: u32,
    moved: &BTreeSet<String>,
    ours: Marketplace,
) -> BTreeSet<Marketplace> {
    let shares = shares(listings, rows, buffer, &BTreeSet::new());
    let listed: BTreeSet<String> = listings.iter().map(|l| holder(l.marketplace, &l.item)).collect();
    let mut due = BTreeSet::new();
    for l in listings.iter().filter(|l| l.marketplace != ours) {
        let h = holder(l.marketplace, &l.item);
        for p in l.parts.iter().filter(|p| moved.contains(&p.sku)) {
            let Some(row) = rows.get(&p.sku) else { continue };
            if row.allotted_to(&shrinking(&h)) > 0 {
                continue;
            }
            let share = shares.get(&p.sku).and_then(|s| s.get(&h)).copied().unwrap_or(0);
            let have = row.allotted_to(&h);
            let can_grow = row.free_for_push(&listed, &h) - i64::from(buffer) > 0;
            if have > share || (have < share && can_grow) {
                due.insert(l.marketplace);
            }
        }
    }
    due
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::stock::Part;

    fn at() -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339("2026-12-07T10:00:00+09:00").unwrap()
    }

    /// The record of an item written before (what most runs compare against).
    fn written() -> PushRecord {
        PushRecord { written: Some(4), written_at: Some(at()), ..PushRecord::default() }
    }

    fn row(sku: &str, on_hand: i64, allotted: &[(&str, i64)]) -> Stock {
        let mut s = Stock::empty(sku, at());
        s.on_hand = on_hand;
        for (h, u) in allotted {
            s.allot(h, *u);
        }
        s
    }

    fn listing(m: Marketplace, item: &str, parts: &[(&str, u32)]) -> Listing {
        Listing {
            marketplace: m,
            item: item.into(),
            parts: parts.iter().map(|(sku, units)| Part { sku: (*sku).into(), units: *units }).collect(),
        }
    }

    /// A plan for `holder`'s item `mug` (one MUG each): what the ledger expects, what the mall
    /// shows, what its sales drew, and the verdict.
    fn mug(holder: &str, (expected, shown, drawn): (i64, i64, i64), verdict: Verdict) -> ItemPlan {
        ItemPlan {
            item: "mug".into(),
            holder: holder.into(),
            parts: vec![("MUG".into(), 1)],
            expected,
            shown: Some(shown),
            drawn,
            verdict,
        }
    }

    /// `holder`'s target: `units` MUG.
    fn mug_target(holder: &str, units: i64) -> BTreeMap<String, BTreeMap<String, i64>> {
        BTreeMap::from([(holder.to_string(), BTreeMap::from([("MUG".to_string(), units)]))])
    }

    #[test]
    fn shares_split_the_available_units_less_the_buffer_among_every_holder() {
        let ls = [
            listing(Marketplace::Rakuten, "mug", &[("MUG", 1)]),
            listing(Marketplace::Yahoo, "mug", &[("MUG", 1)]),
            listing(Marketplace::Yahoo, "set", &[("MUG", 2)]),
        ];
        let refs: Vec<&Listing> = ls.iter().collect();
        let rows = BTreeMap::from([("MUG".to_string(), row("MUG", 10, &[]))]);
        let s = shares(&refs, &rows, 1, &Default::default());
        // 10 − 1 buffer = 9 over 3 holders: 3 each; a SKU of 2 still gives its one unit.
        assert_eq!(s["MUG"]["rakuten:mug"], 3);
        assert_eq!(s["MUG"]["yahoo:mug"], 3);
        assert_eq!(s["MUG"]["yahoo:set"], 3);
        let rows = BTreeMap::from([("MUG".to_string(), row("MUG", 2, &[]))]);
        let s = shares(&refs, &rows, 1, &Default::default());
        assert_eq!(s["MUG"].values().sum::<i64>(), 1);
    }

    #[test]
    fn after_a_sale_the_remainder_stays_with_the_malls_that_hold_it() {
        let ls = [
            listing(Marketplace::Amazon, "mug", &[("MUG", 1)]),
            listing(Marketplace::Qoo10, "mug", &[("MUG", 1)]),
            listing(Marketplace::Rakuten, "mug", &[("MUG", 1)]),
        ];
        let refs: Vec<&Listing> = ls.iter().collect();
        // 9 units, buffer 1: 3 / 3 / 2. Amazon sells one of its 3: 8 left, 7 to split, and
        // Amazon holds 2. By name the remainder would go back to Amazon and Qoo10 would shrink
        // (a write to each, a run of each, and Qoo10 shows its lower number 10 minutes later);
        // it stays with the holder already above the equal part, so nothing moves.
        let r = row("MUG", 8, &[("amazon:mug", 2), ("qoo10:mug", 3), ("rakuten:mug", 2)]);
        let s = shares(&refs, &BTreeMap::from([("MUG".to_string(), r)]), 1, &Default::default());
        assert_eq!((s["MUG"]["amazon:mug"], s["MUG"]["qoo10:mug"], s["MUG"]["rakuten:mug"]), (2, 3, 2));
        // A mall far below the others still gets its equal part.
        let r = row("MUG", 8, &[("amazon:mug", 6)]);
        let s = shares(&refs, &BTreeMap::from([("MUG".to_string(), r)]), 1, &Default::default());
        assert_eq!((s["MUG"]["amazon:mug"], s["MUG"]["qoo10:mug"], s["MUG"]["rakuten:mug"]), (3, 2, 2));
    }

    #[test]
    fn a_shortfall_is_withheld_and_drift_the_third_time_with_no_order_between() {
        let v = judge(Some(&written()), 5, Some(Shown::Units(3)), 0, 0, Duration::ZERO, at());
        assert_eq!(v, Verdict::Push { withheld: 2, credit: 0 });
        let seen = PushRecord { shortfall: Some(2), ..written() };
        let v = judge(Some(&seen), 5, Some(Shown::Units(3)), 0, 0, Duration::ZERO, at());
        assert_eq!(v, Verdict::Push { withheld: 2, credit: 0 }, "twice: two sales a lagging search hid");
        let seen = PushRecord { shortfall: Some(2), shortfall_runs: 1, ..written() };
        let v = judge(Some(&seen), 5, Some(Shown::Units(3)), 0, 0, Duration::ZERO, at());
        assert!(matches!(v, Verdict::Drift { shortfall: true, .. }), "{v:?}");
        // Orders of the item came in since: the last shortfall was explained, this one is new.
        let v = judge(Some(&seen), 5, Some(Shown::Units(3)), 0, 2, Duration::ZERO, at());
        assert_eq!(v, Verdict::Push { withheld: 2, credit: 0 });
    }

    #[test]
    fn a_rise_is_credited_to_cancellations_the_mall_restored_and_the_rest_is_drift_when_seen_twice() {
        let w = written();
        assert_eq!(
            judge(Some(&w), 4, Some(Shown::Units(5)), 1, 0, Duration::ZERO, at()),
            Verdict::Push { withheld: 0, credit: 1 }
        );
        // The rest is not written and waits one run for a cancellation the pull has not seen;
        // the same rise again is drift.
        let v = judge(Some(&w), 4, Some(Shown::Units(9)), 1, 0, Duration::ZERO, at());
        assert_eq!(v, Verdict::Unexplained { excess: 4, credit: 1 });
        let seen = PushRecord { excess: Some(4), ..written() };
        let v = judge(Some(&seen), 4, Some(Shown::Units(9)), 1, 0, Duration::ZERO, at());
        assert_eq!(v, Verdict::Drift { shown: 9, expected: 4, credit: 1, shortfall: false });
        // Sales a write landed over (made while it was on its way: the mall's delay, or between
        // our read and our write) explain a rise too.
        let later = at() + chrono::TimeDelta::seconds(601);
        let v = judge(Some(&w), 4, Some(Shown::Units(8)), 1, 3, Duration::from_secs(600), later);
        assert_eq!(v, Verdict::Push { withheld: 0, credit: 4 });
        let v = judge(Some(&w), 4, Some(Shown::Units(9)), 1, 3, Duration::ZERO, at());
        assert_eq!(v, Verdict::Unexplained { excess: 1, credit: 4 });
    }

    #[test]
    fn an_item_never_written_takes_the_first_number_whatever_the_mall_showed() {
        // The shop kept 9 by hand before the stock master: not drift, not held back.
        assert_eq!(
            judge(None, 0, Some(Shown::Units(9)), 0, 0, Duration::ZERO, at()),
            Verdict::Push { withheld: 0, credit: 0 }
        );
        let unexplained_before = PushRecord { excess: Some(9), ..PushRecord::default() };
        assert_eq!(
            judge(Some(&unexplained_before), 0, Some(Shown::Units(9)), 0, 0, Duration::ZERO, at()),
            Verdict::Push { withheld: 0, credit: 0 }
        );
        // Written once, the same rise is compared.
        let w = PushRecord { written: Some(0), ..PushRecord::default() };
        assert_eq!(
            judge(Some(&w), 0, Some(Shown::Units(9)), 0, 0, Duration::ZERO, at()),
            Verdict::Unexplained { excess: 9, credit: 0 }
        );
    }

    #[test]
    fn a_write_inside_the_mall_delay_is_left_alone_and_fba_is_never_written() {
        let written = PushRecord { written_at: Some(at()), written: Some(3), ..PushRecord::default() };
        let later = at() + chrono::TimeDelta::seconds(60);
        assert_eq!(
            judge(Some(&written), 3, Some(Shown::Units(9)), 0, 0, Duration::from_secs(600), later),
            Verdict::Pending
        );
        assert_eq!(judge(None, 3, Some(Shown::MallManaged(40)), 0, 0, Duration::ZERO, at()), Verdict::MallManaged);
        assert_eq!(judge(Some(&written), 3, Some(Shown::Missing), 0, 0, Duration::ZERO, at()), Verdict::Missing);
        let fba = PushRecord { outcome: Some(PushOutcome::MallManaged), ..PushRecord::default() };
        assert_eq!(judge(Some(&fba), 3, Some(Shown::Units(3)), 0, 0, Duration::ZERO, at()), Verdict::MallManaged);
    }

    #[test]
    fn a_shrink_on_a_slow_mall_keeps_its_units_until_the_mall_shows_it() {
        use crate::stock::Step;
        // Qoo10 shows 10 of 12 units; its share comes down to 4. It takes the write, but shows
        // the 4 only 10 minutes later and sells 7 of its old 10 meanwhile.
        let mut r = row("MUG", 12, &[("qoo10:mug", 10)]);
        let targets = mug_target("qoo10:mug", 4);
        after_write(&mut r, &[("qoo10:mug", true)], &targets);
        assert_eq!((r.allotted_to("qoo10:mug"), r.free()), (4, 2), "the 6 given up are not free yet");
        let sale = Step {
            moves: vec![("MUG".into(), 0, 7)],
            draws: vec![("MUG".into(), "qoo10:mug".into(), 7)],
            keep: crate::stock::Holding::none(),
        };
        r.apply(&sale);
        // 4 from its allotment, 3 from what the shrink kept: none from the free units another
        // mall may hold.
        assert_eq!((r.allotted_to("qoo10:mug"), r.allotted_to(&shrinking("qoo10:mug")), r.free()), (0, 3, 2));
        // Once the 4 shows, the run frees the rest (and credits the 4 the write landed over).
        let plan = mug("qoo10:mug", (0, 4, 7), Verdict::Push { withheld: 0, credit: 4 });
        before_write(&mut r, &[plan], &targets, &BTreeSet::new(), 0);
        assert_eq!((r.allotted_to("qoo10:mug"), r.allotted_to(&shrinking("qoo10:mug")), r.free()), (4, 0, 1));
        // A mall that shows at once gives the units up at once.
        let mut r = row("MUG", 12, &[("yahoo:mug", 10)]);
        let targets = mug_target("yahoo:mug", 4);
        after_write(&mut r, &[("yahoo:mug", false)], &targets);
        assert_eq!((r.allotted_to("yahoo:mug"), r.free()), (4, 8));
    }

    #[test]
    fn a_rise_covered_from_free_units_stays_a_rise_and_is_drift_the_next_run() {
        // The shop has 20, 楽天 was written 6; someone sets 9 in RMS.
        let mut r = row("MUG", 20, &[("rakuten:mug", 6)]);
        let w = PushRecord { written: Some(6), ..written() };
        let plan = |verdict| mug("rakuten:mug", (6, 9, 0), verdict);
        let first = judge(Some(&w), 6, Some(Shown::Units(9)), 0, 0, Duration::ZERO, at());
        assert_eq!(first, Verdict::Unexplained { excess: 3, credit: 0 });
        before_write(&mut r, &[plan(first)], &BTreeMap::new(), &BTreeSet::new(), 0);
        // The 3 are kept from the free units, but not as the item's allotment.
        assert_eq!((r.allotted_to("rakuten:mug"), r.allotted_to(&covering("rakuten:mug")), r.free()), (6, 3, 11));
        // Next run: the same rise against the same allotment, nothing to explain it: drift.
        let seen = PushRecord { excess: Some(3), ..w };
        let second =
            judge(Some(&seen), r.allotted_to("rakuten:mug"), Some(Shown::Units(9)), 0, 0, Duration::ZERO, at());
        assert_eq!(second, Verdict::Drift { shown: 9, expected: 6, credit: 0, shortfall: false });
        before_write(&mut r, &[plan(second)], &BTreeMap::new(), &BTreeSet::new(), 0);
        assert_eq!((r.allotted_to("rakuten:mug"), r.allotted_to(&covering("rakuten:mug")), r.free()), (6, 3, 11));
        // A sale of the mall's extra units draws on what covers them, not on the free units.
        let sale = crate::stock::Step {
            moves: vec![("MUG".into(), 0, 8)],
            draws: vec![("MUG".into(), "rakuten:mug".into(), 8)],
            keep: crate::stock::Holding::none(),
        };
        r.apply(&sale);
        assert_eq!((r.allotted_to("rakuten:mug"), r.allotted_to(&covering("rakuten:mug")), r.free()), (0, 1, 11));
    }

    #[test]
    fn a_holder_grows_only_from_free_units_and_shrinks_after_the_write() {
        // Yahoo already holds 6 of 8; Rakuten's target is 4 but only 2 are free.
        let mut r = row("MUG", 8, &[("yahoo:mug", 6)]);
        let plan = mug("rakuten:mug", (0, 0, 0), Verdict::Push { withheld: 0, credit: 0 });
        let targets = mug_target("rakuten:mug", 4);
        before_write(&mut r, std::slice::from_ref(&plan), &targets, &BTreeSet::new(), 0);
        assert_eq!((r.allotted_to("rakuten:mug"), r.free()), (2, 0));
        let rows = BTreeMap::from([("MUG".to_string(), r.clone())]);
        assert_eq!(number(&plan, &rows, &targets), 2);
        // Yahoo's own run shrinks it to 4 after its write: Rakuten's next run grows to 4.
        let yahoo_target = mug_target("yahoo:mug", 4);
        after_write(&mut r, &[("yahoo:mug", false)], &yahoo_target);
        before_write(&mut r, &[plan], &targets, &BTreeSet::new(), 0);
        assert_eq!((r.allotted_to("rakuten:mug"), r.allotted_to("yahoo:mug"), r.free()), (4, 4, 0));
    }

    #[test]
    fn a_cancellation_the_mall_put_back_on_sale_is_never_given_to_another_mall() {
        use crate::stock::Step;
        // 楽天 holds 4 and Yahoo 4 of 10; a 楽天 order holds 2 more. The buyer cancels: 楽天 puts
        // the 2 back on sale itself (it shows 6) before either pair's next run.
        let mut r = row("MUG", 10, &[("rakuten:mug", 4), ("yahoo:mug", 4)]);
        r.reserved = 2;
        assert_eq!(r.free(), 0);
        r.apply(&Step {
            moves: vec![("MUG".into(), 0, -2)],
            draws: vec![("MUG".into(), "rakuten:mug".into(), -2)],
            keep: crate::stock::Holding::none(),
        });
        let listed = BTreeSet::from(["rakuten:mug".to_string(), "yahoo:mug".to_string()]);
        assert_eq!(
            (r.free(), r.free_for_push(&listed, "yahoo:mug")),
            (2, 0),
            "the 2 released wait for 楽天's next run"
        );
        // Yahoo's run comes first and would grow to 6: nothing is free for it.
        let plan = |holder: &str, shown: i64, verdict: Verdict| mug(holder, (4, shown, 0), verdict);
        let six = |holder: &str| mug_target(holder, 6);
        before_write(
            &mut r,
            &[plan("yahoo:mug", 4, Verdict::Push { withheld: 0, credit: 0 })],
            &six("yahoo:mug"),
            &listed,
            0,
        );
        assert_eq!(r.allotted_to("yahoo:mug"), 4);
        // 楽天's run reads the 6 it shows: the 2 it put back are its own again.
        before_write(
            &mut r,
            &[plan("rakuten:mug", 6, Verdict::Push { withheld: 0, credit: 2 })],
            &six("rakuten:mug"),
            &listed,
            0,
        );
        assert_eq!((r.allotted_to("rakuten:mug"), r.allotted_to("yahoo:mug"), r.free()), (6, 4, 0));
        assert!(r.cancelled.is_empty());
        // A cancelled order of an item no push judges (an order from a file) holds nothing back.
        r.cancelled.insert("csv:MUG".into(), 3);
        assert_eq!(r.free_for_push(&listed, "yahoo:mug"), r.free());
    }

    #[test]
    fn an_order_first_seen_cancelled_explains_a_shortfall_only_once_it_is_settled() {
        // Amazon shows 0 of the 1 it holds; one of its orders was first seen cancelled. Amazon put
        // that unit back on sale itself, and a new sale its search does not list yet took it: on
        // the first run the shortfall is withheld, not written back.
        let v = judge(Some(&written()), 1, Some(Shown::Units(0)), 1, 0, Duration::ZERO, at());
        assert_eq!(v, Verdict::Push { withheld: 1, credit: 0 });
        // The same shortfall on the next run with no order of the item since: the mall kept the
        // cancelled units (au PAY never gives them back), and the number written gives them back.
        let seen = PushRecord { shortfall: Some(1), ..written() };
        let v = judge(Some(&seen), 1, Some(Shown::Units(0)), 1, 0, Duration::ZERO, at());
        assert_eq!(v, Verdict::Push { withheld: 0, credit: 0 });
        // An order of the item came in since: the shortfall may be a sale again.
        let v = judge(Some(&seen), 1, Some(Shown::Units(0)), 1, 1, Duration::ZERO, at());
        assert_eq!(v, Verdict::Push { withheld: 1, credit: 0 });
        // The cancelled units wait for that run (held back from the other malls meanwhile).
        let listed = BTreeSet::from(["amazon:mug".to_string(), "yahoo:mug".to_string()]);
        let mut r = row("MUG", 3, &[("amazon:mug", 1)]);
        r.cancelled.insert("amazon:mug".into(), 1);
        let plan = mug("amazon:mug", (1, 0, 0), Verdict::Push { withheld: 1, credit: 0 });
        before_write(&mut r, &[plan], &BTreeMap::new(), &listed, 0);
        assert_eq!((r.cancelled.get("amazon:mug"), r.free_for_push(&listed, "yahoo:mug")), (Some(&1), 1));
    }

    #[test]
    fn units_a_sale_drew_stay_out_of_the_other_malls_until_its_own_mall_was_read() {
        use crate::stock::Step;
        // Amazon holds 2 and Yahoo 2 of 5. A buyer takes 1 on Amazon just before our write of 2
        // shows there (the mall's delay): the write lands over the sale and Amazon shows 2 again.
        let mut r = row("MUG", 5, &[("amazon:mug", 2), ("yahoo:mug", 2)]);
        r.apply(&Step {
            moves: vec![("MUG".into(), 0, 1)],
            draws: vec![("MUG".into(), "amazon:mug".into(), 1)],
            keep: crate::stock::Holding::none(),
        });
        let listed = BTreeSet::from(["amazon:mug".to_string(), "yahoo:mug".to_string()]);
        assert_eq!((r.allotted_to("amazon:mug"), r.free(), r.free_for_push(&listed, "yahoo:mug")), (1, 1, 0));

        // Had the sale shown on Amazon (no write landing over it), Amazon's own run may grow back
        // into the unit at once: what its sales drew is held back from the others, not from it.
        let mut own = r.clone();
        let two = mug_target("amazon:mug", 2);
        before_write(
            &mut own,
            &[mug("amazon:mug", (1, 1, 1), Verdict::Push { withheld: 0, credit: 0 })],
            &two,
            &listed,
            0,
        );
        assert_eq!((own.allotted_to("amazon:mug"), own.free()), (2, 0));
        // Yahoo's run comes first and would grow to 3: the unit is not free for it.
        before_write(
            &mut r,
            &[mug("yahoo:mug", (2, 2, 0), Verdict::Push { withheld: 0, credit: 0 })],
            &mug_target("yahoo:mug", 3),
            &listed,
            0,
        );
        assert_eq!(r.allotted_to("yahoo:mug"), 2);
        // Amazon's run reads the 2 it shows: the sale the write landed over is credited back.
        before_write(
            &mut r,
            &[mug("amazon:mug", (1, 2, 1), Verdict::Push { withheld: 0, credit: 1 })],
            &BTreeMap::new(),
            &listed,
            0,
        );
        after_write(&mut r, &[("amazon:mug", false)], &BTreeMap::new());
        assert_eq!((r.allotted_to("amazon:mug"), r.allotted_to("yahoo:mug"), r.free()), (2, 2, 0));
        assert_eq!(r.free_for_push(&listed, "yahoo:mug"), 0);
    }
    #[test]
    fn growth_never_takes_the_buffer_while_a_shrink_is_still_to_come() {
        // 5 units, buffer 1: 楽天 still holds 3 of an old split and is to shrink to 2 when its
        // mall runs; Yahoo is to grow from 1 to 2. The one free unit is the buffer: Yahoo waits.
        let listed = BTreeSet::from(["rakuten:mug".to_string(), "yahoo:mug".to_string()]);
        let plan = mug("yahoo:mug", (1, 1, 0), Verdict::Push { withheld: 0, credit: 0 });
        let two = mug_target("yahoo:mug", 2);
        let mut r = row("MUG", 5, &[("rakuten:mug", 3), ("yahoo:mug", 1)]);
        before_write(&mut r, std::slice::from_ref(&plan), &two, &listed, 1);
        assert_eq!((r.allotted_to("yahoo:mug"), r.free()), (1, 1));
        // Once 楽天 has shrunk, Yahoo grows; with no buffer it would have grown at once.
        r.allot("rakuten:mug", 2);
        before_write(&mut r, std::slice::from_ref(&plan), &two, &listed, 1);
        assert_eq!((r.allotted_to("yahoo:mug"), r.free()), (2, 1));
        let mut r = row("MUG", 5, &[("rakuten:mug", 3), ("yahoo:mug", 1)]);
        before_write(&mut r, &[plan], &two, &listed, 0);
        assert_eq!(r.allotted_to("yahoo:mug"), 2);
    }

    #[test]
    fn the_malls_a_moved_share_waits_for_are_due_to_run_and_no_others() {
        // 7 units, buffer 1, three malls at 2 each; a 楽天 sale of 2 was held: 5 left, shares
        // 2, 2, 1 (the remainder stays where it is), 楽天 at 0.
        let l = [
            listing(Marketplace::Rakuten, "mug", &[("MUG", 1)]),
            listing(Marketplace::Yahoo, "mug", &[("MUG", 1)]),
            listing(Marketplace::Amazon, "mug", &[("MUG", 1)]),
        ];
        let listings: Vec<&Listing> = l.iter().collect();
        let mut r = row("MUG", 7, &[("yahoo:mug", 2), ("amazon:mug", 2)]);
        r.reserved = 2;
        let moved = BTreeSet::from(["MUG".to_string()]);
        let rows = BTreeMap::from([("MUG".to_string(), r.clone())]);
        let due = |rows: &BTreeMap<String, Stock>, moved: &BTreeSet<String>, ours| {
            rebalance_due(&listings, rows, 1, moved, ours).into_iter().collect::<Vec<_>>()
        };
        // The share 楽天 is to get is held by Yahoo: Yahoo's run gives it up. Amazon keeps its 2.
        let shares = shares(&listings, &rows, 1, &BTreeSet::new());
        assert_eq!(shares["MUG"]["yahoo:mug"] + shares["MUG"]["amazon:mug"], 3);
        let giver = if shares["MUG"]["yahoo:mug"] == 1 { Marketplace::Yahoo } else { Marketplace::Amazon };
        assert_eq!(due(&rows, &moved, Marketplace::Rakuten), vec![giver]);
        // Nothing moved this SKU: nobody is woken for it.
        assert!(due(&rows, &BTreeSet::new(), Marketplace::Rakuten).is_empty());
        // After the giver's run the unit is free: 楽天 is due to take it; the giver is not.
        let mut after = r.clone();
        after.allot(&holder(giver, "mug"), 1);
        let rows = BTreeMap::from([("MUG".to_string(), after.clone())]);
        assert_eq!(due(&rows, &moved, giver), vec![Marketplace::Rakuten]);
        // On a slow mall the unit stays the giver's until its mall shows the lower number: 楽天
        // has nothing to grow into yet, and the giver's own run could not act.
        let mut slow = after;
        slow.allot(&shrinking(&holder(giver, "mug")), 1);
        let rows = BTreeMap::from([("MUG".to_string(), slow)]);
        assert!(due(&rows, &moved, Marketplace::Rakuten).is_empty());
    }

    #[test]
    fn a_follow_up_leaves_the_drift_counts_to_the_scheduled_runs() {
        // Yahoo's mug: allotted 4, written 4. Two scheduled runs saw it 2 short with no order
        // between; the third sees the same and calls it drift. A follow-up seconds after the
        // second withholds the 2 and calls nothing: the sale may be one the search hides yet.
        let l = [listing(Marketplace::Yahoo, "mug", &[("MUG", 1)])];
        let listings: Vec<&Listing> = l.iter().collect();
        let rows = BTreeMap::from([("MUG".to_string(), row("MUG", 4, &[("yahoo:mug", 4)]))]);
        let mut state = PushState::new("shop-1", Marketplace::Yahoo, at());
        let seen = PushRecord { shortfall: Some(2), shortfall_runs: 1, ..written() };
        state.items.insert("mug".into(), seen);
        let settings = PushSettings { buffer: 0, latency: Duration::ZERO, follow_up_gap: FOLLOW_UP_GAP };
        let verdict = |state: &PushState, shown: i64| {
            let reads = BTreeMap::from([("mug".to_string(), Shown::Units(shown))]);
            judge_items(Marketplace::Yahoo, &listings, &rows, state, &reads, &settings, at())[0].verdict.clone()
        };
        assert!(matches!(verdict(&state, 2), Verdict::Drift { shortfall: true, .. }));
        assert_eq!(verdict(&state.for_follow_up(), 2), Verdict::Push { withheld: 2, credit: 0 });
        // A rise seen once is drift the second time on a scheduled run; a follow-up covers it
        // and waits.
        let rise = PushRecord { excess: Some(1), ..written() };
        state.items.insert("mug".into(), rise);
        assert!(matches!(verdict(&state, 5), Verdict::Drift { shortfall: false, .. }));
        assert_eq!(verdict(&state.for_follow_up(), 5), Verdict::Unexplained { excess: 1, credit: 0 });
    }
}
