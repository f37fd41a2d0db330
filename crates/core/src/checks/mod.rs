//! The order-check engine: reads an Order plus shop rules and yields findings, the way an
//! experienced order clerk would. Pure and allocation-light: it runs in the processor Lambda on
//! every new or changed order, and on a whole back catalogue from the CLI.

mod address;
mod buyer;
mod order_level;
mod shipping;

use serde_json::Value;

use crate::address::PREFECTURES;
use crate::finding::{Finding, FindingCode, Severity};
use crate::islands::IslandTable;
use crate::marketplace::Policies;
use crate::order::{Address, Order, OrderStatus};
use crate::postal::PostalTable;
use crate::rules::Rules;
use crate::text;

pub use order_level::BundleIndex;
pub use shipping::{DateIssue, EARLIEST_DELIVERY_DAYS, ISLAND_EXTRA_DAYS, OKINAWA_EXTRA_DAYS, requested_date_issue};

/// Rules compiled for fast checking, with the postal and island tables.
pub struct CheckEngine {
    rules: Rules,
    postal: &'static PostalTable<'static>,
    islands: &'static IslandTable,
    blacklist: buyer::Blacklist,
    suspicious: address::SuspiciousMatcher,
    remarks: order_level::RemarksFilter,
}

/// The result of checking one order.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckOutcome {
    /// Everything found, in check order.
    pub findings: Vec<Finding>,
    /// `on_hold` when a finding holds an open order; the order's own status otherwise.
    pub status: OrderStatus,
}

impl CheckEngine {
    /// Compiles the rules, with the marketplaces' declared policies, against the embedded
    /// postal and island tables.
    pub fn new(rules: Rules, policies: Policies) -> CheckEngine {
        CheckEngine {
            blacklist: buyer::Blacklist::compile(&rules.blacklist),
            suspicious: address::SuspiciousMatcher::compile(&rules.suspicious),
            remarks: order_level::RemarksFilter::compile(&rules.remarks, &policies),
            postal: PostalTable::embedded(),
            islands: IslandTable::embedded(),
            rules,
        }
    }

    /// The shop rules in force.
    pub fn rules(&self) -> &Rules {
        &self.rules
    }

    /// Checks one order. `open` indexes the shop's other open orders (for 同梱 candidates).
    pub fn check(&self, order: &Order, open: &BundleIndex) -> CheckOutcome {
        let mut out = Findings { rules: &self.rules, list: Vec::new() };
        // Amazon ships AFN orders itself: nothing of ours to check or hold.
        if !order.fulfilled_by_marketplace {
            let dests: Vec<Destination<'_>> =
                order.destinations().enumerate().map(|(i, a)| Destination::new(i, a)).collect();
            for d in &dests {
                address::check_destination(self, d, &mut out);
                address::check_label(self, d, &mut out);
            }
            address::check_suspicious(self, order, &dests, &mut out);
            buyer::check_blacklist(self, order, &dests, &mut out);
            for d in &dests {
                shipping::check_island(self, d, &mut out);
            }
            shipping::check_mail_bin(self, order, &dests, &mut out);
            shipping::check_requested_date(order, &mut out);
            order_level::check_remarks(self, order, &mut out);
            order_level::check_conditions(self, order, &mut out);
            order_level::check_bundle(order, &dests, open, &mut out);
        }
        let held = out.list.iter().any(|f| f.severity == Severity::Hold);
        let status = if held && order.status.is_open() { OrderStatus::OnHold } else { order.status };
        CheckOutcome { findings: out.list, status }
    }

    /// The 同梱 key of an open order we ship ourselves (shop, recipient, destination); `None`
    /// otherwise. Holds personal data: hash it before it leaves the process.
    pub fn bundle_key(&self, order: &Order) -> Option<String> {
        order_level::bundle_key(order, None)
    }

    /// Indexes open orders by buyer and destination, for [`CheckEngine::check`].
    pub fn bundle_index<'a>(&self, orders: impl IntoIterator<Item = &'a Order>) -> BundleIndex {
        BundleIndex::build(orders)
    }
}

/// One destination of an order with the keys every check compares on, computed once.
pub(crate) struct Destination<'o> {
    /// 0 for the first (or only) destination.
    pub index: usize,
    pub addr: &'o Address,
    /// 7 ASCII digits, when the code is well formed.
    pub postal: Option<String>,
    /// `address_key` of prefecture + city + address1 + address2, prefecture stripped.
    pub full_key: String,
    /// The same without address2 (the building), where the 番地 must be.
    pub street_key: String,
}

impl<'o> Destination<'o> {
    fn new(index: usize, addr: &'o Address) -> Self {
        let mut joined =
            String::with_capacity(addr.prefecture.len() + addr.city.len() + addr.address1.len() + addr.address2.len());
        for part in [&addr.prefecture, &addr.city, &addr.address1] {
            joined.push_str(part);
        }
        let street_key = strip_prefecture(text::address_key(&joined));
        let full_key = if addr.address2.is_empty() {
            street_key.clone()
        } else {
            joined.push_str(&addr.address2);
            strip_prefecture(text::address_key(&joined))
        };
        Destination {
            index,
            addr,
            postal: if addr.is_domestic() { text::postal_code_key(&addr.postal_code) } else { None },
            full_key,
            street_key,
        }
    }
}

/// Drops a leading prefecture (and a repeated one) so keys compare with or without it.
pub(crate) fn strip_prefecture(mut key: String) -> String {
    while let Some(p) = PREFECTURES.iter().find(|p| key.starts_with(**p)) {
        key.drain(..p.len());
    }
    key
}

/// Collects findings, applying the shop's severity settings.
pub(crate) struct Findings<'r> {
    rules: &'r Rules,
    list: Vec<Finding>,
}

impl Findings<'_> {
    /// Adds a finding at the configured severity (dropped when switched off).
    pub fn push(&mut self, code: FindingCode, message: String, evidence: Value) {
        self.push_capped(code, Severity::Hold, message, evidence);
    }

    /// Adds a finding at the configured severity but no higher than `cap`.
    pub fn push_capped(&mut self, code: FindingCode, cap: Severity, message: String, evidence: Value) {
        if let Some(severity) = self.rules.severity_of(code) {
            self.list.push(Finding { code, severity: severity.min(cap), message, evidence });
        }
    }
}

/// Japanese label of a destination for messages: 「お届け先」 or 「お届け先2」.
pub(crate) fn dest_label(d: &Destination<'_>) -> String {
    if d.index == 0 { "お届け先".to_string() } else { format!("お届け先{}", d.index + 1) }
}
