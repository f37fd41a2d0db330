//! Every port, implemented for a shared reference to an implementation: one adapter value can
//! then serve several use cases (a store is the order store, the directory and the ledger).

use chrono::{DateTime, FixedOffset};

use crate::order::{Marketplace, OrderStatus};
use crate::rules::BlacklistEntry;

use super::bounce::MailEvent;
use super::mail::{MailJob, MailKey, OutgoingMail};
use super::ports::{
    Claim, Consumer, Delivery, MailEvents, MailLedger, Mailer, OrderStore, ParkedMail, PortError, Quarantine, Queue,
    Rejected, RelayDirectory, RelayMailers, SendError, ShopDirectory, WatermarkStore, Written,
};
use super::route::RelaySettings;
use super::shop::ShopSettings;
use super::stored::{OrderKey, StoredOrder, Watermark};

impl<T: OrderStore + ?Sized> OrderStore for &T {
    async fn get(&self, key: &OrderKey) -> Result<Option<StoredOrder>, PortError> {
        (**self).get(key).await
    }
    async fn put(&self, order: &StoredOrder, expected: Option<u64>) -> Result<Written, PortError> {
        (**self).put(order, expected).await
    }
    async fn bundle_mates(&self, shop_id: &str, bundle_key: &str) -> Result<Vec<OrderKey>, PortError> {
        (**self).bundle_mates(shop_id, bundle_key).await
    }
    async fn list_by_status(
        &self,
        shop_id: &str,
        status: OrderStatus,
        since: Option<DateTime<FixedOffset>>,
        until: Option<DateTime<FixedOffset>>,
    ) -> Result<Vec<StoredOrder>, PortError> {
        (**self).list_by_status(shop_id, status, since, until).await
    }
}

impl<T: WatermarkStore + ?Sized> WatermarkStore for &T {
    async fn get_watermark(&self, shop_id: &str, marketplace: Marketplace) -> Result<Option<Watermark>, PortError> {
        (**self).get_watermark(shop_id, marketplace).await
    }
    async fn put_watermark(&self, mark: &Watermark, expected: Option<u64>) -> Result<Written, PortError> {
        (**self).put_watermark(mark, expected).await
    }
    async fn take_lease(
        &self,
        shop_id: &str,
        marketplace: Marketplace,
        holder: &str,
        now: DateTime<FixedOffset>,
        until: DateTime<FixedOffset>,
    ) -> Result<bool, PortError> {
        (**self).take_lease(shop_id, marketplace, holder, now, until).await
    }
    async fn end_lease(&self, shop_id: &str, marketplace: Marketplace, holder: &str) -> Result<(), PortError> {
        (**self).end_lease(shop_id, marketplace, holder).await
    }
}

impl<T: ShopDirectory + ?Sized> ShopDirectory for &T {
    async fn shop(&self, shop_id: &str) -> Result<Option<ShopSettings>, PortError> {
        (**self).shop(shop_id).await
    }
    async fn put_shop(&self, settings: &ShopSettings) -> Result<(), PortError> {
        (**self).put_shop(settings).await
    }
    async fn blacklist(&self, shop_id: &str) -> Result<Vec<(String, BlacklistEntry)>, PortError> {
        (**self).blacklist(shop_id).await
    }
    async fn add_blacklisted(&self, shop_id: &str, entry: &BlacklistEntry) -> Result<String, PortError> {
        (**self).add_blacklisted(shop_id, entry).await
    }
    async fn remove_blacklisted(&self, shop_id: &str, id: &str) -> Result<bool, PortError> {
        (**self).remove_blacklisted(shop_id, id).await
    }
}

impl<T: MailLedger + ?Sized> MailLedger for &T {
    async fn claim(
        &self,
        key: &MailKey,
        now: DateTime<FixedOffset>,
        lease_until: DateTime<FixedOffset>,
    ) -> Result<Claim, PortError> {
        (**self).claim(key, now, lease_until).await
    }
    async fn mark_sent(
        &self,
        key: &MailKey,
        message_id: &str,
        sent_at: DateTime<FixedOffset>,
    ) -> Result<(), PortError> {
        (**self).mark_sent(key, message_id, sent_at).await
    }
    async fn release(&self, key: &MailKey) -> Result<(), PortError> {
        (**self).release(key).await
    }
}

impl<M: Sync, T: Queue<M> + ?Sized> Queue<M> for &T {
    async fn send_all(&self, messages: &[M]) -> Result<(), PortError> {
        (**self).send_all(messages).await
    }
}

impl<T: Quarantine + ?Sized> Quarantine for &T {
    async fn quarantine(&self, rejected: &[Rejected]) -> Result<(), PortError> {
        (**self).quarantine(rejected).await
    }
}

impl<T: Mailer + ?Sized> Mailer for &T {
    async fn send(&self, mail: &OutgoingMail) -> Result<String, SendError> {
        (**self).send(mail).await
    }
}

impl<T: Mailer + ?Sized> Mailer for std::sync::Arc<T> {
    async fn send(&self, mail: &OutgoingMail) -> Result<String, SendError> {
        (**self).send(mail).await
    }
}

impl<T: RelayMailers + ?Sized> RelayMailers for &T {
    type Mailer = T::Mailer;
    async fn relay(&self, shop_id: &str, marketplace: Marketplace) -> Result<Option<T::Mailer>, PortError> {
        (**self).relay(shop_id, marketplace).await
    }
}

impl<T: RelayDirectory + ?Sized> RelayDirectory for &T {
    async fn relay_settings(
        &self,
        shop_id: &str,
        marketplace: Marketplace,
    ) -> Result<Option<RelaySettings>, PortError> {
        (**self).relay_settings(shop_id, marketplace).await
    }
}

impl<T: ParkedMail + ?Sized> ParkedMail for &T {
    async fn park(&self, job: &MailJob, at: DateTime<FixedOffset>) -> Result<bool, PortError> {
        (**self).park(job, at).await
    }
    async fn parked(&self, shop_id: &str, marketplace: Marketplace, limit: usize) -> Result<Vec<MailJob>, PortError> {
        (**self).parked(shop_id, marketplace, limit).await
    }
    async fn unpark(&self, job: &MailJob) -> Result<(), PortError> {
        (**self).unpark(job).await
    }
    async fn clear_waiting(&self, shop_id: &str, marketplace: Marketplace) -> Result<(), PortError> {
        (**self).clear_waiting(shop_id, marketplace).await
    }
}

impl<T: MailEvents + ?Sized> MailEvents for &T {
    async fn record_event(&self, event: &MailEvent) -> Result<(), PortError> {
        (**self).record_event(event).await
    }
    async fn events(&self, shop_id: &str) -> Result<Vec<MailEvent>, PortError> {
        (**self).events(shop_id).await
    }
    async fn is_suppressed(&self, shop_id: &str, address: &str) -> Result<bool, PortError> {
        (**self).is_suppressed(shop_id, address).await
    }
}

impl<T: super::shipping::TrackingWrites + ?Sized> super::shipping::TrackingWrites for &T {
    async fn get_writes(
        &self,
        shop_id: &str,
        marketplace: Marketplace,
    ) -> Result<Option<super::shipping::PendingWrites>, PortError> {
        (**self).get_writes(shop_id, marketplace).await
    }
    async fn put_writes(
        &self,
        writes: &super::shipping::PendingWrites,
        expected: Option<u64>,
    ) -> Result<Written, PortError> {
        (**self).put_writes(writes, expected).await
    }
}

impl<M: Sync, T: Consumer<M> + ?Sized> Consumer<M> for &T {
    async fn take(&self, limit: usize) -> Result<Vec<Delivery<M>>, PortError> {
        (**self).take(limit).await
    }
    async fn ack(&self, receipt: &str) -> Result<(), PortError> {
        (**self).ack(receipt).await
    }
    async fn fail(&self, receipt: &str, reason: &str) -> Result<(), PortError> {
        (**self).fail(receipt, reason).await
    }
    async fn dead_letter(&self, receipt: &str, reason: &str) -> Result<(), PortError> {
        (**self).dead_letter(receipt, reason).await
    }
    async fn put_back(&self, receipt: &str, wait: std::time::Duration, reason: &str) -> Result<(), PortError> {
        (**self).put_back(receipt, wait, reason).await
    }
}

impl<T: crate::stock::StockStore + ?Sized> crate::stock::StockStore for &T {
    async fn stocks(&self, shop_id: &str) -> Result<Vec<crate::stock::Stock>, PortError> {
        (**self).stocks(shop_id).await
    }
    async fn count(
        &self,
        shop_id: &str,
        sku: &str,
        name: Option<&str>,
        count: crate::stock::Count,
        by: &crate::stock::Edit<'_>,
    ) -> Result<crate::stock::Stock, PortError> {
        (**self).count(shop_id, sku, name, count, by).await
    }
    async fn listings(&self, shop_id: &str) -> Result<Vec<crate::stock::Listing>, PortError> {
        (**self).listings(shop_id).await
    }
    async fn put_listing(&self, shop_id: &str, listing: &crate::stock::Listing) -> Result<(), PortError> {
        (**self).put_listing(shop_id, listing).await
    }
    async fn apply_holding(
        &self,
        order: &OrderKey,
        next: &crate::stock::Holding,
        at: DateTime<FixedOffset>,
    ) -> Result<Vec<crate::stock::StockChange>, PortError> {
        (**self).apply_holding(order, next, at).await
    }
    async fn changes(
        &self,
        shop_id: &str,
        sku: &str,
        limit: usize,
    ) -> Result<Vec<crate::stock::StockChange>, PortError> {
        (**self).changes(shop_id, sku, limit).await
    }
    async fn put_ledger(&self, shop_id: &str, ledger: &crate::stock::Stock) -> Result<bool, PortError> {
        (**self).put_ledger(shop_id, ledger).await
    }
    async fn push_state(
        &self,
        shop_id: &str,
        marketplace: crate::order::Marketplace,
    ) -> Result<Option<crate::stock::push::PushState>, PortError> {
        (**self).push_state(shop_id, marketplace).await
    }
    async fn put_push_state(
        &self,
        state: &crate::stock::push::PushState,
        expected: Option<u64>,
    ) -> Result<super::Written, PortError> {
        (**self).put_push_state(state, expected).await
    }
}
