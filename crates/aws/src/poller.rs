//! The consume port on SQS for a process that polls its queue itself (the AWS demo); a Lambda
//! gets its batch in its event instead (`ichigen_lambda::sqs`). Take receives up to 10; ack
//! deletes; fail shows the message again at once (SQS counts the receive, and the queue's redrive
//! policy moves it to its DLQ after the most tries); put back shows it again when the wait ends;
//! dead-letter sends it to the DLQ, then deletes it.

use std::collections::HashMap;
use std::marker::PhantomData;
use std::sync::Mutex;
use std::time::Duration;

use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::MessageSystemAttributeName;
use ichigen_core::pipeline::consume::read_body;
use ichigen_core::pipeline::{Consumer, Delivery, PortError};
use serde::de::DeserializeOwned;

use crate::error::port_error;
use crate::queue::visibility_seconds;

/// Most messages one ReceiveMessage returns.
const MAX_RECEIVE: usize = 10;

/// A queue this process polls, as a [`Consumer`].
#[derive(Debug)]
pub struct SqsPoller<T> {
    client: Client,
    url: String,
    dlq_url: String,
    /// Receipt handle and body of each message taken and not yet settled, by message id.
    taken: Mutex<HashMap<String, (String, String)>>,
    _message: PhantomData<fn() -> T>,
}

impl<T> SqsPoller<T> {
    /// Polls `url`; dead letters go to `dlq_url`.
    pub fn new(client: Client, url: impl Into<String>, dlq_url: impl Into<String>) -> Self {
        SqsPoller { client, url: url.into(), dlq_url: dlq_url.into(), taken: Mutex::default(), _message: PhantomData }
    }

    fn settle(&self, receipt: &str) -> Result<(String, String), PortError> {
        self.taken
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(receipt)
            .ok_or_else(|| PortError::permanent("sqs settle", UnknownReceipt(receipt.to_string())))
    }

    async fn show_again(&self, handle: &str, after: Duration) -> Result<(), PortError> {
        self.client
            .change_message_visibility()
            .queue_url(&self.url)
            .receipt_handle(handle)
            .visibility_timeout(visibility_seconds(after))
            .send()
            .await
            .map_err(|e| port_error("sqs ChangeMessageVisibility", e))?;
        Ok(())
    }

    async fn delete(&self, handle: &str) -> Result<(), PortError> {
        self.client
            .delete_message()
            .queue_url(&self.url)
            .receipt_handle(handle)
            .send()
            .await
            .map_err(|e| port_error("sqs DeleteMessage", e))?;
        Ok(())
    }
}

/// A receipt this poller did not hand out (or already settled).
#[derive(Debug, thiserror::Error)]
#[error("message {0} was not taken by this poller")]
struct UnknownReceipt(String);

impl<T: DeserializeOwned + Send> Consumer<T> for SqsPoller<T> {
    async fn take(&self, limit: usize) -> Result<Vec<Delivery<T>>, PortError> {
        let got = self
            .client
            .receive_message()
            .queue_url(&self.url)
            .max_number_of_messages(i32::try_from(limit.clamp(1, MAX_RECEIVE)).unwrap_or(1))
            .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
            .send()
            .await
            .map_err(|e| port_error("sqs ReceiveMessage", e))?;
        let mut taken = self.taken.lock().unwrap_or_else(|p| p.into_inner());
        Ok(got
            .messages
            .unwrap_or_default()
            .into_iter()
            .map(|m| {
                let receipt = m.message_id.clone().unwrap_or_default();
                let body = m.body.clone().unwrap_or_default();
                let attempts = m
                    .attributes
                    .as_ref()
                    .and_then(|a| a.get(&MessageSystemAttributeName::ApproximateReceiveCount))
                    .and_then(|c| c.parse::<u32>().ok())
                    .map_or(0, |c| c.saturating_sub(1));
                let message = read_body(&body);
                taken.insert(receipt.clone(), (m.receipt_handle.unwrap_or_default(), body));
                Delivery { receipt, attempts, message }
            })
            .collect())
    }

    async fn ack(&self, receipt: &str) -> Result<(), PortError> {
        let (handle, _) = self.settle(receipt)?;
        self.delete(&handle).await
    }

    async fn fail(&self, receipt: &str, reason: &str) -> Result<(), PortError> {
        let (handle, _) = self.settle(receipt)?;
        tracing::warn!(message_id = receipt, reason = %reason, "message failed; shown again");
        self.show_again(&handle, Duration::ZERO).await
    }

    async fn dead_letter(&self, receipt: &str, reason: &str) -> Result<(), PortError> {
        let (handle, body) = self.settle(receipt)?;
        tracing::error!(message_id = receipt, reason = %reason, "message dead-lettered");
        self.client
            .send_message()
            .queue_url(&self.dlq_url)
            .message_body(body)
            .send()
            .await
            .map_err(|e| port_error("sqs SendMessage dead letter", e))?;
        self.delete(&handle).await
    }

    async fn put_back(&self, receipt: &str, wait: Duration, reason: &str) -> Result<(), PortError> {
        let (handle, _) = self.settle(receipt)?;
        tracing::info!(message_id = receipt, wait_ms = wait.as_millis() as u64, reason = %reason, "message put back");
        self.show_again(&handle, wait).await
    }
}
