//! Japanese labels of the canonical enums, for mails and staff screens: what a buyer or a clerk
//! reads instead of a code. Every enum value has one; a marketplace's own code never shows.

use crate::finding::{FindingCode, Severity};
use crate::order::{Carrier, DeliveryMethod, Marketplace, OrderStatus, PaymentMethod};

/// Japanese display name of a marketplace.
pub fn marketplace_name(m: Marketplace) -> &'static str {
    match m {
        Marketplace::Rakuten => "楽天市場",
        Marketplace::Yahoo => "Yahoo!ショッピング",
        Marketplace::Amazon => "Amazon.co.jp",
        Marketplace::Aupay => "au PAY マーケット",
        Marketplace::Qoo10 => "Qoo10",
        Marketplace::Csv => "直接注文",
    }
}

/// Japanese name of a carrier.
pub fn carrier_name(c: Carrier) -> &'static str {
    match c {
        Carrier::Yamato => "ヤマト運輸",
        Carrier::Sagawa => "佐川急便",
        Carrier::Japanpost => "日本郵便",
        Carrier::Other => "その他の配送業者",
    }
}

/// Japanese name of a payment method. The marketplace's wallet is named by the marketplace, not
/// by its brand (a brand is the marketplace's own business and changes).
pub fn payment_method(p: PaymentMethod, m: Marketplace) -> String {
    match p {
        PaymentMethod::CreditCard => "クレジットカード決済".into(),
        PaymentMethod::Cod => "代金引換".into(),
        PaymentMethod::BankTransfer => "銀行振込（前払い）".into(),
        PaymentMethod::ConvenienceStore => "コンビニ決済".into(),
        PaymentMethod::Deferred => "後払い".into(),
        PaymentMethod::MarketplacePay => format!("{}の決済サービス", marketplace_name(m)),
        PaymentMethod::Other => "その他のお支払い方法".into(),
    }
}

/// Whether the buyer pays before the shop ships (the order waits for the money).
pub fn is_prepaid(p: PaymentMethod) -> bool {
    matches!(p, PaymentMethod::BankTransfer | PaymentMethod::ConvenienceStore)
}

/// What the order's fee is called: 代引手数料 for cash on delivery, 決済手数料 otherwise.
pub fn fee_name(p: PaymentMethod) -> &'static str {
    match p {
        PaymentMethod::Cod => "代引手数料",
        _ => "決済手数料",
    }
}

/// Japanese name of a delivery method.
pub fn delivery_method(d: DeliveryMethod) -> &'static str {
    match d {
        DeliveryMethod::Standard => "宅配便",
        DeliveryMethod::MailBin => "メール便（ポスト投函）",
        DeliveryMethod::Cool => "クール便（冷蔵）",
        DeliveryMethod::Frozen => "クール便（冷凍）",
        DeliveryMethod::Pickup => "店舗・宅配ロッカー受取",
        DeliveryMethod::Other => "その他の配送方法",
    }
}

/// Japanese name of a unified order status.
pub fn order_status(s: OrderStatus) -> &'static str {
    match s {
        OrderStatus::New => "新規受付",
        OrderStatus::AwaitingPayment => "入金待ち",
        OrderStatus::ReadyToShip => "発送待ち",
        OrderStatus::Shipped => "発送済み",
        OrderStatus::Cancelled => "キャンセル",
        OrderStatus::OnHold => "保留中",
    }
}

/// Japanese name of a severity.
pub fn severity(s: Severity) -> &'static str {
    match s {
        Severity::Hold => "保留",
        Severity::Warn => "注意",
        Severity::Info => "参考",
    }
}

/// What a finding code means, in a few Japanese words (the finding's message says the details).
pub fn finding(code: FindingCode) -> &'static str {
    match code {
        FindingCode::PostalCodeUnknown => "存在しない郵便番号",
        FindingCode::PostalMismatch => "郵便番号と住所の不一致",
        FindingCode::MissingHouseNumber => "番地の記入もれ",
        FindingCode::LabelOverflow => "送り状に入りきらない住所・氏名",
        FindingCode::Suspicious => "いたずら・テストの疑い",
        FindingCode::Blacklisted => "ブラックリストに該当",
        FindingCode::RemoteIsland => "離島・沖縄あて",
        FindingCode::MailBinEligible => "メール便で送れる注文",
        FindingCode::MailBinConflict => "メール便が使えない注文",
        FindingCode::Remarks => "備考欄の記入あり",
        FindingCode::BundleCandidate => "同梱できる注文あり",
        FindingCode::ShopCondition => "ショップの条件に該当",
        FindingCode::RequestedDateBeforeOrder => "お届け希望日が注文日より前",
        FindingCode::RequestedDateTooSoon => "お届け希望日に間に合わないおそれ",
        FindingCode::StockUnmapped => "在庫SKUに対応していない商品",
    }
}

/// Japanese name of an evidence field of a finding, or `None` for a field without one (shown
/// by its key).
pub fn evidence_field(key: &str) -> Option<&'static str> {
    Some(match key {
        "destination" => "お届け先（0が1件目）",
        "postal_code" => "郵便番号",
        "prefecture" => "都道府県",
        "city" => "市区町村",
        "town" => "町域",
        "expected" => "郵便番号の住所",
        "field" => "項目",
        "part" => "部分",
        "char" => "文字",
        "text" => "記入内容",
        "keyword" => "該当語",
        "hits" => "該当",
        "kind" => "種別",
        "islands" => "島",
        "prefix" => "郵便番号の先頭",
        "basis" => "根拠",
        "carrier" => "配送業者",
        "system" => "送り状の形式",
        "overflows" => "超過した項目",
        "truncated" => "省略あり",
        "service" => "メール便の種類",
        "fits" => "1通に収まる",
        "parcels" => "荷物",
        "fill_percent" => "容量の使用率（%）",
        "over_one_parcel" => "1通を超える",
        "skus_without_capacity" => "容量未設定の商品",
        "blockers" => "使えない理由",
        "entry" => "ブラックリストの登録",
        "matched_on" => "一致した項目",
        "matches" => "一致",
        "reason" => "理由",
        "orders" => "注文",
        "order_id" => "注文番号",
        "marketplace" => "モール",
        "more" => "ほかの件数",
        "requested_date" => "お届け希望日",
        "ordered_on" => "注文日",
        "earliest_date" => "最短のお届け日",
        "lead_days" => "注文日からの最短日数",
        "condition" => "条件",
        "action" => "扱い",
        "matched" => "一致した条件",
        "item" => "モールの商品",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_finding_code_has_a_japanese_label() {
        for code in FindingCode::ALL {
            let label = finding(code);
            assert!(!label.is_empty() && !label.is_ascii(), "{code}");
        }
    }

    #[test]
    fn labels_are_never_codes() {
        for p in [
            PaymentMethod::CreditCard,
            PaymentMethod::Cod,
            PaymentMethod::BankTransfer,
            PaymentMethod::ConvenienceStore,
            PaymentMethod::Deferred,
            PaymentMethod::MarketplacePay,
            PaymentMethod::Other,
        ] {
            for m in Marketplace::ALL {
                let label = payment_method(p, m);
                assert!(!label.contains('_') && !label.is_ascii(), "{label}");
            }
        }
        assert_eq!(fee_name(PaymentMethod::Cod), "代引手数料");
        assert_eq!(fee_name(PaymentMethod::BankTransfer), "決済手数料");
    }
}
