//! The real Amazon stock client (Listings Items API) against the Amazon sandbox's own stock.
#![allow(clippy::unwrap_used)] // Test helpers, not only #[test] functions, unwrap.

use std::time::Duration;

use chrono::DateTime;
use ichigen_core::OrderStatus;
use ichigen_core::stock::mall::{Failure, MallStock, Quantity, SetOutcome, Shown, StockFailure};
use ichigen_marketplaces::amazon::client::{AmazonClient, AmazonConfig, AmazonCredentials};
use ichigen_marketplaces::client::{HttpConfig, OrderSource, RetryPolicy};
use ichigen_sandbox::amazon::listings::SELLER_ID;
use ichigen_sandbox::amazon::{self, AmazonOptions, BackOffice};
use ichigen_sandbox::{Faults, SandboxConfig, Seed, Started};

async fn sandbox() -> (Started, BackOffice) {
    let config = SandboxConfig {
        port: 0,
        seed: Seed {
            orders: 0,
            seed: 5,
            start: DateTime::parse_from_rfc3339("2026-01-10T09:00:00+09:00").unwrap(),
            step_secs: 600,
            shop_id: "shop-a".into(),
        },
        faults: Faults::default(),
        throttle: Some(100.0),
    };
    let options = AmazonOptions { before_lag: chrono::Duration::seconds(1), ..AmazonOptions::default() };
    let (s, back) = amazon::start_with_office(config, options).await.unwrap();
    back.shelf().set_latency(Duration::ZERO);
    (s, back)
}

fn client(s: &Started) -> AmazonClient {
    let mut http = HttpConfig::new(s.base_url());
    http.retry = RetryPolicy { retries: 3, min_delay: Duration::from_millis(5), max_delay: Duration::from_millis(40) };
    http.timeout = Duration::from_secs(5);
    http.rate_scale = 100.0;
    let config = AmazonConfig {
        http,
        lwa_base_url: s.base_url(),
        before_lag: chrono::Duration::seconds(1),
        seller_id: Some(SELLER_ID.into()),
        ..AmazonConfig::new("shop-a")
    };
    let creds =
        AmazonCredentials::new(amazon::CLIENT_ID, amazon::CLIENT_SECRET.to_owned(), amazon::REFRESH_TOKEN.to_owned());
    AmazonClient::new(config, creds).unwrap()
}

fn q(item: &str, units: u32) -> Quantity {
    Quantity { item: item.into(), units }
}

async fn shown(c: &AmazonClient, items: &[&str]) -> Vec<Shown> {
    let items: Vec<String> = items.iter().map(|s| (*s).to_owned()).collect();
    c.read_quantities(&items).await.unwrap().into_iter().map(|r| r.shown).collect()
}

#[tokio::test]
async fn an_accepted_quantity_shows_after_amazons_processing() {
    let (s, back) = sandbox().await;
    back.list_item("MUG-WHT", 5);
    back.list_item("MUG/BLK#2", 5);
    back.shelf().set_latency(Duration::from_millis(300));
    let c = client(&s);
    let out = c.set_quantities(&[q("MUG-WHT", 12), q("MUG/BLK#2", 0)]).await.unwrap();
    assert!(out.iter().all(|r| r.outcome == SetOutcome::Written), "{out:?}");
    assert_eq!(shown(&c, &["MUG-WHT", "MUG/BLK#2"]).await, [Shown::Units(5), Shown::Units(5)], "ACCEPTED, not applied");
    tokio::time::sleep(Duration::from_millis(350)).await;
    assert_eq!(shown(&c, &["MUG-WHT", "MUG/BLK#2"]).await, [Shown::Units(12), Shown::Units(0)]);
    assert_eq!(back.stock("MUG/BLK#2"), Some(0), "a SKU with / and # reaches its own listing");
}

#[tokio::test]
async fn a_sale_takes_the_listings_quantity_and_cancels_restore_by_reason() {
    let (s, back) = sandbox().await;
    back.list_item("TEA-50G", 3);
    let c = client(&s);
    let a = back.buy(&[("TEA-50G", 2)]).unwrap();
    assert_eq!(shown(&c, &["TEA-50G"]).await, [Shown::Units(1)], "Amazon reserved and counted down");
    assert_eq!(back.buy(&[("TEA-50G", 2)]), None, "one offered: no order");
    let b = back.buy(&[("TEA-50G", 1)]).unwrap();
    assert_eq!(back.buy(&[("TEA-50G", 1)]), None, "sold out");
    back.cancel(&a, "BUYER").unwrap();
    assert_eq!(shown(&c, &["TEA-50G"]).await, [Shown::Units(2)], "a buyer's cancel restores");
    back.cancel_for_no_inventory(&b).unwrap();
    assert_eq!(shown(&c, &["TEA-50G"]).await, [Shown::Units(2)], "a no-inventory cancel does not");
    // The buyers' orders are Amazon orders the order client reads.
    let page = c.orders_by_id(std::slice::from_ref(&a)).await.unwrap();
    assert_eq!(page.orders[0].status, OrderStatus::Cancelled);
    assert_eq!(page.orders[0].items[0].sku, "TEA-50G");
}

#[tokio::test]
async fn an_fba_sku_is_never_written() {
    let (s, back) = sandbox().await;
    back.list_fba_item("TOWEL-FBA", 40);
    back.list_item("TOWEL-2P", 4);
    let c = client(&s);
    let writes = back.shelf().write_calls();
    let out = c.set_quantities(&[q("TOWEL-FBA", 3)]).await.unwrap();
    assert_eq!(out[0].outcome, SetOutcome::MallManaged);
    assert_eq!(back.shelf().write_calls(), writes, "no PATCH for an FBA SKU");
    let out = c.set_quantities(&[q("TOWEL-FBA", 3), q("TOWEL-2P", 9)]).await.unwrap();
    assert_eq!(
        out.iter().map(|r| r.outcome.clone()).collect::<Vec<_>>(),
        [SetOutcome::MallManaged, SetOutcome::Written]
    );
    assert_eq!(back.shelf().write_calls(), writes + 1, "only the seller-fulfilled SKU");
    assert!(back.is_fba("TOWEL-FBA") && back.stranded().is_empty());
    assert_eq!(shown(&c, &["TOWEL-FBA", "TOWEL-2P"]).await, [Shown::MallManaged(40), Shown::Units(9)]);
}

#[tokio::test]
async fn each_sku_is_one_patch_and_a_read_takes_twenty() {
    let (s, back) = sandbox().await;
    let skus: Vec<String> = (0..21).map(|i| format!("SKU-{i:02}")).collect();
    for k in &skus {
        back.list_item(k, 1);
    }
    let c = client(&s);
    let (w, r) = (back.shelf().write_calls(), back.shelf().read_calls());
    let all: Vec<Quantity> = skus.iter().map(|k| q(k, 6)).collect();
    c.set_quantities(&all).await.unwrap();
    assert_eq!(back.shelf().write_calls() - w, 21, "one PATCH a SKU");
    assert_eq!(back.shelf().read_calls() - r, 2, "21 SKUs read in two searches of ≤20");
    let read = shown(&c, &skus.iter().map(String::as_str).collect::<Vec<_>>()).await;
    assert!(read.iter().all(|x| *x == Shown::Units(6)));
}

#[tokio::test]
async fn a_revoked_authorisation_is_the_credentials_error() {
    let (s, back) = sandbox().await;
    back.list_item("MUG-WHT", 5);
    back.revoke_authorization();
    let c = client(&s);
    let e = c.set_quantities(&[q("MUG-WHT", 1)]).await.unwrap_err();
    assert_eq!(e.failure(), Failure::Credentials, "{e}");
    assert_eq!(back.stock("MUG-WHT"), Some(5));
}

#[tokio::test]
async fn an_unknown_sku_is_accepted_and_the_read_back_shows_it_missing() {
    let (s, back) = sandbox().await;
    back.list_item("MUG-WHT", 5);
    let c = client(&s);
    let out = c.set_quantities(&[q("MUG-WHX", 4), q("MUG-WHT", 4)]).await.unwrap();
    assert_eq!(out[0].outcome, SetOutcome::Written, "Amazon accepts a PATCH for a SKU it does not know");
    assert_eq!(out[1].outcome, SetOutcome::Written);
    assert_eq!(shown(&c, &["MUG-WHX", "MUG-WHT"]).await, [Shown::Missing, Shown::Units(4)]);
}

#[tokio::test]
async fn an_edit_in_seller_central_is_what_the_read_finds() {
    let (s, back) = sandbox().await;
    back.list_item("MUG-WHT", 5);
    let c = client(&s);
    assert!(back.edit_stock("MUG-WHT", 11));
    assert_eq!(shown(&c, &["MUG-WHT"]).await, [Shown::Units(11)]);
    assert!(!back.edit_stock("NOPE", 1));
}
