//! Issue 16's guarantee on a short sale day (the bench `sale_day` runs the long one): five
//! sandbox malls selling one stock master at random, some buyers cancelling — no unit is sold
//! beyond the shop's stock, every sale reaches the master, the malls together never show more
//! than the master has, within one interval after the last sale (and the malls' own delays) every
//! mall is given what the ledger allots it, the malls together are then given the master's units
//! less the buffer (after a move's shrink and follow-up), and (almost) no drift is reported:
//! nobody edits a mall's back office during the day.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use ichigen_core::stock::MALLS;
use ichigen_integration_tests::sale_day::{self, SaleDay};

#[tokio::test(flavor = "current_thread")]
async fn a_sale_day_on_five_malls_oversells_nothing_and_settles() {
    let day = SaleDay {
        skus: 50,
        units: 1_000,
        scale: 100.0,
        interval: Duration::from_secs(300),
        intervals: 12,
        // Enough buyers to sell most SKUs out within the day.
        buyers_per_interval: 120,
        cancel_share: 0.1,
        // One unit of each SKU held back covers sales between a read and its write.
        buffer: 1,
        seed: 11,
    };
    let dir = tempfile::tempdir().unwrap();
    let f = sale_day::run(&day, dir.path()).await;
    println!("{}", f.markdown(&day));
    println!("drift reports: {}; unsettled: {:?}", f.drift, f.unsettled);
    for failure in &f.failures {
        println!("- {failure}");
    }
    assert!(f.orders > 300 && f.refused > 100, "the day sold enough to matter: {f:?}");
    assert!(f.cancelled > 0, "{f:?}");
    assert_eq!(f.oversold, 0, "{f:?}");
    assert_eq!(f.unheld, 0, "every sale reached the stock master: {f:?}");
    assert!(f.over_shown.is_empty(), "{:?}", f.over_shown);
    assert!(f.unsettled.is_empty() && f.settled_after.is_some(), "{:?}", f.unsettled);
    // Within one interval after the last sale reached a mall's order search (or, on Qoo10, after
    // the write made before it showed), and the run itself, every mall was given the number the
    // ledger allots it (Qoo10 shows it after its own delay).
    for m in MALLS {
        let told = f.told_by_mall.get(&m).copied();
        let bound = f.settle_bound(&day, m);
        assert!(told.is_some_and(|t| t <= bound), "{m} given its number {told:?} after the last sale, over {bound:?}");
    }
    // Nobody edits a back office during the day. A shortfall is drift only on its third run
    // with no order of the item (push::DRIFT_AFTER_RUNS): the false reports that Amazon's lagging
    // search caused on the second are gone. One is tolerated for a machine slow enough to hide
    // three sales in a row; a flood is not.
    let drift_notices = f.failures.iter().filter(|n| n.contains("管理画面で変更")).count();
    assert!(drift_notices <= 1, "{drift_notices} drift reports without an edit: {:?}", f.failures);
    assert!(f.pushed.len() == 5, "every mall was pushed to: {:?}", f.pushed);
    // The malls together are given the master's units less the buffer: once every mall has its
    // number, the last unit to move takes a shrink (shown at once, or after Qoo10's 10 minutes)
    // and the taking mall's follow-up (docs/STOCK.md, "Follow-up runs").
    let full = f.full_after;
    assert!(
        full.is_some_and(|t| t <= f.full_bound(&day)),
        "master − buffer {full:?} after the last sale, over {:?}",
        f.full_bound(&day)
    );
}
