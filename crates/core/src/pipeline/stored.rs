//! What the store keeps: an order with its check results, staff decision and pending mails, and
//! the per shop × marketplace watermark.

use std::collections::BTreeMap;

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::finding::Finding;
use crate::marketplace::Policies;
use crate::order::{Marketplace, Order, OrderStatus};

use super::mail::MailKind;

/// Identifies one order: shop, marketplace and the marketplace's order id.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct OrderKey {
    /// The ichigen shop.
    pub shop_id: String,
    /// The marketplace.
    pub marketplace: Marketplace,
    /// The marketplace's order id.
    pub order_id: String,
}

impl OrderKey {
    /// The key of `order`.
    pub fn of(order: &Order) -> OrderKey {
        OrderKey { shop_id: order.shop_id.clone(), marketplace: order.marketplace, order_id: order.order_id.clone() }
    }
}

impl std::fmt::Display for OrderKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}/{}", self.shop_id, self.marketplace, self.order_id)
    }
}

/// A decision staff made on an order, which later pulls keep.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum StaffDecision {
    /// None yet: the checks decide.
    #[default]
    None,
    /// Staff looked and let it go: hold findings no longer hold it (until address or items change).
    Released {
        /// When.
        at: DateTime<FixedOffset>,
    },
    /// Staff held it by hand.
    Held {
        /// Why, in staff's words.
        reason: String,
        /// When.
        at: DateTime<FixedOffset>,
    },
}

/// An order as stored, with everything the processor decided about it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredOrder {
    /// The order as the marketplace last sent it.
    pub order: Order,
    /// Effective status: `on_hold` while a hold finding or staff holds an open order.
    pub status: OrderStatus,
    /// Findings of the last check.
    pub findings: Vec<Finding>,
    /// What staff decided.
    #[serde(default)]
    pub staff: StaffDecision,
    /// Mails decided but not yet confirmed on the mail queue (a transactional outbox).
    #[serde(default)]
    pub mails_due: Vec<MailKind>,
    /// How many times the order became held: each hold is a new staff alert in the mail ledger
    /// ([`super::mail::MailKey`]). 0 for orders never held (or held before this was counted).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub hold_episode: u32,
    /// The shop's shipping of each destination (label exported, tracking number, written back);
    /// destinations nothing was done with have no entry.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parcels: Vec<super::shipping::ParcelShipping>,
    /// 同梱: staff chose to ship this order in the parcel of that order (its lead), whose label,
    /// slip and tracking number it shares.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ship_with: Option<OrderKey>,
    /// Where the shop's acknowledgement of the order stands (楽天 注文確認, Qoo10 seller check);
    /// `None` while none is due (the marketplace expects none, or the order is held).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acknowledgement: Option<super::acknowledge::Acknowledgement>,
    /// Fingerprint of the whole order: equal means a replay.
    pub content_fp: String,
    /// Fingerprint of what the checks read that a later update may change (destinations, items,
    /// buyer, payment, delivery, remarks): equal means no re-check.
    pub check_fp: String,
    /// Hashed buyer + destination key while the order is open and ours to ship (同梱 lookup); the
    /// hash keeps names and addresses out of index keys.
    pub bundle_key: Option<String>,
    /// Revision, incremented by each write; conditional writes compare it.
    pub rev: u64,
    /// When the processor last wrote it.
    pub stored_at: DateTime<FixedOffset>,
    /// When the store may delete it (personal data retention), as Unix seconds.
    pub expires_at: Option<i64>,
}

impl StoredOrder {
    /// The order's key.
    pub fn key(&self) -> OrderKey {
        OrderKey::of(&self.order)
    }

    /// Whether a hold (finding or staff) keeps it from the buyer mails.
    pub fn is_held(&self) -> bool {
        self.status == OrderStatus::OnHold
    }

    /// Why no buyer mail may go out for the order as it is now, if none may: its marketplace
    /// forbids them or ships the order itself (Amazon, AFN), it is cancelled, or it is held. The
    /// one decision the processor (which mails to queue) and the notifier (whether to send a
    /// queued one) both take.
    pub fn buyer_mail_barred(&self, policies: &Policies) -> Option<&'static str> {
        if !policies.buyer_mail_allowed(&self.order) {
            Some("the marketplace forbids buyer mail, or ships the order itself")
        } else if self.status == OrderStatus::Cancelled {
            Some("cancelled")
        } else if self.is_held() {
            Some("held")
        } else {
            None
        }
    }

    /// Counts a new hold episode when this record (the next one after `prev`) is held and `prev`
    /// was not.
    pub(crate) fn count_hold(&mut self, prev: Option<&StoredOrder>) {
        let before = prev.map_or(self.hold_episode, |p| p.hold_episode);
        let became_held = self.is_held() && !prev.is_some_and(StoredOrder::is_held);
        self.hold_episode = if became_held { before.saturating_add(1) } else { before };
    }
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// SHA-256 of the order's canonical JSON, hex.
pub fn content_fingerprint(order: &Order) -> String {
    let json = serde_json::to_vec(order).unwrap_or_default();
    hex(&Sha256::digest(&json))
}

/// SHA-256 of the parts the checks read and staff decisions rest on, hex. A change of status,
/// tracking or `source_updated_at` alone leaves it unchanged.
pub fn check_fingerprint(order: &Order) -> String {
    let parts = serde_json::json!([
        order.buyer,
        order.ship_to,
        order.shipments,
        order.items,
        order.payment_method,
        order.delivery,
        order.remarks,
    ]);
    hex(&Sha256::digest(parts.to_string().as_bytes()))
}

/// SHA-256 of `text`, hex: how bundle keys are kept out of plain sight.
pub fn hashed(text: &str) -> String {
    hex(&Sha256::digest(text.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// Where a shop × marketplace pull stands.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Watermark {
    /// The shop.
    pub shop_id: String,
    /// The marketplace.
    pub marketplace: Marketplace,
    /// Every order changed before this instant is on the orders queue.
    pub pulled_to: DateTime<FixedOffset>,
    /// A window started but not finished (the last run stopped at its deadline).
    pub pending: Option<PendingWindow>,
    /// Orders the marketplace listed but did not return, with the runs that asked for them
    /// since: read again by id on the next pull.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub retry: BTreeMap<String, u32>,
    /// When the pair's open orders were last all read again by id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reconciled_at: Option<DateTime<FixedOffset>>,
    /// The last order id read again in a reconcile pass that the deadline cut; the next run
    /// goes on after it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reconcile_after: Option<String>,
    /// Orders queued with the marketplace time of the version queued, kept while that time is
    /// inside the overlap: a client whose search lists versions before it reads orders skips
    /// reading one of these again ([`super::source::OrderSource::changed_orders_skipping`]).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub recent: BTreeMap<String, DateTime<FixedOffset>>,
    /// A digest of the order as last queued, for the orders in [`Watermark::recent`]: the
    /// overlap finds the same orders again every run, and one found exactly as queued is not
    /// queued again (the processor would find it unchanged; it would only delay the new orders
    /// queued behind it).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub queued: BTreeMap<String, String>,
    /// Revision, incremented by each write.
    pub rev: u64,
    /// When it was last written.
    pub updated_at: DateTime<FixedOffset>,
}

/// A window under way: resume at `cursor`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingWindow {
    /// Inclusive start.
    pub from: DateTime<FixedOffset>,
    /// Exclusive end.
    pub to: DateTime<FixedOffset>,
    /// Where the next page starts (`None`: the first page).
    pub cursor: Option<String>,
    /// Pages already queued in this window (for logs).
    pub pages_done: u32,
}
