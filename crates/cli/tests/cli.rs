//! The `ichigen` binary as a user runs it.

use assert_cmd::Command;
use serde_json::{Value, json};

fn ichigen() -> Command {
    Command::cargo_bin("ichigen").expect("binary built")
}

fn order(id: &str, postal: &str, pref: &str, city: &str, a1: &str) -> Value {
    json!({
        "schema_version": 1, "shop_id": "shop-1", "marketplace": "yahoo", "order_id": id,
        "ordered_at": "2026-11-27T10:00:00+09:00", "source_updated_at": "2026-11-27T10:00:00+09:00",
        "status": "new", "source_status": "1",
        "buyer": {"name": "高橋 健一", "email": "k@example.jp", "phone": "090-1111-2222"},
        "ship_to": {"country": "JP", "postal_code": postal, "prefecture": pref, "city": city,
                    "address1": a1, "address2": "", "name": "高橋 健一", "phone": "090-1111-2222"},
        "items": [{"sku": "MUG-WHT", "name": "マグ", "quantity": 1, "unit_price": 1650}],
        "payment_method": "credit_card", "source_payment_method": "creditcard",
        "delivery": {"method": "standard", "source_method": "宅配便"},
        "totals": {"goods": 1650, "shipping": 600, "fee": 0, "discount": 0, "total": 2250}
    })
}

fn lines(stdout: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(stdout).lines().map(|l| serde_json::from_str(l).expect("JSON line")).collect()
}

fn codes(v: &Value) -> Vec<String> {
    v["findings"].as_array().expect("findings").iter().map(|f| f["code"].as_str().unwrap_or("").to_string()).collect()
}

#[test]
fn check_reports_findings_per_order() {
    let input = [
        order("island-1", "100-1401", "東京都", "八丈島八丈町", "大賀郷1234"),
        order("mismatch-1", "1000001", "大阪府", "大阪市北区", "梅田1-1"),
        order("clean-1", "1000001", "東京都", "千代田区", "千代田1-1"),
    ]
    .iter()
    .map(Value::to_string)
    .collect::<Vec<_>>()
    .join("\n");
    let out = ichigen().arg("check").write_stdin(input).assert().success();
    let got = lines(&out.get_output().stdout);
    assert_eq!(got.len(), 3);
    assert_eq!(got[0]["order_id"], "island-1");
    assert_eq!(codes(&got[0]), ["shipping.remote_island"]);
    assert_eq!(got[0]["status"], "new");
    assert_eq!(codes(&got[1]), ["address.postal_mismatch"]);
    assert_eq!(got[1]["status"], "on_hold");
    assert_eq!(got[1]["findings"][0]["severity"], "hold");
    assert!(got[1]["findings"][0]["message"].as_str().unwrap_or("").contains("東京都"));
    assert_eq!(codes(&got[2]), Vec::<String>::new());
    assert_eq!(got[2]["marketplace"], "yahoo");
}

#[test]
fn check_reads_a_json_array_from_a_file() {
    let dir = std::env::temp_dir().join(format!("ichigen-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp dir");
    let file = dir.join("orders.json");
    let arr = json!([
        order("a", "1000001", "東京都", "千代田区", "千代田1-1"),
        order("b", "9999999", "東京都", "千代田区", "千代田2-2")
    ]);
    std::fs::write(&file, serde_json::to_string_pretty(&arr).expect("json")).expect("write");
    let out = ichigen().arg("check").arg(&file).assert().success();
    let got = lines(&out.get_output().stdout);
    assert_eq!(codes(&got[1]), ["address.postal_code_unknown"]);
}

#[test]
fn malformed_orders_exit_2_naming_line_and_field_and_the_rest_are_checked() {
    let mut bad_qty = order("bad-qty", "1000001", "東京都", "千代田区", "千代田1-1");
    bad_qty["items"][0]["quantity"] = json!("山田太郎");
    let mut zero_qty = order("zero-qty", "1000001", "東京都", "千代田区", "千代田1-1");
    zero_qty["items"][0]["quantity"] = json!(0);
    let input = format!(
        "{}\n{}\nnot json at all\n{}\n{}\n",
        order("ok-1", "1000001", "東京都", "千代田区", "千代田1-1"),
        bad_qty,
        zero_qty,
        order("ok-2", "1000001", "東京都", "千代田区", "千代田1-1"),
    );
    let out = ichigen().arg("check").write_stdin(input).assert().code(2);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(stderr.contains("line 2") && stderr.contains("items[0].quantity"), "{stderr}");
    assert!(stderr.contains("line 3"), "{stderr}");
    assert!(stderr.contains("line 4") && stderr.contains("items[0].quantity: is zero"), "{stderr}");
    // No personal data in the error text.
    assert!(!stderr.contains("山田太郎"), "{stderr}");
    let got = lines(&out.get_output().stdout);
    let ids: Vec<_> = got.iter().map(|v| v["order_id"].as_str().unwrap_or("")).collect();
    assert_eq!(ids, ["ok-1", "ok-2"]);
}

#[test]
fn check_uses_the_rules_file() {
    let dir = std::env::temp_dir().join(format!("ichigen-rules-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp dir");
    let rules = dir.join("rules.toml");
    std::fs::write(&rules, "[[blacklist]]\nname = \"高橋健一\"\nphone = \"09011112222\"\n").expect("write");
    let input = order("bl-1", "1000001", "東京都", "千代田区", "千代田1-1").to_string();
    let out = ichigen().args(["check", "--rules"]).arg(&rules).write_stdin(input.clone()).assert().success();
    assert_eq!(codes(&lines(&out.get_output().stdout)[0]), ["buyer.blacklisted"]);
    std::fs::write(&rules, "[blacklist]\nnope = 1\n").expect("write");
    let out = ichigen().args(["check", "--rules"]).arg(&rules).write_stdin(input).assert().code(2);
    assert!(String::from_utf8_lossy(&out.get_output().stderr).contains("rules.toml"));
}

#[test]
fn postal_prints_the_address_of_a_code() {
    let out = ichigen().args(["postal", "100-1401"]).assert().success();
    let v: Value = serde_json::from_slice(&out.get_output().stdout).expect("json");
    assert_eq!(v["prefecture"], "東京都");
    assert_eq!(v["city"], "八丈島八丈町");
    assert_eq!(v["towns"][0]["town"], "大賀郷");
    assert_eq!(v["remote_island"][0]["island_group"], "伊豆諸島(八丈島・八丈小島)");
    let out = ichigen().args(["postal", "4980000"]).assert().success();
    let v: Value = serde_json::from_slice(&out.get_output().stdout).expect("json");
    assert_eq!(v["towns"].as_array().map(Vec::len), Some(2));
    ichigen().args(["postal", "9999999"]).assert().code(1);
    ichigen().args(["postal", "12-34"]).assert().code(2);
}
