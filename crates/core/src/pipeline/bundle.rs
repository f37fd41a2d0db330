//! 同梱: staff choose to ship orders to the same recipient in one box. The chosen orders keep
//! their own marketplace records; they share the lead order's label, slip and tracking number
//! (`labels::plan`, `tracking::import_tracking`).

use chrono::{DateTime, FixedOffset};

use crate::order::DeliveryMethod;

use super::ports::{OrderStore, PortError};
use super::shipping::{UpdateError, rewrite_order};
use super::stored::{OrderKey, StoredOrder};

/// Why orders cannot be shipped together (or apart again). Names orders by id, never buyer data.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    /// No such order.
    #[error("注文 {0} は保存されていません")]
    NotFound(OrderKey),
    /// An order into itself.
    #[error("注文 {0} を自分自身に同梱することはできません")]
    Itself(OrderKey),
    /// Shipped or cancelled.
    #[error("注文 {0} は出荷済みかキャンセル済みです")]
    Closed(OrderKey),
    /// The marketplace ships it (Amazon FBA).
    #[error("注文 {0} はモールが出荷する注文です")]
    ByMarketplace(OrderKey),
    /// Another shop's order.
    #[error("注文 {0} は別のショップの注文です")]
    OtherShop(OrderKey),
    /// Not the lead's recipient and address (the 同梱 check's key differs).
    #[error("注文 {0} のお届け先が同梱先の注文と異なります")]
    OtherDestination(OrderKey),
    /// A member with more than one destination.
    #[error("注文 {0} は送付先が複数あります(同梱できるのは送付先が1件の注文です)")]
    ManyDestinations(OrderKey),
    /// Another temperature, date or time slot than the lead.
    #[error("注文 {0} の{1}が同梱先の注文と異なります")]
    OtherDelivery(OrderKey, &'static str),
    /// Its label was already exported: one box would get two labels.
    #[error("注文 {0} は送り状データを出力済みです(同梱は出力前に決めてください)")]
    Printed(OrderKey),
    /// Already packed with another order, or the lead is itself packed with another.
    #[error("注文 {0} はすでに注文 {1} に同梱されています(先に ichigen orders unbundle で解除してください)")]
    AlreadyBundled(OrderKey, String),
    /// Not packed with any order.
    #[error("注文 {0} は同梱されていません")]
    NotBundled(OrderKey),
    /// A store call failed.
    #[error(transparent)]
    Port(#[from] PortError),
    /// The order kept changing under the write.
    #[error("注文 {0} が書き込み中に何度も変わりました。もう一度試してください")]
    Contended(OrderKey),
}

/// Packs `members` into `lead`'s parcel: each must be open, shipped by the shop, to the lead's
/// recipient and address (one destination), with the same temperature, date and time slot, and
/// without an exported label. Nothing is changed unless every member qualifies.
pub async fn bundle<S: OrderStore>(
    store: &S,
    lead: &OrderKey,
    members: &[OrderKey],
    now: DateTime<FixedOffset>,
) -> Result<Vec<StoredOrder>, BundleError> {
    let head = load(store, lead).await?;
    shippable(&head)?;
    if let Some(other) = &head.ship_with {
        return Err(BundleError::AlreadyBundled(lead.clone(), other.order_id.clone()));
    }
    for key in members {
        if key == lead {
            return Err(BundleError::Itself(key.clone()));
        }
        if key.shop_id != lead.shop_id {
            return Err(BundleError::OtherShop(key.clone()));
        }
        let m = load(store, key).await?;
        qualifies(&head, &m)?;
    }
    let mut out = Vec::with_capacity(members.len());
    for key in members {
        let lead = lead.clone();
        out.push(
            rewrite_order::<_, BundleError>(store, key, now, |s| {
                // Checked again on the copy being written: it may have changed since.
                qualifies(&head, s)?;
                s.ship_with = Some(lead.clone());
                Ok(())
            })
            .await?,
        );
    }
    Ok(out)
}

/// Ships `key` on its own again.
pub async fn unbundle<S: OrderStore>(
    store: &S,
    key: &OrderKey,
    now: DateTime<FixedOffset>,
) -> Result<StoredOrder, BundleError> {
    rewrite_order::<_, BundleError>(store, key, now, |s| {
        if s.ship_with.take().is_none() {
            return Err(BundleError::NotBundled(s.key()));
        }
        Ok(())
    })
    .await
}

async fn load<S: OrderStore>(store: &S, key: &OrderKey) -> Result<StoredOrder, BundleError> {
    store.get(key).await?.ok_or_else(|| BundleError::NotFound(key.clone()))
}

/// Whether the shop ships the order and has not exported its first parcel's label yet.
fn shippable(s: &StoredOrder) -> Result<(), BundleError> {
    let key = s.key();
    if !s.order.status.is_open() {
        return Err(BundleError::Closed(key));
    }
    if s.order.fulfilled_by_marketplace {
        return Err(BundleError::ByMarketplace(key));
    }
    if s.parcels.iter().any(|p| p.destination == 1 && (p.printed.is_some() || p.tracking.is_some())) {
        return Err(BundleError::Printed(key));
    }
    Ok(())
}

/// Whether `m` can travel in `lead`'s first parcel.
fn qualifies(lead: &StoredOrder, m: &StoredOrder) -> Result<(), BundleError> {
    let key = m.key();
    shippable(m)?;
    if let Some(other) = m.ship_with.as_ref().filter(|o| **o != lead.key()) {
        return Err(BundleError::AlreadyBundled(key, other.order_id.clone()));
    }
    if m.order.destinations().count() != 1 {
        return Err(BundleError::ManyDestinations(key));
    }
    if m.bundle_key.is_none() || m.bundle_key != lead.bundle_key {
        return Err(BundleError::OtherDestination(key));
    }
    let (a, b) = (&lead.order.delivery, &m.order.delivery);
    let cool = |d: DeliveryMethod| matches!(d, DeliveryMethod::Cool | DeliveryMethod::Frozen).then_some(d);
    if cool(a.method) != cool(b.method) {
        return Err(BundleError::OtherDelivery(key, "温度帯"));
    }
    if (a.requested_date, a.requested_time_slot.as_deref().map(str::trim))
        != (b.requested_date, b.requested_time_slot.as_deref().map(str::trim))
    {
        return Err(BundleError::OtherDelivery(key, "お届け希望日時"));
    }
    Ok(())
}

impl UpdateError for BundleError {
    fn not_found(key: &OrderKey) -> Self {
        BundleError::NotFound(key.clone())
    }
    fn contended(key: &OrderKey) -> Self {
        BundleError::Contended(key.clone())
    }
}
