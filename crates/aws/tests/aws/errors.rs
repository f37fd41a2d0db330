//! Failures are classified and name the operation.

use ichigen_aws::{AwsError, DynamoStore};
use ichigen_core::order::Marketplace;
use ichigen_core::pipeline::{OrderKey, OrderStore, WatermarkStore};

use crate::common::Moto;

#[tokio::test]
async fn missing_table_is_a_permanent_error_naming_the_operation() {
    let moto = Moto::new().await;
    let store = DynamoStore::new(moto.dynamodb(), "no-such-table");
    let key = OrderKey { shop_id: "shop-a".into(), marketplace: Marketplace::Rakuten, order_id: "1".into() };
    let err = store.get(&key).await.unwrap_err();
    assert!(!err.retryable);
    assert_eq!(err.operation, "dynamodb GetItem order");
    assert!(err.to_string().starts_with("dynamodb GetItem order: "), "{err}");
    let aws = err.source.downcast_ref::<AwsError>().expect("an AWS error");
    assert_eq!(aws.code(), Some("ResourceNotFoundException"));

    let err = store.get_watermark("shop-a", Marketplace::Yahoo).await.unwrap_err();
    assert!(!err.retryable);
    assert_eq!(err.operation, "dynamodb GetItem watermark");
}

#[tokio::test]
async fn unreachable_endpoint_is_retryable() {
    let moto = Moto::new().await;
    // Nothing listens on port 9 of 127.0.0.1: a dispatch failure, which may pass later.
    let config = moto.config.to_builder().endpoint_url("http://127.0.0.1:9").build();
    let dynamodb = aws_sdk_dynamodb::config::Builder::from(&config)
        .retry_config(aws_config::retry::RetryConfig::disabled())
        .build();
    let store = DynamoStore::new(aws_sdk_dynamodb::Client::from_conf(dynamodb), "ichigen");
    let key = OrderKey { shop_id: "shop-a".into(), marketplace: Marketplace::Rakuten, order_id: "1".into() };
    let err = store.get(&key).await.unwrap_err();
    assert!(err.retryable, "{err}");
}
