//! The staff console's ports on the SQLite store: the order list by keyset over the searched
//! columns the store keeps beside each record (schema version 6), and the audit log.

use chrono::{DateTime, FixedOffset};
use ichigen_core::console::{
    AuditEntry, AuditLog, ListColumns, ListCursor, OrderList, OrderPage, OrderQuery, list_needle, search_needle,
    wire_name,
};
use ichigen_core::order::Marketplace;
use ichigen_core::pipeline::{OrderKey, PortError, StoredOrder};
use ichigen_core::tab::ListTab;
use rusqlite::types::Value;
use rusqlite::{Transaction, params, params_from_iter};

use crate::SqliteStore;
use crate::store::{decode, sort_time, sql_error};

/// Fills the searched columns of the orders stored before version 6 (inside the upgrade's
/// transaction). A record that does not read back keeps empty columns: it is listed under no tab
/// until it is written again, as lists already skip it.
pub(crate) fn backfill(tx: &Transaction<'_>) -> rusqlite::Result<()> {
    let rows: Vec<(String, String, String, String)> = {
        let mut stmt = tx.prepare("SELECT shop_id, marketplace, order_id, record FROM orders")?;
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?.collect::<Result<_, _>>()?
    };
    let mut update = tx.prepare(
        "UPDATE orders SET tab = ?4, payment = ?5, delivery = ?6, prefectures = ?7, skus = ?8, findings = ?9,
                           search = ?10
         WHERE shop_id = ?1 AND marketplace = ?2 AND order_id = ?3",
    )?;
    for (shop, marketplace, order_id, json) in rows {
        let Ok(stored) = serde_json::from_str::<StoredOrder>(&json) else { continue };
        let c = ListColumns::of(&stored);
        update.execute(params![
            shop,
            marketplace,
            order_id,
            c.tab.as_str(),
            c.payment,
            c.delivery,
            c.prefectures,
            c.skus,
            c.findings,
            c.search
        ])?;
    }
    Ok(())
}

/// The WHERE clause and its parameters for `query` (the shop is `?1`).
fn conditions(shop_id: &str, q: &OrderQuery) -> (String, Vec<Value>) {
    let mut sql = String::from("shop_id = ?1");
    let mut args: Vec<Value> = vec![Value::Text(shop_id.to_string())];
    let mut add = |clause: &str, value: String| {
        args.push(Value::Text(value));
        sql.push_str(&clause.replace('?', &format!("?{}", args.len())));
    };
    if let Some(tab) = q.tab {
        add(" AND tab = ?", tab.as_str().to_string());
    }
    if let Some(m) = q.marketplace {
        add(" AND marketplace = ?", m.as_str().to_string());
    }
    if let Some(t) = q.since {
        add(" AND ordered_at >= ?", sort_time(t));
    }
    if let Some(t) = q.until {
        add(" AND ordered_at < ?", sort_time(t));
    }
    if let Some(p) = q.payment {
        add(" AND payment = ?", wire_name(&p));
    }
    if let Some(d) = q.delivery {
        add(" AND delivery = ?", wire_name(&d));
    }
    if let Some(sku) = q.sku.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        add(" AND instr(skus, ?) > 0", list_needle(sku));
    }
    if let Some(code) = q.finding {
        add(" AND instr(findings, ?) > 0", list_needle(code.as_str()));
    }
    if let Some(p) = q.prefecture.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        add(" AND instr(prefectures, ?) > 0", list_needle(p));
    }
    if let Some(text) = q.text.as_deref().and_then(search_needle) {
        add(" AND instr(search, ?) > 0", text);
    }
    (sql, args)
}

impl OrderList for SqliteStore {
    async fn page(
        &self,
        shop_id: &str,
        query: &OrderQuery,
        after: Option<&ListCursor>,
        limit: usize,
    ) -> Result<OrderPage, PortError> {
        const OP: &str = "sqlite list page";
        let (mut sql, mut args) = conditions(shop_id, query);
        if let Some(c) = after {
            let n = args.len();
            sql.push_str(&format!(" AND (ordered_at, marketplace, order_id) < (?{}, ?{}, ?{})", n + 1, n + 2, n + 3));
            args.push(Value::Text(sort_time(c.ordered_at)));
            args.push(Value::Text(c.marketplace.as_str().to_string()));
            args.push(Value::Text(c.order_id.clone()));
        }
        // One more than asked: whether there is a next page.
        let fetch = i64::try_from(limit.saturating_add(1)).unwrap_or(i64::MAX);
        // Keys first, from the index alone (it holds every filtered column: a filter matching few
        // orders scans index entries, not records), then the records of the page by key.
        let sql = format!(
            "SELECT marketplace, order_id, ordered_at FROM orders WHERE {sql}
             ORDER BY ordered_at DESC, marketplace DESC, order_id DESC LIMIT {fetch}"
        );
        let conn = self.conn();
        let keys: Vec<(String, String, String)> = {
            let mut stmt = conn.prepare_cached(&sql).map_err(|e| sql_error(OP, e))?;
            let rows = stmt
                .query_map(params_from_iter(args), |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
                .map_err(|e| sql_error(OP, e))?;
            rows.collect::<Result<_, _>>().map_err(|e| sql_error(OP, e))?
        };
        let more = keys.len() > limit;
        let mut get = conn
            .prepare_cached("SELECT record FROM orders WHERE shop_id = ?1 AND marketplace = ?2 AND order_id = ?3")
            .map_err(|e| sql_error(OP, e))?;
        let mut orders = Vec::new();
        let mut last = None;
        for (marketplace, order_id, ordered_at) in keys.into_iter().take(limit) {
            let json: String =
                get.query_row(params![shop_id, marketplace, order_id], |r| r.get(0)).map_err(|e| sql_error(OP, e))?;
            let key = format!("{shop_id}/{marketplace}/{order_id}");
            match decode::<StoredOrder>("order", &key, &json) {
                Ok(o) => orders.push(o),
                Err(_) => self.note_skipped(key),
            }
            last = Some((marketplace, order_id, ordered_at));
        }
        // The next page starts after the last key listed, even when its record did not read back.
        let next = match last.filter(|_| more) {
            Some((marketplace, order_id, ordered_at)) => Some(ListCursor {
                ordered_at: DateTime::parse_from_rfc3339(&ordered_at).map_err(|e| PortError::permanent(OP, e))?,
                marketplace: marketplace.parse().map_err(|_| {
                    PortError::permanent(OP, format!("order {order_id}: unknown marketplace in the store"))
                })?,
                order_id,
            }),
            None => None,
        };
        Ok(OrderPage { orders, next })
    }

    async fn tab_counts(&self, shop_id: &str) -> Result<Vec<(ListTab, u64)>, PortError> {
        const OP: &str = "sqlite count tabs";
        let conn = self.conn();
        let mut stmt = conn
            .prepare_cached("SELECT tab, n FROM tab_counts WHERE shop_id = ?1 AND n > 0")
            .map_err(|e| sql_error(OP, e))?;
        let rows = stmt
            .query_map(params![shop_id], |row| Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?)))
            .map_err(|e| sql_error(OP, e))?;
        let mut out = Vec::new();
        for row in rows {
            let (tab, n) = row.map_err(|e| sql_error(OP, e))?;
            if let Ok(tab) = tab.parse::<ListTab>() {
                out.push((tab, u64::try_from(n).unwrap_or(0)));
            }
        }
        out.sort();
        Ok(out)
    }
}

fn audit_time(t: DateTime<FixedOffset>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
}

type AuditRow = (String, String, String, String, Option<String>, Option<String>, String);

fn audit_entry(row: AuditRow) -> Result<AuditEntry, PortError> {
    const OP: &str = "sqlite read audit";
    let (shop_id, at, staff, action, marketplace, order_id, detail) = row;
    let at = DateTime::parse_from_rfc3339(&at).map_err(|e| PortError::permanent(OP, e))?;
    let order = match (marketplace, order_id) {
        (Some(m), Some(order_id)) => {
            let marketplace: Marketplace =
                m.parse().map_err(|_| PortError::permanent(OP, format!("audit entry: unknown marketplace {m}")))?;
            Some(OrderKey { shop_id: shop_id.clone(), marketplace, order_id })
        }
        _ => None,
    };
    Ok(AuditEntry { shop_id, at, staff, action, order, detail })
}

impl SqliteStore {
    fn audit_query(&self, sql: &str, args: &[&dyn rusqlite::ToSql]) -> Result<Vec<AuditEntry>, PortError> {
        const OP: &str = "sqlite read audit";
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(sql).map_err(|e| sql_error(OP, e))?;
        let rows = stmt
            .query_map(args, |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?)))
            .map_err(|e| sql_error(OP, e))?;
        rows.map(|r| r.map_err(|e| sql_error(OP, e)).and_then(audit_entry)).collect()
    }
}

impl AuditLog for SqliteStore {
    async fn record_action(&self, e: &AuditEntry) -> Result<(), PortError> {
        self.conn()
            .execute(
                "INSERT INTO audit (shop_id, at, staff, action, marketplace, order_id, detail)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    e.shop_id,
                    audit_time(e.at),
                    e.staff,
                    e.action,
                    e.order.as_ref().map(|k| k.marketplace.as_str()),
                    e.order.as_ref().map(|k| k.order_id.as_str()),
                    e.detail
                ],
            )
            .map_err(|e| sql_error("sqlite record audit", e))?;
        Ok(())
    }

    async fn order_actions(&self, key: &OrderKey) -> Result<Vec<AuditEntry>, PortError> {
        self.audit_query(
            "SELECT shop_id, at, staff, action, marketplace, order_id, detail FROM audit
             WHERE shop_id = ?1 AND marketplace = ?2 AND order_id = ?3 ORDER BY id DESC",
            &[&key.shop_id, &key.marketplace.as_str(), &key.order_id],
        )
    }

    async fn recent_actions(&self, shop_id: &str, limit: usize) -> Result<Vec<AuditEntry>, PortError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.audit_query(
            "SELECT shop_id, at, staff, action, marketplace, order_id, detail FROM audit
             WHERE shop_id = ?1 ORDER BY id DESC LIMIT ?2",
            &[&shop_id, &limit],
        )
    }
}

impl ichigen_core::console::MailHistory for SqliteStore {
    async fn order_mails(&self, key: &OrderKey) -> Result<Vec<ichigen_core::console::LedgerMail>, PortError> {
        const OP: &str = "sqlite read mail ledger";
        let conn = self.conn();
        let mut stmt = conn
            .prepare_cached(
                "SELECT kind, message_id, sent_at FROM mail_ledger
                 WHERE shop_id = ?1 AND marketplace = ?2 AND order_id = ?3 ORDER BY sent_at",
            )
            .map_err(|e| sql_error(OP, e))?;
        let rows = stmt
            .query_map(params![key.shop_id, key.marketplace.as_str(), key.order_id], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, Option<String>>(1)?, r.get::<_, Option<String>>(2)?))
            })
            .map_err(|e| sql_error(OP, e))?;
        let mut out = Vec::new();
        for row in rows {
            let (kind, message_id, sent_at) = row.map_err(|e| sql_error(OP, e))?;
            let kind = kind.parse().map_err(|_| PortError::permanent(OP, format!("unknown mail kind {kind}")))?;
            let sent_at = sent_at
                .map(|t| DateTime::parse_from_rfc3339(&t))
                .transpose()
                .map_err(|e| PortError::permanent(OP, e))?;
            out.push(ichigen_core::console::LedgerMail { kind, message_id, sent_at });
        }
        Ok(out)
    }
}
