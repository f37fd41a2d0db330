//! Staff actions on a stored order: release a held order (its acknowledgement, where the
//! marketplace expects one, is queued then), hold one by hand. Either applies the order's stock
//! holding again (`super::holdings`): releasing an order held for an unmapped item after staff
//! mapped it reserves its units.

use chrono::{DateTime, FixedOffset};

use crate::marketplace::Policies;
use crate::order::OrderStatus;
use crate::stock::StockStore;

use super::acknowledge::{self, Acknowledgement, queue_ack};
use super::holdings;
use super::mail::MailKind;
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
