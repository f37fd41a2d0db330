//! [`SsmRelayDirectory`]: a shop's marketplace relay settings, kept inside that marketplace's
//! credentials parameter (`{prefix}{shop_id}/{marketplace}`, the `mail_relay` object), read through
//! the [`SecretCache`]. The caller passes the reader of the credentials JSON (the marketplaces crate's).

use ichigen_core::Marketplace;
use ichigen_core::pipeline::{BoxError, PortError, RelayDirectory, RelaySettings};
use secrecy::ExposeSecret;

use crate::SecretCache;

/// Reads the relay settings out of a credentials parameter's JSON text.
pub type RelayReader = fn(&str) -> Result<Option<RelaySettings>, BoxError>;

/// Relay settings from the shops' credentials parameters.
pub struct SsmRelayDirectory {
    secrets: SecretCache,
    prefix: String,
    read: RelayReader,
}

impl SsmRelayDirectory {
    /// Reading parameters under `prefix` through `secrets`, each with `read`.
    pub fn new(secrets: SecretCache, prefix: impl Into<String>, read: RelayReader) -> Self {
        SsmRelayDirectory { secrets, prefix: prefix.into(), read }
    }
}

impl RelayDirectory for SsmRelayDirectory {
    async fn relay_settings(
        &self,
        shop_id: &str,
        marketplace: Marketplace,
    ) -> Result<Option<RelaySettings>, PortError> {
        const OP: &str = "ssm GetParameter relay settings";
        let name = format!("{}{shop_id}/{marketplace}", self.prefix);
        let text = match self.secrets.get(&name).await {
            Ok(text) => text,
            Err(e) if e.is_not_found() => return Ok(None),
            Err(e) => return Err(PortError { operation: OP, retryable: e.retryable, source: Box::new(e) }),
        };
        let relay = (self.read)(text.expose_secret()).map_err(|e| PortError::permanent(OP, e))?;
        if relay.is_none() {
            // Settings the operator adds are to be seen by the next mail, not after the cache's hour.
            self.secrets.invalidate(&name).await;
        }
        Ok(relay)
    }
}
