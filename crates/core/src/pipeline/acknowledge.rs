//! Acknowledging orders where the marketplace expects the shop to (楽天's 注文確認, Qoo10's seller
//! check). The processor, or staff releasing a held order, finds the acknowledgement due on a
//! clean open order and queues it in the pair's pending writes (beside its tracking writes); the
//! pair's puller acknowledges them in the marketplace's largest batch within its run's time, and
//! the stored order records the outcome, so no order is acknowledged twice.

use std::time::Duration;

use chrono::{DateTime, FixedOffset, NaiveDate, TimeDelta};
use serde::{Deserialize, Serialize};

use crate::marketplace::{JST, MarketplacePolicy};
use crate::order::Marketplace;

use super::credentials::StaffNotices;
use super::mail::marketplace_name;
use super::ports::{
    MailQueue, OrderQueue, OrderStore, PortError, Quarantine, Retryable, ShopDirectory, WatermarkStore,
};
use super::pull::{MAX_WRITE_ATTEMPTS, PullError, PullReport, Puller};
use super::shipping::{ShipError, TrackingWrites, update_order, update_writes};
use super::shop::DEFAULT_SHIP_LEAD_DAYS;
use super::source::{Acknowledged, OrderSource};
use super::stored::{OrderKey, StoredOrder};

/// Most acknowledgements one run sends: the rest wait for the next run.
pub const MAX_ACKS_PER_RUN: usize = 500;

/// Where the shop's acknowledgement of one order stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Acknowledgement {
    /// Due: queued in the pair's pending writes since then.
    Due {
        /// When it became due.
        since: DateTime<FixedOffset>,
    },
    /// The marketplace took it.
    Done {
        /// When.
        at: DateTime<FixedOffset>,
    },
    /// The marketplace no longer awaited it (acknowledged in its back office, moved on,
    /// cancelled): nothing was sent, nothing is wrong.
    NotAwaited {
        /// When it said so.
        at: DateTime<FixedOffset>,
        /// Its words (status codes).
        why: String,
    },
    /// Refused for good; staff were told.
    Refused {
        /// When it was given up.
        at: DateTime<FixedOffset>,
        /// The marketplace's code and message.
        reason: String,
    },
}

impl Acknowledgement {
    /// Whether it is still to be sent.
    pub fn is_due(&self) -> bool {
        matches!(self, Acknowledgement::Due { .. })
    }

    /// The name staff see.
    pub fn label(&self) -> &'static str {
        match self {
            Acknowledgement::Due { .. } => "注文確認待ち",
            Acknowledgement::Done { .. } => "注文確認済",
            Acknowledgement::NotAwaited { .. } => "注文確認不要",
            Acknowledgement::Refused { .. } => "注文確認失敗",
        }
    }

    /// What staff read on the order's page and in `ichigen orders show`: the state, its time in
    /// JST, and the marketplace's words where it gave any.
    pub fn summary(&self) -> String {
        let jst = |t: &DateTime<FixedOffset>| t.with_timezone(&JST).format("%Y-%m-%d %H:%M").to_string();
        match self {
            Acknowledgement::Due { since } => format!("{}（{} から）", self.label(), jst(since)),
            Acknowledgement::Done { at } => format!("{}（{}）", self.label(), jst(at)),
            Acknowledgement::NotAwaited { at, why: words } | Acknowledgement::Refused { at, reason: words } => {
                format!("{}（{}: {words}）", self.label(), jst(at))
            }
        }
    }
}

/// One order to acknowledge, in the pair's pending writes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AckWrite {
    /// The order.
    pub order: OrderKey,
    /// When it was queued.
    pub queued_at: DateTime<FixedOffset>,
    /// Tries that failed in a way that may pass.
    #[serde(default)]
    pub attempts: u32,
    /// The last retryable failure (marketplace code and message, never buyer data).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
}

/// Whether the acknowledgement of `stored` is due now: its marketplace awaits one for the order
/// as last pulled, and the order is open and not held (a held order waits for staff's release).
pub(crate) fn due_now(policy: &MarketplacePolicy, stored: &StoredOrder) -> bool {
    stored.status.is_open() && !stored.is_held() && policy.awaits_acknowledgement(&stored.order)
}

/// The acknowledgement `next` carries on from `prev`: a settled one stays for good; otherwise it
/// is due when [`due_now`] says so (since the first time it was), and none while it is not.
pub(crate) fn carried(
    policy: &MarketplacePolicy,
    prev: Option<&Acknowledgement>,
    next: &StoredOrder,
    now: DateTime<FixedOffset>,
) -> Option<Acknowledgement> {
    match prev {
        Some(settled) if !settled.is_due() => Some(settled.clone()),
        _ if !due_now(policy, next) => None,
        Some(due) => Some(due.clone()),
        None => Some(Acknowledgement::Due { since: now }),
    }
}

/// Puts `key`'s acknowledgement in the pair's pending writes, once.
pub(crate) async fn queue_ack<T: TrackingWrites>(
    store: &T,
    key: &OrderKey,
    now: DateTime<FixedOffset>,
) -> Result<(), PortError> {
    update_writes(store, &key.shop_id, key.marketplace, now, |w| {
        if !w.acks.iter().any(|a| a.order == *key) {
            w.acks.push(AckWrite { order: key.clone(), queued_at: now, attempts: 0, last_error: None });
        }
    })
    .await
    .map(|_| ())
}

/// The ship date promised with an acknowledgement made at `now`: `lead_days` later, in JST.
pub fn ship_by(now: DateTime<FixedOffset>, lead_days: u32) -> NaiveDate {
    let today = now.with_timezone(&JST).date_naive();
    today.checked_add_signed(TimeDelta::days(i64::from(lead_days))).unwrap_or(today)
}

/// What the marketplace's answers come to for one queued order.
enum Outcome {
    /// Settled: the order records it and leaves the queue.
    Settled(Acknowledgement),
    /// No longer due (gone, held, closed, already settled): leaves the queue; a due mark is cleared.
    Dropped,
    /// May pass later: stays queued.
    Retry(String),
    /// Refused for good.
    Refused(String),
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
    /// Acknowledges the pair's queued orders on the marketplace, oldest first, in batches of the
    /// client's largest call while the run has time. Each order is read first: one that is no
    /// longer due (held, closed, the marketplace moved it on, already acknowledged) is dropped
    /// unsent. Failed in a way that may pass: tried again next run, up to [`MAX_WRITE_ATTEMPTS`].
    /// Refused: recorded on the order and reported to staff. Only the store's failures stop the run.
    pub(crate) async fn acknowledge_due(
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
        let mut outcomes: Vec<(OrderKey, Outcome)> = Vec::new();
        let mut ready: Vec<StoredOrder> = Vec::new();
        for ack in pending.acks.iter().take(MAX_ACKS_PER_RUN) {
            match self.store.get(&ack.order).await? {
                Some(s)
                    if s.acknowledgement.as_ref().is_some_and(Acknowledgement::is_due) && due_now(&self.policy, &s) =>
                {
                    ready.push(s)
                }
                _ => outcomes.push((ack.order.clone(), Outcome::Dropped)),
            }
        }
        if !ready.is_empty() {
            let lead_days = self.store.shop(shop_id).await?.map_or(DEFAULT_SHIP_LEAD_DAYS, |s| s.ship_lead_days);
            let ship_by = ship_by(now, lead_days);
            for chunk in ready.chunks(self.source.max_acks_per_call().max(1)) {
                if time_left() < self.settings.page_budget {
                    break;
                }
                let orders: Vec<_> = chunk.iter().map(|s| s.order.clone()).collect();
                let answers = self.source.acknowledge(&orders, ship_by).await;
                for (i, s) in chunk.iter().enumerate() {
                    let outcome = match &answers {
                        Ok(list) => match list.get(i) {
                            Some(Acknowledged::Done) => Outcome::Settled(Acknowledgement::Done { at: now }),
                            Some(Acknowledged::NotAwaited { why }) => {
                                Outcome::Settled(Acknowledgement::NotAwaited { at: now, why: why.clone() })
                            }
                            Some(Acknowledged::Refused { retryable: true, reason }) => Outcome::Retry(reason.clone()),
                            Some(Acknowledged::Refused { retryable: false, reason }) => {
                                Outcome::Refused(reason.clone())
                            }
                            None => Outcome::Retry("the marketplace gave no answer for the order".to_string()),
                        },
                        Err(e) if e.is_retryable() => Outcome::Retry(e.to_string()),
                        Err(e) => Outcome::Refused(e.to_string()),
                    };
                    outcomes.push((s.key(), outcome));
                }
            }
        }
        if outcomes.is_empty() {
            return Ok(());
        }
        // The order records a settled outcome before it leaves the queue: a crash between the two
        // leaves a queued order that the next run drops unsent.
        for (key, outcome) in &outcomes {
            let state = match outcome {
                Outcome::Settled(state) => Some(state.clone()),
                Outcome::Dropped => None,
                Outcome::Retry(_) | Outcome::Refused(_) => continue,
            };
            self.set_acknowledgement(key, state, now).await?;
        }
        let mut given_up: Vec<(OrderKey, String)> = Vec::new();
        update_writes(self.store, shop_id, marketplace, now, |w| {
            given_up.clear();
            for (key, outcome) in &outcomes {
                let Some(at) = w.acks.iter().position(|a| a.order == *key) else { continue };
                match outcome {
                    Outcome::Retry(why) => {
                        let ack = &mut w.acks[at];
                        ack.attempts += 1;
                        ack.last_error = Some(why.clone());
                        if ack.attempts >= MAX_WRITE_ATTEMPTS {
                            given_up.push((key.clone(), format!("{} tries failed; the last: {why}", ack.attempts)));
                            w.acks.remove(at);
                        }
                    }
                    Outcome::Refused(why) => {
                        given_up.push((key.clone(), why.clone()));
                        w.acks.remove(at);
                    }
                    Outcome::Settled(_) | Outcome::Dropped => {
                        w.acks.remove(at);
                    }
                }
            }
        })
        .await?;
        for (_, outcome) in &outcomes {
            match outcome {
                Outcome::Settled(Acknowledgement::Done { .. }) => report.acknowledged += 1,
                Outcome::Retry(_) => report.ack_retried += 1,
                _ => {}
            }
        }
        report.ack_failed += given_up.len();
        if given_up.is_empty() {
            return Ok(());
        }
        for (key, reason) in &given_up {
            self.set_acknowledgement(key, Some(Acknowledgement::Refused { at: now, reason: reason.clone() }), now)
                .await?;
        }
        let (subject, text) = refused_notice(shop_id, marketplace, &given_up);
        self.notices.notify(&subject, &text).await?;
        Ok(())
    }

    /// Records `state` on the order if its acknowledgement is still due (a settled one stays).
    async fn set_acknowledgement(
        &self,
        key: &OrderKey,
        state: Option<Acknowledgement>,
        now: DateTime<FixedOffset>,
    ) -> Result<(), PullError<F::Error>> {
        let written = update_order(self.store, key, now, |s| {
            if s.acknowledgement.as_ref().is_none_or(Acknowledgement::is_due) {
                s.acknowledgement.clone_from(&state);
            }
            Ok(())
        })
        .await;
        match written {
            Ok(_) | Err(ShipError::NotFound(_)) => Ok(()),
            Err(ShipError::Port(e)) => Err(e.into()),
            // Kept changing under the write: the order stays due and queued, and is read again
            // (and dropped unsent if it is settled by then) next run.
            Err(_) => Ok(()),
        }
    }
}

/// The staff notice for orders whose acknowledgement the marketplace refused for good (order
/// ids and the marketplace's codes only).
fn refused_notice(shop_id: &str, marketplace: Marketplace, refused: &[(OrderKey, String)]) -> (String, String) {
    let name = marketplace_name(marketplace);
    let mut text = format!(
        "{name}で、次の注文の注文確認をモールが受け付けませんでした。自動では再送しません。\n\
         {name}の管理画面で注文の状態を確認し、必要なら管理画面から注文確認をしてください。\n\n"
    );
    for (key, reason) in refused {
        text.push_str(&format!("- 注文 {}: {reason}\n", key.order_id));
    }
    let subject = format!("[ichigen] {name}: 注文{}件の注文確認に失敗しました（ショップ {shop_id}）", refused.len());
    (subject, text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ship_date_counts_days_in_japan() {
        // 23:30 UTC is already the next day in Japan.
        let now = DateTime::parse_from_rfc3339("2026-11-30T23:30:00Z").unwrap_or_default();
        assert_eq!(ship_by(now, 2), NaiveDate::from_ymd_opt(2026, 12, 3).unwrap_or_default());
        assert_eq!(ship_by(now, 0), NaiveDate::from_ymd_opt(2026, 12, 1).unwrap_or_default());
    }

    #[test]
    fn staff_read_the_state_with_its_time_in_japan() {
        let at = DateTime::parse_from_rfc3339("2026-11-30T23:30:00Z").unwrap_or_default();
        assert_eq!(Acknowledgement::Due { since: at }.summary(), "注文確認待ち（2026-12-01 08:30 から）");
        assert_eq!(Acknowledgement::Done { at }.summary(), "注文確認済（2026-12-01 08:30）");
        let refused = Acknowledgement::Refused { at, reason: "E10-001 注文が存在しません".into() };
        assert_eq!(refused.summary(), "注文確認失敗（2026-12-01 08:30: E10-001 注文が存在しません）");
    }
}
