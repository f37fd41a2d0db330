//! Varied orders: everything a shop really receives, in realistic shares — every payment and
//! delivery method, requested dates and slots, remarks, gifts, multi-item and multi-destination
//! orders, address defects, remote islands, a blacklisted buyer, cancelled and shipped orders,
//! Amazon-fulfilled (AFN) orders. The sandboxes and the demo are seeded with these.

use chrono::Duration;

use super::SampleOrders;
use crate::carrier::check_digit;
use crate::islands::IslandTable;
use crate::order::{Carrier, DeliveryMethod, Item, Marketplace, Order, OrderStatus, PaymentMethod, Shipment, Tracking};

/// The buyer of `rules.example.toml`'s first blacklist entry, so seeded data exercises the check.
pub const BLACKLISTED_NAME: &str = "見本 太郎";
/// Phone of the blacklisted buyer.
pub const BLACKLISTED_PHONE: &str = "090-0000-0000";

/// Remarks buyers write.
const REMARKS: [&str; 6] = [
    "不在時は宅配ボックスへお願いします",
    "プレゼント用です。金額のわかるものは入れないでください",
    "[配送日時指定:]\n2026-12-05(土)\n午前中\n[備考:]\n領収書を同封してください",
    "なし",
    "できるだけ早く届けてください",
    "のし: 御歳暮 / 名入れ: 山田",
];

/// Per mille of plain orders placed by a recent buyer again, to the same address: the orders a
/// shop ships together (同梱).
const REPEAT_PER_MILLE: u64 = 25;
/// How many recent buyers a repeat order may come from.
const RECENT_BUYERS: usize = 12;

/// What went wrong with a defective address.
#[derive(Clone, Copy)]
enum Defect {
    WrongPrefecture,
    NoHouseNumber,
    UnknownCode,
}

impl SampleOrders {
    /// An order as shops really receive them; `n` makes the order id and spreads the times.
    pub fn varied_order(&mut self, marketplace: Marketplace, n: usize) -> Order {
        let mut o = self.clean_order(marketplace, n);
        let roll = self.rng.u32(..1000);
        // Shares per mille, chosen to look like a month of a small shop's orders.
        match roll {
            0..=39 => self.defect(&mut o),
            40..=59 => self.island(&mut o),
            60..=69 => {
                o.buyer.name = BLACKLISTED_NAME.into();
                o.buyer.phone = Some(BLACKLISTED_PHONE.into());
                o.ship_to.name = BLACKLISTED_NAME.into();
            }
            70..=99 => self.second_destination(&mut o),
            _ => {}
        }
        match self.rng.u32(..100) {
            0..=14 => self.mail_bin(&mut o),
            15..=19 => o.delivery.method = DeliveryMethod::Cool,
            20..=21 => o.delivery.method = DeliveryMethod::Frozen,
            22 => o.delivery.method = DeliveryMethod::Pickup,
            _ => {}
        }
        if o.delivery.method != DeliveryMethod::MailBin {
            if self.rng.u8(..10) == 0 {
                // Buyers pick from the days the marketplace offers after the order, up to about
                // three weeks on; a few are the same day (too soon) or the day before (an order
                // edited late, a date copied from an earlier one): findings, never promises.
                o.delivery.requested_date =
                    Some(o.ordered_at.date_naive() + Duration::days(i64::from(self.rng.u32(..20)) - 1));
            }
            if self.rng.u8(..7) == 0 {
                o.delivery.requested_time_slot =
                    Some(["午前中", "14-16", "16-18", "18-20", "19-21"][self.rng.usize(..5)].into());
            }
        }
        if self.rng.u8(..12) == 0 {
            o.remarks = REMARKS[self.rng.usize(..REMARKS.len())].into();
        }
        if self.rng.u8(..20) == 0 {
            o.gift = true;
        }
        match self.rng.u8(..100) {
            0..=2 => o.status = OrderStatus::Cancelled,
            3..=7 => self.shipped(&mut o),
            8..=15 if matches!(o.payment_method, PaymentMethod::BankTransfer | PaymentMethod::ConvenienceStore) => {
                o.status = OrderStatus::AwaitingPayment;
            }
            16..=40 => o.status = OrderStatus::ReadyToShip,
            _ => {}
        }
        if marketplace == Marketplace::Amazon && self.rng.u8(..5) == 0 {
            o.fulfilled_by_marketplace = true;
        }
        if roll >= 100 {
            self.repeat_buyer(&mut o, n);
        }
        o.source_status = format!("{:?}", o.status);
        o
    }

    /// Now and then a plain order comes from a recent buyer again, to the same address; plain
    /// orders' buyers are remembered for that. Drawn apart from the main sequence, so every
    /// other order stays as the same seed always made it.
    fn repeat_buyer(&mut self, o: &mut Order, n: usize) {
        if !o.shipments.is_empty() {
            return;
        }
        let mut draw = fastrand::Rng::with_seed(self.seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ n as u64);
        if draw.u64(..1000) < REPEAT_PER_MILLE && !self.recent.is_empty() {
            let (buyer, ship_to) = self.recent[draw.usize(..self.recent.len())].clone();
            o.buyer = buyer;
            o.ship_to = ship_to;
        }
        self.recent.push_back((o.buyer.clone(), o.ship_to.clone()));
        if self.recent.len() > RECENT_BUYERS {
            self.recent.pop_front();
        }
    }

    fn defect(&mut self, o: &mut Order) {
        let defect = [Defect::WrongPrefecture, Defect::NoHouseNumber, Defect::UnknownCode][self.rng.usize(..3)];
        match defect {
            Defect::WrongPrefecture => {
                o.ship_to.prefecture = if o.ship_to.prefecture == "大阪府" { "京都府" } else { "大阪府" }.into();
            }
            Defect::NoHouseNumber => {
                let town_end = o.ship_to.address1.find(|c: char| {
                    c.is_ascii_digit() || ('０'..='９').contains(&c) || "一二三四五六七八九".contains(c)
                });
                if let Some(i) = town_end {
                    o.ship_to.address1.truncate(i);
                }
            }
            Defect::UnknownCode => o.ship_to.postal_code = "9999999".into(),
        }
    }

    fn island(&mut self, o: &mut Order) {
        let islands = IslandTable::embedded();
        if self.island_codes.is_empty() {
            self.island_codes = self
                .codes
                .iter()
                .copied()
                .filter(|&c| {
                    let code = format!("{c:07}");
                    let rows: Vec<_> = islands.lookup(&code).collect();
                    !rows.is_empty() && rows.iter().all(|r| !r.is_carrier_zone() && !r.is_shared_with_mainland())
                })
                .collect();
        }
        let Some(&code) = self.island_codes.get(self.rng.usize(..self.island_codes.len().max(1))) else { return };
        let Some(entry) = self.postal.get_u32(code) else { return };
        let Some(town) = entry.towns().next() else { return };
        o.ship_to.postal_code = entry.code_str();
        o.ship_to.prefecture = town.prefecture.into();
        o.ship_to.city = town.city.into();
        o.ship_to.address1 = format!("{}{}", town.town, self.house_number(town.chome));
    }

    /// A second parcel to someone else (a gift to family): 楽天-style multi-destination order.
    fn second_destination(&mut self, o: &mut Order) {
        let other = self.clean_order(o.marketplace, 0);
        let first_items = o.items.clone();
        let second_items = other.items.clone();
        o.items.extend(second_items.iter().cloned());
        o.shipments = vec![
            Shipment { shipment_id: Some("1".into()), ship_to: o.ship_to.clone(), items: first_items },
            Shipment { shipment_id: Some("2".into()), ship_to: other.ship_to, items: second_items },
        ];
        self.retotal(o);
    }

    /// Small items that fit a メール便 parcel, mostly paid in advance.
    fn mail_bin(&mut self, o: &mut Order) {
        if !o.shipments.is_empty() {
            return;
        }
        o.delivery.method = DeliveryMethod::MailBin;
        o.delivery.source_method = "メール便".into();
        let (sku, name, price) =
            [("STICKER-A", "ステッカー Aセット", 330), ("SOCKS-3P", "ショートソックス 3足組", 1_200)]
                [self.rng.usize(..2)];
        o.items = vec![Item {
            sku: sku.into(),
            name: name.into(),
            quantity: self.rng.u32(1..3),
            unit_price: price,
            options: vec![],
        }];
        // Some buyers pick COD anyway: a conflict staff must see.
        if self.rng.u8(..10) != 0 && o.payment_method == PaymentMethod::Cod {
            o.payment_method = PaymentMethod::CreditCard;
        }
        self.retotal(o);
    }

    fn shipped(&mut self, o: &mut Order) {
        o.status = OrderStatus::Shipped;
        let carrier = [Carrier::Yamato, Carrier::Sagawa, Carrier::Japanpost][self.rng.usize(..3)];
        o.tracking = vec![Tracking {
            carrier,
            number: self.tracking_number(),
            shipped_at: Some(o.ordered_at + Duration::hours(20)),
            shipment_id: None,
        }];
    }

    /// A 12-digit number with a right check digit.
    pub fn tracking_number(&mut self) -> String {
        let first11 = format!("{:011}", self.rng.u64(10_000_000_000..100_000_000_000));
        let cd = check_digit(&first11).unwrap_or(0);
        format!("{first11}{cd}")
    }

    fn retotal(&self, o: &mut Order) {
        let t = &mut o.totals;
        t.goods = o.items.iter().map(|i| i.unit_price * i64::from(i.quantity)).sum();
        t.shipping = if t.goods >= 5_000 { 0 } else { 600 };
        t.discount = t.discount.min(t.goods);
        t.coupon = t.coupon.min(t.discount);
        t.points = t.points.min(t.discount - t.coupon);
        t.total = t.goods + t.shipping + t.fee - t.discount;
    }
}
