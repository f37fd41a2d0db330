//! The sale day of issue 16 on the five sandbox malls (`ichigen_integration_tests::sale_day`):
//! 50 SKUs, 1,000 units, buyers on every mall for many pull intervals, some cancelling. Prints
//! the figures for docs/PERFORMANCE.md: orders, units, oversold units (the target: 0), the
//! longest time a SKU the shop had sold out stayed buyable somewhere, and how long after the last
//! sale every mall showed what the ledger allots it.
//!
//! ```sh
//! cargo bench --profile dev -p ichigen-integration-tests --bench sale_day
//! # ICHIGEN_SALE_INTERVALS (40), ICHIGEN_SALE_BUYERS per interval (60), ICHIGEN_SALE_SCALE (100),
//! # ICHIGEN_SALE_SEED (1), ICHIGEN_SALE_BUFFER (1)
//! ```

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)] // A bench binary: a failed step ends the run.

use std::time::Duration;

use ichigen_integration_tests::sale_day::{self, SaleDay};

fn env<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn main() {
    let day = SaleDay {
        skus: 50,
        units: 1_000,
        scale: env("ICHIGEN_SALE_SCALE", 100.0),
        interval: Duration::from_secs(300),
        intervals: env("ICHIGEN_SALE_INTERVALS", 40),
        buyers_per_interval: env("ICHIGEN_SALE_BUYERS", 60),
        cancel_share: 0.1,
        buffer: env("ICHIGEN_SALE_BUFFER", 1),
        seed: env("ICHIGEN_SALE_SEED", 1),
    };
    let dir = tempfile::tempdir().unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let began = std::time::Instant::now();
    let figures = runtime.block_on(sale_day::run(&day, dir.path()));
    println!("### Sale day\n\n{}", figures.markdown(&day));
    println!(
        "Ran in {:.0} s of wall time; {} pull runs, {} of them follow-ups.",
        began.elapsed().as_secs_f64(),
        figures.pulls,
        figures.early_runs
    );
    for m in ichigen_core::stock::MALLS {
        let told = figures.told_by_mall.get(&m).map_or("never".into(), |t| format!("{:.0} s", t.as_secs_f64()));
        println!(
            "{m}: given its number {told} after the last sale; can be within {:.0} s (interval, search lag or own delay, longest run).",
            figures.settle_bound(&day, m).as_secs_f64()
        );
    }
    if !figures.failures.is_empty() {
        println!("\nReported during the day:");
        for f in &figures.failures {
            println!("- {f}");
        }
    }
    for (mall, item, shown, allotted) in &figures.unsettled {
        println!("unsettled: {mall} {item} shows {shown}, ledger allots {allotted}");
    }
    for (sku, shown, available) in &figures.over_shown {
        println!("OVER-SHOWN: {sku}: the malls show {shown} together, the master has {available}");
    }
    assert_eq!(figures.oversold, 0, "units oversold");
}
