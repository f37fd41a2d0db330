//! A shop's settings: who mails come from, who gets staff alerts, its rules and templates.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::digest::StaffAlerts;
use super::mail::MailKind;
use crate::order::Marketplace;

/// Everything the pipeline needs to know about one shop.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShopSettings {
    /// The ichigen shop id (as in schedules and orders).
    pub shop_id: String,
    /// Shop name as buyers know it (used in mail subjects and signatures).
    pub shop_name: String,
    /// Sender address of buyer mails; must be a verified SES identity.
    pub mail_from: String,
    /// Where staff alerts go.
    pub staff_to: Vec<String>,
    /// Shop rules, as the TOML of `rules.example.toml` (empty: the defaults).
    #[serde(default)]
    pub rules_toml: String,
    /// Per mail kind, a template replacing the Japanese default.
    #[serde(default)]
    pub templates: BTreeMap<MailKind, MailTemplate>,
    /// Text appended to every buyer mail (address, phone, hours), as the shop writes it.
    #[serde(default)]
    pub signature: String,
    /// Where buyers' answers to buyer mails go (Reply-To); `None`: the sender address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<String>,
    /// The shop's contact block: in buyer mails, and the ご依頼主 of carrier labels.
    #[serde(default)]
    pub contact: ShopContact,
    /// The shop's contract numbers with the carriers, written into label data.
    #[serde(default)]
    pub carrier_accounts: CarrierAccounts,
    /// Whether buyers who pay in advance (bank transfer, convenience store) get the
    /// payment-received mail (入金確認) when their payment arrives. On unless the shop turns it off.
    #[serde(default = "on")]
    pub payment_mail: bool,
    /// Marketplaces whose buyer mails go through the marketplace's own mail relay (settings kept
    /// with that marketplace's credentials), e.g. `aupay`. 楽天 buyer mail always does.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub relay_marketplaces: BTreeSet<Marketplace>,
    /// One staff alert per held order (the default), or a digest per window.
    #[serde(default, skip_serializing_if = "StaffAlerts::is_each")]
    pub staff_alerts: StaffAlerts,
    /// Where the shop's staff console is (`http://127.0.0.1:8080`, or its AWS URL): the staff
    /// alert links to the held order's page there. `None`: the alert names the release command.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub console_url: Option<String>,
    /// Days the shop usually takes from order to dispatch: the ship date promised when a
    /// marketplace asks for one with the acknowledgement (Qoo10's 発送予定日).
    #[serde(default = "default_lead_days")]
    pub ship_lead_days: u32,
}

/// The usual lead time when the shop sets none: Qoo10 expects dispatch within 3 business days
/// of payment (fact sheet §7), so two calendar days promise nothing a shop cannot keep.
pub const DEFAULT_SHIP_LEAD_DAYS: u32 = 2;

fn default_lead_days() -> u32 {
    DEFAULT_SHIP_LEAD_DAYS
}

/// The shop's carrier contract numbers (not secrets: they are printed on every label).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CarrierAccounts {
    /// ヤマト運輸 請求先顧客コード (10–12 digits, usually the contract phone number without
    /// hyphens): B2クラウド needs it on every 発払/コレクト row.
    pub yamato_billing_code: String,
    /// ヤマト運輸 運賃管理番号 (2 digits; empty means `01`, the usual one).
    pub yamato_freight_code: String,
    /// 佐川急便 お客様コード (12 digits); empty leaves e飛伝 to use the login's own.
    pub sagawa_customer_code: String,
}

fn on() -> bool {
    true
}

/// Who the shop is and how buyers reach it (特定商取引法 details a shop shows anyway).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ShopContact {
    /// Operating company (運営会社), as printed.
    pub company: String,
    /// Postal code, 7 digits (a hyphen is allowed).
    pub postal_code: String,
    /// Address from the prefecture on, as printed.
    pub address: String,
    /// Phone number, as printed.
    pub phone: String,
    /// Where buyers write to (お問い合わせ先).
    pub email: String,
    /// Business hours (営業時間), as the shop writes them.
    pub hours: String,
}

/// A subject and body template (minijinja).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MailTemplate {
    /// One line.
    pub subject: String,
    /// Plain text.
    pub body: String,
}

impl ShopSettings {
    /// Settings with the default rules and templates.
    pub fn new(shop_id: impl Into<String>, shop_name: impl Into<String>, mail_from: impl Into<String>) -> Self {
        ShopSettings {
            shop_id: shop_id.into(),
            shop_name: shop_name.into(),
            mail_from: mail_from.into(),
            staff_to: Vec::new(),
            rules_toml: String::new(),
            templates: BTreeMap::new(),
            signature: String::new(),
            reply_to: None,
            contact: ShopContact::default(),
            carrier_accounts: CarrierAccounts::default(),
            payment_mail: true,
            relay_marketplaces: BTreeSet::new(),
            staff_alerts: StaffAlerts::Each,
            console_url: None,
            ship_lead_days: DEFAULT_SHIP_LEAD_DAYS,
        }
    }
}
