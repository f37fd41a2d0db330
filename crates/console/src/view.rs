//! Stored orders as the pages show them: Japanese labels for every code, yen and JST times.

use chrono::{DateTime, FixedOffset};
use ichigen_core::console::AuditEntry;
use ichigen_core::pipeline::{OrderKey, StaffDecision, StoredOrder};
use ichigen_core::tab::ListTab;
use ichigen_core::{Finding, JST, Severity, japanese};
use serde::Serialize;

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

/// `2026-11-27 10:05` in JST.
pub fn jst(t: DateTime<FixedOffset>) -> String {
    t.with_timezone(&JST).format("%Y-%m-%d %H:%M").to_string()
}

/// The page of an order.
pub fn order_url(key: &OrderKey) -> String {
    format!("/orders/{}/{}", key.marketplace.as_str(), percent(&key.order_id))
}

/// Percent-encodes everything but unreserved characters (order ids are the marketplace's text).
pub fn percent(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A finding as a short label.
#[derive(Serialize)]
pub struct FindingChip {
    /// Japanese label of the code.
    pub label: &'static str,
    /// `hold`, `warn` or `info` (the CSS class).
    pub severity: &'static str,
    /// 保留, 注意, 参考.
    pub severity_label: &'static str,
}

fn severity_key(s: Severity) -> &'static str {
    match s {
        Severity::Hold => "hold",
        Severity::Warn => "warn",
        Severity::Info => "info",
    }
}

/// The distinct findings, hold ones first.
pub fn chips(findings: &[Finding]) -> Vec<FindingChip> {
    let mut sorted: Vec<&Finding> = findings.iter().collect();
    sorted.sort_by(|a, b| b.severity.cmp(&a.severity).then_with(|| a.code.cmp(&b.code)));
    sorted.dedup_by(|a, b| a.code == b.code);
    sorted
        .into_iter()
        .map(|f| FindingChip {
            label: japanese::finding(f.code),
            severity: severity_key(f.severity),
            severity_label: japanese::severity(f.severity),
        })
        .collect()
}

/// One row of the order list.
#[derive(Serialize)]
pub struct OrderRow {
    /// The order's page.
    pub url: String,
    /// モール.
    pub marketplace: &'static str,
    /// 注文番号.
    pub order_id: String,
    /// 注文日時 (JST).
    pub ordered_at: String,
    /// The tab it is under.
    pub tab: &'static str,
    /// 注文者.
    pub buyer: String,
    /// お届け先都道府県 (several for several destinations).
    pub prefecture: String,
    /// 支払方法.
    pub payment: String,
    /// 配送方法.
    pub delivery: &'static str,
    /// 合計.
    pub total: String,
    /// The findings.
    pub findings: Vec<FindingChip>,
}

impl From<&StoredOrder> for OrderRow {
    fn from(s: &StoredOrder) -> Self {
        let o = &s.order;
        let mut prefectures: Vec<&str> = o.destinations().map(|d| d.prefecture.as_str()).collect();
        prefectures.dedup();
        OrderRow {
            url: order_url(&s.key()),
            marketplace: japanese::marketplace_name(o.marketplace),
            order_id: o.order_id.clone(),
            ordered_at: jst(o.ordered_at),
            tab: ListTab::of(s).label(),
            buyer: o.buyer.name.clone(),
            prefecture: prefectures.join("・"),
            payment: japanese::payment_method(o.payment_method, o.marketplace),
            delivery: japanese::delivery_method(o.delivery.method),
            total: yen(o.totals.total),
            findings: chips(&s.findings),
        }
    }
}

/// The evidence of a finding as 「項目: 値」 lines, keys in Japanese where they have a name.
pub fn evidence_lines(evidence: &serde_json::Value) -> Vec<String> {
    match evidence {
        serde_json::Value::Null => Vec::new(),
        serde_json::Value::Object(map) => {
            map.iter().map(|(k, v)| format!("{}: {}", japanese::evidence_field(k).unwrap_or(k), plain(v))).collect()
        }
        other => vec![plain(other)],
    }
}

fn plain(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Bool(true) => "はい".into(),
        serde_json::Value::Bool(false) => "いいえ".into(),
        serde_json::Value::Array(items) => items.iter().map(plain).collect::<Vec<_>>().join("、"),
        serde_json::Value::Object(map) => map
            .iter()
            .map(|(k, v)| format!("{}={}", japanese::evidence_field(k).unwrap_or(k), plain(v)))
            .collect::<Vec<_>>()
            .join(" "),
        other => other.to_string(),
    }
}

/// What staff decided, in words.
pub fn decision(d: &StaffDecision) -> Option<String> {
    match d {
        StaffDecision::None => None,
        StaffDecision::Released { at } => Some(format!("{} にスタッフが保留を解除", jst(*at))),
        StaffDecision::Held { reason, at } => Some(format!("{} にスタッフが保留: {reason}", jst(*at))),
    }
}

/// Japanese names of the audited actions.
pub fn action_label(action: &str) -> &str {
    match action {
        "release" => "保留を解除",
        "hold" => "保留",
        "tracking" => "伝票番号を登録",
        "destination" => "お届け先を修正",
        "blacklist_add" => "ブラックリストに追加",
        "blacklist_remove" => "ブラックリストから削除",
        "blacklist_hold" => "ブラックリスト追加で保留",
        "rules_save" => "ルールを保存",
        "template_save" => "メールテンプレートを保存",
        "tracking_import" => "伝票番号ファイルを取込",
        "export" => "出力をダウンロード",
        "stock_set" => "棚卸",
        "stock_adjust" => "入出庫",
        "stock_map" => "商品とSKUの対応付け",
        "stock_accept" => "モールの在庫数を採用",
        "stock_force" => "ichigenの在庫数で上書き",
        "stock_load" => "在庫ファイルを取込",
        "login" => "ログイン",
        other => other,
    }
}

/// One audit log line.
#[derive(Serialize)]
pub struct AuditRow {
    /// When (JST).
    pub at: String,
    /// Who.
    pub staff: String,
    /// What, in Japanese.
    pub action: String,
    /// The order's page and name, if about one.
    pub order: Option<(String, String)>,
    /// Details.
    pub detail: String,
}

impl From<&AuditEntry> for AuditRow {
    fn from(e: &AuditEntry) -> Self {
        AuditRow {
            at: jst(e.at),
            staff: e.staff.clone(),
            action: action_label(&e.action).to_string(),
            order: e.order.as_ref().map(|k| (order_url(k), format!("{}/{}", k.marketplace, k.order_id))),
            detail: e.detail.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yen_groups_thousands_and_ids_are_escaped_in_urls() {
        assert_eq!(yen(1234567), "¥1,234,567");
        assert_eq!(yen(-300), "-¥300");
        assert_eq!(percent("100000-2026/1 x"), "100000-2026%2F1%20x");
    }
}
