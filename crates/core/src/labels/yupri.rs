//! 日本郵便 ゆうパックプリントR, 発送予定データ in the standard layout of 117 columns, no header
//! row, Shift_JIS, CRLF, read through the 取込フィルタ 「郵便・ゆうパック標準取込」. Columns 1–27
//! and their byte limits come from a cart vendor's layout; the positions past 27 come from a
//! public writer of the 117-column layout and are *unverified* (named constants below). Facts:
//! `shared/notes/carrier-csv.md` §4.

use super::{
    ExportError, LabelError, LabelOptions, Layout, Parcel, Program, Row, Sender, Service, Slot, check_date,
    included_tax, phone, postal, prefecture_city, recipient,
};
use crate::labels::Cool;
use crate::pipeline::ShopSettings;

/// Columns of the standard layout (public writers also show 118 and 100: test one import).
pub const COLUMNS: usize = 117;
/// 住所１–３ and 名称１–２: 50 bytes each.
pub const FIELD_BYTES: usize = 50;
/// お客様側管理番号: 15 bytes.
pub const KEY_BYTES: usize = 15;
/// お届け先 電話番号: 20 bytes.
pub const PHONE_BYTES: usize = 20;

/// 郵便種別 ゆうパック.
pub const KIND_YU_PACK: &str = "0";
/// 郵便種別 ゆうパケット.
pub const KIND_YU_PACKET: &str = "9";
/// The メール便 services ゆうプリR issues, by the name the shop's rules give (`mail_bin.service`).
pub const MAIL_BIN_KINDS: [(&str, &str); 1] = [("ゆうパケット", KIND_YU_PACKET)];
/// 元／着払／代引: 元払い.
pub const PREPAID: &str = "0";
/// 元／着払／代引: 代引き.
pub const COD: &str = "2";
/// お届け先 敬称区分 as public writers send it (*unverified*: 様).
pub const HONORIFIC: &str = "0";
/// 配達時間帯区分 when none is asked for.
pub const NO_SLOT: &str = "00";

// Positions past column 27: *unverified* (one public 117-column writer).
/// ご依頼主 郵便番号.
pub const COL_SENDER_POSTAL: usize = 30;
/// ご依頼主 住所１–３.
pub const COL_SENDER_ADDRESS: [usize; 3] = [31, 32, 33];
/// ご依頼主 名称１–２.
pub const COL_SENDER_NAME: [usize; 2] = [34, 35];
/// ご依頼主 電話番号.
pub const COL_SENDER_PHONE: usize = 37;
/// 受注番号.
pub const COL_ORDER_ID: usize = 54;
/// 配達指定日.
pub const COL_DATE: usize = 65;
/// 配達時間帯区分.
pub const COL_SLOT: usize = 66;
/// 代引金額.
pub const COL_COD_AMOUNT: usize = 99;
/// 代引消費税金額.
pub const COL_COD_TAX: usize = 100;
/// 品名.
pub const COL_GOODS: usize = 103;

/// 配達時間帯区分 code. The 51–57 series is 楽天's R-Waybill list for ゆうパック (*unverified*
/// for ゆうプリR; 52 = 12–14 is confirmed by a cart vendor).
pub fn slot_code(slot: Slot) -> Option<&'static str> {
    match slot {
        Slot::Morning => Some("51"),
        Slot::Hours(12, 14) => Some("52"),
        Slot::Hours(14, 16) => Some("53"),
        Slot::Hours(16, 18) => Some("54"),
        Slot::Hours(18, 20) => Some("55"),
        Slot::Hours(19, 21) => Some("57"),
        Slot::Hours(..) => None,
    }
}

/// The ゆうパックプリントR layout.
pub(crate) struct Yupri;

impl Layout for Yupri {
    const PROGRAM: Program = Program::Yupri;
    const COLUMNS: usize = COLUMNS;
    const HEADER: Option<&'static [&'static str]> = None;

    fn base(_shop: &ShopSettings, sender: &Sender) -> Result<Row, ExportError> {
        let s = |e| ExportError::Sender(e);
        let mut row = Row::new(COLUMNS);
        row.code(COL_SENDER_POSTAL, &sender.postal);
        row.spread(&COL_SENDER_ADDRESS, "ご依頼主住所", &[&sender.address], &[FIELD_BYTES; 3]).map_err(s)?;
        row.spread(&COL_SENDER_NAME, "ご依頼主名称", &[&sender.name], &[FIELD_BYTES; 2]).map_err(s)?;
        row.text(COL_SENDER_PHONE, "ご依頼主電話番号", &sender.phone, PHONE_BYTES).map_err(s)?;
        row.code(19, HONORIFIC);
        Ok(row)
    }

    fn row(p: &Parcel<'_>, base: &Row, opts: &LabelOptions) -> Result<Row, LabelError> {
        check_date(p, opts)?;
        let mut row = base.clone();
        row.text(1, "お客様側管理番号", p.key.as_str(), KEY_BYTES)?;
        row.code(2, opts.ship_date.format("%Y%m%d").to_string());
        let kind = match &p.service {
            Service::Parcel => KIND_YU_PACK,
            Service::MailBin(name) => MAIL_BIN_KINDS
                .iter()
                .find(|(n, _)| *n == name.trim())
                .map(|(_, c)| *c)
                .ok_or(LabelError::UnsupportedService { service: name.clone(), program: Program::Yupri.name() })?,
        };
        row.code(6, kind);
        row.code(
            7,
            match p.cool {
                Cool::None => "0",
                Cool::Chilled => "1",
                Cool::Frozen => "2",
            },
        );
        row.code(8, if p.cod_amount.is_some() { COD } else { PREPAID });
        row.code(13, postal(p.ship_to)?);
        let a = p.ship_to;
        let city = prefecture_city(a);
        row.spread(&[14, 15, 16], "お届け先住所", &[&city, &a.address1, &a.address2], &[FIELD_BYTES; 3])?;
        row.spread(&[17, 18], "お届け先名称", &[recipient(p)], &[FIELD_BYTES; 2])?;
        row.text(20, "お届け先電話番号", &phone(p)?, PHONE_BYTES)?;
        let id = &p.order.order_id;
        if id.len() <= FIELD_BYTES && id.bytes().all(|b| b.is_ascii_graphic() && b != b',' && b != b'"') {
            row.code(COL_ORDER_ID, id);
        }
        if let Some(d) = p.date {
            row.code(COL_DATE, d.format("%Y%m%d").to_string());
        }
        let slot = match p.slot {
            None => NO_SLOT,
            Some(slot) => Slot::parse(slot)
                .and_then(slot_code)
                .ok_or_else(|| LabelError::UnknownSlot { slot: slot.to_string(), program: Program::Yupri.name() })?,
        };
        row.code(COL_SLOT, slot);
        if let Some(amount) = p.cod_amount {
            row.code(COL_COD_AMOUNT, amount.to_string());
            row.code(COL_COD_TAX, included_tax(amount).to_string());
        }
        row.goods(&[COL_GOODS], p, FIELD_BYTES);
        Ok(row)
    }
}
