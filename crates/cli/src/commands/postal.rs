//! `ichigen postal`: what Japan Post data says about a postal code.

use std::process::ExitCode;

use ichigen_core::islands::IslandTable;
use ichigen_core::postal::PostalTable;
use ichigen_core::text::postal_code_key;
use serde_json::json;

/// Prints the code's prefecture, city and town(s) as JSON; exit 1 when unknown, 2 when malformed.
pub fn run(code: &str) -> anyhow::Result<ExitCode> {
    let Some(key) = postal_code_key(code) else {
        eprintln!("ichigen postal: {code:?} is not a 7-digit postal code");
        return Ok(ExitCode::from(2));
    };
    let table = PostalTable::embedded();
    let Some(entry) = table.get(&key) else {
        eprintln!("ichigen postal: {key} is not in Japan Post data ({})", table.source_version());
        return Ok(ExitCode::from(1));
    };
    let towns: Vec<_> = entry.towns().collect();
    let islands: Vec<_> = IslandTable::embedded().lookup(&key).collect();
    let first = towns.first();
    let out = json!({
        "postal_code": key,
        "kind": entry.kind(),
        "prefecture": first.map(|t| t.prefecture),
        "city": first.map(|t| t.city),
        "towns": towns,
        "remote_island": islands,
        "data": table.source_version(),
    });
    println!("{out}");
    Ok(ExitCode::SUCCESS)
}
