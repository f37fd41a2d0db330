//! The tabs of the staff's order list (受注一覧): where an order stands for the clerk, from its
//! effective status and the shop's own shipping of it. One tab per order; the store keeps it as
//! an indexed column so each tab lists and counts fast.

use serde::{Deserialize, Serialize};

use crate::order::OrderStatus;
use crate::pipeline::{ShipState, StoredOrder};

/// One tab of the order list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ListTab {
    /// 新規: a new order, nothing done with it yet.
    New,
    /// 保留: held by a finding or by staff.
    OnHold,
    /// 入金待ち: waiting for the buyer's payment.
    AwaitingPayment,
    /// 出荷待ち: ready to ship, no label data exported yet.
    ReadyToShip,
    /// 印刷済: label data exported, no tracking number yet.
    Printed,
    /// 出荷済: shipped (tracking number known, or the marketplace says so).
    Shipped,
    /// キャンセル.
    Cancelled,
}

impl ListTab {
    /// Every tab, in the order the list shows them.
    pub const ALL: [ListTab; 7] = [
        ListTab::New,
        ListTab::OnHold,
        ListTab::AwaitingPayment,
        ListTab::ReadyToShip,
        ListTab::Printed,
        ListTab::Shipped,
        ListTab::Cancelled,
    ];

    /// The tab of a stored order. A hold wins over everything open; an order whose parcels all
    /// have tracking numbers is 出荷済 even before the marketplace says so.
    pub fn of(s: &StoredOrder) -> ListTab {
        match (s.status, s.ship_state()) {
            (OrderStatus::OnHold, _) => ListTab::OnHold,
            (OrderStatus::Cancelled, _) => ListTab::Cancelled,
            (OrderStatus::Shipped, _) | (_, Some(ShipState::Shipped | ShipState::Reflected)) => ListTab::Shipped,
            (OrderStatus::AwaitingPayment, _) => ListTab::AwaitingPayment,
            (_, Some(ShipState::Printed)) => ListTab::Printed,
            (OrderStatus::ReadyToShip, _) => ListTab::ReadyToShip,
            (OrderStatus::New, _) => ListTab::New,
        }
    }

    /// The stable text form (`on_hold`), as stored and in URLs.
    pub fn as_str(self) -> &'static str {
        match self {
            ListTab::New => "new",
            ListTab::OnHold => "on_hold",
            ListTab::AwaitingPayment => "awaiting_payment",
            ListTab::ReadyToShip => "ready_to_ship",
            ListTab::Printed => "printed",
            ListTab::Shipped => "shipped",
            ListTab::Cancelled => "cancelled",
        }
    }

    /// The tab's Japanese name.
    pub fn label(self) -> &'static str {
        match self {
            ListTab::New => "新規",
            ListTab::OnHold => "保留",
            ListTab::AwaitingPayment => "入金待ち",
            ListTab::ReadyToShip => "出荷待ち",
            ListTab::Printed => "印刷済",
            ListTab::Shipped => "出荷済",
            ListTab::Cancelled => "キャンセル",
        }
    }
}

impl std::str::FromStr for ListTab {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ListTab::ALL.into_iter().find(|t| t.as_str() == s).ok_or_else(|| format!("unknown tab {s:?}"))
    }
}
