//! The single-table design (see `docs/adr/0001-dynamodb-single-table.md`): attribute and index
//! names, key builders, and [`create_table`], which Terraform and the demo mirror.

use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::client::Waiters;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection, ProjectionType,
    ScalarAttributeType, TimeToLiveSpecification, TimeToLiveStatus,
};
use chrono::{DateTime, FixedOffset, SecondsFormat, Utc};
use ichigen_core::order::{Marketplace, OrderStatus};
use ichigen_core::pipeline::{MailKind, PortError};

use crate::error::port_error;

/// Partition key attribute (S).
pub const PK: &str = "pk";
/// Sort key attribute (S).
pub const SK: &str = "sk";
/// Revision attribute (N) that conditional writes compare.
pub const REV: &str = "rev";
/// Time-to-live attribute (N, Unix seconds).
pub const EXPIRES_AT: &str = "expires_at";

/// GSI listing a shop's orders by effective status in order time (projection ALL).
pub const BY_STATUS: &str = "by_status";
/// Partition key of [`BY_STATUS`]: `SHOP#{shop}#STATUS#{status}`.
pub const GSI1PK: &str = "gsi1pk";
/// Sort key of [`BY_STATUS`]: `{ordered_at UTC}#{marketplace}#{order_id}`.
pub const GSI1SK: &str = "gsi1sk";
/// Sparse GSI of open orders by hashed buyer + destination (projection KEYS_ONLY).
pub const BY_BUNDLE: &str = "by_bundle";
/// Partition key of [`BY_BUNDLE`]: `SHOP#{shop}#BUNDLE#{bundle_key}`.
pub const GSI2PK: &str = "gsi2pk";
/// Sort key of [`BY_BUNDLE`]: `{marketplace}#{order_id}`.
pub const GSI2SK: &str = "gsi2sk";

/// GSI of a shop's orders newest first, for the staff's order list: partition [`PK`] (the
/// shop), sort [`GSI1SK`] (order time, marketplace, order id); only orders carry `gsi1sk`, so
/// nothing else is in it. Projects the [`LIST_ATTRIBUTES`] the list filters on, not the records.
pub const BY_TIME: &str = "by_time";
/// GSI of a shop's orders per list tab, newest first: partition [`GSI3PK`], sort [`GSI1SK`];
/// projects the [`LIST_ATTRIBUTES`].
pub const BY_TAB: &str = "by_tab";
/// Partition key of [`BY_TAB`]: `SHOP#{shop}#TAB#{tab}`.
pub const GSI3PK: &str = "gsi3pk";

/// Every key attribute of the table and its indexes: not part of the stored records.
pub const KEY_ATTRIBUTES: [&str; 7] = [PK, SK, GSI1PK, GSI1SK, GSI2PK, GSI2SK, GSI3PK];

/// The list tab of an order (`on_hold` ...).
pub const LIST_TAB: &str = "list_tab";
/// The order's marketplace.
pub const LIST_MARKETPLACE: &str = "list_marketplace";
/// The payment method's wire name.
pub const LIST_PAYMENT: &str = "list_payment";
/// The delivery method's wire name.
pub const LIST_DELIVERY: &str = "list_delivery";
/// Every destination's prefecture, joined (`ichigen_core::console::ListColumns`).
pub const LIST_PREFECTURES: &str = "list_prefectures";
/// Every SKU, joined.
pub const LIST_SKUS: &str = "list_skus";
/// Every finding code, joined.
pub const LIST_FINDINGS: &str = "list_findings";
/// Order id, buyer name, kana and e-mail as compact keys, joined.
pub const LIST_SEARCH: &str = "list_search";

/// The searched columns an order item carries beside its record (not part of the record), and
/// the non-key attributes [`BY_TIME`] and [`BY_TAB`] project.
pub const LIST_ATTRIBUTES: [&str; 8] =
    [LIST_TAB, LIST_MARKETPLACE, LIST_PAYMENT, LIST_DELIVERY, LIST_PREFECTURES, LIST_SKUS, LIST_FINDINGS, LIST_SEARCH];

/// Sort key of a shop's per-tab order counts (one number attribute per tab, named as the tab).
pub const TAB_COUNTS_SK: &str = "TABCOUNTS";
/// Sort key prefix of the shop's audit entries, newest last: `AUDIT#{at}#{recorded}`.
pub const AUDIT_PREFIX: &str = "AUDIT#";
/// Sort key prefix of a staff session, by the hash of its cookie: `SESSION#{hash}`.
pub const SESSION_PREFIX: &str = "SESSION#";

/// Sort key of a shop's settings item.
pub const SETTINGS_SK: &str = "SETTINGS";
/// Sort key prefix of a shop's blacklist entries.
pub const BLACKLIST_PREFIX: &str = "BLACKLIST#";

/// Partition key of everything a shop owns: `SHOP#{shop_id}`.
pub fn shop_pk(shop_id: &str) -> String {
    format!("SHOP#{shop_id}")
}

/// Sort key of an order: `ORDER#{marketplace}#{order_id}`.
pub fn order_sk(marketplace: Marketplace, order_id: &str) -> String {
    format!("ORDER#{marketplace}#{order_id}")
}

/// Sort key prefix of the mails of a shop × marketplace waiting for its relay: `PARKED#{marketplace}#`.
pub fn parked_prefix(marketplace: Marketplace) -> String {
    format!("PARKED#{marketplace}#")
}

/// Sort key of a waiting mail: `PARKED#{marketplace}#{order_id}#{kind}`.
pub fn parked_sk(marketplace: Marketplace, order_id: &str, kind: MailKind) -> String {
    format!("{}{order_id}#{kind}", parked_prefix(marketplace))
}

/// Sort key of the mark that a shop × marketplace has mails waiting (staff were told): `WAITING#{marketplace}`.
pub fn waiting_sk(marketplace: Marketplace) -> String {
    format!("WAITING#{marketplace}")
}

/// Sort key prefix of a shop's delivery events.
pub const EVENT_PREFIX: &str = "MAILEVENT#";

/// Sort key of a delivery event, in time order: `MAILEVENT#{at UTC}#{id}`.
pub fn event_sk(at: DateTime<FixedOffset>, id: &str) -> String {
    format!("{EVENT_PREFIX}{}#{id}", sort_time(at))
}

/// Sort key of a suppressed address, by its hash: `SUPPRESS#{address key}`.
pub fn suppress_sk(address_key: &str) -> String {
    format!("SUPPRESS#{address_key}")
}

/// Sort key of a shop × marketplace watermark: `MARK#{marketplace}`.
pub fn mark_sk(marketplace: Marketplace) -> String {
    format!("MARK#{marketplace}")
}

/// Sort key of a shop × marketplace pair's pending tracking writes: `WRITES#{marketplace}`.
pub fn writes_sk(marketplace: Marketplace) -> String {
    format!("WRITES#{marketplace}")
}

/// Sort key of a shop × marketplace pull lease: `LEASE#{marketplace}`.
pub fn lease_sk(marketplace: Marketplace) -> String {
    format!("LEASE#{marketplace}")
}

/// Sort key of a blacklist entry: `BLACKLIST#{id}`.
pub fn blacklist_sk(id: &str) -> String {
    format!("{BLACKLIST_PREFIX}{id}")
}

/// Partition key of [`BY_TAB`].
pub fn tab_pk(shop_id: &str, tab: ichigen_core::tab::ListTab) -> String {
    format!("SHOP#{shop_id}#TAB#{}", tab.as_str())
}

/// Sort key prefix of the audit entries about one order: `OAUDIT#{marketplace}#{order_id}#`
/// (an order id holding `#` may share it with another order's: readers compare the order id).
pub fn order_audit_prefix(marketplace: Marketplace, order_id: &str) -> String {
    format!("OAUDIT#{marketplace}#{order_id}#")
}

/// Sort key prefix of the mail ledger entries of one order: `MAIL#{marketplace}#{order_id}#`
/// (shared with an order whose id extends this one's past a `#`: readers parse what follows).
pub fn mail_prefix(marketplace: Marketplace, order_id: &str) -> String {
    format!("MAIL#{marketplace}#{order_id}#")
}

/// Sort key of a mail ledger entry: `MAIL#{marketplace}#{order_id}#{kind}`, and `#{episode}`
/// after it for a staff alert of a hold episode after 0 (episode 0 keeps the key of before).
pub fn mail_sk(marketplace: Marketplace, order_id: &str, kind: MailKind, episode: u32) -> String {
    if episode == 0 {
        format!("MAIL#{marketplace}#{order_id}#{kind}")
    } else {
        format!("MAIL#{marketplace}#{order_id}#{kind}#{episode}")
    }
}

/// The wire name of a status (`ready_to_ship`, ...), as in the `by_status` keys.
pub fn status_name(status: OrderStatus) -> &'static str {
    match status {
        OrderStatus::New => "new",
        OrderStatus::AwaitingPayment => "awaiting_payment",
        OrderStatus::ReadyToShip => "ready_to_ship",
        OrderStatus::Shipped => "shipped",
        OrderStatus::Cancelled => "cancelled",
        OrderStatus::OnHold => "on_hold",
    }
}

/// Partition key of [`BY_STATUS`].
pub fn status_pk(shop_id: &str, status: OrderStatus) -> String {
    format!("SHOP#{shop_id}#STATUS#{}", status_name(status))
}

/// An instant as fixed-width UTC RFC 3339 (nanoseconds, `Z`), so that text order is time order.
pub fn sort_time(t: DateTime<FixedOffset>) -> String {
    t.with_timezone(&Utc).to_rfc3339_opts(SecondsFormat::Nanos, true)
}

/// Sort key of [`BY_STATUS`].
pub fn status_sk(ordered_at: DateTime<FixedOffset>, marketplace: Marketplace, order_id: &str) -> String {
    format!("{}#{marketplace}#{order_id}", sort_time(ordered_at))
}

/// Partition key of [`BY_BUNDLE`].
pub fn bundle_pk(shop_id: &str, bundle_key: &str) -> String {
    format!("SHOP#{shop_id}#BUNDLE#{bundle_key}")
}

/// Sort key of [`BY_BUNDLE`].
pub fn bundle_sk(marketplace: Marketplace, order_id: &str) -> String {
    format!("{marketplace}#{order_id}")
}

/// Marketplace and order id from a [`BY_BUNDLE`] sort key (the order id may itself hold `#`).
pub fn parse_bundle_sk(sk: &str) -> Option<(Marketplace, String)> {
    let (marketplace, order_id) = sk.split_once('#')?;
    Some((marketplace.parse().ok()?, order_id.to_string()))
}

/// Marketplace and order id from an order's sort key.
pub fn parse_order_sk(sk: &str) -> Option<(Marketplace, String)> {
    parse_bundle_sk(sk.strip_prefix("ORDER#")?)
}

/// How long [`create_table`] waits for a new table to become active.
const CREATE_WAIT: Duration = Duration::from_secs(300);

fn key(name: &str, key_type: KeyType) -> Result<KeySchemaElement, PortError> {
    KeySchemaElement::builder()
        .attribute_name(name)
        .key_type(key_type)
        .build()
        .map_err(|e| PortError::permanent("dynamodb CreateTable", e))
}

fn string_attribute(name: &str) -> Result<AttributeDefinition, PortError> {
    AttributeDefinition::builder()
        .attribute_name(name)
        .attribute_type(ScalarAttributeType::S)
        .build()
        .map_err(|e| PortError::permanent("dynamodb CreateTable", e))
}

fn index(name: &str, hash: &str, range: &str, projection: ProjectionType) -> Result<GlobalSecondaryIndex, PortError> {
    let mut p = Projection::builder().projection_type(projection.clone());
    if projection == ProjectionType::Include {
        p = p.set_non_key_attributes(Some(LIST_ATTRIBUTES.iter().map(|a| a.to_string()).collect()));
    }
    GlobalSecondaryIndex::builder()
        .index_name(name)
        .key_schema(key(hash, KeyType::Hash)?)
        .key_schema(key(range, KeyType::Range)?)
        .projection(p.build())
        .build()
        .map_err(|e| PortError::permanent("dynamodb CreateTable", e))
}

/// Creates the table `name` (on-demand, `pk`/`sk`, GSIs `by_status`, `by_bundle`, `by_time` and
/// `by_tab`), waits until
/// it is active and enables TTL on `expires_at`. Idempotent: an existing table is completed, not
/// an error.
pub async fn create_table(client: &Client, name: &str) -> Result<(), PortError> {
    let created = client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .set_attribute_definitions(Some(KEY_ATTRIBUTES.into_iter().map(string_attribute).collect::<Result<_, _>>()?))
        .key_schema(key(PK, KeyType::Hash)?)
        .key_schema(key(SK, KeyType::Range)?)
        .global_secondary_indexes(index(BY_STATUS, GSI1PK, GSI1SK, ProjectionType::All)?)
        .global_secondary_indexes(index(BY_BUNDLE, GSI2PK, GSI2SK, ProjectionType::KeysOnly)?)
        .global_secondary_indexes(index(BY_TIME, PK, GSI1SK, ProjectionType::Include)?)
        .global_secondary_indexes(index(BY_TAB, GSI3PK, GSI1SK, ProjectionType::Include)?)
        .send()
        .await;
    match created {
        Ok(_) => {}
        // Already there (an earlier run, or a concurrent one): finish what it may not have.
        Err(e) if e.as_service_error().is_some_and(|s| s.is_resource_in_use_exception()) => {}
        Err(e) => return Err(port_error("dynamodb CreateTable", e)),
    }
    client
        .wait_until_table_exists()
        .table_name(name)
        .wait(CREATE_WAIT)
        .await
        .map_err(|e| PortError::retryable("dynamodb DescribeTable (until active)", e))?;

    let ttl = client
        .describe_time_to_live()
        .table_name(name)
        .send()
        .await
        .map_err(|e| port_error("dynamodb DescribeTimeToLive", e))?;
    let enabled = ttl.time_to_live_description().is_some_and(|d| {
        d.attribute_name() == Some(EXPIRES_AT)
            && matches!(d.time_to_live_status(), Some(TimeToLiveStatus::Enabled | TimeToLiveStatus::Enabling))
    });
    if !enabled {
        let spec = TimeToLiveSpecification::builder()
            .enabled(true)
            .attribute_name(EXPIRES_AT)
            .build()
            .map_err(|e| PortError::permanent("dynamodb UpdateTimeToLive", e))?;
        client
            .update_time_to_live()
            .table_name(name)
            .time_to_live_specification(spec)
            .send()
            .await
            .map_err(|e| port_error("dynamodb UpdateTimeToLive", e))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sort_time_is_fixed_width_utc() {
        let t = DateTime::parse_from_rfc3339("2026-11-01T09:00:00+09:00").unwrap();
        assert_eq!(sort_time(t), "2026-11-01T00:00:00.000000000Z");
        let u = DateTime::parse_from_rfc3339("2026-11-01T00:00:00.5Z").unwrap();
        assert_eq!(sort_time(u).len(), sort_time(t).len());
        assert!(sort_time(t) < sort_time(u));
    }

    #[test]
    fn sort_keys_parse_back() {
        let sk = order_sk(Marketplace::Rakuten, "123-2026#7");
        assert_eq!(parse_order_sk(&sk), Some((Marketplace::Rakuten, "123-2026#7".to_string())));
        assert_eq!(parse_bundle_sk(&bundle_sk(Marketplace::Qoo10, "9")), Some((Marketplace::Qoo10, "9".into())));
        assert_eq!(parse_bundle_sk("ebay#1"), None);
        assert_eq!(parse_order_sk("MARK#rakuten"), None);
    }

    #[test]
    fn status_names_match_serde() {
        for s in OrderStatus::ALL {
            assert_eq!(serde_json::to_value(s).unwrap(), serde_json::json!(status_name(s)));
        }
    }
}
