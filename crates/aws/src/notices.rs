//! [`SnsNotices`]: notices to the people who run the shop's ichigen, published to the stack's
//! alarm topic (the same subscribers as the CloudWatch alarms).

use aws_sdk_sns::Client;
use ichigen_core::pipeline::{PortError, StaffNotices};

use crate::error::port_error;

/// SNS limits a subject to ASCII without line breaks, under 100 characters.
const SUBJECT_MAX: usize = 99;

/// Publishes to one topic.
#[derive(Debug, Clone)]
pub struct SnsNotices {
    client: Client,
    topic_arn: String,
}

impl SnsNotices {
    /// Notices to `topic_arn`.
    pub fn new(client: Client, topic_arn: impl Into<String>) -> SnsNotices {
        SnsNotices { client, topic_arn: topic_arn.into() }
    }
}

impl StaffNotices for SnsNotices {
    async fn notify(&self, subject: &str, text: &str) -> Result<(), PortError> {
        // Japanese subjects go in the body's first line; SNS (and e-mail subscribers) get ASCII.
        let ascii: String =
            subject.chars().filter(|c| c.is_ascii() && !c.is_ascii_control()).take(SUBJECT_MAX).collect();
        let ascii = ascii.split_whitespace().collect::<Vec<_>>().join(" ");
        let subject_line = if ascii.is_empty() { "ichigen notice".to_string() } else { ascii };
        self.client
            .publish()
            .topic_arn(&self.topic_arn)
            .subject(subject_line)
            .message(format!("{subject}\n\n{text}"))
            .send()
            .await
            .map_err(|e| port_error("sns Publish notice", e))?;
        Ok(())
    }
}
