//! What the default mails say, as a buyer or clerk reads them: for an order of each marketplace
//! paid by COD and by bank transfer, to two destinations, with options, a coupon and points,
//! every line a 楽天 shop's mail carries is there, in Japanese, and no marketplace code is.

mod policies;

use chrono::{DateTime, FixedOffset};
use ichigen_core::pipeline::mail::{VARIABLES, render};
use ichigen_core::pipeline::{MailKind, ShopContact, ShopSettings, StaffDecision, StoredOrder};
use ichigen_core::{
    CheckEngine, Finding, FindingCode, Marketplace, Order, OrderStatus, PaymentMethod, Rules, Severity, Tracking,
};
use policies::POLICIES;
use serde_json::json;

fn t(s: &str) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(s).expect("test time")
}

/// The marketplace's own codes for the payment and delivery of such an order, as its API gives
/// them (fact sheets): what must never reach a buyer.
fn source_codes(m: Marketplace, p: PaymentMethod) -> (&'static str, &'static str, &'static str) {
    match (m, p) {
        (Marketplace::Rakuten, PaymentMethod::Cod) => ("2", "700", "rakuten_cod_delivery_1"),
        (Marketplace::Rakuten, _) => ("3", "200", "rakuten_delivery_1"),
        (Marketplace::Yahoo, PaymentMethod::Cod) => ("payment_d1", "1", "postage1"),
        (Marketplace::Yahoo, _) => ("payment_b1", "1", "postage1"),
        (Marketplace::Amazon, PaymentMethod::Cod) => ("CashOnDelivery", "Unshipped", "Standard"),
        (Marketplace::Amazon, _) => ("Other", "PendingAvailability", "Standard"),
        (Marketplace::Aupay, PaymentMethod::Cod) => ("PAYMENT_COD_01", "NEW_ORDER", "DELIVERY_A1"),
        (Marketplace::Aupay, _) => ("PAYMENT_BANK_02", "WAIT_PAYMENT", "DELIVERY_A1"),
        (Marketplace::Qoo10, PaymentMethod::Cod) => ("COD_PAY_9", "SHIPPING_REQ_1", "QX_EXPRESS_1"),
        (Marketplace::Qoo10, _) => ("BANK_TRANSFER_7", "PAY_WAIT_2", "QX_EXPRESS_1"),
        (Marketplace::Csv, _) => ("csv_pay_1", "csv_new", "csv_ship_1"),
    }
}

/// A gift order to two destinations with options, a coupon and points, paid by `payment`.
fn order(m: Marketplace, payment: PaymentMethod) -> Order {
    let (pay_code, status_code, ship_code) = source_codes(m, payment);
    let cod = payment == PaymentMethod::Cod;
    let fee = if cod { 330 } else { 0 };
    let status = if cod { "ready_to_ship" } else { "awaiting_payment" };
    serde_json::from_value(json!({
        "schema_version": 1, "shop_id": "shop-1", "marketplace": m,
        "order_id": format!("{}-ORDER-1", m.as_str().to_uppercase()),
        "ordered_at": "2026-11-27T10:00:00+09:00", "source_updated_at": "2026-11-27T10:05:00+09:00",
        "status": status, "source_status": status_code,
        "buyer": {"name": "佐藤 花子", "email": "hanako@example.jp", "phone": "03-1234-5678"},
        "ship_to": {"country": "JP", "postal_code": "1000001", "prefecture": "東京都", "city": "千代田区",
                    "address1": "千代田1-1", "address2": "見本ハイツ101", "name": "佐藤 花子", "phone": "03-1234-5678"},
        "shipments": [
            {"shipment_id": "1", "ship_to": {"country": "JP", "postal_code": "1000001", "prefecture": "東京都",
              "city": "千代田区", "address1": "千代田1-1", "address2": "見本ハイツ101", "name": "佐藤 花子"},
             "items": [{"sku": "TSHIRT-M-NVY", "name": "オーガニックTシャツ", "quantity": 2, "unit_price": 2980,
                        "options": [{"name": "サイズ", "value": "M"}, {"name": "カラー", "value": "ネイビー"}]}]},
            {"shipment_id": "2", "ship_to": {"country": "JP", "postal_code": "5300001", "prefecture": "大阪府",
              "city": "大阪市北区", "address1": "梅田3-1-1", "address2": "", "name": "佐藤 一郎"},
             "items": [{"sku": "GIFT-BOX", "name": "焼き菓子ギフト", "quantity": 1, "unit_price": 3240,
                        "options": [{"name": "のし", "value": "御歳暮"}]}]}
        ],
        "items": [
            {"sku": "TSHIRT-M-NVY", "name": "オーガニックTシャツ", "quantity": 2, "unit_price": 2980,
             "options": [{"name": "サイズ", "value": "M"}, {"name": "カラー", "value": "ネイビー"}]},
            {"sku": "GIFT-BOX", "name": "焼き菓子ギフト", "quantity": 1, "unit_price": 3240,
             "options": [{"name": "のし", "value": "御歳暮"}]}
        ],
        "payment_method": payment, "source_payment_method": pay_code,
        "delivery": {"method": "standard", "source_method": ship_code,
                     "requested_date": "2026-12-05", "requested_time_slot": "14-16"},
        "totals": {"goods": 9200, "shipping": 1200, "fee": fee, "discount": 800, "coupon": 500, "points": 300,
                   "total": 10400 + fee - 800},
        "gift": true,
        "tracking": [
            {"carrier": "yamato", "number": "1234-5678-9013", "shipped_at": "2026-11-28T15:00:00+09:00", "shipment_id": "1"},
            {"carrier": "japanpost", "number": "123456789013", "shipped_at": "2026-11-28T15:00:00+09:00", "shipment_id": "2"}
        ]
    }))
    .expect("valid order")
}

fn shop() -> ShopSettings {
    let mut s = ShopSettings::new("shop-1", "いちげん商店", "shop@example.jp");
    s.staff_to = vec!["staff@example.jp".into()];
    s.contact = ShopContact {
        company: "株式会社いちげん".into(),
        postal_code: "100-0005".into(),
        address: "東京都千代田区丸の内1-1-1".into(),
        phone: "03-0000-0000".into(),
        email: "support@example.jp".into(),
        hours: "平日 10:00〜17:00".into(),
    };
    s
}

fn stored(order: Order, findings: Vec<Finding>) -> StoredOrder {
    let status = if findings.iter().any(|f| f.severity == Severity::Hold) { OrderStatus::OnHold } else { order.status };
    StoredOrder {
        status,
        findings,
        staff: StaffDecision::None,
        mails_due: Vec::new(),
        hold_episode: 0,
        ship_with: None,
        content_fp: String::new(),
        check_fp: String::new(),
        bundle_key: None,
        rev: 1,
        stored_at: t("2026-11-27T10:10:00+09:00"),
        expires_at: None,
        parcels: Vec::new(),
        acknowledgement: None,
        order,
    }
}

fn mail(kind: MailKind, s: &StoredOrder) -> String {
    let m = render(kind, &shop(), s, &POLICIES).unwrap_or_else(|e| panic!("{kind}: {e}"));
    format!("{}\n{}", m.subject, m.text)
}

fn assert_has(text: &str, wanted: &[&str], what: &str) {
    for w in wanted {
        assert!(text.contains(w), "{what}: {w:?} missing in\n{text}");
    }
}

/// Tokens of the order's source fields (codes) that a buyer must never see.
fn assert_no_codes(text: &str, o: &Order, what: &str) {
    for code in [o.source_payment_method.as_str(), o.source_status.as_str(), o.delivery.source_method.as_str()] {
        // A code of digits only (楽天's) cannot be told from an amount; the labels below cover it.
        if !code.bytes().all(|b| b.is_ascii_digit()) {
            assert!(!text.contains(code), "{what}: source code {code:?} shown in\n{text}");
        }
    }
    for raw in [
        "payment_",
        "credit_card",
        "bank_transfer",
        "marketplace_pay",
        "awaiting_payment",
        "ready_to_ship",
        "mail_bin",
        "{{",
        "none",
    ] {
        assert!(!text.contains(raw), "{what}: raw value {raw:?} shown in\n{text}");
    }
}

const CONTACT: [&str; 6] = [
    "株式会社いちげん",
    "〒100-0005",
    "東京都千代田区丸の内1-1-1",
    "03-0000-0000",
    "support@example.jp",
    "平日 10:00〜17:00",
];

#[test]
fn thank_you_says_everything_a_rakuten_shops_mail_says() {
    for m in [Marketplace::Rakuten, Marketplace::Yahoo, Marketplace::Aupay, Marketplace::Qoo10, Marketplace::Csv] {
        for payment in [PaymentMethod::Cod, PaymentMethod::BankTransfer] {
            let o = order(m, payment);
            let what = format!("{m} {payment:?} thank-you");
            let text = mail(MailKind::ThankYou, &stored(o.clone(), Vec::new()));
            assert_has(
                &text,
                &[
                    &format!("ご注文番号：{}", o.order_id),
                    "ご注文日時：2026年11月27日 10:00",
                    "・オーガニックTシャツ",
                    "サイズ：M / カラー：ネイビー",
                    "2,980円 × 2点 ＝ 5,960円",
                    "・焼き菓子ギフト",
                    "のし：御歳暮",
                    "3,240円 × 1点 ＝ 3,240円",
                    "商品合計：9,200円",
                    "送料：1,200円",
                    "クーポン利用：-500円",
                    "ポイント利用：-300円",
                    "■お届け先1",
                    "佐藤 花子 様",
                    "〒100-0001",
                    "東京都千代田区千代田1-1",
                    "見本ハイツ101",
                    "■お届け先2",
                    "佐藤 一郎 様",
                    "〒530-0001",
                    "大阪府大阪市北区梅田3-1-1",
                    "■お届け希望日：2026年12月05日",
                    "■お届け希望時間帯：14-16",
                    "■配送方法：宅配便",
                ],
                &what,
            );
            assert_has(&text, &CONTACT, &what);
            if payment == PaymentMethod::Cod {
                assert_has(&text, &["代引手数料：330円", "お支払い合計：9,930円", "■お支払い方法：代金引換"], &what);
                assert!(text.contains("商品の発送準備が整いましたら"), "{what}");
            } else {
                assert_has(&text, &["お支払い合計：9,600円", "■お支払い方法：銀行振込（前払い）"], &what);
                assert!(!text.contains("手数料："), "{what}: no fee line without a fee");
                // Awaiting payment: what happens next, not a shipping promise.
                assert!(text.contains("ご入金を確認いたしましたら、発送の準備をいたします"), "{what}\n{text}");
                assert!(!text.contains("発送準備が整いましたら"), "{what}\n{text}");
            }
            assert_no_codes(&text, &o, &what);
        }
    }
}

#[test]
fn a_payment_fee_is_named_as_such() {
    let mut o = order(Marketplace::Yahoo, PaymentMethod::ConvenienceStore);
    o.totals.fee = 220;
    o.totals.total += 220;
    let text = mail(MailKind::ThankYou, &stored(o, Vec::new()));
    assert_has(&text, &["決済手数料：220円", "■お支払い方法：コンビニ決済"], "convenience store");
}

#[test]
fn shipping_mail_has_items_destinations_carriers_tracking_and_the_ship_date() {
    for m in [Marketplace::Rakuten, Marketplace::Yahoo, Marketplace::Aupay, Marketplace::Qoo10] {
        let o = order(m, PaymentMethod::Cod);
        let what = format!("{m} shipping");
        let text = mail(MailKind::Shipping, &stored(o.clone(), Vec::new()));
        assert_has(
            &text,
            &[
                "2026年11月28日に発送いたしました",
                "・オーガニックTシャツ（サイズ：M / カラー：ネイビー） × 2点",
                "・焼き菓子ギフト（のし：御歳暮） × 1点",
                "■配送業者：ヤマト運輸（お届け先1あて）",
                "■お問い合わせ番号：1234-5678-9013",
                "https://jizen.kuronekoyamato.co.jp/jizen/servlet/crjz.b.NQ0010?id=123456789013",
                "■配送業者：日本郵便（お届け先2あて）",
                "reqCodeNo1=123456789013",
                "〒100-0001",
                "大阪府大阪市北区梅田3-1-1",
            ],
            &what,
        );
        assert!(!text.contains("ポスト"), "{what}: not a mail-bin parcel");
        assert_no_codes(&text, &o, &what);
    }
    // メール便: it arrives in the mailbox.
    let mut o = order(Marketplace::Rakuten, PaymentMethod::BankTransfer);
    o.delivery.method = ichigen_core::DeliveryMethod::MailBin;
    o.delivery.requested_date = None;
    o.delivery.requested_time_slot = None;
    o.tracking = vec![Tracking {
        carrier: ichigen_core::Carrier::Japanpost,
        number: "123456789013".into(),
        shipped_at: Some(t("2026-11-29T09:00:00+09:00")),
        shipment_id: None,
    }];
    let text = mail(MailKind::Shipping, &stored(o, Vec::new()));
    assert_has(
        &text,
        &["2026年11月29日に発送いたしました", "メール便（ポスト投函）", "郵便受け（ポスト）への投函"],
        "mail bin",
    );
}

#[test]
fn payment_received_mail_confirms_the_payment() {
    let mut o = order(Marketplace::Rakuten, PaymentMethod::BankTransfer);
    o.status = OrderStatus::ReadyToShip;
    let text = mail(MailKind::PaymentReceived, &stored(o.clone(), Vec::new()));
    assert_has(
        &text,
        &[
            "ご入金を確認いたしました",
            "RAKUTEN-ORDER-1",
            "銀行振込（前払い）",
            "ご入金額：9,600円",
            "発送の準備に入ります",
        ],
        "payment received",
    );
    assert_has(&text, &CONTACT[..1], "payment received");
    assert_no_codes(&text, &o, "payment received");
}

#[test]
fn a_date_that_cannot_be_kept_is_never_promised() {
    let engine = CheckEngine::new(Rules::default(), POLICIES);
    let index = engine.bundle_index(std::iter::empty::<&Order>());
    let cases = [
        ("2026-11-26", FindingCode::RequestedDateBeforeOrder, "1000001"),
        ("2026-11-27", FindingCode::RequestedDateTooSoon, "1000001"),
        // 佐渡 (952): a ferry away; two days after the order is still too soon.
        ("2026-11-29", FindingCode::RequestedDateTooSoon, "9520000"),
    ];
    for (date, code, postal) in cases {
        let mut o = order(Marketplace::Rakuten, PaymentMethod::Cod);
        o.shipments.clear();
        o.items.truncate(1);
        o.ship_to.postal_code = postal.into();
        if postal == "9520000" {
            o.ship_to.prefecture = "新潟県".into();
            o.ship_to.city = "佐渡市".into();
            o.ship_to.address1 = "両津湊1-1".into();
        }
        o.totals =
            ichigen_core::Totals { goods: 5960, shipping: 0, fee: 0, discount: 0, coupon: 0, points: 0, total: 5960 };
        o.delivery.requested_date = Some(date.parse().expect("date"));
        let findings = engine.check(&o, &index).findings;
        let f = findings.iter().find(|f| f.code == code).unwrap_or_else(|| panic!("{date}: no {code} in {findings:?}"));
        assert_eq!(f.severity, Severity::Warn, "the order flows on; the mail only stops promising");
        let text = mail(MailKind::ThankYou, &stored(o, findings.clone()));
        let shown =
            chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d").expect("date").format("%Y年%m月%d日").to_string();
        assert!(!text.contains(&format!("お届け希望日：{shown}")), "{date} promised:\n{text}");
        assert!(text.contains("あらためて当店よりご連絡いたします"), "{date}:\n{text}");
    }
    // A plausible date is promised, and no finding is made.
    let o = order(Marketplace::Rakuten, PaymentMethod::Cod);
    let findings = engine.check(&o, &index).findings;
    assert!(
        findings
            .iter()
            .all(|f| !matches!(f.code, FindingCode::RequestedDateBeforeOrder | FindingCode::RequestedDateTooSoon))
    );
}

#[test]
fn staff_alert_is_enough_to_act_on_from_a_phone() {
    let engine = CheckEngine::new(Rules::default(), POLICIES);
    for m in [Marketplace::Rakuten, Marketplace::Amazon] {
        let mut o = order(m, PaymentMethod::Cod);
        o.remarks = "不在時は宅配ボックスへお願いします".into();
        o.delivery.requested_date = Some("2026-11-26".parse().expect("date"));
        let findings = engine.check(&o, &engine.bundle_index(std::iter::empty::<&Order>())).findings;
        assert!(findings.iter().any(|f| f.code == FindingCode::Remarks && f.severity == Severity::Hold));
        let text = mail(MailKind::StaffAlert, &stored(o.clone(), findings));
        let what = format!("{m} staff alert");
        assert_has(
            &text,
            &[
                "不在時は宅配ボックスへお願いします",
                "【保留】備考欄の記入あり",
                "【注意】お届け希望日が注文日より前",
                "お届け希望日: 2026-11-26",
                "注文日: 2026-11-27",
                "■お届け先1",
                "〒100-0001 東京都千代田区千代田1-1 見本ハイツ101",
                "■お届け先2",
                "・オーガニックTシャツ（サイズ：M / カラー：ネイビー） × 2点",
                "・焼き菓子ギフト（のし：御歳暮） × 1点",
                &format!("ichigen orders release {}/{}", m.as_str(), o.order_id),
            ],
            &what,
        );
        if m == Marketplace::Amazon {
            assert!(text.contains("お客様へのメールは送られません"), "{what}\n{text}");
            assert!(!text.contains("サンクス"), "{what}: Amazon buyers get no thank-you\n{text}");
        } else {
            assert!(text.contains("お客様にご注文確認（サンクス）メールが送られ"), "{what}\n{text}");
        }
        for code in FindingCode::ALL {
            assert!(!text.contains(code.as_str()), "{what}: code {code} instead of its label\n{text}");
        }
    }
}

#[test]
fn every_variable_a_shop_may_use_is_documented() {
    let readme = include_str!("../../../docs/MAILS.md");
    for (name, _) in VARIABLES {
        assert!(readme.contains(name), "docs/MAILS.md does not list {name}");
    }
}

#[test]
fn a_template_is_checked_against_every_marketplaces_sample_orders() {
    use ichigen_core::pipeline::MailTemplate;
    use ichigen_core::pipeline::mail::default_template;
    use ichigen_core::pipeline::template_check::check_template;
    for kind in MailKind::ALL {
        let (subject, body) = default_template(kind);
        let t = MailTemplate { subject: subject.into(), body: body.into() };
        let n = check_template(kind, &shop(), &t, &POLICIES).unwrap_or_else(|e| panic!("default {kind}: {e}"));
        assert!(n >= 30, "{kind}: {n} sample orders");
    }
    // A typo on line 3 of the body: refused with the line and the variable.
    let t = MailTemplate {
        subject: "【{{ shop.name }}】ご注文ありがとうございます".into(),
        body: "{{ buyer_name }} 様\n\nご注文番号：{{ oder_id }}\n".into(),
    };
    let e = check_template(MailKind::ThankYou, &shop(), &t, &POLICIES).expect_err("typo").to_string();
    assert!(e.contains("oder_id") && e.contains("body line 3"), "{e}");
    // A typo in a branch the order does not take is found too.
    let t = MailTemplate {
        subject: "ご注文ありがとうございます".into(),
        body: "{% if gift and awaiting_payment and mail_bin %}{{ shop.nmae }}{% endif %}\n".into(),
    };
    let e = check_template(MailKind::ThankYou, &shop(), &t, &POLICIES).expect_err("branch typo").to_string();
    assert!(e.contains("shop.nmae"), "{e}");
    // A syntax error names its line.
    let t = MailTemplate { subject: "x".into(), body: "a\n{% if %}\n".into() };
    let e = check_template(MailKind::ThankYou, &shop(), &t, &POLICIES).expect_err("syntax").to_string();
    assert!(e.contains("line 2"), "{e}");
}

#[test]
fn staff_alert_links_to_the_console_when_the_shop_set_it() {
    let o = order(Marketplace::Yahoo, PaymentMethod::CreditCard);
    let s = stored(o.clone(), Vec::new());
    let plain = render(MailKind::StaffAlert, &shop(), &s, &POLICIES).expect("alert");
    assert!(!plain.text.contains("管理画面で開く"), "no console URL, no link\n{}", plain.text);
    let mut with = shop();
    with.console_url = Some("http://127.0.0.1:8080".into());
    let linked = render(MailKind::StaffAlert, &with, &s, &POLICIES).expect("alert");
    let link = format!("管理画面で開く：http://127.0.0.1:8080/orders/yahoo/{}", o.order_id);
    assert!(linked.text.contains(&link), "{}", linked.text);
}
