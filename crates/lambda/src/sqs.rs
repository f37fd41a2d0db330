//! Running a use case over an SQS batch and reporting per-message failures, so that one bad
//! message is retried (and finally dead-lettered) alone.

use std::future::Future;

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use serde::de::DeserializeOwned;

/// Why one message failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageFailure {
    /// Whether a redelivery may succeed (logged: permanent failures go to the DLQ after the
    /// configured receives either way).
    pub retryable: bool,
    /// Why; ids and field names only.
    pub reason: String,
}

/// What a batch came to.
#[derive(Debug)]
pub struct BatchOutcome<R> {
    /// The response Lambda hands back to SQS.
    pub response: SqsBatchResponse,
    /// What each handled message gave, in batch order.
    pub done: Vec<R>,
    /// Messages failed.
    pub failed: usize,
}

/// Decodes each message body as JSON `T` and runs `handle` on it, one message at a time (two
/// messages of one order must not race). A body that does not decode fails only its message.
pub async fn for_each_message<T, R, F, Fut>(event: SqsEvent, mut handle: F) -> BatchOutcome<R>
where
    T: DeserializeOwned,
    F: FnMut(T) -> Fut,
    Fut: Future<Output = Result<R, MessageFailure>>,
{
    let mut out = BatchOutcome { response: SqsBatchResponse::default(), done: Vec::new(), failed: 0 };
    for record in event.records {
        let result = match decode::<T>(&record) {
            Ok(message) => handle(message).await,
            Err(failure) => Err(failure),
        };
        match result {
            Ok(r) => out.done.push(r),
            Err(failure) => {
                out.failed += 1;
                let receives = record.attributes.get("ApproximateReceiveCount").map(String::as_str).unwrap_or("?");
                tracing::error!(
                    message_id = record.message_id.as_deref().unwrap_or(""),
                    receive_count = receives,
                    retryable = failure.retryable,
                    reason = %failure.reason,
                    "message failed"
                );
                out.response.add_failure(record.message_id.unwrap_or_default());
            }
        }
    }
    out
}

fn decode<T: DeserializeOwned>(record: &SqsMessage) -> Result<T, MessageFailure> {
    let body = record.body.as_deref().unwrap_or("");
    let mut de = serde_json::Deserializer::from_str(body);
    from_str_whole(&mut de).map_err(|e| MessageFailure {
        retryable: false,
        // serde_json's message names the field and position; it quotes no values for type errors.
        reason: format!("body is not a valid message: {}", redact(&e)),
    })
}

fn from_str_whole<T: DeserializeOwned>(
    de: &mut serde_json::Deserializer<serde_json::de::StrRead<'_>>,
) -> Result<T, serde_json::Error> {
    let value = T::deserialize(&mut *de)?;
    de.end()?;
    Ok(value)
}

/// serde_json quotes unknown variants and invalid strings; keep the category and position only.
fn redact(e: &serde_json::Error) -> String {
    let text = e.to_string();
    match text.find('`').or_else(|| text.find('"')) {
        Some(i) => format!("{}… (line {} column {})", text[..i].trim_end(), e.line(), e.column()),
        None => text,
    }
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
            |j: Job| async move {
                if j.n == 3 { Err(MessageFailure { retryable: true, reason: "n is 3".into() }) } else { Ok(()) }
            },
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
        assert!(!err.reason.contains("hanako"), "{}", err.reason);
        assert!(err.reason.contains("line 1"), "{}", err.reason);
    }
}
