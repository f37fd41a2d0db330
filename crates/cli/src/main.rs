//! `ichigen`: unified order handling for Japanese marketplaces, from the command line.

mod backend;
mod commands;
mod input;
mod pdf;
mod relay;
mod view;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "ichigen",
    version,
    about = "受注一元管理: check, store and mail orders from every Japanese marketplace"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// The whole pipeline on this machine: sandbox marketplaces → pull → check → store → mail.
    ///
    /// Starts the five sandbox marketplaces with seeded orders, pulls, checks, stores and mails
    /// them, prints a summary per marketplace and writes DIR/orders.jsonl and DIR/outbox/*.eml.
    /// Run it again on the same DIR: it pulls only what changed and sends no mail twice.
    Demo(commands::demo::DemoArgs),
    /// The staff console in a browser, on this machine's store (127.0.0.1 only, one-time login URL).
    ///
    /// 受注一覧, 受注詳細 (release, hold, destination, tracking number), ブラックリスト, ルール with a
    /// simulation, メールテンプレート with a preview, 出力・取込, 監査ログ. docs/CONSOLE.md.
    Console(commands::console::ConsoleArgs),
    /// Stored orders of every marketplace: list, show, release, hold, ship.
    Orders {
        /// Where orders are kept.
        #[command(flatten)]
        store: backend::StoreArgs,
        #[command(subcommand)]
        command: commands::orders::OrdersCommand,
    },
    /// Tracking numbers in: import a label program's issued-data file or a plain CSV.
    Tracking {
        /// Where orders are kept.
        #[command(flatten)]
        store: backend::StoreArgs,
        #[command(subcommand)]
        command: commands::tracking::TrackingCommand,
    },
    /// The shop's stock (在庫): on hand per SKU, what each marketplace item takes, the history.
    Stock {
        /// Where the stock is kept.
        #[command(flatten)]
        store: backend::StoreArgs,
        #[command(subcommand)]
        command: commands::stock::StockCommand,
    },
    /// The shop's blacklist: add, remove, list.
    Blacklist {
        /// Where the blacklist is kept.
        #[command(flatten)]
        store: backend::StoreArgs,
        #[command(subcommand)]
        command: commands::blacklist::BlacklistCommand,
    },
    /// Buyer mail: bounces and complaints by order, marketplace relay settings, mails waiting for a relay.
    Mail {
        /// Where orders are kept.
        #[command(flatten)]
        store: backend::StoreArgs,
        #[command(subcommand)]
        command: commands::mail::MailCommand,
    },
    /// Messages the embedded queues gave up on: list them, put them back once fixed.
    DeadLetters {
        /// Where orders are kept.
        #[command(flatten)]
        store: backend::StoreArgs,
        #[command(subcommand)]
        command: commands::dead_letters::DeadLettersCommand,
    },
    /// The shop's own settings: mail templates, contact block, payment-received mail.
    ///
    /// Works on the embedded store (--dir) or AWS (--aws, --aws-endpoint); Terraform never
    /// overwrites what is set here.
    Shop {
        /// Where the shop's settings are kept.
        #[command(flatten)]
        store: backend::StoreArgs,
        #[command(subcommand)]
        command: commands::shop::ShopCommand,
    },
    /// Export stored orders: CSV for Excel, or label data for B2クラウド, e飛伝Ⅲ, ゆうパックプリントR.
    ///
    /// `--format csv` (default): one row per item line, UTF-8 with a byte order mark, CRLF; the
    /// columns are listed in the README. `--format b2|ehiden|yupri`: one row per parcel of the
    /// orders ready to ship, Shift_JIS, as the program imports it (docs/LABELS.md); orders it
    /// cannot take are named on stderr and the exit code is 1. The same filters as `orders list`.
    Export(commands::export::ExportArgs),
    /// Print 納品書 (one per parcel) or the picking list (summed by SKU) as an A4 PDF.
    ///
    /// The orders ready to ship among those the filters of `orders list` select. Japanese text
    /// in IPAexゴシック (Debian fonts-ipaexfont-gothic, IPA Font License), embedded as a subset.
    /// Printing slips marks their parcels 印刷済; printing them again needs --again.
    Print(commands::print::PrintArgs),
    /// Check canonical orders (JSON lines or one JSON array) and print one JSON line per order.
    Check {
        /// Shop rules (TOML); built-in defaults when left out. See rules.example.toml.
        #[arg(long)]
        rules: Option<PathBuf>,
        /// Orders file, or `-` for standard input.
        #[arg(default_value = "-")]
        file: PathBuf,
    },
    /// Print the prefecture, city and town(s) of a postal code as JSON (exit 1 when unknown).
    Postal {
        /// Seven digits; 〒, hyphens and full-width digits are fine.
        code: String,
    },
    /// Turn marketplace API response bodies (as the API returned them) into canonical Orders.
    Normalize {
        /// rakuten (getOrder JSON), yahoo (orderInfo XML), amazon (Orders API v2026-01-01
        /// searchOrders/getOrder JSON, joined by order id), aupay (searchTradeInfoListProc
        /// XML) or qoo10 (GetShippingInfo JSON).
        #[arg(long)]
        marketplace: ichigen_core::Marketplace,
        /// Shop the orders belong to.
        #[arg(long, default_value = "default")]
        shop: String,
        /// Response bodies, one per file.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Run one marketplace's API emulator on 127.0.0.1 with seeded orders, until Ctrl-C.
    Sandbox {
        /// rakuten, yahoo, amazon, aupay or qoo10.
        #[arg(long)]
        marketplace: ichigen_core::Marketplace,
        /// Port on 127.0.0.1 (0 = any free port).
        #[arg(long, default_value_t = 0)]
        port: u16,
        /// Number of seeded orders.
        #[arg(long, default_value_t = 200)]
        orders: usize,
        /// Generator seed: the same seed gives the same orders.
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Demo(args) => commands::demo::run(&args),
        Command::Console(args) => commands::console::run(&args),
        Command::Orders { store, command } => commands::orders::run(&store, &command),
        Command::Tracking { store, command } => commands::tracking::run(&store, &command),
        Command::Blacklist { store, command } => commands::blacklist::run(&store, &command),
        Command::Stock { store, command } => commands::stock::run(&store, &command),
        Command::Shop { store, command } => commands::shop::run(&store, &command),
        Command::Mail { store, command } => commands::mail::run(&store, &command),
        Command::DeadLetters { store, command } => commands::dead_letters::run(&store, &command),
        Command::Export(args) => commands::export::run(&args),
        Command::Print(args) => commands::print::run(&args),
        Command::Check { rules, file } => commands::check::run(rules.as_deref(), &file),
        Command::Postal { code } => commands::postal::run(&code),
        Command::Normalize { marketplace, shop, files } => commands::normalize::run(marketplace, &shop, &files),
        Command::Sandbox { marketplace, port, orders, seed } => commands::sandbox::run(marketplace, port, orders, seed),
    };
    match result {
        Ok(code) => code,
        // The reader went away (`ichigen orders list | head`): what it wanted was written.
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ichigen: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// Whether `e` is, somewhere in its chain, a write to a closed pipe.
fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            || c.downcast_ref::<csv::Error>().is_some_and(
                |c| matches!(c.kind(), csv::ErrorKind::Io(io) if io.kind() == std::io::ErrorKind::BrokenPipe),
            )
    })
}
