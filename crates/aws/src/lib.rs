//! AWS adapters of the ichigen pipeline ports: the DynamoDB single-table store (orders and the
//! stock master), SQS queues, the
//! SESv2 mailer, a cache of credentials from SSM Parameter Store and the S3 import files. The endpoint comes from the SDK's own configuration
//! (`AWS_ENDPOINT_URL` points it at a local emulator); there is no local branch here.

pub mod audit;
mod error;
pub mod expiry;
pub mod files;
mod item;
pub mod list;
pub mod mail_history;
pub mod mailer;
pub mod notices;
pub mod poller;
pub mod quarantine;
pub mod queue;
pub mod relays;
mod routes;
pub mod s3_events;
pub mod secrets;
pub mod ses_events;
pub mod sessions;
mod stock;
pub mod store;
pub mod table;

pub use error::AwsError;
pub use expiry::SsmExpiryRecords;
pub use files::S3Files;
pub use item::ItemError;
pub use mailer::SesMailer;
pub use notices::SnsNotices;
pub use poller::SqsPoller;
pub use quarantine::OnceQuarantine;
pub use queue::{Drained, QueueError, Received, SqsQuarantine, SqsQueue, SqsVisibility, drain};
pub use relays::{RelayReader, SsmRelayDirectory};
pub use s3_events::{NotATestEvent, S3EventError, S3Notification, parse_s3_notification};
pub use secrets::{SecretCache, SecretsError};
pub use ses_events::{SesEventError, parse_ses_event};
pub use store::DynamoStore;
pub use table::create_table;

/// The SDK configuration from the environment (region, credentials, `AWS_ENDPOINT_URL`).
pub async fn sdk_config() -> aws_config::SdkConfig {
    aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await
}
