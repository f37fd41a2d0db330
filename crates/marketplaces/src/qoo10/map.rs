//! Wire rows → canonical [`Order`]: one order per `packNo` (the checkout), one item per row.
//!
//! Money (all integer yen, never negative; `totals.total == goods + shipping + fee - discount`):
//! - `unit_price` = `orderPrice` (tax included; unverified whether it includes the option price);
//!   `goods` = Σ `orderPrice` × `orderQty`.
//! - `shipping` = the largest `ShippingRate` of the pack's rows (unverified: whether the pack's fee
//!   is repeated on every row or only on one; taking the largest never counts it twice).
//! - `fee` = 0: Qoo10 reports no buyer-paid fee (`cod_price` is the amount to collect, not a fee).
//! - `discount` (fact sheet §6, "Amounts"): mall-funded + shop-funded = Σ over rows of `discount`
//!   and `SellerDiscount`, plus `Cart_Discount_Qoo10` and `Cart_Discount_Seller` once per pack
//!   (cart-level amounts: the largest value any row of the pack shows). In live data the last
//!   three were 0 on every row, so how they combine is unverified: an open order where any of them
//!   is non-zero is put `on_hold` ([`HOLD_ON_SHOP_OR_CART_DISCOUNT`]) for a person to check the
//!   amount before it ships. `coupon` = the two cart discounts (cart-level coupons); `points` = 0.
//! - `total` is computed from the above, so the invariant holds by construction; a pack whose
//!   discounts exceed goods + shipping is malformed. `total`/`SettlePrice` of the API are not used
//!   (`SettlePrice` is the seller's settlement, not what the buyer pays).

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, TimeZone};
use ichigen_core::{
    Address, Buyer, Carrier, Delivery, Item, ItemOption, JST, Marketplace, Order, OrderStatus, PaymentMethod,
    SCHEMA_VERSION, Shipment, Totals, Tracking,
};

use super::codes;
use super::wire::{Num, ShippingRow};
use crate::NormalizeError;

/// Longest order / pack number we accept (digits); real ones have 9–10.
const MAX_ID_DIGITS: usize = 20;
/// Times before this year are placeholders for "not yet", not real times.
// unverified: whether Qoo10 sends placeholder dates (e.g. 1900-01-01) or empty strings for unset times.
const FIRST_REAL_YEAR: i32 = 2000;

/// Whether an open order with a non-zero `SellerDiscount`, `Cart_Discount_Seller` or
/// `Cart_Discount_Qoo10` is held (`on_hold`) so a person checks the amount the buyer paid.
// unverified: whether `SellerDiscount` is already inside `discount`, and whether a cart discount
// repeats on every row of a pack or is split over them (fact sheet §6: all were 0 in live data).
pub const HOLD_ON_SHOP_OR_CART_DISCOUNT: bool = true;

/// Builds `Malformed` errors for one operation; the detail names a field, never its value.
struct Ctx<'a> {
    operation: &'a str,
}

impl Ctx<'_> {
    fn bad(&self, detail: impl Into<String>) -> NormalizeError {
        NormalizeError::Malformed {
            marketplace: Marketplace::Qoo10,
            operation: self.operation.to_owned(),
            detail: detail.into(),
        }
    }
}

/// A non-empty field value, as given.
fn given(s: &Option<String>) -> Option<&str> {
    s.as_deref().filter(|s| !s.trim().is_empty())
}

/// A non-empty field value, trimmed.
fn trimmed(s: &Option<String>) -> Option<&str> {
    given(s).map(str::trim)
}

/// The key identifying a pack: `packNo`, or `orderNo` for a row without one (a single-line order).
pub fn pack_key(row: &ShippingRow) -> Option<&str> {
    row.pack_no.as_ref().or(row.order_no.as_ref()).map(|n| n.0.as_str())
}

/// An order or pack number: digits only, at most [`MAX_ID_DIGITS`].
fn id(ctx: &Ctx<'_>, n: &Option<Num>, field: &str) -> Result<String, NormalizeError> {
    let n = n.as_ref().ok_or_else(|| ctx.bad(format!("{field} is missing")))?;
    let s = n.0.as_str();
    if s.is_empty() || s.len() > MAX_ID_DIGITS || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ctx.bad(format!("{field} is not a number of at most {MAX_ID_DIGITS} digits")));
    }
    Ok(s.to_owned())
}

/// Whole yen from a decimal text (`1980`, `1980.0000`); absent is 0.
fn yen(ctx: &Ctx<'_>, n: &Option<Num>, field: &str) -> Result<i64, NormalizeError> {
    let Some(n) = n else { return Ok(0) };
    let s = n.0.as_str();
    if s.starts_with('-') {
        return Err(ctx.bad(format!("{field} is negative")));
    }
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    if int.is_empty() || !int.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b == b'0') {
        return Err(ctx.bad(format!("{field} is not a whole yen amount")));
    }
    // 15 digits keep every later sum far from i64 overflow; validate() caps real amounts lower.
    if int.len() > 15 {
        return Err(ctx.bad(format!("{field} is too large")));
    }
    int.parse().map_err(|_| ctx.bad(format!("{field} is not a whole yen amount")))
}

/// A quantity: a whole number from 1 to `u32::MAX`.
fn quantity(ctx: &Ctx<'_>, n: &Option<Num>) -> Result<u32, NormalizeError> {
    let n = n.as_ref().ok_or_else(|| ctx.bad("orderQty is missing"))?;
    let s = n.0.as_str();
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    if !frac.bytes().all(|b| b == b'0') {
        return Err(ctx.bad("orderQty is not a whole number"));
    }
    match int.parse::<u32>() {
        Ok(q) if q > 0 => Ok(q),
        _ => Err(ctx.bad("orderQty is not a positive whole number")),
    }
}

/// A Qoo10 time (`YYYY-MM-DD HH:MM:SS`, JST) as a JST `DateTime`; empty or placeholder is `None`.
/// A time that carries its own offset (RFC 3339) is converted to JST.
fn time(ctx: &Ctx<'_>, s: &Option<String>, field: &str) -> Result<Option<DateTime<FixedOffset>>, NormalizeError> {
    let Some(s) = trimmed(s) else { return Ok(None) };
    let jst = JST;
    let parsed = if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        Some(t.with_timezone(&jst))
    } else {
        ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f", "%Y/%m/%d %H:%M:%S%.f", "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M"]
            .iter()
            .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
            .or_else(|| date(s).and_then(|d| d.and_hms_opt(0, 0, 0)))
            .and_then(|t| jst.from_local_datetime(&t).single())
    };
    let t = parsed.ok_or_else(|| ctx.bad(format!("{field} is not a date and time")))?;
    Ok((chrono::Datelike::year(&t) >= FIRST_REAL_YEAR).then_some(t))
}

/// A date in `YYYY-MM-DD`, `YYYY/MM/DD` or `YYYYMMDD`.
fn date(s: &str) -> Option<NaiveDate> {
    ["%Y-%m-%d", "%Y/%m/%d", "%Y%m%d"].iter().find_map(|f| NaiveDate::parse_from_str(s, f).ok())
}

/// `hopeDate` → (requested date, time slot). A time slot, if any, follows the date after a space.
fn hope(ctx: &Ctx<'_>, s: Option<&str>) -> Result<(Option<NaiveDate>, Option<String>), NormalizeError> {
    let Some(s) = s.map(str::trim).filter(|s| !s.is_empty()) else { return Ok((None, None)) };
    let (day, rest) = s.split_once([' ', '　', 'T']).unwrap_or((s, ""));
    let d = date(day).ok_or_else(|| ctx.bad("hopeDate is not a date"))?;
    let d = (chrono::Datelike::year(&d) >= FIRST_REAL_YEAR).then_some(d);
    Ok((d, codes::time_slot(rest).map(str::to_owned)))
}

/// The status a row stands for, and the verbatim source value that decided it.
fn row_status<'r>(ctx: &Ctx<'_>, row: &'r ShippingRow) -> Result<(OrderStatus, &'r str), NormalizeError> {
    if let Some(claim) = given(&row.claim_status) {
        let code = codes::status_code(claim).ok_or_else(|| ctx.bad("claimStatus is not a status code"))?;
        if let Some(st) = codes::claim_status(code) {
            return Ok((st, claim));
        }
    }
    let raw = given(&row.shipping_status).ok_or_else(|| ctx.bad("shippingStatus is missing"))?;
    let st = codes::status_code(raw)
        .and_then(codes::shipping_status)
        .ok_or_else(|| ctx.bad("shippingStatus is not a known status code"))?;
    Ok((st, raw))
}

/// How far from shipped a status is: the pack takes the least advanced status of its open lines.
fn rank(s: OrderStatus) -> u8 {
    match s {
        OrderStatus::OnHold => 0,
        OrderStatus::New => 1,
        OrderStatus::AwaitingPayment => 2,
        OrderStatus::ReadyToShip => 3,
        OrderStatus::Shipped => 4,
        OrderStatus::Cancelled => 5,
    }
}

/// A JP postal code as 7 ASCII digits (hyphens, spaces and full-width digits accepted on input).
fn jp_postal(s: &str) -> Option<String> {
    let digits: String = s
        .chars()
        .filter(|c| !matches!(c, '-' | '－' | '‐' | '−' | 'ー' | ' ' | '　' | '〒'))
        .map(|c| match c {
            '０'..='９' => char::from_u32(u32::from(c) - u32::from('０') + u32::from('0')).unwrap_or(c),
            _ => c,
        })
        .collect();
    (digits.len() == 7 && digits.bytes().all(|b| b.is_ascii_digit())).then_some(digits)
}

/// The destination of one row.
fn ship_to(ctx: &Ctx<'_>, row: &ShippingRow) -> Result<Address, NormalizeError> {
    // Qoo10.jp sells into Japan; a row without a country is domestic.
    let country = trimmed(&row.shipping_country).unwrap_or("JP").to_ascii_uppercase();
    let zip = trimmed(&row.zip_code).ok_or_else(|| ctx.bad("zipCode is missing"))?;
    let name = trimmed(&row.receiver).ok_or_else(|| ctx.bad("receiver is missing"))?.to_owned();
    let phone = trimmed(&row.receiver_mobile).or(trimmed(&row.receiver_tel)).map(str::to_owned);
    let (line1, line2) = match (trimmed(&row.addr1), trimmed(&row.shipping_addr)) {
        (Some(a1), _) => (a1, trimmed(&row.addr2).unwrap_or("")),
        (None, Some(full)) => (full, ""),
        (None, None) => return Err(ctx.bad("Addr1 and shippingAddr are missing")),
    };
    if country == "JP" {
        let postal_code = jp_postal(zip).ok_or_else(|| ctx.bad("zipCode is not a 7-digit JP postal code"))?;
        let (prefecture, city, address1) = ichigen_core::address::split_address(&postal_code, line1);
        Ok(Address { country, postal_code, prefecture, city, address1, address2: line2.to_owned(), name, phone })
    } else {
        Ok(Address {
            country,
            postal_code: zip.to_owned(),
            prefecture: String::new(),
            city: String::new(),
            address1: line1.to_owned(),
            address2: line2.to_owned(),
            name,
            phone,
        })
    }
}

/// The item of one row.
fn item(ctx: &Ctx<'_>, row: &ShippingRow) -> Result<Item, NormalizeError> {
    // SKU: the seller's option code when the buyer chose a variation, else the seller's item code,
    // else Qoo10's item number.
    let sku = trimmed(&row.option_code)
        .or(trimmed(&row.seller_item_code))
        .or(trimmed(&row.item_code))
        .ok_or_else(|| ctx.bad("sellerItemCode is missing"))?
        .to_owned();
    let name = trimmed(&row.item_title).unwrap_or("").to_owned();
    let quantity = quantity(ctx, &row.order_qty)?;
    let price = row.order_price.as_ref().ok_or_else(|| ctx.bad("orderPrice is missing"))?;
    let unit_price = yen(ctx, &Some(price.clone()), "orderPrice")?;
    // unverified: how several options are joined in `option`; the text is kept as one option,
    // split into name and value at the first colon (`色:黒`).
    let options = match trimmed(&row.option) {
        None => Vec::new(),
        Some(o) => match o.split_once([':', '：']) {
            Some((n, v)) => vec![ItemOption { name: n.trim().to_owned(), value: v.trim().to_owned() }],
            None => vec![ItemOption { name: String::new(), value: o.to_owned() }],
        },
    };
    Ok(Item { sku, name, quantity, unit_price, options })
}

/// Maps the rows of one pack (same `packNo`, in API order) to one order. `operation` names the
/// API method in errors.
pub fn map_pack(shop_id: &str, operation: &str, rows: &[ShippingRow]) -> Result<Order, NormalizeError> {
    let ctx = Ctx { operation };
    let first = rows.first().ok_or_else(|| ctx.bad("ResultObject has an empty pack"))?;
    let order_id = match &first.pack_no {
        Some(_) => id(&ctx, &first.pack_no, "packNo")?,
        None => id(&ctx, &first.order_no, "orderNo")?,
    };
    let mut statuses = Vec::with_capacity(rows.len());
    for row in rows {
        id(&ctx, &row.order_no, "orderNo")?;
        statuses.push(row_status(&ctx, row)?);
    }
    // Cancelled lines of a pack that is otherwise alive are left out (nothing to ship for them).
    let all_cancelled = statuses.iter().all(|(s, _)| *s == OrderStatus::Cancelled);
    let active: Vec<&ShippingRow> = rows
        .iter()
        .zip(&statuses)
        .filter(|(_, (s, _))| all_cancelled || *s != OrderStatus::Cancelled)
        .map(|(r, _)| r)
        .collect();
    let (mut status, source_status) = statuses
        .iter()
        .filter(|(s, _)| all_cancelled || *s != OrderStatus::Cancelled)
        .min_by_key(|(s, _)| rank(*s))
        .map(|&(s, raw)| (s, raw.to_owned()))
        .ok_or_else(|| ctx.bad("ResultObject has an empty pack"))?;

    // Times: Qoo10 has no update time, so `source_updated_at` is the latest time it gives
    // (order, payment, shipping, delivery) over every row of the pack.
    let mut ordered_at: Option<DateTime<FixedOffset>> = None;
    let mut updated_at: Option<DateTime<FixedOffset>> = None;
    for row in rows {
        if let Some(t) = time(&ctx, &row.order_date, "orderDate")? {
            ordered_at = Some(ordered_at.map_or(t, |o| o.min(t)));
        }
        for (v, f) in [
            (&row.payment_date, "PaymentDate"),
            (&row.shipping_date, "ShippingDate"),
            (&row.delivered_date, "DeliveredDate"),
        ] {
            if let Some(t) = time(&ctx, v, f)? {
                updated_at = Some(updated_at.map_or(t, |u| u.max(t)));
            }
        }
    }
    let ordered_at = ordered_at.ok_or_else(|| ctx.bad("orderDate is missing"))?;
    let source_updated_at = updated_at.map_or(ordered_at, |u| u.max(ordered_at));

    for row in rows {
        if let Some(c) = trimmed(&row.currency)
            && !c.eq_ignore_ascii_case("JPY")
        {
            return Err(ctx.bad("Currency is not JPY"));
        }
    }

    let buyer = Buyer {
        name: trimmed(&first.buyer).unwrap_or("").to_owned(),
        name_kana: trimmed(&first.buyer_gata).map(str::to_owned),
        email: trimmed(&first.buyer_email).map(str::to_owned),
        phone: trimmed(&first.buyer_mobile).or(trimmed(&first.buyer_tel)).map(str::to_owned),
    };

    // Items and destinations: rows with different recipients/addresses become separate shipments.
    let mut items = Vec::with_capacity(active.len());
    let mut shipments: Vec<Shipment> = Vec::new();
    let (mut goods, mut shipping, mut discount) = (0i64, 0i64, 0i64);
    let (mut cart_seller, mut cart_qoo10, mut seller_discount) = (0i64, 0i64, 0i64);
    let overflow = || ctx.bad("amounts overflow");
    for row in &active {
        let it = item(&ctx, row)?;
        let to = ship_to(&ctx, row)?;
        let line = it.unit_price.checked_mul(i64::from(it.quantity)).ok_or_else(overflow)?;
        goods = goods.checked_add(line).ok_or_else(overflow)?;
        shipping = shipping.max(yen(&ctx, &row.shipping_rate, "ShippingRate")?);
        discount = discount.checked_add(yen(&ctx, &row.discount, "discount")?).ok_or_else(overflow)?;
        let seller = yen(&ctx, &row.seller_discount, "SellerDiscount")?;
        seller_discount = seller_discount.checked_add(seller).ok_or_else(overflow)?;
        cart_seller = cart_seller.max(yen(&ctx, &row.cart_discount_seller, "Cart_Discount_Seller")?);
        cart_qoo10 = cart_qoo10.max(yen(&ctx, &row.cart_discount_qoo10, "Cart_Discount_Qoo10")?);
        // A destination's id is its order lines (`orderNo`, comma-separated): Qoo10 has no id of
        // its own for it, and `SetSendingInfo` registers a number per order line.
        let line = id(&ctx, &row.order_no, "orderNo")?;
        match shipments.iter_mut().find(|s| s.ship_to == to) {
            Some(s) => {
                s.items.push(it.clone());
                if let Some(ids) = s.shipment_id.as_mut() {
                    ids.push(',');
                    ids.push_str(&line);
                }
            }
            None => shipments.push(Shipment { shipment_id: Some(line), ship_to: to, items: vec![it.clone()] }),
        }
        items.push(it);
    }
    let shop_or_cart = seller_discount.checked_add(cart_seller).and_then(|d| d.checked_add(cart_qoo10));
    let shop_or_cart = shop_or_cart.ok_or_else(overflow)?;
    discount = discount.checked_add(shop_or_cart).ok_or_else(overflow)?;
    if HOLD_ON_SHOP_OR_CART_DISCOUNT
        && shop_or_cart > 0
        && matches!(status, OrderStatus::New | OrderStatus::ReadyToShip)
    {
        status = OrderStatus::OnHold;
    }
    let ship_to =
        shipments.first().map(|s| s.ship_to.clone()).ok_or_else(|| ctx.bad("ResultObject has an empty pack"))?;
    if shipments.len() == 1 {
        shipments.clear();
    }
    let total = goods.checked_add(shipping).and_then(|t| t.checked_sub(discount)).ok_or_else(overflow)?;
    if total < 0 {
        return Err(ctx.bad("discount exceeds goods and ShippingRate"));
    }

    let source_payment_method = given(&first.payment_method).unwrap_or("").to_owned();
    let mut payment_method = codes::payment_method(&source_payment_method);
    if payment_method == PaymentMethod::Other && yen(&ctx, &first.cod_price, "cod_price")? > 0 {
        payment_method = PaymentMethod::Cod;
    }

    let source_method = given(&first.shipping_way).unwrap_or("").to_owned();
    let has_voucher = rows.iter().any(|r| trimmed(&r.voucher_code).is_some());
    let (requested_date, requested_time_slot) = hope(&ctx, rows.iter().find_map(|r| trimmed(&r.hope_date)))?;
    let delivery = Delivery {
        method: codes::delivery_method(&source_method, has_voucher),
        source_method,
        requested_date,
        requested_time_slot,
    };

    // Remarks: the buyer's message verbatim; rows of a pack normally repeat it, distinct ones are
    // joined by line breaks.
    let mut remarks = String::new();
    let mut seen: Vec<&str> = Vec::new();
    for row in rows {
        if let Some(m) = given(&row.shipping_msg)
            && !seen.contains(&m)
        {
            if !remarks.is_empty() {
                remarks.push('\n');
            }
            remarks.push_str(m);
            seen.push(m);
        }
    }
    // unverified: whether `Gift` = `Y` means "gift" or "freebie"; gift sender fields mean a gift.
    let gift = rows
        .iter()
        .any(|r| trimmed(&r.gift).is_some_and(|g| g.eq_ignore_ascii_case("Y")) || trimmed(&r.sender_name).is_some());

    let mut tracking: Vec<Tracking> = Vec::new();
    for row in &active {
        if let Some(number) = trimmed(&row.tracking_no) {
            if tracking.iter().any(|t| t.number == number) {
                continue;
            }
            let carrier = trimmed(&row.delivery_company).map_or(Carrier::Other, codes::carrier);
            let shipped_at = time(&ctx, &row.shipping_date, "ShippingDate")?;
            tracking.push(Tracking { carrier, number: number.to_owned(), shipped_at, shipment_id: None });
        }
    }

    let order = Order {
        schema_version: SCHEMA_VERSION,
        shop_id: shop_id.to_owned(),
        marketplace: Marketplace::Qoo10,
        order_id,
        ordered_at,
        source_updated_at,
        status,
        source_status,
        buyer,
        ship_to,
        shipments,
        items,
        payment_method,
        source_payment_method,
        delivery,
        // Cart discounts are coupons (fact sheet §6); Qoo10 reports no points used.
        totals: Totals { goods, shipping, fee: 0, discount, coupon: cart_seller + cart_qoo10, points: 0, total },
        remarks,
        gift,
        tracking,
        // Qoo10 ships nothing itself in the sheet's scope.
        fulfilled_by_marketplace: false,
    };
    order.validate().map_err(|source| NormalizeError::Invalid {
        marketplace: Marketplace::Qoo10,
        order_id: order.order_id.clone(),
        source,
    })?;
    Ok(order)
}
