//! The puller's use case: pull one shop × marketplace from its watermark to now, put every
//! order on the orders queue, and move the watermark only past what is queued; then read again
//! by id what the marketplace's search cannot show (orders it listed but did not return, and the
//! stored open orders, as the marketplace's policy asks). One run of a pair at a time: a run
//! takes the pair's lease before its first marketplace call. Inside the same lease, before the
//! pull, the pair's queued acknowledgements are sent (`super::acknowledge`), then its pending
//! tracking writes are registered on the marketplace (within the run's time and the client's rate
//! limits); an accepted number makes its parcel 反映済 and, once every parcel of the order is,
//! queues the buyer's shipping mail.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, FixedOffset, TimeDelta};
use sha2::{Digest, Sha256};

use crate::marketplace::MarketplacePolicy;
use crate::order::{Marketplace, Order, OrderStatus};

use super::credentials::StaffNotices;
use super::mail::marketplace_name;
use super::ports::{
    MailQueue, OrderQueue, OrderStore, PortError, Quarantine, Rejected, Retryable, ShopDirectory, WatermarkStore,
    Written,
};
use super::shipping::{
    FailedWrite, ShipError, TrackingWrite, TrackingWrites, mark_reflected, mark_write_failed, update_writes,
};
use super::source::{OrderPage, OrderSource, Window};
use super::stock_push::{NoPush, PairStock, StockReport};
use super::stored::{PendingWindow, Watermark};

/// How many runs in a row may ask for an order the marketplace keeps leaving out before the
/// puller stops asking (the order is reported by id; a later change brings it back anyway).
pub const MAX_RETRIES: u32 = 5;

/// Most tracking numbers one run registers: the rest wait for the next run, so a large import
/// never starves the pull of its time.
pub const MAX_WRITES_PER_RUN: usize = 200;

/// Tries of a tracking write that fails in a way that may pass before staff are told (about a
/// day at one run every few minutes is not reached: the marketplace is down for longer, or the
/// failure is not passing).
pub const MAX_WRITE_ATTEMPTS: u32 = 20;

/// The longest a pull lease lasts, whatever time a run says it has (a Lambda has 15 minutes).
const MAX_LEASE: Duration = Duration::from_secs(3600);

/// Puller settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PullSettings {
    /// How far before the watermark each window starts again: marketplaces index changes late,
    /// and the processor ignores what it already has.
    pub overlap: Duration,
    /// How far back the very first pull of a pair reaches.
    pub first_lookback: Duration,
    /// The longest a page may take (HTTP timeout with retries): no page starts with less time
    /// left before the deadline.
    pub page_budget: Duration,
}

impl Default for PullSettings {
    fn default() -> Self {
        PullSettings {
            overlap: Duration::from_secs(15 * 60),
            first_lookback: Duration::from_secs(3 * 24 * 3600),
            page_budget: Duration::from_secs(20),
        }
    }
}

/// What a pull did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PullReport {
    /// Which shop.
    pub shop_id: String,
    /// Which marketplace.
    pub marketplace: Marketplace,
    /// True when another run of the pair held its lease: this run made no marketplace call.
    pub lease_busy: bool,
    /// Pages read.
    pub pages: u32,
    /// Orders put on the orders queue (from windows and from reads by id).
    pub queued: usize,
    /// Orders the overlap found again exactly as this pair queued them before: not queued again.
    pub unchanged: usize,
    /// Orders read again by id (left out earlier, or open and reconciled) and queued: one found
    /// exactly as queued before counts in `unchanged` instead.
    pub reread: usize,
    /// Orders quarantined as unreadable.
    pub quarantined: usize,
    /// Order ids the marketplace left out this run (asked for again next run).
    pub missing: Vec<String>,
    /// Order ids asked for [`MAX_RETRIES`] runs in a row without an answer: no longer asked for.
    pub given_up: Vec<String>,
    /// False when the run stopped at its deadline with work under way (resumed next run).
    pub finished: bool,
    /// Every order changed before this instant is queued.
    pub pulled_to: DateTime<FixedOffset>,
    /// Tracking numbers the marketplace accepted this run.
    pub tracking_registered: usize,
    /// Tracking writes that failed in a way that may pass (tried again next run).
    pub tracking_retried: usize,
    /// Tracking writes the marketplace refused for good (reported to staff).
    pub tracking_failed: usize,
    /// Shipping mails queued (orders whose every parcel is now 反映済).
    pub shipping_mails: usize,
    /// Orders the marketplace took the acknowledgement of this run.
    pub acknowledged: usize,
    /// Acknowledgements that failed in a way that may pass (tried again next run).
    pub ack_retried: usize,
    /// Acknowledgements the marketplace refused for good (reported to staff).
    pub ack_failed: usize,
    /// The stock side: pulled orders held, numbers pushed, drift, failures (all zero for a shop
    /// without a stock master or a puller run without stock).
    pub stock: StockReport,
}

/// Why a pull stopped early. Progress up to the last queued page is kept.
#[derive(Debug, thiserror::Error)]
pub enum PullError<E: std::error::Error + 'static> {
    /// The marketplace call failed.
    #[error("{marketplace}: {source}")]
    Feed {
        /// Which marketplace.
        marketplace: Marketplace,
        /// The client's error.
        #[source]
        source: E,
    },
    /// The queue or the watermark store failed.
    #[error(transparent)]
    Port(#[from] PortError),
    /// Another run of the same pair moved the watermark meanwhile (a lease that ran out).
    #[error("shop {shop_id} {marketplace}: another pull of this pair is under way")]
    Busy {
        /// Which shop.
        shop_id: String,
        /// Which marketplace.
        marketplace: Marketplace,
    },
}

impl<E: std::error::Error + Retryable + 'static> PullError<E> {
    /// Whether the next run may succeed by itself.
    pub fn is_retryable(&self) -> bool {
        match self {
            PullError::Feed { source, .. } => source.is_retryable(),
            PullError::Port(e) => e.retryable,
            PullError::Busy { .. } => true,
        }
    }
}

/// The puller: a marketplace source for one shop × marketplace, and where its orders and place go.
pub struct Puller<'a, F, Q, W, X, S, M, N> {
    /// The marketplace client.
    pub source: &'a F,
    /// The orders queue.
    pub queue: &'a Q,
    /// Where the watermark and the pair's lease are kept.
    pub marks: &'a W,
    /// Where unreadable orders go.
    pub quarantine: &'a X,
    /// The stored orders (the pair's open ones are reconciled), the pair's pending writes, and the
    /// shop's settings (its lead time, promised with an acknowledgement).
    pub store: &'a S,
    /// Where the shipping mail of an order whose tracking the marketplace accepted goes.
    pub mails: &'a M,
    /// Where tracking writes the marketplace refused for good are reported.
    pub notices: &'a N,
    /// The marketplace's declared policy.
    pub policy: MarketplacePolicy,
    /// Settings.
    pub settings: PullSettings,
}

impl<F, Q, W, X, S, M, N> Puller<'_, F, Q, W, X, S, M, N>
where
    F: OrderSource,
    Q: OrderQueue,
    W: WatermarkStore,
    X: Quarantine,
    S: OrderStore + TrackingWrites + ShopDirectory,
    M: MailQueue,
    N: StaffNotices,
{
    /// Pulls `shop_id` up to `now`; `time_left` says how long the run may still go on. Moves no
    /// stock: [`Puller::run_with`] with [`NoPush`].
    pub async fn run(
        &self,
        shop_id: &str,
        now: DateTime<FixedOffset>,
        time_left: impl Fn() -> Duration,
    ) -> Result<PullReport, PullError<F::Error>> {
        self.run_with(shop_id, now, time_left, &NoPush).await
    }

    /// [`Puller::run`], and once the pull has caught up, inside the same lease, `stock`'s work:
    /// the pulled orders held and the pair's numbers pushed (`super::stock_push::StockPush`).
    pub async fn run_with(
        &self,
        shop_id: &str,
        now: DateTime<FixedOffset>,
        time_left: impl Fn() -> Duration,
        stock: &impl PairStock,
    ) -> Result<PullReport, PullError<F::Error>> {
        self.leased(shop_id, now, time_left, stock, true).await
    }

    /// A follow-up run, woken by another pair's (`StockReport::rebalance`) or by its own write
    /// on its way showing (`StockReport::due_again_at`): inside the pair's lease, `stock`'s push
    /// alone. The pair pulled moments ago; a sale it made since is withheld
    /// as on any run (the mall shows fewer than the ledger), never given back, and the next
    /// scheduled run pulls it. Skipping the pull spares the order search's rate (Amazon's is one
    /// call a minute).
    pub async fn push_only(
        &self,
        shop_id: &str,
        now: DateTime<FixedOffset>,
        time_left: impl Fn() -> Duration,
        stock: &impl PairStock,
    ) -> Result<PullReport, PullError<F::Error>> {
        self.leased(shop_id, now, time_left, stock, false).await
    }

    /// Takes the pair's lease and runs inside it: the pull and the push, or the push alone.
    async fn leased(
        &self,
        shop_id: &str,
        now: DateTime<FixedOffset>,
        time_left: impl Fn() -> Duration,
        stock: &impl PairStock,
        pull: bool,
    ) -> Result<PullReport, PullError<F::Error>> {
        let marketplace = self.source.marketplace();
        let mut report = PullReport {
            shop_id: shop_id.to_string(),
            marketplace,
            lease_busy: false,
            pages: 0,
            queued: 0,
            unchanged: 0,
            reread: 0,
            quarantined: 0,
            missing: Vec::new(),
            given_up: Vec::new(),
            finished: false,
            pulled_to: now,
            tracking_registered: 0,
            tracking_retried: 0,
            tracking_failed: 0,
            shipping_mails: 0,
            acknowledged: 0,
            ack_retried: 0,
            ack_failed: 0,
            stock: StockReport::default(),
        };
        // The lease lasts as long as this run can: a run that dies frees the pair at its deadline.
        let holder = format!("{}-{:016x}", now.timestamp_micros(), fastrand::u64(..));
        let span = time_left().min(MAX_LEASE) + self.settings.page_budget;
        let until = now.checked_add_signed(delta(span)).unwrap_or(now);
        if !self.marks.take_lease(shop_id, marketplace, &holder, now, until).await? {
            report.lease_busy = true;
            report.finished = true;
            return Ok(report);
        }
        let result = if pull {
            self.run_leased(shop_id, now, &time_left, stock, &mut report).await
        } else {
            report.finished = true;
            // As after a pull: a stock store failure is reported, not the run's.
            if let Err(e) = stock.after_pull(shop_id, &[], now, &mut report.stock).await {
                report.stock.failure = Some(format!("store: {e}"));
            }
            Ok(())
        };
        // Best effort: an unended lease ends by itself at `until`.
        let ended = self.marks.end_lease(shop_id, marketplace, &holder).await;
        result?;
        ended?;
        Ok(report)
    }

    async fn run_leased(
        &self,
        shop_id: &str,
        now: DateTime<FixedOffset>,
        time_left: &impl Fn() -> Duration,
        stock: &impl PairStock,
        report: &mut PullReport,
    ) -> Result<(), PullError<F::Error>> {
        let marketplace = self.source.marketplace();
        let stored = self.marks.get_watermark(shop_id, marketplace).await?;
        let first_pull = stored.is_none();
        // Reads first when the pair is caught up: a buyer's thank-you waits for this pull, while
        // an acknowledgement or a tracking number waits a few seconds more at no cost (Qoo10 takes
        // one call per order line at one call a second). What the writes change is read on the
        // next run. A pair still working through a backlog writes first, so its writes are never
        // starved by the pull's deadline.
        let backlog = stored.as_ref().is_some_and(|m| m.pending.is_some());
        if backlog {
            self.write_all(shop_id, now, time_left, report).await?;
        }
        let mut mark = stored.unwrap_or_else(|| Watermark {
            shop_id: shop_id.to_string(),
            marketplace,
            pulled_to: now - delta(self.settings.first_lookback),
            pending: None,
            retry: BTreeMap::new(),
            reconciled_at: None,
            reconcile_after: None,
            recent: Default::default(),
            queued: Default::default(),
            rev: 0,
            updated_at: now,
        });
        let mut rev = (!first_pull).then_some(mark.rev);
        report.pulled_to = mark.pulled_to;
        let mut pulled: Vec<Order> = Vec::new();
        let caught_up = self.pull_windows(&mut mark, &mut rev, first_pull, now, time_left, &mut pulled, report).await?;
        report.pulled_to = mark.pulled_to;
        if caught_up {
            report.finished = self.read_again(&mut mark, &mut rev, now, time_left, &mut pulled, report).await?;
            // Every sale the mall counted before this pull is now held: push from there.
            // The pull's progress is saved: a stock store failure is reported, not the pull's.
            if time_left() >= self.settings.page_budget
                && let Err(e) = stock.after_pull(shop_id, &pulled, now, &mut report.stock).await
            {
                report.stock.failure = Some(format!("store: {e}"));
            }
        }
        if !backlog {
            self.write_all(shop_id, now, time_left, report).await?;
        }
        Ok(())
    }

    /// The pair's writes to the marketplace: acknowledgements first (a marketplace may take a
    /// tracking number only after one, and an order shipped first no longer awaits one), then
    /// tracking numbers.
    async fn write_all(
        &self,
        shop_id: &str,
        now: DateTime<FixedOffset>,
        time_left: &impl Fn() -> Duration,
        report: &mut PullReport,
    ) -> Result<(), PullError<F::Error>> {
        self.acknowledge_due(shop_id, now, time_left, report).await?;
        self.write_back(shop_id, now, time_left, report).await
    }

    /// Registers the pair's pending tracking numbers on the marketplace, oldest first, while the
    /// run has time. Accepted: the parcel goes 反映済 (and the order's shipping mail is queued
    /// when it was the last parcel). Failed in a way that may pass: tried again next run, up to
    /// [`MAX_WRITE_ATTEMPTS`]. Refused: kept in the pair's failed list, marked on the parcel and
    /// reported to staff. Only the store's failures stop the run.
    async fn write_back(
        &self,
        shop_id: &str,
        now: DateTime<FixedOffset>,
        time_left: &impl Fn() -> Duration,
        report: &mut PullReport,
    ) -> Result<(), PullError<F::Error>> {
        let marketplace = self.source.marketplace();
        let Some(pending) = self.store.get_writes(shop_id, marketplace).await? else {
            return Ok(());
        };
        let mut done: Vec<TrackingWrite> = Vec::new();
        let mut retried: Vec<(TrackingWrite, String)> = Vec::new();
        let mut refused: Vec<(TrackingWrite, String)> = Vec::new();
        for write in pending.writes.iter().take(MAX_WRITES_PER_RUN) {
            if time_left() < self.settings.page_budget {
                break;
            }
            let Some(stored) = self.store.get(&write.order).await? else {
                refused.push((write.clone(), "the order is no longer stored".to_string()));
                continue;
            };
            match self.source.register_tracking(&stored.order, &write.tracking).await {
                Ok(()) => {
                    let buyer_mail = self.policy.buyer_mail_allowed(&stored.order);
                    match mark_reflected(self.store, self.mails, write, buyer_mail, now).await {
                        Ok(mailed) => report.shipping_mails += usize::from(mailed),
                        Err(ShipError::Port(e)) => return Err(e.into()),
                        // The order changed so that the parcel is no longer ours (gone, cancelled):
                        // the marketplace has the number; nothing to mark.
                        Err(_) => {}
                    }
                    done.push(write.clone());
                }
                Err(e) if e.is_retryable() => retried.push((write.clone(), e.to_string())),
                Err(e) => refused.push((write.clone(), e.to_string())),
            }
        }
        if done.is_empty() && retried.is_empty() && refused.is_empty() {
            return Ok(());
        }
        let mut given_up: Vec<FailedWrite> = Vec::new();
        update_writes(self.store, shop_id, marketplace, now, |w| {
            given_up.clear();
            w.writes.retain(|x| !done.iter().any(|d| d.same(x)));
            for (r, why) in &retried {
                if let Some(x) = w.writes.iter_mut().find(|x| x.same(r)) {
                    x.attempts += 1;
                    x.last_error = Some(why.clone());
                }
            }
            let mut failed_now: Vec<FailedWrite> = refused
                .iter()
                .filter(|(r, _)| w.writes.iter().any(|x| x.same(r)))
                .map(|(r, why)| FailedWrite { write: r.clone(), reason: why.clone(), failed_at: now })
                .collect();
            failed_now.extend(w.writes.iter().filter(|x| x.attempts >= MAX_WRITE_ATTEMPTS).map(|x| FailedWrite {
                write: x.clone(),
                reason: format!(
                    "{} tries failed; the last: {}",
                    x.attempts,
                    x.last_error.as_deref().unwrap_or("unknown")
                ),
                failed_at: now,
            }));
            w.writes.retain(|x| !failed_now.iter().any(|f| f.write.same(x)));
            given_up.clone_from(&failed_now);
            w.failed.extend(failed_now);
        })
        .await?;
        report.tracking_registered += done.len();
        report.tracking_retried += retried.len();
        report.tracking_failed += given_up.len();
        if given_up.is_empty() {
            return Ok(());
        }
        let mut text = format!(
            "{}で、次の伝票番号の登録をモールが受け付けませんでした。自動では再送しません。\n\
             モールの管理画面で確認し、必要なら番号を直して `ichigen orders ship` で登録し直してください。\n\n",
            marketplace_name(marketplace)
        );
        for f in &given_up {
            text.push_str(&format!(
                "- 注文 {} 送付先{} 伝票番号 {}: {}\n",
                f.write.order.order_id, f.write.destination, f.write.tracking.number, f.reason
            ));
            match mark_write_failed(self.store, &f.write, &f.reason, now).await {
                Ok(()) | Err(ShipError::NotFound(_)) => {}
                Err(ShipError::Port(e)) => return Err(e.into()),
                Err(_) => {}
            }
        }
        let subject = format!(
            "[ichigen] {}: 伝票番号{}件の登録に失敗しました（ショップ {shop_id}）",
            marketplace_name(marketplace),
            given_up.len()
        );
        self.notices.notify(&subject, &text).await?;
        Ok(())
    }

    /// A resumed window, then one fresh window up to now. False when the deadline cut it.
    #[allow(clippy::too_many_arguments)] // The run's state, threaded through its steps.
    async fn pull_windows(
        &self,
        mark: &mut Watermark,
        rev: &mut Option<u64>,
        first_pull: bool,
        now: DateTime<FixedOffset>,
        time_left: &impl Fn() -> Duration,
        pulled: &mut Vec<Order>,
        report: &mut PullReport,
    ) -> Result<bool, PullError<F::Error>> {
        let marketplace = mark.marketplace;
        let mut resumed = mark.pending.is_some();
        loop {
            let mut window = match mark.pending.take() {
                Some(p) => p,
                None => {
                    let from = if first_pull { mark.pulled_to } else { mark.pulled_to - delta(self.settings.overlap) };
                    if from >= now {
                        return Ok(true);
                    }
                    forget_before(mark, from);
                    PendingWindow { from, to: now, cursor: None, pages_done: 0 }
                }
            };
            loop {
                if time_left() < self.settings.page_budget {
                    mark.pending = Some(window);
                    self.save(mark, rev, now).await?;
                    return Ok(false);
                }
                let span = Window { from: window.from, to: window.to };
                let page =
                    match self.source.changed_orders_skipping(&span, window.cursor.as_deref(), &mark.recent).await {
                        Ok(page) => page,
                        // A saved cursor can expire between runs (next tokens do): start the window over.
                        Err(e) if resumed && window.cursor.is_some() && !e.is_retryable() => {
                            window.cursor = None;
                            resumed = false;
                            continue;
                        }
                        Err(source) => return Err(PullError::Feed { marketplace, source }),
                    };
                resumed = false;
                let next = page.next.clone();
                self.take(page, mark, pulled, report).await?;
                report.pages += 1;
                window.pages_done += 1;
                match next {
                    Some(next) => {
                        window.cursor = Some(next);
                        mark.pending = Some(window.clone());
                        self.save(mark, rev, now).await?;
                    }
                    None => {
                        mark.pulled_to = mark.pulled_to.max(window.to);
                        mark.pending = None;
                        self.save(mark, rev, now).await?;
                        break;
                    }
                }
            }
            if window.to >= now {
                return Ok(true);
            }
        }
    }

    /// Reads again by id the orders left out before and, when the policy says it is time, the
    /// pair's stored open orders. False when the deadline cut it (it goes on next run).
    async fn read_again(
        &self,
        mark: &mut Watermark,
        rev: &mut Option<u64>,
        now: DateTime<FixedOffset>,
        time_left: &impl Fn() -> Duration,
        pulled: &mut Vec<Order>,
        report: &mut PullReport,
    ) -> Result<bool, PullError<F::Error>> {
        let batch = self.source.max_ids_per_call().max(1);
        // Orders left out before (not those this run's pages just left out).
        let left_out: Vec<String> = mark.retry.keys().filter(|id| !report.missing.contains(id)).cloned().collect();
        for ids in left_out.chunks(batch) {
            if time_left() < self.settings.page_budget {
                self.save(mark, rev, now).await?;
                return Ok(false);
            }
            for id in ids {
                if let Some(n) = mark.retry.get_mut(id) {
                    *n += 1;
                }
            }
            self.read_ids(ids, mark, pulled, report).await?;
        }
        let given_up: Vec<String> =
            mark.retry.iter().filter(|(_, n)| **n >= MAX_RETRIES).map(|(id, _)| id.clone()).collect();
        for id in given_up {
            mark.retry.remove(&id);
            report.given_up.push(id);
        }

        let Some(reconcile) = self.policy.reconcile else {
            self.save(mark, rev, now).await?;
            return Ok(true);
        };
        let due =
            mark.reconcile_after.is_some() || mark.reconciled_at.is_none_or(|at| now - at >= delta(reconcile.every));
        if !due {
            self.save(mark, rev, now).await?;
            return Ok(true);
        }
        let placed_before = now - delta(reconcile.older_than);
        let mut open = Vec::new();
        for status in OrderStatus::OPEN {
            let stored = self.store.list_by_status(&mark.shop_id, status, None, Some(placed_before)).await?;
            open.extend(
                stored.into_iter().filter(|s| s.order.marketplace == mark.marketplace).map(|s| s.order.order_id),
            );
        }
        open.sort();
        open.dedup();
        if let Some(after) = &mark.reconcile_after {
            open.retain(|id| id > after);
        }
        for ids in open.chunks(batch) {
            if time_left() < self.settings.page_budget {
                self.save(mark, rev, now).await?;
                return Ok(false);
            }
            self.read_ids(ids, mark, pulled, report).await?;
            mark.reconcile_after = ids.last().cloned();
        }
        mark.reconcile_after = None;
        mark.reconciled_at = Some(now);
        self.save(mark, rev, now).await?;
        Ok(true)
    }

    /// One read by id: queued, quarantined, and what is still left out kept for the next run.
    async fn read_ids(
        &self,
        ids: &[String],
        mark: &mut Watermark,
        pulled: &mut Vec<Order>,
        report: &mut PullReport,
    ) -> Result<(), PullError<F::Error>> {
        let page = self
            .source
            .orders_by_id(ids)
            .await
            .map_err(|source| PullError::Feed { marketplace: mark.marketplace, source })?;
        for order in &page.orders {
            mark.retry.remove(&order.order_id);
        }
        for rejected in &page.rejected {
            if let Some(id) = &rejected.order_id {
                mark.retry.remove(id);
            }
        }
        // An order no longer found is not an error of the pull: it stays asked for a few runs.
        let queued = report.queued;
        self.take(page, mark, pulled, report).await?;
        report.reread += report.queued - queued;
        Ok(())
    }

    /// Queues a page's orders, quarantines its rejects, and notes what it left out. An order too
    /// large for a queue message is quarantined by id: sending it would fail the page on every
    /// run and stall the pair.
    async fn take(
        &self,
        mut page: OrderPage,
        mark: &mut Watermark,
        pulled: &mut Vec<Order>,
        report: &mut PullReport,
    ) -> Result<(), PortError> {
        let limit = self.queue.max_message_bytes();
        // Each order's JSON, made once: its size against the queue's limit (the queue writes the
        // same JSON) and its digest against the version last queued.
        let mut fresh = Vec::with_capacity(page.orders.len());
        let mut digests = Vec::with_capacity(page.orders.len());
        for o in page.orders {
            let json = serde_json::to_vec(&o).unwrap_or_default();
            if json.len() > limit {
                page.rejected.push(Rejected {
                    reason: format!(
                        "order is {} bytes as JSON, over the orders queue's {limit}-byte message limit",
                        json.len()
                    ),
                    shop_id: o.shop_id,
                    marketplace: o.marketplace,
                    order_id: Some(o.order_id),
                });
                continue;
            }
            let digest: String = Sha256::digest(&json).iter().take(8).map(|b| format!("{b:02x}")).collect();
            if mark.queued.get(&o.order_id) == Some(&digest) {
                report.unchanged += 1;
                continue;
            }
            digests.push(digest);
            fresh.push(o);
        }
        page.orders = fresh;
        self.queue.send_all(&page.orders).await?;
        pulled.extend(page.orders.iter().cloned());
        for (o, digest) in page.orders.iter().zip(digests) {
            let at = mark.recent.entry(o.order_id.clone()).or_insert(o.source_updated_at);
            *at = (*at).max(o.source_updated_at);
            mark.queued.insert(o.order_id.clone(), digest);
        }
        self.quarantine.quarantine(&page.rejected).await?;
        report.queued += page.orders.len();
        report.quarantined += page.rejected.len();
        for id in page.missing {
            mark.retry.entry(id.clone()).or_insert(0);
            if !report.missing.contains(&id) {
                report.missing.push(id);
            }
        }
        Ok(())
    }

    async fn save(
        &self,
        mark: &mut Watermark,
        rev: &mut Option<u64>,
        now: DateTime<FixedOffset>,
    ) -> Result<(), PullError<F::Error>> {
        mark.rev = rev.map_or(1, |r| r + 1);
        mark.updated_at = now;
        match self.marks.put_watermark(mark, *rev).await? {
            Written::Yes => {
                *rev = Some(mark.rev);
                Ok(())
            }
            Written::Conflict => Err(PullError::Busy { shop_id: mark.shop_id.clone(), marketplace: mark.marketplace }),
        }
    }
}

/// Most versions a watermark remembers ([`Watermark::recent`], with [`Watermark::queued`]'s
/// digests): keeps the record below DynamoDB's 400 KB item limit (about 100 bytes an entry). Past it the oldest are forgotten, and
/// those orders are merely read again.
const MAX_RECENT: usize = 2_000;

/// Drops the remembered versions stamped before `from` (no window reaches them any more), then
/// the oldest beyond [`MAX_RECENT`], and the digests of the orders no longer remembered.
fn forget_before(mark: &mut Watermark, from: DateTime<FixedOffset>) {
    let recent = &mut mark.recent;
    recent.retain(|_, at| *at >= from);
    if recent.len() > MAX_RECENT {
        let mut times: Vec<DateTime<FixedOffset>> = recent.values().copied().collect();
        times.sort_unstable();
        let keep_from = times[times.len() - MAX_RECENT];
        recent.retain(|_, at| *at >= keep_from);
    }
    mark.queued.retain(|id, _| mark.recent.contains_key(id));
}

fn delta(d: Duration) -> TimeDelta {
    TimeDelta::from_std(d).unwrap_or(TimeDelta::MAX)
}
