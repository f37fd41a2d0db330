//! 受注一覧: tabs with counts, filters, and pages by keyset (newest first).

use axum::extract::{Query, State};
use axum::response::Response;
use chrono::{DateTime, Duration, FixedOffset, NaiveDate, TimeZone};
use ichigen_core::address::PREFECTURES;
use ichigen_core::console::{ListCursor, OrderQuery};
use ichigen_core::tab::ListTab;
use ichigen_core::{DeliveryMethod, FindingCode, JST, Marketplace, PaymentMethod, japanese};
use serde::{Deserialize, Serialize};

use super::{Failure, html, layout};
use crate::auth::Staff;
use crate::view::{OrderRow, percent};
use crate::{App, ConsoleStore, PAGE_SIZE};

/// The list's query string; every field may be empty.
#[derive(Debug, Default, Deserialize, Serialize, Clone)]
#[serde(default)]
pub struct ListParams {
    tab: String,
    marketplace: String,
    since: String,
    until: String,
    sku: String,
    payment: String,
    delivery: String,
    finding: String,
    prefecture: String,
    q: String,
    after_at: String,
    after_mp: String,
    after_id: String,
}

fn some(s: &str) -> Option<&str> {
    Some(s.trim()).filter(|s| !s.is_empty())
}

fn wire<T: Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => s,
        _ => String::new(),
    }
}

fn parse_wire<T: serde::de::DeserializeOwned>(what: &str, s: &str) -> Result<T, Failure> {
    serde_json::from_value(serde_json::Value::String(s.to_string()))
        .map_err(|_| Failure::BadRequest(format!("{what} {s:?} は選べません")))
}

/// `2026-12-05` or `2026/12/05`: the JST day's start.
fn day(what: &str, s: &str) -> Result<NaiveDate, Failure> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(s, "%Y/%m/%d"))
        .map_err(|_| Failure::BadRequest(format!("{what} は 2026-12-05 の形で入力してください")))
}

fn start_of(d: NaiveDate) -> Option<DateTime<FixedOffset>> {
    JST.from_local_datetime(&d.and_hms_opt(0, 0, 0)?).single()
}

const PAYMENTS: [PaymentMethod; 7] = [
    PaymentMethod::CreditCard,
    PaymentMethod::Cod,
    PaymentMethod::BankTransfer,
    PaymentMethod::ConvenienceStore,
    PaymentMethod::Deferred,
    PaymentMethod::MarketplacePay,
    PaymentMethod::Other,
];

const DELIVERIES: [DeliveryMethod; 6] = [
    DeliveryMethod::Standard,
    DeliveryMethod::MailBin,
    DeliveryMethod::Cool,
    DeliveryMethod::Frozen,
    DeliveryMethod::Pickup,
    DeliveryMethod::Other,
];

impl ListParams {
    /// The store query and the page's start.
    fn query(&self) -> Result<(OrderQuery, Option<ListCursor>), Failure> {
        let mut q = OrderQuery::default();
        if let Some(t) = some(&self.tab) {
            q.tab = Some(t.parse().map_err(|_| Failure::BadRequest(format!("タブ {t:?} はありません")))?);
        }
        if let Some(m) = some(&self.marketplace) {
            q.marketplace = Some(m.parse().map_err(|_| Failure::BadRequest(format!("モール {m:?} はありません")))?);
        }
        if let Some(s) = some(&self.since) {
            q.since = start_of(day("期間（から）", s)?);
        }
        if let Some(s) = some(&self.until) {
            // The day is included whole.
            q.until = start_of(day("期間（まで）", s)? + Duration::days(1));
        }
        q.sku = some(&self.sku).map(str::to_string);
        if let Some(p) = some(&self.payment) {
            q.payment = Some(parse_wire("支払方法", p)?);
        }
        if let Some(d) = some(&self.delivery) {
            q.delivery = Some(parse_wire("配送方法", d)?);
        }
        if let Some(f) = some(&self.finding) {
            q.finding =
                Some(f.parse::<FindingCode>().map_err(|_| Failure::BadRequest(format!("検出 {f:?} はありません")))?);
        }
        q.prefecture = some(&self.prefecture).map(str::to_string);
        q.text = some(&self.q).map(str::to_string);
        let after = match (some(&self.after_at), some(&self.after_mp), some(&self.after_id)) {
            (Some(at), Some(mp), Some(id)) => Some(ListCursor {
                ordered_at: DateTime::parse_from_rfc3339(at)
                    .map_err(|_| Failure::BadRequest("ページの位置が正しくありません".into()))?,
                marketplace: mp.parse().map_err(|_| Failure::BadRequest("ページの位置が正しくありません".into()))?,
                order_id: id.to_string(),
            }),
            _ => None,
        };
        Ok((q, after))
    }

    /// The query string of these filters with `tab` (and no page position).
    fn with_tab(&self, tab: &str) -> String {
        let pairs = [
            ("tab", tab),
            ("marketplace", &self.marketplace),
            ("since", &self.since),
            ("until", &self.until),
            ("sku", &self.sku),
            ("payment", &self.payment),
            ("delivery", &self.delivery),
            ("finding", &self.finding),
            ("prefecture", &self.prefecture),
            ("q", &self.q),
        ];
        pairs
            .iter()
            .filter(|(_, v)| !v.trim().is_empty())
            .map(|(k, v)| format!("{k}={}", percent(v.trim())))
            .collect::<Vec<_>>()
            .join("&")
    }
}

#[derive(Serialize)]
struct TabLink {
    key: &'static str,
    label: &'static str,
    count: u64,
    href: String,
    current: bool,
}

#[derive(Serialize)]
struct Choice {
    value: String,
    label: String,
}

/// `GET /orders`.
pub async fn list<S: ConsoleStore, T: Send + Sync + 'static>(
    State(app): State<App<S, T>>,
    staff: Staff,
    Query(params): Query<ListParams>,
) -> Result<Response, Failure> {
    let (query, after) = params.query()?;
    let shop = &app.settings.shop_id;
    let counts = app.store.tab_counts(shop).await?;
    let page = app.store.page(shop, &query, after.as_ref(), PAGE_SIZE).await?;
    let total: u64 = counts.iter().map(|(_, n)| n).sum();
    let mut tabs = vec![TabLink {
        key: "",
        label: "すべて",
        count: total,
        href: format!("/orders?{}", params.with_tab("")),
        current: query.tab.is_none(),
    }];
    for t in ListTab::ALL {
        tabs.push(TabLink {
            key: t.as_str(),
            label: t.label(),
            count: counts.iter().find(|(c, _)| *c == t).map_or(0, |(_, n)| *n),
            href: format!("/orders?{}", params.with_tab(t.as_str())),
            current: query.tab == Some(t),
        });
    }
    let next = page.next.as_ref().map(|c| {
        format!(
            "/orders?{}&after_at={}&after_mp={}&after_id={}",
            params.with_tab(&params.tab),
            percent(&c.ordered_at.to_rfc3339()),
            c.marketplace.as_str(),
            percent(&c.order_id)
        )
    });
    let rows: Vec<OrderRow> = page.orders.iter().map(OrderRow::from).collect();
    let marketplaces: Vec<Choice> = Marketplace::ALL
        .iter()
        .map(|m| Choice { value: m.as_str().into(), label: japanese::marketplace_name(*m).into() })
        .collect();
    let payments: Vec<Choice> = PAYMENTS
        .iter()
        .map(|p| Choice { value: wire(p), label: japanese::payment_method(*p, Marketplace::Rakuten) })
        .map(|mut c| {
            if c.value == "marketplace_pay" {
                c.label = "モールの決済サービス".into();
            }
            c
        })
        .collect();
    let deliveries: Vec<Choice> =
        DELIVERIES.iter().map(|d| Choice { value: wire(d), label: japanese::delivery_method(*d).into() }).collect();
    let findings: Vec<Choice> = FindingCode::ALL
        .iter()
        .map(|c| Choice { value: c.as_str().into(), label: japanese::finding(*c).into() })
        .collect();
    html(
        &app,
        "orders.html",
        minijinja::context! {
            layout => layout(&app, &staff, "orders"),
            tabs,
            rows,
            next,
            first_page => after.is_none(),
            first_href => format!("/orders?{}", params.with_tab(&params.tab)),
            f => params,
            marketplaces,
            payments,
            deliveries,
            findings,
            prefectures => PREFECTURES.to_vec(),
        },
    )
}
