//! `ichigen mail bounces|relay set|drain|digest`: what the mail services reported (bounces,
//! complaints) per order, a shop's marketplace relay settings (on this machine, or in its AWS
//! credentials parameter), sending the buyer mails that wait for a relay, and the staff digest.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, bail};
use chrono::Utc;
use clap::Subcommand;
use ichigen_aws::DynamoStore;
use ichigen_aws::{SecretCache, SesMailer, SsmRelayDirectory};
use ichigen_core::Marketplace;
use ichigen_core::pipeline::{
    Digested, MailEvents, MailJob, MessageFailure, Notified, Notifier, QueueSent, RelayMailers, RelaySettings,
    send_digest,
};
use ichigen_local::{EmlOutbox, MAIL_QUEUE, SqliteQueue, SqliteStore};
use ichigen_smtp::SmtpRelays;

use crate::backend::{Aws, Backend, Local, StoreArgs};
use crate::view::jst_minutes;

/// How long a mail ledger claim made by a mail command blocks other senders.
pub(crate) const LEASE: Duration = Duration::from_secs(120);
/// Waiting mails one `drain` sends at most.
const DRAIN_LIMIT: usize = 1000;

/// `ichigen mail` subcommands.
#[derive(Debug, Subcommand)]
pub enum MailCommand {
    /// List the bounces and complaints the mail service reported, newest first, by order. An address
    /// that bounced for good or complained is not mailed again.
    Bounces,
    /// Store the shop's relay settings for a marketplace on this machine (on AWS they go into the
    /// marketplace's credentials parameter: docs/DEPLOY.md), then send the mails waiting for it.
    Relay {
        #[command(subcommand)]
        command: RelayCommand,
    },
    /// Send the mail jobs waiting on the embedded mail queue (a failed send of an earlier run or
    /// staff command), then the shop's buyer mails waiting for a marketplace relay (each once).
    Drain {
        /// rakuten or aupay.
        #[arg(long, default_value = "rakuten")]
        marketplace: Marketplace,
        /// AWS only: the SSM parameter prefix of the credentials (as the notifier's SECRET_PREFIX).
        #[arg(long, default_value = DEFAULT_SECRET_PREFIX)]
        secret_prefix: String,
    },
    /// Send the shop's staff digest of the window that last closed, if it chose digests
    /// (`ichigen shop digest`) and something came in; a second run for the same window sends nothing.
    /// On AWS the notifier does this on its schedule.
    Digest,
}

/// Where the deployed credentials parameters are (the notifier's SECRET_PREFIX, infra default).
const DEFAULT_SECRET_PREFIX: &str = "/ichigen/credentials/";

/// `ichigen mail relay` subcommands.
#[derive(Debug, Subcommand)]
pub enum RelayCommand {
    /// Read the settings (JSON: host, port, auth_id, password, from, ca_pem) from a file.
    Set {
        /// rakuten or aupay.
        #[arg(long, default_value = "rakuten")]
        marketplace: Marketplace,
        /// The JSON file (楽天: host defaults to sub.fw.rakuten.ne.jp, port to 587).
        #[arg(long)]
        file: PathBuf,
        /// AWS only: the SSM parameter prefix of the credentials (as the notifier's SECRET_PREFIX).
        #[arg(long, default_value = DEFAULT_SECRET_PREFIX)]
        secret_prefix: String,
    },
}

/// Runs a `mail` subcommand.
pub fn run(store_args: &StoreArgs, command: &MailCommand) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async {
        let backend = store_args.open_existing().await?;
        let shop = store_args.shop.as_str();
        match (command, backend) {
            (MailCommand::Bounces, Backend::Local(local)) => bounces(&local.store, shop).await,
            (MailCommand::Bounces, Backend::Aws(aws)) => bounces(&aws.store, shop).await,
            (MailCommand::Relay { command: RelayCommand::Set { marketplace, file, .. } }, Backend::Local(local)) => {
                let settings = read_settings(*marketplace, file)?;
                local.store.put_relay_settings(shop, *marketplace, &settings)?;
                println!(
                    "{shop}: {marketplace} relay settings stored ({}:{}, from {})",
                    settings.host, settings.port, settings.from
                );
                drain_local(&local, shop, *marketplace).await
            }
            (
                MailCommand::Relay { command: RelayCommand::Set { marketplace, file, secret_prefix } },
                Backend::Aws(aws),
            ) => {
                let settings = read_settings(*marketplace, file)?;
                let name = format!("{secret_prefix}{shop}/{marketplace}");
                put_relay_in_credentials(&aws, &name, file).await?;
                println!(
                    "{shop}: {marketplace} relay settings stored in {name} ({}:{}, from {})",
                    settings.host, settings.port, settings.from
                );
                drain(&aws_notifier(&aws, secret_prefix), shop, *marketplace).await
            }
            (MailCommand::Drain { marketplace, .. }, Backend::Local(local)) => {
                drain_local(&local, shop, *marketplace).await
            }
            (MailCommand::Drain { marketplace, secret_prefix }, Backend::Aws(aws)) => {
                drain(&aws_notifier(&aws, secret_prefix), shop, *marketplace).await
            }
            (MailCommand::Digest, Backend::Local(local)) => {
                let outbox = EmlOutbox::for_store(local.dir.join("outbox"), &local.store)?;
                let notifier = Notifier::new(
                    &local.store,
                    &local.store,
                    &local.store,
                    &outbox,
                    ichigen_marketplaces::policies(),
                    LEASE,
                );
                digest(&notifier, shop).await
            }
            (MailCommand::Digest, Backend::Aws(aws)) => digest(&aws_notifier(&aws, DEFAULT_SECRET_PREFIX), shop).await,
        }
    })
}

/// The notifier on AWS, as the Lambda builds it: SES for the shop's sender, the relays' settings
/// from the credentials parameters under `secret_prefix`.
fn aws_notifier<'a>(
    aws: &'a Aws,
    secret_prefix: &str,
) -> Notifier<&'a DynamoStore, &'a DynamoStore, &'a DynamoStore, SesMailer, SmtpRelays<SsmRelayDirectory>> {
    let mailer = SesMailer::new(aws_sdk_sesv2::Client::new(&aws.sdk), None);
    let secrets = SecretCache::new(aws_sdk_ssm::Client::new(&aws.sdk));
    let relays = SmtpRelays::new(SsmRelayDirectory::new(
        secrets,
        secret_prefix.to_string(),
        ichigen_marketplaces::relay::relay_of_secret,
    ));
    Notifier::new(&aws.store, &aws.store, &aws.store, mailer, ichigen_marketplaces::policies(), LEASE)
        .with_relays(relays)
}

/// Writes the relay settings of `file` into the credentials parameter `name` as its `mail_relay`
/// (the rest of the parameter, and its encryption key, kept as they are).
async fn put_relay_in_credentials(aws: &Aws, name: &str, file: &PathBuf) -> anyhow::Result<()> {
    let ssm = aws_sdk_ssm::Client::new(&aws.sdk);
    let current = ssm
        .get_parameter()
        .name(name)
        .with_decryption(true)
        .send()
        .await
        .with_context(|| format!("reading {name}: the shop's credentials must be stored first (docs/DEPLOY.md)"))?;
    let text = current.parameter.and_then(|p| p.value).unwrap_or_default();
    let mut credentials: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| anyhow::anyhow!("{name} is not JSON (line {}, column {})", e.line(), e.column()))?;
    let Some(object) = credentials.as_object_mut() else { bail!("{name} is not a JSON object") };
    let relay: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(file)?)?;
    object.insert("mail_relay".to_string(), relay);
    // The key the parameter is encrypted with (the project's customer managed key when opted in).
    let described = ssm
        .describe_parameters()
        .parameter_filters(
            aws_sdk_ssm::types::ParameterStringFilter::builder().key("Name").option("Equals").values(name).build()?,
        )
        .send()
        .await
        .with_context(|| format!("describing {name}"))?;
    let key_id = described.parameters.unwrap_or_default().into_iter().next().and_then(|p| p.key_id);
    ssm.put_parameter()
        .name(name)
        .value(credentials.to_string())
        .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
        .set_key_id(key_id)
        .overwrite(true)
        .send()
        .await
        .with_context(|| format!("writing {name}"))?;
    Ok(())
}

/// Sends the shop's due staff digest through `notifier` and says what happened.
async fn digest<S, D, L, M, R>(notifier: &Notifier<S, D, L, M, R>, shop: &str) -> anyhow::Result<ExitCode>
where
    S: ichigen_core::pipeline::OrderStore,
    D: ichigen_core::pipeline::ShopDirectory,
    L: ichigen_core::pipeline::MailLedger + ichigen_core::pipeline::ParkedMail + MailEvents,
    M: ichigen_core::pipeline::Mailer,
    R: ichigen_core::pipeline::RelayMailers,
{
    match send_digest(notifier, shop, Utc::now().fixed_offset()).await? {
        Digested::NotDigestMode => {
            println!("{shop}: staff get one alert per held order (no digest chosen: `ichigen shop digest`)")
        }
        Digested::NothingNew => println!("{shop}: nothing came in during the last window: no digest"),
        Digested::Done { notified: Notified::Sent(id), held, warned } => {
            println!("{shop}: digest sent ({held} held, {warned} with a warning; message id {id})")
        }
        Digested::Done { notified, .. } => println!("{shop}: this window's digest went out before ({notified:?})"),
    }
    Ok(ExitCode::SUCCESS)
}

/// The settings of `file`, read as the credentials' `mail_relay` object is.
fn read_settings(marketplace: Marketplace, file: &PathBuf) -> anyhow::Result<RelaySettings> {
    let text = std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let relay: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| anyhow::anyhow!("{} is not JSON (line {}, column {})", file.display(), e.line(), e.column()))?;
    // Checked as part of a credentials object of the marketplace: one reader, one set of rules.
    let probe = match marketplace {
        Marketplace::Rakuten => {
            serde_json::json!({"marketplace": "rakuten", "service_secret": "-", "license_key": "-", "mail_relay": relay})
        }
        Marketplace::Aupay => {
            serde_json::json!({"marketplace": "aupay", "api_key": "-", "shop_id": "-", "mail_relay": relay})
        }
        other => bail!("{other} has no mail relay: its buyer mail goes through the shop's sender"),
    };
    let secret = ichigen_marketplaces::MarketplaceSecret::from_json(&probe.to_string())
        .with_context(|| format!("{}", file.display()))?;
    secret.mail_relay()?.ok_or_else(|| anyhow::anyhow!("{}: no relay settings", file.display()))
}

/// The notifier of the embedded store: shop mail into `outbox`, relay mail through the relays
/// whose settings the store keeps.
pub(crate) fn local_notifier<'a>(
    local: &'a Local,
    outbox: &'a EmlOutbox,
) -> Notifier<&'a SqliteStore, &'a SqliteStore, &'a SqliteStore, &'a EmlOutbox, SmtpRelays<&'a SqliteStore>> {
    Notifier::new(&local.store, &local.store, &local.store, outbox, ichigen_marketplaces::policies(), LEASE)
        .with_relays(SmtpRelays::new(&local.store))
}

/// Sends the jobs waiting on the embedded mail queue with the notifier's queue handler
/// ([`Notifier::send_queue`], as staff decisions and the notifier Lambda do): sent jobs leave the
/// queue, failed ones stay for the next drain and are dead-lettered after their last try.
pub(crate) async fn drain_mail_queue<R: RelayMailers>(
    store: &SqliteStore,
    notifier: &Notifier<&SqliteStore, &SqliteStore, &SqliteStore, &EmlOutbox, R>,
) -> anyhow::Result<QueueSent> {
    let queue = SqliteQueue::<MailJob>::new(store, MAIL_QUEUE);
    notifier.send_queue(&queue, || Utc::now().fixed_offset()).await.context("draining the mail queue")
}

/// Sends what waits on the embedded mail queue, then what waits for `marketplace`'s relay of
/// `shop`, into its outbox.
async fn drain_local(local: &Local, shop: &str, marketplace: Marketplace) -> anyhow::Result<ExitCode> {
    let outbox = EmlOutbox::for_store(local.dir.join("outbox"), &local.store)?;
    let notifier = local_notifier(local, &outbox);
    let queued = drain_mail_queue(&local.store, &notifier).await?;
    let sent = queued.iter().filter(|(_, o)| matches!(o, Ok(Notified::Sent(_)))).count();
    let failed: Vec<&MessageFailure> = queued.iter().filter_map(|(_, o)| o.as_ref().err()).collect();
    println!(
        "メールキュー: {sent} 通送信、{} 件は送信済みか送る必要なし、{} 件失敗 (mail queue: {sent} sent, {} settled, {} failed)",
        queued.len() - sent - failed.len(),
        failed.len(),
        queued.len() - sent - failed.len(),
        failed.len()
    );
    for f in &failed {
        eprintln!("ichigen mail drain: {}", f.reason);
    }
    let code = drain(&notifier, shop, marketplace).await?;
    Ok(if failed.is_empty() { code } else { ExitCode::from(1) })
}

async fn drain<S, D, L, M, R>(
    notifier: &Notifier<S, D, L, M, R>,
    shop: &str,
    marketplace: Marketplace,
) -> anyhow::Result<ExitCode>
where
    S: ichigen_core::pipeline::OrderStore,
    D: ichigen_core::pipeline::ShopDirectory,
    L: ichigen_core::pipeline::MailLedger + ichigen_core::pipeline::ParkedMail + MailEvents,
    M: ichigen_core::pipeline::Mailer,
    R: ichigen_core::pipeline::RelayMailers,
{
    let drained = notifier.drain(shop, marketplace, Utc::now().fixed_offset(), DRAIN_LIMIT).await?;
    println!(
        "{shop}: {} waiting {marketplace} mail(s) sent, {} settled (sent before or nothing to send), {} still waiting",
        drained.sent, drained.settled, drained.waiting
    );
    if let Some(e) = drained.error {
        eprintln!("ichigen mail drain: {e}");
        return Ok(ExitCode::from(1));
    }
    Ok(if drained.waiting > 0 { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

async fn bounces<E: MailEvents>(store: &E, shop: &str) -> anyhow::Result<ExitCode> {
    let events = store.events(shop).await?;
    if events.is_empty() {
        println!("{shop}: no bounces or complaints recorded (楽天's relay reports none: see docs/DEPLOY.md)");
        return Ok(ExitCode::SUCCESS);
    }
    for e in &events {
        // For the shop's own staff: the address is what they need to correct.
        println!(
            "{}  {}/{}  {}  {}  {}  ({})",
            jst_minutes(e.at),
            e.marketplace,
            e.order_id,
            e.mail_kind,
            e.kind.label(),
            e.address,
            e.detail
        );
    }
    Ok(ExitCode::SUCCESS)
}
