//! Qoo10's own stock in the sandbox (inventory.md §5; the QSM method pages as transcribed in
//! jjaejjaehub/passoffer `docs/api/qoo10/items/`), behind the same gate as the order methods
//! (header key, `QAPIVersion`, the shop's one request a second, faults).
//!
//! The shop's items ([`BackOffice::list_item`], [`BackOffice::list_option`]) each have a Qoo10
//! item number, a seller code, a price, a sale end date, a tax rate and, for an item with option
//! stock, an option table (names and values per axis, joined by `||*`; a price and a seller
//! option code per row). The numbers live on the shared [`crate::Shelf`]: an item without options
//! under its seller code, an option row under its option code — what the order lines carry.
//!
//! - `ItemsLookup.GetItemDetailInfo` (`ItemCode` or `SellerCode`): a list of one item, every
//!   value a string (`ItemPrice`, `ItemQty`, `ExpireDate` `yyyy-mm-dd`, `TaxRate` ...); `-10001`
//!   for an unknown item. An item listed without a price or end date shows them blank.
//! - `ItemsLookup.GetGoodsInventoryInfo`: the option rows (`Name1..5`, `Value1..5`, `Price`,
//!   `Qty`, `ItemTypeCode`); an empty list for an item without options; `-10001` unknown.
//! - `ItemsLookup.GetAllGoodsInfo` (`ItemStatus`, `Page`): 500 items a page, `TotalItems`,
//!   `TotalPages`, `PresentPage`, `Items` (`ItemCode`, `SellerCode`, `ItemStatus`); an unknown
//!   status is `-10001`. Every listed item is on sale (`S2`).
//! - `ItemsOrder.SetGoodsPriceQtyBulk` (`ItemInfoJson`, ≤500 rows, `-2` beyond): per row the item
//!   by `ItemCode`, else `SellerCode`; `Price` and `TaxRate` replace the item's when given (left
//!   alone when omitted — the transcriber's inference, unverified); **an empty or missing
//!   `ExpireDate` sets the sale end to one year from today** (official); `Qty` is absolute. A row
//!   that fails (unknown item `-10001`, a value out of range or an item with option stock `-10101`
//!   — the latter unverified) fails alone: the answer is `-1` with `ResultObject.Keys` (the row's
//!   `ItemCode`, else `SellerCode`) and `Values` (`"<code>: <message>"`) of the failed rows, as the
//!   transcription describes the bulk answers (exact shape unverified).
//! - `ItemsOptions.UpdateInventoryQtyUnit`: the row named by `OptionName` + `OptionValue` (not by
//!   its code alone, as the transcription says) of the item (`-10001` unknown item, `-10101` no
//!   such row or a bad `Qty`, unverified code); absolute; the price is never touched.
//! - Every write shows after the shelf's delay ([`super::WRITE_DELAY`], "up to 10 minutes");
//!   price and end date are QSM data and change at once.
//! - Whether Qoo10 counts stock down at sale and restores it on cancel is unverified (§5.4): the
//!   sandbox counts down when a buyer orders ([`BackOffice::buy`]) and gives the units back when
//!   the order is cancelled ([`BackOffice::cancel`]) — one choice, made here.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::Ordering;

use chrono::{Months, NaiveDate};
use ichigen_core::Marketplace;
use serde_json::{Map, Value, json};

use super::{BackOffice, PACK_BASE, Sandbox, envelope, item_code, now_jst, param};
use crate::{Shelf, buyer_order};

/// One item's detail.
pub const OP_DETAIL: &str = "ItemsLookup.GetItemDetailInfo";
/// One item's option rows.
pub const OP_INVENTORY: &str = "ItemsLookup.GetGoodsInventoryInfo";
/// The shop's items of one status, by page.
pub const OP_ALL_GOODS: &str = "ItemsLookup.GetAllGoodsInfo";
/// Price, quantity and sale end date of many items without options.
pub const OP_PRICE_QTY_BULK: &str = "ItemsOrder.SetGoodsPriceQtyBulk";
/// The quantity of one option row.
pub const OP_OPTION_QTY: &str = "ItemsOptions.UpdateInventoryQtyUnit";
/// Most rows of a bulk call.
pub const MAX_BULK_ROWS: usize = 500;
/// Items per `GetAllGoodsInfo` page.
pub const PAGE_ITEMS: usize = 500;
/// The code the sandbox answers for a row it cannot take (`Processing Error`).
pub const PROCESSING_ERROR: i64 = -10101;
/// "No item found for the given ItemCode / SellerCode".
pub const NOT_FOUND: i64 = -10001;
/// The statuses `GetAllGoodsInfo` takes (transcription's request table).
const STATUSES: [&str; 6] = ["S0", "S1", "S2", "S3", "S5", "S8"];
const AXES: &str = "||*";

/// One option row of an item.
#[derive(Debug, Clone)]
struct OptionEntry {
    names: Vec<String>,
    values: Vec<String>,
    code: String,
    price: i64,
}

/// One item of the shop.
#[derive(Debug, Clone)]
struct Good {
    item_code: String,
    seller_code: String,
    price: Option<i64>,
    expire: Option<NaiveDate>,
    tax_rate: String,
    options: Vec<OptionEntry>,
}

/// The shop's items, by Qoo10 item number.
#[derive(Debug, Default)]
pub(super) struct Goods {
    items: BTreeMap<String, Good>,
}

impl Goods {
    /// The item `ItemCode` names, else the one `SellerCode` names.
    fn find(&mut self, item_code: &str, seller_code: &str) -> Option<&mut Good> {
        if !item_code.is_empty() {
            return self.items.get_mut(item_code);
        }
        self.items.values_mut().find(|g| !seller_code.is_empty() && g.seller_code == seller_code)
    }

    /// The item whose option table has the row `code`.
    fn owner_of(&self, code: &str) -> Option<&Good> {
        self.items.values().find(|g| g.options.iter().any(|o| o.code == code))
    }
}

/// What an order line of `sku` shows: Qoo10's item number, the seller item code, the seller
/// option code and the option text.
pub(super) struct LineCodes {
    pub item_code: String,
    pub seller_code: String,
    pub option_code: String,
    pub option_text: String,
}

/// The codes an order line of `sku` carries: an option code bought is shown with its item's
/// seller code; anything else is a seller item code.
pub(super) fn line_codes(s: &Sandbox, sku: &str) -> LineCodes {
    let goods = s.goods.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(g) = goods.owner_of(sku) {
        let row = g.options.iter().find(|o| o.code == sku);
        let option_text = row
            .map(|o| o.names.iter().zip(&o.values).map(|(n, v)| format!("{n}:{v}")).collect::<Vec<_>>().join(" / "))
            .unwrap_or_default();
        return LineCodes {
            item_code: g.item_code.clone(),
            seller_code: g.seller_code.clone(),
            option_code: sku.to_owned(),
            option_text,
        };
    }
    let item = goods.items.values().find(|g| g.seller_code == sku).map(|g| g.item_code.clone());
    LineCodes {
        item_code: item.unwrap_or_else(|| item_code(sku)),
        seller_code: sku.to_owned(),
        option_code: String::new(),
        option_text: String::new(),
    }
}

/// Answers one stock method.
pub(super) fn handle(s: &Sandbox, op: &str, params: &HashMap<String, String>) -> Value {
    match op {
        OP_DETAIL => detail(s, params),
        OP_INVENTORY => inventory(s, params),
        OP_ALL_GOODS => all_goods(s, params),
        OP_PRICE_QTY_BULK => {
            s.shelf.count_write_call();
            price_qty_bulk(s, params)
        }
        _ => {
            s.shelf.count_write_call();
            option_qty(s, params)
        }
    }
}

fn not_found() -> Value {
    envelope(NOT_FOUND, "Fail to find Item information with 'ItemCode','SellerCode'.", None)
}

fn processing(message: &str) -> Value {
    envelope(PROCESSING_ERROR, &format!("Processing Error - {message}"), None)
}

/// What the product page shows for a good now: its own number, or (with options) the sum of its
/// rows (unverified: what `ItemQty` says for an item with options).
fn shown_qty(shelf: &Shelf, g: &Good) -> i64 {
    if g.options.is_empty() {
        shelf.shown(&g.seller_code).unwrap_or(0)
    } else {
        g.options.iter().filter_map(|o| shelf.shown(&o.code)).sum()
    }
}

fn detail(s: &Sandbox, params: &HashMap<String, String>) -> Value {
    s.shelf.count_read_call();
    let mut goods = s.goods.lock().unwrap_or_else(|e| e.into_inner());
    let Some(g) = goods.find(param(params, "ItemCode"), param(params, "SellerCode")).cloned() else {
        return not_found();
    };
    let text = |v: &str| Value::String(v.to_owned());
    let mut m = Map::new();
    m.insert("ItemCode".into(), text(&g.item_code));
    m.insert("ItemStatus".into(), text("S2"));
    m.insert("ItemTitle".into(), text(&format!("商品 {}", g.seller_code)));
    m.insert("PromotionName".into(), text(""));
    m.insert("SellerCode".into(), text(&g.seller_code));
    m.insert("RetailPrice".into(), text(""));
    m.insert("ItemPrice".into(), text(&g.price.map(|p| p.to_string()).unwrap_or_default()));
    m.insert("TaxRate".into(), text(&g.tax_rate));
    m.insert("SettlePrice".into(), text(&g.price.map(|p| (p * 9 / 10).to_string()).unwrap_or_default()));
    m.insert("ItemQty".into(), text(&shown_qty(&s.shelf, &g).to_string()));
    m.insert("ExpireDate".into(), text(&g.expire.map(|d| d.format("%Y-%m-%d").to_string()).unwrap_or_default()));
    for k in ["ModelNM", "BrandNo", "AdultYN", "ShippingNo", "ImageUrl", "ListedDate", "ChangedDate"] {
        m.insert(k.into(), text(""));
    }
    envelope(0, "SUCCESS", Some(Value::Array(vec![Value::Object(m)])))
}

fn inventory(s: &Sandbox, params: &HashMap<String, String>) -> Value {
    s.shelf.count_read_call();
    let mut goods = s.goods.lock().unwrap_or_else(|e| e.into_inner());
    let Some(g) = goods.find(param(params, "ItemCode"), param(params, "SellerCode")).cloned() else {
        return not_found();
    };
    let rows: Vec<Value> = g
        .options
        .iter()
        .map(|o| {
            let mut m = Map::new();
            for i in 0..5 {
                m.insert(format!("Name{}", i + 1), o.names.get(i).cloned().unwrap_or_default().into());
                m.insert(format!("Value{}", i + 1), o.values.get(i).cloned().unwrap_or_default().into());
            }
            m.insert("Price".into(), Value::from(o.price as f64));
            m.insert("Qty".into(), Value::from(s.shelf.shown(&o.code).unwrap_or(0)));
            m.insert("ItemTypeCode".into(), o.code.clone().into());
            Value::Object(m)
        })
        .collect();
    envelope(0, "SUCCESS", Some(Value::Array(rows)))
}

fn all_goods(s: &Sandbox, params: &HashMap<String, String>) -> Value {
    s.shelf.count_read_call();
    let status = param(params, "ItemStatus");
    if !STATUSES.contains(&status) {
        return envelope(NOT_FOUND, "Please enter the correct ItemStatus.", None);
    }
    let page = match param(params, "Page") {
        "" => 1,
        p => match p.parse::<usize>() {
            Ok(n) if n >= 1 => n,
            _ => return processing("Page"),
        },
    };
    let goods = s.goods.lock().unwrap_or_else(|e| e.into_inner());
    let listed: Vec<&Good> = goods.items.values().filter(|_| status == "S2").collect();
    let pages = listed.len().div_ceil(PAGE_ITEMS);
    let items: Vec<Value> = listed
        .iter()
        .skip((page - 1) * PAGE_ITEMS)
        .take(PAGE_ITEMS)
        .map(|g| json!({"ItemCode": g.item_code, "SellerCode": g.seller_code, "ItemStatus": "S2"}))
        .collect();
    let object = json!({"TotalItems": listed.len(), "TotalPages": pages, "PresentPage": page, "Items": items});
    envelope(0, "SUCCESS", Some(object))
}

/// A row field as text (string or number); absent or null is `None`.
fn row_text(row: &Map<String, Value>, key: &str) -> Option<String> {
    match row.get(key)? {
        Value::String(s) => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// One bulk row applied, or why it failed `(code, message)`.
fn apply_row(s: &Sandbox, goods: &mut Goods, row: &Map<String, Value>) -> Result<(), (i64, String)> {
    let bad = |m: &str| (PROCESSING_ERROR, format!("Processing Error - {m}"));
    let item = row_text(row, "ItemCode").unwrap_or_default();
    let seller = row_text(row, "SellerCode").unwrap_or_default();
    let Some(g) = goods.find(&item, &seller) else {
        return Err((NOT_FOUND, "Fail to find Item information with 'ItemCode','SellerCode'.".into()));
    };
    if !g.options.is_empty() {
        // unverified: what Qoo10 does with SetGoodsPriceQty on an item with option stock.
        return Err(bad("the item has option stock"));
    }
    let price = match row_text(row, "Price").filter(|p| !p.is_empty()) {
        None => None,
        Some(p) => Some(p.parse::<i64>().ok().filter(|p| (1..=999_999_999).contains(p)).ok_or_else(|| bad("Price"))?),
    };
    let qty = match row_text(row, "Qty").filter(|q| !q.is_empty()) {
        None => None,
        Some(q) => Some(q.parse::<i64>().ok().filter(|q| (0..=2_147_483_647).contains(q)).ok_or_else(|| bad("Qty"))?),
    };
    let expire = match row_text(row, "ExpireDate").filter(|d| !d.is_empty()) {
        // Official: an empty sale end date is set to one year later.
        None => now_jst().date_naive().checked_add_months(Months::new(12)),
        Some(d) => Some(NaiveDate::parse_from_str(&d, "%Y-%m-%d").map_err(|_| bad("ExpireDate"))?),
    };
    let tax = match row_text(row, "TaxRate").filter(|t| !t.is_empty()) {
        None => None,
        Some(t) if ["S", "10", "8", "0"].contains(&t.as_str()) => Some(t),
        Some(_) => return Err(bad("TaxRate")),
    };
    if let Some(p) = price {
        g.price = Some(p);
    }
    g.expire = expire;
    if let Some(t) = tax {
        g.tax_rate = t;
    }
    if let Some(q) = qty {
        s.shelf.put(&g.seller_code, q, false);
    }
    Ok(())
}

fn price_qty_bulk(s: &Sandbox, params: &HashMap<String, String>) -> Value {
    let Ok(Value::Array(rows)) = serde_json::from_str::<Value>(param(params, "ItemInfoJson")) else {
        return processing("ItemInfoJson");
    };
    if rows.is_empty() {
        return processing("ItemInfoJson");
    }
    if rows.len() > MAX_BULK_ROWS {
        return envelope(-2, "Exceeded the maximum count of items (500)", None);
    }
    let mut goods = s.goods.lock().unwrap_or_else(|e| e.into_inner());
    let (mut keys, mut values) = (Vec::new(), Vec::new());
    for row in &rows {
        let Value::Object(row) = row else {
            keys.push(Value::String(String::new()));
            values.push(Value::String(format!("{PROCESSING_ERROR}: Processing Error - row")));
            continue;
        };
        if let Err((code, message)) = apply_row(s, &mut goods, row) {
            let key = row_text(row, "ItemCode").filter(|k| !k.is_empty()).or_else(|| row_text(row, "SellerCode"));
            keys.push(Value::String(key.unwrap_or_default()));
            values.push(Value::String(format!("{code}: {message}")));
        }
    }
    let failed = keys.len();
    let (code, message, count) =
        if failed == 0 { (0, "SUCCESS", rows.len()) } else { (-1, "There's more than one failure", failed) };
    json!({"ResultCode": code, "ResultMsg": message, "ResultObject": {"Count": count, "Keys": keys, "Values": values}})
}

fn option_qty(s: &Sandbox, params: &HashMap<String, String>) -> Value {
    let mut goods = s.goods.lock().unwrap_or_else(|e| e.into_inner());
    let Some(g) = goods.find(param(params, "ItemCode"), param(params, "SellerCode")) else {
        return not_found();
    };
    let (name, value) = (param(params, "OptionName"), param(params, "OptionValue"));
    // A row is named by its option name and value, not by its code alone.
    let Some(row) = g.options.iter().find(|o| o.names.join(AXES) == name && o.values.join(AXES) == value) else {
        // unverified: the code for a name and value the item's table does not have.
        return processing("option not found");
    };
    let Some(qty) = param(params, "Qty").parse::<i64>().ok().filter(|q| (0..=2_147_483_647).contains(q)) else {
        return processing("Qty");
    };
    s.shelf.put(&row.code, qty, false);
    envelope(0, "SUCCESS", None)
}

impl BackOffice {
    /// Lists an item without options in QSM: seller code, number shown, price and sale end date
    /// (`None`: the detail read shows it blank), tax rate `10`. Its Qoo10 item number is derived
    /// from the seller code.
    pub fn list_item(&self, seller_code: &str, units: i64, price: Option<i64>, expire: Option<NaiveDate>) {
        let item = item_code(seller_code);
        let good = Good {
            item_code: item.clone(),
            seller_code: seller_code.to_owned(),
            price,
            expire,
            tax_rate: "10".into(),
            options: Vec::new(),
        };
        self.0.goods.lock().unwrap_or_else(|e| e.into_inner()).items.insert(item, good);
        self.0.shelf.list(seller_code, units, true);
    }

    /// Adds one option row to the item `seller_code` (listed first if new, at `price`, ending
    /// `expire`): its axes `(name, value)`, its seller option code, its option price and number.
    pub fn list_option(&self, seller_code: &str, axes: &[(&str, &str)], option_code: &str, price: i64, units: i64) {
        let item = item_code(seller_code);
        let mut goods = self.0.goods.lock().unwrap_or_else(|e| e.into_inner());
        let good = goods.items.entry(item.clone()).or_insert_with(|| Good {
            item_code: item,
            seller_code: seller_code.to_owned(),
            price: Some(1_000),
            expire: NaiveDate::from_ymd_opt(2030, 12, 31),
            tax_rate: "10".into(),
            options: Vec::new(),
        });
        good.options.retain(|o| o.code != option_code);
        good.options.push(OptionEntry {
            names: axes.iter().map(|(n, _)| (*n).to_owned()).collect(),
            values: axes.iter().map(|(_, v)| (*v).to_owned()).collect(),
            code: option_code.to_owned(),
            price,
        });
        drop(goods);
        self.0.shelf.list(option_code, units, true);
    }

    /// The Qoo10 item number of the item `seller_code`.
    pub fn item_code(&self, seller_code: &str) -> String {
        item_code(seller_code)
    }

    /// An item's price and sale end date as QSM holds them now.
    pub fn price_and_end(&self, seller_code: &str) -> Option<(Option<i64>, Option<NaiveDate>)> {
        let goods = self.0.goods.lock().unwrap_or_else(|e| e.into_inner());
        goods.items.values().find(|g| g.seller_code == seller_code).map(|g| (g.price, g.expire))
    }

    /// The price of option row `option_code`.
    pub fn option_price(&self, option_code: &str) -> Option<i64> {
        let goods = self.0.goods.lock().unwrap_or_else(|e| e.into_inner());
        goods.owner_of(option_code)?.options.iter().find(|o| o.code == option_code).map(|o| o.price)
    }

    /// Staff change a number in QSM (seller code or option code): shows at once. False for an
    /// unknown key.
    pub fn edit_stock(&self, key: &str, units: i64) -> bool {
        self.0.shelf.edit(key, units)
    }

    /// What the product page shows now (`None`: no such item or row).
    pub fn stock(&self, key: &str) -> Option<i64> {
        self.0.shelf.shown(key)
    }

    /// The shop's stock, for its delay and call counts.
    pub fn shelf(&self) -> &Shelf {
        &self.0.shelf
    }

    /// The API key passes its one year: certification and every call with a seller key are
    /// refused (`-90005` / `-90004`).
    pub fn expire_key(&self) {
        self.0.key_expired.store(true, Ordering::SeqCst);
    }

    /// A simulated buyer orders `lines` (seller code or option code, units) now at ¥1,000 a unit,
    /// paid by card (`On request(2)`): placed only if the page shows enough of every line, and the
    /// units are taken off (unverified: Qoo10's own count-down at sale, §5.4). `None`: sold out.
    pub fn buy(&self, lines: &[(&str, u32)]) -> Option<String> {
        let s = &self.0;
        let n = s.buyers.fetch_add(1, Ordering::SeqCst);
        let items: Vec<(String, u32, i64)> = lines.iter().map(|(c, q)| ((*c).to_owned(), *q, 1_000)).collect();
        let mut o = buyer_order(Marketplace::Qoo10, &s.shop_id, n, &items);
        o.order_id = (PACK_BASE + super::BUYER_PACKS + n as u64).to_string();
        let taken: Vec<(String, i64)> = lines.iter().map(|(c, q)| ((*c).to_owned(), i64::from(*q))).collect();
        if !s.shelf.sell(&o.order_id, &taken) {
            return None;
        }
        let id = o.order_id.clone();
        let paid = o.ordered_at;
        s.book.insert(o);
        if let Ok(mut desk) = s.desk.lock() {
            desk.paid_at.insert(id.clone(), paid);
        }
        Some(id)
    }
}
