//! Wire → canonical Order for one `<orderInfo>`.

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime};
use ichigen_core::{
    Address, Buyer, Delivery, Item, ItemOption, JST, Marketplace, Order, SCHEMA_VERSION, Totals, Tracking,
};

use super::codes;
use super::wire::{Detail, OrderInfo};
use crate::NormalizeError;

/// The operation whose bodies this module reads (`searchTradeInfoProc` returns the same shape).
pub const OPERATION: &str = "searchTradeInfoListProc";

/// A `Malformed` error of this operation; `detail` names the field, never its value.
pub(crate) fn malformed(detail: impl Into<String>) -> NormalizeError {
    NormalizeError::malformed(Marketplace::Aupay, OPERATION, detail)
}

/// Text of an optional element, `None` when absent or blank.
fn opt(v: &Option<String>) -> Option<&str> {
    v.as_deref().filter(|s| !s.trim().is_empty())
}

/// Text of an optional element, `""` when absent.
fn text(v: &Option<String>) -> &str {
    v.as_deref().unwrap_or_default()
}

/// Trimmed owned text, `None` when absent or blank.
fn owned(v: &Option<String>) -> Option<String> {
    opt(v).map(|s| s.trim().to_owned())
}

/// Non-negative integer yen, `None` when absent or blank.
fn yen(field: &str, v: &Option<String>) -> Result<Option<i64>, NormalizeError> {
    let Some(s) = opt(v) else { return Ok(None) };
    let n: i64 = s.trim().parse().map_err(|_| malformed(format!("{field} is not an integer")))?;
    if n < 0 {
        return Err(malformed(format!("{field} is negative")));
    }
    Ok(Some(n))
}

/// `YYYY/MM/DD HH:MM` (seconds and `-` separators tolerated) in JST.
fn datetime(field: &str, s: &str) -> Result<DateTime<FixedOffset>, NormalizeError> {
    let s = s.trim();
    let naive = ["%Y/%m/%d %H:%M", "%Y/%m/%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
        .or_else(|| date(s).and_then(|d| d.and_hms_opt(0, 0, 0)))
        .ok_or_else(|| malformed(format!("{field} is not a date and time")))?;
    naive.and_local_timezone(JST).single().ok_or_else(|| malformed(format!("{field} is not a date and time")))
}

/// `orderDate` of an order as JST, when it reads (for telling windows apart; mapping reports errors).
pub(crate) fn order_time(o: &OrderInfo) -> Option<DateTime<FixedOffset>> {
    opt(&o.order_date).and_then(|s| datetime("orderInfo.orderDate", s).ok())
}

/// `YYYY/MM/DD` (or `YYYY-MM-DD`).
fn date(s: &str) -> Option<NaiveDate> {
    let s = s.trim();
    NaiveDate::parse_from_str(s, "%Y/%m/%d").or_else(|_| NaiveDate::parse_from_str(s, "%Y-%m-%d")).ok()
}

/// Maps one `<orderInfo>` to a canonical Order (not yet validated).
///
/// Amounts (integer yen; the API's own totals are the anchor so the identity always holds):
/// - `goods` = `totalSalePrice` (or the sum of the lines' `totalItemPrice` / `itemPrice × unit`);
/// - `shipping` = `postagePrice`;
/// - `fee` = `totalPrice − goods − shipping`, i.e. the payment fee (`chargePrice`), option and
///   gift-wrapping fees; without `totalPrice`, their sum;
/// - `discount` = `totalPrice − requestPrice` (coupons and points); without `requestPrice`,
///   `couponTotalPrice + usePoint + useAuPointPrice`; of it, `coupon` = `couponTotalPrice` and
///   `points` = `usePoint + useAuPointPrice` (capped at the discount);
/// - `total` = `requestPrice`, what the buyer is billed.
pub fn map_order(shop_id: &str, o: &OrderInfo) -> Result<Order, NormalizeError> {
    let order_id = opt(&o.order_id).map(str::trim).ok_or_else(|| malformed("orderInfo.orderId is missing"))?;
    if order_id.len() > 20 || !order_id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(malformed("orderInfo.orderId is not numeric"));
    }
    let ordered_at = datetime(
        "orderInfo.orderDate",
        opt(&o.order_date).ok_or_else(|| malformed("orderInfo.orderDate is missing"))?,
    )?;
    let source_status = opt(&o.order_status).ok_or_else(|| malformed("orderInfo.orderStatus is missing"))?;
    let status = codes::status(source_status.trim(), text(&o.ship_status).trim(), text(&o.cancel_status).trim());

    // The API has no "last updated" time: use the latest time it gives (order, contact mail,
    // registered shipping date). A status change alone does not move it.
    let mut source_updated_at = ordered_at;
    // contactDate's format is not documented: an unreadable one is ignored, not an error.
    if let Some(t) = opt(&o.contact_date).and_then(|s| datetime("orderInfo.contactDate", s).ok()) {
        source_updated_at = source_updated_at.max(t);
    }
    let shipped_at = match opt(&o.shipping_date) {
        Some(s) => Some(datetime("orderInfo.shippingDate", s)?),
        None => None,
    };
    if let Some(t) = shipped_at {
        source_updated_at = source_updated_at.max(t);
    }

    let buyer = Buyer {
        name: text(&o.orderer_name).trim().to_owned(),
        name_kana: owned(&o.orderer_kana),
        email: owned(&o.mail_address),
        phone: owned(&o.orderer_phone_number1).or_else(|| owned(&o.orderer_phone_number2)),
    };
    let ship_to = ship_to(o)?;

    if o.detail.is_empty() {
        return Err(malformed("orderInfo.detail is missing"));
    }
    let items = o.detail.iter().enumerate().map(|(i, d)| item(i, d)).collect::<Result<Vec<_>, _>>()?;
    let gift = o.detail.iter().any(|d| {
        [&d.gift_message, &d.gift_wrapping_type, &d.noshi_presenter_name1, &d.noshi_presenter_name2]
            .into_iter()
            .any(|v| opt(v).is_some())
    }) || yen("orderInfo.totalGiftWrappingPrice", &o.total_gift_wrapping_price)?.unwrap_or(0) > 0;

    let source_payment_method = text(&o.settlement_name).trim().to_owned();
    let source_method =
        opt(&o.delivery_name).or_else(|| opt(&o.delivery_method_id)).unwrap_or_default().trim().to_owned();
    let delivery = Delivery {
        method: codes::delivery(&source_method),
        source_method,
        requested_date: None,
        requested_time_slot: None,
    };

    let tracking = match opt(&o.shipping_number) {
        Some(n) => vec![Tracking {
            carrier: codes::carrier(text(&o.shipping_carrier)),
            number: n.trim().to_owned(),
            shipped_at,
            shipment_id: None,
        }],
        None => Vec::new(),
    };

    Ok(Order {
        schema_version: SCHEMA_VERSION,
        shop_id: shop_id.to_owned(),
        marketplace: Marketplace::Aupay,
        order_id: order_id.to_owned(),
        ordered_at,
        source_updated_at,
        status,
        source_status: source_status.to_owned(),
        buyer,
        ship_to,
        shipments: Vec::new(),
        payment_method: codes::payment(&source_payment_method),
        source_payment_method,
        delivery,
        totals: totals(o)?,
        remarks: text(&o.user_comment).to_owned(),
        gift,
        tracking,
        fulfilled_by_marketplace: false,
        items,
    })
}

/// The destination: `sender*` (送付先). When the response has no `senderAddress` the orderer's
/// address is used (assumption: same person); with neither, the order is malformed.
fn ship_to(o: &OrderInfo) -> Result<Address, NormalizeError> {
    let (zip_field, zip, address, name, phone) = if opt(&o.sender_address).is_some() {
        (
            "orderInfo.senderZipCode",
            &o.sender_zip_code,
            text(&o.sender_address),
            &o.sender_name,
            owned(&o.sender_phone_number1).or_else(|| owned(&o.sender_phone_number2)),
        )
    } else if opt(&o.orderer_address).is_some() {
        (
            "orderInfo.ordererZipCode",
            &o.orderer_zip_code,
            text(&o.orderer_address),
            &o.orderer_name,
            owned(&o.orderer_phone_number1).or_else(|| owned(&o.orderer_phone_number2)),
        )
    } else {
        return Err(malformed("orderInfo.senderAddress is missing"));
    };
    let zip = opt(zip).ok_or_else(|| malformed(format!("{zip_field} is missing")))?;
    let postal_code = ichigen_core::text::postal_code_key(zip)
        .ok_or_else(|| malformed(format!("{zip_field} is not a 7-digit postal code")))?;
    let (prefecture, city, address1) = ichigen_core::address::split_address(&postal_code, address.trim());
    Ok(Address {
        country: "JP".into(),
        postal_code,
        prefecture,
        city,
        address1,
        address2: String::new(),
        name: text(name).trim().to_owned(),
        phone,
    })
}

/// One `<detail>` line.
fn item(i: usize, d: &Detail) -> Result<Item, NormalizeError> {
    let f = |name: &str| format!("detail[{i}].{name}");
    // The variant's management ID is the SKU when given, else the shop's item code.
    let sku = opt(&d.item_management_id)
        .or_else(|| opt(&d.item_code))
        .ok_or_else(|| malformed(format!("{} is missing", f("itemCode"))))?
        .trim()
        .to_owned();
    let unit = opt(&d.unit).ok_or_else(|| malformed(format!("{} is missing", f("unit"))))?;
    let quantity: u32 = unit.trim().parse().map_err(|_| malformed(format!("{} is not a count", f("unit"))))?;
    // itemPrice: unit price after the line discount, tax included (prices shown to consumers).
    let unit_price =
        yen(&f("itemPrice"), &d.item_price)?.ok_or_else(|| malformed(format!("{} is missing", f("itemPrice"))))?;
    let mut options = Vec::new();
    for line in text(&d.item_option).lines() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let (name, value) = match line.split_once(['=', '＝']) {
            Some((n, v)) => (n.trim(), v.trim()),
            None => ("", line),
        };
        options.push(ItemOption { name: name.to_owned(), value: value.to_owned() });
    }
    // Gift details have no field of their own in the Order: they travel as options.
    for (name, v) in [
        ("ラッピング", &d.gift_wrapping_type),
        ("熨斗名入れ1", &d.noshi_presenter_name1),
        ("熨斗名入れ2", &d.noshi_presenter_name2),
        ("熨斗名入れ3", &d.noshi_presenter_name3),
        ("ギフトメッセージ", &d.gift_message),
    ] {
        if let Some(v) = opt(v) {
            // A message may hold line breaks; an option value is one line.
            let value = v.split(['\r', '\n']).map(str::trim).filter(|s| !s.is_empty()).collect::<Vec<_>>().join(" ");
            options.push(ItemOption { name: name.into(), value });
        }
    }
    Ok(Item { sku, name: text(&d.item_name).trim().to_owned(), quantity, unit_price, options })
}

/// See [`map_order`] for how the amounts map.
fn totals(o: &OrderInfo) -> Result<Totals, NormalizeError> {
    let overflow = |field: &str| malformed(format!("{field} is too large"));
    let goods = match yen("orderInfo.totalSalePrice", &o.total_sale_price)? {
        Some(g) => g,
        None => {
            let mut sum = 0i64;
            for (i, d) in o.detail.iter().enumerate() {
                let line = match yen(&format!("detail[{i}].totalItemPrice"), &d.total_item_price)? {
                    Some(t) => t,
                    None => {
                        let price = yen(&format!("detail[{i}].itemPrice"), &d.item_price)?.unwrap_or(0);
                        let unit: i64 = text(&d.unit).trim().parse().unwrap_or(0);
                        price.checked_mul(unit).ok_or_else(|| overflow("detail.totalItemPrice"))?
                    }
                };
                sum = sum.checked_add(line).ok_or_else(|| overflow("orderInfo.totalSalePrice"))?;
            }
            sum
        }
    };
    let shipping = yen("orderInfo.postagePrice", &o.postage_price)?.unwrap_or(0);
    let base = goods.checked_add(shipping).ok_or_else(|| overflow("orderInfo.totalPrice"))?;
    let total_price = match yen("orderInfo.totalPrice", &o.total_price)? {
        Some(t) => t,
        None => {
            let mut t = base;
            for (field, v) in [
                ("orderInfo.chargePrice", &o.charge_price),
                ("orderInfo.totalItemOptionPrice", &o.total_item_option_price),
                ("orderInfo.totalGiftWrappingPrice", &o.total_gift_wrapping_price),
            ] {
                t = t.checked_add(yen(field, v)?.unwrap_or(0)).ok_or_else(|| overflow("orderInfo.totalPrice"))?;
            }
            t
        }
    };
    let fee = total_price
        .checked_sub(base)
        .filter(|f| *f >= 0)
        .ok_or_else(|| malformed("orderInfo.totalPrice is less than totalSalePrice + postagePrice"))?;
    // The coupon and point lines the buyer saw; with `requestPrice` they are capped at its discount.
    let coupon = yen("orderInfo.couponTotalPrice", &o.coupon_total_price)?.unwrap_or(0);
    let points = yen("orderInfo.usePoint", &o.use_point)?
        .unwrap_or(0)
        .checked_add(yen("orderInfo.useAuPointPrice", &o.use_au_point_price)?.unwrap_or(0))
        .ok_or_else(|| overflow("orderInfo.usePoint"))?;
    let (discount, total) = match yen("orderInfo.requestPrice", &o.request_price)? {
        Some(r) => {
            let d = total_price
                .checked_sub(r)
                .filter(|d| *d >= 0)
                .ok_or_else(|| malformed("orderInfo.requestPrice is more than totalPrice"))?;
            (d, r)
        }
        None => {
            let mut d = 0i64;
            for (field, v) in [
                ("orderInfo.couponTotalPrice", &o.coupon_total_price),
                ("orderInfo.usePoint", &o.use_point),
                ("orderInfo.useAuPointPrice", &o.use_au_point_price),
            ] {
                d = d.checked_add(yen(field, v)?.unwrap_or(0)).ok_or_else(|| overflow(field))?;
            }
            let t = total_price
                .checked_sub(d)
                .filter(|t| *t >= 0)
                .ok_or_else(|| malformed("orderInfo.couponTotalPrice and points are more than totalPrice"))?;
            (d, t)
        }
    };
    let coupon = coupon.min(discount);
    let points = points.min(discount - coupon);
    Ok(Totals { goods, shipping, fee, discount, coupon, points, total })
}
