//! `ichigen`: unified order handling for Japanese marketplaces, from the command line.

mod commands;
mod input;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "ichigen",
    version,
    about = "受注一元管理: check, store and mail orders from every Japanese marketplace"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check canonical orders (JSON lines or one JSON array) and print one JSON line per order.
    Check {
        /// Shop rules (TOML); built-in defaults when left out. See rules.example.toml.
        #[arg(long)]
        rules: Option<PathBuf>,
        /// Orders file, or `-` for standard input.
        #[arg(default_value = "-")]
        file: PathBuf,
    },
    /// Print the prefecture, city and town(s) of a postal code as JSON (exit 1 when unknown).
    Postal {
        /// Seven digits; 〒, hyphens and full-width digits are fine.
        code: String,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Check { rules, file } => commands::check::run(rules.as_deref(), &file),
        Command::Postal { code } => commands::postal::run(&code),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("ichigen: {e:#}");
            ExitCode::from(2)
        }
    }
}
