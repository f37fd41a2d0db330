//! Any marketplace client behind one type, built from a shop's secret by the marketplace's own
//! registration; it serves the pipeline's [`OrderSource`] contract and the stock use case's
//! [`MallStock`] port, forwarding both to the one marketplace client inside (so a stock call
//! shares that client's key and rate buckets with its order calls).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use chrono::NaiveDate;
use ichigen_core::pipeline::{
    Acknowledged, CredentialHealth, CredentialUpdate, KnownExpiry, KnownVersions, OrderPage, OrderSource, Window,
};
use ichigen_core::stock::mall::{ItemSet, ItemShown, MallStock, Quantity};
use ichigen_core::{Marketplace, Order, Tracking};

use super::{ClientError, HttpConfig, RetryPolicy};
use crate::secret::{MarketplaceSecret, SecretError};

type Boxed<'a, T> = Pin<Box<dyn Future<Output = Result<T, ClientError>> + Send + 'a>>;

/// [`OrderSource`] and [`MallStock`] in a form that can sit behind a pointer (futures boxed).
trait DynSource: Send + Sync + fmt::Debug {
    fn marketplace(&self) -> Marketplace;
    fn changed_orders<'a>(&'a self, window: &'a Window, cursor: Option<&'a str>) -> Boxed<'a, OrderPage>;
    fn changed_orders_skipping<'a>(
        &'a self,
        window: &'a Window,
        cursor: Option<&'a str>,
        known: &'a KnownVersions,
    ) -> Boxed<'a, OrderPage>;
    fn max_ids_per_call(&self) -> usize;
    fn orders_by_id<'a>(&'a self, ids: &'a [String]) -> Boxed<'a, OrderPage>;
    fn register_tracking<'a>(&'a self, order: &'a Order, tracking: &'a Tracking) -> Boxed<'a, ()>;
    fn max_acks_per_call(&self) -> usize;
    fn acknowledge<'a>(&'a self, orders: &'a [Order], ship_by: NaiveDate) -> Boxed<'a, Vec<Acknowledged>>;
    fn credential_health(&self) -> Option<CredentialHealth>;
    fn take_credential_update(&self) -> Option<CredentialUpdate>;
    fn credential_expiry(&self) -> Boxed<'_, Vec<KnownExpiry>>;
    fn max_items_per_write(&self) -> usize;
    fn max_items_per_read(&self) -> usize;
    fn set_quantities<'a>(&'a self, items: &'a [Quantity]) -> Boxed<'a, Vec<ItemSet>>;
    fn read_quantities<'a>(&'a self, items: &'a [String]) -> Boxed<'a, Vec<ItemShown>>;
}

impl<C: OrderSource<Error = ClientError> + MallStock<Error = ClientError> + fmt::Debug> DynSource for C {
    fn marketplace(&self) -> Marketplace {
        OrderSource::marketplace(self)
    }
    fn changed_orders<'a>(&'a self, window: &'a Window, cursor: Option<&'a str>) -> Boxed<'a, OrderPage> {
        Box::pin(OrderSource::changed_orders(self, window, cursor))
    }
    fn changed_orders_skipping<'a>(
        &'a self,
        window: &'a Window,
        cursor: Option<&'a str>,
        known: &'a KnownVersions,
    ) -> Boxed<'a, OrderPage> {
        Box::pin(OrderSource::changed_orders_skipping(self, window, cursor, known))
    }
    fn max_ids_per_call(&self) -> usize {
        OrderSource::max_ids_per_call(self)
    }
    fn orders_by_id<'a>(&'a self, ids: &'a [String]) -> Boxed<'a, OrderPage> {
        Box::pin(OrderSource::orders_by_id(self, ids))
    }
    fn register_tracking<'a>(&'a self, order: &'a Order, tracking: &'a Tracking) -> Boxed<'a, ()> {
        Box::pin(OrderSource::register_tracking(self, order, tracking))
    }
    fn max_acks_per_call(&self) -> usize {
        OrderSource::max_acks_per_call(self)
    }
    fn acknowledge<'a>(&'a self, orders: &'a [Order], ship_by: NaiveDate) -> Boxed<'a, Vec<Acknowledged>> {
        Box::pin(OrderSource::acknowledge(self, orders, ship_by))
    }
    fn credential_health(&self) -> Option<CredentialHealth> {
        OrderSource::credential_health(self)
    }
    fn take_credential_update(&self) -> Option<CredentialUpdate> {
        OrderSource::take_credential_update(self)
    }
    fn credential_expiry(&self) -> Boxed<'_, Vec<KnownExpiry>> {
        Box::pin(OrderSource::credential_expiry(self))
    }
    fn max_items_per_write(&self) -> usize {
        MallStock::max_items_per_write(self)
    }
    fn max_items_per_read(&self) -> usize {
        MallStock::max_items_per_read(self)
    }
    fn set_quantities<'a>(&'a self, items: &'a [Quantity]) -> Boxed<'a, Vec<ItemSet>> {
        Box::pin(MallStock::set_quantities(self, items))
    }
    fn read_quantities<'a>(&'a self, items: &'a [String]) -> Boxed<'a, Vec<ItemShown>> {
        Box::pin(MallStock::read_quantities(self, items))
    }
}

/// The client of whichever marketplace a shop's secret names.
pub struct AnyClient(Box<dyn DynSource>);

impl fmt::Debug for AnyClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl AnyClient {
    /// Wraps a marketplace's client (its orders and its stock).
    pub fn new<C>(client: C) -> AnyClient
    where
        C: OrderSource<Error = ClientError> + MallStock<Error = ClientError> + fmt::Debug + 'static,
    {
        AnyClient(Box::new(client))
    }
}

impl OrderSource for AnyClient {
    type Error = ClientError;

    fn marketplace(&self) -> Marketplace {
        self.0.marketplace()
    }

    async fn changed_orders(&self, window: &Window, cursor: Option<&str>) -> Result<OrderPage, ClientError> {
        self.0.changed_orders(window, cursor).await
    }

    async fn changed_orders_skipping(
        &self,
        window: &Window,
        cursor: Option<&str>,
        known: &KnownVersions,
    ) -> Result<OrderPage, ClientError> {
        self.0.changed_orders_skipping(window, cursor, known).await
    }

    fn max_ids_per_call(&self) -> usize {
        self.0.max_ids_per_call()
    }

    async fn orders_by_id(&self, ids: &[String]) -> Result<OrderPage, ClientError> {
        self.0.orders_by_id(ids).await
    }

    async fn register_tracking(&self, order: &Order, tracking: &Tracking) -> Result<(), ClientError> {
        self.0.register_tracking(order, tracking).await
    }

    fn max_acks_per_call(&self) -> usize {
        self.0.max_acks_per_call()
    }

    async fn acknowledge(&self, orders: &[Order], ship_by: NaiveDate) -> Result<Vec<Acknowledged>, ClientError> {
        self.0.acknowledge(orders, ship_by).await
    }

    fn credential_health(&self) -> Option<CredentialHealth> {
        self.0.credential_health()
    }

    fn take_credential_update(&self) -> Option<CredentialUpdate> {
        self.0.take_credential_update()
    }

    async fn credential_expiry(&self) -> Result<Vec<KnownExpiry>, ClientError> {
        self.0.credential_expiry().await
    }
}

impl MallStock for AnyClient {
    type Error = ClientError;

    fn marketplace(&self) -> Marketplace {
        self.0.marketplace()
    }

    fn max_items_per_write(&self) -> usize {
        self.0.max_items_per_write()
    }

    fn max_items_per_read(&self) -> usize {
        self.0.max_items_per_read()
    }

    async fn set_quantities(&self, items: &[Quantity]) -> Result<Vec<ItemSet>, ClientError> {
        self.0.set_quantities(items).await
    }

    async fn read_quantities(&self, items: &[String]) -> Result<Vec<ItemShown>, ClientError> {
        self.0.read_quantities(items).await
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
    /// The marketplace's client refused its credentials or configuration (a key that is no key ...).
    #[error("{marketplace}: {source}")]
    Setup {
        /// Which marketplace.
        marketplace: Marketplace,
        /// The client's own error (names fields, never values).
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

impl BuildError {
    /// The HTTP client of `marketplace` could not be built.
    pub fn http(marketplace: Marketplace, source: reqwest::Error) -> BuildError {
        BuildError::Http { marketplace, source }
    }

    /// `marketplace`'s client refused its setup.
    pub fn setup(marketplace: Marketplace, source: impl std::error::Error + Send + Sync + 'static) -> BuildError {
        BuildError::Setup { marketplace, source: Box::new(source) }
    }
}

/// The client of `secret`'s marketplace for `shop_id` (the ichigen shop the orders belong to),
/// against the secret's endpoint or the production one.
pub fn build_client(shop_id: &str, secret: &MarketplaceSecret, http: HttpSettings) -> Result<AnyClient, BuildError> {
    if shop_id.trim().is_empty() {
        return Err(BuildError::ShopId);
    }
    (secret.registration().build)(shop_id, secret.fields(), http)
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
        assert!(matches!(err, BuildError::Setup { marketplace: Marketplace::Yahoo, .. }), "{err}");
        assert!(!err.to_string().contains("not a key"));
    }
}
