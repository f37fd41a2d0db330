//! Importer Lambda: config and clients once, then one SQS batch of the import bucket's
//! notifications per invocation.

#![recursion_limit = "256"] // The SDK clients make deep async types.

use anyhow::Context as _;
use aws_lambda_events::event::sqs::SqsEvent;
use ichigen_importer::{Config, build, handle};
use ichigen_lambda::{Env, Metrics};
use lambda_runtime::{LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    ichigen_lambda::init_logging();
    let config = Config::from_env(Env::from_process()).context("importer")?;
    let importer = build(&config, &ichigen_aws::sdk_config().await);
    let importer = &importer;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| async move {
        let mut metrics = Metrics::new("importer");
        let response = handle(importer, event.payload, &mut metrics).await;
        metrics.emit();
        Ok::<_, lambda_runtime::Error>(response)
    }))
    .await
}
