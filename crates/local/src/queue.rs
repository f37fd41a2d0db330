//! Queues in the SQLite file: what the puller queued survives a run that is killed before the
//! processor took it (the watermark has moved past it by then), and a mail that failed waits for
//! the next run instead of vanishing with the process.

use std::marker::PhantomData;

use ichigen_core::pipeline::{PortError, Queue};
use rusqlite::params;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::store::{SqliteStore, sql_error};

/// One named queue of JSON messages in a [`SqliteStore`].
#[derive(Debug)]
pub struct SqliteQueue<'s, T> {
    store: &'s SqliteStore,
    name: &'static str,
    message: PhantomData<fn() -> T>,
}

/// A message taken from a queue; acknowledge it once handled.
#[derive(Debug)]
pub struct Taken<T> {
    /// Its row id (for [`SqliteQueue::ack`]).
    pub id: i64,
    /// The message, or why its body does not read back.
    pub message: Result<T, String>,
}

impl<'s, T: DeserializeOwned> SqliteQueue<'s, T> {
    /// The queue `name` in `store`.
    pub fn new(store: &'s SqliteStore, name: &'static str) -> Self {
        SqliteQueue { store, name, message: PhantomData }
    }

    /// Up to `limit` messages after row `after`, oldest first (they stay queued until acknowledged).
    pub fn take(&self, after: i64, limit: usize) -> Result<Vec<Taken<T>>, PortError> {
        const OP: &str = "sqlite queue take";
        let conn = self.store.conn();
        let mut stmt = conn
            .prepare_cached("SELECT id, body FROM queue WHERE name = ?1 AND id > ?2 ORDER BY id LIMIT ?3")
            .map_err(|e| sql_error(OP, e))?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = stmt
            .query_map(params![self.name, after, limit], |row| Ok((row.get::<_, i64>(0)?, row.get::<_, String>(1)?)))
            .map_err(|e| sql_error(OP, e))?;
        let mut out = Vec::new();
        for row in rows {
            let (id, body) = row.map_err(|e| sql_error(OP, e))?;
            let message = serde_json::from_str(&body).map_err(|e| format!("line {} column {}", e.line(), e.column()));
            out.push(Taken { id, message });
        }
        Ok(out)
    }

    /// Removes a handled message.
    pub fn ack(&self, id: i64) -> Result<(), PortError> {
        self.store
            .conn()
            .execute("DELETE FROM queue WHERE id = ?1", params![id])
            .map(|_| ())
            .map_err(|e| sql_error("sqlite queue ack", e))
    }

    /// Messages waiting.
    pub fn len(&self) -> Result<usize, PortError> {
        let n: i64 = self
            .store
            .conn()
            .query_row("SELECT COUNT(*) FROM queue WHERE name = ?1", params![self.name], |r| r.get(0))
            .map_err(|e| sql_error("sqlite queue len", e))?;
        Ok(usize::try_from(n).unwrap_or(0))
    }

    /// Whether none wait.
    pub fn is_empty(&self) -> Result<bool, PortError> {
        self.len().map(|n| n == 0)
    }
}

impl<T: Serialize + Send + Sync> Queue<T> for SqliteQueue<'_, T> {
    async fn send_all(&self, messages: &[T]) -> Result<(), PortError> {
        const OP: &str = "sqlite queue send";
        let bodies = messages
            .iter()
            .map(|m| serde_json::to_string(m).map_err(|e| PortError::permanent(OP, e)))
            .collect::<Result<Vec<_>, _>>()?;
        let mut conn = self.store.conn();
        // One transaction: the puller moves its watermark only after all of a page is here.
        let tx = conn.transaction().map_err(|e| sql_error(OP, e))?;
        {
            let mut stmt =
                tx.prepare_cached("INSERT INTO queue (name, body) VALUES (?1, ?2)").map_err(|e| sql_error(OP, e))?;
            for body in &bodies {
                stmt.execute(params![self.name, body]).map_err(|e| sql_error(OP, e))?;
            }
        }
        tx.commit().map_err(|e| sql_error(OP, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn queued_messages_survive_a_reopen_until_acknowledged() {
        let dir = std::env::temp_dir().join(format!("ichigen-queue-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join("q.db");
        let _ = std::fs::remove_file(&path);
        {
            let store = SqliteStore::open(&path).expect("open");
            let q: SqliteQueue<'_, u32> = SqliteQueue::new(&store, "orders");
            q.send_all(&[1, 2, 3]).await.expect("send");
            let first = q.take(0, 10).expect("take");
            q.ack(first[0].id).expect("ack");
        }
        // The process "died" here: the two unacknowledged messages are still there.
        let store = SqliteStore::open(&path).expect("reopen");
        let q: SqliteQueue<'_, u32> = SqliteQueue::new(&store, "orders");
        let left: Vec<u32> = q.take(0, 10).expect("take").into_iter().map(|t| t.message.expect("body")).collect();
        assert_eq!(left, vec![2, 3]);
        let other: SqliteQueue<'_, u32> = SqliteQueue::new(&store, "mail");
        assert!(other.is_empty().expect("len"), "queues are separate");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
