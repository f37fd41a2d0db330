//! Every finding code, firing and not firing, on real postal codes.

mod policies;

use policies::POLICIES;

use ichigen_core::rules::BlacklistEntry;
use ichigen_core::{
    BundleIndex, CheckEngine, DeliveryMethod, FindingCode, Marketplace, Order, OrderStatus, PaymentMethod, Rules,
    Severity,
};
use serde_json::json;

/// A clean order to 〒100-0001 東京都千代田区千代田1-1; tests change what they need.
fn order() -> Order {
    serde_json::from_value(json!({
        "schema_version": 1, "shop_id": "shop-1", "marketplace": "rakuten",
        "order_id": "100000-20261127-0000000001",
        "ordered_at": "2026-11-27T10:00:00+09:00", "source_updated_at": "2026-11-27T10:05:00+09:00",
        "status": "new", "source_status": "100",
        "buyer": {"name": "佐藤 花子", "name_kana": "サトウ ハナコ", "email": "hanako@example.jp", "phone": "03-1234-5678"},
        "ship_to": {"country": "JP", "postal_code": "1000001", "prefecture": "東京都", "city": "千代田区",
                    "address1": "千代田1-1", "address2": "", "name": "佐藤 花子", "phone": "03-1234-5678"},
        "items": [{"sku": "TSHIRT-M", "name": "Tシャツ", "quantity": 1, "unit_price": 2980}],
        "payment_method": "credit_card", "source_payment_method": "1",
        "delivery": {"method": "standard", "source_method": "宅配便"},
        "totals": {"goods": 2980, "shipping": 600, "fee": 0, "discount": 0, "total": 3580}
    }))
    .expect("valid order")
}

fn with_address(postal: &str, pref: &str, city: &str, a1: &str, a2: &str) -> Order {
    let mut o = order();
    o.ship_to.postal_code = postal.into();
    o.ship_to.prefecture = pref.into();
    o.ship_to.city = city.into();
    o.ship_to.address1 = a1.into();
    o.ship_to.address2 = a2.into();
    o
}

fn engine() -> CheckEngine {
    CheckEngine::new(Rules::default(), POLICIES)
}

fn engine_with(toml: &str) -> CheckEngine {
    CheckEngine::new(Rules::from_toml(toml).expect("rules parse"), POLICIES)
}

/// (code, severity) of every finding.
fn codes(eng: &CheckEngine, o: &Order) -> Vec<(FindingCode, Severity)> {
    assert!(o.validate().is_ok(), "test order must be valid: {:?}", o.validate());
    eng.check(o, &BundleIndex::empty()).findings.iter().map(|f| (f.code, f.severity)).collect()
}

fn fires(eng: &CheckEngine, o: &Order, code: FindingCode) -> Option<Severity> {
    codes(eng, o).into_iter().find(|(c, _)| *c == code).map(|(_, s)| s)
}

#[test]
fn clean_order_has_no_findings() {
    assert_eq!(codes(&engine(), &order()), vec![]);
    assert_eq!(engine().check(&order(), &BundleIndex::empty()).status, OrderStatus::New);
}

#[test]
fn postal_code_unknown() {
    let e = engine();
    for code in ["9999999", "0000000", "12345", "abc-defg"] {
        let o = with_address(code, "東京都", "千代田区", "千代田1-1", "");
        assert_eq!(fires(&e, &o, FindingCode::PostalCodeUnknown), Some(Severity::Hold), "{code}");
    }
    for code in ["1000001", "100-0001", "〒１００－０００１"] {
        let o = with_address(code, "東京都", "千代田区", "千代田1-1", "");
        assert_eq!(fires(&e, &o, FindingCode::PostalCodeUnknown), None, "{code}");
    }
    // Foreign addresses are not Japan Post's.
    let mut o = with_address("94105", "CA", "San Francisco", "1 Market St", "");
    o.ship_to.country = "US".into();
    assert_eq!(codes(&e, &o), vec![]);
}

#[test]
fn postal_mismatch_prefecture_and_city() {
    let e = engine();
    // 〒100-0001 is 東京都千代田区; 大阪府 written.
    let o = with_address("1000001", "大阪府", "大阪市北区", "梅田1-1", "");
    let out = e.check(&o, &BundleIndex::empty());
    let f = out.findings.iter().find(|f| f.code == FindingCode::PostalMismatch).expect("mismatch");
    assert_eq!(f.severity, Severity::Hold);
    assert_eq!(f.evidence["part"], "prefecture");
    assert_eq!(f.evidence["expected"][0]["prefecture"], "東京都");
    assert_eq!(out.status, OrderStatus::OnHold);
    // Right prefecture, wrong city.
    let o = with_address("1000001", "東京都", "港区", "六本木1-1", "");
    let f = e.check(&o, &BundleIndex::empty()).findings;
    assert_eq!(f[0].code, FindingCode::PostalMismatch);
    assert_eq!(f[0].evidence["part"], "city");
}

#[test]
fn postal_mismatch_accepts_the_ways_cities_are_written() {
    let e = engine();
    let ok = [
        // 政令市: the ward alone.
        ("0600042", "北海道", "中央区", "大通西5丁目1-2"),
        ("0600042", "北海道", "札幌市中央区", "大通西５－１－２"),
        // 郡 left out.
        ("0783871", "北海道", "羽幌町", "焼尻123"),
        // Island prefix of Tokyo's island towns left out.
        ("1001401", "東京都", "八丈町", "大賀郷1234"),
        // A code that spans two municipalities: either one.
        ("4980000", "三重県", "桑名郡木曽岬町", "源緑輪中1"),
        ("4980000", "愛知県", "弥富市", "前ケ須町1"),
        // Prefecture left out of its field but written in the city field.
        ("1000001", "", "東京都千代田区", "千代田1-1"),
        // ヶ / ケ variants.
        ("2530000", "神奈川県", "茅ヶ崎市", "本村1-2-3"),
    ];
    for (code, pref, city, a1) in ok {
        let o = with_address(code, pref, city, a1, "");
        assert_eq!(fires(&e, &o, FindingCode::PostalMismatch), None, "{code} {city} {a1}");
    }
}

#[test]
fn postal_mismatch_town_is_a_warning() {
    // 丸の内 is 〒100-0005, not 100-0001 (千代田).
    let o = with_address("1000001", "東京都", "千代田区", "丸の内1-1", "");
    assert_eq!(fires(&engine(), &o, FindingCode::PostalMismatch), Some(Severity::Warn));
}

#[test]
fn missing_house_number() {
    let e = engine();
    // 大通西 uses 丁目: a missing number holds.
    let o = with_address("0600042", "北海道", "札幌市中央区", "大通西", "");
    assert_eq!(fires(&e, &o, FindingCode::MissingHouseNumber), Some(Severity::Hold));
    // The building alone does not count as the number, in address2 or typed into address1.
    let o = with_address("0600042", "北海道", "札幌市中央区", "大通西", "サンハイツ101号室");
    assert_eq!(fires(&e, &o, FindingCode::MissingHouseNumber), Some(Severity::Hold));
    let o = with_address("0600042", "北海道", "札幌市中央区", "大通西サンハイツ101号室", "");
    assert_eq!(fires(&e, &o, FindingCode::MissingHouseNumber), Some(Severity::Hold));
    // 千代田 has no 丁目: a warning only.
    let o = with_address("1000001", "東京都", "千代田区", "千代田", "");
    assert_eq!(fires(&e, &o, FindingCode::MissingHouseNumber), Some(Severity::Warn));
    // Every equivalent form of a number is a number.
    for a1 in ["大通西5丁目1-2", "大通西五丁目1番2号", "大通西５－１－２", "大通西5ー1ー2", "大通西5"]
    {
        let o = with_address("0600042", "北海道", "札幌市中央区", a1, "");
        assert_eq!(fires(&e, &o, FindingCode::MissingHouseNumber), None, "{a1}");
    }
    // The city typed again in the street line, in a town named like the city.
    let o = with_address("2770005", "千葉県", "柏市", "柏市柏4-14-13", "");
    assert_eq!(fires(&e, &o, FindingCode::MissingHouseNumber), None);
    // The number in address2 counts.
    let o = with_address("0600042", "北海道", "札幌市中央区", "大通西", "5-1-2 サンハイツ101");
    assert_eq!(fires(&e, &o, FindingCode::MissingHouseNumber), None);
}

#[test]
fn kyoto_street_addresses_have_no_house_number_to_miss() {
    // 京都市中京区 addresses by street: 〇〇通××上ル.
    let o = with_address("6048006", "京都府", "京都市中京区", "河原町通三条上る恵比須町", "");
    assert_eq!(fires(&engine(), &o, FindingCode::MissingHouseNumber), None);
}

#[test]
fn label_overflow() {
    let e = engine();
    let o = with_address(
        "1000001",
        "東京都",
        "千代田区",
        "千代田1-1",
        "グランドメゾン千代田パークサイドタワーレジデンス東棟2105号室",
    );
    let out = e.check(&o, &BundleIndex::empty());
    let f = out.findings.iter().find(|f| f.code == FindingCode::LabelOverflow).expect("overflow");
    assert_eq!(f.severity, Severity::Warn);
    assert_eq!(f.evidence["overflows"][0]["field"], "building");
    assert_eq!(f.evidence["overflows"][0]["limit"], 32);
    // Sagawa counts the building with the address (住所1-3 = 全角48).
    let s = engine_with("[label]\ncarriers = [\"sagawa\"]\n");
    assert_eq!(fires(&s, &o, FindingCode::LabelOverflow), None);
    assert_eq!(fires(&e, &order(), FindingCode::LabelOverflow), None);
}

#[test]
fn suspicious() {
    let e = engine();
    for name in ["テスト", "てすと 太郎様", "ｔｅｓｔ　ｕｓｅｒ", "TEST"] {
        let mut o = order();
        o.buyer.name = name.into();
        o.ship_to.name = name.into();
        assert_eq!(fires(&e, &o, FindingCode::Suspicious), Some(Severity::Hold), "{name}");
    }
    let o = with_address("1000001", "東京都", "千代田区", "千代田1-1", "ああああ");
    assert_eq!(fires(&e, &o, FindingCode::Suspicious), Some(Severity::Hold));
    let o = with_address("1000001", "東京都", "千代田区", "", "");
    assert_eq!(fires(&e, &o, FindingCode::Suspicious), Some(Severity::Hold));
    // Long numbers are not repeated characters.
    let o = with_address("1000001", "東京都", "千代田区", "千代田1111-1", "");
    assert_eq!(fires(&e, &o, FindingCode::Suspicious), None);
    let kw = engine_with("[suspicious]\nkeywords = [\"てすと\"]\n");
    let mut o = order();
    o.buyer.name = "テスト".into();
    assert_eq!(fires(&kw, &o, FindingCode::Suspicious), Some(Severity::Hold), "kana keywords match either kana");
}

const BLACKLIST: &str = r#"
[[blacklist]]
name = "山田 太郎"
phone = "090-1234-5678"
reason = "受取拒否"

[[blacklist]]
email = "prank@example.com"

[[blacklist]]
address = "東京都千代田区千代田1-1 見本ハイツ101"
"#;

#[test]
fn blacklisted_buyer_matches_across_width_space_and_hyphen_variants() {
    let e = engine_with(BLACKLIST);
    let mut o = order();
    o.buyer.name = "山田　太郎".into();
    o.buyer.phone = Some("０９０－１２３４－５６７８".into());
    assert_eq!(fires(&e, &o, FindingCode::Blacklisted), Some(Severity::Hold));
    o.buyer.phone = Some("+81 90 1234 5678".into());
    assert_eq!(fires(&e, &o, FindingCode::Blacklisted), Some(Severity::Hold));
    o.buyer.phone = Some("090―1234―5678".into());
    assert_eq!(fires(&e, &o, FindingCode::Blacklisted), Some(Severity::Hold));
    // Same phone, another name: the entry pairs them.
    o.buyer.name = "鈴木 一郎".into();
    o.ship_to.name = "鈴木 一郎".into();
    assert_eq!(fires(&e, &o, FindingCode::Blacklisted), None);

    let mut o = order();
    o.buyer.email = Some("ＰＲＡＮＫ＠ＥＸＡＭＰＬＥ．ＣＯＭ".into());
    assert_eq!(fires(&e, &o, FindingCode::Blacklisted), Some(Severity::Hold));

    let o = with_address("1000001", "東京都", "千代田区", "千代田１－１", "見本ハイツ１０１");
    let out = e.check(&o, &BundleIndex::empty());
    let f = out.findings.iter().find(|f| f.code == FindingCode::Blacklisted).expect("address match");
    assert_eq!(f.evidence["matches"][0]["entry"], 3);
    assert_eq!(f.evidence["matches"][0]["matched_on"], "address");
    // Another room in the same building is another address.
    let o = with_address("1000001", "東京都", "千代田区", "千代田1-1", "見本ハイツ102");
    assert_eq!(fires(&e, &o, FindingCode::Blacklisted), None);
    assert_eq!(fires(&e, &order(), FindingCode::Blacklisted), None);
}

#[test]
fn blacklist_refuses_a_name_alone() {
    let err = Rules::from_toml("[[blacklist]]\nname = \"山田 太郎\"\n").unwrap_err();
    assert!(err.to_string().contains("name alone"), "{err}");
}

#[test]
fn remote_island() {
    let e = engine();
    let o = with_address("1001401", "東京都", "八丈島八丈町", "大賀郷1234", "");
    let out = e.check(&o, &BundleIndex::empty());
    let f = out.findings.iter().find(|f| f.code == FindingCode::RemoteIsland).expect("island");
    assert_eq!(f.severity, Severity::Warn);
    assert_eq!(f.evidence["kind"], "island");
    assert_eq!(f.evidence["islands"][0], "伊豆諸島(八丈島・八丈小島)");
    // 那覇 is the Okinawa carrier zone, not an island.
    let o = with_address("9000001", "沖縄県", "那覇市", "港町1-1", "");
    let out = e.check(&o, &BundleIndex::empty());
    let f = out.findings.iter().find(|f| f.code == FindingCode::RemoteIsland).expect("zone");
    assert_eq!((f.severity, f.evidence["kind"].as_str()), (Severity::Info, Some("okinawa_zone")));
    assert_eq!(fires(&e, &order(), FindingCode::RemoteIsland), None);
    // 輪島市海士町 shares its code with 舳倉島: only the island's name tells.
    let o = with_address("9280072", "石川県", "輪島市", "海士町1-1", "");
    assert_eq!(fires(&e, &o, FindingCode::RemoteIsland), None);
    let o = with_address("9280072", "石川県", "輪島市", "海士町舳倉島1", "");
    assert_eq!(fires(&e, &o, FindingCode::RemoteIsland), Some(Severity::Warn));
}

const MAIL_BIN: &str = "[mail_bin]\nservice = \"ネコポス\"\n[mail_bin.capacity]\n\"TSHIRT-M\" = 2\n\"SOCKS-3P\" = 2\n";

#[test]
fn mail_bin_eligible() {
    let e = engine_with(MAIL_BIN);
    assert_eq!(fires(&e, &order(), FindingCode::MailBinEligible), Some(Severity::Info));
    // Half a parcel + half a parcel fits.
    let mut o = order();
    o.items.push(ichigen_core::Item {
        sku: "SOCKS-3P".into(),
        name: "靴下".into(),
        quantity: 1,
        unit_price: 0,
        options: vec![],
    });
    assert_eq!(fires(&e, &o, FindingCode::MailBinEligible), Some(Severity::Info));
    // Three T-shirts don't.
    let mut o = order();
    o.items[0].quantity = 3;
    assert_eq!(fires(&e, &o, FindingCode::MailBinEligible), None);
    // COD can't go by mail-bin.
    let mut o = order();
    o.payment_method = PaymentMethod::Cod;
    assert_eq!(fires(&e, &o, FindingCode::MailBinEligible), None);
    // Without capacities nothing fits.
    assert_eq!(fires(&engine(), &order(), FindingCode::MailBinEligible), None);
}

#[test]
fn mail_bin_conflict() {
    let e = engine_with(MAIL_BIN);
    let mut o = order();
    o.delivery.method = DeliveryMethod::MailBin;
    assert_eq!(fires(&e, &o, FindingCode::MailBinConflict), None);
    o.payment_method = PaymentMethod::Cod;
    let out = e.check(&o, &BundleIndex::empty());
    let f = out.findings.iter().find(|f| f.code == FindingCode::MailBinConflict).expect("cod conflict");
    assert_eq!(f.evidence["blockers"], json!(["cod"]));
    let mut o = order();
    o.delivery.method = DeliveryMethod::MailBin;
    o.delivery.requested_time_slot = Some("14-16".into());
    o.items[0].quantity = 5;
    let out = e.check(&o, &BundleIndex::empty());
    let f = out.findings.iter().find(|f| f.code == FindingCode::MailBinConflict).expect("conflict");
    assert_eq!(f.evidence["blockers"], json!(["does_not_fit", "requested_time_slot"]));
    assert_eq!(f.severity, Severity::Hold);
}

#[test]
fn remarks() {
    let e = engine();
    let mut o = order();
    o.remarks = "[配送日時指定:]\n2025-03-04(火)\n14:00-16:00\n[備考:]\n不在時は宅配ボックスへ".into();
    let out = e.check(&o, &BundleIndex::empty());
    let f = out.findings.iter().find(|f| f.code == FindingCode::Remarks).expect("remarks");
    assert_eq!(f.evidence["text"], "不在時は宅配ボックスへ");
    // Only what the marketplace wrote itself, or "nothing to say".
    for r in ["[配送日時指定:]\n2025-03-04(火)\n14:00-16:00", "特になし", " なし ", "", "[備考:]\n"] {
        o.remarks = r.into();
        assert_eq!(fires(&e, &o, FindingCode::Remarks), None, "{r:?}");
    }
}

#[test]
fn bundle_candidate_across_marketplaces() {
    let e = engine();
    let a = order();
    let mut b = order();
    b.marketplace = Marketplace::Yahoo;
    b.order_id = "store-10001".into();
    b.ship_to.address1 = "千代田１－１".into();
    let mut shipped = order();
    shipped.order_id = "100000-20261120-0000000009".into();
    shipped.status = OrderStatus::Shipped;
    let mut elsewhere = order();
    elsewhere.order_id = "100000-20261127-0000000002".into();
    elsewhere.ship_to.address1 = "千代田1-2".into();
    let all = [a.clone(), b.clone(), shipped, elsewhere.clone()];
    let idx = e.bundle_index(all.iter());
    let f = e.check(&a, &idx).findings;
    let bundle = f.iter().find(|f| f.code == FindingCode::BundleCandidate).expect("bundle");
    assert_eq!(bundle.evidence["orders"], json!([{"marketplace": "yahoo", "order_id": "store-10001"}]));
    assert!(e.check(&b, &idx).findings.iter().any(|f| f.code == FindingCode::BundleCandidate));
    assert!(!e.check(&elsewhere, &idx).findings.iter().any(|f| f.code == FindingCode::BundleCandidate));
}

#[test]
fn amazon_fulfilled_orders_are_not_checked() {
    let mut o = with_address("9999999", "大阪府", "港区", "", "");
    o.marketplace = Marketplace::Amazon;
    o.fulfilled_by_marketplace = true;
    let out = engine().check(&o, &BundleIndex::empty());
    assert!(out.findings.is_empty());
    assert_eq!(out.status, OrderStatus::New);
}

#[test]
fn only_open_orders_are_put_on_hold() {
    let mut o = with_address("9999999", "東京都", "千代田区", "千代田1-1", "");
    o.status = OrderStatus::Shipped;
    let out = engine().check(&o, &BundleIndex::empty());
    assert!(!out.findings.is_empty());
    assert_eq!(out.status, OrderStatus::Shipped);
}

#[test]
fn severity_settings_change_or_drop_findings() {
    let e = engine_with("[severity]\n\"address.postal_code_unknown\" = \"warn\"\n\"order.remarks\" = \"off\"\n");
    let mut o = with_address("9999999", "東京都", "千代田区", "千代田1-1", "");
    o.remarks = "ギフト包装お願いします".into();
    assert_eq!(codes(&e, &o), vec![(FindingCode::PostalCodeUnknown, Severity::Warn)]);
    assert_eq!(e.check(&o, &BundleIndex::empty()).status, OrderStatus::New);
    let err = Rules::from_toml("[severity]\n\"address.nope\" = \"hold\"\n").unwrap_err();
    assert!(err.to_string().contains("address.nope") || err.to_string().contains("unknown"), "{err}");
}

#[test]
fn the_example_rules_file_parses() {
    let r = Rules::from_toml(ichigen_core::rules::EXAMPLE_RULES).expect("example parses");
    assert_eq!(r.blacklist.len(), 3);
    assert_eq!(r.mail_bin.capacity.get("TSHIRT-M"), Some(&2));
}

/// 8,000 open orders to one recipient: each order's 同梱 evidence names a bounded number of mates
/// and counts the rest, instead of listing all 7,999 (which made the output quadratic in the
/// number of orders and a stored item larger than DynamoDB's 400 KB).
#[test]
fn bundle_evidence_is_bounded_for_thousands_of_mates() {
    let e = engine();
    let all: Vec<Order> = (0..8_000)
        .map(|i| {
            let mut o = order();
            o.order_id = format!("100000-20261127-{i:010}");
            o
        })
        .collect();
    let idx = e.bundle_index(all.iter());
    for o in [&all[0], &all[4_321], &all[7_999]] {
        let f = e.check(o, &idx).findings;
        let bundle = f.iter().find(|f| f.code == FindingCode::BundleCandidate).expect("bundle");
        let size = serde_json::to_vec(&bundle.evidence).expect("json").len();
        assert!(size < 4_096, "evidence of {} is {size} bytes", o.order_id);
        let listed = bundle.evidence["orders"].as_array().expect("orders");
        assert!(!listed.is_empty() && listed.len() <= 20, "{} mates listed", listed.len());
        assert!(listed.iter().all(|m| m["order_id"] != o.order_id.as_str()), "the order is not its own mate");
        assert_eq!(bundle.evidence["more"], json!(7_999 - listed.len()));
        assert!(bundle.message.contains("7999件"), "{}", bundle.message);
    }
}

/// `-` or a bare prefecture as a blacklisted address has an empty key once the prefecture is
/// taken off, the key of every order without a street: such entries are refused when added.
#[test]
fn weak_blacklist_addresses_are_refused_when_added() {
    for address in ["-", "東京都", " 東京都　", "ー", "東京都東京都", "〒 -"] {
        let entry = BlacklistEntry { address: Some(address.into()), ..Default::default() };
        let why = entry.validate().expect_err(address);
        assert!(why.contains("番地") && why.contains("every order without a street"), "{address:?}: {why}");
        assert!(!why.contains("東京都"), "the reason names the field, not the value: {why}");
    }
    let strong = BlacklistEntry { address: Some("東京都千代田区千代田1-1".into()), ..Default::default() };
    assert_eq!(strong.validate(), Ok(()));
}

/// A rules file written before entries were checked for this still loads; its weak entries are
/// ignored instead of holding every order without a street, and the other entries still match.
#[test]
fn weak_blacklist_entries_of_a_rules_file_are_ignored() {
    let e = engine_with(
        "[[blacklist]]\naddress = \"-\"\n\n[[blacklist]]\naddress = \"東京都\"\n\n\
         [[blacklist]]\nemail = \"prank@example.com\"\n",
    );
    for (postal, pref) in [("1000001", "東京都"), ("5300001", "大阪府")] {
        let o = with_address(postal, pref, "", "", "");
        let held = e.check(&o, &BundleIndex::empty()).findings.iter().any(|f| f.code == FindingCode::Blacklisted);
        assert!(!held, "an order to {pref} without a street is blacklisted");
    }
    let mut o = order();
    o.buyer.email = Some("prank@example.com".into());
    assert_eq!(fires(&e, &o, FindingCode::Blacklisted), Some(Severity::Hold));
}

fn conditions(toml: &str) -> CheckEngine {
    CheckEngine::new(Rules::from_toml(toml).expect("rules"), POLICIES)
}

fn shop_condition(e: &CheckEngine, o: &Order) -> Vec<ichigen_core::Finding> {
    let idx = BundleIndex::empty();
    e.check(o, &idx).findings.into_iter().filter(|f| f.code == FindingCode::ShopCondition).collect()
}

#[test]
fn a_remarks_keyword_holds_or_only_notes() {
    let e = conditions(
        r#"
        [severity]
        "order.remarks" = "off"
        [[condition]]
        name = "のし指定"
        remarks_keyword = ["のし"]
        [[condition]]
        name = "宅配ボックス"
        action = "note"
        remarks_keyword = ["宅配ボックス"]
        "#,
    );
    let mut o = order();
    o.remarks = "お中元なので の し をお願いします".into();
    let idx = BundleIndex::empty();
    let out = e.check(&o, &idx);
    let f = shop_condition(&e, &o);
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(f[0].severity, Severity::Hold);
    assert_eq!(f[0].evidence["condition"], "のし指定");
    assert_eq!(out.status, OrderStatus::OnHold);

    o.remarks = "不在時は宅配BOXではなく宅配ボックスへ".into();
    let f = shop_condition(&e, &o);
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(f[0].severity, Severity::Warn);
    assert_eq!(e.check(&o, &idx).status, OrderStatus::New, "a note does not hold");

    o.remarks = "よろしくお願いします".into();
    assert!(shop_condition(&e, &o).is_empty());
}

#[test]
fn conditions_combine_marketplace_payment_total_sku_and_prefecture() {
    let e = conditions(
        r#"
        [[condition]]
        name = "高額の代引"
        marketplace = ["rakuten", "yahoo"]
        payment = ["cod"]
        total_at_least = 30000
        [[condition]]
        name = "沖縄の冷凍"
        sku = ["ICE-1"]
        prefecture = ["沖縄県"]
        [[condition]]
        name = "少額"
        action = "note"
        total_below = 1000
        "#,
    );
    let mut o = order();
    o.payment_method = PaymentMethod::Cod;
    o.totals.total = 30000;
    let f = shop_condition(&e, &o);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].evidence["matched"], json!(["marketplace", "payment", "total_at_least"]));
    o.totals.total = 29999;
    assert!(shop_condition(&e, &o).is_empty(), "below the bound");
    o.totals.total = 40000;
    o.marketplace = Marketplace::Amazon;
    assert!(shop_condition(&e, &o).is_empty(), "another marketplace");
    o.totals.total = 999;
    assert_eq!(shop_condition(&e, &o)[0].evidence["condition"], "少額");

    let mut o = with_address("9000014", "沖縄県", "那覇市", "松尾1-1", "");
    assert!(shop_condition(&e, &o).is_empty(), "SKU missing");
    o.items[0].sku = "ICE-1".into();
    let f = shop_condition(&e, &o);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].evidence["condition"], "沖縄の冷凍");
}

#[test]
fn a_condition_without_criteria_or_with_a_bad_prefecture_is_refused() {
    for (toml, needle) in [
        ("[[condition]]\nname = \"x\"\n", "no criterion"),
        ("[[condition]]\nname = \"\"\nsku = [\"A\"]\n", "name is empty"),
        ("[[condition]]\nname = \"x\"\nprefecture = [\"沖縄\"]\n", "not a prefecture"),
        ("[[condition]]\nname = \"x\"\ntotal_at_least = 5\ntotal_below = 5\n", "below"),
        ("[[condition]]\nname = \"x\"\nremarks_keyword = [\" \"]\n", "empty keyword"),
        ("[[condition]]\nname = \"x\"\ncolour = [\"red\"]\n", "colour"),
    ] {
        let err = Rules::from_toml(toml).expect_err(toml).to_string();
        assert!(err.contains(needle), "{toml}: {err}");
    }
}
