//! Label data out → the programs' issued-data files back → tracking import → written back to the
//! five sandbox marketplaces by the pullers of the next demo run → one shipping mail per
//! non-Amazon order, with the right tracking URL. A file with unmatched or invalid rows applies
//! nothing and names the rows; a re-import and a third run change nothing; exporting again asks
//! for `--again`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use common::{demo, eml_files, ichigen, json_lines, n, orders, parse_eml, run_ok, stdout, summary};
use encoding_rs::SHIFT_JIS;
use ichigen_core::labels::ParcelKey;
use serde_json::Value;

/// A valid 12-digit number (the mod-7 check digit of `carriers.md`), unique per `i`.
fn number(prefix: u64, i: u64) -> String {
    let base = prefix * 1_000_000_000 + 10_000 + i;
    format!("{base:011}{}", base % 7)
}

fn sjis(text: &str) -> Vec<u8> {
    let (bytes, _, bad) = SHIFT_JIS.encode(text);
    assert!(!bad);
    bytes.into_owned()
}

/// Exports `format` for `marketplace`; returns the decoded rows (header dropped) and stderr.
fn export(dir: &Path, format: &str, marketplace: &str, again: bool) -> (Vec<Vec<String>>, String) {
    let file = dir.join(format!("{format}-{marketplace}.csv"));
    let mut cmd = ichigen();
    cmd.args(["export", "--format", format, "--marketplace", marketplace, "--ship-date", "2026-11-30"]).args([
        "--dir",
        dir.to_str().unwrap(),
        "-o",
        file.to_str().unwrap(),
    ]);
    if again {
        cmd.arg("--again");
    }
    let out = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(matches!(out.status.code(), Some(0 | 1)), "{stderr}");
    let bytes = std::fs::read(&file).unwrap();
    let (text, _, bad) = SHIFT_JIS.decode(&bytes);
    assert!(!bad);
    let mut reader = csv::ReaderBuilder::new().has_headers(format != "yupri").from_reader(text.as_bytes());
    (reader.records().map(|r| r.unwrap().iter().map(str::to_string).collect()).collect(), stderr)
}

/// Runs `tracking import`; returns (exit code, stdout, stderr).
fn import(dir: &Path, file: &Path) -> (i32, String, String) {
    let out = ichigen()
        .args(["tracking", "import", file.to_str().unwrap(), "--dir", dir.to_str().unwrap()])
        .output()
        .unwrap();
    (out.status.code().unwrap(), stdout(&out), String::from_utf8_lossy(&out.stderr).into_owned())
}

fn listed(dir: &Path, shipping: &str) -> Vec<Value> {
    let out = run_ok(&["orders", "list", "--shipping", shipping, "--format", "json", "--dir", dir.to_str().unwrap()]);
    json_lines(&stdout(&out))
}

#[test]
fn labels_out_numbers_in_written_back_and_buyers_told_once() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    demo(dir, 150);
    let mails_before = eml_files(dir).len();

    // Label data out, one program per marketplace; the お客様管理番号 of each row.
    let plan = [("b2", "rakuten"), ("b2", "amazon"), ("ehiden", "yahoo"), ("ehiden", "aupay"), ("yupri", "qoo10")];
    let mut keys: BTreeMap<(&str, &str), Vec<String>> = BTreeMap::new();
    let mut b2_rows: BTreeMap<&str, Vec<Vec<String>>> = BTreeMap::new();
    for (format, marketplace) in plan {
        let (rows, _) = export(dir, format, marketplace, false);
        let col = if format == "ehiden" { 9 } else { 0 };
        keys.insert((format, marketplace), rows.iter().map(|r| r[col].clone()).collect());
        if format == "b2" {
            b2_rows.insert(marketplace, rows);
        }
    }
    let exported: usize = keys.values().map(Vec::len).sum();
    assert!(keys.values().filter(|k| !k.is_empty()).count() >= 4, "parcels for most marketplaces: {keys:?}");
    let printed: usize = listed(dir, "printed").iter().map(|v| v["parcels"].as_array().unwrap().len()).sum();
    assert_eq!(printed, exported, "every exported parcel is 印刷済");
    // Exported parcels are 印刷済; a second export leaves them out and says how to force it.
    let (rows, stderr) = export(dir, "b2", "rakuten", false);
    assert!(rows.is_empty() && stderr.contains("--again"), "{stderr}");
    assert!(!keys[&("b2", "rakuten")].is_empty());

    // The issued-data files each program gives back (carrier-csv.md §2.5, §3.4, §4.4).
    let mut numbers: BTreeMap<String, String> = BTreeMap::new(); // key → number
    let mut files: Vec<PathBuf> = Vec::new();
    let mut i = 0;
    let mut next = |prefix| {
        i += 1;
        number(prefix, i)
    };
    for marketplace in ["rakuten", "amazon"] {
        // B2: the import layout with column 4 伝票番号 filled, header kept.
        let mut text = "お客様管理番号,送り状種類,クール区分,伝票番号,出荷予定日\r\n".to_string();
        for r in &b2_rows[marketplace] {
            let no = next(4);
            numbers.insert(r[0].clone(), no.clone());
            text.push_str(&format!("{},{},{},{},{}\r\n", r[0], r[1], r[2], no, r[4]));
        }
        let path = dir.join(format!("b2-issued-{marketplace}.csv"));
        std::fs::write(&path, sjis(&text)).unwrap();
        files.push(path);
    }
    for marketplace in ["yahoo", "aupay"] {
        // e飛伝 出荷実績: read by header names.
        let mut text = "お問い合せ送り状No,出荷日,お客様管理番号\r\n".to_string();
        for k in &keys[&("ehiden", marketplace)] {
            let no = next(5);
            numbers.insert(k.clone(), no.clone());
            text.push_str(&format!("{no},2026/11/30,{k}\r\n"));
        }
        let path = dir.join(format!("ehiden-issued-{marketplace}.csv"));
        std::fs::write(&path, sjis(&text)).unwrap();
        files.push(path);
    }
    {
        // ゆうプリR 発送履歴: six quoted columns, hyphenated numbers.
        let mut text = "\"お客様側管理番号\",\"お問い合わせ番号\",\"仮引受確定作業年月日\",\"配送完了作業年月日\",\"配達ステータス集約コード\",\"配達ステータス明細コード\"\r\n".to_string();
        for k in &keys[&("yupri", "qoo10")] {
            let no = next(6);
            numbers.insert(k.clone(), no.clone());
            let shown = format!("{}-{}-{}", &no[..4], &no[4..8], &no[8..]);
            text.push_str(&format!("\"{k}\",\"{shown}\",\"20261130\",\"\",\"\",\"\"\r\n"));
        }
        let path = dir.join("yupri-issued-qoo10.csv");
        std::fs::write(&path, sjis(&text)).unwrap();
        files.push(path);
    }
    assert_eq!(numbers.len(), exported);

    // A file with an unknown key and a bad check digit applies nothing and names both lines.
    let good = &keys[&("ehiden", "yahoo")];
    assert!(good.len() >= 2);
    let mut bad_number = number(5, 90_001);
    bad_number.replace_range(11.., if bad_number.ends_with('0') { "1" } else { "0" });
    let bad = format!(
        "お問い合せ送り状No,出荷日,お客様管理番号\r\n{},2026/11/30,{}\r\n{},2026/11/30,Y0000000000001\r\n{bad_number},2026/11/30,{}\r\n",
        numbers[&good[0]],
        good[0],
        number(5, 90_002),
        good[1]
    );
    let bad_path = dir.join("bad.csv");
    std::fs::write(&bad_path, sjis(&bad)).unwrap();
    let (code, _, stderr) = import(dir, &bad_path);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("3行目") && stderr.contains("4行目") && !stderr.contains("2行目"), "{stderr}");
    assert!(listed(dir, "shipped").is_empty(), "nothing applied");

    // The real files: every parcel 出荷済; a re-import changes nothing.
    for f in &files {
        let (code, out, stderr) = import(dir, f);
        assert_eq!(code, 0, "{}: {stderr}", f.display());
        assert!(out.contains("出荷済にしました"), "{out}");
    }
    let shipped: BTreeSet<String> = listed(dir, "shipped").iter().map(common::key).collect();
    for f in &files {
        let (code, out, _) = import(dir, f);
        assert_eq!(code, 0);
        assert!(out.contains(": 0件を出荷済にしました"), "re-import: {out}");
    }
    assert_eq!(listed(dir, "shipped").iter().map(common::key).collect::<BTreeSet<_>>(), shipped);

    // The next run's pullers write every number back, then the buyers are told.
    demo(dir, 150);
    let s = summary(dir);
    assert_eq!(n(&s["total"], "tracking_registered") as usize, exported, "{s}");
    assert_eq!(n(&s["total"], "tracking_failed"), 0, "{s}");
    let stored = orders(dir);
    let reflected: Vec<&Value> = stored.iter().filter(|v| v["shipping"] == "reflected").collect();
    assert_eq!(reflected.len(), shipped.len(), "every shipped order 反映済");
    let mut expected_mail: BTreeSet<String> = BTreeSet::new();
    for v in &reflected {
        for p in v["parcels"].as_array().unwrap() {
            let number = p["tracking"]["number"].as_str().unwrap();
            // The marketplace's own copy (pulled after the write) carries each number once.
            let seen = v["order"]["tracking"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|t| {
                    ichigen_core::carrier::tracking_digits(t["number"].as_str().unwrap())
                        == ichigen_core::carrier::tracking_digits(number)
                })
                .count();
            assert_eq!(seen, 1, "{} number {number}", common::key(v));
        }
        if v["marketplace"] != "amazon" {
            expected_mail.insert(common::key(v));
        }
    }
    let shipping_mails: Vec<_> = eml_files(dir).iter().map(|p| parse_eml(p)).filter(|m| m.kind == "shipping").collect();
    let mailed: Vec<String> = shipping_mails.iter().map(|m| format!("{}/{}", m.marketplace, m.order_id)).collect();
    assert_eq!(mailed.iter().cloned().collect::<BTreeSet<_>>(), expected_mail, "one mail per non-Amazon order");
    assert_eq!(mailed.len(), expected_mail.len(), "never two");
    assert!(expected_mail.len() >= 20 && exported > expected_mail.len(), "{exported} parcels, {} mails", mailed.len());
    for m in ["rakuten", "yahoo", "aupay", "qoo10"] {
        assert!(mailed.iter().any(|k| k.starts_with(m)), "a shipping mail on {m}");
    }
    assert!(reflected.iter().any(|v| v["marketplace"] == "amazon"), "Amazon written back (confirmShipment)");
    assert!(reflected.iter().any(|v| v["parcels"].as_array().unwrap().len() == 2), "a two-destination 楽天 order");
    assert!(eml_files(dir).len() >= mails_before + expected_mail.len());
    for m in &shipping_mails {
        let v = reflected.iter().find(|v| common::key(v) == format!("{}/{}", m.marketplace, m.order_id)).unwrap();
        for p in v["parcels"].as_array().unwrap() {
            let digits = ichigen_core::carrier::tracking_digits(p["tracking"]["number"].as_str().unwrap());
            let carrier = p["tracking"]["carrier"].as_str().unwrap();
            let url = match carrier {
                "yamato" => ichigen_core::carrier::YAMATO_TRACKING_URL,
                "sagawa" => ichigen_core::carrier::SAGAWA_TRACKING_URL,
                _ => ichigen_core::carrier::JAPANPOST_TRACKING_URL,
            }
            .replace("{number}", &digits);
            assert!(m.body.contains(&url), "{}: {url} not in\n{}", m.order_id, m.body);
        }
    }
    // Keys of the files match back to exactly those orders.
    for k in numbers.keys() {
        assert!(ParcelKey::parse(k).is_some());
    }

    // A third run: nothing registered again, no mail again.
    let mails_now = eml_files(dir).len();
    demo(dir, 150);
    let s = summary(dir);
    assert_eq!(n(&s["total"], "tracking_registered"), 0, "{s}");
    assert_eq!(eml_files(dir).len(), mails_now);
}
