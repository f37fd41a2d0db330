//! 受注詳細: everything the order holds, its findings with evidence, mail and audit history, and
//! the actions: release, hold with a reason, correct the destination, enter a tracking number.

use axum::Form;
use axum::extract::{Path, State};
use axum::response::Response;
use chrono::NaiveDate;
use ichigen_core::pipeline::route::route_of;
use ichigen_core::pipeline::shipping::record_tracking;
use ichigen_core::pipeline::{
    Decision, OrderKey, ProcessError, Recorded, ShipError, StaffError, StaffMail, StoredOrder, tracking,
};
use ichigen_core::tab::ListTab;
use ichigen_core::{Carrier, OrderStatus, Tracking, japanese};
use serde::{Deserialize, Serialize};

use super::{Failure, done, html, layout, load_order};
use crate::auth::Staff;
use crate::staff::{self, audit, now};
use crate::view::{AuditRow, decision, evidence_lines, jst, order_url, yen};
use crate::{App, ConsoleStore};

#[derive(Serialize)]
struct FindingView {
    label: &'static str,
    code: &'static str,
    severity: &'static str,
    severity_label: &'static str,
    message: String,
    evidence: Vec<String>,
}

#[derive(Serialize)]
struct MailView {
    kind: String,
    sent_at: String,
    message_id: String,
    route: String,
    events: Vec<String>,
}

fn severity_key(s: ichigen_core::Severity) -> &'static str {
    match s {
        ichigen_core::Severity::Hold => "hold",
        ichigen_core::Severity::Warn => "warn",
        ichigen_core::Severity::Info => "info",
    }
}

/// The order's path parts.
#[derive(Deserialize)]
pub struct OrderPath {
    marketplace: String,
    order_id: String,
}

/// `GET /orders/{marketplace}/{order_id}`.
pub async fn show<S: ConsoleStore, T: Send + Sync + 'static>(
    State(app): State<App<S, T>>,
    staff: Staff,
    Path(p): Path<OrderPath>,
) -> Result<Response, Failure> {
    let s = load_order(&app, &p.marketplace, &p.order_id).await?;
    let key = s.key();
    let o = &s.order;
    let shop = app.store.shop(&app.settings.shop_id).await?;
    let findings: Vec<FindingView> = s
        .findings
        .iter()
        .map(|f| FindingView {
            label: japanese::finding(f.code),
            code: f.code.as_str(),
            severity: severity_key(f.severity),
            severity_label: japanese::severity(f.severity),
            message: f.message.clone(),
            evidence: evidence_lines(&f.evidence),
        })
        .collect();
    let events: Vec<_> = app
        .store
        .events(&key.shop_id)
        .await?
        .into_iter()
        .filter(|e| e.marketplace == key.marketplace && e.order_id == key.order_id)
        .collect();
    let recipients: Vec<String> = o.buyer.email.iter().cloned().collect();
    let mails: Vec<MailView> = app
        .store
        .order_mails(&key)
        .await?
        .into_iter()
        .map(|m| MailView {
            kind: mail_kind_label(m.kind).to_string(),
            sent_at: m.sent_at.map(jst).unwrap_or_else(|| "送信中（未確認）".into()),
            route: shop.as_ref().map_or_else(String::new, |sh| route_label(route_of(m.kind, o, &recipients, sh))),
            events: events
                .iter()
                .filter(|e| e.mail_kind == m.kind.as_str() || Some(&e.message_id) == m.message_id.as_ref())
                .map(|e| format!("{} {}（{}）", jst(e.at), e.kind.label(), e.detail))
                .collect(),
            message_id: m.message_id.unwrap_or_default(),
        })
        .collect();
    let history: Vec<AuditRow> = app.store.order_actions(&key).await?.iter().map(AuditRow::from).collect();
    let destinations: Vec<serde_json::Value> = o
        .destinations()
        .enumerate()
        .map(|(i, d)| {
            let items = if o.shipments.is_empty() { &o.items } else { &o.shipments[i].items };
            let parcel = s.parcel(i + 1);
            serde_json::json!({
                "n": i + 1,
                "name": d.name, "postal_code": d.postal_code, "prefecture": d.prefecture, "city": d.city,
                "address1": d.address1, "address2": d.address2, "phone": d.phone, "country": d.country,
                "items": items.iter().map(|it| serde_json::json!({
                    "sku": it.sku, "name": it.name, "quantity": it.quantity, "unit_price": yen(it.unit_price),
                    "options": it.options.iter().map(|op| format!("{}: {}", op.name, op.value)).collect::<Vec<_>>(),
                })).collect::<Vec<_>>(),
                "state": parcel.map_or("", |p| p.state().label()),
                "tracking": parcel.and_then(|p| p.tracking.as_ref()).map(|t| format!("{} {}", japanese::carrier_name(t.carrier), t.number)),
                "printed": parcel.and_then(|p| p.printed.as_ref()).map(|pr| format!("{} {}", pr.program, jst(pr.at))),
                "reflected": parcel.and_then(|p| p.reflected_at).map(jst),
                "write_failed": parcel.and_then(|p| p.write_failed.clone()),
            })
        })
        .collect();
    let t = &o.totals;
    let back_office = ichigen_marketplaces::back_office::order_link(o.marketplace, &o.order_id);
    html(
        &app,
        "order.html",
        minijinja::context! {
            layout => layout(&app, &staff, "orders"),
            url => order_url(&key),
            marketplace => japanese::marketplace_name(o.marketplace),
            marketplace_code => o.marketplace.as_str(),
            order_id => o.order_id,
            tab => ListTab::of(&s).label(),
            status => japanese::order_status(s.status),
            held => s.status == OrderStatus::OnHold,
            open => s.status.is_open(),
            source_status => o.source_status,
            ordered_at => jst(o.ordered_at),
            updated_at => jst(o.source_updated_at),
            buyer => o.buyer,
            payment => japanese::payment_method(o.payment_method, o.marketplace),
            source_payment => o.source_payment_method,
            delivery => japanese::delivery_method(o.delivery.method),
            source_delivery => o.delivery.source_method,
            requested_date => o.delivery.requested_date.map(|d| d.to_string()),
            requested_time => o.delivery.requested_time_slot,
            totals => serde_json::json!({
                "goods": yen(t.goods), "shipping": yen(t.shipping), "fee": yen(t.fee),
                "fee_name": japanese::fee_name(o.payment_method), "discount": yen(t.discount), "total": yen(t.total),
            }),
            remarks => o.remarks,
            gift => o.gift,
            fba => o.fulfilled_by_marketplace,
            destinations,
            findings,
            decision => decision(&s.staff),
            acknowledgement => s.acknowledgement.as_ref().map(|a| a.summary()),
            mails,
            history,
            back_office => back_office.map(|b| serde_json::json!({"url": b.url, "opens_order": b.opens_order})),
            carriers => [("yamato", "ヤマト運輸"), ("sagawa", "佐川急便"), ("japanpost", "日本郵便"), ("other", "その他")],
            today => now().date_naive().to_string(),
        },
    )
}

/// A mail kind as staff read it.
pub(crate) fn mail_kind_label(kind: ichigen_core::pipeline::MailKind) -> &'static str {
    use ichigen_core::pipeline::MailKind;
    match kind {
        MailKind::ThankYou => "ご注文確認（サンクス）",
        MailKind::Shipping => "発送のお知らせ",
        MailKind::PaymentReceived => "ご入金確認",
        MailKind::StaffAlert => "スタッフへの保留通知",
    }
}

fn route_label(route: ichigen_core::pipeline::MailRoute) -> String {
    match route {
        ichigen_core::pipeline::MailRoute::Shop => "ショップの送信元".to_string(),
        ichigen_core::pipeline::MailRoute::Relay(m) => format!("{}のメール中継", japanese::marketplace_name(m)),
    }
}

/// A form with only the CSRF token.
#[derive(Deserialize)]
pub struct Plain {
    csrf: String,
}

/// `POST .../release`.
pub async fn release<S: ConsoleStore, T: StaffMail + 'static>(
    State(app): State<App<S, T>>,
    staff: Staff,
    Path(p): Path<OrderPath>,
    Form(form): Form<Plain>,
) -> Result<Response, Failure> {
    staff.check_csrf(&form.csrf)?;
    let s = load_order(&app, &p.marketplace, &p.order_id).await?;
    let key = s.key();
    if s.status != OrderStatus::OnHold {
        return Ok(done(&app, &staff, &order_url(&key), "保留中ではないため、解除するものはありません".into()).await);
    }
    let decided = staff::decide(&app, &key, Decision::Release).await.map_err(staff_failure)?;
    let mut message = format!("保留を解除しました（{}）。", japanese::order_status(decided.order.status));
    message.push_str(&decided.mails.join(" / "));
    audit(&app, &staff, "release", Some(&key), message.clone()).await?;
    Ok(done(&app, &staff, &order_url(&key), message).await)
}

/// The hold form.
#[derive(Deserialize)]
pub struct HoldForm {
    csrf: String,
    reason: String,
}

/// `POST .../hold`.
pub async fn hold<S: ConsoleStore, T: StaffMail + 'static>(
    State(app): State<App<S, T>>,
    staff: Staff,
    Path(p): Path<OrderPath>,
    Form(form): Form<HoldForm>,
) -> Result<Response, Failure> {
    staff.check_csrf(&form.csrf)?;
    let reason = form.reason.trim();
    if reason.is_empty() || reason.chars().any(char::is_control) {
        return Err(Failure::BadRequest("保留の理由を1行で入力してください".into()));
    }
    let s = load_order(&app, &p.marketplace, &p.order_id).await?;
    let key = s.key();
    staff::decide(&app, &key, Decision::Hold(reason)).await.map_err(staff_failure)?;
    audit(&app, &staff, "hold", Some(&key), format!("理由: {reason}")).await?;
    Ok(done(&app, &staff, &order_url(&key), format!("保留にしました（理由: {reason}）")).await)
}

fn staff_failure(e: StaffError) -> Failure {
    match e {
        StaffError::Closed { status, .. } => {
            Failure::BadRequest(format!("この注文は{}のため操作できません", japanese::order_status(status)))
        }
        StaffError::NotFound(k) => Failure::NotFound(format!("注文 {}/{} はありません", k.marketplace, k.order_id)),
        other => Failure::Internal(format!("操作に失敗しました: {other}")),
    }
}

/// The tracking form.
#[derive(Deserialize)]
pub struct TrackingForm {
    csrf: String,
    carrier: String,
    number: String,
    #[serde(default)]
    date: String,
    #[serde(default)]
    destination: String,
}

/// `POST .../tracking`: the same use case as `ichigen orders ship`.
pub async fn tracking<S: ConsoleStore, T: Send + Sync + 'static>(
    State(app): State<App<S, T>>,
    staff: Staff,
    Path(p): Path<OrderPath>,
    Form(form): Form<TrackingForm>,
) -> Result<Response, Failure> {
    staff.check_csrf(&form.csrf)?;
    let s = load_order(&app, &p.marketplace, &p.order_id).await?;
    let key = s.key();
    let carrier: Carrier = ichigen_core::labels::issued::parse_carrier(&form.carrier)
        .ok_or_else(|| Failure::BadRequest("配送業者を選んでください".into()))?;
    let date = match form.date.trim() {
        "" => None,
        d => Some(
            NaiveDate::parse_from_str(d, "%Y-%m-%d")
                .or_else(|_| NaiveDate::parse_from_str(d, "%Y/%m/%d"))
                .map_err(|_| Failure::BadRequest("出荷日は 2026-12-05 の形で入力してください".into()))?,
        ),
    };
    let destination = form.destination.trim().parse::<usize>().unwrap_or(1);
    let at = now();
    let number = form.number.trim().to_string();
    let t = Tracking {
        carrier,
        number: number.clone(),
        shipped_at: Some(tracking::shipped_at(date, at)),
        shipment_id: None,
    };
    let message = match record_tracking(&app.store, &app.store, &key, destination, t, at).await {
        Ok(Recorded::Shipped) => format!(
            "送付先{destination}: {} {number} を登録し出荷済にしました。次の取り込みで{}に登録します",
            japanese::carrier_name(carrier),
            japanese::marketplace_name(key.marketplace)
        ),
        Ok(Recorded::Unchanged) => format!("送付先{destination}: この伝票番号は登録済みです（変更なし）"),
        Err(ShipError::Port(e)) => return Err(e.into()),
        Err(e) => return Err(Failure::BadRequest(e.to_string())),
    };
    audit(&app, &staff, "tracking", Some(&key), message.clone()).await?;
    Ok(done(&app, &staff, &order_url(&key), message).await)
}

/// The destination form (the first destination's fields).
#[derive(Deserialize)]
pub struct DestinationForm {
    csrf: String,
    #[serde(default = "one")]
    destination: usize,
    name: String,
    postal_code: String,
    prefecture: String,
    city: String,
    address1: String,
    #[serde(default)]
    address2: String,
    #[serde(default)]
    phone: String,
}

fn one() -> usize {
    1
}

/// `POST .../destination`: the corrected destination, checked again by the processor.
pub async fn destination<S: ConsoleStore, T: StaffMail + 'static>(
    State(app): State<App<S, T>>,
    staff: Staff,
    Path(p): Path<OrderPath>,
    Form(form): Form<DestinationForm>,
) -> Result<Response, Failure> {
    staff.check_csrf(&form.csrf)?;
    let s: StoredOrder = load_order(&app, &p.marketplace, &p.order_id).await?;
    let key: OrderKey = s.key();
    if !s.status.is_open() {
        return Err(Failure::BadRequest("出荷済・キャンセルの注文のお届け先は変更できません".into()));
    }
    let mut order = s.order.clone();
    let n = form.destination;
    let to = if order.shipments.is_empty() {
        (n == 1).then_some(&mut order.ship_to)
    } else {
        order.shipments.get_mut(n.wrapping_sub(1)).map(|sh| &mut sh.ship_to)
    }
    .ok_or_else(|| Failure::BadRequest(format!("送付先{n}はありません")))?;
    let fields = [
        (&mut to.name, &form.name, "氏名"),
        (&mut to.postal_code, &form.postal_code, "郵便番号"),
        (&mut to.prefecture, &form.prefecture, "都道府県"),
        (&mut to.city, &form.city, "市区町村"),
        (&mut to.address1, &form.address1, "住所"),
        (&mut to.address2, &form.address2, "建物名"),
    ];
    let mut changed = Vec::new();
    for (field, value, label) in fields {
        let v = value.trim();
        if v.chars().any(char::is_control) {
            return Err(Failure::BadRequest(format!("{label}は1行で入力してください")));
        }
        if field.as_str() != v {
            changed.push(format!("{label}: 「{field}」→「{v}」"));
            *field = v.to_string();
        }
    }
    let phone = Some(form.phone.trim().to_string()).filter(|p| !p.is_empty());
    if to.phone != phone {
        changed.push(format!(
            "電話番号: 「{}」→「{}」",
            to.phone.as_deref().unwrap_or(""),
            phone.as_deref().unwrap_or("")
        ));
        to.phone = phone;
    }
    if changed.is_empty() {
        return Ok(done(&app, &staff, &order_url(&key), "お届け先に変更はありません".into()).await);
    }
    if !order.shipments.is_empty() && n == 1 {
        // The first shipment's destination is also the order's `ship_to`.
        order.ship_to = order.shipments[0].ship_to.clone();
    }
    let (processed, mails) = staff::correct_destination(&app, order).await.map_err(|e| match e {
        ProcessError::Invalid { source, .. } => Failure::BadRequest(format!("お届け先が正しくありません: {source}")),
        other => Failure::Internal(format!("お届け先を保存できませんでした: {other}")),
    })?;
    let after = japanese::order_status(processed.status);
    let mut message = format!("送付先{n}のお届け先を修正し、チェックし直しました（{after}）。{}", changed.join("、"));
    if !mails.is_empty() {
        message.push_str(&format!(" / {}", mails.join(" / ")));
    }
    audit(&app, &staff, "destination", Some(&key), message.clone()).await?;
    Ok(done(&app, &staff, &order_url(&key), message).await)
}
