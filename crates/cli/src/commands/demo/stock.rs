//! The demo's stock: a stock file loaded before the first pull (`--stock FILE`, or on a folder's
//! first run a sample file of the sample orders' SKUs written to `DIR/stock.csv`), and what the
//! run's orders moved in it, per marketplace, read back from the stock history.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use chrono::{DateTime, FixedOffset};
use comfy_table::Table;
use comfy_table::presets::UTF8_FULL_CONDENSED;
use ichigen_core::Marketplace;
use ichigen_core::pipeline::OrderStore;
use ichigen_core::stock::{BY_ORDERS, StockStore};
use serde::{Deserialize, Serialize};

use super::Summary;
use crate::commands::stock::load;

/// Who the demo's stock file is loaded as (the stock history's `who`).
const LOADED_BY: &str = "demo";

/// Units the run's orders moved in one marketplace's SKUs (or all).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Moved {
    /// Units newly reserved by open orders.
    pub reserved: i64,
    /// Reserved units given back by cancellations.
    pub released: i64,
    /// Units that left the shop (shipped).
    pub consumed: i64,
}

/// The stock after the run, as `ichigen stock list` shows it, and what the run moved.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StockSummary {
    /// Per marketplace.
    pub moved: BTreeMap<Marketplace, Moved>,
    /// All marketplaces.
    pub total: Moved,
    /// Shop SKUs.
    pub skus: usize,
    /// Units on hand, all SKUs.
    pub on_hand: i64,
    /// Units reserved by open orders, all SKUs.
    pub reserved: i64,
    /// SKUs with nothing left to sell (available 0 or less).
    pub sold_out: Vec<String>,
}

/// Loads `explicit`, or on a store without a stock master a sample stock file for `orders` orders
/// written to `DIR/stock.csv`; a store that has one keeps the counts earlier runs moved. The file
/// loaded, if any.
pub async fn load_for_run<S: StockStore + OrderStore>(
    store: &S,
    shop_id: &str,
    dir: &Path,
    explicit: Option<&Path>,
    orders: usize,
) -> anyhow::Result<Option<PathBuf>> {
    let path = match explicit {
        Some(path) => path.to_path_buf(),
        None if store.stocks(shop_id).await.context("reading the demo's stock")?.is_empty() => {
            let path = dir.join("stock.csv");
            super::write_atomically(&path, ichigen_core::sample::stock_file(orders).as_bytes())?;
            path
        }
        None => return Ok(None),
    };
    match load(store, shop_id, &path, LOADED_BY).await? {
        Ok(_) => Ok(Some(path)),
        Err(refused) => bail!("ichigen demo: --stock {refused}"),
    }
}

/// What the orders moved since `since` (this run), from each SKU's history, and the stock now.
pub async fn summary<S: StockStore>(
    store: &S,
    shop_id: &str,
    since: DateTime<FixedOffset>,
) -> anyhow::Result<StockSummary> {
    let stocks = store.stocks(shop_id).await.context("reading the demo's stock")?;
    let mut out = StockSummary {
        skus: stocks.len(),
        on_hand: stocks.iter().map(|s| s.on_hand).sum(),
        reserved: stocks.iter().map(|s| s.reserved).sum(),
        sold_out: stocks.iter().filter(|s| s.available() <= 0).map(|s| s.sku.clone()).collect(),
        ..StockSummary::default()
    };
    for m in crate::view::MARKETPLACES {
        out.moved.entry(m).or_default();
    }
    for s in &stocks {
        for c in store.changes(shop_id, &s.sku, usize::MAX).await.context("reading the stock history")? {
            let Some(order) = c.order.as_ref().filter(|_| c.who == BY_ORDERS && c.at >= since) else { continue };
            let m = out.moved.entry(order.marketplace).or_default();
            if c.on_hand < 0 {
                m.consumed -= c.on_hand;
            } else if c.reserved > 0 {
                m.reserved += c.reserved;
            } else {
                m.released -= c.reserved;
            }
        }
    }
    for m in out.moved.values() {
        out.total.reserved += m.reserved;
        out.total.released += m.released;
        out.total.consumed += m.consumed;
    }
    Ok(out)
}

/// The per-marketplace stock table of the summary.
pub fn table(summary: &Summary) -> Option<Table> {
    let stock = summary.stock.as_ref()?;
    let mut table = Table::new();
    // The pushed column only where the run pushed: a stock file with no marketplace columns
    // lists nothing, and a second run pushes only the numbers that changed (none, often).
    let any_pushed = summary.total.units_pushed > 0;
    let mut header = vec!["stock (units)", "reserved", "released by cancellation", "consumed by shipping"];
    if any_pushed {
        header.push("pushed to the marketplace");
    }
    table.load_preset(UTF8_FULL_CONDENSED).set_header(header);
    let line = |name: String, m: &Moved, pushed: i64| {
        let mut row = vec![name, m.reserved.to_string(), m.released.to_string(), m.consumed.to_string()];
        if any_pushed {
            row.push(pushed.to_string());
        }
        row
    };
    let pushed = |m: &Marketplace| summary.marketplaces.get(m).map_or(0, |r| r.units_pushed);
    let none = Moved::default();
    let marketplaces: std::collections::BTreeSet<&Marketplace> = stock
        .moved
        .keys()
        .chain(summary.marketplaces.iter().filter(|(_, r)| r.units_pushed > 0).map(|(m, _)| m))
        .collect();
    for m in marketplaces {
        let moved = stock.moved.get(m).unwrap_or(&none);
        table.add_row(line(format!("{} {m}", ichigen_core::pipeline::mail::marketplace_name(*m)), moved, pushed(m)));
    }
    table.add_row(line("total".to_string(), &stock.total, summary.total.units_pushed));
    super::tally::right(&mut table, 1);
    Some(table)
}
