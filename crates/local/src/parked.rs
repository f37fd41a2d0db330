//! The mail-route records of [`SqliteStore`]: buyer mails parked until their relay's settings are
//! stored, the waiting mark that tells staff once, delivery events with the addresses not to mail
//! again (kept by hash), and each shop's relay settings (on one machine they live in the store; on
//! AWS with the marketplace credentials in SSM).

use chrono::{DateTime, FixedOffset, SecondsFormat, Utc};
use ichigen_core::Marketplace;
use ichigen_core::pipeline::bounce::address_key;
use ichigen_core::pipeline::{
    MailEvent, MailEvents, MailJob, OrderKey, ParkedMail, PortError, RelayDirectory, RelaySettings,
};
use rusqlite::{OptionalExtension, params};

use crate::SqliteStore;
use crate::store::{decode, encode, sql_error};

fn text_time(t: DateTime<FixedOffset>) -> String {
    t.with_timezone(&Utc).to_rfc3339_opts(SecondsFormat::Nanos, true)
}

impl SqliteStore {
    /// Stores (replacing) the shop's relay settings for `marketplace`, checked first.
    pub fn put_relay_settings(
        &self,
        shop_id: &str,
        marketplace: Marketplace,
        settings: &RelaySettings,
    ) -> Result<(), PortError> {
        const OP: &str = "sqlite put relay settings";
        settings.validate().map_err(|e| PortError::permanent(OP, e))?;
        let record = encode(OP, settings)?;
        self.conn()
            .execute(
                "INSERT INTO relay_settings (shop_id, marketplace, record) VALUES (?1, ?2, ?3)
                 ON CONFLICT DO UPDATE SET record = excluded.record",
                params![shop_id, marketplace.as_str(), record],
            )
            .map_err(|e| sql_error(OP, e))?;
        Ok(())
    }
}

impl RelayDirectory for SqliteStore {
    async fn relay_settings(
        &self,
        shop_id: &str,
        marketplace: Marketplace,
    ) -> Result<Option<RelaySettings>, PortError> {
        const OP: &str = "sqlite get relay settings";
        let record: Option<String> = self
            .conn()
            .query_row(
                "SELECT record FROM relay_settings WHERE shop_id = ?1 AND marketplace = ?2",
                params![shop_id, marketplace.as_str()],
                |row| row.get(0),
            )
            .optional()
            .map_err(|e| sql_error(OP, e))?;
        record.map(|json| decode("relay settings", &format!("{shop_id}/{marketplace}"), &json)).transpose()
    }
}

impl ParkedMail for SqliteStore {
    async fn park(&self, job: &MailJob, at: DateTime<FixedOffset>) -> Result<bool, PortError> {
        const OP: &str = "sqlite park mail";
        let o = &job.order;
        let mut conn = self.conn();
        let tx = conn.transaction().map_err(|e| sql_error(OP, e))?;
        tx.execute(
            "INSERT INTO parked_mail (shop_id, marketplace, order_id, kind, parked_at) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT DO NOTHING",
            params![o.shop_id, o.marketplace.as_str(), o.order_id, job.kind.as_str(), text_time(at)],
        )
        .map_err(|e| sql_error(OP, e))?;
        let marked = tx
            .execute(
                "INSERT INTO relay_waiting (shop_id, marketplace, since) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
                params![o.shop_id, o.marketplace.as_str(), text_time(at)],
            )
            .map_err(|e| sql_error(OP, e))?;
        tx.commit().map_err(|e| sql_error(OP, e))?;
        Ok(marked == 1)
    }

    async fn parked(&self, shop_id: &str, marketplace: Marketplace, limit: usize) -> Result<Vec<MailJob>, PortError> {
        const OP: &str = "sqlite list parked mail";
        let conn = self.conn();
        let mut stmt = conn
            .prepare_cached(
                "SELECT order_id, kind FROM parked_mail WHERE shop_id = ?1 AND marketplace = ?2
                 ORDER BY parked_at, order_id, kind LIMIT ?3",
            )
            .map_err(|e| sql_error(OP, e))?;
        let rows = stmt
            .query_map(params![shop_id, marketplace.as_str(), i64::try_from(limit).unwrap_or(i64::MAX)], |row| {
                Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?))
            })
            .map_err(|e| sql_error(OP, e))?;
        let mut jobs = Vec::new();
        for row in rows {
            let (order_id, kind) = row.map_err(|e| sql_error(OP, e))?;
            let kind = kind.parse().map_err(|e: String| PortError::permanent(OP, e))?;
            jobs.push(MailJob { order: OrderKey { shop_id: shop_id.to_string(), marketplace, order_id }, kind });
        }
        Ok(jobs)
    }

    async fn unpark(&self, job: &MailJob) -> Result<(), PortError> {
        let o = &job.order;
        self.conn()
            .execute(
                "DELETE FROM parked_mail WHERE shop_id = ?1 AND marketplace = ?2 AND order_id = ?3 AND kind = ?4",
                params![o.shop_id, o.marketplace.as_str(), o.order_id, job.kind.as_str()],
            )
            .map_err(|e| sql_error("sqlite unpark mail", e))?;
        Ok(())
    }

    async fn clear_waiting(&self, shop_id: &str, marketplace: Marketplace) -> Result<(), PortError> {
        self.conn()
            .execute(
                "DELETE FROM relay_waiting WHERE shop_id = ?1 AND marketplace = ?2",
                params![shop_id, marketplace.as_str()],
            )
            .map_err(|e| sql_error("sqlite clear relay waiting", e))?;
        Ok(())
    }
}

impl MailEvents for SqliteStore {
    async fn record_event(&self, event: &MailEvent) -> Result<(), PortError> {
        const OP: &str = "sqlite record mail event";
        let record = encode(OP, event)?;
        let mut conn = self.conn();
        let tx = conn.transaction().map_err(|e| sql_error(OP, e))?;
        tx.execute(
            "INSERT INTO mail_events (shop_id, id, at, record) VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING",
            params![event.shop_id, event.id(), text_time(event.at), record],
        )
        .map_err(|e| sql_error(OP, e))?;
        if event.kind.suppresses() {
            tx.execute(
                "INSERT INTO suppressed (shop_id, address_key, since) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
                params![event.shop_id, address_key(&event.address), text_time(event.at)],
            )
            .map_err(|e| sql_error(OP, e))?;
        }
        tx.commit().map_err(|e| sql_error(OP, e))
    }

    async fn events(&self, shop_id: &str) -> Result<Vec<MailEvent>, PortError> {
        const OP: &str = "sqlite list mail events";
        let conn = self.conn();
        let mut stmt = conn
            .prepare_cached("SELECT id, record FROM mail_events WHERE shop_id = ?1 ORDER BY at DESC, id")
            .map_err(|e| sql_error(OP, e))?;
        let rows = stmt
            .query_map(params![shop_id], |row| Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?)))
            .map_err(|e| sql_error(OP, e))?;
        let mut events = Vec::new();
        for row in rows {
            let (id, json) = row.map_err(|e| sql_error(OP, e))?;
            events.push(decode("mail event", &format!("{shop_id}/{id}"), &json)?);
        }
        Ok(events)
    }

    async fn is_suppressed(&self, shop_id: &str, address: &str) -> Result<bool, PortError> {
        self.conn()
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM suppressed WHERE shop_id = ?1 AND address_key = ?2)",
                params![shop_id, address_key(address)],
                |row| row.get(0),
            )
            .map_err(|e| sql_error("sqlite read suppressed", e))
    }
}
