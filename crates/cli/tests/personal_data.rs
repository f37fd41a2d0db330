//! Personal data never leaks into errors: random marker values (names, phone numbers, addresses,
//! with quotes, backslashes and XML entities) are pushed into every field of canonical orders and
//! of marketplace bodies, breaking them in the ways readers quote back (wrong types, unknown enum
//! values, unknown entities, control characters); `ichigen check` and `ichigen normalize` must
//! never print one of them on stderr. The seed is printed, so a failure can be replayed with
//! `ICHIGEN_PII_SEED=<seed>`.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../marketplaces/tests/fixtures");
/// Cases per reader.
const CASES: usize = 40;

/// A value that stands for personal data: a name with a unique 8-digit number, sometimes wrapped in
/// characters that make readers quote, escape or stop.
struct Marker {
    text: String,
    /// The part no output may contain (unique per case).
    digits: String,
}

fn marker(rng: &mut fastrand::Rng) -> Marker {
    const NAMES: [&str; 6] = ["山田太郎", "ｽｽﾞｷﾊﾅｺ", "佐藤 花子", "O'Brien", "東京都港区芝公園", "tanaka"];
    const WRAPS: [(&str, &str); 7] =
        [("", ""), ("\"", "\""), ("\\", "\\u00"), ("&", ";"), ("<", ">"), ("\u{7}", ""), ("x\", expected ", " \"")];
    let digits = format!("{:08}", rng.u32(10_000_000..100_000_000));
    let name = NAMES[rng.usize(..NAMES.len())];
    let (before, after) = WRAPS[rng.usize(..WRAPS.len())];
    Marker { text: format!("{before}{name}{digits}{after}"), digits }
}

fn seed() -> u64 {
    let seed = std::env::var("ICHIGEN_PII_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(|| fastrand::u64(..));
    eprintln!("ICHIGEN_PII_SEED={seed}");
    seed
}

/// Fields whose value an error may name (ids and API codes, "ids and field names only"), when
/// the value looks like one: a marker wrapped in anything but letters and digits must still be
/// withheld there.
const SHOWN_FIELDS: [&str; 12] = [
    "orderNumber",
    "order_id",
    "AmazonOrderId",
    "orderId",
    "OrderId",
    "orderNo",
    "packNo",
    "ResultCode",
    "Code",
    "code",
    "errorCode",
    "messageCode",
];

fn is_token(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':' | b'/'))
}

/// Where a marker went: the field, and whether what went there reads as a token (a number, or a
/// string of id characters), which an error may name in an id or code field.
struct Placed {
    field: String,
    token: bool,
}

fn assert_clean(stderr: &str, m: &Marker, placed: &Placed, what: &str) {
    let field = placed.field.as_str();
    if SHOWN_FIELDS.contains(&field) && placed.token {
        return;
    }
    assert!(!stderr.contains(&m.digits), "{what}: stderr echoes the marker {:?} (field {field}):\n{stderr}", m.text);
}

/// Paths of every leaf of a JSON value.
fn leaves(v: &Value, path: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                path.push(k.clone());
                leaves(child, path, out);
                path.pop();
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                path.push(i.to_string());
                leaves(child, path, out);
                path.pop();
            }
        }
        _ => out.push(path.clone()),
    }
}

fn leaf_mut<'a>(v: &'a mut Value, path: &[String]) -> Option<&'a mut Value> {
    path.iter().try_fold(v, |v, key| match v {
        Value::Object(map) => map.get_mut(key),
        Value::Array(items) => key.parse::<usize>().ok().and_then(|i| items.get_mut(i)),
        _ => None,
    })
}

/// Replaces one random leaf with the marker, in a type the reader does not expect where it can;
/// returns the body and the name of the field it went into.
fn corrupt_json(base: &Value, rng: &mut fastrand::Rng, m: &Marker) -> (String, Placed) {
    let mut v = base.clone();
    let mut all = Vec::new();
    leaves(&v, &mut Vec::new(), &mut all);
    let path = &all[rng.usize(..all.len())];
    let field = path.iter().rev().find(|k| k.parse::<usize>().is_err()).cloned().unwrap_or_default();
    if let Some(leaf) = leaf_mut(&mut v, path) {
        let number: Value = m.digits.parse::<u64>().map(Value::from).unwrap_or(Value::Null);
        *leaf = match (leaf.is_string(), rng.u8(..3)) {
            (true, 0) => number,
            (true, 1) => serde_json::json!({ m.text.clone(): m.text.clone() }),
            (false, 0) => Value::String(m.text.clone()),
            (false, 1) => number.as_u64().map(|n| Value::from(-(n as i64))).unwrap_or(Value::Null),
            _ => Value::String(m.text.clone()),
        };
    }
    let token = leaf_mut(&mut v, path).is_some_and(|l| l.is_number() || l.as_str().is_some_and(is_token));
    (v.to_string(), Placed { field, token })
}

/// Replaces the text of one random element with the marker (entities, angle brackets and all);
/// returns the body and the element's name.
fn corrupt_xml(base: &str, rng: &mut fastrand::Rng, m: &Marker) -> (String, Placed) {
    let texts: Vec<(usize, usize)> = base
        .match_indices('>')
        .filter_map(|(start, _)| {
            let rest = &base[start + 1..];
            let end = rest.find('<')?;
            (end > 0 && !rest[..end].trim().is_empty()).then_some((start + 1, start + 1 + end))
        })
        .collect();
    let (a, b) = texts[rng.usize(..texts.len())];
    let open = base[..a].rfind('<').map_or("", |i| &base[i + 1..a - 1]);
    let element = open.split_whitespace().next().unwrap_or("").to_string();
    (format!("{}{}{}", &base[..a], m.text, &base[b..]), Placed { field: element, token: is_token(&m.text) })
}

fn fixtures(mp: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(Path::new(FIXTURES).join(mp))
        .expect("fixtures")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "json" || x == "xml"))
        .collect();
    files.sort();
    files
}

#[test]
fn no_marker_reaches_stderr_of_normalize_for_any_marketplace() {
    let mut rng = fastrand::Rng::with_seed(seed());
    let dir = tempfile::tempdir().expect("tmp dir");
    for mp in ["rakuten", "yahoo", "amazon", "aupay", "qoo10"] {
        let bases = fixtures(mp);
        assert!(!bases.is_empty(), "{mp}: no fixtures");
        for case in 0..CASES {
            let m = marker(&mut rng);
            let base_path = &bases[rng.usize(..bases.len())];
            let base = std::fs::read_to_string(base_path).expect("fixture");
            let (body, placed) = match serde_json::from_str::<Value>(&base) {
                Ok(v) => corrupt_json(&v, &mut rng, &m),
                Err(_) => corrupt_xml(&base, &mut rng, &m),
            };
            let file = dir.path().join(format!("{mp}-{case}.{}", base_path.extension().unwrap().to_string_lossy()));
            std::fs::write(&file, body).expect("write");
            let out = Command::cargo_bin("ichigen")
                .expect("binary")
                .args(["normalize", "--marketplace", mp, "--shop", "shop-1"])
                .arg(&file)
                .output()
                .expect("runs");
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(out.status.code().is_some(), "{mp} case {case}: killed by a signal");
            assert!(!stderr.contains("panicked"), "{mp} case {case}: {stderr}");
            assert_clean(&stderr, &m, &placed, &format!("normalize {mp} case {case} ({})", base_path.display()));
        }
    }
}

#[test]
fn no_marker_reaches_stderr_of_check() {
    let mut rng = fastrand::Rng::with_seed(seed());
    let mut samples = ichigen_core::sample::SampleOrders::new(rng.u64(..));
    let marketplaces = ichigen_core::Marketplace::ALL;
    let mut markers = Vec::new();
    let mut lines = Vec::new();
    for n in 0..CASES * 3 {
        let order = samples.varied_order(marketplaces[n % marketplaces.len()], n);
        let base = serde_json::to_value(&order).expect("order as JSON");
        let m = marker(&mut rng);
        let (line, placed) = corrupt_json(&base, &mut rng, &m);
        lines.push(line);
        markers.push((m, placed));
    }
    let out = Command::cargo_bin("ichigen").expect("binary").arg("check").write_stdin(lines.join("\n")).output();
    let out = out.expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    for (n, (m, placed)) in markers.iter().enumerate() {
        assert_clean(&stderr, m, placed, &format!("check line {}", n + 1));
    }
}
