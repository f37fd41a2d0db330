//! SQS adapters: [`SqsQueue`] sends JSON messages in batches (at most 10 entries and 256 KiB each),
//! retrying the entries SQS did not take; [`SqsQuarantine`] keeps rejected input with its reason;
//! [`drain`] consumes a queue in-process, as Lambda's event source mapping does;
//! [`SqsVisibility`] shows a received message again after a given wait.

use std::collections::HashMap;
use std::marker::PhantomData;
use std::ops::Range;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::{
    ChangeMessageVisibilityBatchRequestEntry, DeleteMessageBatchRequestEntry, MessageAttributeValue,
    MessageSystemAttributeName, SendMessageBatchRequestEntry,
};
use backon::{BackoffBuilder, ExponentialBuilder};
use ichigen_core::pipeline::{PortError, Quarantine, Queue, Rejected};
use serde::Serialize;

use crate::error::{is_retryable, port_error};

/// Entries per SendMessageBatch call (the SQS limit).
const MAX_BATCH_ENTRIES: usize = 10;
/// Bytes per SendMessageBatch call, bodies and attributes together (the SQS limit).
const MAX_BATCH_BYTES: usize = 256 * 1024;
/// Calls per batch, the first included, before its unsent entries count as failed.
const ATTEMPTS: usize = 3;
/// The quarantine message attribute holding the reason.
pub const REASON_ATTRIBUTE: &str = "reason";
/// The SQS data type of [`REASON_ATTRIBUTE`].
const STRING_TYPE: &str = "String";

/// Why messages did not all reach the queue.
#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    /// A message did not serialise to JSON.
    #[error("message {index} could not be written as JSON: {source}")]
    Encode {
        /// Its position in the call.
        index: usize,
        /// serde_json's error.
        #[source]
        source: serde_json::Error,
    },
    /// A message is larger than one SQS message may be.
    #[error("message {index} is {bytes} bytes, over the {MAX_BATCH_BYTES}-byte SQS limit")]
    TooLarge {
        /// Its position in the call.
        index: usize,
        /// Its size with attributes.
        bytes: usize,
    },
    /// A batch entry could not be built.
    #[error("batch entry could not be built: {0}")]
    Build(#[source] aws_sdk_sqs::error::BuildError),
    /// SQS refused some entries, or kept failing them.
    #[error("{failed} of {total} messages were not accepted (codes: {codes})")]
    NotAccepted {
        /// How many.
        failed: usize,
        /// Of how many sent in the call.
        total: usize,
        /// SQS's error codes of the failed entries, deduplicated.
        codes: String,
    },
}

/// One message to send.
struct Outgoing {
    body: String,
    reason: Option<String>,
}

impl Outgoing {
    /// Size as SQS counts it: body plus each attribute's name, type and value.
    fn bytes(&self) -> usize {
        self.body.len() + self.reason.as_ref().map_or(0, |r| REASON_ATTRIBUTE.len() + STRING_TYPE.len() + r.len())
    }

    fn entry(&self, id: usize) -> Result<SendMessageBatchRequestEntry, QueueError> {
        let mut entry = SendMessageBatchRequestEntry::builder().id(id.to_string()).message_body(&self.body);
        if let Some(reason) = &self.reason {
            let value = MessageAttributeValue::builder()
                .data_type(STRING_TYPE)
                .string_value(reason)
                .build()
                .map_err(QueueError::Build)?;
            entry = entry.message_attributes(REASON_ATTRIBUTE, value);
        }
        entry.build().map_err(QueueError::Build)
    }
}

/// Consecutive ranges of `messages` that each fit one batch.
fn batches(messages: &[Outgoing]) -> Result<Vec<Range<usize>>, QueueError> {
    let mut out = Vec::new();
    let (mut start, mut bytes) = (0, 0);
    for (index, message) in messages.iter().enumerate() {
        let size = message.bytes();
        if size > MAX_BATCH_BYTES {
            return Err(QueueError::TooLarge { index, bytes: size });
        }
        if index - start == MAX_BATCH_ENTRIES || bytes + size > MAX_BATCH_BYTES {
            out.push(start..index);
            (start, bytes) = (index, 0);
        }
        bytes += size;
    }
    if start < messages.len() {
        out.push(start..messages.len());
    }
    Ok(out)
}

/// Sends every message; entries SQS fails for its own reasons are sent again (with backoff)
/// up to [`ATTEMPTS`] calls, entries it refuses as the sender's fault are not.
async fn send_batched(
    client: &Client,
    url: &str,
    operation: &'static str,
    messages: &[Outgoing],
) -> Result<(), PortError> {
    let mut codes: Vec<String> = Vec::new();
    let (mut failed, mut sender_fault) = (0, false);
    for range in batches(messages).map_err(|e| PortError::permanent(operation, e))? {
        let mut pending: Vec<usize> = range.collect();
        let mut delays = ExponentialBuilder::default()
            .with_min_delay(Duration::from_millis(50))
            .with_max_delay(Duration::from_secs(1))
            .with_max_times(ATTEMPTS - 1)
            .with_jitter()
            .build();
        loop {
            let entries = pending
                .iter()
                .filter_map(|&i| messages.get(i).map(|m| m.entry(i)))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| PortError::permanent(operation, e))?;
            let sent = client.send_message_batch().queue_url(url).set_entries(Some(entries)).send().await;
            let mut retry = Vec::new();
            match sent {
                Ok(out) => {
                    for f in out.failed() {
                        match f.id().parse::<usize>() {
                            Ok(index) if !f.sender_fault() => retry.push(index),
                            _ => {
                                failed += 1;
                                sender_fault |= f.sender_fault();
                                codes.push(f.code().to_string());
                            }
                        }
                    }
                }
                // The whole call failed for now: the same entries go again.
                Err(e) if is_retryable(&e) => match delays.next() {
                    Some(delay) => {
                        tokio::time::sleep(delay).await;
                        continue;
                    }
                    None => return Err(port_error(operation, e)),
                },
                Err(e) => return Err(port_error(operation, e)),
            }
            if retry.is_empty() {
                break;
            }
            match delays.next() {
                Some(delay) => {
                    pending = retry;
                    tokio::time::sleep(delay).await;
                }
                None => {
                    failed += retry.len();
                    codes.push("retries exhausted".to_string());
                    break;
                }
            }
        }
    }
    if failed == 0 {
        return Ok(());
    }
    codes.sort();
    codes.dedup();
    let err = QueueError::NotAccepted { failed, total: messages.len(), codes: codes.join(", ") };
    // Entries SQS refused as malformed fail again; throttled or failed ones may pass later.
    Err(PortError { operation, retryable: !sender_fault, source: Box::new(err) })
}

/// A queue of `T` as JSON messages on SQS.
#[derive(Debug)]
pub struct SqsQueue<T> {
    client: Client,
    url: String,
    // `fn() -> T`: the queue holds no `T`, so it is Send and Sync whatever `T` is.
    messages: PhantomData<fn() -> T>,
}

impl<T> Clone for SqsQueue<T> {
    fn clone(&self) -> Self {
        SqsQueue { client: self.client.clone(), url: self.url.clone(), messages: PhantomData }
    }
}

impl<T> SqsQueue<T> {
    /// A queue sending to `url`.
    pub fn new(client: Client, url: impl Into<String>) -> Self {
        SqsQueue { client, url: url.into(), messages: PhantomData }
    }

    /// The queue URL.
    pub fn url(&self) -> &str {
        &self.url
    }
}

impl<T: Serialize> SqsQueue<T> {
    /// Sends `message` to be received no sooner than `delay` from now: SQS holds it (a message
    /// delay, at most 15 minutes; a longer one is cut to that).
    pub async fn send_after(&self, message: &T, delay: Duration) -> Result<(), PortError> {
        const OPERATION: &str = "sqs SendMessage";
        let body = serde_json::to_string(message)
            .map_err(|source| PortError::permanent(OPERATION, QueueError::Encode { index: 0, source }))?;
        let seconds = i32::try_from(delay.as_secs().min(MAX_DELAY_SECONDS)).unwrap_or(0);
        let sent =
            self.client.send_message().queue_url(&self.url).message_body(body).delay_seconds(seconds).send().await;
        sent.map(|_| ()).map_err(|e| port_error(OPERATION, e))
    }
}

/// SQS's longest message delay (`DelaySeconds`), in seconds.
const MAX_DELAY_SECONDS: u64 = 900;

impl<T: Serialize + Send + Sync> Queue<T> for SqsQueue<T> {
    fn max_message_bytes(&self) -> usize {
        MAX_BATCH_BYTES
    }

    async fn send_all(&self, messages: &[T]) -> Result<(), PortError> {
        let outgoing = messages
            .iter()
            .enumerate()
            .map(|(index, m)| match serde_json::to_string(m) {
                Ok(body) => Ok(Outgoing { body, reason: None }),
                Err(source) => Err(PortError::permanent("sqs encode message", QueueError::Encode { index, source })),
            })
            .collect::<Result<Vec<_>, _>>()?;
        send_batched(&self.client, &self.url, "sqs SendMessageBatch", &outgoing).await
    }
}

/// Quarantine on SQS: each rejected order as a JSON message with its reason as the `reason`
/// message attribute (in production, the orders DLQ).
#[derive(Debug, Clone)]
pub struct SqsQuarantine {
    client: Client,
    url: String,
}

impl SqsQuarantine {
    /// A quarantine sending to `url`.
    pub fn new(client: Client, url: impl Into<String>) -> Self {
        SqsQuarantine { client, url: url.into() }
    }
}

impl Quarantine for SqsQuarantine {
    async fn quarantine(&self, rejected: &[Rejected]) -> Result<(), PortError> {
        let outgoing = rejected
            .iter()
            .enumerate()
            .map(|(index, r)| match serde_json::to_string(r) {
                // SQS refuses an empty attribute value.
                Ok(body) => Ok(Outgoing {
                    body,
                    reason: Some(if r.reason.is_empty() { "unspecified".to_string() } else { r.reason.clone() }),
                }),
                Err(source) => Err(PortError::permanent("sqs encode rejected", QueueError::Encode { index, source })),
            })
            .collect::<Result<Vec<_>, _>>()?;
        send_batched(&self.client, &self.url, "sqs SendMessageBatch quarantine", &outgoing).await
    }
}

/// The longest visibility timeout SQS takes (12 hours).
const MAX_VISIBILITY_SECONDS: u64 = 12 * 60 * 60;

/// `wait` as a visibility timeout: whole seconds rounded up, at most SQS's 12 hours.
pub(crate) fn visibility_seconds(wait: Duration) -> i32 {
    let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    i32::try_from(seconds.min(MAX_VISIBILITY_SECONDS)).unwrap_or(i32::MAX)
}

/// Changes when a received message is shown again (SQS ChangeMessageVisibility), the queue named
/// by its ARN as a Lambda event names it; each queue's URL is looked up once (GetQueueUrl).
#[derive(Debug, Clone)]
pub struct SqsVisibility {
    client: Client,
    urls: Arc<Mutex<HashMap<String, String>>>,
}

impl SqsVisibility {
    /// Visibility changes through `client`.
    pub fn new(client: Client) -> Self {
        SqsVisibility { client, urls: Arc::default() }
    }

    /// Shows the message received with `receipt_handle` from the queue `queue_arn` again after
    /// `wait` (rounded up to whole seconds, at most 12 hours) instead of after the queue's
    /// visibility timeout.
    pub async fn show_again_after(
        &self,
        queue_arn: &str,
        receipt_handle: &str,
        wait: Duration,
    ) -> Result<(), PortError> {
        const OP: &str = "sqs ChangeMessageVisibility";
        let url = self.url(queue_arn).await?;
        let seconds = visibility_seconds(wait);
        self.client
            .change_message_visibility()
            .queue_url(url)
            .receipt_handle(receipt_handle)
            .visibility_timeout(seconds)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| port_error(OP, e))
    }

    async fn url(&self, queue_arn: &str) -> Result<String, PortError> {
        const OP: &str = "sqs GetQueueUrl";
        if let Some(url) = self.urls.lock().unwrap_or_else(|p| p.into_inner()).get(queue_arn) {
            return Ok(url.clone());
        }
        // arn:aws:sqs:<region>:<account>:<name>
        let parts: Vec<&str> = queue_arn.split(':').collect();
        let [_, _, "sqs", _, account, name] = parts[..] else {
            return Err(PortError::permanent(OP, format!("not an SQS queue ARN: {queue_arn:?}")));
        };
        let got = self
            .client
            .get_queue_url()
            .queue_name(name)
            .queue_owner_aws_account_id(account)
            .send()
            .await
            .map_err(|e| port_error(OP, e))?;
        let url = got.queue_url.ok_or_else(|| PortError::retryable(OP, "SQS returned no queue URL"))?;
        self.urls.lock().unwrap_or_else(|p| p.into_inner()).insert(queue_arn.to_string(), url.clone());
        Ok(url)
    }
}

/// One message received from a queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    /// SQS's message id (what a handler names when it reports the message as failed).
    pub message_id: String,
    /// The receipt handle of this receive.
    pub receipt_handle: String,
    /// The body.
    pub body: String,
    /// The system attributes asked for (`ApproximateReceiveCount`).
    pub attributes: Vec<(String, String)>,
}

/// What [`drain`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Drained {
    /// Messages handled and deleted.
    pub handled: usize,
    /// Failed receives (a message that failed twice counts twice).
    pub failed: usize,
}

/// One process's stand-in for Lambda's SQS event source mapping: receives batches of up to 10
/// from `url`, hands each to `handler`, deletes the messages it did not report as failed (by
/// message id) and makes the failed ones visible again at once rather than after the visibility
/// timeout, so they come back until the queue's redrive policy moves them to its DLQ. Stops when a
/// receive comes back empty. Used by the demo and the integration tests.
pub async fn drain<F, Fut>(client: &Client, url: &str, mut handler: F) -> Result<Drained, PortError>
where
    F: FnMut(Vec<Received>) -> Fut,
    Fut: std::future::Future<Output = Vec<String>>,
{
    let mut drained = Drained::default();
    loop {
        let got = client
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(10)
            .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
            .send()
            .await
            .map_err(|e| port_error("sqs ReceiveMessage", e))?;
        let messages: Vec<Received> = got
            .messages
            .unwrap_or_default()
            .into_iter()
            .map(|m| Received {
                message_id: m.message_id.unwrap_or_default(),
                receipt_handle: m.receipt_handle.unwrap_or_default(),
                body: m.body.unwrap_or_default(),
                attributes: m
                    .attributes
                    .unwrap_or_default()
                    .into_iter()
                    .map(|(k, v)| (k.as_str().to_string(), v))
                    .collect(),
            })
            .collect();
        if messages.is_empty() {
            return Ok(drained);
        }
        let receipts: Vec<(String, String)> =
            messages.iter().map(|m| (m.message_id.clone(), m.receipt_handle.clone())).collect();
        let failed_ids = handler(messages).await;
        let (failed, done): (Vec<_>, Vec<_>) = receipts.into_iter().partition(|(id, _)| failed_ids.contains(id));
        drained.failed += failed.len();
        drained.handled += done.len();
        if !done.is_empty() {
            let entries = done
                .iter()
                .enumerate()
                .map(|(i, (_, receipt))| {
                    DeleteMessageBatchRequestEntry::builder().id(i.to_string()).receipt_handle(receipt).build()
                })
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| PortError::permanent("sqs DeleteMessageBatch", QueueError::Build(e)))?;
            // An entry that fails to delete comes back after the visibility timeout and is handled
            // again: the consumers are idempotent, so that costs a repeat, not a wrong result.
            client
                .delete_message_batch()
                .queue_url(url)
                .set_entries(Some(entries))
                .send()
                .await
                .map_err(|e| port_error("sqs DeleteMessageBatch", e))?;
        }
        if !failed.is_empty() {
            let entries = failed
                .iter()
                .enumerate()
                .map(|(i, (_, receipt))| {
                    ChangeMessageVisibilityBatchRequestEntry::builder()
                        .id(i.to_string())
                        .receipt_handle(receipt)
                        .visibility_timeout(0)
                        .build()
                })
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| PortError::permanent("sqs ChangeMessageVisibilityBatch", QueueError::Build(e)))?;
            client
                .change_message_visibility_batch()
                .queue_url(url)
                .set_entries(Some(entries))
                .send()
                .await
                .map_err(|e| port_error("sqs ChangeMessageVisibilityBatch", e))?;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(len: usize) -> Outgoing {
        Outgoing { body: "x".repeat(len), reason: None }
    }

    #[test]
    fn batches_of_ten() {
        let messages: Vec<Outgoing> = (0..25).map(|_| message(10)).collect();
        assert_eq!(batches(&messages).unwrap(), vec![0..10, 10..20, 20..25]);
    }

    #[test]
    fn batches_split_by_size() {
        let messages: Vec<Outgoing> = (0..5).map(|_| message(100 * 1024)).collect();
        assert_eq!(batches(&messages).unwrap(), vec![0..2, 2..4, 4..5]);
        let exact = vec![message(MAX_BATCH_BYTES / 2), message(MAX_BATCH_BYTES / 2), message(1)];
        assert_eq!(batches(&exact).unwrap(), vec![0..2, 2..3]);
    }

    #[test]
    fn oversized_message_is_an_error() {
        let messages = vec![message(1), message(MAX_BATCH_BYTES + 1)];
        assert!(matches!(batches(&messages), Err(QueueError::TooLarge { index: 1, .. })));
    }

    #[test]
    fn reason_counts_towards_size() {
        let m = Outgoing { body: "ab".into(), reason: Some("cd".into()) };
        assert_eq!(m.bytes(), 2 + REASON_ATTRIBUTE.len() + STRING_TYPE.len() + 2);
    }
}
