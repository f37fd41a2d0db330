//! Staff actions on a stored order: release a held order (its acknowledgement, where the
//! marketplace expects one, is queued then), hold one by hand. Either applies the order's stock
//! holding again (`super::holdings`): releasing an order held for an unmapped item after staff
//! mapped it reserves its units. The mails a decision calls for go on the home's durable mail
//! queue with it, then out through [`StaffMail`]: `ichigen orders release|hold` and the console
//! decide through [`decide_and_send`], one way for both.

use chrono::{DateTime, FixedOffset};

use crate::marketplace::Policies;
use crate::order::OrderStatus;
use crate::stock::StockStore;

use super::acknowledge::{self, Acknowledgement, queue_ack};
use super::holdings;
use super::mail::MailKind;
use super::notify::QueueSent;
use super::ports::{MailQueue, OrderStore, PortError, Written};
use super::process::{effective_status, flush_mails};
use super::shipping::TrackingWrites;
use super::stored::{OrderKey, StaffDecision, StoredOrder};

/// Why a staff action failed.
#[derive(Debug, thiserror::Error)]
pub enum StaffError {
    /// No such order.
    #[error("order {0} is not stored")]
    NotFound(OrderKey),
    /// The order is shipped or cancelled: nothing to hold or release.
    #[error("order {key} is {status:?}: nothing to do")]
    Closed {
        /// Which order.
        key: OrderKey,
        /// Its status.
        status: OrderStatus,
    },
    /// A store or queue call failed.
    #[error(transparent)]
    Port(#[from] PortError),
    /// The order kept changing under the write.
    #[error("order {0} kept changing; try again")]
    Contended(OrderKey),
}

/// Where the mails a staff action calls for go, in either home: onto its durable mail queue
/// (with the action, so a crash or a failed send loses none), then out through the queue's
/// consumer — this process on the embedded store, the notifier Lambda on AWS.
pub trait StaffMail: Send + Sync {
    /// The durable mail queue.
    type Queue: MailQueue;

    /// The queue an action's mail jobs go on.
    fn queue(&self) -> &Self::Queue;

    /// Sends what waits on the queue where this process consumes it: each job taken and what it
    /// came to (a failed one stays queued for the next run). `None` where another process
    /// consumes it: the jobs wait for that one.
    fn send_queued(&self) -> impl Future<Output = Result<Option<QueueSent>, PortError>> + Send;
}

/// A [`StaffMail`] whose queue another process consumes (the notifier Lambda's SQS mail queue).
#[derive(Debug, Clone)]
pub struct NotifierQueue<Q>(pub Q);

impl<Q: MailQueue> StaffMail for NotifierQueue<Q> {
    type Queue = Q;

    fn queue(&self) -> &Q {
        &self.0
    }

    async fn send_queued(&self) -> Result<Option<QueueSent>, PortError> {
        Ok(None)
    }
}

/// What staff decide on an open order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision<'a> {
    /// Let a held order go.
    Release,
    /// Hold it, with staff's reason.
    Hold(&'a str),
}

/// A decision recorded, and what became of its mails.
#[derive(Debug)]
pub struct Decided {
    /// The order after it.
    pub order: StoredOrder,
    /// Sending what waited on the queue (this decision's jobs and any left before): each job and
    /// its outcome, `None` where the notifier sends them; an error leaves them queued — the
    /// decision stands either way.
    pub sent: Result<Option<QueueSent>, PortError>,
}

/// Records `decision` on `key` with its mail jobs on `mail`'s durable queue, then has them
/// sent: the one way `ichigen orders release|hold` and the console decide.
pub async fn decide_and_send<S: OrderStore + TrackingWrites, M: StaffMail, K: StockStore>(
    store: &S,
    mail: &M,
    stock: &K,
    policies: &Policies,
    key: &OrderKey,
    decision: Decision<'_>,
    now: DateTime<FixedOffset>,
) -> Result<Decided, StaffError> {
    let order = match decision {
        Decision::Release => release(store, mail.queue(), stock, policies, key, now).await?,
        Decision::Hold(reason) => hold(store, mail.queue(), stock, policies, key, reason, now).await?,
    };
    Ok(Decided { order, sent: mail.send_queued().await })
}

/// Releases a held order: hold findings stop holding it, and the buyer gets the thank-you mail
/// that was held back; where its marketplace awaits an acknowledgement, it is queued. Releasing
/// an order that is not held changes nothing.
pub async fn release<S: OrderStore + TrackingWrites, Q: MailQueue, K: StockStore>(
    store: &S,
    mails: &Q,
    stock: &K,
    policies: &Policies,
    key: &OrderKey,
    now: DateTime<FixedOffset>,
) -> Result<StoredOrder, StaffError> {
    decide(store, mails, stock, policies, key, now, |_| StaffDecision::Released { at: now }).await
}

/// Holds an order by hand, with staff's reason; no buyer mail goes out until it is released.
pub async fn hold<S: OrderStore + TrackingWrites, Q: MailQueue, K: StockStore>(
    store: &S,
    mails: &Q,
    stock: &K,
    policies: &Policies,
    key: &OrderKey,
    reason: &str,
    now: DateTime<FixedOffset>,
) -> Result<StoredOrder, StaffError> {
    decide(store, mails, stock, policies, key, now, |_| StaffDecision::Held { reason: reason.to_string(), at: now })
        .await
}

async fn decide<S: OrderStore + TrackingWrites, Q: MailQueue, K: StockStore>(
    store: &S,
    mails: &Q,
    stock: &K,
    policies: &Policies,
    key: &OrderKey,
    now: DateTime<FixedOffset>,
    decision: impl Fn(&StoredOrder) -> StaffDecision,
) -> Result<StoredOrder, StaffError> {
    for _ in 0..4 {
        let prev = store.get(key).await?.ok_or_else(|| StaffError::NotFound(key.clone()))?;
        if !prev.order.status.is_open() {
            return Err(StaffError::Closed { key: key.clone(), status: prev.order.status });
        }
        let mut next = prev.clone();
        next.staff = decision(&prev);
        next.status = effective_status(&next);
        next.count_hold(Some(&prev));
        next.rev = prev.rev + 1;
        next.stored_at = now;
        if prev.status == OrderStatus::OnHold
            && next.status != OrderStatus::OnHold
            && next.buyer_mail_barred(policies).is_none()
            && !next.mails_due.contains(&MailKind::ThankYou)
        {
            next.mails_due.push(MailKind::ThankYou);
        }
        next.acknowledgement =
            acknowledge::carried(&policies.of(next.order.marketplace), prev.acknowledgement.as_ref(), &next, now);
        match store.put(&next, Some(prev.rev)).await? {
            Written::Conflict => continue,
            Written::Yes => {
                holdings::settle_now(stock, &next, now).await?;
                flush_mails(store, mails, &next).await?;
                if next.acknowledgement.as_ref().is_some_and(Acknowledgement::is_due) {
                    queue_ack(store, key, now).await?;
                }
                return Ok(next);
            }
        }
    }
    Err(StaffError::Contended(key.clone()))
}
