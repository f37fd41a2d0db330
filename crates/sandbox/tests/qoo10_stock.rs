//! The real Qoo10 stock client (SetGoodsPriceQtyBulk after GetItemDetailInfo, UpdateInventoryQtyUnit
//! after GetGoodsInventoryInfo) against the Qoo10 sandbox's own stock.
#![allow(clippy::unwrap_used)] // Test helpers, not only #[test] functions, unwrap.

use std::time::Duration;

use chrono::{DateTime, NaiveDate};
use ichigen_core::stock::mall::{Failure, MallStock, Quantity, SetOutcome, Shown, StockFailure};
use ichigen_core::{Marketplace, OrderStatus};
use ichigen_marketplaces::client::{HttpConfig, OrderSource, RetryPolicy};
use ichigen_marketplaces::qoo10::{Qoo10Client, Qoo10Credentials};
use ichigen_marketplaces::{HttpSettings, MarketplaceSecret, build_client};
use ichigen_sandbox::qoo10::{self, BackOffice, Options, WRITE_DELAY};
use ichigen_sandbox::{Faults, SandboxConfig, Seed, Started};

const SCALE: f64 = 1_000.0;

async fn sandbox() -> (Started, BackOffice) {
    let seed = Seed {
        orders: 0,
        seed: 11,
        start: DateTime::parse_from_rfc3339("2026-01-10T09:00:00+09:00").unwrap(),
        step_secs: 600,
        shop_id: "shop-q".into(),
    };
    let config = SandboxConfig { port: 0, seed, faults: Faults::default(), throttle: Some(SCALE) };
    qoo10::start_with_back_office(config, Options::default()).await.unwrap()
}

fn credential(s: &Started, name: &str) -> String {
    s.credentials.iter().find(|(n, _)| *n == name).map(|(_, v)| v.clone()).unwrap()
}

fn client(s: &Started) -> Qoo10Client {
    let http = HttpConfig {
        base_url: s.base_url(),
        timeout: Duration::from_secs(5),
        retry: RetryPolicy { retries: 3, min_delay: Duration::from_millis(5), max_delay: Duration::from_millis(50) },
        rate_scale: SCALE,
    };
    let creds = Qoo10Credentials::new(credential(s, "api_key"), credential(s, "user_id"), credential(s, "password"));
    Qoo10Client::new(http, creds, "shop-q").unwrap()
}

fn q(item: &str, units: u32) -> Quantity {
    Quantity { item: item.into(), units }
}

fn day(y: i32, m: u32, d: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(y, m, d)
}

async fn shown<C: MallStock>(c: &C, items: &[&str]) -> Vec<Shown> {
    let items: Vec<String> = items.iter().map(|s| (*s).to_owned()).collect();
    c.read_quantities(&items).await.unwrap().into_iter().map(|r| r.shown).collect()
}

/// A shirt with two option rows (two axes) and a mug without options.
fn shop(back: &BackOffice) {
    back.list_item("MUG-WHT", 5, Some(1_980), day(2027, 3, 31));
    back.list_option("SHIRT", &[("カラー", "RED"), ("サイズ", "S")], "SHIRT-RED-S", 0, 1);
    back.list_option("SHIRT", &[("カラー", "RED"), ("サイズ", "M")], "SHIRT-RED-M", 200, 1);
}

#[tokio::test]
async fn items_and_option_rows_are_written_and_read_back_after_the_delay() {
    let (s, back) = sandbox().await;
    shop(&back);
    assert_eq!(back.shelf().latency(), WRITE_DELAY.div_f64(SCALE), "up to 10 minutes, scaled");
    let c = client(&s);
    let items = ["MUG-WHT", "SHIRT-RED-S", "SHIRT-RED-M"];
    let out = c.set_quantities(&[q(items[0], 12), q(items[1], 3), q(items[2], 0)]).await.unwrap();
    assert!(out.iter().all(|r| r.outcome == SetOutcome::Written), "{out:?}");
    assert_eq!(shown(&c, &items).await, [Shown::Units(5), Shown::Units(1), Shown::Units(1)], "not yet");
    tokio::time::sleep(back.shelf().latency() + Duration::from_millis(100)).await;
    assert_eq!(shown(&c, &items).await, [Shown::Units(12), Shown::Units(3), Shown::Units(0)]);
    assert_eq!(back.stock("SHIRT-RED-S"), Some(3), "what buyers see");
}

#[tokio::test]
async fn a_write_leaves_price_and_sale_end_unchanged() {
    let (s, back) = sandbox().await;
    shop(&back);
    back.shelf().set_latency(Duration::ZERO);
    let c = client(&s);
    let out = c.set_quantities(&[q("MUG-WHT", 40), q("SHIRT-RED-M", 6)]).await.unwrap();
    assert!(out.iter().all(|r| r.outcome == SetOutcome::Written), "{out:?}");
    assert_eq!(back.stock("MUG-WHT"), Some(40));
    assert_eq!(back.stock("SHIRT-RED-M"), Some(6));
    // The sandbox moves an empty sale end to a year from now and takes any price it is sent.
    assert_eq!(back.price_and_end("MUG-WHT"), Some((Some(1_980), day(2027, 3, 31))));
    assert_eq!(back.option_price("SHIRT-RED-M"), Some(200));
}

#[tokio::test]
async fn an_item_whose_price_or_end_date_cannot_be_read_is_refused_not_written() {
    let (s, back) = sandbox().await;
    back.list_item("NO-PRICE", 5, None, day(2027, 3, 31));
    back.list_item("NO-END", 5, Some(800), None);
    back.list_item("TEA-50G", 5, Some(500), day(2026, 12, 31));
    back.shelf().set_latency(Duration::ZERO);
    let c = client(&s);
    let out = c.set_quantities(&[q("NO-PRICE", 1), q("NO-END", 1), q("TEA-50G", 2)]).await.unwrap();
    assert!(matches!(&out[0].outcome, SetOutcome::Refused { code, .. } if code == "ItemPrice"), "{out:?}");
    assert!(matches!(&out[1].outcome, SetOutcome::Refused { code, .. } if code == "ExpireDate"), "{out:?}");
    assert_eq!(out[2].outcome, SetOutcome::Written);
    assert_eq!((back.stock("NO-PRICE"), back.stock("NO-END"), back.stock("TEA-50G")), (Some(5), Some(5), Some(2)));
    assert_eq!(back.price_and_end("NO-PRICE"), Some((None, day(2027, 3, 31))));
    assert_eq!(back.price_and_end("NO-END"), Some((Some(800), None)), "not moved to a year from now");
}

#[tokio::test]
async fn an_item_with_option_stock_named_by_its_seller_code_is_refused() {
    let (s, back) = sandbox().await;
    shop(&back);
    let c = client(&s);
    let writes = back.shelf().write_calls();
    let out = c.set_quantities(&[q("SHIRT", 10)]).await.unwrap();
    assert!(matches!(&out[0].outcome, SetOutcome::Refused { code, .. } if code == "options"), "{out:?}");
    assert_eq!(back.shelf().write_calls(), writes);
    assert_eq!((back.stock("SHIRT-RED-S"), back.stock("SHIRT-RED-M")), (Some(1), Some(1)));
}

#[tokio::test]
async fn a_sale_counts_down_a_cancel_gives_back_and_the_order_line_names_the_listed_item() {
    let (s, back) = sandbox().await;
    shop(&back);
    let c = client(&s);
    let a = back.buy(&[("SHIRT-RED-S", 1), ("MUG-WHT", 2)]).unwrap();
    assert_eq!(shown(&c, &["SHIRT-RED-S", "MUG-WHT"]).await, [Shown::Units(0), Shown::Units(3)]);
    assert_eq!(back.buy(&[("SHIRT-RED-S", 1)]), None, "sold out: no order");
    assert_eq!(back.buy(&[("NOT-LISTED", 1)]), None);
    // The order client reads the sale with the same identities the stock client writes.
    let page = c.orders_by_id(std::slice::from_ref(&a)).await.unwrap();
    assert_eq!(page.orders.len(), 1, "{page:?}");
    let mut skus: Vec<&str> = page.orders[0].items.iter().map(|i| i.sku.as_str()).collect();
    skus.sort_unstable();
    assert_eq!(skus, ["MUG-WHT", "SHIRT-RED-S"]);
    assert!(back.cancel(&a));
    assert_eq!(
        shown(&c, &["SHIRT-RED-S", "MUG-WHT"]).await,
        [Shown::Units(1), Shown::Units(5)],
        "Qoo10 is taken to restore on cancel (unverified)"
    );
    assert!(!back.cancel("900000999"), "no such pack");
    let page = c.orders_by_id(&[a]).await.unwrap();
    assert_eq!(page.orders[0].status, OrderStatus::Cancelled);
}

#[tokio::test]
async fn five_hundred_items_are_one_write_call_and_the_501st_a_second() {
    let (s, back) = sandbox().await;
    let codes: Vec<String> = (0..501).map(|i| format!("SKU-{i:03}")).collect();
    for k in &codes {
        back.list_item(k, 1, Some(1_000), day(2027, 1, 31));
    }
    back.shelf().set_latency(Duration::ZERO);
    let c = client(&s);
    let before = back.shelf().write_calls();
    let out = c.set_quantities(&codes[..500].iter().map(|k| q(k, 4)).collect::<Vec<_>>()).await.unwrap();
    assert!(out.iter().all(|r| r.outcome == SetOutcome::Written));
    assert_eq!(back.shelf().write_calls() - before, 1, "500 rows: one SetGoodsPriceQtyBulk");
    c.set_quantities(&codes.iter().map(|k| q(k, 5)).collect::<Vec<_>>()).await.unwrap();
    assert_eq!(back.shelf().write_calls() - before, 3, "501 rows: two more");
    let read = shown(&c, &codes.iter().map(String::as_str).collect::<Vec<_>>()).await;
    assert!(read.iter().all(|r| *r == Shown::Units(5)));
}

#[tokio::test]
async fn an_expired_key_is_the_credentials_error_and_nothing_is_written() {
    let (s, back) = sandbox().await;
    shop(&back);
    let c = client(&s);
    assert_eq!(shown(&c, &["MUG-WHT"]).await, [Shown::Units(5)], "a seller key in hand");
    back.expire_key();
    let writes = back.shelf().write_calls();
    let e = c.set_quantities(&[q("MUG-WHT", 1), q("SHIRT-RED-S", 1)]).await.unwrap_err();
    assert_eq!(e.failure(), Failure::Credentials, "{e}");
    let e = c.read_quantities(&["MUG-WHT".into()]).await.unwrap_err();
    assert_eq!(e.failure(), Failure::Credentials, "{e}");
    assert_eq!(back.shelf().write_calls(), writes);
    assert_eq!(back.stock("MUG-WHT"), Some(5));
}

#[tokio::test]
async fn an_unknown_item_is_unknown_on_its_own_and_the_others_written() {
    let (s, back) = sandbox().await;
    shop(&back);
    back.shelf().set_latency(Duration::ZERO);
    let c = client(&s);
    let out = c
        .set_quantities(&[q("MUG-WHX", 4), q("SHIRT-RED-L", 4), q("MUG-WHT", 4), q("SHIRT-RED-S", 2), q(" bad", 1)])
        .await
        .unwrap();
    assert_eq!(out[0].outcome, SetOutcome::Unknown, "-10001 for the seller code");
    assert_eq!(out[1].outcome, SetOutcome::Unknown, "no option row has this code");
    assert_eq!(out[2].outcome, SetOutcome::Written);
    assert_eq!(out[3].outcome, SetOutcome::Written, "found by walking the catalogue");
    assert!(matches!(out[4].outcome, SetOutcome::Refused { .. }), "not a code Qoo10 takes");
    let read = shown(&c, &["MUG-WHX", "SHIRT-RED-L", "MUG-WHT", "SHIRT-RED-S"]).await;
    assert_eq!(read, [Shown::Missing, Shown::Missing, Shown::Units(4), Shown::Units(2)]);
}

#[tokio::test]
async fn an_edit_in_qsm_is_what_the_read_finds() {
    let (s, back) = sandbox().await;
    shop(&back);
    back.shelf().set_latency(Duration::from_secs(60));
    let c = client(&s);
    c.set_quantities(&[q("MUG-WHT", 30), q("SHIRT-RED-M", 30)]).await.unwrap();
    assert!(back.edit_stock("MUG-WHT", 8) && back.edit_stock("SHIRT-RED-M", 2));
    assert_eq!(shown(&c, &["MUG-WHT", "SHIRT-RED-M"]).await, [Shown::Units(8), Shown::Units(2)]);
    assert!(!back.edit_stock("NOPE", 1));
}

#[tokio::test]
async fn the_client_built_from_the_shops_secret_serves_the_stock_port() {
    let (s, back) = sandbox().await;
    shop(&back);
    back.shelf().set_latency(Duration::ZERO);
    let secret = MarketplaceSecret::from_json(&ichigen_sandbox::secret_json(Marketplace::Qoo10, &s)).unwrap();
    let settings = HttpSettings {
        timeout: Duration::from_secs(5),
        retry: RetryPolicy { retries: 3, min_delay: Duration::from_millis(5), max_delay: Duration::from_millis(50) },
        rate_scale: SCALE,
    };
    let any = build_client("shop-q", &secret, settings).unwrap();
    assert_eq!(MallStock::marketplace(&any), Marketplace::Qoo10);
    assert_eq!((any.max_items_per_write(), any.max_items_per_read()), (500, 1));
    let out = any.set_quantities(&[q("SHIRT-RED-M", 9)]).await.unwrap();
    assert_eq!(out[0].outcome, SetOutcome::Written);
    assert_eq!(shown(&any, &["SHIRT-RED-M"]).await, [Shown::Units(9)]);
    assert_eq!(OrderSource::marketplace(&any), Marketplace::Qoo10);
}
