//! Blacklist entries that would match every order without a street (`-`, a bare prefecture) are
//! refused by `blacklist add`, and ignored, loudly, when a rules file has them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::ichigen;
use serde_json::{Value, json};

fn order_without_street(id: &str) -> Value {
    json!({
        "schema_version": 1, "shop_id": "shop-1", "marketplace": "yahoo", "order_id": id,
        "ordered_at": "2026-11-27T10:00:00+09:00", "source_updated_at": "2026-11-27T10:00:00+09:00",
        "status": "new", "source_status": "1",
        "buyer": {"name": "高橋 健一", "email": "k@example.jp", "phone": "090-1111-2222"},
        "ship_to": {"country": "JP", "postal_code": "1000001", "prefecture": "東京都", "city": "",
                    "address1": "", "address2": "", "name": "高橋 健一", "phone": "090-1111-2222"},
        "items": [{"sku": "MUG-WHT", "name": "マグ", "quantity": 1, "unit_price": 1650}],
        "payment_method": "credit_card", "source_payment_method": "creditcard",
        "delivery": {"method": "standard", "source_method": "宅配便"},
        "totals": {"goods": 1650, "shipping": 600, "fee": 0, "discount": 0, "total": 2250}
    })
}

#[test]
fn blacklist_add_refuses_a_bare_prefecture_or_a_dash_saying_why() {
    let tmp = tempfile::tempdir().unwrap();
    ichigen_local::SqliteStore::open(&tmp.path().join("ichigen.db")).unwrap();
    let dir = tmp.path().to_str().unwrap();
    for address in ["東京都", "-"] {
        let out = ichigen().args(["blacklist", "add", "--address", address, "--dir", dir]).output().unwrap();
        assert!(!out.status.success(), "{address} was added");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("番地") && stderr.contains("every order without a street"), "{stderr}");
    }
    let out = ichigen().args(["blacklist", "list", "--format", "json", "--dir", dir]).output().unwrap();
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout), "", "nothing was added");
    let out =
        ichigen().args(["blacklist", "add", "--address", "東京都千代田区千代田1-1", "--dir", dir]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn check_ignores_weak_entries_of_a_rules_file_and_says_which() {
    let tmp = tempfile::tempdir().unwrap();
    let rules = tmp.path().join("rules.toml");
    std::fs::write(
        &rules,
        "[[blacklist]]\nemail = \"prank@example.com\"\n\n[[blacklist]]\naddress = \"東京都\"\n\n\
         [[blacklist]]\naddress = \"-\"\n",
    )
    .unwrap();
    let out = ichigen()
        .args(["check", "--rules"])
        .arg(&rules)
        .arg("-")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child.stdin.take().unwrap().write_all(order_without_street("no-street").to_string().as_bytes())?;
            child.wait_with_output()
        })
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let line: Value = serde_json::from_slice(&out.stdout).unwrap();
    let codes: Vec<&str> = line["findings"].as_array().unwrap().iter().filter_map(|f| f["code"].as_str()).collect();
    assert!(!codes.contains(&"buyer.blacklisted"), "held by a weak entry: {line}");
    assert!(
        stderr.contains("blacklist entry 2 is ignored") && stderr.contains("blacklist entry 3 is ignored"),
        "{stderr}"
    );
    assert!(!stderr.contains("blacklist entry 1 "), "{stderr}");
}
