//! Label files checked column by column against `shared/notes/carrier-csv.md`: encoding (decoded
//! back with encoding_rs), header, column count, codes, and each field's length in Shift_JIS
//! bytes; one row per parcel.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use chrono::{DateTime, NaiveDate};
use encoding_rs::SHIFT_JIS;
use ichigen_core::labels::{ExportError, Exported, LabelError, LabelOptions, NotReady, ParcelKey, Program, export};
use ichigen_core::pipeline::{ShopContact, ShopSettings, StaffDecision, StoredOrder};
use ichigen_core::sample::SampleOrders;
use ichigen_core::{
    Address, DeliveryMethod, Finding, FindingCode, Item, Marketplace, Order, OrderStatus, PaymentMethod, Rules,
    Severity, Shipment,
};

const SHIP: &str = "2026-12-01";

fn ship_date() -> NaiveDate {
    SHIP.parse().unwrap()
}

fn opts() -> LabelOptions {
    LabelOptions { ship_date: ship_date() }
}

fn shop() -> ShopSettings {
    let mut s = ShopSettings::new("demo", "いちげん商店", "shop@example.jp");
    s.contact = ShopContact {
        company: "株式会社いちげん".into(),
        postal_code: "150-0002".into(),
        address: "東京都渋谷区渋谷2丁目21-1".into(),
        phone: "03-1234-5678".into(),
        ..ShopContact::default()
    };
    s.carrier_accounts.yamato_billing_code = "0312345678".into();
    s.carrier_accounts.sagawa_customer_code = "123456789012".into();
    s
}

fn stored(order: Order) -> StoredOrder {
    let at = DateTime::parse_from_rfc3339("2026-11-30T10:00:00+09:00").unwrap();
    StoredOrder {
        status: order.status,
        order,
        findings: Vec::new(),
        staff: StaffDecision::None,
        mails_due: Vec::new(),
        hold_episode: 0,
        ship_with: None,
        parcels: Vec::new(),
        acknowledgement: None,
        content_fp: String::new(),
        check_fp: String::new(),
        bundle_key: None,
        rev: 1,
        stored_at: at,
        expires_at: None,
    }
}

fn address(name: &str, address1: &str, address2: &str) -> Address {
    Address {
        country: "JP".into(),
        postal_code: "1000001".into(),
        prefecture: "東京都".into(),
        city: "千代田区".into(),
        address1: address1.into(),
        address2: address2.into(),
        name: name.into(),
        phone: Some("090-1111-2222".into()),
    }
}

fn item(sku: &str, name: &str, quantity: u32) -> Item {
    Item { sku: sku.into(), name: name.into(), quantity, unit_price: 1650, options: vec![] }
}

/// A clean order to be edited by each case.
fn order(id: &str) -> Order {
    let mut o = SampleOrders::new(7).clean_order(Marketplace::Rakuten, 1);
    o.shop_id = "demo".into();
    o.order_id = id.into();
    o.ship_to = address("山田 太郎", "千代田1-1", "見本ハイツ101");
    o.items = vec![item("MUG-WHT", "マグカップ ホワイト", 2)];
    o.payment_method = PaymentMethod::CreditCard;
    o.totals.total = 3800;
    o
}

/// The cases every program gets: plain with date and slot, COD, two destinations, a long
/// address, frozen.
fn cases() -> Vec<StoredOrder> {
    let mut plain = order("391234-20261126-0000000001");
    plain.delivery.requested_date = Some("2026-12-03".parse().unwrap());
    plain.delivery.requested_time_slot = Some("14-16".into());
    let mut cod = order("391234-20261126-0000000002");
    cod.payment_method = PaymentMethod::Cod;
    cod.totals.total = 4_130;
    let mut two = order("391234-20261126-0000000003");
    let second = address("佐藤 花子", "丸の内2-7-2", "");
    two.shipments = vec![
        Shipment { shipment_id: Some("1".into()), ship_to: two.ship_to.clone(), items: two.items.clone() },
        Shipment {
            shipment_id: Some("2".into()),
            ship_to: second,
            items: vec![item("TEA-50G", "有機煎茶 50g", 1), item("TOWEL-2P", "今治タオル 2枚組", 1)],
        },
    ];
    let mut long = order("391234-20261126-0000000004");
    // 東京都千代田区 + this = 67 bytes: over B2's 64, and over e飛伝's 32 for 住所２.
    long.ship_to = address("鈴木 一郎", &format!("千代田{}1-1", "あ".repeat(22)), "コーポ緑203");
    let mut frozen = order("391234-20261126-0000000005");
    frozen.delivery.method = DeliveryMethod::Frozen;
    vec![stored(plain), stored(cod), stored(two), stored(long), stored(frozen)]
}

/// The file's records: Shift_JIS decoded without a replacement, CRLF line ends only.
fn records(bytes: &[u8]) -> Vec<Vec<String>> {
    let (text, had_errors) = SHIFT_JIS.decode_without_bom_handling(bytes);
    assert!(!had_errors, "not valid Shift_JIS");
    assert!(!text.contains("&#"), "an HTML reference reached the file");
    assert!(text.is_empty() || text.ends_with("\r\n"));
    assert_eq!(text.matches('\n').count(), text.matches("\r\n").count(), "a bare LF");
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(text.as_bytes());
    reader.records().map(|r| r.unwrap().iter().map(str::to_string).collect()).collect()
}

/// Length in Shift_JIS bytes.
fn sjis_len(s: &str) -> usize {
    let (b, _, bad) = SHIFT_JIS.encode(s);
    assert!(!bad);
    b.len()
}

/// Checks that 1-based column `col` of every row is at most `limit` bytes.
fn limits(rows: &[Vec<String>], table: &[(usize, usize)]) {
    for row in rows {
        for &(col, limit) in table {
            let len = sjis_len(&row[col - 1]);
            assert!(len <= limit, "column {col} is {len} bytes, over {limit}: {:?}", row[col - 1]);
        }
    }
}

fn run(program: Program, orders: &[StoredOrder], rules: &Rules) -> Exported {
    export(program, orders, &shop(), rules, &opts()).unwrap()
}

fn key(o: &StoredOrder, destination: usize) -> String {
    ParcelKey::new(&o.order.shop_id, o.order.marketplace, &o.order.order_id, destination).unwrap().to_string()
}

#[test]
fn b2_matches_its_layout() {
    let orders = cases();
    let out = run(Program::B2, &orders, &Rules::default());
    assert!(out.skipped.is_empty(), "{:?}", out.skipped);
    let all = records(&out.bytes);
    // Header (read from row 2 on), then one row per parcel: the two-destination order has two.
    let (header, rows) = all.split_first().unwrap();
    assert_eq!(header.len(), 42);
    for (col, name) in [
        (1, "お客様管理番号"),
        (2, "送り状種類"),
        (3, "クール区分"),
        (4, "伝票番号"),
        (5, "出荷予定日"),
        (7, "配達時間帯"),
        (12, "お届け先住所"),
        (16, "お届け先名"),
        (28, "品名1"),
        (34, "ｺﾚｸﾄ代金引換額（税込)"),
        (40, "請求先顧客コード"),
        (42, "運賃管理番号"),
    ] {
        assert_eq!(header[col - 1], name, "header of column {col}");
    }
    assert_eq!(rows.len(), 6);
    assert!(rows.iter().all(|r| r.len() == 42));
    // Limits of §2.2, in bytes.
    limits(
        rows,
        &[
            (1, 20),
            (9, 15),
            (11, 8),
            (12, 64),
            (13, 32),
            (16, 32),
            (20, 15),
            (22, 8),
            (23, 64),
            (24, 32),
            (25, 32),
            (28, 50),
            (30, 50),
            (33, 44),
            (34, 7),
            (35, 7),
            (40, 12),
            (42, 2),
        ],
    );
    let by_key = |k: &str| rows.iter().find(|r| r[0] == k).unwrap_or_else(|| panic!("no row {k}"));
    let plain = by_key(&key(&orders[0], 1));
    assert_eq!(plain[1], "0", "発払い");
    assert_eq!(plain[2], "0", "クール区分 normal");
    assert_eq!(plain[3], "", "伝票番号 is B2's");
    assert_eq!(plain[4], "2026/12/01");
    assert_eq!(plain[5], "2026/12/03");
    assert_eq!(plain[6], "1416");
    assert_eq!(plain[8], "09011112222");
    assert_eq!(plain[10], "100-0001");
    assert_eq!(plain[11], "東京都千代田区千代田1-1");
    assert_eq!(plain[12], "見本ハイツ101");
    assert_eq!(plain[15], "山田 太郎");
    assert_eq!(plain[19], "0312345678");
    assert_eq!(plain[21], "150-0002");
    assert_eq!(plain[22], "東京都渋谷区渋谷2丁目21-1");
    assert_eq!(plain[24], "株式会社いちげん");
    assert_eq!(plain[27], "マグカップ ホワイト×2");
    assert_eq!(plain[32], "391234-20261126-0000000001");
    assert_eq!(plain[33], "", "no COD");
    assert_eq!(plain[39], "0312345678");
    assert_eq!(plain[41], "01");
    // 代引: コレクト with the amount and the tax inside it.
    let cod = by_key(&key(&orders[1], 1));
    assert_eq!((cod[1].as_str(), cod[33].as_str(), cod[34].as_str()), ("2", "4130", "375"));
    // Two destinations: two rows, each with its own address and items.
    let second = by_key(&key(&orders[2], 2));
    assert_eq!(second[11], "東京都千代田区丸の内2-7-2");
    assert_eq!(second[15], "佐藤 花子");
    assert_eq!(second[27], "有機煎茶 50g");
    assert_eq!(second[29], "今治タオル 2枚組");
    assert_eq!(by_key(&key(&orders[2], 1))[15], "山田 太郎");
    // A long address goes on over the building field, nothing lost.
    let long = by_key(&key(&orders[3], 1));
    let a = &orders[3].order.ship_to;
    assert_eq!(sjis_len(&long[11]), 64, "the address field is filled");
    assert_eq!(
        format!("{}{}", long[11], long[12]).replace(' ', ""),
        format!("東京都千代田区{}{}", a.address1, a.address2).replace(' ', "")
    );
    // Frozen: クール区分 1.
    assert_eq!(by_key(&key(&orders[4], 1))[2], "1");
    // What went where, for matching back.
    assert_eq!(out.labelled.len(), 6);
    assert_eq!(out.labelled[3].destination, 2);
}

#[test]
fn ehiden_matches_its_layout() {
    let orders = cases();
    let out = run(Program::Ehiden, &orders, &Rules::default());
    assert!(out.skipped.is_empty(), "{:?}", out.skipped);
    let all = records(&out.bytes);
    let (header, rows) = all.split_first().unwrap();
    assert_eq!(header.len(), 74);
    for (col, name) in [
        (3, "お届け先電話番号"),
        (5, "お届け先住所１"),
        (8, "お届け先名称１"),
        (10, "お客様管理番号"),
        (25, "品名１"),
        (44, "クール便指定"),
        (46, "配達指定時間帯"),
        (48, "代引金額"),
        (58, "元着区分"),
        (62, "お問い合せ送り状No."),
        (74, "編集１０"),
    ] {
        assert_eq!(header[col - 1], name, "header of column {col}");
    }
    assert_eq!(rows.len(), 6);
    assert!(rows.iter().all(|r| r.len() == 74));
    // §3.1: phone 14, postal 8, 住所 and 名称 16 全角, お客様管理番号 e飛伝Ⅱ's 16, 品名 16 全角.
    limits(
        rows,
        &[
            (3, 14),
            (4, 8),
            (5, 32),
            (6, 32),
            (7, 32),
            (8, 32),
            (9, 32),
            (10, 16),
            (11, 12),
            (18, 14),
            (19, 8),
            (20, 32),
            (21, 32),
            (22, 32),
            (23, 32),
            (25, 32),
            (26, 32),
            (27, 32),
            (28, 32),
            (29, 32),
        ],
    );
    let by_key = |k: &str| rows.iter().find(|r| r[9] == k).unwrap_or_else(|| panic!("no row {k}"));
    let plain = by_key(&key(&orders[0], 1));
    assert_eq!(plain[2], "09011112222");
    assert_eq!(plain[3], "100-0001");
    assert_eq!(
        (plain[4].as_str(), plain[5].as_str(), plain[6].as_str()),
        ("東京都千代田区", "千代田1-1", "見本ハイツ101")
    );
    assert_eq!(plain[7], "山田 太郎");
    assert_eq!(plain[10], "123456789012");
    assert_eq!(plain[24], "マグカップ ホワイト×2");
    assert_eq!(plain[41], "1", "出荷個数");
    assert_eq!(plain[42], "000", "飛脚宅配便");
    assert_eq!(plain[43], "001", "クール便 normal");
    assert_eq!(plain[44], "20261203");
    assert_eq!(plain[45], "14");
    assert_eq!(plain[47], "", "no COD");
    assert_eq!((plain[51].as_str(), plain[52].as_str()), ("005", "019"), "指定日 and 時間帯 seals");
    assert_eq!(plain[57], "1", "元払");
    assert_eq!(plain[61], "", "お問い合せ送り状No. is e飛伝's");
    let cod = by_key(&key(&orders[1], 1));
    assert_eq!((cod[47].as_str(), cod[48].as_str(), cod[49].as_str()), ("4130", "375", "1"));
    assert_eq!(cod[51], "010", "eコレクト seal");
    let second = by_key(&key(&orders[2], 2));
    assert_eq!(
        (second[5].as_str(), second[24].as_str(), second[25].as_str()),
        ("丸の内2-7-2", "有機煎茶 50g", "今治タオル 2枚組")
    );
    let long = by_key(&key(&orders[3], 1));
    let a = &orders[3].order.ship_to;
    assert_eq!(
        format!("{}{}{}", long[4], long[5], long[6]).replace(' ', ""),
        format!("東京都千代田区{}{}", a.address1, a.address2).replace(' ', "")
    );
    assert_eq!(by_key(&key(&orders[4], 1))[43], "003", "クール冷凍");
}

#[test]
fn yupri_matches_its_layout() {
    let orders = cases();
    let out = run(Program::Yupri, &orders, &Rules::default());
    assert!(out.skipped.is_empty(), "{:?}", out.skipped);
    let rows = records(&out.bytes);
    // No header: every record is a parcel.
    assert_eq!(rows.len(), 6);
    assert!(rows.iter().all(|r| r.len() == 117));
    // §4.2 byte limits.
    limits(
        rows.as_slice(),
        &[
            (1, 15),
            (2, 8),
            (6, 1),
            (7, 1),
            (8, 1),
            (13, 8),
            (14, 50),
            (15, 50),
            (16, 50),
            (17, 50),
            (18, 50),
            (19, 1),
            (20, 20),
        ],
    );
    let by_key = |k: &str| rows.iter().find(|r| r[0] == k).unwrap_or_else(|| panic!("no row {k}"));
    let plain = by_key(&key(&orders[0], 1));
    assert_eq!(plain[1], "20261201");
    assert_eq!(
        (plain[5].as_str(), plain[6].as_str(), plain[7].as_str()),
        ("0", "0", "0"),
        "ゆうパック, no cool, 元払い"
    );
    assert_eq!(plain[12], "100-0001");
    assert_eq!(
        (plain[13].as_str(), plain[14].as_str(), plain[15].as_str()),
        ("東京都千代田区", "千代田1-1", "見本ハイツ101")
    );
    assert_eq!(plain[16], "山田 太郎");
    assert_eq!(plain[19], "09011112222");
    assert_eq!(plain[64], "20261203");
    assert_eq!(plain[65], "53", "14–16");
    assert_eq!(plain[102], "マグカップ ホワイト×2");
    assert_eq!(plain[29], "150-0002");
    assert_eq!(plain[33], "株式会社いちげん");
    let cod = by_key(&key(&orders[1], 1));
    assert_eq!((cod[7].as_str(), cod[98].as_str(), cod[99].as_str()), ("2", "4130", "375"));
    assert_eq!(by_key(&key(&orders[0], 1))[98], "");
    assert_eq!(by_key(&key(&orders[2], 2))[14], "丸の内2-7-2");
    assert_eq!(by_key(&key(&orders[4], 1))[6], "2", "冷凍");
    assert_eq!(by_key(&key(&orders[3], 1))[65], "00", "no slot");
}

#[test]
fn each_slot_maps_to_its_program_code_or_is_refused() {
    // (slot, B2, e飛伝, ゆうプリR); None: the program has no such slot.
    type Codes = (Option<&'static str>, Option<&'static str>, Option<&'static str>);
    let table: [(&str, Codes); 7] = [
        ("午前中", (Some("0812"), Some("01"), Some("51"))),
        ("12-14", (None, Some("12"), Some("52"))),
        ("14-16", (Some("1416"), Some("14"), Some("53"))),
        ("16-18", (Some("1618"), Some("16"), Some("54"))),
        ("18-20", (Some("1820"), Some("18"), Some("55"))),
        ("19-21", (Some("1921"), Some("19"), Some("57"))),
        ("午後", (None, None, None)),
    ];
    for (slot, (b2, ehiden, yupri)) in table {
        let mut o = order("slot-1");
        o.delivery.requested_time_slot = Some(slot.into());
        let orders = [stored(o)];
        for (program, col, want) in [(Program::B2, 6, b2), (Program::Ehiden, 45, ehiden), (Program::Yupri, 65, yupri)] {
            let out = run(program, &orders, &Rules::default());
            let rows = records(&out.bytes);
            match want {
                Some(code) => assert_eq!(rows.last().unwrap()[col], code, "{slot} in {program:?}"),
                None => {
                    assert_eq!(rows.len(), usize::from(program != Program::Yupri), "{slot} in {program:?}: no row");
                    assert!(
                        matches!(&out.skipped[0].error, LabelError::UnknownSlot { slot: s, .. } if s == slot),
                        "{:?}",
                        out.skipped
                    );
                }
            }
        }
    }
}

#[test]
fn mail_bin_follows_the_shops_service() {
    let mut o = order("mail-1");
    o.delivery.method = DeliveryMethod::MailBin;
    o.items = vec![item("STICKER-A", "ステッカー Aセット", 2)];
    let orders = [stored(o.clone())];
    // ネコポス (the default service): B2 code A; e飛伝 and ゆうプリR cannot issue it.
    let b2 = run(Program::B2, &orders, &Rules::default());
    let row = &records(&b2.bytes)[1];
    assert_eq!((row[1].as_str(), row[2].as_str()), ("A", ""), "ネコポス, no クール区分");
    for program in [Program::Ehiden, Program::Yupri] {
        let out = run(program, &orders, &Rules::default());
        assert!(
            matches!(&out.skipped[0].error, LabelError::UnsupportedService { service, .. } if service == "ネコポス")
        );
    }
    // ゆうパケット: 郵便種別 9 in ゆうプリR.
    let rules = Rules::from_toml("[mail_bin]\nservice = \"ゆうパケット\"\n").unwrap();
    let out = run(Program::Yupri, &orders, &rules);
    assert_eq!(records(&out.bytes)[0][5], "9");
    let rules = Rules::from_toml("[mail_bin]\nservice = \"クロネコゆうパケット\"\n").unwrap();
    assert_eq!(records(&run(Program::B2, &orders, &rules).bytes)[1][1], "7");
    // A conflict (items do not fit) makes it a 宅急便.
    let mut conflicted = stored(o);
    conflicted.findings.push(Finding {
        code: FindingCode::MailBinConflict,
        severity: Severity::Hold,
        message: String::new(),
        evidence: serde_json::Value::Null,
    });
    assert_eq!(records(&run(Program::B2, &[conflicted], &Rules::default()).bytes)[1][1], "0");
}

#[test]
fn orders_the_programs_cannot_take_are_named_and_left_out_whole() {
    let mut emoji = order("bad-1");
    emoji.ship_to.name = "山田 😀".into();
    let mut too_long = order("bad-2");
    too_long.ship_to.address1 = "あ".repeat(80);
    let mut second_bad = order("bad-3");
    let mut far = address("佐藤 花子", "丸の内2-7-2", "");
    far.country = "US".into();
    second_bad.shipments = vec![
        Shipment { shipment_id: None, ship_to: second_bad.ship_to.clone(), items: second_bad.items.clone() },
        Shipment { shipment_id: None, ship_to: far, items: second_bad.items.clone() },
    ];
    let mut held = stored(order("held-1"));
    held.status = OrderStatus::OnHold;
    let mut shipped = stored(order("shipped-1"));
    shipped.status = OrderStatus::Shipped;
    let good = order("good-1");
    let orders = [stored(emoji), stored(too_long), stored(second_bad), held, shipped, stored(good)];
    for program in [Program::B2, Program::Ehiden, Program::Yupri] {
        let out = run(program, &orders, &Rules::default());
        let ids: Vec<&str> = out.labelled.iter().map(|l| l.order.order_id.as_str()).collect();
        assert_eq!(ids, ["good-1"], "{program:?}");
        let errors: Vec<(&str, &LabelError)> =
            out.skipped.iter().map(|s| (s.order.order_id.as_str(), &s.error)).collect();
        assert!(matches!(errors[0], ("bad-1", LabelError::Unrepresentable { code: 0x1F600, .. })), "{errors:?}");
        assert!(matches!(errors[1], ("bad-2", LabelError::TooLong { field: "お届け先住所", .. })), "{errors:?}");
        assert!(matches!(errors[2], ("bad-3", LabelError::Abroad { destination: 2 })), "{errors:?}");
        // No buyer text in the messages staff see.
        for (_, e) in &errors {
            let m = e.to_string();
            assert!(!m.contains("山田") && !m.contains("あああ"), "{m}");
        }
        let not_ready: Vec<NotReady> = out.not_ready.iter().map(|(_, n)| *n).collect();
        assert_eq!(not_ready, [NotReady::Held, NotReady::Closed]);
        assert_eq!(records(&out.bytes).len(), 1 + usize::from(program != Program::Yupri));
    }
}

#[test]
fn the_shops_settings_must_fill_the_sender_block() {
    let orders = cases();
    let mut s = shop();
    s.carrier_accounts.yamato_billing_code.clear();
    let e = export(Program::B2, &orders, &s, &Rules::default(), &opts()).unwrap_err();
    assert!(
        matches!(e, ExportError::Setting { setting, .. } if setting.starts_with("carrier_accounts.yamato_billing_code"))
    );
    // e飛伝 and ゆうプリR do without a Yamato code, not without an address.
    assert!(export(Program::Ehiden, &orders, &s, &Rules::default(), &opts()).is_ok());
    s.contact.address.clear();
    let e = export(Program::Yupri, &orders, &s, &Rules::default(), &opts()).unwrap_err();
    assert!(matches!(e, ExportError::Setting { setting: "contact.address", .. }), "{e}");
}

#[test]
fn sample_orders_give_one_row_per_parcel_with_keys_that_match_back() {
    let mut sample = SampleOrders::new(42);
    let orders: Vec<StoredOrder> = (0..400)
        .map(|n| {
            let mut o = sample.varied_order(Marketplace::ALL[n % 5], n);
            o.shop_id = "demo".into();
            // Dates in the sample are in early December.
            o.delivery.requested_date = o.delivery.requested_date.filter(|d| *d >= ship_date());
            stored(o)
        })
        .collect();
    for program in [Program::B2, Program::Ehiden, Program::Yupri] {
        let out = run(program, &orders, &Rules::default());
        let rows = records(&out.bytes);
        let data_rows = rows.len() - usize::from(program != Program::Yupri);
        assert_eq!(data_rows, out.labelled.len());
        let ready = orders.iter().filter(|s| ichigen_core::labels::readiness(s).is_ok());
        let skipped: Vec<_> = out.skipped.iter().map(|s| &s.order).collect();
        let parcels: usize =
            ready.filter(|s| !skipped.contains(&&s.key())).map(|s| s.order.destinations().count()).sum();
        assert_eq!(out.labelled.len(), parcels, "{program:?}: one row per parcel");
        assert!(out.labelled.len() > 200, "{program:?}: {} rows", out.labelled.len());
        let mut keys = std::collections::HashSet::new();
        for l in &out.labelled {
            assert!(keys.insert(l.key.clone()), "key twice");
            let order = &orders.iter().find(|s| s.key() == l.order).unwrap().order;
            assert_eq!(l.key.matches(order), Some(l.destination));
            let (parsed, _, _) = ParcelKey::parse(l.key.as_str()).unwrap();
            assert_eq!(parsed, l.key);
        }
        // Skipped orders are those a program cannot take: メール便 outside B2, slots it lacks.
        for s in &out.skipped {
            assert!(
                matches!(
                    s.error,
                    LabelError::UnsupportedService { .. } | LabelError::UnknownSlot { .. } | LabelError::Pickup
                ),
                "{program:?}: {:?}",
                s
            );
        }
    }
}

/// Two orders of one recipient with the same 同梱 check key; `member` ships with `lead`.
fn box_of_two() -> (StoredOrder, StoredOrder) {
    let mut lead = stored(order("391234-20261126-0000000011"));
    let mut member = stored(order("391234-20261126-0000000012"));
    member.order.items = vec![item("TEA-50G", "有機煎茶 50g", 3)];
    for s in [&mut lead, &mut member] {
        s.bundle_key = Some("same-recipient".into());
        s.order.payment_method = PaymentMethod::Cod;
    }
    lead.order.totals.total = 4_130;
    member.order.totals.total = 2_000;
    member.ship_with = Some(lead.key());
    (lead, member)
}

#[test]
fn a_box_of_two_orders_is_one_row_with_both_orders_goods_and_money() {
    let (lead, member) = box_of_two();
    // The member listed first: it still goes into its lead's row.
    let out = run(Program::B2, &[member.clone(), lead.clone()], &Rules::default());
    assert!(out.skipped.is_empty(), "{:?}", out.skipped);
    let all = records(&out.bytes);
    let rows = &all[1..];
    assert_eq!(rows.len(), 1, "one box, one row");
    assert_eq!(rows[0][0], key(&lead, 1));
    assert_eq!(rows[0][1], "2", "送り状種類 2 コレクト: 代引");
    assert_eq!(rows[0][33], "6130", "代引: both orders' totals");
    let goods = rows[0][27..=31].join(" ");
    assert!(goods.contains("マグカップ") && goods.contains("有機煎茶"), "品名: {goods}");
    let labelled: Vec<_> = out.labelled.iter().map(|l| (l.key.to_string(), l.order.clone())).collect();
    assert_eq!(labelled, vec![(key(&lead, 1), lead.key()), (key(&lead, 1), member.key())]);
}

#[test]
fn a_box_that_cannot_go_together_is_left_out_whole_and_a_lone_member_waits_for_its_lead() {
    let (lead, mut member) = box_of_two();
    member.order.delivery.requested_date = Some("2026-12-05".parse().unwrap());
    let out = run(Program::B2, &[lead.clone(), member.clone()], &Rules::default());
    assert_eq!(records(&out.bytes).len(), 1, "header only");
    assert_eq!(out.skipped.len(), 1);
    assert_eq!(out.skipped[0].order, lead.key());
    let shown = out.skipped[0].error.to_string();
    assert!(shown.contains("同梱する注文 391234-20261126-0000000012") && shown.contains("お届け希望日時"), "{shown}");

    // The lead is not ready (held): the member is not shipped alone either.
    let (mut lead, member) = box_of_two();
    lead.status = OrderStatus::OnHold;
    let out = run(Program::B2, &[lead.clone(), member.clone()], &Rules::default());
    assert!(out.labelled.is_empty());
    assert_eq!(out.not_ready, vec![(lead.key(), NotReady::Held)]);
    assert!(matches!(&out.skipped[0].error, LabelError::LeadNotReady { lead: id } if *id == lead.order.order_id));
}
