//! Code tables of SP-API Orders v0 for Amazon.co.jp. Facts the fact sheet marks unverified are
//! single entries with an `// unverified:` comment.

use ichigen_core::{Carrier, DeliveryMethod, OrderStatus, PaymentMethod};

/// Amazon.co.jp marketplace id.
pub const MARKETPLACE_ID_JP: &str = "A1VC38T7YXB528";

/// Currency every Amazon.co.jp amount must be in.
pub const CURRENCY: &str = "JPY";

/// Country used for an order whose address the API has not given (Pending orders, calls without a
/// Restricted Data Token): ichigen pulls Amazon.co.jp only.
pub const COUNTRY_WITHOUT_ADDRESS: &str = "JP";

/// Whether JP `ItemPrice`, `ShippingPrice`, `GiftWrapPrice`, `CODFee` and the discounts already
/// include consumption tax (then `*Tax` is the included share and is not added again).
// unverified: the sheet only says "ItemTax: tax on ItemPrice"; JP shop prices are tax-inclusive by
// law (総額表示), and the US sandbox total (10.00 + 1.01 = 11.01) shows tax is separate there.
pub const PRICES_INCLUDE_TAX: bool = true;

/// `FulfillmentChannel` of orders Amazon ships itself (FBA).
pub const FULFILLED_BY_AMAZON: &str = "AFN";

/// `OrderStatus` → unified status. Unknown codes give `None` (the caller holds the order).
pub fn status(code: &str) -> Option<OrderStatus> {
    Some(match code {
        // Pre-order, payment not yet authorised.
        "PendingAvailability" => OrderStatus::AwaitingPayment,
        // Placed, payment not yet authorised: do not ship.
        "Pending" => OrderStatus::AwaitingPayment,
        "Unshipped" => OrderStatus::ReadyToShip,
        // Some units shipped, the rest still to ship.
        "PartiallyShipped" => OrderStatus::ReadyToShip,
        "Shipped" => OrderStatus::Shipped,
        // All shipped; only the invoice confirmation is missing.
        "InvoiceUnconfirmed" => OrderStatus::Shipped,
        "Canceled" => OrderStatus::Cancelled,
        // Multi-Channel Fulfillment only; a person decides.
        "Unfulfillable" => OrderStatus::OnHold,
        _ => return None,
    })
}

/// `PaymentMethod` (+ the first known `PaymentMethodDetails` entry for `Other`) → unified method.
pub fn payment(method: &str, details: &[String]) -> PaymentMethod {
    match method {
        "COD" => PaymentMethod::Cod,
        "CVS" => PaymentMethod::ConvenienceStore,
        _ => details.iter().find_map(|d| payment_detail(d)).unwrap_or(PaymentMethod::Other),
    }
}

/// One `PaymentMethodDetails` value → unified method.
fn payment_detail(detail: &str) -> Option<PaymentMethod> {
    Some(match detail {
        "CreditCard" => PaymentMethod::CreditCard,
        "COD" => PaymentMethod::Cod,
        "CVS" => PaymentMethod::ConvenienceStore,
        // unverified: "Standard" is read as Amazon's default card / balance payment.
        "Standard" => PaymentMethod::MarketplacePay,
        "GiftCertificate" | "PointsAccount" => PaymentMethod::MarketplacePay,
        // unverified: "Invoice" is read as pay-later (請求書払い, Amazon Business).
        "Invoice" => PaymentMethod::Deferred,
        _ => return None,
    })
}

/// Delivery method from `ShipmentServiceLevelCategory` and the pick-up flags.
pub fn delivery_method(category: Option<&str>, pickup: bool) -> DeliveryMethod {
    if pickup {
        return DeliveryMethod::Pickup;
    }
    match category {
        // All service levels are parcel delivery; they differ in speed only.
        Some(
            "Standard" | "Expedited" | "FreeEconomy" | "NextDay" | "Priority" | "SameDay" | "SecondDay" | "Scheduled",
        ) => DeliveryMethod::Standard,
        _ => DeliveryMethod::Other,
    }
}

/// confirmShipment `carrierCode` values ↔ ichigen carriers.
// unverified: the JP carrier codes must be checked against Amazon's carrier-code list before go-live.
const CARRIERS: [(Carrier, &str); 3] = [
    (Carrier::Yamato, "Yamato Transport"), // unverified
    (Carrier::Sagawa, "Sagawa Express"),   // unverified
    (Carrier::Japanpost, "Japan Post"),    // unverified
];

/// `carrierCode` for confirmShipment; `Other` (then send `carrierName` too) when no code fits.
pub fn carrier_code(carrier: Carrier) -> &'static str {
    CARRIERS.iter().find(|(c, _)| *c == carrier).map_or("Other", |(_, code)| code)
}

/// Carrier from a `carrierCode`.
pub fn carrier(code: &str) -> Carrier {
    CARRIERS.iter().find(|(_, c)| *c == code).map_or(Carrier::Other, |(carrier, _)| *carrier)
}

/// Readable time slot from the JST hours of a scheduled delivery window: `14-16`, or
/// `14:30-16:00` when a bound is not on the hour. Amazon gives the window as two date-times, not as
/// a slot code.
pub fn time_slot(start: chrono::NaiveTime, end: chrono::NaiveTime) -> String {
    use chrono::Timelike;
    if start.minute() == 0 && end.minute() == 0 {
        format!("{}-{}", start.hour(), end.hour())
    } else {
        format!("{}-{}", start.format("%H:%M"), end.format("%H:%M"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn carrier_codes_round_trip() {
        for c in [Carrier::Yamato, Carrier::Sagawa, Carrier::Japanpost] {
            assert_eq!(carrier(carrier_code(c)), c);
        }
        assert_eq!(carrier_code(Carrier::Other), "Other");
        assert_eq!(carrier("FedEx"), Carrier::Other);
    }

    #[test]
    fn slots() {
        let t = |h, m| chrono::NaiveTime::from_hms_opt(h, m, 0).unwrap();
        assert_eq!(time_slot(t(14, 0), t(16, 0)), "14-16");
        assert_eq!(time_slot(t(8, 30), t(12, 0)), "08:30-12:00");
    }
}
