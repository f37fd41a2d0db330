//! The ports the use cases drive: small traits, one per outside thing. Adapters live in
//! `ichigen-aws` (DynamoDB, SQS, SESv2, SSM Parameter Store) and `ichigen-local`; [`super::memory`]
//! holds in-memory ones for tests.

use std::future::Future;

use chrono::{DateTime, FixedOffset};

use crate::order::{Marketplace, Order};
use crate::rules::BlacklistEntry;

use super::bounce::MailEvent;
use super::mail::{MailJob, MailKey, OutgoingMail};
use super::route::RelaySettings;
use super::shop::ShopSettings;
use super::stored::{OrderKey, StoredOrder, Watermark};

/// Any adapter error, boxed with its source chain kept.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Why a port call failed, and whether trying again later can succeed.
#[derive(Debug, thiserror::Error)]
#[error("{operation}: {source}")]
pub struct PortError {
    /// What was being done (`dynamodb PutItem orders`, `sqs SendMessageBatch mail` ...).
    pub operation: &'static str,
    /// True for throttling, timeouts, 5xx: the same call may succeed later.
    pub retryable: bool,
    /// The adapter's error.
    #[source]
    pub source: BoxError,
}

impl PortError {
    /// A failure that may pass on a later try.
    pub fn retryable(operation: &'static str, source: impl Into<BoxError>) -> PortError {
        PortError { operation, retryable: true, source: source.into() }
    }

    /// A failure that will not pass by trying again.
    pub fn permanent(operation: &'static str, source: impl Into<BoxError>) -> PortError {
        PortError { operation, retryable: false, source: source.into() }
    }
}

/// Outcome of a conditional write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written {
    /// The write happened.
    Yes,
    /// Someone else wrote first (the revision moved): read again and decide again.
    Conflict,
}

/// Where orders, their check results and staff decisions are kept.
pub trait OrderStore: Send + Sync {
    /// The stored order, if any.
    fn get(&self, key: &OrderKey) -> impl Future<Output = Result<Option<StoredOrder>, PortError>> + Send;

    /// Writes `order` if the stored revision is still `expected` (`None`: nothing stored yet).
    /// The written record carries `expected + 1` (or 1) as its revision.
    fn put(
        &self,
        order: &StoredOrder,
        expected: Option<u64>,
    ) -> impl Future<Output = Result<Written, PortError>> + Send;

    /// Keys of the shop's open orders filed under `bundle_key` (see [`StoredOrder::bundle_key`]).
    fn bundle_mates(
        &self,
        shop_id: &str,
        bundle_key: &str,
    ) -> impl Future<Output = Result<Vec<OrderKey>, PortError>> + Send;

    /// The shop's orders in `status`, oldest order first, ordered in `[since, until)`.
    fn list_by_status(
        &self,
        shop_id: &str,
        status: crate::order::OrderStatus,
        since: Option<DateTime<FixedOffset>>,
        until: Option<DateTime<FixedOffset>>,
    ) -> impl Future<Output = Result<Vec<StoredOrder>, PortError>> + Send;
}

/// Where each shop × marketplace pull keeps its place, and who is pulling it.
pub trait WatermarkStore: Send + Sync {
    /// The stored watermark, if the pair was ever pulled.
    fn get_watermark(
        &self,
        shop_id: &str,
        marketplace: Marketplace,
    ) -> impl Future<Output = Result<Option<Watermark>, PortError>> + Send;

    /// Writes `mark` if the stored revision is still `expected` (`None`: nothing stored yet).
    fn put_watermark(
        &self,
        mark: &Watermark,
        expected: Option<u64>,
    ) -> impl Future<Output = Result<Written, PortError>> + Send;

    /// Takes the pair's pull lease for `holder` until `until`, when nobody holds it or the
    /// holder's lease ended before `now`. False: another run of the pair is under way.
    fn take_lease(
        &self,
        shop_id: &str,
        marketplace: Marketplace,
        holder: &str,
        now: DateTime<FixedOffset>,
        until: DateTime<FixedOffset>,
    ) -> impl Future<Output = Result<bool, PortError>> + Send;

    /// Ends `holder`'s lease of the pair; nothing when another holder has it.
    fn end_lease(
        &self,
        shop_id: &str,
        marketplace: Marketplace,
        holder: &str,
    ) -> impl Future<Output = Result<(), PortError>> + Send;
}

/// Shop settings and the shop's blacklist.
pub trait ShopDirectory: Send + Sync {
    /// The shop's settings; `None` for an unknown shop.
    fn shop(&self, shop_id: &str) -> impl Future<Output = Result<Option<ShopSettings>, PortError>> + Send;

    /// Stores the shop's settings.
    fn put_shop(&self, settings: &ShopSettings) -> impl Future<Output = Result<(), PortError>> + Send;

    /// The shop's blacklist entries with their ids.
    fn blacklist(&self, shop_id: &str)
    -> impl Future<Output = Result<Vec<(String, BlacklistEntry)>, PortError>> + Send;

    /// Adds an entry; returns its id.
    fn add_blacklisted(
        &self,
        shop_id: &str,
        entry: &BlacklistEntry,
    ) -> impl Future<Output = Result<String, PortError>> + Send;

    /// Removes an entry; false when there was none with that id.
    fn remove_blacklisted(&self, shop_id: &str, id: &str) -> impl Future<Output = Result<bool, PortError>> + Send;
}

/// What a claim on a mail ledger entry found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The entry is ours until the lease ends: send, then mark it sent.
    Claimed,
    /// Already sent (with this message id): do nothing.
    AlreadySent(String),
    /// Another sender holds an unexpired lease: try again once it ends.
    Busy {
        /// When that lease ends (as the ledger stores it).
        until: DateTime<FixedOffset>,
    },
}

/// One entry per (order, mail kind): the guarantee that a mail goes out once.
pub trait MailLedger: Send + Sync {
    /// Claims the entry if it is free, or if an earlier claim's lease ended before `now`.
    fn claim(
        &self,
        key: &MailKey,
        now: DateTime<FixedOffset>,
        lease_until: DateTime<FixedOffset>,
    ) -> impl Future<Output = Result<Claim, PortError>> + Send;

    /// Marks a claimed entry sent.
    fn mark_sent(
        &self,
        key: &MailKey,
        message_id: &str,
        sent_at: DateTime<FixedOffset>,
    ) -> impl Future<Output = Result<(), PortError>> + Send;

    /// Gives a claim back after a failed send, so a retry may claim it at once.
    fn release(&self, key: &MailKey) -> impl Future<Output = Result<(), PortError>> + Send;
}

/// A queue of messages of one type (orders, mail jobs).
pub trait Queue<T>: Send + Sync {
    /// Sends every message, in batches as the queue allows. All or error: on error, some may
    /// have been sent (consumers are idempotent).
    fn send_all(&self, messages: &[T]) -> impl Future<Output = Result<(), PortError>> + Send;

    /// The largest message it carries, in bytes of its JSON (unbounded unless the queue says).
    fn max_message_bytes(&self) -> usize {
        usize::MAX
    }
}

/// The orders queue: canonical orders from pullers to the processor.
pub trait OrderQueue: Queue<Order> {}
impl<Q: Queue<Order>> OrderQueue for Q {}

/// The mail queue: mail jobs from the processor (and staff actions) to the notifier.
pub trait MailQueue: Queue<MailJob> {}
impl<Q: Queue<MailJob>> MailQueue for Q {}

/// Why a mail was not sent.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// The mail itself is unsendable (address refused, sender not verified, content rejected).
    #[error("mail refused: {0}")]
    Refused(#[source] BoxError),
    /// The mail service failed for now (throttling, 5xx): it did not take the mail.
    #[error("mail service unavailable: {0}")]
    Unavailable(#[source] BoxError),
    /// The request may have reached the service, which may have taken the mail: a timeout or a
    /// broken connection after sending, an answer that does not read. Trying again later may
    /// send it twice, so the ledger claim is kept until its lease ends.
    #[error("mail outcome unknown: {0}")]
    Ambiguous(#[source] BoxError),
}

/// Sends one mail; returns the service's message id.
pub trait Mailer: Send + Sync {
    /// Sends `mail`.
    fn send(&self, mail: &OutgoingMail) -> impl Future<Output = Result<String, SendError>> + Send;
}

/// Each shop's marketplace mail relays (SMTP submission with the settings kept with the shop's
/// credentials of that marketplace).
pub trait RelayMailers: Send + Sync {
    /// The mail service of one relay.
    type Mailer: Mailer;

    /// The relay of `shop_id` for `marketplace`; `None` while the shop has stored no relay settings.
    /// The relay sends with its registered sender address, whatever the mail's `from`.
    fn relay(
        &self,
        shop_id: &str,
        marketplace: Marketplace,
    ) -> impl Future<Output = Result<Option<Self::Mailer>, PortError>> + Send;
}

/// Where relay settings are kept (with the marketplace credentials on AWS, in the store on one machine).
pub trait RelayDirectory: Send + Sync {
    /// The stored relay settings of `shop_id` for `marketplace`, if any.
    fn relay_settings(
        &self,
        shop_id: &str,
        marketplace: Marketplace,
    ) -> impl Future<Output = Result<Option<RelaySettings>, PortError>> + Send;
}

/// Buyer mails waiting for their route (a relay whose settings are not stored yet): kept durably
/// per shop × marketplace, sent once the settings are there.
pub trait ParkedMail: Send + Sync {
    /// Keeps `job` (again: no change). True when the shop × marketplace had no waiting mark, which
    /// this call set: staff are to be told once.
    fn park(&self, job: &MailJob, at: DateTime<FixedOffset>) -> impl Future<Output = Result<bool, PortError>> + Send;

    /// Up to `limit` waiting jobs of the shop × marketplace, oldest first.
    fn parked(
        &self,
        shop_id: &str,
        marketplace: Marketplace,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<MailJob>, PortError>> + Send;

    /// Forgets a waiting job (it was sent, or has nothing to send any more).
    fn unpark(&self, job: &MailJob) -> impl Future<Output = Result<(), PortError>> + Send;

    /// Clears the waiting mark of the shop × marketplace (nothing waits, or staff were not told).
    fn clear_waiting(
        &self,
        shop_id: &str,
        marketplace: Marketplace,
    ) -> impl Future<Output = Result<(), PortError>> + Send;
}

/// Delivery events (bounces, complaints) recorded against orders, and the buyer addresses not to
/// mail again. Addresses are buyer data: kept in the store, never logged.
pub trait MailEvents: Send + Sync {
    /// Records `event` (again: no change); suppresses its address when it calls for that.
    fn record_event(&self, event: &MailEvent) -> impl Future<Output = Result<(), PortError>> + Send;

    /// The shop's recorded events, newest first.
    fn events(&self, shop_id: &str) -> impl Future<Output = Result<Vec<MailEvent>, PortError>> + Send;

    /// Whether `address` hard-bounced or complained for `shop_id`.
    fn is_suppressed(&self, shop_id: &str, address: &str) -> impl Future<Output = Result<bool, PortError>> + Send;
}

/// Whether a failure may pass on a later try.
pub trait Retryable {
    /// True when the same call may succeed later.
    fn is_retryable(&self) -> bool;
}

/// One order a marketplace sent that could not be mapped or validated.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Rejected {
    /// Which shop.
    pub shop_id: String,
    /// Which marketplace.
    pub marketplace: Marketplace,
    /// The marketplace's order id, when it could be read.
    pub order_id: Option<String>,
    /// Why (field names and codes, never personal data).
    pub reason: String,
}

/// Where quarantined input goes: kept for a person, with the reason.
pub trait Quarantine: Send + Sync {
    /// Keeps `rejected`.
    fn quarantine(&self, rejected: &[Rejected]) -> impl Future<Output = Result<(), PortError>> + Send;
}

/// One message taken from a queue by a [`Consumer`].
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery<T> {
    /// Names the message to its queue when it is settled (SQS message id, SQLite row id).
    pub receipt: String,
    /// Failed tries before this one (SQS: receives before this one).
    pub attempts: u32,
    /// The message, or where its body stops reading (a position, never the content).
    pub message: Result<T, String>,
}

/// Taking messages from a queue (orders, mail jobs): take a batch, then settle each one — ack
/// (handled), fail (try again later; the queue dead-letters it after its most tries) or
/// dead-letter (no try can pass). The Lambdas' SQS batches, the embedded SQLite queues and the
/// staff commands all drive [`super::consume::consume_batch`] through it.
pub trait Consumer<T>: Send + Sync {
    /// Up to `limit` messages not yet taken by this consumer, oldest first; empty when none wait.
    fn take(&self, limit: usize) -> impl Future<Output = Result<Vec<Delivery<T>>, PortError>> + Send;

    /// The message was handled: it leaves the queue.
    fn ack(&self, receipt: &str) -> impl Future<Output = Result<(), PortError>> + Send;

    /// The message failed and may pass later: it stays queued for a later take, until the queue's
    /// most tries, when it is dead-lettered with `reason`.
    fn fail(&self, receipt: &str, reason: &str) -> impl Future<Output = Result<(), PortError>> + Send;

    /// The message cannot pass: it goes where a person finds it, with `reason` (ids and field
    /// names only).
    fn dead_letter(&self, receipt: &str, reason: &str) -> impl Future<Output = Result<(), PortError>> + Send;

    /// The message cannot pass before `wait` has passed (another worker holds what it needs, for a
    /// known time): it is put back to be taken after that, and this try is not counted against
    /// its most tries where the queue can (SQS counts every receive: there it comes back once,
    /// when the wait ends, instead of after the queue's visibility timeout).
    fn put_back(
        &self,
        receipt: &str,
        wait: std::time::Duration,
        reason: &str,
    ) -> impl Future<Output = Result<(), PortError>> + Send;
}
