//! `ichigen blacklist add|remove|list`: the shop's blacklist in the store, next to the entries of
//! its rules file. The processor matches new and changed orders against both.

use std::io::Write;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Subcommand, ValueEnum};
use comfy_table::Table;
use comfy_table::presets::UTF8_FULL_CONDENSED;
use ichigen_core::Rules;
use ichigen_core::pipeline::ShopDirectory;
use ichigen_core::rules::BlacklistEntry;
use serde::Serialize;

use crate::backend::{Backend, StoreArgs};

/// Output formats of `blacklist list`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BlacklistFormat {
    /// A table for the terminal.
    Table,
    /// One JSON line per entry.
    Json,
}

/// `ichigen blacklist` subcommands.
#[derive(Debug, Subcommand)]
pub enum BlacklistCommand {
    /// Add an entry. It matches on name + phone, phone alone, e-mail, or the full address; a name
    /// alone is refused (too many people share a name).
    Add {
        /// Buyer or recipient name (needs a phone, e-mail or address too).
        #[arg(long)]
        name: Option<String>,
        /// Phone number, any format.
        #[arg(long)]
        phone: Option<String>,
        /// E-mail address.
        #[arg(long)]
        email: Option<String>,
        /// Full address with prefecture, e.g. 東京都千代田区千代田1-1 見本ハイツ101.
        #[arg(long)]
        address: Option<String>,
        /// Why, shown to staff with the finding.
        #[arg(long, default_value = "")]
        reason: String,
    },
    /// Remove an entry added here, by the id `blacklist list` shows.
    Remove {
        /// The entry's id.
        id: String,
    },
    /// List the entries added here (with ids) and those of the shop's rules file.
    List {
        /// table or json.
        #[arg(long, value_enum, default_value = "table")]
        format: BlacklistFormat,
    },
}

/// One listed entry.
#[derive(Serialize)]
struct Listed {
    /// The id (entries added here), or `rules` for the rules file's.
    id: String,
    #[serde(flatten)]
    entry: BlacklistEntry,
}

/// Runs a `blacklist` subcommand.
pub fn run(store_args: &StoreArgs, command: &BlacklistCommand) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async {
        match store_args.open_existing().await? {
            Backend::Local(local) => dispatch(&local.store, &store_args.shop, command).await,
            Backend::Aws(aws) => dispatch(&aws.store, &store_args.shop, command).await,
        }
    })
}

fn given(v: &Option<String>) -> Option<String> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string)
}

async fn dispatch<D: ShopDirectory>(store: &D, shop: &str, command: &BlacklistCommand) -> anyhow::Result<ExitCode> {
    match command {
        BlacklistCommand::Add { name, phone, email, address, reason } => {
            let entry = BlacklistEntry {
                name: given(name),
                phone: given(phone),
                email: given(email),
                address: given(address),
                reason: reason.trim().to_string(),
            };
            if let Err(why) = entry.validate() {
                bail!("ブラックリストに登録できません / cannot add this blacklist entry: {why}");
            }
            let id = store.add_blacklisted(shop, &entry).await.context("adding the blacklist entry")?;
            println!("added blacklist entry {id}; new and changed orders are matched against it from now on");
        }
        BlacklistCommand::Remove { id } => {
            if !store.remove_blacklisted(shop, id).await.context("removing the blacklist entry")? {
                eprintln!("ichigen blacklist remove: no entry {id} in shop {shop} (see `ichigen blacklist list`)");
                return Ok(ExitCode::from(1));
            }
            println!("removed blacklist entry {id}");
        }
        BlacklistCommand::List { format } => {
            let mut listed: Vec<Listed> = store
                .blacklist(shop)
                .await
                .context("reading the blacklist")?
                .into_iter()
                .map(|(id, entry)| Listed { id, entry })
                .collect();
            let settings = store.shop(shop).await.context("reading the shop settings")?;
            if let Some(rules) = settings.as_ref().map(|s| s.rules_toml.as_str()).filter(|t| !t.trim().is_empty()) {
                let rules = Rules::from_toml(rules).with_context(|| format!("the rules of shop {shop}"))?;
                listed.extend(rules.blacklist.into_iter().map(|entry| Listed { id: "rules".into(), entry }));
            }
            print_list(&listed, *format)?;
            // Entries stored before weak ones were refused, or weak in the rules file: the checks
            // skip them. Staff may see their own list; the id says which.
            let mut in_rules = 0;
            for l in &listed {
                in_rules += usize::from(l.id == "rules");
                if let Some(why) = l.entry.weakness() {
                    let which = if l.id == "rules" {
                        format!("rules file entry {in_rules}")
                    } else {
                        format!("entry {}", l.id)
                    };
                    eprintln!("ichigen blacklist: {which} is ignored by the checks: {why}");
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_list(listed: &[Listed], format: BlacklistFormat) -> anyhow::Result<()> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match format {
        BlacklistFormat::Json => {
            for l in listed {
                serde_json::to_writer(&mut out, l)?;
                writeln!(out)?;
            }
        }
        BlacklistFormat::Table => {
            let mut table = Table::new();
            table
                .load_preset(UTF8_FULL_CONDENSED)
                .set_header(vec!["id", "name", "phone", "email", "address", "reason"]);
            let cell = |v: &Option<String>| v.clone().unwrap_or_default();
            for l in listed {
                let e = &l.entry;
                table.add_row(vec![
                    l.id.clone(),
                    cell(&e.name),
                    cell(&e.phone),
                    cell(&e.email),
                    cell(&e.address),
                    e.reason.clone(),
                ]);
            }
            writeln!(out, "{table}")?;
            writeln!(out, "{} entries (id \"rules\": from the shop's rules file, changed there)", listed.len())?;
        }
    }
    Ok(())
}
