//! The emulator against the real `lambda_runtime` client.
//!
//! `lambda_runtime` reads its endpoint and function settings only from the environment, which a test cannot
//! change safely (edition 2024 makes `set_var` unsafe and this workspace forbids unsafe code). So the function
//! runs in a child process: this test binary again, running only [`child_function`], with the variables set.

use std::time::Duration;

use ichigen_testkit::lambda_process::{LambdaCommand, LambdaProcess};
use ichigen_testkit::runtime_api::{Outcome, RuntimeApi};
use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::{Value, json};

/// Set in the child run to make [`child_function`] serve invocations; its value says how.
const CHILD_VAR: &str = "ICHIGEN_TESTKIT_LAMBDA_CHILD";
const WAIT: Duration = Duration::from_secs(30);

/// This test binary as the function `ichigen-test`, running only [`child_function`] in `mode`.
fn function(api: &RuntimeApi, mode: &str) -> LambdaCommand {
    let this = std::env::current_exe().expect("path of this test binary");
    LambdaCommand::new(this, "ichigen-test")
        .args(["child_function", "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_VAR, mode)
        .runtime_api(api)
}

fn spawn_function(api: &RuntimeApi) -> LambdaProcess {
    function(api, "serve").spawn()
}

#[tokio::test]
async fn lambda_runtime_gets_responses_and_errors_through_the_emulator() {
    let api = RuntimeApi::start().await;
    let mut function = spawn_function(&api);
    let polled = function.wait_until_polling(&api, WAIT).await.unwrap();
    assert!(polled >= function.spawned_at());
    assert_eq!(api.first_poll_at(), Some(polled));

    let outcome = api.invoke(json!({"order": "注文-7"}), WAIT).await;
    assert_eq!(outcome, Outcome::Response(json!({"echo": {"order": "注文-7"}, "function": "ichigen-test"})));

    let Outcome::Error(error) = api.invoke(json!({"fail": "在庫がありません"}), WAIT).await else {
        panic!("the handler's Err must come back as an error");
    };
    assert_eq!(error.message, "在庫がありません");
    assert!(!error.error_type.is_empty(), "{error:?}");
    assert_eq!(error.header_error_type.as_deref(), Some("unhandled"));

    // The runtime goes on after an error.
    let outcome = api.invoke(json!(3), WAIT).await;
    assert_eq!(outcome, Outcome::Response(json!({"echo": 3, "function": "ichigen-test"})));
    assert_eq!(api.init_error(), None);
    assert_eq!(function.exit_status(), None, "still serving");
    // The handler's log line came through the collected output (read by a thread of its own: on a
    // loaded machine it may land a moment after the response).
    for _ in 0..100 {
        if function.output().contains("handled 注文-7") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(function.output().contains("handled 注文-7"), "{}", function.output());
    assert!(function.peak_rss_kib().unwrap() >= function.rss_kib().unwrap());
    assert!(function.cpu_time().unwrap() > Duration::ZERO);
}

#[tokio::test]
async fn the_function_sees_lambdas_environment_and_nothing_of_the_hosts() {
    let api = RuntimeApi::start().await;
    let mut function = function(&api, "print-env").env("TABLE_NAME", "orders").spawn();
    let status = function.wait_for_exit(WAIT).await.unwrap();
    assert!(status.success(), "{}", function.output());
    let output = function.output();
    let env: Vec<&str> = output.lines().filter_map(|line| line.strip_prefix("ENV ")).collect();
    for expected in [
        "AWS_LAMBDA_FUNCTION_NAME=ichigen-test",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE=128",
        "AWS_LAMBDA_LOG_FORMAT=JSON",
        "TABLE_NAME=orders",
        "TZ=:UTC",
    ] {
        assert!(env.contains(&expected), "{expected} missing from {env:?}");
    }
    assert!(env.contains(&format!("AWS_LAMBDA_RUNTIME_API={}", api.address()).as_str()), "{env:?}");
    // What the test process has (cargo sets CARGO_* for it) does not leak into the function.
    assert!(std::env::var_os("CARGO_PKG_NAME").is_some());
    assert!(!env.iter().any(|line| line.starts_with("CARGO_") || line.starts_with("HOME=")), "{env:?}");
}

#[tokio::test]
async fn a_function_that_exits_during_init_is_reported_with_its_output() {
    let api = RuntimeApi::start().await;
    let mut function = function(&api, "exit").spawn();
    let error = function.wait_until_polling(&api, WAIT).await.unwrap_err();
    assert!(error.contains("exited (exit status: 3) before polling"), "{error}");
    assert!(error.contains("TABLE_NAME is not set"), "the child's stderr is in the report: {error}");
    assert_eq!(api.first_poll_at(), None);
}

#[tokio::test]
async fn dropping_the_process_kills_it() {
    let api = RuntimeApi::start().await;
    let mut function = spawn_function(&api);
    function.wait_until_polling(&api, WAIT).await.unwrap();
    let proc_dir = std::path::PathBuf::from(format!("/proc/{}", function.pid()));
    assert!(proc_dir.exists());
    drop(function);
    // Killed and reaped: the kernel has forgotten the process.
    assert!(!proc_dir.exists(), "{} is still there", proc_dir.display());
}

/// Echoes the event and the function name; fails with the message in `{"fail": "…"}`.
async fn handler(event: LambdaEvent<Value>) -> Result<Value, lambda_runtime::Error> {
    if let Some(message) = event.payload.get("fail").and_then(Value::as_str) {
        return Err(message.into());
    }
    if let Some(order) = event.payload.get("order").and_then(Value::as_str) {
        eprintln!("handled {order}");
    }
    Ok(json!({"echo": event.payload, "function": event.context.env_config.function_name}))
}

/// Not a test of its own: the Lambda function of the tests above, run in a child process.
#[tokio::test]
async fn child_function() {
    match std::env::var(CHILD_VAR).as_deref() {
        // Serves until the parent kills this process.
        Ok("serve") => lambda_runtime::run(service_fn(handler)).await.unwrap(),
        Ok("print-env") => {
            // libtest has just printed the test's name without a newline.
            println!();
            for (name, value) in std::env::vars() {
                println!("ENV {name}={value}");
            }
        }
        Ok("exit") => {
            eprintln!("configuration: TABLE_NAME is not set");
            std::process::exit(3);
        }
        _ => {}
    }
}
