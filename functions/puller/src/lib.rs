//! The puller Lambda: an EventBridge Scheduler event names a shop and a marketplace; the handler
//! builds (or reuses) that pair's marketplace client from its SSM SecureString parameter and runs
//! the pull use case until done or until the Lambda deadline draws near. A run whose stock push
//! moved a share that waits for another pair (or wrote to a mall that shows it later) sends that
//! pair a follow-up on the follow-up queue, delayed by SQS; the same Lambda takes that queue's
//! batches and runs each pair's push alone (docs/STOCK.md, "Follow-up runs").

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};

use chrono::{NaiveDate, Utc};
use ichigen_aws::{
    DynamoStore, OnceQuarantine, SecretCache, SecretsError, SnsNotices, SqsQuarantine, SqsQueue, SqsVisibility,
    SsmExpiryRecords,
};
use ichigen_core::pipeline::{
    CREDENTIAL_WARN_DAYS, CheckReport, ExpiryRecords, MailJob, MailQueue, OrderQueue, OrderSource, OrderStore,
    PairStock, PortError, PullError, PullReport, PullSettings, Puller, Quarantine, ShopDirectory, StaffNotices,
    StockPush, TrackingWrites, WatermarkStore, check_credentials,
};
use ichigen_core::stock::push::{FOLLOW_UP_GAP, PushSettings};
use ichigen_core::{JST, Marketplace, Order};
use ichigen_lambda::{Env, MessageFailure, Metrics, for_each_message};
use ichigen_marketplaces::client::{AnyClient, BuildError, ClientError, HttpSettings, RetryPolicy, build_client};
use ichigen_marketplaces::secret::{MarketplaceSecret, SecretError};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;

/// The scheduler's payload: which pair to pull.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PullEvent {
    /// The ichigen shop.
    pub shop_id: String,
    /// The marketplace.
    pub marketplace: Marketplace,
}

/// A follow-up on the follow-up queue: push this pair's stock again, without a pull.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FollowUp {
    /// The ichigen shop.
    pub shop_id: String,
    /// The marketplace.
    pub marketplace: Marketplace,
}

/// What a schedule or a queue asks the puller to do: pull one pair, the daily credential check
/// (`{"check": "credentials"}`), or a batch of the follow-up queue (an SQS event, `Records`).
#[derive(Debug, Clone, PartialEq)]
pub enum PullerEvent {
    /// Pull one pair.
    Pull(PullEvent),
    /// A daily check.
    Check(CheckEvent),
    /// Follow-ups: each pair's push alone.
    FollowUps(SqsEvent),
}

impl<'de> Deserialize<'de> for PullerEvent {
    // By hand rather than `untagged`: an event with a `check` field is a check, any other a pull,
    // and a bad one is refused naming its field (untagged would only say "no variant matched").
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = serde_json::Value::deserialize(deserializer)?;
        let named = |e: serde_path_to_error::Error<serde_json::Error>| {
            serde::de::Error::custom(format!("{}: {}", e.path(), e.inner()))
        };
        if value.get("check").is_some() {
            serde_path_to_error::deserialize(value).map(PullerEvent::Check).map_err(named)
        } else if value.get("Records").is_some() {
            serde_path_to_error::deserialize(value).map(PullerEvent::FollowUps).map_err(named)
        } else {
            serde_path_to_error::deserialize(value).map(PullerEvent::Pull).map_err(named)
        }
    }
}

/// The daily check's payload.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckEvent {
    /// What to check.
    pub check: Check,
}

/// The checks the puller runs on a schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Check {
    /// Every pair's credential expiry (docs/DEPLOY.md "Credentials that expire").
    Credentials,
}

/// The puller's settings, read once at cold start.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// DynamoDB table (watermarks).
    pub table_name: String,
    /// Where orders go.
    pub orders_queue_url: String,
    /// Where unreadable orders go (the orders DLQ).
    pub quarantine_queue_url: String,
    /// Where the shipping mail of an order whose tracking the marketplace accepted goes.
    pub mail_queue_url: String,
    /// SSM parameter name prefix: the credentials of a pair are `{prefix}{shop_id}/{marketplace}`.
    pub secret_prefix: String,
    /// SSM parameter name prefix of the pairs' credential expiry records (same layout).
    pub expiry_prefix: String,
    /// SNS topic that tells the operators (the alarm topic): credential notices.
    pub notice_topic_arn: String,
    /// Pull settings (overlap, first look-back, time kept free per page).
    pub pull: PullSettings,
    /// HTTP timeout of one marketplace call.
    pub http_timeout: Duration,
    /// Multiplies every marketplace rate limit: 1 in production; sandboxes and benches scale it.
    pub rate_scale: f64,
    /// Units of each SKU no mall is given when pushing stock (`STOCK_BUFFER`, 0).
    pub stock_buffer: u32,
    /// Where follow-up runs are sent (`FOLLOW_UP_QUEUE_URL`; without it, none are: each pair
    /// waits for its schedule).
    pub follow_up_queue_url: Option<String>,
    /// How soon after a pair's last write its follow-up may run (`FOLLOW_UP_GAP_SECONDS`, 60).
    pub follow_up_gap: Duration,
}

impl Config {
    /// Reads `TABLE_NAME`, `ORDERS_QUEUE_URL`, `QUARANTINE_QUEUE_URL`, `MAIL_QUEUE_URL`, `SECRET_PREFIX`,
    /// `CREDENTIAL_EXPIRY_PREFIX`, `NOTICE_TOPIC_ARN`, and the optional `PULL_OVERLAP_SECONDS` (900), `FIRST_LOOKBACK_HOURS` (72), `PAGE_BUDGET_SECONDS`
    /// (45), `HTTP_TIMEOUT_SECONDS` (15), `RATE_SCALE` (1), `STOCK_BUFFER` (0),
    /// `FOLLOW_UP_QUEUE_URL` and `FOLLOW_UP_GAP_SECONDS` (60).
    pub fn from_env(mut env: Env) -> Result<Config, ichigen_lambda::ConfigError> {
        let config = Config {
            table_name: env.required("TABLE_NAME"),
            orders_queue_url: env.required("ORDERS_QUEUE_URL"),
            quarantine_queue_url: env.required("QUARANTINE_QUEUE_URL"),
            mail_queue_url: env.required("MAIL_QUEUE_URL"),
            secret_prefix: env.required("SECRET_PREFIX"),
            expiry_prefix: env.required("CREDENTIAL_EXPIRY_PREFIX"),
            notice_topic_arn: env.required("NOTICE_TOPIC_ARN"),
            pull: PullSettings {
                overlap: Duration::from_secs(env.parsed_or("PULL_OVERLAP_SECONDS", 900)),
                first_lookback: Duration::from_secs(env.parsed_or::<u64>("FIRST_LOOKBACK_HOURS", 72) * 3600),
                page_budget: Duration::from_secs(env.parsed_or("PAGE_BUDGET_SECONDS", 45)),
            },
            http_timeout: Duration::from_secs(env.parsed_or("HTTP_TIMEOUT_SECONDS", 15)),
            rate_scale: env.parsed_or("RATE_SCALE", 1.0),
            stock_buffer: env.parsed_or("STOCK_BUFFER", 0),
            follow_up_queue_url: env.optional("FOLLOW_UP_QUEUE_URL"),
            follow_up_gap: Duration::from_secs(env.parsed_or("FOLLOW_UP_GAP_SECONDS", FOLLOW_UP_GAP.as_secs())),
        };
        if !(config.rate_scale.is_finite() && config.rate_scale > 0.0) {
            env.problem("RATE_SCALE must be a positive number");
        }
        env.finish().map(|()| config)
    }

    /// The secret id of a pair.
    pub fn secret_id(&self, event: &PullEvent) -> String {
        format!("{}{}/{}", self.secret_prefix, event.shop_id, event.marketplace)
    }
}

/// Runs one pull of `event` with `puller` and then `stock`'s push, stopping `page_budget` before
/// `deadline`, counting into `metrics`.
#[allow(clippy::type_complexity)]
pub async fn pull<F, Q, W, X, S, M, N>(
    puller: &Puller<'_, F, Q, W, X, S, M, N>,
    event: &PullEvent,
    deadline: Instant,
    stock: &impl PairStock,
    metrics: &mut Metrics,
) -> Result<PullReport, PullError<F::Error>>
where
    F: OrderSource,
    Q: OrderQueue,
    W: WatermarkStore,
    X: Quarantine,
    S: OrderStore + TrackingWrites + ShopDirectory,
    M: MailQueue,
    N: StaffNotices,
{
    let now = Utc::now().fixed_offset();
    let time_left = move || deadline.saturating_duration_since(Instant::now());
    let result = puller.run_with(&event.shop_id, now, time_left, stock).await;
    match &result {
        Ok(report) if report.lease_busy => {
            // Scheduler and async invocation deliver at least once: a second run of the pair ends here.
            tracing::info!(shop = %report.shop_id, marketplace = %report.marketplace, "another pull of this pair holds its lease; nothing to do");
            metrics.count("PullsSkippedBusy", 1);
        }
        Ok(report) => {
            tracing::info!(
                shop = %report.shop_id,
                marketplace = %report.marketplace,
                pages = report.pages,
                queued = report.queued,
                reread = report.reread,
                quarantined = report.quarantined,
                missing = ?report.missing,
                given_up = ?report.given_up,
                finished = report.finished,
                pulled_to = %report.pulled_to,
                stock_pushed = report.stock.items_pushed,
                stock_drift = report.stock.drift.len(),
                stock_failure = ?report.stock.failure,
                "pull done"
            );
            // Orders queued and quarantined are the queues' free NumberOfMessagesSent; a finished
            // pull is Lambda's Invocations minus Errors. Only a pull cut short by the deadline is news.
            metrics.count("PullsCut", usize::from(!report.finished));
            metrics.count("OrdersLeftOut", report.missing.len());
            metrics.count("TrackingRegistered", report.tracking_registered);
            metrics.count("TrackingRefused", report.tracking_failed);
            metrics.count("StockItemsPushed", report.stock.items_pushed);
            metrics.count("StockDrift", report.stock.drift.len());
        }
        Err(e) => {
            tracing::error!(shop = %event.shop_id, marketplace = %event.marketplace, retryable = e.is_retryable(), error = %e, "pull failed");
        }
    }
    result
}

/// Per-pair state kept across warm invocations: the client (its access token cache) and the
/// secret text it was built from, to rebuild when the operator rotates the secret.
pub struct ClientCache<C> {
    clients: Mutex<HashMap<(String, Marketplace), Built<C>>>,
}

/// A client and the fingerprint of the secret it was built from.
type Built<C> = (u64, Arc<C>);

impl<C> Default for ClientCache<C> {
    fn default() -> Self {
        ClientCache { clients: Mutex::new(HashMap::new()) }
    }
}

impl<C> ClientCache<C> {
    /// The cached client of the pair when built from the same secret text; built by `build` otherwise.
    pub async fn get_or_build<E>(
        &self,
        event: &PullEvent,
        secret_text: &str,
        build: impl FnOnce() -> Result<C, E>,
    ) -> Result<Arc<C>, E> {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        secret_text.hash(&mut h);
        let fingerprint = h.finish();
        let key = (event.shop_id.clone(), event.marketplace);
        let mut clients = self.clients.lock().await;
        if let Some((fp, c)) = clients.get(&key)
            && *fp == fingerprint
        {
            return Ok(c.clone());
        }
        let client = Arc::new(build()?);
        clients.insert(key, (fingerprint, client.clone()));
        Ok(client)
    }
}

/// Why a pull invocation failed.
#[derive(Debug, thiserror::Error)]
pub enum PullerError {
    /// The pair's secret could not be read.
    #[error(transparent)]
    Secret(#[from] SecretsError),
    /// The secret's JSON is not a marketplace secret (names the field, never the value).
    #[error("secret {secret_id}: {source}")]
    SecretFormat {
        /// Which secret.
        secret_id: String,
        /// What is wrong.
        #[source]
        source: SecretError,
    },
    /// The secret is for another marketplace than the schedule names.
    #[error("secret {secret_id} holds {found} credentials, the schedule asks for {wanted}")]
    WrongMarketplace {
        /// Which secret.
        secret_id: String,
        /// What the secret holds.
        found: Marketplace,
        /// What the event names.
        wanted: Marketplace,
    },
    /// The client could not be built from the secret.
    #[error(transparent)]
    Build(#[from] BuildError),
    /// The pull failed (progress up to the last queued page is kept).
    #[error(transparent)]
    Pull(#[from] PullError<ClientError>),
    /// The credential check could not read the records or send its notice.
    #[error("credential check: {0}")]
    Check(#[source] PortError),
}

/// The puller on the AWS adapters, with per-pair clients kept warm.
pub struct App {
    config: Config,
    store: DynamoStore,
    queue: SqsQueue<Order>,
    mails: SqsQueue<MailJob>,
    quarantine: OnceQuarantine,
    secrets: SecretCache,
    clients: ClientCache<AnyClient>,
    follow_ups: Option<SqsQueue<FollowUp>>,
    visibility: SqsVisibility,
    expiry: SsmExpiryRecords,
    notices: SnsNotices,
}

/// What one invocation did.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Outcome {
    /// A pull (boxed: the report is far larger than the check's; the JSON is the same).
    Pull(Box<PullReport>),
    /// The daily credential check.
    Check(CheckReport),
    /// A batch of follow-ups: the messages to try again (SQS's partial batch response).
    FollowUps(SqsBatchResponse),
}

impl App {
    /// Builds the clients and adapters once (cold start).
    pub fn new(config: Config, aws: &aws_config::SdkConfig) -> App {
        let sqs = aws_sdk_sqs::Client::new(aws);
        let ssm = aws_sdk_ssm::Client::new(aws);
        let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(aws), config.table_name.clone());
        App {
            queue: SqsQueue::new(sqs.clone(), config.orders_queue_url.clone()),
            mails: SqsQueue::new(sqs.clone(), config.mail_queue_url.clone()),
            follow_ups: config.follow_up_queue_url.as_ref().map(|url| SqsQueue::new(sqs.clone(), url.clone())),
            visibility: SqsVisibility::new(sqs.clone()),
            quarantine: OnceQuarantine::new(
                store.clone(),
                SqsQuarantine::new(sqs, config.quarantine_queue_url.clone()),
            ),
            store,
            secrets: SecretCache::new(ssm.clone()),
            clients: ClientCache::default(),
            expiry: SsmExpiryRecords::new(ssm, config.expiry_prefix.clone()),
            notices: SnsNotices::new(aws_sdk_sns::Client::new(aws), config.notice_topic_arn.clone()),
            config,
        }
    }

    /// Runs what `event` asks for until done or until `deadline` draws near.
    pub async fn handle_event(
        &self,
        event: &PullerEvent,
        deadline: Instant,
        metrics: &mut Metrics,
    ) -> Result<Outcome, PullerError> {
        match event {
            PullerEvent::Pull(pull) => self.handle(pull, deadline, metrics).await.map(|r| Outcome::Pull(Box::new(r))),
            PullerEvent::Check(CheckEvent { check: Check::Credentials }) => {
                self.check_credentials(Utc::now().with_timezone(&JST).date_naive()).await.map(Outcome::Check)
            }
            PullerEvent::FollowUps(batch) => {
                Ok(Outcome::FollowUps(self.follow_ups(batch.clone(), deadline, metrics).await))
            }
        }
    }

    /// Runs each follow-up of `batch`: the pair's push alone. One within the gap of its pair's
    /// last write is put back for the rest of the gap; one that failed in a way that may pass is
    /// tried again by SQS. One that cannot pass is dropped with a warning: a pair with no
    /// credentials here (a listing for a marketplace the shop does not pull), or anything the
    /// pair's own scheduled runs will fail on and alarm about; a follow-up only saves time.
    pub async fn follow_ups(&self, batch: SqsEvent, deadline: Instant, metrics: &mut Metrics) -> SqsBatchResponse {
        let ran = std::cell::Cell::new(0usize);
        let outcome = for_each_message(batch, Some(self.visibility.clone()), |f: FollowUp| {
            let ran = &ran;
            async move {
                let event = PullEvent { shop_id: f.shop_id, marketplace: f.marketplace };
                match self.run(&event, deadline, true, &mut Metrics::new("puller")).await {
                    Ok(report) if report.stock.wait.is_some() => Err(MessageFailure {
                        retryable: true,
                        reason: format!("{} {}: within the gap of its last write", event.shop_id, event.marketplace),
                        wait: report.stock.wait,
                    }),
                    Ok(report) => {
                        tracing::info!(
                            shop = %event.shop_id,
                            marketplace = %event.marketplace,
                            stock_pushed = report.stock.items_pushed,
                            stock_drift = report.stock.drift.len(),
                            stock_failure = ?report.stock.failure,
                            "follow-up done"
                        );
                        ran.set(ran.get() + 1);
                        Ok(())
                    }
                    Err(e) if e.is_retryable() => Err(MessageFailure::new(true, e.to_string())),
                    Err(error) => {
                        tracing::warn!(shop = %event.shop_id, marketplace = %event.marketplace, %error, "follow-up dropped");
                        Ok(())
                    }
                }
            }
        })
        .await;
        metrics.count("FollowUpsRun", ran.get());
        metrics.count("FollowUpsFailed", outcome.failed);
        outcome.response
    }

    /// The pair's client, built from its parameter (or kept from an earlier run on the same
    /// value), with the parameter's name and text.
    async fn client(&self, event: &PullEvent) -> Result<(Arc<AnyClient>, String, SecretString), PullerError> {
        let secret_id = self.config.secret_id(event);
        let text = self.secrets.get(&secret_id).await?;
        let client = self
            .clients
            .get_or_build(event, text.expose_secret(), || {
                let secret = MarketplaceSecret::from_json(text.expose_secret())
                    .map_err(|source| PullerError::SecretFormat { secret_id: secret_id.clone(), source })?;
                if secret.marketplace() != event.marketplace {
                    return Err(PullerError::WrongMarketplace {
                        secret_id: secret_id.clone(),
                        found: secret.marketplace(),
                        wanted: event.marketplace,
                    });
                }
                let http = HttpSettings {
                    timeout: self.config.http_timeout,
                    retry: RetryPolicy::default(),
                    rate_scale: self.config.rate_scale,
                };
                Ok(build_client(&event.shop_id, &secret, http)?)
            })
            .await?;
        Ok((client, secret_id, text))
    }

    /// Pulls the pair `event` names until done or until `deadline` draws near.
    pub async fn handle(
        &self,
        event: &PullEvent,
        deadline: Instant,
        metrics: &mut Metrics,
    ) -> Result<PullReport, PullerError> {
        self.run(event, deadline, false, metrics).await
    }

    /// A scheduled run (the pull, then the push) or a follow-up (the push alone), and the
    /// follow-ups its push asks for.
    async fn run(
        &self,
        event: &PullEvent,
        deadline: Instant,
        follow_up: bool,
        metrics: &mut Metrics,
    ) -> Result<PullReport, PullerError> {
        let (client, secret_id, text) = self.client(event).await?;
        let puller = Puller {
            source: client.as_ref(),
            queue: &self.queue,
            marks: &self.store,
            quarantine: &self.quarantine,
            store: &self.store,
            mails: &self.mails,
            notices: &self.notices,
            policy: ichigen_marketplaces::policies().of(event.marketplace),
            settings: self.config.pull,
        };
        // After the pull, inside its lease: the pulled orders held and the mall's numbers pushed.
        let stock = StockPush {
            stock: &self.store,
            mall: client.as_ref(),
            notices: &self.notices,
            settings: PushSettings {
                buffer: self.config.stock_buffer,
                latency: puller.policy.stock_latency,
                follow_up_gap: self.config.follow_up_gap,
            },
            follow_up,
        };
        let result = if follow_up {
            let time_left = move || deadline.saturating_duration_since(Instant::now());
            puller.push_only(&event.shop_id, Utc::now().fixed_offset(), time_left, &stock).await
        } else {
            pull(&puller, event, deadline, &stock, metrics).await
        };
        if let Ok(report) = &result {
            self.send_follow_ups(report).await;
        }
        report_credentials(client.as_ref(), event);
        self.save_rotated_credentials(client.as_ref(), event, &secret_id, text.expose_secret()).await;
        if let Err(PullError::Feed { source: ClientError::Auth { .. }, .. }) = &result {
            // Credentials refused: the next run reads the parameter again (the operator may have
            // renewed them) instead of using the cached value until the TTL runs out.
            self.secrets.invalidate(&secret_id).await;
        }
        Ok(result?)
    }

    /// Sends the follow-ups `report`'s push asks for: each other pair a share waits for, after
    /// the gap (its mall shows our last write by then); this pair again when its write on its way
    /// shows (Qoo10). A follow-up not sent is logged: the pair's schedule does the same later.
    async fn send_follow_ups(&self, report: &PullReport) {
        let Some(queue) = &self.follow_ups else { return };
        let gap = self.config.follow_up_gap;
        let mut due: Vec<(Marketplace, Duration)> = report.stock.rebalance.iter().map(|m| (*m, gap)).collect();
        if let Some(at) = report.stock.due_again_at {
            let wait = (at - Utc::now().fixed_offset()).to_std().unwrap_or_default();
            due.push((report.marketplace, wait.max(gap)));
        }
        for (marketplace, after) in due {
            let f = FollowUp { shop_id: report.shop_id.clone(), marketplace };
            match queue.send_after(&f, after).await {
                Ok(()) => tracing::info!(shop = %f.shop_id, %marketplace, after_s = after.as_secs(), "follow-up sent"),
                Err(error) => tracing::warn!(shop = %f.shop_id, %marketplace, %error, "follow-up NOT sent"),
            }
        }
    }

    /// The daily check of every pair's credential expiry (`today` in JST): the pairs' records,
    /// with what a marketplace reports by API, and one notice on the alarm topic when something
    /// expires within [`CREDENTIAL_WARN_DAYS`] days, has expired, or cannot be known.
    pub async fn check_credentials(&self, today: NaiveDate) -> Result<CheckReport, PullerError> {
        let report = check_credentials(&self.expiry, &self.notices, today, |record| {
            let event = PullEvent { shop_id: record.shop_id.clone(), marketplace: record.marketplace };
            async move {
                // Unset or broken credentials are worth the same notice as expiring ones.
                let (client, ..) = self.client(&event).await.map_err(|e| e.to_string())?;
                OrderSource::credential_expiry(client.as_ref()).await.map_err(|e| e.to_string())
            }
        })
        .await
        .map_err(PullerError::Check)?;
        tracing::info!(
            pairs = report.pairs,
            due = report.due,
            unknown = report.unknown,
            notified = report.notified,
            "credential check done"
        );
        Ok(report)
    }
}

/// What the marketplace said about the pair's credentials, as a warning in the log when a person
/// must act. (The daily check tells staff of dates; a refused credential fails the pull, which
/// the pull-failures alarm reports.)
fn report_credentials(client: &AnyClient, event: &PullEvent) {
    let Some(health) = OrderSource::credential_health(client) else { return };
    if health.ok && health.days_left.is_none_or(|d| d > CREDENTIAL_WARN_DAYS) {
        return;
    }
    tracing::warn!(
        shop = %event.shop_id,
        marketplace = %event.marketplace,
        status = %health.status,
        days_left = ?health.days_left,
        advice = health.advice,
        "marketplace credentials need attention"
    );
}

impl App {
    /// Saves a credential the marketplace replaced during the run (Yahoo's rotated refresh token)
    /// back to the pair's parameter, and its last day to the pair's expiry record: the old one
    /// may stop working. A failed save is logged (the pull's own result stands; a token lost
    /// this way fails the next pulls, which alarms).
    async fn save_rotated_credentials(&self, client: &AnyClient, event: &PullEvent, secret_id: &str, text: &str) {
        let Some(update) = OrderSource::take_credential_update(client) else { return };
        let saved = match MarketplaceSecret::updated_json(text, &update) {
            Ok(updated) => self.secrets.put(secret_id, updated).await.map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        match saved {
            Ok(()) => tracing::info!(secret = %secret_id, field = update.field, "rotated credential saved"),
            Err(error) => {
                tracing::error!(secret = %secret_id, field = update.field, %error, "rotated credential NOT saved");
                return;
            }
        }
        let Some(last_day) = update.last_day else { return };
        if let Err(error) = self.expiry.set(&event.shop_id, event.marketplace, update.field, last_day).await {
            tracing::error!(shop = %event.shop_id, marketplace = %event.marketplace, field = update.field, %error, "expiry record NOT updated");
        }
    }
}

/// The instant of a Lambda deadline given in epoch milliseconds.
pub fn deadline_instant(deadline_epoch_ms: u64) -> Instant {
    let now_ms =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0);
    Instant::now() + Duration::from_millis(deadline_epoch_ms.saturating_sub(now_ms))
}

impl PullerError {
    /// Whether the next scheduled run may succeed by itself (else a person must fix something).
    pub fn is_retryable(&self) -> bool {
        match self {
            PullerError::Secret(e) => ichigen_core::pipeline::Retryable::is_retryable(e),
            PullerError::Pull(e) => e.is_retryable(),
            PullerError::Check(e) => e.retryable,
            PullerError::SecretFormat { .. } | PullerError::WrongMarketplace { .. } | PullerError::Build(_) => false,
        }
    }
}

impl From<PullerError> for lambda_runtime::Diagnostic {
    fn from(e: PullerError) -> Self {
        // The error type is what alarms and log filters match on.
        let error_type = if e.is_retryable() { "ichigen.PullRetryable" } else { "ichigen.PullNeedsOperator" };
        lambda_runtime::Diagnostic { error_type: error_type.into(), error_message: e.to_string() }
    }
}
