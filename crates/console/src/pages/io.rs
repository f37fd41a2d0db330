//! 出力・取込: the CSV and carrier-format exports as downloads (`ichigen export`), and the
//! tracking-number file upload (`ichigen tracking import`).

use std::collections::BTreeMap;

use axum::Form;
use axum::extract::{Multipart, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use chrono::{Duration, NaiveDate, TimeZone};
use ichigen_core::labels::issued::{self, IssuedFormat};
use ichigen_core::labels::{self, LabelOptions, Program};
use ichigen_core::pipeline::shipping::mark_printed;
use ichigen_core::pipeline::tracking::import_tracking;
use ichigen_core::pipeline::{OrderKey, StoredOrder};
use ichigen_core::{JST, OrderStatus, Rules};
use serde::{Deserialize, Serialize};

use super::{Failure, html, layout, read_upload};
use crate::auth::Staff;
use crate::staff::{audit, now};
use crate::{App, ConsoleStore};

#[derive(Serialize, Default)]
struct ImportResult {
    ok: bool,
    summary: String,
    problems: Vec<String>,
}

fn page<S, T>(app: &App<S, T>, staff: &Staff, result: Option<ImportResult>) -> Result<Response, Failure> {
    html(
        app,
        "io.html",
        minijinja::context! { layout => layout(app, staff, "io"), result, today => now().date_naive().to_string() },
    )
}

/// `GET /io`.
pub async fn show<S: ConsoleStore, T: Send + Sync + 'static>(
    State(app): State<App<S, T>>,
    staff: Staff,
) -> Result<Response, Failure> {
    page(&app, &staff, None)
}

/// The export form.
#[derive(Deserialize)]
pub struct ExportForm {
    csrf: String,
    format: String,
    #[serde(default)]
    since: String,
    #[serde(default)]
    until: String,
    #[serde(default)]
    ship_date: String,
    #[serde(default)]
    again: Option<String>,
}

fn date(what: &str, s: &str) -> Result<Option<NaiveDate>, Failure> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(s, "%Y/%m/%d"))
        .map(Some)
        .map_err(|_| Failure::BadRequest(format!("{what}は 2026-12-05 の形で入力してください")))
}

/// The shop's orders ordered in the period, oldest first (as `ichigen export`).
async fn orders<S: ConsoleStore, T>(
    app: &App<S, T>,
    since: Option<NaiveDate>,
    until: Option<NaiveDate>,
) -> Result<Vec<StoredOrder>, Failure> {
    let start = |d: NaiveDate| d.and_hms_opt(0, 0, 0).and_then(|t| JST.from_local_datetime(&t).single());
    let since = since.and_then(start);
    let until = until.and_then(|d| start(d + Duration::days(1)));
    let mut out = Vec::new();
    for status in OrderStatus::ALL {
        out.extend(app.store.list_by_status(&app.settings.shop_id, status, since, until).await?);
    }
    out.sort_by(|a, b| a.order.ordered_at.cmp(&b.order.ordered_at).then_with(|| a.key().cmp(&b.key())));
    Ok(out)
}

fn download(bytes: Vec<u8>, content_type: &'static str, filename: String) -> Response {
    (
        [
            (CONTENT_TYPE, content_type.to_string()),
            (CONTENT_DISPOSITION, format!("attachment; filename=\"{filename}\"")),
            (CACHE_CONTROL, "no-store".to_string()),
        ],
        bytes,
    )
        .into_response()
}

/// `POST /io/export`: the file as a download; label data marks its parcels 印刷済.
pub async fn export<S: ConsoleStore, T: Send + Sync + 'static>(
    State(app): State<App<S, T>>,
    staff: Staff,
    Form(form): Form<ExportForm>,
) -> Result<Response, Failure> {
    staff.check_csrf(&form.csrf)?;
    let since = date("期間（から）", &form.since)?;
    let until = date("期間（まで）", &form.until)?;
    let stamp = now().format("%Y%m%d-%H%M");
    let mut list = orders(&app, since, until).await?;
    let program = match form.format.as_str() {
        "csv" => {
            let mut bytes = Vec::new();
            let rows = ichigen_core::export::write_csv(&list, &mut bytes)
                .map_err(|e| Failure::Internal(format!("CSVを作れませんでした: {e}")))?;
            audit(&app, &staff, "export", None, format!("CSV（{} 注文・{rows} 行）", list.len())).await?;
            return Ok(download(bytes, "text/csv; charset=utf-8", format!("orders-{stamp}.csv")));
        }
        "b2" => Program::B2,
        "ehiden" => Program::Ehiden,
        "yupri" => Program::Yupri,
        other => return Err(Failure::BadRequest(format!("出力形式 {other:?} はありません"))),
    };
    let shop_id = &app.settings.shop_id;
    let shop = app.store.shop(shop_id).await?.ok_or_else(|| {
        Failure::NotFound(format!("ショップ {shop_id} の設定がありません（ご依頼主の情報に使います）"))
    })?;
    let rules = if shop.rules_toml.trim().is_empty() {
        Rules::default()
    } else {
        Rules::from_toml(&shop.rules_toml)
            .map_err(|e| Failure::Internal(format!("ショップのルールが読めません: {e}")))?
    };
    // As `ichigen export`: never a second label for a parcel with a tracking number, and one
    // exported before only when asked again.
    let again = form.again.is_some();
    list.retain(|s| {
        !s.parcels.iter().any(|p| p.tracking.is_some()) && (again || !s.parcels.iter().any(|p| p.printed.is_some()))
    });
    let ship_date = date("出荷予定日", &form.ship_date)?.unwrap_or_else(|| now().date_naive());
    let exported = labels::export(program, &list, &shop, &rules, &LabelOptions { ship_date })
        .map_err(|e| Failure::BadRequest(format!("送り状データを作れませんでした: {e}")))?;
    let mut by_order: BTreeMap<&OrderKey, Vec<usize>> = BTreeMap::new();
    for l in &exported.labelled {
        by_order.entry(&l.order).or_default().push(l.destination);
    }
    let at = now();
    for (key, destinations) in by_order {
        mark_printed(&app.store, key, &destinations, exported.program.name(), at)
            .await
            .map_err(|e| Failure::Internal(format!("印刷済にできませんでした: {e}")))?;
    }
    audit(
        &app,
        &staff,
        "export",
        None,
        format!(
            "{}（{} 個口、書き出せなかった注文 {} 件）",
            exported.program.name(),
            exported.labelled.len(),
            exported.skipped.len()
        ),
    )
    .await?;
    Ok(download(exported.bytes, "text/csv; charset=Shift_JIS", format!("{}-{stamp}.csv", form.format)))
}

/// `POST /io/tracking` (multipart: `csrf`, `format`, `file`): the same import as `ichigen
/// tracking import`: every row or none.
pub async fn tracking<S: ConsoleStore, T: Send + Sync + 'static>(
    State(app): State<App<S, T>>,
    staff: Staff,
    multipart: Multipart,
) -> Result<Response, Failure> {
    let upload = read_upload(multipart).await?;
    staff.check_csrf(upload.field("csrf"))?;
    let (format, file, filename) = (upload.field("format"), &upload.file, &upload.filename);
    if file.is_empty() {
        return page(
            &app,
            &staff,
            Some(ImportResult {
                ok: false, summary: "ファイルを選んでください".into(), problems: Vec::new()
            }),
        );
    }
    let wanted = match format {
        "b2" => Some(IssuedFormat::Program(Program::B2)),
        "ehiden" => Some(IssuedFormat::Program(Program::Ehiden)),
        "yupri" => Some(IssuedFormat::Program(Program::Yupri)),
        "plain" => Some(IssuedFormat::Plain),
        _ => None,
    };
    let (format, rows, problems) = match issued::read(file, wanted) {
        Ok(read) => read,
        Err(e) => {
            return page(
                &app,
                &staff,
                Some(ImportResult {
                    ok: false,
                    summary: format!("{filename}: {e}。何も登録していません"),
                    problems: Vec::new(),
                }),
            );
        }
    };
    let report = import_tracking(&app.store, &app.store, &app.settings.shop_id, &rows, problems, now())
        .await
        .map_err(|e| Failure::Internal(format!("伝票番号を登録できませんでした: {e}")))?;
    let result = if report.applied {
        let summary = format!(
            "{filename}（{}）: {} 件を出荷済にしました（モールへの登録は次回の受注取り込み時）。登録済みで変更なし {} 件",
            format.name(),
            report.shipped(),
            report.unchanged()
        );
        audit(&app, &staff, "tracking_import", None, summary.clone()).await?;
        ImportResult { ok: true, summary, problems: Vec::new() }
    } else {
        ImportResult {
            ok: false,
            summary: format!(
                "{filename}（{}）の {} 行を照合できないか正しくないため、どの伝票番号も登録していません。直してからもう一度取り込んでください",
                format.name(),
                report.problems.len()
            ),
            problems: report.problems.iter().map(|p| format!("{}行目: {}", p.line, p.reason)).collect(),
        }
    };
    page(&app, &staff, Some(result))
}
