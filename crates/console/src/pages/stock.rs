//! 在庫: every SKU with its counts and what each mall may sell of it, the malls' numbers reported
//! as drift with the two staff decisions, failing stock writes, and the staff forms — 棚卸,
//! 入出庫, 対応付け, the stock file upload — calling the same use cases as `ichigen stock`
//! (`pipeline::stock_staff`, `accept_drift`, `force_push`); a SKU's history on its own page.

use axum::Form;
use axum::extract::{Multipart, Path, Query, State};
use axum::response::Response;
use ichigen_core::japanese::marketplace_name;
use ichigen_core::pipeline::stock_staff::{self, EditError, LoadError};
use ichigen_core::pipeline::{DecideError, accept_drift, force_push};
use ichigen_core::stock::file::StockFileError;
use ichigen_core::stock::{Count, Edit, MALLS, Stock, mall_column};
use ichigen_core::{Marketplace, text};
use serde::{Deserialize, Serialize};

use super::{Failure, done, html, layout, read_upload};
use crate::auth::Staff;
use crate::staff::{audit, now};
use crate::view::{jst, order_url, percent};
use crate::{App, ConsoleStore};

/// Changes shown on a SKU's page.
const HISTORY: usize = 100;

/// One SKU of the table.
#[derive(Serialize)]
struct Row {
    url: String,
    sku: String,
    name: String,
    on_hand: i64,
    reserved: i64,
    available: i64,
    /// Units allotted to each mall's items, in `MALLS` order.
    malls: [i64; 5],
    /// Units allotted to no item (a shrink on its way, a cover of an unexplained number).
    apart: i64,
    oversold: bool,
}

impl From<&Stock> for Row {
    fn from(s: &Stock) -> Self {
        let allotted = s.allotted_by_marketplace();
        Row {
            url: sku_url(&s.sku),
            sku: s.sku.clone(),
            name: s.name.clone(),
            on_hand: s.on_hand,
            reserved: s.reserved,
            available: s.available(),
            malls: allotted.by_mall,
            apart: allotted.apart,
            oversold: s.available() < 0,
        }
    }
}

/// One item whose mall shows a number the ledger does not explain.
#[derive(Serialize)]
struct DriftRow {
    marketplace: &'static str,
    mall: &'static str,
    item: String,
    shown: i64,
    expected: i64,
    since: String,
    /// The SKUs the item takes, each with its page.
    skus: Vec<(String, String)>,
}

/// A SKU's page.
fn sku_url(sku: &str) -> String {
    format!("/stock/{}", percent(sku))
}

/// The list's filter.
#[derive(Deserialize, Default)]
pub struct ListQuery {
    #[serde(default)]
    q: String,
}

#[derive(Serialize)]
struct LoadResult {
    ok: bool,
    summary: String,
    problems: Vec<String>,
}

/// The page, from one read of the SKUs, the listings and each mall's push record: no store call
/// per SKU, so thousands of SKUs render in one request.
async fn page<S: ConsoleStore, T>(
    app: &App<S, T>,
    staff: &Staff,
    q: &str,
    result: Option<LoadResult>,
) -> Result<Response, Failure> {
    let shop_id = &app.settings.shop_id;
    let stocks = app.store.stocks(shop_id).await?;
    let listings = app.store.listings(shop_id).await?;
    let mut drift = Vec::new();
    let mut failing = Vec::new();
    for m in MALLS {
        let Some(state) = app.store.push_state(shop_id, m).await? else { continue };
        if state.failed_runs > 0 {
            failing.push(format!(
                "{} への在庫の書き込みが {} 回続けて失敗しています（APIキーを確認してください）",
                marketplace_name(m),
                state.failed_runs
            ));
        }
        for (item, record) in &state.items {
            let Some(d) = &record.drift else { continue };
            let skus = listings
                .iter()
                .find(|l| l.marketplace == m && l.item == *item)
                .map(|l| l.parts.iter().map(|p| (sku_url(&p.sku), p.sku.clone())).collect())
                .unwrap_or_default();
            drift.push(DriftRow {
                marketplace: m.as_str(),
                mall: marketplace_name(m),
                item: item.clone(),
                shown: d.shown,
                expected: d.expected,
                since: jst(d.found_at),
                skus,
            });
        }
    }
    let wanted = text::compact_key(q);
    let total = stocks.len();
    let rows: Vec<Row> = stocks
        .iter()
        .filter(|s| {
            wanted.is_empty()
                || text::compact_key(&s.sku).contains(&wanted)
                || text::compact_key(&s.name).contains(&wanted)
        })
        .map(Row::from)
        .collect();
    let oversold: Vec<&str> = stocks.iter().filter(|s| s.available() < 0).map(|s| s.sku.as_str()).collect();
    let malls: Vec<(&str, &str)> = MALLS.iter().map(|m| (m.as_str(), mall_column(*m))).collect();
    let apart = rows.iter().any(|r| r.apart != 0);
    html(
        app,
        "stock.html",
        minijinja::context! {
            layout => layout(app, staff, "stock"),
            rows, total, q, oversold, drift, failing, malls, result,
            apart,
        },
    )
}

/// `GET /stock`.
pub async fn list<S: ConsoleStore, T: Send + Sync + 'static>(
    State(app): State<App<S, T>>,
    staff: Staff,
    Query(query): Query<ListQuery>,
) -> Result<Response, Failure> {
    page(&app, &staff, query.q.trim(), None).await
}

/// `GET /stock/{sku}`: the SKU's latest changes, newest first.
pub async fn history<S: ConsoleStore, T: Send + Sync + 'static>(
    State(app): State<App<S, T>>,
    staff: Staff,
    Path(sku): Path<String>,
) -> Result<Response, Failure> {
    let shop_id = &app.settings.shop_id;
    let stock = app
        .store
        .stocks(shop_id)
        .await?
        .into_iter()
        .find(|s| s.sku == sku)
        .ok_or_else(|| Failure::NotFound(format!("SKU {sku} は在庫マスタにありません")))?;
    #[derive(Serialize)]
    struct Change {
        at: String,
        on_hand: String,
        reserved: String,
        who: String,
        why: String,
        order: Option<(String, String)>,
    }
    let changes: Vec<Change> = app
        .store
        .changes(shop_id, &sku, HISTORY)
        .await?
        .into_iter()
        .map(|c| Change {
            at: jst(c.at),
            on_hand: signed(c.on_hand),
            reserved: signed(c.reserved),
            who: c.who,
            why: c.why,
            order: c.order.map(|k| (order_url(&k), format!("{}/{}", k.marketplace, k.order_id))),
        })
        .collect();
    let malls: Vec<(&str, &str)> = MALLS.iter().map(|m| (m.as_str(), mall_column(*m))).collect();
    html(
        &app,
        "stock_sku.html",
        minijinja::context! {
            layout => layout(&app, &staff, "stock"),
            row => Row::from(&stock), changes, malls, shown => HISTORY,
        },
    )
}

/// `+3`, `-1`, `0`.
fn signed(n: i64) -> String {
    if n == 0 { "0".into() } else { format!("{n:+}") }
}

/// A whole number as staff type it: half- or full-width digits, a leading + or − (any dash).
fn number(what: &str, s: &str) -> Result<i64, Failure> {
    // NFKC and dash look-alikes as `-`; a leading ー (an IME's minus) too.
    let plain = text::compact_key(s).replace(',', "");
    let plain = plain.strip_prefix('ー').map_or(plain.clone(), |rest| format!("-{rest}"));
    plain.parse().map_err(|_| Failure::BadRequest(format!("{what}は整数で入力してください（例: 120、-2）")))
}

/// A refusal of the use case as a Japanese error page; a store failure as one.
fn refused(e: EditError) -> Failure {
    match e {
        EditError::Port(e) => e.into(),
        other => Failure::BadRequest(format!("変更していません: {other}")),
    }
}

/// The 棚卸 and 入出庫 forms.
#[derive(Deserialize)]
pub struct CountForm {
    csrf: String,
    #[serde(default)]
    sku: String,
    #[serde(default)]
    units: String,
    #[serde(default)]
    why: String,
}

/// `POST /stock/edit/set` (棚卸) and `POST /stock/edit/adjust` (入出庫), as `ichigen stock set|adjust`.
async fn count_by_staff<S: ConsoleStore, T>(
    app: &App<S, T>,
    staff: &Staff,
    form: &CountForm,
    set: bool,
) -> Result<Response, Failure> {
    staff.check_csrf(&form.csrf)?;
    let units = number(if set { "在庫数" } else { "増減数" }, &form.units)?;
    let count = if set { Count::Set(units) } else { Count::Adjust(units) };
    let edit = Edit { who: staff.name(), why: &form.why, at: now() };
    let s = stock_staff::count(&app.store, &app.settings.shop_id, &form.sku, count, &edit).await.map_err(refused)?;
    let (action, what) =
        if set { ("stock_set", format!("棚卸 {units}")) } else { ("stock_adjust", format!("入出庫 {units:+}")) };
    let result = format!("{}: 在庫数 {}、引当 {}、販売可能 {}", s.sku, s.on_hand, s.reserved, s.available());
    audit(app, staff, action, None, format!("{}: {what}（理由: {}）→ {result}", s.sku, form.why.trim())).await?;
    Ok(done(app, staff, "/stock", result).await)
}

/// `POST /stock/edit/set`.
pub async fn set<S: ConsoleStore, T: Send + Sync + 'static>(
    State(app): State<App<S, T>>,
    staff: Staff,
    Form(form): Form<CountForm>,
) -> Result<Response, Failure> {
    count_by_staff(&app, &staff, &form, true).await
}

/// `POST /stock/edit/adjust`.
pub async fn adjust<S: ConsoleStore, T: Send + Sync + 'static>(
    State(app): State<App<S, T>>,
    staff: Staff,
    Form(form): Form<CountForm>,
) -> Result<Response, Failure> {
    count_by_staff(&app, &staff, &form, false).await
}

fn mall(s: &str) -> Result<Marketplace, Failure> {
    s.parse::<Marketplace>()
        .ok()
        .filter(|m| MALLS.contains(m))
        .ok_or_else(|| Failure::BadRequest(format!("モール {s:?} はありません")))
}

/// The 対応付け form.
#[derive(Deserialize)]
pub struct MapForm {
    csrf: String,
    #[serde(default)]
    marketplace: String,
    #[serde(default)]
    item: String,
    #[serde(default)]
    parts: String,
}

/// `POST /stock/edit/map`, as `ichigen stock map`: `SKU`, or a set as `SKU*2 OTHER*1`.
pub async fn map<S: ConsoleStore, T: Send + Sync + 'static>(
    State(app): State<App<S, T>>,
    staff: Staff,
    Form(form): Form<MapForm>,
) -> Result<Response, Failure> {
    staff.check_csrf(&form.csrf)?;
    let marketplace = mall(&form.marketplace)?;
    let parts: Vec<&str> = form.parts.split_whitespace().collect();
    let listing = stock_staff::map_item(&app.store, &app.settings.shop_id, marketplace, &form.item, &parts)
        .await
        .map_err(refused)?;
    let message = format!(
        "{} の商品 {} は 1点あたり {} を使います",
        marketplace_name(marketplace),
        listing.item,
        stock_staff::parts_text(&listing)
    );
    audit(&app, &staff, "stock_map", None, message.clone()).await?;
    Ok(done(&app, &staff, "/stock", message).await)
}

/// The drift buttons.
#[derive(Deserialize)]
pub struct DriftForm {
    csrf: String,
    #[serde(default)]
    marketplace: String,
    #[serde(default)]
    item: String,
}

fn undecided(e: DecideError) -> Failure {
    match e {
        DecideError::Port(e) => e.into(),
        other => Failure::BadRequest(other.to_string()),
    }
}

/// `POST /stock/drift/accept` (「モールの数を採用」), as `ichigen stock accept`.
pub async fn accept<S: ConsoleStore, T: Send + Sync + 'static>(
    State(app): State<App<S, T>>,
    staff: Staff,
    Form(form): Form<DriftForm>,
) -> Result<Response, Failure> {
    staff.check_csrf(&form.csrf)?;
    let marketplace = mall(&form.marketplace)?;
    let diff = accept_drift(&app.store, &app.settings.shop_id, marketplace, &form.item, staff.name(), now())
        .await
        .map_err(undecided)?;
    let message = format!(
        "{} の商品 {}: モールの在庫数を採用しました（在庫数 {diff:+} 個分）",
        marketplace_name(marketplace),
        form.item
    );
    audit(&app, &staff, "stock_accept", None, message.clone()).await?;
    Ok(done(&app, &staff, "/stock", message).await)
}

/// `POST /stock/drift/force` (「ichigenの数で上書き」), as `ichigen stock push --force`.
pub async fn force<S: ConsoleStore, T: Send + Sync + 'static>(
    State(app): State<App<S, T>>,
    staff: Staff,
    Form(form): Form<DriftForm>,
) -> Result<Response, Failure> {
    staff.check_csrf(&form.csrf)?;
    let marketplace = mall(&form.marketplace)?;
    force_push(&app.store, &app.settings.shop_id, marketplace, &form.item, now()).await.map_err(undecided)?;
    let message = format!(
        "{} の商品 {}: 次回の取込のあとで ichigen の在庫数で上書きします",
        marketplace_name(marketplace),
        form.item
    );
    audit(&app, &staff, "stock_force", None, message.clone()).await?;
    Ok(done(&app, &staff, "/stock", message).await)
}

/// `POST /stock/edit/load` (multipart: `csrf`, `file`): the stock file, as `ichigen stock load` — every
/// row or none.
pub async fn load<S: ConsoleStore, T: Send + Sync + 'static>(
    State(app): State<App<S, T>>,
    staff: Staff,
    multipart: Multipart,
) -> Result<Response, Failure> {
    let upload = read_upload(multipart).await?;
    staff.check_csrf(upload.field("csrf"))?;
    let (file, filename) = (&upload.file, &upload.filename);
    let failed = |summary: String, problems: Vec<String>| LoadResult { ok: false, summary, problems };
    if file.is_empty() {
        return page(&app, &staff, "", Some(failed("ファイルを選んでください".into(), Vec::new()))).await;
    }
    let result = match stock_staff::load(&app.store, &app.settings.shop_id, file, filename, staff.name(), now()).await {
        Ok(loaded) => {
            let mut summary = format!(
                "{filename}: {}件のSKUの在庫数と{}件のモール商品の対応を反映しました",
                loaded.skus, loaded.listings
            );
            if loaded.held > 0 {
                summary.push_str(&format!("。保存済みの未発送注文{}件の引当を反映しました", loaded.held));
            }
            audit(&app, &staff, "stock_load", None, summary.clone()).await?;
            LoadResult { ok: true, summary, problems: Vec::new() }
        }
        Err(LoadError::Refused { why: StockFileError::Rows(rows), .. }) => failed(
            format!(
                "{filename}: {} 行が正しくないため、何も反映していません。直してからもう一度取り込んでください",
                rows.len()
            ),
            rows.iter().map(|(line, why)| format!("{line}行目: {why}")).collect(),
        ),
        Err(LoadError::Refused { why, .. }) => failed(format!("{filename}: 何も反映していません。{why}"), Vec::new()),
        Err(LoadError::Port(e)) => return Err(e.into()),
    };
    page(&app, &staff, "", Some(result)).await
}
