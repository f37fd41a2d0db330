//! The staff commands on a demo's data: `orders list` filters, `export --format csv`, releasing and
//! holding an order, the blacklist. Expected answers are computed from the demo's `orders.jsonl`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use chrono::{DateTime, FixedOffset};
use common::{THANKS, demo, eml_files, ichigen, json_lines, key, orders, parse_eml, run_ok, stdout};
use serde_json::Value;

/// One demo folder shared by the tests that only read it.
fn shared() -> &'static Path {
    static DIR: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    let (_, dir) = DIR.get_or_init(|| {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("demo");
        demo(&dir, 200);
        (tmp, dir)
    });
    dir
}

fn dir_arg(dir: &Path) -> String {
    dir.to_str().unwrap().to_string()
}

/// `orders list --format json` with `filters`: the keys listed, in order.
fn listed(dir: &Path, filters: &[&str]) -> Vec<String> {
    let mut args = vec!["orders", "list", "--format", "json"];
    args.extend_from_slice(filters);
    let d = dir_arg(dir);
    args.extend(["--dir", d.as_str()]);
    json_lines(&stdout(&run_ok(&args))).iter().map(key).collect()
}

fn expected(dir: &Path, pick: impl Fn(&Value) -> bool) -> BTreeSet<String> {
    orders(dir).iter().filter(|v| pick(v)).map(key).collect()
}

fn ordered_at(v: &Value) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(v["order"]["ordered_at"].as_str().unwrap()).unwrap()
}

fn has_item(v: &Value, sku: &str) -> bool {
    v["order"]["items"].as_array().unwrap().iter().any(|i| i["sku"] == sku)
}

fn has_finding(v: &Value, code: &str) -> bool {
    v["findings"].as_array().unwrap().iter().any(|f| f["code"] == code)
}

#[test]
fn each_filter_lists_exactly_the_matching_orders() {
    let dir = shared();
    let all = orders(dir);
    let check = |filters: &[&str], pick: &dyn Fn(&Value) -> bool| {
        let got = listed(dir, filters);
        let want = expected(dir, pick);
        assert!(!want.is_empty() && want.len() < all.len(), "{filters:?} picks some, not all: {}", want.len());
        assert_eq!(got.len(), want.len(), "{filters:?}: no order twice");
        assert_eq!(got.into_iter().collect::<BTreeSet<_>>(), want, "{filters:?}");
    };
    check(&["--status", "on_hold"], &|v| v["status"] == "on_hold");
    check(&["--marketplace", "rakuten"], &|v| v["marketplace"] == "rakuten");
    check(&["--finding", "order.remarks"], &|v| has_finding(v, "order.remarks"));
    check(&["--sku", "MUG-WHT"], &|v| has_item(v, "MUG-WHT"));
    check(&["--payment", "cod"], &|v| v["order"]["payment_method"] == "cod");
    check(&["--delivery", "mail_bin"], &|v| v["order"]["delivery"]["method"] == "mail_bin");
    check(&["--marketplace", "yahoo", "--status", "new"], &|v| v["marketplace"] == "yahoo" && v["status"] == "new");

    // Days are whole JST days, both ends included.
    let mut times: Vec<DateTime<FixedOffset>> = all.iter().map(ordered_at).collect();
    times.sort();
    let jst = ichigen_core::JST;
    // The orders span two days, so at least two JST dates; which ones hold orders depends on the
    // hour the demo ran: --since takes the last date, --until the first, so each picks some.
    let date_of = |v: &Value| ordered_at(v).with_timezone(&jst).date_naive();
    let day = times[times.len() / 2].with_timezone(&jst).date_naive();
    let (first, last) =
        (times[0].with_timezone(&jst).date_naive(), times[times.len() - 1].with_timezone(&jst).date_naive());
    let d = day.to_string();
    check(&["--since", &d, "--until", &d], &|v: &Value| date_of(v) == day);
    check(&["--since", &last.to_string()], &|v: &Value| date_of(v) >= last);
    check(&["--until", &first.to_string()], &|v: &Value| date_of(v) <= first);
    // An instant: the middle order's own time is included by --since and excluded by --until.
    let mid = times[times.len() / 2];
    let mid_text = mid.to_rfc3339();
    check(&["--since", &mid_text], &|v: &Value| ordered_at(v) >= mid);
    check(&["--until", &mid_text, "--status", "new"], &|v: &Value| ordered_at(v) < mid && v["status"] == "new");
}

#[test]
fn the_list_is_oldest_first_and_the_table_counts_its_rows() {
    let dir = shared();
    let keys = listed(dir, &[]);
    let by_key: std::collections::HashMap<String, Value> = orders(dir).into_iter().map(|v| (key(&v), v)).collect();
    let times: Vec<DateTime<FixedOffset>> = keys.iter().map(|k| ordered_at(&by_key[k])).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "oldest first");
    let table = stdout(&run_ok(&["orders", "list", "--status", "on_hold", "--dir", &dir_arg(dir)]));
    let held = expected(dir, |v| v["status"] == "on_hold");
    assert!(table.contains(&format!("\n{} orders\n", held.len())), "{table}");
    // Held orders are not the shop's to ship yet: no shipping state is counted.
    assert!(table.ends_with("出荷状況: 出荷待ち 0 / 印刷済 0 / 出荷済 0 / 反映済 0\n"), "{table}");
    for k in &held {
        let (_, id) = k.split_once('/').unwrap();
        assert!(table.contains(id), "{id} is in the table");
    }
    assert!(table.contains("ordered at (JST)") && table.contains("(hold)"), "{table}");
    let csv = stdout(&run_ok(&["orders", "list", "--status", "on_hold", "--format", "csv", "--dir", &dir_arg(dir)]));
    assert_eq!(csv.lines().count(), held.len() + 1);
}

/// Item lines as the export counts them: per destination when an order has several.
fn item_lines(v: &Value) -> usize {
    let shipments = v["order"]["shipments"].as_array().cloned().unwrap_or_default();
    if shipments.is_empty() {
        v["order"]["items"].as_array().unwrap().len()
    } else {
        shipments.iter().map(|s| s["items"].as_array().unwrap().len()).sum()
    }
}

fn export(dir: &Path, filters: &[&str]) -> Vec<u8> {
    let mut args = vec!["export", "--format", "csv"];
    args.extend_from_slice(filters);
    let d = dir_arg(dir);
    args.extend(["--dir", d.as_str()]);
    run_ok(&args).stdout
}

#[test]
fn export_writes_one_excel_ready_row_per_item_line() {
    let dir = shared();
    let all = orders(dir);
    for filters in
        [&[][..], &["--marketplace", "rakuten"][..], &["--status", "on_hold"][..], &["--sku", "SOCKS-3P"][..]]
    {
        let bytes = export(dir, filters);
        assert!(bytes.starts_with("\u{feff}".as_bytes()), "UTF-8 BOM first, for Excel");
        let text = std::str::from_utf8(&bytes[3..]).expect("UTF-8");
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        let header: Vec<String> = reader.headers().unwrap().iter().map(str::to_string).collect();
        assert_eq!(&header[..4], ["モール", "モールコード", "注文番号", "注文日時"]);
        for column in
            ["SKU", "商品名", "数量", "単価", "小計", "合計", "支払方法", "配送方法", "送付先氏名", "検出コード"]
        {
            assert!(header.iter().any(|h| h == column), "column {column}");
        }
        let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        let (mp, id, qty, price, subtotal) = (1, 2, 11, 12, 13);
        assert_eq!(header[qty], "数量");
        let picked: Vec<&Value> = if filters.is_empty() {
            all.iter().collect()
        } else {
            let keys: BTreeSet<String> = listed(dir, filters).into_iter().collect();
            all.iter().filter(|v| keys.contains(&key(v))).collect()
        };
        assert_eq!(rows.len(), picked.iter().map(|v| item_lines(v)).sum::<usize>(), "{filters:?}");
        assert_eq!(text.matches("\r\n").count(), rows.len() + 1, "CRLF after the header and every row");
        let keys: BTreeSet<String> = picked.iter().map(|v| key(v)).collect();
        for r in &rows {
            assert!(keys.contains(&format!("{}/{}", &r[mp], &r[id])), "{filters:?}: row of an order not picked");
            let q: i64 = r[qty].parse().unwrap();
            let p: i64 = r[price].parse().unwrap();
            assert_eq!(r[subtotal].parse::<i64>().unwrap(), q * p);
        }
    }
}

/// A held order the buyer gets a thank-you for once released: open, ours to mail.
fn releasable(dir: &Path) -> String {
    orders(dir)
        .iter()
        .find(|v| {
            v["status"] == "on_hold"
                && v["marketplace"] != "amazon"
                && v["order"]["fulfilled_by_marketplace"] != true
                && v["order"]["buyer"]["email"].is_string()
        })
        .map(key)
        .expect("a held order to release")
}

#[test]
fn releasing_a_held_order_mails_its_thank_you_once() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("demo");
    demo(&dir, 100);
    let id = releasable(&dir);
    let before = eml_files(&dir);

    let out = stdout(&run_ok(&["orders", "release", &id, "--dir", &dir_arg(&dir)]));
    assert!(out.contains(&format!("{id}: released (on_hold → ")), "{out}");
    assert!(out.contains("thank_you mail written to"), "{out}");
    let after = eml_files(&dir);
    let new: Vec<&PathBuf> = after.iter().filter(|p| !before.contains(p)).collect();
    assert_eq!(new.len(), 1, "one new mail");
    let mail = parse_eml(new[0]);
    let order_id = id.split_once('/').unwrap().1;
    assert_eq!(mail.kind, "thank_you");
    assert_eq!(mail.subject, format!("{THANKS}{order_id}）"));
    let shown: Value =
        serde_json::from_str(&stdout(&run_ok(&["orders", "show", &id, "--json", "--dir", &dir_arg(&dir)]))).unwrap();
    assert_ne!(shown["status"], "on_hold");
    assert_eq!(shown["staff"]["decision"], "released");

    // Again: nothing held, nothing sent.
    let again = stdout(&run_ok(&["orders", "release", &id, "--dir", &dir_arg(&dir)]));
    assert!(again.contains("nothing to release"), "{again}");
    assert_eq!(eml_files(&dir), after, "a second release writes nothing");
    // And the next demo run does not undo the release or mail it again.
    let (_, summary) = demo(&dir, 100);
    assert_eq!(common::mails(&summary["total"]).values().sum::<u64>(), 0);
    let line = orders(&dir).into_iter().find(|v| key(v) == id).unwrap();
    assert_ne!(line["status"], "on_hold");
}

#[test]
fn holding_an_order_by_hand_keeps_the_reason_and_lists_it_as_held() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("demo");
    demo(&dir, 50);
    let id = orders(&dir).iter().find(|v| v["status"] == "new").map(key).expect("a new order");
    // A bare order id works when one marketplace has it.
    let bare = id.split_once('/').unwrap().1;
    let out = stdout(&run_ok(&["orders", "hold", bare, "--reason", "在庫確認中", "--dir", &dir_arg(&dir)]));
    assert!(out.contains(&format!("{id}: held (new → on_hold)")), "{out}");
    let shown = stdout(&run_ok(&["orders", "show", &id, "--dir", &dir_arg(&dir)]));
    assert!(shown.contains("在庫確認中") && shown.contains("on_hold"), "{shown}");
    assert!(listed(&dir, &["--status", "on_hold"]).contains(&id));
}

#[test]
fn blacklist_entries_are_added_listed_and_removed() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("demo");
    demo(&dir, 10);
    let d = dir_arg(&dir);
    let refused = ichigen().args(["blacklist", "add", "--name", "山田 花子", "--dir", &d]).output().unwrap();
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("a name alone"));
    let added = stdout(&run_ok(&["blacklist", "add", "--phone", "090-1234-5678", "--reason", "受取拒否", "--dir", &d]));
    let id = added.split_whitespace().nth(3).unwrap().trim_end_matches(';').to_string();
    let list = json_lines(&stdout(&run_ok(&["blacklist", "list", "--format", "json", "--dir", &d])));
    let mine: Vec<&Value> = list.iter().filter(|e| e["id"] == id.as_str()).collect();
    assert_eq!(mine.len(), 1, "{list:?}");
    assert_eq!(mine[0]["phone"], "090-1234-5678");
    assert!(list.iter().any(|e| e["id"] == "rules" && e["name"] == "見本 太郎"), "the rules file's entries too");
    run_ok(&["blacklist", "remove", &id, "--dir", &d]);
    let gone = ichigen().args(["blacklist", "remove", &id, "--dir", &d]).output().unwrap();
    assert_eq!(gone.status.code(), Some(1));
}

#[test]
fn staff_commands_need_a_store() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = tmp.path().join("nothing-here");
    let out = ichigen().args(["orders", "list", "--dir", missing.to_str().unwrap()]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("ichigen demo"));
    assert!(!missing.exists(), "a read command creates nothing");
}

#[test]
fn the_list_reads_as_a_clerk_expects_and_a_closed_pipe_ends_quietly() {
    let dir = shared();
    let d = dir_arg(dir);
    // Dates as Japanese staff write them.
    let day = ordered_at(&orders(dir)[0]).format("%Y/%m/%d").to_string();
    let dashed = day.replace('/', "-");
    assert_eq!(
        listed(dir, &["--since", &day, "--until", &day]),
        listed(dir, &["--since", &dashed, "--until", &dashed])
    );
    // Who, where, how paid and how delivered, in the marketplaces' Japanese.
    let table = stdout(&run_ok(&["orders", "list", "--dir", &d]));
    let first = &orders(dir)[0]["order"];
    for cell in [first["buyer"]["name"].as_str().unwrap(), first["ship_to"]["prefecture"].as_str().unwrap()] {
        assert!(table.contains(cell), "the table shows {cell:?}");
    }
    assert!(table.contains("クレジットカード") || table.contains("代金引換"), "payment labels in Japanese");
    assert!(!table.contains("credit_card"), "no raw payment code");
    // An unknown finding code is answered with the valid ones.
    let out = ichigen().args(["orders", "list", "--finding", "address.typo", "--dir", &d]).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("address.postal_mismatch") && err.contains("order.remarks"), "{err}");
    // `ichigen orders list | head -1`: the reader goes away; no error, no panic.
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("ichigen"))
        .args(["orders", "list", "--format", "csv", "--dir", &d])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(child.stdout.take().unwrap()), &mut line).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(line.contains("order_id"), "{line}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && err.is_empty(), "exit {:?}, stderr {err}", out.status);
}

/// The shop's acknowledgement (楽天 注文確認 / Qoo10 seller check) as staff see it, in `orders
/// show` and on the console's order page: due once staff released a held order, done (with its
/// time) once the next pull sent it to the sandbox; an order whose marketplace awaits none shows
/// no such line. (A clean order may be acknowledged by the run that pulled it, depending on when
/// it was processed; a held one waits for staff, so the test starts from one.)
#[test]
fn an_orders_acknowledgement_shows_in_orders_show_and_on_its_console_page() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("demo");
    demo(&dir, 200);
    let d = dir_arg(&dir);
    let show_json = |id: &str| -> Value {
        serde_json::from_str(&stdout(&run_ok(&["orders", "show", id, "--json", "--dir", &d]))).unwrap()
    };
    let rakuten = orders(&dir)
        .iter()
        .find(|v| v["marketplace"] == "rakuten" && v["status"] == "on_hold")
        .map(key)
        .expect("a held 楽天 order");
    assert!(show_json(&rakuten)["acknowledgement"].is_null(), "a held order waits for staff");
    run_ok(&["orders", "release", &rakuten, "--dir", &d]);
    assert_eq!(show_json(&rakuten)["acknowledgement"]["state"], "due", "released: awaiting its 注文確認");
    let since =
        DateTime::parse_from_rfc3339(show_json(&rakuten)["acknowledgement"]["since"].as_str().unwrap()).unwrap();
    let jst = |t: DateTime<FixedOffset>| {
        t.with_timezone(&FixedOffset::east_opt(9 * 3600).unwrap()).format("%Y-%m-%d %H:%M").to_string()
    };
    let shown = stdout(&run_ok(&["orders", "show", &rakuten, "--dir", &d]));
    assert!(shown.contains(&format!("注文確認   注文確認待ち（{} から）", jst(since))), "{shown}");

    // The next pull acknowledges it on the sandbox.
    demo(&dir, 200);
    let ack = show_json(&rakuten)["acknowledgement"].clone();
    assert_eq!(ack["state"], "done", "{ack}");
    let at = jst(DateTime::parse_from_rfc3339(ack["at"].as_str().unwrap()).unwrap());
    let shown = stdout(&run_ok(&["orders", "show", &rakuten, "--dir", &d]));
    assert!(shown.contains(&format!("注文確認   注文確認済（{at}）")), "{shown}");
    let yahoo = orders(&dir).iter().find(|v| v["marketplace"] == "yahoo").map(key).unwrap();
    assert!(!stdout(&run_ok(&["orders", "show", &yahoo, "--dir", &d])).contains("注文確認"));

    let console = common::Console::start(&dir);
    let (status, page) = console.get(&format!("/orders/{rakuten}"));
    assert_eq!(status, 200);
    assert!(page.contains(&format!("<td id=\"acknowledgement\">注文確認済（{at}）</td>")), "{page}");
    let (_, page) = console.get(&format!("/orders/{yahoo}"));
    assert!(!page.contains("id=\"acknowledgement\""));
}
