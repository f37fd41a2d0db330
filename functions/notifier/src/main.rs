//! Notifier Lambda: config and clients once, then one SQS batch per invocation.

#![recursion_limit = "256"] // The SDK clients make deep async types.

use anyhow::Context as _;
use aws_lambda_events::event::sqs::SqsEvent;
use ichigen_lambda::{Env, Metrics};
use ichigen_notifier::{Config, build, handle};
use lambda_runtime::{LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    ichigen_lambda::init_logging();
    let config = Config::from_env(Env::from_process()).context("notifier")?;
    let notifier = build(&config, &ichigen_aws::sdk_config().await);
    let notifier = &notifier;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| async move {
        let mut metrics = Metrics::new("notifier");
        let response = handle(notifier, event.payload, &mut metrics).await;
        metrics.emit();
        Ok::<_, lambda_runtime::Error>(response)
    }))
    .await
}
