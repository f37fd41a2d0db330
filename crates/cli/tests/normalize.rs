//! `ichigen normalize` on our own fixtures and on the published examples in shared/.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use ichigen_core::Order;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../marketplaces/tests/fixtures");
const SHARED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/marketplaces/examples");

fn normalize(marketplace: &str, files: &[PathBuf]) -> (i32, Vec<Order>, String) {
    let out = Command::cargo_bin("ichigen")
        .expect("binary")
        .args(["normalize", "--marketplace", marketplace, "--shop", "shop-1"])
        .args(files)
        .output()
        .expect("runs");
    let orders = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str::<Order>(l).expect("every line is a canonical Order"))
        .collect();
    (out.status.code().unwrap_or(-1), orders, String::from_utf8_lossy(&out.stderr).into_owned())
}

fn fixture(mp: &str, name: &str) -> PathBuf {
    Path::new(FIXTURES).join(mp).join(name)
}

fn shared(mp: &str, name: &str) -> PathBuf {
    let p = Path::new(SHARED).join(mp).join(name);
    assert!(p.exists(), "{} is missing: CI needs shared/ beside the repo", p.display());
    p
}

#[test]
fn our_fixtures_give_valid_orders_for_every_marketplace() {
    let cases: [(&str, Vec<PathBuf>); 5] = [
        ("rakuten", vec![fixture("rakuten", "multi_item_card.json"), fixture("rakuten", "multi_destination.json")]),
        ("yahoo", vec![fixture("yahoo", "orderInfo_multi_item.xml"), fixture("yahoo", "orderInfo_cod.xml")]),
        // Amazon: every body of a sync together, joined by order id.
        (
            "amazon",
            std::fs::read_dir(Path::new(FIXTURES).join("amazon"))
                .expect("fixtures")
                .map(|e| e.expect("entry").path())
                .filter(|p| p.extension().is_some_and(|x| x == "json"))
                .collect(),
        ),
        ("aupay", vec![fixture("aupay", "list_two_orders.xml")]),
        ("qoo10", vec![fixture("qoo10", "multi_item.json"), fixture("qoo10", "several_packs.json")]),
    ];
    for (mp, files) in cases {
        let (code, orders, stderr) = normalize(mp, &files);
        assert_eq!(code, 0, "{mp}: {stderr}");
        assert!(!orders.is_empty(), "{mp}");
        for o in &orders {
            assert_eq!(o.marketplace.as_str(), mp);
            assert_eq!(o.shop_id, "shop-1");
            assert_eq!(o.validate(), Ok(()), "{mp} {}", o.order_id);
            assert_eq!(o.ordered_at.offset().local_minus_utc(), 9 * 3600, "JST offset");
        }
    }
}

#[test]
fn api_error_bodies_exit_2_with_the_apis_own_code() {
    let cases = [
        (
            "rakuten",
            shared("rakuten", "searchOrder_400_official_doc_sample.json"),
            "ORDER_EXT_API_SEARCH_ORDER_ERROR_009",
        ),
        ("yahoo", shared("yahoo", "error_401_expired_token_kamiya54_fixture.xml"), "invalid_token"),
        ("yahoo", shared("yahoo", "error_invalid_params_kamiya54_fixture.xml"), "st-02101"),
        ("amazon", shared("amazon", "getOrders_400.json"), "InvalidInput"),
        ("amazon", shared("amazon", "createRestrictedDataToken_400.json"), "InvalidRequest"),
        ("aupay", fixture("aupay", "error_auth.xml"), "API error"),
        ("qoo10", fixture("qoo10", "error_auth.json"), "API error"),
    ];
    for (mp, file, code) in cases {
        let (exit, orders, stderr) = normalize(mp, std::slice::from_ref(&file));
        assert_eq!(exit, 2, "{}", file.display());
        assert!(orders.is_empty());
        assert!(stderr.contains(code), "{}: {stderr}", file.display());
    }
}

#[test]
fn real_api_output_maps_to_the_right_order() {
    let (code, orders, stderr) = normalize("rakuten", &[shared("rakuten", "getOrder_200_bkstorm_fixture.json")]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(orders.len(), 1);
    assert_eq!(orders[0].order_id, "360238-20180724-00000810");
    assert_eq!(orders[0].totals.total, 220);
}

#[test]
fn the_published_amazon_jp_v2026_example_maps_id_items_total_and_city() {
    // Amazon's own Amazon.co.jp searchOrders example of Orders API v2026-01-01 (provenance in
    // fixtures/amazon/SOURCES.txt).
    let (code, orders, stderr) = normalize("amazon", &[fixture("amazon", "searchOrders_jp_published_example.json")]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(orders.len(), 1);
    let o = &orders[0];
    assert_eq!(o.order_id, "250-1234567-8901234");
    let items: Vec<(&str, u32, i64)> = o.items.iter().map(|i| (i.sku.as_str(), i.quantity, i.unit_price)).collect();
    assert_eq!(items, [("ECHO-DOT-4-JP-CHARCOAL", 1, 5980), ("FIRE-TV-4K-MAX-JP", 2, 6980)]);
    assert_eq!((o.totals.goods, o.totals.total), (19_940, 19_940));
    assert_eq!(o.ship_to.city, "Tokyo");
    assert_eq!(o.ship_to.postal_code, "1500002");
    assert_eq!(o.status, ichigen_core::OrderStatus::Shipped);
}

#[test]
fn every_published_example_exits_0_or_2_and_never_panics() {
    for mp in ["rakuten", "yahoo", "amazon", "aupay", "qoo10"] {
        let dir = Path::new(SHARED).join(mp);
        let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e} (CI needs shared/)", dir.display()));
        for entry in entries {
            let path = entry.expect("dir entry").path();
            if path.file_name().is_some_and(|n| n == "SOURCES.txt") {
                continue;
            }
            let (code, _, stderr) = normalize(mp, std::slice::from_ref(&path));
            assert!(code == 0 || code == 2, "{}: exit {code}: {stderr}", path.display());
            if code == 2 {
                assert!(stderr.contains(mp), "the message names the marketplace: {stderr}");
            }
        }
    }
}

#[test]
fn malformed_input_exits_2_naming_marketplace_and_operation() {
    let dir = std::env::temp_dir().join(format!("ichigen-normalize-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp");
    let bad = dir.join("getOrder.json");
    std::fs::write(&bad, "{\"OrderModelList\": [{\"orderNumber\": ").expect("write");
    let (code, orders, stderr) = normalize("rakuten", &[bad]);
    assert_eq!(code, 2);
    assert!(orders.is_empty());
    assert!(stderr.contains("rakuten") && stderr.contains("getOrder"), "{stderr}");
}
