//! The SQS side of the consume port: a Lambda's SQS event is the batch a [`Consumer`] takes;
//! acknowledging a message is leaving it out of `batchItemFailures`, failing it or
//! dead-lettering it is listing it there (SQS redelivers it, and moves it to the queue's DLQ
//! after the redrive policy's `maxReceiveCount`). Putting a message back for a known wait is
//! listing it too, after changing its visibility timeout to that wait (with an
//! [`SqsVisibility`]), so it comes back when the wait ends rather than after the queue's
//! visibility timeout. The handlers run through [`ichigen_core::pipeline::consume_batch`], as the
//! embedded queues' do.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Mutex;
use std::time::Duration;

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use ichigen_aws::SqsVisibility;
pub use ichigen_core::pipeline::MessageFailure;
use ichigen_core::pipeline::consume::read_body;
use ichigen_core::pipeline::{Consumer, Delivery, PortError, consume_batch};
use serde::de::DeserializeOwned;

/// What a batch came to.
#[derive(Debug)]
pub struct BatchOutcome<R> {
    /// The response Lambda hands back to SQS.
    pub response: SqsBatchResponse,
    /// What each handled message gave, in batch order.
    pub done: Vec<R>,
    /// Messages failed (listed for redelivery, permanent or not: the DLQ keeps what never passes).
    pub failed: usize,
}

/// One SQS event as a [`Consumer`]: its records are the one batch to take.
#[derive(Debug)]
pub struct SqsBatch {
    records: Mutex<Vec<SqsMessage>>,
    /// Receive counts by message id, for the log of a failure.
    receives: HashMap<String, String>,
    /// The queue ARN and receipt handle by message id, for a visibility change.
    handles: HashMap<String, (String, String)>,
    visibility: Option<SqsVisibility>,
    response: Mutex<SqsBatchResponse>,
}

impl SqsBatch {
    /// The batch of `event`; with `visibility`, a message put back is shown again when its wait
    /// ends (without, after the queue's visibility timeout).
    pub fn new(event: SqsEvent, visibility: Option<SqsVisibility>) -> SqsBatch {
        let handles = event
            .records
            .iter()
            .filter_map(|r| {
                let (arn, handle) = (r.event_source_arn.clone()?, r.receipt_handle.clone()?);
                Some((r.message_id.clone().unwrap_or_default(), (arn, handle)))
            })
            .collect();
        let receives = event
            .records
            .iter()
            .map(|r| {
                let count = r.attributes.get("ApproximateReceiveCount").cloned().unwrap_or_else(|| "?".to_string());
                (r.message_id.clone().unwrap_or_default(), count)
            })
            .collect();
        SqsBatch {
            records: Mutex::new(event.records),
            receives,
            handles,
            visibility,
            response: Mutex::new(SqsBatchResponse::default()),
        }
    }

    /// The response naming every message failed or dead-lettered.
    pub fn into_response(self) -> SqsBatchResponse {
        self.response.into_inner().unwrap_or_else(|p| p.into_inner())
    }

    fn list(&self, receipt: &str, reason: &str, dead: bool) {
        let receives = self.receives.get(receipt).map(String::as_str).unwrap_or("?");
        tracing::error!(
            message_id = receipt,
            receive_count = receives,
            retryable = !dead,
            reason = %reason,
            "message failed"
        );
        self.response.lock().unwrap_or_else(|p| p.into_inner()).add_failure(receipt.to_string());
    }
}

impl<T: DeserializeOwned + Send> Consumer<T> for SqsBatch {
    async fn take(&self, limit: usize) -> Result<Vec<Delivery<T>>, PortError> {
        let mut records = self.records.lock().unwrap_or_else(|p| p.into_inner());
        let n = limit.min(records.len());
        Ok(records
            .drain(..n)
            .map(|record| {
                let attempts = record
                    .attributes
                    .get("ApproximateReceiveCount")
                    .and_then(|c| c.parse::<u32>().ok())
                    .map_or(0, |c| c.saturating_sub(1));
                Delivery { receipt: record.message_id.clone().unwrap_or_default(), attempts, message: decode(&record) }
            })
            .collect())
    }

    async fn ack(&self, _receipt: &str) -> Result<(), PortError> {
        // Left out of batchItemFailures: Lambda deletes it.
        Ok(())
    }

    async fn fail(&self, receipt: &str, reason: &str) -> Result<(), PortError> {
        self.list(receipt, reason, false);
        Ok(())
    }

    async fn dead_letter(&self, receipt: &str, reason: &str) -> Result<(), PortError> {
        // SQS has no "dead-letter now": listed, it comes back until the redrive policy moves it.
        self.list(receipt, reason, true);
        Ok(())
    }

    async fn put_back(&self, receipt: &str, wait: Duration, reason: &str) -> Result<(), PortError> {
        // SQS counts every receive: listed, the message costs this receive, and comes back once,
        // when the wait ends. Should the change fail, it comes back after the queue's visibility
        // timeout (longer than any claim's lease): later, never lost.
        if let (Some(visibility), Some((arn, handle))) = (&self.visibility, self.handles.get(receipt)) {
            if let Err(e) = visibility.show_again_after(arn, handle, wait).await {
                tracing::warn!(message_id = receipt, error = %e, "visibility not changed; the queue's timeout applies");
            }
        }
        tracing::info!(message_id = receipt, wait_ms = wait.as_millis() as u64, reason = %reason, "message put back");
        self.response.lock().unwrap_or_else(|p| p.into_inner()).add_failure(receipt.to_string());
        Ok(())
    }
}

/// Decodes each message body as JSON `T` and runs `handle` on it through the consume port, one
/// message at a time (two messages of one order must not race). A body that does not decode
/// fails only its message. A message put back for a wait is shown again when it ends through
/// `visibility` (without one, after the queue's visibility timeout).
pub async fn for_each_message<T, R, F, Fut>(
    event: SqsEvent,
    visibility: Option<SqsVisibility>,
    handle: F,
) -> BatchOutcome<R>
where
    T: DeserializeOwned + Send,
    F: FnMut(T) -> Fut,
    Fut: Future<Output = Result<R, MessageFailure>>,
{
    let limit = event.records.len();
    let batch = SqsBatch::new(event, visibility);
    // The SQS batch's settling never fails: an error here is impossible, but keeps no message.
    let consumed = consume_batch(&batch, limit, handle).await;
    let (done, failed) = match consumed {
        Ok(c) => (c.done, c.failed + c.dead_lettered + c.put_back),
        Err(_) => (Vec::new(), 0),
    };
    BatchOutcome { response: batch.into_response(), done, failed }
}

/// The body as `T`, or what is wrong with it (position and category, no value).
fn decode<T: DeserializeOwned>(record: &SqsMessage) -> Result<T, String> {
    read_body(record.body.as_deref().unwrap_or(""))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Deserialize)]
    struct Job {
        n: u32,
    }

    fn event(bodies: &[&str]) -> SqsEvent {
        let mut e = SqsEvent::default();
        for (i, b) in bodies.iter().enumerate() {
            let mut m = SqsMessage::default();
            m.message_id = Some(format!("m{i}"));
            m.body = Some(b.to_string());
            e.records.push(m);
        }
        e
    }

    #[tokio::test]
    async fn only_the_bad_messages_are_reported() {
        let out = for_each_message(
            event(&[r#"{"n":1}"#, "not json", r#"{"n":3}"#, r#"{"n":"secret@example.jp"}"#]),
            None,
            |j: Job| async move { if j.n == 3 { Err(MessageFailure::new(true, "n is 3")) } else { Ok(()) } },
        )
        .await;
        assert_eq!((out.done.len(), out.failed), (1, 3));
        let ids: Vec<_> = out.response.batch_item_failures.iter().map(|f| f.item_identifier.clone()).collect();
        assert_eq!(ids, vec!["m1", "m2", "m3"]);
    }

    #[test]
    fn decode_errors_quote_no_values() {
        let mut m = SqsMessage::default();
        m.body = Some(r#"{"n":"hanako@example.jp"}"#.into());
        let err = decode::<Job>(&m).err().expect("error");
        assert!(!err.contains("hanako"), "{err}");
        assert!(err.contains("line 1"), "{err}");
    }
}
