//! The mail-route records of [`DynamoStore`], under the shop's partition: buyer mails waiting for
//! their relay (`PARKED#…`), the mark that staff were told (`WAITING#…`, written once with a
//! condition), delivery events (`MAILEVENT#{time}#{id}`) and suppressed addresses by hash
//! (`SUPPRESS#{hash}`: no address in any key).

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, FixedOffset};
use ichigen_core::Marketplace;
use ichigen_core::pipeline::bounce::address_key;
use ichigen_core::pipeline::{MailEvent, MailEvents, MailJob, ParkedMail, PortError};

use crate::error::port_error;
use crate::item::{decode, encode};
use crate::store::{DynamoStore, is_condition_failed, key_of, n, s};
use crate::table::{
    EVENT_PREFIX, EXPIRES_AT, PK, SK, event_sk, parked_prefix, parked_sk, shop_pk, sort_time, suppress_sk, waiting_sk,
};

/// When the record was made.
const SINCE: &str = "since";

impl ParkedMail for DynamoStore {
    async fn park(&self, job: &MailJob, at: DateTime<FixedOffset>) -> Result<bool, PortError> {
        let o = &job.order;
        let (pk, sk) = (shop_pk(&o.shop_id), parked_sk(o.marketplace, &o.order_id, job.kind));
        let mut item = encode("parked mail", &format!("{pk}/{sk}"), job)?;
        item.insert(PK.into(), s(pk.clone()));
        item.insert(SK.into(), s(sk));
        item.insert(SINCE.into(), s(sort_time(at)));
        // A parked mail waits as long as it takes; the TTL only ends one that outlived its order.
        item.insert(EXPIRES_AT.into(), n(self.expiry(at)));
        self.client()
            .put_item()
            .table_name(self.table())
            .set_item(Some(item))
            .send()
            .await
            .map_err(|e| port_error("dynamodb PutItem parked mail", e))?;
        let mut mark = key_of(pk, waiting_sk(o.marketplace));
        mark.insert(SINCE.into(), s(sort_time(at)));
        let marked = self
            .client()
            .put_item()
            .table_name(self.table())
            .set_item(Some(mark))
            .condition_expression("attribute_not_exists(#pk)")
            .expression_attribute_names("#pk", PK)
            .send()
            .await;
        match marked {
            Ok(_) => Ok(true),
            Err(e) if is_condition_failed(&e) => Ok(false),
            Err(e) => Err(port_error("dynamodb PutItem relay waiting", e)),
        }
    }

    async fn parked(&self, shop_id: &str, marketplace: Marketplace, limit: usize) -> Result<Vec<MailJob>, PortError> {
        let out = self
            .prefix_query(shop_id, parked_prefix(marketplace))
            .limit(i32::try_from(limit).unwrap_or(i32::MAX))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| port_error("dynamodb Query parked mail", e))?;
        out.items
            .unwrap_or_default()
            .into_iter()
            .map(|mut item| {
                item.remove(SINCE);
                item.remove(EXPIRES_AT);
                decode("parked mail", item)
            })
            .collect()
    }

    async fn unpark(&self, job: &MailJob) -> Result<(), PortError> {
        let o = &job.order;
        self.client()
            .delete_item()
            .table_name(self.table())
            .set_key(Some(key_of(shop_pk(&o.shop_id), parked_sk(o.marketplace, &o.order_id, job.kind))))
            .send()
            .await
            .map_err(|e| port_error("dynamodb DeleteItem parked mail", e))?;
        Ok(())
    }

    async fn clear_waiting(&self, shop_id: &str, marketplace: Marketplace) -> Result<(), PortError> {
        self.client()
            .delete_item()
            .table_name(self.table())
            .set_key(Some(key_of(shop_pk(shop_id), waiting_sk(marketplace))))
            .send()
            .await
            .map_err(|e| port_error("dynamodb DeleteItem relay waiting", e))?;
        Ok(())
    }
}

impl MailEvents for DynamoStore {
    async fn record_event(&self, event: &MailEvent) -> Result<(), PortError> {
        let pk = shop_pk(&event.shop_id);
        let sk = event_sk(event.at, &event.id());
        let mut item = encode("mail event", &format!("{pk}/{sk}"), event)?;
        item.insert(PK.into(), s(pk.clone()));
        item.insert(SK.into(), s(sk));
        item.insert(EXPIRES_AT.into(), n(self.expiry(event.at)));
        self.client()
            .put_item()
            .table_name(self.table())
            .set_item(Some(item))
            .send()
            .await
            .map_err(|e| port_error("dynamodb PutItem mail event", e))?;
        if event.kind.suppresses() {
            let mut mark = key_of(pk, suppress_sk(&address_key(&event.address)));
            mark.insert(SINCE.into(), s(sort_time(event.at)));
            self.client()
                .put_item()
                .table_name(self.table())
                .set_item(Some(mark))
                .send()
                .await
                .map_err(|e| port_error("dynamodb PutItem suppressed address", e))?;
        }
        Ok(())
    }

    async fn events(&self, shop_id: &str) -> Result<Vec<MailEvent>, PortError> {
        let request = self.prefix_query(shop_id, EVENT_PREFIX).scan_index_forward(false);
        let items = self.query_all("dynamodb Query mail events", request).await?;
        items
            .into_iter()
            .map(|mut item| {
                item.remove(EXPIRES_AT);
                decode("mail event", item)
            })
            .collect()
    }

    async fn is_suppressed(&self, shop_id: &str, address: &str) -> Result<bool, PortError> {
        let item = self
            .get_item("dynamodb GetItem suppressed address", shop_pk(shop_id), suppress_sk(&address_key(address)))
            .await?;
        Ok(item.is_some_and(|i| matches!(i.get(SK), Some(AttributeValue::S(_)))))
    }
}
