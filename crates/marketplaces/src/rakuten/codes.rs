//! Rakuten code tables: one function or constant per code family, so each fact is easy to change.

use ichigen_core::{Carrier, DeliveryMethod, Order, OrderStatus, PaymentMethod};

/// `orderProgress` 100 注文確認待ち: the order waits for the shop's 注文確認 (`confirmOrder`).
pub const AWAITING_CONFIRMATION: i64 = 100;

/// `messageCode` of a confirmOrder message saying the order was confirmed (fact sheet §8.4).
pub const CONFIRM_ORDER_OK: &str = "ORDER_EXT_API_CONFIRM_ORDER_INFO_101";

/// Whether an order as mapped (its `source_status` is the `orderProgress`) waits for 注文確認:
/// confirmOrder is only meaningful at 100 (fact sheet §8.4).
pub fn awaits_confirmation(order: &Order) -> bool {
    order.source_status.trim().parse::<i64>() == Ok(AWAITING_CONFIRMATION)
}

/// Unified status of an `orderProgress` code; unknown codes are held for a person.
pub fn order_status(order_progress: i64) -> OrderStatus {
    match order_progress {
        // 注文確認待ち: new, waiting for confirmOrder.
        100 => OrderStatus::New,
        // 楽天処理中: Rakuten is authorising / waiting for payment; not shippable yet.
        200 => OrderStatus::AwaitingPayment,
        // 発送待ち.
        300 => OrderStatus::ReadyToShip,
        // 変更確定待ち: a change awaits confirmation; a person must look before shipping.
        400 => OrderStatus::OnHold,
        // 発送済, 支払手続き中, 支払手続き済.
        500 | 600 | 700 => OrderStatus::Shipped,
        // キャンセル確定待ち: the cancellation is requested and only awaits Rakuten; never ship it.
        800 => OrderStatus::Cancelled,
        // キャンセル確定.
        900 => OrderStatus::Cancelled,
        _ => OrderStatus::OnHold,
    }
}

/// Unified payment method of a `settlementMethodCode`.
pub fn payment_method_by_code(code: i64) -> PaymentMethod {
    match code {
        1 => PaymentMethod::CreditCard,
        2 => PaymentMethod::Cod,
        // 後払い (store-selected), 後払い決済 (Rakuten common deferred payment).
        3 | 21 => PaymentMethod::Deferred,
        // ショッピングクレジット／ローン, オートローン, リース, 請求書払い.
        4..=7 => PaymentMethod::Other,
        // ポイント: paid entirely with Rakuten points, the marketplace's own currency.
        8 => PaymentMethod::MarketplacePay,
        9 => PaymentMethod::BankTransfer,
        // Apple Pay charges a card.
        12 => PaymentMethod::CreditCard,
        // セブンイレブン（前払）, ローソン・郵便局ATM等（前払）.
        13 | 14 => PaymentMethod::ConvenienceStore,
        // Alipay, PayPal, Alipay（支付宝）.
        16 | 17 | 27 => PaymentMethod::Other,
        _ => PaymentMethod::Other,
    }
}

/// Unified payment method of a `settlementMethod` name, for old shapes without the code.
pub fn payment_method_by_name(name: &str) -> PaymentMethod {
    const TABLE: [(&str, PaymentMethod); 8] = [
        ("代金引換", PaymentMethod::Cod),
        ("クレジットカード", PaymentMethod::CreditCard),
        ("Apple Pay", PaymentMethod::CreditCard),
        ("銀行振込", PaymentMethod::BankTransfer),
        ("後払い", PaymentMethod::Deferred),
        ("前払", PaymentMethod::ConvenienceStore),
        ("コンビニ", PaymentMethod::ConvenienceStore),
        ("ポイント", PaymentMethod::MarketplacePay),
    ];
    TABLE.iter().find(|(key, _)| name.contains(key)).map_or(PaymentMethod::Other, |(_, m)| *m)
}

/// Unified delivery method from `deliveryClass`, the `deliveryName` and whether a pickup store is set.
pub fn delivery_method(delivery_class: Option<i64>, delivery_name: &str, pickup_store: bool) -> DeliveryMethod {
    match delivery_class {
        Some(2) => return DeliveryMethod::Cool,
        Some(3) => return DeliveryMethod::Frozen,
        _ => {}
    }
    if pickup_store {
        return DeliveryMethod::Pickup;
    }
    // The name is free text configured per store.
    crate::labels::delivery_from_label(delivery_name).unwrap_or(DeliveryMethod::Other)
}

/// Readable time slot of a `shippingTerm` code: `None` for 0 (no slot), `14-16` for `1416`.
/// Codes outside the documented set come back as `code <n>` so a person still sees the request.
pub fn time_slot(shipping_term: i64) -> Option<String> {
    match shipping_term {
        0 => None,
        1 => Some("午前中".to_owned()),
        2 => Some("午後".to_owned()),
        9 => Some("その他".to_owned()),
        100..=2424 => {
            let (from, to) = (shipping_term / 100, shipping_term % 100);
            if (7..=24).contains(&from) && (7..=24).contains(&to) && from < to {
                Some(format!("{from}-{to}"))
            } else {
                Some(format!("code {shipping_term}"))
            }
        }
        _ => Some(format!("code {shipping_term}")),
    }
}

/// Carrier of a `deliveryCompany` / `defaultDeliveryCompanyCode` string code.
pub fn carrier(code: &str) -> Carrier {
    match code.trim() {
        "1001" => Carrier::Yamato,
        // ヤマト運輸 クロネコゆうパケット (added 2025-06): collected by Yamato, tracked on Yamato's site.
        "1030" => Carrier::Yamato,
        "1002" => Carrier::Sagawa,
        "1003" => Carrier::Japanpost,
        // 日本郵便 楽天倉庫出荷 (added 2024-11).
        "1029" => Carrier::Japanpost,
        _ => Carrier::Other,
    }
}

/// The `deliveryCompany` code to send in updateOrderShipping for a carrier.
pub fn carrier_code(carrier: Carrier) -> &'static str {
    match carrier {
        Carrier::Yamato => "1001",
        Carrier::Sagawa => "1002",
        Carrier::Japanpost => "1003",
        // その他.
        Carrier::Other => "1000",
    }
}

/// Whether an amount means "not fixed yet": the spec says `-9999`.
pub fn is_unknown_amount(yen: i64) -> bool {
    // unverified: one tool vendor writes the sentinel `-99999`; so any negative amount counts as unknown.
    yen < 0
}

/// The text Rakuten puts in social-gift destinations whose recipient has not entered the address yet.
pub const SOCIAL_GIFT_PLACEHOLDER: &str = "入力待ち";

/// `messageType` of a message that fails the body (→ `NormalizeError::Api`); `INFO` and `WARNING` do not.
// unverified: what `ORDER_EXT_API_GET_ORDER_WARNING_101` means; we treat WARNING like INFO (the orders
// in the body are still mapped). Change here if it turns out to mean an order was left out.
pub const ERROR_MESSAGE_TYPE: &str = "ERROR";

/// Gateway error code for a wrong secret/key, expired licenseKey or disabled function.
pub const GATEWAY_UNAUTHORISED: &str = "ES01-01";
// unverified: `ES04-01` (order functions not enabled) and `ES04-03` (bad Content-Type) come from one
// client each; we pass any gateway code through verbatim, so nothing here depends on them.

/// Operation of a `messageCode` (`ORDER_EXT_API_<FUNCTION>_<TYPE>_<NNN>`), for messages.
pub fn operation_of_code(code: &str) -> Option<&'static str> {
    // Longest prefix first: UPDATE_ORDERSHIPPING_ASYNC before UPDATE_ORDERSHIPPING.
    const TABLE: [(&str, &str); 9] = [
        ("ORDER_EXT_API_SEARCH_ORDER_", "searchOrder"),
        ("ORDER_EXT_API_GET_ORDER_", "getOrder"),
        ("ORDER_EXT_API_CONFIRM_ORDER_", "confirmOrder"),
        ("ORDER_EXT_API_UPDATE_ORDERSHIPPING_ASYNC_", "updateOrderShippingAsync"),
        ("ORDER_EXT_API_UPDATE_ORDERSHIPPING_", "updateOrderShipping"),
        ("ORDER_EXT_API_CANCEL_ORDER_", "cancelOrder"),
        ("ORDER_EXT_API_UPDATE_ORDERDELIVERY_", "updateOrderDelivery"),
        ("ORDER_EXT_API_UPDATE_ORDERMEMO_", "updateOrderMemo"),
        ("ORDER_EXT_API_UPDATE_ORDERREMARKS_", "updateOrderRemarks"),
    ];
    TABLE.iter().find(|(prefix, _)| code.starts_with(prefix)).map(|(_, op)| *op)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_slots_read_as_hours() {
        assert_eq!(time_slot(1416).as_deref(), Some("14-16"));
        assert_eq!(time_slot(708).as_deref(), Some("7-8"));
        assert_eq!(time_slot(1).as_deref(), Some("午前中"));
        assert_eq!(time_slot(0), None);
        assert_eq!(time_slot(1614).as_deref(), Some("code 1614"));
        assert_eq!(time_slot(-5).as_deref(), Some("code -5"));
    }

    #[test]
    fn carrier_codes_round_trip() {
        for c in [Carrier::Yamato, Carrier::Sagawa, Carrier::Japanpost, Carrier::Other] {
            assert_eq!(carrier(carrier_code(c)), c);
        }
    }

    #[test]
    fn operation_prefixes() {
        assert_eq!(
            operation_of_code("ORDER_EXT_API_UPDATE_ORDERSHIPPING_ASYNC_INFO_101"),
            Some("updateOrderShippingAsync")
        );
        assert_eq!(operation_of_code("ORDER_EXT_API_UPDATE_ORDERSHIPPING_INFO_101"), Some("updateOrderShipping"));
        assert_eq!(operation_of_code("X"), None);
    }
}
