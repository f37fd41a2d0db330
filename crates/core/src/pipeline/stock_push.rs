//! The stock push: after the puller pulled a shop × marketplace pair, inside the pair's lease, it
//! holds the orders it pulled (their holdings applied now, before the processor stores them —
//! on AWS the processor runs later — so every sale the mall counted before the pull is in the
//! ledger), then pushes the mall's numbers from the allotment ledger
//! ([`crate::stock::push`]):
//!
//! 1. reads what the mall shows for its listed items and judges each number against the ledger
//!    (sales not pulled yet are withheld, never given back; cancellations the mall restored
//!    itself are credited; anything else is drift, reported to staff and not overwritten);
//! 2. grows each item's allotment towards its fair share from the free units only (conditional
//!    on the SKU row's `seq`, retried), so pairs running at once never allot a unit twice;
//! 3. writes the numbers that differ from the last written, in the mall's largest batches;
//! 4. shrinks the allotments of the numbers the mall took;
//! 5. names the runs that would finish what it started: the other malls whose share of a SKU
//!    it moved, and this pair again when a write on its way shows (docs/STOCK.md, "Follow-up
//!    runs"). The scheduler runs them as follow-ups: the push alone, judged without advancing
//!    the drift counts.
//!
//! A shop without a stock master is left alone ([`NoPush`] for a puller built without stock).

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;

use chrono::{DateTime, FixedOffset};

use crate::order::{Marketplace, Order};
use crate::stock::holding::{Catalogue, target_of};
use crate::stock::mall::{Failure, ItemShown, MallStock, Quantity, SetOutcome, Shown, StockFailure};
use crate::stock::push::{
    self, Drift, ItemPlan, PushOutcome, PushRecord, PushSettings, PushState, Verdict, after_write, before_write,
};
use crate::stock::{Listing, Stock, StockStore, holder};

use super::credentials::StaffNotices;
use super::holdings::catalogue;
use super::mail::marketplace_name;
use super::ports::{PortError, Written};

/// Tries of a ledger write that lost a race with an order or another pair before the run fails
/// (retryably: the next run starts over).
const LEDGER_ATTEMPTS: usize = 8;

/// What the stock side of one pull did (`PullReport::stock`).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct StockReport {
    /// Pulled orders whose holding moved stock in this run (before the processor stored them).
    pub orders_held: usize,
    /// Items whose number was written to the mall.
    pub items_pushed: usize,
    /// Units written, summed over those items.
    pub units_pushed: i64,
    /// Items not written because the mall already has the number (coalesced).
    pub items_unchanged: usize,
    /// Items whose mall number the ledger cannot explain (drift): reported, not overwritten.
    pub drift: Vec<String>,
    /// Items the mall refused, does not know, or does not show.
    pub refused: Vec<String>,
    /// Items left alone because a write is still on its way (inside the mall's delay).
    pub pending: usize,
    /// A stock call that failed, classified (`credentials`, `retryable`, `permanent`).
    pub failure: Option<String>,
    /// The other malls to run soon: a share this run moved waits for their run
    /// ([`push::rebalance_due`]). The scheduler runs them now rather than at their next interval.
    pub rebalance: BTreeSet<Marketplace>,
    /// When the first write still on its way (inside the mall's delay) shows: the pair's run
    /// then frees what a shrink gave up and compares the item again, so the scheduler runs it
    /// then rather than at its next interval.
    pub due_again_at: Option<DateTime<FixedOffset>>,
    /// A follow-up that came within the gap of the pair's last write ran nothing: try it again
    /// after this.
    pub wait: Option<std::time::Duration>,
}

/// What the puller does for stock after its pull, inside the pair's lease.
pub trait PairStock: Send + Sync {
    /// Holds `pulled` (the orders this run put on the queue) and pushes the pair's numbers.
    fn after_pull(
        &self,
        shop_id: &str,
        pulled: &[Order],
        now: DateTime<FixedOffset>,
        report: &mut StockReport,
    ) -> impl Future<Output = Result<(), PortError>> + Send;
}

/// No stock push: the puller as it was before stock (tests, tools).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoPush;

impl PairStock for NoPush {
    async fn after_pull(
        &self,
        _shop_id: &str,
        _pulled: &[Order],
        _now: DateTime<FixedOffset>,
        _report: &mut StockReport,
    ) -> Result<(), PortError> {
        Ok(())
    }
}

/// The stock push of one pair: the stock store, the mall's stock client (the pair's own client:
/// the same key and rate buckets as its orders), and where staff are told.
pub struct StockPush<'a, K, P, N> {
    /// The stock master and ledger.
    pub stock: &'a K,
    /// The mall's stock calls.
    pub mall: &'a P,
    /// Where drift, refusals and alarms go.
    pub notices: &'a N,
    /// Buffer and the mall's delay.
    pub settings: PushSettings,
    /// This run was woken by another pair's (`StockReport::rebalance`) or by a write of its own
    /// showing (`StockReport::due_again_at`), not by the schedule: it moves shares like any run,
    /// but what it finds unexplained counts towards drift only on the scheduled runs, which are
    /// an interval apart; and it does not run within `settings.follow_up_gap` of the pair's last
    /// write (`StockReport::wait`).
    pub follow_up: bool,
}

impl<K: StockStore, P: MallStock, N: StaffNotices> PairStock for StockPush<'_, K, P, N> {
    async fn after_pull(
        &self,
        shop_id: &str,
        pulled: &[Order],
        now: DateTime<FixedOffset>,
        report: &mut StockReport,
    ) -> Result<(), PortError> {
        let catalogue = catalogue(self.stock, shop_id).await?;
        if catalogue.is_empty() {
            return Ok(());
        }
        let mut moved = BTreeSet::new();
        report.orders_held += hold_pulled(self.stock, &catalogue, pulled, now, &mut moved).await?;
        self.push(shop_id, &catalogue, now, moved, report).await
    }
}

/// Applies the holding of each order pulled (its newest copy) as the marketplace shows it. An
/// order with an unmapped item is skipped (the processor raises its finding); an order the shop
/// recorded tracking for is consumed by the processor's later apply, and a holding older than
/// the one applied moves nothing. Returns the orders that moved stock; adds the SKUs they moved
/// to `moved`.
pub async fn hold_pulled<K: StockStore>(
    stock: &K,
    catalogue: &Catalogue,
    pulled: &[Order],
    now: DateTime<FixedOffset>,
    moved: &mut BTreeSet<String>,
) -> Result<usize, PortError> {
    let mut newest: BTreeMap<&str, &Order> = BTreeMap::new();
    for o in pulled {
        let e = newest.entry(o.order_id.as_str()).or_insert(o);
        if o.source_updated_at > e.source_updated_at {
            *e = o;
        }
    }
    let mut held = 0;
    for o in newest.into_values() {
        let Ok(next) = target_of(o, false, catalogue) else { continue };
        let key = super::OrderKey::of(o);
        let changes = stock.apply_holding(&key, &next, now).await?;
        held += usize::from(!changes.is_empty());
        moved.extend(changes.into_iter().map(|c| c.sku));
    }
    Ok(held)
}

impl<K: StockStore, P: MallStock, N: StaffNotices> StockPush<'_, K, P, N> {
    /// Pushes the pair's numbers (steps 1–4 of the module's text), then names the other malls
    /// whose share of a SKU this run moved (`moved`: those its held orders moved, and its own
    /// ledger steps) waits for their run. A failing mall call is reported and alarmed, not
    /// returned: only the store's failures stop the run.
    pub async fn push(
        &self,
        shop_id: &str,
        catalogue: &Catalogue,
        now: DateTime<FixedOffset>,
        mut moved: BTreeSet<String>,
        report: &mut StockReport,
    ) -> Result<(), PortError> {
        let marketplace = self.mall.marketplace();
        // The run's own time passes too: a write's delay counts from when the mall took it.
        let clock = std::time::Instant::now();
        let listings: Vec<&Listing> = catalogue.listings().collect();
        let items: Vec<String> = catalogue.listings_of(marketplace).map(|l| l.item.clone()).collect();
        if items.is_empty() {
            return Ok(());
        }
        let stored = self.stock.push_state(shop_id, marketplace).await?;
        let expected_rev = stored.as_ref().map(|s| s.rev);
        let mut state = stored.unwrap_or_else(|| PushState::new(shop_id, marketplace, now));
        if self.follow_up
            && let Some(last) = state.items.values().filter_map(|r| r.written_at).max()
        {
            let ready = last + chrono::TimeDelta::from_std(self.settings.follow_up_gap).unwrap_or_default();
            if now < ready {
                report.wait = Some((ready - now).to_std().unwrap_or_default());
                return Ok(());
            }
        }
        let mut told = Told::default();

        // 1. What the mall shows, for the items that are not known to be the mall's own.
        let to_read: Vec<String> = items
            .iter()
            .filter(|i| state.items.get(*i).and_then(|r| r.outcome.as_ref()) != Some(&PushOutcome::MallManaged))
            .cloned()
            .collect();
        let reads = match self.mall.read_quantities(&to_read).await {
            Ok(reads) => reads,
            Err(e) => {
                self.failed(&mut state, &e, "在庫数の読み取り", now, report, &mut told);
                return self.finish(state, expected_rev, told, now).await;
            }
        };
        let reads: BTreeMap<String, Shown> = reads.into_iter().map(|ItemShown { item, shown }| (item, shown)).collect();
        let rows = self.rows(shop_id).await?;
        let judged_by = if self.follow_up { Cow::Owned(state.for_follow_up()) } else { Cow::Borrowed(&state) };
        let plans = push::judge_items(marketplace, &listings, &rows, &judged_by, &reads, &self.settings, now);
        let latency = chrono::TimeDelta::from_std(self.settings.latency).unwrap_or_default();
        report.due_again_at = plans
            .iter()
            .filter(|p| p.verdict == Verdict::Pending)
            .filter_map(|p| state.items.get(&p.item).and_then(|r| r.written_at))
            .map(|at| at + latency)
            .min();
        let left_out: BTreeSet<String> = plans
            .iter()
            .filter(|p| matches!(p.verdict, Verdict::MallManaged | Verdict::Missing))
            .map(|p| p.holder.clone())
            .collect();
        let shares = push::shares(&listings, &rows, self.settings.buffer, &left_out);
        let targets = push::targets(&plans, &shares);

        // 2. Credits and growth, conditional on each row's seq.
        let skus: BTreeSet<&str> = plans.iter().flat_map(|p| p.parts.iter().map(|(s, _)| s.as_str())).collect();
        // What every listed item's orders released or drew waits for its own mall's push
        // (`Stock::free_for_push`).
        let listed: BTreeSet<String> = listings.iter().map(|l| holder(l.marketplace, &l.item)).collect();
        let rows = self
            .update_rows(shop_id, &skus, rows, &mut moved, |row| {
                before_write(row, &plans, &targets, &listed, self.settings.buffer)
            })
            .await?;

        // 3. The numbers that differ from the last written.
        let mut writes: Vec<Quantity> = Vec::new();
        // Holders whose number the mall has (true: written, and the mall shows it only later).
        let mut settled: Vec<(&str, bool)> = Vec::new();
        for p in &plans {
            self.record_verdict(&mut state, p, now, report, &mut told);
            if !matches!(p.verdict, Verdict::Push { .. }) {
                continue;
            }
            let n = push::number(p, &rows, &targets);
            let record = state.items.entry(p.item.clone()).or_default();
            // The mall shows it already: nothing to write (a write still on its way is Pending).
            let same = p.shown == Some(n) && !record.force;
            if same {
                report.items_unchanged += 1;
                settled.push((p.holder.as_str(), false));
            } else {
                writes.push(Quantity { item: p.item.clone(), units: u32::try_from(n.max(0)).unwrap_or(u32::MAX) });
            }
        }
        let mut written_ok: BTreeSet<String> = BTreeSet::new();
        if !writes.is_empty() {
            match self.mall.set_quantities(&writes).await {
                Ok(answers) => {
                    // When the mall took the numbers, which is when its delay starts: `now` is
                    // when the run began, and the run due one delay later reads before a write
                    // made late in this one shows (Qoo10's sale day read the old number then).
                    let taken_at = now + chrono::TimeDelta::from_std(clock.elapsed()).unwrap_or_default();
                    for a in answers {
                        let units = writes.iter().find(|w| w.item == a.item).map_or(0, |w| i64::from(w.units));
                        let record = state.items.entry(a.item.clone()).or_default();
                        match a.outcome {
                            SetOutcome::Written => {
                                record.written = Some(units);
                                record.written_at = Some(taken_at);
                                record.outcome = Some(PushOutcome::Written);
                                record.force = false;
                                report.items_pushed += 1;
                                report.units_pushed += units;
                                written_ok.insert(a.item);
                            }
                            SetOutcome::MallManaged => record.outcome = Some(PushOutcome::MallManaged),
                            SetOutcome::Unknown => {
                                told.refusal(record, &a.item, PushOutcome::Unknown, report);
                            }
                            SetOutcome::Refused { code, reason } => {
                                told.refusal(record, &a.item, PushOutcome::Refused { code, reason }, report);
                            }
                        }
                    }
                    state.failed_runs = 0;
                    if !self.settings.latency.is_zero() && !written_ok.is_empty() {
                        let shows = taken_at + latency;
                        report.due_again_at = Some(report.due_again_at.map_or(shows, |d| d.min(shows)));
                    }
                }
                Err(e) => self.failed(&mut state, &e, "在庫数の書き込み", now, report, &mut told),
            }
        } else {
            state.failed_runs = 0;
        }

        // 4. Shrink what the mall took (or already showed).
        for p in &plans {
            if written_ok.contains(&p.item) {
                settled.push((p.holder.as_str(), !self.settings.latency.is_zero()));
            }
        }
        let rows = if settled.is_empty() {
            rows
        } else {
            let fresh = self.rows(shop_id).await?;
            self.update_rows(shop_id, &skus, fresh, &mut moved, |row| after_write(row, &settled, &targets)).await?
        };
        // From the rows as this run left them: another pair's later change names its own.
        if !moved.is_empty() {
            report.rebalance = push::rebalance_due(&listings, &rows, self.settings.buffer, &moved, marketplace);
        }
        self.finish(state, expected_rev, told, now).await
    }

    /// The shop's SKU rows by SKU.
    async fn rows(&self, shop_id: &str) -> Result<BTreeMap<String, Stock>, PortError> {
        Ok(self.stock.stocks(shop_id).await?.into_iter().map(|s| (s.sku.clone(), s)).collect())
    }

    /// Makes `change` on each row of `skus` and writes it conditionally on the row's seq; a row
    /// that moved meanwhile is read again and changed again. Returns the rows as written; adds
    /// the SKUs written to `moved`.
    async fn update_rows(
        &self,
        shop_id: &str,
        skus: &BTreeSet<&str>,
        mut rows: BTreeMap<String, Stock>,
        moved: &mut BTreeSet<String>,
        change: impl Fn(&mut Stock),
    ) -> Result<BTreeMap<String, Stock>, PortError> {
        for sku in skus {
            let mut attempt = 0;
            while let Some(row) = rows.get_mut(*sku) {
                let before = row.clone();
                change(row);
                if row.allotted == before.allotted && row.cancelled == before.cancelled && row.drawn == before.drawn {
                    break;
                }
                if self.stock.put_ledger(shop_id, row).await? {
                    row.seq += 1;
                    moved.insert((*sku).to_string());
                    break;
                }
                attempt += 1;
                if attempt >= LEDGER_ATTEMPTS {
                    return Err(PortError::retryable("stock ledger", format!("SKU {sku} kept changing")));
                }
                if let Some(fresh) = self.rows(shop_id).await?.remove(*sku) {
                    rows.insert((*sku).to_string(), fresh);
                }
            }
        }
        Ok(rows)
    }

    /// Keeps what a verdict says in the item's record and the report.
    fn record_verdict(
        &self,
        state: &mut PushState,
        p: &ItemPlan,
        now: DateTime<FixedOffset>,
        report: &mut StockReport,
        told: &mut Told,
    ) {
        let record = state.items.entry(p.item.clone()).or_default();
        match p.verdict {
            // A follow-up run leaves the counts of what stays unexplained to the scheduled runs.
            Verdict::Push { withheld, .. } if withheld > 0 && self.follow_up => {}
            Verdict::Unexplained { .. } if self.follow_up => {}
            Verdict::Push { withheld, .. } => {
                let again = withheld > 0 && record.shortfall == Some(withheld) && p.drawn <= 0;
                record.shortfall_runs = if again { record.shortfall_runs + 1 } else { 0 };
                record.shortfall = (withheld > 0).then_some(withheld);
                record.excess = None;
                record.drift = None;
            }
            Verdict::Unexplained { excess, .. } => {
                record.shortfall = None;
                record.shortfall_runs = 0;
                record.excess = Some(excess);
            }
            Verdict::Drift { shown, expected, .. } => {
                record.shortfall = None;
                record.shortfall_runs = 0;
                record.excess = None;
                let today = now.date_naive();
                let new = record.drift.is_none();
                let drift = record.drift.get_or_insert(Drift { shown, expected, found_at: now, told_on: today });
                drift.shown = shown;
                if new || drift.told_on < today {
                    drift.told_on = today;
                    told.drift.push((p.item.clone(), shown, drift.expected));
                }
                report.drift.push(p.item.clone());
            }
            Verdict::Pending => report.pending += 1,
            Verdict::MallManaged => record.outcome = Some(PushOutcome::MallManaged),
            Verdict::Missing => told.refusal(record, &p.item, PushOutcome::Missing, report),
            Verdict::NotRead => {}
        }
    }

    /// A stock call failed: reported; staff alarmed at once for credentials or a refused call,
    /// and for a passing failure on its second run in a row — once a day.
    #[allow(clippy::too_many_arguments)]
    fn failed<E: std::error::Error + StockFailure>(
        &self,
        state: &mut PushState,
        e: &E,
        what: &str,
        now: DateTime<FixedOffset>,
        report: &mut StockReport,
        told: &mut Told,
    ) {
        let kind = e.failure();
        report.failure = Some(
            match kind {
                Failure::Credentials => "credentials",
                Failure::Retryable => "retryable",
                Failure::Permanent => "permanent",
            }
            .to_string(),
        );
        let alarm = match kind {
            Failure::Retryable => {
                state.failed_runs += 1;
                state.failed_runs >= 2
            }
            Failure::Credentials | Failure::Permanent => true,
        };
        let today = now.date_naive();
        if alarm && state.alarmed_on != Some(today) {
            state.alarmed_on = Some(today);
            let why = match kind {
                Failure::Credentials => {
                    "認証情報が拒否されたか期限切れです。更新するまでこのモールの在庫は更新されません。"
                }
                Failure::Retryable => "2回続けて失敗しました(モールの障害・メンテナンス・通信)。",
                Failure::Permanent => "モールが要求を受け付けませんでした。",
            };
            told.alarm = Some(format!("{what}に失敗: {why}\n詳細: {e}"));
        }
    }

    /// Writes the pair's record and tells staff what this run found.
    async fn finish(
        &self,
        mut state: PushState,
        expected: Option<u64>,
        told: Told,
        now: DateTime<FixedOffset>,
    ) -> Result<(), PortError> {
        state.rev = expected.map_or(1, |r| r + 1);
        state.updated_at = now;
        if self.stock.put_push_state(&state, expected).await? == Written::Conflict {
            return Err(PortError::retryable("stock push record", "written by someone else meanwhile"));
        }
        if let Some((subject, text)) = told.notice(&state.shop_id, state.marketplace) {
            self.notices.notify(&subject, &text).await?;
        }
        Ok(())
    }
}

/// What staff are to be told after a run.
#[derive(Debug, Default)]
struct Told {
    /// (item, shown, expected) of drift found (or a day old).
    drift: Vec<(String, i64, i64)>,
    /// (item, what) of items the mall refused, does not know or does not show.
    refused: Vec<(String, String)>,
    /// Failing stock calls.
    alarm: Option<String>,
}

impl Told {
    /// Records `outcome` for `item`; staff hear of it once, until it changes.
    fn refusal(&mut self, record: &mut PushRecord, item: &str, outcome: PushOutcome, report: &mut StockReport) {
        report.refused.push(item.to_string());
        if record.outcome.as_ref() == Some(&outcome) {
            return;
        }
        let what = match &outcome {
            PushOutcome::Unknown => "モールにこの商品がありません".to_string(),
            PushOutcome::Missing => {
                "モールの在庫数の読み取りにこの商品が出てきません(商品コードの誤り・削除)".to_string()
            }
            PushOutcome::Refused { code, reason } => format!("モールが在庫数を受け付けませんでした({code}: {reason})"),
            PushOutcome::Written | PushOutcome::MallManaged => return,
        };
        record.outcome = Some(outcome);
        self.refused.push((item.to_string(), what));
    }

    fn notice(&self, shop_id: &str, marketplace: Marketplace) -> Option<(String, String)> {
        if self.drift.is_empty() && self.refused.is_empty() && self.alarm.is_none() {
            return None;
        }
        let mall = marketplace_name(marketplace);
        let subject = if self.alarm.is_some() {
            format!("[ichigen] stock sync failing 在庫連携が止まっています: {mall}（ショップ {shop_id}）")
        } else {
            format!("[ichigen] stock needs a decision 在庫数の確認が必要です: {mall}（ショップ {shop_id}）")
        };
        let mut text = String::new();
        if let Some(alarm) = &self.alarm {
            text.push_str(&format!("■ {mall}の在庫連携\n{alarm}\n\n"));
        }
        if !self.drift.is_empty() {
            text.push_str(&format!(
                "■ {mall}の管理画面で変更されたと思われる在庫数（上書きしていません）\n\
                 モールの数を正とするなら `ichigen stock accept {marketplace} <商品>`、\
                 ichigen の数で上書きするなら `ichigen stock push --force {marketplace} <商品>` を実行してください。\n"
            ));
            for (item, shown, expected) in &self.drift {
                text.push_str(&format!("- {item}: モールの表示 {shown} / ichigen の割当 {expected}\n"));
            }
            text.push('\n');
        }
        if !self.refused.is_empty() {
            text.push_str(&format!(
                "■ {mall}に在庫数を反映できなかった商品（`ichigen stock map` の商品コードを確認してください）\n"
            ));
            for (item, what) in &self.refused {
                text.push_str(&format!("- {item}: {what}\n"));
            }
        }
        Some((subject, text))
    }
}

/// Why a staff decision on a mall's number could not be made.
#[derive(Debug, thiserror::Error)]
pub enum DecideError {
    /// No drift is recorded for the item (nothing to decide).
    #[error("{marketplace} の商品 {item} に未確認の在庫差異はありません")]
    NoDrift {
        /// The marketplace.
        marketplace: Marketplace,
        /// The item.
        item: String,
    },
    /// The item is not listed (`ichigen stock map`).
    #[error("{marketplace} の商品 {item} は在庫SKUに対応付けられていません(ichigen stock map)")]
    NotListed {
        /// The marketplace.
        marketplace: Marketplace,
        /// The item.
        item: String,
    },
    /// The store failed, or the record changed meanwhile (try again).
    #[error(transparent)]
    Port(#[from] PortError),
}

/// `ichigen stock accept <mp> <item>`: staff adopt the mall's number of an item in drift. Each
/// SKU of the item is counted up (or down) by the difference — recorded with who and why — and
/// the item's allotment takes it, so the ledger expects what the mall shows; pushing resumes on
/// the next run. Returns the difference in items.
pub async fn accept_drift<K: StockStore>(
    stock: &K,
    shop_id: &str,
    marketplace: Marketplace,
    item: &str,
    who: &str,
    now: DateTime<FixedOffset>,
) -> Result<i64, DecideError> {
    let no_drift = || DecideError::NoDrift { marketplace, item: item.to_string() };
    let mut state = stock.push_state(shop_id, marketplace).await?.ok_or_else(no_drift)?;
    let drift = state.items.get(item).and_then(|r| r.drift.clone()).ok_or_else(no_drift)?;
    let catalogue = catalogue(stock, shop_id).await?;
    let listing = catalogue
        .listings_of(marketplace)
        .find(|l| l.item == item)
        .ok_or_else(|| DecideError::NotListed { marketplace, item: item.to_string() })?
        .clone();
    let diff = drift.shown - drift.expected;
    let why = format!("{}の管理画面の在庫数を採用 ({item})", marketplace_name(marketplace));
    let h = holder(marketplace, item);
    for part in &listing.parts {
        let units = diff * i64::from(part.units.max(1));
        let by = crate::stock::Edit { who, why: &why, at: now };
        stock.count(shop_id, &part.sku, None, crate::stock::Count::Adjust(units), &by).await?;
        for _ in 0..LEDGER_ATTEMPTS {
            let Some(mut row) = stock.stocks(shop_id).await?.into_iter().find(|s| s.sku == part.sku) else { break };
            row.allot(&h, (row.allotted_to(&h) + units).max(0));
            // The units that covered the mall's number are the item's own now.
            row.allot(&crate::stock::covering(&h), 0);
            if stock.put_ledger(shop_id, &row).await? {
                break;
            }
        }
    }
    let expected = state.rev;
    if let Some(r) = state.items.get_mut(item) {
        r.drift = None;
        r.shortfall = None;
        r.shortfall_runs = 0;
    }
    state.rev += 1;
    state.updated_at = now;
    if stock.put_push_state(&state, Some(expected)).await? == Written::Conflict {
        return Err(PortError::retryable("stock push record", "changed meanwhile; run the command again").into());
    }
    Ok(diff)
}

/// `ichigen stock push --force <mp> <item>`: staff overwrite the mall's number of an item in
/// drift with the ledger's on the next run.
pub async fn force_push<K: StockStore>(
    stock: &K,
    shop_id: &str,
    marketplace: Marketplace,
    item: &str,
    now: DateTime<FixedOffset>,
) -> Result<(), DecideError> {
    let mut state =
        stock.push_state(shop_id, marketplace).await?.unwrap_or_else(|| PushState::new(shop_id, marketplace, now));
    let expected = (state.rev > 0).then_some(state.rev);
    let record = state.items.entry(item.to_string()).or_default();
    record.force = true;
    record.drift = None;
    record.shortfall = None;
    record.shortfall_runs = 0;
    state.rev += 1;
    state.updated_at = now;
    if stock.put_push_state(&state, expected).await? == Written::Conflict {
        return Err(PortError::retryable("stock push record", "changed meanwhile; run the command again").into());
    }
    Ok(())
}
