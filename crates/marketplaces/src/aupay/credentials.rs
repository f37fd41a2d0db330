//! au PAY マーケット credentials as the operator stores them, and the client built from them.

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::Value;

use crate::client::{AnyClient, BuildError, HttpSettings};
use crate::secret::{CredentialFields, SecretError, endpoint, filled, secret, secret_or_number};

/// au PAY マーケット: the Wow!manager API key and the shop's 店舗ID.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Credentials {
    /// API key issued in Wow!manager (valid about 90 days).
    #[serde(deserialize_with = "secret")]
    pub api_key: SecretString,
    /// The API's `shopId` (店舗ID, numeric), as text or a number.
    #[serde(deserialize_with = "secret_or_number")]
    pub shop_id: SecretString,
    /// Base URL instead of the production one.
    #[serde(default)]
    pub endpoint: Option<String>,
    /// The marketplace's SMTP relay for buyer mail (see [`crate::relay`]); checked, read by
    /// [`crate::MarketplaceSecret::mail_relay`].
    #[serde(default)]
    pub mail_relay: Option<Value>,
}

impl CredentialFields for Credentials {
    const MARKETPLACE: &'static str = "aupay";
    const FIELDS: &'static [&'static str] = &["api_key", "shop_id", "endpoint", "mail_relay"];

    fn validate(&self) -> Result<(), SecretError> {
        filled("api_key", self.api_key.expose_secret())?;
        filled("shop_id", self.shop_id.expose_secret())?;
        endpoint("endpoint", &self.endpoint)?;
        self.relay().map(drop)
    }
}

impl Credentials {
    /// The `mail_relay` settings, if stored.
    pub fn relay(&self) -> Result<Option<ichigen_core::pipeline::RelaySettings>, SecretError> {
        self.mail_relay.as_ref().map(|v| crate::relay::read_relay(Self::MARKETPLACE, v, None)).transpose()
    }
}

/// The client for `shop_id` from the secret's fields.
pub(crate) fn build(shop_id: &str, fields: &Value, http: HttpSettings) -> Result<AnyClient, BuildError> {
    let s = Credentials::read(fields)?;
    let creds = super::AupayCredentials { shop_id: s.shop_id, api_key: s.api_key };
    let config = http.config(s.endpoint.as_deref().unwrap_or(super::client::PRODUCTION_BASE_URL));
    let client = super::AupayClient::new(config, shop_id, creds)
        .map_err(|source| BuildError::setup(super::POLICY.marketplace, source))?;
    Ok(AnyClient::new(client))
}
