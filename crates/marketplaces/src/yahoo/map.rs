//! `orderInfo` wire order → canonical [`Order`].
//!
//! Errors name the Yahoo field (`Ship.ShipZipCode`), never its value.

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime};
use ichigen_core::{
    Address, Buyer, Delivery, Item, ItemOption, JST, Marketplace, Order, OrderStatus, SCHEMA_VERSION, Totals, Tracking,
};

use super::{codes, wire};
use crate::NormalizeError;

/// The operation whose bodies hold full orders.
pub const OPERATION: &str = "orderInfo";

/// `SocialGiftType` 1: the recipient enters the address later, so it may be missing.
const SOCIAL_GIFT_ADDRESS_LATER: &str = "1";

/// A `Malformed` error of `operation`, naming a field or a problem (never a value).
pub(crate) fn malformed(operation: &str, detail: impl Into<String>) -> NormalizeError {
    NormalizeError::malformed(Marketplace::Yahoo, operation, detail)
}

fn bad(detail: impl Into<String>) -> NormalizeError {
    malformed(OPERATION, detail)
}

/// Trimmed text of an element; `None` when absent or empty ("no value").
pub(crate) fn text(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

fn required<'a>(v: &'a Option<String>, field: &str) -> Result<&'a str, NormalizeError> {
    text(v).ok_or_else(|| bad(format!("{field} is missing")))
}

/// Non-negative integer yen; absent or empty is 0 (the API omits fields that were not requested or
/// have no value).
fn yen(v: &Option<String>, field: &str) -> Result<i64, NormalizeError> {
    match text(v) {
        None => Ok(0),
        Some(s) => {
            let n: i64 = s.parse().map_err(|_| bad(format!("{field} is not an integer amount of yen")))?;
            if n < 0 {
                return Err(bad(format!("{field} is negative")));
            }
            Ok(n)
        }
    }
}

/// Signed integer yen (`Adjustments` may lower the total).
fn signed_yen(v: &Option<String>, field: &str) -> Result<i64, NormalizeError> {
    text(v).map_or(Ok(0), |s| s.parse().map_err(|_| bad(format!("{field} is not an integer amount of yen"))))
}

fn boolean(v: &Option<String>, field: &str) -> Result<Option<bool>, NormalizeError> {
    match text(v) {
        None => Ok(None),
        Some("true") => Ok(Some(true)),
        Some("false") => Ok(Some(false)),
        Some(_) => Err(bad(format!("{field} is not true or false"))),
    }
}

/// Times without offset accepted besides RFC 3339, read as JST.
// unverified: response times are ISO 8601 with offset (seen only in fixtures); these offset-less
// forms (including the API's request format `YYYYMMDDHHmmss`) are accepted as JST in case.
const JST_TIME_FORMATS: [&str; 3] = ["%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y%m%d%H%M%S"];

/// A response time: ISO 8601 with offset (converted to JST), or one of [`JST_TIME_FORMATS`].
fn time(s: &str, field: &str) -> Result<DateTime<FixedOffset>, NormalizeError> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&JST));
    }
    for fmt in JST_TIME_FORMATS {
        if let Ok(naive) = NaiveDateTime::parse_from_str(s, fmt) {
            return naive.and_local_timezone(JST).single().ok_or_else(|| bad(format!("{field} is not a valid time")));
        }
    }
    Err(bad(format!("{field} is not a date-time")))
}

/// A date: `YYYY-MM-DD` (responses) or `YYYYMMDD` (requests).
fn date(v: &Option<String>, field: &str) -> Result<Option<NaiveDate>, NormalizeError> {
    let Some(s) = text(v) else { return Ok(None) };
    for fmt in ["%Y-%m-%d", "%Y%m%d", "%Y/%m/%d"] {
        if let Ok(d) = NaiveDate::parse_from_str(s, fmt) {
            return Ok(Some(d));
        }
    }
    Err(bad(format!("{field} is not a date")))
}

/// Family name then given name, as Japanese names are written (`試験 花子`).
fn full_name(last: &Option<String>, first: &Option<String>) -> String {
    match (text(last), text(first)) {
        (Some(l), Some(f)) => format!("{l} {f}"),
        (Some(n), None) | (None, Some(n)) => n.to_string(),
        (None, None) => String::new(),
    }
}

/// Characters dropped from a postcode besides its digits.
// unverified: whether ShipZipCode / BillZipCode come with or without hyphen; both are accepted.
const POSTAL_DECORATION: [char; 8] = ['-', '‐', '－', 'ー', '−', '〒', ' ', '　'];

/// Seven ASCII digits from a JP postcode written with or without hyphen, full-width digits or `〒`.
fn postal_code(raw: &str, field: &str) -> Result<String, NormalizeError> {
    let mut out = String::with_capacity(7);
    for c in raw.chars() {
        match c {
            '0'..='9' => out.push(c),
            '０'..='９' => out.extend(char::from_digit(u32::from(c) - u32::from('０'), 10)),
            c if POSTAL_DECORATION.contains(&c) => {}
            _ => return Err(bad(format!("{field} is not a postal code"))),
        }
        if out.len() > 7 {
            break;
        }
    }
    if out.len() != 7 {
        return Err(bad(format!("{field} is not a 7-digit postal code")));
    }
    Ok(out)
}

fn ship_to(ship: &wire::Ship, address_may_be_missing: bool) -> Result<Address, NormalizeError> {
    let postal = match text(&ship.ship_zip_code) {
        Some(z) => postal_code(z, "Ship.ShipZipCode")?,
        None if address_may_be_missing => String::new(),
        None => return Err(bad("Ship.ShipZipCode is missing")),
    };
    Ok(Address {
        // Yahoo!ショッピング ships within Japan only.
        country: "JP".to_string(),
        postal_code: postal,
        prefecture: text(&ship.ship_prefecture).unwrap_or_default().to_string(),
        city: text(&ship.ship_city).unwrap_or_default().to_string(),
        address1: text(&ship.ship_address1).unwrap_or_default().to_string(),
        address2: text(&ship.ship_address2).unwrap_or_default().to_string(),
        name: full_name(&ship.ship_last_name, &ship.ship_first_name),
        phone: text(&ship.ship_phone_number).map(str::to_string),
    })
}

fn buyer(pay: &wire::Pay) -> Buyer {
    let kana = full_name(&pay.bill_last_name_kana, &pay.bill_first_name_kana);
    Buyer {
        name: full_name(&pay.bill_last_name, &pay.bill_first_name),
        name_kana: (!kana.is_empty()).then_some(kana),
        email: text(&pay.bill_mail_address).map(str::to_string),
        phone: text(&pay.bill_phone_number).map(str::to_string),
    }
}

/// `SubCodeOption` text `name:value#name:value`.
// unverified: the separators of SubCodeOption; text without `:` becomes one option without a name.
const SUB_CODE_OPTION_SEPARATOR: char = '#';
const SUB_CODE_OPTION_NAME_VALUE: char = ':';

fn item(i: usize, it: &wire::Item) -> Result<Item, NormalizeError> {
    let p = format!("Item[{i}]");
    // The sub-code is the store's SKU of the chosen variation; items without variations have only ItemId.
    let sku = match text(&it.sub_code) {
        Some(s) => s,
        None => required(&it.item_id, &format!("{p}.ItemId"))?,
    };
    let quantity: u32 = required(&it.quantity, &format!("{p}.Quantity"))?
        .parse()
        .map_err(|_| bad(format!("{p}.Quantity is not a count")))?;
    if quantity == 0 {
        return Err(bad(format!("{p}.Quantity is zero")));
    }
    if text(&it.unit_price).is_none() {
        return Err(bad(format!("{p}.UnitPrice is missing")));
    }
    // UnitPrice is tax included (NonTaxUnitPrice is the other one).
    let unit_price = yen(&it.unit_price, &format!("{p}.UnitPrice"))?;
    let mut options = Vec::new();
    for o in it.item_option.iter().chain(&it.inscription) {
        let name = text(&o.name).unwrap_or_default();
        let value = text(&o.value).unwrap_or_default();
        if !name.is_empty() || !value.is_empty() {
            options.push(ItemOption { name: name.to_string(), value: value.to_string() });
        }
    }
    if options.is_empty() {
        if let Some(sub) = text(&it.sub_code_option) {
            for part in sub.split(SUB_CODE_OPTION_SEPARATOR).map(str::trim).filter(|s| !s.is_empty()) {
                let (name, value) = part.split_once(SUB_CODE_OPTION_NAME_VALUE).unwrap_or(("", part));
                options.push(ItemOption { name: name.trim().to_string(), value: value.trim().to_string() });
            }
        }
    }
    Ok(Item {
        sku: sku.to_string(),
        name: text(&it.title).unwrap_or_default().to_string(),
        quantity,
        unit_price,
        options,
    })
}

fn add(a: i64, b: i64, what: &str) -> Result<i64, NormalizeError> {
    a.checked_add(b).ok_or_else(|| bad(format!("{what} is too large")))
}

/// Totals, integer yen, such that `total == goods + shipping + fee - discount`:
/// - goods = Σ `Item.UnitPrice` × `Item.Quantity` (tax included);
/// - shipping = `Detail.ShipCharge`;
/// - fee = `Detail.PayCharge` (COD fee ...) + `Detail.GiftWrapCharge` + a positive `Detail.Adjustments`;
/// - discount = `Detail.Discount` + `Detail.UsePoint` + `Detail.GiftCardDiscount` +
///   `Detail.TotalMallCouponDiscount` + a negative `Detail.Adjustments` (as a positive amount);
///   of it, coupon = `Detail.TotalMallCouponDiscount` and points = `Detail.UsePoint`;
/// - total = goods + shipping + fee - discount: what the buyer pays after points, coupons and gift cards.
///
/// `Detail.TotalPrice` / `SettleAmount` are not used: whether they are before or after points is
/// unverified, so the total is computed from its parts.
// unverified: that `Detail.Discount` already contains the store coupons (`TotalCouponDiscount`,
// `ShippingCouponDiscount`, per-line `CouponDiscount`), so those are not subtracted again; and that
// `UnitPrice` already contains the `ItemOption.Price` surcharges.
fn totals(items: &[Item], d: &wire::Detail) -> Result<Totals, NormalizeError> {
    let mut goods: i64 = 0;
    for it in items {
        let line = it
            .unit_price
            .checked_mul(i64::from(it.quantity))
            .ok_or_else(|| bad("Item.UnitPrice × Item.Quantity is too large"))?;
        goods = add(goods, line, "the sum of the items")?;
    }
    let shipping = yen(&d.ship_charge, "Detail.ShipCharge")?;
    let adjustments = signed_yen(&d.adjustments, "Detail.Adjustments")?;
    let mut fee =
        add(yen(&d.pay_charge, "Detail.PayCharge")?, yen(&d.gift_wrap_charge, "Detail.GiftWrapCharge")?, "fee")?;
    let mut discount = 0i64;
    // Store coupons may be inside `Detail.Discount` (unverified, above): only the mall coupon is
    // known to be a coupon.
    let coupon = yen(&d.total_mall_coupon_discount, "Detail.TotalMallCouponDiscount")?;
    let points = yen(&d.use_point, "Detail.UsePoint")?;
    for (v, field) in [
        (&d.discount, "Detail.Discount"),
        (&d.use_point, "Detail.UsePoint"),
        (&d.gift_card_discount, "Detail.GiftCardDiscount"),
        (&d.total_mall_coupon_discount, "Detail.TotalMallCouponDiscount"),
    ] {
        discount = add(discount, yen(v, field)?, "discount")?;
    }
    if adjustments >= 0 {
        fee = add(fee, adjustments, "fee")?;
    } else {
        let off = adjustments.checked_neg().ok_or_else(|| bad("Detail.Adjustments is too large"))?;
        discount = add(discount, off, "discount")?;
    }
    let total = add(add(goods, shipping, "total")?, fee, "total")?
        .checked_sub(discount)
        .ok_or_else(|| bad("total is too large"))?;
    if total < 0 {
        return Err(bad("Detail discounts exceed the items, shipping and fees"));
    }
    Ok(Totals { goods, shipping, fee, discount, coupon, points, total })
}

/// Maps one `orderInfo` `<OrderInfo>` to a validated canonical order of `shop_id`.
pub fn map_order(shop_id: &str, info: &wire::OrderInfo) -> Result<Order, NormalizeError> {
    let order_id = required(&info.order_id, "OrderInfo.OrderId")?;
    let ordered_at = time(required(&info.order_time, "OrderInfo.OrderTime")?, "OrderInfo.OrderTime")?;
    // LastUpdateTime is the change time; when it was not requested, OrderTime is the latest time the
    // order gives.
    let source_updated_at = match text(&info.last_update_time) {
        Some(t) => time(t, "OrderInfo.LastUpdateTime")?,
        None => ordered_at,
    };
    let source_status = required(&info.order_status, "OrderInfo.OrderStatus")?;
    let pay = info.pay.as_ref().ok_or_else(|| bad("OrderInfo.Pay is missing"))?;
    let ship = info.ship.as_ref().ok_or_else(|| bad("OrderInfo.Ship is missing"))?;
    let detail = info.detail.as_ref().ok_or_else(|| bad("OrderInfo.Detail is missing"))?;
    if info.item.is_empty() {
        return Err(bad("OrderInfo.Item is missing"));
    }

    let ship_status = text(&ship.ship_status);
    if ship_status.is_some_and(|s| !matches!(s, "0" | "1" | "2" | "3" | "4")) {
        return Err(bad("Ship.ShipStatus is not a known code"));
    }
    let is_seen = boolean(&info.is_seen, "OrderInfo.IsSeen")?;
    let status = codes::order_status(source_status, ship_status, is_seen)
        .ok_or_else(|| bad("OrderInfo.OrderStatus is not a known code"))?;

    let source_payment_method = required(&pay.pay_method, "Pay.PayMethod")?;
    let payment_method =
        codes::payment_method(source_payment_method).unwrap_or_else(|| codes::payment_from_kind(text(&pay.pay_kind)));

    let social_gift = text(&info.social_gift_type);
    let ship_to = ship_to(ship, social_gift == Some(SOCIAL_GIFT_ADDRESS_LATER))?;

    let items = info.item.iter().enumerate().map(|(i, it)| item(i, it)).collect::<Result<Vec<_>, _>>()?;
    let totals = totals(&items, detail)?;

    let delivery = Delivery {
        method: codes::delivery_method(text(&ship.ship_method_name), text(&ship.receive_shop_code).is_some()),
        // The store-defined slot code (postage1 …), which the write-back uses; its name is the store's label.
        source_method: text(&ship.ship_method).unwrap_or_default().to_string(),
        requested_date: date(&ship.ship_request_date, "Ship.ShipRequestDate")?,
        requested_time_slot: ship.ship_request_time.as_deref().and_then(codes::time_slot),
    };

    let gift = boolean(&ship.need_gift_wrap, "Ship.NeedGiftWrap")? == Some(true)
        || matches!(social_gift, Some("1" | "2"))
        || boolean(&info.is_line_gift_order, "OrderInfo.IsLineGiftOrder")? == Some(true);

    let mut tracking = Vec::new();
    if status == OrderStatus::Shipped || codes::is_shipped(ship_status) {
        let carrier = codes::carrier(text(&ship.ship_company_code));
        // ShipDate is a date only: the parcel is taken as handed over at 00:00 JST that day.
        let shipped_at = date(&ship.ship_date, "Ship.ShipDate")?
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .and_then(|t| t.and_local_timezone(JST).single());
        for n in [&ship.ship_invoice_number1, &ship.ship_invoice_number2] {
            if let Some(number) = text(n) {
                tracking.push(Tracking { carrier, number: number.to_string(), shipped_at, shipment_id: None });
            }
        }
    }

    let order = Order {
        schema_version: SCHEMA_VERSION,
        shop_id: shop_id.to_string(),
        marketplace: Marketplace::Yahoo,
        order_id: order_id.to_string(),
        ordered_at,
        source_updated_at,
        status,
        source_status: source_status.to_string(),
        buyer: buyer(pay),
        ship_to,
        // An orderInfo order has one <Ship>: a multi-destination purchase (IsMultiShip) arrives as one
        // order per destination, linked by MultiShipId, so `shipments` stays empty.
        shipments: Vec::new(),
        items,
        payment_method,
        source_payment_method: source_payment_method.to_string(),
        delivery,
        totals,
        // ストアへの要望, verbatim (line breaks kept).
        remarks: info.buyer_comments.clone().unwrap_or_default(),
        gift,
        tracking,
        // The store ships every Yahoo!ショッピング order itself.
        fulfilled_by_marketplace: false,
    };
    order.validate().map_err(|source| NormalizeError::Invalid {
        marketplace: Marketplace::Yahoo,
        order_id: order.order_id.clone(),
        source,
    })?;
    Ok(order)
}
