//! The notifier binary as Lambda runs it: a process that polls the Runtime API (the testkit's emulator),
//! with its settings in env vars and moto as AWS.

use std::time::Duration;

use chrono::Utc;
use ichigen_aws::DynamoStore;
use ichigen_core::pipeline::memory::MemoryMailQueue;
use ichigen_core::pipeline::{MailJob, MailKind, OrderKey, ProcessSettings, Processor, ShopDirectory, ShopSettings};
use ichigen_core::sample::SampleOrders;
use ichigen_core::{Marketplace, Order};
use ichigen_testkit::lambda_process::{LambdaCommand, LambdaProcess};
use ichigen_testkit::moto::{self, AccessKey, SentMail};
use ichigen_testkit::runtime_api::{Outcome, RuntimeApi, sqs_event};
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(30);
const SHOP: &str = "shop-1";
const MAIL_FROM: &str = "shop@example.jp";

/// One test's AWS: a moto account with the table, the shop and the SES sender, and a key for the child to act
/// in it.
struct World {
    endpoint: String,
    account: String,
    key: AccessKey,
    table: String,
    store: DynamoStore,
}

impl World {
    async fn new() -> World {
        let endpoint = moto::endpoint();
        let account = moto::fresh_account();
        let sdk = moto::sdk_config(&endpoint, &account).await;
        let ddb = aws_sdk_dynamodb::Client::new(&sdk);
        let table = "ichigen".to_owned();
        ichigen_aws::create_table(&ddb, &table).await.expect("create table");
        let ses = aws_sdk_sesv2::Client::new(&sdk);
        ses.create_email_identity().email_identity(MAIL_FROM).send().await.expect("SES identity");
        let store = DynamoStore::new(ddb, table.clone());
        store.put_shop(&ShopSettings::new(SHOP, "いちげん商店", MAIL_FROM)).await.expect("put shop");
        let key = moto::access_key(&endpoint, &account).await;
        World { endpoint, account, key, table, store }
    }

    /// The notifier binary with every setting it needs.
    fn notifier(&self, api: &RuntimeApi) -> LambdaCommand {
        LambdaCommand::new(env!("CARGO_BIN_EXE_notifier"), "ichigen-notifier")
            .runtime_api(api)
            .aws(&self.endpoint, &self.key)
            .env("TABLE_NAME", &self.table)
            .env("SECRET_PREFIX", "/ichigen/test/credentials/")
    }

    /// Spawns the notifier and waits until it polls for work.
    async fn running(&self, api: &RuntimeApi) -> LambdaProcess {
        let mut process = self.notifier(api).spawn();
        process.wait_until_polling(api, WAIT).await.unwrap_or_else(|report| panic!("{report}"));
        process
    }

    /// Stores order `n` through the processor's use case (as the processor Lambda would) and returns it with its
    /// thank-you job. The buyer's address is unique to this test: the child's mail is found by it, since moto
    /// does not record which account sent a mail.
    async fn order_with_job(&self, n: usize) -> (Order, MailJob) {
        let mut order = SampleOrders::new(11).clean_order(Marketplace::Yahoo, n);
        order.shop_id = SHOP.to_owned();
        order.buyer.email = Some(format!("buyer-{n}-{}@example.jp", self.account));
        let processor = Processor::new(
            self.store.clone(),
            self.store.clone(),
            MemoryMailQueue::new(),
            ichigen_marketplaces::policies(),
            ProcessSettings::default(),
        );
        let done = processor.process(order.clone(), Utc::now().fixed_offset()).await.expect("processed");
        assert_eq!(done.mails, [MailKind::ThankYou]);
        let job = MailJob { order: OrderKey::of(&order), kind: MailKind::ThankYou };
        (order, job)
    }

    /// The mail moto accepted for `order`'s buyer.
    async fn mail_to(&self, order: &Order) -> Vec<SentMail> {
        let buyer = order.buyer.email.clone().expect("a buyer address");
        moto::all_ses_messages(&self.endpoint).await.into_iter().filter(|mail| mail.to == [buyer.as_str()]).collect()
    }
}

fn job_body(job: &MailJob) -> String {
    serde_json::to_string(job).expect("job JSON")
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
async fn sends_the_thank_you_of_a_mail_job_once() {
    let world = World::new().await;
    let (order, job) = world.order_with_job(0).await;
    let api = RuntimeApi::start().await;
    let process = world.running(&api).await;

    let event = sqs_event("ichigen-mail", &[("m-1", &job_body(&job))]);
    let outcome = api.invoke(event, WAIT).await;
    assert_eq!(outcome, Outcome::Response(json!({"batchItemFailures": []})), "{}", process.output());

    let sent = world.mail_to(&order).await;
    assert_eq!(sent.len(), 1, "{sent:#?}");
    assert_eq!(sent[0].from, MAIL_FROM);
    let subject = sent[0].subject.as_deref().unwrap_or_default();
    assert!(subject.contains(&order.order_id), "{subject}");

    // SQS may deliver the job again: the ledger keeps it to one mail.
    let again = api.invoke(sqs_event("ichigen-mail", &[("m-1-again", &job_body(&job))]), WAIT).await;
    assert_eq!(again, Outcome::Response(json!({"batchItemFailures": []})));
    assert_eq!(world.mail_to(&order).await.len(), 1);

    let output = process.output();
    let metrics: Vec<Value> = output
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|line| line.get("_aws").is_some())
        .collect();
    assert_eq!(metrics.len(), 2, "one EMF line per invocation: {output}");
    assert_eq!(metrics[0]["Mailed.thank_you"].as_f64(), Some(1.0), "{}", metrics[0]);
    assert_eq!(metrics[1]["AlreadySent"].as_f64(), Some(1.0), "{}", metrics[1]);
    for personal in [&order.buyer.name, &order.ship_to.address1, order.buyer.email.as_ref().expect("address")] {
        assert!(!output.contains(personal.as_str()), "buyer data in the log: {personal}");
    }
}

#[tokio::test]
async fn an_event_that_is_not_an_sqs_batch_is_an_error_and_the_next_batch_is_handled() {
    let world = World::new().await;
    let (order, job) = world.order_with_job(1).await;
    let api = RuntimeApi::start().await;
    let mut process = world.running(&api).await;

    let Outcome::Error(error) = api.invoke(json!({"Records": 5}), WAIT).await else {
        panic!("an invocation error; output:\n{}", process.output());
    };
    assert!(!error.error_type.is_empty(), "{error:?}");
    assert!(error.message.contains("Records"), "the message names the bad field: {error:?}");

    assert_eq!(process.exit_status(), None, "the runtime goes on after an error");
    let outcome = api.invoke(sqs_event("ichigen-mail", &[("m-next", &job_body(&job))]), WAIT).await;
    assert_eq!(outcome, Outcome::Response(json!({"batchItemFailures": []})));
    assert_eq!(world.mail_to(&order).await.len(), 1);
}

#[tokio::test]
async fn missing_or_bad_settings_stop_it_before_it_polls_naming_each() {
    let world = World::new().await;
    let api = RuntimeApi::start().await;
    let mut process = world.notifier(&api).env_remove("TABLE_NAME").env("LEASE_SECONDS", "two minutes").spawn();
    let status = process.wait_for_exit(WAIT).await.unwrap_or_else(|report| panic!("{report}"));
    assert!(!status.success());
    let output = process.output();
    for problem in ["TABLE_NAME is not set", "LEASE_SECONDS is not a valid u64"] {
        assert!(output.contains(problem), "{problem:?} not in:\n{output}");
    }
    assert_eq!(api.first_poll_at(), None, "it never asked for work");
}
