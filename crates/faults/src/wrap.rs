//! [`Faulty`]: one generic wrapper around any real adapter, implementing every port trait its
//! adapter implements. Each call is counted at the [`Injector`] and passes through, fails, is
//! made and then reported failed (timeout), or is made and then kills the run. The wrapper never
//! replaces the adapter: every call that is not failed reaches it.

use std::future::Future;
use std::sync::Arc;

use chrono::{DateTime, FixedOffset, NaiveDate};
use ichigen_core::pipeline::credentials::KnownExpiry;
use ichigen_core::pipeline::{
    Acknowledged, Claim, CredentialHealth, CredentialUpdate, KnownVersions, MailEvent, MailEvents, MailJob, MailKey,
    MailKind, MailLedger, Mailer, OrderKey, OrderPage, OrderSource, OrderStore, OutgoingMail, ParkedMail,
    PendingWrites, PortError, Quarantine, Queue, Rejected, RelayDirectory, RelayMailers, RelaySettings, Retryable,
    SendError, ShopDirectory, ShopSettings, StaffNotices, StoredOrder, TrackingWrites, Watermark, WatermarkStore,
    Window, Written,
};
use ichigen_core::rules::BlacklistEntry;
use ichigen_core::{Marketplace, Order, OrderStatus, Tracking};
use ichigen_local::{EmlOutbox, SqliteStore};

use crate::inject::{Fire, Injector, Killed};

/// The error an injected failure carries.
#[derive(Debug, Clone, Copy, thiserror::Error)]
pub enum Injected {
    /// Failed before the adapter was called.
    #[error("injected failure (the call was not made)")]
    Failed,
    /// The adapter was called; its answer was lost.
    #[error("injected timeout (the call was made, its outcome is unknown)")]
    TimedOut,
}

/// The `operation` of an injected [`PortError`].
const OP: &str = "injected fault";

/// A real adapter behind the injector.
#[derive(Debug, Clone)]
pub struct Faulty<T> {
    inner: T,
    inj: Arc<Injector>,
    /// The port's name where one trait has several adapters (queues, mailers, sources).
    label: String,
}

impl<T> Faulty<T> {
    /// `inner` behind `inj`; `label` names it where its trait has several adapters.
    pub fn new(inner: T, inj: &Arc<Injector>, label: impl Into<String>) -> Faulty<T> {
        Faulty { inner, inj: inj.clone(), label: label.into() }
    }

    /// One call: counted, and faulted when armed. `observe` sees the adapter's real answer
    /// whenever the call was made (also on timeout and kill).
    async fn guard<R, E>(
        &self,
        port: &str,
        method: &'static str,
        call: impl Future<Output = Result<R, E>>,
        injected: impl FnOnce(Injected) -> E,
        observe: impl FnOnce(&Result<R, E>),
    ) -> Result<R, E> {
        self.guard_mail(port, method, None, call, injected, observe).await
    }

    /// [`Faulty::guard`] for a call about one mail: a fault injected at it is recorded against
    /// that mail (the checker allows it the documented duplicate).
    async fn guard_mail<R, E>(
        &self,
        port: &str,
        method: &'static str,
        mail: Option<(OrderKey, MailKind)>,
        call: impl Future<Output = Result<R, E>>,
        injected: impl FnOnce(Injected) -> E,
        observe: impl FnOnce(&Result<R, E>),
    ) -> Result<R, E> {
        let fire = self.inj.enter(port, method);
        if fire != Fire::Pass
            && let Some(mail) = mail
        {
            self.inj.faulted_mail(mail);
        }
        match fire {
            Fire::Pass => {
                let r = call.await;
                observe(&r);
                r
            }
            Fire::Fail => Err(injected(Injected::Failed)),
            Fire::Timeout => {
                let r = call.await;
                observe(&r);
                Err(injected(Injected::TimedOut))
            }
            Fire::Kill => {
                let r = call.await;
                observe(&r);
                std::panic::panic_any(Killed)
            }
        }
    }

    async fn port<R>(
        &self,
        port: &str,
        method: &'static str,
        call: impl Future<Output = Result<R, PortError>>,
    ) -> Result<R, PortError> {
        self.guard(port, method, call, |e| PortError::retryable(OP, e), |_| {}).await
    }
}

fn mail_key(key: &MailKey) -> (OrderKey, MailKind) {
    (key.order.clone(), key.kind)
}

impl<T: OrderStore> OrderStore for Faulty<T> {
    async fn get(&self, key: &OrderKey) -> Result<Option<StoredOrder>, PortError> {
        self.port("OrderStore", "get", self.inner.get(key)).await
    }

    async fn put(&self, order: &StoredOrder, expected: Option<u64>) -> Result<Written, PortError> {
        let inj = &self.inj;
        let observe = |r: &Result<Written, PortError>| {
            if matches!(r, Ok(Written::Yes)) {
                inj.stored(order);
            }
        };
        self.guard("OrderStore", "put", self.inner.put(order, expected), |e| PortError::retryable(OP, e), observe).await
    }

    async fn bundle_mates(&self, shop_id: &str, bundle_key: &str) -> Result<Vec<OrderKey>, PortError> {
        self.port("OrderStore", "bundle_mates", self.inner.bundle_mates(shop_id, bundle_key)).await
    }

    async fn list_by_status(
        &self,
        shop_id: &str,
        status: OrderStatus,
        since: Option<DateTime<FixedOffset>>,
        until: Option<DateTime<FixedOffset>>,
    ) -> Result<Vec<StoredOrder>, PortError> {
        self.port("OrderStore", "list_by_status", self.inner.list_by_status(shop_id, status, since, until)).await
    }
}

impl<T: WatermarkStore> WatermarkStore for Faulty<T> {
    async fn get_watermark(&self, shop_id: &str, marketplace: Marketplace) -> Result<Option<Watermark>, PortError> {
        self.port("WatermarkStore", "get_watermark", self.inner.get_watermark(shop_id, marketplace)).await
    }

    async fn put_watermark(&self, mark: &Watermark, expected: Option<u64>) -> Result<Written, PortError> {
        self.port("WatermarkStore", "put_watermark", self.inner.put_watermark(mark, expected)).await
    }

    async fn take_lease(
        &self,
        shop_id: &str,
        marketplace: Marketplace,
        holder: &str,
        now: DateTime<FixedOffset>,
        until: DateTime<FixedOffset>,
    ) -> Result<bool, PortError> {
        self.port("WatermarkStore", "take_lease", self.inner.take_lease(shop_id, marketplace, holder, now, until)).await
    }

    async fn end_lease(&self, shop_id: &str, marketplace: Marketplace, holder: &str) -> Result<(), PortError> {
        self.port("WatermarkStore", "end_lease", self.inner.end_lease(shop_id, marketplace, holder)).await
    }
}

impl<T: ShopDirectory> ShopDirectory for Faulty<T> {
    async fn shop(&self, shop_id: &str) -> Result<Option<ShopSettings>, PortError> {
        self.port("ShopDirectory", "shop", self.inner.shop(shop_id)).await
    }

    async fn put_shop(&self, settings: &ShopSettings) -> Result<(), PortError> {
        self.port("ShopDirectory", "put_shop", self.inner.put_shop(settings)).await
    }

    async fn blacklist(&self, shop_id: &str) -> Result<Vec<(String, BlacklistEntry)>, PortError> {
        self.port("ShopDirectory", "blacklist", self.inner.blacklist(shop_id)).await
    }

    async fn add_blacklisted(&self, shop_id: &str, entry: &BlacklistEntry) -> Result<String, PortError> {
        self.port("ShopDirectory", "add_blacklisted", self.inner.add_blacklisted(shop_id, entry)).await
    }

    async fn remove_blacklisted(&self, shop_id: &str, id: &str) -> Result<bool, PortError> {
        self.port("ShopDirectory", "remove_blacklisted", self.inner.remove_blacklisted(shop_id, id)).await
    }
}

impl<T: MailLedger> MailLedger for Faulty<T> {
    async fn claim(
        &self,
        key: &MailKey,
        now: DateTime<FixedOffset>,
        lease_until: DateTime<FixedOffset>,
    ) -> Result<Claim, PortError> {
        let inj = &self.inj;
        let observe = |r: &Result<Claim, PortError>| {
            if matches!(r, Ok(Claim::Claimed)) {
                inj.claimed(mail_key(key), now, lease_until);
            }
        };
        self.guard(
            "MailLedger",
            "claim",
            self.inner.claim(key, now, lease_until),
            |e| PortError::retryable(OP, e),
            observe,
        )
        .await
    }

    async fn mark_sent(
        &self,
        key: &MailKey,
        message_id: &str,
        sent_at: DateTime<FixedOffset>,
    ) -> Result<(), PortError> {
        let inj = &self.inj;
        let observe = |r: &Result<(), PortError>| {
            if r.is_ok() {
                inj.marked(&mail_key(key));
            }
        };
        let call = self.inner.mark_sent(key, message_id, sent_at);
        let mail = Some(mail_key(key));
        self.guard_mail("MailLedger", "mark_sent", mail, call, |e| PortError::retryable(OP, e), observe).await
    }

    async fn release(&self, key: &MailKey) -> Result<(), PortError> {
        let inj = &self.inj;
        let observe = |r: &Result<(), PortError>| {
            if r.is_ok() {
                inj.released(&mail_key(key));
            }
        };
        self.guard("MailLedger", "release", self.inner.release(key), |e| PortError::retryable(OP, e), observe).await
    }
}

impl<M: Sync, T: Queue<M>> Queue<M> for Faulty<T> {
    async fn send_all(&self, messages: &[M]) -> Result<(), PortError> {
        self.port(&self.label, "send_all", self.inner.send_all(messages)).await
    }

    fn max_message_bytes(&self) -> usize {
        self.inner.max_message_bytes()
    }
}

impl<T: Quarantine> Quarantine for Faulty<T> {
    async fn quarantine(&self, rejected: &[Rejected]) -> Result<(), PortError> {
        self.port("Quarantine", "quarantine", self.inner.quarantine(rejected)).await
    }
}

impl<T: Mailer> Mailer for Faulty<T> {
    async fn send(&self, mail: &OutgoingMail) -> Result<String, SendError> {
        // A failure before the request is unavailable; a timeout after it leaves the outcome
        // unknown, as the adapters report it (SES `send_error`, the relay after the data).
        let injected = |e: Injected| match e {
            Injected::Failed => SendError::Unavailable(Box::new(e)),
            Injected::TimedOut => SendError::Ambiguous(Box::new(e)),
        };
        self.guard_mail(&self.label, "send", tagged(mail), self.inner.send(mail), injected, |_| {}).await
    }
}

impl<T: RelayMailers> RelayMailers for Faulty<T> {
    type Mailer = Faulty<T::Mailer>;

    async fn relay(&self, shop_id: &str, marketplace: Marketplace) -> Result<Option<Self::Mailer>, PortError> {
        let relay = self.port("RelayMailers", "relay", self.inner.relay(shop_id, marketplace)).await?;
        Ok(relay.map(|m| Faulty::new(m, &self.inj, "RelayMailer")))
    }
}

impl<T: RelayDirectory> RelayDirectory for Faulty<T> {
    async fn relay_settings(
        &self,
        shop_id: &str,
        marketplace: Marketplace,
    ) -> Result<Option<RelaySettings>, PortError> {
        self.port("RelayDirectory", "relay_settings", self.inner.relay_settings(shop_id, marketplace)).await
    }
}

impl<T: ParkedMail> ParkedMail for Faulty<T> {
    async fn park(&self, job: &MailJob, at: DateTime<FixedOffset>) -> Result<bool, PortError> {
        self.port("ParkedMail", "park", self.inner.park(job, at)).await
    }

    async fn parked(&self, shop_id: &str, marketplace: Marketplace, limit: usize) -> Result<Vec<MailJob>, PortError> {
        self.port("ParkedMail", "parked", self.inner.parked(shop_id, marketplace, limit)).await
    }

    async fn unpark(&self, job: &MailJob) -> Result<(), PortError> {
        self.port("ParkedMail", "unpark", self.inner.unpark(job)).await
    }

    async fn clear_waiting(&self, shop_id: &str, marketplace: Marketplace) -> Result<(), PortError> {
        self.port("ParkedMail", "clear_waiting", self.inner.clear_waiting(shop_id, marketplace)).await
    }
}

impl<T: MailEvents> MailEvents for Faulty<T> {
    async fn record_event(&self, event: &MailEvent) -> Result<(), PortError> {
        self.port("MailEvents", "record_event", self.inner.record_event(event)).await
    }

    async fn events(&self, shop_id: &str) -> Result<Vec<MailEvent>, PortError> {
        self.port("MailEvents", "events", self.inner.events(shop_id)).await
    }

    async fn is_suppressed(&self, shop_id: &str, address: &str) -> Result<bool, PortError> {
        self.port("MailEvents", "is_suppressed", self.inner.is_suppressed(shop_id, address)).await
    }
}

// `TrackingWrites` has no forwarding impl for references in core: the wrapper takes the reference.
impl<T: TrackingWrites + ?Sized> TrackingWrites for Faulty<&T> {
    async fn get_writes(&self, shop_id: &str, marketplace: Marketplace) -> Result<Option<PendingWrites>, PortError> {
        self.port("TrackingWrites", "get_writes", self.inner.get_writes(shop_id, marketplace)).await
    }

    async fn put_writes(&self, writes: &PendingWrites, expected: Option<u64>) -> Result<Written, PortError> {
        self.port("TrackingWrites", "put_writes", self.inner.put_writes(writes, expected)).await
    }
}

impl<T: StaffNotices> StaffNotices for Faulty<T> {
    async fn notify(&self, subject: &str, text: &str) -> Result<(), PortError> {
        self.port("StaffNotices", "notify", self.inner.notify(subject, text)).await
    }
}

/// A marketplace client's error, or an injected one.
#[derive(Debug, thiserror::Error)]
pub enum SourceError<E: std::error::Error + 'static> {
    /// Injected by the harness (retryable, as a timeout or a 5xx is).
    #[error(transparent)]
    Injected(#[from] Injected),
    /// The client's own.
    #[error(transparent)]
    Client(E),
}

impl<E: std::error::Error + Retryable + 'static> Retryable for SourceError<E> {
    fn is_retryable(&self) -> bool {
        match self {
            SourceError::Injected(_) => true,
            SourceError::Client(e) => e.is_retryable(),
        }
    }
}

impl<T: OrderSource> OrderSource for Faulty<T> {
    type Error = SourceError<T::Error>;

    fn marketplace(&self) -> Marketplace {
        self.inner.marketplace()
    }

    async fn changed_orders(&self, window: &Window, cursor: Option<&str>) -> Result<OrderPage, Self::Error> {
        let call = async { self.inner.changed_orders(window, cursor).await.map_err(SourceError::Client) };
        self.guard(&self.label, "changed_orders", call, SourceError::Injected, |_| {}).await
    }

    async fn changed_orders_skipping(
        &self,
        window: &Window,
        cursor: Option<&str>,
        known: &KnownVersions,
    ) -> Result<OrderPage, Self::Error> {
        // The same boundary as `changed_orders`: the puller's page call.
        let call =
            async { self.inner.changed_orders_skipping(window, cursor, known).await.map_err(SourceError::Client) };
        self.guard(&self.label, "changed_orders", call, SourceError::Injected, |_| {}).await
    }

    fn max_ids_per_call(&self) -> usize {
        self.inner.max_ids_per_call()
    }

    async fn orders_by_id(&self, ids: &[String]) -> Result<OrderPage, Self::Error> {
        let call = async { self.inner.orders_by_id(ids).await.map_err(SourceError::Client) };
        self.guard(&self.label, "orders_by_id", call, SourceError::Injected, |_| {}).await
    }

    async fn register_tracking(&self, order: &Order, tracking: &Tracking) -> Result<(), Self::Error> {
        let call = async { self.inner.register_tracking(order, tracking).await.map_err(SourceError::Client) };
        self.guard(&self.label, "register_tracking", call, SourceError::Injected, |_| {}).await
    }

    fn max_acks_per_call(&self) -> usize {
        self.inner.max_acks_per_call()
    }

    async fn acknowledge(&self, orders: &[Order], ship_by: NaiveDate) -> Result<Vec<Acknowledged>, Self::Error> {
        let call = async { self.inner.acknowledge(orders, ship_by).await.map_err(SourceError::Client) };
        self.guard(&self.label, "acknowledge", call, SourceError::Injected, |_| {}).await
    }

    fn credential_health(&self) -> Option<CredentialHealth> {
        self.inner.credential_health()
    }

    fn take_credential_update(&self) -> Option<CredentialUpdate> {
        self.inner.take_credential_update()
    }

    async fn credential_expiry(&self) -> Result<Vec<KnownExpiry>, Self::Error> {
        let call = async { self.inner.credential_expiry().await.map_err(SourceError::Client) };
        self.guard(&self.label, "credential_expiry", call, SourceError::Injected, |_| {}).await
    }
}

/// The outbox as the harness watches it: before each mail, what the store says of its order;
/// after, the message id the outbox gave it. Not a fault point (its [`Faulty`] wrapper is).
#[derive(Debug, Clone, Copy)]
pub struct Watched<'a> {
    /// The real outbox.
    pub outbox: &'a EmlOutbox,
    /// The store, read beside the pipeline (not through a fault wrapper: it is the harness's eye).
    pub store: &'a SqliteStore,
    /// Where deliveries are recorded.
    pub inj: &'a Injector,
}

/// The order and kind a mail's tags name.
pub fn tagged(mail: &OutgoingMail) -> Option<(OrderKey, MailKind)> {
    let tag = |name: &str| mail.tags.iter().find(|(n, _)| *n == name).map(|(_, v)| v.as_str());
    let kind = tag("kind")?.parse().ok()?;
    let marketplace = tag("marketplace")?.parse().ok()?;
    let key = OrderKey { shop_id: tag("shop")?.to_string(), marketplace, order_id: tag("order_id")?.to_string() };
    Some((key, kind))
}

impl Mailer for Watched<'_> {
    async fn send(&self, mail: &OutgoingMail) -> Result<String, SendError> {
        let key = tagged(mail);
        let status = match &key {
            Some((k, _)) => self.store.get(k).await.ok().flatten().map(|s| s.status),
            None => None,
        };
        let id = self.outbox.send(mail).await?;
        if let Some(key) = key {
            self.inj.delivered(key, id.clone(), status);
        }
        Ok(id)
    }
}

/// The embedded stand-in for a marketplace relay, as `ichigen demo` has it (crates/cli/src/relay.rs):
/// relay mail goes to the outbox from the registered sender, labelled.
#[derive(Debug, Clone, Copy)]
pub struct StandInRelays<M> {
    /// Where relay mail goes.
    pub mailer: M,
    /// The relay's registered sender.
    pub registered_from: &'static str,
}

impl<M: Mailer + Clone> RelayMailers for StandInRelays<M> {
    type Mailer = StandInRelays<M>;
    async fn relay(&self, _: &str, _: Marketplace) -> Result<Option<Self::Mailer>, PortError> {
        Ok(Some(self.clone()))
    }
}

impl<M: Mailer> Mailer for StandInRelays<M> {
    async fn send(&self, mail: &OutgoingMail) -> Result<String, SendError> {
        let mut mail = OutgoingMail { from: self.registered_from.to_string(), ..mail.clone() };
        mail.tags.push(("relay", "embedded-stand-in".to_string()));
        self.mailer.send(&mail).await
    }
}
