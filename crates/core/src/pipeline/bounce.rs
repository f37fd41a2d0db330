//! What a mail service reported after accepting a mail (a bounce, a complaint), recorded against
//! the order, and the rule for which addresses are not mailed again. SES reports through its
//! event stream; 楽天's relay reports nothing (fact sheet rakuten-rms §13), so "no bounce" never
//! means "delivered".

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::order::Marketplace;

/// What happened to the mail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MailEventKind {
    /// The receiving side refused it for good (SES `Permanent`: no such mailbox, ...).
    HardBounce,
    /// Refused for now (SES `Transient`: mailbox full, ...): kept for staff, not suppressed.
    SoftBounce,
    /// The recipient marked it as spam.
    Complaint,
}

impl MailEventKind {
    /// Whether the address must not be mailed again.
    pub fn suppresses(self) -> bool {
        matches!(self, MailEventKind::HardBounce | MailEventKind::Complaint)
    }

    /// Japanese label for staff.
    pub fn label(self) -> &'static str {
        match self {
            MailEventKind::HardBounce => "不達（宛先なし等・再送しません）",
            MailEventKind::SoftBounce => "一時的な不達",
            MailEventKind::Complaint => "迷惑メール報告（再送しません）",
        }
    }
}

/// One delivery event of one mail, traced to its order by the mail's tags.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailEvent {
    /// The shop (tag `shop`).
    pub shop_id: String,
    /// The order's marketplace (tag `marketplace`).
    pub marketplace: Marketplace,
    /// The order (tag `order_id`).
    pub order_id: String,
    /// The mail kind (tag `kind`, e.g. `thank_you`).
    pub mail_kind: String,
    /// Bounce or complaint.
    pub kind: MailEventKind,
    /// The recipient it concerns. Buyer data: shown to staff, never logged.
    pub address: String,
    /// When the mail service saw it.
    pub at: DateTime<FixedOffset>,
    /// The service's classification (e.g. `Permanent/General`, `abuse`), without addresses.
    pub detail: String,
    /// The service's id of the mail.
    pub message_id: String,
}

impl MailEvent {
    /// A stable id of this event (the same event delivered twice is recorded once).
    pub fn id(&self) -> String {
        let digest = Sha256::digest(format!("{}\n{}\n{:?}", self.message_id, address_key(&self.address), self.kind));
        digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
    }
}

/// The key under which an address is suppressed: a hash of its trimmed, lower-cased form, so
/// store keys and indexes carry no address.
pub fn address_key(address: &str) -> String {
    let digest = Sha256::digest(address.trim().to_lowercase().as_bytes());
    digest.iter().take(16).map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn address_keys_ignore_case_and_spaces() {
        assert_eq!(address_key(" Buyer@Example.JP "), address_key("buyer@example.jp"));
        assert_ne!(address_key("a@example.jp"), address_key("b@example.jp"));
        assert!(!address_key("buyer@example.jp").contains("buyer"));
    }
}
