//! `ichigen normalize`: marketplace API response bodies → canonical Orders as JSON lines.

use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use ichigen_core::{Marketplace, Order};
use ichigen_marketplaces::{Body, NormalizeError};

/// Normalises each file (Amazon: all files together, joined by order id) and prints the orders;
/// exit 2 when any body is an API error or malformed, after printing what could be read.
pub fn run(marketplace: Marketplace, shop_id: &str, files: &[PathBuf]) -> anyhow::Result<ExitCode> {
    let mut bodies = Vec::with_capacity(files.len());
    for f in files {
        let text = std::fs::read_to_string(f).with_context(|| format!("reading {}", f.display()))?;
        bodies.push(Body { name: f.display().to_string(), text });
    }
    // Amazon spreads one order over several operations' bodies; the others have one body per file.
    let batches: Vec<&[Body]> =
        if marketplace == Marketplace::Amazon { vec![&bodies[..]] } else { bodies.chunks(1).collect() };

    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let mut failed = 0;
    for batch in batches {
        match ichigen_marketplaces::normalize(marketplace, shop_id, batch) {
            Ok(orders) => write_orders(&mut out, &orders)?,
            Err(e) => {
                failed += 1;
                let name = if batch.len() == 1 { batch[0].name.as_str() } else { "the bodies" };
                eprintln!("ichigen normalize: {name}: {}", describe(&e));
            }
        }
    }
    out.flush()?;
    Ok(if failed > 0 { ExitCode::from(2) } else { ExitCode::SUCCESS })
}

fn write_orders(out: &mut impl Write, orders: &[Order]) -> anyhow::Result<()> {
    for o in orders {
        serde_json::to_writer(&mut *out, o)?;
        out.write_all(b"\n")?;
    }
    Ok(())
}

/// The error with what kind it is first, so an operator sees at once whether the API refused.
fn describe(e: &NormalizeError) -> String {
    match e {
        NormalizeError::Api { .. } => format!("API error: {e}"),
        NormalizeError::Malformed { .. } => e.to_string(),
        NormalizeError::Invalid { .. } => format!("impossible order: {e}"),
    }
}
