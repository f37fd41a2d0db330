//! `ichigen tracking import FILE`: tracking numbers (伝票番号) from a label program's issued-data
//! export (B2クラウド, e飛伝, ゆうパックプリントR) or a plain `order,carrier,number[,date]` CSV,
//! matched to the shop's parcels and recorded all together, or — when any row cannot be matched
//! or is invalid — not at all, with each such row named by its line (docs/SHIPPING.md).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use chrono::Utc;
use clap::{Subcommand, ValueEnum};
use ichigen_core::labels::Program;
use ichigen_core::labels::issued::{self, IssuedFormat};
use ichigen_core::pipeline::tracking::{ImportReport, import_tracking};
use ichigen_core::pipeline::{OrderStore, TrackingWrites};
use ichigen_core::stock::StockStore;

use crate::backend::{Backend, StoreArgs};
use crate::view::jst;

/// The file formats `tracking import` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TrackingFormat {
    /// ヤマト B2クラウド 発行済データ (お客様管理番号, 伝票番号).
    B2,
    /// 佐川 e飛伝 出荷実績 (お客様管理番号, お問い合せ送り状No; header required).
    Ehiden,
    /// 日本郵便 ゆうパックプリントR 発送履歴 (お客様側管理番号, お問い合わせ番号).
    Yupri,
    /// order,carrier,number[,date]: order = お客様管理番号, marketplace/order id, or order id.
    Plain,
}

impl TrackingFormat {
    fn issued(self) -> IssuedFormat {
        match self {
            TrackingFormat::B2 => IssuedFormat::Program(Program::B2),
            TrackingFormat::Ehiden => IssuedFormat::Program(Program::Ehiden),
            TrackingFormat::Yupri => IssuedFormat::Program(Program::Yupri),
            TrackingFormat::Plain => IssuedFormat::Plain,
        }
    }
}

/// `ichigen tracking` subcommands.
#[derive(Debug, Subcommand)]
pub enum TrackingCommand {
    /// Import tracking numbers from a file: all rows or none. Each recorded number makes its
    /// parcel 出荷済 and is registered on the marketplace by the pair's next pull.
    Import {
        /// The file (UTF-8 or Shift_JIS).
        file: PathBuf,
        /// The file's format; when left out, told from a suffix of the file name
        /// (`….b2.csv`, `.ehiden.`, `.yupri.`, `.plain.`), else from the header or the first row.
        #[arg(long, value_enum)]
        format: Option<TrackingFormat>,
    },
}

/// Runs a `tracking` subcommand.
pub fn run(store_args: &StoreArgs, command: &TrackingCommand) -> anyhow::Result<ExitCode> {
    let TrackingCommand::Import { file, format } = command;
    let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let named = file.file_name().and_then(|n| n.to_str()).and_then(IssuedFormat::from_file_name);
    let (format, rows, problems) = match issued::read(&bytes, format.map(TrackingFormat::issued).or(named)) {
        Ok(read) => read,
        Err(e) => {
            eprintln!("ichigen tracking import: {}: {e}。何も登録していません", file.display());
            return Ok(ExitCode::from(1));
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let report = runtime.block_on(async {
        match store_args.open_existing().await? {
            Backend::Local(local) => {
                let out = import(&local.store, &store_args.shop, &rows, problems).await;
                crate::backend::warn_skipped(&local.store);
                out
            }
            Backend::Aws(aws) => import(&aws.store, &store_args.shop, &rows, problems).await,
        }
    })?;
    Ok(tell(&report, format, file))
}

async fn import<S: OrderStore + TrackingWrites + StockStore>(
    store: &S,
    shop: &str,
    rows: &[issued::IssuedRow],
    problems: Vec<issued::RowProblem>,
) -> anyhow::Result<ImportReport> {
    let now = Utc::now().with_timezone(&jst());
    import_tracking(store, store, shop, rows, problems, now).await.context("recording tracking numbers")
}

/// Tells staff what happened (stderr, Japanese); the exit code (1 when nothing was applied).
fn tell(report: &ImportReport, format: IssuedFormat, file: &std::path::Path) -> ExitCode {
    if !report.applied {
        for p in &report.problems {
            eprintln!("{}行目: {}", p.line, p.reason);
        }
        eprintln!(
            "{}({})の{}行を照合できないか正しくないため、どの伝票番号も登録していません。直してからもう一度取り込んでください",
            file.display(),
            format.name(),
            report.problems.len()
        );
        return ExitCode::from(1);
    }
    println!(
        "{}({}): {}件を出荷済にしました(モールへの登録は次回の受注取り込み時)。登録済みで変更なし{}件",
        file.display(),
        format.name(),
        report.shipped(),
        report.unchanged()
    );
    ExitCode::SUCCESS
}
