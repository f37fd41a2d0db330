//! Any marketplace client behind one type, built from a shop's secret, serving both the
//! [`OrderSource`] contract and the pipeline's [`OrderFeed`] port.

use std::time::Duration;

use chrono::{DateTime, FixedOffset};
use ichigen_core::pipeline::{FeedPage, OrderFeed};
use ichigen_core::{Marketplace, Order, Tracking};

use super::{ClientError, HttpConfig, OrderPage, OrderSource, RetryPolicy, Window};
use crate::amazon::client::{AmazonClient, AmazonConfig, AmazonCredentials, LWA_BASE_URL, SP_API_BASE_URL};
use crate::aupay::{AupayClient, AupayCredentials};
use crate::qoo10::{Qoo10Client, Qoo10Credentials};
use crate::rakuten::RakutenClient;
use crate::secret::{MarketplaceSecret, SecretError};
use crate::yahoo::{YahooClient, YahooCredentials, YahooSetupError};

/// One client of whichever marketplace a shop's secret names.
#[derive(Debug)]
pub enum AnyClient {
    /// 楽天市場.
    Rakuten(RakutenClient),
    /// Yahoo!ショッピング.
    Yahoo(YahooClient),
    /// Amazon.co.jp.
    Amazon(AmazonClient),
    /// au PAY マーケット.
    Aupay(AupayClient),
    /// Qoo10.
    Qoo10(Qoo10Client),
}

impl OrderSource for AnyClient {
    fn marketplace(&self) -> Marketplace {
        match self {
            AnyClient::Rakuten(c) => c.marketplace(),
            AnyClient::Yahoo(c) => c.marketplace(),
            AnyClient::Amazon(c) => c.marketplace(),
            AnyClient::Aupay(c) => c.marketplace(),
            AnyClient::Qoo10(c) => c.marketplace(),
        }
    }

    async fn changed_orders(&self, window: &Window, cursor: Option<&str>) -> Result<OrderPage, ClientError> {
        match self {
            AnyClient::Rakuten(c) => c.changed_orders(window, cursor).await,
            AnyClient::Yahoo(c) => c.changed_orders(window, cursor).await,
            AnyClient::Amazon(c) => c.changed_orders(window, cursor).await,
            AnyClient::Aupay(c) => c.changed_orders(window, cursor).await,
            AnyClient::Qoo10(c) => c.changed_orders(window, cursor).await,
        }
    }

    async fn register_tracking(&self, order: &Order, tracking: &Tracking) -> Result<(), ClientError> {
        match self {
            AnyClient::Rakuten(c) => c.register_tracking(order, tracking).await,
            AnyClient::Yahoo(c) => c.register_tracking(order, tracking).await,
            AnyClient::Amazon(c) => c.register_tracking(order, tracking).await,
            AnyClient::Aupay(c) => c.register_tracking(order, tracking).await,
            AnyClient::Qoo10(c) => c.register_tracking(order, tracking).await,
        }
    }
}

impl OrderFeed for AnyClient {
    type Error = ClientError;

    fn marketplace(&self) -> Marketplace {
        OrderSource::marketplace(self)
    }

    async fn changed_orders(
        &self,
        from: DateTime<FixedOffset>,
        to: DateTime<FixedOffset>,
        cursor: Option<&str>,
    ) -> Result<FeedPage, ClientError> {
        OrderSource::changed_orders(self, &Window { from, to }, cursor).await.map(FeedPage::from)
    }
}

/// HTTP behaviour of a built client; the base URL comes from the secret.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HttpSettings {
    /// Whole-request timeout.
    pub timeout: Duration,
    /// Retry policy for retryable failures.
    pub retry: RetryPolicy,
    /// Multiplies every rate limit (1.0 in production).
    pub rate_scale: f64,
}

impl Default for HttpSettings {
    fn default() -> Self {
        let production = HttpConfig::new("");
        HttpSettings { timeout: production.timeout, retry: production.retry, rate_scale: production.rate_scale }
    }
}

impl HttpSettings {
    /// The full HTTP configuration against `base_url`.
    pub fn config(&self, base_url: &str) -> HttpConfig {
        HttpConfig {
            timeout: self.timeout,
            retry: self.retry,
            rate_scale: self.rate_scale,
            ..HttpConfig::new(base_url)
        }
    }
}

/// Why a client could not be built from a secret. Never carries secret text.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// The shop id is empty.
    #[error("shop id is empty")]
    ShopId,
    /// The secret is incomplete or invalid.
    #[error(transparent)]
    Secret(#[from] SecretError),
    /// The HTTP client could not be built.
    #[error("{marketplace}: HTTP client: {source}")]
    Http {
        /// Which marketplace.
        marketplace: Marketplace,
        /// The HTTP client's error.
        #[source]
        source: reqwest::Error,
    },
    /// The Yahoo signature key is unusable.
    #[error(transparent)]
    Yahoo(#[from] YahooSetupError),
    /// The client refused its configuration.
    #[error(transparent)]
    Client(#[from] ClientError),
}

/// The client of `secret`'s marketplace for `shop_id` (the ichigen shop the orders belong to),
/// against the secret's endpoint or the production one.
pub fn build_client(shop_id: &str, secret: &MarketplaceSecret, http: HttpSettings) -> Result<AnyClient, BuildError> {
    if shop_id.trim().is_empty() {
        return Err(BuildError::ShopId);
    }
    secret.validate()?;
    let marketplace = secret.marketplace();
    let http_error = |source| BuildError::Http { marketplace, source };
    let base = |endpoint: &Option<String>, production: &str| http.config(endpoint.as_deref().unwrap_or(production));
    Ok(match secret {
        MarketplaceSecret::Rakuten(s) => AnyClient::Rakuten(
            RakutenClient::new(
                base(&s.endpoint, crate::rakuten::client::PRODUCTION_BASE_URL),
                shop_id,
                &s.service_secret,
                &s.license_key,
            )
            .map_err(http_error)?,
        ),
        MarketplaceSecret::Yahoo(s) => {
            let creds = YahooCredentials {
                seller_id: s.seller_id.trim().to_owned(),
                client_id: s.client_id.trim().to_owned(),
                client_secret: s.client_secret.clone(),
                refresh_token: s.refresh_token.clone(),
                public_key_pem: s.public_key_pem.clone(),
                key_version: s.key_version.trim().to_owned(),
                token_url: s.token_endpoint.clone().unwrap_or_else(|| crate::yahoo::client::TOKEN_URL.to_owned()),
            };
            AnyClient::Yahoo(YahooClient::new(
                base(&s.endpoint, crate::yahoo::client::PRODUCTION_BASE_URL),
                shop_id,
                creds,
            )?)
        }
        MarketplaceSecret::Amazon(s) => {
            let config = AmazonConfig {
                http: base(&s.endpoint, SP_API_BASE_URL),
                lwa_base_url: s.lwa_endpoint.clone().unwrap_or_else(|| LWA_BASE_URL.to_owned()),
                marketplace_id: s.marketplace_id.trim().to_owned(),
                ..AmazonConfig::new(shop_id)
            };
            let creds = AmazonCredentials {
                client_id: s.client_id.trim().to_owned(),
                client_secret: s.client_secret.clone(),
                refresh_token: s.refresh_token.clone(),
            };
            AnyClient::Amazon(AmazonClient::new(config, creds)?)
        }
        MarketplaceSecret::Aupay(s) => {
            let creds = AupayCredentials { shop_id: s.shop_id.clone(), api_key: s.api_key.clone() };
            AnyClient::Aupay(AupayClient::new(
                base(&s.endpoint, crate::aupay::client::PRODUCTION_BASE_URL),
                shop_id,
                creds,
            )?)
        }
        MarketplaceSecret::Qoo10(s) => {
            let creds = Qoo10Credentials {
                api_key: s.api_key.clone(),
                user_id: s.user_id.clone(),
                password: s.password.clone(),
            };
            AnyClient::Qoo10(
                Qoo10Client::new(base(&s.endpoint, crate::qoo10::client::PRODUCTION_BASE_URL), creds, shop_id)
                    .map_err(http_error)?,
            )
        }
    })
}

#[cfg(test)]
mod tests {
    use ichigen_core::pipeline::Retryable;

    use super::*;

    #[test]
    fn client_errors_say_whether_to_retry() {
        let server =
            ClientError::Server { marketplace: Marketplace::Qoo10, operation: "x", status: 503, code: String::new() };
        let auth = ClientError::Auth {
            marketplace: Marketplace::Qoo10,
            operation: "x",
            code: "-10000".into(),
            message: String::new(),
        };
        assert!(Retryable::is_retryable(&server));
        assert!(!Retryable::is_retryable(&auth));
    }

    #[test]
    fn each_secret_builds_its_marketplace_client_and_debug_hides_it() {
        let secrets = [
            r#"{"marketplace":"rakuten","service_secret":"SP-fake-1","license_key":"SL-fake-2"}"#,
            r#"{"marketplace":"amazon","client_id":"amzn1.application-oa2-client.fake","client_secret":"fake-3","refresh_token":"Atzr|fake-4"}"#,
            r#"{"marketplace":"aupay","api_key":"fake-5","shop_id":"12345678"}"#,
            r#"{"marketplace":"qoo10","api_key":"fake-6","user_id":"fake-7","password":"fake-8"}"#,
        ];
        for json in secrets {
            let secret = MarketplaceSecret::from_json(json).unwrap();
            let client = build_client("shop-1", &secret, HttpSettings::default()).unwrap();
            assert_eq!(OrderSource::marketplace(&client), secret.marketplace());
            assert_eq!(OrderFeed::marketplace(&client), secret.marketplace());
            let shown = format!("{client:?}");
            assert!(!shown.contains("fake-") && !shown.contains("12345678"), "{shown}");
        }
        let secret = MarketplaceSecret::from_json(secrets[0]).unwrap();
        assert!(matches!(build_client(" ", &secret, HttpSettings::default()), Err(BuildError::ShopId)));
    }

    #[test]
    fn a_yahoo_key_that_is_no_key_is_refused_by_name() {
        let json = r#"{"marketplace":"yahoo","seller_id":"s","client_id":"c","client_secret":"fake-9",
            "refresh_token":"fake-10","public_key_pem":"not a key","key_version":"1"}"#;
        let secret = MarketplaceSecret::from_json(json).unwrap();
        let err = build_client("shop-1", &secret, HttpSettings::default()).unwrap_err();
        assert!(matches!(err, BuildError::Yahoo(YahooSetupError::PublicKey)), "{err}");
        assert!(!err.to_string().contains("not a key"));
    }
}
