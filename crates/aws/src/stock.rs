//! [`StockStore`] on the DynamoDB table, in the shop's partition next to its orders:
//! `SKU#{sku}` (on hand, reserved, and `seq`, the number of its last change),
//! `LISTING#{marketplace}#{item}`, `HOLDING#{marketplace}#{order_id}` (what an order holds, with
//! its `rev`) and `SKULOG#{sku}#{seq}` (each change, in the order made). An order's holding, the
//! SKUs it moves and their history items are written in one `TransactWriteItems`, conditional on
//! the holding's previous `rev` and each SKU's previous `seq`: a concurrent apply or count makes
//! the transaction fail as a whole and this one reads again and retries, so stock never moves
//! twice.

use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem, Update};
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use chrono::{DateTime, FixedOffset};
use ichigen_core::order::Marketplace;
use ichigen_core::pipeline::{OrderKey, PortError, Written};
use ichigen_core::stock::push::PushState;
use ichigen_core::stock::{BY_ORDERS, Count, Edit, Holding, Listing, Step, Stock, StockChange, StockStore};

use crate::error::port_error;
use crate::item::{Item, decode, encode};
use crate::store::{DynamoStore, key_of, n, names, s};
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

/// Where one SKU stands before a change: its change counter (`None`: no item yet).
struct Before {
    seq: Option<u64>,
    on_hand: i64,
}

impl DynamoStore {
    /// The SKU's item as it is (read consistently).
    async fn sku_before(&self, shop_id: &str, sku: &str) -> Result<Before, PortError> {
        let item = self.get_item("dynamodb GetItem stock", shop_pk(shop_id), sku_sk(sku)).await?;
        let number = |item: &Item, name: &str| match item.get(name) {
            Some(AttributeValue::N(v)) => v.parse::<i64>().ok(),
            _ => None,
        };
        Ok(match item {
            None => Before { seq: None, on_hand: 0 },
            Some(item) => Before {
                seq: Some(number(&item, SEQ).and_then(|v| u64::try_from(v).ok()).unwrap_or(0)),
                on_hand: number(&item, "on_hand").unwrap_or(0),
            },
        })
    }

    /// The two transaction items of one change: the SKU moved (if its counter is still
    /// `before`) and the change recorded under the counter's next value.
    fn change_items(
        &self,
        shop_id: &str,
        change: &StockChange,
        name: Option<&str>,
        before: &Before,
    ) -> Result<[TransactWriteItem; 2], PortError> {
        let seq = before.seq.unwrap_or(0) + 1;
        // A name given now replaces the stored one; otherwise a new SKU gets an empty one.
        let name_part = if name.is_some() { "#name = :name" } else { "#name = if_not_exists(#name, :name)" };
        let mut update = Update::builder()
            .table_name(self.table())
            .set_key(Some(key_of(shop_pk(shop_id), sku_sk(&change.sku))))
            .update_expression(format!(
                "SET #sku = :sku, {name_part}, #on_hand = if_not_exists(#on_hand, :zero) + :on_hand, \
                 #reserved = if_not_exists(#reserved, :zero) + :reserved, #updated_at = :at, #seq = :seq"
            ))
            .set_expression_attribute_names(Some(names([
                ("#sku", "sku"),
                ("#name", "name"),
                ("#on_hand", "on_hand"),
                ("#reserved", "reserved"),
                ("#updated_at", "updated_at"),
                ("#seq", SEQ),
            ])))
            .expression_attribute_values(":sku", s(change.sku.clone()))
            .expression_attribute_values(":name", s(name.unwrap_or_default()))
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":on_hand", n(change.on_hand))
            .expression_attribute_values(":reserved", n(change.reserved))
            .expression_attribute_values(":at", s(time(change.at)))
            .expression_attribute_values(":seq", n(seq));
        update = match before.seq {
            None => update.condition_expression("attribute_not_exists(#pk)").expression_attribute_names("#pk", PK),
            Some(old) => update.condition_expression("#seq = :old").expression_attribute_values(":old", n(old)),
        };
        let (pk, sk) = (shop_pk(shop_id), log_sk(&change.sku, seq));
        let mut log = encode("stock change", &format!("{pk}/{sk}"), change)?;
        log.insert(PK.into(), s(pk));
        log.insert(SK.into(), s(sk));
        let put = Put::builder().table_name(self.table()).set_item(Some(log)).build().map_err(build_error)?;
        Ok([
            TransactWriteItem::builder().update(update.build().map_err(build_error)?).build(),
            TransactWriteItem::builder().put(put).build(),
        ])
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
        let request = self
            .client()
            .query()
            .table_name(self.table())
            .key_condition_expression("#pk = :pk AND begins_with(#sk, :prefix)")
            .expression_attribute_names("#pk", PK)
            .expression_attribute_names("#sk", SK)
            .expression_attribute_values(":pk", s(shop_pk(shop_id)))
            .expression_attribute_values(":prefix", s(prefix))
            .consistent_read(true);
        self.query_all(operation, request).await
    }
}

impl StockStore for DynamoStore {
    async fn stocks(&self, shop_id: &str) -> Result<Vec<Stock>, PortError> {
        let items = self.query_prefix("dynamodb Query stock", shop_id, SKU_PREFIX).await?;
        items
            .into_iter()
            .map(|mut item| {
                item.remove(SEQ);
                decode("stock", item)
            })
            .collect()
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
            let before = self.sku_before(shop_id, sku).await?;
            let delta = match count {
                Count::Set(n) => n - before.on_hand,
                Count::Adjust(d) => d,
            };
            let change = StockChange {
                sku: sku.to_string(),
                at: by.at,
                who: by.who.to_string(),
                why: by.why.to_string(),
                on_hand: delta,
                reserved: 0,
                order: None,
            };
            if self.transact(OP, self.change_items(shop_id, &change, name, &before)?.to_vec()).await? {
                let item = self.get_item("dynamodb GetItem stock", shop_pk(shop_id), sku_sk(sku)).await?;
                let mut item = item.ok_or_else(|| PortError::permanent(OP, "the SKU item vanished"))?;
                item.remove(SEQ);
                return decode("stock", item);
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
            let mut items = Vec::with_capacity(1 + 2 * step.moves.len());
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
                let before = self.sku_before(&order.shop_id, sku).await?;
                items.extend(self.change_items(&order.shop_id, &change, None, &before)?);
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

    async fn put_ledger(&self, _shop_id: &str, ledger: &Stock) -> Result<bool, PortError> {
        Err(PortError::permanent(
            "dynamodb stock ledger",
            format!("SKU {}: the allotment ledger is not built on DynamoDB yet (docs/STOCK.md)", ledger.sku),
        ))
    }

    async fn push_state(&self, _shop_id: &str, _marketplace: Marketplace) -> Result<Option<PushState>, PortError> {
        // Refused before the push makes any mall call: the pull report says why.
        Err(PortError::permanent(
            "dynamodb stock push record",
            "the stock push is not built on DynamoDB yet (docs/STOCK.md)",
        ))
    }

    async fn put_push_state(&self, _state: &PushState, _expected: Option<u64>) -> Result<Written, PortError> {
        Err(PortError::permanent(
            "dynamodb stock push record",
            "the stock push is not built on DynamoDB yet (docs/STOCK.md)",
        ))
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
