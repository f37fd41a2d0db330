//! `ichigen console`: the staff console on this machine — the embedded store of a folder, served
//! on 127.0.0.1 only, opened with the one-time login URL it prints (docs/CONSOLE.md).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use ichigen_console::{Console, LoginToken, Settings};
use ichigen_core::pipeline::Notifier;
use ichigen_local::{EmlOutbox, LocalStaffMail, SqliteStore};
use ichigen_smtp::SmtpRelays;

use crate::commands::mail;

/// `ichigen console` options.
#[derive(Debug, Args)]
pub struct ConsoleArgs {
    /// Folder of the embedded store (STORE/ichigen.db) and its mail outbox (STORE/outbox).
    #[arg(long, visible_alias = "dir", default_value = "ichigen-demo", env = "ICHIGEN_DIR")]
    pub store: PathBuf,
    /// Port on 127.0.0.1 (0 = any free port; the login URL says which).
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// The staff name recorded with every action (the OS user when left out).
    #[arg(long)]
    pub staff: Option<String>,
    /// The ichigen shop id.
    #[arg(long, default_value = "demo", env = "ICHIGEN_SHOP")]
    pub shop: String,
}

/// The OS user's name, or `local`.
fn os_user() -> String {
    ["USER", "USERNAME", "LOGNAME"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|s| !s.trim().is_empty()))
        .unwrap_or_else(|| "local".to_string())
}

/// Runs the console until Ctrl-C.
pub fn run(args: &ConsoleArgs) -> anyhow::Result<ExitCode> {
    let path = args.store.join("ichigen.db");
    if !path.is_file() {
        anyhow::bail!(
            "no ichigen store at {}: run `ichigen demo --dir {}` first, or pass --store",
            path.display(),
            args.store.display()
        );
    }
    let store = SqliteStore::open(&path).with_context(|| format!("opening {}", path.display()))?;
    // The console serves until the process ends: the store lives as long.
    let store: &'static SqliteStore = Box::leak(Box::new(store));
    // Staff actions' mails go on the store's durable mail queue; this process sends them at once
    // (into the outbox, or through the shop's relays), as `ichigen orders release|hold` does.
    let outbox = EmlOutbox::for_store(args.store.join("outbox"), store)?;
    let notifier = Notifier::new(store, store, store, outbox, ichigen_marketplaces::policies(), mail::LEASE)
        .with_relays(SmtpRelays::new(store));
    let mail = LocalStaffMail::new(store, notifier);
    let staff = args.staff.clone().filter(|s| !s.trim().is_empty()).unwrap_or_else(os_user);
    let login = LoginToken::generate().map_err(|e| anyhow::anyhow!("no random token from the OS: {e}"))?;
    let token = login.as_str().to_string();
    let settings = Settings { shop_id: args.shop.clone(), staff: staff.clone() };
    let router = Console::new(store, mail, settings, login).router();

    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", args.port))
            .await
            .with_context(|| format!("binding 127.0.0.1:{}", args.port))?;
        let port = listener.local_addr()?.port();
        let mut out = std::io::stdout().lock();
        writeln!(out, "ichigen console: shop {} as staff {staff}, store {}", args.shop, args.store.display())?;
        writeln!(out, "open (once; the link logs this browser in): http://127.0.0.1:{port}/login?token={token}")?;
        out.flush()?;
        drop(out);
        axum::serve(listener, router)
            .with_graceful_shutdown(async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await
            .context("serving the console")?;
        Ok(ExitCode::SUCCESS)
    })
}
