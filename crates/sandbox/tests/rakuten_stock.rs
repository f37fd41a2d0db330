//! The real Rakuten stock client (InventoryAPI 2.0) against the Rakuten sandbox's own stock.
#![allow(clippy::unwrap_used)] // Test helpers, not only #[test] functions, unwrap.

use std::time::Duration;

use chrono::DateTime;
use ichigen_core::OrderStatus;
use ichigen_core::stock::mall::{Failure, MallStock, Quantity, SetOutcome, Shown, StockFailure};
use ichigen_marketplaces::client::{HttpConfig, OrderSource, RetryPolicy};
use ichigen_marketplaces::rakuten::RakutenClient;
use ichigen_marketplaces::rakuten::client::SecretString;
use ichigen_sandbox::rakuten::{self, BackOffice, LICENSE_KEY, SERVICE_SECRET};
use ichigen_sandbox::{Faults, Restock, SandboxConfig, Seed, Started};

async fn sandbox(throttle: Option<f64>) -> (Started, BackOffice) {
    let config = SandboxConfig {
        port: 0,
        seed: Seed {
            orders: 0,
            seed: 3,
            start: DateTime::parse_from_rfc3339("2026-01-10T09:00:00+09:00").unwrap(),
            step_secs: 600,
            shop_id: "shop-r".into(),
        },
        faults: Faults::default(),
        throttle,
    };
    rakuten::start_with_back_office(config, rakuten::RESULT_CAP).await.unwrap()
}

fn client(s: &Started, rate_scale: f64) -> RakutenClient {
    let http = HttpConfig {
        timeout: Duration::from_secs(5),
        retry: RetryPolicy { retries: 3, min_delay: Duration::from_millis(5), max_delay: Duration::from_millis(40) },
        rate_scale,
        ..HttpConfig::new(s.base_url())
    };
    RakutenClient::new(http, "shop-r", &SecretString::from(SERVICE_SECRET), &SecretString::from(LICENSE_KEY)).unwrap()
}

fn q(item: &str, units: u32) -> Quantity {
    Quantity { item: item.into(), units }
}

async fn shown(c: &RakutenClient, items: &[&str]) -> Vec<Shown> {
    let items: Vec<String> = items.iter().map(|s| (*s).to_owned()).collect();
    c.read_quantities(&items).await.unwrap().into_iter().map(|r| r.shown).collect()
}

#[tokio::test]
async fn a_write_shows_after_the_malls_delay_and_reads_back() {
    let (s, back) = sandbox(None).await;
    back.list_item("MUG-WHT", 5, true);
    back.list_item("TEA-50G", 3, true);
    back.shelf().set_latency(Duration::from_millis(300));
    let c = client(&s, 1_000.0);
    // By SKU管理番号 alone (as order lines carry it) and by manageNumber:variantId.
    let out = c.set_quantities(&[q("MUG-WHT", 12), q("tea-50g:TEA-50G", 0)]).await.unwrap();
    assert!(out.iter().all(|r| r.outcome == SetOutcome::Written), "{out:?}");
    assert_eq!(shown(&c, &["MUG-WHT", "TEA-50G"]).await, [Shown::Units(5), Shown::Units(3)], "not yet");
    assert_eq!(back.stock("mug-wht", "MUG-WHT"), Some(5), "nor on the storefront");
    tokio::time::sleep(Duration::from_millis(350)).await;
    assert_eq!(shown(&c, &["MUG-WHT", "TEA-50G"]).await, [Shown::Units(12), Shown::Units(0)]);
    assert_eq!(back.stock("MUG-WHT", "MUG-WHT"), Some(12), "manageNumber is folded to lower case");
    assert_eq!(back.stock("mug-wht", "mug-wht"), None, "variantId is case-sensitive");
}

#[tokio::test]
async fn buyers_take_the_malls_stock_and_a_sold_out_item_gets_no_order() {
    let (s, back) = sandbox(None).await;
    back.list_item("MUG-WHT", 2, true);
    let c = client(&s, 1_000.0);
    let first = back.buy(&[("MUG-WHT", 1)]).unwrap();
    assert_eq!(shown(&c, &["MUG-WHT"]).await, [Shown::Units(1)], "the mall counted the sale down itself");
    assert_eq!(back.buy(&[("MUG-WHT", 2)]), None, "only one shows");
    assert!(back.buy(&[("MUG-WHT", 1)]).is_some());
    assert_eq!(back.buy(&[("MUG-WHT", 1)]), None, "sold out: no order");
    assert_eq!(back.buy(&[("NOT-LISTED", 1)]), None);
    assert_eq!(s.book.all().len(), 2, "two orders placed, the refused buyers placed none");
    // The orders are real orders of the sandbox, pulled by the order client.
    let page = c.orders_by_id(std::slice::from_ref(&first)).await.unwrap();
    assert_eq!(page.orders.len(), 1);
    assert_eq!(page.orders[0].items[0].sku, "MUG-WHT");
    assert_eq!(page.orders[0].status, OrderStatus::New);
}

#[tokio::test]
async fn a_cancel_restores_as_the_sku_and_the_cancel_say() {
    let (s, back) = sandbox(None).await;
    back.list_item("MUG-WHT", 3, true);
    back.list_item("TEA-50G", 3, false);
    let c = client(&s, 1_000.0);
    let a = back.buy(&[("MUG-WHT", 1), ("TEA-50G", 1)]).unwrap();
    let b = back.buy(&[("MUG-WHT", 1)]).unwrap();
    assert_eq!(shown(&c, &["MUG-WHT", "TEA-50G"]).await, [Shown::Units(1), Shown::Units(2)]);
    assert!(back.cancel(&a), "follows each SKU's 在庫戻しフラグ");
    assert_eq!(shown(&c, &["MUG-WHT", "TEA-50G"]).await, [Shown::Units(2), Shown::Units(2)]);
    assert!(!back.cancel(&a), "cancelled once");
    assert!(back.cancel_restocking(&b, Restock::Never), "inventoryRestoreType 2");
    assert_eq!(shown(&c, &["MUG-WHT"]).await, [Shown::Units(2)]);
    let page = c.orders_by_id(&[a]).await.unwrap();
    assert_eq!(page.orders[0].status, OrderStatus::Cancelled);
}

#[tokio::test]
async fn four_hundred_skus_are_one_call_and_the_401st_a_second() {
    let (s, back) = sandbox(Some(1_000.0)).await;
    let skus: Vec<String> = (0..401).map(|i| format!("SKU-{i:03}")).collect();
    for sku in &skus {
        back.list_item(sku, 1, true);
    }
    let c = client(&s, 1_000.0);
    let before = back.shelf().write_calls();
    let batch: Vec<Quantity> = skus[..400].iter().map(|k| q(k, 7)).collect();
    let out = c.set_quantities(&batch).await.unwrap();
    assert!(out.iter().all(|r| r.outcome == SetOutcome::Written));
    assert_eq!(back.shelf().write_calls() - before, 1, "400 rows: one bulk-upsert");
    let all: Vec<Quantity> = skus.iter().map(|k| q(k, 9)).collect();
    c.set_quantities(&all).await.unwrap();
    assert_eq!(back.shelf().write_calls() - before, 3, "401 rows: two more");
    let read = shown(&c, &skus.iter().map(String::as_str).collect::<Vec<_>>()).await;
    assert!(read.iter().all(|r| *r == Shown::Units(9)), "read back in one bulk-get of 401 (≤1,000)");
}

#[tokio::test]
async fn an_expired_license_key_is_the_credentials_error() {
    let (s, back) = sandbox(None).await;
    back.list_item("MUG-WHT", 5, true);
    let c = client(&s, 1_000.0);
    back.set_license_last_day(chrono::Utc::now().date_naive() - chrono::Duration::days(2));
    let writes_before = back.shelf().write_calls();
    let e = c.set_quantities(&[q("mug-wht:MUG-WHT", 1)]).await.unwrap_err();
    assert_eq!(e.failure(), Failure::Credentials, "{e}");
    let e = c.read_quantities(&["MUG-WHT".into()]).await.unwrap_err();
    assert_eq!(e.failure(), Failure::Credentials, "{e}");
    assert_eq!(back.shelf().write_calls(), writes_before, "refused at the gateway");
    assert_eq!(back.stock("mug-wht", "MUG-WHT"), Some(5));
}

#[tokio::test]
async fn an_unknown_sku_is_taken_silently_and_the_read_back_shows_it_missing() {
    let (s, back) = sandbox(None).await;
    back.list_item("MUG-WHT", 5, true);
    let c = client(&s, 1_000.0);
    let out = c
        .set_quantities(&[q("mug-wht:MUG-WHT", 4), q("mug-wht:MUG-WHX", 4), q("NO-SUCH-SKU", 4), q("マグ", 4)])
        .await
        .unwrap();
    let outcomes: Vec<_> = out.iter().map(|r| r.outcome.clone()).collect();
    assert_eq!(outcomes[0], SetOutcome::Written);
    assert_eq!(outcomes[1], SetOutcome::Written, "Rakuten takes an unknown SKU without a word");
    assert_eq!(outcomes[2], SetOutcome::Unknown, "no stock row carries this SKU管理番号");
    assert!(matches!(outcomes[3], SetOutcome::Refused { .. }), "not a key the API takes");
    let read = shown(&c, &["MUG-WHT", "mug-wht:MUG-WHX", "NO-SUCH-SKU"]).await;
    assert_eq!(read, [Shown::Units(4), Shown::Missing, Shown::Missing]);
}

#[tokio::test]
async fn an_edit_in_rms_shows_at_once_and_is_what_the_read_finds() {
    let (s, back) = sandbox(None).await;
    back.list_item("MUG-WHT", 5, true);
    back.shelf().set_latency(Duration::from_secs(60));
    let c = client(&s, 1_000.0);
    c.set_quantities(&[q("MUG-WHT", 30)]).await.unwrap();
    assert!(back.edit_stock("MUG-WHT", "MUG-WHT", 8));
    assert_eq!(shown(&c, &["MUG-WHT"]).await, [Shown::Units(8)]);
    assert!(!back.edit_stock("mug-wht", "NOPE", 1));
    // A sale after the edit counts down from the edited number.
    back.buy(&[("MUG-WHT", 2)]).unwrap();
    assert_eq!(shown(&c, &["MUG-WHT"]).await, [Shown::Units(6)]);
}
