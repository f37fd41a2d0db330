//! Delivery-method names. Shops name their delivery methods freely in every back office and the
//! APIs pass the name through (no code), so the usual Japanese words decide, for all marketplaces.

use ichigen_core::DeliveryMethod;

/// Words in a delivery-method name → unified method, first match in this order wins (temperature
/// first: クール宅急便 is cool; then mail-bin, pick-up, parcel).
pub const DELIVERY_KEYWORDS: &[(&str, DeliveryMethod)] = &[
    ("冷凍", DeliveryMethod::Frozen),
    ("冷蔵", DeliveryMethod::Cool),
    ("クール", DeliveryMethod::Cool),
    ("メール便", DeliveryMethod::MailBin),
    ("ネコポス", DeliveryMethod::MailBin),
    ("ゆうパケット", DeliveryMethod::MailBin),
    ("クリックポスト", DeliveryMethod::MailBin),
    ("ゆうメール", DeliveryMethod::MailBin),
    ("レターパック", DeliveryMethod::MailBin),
    ("dm便", DeliveryMethod::MailBin),
    ("ポスト", DeliveryMethod::MailBin),
    ("店頭", DeliveryMethod::Pickup),
    ("店舗受取", DeliveryMethod::Pickup),
    ("受取", DeliveryMethod::Pickup),
    ("受け取り", DeliveryMethod::Pickup),
    ("pickup", DeliveryMethod::Pickup),
    ("コンパクト", DeliveryMethod::Standard),
    ("宅配", DeliveryMethod::Standard),
    ("宅急便", DeliveryMethod::Standard),
    ("ゆうパック", DeliveryMethod::Standard),
    ("飛脚", DeliveryMethod::Standard),
    ("通常", DeliveryMethod::Standard),
    ("standard", DeliveryMethod::Standard),
];

/// The unified method a delivery-method name points to, if any word is known (ASCII case ignored).
pub fn delivery_from_label(label: &str) -> Option<DeliveryMethod> {
    let lower = label.trim().to_lowercase();
    DELIVERY_KEYWORDS.iter().find(|(k, _)| lower.contains(k)).map(|&(_, m)| m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_shops_use() {
        assert_eq!(delivery_from_label("クール宅急便(冷蔵)"), Some(DeliveryMethod::Cool));
        assert_eq!(delivery_from_label("ネコポス(ポスト投函)"), Some(DeliveryMethod::MailBin));
        assert_eq!(delivery_from_label("DM便"), Some(DeliveryMethod::MailBin));
        assert_eq!(delivery_from_label("宅配便"), Some(DeliveryMethod::Standard));
        assert_eq!(delivery_from_label("コンビニ受取"), Some(DeliveryMethod::Pickup));
        assert_eq!(delivery_from_label("Standard"), Some(DeliveryMethod::Standard));
        assert_eq!(delivery_from_label("おまかせ"), None);
    }
}
