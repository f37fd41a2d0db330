//! The credentials of one shop × marketplace, as an operator stores them (JSON, tagged by
//! `"marketplace"`; the format of each is in `docs/MARKETPLACES.md`). The tag picks the
//! marketplace's registration; its own folder reads and checks the rest (`<marketplace>/credentials.rs`).
//!
//! Secret values never show: `Debug` names the marketplace only, and no error of this module
//! repeats any text of the secret: errors name the field, never its value.

use std::fmt;

use ichigen_core::Marketplace;
use ichigen_core::pipeline::CredentialUpdate;
use secrecy::SecretString;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use serde_json::Value;

use crate::registry::{REGISTRY, Registration};

/// The secret of one shop × marketplace, read and checked by its marketplace's folder.
#[derive(Clone)]
pub struct MarketplaceSecret {
    registration: &'static Registration,
    /// The fields besides the tag. Secret text: never shown.
    fields: Value,
}

impl fmt::Debug for MarketplaceSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MarketplaceSecret").field("marketplace", &self.marketplace()).finish_non_exhaustive()
    }
}

/// Why a secret could not be read. Names fields, never values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    /// Not JSON at all.
    #[error("marketplace secret is not JSON (line {line}, column {column})")]
    NotJson {
        /// Line of the syntax error.
        line: usize,
        /// Column of the syntax error.
        column: usize,
    },
    /// JSON, but not an object.
    #[error("marketplace secret is not a JSON object")]
    NotObject,
    /// A required field is absent.
    #[error("marketplace secret: field {field} is missing")]
    Missing {
        /// The field.
        field: &'static str,
    },
    /// A required field is empty or blank.
    #[error("marketplace secret: field {field} is empty")]
    Empty {
        /// The field.
        field: &'static str,
    },
    /// A field holds the wrong JSON type (e.g. an object where text belongs).
    #[error("marketplace secret: field {field} has the wrong type")]
    WrongType {
        /// The field.
        field: &'static str,
    },
    /// A field's value is not acceptable.
    #[error("marketplace secret: field {field} {problem}")]
    Invalid {
        /// The field.
        field: &'static str,
        /// What is wrong.
        problem: &'static str,
    },
    /// A field that this marketplace's secret does not have (a typo, or another marketplace's).
    #[error("marketplace secret for {marketplace}: a field is not one of: {}", .expected.join(", "))]
    UnknownField {
        /// The `marketplace` tag.
        marketplace: &'static str,
        /// The fields it may have.
        expected: &'static [&'static str],
    },
}

impl MarketplaceSecret {
    /// Reads and checks a secret's JSON text.
    pub fn from_json(text: &str) -> Result<MarketplaceSecret, SecretError> {
        let value: Value =
            serde_json::from_str(text).map_err(|e| SecretError::NotJson { line: e.line(), column: e.column() })?;
        let Value::Object(mut fields) = value else { return Err(SecretError::NotObject) };
        let tag = match fields.remove("marketplace") {
            None => return Err(SecretError::Missing { field: "marketplace" }),
            Some(Value::String(tag)) => tag,
            Some(_) => return Err(SecretError::WrongType { field: "marketplace" }),
        };
        let registration = REGISTRY
            .iter()
            .copied()
            .find(|r| r.policy.marketplace.as_str() == tag)
            .ok_or(SecretError::Invalid { field: "marketplace", problem: MARKETPLACES })?;
        let fields = Value::Object(fields);
        (registration.check_secret)(&fields)?;
        Ok(MarketplaceSecret { registration, fields })
    }

    /// Which marketplace the credentials are for.
    pub fn marketplace(&self) -> Marketplace {
        self.registration.policy.marketplace
    }

    /// The secret's JSON `text` with `update` applied (a credential the marketplace rotated), to
    /// be stored in its place; checked as [`MarketplaceSecret::from_json`] checks it.
    pub fn updated_json(text: &str, update: &CredentialUpdate) -> Result<SecretString, SecretError> {
        let mut value: Value =
            serde_json::from_str(text).map_err(|e| SecretError::NotJson { line: e.line(), column: e.column() })?;
        let Value::Object(fields) = &mut value else { return Err(SecretError::NotObject) };
        if !fields.contains_key(update.field) {
            return Err(SecretError::Missing { field: update.field });
        }
        fields.insert(update.field.to_owned(), Value::String(update.expose_value().to_owned()));
        let updated = value.to_string();
        MarketplaceSecret::from_json(&updated)?;
        Ok(SecretString::from(updated))
    }

    /// The marketplace's mail relay settings (`mail_relay`, 楽天 and au PAY マーケット), if stored.
    pub fn mail_relay(&self) -> Result<Option<ichigen_core::pipeline::RelaySettings>, SecretError> {
        match self.marketplace() {
            Marketplace::Rakuten => crate::rakuten::credentials::Credentials::read(&self.fields)?.relay(),
            Marketplace::Aupay => crate::aupay::credentials::Credentials::read(&self.fields)?.relay(),
            _ => Ok(None),
        }
    }

    /// The marketplace's registration (its client constructor).
    pub(crate) fn registration(&self) -> &'static Registration {
        self.registration
    }

    /// The fields besides the tag.
    pub(crate) fn fields(&self) -> &Value {
        &self.fields
    }
}

const MARKETPLACES: &str = "is not one of the registered marketplaces (rakuten, yahoo, amazon, aupay, qoo10)";

/// A marketplace's credential fields, as its folder declares them (`<marketplace>/credentials.rs`).
pub(crate) trait CredentialFields: DeserializeOwned {
    /// The `marketplace` tag.
    const MARKETPLACE: &'static str;
    /// The fields the secret may have besides the tag.
    const FIELDS: &'static [&'static str];

    /// Checks what typing cannot: required fields are not blank, endpoints are URLs.
    fn validate(&self) -> Result<(), SecretError>;

    /// Reads and checks the secret's fields (after the tag).
    fn read(fields: &Value) -> Result<Self, SecretError> {
        let creds: Self = read(Self::MARKETPLACE, fields.clone(), Self::FIELDS)?;
        creds.validate()?;
        Ok(creds)
    }

    /// Checks the secret's fields.
    fn check(fields: &Value) -> Result<(), SecretError> {
        Self::read(fields).map(drop)
    }
}

/// Deserialises one marketplace's credential fields, turning serde's errors (whose messages can quote values)
/// into errors that name a field of `fields` only.
pub(crate) fn read<T: DeserializeOwned>(
    marketplace: &'static str,
    value: Value,
    fields: &'static [&'static str],
) -> Result<T, SecretError> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let known = |name: &str| fields.iter().copied().find(|f| *f == name);
        let message = e.inner().to_string();
        if let Some(field) = message.strip_prefix("missing field `").and_then(|r| r.split('`').next()).and_then(known) {
            return SecretError::Missing { field };
        }
        if message.starts_with("unknown field `") {
            return SecretError::UnknownField { marketplace, expected: fields };
        }
        let field = e.path().iter().find_map(|seg| match seg {
            serde_path_to_error::Segment::Map { key } => known(key),
            _ => None,
        });
        SecretError::WrongType { field: field.unwrap_or("?") }
    })
}

/// A required text that is not blank.
pub(crate) fn filled(field: &'static str, value: &str) -> Result<(), SecretError> {
    if value.trim().is_empty() { Err(SecretError::Empty { field }) } else { Ok(()) }
}

/// An optional endpoint override: an http(s) URL, plain http only on the loopback interface.
pub(crate) fn endpoint(field: &'static str, url: &Option<String>) -> Result<(), SecretError> {
    let Some(url) = url else { return Ok(()) };
    let invalid = |problem| Err(SecretError::Invalid { field, problem });
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return invalid("contains spaces or control characters");
    }
    let (https, rest) = match (url.strip_prefix("https://"), url.strip_prefix("http://")) {
        (Some(rest), _) => (true, rest),
        (None, Some(rest)) => (false, rest),
        (None, None) => return invalid("is not an http:// or https:// URL"),
    };
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if host.is_empty() {
        return invalid("has no host");
    }
    let name = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => host.rsplit_once(':').map_or(host, |(name, _)| name),
    };
    if !https && !matches!(name, "127.0.0.1" | "localhost" | "::1") {
        return invalid("must be https:// (plain http:// only for 127.0.0.1 or localhost)");
    }
    Ok(())
}

/// A secret text field.
pub(crate) fn secret<'de, D: Deserializer<'de>>(d: D) -> Result<SecretString, D::Error> {
    String::deserialize(d).map(SecretString::from)
}

/// Text given as a JSON string or number (`"1"` or `1`).
#[derive(Deserialize)]
#[serde(untagged)]
enum TextOrNumber {
    Text(String),
    Number(serde_json::Number),
}

impl fmt::Display for TextOrNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TextOrNumber::Text(s) => f.write_str(s),
            TextOrNumber::Number(n) => write!(f, "{n}"),
        }
    }
}

/// Text given as a string or a number.
pub(crate) fn text_or_number<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    TextOrNumber::deserialize(d).map(|v| v.to_string())
}

/// Secret text given as a string or a number.
pub(crate) fn secret_or_number<'de, D: Deserializer<'de>>(d: D) -> Result<SecretString, D::Error> {
    text_or_number(d).map(SecretString::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_marketplace_reads_and_debug_hides_the_secrets() {
        let cases = [
            (
                r#"{"marketplace":"rakuten","service_secret":"SP000000_fake-secret","license_key":"SL000000_fake-license"}"#,
                Marketplace::Rakuten,
                vec!["fake-secret", "fake-license"],
            ),
            (
                r#"{"marketplace":"yahoo","seller_id":"example-store","client_id":"dj00-fake","client_secret":"fake-client-secret",
                    "refresh_token":"fake-refresh","public_key_pem":"-----BEGIN PUBLIC KEY-----\nfake-pem\n-----END PUBLIC KEY-----\n",
                    "key_version":1}"#,
                Marketplace::Yahoo,
                vec!["fake-client-secret", "fake-refresh", "fake-pem"],
            ),
            (
                r#"{"marketplace":"amazon","client_id":"amzn1.application-oa2-client.fake","client_secret":"fake-lwa-secret",
                    "refresh_token":"Atzr|fake-refresh"}"#,
                Marketplace::Amazon,
                vec!["fake-lwa-secret", "fake-refresh"],
            ),
            (
                r#"{"marketplace":"aupay","api_key":"fake-aupay-key","shop_id":12345678}"#,
                Marketplace::Aupay,
                vec!["fake-aupay-key", "12345678"],
            ),
            (
                r#"{"marketplace":"qoo10","api_key":"fake-qapi-key","user_id":"fake-login","password":"fake-password",
                    "endpoint":"http://127.0.0.1:8080"}"#,
                Marketplace::Qoo10,
                vec!["fake-qapi-key", "fake-login", "fake-password"],
            ),
        ];
        for (json, marketplace, hidden) in cases {
            let secret = MarketplaceSecret::from_json(json).unwrap();
            assert_eq!(secret.marketplace(), marketplace);
            let shown = format!("{secret:?}");
            for value in hidden {
                assert!(!shown.contains(value), "{marketplace}: {shown}");
            }
        }
    }

    #[test]
    fn errors_name_the_field_and_never_the_value() {
        let err = |json: &str| MarketplaceSecret::from_json(json).unwrap_err();
        assert_eq!(
            err(r#"{"marketplace":"rakuten","service_secret":"SP-hidden-1"}"#),
            SecretError::Missing { field: "license_key" }
        );
        assert_eq!(err(r#"{"service_secret":"SP-hidden-1"}"#), SecretError::Missing { field: "marketplace" });
        assert_eq!(
            err(r#"{"marketplace":"rakuten","service_secret":"SP-hidden-1","license_key":"  "}"#),
            SecretError::Empty { field: "license_key" }
        );
        let wrong = err(r#"{"marketplace":"qoo10","api_key":{"k":"hidden-2"},"user_id":"u","password":"p"}"#);
        assert_eq!(wrong, SecretError::WrongType { field: "api_key" });
        let unknown = err(r#"{"marketplace":"aupay","api_key":"k","shop_id":"1","hidden-3":"x"}"#);
        assert!(matches!(unknown, SecretError::UnknownField { marketplace: "aupay", .. }), "{unknown:?}");
        assert_eq!(
            err(r#"{"marketplace":"ebay","token":"hidden-4"}"#),
            SecretError::Invalid { field: "marketplace", problem: MARKETPLACES }
        );
        let plain =
            err(r#"{"marketplace":"rakuten","service_secret":"s","license_key":"l","endpoint":"http://example.com"}"#);
        assert!(matches!(plain, SecretError::Invalid { field: "endpoint", .. }), "{plain:?}");
        let not_json = err(r#"{"marketplace":"rakuten","service_secret":"hidden-5"#);
        assert!(matches!(not_json, SecretError::NotJson { .. }));
        for e in [wrong, unknown, not_json, err("[\"hidden-6\"]")] {
            let text = e.to_string();
            assert!(!text.contains("hidden"), "{text}");
        }
    }

    #[test]
    fn the_documented_examples_read() {
        let doc = include_str!("../../../docs/MARKETPLACES.md");
        let section = doc.split("## Secret format").nth(1).unwrap();
        let examples: Vec<&str> =
            section.split("```json").skip(1).filter_map(|block| block.split("```").next()).collect();
        let read: Vec<Marketplace> =
            examples.iter().map(|json| MarketplaceSecret::from_json(json).unwrap().marketplace()).collect();
        assert_eq!(
            read,
            [Marketplace::Rakuten, Marketplace::Yahoo, Marketplace::Amazon, Marketplace::Aupay, Marketplace::Qoo10]
        );
    }

    #[test]
    fn a_rotated_credential_replaces_its_field_only() {
        let text = r#"{"marketplace":"yahoo","seller_id":"s","client_id":"c","client_secret":"cs",
            "refresh_token":"old-token","public_key_pem":"pem","key_version":"1"}"#;
        let update = CredentialUpdate::new("refresh_token", "new-token".into(), None);
        let updated = MarketplaceSecret::updated_json(text, &update).unwrap();
        let v: Value = serde_json::from_str(secrecy::ExposeSecret::expose_secret(&updated)).unwrap();
        assert_eq!(v["refresh_token"], "new-token");
        assert_eq!((v["client_secret"].as_str(), v["marketplace"].as_str()), (Some("cs"), Some("yahoo")));
        let unknown = CredentialUpdate::new("password", "x".into(), None);
        assert_eq!(
            MarketplaceSecret::updated_json(text, &unknown).unwrap_err(),
            SecretError::Missing { field: "password" }
        );
    }

    #[test]
    fn endpoints_are_checked() {
        let ok = |u: &str| endpoint("endpoint", &Some(u.to_owned())).is_ok();
        assert!(ok("https://api.rms.rakuten.co.jp"));
        assert!(ok("http://127.0.0.1:4010"));
        assert!(ok("http://localhost:4010/"));
        assert!(ok("http://[::1]:4010"));
        assert!(!ok("http://10.0.0.1"));
        assert!(!ok("ftp://x"));
        assert!(!ok("https://"));
        assert!(!ok("https://a b"));
    }
}
