//! The notifier Lambda's handler: each mail job of an SQS batch through the notify use case,
//! failures reported per message.

use std::time::Duration;

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use chrono::Utc;
use ichigen_aws::{DynamoStore, SesMailer};
use ichigen_core::pipeline::{MailJob, MailLedger, Mailer, Notified, Notifier, OrderStore, ShopDirectory};
use ichigen_lambda::{Env, MessageFailure, Metrics, for_each_message};

/// The notifier's settings, read once at cold start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// DynamoDB table of orders, shops and the ledger.
    pub table_name: String,
    /// SES configuration set for delivery events (optional).
    pub configuration_set: Option<String>,
    /// How long a ledger claim blocks other senders.
    pub lease: Duration,
}

impl Config {
    /// Reads `TABLE_NAME`, `SES_CONFIGURATION_SET` (optional) and `LEASE_SECONDS` (default 120).
    pub fn from_env(mut env: Env) -> Result<Config, ichigen_lambda::ConfigError> {
        let config = Config {
            table_name: env.required("TABLE_NAME"),
            configuration_set: env.optional("SES_CONFIGURATION_SET"),
            lease: Duration::from_secs(env.parsed_or("LEASE_SECONDS", 120)),
        };
        env.finish().map(|()| config)
    }
}

/// The notifier on the AWS adapters.
pub type AwsNotifier = Notifier<DynamoStore, DynamoStore, DynamoStore, SesMailer>;

/// Builds the notifier's clients and adapters once (cold start).
pub fn build(config: &Config, aws: &aws_config::SdkConfig) -> AwsNotifier {
    let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(aws), config.table_name.clone());
    let mailer = SesMailer::new(aws_sdk_sesv2::Client::new(aws), config.configuration_set.clone());
    Notifier::new(store.clone(), store.clone(), store, mailer, ichigen_marketplaces::policies(), config.lease)
}

/// Handles one SQS batch of mail jobs, counting into `metrics`.
pub async fn handle<S: OrderStore, D: ShopDirectory, L: MailLedger, M: Mailer>(
    notifier: &Notifier<S, D, L, M>,
    event: SqsEvent,
    metrics: &mut Metrics,
) -> SqsBatchResponse {
    let outcome = for_each_message(event, |job: MailJob| async move {
        let now = Utc::now().fixed_offset();
        match notifier.notify(&job, now).await {
            Ok(done) => {
                match &done {
                    Notified::Sent(id) => {
                        tracing::info!(order = %job.order, kind = %job.kind, message_id = %id, "mail sent")
                    }
                    Notified::AlreadySent(id) => {
                        tracing::info!(order = %job.order, kind = %job.kind, message_id = %id, "already sent")
                    }
                    Notified::Skipped(why) => tracing::info!(order = %job.order, kind = %job.kind, why, "mail skipped"),
                }
                Ok((job.kind, done))
            }
            Err(e) => Err(MessageFailure { retryable: e.is_retryable(), reason: format!("{}: {e}", job.order) }),
        }
    })
    .await;
    for (kind, done) in &outcome.done {
        match done {
            Notified::Sent(_) => metrics.count(format!("Mailed.{kind}"), 1),
            Notified::AlreadySent(_) => metrics.count("AlreadySent", 1),
            Notified::Skipped(_) => metrics.count("Skipped", 1),
        }
    }
    metrics.count("Failed", outcome.failed);
    outcome.response
}
