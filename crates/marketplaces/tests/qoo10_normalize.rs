//! Qoo10 normalisation: our own fixtures (fictional data in the QAPI wire shape), the shared
//! examples folder, and hostile input.

// Test helpers may unwrap: a failure is a test failure.
#![allow(clippy::unwrap_used, clippy::expect_used)]
use std::path::{Path, PathBuf};

use chrono::{DateTime, FixedOffset, NaiveDate};
use ichigen_core::{Carrier, DeliveryMethod, ItemOption, Marketplace, Order, OrderStatus, PaymentMethod, Totals};
use ichigen_marketplaces::qoo10::normalize;
use ichigen_marketplaces::{Body, NormalizeError};

const SHOP: &str = "shop-qoo10-test";

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/qoo10")
}

fn body(name: &str) -> Body {
    let text = std::fs::read_to_string(fixtures().join(name)).unwrap();
    Body { name: name.to_owned(), text }
}

fn orders(names: &[&str]) -> Vec<Order> {
    let bodies: Vec<Body> = names.iter().map(|n| body(n)).collect();
    normalize(SHOP, &bodies).unwrap_or_else(|e| panic!("{names:?}: {e}"))
}

fn one(name: &str) -> Order {
    let mut v = orders(&[name]);
    assert_eq!(v.len(), 1, "{name}");
    v.remove(0)
}

fn jst(s: &str) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(s).unwrap()
}

fn err(name: &str) -> NormalizeError {
    normalize(SHOP, &[body(name)]).expect_err(name)
}

fn err_text(text: &str) -> NormalizeError {
    normalize(SHOP, &[Body { name: "hostile".into(), text: text.into() }]).expect_err("must be rejected")
}

fn malformed_detail(e: &NormalizeError) -> &str {
    match e {
        NormalizeError::Malformed { detail, marketplace, .. } => {
            assert_eq!(*marketplace, Marketplace::Qoo10);
            detail
        }
        other => panic!("expected Malformed, got {other}"),
    }
}

#[test]
fn multi_item_pack_is_one_order_with_all_fields() {
    let o = one("multi_item.json");
    assert_eq!(o.schema_version, 1);
    assert_eq!(o.shop_id, SHOP);
    assert_eq!(o.marketplace, Marketplace::Qoo10);
    assert_eq!(o.order_id, "900000101");
    assert_eq!(o.ordered_at, jst("2026-08-01T10:00:00+09:00"));
    assert_eq!(o.ordered_at.offset().local_minus_utc(), 9 * 3600);
    // No update time in the API: the latest time it gives (the second line's payment).
    assert_eq!(o.source_updated_at, jst("2026-08-01T10:02:00+09:00"));
    assert_eq!(o.status, OrderStatus::ReadyToShip);
    assert_eq!(o.source_status, "On request(2)", "the label as the API sends it");
    assert_eq!(o.buyer.name, "架空 花子");
    assert_eq!(o.buyer.name_kana.as_deref(), Some("カクウ ハナコ"));
    assert_eq!(o.buyer.email.as_deref(), Some("hanako@example.jp"));
    assert_eq!(o.buyer.phone.as_deref(), Some("+81-90-0000-0001"));
    let a = &o.ship_to;
    assert_eq!(
        (a.country.as_str(), a.postal_code.as_str(), a.prefecture.as_str(), a.city.as_str()),
        ("JP", "5300001", "大阪府", "大阪市北区")
    );
    assert_eq!((a.address1.as_str(), a.address2.as_str()), ("梅田", "1-1-1 架空ビル101"));
    assert_eq!(a.name, "架空 太郎");
    assert_eq!(a.phone.as_deref(), Some("+81-90-1111-0001"));
    assert!(o.shipments.is_empty());
    assert_eq!(o.items.len(), 2);
    let i = &o.items[0];
    assert_eq!((i.sku.as_str(), i.name.as_str(), i.quantity, i.unit_price), ("fk-tee-bk", "架空Tシャツ", 2, 1980));
    assert_eq!(i.options, vec![ItemOption { name: "色".into(), value: "黒".into() }]);
    let i = &o.items[1];
    assert_eq!((i.sku.as_str(), i.quantity, i.unit_price), ("fk-mug", 1, 1200));
    assert!(i.options.is_empty());
    assert_eq!(o.payment_method, PaymentMethod::CreditCard);
    assert_eq!(o.source_payment_method, "クレジットカード");
    assert_eq!(o.delivery.method, DeliveryMethod::Standard);
    assert_eq!(o.delivery.source_method, "宅配便");
    assert_eq!(o.delivery.requested_date, None);
    assert_eq!(o.delivery.requested_time_slot, None);
    // goods 1980×2 + 1200; shipping once (600, not per line); discount 200 (line).
    assert_eq!(
        o.totals,
        Totals { goods: 5160, shipping: 600, fee: 0, discount: 200, coupon: 0, points: 0, total: 5560 }
    );
    assert_eq!(o.remarks, "");
    assert!(!o.gift);
    assert!(o.tracking.is_empty());
    assert!(!o.fulfilled_by_marketplace);
}

#[test]
fn cod_order_with_string_numbers_status_label_and_time_slot() {
    let o = one("cod.json");
    assert_eq!(o.order_id, "900000201");
    assert_eq!(o.status, OrderStatus::ReadyToShip);
    assert_eq!(o.source_status, "Seller confirm(3)");
    assert_eq!(o.payment_method, PaymentMethod::Cod);
    assert_eq!(o.source_payment_method, "代金引換");
    assert_eq!(o.delivery.method, DeliveryMethod::Cool);
    assert_eq!(o.delivery.source_method, "クール便(冷蔵)");
    assert_eq!(o.delivery.requested_date, NaiveDate::from_ymd_opt(2026, 8, 5));
    assert_eq!(o.delivery.requested_time_slot.as_deref(), Some("14-16"));
    assert_eq!(o.totals, Totals { goods: 3240, shipping: 800, fee: 0, discount: 0, coupon: 0, points: 0, total: 4040 });
    assert_eq!(o.ordered_at, jst("2026-08-02T21:15:00+09:00"));
    assert_eq!(o.source_updated_at, o.ordered_at, "no other time given");
    let a = &o.ship_to;
    assert_eq!((a.postal_code.as_str(), a.prefecture.as_str(), a.city.as_str()), ("0600042", "北海道", "札幌市中央区"));
    assert_eq!((a.address1.as_str(), a.address2.as_str()), ("大通西", "1丁目2-3"));
    assert_eq!(a.phone.as_deref(), Some("+81-6-0000-0002"), "receiverTel when no mobile");
    assert_eq!(o.buyer.name_kana, None, "empty kana is absent");
    assert_eq!(o.buyer.phone.as_deref(), Some("+81-6-0000-0002"));
    assert_eq!(o.items[0].sku, "fk-cheese", "sellerItemCode when there is no optionCode");
}

#[test]
fn by_order_answer_with_a_cancel_claim_is_cancelled() {
    // GetShippingAndClaimInfoByOrderNo_V2: shipping and claim fields in one row, lower-case keys.
    let o = one("by_order_cancelled.json");
    assert_eq!(o.order_id, "900000301");
    assert_eq!(o.status, OrderStatus::Cancelled);
    assert_eq!(o.source_status, "3", "the claim status decided it, verbatim");
    assert_eq!(o.items.len(), 1);
    // No Addr1/Addr2 in this method: the address is split from shippingAddr.
    let a = &o.ship_to;
    assert_eq!((a.postal_code.as_str(), a.prefecture.as_str(), a.city.as_str()), ("5300001", "大阪府", "大阪市北区"));
    // No ShippingRate in this method either.
    assert_eq!(o.totals, Totals { goods: 1980, shipping: 0, fee: 0, discount: 0, coupon: 0, points: 0, total: 1980 });
    assert_eq!(o.ordered_at, jst("2026-08-03T09:00:00+09:00"));
}

#[test]
fn status_1_is_awaiting_payment_and_every_published_label_reads() {
    use serde_json::json;
    for (label, status) in [
        ("Awaiting shipping(1)", OrderStatus::AwaitingPayment),
        ("On Waiting(1)", OrderStatus::AwaitingPayment),
        ("On request(2)", OrderStatus::ReadyToShip),
        ("Seller confirm(3)", OrderStatus::ReadyToShip),
        ("On delivery(4)", OrderStatus::Shipped),
        ("Delivery(4)", OrderStatus::Shipped),
        ("Delivered(5)", OrderStatus::Shipped),
        ("Delivere(5)", OrderStatus::Shipped),
        // A bare code is still accepted.
        ("1", OrderStatus::AwaitingPayment),
        ("3", OrderStatus::ReadyToShip),
    ] {
        let mut v: serde_json::Value = serde_json::from_str(&body("gift_remarks.json").text).unwrap();
        v["ResultObject"][0]["shippingStatus"] = json!(label);
        let o = &normalize(SHOP, &[Body { name: "label".into(), text: v.to_string() }]).unwrap()[0];
        assert_eq!(o.status, status, "{label}");
        assert_eq!(o.source_status, label);
    }
}

#[test]
fn the_fact_sheets_published_example_maps() {
    // Fact sheet §10: the illustrative GetShippingInfo_v2 answer with `Seller confirm(3)`.
    let o = one("fact_sheet_example.json");
    assert_eq!(o.order_id, "900000001");
    assert_eq!(o.status, OrderStatus::ReadyToShip);
    assert_eq!(o.source_status, "Seller confirm(3)");
    assert_eq!(o.items[0].sku, "sku-001-bk");
    assert_eq!(o.totals, Totals { goods: 1980, shipping: 0, fee: 0, discount: 0, coupon: 0, points: 0, total: 1980 });
    assert_eq!((o.ship_to.prefecture.as_str(), o.ship_to.city.as_str()), ("大阪府", "大阪市北区"));
    assert_eq!(o.remarks, "置き配希望");
}

#[test]
fn seller_and_cart_discounts_count_and_hold_an_open_order() {
    use serde_json::json;
    let mut v: serde_json::Value = serde_json::from_str(&body("multi_item.json").text).unwrap();
    v["ResultObject"][0]["SellerDiscount"] = json!(300.0);
    v["ResultObject"][1]["SellerDiscount"] = json!(100.0);
    // A cart-level coupon shown on both rows of the pack counts once.
    v["ResultObject"][0]["Cart_Discount_Qoo10"] = json!(150.0);
    v["ResultObject"][1]["Cart_Discount_Qoo10"] = json!(150.0);
    let o = &normalize(SHOP, &[Body { name: "d".into(), text: v.to_string() }]).unwrap()[0];
    // 200 (discount) + 300 + 100 (SellerDiscount) + 150 (cart, once).
    assert_eq!(
        o.totals,
        Totals { goods: 5160, shipping: 600, fee: 0, discount: 750, coupon: 150, points: 0, total: 5010 }
    );
    assert_eq!(o.status, OrderStatus::OnHold, "how these combine is unverified: a person checks");
    assert_eq!(o.source_status, "On request(2)");
    // A shipped order keeps its status; its SellerDiscount still counts.
    let o = one("v3_shipped.json");
    assert_eq!(o.status, OrderStatus::Shipped);
    assert_eq!(
        o.totals,
        Totals { goods: 5500, shipping: 0, fee: 0, discount: 1000, coupon: 0, points: 0, total: 4500 }
    );
}

#[test]
fn shipped_order_has_tracking() {
    let o = one("shipped.json");
    assert_eq!(o.status, OrderStatus::Shipped);
    assert_eq!(o.source_status, "On delivery(4)");
    assert_eq!(o.tracking.len(), 1);
    assert_eq!(o.tracking[0].carrier, Carrier::Yamato);
    assert_eq!(o.tracking[0].number, "1234-5678-9012");
    assert_eq!(o.tracking[0].shipped_at, Some(jst("2026-07-29T16:45:00+09:00")));
    assert_eq!(o.source_updated_at, jst("2026-07-29T16:45:00+09:00"));
    assert_eq!(o.ordered_at, jst("2026-07-28T08:30:00+09:00"));
}

#[test]
fn gift_and_remarks_verbatim() {
    let o = one("gift_remarks.json");
    assert!(o.gift);
    assert_eq!(o.remarks, "のし不要です。\n不在時は宅配ボックスへ");
    assert_eq!(o.delivery.requested_date, NaiveDate::from_ymd_opt(2026, 8, 10));
    assert_eq!(o.delivery.requested_time_slot, None);
}

#[test]
fn one_pack_two_destinations_become_shipments() {
    let o = one("multi_destination.json");
    assert_eq!(o.order_id, "900000601");
    assert_eq!(o.shipments.len(), 2);
    assert_eq!(o.ship_to, o.shipments[0].ship_to);
    assert_eq!(o.shipments[0].ship_to.name, "架空 太郎");
    let second = &o.shipments[1].ship_to;
    assert_eq!((second.name.as_str(), second.postal_code.as_str()), ("架空 三郎", "1000001"));
    assert_eq!(
        (second.prefecture.as_str(), second.city.as_str(), second.address1.as_str()),
        ("東京都", "千代田区", "千代田")
    );
    assert_eq!(second.address2, "1-1 架空ハウス2F");
    assert_eq!(o.shipments[0].items.len(), 1);
    assert_eq!(o.shipments[1].items.len(), 1);
    assert_eq!(o.items.len(), 2);
    assert_eq!(o.totals, Totals { goods: 3960, shipping: 600, fee: 0, discount: 0, coupon: 0, points: 0, total: 4560 });
}

#[test]
fn rows_group_by_pack_and_cancelled_lines_of_live_packs_drop() {
    let v = orders(&["several_packs.json"]);
    assert_eq!(v.iter().map(|o| o.order_id.as_str()).collect::<Vec<_>>(), ["900000701", "900000801"]);
    assert_eq!(v[0].items.len(), 2);
    assert_eq!(v[1].status, OrderStatus::AwaitingPayment, "status 1: an unpaid order");
    assert_eq!(v[1].source_status, "Awaiting shipping(1)");
    // The by-order read of the second line of pack 900000701 reports it cancelled: it replaces the
    // search row and is left out of the pack, which stays ready to ship.
    let v = orders(&["several_packs.json", "by_order_line_cancelled.json"]);
    assert_eq!(v[0].order_id, "900000701");
    assert_eq!(v[0].items.len(), 1, "the cancelled line is left out");
    assert_eq!(v[0].status, OrderStatus::ReadyToShip);
    assert_eq!(v[0].totals.goods, 1980);
}

#[test]
fn bodies_merge_and_a_repeated_order_line_replaces_the_earlier() {
    let v = orders(&["multi_item.json", "several_packs.json", "multi_item.json"]);
    assert_eq!(v.len(), 3);
    assert_eq!(v[0].order_id, "900000101");
    assert_eq!(v[0].items.len(), 2, "no duplicated lines");
}

#[test]
fn v3_pascal_case_names() {
    let o = one("v3_shipped.json");
    assert_eq!(o.order_id, "900000901");
    assert_eq!(o.status, OrderStatus::Shipped);
    assert_eq!(o.source_status, "On delivery(4)");
    assert_eq!(o.buyer.name_kana.as_deref(), Some("カクウ シロウ"));
    assert_eq!(o.payment_method, PaymentMethod::ConvenienceStore);
    assert_eq!(o.delivery.method, DeliveryMethod::MailBin);
    // Discount 500 + SellerDiscount 500 (fact sheet §6: shop-funded and mall-funded add up).
    assert_eq!(
        o.totals,
        Totals { goods: 5500, shipping: 0, fee: 0, discount: 1000, coupon: 0, points: 0, total: 4500 }
    );
    assert_eq!(o.tracking[0].carrier, Carrier::Sagawa);
    assert_eq!(o.tracking[0].number, "400000000009");
    let a = &o.ship_to;
    assert_eq!(
        (a.postal_code.as_str(), a.prefecture.as_str(), a.city.as_str(), a.address1.as_str(), a.address2.as_str()),
        ("8120011", "福岡県", "福岡市博多区", "博多駅前", "1-1-1")
    );
}

#[test]
fn xml_answer_single_element_is_a_list_of_one() {
    let o = one("shipping.xml");
    assert_eq!(o.order_id, "900001101");
    assert_eq!(o.items[0].name, "架空ペン & ノート");
    assert_eq!(o.items[0].sku, "fk-pen");
    assert_eq!((o.items[0].quantity, o.items[0].unit_price), (4, 550));
    assert_eq!(o.payment_method, PaymentMethod::BankTransfer);
    assert_eq!(o.delivery.method, DeliveryMethod::MailBin);
    assert_eq!(
        o.totals,
        Totals { goods: 2200, shipping: 200, fee: 0, discount: 100, coupon: 100, points: 0, total: 2300 }
    );
    assert_eq!(o.ordered_at, jst("2026-08-06T07:10:00+09:00"));
}

#[test]
fn xml_several_rows_and_other_payloads() {
    let one_row = body("shipping.xml").text;
    let start = one_row.find("<ShippingInfo>").unwrap();
    let end = one_row.find("</ShippingInfo>").unwrap() + "</ShippingInfo>".len();
    let row = &one_row[start..end];
    let second = row.replace("1000001101", "1000001102").replace("<orderQty>4</orderQty>", "<orderQty>1</orderQty>");
    let two = one_row.replace(row, &format!("{row}{second}"));
    let v = normalize(SHOP, &[Body { name: "two.xml".into(), text: two }]).unwrap();
    assert_eq!(v.len(), 1);
    assert_eq!(v[0].items.len(), 2);
    assert_eq!(v[0].totals.goods, 2750);
    // A certification-key answer (text payload) or rows under an unknown element name must not
    // read as an empty search.
    for payload in ["EXAMPLE_SAK", "<Order><orderNo>1</orderNo></Order>"] {
        let text = format!(
            "<r><ResultCode>0</ResultCode><ResultMsg>SUCCESS</ResultMsg><ResultObject>{payload}</ResultObject></r>"
        );
        let e = err_text(&text);
        assert!(malformed_detail(&e).contains("ResultObject"), "{e}");
        assert!(!e.to_string().contains("EXAMPLE_SAK"));
    }
    let empty = "<r><ResultCode>0</ResultCode><ResultMsg>SUCCESS</ResultMsg><ResultObject /></r>";
    assert!(normalize(SHOP, &[Body { name: "empty.xml".into(), text: empty.into() }]).unwrap().is_empty());
}

#[test]
fn numbers_in_text_fields_and_utc_times() {
    use serde_json::json;
    let mut v: serde_json::Value = serde_json::from_str(&body("shipped.json").text).unwrap();
    v["ResultObject"][0]["sellerItemCode"] = json!(4901234567894u64);
    v["ResultObject"][0]["optionCode"] = json!(null);
    v["ResultObject"][0]["orderDate"] = json!("2026-07-27T23:30:00Z");
    let o = &normalize(SHOP, &[Body { name: "n".into(), text: v.to_string() }]).unwrap()[0];
    assert_eq!(o.items[0].sku, "4901234567894");
    assert_eq!(o.ordered_at, jst("2026-07-28T08:30:00+09:00"));
    assert_eq!(o.ordered_at.offset().local_minus_utc(), 9 * 3600);
}

#[test]
fn empty_search_is_no_orders() {
    assert!(orders(&["empty.json"]).is_empty());
    assert!(normalize(SHOP, &[]).unwrap().is_empty());
}

#[test]
fn error_envelopes_are_api_errors_with_the_apis_code() {
    for (name, code, msg) in [
        ("error_auth.json", "-10000", "Invalid authentication key"),
        ("error_period.json", "-10002", "検索期間は90日以内で指定してください。"),
        ("error.xml", "-90001", "存在しないAPIです。"),
        ("plain_text_error.txt", "none", "Can't find service Name ShippingBasicX"),
    ] {
        match err(name) {
            NormalizeError::Api { marketplace, code: c, message, operation } => {
                assert_eq!(marketplace, Marketplace::Qoo10);
                assert_eq!((c.as_str(), message.as_str()), (code, msg), "{name}");
                assert!(operation.contains("GetShippingInfo"));
            }
            other => panic!("{name}: expected Api, got {other}"),
        }
    }
}

#[test]
fn answers_of_other_operations_are_malformed() {
    for name in ["other_op_certification_key.json", "other_op_set_sending_info.json"] {
        let e = err(name);
        let d = malformed_detail(&e);
        assert!(d.contains("ResultObject"), "{name}: {d}");
        assert!(!e.to_string().contains("EXAMPLE_SAK"), "{e}");
    }
}

#[test]
fn keys_match_case_insensitively() {
    // Fact sheet §6: match keys case-insensitively (`OrderDATE` is `orderDate`).
    let o = one("wrong_case_key.json");
    assert_eq!(o.ordered_at, jst("2026-08-01T10:00:00+09:00"));
    // Two spellings of one key: an empty one does not hide the one with a value.
    use serde_json::json;
    let mut v: serde_json::Value = serde_json::from_str(&body("shipped.json").text).unwrap();
    v["ResultObject"][0]["trackingNo"] = json!("");
    v["ResultObject"][0]["TRACKINGNO"] = json!(null);
    let o = &normalize(SHOP, &[Body { name: "k".into(), text: v.to_string() }]).unwrap()[0];
    assert_eq!(o.tracking[0].number, "1234-5678-9012");
}

// ---- The shared examples folder -------------------------------------------------------------

#[test]
fn shared_examples() {
    let dir = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/marketplaces/examples/qoo10"));
    assert!(dir.is_dir(), "shared examples folder missing: {} (CI must have shared/ beside the repo)", dir.display());
    let sources = std::fs::read_to_string(dir.join("SOURCES.txt")).expect("SOURCES.txt in the shared examples folder");
    let mut bodies: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().is_some_and(|n| n != "SOURCES.txt"))
        .collect();
    bodies.sort();
    // Whatever is there must map or fail cleanly, never panic.
    for p in &bodies {
        let text = std::fs::read_to_string(p).unwrap();
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        match normalize(SHOP, &[Body { name: name.clone(), text }]) {
            Ok(v) => v.iter().for_each(|o| assert_eq!(o.validate(), Ok(()), "{name}")),
            Err(NormalizeError::Api { .. } | NormalizeError::Malformed { .. }) => {}
            Err(e) => panic!("{name}: {e}"),
        }
    }
    // SOURCES.txt says no real responses exist; new files need their own assertions here.
    assert!(sources.contains("no payload files"), "SOURCES.txt changed; review the examples test");
    assert!(bodies.is_empty(), "new shared example files {bodies:?}: add assertions for them");
}

// ---- Hostile input --------------------------------------------------------------------------

/// Personal data in our fixtures that no error may echo.
const PII: [&str; 8] = ["架空", "カクウ", "example.jp", "+81", "梅田", "札幌", "1-1-1", "hanako"];

fn assert_no_pii(e: &NormalizeError) {
    for s in [e.to_string(), format!("{e:?}")] {
        for p in PII {
            assert!(!s.contains(p), "error echoes personal data {p:?}: {s}");
        }
    }
}

#[test]
fn truncated_bodies_fail_cleanly() {
    let names = ["multi_item.json", "cod.json", "v3_shipped.json", "shipping.xml", "error_auth.json"];
    for name in names {
        let text = body(name).text.trim_end().to_owned();
        let cuts: Vec<usize> = text.char_indices().map(|(i, _)| i).filter(|i| i % 7 == 0 || *i < 40).collect();
        for cut in cuts {
            let r = normalize(SHOP, &[Body { name: name.into(), text: text[..cut].to_owned() }]);
            match r {
                Err(e) => assert_no_pii(&e),
                Ok(v) => panic!("{name} cut at {cut} gave {} orders", v.len()),
            }
        }
    }
}

fn with_row_field(key: &str, value: serde_json::Value) -> String {
    let mut v: serde_json::Value = serde_json::from_str(&body("multi_item.json").text).unwrap();
    v["ResultObject"][0][key] = value;
    v.to_string()
}

#[test]
fn wrong_types_name_the_field_not_the_value() {
    use serde_json::json;
    for (key, value, field) in [
        ("orderQty", json!({"n": 1}), "orderQty"),
        ("buyer", json!(true), "buyer"),
        ("receiver", json!(["架空 太郎"]), "receiver"),
        ("orderPrice", json!("架空円"), "orderPrice"),
        ("orderPrice", json!(-1980), "orderPrice"),
        ("orderQty", json!(0), "orderQty"),
        ("orderQty", json!(1.5), "orderQty"),
        ("orderNo", json!("A-架空"), "orderNo"),
        ("zipCode", json!("架空-0001"), "zipCode"),
        ("orderDate", json!("2026-02-30 10:00:00"), "orderDate"),
        ("hopeDate", json!("架空の日"), "hopeDate"),
        ("shippingStatus", json!("配送中"), "shippingStatus"),
        ("shippingStatus", json!("99"), "shippingStatus"),
        ("Currency", json!("USD"), "Currency"),
        ("discount", json!(999999.0), "discount"),
    ] {
        let e = err_text(&with_row_field(key, value.clone()));
        let d = malformed_detail(&e).to_ascii_lowercase();
        assert!(d.contains(&field.to_ascii_lowercase()), "{key}={value}: {d}");
        assert_no_pii(&e);
    }
    for text in [
        r#"{"ResultCode": "zero", "ResultMsg": "SUCCESS", "ResultObject": []}"#,
        r#"{"ResultCode": 0, "ResultMsg": "SUCCESS", "ResultObject": 17}"#,
        r#"{"ResultCode": 0, "ResultMsg": "SUCCESS", "ResultObject": ["架空"]}"#,
        r#"{"ResultCode": [0], "ResultMsg": "SUCCESS", "ResultObject": []}"#,
        r#"{"ResultMsg": "SUCCESS", "ResultObject": []}"#,
        r#"["架空"]"#,
        "架空 太郎",
        "",
    ] {
        let e = err_text(text);
        malformed_detail(&e);
        assert_no_pii(&e);
    }
}

#[test]
fn huge_numbers_are_rejected_without_overflow() {
    use serde_json::json;
    for (key, value) in [
        ("orderPrice", json!(1e300)),
        ("orderPrice", json!(99_999_999_999_999u64)),
        ("orderPrice", json!("123456789012345678901234567890")),
        ("orderQty", json!(99_999_999_999u64)),
        ("orderNo", json!(1e30)),
        ("packNo", json!(-5)),
        ("ShippingRate", json!(1e19)),
        ("Cart_Discount_Qoo10", json!("9223372036854775807")),
    ] {
        let text = with_row_field(key, value.clone());
        let e = err_text(&text);
        assert!(matches!(e, NormalizeError::Malformed { .. } | NormalizeError::Invalid { .. }), "{key}={value}: {e}");
        assert_no_pii(&e);
    }
    // Large but well-formed: over the canonical limit → Invalid, naming the field.
    let e = err_text(&with_row_field("orderPrice", json!(200_000_000)));
    assert!(matches!(&e, NormalizeError::Invalid { order_id, .. } if order_id == "900000101"), "{e}");
    assert!(e.to_string().contains("items[0].unit_price"), "{e}");
    let e = err_text(r#"{"ResultCode": 1e100, "ResultMsg": "x", "ResultObject": []}"#);
    assert_eq!(malformed_detail(&e), "ResultCode is not an integer");
}

#[test]
fn control_characters_in_names_are_invalid_without_echo() {
    use serde_json::json;
    for (key, path) in [("receiver", "ship_to.name"), ("buyer", "buyer.name"), ("itemTitle", "items[0].name")] {
        let e = err_text(&with_row_field(key, json!("架空\r\nBcc: hanako@example.jp")));
        match &e {
            NormalizeError::Invalid { source, .. } => assert_eq!(source.field, path),
            other => panic!("{key}: expected Invalid, got {other}"),
        }
        assert_no_pii(&e);
    }
    let e = err_text(&with_row_field("ShippingMsg", json!("架空\u{7}ベル")));
    assert!(matches!(&e, NormalizeError::Invalid { source, .. } if source.field == "remarks"), "{e}");
}

#[test]
fn deep_nesting_and_junk_do_not_crash() {
    let deep_json =
        format!(r#"{{"ResultCode":0,"ResultObject":[{{"x":{}1{}}}]}}"#, "[".repeat(100_000), "]".repeat(100_000));
    malformed_detail(&err_text(&deep_json));
    let deep_xml = format!(
        "<r><ResultCode>0</ResultCode><ResultObject><ShippingInfo>{}{}</ShippingInfo></ResultObject></r>",
        "<a>".repeat(20_000),
        "</a>".repeat(20_000)
    );
    let _ = normalize(SHOP, &[Body { name: "deep.xml".into(), text: deep_xml }]);
    for junk in
        ["<", "<<<>>>", "<r><ResultCode>0</ResultCode><ResultObject><ShippingInfo>", "{\"ResultCode\":0,", "\u{feff}{"]
    {
        let e = err_text(junk);
        malformed_detail(&e);
    }
}

#[test]
fn large_answers_group_in_linear_time_and_oversized_packs_are_invalid() {
    let v: serde_json::Value = serde_json::from_str(&body("shipped.json").text).unwrap();
    let row = v["ResultObject"][0].clone();
    let rows: Vec<serde_json::Value> = (0..3000u64)
        .map(|i| {
            let mut r = row.clone();
            r["orderNo"] = serde_json::json!(2_000_000_000 + i);
            r["packNo"] = serde_json::json!(800_000_000 + i);
            r
        })
        .collect();
    let text = serde_json::json!({"ResultCode": 0, "ResultMsg": "SUCCESS", "ResultObject": rows}).to_string();
    assert_eq!(normalize(SHOP, &[Body { name: "big".into(), text }]).unwrap().len(), 3000);
    let rows: Vec<serde_json::Value> = (0..1001u64)
        .map(|i| {
            let mut r = row.clone();
            r["orderNo"] = serde_json::json!(2_000_000_000 + i);
            r
        })
        .collect();
    let text = serde_json::json!({"ResultCode": 0, "ResultMsg": "SUCCESS", "ResultObject": rows}).to_string();
    let e = err_text(&text);
    assert!(matches!(&e, NormalizeError::Invalid { source, .. } if source.field == "items"), "{e}");
}

/// Found by fuzzing (fuzz/regressions/qoo10): an XML body broken inside a row makes an element
/// name out of the text that follows, buyer data included; the error named that element.
#[test]
fn a_broken_xml_row_is_reported_without_the_text_that_follows() {
    let text = "<?xml version=\"1.0\" encoding=\"utf-8\"?><ShippingBasicResult><ResultCode>0</ResultCode>\
        <ResultObject><ShippingInfo><orderNo>1000001101</orderNo>\
        <buyer_gat行振込\",\"buyer\":\"山田花子\"><x></buyer_gat行振込\",\"buyer\":\"山田花子\">\
        </ShippingInfo></ResultObject></ShippingBasicResult>";
    let e = err_text(text);
    let detail = malformed_detail(&e);
    assert!(!detail.contains("山田花子"), "{detail}");
    assert!(detail.contains("ResultObject.ShippingInfo[0]"), "{detail}");
    // The minimised input: an element name that looks like a field name is not echoed either.
    let e = err_text("<><FUZZMARKER>");
    assert!(!malformed_detail(&e).contains("FUZZMARKER"), "{}", malformed_detail(&e));
}
