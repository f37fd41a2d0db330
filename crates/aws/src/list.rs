//! The staff's order list on DynamoDB (`OrderList`): pages newest first from the `by_time` and
//! `by_tab` indexes, filtered on the list columns each order item carries, with a bounded read per
//! page; tab counts from a per-shop counter item kept in step with every order write.
//!
//! Why a counter item and not `Select=COUNT` on an index: COUNT still reads (and bills) every index
//! entry it counts, up to 1 MB per request, so counting a shop's 100,000 orders takes dozens of
//! round trips and thousands of read units on every list view. The counter costs one small update
//! inside the order write's transaction, and only when an order changes tab.

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes, Put, TransactWriteItem, Update};
use backon::{BackoffBuilder, ExponentialBuilder};
use chrono::DateTime;
use ichigen_core::console::{
    ListColumns, ListCursor, OrderList, OrderPage, OrderQuery, list_needle, search_needle, wire_name,
};
use ichigen_core::pipeline::{PortError, StoredOrder, Written};
use ichigen_core::tab::ListTab;

use crate::error::port_error;
use crate::item::{Item, decode};
use crate::store::{DynamoStore, is_condition_failed, key_of, n, s};
use crate::table::{
    BY_TAB, BY_TIME, GSI1SK, GSI3PK, LIST_DELIVERY, LIST_FINDINGS, LIST_MARKETPLACE, LIST_PAYMENT, LIST_PREFECTURES,
    LIST_SEARCH, LIST_SKUS, LIST_TAB, PK, REV, SK, TAB_COUNTS_SK, order_sk, parse_order_sk, shop_pk, sort_time,
    status_sk, tab_pk,
};

/// Index entries one `Query` call reads at most while filtering.
const READ_CHUNK: i32 = 200;

/// Times an order write cancelled by a concurrent write of the shop's tab counter is tried again.
const CONFLICT_RETRIES: usize = 8;
/// Index entries one list page reads at most by default: a filter matching few orders returns a
/// short page and a cursor where the reading stopped, instead of reading the whole shop.
pub const PAGE_READ_BUDGET: usize = 2_000;
/// Tries at the records a `BatchGetItem` left unprocessed.
const BATCH_TRIES: usize = 5;

/// Adds the list columns and the `by_tab` key of `order` to its item; the order's tab.
pub(crate) fn add_list_columns(item: &mut Item, order: &StoredOrder) -> ListTab {
    let c = ListColumns::of(order);
    let o = &order.order;
    item.insert(GSI3PK.into(), s(tab_pk(&o.shop_id, c.tab)));
    item.insert(LIST_TAB.into(), s(c.tab.as_str()));
    item.insert(LIST_MARKETPLACE.into(), s(o.marketplace.as_str()));
    item.insert(LIST_PAYMENT.into(), s(c.payment));
    item.insert(LIST_DELIVERY.into(), s(c.delivery));
    item.insert(LIST_PREFECTURES.into(), s(c.prefectures));
    item.insert(LIST_SKUS.into(), s(c.skus));
    item.insert(LIST_FINDINGS.into(), s(c.findings));
    item.insert(LIST_SEARCH.into(), s(c.search));
    c.tab
}

fn stored_tab(item: &Item) -> Option<ListTab> {
    match item.get(LIST_TAB) {
        Some(AttributeValue::S(t)) => t.parse().ok(),
        _ => None,
    }
}

fn stored_rev(item: &Item) -> Option<u64> {
    match item.get(REV) {
        Some(AttributeValue::N(r)) => r.parse().ok(),
        _ => None,
    }
}

/// Writes an order item (`expected` as `put_revision`) and moves its count to its new tab in the
/// same transaction. An order written before the list columns existed has no stored tab: it is
/// counted from its next write on.
pub(crate) async fn put_counted(
    store: &DynamoStore,
    item: Item,
    shop_id: &str,
    tab: ListTab,
    expected: Option<u64>,
) -> Result<Written, PortError> {
    let before = match expected {
        None => None,
        Some(rev) => {
            let old = store
                .client()
                .get_item()
                .table_name(store.table())
                .set_key(Some(key_of(item_s(&item, PK).unwrap_or_default(), item_s(&item, SK).unwrap_or_default())))
                .projection_expression("#rev, #tab")
                .expression_attribute_names("#rev", REV)
                .expression_attribute_names("#tab", LIST_TAB)
                .consistent_read(true)
                .send()
                .await
                .map_err(|e| port_error("dynamodb GetItem order tab", e))?;
            match old.item {
                Some(old) if stored_rev(&old) == Some(rev) => stored_tab(&old),
                // Gone or written since: the conditional write below would fail the same way.
                _ => return Ok(Written::Conflict),
            }
        }
    };
    if expected.is_some() && before == Some(tab) {
        // Same tab: the plain conditional put, no count changes.
        return store.put_revision("dynamodb PutItem order", item, expected).await;
    }
    let put = Put::builder().table_name(store.table()).set_item(Some(item));
    let put = match expected {
        None => put.condition_expression("attribute_not_exists(#pk)").expression_attribute_names("#pk", PK),
        Some(rev) => put
            .condition_expression("#rev = :expected")
            .expression_attribute_names("#rev", REV)
            .expression_attribute_values(":expected", n(rev)),
    };
    let put = put.build().map_err(|e| PortError::permanent("dynamodb TransactWriteItems order", e))?;
    let mut update = Update::builder()
        .table_name(store.table())
        .set_key(Some(key_of(shop_pk(shop_id), TAB_COUNTS_SK.to_string())))
        .expression_attribute_names("#new", tab.as_str())
        .expression_attribute_values(":one", n(1));
    update = match before {
        Some(old) => update
            .update_expression("ADD #new :one, #old :minus")
            .expression_attribute_names("#old", old.as_str())
            .expression_attribute_values(":minus", n(-1)),
        None => update.update_expression("ADD #new :one"),
    };
    let update = update.build().map_err(|e| PortError::permanent("dynamodb TransactWriteItems order", e))?;
    // Every order write of the shop that changes tab updates the one counter item, so two
    // concurrent processor writes can cancel each other (reason `TransactionConflict`): that is
    // contention, not a failure — tried again at once, with jitter, before the message is failed
    // (which would delay the order by the queue's visibility timeout).
    let mut delays = ExponentialBuilder::default()
        .with_min_delay(Duration::from_millis(20))
        .with_max_delay(Duration::from_millis(500))
        .with_max_times(CONFLICT_RETRIES)
        .with_jitter()
        .build();
    let result = loop {
        let result = store
            .client()
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().put(put.clone()).build())
            .transact_items(TransactWriteItem::builder().update(update.clone()).build())
            .send()
            .await;
        let conflict = result.as_ref().err().and_then(|e| e.as_service_error()).is_some_and(|se| match se {
            aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError::TransactionCanceledException(c) => {
                c.cancellation_reasons().iter().any(|r| r.code() == Some("TransactionConflict"))
                    && !c.cancellation_reasons().iter().any(|r| r.code() == Some("ConditionalCheckFailed"))
            }
            _ => false,
        });
        match delays.next() {
            Some(wait) if conflict => tokio::time::sleep(wait).await,
            _ => break result,
        }
    };
    match result {
        Ok(_) => Ok(Written::Yes),
        Err(e) => {
            let lost_race = e.as_service_error().is_some_and(|se| match se {
                aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError::TransactionCanceledException(c) => {
                    c.cancellation_reasons().iter().any(|r| r.code() == Some("ConditionalCheckFailed"))
                }
                _ => false,
            });
            if lost_race || is_condition_failed(&e) {
                Ok(Written::Conflict)
            } else {
                Err(port_error("dynamodb TransactWriteItems order", e))
            }
        }
    }
}

fn item_s(item: &Item, name: &str) -> Option<String> {
    match item.get(name) {
        Some(AttributeValue::S(v)) => Some(v.clone()),
        _ => None,
    }
}

/// The filter expression of `q` on the projected list columns (the tab is the index's key).
fn filter(q: &OrderQuery) -> (Vec<String>, HashMap<String, String>, HashMap<String, AttributeValue>) {
    let mut clauses = Vec::new();
    let mut names = HashMap::new();
    let mut values = HashMap::new();
    let mut add = |attribute: &str, value: String, contains: bool| {
        let i = clauses.len();
        let (name, placeholder) = (format!("#f{i}"), format!(":f{i}"));
        clauses.push(if contains {
            format!("contains({name}, {placeholder})")
        } else {
            format!("{name} = {placeholder}")
        });
        names.insert(name, attribute.to_string());
        values.insert(placeholder, s(value));
    };
    if let Some(m) = q.marketplace {
        add(LIST_MARKETPLACE, m.as_str().to_string(), false);
    }
    if let Some(p) = q.payment {
        add(LIST_PAYMENT, wire_name(&p), false);
    }
    if let Some(d) = q.delivery {
        add(LIST_DELIVERY, wire_name(&d), false);
    }
    if let Some(sku) = q.sku.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        add(LIST_SKUS, list_needle(sku), true);
    }
    if let Some(code) = q.finding {
        add(LIST_FINDINGS, list_needle(code.as_str()), true);
    }
    if let Some(p) = q.prefecture.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        add(LIST_PREFECTURES, list_needle(p), true);
    }
    if let Some(text) = q.text.as_deref().and_then(search_needle) {
        add(LIST_SEARCH, text, true);
    }
    (clauses, names, values)
}

/// The list position of an index entry (its order time, marketplace and id).
fn cursor_of(entry: &Item) -> Result<ListCursor, PortError> {
    const OP: &str = "dynamodb Query order list";
    let (marketplace, order_id) = item_s(entry, SK)
        .and_then(|sk| parse_order_sk(&sk))
        .ok_or_else(|| PortError::permanent(OP, "index entry without an order key"))?;
    let at = item_s(entry, GSI1SK)
        .and_then(|k| k.split_once('#').map(|(t, _)| t.to_string()))
        .ok_or_else(|| PortError::permanent(OP, format!("order {order_id}: index entry without its time")))?;
    let ordered_at = DateTime::parse_from_rfc3339(&at).map_err(|e| PortError::permanent(OP, e))?;
    Ok(ListCursor { ordered_at, marketplace, order_id })
}

impl DynamoStore {
    /// The records of `keys` (order items' table keys), in that order; those gone or unreadable
    /// since the index listed them are left out.
    async fn orders_by_key(&self, keys: Vec<Item>) -> Result<Vec<StoredOrder>, PortError> {
        const OP: &str = "dynamodb BatchGetItem orders";
        let mut found: HashMap<(String, String), Item> = HashMap::new();
        let mut pending = keys.clone();
        for _ in 0..BATCH_TRIES {
            if pending.is_empty() {
                break;
            }
            let request = KeysAndAttributes::builder()
                .set_keys(Some(std::mem::take(&mut pending)))
                .build()
                .map_err(|e| PortError::permanent(OP, e))?;
            let out = self
                .client()
                .batch_get_item()
                .request_items(self.table(), request)
                .send()
                .await
                .map_err(|e| port_error(OP, e))?;
            for item in out.responses.unwrap_or_default().remove(self.table()).unwrap_or_default() {
                if let (Some(pk), Some(sk)) = (item_s(&item, PK), item_s(&item, SK)) {
                    found.insert((pk, sk), item);
                }
            }
            pending = out.unprocessed_keys.unwrap_or_default().remove(self.table()).map(|k| k.keys).unwrap_or_default();
        }
        if !pending.is_empty() {
            return Err(PortError::retryable(OP, "records left unprocessed after several tries"));
        }
        let mut orders = Vec::new();
        for key in keys {
            let (Some(pk), Some(sk)) = (item_s(&key, PK), item_s(&key, SK)) else { continue };
            if let Some(item) = found.remove(&(pk, sk.clone())) {
                match decode::<StoredOrder>("order", item) {
                    Ok(o) => orders.push(o),
                    // A record that does not read back is left out of the list (ids only in the log).
                    Err(_) => tracing::warn!(key = %sk, "order list: stored order does not decode; left out"),
                }
            }
        }
        Ok(orders)
    }
}

impl OrderList for DynamoStore {
    async fn page(
        &self,
        shop_id: &str,
        query: &OrderQuery,
        after: Option<&ListCursor>,
        limit: usize,
    ) -> Result<OrderPage, PortError> {
        const OP: &str = "dynamodb Query order list";
        let (clauses, filter_names, filter_values) = filter(query);
        let mut condition = "#hash = :hash".to_string();
        if query.since.is_some() && query.until.is_some() {
            condition.push_str(" AND #gsk BETWEEN :since AND :until");
        } else if query.since.is_some() {
            condition.push_str(" AND #gsk >= :since");
        } else if query.until.is_some() {
            condition.push_str(" AND #gsk < :until");
        }
        let (index, hash_name, hash_value) = match query.tab {
            Some(tab) => (BY_TAB, GSI3PK, tab_pk(shop_id, tab)),
            None => (BY_TIME, PK, shop_pk(shop_id)),
        };
        let start_key = |c: &ListCursor| {
            let mut key = key_of(shop_pk(shop_id), order_sk(c.marketplace, &c.order_id));
            key.insert(GSI1SK.into(), s(status_sk(c.ordered_at, c.marketplace, &c.order_id)));
            key.insert(hash_name.into(), s(hash_value.clone()));
            key
        };
        let mut start = after.map(start_key);
        let mut matched: Vec<Item> = Vec::new();
        let mut read = 0usize;
        let mut stopped_at: Option<Item> = None;
        loop {
            let budget = self.page_read_budget();
            let chunk = i32::try_from(budget.saturating_sub(read).clamp(1, READ_CHUNK as usize)).unwrap_or(READ_CHUNK);
            // Without filters every entry is a match: read just one more than the page.
            let chunk = if clauses.is_empty() {
                chunk.min(i32::try_from(limit + 1 - matched.len()).unwrap_or(READ_CHUNK))
            } else {
                chunk
            };
            let mut request = self
                .client()
                .query()
                .table_name(self.table())
                .index_name(index)
                .key_condition_expression(&condition)
                .scan_index_forward(false)
                .limit(chunk)
                .set_exclusive_start_key(start.take())
                .expression_attribute_names("#hash", hash_name)
                .expression_attribute_values(":hash", s(hash_value.clone()));
            if query.since.is_some() || query.until.is_some() {
                request = request.expression_attribute_names("#gsk", GSI1SK);
            }
            if let Some(t) = query.since {
                request = request.expression_attribute_values(":since", s(sort_time(t)));
            }
            if let Some(t) = query.until {
                // BETWEEN includes its upper end: a bare time sorts before every key of that
                // instant, so keys at `until` itself are still left out.
                request = request.expression_attribute_values(":until", s(sort_time(t)));
            }
            if !clauses.is_empty() {
                request = request
                    .filter_expression(clauses.join(" AND "))
                    .set_expression_attribute_names(Some({
                        let mut all = filter_names.clone();
                        all.insert("#hash".into(), hash_name.into());
                        if query.since.is_some() || query.until.is_some() {
                            all.insert("#gsk".into(), GSI1SK.into());
                        }
                        all
                    }))
                    .set_expression_attribute_values(Some({
                        let mut all = filter_values.clone();
                        all.insert(":hash".into(), s(hash_value.clone()));
                        if let Some(t) = query.since {
                            all.insert(":since".into(), s(sort_time(t)));
                        }
                        if let Some(t) = query.until {
                            all.insert(":until".into(), s(sort_time(t)));
                        }
                        all
                    }));
            }
            let out = request.send().await.map_err(|e| port_error(OP, e))?;
            read += usize::try_from(out.scanned_count).unwrap_or(0).max(1);
            matched.extend(out.items.unwrap_or_default());
            let more = out.last_evaluated_key.filter(|k| !k.is_empty());
            if matched.len() > limit {
                break;
            }
            match more {
                None => break,
                Some(k) if read >= self.page_read_budget() => {
                    stopped_at = Some(k);
                    break;
                }
                Some(k) => start = Some(k),
            }
        }
        let next = if matched.len() > limit {
            matched.truncate(limit);
            matched.last().map(cursor_of).transpose()?
        } else {
            // The read budget ran out: the next page goes on from where this one stopped.
            stopped_at.as_ref().map(cursor_of).transpose()?
        };
        let keys = matched.iter().filter_map(|e| Some(key_of(item_s(e, PK)?, item_s(e, SK)?))).collect::<Vec<_>>();
        let orders = if keys.is_empty() { Vec::new() } else { self.orders_by_key(keys).await? };
        Ok(OrderPage { orders, next })
    }

    async fn tab_counts(&self, shop_id: &str) -> Result<Vec<(ListTab, u64)>, PortError> {
        let item = self.get_item("dynamodb GetItem tab counts", shop_pk(shop_id), TAB_COUNTS_SK.to_string()).await?;
        let mut out = Vec::new();
        for (name, value) in item.unwrap_or_default() {
            let (Ok(tab), AttributeValue::N(count)) = (name.parse::<ListTab>(), value) else { continue };
            if let Ok(count @ 1..) = count.parse::<u64>() {
                out.push((tab, count));
            }
        }
        out.sort();
        Ok(out)
    }
}
