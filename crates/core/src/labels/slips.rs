//! What goes on paper for packing: a 納品書 (delivery slip) per parcel and a picking list summed by
//! SKU. Pure: orders and the shop's settings in, the slips' content out; the PDF is drawn by the
//! command (`ichigen print`, `docs/SHIPPING.md`).
//!
//! A slip is for the box: the shop's contact block, who ordered and where it goes, the items with
//! their options and quantities, and prices only when the parcel is not a gift (the buyer marked
//! it as one, or it goes to someone other than the buyer).

use std::collections::BTreeMap;

use chrono::{DateTime, FixedOffset, NaiveDate};

use crate::order::{Address, Item, Totals};
use crate::pipeline::{OrderKey, ShopSettings, StoredOrder};
use crate::rules::Rules;

use super::{NotReady, ParcelKey, Skipped, plan};

/// The shop's block printed on every slip (差出人 / お問い合わせ先).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShopBlock {
    /// Company, else the shop's name.
    pub name: String,
    /// The shop's name as buyers know it, when it differs from `name`.
    pub shop_name: Option<String>,
    /// Postal code as set.
    pub postal_code: String,
    /// Address as set.
    pub address: String,
    /// Phone as set.
    pub phone: String,
    /// Where buyers write to.
    pub email: String,
}

/// Why no slip could be made at all.
#[derive(Debug, thiserror::Error)]
pub enum SlipError {
    /// A setting every slip prints is missing.
    #[error("ショップ設定の{0}がありません(納品書の差出人欄に必要です。ichigen shop contact で設定してください)")]
    Setting(&'static str),
}

impl ShopBlock {
    /// The block from the shop's settings: a name (company or shop name) and an address are needed.
    pub fn of(shop: &ShopSettings) -> Result<ShopBlock, SlipError> {
        let c = &shop.contact;
        let shop_name = shop.shop_name.trim();
        let name = if c.company.trim().is_empty() { shop_name } else { c.company.trim() };
        if name.is_empty() {
            return Err(SlipError::Setting("contact.company"));
        }
        if c.address.trim().is_empty() {
            return Err(SlipError::Setting("contact.address"));
        }
        Ok(ShopBlock {
            name: name.to_string(),
            shop_name: (!shop_name.is_empty() && shop_name != name).then(|| shop_name.to_string()),
            postal_code: c.postal_code.trim().to_string(),
            address: c.address.trim().to_string(),
            phone: c.phone.trim().to_string(),
            email: c.email.trim().to_string(),
        })
    }
}

/// One item line of a slip.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlipLine {
    /// The shop's SKU.
    pub sku: String,
    /// The item's name.
    pub name: String,
    /// Options as `name:value` joined by ` / `.
    pub options: String,
    /// How many.
    pub quantity: u32,
    /// Unit price, tax included; `None` on a gift slip.
    pub unit_price: Option<i64>,
}

/// The 納品書 of one parcel.
#[derive(Debug, Clone, PartialEq)]
pub struct Slip {
    /// 1-based, in print order: the picking list names slips by it.
    pub number: usize,
    /// The order.
    pub order: OrderKey,
    /// When it was ordered.
    pub ordered_at: DateTime<FixedOffset>,
    /// The parcel's お客様管理番号 (as on its label).
    pub key: ParcelKey,
    /// 1-based destination, and how many the order has.
    pub destination: (usize, usize),
    /// Who ordered.
    pub buyer_name: String,
    /// Where it goes.
    pub ship_to: Address,
    /// What goes in.
    pub lines: Vec<SlipLine>,
    /// The order's money: on a priced slip of the order's first destination only.
    pub totals: Option<Totals>,
    /// No prices: the buyer marked it as a gift, or it goes to someone else.
    pub gift: bool,
    /// Requested delivery date.
    pub date: Option<NaiveDate>,
    /// Requested time slot, as the order gives it.
    pub slot: Option<String>,
    /// 同梱: the other orders in the box, each with its own lines and money.
    pub bundled: Vec<BundledOrder>,
}

/// A 同梱 order on its lead's slip.
#[derive(Debug, Clone, PartialEq)]
pub struct BundledOrder {
    /// The order.
    pub order: OrderKey,
    /// When it was ordered.
    pub ordered_at: DateTime<FixedOffset>,
    /// What of it goes in.
    pub lines: Vec<SlipLine>,
    /// Its money, on a priced slip.
    pub totals: Option<Totals>,
}

impl Slip {
    /// Every line in the box: the lead's, then each 同梱 order's.
    pub fn all_lines(&self) -> impl Iterator<Item = &SlipLine> {
        self.lines.iter().chain(self.bundled.iter().flat_map(|b| b.lines.iter()))
    }
}

/// One SKU of the picking list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PickLine {
    /// The shop's SKU.
    pub sku: String,
    /// The item's name (the first seen for the SKU and options).
    pub name: String,
    /// Options as on the slips.
    pub options: String,
    /// Total quantity over every slip.
    pub quantity: u64,
    /// The slips (their numbers) it goes into, ascending.
    pub slips: Vec<usize>,
}

/// Everything to print, and what was left out.
#[derive(Debug, Clone)]
pub struct Prints {
    /// The shop's block.
    pub shop: ShopBlock,
    /// One per parcel, in print order.
    pub slips: Vec<Slip>,
    /// Summed by SKU and options, by SKU.
    pub picking: Vec<PickLine>,
    /// Orders not to be shipped now (held, unpaid, shipped, cancelled, FBA).
    pub not_ready: Vec<(OrderKey, NotReady)>,
    /// Orders with no parcel to pack (store pick-up, abroad, no items).
    pub skipped: Vec<Skipped>,
}

/// The slips and picking list of `orders`: one slip per parcel of each order ready to ship.
pub fn prepare(orders: &[StoredOrder], shop: &ShopSettings, rules: &Rules) -> Result<Prints, SlipError> {
    let mut out = Prints {
        shop: ShopBlock::of(shop)?,
        slips: Vec::new(),
        picking: Vec::new(),
        not_ready: Vec::new(),
        skipped: Vec::new(),
    };
    let plan = plan(orders, rules);
    out.not_ready = plan.not_ready;
    for planned in plan.orders {
        let s = planned.stored;
        let ps = match planned.parcels {
            Ok(ps) => ps,
            Err(error) => {
                out.skipped.push(Skipped { order: s.key(), destination: None, error });
                continue;
            }
        };
        let o = &s.order;
        let count = ps.len();
        for p in ps {
            let gift = o.gift || !same_person(&o.buyer.name, &p.ship_to.name);
            // The 同梱 orders: everything in the box after the lead's own items.
            let bundled = p
                .contents()
                .skip(1)
                .map(|(m, items)| {
                    let gift = gift || m.gift;
                    BundledOrder {
                        order: OrderKey::of(m),
                        ordered_at: m.ordered_at,
                        lines: items.iter().map(|i| line(i, gift)).collect(),
                        totals: (!gift).then_some(m.totals),
                    }
                })
                .collect();
            out.slips.push(Slip {
                number: out.slips.len() + 1,
                order: s.key(),
                ordered_at: o.ordered_at,
                key: p.key.clone(),
                destination: (p.destination, count),
                buyer_name: o.buyer.name.trim().to_string(),
                ship_to: p.ship_to.clone(),
                lines: p.items.iter().map(|i| line(i, gift)).collect(),
                totals: (!gift && p.destination == 1).then_some(o.totals),
                gift,
                date: p.date,
                slot: p.slot.map(str::to_string),
                bundled,
            });
        }
    }
    out.picking = picking(&out.slips);
    Ok(out)
}

/// Sums the slips' lines by SKU and options.
fn picking(slips: &[Slip]) -> Vec<PickLine> {
    let mut by: BTreeMap<(String, String), PickLine> = BTreeMap::new();
    for slip in slips {
        for l in slip.all_lines() {
            let e = by.entry((l.sku.clone(), l.options.clone())).or_insert_with(|| PickLine {
                sku: l.sku.clone(),
                name: l.name.clone(),
                options: l.options.clone(),
                quantity: 0,
                slips: Vec::new(),
            });
            e.quantity += u64::from(l.quantity);
            if e.slips.last() != Some(&slip.number) {
                e.slips.push(slip.number);
            }
        }
    }
    by.into_values().collect()
}

fn line(i: &Item, gift: bool) -> SlipLine {
    SlipLine {
        sku: i.sku.trim().to_string(),
        name: i.name.trim().to_string(),
        options: i.options.iter().map(|op| format!("{}:{}", op.name, op.value)).collect::<Vec<_>>().join(" / "),
        quantity: i.quantity,
        unit_price: (!gift).then_some(i.unit_price),
    }
}

/// Whether two names are the same person's as typed (spaces of either width ignored). A
/// destination without a name is the buyer's.
fn same_person(buyer: &str, recipient: &str) -> bool {
    let squash = |t: &str| t.chars().filter(|c| !c.is_whitespace()).collect::<String>();
    let r = squash(recipient);
    r.is_empty() || squash(buyer) == r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_destination_of_another_name_is_a_gift() {
        assert!(same_person("山田 太郎", "山田\u{3000}太郎"));
        assert!(same_person("山田 太郎", ""));
        assert!(!same_person("山田 太郎", "山田 花子"));
    }
}
