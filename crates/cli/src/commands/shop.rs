//! `ichigen shop`: a deployed shop's settings that are the shop's own business — its mail
//! templates, contact block and payment-received mail — in the embedded store or on AWS. Terraform
//! creates the settings item and never overwrites these.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use ichigen_core::pipeline::mail::default_template;
use ichigen_core::pipeline::template_check::check_template;
use ichigen_core::pipeline::{MailKind, MailTemplate, ShopDirectory, ShopSettings, StaffAlerts};

use crate::backend::{Backend, StoreArgs};

/// `ichigen shop` subcommands.
#[derive(Debug, Subcommand)]
pub enum ShopCommand {
    /// Print the shop's settings: sender, staff, contact, payment mail, which templates are set.
    Show,
    /// The shop's mail templates (thank_you, shipping, payment_received, staff_alert).
    Template {
        #[command(subcommand)]
        command: TemplateCommand,
    },
    /// The shop's contact block (運営会社, 所在地, 電話, メール, 営業時間) shown in buyer mails.
    Contact {
        #[command(subcommand)]
        command: ContactCommand,
    },
    /// Turn the payment-received mail (入金確認) to buyers who pay in advance on or off.
    PaymentMail {
        /// on or off.
        #[arg(value_parser = ["on", "off"])]
        state: String,
    },
    /// How staff hear of held orders: `off` (one alert per order, the default), `daily` (one
    /// mail a day), or a digest every MINUTES (15, 30, 60, 120, 180, 240, 360, 480, 720).
    Digest {
        /// off, daily, or minutes.
        every: String,
    },
    /// Where the shop's staff console is: the staff alert mail then links to the held order's
    /// page there (`ichigen shop console-url http://127.0.0.1:8080`; `off` removes the link).
    ConsoleUrl {
        /// http(s)://host[:port], or off.
        url: String,
    },
}

/// `ichigen shop template` subcommands.
#[derive(Debug, Subcommand)]
pub enum TemplateCommand {
    /// Print the shop's template of KIND, or the built-in default when it has none.
    Show {
        /// thank_you, shipping, payment_received or staff_alert.
        kind: MailKind,
    },
    /// Check a template against sample orders of every marketplace and save it; a template that
    /// does not render is refused with its line and variable, and nothing is saved.
    Set(SetArgs),
    /// Go back to the built-in default of KIND.
    Reset {
        /// thank_you, shipping, payment_received or staff_alert.
        kind: MailKind,
    },
}

/// Where a template comes from.
#[derive(Debug, Args)]
pub struct SetArgs {
    /// thank_you, shipping, payment_received or staff_alert.
    kind: MailKind,
    /// The subject template (one line).
    #[arg(long, requires = "body_file", conflicts_with = "file")]
    subject_file: Option<PathBuf>,
    /// The body template.
    #[arg(long, requires = "subject_file", conflicts_with = "file")]
    body_file: Option<PathBuf>,
    /// One file: the first line is the subject, the rest (after an optional blank line) the body.
    #[arg(long)]
    file: Option<PathBuf>,
}

/// `ichigen shop contact` subcommands.
#[derive(Debug, Subcommand)]
pub enum ContactCommand {
    /// Set fields of the contact block; fields left out keep their value, "" clears one.
    Set {
        /// 運営会社.
        #[arg(long)]
        company: Option<String>,
        /// 郵便番号.
        #[arg(long)]
        postal_code: Option<String>,
        /// 所在地, from the prefecture on.
        #[arg(long)]
        address: Option<String>,
        /// 電話番号.
        #[arg(long)]
        phone: Option<String>,
        /// お問い合わせ先のメールアドレス.
        #[arg(long)]
        email: Option<String>,
        /// 営業時間.
        #[arg(long)]
        hours: Option<String>,
    },
}

/// Runs a `shop` subcommand.
pub fn run(store_args: &StoreArgs, command: &ShopCommand) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async {
        match store_args.open_existing().await? {
            Backend::Local(local) => dispatch(&local.store, &store_args.shop, command).await,
            Backend::Aws(aws) => dispatch(&aws.store, &store_args.shop, command).await,
        }
    })
}

async fn load<D: ShopDirectory>(store: &D, shop: &str) -> anyhow::Result<ShopSettings> {
    store.shop(shop).await.context("reading the shop settings")?.with_context(|| {
        format!("shop {shop} has no settings: deploy it with Terraform (or run `ichigen demo`) first, or pass --shop")
    })
}

async fn dispatch<D: ShopDirectory>(store: &D, shop_id: &str, command: &ShopCommand) -> anyhow::Result<ExitCode> {
    let mut shop = load(store, shop_id).await?;
    match command {
        ShopCommand::Show => {
            print_show(&shop);
            return Ok(ExitCode::SUCCESS);
        }
        ShopCommand::Template { command: TemplateCommand::Show { kind } } => {
            match shop.templates.get(kind) {
                Some(t) => {
                    println!("# {kind}: shop {shop_id}'s own template");
                    println!("{}\n\n{}", t.subject.trim_end(), t.body);
                }
                None => {
                    let (subject, body) = default_template(*kind);
                    println!("# {kind}: the built-in default (shop {shop_id} has none of its own)");
                    println!("{}\n\n{}", subject.trim_end(), body);
                }
            }
            return Ok(ExitCode::SUCCESS);
        }
        ShopCommand::Template { command: TemplateCommand::Set(args) } => {
            let template = read_template(args)?;
            let policies = ichigen_marketplaces::registry::policies();
            match check_template(args.kind, &shop, &template, &policies) {
                Ok(n) => {
                    shop.templates.insert(args.kind, template);
                    store.put_shop(&shop).await.context("saving the shop settings")?;
                    println!(
                        "{} テンプレートを保存しました（見本の注文 {n} 件で確認済み）/ saved; the next {} mail uses it",
                        args.kind, args.kind
                    );
                }
                Err(e) => {
                    eprintln!("ichigen shop template set: テンプレートを保存しませんでした / not saved: {e}");
                    return Ok(ExitCode::from(1));
                }
            }
        }
        ShopCommand::Template { command: TemplateCommand::Reset { kind } } => {
            if shop.templates.remove(kind).is_none() {
                println!("{kind}: shop {shop_id} already uses the built-in default");
                return Ok(ExitCode::SUCCESS);
            }
            store.put_shop(&shop).await.context("saving the shop settings")?;
            println!("{kind}: back to the built-in default");
        }
        ShopCommand::Contact {
            command: ContactCommand::Set { company, postal_code, address, phone, email, hours },
        } => {
            let c = &mut shop.contact;
            for (field, value) in [
                (&mut c.company, company),
                (&mut c.postal_code, postal_code),
                (&mut c.address, address),
                (&mut c.phone, phone),
                (&mut c.email, email),
                (&mut c.hours, hours),
            ] {
                if let Some(v) = value {
                    if v.chars().any(char::is_control) {
                        bail!("連絡先は1行で入力してください / contact fields are one line each");
                    }
                    *field = v.trim().to_string();
                }
            }
            if !c.email.is_empty() && !ichigen_core::pipeline::mail::is_mail_address(&c.email) {
                bail!("--email はメールアドレスではありません / --email is not a mail address");
            }
            store.put_shop(&shop).await.context("saving the shop settings")?;
            println!("contact saved; buyer mails show it from the next one");
        }
        ShopCommand::ConsoleUrl { url } => {
            let url = url.trim();
            if url == "off" {
                shop.console_url = None;
            } else if (url.starts_with("http://") || url.starts_with("https://"))
                && !url.chars().any(|c| c.is_control() || c.is_whitespace())
            {
                shop.console_url = Some(url.trim_end_matches('/').to_string());
            } else {
                bail!(
                    "コンソールのURLは http:// か https:// で始めてください / the console URL starts with http:// or https://"
                );
            }
            store.put_shop(&shop).await.context("saving the shop settings")?;
            match &shop.console_url {
                Some(u) => println!("staff alerts link to the held order's page under {u}/orders/"),
                None => println!("staff alerts name the release command only"),
            }
        }
        ShopCommand::PaymentMail { state } => {
            shop.payment_mail = state == "on";
            store.put_shop(&shop).await.context("saving the shop settings")?;
            println!(
                "payment-received mail {}",
                if shop.payment_mail {
                    "on: buyers who pay in advance are told when their payment arrives"
                } else {
                    "off"
                }
            );
        }
        ShopCommand::Digest { every } => {
            shop.staff_alerts = match every.as_str() {
                "off" => StaffAlerts::Each,
                "daily" => StaffAlerts::digest(24 * 60).map_err(anyhow::Error::msg)?,
                minutes => {
                    let n: u32 = minutes.parse().map_err(|_| {
                        anyhow::anyhow!(
                            "off, daily、または分数を指定してください / give off, daily or minutes (got {minutes:?})"
                        )
                    })?;
                    StaffAlerts::digest(n).map_err(anyhow::Error::msg)?
                }
            };
            store.put_shop(&shop).await.context("saving the shop settings")?;
            println!("staff alerts: {}", alerts_text(&shop.staff_alerts));
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// How the shop's staff hear of held orders, in words.
fn alerts_text(alerts: &StaffAlerts) -> String {
    match alerts {
        StaffAlerts::Each => "one mail per held order, at once".to_string(),
        StaffAlerts::Digest { every_minutes: 1440 } => {
            "a daily digest of the day before (sent by the schedule on AWS, or `ichigen mail digest`)".to_string()
        }
        StaffAlerts::Digest { every_minutes } => {
            format!("a digest every {every_minutes} minutes (sent by the schedule on AWS, or `ichigen mail digest`)")
        }
    }
}

fn read_template(args: &SetArgs) -> anyhow::Result<MailTemplate> {
    let read = |p: &PathBuf| std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()));
    match (&args.file, &args.subject_file, &args.body_file) {
        (Some(file), None, None) => {
            let text = read(file)?;
            let (subject, body) = text.split_once('\n').unwrap_or((text.as_str(), ""));
            let body = body.strip_prefix("\r\n").or_else(|| body.strip_prefix('\n')).unwrap_or(body);
            Ok(MailTemplate { subject: subject.trim_end_matches('\r').to_string(), body: body.to_string() })
        }
        (None, Some(s), Some(b)) => Ok(MailTemplate { subject: read(s)?.trim_end().to_string(), body: read(b)? }),
        _ => bail!("give --file, or --subject-file and --body-file"),
    }
}

fn print_show(shop: &ShopSettings) {
    let c = &shop.contact;
    println!("shop: {} ({})", shop.shop_id, shop.shop_name);
    println!("mail_from: {}", shop.mail_from);
    if let Some(r) = &shop.reply_to {
        println!("reply_to: {r}");
    }
    println!("staff_to: {}", shop.staff_to.join(", "));
    println!("payment_mail: {}", if shop.payment_mail { "on" } else { "off" });
    println!("staff_alerts: {}", alerts_text(&shop.staff_alerts));
    println!("contact:");
    for (name, v) in [
        ("company", &c.company),
        ("postal_code", &c.postal_code),
        ("address", &c.address),
        ("phone", &c.phone),
        ("email", &c.email),
        ("hours", &c.hours),
    ] {
        println!("  {name}: {v}");
    }
    println!("templates:");
    for kind in MailKind::ALL {
        println!(
            "  {kind}: {}",
            if shop.templates.contains_key(&kind) { "the shop's own" } else { "built-in default" }
        );
    }
}
