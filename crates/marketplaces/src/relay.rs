//! The `mail_relay` object a shop adds to its marketplace credentials (楽天, au PAY マーケット):
//! the marketplace's SMTP relay for its buyer mails. Read here once; each marketplace's folder
//! names its default host, if it has one (docs/DEPLOY.md shows the JSON).

use ichigen_core::pipeline::route::SUBMISSION_PORT;
use ichigen_core::pipeline::{RelayPassword, RelaySettings};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::Value;

use crate::secret::{SecretError, read, secret};

/// The credentials field holding the relay settings.
pub const FIELD: &str = "mail_relay";

const FIELDS: &[&str] = &["host", "port", "auth_id", "password", "from", "ca_pem"];

/// The relay object as stored.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Fields {
    #[serde(default)]
    host: Option<String>,
    #[serde(default)]
    port: Option<u16>,
    auth_id: String,
    #[serde(deserialize_with = "secret")]
    password: SecretString,
    from: String,
    #[serde(default)]
    ca_pem: Option<String>,
}

/// Reads and checks a `mail_relay` object; `default_host` fills a missing `host` (none: required).
pub(crate) fn read_relay(
    marketplace: &'static str,
    value: &Value,
    default_host: Option<&str>,
) -> Result<RelaySettings, SecretError> {
    let f: Fields = read(marketplace, value.clone(), FIELDS)?;
    let host = match (f.host, default_host) {
        (Some(h), _) => h.trim().to_string(),
        (None, Some(d)) => d.to_string(),
        (None, None) => return Err(SecretError::Missing { field: "host" }),
    };
    let settings = RelaySettings {
        host,
        port: f.port.unwrap_or(SUBMISSION_PORT),
        auth_id: f.auth_id.trim().to_string(),
        password: RelayPassword::new(f.password.expose_secret()),
        from: f.from.trim().to_string(),
        ca_pem: f.ca_pem,
    };
    settings.validate().map_err(|e| SecretError::Invalid { field: e.field, problem: e.problem })?;
    Ok(settings)
}

/// The relay settings in a credentials parameter's JSON text (none when it has no `mail_relay`).
pub fn relay_of_secret(
    text: &str,
) -> Result<Option<RelaySettings>, Box<dyn std::error::Error + Send + Sync + 'static>> {
    Ok(crate::MarketplaceSecret::from_json(text)?.mail_relay()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MarketplaceSecret;
    use ichigen_core::Marketplace;

    #[test]
    fn rakuten_relay_defaults_to_rakutens_server_and_hides_the_password() {
        let json = r#"{"marketplace":"rakuten","service_secret":"s","license_key":"l",
            "mail_relay":{"auth_id":"id-1","password":"hidden-pw","from":"shop@example.jp"}}"#;
        let secret = MarketplaceSecret::from_json(json).unwrap();
        let relay = secret.mail_relay().unwrap().expect("relay settings");
        assert_eq!((relay.host.as_str(), relay.port), ("sub.fw.rakuten.ne.jp", 587));
        assert_eq!(relay.from, "shop@example.jp");
        assert!(!format!("{relay:?}").contains("hidden-pw"));
        let none = MarketplaceSecret::from_json(r#"{"marketplace":"rakuten","service_secret":"s","license_key":"l"}"#);
        assert!(none.unwrap().mail_relay().unwrap().is_none());
    }

    #[test]
    fn a_bad_relay_is_refused_by_field_and_aupay_needs_a_host() {
        let err = |json: &str| MarketplaceSecret::from_json(json).unwrap_err();
        let bad_from = err(r#"{"marketplace":"rakuten","service_secret":"s","license_key":"l",
            "mail_relay":{"auth_id":"id","password":"hidden-pw","from":"hidden nothing"}}"#);
        assert_eq!(bad_from, SecretError::Invalid { field: "from", problem: "is not a mail address" });
        let no_pw = err(r#"{"marketplace":"rakuten","service_secret":"s","license_key":"l",
            "mail_relay":{"auth_id":"id","from":"shop@example.jp"}}"#);
        assert_eq!(no_pw, SecretError::Missing { field: "password" });
        let aupay = err(r#"{"marketplace":"aupay","api_key":"k","shop_id":"1",
            "mail_relay":{"auth_id":"id","password":"p","from":"shop@example.jp"}}"#);
        assert_eq!(aupay, SecretError::Missing { field: "host" });
        let yahoo = err(r#"{"marketplace":"yahoo","seller_id":"s","client_id":"c","client_secret":"cs",
            "refresh_token":"r","public_key_pem":"p","key_version":"1","mail_relay":{}}"#);
        assert!(matches!(yahoo, SecretError::UnknownField { .. }), "{yahoo:?}");
        for e in [bad_from, no_pw] {
            assert!(!e.to_string().contains("hidden"), "{e}");
        }
        let ok = MarketplaceSecret::from_json(
            r#"{"marketplace":"aupay","api_key":"k","shop_id":"1",
            "mail_relay":{"host":"relay.example.jp","port":2525,"auth_id":"id","password":"p","from":"shop@example.jp"}}"#,
        )
        .unwrap();
        assert_eq!(ok.marketplace(), Marketplace::Aupay);
        assert_eq!(ok.mail_relay().unwrap().map(|r| r.port), Some(2525));
    }
}
