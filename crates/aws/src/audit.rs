//! The audit log of staff actions on DynamoDB (`AuditLog`): each entry is two items under the
//! shop, written together — one in the shop's time line (`AUDIT#…`, for 監査ログ) and, for an
//! action on an order, one under the order (`OAUDIT#{marketplace}#{order id}#…`, for its page).
//! Both expire like the mail ledger (the store's retention after the action).

use aws_sdk_dynamodb::types::{Put, TransactWriteItem};
use chrono::Utc;
use ichigen_core::console::{AuditEntry, AuditLog};
use ichigen_core::pipeline::{OrderKey, PortError};

use crate::error::port_error;
use crate::item::{Item, decode, encode};
use crate::store::{DynamoStore, n, s};
use crate::table::{AUDIT_PREFIX, EXPIRES_AT, PK, SK, order_audit_prefix, shop_pk, sort_time};

/// Entries one `Query` call reads for 監査ログ.
const PAGE: i32 = 100;

impl DynamoStore {
    fn audit_item(&self, entry: &AuditEntry, sk: String) -> Result<Item, PortError> {
        let pk = shop_pk(&entry.shop_id);
        let mut item = encode("audit entry", &format!("{pk}/{sk}"), entry)?;
        item.insert(PK.into(), s(pk));
        item.insert(SK.into(), s(sk));
        item.insert(EXPIRES_AT.into(), n(self.expiry(entry.at)));
        Ok(item)
    }
}

impl AuditLog for DynamoStore {
    async fn record_action(&self, entry: &AuditEntry) -> Result<(), PortError> {
        const OP: &str = "dynamodb TransactWriteItems audit";
        // The action's time, then the time it was recorded: entries of one instant keep the
        // order they were recorded in; the random tail keeps two writers apart.
        let suffix = format!("{}#{}#{:04x}", sort_time(entry.at), sort_time(Utc::now().into()), fastrand::u16(..));
        let mut items = vec![self.audit_item(entry, format!("{AUDIT_PREFIX}{suffix}"))?];
        if let Some(order) = &entry.order {
            items.push(
                self.audit_item(entry, format!("{}{suffix}", order_audit_prefix(order.marketplace, &order.order_id)))?,
            );
        }
        let mut request = self.client().transact_write_items();
        for item in items {
            let put = Put::builder()
                .table_name(self.table())
                .set_item(Some(item))
                .build()
                .map_err(|e| PortError::permanent(OP, e))?;
            request = request.transact_items(TransactWriteItem::builder().put(put).build());
        }
        request.send().await.map_err(|e| port_error(OP, e))?;
        Ok(())
    }

    async fn order_actions(&self, key: &OrderKey) -> Result<Vec<AuditEntry>, PortError> {
        let request = self
            .prefix_query(&key.shop_id, order_audit_prefix(key.marketplace, &key.order_id))
            .scan_index_forward(false);
        let items = self.query_all("dynamodb Query order audit", request).await?;
        let entries =
            items.into_iter().map(|i| decode::<AuditEntry>("audit entry", i)).collect::<Result<Vec<_>, _>>()?;
        // An order whose id extends this one's past a `#` shares the prefix: keep this order's.
        Ok(entries.into_iter().filter(|e| e.order.as_ref() == Some(key)).collect())
    }

    async fn recent_actions(&self, shop_id: &str, limit: usize) -> Result<Vec<AuditEntry>, PortError> {
        const OP: &str = "dynamodb Query audit";
        let mut out = Vec::new();
        let mut start = None;
        while out.len() < limit {
            let page = self
                .prefix_query(shop_id, AUDIT_PREFIX)
                .scan_index_forward(false)
                .limit(PAGE.min(i32::try_from(limit - out.len()).unwrap_or(PAGE)))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| port_error(OP, e))?;
            for item in page.items.unwrap_or_default() {
                out.push(decode::<AuditEntry>("audit entry", item)?);
            }
            match page.last_evaluated_key.filter(|k| !k.is_empty()) {
                Some(k) => start = Some(k),
                None => break,
            }
        }
        out.truncate(limit);
        Ok(out)
    }
}
