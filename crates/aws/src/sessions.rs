//! Staff sessions of the console's AWS home on DynamoDB (`SessionStore`): one item per session,
//! keyed by the hash of its cookie (the console hashes it; the cookie is never stored), expiring by
//! TTL when the session does. TTL deletes late (up to days), so reads also compare the end time.

use ichigen_core::console::{PortFuture, SessionStore, StaffSession};
use ichigen_core::pipeline::PortError;

use crate::error::port_error;
use crate::item::{decode, encode};
use crate::store::{DynamoStore, key_of, n, s};
use crate::table::{EXPIRES_AT, PK, SESSION_PREFIX, SK};

/// Sort key of a session item (its partition is the session's own).
const SESSION_SK: &str = "SESSION";

fn session_pk(key: &str) -> String {
    format!("{SESSION_PREFIX}{key}")
}

impl SessionStore for DynamoStore {
    fn put_session<'a>(&'a self, key: &'a str, session: &'a StaffSession) -> PortFuture<'a, ()> {
        Box::pin(async move {
            let pk = session_pk(key);
            let mut item = encode("session", &format!("{SESSION_PREFIX}…/{SESSION_SK}"), session)?;
            item.insert(PK.into(), s(pk));
            item.insert(SK.into(), s(SESSION_SK));
            // The record's own expires_at is the TTL attribute too.
            item.insert(EXPIRES_AT.into(), n(session.expires_at));
            self.client()
                .put_item()
                .table_name(self.table())
                .set_item(Some(item))
                .send()
                .await
                .map_err(|e| port_error("dynamodb PutItem session", e))?;
            Ok(())
        })
    }

    fn session<'a>(&'a self, key: &'a str, now: i64) -> PortFuture<'a, Option<StaffSession>> {
        Box::pin(async move {
            let item = self.get_item("dynamodb GetItem session", session_pk(key), SESSION_SK.to_string()).await?;
            let session = item.map(|i| decode::<StaffSession>("session", i)).transpose()?;
            Ok(session.filter(|s| s.expires_at > now))
        })
    }

    fn end_session<'a>(&'a self, key: &'a str) -> PortFuture<'a, ()> {
        Box::pin(async move {
            self.client()
                .delete_item()
                .table_name(self.table())
                .set_key(Some(key_of(session_pk(key), SESSION_SK.to_string())))
                .send()
                .await
                .map_err(|e| port_error("dynamodb DeleteItem session", e))?;
            Ok::<(), PortError>(())
        })
    }
}
