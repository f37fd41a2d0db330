//! Yahoo!ショッピング code tables: one table per code family, each entry easy to change.
//!
//! Facts the fact sheet marks unverified carry an `// unverified:` comment.

use ichigen_core::{Carrier, DeliveryMethod, OrderStatus, PaymentMethod};

/// `OrderStatus` 4 (キャンセル).
pub const ORDER_STATUS_CANCELLED: &str = "4";

/// Unified status from `OrderStatus`, `ShipStatus` and `IsSeen`; `None` for an unknown `OrderStatus`.
///
/// | OrderStatus | ShipStatus | IsSeen | status |
/// |---|---|---|---|
/// | 4 キャンセル | any | any | cancelled |
/// | 3 保留 | any | any | on_hold |
/// | 5 完了 | any | any | shipped (completed orders have been handed over) |
/// | 1 予約中, 2 処理中 | 3 出荷済み / 4 着荷済み | any | shipped |
/// | 1 予約中, 2 処理中 | 0 出荷不可 | any | awaiting_payment (0 = e.g. prepaid and unpaid) |
/// | 1 予約中, 2 処理中 | 1, 2 or absent | false | new |
/// | 1 予約中, 2 処理中 | 1, 2 or absent | true/absent | ready_to_ship (1 予約中 only when seen) |
pub fn order_status(order_status: &str, ship_status: Option<&str>, is_seen: Option<bool>) -> Option<OrderStatus> {
    let status = match order_status {
        "4" => OrderStatus::Cancelled,
        "3" => OrderStatus::OnHold,
        "5" => OrderStatus::Shipped,
        "1" | "2" => match ship_status {
            Some("3" | "4") => OrderStatus::Shipped,
            Some("0") => OrderStatus::AwaitingPayment,
            Some("1" | "2") | None => match (order_status, is_seen) {
                (_, Some(false)) => OrderStatus::New,
                // A reservation the store has not marked seen is new; once seen it waits to ship.
                ("1", None) => OrderStatus::New,
                _ => OrderStatus::ReadyToShip,
            },
            Some(_) => return None,
        },
        _ => return None,
    };
    Some(status)
}

/// `ShipStatus` values that mean the parcel has left (3 出荷済み, 4 着荷済み).
pub fn is_shipped(ship_status: Option<&str>) -> bool {
    matches!(ship_status, Some("3" | "4"))
}

/// `PayMethod` code → unified payment method; `None` for store-defined or unknown codes (then
/// [`payment_from_kind`] decides from `PayKind`).
pub fn payment_method(code: &str) -> Option<PaymentMethod> {
    let m = match code {
        "payment_a1" => PaymentMethod::CreditCard,
        "payment_a6" | "payment_a7" => PaymentMethod::ConvenienceStore,
        // Mobile Suica, docomo / au / SoftBank carrier billing.
        "payment_a8" | "payment_a9" | "payment_a10" | "payment_a11" => PaymentMethod::Other,
        // Pay-easy: paid from a bank account before shipping.
        "payment_a15" => PaymentMethod::BankTransfer,
        // Yahoo!マネー (legacy), PayPay残高等.
        "payment_a16" | "payment_a17" => PaymentMethod::MarketplacePay,
        // PayPayクレジット (formerly PayPayあと払い): the buyer pays PayPay later.
        "payment_a19" => PaymentMethod::Deferred,
        "payment_b1" | "payment_b2" | "payment_b3" | "payment_b4" | "payment_b5" | "payment_b6" => {
            PaymentMethod::BankTransfer
        }
        "payment_c1" => PaymentMethod::BankTransfer,
        "payment_c2" => PaymentMethod::Deferred,
        // 現金書留.
        "payment_c3" => PaymentMethod::Other,
        "payment_d1" => PaymentMethod::Cod,
        // Paid fully with points (the marketplace's own currency).
        "payment_z1" => PaymentMethod::MarketplacePay,
        // payment_e1 … payment_e15 are store-defined: decided by PayKind.
        _ => return None,
    };
    Some(m)
}

/// `PayKind` → unified payment method, for store-defined (`payment_eN`) and unknown codes.
pub fn payment_from_kind(kind: Option<&str>) -> PaymentMethod {
    match kind {
        Some("0") => PaymentMethod::CreditCard,
        // Net banking.
        Some("1") => PaymentMethod::BankTransfer,
        Some("3") => PaymentMethod::BankTransfer,
        Some("4") => PaymentMethod::Cod,
        Some("5") => PaymentMethod::ConvenienceStore,
        // 2 carrier billing, 6 e-money, 7 other, absent or unknown.
        _ => PaymentMethod::Other,
    }
}

/// Unified delivery method from the store's method name; a pick-up shop code always means pick-up.
pub fn delivery_method(method_name: Option<&str>, has_receive_shop: bool) -> DeliveryMethod {
    if has_receive_shop {
        return DeliveryMethod::Pickup;
    }
    let Some(name) = method_name else { return DeliveryMethod::Other };
    crate::labels::delivery_from_label(name).unwrap_or(DeliveryMethod::Other)
}

/// `ShipCompanyCode` ↔ carrier. Codes read from `orderInfo` map to a carrier; the first code of each
/// carrier is the one written back with `orderShipStatusChange`.
const CARRIERS: &[(&str, Carrier)] = &[
    ("1001", Carrier::Yamato),
    ("1002", Carrier::Sagawa),
    ("1003", Carrier::Japanpost),
    ("1000", Carrier::Other),
    // 西濃運輸.
    ("1004", Carrier::Other),
    // JPロジスティクス (official change log 2025-08).
    ("1028", Carrier::Other),
    // MagicalMove (official change log 2025-08).
    ("1029", Carrier::Other),
    // ASKUL LOGIST (official change log 2025-08).
    ("5000", Carrier::Other),
];

/// Carrier of a `ShipCompanyCode`; unknown codes are `Other`.
// unverified: codes 1005–1027 exist but their carriers are not confirmed, so they stay `Other`.
pub fn carrier(code: Option<&str>) -> Carrier {
    code.and_then(|c| CARRIERS.iter().find(|(k, _)| *k == c)).map_or(Carrier::Other, |(_, carrier)| *carrier)
}

/// `ShipCompanyCode` to send for a carrier (tracking write-back).
pub fn carrier_code(carrier: Carrier) -> &'static str {
    CARRIERS.iter().find(|(_, c)| *c == carrier).map_or("1000", |(k, _)| k)
}

/// Fixed `ShipRequestTime` texts → readable slot. The API gives the slot as text, not a code.
// unverified: the exact texts Yahoo sends for time slots; other texts go through `time_slot`'s
// hour parsing or are kept verbatim.
const TIME_SLOTS: &[(&str, &str)] =
    &[("午前中", "午前中"), ("午前", "午前中"), ("AM", "午前中"), ("指定なし", ""), ("なし", "")];

/// A readable time slot (`14-16`, `午前中`) from `ShipRequestTime`; `None` when no slot is asked for.
/// Texts naming two hours (`14:00-16:00`, `14時～16時`, `１４-１６`) become `14-16`; anything else is
/// kept verbatim (trimmed).
pub fn time_slot(text: &str) -> Option<String> {
    let t = text.trim();
    if t.is_empty() {
        return None;
    }
    if let Some((_, slot)) = TIME_SLOTS.iter().find(|(k, _)| *k == t) {
        return (!slot.is_empty()).then(|| (*slot).to_string());
    }
    let hours = hour_numbers(t);
    if let [from, to] = hours.as_slice() {
        if from < to && *to <= 24 {
            return Some(format!("{from}-{to}"));
        }
    }
    Some(t.to_string())
}

/// Hours named in a slot text: runs of digits (ASCII or full-width), skipping minutes after `:`.
fn hour_numbers(t: &str) -> Vec<u32> {
    let mut out = Vec::new();
    let mut current: Option<u32> = None;
    let mut after_colon = false;
    for c in t.chars() {
        let digit = match c {
            '0'..='9' => c.to_digit(10),
            '０'..='９' => Some(u32::from(c) - u32::from('０')),
            _ => None,
        };
        match digit {
            Some(d) => {
                // Saturate: a long digit run is not an hour and fails the range check anyway.
                current = Some(current.unwrap_or(0).saturating_mul(10).saturating_add(d));
            }
            None => {
                if let Some(n) = current.take() {
                    if !after_colon {
                        out.push(n);
                    }
                }
                after_colon = matches!(c, ':' | '：');
            }
        }
    }
    if let Some(n) = current {
        if !after_colon {
            out.push(n);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_slots_are_readable() {
        assert_eq!(time_slot("14:00-16:00").as_deref(), Some("14-16"));
        assert_eq!(time_slot("14時～16時").as_deref(), Some("14-16"));
        assert_eq!(time_slot("１９：００～２１：００").as_deref(), Some("19-21"));
        assert_eq!(time_slot("午前中").as_deref(), Some("午前中"));
        assert_eq!(time_slot("指定なし"), None);
        assert_eq!(time_slot(" "), None);
        assert_eq!(time_slot("夕方").as_deref(), Some("夕方"));
        assert_eq!(time_slot("99999999999999999999-1").as_deref(), Some("99999999999999999999-1"));
    }

    #[test]
    fn carriers_round_trip() {
        for c in [Carrier::Yamato, Carrier::Sagawa, Carrier::Japanpost, Carrier::Other] {
            assert_eq!(carrier(Some(carrier_code(c))), c);
        }
        assert_eq!(carrier(Some("1015")), Carrier::Other);
        assert_eq!(carrier(None), Carrier::Other);
    }
}
