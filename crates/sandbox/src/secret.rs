//! What an operator would store in the pair's SSM SecureString parameter for a sandbox: its credentials, with its base
//! URL as the endpoint. The demo and the tests write these so the puller builds its client from a
//! secret exactly as in production.

use ichigen_core::Marketplace;
use serde_json::json;

use crate::{SandboxConfig, Started};

/// Starts the sandbox of `marketplace` (`csv` has none: an error).
pub async fn start(marketplace: Marketplace, config: SandboxConfig) -> std::io::Result<Started> {
    match marketplace {
        Marketplace::Rakuten => crate::rakuten::start(config).await,
        Marketplace::Yahoo => crate::yahoo::start(config).await,
        Marketplace::Amazon => crate::amazon::start(config).await,
        Marketplace::Aupay => crate::aupay::start(config).await,
        Marketplace::Qoo10 => crate::qoo10::start(config).await,
        Marketplace::Csv => Err(std::io::Error::other("csv orders are imported, there is no sandbox API")),
    }
}

fn cred(s: &Started, name: &str) -> String {
    s.credentials.iter().find(|(n, _)| *n == name).map(|(_, v)| v.clone()).unwrap_or_default()
}

/// The secret JSON (see docs/MARKETPLACES.md, "Secret format") for sandbox `s` of `marketplace`.
pub fn secret_json(marketplace: Marketplace, s: &Started) -> String {
    let base = s.base_url();
    let secret = match marketplace {
        Marketplace::Rakuten => json!({
            "marketplace": "rakuten",
            "service_secret": cred(s, "serviceSecret"),
            "license_key": cred(s, "licenseKey"),
            "endpoint": base,
        }),
        Marketplace::Yahoo => json!({
            "marketplace": "yahoo",
            "seller_id": cred(s, "seller_id"),
            "client_id": cred(s, "client_id"),
            "client_secret": cred(s, "client_secret"),
            "refresh_token": cred(s, "refresh_token"),
            "public_key_pem": cred(s, "public_key_pem"),
            "key_version": cred(s, "key_version"),
            "endpoint": base,
            "token_endpoint": cred(s, "token_url"),
        }),
        Marketplace::Amazon => json!({
            "marketplace": "amazon",
            "client_id": cred(s, "client_id"),
            "client_secret": cred(s, "client_secret"),
            "refresh_token": cred(s, "refresh_token"),
            "marketplace_id": cred(s, "marketplace_id"),
            "seller_id": cred(s, "seller_id"),
            "endpoint": base,
            "lwa_endpoint": base,
        }),
        Marketplace::Aupay => json!({
            "marketplace": "aupay",
            "api_key": cred(s, "apiKey"),
            "shop_id": cred(s, "shopId"),
            "endpoint": base,
        }),
        Marketplace::Qoo10 | Marketplace::Csv => json!({
            "marketplace": "qoo10",
            "api_key": cred(s, "api_key"),
            "user_id": cred(s, "user_id"),
            "password": cred(s, "password"),
            "endpoint": base,
        }),
    };
    secret.to_string()
}
