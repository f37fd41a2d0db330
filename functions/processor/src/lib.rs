//! The processor Lambda's handler: each order of an SQS batch through the process use case,
//! failures reported per message.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use chrono::Utc;
use ichigen_aws::{DynamoStore, SqsQueue};
use ichigen_core::Order;
use ichigen_core::pipeline::{
    Change, MailJob, MailQueue, OrderStore, ProcessSettings, Processor, ShopDirectory, TrackingWrites,
};
use ichigen_core::stock::StockStore;
use ichigen_lambda::{Env, Metrics, for_each_message};

/// The processor's settings, read once at cold start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// DynamoDB table of orders, shops and the ledger.
    pub table_name: String,
    /// Where mail jobs go.
    pub mail_queue_url: String,
    /// Days an order is kept after its order date (0: forever).
    pub retention_days: u32,
}

impl Config {
    /// Reads `TABLE_NAME`, `MAIL_QUEUE_URL` and `RETENTION_DAYS` (default 730).
    pub fn from_env(mut env: Env) -> Result<Config, ichigen_lambda::ConfigError> {
        let config = Config {
            table_name: env.required("TABLE_NAME"),
            mail_queue_url: env.required("MAIL_QUEUE_URL"),
            retention_days: env.parsed_or("RETENTION_DAYS", 730),
        };
        env.finish().map(|()| config)
    }

    /// The use case settings.
    pub fn process_settings(&self) -> ProcessSettings {
        ProcessSettings { retention_days: (self.retention_days > 0).then_some(self.retention_days) }
    }
}

/// The processor on the AWS adapters, each order's holding applied to the shop's stock master in
/// the same table.
pub type AwsProcessor = Processor<DynamoStore, DynamoStore, SqsQueue<MailJob>, DynamoStore>;

/// Builds the processor's clients and adapters once (cold start).
pub fn build(config: &Config, aws: &aws_config::SdkConfig) -> AwsProcessor {
    let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(aws), config.table_name.clone());
    let mails = SqsQueue::new(aws_sdk_sqs::Client::new(aws), config.mail_queue_url.clone());
    Processor::new(store.clone(), store.clone(), mails, ichigen_marketplaces::policies(), config.process_settings())
        .with_stock(store)
}

/// Handles one SQS batch of canonical orders, counting into `metrics`.
pub async fn handle<S: OrderStore + TrackingWrites, D: ShopDirectory, Q: MailQueue, K: StockStore>(
    processor: &Processor<S, D, Q, K>,
    event: SqsEvent,
    metrics: &mut Metrics,
) -> SqsBatchResponse {
    // A processor failure has no known wait: nothing is put back, no visibility changed.
    let outcome = for_each_message(event, None, |order: Order| async move {
        let now = Utc::now().fixed_offset();
        match processor.handle(order, now).await {
            Ok(done) => {
                tracing::info!(
                    order = %done.key,
                    change = done.change.as_str(),
                    status = ?done.status,
                    holds = ?done.hold_codes,
                    mails = ?done.mails,
                    "order processed"
                );
                Ok(done)
            }
            Err(failure) => Err(failure),
        }
    })
    .await;
    // Not counted: messages processed (the orders queue's free NumberOfMessagesDeleted) and mail
    // jobs queued (the mail queue's NumberOfMessagesSent).
    for done in &outcome.done {
        if matches!(done.change, Change::New) {
            metrics.count("NewOrders", 1);
        }
        if !done.hold_codes.is_empty() {
            metrics.count("Held", 1);
        }
    }
    metrics.count("Failed", outcome.failed);
    outcome.response
}
