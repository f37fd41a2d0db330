//! SP-API Orders v2026-01-01 `Order` → the canonical [`Order`].
//!
//! Money (all integer yen, `amount` text parsed exactly, never through floats):
//! - `goods`    = Σ `product.price.unitPrice` × `quantityOrdered` (v2026 gives the price of one unit),
//! - `shipping` = Σ `SHIPPING` proceeds breakdowns,
//! - `fee`      = Σ `COD_FEE` + `GIFT_WRAP` + `DELIVERY_TIP` + `OTHER` breakdowns,
//! - `discount` = Σ `DISCOUNT` breakdowns (taken as a positive amount whatever its sign); no
//!   coupon or points part (Amazon reports promotions only),
//! - `total`    = `proceeds.grandTotal` when the API gives it (`includedData=PROCEEDS`), else the sum.
//!
//! The breakdowns are the order's own (`proceeds.breakdowns`) when it has any, else the sum of the
//! items' breakdowns. JP prices include consumption tax, so a `TAX` breakdown is the included share
//! and is not added (see [`codes::PRICES_INCLUDE_TAX`], unverified). When `grandTotal` disagrees
//! with the lines, `Order::validate()` rejects the order as `Invalid` rather than us guessing which
//! is right.

use chrono::{DateTime, FixedOffset, NaiveDate};
use ichigen_core::{
    Address, Buyer, Delivery, Item, ItemOption, JST, Marketplace, Order, OrderStatus, PaymentMethod, SCHEMA_VERSION,
    Totals, Tracking,
};

use super::codes;
use super::wire::{CustomerAddress, Money, OrderItem, ProceedsBreakdown, WireOrder};
use crate::NormalizeError;

/// A `Malformed` error of Amazon: names the operation and the field, never a value.
pub(crate) fn malformed(operation: &str, detail: impl Into<String>) -> NormalizeError {
    NormalizeError::malformed(Marketplace::Amazon, operation, detail)
}

/// Maps one order of a searchOrders page or a getOrder answer (`op` names which, for messages);
/// the result has passed `Order::validate()`.
pub fn map_order(shop_id: &str, op: &str, o: &WireOrder) -> Result<Order, NormalizeError> {
    // ichigen pulls Amazon.co.jp only; an order of another marketplace must not pass for a
    // Japanese one (its money is not yen and its missing address is not in Japan).
    if let Some(id) = o.sales_channel.marketplace_id.as_deref().filter(|id| *id != codes::MARKETPLACE_ID_JP) {
        return Err(malformed(
            op,
            format!(
                "order of marketplace {}, not Amazon.co.jp ({}): ichigen handles Amazon.co.jp only",
                crate::error::shown_code(id),
                codes::MARKETPLACE_ID_JP
            ),
        ));
    }
    let ordered_at = time(op, "createdTime", &o.created_time)?;
    let source_updated_at = time(op, "lastUpdatedTime", &o.last_updated_time)?;

    let fulfillment = o.fulfillment.as_ref();
    let source_status = fulfillment.map(|f| f.fulfillment_status.clone()).unwrap_or_default();
    // Without FULFILLMENT data the status is unknown: a person looks.
    let mut status = codes::status(&source_status).unwrap_or(OrderStatus::OnHold);
    let cancel_requested =
        o.order_items.iter().any(|i| i.cancellation.as_ref().is_some_and(|c| c.cancellation_request.is_some()));
    // A buyer's cancel request must be looked at before shipping: hold open orders.
    if cancel_requested && status.is_open() {
        status = OrderStatus::OnHold;
    }

    let buyer = o.buyer.as_ref();
    let buyer = Buyer {
        name: buyer.and_then(|b| b.buyer_name.clone()).unwrap_or_default(),
        name_kana: None,
        email: buyer.and_then(|b| b.buyer_email.clone()),
        phone: None,
    };
    let address = o.recipient.as_ref().and_then(|r| r.delivery_address.as_ref());
    let ship_to = ship_to(op, address)?;

    let (items, goods) = items(op, &o.order_items)?;
    let totals = totals(op, o, goods)?;
    let (payment_method, source_payment_method) = payment(o);

    let level = fulfillment.and_then(|f| f.fulfillment_service_level.clone());
    let (requested_date, requested_time_slot) = scheduled(op, &o.order_items)?;
    let delivery = Delivery {
        method: codes::delivery_method(level.as_deref(), &o.programs, address.and_then(|a| a.address_type.as_deref())),
        source_method: level.unwrap_or_default(),
        requested_date,
        requested_time_slot,
    };

    let order = Order {
        schema_version: SCHEMA_VERSION,
        shop_id: shop_id.to_string(),
        marketplace: Marketplace::Amazon,
        order_id: o.order_id.clone(),
        ordered_at,
        source_updated_at,
        status,
        source_status,
        buyer,
        ship_to,
        // One recipient per order.
        shipments: Vec::new(),
        items,
        payment_method,
        source_payment_method,
        delivery,
        totals,
        remarks: remarks(o),
        gift: gift(o),
        tracking: tracking(op, o)?,
        fulfilled_by_marketplace: fulfillment
            .and_then(|f| f.fulfilled_by.as_deref())
            .is_some_and(|by| by == codes::FULFILLED_BY_AMAZON),
    };
    order.validate().map_err(|source| NormalizeError::Invalid {
        marketplace: Marketplace::Amazon,
        order_id: order.order_id.clone(),
        source,
    })?;
    Ok(order)
}

/// ISO 8601 text (UTC in practice) → JST.
pub fn time(op: &str, field: &str, s: &str) -> Result<DateTime<FixedOffset>, NormalizeError> {
    DateTime::parse_from_rfc3339(s.trim())
        .map(|t| t.with_timezone(&JST))
        .map_err(|_| malformed(op, format!("{field} is not an ISO 8601 date-time")))
}

/// Whole, non-negative yen from decimal text (`"1980"`, `"1980.00"`); `None` otherwise.
pub fn parse_yen(s: &str) -> Option<i64> {
    let (int, frac) = match s.split_once('.') {
        Some((i, f)) if !f.is_empty() => (i, f),
        Some(_) => return None,
        None => (s, ""),
    };
    if int.is_empty() || !int.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b == b'0') {
        return None;
    }
    int.parse::<i64>().ok()
}

/// A `Money` in yen.
fn money(op: &str, field: &str, m: &Money) -> Result<i64, NormalizeError> {
    if m.currency_code != codes::CURRENCY {
        return Err(malformed(op, format!("{field}.currencyCode is not {}", codes::CURRENCY)));
    }
    parse_yen(m.amount.trim())
        .ok_or_else(|| malformed(op, format!("{field}.amount is not a whole, non-negative yen amount")))
}

/// A discount in yen: Amazon may write it negative (unverified), so either sign is taken as
/// an amount off.
fn discount_money(op: &str, field: &str, m: &Money) -> Result<i64, NormalizeError> {
    let trimmed = m.amount.trim();
    let unsigned = trimmed.strip_prefix('-').unwrap_or(trimmed);
    money(op, field, &Money { amount: unsigned.to_string(), currency_code: m.currency_code.clone() })
}

fn add(op: &str, a: i64, b: i64) -> Result<i64, NormalizeError> {
    a.checked_add(b).ok_or_else(|| malformed(op, "amounts overflow"))
}

fn items(op: &str, lines: &[OrderItem]) -> Result<(Vec<Item>, i64), NormalizeError> {
    let mut items = Vec::with_capacity(lines.len().min(1_000));
    let mut goods = 0i64;
    for (i, line) in lines.iter().enumerate() {
        let f = |name: &str| format!("orderItems[{i}].{name}");
        let unit_price = match line.product.price.as_ref().and_then(|p| p.unit_price.as_ref()) {
            Some(m) => money(op, &f("product.price.unitPrice"), m)?,
            None => 0,
        };
        let line_total = unit_price
            .checked_mul(i64::from(line.quantity_ordered))
            .ok_or_else(|| malformed(op, "amounts overflow"))?;
        goods = add(op, goods, line_total)?;
        // A line cancelled down to zero units has nothing to ship.
        if line.quantity_ordered == 0 {
            continue;
        }
        let product = &line.product;
        let sku = product
            .seller_sku
            .clone()
            .filter(|s| !s.trim().is_empty())
            .or_else(|| product.asin.clone().filter(|s| !s.trim().is_empty()))
            .ok_or_else(|| malformed(op, format!("{} and asin are missing", f("product.sellerSku"))))?;
        let mut options = Vec::new();
        if let Some(c) = product.condition.as_ref().and_then(|c| c.condition_type.as_deref()).filter(|c| *c != "NEW") {
            options.push(ItemOption { name: "conditionType".into(), value: c.to_string() });
        }
        let gift = line.fulfillment.as_ref().and_then(|f| f.packing.as_ref()).and_then(|p| p.gift_option.as_ref());
        if let Some(level) = gift.and_then(|g| g.gift_wrap_level.clone()) {
            options.push(ItemOption { name: "giftWrapLevel".into(), value: level });
        }
        if let Some(url) = product.customization.as_ref().and_then(|c| c.customized_url.clone()) {
            options.push(ItemOption { name: "customizedUrl".into(), value: url });
        }
        items.push(Item {
            sku,
            name: product.title.clone().unwrap_or_default(),
            quantity: line.quantity_ordered,
            unit_price,
            options,
        });
    }
    Ok((items, goods))
}

/// Shipping, fee and discount from the proceeds breakdowns; total from `grandTotal`.
fn totals(op: &str, o: &WireOrder, goods: i64) -> Result<Totals, NormalizeError> {
    let order_level = o.proceeds.as_ref().map(|p| p.breakdowns.as_slice()).unwrap_or_default();
    let breakdowns: Vec<(String, &ProceedsBreakdown)> = if order_level.is_empty() {
        o.order_items
            .iter()
            .enumerate()
            .flat_map(|(i, l)| {
                l.proceeds.iter().flat_map(move |p| {
                    p.breakdowns
                        .iter()
                        .enumerate()
                        .map(move |(j, b)| (format!("orderItems[{i}].proceeds.breakdowns[{j}]"), b))
                })
            })
            .collect()
    } else {
        order_level.iter().enumerate().map(|(j, b)| (format!("proceeds.breakdowns[{j}]"), b)).collect()
    };
    let (mut shipping, mut fee, mut discount, mut tax) = (0i64, 0i64, 0i64, 0i64);
    for (field, b) in breakdowns {
        let field = format!("{field}.subtotal");
        match b.kind.as_str() {
            "SHIPPING" => shipping = add(op, shipping, money(op, &field, &b.subtotal)?)?,
            "COD_FEE" | "GIFT_WRAP" | "DELIVERY_TIP" | "OTHER" => fee = add(op, fee, money(op, &field, &b.subtotal)?)?,
            "DISCOUNT" => discount = add(op, discount, discount_money(op, &field, &b.subtotal)?)?,
            "TAX" => tax = add(op, tax, money(op, &field, &b.subtotal)?)?,
            // ITEM is the goods, already counted from the unit prices; unknown kinds add nothing.
            _ => {}
        }
    }
    let goods = if codes::PRICES_INCLUDE_TAX { goods } else { add(op, goods, tax)? };
    let computed = goods
        .checked_add(shipping)
        .and_then(|v| v.checked_add(fee))
        .and_then(|v| v.checked_sub(discount))
        .ok_or_else(|| malformed(op, "amounts overflow"))?;
    let total = match o.proceeds.as_ref().and_then(|p| p.grand_total.as_ref()) {
        Some(m) => money(op, "proceeds.grandTotal", m)?,
        None => computed,
    };
    // Amazon reports promotions, not coupons or points the buyer spent: all of it is "other".
    Ok(Totals { goods, shipping, fee, discount, coupon: 0, points: 0, total })
}

/// Unified payment method and the API's own text: the first payment execution whose method ichigen
/// knows, else a line that must be paid on delivery, else `Other`.
fn payment(o: &WireOrder) -> (PaymentMethod, String) {
    let executions = o.payment.as_ref().map(|p| p.payment_executions.as_slice()).unwrap_or_default();
    let methods: Vec<&str> = executions.iter().filter_map(|e| e.payment_method.as_deref()).collect();
    let source = methods.join(",");
    if let Some(m) = methods.iter().find_map(|m| codes::payment(m)) {
        return (m, source);
    }
    let cod = o.order_items.iter().any(|l| {
        l.fulfillment
            .as_ref()
            .and_then(|f| f.shipping.as_ref())
            .and_then(|s| s.shipping_constraints.as_ref())
            .and_then(|c| c.cash_on_delivery.as_deref())
            == Some("MANDATORY")
    });
    if cod {
        let source = if source.is_empty() { "shippingConstraints.cashOnDelivery".to_string() } else { source };
        return (PaymentMethod::Cod, source);
    }
    (PaymentMethod::Other, source)
}

fn gift(o: &WireOrder) -> bool {
    o.order_items.iter().any(|l| {
        l.fulfillment.as_ref().and_then(|f| f.packing.as_ref()).and_then(|p| p.gift_option.as_ref()).is_some_and(|g| {
            g.gift_message.as_deref().is_some_and(|m| !m.trim().is_empty()) || g.gift_wrap_level.is_some()
        })
    })
}

/// Buyer-written texts, verbatim, one per line after a fixed label: delivery instructions, drop-off
/// location, gift messages, cancel requests.
fn remarks(o: &WireOrder) -> String {
    let mut lines: Vec<String> = Vec::new();
    let mut push = |label: &str, text: Option<&str>| {
        if let Some(t) = text.filter(|t| !t.trim().is_empty()) {
            lines.push(format!("[{label}] {t}"));
        }
    };
    if let Some(p) = o.recipient.as_ref().and_then(|r| r.delivery_preference.as_ref()) {
        push("配送指示", p.address_instruction.as_deref());
        push("置き配場所", p.drop_off_location.as_deref());
    }
    for l in &o.order_items {
        let gift = l.fulfillment.as_ref().and_then(|f| f.packing.as_ref()).and_then(|p| p.gift_option.as_ref());
        push("ギフトメッセージ", gift.and_then(|g| g.gift_message.as_deref()));
    }
    for l in &o.order_items {
        if let Some(r) = l.cancellation.as_ref().and_then(|c| c.cancellation_request.as_ref()) {
            lines.push(format!("[購入者キャンセル依頼] {}", r.cancel_reason.as_deref().unwrap_or_default()));
        }
    }
    lines.join("\n")
}

/// Packages already confirmed (`PACKAGES`): one tracking entry per package with a number, cancelled
/// labels left out.
fn tracking(op: &str, o: &WireOrder) -> Result<Vec<Tracking>, NormalizeError> {
    let mut out = Vec::new();
    for (i, p) in o.packages.iter().enumerate() {
        let Some(number) = p.tracking_number.as_deref().map(str::trim).filter(|n| !n.is_empty()) else { continue };
        if p.package_status.as_ref().is_some_and(|s| s.status == "CANCELLED") {
            continue;
        }
        let shipped_at = match p.ship_time.as_deref() {
            Some(t) => Some(time(op, &format!("packages[{i}].shipTime"), t)?),
            None => None,
        };
        out.push(Tracking {
            carrier: codes::carrier(p.carrier.as_deref().unwrap_or_default()),
            number: number.to_string(),
            shipped_at,
            shipment_id: None,
        });
    }
    Ok(out)
}

/// Japanese postal code → 7 ASCII digits (hyphens and full-width digits accepted).
pub fn jp_postal_code(s: &str) -> Option<String> {
    let mut out = String::with_capacity(7);
    for c in s.trim().chars() {
        match c {
            '0'..='9' => out.push(c),
            '０'..='９' => out.push(char::from(b'0' + (u32::from(c) - u32::from('０')) as u8)),
            '-' | '‐' | '−' | '－' | 'ー' => {}
            _ => return None,
        }
        if out.len() > 7 {
            return None;
        }
    }
    (out.len() == 7).then_some(out)
}

/// Address; absent (no RECIPIENT data or no role) → empty strings and
/// [`codes::COUNTRY_WITHOUT_ADDRESS`].
fn ship_to(op: &str, a: Option<&CustomerAddress>) -> Result<Address, NormalizeError> {
    let Some(a) = a else {
        return Ok(Address { country: codes::COUNTRY_WITHOUT_ADDRESS.to_string(), ..Address::default() });
    };
    let country = a.country_code.clone().unwrap_or_else(|| codes::COUNTRY_WITHOUT_ADDRESS.to_string());
    // The JP example writes `150-0002` (hyphen); both forms (and full-width digits) map.
    let raw_postal = a.postal_code.as_deref().unwrap_or_default();
    let postal_code = if country.eq_ignore_ascii_case("JP") && !raw_postal.trim().is_empty() {
        jp_postal_code(raw_postal).ok_or_else(|| {
            malformed(op, "recipient.deliveryAddress.postalCode is not a 7-digit Japanese postal code")
        })?
    } else {
        raw_postal.to_string()
    };
    let join = |parts: &[&Option<String>]| {
        parts.iter().filter_map(|p| p.as_deref()).filter(|p| !p.trim().is_empty()).collect::<Vec<_>>().join(" ")
    };
    Ok(Address {
        country,
        postal_code,
        // unverified: how JP addresses split prefecture / city / street is not documented; the
        // 都道府県 is read from stateOrRegion when given (the JP example has none).
        prefecture: a.state_or_region.clone().unwrap_or_default(),
        // 郡 (district / county) before the city, as Japanese addresses write it.
        city: join(&[&a.district_or_county, &a.city]),
        address1: join(&[&a.municipality, &a.address_line1]),
        // Company goes with the building lines so labels print it.
        address2: join(&[&a.address_line2, &a.address_line3, &a.company_name]),
        name: a.name.clone().unwrap_or_default(),
        phone: a.phone.clone(),
    })
}

/// Requested date and slot from the first line with a scheduled delivery window (JST).
fn scheduled(op: &str, lines: &[OrderItem]) -> Result<(Option<NaiveDate>, Option<String>), NormalizeError> {
    for (i, line) in lines.iter().enumerate() {
        let window = line
            .fulfillment
            .as_ref()
            .and_then(|f| f.shipping.as_ref())
            .and_then(|s| s.scheduled_delivery_window.as_ref());
        let Some(start) = window.and_then(|w| w.earliest_date_time.as_deref()) else { continue };
        let field = format!("orderItems[{i}].fulfillment.shipping.scheduledDeliveryWindow");
        let start = time(op, &format!("{field}.earliestDateTime"), start)?;
        let slot = match window.and_then(|w| w.latest_date_time.as_deref()) {
            Some(end) => {
                let end = time(op, &format!("{field}.latestDateTime"), end)?;
                Some(codes::time_slot(start.time(), end.time()))
            }
            None => None,
        };
        return Ok((Some(start.date_naive()), slot));
    }
    Ok((None, None))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yen_is_parsed_exactly() {
        assert_eq!(parse_yen("1980"), Some(1980));
        assert_eq!(parse_yen("1980.00"), Some(1980));
        assert_eq!(parse_yen("0"), Some(0));
        for bad in ["1.99", "-5", "", ".", "1.", "1e3", "１", "99999999999999999999", "1,000", " 1"] {
            assert_eq!(parse_yen(bad), None, "{bad}");
        }
    }

    #[test]
    fn postal_codes() {
        assert_eq!(jp_postal_code("150-0002").as_deref(), Some("1500002"));
        assert_eq!(jp_postal_code("１００－０００１").as_deref(), Some("1000001"));
        assert_eq!(jp_postal_code("1000001").as_deref(), Some("1000001"));
        assert_eq!(jp_postal_code("98121-2778"), None);
        assert_eq!(jp_postal_code("100-000"), None);
    }
}
