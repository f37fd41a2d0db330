//! au PAY マーケット stock (Wow!manager `updateStock` / `searchStocks`, inventory.md §4), on the
//! order client's key and its shop-wide rate budget.
//!
//! Identity: an item without options is its `itemCode` (通常在庫, `stockSegment` 1); one option
//! SKU is `itemCode:横軸コード:縦軸コード` (項目選択肢別在庫, `stockSegment` 2; either axis may be
//! empty, e.g. `SHIRT:RED:`). Which option an order line took is unverified on the order side
//! (the line carries the option text), so option SKUs are addressed in that written form.
//!
//! Writes are absolute (個数指定; no delta exists), ≤200 `stockUpdateItem` a call; the option SKUs
//! of one item travel in one `stockUpdateItem`. A refused item (an unknown `itemCode` — its code
//! is unverified) is answered per item. Reads walk `searchStocks` in pages of 500 (its `itemCode`
//! filter is a partial match) and keep the exact codes asked for.

use std::collections::{BTreeMap, HashMap};

use ichigen_core::Marketplace;
use ichigen_core::stock::mall::{ItemSet, ItemShown, MallStock, Quantity, SetOutcome, Shown};
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE};
use secrecy::ExposeSecret;
use serde::Deserialize;

use super::client::{AUTH_ERROR_CODE, AupayClient, PATH_PREFIX, escape};
use crate::client::{ClientError, Reply};

/// 在庫更新.
pub const UPDATE_STOCK: &str = "updateStock";
/// 在庫検索.
pub const SEARCH_STOCKS: &str = "searchStocks";
/// Most `stockUpdateItem` per updateStock (2018 spec transcription).
pub const MAX_UPDATE_ITEMS: usize = 200;
/// Largest `totalCount` of searchStocks.
pub const MAX_PAGE: usize = 500;
/// Largest stock number the search filters take (0–99,999); the write is clamped to it.
pub const MAX_QUANTITY: u32 = 99_999;
/// An option SKU's (horizontal, vertical) codes; `None` for an item without options.
type Axes = Option<(String, String)>;
/// The numbers of one item: one `(None, n)`, or one per option SKU.
type ItemRows = Vec<(Axes, u32)>;

/// Most pages one read walks (500 items each); a catalogue beyond it is refused.
const MAX_PAGES: usize = 200;

/// An item's key: the item code and, for an option SKU, its two axis codes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct Key {
    item: String,
    option: Axes,
}

impl Key {
    fn parse(s: &str) -> Option<Key> {
        let s = s.trim();
        let parts: Vec<&str> = s.split(':').collect();
        let ok = |c: &str| c.len() <= 256 && c.bytes().all(|b| b.is_ascii_graphic() && b != b':');
        match parts.as_slice() {
            [item] if !item.is_empty() && ok(item) => Some(Key { item: (*item).to_owned(), option: None }),
            [item, h, v] if !item.is_empty() && ok(item) && ok(h) && ok(v) && !(h.is_empty() && v.is_empty()) => {
                Some(Key { item: (*item).to_owned(), option: Some(((*h).to_owned(), (*v).to_owned())) })
            }
            _ => None,
        }
    }
}

#[derive(Debug, Default, Deserialize)]
struct Response {
    #[serde(default)]
    result: Option<ResultStatus>,
    #[serde(rename = "updateResult", default)]
    update: Vec<UpdateResult>,
    #[serde(rename = "searchResult", default)]
    search: Option<SearchResult>,
}

#[derive(Debug, Default, Deserialize)]
struct ResultStatus {
    #[serde(default)]
    status: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct UpdateResult {
    #[serde(default)]
    item_code: String,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    error: Option<ApiError>,
}

#[derive(Debug, Deserialize)]
struct ApiError {
    #[serde(default)]
    code: String,
    #[serde(default)]
    message: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SearchResult {
    #[serde(default)]
    max_count: Option<String>,
    #[serde(default)]
    result_stocks: Vec<StockRow>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct StockRow {
    item_code: String,
    #[serde(default)]
    stock_count: Option<String>,
    #[serde(default)]
    choices_stocks: Vec<ChoiceRow>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ChoiceRow {
    #[serde(default)]
    choices_stock_horizontal_code: Option<String>,
    #[serde(default)]
    choices_stock_vertical_code: Option<String>,
    #[serde(default)]
    choices_stock_count: Option<String>,
}

/// An axis code as the API writes "no axis" (`-` or empty) → empty.
fn axis(code: &Option<String>) -> String {
    code.as_deref().map(str::trim).filter(|c| *c != "-").unwrap_or_default().to_owned()
}

fn malformed(operation: &str, detail: &str) -> ClientError {
    ClientError::malformed(Marketplace::Aupay, operation, detail)
}

fn read(operation: &'static str, body: &str) -> Result<Response, ClientError> {
    quick_xml::de::from_str(body).map_err(|_| malformed(operation, "not a <response> document"))
}

impl AupayClient {
    /// One updateStock of whole items (≤200), each with its number or its option numbers: per
    /// item code, the refusal `(code, message)` if refused.
    async fn update_stock(
        &self,
        items: &[(&String, &ItemRows)],
    ) -> Result<HashMap<String, (String, String)>, ClientError> {
        let mut body = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<request>\n<shopId>{}</shopId>\n",
            escape(self.credentials.shop_id.expose_secret())
        );
        for (item, rows) in items {
            body.push_str(&format!("<stockUpdateItem>\n<itemCode>{}</itemCode>\n", escape(item)));
            match rows.as_slice() {
                [(None, n)] => {
                    body.push_str(&format!("<stockSegment>1</stockSegment>\n<stockCount>{n}</stockCount>\n"))
                }
                _ => {
                    body.push_str("<stockSegment>2</stockSegment>\n");
                    for (option, n) in rows.iter() {
                        let (h, v) = option.clone().unwrap_or_default();
                        body.push_str(&format!(
                            "<choicesStocks>\n<choicesStockHorizontalCode>{}</choicesStockHorizontalCode>\n\
                             <choicesStockVerticalCode>{}</choicesStockVerticalCode>\n\
                             <choicesStockCount>{n}</choicesStockCount>\n</choicesStocks>\n",
                            escape(&h),
                            escape(&v)
                        ));
                    }
                }
            }
            body.push_str("</stockUpdateItem>\n");
        }
        body.push_str("</request>\n");
        let url = self.http.url(&format!("{PATH_PREFIX}{UPDATE_STOCK}"));
        let reply = self
            .http
            .send(
                UPDATE_STOCK,
                || {
                    self.http
                        .client()
                        .post(&url)
                        .header(AUTHORIZATION, self.bearer())
                        .header(CONTENT_TYPE, "application/xml; charset=utf-8")
                        .body(body.clone())
                },
                |op, r| per_item_or(op, r, |op, r| self.classify(op, r)),
            )
            .await?;
        let response = read(UPDATE_STOCK, &reply.body)?;
        Ok(response
            .update
            .into_iter()
            .filter(|u| u.status.as_deref().map(str::trim) != Some("0"))
            .map(|u| {
                let e = u.error.unwrap_or(ApiError { code: "status 1".into(), message: String::new() });
                (u.item_code.trim().to_owned(), (e.code, e.message))
            })
            .collect())
    }

    /// Every stock row of the shop: normal items by code, option SKUs by (code, h, v).
    async fn all_stocks(&self) -> Result<HashMap<Key, i64>, ClientError> {
        let url = self.http.url(&format!("{PATH_PREFIX}{SEARCH_STOCKS}"));
        let mut out = HashMap::new();
        let mut start = 1usize;
        for _ in 0..MAX_PAGES {
            let query = [
                ("shopId", self.credentials.shop_id.expose_secret().to_owned()),
                ("totalCount", MAX_PAGE.to_string()),
                ("startCount", start.to_string()),
            ];
            let reply = self
                .http
                .send(
                    SEARCH_STOCKS,
                    || self.http.client().get(&url).header(AUTHORIZATION, self.bearer()).query(&query),
                    |op, r| self.classify(op, r),
                )
                .await?;
            let response = read(SEARCH_STOCKS, &reply.body)?;
            if response.result.and_then(|r| r.status).as_deref().map(str::trim) != Some("0") {
                return Err(malformed(SEARCH_STOCKS, "result.status is not 0"));
            }
            let page = response.search.unwrap_or_default();
            let rows = page.result_stocks.len();
            for row in page.result_stocks {
                let item = row.item_code.trim().to_owned();
                if row.choices_stocks.is_empty() {
                    let n = row.stock_count.as_deref().and_then(|n| n.trim().parse().ok());
                    let n = n.ok_or_else(|| malformed(SEARCH_STOCKS, "resultStocks.stockCount is not a number"))?;
                    out.insert(Key { item, option: None }, n);
                } else {
                    for c in row.choices_stocks {
                        let n = c.choices_stock_count.as_deref().and_then(|n| n.trim().parse().ok());
                        let n = n.ok_or_else(|| malformed(SEARCH_STOCKS, "choicesStockCount is not a number"))?;
                        let option =
                            Some((axis(&c.choices_stock_horizontal_code), axis(&c.choices_stock_vertical_code)));
                        out.insert(Key { item: item.clone(), option }, n);
                    }
                }
            }
            let total: usize = page.max_count.as_deref().and_then(|m| m.trim().parse().ok()).unwrap_or(0);
            start += rows;
            if rows == 0 || start > total {
                return Ok(out);
            }
        }
        Err(malformed(SEARCH_STOCKS, "more stock rows than one read walks"))
    }
}

/// updateStock answers refused items in `updateResult` rows (with `status` 1 overall): those are
/// the caller's to read; the key refusal (`0002`) and everything else go through `classify`.
fn per_item_or(
    operation: &'static str,
    reply: Reply,
    classify: impl Fn(&'static str, Reply) -> Result<Reply, ClientError>,
) -> Result<Reply, ClientError> {
    let per_item = quick_xml::de::from_str::<Response>(&reply.body).is_ok_and(|r| !r.update.is_empty())
        && !reply.body.contains(&format!("<code>{AUTH_ERROR_CODE}</code>"));
    if per_item && !reply.status.is_server_error() {
        return Ok(reply);
    }
    classify(operation, reply)
}

impl MallStock for AupayClient {
    type Error = ClientError;

    fn marketplace(&self) -> Marketplace {
        Marketplace::Aupay
    }

    fn max_items_per_write(&self) -> usize {
        MAX_UPDATE_ITEMS
    }

    fn max_items_per_read(&self) -> usize {
        MAX_PAGE
    }

    async fn set_quantities(&self, items: &[Quantity]) -> Result<Vec<ItemSet>, ClientError> {
        // Whole items: every option SKU of one item code in one stockUpdateItem; the last
        // number of a SKU named twice wins.
        let mut by_item: BTreeMap<String, BTreeMap<Axes, u32>> = BTreeMap::new();
        for q in items {
            if let Some(k) = Key::parse(&q.item) {
                by_item.entry(k.item).or_default().insert(k.option, q.units.min(MAX_QUANTITY));
            }
        }
        let grouped: Vec<(String, ItemRows)> =
            by_item.into_iter().map(|(item, rows)| (item, rows.into_iter().collect())).collect();
        let mut refused: HashMap<String, (String, String)> = HashMap::new();
        let mut mixed: Vec<String> = Vec::new();
        let sendable: Vec<(&String, &ItemRows)> = grouped
            .iter()
            .filter(|(item, rows)| {
                // An item is normal stock or option stock, not both.
                let ok = rows.len() == 1 || rows.iter().all(|(o, _)| o.is_some());
                if !ok {
                    mixed.push(item.clone());
                }
                ok
            })
            .map(|(item, rows)| (item, rows))
            .collect();
        for chunk in sendable.chunks(MAX_UPDATE_ITEMS) {
            refused.extend(self.update_stock(chunk).await?);
        }
        Ok(items
            .iter()
            .map(|q| {
                let outcome = match Key::parse(&q.item) {
                    None => SetOutcome::Refused {
                        code: "itemCode".into(),
                        reason: "商品コード、または 商品コード:横軸コード:縦軸コード で指定してください".into(),
                    },
                    Some(k) if mixed.contains(&k.item) => SetOutcome::Refused {
                        code: "stockSegment".into(),
                        reason: "同じ商品コードに通常在庫と選択肢別在庫を同時に指定できません".into(),
                    },
                    Some(k) => match refused.get(&k.item) {
                        Some((code, message)) => SetOutcome::Refused { code: code.clone(), reason: message.clone() },
                        None => SetOutcome::Written,
                    },
                };
                ItemSet { item: q.item.clone(), outcome }
            })
            .collect())
    }

    async fn read_quantities(&self, items: &[String]) -> Result<Vec<ItemShown>, ClientError> {
        let all = self.all_stocks().await?;
        Ok(items
            .iter()
            .map(|i| ItemShown {
                item: i.clone(),
                shown: Key::parse(i).and_then(|k| all.get(&k)).map_or(Shown::Missing, |n| Shown::Units(*n)),
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys() {
        assert_eq!(Key::parse("MUG").map(|k| k.option), Some(None));
        assert_eq!(Key::parse("SHIRT:RED:").and_then(|k| k.option), Some(("RED".into(), String::new())));
        assert!(Key::parse("SHIRT::").is_none() && Key::parse("").is_none() && Key::parse("a:b").is_none());
        assert!(Key::parse("マグ").is_none());
    }
}
