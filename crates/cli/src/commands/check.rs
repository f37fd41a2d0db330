//! `ichigen check`: run the order checks over canonical orders.
//!
//! JSON lines are read line by line, twice: once to index the open orders for 同梱 candidates,
//! once to check and print each order as it comes. Memory holds the index (one small entry per
//! open order), never the input or the results.

use std::io::{BufWriter, Write};
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use ichigen_core::{BundleIndex, CheckEngine, Finding, Marketplace, OrderStatus, Rules};
use serde::Serialize;

use crate::input::Input;

/// One output line.
#[derive(Serialize)]
struct CheckedOrder<'a> {
    marketplace: Marketplace,
    order_id: &'a str,
    status: OrderStatus,
    findings: &'a [Finding],
}

/// Loads the shop rules, or the defaults when no file is given.
pub fn load_rules(path: Option<&Path>) -> anyhow::Result<Rules> {
    match path {
        None => Ok(Rules::default()),
        Some(p) => {
            let text = std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
            let rules = Rules::from_toml(&text).with_context(|| p.display().to_string())?;
            for (number, why) in rules.weak_blacklist_entries() {
                eprintln!("ichigen: {}: blacklist entry {number} is ignored: {why}", p.display());
            }
            Ok(rules)
        }
    }
}

/// Checks every order in `file`; exit 2 if any order could not be read (the rest are still printed).
pub fn run(rules: Option<&Path>, file: &Path) -> anyhow::Result<ExitCode> {
    let engine = CheckEngine::new(load_rules(rules)?, ichigen_marketplaces::policies());
    let mut input = Input::open(file)?;

    // Bundle candidates are the other open orders of the same input.
    let mut index = BundleIndex::empty();
    input.for_each(|result| {
        if let Ok(order) = result
            && let Some(key) = engine.bundle_key(&order)
        {
            index.insert(key, order.marketplace, order.order_id);
        }
        Ok(())
    })?;

    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let mut bad = 0usize;
    let total = input.for_each(|result| {
        match result {
            Ok(order) => {
                let outcome = engine.check(&order, &index);
                let line = CheckedOrder {
                    marketplace: order.marketplace,
                    order_id: &order.order_id,
                    status: outcome.status,
                    findings: &outcome.findings,
                };
                serde_json::to_writer(&mut out, &line)?;
                out.write_all(b"\n")?;
            }
            Err(e) => {
                bad += 1;
                eprintln!("ichigen check: {}: {e}", file.display());
            }
        }
        Ok(())
    })?;
    out.flush()?;
    if bad > 0 {
        eprintln!("ichigen check: {bad} of {total} orders could not be read");
        return Ok(ExitCode::from(2));
    }
    Ok(ExitCode::SUCCESS)
}
