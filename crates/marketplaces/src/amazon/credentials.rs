//! Amazon SP-API credentials as the operator stores them, and the client built from them.

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::Value;

use crate::client::{AnyClient, BuildError, HttpSettings};
use crate::secret::{CredentialFields, SecretError, endpoint, filled, secret};

/// Amazon SP-API: the seller app's Login with Amazon credentials.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Credentials {
    /// LWA client id (`amzn1.application-oa2-client.…`; not secret).
    pub client_id: String,
    /// LWA client secret.
    #[serde(deserialize_with = "secret")]
    pub client_secret: SecretString,
    /// The seller's refresh token (`Atzr|…`).
    #[serde(deserialize_with = "secret")]
    pub refresh_token: SecretString,
    /// Marketplace id; Amazon.co.jp by default.
    #[serde(default = "japan")]
    pub marketplace_id: String,
    /// SP-API base URL instead of the Far East production one.
    #[serde(default)]
    pub endpoint: Option<String>,
    /// LWA base URL (the token path is appended) instead of the production one.
    #[serde(default)]
    pub lwa_endpoint: Option<String>,
    /// The seller's id (merchant token, Seller Central → 出品者情報): the Listings Items API
    /// names it in every path, so stock is written only where it is set.
    #[serde(default)]
    pub seller_id: Option<String>,
}

impl CredentialFields for Credentials {
    const MARKETPLACE: &'static str = "amazon";
    const FIELDS: &'static [&'static str] =
        &["client_id", "client_secret", "refresh_token", "marketplace_id", "endpoint", "lwa_endpoint", "seller_id"];

    fn validate(&self) -> Result<(), SecretError> {
        filled("client_id", &self.client_id)?;
        filled("client_secret", self.client_secret.expose_secret())?;
        filled("refresh_token", self.refresh_token.expose_secret())?;
        filled("marketplace_id", &self.marketplace_id)?;
        endpoint("endpoint", &self.endpoint)?;
        endpoint("lwa_endpoint", &self.lwa_endpoint)
    }
}

/// The client for `shop_id` from the secret's fields.
pub(crate) fn build(shop_id: &str, fields: &Value, http: HttpSettings) -> Result<AnyClient, BuildError> {
    let s = Credentials::read(fields)?;
    let config = super::client::AmazonConfig {
        http: http.config(s.endpoint.as_deref().unwrap_or(super::client::SP_API_BASE_URL)),
        lwa_base_url: s.lwa_endpoint.unwrap_or_else(|| super::client::LWA_BASE_URL.to_owned()),
        marketplace_id: s.marketplace_id.trim().to_owned(),
        seller_id: s.seller_id.map(|id| id.trim().to_owned()).filter(|id| !id.is_empty()),
        ..super::client::AmazonConfig::new(shop_id)
    };
    let creds = super::client::AmazonCredentials {
        client_id: s.client_id.trim().to_owned(),
        client_secret: s.client_secret,
        refresh_token: s.refresh_token,
    };
    let client = super::client::AmazonClient::new(config, creds)
        .map_err(|source| BuildError::setup(super::POLICY.marketplace, source))?;
    Ok(AnyClient::new(client))
}

fn japan() -> String {
    super::codes::MARKETPLACE_ID_JP.to_owned()
}
