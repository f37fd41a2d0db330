//! [`SesMailer`]: one SESv2 SendEmail per mail, plain text in UTF-8, tagged for the event stream.

use aws_sdk_sesv2::Client;
use aws_sdk_sesv2::error::SdkError;
use aws_sdk_sesv2::operation::send_email::SendEmailError;
use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message, MessageTag};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use ichigen_core::pipeline::route::{RouteError, masked_by};
use ichigen_core::pipeline::{Mailer, OutgoingMail, SendError};

use crate::error::{AwsError, is_retryable};

/// Charset of subject and body.
const UTF_8: &str = "UTF-8";
/// Longest tag name or value SES takes.
const MAX_TAG_CHARS: usize = 256;

/// Sends mail through SESv2, optionally under a configuration set (for its event destinations).
#[derive(Debug, Clone)]
pub struct SesMailer {
    client: Client,
    configuration_set: Option<String>,
}

impl SesMailer {
    /// A mailer; `configuration_set` names the SES configuration set to send under, if any.
    pub fn new(client: Client, configuration_set: Option<String>) -> Self {
        SesMailer { client, configuration_set }
    }
}

/// `text` as an SES tag name or value: only `[A-Za-z0-9_.@-]`, others become `_`, at most 256
/// characters, never empty.
pub fn tag_text(text: &str) -> String {
    let clean: String = text
        .chars()
        .take(MAX_TAG_CHARS)
        .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '@') { c } else { '_' })
        .collect();
    if clean.is_empty() { "_".to_string() } else { clean }
}

fn content(data: &str) -> Result<Content, SendError> {
    Content::builder().data(data).charset(UTF_8).build().map_err(|e| SendError::Refused(Box::new(e)))
}

/// Refused when the mail itself or the account is the problem, unavailable when SES is busy or
/// down, ambiguous when the request may have reached SES and its answer was lost.
fn send_error(err: SdkError<SendEmailError, HttpResponse>) -> SendError {
    // A timeout, a broken connection or an unreadable answer: SES may have taken the mail. A
    // connection that failed before the request went out looks the same from here (both are I/O
    // errors), so it is taken as ambiguous too: the cost is a retry after the claim's lease.
    let ambiguous = match &err {
        SdkError::TimeoutError(_) | SdkError::ResponseError(_) => true,
        SdkError::DispatchFailure(f) => !f.is_user(),
        _ => false,
    };
    if ambiguous {
        return SendError::Ambiguous(Box::new(AwsError::redacted(err)));
    }
    let refused = match err.as_service_error() {
        Some(e)
            if e.is_message_rejected()
                || e.is_mail_from_domain_not_verified_exception()
                || e.is_bad_request_exception()
                || e.is_not_found_exception()
                || e.is_account_suspended_exception() =>
        {
            true
        }
        Some(e)
            if e.is_too_many_requests_exception()
                || e.is_limit_exceeded_exception()
                || e.is_sending_paused_exception() =>
        {
            false
        }
        // Throttling, 5xx and timeouts may pass later; anything else is the request's fault.
        _ => !is_retryable(&err),
    };
    // SES quotes refused recipients in its messages: keep the code, drop the text.
    let source = Box::new(AwsError::redacted(err));
    if refused { SendError::Refused(source) } else { SendError::Unavailable(source) }
}

impl Mailer for SesMailer {
    async fn send(&self, mail: &OutgoingMail) -> Result<String, SendError> {
        // A masked marketplace address bounces through SES, and bounces count against the whole
        // account: refused before any call, whoever asks.
        if let Some(m) = mail.to.iter().find_map(|to| masked_by(to)) {
            return Err(SendError::Refused(Box::new(RouteError::MaskedOnShopRoute(m))));
        }
        let message = Message::builder()
            .subject(content(&mail.subject)?)
            .body(Body::builder().text(content(&mail.text)?).build())
            .build();
        let tags = mail
            .tags
            .iter()
            .map(|(name, value)| MessageTag::builder().name(tag_text(name)).value(tag_text(value)).build())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| SendError::Refused(Box::new(e)))?;
        let out = self
            .client
            .send_email()
            .from_email_address(&mail.from)
            .destination(Destination::builder().set_to_addresses(Some(mail.to.clone())).build())
            .set_reply_to_addresses(mail.reply_to.clone().map(|r| vec![r]))
            .content(EmailContent::builder().simple(message).build())
            .set_email_tags(Some(tags))
            .set_configuration_set_name(self.configuration_set.clone())
            .send()
            .await
            .map_err(send_error)?;
        // SES always returns an id for an accepted mail; without one the ledger could not record it.
        out.message_id.ok_or_else(|| SendError::Ambiguous("SES accepted the mail but returned no message id".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_text_keeps_allowed_characters() {
        assert_eq!(tag_text("thank_you"), "thank_you");
        assert_eq!(tag_text("shop-1.example@jp"), "shop-1.example@jp");
        assert_eq!(tag_text("楽天 市場/x"), "______x");
        assert_eq!(tag_text(""), "_");
        assert_eq!(tag_text(&"a".repeat(300)).len(), MAX_TAG_CHARS);
    }
}
