//! Carrier label data: the file each carrier's label program imports, one row per parcel —
//! ヤマト運輸 B2クラウド ([`b2`]), 佐川急便 e飛伝Ⅲ ([`ehiden`]), 日本郵便 ゆうパックプリントR
//! ([`yupri`]). Layouts, codes and limits follow `shared/notes/carrier-csv.md`; every value
//! marked *unverified* there is a named constant in the program's file. `docs/LABELS.md` tells
//! staff how to import each file.
//!
//! Pure: orders and settings in, bytes out. An order that cannot be written as its program takes
//! it (a character outside Shift_JIS, an address longer than the fields, a time slot the carrier
//! does not have) is left out whole and reported with the field's name, never cut or garbled.

pub mod b2;
pub mod ehiden;
pub mod issued;
pub mod parcel;
pub mod sjis;
pub mod slips;
pub mod yupri;

use chrono::NaiveDate;

use crate::order::Address;
use crate::pipeline::{OrderKey, ShopSettings, StoredOrder};
use crate::rules::Rules;
use crate::text;

pub use parcel::{
    Cool, NotReady, Parcel, ParcelKey, Plan, Planned, Service, Slot, complete_boxes, parcels, plan, readiness,
};

/// The label programs ichigen writes for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Program {
    /// ヤマト運輸 B2クラウド (「外部データから発行」).
    B2,
    /// 佐川急便 e飛伝Ⅲ (共通テンプレート 「標準_飛脚宅急便_CSV_ヘッダ有り」).
    Ehiden,
    /// 日本郵便 ゆうパックプリントR (取込フィルタ 「郵便・ゆうパック標準取込」).
    Yupri,
}

impl Program {
    /// The program's name, for staff.
    pub fn name(self) -> &'static str {
        match self {
            Program::B2 => "B2クラウド",
            Program::Ehiden => "e飛伝Ⅲ",
            Program::Yupri => "ゆうパックプリントR",
        }
    }
}

/// Consumption tax rate assumed inside a 代引 amount, per cent: the standard rate. The order
/// does not say which items are at the reduced 8 %, so a shop of food sees a slightly higher
/// 内消費税額 than the truth (B2 only checks that it is not above the amount).
pub const STANDARD_TAX_PERCENT: i64 = 10;

/// The consumption tax included in a tax-inclusive amount, rounded down.
pub fn included_tax(amount: i64) -> i64 {
    amount * STANDARD_TAX_PERCENT / (100 + STANDARD_TAX_PERCENT)
}

/// Choices of one export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LabelOptions {
    /// 出荷予定日 written on every row.
    pub ship_date: NaiveDate,
}

/// Why one parcel (and so its order) got no row. Names fields and codes, never buyer data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LabelError {
    /// A character with no Shift_JIS (JIS X 0208) form and no documented substitute.
    #[error("{field}にShift_JIS(JIS第1・第2水準)で表せない文字 U+{code:04X} があります")]
    Unrepresentable {
        /// The field.
        field: &'static str,
        /// The character's code point (not the text around it).
        code: u32,
    },
    /// Longer than the program's fields allow, in Shift_JIS bytes.
    #[error("{field}が長すぎます({bytes}バイト、上限{limit}バイト)")]
    TooLong {
        /// The field.
        field: &'static str,
        /// Its length in Shift_JIS bytes.
        bytes: usize,
        /// What the program's field(s) take.
        limit: usize,
    },
    /// A required field is empty or malformed.
    #[error("{field}がないか、正しくありません")]
    Invalid {
        /// The field.
        field: &'static str,
    },
    /// A time slot this carrier's label has no code for.
    #[error("お届け時間帯「{slot}」は{program}の時間帯コードにありません")]
    UnknownSlot {
        /// The slot as the order gives it (`12-14`, `午後`).
        slot: String,
        /// The program.
        program: &'static str,
    },
    /// A メール便 service the program does not issue.
    #[error("メール便「{service}」は{program}では発行できません(ルールの mail_bin.service を確認してください)")]
    UnsupportedService {
        /// `mail_bin.service` of the rules.
        service: String,
        /// The program.
        program: &'static str,
    },
    /// More to collect than the carrier's 代引 allows.
    #[error("代引金額{amount}円が{program}の上限{max}円を超えます")]
    CodOverLimit {
        /// The amount.
        amount: i64,
        /// The carrier's maximum.
        max: i64,
        /// The program.
        program: &'static str,
    },
    /// The requested delivery date is before the shipping date.
    #[error("お届け希望日が出荷予定日より前です")]
    DateBeforeShipping,
    /// A destination outside Japan.
    #[error("送付先{destination}が海外です(国内の送り状のみ作れます)")]
    Abroad {
        /// 1-based destination.
        destination: usize,
    },
    /// A destination with no items.
    #[error("送付先{destination}に商品がありません")]
    NoItems {
        /// 1-based destination.
        destination: usize,
    },
    /// Store or locker pick-up: no label to print.
    #[error("店舗・ロッカー受取の注文です(送り状は作りません)")]
    Pickup,
    /// More destinations than a key can number.
    #[error("送付先が{}件を超えます", parcel::MAX_DESTINATIONS)]
    TooManyDestinations,
    /// A 同梱 order whose lead is not ready to ship (or not in the list).
    #[error(
        "同梱先の注文 {lead} と一緒に出荷する設定です。同梱先が出荷待ちになるまで出力しません(解除: ichigen orders unbundle)"
    )]
    LeadNotReady {
        /// The lead's order id.
        lead: String,
    },
    /// A 同梱 order that no longer goes with its lead.
    #[error("{what}が同梱先の注文と異なります")]
    BundleMismatch {
        /// What differs.
        what: &'static str,
    },
    /// A 同梱 order that cannot be packed: the whole box is left out.
    #[error("同梱する注文 {order_id}: {error}")]
    Bundled {
        /// The member's order id.
        order_id: String,
        /// Why it cannot be packed.
        error: Box<LabelError>,
    },
}

/// Why nothing could be exported: the shop's settings lack what every row needs.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// A setting is missing or malformed.
    #[error("ショップ設定の{setting}がないか、正しくありません({program}の送り状に必要です)")]
    Setting {
        /// Which setting (`contact.company` ...).
        setting: &'static str,
        /// The program.
        program: &'static str,
    },
    /// The ご依頼主 block does not fit the program's fields.
    #[error("ショップ設定のご依頼主欄: {0}")]
    Sender(#[source] LabelError),
    /// Writing the CSV failed.
    #[error("CSVを書けません: {0}")]
    Csv(#[from] csv::Error),
}

/// A parcel written to the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Labelled {
    /// Its お客様管理番号.
    pub key: ParcelKey,
    /// Its order.
    pub order: OrderKey,
    /// 1-based destination.
    pub destination: usize,
}

/// An order left out of the file, with why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// The order.
    pub order: OrderKey,
    /// The parcel's destination, when the problem is one parcel's.
    pub destination: Option<usize>,
    /// What is wrong.
    pub error: LabelError,
}

/// One export: the file's bytes and what went into it.
#[derive(Debug, Clone)]
pub struct Exported {
    /// The program.
    pub program: Program,
    /// The file, ready to import (Shift_JIS, CRLF).
    pub bytes: Vec<u8>,
    /// One per row, in file order, and one more per 同梱 order sharing its lead's row.
    pub labelled: Vec<Labelled>,
    /// Orders the program cannot take as they are: staff must look at them.
    pub skipped: Vec<Skipped>,
    /// Orders that are not to be shipped now (held, unpaid, shipped, cancelled, FBA).
    pub not_ready: Vec<(OrderKey, NotReady)>,
}

/// The shop's ご依頼主 block, checked.
#[derive(Debug, Clone)]
pub(crate) struct Sender {
    pub name: String,
    pub postal: String,
    pub address: String,
    pub phone: String,
}

impl Sender {
    fn of(shop: &ShopSettings, program: Program) -> Result<Sender, ExportError> {
        let c = &shop.contact;
        let missing = |setting| ExportError::Setting { setting, program: program.name() };
        let name = if c.company.trim().is_empty() { shop.shop_name.trim() } else { c.company.trim() };
        if name.is_empty() {
            return Err(missing("contact.company"));
        }
        if c.address.trim().is_empty() {
            return Err(missing("contact.address"));
        }
        Ok(Sender {
            name: name.to_string(),
            postal: text::postal_code_key(&c.postal_code).map(hyphenated).ok_or(missing("contact.postal_code"))?,
            address: c.address.trim().to_string(),
            phone: text::phone_key(&c.phone).ok_or(missing("contact.phone"))?,
        })
    }
}

/// A program's layout: its columns and how a parcel fills them.
pub(crate) trait Layout {
    /// The program.
    const PROGRAM: Program;
    /// Columns of a row.
    const COLUMNS: usize;
    /// The header row, when the program's import expects one.
    const HEADER: Option<&'static [&'static str]>;
    /// A row with the cells every parcel shares (ご依頼主, contract numbers) filled.
    fn base(shop: &ShopSettings, sender: &Sender) -> Result<Row, ExportError>;
    /// The row of one parcel, from the base row.
    fn row(p: &Parcel<'_>, base: &Row, opts: &LabelOptions) -> Result<Row, LabelError>;
}

/// One row's cells, already encoded.
#[derive(Debug, Clone)]
pub(crate) struct Row(Vec<Vec<u8>>);

impl Row {
    pub(crate) fn new(columns: usize) -> Row {
        Row(vec![Vec::new(); columns])
    }

    /// Sets 1-based column `col` to text ichigen generates (codes, digits, dates: ASCII).
    pub(crate) fn code(&mut self, col: usize, value: impl AsRef<str>) {
        self.0[col - 1] = value.as_ref().as_bytes().to_vec();
    }

    /// Sets column `col` to `value`, which must fit `limit` bytes.
    pub(crate) fn text(
        &mut self,
        col: usize,
        field: &'static str,
        value: &str,
        limit: usize,
    ) -> Result<(), LabelError> {
        self.0[col - 1] = sjis::field(field, value, limit)?;
        Ok(())
    }

    /// Spreads `parts` over the columns `cols` of `limits` bytes (see [`sjis::lines`]).
    pub(crate) fn spread(
        &mut self,
        cols: &[usize],
        field: &'static str,
        parts: &[&str],
        limits: &[usize],
    ) -> Result<(), LabelError> {
        for (col, line) in cols.iter().zip(sjis::lines(field, parts, limits)?) {
            self.0[col - 1] = line;
        }
        Ok(())
    }

    /// Puts 品名 lines into `cols` of `limit` bytes each.
    pub(crate) fn goods(&mut self, cols: &[usize], p: &Parcel<'_>, limit: usize) {
        let items: Vec<(String, u32)> =
            p.contents().flat_map(|(_, items)| items).map(|i| (i.name.clone(), i.quantity)).collect();
        for (col, line) in cols.iter().zip(sjis::goods(&items, cols.len(), limit)) {
            self.0[col - 1] = line;
        }
    }
}

/// `1000001` → `100-0001`.
pub(crate) fn hyphenated(digits: String) -> String {
    format!("{}-{}", &digits[..3], &digits[3..])
}

/// The destination's postal code as `123-4567`.
pub(crate) fn postal(a: &Address) -> Result<String, LabelError> {
    text::postal_code_key(&a.postal_code)
        .map(hyphenated)
        .ok_or(LabelError::Invalid { field: "お届け先郵便番号" })
}

/// The destination's phone, digits only; the buyer's when the destination has none.
pub(crate) fn phone(p: &Parcel<'_>) -> Result<String, LabelError> {
    p.ship_to
        .phone
        .as_deref()
        .or(p.order.buyer.phone.as_deref())
        .and_then(text::phone_key)
        .ok_or(LabelError::Invalid { field: "お届け先電話番号" })
}

/// The recipient's name: the destination's, else the buyer's.
pub(crate) fn recipient<'a>(p: &Parcel<'a>) -> &'a str {
    let name = p.ship_to.name.trim();
    if name.is_empty() { p.order.buyer.name.trim() } else { name }
}

/// 都道府県 + 市区町村, without the prefecture twice when the buyer also typed it into the city.
pub(crate) fn prefecture_city(a: &Address) -> String {
    let city = a.city.trim();
    if city.starts_with(a.prefecture.trim()) { city.to_string() } else { format!("{}{city}", a.prefecture.trim()) }
}

/// Rejects a requested date before the shipping date.
pub(crate) fn check_date(p: &Parcel<'_>, opts: &LabelOptions) -> Result<(), LabelError> {
    match p.date {
        Some(d) if d < opts.ship_date => Err(LabelError::DateBeforeShipping),
        _ => Ok(()),
    }
}

/// Writes the label file of `program` for `orders`: one row per parcel of each order ready to
/// ship; an order one of whose parcels cannot be written is left out whole (in `skipped`).
pub fn export(
    program: Program,
    orders: &[StoredOrder],
    shop: &ShopSettings,
    rules: &Rules,
    opts: &LabelOptions,
) -> Result<Exported, ExportError> {
    match program {
        Program::B2 => write::<b2::B2>(orders, shop, rules, opts),
        Program::Ehiden => write::<ehiden::Ehiden>(orders, shop, rules, opts),
        Program::Yupri => write::<yupri::Yupri>(orders, shop, rules, opts),
    }
}

fn write<L: Layout>(
    orders: &[StoredOrder],
    shop: &ShopSettings,
    rules: &Rules,
    opts: &LabelOptions,
) -> Result<Exported, ExportError> {
    let sender = Sender::of(shop, L::PROGRAM)?;
    let base = L::base(shop, &sender)?;
    let mut csv = csv::WriterBuilder::new().terminator(csv::Terminator::CRLF).from_writer(Vec::new());
    if let Some(header) = L::HEADER {
        // Constant Japanese names, all in JIS X 0208 (a test reads them back).
        csv.write_record(header.iter().map(|h| encoding_rs::SHIFT_JIS.encode(h).0))?;
    }
    let mut out = Exported {
        program: L::PROGRAM,
        bytes: Vec::new(),
        labelled: Vec::new(),
        skipped: Vec::new(),
        not_ready: Vec::new(),
    };
    let plan = plan(orders, rules);
    out.not_ready = plan.not_ready;
    for planned in plan.orders {
        let s = planned.stored;
        let rows = planned.parcels.map_err(|e| (None, e)).and_then(|ps| {
            ps.iter()
                .map(|p| {
                    L::row(p, &base, opts)
                        .map(|r| (p.key.clone(), p.destination, r))
                        .map_err(|e| (Some(p.destination), e))
                })
                .collect::<Result<Vec<_>, _>>()
        });
        match rows {
            Ok(rows) => {
                for (key, destination, row) in rows {
                    csv.write_record(&row.0)?;
                    out.labelled.push(Labelled { key: key.clone(), order: s.key(), destination });
                    if destination == 1 {
                        // 同梱 orders share the lead's label.
                        for m in &planned.members {
                            out.labelled.push(Labelled { key: key.clone(), order: m.key(), destination: 1 });
                        }
                    }
                }
            }
            Err((destination, error)) => out.skipped.push(Skipped { order: s.key(), destination, error }),
        }
    }
    out.bytes = csv.into_inner().map_err(|e| ExportError::Csv(e.into_error().into()))?;
    Ok(out)
}
