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
use crate::text::compact_key;

/// Separates the values of a multi-valued list column; a value is searched with the separator on
/// both sides ([`list_needle`]), so `A` never matches inside `AB`.
pub const LIST_SEP: char = '\u{1f}';

/// The searched columns of one order, as every store adapter keeps them beside the record so
/// that the list filters without decoding records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListColumns {
    /// The order's tab.
    pub tab: ListTab,
    /// The payment method's wire name.
    pub payment: String,
    /// The delivery method's wire name.
    pub delivery: String,
    /// Every destination's prefecture, joined by [`LIST_SEP`].
    pub prefectures: String,
    /// Every item line's SKU, joined by [`LIST_SEP`].
    pub skus: String,
    /// Every finding's code, joined by [`LIST_SEP`].
    pub findings: String,
    /// Order id, buyer name, kana and e-mail, each as `compact_key` (width, case and spaces
    /// ignored), joined by [`LIST_SEP`].
    pub search: String,
}

/// The serde wire name of a unit enum value (`cod`, `takkyubin` ...); empty for anything else.
pub fn wire_name<T: Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => s,
        _ => String::new(),
    }
}

fn joined<'a>(values: impl Iterator<Item = &'a str>) -> String {
    let mut out = String::from(LIST_SEP);
    for v in values {
        out.push_str(v);
        out.push(LIST_SEP);
    }
    out
}

/// What a joined column contains when one of its values is exactly `value`.
pub fn list_needle(value: &str) -> String {
    format!("{LIST_SEP}{value}{LIST_SEP}")
}

/// The text filter as the `search` column holds text (`None` when nothing is left to search).
pub fn search_needle(text: &str) -> Option<String> {
    Some(compact_key(text)).filter(|s| !s.is_empty())
}

impl ListColumns {
    /// The columns of `s`.
    pub fn of(s: &StoredOrder) -> ListColumns {
        let o = &s.order;
        let b = &o.buyer;
        let texts = [Some(o.order_id.as_str()), Some(b.name.as_str()), b.name_kana.as_deref(), b.email.as_deref()];
        let search: Vec<String> = texts.into_iter().flatten().map(compact_key).collect();
        ListColumns {
            tab: ListTab::of(s),
            payment: wire_name(&o.payment_method),
            delivery: wire_name(&o.delivery.method),
            prefectures: joined(o.destinations().map(|d| d.prefecture.trim())),
            skus: joined(o.items.iter().map(|i| i.sku.as_str())),
            findings: joined(s.findings.iter().map(|f| f.code.as_str())),
            search: joined(search.iter().map(String::as_str)),
        }
    }
}

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

/// A signed-in staff member's session, kept by a [`SessionStore`] under a key derived from the
/// session cookie (the cookie itself is never stored).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffSession {
    /// Who: the name recorded with each action.
    pub staff: String,
    /// The token every form of this session carries (CSRF).
    pub csrf: String,
    /// When the session ends, Unix seconds.
    pub expires_at: i64,
    /// A message for the next page (after a redirect).
    pub flash: Option<String>,
}

/// A boxed future of a port call: [`SessionStore`] is used as a trait object, so the console's
/// two homes (sessions in the process, sessions in the table) share one router type.
pub type PortFuture<'a, T> = std::pin::Pin<Box<dyn Future<Output = Result<T, PortError>> + Send + 'a>>;

/// Where staff sessions are kept.
pub trait SessionStore: Send + Sync {
    /// Keeps `session` under `key` (replacing what was there).
    fn put_session<'a>(&'a self, key: &'a str, session: &'a StaffSession) -> PortFuture<'a, ()>;

    /// The live session under `key` (`None` when there is none or it ended by `now`, Unix seconds).
    fn session<'a>(&'a self, key: &'a str, now: i64) -> PortFuture<'a, Option<StaffSession>>;

    /// Ends the session under `key`.
    fn end_session<'a>(&'a self, key: &'a str) -> PortFuture<'a, ()>;
}
