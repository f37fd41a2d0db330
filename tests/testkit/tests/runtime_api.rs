//! The Runtime API emulator driven over HTTP the way a runtime client drives it.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use ichigen_testkit::runtime_api::{FunctionError, Outcome, RuntimeApi, Settings};
use reqwest::StatusCode;
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(10);

/// One `/next` as a runtime does it: (request id, headers, event).
async fn next(api: &RuntimeApi) -> (String, reqwest::header::HeaderMap, Value) {
    let url = format!("http://{}/2018-06-01/runtime/invocation/next", api.address());
    let response = reqwest::get(url).await.expect("GET /next");
    assert_eq!(response.status(), StatusCode::OK);
    let headers = response.headers().clone();
    let id = headers["lambda-runtime-aws-request-id"].to_str().expect("ASCII request id").to_owned();
    (id, headers, response.json().await.expect("JSON event"))
}

async fn post(api: &RuntimeApi, path: &str, headers: &[(&str, &str)], body: &str) -> StatusCode {
    let mut request = reqwest::Client::new().post(format!("http://{}/2018-06-01/runtime/{path}", api.address()));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.body(body.to_owned()).send().await.expect("POST to the emulator").status()
}

fn epoch_ms() -> u128 {
    SystemTime::now().duration_since(UNIX_EPOCH).expect("clock after 1970").as_millis()
}

#[tokio::test]
async fn an_invocation_is_handed_out_and_answered() {
    let settings = Settings { function_timeout: Duration::from_secs(5), ..Settings::default() };
    let arn = settings.function_arn.clone();
    let api = RuntimeApi::start_with(settings).await;
    assert_eq!(api.first_poll_at(), None);
    let before = Instant::now();
    let runtime = {
        let api_address = api.address();
        tokio::spawn(async move {
            let client = reqwest::Client::new();
            let response =
                client.get(format!("http://{api_address}/2018-06-01/runtime/invocation/next")).send().await.unwrap();
            let headers = response.headers().clone();
            let event: Value = response.json().await.unwrap();
            let id = headers["lambda-runtime-aws-request-id"].to_str().unwrap().to_owned();
            let answer = json!({"echo": event, "id": id});
            let status = client
                .post(format!("http://{api_address}/2018-06-01/runtime/invocation/{id}/response"))
                .json(&answer)
                .send()
                .await
                .unwrap()
                .status();
            (headers, status)
        })
    };
    let outcome = api.invoke(json!({"order": "注文-1"}), WAIT).await;
    let (headers, status) = runtime.await.unwrap();
    assert_eq!(status, StatusCode::ACCEPTED);

    let id = headers["lambda-runtime-aws-request-id"].to_str().unwrap();
    assert_eq!(outcome, Outcome::Response(json!({"echo": {"order": "注文-1"}, "id": id})));
    assert_eq!(id.len(), 36, "{id}");
    assert_eq!(headers["lambda-runtime-invoked-function-arn"], arn.as_str());
    assert!(headers["lambda-runtime-trace-id"].to_str().unwrap().starts_with("Root=1-"));
    let deadline: u128 = headers["lambda-runtime-deadline-ms"].to_str().unwrap().parse().unwrap();
    let now = epoch_ms();
    assert!(deadline > now + 4_000 && deadline <= now + 5_000, "deadline {deadline}, now {now}");
    assert!(api.first_poll_at().unwrap() >= before);
}

#[tokio::test]
async fn the_first_poll_is_remembered_not_the_last() {
    let api = RuntimeApi::start().await;
    for n in 0..2 {
        let poll = next(&api);
        let invoke = api.invoke(json!(n), WAIT);
        let ((id, _, event), outcome) = tokio::join!(
            async {
                let got = poll.await;
                assert_eq!(
                    post(&api, &format!("invocation/{}/response", got.0), &[], "null").await,
                    StatusCode::ACCEPTED
                );
                got
            },
            invoke
        );
        assert_eq!(event, json!(n), "{id}");
        assert_eq!(outcome, Outcome::Response(Value::Null));
    }
    let first = api.first_poll_at().unwrap();
    let polled_again = tokio::spawn({
        let url = format!("http://{}/2018-06-01/runtime/invocation/next", api.address());
        async move { reqwest::get(url).await }
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(api.first_poll_at(), Some(first));
    polled_again.abort();
}

#[tokio::test]
async fn an_error_is_reported_with_its_type() {
    let api = RuntimeApi::start().await;
    let (outcome, status) = tokio::join!(api.invoke(json!({}), WAIT), async {
        let (id, _, _) = next(&api).await;
        let body = r#"{"errorType":"ichigen::OrderError","errorMessage":"注文が見つかりません"}"#;
        post(&api, &format!("invocation/{id}/error"), &[("Lambda-Runtime-Function-Error-Type", "Unhandled")], body)
            .await
    });
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(
        outcome,
        Outcome::Error(FunctionError {
            error_type: "ichigen::OrderError".to_owned(),
            message: "注文が見つかりません".to_owned(),
            header_error_type: Some("Unhandled".to_owned()),
        })
    );
}

#[tokio::test]
async fn an_error_body_that_is_not_json_becomes_the_message() {
    let api = RuntimeApi::start().await;
    let (outcome, _) = tokio::join!(api.invoke(json!({}), WAIT), async {
        let (id, _, _) = next(&api).await;
        post(&api, &format!("invocation/{id}/error"), &[], "plain failure").await
    });
    let expected =
        FunctionError { error_type: String::new(), message: "plain failure".to_owned(), header_error_type: None };
    assert_eq!(outcome, Outcome::Error(expected));
}

#[tokio::test]
async fn an_init_error_ends_waiting_and_later_invocations() {
    let api = RuntimeApi::start().await;
    let body = r#"{"errorType":"Runtime.ConfigError","errorMessage":"TABLE_NAME is not set"}"#;
    let (outcome, status) = tokio::join!(api.invoke(json!({}), WAIT), async {
        tokio::time::sleep(Duration::from_millis(50)).await;
        post(&api, "init/error", &[("Lambda-Runtime-Function-Error-Type", "Runtime.InitError")], body).await
    });
    assert_eq!(status, StatusCode::ACCEPTED);
    let expected = FunctionError {
        error_type: "Runtime.ConfigError".to_owned(),
        message: "TABLE_NAME is not set".to_owned(),
        header_error_type: Some("Runtime.InitError".to_owned()),
    };
    assert_eq!(outcome, Outcome::InitError(expected.clone()));
    assert_eq!(api.init_error(), Some(expected.clone()));
    assert_eq!(api.invoke(json!({}), WAIT).await, Outcome::InitError(expected));
}

#[tokio::test]
async fn an_unanswered_invocation_times_out_and_is_never_handed_out() {
    let api = RuntimeApi::start().await;
    let started = Instant::now();
    assert_eq!(api.invoke(json!("stale"), Duration::from_millis(200)).await, Outcome::Timeout);
    assert!(started.elapsed() >= Duration::from_millis(200));
    assert_eq!(api.init_error(), None);

    let (outcome, (id, _, event)) = tokio::join!(api.invoke(json!("fresh"), WAIT), async {
        let got = next(&api).await;
        post(&api, &format!("invocation/{}/response", got.0), &[], r#""done""#).await;
        got
    });
    assert_eq!(event, json!("fresh"), "{id}");
    assert_eq!(outcome, Outcome::Response(json!("done")));
}

#[tokio::test]
async fn a_late_or_unknown_answer_is_refused() {
    let api = RuntimeApi::start().await;
    let body = "{}";
    assert_eq!(post(&api, "invocation/no-such-id/response", &[], body).await, StatusCode::BAD_REQUEST);

    // Handed out, but the invoker stops waiting before the answer comes.
    let (outcome, id) = tokio::join!(api.invoke(json!({}), Duration::from_millis(300)), async { next(&api).await.0 });
    assert_eq!(outcome, Outcome::Timeout);
    assert_eq!(post(&api, &format!("invocation/{id}/response"), &[], body).await, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_non_json_response_comes_back_as_a_string() {
    let api = RuntimeApi::start().await;
    let (outcome, _) = tokio::join!(api.invoke(json!({}), WAIT), async {
        let (id, _, _) = next(&api).await;
        post(&api, &format!("invocation/{id}/response"), &[], "OK, 3 件").await
    });
    assert_eq!(outcome, Outcome::Response(json!("OK, 3 件")));
}

#[tokio::test]
async fn a_runtime_that_hangs_up_while_polling_loses_no_event() {
    let api = RuntimeApi::start().await;
    // A runtime process that dies in the middle of `/next` (e.g. killed between two tests).
    let url = format!("http://{}/2018-06-01/runtime/invocation/next", api.address());
    let abandoned = tokio::spawn(async move { reqwest::get(url).await });
    tokio::time::sleep(Duration::from_millis(100)).await;
    abandoned.abort();
    tokio::time::sleep(Duration::from_millis(100)).await;

    let (outcome, (_, _, event)) = tokio::join!(api.invoke(json!("after"), WAIT), async {
        let got = next(&api).await;
        post(&api, &format!("invocation/{}/response", got.0), &[], "1").await;
        got
    });
    assert_eq!(event, json!("after"));
    assert_eq!(outcome, Outcome::Response(json!(1)));
}
