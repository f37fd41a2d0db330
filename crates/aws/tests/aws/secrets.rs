//! SSM Parameter Store: SecureString values are returned decrypted and cached for the TTL, read
//! again after `invalidate`; errors name the parameter only.

use std::time::Duration;

use aws_sdk_ssm::types::ParameterType;
use ichigen_aws::SecretCache;
use ichigen_core::pipeline::Retryable;
use secrecy::ExposeSecret;

use crate::common::Moto;

const NAME: &str = "/ichigen/test/credentials/shop-a/rakuten";

async fn put(client: &aws_sdk_ssm::Client, value: &str) {
    client
        .put_parameter()
        .name(NAME)
        .value(value)
        .r#type(ParameterType::SecureString)
        .overwrite(true)
        .send()
        .await
        .expect("put parameter");
}

#[tokio::test]
async fn secret_cache_returns_decrypted_values_and_caches_them() {
    let moto = Moto::new().await;
    let client = moto.ssm();
    let value = r#"{"service_secret":"SP-abc","license_key":"楽天-xyz"}"#;
    put(&client, value).await;

    let cache = SecretCache::with_ttl(client.clone(), Duration::from_secs(300));
    assert_eq!(cache.get(NAME).await.unwrap().expose_secret(), value);
    client.delete_parameter().name(NAME).send().await.unwrap();
    // Gone in Parameter Store, still served from the cache within the TTL.
    assert_eq!(cache.get(NAME).await.unwrap().expose_secret(), value);

    // With no TTL every get fetches: the deletion shows, as a permanent error naming the parameter.
    let uncached = SecretCache::with_ttl(client, Duration::ZERO);
    let err = uncached.get(NAME).await.unwrap_err();
    assert!(!err.is_retryable());
    assert_eq!(err.secret_id, NAME);
    assert!(err.to_string().contains("ParameterNotFound"), "{err}");
    assert!(!format!("{err:?}").contains("SP-abc"));
}

#[tokio::test]
async fn invalidate_reads_renewed_credentials_before_the_ttl() {
    let moto = Moto::new().await;
    let client = moto.ssm();
    put(&client, r#"{"license_key":"old"}"#).await;
    let cache = SecretCache::with_ttl(client.clone(), Duration::from_secs(3600));
    assert_eq!(cache.get(NAME).await.unwrap().expose_secret(), r#"{"license_key":"old"}"#);

    // The operator renews the key: the cache still holds the old one...
    put(&client, r#"{"license_key":"new"}"#).await;
    assert_eq!(cache.get(NAME).await.unwrap().expose_secret(), r#"{"license_key":"old"}"#);
    // ...until an authentication error makes the caller invalidate it.
    cache.invalidate(NAME).await;
    assert_eq!(cache.get(NAME).await.unwrap().expose_secret(), r#"{"license_key":"new"}"#);
}
