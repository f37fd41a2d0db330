//! [`DynamoStore`]: orders, watermarks, shop settings, blacklists and the mail ledger in the one
//! DynamoDB table of [`crate::table`].

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use chrono::{DateTime, FixedOffset, SecondsFormat};
use ichigen_core::order::{Marketplace, OrderStatus};
use ichigen_core::pipeline::{
    Claim, MailKey, MailLedger, OrderKey, OrderStore, PendingWrites, PortError, ShopDirectory, ShopSettings,
    StoredOrder, TrackingWrites, Watermark, WatermarkStore, Written,
};
use ichigen_core::rules::BlacklistEntry;

use crate::error::port_error;
use crate::item::{Item, decode, encode};
use crate::table::{
    BLACKLIST_PREFIX, BY_BUNDLE, BY_STATUS, EXPIRES_AT, GSI1PK, GSI1SK, GSI2PK, GSI2SK, PK, REV, SETTINGS_SK, SK,
    blacklist_sk, bundle_pk, bundle_sk, lease_sk, mail_sk, mark_sk, order_sk, parse_order_sk, shop_pk, sort_time,
    status_pk, status_sk, writes_sk,
};

/// How long a mail ledger entry is kept by default (two years, like orders).
pub const DEFAULT_LEDGER_RETENTION: Duration = Duration::from_secs(730 * 24 * 3600);

/// Ledger entry and pull lease attributes.
const STATE: &str = "state";
const LEASE_UNTIL: &str = "lease_until";
const LEASE_HOLDER: &str = "holder";
pub(crate) const MESSAGE_ID: &str = "message_id";
pub(crate) const SENT_AT: &str = "sent_at";
const CLAIMED: &str = "claimed";
const SENT: &str = "sent";

/// Tries at a fresh random blacklist id before giving up (a clash of 64-bit ids is not expected).
const ID_TRIES: usize = 3;

/// The DynamoDB adapter of the store ports, over one table created by [`crate::create_table`].
#[derive(Debug, Clone)]
pub struct DynamoStore {
    client: Client,
    table: String,
    ledger_retention: Duration,
    page_read_budget: usize,
}

pub(crate) fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

pub(crate) fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

pub(crate) fn names<const N: usize>(pairs: [(&str, &str); N]) -> HashMap<String, String> {
    pairs.into_iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

pub(crate) fn key_of(pk: String, sk: String) -> Item {
    HashMap::from([(PK.to_string(), s(pk)), (SK.to_string(), s(sk))])
}

pub(crate) fn is_condition_failed<E: ProvideErrorMetadata>(err: &SdkError<E, HttpResponse>) -> bool {
    err.code() == Some("ConditionalCheckFailedException")
}

impl DynamoStore {
    /// A store over `table`, keeping mail ledger entries for [`DEFAULT_LEDGER_RETENTION`].
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        DynamoStore {
            client,
            table: table.into(),
            ledger_retention: DEFAULT_LEDGER_RETENTION,
            page_read_budget: crate::list::PAGE_READ_BUDGET,
        }
    }

    /// The same store reading at most `entries` index entries per order list page (default
    /// [`crate::list::PAGE_READ_BUDGET`]).
    pub fn with_page_read_budget(mut self, entries: usize) -> Self {
        self.page_read_budget = entries.max(1);
        self
    }

    /// Index entries one order list page reads at most.
    pub fn page_read_budget(&self) -> usize {
        self.page_read_budget
    }

    /// The same store keeping mail ledger entries for `retention` after their last write.
    pub fn with_ledger_retention(mut self, retention: Duration) -> Self {
        self.ledger_retention = retention;
        self
    }

    /// The table name.
    pub fn table(&self) -> &str {
        &self.table
    }

    /// The DynamoDB client.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Puts `item` if the stored `rev` is still `expected` (`None`: no item yet).
    pub(crate) async fn put_revision(
        &self,
        operation: &'static str,
        item: Item,
        expected: Option<u64>,
    ) -> Result<Written, PortError> {
        let request = self.client.put_item().table_name(&self.table).set_item(Some(item));
        let request = match expected {
            None => request.condition_expression("attribute_not_exists(#pk)").expression_attribute_names("#pk", PK),
            Some(rev) => request
                .condition_expression("#rev = :expected")
                .expression_attribute_names("#rev", REV)
                .expression_attribute_values(":expected", n(rev)),
        };
        match request.send().await {
            Ok(_) => Ok(Written::Yes),
            Err(e) if is_condition_failed(&e) => Ok(Written::Conflict),
            Err(e) => Err(port_error(operation, e)),
        }
    }

    /// The item at `pk`/`sk`, read consistently.
    pub(crate) async fn get_item(
        &self,
        operation: &'static str,
        pk: String,
        sk: String,
    ) -> Result<Option<Item>, PortError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key_of(pk, sk)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| port_error(operation, e))?;
        Ok(out.item)
    }

    /// A query of the items of `shop_id`'s partition whose sort key starts with `prefix`.
    pub(crate) fn prefix_query(
        &self,
        shop_id: &str,
        prefix: impl Into<String>,
    ) -> aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder {
        self.client
            .query()
            .table_name(&self.table)
            .key_condition_expression("#pk = :pk AND begins_with(#sk, :prefix)")
            .expression_attribute_names("#pk", PK)
            .expression_attribute_names("#sk", SK)
            .expression_attribute_values(":pk", s(shop_pk(shop_id)))
            .expression_attribute_values(":prefix", s(prefix.into()))
    }

    /// Every item a query yields, following its pages.
    pub(crate) async fn query_all(
        &self,
        operation: &'static str,
        request: aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder,
    ) -> Result<Vec<Item>, PortError> {
        let pages = request.into_paginator().send().try_collect().await.map_err(|e| port_error(operation, e))?;
        Ok(pages.into_iter().flat_map(|p| p.items.unwrap_or_default()).collect())
    }

    pub(crate) fn expiry(&self, from: DateTime<FixedOffset>) -> i64 {
        let retention = i64::try_from(self.ledger_retention.as_secs()).unwrap_or(i64::MAX);
        from.timestamp().saturating_add(retention)
    }
}

/// The item an order is stored as (record, index keys, list columns) and its list tab: what
/// [`OrderStore::put`] writes, for a bulk load that writes the same (the console's timing example).
pub fn order_item(
    order: &StoredOrder,
) -> Result<(HashMap<String, AttributeValue>, ichigen_core::tab::ListTab), PortError> {
    let o = &order.order;
    let (pk, sk) = (shop_pk(&o.shop_id), order_sk(o.marketplace, &o.order_id));
    let mut item = encode("order", &format!("{pk}/{sk}"), order)?;
    item.insert(GSI1PK.into(), s(status_pk(&o.shop_id, order.status)));
    item.insert(GSI1SK.into(), s(status_sk(o.ordered_at, o.marketplace, &o.order_id)));
    // Sparse index: only open orders carry a bundle key; a closed one drops out on overwrite.
    if let Some(bundle_key) = &order.bundle_key {
        item.insert(GSI2PK.into(), s(bundle_pk(&o.shop_id, bundle_key)));
        item.insert(GSI2SK.into(), s(bundle_sk(o.marketplace, &o.order_id)));
    }
    let tab = crate::list::add_list_columns(&mut item, order);
    item.insert(PK.into(), s(pk));
    item.insert(SK.into(), s(sk));
    Ok((item, tab))
}

impl OrderStore for DynamoStore {
    async fn get(&self, key: &OrderKey) -> Result<Option<StoredOrder>, PortError> {
        let item = self
            .get_item("dynamodb GetItem order", shop_pk(&key.shop_id), order_sk(key.marketplace, &key.order_id))
            .await?;
        item.map(|i| decode("order", i)).transpose()
    }

    async fn put(&self, order: &StoredOrder, expected: Option<u64>) -> Result<Written, PortError> {
        let (item, tab) = order_item(order)?;
        crate::list::put_counted(self, item, &order.order.shop_id, tab, expected).await
    }

    async fn bundle_mates(&self, shop_id: &str, bundle_key: &str) -> Result<Vec<OrderKey>, PortError> {
        let request = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(BY_BUNDLE)
            .key_condition_expression("#gpk = :gpk")
            .expression_attribute_names("#gpk", GSI2PK)
            .expression_attribute_values(":gpk", s(bundle_pk(shop_id, bundle_key)));
        let items = self.query_all("dynamodb Query by_bundle", request).await?;
        items
            .iter()
            .map(|item| {
                let (marketplace, order_id) = match item.get(SK) {
                    Some(AttributeValue::S(sk)) => parse_order_sk(sk),
                    _ => None,
                }
                .ok_or_else(|| PortError::permanent("dynamodb Query by_bundle", "index entry without an order key"))?;
                Ok(OrderKey { shop_id: shop_id.to_string(), marketplace, order_id })
            })
            .collect()
    }

    async fn list_by_status(
        &self,
        shop_id: &str,
        status: OrderStatus,
        since: Option<DateTime<FixedOffset>>,
        until: Option<DateTime<FixedOffset>>,
    ) -> Result<Vec<StoredOrder>, PortError> {
        // Sort keys start with the fixed-width UTC order time and go on with `#...`, so a bare time
        // sorts before every key of that instant: `>= since` includes it, `< until` excludes it.
        let condition = match (since, until) {
            (None, None) => "#gpk = :gpk",
            (Some(_), None) => "#gpk = :gpk AND #gsk >= :since",
            (None, Some(_)) => "#gpk = :gpk AND #gsk < :until",
            (Some(_), Some(_)) => "#gpk = :gpk AND #gsk BETWEEN :since AND :until",
        };
        let mut request = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(BY_STATUS)
            .key_condition_expression(condition)
            .scan_index_forward(true)
            .expression_attribute_names("#gpk", GSI1PK)
            .expression_attribute_values(":gpk", s(status_pk(shop_id, status)));
        if since.is_some() || until.is_some() {
            request = request.expression_attribute_names("#gsk", GSI1SK);
        }
        if let Some(t) = since {
            request = request.expression_attribute_values(":since", s(sort_time(t)));
        }
        if let Some(t) = until {
            request = request.expression_attribute_values(":until", s(sort_time(t)));
        }
        let items = self.query_all("dynamodb Query by_status", request).await?;
        let mut orders = items.into_iter().map(|i| decode::<StoredOrder>("order", i)).collect::<Result<Vec<_>, _>>()?;
        // The index already sorts by time; equal times are ordered as the other adapters do.
        orders.sort_by(|a, b| a.order.ordered_at.cmp(&b.order.ordered_at).then_with(|| a.key().cmp(&b.key())));
        Ok(orders)
    }
}

impl TrackingWrites for DynamoStore {
    async fn get_writes(&self, shop_id: &str, marketplace: Marketplace) -> Result<Option<PendingWrites>, PortError> {
        let item = self.get_item("dynamodb GetItem tracking writes", shop_pk(shop_id), writes_sk(marketplace)).await?;
        item.map(|i| decode("tracking writes", i)).transpose()
    }

    async fn put_writes(&self, writes: &PendingWrites, expected: Option<u64>) -> Result<Written, PortError> {
        let (pk, sk) = (shop_pk(&writes.shop_id), writes_sk(writes.marketplace));
        let mut item = encode("tracking writes", &format!("{pk}/{sk}"), writes)?;
        item.insert(PK.into(), s(pk));
        item.insert(SK.into(), s(sk));
        self.put_revision("dynamodb PutItem tracking writes", item, expected).await
    }
}

impl WatermarkStore for DynamoStore {
    async fn get_watermark(&self, shop_id: &str, marketplace: Marketplace) -> Result<Option<Watermark>, PortError> {
        let item = self.get_item("dynamodb GetItem watermark", shop_pk(shop_id), mark_sk(marketplace)).await?;
        item.map(|i| decode("watermark", i)).transpose()
    }

    async fn put_watermark(&self, mark: &Watermark, expected: Option<u64>) -> Result<Written, PortError> {
        let (pk, sk) = (shop_pk(&mark.shop_id), mark_sk(mark.marketplace));
        let mut item = encode("watermark", &format!("{pk}/{sk}"), mark)?;
        item.insert(PK.into(), s(pk));
        item.insert(SK.into(), s(sk));
        self.put_revision("dynamodb PutItem watermark", item, expected).await
    }

    async fn take_lease(
        &self,
        shop_id: &str,
        marketplace: Marketplace,
        holder: &str,
        now: DateTime<FixedOffset>,
        until: DateTime<FixedOffset>,
    ) -> Result<bool, PortError> {
        const OP: &str = "dynamodb PutItem pull lease";
        let item = HashMap::from([
            (PK.to_string(), s(shop_pk(shop_id))),
            (SK.to_string(), s(lease_sk(marketplace))),
            (LEASE_HOLDER.to_string(), s(holder)),
            (LEASE_UNTIL.to_string(), n(until.timestamp_millis())),
            // TTL removes a lease nobody ended, long after it stopped counting.
            (EXPIRES_AT.to_string(), n(until.timestamp() + 86_400)),
        ]);
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(#pk) OR #holder = :holder OR #until <= :now")
            .expression_attribute_names("#pk", PK)
            .expression_attribute_names("#holder", LEASE_HOLDER)
            .expression_attribute_names("#until", LEASE_UNTIL)
            .expression_attribute_values(":holder", s(holder))
            .expression_attribute_values(":now", n(now.timestamp_millis()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e) if is_condition_failed(&e) => Ok(false),
            Err(e) => Err(port_error(OP, e)),
        }
    }

    async fn end_lease(&self, shop_id: &str, marketplace: Marketplace, holder: &str) -> Result<(), PortError> {
        const OP: &str = "dynamodb DeleteItem pull lease";
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key_of(shop_pk(shop_id), lease_sk(marketplace))))
            .condition_expression("#holder = :holder")
            .expression_attribute_names("#holder", LEASE_HOLDER)
            .expression_attribute_values(":holder", s(holder))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            // Another run took the pair after this lease ran out: theirs now.
            Err(e) if is_condition_failed(&e) => Ok(()),
            Err(e) => Err(port_error(OP, e)),
        }
    }
}

impl ShopDirectory for DynamoStore {
    async fn shop(&self, shop_id: &str) -> Result<Option<ShopSettings>, PortError> {
        let item = self.get_item("dynamodb GetItem settings", shop_pk(shop_id), SETTINGS_SK.to_string()).await?;
        item.map(|i| decode("settings", i)).transpose()
    }

    async fn put_shop(&self, settings: &ShopSettings) -> Result<(), PortError> {
        let pk = shop_pk(&settings.shop_id);
        let mut item = encode("settings", &format!("{pk}/{SETTINGS_SK}"), settings)?;
        item.insert(PK.into(), s(pk));
        item.insert(SK.into(), s(SETTINGS_SK));
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .send()
            .await
            .map_err(|e| port_error("dynamodb PutItem settings", e))?;
        Ok(())
    }

    async fn blacklist(&self, shop_id: &str) -> Result<Vec<(String, BlacklistEntry)>, PortError> {
        let request = self.prefix_query(shop_id, BLACKLIST_PREFIX).consistent_read(true);
        let items = self.query_all("dynamodb Query blacklist", request).await?;
        items
            .into_iter()
            .map(|item| {
                let id = match item.get(SK) {
                    Some(AttributeValue::S(sk)) => sk.strip_prefix(BLACKLIST_PREFIX).map(str::to_string),
                    _ => None,
                }
                .ok_or_else(|| PortError::permanent("dynamodb Query blacklist", "entry without a blacklist key"))?;
                Ok((id, decode("blacklist entry", item)?))
            })
            .collect()
    }

    async fn add_blacklisted(&self, shop_id: &str, entry: &BlacklistEntry) -> Result<String, PortError> {
        let pk = shop_pk(shop_id);
        for _ in 0..ID_TRIES {
            let id = format!("{:016x}", fastrand::u64(..));
            let sk = blacklist_sk(&id);
            let mut item = encode("blacklist entry", &format!("{pk}/{sk}"), entry)?;
            item.insert(PK.into(), s(pk.clone()));
            item.insert(SK.into(), s(sk));
            // Never overwrite another entry, however unlikely the id clash.
            if self.put_revision("dynamodb PutItem blacklist", item, None).await? == Written::Yes {
                return Ok(id);
            }
        }
        Err(PortError::retryable("dynamodb PutItem blacklist", "no free blacklist id after several tries"))
    }

    async fn remove_blacklisted(&self, shop_id: &str, id: &str) -> Result<bool, PortError> {
        let out = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key_of(shop_pk(shop_id), blacklist_sk(id))))
            .return_values(ReturnValue::AllOld)
            .send()
            .await
            .map_err(|e| port_error("dynamodb DeleteItem blacklist", e))?;
        Ok(out.attributes.is_some_and(|a| !a.is_empty()))
    }
}

fn ledger_key(key: &MailKey) -> Item {
    key_of(shop_pk(&key.order.shop_id), mail_sk(key.order.marketplace, &key.order.order_id, key.kind, key.episode))
}

impl MailLedger for DynamoStore {
    async fn claim(
        &self,
        key: &MailKey,
        now: DateTime<FixedOffset>,
        lease_until: DateTime<FixedOffset>,
    ) -> Result<Claim, PortError> {
        let mut item = ledger_key(key);
        item.insert(STATE.into(), s(CLAIMED));
        item.insert(LEASE_UNTIL.into(), n(lease_until.timestamp_millis()));
        item.insert(EXPIRES_AT.into(), n(self.expiry(now)));
        // Free, or claimed by someone whose lease ended by `now` (as the in-memory ledger decides).
        let claimed = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(#pk) OR (#state = :claimed AND #lease_until <= :now)")
            .set_expression_attribute_names(Some(names([
                ("#pk", PK),
                ("#state", STATE),
                ("#lease_until", LEASE_UNTIL),
            ])))
            .expression_attribute_values(":claimed", s(CLAIMED))
            .expression_attribute_values(":now", n(now.timestamp_millis()))
            .send()
            .await;
        match claimed {
            Ok(_) => return Ok(Claim::Claimed),
            Err(e) if is_condition_failed(&e) => {}
            Err(e) => return Err(port_error("dynamodb PutItem mail ledger", e)),
        }
        let (pk, sk) =
            (shop_pk(&key.order.shop_id), mail_sk(key.order.marketplace, &key.order.order_id, key.kind, key.episode));
        let current = self.get_item("dynamodb GetItem mail ledger", pk, sk).await?;
        let sent_id = current.as_ref().and_then(|item| match (item.get(STATE), item.get(MESSAGE_ID)) {
            (Some(AttributeValue::S(state)), Some(AttributeValue::S(id))) if state == SENT => Some(id.clone()),
            _ => None,
        });
        if let Some(id) = sent_id {
            return Ok(Claim::AlreadySent(id));
        }
        // Anything else is a live claim (or one released since: busy until now, tried again at
        // once): another try after its lease decides.
        let until = current
            .as_ref()
            .and_then(|item| match item.get(LEASE_UNTIL) {
                Some(AttributeValue::N(ms)) => ms.parse::<i64>().ok(),
                _ => None,
            })
            .and_then(DateTime::from_timestamp_millis)
            .map_or(now, |t| t.with_timezone(&now.timezone()));
        Ok(Claim::Busy { until })
    }

    async fn mark_sent(
        &self,
        key: &MailKey,
        message_id: &str,
        sent_at: DateTime<FixedOffset>,
    ) -> Result<(), PortError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(ledger_key(key)))
            .update_expression(
                "SET #state = :sent, #message_id = :message_id, #sent_at = :sent_at, #expires_at = :expires_at \
                 REMOVE #lease_until",
            )
            .set_expression_attribute_names(Some(names([
                ("#state", STATE),
                ("#message_id", MESSAGE_ID),
                ("#sent_at", SENT_AT),
                ("#expires_at", EXPIRES_AT),
                ("#lease_until", LEASE_UNTIL),
            ])))
            .expression_attribute_values(":sent", s(SENT))
            .expression_attribute_values(":message_id", s(message_id))
            .expression_attribute_values(":sent_at", s(sent_at.to_rfc3339_opts(SecondsFormat::Millis, false)))
            .expression_attribute_values(":expires_at", n(self.expiry(sent_at)))
            .send()
            .await
            .map_err(|e| port_error("dynamodb UpdateItem mail ledger", e))?;
        Ok(())
    }

    async fn release(&self, key: &MailKey) -> Result<(), PortError> {
        let released = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(ledger_key(key)))
            .condition_expression("#state = :claimed")
            .expression_attribute_names("#state", STATE)
            .expression_attribute_values(":claimed", s(CLAIMED))
            .send()
            .await;
        match released {
            // Not claimed (sent, or gone): nothing to give back.
            Ok(_) => Ok(()),
            Err(e) if is_condition_failed(&e) => Ok(()),
            Err(e) => Err(port_error("dynamodb DeleteItem mail ledger", e)),
        }
    }
}
