//! Amazon SP-API Orders v0 normalisation: our fictional fixtures, the shared official sandbox
//! examples, and hostile input.

#![allow(clippy::unwrap_used)]

use chrono::{DateTime, FixedOffset, NaiveDate};
use ichigen_core::{
    Address, Buyer, Delivery, DeliveryMethod, Item, ItemOption, Marketplace, Order, OrderStatus, PaymentMethod, Totals,
};
use ichigen_marketplaces::amazon::{self, Parsed};
use ichigen_marketplaces::{Body, NormalizeError};

const SHOP: &str = "shop-amazon-1";
const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/amazon");
const SHARED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/marketplaces/examples/amazon");

/// Every fixture body of a full sync, in the order a puller would fetch them.
const SYNC: [&str; 11] = [
    "getOrders_page1.json",
    "getOrders_page2.json",
    "getOrder_1000004_shipped.json",
    "getOrderItems_1000001_page1.json",
    "getOrderItems_1000001_page2.json",
    "getOrderItemsBuyerInfo_1000001.json",
    "getOrderAddress_1000001.json",
    "getOrderBuyerInfo_1000001.json",
    "getOrderItems_1000002_cod.json",
    "getOrderItems_1000003_canceled.json",
    "getOrderItems_1000004_scheduled.json",
];

/// Personal data in our fixtures; no error text may contain any of it.
const PII: [&str; 8] =
    ["架空 花子", "架空町", "0300000000", "仮名 一郎", "試験通り", "0900000000", "fictional1@", "試験 次郎"];

fn fixture(name: &str) -> Body {
    let path = format!("{FIXTURES}/{name}");
    Body { name: name.to_string(), text: std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}")) }
}

fn body(name: &str, text: &str) -> Body {
    Body { name: name.to_string(), text: text.to_string() }
}

fn shared_dir() -> std::path::PathBuf {
    let dir = std::path::PathBuf::from(SHARED);
    assert!(
        dir.is_dir(),
        "the shared Amazon examples folder is missing: expected {SHARED} (CI keeps shared/ beside the repo)"
    );
    dir
}

fn shared(name: &str) -> Body {
    let path = shared_dir().join(name);
    Body {
        name: name.to_string(),
        text: std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())),
    }
}

fn sync() -> Vec<Order> {
    let bodies: Vec<Body> = SYNC.iter().map(|n| fixture(n)).collect();
    amazon::normalize(SHOP, &bodies).expect("the fixture sync maps")
}

fn find(orders: &[Order], id: &str) -> Order {
    orders.iter().find(|o| o.order_id == id).cloned().unwrap_or_else(|| panic!("order {id} missing"))
}

fn jst(s: &str) -> DateTime<FixedOffset> {
    let t = DateTime::parse_from_rfc3339(s).unwrap();
    assert_eq!(t.offset().local_minus_utc(), 9 * 3600, "expected value must be JST: {s}");
    t
}

fn api_code(r: Result<Vec<Order>, NormalizeError>) -> (String, String, String) {
    match r {
        Err(NormalizeError::Api { marketplace, operation, code, message }) => {
            assert_eq!(marketplace, Marketplace::Amazon);
            (operation, code, message)
        }
        other => panic!("expected Api, got {other:?}"),
    }
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
// 1. Our fixtures

#[test]
fn a_full_sync_gives_one_order_per_header_in_first_seen_order() {
    let orders = sync();
    let ids: Vec<&str> = orders.iter().map(|o| o.order_id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "503-1000001-0000001",
            "503-1000002-0000002",
            "503-1000003-0000003",
            "503-1000004-0000004",
            "503-1000005-0000005",
            "503-1000006-0000006"
        ]
    );
    for o in &orders {
        assert_eq!(o.validate(), Ok(()));
        assert_eq!(o.schema_version, 1);
        assert_eq!(o.shop_id, SHOP);
        assert_eq!(o.marketplace, Marketplace::Amazon);
        assert_eq!(o.ordered_at.offset().local_minus_utc(), 9 * 3600);
        assert_eq!(o.source_updated_at.offset().local_minus_utc(), 9 * 3600);
        assert!(o.shipments.is_empty());
        assert!(o.tracking.is_empty(), "Orders v0 carries no tracking numbers");
    }
}

#[test]
fn multi_item_order_with_item_pages_gift_and_remarks_maps_exactly() {
    let o = find(&sync(), "503-1000001-0000001");
    let expected = Order {
        schema_version: 1,
        shop_id: SHOP.into(),
        marketplace: Marketplace::Amazon,
        order_id: "503-1000001-0000001".into(),
        // 15:30 UTC is 00:30 the next day in Japan.
        ordered_at: jst("2026-08-02T00:30:00+09:00"),
        source_updated_at: jst("2026-08-02T00:45:10+09:00"),
        status: OrderStatus::ReadyToShip,
        source_status: "Unshipped".into(),
        buyer: Buyer {
            name: "架空 花子".into(),
            name_kana: None,
            email: Some("fictional1@marketplace.amazon.co.jp".into()),
            phone: None,
        },
        ship_to: Address {
            country: "JP".into(),
            postal_code: "1000001".into(),
            prefecture: "東京都".into(),
            city: "千代田区".into(),
            address1: "架空町1-2-3".into(),
            address2: "テストハイツ101".into(),
            name: "架空 花子".into(),
            phone: Some("0300000000".into()),
        },
        shipments: vec![],
        items: vec![
            Item { sku: "TEA-GREEN-100".into(), name: "架空の緑茶 100g".into(), quantity: 2, unit_price: 1980, options: vec![] },
            Item {
                sku: "CUP-BLUE".into(),
                name: "架空の湯呑み 青".into(),
                quantity: 1,
                unit_price: 1200,
                options: vec![ItemOption { name: "GiftWrapLevel".into(), value: "Classic".into() }],
            },
            Item {
                sku: "BOOK-USED-1".into(),
                name: "架空の本（中古）".into(),
                quantity: 1,
                unit_price: 800,
                options: vec![ItemOption { name: "ConditionId".into(), value: "Used".into() }],
            },
        ],
        payment_method: PaymentMethod::CreditCard,
        source_payment_method: "Other".into(),
        delivery: Delivery {
            method: DeliveryMethod::Standard,
            source_method: "Std JP Kanto8".into(),
            requested_date: None,
            requested_time_slot: None,
        },
        // 3960 + 1200 + 800 goods, 500 shipping, 200 gift wrap, 300 promotion = OrderTotal 6360.
        totals: Totals { goods: 5960, shipping: 500, fee: 200, discount: 300, total: 6360 },
        remarks: "[配送指示] インターホンを押さないでください\n[置き配場所] 宅配ボックス\n[ギフトメッセージ] お誕生日おめでとう！\nいつもありがとう".into(),
        gift: true,
        tracking: vec![],
        fulfilled_by_marketplace: false,
    };
    assert_eq!(o, expected);
}

#[test]
fn cod_order_maps_fee_payment_and_full_width_postal_code() {
    let o = find(&sync(), "503-1000002-0000002");
    assert_eq!(o.status, OrderStatus::ReadyToShip);
    assert_eq!(o.payment_method, PaymentMethod::Cod);
    assert_eq!(o.source_payment_method, "COD");
    assert_eq!(o.totals, Totals { goods: 2000, shipping: 300, fee: 330, discount: 0, total: 2630 });
    assert_eq!(o.ship_to.postal_code, "1500002");
    assert_eq!(o.ship_to.address2, "");
    assert_eq!(o.buyer.name, "仮名 一郎");
    assert_eq!(o.delivery.method, DeliveryMethod::Standard);
    assert_eq!(o.delivery.source_method, "Expedited JP");
    // Fractional seconds in LastUpdateDate are kept.
    assert_eq!(o.source_updated_at, jst("2026-08-02T10:05:00.123+09:00"));
    assert_eq!(o.ordered_at, jst("2026-08-02T10:00:00+09:00"));
    assert_eq!(o.items.len(), 1);
    assert_eq!(o.items[0].unit_price, 2000);
    assert!(!o.gift);
    assert_eq!(o.remarks, "");
}

#[test]
fn cancelled_order_drops_zero_quantity_lines_and_has_no_money() {
    let o = find(&sync(), "503-1000003-0000003");
    assert_eq!(o.status, OrderStatus::Cancelled);
    assert_eq!(o.source_status, "Canceled");
    assert!(o.items.is_empty());
    assert_eq!(o.totals, Totals::default());
    assert_eq!(o.payment_method, PaymentMethod::MarketplacePay, "Standard detail");
    // No address in a cancelled header: empty strings, country JP.
    assert_eq!(o.ship_to, Address { country: "JP".into(), ..Address::default() });
    assert_eq!(o.ordered_at, jst("2026-08-01T12:00:00+09:00"));
}

#[test]
fn shipped_order_takes_the_newer_getorder_header_and_the_scheduled_slot() {
    let o = find(&sync(), "503-1000004-0000004");
    assert_eq!(o.status, OrderStatus::Shipped);
    assert_eq!(o.source_status, "Shipped");
    assert_eq!(o.source_updated_at, jst("2026-08-04T11:00:00+09:00"));
    assert_eq!(o.ordered_at, jst("2026-07-31T07:10:00+09:00"));
    // No tracking number exists in Orders v0 responses.
    assert!(o.tracking.is_empty());
    assert_eq!(
        o.delivery,
        Delivery {
            method: DeliveryMethod::Standard,
            source_method: "Scheduled JP".into(),
            requested_date: NaiveDate::from_ymd_opt(2026, 8, 5),
            requested_time_slot: Some("14-16".into()),
        }
    );
    assert_eq!(o.payment_method, PaymentMethod::MarketplacePay, "first known detail is GiftCertificate");
    assert_eq!(o.ship_to.postal_code, "0600001");
    assert_eq!(o.ship_to.address2, "架空ビル5F 架空商事株式会社");
    assert_eq!(o.ship_to.phone, None);
    assert_eq!(o.totals, Totals { goods: 4980, shipping: 0, fee: 0, discount: 0, total: 4980 });
    assert!(!o.fulfilled_by_marketplace);
}

#[test]
fn the_newer_header_wins_whatever_the_body_order() {
    let bodies = [fixture("getOrder_1000004_shipped.json"), fixture("getOrders_page2.json")];
    let orders = amazon::normalize(SHOP, &bodies).unwrap();
    let o = find(&orders, "503-1000004-0000004");
    assert_eq!(o.source_status, "Shipped");
    assert_eq!(orders[0].order_id, "503-1000004-0000004", "first seen first");
}

#[test]
fn afn_order_is_fulfilled_by_amazon_and_counts_order_total_as_goods_without_items() {
    let o = find(&sync(), "503-1000005-0000005");
    assert!(o.fulfilled_by_marketplace);
    assert_eq!(o.status, OrderStatus::Shipped);
    assert!(o.items.is_empty());
    assert_eq!(o.totals, Totals { goods: 1500, shipping: 0, fee: 0, discount: 0, total: 1500 });
    // Without an RDT only the non-PII parts of the address arrive.
    assert_eq!(o.ship_to.postal_code, "5300001");
    assert_eq!(o.ship_to.prefecture, "大阪府");
    assert_eq!(o.ship_to.name, "");
    assert_eq!(o.buyer, Buyer::default());
}

#[test]
fn pending_order_without_address_or_buyer_still_maps() {
    let o = find(&sync(), "503-1000006-0000006");
    assert_eq!(o.status, OrderStatus::AwaitingPayment);
    assert_eq!(o.source_status, "Pending");
    assert_eq!(o.ship_to, Address { country: "JP".into(), ..Address::default() });
    assert_eq!(o.buyer, Buyer::default());
    assert_eq!(o.totals, Totals::default());
    assert_eq!(o.ordered_at, jst("2026-08-02T23:59:59+09:00"));
    assert_eq!(o.source_updated_at, jst("2026-08-03T00:00:00+09:00"));
}

#[test]
fn a_buyer_cancel_request_holds_an_open_order_and_is_in_the_remarks() {
    let items = r#"{"payload":{"AmazonOrderId":"503-1000002-0000002","OrderItems":[{"ASIN":"B0X","OrderItemId":"1",
        "SellerSKU":"RICE-5KG","QuantityOrdered":1,"ItemPrice":{"CurrencyCode":"JPY","Amount":"2000"},
        "ShippingPrice":{"CurrencyCode":"JPY","Amount":"300"},"CODFee":{"CurrencyCode":"JPY","Amount":"330"},
        "BuyerRequestedCancel":{"IsBuyerRequestedCancel":"true","BuyerCancelReason":"間違えて注文しました"}}]}}"#;
    let orders =
        amazon::normalize(SHOP, &[fixture("getOrders_page1.json"), body("getOrderItems_x.json", items)]).unwrap();
    let o = find(&orders, "503-1000002-0000002");
    assert_eq!(o.status, OrderStatus::OnHold);
    assert_eq!(o.source_status, "Unshipped");
    assert_eq!(o.remarks, "[購入者キャンセル依頼] 間違えて注文しました");
}

#[test]
fn unknown_status_is_held_and_kept_verbatim() {
    let text = r#"{"payload":{"AmazonOrderId":"503-1","PurchaseDate":"2026-08-01T00:00:00Z",
        "LastUpdateDate":"2026-08-01T00:00:00Z","OrderStatus":"SomethingNew"}}"#;
    let o = &amazon::normalize(SHOP, &[body("x.json", text)]).unwrap()[0];
    assert_eq!(o.status, OrderStatus::OnHold);
    assert_eq!(o.source_status, "SomethingNew");
    assert_eq!(o.payment_method, PaymentMethod::Other);
    assert_eq!(o.delivery.method, DeliveryMethod::Other);
}

#[test]
fn pick_up_orders_map_to_pickup() {
    let text = r#"{"payload":{"AmazonOrderId":"503-1","PurchaseDate":"2026-08-01T00:00:00Z",
        "LastUpdateDate":"2026-08-01T00:00:00Z","OrderStatus":"Unshipped","IsAccessPointOrder":true,
        "ShipmentServiceLevelCategory":"Standard","PaymentMethod":"CVS"}}"#;
    let o = &amazon::normalize(SHOP, &[body("getOrder.json", text)]).unwrap()[0];
    assert_eq!(o.delivery.method, DeliveryMethod::Pickup);
    assert_eq!(o.delivery.source_method, "Standard");
    assert_eq!(o.payment_method, PaymentMethod::ConvenienceStore);
}

#[test]
fn error_bodies_are_api_errors_with_the_api_code() {
    let (op, code, message) = api_code(amazon::normalize(
        SHOP,
        &[body("getOrder_404.json", r#"{"errors":[{"code":"NotFound","message":"Order not found","details":""}]}"#)],
    ));
    assert_eq!((op.as_str(), code.as_str(), message.as_str()), ("getOrder", "NotFound", "Order not found"));
    // An error after good bodies still wins: the batch is incomplete.
    let r = amazon::normalize(
        SHOP,
        &[
            fixture("getOrders_page1.json"),
            body("page2", r#"{"errors":[{"code":"QuotaExceeded","message":"You exceeded your quota"}]}"#),
        ],
    );
    let (op, code, _) = api_code(r);
    assert_eq!((op.as_str(), code.as_str()), ("unknown operation", "QuotaExceeded"));
}

#[test]
fn non_order_bodies_are_malformed() {
    let (op, _) = malformed(amazon::normalize(SHOP, &[body("confirmShipment_204", "")]));
    assert_eq!(op, "confirmShipment");
    let (op, detail) =
        malformed(amazon::normalize(SHOP, &[body("rdt", r#"{"restrictedDataToken":"Atz.sprdt|x","expiresIn":3600}"#)]));
    assert_eq!(op, "createRestrictedDataToken");
    assert!(detail.contains("not an order body"), "{detail}");
    let (_, detail) = malformed(amazon::normalize(SHOP, &[body("x", r#"{"payload":{"Foo":1}}"#)]));
    assert!(detail.contains("no known Orders v0 operation"), "{detail}");
    let (_, detail) = malformed(amazon::normalize(SHOP, &[body("x", "[1,2]")]));
    assert!(detail.contains("not a JSON object"), "{detail}");
}

#[test]
fn a_body_of_another_operation_than_its_name_says_is_malformed() {
    let mut b = fixture("getOrders_page1.json");
    b.name = "getOrderItems_1.json".into();
    let (op, detail) = malformed(amazon::normalize(SHOP, &[b]));
    assert_eq!(op, "getOrderItems");
    assert!(detail.contains("getOrders response"), "{detail}");
}

#[test]
fn sub_bodies_without_their_header_are_malformed() {
    let (op, detail) = malformed(amazon::normalize(SHOP, &[fixture("getOrderItems_1000002_cod.json")]));
    assert_eq!(op, "getOrderItems");
    assert!(detail.contains("AmazonOrderId"), "{detail}");
    let (op, _) = malformed(amazon::normalize(SHOP, &[fixture("getOrderAddress_1000001.json")]));
    assert_eq!(op, "getOrderAddress");
}

#[test]
fn missing_required_fields_are_named() {
    let text = r#"{"payload":{"Orders":[{"AmazonOrderId":"503-1","LastUpdateDate":"2026-08-01T00:00:00Z","OrderStatus":"Pending"}]}}"#;
    let (op, detail) = malformed(amazon::normalize(SHOP, &[body("getOrders.json", text)]));
    assert_eq!(op, "getOrders");
    assert_eq!(detail, "payload.Orders[0]: required field PurchaseDate is missing");
}

#[test]
fn money_must_be_whole_non_negative_yen() {
    let with_amount = |currency: &str, amount: &str| {
        let text = format!(
            r#"{{"payload":{{"AmazonOrderId":"503-1","PurchaseDate":"2026-08-01T00:00:00Z","LastUpdateDate":"2026-08-01T00:00:00Z",
            "OrderStatus":"Unshipped","OrderTotal":{{"CurrencyCode":"{currency}","Amount":"{amount}"}}}}}}"#
        );
        amazon::normalize(SHOP, &[body("getOrder.json", &text)])
    };
    assert_eq!(with_amount("JPY", "1000.00").unwrap()[0].totals.total, 1000);
    for (currency, amount) in
        [("USD", "10"), ("JPY", "1.99"), ("JPY", "-5"), ("JPY", "1e3"), ("JPY", "99999999999999999999999")]
    {
        let (op, detail) = malformed(with_amount(currency, amount));
        assert_eq!(op, "getOrder");
        assert!(detail.starts_with("OrderTotal."), "{detail}");
    }
    // Within i64 but over the contract's limit: the mapped order is Invalid.
    assert!(matches!(with_amount("JPY", "9000000000000"), Err(NormalizeError::Invalid { .. })));
}

#[test]
fn an_order_total_that_disagrees_with_the_lines_is_invalid() {
    let page = fixture("getOrders_page1.json");
    let mut items = fixture("getOrderItems_1000002_cod.json");
    items.text = items.text.replace("\"330\"", "\"331\"");
    match amazon::normalize(SHOP, &[page, items]) {
        Err(NormalizeError::Invalid { order_id, source, .. }) => {
            assert_eq!(order_id, "503-1000002-0000002");
            assert_eq!(source.field, "totals.total");
        }
        other => panic!("expected Invalid, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// 2. The shared official examples

/// What each shared file must give when normalised on its own.
#[derive(Debug)]
enum Expect {
    /// `Api` with this code.
    Api(&'static str),
    /// `Malformed` from this operation, the detail containing this text.
    Malformed(&'static str, &'static str),
}

const SHARED_FILES: [(&str, Expect); 15] = [
    ("SOURCES.txt", Expect::Malformed("unknown operation", "not valid JSON")),
    (
        "confirmShipment_400_sandbox_request_and_response.json",
        Expect::Malformed("confirmShipment", "not an order body"),
    ),
    ("confirmShipment_request_sandbox.json", Expect::Malformed("confirmShipment", "not an order body")),
    ("createRestrictedDataToken_200.json", Expect::Malformed("createRestrictedDataToken", "not an order body")),
    ("createRestrictedDataToken_400.json", Expect::Api("InvalidRequest")),
    ("getOrderAddress_200.json", Expect::Malformed("getOrderAddress", "matches no getOrders or getOrder body")),
    ("getOrderBuyerInfo_200.json", Expect::Malformed("getOrderBuyerInfo", "matches no getOrders or getOrder body")),
    ("getOrderItemsBuyerInfo_200.json", Expect::Malformed("getOrderItemsBuyerInfo", "matches no getOrders")),
    ("getOrderItems_200.json", Expect::Malformed("getOrderItems", "matches no getOrders or getOrder body")),
    // Amazon's static sandbox examples are US (ATVPDKIKX0DER) and DE (A1PA6795UKMFR9) orders:
    // refused by name, not mistaken for Japanese ones.
    ("getOrder_200.json", Expect::Malformed("getOrder", "marketplace ATVPDKIKX0DER, not Amazon.co.jp")),
    ("getOrder_200_iba.json", Expect::Malformed("getOrder", "marketplace A1PA6795UKMFR9, not Amazon.co.jp")),
    ("getOrders_200.json", Expect::Malformed("getOrders", "marketplace ATVPDKIKX0DER, not Amazon.co.jp")),
    ("getOrders_200_next_token_page2.json", Expect::Malformed("getOrders", "not Amazon.co.jp")),
    ("getOrders_200_with_next_token_page1.json", Expect::Malformed("getOrders", "not Amazon.co.jp")),
    ("getOrders_400.json", Expect::Api("InvalidInput")),
];

#[test]
fn every_shared_example_file_gives_its_expected_outcome() {
    let dir = shared_dir();
    let mut names: Vec<String> =
        std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    let known: Vec<&str> = SHARED_FILES.iter().map(|(n, _)| *n).collect();
    assert_eq!(names, known, "the shared folder changed: add the new files to SHARED_FILES");
    for (name, expect) in &SHARED_FILES {
        let r = amazon::normalize(SHOP, &[shared(name)]);
        match (expect, r) {
            (Expect::Api(code), Err(NormalizeError::Api { code: got, .. })) => assert_eq!(got, *code, "{name}"),
            (Expect::Malformed(op, text), Err(NormalizeError::Malformed { operation, detail, .. })) => {
                assert_eq!(operation, *op, "{name}: {detail}");
                assert!(detail.contains(text), "{name}: {detail}");
            }
            (expect, got) => panic!("{name}: expected {expect:?}, got {got:?}"),
        }
    }
}

#[test]
fn shared_error_bodies_keep_the_api_message() {
    let (op, code, message) = api_code(amazon::normalize(SHOP, &[shared("getOrders_400.json")]));
    assert_eq!((op.as_str(), code.as_str(), message.as_str()), ("getOrders", "InvalidInput", "Invalid Input"));
    let (op, code, message) = api_code(amazon::normalize(SHOP, &[shared("createRestrictedDataToken_400.json")]));
    assert_eq!(op, "createRestrictedDataToken");
    assert_eq!((code.as_str(), message.as_str()), ("InvalidRequest", "Request is missing or has invalid parameters"));
}

#[test]
fn shared_pending_pages_join_into_one_pending_order() {
    // The published pages are a US order; as an Amazon.co.jp order the same pages join into one.
    let as_jp = |name: &str| {
        let mut b = shared(name);
        b.text = b.text.replace("ATVPDKIKX0DER", "A1VC38T7YXB528");
        b
    };
    let bodies = [as_jp("getOrders_200_with_next_token_page1.json"), as_jp("getOrders_200_next_token_page2.json")];
    let orders = amazon::normalize(SHOP, &bodies).unwrap();
    assert_eq!(orders.len(), 1, "the same order on both pages is one order");
    let o = &orders[0];
    assert_eq!(o.order_id, "902-3159896-1390916");
    assert_eq!(o.status, OrderStatus::AwaitingPayment);
    assert_eq!(o.source_status, "Pending");
    assert_eq!(o.ordered_at, jst("2017-01-21T04:49:35+09:00"));
    assert_eq!(o.source_updated_at, jst("2017-01-21T04:49:35+09:00"));
    assert_eq!(o.payment_method, PaymentMethod::CreditCard);
    assert_eq!(o.source_payment_method, "Other");
    assert_eq!(o.delivery.method, DeliveryMethod::Standard);
    assert_eq!(o.delivery.source_method, "Standard");
    assert_eq!(o.totals, Totals::default());
    assert!(!o.fulfilled_by_marketplace);
}

#[test]
fn shared_bodies_parse_into_the_wire_types() {
    match amazon::parse(&shared("getOrder_200.json")).unwrap() {
        Parsed::Order(o) => {
            assert_eq!(o.amazon_order_id, "902-1845936-5435065");
            assert_eq!(o.order_status, "Unshipped");
            assert_eq!(o.fulfillment_channel.as_deref(), Some("MFN"));
            let total = o.order_total.unwrap();
            assert_eq!((total.currency_code.as_deref(), total.amount.as_deref()), (Some("USD"), Some("11.01")));
        }
        other => panic!("{other:?}"),
    }
    match amazon::parse(&shared("getOrder_200_iba.json")).unwrap() {
        Parsed::Order(o) => assert_eq!(o.fulfillment_channel.as_deref(), Some("AFN")),
        other => panic!("{other:?}"),
    }
    match amazon::parse(&shared("getOrderItems_200.json")).unwrap() {
        Parsed::Items(l) => {
            let i = &l.order_items[0];
            assert_eq!(
                (i.order_item_id.as_str(), i.seller_sku.as_deref()),
                ("05015851154158", Some("NABetaASINB00551Q3CS"))
            );
            assert_eq!(i.quantity_ordered, 1);
            assert!(i.buyer_requested_cancel.is_some());
        }
        other => panic!("{other:?}"),
    }
    match amazon::parse(&shared("getOrderAddress_200.json")).unwrap() {
        Parsed::Address(a) => {
            let s = a.shipping_address.unwrap();
            assert_eq!((s.postal_code.as_deref(), s.country_code.as_deref()), (Some("98121-2778"), Some("US")));
        }
        other => panic!("{other:?}"),
    }
    match amazon::parse(&shared("getOrderBuyerInfo_200.json")).unwrap() {
        Parsed::Buyer(b) => assert_eq!(b.buyer_email.as_deref(), Some("fzyrv6gwkhbb15c@example.com")),
        other => panic!("{other:?}"),
    }
    match amazon::parse(&shared("getOrderItemsBuyerInfo_200.json")).unwrap() {
        Parsed::ItemsBuyerInfo(l) => {
            assert_eq!(l.order_items[0].gift_message_text.as_deref(), Some("Et toi!"));
            assert_eq!(l.order_items[0].gift_wrap_price.as_ref().unwrap().amount.as_deref(), Some("1.99"));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn shared_order_with_its_sub_bodies_is_malformed_for_its_non_yen_money() {
    // As an Amazon.co.jp order (marketplace id swapped), the published US order still fails on
    // its dollars: money must be yen.
    let names = [
        "getOrder_200.json",
        "getOrderItems_200.json",
        "getOrderAddress_200.json",
        "getOrderBuyerInfo_200.json",
        "getOrderItemsBuyerInfo_200.json",
    ];
    let bodies: Vec<Body> = names
        .iter()
        .map(|n| {
            let mut b = shared(n);
            b.text = b.text.replace("ATVPDKIKX0DER", "A1VC38T7YXB528");
            b
        })
        .collect();
    let (op, detail) = malformed(amazon::normalize(SHOP, &bodies));
    assert_eq!(op, "getOrderItems");
    assert!(detail.contains("CurrencyCode is not JPY"), "{detail}");
}

// ---------------------------------------------------------------------------------------------
// 3. Hostile input

#[test]
fn truncated_bodies_are_errors_without_personal_data() {
    for name in SYNC {
        let full = fixture(name);
        let mut cut = 0;
        // Cut anywhere before the closing brace (trailing whitespace would still be whole JSON).
        while cut < full.text.trim_end().len() {
            if full.text.is_char_boundary(cut) {
                let b = body(name, &full.text[..cut]);
                let err = amazon::parse(&b).expect_err("a truncated body cannot parse");
                assert!(matches!(err, NormalizeError::Malformed { .. }), "{name} at {cut}: {err:?}");
                assert_no_pii(&err, &PII);
            }
            cut += 7;
        }
    }
}

#[test]
fn wrong_types_and_huge_numbers_are_malformed_naming_the_field_not_the_value() {
    let page = fixture("getOrders_page1.json").text;
    let cases = [
        (
            page.replace("\"Name\": \"架空 花子\"", "\"Name\": [\"架空 花子\"]"),
            "payload.Orders[0].ShippingAddress.Name",
        ),
        (
            page.replace("\"NumberOfItemsUnshipped\": 4", "\"NumberOfItemsUnshipped\": 1e30"),
            "payload.Orders[0].NumberOfItemsUnshipped",
        ),
        (
            page.replace("\"NumberOfItemsUnshipped\": 4", "\"NumberOfItemsUnshipped\": 99999999999999999999999999"),
            "payload.Orders[0].NumberOfItemsUnshipped",
        ),
        (page.replace("\"Phone\": \"0300000000\"", "\"Phone\": 300000000"), "payload.Orders[0].ShippingAddress.Phone"),
        (
            page.replace("\"PaymentMethodDetails\": [\"CreditCard\"]", "\"PaymentMethodDetails\": \"架空 花子\""),
            "payload.Orders[0].PaymentMethodDetails",
        ),
    ];
    for (text, field) in cases {
        let err = amazon::normalize(SHOP, &[body("getOrders_page1.json", &text)]).expect_err(field);
        match &err {
            NormalizeError::Malformed { operation, detail, .. } => {
                assert_eq!(operation, "getOrders");
                assert!(detail.starts_with(field), "{detail}");
            }
            other => panic!("{other:?}"),
        }
        assert_no_pii(&err, &PII);
    }
    let items = fixture("getOrderItems_1000002_cod.json").text;
    for bad in ["\"QuantityOrdered\": -1", "\"QuantityOrdered\": 4294967296", "\"QuantityOrdered\": \"one\""] {
        let text = items.replace("\"QuantityOrdered\": 1", bad);
        let err = amazon::normalize(SHOP, &[fixture("getOrders_page1.json"), body("getOrderItems_2.json", &text)])
            .expect_err(bad);
        let (_, detail) = malformed(Err(err));
        assert_eq!(detail, "payload.OrderItems[0].QuantityOrdered: has a wrong type or an impossible value");
    }
    let text = items.replace("\"IsGift\": \"false\"", "\"IsGift\": \"maybe\"");
    let (_, detail) = malformed(amazon::normalize(SHOP, &[fixture("getOrders_page1.json"), body("i", &text)]));
    assert_eq!(detail, "OrderItems[0].IsGift is neither \"true\" nor \"false\"");
}

#[test]
fn impossible_dates_and_postal_codes_are_malformed() {
    let page = fixture("getOrders_page1.json").text;
    let text = page.replace("2026-08-01T15:30:00Z", "2026-02-30T15:30:00Z");
    let (_, detail) = malformed(amazon::normalize(SHOP, &[body("p", &text)]));
    assert_eq!(detail, "PurchaseDate is not an ISO 8601 date-time");
    let text = page.replace("\"PostalCode\": \"100-0001\"", "\"PostalCode\": \"100-00012\"");
    let err = amazon::normalize(SHOP, &[body("p", &text)]).unwrap_err();
    assert!(err.to_string().contains("ShippingAddress.PostalCode"), "{err}");
    assert!(!err.to_string().contains("100-00012"));
    // Updated before ordered: the contract rejects it.
    let text = page.replace("2026-08-01T15:45:10Z", "2026-08-01T15:00:00Z");
    assert!(matches!(amazon::normalize(SHOP, &[body("p", &text)]), Err(NormalizeError::Invalid { .. })));
}

#[test]
fn control_characters_in_names_are_invalid_without_echoing_them() {
    let page = fixture("getOrders_page1.json").text;
    for evil in ["架空 花子\\r\\nBcc: victim@example.com", "架空 花子\\u0007", "架空 花子\\u0000"] {
        let text = page.replacen("\"Name\": \"架空 花子\"", &format!("\"Name\": \"{evil}\""), 1);
        let err = amazon::normalize(SHOP, &[body("getOrders.json", &text)]).expect_err(evil);
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
    let deep_obj = format!("{{\"payload\":{}{}}}", "{\"a\":".repeat(10_000), "}".repeat(10_001));
    let huge_list = format!(
        r#"{{"payload":{{"AmazonOrderId":"503-1","OrderItems":[{}]}}}}"#,
        [r#"{"OrderItemId":"1","ASIN":"A","SellerSKU":"S","QuantityOrdered":4294967295,"ItemPrice":{"CurrencyCode":"JPY","Amount":"9223372036854775807"}}"#; 3]
            .join(",")
    );
    let order = r#"{"payload":{"AmazonOrderId":"503-1","PurchaseDate":"2026-08-01T00:00:00Z","LastUpdateDate":"2026-08-01T00:00:00Z","OrderStatus":"Unshipped"}}"#;
    let cases: Vec<String> = vec![
        deep,
        deep_obj,
        "null".into(),
        "\"text\"".into(),
        "{}".into(),
        r#"{"errors":[]}"#.into(),
        r#"{"errors":"boom"}"#.into(),
        r#"{"errors":[{"message":"no code"}]}"#.into(),
        r#"{"payload":null}"#.into(),
        r#"{"payload":{"Orders":null}}"#.into(),
        r#"{"payload":{"Orders":[null]}}"#.into(),
        r#"{"payload":{"OrderItems":{"a":1}}}"#.into(),
        "\u{feff}{}".into(),
        "\0\0\0".into(),
    ];
    for text in &cases {
        let r = amazon::normalize(SHOP, &[body("x", text)]);
        assert!(r.is_err(), "{}", &text[..text.len().min(60)]);
    }
    // Lines summing past i64 are an error, not an overflow.
    let r = amazon::normalize(SHOP, &[body("o", order), body("i", &huge_list)]);
    let (_, detail) = malformed(r);
    assert_eq!(detail, "amounts overflow");
}
