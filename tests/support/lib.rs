//! A private AWS for one test: its own moto account with the table, the queues (each with a
//! DLQ), the SES identity and (on request) the import bucket the pipeline needs, and a stand-in for Lambda's SQS event source
//! mapping that delivers queue messages to a handler and deletes what it handled.
#![allow(clippy::unwrap_used, clippy::expect_used)] // Test support: a failed setup is a test bug.

use std::collections::BTreeSet;
use std::time::Duration;

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use aws_sdk_sqs::types::QueueAttributeName;
use ichigen_aws::DynamoStore;
use ichigen_core::OrderStatus;
use ichigen_core::pipeline::{OrderStore, ShopDirectory, ShopSettings, StoredOrder};
use ichigen_testkit::moto::SentMail;

pub mod logs;
pub mod sale_day;

/// Sender of every shop's mail in tests (created as an SES identity).
pub const MAIL_FROM: &str = "shop@example.jp";
/// Staff address of every shop in tests.
pub const STAFF_TO: &str = "staff@example.jp";
/// Where the pairs' credential expiry records are (SSM parameter path).
pub const EXPIRY_PREFIX: &str = "/ichigen/test/credential-expiry/";

/// One test's AWS.
pub struct AwsWorld {
    /// moto's URL.
    pub endpoint: String,
    /// This test's moto account.
    pub account: String,
    /// SDK config acting in that account.
    pub sdk: aws_config::SdkConfig,
    /// DynamoDB table name.
    pub table: String,
    /// Orders queue.
    pub orders_url: String,
    /// Orders DLQ (also the quarantine).
    pub orders_dlq_url: String,
    /// Mail queue.
    pub mail_url: String,
    /// Mail DLQ.
    pub mail_dlq_url: String,
    /// The puller's follow-up queue (stock follow-up runs).
    pub follow_ups_url: String,
    /// The alarm topic (credential notices go there).
    pub topic_arn: String,
    /// A queue subscribed to the alarm topic: what its e-mail subscribers would receive.
    pub notices_url: String,
    /// SQS client.
    pub sqs: aws_sdk_sqs::Client,
    /// The store adapter.
    pub store: DynamoStore,
}

impl AwsWorld {
    /// Creates everything; messages go to a DLQ after `max_receives` failed receives.
    pub async fn new(max_receives: u32) -> AwsWorld {
        let endpoint = ichigen_testkit::moto::endpoint();
        let account = ichigen_testkit::moto::fresh_account();
        let sdk = ichigen_testkit::moto::sdk_config(&endpoint, &account).await;
        let ddb = aws_sdk_dynamodb::Client::new(&sdk);
        let table = "ichigen-test".to_string();
        ichigen_aws::create_table(&ddb, &table).await.expect("create table");
        let sqs = aws_sdk_sqs::Client::new(&sdk);
        let (orders_url, orders_dlq_url) = queue_with_dlq(&sqs, "ichigen-orders", max_receives).await;
        let (mail_url, mail_dlq_url) = queue_with_dlq(&sqs, "ichigen-mail", max_receives).await;
        let follow_ups_url = sqs
            .create_queue()
            .queue_name("ichigen-follow-ups")
            .send()
            .await
            .expect("follow-up queue")
            .queue_url
            .expect("follow-up queue url");
        let ses = aws_sdk_sesv2::Client::new(&sdk);
        ses.create_email_identity().email_identity(MAIL_FROM).send().await.expect("SES identity");
        let (topic_arn, notices_url) = topic_with_queue(&sdk, &sqs, "ichigen-alarms").await;
        let store = DynamoStore::new(ddb, table.clone());
        AwsWorld {
            endpoint,
            account,
            sdk,
            table,
            orders_url,
            orders_dlq_url,
            mail_url,
            mail_dlq_url,
            follow_ups_url,
            topic_arn,
            notices_url,
            sqs,
            store,
        }
    }

    /// Stores a shop with the default rules plus `rules_toml`.
    pub async fn shop(&self, shop_id: &str, rules_toml: &str) -> ShopSettings {
        let mut s = ShopSettings::new(shop_id, "いちげん商店", MAIL_FROM);
        s.staff_to = vec![STAFF_TO.to_string()];
        s.rules_toml = rules_toml.to_string();
        self.store.put_shop(&s).await.expect("put shop");
        s
    }

    /// The processor on this world's adapters.
    pub fn processor(&self) -> ichigen_processor::AwsProcessor {
        let config = ichigen_processor::Config {
            table_name: self.table.clone(),
            mail_queue_url: self.mail_url.clone(),
            retention_days: 730,
        };
        ichigen_processor::build(&config, &self.sdk)
    }

    /// The importer on this world's adapters.
    pub fn importer(&self) -> ichigen_importer::AwsImporter {
        let config = ichigen_importer::Config {
            table_name: self.table.clone(),
            configuration_set: None,
            lease: Duration::from_secs(120),
        };
        ichigen_importer::build(&config, &self.sdk)
    }

    /// The import bucket `bucket` as infra/imports.tf makes it: an S3 event notification of every
    /// object created under `imports/` to a queue with a DLQ (after `max_receives`). Returns the
    /// queue's and the DLQ's URLs. moto sends the notifications itself, like S3 (and, as S3
    /// does, an `s3:TestEvent` when the notification is set).
    pub async fn import_bucket(&self, bucket: &str, max_receives: u32) -> (String, String) {
        let s3 = aws_sdk_s3::Client::new(&self.sdk);
        s3.create_bucket()
            .bucket(bucket)
            .create_bucket_configuration(
                aws_sdk_s3::types::CreateBucketConfiguration::builder()
                    .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::ApNortheast1)
                    .build(),
            )
            .send()
            .await
            .expect("bucket");
        let (url, dlq_url) = queue_with_dlq(&self.sqs, "ichigen-imports", max_receives).await;
        let arn = queue_arn(&self.sqs, &url).await;
        let prefix = aws_sdk_s3::types::FilterRule::builder()
            .name(aws_sdk_s3::types::FilterRuleName::Prefix)
            .value(ichigen_core::pipeline::dropped::IMPORT_PREFIX)
            .build();
        let queue = aws_sdk_s3::types::QueueConfiguration::builder()
            .id("tracking-files")
            .queue_arn(arn)
            .events(aws_sdk_s3::types::Event::from("s3:ObjectCreated:*"))
            .filter(
                aws_sdk_s3::types::NotificationConfigurationFilter::builder()
                    .key(aws_sdk_s3::types::S3KeyFilter::builder().filter_rules(prefix).build())
                    .build(),
            )
            .build()
            .expect("queue configuration");
        s3.put_bucket_notification_configuration()
            .bucket(bucket)
            .notification_configuration(
                aws_sdk_s3::types::NotificationConfiguration::builder().queue_configurations(queue).build(),
            )
            .send()
            .await
            .expect("bucket notification");
        (url, dlq_url)
    }

    /// Puts `bytes` into `bucket` as `key` (what a shop's staff do with `aws s3 cp`).
    pub async fn put_file(&self, bucket: &str, key: &str, bytes: Vec<u8>) {
        aws_sdk_s3::Client::new(&self.sdk)
            .put_object()
            .bucket(bucket)
            .key(key)
            .body(bytes.into())
            .send()
            .await
            .expect("put object");
    }

    /// The notifier on this world's adapters, reading relay settings under `secret_prefix`.
    pub fn notifier_with(&self, secret_prefix: &str) -> ichigen_notifier::AwsNotifier {
        let config = ichigen_notifier::Config {
            table_name: self.table.clone(),
            configuration_set: None,
            lease: Duration::from_secs(120),
            secret_prefix: secret_prefix.to_string(),
        };
        ichigen_notifier::build(&config, &self.sdk)
    }

    /// The notifier on this world's adapters (no shop has relay settings under its prefix).
    pub fn notifier(&self) -> ichigen_notifier::AwsNotifier {
        self.notifier_with("/ichigen/test/no-credentials/")
    }

    /// The puller's settings on this world's resources, reading secrets under `secret_prefix`;
    /// marketplace rate limits scaled 1,000 times (sandboxes with `throttle: None`).
    pub fn puller_config(&self, secret_prefix: &str, first_lookback: Duration) -> ichigen_puller::Config {
        ichigen_puller::Config {
            table_name: self.table.clone(),
            orders_queue_url: self.orders_url.clone(),
            quarantine_queue_url: self.orders_dlq_url.clone(),
            mail_queue_url: self.mail_url.clone(),
            secret_prefix: secret_prefix.to_string(),
            expiry_prefix: EXPIRY_PREFIX.to_string(),
            notice_topic_arn: self.topic_arn.clone(),
            pull: ichigen_core::pipeline::PullSettings {
                overlap: Duration::from_secs(900),
                first_lookback,
                page_budget: Duration::from_secs(5),
            },
            http_timeout: Duration::from_secs(10),
            rate_scale: 1_000.0,
            stock_buffer: 0,
            follow_up_queue_url: Some(self.follow_ups_url.clone()),
            // A follow-up may read the sandboxes at once: they show a write at once here.
            follow_up_gap: Duration::ZERO,
        }
    }

    /// The puller on this world's adapters, reading secrets under `secret_prefix`.
    pub fn puller(&self, secret_prefix: &str, first_lookback: Duration) -> ichigen_puller::App {
        ichigen_puller::App::new(self.puller_config(secret_prefix, first_lookback), &self.sdk)
    }

    /// Stores a marketplace's credentials as the SSM SecureString parameter `name`.
    pub async fn put_secret(&self, name: &str, json: &str) {
        let ssm = aws_sdk_ssm::Client::new(&self.sdk);
        ssm.put_parameter()
            .name(name)
            .value(json)
            .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
            .send()
            .await
            .expect("put parameter");
    }

    /// Replaces the SSM SecureString parameter `name` (an operator editing the credentials).
    pub async fn put_secret_overwrite(&self, name: &str, json: &str) {
        let ssm = aws_sdk_ssm::Client::new(&self.sdk);
        ssm.put_parameter()
            .name(name)
            .value(json)
            .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
            .overwrite(true)
            .send()
            .await
            .expect("put parameter");
    }

    /// The decrypted value of the SSM parameter `name`.
    pub async fn secret(&self, name: &str) -> String {
        let ssm = aws_sdk_ssm::Client::new(&self.sdk);
        let out = ssm.get_parameter().name(name).with_decryption(true).send().await.expect("get parameter");
        out.parameter.and_then(|p| p.value).expect("a value")
    }

    /// Sends raw bodies to a queue (to test bad messages).
    pub async fn send_bodies(&self, url: &str, bodies: &[String]) {
        for body in bodies {
            self.sqs.send_message().queue_url(url).message_body(body).send().await.expect("send");
        }
    }

    /// Like Lambda's event source mapping (through [`ichigen_aws::drain`]): receives batches of up
    /// to 10 from `url`, hands each to `handler` as an SQS event, deletes the messages it did not
    /// report as failed, and makes the failed ones visible again at once (instead of after the
    /// visibility timeout). Stops when a receive comes back empty. Returns (handled, failed)
    /// message counts.
    pub async fn deliver<F, Fut>(&self, url: &str, mut handler: F) -> (usize, usize)
    where
        F: FnMut(SqsEvent) -> Fut,
        Fut: std::future::Future<Output = SqsBatchResponse>,
    {
        let drained = ichigen_aws::drain(&self.sqs, url, |messages| {
            let mut event = SqsEvent::default();
            for m in messages {
                let mut record = SqsMessage::default();
                record.message_id = Some(m.message_id);
                record.receipt_handle = Some(m.receipt_handle);
                record.body = Some(m.body);
                record.attributes.extend(m.attributes);
                event.records.push(record);
            }
            let response = handler(event);
            async move { response.await.batch_item_failures.into_iter().map(|f| f.item_identifier).collect() }
        })
        .await
        .expect("drain the queue");
        (drained.handled, drained.failed)
    }

    /// Takes every message body off `url`.
    pub async fn drain(&self, url: &str) -> Vec<String> {
        let mut bodies = Vec::new();
        self.deliver(url, |event| {
            bodies.extend(event.records.iter().filter_map(|r| r.body.clone()));
            async { SqsBatchResponse::default() }
        })
        .await;
        bodies
    }

    /// Messages waiting on `url` (visible or not), as SQS counts them.
    pub async fn depth(&self, url: &str) -> usize {
        let attrs = self
            .sqs
            .get_queue_attributes()
            .queue_url(url)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
            .send()
            .await
            .expect("attributes");
        attrs.attributes.unwrap_or_default().values().map(|v| v.parse::<usize>().unwrap_or(0)).sum()
    }

    /// Every stored order of `shop_id`, any status.
    pub async fn stored(&self, shop_id: &str) -> Vec<StoredOrder> {
        let mut all = Vec::new();
        for status in OrderStatus::ALL {
            all.extend(self.store.list_by_status(shop_id, status, None, None).await.expect("list"));
        }
        all
    }

    /// Mail moto recorded as sent in this world's account.
    pub async fn sent_mail(&self) -> Vec<ichigen_testkit::moto::SentMail> {
        ichigen_testkit::moto::ses_messages(&self.endpoint, &self.account).await
    }
}

/// An SNS topic with an SQS queue subscribed (raw delivery: each message body is the published text).
async fn topic_with_queue(sdk: &aws_config::SdkConfig, sqs: &aws_sdk_sqs::Client, name: &str) -> (String, String) {
    let sns = aws_sdk_sns::Client::new(sdk);
    let topic_arn = sns.create_topic().name(name).send().await.expect("topic").topic_arn.expect("topic arn");
    let url = sqs
        .create_queue()
        .queue_name(format!("{name}-subscriber"))
        .send()
        .await
        .expect("queue")
        .queue_url
        .expect("url");
    let attrs = sqs
        .get_queue_attributes()
        .queue_url(&url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .expect("queue attributes");
    let queue_arn = attrs.attributes.and_then(|a| a.get(&QueueAttributeName::QueueArn).cloned()).expect("queue arn");
    sns.subscribe()
        .topic_arn(&topic_arn)
        .protocol("sqs")
        .endpoint(queue_arn)
        .attributes("RawMessageDelivery", "true")
        .send()
        .await
        .expect("subscribe");
    (topic_arn, url)
}

async fn queue_arn(sqs: &aws_sdk_sqs::Client, url: &str) -> String {
    sqs.get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .expect("queue arn")
        .attributes
        .and_then(|a| a.get(&QueueAttributeName::QueueArn).cloned())
        .expect("arn")
}

async fn queue_with_dlq(sqs: &aws_sdk_sqs::Client, name: &str, max_receives: u32) -> (String, String) {
    let dlq = sqs.create_queue().queue_name(format!("{name}-dlq")).send().await.expect("dlq");
    let dlq_url = dlq.queue_url.expect("dlq url");
    let arn = sqs
        .get_queue_attributes()
        .queue_url(&dlq_url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .expect("dlq arn")
        .attributes
        .and_then(|a| a.get(&QueueAttributeName::QueueArn).cloned())
        .expect("arn");
    let redrive = serde_json::json!({"deadLetterTargetArn": arn, "maxReceiveCount": max_receives}).to_string();
    let q = sqs
        .create_queue()
        .queue_name(name)
        .attributes(QueueAttributeName::RedrivePolicy, redrive)
        .attributes(QueueAttributeName::VisibilityTimeout, "30")
        .send()
        .await
        .expect("queue");
    (q.queue_url.expect("queue url"), dlq_url)
}

/// What the 楽天 relay (the SMTP test server) received for any of `recipients`, in moto's shape
/// so SES and relay mail are read alike.
pub fn relay_mail(recipients: &BTreeSet<String>) -> Vec<SentMail> {
    let smtp = ichigen_testkit::smtp::server();
    smtp.received()
        .into_iter()
        .filter(|r| r.rcpt_tos.iter().any(|t| recipients.contains(t)))
        .map(|r| SentMail {
            message_id: r.header("Message-ID").unwrap_or_default(),
            from: r.header("From").unwrap_or_default(),
            to: r.rcpt_tos.clone(),
            cc: Vec::new(),
            bcc: Vec::new(),
            subject: Some(r.subject()),
            body: Some(r.text()),
            raw: None,
        })
        .collect()
}

/// The order id a buyer mail's or staff alert's subject ends with: "…（ご注文番号：ID）" and
/// "…：<市場> ID".
pub fn subject_order_id(subject: &str) -> &str {
    subject.trim_end_matches('）').rsplit(['：', ' ']).next().unwrap_or("")
}

/// Whether `m` is a thank-you mail.
pub fn is_thanks(m: &SentMail) -> bool {
    m.subject.as_deref().is_some_and(|s| s.contains("ご注文ありがとうございます"))
}
