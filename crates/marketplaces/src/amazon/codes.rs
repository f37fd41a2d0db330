//! Code tables of SP-API Orders v2026-01-01 (and v0 confirmShipment) for Amazon.co.jp. Facts the
//! fact sheet marks unverified are single entries with an `// unverified:` comment.

use ichigen_core::{Carrier, DeliveryMethod, OrderStatus, PaymentMethod};

/// Amazon.co.jp marketplace id.
pub const MARKETPLACE_ID_JP: &str = "A1VC38T7YXB528";

/// Currency every Amazon.co.jp amount must be in.
pub const CURRENCY: &str = "JPY";

/// Country used for an order whose address the API has not given (no `RECIPIENT` data, or an app
/// without the Direct-to-Consumer Delivery role): ichigen pulls Amazon.co.jp only.
pub const COUNTRY_WITHOUT_ADDRESS: &str = "JP";

/// Whether JP `unitPrice` and the proceeds breakdowns already include consumption tax (then a
/// `TAX` breakdown is the included share and is not added again).
// unverified: the published JP example has grandTotal 19940 = 5980 + 2 × 6980 with no tax on top;
// confirming it on live v2026 data is still open (fact sheet §7.5).
pub const PRICES_INCLUDE_TAX: bool = true;

/// `fulfillment.fulfilledBy` of orders Amazon ships itself (FBA).
pub const FULFILLED_BY_AMAZON: &str = "AMAZON";

/// `fulfillment.fulfilledBy` of orders the shop ships (FBM).
pub const FULFILLED_BY_MERCHANT: &str = "MERCHANT";

/// The `includedData` sets the client asks for on every search and read: the status
/// (`FULFILLMENT`), address and instructions, buyer, money, payment method, cancellations and the
/// packages already confirmed. `EXPENSE`, `PROMOTION`, `TAX` and `FULFILLMENT_ORDERS` carry nothing
/// the canonical order holds.
pub const INCLUDED_DATA: [&str; 7] =
    ["BUYER", "RECIPIENT", "PROCEEDS", "PAYMENT", "CANCELLATION", "FULFILLMENT", "PACKAGES"];

/// Every `FulfillmentStatus` of the model.
pub const FULFILLMENT_STATUSES: [&str; 7] =
    ["PENDING_AVAILABILITY", "PENDING", "UNSHIPPED", "PARTIALLY_SHIPPED", "SHIPPED", "CANCELLED", "UNFULFILLABLE"];

/// `fulfillment.fulfillmentStatus` → unified status. Unknown codes give `None` (the caller holds
/// the order).
pub fn status(code: &str) -> Option<OrderStatus> {
    Some(match code {
        // Pre-order: not paid, release date in the future.
        "PENDING_AVAILABILITY" => OrderStatus::AwaitingPayment,
        // Placed, not ready for shipment (payment not yet authorised): do not ship.
        "PENDING" => OrderStatus::AwaitingPayment,
        "UNSHIPPED" => OrderStatus::ReadyToShip,
        // Some items shipped, the rest still to ship.
        "PARTIALLY_SHIPPED" => OrderStatus::ReadyToShip,
        "SHIPPED" => OrderStatus::Shipped,
        // Double L in v2026 (v0 had `Canceled`).
        "CANCELLED" => OrderStatus::Cancelled,
        // Amazon-fulfilled non-Amazon-site orders only; a person decides.
        "UNFULFILLABLE" => OrderStatus::OnHold,
        _ => return None,
    })
}

/// `payment.paymentExecutions[].paymentMethod` → unified method; `None` for values that say
/// nothing ichigen distinguishes.
pub fn payment(method: &str) -> Option<PaymentMethod> {
    Some(match method {
        "CashOnDelivery" => PaymentMethod::Cod,
        "ConvenienceStore" => PaymentMethod::ConvenienceStore,
        "CreditCard" => PaymentMethod::CreditCard,
        // unverified: "Invoice" is read as pay-later (請求書払い, Amazon Business).
        "Invoice" => PaymentMethod::Deferred,
        // unverified: the model lists examples only; gift cards and points are Amazon's own money.
        "GiftCard" | "PointsAccount" => PaymentMethod::MarketplacePay,
        _ => return None,
    })
}

/// Delivery method from `fulfillmentServiceLevel`, the order's `programs` and the address type.
pub fn delivery_method(level: Option<&str>, programs: &[String], address_type: Option<&str>) -> DeliveryMethod {
    if programs.iter().any(|p| p == "IN_STORE_PICK_UP") || address_type == Some("PICKUP_POINT") {
        return DeliveryMethod::Pickup;
    }
    match level {
        // All service levels are parcel delivery; they differ in speed only.
        Some(
            "STANDARD" | "EXPEDITED" | "FREE_ECONOMY" | "NEXT_DAY" | "PRIORITY" | "SAME_DAY" | "SECOND_DAY"
            | "SCHEDULED",
        ) => DeliveryMethod::Standard,
        _ => DeliveryMethod::Other,
    }
}

/// The `carrierCode` for carriers without a confirmed JP code: Amazon's documented route for an
/// unlisted carrier is `Other` plus `carrierName`.
pub const OTHER_CARRIER: &str = "Other";

/// ichigen carriers ↔ the `carrierName` sent with `carrierCode=Other`, and the spellings a
/// package's `carrier` may come back in.
// unverified: Amazon's accepted JP carrier codes sit behind Seller Central. Until they are
// confirmed, every carrier is sent as `carrierCode=Other` + its Japanese name (the fact sheet's
// safe form); the codes below are only recognised when read back (SG template, MWS feed enum).
const CARRIERS: [(Carrier, &str, &[&str]); 3] = [
    (Carrier::Yamato, "ヤマト運輸", &["YamatoTransport", "YAMATO", "Yamato Transport"]),
    (Carrier::Sagawa, "佐川急便", &["SagawaExpress", "SAGAWA", "Sagawa Express"]),
    (Carrier::Japanpost, "日本郵便", &["JapanPost", "Japan Post", "JP_POST"]),
];

/// (`carrierCode`, `carrierName`) for confirmShipment.
pub fn carrier_fields(carrier: Carrier) -> (&'static str, &'static str) {
    let name = CARRIERS.iter().find(|(c, _, _)| *c == carrier).map_or("その他", |(_, name, _)| name);
    (OTHER_CARRIER, name)
}

/// Carrier from a package's `carrier` text (a code or a name).
pub fn carrier(text: &str) -> Carrier {
    let t = text.trim();
    CARRIERS
        .iter()
        .find(|(_, name, codes)| *name == t || codes.iter().any(|c| c.eq_ignore_ascii_case(t)))
        .map_or(Carrier::Other, |(carrier, _, _)| *carrier)
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
    fn carriers_go_out_as_other_with_their_name_and_come_back() {
        for c in [Carrier::Yamato, Carrier::Sagawa, Carrier::Japanpost] {
            let (code, name) = carrier_fields(c);
            assert_eq!(code, "Other");
            assert_eq!(carrier(name), c);
        }
        assert_eq!(carrier("YamatoTransport"), Carrier::Yamato);
        assert_eq!(carrier("SAGAWA"), Carrier::Sagawa);
        assert_eq!(carrier_fields(Carrier::Other), ("Other", "その他"));
        assert_eq!(carrier("FedEx"), Carrier::Other);
    }

    #[test]
    fn every_model_status_is_mapped() {
        for s in FULFILLMENT_STATUSES {
            assert!(status(s).is_some(), "{s}");
        }
        assert_eq!(status("CANCELLED"), Some(OrderStatus::Cancelled));
        assert_eq!(status("Canceled"), None, "the v0 spelling is no v2026 status");
        assert_eq!(status("PENDING"), Some(OrderStatus::AwaitingPayment));
        assert_eq!(status("PARTIALLY_SHIPPED"), Some(OrderStatus::ReadyToShip));
    }

    #[test]
    fn slots() {
        let t = |h, m| chrono::NaiveTime::from_hms_opt(h, m, 0).unwrap();
        assert_eq!(time_slot(t(14, 0), t(16, 0)), "14-16");
        assert_eq!(time_slot(t(8, 30), t(12, 0)), "08:30-12:00");
    }
}
