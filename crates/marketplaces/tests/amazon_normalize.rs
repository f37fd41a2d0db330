//! Amazon SP-API Orders v2026-01-01 normalisation: Amazon's published Amazon.co.jp example, our
//! fictional fixtures, the shared v0 examples (refused or errors), and hostile input.

#![allow(clippy::unwrap_used)]

use chrono::{DateTime, FixedOffset, NaiveDate};
use ichigen_core::{
    Address, Buyer, Carrier, Delivery, DeliveryMethod, Item, ItemOption, Marketplace, Order, OrderStatus,
    PaymentMethod, Totals, Tracking,
};
use ichigen_marketplaces::amazon::{self, Parsed};
use ichigen_marketplaces::{Body, NormalizeError};

const SHOP: &str = "shop-amazon-1";
const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/amazon");
const SHARED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/marketplaces/examples/amazon");

/// The published Amazon.co.jp searchOrders example (see fixtures/amazon/SOURCES.txt).
const JP_EXAMPLE: &str = "searchOrders_jp_published_example.json";

/// Our fixture bodies of one sync, in the order a puller would fetch them.
const SYNC: [&str; 4] = [
    "searchOrders_page1.json",
    "searchOrders_page2.json",
    "getOrder_1000001_shipped_two_packages.json",
    "getOrder_1000005_fba.json",
];

/// Personal data in our fixtures; no error text may contain any of it.
const PII: [&str; 7] =
    ["山田 花子", "神宮前1-2-3", "03-0000-0001", "佐藤 一郎", "梅田3-1-1", "0a1b2c3d4e5f@", "お誕生日"];

fn fixture(name: &str) -> Body {
    let path = format!("{FIXTURES}/{name}");
    Body { name: name.to_string(), text: std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}")) }
}

fn body(name: &str, text: &str) -> Body {
    Body { name: name.to_string(), text: text.to_string() }
}

fn shared(name: &str) -> Body {
    let path = std::path::Path::new(SHARED).join(name);
    assert!(path.exists(), "{} is missing (CI keeps shared/ beside the repo)", path.display());
    Body { name: name.to_string(), text: std::fs::read_to_string(&path).unwrap() }
}

fn find(orders: &[Order], id: &str) -> Order {
    orders.iter().find(|o| o.order_id == id).cloned().unwrap_or_else(|| panic!("order {id} missing"))
}

fn jst(s: &str) -> DateTime<FixedOffset> {
    let t = DateTime::parse_from_rfc3339(s).unwrap();
    assert_eq!(t.offset().local_minus_utc(), 9 * 3600, "expected value must be JST: {s}");
    t
}

fn malformed(r: Result<Vec<Order>, NormalizeError>) -> (String, String) {
    match r {
        Err(NormalizeError::Malformed { marketplace, operation, detail }) => {
            assert_eq!(marketplace, Marketplace::Amazon);
            (operation, detail)
        }
        other => panic!("expected Malformed, got {other:?}"),
    }
}

fn assert_no_pii(err: &NormalizeError, pii: &[&str]) {
    let text = format!("{err} {err:?}");
    for p in pii {
        assert!(!text.contains(p), "error text leaks personal data {p:?}: {text}");
    }
}

// ---------------------------------------------------------------------------------------------
// 1. Amazon's published Amazon.co.jp example

#[test]
fn the_published_jp_example_maps_id_items_totals_and_recipient() {
    let orders = amazon::normalize(SHOP, &[fixture(JP_EXAMPLE)]).unwrap();
    assert_eq!(orders.len(), 1);
    let o = &orders[0];
    assert_eq!(o.order_id, "250-1234567-8901234");
    assert_eq!(o.ordered_at, jst("2024-12-25T11:30:00+09:00"));
    assert_eq!(o.source_updated_at, jst("2024-12-25T15:45:00+09:00"));
    assert_eq!((o.status, o.source_status.as_str()), (OrderStatus::Shipped, "SHIPPED"));
    assert!(o.fulfilled_by_marketplace, "the example is fulfilled by Amazon");
    assert_eq!(
        o.items,
        vec![
            Item {
                sku: "ECHO-DOT-4-JP-CHARCOAL".into(),
                name: "Echo Dot (第4世代) スマートスピーカー with Alexa チャコール".into(),
                quantity: 1,
                unit_price: 5980,
                options: vec![],
            },
            Item {
                sku: "FIRE-TV-4K-MAX-JP".into(),
                name: "Fire TV Stick 4K Max ストリーミングデバイス".into(),
                quantity: 2,
                unit_price: 6980,
                options: vec![],
            },
        ]
    );
    // grandTotal 19940 = 5980 + 2 × 6980: unit prices, tax included, nothing on top.
    assert_eq!(
        o.totals,
        Totals { goods: 19_940, shipping: 0, fee: 0, discount: 0, coupon: 0, points: 0, total: 19_940 }
    );
    assert_eq!(o.ship_to.city, "Tokyo");
    assert_eq!(o.ship_to.postal_code, "1500002");
    assert_eq!(o.ship_to.country, "JP");
    assert_eq!(o.ship_to.prefecture, "", "the example has no stateOrRegion");
    assert_eq!(o.ship_to.address1, "123 Business Park");
    assert_eq!(o.ship_to.address2, "Suite 456");
    assert_eq!(o.ship_to.phone, None);
    assert_eq!(o.buyer.email.as_deref(), Some("buyer-email@marketplace.amazon.co.jp"));
    assert_eq!(o.delivery.method, DeliveryMethod::Standard);
    assert_eq!(o.delivery.source_method, "STANDARD");
    assert!(o.tracking.is_empty(), "FBA orders carry no packages");
    assert_eq!(o.validate(), Ok(()));
}

#[test]
fn the_published_example_parses_into_the_wire_types_with_its_next_token() {
    let Parsed::Search(page) = amazon::parse(&fixture(JP_EXAMPLE)).unwrap() else { panic!("a searchOrders page") };
    assert_eq!(page.created_before.as_deref(), Some("2024-12-25T03:00:00Z"));
    assert_eq!(page.pagination.and_then(|p| p.next_token).as_deref(), Some("2YgYW55IGNhcm5hbCBwbGVhc3VyZS4"));
    let lenient = amazon::parse_search_lenient(&fixture(JP_EXAMPLE)).unwrap();
    assert_eq!((lenient.orders.len(), lenient.bad.len()), (1, 0));
    assert_eq!(lenient.next_token.as_deref(), Some("2YgYW55IGNhcm5hbCBwbGVhc3VyZS4"));
}

// ---------------------------------------------------------------------------------------------
// 2. Our fixtures

fn sync() -> Vec<Order> {
    let bodies: Vec<Body> = SYNC.iter().map(|n| fixture(n)).collect();
    amazon::normalize(SHOP, &bodies).expect("the fixture sync maps")
}

#[test]
fn a_full_sync_gives_one_order_per_id_in_first_seen_order() {
    let ids: Vec<String> = sync().into_iter().map(|o| o.order_id).collect();
    assert_eq!(
        ids,
        [
            "503-1000001-0000001",
            "503-1000002-0000002",
            "503-1000003-0000003",
            "503-1000004-0000004",
            "503-1000005-0000005"
        ]
    );
}

#[test]
fn an_open_order_maps_items_money_gift_remarks_and_address() {
    let o = amazon::normalize(SHOP, &[fixture("searchOrders_page1.json")]).unwrap().remove(0);
    assert_eq!(o.order_id, "503-1000001-0000001");
    assert_eq!(o.status, OrderStatus::ReadyToShip);
    assert_eq!(o.source_status, "UNSHIPPED");
    assert_eq!(
        o.buyer,
        Buyer {
            name: "山田 花子".into(),
            name_kana: None,
            email: Some("0a1b2c3d4e5f@marketplace.amazon.co.jp".into()),
            phone: None
        }
    );
    assert_eq!(
        o.ship_to,
        Address {
            country: "JP".into(),
            postal_code: "1500001".into(),
            prefecture: "東京都".into(),
            city: "渋谷区".into(),
            address1: "神宮前1-2-3".into(),
            address2: "メゾン神宮前101".into(),
            name: "山田 花子".into(),
            phone: Some("03-0000-0001".into()),
        }
    );
    assert_eq!(o.items.len(), 2);
    assert_eq!((o.items[0].quantity, o.items[0].unit_price), (2, 3980));
    assert_eq!(o.items[0].options, vec![ItemOption { name: "giftWrapLevel".into(), value: "Classic".into() }]);
    // Discount written negative by the breakdown is an amount off.
    assert_eq!(
        o.totals,
        Totals { goods: 9_160, shipping: 600, fee: 0, discount: 300, coupon: 0, points: 0, total: 9_460 }
    );
    assert_eq!((o.payment_method, o.source_payment_method.as_str()), (PaymentMethod::CreditCard, "CreditCard"));
    assert!(o.gift);
    assert_eq!(o.remarks, "[配送指示] 不在時は宅配ボックスへお願いします\n[ギフトメッセージ] お誕生日おめでとう");
    assert!(!o.fulfilled_by_marketplace);
    assert!(o.tracking.is_empty());
}

#[test]
fn cod_order_maps_its_fee_and_full_width_postal_code() {
    let o = find(&sync(), "503-1000002-0000002");
    assert_eq!(o.payment_method, PaymentMethod::Cod);
    assert_eq!(o.source_payment_method, "CashOnDelivery");
    assert_eq!(
        o.totals,
        Totals { goods: 2_500, shipping: 0, fee: 330, discount: 0, coupon: 0, points: 0, total: 2_830 }
    );
    assert_eq!(o.ship_to.postal_code, "5300001");
    assert_eq!(o.delivery.source_method, "EXPEDITED");
    // Without PAYMENT data the line's cashOnDelivery constraint still says COD.
    let mut v: serde_json::Value = serde_json::from_str(&fixture("searchOrders_page1.json").text).unwrap();
    v["orders"][1].as_object_mut().unwrap().remove("payment");
    let o = amazon::normalize(SHOP, &[body("searchOrders.json", &v.to_string())]).unwrap().remove(1);
    assert_eq!(o.payment_method, PaymentMethod::Cod);
}

#[test]
fn cancelled_order_maps_with_its_lines_priced() {
    let o = find(&sync(), "503-1000003-0000003");
    assert_eq!((o.status, o.source_status.as_str()), (OrderStatus::Cancelled, "CANCELLED"));
    assert_eq!(o.totals, Totals { goods: 1_500, shipping: 0, fee: 0, discount: 0, coupon: 0, points: 0, total: 1_500 });
    assert_eq!(o.remarks, "", "an executed cancellation is no buyer request to look at");
}

#[test]
fn pending_order_without_buyer_or_recipient_maps_with_its_scheduled_slot() {
    let o = find(&sync(), "503-1000004-0000004");
    assert_eq!(o.status, OrderStatus::AwaitingPayment);
    assert_eq!(o.ship_to, Address { country: "JP".into(), ..Address::default() });
    assert_eq!(o.buyer, Buyer::default());
    assert_eq!(o.payment_method, PaymentMethod::Other);
    assert_eq!(
        o.delivery,
        Delivery {
            method: DeliveryMethod::Standard,
            source_method: "SCHEDULED".into(),
            requested_date: NaiveDate::from_ymd_opt(2026, 11, 5),
            requested_time_slot: Some("14-16".into()),
        }
    );
}

#[test]
fn a_shipped_order_reads_its_packages_as_tracking_and_the_newer_copy_wins() {
    let o = find(&sync(), "503-1000001-0000001");
    assert_eq!(o.status, OrderStatus::Shipped);
    assert_eq!(o.source_updated_at, jst("2026-11-02T12:00:00+09:00"));
    assert_eq!(
        o.tracking,
        vec![
            Tracking {
                carrier: Carrier::Yamato,
                number: "123456789012".into(),
                shipped_at: Some(jst("2026-11-02T10:30:00+09:00")),
                shipment_id: None,
            },
            Tracking {
                carrier: Carrier::Sagawa,
                number: "987654321098".into(),
                shipped_at: Some(jst("2026-11-02T11:30:00+09:00")),
                shipment_id: None,
            },
        ]
    );
    // Whatever the body order, the newer lastUpdatedTime wins.
    let mut bodies: Vec<Body> = SYNC.iter().map(|n| fixture(n)).collect();
    bodies.reverse();
    let o = find(&amazon::normalize(SHOP, &bodies).unwrap(), "503-1000001-0000001");
    assert_eq!(o.status, OrderStatus::Shipped);
    // A cancelled label is no parcel.
    let mut v: serde_json::Value = serde_json::from_str(&fixture(SYNC[2]).text).unwrap();
    v["order"]["packages"][1]["packageStatus"]["status"] = "CANCELLED".into();
    let o = amazon::normalize(SHOP, &[body("getOrder.json", &v.to_string())]).unwrap().remove(0);
    assert_eq!(o.tracking.len(), 1);
}

#[test]
fn fba_order_is_fulfilled_by_amazon() {
    let o = find(&sync(), "503-1000005-0000005");
    assert!(o.fulfilled_by_marketplace);
    assert_eq!(o.status, OrderStatus::Shipped);
    assert_eq!(o.totals.total, 4_400);
    assert_eq!(o.ship_to.name, "", "no name without the role");
    assert_eq!(o.ship_to.city, "札幌市中央区");
}

#[test]
fn a_buyer_cancel_request_holds_an_open_order_and_is_in_the_remarks() {
    let mut v: serde_json::Value = serde_json::from_str(&fixture("searchOrders_page1.json").text).unwrap();
    v["orders"][1]["orderItems"][0]["cancellation"] =
        serde_json::json!({ "cancellationRequest": { "requester": "BUYER", "cancelReason": "ORDERED_BY_MISTAKE" } });
    let o = amazon::normalize(SHOP, &[body("searchOrders.json", &v.to_string())]).unwrap().remove(1);
    assert_eq!(o.status, OrderStatus::OnHold);
    assert_eq!(o.source_status, "UNSHIPPED");
    assert_eq!(o.remarks, "[購入者キャンセル依頼] ORDERED_BY_MISTAKE");
}

#[test]
fn unknown_or_absent_status_is_held_and_kept_verbatim() {
    let mut v: serde_json::Value = serde_json::from_str(&fixture("searchOrders_page1.json").text).unwrap();
    v["orders"][0]["fulfillment"]["fulfillmentStatus"] = "Canceled".into();
    v["orders"][1].as_object_mut().unwrap().remove("fulfillment");
    let orders = amazon::normalize(SHOP, &[body("searchOrders.json", &v.to_string())]).unwrap();
    assert_eq!((orders[0].status, orders[0].source_status.as_str()), (OrderStatus::OnHold, "Canceled"));
    assert_eq!((orders[1].status, orders[1].source_status.as_str()), (OrderStatus::OnHold, ""));
}

#[test]
fn pick_up_orders_map_to_pickup() {
    let mut v: serde_json::Value = serde_json::from_str(&fixture("searchOrders_page1.json").text).unwrap();
    v["orders"][0]["programs"] = serde_json::json!(["IN_STORE_PICK_UP"]);
    v["orders"][1]["recipient"]["deliveryAddress"]["addressType"] = "PICKUP_POINT".into();
    let orders = amazon::normalize(SHOP, &[body("searchOrders.json", &v.to_string())]).unwrap();
    assert!(orders.iter().all(|o| o.delivery.method == DeliveryMethod::Pickup));
}

#[test]
fn an_order_of_another_marketplace_is_refused_by_name() {
    let mut v: serde_json::Value = serde_json::from_str(&fixture(JP_EXAMPLE).text).unwrap();
    v["orders"][0]["salesChannel"]["marketplaceId"] = "A1F83G8C2ARO7P".into();
    let (_, detail) = malformed(amazon::normalize(SHOP, &[body("searchOrders.json", &v.to_string())]));
    assert!(detail.contains("A1F83G8C2ARO7P") && detail.contains("Amazon.co.jp only"), "{detail}");
}

#[test]
fn a_grand_total_that_disagrees_with_the_lines_is_invalid() {
    let text = fixture(JP_EXAMPLE).text.replace("\"19940\"", "\"19941\"");
    let r = amazon::normalize(SHOP, &[body("searchOrders.json", &text)]);
    assert!(
        matches!(r, Err(NormalizeError::Invalid { ref order_id, .. }) if order_id == "250-1234567-8901234"),
        "{r:?}"
    );
}

#[test]
fn money_must_be_whole_yen() {
    for (from, to, field) in [
        ("\"5980\"", "\"5980.50\"", "orders[0].orderItems[0].product.price.unitPrice.amount"),
        ("\"19940\"", "\"-19940\"", "proceeds.grandTotal.amount"),
    ] {
        let text = fixture(JP_EXAMPLE).text.replacen(from, to, 1);
        let (op, detail) = malformed(amazon::normalize(SHOP, &[body("searchOrders.json", &text)]));
        assert_eq!(op, "searchOrders");
        assert!(detail.contains(field.trim_start_matches("orders[0].")), "{detail}");
    }
    let text = fixture(JP_EXAMPLE).text.replace("\"JPY\"", "\"USD\"");
    let (_, detail) = malformed(amazon::normalize(SHOP, &[body("searchOrders.json", &text)]));
    assert!(detail.ends_with("currencyCode is not JPY"), "{detail}");
}

// ---------------------------------------------------------------------------------------------
// 3. Errors and bodies that are not v2026 order bodies

#[test]
fn error_bodies_are_api_errors_with_the_api_code() {
    let text = r#"{"errors":[{"code":"InvalidInput","message":"Invalid Input","details":"Invalid Input"}]}"#;
    match amazon::normalize(SHOP, &[body("searchOrders_400.json", text)]) {
        Err(NormalizeError::Api { operation, code, message, .. }) => {
            assert_eq!(
                (operation.as_str(), code.as_str(), message.as_str()),
                ("searchOrders", "InvalidInput", "Invalid Input")
            );
        }
        other => panic!("{other:?}"),
    }
    // The shared v0 error examples still give their code.
    for (name, code) in
        [("getOrders_400.json", "InvalidInput"), ("createRestrictedDataToken_400.json", "InvalidRequest")]
    {
        assert!(
            matches!(amazon::normalize(SHOP, &[shared(name)]), Err(NormalizeError::Api { code: c, .. }) if c == code),
            "{name}"
        );
    }
}

#[test]
fn every_shared_v0_read_body_is_refused_as_removed() {
    for name in [
        "getOrders_200.json",
        "getOrders_200_with_next_token_page1.json",
        "getOrder_200.json",
        "getOrderItems_200.json",
        "getOrderAddress_200.json",
        "getOrderBuyerInfo_200.json",
        "getOrderItemsBuyerInfo_200.json",
    ] {
        let (_, detail) = malformed(amazon::normalize(SHOP, &[shared(name)]));
        assert!(detail.contains("Orders v0") && detail.contains("2027-03-27"), "{name}: {detail}");
    }
    let (op, _) = malformed(amazon::normalize(SHOP, &[shared("createRestrictedDataToken_200.json")]));
    assert_eq!(op, "createRestrictedDataToken");
}

#[test]
fn a_body_of_another_operation_than_its_name_says_is_malformed() {
    let (op, detail) = malformed(amazon::normalize(SHOP, &[body("getOrder_x.json", &fixture(JP_EXAMPLE).text)]));
    assert_eq!(op, "getOrder");
    assert_eq!(detail, "body is a searchOrders response, not getOrder");
    let (_, detail) = malformed(amazon::normalize(SHOP, &[body("confirmShipment.json", "{}")]));
    assert_eq!(detail, "a confirmShipment body is not an order body");
    let err = amazon::parse_search_lenient(&fixture(SYNC[2])).unwrap_err();
    assert!(err.to_string().contains("body is a getOrder response, not searchOrders"), "{err}");
}

#[test]
fn missing_required_fields_are_named() {
    let mut v: serde_json::Value = serde_json::from_str(&fixture(JP_EXAMPLE).text).unwrap();
    v["orders"][0].as_object_mut().unwrap().remove("lastUpdatedTime");
    let (_, detail) = malformed(amazon::normalize(SHOP, &[body("searchOrders.json", &v.to_string())]));
    assert_eq!(detail, "orders[0]: required field lastUpdatedTime is missing");
    let mut v: serde_json::Value = serde_json::from_str(&fixture(JP_EXAMPLE).text).unwrap();
    v["orders"][0]["orderItems"][1].as_object_mut().unwrap().remove("product");
    let (_, detail) = malformed(amazon::normalize(SHOP, &[body("searchOrders.json", &v.to_string())]));
    assert_eq!(detail, "orders[0].orderItems[1]: required field product is missing");
}

#[test]
fn a_broken_order_of_a_page_is_set_aside_with_its_id_and_time() {
    let mut v: serde_json::Value = serde_json::from_str(&fixture("searchOrders_page1.json").text).unwrap();
    v["orders"][1]["orderItems"][0]["quantityOrdered"] = "one".into();
    let page = amazon::parse_search_lenient(&body("searchOrders.json", &v.to_string())).unwrap();
    assert_eq!(page.orders.len(), 1);
    assert_eq!(page.bad.len(), 1);
    assert_eq!(page.bad[0].order_id.as_deref(), Some("503-1000002-0000002"));
    assert!(page.bad[0].ordered_at.is_some());
    assert!(page.bad[0].error.to_string().contains("orders[1].orderItems[0].quantityOrdered"), "{}", page.bad[0].error);
    assert_eq!(page.next_token.as_deref(), Some("ZmljdGlvbmFsLXBhZ2UtMg"));
}

// ---------------------------------------------------------------------------------------------
// 4. Hostile input

#[test]
fn truncated_bodies_are_errors_without_personal_data() {
    for name in SYNC {
        let full = fixture(name);
        let mut cut = 0;
        while cut < full.text.trim_end().len() {
            if full.text.is_char_boundary(cut) {
                let err = amazon::parse(&body(name, &full.text[..cut])).expect_err("a truncated body cannot parse");
                assert!(matches!(err, NormalizeError::Malformed { .. }), "{name} at {cut}: {err:?}");
                assert_no_pii(&err, &PII);
            }
            cut += 7;
        }
    }
}

#[test]
fn wrong_types_and_huge_numbers_are_malformed_naming_the_field_not_the_value() {
    let page = fixture("searchOrders_page1.json").text;
    let cases = [
        (
            page.replace("\"name\": \"山田 花子\"", "\"name\": [\"山田 花子\"]"),
            "orders[0].recipient.deliveryAddress.name",
        ),
        (
            page.replacen("\"quantityOrdered\": 2", "\"quantityOrdered\": 1e30", 1),
            "orders[0].orderItems[0].quantityOrdered",
        ),
        (
            page.replacen("\"quantityOrdered\": 2", "\"quantityOrdered\": 99999999999999999999999", 1),
            "orders[0].orderItems[0].quantityOrdered",
        ),
        (
            page.replacen("\"quantityOrdered\": 2", "\"quantityOrdered\": -1", 1),
            "orders[0].orderItems[0].quantityOrdered",
        ),
        (
            page.replace("\"phone\": \"03-0000-0001\"", "\"phone\": 300000001"),
            "orders[0].recipient.deliveryAddress.phone",
        ),
    ];
    for (text, field) in cases {
        let err = amazon::normalize(SHOP, &[body("searchOrders_page1.json", &text)]).expect_err(field);
        match &err {
            NormalizeError::Malformed { operation, detail, .. } => {
                assert_eq!(operation, "searchOrders");
                assert!(detail.starts_with(field), "{detail}");
            }
            other => panic!("{other:?}"),
        }
        assert_no_pii(&err, &PII);
    }
}

#[test]
fn impossible_dates_and_postal_codes_are_malformed() {
    let page = fixture("searchOrders_page1.json").text;
    let text = page.replace("2026-11-01T01:00:00Z\", \"lastUpdatedTime", "2026-02-30T01:00:00Z\", \"lastUpdatedTime");
    let text =
        text.replacen("\"createdTime\": \"2026-11-01T01:00:00Z\"", "\"createdTime\": \"2026-02-30T01:00:00Z\"", 1);
    let (_, detail) = malformed(amazon::normalize(SHOP, &[body("p", &text)]));
    assert_eq!(detail, "createdTime is not an ISO 8601 date-time");
    let text = page.replace("\"postalCode\": \"150-0001\"", "\"postalCode\": \"150-00012\"");
    let err = amazon::normalize(SHOP, &[body("p", &text)]).unwrap_err();
    assert!(err.to_string().contains("recipient.deliveryAddress.postalCode"), "{err}");
    assert!(!err.to_string().contains("150-00012"));
    // Updated before created: the contract rejects it.
    let text = page.replacen(
        "\"lastUpdatedTime\": \"2026-11-01T02:00:00Z\"",
        "\"lastUpdatedTime\": \"2026-10-01T02:00:00Z\"",
        1,
    );
    assert!(matches!(amazon::normalize(SHOP, &[body("p", &text)]), Err(NormalizeError::Invalid { .. })));
}

#[test]
fn control_characters_in_names_are_invalid_without_echoing_them() {
    let page = fixture("searchOrders_page1.json").text;
    for evil in ["山田 花子\\r\\nBcc: victim@example.com", "山田 花子\\u0007", "山田 花子\\u0000"] {
        let text = page.replace("\"name\": \"山田 花子\"", &format!("\"name\": \"{evil}\""));
        let err = amazon::normalize(SHOP, &[body("searchOrders.json", &text)]).expect_err(evil);
        match &err {
            NormalizeError::Invalid { source, .. } => assert_eq!(source.field, "ship_to.name"),
            other => panic!("{other:?}"),
        }
        assert_no_pii(&err, &PII);
        assert!(!err.to_string().contains("victim"));
    }
}

#[test]
fn odd_documents_never_panic() {
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let deep_obj = format!("{{\"orders\":{}{}}}", "{\"a\":".repeat(10_000), "}".repeat(10_001));
    let line = r#"{"orderItemId":"1","quantityOrdered":4294967295,"product":{"sellerSku":"S","price":{"unitPrice":{"currencyCode":"JPY","amount":"9223372036854775807"}}}}"#;
    let huge = format!(
        r#"{{"order":{{"orderId":"503-1","createdTime":"2026-08-01T00:00:00Z","lastUpdatedTime":"2026-08-01T00:00:00Z","salesChannel":{{"channelName":"AMAZON"}},"orderItems":[{}]}}}}"#,
        [line; 3].join(",")
    );
    let cases: Vec<String> = vec![
        deep,
        deep_obj,
        "null".into(),
        "\"text\"".into(),
        "{}".into(),
        r#"{"errors":[]}"#.into(),
        r#"{"errors":"boom"}"#.into(),
        r#"{"errors":[{"message":"no code"}]}"#.into(),
        r#"{"orders":null}"#.into(),
        r#"{"orders":[null]}"#.into(),
        r#"{"order":[]}"#.into(),
        r#"{"orders":[],"pagination":"x"}"#.into(),
        "\u{feff}{}".into(),
        "\0\0\0".into(),
    ];
    for text in &cases {
        let r = amazon::normalize(SHOP, &[body("x", text)]);
        assert!(r.is_err(), "{}", &text[..text.len().min(60)]);
        let _ = amazon::parse_search_lenient(&body("x", text));
        let _ = amazon::parse_get_order_split(&body("x", text));
    }
    // Lines summing past i64 are an error, not an overflow.
    let (_, detail) = malformed(amazon::normalize(SHOP, &[body("o", &huge)]));
    assert_eq!(detail, "amounts overflow");
}
