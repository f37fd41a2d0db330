//! Wire types of the RakutenPayOrderAPI (`/es/2.0/order/...`) response bodies, JSON as the API sends it.
//!
//! Key names are exactly Rakuten's (capitalised `...Model`/`...ModelList` objects, camelCase scalars).
//! Unknown fields are ignored; every documented field except `orderNumber`, `orderProgress` and
//! `orderDatetime` is optional, because older response versions lack many of them and many arrive as
//! explicit `null`. Amounts are `i64` so the `-9999` "not fixed yet" sentinel parses.

use serde::{Deserialize, Serialize};

/// One entry of `MessageModelList`, the per-function message list every body carries.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageModel {
    /// `INFO`, `WARNING` or `ERROR`.
    pub message_type: Option<String>,
    /// E.g. `ORDER_EXT_API_GET_ORDER_INFO_101`.
    pub message_code: Option<String>,
    /// Japanese message text.
    pub message: Option<String>,
    /// The order the message is about (getOrder, confirmOrder).
    pub order_number: Option<String>,
    /// 1-based row position in the request (updateOrderShipping).
    pub data_number: Option<i64>,
    /// Shipment row id (updateOrderShipping).
    pub shipping_detail_id: Option<i64>,
}

/// The gateway-level error envelope: `{"Results":{"errorCode":"ES01-01","message":"Un-Authorised"}}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GatewayError {
    /// The inner object.
    #[serde(rename = "Results")]
    pub results: Option<GatewayResults>,
}

/// The inner object of [`GatewayError`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GatewayResults {
    /// E.g. `ES01-01`.
    pub error_code: Option<String>,
    /// E.g. `Un-Authorised`.
    pub message: Option<String>,
}

/// Just enough of any body to tell which operation and which outcome it is.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Envelope {
    /// Gateway error object, when present.
    #[serde(rename = "Results")]
    pub results: Option<GatewayResults>,
    /// Function-level messages.
    #[serde(rename = "MessageModelList")]
    pub message_model_list: Option<Vec<MessageModel>>,
    /// Present (non-null) only in getOrder bodies.
    #[serde(rename = "OrderModelList")]
    pub order_model_list: Option<serde::de::IgnoredAny>,
    /// Present in searchOrder bodies.
    #[serde(rename = "orderNumberList")]
    pub order_number_list: Option<serde::de::IgnoredAny>,
    /// Present in searchOrder bodies.
    #[serde(rename = "PaginationResponseModel")]
    pub pagination_response_model: Option<serde::de::IgnoredAny>,
}

/// searchOrder response.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SearchOrderResponse {
    /// Messages (`..._SEARCH_ORDER_INFO_101` on hits).
    #[serde(rename = "MessageModelList")]
    pub message_model_list: Option<Vec<MessageModel>>,
    /// Order numbers of the requested page (`null` on a 400).
    #[serde(rename = "orderNumberList")]
    pub order_number_list: Option<Vec<String>>,
    /// Paging information (`null` on a 400).
    #[serde(rename = "PaginationResponseModel")]
    pub pagination_response_model: Option<PaginationResponseModel>,
}

/// Paging block of a searchOrder response.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaginationResponseModel {
    /// Matching orders in total.
    pub total_records_amount: Option<i64>,
    /// Number of pages.
    pub total_pages: Option<i64>,
    /// The page returned.
    pub request_page: Option<i64>,
}

/// Response of confirmOrder, updateOrderShipping and the other update functions: messages only.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MessagesResponse {
    /// Messages, one per order or row.
    #[serde(rename = "MessageModelList")]
    pub message_model_list: Option<Vec<MessageModel>>,
}

/// getOrder response.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GetOrderResponse {
    /// Echo of the response version (v6+).
    pub version: Option<i64>,
    /// One message per requested order.
    #[serde(rename = "MessageModelList")]
    pub message_model_list: Option<Vec<MessageModel>>,
    /// The orders.
    #[serde(rename = "OrderModelList")]
    pub order_model_list: Option<Vec<OrderModel>>,
}

/// One order (`OrderModel`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderModel {
    /// Order number, opaque text.
    pub order_number: String,
    /// Main status code (100 ... 900).
    pub order_progress: i64,
    /// Store-defined sub-status id.
    pub sub_status_id: Option<i64>,
    /// Store-defined sub-status name.
    pub sub_status_name: Option<String>,
    /// When the buyer ordered (`YYYY-MM-DDThh:mm:ss+0900`).
    pub order_datetime: String,
    /// 注文確認 time.
    pub shop_order_cfm_datetime: Option<String>,
    /// 注文確定 time.
    pub order_fix_datetime: Option<String>,
    /// 発送指示 time.
    pub shipping_inst_datetime: Option<String>,
    /// 発送完了報告 time.
    pub shipping_cmpl_rpt_datetime: Option<String>,
    /// Requested delivery date (`YYYY-MM-DD`).
    pub delivery_date: Option<String>,
    /// Requested time slot code.
    pub shipping_term: Option<i64>,
    /// 備考: buyer comment plus Rakuten's system sections.
    pub remarks: Option<String>,
    /// 1 = gift delivery requested.
    pub gift_check_flag: Option<i64>,
    /// 1 = social-gift order (v10).
    pub social_gift_flag: Option<i64>,
    /// 1 = several destinations.
    pub several_sender_flag: Option<i64>,
    /// 1 = Rakuten is still checking the order.
    pub rakuten_confirm_flag: Option<i64>,
    /// 0 none, 1 caution shown, 2 cancel confirmed.
    pub caution_display_type: Option<i64>,
    /// Items + wrapping (-9999 if not fixed).
    pub goods_price: Option<i64>,
    /// Shipping fee total.
    pub postage_price: Option<i64>,
    /// Cash-on-delivery fee total.
    pub delivery_price: Option<i64>,
    /// Payment fee total.
    pub payment_charge: Option<i64>,
    /// Items + shipping + wrapping.
    pub total_price: Option<i64>,
    /// Amount billed to the buyer.
    pub request_price: Option<i64>,
    /// All coupons.
    pub coupon_all_total_price: Option<i64>,
    /// Store-funded coupons.
    pub coupon_shop_price: Option<i64>,
    /// Rakuten-funded coupons.
    pub coupon_other_price: Option<i64>,
    /// Deferred-payment surcharge paid by the buyer.
    pub additional_fee_occur_amount_to_user: Option<i64>,
    /// Buyer.
    #[serde(rename = "OrdererModel")]
    pub orderer_model: Option<PersonModel>,
    /// Payment.
    #[serde(rename = "SettlementModel")]
    pub settlement_model: Option<SettlementModel>,
    /// Delivery method.
    #[serde(rename = "DeliveryModel")]
    pub delivery_model: Option<DeliveryModel>,
    /// Points used.
    #[serde(rename = "PointModel")]
    pub point_model: Option<PointModel>,
    /// Wrapping paper.
    #[serde(rename = "WrappingModel1")]
    pub wrapping_model1: Option<WrappingModel>,
    /// Ribbon.
    #[serde(rename = "WrappingModel2")]
    pub wrapping_model2: Option<WrappingModel>,
    /// Destinations.
    #[serde(rename = "PackageModelList")]
    pub package_model_list: Option<Vec<PackageModel>>,
    /// Coupons used.
    #[serde(rename = "CouponModelList")]
    pub coupon_model_list: Option<Vec<CouponModel>>,
}

/// Orderer (buyer) or Sender (recipient): same name/address/phone fields.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PersonModel {
    /// First 3 postcode digits.
    pub zip_code1: Option<String>,
    /// Last 4 postcode digits.
    pub zip_code2: Option<String>,
    /// 都道府県.
    pub prefecture: Option<String>,
    /// 郡市区.
    pub city: Option<String>,
    /// The rest of the address.
    pub sub_address: Option<String>,
    /// Family name.
    pub family_name: Option<String>,
    /// Given name.
    pub first_name: Option<String>,
    /// Family name reading.
    pub family_name_kana: Option<String>,
    /// Given name reading.
    pub first_name_kana: Option<String>,
    /// Phone, first part.
    pub phone_number1: Option<String>,
    /// Phone, second part.
    pub phone_number2: Option<String>,
    /// Phone, third part.
    pub phone_number3: Option<String>,
    /// Masked relay address (orderer only).
    pub email_address: Option<String>,
    /// 1 = remote island (sender only).
    pub isolated_island_flag: Option<i64>,
}

/// Payment.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SettlementModel {
    /// Payment method code (absent in old shapes).
    pub settlement_method_code: Option<i64>,
    /// Payment method name, e.g. `代金引換`.
    pub settlement_method: Option<String>,
    /// 0 store-selected, 1 Rakuten common payment.
    pub rpay_settlement_flag: Option<i64>,
}

/// Delivery method.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryModel {
    /// Store-configured method name.
    pub delivery_name: Option<String>,
    /// 配送区分 (0 none, 1 normal, 2 chilled, 3 frozen, 4-8 other).
    pub delivery_class: Option<i64>,
}

/// Points.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PointModel {
    /// Points used, 1 point = 1 yen.
    pub used_point: Option<i64>,
}

/// Gift wrapping (paper or ribbon).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WrappingModel {
    /// 1 paper, 2 ribbon.
    pub title: Option<i64>,
    /// Wrapping name.
    pub name: Option<String>,
    /// Price.
    pub price: Option<i64>,
    /// 1 = price includes tax.
    pub include_tax_flag: Option<i64>,
}

/// One coupon.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CouponModel {
    /// Coupon code.
    pub coupon_code: Option<String>,
    /// Coupon name.
    pub coupon_name: Option<String>,
    /// 1 shop, 2 maker, 3 service.
    pub coupon_capital_code: Option<i64>,
    /// Total discount of this coupon.
    pub coupon_total_price: Option<i64>,
}

/// One destination (`PackageModel`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PackageModel {
    /// Destination id, needed for updateOrderShipping.
    pub basket_id: Option<i64>,
    /// Shipping fee of this destination.
    pub postage_price: Option<i64>,
    /// COD fee of this destination.
    pub delivery_price: Option<i64>,
    /// Items (+ wrapping).
    pub goods_price: Option<i64>,
    /// Items + shipping + wrapping.
    pub total_price: Option<i64>,
    /// のし text.
    pub noshi: Option<String>,
    /// 1 = deleted.
    pub package_delete_flag: Option<i64>,
    /// Recipient.
    #[serde(rename = "SenderModel")]
    pub sender_model: Option<PersonModel>,
    /// Line items.
    #[serde(rename = "ItemModelList")]
    pub item_model_list: Option<Vec<ItemModel>>,
    /// Shipments already registered.
    #[serde(rename = "ShippingModelList")]
    pub shipping_model_list: Option<Vec<ShippingModel>>,
    /// Pickup store, for convenience-store / post-office pickup.
    #[serde(rename = "DeliveryCvsModel")]
    pub delivery_cvs_model: Option<DeliveryCvsModel>,
    /// Carrier chosen at purchase (code as a string).
    pub default_delivery_company_code: Option<String>,
    /// Social-gift state (v10).
    #[serde(rename = "SocialGiftModel")]
    pub social_gift_model: Option<SocialGiftModel>,
}

/// Pickup store.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryCvsModel {
    /// Convenience-store chain code.
    pub cvs_code: Option<i64>,
    /// Store code.
    pub store_code: Option<String>,
    /// Store name.
    pub store_name: Option<String>,
}

/// Social-gift state of a destination.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SocialGiftModel {
    /// 1 = the recipient has entered the address.
    pub input_flag: Option<i64>,
}

/// One line item.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemModel {
    /// Line id.
    pub item_detail_id: Option<i64>,
    /// Item name.
    pub item_name: Option<String>,
    /// Rakuten item id.
    pub item_id: Option<i64>,
    /// Store item number.
    pub item_number: Option<String>,
    /// Store 商品管理番号.
    pub manage_number: Option<String>,
    /// Unit price as shown (tax-incl. or excl. per `includeTaxFlag`).
    pub price: Option<i64>,
    /// Unit price including tax.
    pub price_tax_incl: Option<i64>,
    /// Quantity.
    pub units: Option<i64>,
    /// 1 = `price` includes tax.
    pub include_tax_flag: Option<i64>,
    /// Buyer-chosen options, `name:value` lines.
    pub selected_choice: Option<String>,
    /// 1 = deleted line.
    pub delete_item_flag: Option<i64>,
    /// SKU data (v7+).
    #[serde(rename = "SkuModelList")]
    pub sku_model_list: Option<Vec<SkuModel>>,
}

/// SKU of a line item.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SkuModel {
    /// SKU 管理番号.
    pub variant_id: Option<String>,
    /// System SKU number.
    pub merchant_defined_sku_id: Option<String>,
    /// `variation:value` lines.
    pub sku_info: Option<String>,
}

/// One registered shipment row.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShippingModel {
    /// Row id.
    pub shipping_detail_id: Option<i64>,
    /// Tracking number.
    pub shipping_number: Option<String>,
    /// Carrier code as a string, e.g. `"1001"`.
    pub delivery_company: Option<String>,
    /// Carrier display name.
    pub delivery_company_name: Option<String>,
    /// Ship date (`YYYY-MM-DD`).
    pub shipping_date: Option<String>,
}
