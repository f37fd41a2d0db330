//! The demo on the AWS adapters, as deployed but without Lambda: the table, the queues and the SES
//! sender identity are created if missing; the pullers fill the SQS orders queue, which is then
//! taken through the consume port into the processor (`ichigen_aws::SqsPoller`: receive → use case
//! → delete, a failure shown again, a dead letter to the DLQ), and the mail queue into the
//! notifier, which sends through SES.

use std::cell::RefCell;
use std::path::Path;

use anyhow::{Context, anyhow};
use aws_sdk_sqs::error::DisplayErrorContext;
use aws_sdk_sqs::types::QueueAttributeName;
use ichigen_aws::{DynamoStore, SesMailer, SqsPoller, SqsQuarantine, SqsQueue};
use ichigen_core::Order;
use ichigen_core::pipeline::{
    Consumed, MailJob, Notifier, ProcessSettings, Processor, ShopDirectory, ShopSettings, consume_batch,
};

use super::stock::StockSummary;
use super::{LEASE, MAIL_FROM, Market, Progress, StockRun, Tally, notify_one, process_one, pull_all, write_orders};
use crate::backend::StoreArgs;

/// Receives before a message that keeps failing goes to its DLQ.
const MAX_RECEIVES: u32 = 3;

/// An SQS queue name from the table name: letters, digits, `-` and `_`.
fn queue_name(table: &str, suffix: &str) -> String {
    let base: String = table.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' { c } else { '-' }).collect();
    let mut name = format!("{base}-{suffix}");
    name.truncate(80);
    name
}

/// Creates (or finds, with the same attributes) a queue; with `dlq_url`, failed messages move
/// there after [`MAX_RECEIVES`] receives.
async fn create_queue(sqs: &aws_sdk_sqs::Client, name: &str, dlq_url: Option<&str>) -> anyhow::Result<String> {
    let mut request = sqs.create_queue().queue_name(name).attributes(QueueAttributeName::VisibilityTimeout, "60");
    if let Some(dlq) = dlq_url {
        let arn = sqs
            .get_queue_attributes()
            .queue_url(dlq)
            .attribute_names(QueueAttributeName::QueueArn)
            .send()
            .await
            .map_err(|e| anyhow!("reading the ARN of {dlq}: {}", DisplayErrorContext(e)))?
            .attributes
            .and_then(|a| a.get(&QueueAttributeName::QueueArn).cloned())
            .ok_or_else(|| anyhow!("SQS returned no ARN for {dlq}"))?;
        let redrive = serde_json::json!({"deadLetterTargetArn": arn, "maxReceiveCount": MAX_RECEIVES}).to_string();
        request = request.attributes(QueueAttributeName::RedrivePolicy, redrive);
    }
    let created = request.send().await.map_err(|e| anyhow!("creating SQS queue {name}: {}", DisplayErrorContext(e)))?;
    created.queue_url.ok_or_else(|| anyhow!("SQS returned no URL for queue {name}"))
}

/// Messages taken from a queue at a time (SQS's most per receive).
const TAKE: usize = 10;

/// Says which messages did not pass; a body that does not read counts as a failed message.
fn report_failed<R>(batch: &Consumed<R>, queue: &str, progress: &Progress, tally: &RefCell<Tally>) {
    for (receipt, failure) in &batch.failures {
        if failure.reason.starts_with("body is not a valid message") {
            tally.borrow_mut().failed_message();
        }
        if !failure.retryable {
            progress.println(&format!(
                "ichigen demo: {queue} message {receipt} moved to the dead-letter queue ({})",
                failure.reason
            ));
        }
    }
}

/// Runs the pipeline; returns the counts, the stored orders (all, on hold) and what the orders
/// moved in the stock.
pub async fn run(
    args: &StoreArgs,
    shop: &ShopSettings,
    markets: &[Market],
    progress: &Progress,
    dir: &Path,
    stock: &StockRun<'_>,
) -> anyhow::Result<(Tally, usize, usize, StockSummary)> {
    let aws = args.aws().await;
    let ddb = aws_sdk_dynamodb::Client::new(&aws.sdk);
    ichigen_aws::create_table(&ddb, &args.table)
        .await
        .with_context(|| format!("creating DynamoDB table {}", args.table))?;
    let sqs = aws_sdk_sqs::Client::new(&aws.sdk);
    let orders_dlq = create_queue(&sqs, &queue_name(&args.table, "orders-dlq"), None).await?;
    let orders_url = create_queue(&sqs, &queue_name(&args.table, "orders"), Some(&orders_dlq)).await?;
    let mail_dlq = create_queue(&sqs, &queue_name(&args.table, "mail-dlq"), None).await?;
    let mail_url = create_queue(&sqs, &queue_name(&args.table, "mail"), Some(&mail_dlq)).await?;
    let ses = aws_sdk_sesv2::Client::new(&aws.sdk);
    match ses.create_email_identity().email_identity(MAIL_FROM).send().await {
        Ok(_) => {}
        // An earlier run made it.
        Err(e) if e.as_service_error().is_some_and(|s| s.is_already_exists_exception()) => {}
        Err(e) => return Err(anyhow!("creating SES identity {MAIL_FROM}: {}", DisplayErrorContext(e))),
    }
    let store: &DynamoStore = &aws.store;
    let shop = &super::shop_for_run(shop, store.shop(&shop.shop_id).await.context("reading the demo shop")?);
    store.put_shop(shop).await.context("storing the demo shop")?;
    super::stock::load_for_run(store, &shop.shop_id, dir, stock.file, stock.orders).await?;

    let tally = RefCell::new(Tally::default());
    let order_queue = SqsQueue::<Order>::new(sqs.clone(), orders_url.clone());
    let quarantine = SqsQuarantine::new(sqs.clone(), orders_dlq.clone());
    let mail_queue = SqsQueue::<MailJob>::new(sqs.clone(), mail_url.clone());
    pull_all(markets, &shop.shop_id, &order_queue, store, &quarantine, &mail_queue, &tally, progress).await;

    // Each queue taken through the consume port, as the Lambdas' handlers are (the demo polls
    // where Lambda's event source mapping would hand over a batch).
    let processor =
        Processor::new(store, store, &mail_queue, ichigen_marketplaces::policies(), ProcessSettings::default())
            .with_stock(store);
    let orders = SqsPoller::<Order>::new(sqs.clone(), orders_url, orders_dlq);
    loop {
        let batch = consume_batch(&orders, TAKE, |order: Order| {
            let (processor, tally) = (&processor, &tally);
            async move { process_one(processor, order, tally, progress).await }
        })
        .await
        .context("taking from the orders queue")?;
        report_failed(&batch, "orders", progress, &tally);
        if batch.taken == 0 {
            break;
        }
    }

    let mailer = SesMailer::new(ses, None);
    let notifier = Notifier::new(store, store, store, &mailer, ichigen_marketplaces::policies(), LEASE);
    let mails = SqsPoller::<MailJob>::new(sqs.clone(), mail_url, mail_dlq);
    loop {
        let batch = consume_batch(&mails, TAKE, |job: MailJob| {
            let (notifier, tally) = (&notifier, &tally);
            async move { notify_one(notifier, &job, tally, progress).await }
        })
        .await
        .context("taking from the mail queue")?;
        report_failed(&batch, "mail", progress, &tally);
        if batch.taken == 0 {
            break;
        }
    }

    let (stored, on_hold) = write_orders(store, &shop.shop_id, &dir.join("orders.jsonl")).await?;
    let moved = super::stock::summary(store, &shop.shop_id, stock.since).await?;
    Ok((tally.into_inner(), stored, on_hold, moved))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_names_are_valid_sqs_names() {
        assert_eq!(queue_name("ichigen", "orders"), "ichigen-orders");
        assert_eq!(queue_name("shop.prod", "mail-dlq"), "shop-prod-mail-dlq");
        assert_eq!(queue_name(&"x".repeat(100), "orders").len(), 80);
    }
}
