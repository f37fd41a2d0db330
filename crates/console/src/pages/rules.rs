//! ルール: the shop's rules (TOML), simulated over the last N days of stored orders before they
//! are saved: which orders the proposed rules would hold or no longer hold, compared with now.

use axum::Form;
use axum::extract::State;
use axum::response::Response;
use chrono::Duration;
use ichigen_core::pipeline::StoredOrder;
use ichigen_core::rules::EXAMPLE_RULES;
use ichigen_core::{BundleIndex, CheckEngine, Rules, Severity, japanese};
use serde::{Deserialize, Serialize};

use super::{Failure, done, html};
use crate::auth::Staff;
use crate::staff::{audit, now};
use crate::view::{jst, order_url, yen};
use crate::{App, ConsoleStore};

/// Changed orders listed at most.
const LISTED: usize = 200;

/// The rules form.
#[derive(Deserialize)]
pub struct RulesForm {
    csrf: String,
    rules: String,
    #[serde(default)]
    days: String,
    op: String,
}

#[derive(Serialize)]
struct Changed {
    url: String,
    name: String,
    ordered_at: String,
    total: String,
    reasons: Vec<String>,
}

#[derive(Serialize)]
struct Simulation {
    days: i64,
    checked: usize,
    newly_held: Vec<Changed>,
    released: Vec<Changed>,
    newly_held_count: usize,
    released_count: usize,
}

async fn current_rules<S: ConsoleStore, T>(app: &App<S, T>) -> Result<String, Failure> {
    Ok(app.store.shop(&app.settings.shop_id).await?.map(|s| s.rules_toml).unwrap_or_default())
}

/// `GET /rules`.
pub async fn show<S: ConsoleStore, T: Send + Sync + 'static>(
    State(app): State<App<S, T>>,
    staff: Staff,
) -> Result<Response, Failure> {
    let rules = current_rules(&app).await?;
    page(&app, &staff, rules, 30, None, None)
}

fn page<S, T>(
    app: &App<S, T>,
    staff: &Staff,
    rules: String,
    days: i64,
    simulation: Option<Simulation>,
    error: Option<String>,
) -> Result<Response, Failure> {
    html(
        app,
        "rules.html",
        minijinja::context! {
            layout => super::layout(app, staff, "rules"),
            rules, days, simulation, error,
            example => EXAMPLE_RULES,
        },
    )
}

/// Hold reasons of an order under `engine` (empty: not held by the rules).
fn holds(engine: &CheckEngine, s: &StoredOrder) -> Vec<String> {
    if !s.order.status.is_open() {
        return Vec::new();
    }
    engine
        .check(&s.order, &BundleIndex::empty())
        .findings
        .into_iter()
        .filter(|f| f.severity == Severity::Hold)
        .map(|f| japanese::finding(f.code).to_string())
        .collect()
}

fn engine_of<S, T>(
    app: &App<S, T>,
    toml: &str,
    blacklist: &[ichigen_core::rules::BlacklistEntry],
) -> Result<CheckEngine, String> {
    let mut rules =
        if toml.trim().is_empty() { Rules::default() } else { Rules::from_toml(toml).map_err(|e| e.to_string())? };
    rules.blacklist.extend(blacklist.iter().cloned());
    Ok(CheckEngine::new(rules, app.policies))
}

/// `POST /rules`: `op=simulate` runs the proposed rules over the period; `op=save` saves them.
pub async fn submit<S: ConsoleStore, T: Send + Sync + 'static>(
    State(app): State<App<S, T>>,
    staff: Staff,
    Form(form): Form<RulesForm>,
) -> Result<Response, Failure> {
    staff.check_csrf(&form.csrf)?;
    let days: i64 = form.days.trim().parse().unwrap_or(30).clamp(1, 366);
    let proposed = form.rules.replace("\r\n", "\n");
    let shop_id = app.settings.shop_id.clone();
    let blacklist: Vec<_> = app.store.blacklist(&shop_id).await?.into_iter().map(|(_, e)| e).collect();
    let proposed_engine = match engine_of(&app, &proposed, &blacklist) {
        Ok(e) => e,
        Err(why) => return page(&app, &staff, proposed, days, None, Some(format!("ルールに誤りがあります: {why}"))),
    };
    if form.op == "save" {
        let mut shop = app
            .store
            .shop(&shop_id)
            .await?
            .ok_or_else(|| Failure::NotFound(format!("ショップ {shop_id} の設定がありません")))?;
        shop.rules_toml = proposed;
        app.store.put_shop(&shop).await?;
        audit(&app, &staff, "rules_save", None, format!("{} 行", shop.rules_toml.lines().count())).await?;
        return Ok(done(
            &app,
            &staff,
            "/rules",
            "ルールを保存しました。新しい注文と変更された注文から適用されます（保存済みの注文はそのままです）".into(),
        )
        .await);
    }
    let current = current_rules(&app).await?;
    let current_engine = engine_of(&app, &current, &blacklist)
        .map_err(|why| Failure::Internal(format!("保存済みのルールが読めません: {why}")))?;
    let since = now() - Duration::days(days);
    let mut sim = Simulation {
        days,
        checked: 0,
        newly_held: Vec::new(),
        released: Vec::new(),
        newly_held_count: 0,
        released_count: 0,
    };
    for status in ichigen_core::OrderStatus::ALL {
        for s in app.store.list_by_status(&shop_id, status, Some(since), None).await? {
            sim.checked += 1;
            let before = holds(&current_engine, &s);
            let after = holds(&proposed_engine, &s);
            let row = |reasons: Vec<String>| Changed {
                url: order_url(&s.key()),
                name: format!("{}/{}", s.order.marketplace, s.order.order_id),
                ordered_at: jst(s.order.ordered_at),
                total: yen(s.order.totals.total),
                reasons,
            };
            if before.is_empty() && !after.is_empty() {
                sim.newly_held_count += 1;
                if sim.newly_held.len() < LISTED {
                    sim.newly_held.push(row(after));
                }
            } else if !before.is_empty() && after.is_empty() {
                sim.released_count += 1;
                if sim.released.len() < LISTED {
                    sim.released.push(row(before));
                }
            }
        }
    }
    page(&app, &staff, proposed, days, Some(sim), None)
}
