//! `ichigen orders list|show|release|hold|ship|bundle|unbundle`: the staff's order list across every
//! marketplace, the two decisions staff make on a held order, a tracking number by hand, and 同梱.
//! Runs on the embedded store of `--dir`, or on DynamoDB with `--aws-endpoint` / `--aws`.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Context;
use chrono::{DateTime, FixedOffset, NaiveDate, SecondsFormat, Utc};
use clap::{Subcommand, ValueEnum};
use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{CellAlignment, Table};
use ichigen_aws::SqsQueue;
use ichigen_core::pipeline::bundle::{self, BundleError};
use ichigen_core::pipeline::shipping::record_tracking;
use ichigen_core::pipeline::tracking;
use ichigen_core::pipeline::{
    Decided, Decision, MailJob, Notified, NotifierQueue, OrderStore, StaffDecision, StaffError, StaffMail, StoredOrder,
    staff,
};
use ichigen_core::pipeline::{Recorded, ShipError, ShipState, TrackingWrites};
use ichigen_core::stock::StockStore;
use ichigen_core::{Carrier, OrderStatus, Tracking};
use ichigen_local::{EmlOutbox, LocalStaffMail};

use crate::backend::{Aws, Backend, Local, StoreArgs};
use crate::view::{Filters, OrderView, findings_summary, items_summary, jst, jst_minutes, resolve, wire, yen};

/// Output formats of `orders list`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    /// A table for the terminal.
    Table,
    /// One JSON line per order, as in the demo's orders.jsonl.
    Json,
    /// One CSV row per order, as `ichigen export` writes for Excel (UTF-8 with BOM, CRLF).
    Csv,
}

/// `ichigen orders` subcommands.
#[derive(Debug, Subcommand)]
pub enum OrdersCommand {
    /// List stored orders of every marketplace, oldest first; the filters combine with AND.
    List {
        /// Which orders.
        #[command(flatten)]
        filters: Filters,
        /// table, json or csv.
        #[arg(long, value_enum, default_value = "table")]
        format: ListFormat,
    },
    /// Show one order: status, findings, items, destination, staff decision.
    Show {
        /// `<marketplace>/<order id>` (as in the staff alert), or an order id found in one marketplace only.
        id: String,
        /// Print the stored record as JSON instead.
        #[arg(long)]
        json: bool,
    },
    /// Release a held order: its hold findings stop holding it, and the buyer's thank-you mail that
    /// was held back is put on the durable mail queue and sent now (never twice); if the send
    /// fails, it stays queued for `ichigen mail drain` or the next demo run.
    Release {
        /// `<marketplace>/<order id>`, or an order id found in one marketplace only.
        id: String,
        /// AWS only: the notifier's SQS mail queue (default: the queue `<table>-mail`).
        #[arg(long, env = "ICHIGEN_MAIL_QUEUE_URL")]
        mail_queue_url: Option<String>,
    },
    /// Record one parcel's tracking number (伝票番号): the parcel goes 出荷済 and the number is
    /// registered on the marketplace by the pair's next pull; the buyer's shipping mail follows
    /// once the marketplace accepted it (never for Amazon).
    Ship {
        /// `<marketplace>/<order id>`, or an order id found in one marketplace only.
        id: String,
        /// yamato, sagawa, japanpost (or ヤマト, 佐川, 日本郵便), other.
        #[arg(long, value_parser = parse_carrier)]
        carrier: Carrier,
        /// The tracking number as printed (hyphens are fine).
        #[arg(long)]
        number: String,
        /// Ship date (2026-12-01); today when left out.
        #[arg(long)]
        date: Option<NaiveDate>,
        /// Which destination of a multi-destination order (1, 2, ...).
        #[arg(long, default_value_t = 1)]
        destination: usize,
    },
    /// 同梱: ship orders to the same recipient in one box, in the parcel of the first order named.
    /// They share its label, 納品書 and tracking number; each is still written back to its own
    /// marketplace and each buyer gets a shipping mail.
    Bundle {
        /// The order whose parcel the others go into.
        lead: String,
        /// The orders to pack into it.
        #[arg(required = true)]
        orders: Vec<String>,
    },
    /// Ship a 同梱 order on its own again.
    Unbundle {
        /// `<marketplace>/<order id>`, or an order id found in one marketplace only.
        id: String,
    },
    /// Hold an order by hand: no buyer mail goes out until it is released.
    Hold {
        /// `<marketplace>/<order id>`, or an order id found in one marketplace only.
        id: String,
        /// Why, in staff's words (shown by `orders show`).
        #[arg(long)]
        reason: String,
        /// AWS only: the notifier's SQS mail queue (default: the queue `<table>-mail`).
        #[arg(long, env = "ICHIGEN_MAIL_QUEUE_URL")]
        mail_queue_url: Option<String>,
    },
}

fn now() -> DateTime<FixedOffset> {
    Utc::now().with_timezone(&jst())
}

/// Runs an `orders` subcommand.
pub fn run(store_args: &StoreArgs, command: &OrdersCommand) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async {
        let backend = store_args.open_existing().await?;
        let shop = store_args.shop.as_str();
        let decision = match command {
            OrdersCommand::Release { id, .. } => Some((id, None)),
            OrdersCommand::Hold { id, reason, .. } => Some((id, Some(reason))),
            _ => None,
        };
        let mail_queue_url = match command {
            OrdersCommand::Release { mail_queue_url, .. } | OrdersCommand::Hold { mail_queue_url, .. } => {
                mail_queue_url.as_deref()
            }
            _ => None,
        };
        match (backend, decision) {
            (Backend::Local(local), Some((id, reason))) => decide_local(&local, shop, id, reason).await,
            (Backend::Aws(aws), Some((id, reason))) => {
                decide_aws(&aws, &store_args.table, mail_queue_url, shop, id, reason).await
            }
            (Backend::Local(local), None) => {
                let done = dispatch(&local.store, shop, command).await;
                crate::backend::warn_skipped(&local.store);
                done
            }
            (Backend::Aws(aws), None) => dispatch(&aws.store, shop, command).await,
        }
    })
}

async fn dispatch<S>(store: &S, shop: &str, command: &OrdersCommand) -> anyhow::Result<ExitCode>
where
    S: OrderStore + TrackingWrites + StockStore,
{
    match command {
        OrdersCommand::List { filters, format } => list(store, shop, filters, *format).await,
        OrdersCommand::Show { id, json } => show(&resolve(store, shop, id).await?, *json),
        OrdersCommand::Ship { id, carrier, number, date, destination } => {
            ship(store, shop, id, *carrier, number, *date, *destination).await
        }
        OrdersCommand::Bundle { lead, orders } => bundle_orders(store, shop, lead, orders).await,
        OrdersCommand::Unbundle { id } => {
            let key = resolve(store, shop, id).await?.key();
            match bundle::unbundle(store, &key, now()).await {
                Ok(_) => {
                    println!("{}/{}: 同梱を解除しました。単独の荷物として出荷します", key.marketplace, key.order_id);
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => bundle_failed(e),
            }
        }
        // Decided in `run`, by backend: their mail goes on that backend's durable queue.
        OrdersCommand::Release { .. } | OrdersCommand::Hold { .. } => Ok(ExitCode::from(2)),
    }
}

/// `orders bundle`: packs the orders into the lead's parcel, all or none.
async fn bundle_orders<S: OrderStore>(
    store: &S,
    shop: &str,
    lead: &str,
    orders: &[String],
) -> anyhow::Result<ExitCode> {
    let lead = resolve(store, shop, lead).await?.key();
    let mut members = Vec::with_capacity(orders.len());
    for id in orders {
        members.push(resolve(store, shop, id).await?.key());
    }
    match bundle::bundle(store, &lead, &members, now()).await {
        Ok(packed) => {
            let names: Vec<String> =
                packed.iter().map(|s| format!("{}/{}", s.order.marketplace, s.order.order_id)).collect();
            println!(
                "{}/{} の荷物に同梱しました: {}(送り状・納品書・伝票番号を共有します)",
                lead.marketplace,
                lead.order_id,
                names.join(", ")
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => bundle_failed(e),
    }
}

/// A refused 同梱 is staff's to settle (exit 1); a store failure is an error.
fn bundle_failed(e: BundleError) -> anyhow::Result<ExitCode> {
    match e {
        BundleError::Port(_) | BundleError::Contended(_) => Err(e).context("changing the 同梱"),
        e => {
            eprintln!("ichigen orders: {e}");
            Ok(ExitCode::from(1))
        }
    }
}

fn parse_carrier(text: &str) -> Result<Carrier, String> {
    ichigen_core::labels::issued::parse_carrier(text)
        .ok_or_else(|| format!("unknown carrier {text:?} (yamato, sagawa, japanpost, other)"))
}

/// `orders ship`: records one number (出荷済) and queues its write-back.
async fn ship<S: OrderStore + TrackingWrites + StockStore>(
    store: &S,
    shop: &str,
    id: &str,
    carrier: Carrier,
    number: &str,
    date: Option<NaiveDate>,
    destination: usize,
) -> anyhow::Result<ExitCode> {
    let stored = resolve(store, shop, id).await?;
    let key = stored.key();
    let at = now();
    let tracking = Tracking {
        carrier,
        number: number.to_string(),
        shipped_at: Some(tracking::shipped_at(date, at)),
        shipment_id: None,
    };
    match record_tracking(store, store, &key, destination, tracking, at).await {
        Ok(Recorded::Shipped) => {
            println!(
                "{}/{} 送付先{destination}: 出荷済にしました。次の取り込みで{}に伝票番号を登録します",
                key.marketplace,
                key.order_id,
                ichigen_core::pipeline::mail::marketplace_name(key.marketplace)
            );
            Ok(ExitCode::SUCCESS)
        }
        Ok(Recorded::Unchanged) => {
            println!("{}/{} 送付先{destination}: この伝票番号は登録済みです(変更なし)", key.marketplace, key.order_id);
            Ok(ExitCode::SUCCESS)
        }
        Err(e @ (ShipError::Port(_) | ShipError::Contended(_))) => Err(e).context("recording the tracking number"),
        Err(e) => {
            eprintln!("ichigen orders ship: {e}");
            Ok(ExitCode::from(1))
        }
    }
}

async fn list<S: OrderStore>(store: &S, shop: &str, filters: &Filters, format: ListFormat) -> anyhow::Result<ExitCode> {
    let orders = filters.load(store, shop).await?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match format {
        ListFormat::Table => {
            let mut table = Table::new();
            table.load_preset(UTF8_FULL_CONDENSED).set_header(vec![
                "marketplace",
                "order id",
                "ordered at (JST)",
                "buyer",
                "prefecture",
                "payment",
                "delivery",
                "status",
                "shipping",
                "total",
                "items",
                "findings",
            ]);
            for s in &orders {
                let o = &s.order;
                // For the shop's own staff at their terminal: who and where, as the back offices show it.
                table.add_row(vec![
                    o.marketplace.to_string(),
                    o.order_id.clone(),
                    jst_minutes(o.ordered_at),
                    o.buyer.name.clone(),
                    o.ship_to.prefecture.clone(),
                    ichigen_core::japanese::payment_method(o.payment_method, o.marketplace),
                    ichigen_core::japanese::delivery_method(o.delivery.method).to_string(),
                    wire(&s.status),
                    s.ship_state().map_or("-", |st| st.label()).to_string(),
                    yen(o.totals.total),
                    items_summary(&o.items),
                    findings_summary(&s.findings),
                ]);
            }
            if let Some(col) = table.column_mut(9) {
                col.set_cell_alignment(CellAlignment::Right);
            }
            writeln!(out, "{table}")?;
            writeln!(out, "{} orders", orders.len())?;
            writeln!(out, "{}", shipping_counts(&orders))?;
        }
        ListFormat::Json => {
            for s in &orders {
                serde_json::to_writer(&mut out, &OrderView::from(s))?;
                writeln!(out)?;
            }
        }
        ListFormat::Csv => {
            // As `ichigen export` writes for Excel: BOM, CRLF, formula-like cells as text.
            let mut csv = ichigen_core::spreadsheet::csv_writer(&mut out)?;
            ichigen_core::spreadsheet::write_row(
                &mut csv,
                [
                    "marketplace",
                    "order_id",
                    "ordered_at",
                    "buyer",
                    "prefecture",
                    "payment",
                    "delivery",
                    "status",
                    "shipping",
                    "total",
                    "items",
                    "findings",
                ],
            )?;
            for s in &orders {
                let o = &s.order;
                ichigen_core::spreadsheet::write_row(
                    &mut csv,
                    [
                        o.marketplace.as_str().to_string(),
                        o.order_id.clone(),
                        o.ordered_at.with_timezone(&jst()).to_rfc3339_opts(SecondsFormat::Secs, false),
                        o.buyer.name.clone(),
                        o.ship_to.prefecture.clone(),
                        ichigen_core::japanese::payment_method(o.payment_method, o.marketplace),
                        ichigen_core::japanese::delivery_method(o.delivery.method).to_string(),
                        wire(&s.status),
                        s.ship_state().map_or("", |st| st.as_str()).to_string(),
                        o.totals.total.to_string(),
                        items_summary(&o.items),
                        s.findings.iter().map(|f| f.code.as_str()).collect::<Vec<_>>().join(" "),
                    ],
                )?;
            }
            csv.flush()?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `出荷待ち 12 / 印刷済 3 / 出荷済 2 / 反映済 40`: the orders of each shipping state.
fn shipping_counts(orders: &[StoredOrder]) -> String {
    let counts: Vec<String> = ShipState::ALL
        .iter()
        .map(|st| format!("{} {}", st.label(), orders.iter().filter(|s| s.ship_state() == Some(*st)).count()))
        .collect();
    format!("出荷状況: {}", counts.join(" / "))
}

fn show(s: &StoredOrder, json: bool) -> anyhow::Result<ExitCode> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if json {
        serde_json::to_writer_pretty(&mut out, &OrderView::from(s))?;
        writeln!(out)?;
        return Ok(ExitCode::SUCCESS);
    }
    let o = &s.order;
    let t = &o.totals;
    writeln!(
        out,
        "{}/{}  {}  ({}, marketplace status {:?})",
        o.marketplace,
        o.order_id,
        wire(&s.status),
        ichigen_core::pipeline::mail::marketplace_name(o.marketplace),
        o.source_status
    )?;
    writeln!(out, "ordered    {} JST (updated {} JST)", jst_minutes(o.ordered_at), jst_minutes(o.source_updated_at))?;
    writeln!(
        out,
        "total      {}  (goods {}, shipping {}, fee {}, discount {})",
        yen(t.total),
        yen(t.goods),
        yen(t.shipping),
        yen(t.fee),
        yen(t.discount)
    )?;
    writeln!(out, "payment    {} ({})", wire(&o.payment_method), o.source_payment_method)?;
    let mut delivery = format!("{} ({})", wire(&o.delivery.method), o.delivery.source_method);
    if let Some(d) = o.delivery.requested_date {
        delivery.push_str(&format!(", date {d}"));
    }
    if let Some(slot) = &o.delivery.requested_time_slot {
        delivery.push_str(&format!(", time {slot}"));
    }
    writeln!(out, "delivery   {delivery}")?;
    for (n, to) in o.destinations().enumerate() {
        let label = if n == 0 { "ship to" } else { "" };
        let building = if to.address2.is_empty() { String::new() } else { format!(" {}", to.address2) };
        writeln!(
            out,
            "{label:<10} 〒{} {}{}{}{building} / {} / {}",
            to.postal_code,
            to.prefecture,
            to.city,
            to.address1,
            to.name,
            to.phone.as_deref().unwrap_or("-")
        )?;
    }
    for (n, item) in o.items.iter().enumerate() {
        let label = if n == 0 { "items" } else { "" };
        writeln!(out, "{label:<10} {}  {}  {} × {}", item.sku, item.name, item.quantity, yen(item.unit_price))?;
    }
    if !o.remarks.trim().is_empty() {
        writeln!(out, "remarks    {}", o.remarks.replace('\n', " / "))?;
    }
    for tr in &o.tracking {
        writeln!(out, "tracking   {} {}", wire(&tr.carrier), tr.number)?;
    }
    if let Some(state) = s.ship_state() {
        writeln!(out, "shipping   {}", state.label())?;
    }
    if let Some(lead) = &s.ship_with {
        writeln!(
            out,
            "同梱       {}/{} の荷物で出荷 (解除: ichigen orders unbundle)",
            lead.marketplace, lead.order_id
        )?;
    }
    for p in &s.parcels {
        let mut line = format!("parcel {:<3} {}", p.destination, p.state().label());
        if let Some(pr) = &p.printed {
            line.push_str(&format!(", {} に書き出し {}", pr.program, jst_minutes(pr.at)));
        }
        if let Some(at) = p.slip_printed {
            line.push_str(&format!(", 納品書印刷 {}", jst_minutes(at)));
        }
        if let Some(t) = &p.tracking {
            line.push_str(&format!(", {} {}", wire(&t.carrier), t.number));
        }
        if let Some(at) = p.reflected_at {
            line.push_str(&format!(", モール反映 {}", jst_minutes(at)));
        }
        if let Some(why) = &p.write_failed {
            line.push_str(&format!(", モールが登録を拒否: {why}"));
        }
        writeln!(out, "{line}")?;
    }
    if s.findings.is_empty() {
        writeln!(out, "findings   none")?;
    }
    for (n, f) in s.findings.iter().enumerate() {
        let label = if n == 0 { "findings" } else { "" };
        writeln!(out, "{label:<10} {:<5} {}  {}", wire(&f.severity), f.code, f.message)?;
    }
    if let Some(ack) = &s.acknowledgement {
        // 楽天 注文確認 / Qoo10 seller check: where the marketplace awaits the shop's.
        writeln!(out, "注文確認   {}", ack.summary())?;
    }
    match &s.staff {
        StaffDecision::None => {}
        StaffDecision::Released { at } => writeln!(out, "staff      released at {} JST", jst_minutes(*at))?,
        StaffDecision::Held { reason, at } => writeln!(out, "staff      held at {} JST: {reason}", jst_minutes(*at))?,
    }
    if s.status == OrderStatus::OnHold && matches!(s.staff, StaffDecision::None) {
        writeln!(out, "release it with: ichigen orders release {}/{}", o.marketplace, o.order_id)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Records the staff decision (release: `hold_reason` None) through the staff use case, its mail
/// jobs put on `mail`'s durable queue with it and sent by the queue's consumer. `None` when there
/// was nothing to do (said so); the decision otherwise.
async fn decide<S, M>(
    store: &S,
    mail: &M,
    shop: &str,
    id: &str,
    hold_reason: Option<&String>,
) -> anyhow::Result<Result<Decided, ExitCode>>
where
    S: OrderStore + TrackingWrites + StockStore,
    M: StaffMail,
{
    let before = resolve(store, shop, id).await?;
    let key = before.key();
    let name = format!("{}/{}", key.marketplace, key.order_id);
    let verb = if hold_reason.is_some() { "hold" } else { "release" };
    if hold_reason.is_none() && before.status != OrderStatus::OnHold {
        // Nothing was held back, so there is nothing to send; say so rather than record a decision.
        println!("{name}: not on hold ({}): nothing to release, no mail", wire(&before.status));
        return Ok(Err(ExitCode::SUCCESS));
    }
    let policies = ichigen_marketplaces::policies();
    let decision = hold_reason.map_or(Decision::Release, |reason| Decision::Hold(reason));
    let decided = match staff::decide_and_send(store, mail, store, &policies, &key, decision, now()).await {
        Ok(decided) => decided,
        Err(StaffError::Closed { status, .. }) => {
            eprintln!("ichigen orders {verb}: {name} is {}: nothing to {verb}", wire(&status));
            return Ok(Err(ExitCode::from(1)));
        }
        Err(e) => return Err(e).with_context(|| format!("{verb} {name}")),
    };
    let after = &decided.order;
    let past = if hold_reason.is_some() { "held" } else { "released" };
    println!("{name}: {past} ({} → {})", wire(&before.status), wire(&after.status));
    if after.mails_due.is_empty() && hold_reason.is_none() {
        println!("no mail: {}", after.buyer_mail_barred(&policies).unwrap_or("nothing was due"));
    }
    Ok(Ok(decided))
}

/// Embedded: the decision's jobs go on the SQLite mail queue, which this process then sends. A
/// send that fails leaves its job queued for `ichigen mail drain` or the next demo run (and says so).
async fn decide_local(local: &Local, shop: &str, id: &str, hold_reason: Option<&String>) -> anyhow::Result<ExitCode> {
    let outbox = EmlOutbox::for_store(local.dir.join("outbox"), &local.store)?;
    let mail = LocalStaffMail::new(&local.store, crate::commands::mail::local_notifier(local, &outbox));
    let decided = match decide(&local.store, &mail, shop, id, hold_reason).await? {
        Ok(decided) => decided,
        Err(code) => return Ok(code),
    };
    let key = decided.order.key();
    let written = |id: &str| {
        outbox
            .written()
            .into_iter()
            .find(|w| w.message_id == id)
            .map_or_else(|| format!("message id {id}"), |w| format!("written to {}", w.path.display()))
    };
    let drained = match decided.sent {
        Ok(sent) => sent.unwrap_or_default(),
        Err(e) => {
            eprintln!(
                "ichigen orders: {e}\nメールはキューに残しました。`ichigen mail drain` か次の demo で送ります \
                 (the mail stays queued: `ichigen mail drain` or the next demo run sends it)"
            );
            return Ok(ExitCode::from(1));
        }
    };
    let mut code = ExitCode::SUCCESS;
    for (job, outcome) in drained.iter().filter(|(job, _)| job.order == key) {
        match outcome {
            Ok(Notified::Sent(message_id)) => println!("{} mail {}", job.kind, written(message_id)),
            Ok(Notified::AlreadySent(message_id)) => {
                println!("{} mail was sent before (message id {message_id}): not sent again", job.kind)
            }
            Ok(Notified::Skipped(why)) => println!("{} mail not sent: {why}", job.kind),
            Ok(Notified::Parked { route, told_staff }) => println!(
                "{} mail waits for the shop's {route} settings (kept; sent once they are stored{})",
                job.kind,
                if *told_staff { "; staff were told" } else { "" }
            ),
            Err(failure) => {
                eprintln!(
                    "ichigen orders: {}\n{} メールはキューに残しました。`ichigen mail drain` か次の demo で送ります \
                     (the job stays queued: `ichigen mail drain` or the next demo run sends it)",
                    failure.reason, job.kind
                );
                code = ExitCode::from(1);
            }
        }
    }
    let others = drained.iter().filter(|(job, o)| job.order != key && matches!(o, Ok(Notified::Sent(_)))).count();
    if others > 0 {
        println!("{others} other queued mail(s) sent");
    }
    crate::backend::warn_skipped(&local.store);
    Ok(code)
}

/// AWS: the decision's jobs go on the SQS mail queue, which the notifier Lambda consumes.
async fn decide_aws(
    aws: &Aws,
    table: &str,
    mail_queue_url: Option<&str>,
    shop: &str,
    id: &str,
    hold_reason: Option<&String>,
) -> anyhow::Result<ExitCode> {
    let sqs = aws_sdk_sqs::Client::new(&aws.sdk);
    let url = match mail_queue_url {
        Some(url) => url.to_string(),
        None => {
            let name = format!("{table}-mail");
            let found = sqs.get_queue_url().queue_name(&name).send().await.with_context(|| {
                format!("finding the SQS mail queue {name}: pass --mail-queue-url (the notifier's queue)")
            })?;
            found.queue_url.with_context(|| format!("SQS returned no URL for {name}"))?
        }
    };
    let mail = NotifierQueue(SqsQueue::<MailJob>::new(sqs, url));
    match decide(&aws.store, &mail, shop, id, hold_reason).await? {
        Ok(decided) => {
            for kind in &decided.order.mails_due {
                println!("{kind} mail queued: the notifier sends it (never twice)");
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(code) => Ok(code),
    }
}
