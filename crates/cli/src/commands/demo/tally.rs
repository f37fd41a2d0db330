//! What a demo run did, per marketplace: counted as the use cases report it, printed as tables and
//! written as `summary.json`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{CellAlignment, Table};
use ichigen_core::pipeline::{Change, MailKind, Notified, Processed, PullReport};
use ichigen_core::{FindingCode, Marketplace, OrderStatus};
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use serde::{Deserialize, Serialize};

use crate::view::MARKETPLACES;

/// Counts of one marketplace (or of all).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Row {
    /// Orders the puller read from the marketplace's changed-orders search and queued (a re-run
    /// reads its overlap again).
    pub pulled: usize,
    /// Stored open orders (or orders left out earlier) read again by id and queued, to catch
    /// changes the marketplace's search cannot show.
    pub reread: usize,
    /// Orders the marketplace sent that could not be read (kept in the quarantine).
    pub quarantined: usize,
    /// Orders stored for the first time, or stored again because the marketplace changed them.
    pub new_or_changed: usize,
    /// Orders read again unchanged (or older than the stored one): nothing to do.
    pub unchanged: usize,
    /// New or changed orders that are not held.
    pub clean: usize,
    /// New or changed orders that are held.
    pub held: usize,
    /// Held orders per hold finding code (an order held for two reasons counts under both).
    pub held_by: BTreeMap<String, usize>,
    /// Mails sent, per kind (`thank_you`, `shipping`, `staff_alert`).
    pub mails: BTreeMap<String, usize>,
    /// Mail jobs the ledger had already sent (nothing sent again).
    pub mails_already_sent: usize,
    /// Mail jobs with nothing to send any more (e.g. no buyer mail for Amazon orders).
    pub mails_skipped: usize,
    /// Buyer mails waiting for the shop's marketplace relay settings (kept, sent once they are stored).
    #[serde(default)]
    pub mails_parked: usize,
    /// Orders or mails that failed (see the messages printed during the run).
    pub failed: usize,
    /// Tracking numbers the marketplace accepted (write-back of `tracking import` / `orders ship`).
    #[serde(default)]
    pub tracking_registered: usize,
    /// Tracking writes that failed for now (tried again next run).
    #[serde(default)]
    pub tracking_retried: usize,
    /// Tracking writes the marketplace refused (reported to staff).
    #[serde(default)]
    pub tracking_failed: usize,
    /// Orders the marketplace took the shop's acknowledgement of (楽天 注文確認, Qoo10 seller check).
    #[serde(default)]
    pub acknowledged: usize,
    /// Units written to the marketplace as its stock numbers (the stock push after each pull).
    #[serde(default)]
    pub units_pushed: i64,
    /// Items whose number was written to the marketplace (an item written on both passes of a
    /// whole day counts twice; an item the marketplace already showed right is not written).
    #[serde(default)]
    pub items_pushed: usize,
    /// Items whose marketplace number the stock ledger could not explain (drift: staff were
    /// told, the number was not overwritten), counted on each pull that found them.
    #[serde(default)]
    pub stock_drift: usize,
}

impl Row {
    /// Mails sent, all kinds.
    pub fn mails_total(&self) -> usize {
        self.mails.values().sum()
    }

    fn add(&mut self, other: &Row) {
        self.pulled += other.pulled;
        self.units_pushed += other.units_pushed;
        self.items_pushed += other.items_pushed;
        self.stock_drift += other.stock_drift;
        self.reread += other.reread;
        self.quarantined += other.quarantined;
        self.new_or_changed += other.new_or_changed;
        self.unchanged += other.unchanged;
        self.clean += other.clean;
        self.held += other.held;
        for (code, n) in &other.held_by {
            *self.held_by.entry(code.clone()).or_default() += n;
        }
        for (kind, n) in &other.mails {
            *self.mails.entry(kind.clone()).or_default() += n;
        }
        self.mails_already_sent += other.mails_already_sent;
        self.mails_skipped += other.mails_skipped;
        self.mails_parked += other.mails_parked;
        self.failed += other.failed;
        self.tracking_registered += other.tracking_registered;
        self.tracking_retried += other.tracking_retried;
        self.tracking_failed += other.tracking_failed;
        self.acknowledged += other.acknowledged;
    }
}

/// The whole run, as `summary.json` holds it.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Summary {
    /// `embedded` or `aws`.
    pub mode: String,
    /// The demo folder.
    pub dir: PathBuf,
    /// `--seed`.
    pub seed: u64,
    /// Orders seeded across the five sandboxes (`--orders`).
    pub orders_seeded: usize,
    /// Wall time of pull → check → store → mail, in seconds.
    pub seconds: f64,
    /// Per marketplace.
    pub marketplaces: BTreeMap<Marketplace, Row>,
    /// All marketplaces.
    pub total: Row,
    /// Orders in the store after the run (= lines of `orders.jsonl`).
    pub stored_orders: usize,
    /// Stored orders on hold after the run.
    pub stored_on_hold: usize,
    /// `.eml` files in the outbox after the run (embedded mode).
    pub outbox_files: Option<usize>,
    /// `--whole-day`: label data out and tracking numbers in (the write-back and shipping mails
    /// are in `total`: `tracking_registered`, `mails.shipping`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub day: Option<super::day::DayCounts>,
    /// What the orders moved in the shop's stock this run, and the stock after it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stock: Option<super::stock::StockSummary>,
}

/// Counts while the run goes on.
#[derive(Debug, Default)]
pub struct Tally {
    rows: BTreeMap<Marketplace, Row>,
    /// Failed messages that name no marketplace (an unreadable queue message).
    unattributed_failures: usize,
}

impl Tally {
    fn row(&mut self, m: Marketplace) -> &mut Row {
        self.rows.entry(m).or_default()
    }

    /// A pull finished.
    pub fn pulled(&mut self, report: &PullReport) {
        let row = self.row(report.marketplace);
        row.pulled += report.queued - report.reread.min(report.queued);
        row.reread += report.reread;
        row.quarantined += report.quarantined;
        row.tracking_registered += report.tracking_registered;
        row.tracking_retried += report.tracking_retried;
        row.tracking_failed += report.tracking_failed;
        row.acknowledged += report.acknowledged;
        row.units_pushed += report.stock.units_pushed;
        row.items_pushed += report.stock.items_pushed;
        row.stock_drift += report.stock.drift.len();
    }

    /// The processor finished an order.
    pub fn processed(&mut self, p: &Processed) {
        let row = self.row(p.key.marketplace);
        match p.change {
            Change::New | Change::Rechecked | Change::Updated => {
                row.new_or_changed += 1;
                if p.status == OrderStatus::OnHold {
                    row.held += 1;
                    for code in &p.hold_codes {
                        *row.held_by.entry(code.as_str().to_string()).or_default() += 1;
                    }
                } else {
                    row.clean += 1;
                }
            }
            Change::Unchanged | Change::Stale => row.unchanged += 1,
        }
    }

    /// The notifier finished a job.
    pub fn notified(&mut self, marketplace: Marketplace, kind: MailKind, done: &Notified) {
        let row = self.row(marketplace);
        match done {
            Notified::Sent(_) => *row.mails.entry(kind.as_str().to_string()).or_default() += 1,
            Notified::AlreadySent(_) => row.mails_already_sent += 1,
            Notified::Skipped(_) => row.mails_skipped += 1,
            Notified::Parked { .. } => row.mails_parked += 1,
        }
    }

    /// An order or a mail failed.
    pub fn failed(&mut self, marketplace: Marketplace) {
        self.row(marketplace).failed += 1;
    }

    /// A queue message that is not what the queue carries failed.
    pub fn failed_message(&mut self) {
        self.unattributed_failures += 1;
    }

    /// The per-marketplace rows (every marketplace present) and their total.
    pub fn finish(mut self) -> (BTreeMap<Marketplace, Row>, Row) {
        for m in MARKETPLACES {
            self.rows.entry(m).or_default();
        }
        let mut total = Row::default();
        for row in self.rows.values() {
            total.add(row);
        }
        total.failed += self.unattributed_failures;
        (self.rows, total)
    }
}

/// Three bars on stderr (drawn only on a terminal): pulled, processed of pulled, mailed of queued.
pub struct Progress {
    multi: MultiProgress,
    pulled: ProgressBar,
    processed: ProgressBar,
    mailed: ProgressBar,
}

impl Progress {
    /// Bars for a run expecting `expected` orders.
    pub fn new(expected: usize) -> Progress {
        let multi = MultiProgress::new();
        let bar = |prefix: &'static str, len: u64| {
            let style = ProgressStyle::with_template("{prefix:>10} [{bar:40.cyan/blue}] {pos:>5}/{len:<5} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("█▉▊▋▌▍▎▏ ");
            let pb = multi.add(ProgressBar::new(len));
            pb.set_style(style);
            pb.set_prefix(prefix);
            pb
        };
        let pulled = bar("pulled", expected as u64);
        let processed = bar("processed", 0);
        let mailed = bar("mailed", 0);
        Progress { multi, pulled, processed, mailed }
    }

    /// `n` orders queued by a puller.
    pub fn pulled(&self, n: usize) {
        self.pulled.inc(n as u64);
        self.processed.inc_length(n as u64);
    }

    /// Every pull is done.
    pub fn pulls_done(&self) {
        let done = self.pulled.position();
        self.pulled.set_length(done);
    }

    /// One order processed; `mails` mail jobs queued.
    pub fn processed(&self, mails: usize) {
        self.processed.inc(1);
        self.mailed.inc_length(mails as u64);
    }

    /// One mail job done.
    pub fn mailed(&self) {
        self.mailed.inc(1);
    }

    /// A line above the bars (errors during the run).
    pub fn println(&self, line: &str) {
        if self.multi.is_hidden() {
            eprintln!("{line}");
        } else {
            let _ = self.multi.println(line);
        }
    }

    /// Removes the bars.
    pub fn finish(&self) {
        for pb in [&self.pulled, &self.processed, &self.mailed] {
            pb.finish_and_clear();
        }
        let _ = self.multi.clear();
    }
}

pub(crate) fn right(table: &mut Table, from: usize) {
    for i in from..table.column_count() {
        if let Some(col) = table.column_mut(i) {
            col.set_cell_alignment(CellAlignment::Right);
        }
    }
}

/// The per-marketplace table.
pub fn main_table(summary: &Summary) -> Table {
    let mut table = Table::new();
    table.load_preset(UTF8_FULL_CONDENSED).set_header(vec![
        "marketplace",
        "pulled",
        "new/changed",
        "clean",
        "held",
        "thank_you",
        "shipping",
        "staff_alert",
        "payment_received",
    ]);
    let line = |name: String, r: &Row| {
        let mail = |k: MailKind| r.mails.get(k.as_str()).copied().unwrap_or(0).to_string();
        vec![
            name,
            r.pulled.to_string(),
            r.new_or_changed.to_string(),
            r.clean.to_string(),
            r.held.to_string(),
            mail(MailKind::ThankYou),
            mail(MailKind::Shipping),
            mail(MailKind::StaffAlert),
            mail(MailKind::PaymentReceived),
        ]
    };
    for (m, r) in &summary.marketplaces {
        table.add_row(line(format!("{} {m}", ichigen_core::pipeline::mail::marketplace_name(*m)), r));
    }
    table.add_row(line("total".to_string(), &summary.total));
    right(&mut table, 1);
    table
}

/// Held orders per finding code and marketplace; `None` when nothing was held.
pub fn held_table(summary: &Summary) -> Option<Table> {
    if summary.total.held_by.is_empty() {
        return None;
    }
    let mut table = Table::new();
    let mut header = vec!["held by finding code".to_string()];
    header.extend(summary.marketplaces.keys().map(|m| m.to_string()));
    header.push("total".to_string());
    table.load_preset(UTF8_FULL_CONDENSED).set_header(header);
    // In the design table's order, so the same code is always on the same line.
    for code in FindingCode::ALL.iter().map(|c| c.as_str()) {
        let Some(total) = summary.total.held_by.get(code) else { continue };
        let mut row = vec![code.to_string()];
        row.extend(summary.marketplaces.values().map(|r| r.held_by.get(code).copied().unwrap_or(0).to_string()));
        row.push(total.to_string());
        table.add_row(row);
    }
    right(&mut table, 1);
    Some(table)
}
