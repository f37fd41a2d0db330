//! Quarantine that says each broken order once: 楽天, Yahoo and au PAY re-read a look-back on
//! every pull, so the same unreadable order comes back every few minutes. A marker per (order,
//! reason) lets only the first sighting through to the queue, where the alarm calls a person.
//! The marker is written after the queue took the order: a failed send leaves none, so the next
//! sighting forwards it (a marker write that fails after the send forwards it twice — harmless,
//! and the one duplicate window here; runs of a pair never overlap, so none race).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sdk_dynamodb::types::AttributeValue;
use ichigen_core::pipeline::stored::hashed;
use ichigen_core::pipeline::{PortError, Quarantine, Rejected};

use crate::DynamoStore;
use crate::queue::SqsQuarantine;
use crate::table::{EXPIRES_AT, PK, SK, shop_pk};

/// How long a marker keeps a broken order from being quarantined again: longer than every
/// marketplace's look-back (Yahoo's is 60 days).
pub const MARKER_RETENTION: Duration = Duration::from_secs(90 * 24 * 3600);

/// The sort key of the marker of a rejected order (`QUARANTINE#<marketplace>#<order id>#<reason hash>`).
pub fn quarantine_sk(r: &Rejected, order_id: &str) -> String {
    let reason = hashed(&r.reason);
    format!("QUARANTINE#{}#{order_id}#{}", r.marketplace, &reason[..16])
}

/// Forwards each rejected order to the quarantine queue the first time it is seen.
#[derive(Debug, Clone)]
pub struct OnceQuarantine {
    store: DynamoStore,
    queue: SqsQuarantine,
}

impl OnceQuarantine {
    /// Markers in `store`, messages to `queue`.
    pub fn new(store: DynamoStore, queue: SqsQuarantine) -> Self {
        OnceQuarantine { store, queue }
    }

    /// Whether the marker of (order, reason) is there (a consistent read).
    async fn marked(&self, r: &Rejected, order_id: &str) -> Result<bool, PortError> {
        let out = self
            .store
            .client()
            .get_item()
            .table_name(self.store.table())
            .key(PK, AttributeValue::S(shop_pk(&r.shop_id)))
            .key(SK, AttributeValue::S(quarantine_sk(r, order_id)))
            .projection_expression("#pk")
            .expression_attribute_names("#pk", PK)
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| crate::error::port_error("dynamodb GetItem quarantine marker", e))?;
        Ok(out.item.is_some())
    }

    /// Puts the marker of (order, reason), after the order reached the queue.
    async fn mark(&self, r: &Rejected, order_id: &str) -> Result<(), PortError> {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
        let expires = (now + MARKER_RETENTION).as_secs();
        self.store
            .client()
            .put_item()
            .table_name(self.store.table())
            .item(PK, AttributeValue::S(shop_pk(&r.shop_id)))
            .item(SK, AttributeValue::S(quarantine_sk(r, order_id)))
            .item("reason", AttributeValue::S(r.reason.clone()))
            .item(EXPIRES_AT, AttributeValue::N(expires.to_string()))
            .send()
            .await
            .map_err(|e| crate::error::port_error("dynamodb PutItem quarantine marker", e))?;
        Ok(())
    }
}

impl Quarantine for OnceQuarantine {
    async fn quarantine(&self, rejected: &[Rejected]) -> Result<(), PortError> {
        let mut first: Vec<Rejected> = Vec::new();
        for r in rejected {
            // Without an order id there is nothing to recognise it by: always forward. The same
            // (order, reason) twice in one call goes once.
            let seen = match &r.order_id {
                Some(id) => self.marked(r, id).await? || first.iter().any(|f| f == r),
                None => false,
            };
            if !seen {
                first.push(r.clone());
            }
        }
        self.queue.quarantine(&first).await?;
        for r in &first {
            if let Some(id) = &r.order_id {
                self.mark(r, id).await?;
            }
        }
        Ok(())
    }
}
