//! The canonical Order: the contract between puller, processor, CLI and tests (schema_version 1).
//!
//! Field names follow `DESIGN.md` exactly; fields may be added, never renamed.

use chrono::{DateTime, FixedOffset, NaiveDate};
use serde::{Deserialize, Serialize};

/// The only schema version this build reads and writes.
pub const SCHEMA_VERSION: u32 = 1;

/// One order from one marketplace, in the marketplace-neutral shape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Order {
    /// Always [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// The ichigen shop this order belongs to.
    pub shop_id: String,
    /// Where the order came from.
    pub marketplace: Marketplace,
    /// The marketplace's own order id, as text.
    pub order_id: String,
    /// When the buyer ordered (RFC 3339, JST offset).
    pub ordered_at: DateTime<FixedOffset>,
    /// When the marketplace last changed the order; newer wins in the store.
    pub source_updated_at: DateTime<FixedOffset>,
    /// Unified status.
    pub status: OrderStatus,
    /// The marketplace's own status code or label, verbatim.
    pub source_status: String,
    /// Who ordered.
    pub buyer: Buyer,
    /// Where it goes (the first destination when there are several).
    pub ship_to: Address,
    /// All destinations when the order has more than one (楽天 packages); empty otherwise.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shipments: Vec<Shipment>,
    /// Line items of the whole order.
    pub items: Vec<Item>,
    /// Unified payment method.
    pub payment_method: PaymentMethod,
    /// The marketplace's own payment method code or label, verbatim.
    pub source_payment_method: String,
    /// How the buyer asked for it to be delivered.
    pub delivery: Delivery,
    /// Money, integer yen.
    pub totals: Totals,
    /// The buyer's comment, verbatim (may hold line breaks).
    #[serde(default)]
    pub remarks: String,
    /// Whether the buyer marked it as a gift.
    #[serde(default)]
    pub gift: bool,
    /// Parcels shipped so far.
    #[serde(default)]
    pub tracking: Vec<Tracking>,
    /// True when the marketplace ships it itself (Amazon AFN): never ours to ship or mail.
    #[serde(default)]
    pub fulfilled_by_marketplace: bool,
}

/// Marketplaces ichigen speaks to (`csv` = imported by hand).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Marketplace {
    /// 楽天市場 (RMS).
    Rakuten,
    /// Yahoo!ショッピング.
    Yahoo,
    /// Amazon.co.jp (SP-API).
    Amazon,
    /// au PAY マーケット.
    Aupay,
    /// Qoo10.
    Qoo10,
    /// Orders imported from a file.
    Csv,
}

impl Marketplace {
    /// Every marketplace, in display order.
    pub const ALL: [Marketplace; 6] = [
        Marketplace::Rakuten,
        Marketplace::Yahoo,
        Marketplace::Amazon,
        Marketplace::Aupay,
        Marketplace::Qoo10,
        Marketplace::Csv,
    ];

    /// The wire name (`rakuten`, `yahoo`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Marketplace::Rakuten => "rakuten",
            Marketplace::Yahoo => "yahoo",
            Marketplace::Amazon => "amazon",
            Marketplace::Aupay => "aupay",
            Marketplace::Qoo10 => "qoo10",
            Marketplace::Csv => "csv",
        }
    }
}

impl std::fmt::Display for Marketplace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Marketplace {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Marketplace::ALL
            .into_iter()
            .find(|m| m.as_str() == s)
            .ok_or_else(|| format!("unknown marketplace {s:?} (rakuten, yahoo, amazon, aupay, qoo10, csv)"))
    }
}

/// Unified order status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    /// Ordered, not yet handled.
    New,
    /// Waiting for the buyer to pay (bank transfer, convenience store, ...).
    AwaitingPayment,
    /// Paid or payable on delivery; can be shipped.
    ReadyToShip,
    /// Handed to the carrier.
    Shipped,
    /// Cancelled.
    Cancelled,
    /// Held by ichigen or staff until a person releases it.
    OnHold,
}

impl OrderStatus {
    /// Every status an order can be stored under.
    pub const ALL: [OrderStatus; 6] = [
        OrderStatus::New,
        OrderStatus::AwaitingPayment,
        OrderStatus::ReadyToShip,
        OrderStatus::OnHold,
        OrderStatus::Shipped,
        OrderStatus::Cancelled,
    ];

    /// The states of an order that still waits to be shipped ([`OrderStatus::is_open`]).
    pub const OPEN: [OrderStatus; 4] =
        [OrderStatus::New, OrderStatus::AwaitingPayment, OrderStatus::ReadyToShip, OrderStatus::OnHold];

    /// Whether the order still waits to be shipped (candidate for 同梱).
    pub fn is_open(self) -> bool {
        matches!(self, OrderStatus::New | OrderStatus::AwaitingPayment | OrderStatus::ReadyToShip | OrderStatus::OnHold)
    }
}

/// Who ordered.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Buyer {
    /// Full name as given (family name first for Japanese buyers).
    #[serde(default)]
    pub name: String,
    /// Reading in katakana, when the marketplace gives one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name_kana: Option<String>,
    /// Mail address; marketplaces often give a masked relay address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Phone number as given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
}

/// A postal address with its recipient.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Address {
    /// ISO 3166 alpha-2; `JP` for domestic.
    pub country: String,
    /// Seven digits without hyphen for JP; as given elsewhere.
    pub postal_code: String,
    /// 都道府県.
    #[serde(default)]
    pub prefecture: String,
    /// 市区町村 (郡 included when given).
    #[serde(default)]
    pub city: String,
    /// 町域 and 番地.
    #[serde(default)]
    pub address1: String,
    /// Building, room, 様方.
    #[serde(default)]
    pub address2: String,
    /// Recipient name.
    #[serde(default)]
    pub name: String,
    /// Recipient phone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
}

impl Address {
    /// Whether this is a domestic (Japanese) address.
    pub fn is_domestic(&self) -> bool {
        self.country.eq_ignore_ascii_case("JP")
    }
}

/// One destination of a multi-destination order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Shipment {
    /// The marketplace's id of this destination (楽天 basketId), as text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipment_id: Option<String>,
    /// Where this parcel goes.
    pub ship_to: Address,
    /// What goes there.
    #[serde(default)]
    pub items: Vec<Item>,
}

/// One line item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Item {
    /// Shop's SKU (管理番号 + variation code where the marketplace has one).
    pub sku: String,
    /// Item name as shown to the buyer.
    pub name: String,
    /// Units, at least 1.
    pub quantity: u32,
    /// Price of one unit, integer yen, tax included.
    pub unit_price: i64,
    /// Chosen options (colour, size, 熨斗 ...), in the order the marketplace gives them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<ItemOption>,
}

/// One chosen option of an item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ItemOption {
    /// Option name (may be empty when the marketplace gives only free text).
    #[serde(default)]
    pub name: String,
    /// Chosen value.
    pub value: String,
}

/// Unified payment method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentMethod {
    /// Credit card.
    CreditCard,
    /// 代金引換 (cash on delivery).
    Cod,
    /// 銀行振込.
    BankTransfer,
    /// コンビニ払い.
    ConvenienceStore,
    /// 後払い.
    Deferred,
    /// The marketplace's own wallet (楽天ペイ, PayPay, Amazon Pay ...).
    MarketplacePay,
    /// Anything else.
    Other,
}

/// Delivery request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Delivery {
    /// Unified method.
    pub method: DeliveryMethod,
    /// The marketplace's own method name or code, verbatim.
    #[serde(default)]
    pub source_method: String,
    /// Requested delivery date (お届け日指定).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requested_date: Option<NaiveDate>,
    /// Requested time slot (時間帯指定), e.g. `14-16` or `午前中`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requested_time_slot: Option<String>,
}

/// Unified delivery method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryMethod {
    /// 宅配便.
    Standard,
    /// メール便 (ネコポス, ゆうパケット, クリックポスト ...).
    MailBin,
    /// クール便 (chilled).
    Cool,
    /// クール便 (frozen).
    Frozen,
    /// Pick-up at a store or locker.
    Pickup,
    /// Anything else.
    Other,
}

/// Money of the whole order, integer yen. `total = goods + shipping + fee - discount`, and
/// `coupon + points <= discount` (the rest of `discount` is the marketplace's other discounts).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Totals {
    /// Items, tax included.
    pub goods: i64,
    /// Shipping charged to the buyer.
    pub shipping: i64,
    /// Fees charged to the buyer (COD fee, gift wrapping ...).
    pub fee: i64,
    /// Coupons, points and every other discount taken off.
    pub discount: i64,
    /// The part of `discount` that is coupons (クーポン), of any funder.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub coupon: i64,
    /// The part of `discount` that is points the buyer spent (ポイント利用).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub points: i64,
    /// What the buyer pays.
    pub total: i64,
}

impl Totals {
    /// The part of `discount` that is neither coupons nor points (sale discounts, gift cards ...).
    pub fn other_discount(&self) -> i64 {
        self.discount - self.coupon - self.points
    }
}

fn is_zero(v: &i64) -> bool {
    *v == 0
}

/// One shipped parcel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tracking {
    /// Who carries it.
    pub carrier: Carrier,
    /// Tracking number as the carrier prints it (digits, maybe hyphens).
    pub number: String,
    /// When it was handed over.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipped_at: Option<DateTime<FixedOffset>>,
    /// The destination it went to: the [`Shipment::shipment_id`] (楽天 basketId) of a
    /// multi-destination order; `None` for an order with one destination.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipment_id: Option<String>,
}

/// Carriers ichigen knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Carrier {
    /// ヤマト運輸.
    Yamato,
    /// 佐川急便.
    Sagawa,
    /// 日本郵便.
    Japanpost,
    /// Anything else.
    Other,
}

impl Order {
    /// Every destination of the order: `shipments[].ship_to`, or `ship_to` when there is one.
    pub fn destinations(&self) -> impl Iterator<Item = &Address> {
        let single = self.shipments.is_empty().then_some(&self.ship_to);
        single.into_iter().chain(self.shipments.iter().map(|s| &s.ship_to))
    }
}
