//! `ichigen sandbox`: one marketplace emulator on 127.0.0.1 until Ctrl-C.

use std::process::ExitCode;

use ichigen_core::Marketplace;
use ichigen_sandbox::{SandboxConfig, Seed, Started};

/// Starts the sandbox of `marketplace` with `orders` seeded orders and serves until Ctrl-C.
pub fn run(marketplace: Marketplace, port: u16, orders: usize, seed: u64) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async move {
        // Orders end a day before now, so every API's "not in the future" rule holds.
        let step_secs = 600;
        let span = chrono::Duration::seconds(step_secs * orders as i64) + chrono::Duration::days(1);
        let start = chrono::Utc::now().with_timezone(&ichigen_sandbox::book::jst()) - span;
        let config = SandboxConfig {
            port,
            seed: Seed { orders, seed, start, step_secs, ..Seed::default() },
            ..SandboxConfig::default()
        };
        let started = start_sandbox(marketplace, config).await?;
        println!("{} sandbox: {}", marketplace, started.base_url());
        println!("orders: {orders} (seed {seed})");
        for (name, value) in &started.credentials {
            println!("{name}: {value}");
        }
        println!("Ctrl-C stops it.");
        tokio::signal::ctrl_c().await?;
        started.running.stop().await;
        Ok(ExitCode::SUCCESS)
    })
}

/// The sandbox of one marketplace.
pub async fn start_sandbox(marketplace: Marketplace, config: SandboxConfig) -> anyhow::Result<Started> {
    Ok(match marketplace {
        Marketplace::Rakuten => ichigen_sandbox::rakuten::start(config).await?,
        Marketplace::Yahoo => ichigen_sandbox::yahoo::start(config).await?,
        Marketplace::Amazon => ichigen_sandbox::amazon::start(config).await?,
        Marketplace::Aupay => ichigen_sandbox::aupay::start(config).await?,
        Marketplace::Qoo10 => ichigen_sandbox::qoo10::start(config).await?,
        Marketplace::Csv => anyhow::bail!("csv is not a marketplace API: there is nothing to emulate"),
    })
}
