//! In-memory adapters of every port, for use-case tests and one-process runs. Not durable.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::Mutex;

use chrono::{DateTime, FixedOffset};

use crate::order::{Marketplace, Order, OrderStatus, Tracking};
use crate::rules::BlacklistEntry;

use super::bounce::{MailEvent, address_key};
use super::credentials::StaffNotices;
use super::mail::{MailJob, MailKey, OutgoingMail};
use super::ports::{
    Claim, MailEvents, MailLedger, Mailer, OrderStore, ParkedMail, PortError, Quarantine, Queue, Rejected,
    RelayDirectory, RelayMailers, Retryable, SendError, ShopDirectory, WatermarkStore, Written,
};
use super::route::RelaySettings;
use super::shipping::{PendingWrites, TrackingWrites};
use super::shop::ShopSettings;
use super::source::{OrderPage, OrderSource, Window};
use super::stored::{OrderKey, StoredOrder, Watermark};

/// Who holds a pair's pull lease, and until when.
type PullLease = (String, DateTime<FixedOffset>);

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panicking test thread must not hide the state from the others.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

#[derive(Debug, Clone)]
enum LedgerEntry {
    Claimed { until: DateTime<FixedOffset> },
    Sent { message_id: String },
}

/// Orders, watermarks, shops, blacklists and the mail ledger in maps.
#[derive(Debug, Default)]
pub struct MemoryStore {
    orders: Mutex<BTreeMap<OrderKey, StoredOrder>>,
    // (shop, bundle key) → orders filed under it, like the sparse `by_bundle` index of DynamoDB:
    // a scan of every order per lookup would make the processor bench measure this map instead.
    bundles: Mutex<HashMap<(String, String), BTreeSet<OrderKey>>>,
    marks: Mutex<HashMap<(String, Marketplace), Watermark>>,
    leases: Mutex<HashMap<(String, Marketplace), PullLease>>,
    shops: Mutex<HashMap<String, ShopSettings>>,
    blacklist: Mutex<BTreeMap<(String, String), BlacklistEntry>>,
    ledger: Mutex<HashMap<MailKey, LedgerEntry>>,
    writes: Mutex<HashMap<(String, Marketplace), PendingWrites>>,
    next_id: Mutex<u64>,
    parked: Mutex<Vec<(DateTime<FixedOffset>, MailJob)>>,
    waiting: Mutex<BTreeSet<(String, Marketplace)>>,
    events: Mutex<BTreeMap<(String, String), MailEvent>>,
    suppressed: Mutex<BTreeSet<(String, String)>>,
    relays: Mutex<HashMap<(String, Marketplace), RelaySettings>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every stored order.
    pub fn orders(&self) -> Vec<StoredOrder> {
        lock(&self.orders).values().cloned().collect()
    }

    /// Stores `settings` as the shop's relay of `marketplace`.
    pub fn put_relay_settings(&self, shop_id: &str, marketplace: Marketplace, settings: RelaySettings) {
        lock(&self.relays).insert((shop_id.to_string(), marketplace), settings);
    }

    /// Ledger entries marked sent.
    pub fn sent_count(&self) -> usize {
        lock(&self.ledger).values().filter(|e| matches!(e, LedgerEntry::Sent { .. })).count()
    }
}

impl OrderStore for MemoryStore {
    async fn get(&self, key: &OrderKey) -> Result<Option<StoredOrder>, PortError> {
        Ok(lock(&self.orders).get(key).cloned())
    }

    async fn put(&self, order: &StoredOrder, expected: Option<u64>) -> Result<Written, PortError> {
        let mut orders = lock(&self.orders);
        let key = order.key();
        if orders.get(&key).map(|o| o.rev) != expected {
            return Ok(Written::Conflict);
        }
        let mut bundles = lock(&self.bundles);
        if let Some(old) = orders.get(&key).and_then(|o| o.bundle_key.clone()) {
            let index = (order.order.shop_id.clone(), old);
            if let Some(set) = bundles.get_mut(&index) {
                set.remove(&key);
            }
        }
        if let Some(new) = &order.bundle_key {
            bundles.entry((order.order.shop_id.clone(), new.clone())).or_default().insert(key.clone());
        }
        orders.insert(key, order.clone());
        Ok(Written::Yes)
    }

    async fn bundle_mates(&self, shop_id: &str, bundle_key: &str) -> Result<Vec<OrderKey>, PortError> {
        let index = (shop_id.to_string(), bundle_key.to_string());
        Ok(lock(&self.bundles).get(&index).map(|set| set.iter().cloned().collect()).unwrap_or_default())
    }

    async fn list_by_status(
        &self,
        shop_id: &str,
        status: OrderStatus,
        since: Option<DateTime<FixedOffset>>,
        until: Option<DateTime<FixedOffset>>,
    ) -> Result<Vec<StoredOrder>, PortError> {
        let mut out: Vec<StoredOrder> = lock(&self.orders)
            .values()
            .filter(|o| o.order.shop_id == shop_id && o.status == status)
            .filter(|o| since.is_none_or(|s| o.order.ordered_at >= s) && until.is_none_or(|u| o.order.ordered_at < u))
            .cloned()
            .collect();
        out.sort_by(|a, b| a.order.ordered_at.cmp(&b.order.ordered_at).then_with(|| a.key().cmp(&b.key())));
        Ok(out)
    }
}

impl WatermarkStore for MemoryStore {
    async fn get_watermark(&self, shop_id: &str, marketplace: Marketplace) -> Result<Option<Watermark>, PortError> {
        Ok(lock(&self.marks).get(&(shop_id.to_string(), marketplace)).cloned())
    }

    async fn put_watermark(&self, mark: &Watermark, expected: Option<u64>) -> Result<Written, PortError> {
        let mut marks = lock(&self.marks);
        let key = (mark.shop_id.clone(), mark.marketplace);
        if marks.get(&key).map(|m| m.rev) != expected {
            return Ok(Written::Conflict);
        }
        marks.insert(key, mark.clone());
        Ok(Written::Yes)
    }

    async fn take_lease(
        &self,
        shop_id: &str,
        marketplace: Marketplace,
        holder: &str,
        now: DateTime<FixedOffset>,
        until: DateTime<FixedOffset>,
    ) -> Result<bool, PortError> {
        let mut leases = lock(&self.leases);
        let key = (shop_id.to_string(), marketplace);
        if leases.get(&key).is_some_and(|(h, end)| h != holder && *end > now) {
            return Ok(false);
        }
        leases.insert(key, (holder.to_string(), until));
        Ok(true)
    }

    async fn end_lease(&self, shop_id: &str, marketplace: Marketplace, holder: &str) -> Result<(), PortError> {
        let mut leases = lock(&self.leases);
        let key = (shop_id.to_string(), marketplace);
        if leases.get(&key).is_some_and(|(h, _)| h == holder) {
            leases.remove(&key);
        }
        Ok(())
    }
}

impl TrackingWrites for MemoryStore {
    async fn get_writes(&self, shop_id: &str, marketplace: Marketplace) -> Result<Option<PendingWrites>, PortError> {
        Ok(lock(&self.writes).get(&(shop_id.to_string(), marketplace)).cloned())
    }

    async fn put_writes(&self, writes: &PendingWrites, expected: Option<u64>) -> Result<Written, PortError> {
        let mut all = lock(&self.writes);
        let key = (writes.shop_id.clone(), writes.marketplace);
        if all.get(&key).map(|w| w.rev) != expected {
            return Ok(Written::Conflict);
        }
        all.insert(key, writes.clone());
        Ok(Written::Yes)
    }
}

/// Staff notices kept in memory: (subject, text).
#[derive(Debug, Default)]
pub struct MemoryNotices {
    sent: Mutex<Vec<(String, String)>>,
}

impl MemoryNotices {
    /// None yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every notice so far.
    pub fn sent(&self) -> Vec<(String, String)> {
        lock(&self.sent).clone()
    }
}

impl StaffNotices for MemoryNotices {
    async fn notify(&self, subject: &str, text: &str) -> Result<(), PortError> {
        lock(&self.sent).push((subject.to_string(), text.to_string()));
        Ok(())
    }
}

impl ShopDirectory for MemoryStore {
    async fn shop(&self, shop_id: &str) -> Result<Option<ShopSettings>, PortError> {
        Ok(lock(&self.shops).get(shop_id).cloned())
    }

    async fn put_shop(&self, settings: &ShopSettings) -> Result<(), PortError> {
        lock(&self.shops).insert(settings.shop_id.clone(), settings.clone());
        Ok(())
    }

    async fn blacklist(&self, shop_id: &str) -> Result<Vec<(String, BlacklistEntry)>, PortError> {
        Ok(lock(&self.blacklist)
            .iter()
            .filter(|((s, _), _)| s == shop_id)
            .map(|((_, id), e)| (id.clone(), e.clone()))
            .collect())
    }

    async fn add_blacklisted(&self, shop_id: &str, entry: &BlacklistEntry) -> Result<String, PortError> {
        let id = {
            let mut n = lock(&self.next_id);
            *n += 1;
            format!("bl{:06}", *n)
        };
        lock(&self.blacklist).insert((shop_id.to_string(), id.clone()), entry.clone());
        Ok(id)
    }

    async fn remove_blacklisted(&self, shop_id: &str, id: &str) -> Result<bool, PortError> {
        Ok(lock(&self.blacklist).remove(&(shop_id.to_string(), id.to_string())).is_some())
    }
}

impl MailLedger for MemoryStore {
    async fn claim(
        &self,
        key: &MailKey,
        now: DateTime<FixedOffset>,
        lease_until: DateTime<FixedOffset>,
    ) -> Result<Claim, PortError> {
        let mut ledger = lock(&self.ledger);
        match ledger.get(key) {
            Some(LedgerEntry::Sent { message_id }) => Ok(Claim::AlreadySent(message_id.clone())),
            Some(LedgerEntry::Claimed { until }) if *until > now => Ok(Claim::Busy { until: *until }),
            _ => {
                ledger.insert(key.clone(), LedgerEntry::Claimed { until: lease_until });
                Ok(Claim::Claimed)
            }
        }
    }

    async fn mark_sent(
        &self,
        key: &MailKey,
        message_id: &str,
        _sent_at: DateTime<FixedOffset>,
    ) -> Result<(), PortError> {
        lock(&self.ledger).insert(key.clone(), LedgerEntry::Sent { message_id: message_id.to_string() });
        Ok(())
    }

    async fn release(&self, key: &MailKey) -> Result<(), PortError> {
        let mut ledger = lock(&self.ledger);
        if matches!(ledger.get(key), Some(LedgerEntry::Claimed { .. })) {
            ledger.remove(key);
        }
        Ok(())
    }
}

impl RelayDirectory for MemoryStore {
    async fn relay_settings(
        &self,
        shop_id: &str,
        marketplace: Marketplace,
    ) -> Result<Option<RelaySettings>, PortError> {
        Ok(lock(&self.relays).get(&(shop_id.to_string(), marketplace)).cloned())
    }
}

impl ParkedMail for MemoryStore {
    async fn park(&self, job: &MailJob, at: DateTime<FixedOffset>) -> Result<bool, PortError> {
        let mut parked = lock(&self.parked);
        if !parked.iter().any(|(_, j)| j == job) {
            parked.push((at, job.clone()));
            parked.sort_by_key(|(at, _)| *at);
        }
        Ok(lock(&self.waiting).insert((job.order.shop_id.clone(), job.order.marketplace)))
    }

    async fn parked(&self, shop_id: &str, marketplace: Marketplace, limit: usize) -> Result<Vec<MailJob>, PortError> {
        Ok(lock(&self.parked)
            .iter()
            .filter(|(_, j)| j.order.shop_id == shop_id && j.order.marketplace == marketplace)
            .take(limit)
            .map(|(_, j)| j.clone())
            .collect())
    }

    async fn unpark(&self, job: &MailJob) -> Result<(), PortError> {
        lock(&self.parked).retain(|(_, j)| j != job);
        Ok(())
    }

    async fn clear_waiting(&self, shop_id: &str, marketplace: Marketplace) -> Result<(), PortError> {
        lock(&self.waiting).remove(&(shop_id.to_string(), marketplace));
        Ok(())
    }
}

impl MailEvents for MemoryStore {
    async fn record_event(&self, event: &MailEvent) -> Result<(), PortError> {
        lock(&self.events).insert((event.shop_id.clone(), event.id()), event.clone());
        if event.kind.suppresses() {
            lock(&self.suppressed).insert((event.shop_id.clone(), address_key(&event.address)));
        }
        Ok(())
    }

    async fn events(&self, shop_id: &str) -> Result<Vec<MailEvent>, PortError> {
        let mut out: Vec<MailEvent> =
            lock(&self.events).iter().filter(|((s, _), _)| s == shop_id).map(|(_, e)| e.clone()).collect();
        out.sort_by_key(|e| std::cmp::Reverse(e.at));
        Ok(out)
    }

    async fn is_suppressed(&self, shop_id: &str, address: &str) -> Result<bool, PortError> {
        Ok(lock(&self.suppressed).contains(&(shop_id.to_string(), address_key(address))))
    }
}

/// A FIFO queue in memory.
#[derive(Debug)]
pub struct MemoryQueue<T> {
    messages: Mutex<VecDeque<T>>,
}

impl<T> Default for MemoryQueue<T> {
    fn default() -> Self {
        MemoryQueue { messages: Mutex::new(VecDeque::new()) }
    }
}

impl<T: Clone> MemoryQueue<T> {
    /// An empty queue.
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes every message queued so far.
    pub fn drain(&self) -> Vec<T> {
        lock(&self.messages).drain(..).collect()
    }

    /// Messages waiting.
    pub fn len(&self) -> usize {
        lock(&self.messages).len()
    }

    /// Whether none wait.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<T: Clone + Send + Sync> Queue<T> for MemoryQueue<T> {
    async fn send_all(&self, messages: &[T]) -> Result<(), PortError> {
        lock(&self.messages).extend(messages.iter().cloned());
        Ok(())
    }
}

impl Quarantine for MemoryQueue<Rejected> {
    async fn quarantine(&self, rejected: &[Rejected]) -> Result<(), PortError> {
        self.send_all(rejected).await
    }
}

/// A mail service that keeps what it is given.
#[derive(Debug, Default)]
pub struct MemoryMailer {
    sent: Mutex<Vec<(String, OutgoingMail)>>,
}

impl MemoryMailer {
    /// No mail yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every mail sent, with its message id.
    pub fn sent(&self) -> Vec<(String, OutgoingMail)> {
        lock(&self.sent).clone()
    }
}

impl Mailer for MemoryMailer {
    async fn send(&self, mail: &OutgoingMail) -> Result<String, SendError> {
        let mut sent = lock(&self.sent);
        let id = format!("mem-{:08}", sent.len() + 1);
        sent.push((id.clone(), mail.clone()));
        Ok(id)
    }
}

/// Relays of the shops whose settings `directory` holds, each sending into `mailer` with its
/// registered sender address (as a real relay insists on).
#[derive(Debug, Clone, Copy)]
pub struct MemoryRelays<'a> {
    /// Where the settings are.
    pub directory: &'a MemoryStore,
    /// Where relay mail goes.
    pub mailer: &'a MemoryMailer,
}

/// One shop's relay of [`MemoryRelays`].
#[derive(Debug, Clone)]
pub struct MemoryRelay<'a> {
    from: String,
    mailer: &'a MemoryMailer,
}

impl<'a> RelayMailers for MemoryRelays<'a> {
    type Mailer = MemoryRelay<'a>;
    async fn relay(&self, shop_id: &str, marketplace: Marketplace) -> Result<Option<MemoryRelay<'a>>, PortError> {
        let settings = self.directory.relay_settings(shop_id, marketplace).await?;
        Ok(settings.map(|s| MemoryRelay { from: s.from, mailer: self.mailer }))
    }
}

impl Mailer for MemoryRelay<'_> {
    async fn send(&self, mail: &OutgoingMail) -> Result<String, SendError> {
        let mail = OutgoingMail { from: self.from.clone(), ..mail.clone() };
        self.mailer.send(&mail).await
    }
}

/// A feed serving fixed orders, one page per `page_size` orders, filtered by `source_updated_at`.
#[derive(Debug)]
pub struct MemoryFeed {
    marketplace: Marketplace,
    orders: Mutex<Vec<Order>>,
    page_size: usize,
}

/// The memory feed never fails.
#[derive(Debug, thiserror::Error)]
#[error("memory feed: {0}")]
pub struct MemoryFeedError(String);

impl Retryable for MemoryFeedError {
    fn is_retryable(&self) -> bool {
        false
    }
}

impl MemoryFeed {
    /// A feed of `marketplace` serving `page_size` orders a page.
    pub fn new(marketplace: Marketplace, page_size: usize) -> Self {
        MemoryFeed { marketplace, orders: Mutex::new(Vec::new()), page_size: page_size.max(1) }
    }

    /// Adds or replaces (same order id) an order.
    pub fn upsert(&self, order: Order) {
        let mut orders = lock(&self.orders);
        orders.retain(|o| o.order_id != order.order_id);
        orders.push(order);
    }
}

impl OrderSource for MemoryFeed {
    type Error = MemoryFeedError;

    fn marketplace(&self) -> Marketplace {
        self.marketplace
    }

    async fn changed_orders(&self, window: &Window, cursor: Option<&str>) -> Result<OrderPage, MemoryFeedError> {
        let start: usize = match cursor {
            None => 0,
            Some(c) => c.parse().map_err(|_| MemoryFeedError(format!("bad cursor {c:?}")))?,
        };
        let mut hits: Vec<Order> = lock(&self.orders)
            .iter()
            .filter(|o| o.source_updated_at >= window.from && o.source_updated_at < window.to)
            .cloned()
            .collect();
        hits.sort_by(|a, b| a.source_updated_at.cmp(&b.source_updated_at).then_with(|| a.order_id.cmp(&b.order_id)));
        let end = (start + self.page_size).min(hits.len());
        let orders = hits.get(start..end).map(<[Order]>::to_vec).unwrap_or_default();
        let next = (end < hits.len()).then(|| end.to_string());
        Ok(OrderPage { orders, next, ..OrderPage::default() })
    }

    fn max_ids_per_call(&self) -> usize {
        self.page_size
    }

    async fn orders_by_id(&self, ids: &[String]) -> Result<OrderPage, MemoryFeedError> {
        let orders = lock(&self.orders);
        let mut page = OrderPage::default();
        for id in ids {
            match orders.iter().find(|o| &o.order_id == id) {
                Some(o) => page.orders.push(o.clone()),
                None => page.missing.push(id.clone()),
            }
        }
        Ok(page)
    }

    async fn register_tracking(&self, order: &Order, tracking: &Tracking) -> Result<(), MemoryFeedError> {
        let mut orders = lock(&self.orders);
        let stored = orders
            .iter_mut()
            .find(|o| o.order_id == order.order_id)
            .ok_or_else(|| MemoryFeedError(format!("no order {}", order.order_id)))?;
        if !stored.tracking.contains(tracking) {
            stored.tracking.push(tracking.clone());
        }
        Ok(())
    }
}

/// Order jobs and mail jobs are what the memory queues carry.
pub type MemoryOrderQueue = MemoryQueue<Order>;
/// See [`MemoryOrderQueue`].
pub type MemoryMailQueue = MemoryQueue<MailJob>;
