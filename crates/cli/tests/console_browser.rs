//! The staff console in a real headless Chromium (Debian's `chromium` + `chromium-driver`, over
//! WebDriver), against `ichigen console` on an embedded store filled by `ichigen demo`: log in
//! with the printed token, filter the list, release a held order (its thank-you lands in the
//! outbox once), hold one with a reason, add a blacklist entry that holds an open order, simulate
//! and save a rule, edit and preview a template, upload a tracking file, and on the 在庫 page read
//! the numbers `ichigen stock list` prints, move a SKU by −1, see a stocktake without a reason
//! refused and adopt a mall's number reported as drift. Each screen is taken as a
//! PNG; with `ICHIGEN_SCREENSHOTS=1` they are saved to docs/console/*.png (the docs' pictures),
//! otherwise under the target folder, so a test run leaves the repository as it was. Requests
//! without a session are refused (a plain HTTP client).
//!
//! scripts/test installs chromium and chromium-driver; without them this test fails and says so.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};

/// Kills the child when the test ends, however it ends.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn ichigen() -> Command {
    Command::new(assert_cmd::cargo::cargo_bin("ichigen"))
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

/// A plain HTTP/1.1 request; (status, body).
fn http(port: u16, request: &str) -> (u16, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.write_all(request.as_bytes()).expect("write");
    let mut out = String::new();
    s.read_to_string(&mut out).expect("read");
    let status = out.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    (status, out)
}

/// Where the screenshots go: the docs' pictures on request, else the target folder.
fn shots() -> PathBuf {
    if std::env::var_os("ICHIGEN_SCREENSHOTS").is_some() {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/console")
    } else {
        Path::new(env!("CARGO_TARGET_TMPDIR")).join("console-screenshots")
    }
}

async fn shot(c: &Client, name: &str) {
    let png = c.screenshot().await.expect("screenshot");
    assert!(png.starts_with(b"\x89PNG"), "{name}: the browser gave a PNG");
    std::fs::create_dir_all(shots()).expect("screenshot folder");
    std::fs::write(shots().join(format!("{name}.png")), png).expect("write screenshot");
}

/// The text of the first element `css` finds, waiting for it: after a click the page may still be
/// loading (no element yet, or one of the old page that goes stale under us).
async fn text(c: &Client, css: &str) -> String {
    let mut last = String::new();
    for _ in 0..100 {
        match c.find(Locator::Css(css)).await {
            Ok(element) => match element.text().await {
                Ok(text) => return text,
                Err(e) => last = e.to_string(),
            },
            Err(e) => last = e.to_string(),
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    panic!("{css}: {last}")
}

/// Waits until the page's address has every one of `wanted` in its query, and the list page's
/// rows are there: a click on a link or a form's button loads the next page after the click
/// itself returns. Returns the query.
async fn wait_for_list(c: &Client, wanted: &[&str]) -> String {
    let mut query = String::new();
    for _ in 0..100 {
        query = c.current_url().await.expect("url").query().unwrap_or("").to_string();
        if wanted.iter().all(|w| query.contains(w)) {
            text(c, "#orders").await;
            return query;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    panic!("the list's address never had {wanted:?}: {query}")
}

/// The order links of the list page, as paths.
async fn order_links(c: &Client) -> Vec<String> {
    let mut out = Vec::new();
    for a in c.find_all(Locator::Css("#orders tbody a")).await.expect("links") {
        if let Some(href) = a.attr("href").await.expect("href") {
            out.push(href);
        }
    }
    out
}

fn outbox_files(dir: &Path, kind: &str, marketplace: &str, order_id: &str) -> usize {
    let suffix = format!("-{kind}-{marketplace}-{order_id}.eml");
    std::fs::read_dir(dir.join("outbox"))
        .expect("outbox")
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().ends_with(&suffix))
        .count()
}

/// A valid ヤマト number: 11 digits and their value modulo 7.
fn yamato_number(seed: u64) -> String {
    let first = 40_000_000_000u64 + seed;
    format!("{first}{}", first % 7)
}

/// The rows `ichigen stock list` prints: SKU, 商品名, 在庫数, 引当, 販売可能, each mall's
/// allotment (楽天 Yahoo Amazon au PAY Qoo10) and 調整中.
fn stock_list(store: &Path) -> Vec<Vec<String>> {
    let out = ichigen().args(["stock", "list", "--dir"]).arg(store).output().expect("stock list");
    assert!(out.status.success(), "stock list: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.starts_with('│'))
        .map(|l| l.trim_matches('│').split(['│', '┆']).map(|c| c.trim().to_string()).collect::<Vec<_>>())
        .filter(|cells| cells.len() == 11 && cells[0] != "SKU")
        .collect()
}

/// The 在庫 page's table as the browser shows it, in the command's columns (the 販売可能 cell's
/// 売り越し note left out).
async fn stock_rows(c: &Client) -> Vec<Vec<String>> {
    text(c, "#stock").await;
    let rows = c
        .execute(
            "return [...document.querySelectorAll('#stock tbody tr')].map(tr => [...tr.cells].map(td => td.innerText.trim()))",
            Vec::new(),
        )
        .await
        .expect("the table");
    let mut out: Vec<Vec<String>> = serde_json::from_value(rows).expect("rows of cells");
    for r in &mut out {
        if let Some(available) = r.get_mut(4) {
            *available = available.split_whitespace().next().unwrap_or("").to_string();
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_work_through_the_console_in_a_browser() {
    for tool in ["chromium", "chromedriver"] {
        assert!(
            Command::new("sh").args(["-c", &format!("command -v {tool}")]).output().is_ok_and(|o| o.status.success()),
            "{tool} is not installed: apt-get install chromium chromium-driver (scripts/test does)"
        );
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let store = dir.path();
    let demo = ichigen().args(["demo", "--pull-only", "--dir"]).arg(store).output().expect("demo");
    assert!(demo.status.success(), "demo: {}", String::from_utf8_lossy(&demo.stderr));

    let mut console = ichigen()
        .args(["console", "--port", "0", "--staff", "佐藤", "--store"])
        .arg(store)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("console");
    let stdout = console.stdout.take().expect("stdout");
    let _console = Running(console);
    let mut login = String::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.expect("console output");
        if let Some(at) = line.find("http://127.0.0.1:") {
            login = line[at..].trim().to_string();
            break;
        }
    }
    assert!(login.contains("/login?token="), "no login URL printed");
    let base = login.split("/login").next().expect("base").to_string();
    let port: u16 = base.rsplit(':').next().and_then(|p| p.parse().ok()).expect("port");

    // Without a session: refused, pages and actions alike; a wrong token does not log in.
    let (status, body) = http(port, "GET /orders HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert_eq!(status, 401, "{body}");
    assert!(!body.contains("<table"), "no order data without a session");
    let (status, _) = http(
        port,
        "POST /orders/yahoo/1/release HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 6\r\n\r\ncsrf=x",
    );
    assert_eq!(status, 401);
    let (status, _) = http(port, "GET /login?token=0000 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert_eq!(status, 401);

    let driver_port = free_port();
    let driver = Command::new("chromedriver")
        .arg(format!("--port={driver_port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver");
    let _driver = Running(driver);
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            "binary": "/usr/bin/chromium",
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1400,1000", "--lang=ja-JP"]
        }),
    );
    let started = Instant::now();
    let c = loop {
        match ClientBuilder::rustls()
            .expect("rustls")
            .capabilities(caps.clone())
            .connect(&format!("http://127.0.0.1:{driver_port}"))
            .await
        {
            Ok(c) => break c,
            Err(e) if started.elapsed() < Duration::from_secs(20) => {
                let _ = e;
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(e) => panic!("chromedriver: {e}"),
        }
    };

    // Log in with the token: the list opens.
    c.goto(&login).await.expect("login");
    assert!(c.current_url().await.expect("url").path().starts_with("/orders"));
    assert!(text(&c, "h1").await.contains("受注一覧"));
    shot(&c, "orders").await;
    // The token was for one login only.
    let (status, _) =
        http(port, &format!("GET {} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", &login[base.len()..]));
    assert_eq!(status, 401, "a used login token logs nobody in");

    // Filter: the held Yahoo! orders.
    c.find(Locator::Css("a[data-tab=on_hold]")).await.expect("tab").click().await.expect("click tab");
    wait_for_list(&c, &["tab=on_hold"]).await;
    c.find(Locator::Css("select[name=marketplace]"))
        .await
        .expect("select")
        .select_by_value("yahoo")
        .await
        .expect("pick");
    c.find(Locator::Id("apply")).await.expect("apply").click().await.expect("apply click");
    wait_for_list(&c, &["marketplace=yahoo", "tab=on_hold"]).await;
    let rows = c.find_all(Locator::Css("#orders tbody tr")).await.expect("rows");
    assert!(!rows.is_empty());
    for r in &rows {
        let t = r.text().await.expect("row");
        assert!(t.contains("Yahoo!ショッピング") && t.contains("保留"), "{t}");
    }
    shot(&c, "orders-filtered").await;
    let held = order_links(&c).await;
    assert!(!held.is_empty(), "the demo holds some Yahoo! orders");

    // Open a held order and release it: its thank-you goes out once.
    let path = &held[0];
    let order_id = path.rsplit('/').next().expect("id").to_string();
    assert_eq!(outbox_files(store, "thank_you", "yahoo", &order_id), 0, "held: no thank-you yet");
    c.goto(&format!("{base}{path}")).await.expect("open held order");
    assert!(text(&c, "#status").await.contains("保留"));
    assert!(!c.find_all(Locator::Css(".finding.hold")).await.expect("findings").is_empty());
    shot(&c, "order-held").await;
    c.find(Locator::Id("release")).await.expect("release button").click().await.expect("release");
    let flash = text(&c, "#flash").await;
    assert!(flash.contains("保留を解除しました"), "{flash}");
    assert_ne!(text(&c, "#status").await, "保留");
    assert!(c.find_all(Locator::Id("release")).await.expect("buttons").is_empty(), "nothing left to release");
    assert_eq!(outbox_files(store, "thank_you", "yahoo", &order_id), 1, "the thank-you, once");
    assert!(text(&c, "#history").await.contains("保留を解除"));
    assert!(text(&c, "#mails").await.contains("ご注文確認"));
    shot(&c, "order-released").await;
    // Posting the release again (another tab, a double click) sends nothing more.
    c.goto(&format!("{base}{path}")).await.expect("reload");
    assert_eq!(outbox_files(store, "thank_you", "yahoo", &order_id), 1);

    // Hold a new order with a reason.
    c.goto(&format!("{base}/orders?tab=new&marketplace=yahoo")).await.expect("new orders");
    let open = order_links(&c).await;
    assert!(open.len() >= 2, "two new Yahoo! orders to work on");
    c.goto(&format!("{base}{}", open[0])).await.expect("open new order");
    c.find(Locator::Id("hold-reason")).await.expect("reason").send_keys("在庫を確認中").await.expect("type");
    c.find(Locator::Id("hold")).await.expect("hold").click().await.expect("hold click");
    assert!(text(&c, "#flash").await.contains("在庫を確認中"));
    assert!(text(&c, "#status").await.contains("保留"));
    assert!(text(&c, "#history").await.contains("在庫を確認中"));

    // A blacklist entry by the phone of another open order holds it at once.
    let target = &open[1];
    let target_id = target.rsplit('/').next().expect("id").to_string();
    c.goto(&format!("{base}{target}")).await.expect("open target");
    let kv = text(&c, "table.kv").await;
    let phone = kv
        .split(|c: char| !(c.is_ascii_digit() || c == '-'))
        .find(|p| p.chars().filter(char::is_ascii_digit).count() >= 10)
        .expect("the buyer's phone on the order page")
        .to_string();
    c.goto(&format!("{base}/blacklist")).await.expect("blacklist");
    c.find(Locator::Css("#blacklist-form input[name=phone]"))
        .await
        .expect("phone")
        .send_keys(&phone)
        .await
        .expect("type");
    c.find(Locator::Css("#blacklist-form input[name=reason]"))
        .await
        .expect("reason")
        .send_keys("受取拒否")
        .await
        .expect("type");
    c.find(Locator::Id("blacklist-add")).await.expect("add").click().await.expect("add click");
    let flash = text(&c, "#flash").await;
    assert!(flash.contains("保留にしました") && flash.contains(&target_id), "{flash}");
    assert!(text(&c, "#entries").await.contains("受取拒否"));
    shot(&c, "blacklist").await;
    c.goto(&format!("{base}{target}")).await.expect("target again");
    assert!(text(&c, "#status").await.contains("保留"));
    // The same entry again (other spelling of the number) is refused.
    c.goto(&format!("{base}/blacklist")).await.expect("blacklist");
    let spaced: String = phone.chars().filter(char::is_ascii_digit).collect();
    c.find(Locator::Css("#blacklist-form input[name=phone]"))
        .await
        .expect("phone")
        .send_keys(&spaced)
        .await
        .expect("type");
    c.find(Locator::Id("blacklist-add")).await.expect("add").click().await.expect("add click");
    let mut refused = false;
    for _ in 0..100 {
        refused = c.source().await.expect("page").contains("同じ内容の登録がすでにあります");
        if refused {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert!(refused, "the second entry is refused");

    // Rules: a condition, simulated over the stored orders, then saved.
    c.goto(&format!("{base}/rules")).await.expect("rules");
    let area = c.find(Locator::Id("rules-text")).await.expect("rules text");
    let current = area.prop("value").await.expect("value").unwrap_or_default();
    let proposed = format!("{current}\n[[condition]]\nname = \"高額注文\"\ntotal_at_least = 20000\n");
    area.clear().await.expect("clear");
    area.send_keys(&proposed).await.expect("type rules");
    c.find(Locator::Id("simulate")).await.expect("simulate").click().await.expect("simulate click");
    let sim = text(&c, "#simulation").await;
    assert!(sim.contains("新たに保留になる注文"), "{sim}");
    let newly: usize = sim
        .split("新たに保留になる注文: ")
        .nth(1)
        .and_then(|s| s.split(' ').next())
        .and_then(|n| n.trim_end_matches('件').trim().parse().ok())
        .expect("count");
    assert!(newly > 0, "some demo order totals ¥20,000 or more: {sim}");
    shot(&c, "rules-simulated").await;
    c.find(Locator::Id("save")).await.expect("save").click().await.expect("save click");
    assert!(text(&c, "#flash").await.contains("ルールを保存しました"));
    assert!(
        c.find(Locator::Id("rules-text"))
            .await
            .expect("rules")
            .prop("value")
            .await
            .expect("v")
            .unwrap_or_default()
            .contains("高額注文")
    );

    // Template: edited, previewed on real orders, saved after the check.
    c.goto(&format!("{base}/templates?kind=thank_you")).await.expect("templates");
    let subject = c.find(Locator::Id("subject")).await.expect("subject");
    subject.clear().await.expect("clear");
    subject.send_keys("【見本商店】ご注文ありがとうございます（{{ order_id }}）").await.expect("type");
    c.find(Locator::Id("preview")).await.expect("preview").click().await.expect("preview click");
    let previews = text(&c, "#previews").await;
    assert!(previews.contains("【見本商店】ご注文ありがとうございます（"), "{previews}");
    assert!(previews.contains("Yahoo!ショッピング"));
    shot(&c, "template-preview").await;
    c.find(Locator::Id("template-save")).await.expect("save").click().await.expect("save click");
    assert!(text(&c, "#flash").await.contains("テンプレートを保存しました"));
    // A template with a typo is refused with its variable named.
    let subject = c.find(Locator::Id("subject")).await.expect("subject");
    subject.clear().await.expect("clear");
    subject.send_keys("ご注文 {{ oder_id }}").await.expect("type");
    c.find(Locator::Id("template-save")).await.expect("save").click().await.expect("save click");
    assert!(text(&c, "#template-error").await.contains("oder_id"));

    // Tracking file: one number for an order ready to ship.
    c.goto(&format!("{base}/orders?tab=ready_to_ship&marketplace=yahoo")).await.expect("ready");
    let ready = order_links(&c).await;
    let ship_path = ready.first().expect("a Yahoo! order ready to ship").clone();
    let ship_id = ship_path.rsplit('/').next().expect("id").to_string();
    let file = dir.path().join("tracking.csv");
    std::fs::write(&file, format!("yahoo/{ship_id},yamato,{}\n", yamato_number(12345))).expect("write csv");
    c.goto(&format!("{base}/io")).await.expect("io");
    c.find(Locator::Id("tracking-file")).await.expect("file").send_keys(&file.to_string_lossy()).await.expect("choose");
    c.find(Locator::Id("tracking-upload")).await.expect("upload").click().await.expect("upload click");
    let result = text(&c, "#import-result").await;
    assert!(result.contains("1 件を出荷済にしました"), "{result}");
    shot(&c, "io-tracking").await;
    c.goto(&format!("{base}{ship_path}")).await.expect("shipped order");
    assert!(text(&c, "#status").await.contains("出荷済"));

    // 在庫. A number raised by 5 in 楽天's back office (DIR/shelves.json between demo runs, as
    // crates/cli/tests/demo.rs does): a rise is drift on the second run that reads it.
    let shelves = store.join("shelves.json");
    let mut kept: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&shelves).expect("shelves.json")).expect("shelves json");
    let raised = kept["rakuten"]
        .as_array_mut()
        .expect("楽天's shelf")
        .iter_mut()
        .max_by_key(|r| r["units"].as_i64())
        .expect("a 楽天 item");
    let shown = raised["units"].as_i64().expect("units") + 5;
    raised["units"] = shown.into();
    // 楽天's key is manageNumber:variantId; the sample lists each SKU under itself.
    let raised_sku = raised["key"].as_str().expect("key").rsplit(':').next().expect("item").to_string();
    std::fs::write(&shelves, kept.to_string()).expect("write shelves.json");
    for _ in 0..2 {
        let again = ichigen().args(["demo", "--pull-only", "--dir"]).arg(store).output().expect("demo");
        assert!(again.status.success(), "demo: {}", String::from_utf8_lossy(&again.stderr));
    }

    // The table shows what `ichigen stock list` prints for the same store.
    let listed = stock_list(store);
    assert_eq!(listed.len(), 10, "the demo's ten SKUs: {listed:?}");
    c.goto(&format!("{base}/stock")).await.expect("stock");
    assert_eq!(stock_rows(&c).await, listed, "the page's numbers are the command's");
    assert!(text(&c, "#oversold").await.contains("売り越し"), "the demo oversells its scarce SKUs");
    let drift = text(&c, "#drift").await;
    assert!(drift.contains("楽天市場") && drift.contains(&raised_sku) && drift.contains(&shown.to_string()), "{drift}");

    // 入出庫 −1 with a reason: 在庫数 one less on the page.
    let sku = listed.iter().map(|r| r[0].clone()).find(|s| *s != raised_sku).expect("another SKU");
    let on_hand = |rows: &[Vec<String>], sku: &str| -> i64 {
        rows.iter().find(|r| r[0] == sku).expect("the SKU's row")[2].parse().expect("在庫数")
    };
    let before = on_hand(&listed, &sku);
    for (name, value) in [("sku", sku.as_str()), ("units", "-1"), ("why", "検品で破損")] {
        c.find(Locator::Css(&format!("#adjust-form input[name={name}]")))
            .await
            .expect("adjust field")
            .send_keys(value)
            .await
            .expect("type");
    }
    c.find(Locator::Id("adjust")).await.expect("adjust").click().await.expect("adjust click");
    let flash = text(&c, "#flash").await;
    assert!(flash.starts_with(&format!("{sku}: 在庫数 {}、", before - 1)), "{flash}");
    assert_eq!(on_hand(&stock_rows(&c).await, &sku), before - 1);
    shot(&c, "stock").await;

    // 棚卸 without a reason: refused, nothing changed.
    for (name, value) in [("sku", sku.as_str()), ("units", "0")] {
        c.find(Locator::Css(&format!("#set-form input[name={name}]")))
            .await
            .expect("set field")
            .send_keys(value)
            .await
            .expect("type");
    }
    c.find(Locator::Id("set")).await.expect("set").click().await.expect("set click");
    // The 在庫 page has error paragraphs of its own (売り越し): wait for the refusal's page.
    let mut refused = false;
    for _ in 0..100 {
        refused = c.source().await.expect("page").contains("理由を入力してください");
        if refused {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(refused, "a stocktake without a reason is refused");
    c.goto(&format!("{base}/stock")).await.expect("stock");
    assert_eq!(on_hand(&stock_rows(&c).await, &sku), before - 1, "the refused stocktake changed nothing");

    // 「モールの数を採用」: on hand +5, as `ichigen stock accept` counts it; the command agrees.
    let raised_before = on_hand(&stock_list(store), &raised_sku);
    c.find(Locator::XPath(&format!(
        "//form[@action='/stock/drift/accept'][input[@name='marketplace'][@value='rakuten']][input[@name='item'][@value='{raised_sku}']]/button"
    )))
    .await
    .expect("accept button")
    .click()
    .await
    .expect("accept click");
    assert!(text(&c, "#flash").await.contains("モールの在庫数を採用しました（在庫数 +5 個分）"));
    let after = stock_rows(&c).await;
    assert_eq!(on_hand(&after, &raised_sku), raised_before + 5);
    assert_eq!(after, stock_list(store));
    assert!(c.find_all(Locator::Id("drift")).await.expect("drift").is_empty(), "nothing left to decide");

    // The SKU's history: the −1 first, with who and why.
    c.find(Locator::LinkText(&sku)).await.expect("SKU link").click().await.expect("SKU click");
    let newest = text(&c, "#history tbody tr").await;
    assert!(newest.contains("-1") && newest.contains("佐藤") && newest.contains("検品で破損"), "{newest}");

    // Every action is in the audit log, with the staff member's name.
    c.goto(&format!("{base}/audit")).await.expect("audit");
    let audit = text(&c, "#audit").await;
    for action in [
        "保留を解除",
        "保留",
        "ブラックリストに追加",
        "ルールを保存",
        "メールテンプレートを保存",
        "伝票番号ファイルを取込",
        "入出庫",
        "モールの在庫数を採用",
    ] {
        assert!(audit.contains(action), "{action} missing: {audit}");
    }
    assert!(audit.contains("佐藤"));
    shot(&c, "audit").await;

    // A form without the session's CSRF token is refused even with the session.
    let (status, _) = {
        let cookie = c.get_named_cookie("ichigen_session").await.expect("cookie");
        http(
            port,
            &format!(
                "POST {path}/hold HTTP/1.1\r\nHost: x\r\nConnection: close\r\nCookie: ichigen_session={}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 19\r\n\r\ncsrf=bad&reason=xyz",
                cookie.value()
            ),
        )
    };
    assert_eq!(status, 403);
    c.close().await.expect("close");
}
