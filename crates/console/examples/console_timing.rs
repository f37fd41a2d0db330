//! Server time of the console's list and detail pages at many stored orders, on the embedded
//! store: `cargo run -p ichigen-console --example console_timing -- 100000` (docs/PERFORMANCE.md).
//! Fills a temporary SQLite store with checked sample orders, serves the console on 127.0.0.1
//! and times each page as a client sees it (request sent → whole response read), median of 20.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use chrono::Utc;
use ichigen_console::{Console, LoginToken, Settings};
use ichigen_core::pipeline::{Notifier, OrderStore, StaffDecision, StoredOrder};
use ichigen_core::sample::SampleOrders;
use ichigen_core::{BundleIndex, CheckEngine, JST, Marketplace, Rules};
use ichigen_local::{EmlOutbox, LocalStaffMail, SqliteStore};

fn get(port: u16, path: &str, cookie: &str) -> (Duration, usize, String) {
    let started = Instant::now();
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    write!(s, "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nCookie: {cookie}\r\n\r\n").expect("write");
    let mut out = Vec::new();
    s.read_to_end(&mut out).expect("read");
    let text = String::from_utf8_lossy(&out).to_string();
    (started.elapsed(), out.len(), text)
}

fn median(port: u16, path: &str, cookie: &str) -> (Duration, usize) {
    let mut times: Vec<(Duration, usize)> = (0..20)
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
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SqliteStore::open(&dir.path().join("ichigen.db")).expect("store");
    let engine = CheckEngine::new(Rules::default(), ichigen_marketplaces::registry::policies());
    let mut sample = SampleOrders::new(7);
    let started = Instant::now();
    let now = Utc::now().with_timezone(&JST);
    let mut last = None;
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
        store.put(&stored, None).await.expect("put");
        last = Some(stored.key());
    }
    eprintln!("stored {n} orders in {:.1} s", started.elapsed().as_secs_f64());
    let key = last.expect("an order");
    let store: &'static SqliteStore = Box::leak(Box::new(store));
    let outbox = EmlOutbox::for_store(dir.path().join("outbox"), store).expect("outbox");
    let login = LoginToken::generate().expect("token");
    let token = login.as_str().to_string();
    let settings = Settings { shop_id: "bench".into(), staff: "bench".into() };
    let notifier =
        Notifier::new(store, store, store, outbox, ichigen_marketplaces::policies(), Duration::from_secs(120));
    let router = Console::new(store, LocalStaffMail::new(store, notifier), settings, login).router();
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
        pages.iter().map(|(name, path)| (name.to_string(), median(port, path, &cookie))).collect::<Vec<_>>()
    })
    .await
    .expect("timing");
    println!("{n} stored orders (embedded SQLite store), median of 20 requests:");
    for (name, (t, bytes)) in results {
        println!("  {name:<32} {:>7.1} ms  ({} KB)", t.as_secs_f64() * 1000.0, bytes / 1024);
    }
}
