//! What a check reports: a stable code, a severity, a Japanese message for staff, and evidence.

use serde::{Deserialize, Serialize};

/// How much a finding matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// For information only.
    Info,
    /// Staff should look, but the order flows on.
    Warn,
    /// The order is held and nothing is mailed to the buyer until staff release it.
    Hold,
}

/// Stable identifiers of every check's finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum FindingCode {
    /// The postal code is not in Japan Post data.
    #[serde(rename = "address.postal_code_unknown")]
    PostalCodeUnknown,
    /// The postal code belongs to another prefecture/city than written.
    #[serde(rename = "address.postal_mismatch")]
    PostalMismatch,
    /// No 番地 after the town where the town needs one.
    #[serde(rename = "address.missing_house_number")]
    MissingHouseNumber,
    /// The address does not fit the carrier label fields.
    #[serde(rename = "address.label_overflow")]
    LabelOverflow,
    /// Test-like, repeated characters, too short, or a keyword hit.
    #[serde(rename = "address.suspicious")]
    Suspicious,
    /// The buyer or recipient is on the shop's blacklist.
    #[serde(rename = "buyer.blacklisted")]
    Blacklisted,
    /// The destination is a remote island (or the Okinawa carrier zone).
    #[serde(rename = "shipping.remote_island")]
    RemoteIsland,
    /// Every item fits one メール便 parcel.
    #[serde(rename = "shipping.mail_bin_eligible")]
    MailBinEligible,
    /// メール便 chosen, but the items don't fit or COD/date/time slot was asked for.
    #[serde(rename = "shipping.mail_bin_conflict")]
    MailBinConflict,
    /// The requested delivery date is before the order date.
    #[serde(rename = "shipping.requested_date_before_order")]
    RequestedDateBeforeOrder,
    /// The requested delivery date is sooner than the destination can be reached.
    #[serde(rename = "shipping.requested_date_too_soon")]
    RequestedDateTooSoon,
    /// The buyer wrote a comment that a person should read.
    #[serde(rename = "order.remarks")]
    Remarks,
    /// Another open order goes to the same buyer and address: ship together.
    #[serde(rename = "order.bundle_candidate")]
    BundleCandidate,
    /// One of the shop's own conditions (`[[condition]]` in the rules) matched.
    #[serde(rename = "order.shop_condition")]
    ShopCondition,
    /// An item of the order takes no SKU of the shop's stock master (`ichigen stock map`).
    #[serde(rename = "stock.unmapped")]
    StockUnmapped,
}

impl FindingCode {
    /// Every code, in the order of the design table.
    pub const ALL: [FindingCode; 15] = [
        FindingCode::PostalCodeUnknown,
        FindingCode::PostalMismatch,
        FindingCode::MissingHouseNumber,
        FindingCode::LabelOverflow,
        FindingCode::Suspicious,
        FindingCode::Blacklisted,
        FindingCode::RemoteIsland,
        FindingCode::MailBinEligible,
        FindingCode::MailBinConflict,
        FindingCode::RequestedDateBeforeOrder,
        FindingCode::RequestedDateTooSoon,
        FindingCode::Remarks,
        FindingCode::BundleCandidate,
        FindingCode::ShopCondition,
        FindingCode::StockUnmapped,
    ];

    /// The stable text form, e.g. `address.postal_mismatch`.
    pub fn as_str(self) -> &'static str {
        match self {
            FindingCode::PostalCodeUnknown => "address.postal_code_unknown",
            FindingCode::PostalMismatch => "address.postal_mismatch",
            FindingCode::MissingHouseNumber => "address.missing_house_number",
            FindingCode::LabelOverflow => "address.label_overflow",
            FindingCode::Suspicious => "address.suspicious",
            FindingCode::Blacklisted => "buyer.blacklisted",
            FindingCode::RemoteIsland => "shipping.remote_island",
            FindingCode::MailBinEligible => "shipping.mail_bin_eligible",
            FindingCode::MailBinConflict => "shipping.mail_bin_conflict",
            FindingCode::RequestedDateBeforeOrder => "shipping.requested_date_before_order",
            FindingCode::RequestedDateTooSoon => "shipping.requested_date_too_soon",
            FindingCode::Remarks => "order.remarks",
            FindingCode::BundleCandidate => "order.bundle_candidate",
            FindingCode::ShopCondition => "order.shop_condition",
            FindingCode::StockUnmapped => "stock.unmapped",
        }
    }

    /// Severity when the shop's rules say nothing.
    pub fn default_severity(self) -> Severity {
        match self {
            FindingCode::PostalCodeUnknown
            | FindingCode::PostalMismatch
            | FindingCode::MissingHouseNumber
            | FindingCode::Suspicious
            | FindingCode::Blacklisted
            | FindingCode::MailBinConflict
            | FindingCode::Remarks
            // Its stock is not reserved: staff map the item, then release the order.
            | FindingCode::StockUnmapped
            // A `note` condition is capped at warn where it is checked.
            | FindingCode::ShopCondition => Severity::Hold,
            // The order still ships and is thanked; the mail says the date will be confirmed.
            FindingCode::LabelOverflow
            | FindingCode::RemoteIsland
            | FindingCode::BundleCandidate
            | FindingCode::RequestedDateBeforeOrder
            | FindingCode::RequestedDateTooSoon => Severity::Warn,
            FindingCode::MailBinEligible => Severity::Info,
        }
    }
}

impl std::fmt::Display for FindingCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for FindingCode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        FindingCode::ALL.into_iter().find(|c| c.as_str() == s).ok_or_else(|| format!("unknown finding code {s:?}"))
    }
}

/// One thing a check found about an order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// Stable code.
    pub code: FindingCode,
    /// How much it matters, after the shop's rules.
    pub severity: Severity,
    /// Japanese text for staff.
    pub message: String,
    /// What the check saw, as structured data (may hold address text: for staff, never for logs).
    pub evidence: serde_json::Value,
}
