//! Rakuten getOrder normalisation: our fixtures, the shared examples, and hostile input.

use chrono::{DateTime, FixedOffset, NaiveDate};
use ichigen_core::{Carrier, DeliveryMethod, ItemOption, Order, OrderStatus, PaymentMethod, Totals};
use ichigen_marketplaces::rakuten::normalize;
use ichigen_marketplaces::{Body, NormalizeError};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/rakuten");
const SHARED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/marketplaces/examples/rakuten");

fn body(name: &str, text: &str) -> Body {
    Body { name: name.to_owned(), text: text.to_owned() }
}

fn fixture_text(name: &str) -> String {
    std::fs::read_to_string(format!("{FIXTURES}/{name}")).expect("fixture exists")
}

fn one(name: &str) -> Order {
    let mut orders = normalize("shop-1", &[body(name, &fixture_text(name))]).expect("normalizes");
    assert_eq!(orders.len(), 1, "{name}");
    orders.remove(0)
}

fn t(s: &str) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(s).expect("test time")
}

fn totals(goods: i64, shipping: i64, fee: i64, discount: i64, total: i64) -> Totals {
    Totals { goods, shipping, fee, discount, coupon: 0, points: 0, total }
}

fn opt(name: &str, value: &str) -> ItemOption {
    ItemOption { name: name.to_owned(), value: value.to_owned() }
}

#[test]
fn multi_item_card_order_with_coupon_points_date_and_slot() {
    let o = one("multi_item_card.json");
    assert_eq!(o.schema_version, 1);
    assert_eq!(o.shop_id, "shop-1");
    assert_eq!(o.marketplace, ichigen_core::Marketplace::Rakuten);
    assert_eq!(o.order_id, "999999-20250301-0000000101");
    assert_eq!(o.ordered_at, t("2025-03-01T10:15:00+09:00"));
    assert_eq!(o.ordered_at.to_rfc3339(), "2025-03-01T10:15:00+09:00");
    // The latest of the order's own times (orderFixDatetime here).
    assert_eq!(o.source_updated_at.to_rfc3339(), "2025-03-01T11:05:00+09:00");
    assert_eq!((o.status, o.source_status.as_str()), (OrderStatus::ReadyToShip, "300"));
    assert_eq!((o.payment_method, o.source_payment_method.as_str()), (PaymentMethod::CreditCard, "クレジットカード"));
    assert_eq!(o.delivery.method, DeliveryMethod::Standard);
    assert_eq!(o.delivery.source_method, "宅配便");
    assert_eq!(o.delivery.requested_date, NaiveDate::from_ymd_opt(2025, 3, 4));
    assert_eq!(o.delivery.requested_time_slot.as_deref(), Some("14-16"));
    // goods 3300×2 + 1100, shipping 550, coupon 500 + points 200, requestPrice 7550.
    assert_eq!(o.totals, Totals { coupon: 500, points: 200, ..totals(7700, 550, 0, 700, 7550) });
    assert_eq!(o.buyer.name, "試験 花子");
    assert_eq!(o.buyer.name_kana.as_deref(), Some("シケン ハナコ"));
    assert_eq!(o.buyer.phone.as_deref(), Some("03-0000-0000"));
    assert_eq!(o.buyer.email.as_deref(), Some("0123abcdefs1@pc.fw.rakuten.ne.jp"));
    assert_eq!(o.ship_to.country, "JP");
    assert_eq!(o.ship_to.postal_code, "1000001");
    assert_eq!(o.ship_to.prefecture, "東京都");
    assert_eq!(o.ship_to.city, "千代田区");
    assert_eq!(o.ship_to.address1, "千代田9-9-9 テストハイツ101");
    assert_eq!(o.ship_to.name, "試験 花子");
    assert!(o.shipments.is_empty());
    assert_eq!(o.items.len(), 2);
    assert_eq!(o.items[0].sku, "TEST-001-RED");
    assert_eq!(o.items[0].name, "テスト商品 マグカップ");
    assert_eq!((o.items[0].quantity, o.items[0].unit_price), (2, 3300));
    assert_eq!(o.items[0].options, vec![opt("カラー", "レッド"), opt("ラッピング", "なし")]);
    // Pre-SKU line (empty SkuModel): the item number.
    assert_eq!(o.items[1].sku, "TEST-002");
    assert!(o.items[1].options.is_empty());
    assert_eq!(o.remarks, "[配送日時指定:]\n\n");
    assert!(!o.gift && o.tracking.is_empty() && !o.fulfilled_by_marketplace);
}

#[test]
fn cod_order_counts_the_cod_fee_as_fee() {
    let o = one("cod_chilled.json");
    assert_eq!((o.status, o.source_status.as_str()), (OrderStatus::New, "100"));
    assert_eq!((o.payment_method, o.source_payment_method.as_str()), (PaymentMethod::Cod, "代金引換"));
    assert_eq!((o.delivery.method, o.delivery.source_method.as_str()), (DeliveryMethod::Cool, "クール便（冷蔵）"));
    assert_eq!(o.delivery.requested_date, None);
    assert_eq!(o.delivery.requested_time_slot, None);
    assert_eq!(o.totals, totals(2200, 660, 330, 0, 3190));
    assert_eq!(o.ship_to.postal_code, "0600000");
    assert_eq!(o.ship_to.prefecture, "北海道");
    // No later time than the order time.
    assert_eq!(o.source_updated_at, o.ordered_at);
}

#[test]
fn cancelled_order() {
    let o = one("cancelled.json");
    assert_eq!((o.status, o.source_status.as_str()), (OrderStatus::Cancelled, "900"));
    assert_eq!(o.totals, totals(1650, 0, 0, 0, 1650));
    assert_eq!(o.source_updated_at.to_rfc3339(), "2025-03-03T09:00:00+09:00");
}

#[test]
fn shipped_order_has_its_tracking_number() {
    let o = one("shipped_tracking.json");
    assert_eq!((o.status, o.source_status.as_str()), (OrderStatus::Shipped, "500"));
    assert_eq!((o.payment_method, o.source_payment_method.as_str()), (PaymentMethod::BankTransfer, "銀行振込"));
    assert_eq!(
        (o.delivery.method, o.delivery.source_method.as_str()),
        (DeliveryMethod::MailBin, "メール便（ネコポス）")
    );
    assert_eq!(o.tracking.len(), 1);
    assert_eq!(o.tracking[0].carrier, Carrier::Yamato);
    assert_eq!(o.tracking[0].number, "123456789012");
    assert_eq!(o.tracking[0].shipped_at.map(|t| t.to_rfc3339()).as_deref(), Some("2025-03-05T00:00:00+09:00"));
    assert_eq!(o.source_updated_at.to_rfc3339(), "2025-03-05T18:30:00+09:00");
    assert_eq!(o.totals, totals(2970, 0, 0, 0, 2970));
}

#[test]
fn gift_order_keeps_remarks_with_system_sections_verbatim() {
    let o = one("gift_remarks.json");
    assert!(o.gift);
    assert_eq!(
        o.remarks,
        "[配送日時指定:]\n2025-03-08(土)\n午前中\n[備考:]\n誕生日プレゼントです。\n金額の分かる物は入れないでください。"
    );
    assert_eq!((o.payment_method, o.source_payment_method.as_str()), (PaymentMethod::Deferred, "後払い決済"));
    assert_eq!(o.delivery.requested_date, NaiveDate::from_ymd_opt(2025, 3, 8));
    assert_eq!(o.delivery.requested_time_slot.as_deref(), Some("午前中"));
    // Wrapping (330) is in goodsPrice and requestPrice; it lands in fee, not goods.
    assert_eq!(o.totals, totals(5500, 1100, 330, 0, 6930));
    assert_eq!(o.ship_to.postal_code, "9000000");
}

#[test]
fn several_packages_become_shipments() {
    let o = one("multi_destination.json");
    assert_eq!(o.shipments.len(), 2);
    assert_eq!(o.shipments[0].shipment_id.as_deref(), Some("123456706"));
    assert_eq!(o.shipments[1].shipment_id.as_deref(), Some("123456707"));
    assert_eq!(o.ship_to, o.shipments[0].ship_to);
    assert_eq!(o.shipments[1].ship_to.postal_code, "5300001");
    assert_eq!(o.shipments[1].ship_to.name, "試験 三郎");
    assert_eq!(o.shipments[1].ship_to.phone.as_deref(), Some("06-0000-0000"));
    assert_eq!(o.shipments[0].items.len(), 1);
    assert_eq!(o.shipments[1].items[0].sku, "SWEET-B");
    assert_eq!(o.items.len(), 2);
    assert_eq!(o.totals, Totals { coupon: 0, points: 100, ..totals(4320, 1320, 0, 100, 5540) });
}

#[test]
fn not_fixed_amount_is_held_and_counted_as_zero() {
    let o = one("amount_not_fixed.json");
    assert_eq!((o.status, o.source_status.as_str()), (OrderStatus::OnHold, "100"));
    // postagePrice / requestPrice are -9999: shipping 0, total built from the known parts.
    assert_eq!(o.totals, Totals { coupon: 1000, points: 0, ..totals(33000, 0, 0, 1000, 32000) });
}

#[test]
fn all_fixtures_in_one_call() {
    let names = [
        "multi_item_card.json",
        "cod_chilled.json",
        "cancelled.json",
        "shipped_tracking.json",
        "gift_remarks.json",
        "multi_destination.json",
        "amount_not_fixed.json",
    ];
    let bodies: Vec<Body> = names.iter().map(|n| body(n, &fixture_text(n))).collect();
    let orders = normalize("shop-1", &bodies).expect("normalizes");
    assert_eq!(orders.len(), names.len());
    assert!(orders.iter().all(|o| o.validate().is_ok()));
    assert!(normalize("shop-1", &[]).expect("empty").is_empty());
}

fn api_code(text: &str) -> (String, String, String) {
    match normalize("shop-1", &[body("x", text)]) {
        Err(NormalizeError::Api { operation, code, message, .. }) => (operation, code, message),
        other => panic!("expected Api, got {other:?}"),
    }
}

fn malformed(text: &str) -> (String, String) {
    match normalize("shop-1", &[body("x", text)]) {
        Err(NormalizeError::Malformed { operation, detail, .. }) => (operation, detail),
        other => panic!("expected Malformed, got {other:?}"),
    }
}

#[test]
fn other_operations_are_not_order_bodies() {
    let search = r#"{"MessageModelList":[{"messageType":"INFO","messageCode":"ORDER_EXT_API_SEARCH_ORDER_INFO_101","message":"注文検索に成功しました。"}],"orderNumberList":["999999-20250301-0000000101"],"PaginationResponseModel":{"totalRecordsAmount":1,"totalPages":1,"requestPage":1}}"#;
    let (op, detail) = malformed(search);
    assert_eq!(op, "searchOrder");
    assert!(detail.contains("not a getOrder response"), "{detail}");
    let confirm = r#"{"MessageModelList":[{"messageType":"INFO","messageCode":"ORDER_EXT_API_CONFIRM_ORDER_INFO_101","message":"注文確認に成功しました。","orderNumber":"999999-20250301-0000000101"}]}"#;
    assert_eq!(malformed(confirm).0, "confirmOrder");
    let shipping = r#"{"MessageModelList":[{"messageType":"INFO","messageCode":"ORDER_EXT_API_UPDATE_ORDERSHIPPING_INFO_101","message":"発送情報の追加設定が完了しました。","dataNumber":1,"shippingDetailId":700001}]}"#;
    let (op, detail) = malformed(shipping);
    assert_eq!(op, "updateOrderShipping");
    assert!(detail.contains("not a getOrder response"), "{detail}");
    let (_, detail) = malformed(r#"{"foo":1}"#);
    assert!(detail.contains("not a getOrder response"), "{detail}");
}

#[test]
fn error_bodies_are_api_errors_with_the_api_code() {
    let (op, code, message) = api_code(r#"{"Results":{"errorCode":"ES01-01","message":"Un-Authorised"}}"#);
    assert_eq!((op.as_str(), code.as_str(), message.as_str()), ("getOrder", "ES01-01", "Un-Authorised"));
    let shipping_error = r#"{"MessageModelList":[{"messageType":"ERROR","messageCode":"ORDER_EXT_API_UPDATE_ORDERSHIPPING_ERROR_011","message":"shippingDateの書式が不正です。","dataNumber":1,"shippingDetailId":null}]}"#;
    let (op, code, _) = api_code(shipping_error);
    assert_eq!((op.as_str(), code.as_str()), ("updateOrderShipping", "ORDER_EXT_API_UPDATE_ORDERSHIPPING_ERROR_011"));
    let search_error = r#"{"orderNumberList":null,"MessageModelList":[{"messageType":"ERROR","messageCode":"ORDER_EXT_API_SEARCH_ORDER_ERROR_011","message":"startDatetimeの書式が不正です。"}],"PaginationResponseModel":null}"#;
    assert_eq!(api_code(search_error).1, "ORDER_EXT_API_SEARCH_ORDER_ERROR_011");
    // A getOrder body where one order failed: the whole body is an API error, nothing dropped silently.
    let mut partial: serde_json::Value = serde_json::from_str(&fixture_text("cancelled.json")).expect("json");
    partial["MessageModelList"].as_array_mut().expect("list").push(serde_json::json!({
        "messageType": "ERROR", "messageCode": "ORDER_EXT_API_GET_ORDER_ERROR_001", "message": "失敗", "orderNumber": "999999-20250301-0000000999"
    }));
    let (op, code, _) = api_code(&partial.to_string());
    assert_eq!((op.as_str(), code.as_str()), ("getOrder", "ORDER_EXT_API_GET_ORDER_ERROR_001"));
}

#[test]
fn other_offsets_are_re_expressed_in_jst() {
    let text = with("/OrderModelList/0/orderDatetime", "2025-03-01T01:15:00+0000".into());
    let o = normalize("shop-1", &[body("x", &text)]).expect("normalizes").remove(0);
    assert_eq!(o.ordered_at.to_rfc3339(), "2025-03-01T10:15:00+09:00");
}

#[test]
fn warning_messages_do_not_fail_the_body() {
    let mut v: serde_json::Value = serde_json::from_str(&fixture_text("cancelled.json")).expect("json");
    v["MessageModelList"].as_array_mut().expect("list").push(serde_json::json!({
        "messageType": "WARNING", "messageCode": "ORDER_EXT_API_GET_ORDER_WARNING_101", "message": "警告"
    }));
    let orders = normalize("shop-1", &[body("x", &v.to_string())]).expect("normalizes");
    assert_eq!(orders.len(), 1);
}

#[test]
fn shared_examples() {
    let dir = std::path::Path::new(SHARED);
    assert!(dir.is_dir(), "shared examples folder missing: expected {SHARED} (shared/ beside the repo)");
    let mut seen = 0;
    for entry in std::fs::read_dir(dir).expect("readable") {
        let path = entry.expect("entry").path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_owned();
        if name == "SOURCES.txt" {
            continue; // provenance notes, not a body
        }
        let text = std::fs::read_to_string(&path).expect("readable");
        let result = normalize("shop-1", &[body(&name, &text)]);
        seen += 1;
        match name.as_str() {
            "getOrder_200_bkstorm_fixture.json" => {
                // Real (test-shop) getOrder output, pre-version-3 shape.
                let orders = result.expect("normalizes");
                assert_eq!(orders.len(), 1);
                let o = &orders[0];
                assert_eq!(o.order_id, "360238-20180724-00000810");
                assert_eq!((o.status, o.source_status.as_str()), (OrderStatus::ReadyToShip, "300"));
                assert_eq!(o.ordered_at.to_rfc3339(), "2018-07-24T16:01:22+09:00");
                assert_eq!(o.source_updated_at.to_rfc3339(), "2018-07-25T10:57:45+09:00");
                // No settlementMethodCode in this shape: the name decides.
                assert_eq!((o.payment_method, o.source_payment_method.as_str()), (PaymentMethod::Cod, "代金引換"));
                assert_eq!(
                    (o.delivery.method, o.delivery.source_method.as_str()),
                    (DeliveryMethod::Standard, "宅配便")
                );
                // goods 20, postage 100, COD fee 100, requestPrice 220.
                assert_eq!(o.totals, totals(20, 100, 100, 0, 220));
                assert_eq!(o.ship_to.postal_code, "1000000");
                assert_eq!(o.items.len(), 1);
                assert_eq!(
                    (o.items[0].sku.as_str(), o.items[0].quantity, o.items[0].unit_price),
                    ("mugtestc01", 1, 20)
                );
                assert_eq!(o.remarks, "[配送日時指定:]\n\n");
                assert!(o.shipments.is_empty() && o.tracking.is_empty() && !o.gift);
            }
            "searchOrder_400_official_doc_sample.json" => match result {
                Err(NormalizeError::Api { operation, code, .. }) => {
                    assert_eq!(operation, "searchOrder");
                    assert_eq!(code, "ORDER_EXT_API_SEARCH_ORDER_ERROR_009");
                }
                other => panic!("{name}: expected Api, got {other:?}"),
            },
            "searchOrder_200_official_doc_sample.json"
            | "confirmOrder_200_bkstorm_fixture.json"
            | "updateOrderShipping_200_bkstorm_fixture.json" => match result {
                Err(NormalizeError::Malformed { operation, detail, .. }) => {
                    assert!(name.starts_with(&operation), "{name}: {operation}");
                    assert!(detail.contains("not a getOrder response"), "{detail}");
                }
                other => panic!("{name}: expected Malformed, got {other:?}"),
            },
            // A file added later: it must give orders or a clear error, never a panic.
            _ => {
                if let Err(e) = result {
                    assert!(!e.to_string().is_empty());
                }
            }
        }
    }
    assert!(seen >= 5, "expected the five shared example bodies, saw {seen}");
}

const SECRET_NAME: &str = "秘密山田";

/// The cancelled fixture with one field replaced by a JSON value.
fn with(pointer: &str, value: serde_json::Value) -> String {
    let mut v: serde_json::Value = serde_json::from_str(&fixture_text("cancelled.json")).expect("json");
    *v.pointer_mut(pointer).expect("pointer exists") = value;
    v.to_string()
}

fn error_without_pii(text: &str, pii: &[&str]) -> NormalizeError {
    let e = normalize("shop-1", &[body("hostile", text)]).expect_err("must fail");
    let shown = format!("{e} {e:?}");
    for p in pii {
        assert!(!shown.contains(p), "error leaks {p:?}: {shown}");
    }
    e
}

#[test]
fn truncated_bodies_fail_cleanly() {
    let text = fixture_text("multi_item_card.json").replace("試験", SECRET_NAME);
    let cuts: Vec<usize> = text.char_indices().map(|(i, _)| i).filter(|i| *i < text.len() - 2).step_by(37).collect();
    for cut in cuts {
        let e = error_without_pii(&text[..cut], &[SECRET_NAME]);
        assert!(matches!(e, NormalizeError::Malformed { .. }), "cut {cut}: {e}");
    }
    for junk in ["", "null", "[]", "42", "\"x\"", "{", "<xml/>", "\u{0}"] {
        assert!(matches!(error_without_pii(junk, &[]), NormalizeError::Malformed { .. }), "{junk:?}");
    }
    let deep = "[".repeat(100_000);
    assert!(matches!(error_without_pii(&deep, &[]), NormalizeError::Malformed { .. }));
}

#[test]
fn wrong_types_name_the_field_not_the_value() {
    let e = error_without_pii(&with("/OrderModelList/0/orderProgress", SECRET_NAME.into()), &[SECRET_NAME]);
    assert!(e.to_string().contains("orderProgress"), "{e}");
    let e = error_without_pii(
        &with("/OrderModelList/0/OrdererModel/familyName", serde_json::json!(["秘密", 1])),
        &["秘密"],
    );
    assert!(e.to_string().contains("familyName"), "{e}");
    let e =
        error_without_pii(&with("/OrderModelList/0/PackageModelList/0/SenderModel/zipCode1", "秘密".into()), &["秘密"]);
    assert!(e.to_string().contains("zipCode"), "{e}");
    let e = error_without_pii(&with("/OrderModelList/0/orderDatetime", "2025/03/01 秘密".into()), &["秘密"]);
    assert!(e.to_string().contains("orderDatetime"), "{e}");
    let mut v: serde_json::Value = serde_json::from_str(&fixture_text("cancelled.json")).expect("json");
    v["OrderModelList"][0].as_object_mut().expect("object").remove("orderNumber");
    let e = error_without_pii(&v.to_string(), &[]);
    assert!(e.to_string().contains("orderNumber"), "{e}");
    let e = error_without_pii(&with("/OrderModelList/0/PackageModelList", serde_json::json!([])), &[]);
    assert!(e.to_string().contains("PackageModelList"), "{e}");
    let e = error_without_pii(&with("/OrderModelList/0/PackageModelList/0/SenderModel", serde_json::Value::Null), &[]);
    assert!(e.to_string().contains("SenderModel"), "{e}");
}

#[test]
fn huge_numbers_fail_without_overflow() {
    for (pointer, value) in [
        ("/OrderModelList/0/requestPrice", serde_json::json!(1e30)),
        ("/OrderModelList/0/requestPrice", serde_json::json!(u64::MAX)),
        ("/OrderModelList/0/requestPrice", serde_json::json!(i64::MAX)),
        ("/OrderModelList/0/couponAllTotalPrice", serde_json::json!(i64::MAX)),
        ("/OrderModelList/0/PointModel/usedPoint", serde_json::json!(i64::MAX)),
        ("/OrderModelList/0/postagePrice", serde_json::json!(i64::MAX)),
        ("/OrderModelList/0/PackageModelList/0/ItemModelList/0/units", serde_json::json!(i64::MAX)),
        ("/OrderModelList/0/PackageModelList/0/ItemModelList/0/units", serde_json::json!(0)),
        ("/OrderModelList/0/PackageModelList/0/ItemModelList/0/units", serde_json::json!(-1)),
        ("/OrderModelList/0/PackageModelList/0/ItemModelList/0/priceTaxIncl", serde_json::json!(i64::MAX)),
        ("/OrderModelList/0/shippingTerm", serde_json::json!(i64::MIN)),
    ] {
        let text = with(pointer, value.clone());
        let result = normalize("shop-1", &[body("huge", &text)]);
        if pointer.ends_with("shippingTerm") {
            // An unknown slot code is shown as such, not an error.
            assert!(result.is_ok(), "{pointer}: {result:?}");
        } else {
            assert!(result.is_err(), "{pointer} = {value}");
        }
    }
    let mut v: serde_json::Value = serde_json::from_str(&fixture_text("cancelled.json")).expect("json");
    v["OrderModelList"][0]["PackageModelList"][0]["ItemModelList"][0]["units"] = 4_000_000_000u64.into();
    v["OrderModelList"][0]["PackageModelList"][0]["ItemModelList"][0]["priceTaxIncl"] = i64::MAX.into();
    assert!(normalize("shop-1", &[body("huge", &v.to_string())]).is_err());
}

#[test]
fn control_characters_in_names_are_invalid_without_echo() {
    for pointer in [
        "/OrderModelList/0/OrdererModel/familyName",
        "/OrderModelList/0/PackageModelList/0/SenderModel/familyName",
        "/OrderModelList/0/PackageModelList/0/SenderModel/subAddress",
        "/OrderModelList/0/PackageModelList/0/ItemModelList/0/itemName",
    ] {
        let text = with(pointer, format!("{SECRET_NAME}\r\nBcc: victim@example.com").into());
        let e = error_without_pii(&text, &[SECRET_NAME, "victim"]);
        assert!(matches!(e, NormalizeError::Invalid { .. }), "{pointer}: {e}");
    }
    // Remarks may hold line breaks but not a bell.
    let e = error_without_pii(&with("/OrderModelList/0/remarks", format!("{SECRET_NAME}\u{7}").into()), &[SECRET_NAME]);
    assert!(matches!(e, NormalizeError::Invalid { .. }), "{e}");
}

#[test]
fn rakuten_confirm_flag_and_social_gift_placeholders_hold_open_orders() {
    let text = fixture_text("multi_item_card.json").replace("\"rakutenConfirmFlag\": 0", "\"rakutenConfirmFlag\": 1");
    let o = normalize("shop-1", &[body("x", &text)]).expect("normalizes").remove(0);
    assert_eq!(o.status, OrderStatus::OnHold);
    let mut v: serde_json::Value = serde_json::from_str(&fixture_text("multi_item_card.json")).expect("json");
    v["OrderModelList"][0]["socialGiftFlag"] = 1.into();
    v["OrderModelList"][0]["PackageModelList"][0]["SenderModel"]["subAddress"] = "入力待ち".into();
    let o = normalize("shop-1", &[body("x", &v.to_string())]).expect("normalizes").remove(0);
    assert_eq!(o.status, OrderStatus::OnHold);
    assert!(o.gift);
}
