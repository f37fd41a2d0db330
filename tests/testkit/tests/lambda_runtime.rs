//! The emulator against the real `lambda_runtime` client.
//!
//! `lambda_runtime` reads its endpoint and function settings only from the environment, which a test cannot
//! change safely (edition 2024 makes `set_var` unsafe and this workspace forbids unsafe code). So the function
//! runs in a child process: this test binary again, running only [`child_function`], with the variables set.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use ichigen_testkit::runtime_api::{Outcome, RuntimeApi};
use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::{Value, json};

/// Set in the child run to make [`child_function`] serve invocations.
const CHILD_VAR: &str = "ICHIGEN_TESTKIT_LAMBDA_CHILD";

/// Kills the child function when the test ends, whether it passed or not.
struct Function(Child);

impl Drop for Function {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn spawn_function(api: &RuntimeApi) -> Function {
    let child = Command::new(std::env::current_exe().expect("path of this test binary"))
        .args(["child_function", "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_VAR, "1")
        .env("AWS_LAMBDA_RUNTIME_API", api.address())
        .env("AWS_LAMBDA_FUNCTION_NAME", "ichigen-test")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "test-stream")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/ichigen-test")
        .stdout(Stdio::null())
        .spawn()
        .expect("spawn this test binary as the function");
    Function(child)
}

#[tokio::test]
async fn lambda_runtime_gets_responses_and_errors_through_the_emulator() {
    let api = RuntimeApi::start().await;
    let spawned = Instant::now();
    let _function = spawn_function(&api);

    let outcome = api.invoke(json!({"order": "注文-7"}), Duration::from_secs(30)).await;
    assert_eq!(outcome, Outcome::Response(json!({"echo": {"order": "注文-7"}, "function": "ichigen-test"})));
    let cold_start = api.first_poll_at().unwrap() - spawned;
    assert!(cold_start < Duration::from_secs(30), "{cold_start:?}");
    eprintln!("spawn to first /next: {cold_start:?}");

    let Outcome::Error(error) = api.invoke(json!({"fail": "在庫がありません"}), Duration::from_secs(30)).await
    else {
        panic!("the handler's Err must come back as an error");
    };
    assert_eq!(error.message, "在庫がありません");
    assert!(!error.error_type.is_empty(), "{error:?}");
    assert_eq!(error.header_error_type.as_deref(), Some("unhandled"));

    // The runtime goes on after an error.
    let outcome = api.invoke(json!(3), Duration::from_secs(30)).await;
    assert_eq!(outcome, Outcome::Response(json!({"echo": 3, "function": "ichigen-test"})));
    assert_eq!(api.init_error(), None);
}

/// Echoes the event and the function name; fails with the message in `{"fail": "…"}`.
async fn handler(event: LambdaEvent<Value>) -> Result<Value, lambda_runtime::Error> {
    if let Some(message) = event.payload.get("fail").and_then(Value::as_str) {
        return Err(message.into());
    }
    Ok(json!({"echo": event.payload, "function": event.context.env_config.function_name}))
}

/// Not a test of its own: the Lambda function of the test above, run in a child process.
#[tokio::test]
async fn child_function() {
    if std::env::var_os(CHILD_VAR).is_none() {
        return;
    }
    // Serves until the parent kills this process.
    lambda_runtime::run(service_fn(handler)).await.unwrap();
}
