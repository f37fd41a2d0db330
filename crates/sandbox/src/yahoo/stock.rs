//! Yahoo!ショッピング 在庫参照API (`getStock`) and 在庫更新API (`setStock`) in the sandbox
//! (inventory.md §2): `POST /ShoppingWebService/V1/getStock|setStock`, form body, XML answer, the
//! order APIs' token check and rate limit (about one query a second per URL).
//!
//! - `item_code`: comma list of ≤1,000 `code` or `code:subcode`, half-width alphanumerics and `-`,
//!   ≤99 each (`st-02101`, `st-02102` over 1,000, `st-02103` a duplicate); `seller_id` missing →
//!   `px-04001`, another store → `st-02100`.
//! - setStock `quantity`: one per code (`st-02105` otherwise); a plain number sets, `+n` / `-n`
//!   add / subtract, range ±999,999,999; anything else (`INI`, `33.0`, a bare `+` that the form
//!   body turned into a space) → that row's `ErrorCode` `st-02104`. Rows answer with the quantity
//!   **after** the update; a call with a refused row answers HTTP 207.
//! - An item code the store does not have is **not** an error: the number is kept and becomes
//!   the item's when an item of that code is registered (official setStock page). getStock
//!   answers it `Status` 0 with only its key.
//! - The delay before a write shows is not documented (unverified): 0 by default.

// The checks return the API's own error answer as `Err`; it is sent at once, never stored.
#![allow(clippy::result_large_err)]
use std::collections::{HashMap, HashSet};

use axum::extract::{Form, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use super::{SELLER_ID, Shared, admit, error, esc, finish, iso};
use crate::book::jst;

/// 在庫参照API.
pub const GET_STOCK: &str = "getStock";
/// 在庫更新API.
pub const SET_STOCK: &str = "setStock";
/// Most item codes per call.
pub const MAX_CODES: usize = 1_000;
const MAX_QUANTITY: i64 = 999_999_999;

/// Whether `code` is `code` or `code:subcode` as the API takes them.
fn valid(code: &str) -> bool {
    let ok =
        |s: &str| !s.is_empty() && s.chars().count() <= 99 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    match code.split_once(':') {
        Some((c, sub)) => ok(c) && ok(sub),
        None => ok(code),
    }
}

/// The item codes of a request, or the refusal.
fn codes(f: &HashMap<String, String>) -> Result<Vec<String>, Response> {
    match f.get("seller_id").map(String::as_str) {
        None | Some("") => return Err(error(StatusCode::BAD_REQUEST, "px-04001", "seller_id is not specified")),
        Some(id) if id != SELLER_ID => return Err(error(StatusCode::BAD_REQUEST, "st-02100", "seller_id is invalid")),
        Some(_) => {}
    }
    let list: Vec<String> = f.get("item_code").map(|s| s.split(',').map(str::to_owned).collect()).unwrap_or_default();
    if list.is_empty() || list.iter().any(|c| !valid(c)) {
        return Err(error(StatusCode::BAD_REQUEST, "st-02101", "item_code is invalid"));
    }
    if list.len() > MAX_CODES {
        return Err(error(StatusCode::BAD_REQUEST, "st-02102", "too many item_code"));
    }
    let mut seen = HashSet::new();
    if !list.iter().all(|c| seen.insert(c.as_str())) {
        return Err(error(StatusCode::BAD_REQUEST, "st-02103", "item_code is duplicated"));
    }
    Ok(list)
}

fn key_xml(code: &str) -> String {
    let (c, sub) = code.split_once(':').unwrap_or((code, ""));
    format!("<ItemCode>{}</ItemCode><SubCode>{}</SubCode>", esc(c), esc(sub))
}

fn result_set(rows: &[String], ok: usize, ng: usize) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ResultSet totalResultsAvailable=\"{n}\" totalResultsReturned=\"{n}\" firstResultPosition=\"1\" ok=\"{ok}\" ng=\"{ng}\">{}</ResultSet>",
        rows.concat(),
        n = rows.len()
    )
}

/// A quantity cell: `Some((relative, value))`, `None` when invalid.
fn quantity(cell: &str) -> Option<(bool, i64)> {
    let (relative, digits) = match cell.as_bytes().first() {
        Some(b'+' | b'-') => (true, cell),
        _ => (false, cell),
    };
    if digits.is_empty() || !digits.trim_start_matches(['+', '-']).bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: i64 = digits.trim_start_matches('+').parse().ok()?;
    (-MAX_QUANTITY..=MAX_QUANTITY).contains(&n).then_some((relative, n))
}

pub(super) async fn set_stock(
    State(s): State<Shared>,
    headers: HeaderMap,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let admitted = match admit(&s, SET_STOCK, &headers).await {
        Ok(a) => a,
        Err(r) => return *r,
    };
    s.shelf.count_write_call();
    let list = match codes(&f) {
        Ok(l) => l,
        Err(r) => return r,
    };
    let cells: Vec<&str> = f.get("quantity").map(|q| q.split(',').collect()).unwrap_or_default();
    if cells.len() != list.len() {
        return error(StatusCode::BAD_REQUEST, "st-02105", "the number of quantity does not match item_code");
    }
    let (mut rows, mut ng) = (Vec::new(), 0);
    for (code, cell) in list.iter().zip(cells) {
        let target = quantity(cell).and_then(|(relative, n)| {
            let base = if relative { s.shelf.latest(code).unwrap_or(0) } else { 0 };
            Some(base + n).filter(|t| (0..=MAX_QUANTITY).contains(t))
        });
        match target {
            Some(t) => {
                s.shelf.put(code, t, true);
                rows.push(format!("<Result>{}<Quantity>{t}</Quantity></Result>", key_xml(code)));
            }
            None => {
                ng += 1;
                rows.push(format!("<Result>{}<ErrorCode>st-02104</ErrorCode></Result>", key_xml(code)));
            }
        }
    }
    let mut answer = finish(&admitted, result_set(&rows, rows.len() - ng, ng));
    if ng > 0 {
        *answer.status_mut() = StatusCode::MULTI_STATUS;
    }
    answer
}

pub(super) async fn get_stock(
    State(s): State<Shared>,
    headers: HeaderMap,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let admitted = match admit(&s, GET_STOCK, &headers).await {
        Ok(a) => a,
        Err(r) => return *r,
    };
    s.shelf.count_read_call();
    let list = match codes(&f) {
        Ok(l) => l,
        Err(r) => return r,
    };
    let (mut rows, mut ng) = (Vec::new(), 0);
    for code in &list {
        match s.shelf.row(code) {
            Some((n, changed)) => rows.push(format!(
                "<Result>{}<Status>1</Status><Quantity>{n}</Quantity><AllowOverdraft>0</AllowOverdraft><IsPublished>1</IsPublished><UpdateTime>{}</UpdateTime></Result>",
                key_xml(code),
                iso(changed.with_timezone(&jst()))
            )),
            None => {
                ng += 1;
                rows.push(format!("<Result>{}<Status>0</Status></Result>", key_xml(code)));
            }
        }
    }
    finish(&admitted, result_set(&rows, list.len() - ng, ng))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantity_cells() {
        assert_eq!(quantity("5"), Some((false, 5)));
        assert_eq!(quantity("+5"), Some((true, 5)));
        assert_eq!(quantity("-2"), Some((true, -2)));
        for bad in [" 5", "INI", "33.0", "", "1000000000"] {
            assert_eq!(quantity(bad), None, "{bad}");
        }
    }
}
