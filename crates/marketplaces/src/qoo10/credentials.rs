//! Qoo10 credentials as the operator stores them, and the client built from them.

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::Value;

use crate::client::{AnyClient, BuildError, HttpSettings};
use crate::secret::{CredentialFields, SecretError, endpoint, filled, secret};

/// Qoo10: the QAPI key and the QSM login that certifies the seller.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Credentials {
    /// QAPI certification key (valid one year).
    #[serde(deserialize_with = "secret")]
    pub api_key: SecretString,
    /// QSM login ID.
    #[serde(deserialize_with = "secret")]
    pub user_id: SecretString,
    /// QSM password.
    #[serde(deserialize_with = "secret")]
    pub password: SecretString,
    /// Base URL instead of the production one.
    #[serde(default)]
    pub endpoint: Option<String>,
}

impl CredentialFields for Credentials {
    const MARKETPLACE: &'static str = "qoo10";
    const FIELDS: &'static [&'static str] = &["api_key", "user_id", "password", "endpoint"];

    fn validate(&self) -> Result<(), SecretError> {
        filled("api_key", self.api_key.expose_secret())?;
        filled("user_id", self.user_id.expose_secret())?;
        filled("password", self.password.expose_secret())?;
        endpoint("endpoint", &self.endpoint)
    }
}

/// The client for `shop_id` from the secret's fields.
pub(crate) fn build(shop_id: &str, fields: &Value, http: HttpSettings) -> Result<AnyClient, BuildError> {
    let s = Credentials::read(fields)?;
    let creds = super::Qoo10Credentials { api_key: s.api_key, user_id: s.user_id, password: s.password };
    let config = http.config(s.endpoint.as_deref().unwrap_or(super::client::PRODUCTION_BASE_URL));
    let client = super::Qoo10Client::new(config, creds, shop_id)
        .map_err(|source| BuildError::http(super::POLICY.marketplace, source))?;
    Ok(AnyClient::new(client))
}
