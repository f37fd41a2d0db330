//! The shop's side of shipping, beside the marketplace's status: each parcel (one destination of
//! an order) goes 出荷待ち → 印刷済 (label data exported) → 出荷済 (tracking number known) →
//! 反映済 (the marketplace accepted the number). Recording a number queues its write-back in the
//! pair's durable [`PendingWrites`]; the pair's puller drains them (`super::pull`).

use std::future::Future;

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};

use crate::carrier::{tracking_digits, tracking_number_valid};
use crate::order::{Marketplace, OrderStatus, Tracking};
use crate::stock::StockStore;
use crate::stock::holding::Catalogue;

use super::holdings;
use super::mail::{MailKind, carrier_name};
use super::ports::{MailQueue, OrderStore, PortError, Written};
use super::process::flush_mails;
use super::stored::{OrderKey, StoredOrder, content_fingerprint};

/// How often a read-modify-write of an order or a pair's pending writes is tried against others.
const WRITE_ATTEMPTS: usize = 6;

/// Where a parcel stands on the shop's side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShipState {
    /// 出荷待ち: ready to ship, no label data exported yet.
    Ready,
    /// 印刷済: label data exported.
    Printed,
    /// 出荷済: the tracking number is known; the write-back to the marketplace is pending.
    Shipped,
    /// 反映済: the marketplace accepted the tracking number.
    Reflected,
}

impl ShipState {
    /// Every state, in order.
    pub const ALL: [ShipState; 4] = [ShipState::Ready, ShipState::Printed, ShipState::Shipped, ShipState::Reflected];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            ShipState::Ready => "ready",
            ShipState::Printed => "printed",
            ShipState::Shipped => "shipped",
            ShipState::Reflected => "reflected",
        }
    }

    /// The name staff see.
    pub fn label(self) -> &'static str {
        match self {
            ShipState::Ready => "出荷待ち",
            ShipState::Printed => "印刷済",
            ShipState::Shipped => "出荷済",
            ShipState::Reflected => "反映済",
        }
    }
}

impl std::fmt::Display for ShipState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for ShipState {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ShipState::ALL.into_iter().find(|st| st.as_str() == s || st.label() == s).ok_or_else(|| {
            format!("unknown shipping state {s:?} (ready/出荷待ち, printed/印刷済, shipped/出荷済, reflected/反映済)")
        })
    }
}

/// What the shop did with one parcel (one destination of the order).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParcelShipping {
    /// 1-based destination number, as in the parcel's お客様管理番号.
    pub destination: usize,
    /// When its label data was last exported, and for which program.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub printed: Option<Printed>,
    /// When its 納品書 was last printed (`ichigen print slips`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slip_printed: Option<DateTime<FixedOffset>>,
    /// Its tracking number, once known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracking: Option<Tracking>,
    /// When the marketplace accepted the number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reflected_at: Option<DateTime<FixedOffset>>,
    /// Why the marketplace refused the number for good (staff must act); `None` otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub write_failed: Option<String>,
}

/// A label data export of a parcel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Printed {
    /// When.
    pub at: DateTime<FixedOffset>,
    /// The program's name (`B2クラウド` ...).
    pub program: String,
}

impl ParcelShipping {
    /// A parcel nothing was done with yet.
    pub fn new(destination: usize) -> ParcelShipping {
        ParcelShipping {
            destination,
            printed: None,
            slip_printed: None,
            tracking: None,
            reflected_at: None,
            write_failed: None,
        }
    }

    /// Its state: 印刷済 once its label data was exported or its 納品書 printed.
    pub fn state(&self) -> ShipState {
        let paper = self.printed.is_some() || self.slip_printed.is_some();
        match (&self.tracking, self.reflected_at, paper) {
            (Some(_), Some(_), _) => ShipState::Reflected,
            (Some(_), None, _) => ShipState::Shipped,
            (None, _, true) => ShipState::Printed,
            (None, _, false) => ShipState::Ready,
        }
    }
}

impl StoredOrder {
    /// The record of destination `destination`, if anything was done with it.
    pub fn parcel(&self, destination: usize) -> Option<&ParcelShipping> {
        self.parcels.iter().find(|p| p.destination == destination)
    }

    /// The record of destination `destination`, made when missing.
    pub fn parcel_mut(&mut self, destination: usize) -> &mut ParcelShipping {
        let at = match self.parcels.iter().position(|p| p.destination == destination) {
            Some(at) => at,
            None => {
                self.parcels.push(ParcelShipping::new(destination));
                self.parcels.sort_by_key(|p| p.destination);
                self.parcels.iter().position(|p| p.destination == destination).unwrap_or(0)
            }
        };
        &mut self.parcels[at]
    }

    /// The order's shipping state: that of its least advanced parcel. `None` when shipping is not
    /// the shop's business now: the marketplace ships it (Amazon FBA), or it is not ready to ship
    /// (held, unpaid, cancelled, shipped outside ichigen) and nothing was done with it yet.
    pub fn ship_state(&self) -> Option<ShipState> {
        if self.order.fulfilled_by_marketplace {
            return None;
        }
        if self.parcels.is_empty() && !matches!(self.status, OrderStatus::New | OrderStatus::ReadyToShip) {
            return None;
        }
        (1..=self.order.destinations().count()).map(|d| self.parcel(d).map_or(ShipState::Ready, |p| p.state())).min()
    }

    /// The `shipment_id` (楽天 basketId) of destination `destination` of a multi-destination order.
    pub fn shipment_id(&self, destination: usize) -> Option<String> {
        self.order.shipments.get(destination.checked_sub(1)?).and_then(|s| s.shipment_id.clone())
    }
}

/// Whether two tracking records name the same parcel number of the same carrier.
pub fn same_number(a: &Tracking, b: &Tracking) -> bool {
    a.carrier == b.carrier && normal_number(&a.number) == normal_number(&b.number)
}

/// A number as compared: digits only where the carrier prints digits, else trimmed.
fn normal_number(number: &str) -> String {
    let digits = tracking_digits(number);
    if digits.is_empty() { number.trim().to_string() } else { digits }
}

/// One tracking number to register on the marketplace.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrackingWrite {
    /// The order.
    pub order: OrderKey,
    /// 1-based destination.
    pub destination: usize,
    /// What to register (`shipment_id` set for a multi-destination order).
    pub tracking: Tracking,
    /// When it was queued.
    pub queued_at: DateTime<FixedOffset>,
    /// Tries that failed in a way that may pass.
    #[serde(default)]
    pub attempts: u32,
    /// The last retryable failure (marketplace code and field names, never buyer data).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
}

impl TrackingWrite {
    /// Whether `other` is the same write (order, destination, number).
    pub fn same(&self, other: &TrackingWrite) -> bool {
        self.order == other.order
            && self.destination == other.destination
            && same_number(&self.tracking, &other.tracking)
    }
}

/// A write the marketplace refused for good, kept for staff.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FailedWrite {
    /// The write.
    pub write: TrackingWrite,
    /// Why (the marketplace's code and message as the client shows them).
    pub reason: String,
    /// When it was given up.
    pub failed_at: DateTime<FixedOffset>,
}

/// A shop × marketplace pair's tracking numbers waiting to be registered, and those refused.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PendingWrites {
    /// The shop.
    pub shop_id: String,
    /// The marketplace.
    pub marketplace: Marketplace,
    /// Waiting, oldest first.
    #[serde(default)]
    pub writes: Vec<TrackingWrite>,
    /// Refused for good, oldest first: shown to staff until they deal with them.
    #[serde(default)]
    pub failed: Vec<FailedWrite>,
    /// Orders to acknowledge on the marketplace, oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub acks: Vec<super::acknowledge::AckWrite>,
    /// Revision, incremented by each write.
    pub rev: u64,
    /// When it was last written.
    pub updated_at: DateTime<FixedOffset>,
}

impl PendingWrites {
    /// An empty record of a pair.
    pub fn empty(shop_id: &str, marketplace: Marketplace, now: DateTime<FixedOffset>) -> PendingWrites {
        PendingWrites {
            shop_id: shop_id.to_string(),
            marketplace,
            writes: Vec::new(),
            failed: Vec::new(),
            acks: Vec::new(),
            rev: 0,
            updated_at: now,
        }
    }
}

/// Where each pair's pending tracking writes are kept (one record per pair, written conditionally).
pub trait TrackingWrites: Send + Sync {
    /// The pair's record, if any.
    fn get_writes(
        &self,
        shop_id: &str,
        marketplace: Marketplace,
    ) -> impl Future<Output = Result<Option<PendingWrites>, PortError>> + Send;

    /// Writes `writes` if the stored revision is still `expected` (`None`: nothing stored yet).
    fn put_writes(
        &self,
        writes: &PendingWrites,
        expected: Option<u64>,
    ) -> impl Future<Output = Result<Written, PortError>> + Send;
}

/// Changes the pair's record with `change` (read, change, conditional write, again on a race).
pub async fn update_writes<T: TrackingWrites>(
    store: &T,
    shop_id: &str,
    marketplace: Marketplace,
    now: DateTime<FixedOffset>,
    mut change: impl FnMut(&mut PendingWrites),
) -> Result<PendingWrites, PortError> {
    for _ in 0..WRITE_ATTEMPTS {
        let stored = store.get_writes(shop_id, marketplace).await?;
        let expected = stored.as_ref().map(|w| w.rev);
        let mut next = stored.unwrap_or_else(|| PendingWrites::empty(shop_id, marketplace, now));
        let before = next.clone();
        change(&mut next);
        if next == before && expected.is_some() {
            return Ok(next);
        }
        next.rev = expected.map_or(1, |r| r + 1);
        next.updated_at = now;
        if store.put_writes(&next, expected).await? == Written::Yes {
            return Ok(next);
        }
    }
    Err(PortError::retryable("update pending tracking writes", "the record kept changing under the write"))
}

/// Why a tracking number was not recorded. Names orders by id and fields by name only.
#[derive(Debug, thiserror::Error)]
pub enum ShipError {
    /// No such order.
    #[error("注文 {0} はありません")]
    NotFound(OrderKey),
    /// The order has no such destination.
    #[error("注文 {order} に送付先{destination}はありません")]
    NoDestination {
        /// The order.
        order: OrderKey,
        /// The destination asked for.
        destination: usize,
    },
    /// The marketplace ships it itself, or it is cancelled.
    #[error("注文 {0} はショップから出荷する注文ではありません(キャンセル済、またはモールが出荷)")]
    NotOurs(OrderKey),
    /// The number fails the carrier's format or check digit.
    #[error("伝票番号が{carrier}の番号として正しくありません(桁数またはチェックディジット)")]
    InvalidNumber {
        /// The carrier's name.
        carrier: &'static str,
    },
    /// The parcel already has another number.
    #[error("注文 {order} の送付先{destination}には別の伝票番号が登録済みです")]
    OtherNumber {
        /// The order.
        order: OrderKey,
        /// The destination.
        destination: usize,
    },
    /// A store call failed.
    #[error(transparent)]
    Port(#[from] PortError),
    /// The order kept changing under the write.
    #[error("注文 {0} の更新が他の処理と重なり続けました。もう一度実行してください")]
    Contended(OrderKey),
}

/// What recording one number did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    /// The parcel is now 出荷済 and its write-back is queued.
    Shipped,
    /// The parcel already had this number: nothing changed (its write-back is queued if still due).
    Unchanged,
}

/// Checks that `tracking` can be recorded on destination `destination` of `stored`, without writing.
pub fn check_recordable(stored: &StoredOrder, destination: usize, tracking: &Tracking) -> Result<Recorded, ShipError> {
    let key = stored.key();
    if stored.order.fulfilled_by_marketplace || stored.order.status == OrderStatus::Cancelled {
        return Err(ShipError::NotOurs(key));
    }
    if destination == 0 || destination > stored.order.destinations().count() {
        return Err(ShipError::NoDestination { order: key, destination });
    }
    if !tracking_number_valid(tracking.carrier, &tracking.number) {
        return Err(ShipError::InvalidNumber { carrier: carrier_name(tracking.carrier) });
    }
    match stored.parcel(destination).and_then(|p| p.tracking.as_ref()) {
        Some(known) if same_number(known, tracking) => Ok(Recorded::Unchanged),
        Some(_) => Err(ShipError::OtherNumber { order: key, destination }),
        None => Ok(Recorded::Shipped),
    }
}

/// Records `tracking` for destination `destination` of the order `key`: the parcel goes 出荷済 and
/// its write-back is queued in the pair's pending writes (queued first, so a crash between the
/// two leaves a write the puller completes, never a 出荷済 parcel nobody writes back). Once every
/// parcel has its number the order's units are consumed from the stock (`super::holdings`).
/// Recording the same number again changes nothing.
pub async fn record_tracking<S: OrderStore + TrackingWrites, K: StockStore>(
    store: &S,
    stock: &K,
    key: &OrderKey,
    destination: usize,
    tracking: Tracking,
    now: DateTime<FixedOffset>,
) -> Result<Recorded, ShipError> {
    let catalogue = holdings::catalogue(stock, &key.shop_id).await?;
    record_with(store, stock, &catalogue, key, destination, tracking, now).await
}

/// [`record_tracking`] under a catalogue read once for many numbers (`super::tracking`).
pub(crate) async fn record_with<S: OrderStore + TrackingWrites, K: StockStore>(
    store: &S,
    stock: &K,
    catalogue: &Catalogue,
    key: &OrderKey,
    destination: usize,
    mut tracking: Tracking,
    now: DateTime<FixedOffset>,
) -> Result<Recorded, ShipError> {
    let stored = store.get(key).await?.ok_or_else(|| ShipError::NotFound(key.clone()))?;
    let outcome = check_recordable(&stored, destination, &tracking)?;
    if stored.parcel(destination).is_some_and(|p| p.reflected_at.is_some()) {
        return Ok(Recorded::Unchanged);
    }
    tracking.number = tracking.number.trim().to_string();
    tracking.shipment_id = stored.shipment_id(destination);
    let write = TrackingWrite {
        order: key.clone(),
        destination,
        tracking: tracking.clone(),
        queued_at: now,
        attempts: 0,
        last_error: None,
    };
    update_writes(store, &key.shop_id, key.marketplace, now, |w| {
        if !w.writes.iter().any(|x| x.same(&write)) {
            w.writes.push(write.clone());
        }
    })
    .await?;
    if outcome == Recorded::Unchanged {
        // A crash after an earlier recording but before its stock step: done now (once).
        holdings::settle(stock, catalogue, &stored, now).await?;
        return Ok(outcome);
    }
    let stored = update_order(store, key, now, |s| {
        check_recordable(s, destination, &tracking)?;
        let parcel = s.parcel_mut(destination);
        parcel.tracking = Some(tracking.clone());
        parcel.write_failed = None;
        Ok(())
    })
    .await?;
    holdings::settle(stock, catalogue, &stored, now).await?;
    Ok(Recorded::Shipped)
}

/// Marks the parcels `destinations` of `key` 印刷済 (label data exported for `program`).
pub async fn mark_printed<S: OrderStore>(
    store: &S,
    key: &OrderKey,
    destinations: &[usize],
    program: &str,
    now: DateTime<FixedOffset>,
) -> Result<(), ShipError> {
    update_order(store, key, now, |s| {
        for &d in destinations {
            s.parcel_mut(d).printed = Some(Printed { at: now, program: program.to_string() });
        }
        Ok(())
    })
    .await
    .map(|_| ())
}

/// Marks the 納品書 of the parcels `destinations` of `key` printed (印刷済).
pub async fn mark_slips_printed<S: OrderStore>(
    store: &S,
    key: &OrderKey,
    destinations: &[usize],
    now: DateTime<FixedOffset>,
) -> Result<(), ShipError> {
    update_order(store, key, now, |s| {
        for &d in destinations {
            s.parcel_mut(d).slip_printed = Some(now);
        }
        Ok(())
    })
    .await
    .map(|_| ())
}

/// The marketplace accepted `write`: its parcel goes 反映済 and the number joins the order's
/// parcels (what the shipping mail lists). When that makes every parcel of the order 反映済 and
/// `buyer_mail` allows, the shipping mail is queued (the mail ledger keeps it to one). True when
/// it was queued now.
pub async fn mark_reflected<S: OrderStore, M: MailQueue>(
    store: &S,
    mails: &M,
    write: &TrackingWrite,
    buyer_mail: bool,
    now: DateTime<FixedOffset>,
) -> Result<bool, ShipError> {
    let mut queued = false;
    let next = update_order(store, &write.order, now, |s| {
        queued = false;
        let was = s.ship_state();
        let parcel = s.parcel_mut(write.destination);
        if parcel.tracking.as_ref().is_none_or(|t| same_number(t, &write.tracking)) {
            parcel.tracking = Some(write.tracking.clone());
            parcel.write_failed = None;
            if parcel.reflected_at.is_none() {
                parcel.reflected_at = Some(now);
            }
        }
        if !s.order.tracking.iter().any(|t| same_number(t, &write.tracking)) {
            s.order.tracking.push(write.tracking.clone());
        }
        let open = s.order.status != OrderStatus::Cancelled;
        if buyer_mail && open && was != Some(ShipState::Reflected) && s.ship_state() == Some(ShipState::Reflected) {
            if !s.mails_due.contains(&MailKind::Shipping) {
                s.mails_due.push(MailKind::Shipping);
            }
            queued = true;
        }
        Ok(())
    })
    .await?;
    flush_mails(store, mails, &next).await?;
    Ok(queued)
}

/// The marketplace refused `write` for good: the parcel says why, for staff.
pub async fn mark_write_failed<S: OrderStore>(
    store: &S,
    write: &TrackingWrite,
    reason: &str,
    now: DateTime<FixedOffset>,
) -> Result<(), ShipError> {
    update_order(store, &write.order, now, |s| {
        let parcel = s.parcel_mut(write.destination);
        if parcel.reflected_at.is_none() {
            parcel.write_failed = Some(reason.to_string());
        }
        Ok(())
    })
    .await
    .map(|_| ())
}

/// The errors of a read-change-write of one order: a store failure, no such order, or an order
/// that kept changing under the write.
pub(crate) trait UpdateError: From<PortError> {
    /// No such order.
    fn not_found(key: &OrderKey) -> Self;
    /// The order kept changing.
    fn contended(key: &OrderKey) -> Self;
}

impl UpdateError for ShipError {
    fn not_found(key: &OrderKey) -> Self {
        ShipError::NotFound(key.clone())
    }
    fn contended(key: &OrderKey) -> Self {
        ShipError::Contended(key.clone())
    }
}

/// [`rewrite_order`] for the shipping use cases.
pub(crate) async fn update_order<S: OrderStore>(
    store: &S,
    key: &OrderKey,
    now: DateTime<FixedOffset>,
    change: impl FnMut(&mut StoredOrder) -> Result<(), ShipError>,
) -> Result<StoredOrder, ShipError> {
    rewrite_order(store, key, now, change).await
}

/// Reads the order, applies `change`, writes it conditionally; again when someone wrote between.
pub(crate) async fn rewrite_order<S: OrderStore, E: UpdateError>(
    store: &S,
    key: &OrderKey,
    now: DateTime<FixedOffset>,
    mut change: impl FnMut(&mut StoredOrder) -> Result<(), E>,
) -> Result<StoredOrder, E> {
    for _ in 0..WRITE_ATTEMPTS {
        let prev = store.get(key).await?.ok_or_else(|| E::not_found(key))?;
        let mut next = prev.clone();
        change(&mut next)?;
        if next == prev {
            return Ok(prev);
        }
        next.content_fp = content_fingerprint(&next.order);
        next.rev = prev.rev + 1;
        next.stored_at = now;
        if store.put(&next, Some(prev.rev)).await? == Written::Yes {
            return Ok(next);
        }
    }
    Err(E::contended(key))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_read_back_in_both_names() {
        for st in ShipState::ALL {
            assert_eq!(st.as_str().parse::<ShipState>(), Ok(st));
            assert_eq!(st.label().parse::<ShipState>(), Ok(st));
        }
        assert!("sent".parse::<ShipState>().is_err());
        assert!(ShipState::Ready < ShipState::Printed && ShipState::Shipped < ShipState::Reflected);
    }

    #[test]
    fn numbers_compare_by_digits() {
        let t = |n: &str| Tracking {
            carrier: crate::order::Carrier::Yamato,
            number: n.into(),
            shipped_at: None,
            shipment_id: None,
        };
        assert!(same_number(&t("1234-5678-9013"), &t("123456789013")));
        assert!(!same_number(&t("123456789013"), &t("123456789020")));
    }
}
