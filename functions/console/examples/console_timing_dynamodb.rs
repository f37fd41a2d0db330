//! Server time of the console's list and detail pages at many stored orders on DynamoDB — moto,
//! so these are moto's times (a Python server scanning its in-memory items), not DynamoDB's
//! latency: `cargo run -p ichigen-console-fn --example console_timing_dynamodb -- 100000`
//! (docs/PERFORMANCE.md). Fills a table in a fresh moto account with the items the store's order
//! writes make (`ichigen_aws::store::order_item`), by BatchWriteItem 25 at a time, and the per-shop
//! tab counts (moto copies the whole table for every TransactWriteItems, so loading 100,000 orders
//! through `OrderStore::put` would take hours on moto); serves the console router on 127.0.0.1
//! over that store and times each page as a client sees it (request sent → whole response read),
//! median of 5 (a second argument changes how many).
//!
//! The session here is the one-time-token kind (kept in the process): the Cognito session of the
//! AWS home adds one GetItem per request.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::{AttributeValue, PutRequest, WriteRequest};
use chrono::Utc;
use ichigen_aws::DynamoStore;
use ichigen_console::{Console, LoginToken, Settings};
use ichigen_core::pipeline::memory::MemoryMailQueue;
use ichigen_core::pipeline::{NotifierQueue, ShopDirectory, ShopSettings, StaffDecision, StoredOrder};
use ichigen_core::sample::SampleOrders;
use ichigen_core::{BundleIndex, CheckEngine, JST, Marketplace, Rules};
use ichigen_testkit::moto;

const WRITERS: usize = 16;

fn get(port: u16, path: &str, cookie: &str) -> (Duration, usize, String) {
    let started = Instant::now();
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    write!(s, "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nCookie: {cookie}\r\n\r\n").expect("write");
    let mut out = Vec::new();
    s.read_to_end(&mut out).expect("read");
    let text = String::from_utf8_lossy(&out).to_string();
    (started.elapsed(), out.len(), text)
}

fn median(runs: usize, port: u16, path: &str, cookie: &str) -> (Duration, usize) {
    let mut times: Vec<(Duration, usize)> = (0..runs)
        .map(|_| {
            let (t, n, text) = get(port, path, cookie);
            assert!(text.starts_with("HTTP/1.1 200"), "{path}: {}", text.lines().next().unwrap_or(""));
            (t, n)
        })
        .collect();
    times.sort();
    times[times.len() / 2]
}

#[tokio::main]
async fn main() {
    let n: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let runs: usize = std::env::args().nth(2).and_then(|a| a.parse().ok()).unwrap_or(5).max(1);
    let endpoint = moto::endpoint();
    let account = moto::fresh_account();
    let sdk = moto::sdk_config(&endpoint, &account).await;
    let client = aws_sdk_dynamodb::Client::new(&sdk);
    ichigen_aws::create_table(&client, "ichigen").await.expect("table");
    let shop_store = DynamoStore::new(client.clone(), "ichigen");
    shop_store.put_shop(&ShopSettings::new("bench", "ベンチ商店", "shop@example.jp")).await.expect("shop");
    let started = Instant::now();
    let now = Utc::now().with_timezone(&JST);
    let engine = CheckEngine::new(Rules::default(), ichigen_marketplaces::registry::policies());
    let mut sample = SampleOrders::new(7);
    let mut counts: BTreeMap<&'static str, u64> = BTreeMap::new();
    let mut batch = Vec::new();
    let mut writers = tokio::task::JoinSet::new();
    let mut key = None;
    for i in 0..n {
        let mut order = sample.varied_order(Marketplace::ALL[i % 5], i);
        order.shop_id = "bench".into();
        let outcome = engine.check(&order, &BundleIndex::empty());
        let stored = StoredOrder {
            hold_episode: 0,
            ship_with: None,
            status: outcome.status,
            findings: outcome.findings,
            staff: StaffDecision::None,
            mails_due: Vec::new(),
            parcels: Vec::new(),
            acknowledgement: None,
            content_fp: String::new(),
            check_fp: String::new(),
            bundle_key: None,
            rev: 1,
            stored_at: now,
            expires_at: None,
            order,
        };
        let (item, tab) = ichigen_aws::store::order_item(&stored).expect("item");
        *counts.entry(tab.as_str()).or_default() += 1;
        key = Some(stored.key());
        batch.push(
            WriteRequest::builder()
                .put_request(PutRequest::builder().set_item(Some(item)).build().expect("put"))
                .build(),
        );
        if batch.len() == 25 || i + 1 == n {
            let items = std::mem::take(&mut batch);
            let client = client.clone();
            if writers.len() >= WRITERS {
                writers.join_next().await.expect("writer").expect("batch");
            }
            writers.spawn(async move {
                let mut pending = items;
                while !pending.is_empty() {
                    let out = client
                        .batch_write_item()
                        .request_items("ichigen", pending)
                        .send()
                        .await
                        .expect("BatchWriteItem");
                    pending = out.unprocessed_items.unwrap_or_default().remove("ichigen").unwrap_or_default();
                }
            });
        }
    }
    while let Some(done) = writers.join_next().await {
        done.expect("batch");
    }
    let mut update = client.update_item().table_name("ichigen").key("pk", AttributeValue::S("SHOP#bench".into()));
    update = update.key("sk", AttributeValue::S(ichigen_aws::table::TAB_COUNTS_SK.into()));
    let mut expression = Vec::new();
    for (i, (tab, count)) in counts.iter().enumerate() {
        expression.push(format!("#t{i} :n{i}"));
        update = update
            .expression_attribute_names(format!("#t{i}"), *tab)
            .expression_attribute_values(format!(":n{i}"), AttributeValue::N(count.to_string()));
    }
    update.update_expression(format!("ADD {}", expression.join(", "))).send().await.expect("tab counts");
    eprintln!("stored {n} orders in {:.1} s", started.elapsed().as_secs_f64());
    let key = key.expect("an order");
    let store = DynamoStore::new(client, "ichigen");
    let login = LoginToken::generate().expect("token");
    let token = login.as_str().to_string();
    let settings = Settings { shop_id: "bench".into(), staff: "bench".into() };
    // The timing reads pages only: no action queues a mail here.
    let mail = NotifierQueue(MemoryMailQueue::new());
    let router = Console::new(store, mail, settings, login).router();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move { axum::serve(listener, router).await });
    let cookie = tokio::task::spawn_blocking(move || {
        let (_, _, text) = get(port, &format!("/login?token={token}"), "");
        text.lines()
            .find_map(|l| l.strip_prefix("set-cookie: "))
            .and_then(|c| c.split(';').next())
            .expect("session cookie")
            .to_string()
    })
    .await
    .expect("login");
    let detail = format!("/orders/{}/{}", key.marketplace.as_str(), key.order_id);
    let pages = [
        ("list, all orders, first page", "/orders".to_string()),
        ("list, 保留 tab", "/orders?tab=on_hold".to_string()),
        ("list, 保留 + 楽天 + 代引", "/orders?tab=on_hold&marketplace=rakuten&payment=cod".to_string()),
        ("list, free text (order id)", format!("/orders?q={}", key.order_id)),
        ("list, rare SKU", "/orders?sku=NO-SUCH-SKU".to_string()),
        ("detail page", detail),
    ];
    let results = tokio::task::spawn_blocking(move || {
        pages
            .iter()
            .map(|(name, path)| {
                let timed = median(runs, port, path, &cookie);
                eprintln!("  {name}: {:.1} ms", timed.0.as_secs_f64() * 1000.0);
                (name.to_string(), timed)
            })
            .collect::<Vec<_>>()
    })
    .await
    .expect("timing");
    println!("{n} stored orders (DynamoDB on moto, not DynamoDB's latency), median of {runs} requests:");
    for (name, (t, bytes)) in results {
        println!("  {name:<32} {:>8.1} ms  ({} KB)", t.as_secs_f64() * 1000.0, bytes / 1024);
    }
}
