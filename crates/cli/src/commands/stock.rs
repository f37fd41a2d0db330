//! `ichigen stock list|load|set|adjust|map|history`: the shop's stock master (在庫) — one
//! on-hand count per shop SKU, what each marketplace item takes of it, and every change with who
//! and why. Runs on the embedded store (`--dir`) or the DynamoDB table (`--aws-endpoint`, `--aws`).
//! The loads, counts and mappings are `pipeline::stock_staff`'s, which the console's 在庫 page
//! calls too.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use chrono::Utc;
use clap::Subcommand;
use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{CellAlignment, Table};
use ichigen_core::Marketplace;
use ichigen_core::pipeline::stock_staff::{self, EditError, LoadError, Loaded};
use ichigen_core::pipeline::{DecideError, OrderStore, accept_drift, force_push};
use ichigen_core::stock::{Count, Edit, MALLS, StockStore, mall_column};

use crate::backend::{Backend, StoreArgs};
use crate::view::{jst, jst_minutes};

/// `ichigen stock` subcommands.
#[derive(Debug, Subcommand)]
pub enum StockCommand {
    /// Every SKU: on hand, reserved by open orders, available, and the units allotted to each
    /// mall's items (楽天 Yahoo Amazon au PAY Qoo10) and to none (調整中).
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

/// Loads a stock file as `ichigen stock load` does (`pipeline::stock_staff::load`: every row
/// checked first, then the counts, the listings and the open orders' holdings). `Ok(Err(why))`:
/// the file was refused and nothing applied (`why` in Japanese, naming the bad lines).
pub async fn load<S: StockStore + OrderStore>(
    store: &S,
    shop: &str,
    path: &Path,
    by: &str,
) -> anyhow::Result<Result<Loaded, String>> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    match stock_staff::load(store, shop, &bytes, &name, by, Utc::now().with_timezone(&jst())).await {
        Ok(loaded) => Ok(Ok(loaded)),
        Err(LoadError::Refused { why, .. }) => Ok(Err(format!("{}: 何も反映していません\n{why}", path.display()))),
        Err(LoadError::Port(e)) => Err(e).context("loading the stock file"),
    }
}

/// The `ichigen stock list` table: the counts and, per mall, the units allotted to its items
/// (`Stock::allotted_by_marketplace`, as the console's 在庫 page shows them).
fn list_table(stocks: &[ichigen_core::stock::Stock]) -> Table {
    let mut header: Vec<&str> = vec!["SKU", "商品名", "在庫数", "引当", "販売可能"];
    header.extend(MALLS.iter().map(|m| mall_column(*m)));
    header.push("調整中");
    let mut table = Table::new();
    table.load_preset(UTF8_FULL_CONDENSED).set_header(header);
    for s in stocks {
        let allotted = s.allotted_by_marketplace();
        let mut row = vec![
            s.sku.clone(),
            s.name.clone(),
            s.on_hand.to_string(),
            s.reserved.to_string(),
            s.available().to_string(),
        ];
        row.extend(allotted.by_mall.iter().map(i64::to_string));
        row.push(allotted.apart.to_string());
        table.add_row(row);
    }
    for col in 2..11 {
        if let Some(c) = table.column_mut(col) {
            c.set_cell_alignment(CellAlignment::Right);
        }
    }
    table
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
            println!("{}", list_table(&stocks));
            println!(
                "楽天〜Qoo10: 各モールの商品に割り当てた個数(そのモールで売れる数)。調整中: どの商品にも割り当てていない個数(反映待ちの減少分・モールの数の確認中)"
            );
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
            let count =
                if matches!(command, StockCommand::Set { .. }) { Count::Set(*units) } else { Count::Adjust(*units) };
            match stock_staff::count(store, shop, sku, count, &Edit { who: by, why, at: now }).await {
                Ok(s) => {
                    println!("{}: 在庫数 {}、引当 {}、販売可能 {}", s.sku, s.on_hand, s.reserved, s.available());
                    Ok(ExitCode::SUCCESS)
                }
                Err(EditError::Port(e)) => Err(e).context("counting"),
                Err(refused) => {
                    eprintln!("ichigen stock: {refused}");
                    Ok(ExitCode::from(1))
                }
            }
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
            let parts: Vec<&str> = parts.iter().map(String::as_str).collect();
            match stock_staff::map_item(store, shop, *marketplace, item, &parts).await {
                Ok(listing) => {
                    println!(
                        "{marketplace} の商品 {item} は 1点あたり {} を使います",
                        stock_staff::parts_text(&listing)
                    );
                    Ok(ExitCode::SUCCESS)
                }
                Err(EditError::Port(e)) => Err(e).context("recording the listing"),
                Err(refused) => {
                    eprintln!("ichigen stock map: {refused}");
                    Ok(ExitCode::from(1))
                }
            }
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
