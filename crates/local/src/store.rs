//! [`SqliteStore`]: every store port in one SQLite file, with the conditional semantics of the
//! in-memory reference adapters (`ichigen_core::pipeline::memory`).
//!
//! Records are kept as their JSON (the same serde form the DynamoDB adapter stores as native
//! attributes), next to the few columns that are searched: status and order time for the staff
//! list, the hashed bundle key for 同梱 look-ups, the revision for conditional writes.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use chrono::{DateTime, FixedOffset, SecondsFormat, Utc};
use ichigen_core::order::{Marketplace, OrderStatus};
use ichigen_core::pipeline::{
    Claim, MailKey, MailLedger, OrderKey, OrderStore, PendingWrites, PortError, ShopDirectory, ShopSettings,
    StoredOrder, TrackingWrites, Watermark, WatermarkStore, Written,
};
use ichigen_core::rules::BlacklistEntry;
use rusqlite::{Connection, ErrorCode, OptionalExtension, TransactionBehavior, params};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// The schema this build reads and writes (`PRAGMA user_version`).
const SCHEMA_VERSION: i64 = 11;

/// How long a write waits for another process (a staff command during a demo run) to finish its own.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

const SCHEMA: &str = "
CREATE TABLE orders (
    shop_id     TEXT NOT NULL,
    marketplace TEXT NOT NULL,
    order_id    TEXT NOT NULL,
    status      TEXT NOT NULL,
    ordered_at  TEXT NOT NULL,
    bundle_key  TEXT,
    rev         INTEGER NOT NULL,
    record      TEXT NOT NULL,
    PRIMARY KEY (shop_id, marketplace, order_id)
) WITHOUT ROWID;
CREATE INDEX orders_by_status ON orders (shop_id, status, ordered_at);
CREATE INDEX orders_by_bundle ON orders (shop_id, bundle_key) WHERE bundle_key IS NOT NULL;
CREATE TABLE watermarks (
    shop_id     TEXT NOT NULL,
    marketplace TEXT NOT NULL,
    rev         INTEGER NOT NULL,
    record      TEXT NOT NULL,
    PRIMARY KEY (shop_id, marketplace)
) WITHOUT ROWID;
CREATE TABLE shops (
    shop_id TEXT PRIMARY KEY NOT NULL,
    record  TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE blacklist (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    shop_id TEXT NOT NULL,
    record  TEXT NOT NULL
);
CREATE TABLE mail_ledger (
    shop_id     TEXT NOT NULL,
    marketplace TEXT NOT NULL,
    order_id    TEXT NOT NULL,
    kind        TEXT NOT NULL,
    state       TEXT NOT NULL CHECK (state IN ('claimed', 'sent')),
    lease_until INTEGER,
    message_id  TEXT,
    sent_at     TEXT,
    PRIMARY KEY (shop_id, marketplace, order_id, kind)
) WITHOUT ROWID;
";

/// Version 2 adds the durable queues (version 1 files are upgraded in place).
const QUEUE_SCHEMA: &str = "
CREATE TABLE queue (
    id    INTEGER PRIMARY KEY AUTOINCREMENT,
    name  TEXT NOT NULL,
    body  TEXT NOT NULL
);
CREATE INDEX queue_by_name ON queue (name, id);
";

/// Version 3 adds the pull leases (one run of a shop × marketplace at a time).
const LEASE_SCHEMA: &str = "
CREATE TABLE pull_leases (
    shop_id     TEXT NOT NULL,
    marketplace TEXT NOT NULL,
    holder      TEXT NOT NULL,
    until       TEXT NOT NULL,
    PRIMARY KEY (shop_id, marketplace)
) WITHOUT ROWID;
";

/// Version 4 adds mail routes: buyer mails waiting for a relay, the waiting marks, delivery events,
/// suppressed addresses (by hash) and each shop's relay settings.
const ROUTE_SCHEMA: &str = "
CREATE TABLE parked_mail (
    shop_id     TEXT NOT NULL,
    marketplace TEXT NOT NULL,
    order_id    TEXT NOT NULL,
    kind        TEXT NOT NULL,
    parked_at   TEXT NOT NULL,
    PRIMARY KEY (shop_id, marketplace, order_id, kind)
) WITHOUT ROWID;
CREATE TABLE relay_waiting (
    shop_id     TEXT NOT NULL,
    marketplace TEXT NOT NULL,
    since       TEXT NOT NULL,
    PRIMARY KEY (shop_id, marketplace)
) WITHOUT ROWID;
CREATE TABLE mail_events (
    shop_id TEXT NOT NULL,
    id      TEXT NOT NULL,
    at      TEXT NOT NULL,
    record  TEXT NOT NULL,
    PRIMARY KEY (shop_id, id)
) WITHOUT ROWID;
CREATE TABLE suppressed (
    shop_id     TEXT NOT NULL,
    address_key TEXT NOT NULL,
    since       TEXT NOT NULL,
    PRIMARY KEY (shop_id, address_key)
) WITHOUT ROWID;
CREATE TABLE relay_settings (
    shop_id     TEXT NOT NULL,
    marketplace TEXT NOT NULL,
    record      TEXT NOT NULL,
    PRIMARY KEY (shop_id, marketplace)
) WITHOUT ROWID;
";

/// Version 5 adds each pair's pending tracking writes (numbers to register on the marketplace).
const WRITES_SCHEMA: &str = "
CREATE TABLE tracking_writes (
    shop_id     TEXT NOT NULL,
    marketplace TEXT NOT NULL,
    rev         INTEGER NOT NULL,
    record      TEXT NOT NULL,
    PRIMARY KEY (shop_id, marketplace)
) WITHOUT ROWID;
";

/// Version 8 adds the staff console: the searched columns of the order list (tab, payment,
/// delivery, prefectures, SKUs, finding codes, buyer text) with keyset indexes that hold every
/// filtered column (a filter that matches few orders scans the index, not the records), the count of each
/// tab kept by triggers in the writing transaction (so the tab counts are one small read), and the
/// audit log.
/// The columns of orders stored before are filled in by [`crate::console::backfill`].
const CONSOLE_SCHEMA: &str = "
ALTER TABLE orders ADD COLUMN tab TEXT NOT NULL DEFAULT '';
ALTER TABLE orders ADD COLUMN payment TEXT NOT NULL DEFAULT '';
ALTER TABLE orders ADD COLUMN delivery TEXT NOT NULL DEFAULT '';
ALTER TABLE orders ADD COLUMN prefectures TEXT NOT NULL DEFAULT '';
ALTER TABLE orders ADD COLUMN skus TEXT NOT NULL DEFAULT '';
ALTER TABLE orders ADD COLUMN findings TEXT NOT NULL DEFAULT '';
ALTER TABLE orders ADD COLUMN search TEXT NOT NULL DEFAULT '';
CREATE INDEX orders_by_tab ON orders (shop_id, tab, ordered_at, marketplace, order_id,
                                     payment, delivery, prefectures, skus, findings, search);
CREATE INDEX orders_by_time ON orders (shop_id, ordered_at, marketplace, order_id,
                                       tab, payment, delivery, prefectures, skus, findings, search);
CREATE TABLE tab_counts (
    shop_id TEXT NOT NULL,
    tab     TEXT NOT NULL,
    n       INTEGER NOT NULL,
    PRIMARY KEY (shop_id, tab)
) WITHOUT ROWID;
CREATE TRIGGER orders_tab_insert AFTER INSERT ON orders BEGIN
    INSERT INTO tab_counts (shop_id, tab, n) VALUES (new.shop_id, new.tab, 1)
    ON CONFLICT (shop_id, tab) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER orders_tab_delete AFTER DELETE ON orders BEGIN
    UPDATE tab_counts SET n = n - 1 WHERE shop_id = old.shop_id AND tab = old.tab;
END;
CREATE TRIGGER orders_tab_update AFTER UPDATE OF tab ON orders WHEN old.tab IS NOT new.tab BEGIN
    UPDATE tab_counts SET n = n - 1 WHERE shop_id = old.shop_id AND tab = old.tab;
    INSERT INTO tab_counts (shop_id, tab, n) VALUES (new.shop_id, new.tab, 1)
    ON CONFLICT (shop_id, tab) DO UPDATE SET n = n + 1;
END;
CREATE TABLE audit (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    shop_id     TEXT NOT NULL,
    at          TEXT NOT NULL,
    staff       TEXT NOT NULL,
    action      TEXT NOT NULL,
    marketplace TEXT,
    order_id    TEXT,
    detail      TEXT NOT NULL
);
CREATE INDEX audit_by_order ON audit (shop_id, marketplace, order_id, id);
CREATE INDEX audit_by_shop ON audit (shop_id, id);
";

/// Version 6 keys the mail ledger by hold episode too (a staff alert per hold); the entries of
/// earlier versions are episode 0, the key buyer mails keep.
const LEDGER_EPISODE_SCHEMA: &str = "
CREATE TABLE mail_ledger_6 (
    shop_id     TEXT NOT NULL,
    marketplace TEXT NOT NULL,
    order_id    TEXT NOT NULL,
    kind        TEXT NOT NULL,
    episode     INTEGER NOT NULL DEFAULT 0,
    state       TEXT NOT NULL CHECK (state IN ('claimed', 'sent')),
    lease_until INTEGER,
    message_id  TEXT,
    sent_at     TEXT,
    PRIMARY KEY (shop_id, marketplace, order_id, kind, episode)
) WITHOUT ROWID;
INSERT INTO mail_ledger_6 (shop_id, marketplace, order_id, kind, state, lease_until, message_id, sent_at)
    SELECT shop_id, marketplace, order_id, kind, state, lease_until, message_id, sent_at FROM mail_ledger;
DROP TABLE mail_ledger;
ALTER TABLE mail_ledger_6 RENAME TO mail_ledger;
";

/// Version 7 counts each queued message's failed tries and keeps the messages given up on
/// (`ichigen dead-letters`).
const DEAD_LETTER_SCHEMA: &str = "
ALTER TABLE queue ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
CREATE TABLE dead_letters (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    queue     TEXT NOT NULL,
    body      TEXT NOT NULL,
    attempts  INTEGER NOT NULL,
    reason    TEXT NOT NULL,
    failed_at TEXT NOT NULL
);
";

/// Version 9 gives each queued message a time before which it is not taken (milliseconds since
/// the epoch; 0: at once): a mail job whose claim is another worker's waits for the lease's end
/// without using up its tries.
const NOT_BEFORE_SCHEMA: &str = "
ALTER TABLE queue ADD COLUMN not_before INTEGER NOT NULL DEFAULT 0;
";

/// What takes a file of version `n` to `n + 1`, for every version before [`SCHEMA_VERSION`].
const MIGRATIONS: [&str; SCHEMA_VERSION as usize] = [
    SCHEMA,
    QUEUE_SCHEMA,
    LEASE_SCHEMA,
    ROUTE_SCHEMA,
    WRITES_SCHEMA,
    LEDGER_EPISODE_SCHEMA,
    DEAD_LETTER_SCHEMA,
    CONSOLE_SCHEMA,
    NOT_BEFORE_SCHEMA,
    crate::stock::STOCK_SCHEMA,
    crate::stock::LEDGER_SCHEMA,
];

/// Beside the schema, in every version: the store's identity, made when the file is created (or
/// first opened by a build that knows it). The outbox records it, so a store deleted or emptied
/// beside an outbox of earlier runs is recognised as another store (see `EmlOutbox::for_store`).
/// Created if missing on each open: older builds ignore the table.
const META_SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS store_meta (
    name  TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
) WITHOUT ROWID;
";

/// Why the store file could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// SQLite could not open or set up the file.
    #[error("cannot open the store {}: {source}", path.display())]
    Sqlite {
        /// The file.
        path: PathBuf,
        /// SQLite's error.
        #[source]
        source: rusqlite::Error,
    },
    /// The file was written by another version of ichigen.
    #[error("the store {} has schema version {found}; this build reads version {SCHEMA_VERSION}", path.display())]
    Version {
        /// The file.
        path: PathBuf,
        /// Its `user_version`.
        found: i64,
    },
}

/// A stored record that no longer reads back. Names the record, never its content (it may be a
/// buyer's name or address).
#[derive(Debug, thiserror::Error)]
#[error("{what} {key}: the stored record does not match the schema (line {line}, column {column})")]
struct RecordError {
    what: &'static str,
    key: String,
    line: usize,
    column: usize,
}

/// Orders, watermarks, shop settings, blacklists and the mail ledger in one SQLite file (WAL
/// journal, so staff commands can read while a demo run writes).
#[derive(Debug)]
pub struct SqliteStore {
    conn: Mutex<Connection>,
    path: Option<PathBuf>,
    store_id: String,
    /// Keys of records lists skipped because they do not read back, not yet taken.
    skipped: Mutex<Vec<String>>,
}

impl SqliteStore {
    /// Opens (creating if needed) the store at `path`; its folder must exist.
    pub fn open(path: &Path) -> Result<SqliteStore, OpenError> {
        let sqlite = |source| OpenError::Sqlite { path: path.to_path_buf(), source };
        let conn = Connection::open(path).map_err(sqlite)?;
        // WAL: readers never block the writer; NORMAL: a commit survives a crash of the process
        // (not of the machine), which is what a one-machine store needs.
        conn.pragma_update(None, "journal_mode", "WAL").map_err(sqlite)?;
        conn.pragma_update(None, "synchronous", "NORMAL").map_err(sqlite)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(sqlite)?;
        Self::prepare(conn, Some(path.to_path_buf()))
    }

    /// A store in memory, gone when dropped (for tests).
    pub fn open_in_memory() -> Result<SqliteStore, OpenError> {
        let conn = Connection::open_in_memory()
            .map_err(|source| OpenError::Sqlite { path: PathBuf::from(":memory:"), source })?;
        Self::prepare(conn, None)
    }

    fn prepare(conn: Connection, path: Option<PathBuf>) -> Result<SqliteStore, OpenError> {
        let shown = path.clone().unwrap_or_else(|| PathBuf::from(":memory:"));
        let sqlite = |source| OpenError::Sqlite { path: shown.clone(), source };
        let version: i64 = conn.pragma_query_value(None, "user_version", |row| row.get(0)).map_err(sqlite)?;
        match usize::try_from(version).ok().and_then(|v| MIGRATIONS.get(v..)) {
            // Up to date.
            Some([]) => {}
            // A fresh file, or one of an earlier version: every step, the backfill of the console's
            // list columns and the new version in one transaction, so a crash leaves either the old
            // file or the new one.
            Some(steps) => {
                let mut conn = conn;
                let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(sqlite)?;
                tx.execute_batch(&steps.concat()).map_err(sqlite)?;
                crate::console::backfill(&tx).map_err(sqlite)?;
                tx.pragma_update(None, "user_version", SCHEMA_VERSION).map_err(sqlite)?;
                tx.commit().map_err(sqlite)?;
                return Self::finish(conn, path, shown);
            }
            None => return Err(OpenError::Version { path: shown, found: version }),
        }
        Self::finish(conn, path, shown)
    }

    fn finish(conn: Connection, path: Option<PathBuf>, shown: PathBuf) -> Result<SqliteStore, OpenError> {
        let sqlite = |source| OpenError::Sqlite { path: shown.clone(), source };
        // Creation time and 128 random bits: unique enough to tell two stores apart.
        let fresh_id =
            format!("{}-{:016x}{:016x}", Utc::now().format("%Y%m%dT%H%M%SZ"), fastrand::u64(..), fastrand::u64(..));
        conn.execute_batch(META_SCHEMA).map_err(sqlite)?;
        conn.execute("INSERT OR IGNORE INTO store_meta (name, value) VALUES ('store_id', ?1)", params![fresh_id])
            .map_err(sqlite)?;
        let store_id: String = conn
            .query_row("SELECT value FROM store_meta WHERE name = 'store_id'", [], |row| row.get(0))
            .map_err(sqlite)?;
        Ok(SqliteStore { conn: Mutex::new(conn), path, store_id, skipped: Mutex::new(Vec::new()) })
    }

    /// The store's identity, made when its file was created: a file deleted and made again, or
    /// emptied, has another.
    pub fn store_id(&self) -> &str {
        &self.store_id
    }

    /// Whether the mail ledger has any entry: the store has claimed or sent a mail.
    pub fn has_mail_history(&self) -> Result<bool, PortError> {
        self.conn()
            .query_row("SELECT EXISTS (SELECT 1 FROM mail_ledger)", [], |row| row.get(0))
            .map_err(|e| sql_error("sqlite read mail ledger", e))
    }

    /// The keys (`shop/marketplace/order id`) of the stored orders lists skipped since the last
    /// call, because their record no longer reads back. A caller shows them to the user; the
    /// store itself prints nothing.
    pub fn take_skipped(&self) -> Vec<String> {
        std::mem::take(&mut *self.skipped.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// Keeps the key of a record a list skipped, for [`SqliteStore::take_skipped`].
    pub(crate) fn note_skipped(&self, key: String) {
        self.skipped.lock().unwrap_or_else(|p| p.into_inner()).push(key);
    }

    /// The file, unless in memory.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    pub(crate) fn conn(&self) -> MutexGuard<'_, Connection> {
        // A panic elsewhere while holding the lock leaves SQLite consistent (every write is one
        // statement or one transaction), so the connection stays usable.
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A [`PortError`] for a failed SQLite call: retryable when another process holds the lock.
pub(crate) fn sql_error(operation: &'static str, e: rusqlite::Error) -> PortError {
    let busy = matches!(e.sqlite_error_code(), Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked));
    PortError { operation, retryable: busy, source: Box::new(e) }
}

pub(crate) fn encode<T: Serialize>(operation: &'static str, record: &T) -> Result<String, PortError> {
    serde_json::to_string(record).map_err(|e| PortError::permanent(operation, e))
}

pub(crate) fn decode<T: DeserializeOwned>(what: &'static str, key: &str, json: &str) -> Result<T, PortError> {
    serde_json::from_str(json).map_err(|e| {
        // serde_json's message may quote the stored value: keep only where it failed.
        let err = RecordError { what, key: key.to_string(), line: e.line(), column: e.column() };
        PortError::permanent("sqlite decode record", err)
    })
}

fn lease_time(t: DateTime<FixedOffset>) -> String {
    t.with_timezone(&chrono::Utc).to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

fn rev_value(operation: &'static str, rev: u64) -> Result<i64, PortError> {
    i64::try_from(rev).map_err(|e| PortError::permanent(operation, e))
}

/// An instant as fixed-width UTC RFC 3339 (nanoseconds, `Z`), so that text order is time order
/// (as the DynamoDB `by_status` sort key).
pub(crate) fn sort_time(t: DateTime<FixedOffset>) -> String {
    t.with_timezone(&Utc).to_rfc3339_opts(SecondsFormat::Nanos, true)
}

/// The wire name of a status, as serde writes it.
fn status_name(status: OrderStatus) -> &'static str {
    match status {
        OrderStatus::New => "new",
        OrderStatus::AwaitingPayment => "awaiting_payment",
        OrderStatus::ReadyToShip => "ready_to_ship",
        OrderStatus::Shipped => "shipped",
        OrderStatus::Cancelled => "cancelled",
        OrderStatus::OnHold => "on_hold",
    }
}

impl OrderStore for SqliteStore {
    async fn get(&self, key: &OrderKey) -> Result<Option<StoredOrder>, PortError> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare_cached("SELECT record FROM orders WHERE shop_id = ?1 AND marketplace = ?2 AND order_id = ?3")
            .map_err(|e| sql_error("sqlite get order", e))?;
        let record: Option<String> = stmt
            .query_row(params![key.shop_id, key.marketplace.as_str(), key.order_id], |row| row.get(0))
            .optional()
            .map_err(|e| sql_error("sqlite get order", e))?;
        record.map(|json| decode("order", &key.to_string(), &json)).transpose()
    }

    async fn put(&self, order: &StoredOrder, expected: Option<u64>) -> Result<Written, PortError> {
        const OP: &str = "sqlite put order";
        let o = &order.order;
        let record = encode(OP, order)?;
        let rev = rev_value(OP, order.rev)?;
        let expected = expected.map(|e| rev_value(OP, e)).transpose()?;
        let conn = self.conn();
        // One statement each way, so the revision check and the write are one SQLite transaction.
        let list = ichigen_core::console::ListColumns::of(order);
        let changed = match expected {
            None => conn
                .prepare_cached(
                    "INSERT INTO orders (shop_id, marketplace, order_id, status, ordered_at, bundle_key, rev, record,
                                         tab, payment, delivery, prefectures, skus, findings, search)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15) ON CONFLICT DO NOTHING",
                )
                .and_then(|mut s| {
                    s.execute(params![
                        o.shop_id,
                        o.marketplace.as_str(),
                        o.order_id,
                        status_name(order.status),
                        sort_time(o.ordered_at),
                        order.bundle_key,
                        rev,
                        record,
                        list.tab.as_str(),
                        list.payment,
                        list.delivery,
                        list.prefectures,
                        list.skus,
                        list.findings,
                        list.search,
                    ])
                }),
            Some(expected) => conn
                .prepare_cached(
                    "UPDATE orders SET status = ?4, ordered_at = ?5, bundle_key = ?6, rev = ?7, record = ?8,
                                       tab = ?10, payment = ?11, delivery = ?12, prefectures = ?13, skus = ?14,
                                       findings = ?15, search = ?16
                     WHERE shop_id = ?1 AND marketplace = ?2 AND order_id = ?3 AND rev = ?9",
                )
                .and_then(|mut s| {
                    s.execute(params![
                        o.shop_id,
                        o.marketplace.as_str(),
                        o.order_id,
                        status_name(order.status),
                        sort_time(o.ordered_at),
                        order.bundle_key,
                        rev,
                        record,
                        expected,
                        list.tab.as_str(),
                        list.payment,
                        list.delivery,
                        list.prefectures,
                        list.skus,
                        list.findings,
                        list.search,
                    ])
                }),
        }
        .map_err(|e| sql_error(OP, e))?;
        Ok(if changed == 1 { Written::Yes } else { Written::Conflict })
    }

    async fn bundle_mates(&self, shop_id: &str, bundle_key: &str) -> Result<Vec<OrderKey>, PortError> {
        const OP: &str = "sqlite bundle mates";
        let conn = self.conn();
        let mut stmt = conn
            .prepare_cached(
                "SELECT marketplace, order_id FROM orders WHERE shop_id = ?1 AND bundle_key = ?2
                 ORDER BY marketplace, order_id",
            )
            .map_err(|e| sql_error(OP, e))?;
        let rows = stmt
            .query_map(params![shop_id, bundle_key], |row| Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?)))
            .map_err(|e| sql_error(OP, e))?;
        let mut out = Vec::new();
        for row in rows {
            let (marketplace, order_id) = row.map_err(|e| sql_error(OP, e))?;
            let marketplace: Marketplace = marketplace
                .parse()
                .map_err(|_| PortError::permanent(OP, format!("order {order_id}: unknown marketplace in the store")))?;
            out.push(OrderKey { shop_id: shop_id.to_string(), marketplace, order_id });
        }
        Ok(out)
    }

    async fn list_by_status(
        &self,
        shop_id: &str,
        status: OrderStatus,
        since: Option<DateTime<FixedOffset>>,
        until: Option<DateTime<FixedOffset>>,
    ) -> Result<Vec<StoredOrder>, PortError> {
        const OP: &str = "sqlite list orders by status";
        let conn = self.conn();
        let mut stmt = conn
            .prepare_cached(
                "SELECT marketplace, order_id, record FROM orders
                 WHERE shop_id = ?1 AND status = ?2
                   AND (?3 IS NULL OR ordered_at >= ?3) AND (?4 IS NULL OR ordered_at < ?4)",
            )
            .map_err(|e| sql_error(OP, e))?;
        let rows = stmt
            .query_map(params![shop_id, status_name(status), since.map(sort_time), until.map(sort_time)], |row| {
                Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?, row.get::<_, String>(2)?))
            })
            .map_err(|e| sql_error(OP, e))?;
        let mut out = Vec::new();
        let mut skipped = Vec::new();
        for row in rows {
            let (marketplace, order_id, json) = row.map_err(|e| sql_error(OP, e))?;
            let key = format!("{shop_id}/{marketplace}/{order_id}");
            // One record that does not read (a hand edit, a damaged page) costs that order only;
            // its key is kept for the caller to report (`take_skipped`).
            match decode::<StoredOrder>("order", &key, &json) {
                Ok(order) => out.push(order),
                Err(_) => skipped.push(key),
            }
        }
        if !skipped.is_empty() {
            self.skipped.lock().unwrap_or_else(|p| p.into_inner()).extend(skipped);
        }
        // Oldest first, ties by key: the order every adapter lists in.
        out.sort_by(|a, b| a.order.ordered_at.cmp(&b.order.ordered_at).then_with(|| a.key().cmp(&b.key())));
        Ok(out)
    }
}

/// The tables that hold one revisioned JSON record per shop × marketplace.
#[derive(Debug, Clone, Copy)]
pub(crate) enum PairTable {
    Watermarks,
    TrackingWrites,
    StockPushes,
}

impl PairTable {
    /// (table, SELECT, INSERT, conditional UPDATE, what the record is): fixed SQL per table.
    fn sql(self) -> (&'static str, &'static str, &'static str, &'static str) {
        match self {
            PairTable::Watermarks => (
                "watermark",
                "SELECT record FROM watermarks WHERE shop_id = ?1 AND marketplace = ?2",
                "INSERT INTO watermarks (shop_id, marketplace, rev, record) VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING",
                "UPDATE watermarks SET rev = ?3, record = ?4 WHERE shop_id = ?1 AND marketplace = ?2 AND rev = ?5",
            ),
            PairTable::TrackingWrites => (
                "tracking writes",
                "SELECT record FROM tracking_writes WHERE shop_id = ?1 AND marketplace = ?2",
                "INSERT INTO tracking_writes (shop_id, marketplace, rev, record) VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING",
                "UPDATE tracking_writes SET rev = ?3, record = ?4 WHERE shop_id = ?1 AND marketplace = ?2 AND rev = ?5",
            ),
            PairTable::StockPushes => (
                "stock push record",
                "SELECT record FROM stock_pushes WHERE shop_id = ?1 AND marketplace = ?2",
                "INSERT INTO stock_pushes (shop_id, marketplace, rev, record) VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING",
                "UPDATE stock_pushes SET rev = ?3, record = ?4 WHERE shop_id = ?1 AND marketplace = ?2 AND rev = ?5",
            ),
        }
    }
}

impl SqliteStore {
    /// The pair's record of `table`.
    pub(crate) fn get_pair_record<T: serde::de::DeserializeOwned>(
        &self,
        table: PairTable,
        shop_id: &str,
        marketplace: Marketplace,
    ) -> Result<Option<T>, PortError> {
        const OP: &str = "sqlite get pair record";
        let (what, select, ..) = table.sql();
        let record: Option<String> = self
            .conn()
            .query_row(select, params![shop_id, marketplace.as_str()], |row| row.get(0))
            .optional()
            .map_err(|e| sql_error(OP, e))?;
        record.map(|json| decode(what, &format!("{shop_id}/{marketplace}"), &json)).transpose()
    }

    /// Writes the pair's record of `table` at `rev`: created when `expected` is `None`, else only
    /// over revision `expected`.
    pub(crate) fn put_pair_record<T: serde::Serialize>(
        &self,
        table: PairTable,
        shop_id: &str,
        marketplace: Marketplace,
        value: &T,
        rev: u64,
        expected: Option<u64>,
    ) -> Result<Written, PortError> {
        const OP: &str = "sqlite put pair record";
        let (_, _, insert, update) = table.sql();
        let record = encode(OP, value)?;
        let rev = rev_value(OP, rev)?;
        let conn = self.conn();
        let changed = match expected {
            None => conn.execute(insert, params![shop_id, marketplace.as_str(), rev, record]),
            Some(expected) => {
                conn.execute(update, params![shop_id, marketplace.as_str(), rev, record, rev_value(OP, expected)?])
            }
        }
        .map_err(|e| sql_error(OP, e))?;
        Ok(if changed == 1 { Written::Yes } else { Written::Conflict })
    }
}

impl TrackingWrites for SqliteStore {
    async fn get_writes(&self, shop_id: &str, marketplace: Marketplace) -> Result<Option<PendingWrites>, PortError> {
        self.get_pair_record(PairTable::TrackingWrites, shop_id, marketplace)
    }

    async fn put_writes(&self, writes: &PendingWrites, expected: Option<u64>) -> Result<Written, PortError> {
        let (shop_id, marketplace) = (writes.shop_id.as_str(), writes.marketplace);
        self.put_pair_record(PairTable::TrackingWrites, shop_id, marketplace, writes, writes.rev, expected)
    }
}

impl WatermarkStore for SqliteStore {
    async fn get_watermark(&self, shop_id: &str, marketplace: Marketplace) -> Result<Option<Watermark>, PortError> {
        self.get_pair_record(PairTable::Watermarks, shop_id, marketplace)
    }

    async fn put_watermark(&self, mark: &Watermark, expected: Option<u64>) -> Result<Written, PortError> {
        self.put_pair_record(PairTable::Watermarks, &mark.shop_id, mark.marketplace, mark, mark.rev, expected)
    }

    async fn take_lease(
        &self,
        shop_id: &str,
        marketplace: Marketplace,
        holder: &str,
        now: DateTime<FixedOffset>,
        until: DateTime<FixedOffset>,
    ) -> Result<bool, PortError> {
        const OP: &str = "sqlite take pull lease";
        // UTC RFC 3339 with a fixed width compares as text in time order.
        let (now, until) = (lease_time(now), lease_time(until));
        let changed = self
            .conn()
            .execute(
                "INSERT INTO pull_leases (shop_id, marketplace, holder, until) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (shop_id, marketplace) DO UPDATE SET holder = excluded.holder, until = excluded.until
                 WHERE pull_leases.holder = excluded.holder OR pull_leases.until <= ?5",
                params![shop_id, marketplace.as_str(), holder, until, now],
            )
            .map_err(|e| sql_error(OP, e))?;
        Ok(changed == 1)
    }

    async fn end_lease(&self, shop_id: &str, marketplace: Marketplace, holder: &str) -> Result<(), PortError> {
        const OP: &str = "sqlite end pull lease";
        self.conn()
            .execute(
                "DELETE FROM pull_leases WHERE shop_id = ?1 AND marketplace = ?2 AND holder = ?3",
                params![shop_id, marketplace.as_str(), holder],
            )
            .map_err(|e| sql_error(OP, e))?;
        Ok(())
    }
}

impl ShopDirectory for SqliteStore {
    async fn shop(&self, shop_id: &str) -> Result<Option<ShopSettings>, PortError> {
        let record: Option<String> = self
            .conn()
            .query_row("SELECT record FROM shops WHERE shop_id = ?1", params![shop_id], |row| row.get(0))
            .optional()
            .map_err(|e| sql_error("sqlite get shop", e))?;
        record.map(|json| decode("shop settings", shop_id, &json)).transpose()
    }

    async fn put_shop(&self, settings: &ShopSettings) -> Result<(), PortError> {
        const OP: &str = "sqlite put shop";
        let record = encode(OP, settings)?;
        self.conn()
            .execute(
                "INSERT INTO shops (shop_id, record) VALUES (?1, ?2)
                 ON CONFLICT (shop_id) DO UPDATE SET record = excluded.record",
                params![settings.shop_id, record],
            )
            .map_err(|e| sql_error(OP, e))?;
        Ok(())
    }

    async fn blacklist(&self, shop_id: &str) -> Result<Vec<(String, BlacklistEntry)>, PortError> {
        const OP: &str = "sqlite list blacklist";
        let conn = self.conn();
        let mut stmt = conn
            .prepare("SELECT id, record FROM blacklist WHERE shop_id = ?1 ORDER BY id")
            .map_err(|e| sql_error(OP, e))?;
        let rows = stmt
            .query_map(params![shop_id], |row| Ok((row.get::<_, i64>(0)?, row.get::<_, String>(1)?)))
            .map_err(|e| sql_error(OP, e))?;
        let mut out = Vec::new();
        for row in rows {
            let (id, json) = row.map_err(|e| sql_error(OP, e))?;
            let id = id.to_string();
            let entry = decode("blacklist entry", &format!("{shop_id}/{id}"), &json)?;
            out.push((id, entry));
        }
        Ok(out)
    }

    async fn add_blacklisted(&self, shop_id: &str, entry: &BlacklistEntry) -> Result<String, PortError> {
        const OP: &str = "sqlite add blacklist entry";
        let record = encode(OP, entry)?;
        let conn = self.conn();
        conn.execute("INSERT INTO blacklist (shop_id, record) VALUES (?1, ?2)", params![shop_id, record])
            .map_err(|e| sql_error(OP, e))?;
        // AUTOINCREMENT never reuses an id, so a removed entry's id cannot come back meaning another.
        Ok(conn.last_insert_rowid().to_string())
    }

    async fn remove_blacklisted(&self, shop_id: &str, id: &str) -> Result<bool, PortError> {
        let Ok(id) = id.trim().parse::<i64>() else { return Ok(false) };
        let changed = self
            .conn()
            .execute("DELETE FROM blacklist WHERE shop_id = ?1 AND id = ?2", params![shop_id, id])
            .map_err(|e| sql_error("sqlite remove blacklist entry", e))?;
        Ok(changed == 1)
    }
}

impl MailLedger for SqliteStore {
    async fn claim(
        &self,
        key: &MailKey,
        now: DateTime<FixedOffset>,
        lease_until: DateTime<FixedOffset>,
    ) -> Result<Claim, PortError> {
        const OP: &str = "sqlite claim mail";
        let mut conn = self.conn();
        // IMMEDIATE: the read and the write below see no other writer in between, even from
        // another process on the same file.
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(|e| sql_error(OP, e))?;
        let order = &key.order;
        let current: Option<(String, Option<i64>, Option<String>)> = tx
            .query_row(
                "SELECT state, lease_until, message_id FROM mail_ledger
                 WHERE shop_id = ?1 AND marketplace = ?2 AND order_id = ?3 AND kind = ?4 AND episode = ?5",
                params![order.shop_id, order.marketplace.as_str(), order.order_id, key.kind.as_str(), key.episode],
                |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
            )
            .optional()
            .map_err(|e| sql_error(OP, e))?;
        match current {
            Some((state, _, Some(message_id))) if state == "sent" => return Ok(Claim::AlreadySent(message_id)),
            Some((state, Some(until), _)) if state == "claimed" && until > now.timestamp_millis() => {
                let until = DateTime::from_timestamp_millis(until).map_or(now, |t| t.with_timezone(&now.timezone()));
                return Ok(Claim::Busy { until });
            }
            // Free, or a claim whose lease ended: ours.
            _ => {}
        }
        tx.execute(
            "INSERT INTO mail_ledger (shop_id, marketplace, order_id, kind, episode, state, lease_until)
             VALUES (?1, ?2, ?3, ?4, ?5, 'claimed', ?6)
             ON CONFLICT DO UPDATE SET state = 'claimed', lease_until = excluded.lease_until,
                                       message_id = NULL, sent_at = NULL",
            params![
                order.shop_id,
                order.marketplace.as_str(),
                order.order_id,
                key.kind.as_str(),
                key.episode,
                lease_until.timestamp_millis()
            ],
        )
        .map_err(|e| sql_error(OP, e))?;
        tx.commit().map_err(|e| sql_error(OP, e))?;
        Ok(Claim::Claimed)
    }

    async fn mark_sent(
        &self,
        key: &MailKey,
        message_id: &str,
        sent_at: DateTime<FixedOffset>,
    ) -> Result<(), PortError> {
        let order = &key.order;
        self.conn()
            .execute(
                "INSERT INTO mail_ledger (shop_id, marketplace, order_id, kind, episode, state, message_id, sent_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, 'sent', ?6, ?7)
                 ON CONFLICT DO UPDATE SET state = 'sent', lease_until = NULL,
                                           message_id = excluded.message_id, sent_at = excluded.sent_at",
                params![
                    order.shop_id,
                    order.marketplace.as_str(),
                    order.order_id,
                    key.kind.as_str(),
                    key.episode,
                    message_id,
                    sent_at.to_rfc3339_opts(SecondsFormat::Millis, false)
                ],
            )
            .map_err(|e| sql_error("sqlite mark mail sent", e))?;
        Ok(())
    }

    async fn release(&self, key: &MailKey) -> Result<(), PortError> {
        let order = &key.order;
        // Only a claim is given back; a sent entry stays, so the mail is never sent again.
        self.conn()
            .execute(
                "DELETE FROM mail_ledger
                 WHERE shop_id = ?1 AND marketplace = ?2 AND order_id = ?3 AND kind = ?4 AND episode = ?5
                   AND state = 'claimed'",
                params![order.shop_id, order.marketplace.as_str(), order.order_id, key.kind.as_str(), key.episode],
            )
            .map_err(|e| sql_error("sqlite release mail claim", e))?;
        Ok(())
    }
}
