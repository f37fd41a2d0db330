//! The staff console's two ports: the order list (filtered pages by keyset, counts per tab) and
//! the audit log of staff actions. Adapters: `ichigen-local` (SQLite); the console crate drives
//! them together with the pipeline's ports.

use std::future::Future;

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};

use crate::finding::FindingCode;
use crate::order::{DeliveryMethod, Marketplace, PaymentMethod};
use crate::pipeline::{OrderKey, PortError, StoredOrder};
use crate::tab::ListTab;

/// Where a page of the list starts: after this order, newest first (ordered_at, then key).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListCursor {
    /// The last listed order's time.
    pub ordered_at: DateTime<FixedOffset>,
    /// Its marketplace.
    pub marketplace: Marketplace,
    /// Its order id.
    pub order_id: String,
}

/// Which orders a list page shows; the filters combine with AND.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OrderQuery {
    /// The tab (all tabs when `None`).
    pub tab: Option<ListTab>,
    /// One marketplace.
    pub marketplace: Option<Marketplace>,
    /// Ordered at or after.
    pub since: Option<DateTime<FixedOffset>>,
    /// Ordered before.
    pub until: Option<DateTime<FixedOffset>>,
    /// Has an item line of this SKU (exact).
    pub sku: Option<String>,
    /// Payment method.
    pub payment: Option<PaymentMethod>,
    /// Delivery method.
    pub delivery: Option<DeliveryMethod>,
    /// Has a finding with this code.
    pub finding: Option<FindingCode>,
    /// A destination in this prefecture.
    pub prefecture: Option<String>,
    /// Part of the order id, or of the buyer's name, kana or e-mail.
    pub text: Option<String>,
}

/// One page of the list.
#[derive(Debug, Clone, Default)]
pub struct OrderPage {
    /// The orders, newest first.
    pub orders: Vec<StoredOrder>,
    /// Where the next page starts; `None` on the last page.
    pub next: Option<ListCursor>,
}

/// The order list: pages that stay fast however many orders are stored.
pub trait OrderList: Send + Sync {
    /// Up to `limit` of the shop's orders matching `query`, newest first, after `after`.
    fn page(
        &self,
        shop_id: &str,
        query: &OrderQuery,
        after: Option<&ListCursor>,
        limit: usize,
    ) -> impl Future<Output = Result<OrderPage, PortError>> + Send;

    /// How many of the shop's orders each tab holds (tabs with none are left out).
    fn tab_counts(&self, shop_id: &str) -> impl Future<Output = Result<Vec<(ListTab, u64)>, PortError>> + Send;
}

/// One staff action, as the audit log keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// The shop.
    pub shop_id: String,
    /// When.
    pub at: DateTime<FixedOffset>,
    /// Who (the staff member's name).
    pub staff: String,
    /// What, as a stable code (`release`, `hold`, `blacklist_add` ...).
    pub action: String,
    /// The order it was about, if one.
    pub order: Option<OrderKey>,
    /// What exactly, in Japanese for staff (a hold's reason, the changed fields ...).
    pub detail: String,
}

/// Where staff actions are recorded.
pub trait AuditLog: Send + Sync {
    /// Records `entry`.
    fn record_action(&self, entry: &AuditEntry) -> impl Future<Output = Result<(), PortError>> + Send;

    /// The entries about one order, newest first.
    fn order_actions(&self, key: &OrderKey) -> impl Future<Output = Result<Vec<AuditEntry>, PortError>> + Send;

    /// The shop's latest `limit` entries, newest first.
    fn recent_actions(
        &self,
        shop_id: &str,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<AuditEntry>, PortError>> + Send;
}

/// One buyer or staff mail the ledger holds for an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerMail {
    /// Which mail.
    pub kind: crate::pipeline::MailKind,
    /// Sent (with the service's message id and time), or only claimed by a sender so far.
    pub message_id: Option<String>,
    /// When it was sent.
    pub sent_at: Option<DateTime<FixedOffset>>,
}

/// The mail ledger read back per order, for the order's mail history.
pub trait MailHistory: Send + Sync {
    /// The ledger entries of `key`.
    fn order_mails(&self, key: &OrderKey) -> impl Future<Output = Result<Vec<LedgerMail>, PortError>> + Send;
}

impl<T: OrderList + ?Sized> OrderList for &T {
    async fn page(
        &self,
        shop_id: &str,
        query: &OrderQuery,
        after: Option<&ListCursor>,
        limit: usize,
    ) -> Result<OrderPage, PortError> {
        (**self).page(shop_id, query, after, limit).await
    }
    async fn tab_counts(&self, shop_id: &str) -> Result<Vec<(ListTab, u64)>, PortError> {
        (**self).tab_counts(shop_id).await
    }
}

impl<T: AuditLog + ?Sized> AuditLog for &T {
    async fn record_action(&self, entry: &AuditEntry) -> Result<(), PortError> {
        (**self).record_action(entry).await
    }
    async fn order_actions(&self, key: &OrderKey) -> Result<Vec<AuditEntry>, PortError> {
        (**self).order_actions(key).await
    }
    async fn recent_actions(&self, shop_id: &str, limit: usize) -> Result<Vec<AuditEntry>, PortError> {
        (**self).recent_actions(shop_id, limit).await
    }
}

impl<T: MailHistory + ?Sized> MailHistory for &T {
    async fn order_mails(&self, key: &OrderKey) -> Result<Vec<LedgerMail>, PortError> {
        (**self).order_mails(key).await
    }
}
