//! The puller binary as Lambda runs it: a process that polls the Runtime API (the testkit's emulator),
//! with its settings in env vars, moto as AWS and a marketplace sandbox as the marketplace.

use std::time::Duration;

use aws_sdk_sqs::types::QueueAttributeName;
use chrono::TimeDelta;
use ichigen_core::Marketplace;
use ichigen_sandbox::{Faults, SandboxConfig, Seed, Started};
use ichigen_testkit::lambda_process::{LambdaCommand, LambdaProcess};
use ichigen_testkit::moto::{self, AccessKey};
use ichigen_testkit::runtime_api::{Outcome, RuntimeApi};
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(60);
const SHOP: &str = "shop-1";
const SECRET_PREFIX: &str = "/ichigen/test/credentials/";

/// One test's AWS and marketplace: a moto account with the table, the orders queue and its quarantine, a
/// Rakuten sandbox whose secret is stored for [`SHOP`], and a key for the child to act in the account.
struct World {
    endpoint: String,
    key: AccessKey,
    table: String,
    orders_url: String,
    quarantine_url: String,
    sqs: aws_sdk_sqs::Client,
    sandbox: Started,
}

impl World {
    async fn new() -> World {
        let endpoint = moto::endpoint();
        let account = moto::fresh_account();
        let sdk = moto::sdk_config(&endpoint, &account).await;
        let table = "ichigen".to_owned();
        ichigen_aws::create_table(&aws_sdk_dynamodb::Client::new(&sdk), &table).await.expect("create table");
        let sqs = aws_sdk_sqs::Client::new(&sdk);
        let mut urls = Vec::new();
        for name in ["ichigen-orders", "ichigen-orders-dlq"] {
            urls.push(sqs.create_queue().queue_name(name).send().await.expect("queue").queue_url.expect("url"));
        }
        let now = chrono::Utc::now().fixed_offset();
        let seed =
            Seed { orders: 12, seed: 5, start: now - TimeDelta::hours(20), step_secs: 600, shop_id: SHOP.into() };
        let config = SandboxConfig { port: 0, seed, faults: Faults::default(), throttle: None };
        let sandbox = ichigen_sandbox::start(Marketplace::Rakuten, config).await.expect("sandbox");
        let secret = ichigen_sandbox::secret_json(Marketplace::Rakuten, &sandbox);
        let ssm = aws_sdk_ssm::Client::new(&sdk);
        ssm.put_parameter()
            .name(format!("{SECRET_PREFIX}{SHOP}/rakuten"))
            .value(secret)
            .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
            .send()
            .await
            .expect("put parameter");
        let key = moto::access_key(&endpoint, &account).await;
        let quarantine_url = urls.pop().expect("dlq");
        let orders_url = urls.pop().expect("queue");
        World { endpoint, key, table, orders_url, quarantine_url, sqs, sandbox }
    }

    /// The puller binary with every setting it needs; rate limits scaled up so the test does not wait on them.
    fn puller(&self, api: &RuntimeApi) -> LambdaCommand {
        LambdaCommand::new(env!("CARGO_BIN_EXE_puller"), "ichigen-puller")
            .runtime_api(api)
            .aws(&self.endpoint, &self.key)
            .env("TABLE_NAME", &self.table)
            .env("ORDERS_QUEUE_URL", &self.orders_url)
            .env("QUARANTINE_QUEUE_URL", &self.quarantine_url)
            // No tracking writes in these runs: the mail queue is never sent to.
            .env("MAIL_QUEUE_URL", &self.quarantine_url)
            .env("SECRET_PREFIX", SECRET_PREFIX)
            // The daily credential check is not run here; its own test is in tests/handlers.rs.
            .env("CREDENTIAL_EXPIRY_PREFIX", "/ichigen/test/credential-expiry/")
            .env("NOTICE_TOPIC_ARN", "arn:aws:sns:ap-northeast-1:000000000000:ichigen-alarms")
            .env("FIRST_LOOKBACK_HOURS", "48")
            .env("PAGE_BUDGET_SECONDS", "5")
            .env("RATE_SCALE", "1000")
    }

    /// Spawns the puller and waits until it polls for work.
    async fn running(&self, api: &RuntimeApi) -> LambdaProcess {
        let mut process = self.puller(api).spawn();
        process.wait_until_polling(api, WAIT).await.unwrap_or_else(|report| panic!("{report}"));
        process
    }

    fn orders_in_sandbox(&self) -> usize {
        self.sandbox.book.all().len()
    }

    /// Messages on the orders queue.
    async fn queued(&self) -> usize {
        let attrs = self
            .sqs
            .get_queue_attributes()
            .queue_url(&self.orders_url)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
            .send()
            .await
            .expect("attributes");
        let count = attrs.attributes.unwrap_or_default().remove(&QueueAttributeName::ApproximateNumberOfMessages);
        count.and_then(|n| n.parse().ok()).expect("a message count")
    }
}

fn pull_event(shop_id: &str) -> Value {
    json!({"shop_id": shop_id, "marketplace": "rakuten"})
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
async fn pulls_every_sandbox_order_onto_the_queue_and_reports_it() {
    let world = World::new().await;
    let api = RuntimeApi::start().await;
    let process = world.running(&api).await;

    let Outcome::Response(report) = api.invoke(pull_event(SHOP), WAIT).await else {
        panic!("a pull report; output:\n{}", process.output());
    };
    let orders = world.orders_in_sandbox();
    assert!(orders >= 10, "{orders}");
    assert_eq!(report["queued"], json!(orders), "{report}");
    assert_eq!((report["quarantined"].as_u64(), report["finished"].as_bool()), (Some(0), Some(true)), "{report}");
    assert_eq!((report["shop_id"].as_str(), report["marketplace"].as_str()), (Some(SHOP), Some("rakuten")));
    assert_eq!(world.queued().await, orders);

    let output = process.output();
    let metrics: Vec<Value> = output
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|line| line.get("_aws").is_some())
        .collect();
    // A pull that finished emits no EMF metric: what it did is in free metrics already (Lambda
    // Invocations/Errors, the orders queue's NumberOfMessagesSent), and zero counts are not sent.
    assert!(metrics.is_empty(), "{output}");
    for order in world.sandbox.book.all() {
        assert!(!output.contains(order.buyer.name.as_str()), "buyer data in the log: {}", order.buyer.name);
    }
}

#[tokio::test]
async fn failed_pulls_are_errors_of_the_right_type_and_the_next_pull_runs() {
    let world = World::new().await;
    let api = RuntimeApi::start().await;
    let mut process = world.running(&api).await;

    // A shop nobody stored credentials for: Parameter Store answers ParameterNotFound (HTTP 400), which
    // no retry fixes, so the error type is the one that pages an operator.
    let Outcome::Error(error) = api.invoke(pull_event("shop-without-secret"), WAIT).await else {
        panic!("an invocation error; output:\n{}", process.output());
    };
    assert_eq!(error.error_type, "ichigen.PullNeedsOperator", "{error:?}");
    assert!(
        error.message.contains("/ichigen/test/credentials/shop-without-secret/rakuten"),
        "names the parameter: {error:?}"
    );
    assert!(error.message.contains("ParameterNotFound"), "{error:?}");

    // A payload the scheduler would never send: the runtime refuses it before the handler runs.
    let Outcome::Error(error) = api.invoke(json!({"shop_id": SHOP, "marketplace": "ebay"}), WAIT).await else {
        panic!("an invocation error; output:\n{}", process.output());
    };
    assert!(!error.error_type.is_empty(), "{error:?}");
    assert!(error.message.contains("marketplace"), "names the field: {error:?}");
    assert_eq!(world.queued().await, 0);

    assert_eq!(process.exit_status(), None, "the runtime goes on after errors");
    let Outcome::Response(report) = api.invoke(pull_event(SHOP), WAIT).await else {
        panic!("a pull report; output:\n{}", process.output());
    };
    assert_eq!(report["queued"], json!(world.orders_in_sandbox()), "{report}");
}

#[tokio::test]
async fn missing_or_bad_settings_stop_it_before_it_polls_naming_each() {
    let world = World::new().await;
    let api = RuntimeApi::start().await;
    let command = ["TABLE_NAME", "ORDERS_QUEUE_URL", "QUARANTINE_QUEUE_URL", "MAIL_QUEUE_URL", "SECRET_PREFIX"]
        .into_iter()
        .fold(world.puller(&api), LambdaCommand::env_remove);
    let mut process = command.env("RATE_SCALE", "0").spawn();
    let status = process.wait_for_exit(WAIT).await.unwrap_or_else(|report| panic!("{report}"));
    assert!(!status.success());
    let output = process.output();
    for problem in [
        "TABLE_NAME is not set",
        "ORDERS_QUEUE_URL is not set",
        "QUARANTINE_QUEUE_URL is not set",
        "MAIL_QUEUE_URL is not set",
        "SECRET_PREFIX is not set",
        "RATE_SCALE must be a positive number",
    ] {
        assert!(output.contains(problem), "{problem:?} not in:\n{output}");
    }
    assert_eq!(api.first_poll_at(), None, "it never asked for work");
}
