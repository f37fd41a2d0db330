//! The notifier's use case: one mail job → at most one mail, ever.

use std::time::Duration;

use chrono::{DateTime, FixedOffset, TimeDelta};

use super::cache::ShopCache;
use super::mail::{MailJob, MailKind, RenderError, render};
use super::ports::{Claim, MailLedger, Mailer, OrderStore, PortError, SendError, ShopDirectory};
use super::shop::ShopSettings;
use crate::marketplace::Policies;

/// What the notifier did with a job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notified {
    /// Sent now, with the mail service's message id.
    Sent(String),
    /// The ledger says it went out before (a redelivered job).
    AlreadySent(String),
    /// Nothing to send any more; why, for the log.
    Skipped(&'static str),
}

/// Why a job failed.
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    /// The order's shop has no settings.
    #[error("shop {0} is not configured")]
    UnknownShop(String),
    /// The template or an address is wrong: this mail cannot be made. Permanent.
    #[error(transparent)]
    Render(#[from] RenderError),
    /// The mail service refused or failed.
    #[error(transparent)]
    Send(#[from] SendError),
    /// Another notifier is sending this mail right now.
    #[error("{kind} mail of order {order} is being sent by another worker")]
    Busy {
        /// Which mail.
        kind: MailKind,
        /// Which order.
        order: String,
    },
    /// The store or ledger failed.
    #[error(transparent)]
    Port(#[from] PortError),
}

impl NotifyError {
    /// Whether the job may succeed when delivered again.
    pub fn is_retryable(&self) -> bool {
        match self {
            NotifyError::UnknownShop(_) => true,
            NotifyError::Render(_) => false,
            NotifyError::Send(SendError::Refused(_)) => false,
            NotifyError::Send(SendError::Unavailable(_)) => true,
            NotifyError::Busy { .. } => true,
            NotifyError::Port(e) => e.retryable,
        }
    }
}

/// The notifier: store, shop directory, ledger and mail service.
pub struct Notifier<S, D, L, M> {
    store: S,
    shops: D,
    ledger: L,
    mailer: M,
    policies: Policies,
    lease: Duration,
    settings: ShopCache<ShopSettings>,
}

impl<S: OrderStore, D: ShopDirectory, L: MailLedger, M: Mailer> Notifier<S, D, L, M> {
    /// A notifier over these adapters; `lease` is how long a claim blocks other senders (longer
    /// than a send takes, shorter than the queue's visibility timeout).
    /// Buyer mails follow the marketplaces' declared `policies`.
    pub fn new(store: S, shops: D, ledger: L, mailer: M, policies: Policies, lease: Duration) -> Self {
        Notifier { store, shops, ledger, mailer, policies, lease, settings: ShopCache::default() }
    }

    /// Handles one job at `now`.
    pub async fn notify(&self, job: &MailJob, now: DateTime<FixedOffset>) -> Result<Notified, NotifyError> {
        let shop_id = &job.order.shop_id;
        let shop = match self.settings.get(shop_id, now) {
            Some(shop) => shop,
            None => {
                let shop = self.shops.shop(shop_id).await?.ok_or_else(|| NotifyError::UnknownShop(shop_id.clone()))?;
                self.settings.put(shop_id, shop.clone(), now);
                shop
            }
        };
        let Some(stored) = self.store.get(&job.order).await? else {
            return Ok(Notified::Skipped("order no longer stored"));
        };
        let order = &stored.order;
        if job.kind.to_buyer() && !self.policies.buyer_mail_allowed(order) {
            return Ok(Notified::Skipped("the marketplace forbids buyer mail, or ships the order itself"));
        }
        let skip = match job.kind {
            MailKind::ThankYou if !stored.status.is_open() => Some("already shipped or cancelled"),
            MailKind::ThankYou if stored.is_held() => Some("held since the job was queued"),
            MailKind::Shipping if order.tracking.is_empty() => Some("no tracking number"),
            MailKind::StaffAlert if !stored.is_held() => Some("released before the alert went out"),
            MailKind::PaymentReceived if !stored.status.is_open() || stored.is_held() => {
                Some("shipped, cancelled or held since the payment arrived")
            }
            _ => None,
        };
        if let Some(why) = skip {
            return Ok(Notified::Skipped(why));
        }
        // Render before claiming: a broken template must not leave a claim behind.
        let mail = render(job.kind, &shop, &stored, &self.policies)?;
        let lease_until = now + TimeDelta::from_std(self.lease).unwrap_or(TimeDelta::MAX);
        match self.ledger.claim(job, now, lease_until).await? {
            Claim::AlreadySent(id) => return Ok(Notified::AlreadySent(id)),
            Claim::Busy => {
                return Err(NotifyError::Busy { kind: job.kind, order: job.order.to_string() });
            }
            Claim::Claimed => {}
        }
        match self.mailer.send(&mail).await {
            Ok(message_id) => {
                // If this mark fails, the claim's lease runs out and a retry sends again: the one
                // window for a duplicate (DESIGN "Guarantees").
                self.ledger.mark_sent(job, &message_id, now).await?;
                Ok(Notified::Sent(message_id))
            }
            Err(e) => {
                self.ledger.release(job).await?;
                Err(NotifyError::Send(e))
            }
        }
    }
}
