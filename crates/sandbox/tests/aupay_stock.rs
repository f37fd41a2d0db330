//! The real au PAY マーケット stock client (updateStock / searchStocks) against the sandbox's own stock.
#![allow(clippy::unwrap_used)] // Test helpers, not only #[test] functions, unwrap.

use std::time::Duration;

use chrono::DateTime;
use ichigen_core::stock::mall::{Failure, MallStock, Quantity, SetOutcome, Shown, StockFailure};
use ichigen_marketplaces::aupay::client::{AupayClient, AupayCredentials};
use ichigen_marketplaces::client::{HttpConfig, OrderSource, RetryPolicy};
use ichigen_sandbox::aupay::{self, API_KEY, SHOP_ID, Stockroom};
use ichigen_sandbox::{Faults, SandboxConfig, Seed, Started};
use secrecy::SecretString;

async fn sandbox() -> (Started, Stockroom) {
    let seed = Seed {
        orders: 0,
        seed: 9,
        start: DateTime::parse_from_rfc3339("2026-01-10T09:00:00+09:00").unwrap(),
        step_secs: 600,
        shop_id: "shop-w".into(),
    };
    aupay::start_with_stock(SandboxConfig { port: 0, seed, faults: Faults::default(), throttle: Some(1_000.0) })
        .await
        .unwrap()
}

fn client(s: &Started) -> AupayClient {
    let http = HttpConfig {
        base_url: s.base_url(),
        timeout: Duration::from_secs(3),
        retry: RetryPolicy { retries: 3, min_delay: Duration::from_millis(5), max_delay: Duration::from_millis(50) },
        rate_scale: 1_000.0,
    };
    let creds = AupayCredentials { shop_id: SecretString::from(SHOP_ID), api_key: SecretString::from(API_KEY) };
    AupayClient::new(http, "shop-w", creds).unwrap()
}

fn q(item: &str, units: u32) -> Quantity {
    Quantity { item: item.into(), units }
}

async fn shown(c: &AupayClient, items: &[&str]) -> Vec<Shown> {
    let items: Vec<String> = items.iter().map(|s| (*s).to_owned()).collect();
    c.read_quantities(&items).await.unwrap().into_iter().map(|r| r.shown).collect()
}

#[tokio::test]
async fn normal_and_option_stock_are_written_and_read_back_after_the_delay() {
    let (s, room) = sandbox().await;
    room.list_item("MUG-WHT", 5);
    room.list_option("SHIRT", "RED", "M", 1);
    room.list_option("SHIRT", "RED", "L", 1);
    room.list_option("CAP", "BLK", "", 1);
    room.shelf().set_latency(Duration::from_millis(300));
    let c = client(&s);
    let items = ["MUG-WHT", "SHIRT:RED:M", "SHIRT:RED:L", "CAP:BLK:"];
    let out = c.set_quantities(&[q(items[0], 12), q(items[1], 3), q(items[2], 0), q(items[3], 7)]).await.unwrap();
    assert!(out.iter().all(|r| r.outcome == SetOutcome::Written), "{out:?}");
    assert_eq!(shown(&c, &items).await, [Shown::Units(5), Shown::Units(1), Shown::Units(1), Shown::Units(1)]);
    tokio::time::sleep(Duration::from_millis(350)).await;
    assert_eq!(shown(&c, &items).await, [Shown::Units(12), Shown::Units(3), Shown::Units(0), Shown::Units(7)]);
}

#[tokio::test]
async fn a_sale_counts_down_and_a_cancel_gives_nothing_back() {
    let (s, room) = sandbox().await;
    room.list_item("TEA-50G", 2);
    let c = client(&s);
    let a = room.buy(&[("TEA-50G", 2)]).unwrap();
    assert_eq!(shown(&c, &["TEA-50G"]).await, [Shown::Units(0)]);
    assert_eq!(room.buy(&[("TEA-50G", 1)]), None, "sold out: no order");
    assert!(room.cancel(&a).is_some());
    assert_eq!(shown(&c, &["TEA-50G"]).await, [Shown::Units(0)], "au PAY is taken not to restore (unverified)");
    let page = c.orders_by_id(std::slice::from_ref(&a)).await.unwrap();
    assert_eq!(page.orders.len(), 1);
    assert_eq!(page.orders[0].items[0].sku, "TEA-50G");
}

#[tokio::test]
async fn two_hundred_items_are_one_call() {
    let (s, room) = sandbox().await;
    let codes: Vec<String> = (0..201).map(|i| format!("SKU-{i:03}")).collect();
    for k in &codes {
        room.list_item(k, 1);
    }
    let c = client(&s);
    let before = room.shelf().write_calls();
    c.set_quantities(&codes[..200].iter().map(|k| q(k, 4)).collect::<Vec<_>>()).await.unwrap();
    assert_eq!(room.shelf().write_calls() - before, 1);
    c.set_quantities(&codes.iter().map(|k| q(k, 5)).collect::<Vec<_>>()).await.unwrap();
    assert_eq!(room.shelf().write_calls() - before, 3);
    let read = shown(&c, &codes.iter().map(String::as_str).collect::<Vec<_>>()).await;
    assert!(read.iter().all(|r| *r == Shown::Units(5)));
}

#[tokio::test]
async fn an_expired_api_key_is_the_credentials_error() {
    let (s, room) = sandbox().await;
    room.list_item("MUG-WHT", 5);
    room.expire_api_key();
    let c = client(&s);
    let e = c.set_quantities(&[q("MUG-WHT", 1)]).await.unwrap_err();
    assert_eq!(e.failure(), Failure::Credentials, "{e}");
    assert_eq!(room.stock("MUG-WHT"), Some(5));
}

#[tokio::test]
async fn an_unknown_item_is_refused_on_its_own_and_the_others_written() {
    let (s, room) = sandbox().await;
    room.list_item("MUG-WHT", 5);
    let c = client(&s);
    let out = c.set_quantities(&[q("MUG-WHX", 4), q("MUG-WHT", 4), q("bad:code", 1)]).await.unwrap();
    assert!(matches!(&out[0].outcome, SetOutcome::Refused { code, .. } if code == aupay::stock::ITEM_REFUSED));
    assert_eq!(out[1].outcome, SetOutcome::Written);
    assert!(matches!(out[2].outcome, SetOutcome::Refused { .. }), "not a key this client writes");
    assert_eq!(shown(&c, &["MUG-WHX", "MUG-WHT"]).await, [Shown::Missing, Shown::Units(4)]);
}

#[tokio::test]
async fn an_edit_in_wow_manager_is_what_the_read_finds() {
    let (s, room) = sandbox().await;
    room.list_item("MUG-WHT", 5);
    let c = client(&s);
    assert!(room.edit_stock("MUG-WHT", 2));
    assert_eq!(shown(&c, &["MUG-WHT"]).await, [Shown::Units(2)]);
}
