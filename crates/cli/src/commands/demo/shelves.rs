//! The sandboxes' own stock, kept between demo runs in `DIR/shelves.json`. A real mall keeps its
//! numbers whatever its clients do; a demo run starts the sandboxes anew, and without this every
//! mall would be back at the number the shop kept by hand, which the next push would rightly
//! report as changed in the mall's back office.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Context;
use ichigen_core::Marketplace;
use ichigen_sandbox::Kept;

use super::Market;

/// The file in the demo folder.
pub const FILE: &str = "shelves.json";

/// Puts the numbers an earlier run kept back on the sandboxes just started; on a folder's first
/// run (no file) they keep the numbers they were listed with.
pub fn restore(dir: &Path, markets: &[Market]) -> anyhow::Result<()> {
    let path = dir.join(FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    let kept: BTreeMap<Marketplace, Vec<Kept>> = serde_json::from_str(&text)
        .with_context(|| format!("{} is not the demo's kept marketplace stock", path.display()))?;
    for market in markets {
        if let Some(items) = kept.get(&market.marketplace) {
            market.sandbox.shelf.restore(items);
        }
    }
    Ok(())
}

/// Writes every sandbox's numbers to `DIR/shelves.json` (writes still inside a mall's delay
/// counted as landed), for the next run.
pub fn keep(dir: &Path, markets: &[Market]) -> anyhow::Result<()> {
    let kept: BTreeMap<Marketplace, Vec<Kept>> =
        markets.iter().map(|m| (m.marketplace, m.sandbox.shelf.kept())).collect();
    super::write_atomically(&dir.join(FILE), serde_json::to_string_pretty(&kept)?.as_bytes())
}
