//! Wire types of the Yahoo!ショッピング order API responses (XML), as the API sends them.
//!
//! Every leaf is kept as text (`Option<String>`): XML has no types, empty elements mean "no value",
//! and parsing numbers, booleans and dates in `map.rs` lets errors name the field. Unknown elements
//! and attributes (`xmlns`, `totalResultsAvailable`, ...) are ignored. Repeated elements (`OrderInfo`,
//! `Item`, `ItemOption`) are `Vec`s, so a single element is a list of one; the repeated elements must
//! be adjacent (quick-xml without `overlapped-lists`), which is how the API writes them.

use serde::Deserialize;

/// `<Error><Message/><Code/></Error>`: the error body of every operation (`Code` is absent on some
/// auth errors, e.g. the 401 expired-token body).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct ErrorBody {
    /// The API's message.
    pub message: Option<String>,
    /// The API's code (`px-04102`, `od90101`, ...).
    pub code: Option<String>,
}

/// `<ResultSet>`: the envelope of `orderInfo`, `orderCount` and the change APIs.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct ResultSet {
    /// The one `<Result>`.
    pub result: Option<ResultBody>,
}

/// `<Result>` inside `<ResultSet>`, or the root of an `orderList` response.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct ResultBody {
    /// `OK` on success; anything else is an error envelope.
    pub status: Option<String>,
    /// Error details inside a non-OK result (shape unverified).
    pub error: Option<ErrorBody>,
    /// Error code given directly in a non-OK result (shape unverified).
    pub code: Option<String>,
    /// Error message given directly in a non-OK result (shape unverified).
    pub message: Option<String>,
    /// `orderInfo`: the order(s).
    pub order_info: Vec<OrderInfo>,
    /// `orderCount`: the counters.
    pub count: Option<Count>,
    /// `orderList`: the search page.
    pub search: Option<Search>,
}

/// `orderCount` counters.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct Count {
    /// New orders.
    pub new_order: Option<String>,
    /// New reservations.
    pub new_reserve: Option<String>,
    /// Orders on hold.
    pub holding: Option<String>,
}

/// `orderList` page: order headers only.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct Search {
    /// Hits over all pages.
    pub total_count: Option<String>,
    /// Headers of this page (only the requested fields are present).
    pub order_info: Vec<OrderInfo>,
}

/// `<OrderInfo>`: one order with its groups (all fields optional: only requested fields come back).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct OrderInfo {
    /// Position in an `orderList` page.
    pub index: Option<String>,
    /// `<sellerId>-<number>`.
    pub order_id: Option<String>,
    /// Revision number.
    pub version: Option<String>,
    /// Order time (ISO 8601 with offset).
    pub order_time: Option<String>,
    /// Last change time.
    pub last_update_time: Option<String>,
    /// 注文ステータス 1–5.
    pub order_status: Option<String>,
    /// Whether the store has opened the order.
    pub is_seen: Option<String>,
    /// Cancel reason code.
    pub cancel_reason: Option<String>,
    /// ストアへの要望 (buyer's remarks).
    pub buyer_comments: Option<String>,
    /// Store coupon total.
    pub total_coupon_discount: Option<String>,
    /// 0 normal, 1 social gift, 2 gift entered by buyer.
    pub social_gift_type: Option<String>,
    /// LINE gift order.
    pub is_line_gift_order: Option<String>,
    /// Multi-destination order.
    pub is_multi_ship: Option<String>,
    /// Id shared by the orders of one multi-destination purchase.
    pub multi_ship_id: Option<String>,
    /// Payment and billing party.
    pub pay: Option<Pay>,
    /// Delivery and recipient.
    pub ship: Option<Ship>,
    /// Money.
    pub detail: Option<Detail>,
    /// The store.
    pub seller: Option<Seller>,
    /// Line items.
    pub item: Vec<Item>,
}

/// `<Pay>`: payment and the buyer (billing party).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct Pay {
    /// 入金ステータス.
    pub pay_status: Option<String>,
    /// 0 pay later, 1 prepaid.
    pub pay_type: Option<String>,
    /// Payment kind 0–7.
    pub pay_kind: Option<String>,
    /// `payment_a1`, `payment_d1`, ...
    pub pay_method: Option<String>,
    /// Display name of the method.
    pub pay_method_name: Option<String>,
    /// Date paid.
    pub pay_date: Option<String>,
    /// Buyer given name.
    pub bill_first_name: Option<String>,
    /// Buyer given name, katakana.
    pub bill_first_name_kana: Option<String>,
    /// Buyer family name.
    pub bill_last_name: Option<String>,
    /// Buyer family name, katakana.
    pub bill_last_name_kana: Option<String>,
    /// Buyer postcode.
    pub bill_zip_code: Option<String>,
    /// Buyer prefecture.
    pub bill_prefecture: Option<String>,
    /// Buyer city.
    pub bill_city: Option<String>,
    /// Buyer address line 1.
    pub bill_address1: Option<String>,
    /// Buyer address line 2.
    pub bill_address2: Option<String>,
    /// Buyer phone.
    pub bill_phone_number: Option<String>,
    /// Buyer e-mail.
    pub bill_mail_address: Option<String>,
}

/// `<Ship>`: delivery request, shipment state and the recipient.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct Ship {
    /// 出荷ステータス 0–4.
    pub ship_status: Option<String>,
    /// `postage1` … `postage16`.
    pub ship_method: Option<String>,
    /// The store's name for the method.
    pub ship_method_name: Option<String>,
    /// Requested delivery date.
    pub ship_request_date: Option<String>,
    /// Requested time slot text.
    pub ship_request_time: Option<String>,
    /// Delivery memo.
    pub ship_notes: Option<String>,
    /// Carrier code.
    pub ship_company_code: Option<String>,
    /// Tracking number 1.
    pub ship_invoice_number1: Option<String>,
    /// Tracking number 2.
    pub ship_invoice_number2: Option<String>,
    /// Ship date.
    pub ship_date: Option<String>,
    /// Arrival date.
    pub arrival_date: Option<String>,
    /// 0 normal, 1 same day, 2 next day.
    pub arrive_type: Option<String>,
    /// Gift wrapping wanted.
    pub need_gift_wrap: Option<String>,
    /// Gift wrapping type.
    pub gift_wrap_type: Option<String>,
    /// Gift message.
    pub gift_wrap_message: Option<String>,
    /// Recipient given name.
    pub ship_first_name: Option<String>,
    /// Recipient given name, katakana.
    pub ship_first_name_kana: Option<String>,
    /// Recipient family name.
    pub ship_last_name: Option<String>,
    /// Recipient family name, katakana.
    pub ship_last_name_kana: Option<String>,
    /// Recipient postcode.
    pub ship_zip_code: Option<String>,
    /// Recipient prefecture.
    pub ship_prefecture: Option<String>,
    /// Recipient city.
    pub ship_city: Option<String>,
    /// Recipient address line 1.
    pub ship_address1: Option<String>,
    /// Recipient address line 2.
    pub ship_address2: Option<String>,
    /// Recipient phone.
    pub ship_phone_number: Option<String>,
    /// Pick-up store / locker code.
    pub receive_shop_code: Option<String>,
}

/// `<Detail>`: money of the order, integer yen as text.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct Detail {
    /// Payment fee (e.g. COD fee).
    pub pay_charge: Option<String>,
    /// Shipping fee.
    pub ship_charge: Option<String>,
    /// Gift wrapping fee.
    pub gift_wrap_charge: Option<String>,
    /// Discount.
    pub discount: Option<String>,
    /// Manual adjustment (may be negative).
    pub adjustments: Option<String>,
    /// Points used.
    pub use_point: Option<String>,
    /// Gift card used.
    pub gift_card_discount: Option<String>,
    /// Mall coupon discount.
    pub total_mall_coupon_discount: Option<String>,
    /// Order total.
    pub total_price: Option<String>,
    /// Settlement amount.
    pub settle_amount: Option<String>,
}

/// `<Seller>`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct Seller {
    /// The store account.
    pub seller_id: Option<String>,
}

/// `<Item>`: one order line.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct Item {
    /// Line number, 1-based.
    pub line_id: Option<String>,
    /// Store item code.
    pub item_id: Option<String>,
    /// Item name.
    pub title: Option<String>,
    /// Variation sub-code (the SKU of the variation).
    pub sub_code: Option<String>,
    /// Option text of the sub-code.
    pub sub_code_option: Option<String>,
    /// Buyer-selected options.
    pub item_option: Vec<ItemOption>,
    /// Engraving / name text.
    pub inscription: Vec<ItemOption>,
    /// Unit price, tax included.
    pub unit_price: Option<String>,
    /// Quantity.
    pub quantity: Option<String>,
}

/// `<ItemOption>` / `<Inscription>`: `{Index, Name, Value, Price}`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct ItemOption {
    /// Position.
    pub index: Option<String>,
    /// Option name.
    pub name: Option<String>,
    /// Chosen value.
    pub value: Option<String>,
    /// Extra price of the option.
    pub price: Option<String>,
}
