//! Qoo10 code tables: shipping / claim status (labels), payment method, shipping way, carrier, time slot.
//!
//! Every entry the fact sheet does not confirm carries an `// unverified:` comment.

use ichigen_core::{Carrier, DeliveryMethod, Order, OrderStatus, PaymentMethod};

/// Reads the numeric code of a status value. QAPI returns an English label with the code in
/// parentheses (`Seller confirm(3)`, `Delivered(5)`; fact sheet §7, live v2 data); the label words
/// vary between clients (`Awaiting shipping(1)` / `On Waiting(1)`, `On delivery(4)` / `Delivery(4)`,
/// `Delivered(5)` / `Delivere(5)`), so only the number counts. A bare number (`3`) is accepted
/// too, as older clients and the claim codes show it.
pub fn status_code(s: &str) -> Option<u32> {
    let s = s.trim();
    if let Ok(n) = s.parse::<u32>() {
        return Some(n);
    }
    let inner = s.strip_suffix(')')?;
    let open = inner.rfind('(')?;
    inner.get(open + 1..)?.trim().parse().ok()
}

/// The labels QAPI returns for shipping statuses 1–5 (fact sheet §7, live data); the sandbox sends
/// these. Parsing goes by the number ([`status_code`]), never by these words.
pub const SHIPPING_LABELS: [(u32, &str); 5] = [
    (1, "Awaiting shipping(1)"),
    (2, "On request(2)"),
    (3, "Seller confirm(3)"),
    (4, "On delivery(4)"),
    (5, "Delivered(5)"),
];

/// `On request(2)` 配送要請: paid, waiting for the seller's check (`SetSellerCheckYN_V2` moves it
/// to `Seller confirm(3)` 配送準備).
pub const AWAITING_SELLER_CHECK: u32 = 2;

/// Whether a pack as mapped (its `source_status` is its least advanced line's status label)
/// waits for the seller's check.
pub fn awaits_seller_check(order: &Order) -> bool {
    status_code(&order.source_status) == Some(AWAITING_SELLER_CHECK)
}

/// `shippingStatus` code → unified status (fact sheet §7).
pub fn shipping_status(code: u32) -> Option<OrderStatus> {
    Some(match code {
        // `Awaiting shipping(1)`: in live data every such order was an unpaid convenience-store /
        // prepaid order; it moves to 3 once paid. Not to be shipped.
        1 => OrderStatus::AwaitingPayment,
        // `On request(2)`: shipping requested (paid), the seller must dispatch.
        2 => OrderStatus::ReadyToShip,
        // `Seller confirm(3)`: seller confirmed, ready to ship.
        3 => OrderStatus::ReadyToShip,
        // `On delivery(4)`: tracking registered.
        4 => OrderStatus::Shipped,
        // `Delivered(5)`.
        5 => OrderStatus::Shipped,
        _ => return None,
    })
}

/// `claimStatus` code (`GetClaimInfo_V3`, `GetShippingAndClaimInfoByOrderNo_V2`) → the unified
/// status it forces on the line, or `None` when the shipping status stands.
pub fn claim_status(code: u32) -> Option<OrderStatus> {
    match code {
        // Cancel requested / cancelling: not to be shipped until the claim is settled.
        1 | 2 => Some(OrderStatus::OnHold),
        // Cancel completed; return completed (the sale is undone).
        3 | 6 => Some(OrderStatus::Cancelled),
        // unverified: the label of 16 (unpaid order cancelled) comes from the transcribed spec
        // only; the sheet treats the labels of 11–16 as unverified.
        16 => Some(OrderStatus::Cancelled),
        // Return requested / returning (4, 5), exchanges (11–13), non-receipt claims (14, 15):
        // the goods went out; the shipping status stands.
        _ => None,
    }
}

/// `PaymentMethod` label fragments → unified method, first match wins (the sheet gives only
/// `クレジットカード` as an example value).
pub const PAYMENT_METHODS: &[(&str, PaymentMethod)] = &[
    ("クレジット", PaymentMethod::CreditCard),
    // unverified: English labels.
    ("credit", PaymentMethod::CreditCard),
    // unverified: COD labels.
    ("代金引換", PaymentMethod::Cod),
    // unverified
    ("代引", PaymentMethod::Cod),
    // unverified
    ("cash on delivery", PaymentMethod::Cod),
    // unverified
    ("銀行振込", PaymentMethod::BankTransfer),
    // unverified
    ("bank", PaymentMethod::BankTransfer),
    // unverified
    ("コンビニ", PaymentMethod::ConvenienceStore),
    // unverified
    ("convenience", PaymentMethod::ConvenienceStore),
    // unverified
    ("後払い", PaymentMethod::Deferred),
    // unverified
    ("atone", PaymentMethod::Deferred),
    // unverified
    ("paidy", PaymentMethod::Deferred),
    // unverified: wallets and carrier billing counted as "marketplace pay".
    ("paypay", PaymentMethod::MarketplacePay),
    // unverified
    ("qoo10", PaymentMethod::MarketplacePay),
    // unverified
    ("キャリア決済", PaymentMethod::MarketplacePay),
];

/// `PaymentMethod` label → unified method (case-insensitive substring match; `Other` otherwise).
pub fn payment_method(label: &str) -> PaymentMethod {
    let lower = label.to_lowercase();
    PAYMENT_METHODS.iter().find(|(k, _)| lower.contains(k)).map_or(PaymentMethod::Other, |&(_, m)| m)
}

/// `ShippingWay` → unified method. Empty means Qoo10 gave no method: ordinary parcel (`Standard`);
/// a `VoucherCode` (store pick-up verification code) means pick-up; unknown text is `Other`.
pub fn delivery_method(way: &str, has_voucher: bool) -> DeliveryMethod {
    if let Some(m) = crate::labels::delivery_from_label(way) {
        return m;
    }
    if has_voucher {
        // unverified: VoucherCode is only set for store pick-up orders.
        DeliveryMethod::Pickup
    } else if way.trim().is_empty() {
        DeliveryMethod::Standard
    } else {
        DeliveryMethod::Other
    }
}

/// `DeliveryCompany` fragments → carrier, first match wins.
// unverified: exact spellings Qoo10 stores; `Sagawa` is accepted by one production client.
pub const CARRIERS: &[(&str, Carrier)] = &[
    ("ヤマト", Carrier::Yamato),
    ("クロネコ", Carrier::Yamato),
    ("yamato", Carrier::Yamato),
    ("佐川", Carrier::Sagawa),
    ("sagawa", Carrier::Sagawa),
    ("日本郵便", Carrier::Japanpost),
    ("ゆうパック", Carrier::Japanpost),
    ("ゆうパケット", Carrier::Japanpost),
    ("郵便", Carrier::Japanpost),
    ("japan post", Carrier::Japanpost),
];

/// `DeliveryCompany` → carrier (`Other` when unknown).
pub fn carrier(name: &str) -> Carrier {
    let lower = name.to_lowercase();
    CARRIERS.iter().find(|(k, _)| lower.contains(k)).map_or(Carrier::Other, |&(_, c)| c)
}

/// Carrier → the `ShippingCorp` name sent to `SetSendingInfo` (`None` for `Other`: the caller must
/// supply the name).
pub fn shipping_corp(carrier: Carrier) -> Option<&'static str> {
    match carrier {
        // unverified: exact accepted spelling.
        Carrier::Yamato => Some("ヤマト運輸"),
        // unverified: exact accepted spelling (`Sagawa` also reported to work).
        Carrier::Sagawa => Some("佐川急便"),
        // unverified: the spec example uses `ゆうパック`; `日本郵便` is the company name.
        Carrier::Japanpost => Some("日本郵便"),
        Carrier::Other => None,
    }
}

/// Time-slot spellings → the readable slot. Qoo10 has no time-slot field in the sheet; this reads
/// text that follows the date in `hopeDate`.
// unverified: whether hopeDate ever carries a time slot, and in which spelling.
pub const TIME_SLOTS: &[(&str, &str)] = &[
    ("午前中", "午前中"),
    ("午前", "午前中"),
    ("am", "午前中"),
    ("08-12", "午前中"),
    ("0812", "午前中"),
    ("12-14", "12-14"),
    ("1214", "12-14"),
    ("14-16", "14-16"),
    ("1416", "14-16"),
    ("16-18", "16-18"),
    ("1618", "16-18"),
    ("18-20", "18-20"),
    ("1820", "18-20"),
    ("18-21", "18-21"),
    ("1821", "18-21"),
    ("19-21", "19-21"),
    ("1921", "19-21"),
    ("20-21", "20-21"),
    ("2021", "20-21"),
];

/// A time-slot spelling (`14:00-16:00`, `14時～16時`, `1416`, `午前中`) → readable slot, or `None`.
pub fn time_slot(text: &str) -> Option<&'static str> {
    let key: String = text
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            '～' | '〜' | '~' | '－' | '‐' | '−' => Some('-'),
            ':' | '時' | ' ' | '　' => None,
            _ => Some(c),
        })
        .collect();
    let key = key.replace("00-", "-").trim_end_matches("00").to_owned();
    let key = if key.contains('-') { key } else { key.replace("00", "") };
    TIME_SLOTS.iter().find(|(k, _)| *k == key).map(|&(_, v)| v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_codes_and_labels() {
        assert_eq!(status_code("2"), Some(2));
        assert_eq!(status_code("Seller confirm(3)"), Some(3));
        for (code, label) in SHIPPING_LABELS {
            assert_eq!(status_code(label), Some(code));
        }
        for (label, code) in [("On Waiting(1)", 1), ("Delivery(4)", 4), ("Delivere(5)", 5)] {
            assert_eq!(status_code(label), Some(code));
        }
        assert_eq!(shipping_status(1), Some(OrderStatus::AwaitingPayment));
        assert_eq!(status_code("On delivery ( 4 )"), Some(4));
        assert_eq!(status_code("配送中"), None);
        assert_eq!(status_code("(99999999999)"), None);
        assert_eq!(shipping_status(4), Some(OrderStatus::Shipped));
        assert_eq!(shipping_status(9), None);
        assert_eq!(claim_status(3), Some(OrderStatus::Cancelled));
        assert_eq!(claim_status(6), Some(OrderStatus::Cancelled));
        assert_eq!(claim_status(1), Some(OrderStatus::OnHold));
        assert_eq!(claim_status(5), None);
    }

    #[test]
    fn labels() {
        assert_eq!(payment_method("クレジットカード"), PaymentMethod::CreditCard);
        assert_eq!(payment_method("代金引換"), PaymentMethod::Cod);
        assert_eq!(payment_method("Mystery"), PaymentMethod::Other);
        assert_eq!(delivery_method("", false), DeliveryMethod::Standard);
        assert_eq!(delivery_method("", true), DeliveryMethod::Pickup);
        assert_eq!(delivery_method("ネコポス", false), DeliveryMethod::MailBin);
        assert_eq!(delivery_method("クール便(冷凍)", false), DeliveryMethod::Frozen);
        assert_eq!(delivery_method("馬", false), DeliveryMethod::Other);
        for c in [Carrier::Yamato, Carrier::Sagawa, Carrier::Japanpost] {
            assert_eq!(carrier(shipping_corp(c).unwrap()), c);
        }
        assert_eq!(carrier("Sagawa"), Carrier::Sagawa);
        assert_eq!(shipping_corp(Carrier::Other), None);
    }

    #[test]
    fn time_slots() {
        assert_eq!(time_slot("14:00-16:00"), Some("14-16"));
        assert_eq!(time_slot("14時～16時"), Some("14-16"));
        assert_eq!(time_slot("1416"), Some("14-16"));
        assert_eq!(time_slot("午前中"), Some("午前中"));
        assert_eq!(time_slot("いつでも"), None);
    }
}
