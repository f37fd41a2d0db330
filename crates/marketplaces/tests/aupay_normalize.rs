//! au PAY マーケット normalisation: own fixtures, the shared examples, hostile input.

use std::path::Path;

use ichigen_core::{Carrier, DeliveryMethod, ItemOption, Order, OrderStatus, PaymentMethod, Totals};
use ichigen_marketplaces::aupay::normalize;
use ichigen_marketplaces::{Body, NormalizeError};

const SHOP: &str = "shop-au-1";

fn fixture(name: &str) -> Body {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/aupay").join(name);
    Body { name: name.into(), text: std::fs::read_to_string(&path).expect("fixture") }
}

fn body(text: &str) -> Body {
    Body { name: "inline".into(), text: text.into() }
}

fn one(name: &str) -> Order {
    let mut orders = normalize(SHOP, &[fixture(name)]).expect("normalizes");
    assert_eq!(orders.len(), 1, "{name}");
    orders.remove(0)
}

fn malformed(text: &str) -> String {
    match normalize(SHOP, &[body(text)]) {
        Err(e @ NormalizeError::Malformed { .. }) => e.to_string(),
        other => panic!("expected Malformed, got {other:?}"),
    }
}

fn opt(name: &str, value: &str) -> ItemOption {
    ItemOption { name: name.into(), value: value.into() }
}

#[test]
fn several_orders_per_body_and_several_lines_per_order() {
    let orders = normalize(SHOP, &[fixture("list_two_orders.xml")]).unwrap();
    assert_eq!(orders.len(), 2);
    let a = &orders[0];
    assert_eq!(a.schema_version, 1);
    assert_eq!(a.shop_id, SHOP);
    assert_eq!(a.marketplace, ichigen_core::Marketplace::Aupay);
    assert_eq!(a.order_id, "400000101");
    assert_eq!(a.ordered_at.to_rfc3339(), "2026-08-01T10:05:00+09:00");
    assert_eq!(a.source_updated_at, a.ordered_at);
    assert_eq!(a.status, OrderStatus::ReadyToShip);
    assert_eq!(a.source_status, "発送待ち");
    assert_eq!(a.payment_method, PaymentMethod::CreditCard);
    assert_eq!(a.source_payment_method, "クレジットカード決済");
    assert_eq!(a.buyer.name, "試験 花子");
    assert_eq!(a.buyer.name_kana.as_deref(), Some("シケン ハナコ"));
    assert_eq!(a.buyer.email.as_deref(), Some("hanako.test@example.jp"));
    assert_eq!(a.buyer.phone.as_deref(), Some("0300000000"));
    // Ship-to is the sender* block, postal code without hyphen, split by the postal table.
    assert_eq!(a.ship_to.country, "JP");
    assert_eq!(a.ship_to.postal_code, "5300001");
    assert_eq!(a.ship_to.prefecture, "大阪府");
    assert_eq!(a.ship_to.city, "大阪市北区");
    assert_eq!(a.ship_to.address1, "梅田9-9-9 テストビル101");
    assert_eq!(a.ship_to.name, "試験 太郎");
    assert_eq!(a.ship_to.phone.as_deref(), Some("0600000000"));
    assert!(a.shipments.is_empty());
    assert_eq!(a.items.len(), 2);
    assert_eq!(a.items[0].sku, "tea-001-kinmokusei");
    assert_eq!(a.items[0].name, "試験用 紅茶 100g");
    assert_eq!((a.items[0].quantity, a.items[0].unit_price), (2, 1500));
    assert_eq!(a.items[0].options, vec![opt("香り", "金木犀")]);
    assert_eq!(a.items[1].sku, "cup-002", "empty itemManagementId falls back to itemCode");
    assert_eq!((a.items[1].quantity, a.items[1].unit_price), (1, 800));
    assert!(a.items[1].options.is_empty());
    assert_eq!(a.delivery.method, DeliveryMethod::Standard);
    assert_eq!(a.delivery.source_method, "宅配便");
    assert_eq!(a.delivery.requested_date, None);
    assert_eq!(a.delivery.requested_time_slot, None);
    assert_eq!(
        a.totals,
        Totals { goods: 3800, shipping: 600, fee: 0, discount: 300, coupon: 200, points: 100, total: 4100 }
    );
    assert_eq!(a.remarks, "");
    assert!(!a.gift && a.tracking.is_empty() && !a.fulfilled_by_marketplace);

    // The second order: cash on delivery, the COD fee in `fee`.
    let b = &orders[1];
    assert_eq!(b.order_id, "400000102");
    assert_eq!(b.ordered_at.to_rfc3339(), "2026-08-01T23:59:00+09:00");
    assert_eq!(b.status, OrderStatus::New);
    assert_eq!(b.source_status, "新規受付");
    assert_eq!(b.payment_method, PaymentMethod::Cod);
    assert_eq!(b.source_payment_method, "代金引換");
    assert_eq!(b.delivery.method, DeliveryMethod::Standard);
    assert_eq!(b.delivery.source_method, "宅急便");
    assert_eq!(b.ship_to.postal_code, "1000001");
    assert_eq!((b.ship_to.prefecture.as_str(), b.ship_to.city.as_str()), ("東京都", "千代田区"));
    assert_eq!(b.totals, Totals { goods: 2980, shipping: 0, fee: 330, discount: 0, coupon: 0, points: 0, total: 3310 });
}

#[test]
fn cancelled_order() {
    let o = one("cancelled.xml");
    assert_eq!(o.status, OrderStatus::Cancelled);
    assert_eq!(o.source_status, "キャンセル");
    assert_eq!(o.payment_method, PaymentMethod::MarketplacePay);
    assert_eq!(o.source_payment_method, "au PAY（auかんたん決済）");
    assert_eq!(o.delivery.method, DeliveryMethod::MailBin);
    assert_eq!(o.totals, Totals { goods: 1000, shipping: 0, fee: 0, discount: 0, coupon: 0, points: 0, total: 1000 });
}

#[test]
fn shipped_order_with_tracking() {
    let o = one("shipped.xml");
    assert_eq!(o.status, OrderStatus::Shipped);
    assert_eq!(o.source_status, "完了");
    assert_eq!(o.ordered_at.to_rfc3339(), "2026-08-03T08:30:00+09:00");
    // No update time in the API: the latest time given (here the shipping date).
    assert_eq!(o.source_updated_at.to_rfc3339(), "2026-08-04T00:00:00+09:00");
    assert_eq!(o.tracking.len(), 1);
    assert_eq!(o.tracking[0].carrier, Carrier::Yamato);
    assert_eq!(o.tracking[0].number, "1234-5678-9012");
    assert_eq!(o.tracking[0].shipped_at.map(|t| t.to_rfc3339()).as_deref(), Some("2026-08-04T00:00:00+09:00"));
    assert_eq!(o.items[0].sku, "bag-7-red");
    assert_eq!(o.items[0].options, vec![opt("色", "赤")]);
    assert_eq!(
        o.totals,
        Totals { goods: 5000, shipping: 0, fee: 0, discount: 500, coupon: 0, points: 500, total: 4500 }
    );
}

#[test]
fn gift_and_remarks_verbatim() {
    let o = one("gift_remarks.xml");
    assert_eq!(o.status, OrderStatus::AwaitingPayment);
    assert_eq!(o.source_status, "与信待ち");
    assert!(o.gift);
    assert_eq!(o.remarks, "午前中希望\n不在時は宅配ボックスへ");
    assert_eq!(o.ship_to.postal_code, "1000001", "〒 and a full-width hyphen are stripped");
    assert_eq!(o.ship_to.name, "受取 六郎");
    assert_eq!(o.ship_to.phone.as_deref(), Some("09000000000"));
    assert_eq!(o.buyer.name, "贈答 五子");
    assert_eq!(o.delivery.method, DeliveryMethod::Cool);
    assert_eq!(o.delivery.source_method, "クール便（冷蔵）");
    assert_eq!(
        o.items[0].options,
        vec![opt("ラッピング", "包装紙"), opt("熨斗名入れ1", "贈答"), opt("ギフトメッセージ", "お誕生日 おめでとう")]
    );
    // Gift wrapping is part of totalPrice beyond goods + postage: it lands in `fee`.
    assert_eq!(
        o.totals,
        Totals { goods: 3000, shipping: 1000, fee: 300, discount: 0, coupon: 0, points: 0, total: 4300 }
    );
}

#[test]
fn shop_defined_status_is_held_and_goods_fall_back_to_the_lines() {
    let o = one("custom_status.xml");
    assert_eq!(o.status, OrderStatus::OnHold);
    assert_eq!(o.source_status, "店舗確認中");
    assert_eq!(o.payment_method, PaymentMethod::BankTransfer);
    assert_eq!(o.delivery.method, DeliveryMethod::Other);
    assert_eq!(o.delivery.source_method, "");
    assert_eq!(o.totals, Totals { goods: 1200, shipping: 0, fee: 0, discount: 0, coupon: 0, points: 0, total: 1200 });
}

#[test]
fn error_envelope_is_an_api_error_with_its_code() {
    match normalize(SHOP, &[fixture("error_auth.xml")]) {
        Err(NormalizeError::Api { code, message, operation, .. }) => {
            assert_eq!(code, "0002");
            assert_eq!(message, "認証に失敗しました");
            assert_eq!(operation, "searchTradeInfoListProc");
        }
        other => panic!("expected Api, got {other:?}"),
    }
    let e = normalize(
        SHOP,
        &[body(
            "<response><result><status>1</status><error><code>CME0022</code><message>[shopId]不正</message></error></result></response>",
        )],
    );
    assert!(matches!(e, Err(NormalizeError::Api { ref code, .. }) if code == "CME0022"), "{e:?}");
}

#[test]
fn no_hits_is_empty_and_other_operations_are_malformed() {
    assert_eq!(normalize(SHOP, &[fixture("no_hits.xml")]).unwrap(), vec![]);
    assert_eq!(normalize(SHOP, &[]).unwrap(), vec![]);
    let m = normalize(SHOP, &[fixture("update_ok.xml")]).unwrap_err().to_string();
    assert!(m.contains("searchTradeInfoListProc") && m.contains("resultCount"), "{m}");
    let m = malformed(r#"{"result":{"status":0}}"#);
    assert!(m.contains("root element"), "{m}");
    let m = malformed("<request><shopId>1</shopId></request>");
    assert!(m.contains("<response>"), "{m}");
}

#[test]
fn several_bodies_are_concatenated_in_order() {
    let orders =
        normalize(SHOP, &[fixture("list_two_orders.xml"), fixture("no_hits.xml"), fixture("shipped.xml")]).unwrap();
    let ids: Vec<&str> = orders.iter().map(|o| o.order_id.as_str()).collect();
    assert_eq!(ids, ["400000101", "400000102", "400000301"]);
}

#[test]
fn shared_examples() {
    let dir = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/marketplaces/examples/aupay"));
    assert!(dir.is_dir(), "shared examples folder {} is missing (CI keeps shared/ beside the repo)", dir.display());
    let mut seen = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name == "SOURCES.txt" {
            continue;
        }
        seen += 1;
        let text = std::fs::read_to_string(&path).unwrap();
        let result = normalize(SHOP, &[Body { name: name.clone(), text }]);
        match name.as_str() {
            // Hand-written fixture without address or item code/price: clearly malformed.
            "searchTradeInfoListProc_fixture_bfaith.xml" => match result {
                Err(NormalizeError::Malformed { operation, detail, .. }) => {
                    assert_eq!(operation, "searchTradeInfoListProc");
                    assert_eq!(detail, "orderInfo.senderAddress is missing");
                }
                other => panic!("{name}: expected Malformed, got {other:?}"),
            },
            // Any file added later: never a panic; an order must be valid.
            _ => {
                if let Ok(orders) = result {
                    for o in orders {
                        o.validate().unwrap();
                    }
                }
            }
        }
    }
    assert!(seen > 0, "no example files in {}", dir.display());
}

/// A valid one-order body with `name`, `zip` and `unit` substituted.
fn order_with(name: &str, zip: &str, unit: &str, price: &str) -> String {
    format!(
        "<response><result><status>0</status></result><resultCount>1</resultCount><orderInfo>\
         <orderId>400000901</orderId><orderDate>2026/08/01 10:00</orderDate><orderStatus>新規受付</orderStatus>\
         <ordererName>{name}</ordererName><senderName>{name}</senderName><senderZipCode>{zip}</senderZipCode>\
         <senderAddress>東京都千代田区千代田9-9 秘密荘</senderAddress><settlementName>クレジットカード決済</settlementName>\
         <totalPrice>{price}</totalPrice><detail><itemCode>x-1</itemCode><itemName>{name}</itemName>\
         <itemPrice>{price}</itemPrice><unit>{unit}</unit></detail></orderInfo></response>"
    )
}

#[test]
fn hostile_input_is_an_error_without_personal_data() {
    const PII: [&str; 4] = ["秘密", "機密花子", "0399999999", "9999999"];
    let check = |text: &str| {
        let e = normalize(SHOP, &[body(text)]).expect_err("must be rejected");
        let msg = e.to_string();
        for p in PII {
            assert!(!msg.contains(p), "error text leaks personal data: {msg}");
        }
        assert!(!matches!(e, NormalizeError::Api { .. }), "{msg}");
        e
    };
    // The base body is valid.
    assert_eq!(normalize(SHOP, &[body(&order_with("機密花子", "1000001", "1", "100"))]).unwrap().len(), 1);
    let full = order_with("機密花子", "1000001", "1", "100");
    // Truncated at every char boundary: an error or (never) a panic.
    for (i, _) in full.char_indices().step_by(7) {
        if let Err(e) = normalize(SHOP, &[body(&full[..i])]) {
            let msg = e.to_string();
            assert!(!PII.iter().any(|p| msg.contains(p)), "{msg}");
        }
    }
    check(&full[..full.len() / 2]);
    check("");
    check("   ");
    check("<response><result><status>0</status></result><resultCount>1</resultCount><orderInfo>");
    check("<response><orderInfo><orderId>1</orderId></orderInfo></response>");
    // Wrong types and impossible values.
    check(&order_with("機密花子", "1000001", "two", "100"));
    check(&order_with("機密花子", "1000001", "-1", "100"));
    check(&order_with("機密花子", "1000001", "1", "-100"));
    check(&order_with("機密花子", "1000001", "1", "1.5"));
    check(&order_with("機密花子", "99999999", "1", "100"));
    check(&order_with("機密花子", "秘密", "1", "100"));
    check(&order_with("機密花子", "1000001", "0", "100"));
    check(&order_with("機密花子", "1000001", "1", "<a>秘密</a>"));
    // Huge numbers: past i64, past u32, and past the canonical maximum.
    check(&order_with("機密花子", "1000001", "1", "99999999999999999999999"));
    check(&order_with("機密花子", "1000001", "99999999999", "100"));
    check(&order_with("機密花子", "1000001", "1", "9223372036854775807"));
    check(&order_with("機密花子", "1000001", "4294967295", "9223372036854775807"));
    // Control characters in names (header injection).
    let e = check(&order_with("機密花子&#13;&#10;Bcc: x@example.com", "1000001", "1", "100"));
    assert!(matches!(e, NormalizeError::Invalid { .. }), "{e}");
    check(&order_with("機密花子\u{7}", "1000001", "1", "100"));
    // Bad dates and ids.
    check(&full.replace("2026/08/01 10:00", "2026/13/45 99:99"));
    check(&full.replace("400000901", "40000-0901"));
    check(&full.replace("<orderId>400000901</orderId>", ""));
    // Not XML / another shape.
    check("<<<>>>");
    check("<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY a \"秘密\">]><response>&a;</response>");
    check("<response><result><status>2</status></result><resultCount>0</resultCount></response>");
    check("<response><resultCount>0</resultCount></response>");
}

#[test]
fn byte_order_mark_and_self_closed_elements_are_tolerated() {
    let text = format!("\u{feff}{}", fixture("cancelled.xml").text)
        .replace("<deliveryName>ネコポス</deliveryName>", "<deliveryName/><shippingNumber/>");
    let orders = normalize(SHOP, &[body(&text)]).unwrap();
    assert_eq!(orders[0].order_id, "400000201");
    assert_eq!(orders[0].delivery.source_method, "");
    assert!(orders[0].tracking.is_empty());
}

#[test]
fn envelope_edge_cases() {
    // status 1 without an <error> element: still the API's refusal.
    let e = normalize(SHOP, &[body("<response><result><status>1</status></result></response>")]);
    assert!(matches!(e, Err(NormalizeError::Api { ref code, .. }) if code == "status 1"), "{e:?}");
    // A comment holding elements (seen by some clients) is not read as text: a clear Malformed.
    let text = fixture("gift_remarks.xml").text.replace("午前中希望", "<p>秘密</p>");
    let m = normalize(SHOP, &[body(&text)]).unwrap_err().to_string();
    assert!(m.contains("malformed") && !m.contains("秘密"), "{m}");
}
