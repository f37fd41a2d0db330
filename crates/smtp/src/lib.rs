//! The SMTP relay adapter of the mail port: one SMTP submission per mail to a marketplace's relay
//! (楽天あんしんメルアドサービス: `sub.fw.rakuten.ne.jp:587`), STARTTLS required, SMTP AUTH
//! (PLAIN or LOGIN), sent from the shop's registered address. Used by the notifier Lambda and the
//! embedded mode alike; the settings come from where the shop keeps its marketplace credentials.
//!
//! A 5xx reply (an unknown sender: `552 5.2.0 … sender rejected`, a wrong password: `535`) is
//! permanent; a 4xx reply may pass later. Without a reply, what counts is how far the submission
//! got: before the message data was handed over (connect, greeting, EHLO, STARTTLS, AUTH, MAIL,
//! RCPT, DATA), the relay cannot have taken the mail and a timeout, a broken connection or a TLS
//! failure may pass later; once the data went out, a timeout, a broken connection or an answer
//! that does not read leaves the outcome unknown (ambiguous: the relay may have taken it).
//! Replies are logged by code only: their text can quote the buyer's address.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ichigen_core::Marketplace;
use ichigen_core::pipeline::{Mailer, OutgoingMail, PortError, RelayDirectory, RelayMailers, RelaySettings, SendError};
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Mailbox, Message};
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{AsyncSmtpConnection, Certificate, TlsParameters};
use lettre::transport::smtp::commands::{Data, Mail, Quit, Rcpt};
use lettre::transport::smtp::extension::{ClientId, Extension, MailBodyParameter, MailParameter};
use sha2::{Digest, Sha256};

/// How long one SMTP exchange (a command and its reply, the connection, the message data) may
/// take by default before it counts as timed out.
const TIMEOUT: Duration = Duration::from_secs(20);
/// The SASL mechanisms offered, in order.
const MECHANISMS: [Mechanism; 2] = [Mechanism::Plain, Mechanism::Login];

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
    host: String,
    port: u16,
    tls: TlsParameters,
    credentials: Credentials,
    hello: ClientId,
    from: Mailbox,
    timeout: Duration,
}

impl std::fmt::Debug for SmtpRelay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpRelay").field("host", &self.host).field("port", &self.port).finish_non_exhaustive()
    }
}

/// How far a submission got when it stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// The message data was not handed over: the relay cannot have taken the mail.
    Before,
    /// The data went out; the end-of-data reply was awaited.
    Data,
}

/// Why a submission stopped.
enum Stopped {
    /// lettre's error (a reply code, a broken connection, TLS, an answer that does not read).
    Smtp(Stage, lettre::transport::smtp::Error),
    /// No answer within the timeout.
    TimedOut(Stage),
    /// The relay lacks an extension the mail needs (found before the transaction).
    Unsupported(&'static str),
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
        let hello = ClientId::Domain(from.email.domain().to_string());
        let credentials = Credentials::new(settings.auth_id.trim().to_string(), settings.password.expose().to_string());
        Ok(SmtpRelay { host, port: settings.port, tls, credentials, hello, from, timeout: TIMEOUT })
    }

    /// The same relay, giving each SMTP exchange `timeout` (20 s by default).
    pub fn with_timeout(mut self, timeout: Duration) -> SmtpRelay {
        self.timeout = timeout;
        self
    }

    /// One step of the submission, bounded by the timeout.
    async fn step<T>(
        &self,
        stage: Stage,
        call: impl Future<Output = Result<T, lettre::transport::smtp::Error>>,
    ) -> Result<T, Stopped> {
        match tokio::time::timeout(self.timeout, call).await {
            Ok(Ok(done)) => Ok(done),
            Ok(Err(e)) => Err(Stopped::Smtp(stage, e)),
            Err(_) => Err(Stopped::TimedOut(stage)),
        }
    }

    /// Connect, STARTTLS (required: never AUTH or a buyer's mail in the clear), AUTH, MAIL, RCPT,
    /// DATA, the message; then QUIT, whose failure changes nothing (the mail was taken).
    async fn submit(&self, message: &Message) -> Result<lettre::transport::smtp::response::Response, Stopped> {
        let connect = AsyncSmtpConnection::connect_tokio1(
            (self.host.as_str(), self.port),
            Some(self.timeout),
            &self.hello,
            None,
            None,
        );
        let mut conn = self.step(Stage::Before, connect).await?;
        self.step(Stage::Before, conn.starttls(self.tls.clone(), &self.hello)).await?;
        self.step(Stage::Before, conn.auth(&MECHANISMS, &self.credentials)).await?;
        let envelope = message.envelope();
        let data = message.formatted();
        let mut options = Vec::new();
        let addresses = envelope.from().into_iter().chain(envelope.to());
        if addresses.map(AsRef::<str>::as_ref).any(|a| !a.is_ascii()) {
            if !conn.server_info().supports_feature(Extension::SmtpUtfEight) {
                return Err(Stopped::Unsupported("the relay does not take SMTPUTF8 addresses"));
            }
            options.push(MailParameter::SmtpUtfEight);
        }
        if !data.is_ascii() {
            if !conn.server_info().supports_feature(Extension::EightBitMime) {
                return Err(Stopped::Unsupported("the relay does not take 8BITMIME"));
            }
            options.push(MailParameter::Body(MailBodyParameter::EightBitMime));
        }
        self.step(Stage::Before, conn.command(Mail::new(envelope.from().cloned(), options))).await?;
        for to in envelope.to() {
            self.step(Stage::Before, conn.command(Rcpt::new(to.clone(), Vec::new()))).await?;
        }
        // Until the relay answers DATA with 354 it has no message to take.
        self.step(Stage::Before, conn.command(Data)).await?;
        let reply = self.step(Stage::Data, conn.message(&data)).await?;
        let _ = tokio::time::timeout(self.timeout, conn.command(Quit)).await;
        Ok(reply)
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
        match self.submit(&message).await {
            Ok(reply) => {
                // The relay reports nothing later (no bounces): its reply is all there is to keep.
                tracing::info!(host = %self.host, code = %reply.code(), "SMTP relay accepted the mail");
                Ok(message_id)
            }
            Err(stopped) => Err(self.send_error(stopped)),
        }
    }
}

impl SmtpRelay {
    /// Refused (5xx), unavailable (4xx, or nothing handed over) or ambiguous (the data went out
    /// and no reply read).
    fn send_error(&self, stopped: Stopped) -> SendError {
        let (stage, code, permanent, what) = match &stopped {
            Stopped::TimedOut(stage) => (*stage, None, false, "timed out".to_string()),
            Stopped::Unsupported(what) => (Stage::Before, None, false, (*what).to_string()),
            Stopped::Smtp(stage, e) => {
                let code = e.status().map(|c| c.to_string());
                let what = match (&code, e.is_tls(), e.is_timeout()) {
                    (Some(code), ..) => format!("reply {code}"),
                    (None, true, _) => "TLS failed (certificate or STARTTLS)".to_string(),
                    (None, _, true) => "timed out".to_string(),
                    _ => "connection failed or the answer did not read".to_string(),
                };
                (*stage, code, e.is_permanent(), what)
            }
        };
        let step = match stage {
            Stage::Before => "before the message data",
            Stage::Data => "after the message data",
        };
        tracing::warn!(host = %self.host, code = code.as_deref().unwrap_or("-"), permanent, step, "SMTP relay did not take the mail");
        let failure = Box::new(self.failure(&format!("{what} {step}")));
        match (permanent, code.is_some(), stage) {
            (true, ..) => SendError::Refused(failure),
            // A reply is an answer: the relay did not take the mail.
            (false, true, _) | (false, false, Stage::Before) => SendError::Unavailable(failure),
            // The data went out and no reply was read: the relay may have taken it.
            (false, false, Stage::Data) => SendError::Ambiguous(failure),
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
