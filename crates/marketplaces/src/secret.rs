//! The credentials of one shop × marketplace, as an operator stores them in the shop's secret
//! (JSON, tagged by `"marketplace"`; the format of each is in `docs/MARKETPLACES.md`).
//!
//! Secret values are held as [`SecretString`]: `Debug` shows `[REDACTED]`, and no error of this
//! module repeats any text of the secret: errors name the field, never its value.

use std::fmt;

use ichigen_core::Marketplace;
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use serde_json::Value;

use crate::amazon::codes::MARKETPLACE_ID_JP;

/// The secret of one shop × marketplace: exactly the credentials that marketplace's client needs,
/// plus optional endpoint overrides (sandboxes, tests).
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "marketplace", rename_all = "lowercase")]
pub enum MarketplaceSecret {
    /// 楽天市場 RMS.
    Rakuten(RakutenSecret),
    /// Yahoo!ショッピング.
    Yahoo(YahooSecret),
    /// Amazon.co.jp SP-API.
    Amazon(AmazonSecret),
    /// au PAY マーケット.
    Aupay(AupaySecret),
    /// Qoo10.
    Qoo10(Qoo10Secret),
}

/// 楽天 RMS: the ESA key pair.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RakutenSecret {
    /// `serviceSecret` (SP…).
    #[serde(deserialize_with = "secret")]
    pub service_secret: SecretString,
    /// `licenseKey` (SL…; renewed every 3 months).
    #[serde(deserialize_with = "secret")]
    pub license_key: SecretString,
    /// Base URL instead of the production one.
    #[serde(default)]
    pub endpoint: Option<String>,
}

/// Yahoo!ショッピング: the YConnect application, its refresh token, and the store's signature key.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct YahooSecret {
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

/// Amazon SP-API: the seller app's Login with Amazon credentials.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AmazonSecret {
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
}

/// au PAY マーケット: the Wow!manager API key and the shop's 店舗ID.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AupaySecret {
    /// API key issued in Wow!manager (valid about 90 days).
    #[serde(deserialize_with = "secret")]
    pub api_key: SecretString,
    /// The API's `shopId` (店舗ID, numeric), as text or a number.
    #[serde(deserialize_with = "secret_or_number")]
    pub shop_id: SecretString,
    /// Base URL instead of the production one.
    #[serde(default)]
    pub endpoint: Option<String>,
}

/// Qoo10: the QAPI key and the QSM login that certifies the seller.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Qoo10Secret {
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

const MARKETPLACES: &str = "is not one of rakuten, yahoo, amazon, aupay, qoo10";
const RAKUTEN_FIELDS: &[&str] = &["marketplace", "service_secret", "license_key", "endpoint"];
const YAHOO_FIELDS: &[&str] = &[
    "marketplace",
    "seller_id",
    "client_id",
    "client_secret",
    "refresh_token",
    "public_key_pem",
    "key_version",
    "endpoint",
    "token_endpoint",
];
const AMAZON_FIELDS: &[&str] =
    &["marketplace", "client_id", "client_secret", "refresh_token", "marketplace_id", "endpoint", "lwa_endpoint"];
const AUPAY_FIELDS: &[&str] = &["marketplace", "api_key", "shop_id", "endpoint"];
const QOO10_FIELDS: &[&str] = &["marketplace", "api_key", "user_id", "password", "endpoint"];

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
        let rest = Value::Object(fields);
        let secret = match tag.as_str() {
            "rakuten" => MarketplaceSecret::Rakuten(variant("rakuten", rest, RAKUTEN_FIELDS)?),
            "yahoo" => MarketplaceSecret::Yahoo(variant("yahoo", rest, YAHOO_FIELDS)?),
            "amazon" => MarketplaceSecret::Amazon(variant("amazon", rest, AMAZON_FIELDS)?),
            "aupay" => MarketplaceSecret::Aupay(variant("aupay", rest, AUPAY_FIELDS)?),
            "qoo10" => MarketplaceSecret::Qoo10(variant("qoo10", rest, QOO10_FIELDS)?),
            _ => return Err(SecretError::Invalid { field: "marketplace", problem: MARKETPLACES }),
        };
        secret.validate()?;
        Ok(secret)
    }

    /// Which marketplace the credentials are for.
    pub fn marketplace(&self) -> Marketplace {
        match self {
            MarketplaceSecret::Rakuten(_) => Marketplace::Rakuten,
            MarketplaceSecret::Yahoo(_) => Marketplace::Yahoo,
            MarketplaceSecret::Amazon(_) => Marketplace::Amazon,
            MarketplaceSecret::Aupay(_) => Marketplace::Aupay,
            MarketplaceSecret::Qoo10(_) => Marketplace::Qoo10,
        }
    }

    /// Checks what typing cannot: required fields are not blank, endpoints are URLs (plain
    /// `http://` only on the loopback interface, so credentials never cross a network unencrypted).
    pub fn validate(&self) -> Result<(), SecretError> {
        match self {
            MarketplaceSecret::Rakuten(s) => {
                filled("service_secret", s.service_secret.expose_secret())?;
                filled("license_key", s.license_key.expose_secret())?;
                endpoint("endpoint", &s.endpoint)
            }
            MarketplaceSecret::Yahoo(s) => {
                filled("seller_id", &s.seller_id)?;
                filled("client_id", &s.client_id)?;
                filled("client_secret", s.client_secret.expose_secret())?;
                filled("refresh_token", s.refresh_token.expose_secret())?;
                filled("public_key_pem", s.public_key_pem.expose_secret())?;
                filled("key_version", &s.key_version)?;
                endpoint("endpoint", &s.endpoint)?;
                endpoint("token_endpoint", &s.token_endpoint)
            }
            MarketplaceSecret::Amazon(s) => {
                filled("client_id", &s.client_id)?;
                filled("client_secret", s.client_secret.expose_secret())?;
                filled("refresh_token", s.refresh_token.expose_secret())?;
                filled("marketplace_id", &s.marketplace_id)?;
                endpoint("endpoint", &s.endpoint)?;
                endpoint("lwa_endpoint", &s.lwa_endpoint)
            }
            MarketplaceSecret::Aupay(s) => {
                filled("api_key", s.api_key.expose_secret())?;
                filled("shop_id", s.shop_id.expose_secret())?;
                endpoint("endpoint", &s.endpoint)
            }
            MarketplaceSecret::Qoo10(s) => {
                filled("api_key", s.api_key.expose_secret())?;
                filled("user_id", s.user_id.expose_secret())?;
                filled("password", s.password.expose_secret())?;
                endpoint("endpoint", &s.endpoint)
            }
        }
    }
}

/// Deserialises one variant's fields, turning serde's errors (whose messages can quote values)
/// into errors that name a field of `fields` only.
fn variant<T: DeserializeOwned>(
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

fn filled(field: &'static str, value: &str) -> Result<(), SecretError> {
    if value.trim().is_empty() { Err(SecretError::Empty { field }) } else { Ok(()) }
}

fn endpoint(field: &'static str, url: &Option<String>) -> Result<(), SecretError> {
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

fn japan() -> String {
    MARKETPLACE_ID_JP.to_owned()
}

fn secret<'de, D: Deserializer<'de>>(d: D) -> Result<SecretString, D::Error> {
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

fn text_or_number<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    TextOrNumber::deserialize(d).map(|v| v.to_string())
}

fn secret_or_number<'de, D: Deserializer<'de>>(d: D) -> Result<SecretString, D::Error> {
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
            // The derived, tagged serde form reads the same JSON.
            let derived: MarketplaceSecret = serde_json::from_str(json).unwrap();
            assert_eq!(derived.marketplace(), marketplace);
        }
        let MarketplaceSecret::Amazon(a) = MarketplaceSecret::from_json(
            r#"{"marketplace":"amazon","client_id":"c","client_secret":"s","refresh_token":"r"}"#,
        )
        .unwrap() else {
            panic!("not amazon")
        };
        assert_eq!(a.marketplace_id, "A1VC38T7YXB528");
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
