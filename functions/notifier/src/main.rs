//! Notifier Lambda: config and clients once, then one SQS batch of mail jobs, one SNS delivery of
//! SES events, or one shop's digest schedule, per invocation.

#![recursion_limit = "256"] // The SDK clients make deep async types.

use anyhow::Context as _;
use ichigen_lambda::{Env, Metrics};
use ichigen_notifier::{Config, Invocation, build, handle, handle_digest, handle_mail_events};
use lambda_runtime::{LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    ichigen_lambda::init_logging();
    let config = Config::from_env(Env::from_process()).context("notifier")?;
    let aws = ichigen_aws::sdk_config().await;
    let notifier = build(&config, &aws);
    let visibility = ichigen_aws::SqsVisibility::new(aws_sdk_sqs::Client::new(&aws));
    let store = ichigen_aws::DynamoStore::new(aws_sdk_dynamodb::Client::new(&aws), config.table_name.clone());
    let (notifier, store, visibility) = (&notifier, &store, &visibility);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<serde_json::Value>| async move {
        let mut metrics = Metrics::new("notifier");
        let response = match Invocation::from_json(event.payload)? {
            Invocation::Jobs(jobs) => {
                serde_json::to_value(handle(notifier, Some(visibility), jobs, &mut metrics).await)?
            }
            Invocation::MailEvents(events) => {
                handle_mail_events(store, events, &mut metrics).await?;
                serde_json::Value::Null
            }
            Invocation::Digest(digest) => {
                // Emitted before a failure ends the invocation: the failure is counted.
                let done = handle_digest(notifier, &digest, &mut metrics).await;
                metrics.emit();
                done?;
                return Ok(serde_json::Value::Null);
            }
        };
        metrics.emit();
        Ok::<_, lambda_runtime::Error>(response)
    }))
    .await
}
