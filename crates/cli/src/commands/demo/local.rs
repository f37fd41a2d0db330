//! The demo on the embedded adapters: the SQLite store in `DIR/ichigen.db`, in-process queues, the
//! `.eml` outbox in `DIR/outbox` and the quarantine in `DIR/quarantine.jsonl`. Pulling,
//! processing and mailing run side by side, each stage draining its queue as the previous one
//! fills it, until every queue is empty.

use std::cell::{Cell, RefCell};
use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use ichigen_core::Order;
use ichigen_core::pipeline::memory::MemoryQueue;
use ichigen_core::pipeline::{MailJob, Notifier, ProcessSettings, Processor, Quarantine, Rejected, ShopDirectory};
use ichigen_core::pipeline::{OrderKey, ShopSettings};
use ichigen_local::{EmlOutbox, JsonlQuarantine};

use super::{LEASE, Market, Progress, Tally, notify_one, process_one, pull_all, write_orders};
use crate::backend::open_sqlite;

/// How long an idle stage waits before looking at its queue again.
const IDLE: Duration = Duration::from_millis(2);

/// Runs the pipeline; returns the counts and the stored orders (all, on hold).
pub async fn run(
    dir: &Path,
    shop: &ShopSettings,
    markets: &[Market],
    progress: &Progress,
) -> anyhow::Result<(Tally, usize, usize)> {
    let store = open_sqlite(&dir.join("ichigen.db"))?;
    store.put_shop(shop).await.context("storing the demo shop")?;
    let outbox = EmlOutbox::new(dir.join("outbox")).with_context(|| format!("creating {}/outbox", dir.display()))?;
    let quarantine = JsonlQuarantine::new(dir.join("quarantine.jsonl"));
    let orders = MemoryQueue::<Order>::new();
    let mails = MemoryQueue::<MailJob>::new();
    let processor = Processor::new(&store, &store, &mails, ProcessSettings::default());
    let notifier = Notifier::new(&store, &store, &store, &outbox, LEASE);
    let tally = RefCell::new(Tally::default());
    let (pulls_done, processing_done) = (Cell::new(false), Cell::new(false));

    let pull = async {
        pull_all(markets, &shop.shop_id, &orders, &store, &quarantine, &tally, progress).await;
        pulls_done.set(true);
    };
    let process = async {
        loop {
            // Read the flag before draining: whatever was queued before it was set is in this batch.
            let done = pulls_done.get();
            let batch = orders.drain();
            if batch.is_empty() {
                if done {
                    break;
                }
                tokio::time::sleep(IDLE).await;
                continue;
            }
            for order in batch {
                let key = OrderKey::of(&order);
                if let Err(e) = process_one(&processor, order, &tally, progress).await {
                    // Kept for a person, as the orders DLQ keeps it on AWS.
                    let rejected = Rejected {
                        shop_id: key.shop_id,
                        marketplace: key.marketplace,
                        order_id: Some(key.order_id),
                        reason: e.to_string(),
                    };
                    if let Err(q) = quarantine.quarantine(&[rejected]).await {
                        progress.println(&format!("ichigen demo: quarantine: {q}"));
                    }
                }
            }
        }
        processing_done.set(true);
    };
    let notify = async {
        loop {
            let done = processing_done.get();
            let batch = mails.drain();
            if batch.is_empty() {
                if done {
                    break;
                }
                tokio::time::sleep(IDLE).await;
                continue;
            }
            for job in batch {
                // A failed mail is reported and counted, and the run exits non-zero; its ledger
                // claim was given back, so nothing stands in the way of sending it later.
                let _ = notify_one(&notifier, &job, &tally, progress).await;
            }
        }
    };
    tokio::join!(pull, process, notify);
    let (stored, on_hold) = write_orders(&store, &shop.shop_id, &dir.join("orders.jsonl")).await?;
    Ok((tally.into_inner(), stored, on_hold))
}
