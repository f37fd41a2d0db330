//! The SMTP relay adapter of the mail port: one SMTP submission per mail to a marketplace's relay
//! (楽天あんしんメルアドサービス: `sub.fw.rakuten.ne.jp:587`), STARTTLS required, SMTP AUTH
//! (PLAIN or LOGIN), sent from the shop's registered address. Used by the notifier Lambda and the
//! embedded mode alike; the settings come from where the shop keeps its marketplace credentials.
//!
//! A 5xx reply (an unknown sender: `552 5.2.0 … sender rejected`, a wrong password: `535`) is
//! permanent; a 4xx reply, a refused connection, a timeout or a TLS failure may pass later.
//! Replies are logged by code only: their text can quote the buyer's address.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ichigen_core::Marketplace;
use ichigen_core::pipeline::{Mailer, OutgoingMail, PortError, RelayDirectory, RelayMailers, RelaySettings, SendError};
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Mailbox, Message};
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use sha2::{Digest, Sha256};

/// How long one SMTP exchange may take before it counts as unavailable.
const TIMEOUT: Duration = Duration::from_secs(20);

/// Relay settings that do not make a client. Names the field, never its value.
#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    /// A setting is not usable.
    #[error(transparent)]
    Settings(#[from] ichigen_core::pipeline::RelaySettingsError),
    /// The CA certificate or TLS setup failed.
    #[error("mail relay TLS setup: {0}")]
    Tls(#[source] lettre::transport::smtp::Error),
}

/// A refusal or failure of the relay, by reply code and kind only.
#[derive(Debug, thiserror::Error)]
#[error("SMTP relay {host}: {what}")]
pub struct RelayFailure {
    host: String,
    what: String,
}

/// One shop's relay: its server, AUTH and registered sender address.
pub struct SmtpRelay {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    host: String,
}

impl std::fmt::Debug for SmtpRelay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpRelay").field("host", &self.host).finish_non_exhaustive()
    }
}

impl SmtpRelay {
    /// A relay client for `settings` (checked first). Certificates are always verified: against
    /// the public roots, plus `ca_pem` when given.
    pub fn new(settings: &RelaySettings) -> Result<SmtpRelay, RelayError> {
        settings.validate()?;
        let host = settings.host.trim().trim_start_matches('[').trim_end_matches(']').to_string();
        let mut tls = TlsParameters::builder(host.clone());
        if let Some(pem) = &settings.ca_pem {
            tls = tls.add_root_certificate(Certificate::from_pem(pem.as_bytes()).map_err(RelayError::Tls)?);
        }
        let tls = tls.build_rustls().map_err(RelayError::Tls)?;
        let from: Mailbox = settings.from.trim().parse().map_err(|_| ichigen_core::pipeline::RelaySettingsError {
            field: "from",
            problem: "is not a mail address",
        })?;
        let hello = from.email.domain().to_string();
        let transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host.clone())
            .port(settings.port)
            // STARTTLS required: never AUTH or a buyer's mail in the clear.
            .tls(Tls::Required(tls))
            .credentials(Credentials::new(settings.auth_id.trim().to_string(), settings.password.expose().to_string()))
            .authentication(vec![Mechanism::Plain, Mechanism::Login])
            .hello_name(ClientId::Domain(hello))
            .timeout(Some(TIMEOUT))
            .build();
        Ok(SmtpRelay { transport, from, host })
    }

    fn message(&self, mail: &OutgoingMail) -> Result<(Message, String), SendError> {
        let refused = |what: &str| SendError::Refused(Box::new(self.failure(what)));
        let domain = self.from.email.domain().to_string();
        let message_id = format!("{:016x}{:016x}@{domain}", fastrand::u64(..), fastrand::u64(..));
        let mut builder = Message::builder()
            .from(self.from.clone())
            .subject(mail.subject.clone())
            .message_id(Some(format!("<{message_id}>")))
            .header(ContentType::TEXT_PLAIN);
        for to in &mail.to {
            builder = builder.to(to.parse().map_err(|_| refused("a recipient is not a mail address"))?);
        }
        if let Some(reply_to) = &mail.reply_to {
            builder = builder.reply_to(reply_to.parse().map_err(|_| refused("Reply-To is not a mail address"))?);
        }
        for (name, value) in &mail.tags {
            let name = HeaderName::new_from_ascii(format!("X-Ichigen-{}", header_name(name)))
                .map_err(|_| refused("a tag is not a header name"))?;
            builder = builder.raw_header(HeaderValue::new(name, header_value(value)));
        }
        let message = builder.body(mail.text.clone()).map_err(|_| refused("the message cannot be built"))?;
        Ok((message, message_id))
    }

    fn failure(&self, what: &str) -> RelayFailure {
        RelayFailure { host: self.host.clone(), what: what.to_string() }
    }
}

/// `order_id` → `Order-Id`.
fn header_name(tag: &str) -> String {
    tag.split(['_', '-'])
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut chars = w.chars().filter(char::is_ascii_alphanumeric);
            chars.next().map(|c| c.to_ascii_uppercase().to_string() + &chars.collect::<String>()).unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join("-")
}

/// Printable ASCII only, so a tag can never break a header line.
fn header_value(text: &str) -> String {
    let clean: String = text.chars().take(200).map(|c| if c.is_ascii_graphic() { c } else { '_' }).collect();
    if clean.is_empty() { "_".to_string() } else { clean }
}

impl Mailer for SmtpRelay {
    async fn send(&self, mail: &OutgoingMail) -> Result<String, SendError> {
        let (message, message_id) = self.message(mail)?;
        match self.transport.send(message).await {
            Ok(reply) => {
                // The relay reports nothing later (no bounces): its reply is all there is to keep.
                tracing::info!(host = %self.host, code = %reply.code(), "SMTP relay accepted the mail");
                Ok(message_id)
            }
            Err(e) => {
                let code = e.status().map(|c| c.to_string());
                let what = match (&code, e.is_tls(), e.is_timeout()) {
                    (Some(code), ..) => format!("reply {code}"),
                    (None, true, _) => "TLS failed (certificate or STARTTLS)".to_string(),
                    (None, _, true) => "timed out".to_string(),
                    _ => "connection failed".to_string(),
                };
                tracing::warn!(host = %self.host, code = code.as_deref().unwrap_or("-"), permanent = e.is_permanent(), "SMTP relay did not take the mail");
                let failure = Box::new(self.failure(&what));
                if e.is_permanent() { Err(SendError::Refused(failure)) } else { Err(SendError::Unavailable(failure)) }
            }
        }
    }
}

/// A built relay and the fingerprint of the settings it was built from, per shop × marketplace.
type Built = HashMap<(String, Marketplace), (String, Arc<SmtpRelay>)>;

/// Each shop's relays from the settings in `directory`, built once and rebuilt when the stored
/// settings change (a new password, say).
pub struct SmtpRelays<D> {
    directory: D,
    built: Mutex<Built>,
}

impl<D> SmtpRelays<D> {
    /// Relays from the settings in `directory`.
    pub fn new(directory: D) -> Self {
        SmtpRelays { directory, built: Mutex::new(HashMap::new()) }
    }
}

/// A fingerprint of the settings (password included), kept in memory only.
fn fingerprint(settings: &RelaySettings) -> String {
    let text = serde_json::to_string(settings).unwrap_or_default();
    Sha256::digest(text.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

impl<D: RelayDirectory> RelayMailers for SmtpRelays<D> {
    type Mailer = Arc<SmtpRelay>;

    async fn relay(&self, shop_id: &str, marketplace: Marketplace) -> Result<Option<Arc<SmtpRelay>>, PortError> {
        let Some(settings) = self.directory.relay_settings(shop_id, marketplace).await? else {
            return Ok(None);
        };
        let print = fingerprint(&settings);
        let key = (shop_id.to_string(), marketplace);
        let mut built = self.built.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((seen, relay)) = built.get(&key)
            && *seen == print
        {
            return Ok(Some(relay.clone()));
        }
        let relay = Arc::new(SmtpRelay::new(&settings).map_err(|e| PortError::permanent("mail relay settings", e))?);
        built.insert(key, (print, relay.clone()));
        Ok(Some(relay))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_headers_stay_on_one_line() {
        assert_eq!(header_name("order_id"), "Order-Id");
        assert_eq!(header_value("a b\r\nBcc: x"), "a_b__Bcc:_x");
    }
}
