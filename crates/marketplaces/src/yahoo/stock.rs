//! Yahoo!ショッピング stock (inventory.md §2): `setStock` and `getStock`, 1,000 item codes a call,
//! on the order client's token, signature and rate budget (about one query a second per URL).
//!
//! Identity: `item_code` (商品コード) or `item_code:sub_code` (個別商品コード of a variation). The
//! client writes plain numbers only (an absolute set); the `+n`/`-n` forms are never sent. An item
//! code Yahoo does not know is **not** an error: the number is kept and linked when an item of
//! that code is registered later (official setStock page). The client does not invent an error:
//! the read-back (`Status` 0) shows the item missing. A partly failed call (HTTP 207) answers
//! each row: a row with an `ErrorCode` is refused, the others were written.

use std::collections::HashMap;

use ichigen_core::Marketplace;
use ichigen_core::stock::mall::{ItemSet, ItemShown, MallStock, Quantity, SetOutcome, Shown};
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Deserialize;

use super::client::YahooClient;
use crate::client::ClientError;

/// 在庫参照API.
pub const GET_STOCK: &str = "getStock";
/// 在庫更新API.
pub const SET_STOCK: &str = "setStock";
/// Most item codes per call (both operations).
pub const MAX_CODES: usize = 1_000;
/// The largest quantity setStock takes.
pub const MAX_QUANTITY: u32 = 999_999_999;
/// Longest item code or sub-code.
const MAX_CODE_CHARS: usize = 99;
const FORM: &str = "application/x-www-form-urlencoded";

#[derive(Debug, Default, Deserialize)]
struct ResultSet {
    #[serde(rename = "Result", default)]
    results: Vec<Row>,
}

#[derive(Debug, Deserialize)]
struct Row {
    #[serde(rename = "ItemCode", default)]
    item_code: String,
    #[serde(rename = "SubCode", default)]
    sub_code: Option<String>,
    #[serde(rename = "Quantity", default)]
    quantity: Option<String>,
    #[serde(rename = "Status", default)]
    status: Option<String>,
    #[serde(rename = "ErrorCode", default)]
    error_code: Option<String>,
}

impl Row {
    /// `code` or `code:sub`, as asked.
    fn key(&self) -> String {
        match self.sub_code.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            Some(sub) => format!("{}:{sub}", self.item_code.trim()),
            None => self.item_code.trim().to_owned(),
        }
    }
}

/// Whether `item` is `code` or `code:sub` of half-width alphanumerics and `-`, each ≤99.
fn valid_code(item: &str) -> bool {
    let ok = |s: &str| {
        !s.is_empty()
            && s.chars().count() <= MAX_CODE_CHARS
            && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    };
    match item.split_once(':') {
        Some((code, sub)) => ok(code) && ok(sub),
        None => ok(item),
    }
}

fn form(fields: &[(&str, String)]) -> String {
    fields
        .iter()
        .map(|(k, v)| format!("{k}={}", utf8_percent_encode(v, NON_ALPHANUMERIC)))
        .collect::<Vec<_>>()
        .join("&")
}

fn parse(operation: &'static str, body: &str) -> Result<ResultSet, ClientError> {
    quick_xml::de::from_str(body)
        .map_err(|_| ClientError::malformed(Marketplace::Yahoo, operation, "not a ResultSet of Result rows"))
}

impl YahooClient {
    /// One setStock of ≤1,000 `(code, units)`: per code, the error code of a refused row.
    async fn set_stock(&self, rows: &[(&str, u32)]) -> Result<HashMap<String, Option<String>>, ClientError> {
        let codes: Vec<&str> = rows.iter().map(|(c, _)| *c).collect();
        let quantities: Vec<String> = rows.iter().map(|(_, n)| n.to_string()).collect();
        let body = form(&[
            ("seller_id", self.creds.seller_id.clone()),
            ("item_code", codes.join(",")),
            ("quantity", quantities.join(",")),
        ]);
        let reply = parse(SET_STOCK, &self.send_body(SET_STOCK, FORM, &body).await?)?;
        Ok(reply.results.into_iter().map(|r| (r.key(), r.error_code.filter(|c| !c.trim().is_empty()))).collect())
    }
}

impl MallStock for YahooClient {
    type Error = ClientError;

    fn marketplace(&self) -> Marketplace {
        Marketplace::Yahoo
    }

    fn max_items_per_write(&self) -> usize {
        MAX_CODES
    }

    fn max_items_per_read(&self) -> usize {
        MAX_CODES
    }

    async fn set_quantities(&self, items: &[Quantity]) -> Result<Vec<ItemSet>, ClientError> {
        // One code once a call (a duplicate is refused with st-02103): the last number wins.
        let mut last: HashMap<&str, u32> = HashMap::new();
        let mut order: Vec<&str> = Vec::new();
        for q in items.iter().filter(|q| valid_code(q.item.trim())) {
            let code = q.item.trim();
            if last.insert(code, q.units.min(MAX_QUANTITY)).is_none() {
                order.push(code);
            }
        }
        let rows: Vec<(&str, u32)> = order.iter().map(|c| (*c, last[c])).collect();
        let mut answers: HashMap<String, Option<String>> = HashMap::new();
        for chunk in rows.chunks(MAX_CODES) {
            answers.extend(self.set_stock(chunk).await?);
        }
        Ok(items
            .iter()
            .map(|q| {
                let code = q.item.trim();
                let outcome = if !valid_code(code) {
                    SetOutcome::Refused {
                        code: "st-02101".into(),
                        reason:
                            "商品コードは半角英数字と - で99文字以内です(個別商品コードは 商品コード:個別商品コード)"
                                .into(),
                    }
                } else {
                    match answers.get(code) {
                        Some(Some(error)) => SetOutcome::Refused { code: error.clone(), reason: String::new() },
                        Some(None) => SetOutcome::Written,
                        None => SetOutcome::Refused {
                            code: "no-result".into(),
                            reason: "setStock の応答にこの商品コードの行がありません".into(),
                        },
                    }
                };
                ItemSet { item: q.item.clone(), outcome }
            })
            .collect())
    }

    async fn read_quantities(&self, items: &[String]) -> Result<Vec<ItemShown>, ClientError> {
        let mut codes: Vec<&str> = items.iter().map(|i| i.trim()).filter(|c| valid_code(c)).collect();
        codes.sort_unstable();
        codes.dedup();
        let mut found: HashMap<String, i64> = HashMap::new();
        for chunk in codes.chunks(MAX_CODES) {
            let body = form(&[("seller_id", self.creds.seller_id.clone()), ("item_code", chunk.join(","))]);
            let reply = parse(GET_STOCK, &self.send_body(GET_STOCK, FORM, &body).await?)?;
            for r in reply.results {
                if r.status.as_deref().map(str::trim) != Some("1") {
                    continue;
                }
                let n = r.quantity.as_deref().and_then(|q| q.trim().parse::<i64>().ok()).ok_or_else(|| {
                    ClientError::malformed(Marketplace::Yahoo, GET_STOCK, "Result.Quantity is not a number")
                })?;
                found.insert(r.key(), n);
            }
        }
        Ok(items
            .iter()
            .map(|i| ItemShown {
                item: i.clone(),
                shown: found.get(i.trim()).map_or(Shown::Missing, |n| Shown::Units(*n)),
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_forms() {
        assert!(valid_code("mug-wht") && valid_code("tshirt:tshirt-m-blk"));
        assert!(!valid_code("a:b:c") && !valid_code("マグ") && !valid_code("a_b") && !valid_code(""));
        assert_eq!(form(&[("item_code", "a,b:c".into())]), "item_code=a%2Cb%3Ac");
        let rs = parse(
            SET_STOCK,
            "<ResultSet totalResultsReturned=\"2\"><Result><ItemCode>a</ItemCode><SubCode>s</SubCode><Quantity>3</Quantity></Result><Result><ItemCode>b</ItemCode><ErrorCode>st-02104</ErrorCode></Result></ResultSet>",
        )
        .unwrap();
        assert_eq!(rs.results.iter().map(Row::key).collect::<Vec<_>>(), ["a:s", "b"]);
        assert_eq!(rs.results[1].error_code.as_deref(), Some("st-02104"));
    }
}
