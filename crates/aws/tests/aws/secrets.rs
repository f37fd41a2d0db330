//! Secrets Manager: values are returned and cached for the TTL; errors name the id only.

use std::time::Duration;

use ichigen_aws::SecretCache;
use ichigen_core::pipeline::Retryable;
use secrecy::ExposeSecret;

use crate::common::Moto;

#[tokio::test]
async fn secret_cache_returns_and_caches() {
    let moto = Moto::new().await;
    let client = moto.secrets();
    let value = r#"{"service_secret":"SP-abc","license_key":"楽天-xyz"}"#;
    client.create_secret().name("ichigen/shop-a/rakuten").secret_string(value).send().await.unwrap();

    let cache = SecretCache::with_ttl(client.clone(), Duration::from_secs(300));
    assert_eq!(cache.get("ichigen/shop-a/rakuten").await.unwrap().expose_secret(), value);
    client
        .delete_secret()
        .secret_id("ichigen/shop-a/rakuten")
        .force_delete_without_recovery(true)
        .send()
        .await
        .unwrap();
    // Gone in Secrets Manager, still served from the cache within the TTL.
    assert_eq!(cache.get("ichigen/shop-a/rakuten").await.unwrap().expose_secret(), value);

    // With no TTL every get fetches: the deletion shows, as a permanent error naming the id.
    let uncached = SecretCache::with_ttl(client, Duration::ZERO);
    let err = uncached.get("ichigen/shop-a/rakuten").await.unwrap_err();
    assert!(!err.is_retryable());
    assert_eq!(err.secret_id, "ichigen/shop-a/rakuten");
    assert!(err.to_string().contains("ResourceNotFoundException"), "{err}");
    assert!(!format!("{err:?}").contains("SP-abc"));
}
