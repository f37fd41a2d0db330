//! Serde types for the SP-API Orders v2026-01-01 response bodies (`searchOrders`, `getOrder`),
//! exactly as the model `orders_2026-01-01.json` describes them.
//!
//! Unknown fields are ignored (serde's default); everything the model does not mark required is an
//! `Option` or defaults to empty. Blocks that depend on `includedData` (buyer, recipient, proceeds,
//! fulfillment, packages, payment, item cancellation / fulfillment) and personal-data fields the
//! app's roles do not unlock are simply absent. Money amounts stay decimal text here and are parsed
//! exactly in `map.rs`.

use serde::Deserialize;

/// `{ "errors": [ ... ] }`: the error envelope of every SP-API operation (`ErrorList`).
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

/// `Money`: both fields required by the model; lower-case keys (v0 used `CurrencyCode`/`Amount`).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Money {
    /// Decimal text (`"19940"`).
    pub amount: String,
    /// ISO 4217 code; `JPY` for Amazon.co.jp.
    pub currency_code: String,
}

/// searchOrders answer (no `payload` wrapper).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchOrdersResponse {
    /// The orders of this page.
    pub orders: Vec<WireOrder>,
    /// Absent on the last page.
    pub pagination: Option<Pagination>,
    /// The upper bound of an update window the server applied.
    pub last_updated_before: Option<String>,
    /// The upper bound of a creation window the server applied.
    pub created_before: Option<String>,
}

/// `Pagination`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Pagination {
    /// Send as `paginationToken` (with the same filters) for the next page; valid 24 hours.
    pub next_token: Option<String>,
}

/// getOrder answer.
#[derive(Debug, Clone, Deserialize)]
pub struct GetOrderResponse {
    /// The order.
    pub order: WireOrder,
}

/// `Order`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WireOrder {
    /// 3-7-7 order id.
    pub order_id: String,
    /// Other ids (`SELLER_ORDER_ID`).
    #[serde(default)]
    pub order_aliases: Vec<Alias>,
    /// When the customer placed the order (ISO 8601).
    pub created_time: String,
    /// Last change by Amazon or the seller (ISO 8601).
    pub last_updated_time: String,
    /// `PRIME`, `IN_STORE_PICK_UP`, ...
    #[serde(default)]
    pub programs: Vec<String>,
    /// Where the order was placed.
    pub sales_channel: SalesChannel,
    /// `includedData=BUYER`; personal fields only with the right role.
    pub buyer: Option<WireBuyer>,
    /// `includedData=RECIPIENT`.
    pub recipient: Option<Recipient>,
    /// `includedData=PROCEEDS`.
    pub proceeds: Option<OrderProceeds>,
    /// `includedData=PAYMENT`.
    pub payment: Option<OrderPayment>,
    /// `includedData=FULFILLMENT`: holds the status.
    pub fulfillment: Option<OrderFulfillment>,
    /// Always present (required).
    pub order_items: Vec<OrderItem>,
    /// `includedData=PACKAGES`, merchant-fulfilled orders only.
    #[serde(default)]
    pub packages: Vec<OrderPackage>,
}

/// `Alias`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Alias {
    /// The other id.
    pub alias_id: String,
    /// `SELLER_ORDER_ID`.
    pub alias_type: String,
}

/// `SalesChannel`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SalesChannel {
    /// `AMAZON` / `NON_AMAZON`.
    pub channel_name: String,
    /// `A1VC38T7YXB528` for Amazon.co.jp.
    pub marketplace_id: Option<String>,
    /// `Amazon.co.jp`.
    pub marketplace_name: Option<String>,
}

/// `Buyer`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WireBuyer {
    /// Buyer name (role-dependent).
    pub buyer_name: Option<String>,
    /// Anonymised relay address (FBM only, role-dependent).
    pub buyer_email: Option<String>,
    /// Business buyer's company.
    pub buyer_company_name: Option<String>,
    /// Business buyer's PO number.
    pub buyer_purchase_order_number: Option<String>,
}

/// `Recipient`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Recipient {
    /// Where to deliver.
    pub delivery_address: Option<CustomerAddress>,
    /// The buyer's delivery instructions.
    pub delivery_preference: Option<DeliveryPreference>,
}

/// `CustomerAddress`: every field optional.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomerAddress {
    /// Recipient name (PII).
    pub name: Option<String>,
    /// Company.
    pub company_name: Option<String>,
    /// Street line 1 (PII).
    pub address_line1: Option<String>,
    /// Street line 2 (PII).
    pub address_line2: Option<String>,
    /// Street line 3 (PII).
    pub address_line3: Option<String>,
    /// City.
    pub city: Option<String>,
    /// District or county.
    pub district_or_county: Option<String>,
    /// State / prefecture.
    pub state_or_region: Option<String>,
    /// Municipality.
    pub municipality: Option<String>,
    /// Postal code (PII).
    pub postal_code: Option<String>,
    /// ISO 3166-1 alpha-2.
    pub country_code: Option<String>,
    /// Phone (PII; suppressed for FBA and for delivered FBM orders).
    pub phone: Option<String>,
    /// `RESIDENTIAL`, `COMMERCIAL`, `PICKUP_POINT`.
    pub address_type: Option<String>,
}

/// `DeliveryPreference`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryPreference {
    /// Where to leave the parcel.
    pub drop_off_location: Option<String>,
    /// Building instructions, landmark, directions.
    pub address_instruction: Option<String>,
}

/// `OrderProceeds`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderProceeds {
    /// What the seller receives for the order.
    pub grand_total: Option<Money>,
    /// By category.
    #[serde(default)]
    pub breakdowns: Vec<ProceedsBreakdown>,
}

/// `OrderProceedsBreakdown` / `ItemProceedsBreakdown`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProceedsBreakdown {
    /// `ITEM`, `SHIPPING`, `GIFT_WRAP`, `COD_FEE`, `TAX`, `DISCOUNT`, `DELIVERY_TIP`, `OTHER`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The amount.
    pub subtotal: Money,
}

/// `OrderPayment`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderPayment {
    /// Payments made.
    #[serde(default)]
    pub payment_executions: Vec<PaymentExecution>,
}

/// `PaymentExecution`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentExecution {
    /// `CashOnDelivery`, `ConvenienceStore`, `CreditCard`, `Invoice`, ...
    pub payment_method: Option<String>,
    /// Amount.
    pub payment_amount: Option<Money>,
}

/// `OrderFulfillment`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderFulfillment {
    /// `PENDING`, `UNSHIPPED`, ... (see `codes::status`).
    pub fulfillment_status: String,
    /// `AMAZON` / `MERCHANT`.
    pub fulfilled_by: Option<String>,
    /// `STANDARD`, `EXPEDITED`, `SCHEDULED`, ...
    pub fulfillment_service_level: Option<String>,
    /// Ship-by window.
    pub ship_by_window: Option<DateTimeRange>,
    /// Deliver-by window.
    pub deliver_by_window: Option<DateTimeRange>,
}

/// `DateTimeRange`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DateTimeRange {
    /// Start.
    pub earliest_date_time: Option<String>,
    /// End.
    pub latest_date_time: Option<String>,
}

/// `OrderItem`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderItem {
    /// Line id (needed for confirmShipment).
    pub order_item_id: String,
    /// Units ordered.
    pub quantity_ordered: u32,
    /// Product data.
    pub product: ItemProduct,
    /// `includedData=PROCEEDS`.
    pub proceeds: Option<ItemProceeds>,
    /// `includedData=CANCELLATION`.
    pub cancellation: Option<ItemCancellation>,
    /// `includedData=FULFILLMENT`.
    pub fulfillment: Option<ItemFulfillment>,
}

/// `ItemProduct`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemProduct {
    /// ASIN.
    pub asin: Option<String>,
    /// Product name.
    pub title: Option<String>,
    /// The shop's SKU.
    pub seller_sku: Option<String>,
    /// Condition.
    pub condition: Option<ItemCondition>,
    /// Price of one unit.
    pub price: Option<ItemPrice>,
    /// Amazon Custom data (PII).
    pub customization: Option<ItemCustomization>,
}

/// `ItemCondition`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemCondition {
    /// `NEW`, `USED`, ...
    pub condition_type: Option<String>,
    /// Finer grade.
    pub condition_subtype: Option<String>,
}

/// `ItemPrice`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemPrice {
    /// Price of ONE unit (v0 `ItemPrice` was the line total).
    pub unit_price: Option<Money>,
}

/// `ItemCustomization`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemCustomization {
    /// Where the customisation data is.
    pub customized_url: Option<String>,
}

/// `ItemProceeds`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemProceeds {
    /// Line total.
    pub proceeds_total: Option<Money>,
    /// By category.
    #[serde(default)]
    pub breakdowns: Vec<ProceedsBreakdown>,
}

/// `ItemCancellation`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemCancellation {
    /// The buyer asked to cancel (check before shipping).
    pub cancellation_request: Option<CancellationRequest>,
    /// The line was cancelled.
    pub cancellation_execution: Option<CancellationExecution>,
}

/// `ItemCancellationRequest`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CancellationRequest {
    /// `BUYER`.
    pub requester: Option<String>,
    /// The buyer's reason.
    pub cancel_reason: Option<String>,
}

/// `ItemCancellationExecution`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CancellationExecution {
    /// `BUYER`, `MERCHANT`, `AMAZON`.
    pub cancelled_by: Option<String>,
    /// Reason.
    pub cancel_reason: Option<String>,
}

/// `ItemFulfillment`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemFulfillment {
    /// Units shipped.
    pub quantity_fulfilled: Option<u32>,
    /// Units still to ship.
    pub quantity_unfulfilled: Option<u32>,
    /// Gift options.
    pub packing: Option<ItemPacking>,
    /// Scheduled delivery, constraints.
    pub shipping: Option<ItemShipping>,
}

/// `ItemPacking`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemPacking {
    /// Gift wrap and message.
    pub gift_option: Option<GiftOption>,
}

/// `GiftOption`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GiftOption {
    /// The buyer's message (PII).
    pub gift_message: Option<String>,
    /// Wrap type.
    pub gift_wrap_level: Option<String>,
}

/// `ItemShipping`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemShipping {
    /// Scheduled delivery window.
    pub scheduled_delivery_window: Option<DateTimeRange>,
    /// Constraints (`cashOnDelivery: MANDATORY`, ...).
    pub shipping_constraints: Option<ShippingConstraints>,
}

/// `ItemShippingConstraints` (values: `MANDATORY`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShippingConstraints {
    /// Collect payment at delivery.
    pub cash_on_delivery: Option<String>,
}

/// `OrderPackage` (merchant-fulfilled orders, `includedData=PACKAGES`).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderPackage {
    /// The id sent in confirmShipment's `packageReferenceId`.
    pub package_reference_id: String,
    /// When it was handed to the carrier.
    pub ship_time: Option<String>,
    /// Status.
    pub package_status: Option<PackageStatus>,
    /// Carrier as registered.
    pub carrier: Option<String>,
    /// Service.
    pub shipping_service: Option<String>,
    /// Tracking number.
    pub tracking_number: Option<String>,
    /// What is inside.
    #[serde(default)]
    pub package_items: Vec<PackageItem>,
}

/// `PackageStatus`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PackageStatus {
    /// `PENDING`, `IN_TRANSIT`, `SHIPPED`, `DELIVERED`, `CANCELLED`, `UNDELIVERABLE`.
    pub status: String,
}

/// `PackageItem`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PackageItem {
    /// The line.
    pub order_item_id: String,
    /// Units of the line in this package.
    pub quantity: u32,
}
