//! 佐川急便 e飛伝Ⅲ, 共通テンプレート 「標準_飛脚宅急便_CSV_ヘッダ有り」: 74 columns with a header row,
//! Shift_JIS, CRLF. 住所 and 名称 are 16 全角 (32 bytes) a field. Facts:
//! `shared/notes/carrier-csv.md` §3. e飛伝 has no メール便: such orders go to B2 or ゆうプリR.

use super::{
    ExportError, LabelError, LabelOptions, Layout, Parcel, Program, Row, Sender, Service, Slot, check_date,
    included_tax, phone, postal, prefecture_city, recipient,
};
use crate::labels::Cool;
use crate::pipeline::ShopSettings;

/// The header row, 74 names (the 74-column order of the fact sheet; one public writer splits
/// 部署ご担当者コード取得区分 into two names and so has 75).
pub const HEADER: [&str; 74] = [
    "お届け先コード取得区分",
    "お届け先コード",
    "お届け先電話番号",
    "お届け先郵便番号",
    "お届け先住所１",
    "お届け先住所２",
    "お届け先住所３",
    "お届け先名称１",
    "お届け先名称２",
    "お客様管理番号",
    "お客様コード",
    "部署ご担当者コード取得区分",
    "部署ご担当者コード",
    "部署ご担当者名称",
    "荷送人電話番号",
    "ご依頼主コード取得区分",
    "ご依頼主コード",
    "ご依頼主電話番号",
    "ご依頼主郵便番号",
    "ご依頼主住所１",
    "ご依頼主住所２",
    "ご依頼主名称１",
    "ご依頼主名称２",
    "荷姿",
    "品名１",
    "品名２",
    "品名３",
    "品名４",
    "品名５",
    "荷札荷姿",
    "荷札品名１",
    "荷札品名２",
    "荷札品名３",
    "荷札品名４",
    "荷札品名５",
    "荷札品名６",
    "荷札品名７",
    "荷札品名８",
    "荷札品名９",
    "荷札品名１０",
    "荷札品名１１",
    "出荷個数",
    "スピード指定",
    "クール便指定",
    "配達日",
    "配達指定時間帯",
    "配達指定時間（時分）",
    "代引金額",
    "消費税",
    "決済種別",
    "保険金額",
    "指定シール１",
    "指定シール２",
    "指定シール３",
    "営業所受取",
    "ＳＲＣ区分",
    "営業所受取営業所コード",
    "元着区分",
    "メールアドレス",
    "ご不在時連絡先",
    "出荷日",
    "お問い合せ送り状No.",
    "出荷場印字区分",
    "集約解除指定",
    "編集０１",
    "編集０２",
    "編集０３",
    "編集０４",
    "編集０５",
    "編集０６",
    "編集０７",
    "編集０８",
    "編集０９",
    "編集１０",
];

/// 住所, 名称 and 品名 fields: 16 全角.
pub const FIELD_BYTES: usize = 32;
/// スピード指定 飛脚宅配便.
pub const SPEED_STANDARD: &str = "000";
/// 元着区分 元払.
pub const PREPAID: &str = "1";
/// 決済種別 for 代引: any means the buyer chooses (cash or card). *unverified* for e飛伝Ⅲ.
pub const COD_PAYMENT_ANY: &str = "1";
/// 指定シール eコレクト (any means of payment). *unverified* for e飛伝Ⅲ.
pub const SEAL_COD_ANY: &str = "010";
/// 指定シール 指定日配達.
pub const SEAL_DATE: &str = "005";
/// 指定シール 時間帯指定 of a 6-slot contract.
pub const SEAL_SLOT_SIX: &str = "019";
/// 指定シール 時間帯指定 of a 5-slot contract (for its 18–21 slot).
pub const SEAL_SLOT_FIVE: &str = "007";

/// 配達指定時間帯 code. 18–20 and 19–21 are the 6-slot contract's; 18–21 (`04`) the 5-slot one's.
pub fn slot_code(slot: Slot) -> Option<&'static str> {
    match slot {
        Slot::Morning => Some("01"),
        Slot::Hours(12, 14) => Some("12"),
        Slot::Hours(14, 16) => Some("14"),
        Slot::Hours(16, 18) => Some("16"),
        Slot::Hours(18, 20) => Some("18"),
        Slot::Hours(19, 21) => Some("19"),
        Slot::Hours(18, 21) => Some("04"),
        Slot::Hours(..) => None,
    }
}

/// The e飛伝Ⅲ layout.
pub(crate) struct Ehiden;

impl Layout for Ehiden {
    const PROGRAM: Program = Program::Ehiden;
    const COLUMNS: usize = 74;
    const HEADER: Option<&'static [&'static str]> = Some(&HEADER);

    fn base(shop: &ShopSettings, sender: &Sender) -> Result<Row, ExportError> {
        let mut row = Row::new(Self::COLUMNS);
        let customer = shop.carrier_accounts.sagawa_customer_code.trim();
        if !customer.is_empty() {
            if customer.len() != 12 || !customer.bytes().all(|b| b.is_ascii_digit()) {
                return Err(ExportError::Setting {
                    setting: "carrier_accounts.sagawa_customer_code(お客様コード、12桁)",
                    program: Program::Ehiden.name(),
                });
            }
            row.code(11, customer);
        }
        let s = |e| ExportError::Sender(e);
        row.text(15, "荷送人電話番号", &sender.phone, 14).map_err(s)?;
        row.text(18, "ご依頼主電話番号", &sender.phone, 14).map_err(s)?;
        row.code(19, &sender.postal);
        row.spread(&[20, 21], "ご依頼主住所", &[&sender.address], &[FIELD_BYTES; 2]).map_err(s)?;
        row.spread(&[22, 23], "ご依頼主名称", &[&sender.name], &[FIELD_BYTES; 2]).map_err(s)?;
        row.code(42, "1");
        row.code(43, SPEED_STANDARD);
        row.code(58, PREPAID);
        Ok(row)
    }

    fn row(p: &Parcel<'_>, base: &Row, opts: &LabelOptions) -> Result<Row, LabelError> {
        if let Service::MailBin(name) = &p.service {
            return Err(LabelError::UnsupportedService { service: name.clone(), program: Program::Ehiden.name() });
        }
        check_date(p, opts)?;
        let mut row = base.clone();
        row.text(3, "お届け先電話番号", &phone(p)?, 14)?;
        row.code(4, postal(p.ship_to)?);
        let a = p.ship_to;
        let city = prefecture_city(a);
        row.spread(&[5, 6, 7], "お届け先住所", &[&city, &a.address1, &a.address2], &[FIELD_BYTES; 3])?;
        row.spread(&[8, 9], "お届け先名称", &[recipient(p)], &[FIELD_BYTES; 2])?;
        row.code(10, p.key.as_str());
        row.goods(&[25, 26, 27, 28, 29], p, FIELD_BYTES);
        row.code(
            44,
            match p.cool {
                Cool::None => "001",
                Cool::Chilled => "002",
                Cool::Frozen => "003",
            },
        );
        let mut seals = Vec::new();
        if let Some(amount) = p.cod_amount {
            row.code(48, amount.to_string());
            row.code(49, included_tax(amount).to_string());
            row.code(50, COD_PAYMENT_ANY);
            seals.push(SEAL_COD_ANY);
        }
        if let Some(d) = p.date {
            row.code(45, d.format("%Y%m%d").to_string());
            seals.push(SEAL_DATE);
        }
        if let Some(slot) = p.slot {
            let code = Slot::parse(slot)
                .and_then(slot_code)
                .ok_or_else(|| LabelError::UnknownSlot { slot: slot.to_string(), program: Program::Ehiden.name() })?;
            row.code(46, code);
            seals.push(if code == "04" { SEAL_SLOT_FIVE } else { SEAL_SLOT_SIX });
        }
        for (col, seal) in [52, 53, 54].into_iter().zip(seals) {
            row.code(col, seal);
        }
        let id = &p.order.order_id;
        if id.len() <= FIELD_BYTES && id.bytes().all(|b| b.is_ascii_graphic() && b != b',' && b != b'"') {
            row.code(65, id);
        }
        Ok(row)
    }
}
