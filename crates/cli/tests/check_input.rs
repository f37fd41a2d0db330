//! `ichigen check` on hostile and large input: errors name a line, a field and what is wrong,
//! never a value; a line that is not UTF-8 costs that line only; memory does not grow with the
//! input.

use std::io::Write;

use assert_cmd::Command;
use ichigen_core::Marketplace;
use ichigen_core::sample::SampleOrders;
use serde_json::{Value, json};

fn ichigen() -> Command {
    Command::cargo_bin("ichigen").expect("binary built")
}

fn order(id: &str) -> Value {
    json!({
        "schema_version": 1, "shop_id": "shop-1", "marketplace": "yahoo", "order_id": id,
        "ordered_at": "2026-11-27T10:00:00+09:00", "source_updated_at": "2026-11-27T10:00:00+09:00",
        "status": "new", "source_status": "1",
        "buyer": {"name": "高橋 健一", "email": "k@example.jp", "phone": "090-1111-2222"},
        "ship_to": {"country": "JP", "postal_code": "1000001", "prefecture": "東京都", "city": "千代田区",
                    "address1": "千代田1-1", "address2": "", "name": "高橋 健一", "phone": "090-1111-2222"},
        "items": [{"sku": "MUG-WHT", "name": "マグ", "quantity": 1, "unit_price": 1650}],
        "payment_method": "credit_card", "source_payment_method": "creditcard",
        "delivery": {"method": "standard", "source_method": "宅配便"},
        "totals": {"goods": 1650, "shipping": 600, "fee": 0, "discount": 0, "total": 2250}
    })
}

fn ids(stdout: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(stdout)
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).expect("JSON line")["order_id"].as_str().unwrap_or("").to_string())
        .collect()
}

#[test]
fn check_errors_name_the_field_and_the_kind_never_the_value() {
    // Markers stand for personal data in places serde_json quotes back: an unknown enum value,
    // numbers (integer, negative, float), a string with embedded quotes, an unknown field.
    let mut enum_value = order("bad-enum");
    enum_value["status"] = json!("山田太郎0312345678");
    let mut negative = order("bad-negative");
    negative["items"][0]["quantity"] = json!(-9_087_654_321_i64);
    let mut float = order("bad-float");
    float["totals"]["total"] = json!(31_415.926_5);
    let mut quoted = order("bad-quoted");
    quoted["items"][0]["quantity"] = json!("x\", expected u32 鈴木\"花子, expected 東京都港区");
    let mut unknown = order("bad-unknown");
    unknown["buyer"]["name"] = json!({"佐藤": "090-9999-8888"});
    let input = [order("ok-1"), enum_value, negative, float, quoted, unknown, order("ok-2")]
        .iter()
        .map(Value::to_string)
        .collect::<Vec<_>>()
        .join("\n");

    let out = ichigen().arg("check").write_stdin(input).assert().code(2);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    for marker in ["山田太郎", "0312345678", "9087654321", "31415", "9265", "鈴木", "花子", "港区", "佐藤", "9999"]
    {
        assert!(!stderr.contains(marker), "stderr echoes {marker}: {stderr}");
    }
    assert!(stderr.contains("line 2: field `status`: unknown value"), "{stderr}");
    assert!(stderr.contains("line 3: field `items[0].quantity`: invalid value"), "{stderr}");
    assert!(stderr.contains("line 4: field `totals.total`: wrong type"), "{stderr}");
    assert!(stderr.contains("line 5: field `items[0].quantity`: wrong type (expected u32)"), "{stderr}");
    assert!(stderr.contains("line 6: field `buyer.name`: wrong type"), "{stderr}");
    assert!(stderr.contains("5 of 7 orders could not be read"), "{stderr}");
    assert_eq!(ids(&out.get_output().stdout), ["ok-1", "ok-2"]);
}

#[test]
fn a_line_that_is_not_utf8_is_reported_by_number_and_the_rest_are_checked() {
    let dir = tempfile::tempdir().expect("tmp dir");
    let file = dir.path().join("orders.jsonl");
    let mut bytes = Vec::new();
    for (i, o) in [order("ok-1"), order("latin1"), order("ok-2"), order("ok-3")].iter().enumerate() {
        let mut line = o.to_string().into_bytes();
        if i == 1 {
            // 高橋 written in a legacy encoding: a byte that is never UTF-8.
            let at = line.windows(3).position(|w| w == "高".as_bytes()).expect("name");
            line.splice(at..at + 3, [0xfe, 0xff]);
        }
        bytes.extend(line);
        bytes.extend(b"\r\n");
    }
    std::fs::write(&file, bytes).expect("write");

    let out = ichigen().arg("check").arg(&file).assert().code(2);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(stderr.contains("line 2: not valid UTF-8"), "{stderr}");
    assert!(stderr.contains("1 of 4 orders could not be read"), "{stderr}");
    assert_eq!(ids(&out.get_output().stdout), ["ok-1", "ok-2", "ok-3"]);
}

/// Peak resident memory (VmHWM) of a running child, in KiB, polled until it exits.
#[cfg(target_os = "linux")]
fn run_polling_peak_rss(cmd: &mut std::process::Command) -> (std::process::Output, u64) {
    let child = cmd.stdout(std::process::Stdio::null()).stderr(std::process::Stdio::piped()).spawn().expect("spawn");
    let status_file = format!("/proc/{}/status", child.id());
    let poll = std::thread::spawn(move || {
        let mut peak = 0u64;
        // Gone (or a zombie without memory lines) once the child exits.
        while let Ok(status) = std::fs::read_to_string(&status_file) {
            let Some(hwm) = status.lines().find_map(|l| l.strip_prefix("VmHWM:")) else { break };
            let kib = hwm.trim().trim_end_matches("kB").trim().parse::<u64>().unwrap_or(0);
            peak = peak.max(kib);
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        peak
    });
    let output = child.wait_with_output().expect("wait");
    (output, poll.join().expect("poll thread"))
}

/// The input is read line by line, twice (the 同梱 index, then the checks), not held whole: what
/// 40,000 orders add to the peak memory of a run over 100 of them is a small part of the input's
/// size, where holding the input and the parsed orders took three times the input.
#[cfg(target_os = "linux")]
#[test]
fn check_memory_does_not_grow_with_the_input() {
    let dir = tempfile::tempdir().expect("tmp dir");
    let mut sample = SampleOrders::new(13);
    let markets = [Marketplace::Rakuten, Marketplace::Yahoo, Marketplace::Aupay, Marketplace::Qoo10];
    let write = |name: &str, orders: &[ichigen_core::Order]| {
        let file = dir.path().join(name);
        let mut out = std::io::BufWriter::new(std::fs::File::create(&file).expect("create"));
        for o in orders {
            serde_json::to_writer(&mut out, o).expect("json");
            out.write_all(b"\n").expect("write");
        }
        out.flush().expect("flush");
        file
    };
    let n = 40_000;
    let orders: Vec<_> = (0..n).map(|i| sample.varied_order(markets[i % markets.len()], i)).collect();
    let small = write("small.jsonl", &orders[..100]);
    let large = write("large.jsonl", &orders);
    drop(orders);
    let input_kib = std::fs::metadata(&large).expect("size").len() / 1024;

    let bin = assert_cmd::cargo::cargo_bin("ichigen");
    let peak = |file: &std::path::Path| {
        let (output, peak_kib) = run_polling_peak_rss(std::process::Command::new(&bin).arg("check").arg(file));
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        peak_kib
    };
    let (base_kib, large_kib) = (peak(&small), peak(&large));
    let grown = large_kib.saturating_sub(base_kib);
    assert!(
        grown < input_kib / 4,
        "{n} orders ({input_kib} KiB) peak at {large_kib} KiB, 100 orders at {base_kib} KiB: grows with the input"
    );
}
