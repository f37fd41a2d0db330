//! The mail history of an order on DynamoDB (`MailHistory`): the mail ledger items under the
//! order's prefix, read back as which mail, its message id and when it was sent.

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::DateTime;
use ichigen_core::console::{LedgerMail, MailHistory};
use ichigen_core::pipeline::{MailKind, OrderKey, PortError};

use crate::store::{DynamoStore, MESSAGE_ID, SENT_AT};
use crate::table::{SK, mail_prefix};

/// The mail kind of a ledger sort key's tail (`{kind}` or `{kind}#{episode}`); `None` for a key
/// of another order whose id goes on past this one's.
fn kind_of(tail: &str) -> Option<MailKind> {
    let (kind, episode) = match tail.split_once('#') {
        Some((kind, episode)) => (kind, Some(episode)),
        None => (tail, None),
    };
    if episode.is_some_and(|e| e.parse::<u32>().is_err()) {
        return None;
    }
    kind.parse().ok()
}

impl MailHistory for DynamoStore {
    async fn order_mails(&self, key: &OrderKey) -> Result<Vec<LedgerMail>, PortError> {
        const OP: &str = "dynamodb Query mail ledger";
        let prefix = mail_prefix(key.marketplace, &key.order_id);
        let request = self.prefix_query(&key.shop_id, prefix.clone()).consistent_read(true);
        let mut out = Vec::new();
        for item in self.query_all(OP, request).await? {
            let text = |name: &str| match item.get(name) {
                Some(AttributeValue::S(v)) => Some(v.clone()),
                _ => None,
            };
            let Some(kind) = text(SK).and_then(|sk| sk.strip_prefix(&prefix).and_then(kind_of)) else { continue };
            let sent_at = text(SENT_AT)
                .map(|t| DateTime::parse_from_rfc3339(&t))
                .transpose()
                .map_err(|e| PortError::permanent(OP, e))?;
            out.push(LedgerMail { kind, message_id: text(MESSAGE_ID), sent_at });
        }
        out.sort_by_key(|m| m.sent_at);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ledger_tails_name_this_orders_mails_only() {
        assert_eq!(kind_of("thank_you"), "thank_you".parse().ok());
        assert!(kind_of("staff_alert#2").is_some());
        assert_eq!(kind_of("7#thank_you"), None);
    }
}
