//! The demo on the embedded adapters: the SQLite store and its queues in `DIR/ichigen.db`, the
//! `.eml` outbox in `DIR/outbox` and the quarantine in `DIR/quarantine.jsonl`. Pulling,
//! processing and mailing run side by side, each stage taking from its queue as the previous one
//! fills it, until every queue is empty. What a killed run left queued is taken up by the next.

use std::cell::{Cell, RefCell};
use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use ichigen_core::Order;
use ichigen_core::pipeline::ShopSettings;
use ichigen_core::pipeline::{Consumed, MailJob, Notifier, ProcessSettings, Processor, ShopDirectory, consume_batch};
use ichigen_local::{EmlOutbox, JsonlQuarantine, MAIL_QUEUE, ORDERS_QUEUE, SqliteQueue};

use super::day::DayCounts;
use super::stock::StockSummary;
use super::{LEASE, MAIL_FROM, Market, Progress, StockRun, Tally, notify_one, process_one, pull_all, write_orders};
use crate::backend::open_sqlite;
use crate::relay::StandInRelays;

/// How long an idle stage waits before looking at its queue again.
const IDLE: Duration = Duration::from_millis(2);

/// Messages a stage takes from its queue at a time.
const TAKE: usize = 100;

/// Runs the pipeline; returns the counts, the stored orders (all, on hold), with `whole_day`
/// what the afternoon did (label data out, tracking numbers in) before a second pass wrote the
/// numbers back and mailed the buyers, and what the orders moved in the stock.
pub async fn run(
    dir: &Path,
    shop: &ShopSettings,
    markets: &[Market],
    progress: &Progress,
    whole_day: bool,
    stock: &StockRun<'_>,
) -> anyhow::Result<(Tally, usize, usize, Option<DayCounts>, StockSummary)> {
    let store = open_sqlite(&dir.join("ichigen.db"))?;
    // Before anything runs: a new store beside the outbox of another is refused here.
    let outbox = EmlOutbox::for_store(dir.join("outbox"), &store)?;
    let shop = &super::shop_for_run(shop, store.shop(&shop.shop_id).await.context("reading the demo shop")?);
    store.put_shop(shop).await.context("storing the demo shop")?;
    super::stock::load_for_run(&store, &shop.shop_id, dir, stock.file, stock.orders).await?;
    let quarantine = JsonlQuarantine::new(dir.join("quarantine.jsonl"));
    let orders = SqliteQueue::<Order>::new(&store, ORDERS_QUEUE);
    let mails = SqliteQueue::<MailJob>::new(&store, MAIL_QUEUE);
    let processor =
        Processor::new(&store, &store, &mails, ichigen_marketplaces::policies(), ProcessSettings::default())
            .with_stock(&store);
    // The demo has no 楽天 relay account: its relay mail goes to the outbox, labelled (crate::relay).
    let notifier = Notifier::new(&store, &store, &store, &outbox, ichigen_marketplaces::policies(), LEASE)
        .with_relays(StandInRelays { outbox: &outbox, registered_from: MAIL_FROM });
    let tally = RefCell::new(Tally::default());
    let mut day = None;
    // The second pass (whole day): the pullers drain the tracking writes, buyers get shipping mail.
    for pass in 0..if whole_day { 2 } else { 1 } {
        if pass == 1 {
            // The afternoon comes hours after the morning's pull, here seconds: every stock
            // number the malls took has shown by then, as it would have (Amazon shows a write
            // later, and the client takes it as immediate — a second push seconds after the
            // first would read the old number).
            for market in markets {
                market.sandbox.shelf.land_pending();
            }
            day = Some(super::day::label_and_import(&store, shop, dir, super::now()).await?);
        }
        let (pulls_done, processing_done) = (Cell::new(false), Cell::new(false));

        let pull = async {
            pull_all(markets, &shop.shop_id, &orders, &store, &quarantine, &mails, &tally, progress).await;
            pulls_done.set(true);
        };
        // Both stages consume their queue through the consume port, as the Lambdas do: a message that
        // keeps failing is dead-lettered after `MAX_ATTEMPTS` runs (`ichigen dead-letters`), instead
        // of failing every later run.
        let process = async {
            let result = async {
                loop {
                    // Read the flag before taking: whatever was queued before it was set is in this batch.
                    let done = pulls_done.get();
                    let batch = consume_batch(&orders, TAKE, |order: Order| {
                        let (processor, tally) = (&processor, &tally);
                        async move { process_one(processor, order, tally, progress).await }
                    })
                    .await?;
                    report_dead(&batch, "orders", progress);
                    if batch.taken == 0 {
                        if done {
                            break;
                        }
                        tokio::time::sleep(IDLE).await;
                    }
                }
                anyhow::Ok(())
            }
            .await;
            // Set on every exit: the mail stage waits for it.
            processing_done.set(true);
            result
        };
        let notify = async {
            loop {
                let done = processing_done.get();
                // A failed mail is reported and counted, and the run exits non-zero; the job stays
                // queued (its ledger claim was given back, or is kept until its lease ends when the
                // outcome is unknown) for the next run.
                let batch = consume_batch(&mails, TAKE, |job: MailJob| {
                    let (notifier, tally) = (&notifier, &tally);
                    async move { notify_one(notifier, &job, tally, progress).await }
                })
                .await?;
                report_dead(&batch, "mail", progress);
                if batch.taken == 0 {
                    if done {
                        break;
                    }
                    tokio::time::sleep(IDLE).await;
                }
            }
            anyhow::Ok(())
        };
        let ((), processed, notified) = tokio::join!(pull, process, notify);
        processed?;
        notified?;
    }
    let (stored, on_hold) = write_orders(&store, &shop.shop_id, &dir.join("orders.jsonl")).await?;
    crate::backend::warn_skipped(&store);
    let moved = super::stock::summary(&store, &shop.shop_id, stock.since).await?;
    Ok((tally.into_inner(), stored, on_hold, day, moved))
}

/// Tells the user which messages of `queue` this batch gave up on (by order id and mail kind).
fn report_dead<R>(batch: &Consumed<R>, queue: &str, progress: &Progress) {
    for (receipt, failure) in batch.failures.iter().filter(|(_, f)| !f.retryable) {
        progress.println(&format!(
            "ichigen demo: {queue} message {receipt} moved to the dead letters ({}); see `ichigen dead-letters list`",
            failure.reason
        ));
    }
}
