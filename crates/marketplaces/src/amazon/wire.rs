//! Serde types for the SP-API Orders v0 response bodies, exactly as the API sends them.
//!
//! Unknown fields are ignored (serde's default); everything the model does not mark required is an
//! `Option`. Money amounts stay decimal text here and are parsed exactly in `map.rs`.

use serde::Deserialize;

/// `{ "errors": [ ... ] }`: the error envelope of every SP-API operation.
#[derive(Debug, Clone, Deserialize)]
pub struct ErrorList {
    /// The errors, first one first.
    pub errors: Vec<ApiError>,
}

/// One entry of `errors[]`.
#[derive(Debug, Clone, Deserialize)]
pub struct ApiError {
    /// The API's error code (e.g. `InvalidInput`).
    pub code: String,
    /// The API's error message.
    #[serde(default)]
    pub message: String,
    /// Optional extra text.
    pub details: Option<String>,
}

/// `Money`: currency and decimal amount as text (`"1980"`, `"10.00"`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Money {
    /// ISO 4217 code; `JPY` for Amazon.co.jp.
    pub currency_code: Option<String>,
    /// Decimal text.
    pub amount: Option<String>,
}

/// getOrders `payload`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct OrdersList {
    /// The orders of this page.
    pub orders: Vec<WireOrder>,
    /// Present and non-empty when there are more pages.
    pub next_token: Option<String>,
    /// Upper bound of a LastUpdated window the server used.
    pub last_updated_before: Option<String>,
    /// Upper bound of a Created window the server used (free text in the sandbox example).
    pub created_before: Option<String>,
}

/// One order header: getOrders `payload.Orders[]` and getOrder `payload`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct WireOrder {
    /// 3-7-7 order id.
    pub amazon_order_id: String,
    /// Seller-defined id.
    pub seller_order_id: Option<String>,
    /// Order creation time (ISO 8601, UTC).
    pub purchase_date: String,
    /// Last change (ISO 8601, UTC).
    pub last_update_date: String,
    /// `Pending`, `Unshipped`, ... (see `codes::status`).
    pub order_status: String,
    /// `MFN` or `AFN`.
    pub fulfillment_channel: Option<String>,
    /// e.g. `Amazon.co.jp`.
    pub sales_channel: Option<String>,
    /// Free-text service level.
    pub ship_service_level: Option<String>,
    /// `Standard`, `Expedited`, `Scheduled`, ...
    pub shipment_service_level_category: Option<String>,
    /// What the buyer pays (absent while `Pending`).
    pub order_total: Option<Money>,
    /// Units shipped.
    pub number_of_items_shipped: Option<u32>,
    /// Units not yet shipped.
    pub number_of_items_unshipped: Option<u32>,
    /// `COD`, `CVS` or `Other`.
    pub payment_method: Option<String>,
    /// Detail such as `CreditCard`, `GiftCertificate`, `COD`.
    pub payment_method_details: Option<Vec<String>>,
    /// Marketplace id (`A1VC38T7YXB528` for JP).
    pub marketplace_id: Option<String>,
    /// `StandardOrder`, `Preorder`, ...
    pub order_type: Option<String>,
    /// Ship-by window start.
    pub earliest_ship_date: Option<String>,
    /// Ship-by window end.
    pub latest_ship_date: Option<String>,
    /// Promised delivery window start.
    pub earliest_delivery_date: Option<String>,
    /// Promised delivery window end.
    pub latest_delivery_date: Option<String>,
    /// Seller-fulfilled Prime.
    pub is_prime: Option<bool>,
    /// Amazon Business buyer.
    pub is_business_order: Option<bool>,
    /// In-store pick-up.
    #[serde(rename = "IsISPU")]
    pub is_ispu: Option<bool>,
    /// Locker / counter pick-up.
    pub is_access_point_order: Option<bool>,
    /// Shipping address (PII parts only with an RDT).
    pub shipping_address: Option<WireAddress>,
    /// Buyer (PII parts only with an RDT).
    pub buyer_info: Option<WireBuyerInfo>,
}

/// `Address`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct WireAddress {
    /// Recipient name.
    pub name: Option<String>,
    /// Recipient company.
    pub company_name: Option<String>,
    /// Street line 1.
    pub address_line1: Option<String>,
    /// Street line 2.
    pub address_line2: Option<String>,
    /// Street line 3.
    pub address_line3: Option<String>,
    /// City.
    pub city: Option<String>,
    /// County.
    pub county: Option<String>,
    /// District.
    pub district: Option<String>,
    /// Municipality.
    pub municipality: Option<String>,
    /// State / prefecture.
    pub state_or_region: Option<String>,
    /// Postal code.
    pub postal_code: Option<String>,
    /// ISO 3166-1 alpha-2.
    pub country_code: Option<String>,
    /// Recipient phone.
    pub phone: Option<String>,
    /// `Residential` / `Commercial`.
    pub address_type: Option<String>,
}

/// `BuyerInfo` inside an order header.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct WireBuyerInfo {
    /// Anonymised relay address.
    pub buyer_email: Option<String>,
    /// Buyer name.
    pub buyer_name: Option<String>,
    /// Business buyer's PO number.
    pub purchase_order_number: Option<String>,
}

/// getOrderBuyerInfo `payload`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct OrderBuyerInfo {
    /// The order.
    pub amazon_order_id: String,
    /// Anonymised relay address.
    pub buyer_email: Option<String>,
    /// Buyer name.
    pub buyer_name: Option<String>,
    /// Business buyer's PO number.
    pub purchase_order_number: Option<String>,
}

/// getOrderAddress `payload`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct OrderAddress {
    /// The order.
    pub amazon_order_id: String,
    /// Buyer's company.
    pub buyer_company_name: Option<String>,
    /// Shipping address.
    pub shipping_address: Option<WireAddress>,
    /// Drop-off and instructions.
    pub delivery_preferences: Option<DeliveryPreferences>,
}

/// `DeliveryPreferences` of getOrderAddress.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeliveryPreferences {
    /// Where to leave the parcel.
    pub drop_off_location: Option<String>,
    /// Buyer's instructions for the address.
    pub address_instructions: Option<String>,
    /// Other attributes (`HasAccessPoint`, ...).
    pub other_attributes: Option<Vec<String>>,
}

/// getOrderItems `payload`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct OrderItemsList {
    /// The order.
    pub amazon_order_id: String,
    /// The lines of this page.
    pub order_items: Vec<WireOrderItem>,
    /// Present and non-empty when there are more pages.
    pub next_token: Option<String>,
}

/// A JSON boolean, or the `"true"` / `"false"` text some Orders v0 fields use.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum TextBool {
    /// A JSON boolean.
    Bool(bool),
    /// Text; only `true` / `false` are meaningful.
    Text(String),
}

/// One line of getOrderItems.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct WireOrderItem {
    /// Amazon product id.
    #[serde(rename = "ASIN")]
    pub asin: Option<String>,
    /// Line id (needed for confirmShipment).
    pub order_item_id: String,
    /// The shop's SKU.
    #[serde(rename = "SellerSKU")]
    pub seller_sku: Option<String>,
    /// Product name.
    pub title: Option<String>,
    /// Units ordered.
    pub quantity_ordered: u32,
    /// Units shipped.
    pub quantity_shipped: Option<u32>,
    /// Line total (unit price x quantity).
    pub item_price: Option<Money>,
    /// Tax on `ItemPrice`.
    pub item_tax: Option<Money>,
    /// Shipping for this line.
    pub shipping_price: Option<Money>,
    /// Tax on shipping.
    pub shipping_tax: Option<Money>,
    /// Shipping discount.
    pub shipping_discount: Option<Money>,
    /// Tax on the shipping discount.
    pub shipping_discount_tax: Option<Money>,
    /// Promotion discount.
    pub promotion_discount: Option<Money>,
    /// Tax on the promotion discount.
    pub promotion_discount_tax: Option<Money>,
    /// Cash-on-delivery fee.
    #[serde(rename = "CODFee")]
    pub cod_fee: Option<Money>,
    /// Discount on the COD fee.
    #[serde(rename = "CODFeeDiscount")]
    pub cod_fee_discount: Option<Money>,
    /// Gift flag (text `"true"` / `"false"`).
    pub is_gift: Option<TextBool>,
    /// `New`, `Used`, ...
    pub condition_id: Option<String>,
    /// Condition detail.
    pub condition_subtype_id: Option<String>,
    /// Seller's condition note.
    pub condition_note: Option<String>,
    /// Scheduled delivery window start.
    pub scheduled_delivery_start_date: Option<String>,
    /// Scheduled delivery window end.
    pub scheduled_delivery_end_date: Option<String>,
    /// Buyer asked to cancel.
    pub buyer_requested_cancel: Option<BuyerRequestedCancel>,
    /// Gift message / wrap / customisation (RDT).
    pub buyer_info: Option<ItemBuyerInfo>,
}

/// `BuyerRequestedCancel` of an order item.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct BuyerRequestedCancel {
    /// `"true"` / `"false"`.
    pub is_buyer_requested_cancel: Option<TextBool>,
    /// The buyer's reason.
    pub buyer_cancel_reason: Option<String>,
}

/// Item-level buyer info (gift message, gift wrap, Amazon Custom URL).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ItemBuyerInfo {
    /// Amazon Custom data.
    pub buyer_customized_info: Option<BuyerCustomizedInfo>,
    /// Gift message.
    pub gift_message_text: Option<String>,
    /// Gift wrap price.
    pub gift_wrap_price: Option<Money>,
    /// Tax on the gift wrap price.
    pub gift_wrap_tax: Option<Money>,
    /// Gift wrap type.
    pub gift_wrap_level: Option<String>,
}

/// `BuyerCustomizedInfo`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct BuyerCustomizedInfo {
    /// Where the customisation data is.
    #[serde(rename = "CustomizedURL")]
    pub customized_url: Option<String>,
}

/// getOrderItemsBuyerInfo `payload`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct OrderItemsBuyerInfoList {
    /// The order.
    pub amazon_order_id: String,
    /// One entry per line.
    pub order_items: Vec<OrderItemBuyerInfo>,
    /// Present and non-empty when there are more pages.
    pub next_token: Option<String>,
}

/// One entry of getOrderItemsBuyerInfo.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct OrderItemBuyerInfo {
    /// The line.
    pub order_item_id: String,
    /// Amazon Custom data.
    pub buyer_customized_info: Option<BuyerCustomizedInfo>,
    /// Gift message.
    pub gift_message_text: Option<String>,
    /// Gift wrap price.
    pub gift_wrap_price: Option<Money>,
    /// Tax on the gift wrap price.
    pub gift_wrap_tax: Option<Money>,
    /// Gift wrap type.
    pub gift_wrap_level: Option<String>,
}

impl From<OrderItemBuyerInfo> for ItemBuyerInfo {
    fn from(e: OrderItemBuyerInfo) -> Self {
        ItemBuyerInfo {
            buyer_customized_info: e.buyer_customized_info,
            gift_message_text: e.gift_message_text,
            gift_wrap_price: e.gift_wrap_price,
            gift_wrap_tax: e.gift_wrap_tax,
            gift_wrap_level: e.gift_wrap_level,
        }
    }
}
