//! [`StockStore`] on the embedded store: the stock master, listings, each order's holding and the
//! change history in four tables (schema 10). An order's holding and the counts it moves are
//! written in one IMMEDIATE transaction, so a replay or a crash never moves stock twice.

use chrono::{DateTime, FixedOffset};
use ichigen_core::order::Marketplace;
use ichigen_core::pipeline::{OrderKey, PortError};
use ichigen_core::stock::{BY_ORDERS, Count, Edit, Holding, Listing, Part, Step, Stock, StockChange, StockStore};
use rusqlite::{OptionalExtension, Transaction, TransactionBehavior, params};

use crate::SqliteStore;
use crate::store::{decode, encode, sql_error};

/// Version 10: the stock master, listings, holdings and changes.
pub(crate) const STOCK_SCHEMA: &str = "
CREATE TABLE stock (
    shop_id    TEXT NOT NULL,
    sku        TEXT NOT NULL,
    name       TEXT NOT NULL DEFAULT '',
    on_hand    INTEGER NOT NULL DEFAULT 0,
    reserved   INTEGER NOT NULL DEFAULT 0,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (shop_id, sku)
) WITHOUT ROWID;
CREATE TABLE stock_listings (
    shop_id     TEXT NOT NULL,
    marketplace TEXT NOT NULL,
    item        TEXT NOT NULL,
    parts       TEXT NOT NULL,
    PRIMARY KEY (shop_id, marketplace, item)
) WITHOUT ROWID;
CREATE TABLE stock_holdings (
    shop_id     TEXT NOT NULL,
    marketplace TEXT NOT NULL,
    order_id    TEXT NOT NULL,
    holding     TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (shop_id, marketplace, order_id)
) WITHOUT ROWID;
CREATE TABLE stock_changes (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    shop_id     TEXT NOT NULL,
    sku         TEXT NOT NULL,
    at          TEXT NOT NULL,
    who         TEXT NOT NULL,
    why         TEXT NOT NULL,
    on_hand     INTEGER NOT NULL,
    reserved    INTEGER NOT NULL,
    marketplace TEXT,
    order_id    TEXT
);
CREATE INDEX stock_changes_by_sku ON stock_changes (shop_id, sku, id);
";

fn time(t: DateTime<FixedOffset>) -> String {
    t.to_rfc3339()
}

fn read_time(op: &'static str, text: &str) -> Result<DateTime<FixedOffset>, PortError> {
    DateTime::parse_from_rfc3339(text).map_err(|e| PortError::permanent(op, e))
}

/// Moves one SKU's counts and records why, inside `tx`.
fn record(tx: &Transaction<'_>, op: &'static str, shop_id: &str, c: &StockChange) -> Result<(), PortError> {
    tx.execute(
        "INSERT INTO stock (shop_id, sku, on_hand, reserved, updated_at) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (shop_id, sku) DO UPDATE SET on_hand = on_hand + excluded.on_hand,
             reserved = reserved + excluded.reserved, updated_at = excluded.updated_at",
        params![shop_id, c.sku, c.on_hand, c.reserved, time(c.at)],
    )
    .map_err(|e| sql_error(op, e))?;
    tx.execute(
        "INSERT INTO stock_changes (shop_id, sku, at, who, why, on_hand, reserved, marketplace, order_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            shop_id,
            c.sku,
            time(c.at),
            c.who,
            c.why,
            c.on_hand,
            c.reserved,
            c.order.as_ref().map(|k| k.marketplace.as_str()),
            c.order.as_ref().map(|k| k.order_id.as_str())
        ],
    )
    .map_err(|e| sql_error(op, e))?;
    Ok(())
}

impl SqliteStore {
    fn stock_row(&self, op: &'static str, shop_id: &str, sku: &str) -> Result<Option<Stock>, PortError> {
        let row: Option<(String, String, i64, i64, String)> = self
            .conn()
            .query_row(
                "SELECT sku, name, on_hand, reserved, updated_at FROM stock WHERE shop_id = ?1 AND sku = ?2",
                params![shop_id, sku],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
            )
            .optional()
            .map_err(|e| sql_error(op, e))?;
        row.map(|(sku, name, on_hand, reserved, at)| {
            Ok(Stock { sku, name, on_hand, reserved, updated_at: read_time(op, &at)? })
        })
        .transpose()
    }
}

impl StockStore for SqliteStore {
    async fn stocks(&self, shop_id: &str) -> Result<Vec<Stock>, PortError> {
        const OP: &str = "sqlite list stock";
        let conn = self.conn();
        let mut stmt = conn
            .prepare_cached(
                "SELECT sku, name, on_hand, reserved, updated_at FROM stock WHERE shop_id = ?1 ORDER BY sku",
            )
            .map_err(|e| sql_error(OP, e))?;
        let rows = stmt
            .query_map(params![shop_id], |r| {
                Ok((r.get::<_, String>(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get::<_, String>(4)?))
            })
            .map_err(|e| sql_error(OP, e))?;
        let mut out = Vec::new();
        for row in rows {
            let (sku, name, on_hand, reserved, at) = row.map_err(|e| sql_error(OP, e))?;
            out.push(Stock { sku, name, on_hand, reserved, updated_at: read_time(OP, &at)? });
        }
        Ok(out)
    }

    async fn count(
        &self,
        shop_id: &str,
        sku: &str,
        name: Option<&str>,
        count: Count,
        by: &Edit<'_>,
    ) -> Result<Stock, PortError> {
        const OP: &str = "sqlite count stock";
        {
            let mut conn = self.conn();
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(|e| sql_error(OP, e))?;
            let before: i64 = tx
                .query_row("SELECT on_hand FROM stock WHERE shop_id = ?1 AND sku = ?2", params![shop_id, sku], |r| {
                    r.get(0)
                })
                .optional()
                .map_err(|e| sql_error(OP, e))?
                .unwrap_or(0);
            let delta = match count {
                Count::Set(n) => n - before,
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
            record(&tx, OP, shop_id, &change)?;
            if let Some(name) = name {
                tx.execute("UPDATE stock SET name = ?3 WHERE shop_id = ?1 AND sku = ?2", params![shop_id, sku, name])
                    .map_err(|e| sql_error(OP, e))?;
            }
            tx.commit().map_err(|e| sql_error(OP, e))?;
        }
        self.stock_row(OP, shop_id, sku)?.ok_or_else(|| PortError::permanent(OP, "the SKU row vanished"))
    }

    async fn listings(&self, shop_id: &str) -> Result<Vec<Listing>, PortError> {
        const OP: &str = "sqlite list listings";
        let conn = self.conn();
        let mut stmt = conn
            .prepare_cached(
                "SELECT marketplace, item, parts FROM stock_listings WHERE shop_id = ?1 ORDER BY marketplace, item",
            )
            .map_err(|e| sql_error(OP, e))?;
        let rows = stmt
            .query_map(params![shop_id], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?))
            })
            .map_err(|e| sql_error(OP, e))?;
        let mut out = Vec::new();
        for row in rows {
            let (marketplace, item, parts) = row.map_err(|e| sql_error(OP, e))?;
            let marketplace: Marketplace = marketplace.parse().map_err(|e| PortError::permanent(OP, e))?;
            let parts: Vec<Part> = decode("stock listing", &item, &parts)?;
            out.push(Listing { marketplace, item, parts });
        }
        Ok(out)
    }

    async fn put_listing(&self, shop_id: &str, listing: &Listing) -> Result<(), PortError> {
        const OP: &str = "sqlite put listing";
        let parts = encode(OP, &listing.parts)?;
        self.conn()
            .execute(
                "INSERT INTO stock_listings (shop_id, marketplace, item, parts) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (shop_id, marketplace, item) DO UPDATE SET parts = excluded.parts",
                params![shop_id, listing.marketplace.as_str(), listing.item, parts],
            )
            .map_err(|e| sql_error(OP, e))?;
        Ok(())
    }

    async fn apply_holding(
        &self,
        order: &OrderKey,
        next: &Holding,
        at: DateTime<FixedOffset>,
    ) -> Result<Vec<StockChange>, PortError> {
        const OP: &str = "sqlite apply holding";
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(|e| sql_error(OP, e))?;
        let stored: Option<String> = tx
            .query_row(
                "SELECT holding FROM stock_holdings WHERE shop_id = ?1 AND marketplace = ?2 AND order_id = ?3",
                params![order.shop_id, order.marketplace.as_str(), order.order_id],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| sql_error(OP, e))?;
        let prev: Option<Holding> = stored.map(|json| decode("stock holding", &order.order_id, &json)).transpose()?;
        let Some(step) = Step::of(prev.as_ref(), next) else {
            return Ok(Vec::new());
        };
        let why = step.why();
        let mut changes = Vec::with_capacity(step.moves.len());
        for (sku, on_hand, reserved) in step.moves.iter().cloned() {
            let change = StockChange {
                sku,
                at,
                who: BY_ORDERS.to_string(),
                why: why.to_string(),
                on_hand,
                reserved,
                order: Some(order.clone()),
            };
            record(&tx, OP, &order.shop_id, &change)?;
            changes.push(change);
        }
        tx.execute(
            "INSERT INTO stock_holdings (shop_id, marketplace, order_id, holding, updated_at) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (shop_id, marketplace, order_id) DO UPDATE SET holding = excluded.holding,
                 updated_at = excluded.updated_at",
            params![order.shop_id, order.marketplace.as_str(), order.order_id, encode(OP, &step.keep)?, time(at)],
        )
        .map_err(|e| sql_error(OP, e))?;
        tx.commit().map_err(|e| sql_error(OP, e))?;
        Ok(changes)
    }

    async fn changes(&self, shop_id: &str, sku: &str, limit: usize) -> Result<Vec<StockChange>, PortError> {
        const OP: &str = "sqlite stock changes";
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let conn = self.conn();
        let mut stmt = conn
            .prepare_cached(
                "SELECT sku, at, who, why, on_hand, reserved, marketplace, order_id FROM stock_changes
                 WHERE shop_id = ?1 AND sku = ?2 ORDER BY id DESC LIMIT ?3",
            )
            .map_err(|e| sql_error(OP, e))?;
        let rows = stmt
            .query_map(params![shop_id, sku, limit], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, i64>(4)?,
                    r.get::<_, i64>(5)?,
                    r.get::<_, Option<String>>(6)?,
                    r.get::<_, Option<String>>(7)?,
                ))
            })
            .map_err(|e| sql_error(OP, e))?;
        let mut out = Vec::new();
        for row in rows {
            let (sku, at, who, why, on_hand, reserved, marketplace, order_id) = row.map_err(|e| sql_error(OP, e))?;
            let order = match (marketplace, order_id) {
                (Some(m), Some(order_id)) => Some(OrderKey {
                    shop_id: shop_id.to_string(),
                    marketplace: m.parse().map_err(|e| PortError::permanent(OP, e))?,
                    order_id,
                }),
                _ => None,
            };
            out.push(StockChange { sku, at: read_time(OP, &at)?, who, why, on_hand, reserved, order });
        }
        Ok(out)
    }
}
