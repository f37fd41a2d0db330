//! `ichigen demo --whole-day`: between the morning's pull and the write-back, the shop's
//! afternoon — label data out for the carriers' programs (one program per marketplace), the
//! programs' tracking numbers back in, through the same code as `ichigen export` and
//! `ichigen tracking import`. The demo stands in for the carriers: each exported parcel gets a
//! valid 12-digit number (mod-7 check digit) in a plain `order,carrier,number,date` file.
//! The write-back and the shipping mails follow in the run's second pass (the pullers drain the
//! pending writes).

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Context;
use chrono::{DateTime, FixedOffset};
use ichigen_core::carrier::check_digit;
use ichigen_core::labels::issued::{self, IssuedFormat};
use ichigen_core::labels::{self, LabelOptions, Program};
use ichigen_core::pipeline::shipping::mark_printed;
use ichigen_core::pipeline::tracking::import_tracking;
use ichigen_core::pipeline::{OrderKey, OrderStore, ShopSettings, TrackingWrites};
use ichigen_core::stock::StockStore;
use ichigen_core::{Marketplace, Rules};
use serde::{Deserialize, Serialize};

use crate::view::all_orders;

/// What the afternoon did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayCounts {
    /// Parcels written to label data, per format (`b2`, `ehiden`, `yupri`).
    pub labels: BTreeMap<String, usize>,
    /// Orders a program could not take as they are (left 出荷待ち for staff).
    pub labels_skipped: usize,
    /// Tracking numbers imported (parcels made 出荷済).
    pub tracking_imported: usize,
}

/// The label program the demo shop uses for each marketplace's parcels: all three appear.
fn program_of(m: Marketplace) -> Program {
    match m {
        Marketplace::Rakuten | Marketplace::Amazon => Program::B2,
        Marketplace::Yahoo => Program::Ehiden,
        _ => Program::Yupri,
    }
}

fn format_name(p: Program) -> &'static str {
    match p {
        Program::B2 => "b2",
        Program::Ehiden => "ehiden",
        Program::Yupri => "yupri",
    }
}

fn carrier_of(p: Program) -> &'static str {
    match p {
        Program::B2 => "yamato",
        Program::Ehiden => "sagawa",
        Program::Yupri => "japanpost",
    }
}

/// A valid 12-digit number for a parcel: 11 digits from its key, and the mod-7 check digit.
fn number_for(key: &str) -> String {
    // FNV-1a: stable across runs, so a parcel always gets the same number.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in key.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    let first11 = format!("{:011}", h % 100_000_000_000);
    let check = check_digit(&first11).unwrap_or(0);
    format!("{first11}{check}")
}

/// Exports the label data of every parcel ready to ship that has none yet, marks them 印刷済,
/// writes the carriers' numbers for them and imports that file. Files go to `DIR/labels/`.
pub async fn label_and_import<S: OrderStore + TrackingWrites + StockStore>(
    store: &S,
    shop: &ShopSettings,
    dir: &Path,
    now: DateTime<FixedOffset>,
) -> anyhow::Result<DayCounts> {
    let rules = if shop.rules_toml.trim().is_empty() {
        Rules::default()
    } else {
        Rules::from_toml(&shop.rules_toml).context("reading the demo shop's rules")?
    };
    let folder = dir.join("labels");
    std::fs::create_dir_all(&folder).with_context(|| format!("creating {}", folder.display()))?;
    // Parcels with label data or a number already are not exported twice (as `export` does).
    let orders: Vec<_> = all_orders(store, &shop.shop_id)
        .await?
        .into_iter()
        .filter(|s| s.parcels.iter().all(|p| p.printed.is_none() && p.tracking.is_none()))
        .collect();
    let opts = LabelOptions { ship_date: now.date_naive() };
    let mut counts = DayCounts::default();
    let mut issued = String::from("order,carrier,number,date\n");
    for program in [Program::B2, Program::Ehiden, Program::Yupri] {
        let mine: Vec<_> = orders.iter().filter(|s| program_of(s.order.marketplace) == program).cloned().collect();
        let exported = labels::export(program, &mine, shop, &rules, &opts)?;
        let path = folder.join(format!("{}.csv", format_name(program)));
        std::fs::write(&path, &exported.bytes).with_context(|| format!("writing {}", path.display()))?;
        let mut by_order: BTreeMap<&OrderKey, Vec<usize>> = BTreeMap::new();
        for l in &exported.labelled {
            by_order.entry(&l.order).or_default().push(l.destination);
            issued.push_str(&format!(
                "{},{},{},{}\n",
                l.key,
                carrier_of(program),
                number_for(l.key.as_str()),
                opts.ship_date
            ));
        }
        for (key, destinations) in by_order {
            mark_printed(store, key, &destinations, program.name(), now).await?;
        }
        *counts.labels.entry(format_name(program).to_string()).or_default() += exported.labelled.len();
        counts.labels_skipped += exported.skipped.len();
    }
    let path = folder.join("tracking.csv");
    std::fs::write(&path, issued.as_bytes()).with_context(|| format!("writing {}", path.display()))?;
    if counts.labels.values().all(|&n| n == 0) {
        // Nothing new was exported (a run again): no numbers to import.
        return Ok(counts);
    }
    let (_, rows, problems) = issued::read(issued.as_bytes(), Some(IssuedFormat::Plain))
        .with_context(|| format!("reading {}", path.display()))?;
    let report = import_tracking(store, store, &shop.shop_id, &rows, problems, now).await?;
    if !report.applied {
        let lines: Vec<String> = report.problems.iter().map(|p| format!("{}行目: {}", p.line, p.reason)).collect();
        anyhow::bail!("{}: nothing imported: {}", path.display(), lines.join("; "));
    }
    counts.tracking_imported = report.shipped();
    Ok(counts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_valid_and_stable() {
        let n = number_for("R7K3M9Q2XC4T01");
        assert_eq!(n.len(), 12);
        assert!(ichigen_core::carrier::tracking_number_valid(ichigen_core::Carrier::Yamato, &n));
        assert_eq!(n, number_for("R7K3M9Q2XC4T01"));
        assert_ne!(n, number_for("R7K3M9Q2XC4T02"));
    }
}
