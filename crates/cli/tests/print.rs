//! `ichigen print slips|picking` on the demo's orders, read back as a person would: the PDF's text
//! with poppler's `pdftotext` (order ids, item names, quantities, the shop's block, no prices on
//! gift slips, the picking list's sums) and page 1 rendered with `pdftoppm` (not blank). The font
//! is embedded as a subset, so the file stays small. Printing marks the parcels 印刷済, and again
//! only with `--again`. (`scripts/test` installs poppler-utils and fonts-ipaexfont-gothic.)
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use common::{demo, ichigen, json_lines, run_ok, stdout};
use serde_json::Value;

/// The demo shop's block (crates/cli/src/commands/demo/mod.rs).
const SHOP: [&str; 3] = ["株式会社いちげん（デモ）", "東京都渋谷区渋谷2丁目21-1", "03-0000-0000"];

fn pdftotext(pdf: &Path, layout: bool) -> String {
    let mut cmd = Command::new("pdftotext");
    if layout {
        cmd.arg("-layout");
    }
    let out = cmd.args([pdf.to_str().unwrap(), "-"]).output().expect("pdftotext (poppler-utils) is installed");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// Renders page 1 at 40 dpi as a PPM and returns the share of pixels that are not white.
fn inked_share(pdf: &Path, dir: &Path) -> f64 {
    let prefix = dir.join("page");
    let out = Command::new("pdftoppm")
        .args(["-r", "40", "-f", "1", "-l", "1", "-gray", pdf.to_str().unwrap(), prefix.to_str().unwrap()])
        .output()
        .expect("pdftoppm (poppler-utils) is installed");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let file = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.file_name().unwrap().to_string_lossy().starts_with("page"))
        .expect("pdftoppm wrote page 1");
    let bytes = std::fs::read(file).unwrap();
    // PGM (P5): magic, width, height, max value, one whitespace, then a byte per pixel.
    let mut fields = Vec::new();
    let mut at = 0;
    while fields.len() < 4 {
        while bytes[at].is_ascii_whitespace() {
            at += 1;
        }
        let start = at;
        while !bytes[at].is_ascii_whitespace() {
            at += 1;
        }
        fields.push(String::from_utf8_lossy(&bytes[start..at]).into_owned());
    }
    assert_eq!(fields[0], "P5");
    let (w, h): (usize, usize) = (fields[1].parse().unwrap(), fields[2].parse().unwrap());
    let pixels = &bytes[at + 1..];
    assert_eq!(pixels.len(), w * h);
    assert!(w < h, "portrait A4: {w}×{h}");
    pixels.iter().filter(|&&p| p < 128).count() as f64 / pixels.len() as f64
}

fn listed(dir: &Path, shipping: &str) -> Vec<Value> {
    let out = run_ok(&["orders", "list", "--shipping", shipping, "--format", "json", "--dir", dir.to_str().unwrap()]);
    json_lines(&stdout(&out))
}

/// The destinations of an order: `(recipient, items)`.
fn destinations(order: &Value) -> Vec<(String, Vec<Value>)> {
    let shipments = order["shipments"].as_array().cloned().unwrap_or_default();
    if shipments.is_empty() {
        vec![(order["ship_to"]["name"].as_str().unwrap().to_string(), order["items"].as_array().unwrap().clone())]
    } else {
        shipments
            .iter()
            .map(|s| (s["ship_to"]["name"].as_str().unwrap().to_string(), s["items"].as_array().unwrap().clone()))
            .collect()
    }
}

fn squash(t: &str) -> String {
    t.chars().filter(|c| !c.is_whitespace()).collect()
}

fn yen(v: i64) -> String {
    let digits = v.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    format!("{out}円")
}

fn print(dir: &Path, kind: &str, out: &Path, extra: &[&str]) -> std::process::Output {
    let o = ichigen()
        .args(["print", kind, "--out", out.to_str().unwrap(), "--dir", dir.to_str().unwrap()])
        .args(extra)
        .output()
        .unwrap();
    assert!(o.status.success(), "print {kind}: {}", String::from_utf8_lossy(&o.stderr));
    o
}

#[test]
fn slips_and_picking_list_read_back_from_the_pdf() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    demo(dir, 100);
    // What print takes: the orders ready to ship, less store pick-up and abroad (no parcel).
    let ready: Vec<Value> = listed(dir, "ready")
        .into_iter()
        .filter(|v| v["order"]["delivery"]["method"] != "pickup")
        .filter(|v| v["order"]["ship_to"]["country"] == "JP")
        .collect();
    assert!(ready.len() >= 10, "the demo has orders to ship: {}", ready.len());

    // The picking list first: it marks nothing.
    let picking = dir.join("picking.pdf");
    let ready_before = listed(dir, "ready").len();
    print(dir, "picking", &picking, &[]);
    assert_eq!(listed(dir, "ready").len(), ready_before, "a picking list marks nothing");
    let text = pdftotext(&picking, true);
    assert!(text.contains("ピッキングリスト"), "{text}");
    let mut sums: BTreeMap<String, u64> = BTreeMap::new();
    for v in &ready {
        for (_, items) in destinations(&v["order"]) {
            for i in items {
                *sums.entry(i["sku"].as_str().unwrap().to_string()).or_default() += i["quantity"].as_u64().unwrap();
            }
        }
    }
    for (sku, qty) in &sums {
        // One row per SKU and options: the SKU's rows add up to its total.
        let rows: u64 = text
            .lines()
            .filter(|l| l.split_whitespace().next() == Some(sku.as_str()))
            .map(|l| l.split_whitespace().find_map(|w| w.parse::<u64>().ok()).unwrap())
            .sum();
        assert_eq!(rows, *qty, "picking total of {sku}:\n{text}");
    }

    // Slips: one page (at least) per parcel.
    let slips = dir.join("slips.pdf");
    let out = print(dir, "slips", &slips, &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let bytes = std::fs::metadata(&slips).unwrap().len();
    // The whole IPAex font is 4 MB; a subset of the glyphs used is a small part of it.
    assert!(bytes < 400_000, "{bytes} bytes: the font is not subset");
    assert!(stderr.contains("納品書") && stderr.contains("バイト"), "{stderr}");
    let text = pdftotext(&slips, false);
    let pages: Vec<&str> = text.split('\u{c}').filter(|p| !p.trim().is_empty()).collect();
    let parcels: usize = ready.iter().map(|v| destinations(&v["order"]).len()).sum();
    assert!(pages.len() >= parcels, "{} pages for {parcels} parcels", pages.len());
    let mut gifts = 0;
    for v in &ready {
        let o = &v["order"];
        let id = o["order_id"].as_str().unwrap();
        let on: Vec<&&str> = pages.iter().filter(|p| p.contains(id)).collect();
        assert!(on.len() >= destinations(o).len(), "no slip page for {id}");
        let all = on.iter().map(|p| squash(p)).collect::<String>();
        for s in SHOP {
            assert!(all.contains(&squash(s)), "{id}: shop block {s} missing");
        }
        let buyer = squash(o["buyer"]["name"].as_str().unwrap());
        for (recipient, items) in destinations(o) {
            assert!(all.contains(&squash(&recipient)) || recipient.trim().is_empty(), "{id}: recipient");
            for i in &items {
                let name: String = squash(i["name"].as_str().unwrap()).chars().take(10).collect();
                assert!(all.contains(&name), "{id}: item {name} missing");
            }
            let gift = o["gift"] == true || (!squash(&recipient).is_empty() && squash(&recipient) != buyer);
            if gift {
                gifts += 1;
                assert!(!all.contains('円'), "{id}: a gift slip shows no price");
            } else {
                let price = items[0]["unit_price"].as_i64().unwrap();
                assert!(all.contains(&yen(price)), "{id}: unit price {} missing", yen(price));
            }
        }
    }
    assert!(gifts > 0, "the demo has gift parcels (a gift flag or another recipient)");
    assert!(inked_share(&slips, dir) > 0.005, "page 1 is not blank");

    // 印刷済 now; a second print leaves them out until --again.
    let printed = listed(dir, "printed");
    assert_eq!(printed.len(), ready.len(), "every printed order is 印刷済");
    assert!(printed.iter().all(|v| v["parcels"].as_array().unwrap().iter().all(|p| p["slip_printed"].is_string())));
    let again = dir.join("again.pdf");
    let out = print(dir, "slips", &again, &[]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("--again"));
    assert!(!pdftotext(&again, false).contains(ready[0]["order_id"].as_str().unwrap()));
    print(dir, "slips", &again, &["--again", "--marketplace", "yahoo"]);
    let text = pdftotext(&again, false);
    assert!(
        ready.iter().filter(|v| v["marketplace"] == "yahoo").all(|v| text.contains(v["order_id"].as_str().unwrap()))
    );
    assert!(
        ready.iter().filter(|v| v["marketplace"] != "yahoo").all(|v| !text.contains(v["order_id"].as_str().unwrap()))
    );
}

#[test]
fn a_missing_font_is_a_clear_error_and_marks_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    demo(dir, 20);
    let out = ichigen()
        .args(["print", "slips", "--font", "/nonexistent/font.ttf", "--dir", dir.to_str().unwrap()])
        .args(["--out", dir.join("s.pdf").to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("フォントファイル") && stderr.contains("読めません"), "{stderr}");
    assert!(!dir.join("s.pdf").exists());
    assert!(listed(dir, "printed").is_empty(), "nothing marked 印刷済");
}
