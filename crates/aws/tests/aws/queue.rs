//! SQS: batched sends arrive whole; quarantined input carries its reason.

use std::collections::BTreeSet;

use aws_sdk_sqs::Client;
use ichigen_aws::{SqsQuarantine, SqsQueue};
use ichigen_core::order::Marketplace;
use ichigen_core::pipeline::{MailJob, MailKind, OrderKey, Quarantine, Queue, Rejected};

use crate::common::Moto;

async fn create_queue(client: &Client, name: &str) -> String {
    client.create_queue().queue_name(name).send().await.expect("create queue").queue_url.expect("queue url")
}

/// Receives until `want` messages arrived (or a few empty polls passed).
async fn receive(client: &Client, url: &str, want: usize) -> Vec<aws_sdk_sqs::types::Message> {
    let mut out = Vec::new();
    let mut empty = 0;
    while out.len() < want && empty < 3 {
        let got = client
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(10)
            .message_attribute_names("All")
            .wait_time_seconds(1)
            .send()
            .await
            .expect("receive")
            .messages
            .unwrap_or_default();
        if got.is_empty() {
            empty += 1;
        }
        for m in &got {
            let handle = m.receipt_handle().expect("receipt handle");
            client.delete_message().queue_url(url).receipt_handle(handle).send().await.expect("delete");
        }
        out.extend(got);
    }
    out
}

#[tokio::test]
async fn sqs_queue_sends_every_message_in_batches() {
    let moto = Moto::new().await;
    let client = moto.sqs();
    let url = create_queue(&client, "mail").await;
    let queue: SqsQueue<MailJob> = SqsQueue::new(client.clone(), url.clone());
    let jobs: Vec<MailJob> = (0..25)
        .map(|n| MailJob {
            order: OrderKey {
                shop_id: "shop-a".into(),
                marketplace: Marketplace::ALL[n % 6],
                order_id: format!("注文-{n:03}"),
            },
            kind: MailKind::ALL[n % 3],
        })
        .collect();
    queue.send_all(&jobs).await.unwrap();
    queue.send_all(&[]).await.unwrap();

    let got: BTreeSet<String> = receive(&client, &url, 26)
        .await
        .iter()
        .map(|m| {
            let job: MailJob = serde_json::from_str(m.body().unwrap()).unwrap();
            job.order.order_id
        })
        .collect();
    let sent: BTreeSet<String> = jobs.iter().map(|j| j.order.order_id.clone()).collect();
    assert_eq!(got, sent);
}

#[tokio::test]
async fn oversized_message_is_refused_before_sending() {
    let moto = Moto::new().await;
    let client = moto.sqs();
    let url = create_queue(&client, "orders").await;
    let queue: SqsQueue<String> = SqsQueue::new(client.clone(), url.clone());
    let err = queue.send_all(&["small".to_string(), "x".repeat(300 * 1024)]).await.unwrap_err();
    assert!(!err.retryable);
    assert!(err.to_string().contains("message 1"), "{err}");
    assert!(receive(&client, &url, 1).await.is_empty(), "nothing is sent when a message cannot be");
}

#[tokio::test]
async fn quarantined_messages_carry_the_reason() {
    let moto = Moto::new().await;
    let client = moto.sqs();
    let url = create_queue(&client, "orders-dlq").await;
    let quarantine = SqsQuarantine::new(client.clone(), url.clone());
    let rejected = vec![
        Rejected {
            shop_id: "shop-a".into(),
            marketplace: Marketplace::Yahoo,
            order_id: Some("y-1".into()),
            reason: "items[0].quantity: not a number".into(),
        },
        Rejected {
            shop_id: "shop-a".into(),
            marketplace: Marketplace::Qoo10,
            order_id: None,
            reason: "OrderNo missing".into(),
        },
    ];
    quarantine.quarantine(&rejected).await.unwrap();

    let mut got: Vec<(Rejected, String)> = receive(&client, &url, 2)
        .await
        .iter()
        .map(|m| {
            let body: Rejected = serde_json::from_str(m.body().unwrap()).unwrap();
            let reason = m.message_attributes().unwrap()["reason"].string_value().unwrap().to_string();
            (body, reason)
        })
        .collect();
    got.sort_by(|a, b| a.0.order_id.cmp(&b.0.order_id));
    assert_eq!(got.len(), 2);
    assert_eq!(got[0], (rejected[1].clone(), "OrderNo missing".to_string()));
    assert_eq!(got[1], (rejected[0].clone(), "items[0].quantity: not a number".to_string()));
}
