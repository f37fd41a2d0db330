//! All five marketplaces' stock through one type: the client `build_client` makes from each
//! sandbox's secret (`AnyClient`) writes a number and reads it back on that sandbox's own stock.
#![allow(clippy::unwrap_used)] // Test helpers, not only #[test] functions, unwrap.

use std::time::Duration;

use chrono::{DateTime, NaiveDate};
use ichigen_core::Marketplace;
use ichigen_core::stock::mall::{MallStock, Quantity, SetOutcome, Shown};
use ichigen_marketplaces::client::RetryPolicy;
use ichigen_marketplaces::{AnyClient, HttpSettings, MarketplaceSecret, build_client};
use ichigen_sandbox::{Faults, SandboxConfig, Seed, Shelf, Started, amazon, aupay, qoo10, rakuten, yahoo};

fn config(scale: f64) -> SandboxConfig {
    let seed = Seed {
        orders: 0,
        seed: 13,
        start: DateTime::parse_from_rfc3339("2026-01-10T09:00:00+09:00").unwrap(),
        step_secs: 600,
        shop_id: "shop-any".into(),
    };
    SandboxConfig { port: 0, seed, faults: Faults::default(), throttle: Some(scale) }
}

fn any(marketplace: Marketplace, s: &Started, scale: f64) -> AnyClient {
    let secret = MarketplaceSecret::from_json(&ichigen_sandbox::secret_json(marketplace, s)).unwrap();
    let settings = HttpSettings {
        timeout: Duration::from_secs(5),
        retry: RetryPolicy { retries: 3, min_delay: Duration::from_millis(5), max_delay: Duration::from_millis(50) },
        rate_scale: scale,
    };
    build_client("shop-any", &secret, settings).unwrap()
}

/// Writes 12 units of `item` through the port, then reads what the mall shows.
async fn round_trip(marketplace: Marketplace, s: &Started, shelf: &Shelf, scale: f64, item: &str) -> Shown {
    shelf.set_latency(Duration::ZERO);
    let c = any(marketplace, s, scale);
    assert_eq!(MallStock::marketplace(&c), marketplace);
    assert!(c.max_items_per_write() >= 1 && c.max_items_per_read() >= 1);
    let writes = shelf.write_calls();
    let out = c.set_quantities(&[Quantity { item: item.into(), units: 12 }]).await.unwrap();
    assert_eq!(out[0].outcome, SetOutcome::Written, "{marketplace}: {out:?}");
    assert!(shelf.write_calls() > writes, "{marketplace}: the write reached the sandbox");
    c.read_quantities(&[item.to_owned()]).await.unwrap()[0].shown
}

#[tokio::test]
async fn each_marketplace_client_built_from_its_secret_serves_the_stock_port() {
    let (s, back) = rakuten::start_with_back_office(config(1_000.0), rakuten::RESULT_CAP).await.unwrap();
    back.list_item("MUG-WHT", 5, true);
    assert_eq!(round_trip(Marketplace::Rakuten, &s, back.shelf(), 1_000.0, "MUG-WHT").await, Shown::Units(12));

    let (s, control) = yahoo::start_with_control(config(1_000.0)).await.unwrap();
    control.list_item("mugwht", 5, true);
    assert_eq!(round_trip(Marketplace::Yahoo, &s, control.shelf(), 1_000.0, "mugwht").await, Shown::Units(12));

    let options = amazon::AmazonOptions { before_lag: chrono::Duration::seconds(1), ..Default::default() };
    let (s, office) = amazon::start_with_office(config(100.0), options).await.unwrap();
    office.list_item("MUG-WHT", 5);
    assert_eq!(round_trip(Marketplace::Amazon, &s, office.shelf(), 100.0, "MUG-WHT").await, Shown::Units(12));

    let (s, room) = aupay::start_with_stock(config(1_000.0)).await.unwrap();
    room.list_item("MUG-WHT", 5);
    assert_eq!(round_trip(Marketplace::Aupay, &s, room.shelf(), 1_000.0, "MUG-WHT").await, Shown::Units(12));

    let (s, qsm) = qoo10::start_with_back_office(config(1_000.0), qoo10::Options::default()).await.unwrap();
    qsm.list_item("MUG-WHT", 5, Some(1_980), NaiveDate::from_ymd_opt(2027, 3, 31));
    assert_eq!(round_trip(Marketplace::Qoo10, &s, qsm.shelf(), 1_000.0, "MUG-WHT").await, Shown::Units(12));
}
