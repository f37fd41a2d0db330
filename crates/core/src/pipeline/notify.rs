//! The notifier's use case: one mail job → at most one mail, ever, by the mail's route (the
//! shop's sender, or a marketplace's relay); a relay mail whose settings are missing waits,
//! parked, until they are stored.

use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use chrono::{DateTime, FixedOffset, TimeDelta};

use super::cache::ShopCache;
use super::consume::{MessageFailure, consume_batch};
use super::mail::{MailJob, MailKey, MailKind, OutgoingMail, RenderError, render};
use super::ports::{
    Claim, Consumer, MailEvents, MailLedger, Mailer, OrderStore, ParkedMail, PortError, RelayMailers, SendError,
    ShopDirectory,
};
use super::route::{MailRoute, RouteError, check_route, route_of, waiting_notice};
use super::shop::ShopSettings;
use crate::marketplace::Policies;
use crate::order::Marketplace;

/// Waiting mails a relay send takes along at most (the rest go with the next one, or `ichigen
/// mail drain`): bounds one notifier invocation's time.
pub const DRAIN_PER_SEND: usize = 10;

/// Mail jobs one batch of [`Notifier::send_queue`] takes.
const QUEUE_BATCH: usize = 100;

/// What [`Notifier::send_queue`] did with each job it took, in order.
pub type QueueSent = Vec<(MailJob, Result<Notified, MessageFailure>)>;

/// What the notifier did with a job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notified {
    /// Sent now, with the mail service's message id.
    Sent(String),
    /// The ledger says it went out before (a redelivered job).
    AlreadySent(String),
    /// Nothing to send any more; why, for the log.
    Skipped(&'static str),
    /// Kept until the shop stores the settings of its route's relay; `told_staff` when this job
    /// sent the shop's one staff notice that mails are waiting.
    Parked {
        /// The relay it waits for.
        route: MailRoute,
        /// Whether this job told staff.
        told_staff: bool,
    },
}

/// What draining the waiting mails of a shop × marketplace did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Drained {
    /// Sent now.
    pub sent: usize,
    /// Found sent before, or with nothing to send any more: forgotten.
    pub settled: usize,
    /// Still waiting (settings still missing, or a send failed: the error of the first).
    pub waiting: usize,
    /// The first failure, for the operator.
    pub error: Option<String>,
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
    /// The mail may not take its route (a masked address on the shop's sender). Permanent.
    #[error(transparent)]
    Route(#[from] RouteError),
    /// Another notifier is sending this mail right now (or its outcome is unknown): its claim
    /// is live until `until`.
    #[error("{kind} mail of order {order} is claimed by another worker until {until}")]
    Busy {
        /// Which mail.
        kind: MailKind,
        /// Which order.
        order: String,
        /// When the claim's lease ends.
        until: DateTime<FixedOffset>,
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
            NotifyError::Send(SendError::Unavailable(_) | SendError::Ambiguous(_)) => true,
            NotifyError::Route(_) => false,
            NotifyError::Busy { .. } => true,
            NotifyError::Port(e) => e.retryable,
        }
    }

    /// How long from `now` no try can pass: a live claim's remaining lease (zero once it ended).
    pub fn wait(&self, now: DateTime<FixedOffset>) -> Option<Duration> {
        match self {
            NotifyError::Busy { until, .. } => Some((*until - now).to_std().unwrap_or(Duration::ZERO)),
            _ => None,
        }
    }
}

/// No relay at all: every relay mail waits (a notifier that only has the shop's sender).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoRelays;

impl RelayMailers for NoRelays {
    type Mailer = super::memory::MemoryMailer;
    async fn relay(&self, _: &str, _: Marketplace) -> Result<Option<Self::Mailer>, PortError> {
        Ok(None)
    }
}

/// The notifier: store, shop directory, ledger (with the parked mails and delivery events), the
/// shop's mail service and the marketplaces' relays.
pub struct Notifier<S, D, L, M, R = NoRelays> {
    store: S,
    shops: D,
    ledger: L,
    mailer: M,
    relays: R,
    policies: Policies,
    lease: Duration,
    settings: ShopCache<ShopSettings>,
}

impl<S, D, L, M> Notifier<S, D, L, M> {
    /// A notifier over these adapters; `lease` is how long a claim blocks other senders (longer
    /// than a send takes, shorter than the queue's visibility timeout).
    /// Buyer mails follow the marketplaces' declared `policies`. Without [`Notifier::with_relays`],
    /// relay mails are parked.
    pub fn new(store: S, shops: D, ledger: L, mailer: M, policies: Policies, lease: Duration) -> Self {
        Notifier { store, shops, ledger, mailer, relays: NoRelays, policies, lease, settings: ShopCache::default() }
    }
}

impl<S, D, L, M, R> Notifier<S, D, L, M, R> {
    /// The same notifier sending relay mails through `relays`.
    pub fn with_relays<R2>(self, relays: R2) -> Notifier<S, D, L, M, R2> {
        let Notifier { store, shops, ledger, mailer, policies, lease, settings, .. } = self;
        Notifier { store, shops, ledger, mailer, relays, policies, lease, settings }
    }
}

impl<S, D, L, M, R> Notifier<S, D, L, M, R>
where
    S: OrderStore,
    D: ShopDirectory,
    L: MailLedger + ParkedMail + MailEvents,
    M: Mailer,
    R: RelayMailers,
{
    /// Handles one job at `now`; a relay mail sent takes up to [`DRAIN_PER_SEND`] mails waiting
    /// for the same relay along (their failures leave them waiting for the next one).
    pub async fn notify(&self, job: &MailJob, now: DateTime<FixedOffset>) -> Result<Notified, NotifyError> {
        let (done, route) = self.notify_one(job, now).await?;
        if let (Notified::Sent(_), MailRoute::Relay(marketplace)) = (&done, route) {
            // Best effort: whatever fails here stays parked, and this job's mail went out.
            let _ = self.drain(&job.order.shop_id, marketplace, now, DRAIN_PER_SEND).await;
        }
        Ok(done)
    }

    /// The mail queue's handler, the same for every way a queue is consumed
    /// ([`super::consume::consume_batch`]): one job at `now`, a failure with whether it may pass.
    pub async fn handle(&self, job: &MailJob, now: DateTime<FixedOffset>) -> Result<Notified, MessageFailure> {
        self.notify(job, now).await.map_err(|e| MessageFailure {
            retryable: e.is_retryable(),
            reason: format!("{} {}: {e}", job.order, job.kind),
            // A live claim: tried again when its lease ends, without using up the job's tries
            // (a claim stored but answered as failed would otherwise dead-letter its own job).
            wait: e.wait(now),
        })
    }

    /// Sends what waits on a mail queue this process consumes itself (the embedded store's), batch
    /// after batch through [`Notifier::handle`] and [`consume_batch`], as the notifier Lambda does
    /// with its SQS batches: a sent job leaves the queue, a failed one stays for the next run (and
    /// is dead-lettered after the queue's last try). Each job taken, with what it came to; `clock`
    /// gives each job's `now`.
    pub async fn send_queue<C: Consumer<MailJob>>(
        &self,
        queue: &C,
        clock: impl Fn() -> DateTime<FixedOffset> + Sync,
    ) -> Result<QueueSent, PortError> {
        let mut sent = Vec::new();
        loop {
            // A Mutex, not a RefCell: the console awaits this in a handler that must be Send.
            let log = Mutex::new(Vec::new());
            let batch = consume_batch(queue, QUEUE_BATCH, |job: MailJob| {
                let (log, now) = (&log, clock());
                async move {
                    let outcome = self.handle(&job, now).await;
                    log.lock().unwrap_or_else(PoisonError::into_inner).push((job, outcome.clone()));
                    outcome
                }
            })
            .await?;
            sent.extend(log.into_inner().unwrap_or_else(PoisonError::into_inner));
            // The consumer does not take a message twice in one run: a failed job waits for the next.
            if batch.taken == 0 {
                return Ok(sent);
            }
        }
    }

    /// Sends the mails of `shop_id` waiting for `marketplace`'s relay, up to `limit`, each once
    /// (through the ledger); clears the waiting mark when none is left.
    pub async fn drain(
        &self,
        shop_id: &str,
        marketplace: Marketplace,
        now: DateTime<FixedOffset>,
        limit: usize,
    ) -> Result<Drained, NotifyError> {
        let jobs = self.ledger.parked(shop_id, marketplace, limit).await?;
        let mut drained = Drained::default();
        for job in &jobs {
            match self.notify_one(job, now).await {
                Ok((Notified::Parked { .. }, _)) => drained.waiting += 1,
                Ok((done, _)) => {
                    self.ledger.unpark(job).await?;
                    match done {
                        Notified::Sent(_) => drained.sent += 1,
                        _ => drained.settled += 1,
                    }
                }
                Err(e) => {
                    drained.waiting += 1;
                    drained.error.get_or_insert_with(|| format!("{}: {e}", job.order));
                }
            }
        }
        if jobs.len() < limit && drained.waiting == 0 {
            self.ledger.clear_waiting(shop_id, marketplace).await?;
        }
        Ok(drained)
    }

    /// The shop's settings (cached briefly).
    pub(super) async fn shop_settings(
        &self,
        shop_id: &str,
        now: DateTime<FixedOffset>,
    ) -> Result<ShopSettings, NotifyError> {
        self.shop(shop_id, now).await
    }

    /// The order store it reads.
    pub(super) fn order_store(&self) -> &S {
        &self.store
    }

    /// Sends `mail` through the shop's sender once for the ledger key `key` (a mail that is not
    /// one order's, such as a staff digest).
    pub(super) async fn send_keyed(
        &self,
        key: &MailKey,
        mail: &OutgoingMail,
        now: DateTime<FixedOffset>,
    ) -> Result<Notified, NotifyError> {
        self.send_once(key, mail, &self.mailer, now).await
    }

    async fn shop(&self, shop_id: &str, now: DateTime<FixedOffset>) -> Result<ShopSettings, NotifyError> {
        if let Some(shop) = self.settings.get(shop_id, now) {
            return Ok(shop);
        }
        let shop = self.shops.shop(shop_id).await?.ok_or_else(|| NotifyError::UnknownShop(shop_id.to_string()))?;
        self.settings.put(shop_id, shop.clone(), now);
        Ok(shop)
    }

    /// One job, without draining: what happened, and the route it took.
    async fn notify_one(
        &self,
        job: &MailJob,
        now: DateTime<FixedOffset>,
    ) -> Result<(Notified, MailRoute), NotifyError> {
        let shop_id = &job.order.shop_id;
        let shop = self.shop(shop_id, now).await?;
        let Some(stored) = self.store.get(&job.order).await? else {
            return Ok((Notified::Skipped("order no longer stored"), MailRoute::Shop));
        };
        let order = &stored.order;
        // Checked again at send time, with the processor's own rule: the order may have been
        // cancelled or held since the job was queued.
        if job.kind.to_buyer()
            && let Some(why) = stored.buyer_mail_barred(&self.policies)
        {
            return Ok((Notified::Skipped(why), MailRoute::Shop));
        }
        let skip = match job.kind {
            MailKind::ThankYou if !stored.status.is_open() => Some("already shipped or cancelled"),
            MailKind::Shipping if order.tracking.is_empty() => Some("no tracking number"),
            MailKind::StaffAlert if !stored.is_held() => Some("released before the alert went out"),
            MailKind::StaffAlert if !shop.staff_alerts.is_each() => Some("the shop's staff get a digest instead"),
            MailKind::PaymentReceived if !stored.status.is_open() || stored.is_held() => {
                Some("shipped, cancelled or held since the payment arrived")
            }
            _ => None,
        };
        if let Some(why) = skip {
            return Ok((Notified::Skipped(why), MailRoute::Shop));
        }
        // Render before claiming: a broken template must not leave a claim behind.
        let mut mail = render(job.kind, &shop, &stored, &self.policies)?;
        let route = route_of(job.kind, order, &mail.to, &shop);
        check_route(route, &mail)?;
        if job.kind.to_buyer() {
            for to in &mail.to {
                if self.ledger.is_suppressed(shop_id, to).await? {
                    return Ok((
                        Notified::Skipped("the address bounced or complained before: not mailed again"),
                        route,
                    ));
                }
            }
        }
        // The shop and route travel with the mail: a bounce event or an outbox file names both.
        mail.tags.push(("shop", shop_id.clone()));
        mail.tags.push(("route", route.name()));
        // The ledger entry is decided by the order as stored now (a staff alert: its hold episode).
        let key = MailKey::of(job, &stored);
        let done = match route {
            MailRoute::Shop => self.send_once(&key, &mail, &self.mailer, now).await?,
            MailRoute::Relay(marketplace) => match self.relays.relay(shop_id, marketplace).await? {
                Some(relay) => self.send_once(&key, &mail, &relay, now).await?,
                None => self.park(job, &shop, marketplace, now).await?,
            },
        };
        Ok((
            match done {
                Notified::Parked { told_staff, .. } => Notified::Parked { route, told_staff },
                other => other,
            },
            route,
        ))
    }

    /// Keeps `job` for the relay of `marketplace`; the first mail of a waiting spell tells staff
    /// (through the shop's sender) what to set. A notice that fails clears the mark, so the job's
    /// retry tells them again.
    async fn park(
        &self,
        job: &MailJob,
        shop: &ShopSettings,
        marketplace: Marketplace,
        now: DateTime<FixedOffset>,
    ) -> Result<Notified, NotifyError> {
        let first = self.ledger.park(job, now).await?;
        if first {
            let notice = waiting_notice(shop, marketplace, &job.order.order_id);
            if let Err(e) = self.mailer.send(&notice).await {
                self.ledger.clear_waiting(&shop.shop_id, marketplace).await?;
                return Err(NotifyError::Send(e));
            }
        }
        Ok(Notified::Parked { route: MailRoute::Relay(marketplace), told_staff: first })
    }

    /// Claim → send → mark sent: the once-only guarantee, whatever the mail service.
    async fn send_once<X: Mailer>(
        &self,
        key: &MailKey,
        mail: &OutgoingMail,
        mailer: &X,
        now: DateTime<FixedOffset>,
    ) -> Result<Notified, NotifyError> {
        let lease_until = now + TimeDelta::from_std(self.lease).unwrap_or(TimeDelta::MAX);
        match self.ledger.claim(key, now, lease_until).await? {
            Claim::AlreadySent(id) => return Ok(Notified::AlreadySent(id)),
            Claim::Busy { until } => {
                return Err(NotifyError::Busy { kind: key.kind, order: key.order.to_string(), until });
            }
            Claim::Claimed => {}
        }
        match mailer.send(mail).await {
            Ok(message_id) => {
                // If this mark fails, the claim's lease runs out and a retry sends again: the one
                // window for a duplicate (DESIGN "Guarantees").
                self.ledger.mark_sent(key, &message_id, now).await?;
                Ok(Notified::Sent(message_id))
            }
            // The mail may be out: keep the claim, so a retry meets it (Busy) until the lease
            // ends instead of sending a second mail at once.
            Err(e @ SendError::Ambiguous(_)) => Err(NotifyError::Send(e)),
            Err(e) => {
                self.ledger.release(key).await?;
                Err(NotifyError::Send(e))
            }
        }
    }
}
