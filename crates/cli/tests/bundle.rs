//! 同梱 as a clerk does it on the demo's orders: a repeat buyer's two orders flagged as candidates
//! → `orders bundle` → one label row and one 納品書 for both → the issued-label file's one number
//! recorded on both → written back to the marketplace for each order by the next run, and each
//! buyer told once. A bundle with another recipient's order is refused and changes nothing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;
use std::process::Command;

use common::{demo, eml_files, ichigen, json_lines, orders, parse_eml, run_ok, stdout};
use encoding_rs::SHIFT_JIS;
use serde_json::Value;

const ORDERS: usize = 300;

/// The store as `orders list` shows it now (orders.jsonl is the demo's own snapshot).
fn stored(dir: &Path) -> Vec<Value> {
    let out = run_ok(&["orders", "list", "--format", "json", "--dir", dir.to_str().unwrap()]);
    json_lines(&stdout(&out))
}

fn find<'a>(all: &'a [Value], key: &str) -> &'a Value {
    all.iter().find(|v| common::key(v) == key).unwrap_or_else(|| panic!("{key} not stored"))
}

/// Runs ichigen in `dir`; (exit code, stdout, stderr).
fn run(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = ichigen().args(args).args(["--dir", dir.to_str().unwrap()]).output().unwrap();
    (out.status.code().unwrap(), stdout(&out), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn a_repeat_buyers_orders_ship_in_one_box_with_one_number_written_back_to_each() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    demo(dir, ORDERS);
    let all = orders(dir);

    // The candidates the check flagged, each with the earlier order of the same recipient.
    let mut pair = None;
    for v in &all {
        let Some(f) = v["findings"].as_array().unwrap().iter().find(|f| f["code"] == "order.bundle_candidate") else {
            continue;
        };
        let mate = &f["evidence"]["orders"][0];
        let lead = format!("{}/{}", mate["marketplace"].as_str().unwrap(), mate["order_id"].as_str().unwrap());
        let member = common::key(v);
        let (code, _, _) = run(dir, &["orders", "bundle", &lead, &member]);
        // Refused when the two differ in date, slot or temperature: the next candidate, then.
        if code == 0 && v["marketplace"] != "amazon" {
            pair = Some((lead, member));
            break;
        }
        if code == 0 {
            run_ok(&["orders", "unbundle", &member, "--dir", dir.to_str().unwrap()]);
        }
    }
    let (lead, member) = pair.expect("the demo has a repeat buyer whose orders can go in one box");
    let show = stdout(&run_ok(&["orders", "show", &member, "--dir", dir.to_str().unwrap()]));
    assert!(show.contains(&format!("同梱       {lead} の荷物で出荷")), "{show}");

    // Another recipient's order is refused, and nothing changes.
    let stranger = all
        .iter()
        .find(|v| v["status"] == "ready_to_ship" && common::key(v) != lead && common::key(v) != member)
        .map(common::key)
        .unwrap();
    let (code, _, stderr) = run(dir, &["orders", "bundle", &lead, &stranger]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("お届け先が同梱先の注文と異なります"), "{stderr}");
    let show = stdout(&run_ok(&["orders", "show", &stranger, "--dir", dir.to_str().unwrap()]));
    assert!(!show.contains("同梱 "), "{show}");

    // One label row for the box, found by the lead's お客様管理番号; the member is 印刷済 with it.
    // The filter names the member's marketplace only: the box is still written whole.
    let member_marketplace = member.split('/').next().unwrap();
    let file = dir.join("b2.csv");
    let (_, _, stderr) = run(
        dir,
        &[
            "export",
            "--format",
            "b2",
            "--marketplace",
            member_marketplace,
            "--ship-date",
            "2026-11-30",
            "-o",
            file.to_str().unwrap(),
        ],
    );
    let bytes = std::fs::read(&file).unwrap();
    let (text, _, bad) = SHIFT_JIS.decode(&bytes);
    assert!(!bad, "{stderr}");
    let rows: Vec<Vec<String>> = csv::ReaderBuilder::new()
        .from_reader(text.as_bytes())
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect();
    let (lm, lid) = lead.split_once('/').unwrap();
    let (mm, mid) = member.split_once('/').unwrap();
    let lead_key =
        ichigen_core::labels::ParcelKey::new("demo", lm.parse().unwrap(), lid, 1).unwrap().as_str().to_string();
    let member_key =
        ichigen_core::labels::ParcelKey::new("demo", mm.parse().unwrap(), mid, 1).unwrap().as_str().to_string();
    assert_eq!(rows.iter().filter(|r| r[0] == lead_key).count(), 1, "the box's row: {stderr}");
    assert!(rows.iter().all(|r| r[0] != member_key), "no row of its own for the member");
    let now = stored(dir);
    for key in [&lead, &member] {
        assert_eq!(find(&now, key)["shipping"], "printed", "{key}");
    }

    // One 納品書 for the box: the lead's order, then the member's under 同梱.
    let pdf = dir.join("slips.pdf");
    let (code, _, stderr) = run(dir, &["print", "slips", "--again", "-o", pdf.to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    let out = Command::new("pdftotext").args([pdf.to_str().unwrap(), "-"]).output().expect("pdftotext");
    let text = String::from_utf8(out.stdout).unwrap();
    let at =
        text.find(&format!("同梱 ご注文番号: {} {mid}", ichigen_core::japanese::marketplace_name(mm.parse().unwrap())));
    assert!(at.is_some(), "the member on the lead's slip");
    assert_eq!(text.matches(&format!(" {mid}")).count(), 1, "the member has no slip of its own");

    // The issued-label file gives the box one number: both orders 出荷済 with it.
    let number = "400000010012"; // 11 digits and their mod-7 check digit (carriers.md)
    let issued =
        format!("お客様管理番号,送り状種類,クール区分,伝票番号,出荷予定日\r\n{lead_key},0,0,{number},2026/11/30\r\n");
    let issued_path = dir.join("issued.csv");
    std::fs::write(&issued_path, SHIFT_JIS.encode(&issued).0).unwrap();
    let (code, out, stderr) = run(dir, &["tracking", "import", issued_path.to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    assert!(out.contains("出荷済にしました"), "{out}");
    let now = stored(dir);
    for key in [&lead, &member] {
        let v = find(&now, key);
        assert_eq!(v["shipping"], "shipped", "{key}");
        assert_eq!(v["parcels"][0]["tracking"]["number"], number, "{key}");
    }

    // The next run writes the number back to each order's marketplace; each buyer is told once.
    demo(dir, ORDERS);
    let now = orders(dir);
    let shipping_mails: Vec<String> = eml_files(dir)
        .iter()
        .map(|p| parse_eml(p))
        .filter(|m| m.kind == "shipping")
        .map(|m| format!("{}/{}", m.marketplace, m.order_id))
        .collect();
    for key in [&lead, &member] {
        assert_eq!(find(&now, key)["shipping"], "reflected", "{key}");
        let digits = |t: &Value| ichigen_core::carrier::tracking_digits(t["number"].as_str().unwrap());
        let seen =
            find(&now, key)["order"]["tracking"].as_array().unwrap().iter().filter(|t| digits(t) == number).count();
        assert_eq!(seen, 1, "{key}: the marketplace's own copy carries the number");
        if !key.starts_with("amazon/") {
            assert_eq!(shipping_mails.iter().filter(|k| *k == key).count(), 1, "{key}: one shipping mail");
        }
    }
}
