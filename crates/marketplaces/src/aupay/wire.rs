//! Wire types of the Wow!manager shop API (au PAY マーケット) order search responses.
//!
//! Every body is XML with a `<response>` root. All values are element text, so every leaf is an
//! `Option<String>`: numbers and dates are parsed (and rejected by field name) in `map.rs`.
//! Unknown elements are ignored; a single `<orderInfo>` or `<detail>` reads as a list of one.

use serde::Deserialize;

/// The `<response>` envelope of `searchTradeInfoListProc` (and `searchTradeInfoProc`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Response {
    /// `<result>`: status and, on failure, the error.
    pub result: Option<ResultEl>,
    /// `<resultCount>`: records in this response (or total hits; the sources disagree).
    pub result_count: Option<String>,
    /// `<orderInfo>`: the orders, zero or more.
    #[serde(default)]
    pub order_info: Vec<OrderInfo>,
}

/// `<result>`: `status` 0 = success, 1 = error.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResultEl {
    /// `0` success, `1` error.
    pub status: Option<String>,
    /// The error(s) when `status` is 1.
    #[serde(default)]
    pub error: Vec<ApiError>,
}

/// `<error>`: the API's own code and message.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiError {
    /// E.g. `0002`, `CME0022`.
    pub code: Option<String>,
    /// Human-readable Japanese message.
    pub message: Option<String>,
}

/// `<orderInfo>`: one order with its lines.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderInfo {
    /// Order number (numeric text).
    pub order_id: Option<String>,
    /// `YYYY/MM/DD HH:MM`, JST.
    pub order_date: Option<String>,
    /// Status name (Japanese), possibly shop-defined.
    pub order_status: Option<String>,
    /// `1` normal sale, `2` reservation.
    pub sell_method_segment: Option<String>,
    /// Storefront / device.
    pub site_and_device: Option<String>,
    /// `R` = Ruten proxy purchase.
    pub cross_border_ec_trade_kbn: Option<String>,
    /// Buyer e-mail.
    pub mail_address: Option<String>,
    /// Buyer name.
    pub orderer_name: Option<String>,
    /// Buyer name reading.
    pub orderer_kana: Option<String>,
    /// Buyer postal code.
    pub orderer_zip_code: Option<String>,
    /// Buyer address, one string.
    pub orderer_address: Option<String>,
    /// Buyer phone.
    pub orderer_phone_number1: Option<String>,
    /// Buyer second phone.
    pub orderer_phone_number2: Option<String>,
    /// Buyer nickname.
    pub nickname: Option<String>,
    /// Ship-to recipient name (送付先, despite "sender").
    pub sender_name: Option<String>,
    /// Ship-to recipient reading.
    pub sender_kana: Option<String>,
    /// Ship-to postal code.
    pub sender_zip_code: Option<String>,
    /// Ship-to address, one string, prefecture included.
    pub sender_address: Option<String>,
    /// Ship-to phone.
    pub sender_phone_number1: Option<String>,
    /// Ship-to second phone.
    pub sender_phone_number2: Option<String>,
    /// Order-level option text.
    pub order_option: Option<String>,
    /// Buyer's remarks at checkout.
    pub user_comment: Option<String>,
    /// 特記事項.
    pub trade_remarks: Option<String>,
    /// Shop memo.
    pub memo: Option<String>,
    /// Payment method name.
    pub settlement_name: Option<String>,
    /// `Y`/`N`; turns `Y` only after sales confirmation.
    pub payment_status: Option<String>,
    /// `Y` shipped / `N` not.
    pub ship_status: Option<String>,
    /// `N` normal / `C` cancelled.
    pub cancel_status: Option<String>,
    /// Whether the shop's contact mail was sent.
    pub contact_status: Option<String>,
    /// When the shop's contact mail was sent.
    pub contact_date: Option<String>,
    /// Delivery method name.
    pub delivery_name: Option<String>,
    /// Delivery method ID.
    pub delivery_method_id: Option<String>,
    /// Registered shipping date.
    pub shipping_date: Option<String>,
    /// Registered carrier code.
    pub shipping_carrier: Option<String>,
    /// Registered tracking number.
    pub shipping_number: Option<String>,
    /// Payment date (one source only).
    pub payment_date: Option<String>,
    /// Ship date (one source only).
    pub ship_date: Option<String>,
    /// Goods subtotal.
    pub total_sale_price: Option<String>,
    /// Units in the order.
    pub total_sale_unit: Option<String>,
    /// Shipping fee.
    pub postage_price: Option<String>,
    /// Payment fee (e.g. COD fee).
    pub charge_price: Option<String>,
    /// Option fees.
    pub total_item_option_price: Option<String>,
    /// Gift-wrapping fees.
    pub total_gift_wrapping_price: Option<String>,
    /// Order total before coupons and points.
    pub total_price: Option<String>,
    /// Store-coupon discount.
    pub coupon_total_price: Option<String>,
    /// Ponta points used (yen).
    pub use_point: Option<String>,
    /// au points used (yen).
    pub use_au_point_price: Option<String>,
    /// Amount billed = totalPrice − coupon − points.
    pub request_price: Option<String>,
    /// The lines.
    #[serde(default)]
    pub detail: Vec<Detail>,
}

/// `<detail>`: one order line.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Detail {
    /// Line number within the order.
    pub order_detail_id: Option<String>,
    /// Shop's item code.
    pub item_code: Option<String>,
    /// Variant (choice) management ID.
    pub item_management_id: Option<String>,
    /// au PAY lot number (item page ID).
    pub lotnumber: Option<String>,
    /// Item name.
    pub item_name: Option<String>,
    /// Selected option text, e.g. `香り=金木犀`.
    pub item_option: Option<String>,
    /// Per-line option fee.
    pub item_option_price: Option<String>,
    /// Per-line wrapping fee.
    pub gift_wrapping_price: Option<String>,
    /// Gift message.
    pub gift_message: Option<String>,
    /// 熨斗 name 1.
    pub noshi_presenter_name1: Option<String>,
    /// 熨斗 name 2.
    pub noshi_presenter_name2: Option<String>,
    /// 熨斗 name 3.
    pub noshi_presenter_name3: Option<String>,
    /// Wrapping type.
    pub gift_wrapping_type: Option<String>,
    /// Line cancel status.
    pub item_cancel_status: Option<String>,
    /// Unit price before discount.
    pub before_discount: Option<String>,
    /// Discount amount.
    pub discount: Option<String>,
    /// Unit price after discount (yen).
    pub item_price: Option<String>,
    /// Quantity.
    pub unit: Option<String>,
    /// Line total = itemPrice × unit.
    pub total_item_price: Option<String>,
    /// Tax rate.
    pub tax_rate: Option<String>,
    /// Ship-by deadline `YYYY/MM/DD`.
    pub shipping_timelimit_date: Option<String>,
}

/// Parses a body as a `<response>` document.
pub fn parse(text: &str) -> Result<Response, quick_xml::DeError> {
    quick_xml::de::from_str(text)
}
