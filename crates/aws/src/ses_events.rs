//! SES bounce and complaint events, as the configuration set's event destination publishes them to
//! SNS (`eventType` `Bounce` / `Complaint`, with the mail's tags), turned into [`MailEvent`]s
//! traced to the order by the tags `shop`, `marketplace`, `order_id` and `kind` that every mail
//! carries. Identity notifications (`notificationType`) read the same way.

use chrono::{DateTime, Utc};
use ichigen_core::Marketplace;
use ichigen_core::pipeline::{MailEvent, MailEventKind};
use serde::Deserialize;
use std::collections::HashMap;

/// An SES event that cannot be read. Names the field, never a value.
#[derive(Debug, thiserror::Error)]
pub enum SesEventError {
    /// Not the JSON of an SES event.
    #[error("SES event is not JSON of the expected shape (line {line}, column {column})")]
    Shape {
        /// Where.
        line: usize,
        /// Where.
        column: usize,
    },
    /// The mail carries no tag `{0}` (sent before tags, or not by ichigen): nothing to record it against.
    #[error("SES event of message {message_id}: the mail has no {tag} tag")]
    Untagged {
        /// SES message id.
        message_id: String,
        /// The tag.
        tag: &'static str,
    },
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Event {
    #[serde(alias = "notificationType")]
    event_type: String,
    mail: Mail,
    #[serde(default)]
    bounce: Option<Bounce>,
    #[serde(default)]
    complaint: Option<Complaint>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Mail {
    message_id: String,
    #[serde(default)]
    tags: HashMap<String, Vec<String>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Bounce {
    bounce_type: String,
    #[serde(default)]
    bounce_sub_type: String,
    bounced_recipients: Vec<Recipient>,
    timestamp: DateTime<Utc>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Complaint {
    complained_recipients: Vec<Recipient>,
    timestamp: DateTime<Utc>,
    #[serde(default)]
    complaint_feedback_type: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Recipient {
    email_address: String,
}

/// The delivery events in one SES event message (one per recipient); empty for other event types
/// (deliveries, sends).
pub fn parse_ses_event(message: &str) -> Result<Vec<MailEvent>, SesEventError> {
    let event: Event =
        serde_json::from_str(message).map_err(|e| SesEventError::Shape { line: e.line(), column: e.column() })?;
    let (kind, at, detail, recipients) = match (event.event_type.as_str(), event.bounce, event.complaint) {
        ("Bounce", Some(b), _) => {
            let kind = if b.bounce_type == "Permanent" { MailEventKind::HardBounce } else { MailEventKind::SoftBounce };
            (kind, b.timestamp, format!("{}/{}", b.bounce_type, b.bounce_sub_type), b.bounced_recipients)
        }
        ("Complaint", _, Some(c)) => (
            MailEventKind::Complaint,
            c.timestamp,
            c.complaint_feedback_type.unwrap_or_else(|| "complaint".to_string()),
            c.complained_recipients,
        ),
        _ => return Ok(Vec::new()),
    };
    let mail = event.mail;
    let tag = |name: &'static str| {
        mail.tags
            .get(name)
            .and_then(|v| v.first())
            .cloned()
            .ok_or(SesEventError::Untagged { message_id: mail.message_id.clone(), tag: name })
    };
    let shop_id = tag("shop")?;
    let marketplace: Marketplace = tag("marketplace")?
        .parse()
        .map_err(|_| SesEventError::Untagged { message_id: mail.message_id.clone(), tag: "marketplace" })?;
    let order_id = tag("order_id")?;
    let mail_kind = tag("kind")?;
    Ok(recipients
        .into_iter()
        .map(|r| MailEvent {
            shop_id: shop_id.clone(),
            marketplace,
            order_id: order_id.clone(),
            mail_kind: mail_kind.clone(),
            kind,
            address: r.email_address,
            at: at.with_timezone(&ichigen_core::JST),
            detail: detail.clone(),
            message_id: mail.message_id.clone(),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_permanent_bounce_of_a_tagged_mail() {
        let message = r#"{"eventType":"Bounce","bounce":{"bounceType":"Permanent","bounceSubType":"General",
            "bouncedRecipients":[{"emailAddress":"gone@example.jp","action":"failed","status":"5.1.1"}],
            "timestamp":"2026-11-27T01:02:03.000Z","feedbackId":"f-1"},
            "mail":{"timestamp":"2026-11-27T01:00:00.000Z","messageId":"m-1","source":"shop@example.jp",
            "destination":["gone@example.jp"],
            "tags":{"kind":["thank_you"],"marketplace":["yahoo"],"order_id":["y-1"],"shop":["shop-1"],"route":["shop"]}}}"#;
        let events = parse_ses_event(message).unwrap();
        assert_eq!(events.len(), 1);
        let e = &events[0];
        assert_eq!((e.shop_id.as_str(), e.marketplace, e.order_id.as_str()), ("shop-1", Marketplace::Yahoo, "y-1"));
        assert_eq!(
            (e.kind, e.detail.as_str(), e.address.as_str()),
            (MailEventKind::HardBounce, "Permanent/General", "gone@example.jp")
        );
        assert_eq!(e.at.to_rfc3339(), "2026-11-27T10:02:03+09:00");
    }

    #[test]
    fn complaints_deliveries_and_untagged_mail() {
        let complaint = r#"{"notificationType":"Complaint","complaint":{"complainedRecipients":[{"emailAddress":"a@example.jp"}],
            "timestamp":"2026-11-27T01:02:03Z","complaintFeedbackType":"abuse"},
            "mail":{"timestamp":"2026-11-27T01:00:00Z","messageId":"m-2",
            "tags":{"kind":["shipping"],"marketplace":["qoo10"],"order_id":["q-1"],"shop":["s"]}}}"#;
        let e = parse_ses_event(complaint).unwrap();
        assert_eq!((e[0].kind, e[0].detail.as_str()), (MailEventKind::Complaint, "abuse"));
        let delivery = r#"{"eventType":"Delivery","mail":{"timestamp":"2026-11-27T01:00:00Z","messageId":"m-3"}}"#;
        assert!(parse_ses_event(delivery).unwrap().is_empty());
        let untagged = r#"{"eventType":"Bounce","bounce":{"bounceType":"Transient","bouncedRecipients":[{"emailAddress":"hidden@example.jp"}],
            "timestamp":"2026-11-27T01:02:03Z"},"mail":{"timestamp":"2026-11-27T01:00:00Z","messageId":"m-4","tags":{}}}"#;
        let err = parse_ses_event(untagged).unwrap_err();
        assert!(!err.to_string().contains("hidden"), "{err}");
        assert!(matches!(parse_ses_event("{\"hidden\":"), Err(SesEventError::Shape { .. })));
    }
}
