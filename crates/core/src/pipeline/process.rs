//! The processor's use case: apply one incoming order to the store, check it when it is new or
//! its address or items changed, hold it when a finding says so, and queue the mails its change
//! calls for, and the acknowledgement a clean new order of some marketplaces is due
//! (`super::acknowledge`).

use std::sync::Arc;

use chrono::{DateTime, Duration, FixedOffset};

use crate::checks::{BundleIndex, CheckEngine};
use crate::finding::{FindingCode, Severity};
use crate::japanese;
use crate::marketplace::Policies;
use crate::order::{Order, OrderStatus};
use crate::rules::{Rules, RulesError};
use crate::stock::holding::Catalogue;
use crate::stock::{StockChange, StockStore};
use crate::validate::OrderError;

use super::acknowledge::{self, Acknowledgement, queue_ack};
use super::cache::ShopCache;
use super::consume::MessageFailure;
use super::holdings::{self, NoStock};
use super::mail::{MailJob, MailKind};
use super::ports::{MailQueue, OrderStore, PortError, ShopDirectory, Written};
use super::shipping::{TrackingWrites, same_number};
use super::stored::{OrderKey, StaffDecision, StoredOrder, check_fingerprint, content_fingerprint, hashed};

/// How often a conditional write is retried after losing a race before the message is retried.
const WRITE_ATTEMPTS: usize = 4;

/// What the processor did with one order.
#[derive(Debug, Clone, PartialEq)]
pub struct Processed {
    /// The order.
    pub key: OrderKey,
    /// What kind of change it was.
    pub change: Change,
    /// Effective status after it.
    pub status: OrderStatus,
    /// Codes of the findings that hold it (empty unless held by a finding).
    pub hold_codes: Vec<FindingCode>,
    /// Mails put on the mail queue.
    pub mails: Vec<MailKind>,
    /// What the order's holding moved in the shop's stock (empty without a stock master, or when
    /// it held the same as before).
    pub stock: Vec<StockChange>,
}

/// How an incoming order related to the stored one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// Not stored before.
    New,
    /// Newer than the stored one; address or items changed, so it was checked again.
    Rechecked,
    /// Newer than the stored one; the check results carried over.
    Updated,
    /// The same order again (SQS redelivery, look-back overlap): nothing changed.
    Unchanged,
    /// Older than the stored one (delivered out of order): ignored.
    Stale,
}

impl Change {
    /// The wire name, for logs and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            Change::New => "new",
            Change::Rechecked => "rechecked",
            Change::Updated => "updated",
            Change::Unchanged => "unchanged",
            Change::Stale => "stale",
        }
    }
}

/// Why an order could not be processed.
#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    /// The order breaks the canonical contract. Permanent: retrying gives the same answer.
    #[error("order {key} is invalid: {source}")]
    Invalid {
        /// Which order.
        key: OrderKey,
        /// The first broken field.
        #[source]
        source: OrderError,
    },
    /// The order's shop has no settings.
    #[error("shop {0} is not configured")]
    UnknownShop(String),
    /// The shop's rules do not parse.
    #[error("shop {shop_id} rules: {source}")]
    Rules {
        /// Which shop.
        shop_id: String,
        /// The parse error.
        #[source]
        source: RulesError,
    },
    /// A store or queue call failed.
    #[error(transparent)]
    Port(#[from] PortError),
    /// Other writers kept winning the conditional write.
    #[error("order {0}: the stored order kept changing under the write")]
    Contended(OrderKey),
}

impl ProcessError {
    /// Whether the message may succeed when delivered again.
    pub fn is_retryable(&self) -> bool {
        match self {
            ProcessError::Invalid { .. } => false,
            // A shop may be configured after its first orders arrive: let SQS retry until the DLQ.
            ProcessError::UnknownShop(_) | ProcessError::Rules { .. } => true,
            ProcessError::Port(e) => e.retryable,
            ProcessError::Contended(_) => true,
        }
    }
}

/// Processor settings.
#[derive(Debug, Clone, Copy)]
pub struct ProcessSettings {
    /// Days after the order date the store keeps an order (personal data retention); `None`: forever.
    pub retention_days: Option<u32>,
}

impl Default for ProcessSettings {
    fn default() -> Self {
        // 2 years: returns, warranty and tax questions, then the buyer's data goes.
        ProcessSettings { retention_days: Some(730) }
    }
}

/// The processor: store, shop directory, mail queue and stock, and the shops' compiled rules.
pub struct Processor<S, D, Q, K = NoStock> {
    store: S,
    shops: D,
    mails: Q,
    stock: K,
    policies: Policies,
    settings: ProcessSettings,
    engines: ShopCache<ShopPlan>,
}

/// What the processor takes from a shop's settings: its compiled rules and its mail choices.
#[derive(Clone)]
struct ShopPlan {
    engine: Arc<CheckEngine>,
    /// [`super::shop::ShopSettings::payment_mail`].
    payment_mail: bool,
    /// The shop's listings and SKUs (empty: no stock master, nothing to hold or find).
    catalogue: Arc<Catalogue>,
}

impl<S: OrderStore + TrackingWrites, D: ShopDirectory, Q: MailQueue> Processor<S, D, Q> {
    /// A processor over these adapters, applying the marketplaces' declared `policies`; orders
    /// move no stock until [`Processor::with_stock`] gives it a stock store.
    pub fn new(store: S, shops: D, mails: Q, policies: Policies, settings: ProcessSettings) -> Self {
        Processor { store, shops, mails, stock: NoStock, policies, settings, engines: ShopCache::default() }
    }
}

impl<S: OrderStore + TrackingWrites, D: ShopDirectory, Q: MailQueue, K: StockStore> Processor<S, D, Q, K> {
    /// The same processor, each stored order's holding applied to `stock` (`super::holdings`).
    pub fn with_stock<K2: StockStore>(self, stock: K2) -> Processor<S, D, Q, K2> {
        let Processor { store, shops, mails, policies, settings, engines, .. } = self;
        Processor { store, shops, mails, stock, policies, settings, engines }
    }

    /// The store.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// Applies one incoming order at `now`.
    pub async fn process(&self, order: Order, now: DateTime<FixedOffset>) -> Result<Processed, ProcessError> {
        let key = OrderKey::of(&order);
        order.validate().map_err(|source| ProcessError::Invalid { key: key.clone(), source })?;
        let plan = self.plan(&order.shop_id, now).await?;
        let engine = &plan.engine;
        let content_fp = content_fingerprint(&order);
        let check_fp = check_fingerprint(&order);
        let raw_bundle_key = engine.bundle_key(&order);

        for _ in 0..WRITE_ATTEMPTS {
            let prev = self.store.get(&key).await?;
            if let Some(p) = &prev {
                let change = match order.source_updated_at.cmp(&p.order.source_updated_at) {
                    std::cmp::Ordering::Less => Some(Change::Stale),
                    std::cmp::Ordering::Equal if content_fp == p.content_fp => Some(Change::Unchanged),
                    // 楽天, au PAY and Qoo10 do not move their time on every change: at equal
                    // times, the copy that is behind in what only moves forward is the older.
                    std::cmp::Ordering::Equal if progress(&order) < progress(&p.order) => Some(Change::Stale),
                    _ => None,
                };
                if let Some(change) = change {
                    // A crash after the write but before the mail queue left mails due: send them
                    // now; and its acknowledgement unqueued: queue it now (once); and its holding
                    // unapplied: apply it now (a second apply moves nothing).
                    let mails = flush_mails(&self.store, &self.mails, p).await?;
                    if p.acknowledgement.as_ref().is_some_and(Acknowledgement::is_due) {
                        queue_ack(&self.store, &key, now).await?;
                    }
                    let stock = holdings::settle(&self.stock, &plan.catalogue, p, now).await?;
                    return Ok(Processed { key, change, status: p.status, hold_codes: Vec::new(), mails, stock });
                }
            }
            let needs_check = prev.as_ref().is_none_or(|p| p.check_fp != check_fp);
            let (findings, change) = match &prev {
                Some(p) if !needs_check => (p.findings.clone(), Change::Updated),
                _ => {
                    let mut index = BundleIndex::empty();
                    if let Some(raw) = &raw_bundle_key {
                        for mate in self.store.bundle_mates(&order.shop_id, &hashed(raw)).await? {
                            if mate != key {
                                index.insert(raw.clone(), mate.marketplace, mate.order_id);
                            }
                        }
                    }
                    let mut findings = engine.check(&order, &index).findings;
                    findings.extend(holdings::unmapped_findings(&order, &plan.catalogue, engine.rules()));
                    (findings, if prev.is_some() { Change::Rechecked } else { Change::New })
                }
            };
            let staff = match prev.as_ref().map(|p| &p.staff) {
                // Staff released it for what it was; a changed address or item list needs a new look.
                Some(StaffDecision::Released { .. }) if needs_check => StaffDecision::None,
                Some(s) => s.clone(),
                None => StaffDecision::None,
            };
            let mut next = StoredOrder {
                status: OrderStatus::New,
                findings,
                staff,
                mails_due: prev.as_ref().map(|p| p.mails_due.clone()).unwrap_or_default(),
                hold_episode: 0,
                // A changed destination or item list needs staff to decide 同梱 again.
                ship_with: prev.as_ref().and_then(|p| p.ship_with.clone()).filter(|_| !needs_check),
                // The shop's own shipping records: no marketplace copy carries them.
                parcels: prev.as_ref().map(|p| p.parcels.clone()).unwrap_or_default(),
                acknowledgement: None,
                content_fp: content_fp.clone(),
                check_fp: check_fp.clone(),
                bundle_key: None,
                rev: prev.as_ref().map_or(1, |p| p.rev + 1),
                stored_at: now,
                expires_at: self
                    .settings
                    .retention_days
                    .map(|d| (order.ordered_at + Duration::days(i64::from(d))).timestamp()),
                order: with_reflected_numbers(&order, prev.as_ref()),
            };
            next.status = effective_status(&next);
            next.count_hold(prev.as_ref());
            next.bundle_key = (next.status.is_open()).then_some(raw_bundle_key.as_deref().map(hashed)).flatten();
            next.acknowledgement = acknowledge::carried(
                &self.policies.of(next.order.marketplace),
                prev.as_ref().and_then(|p| p.acknowledgement.as_ref()),
                &next,
                now,
            );
            let new_mails = mails_for_change(&self.policies, plan.payment_mail, prev.as_ref(), &next);
            for m in &new_mails {
                if !next.mails_due.contains(m) {
                    next.mails_due.push(*m);
                }
            }
            match self.store.put(&next, prev.as_ref().map(|p| p.rev)).await? {
                Written::Conflict => continue,
                Written::Yes => {
                    let stock = holdings::settle(&self.stock, &plan.catalogue, &next, now).await?;
                    let mails = flush_mails(&self.store, &self.mails, &next).await?;
                    if next.acknowledgement.as_ref().is_some_and(Acknowledgement::is_due) {
                        queue_ack(&self.store, &key, now).await?;
                    }
                    let hold_codes = if next.status == OrderStatus::OnHold && next.staff == StaffDecision::None {
                        next.findings.iter().filter(|f| f.severity == Severity::Hold).map(|f| f.code).collect()
                    } else {
                        Vec::new()
                    };
                    return Ok(Processed { key, change, status: next.status, hold_codes, mails, stock });
                }
            }
        }
        Err(ProcessError::Contended(key))
    }

    /// The orders queue's handler, the same for every way a queue is consumed
    /// ([`super::consume::consume_batch`]): one order at `now`, a failure with whether it may pass.
    pub async fn handle(&self, order: Order, now: DateTime<FixedOffset>) -> Result<Processed, MessageFailure> {
        self.process(order, now).await.map_err(|e| MessageFailure::new(e.is_retryable(), e.to_string()))
    }

    /// The shop's compiled rules with its blacklist, its mail choices and its stock catalogue,
    /// reused for a minute: a shop without a stock master costs two empty reads a minute.
    async fn plan(&self, shop_id: &str, now: DateTime<FixedOffset>) -> Result<ShopPlan, ProcessError> {
        if let Some(plan) = self.engines.get(shop_id, now) {
            return Ok(plan);
        }
        let shop = self.shops.shop(shop_id).await?.ok_or_else(|| ProcessError::UnknownShop(shop_id.to_string()))?;
        let mut rules = if shop.rules_toml.trim().is_empty() {
            Rules::default()
        } else {
            Rules::from_toml(&shop.rules_toml)
                .map_err(|source| ProcessError::Rules { shop_id: shop_id.to_string(), source })?
        };
        rules.blacklist.extend(self.shops.blacklist(shop_id).await?.into_iter().map(|(_, e)| e));
        let catalogue = Arc::new(holdings::catalogue(&self.stock, shop_id).await?);
        let plan = ShopPlan {
            engine: Arc::new(CheckEngine::new(rules, self.policies)),
            payment_mail: shop.payment_mail,
            catalogue,
        };
        self.engines.put(shop_id, plan.clone(), now);
        Ok(plan)
    }
}

/// The marketplace's copy with the tracking numbers it accepted from the shop (反映済 parcels)
/// that it does not list: a copy read before the write-back (a caught-up pair pulls first, then
/// writes) cannot know them, and stored without them the order's shipping mail found no number
/// and was skipped.
fn with_reflected_numbers(order: &Order, prev: Option<&StoredOrder>) -> Order {
    let mut order = order.clone();
    let reflected = prev.into_iter().flat_map(|p| &p.parcels).filter(|p| p.reflected_at.is_some());
    for t in reflected.filter_map(|p| p.tracking.as_ref()) {
        if !order.tracking.iter().any(|x| same_number(x, t)) {
            order.tracking.push(t.clone());
        }
    }
    order
}

/// How far an order has come in what a marketplace only moves forward: its status (payment
/// before shipping, shipping before the end; a cancellation ends it) and its parcels.
pub(crate) fn progress(order: &Order) -> (u8, usize) {
    let stage = match order.status {
        OrderStatus::New | OrderStatus::AwaitingPayment | OrderStatus::OnHold => 0,
        OrderStatus::ReadyToShip => 1,
        OrderStatus::Shipped => 2,
        OrderStatus::Cancelled => 3,
    };
    (stage, order.tracking.len())
}

/// `on_hold` while the order is open and a hold finding (not released by staff) or a staff hold
/// keeps it; the marketplace's status otherwise.
pub(crate) fn effective_status(s: &StoredOrder) -> OrderStatus {
    let base = s.order.status;
    let by_findings =
        !matches!(s.staff, StaffDecision::Released { .. }) && s.findings.iter().any(|f| f.severity == Severity::Hold);
    let by_staff = matches!(s.staff, StaffDecision::Held { .. });
    if base.is_open() && (by_findings || by_staff) { OrderStatus::OnHold } else { base }
}

/// The mails a change from `prev` to `next` calls for.
///
/// - thank-you: a new open order that is not held, or a held one that stops being held;
/// - staff alert: an order that becomes held;
/// - shipping: the first tracking number on an order we had stored without one (a first-seen
///   order that already shipped is history from before ichigen: no mail);
/// - payment received: a stored order that was awaiting payment and is now paid and not yet
///   shipped, paid in advance (bank transfer, convenience store), when the shop has
///   `payment_mail` on and the order is not held;
/// - nothing to buyers where [`StoredOrder::buyer_mail_barred`] says so (Amazon, AFN, cancelled,
///   held): the notifier asks it again at send time.
pub(crate) fn mails_for_change(
    policies: &Policies,
    payment_mail: bool,
    prev: Option<&StoredOrder>,
    next: &StoredOrder,
) -> Vec<MailKind> {
    let mut out = Vec::new();
    let was_held = prev.is_some_and(|p| p.status == OrderStatus::OnHold);
    let buyer_ok = next.buyer_mail_barred(policies).is_none();
    if next.status == OrderStatus::OnHold && !was_held {
        out.push(MailKind::StaffAlert);
    }
    let open_free = next.status.is_open() && next.status != OrderStatus::OnHold;
    if buyer_ok && open_free && (prev.is_none() || was_held) {
        out.push(MailKind::ThankYou);
    }
    if buyer_ok && prev.is_some_and(|p| p.order.tracking.is_empty()) && !next.order.tracking.is_empty() {
        out.push(MailKind::Shipping);
    }
    let paid_now = prev.is_some_and(|p| p.order.status == OrderStatus::AwaitingPayment)
        && matches!(next.order.status, OrderStatus::New | OrderStatus::ReadyToShip);
    if buyer_ok && payment_mail && open_free && paid_now && japanese::is_prepaid(next.order.payment_method) {
        out.push(MailKind::PaymentReceived);
    }
    out
}

/// Puts `stored`'s due mails on the mail queue, then clears them from the store. A lost race on
/// the clear is fine: the winner carried the list over and sends it; the ledger stops doubles.
pub(crate) async fn flush_mails<S: OrderStore, Q: MailQueue>(
    store: &S,
    mails: &Q,
    stored: &StoredOrder,
) -> Result<Vec<MailKind>, PortError> {
    if stored.mails_due.is_empty() {
        return Ok(Vec::new());
    }
    let key = stored.key();
    let jobs: Vec<MailJob> = stored.mails_due.iter().map(|&kind| MailJob { order: key.clone(), kind }).collect();
    mails.send_all(&jobs).await?;
    let mut cleared = stored.clone();
    cleared.mails_due.clear();
    cleared.rev = stored.rev + 1;
    store.put(&cleared, Some(stored.rev)).await?;
    Ok(stored.mails_due.clone())
}
