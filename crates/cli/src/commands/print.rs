//! `ichigen print slips|picking`: an A4 PDF of 納品書 (one per parcel of the orders ready to
//! ship) or the picking list summed by SKU, for the filtered orders (the filters of `orders list`).
//! Printing slips marks their parcels 印刷済 (`docs/SHIPPING.md`); printing them again asks for
//! `--again`, like label data. The PDF is the shop's own paper: it holds buyer names and
//! addresses, never logged.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, ValueEnum};
use ichigen_core::Rules;
use ichigen_core::labels::NotReady;
use ichigen_core::labels::slips::{self, Prints};
use ichigen_core::pipeline::shipping::mark_slips_printed;
use ichigen_core::pipeline::{OrderKey, OrderStore, ShopDirectory, StoredOrder};

use crate::backend::{Backend, StoreArgs};
use crate::pdf;
use crate::view::{Filters, jst};

/// What to print.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PrintKind {
    /// 納品書: one per parcel (destination) of each order ready to ship; gift parcels without prices.
    Slips,
    /// Picking list: every SKU and options with its total quantity and the slips it goes into.
    Picking,
}

/// `ichigen print` options.
#[derive(Debug, Args)]
pub struct PrintArgs {
    /// slips (納品書) or picking (ピッキングリスト).
    #[arg(value_enum)]
    pub kind: PrintKind,
    /// Write the PDF here (default: slips.pdf or picking.pdf in the current folder).
    #[arg(long, short)]
    pub out: Option<PathBuf>,
    /// The font file to embed (TrueType/OpenType); IPAexゴシック from fonts-ipaexfont-gothic when left out.
    #[arg(long)]
    pub font: Option<PathBuf>,
    /// Slips again for parcels whose 納品書 was printed before.
    #[arg(long)]
    pub again: bool,
    /// Which orders.
    #[command(flatten)]
    pub filters: Filters,
    /// Where orders are kept.
    #[command(flatten)]
    pub store: StoreArgs,
}

/// Runs `ichigen print`.
pub fn run(args: &PrintArgs) -> anyhow::Result<ExitCode> {
    // The font first: without it nothing is read or marked.
    let font = pdf::load_font(args.font.as_deref())?;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async {
        match args.store.open_existing().await? {
            Backend::Local(local) => {
                let out = print(&local.store, args, &font).await;
                crate::backend::warn_skipped(&local.store);
                out
            }
            Backend::Aws(aws) => print(&aws.store, args, &font).await,
        }
    })
}

async fn print<S: OrderStore + ShopDirectory>(
    store: &S,
    args: &PrintArgs,
    font: &krilla::text::Font,
) -> anyhow::Result<ExitCode> {
    let shop_id = &args.store.shop;
    let shop = store
        .shop(shop_id)
        .await
        .context("reading the shop's settings")?
        .with_context(|| format!("ショップ {shop_id} の設定がありません(納品書の差出人欄に必要です)"))?;
    let rules = if shop.rules_toml.trim().is_empty() {
        Rules::default()
    } else {
        Rules::from_toml(&shop.rules_toml).context("reading the shop's rules")?
    };
    let mut orders = args.filters.load_boxes(store, shop_id).await?;
    if args.kind == PrintKind::Slips {
        held_back(&mut orders, args.again);
    }
    let prints = slips::prepare(&orders, &shop, &rules)?;
    let today = chrono::Utc::now().with_timezone(&jst()).date_naive();
    let (bytes, default_name) = match args.kind {
        PrintKind::Slips => (pdf::slips_pdf(&prints, font, today)?, "slips.pdf"),
        PrintKind::Picking => (pdf::picking_pdf(&prints, font, today)?, "picking.pdf"),
    };
    let path = args.out.clone().unwrap_or_else(|| PathBuf::from(default_name));
    write(&path, &bytes)?;
    if args.kind == PrintKind::Slips {
        mark(store, &prints).await?;
    }
    report(&prints, args.kind, &path, bytes.len());
    Ok(ExitCode::SUCCESS)
}

/// Writes the file whole (a temporary file renamed), so a failure never leaves half a PDF.
fn write(path: &std::path::Path, bytes: &[u8]) -> anyhow::Result<()> {
    let folder = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(std::path::Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(folder).with_context(|| format!("writing {}", path.display()))?;
    tmp.write_all(bytes).with_context(|| format!("writing {}", path.display()))?;
    tmp.persist(path).with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

/// Marks the printed slips' parcels 印刷済, once the file is written.
async fn mark<S: OrderStore>(store: &S, prints: &Prints) -> anyhow::Result<()> {
    let now = chrono::Utc::now().with_timezone(&jst());
    let mut by_order: BTreeMap<&OrderKey, Vec<usize>> = BTreeMap::new();
    for s in &prints.slips {
        by_order.entry(&s.order).or_default().push(s.destination.0);
    }
    for (key, destinations) in by_order {
        mark_slips_printed(store, key, &destinations, now)
            .await
            .with_context(|| format!("marking {}/{} 印刷済", key.marketplace, key.order_id))?;
    }
    Ok(())
}

/// Leaves out orders whose 納品書 was printed before (unless `again`), and says so.
fn held_back(orders: &mut Vec<StoredOrder>, again: bool) {
    if again {
        return;
    }
    let mut printed = Vec::new();
    orders.retain(|s| {
        let before = s.parcels.iter().any(|p| p.slip_printed.is_some());
        if before {
            printed.push(format!("{}/{}", s.order.marketplace, s.order.order_id));
        }
        !before
    });
    if !printed.is_empty() {
        eprintln!(
            "納品書を印刷済みの注文{}件は入れませんでした。もう一度印刷するには --again を付けてください: {}",
            printed.len(),
            printed.join(" ")
        );
    }
}

fn report(p: &Prints, kind: PrintKind, path: &std::path::Path, bytes: usize) {
    let orders = {
        let mut keys: Vec<_> = p.slips.iter().map(|s| &s.order).collect();
        keys.dedup();
        keys.len()
    };
    let what = match kind {
        PrintKind::Slips => format!("納品書 {}注文・{}個口", orders, p.slips.len()),
        PrintKind::Picking => {
            format!("ピッキングリスト {}品目({}注文・{}個口分)", p.picking.len(), orders, p.slips.len())
        }
    };
    eprintln!("{what}を {} に書きました({bytes}バイト)", path.display());
    if !p.not_ready.is_empty() {
        let count = |n: NotReady| p.not_ready.iter().filter(|(_, w)| *w == n).count();
        eprintln!(
            "出荷対象外で入れなかった注文: 保留中{}件、入金待ち{}件、発送済・キャンセル{}件、モール出荷{}件",
            count(NotReady::Held),
            count(NotReady::AwaitingPayment),
            count(NotReady::Closed),
            count(NotReady::ByMarketplace)
        );
    }
    for s in &p.skipped {
        eprintln!("入れなかった注文 {}/{}: {}", s.order.marketplace, s.order.order_id, s.error);
    }
}
