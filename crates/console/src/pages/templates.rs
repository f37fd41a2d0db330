//! メールテンプレート: edit a mail template with a preview rendered on a real stored order of each
//! marketplace; saved only after the check of `ichigen shop template set`.

use axum::Form;
use axum::extract::{Query, State};
use axum::response::Response;
use ichigen_core::console::OrderQuery;
use ichigen_core::pipeline::mail::{default_template, render_sources};
use ichigen_core::pipeline::template_check::check_template;
use ichigen_core::pipeline::{MailKind, MailTemplate, ShopSettings};
use ichigen_core::{Marketplace, japanese};
use serde::{Deserialize, Serialize};

use super::{Failure, done, html, layout};
use crate::auth::Staff;
use crate::staff::audit;
use crate::{App, ConsoleStore};

/// `?kind=`.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct KindQuery {
    kind: String,
}

fn kind_of(s: &str) -> Result<MailKind, Failure> {
    if s.trim().is_empty() {
        return Ok(MailKind::ThankYou);
    }
    s.parse().map_err(|_| Failure::BadRequest(format!("テンプレート {s:?} はありません")))
}

fn kind_label(k: MailKind) -> &'static str {
    match k {
        MailKind::ThankYou => "ご注文確認（サンクス）",
        MailKind::Shipping => "発送のお知らせ",
        MailKind::PaymentReceived => "ご入金確認",
        MailKind::StaffAlert => "スタッフへの保留通知",
    }
}

#[derive(Serialize)]
struct Preview {
    marketplace: &'static str,
    order: String,
    subject: String,
    body: String,
    error: Option<String>,
}

async fn shop<S: ConsoleStore, T>(app: &App<S, T>) -> Result<ShopSettings, Failure> {
    let id = &app.settings.shop_id;
    app.store.shop(id).await?.ok_or_else(|| Failure::NotFound(format!("ショップ {id} の設定がありません")))
}

/// The template rendered on the newest stored order of each marketplace.
async fn previews<S: ConsoleStore, T>(
    app: &App<S, T>,
    shop: &ShopSettings,
    kind: MailKind,
    t: &MailTemplate,
) -> Result<Vec<Preview>, Failure> {
    let mut out = Vec::new();
    for m in Marketplace::ALL {
        let q = OrderQuery { marketplace: Some(m), ..OrderQuery::default() };
        let Some(stored) = app.store.page(&shop.shop_id, &q, None, 1).await?.orders.into_iter().next() else {
            continue;
        };
        let order = format!("{}/{}", m, stored.order.order_id);
        out.push(match render_sources(kind, shop, &stored, &app.policies, &t.subject, &t.body) {
            Ok((subject, body)) => {
                Preview { marketplace: japanese::marketplace_name(m), order, subject, body, error: None }
            }
            Err(e) => Preview {
                marketplace: japanese::marketplace_name(m),
                order,
                subject: String::new(),
                body: String::new(),
                error: Some(e.to_string()),
            },
        });
    }
    Ok(out)
}

#[allow(clippy::too_many_arguments)]
fn page<S, T>(
    app: &App<S, T>,
    staff: &Staff,
    kind: MailKind,
    t: &MailTemplate,
    own: bool,
    previews: Vec<Preview>,
    error: Option<String>,
) -> Result<Response, Failure> {
    let kinds: Vec<(&str, &str)> = MailKind::ALL.iter().map(|k| (k.as_str(), kind_label(*k))).collect();
    html(
        app,
        "templates.html",
        minijinja::context! {
            layout => layout(app, staff, "templates"),
            kind => kind.as_str(), kind_label => kind_label(kind), kinds,
            subject => t.subject, body => t.body, own, previews, error,
        },
    )
}

/// `GET /templates?kind=`: the shop's template (or the default), previewed.
pub async fn show<S: ConsoleStore, T: Send + Sync + 'static>(
    State(app): State<App<S, T>>,
    staff: Staff,
    Query(q): Query<KindQuery>,
) -> Result<Response, Failure> {
    let kind = kind_of(&q.kind)?;
    let shop = shop(&app).await?;
    let (t, own) = match shop.templates.get(&kind) {
        Some(t) => (t.clone(), true),
        None => {
            let (s, b) = default_template(kind);
            (MailTemplate { subject: s.trim_end().to_string(), body: b.to_string() }, false)
        }
    };
    let previews = previews(&app, &shop, kind, &t).await?;
    page(&app, &staff, kind, &t, own, previews, None)
}

/// The template form.
#[derive(Deserialize)]
pub struct TemplateForm {
    csrf: String,
    kind: String,
    subject: String,
    body: String,
    op: String,
}

/// `POST /templates`: `op=preview` renders the edited template; `op=save` checks and saves it.
pub async fn submit<S: ConsoleStore, T: Send + Sync + 'static>(
    State(app): State<App<S, T>>,
    staff: Staff,
    Form(form): Form<TemplateForm>,
) -> Result<Response, Failure> {
    staff.check_csrf(&form.csrf)?;
    let kind = kind_of(&form.kind)?;
    let mut shop = shop(&app).await?;
    let t = MailTemplate { subject: form.subject.trim_end().to_string(), body: form.body.replace("\r\n", "\n") };
    let own = shop.templates.contains_key(&kind);
    if form.op == "save" {
        match check_template(kind, &shop, &t, &app.policies) {
            Ok(n) => {
                shop.templates.insert(kind, t);
                app.store.put_shop(&shop).await?;
                audit(
                    &app,
                    &staff,
                    "template_save",
                    None,
                    format!("{}（見本の注文 {n} 件で確認済み）", kind_label(kind)),
                )
                .await?;
                return Ok(done(
                    &app,
                    &staff,
                    &format!("/templates?kind={}", kind.as_str()),
                    format!("{}のテンプレートを保存しました（見本の注文 {n} 件で確認済み）", kind_label(kind)),
                )
                .await);
            }
            Err(e) => {
                let previews = previews(&app, &shop, kind, &t).await?;
                return page(&app, &staff, kind, &t, own, previews, Some(format!("保存しませんでした: {e}")));
            }
        }
    }
    let previews = previews(&app, &shop, kind, &t).await?;
    page(&app, &staff, kind, &t, own, previews, None)
}
