//! 楽天 RMS InventoryAPI 2.0 (在庫API) in the sandbox (inventory.md §1): `bulk-upsert`,
//! `bulk-get` and `bulk-get/range` under `/es/2.0/inventories/` (and `/es/2.1/`), JSON.
//!
//! - Key: `manageNumber` (folded to lower case, as the API does) + `variantId` (case-sensitive);
//!   each ≤32 bytes of `a-z A-Z 0-9 - _` (`IE0004` too long, `IE0105` otherwise).
//! - bulk-upsert: ≤400 rows, each `mode` `ABSOLUTE` | `RELATIVE` and `quantity` 0…99,999
//!   (`IE0002` not a number, `IE0003` out of range); a row that has no stock row yet must be
//!   `ABSOLUTE`. Success is **204 with no body**. Any bad row refuses the whole call with HTTP 400
//!   `{"errors":[{code, message, metadata:{propertyPath}}]}` naming each bad row (whether Rakuten
//!   refuses the whole call is unverified; the envelope and codes are the sheet's).
//! - An unknown key is **not an error**: the number is kept attached to nothing and never shows
//!   (§1.5; deleted after 24 h on Rakuten — the sandbox keeps it apart until the item is listed).
//! - bulk-get: ≤1,000 keys; unknown keys are left out of the answer (unverified: the sheet does
//!   not say whether it omits or errors). range: `minQuantity`/`maxQuantity` (one required,
//!   0…99,999), newest `updated` first, refused (`IE0105`) when more than 1,000 rows match.
//! - Rate: write 1 req/s, reads 5 req/s (official transcription), on top of the license's shared
//!   bucket the order API uses.
//! - The delay before a write shows is not documented (unverified): [`crate::Shelf::set_latency`],
//!   0 by default.

// The checks return the API's own error answer as `Err`; it is sent at once, never stored.
#![allow(clippy::result_large_err)]
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::{Sandbox, gateway, json_response, refused};
use crate::{Fault, Put};

/// `inventories.bulk.upsert`.
pub const BULK_UPSERT: &str = "inventories.bulk.upsert";
/// `inventories.bulk.get`.
pub const BULK_GET: &str = "inventories.bulk.get";
/// `inventories.bulk.get.range`.
pub const BULK_GET_RANGE: &str = "inventories.bulk.get.range";
/// `(operation, requests per second, burst)` of the inventory functions (official transcription).
pub const LIMITS: [(&str, f64, u32); 3] = [(BULK_UPSERT, 1.0, 1), (BULK_GET, 5.0, 5), (BULK_GET_RANGE, 5.0, 5)];
/// Most rows per bulk-upsert.
pub const MAX_UPSERT_ROWS: usize = 400;
/// Most keys per bulk-get, and most rows a range read may match.
pub const MAX_GET_ROWS: usize = 1_000;
/// Largest stock number.
pub const MAX_QUANTITY: i64 = 99_999;

/// The shelf key of an item: manageNumber folded to lower case, variantId as is.
pub fn key(manage_number: &str, variant_id: &str) -> String {
    format!("{}:{variant_id}", manage_number.to_lowercase())
}

/// The inventory routes.
pub(super) fn routes(mut router: Router<Arc<Sandbox>>) -> Router<Arc<Sandbox>> {
    for v in ["2.0", "2.1"] {
        router = router
            .route(
                &format!("/es/{v}/inventories/bulk-upsert"),
                post(|State(st): State<Arc<Sandbox>>, headers: HeaderMap, body: String| async move {
                    upsert(&st, &headers, &body).await
                }),
            )
            .route(
                &format!("/es/{v}/inventories/bulk-get"),
                post(|State(st): State<Arc<Sandbox>>, headers: HeaderMap, body: String| async move {
                    bulk_get(&st, &headers, &body).await
                }),
            )
            .route(
                &format!("/es/{v}/inventories/bulk-get/range"),
                get(
                    |State(st): State<Arc<Sandbox>>, headers: HeaderMap, q: Query<HashMap<String, String>>| async move {
                        range(&st, &headers, &q).await
                    },
                ),
            );
    }
    router
}

/// One error of the inventory API's envelope.
fn error(code: &str, message: &str, path: &str) -> Value {
    json!({"code": code, "message": message, "metadata": {"propertyPath": path}})
}

fn errors(status: StatusCode, list: Vec<Value>) -> Response {
    json_response(status, json!({"errors": list}).to_string(), false)
}

/// Auth, the rate limit, the content type and injected faults, as for the order functions.
/// `Err`: the answer to give instead.
async fn gate(st: &Sandbox, operation: &'static str, headers: &HeaderMap, json_body: bool) -> Result<(), Response> {
    if let Some(refusal) = refused(st, headers) {
        return Err(refusal);
    }
    if !st.throttle.admit(operation) {
        return Err(gateway(StatusCode::TOO_MANY_REQUESTS, "ES04-02", "Too Many Requests"));
    }
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    if json_body && !content_type.split(';').next().unwrap_or("").trim().eq_ignore_ascii_case("application/json") {
        return Err(gateway(StatusCode::UNSUPPORTED_MEDIA_TYPE, "ES04-03", "Unsupported Media Type"));
    }
    let (latency, fault) = st.faults.roll();
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    match fault {
        Fault::ServerError => {
            Err(errors(StatusCode::INTERNAL_SERVER_ERROR, vec![error("GE0001", "システムエラーが発生しました。", "")]))
        }
        Fault::Hang(d) => {
            tokio::time::sleep(d).await;
            Ok(())
        }
        Fault::None | Fault::Malformed => Ok(()),
    }
}

/// A key field's error, if any.
fn key_error(value: Option<&Value>, path: &str) -> Option<Value> {
    let Some(s) = value.and_then(Value::as_str) else {
        return Some(error("IE0105", "必須項目です。", path));
    };
    if s.len() > 32 {
        return Some(error("IE0004", "文字数が超過しています。", path));
    }
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
        return Some(error("IE0105", "使用できない文字が含まれています。", path));
    }
    None
}

/// The `inventories` list of a request, or the error answer.
fn rows(body: &str, max: usize) -> Result<Vec<Value>, Response> {
    let request: Value = serde_json::from_str(body)
        .map_err(|_| errors(StatusCode::BAD_REQUEST, vec![error("IE0105", "リクエストの書式が不正です。", "")]))?;
    let Some(list) = request.get("inventories").and_then(Value::as_array) else {
        return Err(errors(StatusCode::BAD_REQUEST, vec![error("IE0105", "必須項目です。", "inventories")]));
    };
    if list.is_empty() || list.len() > max {
        // unverified: the code Rakuten answers for too many rows.
        return Err(errors(
            StatusCode::BAD_REQUEST,
            vec![error("IE0105", &format!("inventories は1件以上{max}件以内で指定してください。"), "inventories")],
        ));
    }
    Ok(list.clone())
}

async fn upsert(st: &Sandbox, headers: &HeaderMap, body: &str) -> Response {
    if let Err(answer) = gate(st, BULK_UPSERT, headers, true).await {
        return answer;
    }
    st.shelf.count_write_call();
    let list = match rows(body, MAX_UPSERT_ROWS) {
        Ok(list) => list,
        Err(answer) => return answer,
    };
    let mut problems = Vec::new();
    let mut writes = Vec::new();
    let mut seen = HashSet::new();
    for (i, row) in list.iter().enumerate() {
        let at = |field: &str| format!("inventories[{i}].{field}");
        let before = problems.len();
        problems.extend(key_error(row.get("manageNumber"), &at("manageNumber")));
        problems.extend(key_error(row.get("variantId"), &at("variantId")));
        let mode = row.get("mode").and_then(Value::as_str);
        if !matches!(mode, Some("ABSOLUTE" | "RELATIVE")) {
            problems.push(error("IE0105", "mode は ABSOLUTE または RELATIVE を指定してください。", &at("mode")));
        }
        let quantity = match row.get("quantity") {
            Some(q) if q.is_i64() => q.as_i64(),
            _ => {
                problems.push(error("IE0002", "数値で指定してください。", &at("quantity")));
                None
            }
        };
        if problems.len() > before {
            continue;
        }
        let k = key(
            row.get("manageNumber").and_then(Value::as_str).unwrap_or_default(),
            row.get("variantId").and_then(Value::as_str).unwrap_or_default(),
        );
        if !seen.insert(k.clone()) {
            problems.push(error("IE0121", "重複しています。", &at("variantId")));
            continue;
        }
        let q = quantity.unwrap_or_default();
        let target = if mode == Some("RELATIVE") {
            match st.shelf.latest(&k) {
                Some(now) => now + q,
                None => {
                    problems.push(error("IE0105", "在庫が未登録のSKUは ABSOLUTE で登録してください。", &at("mode")));
                    continue;
                }
            }
        } else {
            q
        };
        if !(0..=MAX_QUANTITY).contains(&target) {
            problems.push(error("IE0003", "0から99999の範囲で指定してください。", &at("quantity")));
            continue;
        }
        writes.push((k, target));
    }
    if !problems.is_empty() {
        return errors(StatusCode::BAD_REQUEST, problems);
    }
    for (k, n) in writes {
        // An unknown key is taken silently and kept apart (§1.5).
        let put = st.shelf.put(&k, n, true);
        debug_assert!(matches!(put, Put::Taken | Put::Orphaned));
    }
    StatusCode::NO_CONTENT.into_response()
}

fn rendered(k: &str, quantity: i64, changed: DateTime<Utc>) -> Value {
    let (manage, variant) = k.split_once(':').unwrap_or((k, ""));
    let t = changed.with_timezone(&crate::book::jst()).format("%Y-%m-%dT%H:%M:%S%:z").to_string();
    json!({"manageNumber": manage, "variantId": variant, "quantity": quantity, "created": t, "updated": t})
}

async fn bulk_get(st: &Sandbox, headers: &HeaderMap, body: &str) -> Response {
    if let Err(answer) = gate(st, BULK_GET, headers, true).await {
        return answer;
    }
    st.shelf.count_read_call();
    let list = match rows(body, MAX_GET_ROWS) {
        Ok(list) => list,
        Err(answer) => return answer,
    };
    let mut problems = Vec::new();
    let mut out = Vec::new();
    for (i, row) in list.iter().enumerate() {
        let before = problems.len();
        problems.extend(key_error(row.get("manageNumber"), &format!("inventories[{i}].manageNumber")));
        problems.extend(key_error(row.get("variantId"), &format!("inventories[{i}].variantId")));
        if problems.len() > before {
            continue;
        }
        let k = key(
            row.get("manageNumber").and_then(Value::as_str).unwrap_or_default(),
            row.get("variantId").and_then(Value::as_str).unwrap_or_default(),
        );
        if let Some((n, changed)) = st.shelf.row(&k) {
            out.push(rendered(&k, n, changed));
        }
    }
    if !problems.is_empty() {
        return errors(StatusCode::BAD_REQUEST, problems);
    }
    json_response(StatusCode::OK, json!({"inventories": out}).to_string(), false)
}

async fn range(st: &Sandbox, headers: &HeaderMap, q: &HashMap<String, String>) -> Response {
    if let Err(answer) = gate(st, BULK_GET_RANGE, headers, false).await {
        return answer;
    }
    st.shelf.count_read_call();
    let bound = |name: &str| -> Result<Option<i64>, Response> {
        match q.get(name) {
            None => Ok(None),
            Some(v) => match v.parse::<i64>() {
                Ok(n) if (0..=MAX_QUANTITY).contains(&n) => Ok(Some(n)),
                Ok(_) => Err(errors(StatusCode::BAD_REQUEST, vec![error("IE0003", "範囲外です。", name)])),
                Err(_) => Err(errors(StatusCode::BAD_REQUEST, vec![error("IE0002", "数値で指定してください。", name)])),
            },
        }
    };
    let (min, max) = match (bound("minQuantity"), bound("maxQuantity")) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => return e,
    };
    if min.is_none() && max.is_none() {
        return errors(StatusCode::BAD_REQUEST, vec![error("IE0105", "必須項目です。", "minQuantity")]);
    }
    let (min, max) = (min.unwrap_or(0), max.unwrap_or(MAX_QUANTITY));
    let mut hits: Vec<_> = st.shelf.rows().into_iter().filter(|(_, n, _)| (min..=max).contains(n)).collect();
    if hits.len() > MAX_GET_ROWS {
        // unverified: the exact condition and code of the range read's limit error (§1.3).
        return errors(StatusCode::BAD_REQUEST, vec![error("IE0105", "該当件数が1000件を超えています。", "")]);
    }
    hits.sort_by(|a, b| b.2.cmp(&a.2).then_with(|| a.0.cmp(&b.0)));
    let out: Vec<Value> = hits.iter().map(|(k, n, t)| rendered(k, *n, *t)).collect();
    json_response(StatusCode::OK, json!({"inventories": out}).to_string(), false)
}
