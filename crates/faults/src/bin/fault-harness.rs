//! `fault-harness`: the embedded day under every enumerated fault, its invariants checked, its
//! figures printed; exits 1 on any violation.

use std::process::ExitCode;

use clap::Parser;
use ichigen_faults::{FaultKind, Indices, Options, enumerate};

/// Runs the fault-injection harness.
#[derive(Parser, Debug)]
#[command(name = "fault-harness", about = "Fault injection at every port boundary of the embedded pipeline")]
struct Args {
    /// Orders seeded across the five sandboxes.
    #[arg(long, default_value_t = 30)]
    orders: usize,
    /// Generator seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Call indices of each method to fault: ends (first, last), sample (first, middle, last), all.
    #[arg(long, default_value = "sample")]
    indices: Indices,
    /// Fault kinds, comma-separated.
    #[arg(long, default_value = "fail,timeout,kill", value_delimiter = ',')]
    kinds: Vec<FaultKind>,
    /// Only the methods whose `port.method` contains this.
    #[arg(long)]
    only: Option<String>,
    /// Only this call index (1-based) of each chosen method, instead of those --indices picks.
    #[arg(long)]
    index: Option<u64>,
    /// Scenarios run side by side.
    #[arg(long, default_value_t = 2)]
    jobs: usize,
    /// Print each scenario's outcome.
    #[arg(long)]
    verbose: bool,
}

fn main() -> ExitCode {
    let args = Args::parse();
    // A simulated kill unwinds a process life: no panic message for it.
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if info.payload().downcast_ref::<ichigen_faults::inject::Killed>().is_none() {
            default_hook(info);
        }
    }));
    let opts = Options {
        orders: args.orders,
        seed: args.seed,
        indices: args.indices,
        kinds: args.kinds,
        only: args.only,
        index: args.index,
        jobs: args.jobs,
    };
    let started = std::time::Instant::now();
    let mut n = 0;
    let figures = enumerate(&opts, |o| {
        n += 1;
        if args.verbose && o.fault.is_none() {
            for (m, c) in &o.counts {
                eprintln!("  {m}: {c} calls");
            }
        }
        if args.verbose || !o.checked.violations.is_empty() {
            let what = o.fault.as_ref().map_or("clean run".to_string(), ToString::to_string);
            eprintln!(
                "[{n}] {what}: {} mails, {} documented duplicate(s), {} violation(s){}",
                o.checked.delivered,
                o.checked.documented_duplicates,
                o.checked.violations.len(),
                if o.fault.is_some() && !o.fired { " (not reached)" } else { "" }
            );
            // The text at once: a long run may be cut before the figures print.
            for v in &o.checked.violations {
                eprintln!("      {v}");
            }
        }
    });
    match figures {
        Ok(f) => {
            print!("{f}");
            println!("  took                       {:.1} s", started.elapsed().as_secs_f64());
            if f.violations.is_empty() && f.baseline.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(1) }
        }
        Err(e) => {
            eprintln!("fault-harness: {e:#}");
            ExitCode::from(2)
        }
    }
}
