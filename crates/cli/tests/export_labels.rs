//! `ichigen export --format b2|ehiden|yupri` on the demo's orders: one row per parcel of every
//! order ready to ship, Shift_JIS that decodes cleanly, the お客様管理番号 matching back to its
//! order and destination, 代引 and time slots carried, and the orders left out named on stderr.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use common::{demo, ichigen, orders};
use encoding_rs::SHIFT_JIS;
use ichigen_core::labels::ParcelKey;
use ichigen_core::{Order, PaymentMethod};

/// Orders ready to ship in `orders.jsonl`, by `marketplace/order_id`.
fn ready(dir: &Path) -> BTreeMap<String, Order> {
    orders(dir)
        .into_iter()
        .filter(|v| matches!(v["status"].as_str(), Some("new" | "ready_to_ship")))
        .map(|v| serde_json::from_value::<Order>(v["order"].clone()).unwrap())
        .filter(|o| !o.fulfilled_by_marketplace)
        .map(|o| (format!("{}/{}", o.marketplace, o.order_id), o))
        .collect()
}

/// Runs the export; returns the decoded records and the ids stderr names as left out.
fn export(dir: &Path, format: &str) -> (Vec<Vec<String>>, BTreeSet<String>) {
    let file = dir.join(format!("{format}.csv"));
    let out = ichigen()
        .args(["export", "--format", format, "--again", "--ship-date", "2026-11-30", "--dir", dir.to_str().unwrap()])
        .args(["-o", file.to_str().unwrap()])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let left_out: BTreeSet<String> = stderr
        .lines()
        .filter_map(|l| l.strip_prefix("書き出せなかった注文 "))
        .map(|l| l.split([' ', ':']).next().unwrap().to_string())
        .collect();
    let code = out.status.code().unwrap();
    assert_eq!(code, if left_out.is_empty() { 0 } else { 1 }, "{format}: exit {code}\n{stderr}");
    let bytes = std::fs::read(&file).unwrap();
    let (text, had_errors) = SHIFT_JIS.decode_without_bom_handling(&bytes);
    assert!(!had_errors && !text.contains("&#"), "{format}: not clean Shift_JIS");
    assert_eq!(text.matches('\n').count(), text.matches("\r\n").count(), "{format}: CRLF only");
    let mut reader = csv::ReaderBuilder::new().has_headers(false).from_reader(text.as_bytes());
    (reader.records().map(|r| r.unwrap().iter().map(str::to_string).collect()).collect(), left_out)
}

#[test]
fn label_exports_of_the_demo_have_one_row_per_parcel() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    demo(dir, 200);
    let ready = ready(dir);
    assert!(ready.values().any(|o| o.shipments.len() == 2), "the demo has a two-destination order ready");
    // (format, header rows, columns, column of the key)
    for (format, header, columns, key_col) in [("b2", 1, 42, 0), ("ehiden", 1, 74, 9), ("yupri", 0, 117, 0)] {
        let (records, left_out) = export(dir, format);
        let rows = &records[header..];
        assert!(rows.iter().all(|r| r.len() == columns), "{format}: {columns} columns");
        // Every parcel of every ready order not left out, each once.
        let mut want = BTreeSet::new();
        for (id, o) in ready.iter().filter(|(id, _)| !left_out.contains(*id)) {
            for d in 1..=o.destinations().count() {
                want.insert((id.clone(), d));
            }
        }
        let mut got = BTreeSet::new();
        for r in rows {
            let key = ParcelKey::parse(&r[key_col]).unwrap_or_else(|| panic!("{format}: key {:?}", r[key_col])).0;
            let (id, d) = ready
                .iter()
                .find_map(|(id, o)| key.matches(o).map(|d| (id.clone(), d)))
                .unwrap_or_else(|| panic!("{format}: key {key} matches no ready order"));
            assert!(got.insert((id, d)), "{format}: a parcel twice");
        }
        assert_eq!(got, want, "{format}");
        assert!(got.len() > 60, "{format}: {} rows", got.len());
        assert!(left_out.iter().all(|id| ready.contains_key(id)), "{format}: only ready orders are reported");
        // Two destinations: two rows.
        let two = ready.iter().find(|(id, o)| o.shipments.len() == 2 && !left_out.contains(*id));
        assert!(two.is_some() || format != "b2", "b2 writes every two-destination order");
        if let Some((id, _)) = two {
            assert!(got.contains(&(id.clone(), 1)) && got.contains(&(id.clone(), 2)), "{format}: {id}");
        }
        if format == "b2" {
            let row_of = |o: &Order| {
                let k = ParcelKey::new(&o.shop_id, o.marketplace, &o.order_id, 1).unwrap();
                rows.iter().find(|r| r[0] == k.as_str()).unwrap()
            };
            // 代引: コレクト with the order's total.
            let cod = ready.values().find(|o| o.payment_method == PaymentMethod::Cod && o.totals.total > 0).unwrap();
            let row = row_of(cod);
            assert_eq!((row[1].as_str(), row[33].clone()), ("2", cod.totals.total.to_string()));
            // A requested 14–16 slot: code 1416.
            let o = ready.values().find(|o| o.delivery.requested_time_slot.as_deref() == Some("14-16")).unwrap();
            assert_eq!(row_of(o)[6], "1416");
        }
    }
}
