//! ヤマト運輸 B2クラウド, 「外部データから発行」: columns 1–42 of the B2 layout (the rest are
//! optional services and may be left off), Shift_JIS, CRLF, with a header row (set 取込開始行 to
//! 2). Facts: `shared/notes/carrier-csv.md` §2.

use super::{
    ExportError, LabelError, LabelOptions, Layout, Parcel, Program, Row, Sender, Service, Slot, check_date,
    included_tax, phone, postal, prefecture_city, recipient,
};
use crate::labels::Cool;
use crate::pipeline::ShopSettings;

/// The header row: columns 1–42 as the B2クラウド template names them.
pub const HEADER: [&str; 42] = [
    "お客様管理番号",
    "送り状種類",
    "クール区分",
    "伝票番号",
    "出荷予定日",
    "お届け予定日",
    "配達時間帯",
    "お届け先コード",
    "お届け先電話番号",
    "お届け先電話番号枝番",
    "お届け先郵便番号",
    "お届け先住所",
    "お届け先アパートマンション名",
    "お届け先会社・部門1",
    "お届け先会社・部門2",
    "お届け先名",
    "お届け先名(ｶﾅ)",
    "敬称",
    "ご依頼主コード",
    "ご依頼主電話番号",
    "ご依頼主電話番号枝番",
    "ご依頼主郵便番号",
    "ご依頼主住所",
    "ご依頼主アパートマンション",
    "ご依頼主名",
    "ご依頼主名(ｶﾅ)",
    "品名コード1",
    "品名1",
    "品名コード2",
    "品名2",
    "荷扱い1",
    "荷扱い2",
    "記事",
    "ｺﾚｸﾄ代金引換額（税込)",
    "内消費税額等",
    "止置き",
    "営業所コード",
    "発行枚数",
    "個数口表示フラグ",
    "請求先顧客コード",
    "請求先分類コード",
    "運賃管理番号",
];

/// 送り状種類 発払い.
pub const TYPE_PREPAID: &str = "0";
/// 送り状種類 コレクト (代引).
pub const TYPE_COLLECT: &str = "2";
/// 送り状種類 of the current template for ネコポス (B2's web code, from 2024-10-01). Older
/// templates used 7 for ネコポス. *unverified* against a Yamato document: test once.
pub const TYPE_NEKOPOS: &str = "A";
/// 送り状種類 of the current template for クロネコゆうパケット (older templates: ネコポス).
pub const TYPE_YU_PACKET: &str = "7";
/// The メール便 services B2 issues, by the name the shop's rules give (`mail_bin.service`).
pub const MAIL_BIN_TYPES: [(&str, &str); 2] = [("ネコポス", TYPE_NEKOPOS), ("クロネコゆうパケット", TYPE_YU_PACKET)];

/// コレクト amounts B2 accepts, yen.
pub const COD_MAX: i64 = 300_000;
/// 運賃管理番号 when the shop sets none.
pub const DEFAULT_FREIGHT_CODE: &str = "01";

/// 配達時間帯 code of a slot. 12–14 and 20–21 are no longer Yamato slots and are not written.
pub fn slot_code(slot: Slot) -> Option<&'static str> {
    match slot {
        Slot::Morning => Some("0812"),
        Slot::Hours(14, 16) => Some("1416"),
        Slot::Hours(16, 18) => Some("1618"),
        Slot::Hours(18, 20) => Some("1820"),
        Slot::Hours(19, 21) => Some("1921"),
        Slot::Hours(..) => None,
    }
}

/// The B2クラウド layout.
pub(crate) struct B2;

impl Layout for B2 {
    const PROGRAM: Program = Program::B2;
    const COLUMNS: usize = 42;
    const HEADER: Option<&'static [&'static str]> = Some(&HEADER);

    fn base(shop: &ShopSettings, sender: &Sender) -> Result<Row, ExportError> {
        let accounts = &shop.carrier_accounts;
        let billing = accounts.yamato_billing_code.trim();
        if !(10..=12).contains(&billing.len()) || !billing.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ExportError::Setting {
                setting: "carrier_accounts.yamato_billing_code(請求先顧客コード、10〜12桁)",
                program: Program::B2.name(),
            });
        }
        let freight = accounts.yamato_freight_code.trim();
        let freight = if freight.is_empty() { DEFAULT_FREIGHT_CODE } else { freight };
        if freight.len() != 2 || !freight.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ExportError::Setting {
                setting: "carrier_accounts.yamato_freight_code(運賃管理番号、2桁)",
                program: Program::B2.name(),
            });
        }
        let mut row = Row::new(Self::COLUMNS);
        row.code(20, &sender.phone);
        row.code(22, &sender.postal);
        row.spread(&[23, 24], "ご依頼主住所", &[&sender.address], &[64, 32]).map_err(ExportError::Sender)?;
        row.text(25, "ご依頼主名", &sender.name, 32).map_err(ExportError::Sender)?;
        row.code(40, billing);
        row.code(42, freight);
        Ok(row)
    }

    fn row(p: &Parcel<'_>, base: &Row, opts: &LabelOptions) -> Result<Row, LabelError> {
        check_date(p, opts)?;
        let mut row = base.clone();
        row.code(1, p.key.as_str());
        let kind = match (&p.service, p.cod_amount) {
            (Service::MailBin(name), _) => MAIL_BIN_TYPES
                .iter()
                .find(|(n, _)| *n == name.trim())
                .map(|(_, c)| *c)
                .ok_or(LabelError::UnsupportedService { service: name.clone(), program: Program::B2.name() })?,
            (Service::Parcel, Some(_)) => TYPE_COLLECT,
            (Service::Parcel, None) => TYPE_PREPAID,
        };
        row.code(2, kind);
        if p.service == Service::Parcel {
            row.code(
                3,
                match p.cool {
                    Cool::None => "0",
                    Cool::Frozen => "1",
                    Cool::Chilled => "2",
                },
            );
        }
        row.code(5, opts.ship_date.format("%Y/%m/%d").to_string());
        if let Some(d) = p.date {
            row.code(6, d.format("%Y/%m/%d").to_string());
        }
        if let Some(slot) = p.slot {
            let code = Slot::parse(slot)
                .and_then(slot_code)
                .ok_or_else(|| LabelError::UnknownSlot { slot: slot.to_string(), program: Program::B2.name() })?;
            row.code(7, code);
        }
        row.text(9, "お届け先電話番号", &phone(p)?, 15)?;
        row.code(11, postal(p.ship_to)?);
        let a = p.ship_to;
        let street = format!("{}{}", prefecture_city(a), a.address1);
        row.spread(&[12, 13], "お届け先住所", &[&street, &a.address2], &[64, 32])?;
        row.text(16, "お届け先名", recipient(p), 32)?;
        row.goods(&[28, 30], p, 50);
        // The marketplace's order number, printed, for the packer (when it fits 記事).
        let id = &p.order.order_id;
        if id.len() <= 44 && id.bytes().all(|b| b.is_ascii_graphic() && b != b',' && b != b'"') {
            row.code(33, id);
        }
        if let Some(amount) = p.cod_amount {
            if amount > COD_MAX {
                return Err(LabelError::CodOverLimit { amount, max: COD_MAX, program: Program::B2.name() });
            }
            row.code(34, amount.to_string());
            row.code(35, included_tax(amount).to_string());
        }
        Ok(row)
    }
}
