//! 楽天 RMS credentials as the operator stores them, and the client built from them.

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::Value;

use crate::client::{AnyClient, BuildError, HttpSettings};
use crate::secret::{CredentialFields, SecretError, endpoint, filled, secret};

/// The licenseKey's name, in the secret and in the pair's expiry record.
pub const LICENSE_KEY: &str = "license_key";

/// 楽天 RMS: the ESA key pair.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Credentials {
    /// `serviceSecret` (SP…).
    #[serde(deserialize_with = "secret")]
    pub service_secret: SecretString,
    /// `licenseKey` (SL…; renewed every 3 months).
    #[serde(deserialize_with = "secret")]
    pub license_key: SecretString,
    /// Base URL instead of the production one.
    #[serde(default)]
    pub endpoint: Option<String>,
    /// The marketplace's SMTP relay for buyer mail (see [`crate::relay`]); checked, read by
    /// [`crate::MarketplaceSecret::mail_relay`].
    #[serde(default)]
    pub mail_relay: Option<Value>,
}

impl CredentialFields for Credentials {
    const MARKETPLACE: &'static str = "rakuten";
    const FIELDS: &'static [&'static str] = &["service_secret", LICENSE_KEY, "endpoint", "mail_relay"];

    fn validate(&self) -> Result<(), SecretError> {
        filled("service_secret", self.service_secret.expose_secret())?;
        filled(LICENSE_KEY, self.license_key.expose_secret())?;
        endpoint("endpoint", &self.endpoint)?;
        self.relay().map(drop)
    }
}

impl Credentials {
    /// The `mail_relay` settings, if stored.
    pub fn relay(&self) -> Result<Option<ichigen_core::pipeline::RelaySettings>, SecretError> {
        self.mail_relay
            .as_ref()
            .map(|v| {
                crate::relay::read_relay(Self::MARKETPLACE, v, Some(ichigen_core::pipeline::route::RAKUTEN_RELAY_HOST))
            })
            .transpose()
    }
}

/// The client for `shop_id` from the secret's fields.
pub(crate) fn build(shop_id: &str, fields: &Value, http: HttpSettings) -> Result<AnyClient, BuildError> {
    let s = Credentials::read(fields)?;
    let config = http.config(s.endpoint.as_deref().unwrap_or(super::client::PRODUCTION_BASE_URL));
    let client = super::RakutenClient::new(config, shop_id, &s.service_secret, &s.license_key)
        .map_err(|source| BuildError::http(super::POLICY.marketplace, source))?;
    Ok(AnyClient::new(client))
}
