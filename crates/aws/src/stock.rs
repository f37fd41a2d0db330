//! [`StockStore`] on the DynamoDB table, in the shop's partition next to its orders:
//! `SKU#{sku}` (on hand, reserved, the allotment ledger — `allotted`, `cancelled`, `drawn` per
//! holder — and `seq`, the number of its last change), `LISTING#{marketplace}#{item}`,
//! `HOLDING#{marketplace}#{order_id}` (what an order holds, with its `rev`),
//! `SKULOG#{sku}#{seq}` (each change of the counts, in the order made) and
//! `STOCKPUSH#{marketplace}` (a pair's push record, with its `rev`). An order's holding, the SKUs
//! it moves (by [`Stock::apply`], the rule the embedded store follows) and their history items are
//! written in one `TransactWriteItems`, conditional on the holding's previous `rev` and each SKU's
//! previous `seq`: a concurrent apply, count or ledger write makes the transaction fail as a
//! whole and this one reads again and retries, so stock never moves twice.

use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem};
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use chrono::{DateTime, FixedOffset};
use ichigen_core::order::Marketplace;
use ichigen_core::pipeline::{OrderKey, PortError, Written};
use ichigen_core::stock::push::PushState;
use ichigen_core::stock::{BY_ORDERS, Count, Edit, Holding, Listing, Step, Stock, StockChange, StockStore};

use crate::error::port_error;
use crate::item::{Item, ItemError, decode, encode};
use crate::store::{DynamoStore, is_condition_failed, key_of, n, names, s};
use crate::table::{PK, REV, SK, shop_pk};

/// Sort key prefix of a shop's SKUs.
const SKU_PREFIX: &str = "SKU#";
/// Sort key prefix of a shop's listings.
const LISTING_PREFIX: &str = "LISTING#";
/// Sort key prefix of a SKU's changes.
const LOG_PREFIX: &str = "SKULOG#";

/// The SKU item's change counter.
const SEQ: &str = "seq";

/// Tries of a transaction that lost a race before the call fails (retryably).
const ATTEMPTS: usize = 6;

/// DynamoDB's limit of items in one transaction.
const MAX_TRANSACTION_ITEMS: usize = 100;

/// A key part with `#` and `%` escaped, so that `SKULOG#{sku}#` is the prefix of that SKU's
/// changes only (a SKU `A` must not list those of `A#B`).
fn key_part(text: &str) -> String {
    text.replace('%', "%25").replace('#', "%23")
}

fn sku_sk(sku: &str) -> String {
    format!("{SKU_PREFIX}{sku}")
}

fn listing_sk(listing: &Listing) -> String {
    format!("{LISTING_PREFIX}{}#{}", listing.marketplace, listing.item)
}

fn holding_sk(order: &OrderKey) -> String {
    format!("HOLDING#{}#{}", order.marketplace, order.order_id)
}

/// Sort key of a pair's push record.
fn push_sk(marketplace: Marketplace) -> String {
    format!("STOCKPUSH#{marketplace}")
}

fn log_prefix(sku: &str) -> String {
    format!("{LOG_PREFIX}{}#", key_part(sku))
}

/// Zero-padded, so that text order is the order of the changes.
fn log_sk(sku: &str, seq: u64) -> String {
    format!("{}{seq:020}", log_prefix(sku))
}

fn time(t: DateTime<FixedOffset>) -> String {
    t.to_rfc3339()
}

/// What a transaction item failed to build into (a bug, never the data).
fn build_error(e: impl Into<ichigen_core::pipeline::BoxError>) -> PortError {
    PortError::permanent("dynamodb TransactWriteItems stock", e)
}

/// The condition that a SKU's item is still as read: absent (`None`), or at change `seq` (an
/// item from before the counter counts as 0).
fn sku_unchanged(before: Option<u64>) -> (&'static str, Option<AttributeValue>) {
    match before {
        None => ("attribute_not_exists(#pk)", None),
        Some(0) => ("attribute_exists(#pk) AND (attribute_not_exists(#seq) OR #seq = :old)", Some(n(0))),
        Some(seq) => ("attribute_exists(#pk) AND #seq = :old", Some(n(seq))),
    }
}

impl DynamoStore {
    /// The SKU's item as it is (read consistently; `None`: no item yet).
    async fn sku_row(&self, shop_id: &str, sku: &str) -> Result<Option<Stock>, PortError> {
        let item = self.get_item("dynamodb GetItem stock", shop_pk(shop_id), sku_sk(sku)).await?;
        item.map(|item| decode("stock", item)).transpose()
    }

    /// The transaction item writing `row` (its counts, ledger and next `seq`) over the SKU's
    /// item, if that is still at change `before` (`None`: there was none).
    fn sku_put(&self, shop_id: &str, row: &Stock, before: Option<u64>) -> Result<TransactWriteItem, PortError> {
        let (pk, sk) = (shop_pk(shop_id), sku_sk(&row.sku));
        let mut item = encode("stock", &format!("{pk}/{sk}"), row)?;
        item.insert(PK.into(), s(pk));
        item.insert(SK.into(), s(sk));
        let (condition, old) = sku_unchanged(before);
        let mut put = Put::builder()
            .table_name(self.table())
            .set_item(Some(item))
            .condition_expression(condition)
            .expression_attribute_names("#pk", PK);
        if let Some(old) = old {
            put = put.expression_attribute_names("#seq", SEQ).expression_attribute_values(":old", old);
        }
        Ok(TransactWriteItem::builder().put(put.build().map_err(build_error)?).build())
    }

    /// The transaction item recording `change` as the SKU's change number `seq`.
    fn log_put(&self, shop_id: &str, change: &StockChange, seq: u64) -> Result<TransactWriteItem, PortError> {
        let (pk, sk) = (shop_pk(shop_id), log_sk(&change.sku, seq));
        let mut log = encode("stock change", &format!("{pk}/{sk}"), change)?;
        log.insert(PK.into(), s(pk));
        log.insert(SK.into(), s(sk));
        let put = Put::builder().table_name(self.table()).set_item(Some(log)).build().map_err(build_error)?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    /// Runs one transaction; `false` when a condition failed (someone changed an item between).
    async fn transact(&self, operation: &'static str, items: Vec<TransactWriteItem>) -> Result<bool, PortError> {
        if items.len() > MAX_TRANSACTION_ITEMS {
            return Err(PortError::permanent(
                operation,
                format!("{} items: more SKUs than one DynamoDB transaction can move", items.len()),
            ));
        }
        match self.client().transact_write_items().set_transact_items(Some(items)).send().await {
            Ok(_) => Ok(true),
            Err(e) if e.code() == Some("TransactionCanceledException") => Ok(false),
            Err(e) => Err(port_error(operation, e)),
        }
    }

    async fn query_prefix(&self, operation: &'static str, shop_id: &str, prefix: &str) -> Result<Vec<Item>, PortError> {
        self.query_all(operation, self.prefix_query(shop_id, prefix).consistent_read(true)).await
    }
}

impl StockStore for DynamoStore {
    async fn stocks(&self, shop_id: &str) -> Result<Vec<Stock>, PortError> {
        let items = self.query_prefix("dynamodb Query stock", shop_id, SKU_PREFIX).await?;
        items.into_iter().map(|item| decode("stock", item)).collect()
    }

    async fn count(
        &self,
        shop_id: &str,
        sku: &str,
        name: Option<&str>,
        count: Count,
        by: &Edit<'_>,
    ) -> Result<Stock, PortError> {
        const OP: &str = "dynamodb TransactWriteItems stock count";
        for _ in 0..ATTEMPTS {
            let stored = self.sku_row(shop_id, sku).await?;
            let before = stored.as_ref().map(|r| r.seq);
            let mut row = stored.unwrap_or_else(|| Stock::empty(sku, by.at));
            let delta = match count {
                Count::Set(n) => n - row.on_hand,
                Count::Adjust(d) => d,
            };
            row.on_hand += delta;
            row.updated_at = by.at;
            row.seq += 1;
            if let Some(name) = name {
                row.name = name.to_string();
            }
            let change = StockChange {
                sku: sku.to_string(),
                at: by.at,
                who: by.who.to_string(),
                why: by.why.to_string(),
                on_hand: delta,
                reserved: 0,
                order: None,
            };
            let items = vec![self.sku_put(shop_id, &row, before)?, self.log_put(shop_id, &change, row.seq)?];
            if self.transact(OP, items).await? {
                return Ok(row);
            }
        }
        Err(PortError::retryable(OP, "the SKU kept changing under the write"))
    }

    async fn listings(&self, shop_id: &str) -> Result<Vec<Listing>, PortError> {
        let items = self.query_prefix("dynamodb Query listings", shop_id, LISTING_PREFIX).await?;
        let mut out: Vec<Listing> = items.into_iter().map(|i| decode("listing", i)).collect::<Result<_, _>>()?;
        out.sort_by(|a, b| (a.marketplace.as_str(), &a.item).cmp(&(b.marketplace.as_str(), &b.item)));
        Ok(out)
    }

    async fn put_listing(&self, shop_id: &str, listing: &Listing) -> Result<(), PortError> {
        let (pk, sk) = (shop_pk(shop_id), listing_sk(listing));
        let mut item = encode("listing", &format!("{pk}/{sk}"), listing)?;
        item.insert(PK.into(), s(pk));
        item.insert(SK.into(), s(sk));
        self.client()
            .put_item()
            .table_name(self.table())
            .set_item(Some(item))
            .send()
            .await
            .map_err(|e| port_error("dynamodb PutItem listing", e))?;
        Ok(())
    }

    async fn apply_holding(
        &self,
        order: &OrderKey,
        next: &Holding,
        at: DateTime<FixedOffset>,
    ) -> Result<Vec<StockChange>, PortError> {
        const OP: &str = "dynamodb TransactWriteItems stock holding";
        let (pk, sk) = (shop_pk(&order.shop_id), holding_sk(order));
        for _ in 0..ATTEMPTS {
            let stored = self.get_item("dynamodb GetItem stock holding", pk.clone(), sk.clone()).await?;
            let (prev, rev) = match stored {
                None => (None, None),
                Some(mut item) => {
                    let rev = match item.remove(REV) {
                        Some(AttributeValue::N(v)) => v.parse::<u64>().ok(),
                        _ => None,
                    };
                    item.remove("updated_at");
                    (Some(decode::<Holding>("stock holding", item)?), Some(rev.unwrap_or(0)))
                }
            };
            let Some(step) = Step::of(prev.as_ref(), next) else {
                return Ok(Vec::new());
            };
            let skus = step.skus();
            let mut items = Vec::with_capacity(1 + skus.len() + step.moves.len());
            let mut holding = encode("stock holding", &format!("{pk}/{sk}"), &step.keep)?;
            holding.insert(PK.into(), s(pk.clone()));
            holding.insert(SK.into(), s(sk.clone()));
            holding.insert(REV.into(), n(rev.map_or(1, |r| r + 1)));
            holding.insert("updated_at".into(), s(time(at)));
            let put = Put::builder().table_name(self.table()).set_item(Some(holding));
            let put = match rev {
                None => put.condition_expression("attribute_not_exists(#pk)").expression_attribute_names("#pk", PK),
                Some(r) => put
                    .condition_expression("#rev = :rev")
                    .expression_attribute_names("#rev", REV)
                    .expression_attribute_values(":rev", n(r)),
            };
            items.push(TransactWriteItem::builder().put(put.build().map_err(build_error)?).build());
            // Each SKU the step touches, moved by the same rule as the embedded store
            // (`Stock::apply`: counts, then its holders' allotments), over the change read.
            let mut seqs = std::collections::BTreeMap::new();
            for sku in skus {
                let stored = self.sku_row(&order.shop_id, sku).await?;
                let before = stored.as_ref().map(|r| r.seq);
                let mut row = stored.unwrap_or_else(|| Stock::empty(sku, at));
                row.apply(&step);
                row.updated_at = at;
                row.seq += 1;
                items.push(self.sku_put(&order.shop_id, &row, before)?);
                seqs.insert(sku, row.seq);
            }
            let mut changes = Vec::with_capacity(step.moves.len());
            for (sku, on_hand, reserved) in &step.moves {
                let change = StockChange {
                    sku: sku.clone(),
                    at,
                    who: BY_ORDERS.to_string(),
                    why: step.why().to_string(),
                    on_hand: *on_hand,
                    reserved: *reserved,
                    order: Some(order.clone()),
                };
                let seq = seqs
                    .get(sku.as_str())
                    .copied()
                    .ok_or_else(|| build_error("a move of a SKU the step does not touch"))?;
                items.push(self.log_put(&order.shop_id, &change, seq)?);
                changes.push(change);
            }
            if self.transact(OP, items).await? {
                return Ok(changes);
            }
        }
        Err(PortError::retryable(OP, "the order's holding or its SKUs kept changing under the write"))
    }

    async fn changes(&self, shop_id: &str, sku: &str, limit: usize) -> Result<Vec<StockChange>, PortError> {
        const OP: &str = "dynamodb Query stock changes";
        let page = i32::try_from(limit).unwrap_or(i32::MAX).max(1);
        let mut pages = self
            .client()
            .query()
            .table_name(self.table())
            .key_condition_expression("#pk = :pk AND begins_with(#sk, :prefix)")
            .expression_attribute_names("#pk", PK)
            .expression_attribute_names("#sk", SK)
            .expression_attribute_values(":pk", s(shop_pk(shop_id)))
            .expression_attribute_values(":prefix", s(log_prefix(sku)))
            .scan_index_forward(false)
            .limit(page)
            .consistent_read(true)
            .into_paginator()
            .send();
        // A page holds at most 1 MB: follow them until `limit` changes are read.
        let mut out = Vec::new();
        while out.len() < limit {
            let Some(page) = pages.next().await else { break };
            for item in page.map_err(|e| port_error(OP, e))?.items.unwrap_or_default() {
                if out.len() < limit {
                    out.push(decode("stock change", item)?);
                }
            }
        }
        Ok(out)
    }

    async fn put_ledger(&self, shop_id: &str, ledger: &Stock) -> Result<bool, PortError> {
        const OP: &str = "dynamodb UpdateItem stock ledger";
        let map = |what: &'static str, m: &std::collections::BTreeMap<String, i64>| {
            serde_dynamo::to_attribute_value::<_, AttributeValue>(m).map_err(|source| {
                PortError::permanent(OP, ItemError::Encode { what, key: sku_sk(&ledger.sku), source })
            })
        };
        let (condition, old) = sku_unchanged(Some(ledger.seq));
        let mut request = self
            .client()
            .update_item()
            .table_name(self.table())
            .set_key(Some(key_of(shop_pk(shop_id), sku_sk(&ledger.sku))))
            .update_expression("SET #allotted = :allotted, #cancelled = :cancelled, #drawn = :drawn, #seq = :next")
            .condition_expression(condition)
            .set_expression_attribute_names(Some(names([
                ("#pk", PK),
                ("#seq", SEQ),
                ("#allotted", "allotted"),
                ("#cancelled", "cancelled"),
                ("#drawn", "drawn"),
            ])))
            .expression_attribute_values(":allotted", map("stock allotments", &ledger.allotted)?)
            .expression_attribute_values(":cancelled", map("stock cancellations", &ledger.cancelled)?)
            .expression_attribute_values(":drawn", map("stock draws", &ledger.drawn)?)
            .expression_attribute_values(":next", n(ledger.seq + 1));
        if let Some(old) = old {
            request = request.expression_attribute_values(":old", old);
        }
        let result = request.send().await;
        match result {
            Ok(_) => Ok(true),
            Err(e) if is_condition_failed(&e) => Ok(false),
            Err(e) => Err(port_error(OP, e)),
        }
    }

    async fn push_state(&self, shop_id: &str, marketplace: Marketplace) -> Result<Option<PushState>, PortError> {
        let item = self.get_item("dynamodb GetItem stock push record", shop_pk(shop_id), push_sk(marketplace)).await?;
        item.map(|i| decode("stock push record", i)).transpose()
    }

    async fn put_push_state(&self, state: &PushState, expected: Option<u64>) -> Result<Written, PortError> {
        let (pk, sk) = (shop_pk(&state.shop_id), push_sk(state.marketplace));
        let mut item = encode("stock push record", &format!("{pk}/{sk}"), state)?;
        item.insert(PK.into(), s(pk));
        item.insert(SK.into(), s(sk));
        self.put_revision("dynamodb PutItem stock push record", item, expected).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_skus_change_prefix_is_its_own() {
        assert!(!log_sk("A#B", 1).starts_with(&log_prefix("A")));
        assert!(log_sk("A", 1).starts_with(&log_prefix("A")));
        assert!(log_sk("A", 2) > log_sk("A", 10).replace("10", "01"));
        assert!(log_sk("A", 9) < log_sk("A", 10));
    }
}
