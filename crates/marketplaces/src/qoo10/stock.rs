//! Qoo10 stock (QSM QAPI, inventory.md §5), on the order client's seller authorization key and
//! its one shared request-a-second bucket: every method of a shop waits on the same limiter.
//!
//! Identity: what the order mapping (`map.rs`) puts in an order line's `sku` — the seller's option
//! code (`optionCode`; `ItemTypeCode` on reads, `OptionCode` on writes) for an option row, else
//! the seller's item code (`SellerCode`), else Qoo10's item number (`ItemCode`, 9–10 digits). An
//! option code alone does not say its item and Qoo10 has no look-up by option code, so the client
//! learns each option code's item from the option tables it reads, and, for a code it has not
//! seen that is no seller code either, by walking the shop's catalogue once (`GetAllGoodsInfo`,
//! items on sale and waiting, then `GetGoodsInventoryInfo` per item) — at most once every
//! [`REWALK_AFTER`].
//!
//! Writes never change a price or a sale end date:
//! - An option row: `ItemsOptions.UpdateInventoryQtyUnit` — absolute, quantity only, one row a
//!   call. Chosen over `UpdateInventoryDataBulk` (500 rows a call): the bulk call carries each
//!   row's `Price`, so even a price written back exactly as just read would undo a change a person
//!   makes in QSM between our read and our write; the unit call cannot touch a price. The row is
//!   named by `OptionName` + `OptionValue` (how Qoo10 identifies it, axes joined by `||*`), read
//!   fresh from `GetGoodsInventoryInfo` before the write.
//! - An item without options: `ItemsOrder.SetGoodsPriceQtyBulk` (≤500 rows) carries `Price` and
//!   `ExpireDate` with `Qty`, and an empty `ExpireDate` moves the sale end to one year later
//!   (official). So each item's detail is read first (`GetItemDetailInfo`, field names in
//!   [`DETAIL_FIELDS`], unverified) and exactly its price, end date and tax rate are written back
//!   with the new number. An item whose detail gives no readable price or end date is refused,
//!   never guessed; a seller code whose item has an option table is refused (its stock is per
//!   option row). The read and the write are seconds apart; a price changed in QSM within them
//!   would be set back to the one read.
//! - A write shows on the product page up to 10 minutes later (official note on every method).
//!
//! Errors (§5.3): -10000 and -90001…-90005 are the key (`Failure::Credentials`, classified by the
//! order client); -10001 is an item Qoo10 does not have (`Unknown`); a bulk answer of -1 names its
//! failed rows in `ResultObject.Keys` / `Values` (shape unverified), each refused on its own.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use ichigen_core::Marketplace;
use ichigen_core::stock::mall::{ItemSet, ItemShown, MallStock, Quantity, SetOutcome, Shown};
use serde_json::{Map, Value};

use super::client::Qoo10Client;
use crate::client::ClientError;

/// One item's detail (price, quantity, sale end date ...).
pub const OP_DETAIL: &str = "ItemsLookup.GetItemDetailInfo";
/// One item's option rows (names, values, price, quantity, option code).
pub const OP_INVENTORY: &str = "ItemsLookup.GetGoodsInventoryInfo";
/// The shop's items of one status, 500 a page.
pub const OP_ALL_GOODS: &str = "ItemsLookup.GetAllGoodsInfo";
/// Price, quantity and sale end date of items without options, ≤500 a call.
pub const OP_PRICE_QTY_BULK: &str = "ItemsOrder.SetGoodsPriceQtyBulk";
/// The quantity of one option row, absolute.
pub const OP_OPTION_QTY: &str = "ItemsOptions.UpdateInventoryQtyUnit";
/// Most rows per `SetGoodsPriceQtyBulk` (-2 beyond).
pub const MAX_BULK_ROWS: usize = 500;
/// The largest `Qty` (Int32).
pub const MAX_QTY: u32 = 2_147_483_647;
/// The largest item price (`Price` 1…999,999,999).
pub const MAX_PRICE: u64 = 999_999_999;
/// How the axes of a multi-axis option are joined in `OptionName` / `OptionValue`.
pub const AXIS_SEPARATOR: &str = "||*";
/// The item statuses the catalogue walk reads: on sale (S2) and waiting (S1). Items held for
/// review, stopped or refused by Qoo10 cannot sell.
pub const CATALOGUE_STATUSES: [&str; 2] = ["S2", "S1"];
/// How long an option code the client has not met stays unknown before the catalogue is walked
/// again.
pub const REWALK_AFTER: Duration = Duration::from_secs(3_600);
/// Most catalogue pages one walk reads (500 items each).
const MAX_CATALOGUE_PAGES: u32 = 200;
/// Longest seller item code (option codes are shorter).
const MAX_CODE_CHARS: usize = 100;
/// "No item found for the given ItemCode / SellerCode" (§5.3).
const NOT_FOUND: &str = "-10001";
/// A bulk call some rows of which failed.
const BULK_PARTIAL: i64 = -1;
/// Longest API text kept in a refusal.
const MAX_REASON_CHARS: usize = 200;

/// The names of the `GetItemDetailInfo` answer fields the stock client reads.
#[derive(Debug, Clone, Copy)]
pub struct DetailFields {
    /// Qoo10's item number.
    pub item_code: &'static str,
    /// The seller's item code.
    pub seller_code: &'static str,
    /// The selling price.
    pub price: &'static str,
    /// The quantity on sale.
    pub quantity: &'static str,
    /// The sale end date (`yyyy-mm-dd`).
    pub expire_date: &'static str,
    /// The consumption tax rate (`S`, `10`, `8`, `0`).
    pub tax_rate: &'static str,
}

/// The `GetItemDetailInfo` fields, in one place.
// unverified: Qoo10's own page is behind the seller login. These are the names of the public
// transcription jjaejjaehub/passoffer `docs/api/qoo10/items/GetItemDetailInfo.md` (QSM spec,
// 2026-06: `ResultObject` a list of one item, every value a string), which that repository's
// adapter `apps/server/src/adapters/qoo10/Qoo10Adapter.ts` reads the same way. Keys are matched
// case-insensitively.
pub const DETAIL_FIELDS: DetailFields = DetailFields {
    item_code: "ItemCode",
    seller_code: "SellerCode",
    price: "ItemPrice",
    quantity: "ItemQty",
    expire_date: "ExpireDate",
    tax_rate: "TaxRate",
};

/// What the stock client learned of the shop's items.
#[derive(Debug, Default)]
pub(super) struct StockState {
    /// Option code → its item, as last read.
    options: Mutex<HashMap<String, ItemRef>>,
    /// When the catalogue was last walked.
    walked: Mutex<Option<Instant>>,
}

/// An item: Qoo10's number and the seller's code (may be empty).
#[derive(Debug, Clone, PartialEq, Eq)]
struct ItemRef {
    item_code: String,
    seller_code: String,
}

/// What the detail read gives of an item without options.
#[derive(Debug, Clone)]
struct Detail {
    item: ItemRef,
    price: Option<u64>,
    expire: Option<NaiveDate>,
    tax_rate: Option<String>,
    quantity: Option<i64>,
}

/// One option row as `GetGoodsInventoryInfo` gives it.
#[derive(Debug, Clone)]
struct OptionRow {
    name: String,
    value: String,
    code: String,
    quantity: Option<i64>,
}

/// Option codes asked for, grouped by their item (Qoo10 item number → the item, the asks).
type ByItem<T> = BTreeMap<String, (ItemRef, Vec<T>)>;

/// What an item string turned out to be.
enum Found {
    Option(ItemRef),
    Item(Box<Detail>),
    Unknown,
}

fn malformed(operation: &str, detail: impl Into<String>) -> ClientError {
    ClientError::malformed(Marketplace::Qoo10, operation, detail)
}

/// A field of an answer object, its key in any case.
fn field<'a>(obj: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    obj.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v)
}

/// A field as trimmed text (strings and numbers); blank is none.
fn text(obj: &Map<String, Value>, key: &str) -> Option<String> {
    let s = match field(obj, key)? {
        Value::String(s) => s.trim().to_owned(),
        Value::Number(n) => n.to_string(),
        _ => return None,
    };
    (!s.is_empty()).then_some(s)
}

/// A whole number field (`"12"`, `12`, `"12.0"`).
fn count(obj: &Map<String, Value>, key: &str) -> Option<i64> {
    let s = text(obj, key)?;
    let (int, frac) = s.split_once('.').unwrap_or((&s, ""));
    frac.bytes().all(|b| b == b'0').then(|| int.parse().ok()).flatten()
}

/// A price in whole yen, 1…[`MAX_PRICE`] (`"1980"`, `"1980.0000"`); anything else is unreadable.
fn yen(s: &str) -> Option<u64> {
    let s = s.trim();
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    let digits = !int.is_empty() && int.bytes().all(|b| b.is_ascii_digit());
    if !digits || !frac.bytes().all(|b| b == b'0') {
        return None;
    }
    int.parse::<u64>().ok().filter(|p| (1..=MAX_PRICE).contains(p))
}

/// A sale end date: `yyyy-mm-dd` (or `yyyy/mm/dd`), a time after it ignored.
fn end_date(s: &str) -> Option<NaiveDate> {
    let head: String = s.trim().chars().take(10).collect();
    NaiveDate::parse_from_str(&head, "%Y-%m-%d").or_else(|_| NaiveDate::parse_from_str(&head, "%Y/%m/%d")).ok()
}

/// Whether `item` can be a seller item code or option code: not blank, no surrounding blanks
/// or control characters, at most [`MAX_CODE_CHARS`].
fn valid_code(item: &str) -> bool {
    !item.is_empty()
        && item.trim() == item
        && item.chars().count() <= MAX_CODE_CHARS
        && !item.chars().any(char::is_control)
}

/// Whether `code` looks like Qoo10's item number (9–10 digits).
fn item_number(code: &str) -> bool {
    (9..=10).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_digit())
}

fn short(s: &str) -> String {
    s.chars().filter(|c| !c.is_control()).take(MAX_REASON_CHARS).collect()
}

/// The envelope of a stock answer: its `ResultCode` and `ResultObject`.
fn envelope(operation: &str, body: &str) -> Result<(i64, Value), ClientError> {
    let v: Value = serde_json::from_str(body.trim_start_matches('\u{feff}').trim_start())
        .map_err(|_| malformed(operation, "the answer is not JSON"))?;
    let Value::Object(mut m) = v else { return Err(malformed(operation, "the answer is not an object")) };
    let code = match field(&m, "ResultCode") {
        Some(Value::Number(n)) => n.as_i64(),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    }
    .ok_or_else(|| malformed(operation, "ResultCode is not an integer"))?;
    let key = m.keys().find(|k| k.eq_ignore_ascii_case("ResultObject")).cloned();
    Ok((code, key.and_then(|k| m.remove(&k)).unwrap_or(Value::Null)))
}

/// The objects of a list answer (`null` is none; one object is a list of one).
fn objects(operation: &str, body: &str) -> Result<Vec<Map<String, Value>>, ClientError> {
    let values = match envelope(operation, body)?.1 {
        Value::Null => Vec::new(),
        Value::Array(v) => v,
        o @ Value::Object(_) => vec![o],
        _ => return Err(malformed(operation, "ResultObject is not a list")),
    };
    values
        .into_iter()
        .enumerate()
        .map(|(i, v)| match v {
            Value::Object(o) => Ok(o),
            _ => Err(malformed(operation, format!("ResultObject[{i}] is not an object"))),
        })
        .collect()
}

fn detail_of(obj: &Map<String, Value>) -> Result<Detail, ClientError> {
    let f = DETAIL_FIELDS;
    let item_code = text(obj, f.item_code).ok_or_else(|| malformed(OP_DETAIL, "ItemCode is missing"))?;
    let tax_rate = text(obj, f.tax_rate).filter(|t| ["S", "10", "8", "0"].contains(&t.as_str()));
    Ok(Detail {
        item: ItemRef { item_code, seller_code: text(obj, f.seller_code).unwrap_or_default() },
        price: text(obj, f.price).as_deref().and_then(yen),
        expire: text(obj, f.expire_date).as_deref().and_then(end_date),
        tax_rate,
        quantity: count(obj, f.quantity),
    })
}

fn option_row(obj: &Map<String, Value>) -> OptionRow {
    let (mut names, mut values) = (Vec::new(), Vec::new());
    for i in 1..=5 {
        let (n, v) = (text(obj, &format!("Name{i}")), text(obj, &format!("Value{i}")));
        if n.is_some() || v.is_some() {
            names.push(n.unwrap_or_default());
            values.push(v.unwrap_or_default());
        }
    }
    OptionRow {
        name: names.join(AXIS_SEPARATOR),
        value: values.join(AXIS_SEPARATOR),
        code: text(obj, "ItemTypeCode").unwrap_or_default(),
        quantity: count(obj, "Qty"),
    }
}

/// The rows a `-1` bulk answer names as failed: row key → reason.
fn failed_rows(object: &Value) -> Result<HashMap<String, String>, ClientError> {
    let list = |name: &str| match object {
        Value::Object(m) => match field(m, name) {
            Some(Value::Array(a)) => Some(a.clone()),
            _ => None,
        },
        _ => None,
    };
    let keys = list("Keys").ok_or_else(|| malformed(OP_PRICE_QTY_BULK, "ResultObject.Keys is not a list"))?;
    let values = list("Values").unwrap_or_default();
    let as_text = |v: &Value| match v {
        Value::String(s) => s.trim().to_owned(),
        other => other.to_string(),
    };
    Ok(keys
        .iter()
        .enumerate()
        .map(|(i, k)| (as_text(k), values.get(i).map(|v| short(&as_text(v))).unwrap_or_default()))
        .collect())
}

fn refused(code: &str, reason: &str) -> SetOutcome {
    SetOutcome::Refused { code: code.to_owned(), reason: reason.to_owned() }
}

impl Qoo10Client {
    /// The item whose seller code (or, for digits, item number) is `code`; `None`: Qoo10 has none.
    async fn detail(&self, code: &str) -> Result<Option<Detail>, ClientError> {
        let mut asks = vec![("SellerCode", code)];
        if item_number(code) {
            asks.push(("ItemCode", code));
        }
        for (param, value) in asks {
            let reply = match self.authed_passing(OP_DETAIL, &[(param, value.to_owned())], &[]).await {
                Err(ClientError::Rejected { code, .. }) if code == NOT_FOUND => continue,
                other => other?,
            };
            if let Some(obj) = objects(OP_DETAIL, &reply.body)?.first() {
                return Ok(Some(detail_of(obj)?));
            }
        }
        Ok(None)
    }

    /// `item`'s option rows now (empty: no option table; `None`: no such item). Their codes are
    /// remembered as the item's.
    async fn option_rows(&self, item: &ItemRef) -> Result<Option<Vec<OptionRow>>, ClientError> {
        let mut params = vec![("ItemCode", item.item_code.clone())];
        if !item.seller_code.is_empty() {
            params.push(("SellerCode", item.seller_code.clone()));
        }
        let reply = match self.authed_passing(OP_INVENTORY, &params, &[]).await {
            Err(ClientError::Rejected { code, .. }) if code == NOT_FOUND => None,
            other => Some(other?),
        };
        let rows: Option<Vec<OptionRow>> = match reply {
            Some(r) => Some(objects(OP_INVENTORY, &r.body)?.iter().map(option_row).collect()),
            None => None,
        };
        if let Ok(mut index) = self.stock.options.lock() {
            let codes: HashSet<&str> = rows.iter().flatten().map(|r| r.code.as_str()).collect();
            index.retain(|code, of| of.item_code != item.item_code || codes.contains(code.as_str()));
            for r in rows.iter().flatten().filter(|r| !r.code.is_empty()) {
                index.insert(r.code.clone(), item.clone());
            }
        }
        Ok(rows)
    }

    /// Reads every option table of the items on sale and waiting, learning their option codes.
    async fn walk_catalogue(&self) -> Result<(), ClientError> {
        for status in CATALOGUE_STATUSES {
            for page in 1..=MAX_CATALOGUE_PAGES {
                let params = [("ItemStatus", status.to_owned()), ("Page", page.to_string())];
                let reply = match self.authed_passing(OP_ALL_GOODS, &params, &[]).await {
                    // A status this account's API does not take (the transcription lists two sets).
                    Err(ClientError::Rejected { code, .. }) if code == NOT_FOUND => break,
                    other => other?,
                };
                let object = envelope(OP_ALL_GOODS, &reply.body)?.1;
                let Value::Object(m) = object else { break };
                let pages = count(&m, "TotalPages").unwrap_or(0);
                let items: Vec<ItemRef> = match field(&m, "Items") {
                    Some(Value::Array(a)) => a
                        .iter()
                        .filter_map(|v| v.as_object())
                        .filter_map(|o| {
                            let item_code = text(o, "ItemCode")?;
                            Some(ItemRef { item_code, seller_code: text(o, "SellerCode").unwrap_or_default() })
                        })
                        .collect(),
                    _ => Vec::new(),
                };
                for item in &items {
                    self.option_rows(item).await?;
                }
                if items.is_empty() || i64::from(page) >= pages {
                    break;
                }
                if page == MAX_CATALOGUE_PAGES {
                    return Err(malformed(OP_ALL_GOODS, "more catalogue pages than one walk reads"));
                }
            }
        }
        if let Ok(mut at) = self.stock.walked.lock() {
            *at = Some(Instant::now());
        }
        Ok(())
    }

    fn option_item(&self, code: &str) -> Option<ItemRef> {
        self.stock.options.lock().ok()?.get(code).cloned()
    }

    /// What `code` is: a known option code, a seller code (or item number), else — after the
    /// catalogue walk, once a call and at most once every [`REWALK_AFTER`] — an option code, or
    /// nothing Qoo10 has.
    async fn find(&self, code: &str, walked: &mut bool) -> Result<Found, ClientError> {
        if let Some(item) = self.option_item(code) {
            return Ok(Found::Option(item));
        }
        if let Some(d) = self.detail(code).await? {
            return Ok(Found::Item(Box::new(d)));
        }
        let due = self.stock.walked.lock().ok().is_some_and(|w| w.is_none_or(|at| at.elapsed() >= REWALK_AFTER));
        if !*walked && due {
            *walked = true;
            self.walk_catalogue().await?;
            if let Some(item) = self.option_item(code) {
                return Ok(Found::Option(item));
            }
        }
        Ok(Found::Unknown)
    }

    /// One `SetGoodsPriceQtyBulk` of ≤500 rows `(key, row)`: the refusal of each failed row.
    async fn price_qty_bulk(&self, rows: &[(String, Value)]) -> Result<HashMap<String, SetOutcome>, ClientError> {
        let json = Value::Array(rows.iter().map(|(_, r)| r.clone()).collect()).to_string();
        let reply = match self.authed_passing(OP_PRICE_QTY_BULK, &[("ItemInfoJson", json)], &[BULK_PARTIAL]).await {
            // The whole call refused (-10101 processing error ...): every row with it.
            Err(ClientError::Rejected { code, message, .. }) => {
                let why = short(&message);
                return Ok(rows.iter().map(|(k, _)| (k.clone(), refused(&code, &why))).collect());
            }
            other => other?,
        };
        let (code, object) = envelope(OP_PRICE_QTY_BULK, &reply.body)?;
        if code != BULK_PARTIAL {
            return Ok(HashMap::new());
        }
        let failed = failed_rows(&object)?;
        let mut out = HashMap::new();
        for (key, row) in rows {
            let named = ["ItemCode", "SellerCode"]
                .iter()
                .filter_map(|f| row.get(f).and_then(Value::as_str))
                .find_map(|k| failed.get(k));
            if let Some(reason) = named {
                out.insert(key.clone(), refused(&BULK_PARTIAL.to_string(), reason));
            }
        }
        Ok(out)
    }
}

impl MallStock for Qoo10Client {
    type Error = ClientError;

    fn marketplace(&self) -> Marketplace {
        Marketplace::Qoo10
    }

    fn max_items_per_write(&self) -> usize {
        MAX_BULK_ROWS
    }

    /// One item a call (all its option rows): Qoo10 has no read of several items.
    fn max_items_per_read(&self) -> usize {
        1
    }

    async fn set_quantities(&self, items: &[Quantity]) -> Result<Vec<ItemSet>, ClientError> {
        // One number per item, the last given winning.
        let mut wanted: BTreeMap<&str, u32> = BTreeMap::new();
        for q in items.iter().filter(|q| valid_code(&q.item)) {
            wanted.insert(q.item.as_str(), q.units.min(MAX_QTY));
        }
        let mut outcome: HashMap<String, SetOutcome> = HashMap::new();
        let mut walked = false;
        let mut bulk: Vec<(String, Value)> = Vec::new();
        let mut by_item: ByItem<(&str, u32)> = BTreeMap::new();
        for (&code, &units) in &wanted {
            match self.find(code, &mut walked).await? {
                Found::Unknown => {
                    outcome.insert(code.to_owned(), SetOutcome::Unknown);
                }
                Found::Option(item) => {
                    by_item.entry(item.item_code.clone()).or_insert((item, Vec::new())).1.push((code, units));
                }
                Found::Item(d) => {
                    let has_options = self.option_rows(&d.item).await?.is_some_and(|rows| !rows.is_empty());
                    let why = match (has_options, d.price, d.expire) {
                        (true, _, _) => Some(refused(
                            "options",
                            "選択肢別在庫の商品です。各オプションのオプションコードで指定してください",
                        )),
                        (false, None, _) => {
                            Some(refused("ItemPrice", "販売価格を読み取れないため書き込みません（価格を変えないため）"))
                        }
                        (false, _, None) => Some(refused(
                            "ExpireDate",
                            "販売終了日を読み取れないため書き込みません（空で送ると1年後に延長されるため）",
                        )),
                        (false, Some(price), Some(expire)) => {
                            let mut row = Map::new();
                            row.insert("ItemCode".into(), d.item.item_code.clone().into());
                            row.insert("SellerCode".into(), d.item.seller_code.clone().into());
                            row.insert("Price".into(), price.to_string().into());
                            row.insert("Qty".into(), units.to_string().into());
                            row.insert("ExpireDate".into(), expire.format("%Y-%m-%d").to_string().into());
                            if let Some(t) = &d.tax_rate {
                                row.insert("TaxRate".into(), t.clone().into());
                            }
                            bulk.push((code.to_owned(), Value::Object(row)));
                            None
                        }
                    };
                    if let Some(o) = why {
                        outcome.insert(code.to_owned(), o);
                    }
                }
            }
        }
        // Option rows: one call each, named as a fresh read names them.
        for (item, rows) in by_item.into_values() {
            let fresh = self.option_rows(&item).await?.unwrap_or_default();
            for (code, units) in rows {
                let Some(row) = fresh.iter().find(|r| r.code == code) else {
                    outcome.insert(code.to_owned(), SetOutcome::Unknown);
                    continue;
                };
                let params = [
                    ("ItemCode", item.item_code.clone()),
                    ("SellerCode", item.seller_code.clone()),
                    ("OptionName", row.name.clone()),
                    ("OptionValue", row.value.clone()),
                    ("OptionCode", row.code.clone()),
                    ("Qty", units.to_string()),
                ];
                let o = match self.authed_passing(OP_OPTION_QTY, &params, &[]).await {
                    Ok(_) => SetOutcome::Written,
                    Err(ClientError::Rejected { code, .. }) if code == NOT_FOUND => SetOutcome::Unknown,
                    Err(ClientError::Rejected { code, message, .. }) => refused(&code, &short(&message)),
                    Err(e) => return Err(e),
                };
                outcome.insert(code.to_owned(), o);
            }
        }
        // Items without options, 500 a call.
        for chunk in bulk.chunks(MAX_BULK_ROWS) {
            let failed = self.price_qty_bulk(chunk).await?;
            for (key, _) in chunk {
                outcome.insert(key.clone(), failed.get(key).cloned().unwrap_or(SetOutcome::Written));
            }
        }
        Ok(items
            .iter()
            .map(|q| {
                let outcome = if valid_code(&q.item) {
                    outcome.get(&q.item).cloned().unwrap_or(SetOutcome::Unknown)
                } else {
                    refused("SellerCode", "出品者商品コードまたはオプションコード（100文字以内）で指定してください")
                };
                ItemSet { item: q.item.clone(), outcome }
            })
            .collect())
    }

    async fn read_quantities(&self, items: &[String]) -> Result<Vec<ItemShown>, ClientError> {
        let mut shown: HashMap<String, Shown> = HashMap::new();
        let mut walked = false;
        let mut by_item: ByItem<String> = BTreeMap::new();
        let distinct: std::collections::BTreeSet<&String> = items.iter().filter(|i| valid_code(i)).collect();
        for code in distinct {
            match self.find(code, &mut walked).await? {
                Found::Unknown => {
                    shown.insert(code.clone(), Shown::Missing);
                }
                Found::Item(d) => {
                    let n = d.quantity.ok_or_else(|| malformed(OP_DETAIL, "ItemQty is not a number"))?;
                    shown.insert(code.clone(), Shown::Units(n));
                }
                Found::Option(item) => {
                    by_item.entry(item.item_code.clone()).or_insert((item, Vec::new())).1.push(code.clone());
                }
            }
        }
        for (item, codes) in by_item.into_values() {
            let fresh = self.option_rows(&item).await?.unwrap_or_default();
            for code in codes {
                let s = match fresh.iter().find(|r| r.code == code) {
                    None => Shown::Missing,
                    Some(r) => Shown::Units(r.quantity.ok_or_else(|| malformed(OP_INVENTORY, "Qty is not a number"))?),
                };
                shown.insert(code, s);
            }
        }
        Ok(items
            .iter()
            .map(|i| ItemShown { item: i.clone(), shown: shown.get(i).copied().unwrap_or(Shown::Missing) })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_and_end_dates_read_only_when_whole() {
        assert_eq!(yen("1980"), Some(1980));
        assert_eq!(yen("1980.0000"), Some(1980));
        assert_eq!(yen("1980.5"), None, "a fraction of a yen is no price to write back");
        assert_eq!(yen(""), None);
        assert_eq!(yen("0"), None);
        assert_eq!(yen("-5"), None);
        assert_eq!(end_date("2030-12-31"), NaiveDate::from_ymd_opt(2030, 12, 31));
        assert_eq!(end_date("2030/12/31 23:59:59"), NaiveDate::from_ymd_opt(2030, 12, 31));
        assert_eq!(end_date("31.12.2030"), None);
        assert_eq!(end_date(""), None);
    }

    #[test]
    fn option_rows_join_their_axes() {
        let obj: Map<String, Value> = serde_json::from_str(
            r#"{"Name1":"カラー","Value1":"RED","Name2":"サイズ","Value2":"S","Name3":"","Value3":"",
                "Price":0,"Qty":"7","ItemTypeCode":"SHIRT-RED-S"}"#,
        )
        .unwrap_or_default();
        let r = option_row(&obj);
        assert_eq!((r.name.as_str(), r.value.as_str()), ("カラー||*サイズ", "RED||*S"));
        assert_eq!((r.code.as_str(), r.quantity), ("SHIRT-RED-S", Some(7)));
    }

    #[test]
    fn codes() {
        assert!(valid_code("MUG-WHT") && valid_code("マグ"));
        assert!(!valid_code("") && !valid_code(" MUG") && !valid_code("a\nb") && !valid_code(&"x".repeat(101)));
        assert!(item_number("1234567890") && !item_number("12345"));
    }
}
