//! Qoo10 (QSM QAPI): `ShippingBasic.GetShippingInfo_v2` / `_v3` and
//! `GetShippingAndClaimInfoByOrderNo_V2` answers → canonical orders.
//!
//! Each answer row is one order line (`orderNo`); rows are grouped by `packNo` (the checkout) into
//! one order, across all bodies given. A row seen again (the same `orderNo` in a later body)
//! replaces the earlier one. Keys are matched case-insensitively ([`wire::normalize_keys`]).

pub mod client;
pub mod codes;
mod credentials;
pub mod map;
pub mod stock;
pub mod wire;

use ichigen_core::{MarketplacePolicy, Reconcile};
use std::time::Duration;

use crate::registry::Registration;
use std::collections::HashMap;

use ichigen_core::{Marketplace, Order};
use serde_json::{Map, Value};

use crate::error::{field_path, is_field_name};
use crate::{BadOrder, Body, NormalizeError};
pub use client::{Qoo10Client, Qoo10Credentials};
use wire::{ClaimRow, JsonEnvelope, ShippingRow, XmlEnvelope};

/// What the pipeline must know of Qoo10's rules.
///
/// QAPI has no "changed since" search: an order is found by the date that moved it into its
/// shipping status, so a change that moves none of them (a destination edited) is never listed.
/// Production clients re-read every status of the last 90 days daily (fact sheet §4.2); ichigen
/// reads the pair's open orders again by id, daily.
pub const POLICY: MarketplacePolicy = MarketplacePolicy {
    marketplace: Marketplace::Qoo10,
    buyer_mail: true,
    remark_sections: &[],
    reconcile: Some(Reconcile { every: Duration::from_secs(86_400), older_than: Duration::ZERO }),
    // The seller check (SetSellerCheckYN_V2) of a paid pack waiting at `On request(2)`.
    awaits_acknowledgement: Some(codes::awaits_seller_check),
    // "Up to 10 minutes" before a QSM stock change shows (official note; inventory.md §0).
    stock_latency: Duration::from_secs(600),
};

/// Qoo10 in the marketplaces' registry.
pub static REGISTRATION: Registration = Registration {
    policy: POLICY,
    check_secret: <credentials::Credentials as crate::secret::CredentialFields>::check,
    build: credentials::build,
    normalize,
};

/// The search method this module reads (v2 field names).
pub const OPERATION_V2: &str = "ShippingBasic.GetShippingInfo_v2";
/// The newer search method (v3 PascalCase field names).
pub const OPERATION_V3: &str = "ShippingBasic.GetShippingInfo_v3";
/// The claim search (cancellations, returns, exchanges): the only list of cancelled orders (§4.3).
pub const OPERATION_CLAIMS: &str = "ShippingBasic.GetClaimInfo_V3";
/// One order line's shipping and claim fields in one row (§2).
pub const OPERATION_BY_ORDER: &str = "ShippingBasic.GetShippingAndClaimInfoByOrderNo_V2";
/// Error code reported for a plain-text answer (unknown class/method), which carries no code.
pub const PLAIN_TEXT_CODE: &str = "none";
/// Longest part of a plain-text error answer kept as the message (characters).
const MAX_PLAIN_TEXT_CHARS: usize = 200;

/// Turns GetShippingInfo answers, as the API returned them, into validated orders (one per pack).
pub fn normalize(shop_id: &str, bodies: &[Body]) -> Result<Vec<Order>, NormalizeError> {
    let mut rows = Vec::new();
    for body in bodies {
        let (operation, body_rows) = parse_body(body)?;
        rows.extend(body_rows.into_iter().map(|r| (operation, r)));
    }
    orders_from_rows(shop_id, rows)
}

/// Groups parsed rows (with the operation each came from) by pack and maps each pack to an order.
pub fn orders_from_rows(shop_id: &str, rows: Vec<(&'static str, ShippingRow)>) -> Result<Vec<Order>, NormalizeError> {
    group(rows)?
        .iter()
        .map(|(key, operation, rows)| {
            map::map_pack(shop_id, operation, rows).map_err(|e| match e {
                // The pack number is not personal data; it is named only when it is a plain number.
                NormalizeError::Malformed { marketplace, operation, detail }
                    if !key.is_empty() && key.len() <= 20 && key.bytes().all(|b| b.is_ascii_digit()) =>
                {
                    NormalizeError::Malformed { marketplace, operation, detail: format!("pack {key}: {detail}") }
                }
                other => other,
            })
        })
        .collect()
}

/// A row that did not read, with its pack key (`packNo`, else `orderNo`) when that reads.
pub type BadRow = (Option<String>, NormalizeError);

/// A body's rows read one by one: the operation, the rows that deserialised, those that did not.
pub type LenientRows = (&'static str, Vec<ShippingRow>, Vec<BadRow>);

/// An answer's operation and its row objects (keys normalised).
pub type RowObjects = (&'static str, Vec<Map<String, Value>>);

/// One pack: its key, the operation its first row came from, its rows.
type Pack = (String, &'static str, Vec<ShippingRow>);

/// As [`orders_from_rows`], but a pack that cannot be mapped or validated, or that holds a row in
/// `bad_rows`, is set aside (as a whole: without that row it would be a wrong order) and the
/// other packs still map. A bad row without a pack key fails the call: which order it belongs
/// to, and so which order is incomplete, cannot be told.
pub fn orders_from_rows_lenient(
    shop_id: &str,
    rows: Vec<(&'static str, ShippingRow)>,
    bad_rows: Vec<BadRow>,
) -> Result<(Vec<Order>, Vec<BadOrder>), NormalizeError> {
    let mut broken: Vec<(String, NormalizeError)> = Vec::new();
    for (key, error) in bad_rows {
        let Some(key) = key else {
            let op = match &error {
                NormalizeError::Malformed { operation, .. } => operation.clone(),
                _ => OPERATION_V2.to_owned(),
            };
            return Err(malformed(&op, "a row that does not read has neither packNo nor orderNo"));
        };
        // One reason per pack is enough.
        if !broken.iter().any(|(k, _)| *k == key) {
            broken.push((key, error));
        }
    }
    let mut orders = Vec::new();
    let mut bad = Vec::new();
    for (key, operation, rows) in group(rows)? {
        if broken.iter().any(|(k, _)| *k == key) {
            continue;
        }
        match map::map_pack(shop_id, operation, &rows) {
            Ok(order) => orders.push(order),
            Err(error) => bad.push(BadOrder::new(Some(&key), error)),
        }
    }
    bad.extend(broken.into_iter().map(|(key, error)| BadOrder::new(Some(&key), error)));
    Ok((orders, bad))
}

/// Rows grouped by pack key, packs in first-seen order; a later row with the same orderNo
/// replaces the earlier one.
fn group(rows: Vec<(&'static str, ShippingRow)>) -> Result<Vec<Pack>, NormalizeError> {
    // Packs in first-seen order; a later row with the same orderNo replaces the earlier one.
    // Indexes keep this linear for large answers.
    let mut packs: Vec<Pack> = Vec::new();
    let mut pack_index: HashMap<String, usize> = HashMap::new();
    let mut line_index: HashMap<(usize, String), usize> = HashMap::new();
    for (operation, row) in rows {
        let Some(key) = map::pack_key(&row).map(str::to_owned) else {
            return Err(malformed(operation, "packNo and orderNo are missing"));
        };
        let p = *pack_index.entry(key.clone()).or_insert_with(|| {
            packs.push((key, operation, Vec::new()));
            packs.len() - 1
        });
        let Some((_, _, pack_rows)) = packs.get_mut(p) else { continue };
        let line = row.order_no.as_ref().map(|n| (p, n.0.clone()));
        match line.as_ref().and_then(|l| line_index.get(l)).and_then(|&i| pack_rows.get_mut(i)) {
            Some(old) => *old = row,
            None => {
                if let Some(l) = line {
                    line_index.insert(l, pack_rows.len());
                }
                pack_rows.push(row);
            }
        }
    }
    Ok(packs)
}

fn malformed(operation: &str, detail: impl Into<String>) -> NormalizeError {
    NormalizeError::malformed(Marketplace::Qoo10, operation, detail)
}

/// Parses one body: JSON or XML envelope, error envelope → `Api`, rows otherwise.
pub fn parse_body(body: &Body) -> Result<(&'static str, Vec<ShippingRow>), NormalizeError> {
    let (op, rows, bad) = parse_any(body, false)?;
    match bad.into_iter().next() {
        Some((_, e)) => Err(e),
        None => Ok((op, rows)),
    }
}

/// As [`parse_body`], but a JSON row whose fields do not read is returned apart with its pack key
/// instead of failing the body (see [`orders_from_rows_lenient`]).
pub fn parse_body_lenient(body: &Body) -> Result<LenientRows, NormalizeError> {
    parse_any(body, true)
}

fn parse_any(body: &Body, lenient: bool) -> Result<LenientRows, NormalizeError> {
    let text = body.text.trim_start_matches('\u{feff}').trim_start();
    if text.starts_with('{') {
        parse_json(text, lenient)
    } else if text.starts_with('<') {
        parse_xml(text).map(|(op, rows)| (op, rows, Vec::new()))
    } else if text.starts_with("Can't find") {
        // Unknown class or method: the API answers in plain text, without a code.
        Err(NormalizeError::Api {
            marketplace: Marketplace::Qoo10,
            operation: OPERATION_V2.to_owned(),
            code: PLAIN_TEXT_CODE.to_owned(),
            message: text.lines().next().unwrap_or("").chars().take(MAX_PLAIN_TEXT_CHARS).collect(),
        })
    } else {
        Err(malformed(OPERATION_V2, format!("body {} is neither JSON nor XML", safe_name(&body.name))))
    }
}

/// A body name fit for a message: printable, short.
fn safe_name(name: &str) -> String {
    name.chars().filter(|c| !c.is_control()).take(100).collect()
}

/// Checks `ResultCode`: 0 goes on, anything else is the API's error.
fn check_result(operation: &'static str, code: Option<&wire::Num>, msg: Option<&str>) -> Result<(), NormalizeError> {
    let code = code.ok_or_else(|| malformed(operation, "ResultCode is missing"))?;
    let n: i64 = code.0.parse().map_err(|_| malformed(operation, "ResultCode is not an integer"))?;
    if n == 0 {
        return Ok(());
    }
    Err(NormalizeError::Api {
        marketplace: Marketplace::Qoo10,
        operation: operation.to_owned(),
        code: n.to_string(),
        message: msg.unwrap_or("").to_owned(),
    })
}

fn parse_json(text: &str, lenient: bool) -> Result<LenientRows, NormalizeError> {
    let (op, objects) = json_objects(OPERATION_V2, text)?;
    let mut rows = Vec::with_capacity(objects.len());
    let mut bad = Vec::new();
    for (i, obj) in objects.into_iter().enumerate() {
        let key = raw_pack_key(&obj);
        match row_from_object(op, i, obj) {
            Ok(row) => rows.push(row),
            Err(error) => {
                if !lenient {
                    return Err(error);
                }
                bad.push((key, error));
            }
        }
    }
    Ok((op, rows, bad))
}

/// The row objects of a JSON answer of `op`, keys normalised by [`wire::normalize_keys`], with the
/// operation they read as (for [`OPERATION_V2`]: v3 when a row has the v3 key `OrderNo`). An
/// error envelope is the API's error; a payload that is not a list of objects (or one object) is
/// malformed.
pub fn json_objects(op: &'static str, text: &str) -> Result<RowObjects, NormalizeError> {
    let text = text.trim_start_matches('\u{feff}').trim_start();
    let de = &mut serde_json::Deserializer::from_str(text);
    let env: JsonEnvelope = serde_path_to_error::deserialize(de).map_err(|e| json_error(op, &e))?;
    check_result(op, env.result_code.as_ref(), env.result_msg.as_deref())?;
    let values = match env.result_object {
        None => return Err(malformed(op, "ResultObject is missing (not a search answer)")),
        // unverified: whether an empty search answers `null` or `[]`; both mean no rows.
        Some(Value::Null) => Vec::new(),
        Some(Value::Array(rows)) => rows,
        // A single-order method answers one object: a list of one.
        Some(obj @ Value::Object(_)) => vec![obj],
        Some(_) => return Err(malformed(op, "ResultObject is not a list of rows (another operation?)")),
    };
    let op = if op == OPERATION_V2 && values.iter().any(|v| v.get("OrderNo").is_some()) { OPERATION_V3 } else { op };
    let mut objects = Vec::with_capacity(values.len());
    for (i, v) in values.into_iter().enumerate() {
        let Value::Object(obj) = v else {
            return Err(malformed(op, format!("ResultObject[{i}] is not an object")));
        };
        objects.push(wire::normalize_keys(obj));
    }
    Ok((op, objects))
}

/// The rows of a `ShippingBasic.GetClaimInfo_V3` JSON answer. A row without `orderNo` and
/// `packNo`, or whose fields do not read, fails the answer: which order it cancels cannot be told.
pub fn claim_rows(text: &str) -> Result<Vec<ClaimRow>, NormalizeError> {
    let (_, objects) = json_objects(OPERATION_CLAIMS, text)?;
    objects.into_iter().enumerate().map(|(i, obj)| claim_row(i, obj)).collect()
}

/// One `GetClaimInfo_V3` row object (keys normalised); `i` is its index for the message.
pub fn claim_row(i: usize, obj: Map<String, Value>) -> Result<ClaimRow, NormalizeError> {
    let op = OPERATION_CLAIMS;
    let row: ClaimRow = serde_path_to_error::deserialize(Value::Object(obj)).map_err(|e| {
        malformed(op, format!("ResultObject[{i}].{}: wrong type or impossible value", field_path(e.path())))
    })?;
    let digits = |n: &Option<wire::Num>| {
        n.as_ref().is_some_and(|n| !n.0.is_empty() && n.0.len() <= 20 && n.0.bytes().all(|b| b.is_ascii_digit()))
    };
    if !digits(&row.order_no) || !digits(&row.pack_no) {
        return Err(malformed(op, format!("ResultObject[{i}]: orderNo or packNo is missing or not a number")));
    }
    if row.claim_status.as_deref().and_then(codes::status_code).is_none() {
        return Err(malformed(op, format!("ResultObject[{i}]: claimStatus is not a status code")));
    }
    Ok(row)
}

/// One row object (keys normalised) read as a [`ShippingRow`]; `i` is its index for the message.
pub fn row_from_object(op: &str, i: usize, obj: Map<String, Value>) -> Result<ShippingRow, NormalizeError> {
    let names = obj.get(wire::SPELLINGS_KEY).cloned().and_then(|v| match v {
        Value::Object(m) => Some(m),
        _ => None,
    });
    serde_path_to_error::deserialize::<_, ShippingRow>(Value::Object(obj)).map_err(|e| {
        let key = field_path(e.path());
        // The body's own spelling of the key, when it is a plain name.
        let shown = names
            .as_ref()
            .and_then(|n| n.get(&key))
            .and_then(Value::as_str)
            .filter(|s| is_field_name(s))
            .unwrap_or(&key);
        malformed(op, format!("ResultObject[{i}].{shown}: wrong type or impossible value"))
    })
}

/// The pack key of a row object not yet deserialised (keys normalised), read as
/// [`map::pack_key`] reads it: `packNo`, else `orderNo`, as a number or non-empty text. `None` when a key field is there
/// but unreadable: the row's pack is then unknown.
pub(crate) fn raw_pack_key(row: &Map<String, Value>) -> Option<String> {
    // `Some(None)`: absent, null or empty (fall through to the next field); `None`: unreadable.
    let read = |name: &str| -> Option<Option<String>> {
        match row.get(name) {
            None | Some(Value::Null) => Some(None),
            Some(Value::String(x)) => Some(Some(x.trim().to_owned()).filter(|x| !x.is_empty())),
            // The same text wire::Num makes of a number.
            Some(Value::Number(x)) => Some(Some(match (x.as_u64(), x.as_i64(), x.as_f64()) {
                (Some(u), _, _) => u.to_string(),
                (None, Some(i), _) => i.to_string(),
                (None, None, Some(f)) => format!("{f}"),
                _ => x.to_string(),
            })),
            Some(_) => None,
        }
    };
    read("packno")?.or_else(|| read("orderno").flatten())
}

/// A JSON error without the input's values: syntax errors carry a position, data errors a path.
fn json_error(op: &str, e: &serde_path_to_error::Error<serde_json::Error>) -> NormalizeError {
    let inner = e.inner();
    if inner.is_data() {
        malformed(op, format!("{}: wrong type or impossible value", field_path(e.path())))
    } else {
        malformed(op, format!("invalid JSON at line {} column {}", inner.line(), inner.column()))
    }
}

fn parse_xml(text: &str) -> Result<(&'static str, Vec<ShippingRow>), NormalizeError> {
    let op = if text.contains("<OrderNo>") { OPERATION_V3 } else { OPERATION_V2 };
    let mut de = quick_xml::de::Deserializer::from_str(text);
    let env: XmlEnvelope = serde_path_to_error::deserialize(&mut de)
        .map_err(|e| malformed(op, format!("invalid XML or wrong type at {}", xml_error_path(e.path()))))?;
    check_result(op, env.result_code.as_ref(), env.result_msg.as_deref())?;
    match env.result_object {
        // Rows under another element name, or a text payload (another operation), must not read
        // as an empty search.
        Some(obj) if obj.rows.is_empty() && !xml_result_object_is_blank(text) => {
            Err(malformed(op, "ResultObject holds no ShippingInfo rows but is not empty (another operation?)"))
        }
        Some(obj) => obj
            .rows
            .into_iter()
            .enumerate()
            .map(|(i, fields)| {
                let obj: Map<String, Value> = fields.into_iter().map(|(k, v)| (k, Value::String(v.0))).collect();
                row_from_object(op, i, wire::normalize_keys(obj))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(|rows| (op, rows)),
        None => Err(malformed(op, "ResultObject is missing (not a search answer)")),
    }
}

/// The envelope's own elements in an XML error's path (`ResultObject.ShippingInfo[2]`), no
/// further: quick-xml meets broken XML lazily, inside whatever element the body opened, and a
/// broken body can turn any text (a buyer's name) into an element name.
fn xml_error_path(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    const ENVELOPE: [&str; 4] = ["ResultCode", "ResultMsg", "ResultObject", "ShippingInfo"];
    let mut out = String::new();
    for seg in path.iter() {
        match seg {
            Segment::Map { key } if ENVELOPE.contains(&key.as_str()) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(key);
            }
            Segment::Seq { index } if !out.is_empty() => out.push_str(&format!("[{index}]")),
            _ => break,
        }
    }
    if out.is_empty() { "the root element".into() } else { out }
}

/// Whether the `<ResultObject>` element of an XML text is empty or whitespace only.
fn xml_result_object_is_blank(text: &str) -> bool {
    let Some(rest) = text.find("<ResultObject").and_then(|i| text.get(i..)) else { return true };
    let Some(gt) = rest.find('>') else { return true };
    if rest.get(..gt).is_some_and(|open| open.ends_with('/')) {
        return true;
    }
    let inner = rest.get(gt + 1..).unwrap_or("");
    let end = inner.find("</ResultObject").unwrap_or(inner.len());
    inner.get(..end).is_none_or(|s| s.trim().is_empty())
}
