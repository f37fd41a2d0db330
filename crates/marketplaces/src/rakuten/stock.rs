//! 楽天 RMS InventoryAPI 2.0 (在庫API, inventory.md §1) for the shop's license: absolute numbers
//! with `bulk-upsert` (400 SKUs a call, `mode` `ABSOLUTE`), read back with `bulk-get` (1,000 a
//! call), on the order client's own rate budget (its license-wide bucket plus the inventory
//! functions' 1 write and 5 reads a second).
//!
//! Identity: the API addresses a SKU by `manageNumber` (商品管理番号, folded to lower case by the
//! API) + `variantId` (SKU管理番号, case-sensitive); an order line's `sku` is the variantId (or
//! the system SKU number). An item is written either as `manageNumber:variantId` (a colon
//! cannot occur in either), or as the variantId alone: the client then finds its manageNumber in
//! the shop's stock rows, which it lists by walking `bulk-get/range` quantity bands (the
//! integrators' way: RMS has no listing function, §1.7). A variantId no stock row carries is
//! answered [`SetOutcome::Unknown`] (a new SKU must be written once as `manageNumber:variantId`),
//! one that several items carry is refused as ambiguous. A system SKU number
//! (`merchantDefinedSkuId`) is not known to the inventory API at all (§1.1).
//!
//! An unknown `manageNumber:variantId` is **not** an error on Rakuten: the write succeeds and the
//! number is attached to nothing (§1.5). The client does not invent an error; a read-back shows
//! the item missing. Numbers above 99,999 (the API's largest) are written as 99,999.

use std::collections::HashMap;

use ichigen_core::Marketplace;
use ichigen_core::stock::mall::{ItemSet, ItemShown, MallStock, Quantity, SetOutcome, Shown};
use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE};
use serde::Deserialize;
use serde_json::json;

use super::RakutenClient;
use super::client::JSON_UTF8;
use crate::client::{ClientError, Reply};

/// `inventories.bulk.upsert`.
pub const BULK_UPSERT: &str = "inventories.bulk.upsert";
/// `inventories.bulk.get`.
pub const BULK_GET: &str = "inventories.bulk.get";
/// `inventories.bulk.get.range`.
pub const BULK_GET_RANGE: &str = "inventories.bulk.get.range";
/// Most SKUs per bulk-upsert.
pub const MAX_UPSERT_ROWS: usize = 400;
/// Most SKUs per bulk-get, and most rows one range read returns.
pub const MAX_GET_ROWS: usize = 1_000;
/// The largest stock number the API takes.
pub const MAX_QUANTITY: u32 = 99_999;
/// Most range reads one listing of the shop's stock rows makes (bands are halved while a band
/// matches more than 1,000 rows); a shop beyond it is refused rather than walked forever.
const MAX_RANGE_CALLS: usize = 400;
/// Most bytes of a manageNumber or variantId.
const MAX_KEY_BYTES: usize = 32;

/// An item's key in the inventory API.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Address {
    /// Lower case, as the API keeps it.
    manage_number: String,
    variant_id: String,
}

/// The shop's stock rows, variantId → the manageNumbers that carry it.
#[derive(Debug, Default)]
pub struct AddressBook {
    by_variant: HashMap<String, Vec<String>>,
}

/// How one item resolves.
enum Resolved {
    At(Address),
    Refused(&'static str, String),
    NoRow,
}

/// One row of a bulk-get or range answer.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Row {
    manage_number: String,
    variant_id: String,
    quantity: i64,
}

#[derive(Debug, Deserialize)]
struct Rows {
    inventories: Vec<Row>,
}

/// The inventory API's error envelope.
#[derive(Debug, Deserialize)]
struct Errors {
    errors: Vec<ApiError>,
}

#[derive(Debug, Deserialize)]
struct ApiError {
    #[serde(default)]
    code: String,
    #[serde(default)]
    message: String,
    #[serde(default)]
    metadata: Option<Metadata>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Metadata {
    #[serde(default)]
    property_path: Option<String>,
}

/// Whether `s` is a valid manageNumber / variantId: 1–32 bytes of `a-z A-Z 0-9 - _`.
fn valid_key(s: &str) -> bool {
    !s.is_empty() && s.len() <= MAX_KEY_BYTES && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The row index a `propertyPath` such as `inventories[3].quantity` names.
fn row_of(path: &str) -> Option<usize> {
    path.strip_prefix("inventories[")?.split(']').next()?.parse().ok()
}

impl RakutenClient {
    /// Sends one inventory call: the inventory API's error envelope on HTTP 400/404 is handed
    /// back to the caller (rows refused), `GE0011` is the credentials, the rest is classified as
    /// the order functions' answers are (gateway 401 `ES01-01`/`GA0001` for a wrong or expired
    /// licenseKey or a function not switched on).
    async fn inventory_call(
        &self,
        operation: &'static str,
        request: impl Fn() -> reqwest::RequestBuilder,
    ) -> Result<Reply, ClientError> {
        let auth = self.auth_header(operation)?;
        self.http
            .send(
                operation,
                || request().header(AUTHORIZATION, auth.clone()),
                |op, reply| {
                    if let Ok(e) = serde_json::from_str::<Errors>(&reply.body) {
                        if let Some(first) = e.errors.first().filter(|f| f.code == "GE0011") {
                            return Err(ClientError::Auth {
                                marketplace: Marketplace::Rakuten,
                                operation: op,
                                code: first.code.clone(),
                                message: first.message.clone(),
                            });
                        }
                        if matches!(reply.status, StatusCode::BAD_REQUEST | StatusCode::NOT_FOUND) {
                            return Ok(reply);
                        }
                    }
                    self.classify(op, reply)
                },
            )
            .await
    }

    /// One range read of the rows with `min..=max` units; `None`: more rows match than one read
    /// returns.
    async fn range(&self, min: u32, max: u32) -> Result<Option<Vec<Row>>, ClientError> {
        let url = self.http.url("/es/2.0/inventories/bulk-get/range");
        let reply = self
            .inventory_call(BULK_GET_RANGE, || {
                self.http.client().get(&url).query(&[("minQuantity", min), ("maxQuantity", max)])
            })
            .await?;
        if reply.status == StatusCode::OK {
            return Ok(Some(Self::parse::<Rows>(BULK_GET_RANGE, &reply.body)?.inventories));
        }
        // unverified: the limit error's code; any refusal of a band wider than one number is
        // taken as "too many rows" and the band is halved.
        if min < max {
            return Ok(None);
        }
        Err(refused(BULK_GET_RANGE, &reply))
    }

    /// Lists the shop's stock rows by quantity bands.
    async fn list_rows(&self) -> Result<AddressBook, ClientError> {
        let mut bands = vec![(0, MAX_QUANTITY)];
        let mut book = AddressBook::default();
        let mut calls = 0;
        while let Some((min, max)) = bands.pop() {
            calls += 1;
            if calls > MAX_RANGE_CALLS {
                return Err(ClientError::malformed(
                    Marketplace::Rakuten,
                    BULK_GET_RANGE,
                    "too many stock rows to list by quantity bands; write items as manageNumber:variantId",
                ));
            }
            match self.range(min, max).await? {
                Some(rows) => {
                    for r in rows {
                        book.by_variant.entry(r.variant_id).or_default().push(r.manage_number.to_lowercase());
                    }
                }
                None => {
                    let mid = min + (max - min) / 2;
                    bands.push((mid + 1, max));
                    bands.push((min, mid));
                }
            }
        }
        Ok(book)
    }

    /// Each item's key. The shop's stock rows are listed when an item names a variantId alone
    /// and the list held does not know it (once per call).
    async fn resolve(&self, items: &[&str]) -> Result<Vec<Resolved>, ClientError> {
        let needs_book = |book: &Option<AddressBook>| {
            items.iter().any(|i| !i.contains(':') && book.as_ref().is_none_or(|b| !b.by_variant.contains_key(*i)))
        };
        let stale = needs_book(&self.addresses.lock().unwrap_or_else(|e| e.into_inner()));
        if stale {
            let book = self.list_rows().await?;
            *self.addresses.lock().unwrap_or_else(|e| e.into_inner()) = Some(book);
        }
        let held = self.addresses.lock().unwrap_or_else(|e| e.into_inner());
        Ok(items
            .iter()
            .map(|item| {
                let item = item.trim();
                let (manage, variant) = match item.split_once(':') {
                    Some((m, v)) => (m.to_owned(), v.to_owned()),
                    None => {
                        let found = held.as_ref().and_then(|b| b.by_variant.get(item));
                        match found.map(Vec::as_slice) {
                            Some([one]) => (one.clone(), item.to_owned()),
                            Some([]) | None if valid_key(item) => return Resolved::NoRow,
                            Some([_, _, ..]) => {
                                return Resolved::Refused(
                                    "ambiguous",
                                    "このSKU管理番号は複数の商品にあります。商品管理番号:SKU管理番号 で指定してください".into(),
                                );
                            }
                            _ => (String::new(), item.to_owned()),
                        }
                    }
                };
                if !valid_key(&manage) || !valid_key(&variant) {
                    return Resolved::Refused(
                        "key",
                        "商品管理番号・SKU管理番号は32バイト以内の半角英数字・-・_ です".into(),
                    );
                }
                Resolved::At(Address { manage_number: manage.to_lowercase(), variant_id: variant })
            })
            .collect())
    }

    /// One bulk-upsert of `rows` (≤400): per row, refused (code, message) or written.
    async fn upsert(&self, rows: &[(Address, u32)]) -> Result<Vec<Option<(String, String)>>, ClientError> {
        let url = self.http.url("/es/2.0/inventories/bulk-upsert");
        let body = json!({"inventories": rows.iter().map(|(a, n)| json!({
            "manageNumber": a.manage_number, "variantId": a.variant_id, "mode": "ABSOLUTE", "quantity": n,
        })).collect::<Vec<_>>()})
        .to_string();
        let reply = self
            .inventory_call(BULK_UPSERT, || {
                self.http.client().post(&url).header(CONTENT_TYPE, JSON_UTF8).body(body.clone())
            })
            .await?;
        if reply.status == StatusCode::NO_CONTENT || reply.status == StatusCode::OK {
            return Ok(vec![None; rows.len()]);
        }
        let errors = serde_json::from_str::<Errors>(&reply.body).map(|e| e.errors).unwrap_or_default();
        let mut out = vec![None; rows.len()];
        let mut named = false;
        for e in &errors {
            let at = e.metadata.as_ref().and_then(|m| m.property_path.as_deref()).and_then(row_of);
            if let Some(slot) = at.and_then(|i| out.get_mut(i)) {
                named = true;
                slot.get_or_insert_with(|| (e.code.clone(), e.message.clone()));
            }
        }
        if !named {
            return Err(refused(BULK_UPSERT, &reply));
        }
        Ok(out)
    }
}

/// A refusal that names no row: the whole call.
fn refused(operation: &'static str, reply: &Reply) -> ClientError {
    let first = serde_json::from_str::<Errors>(&reply.body).ok().and_then(|e| e.errors.into_iter().next());
    ClientError::Rejected {
        marketplace: Marketplace::Rakuten,
        operation,
        status: reply.status.as_u16(),
        code: first.as_ref().map(|e| e.code.clone()).unwrap_or_default(),
        message: first.map(|e| e.message).unwrap_or_default(),
    }
}

impl MallStock for RakutenClient {
    type Error = ClientError;

    fn marketplace(&self) -> Marketplace {
        Marketplace::Rakuten
    }

    fn max_items_per_write(&self) -> usize {
        MAX_UPSERT_ROWS
    }

    fn max_items_per_read(&self) -> usize {
        MAX_GET_ROWS
    }

    async fn set_quantities(&self, items: &[Quantity]) -> Result<Vec<ItemSet>, ClientError> {
        let names: Vec<&str> = items.iter().map(|q| q.item.as_str()).collect();
        let resolved = self.resolve(&names).await?;
        let mut outcomes: Vec<Option<SetOutcome>> = vec![None; items.len()];
        let mut to_send: Vec<(usize, Address, u32)> = Vec::new();
        for (i, r) in resolved.into_iter().enumerate() {
            match r {
                Resolved::At(a) => to_send.push((i, a, items[i].units.min(MAX_QUANTITY))),
                Resolved::Refused(code, reason) => {
                    outcomes[i] = Some(SetOutcome::Refused { code: code.to_owned(), reason });
                }
                Resolved::NoRow => outcomes[i] = Some(SetOutcome::Unknown),
            }
        }
        // One key once a call (a duplicate is refused by the API): the last number wins.
        let mut last: HashMap<Address, usize> = HashMap::new();
        for (k, (_, a, _)) in to_send.iter().enumerate() {
            last.insert(a.clone(), k);
        }
        let mut batch: Vec<(usize, Address, u32)> = Vec::new();
        let mut followers: Vec<(usize, usize)> = Vec::new();
        for (k, (i, a, n)) in to_send.iter().enumerate() {
            match last.get(a) {
                Some(&keep) if keep == k => batch.push((*i, a.clone(), *n)),
                Some(&keep) => followers.push((*i, to_send[keep].0)),
                None => {}
            }
        }
        for chunk in batch.chunks(MAX_UPSERT_ROWS) {
            let rows: Vec<(Address, u32)> = chunk.iter().map(|(_, a, n)| (a.clone(), *n)).collect();
            let answers = self.upsert(&rows).await?;
            let refused_any = answers.iter().any(Option::is_some);
            let mut again: Vec<usize> = Vec::new();
            for (k, answer) in answers.into_iter().enumerate() {
                match answer {
                    Some((code, reason)) => outcomes[chunk[k].0] = Some(SetOutcome::Refused { code, reason }),
                    None if refused_any => again.push(k),
                    None => outcomes[chunk[k].0] = Some(SetOutcome::Written),
                }
            }
            // The API refuses the whole call for a bad row: the others are sent once more.
            if !again.is_empty() {
                let rows: Vec<(Address, u32)> = again.iter().map(|&k| rows[k].clone()).collect();
                let answers = self.upsert(&rows).await?;
                for (j, answer) in answers.into_iter().enumerate() {
                    outcomes[chunk[again[j]].0] = Some(match answer {
                        Some((code, reason)) => SetOutcome::Refused { code, reason },
                        None => SetOutcome::Written,
                    });
                }
            }
        }
        for (i, kept) in followers {
            outcomes[i] = outcomes[kept].clone();
        }
        Ok(items
            .iter()
            .zip(outcomes)
            .map(|(q, o)| ItemSet { item: q.item.clone(), outcome: o.unwrap_or(SetOutcome::Written) })
            .collect())
    }

    async fn read_quantities(&self, items: &[String]) -> Result<Vec<ItemShown>, ClientError> {
        let names: Vec<&str> = items.iter().map(String::as_str).collect();
        let resolved = self.resolve(&names).await?;
        let addresses: Vec<Address> =
            resolved.iter().filter_map(|r| if let Resolved::At(a) = r { Some(a.clone()) } else { None }).collect();
        let mut found: HashMap<Address, i64> = HashMap::new();
        let url = self.http.url("/es/2.0/inventories/bulk-get");
        for chunk in addresses.chunks(MAX_GET_ROWS) {
            let body = json!({"inventories": chunk.iter().map(|a| json!({
                "manageNumber": a.manage_number, "variantId": a.variant_id,
            })).collect::<Vec<_>>()})
            .to_string();
            let reply = self
                .inventory_call(BULK_GET, || {
                    self.http.client().post(&url).header(CONTENT_TYPE, JSON_UTF8).body(body.clone())
                })
                .await?;
            if reply.status != StatusCode::OK {
                return Err(refused(BULK_GET, &reply));
            }
            for r in Self::parse::<Rows>(BULK_GET, &reply.body)?.inventories {
                found.insert(
                    Address { manage_number: r.manage_number.to_lowercase(), variant_id: r.variant_id },
                    r.quantity,
                );
            }
        }
        Ok(items
            .iter()
            .zip(resolved)
            .map(|(item, r)| {
                let shown = match r {
                    Resolved::At(a) => found.get(&a).map_or(Shown::Missing, |n| Shown::Units(*n)),
                    Resolved::Refused(..) | Resolved::NoRow => Shown::Missing,
                };
                ItemShown { item: item.clone(), shown }
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_row_paths() {
        assert!(valid_key("mug-wht_01"));
        assert!(!valid_key("マグ"));
        assert!(!valid_key(&"a".repeat(33)));
        assert!(!valid_key(""));
        assert_eq!(row_of("inventories[12].quantity"), Some(12));
        assert_eq!(row_of("inventories"), None);
    }
}
