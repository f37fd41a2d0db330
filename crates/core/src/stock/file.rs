//! The stock file staff keep in a spreadsheet: one row per shop SKU with its on-hand count, and
//! optionally the marketplace items that take it. UTF-8 or Shift_JIS (what Excel saves), header
//! names in English or Japanese:
//!
//! ```text
//! SKU,商品名,在庫数,楽天,Yahoo,Amazon,auPAY,Qoo10
//! MUG-WHT,マグカップ ホワイト,120,mug-wht,mug-wht,MUG-WHT-FBM,,
//! ```
//!
//! A marketplace column names that marketplace's item identity taking one unit of the SKU; sets
//! (an item of several SKUs) are mapped with `ichigen stock map`. Every row is checked before
//! anything is applied: a file with one bad row changes nothing and names the row.

use std::collections::BTreeSet;

use crate::order::Marketplace;
use crate::spreadsheet::BadEncoding;

use super::{Listing, Part};

/// Header names of the SKU column.
const SKU_NAMES: [&str; 3] = ["sku", "SKU", "商品コード"];
/// Header names of the name column.
const NAME_NAMES: [&str; 3] = ["name", "商品名", "品名"];
/// Header names of the on-hand column.
const COUNT_NAMES: [&str; 4] = ["on_hand", "在庫数", "在庫", "数量"];

/// One row of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StockRow {
    /// 1-based line.
    pub line: usize,
    /// The shop SKU.
    pub sku: String,
    /// Its name, if given.
    pub name: Option<String>,
    /// Units on hand.
    pub on_hand: i64,
    /// The marketplace items named on the row, each taking one unit.
    pub listings: Vec<Listing>,
}

/// Why a stock file was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StockFileError {
    /// Not readable text.
    #[error(transparent)]
    Encoding(#[from] BadEncoding),
    /// No header with a SKU and an on-hand column.
    #[error("1行目に SKU と 在庫数 の列名が必要です(例: SKU,商品名,在庫数)")]
    Header,
    /// Rows that are wrong, by line.
    #[error("{}", .0.iter().map(|(l, why)| format!("{l}行目: {why}")).collect::<Vec<_>>().join("\n"))]
    Rows(Vec<(usize, String)>),
}

/// The marketplace a column header names, if one.
fn marketplace_of(header: &str) -> Option<Marketplace> {
    let h = header.trim().to_ascii_lowercase().replace([' ', '!', '.', '-', '_'], "");
    match h.as_str() {
        "楽天" | "楽天市場" | "rakuten" => Some(Marketplace::Rakuten),
        "yahoo" | "yahooショッピング" => Some(Marketplace::Yahoo),
        "amazon" | "amazoncojp" => Some(Marketplace::Amazon),
        "aupay" | "aupayマーケット" | "wowma" => Some(Marketplace::Aupay),
        "qoo10" => Some(Marketplace::Qoo10),
        _ => None,
    }
}

/// Reads the file: every row, or every bad row by line.
pub fn read(bytes: &[u8]) -> Result<Vec<StockRow>, StockFileError> {
    let text = crate::spreadsheet::decode(bytes)?;
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(text.as_bytes());
    let headers = reader.headers().map_err(|_| StockFileError::Header)?.clone();
    let find = |names: &[&str]| headers.iter().position(|h| names.contains(&h.trim()));
    let (Some(sku_col), Some(count_col)) = (find(&SKU_NAMES), find(&COUNT_NAMES)) else {
        return Err(StockFileError::Header);
    };
    let name_col = find(&NAME_NAMES);
    let markets: Vec<(usize, Marketplace)> =
        headers.iter().enumerate().filter_map(|(i, h)| marketplace_of(h).map(|m| (i, m))).collect();
    let mut rows = Vec::new();
    let mut bad = Vec::new();
    let mut seen = BTreeSet::new();
    for (i, record) in reader.records().enumerate() {
        let line = i + 2;
        let Ok(record) = record else {
            bad.push((line, "CSVとして読めません".to_string()));
            continue;
        };
        let cell = |col: usize| record.get(col).map(str::trim).unwrap_or("");
        let sku = cell(sku_col);
        if sku.is_empty() {
            if record.iter().all(|c| c.trim().is_empty()) {
                continue;
            }
            bad.push((line, "SKU がありません".to_string()));
            continue;
        }
        if !seen.insert(sku.to_string()) {
            bad.push((line, "同じ SKU が前の行にもあります".to_string()));
            continue;
        }
        let on_hand = match cell(count_col).replace(',', "").parse::<i64>() {
            Ok(n) if n >= 0 => n,
            _ => {
                bad.push((line, "在庫数は0以上の整数で書いてください".to_string()));
                continue;
            }
        };
        let listings = markets
            .iter()
            .filter(|(col, _)| !cell(*col).is_empty())
            .map(|(col, marketplace)| Listing {
                marketplace: *marketplace,
                item: cell(*col).to_string(),
                parts: vec![Part { sku: sku.to_string(), units: 1 }],
            })
            .collect();
        let name = name_col.map(cell).filter(|n| !n.is_empty()).map(str::to_string);
        rows.push(StockRow { line, sku: sku.to_string(), name, on_hand, listings });
    }
    if bad.is_empty() { Ok(rows) } else { Err(StockFileError::Rows(bad)) }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_shift_jis_file_with_japanese_headers_reads_with_its_listings() {
        let text =
            "SKU,商品名,在庫数,楽天,Amazon\r\nMUG-WHT,マグカップ,\"1,200\",mug-wht,\r\n\r\nTEA-50G,煎茶,0,,TEA-FBM\r\n";
        let rows = read(&encoding_rs::SHIFT_JIS.encode(text).0).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!((rows[0].sku.as_str(), rows[0].on_hand), ("MUG-WHT", 1200), "a count with a thousands comma");
        assert_eq!(
            (rows[0].listings[0].marketplace, rows[0].listings[0].item.as_str()),
            (Marketplace::Rakuten, "mug-wht")
        );
        assert_eq!(rows[1].listings[0].marketplace, Marketplace::Amazon);
        assert_eq!(rows[1].listings[0].item, "TEA-FBM");
    }

    #[test]
    fn bad_rows_are_named_and_nothing_is_read() {
        let text = "sku,on_hand\nA,3\nA,4\n,5\nB,-1\nC,many\n";
        let e = read(text.as_bytes()).unwrap_err();
        let shown = e.to_string();
        for l in ["3行目", "4行目", "5行目", "6行目"] {
            assert!(shown.contains(l), "{shown}");
        }
        assert!(!shown.contains("2行目"));
        assert_eq!(read(b"sku,count\nA,1\n"), Err(StockFileError::Header));
    }
}
