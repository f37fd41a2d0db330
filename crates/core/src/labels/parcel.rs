//! Parcels: what goes into one box to one destination, with the お客様管理番号 ichigen gives it.
//!
//! One parcel per destination of an order (楽天 multi-destination orders have several). Orders
//! staff chose to ship together (同梱, [`StoredOrder::ship_with`]) travel in their lead's parcel:
//! one label, one slip, one tracking number for all of them ([`plan`]).

use chrono::NaiveDate;
use sha2::{Digest, Sha256};

use crate::finding::FindingCode;
use crate::order::{Address, DeliveryMethod, Item, Marketplace, Order, OrderStatus, PaymentMethod};
use crate::pipeline::{OrderKey, StoredOrder};
use crate::rules::Rules;

use super::LabelError;

/// Most destinations one order may have: the key spends two digits on the destination.
pub const MAX_DESTINATIONS: usize = 99;

/// Length of a [`ParcelKey`]: fits ゆうプリR's お客様側管理番号 (15 bytes), the shortest field of the
/// three programs, and e飛伝Ⅱ's 16.
pub const PARCEL_KEY_LEN: usize = 14;

/// Crockford's base 32: digits and capitals without I, L, O and U (never misread).
const BASE32: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// Characters of the order hash in a key: 11 × 5 = 55 bits.
const HASH_CHARS: usize = 11;

/// The お客様管理番号 of a parcel: marketplace letter, 11 characters of a hash of shop, marketplace
/// and order id, and the two-digit destination number (`R7K3M9Q2XC4T01`). Derived, never stored:
/// the same parcel always gets the same key, and a key read back from a carrier's file is matched
/// to its order with [`ParcelKey::matches`]. Letters and digits only (B2's 検索キー refuses `-`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ParcelKey(String);

impl ParcelKey {
    /// The key of destination `destination` (1-based) of an order.
    pub fn new(shop_id: &str, marketplace: Marketplace, order_id: &str, destination: usize) -> Option<ParcelKey> {
        if !(1..=MAX_DESTINATIONS).contains(&destination) {
            return None;
        }
        let mut key = String::with_capacity(PARCEL_KEY_LEN);
        key.push(marketplace_letter(marketplace));
        key.push_str(&order_hash(shop_id, marketplace, order_id));
        key.push_str(&format!("{destination:02}"));
        Some(ParcelKey(key))
    }

    /// The key as written into the file.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Reads a key back (surrounding spaces ignored; lower case accepted): its marketplace and
    /// destination number, or `None` when it is not one of ichigen's keys.
    pub fn parse(text: &str) -> Option<(ParcelKey, Marketplace, usize)> {
        let t = text.trim().to_ascii_uppercase();
        if t.len() != PARCEL_KEY_LEN || !t.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return None;
        }
        let marketplace = Marketplace::ALL.into_iter().find(|&m| t.starts_with(marketplace_letter(m)))?;
        if !t.as_bytes()[1..1 + HASH_CHARS].iter().all(|b| BASE32.contains(b)) {
            return None;
        }
        let destination: usize = t[1 + HASH_CHARS..].parse().ok().filter(|d| (1..=MAX_DESTINATIONS).contains(d))?;
        Some((ParcelKey(t), marketplace, destination))
    }

    /// Whether this key names a parcel of `order`; the destination number it names.
    pub fn matches(&self, order: &Order) -> Option<usize> {
        let (_, marketplace, destination) = ParcelKey::parse(&self.0)?;
        let ok = marketplace == order.marketplace
            && self.0[1..1 + HASH_CHARS] == order_hash(&order.shop_id, order.marketplace, &order.order_id)
            && destination <= order.destinations().count();
        ok.then_some(destination)
    }
}

impl std::fmt::Display for ParcelKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn marketplace_letter(m: Marketplace) -> char {
    match m {
        Marketplace::Rakuten => 'R',
        Marketplace::Yahoo => 'Y',
        Marketplace::Amazon => 'A',
        // Wowma!, au PAY マーケット's former name: `A` is Amazon's.
        Marketplace::Aupay => 'W',
        Marketplace::Qoo10 => 'Q',
        Marketplace::Csv => 'C',
    }
}

/// The first 55 bits of SHA-256(shop, marketplace, order id), in [`BASE32`].
fn order_hash(shop_id: &str, marketplace: Marketplace, order_id: &str) -> String {
    let digest = Sha256::digest(format!("{shop_id}\u{1f}{marketplace}\u{1f}{order_id}").as_bytes());
    let mut bits =
        u64::from_be_bytes([digest[0], digest[1], digest[2], digest[3], digest[4], digest[5], digest[6], digest[7]])
            >> (64 - 5 * HASH_CHARS);
    let mut out = [0u8; HASH_CHARS];
    for slot in out.iter_mut().rev() {
        *slot = BASE32[(bits & 31) as usize];
        bits >>= 5;
    }
    out.iter().map(|&b| char::from(b)).collect()
}

/// How the parcel travels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Service {
    /// 宅配便 (宅急便, 飛脚宅配便, ゆうパック).
    Parcel,
    /// メール便, by the service the shop's rules name (`mail_bin.service`: ネコポス, ゆうパケット ...).
    MailBin(String),
}

/// Temperature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cool {
    /// Normal.
    None,
    /// クール冷蔵 / チルド.
    Chilled,
    /// クール冷凍.
    Frozen,
}

/// A requested delivery time slot, as the label programs know them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot {
    /// 午前中.
    Morning,
    /// From an hour to an hour (`14-16`).
    Hours(u8, u8),
}

impl Slot {
    /// Reads the canonical `delivery.requested_time_slot` (`午前中`, `14-16`, `8-12`); `None`
    /// for a slot no program has (`午後`, `夕方`, ...).
    pub fn parse(text: &str) -> Option<Slot> {
        let t = text.trim();
        if t == "午前中" {
            return Some(Slot::Morning);
        }
        let (from, to) = t.split_once('-')?;
        let (from, to): (u8, u8) = (from.trim().parse().ok()?, to.trim().parse().ok()?);
        match (from, to) {
            (8, 12) => Some(Slot::Morning),
            (f, t) if f < t && t <= 24 => Some(Slot::Hours(f, t)),
            _ => None,
        }
    }
}

/// One parcel: one destination of one order.
#[derive(Debug, Clone)]
pub struct Parcel<'a> {
    /// The order.
    pub order: &'a Order,
    /// 1-based destination number (1 for an order with one destination).
    pub destination: usize,
    /// Where it goes.
    pub ship_to: &'a Address,
    /// What goes in.
    pub items: &'a [Item],
    /// Its お客様管理番号.
    pub key: ParcelKey,
    /// 宅配便 or メール便.
    pub service: Service,
    /// クール便.
    pub cool: Cool,
    /// Amount to collect (代引), yen: the order's total, on its first parcel only (with the totals
    /// of the 同梱 orders paid by 代引).
    pub cod_amount: Option<i64>,
    /// Requested delivery date.
    pub date: Option<NaiveDate>,
    /// Requested time slot, as the order gives it (`None`: none).
    pub slot: Option<&'a str>,
    /// 同梱: orders packed into this parcel too (one destination each, the same as this one).
    pub also: Vec<&'a Order>,
}

impl<'a> Parcel<'a> {
    /// Every order in the box with its items: this parcel's own, then each 同梱 order's.
    pub fn contents(&self) -> impl Iterator<Item = (&'a Order, &'a [Item])> + '_ {
        std::iter::once((self.order, self.items)).chain(self.also.iter().map(|o| (*o, first_items(o))))
    }
}

/// The items of an order's first destination.
fn first_items(o: &Order) -> &[Item] {
    o.shipments.first().map_or(o.items.as_slice(), |sh| sh.items.as_slice())
}

/// Why an order gets no label now: it is not (yet, or any more) the shop's to ship.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotReady {
    /// Held by a check or by staff.
    Held,
    /// Waiting for payment.
    AwaitingPayment,
    /// Already shipped or cancelled.
    Closed,
    /// The marketplace ships it (Amazon FBA).
    ByMarketplace,
}

/// Whether ichigen should make a label for the order now.
pub fn readiness(s: &StoredOrder) -> Result<(), NotReady> {
    if s.order.fulfilled_by_marketplace {
        return Err(NotReady::ByMarketplace);
    }
    match s.status {
        OrderStatus::New | OrderStatus::ReadyToShip => Ok(()),
        OrderStatus::OnHold => Err(NotReady::Held),
        OrderStatus::AwaitingPayment => Err(NotReady::AwaitingPayment),
        OrderStatus::Shipped | OrderStatus::Cancelled => Err(NotReady::Closed),
    }
}

/// The parcels of a stored order, one per destination.
///
/// メール便 is used when the buyer chose it and it is possible: no 代引, date or time slot, and no
/// `shipping.mail_bin_conflict` finding (the items fit); otherwise the parcel goes as 宅配便.
pub fn parcels<'a>(s: &'a StoredOrder, rules: &Rules) -> Result<Vec<Parcel<'a>>, LabelError> {
    let o = &s.order;
    let cool = match o.delivery.method {
        DeliveryMethod::Pickup => return Err(LabelError::Pickup),
        DeliveryMethod::Cool => Cool::Chilled,
        DeliveryMethod::Frozen => Cool::Frozen,
        _ => Cool::None,
    };
    let slot = o.delivery.requested_time_slot.as_deref().map(str::trim).filter(|t| !t.is_empty());
    let cod = (o.payment_method == PaymentMethod::Cod && o.totals.total > 0).then_some(o.totals.total);
    let mail_bin = o.delivery.method == DeliveryMethod::MailBin
        && cod.is_none()
        && o.delivery.requested_date.is_none()
        && slot.is_none()
        && !s.findings.iter().any(|f| f.code == FindingCode::MailBinConflict);
    let service = if mail_bin { Service::MailBin(rules.mail_bin.service.clone()) } else { Service::Parcel };
    let destinations: Vec<(&Address, &[Item])> = if o.shipments.is_empty() {
        vec![(&o.ship_to, o.items.as_slice())]
    } else {
        o.shipments.iter().map(|sh| (&sh.ship_to, sh.items.as_slice())).collect()
    };
    if destinations.len() > MAX_DESTINATIONS {
        return Err(LabelError::TooManyDestinations);
    }
    destinations
        .into_iter()
        .enumerate()
        .map(|(i, (ship_to, items))| {
            let destination = i + 1;
            if !ship_to.is_domestic() {
                return Err(LabelError::Abroad { destination });
            }
            if items.is_empty() {
                return Err(LabelError::NoItems { destination });
            }
            let key = ParcelKey::new(&o.shop_id, o.marketplace, &o.order_id, destination)
                .ok_or(LabelError::TooManyDestinations)?;
            Ok(Parcel {
                order: o,
                destination,
                ship_to,
                items,
                key,
                service: service.clone(),
                cool,
                cod_amount: cod.filter(|_| destination == 1),
                date: o.delivery.requested_date,
                slot,
                also: Vec::new(),
            })
        })
        .collect()
}

/// One order's place in a [`Plan`]: its parcels (with its 同梱 orders inside), or why it gets none.
#[derive(Debug, Clone)]
pub struct Planned<'a> {
    /// The order (a 同梱 lead, or an order shipped alone).
    pub stored: &'a StoredOrder,
    /// Its parcels, or why it is left out.
    pub parcels: Result<Vec<Parcel<'a>>, LabelError>,
    /// The 同梱 orders packed into its first parcel.
    pub members: Vec<&'a StoredOrder>,
}

/// What to pack for a list of orders: the parcels of the orders ready to ship, 同梱 orders in
/// their lead's parcel, and the orders not to be shipped now.
#[derive(Debug, Clone, Default)]
pub struct Plan<'a> {
    /// Orders with their parcels (or why none), in the list's order; 同梱 members are inside
    /// their lead's entry.
    pub orders: Vec<Planned<'a>>,
    /// Orders not to be shipped now (held, unpaid, shipped, cancelled, FBA).
    pub not_ready: Vec<(OrderKey, NotReady)>,
}

/// The parcels of `orders`. A 同梱 order whose lead is in the list and ready goes into the lead's
/// first parcel (which then travels as 宅配便: the メール便 fit was judged order by order); one
/// whose lead is not is left out, so it is never shipped twice. A lead whose member cannot join
/// (another destination, temperature, date or time slot, or an order that cannot be packed) is
/// left out whole with the reason, for staff to settle.
pub fn plan<'a>(orders: &'a [StoredOrder], rules: &Rules) -> Plan<'a> {
    let mut out = Plan::default();
    let mut ready: Vec<&'a StoredOrder> = Vec::with_capacity(orders.len());
    for s in orders {
        match readiness(s) {
            Ok(()) => ready.push(s),
            Err(why) => out.not_ready.push((s.key(), why)),
        }
    }
    let leads: std::collections::BTreeSet<OrderKey> =
        ready.iter().filter(|s| s.ship_with.is_none()).map(|s| s.key()).collect();
    let mut members: std::collections::BTreeMap<OrderKey, Vec<&'a StoredOrder>> = Default::default();
    for s in &ready {
        if let Some(lead) = s.ship_with.as_ref().filter(|l| leads.contains(*l)) {
            members.entry(lead.clone()).or_default().push(s);
        }
    }
    for s in ready {
        if let Some(lead) = &s.ship_with {
            if !leads.contains(lead) {
                let error = LabelError::LeadNotReady { lead: lead.order_id.clone() };
                out.orders.push(Planned { stored: s, parcels: Err(error), members: Vec::new() });
            }
            continue;
        }
        let mine = members.remove(&s.key()).unwrap_or_default();
        let parcels = parcels(s, rules).and_then(|mut ps| {
            if let Some(first) = ps.first_mut() {
                for m in &mine {
                    pack(first, s, m, rules)?;
                }
            }
            Ok(ps)
        });
        out.orders.push(Planned { stored: s, parcels, members: mine });
    }
    out
}

/// Adds to `selected` the rest of each 同梱 box it touches (the lead of a selected member, the
/// members of a selected lead), taken from `others`: a filter that names one order of a box
/// prints the whole box, never half of it.
pub fn complete_boxes(selected: &mut Vec<StoredOrder>, others: impl IntoIterator<Item = StoredOrder>) {
    let have: std::collections::BTreeSet<OrderKey> = selected.iter().map(StoredOrder::key).collect();
    let leads: std::collections::BTreeSet<OrderKey> =
        selected.iter().map(|s| s.ship_with.clone().unwrap_or_else(|| s.key())).collect();
    let mut added = std::collections::BTreeSet::new();
    for s in others {
        let key = s.key();
        let in_box = leads.contains(&key) || s.ship_with.as_ref().is_some_and(|l| leads.contains(l));
        if in_box && !have.contains(&key) && added.insert(key) {
            selected.push(s);
        }
    }
}

/// Puts 同梱 order `m` into `lead`'s parcel `p`.
fn pack<'a>(p: &mut Parcel<'a>, lead: &StoredOrder, m: &'a StoredOrder, rules: &Rules) -> Result<(), LabelError> {
    let refuse = |error: LabelError| LabelError::Bundled { order_id: m.order.order_id.clone(), error: Box::new(error) };
    let own = parcels(m, rules).map_err(refuse)?;
    let [theirs] = own.as_slice() else {
        return Err(refuse(LabelError::BundleMismatch { what: "送付先の数" }));
    };
    if m.bundle_key.is_none() || m.bundle_key != lead.bundle_key || p.destination != 1 {
        return Err(refuse(LabelError::BundleMismatch { what: "お届け先" }));
    }
    if theirs.cool != p.cool {
        return Err(refuse(LabelError::BundleMismatch { what: "温度帯" }));
    }
    if (theirs.date, theirs.slot) != (p.date, p.slot) {
        return Err(refuse(LabelError::BundleMismatch { what: "お届け希望日時" }));
    }
    if let Some(amount) = theirs.cod_amount {
        p.cod_amount = Some(p.cod_amount.unwrap_or(0) + amount);
    }
    p.service = Service::Parcel;
    p.also.push(&m.order);
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn keys_are_short_stable_and_read_back() {
        let k = ParcelKey::new("demo", Marketplace::Rakuten, "391234-20261126-0000000011", 2).unwrap();
        assert_eq!(k.as_str().len(), PARCEL_KEY_LEN);
        assert!(k.as_str().starts_with('R') && k.as_str().ends_with("02"), "{k}");
        assert!(k.as_str().bytes().all(|b| b.is_ascii_alphanumeric()));
        assert_eq!(k, ParcelKey::new("demo", Marketplace::Rakuten, "391234-20261126-0000000011", 2).unwrap());
        let (back, m, d) = ParcelKey::parse(&format!(" {} ", k.as_str().to_ascii_lowercase())).unwrap();
        assert_eq!((back, m, d), (k.clone(), Marketplace::Rakuten, 2));
        // Another order, shop or destination: another key.
        assert_ne!(k, ParcelKey::new("demo", Marketplace::Rakuten, "391234-20261126-0000000012", 2).unwrap());
        assert_ne!(k, ParcelKey::new("other", Marketplace::Rakuten, "391234-20261126-0000000011", 2).unwrap());
        assert_ne!(k, ParcelKey::new("demo", Marketplace::Rakuten, "391234-20261126-0000000011", 1).unwrap());
        assert!(ParcelKey::new("demo", Marketplace::Yahoo, "x", 100).is_none());
        assert!(ParcelKey::parse("R0000000000I01").is_none());
        assert!(ParcelKey::parse("X000000000001").is_none());
        assert!(ParcelKey::parse("R000000000000000").is_none());
    }

    #[test]
    fn keys_of_many_orders_do_not_collide() {
        let mut seen = std::collections::HashSet::new();
        for n in 0..50_000 {
            for d in 1..=2 {
                let k = ParcelKey::new("demo", Marketplace::Yahoo, &format!("store-{n}"), d).unwrap();
                assert!(seen.insert(k), "collision at {n}/{d}");
            }
        }
    }

    #[test]
    fn slots_read_from_the_canonical_text() {
        assert_eq!(Slot::parse("午前中"), Some(Slot::Morning));
        assert_eq!(Slot::parse("8-12"), Some(Slot::Morning));
        assert_eq!(Slot::parse("14-16"), Some(Slot::Hours(14, 16)));
        assert_eq!(Slot::parse(" 19-21 "), Some(Slot::Hours(19, 21)));
        assert_eq!(Slot::parse("午後"), None);
        assert_eq!(Slot::parse("code 1614"), None);
        assert_eq!(Slot::parse("16-14"), None);
    }
}
