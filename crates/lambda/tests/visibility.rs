//! On moto: a message the handler puts back for a known wait (a mail whose claim is another
//! worker's) is listed in `batchItemFailures` and shown again when the wait ends, not after the
//! queue's visibility timeout; a plain failure keeps the queue's timeout.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::{MessageSystemAttributeName, QueueAttributeName};
use ichigen_aws::SqsVisibility;
use ichigen_lambda::{MessageFailure, for_each_message};
use ichigen_testkit::moto;

/// The queue's own visibility timeout: far longer than the wait put back.
const QUEUE_VISIBILITY: &str = "60";

/// Receives one batch as Lambda's event source mapping hands it over.
async fn receive(client: &Client, url: &str, arn: &str, wait_seconds: i32) -> SqsEvent {
    let got = client
        .receive_message()
        .queue_url(url)
        .max_number_of_messages(10)
        .wait_time_seconds(wait_seconds)
        .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
        .send()
        .await
        .expect("receive");
    let mut event = SqsEvent::default();
    for m in got.messages.unwrap_or_default() {
        let mut r = SqsMessage::default();
        r.message_id = m.message_id.clone();
        r.receipt_handle = m.receipt_handle.clone();
        r.body = m.body.clone();
        r.event_source_arn = Some(arn.to_string());
        for (k, v) in m.attributes.unwrap_or_default() {
            r.attributes.insert(k.as_str().to_string(), v);
        }
        event.records.push(r);
    }
    event
}

#[tokio::test]
async fn a_message_put_back_comes_again_when_its_wait_ends_not_after_the_queue_timeout() {
    let endpoint = moto::endpoint();
    let config = moto::sdk_config(&endpoint, &moto::fresh_account()).await;
    let client = Client::new(&config);
    let url = client
        .create_queue()
        .queue_name("mail")
        .attributes(QueueAttributeName::VisibilityTimeout, QUEUE_VISIBILITY)
        .send()
        .await
        .expect("create queue")
        .queue_url
        .expect("url");
    let arn = client
        .get_queue_attributes()
        .queue_url(&url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .expect("attributes")
        .attributes
        .and_then(|a| a.get(&QueueAttributeName::QueueArn).cloned())
        .expect("queue arn");
    client.send_message().queue_url(&url).message_body(r#"{"n":1}"#).send().await.expect("send");
    client.send_message().queue_url(&url).message_body(r#"{"n":2}"#).send().await.expect("send");

    #[derive(serde::Deserialize)]
    struct Job {
        n: u32,
    }
    let event = receive(&client, &url, &arn, 1).await;
    assert_eq!(event.records.len(), 2);
    let started = Instant::now();
    let out = for_each_message(event, Some(SqsVisibility::new(client.clone())), |j: Job| async move {
        Err::<(), _>(match j.n {
            // Its mail is claimed by another worker for 2 more seconds.
            1 => MessageFailure { retryable: true, reason: "claimed".into(), wait: Some(Duration::from_secs(2)) },
            _ => MessageFailure::new(true, "unavailable"),
        })
    })
    .await;
    assert_eq!(out.response.batch_item_failures.len(), 2, "both listed: SQS keeps them");

    // Not before the wait ends.
    assert!(receive(&client, &url, &arn, 0).await.records.is_empty(), "hidden while the claim is live");
    // Then the one put back comes again, long before the queue's 60 s; the plain failure does not.
    let mut again = SqsEvent::default();
    while again.records.is_empty() && started.elapsed() < Duration::from_secs(15) {
        again = receive(&client, &url, &arn, 1).await;
    }
    let waited = started.elapsed();
    assert_eq!(again.records.len(), 1, "only the message put back");
    assert_eq!(again.records[0].body.as_deref(), Some(r#"{"n":1}"#));
    assert!(waited >= Duration::from_millis(1500) && waited < Duration::from_secs(15), "{waited:?}");
    assert_eq!(again.records[0].attributes.get("ApproximateReceiveCount").map(String::as_str), Some("2"));
}
