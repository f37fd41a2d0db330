//! [`StockStore`] on the embedded store: the stock master, listings, each order's holding and the
//! change history in four tables (schema 10). An order's holding and the counts it moves are
//! written in one IMMEDIATE transaction, so a replay or a crash never moves stock twice.

use chrono::{DateTime, FixedOffset};
use ichigen_core::order::Marketplace;
use ichigen_core::pipeline::{OrderKey, PortError, Written};
use ichigen_core::stock::push::PushState;
use ichigen_core::stock::{BY_ORDERS, Count, Edit, Holding, Listing, Part, Step, Stock, StockChange, StockStore};
use rusqlite::{OptionalExtension, Transaction, TransactionBehavior, params};

use crate::SqliteStore;
use crate::store::{PairTable, decode, encode, sql_error};

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

/// Version 11: each SKU's allotment ledger (allotted, cancelled and drawn per holder, as JSON
/// objects, and the row's change counter) and each pair's push record.
pub(crate) const LEDGER_SCHEMA: &str = "
ALTER TABLE stock ADD COLUMN allotted TEXT NOT NULL DEFAULT '{}';
ALTER TABLE stock ADD COLUMN cancelled TEXT NOT NULL DEFAULT '{}';
ALTER TABLE stock ADD COLUMN drawn TEXT NOT NULL DEFAULT '{}';
ALTER TABLE stock ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;
CREATE TABLE stock_pushes (
    shop_id     TEXT NOT NULL,
    marketplace TEXT NOT NULL,
    rev         INTEGER NOT NULL,
    record      TEXT NOT NULL,
    PRIMARY KEY (shop_id, marketplace)
) WITHOUT ROWID;
";

/// The columns of a SKU row, in the order [`row_of`] reads them.
const ROW_COLUMNS: &str = "sku, name, on_hand, reserved, updated_at, allotted, cancelled, drawn, seq";

fn time(t: DateTime<FixedOffset>) -> String {
    t.to_rfc3339()
}

fn read_time(op: &'static str, text: &str) -> Result<DateTime<FixedOffset>, PortError> {
    DateTime::parse_from_rfc3339(text).map_err(|e| PortError::permanent(op, e))
}

/// A SKU row's columns as read, before decoding.
type RawRow = (String, String, i64, i64, String, String, String, String, i64);

fn raw_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<RawRow> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?, r.get(8)?))
}

fn row_of(op: &'static str, raw: RawRow) -> Result<Stock, PortError> {
    let (sku, name, on_hand, reserved, at, allotted, cancelled, drawn, seq) = raw;
    Ok(Stock {
        allotted: decode("stock allotments", &sku, &allotted)?,
        cancelled: decode("stock cancellations", &sku, &cancelled)?,
        drawn: decode("stock draws", &sku, &drawn)?,
        seq: u64::try_from(seq).map_err(|e| PortError::permanent(op, e))?,
        updated_at: read_time(op, &at)?,
        sku,
        name,
        on_hand,
        reserved,
    })
}

/// One SKU's row inside `tx`.
fn read_row(tx: &Transaction<'_>, op: &'static str, shop_id: &str, sku: &str) -> Result<Option<Stock>, PortError> {
    let raw = tx
        .query_row(
            &format!("SELECT {ROW_COLUMNS} FROM stock WHERE shop_id = ?1 AND sku = ?2"),
            params![shop_id, sku],
            raw_row,
        )
        .optional()
        .map_err(|e| sql_error(op, e))?;
    raw.map(|raw| row_of(op, raw)).transpose()
}

/// Writes a SKU's whole row inside `tx`.
fn write_row(tx: &Transaction<'_>, op: &'static str, shop_id: &str, row: &Stock) -> Result<(), PortError> {
    tx.execute(
        "INSERT INTO stock (shop_id, sku, name, on_hand, reserved, updated_at, allotted, cancelled, drawn, seq)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
         ON CONFLICT (shop_id, sku) DO UPDATE SET name = excluded.name, on_hand = excluded.on_hand, reserved = excluded.reserved,
             updated_at = excluded.updated_at, allotted = excluded.allotted, cancelled = excluded.cancelled,
             drawn = excluded.drawn, seq = excluded.seq",
        params![
            shop_id,
            row.sku,
            row.name,
            row.on_hand,
            row.reserved,
            time(row.updated_at),
            encode(op, &row.allotted)?,
            encode(op, &row.cancelled)?,
            encode(op, &row.drawn)?,
            i64::try_from(row.seq).map_err(|e| PortError::permanent(op, e))?
        ],
    )
    .map_err(|e| sql_error(op, e))?;
    Ok(())
}

/// Records why a SKU's counts moved, inside `tx`.
fn log(tx: &Transaction<'_>, op: &'static str, shop_id: &str, c: &StockChange) -> Result<(), PortError> {
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
        let raw = self
            .conn()
            .query_row(
                &format!("SELECT {ROW_COLUMNS} FROM stock WHERE shop_id = ?1 AND sku = ?2"),
                params![shop_id, sku],
                raw_row,
            )
            .optional()
            .map_err(|e| sql_error(op, e))?;
        raw.map(|raw| row_of(op, raw)).transpose()
    }
}

impl StockStore for SqliteStore {
    async fn stocks(&self, shop_id: &str) -> Result<Vec<Stock>, PortError> {
        const OP: &str = "sqlite list stock";
        let conn = self.conn();
        let mut stmt = conn
            .prepare_cached(&format!("SELECT {ROW_COLUMNS} FROM stock WHERE shop_id = ?1 ORDER BY sku"))
            .map_err(|e| sql_error(OP, e))?;
        let rows = stmt.query_map(params![shop_id], raw_row).map_err(|e| sql_error(OP, e))?;
        let mut out = Vec::new();
        for row in rows {
            out.push(row_of(OP, row.map_err(|e| sql_error(OP, e))?)?);
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
            let mut row = read_row(&tx, OP, shop_id, sku)?.unwrap_or_else(|| Stock::empty(sku, by.at));
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
            write_row(&tx, OP, shop_id, &row)?;
            let change = StockChange {
                sku: sku.to_string(),
                at: by.at,
                who: by.who.to_string(),
                why: by.why.to_string(),
                on_hand: delta,
                reserved: 0,
                order: None,
            };
            log(&tx, OP, shop_id, &change)?;
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
        for sku in step.skus() {
            let mut row = read_row(&tx, OP, &order.shop_id, sku)?.unwrap_or_else(|| Stock::empty(sku, at));
            row.apply(&step);
            row.updated_at = at;
            row.seq += 1;
            write_row(&tx, OP, &order.shop_id, &row)?;
        }
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
            log(&tx, OP, &order.shop_id, &change)?;
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

    async fn put_ledger(&self, shop_id: &str, ledger: &Stock) -> Result<bool, PortError> {
        const OP: &str = "sqlite put stock ledger";
        let changed = self
            .conn()
            .execute(
                "UPDATE stock SET allotted = ?3, cancelled = ?4, drawn = ?5, seq = seq + 1
                 WHERE shop_id = ?1 AND sku = ?2 AND seq = ?6",
                params![
                    shop_id,
                    ledger.sku,
                    encode(OP, &ledger.allotted)?,
                    encode(OP, &ledger.cancelled)?,
                    encode(OP, &ledger.drawn)?,
                    i64::try_from(ledger.seq).map_err(|e| PortError::permanent(OP, e))?
                ],
            )
            .map_err(|e| sql_error(OP, e))?;
        Ok(changed == 1)
    }

    async fn push_state(&self, shop_id: &str, marketplace: Marketplace) -> Result<Option<PushState>, PortError> {
        self.get_pair_record(PairTable::StockPushes, shop_id, marketplace)
    }

    async fn put_push_state(&self, state: &PushState, expected: Option<u64>) -> Result<Written, PortError> {
        self.put_pair_record(PairTable::StockPushes, &state.shop_id, state.marketplace, state, state.rev, expected)
    }
}
