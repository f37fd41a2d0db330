//! `ichigen stock list|load|set|adjust|map|history`: the shop's stock master (在庫) — one
//! on-hand count per shop SKU, what each marketplace item takes of it, and every change with who
//! and why. Runs on the embedded store (`--dir`) or the DynamoDB table (`--aws-endpoint`, `--aws`).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use chrono::Utc;
use clap::Subcommand;
use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{CellAlignment, Table};
use ichigen_core::Marketplace;
use ichigen_core::pipeline::{DecideError, OrderStore, accept_drift, force_push, holdings};
use ichigen_core::stock::file::{self, StockFileError};
use ichigen_core::stock::{Count, Edit, Listing, Part, StockStore};

use crate::backend::{Backend, StoreArgs};
use crate::view::{jst, jst_minutes};

/// `ichigen stock` subcommands.
#[derive(Debug, Subcommand)]
pub enum StockCommand {
    /// Every SKU: on hand, reserved by open orders, available.
    List,
    /// Load a stock file (CSV, UTF-8 or Shift_JIS): `SKU,商品名,在庫数` and optionally one column
    /// per marketplace naming its item (楽天, Yahoo, Amazon, auPAY, Qoo10). Each row sets its SKU's
    /// count; nothing is applied when a row is wrong.
    Load {
        /// The file.
        file: PathBuf,
        /// Who is loading it (recorded with each change).
        #[arg(long, default_value = "staff")]
        by: String,
    },
    /// Set a SKU's on-hand count (a stocktake).
    Set {
        /// The shop SKU.
        sku: String,
        /// Units on hand.
        units: i64,
        /// Why (recorded).
        #[arg(long)]
        why: String,
        /// Who (recorded).
        #[arg(long, default_value = "staff")]
        by: String,
    },
    /// Add to (or, negative, take from) a SKU's on-hand count: a delivery in, a breakage out.
    Adjust {
        /// The shop SKU.
        sku: String,
        /// Units to add; negative to take.
        #[arg(allow_hyphen_values = true)]
        units: i64,
        /// Why (recorded).
        #[arg(long)]
        why: String,
        /// Who (recorded).
        #[arg(long, default_value = "staff")]
        by: String,
    },
    /// Say what a marketplace item takes of the shop's SKUs: `SKU` (one unit), or a set as
    /// `SKU*2 OTHER*1`.
    Map {
        /// rakuten, yahoo, amazon, aupay or qoo10.
        marketplace: Marketplace,
        /// The item's identity there (as in its order lines).
        item: String,
        /// The parts: `SKU` or `SKU*UNITS`.
        #[arg(required = true)]
        parts: Vec<String>,
    },
    /// Adopt a marketplace's number for an item whose number ichigen reported as changed in the
    /// mall's back office: the SKUs' on-hand counts move by the difference (recorded), and
    /// pushing the item resumes.
    Accept {
        /// rakuten, yahoo, amazon, aupay or qoo10.
        marketplace: Marketplace,
        /// The item's identity there.
        item: String,
        /// Who (recorded).
        #[arg(long, default_value = "staff")]
        by: String,
    },
    /// Overwrite a marketplace's number for an item reported as changed in the mall's back
    /// office with ichigen's, on the pair's next run (`--force` is required).
    Push {
        /// Overwrite the mall's number.
        #[arg(long, required = true)]
        force: bool,
        /// rakuten, yahoo, amazon, aupay or qoo10.
        marketplace: Marketplace,
        /// The item's identity there.
        item: String,
    },
    /// A SKU's changes, newest first.
    History {
        /// The shop SKU.
        sku: String,
        /// How many.
        #[arg(long, default_value_t = 20)]
        limit: usize,
    },
}

/// Runs a `stock` subcommand.
pub fn run(store_args: &StoreArgs, command: &StockCommand) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async {
        match store_args.open_existing().await? {
            Backend::Local(local) => dispatch(&local.store, &store_args.shop, command).await,
            Backend::Aws(aws) => dispatch(&aws.store, &store_args.shop, command).await,
        }
    })
}

fn parse_part(text: &str) -> anyhow::Result<Part> {
    let (sku, units) = match text.rsplit_once('*') {
        Some((sku, n)) => (sku, n.trim().parse::<u32>().ok().filter(|n| *n > 0)),
        None => (text, Some(1)),
    };
    match (sku.trim(), units) {
        ("", _) | (_, None) => bail!("{text:?}: a part is SKU or SKU*UNITS (units 1 or more)"),
        (sku, Some(units)) => Ok(Part { sku: sku.to_string(), units }),
    }
}

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

/// Loads a stock file as `ichigen stock load` does: every row checked first, then each SKU's count
/// set (a stocktake, recorded as made by `by`) and its listings stored. `Ok(Err(why))`: the file
/// was refused and nothing applied (`why` in Japanese, naming the bad lines).
pub async fn load<S: StockStore + OrderStore>(
    store: &S,
    shop: &str,
    path: &Path,
    by: &str,
) -> anyhow::Result<Result<Loaded, String>> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let rows = match file::read(&bytes) {
        Ok(rows) => rows,
        Err(e @ (StockFileError::Rows(_) | StockFileError::Header | StockFileError::Encoding(_))) => {
            return Ok(Err(format!("{}: 何も反映していません\n{e}", path.display())));
        }
    };
    let why = format!("在庫ファイル {}", path.file_name().map(|n| n.to_string_lossy()).unwrap_or_default());
    let edit = Edit { who: by, why: &why, at: Utc::now().with_timezone(&jst()) };
    let mut listings = 0;
    for row in &rows {
        store
            .count(shop, &row.sku, row.name.as_deref(), Count::Set(row.on_hand), &edit)
            .await
            .with_context(|| format!("setting {}", row.sku))?;
        for l in &row.listings {
            store.put_listing(shop, l).await.context("recording a listing")?;
            listings += 1;
        }
    }
    // Orders stored before the master (or before these listings) hold their units now, not
    // when the processor next stores them: until then they would be pushed to the malls as free.
    let held = holdings::settle_open(store, store, shop, edit.at).await.context("holding the open orders")?;
    Ok(Ok(Loaded { skus: rows.len(), listings, held }))
}

async fn dispatch<S: StockStore + OrderStore>(
    store: &S,
    shop: &str,
    command: &StockCommand,
) -> anyhow::Result<ExitCode> {
    let now = Utc::now().with_timezone(&jst());
    match command {
        StockCommand::List => {
            let stocks = store.stocks(shop).await.context("reading the stock")?;
            let mut table = Table::new();
            table.load_preset(UTF8_FULL_CONDENSED).set_header(["SKU", "商品名", "在庫数", "引当", "販売可能"]);
            for s in &stocks {
                table.add_row(vec![
                    s.sku.clone(),
                    s.name.clone(),
                    s.on_hand.to_string(),
                    s.reserved.to_string(),
                    s.available().to_string(),
                ]);
            }
            for col in 2..5 {
                if let Some(c) = table.column_mut(col) {
                    c.set_cell_alignment(CellAlignment::Right);
                }
            }
            println!("{table}");
            let oversold: Vec<&str> = stocks.iter().filter(|s| s.available() < 0).map(|s| s.sku.as_str()).collect();
            if !oversold.is_empty() {
                println!("販売可能数がマイナスです(売り越し): {}", oversold.join(", "));
            }
            Ok(ExitCode::SUCCESS)
        }
        StockCommand::Load { file: path, by } => match load(store, shop, path, by).await? {
            Ok(loaded) => {
                println!("{}件のSKUの在庫数と{}件のモール商品の対応を反映しました", loaded.skus, loaded.listings);
                if loaded.held > 0 {
                    println!("保存済みの未発送注文{}件の引当を反映しました", loaded.held);
                }
                Ok(ExitCode::SUCCESS)
            }
            Err(refused) => {
                eprintln!("ichigen stock load: {refused}");
                Ok(ExitCode::from(1))
            }
        },
        StockCommand::Set { sku, units, why, by } | StockCommand::Adjust { sku, units, why, by } => {
            let count = if matches!(command, StockCommand::Set { .. }) {
                if *units < 0 {
                    bail!("在庫数は0以上で指定してください");
                }
                Count::Set(*units)
            } else {
                Count::Adjust(*units)
            };
            let s = store.count(shop, sku, None, count, &Edit { who: by, why, at: now }).await.context("counting")?;
            println!("{}: 在庫数 {}、引当 {}、販売可能 {}", s.sku, s.on_hand, s.reserved, s.available());
            Ok(ExitCode::SUCCESS)
        }
        StockCommand::Accept { marketplace, item, by } => {
            match accept_drift(store, shop, *marketplace, item, by, now).await {
                Ok(diff) => {
                    println!("{marketplace} {item}: モールの在庫数を採用しました(在庫数 {diff:+} 個分)");
                    Ok(ExitCode::SUCCESS)
                }
                Err(e @ (DecideError::NoDrift { .. } | DecideError::NotListed { .. })) => {
                    eprintln!("ichigen stock accept: {e}");
                    Ok(ExitCode::from(1))
                }
                Err(e) => Err(e).context("accepting the mall's number"),
            }
        }
        StockCommand::Push { force: _, marketplace, item } => {
            force_push(store, shop, *marketplace, item, now).await.context("marking the item to overwrite")?;
            println!("{marketplace} {item}: 次回の取込のあとで ichigen の在庫数で上書きします");
            Ok(ExitCode::SUCCESS)
        }
        StockCommand::Map { marketplace, item, parts } => {
            let parts = parts.iter().map(|p| parse_part(p)).collect::<anyhow::Result<Vec<_>>>()?;
            let known: Vec<String> =
                store.stocks(shop).await.context("reading the stock")?.into_iter().map(|s| s.sku).collect();
            if let Some(p) = parts.iter().find(|p| !known.contains(&p.sku)) {
                eprintln!(
                    "ichigen stock map: SKU {} は在庫マスタにありません(先に ichigen stock set で登録してください)",
                    p.sku
                );
                return Ok(ExitCode::from(1));
            }
            let shown: Vec<String> = parts.iter().map(|p| format!("{}×{}", p.sku, p.units)).collect();
            store
                .put_listing(shop, &Listing { marketplace: *marketplace, item: item.clone(), parts })
                .await
                .context("recording the listing")?;
            println!("{marketplace} の商品 {item} は 1点あたり {} を使います", shown.join(" + "));
            Ok(ExitCode::SUCCESS)
        }
        StockCommand::History { sku, limit } => {
            let mut table = Table::new();
            table.load_preset(UTF8_FULL_CONDENSED).set_header(["日時", "在庫数", "引当", "誰が", "理由", "注文"]);
            for c in store.changes(shop, sku, *limit).await.context("reading the history")? {
                table.add_row(vec![
                    jst_minutes(c.at),
                    format!("{:+}", c.on_hand),
                    format!("{:+}", c.reserved),
                    c.who,
                    c.why,
                    c.order.map(|k| format!("{}/{}", k.marketplace, k.order_id)).unwrap_or_default(),
                ]);
            }
            println!("{table}");
            Ok(ExitCode::SUCCESS)
        }
    }
}
