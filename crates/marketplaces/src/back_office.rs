//! Where staff open an order in the marketplace's own back office, for the console's link.
//! Only 楽天 RMS and Amazon Seller Central have an order page addressed by the order id alone;
//! the others' order pages need the shop's account in the path or a session, so the link opens
//! the back office and staff search the order id there.

use ichigen_core::Marketplace;

/// A link to the marketplace's back office.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackOfficeLink {
    /// Where.
    pub url: String,
    /// True when it opens the order itself; false when staff search the order id there.
    pub opens_order: bool,
}

/// The back-office link of order `order_id` of `marketplace` (`None` for file imports).
pub fn order_link(marketplace: Marketplace, order_id: &str) -> Option<BackOfficeLink> {
    let id: String = order_id.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '-').collect();
    let (url, opens_order) = match marketplace {
        // R-Backoffice 受注詳細 (RMS login required).
        Marketplace::Rakuten => (
            format!("https://order-rp.rms.rakuten.co.jp/order-rb/individual-order-detail-sc/init?orderNumber={id}"),
            true,
        ),
        // Seller Central 注文の詳細.
        Marketplace::Amazon => (format!("https://sellercentral.amazon.co.jp/orders-v3/order/{id}"), true),
        // ストアクリエイターPro: the order pages carry the store account in the path.
        Marketplace::Yahoo => ("https://pro.store.yahoo.co.jp/".to_string(), false),
        // au PAY マーケット 店舗管理画面 (Wow!manager).
        Marketplace::Aupay => ("https://manager.wowma.jp/wmshopclient/".to_string(), false),
        // Qoo10 QSM.
        Marketplace::Qoo10 => ("https://qsm.qoo10.jp/".to_string(), false),
        Marketplace::Csv => return None,
    };
    Some(BackOfficeLink { url, opens_order })
}
