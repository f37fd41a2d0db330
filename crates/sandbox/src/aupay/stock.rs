//! au PAY マーケット `updateStock` and `searchStocks` in the sandbox (inventory.md §4), behind the
//! order functions' gate (Bearer key, `0002` on refusal, the shop-wide rate limit, faults).
//!
//! - updateStock: `POST /wmshopapi/updateStock`, XML `<request><shopId/>` + ≤200
//!   `<stockUpdateItem>`; `stockSegment` 1 with `stockCount`, or 2 with `choicesStocks`
//!   (horizontal / vertical code, count); absolute numbers only. More than 200 items → the whole
//!   call refused (`CME0022`). An item the shop does not have, or whose stock type differs, is
//!   refused **on its own** in an `updateResult` row (`status` 1, code `CME0040` — the real code is
//!   unverified) while the other items are written (unverified as well).
//! - searchStocks: `GET /wmshopapi/searchStocks?shopId&totalCount(≤500)&startCount[&itemCode]`;
//!   `itemCode` is a **partial** match; answers `searchResult/maxCount` and `resultStocks` rows
//!   (`itemCode`, `stockSegment`, `stockCount` or `choicesStocks`).
//! - Whether au PAY counts stock down at sale time and restores it on cancel is unverified: the
//!   sandbox counts down at sale and does **not** restore on cancel.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde::Deserialize;

use super::{App, check_shop, esc, finish, gate, param_error};

/// 在庫更新.
pub const UPDATE_STOCK: &str = "updateStock";
/// 在庫検索.
pub const SEARCH_STOCKS: &str = "searchStocks";
/// Most `stockUpdateItem` per call.
pub const MAX_UPDATE_ITEMS: usize = 200;
/// Largest `totalCount` of searchStocks.
pub const MAX_TOTAL_COUNT: usize = 500;
/// The code the sandbox answers for an item it cannot update.
// unverified: the real code for an unknown itemCode (inventory.md §4.2).
pub const ITEM_REFUSED: &str = "CME0040";

/// One stock row of an item: its option axes (`None`: no options) and number.
type StockRow = (Option<(String, String)>, i64);

/// The shelf key of a normal item (`itemCode`) or an option SKU (`itemCode:h:v`).
pub fn key(item: &str, option: Option<(&str, &str)>) -> String {
    match option {
        None => item.to_owned(),
        Some((h, v)) => format!("{item}:{h}:{v}"),
    }
}

#[derive(Debug, Deserialize)]
struct Request {
    #[serde(rename = "shopId", default)]
    shop_id: Option<String>,
    #[serde(rename = "stockUpdateItem", default)]
    items: Vec<UpdateItem>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct UpdateItem {
    #[serde(default)]
    item_code: Option<String>,
    #[serde(default)]
    stock_segment: Option<String>,
    #[serde(default)]
    stock_count: Option<String>,
    #[serde(default)]
    choices_stocks: Vec<Choice>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Choice {
    #[serde(default)]
    choices_stock_horizontal_code: Option<String>,
    #[serde(default)]
    choices_stock_vertical_code: Option<String>,
    #[serde(default)]
    choices_stock_count: Option<String>,
}

fn count(s: &Option<String>) -> Option<i64> {
    s.as_deref().and_then(|n| n.trim().parse::<i64>().ok()).filter(|n| (0..=99_999).contains(n))
}

fn axis(s: &Option<String>) -> String {
    s.as_deref().map(str::trim).filter(|c| *c != "-").unwrap_or_default().to_owned()
}

/// The writes of one item, or why it is refused.
fn writes(app: &App, item: &UpdateItem) -> Result<Vec<(String, i64)>, &'static str> {
    let code =
        item.item_code.as_deref().map(str::trim).filter(|c| !c.is_empty()).ok_or("[itemCode]必須入力項目です")?;
    match item.stock_segment.as_deref().map(str::trim) {
        Some("1") => {
            let n = count(&item.stock_count).ok_or("[stockCount]が不正です")?;
            let k = key(code, None);
            if !app.shelf.knows(&k) {
                return Err("商品が存在しないか、在庫タイプが異なります");
            }
            Ok(vec![(k, n)])
        }
        Some("2") if !item.choices_stocks.is_empty() => item
            .choices_stocks
            .iter()
            .map(|c| {
                let n = count(&c.choices_stock_count).ok_or("[choicesStockCount]が不正です")?;
                let (h, v) = (axis(&c.choices_stock_horizontal_code), axis(&c.choices_stock_vertical_code));
                let k = key(code, Some((&h, &v)));
                if !app.shelf.knows(&k) {
                    return Err("商品の選択肢が存在しないか、在庫タイプが異なります");
                }
                Ok((k, n))
            })
            .collect(),
        _ => Err("[stockSegment]が不正です"),
    }
}

pub(super) async fn update_stock(State(app): State<Arc<App>>, headers: HeaderMap, body: String) -> Response {
    let malformed = match gate(&app, UPDATE_STOCK, &headers).await {
        Ok(m) => m,
        Err(r) => return r,
    };
    app.shelf.count_write_call();
    let Ok(req) = quick_xml::de::from_str::<Request>(&body) else {
        return param_error("リクエストの形式が不正です");
    };
    if let Err(m) = check_shop(req.shop_id.as_deref()) {
        return param_error(m);
    }
    if req.items.is_empty() || req.items.len() > MAX_UPDATE_ITEMS {
        return param_error("[stockUpdateItem]は1件以上200件以内で指定してください");
    }
    let mut rows = String::new();
    let mut failed = false;
    for item in &req.items {
        let code = esc(item.item_code.as_deref().unwrap_or_default());
        match writes(&app, item) {
            Ok(list) => {
                for (k, n) in list {
                    app.shelf.put(&k, n, false);
                }
                rows.push_str(&format!(
                    "  <updateResult>\n    <itemCode>{code}</itemCode>\n    <status>0</status>\n  </updateResult>\n"
                ));
            }
            Err(message) => {
                failed = true;
                rows.push_str(&format!(
                    "  <updateResult>\n    <itemCode>{code}</itemCode>\n    <status>1</status>\n    <error>\n      <code>{ITEM_REFUSED}</code>\n      <message>{}</message>\n    </error>\n  </updateResult>\n",
                    esc(message)
                ));
            }
        }
    }
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<response>\n  <result>\n    <status>{}</status>\n  </result>\n{rows}</response>\n",
        u8::from(failed)
    );
    finish(malformed, body)
}

pub(super) async fn search_stocks(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let malformed = match gate(&app, SEARCH_STOCKS, &headers).await {
        Ok(m) => m,
        Err(r) => return r,
    };
    app.shelf.count_read_call();
    if let Err(m) = check_shop(q.get("shopId").map(String::as_str)) {
        return param_error(m);
    }
    let number = |name: &str, default: usize| match q.get(name).map(|s| s.trim()) {
        None | Some("") => Ok(default),
        Some(s) => s.parse::<usize>().map_err(|_| format!("[{name}]は数値で指定してください")),
    };
    let (total, start) = match (number("totalCount", 10), number("startCount", 1)) {
        (Ok(t), Ok(s)) if (1..=MAX_TOTAL_COUNT).contains(&t) && s >= 1 => (t, s),
        (Err(m), _) | (_, Err(m)) => return param_error(&m),
        _ => return param_error("[totalCount]または[startCount]が範囲外です"),
    };
    let filter = q.get("itemCode").map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
    // Rows grouped per item code, in code order.
    let mut items: std::collections::BTreeMap<String, Vec<StockRow>> = Default::default();
    for (k, n, _) in app.shelf.rows() {
        let parts: Vec<&str> = k.split(':').collect();
        let (item, option) = match parts.as_slice() {
            [item, h, v] => ((*item).to_owned(), Some(((*h).to_owned(), (*v).to_owned()))),
            _ => (k.clone(), None),
        };
        if filter.as_deref().is_none_or(|f| item.contains(f)) {
            items.entry(item).or_default().push((option, n));
        }
    }
    let max = items.len();
    let mut out = String::new();
    for (item, rows) in items.into_iter().skip(start - 1).take(total) {
        out.push_str(&format!("    <resultStocks>\n      <itemCode>{}</itemCode>\n", esc(&item)));
        match rows.as_slice() {
            [(None, n)] => {
                out.push_str(&format!("      <stockSegment>1</stockSegment>\n      <stockCount>{n}</stockCount>\n"))
            }
            _ => {
                out.push_str("      <stockSegment>2</stockSegment>\n");
                for (option, n) in &rows {
                    let (h, v) = option.clone().unwrap_or_default();
                    let dash = |c: &str| if c.is_empty() { "-".to_owned() } else { esc(c) };
                    out.push_str(&format!(
                        "      <choicesStocks>\n        <choicesStockHorizontalCode>{}</choicesStockHorizontalCode>\n        <choicesStockVerticalCode>{}</choicesStockVerticalCode>\n        <choicesStockCount>{n}</choicesStockCount>\n      </choicesStocks>\n",
                        dash(&h),
                        dash(&v)
                    ));
                }
            }
        }
        out.push_str("    </resultStocks>\n");
    }
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<response>\n  <result>\n    <status>0</status>\n  </result>\n  <searchResult>\n    <maxCount>{max}</maxCount>\n{out}  </searchResult>\n</response>\n"
    );
    finish(malformed, body)
}
