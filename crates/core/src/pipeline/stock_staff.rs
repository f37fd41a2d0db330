//! What staff do to the stock master by hand — load a stock file, count a SKU (棚卸), move it by
//! a delivery or a breakage (入出庫), say what a marketplace item takes (対応付け) — checked the
//! same way whether `ichigen stock` or the console asks: one place, so the two cannot drift apart.
//! The staff decisions on drift are `stock_push::{accept_drift, force_push}`.

use chrono::{DateTime, FixedOffset};

use crate::order::Marketplace;
use crate::stock::file::{self, StockFileError};
use crate::stock::{Count, Edit, Listing, Part, Stock, StockStore};

use super::holdings;
use super::ports::{OrderStore, PortError};

/// What a stock file load applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Loaded {
    /// SKUs whose count was set.
    pub skus: usize,
    /// Marketplace items mapped.
    pub listings: usize,
    /// Open orders already stored whose units the loaded master now holds.
    pub held: usize,
}

/// Why a stock file was not loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file is wrong: nothing was applied.
    #[error("{file}: 何も反映していません\n{why}")]
    Refused {
        /// The file's name, as staff gave it.
        file: String,
        /// What is wrong, by line where a row is.
        why: StockFileError,
    },
    /// The store failed part way (a load sets counts: loading the file again is harmless).
    #[error(transparent)]
    Port(#[from] PortError),
}

/// Loads a stock file (`ichigen stock load`, the console's upload): every row checked first —
/// one bad row applies nothing and names its line —, then each SKU's count set (a stocktake,
/// recorded as made by `by` because of the file `file_name`) and its listings stored, then the
/// open orders already stored held under the new master.
pub async fn load<S: StockStore + OrderStore>(
    store: &S,
    shop_id: &str,
    bytes: &[u8],
    file_name: &str,
    by: &str,
    now: DateTime<FixedOffset>,
) -> Result<Loaded, LoadError> {
    let rows = file::read(bytes).map_err(|why| LoadError::Refused { file: file_name.to_string(), why })?;
    let why = format!("在庫ファイル {file_name}");
    let edit = Edit { who: by, why: &why, at: now };
    let mut listings = 0;
    for row in &rows {
        store.count(shop_id, &row.sku, row.name.as_deref(), Count::Set(row.on_hand), &edit).await?;
        for l in &row.listings {
            store.put_listing(shop_id, l).await?;
            listings += 1;
        }
    }
    // Orders stored before the master (or before these listings) hold their units now, not
    // when the processor next stores them: until then they would be pushed to the malls as free.
    let held = holdings::settle_open(store, store, shop_id, now).await?;
    Ok(Loaded { skus: rows.len(), listings, held })
}

/// Why a count or a mapping by staff was refused (nothing changed) or failed.
#[derive(Debug, thiserror::Error)]
pub enum EditError {
    /// No SKU given.
    #[error("SKU を入力してください")]
    NoSku,
    /// No reason given: the history says why every count moved.
    #[error("理由を入力してください(在庫の履歴に残ります)")]
    NoReason,
    /// A stocktake below zero.
    #[error("在庫数は0以上で指定してください")]
    Negative,
    /// An adjustment of nothing.
    #[error("増減する数は0以外で指定してください")]
    Zero,
    /// A SKU the master does not have (a typo, or a SKU never counted).
    #[error("SKU {0} は在庫マスタにありません(新しいSKUは棚卸 — ichigen stock set — か在庫ファイルで登録してください)")]
    UnknownSku(String),
    /// No item identity given.
    #[error("モールの商品コードを入力してください")]
    NoItem,
    /// A part that is not `SKU` or `SKU*UNITS`, or none.
    #[error("{0}")]
    BadPart(String),
    /// The store failed.
    #[error(transparent)]
    Port(#[from] PortError),
}

/// Sets (a stocktake) or adjusts (a delivery in, a breakage out) one SKU's on-hand count, as
/// staff `edit.who` because of `edit.why`. A stocktake of a SKU the master does not have yet
/// registers it; an adjustment of one is refused (a typo would otherwise start a new SKU).
/// Returns the SKU after it.
pub async fn count<K: StockStore>(
    stock: &K,
    shop_id: &str,
    sku: &str,
    count: Count,
    edit: &Edit<'_>,
) -> Result<Stock, EditError> {
    let sku = sku.trim();
    if sku.is_empty() {
        return Err(EditError::NoSku);
    }
    if edit.why.trim().is_empty() {
        return Err(EditError::NoReason);
    }
    match count {
        Count::Set(n) if n < 0 => return Err(EditError::Negative),
        Count::Adjust(0) => return Err(EditError::Zero),
        Count::Adjust(_) if !stock.stocks(shop_id).await?.iter().any(|s| s.sku == sku) => {
            return Err(EditError::UnknownSku(sku.to_string()));
        }
        _ => {}
    }
    let edit = Edit { why: edit.why.trim(), ..*edit };
    Ok(stock.count(shop_id, sku, None, count, &edit).await?)
}

/// Records what `marketplace`'s item `item` takes: `parts`, each `SKU` (one unit) or
/// `SKU*UNITS` (a set has several), every SKU one the master has. Returns the listing stored.
pub async fn map_item<K: StockStore>(
    stock: &K,
    shop_id: &str,
    marketplace: Marketplace,
    item: &str,
    parts: &[&str],
) -> Result<Listing, EditError> {
    let item = item.trim();
    if item.is_empty() {
        return Err(EditError::NoItem);
    }
    if parts.is_empty() {
        return Err(EditError::BadPart("使うSKUを SKU か SKU*個数 で入力してください(例: MUG-WHT*2 TEA)".into()));
    }
    let parts = parts.iter().map(|p| p.parse::<Part>()).collect::<Result<Vec<_>, _>>().map_err(EditError::BadPart)?;
    let known = stock.stocks(shop_id).await?;
    if let Some(p) = parts.iter().find(|p| !known.iter().any(|s| s.sku == p.sku)) {
        return Err(EditError::UnknownSku(p.sku.clone()));
    }
    let listing = Listing { marketplace, item: item.to_string(), parts };
    stock.put_listing(shop_id, &listing).await?;
    Ok(listing)
}

/// A listing's parts in staff's words: `MUG-WHT×2 + TEA×1`.
pub fn parts_text(listing: &Listing) -> String {
    listing.parts.iter().map(|p| format!("{}×{}", p.sku, p.units)).collect::<Vec<_>>().join(" + ")
}
