//! The processor binary as Lambda runs it: a process that polls the Runtime API (the testkit's emulator),
//! with its settings in env vars and moto as AWS.

use std::time::Duration;

use aws_sdk_sqs::types::QueueAttributeName;
use ichigen_aws::DynamoStore;
use ichigen_core::pipeline::{MailJob, MailKind, OrderKey, OrderStore, ShopDirectory, ShopSettings};
use ichigen_core::sample::SampleOrders;
use ichigen_core::{Marketplace, Order};
use ichigen_testkit::lambda_process::{LambdaCommand, LambdaProcess};
use ichigen_testkit::moto::{self, AccessKey};
use ichigen_testkit::runtime_api::{Outcome, RuntimeApi, sqs_event};
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(30);
const SHOP: &str = "shop-1";
/// A body cut off mid-way, as a broken producer would send it.
const MALFORMED: &str = "{\"schema_version\": 1, \"shop_id\": ";

/// One test's AWS: a moto account with the table and the mail queue, and a key for the child to act in it.
struct World {
    endpoint: String,
    key: AccessKey,
    table: String,
    mail_url: String,
    store: DynamoStore,
    sqs: aws_sdk_sqs::Client,
}

impl World {
    async fn new() -> World {
        let endpoint = moto::endpoint();
        let account = moto::fresh_account();
        let sdk = moto::sdk_config(&endpoint, &account).await;
        let ddb = aws_sdk_dynamodb::Client::new(&sdk);
        let table = "ichigen".to_owned();
        ichigen_aws::create_table(&ddb, &table).await.expect("create table");
        let sqs = aws_sdk_sqs::Client::new(&sdk);
        let mail_url =
            sqs.create_queue().queue_name("ichigen-mail").send().await.expect("mail queue").queue_url.expect("url");
        let store = DynamoStore::new(ddb, table.clone());
        let mut shop = ShopSettings::new(SHOP, "いちげん商店", "shop@example.jp");
        shop.staff_to = vec!["staff@example.jp".to_owned()];
        store.put_shop(&shop).await.expect("put shop");
        let key = moto::access_key(&endpoint, &account).await;
        World { endpoint, key, table, mail_url, store, sqs }
    }

    /// The processor binary with every setting it needs.
    fn processor(&self, api: &RuntimeApi) -> LambdaCommand {
        LambdaCommand::new(env!("CARGO_BIN_EXE_processor"), "ichigen-processor")
            .runtime_api(api)
            .aws(&self.endpoint, &self.key)
            .env("TABLE_NAME", &self.table)
            .env("MAIL_QUEUE_URL", &self.mail_url)
    }

    /// Spawns the processor and waits until it polls for work.
    async fn running(&self, api: &RuntimeApi) -> LambdaProcess {
        let mut process = self.processor(api).spawn();
        process.wait_until_polling(api, WAIT).await.unwrap_or_else(|report| panic!("{report}"));
        process
    }

    /// Every body on the mail queue.
    async fn mail_jobs(&self) -> Vec<MailJob> {
        let got = self
            .sqs
            .receive_message()
            .queue_url(&self.mail_url)
            .max_number_of_messages(10)
            .send()
            .await
            .expect("receive");
        let bodies = got.messages.unwrap_or_default().into_iter().filter_map(|m| m.body);
        bodies.map(|body| serde_json::from_str(&body).expect("a mail job")).collect()
    }

    async fn mail_queue_depth(&self) -> usize {
        let attrs = self
            .sqs
            .get_queue_attributes()
            .queue_url(&self.mail_url)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
            .send()
            .await
            .expect("attributes");
        let count = attrs.attributes.unwrap_or_default().remove(&QueueAttributeName::ApproximateNumberOfMessages);
        count.and_then(|n| n.parse().ok()).expect("a message count")
    }
}

fn order(n: usize) -> Order {
    let mut order = SampleOrders::new(7).clean_order(Marketplace::Rakuten, n);
    order.shop_id = SHOP.to_owned();
    order
}

fn body(order: &Order) -> String {
    serde_json::to_string(order).expect("order JSON")
}

/// The message ids a batch response reports as failed.
fn failed_ids(response: &Value) -> Vec<&str> {
    let failures =
        response["batchItemFailures"].as_array().unwrap_or_else(|| panic!("not a batch response: {response}"));
    failures.iter().map(|failure| failure["itemIdentifier"].as_str().expect("an item id")).collect()
}

/// The Embedded Metric Format lines the process printed.
fn metric_lines(output: &str) -> Vec<Value> {
    output
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|v| v.get("_aws").is_some())
        .collect()
}

#[tokio::test]
async fn boots_and_polls_for_work() {
    let world = World::new().await;
    let api = RuntimeApi::start().await;
    let mut process = world.running(&api).await;
    assert!(api.first_poll_at().is_some());
    assert_eq!(process.exit_status(), None, "it waits for an invocation: {}", process.output());
}

#[tokio::test]
async fn stores_a_good_order_queues_its_thank_you_and_fails_only_the_malformed_message() {
    let world = World::new().await;
    let api = RuntimeApi::start().await;
    let process = world.running(&api).await;
    let order = order(0);

    let event = sqs_event("ichigen-orders", &[("m-good", &body(&order)), ("m-bad", MALFORMED)]);
    let Outcome::Response(response) = api.invoke(event, WAIT).await else {
        panic!("a batch response, not an error; output:\n{}", process.output());
    };
    assert_eq!(failed_ids(&response), ["m-bad"], "{response}");

    let stored = world.store.get(&OrderKey::of(&order)).await.expect("get").expect("the order is stored");
    assert_eq!(stored.order, order);
    let jobs = world.mail_jobs().await;
    assert_eq!(jobs, [MailJob { order: OrderKey::of(&order), kind: MailKind::ThankYou }]);

    let output = process.output();
    let metrics = metric_lines(&output);
    assert_eq!(metrics.len(), 1, "one EMF line per invocation: {output}");
    assert_eq!((metrics[0]["NewOrders"].as_f64(), metrics[0]["Failed"].as_f64()), (Some(1.0), Some(1.0)));
    // Nothing a free AWS metric already counts, and no zero counts.
    assert!(metrics[0].get("Processed").is_none(), "{}", metrics[0]);
    // The failure is logged as JSON with the message id (Lambda's JSON log format), with no buyer data.
    let failure = output
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .find(|line| line["fields"]["message"] == "message failed")
        .unwrap_or_else(|| panic!("no JSON log line for the failed message: {output}"));
    assert_eq!(failure["fields"]["message_id"], "m-bad");
    for personal in [Some(&order.buyer.name), order.buyer.email.as_ref(), Some(&order.ship_to.address1)] {
        let personal = personal.expect("the sample order has buyer data");
        assert!(!output.contains(personal.as_str()), "buyer data in the log: {personal}");
    }
}

#[tokio::test]
async fn an_event_that_is_not_an_sqs_batch_is_an_error_and_the_next_batch_is_handled() {
    let world = World::new().await;
    let api = RuntimeApi::start().await;
    let mut process = world.running(&api).await;

    let Outcome::Error(error) = api.invoke(json!({"Records": 5}), WAIT).await else {
        panic!("an invocation error; output:\n{}", process.output());
    };
    assert!(!error.error_type.is_empty(), "{error:?}");
    assert!(error.message.contains("Records"), "the message names the bad field: {error:?}");
    assert_eq!(world.mail_queue_depth().await, 0);

    assert_eq!(process.exit_status(), None, "the runtime goes on after an error");
    let order = order(1);
    let outcome = api.invoke(sqs_event("ichigen-orders", &[("m-next", &body(&order))]), WAIT).await;
    assert_eq!(outcome, Outcome::Response(json!({"batchItemFailures": []})));
    assert!(world.store.get(&OrderKey::of(&order)).await.expect("get").is_some());
}

#[tokio::test]
async fn missing_settings_stop_it_before_it_polls_naming_each() {
    let world = World::new().await;
    let api = RuntimeApi::start().await;
    let mut process = world.processor(&api).env_remove("TABLE_NAME").env_remove("MAIL_QUEUE_URL").spawn();
    let status = process.wait_for_exit(WAIT).await.unwrap_or_else(|report| panic!("{report}"));
    assert!(!status.success());
    let output = process.output();
    for name in ["TABLE_NAME", "MAIL_QUEUE_URL"] {
        assert!(output.contains(&format!("{name} is not set")), "{name} not named in:\n{output}");
    }
    assert_eq!(api.first_poll_at(), None, "it never asked for work");
}
