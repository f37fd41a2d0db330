//! The notifier Lambda's handler: each mail job of an SQS batch through the notify use case,
//! failures reported per message; buyer mail by its route (SES, or the marketplace's SMTP relay
//! with the settings kept in the shop's credentials parameter). It also takes the SES bounce and
//! complaint events of the `mail-events` SNS topic and records them against their orders.

use std::time::Duration;

use aws_lambda_events::event::sns::SnsEvent;
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use chrono::Utc;
use ichigen_aws::{DynamoStore, SecretCache, SesMailer, SqsVisibility, SsmRelayDirectory, parse_ses_event};
use ichigen_core::pipeline::{
    Digested, MailEvents, MailJob, MailLedger, Mailer, Notified, Notifier, NotifyError, OrderStore, ParkedMail,
    PortError, RelayMailers, ShopDirectory, send_digest,
};
use ichigen_lambda::{Env, Metrics, for_each_message};
use ichigen_smtp::SmtpRelays;

/// The notifier's settings, read once at cold start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// DynamoDB table of orders, shops and the ledger.
    pub table_name: String,
    /// SES configuration set for delivery events (optional).
    pub configuration_set: Option<String>,
    /// How long a ledger claim blocks other senders.
    pub lease: Duration,
    /// SSM parameter name prefix of the credentials (`{prefix}{shop_id}/{marketplace}`), where a
    /// shop keeps its relay settings (`mail_relay`).
    pub secret_prefix: String,
}

impl Config {
    /// Reads `TABLE_NAME`, `SECRET_PREFIX`, `SES_CONFIGURATION_SET` (optional) and `LEASE_SECONDS` (default 120).
    pub fn from_env(mut env: Env) -> Result<Config, ichigen_lambda::ConfigError> {
        let config = Config {
            table_name: env.required("TABLE_NAME"),
            configuration_set: env.optional("SES_CONFIGURATION_SET"),
            lease: Duration::from_secs(env.parsed_or("LEASE_SECONDS", 120)),
            secret_prefix: env.required("SECRET_PREFIX"),
        };
        env.finish().map(|()| config)
    }
}

/// The notifier on the AWS adapters.
pub type AwsNotifier = Notifier<DynamoStore, DynamoStore, DynamoStore, SesMailer, SmtpRelays<SsmRelayDirectory>>;

/// Builds the notifier's clients and adapters once (cold start).
pub fn build(config: &Config, aws: &aws_config::SdkConfig) -> AwsNotifier {
    let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(aws), config.table_name.clone());
    let mailer = SesMailer::new(aws_sdk_sesv2::Client::new(aws), config.configuration_set.clone());
    let secrets = SecretCache::new(aws_sdk_ssm::Client::new(aws));
    let relays = SmtpRelays::new(SsmRelayDirectory::new(
        secrets,
        config.secret_prefix.clone(),
        ichigen_marketplaces::relay::relay_of_secret,
    ));
    Notifier::new(store.clone(), store.clone(), store, mailer, ichigen_marketplaces::policies(), config.lease)
        .with_relays(relays)
}

/// Handles one SQS batch of mail jobs, counting into `metrics`. A job meeting its mail claimed
/// by a live lease is shown again when the lease ends, through `visibility` (without one, after
/// the queue's visibility timeout).
pub async fn handle<S, D, L, M, R>(
    notifier: &Notifier<S, D, L, M, R>,
    visibility: Option<&SqsVisibility>,
    event: SqsEvent,
    metrics: &mut Metrics,
) -> SqsBatchResponse
where
    S: OrderStore,
    D: ShopDirectory,
    L: MailLedger + ParkedMail + MailEvents,
    M: Mailer,
    R: RelayMailers,
{
    let outcome = for_each_message(event, visibility.cloned(), |job: MailJob| async move {
        let now = Utc::now().fixed_offset();
        match notifier.handle(&job, now).await {
            Ok(done) => {
                match &done {
                    Notified::Sent(id) => {
                        tracing::info!(order = %job.order, kind = %job.kind, message_id = %id, "mail sent")
                    }
                    Notified::AlreadySent(id) => {
                        tracing::info!(order = %job.order, kind = %job.kind, message_id = %id, "already sent")
                    }
                    Notified::Skipped(why) => tracing::info!(order = %job.order, kind = %job.kind, why, "mail skipped"),
                    Notified::Parked { route, told_staff } => tracing::warn!(
                        order = %job.order, kind = %job.kind, route = %route, told_staff,
                        "mail waits for the shop's relay settings"
                    ),
                }
                Ok((job.kind, done))
            }
            Err(failure) => Err(failure),
        }
    })
    .await;
    for (kind, done) in &outcome.done {
        match done {
            Notified::Sent(_) => metrics.count(format!("Mailed.{kind}"), 1),
            Notified::AlreadySent(_) => metrics.count("AlreadySent", 1),
            Notified::Skipped(_) => metrics.count("Skipped", 1),
            Notified::Parked { .. } => metrics.count("Parked", 1),
        }
    }
    metrics.count("Failed", outcome.failed);
    outcome.response
}

/// Sends the shop's staff digest of the window that just closed, when it chose digests; a
/// failure fails the invocation, so the schedule's retry (or the next run, which finds the same
/// window until the next one closes) tries again, and the ledger keeps it to one mail.
pub async fn handle_digest<S, D, L, M, R>(
    notifier: &Notifier<S, D, L, M, R>,
    event: &DigestEvent,
    metrics: &mut Metrics,
) -> Result<(), NotifyError>
where
    S: OrderStore,
    D: ShopDirectory,
    L: MailLedger + ParkedMail + MailEvents,
    M: Mailer,
    R: RelayMailers,
{
    let shop = &event.digest;
    match send_digest(notifier, shop, Utc::now().fixed_offset()).await {
        Ok(Digested::Done { notified: Notified::Sent(id), held, warned }) => {
            tracing::info!(shop = %shop, message_id = %id, held, warned, "staff digest sent");
            metrics.count("DigestsSent", 1);
            Ok(())
        }
        Ok(done) => {
            tracing::debug!(shop = %shop, outcome = ?done, "no staff digest to send");
            Ok(())
        }
        Err(e) => {
            tracing::error!(shop = %shop, error = %e, "staff digest not sent");
            metrics.count("Failed", 1);
            Err(e)
        }
    }
}

/// Records the SES bounce and complaint events of an SNS delivery against their orders (and
/// suppresses the addresses). A message that does not read is logged by position and skipped; a
/// store failure fails the invocation, so Lambda delivers the event again.
pub async fn handle_mail_events<E: MailEvents>(
    store: &E,
    event: SnsEvent,
    metrics: &mut Metrics,
) -> Result<(), PortError> {
    for record in event.records {
        let events = match parse_ses_event(&record.sns.message) {
            Ok(events) => events,
            Err(e) => {
                tracing::error!(sns_message_id = %record.sns.message_id, error = %e, "SES event not recorded");
                metrics.count("MailEventsUnreadable", 1);
                continue;
            }
        };
        for e in &events {
            store.record_event(e).await?;
            // Ids and codes only: the address stays in the store.
            tracing::warn!(
                shop = %e.shop_id, marketplace = %e.marketplace, order_id = %e.order_id, mail = %e.mail_kind,
                event = ?e.kind, detail = %e.detail, "delivery event recorded"
            );
            metrics.count(format!("MailEvent.{:?}", e.kind), 1);
        }
    }
    Ok(())
}

/// What an invocation brings: mail jobs from the mail queue, SES events from the SNS topic, or
/// a shop's digest schedule.
pub enum Invocation {
    /// The SQS event source mapping.
    Jobs(SqsEvent),
    /// The `mail-events` topic's subscription.
    MailEvents(SnsEvent),
    /// The shop's digest schedule (`{"digest": "<shop id>"}`, every 15 minutes).
    Digest(DigestEvent),
}

/// A digest schedule's event: which shop.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DigestEvent {
    /// The shop whose staff digest is due, if it chose one.
    pub digest: String,
}

/// An invocation event of neither shape. Names the field and what was wrong, never a value (an SES
/// event holds buyer addresses).
#[derive(Debug, thiserror::Error)]
#[error("not an SQS batch or SNS delivery: at {path}: {problem}")]
pub struct EventError {
    path: String,
    problem: String,
}

impl Invocation {
    /// Tells them apart: a `digest` field is a schedule's; records from `aws:sns` are SES events;
    /// anything else is an SQS batch.
    pub fn from_json(value: serde_json::Value) -> Result<Invocation, EventError> {
        let sns = value
            .get("Records")
            .and_then(|r| r.get(0))
            .and_then(|r| r.get("EventSource"))
            .is_some_and(|s| s == "aws:sns");
        let error = |e: serde_path_to_error::Error<serde_json::Error>| {
            let text = e.inner().to_string();
            // serde quotes the offending value after a backtick or quote: keep the words before it.
            let problem = text.split(['`', '"']).next().unwrap_or_default().trim_end().to_string();
            EventError { path: e.path().to_string(), problem }
        };
        if value.get("digest").is_some() {
            serde_path_to_error::deserialize(value).map(Invocation::Digest).map_err(error)
        } else if sns {
            serde_path_to_error::deserialize(value).map(Invocation::MailEvents).map_err(error)
        } else {
            serde_path_to_error::deserialize(value).map(Invocation::Jobs).map_err(error)
        }
    }
}
