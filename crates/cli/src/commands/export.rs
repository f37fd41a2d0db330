//! `ichigen export --format csv`: the filtered orders as one CSV row per item line, for Excel and
//! for packing: UTF-8 with a byte order mark (so Excel reads the Japanese as UTF-8), CRLF line ends,
//! Japanese headers (`ichigen_core::export::COLUMNS`; the README documents each).
//!
//! `--format b2|ehiden|yupri`: the label data of the carriers' programs, one row per parcel, as
//! `ichigen_core::labels` writes it; this file only loads the orders and the shop's settings and
//! reports what was left out (`docs/LABELS.md`).
//!
//! It holds what a shop needs to ship (destination name, address, phone): the shop's own data
//! going to the shop's own file. Nothing of it is logged. Every cell goes through
//! [`spreadsheet::cell`]: buyer text that starts like a formula is written as text.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use chrono::NaiveDate;
use clap::{Args, ValueEnum};
use ichigen_core::Rules;
use ichigen_core::export::write_csv;
use ichigen_core::labels::{self, Exported, LabelOptions, NotReady, Program};
use ichigen_core::pipeline::shipping::mark_printed;
use ichigen_core::pipeline::{OrderKey, OrderStore, ShopDirectory, StoredOrder};

use crate::backend::{Backend, StoreArgs};
use crate::view::{Filters, jst};

/// Export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// Excel-ready CSV, one row per item line.
    Csv,
    /// ヤマト運輸 B2クラウド (外部データから発行): one row per parcel, Shift_JIS.
    B2,
    /// 佐川急便 e飛伝Ⅲ (標準_飛脚宅急便_CSV_ヘッダ有り): one row per parcel, Shift_JIS.
    Ehiden,
    /// 日本郵便 ゆうパックプリントR (郵便・ゆうパック標準取込): one row per parcel, Shift_JIS.
    Yupri,
}

impl ExportFormat {
    /// The label program of a label format.
    fn program(self) -> Option<Program> {
        match self {
            ExportFormat::Csv => None,
            ExportFormat::B2 => Some(Program::B2),
            ExportFormat::Ehiden => Some(Program::Ehiden),
            ExportFormat::Yupri => Some(Program::Yupri),
        }
    }
}

/// `ichigen export` options.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The file format.
    #[arg(long, value_enum, default_value = "csv")]
    pub format: ExportFormat,
    /// Write here instead of to standard output.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
    /// 出荷予定日 of label data (b2, ehiden, yupri), e.g. 2026-12-01; today (JST) when left out.
    #[arg(long)]
    pub ship_date: Option<NaiveDate>,
    /// Label data again for parcels exported before (印刷済); parcels with a tracking number never.
    #[arg(long)]
    pub again: bool,
    /// Which orders.
    #[command(flatten)]
    pub filters: Filters,
    /// Where orders are kept.
    #[command(flatten)]
    pub store: StoreArgs,
}

/// Runs `ichigen export`.
pub fn run(args: &ExportArgs) -> anyhow::Result<ExitCode> {
    if let Some(program) = args.format.program() {
        return run_labels(args, program);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async {
        let orders = match args.store.open_existing().await? {
            Backend::Local(local) => {
                let orders = load(&local.store, args).await?;
                crate::backend::warn_skipped(&local.store);
                orders
            }
            Backend::Aws(aws) => load(&aws.store, args).await?,
        };
        match &args.output {
            None => {
                let stdout = std::io::stdout();
                write_csv(&orders, stdout.lock())?;
            }
            Some(path) => {
                let rows = write_file(&orders, path)?;
                eprintln!("exported {rows} item lines of {} orders to {}", orders.len(), path.display());
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}

/// `--format b2|ehiden|yupri`: exit 0 when every order ready to ship is in the file, 1 when some
/// had to be left out (listed on stderr by id and field, never by content).
fn run_labels(args: &ExportArgs, program: Program) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let ship_date = args.ship_date.unwrap_or_else(|| chrono::Utc::now().with_timezone(&jst()).date_naive());
    let exported = runtime.block_on(async {
        match args.store.open_existing().await? {
            Backend::Local(local) => {
                let out = labels_of(&local.store, args, program, ship_date).await;
                crate::backend::warn_skipped(&local.store);
                out
            }
            Backend::Aws(aws) => labels_of(&aws.store, args, program, ship_date).await,
        }
    })?;
    Ok(report(&exported, args.output.as_deref()))
}

/// Writes the file, then marks its parcels 印刷済 (a file that could not be written marks nothing).
async fn write_and_mark<S: OrderStore>(store: &S, args: &ExportArgs, exported: &Exported) -> anyhow::Result<()> {
    match &args.output {
        None => {
            let mut stdout = std::io::stdout().lock();
            stdout.write_all(&exported.bytes)?;
            stdout.flush()?;
        }
        Some(path) => {
            std::fs::write(path, &exported.bytes).with_context(|| format!("writing {}", path.display()))?;
        }
    }
    let now = chrono::Utc::now().with_timezone(&jst());
    let mut by_order: BTreeMap<&OrderKey, Vec<usize>> = BTreeMap::new();
    for l in &exported.labelled {
        by_order.entry(&l.order).or_default().push(l.destination);
    }
    for (key, destinations) in by_order {
        mark_printed(store, key, &destinations, exported.program.name(), now)
            .await
            .with_context(|| format!("marking {}/{} 印刷済", key.marketplace, key.order_id))?;
    }
    Ok(())
}

async fn labels_of<S: OrderStore + ShopDirectory>(
    store: &S,
    args: &ExportArgs,
    program: Program,
    ship_date: NaiveDate,
) -> anyhow::Result<Exported> {
    let shop_id = &args.store.shop;
    let shop = store
        .shop(shop_id)
        .await
        .context("reading the shop's settings")?
        .with_context(|| format!("no settings for shop {shop_id}: the ご依頼主 block comes from them"))?;
    let rules = if shop.rules_toml.trim().is_empty() {
        Rules::default()
    } else {
        Rules::from_toml(&shop.rules_toml).context("reading the shop's rules")?
    };
    let mut orders = args.filters.load_boxes(store, &args.store.shop).await?;
    held_back(&mut orders, args.again);
    let exported = labels::export(program, &orders, &shop, &rules, &LabelOptions { ship_date })?;
    // 印刷済 once the file is written: a second export asks for --again.
    write_and_mark(store, args, &exported).await?;
    Ok(exported)
}

/// Leaves out the orders one of whose parcels has label data already (unless `again`) or a
/// tracking number (always), and says so on stderr: no parcel gets two labels by accident.
fn held_back(orders: &mut Vec<StoredOrder>, again: bool) {
    let mut printed = Vec::new();
    let mut shipped = Vec::new();
    orders.retain(|s| {
        if s.parcels.iter().any(|p| p.tracking.is_some()) {
            shipped.push(format!("{}/{}", s.order.marketplace, s.order.order_id));
            false
        } else if !again && s.parcels.iter().any(|p| p.printed.is_some()) {
            printed.push(format!("{}/{}", s.order.marketplace, s.order.order_id));
            false
        } else {
            true
        }
    });
    if !printed.is_empty() {
        eprintln!(
            "印刷済(送り状データを書き出し済み)の注文{}件は書き出しませんでした。もう一度書き出すには --again を付けてください: {}",
            printed.len(),
            printed.join(" ")
        );
    }
    if !shipped.is_empty() {
        eprintln!("伝票番号が登録済みの注文{}件は書き出しませんでした: {}", shipped.len(), shipped.join(" "));
    }
}

/// Tells staff on stderr what went into the file and what did not; the exit code.
fn report(e: &Exported, path: Option<&Path>) -> ExitCode {
    let orders = {
        let mut keys: Vec<_> = e.labelled.iter().map(|l| &l.order).collect();
        keys.dedup();
        keys.len()
    };
    let to = path.map_or_else(|| "標準出力".to_string(), |p| p.display().to_string());
    eprintln!(
        "{}: {}注文・{}個口の送り状データを {to} に書きました(Shift_JIS)",
        e.program.name(),
        orders,
        e.labelled.len()
    );
    if !e.not_ready.is_empty() {
        let count = |n: NotReady| e.not_ready.iter().filter(|(_, w)| *w == n).count();
        eprintln!(
            "出荷対象外で書き出さなかった注文: 保留中{}件、入金待ち{}件、発送済・キャンセル{}件、モール出荷{}件",
            count(NotReady::Held),
            count(NotReady::AwaitingPayment),
            count(NotReady::Closed),
            count(NotReady::ByMarketplace)
        );
    }
    for s in &e.skipped {
        let destination = s.destination.map(|d| format!(" 送付先{d}")).unwrap_or_default();
        eprintln!("書き出せなかった注文 {}/{}{destination}: {}", s.order.marketplace, s.order.order_id, s.error);
    }
    if e.skipped.is_empty() {
        ExitCode::SUCCESS
    } else {
        eprintln!("{}件の注文を書き出せませんでした。内容を直すか、別の運送会社で出してください", e.skipped.len());
        ExitCode::from(1)
    }
}

async fn load<S: OrderStore>(store: &S, args: &ExportArgs) -> anyhow::Result<Vec<StoredOrder>> {
    args.filters.load(store, &args.store.shop).await
}

fn write_file(orders: &[StoredOrder], path: &Path) -> anyhow::Result<usize> {
    let file = std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?;
    let mut writer = std::io::BufWriter::new(file);
    let rows = write_csv(orders, &mut writer)?;
    writer.flush().with_context(|| format!("writing {}", path.display()))?;
    Ok(rows)
}
