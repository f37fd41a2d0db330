//! What a mail template sees: the order in the words a buyer or clerk reads (Japanese labels,
//! formatted dates and addresses), the shop, and for staff the findings. [`VARIABLES`] lists it
//! for shops writing their own templates.

use chrono::{DateTime, FixedOffset};
use minijinja::{Value, context};
use serde::Serialize;

use crate::checks::requested_date_issue;
use crate::finding::Finding;
use crate::japanese;
use crate::marketplace::Policies;
use crate::order::{Address, DeliveryMethod, Item, Order, OrderStatus, Tracking};
use crate::{JST, carrier};

use super::super::shop::ShopSettings;
use super::super::stored::{StaffDecision, StoredOrder};

/// Every variable a template may use, with what it holds (Japanese text unless said).
pub const VARIABLES: &[(&str, &str)] = &[
    ("shop.name", "店舗名"),
    ("shop.signature", "署名（店舗が設定した文面、空のことがある）"),
    (
        "shop.contact.company / postal_code / address / phone / email / hours",
        "運営会社・郵便番号・住所・電話・メール・営業時間",
    ),
    ("marketplace_name", "モール名（楽天市場、Yahoo!ショッピング ...）"),
    ("order_id", "注文番号"),
    ("ordered_at", "注文日時（2026年11月27日 10:00）"),
    ("buyer_name", "注文者の氏名"),
    ("status", "注文の状態（新規受付、入金待ち ...）"),
    ("awaiting_payment", "入金待ちなら true"),
    ("next_step", "この後の流れ（入金待ちなら「ご入金の確認後に発送の準備をいたします」など）"),
    ("items[]", "商品: name, sku, quantity, unit_price, subtotal, options[] (name, value), options_text"),
    ("totals.goods / shipping / fee / coupon / points / other_discount / total", "金額（整数の円、| yen で 1,980円）"),
    ("totals.fee_name", "手数料の名前（代引手数料 / 決済手数料）"),
    ("payment_method", "支払方法"),
    ("delivery_method", "配送方法"),
    ("mail_bin", "メール便（ポスト投函）なら true"),
    (
        "destinations[]",
        "お届け先: label, name, postal_code (〒なし 123-4567), prefecture, city, address1, address2, phone, items[]",
    ),
    ("requested_date", "お届け希望日（約束できる日だけ; それ以外は none）"),
    ("requested_date_unconfirmed", "希望日はあるが約束できない（注文日より前・日数が足りない）なら true"),
    ("requested_time_slot", "お届け希望時間帯（none のことがある）"),
    ("gift", "ギフト注文なら true"),
    ("remarks", "備考欄（お客様の記入のまま）"),
    ("parcels[]", "発送した荷物: carrier_name, number, url (none のことがある), shipped_on, destination"),
    ("shipped_on", "最初の荷物の発送日（2026年11月28日; 不明なら none）"),
    ("findings[]", "スタッフ向け: code, label, severity, severity_label, message, evidence[]（「項目: 値」の行）"),
    ("staff_reason", "スタッフが手で保留した理由（none のことがある）"),
    ("console_link", "スタッフ向け: 管理画面（コンソール）のこの注文のページ（コンソールのURL未設定なら none）"),
    ("release_sends_buyer_mail", "保留を解除するとお客様にメールが送られるなら true（Amazon は false）"),
    ("order", "正規化された注文そのもの（上級者向け; 値はコードのまま）"),
    ("ship_to", "1件目のお届け先そのもの（旧テンプレート向け）"),
];

/// The render context of `stored` for `shop`.
pub(super) fn context(shop: &ShopSettings, stored: &StoredOrder, policies: &Policies) -> Value {
    let order = &stored.order;
    let destinations = destinations(order);
    let parcels: Vec<Value> = order.tracking.iter().map(|t| parcel(order, t)).collect();
    let shipped_on = order.tracking.iter().find_map(|t| t.shipped_at).map(date);
    let staff_reason = match &stored.staff {
        StaffDecision::Held { reason, .. } => Some(reason.clone()),
        _ => None,
    };
    // A requested date is only repeated to the buyer when it can be kept; otherwise the mail says
    // the shop will confirm it (the finding tells staff).
    let (requested_date, requested_date_unconfirmed) = match order.delivery.requested_date {
        Some(d) if requested_date_issue(order).is_none() => (Some(d.format("%Y年%m月%d日").to_string()), false),
        Some(_) => (None, true),
        None => (None, false),
    };
    let t = &order.totals;
    let awaiting_payment = order.status == OrderStatus::AwaitingPayment;
    context! {
        shop => context! {
            name => shop.shop_name.clone(),
            signature => shop.signature.clone(),
            contact => Value::from_serialize(&shop.contact),
        },
        marketplace_name => japanese::marketplace_name(order.marketplace),
        order_id => order.order_id.clone(),
        ordered_at => order.ordered_at.with_timezone(&JST).format("%Y年%m月%d日 %H:%M").to_string(),
        buyer_name => order.buyer.name.clone(),
        status => japanese::order_status(stored.status),
        awaiting_payment => awaiting_payment,
        next_step => next_step(order),
        items => order.items.iter().map(item).collect::<Vec<_>>(),
        totals => context! {
            goods => t.goods, shipping => t.shipping, fee => t.fee,
            fee_name => japanese::fee_name(order.payment_method),
            coupon => t.coupon, points => t.points, other_discount => t.other_discount(),
            discount => t.discount, total => t.total,
        },
        payment_method => japanese::payment_method(order.payment_method, order.marketplace),
        delivery_method => japanese::delivery_method(order.delivery.method),
        mail_bin => order.delivery.method == DeliveryMethod::MailBin,
        destinations => destinations,
        requested_date => requested_date,
        requested_date_unconfirmed => requested_date_unconfirmed,
        requested_time_slot => order.delivery.requested_time_slot.clone().filter(|s| !s.trim().is_empty()),
        gift => order.gift,
        remarks => order.remarks.clone(),
        parcels => parcels,
        shipped_on => shipped_on,
        findings => stored.findings.iter().map(finding).collect::<Vec<_>>(),
        staff_reason => staff_reason,
        release_sends_buyer_mail => policies.buyer_mail_allowed(order),
        console_link => console_link(shop, order),
        order => Value::from_serialize(order),
        ship_to => Value::from_serialize(order.destinations().next().unwrap_or(&order.ship_to)),
    }
}

/// The order's page in the shop's console, when the shop set where its console is. The order id
/// is percent-encoded (it is the marketplace's text).
fn console_link(shop: &ShopSettings, order: &Order) -> Option<String> {
    let base = shop.console_url.as_deref().map(str::trim).filter(|u| !u.is_empty())?;
    let mut id = String::new();
    for b in order.order_id.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            id.push(char::from(b));
        } else {
            id.push_str(&format!("%{b:02X}"));
        }
    }
    Some(format!("{}/orders/{}/{id}", base.trim_end_matches('/'), order.marketplace.as_str()))
}

/// What happens next, as the buyer reads it in the thank-you.
fn next_step(order: &Order) -> &'static str {
    match order.status {
        OrderStatus::AwaitingPayment => {
            "ご入金を確認いたしましたら、発送の準備をいたします。お支払いの期限・方法はモールからのご案内をご確認ください。"
        }
        _ => "商品の発送準備が整いましたら、お問い合わせ番号を添えて発送のご連絡をお送りいたします。",
    }
}

fn date(at: DateTime<FixedOffset>) -> String {
    at.with_timezone(&JST).format("%Y年%m月%d日").to_string()
}

#[derive(Serialize)]
struct Option_<'a> {
    name: &'a str,
    value: &'a str,
}

fn item(i: &Item) -> Value {
    let options: Vec<Option_<'_>> = i.options.iter().map(|o| Option_ { name: &o.name, value: &o.value }).collect();
    let options_text = i
        .options
        .iter()
        .map(|o| if o.name.trim().is_empty() { o.value.clone() } else { format!("{}：{}", o.name, o.value) })
        .collect::<Vec<_>>()
        .join(" / ");
    context! {
        name => i.name.clone(),
        sku => i.sku.clone(),
        quantity => i.quantity,
        unit_price => i.unit_price,
        subtotal => i.unit_price.saturating_mul(i64::from(i.quantity)),
        options => Value::from_serialize(&options),
        options_text => options_text,
    }
}

/// `1000001` → `100-0001`; anything else as given.
fn postal(code: &str) -> String {
    let digits: String = code.chars().filter(char::is_ascii_digit).collect();
    if digits.len() == 7 { format!("{}-{}", &digits[..3], &digits[3..]) } else { code.trim().to_string() }
}

fn address(label: String, a: &Address, items: &[Item]) -> Value {
    context! {
        label => label,
        name => a.name.clone(),
        postal_code => postal(&a.postal_code),
        prefecture => a.prefecture.clone(),
        city => a.city.clone(),
        address1 => a.address1.clone(),
        address2 => a.address2.clone(),
        phone => a.phone.clone(),
        items => items.iter().map(item).collect::<Vec<_>>(),
    }
}

/// Every destination, labelled お届け先 (one) or お届け先1, お届け先2 ... (several).
fn destinations(order: &Order) -> Vec<Value> {
    if order.shipments.is_empty() {
        return vec![address("お届け先".into(), &order.ship_to, &order.items)];
    }
    order
        .shipments
        .iter()
        .enumerate()
        .map(|(i, s)| address(format!("お届け先{}", i + 1), &s.ship_to, &s.items))
        .collect()
}

fn parcel(order: &Order, t: &Tracking) -> Value {
    let destination = t.shipment_id.as_deref().and_then(|id| {
        order.shipments.iter().position(|s| s.shipment_id.as_deref() == Some(id)).map(|i| format!("お届け先{}", i + 1))
    });
    context! {
        carrier_name => japanese::carrier_name(t.carrier),
        number => t.number.clone(),
        url => carrier::tracking_url(t.carrier, &t.number),
        shipped_on => t.shipped_at.map(date),
        destination => destination,
    }
}

fn finding(f: &Finding) -> Value {
    context! {
        code => f.code.as_str(),
        label => japanese::finding(f.code),
        severity => f.severity,
        severity_label => japanese::severity(f.severity),
        message => f.message.clone(),
        evidence => evidence_lines(&f.evidence),
    }
}

/// The evidence as 「項目: 値」 lines, keys in Japanese where they have a name.
fn evidence_lines(evidence: &serde_json::Value) -> Vec<String> {
    let Some(map) = evidence.as_object() else {
        return if evidence.is_null() { Vec::new() } else { vec![plain(evidence)] };
    };
    map.iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, v)| format!("{}: {}", japanese::evidence_field(k).unwrap_or(k), plain(v)))
        .collect()
}

/// A JSON value as a clerk reads it: text without quotes, lists joined, true/false as はい/いいえ.
fn plain(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Bool(true) => "はい".into(),
        serde_json::Value::Bool(false) => "いいえ".into(),
        serde_json::Value::Array(a) => a.iter().map(plain).collect::<Vec<_>>().join("、"),
        serde_json::Value::Object(m) => m
            .iter()
            .filter(|(_, v)| !v.is_null())
            .map(|(k, v)| format!("{}={}", japanese::evidence_field(k).unwrap_or(k), plain(v)))
            .collect::<Vec<_>>()
            .join(" "),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postal_codes_get_their_hyphen() {
        assert_eq!(postal("1000001"), "100-0001");
        assert_eq!(postal("100-0001"), "100-0001");
        assert_eq!(postal("SW1A 1AA"), "SW1A 1AA");
    }

    #[test]
    fn evidence_reads_in_japanese() {
        let lines = evidence_lines(
            &serde_json::json!({"postal_code": "1000001", "fits": false, "islands": ["佐渡島", "粟島"]}),
        );
        assert!(lines.contains(&"郵便番号: 1000001".to_string()), "{lines:?}");
        assert!(lines.contains(&"1通に収まる: いいえ".to_string()), "{lines:?}");
        assert!(lines.contains(&"島: 佐渡島、粟島".to_string()), "{lines:?}");
    }
}
