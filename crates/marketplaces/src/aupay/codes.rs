//! Code tables of au PAY マーケット: status names, payment names, delivery names, carrier codes.
//!
//! Every fact the fact sheet marks *unverified* is one table entry or constant with an
//! `// unverified:` comment.

use ichigen_core::{Carrier, DeliveryMethod, OrderStatus, PaymentMethod};

/// `orderStatus` name → unified status. Shops may define extra names; those are not here.
pub const STATUSES: &[(&str, OrderStatus)] = &[
    ("新規受付", OrderStatus::New),
    // A reservation is not shippable yet but needs no payment or person: it stays `New`.
    ("新規予約", OrderStatus::New),
    ("予約中", OrderStatus::New),
    ("発送前入金待ち", OrderStatus::AwaitingPayment),
    ("与信待ち", OrderStatus::AwaitingPayment),
    ("発送待ち", OrderStatus::ReadyToShip),
    // Shipped, the buyer pays afterwards: our shipping work is done.
    ("発送後入金待ち", OrderStatus::Shipped),
    ("完了", OrderStatus::Shipped),
    ("保留", OrderStatus::OnHold),
    ("キャンセル", OrderStatus::Cancelled),
];

/// `cancelStatus` value meaning cancelled.
pub const CANCEL_STATUS_CANCELLED: &str = "C";
/// `shipStatus` value meaning shipped.
pub const SHIP_STATUS_SHIPPED: &str = "Y";

/// Unified status from the status name and the flags.
///
/// `cancelStatus` C wins; then `shipStatus` Y turns any open status into `Shipped` (registering
/// tracking does not advance the name by itself); a known name maps by [`STATUSES`]; an unknown
/// (shop-defined) name is `OnHold` so that a person looks at it.
pub fn status(name: &str, ship_status: &str, cancel_status: &str) -> OrderStatus {
    if cancel_status == CANCEL_STATUS_CANCELLED {
        return OrderStatus::Cancelled;
    }
    let by_name = STATUSES.iter().find(|(n, _)| *n == name).map(|&(_, s)| s);
    match by_name {
        Some(OrderStatus::Cancelled) => OrderStatus::Cancelled,
        _ if ship_status == SHIP_STATUS_SHIPPED => OrderStatus::Shipped,
        Some(s) => s,
        None => OrderStatus::OnHold,
    }
}

/// `settlementName` → unified payment method (exact names first).
pub const PAYMENTS: &[(&str, PaymentMethod)] = &[
    ("au PAY（auかんたん決済）", PaymentMethod::MarketplacePay),
    ("クレジットカード決済", PaymentMethod::CreditCard),
    // unverified: exact spelling of the next three names.
    ("ATM決済", PaymentMethod::BankTransfer),
    // unverified: exact spelling.
    ("銀行ネット決済", PaymentMethod::BankTransfer),
    // unverified: exact spelling.
    ("代金引換", PaymentMethod::Cod),
];

/// Keyword fallback for names not in [`PAYMENTS`] (spelling variants, full-width brackets ...).
const PAYMENT_KEYWORDS: &[(&str, PaymentMethod)] = &[
    ("代金引換", PaymentMethod::Cod),
    ("代引", PaymentMethod::Cod),
    ("クレジット", PaymentMethod::CreditCard),
    ("au PAY", PaymentMethod::MarketplacePay),
    ("auかんたん決済", PaymentMethod::MarketplacePay),
    ("コンビニ", PaymentMethod::ConvenienceStore),
    ("後払い", PaymentMethod::Deferred),
    ("ATM", PaymentMethod::BankTransfer),
    ("銀行", PaymentMethod::BankTransfer),
];

/// Unified payment method of a `settlementName`; `Other` when unknown or empty.
pub fn payment(name: &str) -> PaymentMethod {
    let name = name.trim();
    if let Some(&(_, p)) = PAYMENTS.iter().find(|(n, _)| *n == name) {
        return p;
    }
    PAYMENT_KEYWORDS.iter().find(|(k, _)| name.contains(k)).map_or(PaymentMethod::Other, |&(_, p)| p)
}

/// Unified delivery method of a `deliveryName`; `Other` when unknown or empty.
pub fn delivery(name: &str) -> DeliveryMethod {
    crate::labels::delivery_from_label(name).unwrap_or(DeliveryMethod::Other)
}

/// `shippingCarrier` code ↔ carrier.
pub const CARRIERS: &[(&str, Carrier)] = &[
    ("1", Carrier::Yamato),
    ("2", Carrier::Sagawa),
    ("6", Carrier::Japanpost),
    // unverified: 4, 5, 7 and 9 exist in the spec, carriers unknown (likely 西濃/福山/その他).
    ("4", Carrier::Other),
    // unverified: see above.
    ("5", Carrier::Other),
    // unverified: see above.
    ("7", Carrier::Other),
    // unverified: see above.
    ("9", Carrier::Other),
];

/// Code written back for [`Carrier::Other`].
// unverified: that 9 means その他.
pub const CARRIER_CODE_OTHER: &str = "9";

/// Carrier of a `shippingCarrier` code; `Other` when unknown.
pub fn carrier(code: &str) -> Carrier {
    CARRIERS.iter().find(|(c, _)| *c == code.trim()).map_or(Carrier::Other, |&(_, c)| c)
}

/// `shippingCarrier` code to write back for a carrier (`updateTradeInfoProc`).
pub fn carrier_code(carrier: Carrier) -> &'static str {
    match carrier {
        Carrier::Yamato => "1",
        Carrier::Sagawa => "2",
        Carrier::Japanpost => "6",
        Carrier::Other => CARRIER_CODE_OTHER,
    }
}

/// Time-slot codes → readable slot. The order search response, as far as the sources show,
/// carries no delivery date or time-slot field, so this table is empty and
/// `delivery.requested_date` / `requested_time_slot` stay `None`.
// unverified: whether the real response has delivery date / time fields at all.
pub const TIME_SLOTS: &[(&str, &str)] = &[];

/// Readable slot of a time-slot code, if known.
pub fn time_slot(code: &str) -> Option<&'static str> {
    TIME_SLOTS.iter().find(|(c, _)| *c == code).map(|&(_, s)| s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn carrier_codes_round_trip() {
        for c in [Carrier::Yamato, Carrier::Sagawa, Carrier::Japanpost, Carrier::Other] {
            assert_eq!(carrier(carrier_code(c)), c);
        }
        assert_eq!(carrier("x"), Carrier::Other);
    }

    #[test]
    fn status_flags_override_names() {
        assert_eq!(status("発送待ち", "N", "N"), OrderStatus::ReadyToShip);
        assert_eq!(status("発送待ち", "Y", "N"), OrderStatus::Shipped);
        assert_eq!(status("発送待ち", "N", "C"), OrderStatus::Cancelled);
        assert_eq!(status("店舗独自", "N", "N"), OrderStatus::OnHold);
        assert_eq!(status("キャンセル", "Y", "N"), OrderStatus::Cancelled);
        assert_eq!(payment("代金引換"), PaymentMethod::Cod);
        assert_eq!(payment("au PAY（auかんたん決済）"), PaymentMethod::MarketplacePay);
        assert_eq!(delivery("ネコポス"), DeliveryMethod::MailBin);
        assert_eq!(time_slot("1"), None);
    }
}
