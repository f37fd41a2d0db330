//! `ichigen check`: run the order checks over canonical orders.

use std::io::{BufWriter, Write};
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use ichigen_core::{CheckEngine, Finding, Marketplace, OrderStatus, Rules};
use serde::Serialize;

use crate::input::{parse_orders, read_text};

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
            Rules::from_toml(&text).with_context(|| p.display().to_string())
        }
    }
}

/// Checks every order in `file`; exit 2 if any order could not be read (the rest are still printed).
pub fn run(rules: Option<&Path>, file: &Path) -> anyhow::Result<ExitCode> {
    let engine = CheckEngine::new(load_rules(rules)?, ichigen_marketplaces::policies());
    let text = read_text(file)?;
    let parsed = parse_orders(&text);
    // Bundle candidates are the other open orders of the same input.
    let index = engine.bundle_index(parsed.iter().filter_map(|r| r.as_ref().ok()));

    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let mut bad = 0usize;
    for result in &parsed {
        match result {
            Ok(order) => {
                let outcome = engine.check(order, &index);
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
    }
    out.flush()?;
    if bad > 0 {
        eprintln!("ichigen check: {bad} of {} orders could not be read", parsed.len());
        return Ok(ExitCode::from(2));
    }
    Ok(ExitCode::SUCCESS)
}
