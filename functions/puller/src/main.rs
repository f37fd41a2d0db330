//! Puller Lambda: config and clients once, then one shop × marketplace pull (or the daily credential check) per invocation.

#![recursion_limit = "256"] // The SDK clients make deep async types.

use anyhow::Context as _;
use ichigen_lambda::{Env, Metrics};
use ichigen_puller::{App, Config, PullerEvent, deadline_instant};
use lambda_runtime::{LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    ichigen_lambda::init_logging();
    let config = Config::from_env(Env::from_process()).context("puller")?;
    let app = App::new(config, &ichigen_aws::sdk_config().await);
    let app = &app;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<PullerEvent>| async move {
        let mut metrics = Metrics::new("puller");
        let result = app.handle_event(&event.payload, deadline_instant(event.context.deadline), &mut metrics).await;
        metrics.emit();
        result
    }))
    .await
}
