//! S3 event notifications as the import bucket sends them to its SQS queue: the records of
//! created objects (key URL-decoded) as [`DroppedFile`]s, or the `s3:TestEvent` S3 sends once
//! when the notification is configured.
//!
//! Read with a struct of its own rather than `aws_lambda_events`' `S3Event`, which requires
//! `userIdentity` and `requestParameters` (moto leaves them out) while only the bucket, key,
//! eTag and sequencer matter here.
//! Shape: <https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-content-structure.html>.

use ichigen_core::pipeline::DroppedFile;
use serde::Deserialize;

/// One SQS message from the bucket.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "Body")]
pub enum S3Notification {
    /// The test event S3 sends when the notification is set up: nothing to do.
    Test,
    /// The objects created (other events left out).
    Created(Vec<DroppedFile>),
}

/// A message that is not an S3 notification. Names the place, never a value.
#[derive(Debug, thiserror::Error)]
#[error("not an S3 event notification (line {line}, column {column})")]
pub struct S3EventError {
    line: usize,
    column: usize,
}

/// An event named something other than `s3:TestEvent` where a test event was expected.
#[derive(Debug, thiserror::Error)]
#[error("an S3 message without Records that is not s3:TestEvent")]
pub struct NotATestEvent;

/// Either shape in one struct (not an untagged enum, whose errors lose the position).
#[derive(Deserialize)]
struct Body {
    #[serde(rename = "Records", default)]
    records: Option<Vec<Record>>,
    #[serde(rename = "Event", default)]
    event: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Record {
    event_name: String,
    s3: Entity,
}

#[derive(Deserialize)]
struct Entity {
    bucket: Bucket,
    object: Object,
}

#[derive(Deserialize)]
struct Bucket {
    name: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Object {
    key: String,
    #[serde(default)]
    e_tag: Option<String>,
    #[serde(default)]
    sequencer: Option<String>,
}

/// Reads one SQS message body of the import bucket's notifications.
pub fn parse_s3_notification(body: &str) -> Result<S3Notification, S3EventError> {
    serde_json::from_str(body).map_err(|e| S3EventError { line: e.line(), column: e.column() })
}

impl TryFrom<Body> for S3Notification {
    type Error = NotATestEvent;

    fn try_from(body: Body) -> Result<Self, Self::Error> {
        match (body.records, body.event) {
            (Some(records), _) => Ok(S3Notification::Created(
                records
                    .into_iter()
                    .filter(|r| r.event_name.trim_start_matches("s3:").starts_with("ObjectCreated:"))
                    .map(|r| DroppedFile {
                        bucket: r.s3.bucket.name,
                        key: decode_key(&r.s3.object.key),
                        etag: r.s3.object.e_tag.filter(|e| !e.is_empty()),
                        sequencer: r.s3.object.sequencer.filter(|s| !s.is_empty()),
                    })
                    .collect(),
            )),
            (None, Some(event)) if event == "s3:TestEvent" => Ok(S3Notification::Test),
            (None, _) => Err(NotATestEvent),
        }
    }
}

/// An event's key is URL-encoded as in a form (`+` for a space, `%XX` for the rest).
fn decode_key(key: &str) -> String {
    percent_encoding::percent_decode_str(&key.replace('+', " ")).decode_utf8_lossy().into_owned()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn aws_records_test_events_and_other_events() {
        // AWS's documented record (trimmed to what differs from moto's: userIdentity, sequencer).
        let aws = r#"{"Records":[{"eventVersion":"2.1","eventSource":"aws:s3","awsRegion":"ap-northeast-1",
            "eventTime":"2026-12-01T03:00:00.000Z","eventName":"ObjectCreated:Put",
            "userIdentity":{"principalId":"AWS:AIDAEXAMPLE"},"requestParameters":{"sourceIPAddress":"203.0.113.1"},
            "responseElements":{"x-amz-request-id":"R","x-amz-id-2":"I"},
            "s3":{"s3SchemaVersion":"1.0","configurationId":"imports","bucket":{"name":"ichigen-imports","arn":"arn:aws:s3:::ichigen-imports"},
            "object":{"key":"imports/shop-1/%E5%87%BA%E8%8D%B7+12%E6%9C%88.b2.csv","size":120,"eTag":"0123abcd","sequencer":"0055AED6DCD90281E5"}}},
            {"eventName":"ObjectRemoved:Delete","s3":{"bucket":{"name":"b"},"object":{"key":"imports/shop-1/x.csv"}}}]}"#;
        let S3Notification::Created(files) = parse_s3_notification(aws).unwrap() else { panic!("records") };
        assert_eq!(files.len(), 1, "the delete is left out");
        assert_eq!(files[0].key, "imports/shop-1/出荷 12月.b2.csv");
        assert_eq!(files[0].sequencer.as_deref(), Some("0055AED6DCD90281E5"));
        assert_eq!(files[0].etag.as_deref(), Some("0123abcd"));
        let test = r#"{"Service":"Amazon S3","Event":"s3:TestEvent","Time":"2026-12-01T03:00:00.000Z","Bucket":"b","RequestId":"R","HostId":"H"}"#;
        assert_eq!(parse_s3_notification(test).unwrap(), S3Notification::Test);
        assert!(parse_s3_notification(r#"{"Event":"other"}"#).is_err());
        assert!(parse_s3_notification(r#"{"orders":[]}"#).is_err());
        let err = parse_s3_notification(r#"{"Records":[{"eventName":1}]}"#).unwrap_err().to_string();
        assert!(err.contains("line 1"), "{err}");
        assert_eq!(decode_key("a%2Bb+c"), "a+b c");
    }
}
