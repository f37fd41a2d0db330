//! The 在庫 page over HTTP on the embedded store (SQLite), as a browser sends its forms: the table
//! with each mall's allotment, the drift decisions (「モールの数を採用」 = `accept_drift`,
//! 「ichigenの数で上書き」 = `force_push`) with the staff name in the stock history and the audit
//! log, a failing mall's warning, refusals that change nothing, the CSRF check, a SKU's history
//! page with an escaped SKU, and the stock file upload (every row or none).
#![allow(clippy::unwrap_used)] // Test helpers unwrap as the tests do.

use std::time::Duration;

use chrono::Utc;
use ichigen_console::{Console, LoginToken, Settings};
use ichigen_core::console::AuditLog;
use ichigen_core::pipeline::Notifier;
use ichigen_core::stock::push::{Drift, PushRecord, PushState};
use ichigen_core::stock::{Count, Edit, Listing, Part, StockStore, holder, shrinking};
use ichigen_core::{JST, Marketplace};
use ichigen_local::{EmlOutbox, LocalStaffMail, SqliteStore};
use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, COOKIE, LOCATION, SET_COOKIE};

const SHOP: &str = "demo";
const STAFF: &str = "佐藤";

/// A logged-in browser: the session cookie and the page's CSRF token.
struct Browser {
    base: String,
    http: reqwest::Client,
    cookie: String,
}

/// The page's HTML with the `/` minijinja escapes in text and attributes as a browser reads it.
async fn html(r: reqwest::Response) -> String {
    r.text().await.unwrap().replace("&#x2f;", "/")
}

impl Browser {
    async fn get(&self, path: &str) -> (StatusCode, String) {
        let r = self.http.get(format!("{}{path}", self.base)).header(COOKIE, &self.cookie).send().await.unwrap();
        (r.status(), html(r).await)
    }

    /// Posts a form; (status, where it redirects, body).
    async fn post(&self, path: &str, form: &[(&str, &str)]) -> (StatusCode, String, String) {
        let r = self
            .http
            .post(format!("{}{path}", self.base))
            .header(COOKIE, &self.cookie)
            .form(form)
            .send()
            .await
            .unwrap();
        let to = r.headers().get(LOCATION).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
        (r.status(), to, html(r).await)
    }

    /// Uploads `bytes` as the stock file `name` (multipart, as the page's form sends it).
    async fn upload(&self, csrf: &str, name: &str, bytes: &[u8]) -> (StatusCode, String) {
        let boundary = "----ichigenTestBoundary";
        let mut body = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: text/csv\r\n\r\n"
        )
        .into_bytes();
        body.extend_from_slice(bytes);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let r = self
            .http
            .post(format!("{}/stock/edit/load", self.base))
            .header(COOKIE, &self.cookie)
            .header(CONTENT_TYPE, format!("multipart/form-data; boundary={boundary}"))
            .body(body)
            .send()
            .await
            .unwrap();
        (r.status(), html(r).await)
    }
}

/// The CSRF token of the first form on `page`.
fn csrf(page: &str) -> String {
    let at = page.find("name=\"csrf\" value=\"").expect("a form with the CSRF token") + 19;
    page[at..].split('"').next().unwrap().to_string()
}

/// The cells of the stock table's row of `sku`, as text.
fn row(page: &str, sku: &str) -> Vec<String> {
    let table = &page[page.find("id=\"stock\"").expect("the stock table")..];
    let table = &table[..table.find("</table>").unwrap()];
    let tr = table
        .split("<tr")
        .find(|tr| tr.contains(&format!(">{sku}</a>")))
        .unwrap_or_else(|| panic!("no row of {sku}: {table}"));
    tr.split("<td")
        .skip(1)
        .map(|td| {
            let mut text = String::new();
            let mut in_tag = true; // the rest of the opening <td …>
            for c in td.chars() {
                match c {
                    '<' => in_tag = true,
                    '>' => in_tag = false,
                    c if !in_tag => text.push(c),
                    _ => {}
                }
            }
            text.trim().to_string()
        })
        .collect()
}

async fn on_hand(store: &SqliteStore, sku: &str) -> i64 {
    store.stocks(SHOP).await.unwrap().into_iter().find(|s| s.sku == sku).unwrap().on_hand
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_count_map_upload_and_decide_drift_on_the_stock_page() {
    let dir = tempfile::tempdir().unwrap();
    let store: &'static SqliteStore = Box::leak(Box::new(SqliteStore::open(&dir.path().join("ichigen.db")).unwrap()));
    let now = Utc::now().with_timezone(&JST);
    let by = Edit { who: "demo", why: "在庫ファイル", at: now };
    store.count(SHOP, "MUG-WHT", Some("マグカップ ホワイト"), Count::Set(10), &by).await.unwrap();
    store.count(SHOP, "TEA", Some("紅茶"), Count::Set(5), &by).await.unwrap();
    store.count(SHOP, "BOX/L", Some("箱 L"), Count::Set(3), &by).await.unwrap();
    let part = |sku: &str, units| Part { sku: sku.into(), units };
    let mug = Listing { marketplace: Marketplace::Yahoo, item: "mug-wht".into(), parts: vec![part("MUG-WHT", 1)] };
    let gift = Listing {
        marketplace: Marketplace::Rakuten,
        item: "gift".into(),
        parts: vec![part("MUG-WHT", 2), part("TEA", 1)],
    };
    store.put_listing(SHOP, &mug).await.unwrap();
    store.put_listing(SHOP, &gift).await.unwrap();
    // The push gave Yahoo 4 mugs and 楽天 one gift set; a shrink of 1 on its way to Qoo10.
    let mut row_mug = store.stocks(SHOP).await.unwrap().into_iter().find(|s| s.sku == "MUG-WHT").unwrap();
    row_mug.allot(&holder(Marketplace::Yahoo, "mug-wht"), 4);
    row_mug.allot(&holder(Marketplace::Rakuten, "gift"), 2);
    row_mug.allot(&shrinking(&holder(Marketplace::Qoo10, "mug")), 1);
    assert!(store.put_ledger(SHOP, &row_mug).await.unwrap());
    // Yahoo shows 2 where the ledger says 4; 楽天 shows 3 gift sets where it says 1; Qoo10's
    // writes fail.
    let drift = |shown, expected| PushRecord {
        written: Some(expected),
        drift: Some(Drift { shown, expected, found_at: now, told_on: now.date_naive() }),
        ..PushRecord::default()
    };
    for (m, item, record, failed_runs) in [
        (Marketplace::Yahoo, "mug-wht", Some(drift(2, 4)), 0),
        (Marketplace::Rakuten, "gift", Some(drift(3, 1)), 0),
        (Marketplace::Qoo10, "", None, 3),
    ] {
        let mut state = PushState::new(SHOP, m, now);
        if let Some(record) = record {
            state.items.insert(item.to_string(), record);
        }
        state.failed_runs = failed_runs;
        state.rev = 1;
        store.put_push_state(&state, None).await.unwrap();
    }

    let outbox = EmlOutbox::for_store(dir.path().join("outbox"), store).unwrap();
    let notifier =
        Notifier::new(store, store, store, outbox, ichigen_marketplaces::policies(), Duration::from_secs(120));
    let login = LoginToken::generate().unwrap();
    let token = login.as_str().to_string();
    let settings = Settings { shop_id: SHOP.into(), staff: STAFF.into() };
    let router = Console::new(store, LocalStaffMail::new(store, notifier), settings, login).router();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let r = http.get(format!("{base}/login?token={token}")).send().await.unwrap();
    let cookie = r
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("ichigen_session="))
        .and_then(|c| c.split(';').next())
        .expect("session cookie")
        .to_string();
    let b = Browser { base, http, cookie };

    // The table: counts and what each mall may sell; the drift rows; the failing mall.
    let (status, page) = b.get("/stock").await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let token = csrf(&page);
    //             SKU        商品名               在庫数 引当 販売可能 楽天 Yahoo Amazon au PAY Qoo10 調整中
    assert_eq!(
        row(&page, "MUG-WHT"),
        ["MUG-WHT", "マグカップ ホワイト", "10", "0", "10", "2", "4", "0", "0", "0", "1"]
    );
    assert_eq!(row(&page, "TEA")[2..], ["5", "0", "5", "0", "0", "0", "0", "0", "0"]);
    assert!(page.contains("href=\"/stock/BOX%2FL\""), "the SKU's link is escaped");
    assert!(page.contains("Qoo10 への在庫の書き込みが 3 回続けて失敗しています（APIキーを確認してください）"));
    let drift_table = &page[page.find("id=\"drift\"").expect("the drift section")..];
    assert!(drift_table.contains("Yahoo!ショッピング") && drift_table.contains("mug-wht"), "{drift_table}");
    assert!(drift_table.contains("モールの数を採用") && drift_table.contains("ichigenの数で上書き"));
    assert!(!page.contains("売り越し"), "nothing oversold yet");

    // Refusals change nothing: a stocktake without a reason or below zero, a non-number, an
    // unknown SKU, a bad part, an unknown SKU in a set, a decision on an item without drift.
    let changes_before = store.changes(SHOP, "MUG-WHT", 100).await.unwrap().len();
    for (path, form, why) in [
        ("/stock/edit/set", vec![("sku", "MUG-WHT"), ("units", "7"), ("why", " ")], "理由を入力してください"),
        ("/stock/edit/set", vec![("sku", "MUG-WHT"), ("units", "-1"), ("why", "棚卸")], "0以上"),
        ("/stock/edit/adjust", vec![("sku", "MUG-WHT"), ("units", "abc"), ("why", "破損")], "整数で入力"),
        (
            "/stock/edit/adjust",
            vec![("sku", "MUG-BLK"), ("units", "-1"), ("why", "破損")],
            "MUG-BLK は在庫マスタにありません",
        ),
        ("/stock/edit/map", vec![("marketplace", "amazon"), ("item", "X"), ("parts", "MUG-WHT*0")], "SKU*個数"),
        (
            "/stock/edit/map",
            vec![("marketplace", "amazon"), ("item", "X"), ("parts", "MUG-WHT NOPE*2")],
            "NOPE は在庫マスタにありません",
        ),
        ("/stock/drift/accept", vec![("marketplace", "amazon"), ("item", "X")], "未確認の在庫差異はありません"),
    ] {
        let mut form = form;
        form.push(("csrf", &token));
        let (status, _, body) = b.post(path, &form).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path} {form:?}: {body}");
        assert!(body.contains(why), "{why:?} in {body}");
    }
    assert_eq!(on_hand(store, "MUG-WHT").await, 10);
    assert_eq!(store.changes(SHOP, "MUG-WHT", 100).await.unwrap().len(), changes_before);
    assert_eq!(store.listings(SHOP).await.unwrap().len(), 2);
    // Without the session's CSRF token: 403, nothing done.
    let (status, _, _) =
        b.post("/stock/edit/adjust", &[("sku", "MUG-WHT"), ("units", "1"), ("why", "入荷"), ("csrf", "bad")]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(on_hand(store, "MUG-WHT").await, 10);

    // 「モールの数を採用」: Yahoo shows 2 of the 4 it was given — two mugs broke and nobody
    // counted them. On hand comes down by 2, recorded with the staff name.
    let (status, to, _) =
        b.post("/stock/drift/accept", &[("marketplace", "yahoo"), ("item", "mug-wht"), ("csrf", &token)]).await;
    assert_eq!((status, to.as_str()), (StatusCode::SEE_OTHER, "/stock"));
    assert_eq!(on_hand(store, "MUG-WHT").await, 8);
    let (_, page) = b.get("/stock").await;
    assert!(page.contains("mug-wht: モールの在庫数を採用しました（在庫数 -2 個分）"), "the flash: {page}");
    assert_eq!(row(&page, "MUG-WHT")[2..7], ["8", "0", "8", "2", "2"], "Yahoo's allotment is what it shows");
    let yahoo = store.push_state(SHOP, Marketplace::Yahoo).await.unwrap().unwrap();
    assert_eq!(yahoo.items["mug-wht"].drift, None, "pushing resumes");
    let last = &store.changes(SHOP, "MUG-WHT", 1).await.unwrap()[0];
    assert_eq!((last.on_hand, last.who.as_str()), (-2, STAFF));
    assert!(last.why.contains("採用"), "{}", last.why);

    // 「ichigenの数で上書き」: 楽天's 3 gift sets are written over with the ledger's on the next run.
    let (status, _, _) =
        b.post("/stock/drift/force", &[("marketplace", "rakuten"), ("item", "gift"), ("csrf", &token)]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let rakuten = store.push_state(SHOP, Marketplace::Rakuten).await.unwrap().unwrap();
    assert!(rakuten.items["gift"].force && rakuten.items["gift"].drift.is_none());
    let (_, page) = b.get("/stock").await;
    assert!(page.contains("ichigen の在庫数で上書きします"), "{page}");
    assert!(!page.contains("id=\"drift\""), "no drift left to decide");

    // 入出庫 −2 (full-width, as an IME types it) and a set mapped; the history page shows it.
    let (status, _, _) =
        b.post("/stock/edit/adjust", &[("sku", "MUG-WHT"), ("units", "－２"), ("why", "破損"), ("csrf", &token)]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, page) = b.get("/stock").await;
    assert!(page.contains("MUG-WHT: 在庫数 6、引当 0、販売可能 6"), "{page}");
    let (status, _, _) = b
        .post(
            "/stock/edit/map",
            &[("marketplace", "amazon"), ("item", "MUG-SET"), ("parts", " MUG-WHT*2  TEA "), ("csrf", &token)],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let listing = store.listings(SHOP).await.unwrap().into_iter().find(|l| l.item == "MUG-SET").unwrap();
    assert_eq!(listing.parts, [part("MUG-WHT", 2), part("TEA", 1)]);
    let (status, history) = b.get("/stock/MUG-WHT").await;
    assert_eq!(status, StatusCode::OK);
    let first = history.split("<tbody>").nth(2).and_then(|t| t.split("</tr>").next()).unwrap();
    assert!(first.contains(">-2<") && first.contains(STAFF) && first.contains("破損"), "newest first: {first}");
    let (status, page) = b.get("/stock/BOX%2FL").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("在庫の履歴: BOX/L"));
    let (status, page) = b.get("/stock/NO-SUCH").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(page.contains("NO-SUCH は在庫マスタにありません"));

    // The filter.
    let (_, page) = b.get("/stock?q=%EF%BD%82%EF%BD%8F%EF%BD%98").await; // ｂｏｘ, full width
    assert!(page.contains(">BOX/L</a>") && !page.contains(">MUG-WHT</a>"), "{page}");

    // The stock file: one bad row applies nothing and names its line; a good file sets counts.
    let before = on_hand(store, "TEA").await;
    let (status, page) =
        b.upload(&token, "stock.csv", "SKU,商品名,在庫数,Yahoo\nTEA,紅茶,9,tea\nMUG-WHT,,-3,\n".as_bytes()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("何も反映していません") && page.contains("3行目: 在庫数は0以上の整数"), "{page}");
    assert_eq!(on_hand(store, "TEA").await, before);
    let (_, page) = b.upload(&token, "stock.csv", "SKU,商品名,在庫数,Yahoo\nTEA,紅茶,9,tea\n".as_bytes()).await;
    assert!(page.contains("stock.csv: 1件のSKUの在庫数と1件のモール商品の対応を反映しました"), "{page}");
    assert_eq!(on_hand(store, "TEA").await, 9);
    assert_eq!(row(&page, "TEA")[2], "9", "the page after the upload shows the new count");

    // Every action is in the audit log with the staff name.
    let audit = store.recent_actions(SHOP, 50).await.unwrap();
    for action in ["stock_accept", "stock_force", "stock_adjust", "stock_map", "stock_load"] {
        let e = audit.iter().find(|e| e.action == action).unwrap_or_else(|| panic!("{action}: {audit:?}"));
        assert_eq!(e.staff, STAFF);
    }
    assert_eq!(audit.iter().filter(|e| e.action.starts_with("stock_")).count(), 5, "refusals are not audited");
}
