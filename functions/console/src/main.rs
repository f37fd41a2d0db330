//! Console Lambda: config and clients once, then each function URL request through the console's
//! axum router (`lambda_http`).

#![recursion_limit = "256"] // The SDK clients make deep async types.

use anyhow::Context as _;
use ichigen_console_fn::{Config, build};
use ichigen_lambda::Env;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    ichigen_lambda::init_logging();
    let config = Config::from_env(Env::from_process()).context("console")?;
    let aws = ichigen_aws::sdk_config().await;
    let router = build(&config, &aws).await.context("console")?;
    lambda_http::run(router).await
}
