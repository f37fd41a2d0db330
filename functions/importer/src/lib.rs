//! The importer Lambda's handler: each S3 notification of an SQS batch (a tracking file dropped
//! in the import bucket under `imports/<shop id>/`) through the dropped-file use case — the same
//! tracking import as `ichigen tracking import`, and a result mail to the shop's staff —
//! failures reported per message.

use std::time::Duration;

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use chrono::Utc;
use ichigen_aws::{DynamoStore, S3Files, S3Notification, SesMailer};
use ichigen_core::pipeline::{
    Dropped, DroppedFiles, MailEvents, MailLedger, Mailer, MessageFailure, Notifier, OrderStore, ParkedMail,
    RelayMailers, ShopDirectory, TrackingWrites, import_dropped,
};
use ichigen_core::stock::StockStore;
use ichigen_lambda::{Env, Metrics, for_each_message};

/// The importer's settings, read once at cold start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// DynamoDB table of orders, shops and the ledger.
    pub table_name: String,
    /// SES configuration set for delivery events (optional).
    pub configuration_set: Option<String>,
    /// How long a ledger claim of the result mail blocks other senders.
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

/// The use case's adapters: the store, the ledger and the shop's sender behind a notifier, the
/// bucket, and the stock the shipped orders' units leave.
pub struct Importer<S, D, L, M, R, F, K> {
    /// Shop settings, the result mail once per drop, and the store the import writes.
    pub notifier: Notifier<S, D, L, M, R>,
    /// The import bucket.
    pub files: F,
    /// The shops' stock masters.
    pub stock: K,
}

/// The importer on the AWS adapters.
pub type AwsImporter =
    Importer<DynamoStore, DynamoStore, DynamoStore, SesMailer, ichigen_core::pipeline::NoRelays, S3Files, DynamoStore>;

/// Builds the importer's clients and adapters once (cold start).
pub fn build(config: &Config, aws: &aws_config::SdkConfig) -> AwsImporter {
    let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(aws), config.table_name.clone());
    let mailer = SesMailer::new(aws_sdk_sesv2::Client::new(aws), config.configuration_set.clone());
    let notifier = Notifier::new(
        store.clone(),
        store.clone(),
        store.clone(),
        mailer,
        ichigen_marketplaces::policies(),
        config.lease,
    );
    Importer { notifier, files: S3Files::new(aws_sdk_s3::Client::new(aws)), stock: store }
}

/// Handles one SQS batch of the bucket's notifications, counting into `metrics`. A message whose
/// files were all handled (imported, refused as unreadable, or gone) is acknowledged; a store,
/// bucket or mail outage fails it for a later try, which changes nothing already done.
pub async fn handle<S, D, L, M, R, F, K>(
    importer: &Importer<S, D, L, M, R, F, K>,
    event: SqsEvent,
    metrics: &mut Metrics,
) -> SqsBatchResponse
where
    S: OrderStore + TrackingWrites,
    D: ShopDirectory,
    L: MailLedger + ParkedMail + MailEvents,
    M: Mailer,
    R: RelayMailers,
    F: DroppedFiles,
    K: StockStore,
{
    let outcome = for_each_message(event, None, |message: S3Notification| async move {
        let S3Notification::Created(files) = message else {
            tracing::info!("s3:TestEvent acknowledged");
            return Ok(Vec::new());
        };
        let mut done = Vec::with_capacity(files.len());
        for file in &files {
            let now = Utc::now().fixed_offset();
            match import_dropped(&importer.notifier, &importer.files, &importer.stock, file, now).await {
                Ok(dropped) => {
                    log(file, &dropped);
                    done.push(dropped);
                }
                Err(e) => {
                    // The key names the shop's folder and the file, never a buyer.
                    return Err(MessageFailure {
                        retryable: e.is_retryable(),
                        reason: format!("{}: {e}", file.key),
                        wait: None,
                    });
                }
            }
        }
        Ok(done)
    })
    .await;
    for dropped in outcome.done.iter().flatten() {
        match dropped {
            Dropped::Imported { report, .. } if report.applied => {
                metrics.count("FilesImported", 1);
                metrics.count("ParcelsShipped", report.shipped());
            }
            Dropped::Imported { .. } => metrics.count("FilesRefused", 1),
            Dropped::Unreadable { .. } => metrics.count("FilesUnreadable", 1),
            Dropped::Missing => metrics.count("FilesMissing", 1),
        }
    }
    metrics.count("Failed", outcome.failed);
    outcome.response
}

fn log(file: &ichigen_core::pipeline::DroppedFile, dropped: &Dropped) {
    match dropped {
        Dropped::Imported { format, report, mail } => tracing::info!(
            key = %file.key, format = format.code(), applied = report.applied, shipped = report.shipped(),
            unchanged = report.unchanged(), problems = report.problems.len(), mail = ?mail, "tracking file imported"
        ),
        Dropped::Unreadable { reason, mail } => {
            tracing::warn!(key = %file.key, reason = %reason, mail = ?mail, "tracking file unreadable")
        }
        Dropped::Missing => tracing::info!(key = %file.key, "tracking file gone before it was read"),
    }
}
