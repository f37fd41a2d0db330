//! Yahoo!ショッピング credentials as the operator stores them, and the client built from them.

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::Value;

use crate::client::{AnyClient, BuildError, HttpSettings};
use crate::secret::{CredentialFields, SecretError, endpoint, filled, secret, text_or_number};

/// The field of the refresh token, which YConnect may rotate (saved back by the puller).
pub(crate) const REFRESH_TOKEN: &str = "refresh_token";

/// Yahoo!ショッピング: the YConnect application, its refresh token, and the store's signature key.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Credentials {
    /// ストアアカウント (seller id).
    pub seller_id: String,
    /// YConnect Client ID (application id).
    pub client_id: String,
    /// YConnect client secret.
    #[serde(deserialize_with = "secret")]
    pub client_secret: SecretString,
    /// Refresh token of the store's authorization.
    #[serde(deserialize_with = "secret")]
    pub refresh_token: SecretString,
    /// The public key from ストアクリエイターPro (PEM) that encrypts `X-sws-signature`.
    #[serde(deserialize_with = "secret")]
    pub public_key_pem: SecretString,
    /// The key's version (`X-sws-signature-version`), as text or a number.
    #[serde(deserialize_with = "text_or_number")]
    pub key_version: String,
    /// Base URL of the order API instead of the production one.
    #[serde(default)]
    pub endpoint: Option<String>,
    /// Full URL of the YConnect token endpoint instead of the production one.
    #[serde(default)]
    pub token_endpoint: Option<String>,
}

impl CredentialFields for Credentials {
    const MARKETPLACE: &'static str = "yahoo";
    const FIELDS: &'static [&'static str] = &[
        "seller_id",
        "client_id",
        "client_secret",
        REFRESH_TOKEN,
        "public_key_pem",
        "key_version",
        "endpoint",
        "token_endpoint",
    ];

    fn validate(&self) -> Result<(), SecretError> {
        filled("seller_id", &self.seller_id)?;
        filled("client_id", &self.client_id)?;
        filled("client_secret", self.client_secret.expose_secret())?;
        filled("refresh_token", self.refresh_token.expose_secret())?;
        filled("public_key_pem", self.public_key_pem.expose_secret())?;
        filled("key_version", &self.key_version)?;
        endpoint("endpoint", &self.endpoint)?;
        endpoint("token_endpoint", &self.token_endpoint)
    }
}

/// The client for `shop_id` from the secret's fields.
pub(crate) fn build(shop_id: &str, fields: &Value, http: HttpSettings) -> Result<AnyClient, BuildError> {
    let s = Credentials::read(fields)?;
    let creds = super::YahooCredentials {
        seller_id: s.seller_id.trim().to_owned(),
        client_id: s.client_id.trim().to_owned(),
        client_secret: s.client_secret,
        refresh_token: s.refresh_token,
        public_key_pem: s.public_key_pem,
        key_version: s.key_version.trim().to_owned(),
        token_url: s.token_endpoint.unwrap_or_else(|| super::client::TOKEN_URL.to_owned()),
    };
    let config = http.config(s.endpoint.as_deref().unwrap_or(super::client::PRODUCTION_BASE_URL));
    let client = super::YahooClient::new(config, shop_id, creds)
        .map_err(|source| BuildError::setup(super::POLICY.marketplace, source))?;
    Ok(AnyClient::new(client))
}
