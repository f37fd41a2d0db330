//! ブラックリスト: list, add (validated as `ichigen blacklist add`, deduplicated after
//! normalisation; adding checks the shop's open orders at once and holds those it matches),
//! remove.

use axum::Form;
use axum::extract::{Path, State};
use axum::response::Response;
use ichigen_core::pipeline::{Decision, StaffMail};
use ichigen_core::rules::BlacklistEntry;
use ichigen_core::{BundleIndex, CheckEngine, FindingCode, OrderStatus, Rules, Severity, text};
use serde::{Deserialize, Serialize};

use super::{Failure, done, html, layout};
use crate::auth::Staff;
use crate::staff::{self, audit};
use crate::{App, ConsoleStore};

#[derive(Serialize)]
struct Row {
    id: String,
    name: String,
    phone: String,
    email: String,
    address: String,
    reason: String,
    removable: bool,
}

/// `GET /blacklist`.
pub async fn show<S: ConsoleStore, T: Send + Sync + 'static>(
    State(app): State<App<S, T>>,
    staff: Staff,
) -> Result<Response, Failure> {
    let shop_id = &app.settings.shop_id;
    let cell = |v: &Option<String>| v.clone().unwrap_or_default();
    let row = |id: String, e: &BlacklistEntry, removable: bool| Row {
        id,
        name: cell(&e.name),
        phone: cell(&e.phone),
        email: cell(&e.email),
        address: cell(&e.address),
        reason: e.reason.clone(),
        removable,
    };
    let mut rows: Vec<Row> =
        app.store.blacklist(shop_id).await?.iter().map(|(id, e)| row(id.clone(), e, true)).collect();
    if let Some(shop) = app.store.shop(shop_id).await?
        && !shop.rules_toml.trim().is_empty()
        && let Ok(rules) = Rules::from_toml(&shop.rules_toml)
    {
        rows.extend(rules.blacklist.iter().map(|e| row("ルール".into(), e, false)));
    }
    html(&app, "blacklist.html", minijinja::context! { layout => layout(&app, &staff, "blacklist"), rows })
}

/// The add form.
#[derive(Deserialize)]
pub struct AddForm {
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    address: String,
    #[serde(default)]
    reason: String,
}

fn given(v: &str) -> Option<String> {
    Some(v.trim()).filter(|s| !s.is_empty()).map(str::to_string)
}

/// The entry's fields as compared: name, phone, e-mail and address keys.
fn normalised(e: &BlacklistEntry) -> (Option<String>, Option<String>, Option<String>, Option<String>) {
    (
        e.name.as_deref().map(text::name_key),
        e.phone.as_deref().and_then(text::phone_key),
        e.email.as_deref().and_then(text::email_key),
        e.address.as_deref().map(text::address_key),
    )
}

/// `POST /blacklist`: adds the entry, then holds the open orders it matches.
pub async fn add<S: ConsoleStore, T: StaffMail + 'static>(
    State(app): State<App<S, T>>,
    staff: Staff,
    Form(form): Form<AddForm>,
) -> Result<Response, Failure> {
    staff.check_csrf(&form.csrf)?;
    let shop_id = app.settings.shop_id.clone();
    let entry = BlacklistEntry {
        name: given(&form.name),
        phone: given(&form.phone),
        email: given(&form.email),
        address: given(&form.address),
        reason: form.reason.trim().to_string(),
    };
    if let Err(why) = entry.validate() {
        return Err(Failure::BadRequest(format!("ブラックリストに登録できません: {why}")));
    }
    let existing = app.store.blacklist(&shop_id).await?;
    if let Some((id, _)) = existing.iter().find(|(_, e)| normalised(e) == normalised(&entry)) {
        return Err(Failure::BadRequest(format!("同じ内容の登録がすでにあります（登録 {id}）")));
    }
    let id = app.store.add_blacklisted(&shop_id, &entry).await?;
    audit(&app, &staff, "blacklist_add", None, format!("登録 {id}（理由: {}）", entry.reason)).await?;

    // The shop's rules with only this entry: the severity the shop gave buyer.blacklisted holds.
    let mut rules = match app.store.shop(&shop_id).await? {
        Some(shop) if !shop.rules_toml.trim().is_empty() => Rules::from_toml(&shop.rules_toml)
            .map_err(|e| Failure::Internal(format!("ショップのルールが読めません: {e}")))?,
        _ => Rules::default(),
    };
    rules.blacklist = vec![entry.clone()];
    let engine = CheckEngine::new(rules, app.policies);
    let mut held = Vec::new();
    for status in [OrderStatus::New, OrderStatus::AwaitingPayment, OrderStatus::ReadyToShip] {
        for s in app.store.list_by_status(&shop_id, status, None, None).await? {
            let outcome = engine.check(&s.order, &BundleIndex::empty());
            let hit =
                outcome.findings.iter().any(|f| f.code == FindingCode::Blacklisted && f.severity == Severity::Hold);
            if !hit {
                continue;
            }
            let key = s.key();
            let reason = format!(
                "ブラックリスト登録 {id} に該当{}",
                if entry.reason.is_empty() { String::new() } else { format!("（{}）", entry.reason) }
            );
            if staff::decide(&app, &key, Decision::Hold(&reason)).await.is_ok() {
                audit(&app, &staff, "blacklist_hold", Some(&key), reason).await?;
                held.push(format!("{}/{}", key.marketplace, key.order_id));
            }
        }
    }
    let message = if held.is_empty() {
        format!("登録 {id} を追加しました。該当する未出荷の注文はありません。新しい注文から照合します")
    } else {
        format!("登録 {id} を追加し、該当する未出荷の注文 {} 件を保留にしました: {}", held.len(), held.join("、"))
    };
    Ok(done(&app, &staff, "/blacklist", message).await)
}

/// The remove form.
#[derive(Deserialize)]
pub struct RemoveForm {
    csrf: String,
}

/// `POST /blacklist/{id}/remove`.
pub async fn remove<S: ConsoleStore, T: Send + Sync + 'static>(
    State(app): State<App<S, T>>,
    staff: Staff,
    Path(id): Path<String>,
    Form(form): Form<RemoveForm>,
) -> Result<Response, Failure> {
    staff.check_csrf(&form.csrf)?;
    if !app.store.remove_blacklisted(&app.settings.shop_id, &id).await? {
        return Err(Failure::NotFound(format!("登録 {id} はありません")));
    }
    audit(&app, &staff, "blacklist_remove", None, format!("登録 {id}")).await?;
    Ok(done(&app, &staff, "/blacklist", format!("登録 {id} を削除しました。保留中の注文はそのままです")).await)
}
