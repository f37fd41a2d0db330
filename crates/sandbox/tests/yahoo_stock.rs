//! The real Yahoo!ショッピング stock client (setStock / getStock) against the Yahoo sandbox's own stock.
#![allow(clippy::unwrap_used)] // Test helpers, not only #[test] functions, unwrap.

use std::time::Duration;

use chrono::DateTime;
use ichigen_core::OrderStatus;
use ichigen_core::stock::mall::{Failure, MallStock, Quantity, SetOutcome, Shown, StockFailure};
use ichigen_marketplaces::client::{HttpConfig, OrderSource, RetryPolicy};
use ichigen_marketplaces::yahoo::{YahooClient, YahooCredentials};
use ichigen_sandbox::yahoo::{self, Control};
use ichigen_sandbox::{Faults, SandboxConfig, Seed, Started};
use secrecy::SecretString;

async fn sandbox() -> (Started, Control) {
    let seed = Seed {
        orders: 0,
        seed: 7,
        start: DateTime::parse_from_rfc3339("2026-01-10T09:00:00+09:00").unwrap(),
        step_secs: 600,
        shop_id: "shop-y".into(),
    };
    yahoo::start_with_control(SandboxConfig { port: 0, seed, faults: Faults::default(), throttle: Some(1_000.0) })
        .await
        .unwrap()
}

fn cred(s: &Started, name: &str) -> String {
    s.credentials.iter().find(|(n, _)| *n == name).map(|(_, v)| v.clone()).unwrap()
}

fn client(s: &Started) -> YahooClient {
    let creds = YahooCredentials {
        seller_id: cred(s, "seller_id"),
        client_id: cred(s, "client_id"),
        client_secret: SecretString::from(cred(s, "client_secret")),
        refresh_token: SecretString::from(cred(s, "refresh_token")),
        public_key_pem: SecretString::from(cred(s, "public_key_pem")),
        key_version: cred(s, "key_version"),
        token_url: cred(s, "token_url"),
    };
    let http = HttpConfig {
        base_url: s.base_url(),
        timeout: Duration::from_secs(3),
        retry: RetryPolicy { retries: 3, min_delay: Duration::from_millis(5), max_delay: Duration::from_millis(50) },
        rate_scale: 1_000.0,
    };
    YahooClient::new(http, "shop-y", creds).unwrap()
}

fn q(item: &str, units: u32) -> Quantity {
    Quantity { item: item.into(), units }
}

async fn shown(c: &YahooClient, items: &[&str]) -> Vec<Shown> {
    let items: Vec<String> = items.iter().map(|s| (*s).to_owned()).collect();
    c.read_quantities(&items).await.unwrap().into_iter().map(|r| r.shown).collect()
}

#[tokio::test]
async fn a_write_shows_after_the_delay_and_reads_back_by_code_and_subcode() {
    let (s, control) = sandbox().await;
    control.list_item("mug-wht", 5, true);
    control.list_item("tshirt:tshirt-m-blk", 2, true);
    control.shelf().set_latency(Duration::from_millis(300));
    let c = client(&s);
    let out = c.set_quantities(&[q("mug-wht", 12), q("tshirt:tshirt-m-blk", 0)]).await.unwrap();
    assert!(out.iter().all(|r| r.outcome == SetOutcome::Written), "{out:?}");
    assert_eq!(shown(&c, &["mug-wht", "tshirt:tshirt-m-blk"]).await, [Shown::Units(5), Shown::Units(2)]);
    tokio::time::sleep(Duration::from_millis(350)).await;
    assert_eq!(shown(&c, &["mug-wht", "tshirt:tshirt-m-blk"]).await, [Shown::Units(12), Shown::Units(0)]);
}

#[tokio::test]
async fn buyers_take_the_stores_stock_and_cancels_restore_as_the_item_says() {
    let (s, control) = sandbox().await;
    control.list_item("mug-wht", 2, true);
    control.list_item("tea-50g", 2, false);
    let c = client(&s);
    let a = control.buy(&[("mug-wht", 1), ("tea-50g", 2)]).unwrap();
    assert_eq!(shown(&c, &["mug-wht", "tea-50g"]).await, [Shown::Units(1), Shown::Units(0)]);
    assert_eq!(control.buy(&[("tea-50g", 1)]), None, "sold out: no order");
    assert!(control.cancel(&a).is_some());
    assert_eq!(
        shown(&c, &["mug-wht", "tea-50g"]).await,
        [Shown::Units(2), Shown::Units(0)],
        "mug restocks, tea does not"
    );
    let page = c.orders_by_id(std::slice::from_ref(&a)).await.unwrap();
    assert_eq!(page.orders[0].status, OrderStatus::Cancelled);
    assert_eq!(s.book.all().len(), 1);
}

#[tokio::test]
async fn a_thousand_codes_are_one_call() {
    let (s, control) = sandbox().await;
    let codes: Vec<String> = (0..1_001).map(|i| format!("sku-{i:04}")).collect();
    for k in &codes {
        control.list_item(k, 1, true);
    }
    let c = client(&s);
    let before = control.shelf().write_calls();
    c.set_quantities(&codes[..1_000].iter().map(|k| q(k, 4)).collect::<Vec<_>>()).await.unwrap();
    assert_eq!(control.shelf().write_calls() - before, 1);
    c.set_quantities(&codes.iter().map(|k| q(k, 5)).collect::<Vec<_>>()).await.unwrap();
    assert_eq!(control.shelf().write_calls() - before, 3);
    let reads = control.shelf().read_calls();
    let read = shown(&c, &codes.iter().map(String::as_str).collect::<Vec<_>>()).await;
    assert!(read.iter().all(|r| *r == Shown::Units(5)));
    assert_eq!(control.shelf().read_calls() - reads, 2, "1,001 codes: two getStock calls");
}

#[tokio::test]
async fn a_lapsed_refresh_token_is_the_credentials_error() {
    let (s, control) = sandbox().await;
    control.list_item("mug-wht", 5, true);
    control.revoke_refresh_tokens();
    let c = client(&s);
    let e = c.set_quantities(&[q("mug-wht", 1)]).await.unwrap_err();
    assert_eq!(e.failure(), Failure::Credentials, "{e}");
    assert_eq!(control.stock("mug-wht"), Some(5));
}

#[tokio::test]
async fn an_unknown_code_is_taken_silently_and_the_read_back_shows_it_missing() {
    let (s, control) = sandbox().await;
    control.list_item("mug-wht", 5, true);
    let c = client(&s);
    let out = c.set_quantities(&[q("mug-whx", 4), q("mug-wht", 4), q("マグ", 1)]).await.unwrap();
    assert_eq!(out[0].outcome, SetOutcome::Written, "Yahoo keeps a number for a code it does not know");
    assert_eq!(out[1].outcome, SetOutcome::Written);
    assert!(matches!(out[2].outcome, SetOutcome::Refused { .. }));
    assert_eq!(shown(&c, &["mug-whx", "mug-wht"]).await, [Shown::Missing, Shown::Units(4)]);
    control.list_item("mug-whx", 0, true);
    assert_eq!(shown(&c, &["mug-whx"]).await, [Shown::Units(4)], "linked when the item is registered");
}

#[tokio::test]
async fn an_edit_in_store_creator_is_what_the_read_finds() {
    let (s, control) = sandbox().await;
    control.list_item("mug-wht", 5, true);
    let c = client(&s);
    assert!(control.edit_stock("mug-wht", 9));
    assert_eq!(shown(&c, &["mug-wht"]).await, [Shown::Units(9)]);
}
