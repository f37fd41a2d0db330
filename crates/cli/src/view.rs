//! Stored orders as staff see them: the JSON line shape (`orders.jsonl`, `orders list --format
//! json`), the filters of `orders list` and `export`, order ids on the command line, and the
//! formatting of times and yen.

use anyhow::{Context, bail};
use chrono::{DateTime, Duration, FixedOffset, NaiveDate, NaiveDateTime, TimeZone};
use clap::Args;
use ichigen_core::pipeline::{
    Acknowledgement, OrderKey, OrderStore, ParcelShipping, ShipState, StaffDecision, StoredOrder,
};
use ichigen_core::{
    DeliveryMethod, Finding, FindingCode, Item, Marketplace, Order, OrderStatus, PaymentMethod, Severity,
};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// The five marketplaces with an API.
pub const MARKETPLACES: [Marketplace; 5] =
    [Marketplace::Rakuten, Marketplace::Yahoo, Marketplace::Amazon, Marketplace::Aupay, Marketplace::Qoo10];

/// One stored order as a JSON line: its key, effective status, findings and staff decision, then
/// the canonical order as the marketplace last sent it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderView {
    /// The marketplace.
    pub marketplace: Marketplace,
    /// The marketplace's order id.
    pub order_id: String,
    /// Effective status (`on_hold` while held).
    pub status: OrderStatus,
    /// Findings of the last check.
    pub findings: Vec<Finding>,
    /// What staff decided.
    pub staff: StaffDecision,
    /// Shop-side shipping state (`None`: not the shop's to ship now).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipping: Option<ShipState>,
    /// What the shop did with each destination (label export, tracking number, write-back).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parcels: Vec<ParcelShipping>,
    /// The shop's acknowledgement of the order, where its marketplace awaits one (楽天, Qoo10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acknowledgement: Option<Acknowledgement>,
    /// The canonical order.
    pub order: Order,
}

impl From<&StoredOrder> for OrderView {
    fn from(s: &StoredOrder) -> Self {
        OrderView {
            marketplace: s.order.marketplace,
            order_id: s.order.order_id.clone(),
            status: s.status,
            findings: s.findings.clone(),
            staff: s.staff.clone(),
            shipping: s.ship_state(),
            parcels: s.parcels.clone(),
            acknowledgement: s.acknowledgement.clone(),
            order: s.order.clone(),
        }
    }
}

/// Japan Standard Time.
pub fn jst() -> FixedOffset {
    ichigen_sandbox::book::jst()
}

/// `2026-11-27 10:05` in JST.
pub fn jst_minutes(t: DateTime<FixedOffset>) -> String {
    t.with_timezone(&jst()).format("%Y-%m-%d %H:%M").to_string()
}

/// `1980` → `¥1,980`.
pub fn yen(v: i64) -> String {
    let digits = v.unsigned_abs().to_string();
    let mut out = String::from(if v < 0 { "-¥" } else { "¥" });
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The serde (wire) name of a value: `on_hold`, `credit_card`, `mail_bin` ...
pub fn wire<T: Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => s,
        _ => String::new(),
    }
}

/// Parses a wire name, listing the valid ones when it is none of them.
fn parse_wire<T: DeserializeOwned + Serialize>(s: &str, all: &[T]) -> Result<T, String> {
    serde_json::from_value(serde_json::Value::String(s.trim().to_string())).map_err(|_| {
        let names: Vec<String> = all.iter().map(wire).collect();
        format!("unknown value {s:?} (one of: {})", names.join(", "))
    })
}

/// `--status` values.
pub fn parse_status(s: &str) -> Result<OrderStatus, String> {
    parse_wire(s, &OrderStatus::ALL)
}

/// `--payment` values.
pub fn parse_payment(s: &str) -> Result<PaymentMethod, String> {
    use PaymentMethod::*;
    parse_wire(s, &[CreditCard, Cod, BankTransfer, ConvenienceStore, Deferred, MarketplacePay, Other])
}

/// `--delivery` values.
pub fn parse_delivery(s: &str) -> Result<DeliveryMethod, String> {
    use DeliveryMethod::*;
    parse_wire(s, &[Standard, MailBin, Cool, Frozen, Pickup, Other])
}

/// `--finding` values; an unknown one is answered with every code and its Japanese meaning.
pub fn parse_finding(s: &str) -> Result<FindingCode, String> {
    s.trim().parse::<FindingCode>().map_err(|_| {
        let codes: Vec<String> =
            FindingCode::ALL.iter().map(|c| format!("{c} ({})", ichigen_core::japanese::finding(*c))).collect();
        format!("unknown finding code {s:?}; one of:\n  {}", codes.join("\n  "))
    })
}

/// A `--since` / `--until` bound as typed: a day, or an instant.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Bound {
    /// `2026-11-27`: the whole JST day.
    Day(NaiveDate),
    /// `2026-11-27T10:00` (JST) or RFC 3339 with any offset.
    At(DateTime<FixedOffset>),
}

/// Parses `2026-11-27` or `2026/11/27` (as Japanese staff write dates), `2026-11-27T10:00[:00]`
/// or `2026/11/27 10:00` (JST), or RFC 3339.
pub fn parse_bound(s: &str) -> Result<Bound, String> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(Bound::At(t));
    }
    let dashed = s.replace('/', "-");
    let s = dashed.as_str();
    if let Ok(day) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Ok(Bound::Day(day));
    }
    for format in ["%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M"] {
        if let Ok(naive) = NaiveDateTime::parse_from_str(s, format)
            && let Some(t) = jst().from_local_datetime(&naive).single()
        {
            return Ok(Bound::At(t));
        }
    }
    Err(format!(
        "{s:?} is not a date (2026-11-27, 2026/11/27) or a time (2026-11-27T10:00 or 2026/11/27 10:00, JST, or RFC 3339)"
    ))
}

fn day_start(day: NaiveDate) -> Option<DateTime<FixedOffset>> {
    jst().from_local_datetime(&day.and_hms_opt(0, 0, 0)?).single()
}

impl Bound {
    /// As a lower bound (inclusive): a day starts at its JST midnight.
    pub fn as_since(self) -> Option<DateTime<FixedOffset>> {
        match self {
            Bound::Day(d) => day_start(d),
            Bound::At(t) => Some(t),
        }
    }

    /// As an upper bound (exclusive): a day is included whole, so it ends at the next JST midnight.
    pub fn as_until(self) -> Option<DateTime<FixedOffset>> {
        match self {
            Bound::Day(d) => day_start(d + Duration::days(1)),
            Bound::At(t) => Some(t),
        }
    }
}

/// Which orders a list or export shows; the filters combine with AND.
#[derive(Args, Debug, Clone, Default)]
pub struct Filters {
    /// Effective status: new, awaiting_payment, ready_to_ship, on_hold, shipped, cancelled.
    #[arg(long, value_parser = parse_status)]
    pub status: Option<OrderStatus>,
    /// rakuten, yahoo, amazon, aupay or qoo10.
    #[arg(long)]
    pub marketplace: Option<Marketplace>,
    /// Ordered at or after: a day (2026-11-27, JST) or a time (2026-11-27T10:00 JST, or RFC 3339).
    #[arg(long, value_parser = parse_bound)]
    pub since: Option<Bound>,
    /// Ordered before: a day is included whole (2026-11-27 = up to the end of that day, JST).
    #[arg(long, value_parser = parse_bound)]
    pub until: Option<Bound>,
    /// Has an item line of this SKU (exact).
    #[arg(long)]
    pub sku: Option<String>,
    /// Payment: credit_card, cod, bank_transfer, convenience_store, deferred, marketplace_pay, other.
    #[arg(long, value_parser = parse_payment)]
    pub payment: Option<PaymentMethod>,
    /// Delivery: standard, mail_bin, cool, frozen, pickup, other.
    #[arg(long, value_parser = parse_delivery)]
    pub delivery: Option<DeliveryMethod>,
    /// Has a finding with this code (any severity), e.g. address.postal_mismatch.
    #[arg(long, value_parser = parse_finding)]
    pub finding: Option<FindingCode>,
    /// Shop-side shipping state: ready (出荷待ち), printed (印刷済), shipped (出荷済), reflected (反映済).
    #[arg(long)]
    pub shipping: Option<ShipState>,
}

impl Filters {
    /// Whether `s` passes every filter.
    pub fn matches(&self, s: &StoredOrder) -> bool {
        let o = &s.order;
        let since = self.since.and_then(Bound::as_since);
        let until = self.until.and_then(Bound::as_until);
        self.status.is_none_or(|st| s.status == st)
            && self.marketplace.is_none_or(|m| o.marketplace == m)
            && since.is_none_or(|t| o.ordered_at >= t)
            && until.is_none_or(|t| o.ordered_at < t)
            && self.sku.as_deref().is_none_or(|sku| o.items.iter().any(|i| i.sku == sku))
            && self.payment.is_none_or(|p| o.payment_method == p)
            && self.delivery.is_none_or(|d| o.delivery.method == d)
            && self.finding.is_none_or(|c| s.findings.iter().any(|f| f.code == c))
            && self.shipping.is_none_or(|st| s.ship_state() == Some(st))
    }

    /// The shop's stored orders that pass, oldest first. The status and time filters go to the
    /// store (an index query on DynamoDB); the others are applied here.
    pub async fn load<S: OrderStore>(&self, store: &S, shop_id: &str) -> anyhow::Result<Vec<StoredOrder>> {
        let statuses: Vec<OrderStatus> = self.status.map_or_else(|| OrderStatus::ALL.to_vec(), |s| vec![s]);
        let since = self.since.and_then(Bound::as_since);
        let until = self.until.and_then(Bound::as_until);
        let mut out = Vec::new();
        for status in statuses {
            let found = store.list_by_status(shop_id, status, since, until).await.context("listing stored orders")?;
            out.extend(found.into_iter().filter(|s| self.matches(s)));
        }
        out.sort_by(|a, b| a.order.ordered_at.cmp(&b.order.ordered_at).then_with(|| a.key().cmp(&b.key())));
        Ok(out)
    }

    /// As [`Filters::load`], with the rest of each 同梱 box a selected order belongs to (labels and
    /// slips go by the box: a filter never splits one).
    pub async fn load_boxes<S: OrderStore>(&self, store: &S, shop_id: &str) -> anyhow::Result<Vec<StoredOrder>> {
        let mut out = self.load(store, shop_id).await?;
        let mut open = Vec::new();
        for status in [OrderStatus::New, OrderStatus::ReadyToShip, OrderStatus::OnHold, OrderStatus::AwaitingPayment] {
            open.extend(store.list_by_status(shop_id, status, None, None).await.context("listing stored orders")?);
        }
        ichigen_core::labels::complete_boxes(&mut out, open);
        Ok(out)
    }
}

/// Every stored order of the shop, oldest first.
pub async fn all_orders<S: OrderStore>(store: &S, shop_id: &str) -> anyhow::Result<Vec<StoredOrder>> {
    Filters::default().load(store, shop_id).await
}

/// The stored order an id on the command line names: `<marketplace>/<order id>` (as the staff
/// alert mail writes it), or a bare order id when exactly one marketplace has it.
pub async fn resolve<S: OrderStore>(store: &S, shop_id: &str, id: &str) -> anyhow::Result<StoredOrder> {
    let id = id.trim();
    if let Some((prefix, order_id)) = id.split_once('/')
        && let Ok(marketplace) = prefix.parse::<Marketplace>()
    {
        let key = OrderKey { shop_id: shop_id.to_string(), marketplace, order_id: order_id.to_string() };
        return match store.get(&key).await.context("reading the order")? {
            Some(s) => Ok(s),
            None => bail!("no order {marketplace}/{order_id} in shop {shop_id}"),
        };
    }
    let mut found = Vec::new();
    for marketplace in MARKETPLACES.into_iter().chain([Marketplace::Csv]) {
        let key = OrderKey { shop_id: shop_id.to_string(), marketplace, order_id: id.to_string() };
        if let Some(s) = store.get(&key).await.context("reading the order")? {
            found.push(s);
        }
    }
    match found.len() {
        0 => bail!("no order {id} in shop {shop_id} (write it as <marketplace>/<order id>, e.g. rakuten/{id})"),
        1 => Ok(found.remove(0)),
        _ => {
            let names: Vec<String> = found.iter().map(|s| format!("{}/{}", s.order.marketplace, id)).collect();
            bail!("order id {id} is in several marketplaces; name one: {}", names.join(", "))
        }
    }
}

/// `MUG-WHT×2 TSHIRT-M×1`.
pub fn items_summary(items: &[Item]) -> String {
    items.iter().map(|i| format!("{}×{}", i.sku, i.quantity)).collect::<Vec<_>>().join(" ")
}

/// The distinct finding codes, hold ones first, as `address.postal_mismatch(hold) ...`.
pub fn findings_summary(findings: &[Finding]) -> String {
    let mut sorted: Vec<&Finding> = findings.iter().collect();
    sorted.sort_by(|a, b| b.severity.cmp(&a.severity).then_with(|| a.code.cmp(&b.code)));
    sorted.dedup_by(|a, b| a.code == b.code);
    sorted
        .iter()
        .map(|f| match f.severity {
            Severity::Hold => format!("{}(hold)", f.code),
            _ => f.code.to_string(),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yen_groups_thousands() {
        assert_eq!(yen(0), "¥0");
        assert_eq!(yen(1980), "¥1,980");
        assert_eq!(yen(1234567), "¥1,234,567");
        assert_eq!(yen(-300), "-¥300");
    }

    #[test]
    fn a_day_bound_covers_the_whole_jst_day() {
        let b = parse_bound("2026-11-27").unwrap();
        assert_eq!(b.as_since().unwrap().to_rfc3339(), "2026-11-27T00:00:00+09:00");
        assert_eq!(b.as_until().unwrap().to_rfc3339(), "2026-11-28T00:00:00+09:00");
        let t = parse_bound("2026-11-27T10:30").unwrap();
        assert_eq!(t.as_since().unwrap().to_rfc3339(), "2026-11-27T10:30:00+09:00");
        let z = parse_bound("2026-11-27T01:30:00Z").unwrap();
        assert_eq!(z.as_until().unwrap(), parse_bound("2026-11-27T10:30").unwrap().as_until().unwrap());
        assert!(parse_bound("27/11/2026").is_err());
        assert_eq!(parse_bound("2026/11/27"), parse_bound("2026-11-27"), "staff write dates with slashes");
        assert_eq!(parse_bound("2026/11/27 10:30"), parse_bound("2026-11-27T10:30"));
    }

    #[test]
    fn wire_names_parse_and_errors_list_the_choices() {
        assert_eq!(parse_status("on_hold"), Ok(OrderStatus::OnHold));
        assert_eq!(parse_payment("cod"), Ok(PaymentMethod::Cod));
        assert_eq!(parse_delivery("mail_bin"), Ok(DeliveryMethod::MailBin));
        let err = parse_status("held").unwrap_err();
        assert!(err.contains("on_hold") && err.contains("ready_to_ship"), "{err}");
        assert_eq!(parse_finding("order.remarks"), Ok(FindingCode::Remarks));
        let err = parse_finding("address.typo").unwrap_err();
        assert!(err.contains("address.postal_mismatch") && err.contains("郵便番号と住所の不一致"), "{err}");
    }
}
