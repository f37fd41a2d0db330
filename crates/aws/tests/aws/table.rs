//! create_table: idempotent, both GSIs with their projections, TTL on `expires_at`.

use aws_sdk_dynamodb::types::{BillingMode, ProjectionType, TimeToLiveStatus};
use ichigen_aws::create_table;
use ichigen_aws::table::{BY_BUNDLE, BY_STATUS, EXPIRES_AT, GSI1PK, GSI1SK, GSI2PK, GSI2SK, PK, SK};

use crate::common::{Moto, TABLE};

#[tokio::test]
async fn create_table_is_idempotent_with_both_indexes_and_ttl() {
    let moto = Moto::new().await;
    let client = moto.dynamodb();
    create_table(&client, TABLE).await.unwrap();
    create_table(&client, TABLE).await.unwrap();

    let table = client.describe_table().table_name(TABLE).send().await.unwrap().table.unwrap();
    let keys: Vec<_> = table.key_schema().iter().map(|k| k.attribute_name().to_string()).collect();
    assert_eq!(keys, [PK, SK]);
    assert_eq!(table.billing_mode_summary().and_then(|b| b.billing_mode()), Some(&BillingMode::PayPerRequest));
    let index = |name: &str| {
        let gsi = table.global_secondary_indexes().iter().find(|g| g.index_name() == Some(name)).unwrap();
        let keys: Vec<_> = gsi.key_schema().iter().map(|k| k.attribute_name().to_string()).collect();
        (keys, gsi.projection().and_then(|p| p.projection_type()).cloned())
    };
    assert_eq!(index(BY_STATUS), (vec![GSI1PK.to_string(), GSI1SK.to_string()], Some(ProjectionType::All)));
    assert_eq!(index(BY_BUNDLE), (vec![GSI2PK.to_string(), GSI2SK.to_string()], Some(ProjectionType::KeysOnly)));

    let ttl = client.describe_time_to_live().table_name(TABLE).send().await.unwrap();
    let ttl = ttl.time_to_live_description().unwrap();
    assert_eq!(ttl.attribute_name(), Some(EXPIRES_AT));
    assert_eq!(ttl.time_to_live_status(), Some(&TimeToLiveStatus::Enabled));
}
