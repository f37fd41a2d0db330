//! The demo's stand-in for a marketplace relay: the embedded demo has no 楽天 relay account, so
//! its 楽天 buyer mail is written to the outbox as the relay would send it (from the registered
//! address, `X-Ichigen-Route: rakuten-relay`), labelled `X-Ichigen-Relay: embedded-stand-in`. A
//! real shop on one machine stores its relay settings (`ichigen mail relay set`) and sends through
//! [`ichigen_smtp::SmtpRelays`] instead.

use ichigen_core::Marketplace;
use ichigen_core::pipeline::{Mailer, OutgoingMail, PortError, RelayMailers, SendError};
use ichigen_local::EmlOutbox;

/// The stand-in relays of every marketplace, all writing into one outbox.
#[derive(Debug, Clone, Copy)]
pub struct StandInRelays<'a> {
    /// Where the mail goes.
    pub outbox: &'a EmlOutbox,
    /// The sender a relay would insist on (the address registered with the marketplace).
    pub registered_from: &'a str,
}

impl<'a> RelayMailers for StandInRelays<'a> {
    type Mailer = StandInRelays<'a>;
    async fn relay(&self, _: &str, _: Marketplace) -> Result<Option<StandInRelays<'a>>, PortError> {
        Ok(Some(*self))
    }
}

impl Mailer for StandInRelays<'_> {
    async fn send(&self, mail: &OutgoingMail) -> Result<String, SendError> {
        let mut mail = OutgoingMail { from: self.registered_from.to_string(), ..mail.clone() };
        mail.tags.push(("relay", "embedded-stand-in".to_string()));
        self.outbox.send(&mail).await
    }
}
