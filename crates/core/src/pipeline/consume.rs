//! One way to consume a queue: take a batch through a [`Consumer`], run the handler on each
//! message, settle each by its outcome. The Lambdas (an SQS event is the batch), the demo and the
//! staff commands (the SQLite queues) run the same handlers through it.

use std::future::Future;
use std::time::Duration;

use serde::de::DeserializeOwned;

use super::ports::{Consumer, PortError};

/// A queued message's body as `T`, or where and why it stops reading — the category and the
/// position, never a value (a body holds a buyer's data; serde_json quotes unknown variants and
/// invalid strings). Every queue adapter reads its bodies with this.
pub fn read_body<T: DeserializeOwned>(body: &str) -> Result<T, String> {
    let mut de = serde_json::Deserializer::from_str(body);
    let read = T::deserialize(&mut de).and_then(|value| de.end().map(|()| value));
    read.map_err(|e| {
        let text = e.to_string();
        match text.find('`').or_else(|| text.find('"')) {
            Some(i) => format!("{}… (line {} column {})", text[..i].trim_end(), e.line(), e.column()),
            None => text,
        }
    })
}

/// Why one message failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageFailure {
    /// Whether a later try may succeed: retried (until the queue's most tries) when true,
    /// dead-lettered at once when false.
    pub retryable: bool,
    /// Why; ids and field names only.
    pub reason: String,
    /// Set when no try can pass before this has passed (the mail's claim is another worker's
    /// until its lease ends): the message is put back for then, the try not counted.
    pub wait: Option<Duration>,
}

impl MessageFailure {
    /// A failure with no known time before which a try cannot pass.
    pub fn new(retryable: bool, reason: impl Into<String>) -> MessageFailure {
        MessageFailure { retryable, reason: reason.into(), wait: None }
    }
}

/// What one batch came to.
#[derive(Debug)]
pub struct Consumed<R> {
    /// Messages taken.
    pub taken: usize,
    /// What each handled message gave, in batch order.
    pub done: Vec<R>,
    /// Messages failed, to be tried again later.
    pub failed: usize,
    /// Messages put back to be tried once what they wait for ends (not counted as a try).
    pub put_back: usize,
    /// Messages dead-lettered (unreadable, or failed for good).
    pub dead_lettered: usize,
    /// The failures, in batch order, with the message's receipt.
    pub failures: Vec<(String, MessageFailure)>,
}

impl<R> Default for Consumed<R> {
    fn default() -> Self {
        Consumed { taken: 0, done: Vec::new(), failed: 0, put_back: 0, dead_lettered: 0, failures: Vec::new() }
    }
}

/// Takes up to `limit` messages from `consumer` and runs `handle` on each, one at a time (two
/// messages of one order must not race): a success is acknowledged, a retryable failure that
/// must wait a known time put back for then, another retryable failure failed (tried again
/// later), a permanent one or a body that does not read dead-lettered. Only a failure of the
/// queue itself is an error.
pub async fn consume_batch<T, R, C, F, Fut>(consumer: &C, limit: usize, mut handle: F) -> Result<Consumed<R>, PortError>
where
    C: Consumer<T>,
    F: FnMut(T) -> Fut,
    Fut: Future<Output = Result<R, MessageFailure>>,
{
    let mut out = Consumed::default();
    let batch = consumer.take(limit).await?;
    out.taken = batch.len();
    for delivery in batch {
        let result = match delivery.message {
            Ok(message) => handle(message).await,
            Err(at) => Err(MessageFailure::new(false, format!("body is not a valid message: {at}"))),
        };
        match result {
            Ok(r) => {
                consumer.ack(&delivery.receipt).await?;
                out.done.push(r);
            }
            Err(failure) => {
                if let (true, Some(wait)) = (failure.retryable, failure.wait) {
                    consumer.put_back(&delivery.receipt, wait, &failure.reason).await?;
                    out.put_back += 1;
                } else if failure.retryable {
                    consumer.fail(&delivery.receipt, &failure.reason).await?;
                    out.failed += 1;
                } else {
                    consumer.dead_letter(&delivery.receipt, &failure.reason).await?;
                    out.dead_lettered += 1;
                }
                out.failures.push((delivery.receipt, failure));
            }
        }
    }
    Ok(out)
}
