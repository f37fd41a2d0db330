//! Writes `N` sample orders (the seeded varied mix of `ichigen_core::sample`) as JSON lines to
//! standard output, for measuring `ichigen check` on large inputs:
//!
//! ```sh
//! cargo run --release -p ichigen-core --example sample_orders -- 1000000 > orders.jsonl
//! ```

use std::io::{BufWriter, Write};

use ichigen_core::Marketplace;
use ichigen_core::sample::SampleOrders;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let n: usize = std::env::args().nth(1).map_or(Ok(1_000), |a| a.parse())?;
    let seed: u64 = std::env::args().nth(2).map_or(Ok(13), |a| a.parse())?;
    let markets =
        [Marketplace::Rakuten, Marketplace::Yahoo, Marketplace::Aupay, Marketplace::Qoo10, Marketplace::Amazon];
    let mut sample = SampleOrders::new(seed);
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    for i in 0..n {
        serde_json::to_writer(&mut out, &sample.varied_order(markets[i % markets.len()], i))?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    Ok(())
}
