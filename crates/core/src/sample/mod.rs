//! Seeded generator of realistic orders to real Japanese addresses, for tests, benchmarks, the
//! sandbox marketplaces and the demo. Deterministic: the same seed gives the same orders.

mod varied;

pub use varied::{BLACKLISTED_NAME, BLACKLISTED_PHONE};

use chrono::{DateTime, Duration, FixedOffset, TimeZone};

use crate::order::{
    Address, Buyer, Delivery, DeliveryMethod, Item, ItemOption, Marketplace, Order, OrderStatus, PaymentMethod,
    SCHEMA_VERSION, Totals,
};
use crate::postal::{CodeKind, PostalTable, Town};

/// (kanji, katakana) family names.
const FAMILY: [(&str, &str); 24] = [
    ("佐藤", "サトウ"),
    ("鈴木", "スズキ"),
    ("高橋", "タカハシ"),
    ("田中", "タナカ"),
    ("伊藤", "イトウ"),
    ("渡辺", "ワタナベ"),
    ("山本", "ヤマモト"),
    ("中村", "ナカムラ"),
    ("小林", "コバヤシ"),
    ("加藤", "カトウ"),
    ("吉田", "ヨシダ"),
    ("山田", "ヤマダ"),
    ("佐々木", "ササキ"),
    ("山口", "ヤマグチ"),
    ("松本", "マツモト"),
    ("井上", "イノウエ"),
    ("木村", "キムラ"),
    ("林", "ハヤシ"),
    ("斎藤", "サイトウ"),
    ("清水", "シミズ"),
    ("山崎", "ヤマザキ"),
    ("森", "モリ"),
    ("池田", "イケダ"),
    ("橋本", "ハシモト"),
];

/// (kanji, katakana) given names.
const GIVEN: [(&str, &str); 20] = [
    ("翔太", "ショウタ"),
    ("陽菜", "ヒナ"),
    ("蓮", "レン"),
    ("結衣", "ユイ"),
    ("大輔", "ダイスケ"),
    ("美咲", "ミサキ"),
    ("健一", "ケンイチ"),
    ("さくら", "サクラ"),
    ("拓也", "タクヤ"),
    ("愛", "アイ"),
    ("悠人", "ユウト"),
    ("真由美", "マユミ"),
    ("直樹", "ナオキ"),
    ("恵子", "ケイコ"),
    ("和也", "カズヤ"),
    ("優子", "ユウコ"),
    ("誠", "マコト"),
    ("彩", "アヤ"),
    ("隆", "タカシ"),
    ("花子", "ハナコ"),
];

/// Building names for address2.
const BUILDINGS: [&str; 8] = [
    "サンハイツ",
    "コーポ緑",
    "グランドメゾン",
    "パークサイド",
    "ラ・フォーレ",
    "メゾン桜",
    "第二清風荘",
    "レジデンス東",
];

/// (sku, name, unit price) of a typical small shop's catalogue.
const CATALOGUE: [(&str, &str, i64); 10] = [
    ("TSHIRT-M", "オーガニックコットンTシャツ M", 2_980),
    ("SOCKS-3P", "ショートソックス 3足組", 1_200),
    ("STICKER-A", "ステッカー Aセット", 330),
    ("MUG-WHT", "マグカップ ホワイト", 1_650),
    ("TOTE-NVY", "キャンバストート ネイビー", 3_520),
    ("TEA-50G", "有機煎茶 50g", 864),
    ("TOWEL-2P", "今治タオル 2枚組", 2_200),
    ("CANDLE-S", "ソイキャンドル S", 1_980),
    ("BOOK-ART", "作品集 Vol.3", 2_750),
    ("GIFT-BOX", "ギフトボックス", 440),
];

/// Units on hand per order seeded, of the SKUs that sell out in the sample stock file: a little
/// less than the orders the demo sees open take of them (about 0.14 and 0.2 units per order;
/// orders first seen shipped take nothing); the others get [`STOCK_PER_ORDER`].
const SCARCE: [(&str, f64); 2] = [("BOOK-ART", 0.12), ("CANDLE-S", 0.16)];
/// Units on hand per order seeded of the other SKUs: more than the orders take (at most about
/// 0.33 per order).
const STOCK_PER_ORDER: f64 = 0.4;

/// The sample catalogue: (SKU, name, unit price in yen, tax included). Every line of a sample
/// order is one of these items, under its SKU.
pub fn catalogue() -> &'static [(&'static str, &'static str, i64)] {
    &CATALOGUE
}

/// A stock file (`SKU,商品名,在庫数` and the five marketplace columns, as `ichigen stock load`
/// reads it) of the sample catalogue's SKUs for `orders` sample orders: enough units that most
/// SKUs stay available, and a few ([`SCARCE`]) that the orders sell out. Each SKU is listed on
/// every marketplace under the SKU itself: that is the identity the sample's order lines carry
/// on each of them (楽天 SKU管理番号, Yahoo item code, Amazon seller SKU, au PAY item code,
/// Qoo10 seller code), so every item has a holder the stock push writes to.
pub fn stock_file(orders: usize) -> String {
    let mut out = String::from("SKU,商品名,在庫数,楽天,Yahoo,Amazon,auPAY,Qoo10\n");
    for (sku, name, _) in CATALOGUE {
        let per = SCARCE.iter().find(|(s, _)| *s == sku).map_or(STOCK_PER_ORDER, |(_, per)| *per);
        // Rounded up: a shop of a few orders still has a unit of each.
        let units = (orders as f64 * per).ceil().max(1.0);
        out.push_str(&format!("{sku},{name},{units},{sku},{sku},{sku},{sku},{sku}\n"));
    }
    out
}

/// Seeded order generator over the real postal table.
pub struct SampleOrders {
    rng: fastrand::Rng,
    /// Area codes whose main town is a plain, nameable town.
    codes: &'static [u32],
    postal: &'static PostalTable<'static>,
    start: DateTime<FixedOffset>,
    /// Codes on remote islands, found on first use.
    island_codes: Vec<u32>,
    /// Seconds between order `n` and order `n + 1` (plus up to half of it at random).
    step_secs: i64,
    /// The seed, for decisions drawn apart from `rng` (they leave the other orders as they were).
    seed: u64,
    /// Buyers of recent plain orders, with where they had it sent: some order again.
    recent: std::collections::VecDeque<(crate::order::Buyer, Address)>,
}

impl SampleOrders {
    /// A generator; the same seed yields the same sequence.
    pub fn new(seed: u64) -> SampleOrders {
        let postal = PostalTable::embedded();
        let jst = crate::JST;
        let start = jst.with_ymd_and_hms(2026, 11, 1, 9, 0, 0).single().expect("valid date");
        SampleOrders {
            rng: fastrand::Rng::with_seed(seed),
            codes: plain_area_codes(),
            postal,
            start,
            island_codes: Vec::new(),
            step_secs: 37,
            seed,
            recent: std::collections::VecDeque::new(),
        }
    }

    /// Orders from `start` on, one every `step_secs` seconds on average (default: 2026-11-01 09:00
    /// JST, 37 s). A long step spreads orders over months, across API date windows.
    pub fn with_timeline(mut self, start: DateTime<FixedOffset>, step_secs: i64) -> SampleOrders {
        self.start = start;
        self.step_secs = step_secs.max(1);
        self
    }

    /// Number of postal codes the generator draws from.
    pub fn code_count(&self) -> usize {
        self.codes.len()
    }

    /// A clean order: a real address written the way buyers write it, nothing a clerk would hold.
    pub fn clean_order(&mut self, marketplace: Marketplace, n: usize) -> Order {
        let code = self.codes[self.rng.usize(..self.codes.len())];
        let entry = self.postal.get_u32(code).expect("generator codes come from the table");
        let town = entry.towns().next().expect("generator codes have a town");
        let (fam, fam_k) = FAMILY[self.rng.usize(..FAMILY.len())];
        let (giv, giv_k) = GIVEN[self.rng.usize(..GIVEN.len())];
        let name = if self.rng.bool() { format!("{fam} {giv}") } else { format!("{fam}{giv}") };
        let phone = format!(
            "0{}0-{:04}-{:04}",
            [7, 8, 9][self.rng.usize(..3)],
            self.rng.u32(1000..10000),
            self.rng.u32(0..10000)
        );
        let address1 = format!("{}{}", town.town, self.house_number(town.chome));
        let address2 = if self.rng.u8(..3) == 0 {
            format!(
                "{} {}号室",
                BUILDINGS[self.rng.usize(..BUILDINGS.len())],
                self.rng.u32(1..9) * 100 + self.rng.u32(1..10)
            )
        } else {
            String::new()
        };
        let mut ship_to = Address {
            country: "JP".into(),
            postal_code: if self.rng.bool() { entry.code_str() } else { hyphenated(&entry.code_str()) },
            prefecture: town.prefecture.into(),
            city: town.city.into(),
            address1,
            address2,
            name: name.clone(),
            phone: Some(phone.clone()),
        };
        self.write_like_a_buyer(&mut ship_to);
        let items = self.items();
        let goods: i64 = items.iter().map(|i| i.unit_price * i64::from(i.quantity)).sum();
        let shipping = if goods >= 5_000 { 0 } else { 600 };
        let payment_method = [
            PaymentMethod::CreditCard,
            PaymentMethod::CreditCard,
            PaymentMethod::MarketplacePay,
            PaymentMethod::Cod,
            PaymentMethod::BankTransfer,
            PaymentMethod::ConvenienceStore,
            PaymentMethod::Deferred,
        ][self.rng.usize(..7)];
        let fee = if payment_method == PaymentMethod::Cod { 330 } else { 0 };
        let discount = if self.rng.u8(..5) == 0 { goods.min(300) } else { 0 };
        // A coupon on even orders, points on odd ones (from `n`, so the random sequence is
        // unchanged), where the marketplace reports them apart; Amazon's promotions and Qoo10's
        // sale discounts are neither.
        let (coupon, points) = match marketplace {
            Marketplace::Amazon | Marketplace::Qoo10 => (0, 0),
            _ if n % 2 == 0 => (discount, 0),
            _ => (0, discount),
        };
        let step = self.step_secs;
        let ordered_at = self.start + Duration::seconds(n as i64 * step + self.rng.i64(0..step / 2 + 1));
        Order {
            schema_version: SCHEMA_VERSION,
            shop_id: "shop-demo".into(),
            marketplace,
            order_id: format!("{}-{:08}", marketplace.as_str(), n),
            ordered_at,
            source_updated_at: ordered_at + Duration::seconds(self.rng.i64(0..600)),
            status: OrderStatus::New,
            source_status: "new".into(),
            buyer: Buyer {
                name,
                name_kana: Some(format!("{fam_k} {giv_k}")),
                email: Some(format!("buyer{n}@example.jp")),
                phone: Some(phone),
            },
            ship_to,
            shipments: Vec::new(),
            items,
            payment_method,
            source_payment_method: format!("{payment_method:?}"),
            delivery: Delivery {
                method: DeliveryMethod::Standard,
                source_method: "宅配便".into(),
                requested_date: None,
                requested_time_slot: None,
            },
            totals: Totals { goods, shipping, fee, discount, coupon, points, total: goods + shipping + fee - discount },
            remarks: String::new(),
            gift: false,
            tracking: Vec::new(),
            fulfilled_by_marketplace: false,
        }
    }

    /// Buyers do not copy Japan Post's spelling: they leave out the 郡, swap ヶ and ケ, put the
    /// prefecture into the city field, or type the city again in the street line.
    fn write_like_a_buyer(&mut self, a: &mut Address) {
        match self.rng.u8(..10) {
            0 => {
                // Only a real 郡 (苫前郡羽幌町), not the 郡 in 郡山市 or 大和郡山市.
                if let Some(i) =
                    a.city.find('郡').filter(|&i| i > 0 && (a.city.ends_with('町') || a.city.ends_with('村')))
                {
                    a.city = a.city[i + '郡'.len_utf8()..].to_string();
                }
            }
            1 => a.city = format!("{}{}", std::mem::take(&mut a.prefecture), a.city),
            2 => {
                let swap = |s: &str| if s.contains('ヶ') { s.replace('ヶ', "ケ") } else { s.replace('ケ', "ヶ") };
                a.city = swap(&a.city);
                a.address1 = swap(&a.address1);
            }
            3 => a.address1 = format!("{}{}", a.city, a.address1),
            _ => {}
        }
    }

    /// A house number in one of the forms buyers type.
    fn house_number(&mut self, chome: bool) -> String {
        let (a, b, c) = (self.rng.u32(1..9), self.rng.u32(1..30), self.rng.u32(1..20));
        if chome {
            match self.rng.u8(..5) {
                0 => format!("{a}丁目{b}番{c}号"),
                1 => format!("{a}-{b}-{c}"),
                2 => format!("{}丁目{b}-{c}", kanji_digit(a)),
                3 => format!("{}－{}－{}", fullwidth(a), fullwidth(b), fullwidth(c)),
                _ => format!("{a}ー{b}ー{c}"),
            }
        } else {
            let n = self.rng.u32(1..3000);
            match self.rng.u8(..4) {
                0 => format!("{n}番地"),
                1 => format!("{n}-{c}"),
                2 => format!("{n}番地の{c}"),
                _ => fullwidth(n),
            }
        }
    }

    fn items(&mut self) -> Vec<Item> {
        let lines = 1 + usize::from(self.rng.u8(..4) == 0) + usize::from(self.rng.u8(..8) == 0);
        let mut items: Vec<Item> = Vec::with_capacity(lines);
        for _ in 0..lines {
            let (sku, name, price) = CATALOGUE[self.rng.usize(..CATALOGUE.len())];
            if items.iter().any(|i| i.sku == sku) {
                continue;
            }
            let options = if sku == "TSHIRT-M" {
                vec![ItemOption {
                    name: "カラー".into(), value: ["白", "黒", "生成り"][self.rng.usize(..3)].into()
                }]
            } else {
                Vec::new()
            };
            items.push(Item {
                sku: sku.into(),
                name: name.into(),
                quantity: self.rng.u32(1..4),
                unit_price: price,
                options,
            });
        }
        items
    }
}

/// A town a buyer can write as is: named, no special addressing, no building-floor entry.
fn plain_town(t: &Town<'_>) -> bool {
    !t.town.is_empty()
        && !t.catch_all
        && !t.street_style
        && !t.chiwari
        && !t.town.contains(['（', '(', '、', '「', '」', '〜', '～'])
        && !t.town.ends_with("階")
}

fn hyphenated(code: &str) -> String {
    format!("{}-{}", &code[..3], &code[3..])
}

fn fullwidth(n: u32) -> String {
    n.to_string().chars().map(|c| char::from_u32(c as u32 - '0' as u32 + '０' as u32).unwrap_or(c)).collect()
}

fn kanji_digit(n: u32) -> &'static str {
    ["〇", "一", "二", "三", "四", "五", "六", "七", "八", "九"][(n % 10) as usize]
}

/// The area codes whose main town is a plain, nameable town, found once per process: a sandbox
/// buyer makes a generator per order, and the search over the whole table is the costly part.
fn plain_area_codes() -> &'static [u32] {
    static CODES: std::sync::OnceLock<Vec<u32>> = std::sync::OnceLock::new();
    CODES.get_or_init(|| {
        PostalTable::embedded()
            .entries()
            .filter(|e| e.kind() == CodeKind::Area)
            .filter(|e| e.towns().next().is_some_and(|t| plain_town(&t)))
            .map(|e| e.code())
            .collect()
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_sample_stock_file_lists_every_sku_on_the_five_marketplaces_under_the_sku_its_lines_carry() {
        let rows = crate::stock::file::read(stock_file(100).as_bytes()).unwrap();
        assert_eq!(rows.len(), CATALOGUE.len());
        for row in &rows {
            let listed: Vec<(Marketplace, &str)> =
                row.listings.iter().map(|l| (l.marketplace, l.item.as_str())).collect();
            let every: Vec<(Marketplace, &str)> =
                [Marketplace::Rakuten, Marketplace::Yahoo, Marketplace::Amazon, Marketplace::Aupay, Marketplace::Qoo10]
                    .into_iter()
                    .map(|m| (m, row.sku.as_str()))
                    .collect();
            assert_eq!(listed, every, "{}", row.sku);
        }
        // What the listings stand on: every sample order line names a catalogue SKU.
        let mut sample = SampleOrders::new(3);
        for n in 0..300 {
            for m in [Marketplace::Rakuten, Marketplace::Qoo10] {
                for item in sample.varied_order(m, n).items {
                    assert!(catalogue().iter().any(|(sku, _, _)| *sku == item.sku), "{}", item.sku);
                }
            }
        }
    }
}
