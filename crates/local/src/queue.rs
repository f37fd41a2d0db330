//! Queues in the SQLite file: what the puller queued survives a run that is killed before the
//! processor took it (the watermark has moved past it by then), and a mail that failed waits for
//! the next run instead of vanishing with the process. A message that keeps failing goes to the
//! `dead_letters` table after [`MAX_ATTEMPTS`] tries (as SQS moves it to the queue's DLQ after its
//! `maxReceiveCount`), where `ichigen dead-letters` lists it and can redrive it. A message put
//! back to wait (a mail whose claim is another worker's until its lease ends) is not taken
//! before its time and keeps its tries.

use std::marker::PhantomData;
use std::sync::Mutex;
use std::time::Duration;

use chrono::{SecondsFormat, Utc};
use ichigen_core::pipeline::consume::read_body;
use ichigen_core::pipeline::{Consumer, Delivery, PortError, Queue};
use rusqlite::{OptionalExtension, TransactionBehavior, params};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::store::{SqliteStore, sql_error};

/// The embedded orders queue (puller → processor).
pub const ORDERS_QUEUE: &str = "orders";
/// The embedded mail queue (processor and staff decisions → notifier).
pub const MAIL_QUEUE: &str = "mail";

/// Tries of a message before it is dead-lettered: the `max_receive_count` of the SQS queues
/// (infra/main.tf).
pub const MAX_ATTEMPTS: u32 = 5;

/// One named queue of JSON messages in a [`SqliteStore`].
#[derive(Debug)]
pub struct SqliteQueue<'s, T> {
    store: &'s SqliteStore,
    name: &'static str,
    max_attempts: u32,
    /// The last row this consumer took: a message failed in this run is not taken again until
    /// the next run (a new consumer), as SQS hides it until its visibility timeout ends.
    after: Mutex<i64>,
    message: PhantomData<fn() -> T>,
}

impl<'s, T> SqliteQueue<'s, T> {
    /// The queue `name` in `store`, dead-lettering after [`MAX_ATTEMPTS`] tries.
    pub fn new(store: &'s SqliteStore, name: &'static str) -> Self {
        SqliteQueue { store, name, max_attempts: MAX_ATTEMPTS, after: Mutex::new(0), message: PhantomData }
    }

    /// The same queue, dead-lettering after `tries` tries (at least 1).
    pub fn with_max_attempts(mut self, tries: u32) -> Self {
        self.max_attempts = tries.max(1);
        self
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

    /// Every message queued, due or waiting, oldest first, without taking any: the body as `T`,
    /// or where it stops reading.
    pub fn queued(&self) -> Result<Vec<Result<T, String>>, PortError>
    where
        T: DeserializeOwned,
    {
        const OP: &str = "sqlite queue list";
        let conn = self.store.conn();
        let mut stmt =
            conn.prepare_cached("SELECT body FROM queue WHERE name = ?1 ORDER BY id").map_err(|e| sql_error(OP, e))?;
        let rows = stmt.query_map(params![self.name], |row| row.get::<_, String>(0)).map_err(|e| sql_error(OP, e))?;
        let mut out = Vec::new();
        for body in rows {
            let body = body.map_err(|e| sql_error(OP, e))?;
            out.push(read_body(&body));
        }
        Ok(out)
    }

    /// Moves row `id` to the dead letters with `reason` and its tries.
    fn bury(&self, id: i64, reason: &str, op: &'static str) -> Result<(), PortError> {
        let mut conn = self.store.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(|e| sql_error(op, e))?;
        let moved = tx
            .execute(
                "INSERT INTO dead_letters (queue, body, attempts, reason, failed_at)
                 SELECT name, body, attempts, ?2, ?3 FROM queue WHERE id = ?1",
                params![id, reason, Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true)],
            )
            .map_err(|e| sql_error(op, e))?;
        if moved == 1 {
            tx.execute("DELETE FROM queue WHERE id = ?1", params![id]).map_err(|e| sql_error(op, e))?;
        }
        tx.commit().map_err(|e| sql_error(op, e))
    }
}

fn row_id(operation: &'static str, receipt: &str) -> Result<i64, PortError> {
    receipt.parse().map_err(|_| PortError::permanent(operation, format!("not a queue receipt: {receipt:?}")))
}

impl<T: DeserializeOwned + Send + Sync> Consumer<T> for SqliteQueue<'_, T> {
    async fn take(&self, limit: usize) -> Result<Vec<Delivery<T>>, PortError> {
        const OP: &str = "sqlite queue take";
        let mut after = self.after.lock().unwrap_or_else(|p| p.into_inner());
        let conn = self.store.conn();
        let mut stmt = conn
            .prepare_cached(
                "SELECT id, attempts, body FROM queue WHERE name = ?1 AND id > ?2 AND not_before <= ?4
                 ORDER BY id LIMIT ?3",
            )
            .map_err(|e| sql_error(OP, e))?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = stmt
            .query_map(params![self.name, *after, limit, Utc::now().timestamp_millis()], |row| {
                Ok((row.get::<_, i64>(0)?, row.get::<_, i64>(1)?, row.get::<_, String>(2)?))
            })
            .map_err(|e| sql_error(OP, e))?;
        let mut out = Vec::new();
        for row in rows {
            let (id, attempts, body) = row.map_err(|e| sql_error(OP, e))?;
            *after = id;
            let message = read_body(&body);
            out.push(Delivery { receipt: id.to_string(), attempts: u32::try_from(attempts).unwrap_or(0), message });
        }
        Ok(out)
    }

    async fn ack(&self, receipt: &str) -> Result<(), PortError> {
        const OP: &str = "sqlite queue ack";
        let id = row_id(OP, receipt)?;
        self.store
            .conn()
            .execute("DELETE FROM queue WHERE id = ?1", params![id])
            .map(|_| ())
            .map_err(|e| sql_error(OP, e))
    }

    async fn fail(&self, receipt: &str, reason: &str) -> Result<(), PortError> {
        const OP: &str = "sqlite queue fail";
        let id = row_id(OP, receipt)?;
        let attempts: Option<i64> = self
            .store
            .conn()
            .query_row("UPDATE queue SET attempts = attempts + 1 WHERE id = ?1 RETURNING attempts", params![id], |r| {
                r.get(0)
            })
            .optional()
            .map_err(|e| sql_error(OP, e))?;
        match attempts {
            Some(n) if n >= i64::from(self.max_attempts) => {
                self.bury(id, &format!("failed {n} times; last: {reason}"), OP)
            }
            // Still queued for the next run; or acknowledged meanwhile by another consumer.
            _ => Ok(()),
        }
    }

    async fn dead_letter(&self, receipt: &str, reason: &str) -> Result<(), PortError> {
        const OP: &str = "sqlite queue dead-letter";
        let id = row_id(OP, receipt)?;
        self.bury(id, reason, OP)
    }

    async fn put_back(&self, receipt: &str, wait: Duration, _reason: &str) -> Result<(), PortError> {
        const OP: &str = "sqlite queue put back";
        let id = row_id(OP, receipt)?;
        let wait = i64::try_from(wait.as_millis()).unwrap_or(i64::MAX);
        let not_before = Utc::now().timestamp_millis().saturating_add(wait);
        self.store
            .conn()
            .execute("UPDATE queue SET not_before = ?2 WHERE id = ?1", params![id, not_before])
            .map(|_| ())
            .map_err(|e| sql_error(OP, e))
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

/// A message a queue gave up on, as `ichigen dead-letters list` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetter {
    /// Its id (for `redrive`).
    pub id: i64,
    /// The queue it came from (`orders`, `mail`).
    pub queue: String,
    /// Tries before it was given up.
    pub attempts: u32,
    /// Why (ids and field names only).
    pub reason: String,
    /// When it was given up (UTC, RFC 3339).
    pub failed_at: String,
    /// The order it is about (`shop/marketplace/order id`) and the mail kind of a mail job, read
    /// from the body's ids; never the body itself (an order carries buyer data).
    pub about: String,
}

/// The ids of a message body: its order key and mail kind where it has them.
fn about(body: &str) -> String {
    let Ok(serde_json::Value::Object(map)) = serde_json::from_str::<serde_json::Value>(body) else {
        return "(body does not read)".to_string();
    };
    let field = |name: &str| map.get(name).and_then(|v| v.as_str()).unwrap_or("?").to_string();
    let key = format!("{}/{}/{}", field("shop_id"), field("marketplace"), field("order_id"));
    match map.get("kind").and_then(|v| v.as_str()) {
        Some(kind) => format!("{key} {kind}"),
        None => key,
    }
}

impl SqliteStore {
    /// The dead letters, of `queue` only when given, oldest first.
    pub fn dead_letters(&self, queue: Option<&str>) -> Result<Vec<DeadLetter>, PortError> {
        const OP: &str = "sqlite list dead letters";
        let conn = self.conn();
        let mut stmt = conn
            .prepare_cached(
                "SELECT id, queue, attempts, reason, failed_at, body FROM dead_letters
                 WHERE ?1 IS NULL OR queue = ?1 ORDER BY id",
            )
            .map_err(|e| sql_error(OP, e))?;
        let rows = stmt
            .query_map(params![queue], |r| {
                Ok(DeadLetter {
                    id: r.get(0)?,
                    queue: r.get(1)?,
                    attempts: u32::try_from(r.get::<_, i64>(2)?).unwrap_or(0),
                    reason: r.get(3)?,
                    failed_at: r.get(4)?,
                    about: about(&r.get::<_, String>(5)?),
                })
            })
            .map_err(|e| sql_error(OP, e))?;
        rows.collect::<Result<Vec<_>, _>>().map_err(|e| sql_error(OP, e))
    }

    /// Puts dead letters back on their queues with their tries reset: those of `ids`, or every
    /// one (of `queue` only when given) when `ids` is empty. Returns how many went back.
    pub fn redrive(&self, queue: Option<&str>, ids: &[i64]) -> Result<usize, PortError> {
        const OP: &str = "sqlite redrive dead letters";
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(|e| sql_error(OP, e))?;
        let chosen: Vec<i64> = if ids.is_empty() {
            let mut stmt = tx
                .prepare("SELECT id FROM dead_letters WHERE ?1 IS NULL OR queue = ?1 ORDER BY id")
                .map_err(|e| sql_error(OP, e))?;
            let rows = stmt.query_map(params![queue], |r| r.get(0)).map_err(|e| sql_error(OP, e))?;
            rows.collect::<Result<_, _>>().map_err(|e| sql_error(OP, e))?
        } else {
            ids.to_vec()
        };
        let mut moved = 0;
        for id in chosen {
            let n = tx
                .execute(
                    "INSERT INTO queue (name, body) SELECT queue, body FROM dead_letters
                     WHERE id = ?1 AND (?2 IS NULL OR queue = ?2)",
                    params![id, queue],
                )
                .map_err(|e| sql_error(OP, e))?;
            if n == 1 {
                tx.execute("DELETE FROM dead_letters WHERE id = ?1", params![id]).map_err(|e| sql_error(OP, e))?;
                moved += 1;
            }
        }
        tx.commit().map_err(|e| sql_error(OP, e))?;
        Ok(moved)
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
            let first = q.take(10).await.expect("take");
            q.ack(&first[0].receipt).await.expect("ack");
        }
        // The process "died" here: the two unacknowledged messages are still there.
        let store = SqliteStore::open(&path).expect("reopen");
        let q: SqliteQueue<'_, u32> = SqliteQueue::new(&store, "orders");
        let left: Vec<u32> = q.take(10).await.expect("take").into_iter().map(|t| t.message.expect("body")).collect();
        assert_eq!(left, vec![2, 3]);
        let other: SqliteQueue<'_, u32> = SqliteQueue::new(&store, "mail");
        assert!(other.is_empty().expect("len"), "queues are separate");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[tokio::test]
    async fn a_message_put_back_is_not_taken_before_its_time_and_keeps_its_tries() {
        let store = SqliteStore::open_in_memory().expect("open");
        let q: SqliteQueue<'_, u32> = SqliteQueue::new(&store, "mail");
        q.send_all(&[1, 2]).await.expect("send");
        let got = q.take(10).await.expect("take");
        q.put_back(&got[0].receipt, Duration::from_millis(300), "claimed by another worker").await.expect("put back");
        q.fail(&got[1].receipt, "unavailable").await.expect("fail");
        let next: SqliteQueue<'_, u32> = SqliteQueue::new(&store, "mail");
        let early = next.take(10).await.expect("take");
        assert_eq!(early.iter().map(|d| d.message.clone().expect("body")).collect::<Vec<_>>(), vec![2]);
        assert_eq!(early[0].attempts, 1, "a failure counts a try");
        assert_eq!(q.len().expect("len"), 2, "the waiting message is still queued");
        tokio::time::sleep(Duration::from_millis(350)).await;
        let later: SqliteQueue<'_, u32> = SqliteQueue::new(&store, "mail");
        let due = later.take(10).await.expect("take");
        assert_eq!(due[0].message.clone().expect("body"), 1);
        assert_eq!(due[0].attempts, 0, "waiting is not a try");
    }

    #[test]
    fn a_dead_letter_is_described_by_its_ids_only() {
        let job = r#"{"shop_id":"s1","marketplace":"yahoo","order_id":"y-1","kind":"thank_you"}"#;
        assert_eq!(about(job), "s1/yahoo/y-1 thank_you");
        let order = r#"{"shop_id":"s1","marketplace":"yahoo","order_id":"y-2","buyer":{"name":"山田 太郎"}}"#;
        assert_eq!(about(order), "s1/yahoo/y-2");
        assert_eq!(about("山田"), "(body does not read)");
    }
}
