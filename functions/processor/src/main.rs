//! Processor Lambda: config and clients once, then one batch per invocation.

use anyhow::Context as _;
use aws_lambda_events::event::sqs::SqsEvent;
use ichigen_aws::{DynamoStore, SqsQueue};
use ichigen_core::pipeline::{MailJob, Processor};
use ichigen_lambda::Env;
use ichigen_processor::{Config, handle};
use lambda_runtime::{LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    ichigen_lambda::init_logging();
    let config = Config::from_env(Env::from_process()).context("processor")?;
    let aws = ichigen_aws::sdk_config().await;
    let store = DynamoStore::new(aws_sdk_dynamodb(&aws), config.table_name.clone());
    let mails: SqsQueue<MailJob> = SqsQueue::new(aws_sdk_sqs(&aws), config.mail_queue_url.clone());
    let processor = Processor::new(store.clone(), store, mails, config.process_settings());
    let processor = &processor;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| async move {
        Ok::<_, lambda_runtime::Error>(handle(processor, event.payload).await)
    }))
    .await
}

fn aws_sdk_dynamodb(c: &ichigen_aws::SdkConfig) -> ichigen_aws::dynamodb::Client {
    ichigen_aws::dynamodb::Client::new(c)
}

fn aws_sdk_sqs(c: &ichigen_aws::SdkConfig) -> ichigen_aws::sqs::Client {
    ichigen_aws::sqs::Client::new(c)
}
