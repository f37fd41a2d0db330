//! SP-API Orders v0 wire types → the canonical [`Order`].
//!
//! Money (all integer yen, `Amount` text parsed exactly, never through floats):
//! - `goods`    = Σ `ItemPrice` (line totals),
//! - `shipping` = Σ `ShippingPrice`,
//! - `fee`      = Σ `CODFee` + Σ `GiftWrapPrice`,
//! - `discount` = Σ `PromotionDiscount` + Σ `ShippingDiscount` + Σ `CODFeeDiscount`,
//! - `total`    = `OrderTotal` when the API gives it, else the sum above.
//!
//! JP prices include consumption tax, so the `*Tax` amounts are the included share and are not
//! added (see [`codes::PRICES_INCLUDE_TAX`], unverified). When `OrderTotal` disagrees with the
//! lines, `Order::validate()` rejects the order as `Invalid` rather than us guessing which is right.
//! Without a getOrderItems body the lines are unknown: `items` is empty and the whole `OrderTotal`
//! is counted as `goods`.

use chrono::{DateTime, FixedOffset, NaiveDate};
use ichigen_core::{
    Address, Buyer, Delivery, Item, ItemOption, Marketplace, Order, OrderStatus, SCHEMA_VERSION, Totals,
};

use super::codes;
use super::wire::{
    ItemBuyerInfo, Money, OrderAddress, OrderBuyerInfo, OrderItemBuyerInfo, TextBool, WireAddress, WireOrder,
    WireOrderItem,
};
use crate::NormalizeError;

/// Japan Standard Time.
pub const JST: FixedOffset = match FixedOffset::east_opt(9 * 3600) {
    Some(offset) => offset,
    None => panic!("JST offset is in range"),
};

/// Everything the bodies told us about one order, joined by `AmazonOrderId`.
#[derive(Debug, Clone)]
pub struct OrderParts {
    /// The order header (getOrders `Orders[]` or getOrder `payload`).
    pub header: WireOrder,
    /// Which operation the header came from, for messages.
    pub header_operation: &'static str,
    /// Lines from getOrderItems; `None` when no getOrderItems body was given.
    pub items: Option<Vec<WireOrderItem>>,
    /// Entries of getOrderItemsBuyerInfo.
    pub item_buyer_info: Vec<OrderItemBuyerInfo>,
    /// getOrderAddress payload.
    pub address: Option<OrderAddress>,
    /// getOrderBuyerInfo payload.
    pub buyer: Option<OrderBuyerInfo>,
}

/// A `Malformed` error of Amazon: names the operation and the field, never a value.
pub(crate) fn malformed(operation: &str, detail: impl Into<String>) -> NormalizeError {
    NormalizeError::Malformed {
        marketplace: Marketplace::Amazon,
        operation: operation.to_string(),
        detail: detail.into(),
    }
}

/// Maps one joined order; the result has passed `Order::validate()`.
pub fn map_order(shop_id: &str, parts: &OrderParts) -> Result<Order, NormalizeError> {
    let h = &parts.header;
    let op = parts.header_operation;
    // ichigen pulls Amazon.co.jp only; an order of another marketplace must not pass for a
    // Japanese one (its money is not yen and its missing address is not in Japan).
    if let Some(id) = h.marketplace_id.as_deref().filter(|id| *id != codes::MARKETPLACE_ID_JP) {
        return Err(malformed(
            op,
            format!(
                "order of marketplace {id}, not Amazon.co.jp ({}): ichigen handles Amazon.co.jp only",
                codes::MARKETPLACE_ID_JP
            ),
        ));
    }
    let ordered_at = time(op, "PurchaseDate", &h.purchase_date)?;
    // Orders v0 always gives LastUpdateDate (required), so no fallback is needed.
    let source_updated_at = time(op, "LastUpdateDate", &h.last_update_date)?;

    let cancel_requested = buyer_requested_cancel(parts)?;
    let mut status = codes::status(&h.order_status).unwrap_or(OrderStatus::OnHold);
    // A buyer's cancel request must be looked at before shipping: hold open orders.
    if cancel_requested && status.is_open() {
        status = OrderStatus::OnHold;
    }

    let buyer = buyer(h, parts.buyer.as_ref());
    let wire_address = parts.address.as_ref().and_then(|a| a.shipping_address.as_ref()).or(h.shipping_address.as_ref());
    let address_op =
        if parts.address.as_ref().is_some_and(|a| a.shipping_address.is_some()) { "getOrderAddress" } else { op };
    let ship_to = address(address_op, wire_address)?;

    let infos = item_infos(parts);
    let (items, line_totals) = match &parts.items {
        Some(lines) => {
            let (items, t) = items(lines, &infos)?;
            (items, Some(t))
        }
        None => (Vec::new(), None),
    };
    let order_total = h.order_total.as_ref().map(|m| money(op, "OrderTotal", Some(m))).transpose()?;
    let totals = totals(op, line_totals, order_total)?;

    let details = h.payment_method_details.as_deref().unwrap_or_default();
    let source_payment_method = h.payment_method.clone().unwrap_or_default();
    let payment_method = codes::payment(&source_payment_method, details);

    let pickup = h.is_ispu == Some(true) || h.is_access_point_order == Some(true);
    let (requested_date, requested_time_slot) = scheduled(parts)?;
    let delivery = Delivery {
        method: codes::delivery_method(h.shipment_service_level_category.as_deref(), pickup),
        source_method: h
            .ship_service_level
            .clone()
            .or_else(|| h.shipment_service_level_category.clone())
            .unwrap_or_default(),
        requested_date,
        requested_time_slot,
    };

    let gift = gift(parts, &infos)?;
    let order = Order {
        schema_version: SCHEMA_VERSION,
        shop_id: shop_id.to_string(),
        marketplace: Marketplace::Amazon,
        order_id: h.amazon_order_id.clone(),
        ordered_at,
        source_updated_at,
        status,
        source_status: h.order_status.clone(),
        buyer,
        ship_to,
        // Orders v0 has one destination per order.
        shipments: Vec::new(),
        items,
        payment_method,
        source_payment_method,
        delivery,
        totals,
        remarks: remarks(parts, &infos),
        gift,
        // Orders v0 responses carry no tracking numbers (they go the other way, in confirmShipment).
        tracking: Vec::new(),
        fulfilled_by_marketplace: h.fulfillment_channel.as_deref() == Some(codes::FULFILLED_BY_AMAZON),
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

/// A `Money` value in yen; absent → 0.
fn money(op: &str, field: &str, m: Option<&Money>) -> Result<i64, NormalizeError> {
    let Some(m) = m else { return Ok(0) };
    if m.currency_code.as_deref() != Some(codes::CURRENCY) {
        return Err(malformed(op, format!("{field}.CurrencyCode is not {}", codes::CURRENCY)));
    }
    let amount = m.amount.as_deref().ok_or_else(|| malformed(op, format!("{field}.Amount is missing")))?;
    parse_yen(amount.trim())
        .ok_or_else(|| malformed(op, format!("{field}.Amount is not a whole, non-negative yen amount")))
}

/// A price plus its tax when prices exclude tax.
fn taxed(op: &str, field: &str, price: Option<&Money>, tax: Option<&Money>) -> Result<i64, NormalizeError> {
    let p = money(op, field, price)?;
    if codes::PRICES_INCLUDE_TAX {
        return Ok(p);
    }
    let t = money(op, &format!("{field}Tax"), tax)?;
    add(op, p, t)
}

fn add(op: &str, a: i64, b: i64) -> Result<i64, NormalizeError> {
    a.checked_add(b).ok_or_else(|| malformed(op, "amounts overflow"))
}

/// Sums over the lines, before `OrderTotal`.
#[derive(Debug, Default, Clone, Copy)]
struct LineTotals {
    goods: i64,
    shipping: i64,
    fee: i64,
    discount: i64,
}

fn totals(op: &str, lines: Option<LineTotals>, order_total: Option<i64>) -> Result<Totals, NormalizeError> {
    let Some(l) = lines else {
        let total = order_total.unwrap_or(0);
        return Ok(Totals { goods: total, shipping: 0, fee: 0, discount: 0, total });
    };
    let computed = l
        .goods
        .checked_add(l.shipping)
        .and_then(|v| v.checked_add(l.fee))
        .and_then(|v| v.checked_sub(l.discount))
        .ok_or_else(|| malformed(op, "amounts overflow"))?;
    let total = order_total.unwrap_or(computed);
    Ok(Totals { goods: l.goods, shipping: l.shipping, fee: l.fee, discount: l.discount, total })
}

/// Item-level buyer info by `OrderItemId`: getOrderItemsBuyerInfo wins over the copy inside
/// getOrderItems.
fn item_infos(parts: &OrderParts) -> Vec<(String, ItemBuyerInfo)> {
    let mut out: Vec<(String, ItemBuyerInfo)> = Vec::new();
    for line in parts.items.iter().flatten() {
        if let Some(info) = &line.buyer_info {
            out.push((line.order_item_id.clone(), info.clone()));
        }
    }
    for e in &parts.item_buyer_info {
        out.retain(|(id, _)| *id != e.order_item_id);
        out.push((e.order_item_id.clone(), ItemBuyerInfo::from(e.clone())));
    }
    out
}

fn info_for<'a>(infos: &'a [(String, ItemBuyerInfo)], id: &str) -> Option<&'a ItemBuyerInfo> {
    infos.iter().find(|(i, _)| i == id).map(|(_, info)| info)
}

fn items(
    lines: &[WireOrderItem],
    infos: &[(String, ItemBuyerInfo)],
) -> Result<(Vec<Item>, LineTotals), NormalizeError> {
    const OP: &str = "getOrderItems";
    let mut items = Vec::with_capacity(lines.len().min(1_000));
    let mut t = LineTotals::default();
    for (i, line) in lines.iter().enumerate() {
        let f = |name: &str| format!("OrderItems[{i}].{name}");
        let price = taxed(OP, &f("ItemPrice"), line.item_price.as_ref(), line.item_tax.as_ref())?;
        t.goods = add(OP, t.goods, price)?;
        let ship = taxed(OP, &f("ShippingPrice"), line.shipping_price.as_ref(), line.shipping_tax.as_ref())?;
        t.shipping = add(OP, t.shipping, ship)?;
        let cod = money(OP, &f("CODFee"), line.cod_fee.as_ref())?;
        t.fee = add(OP, t.fee, cod)?;
        let info = info_for(infos, &line.order_item_id);
        if let Some(info) = info {
            let wrap = taxed(
                "getOrderItemsBuyerInfo",
                &f("GiftWrapPrice"),
                info.gift_wrap_price.as_ref(),
                info.gift_wrap_tax.as_ref(),
            )?;
            t.fee = add(OP, t.fee, wrap)?;
        }
        for (name, price, tax) in [
            ("PromotionDiscount", &line.promotion_discount, &line.promotion_discount_tax),
            ("ShippingDiscount", &line.shipping_discount, &line.shipping_discount_tax),
            ("CODFeeDiscount", &line.cod_fee_discount, &None),
        ] {
            let d = taxed(OP, &f(name), price.as_ref(), tax.as_ref())?;
            t.discount = add(OP, t.discount, d)?;
        }

        // A line cancelled down to zero units has nothing to ship; its amounts (zero) still count.
        if line.quantity_ordered == 0 {
            continue;
        }
        let sku = line
            .seller_sku
            .clone()
            .filter(|s| !s.trim().is_empty())
            .or_else(|| line.asin.clone())
            .ok_or_else(|| malformed(OP, format!("{} and ASIN are missing", f("SellerSKU"))))?;
        let qty = i64::from(line.quantity_ordered);
        // ItemPrice is the line total; the unit price is rounded half up when it does not divide.
        let unit_price =
            price.checked_add(qty / 2).map(|v| v / qty).ok_or_else(|| malformed(OP, "amounts overflow"))?;
        let mut options = Vec::new();
        if let Some(c) = line.condition_id.as_deref().filter(|c| *c != "New") {
            options.push(ItemOption { name: "ConditionId".into(), value: c.to_string() });
        }
        if let Some(info) = info {
            if let Some(level) = &info.gift_wrap_level {
                options.push(ItemOption { name: "GiftWrapLevel".into(), value: level.clone() });
            }
            if let Some(url) = info.buyer_customized_info.as_ref().and_then(|c| c.customized_url.clone()) {
                options.push(ItemOption { name: "CustomizedURL".into(), value: url });
            }
        }
        items.push(Item {
            sku,
            name: line.title.clone().unwrap_or_default(),
            quantity: line.quantity_ordered,
            unit_price,
            options,
        });
    }
    Ok((items, t))
}

fn text_bool(op: &str, field: &str, v: &TextBool) -> Result<bool, NormalizeError> {
    match v {
        TextBool::Bool(b) => Ok(*b),
        TextBool::Text(s) if s.eq_ignore_ascii_case("true") => Ok(true),
        TextBool::Text(s) if s.eq_ignore_ascii_case("false") => Ok(false),
        TextBool::Text(_) => Err(malformed(op, format!("{field} is neither \"true\" nor \"false\""))),
    }
}

fn buyer_requested_cancel(parts: &OrderParts) -> Result<bool, NormalizeError> {
    let mut any = false;
    for (i, line) in parts.items.iter().flatten().enumerate() {
        if let Some(flag) = line.buyer_requested_cancel.as_ref().and_then(|c| c.is_buyer_requested_cancel.as_ref()) {
            let field = format!("OrderItems[{i}].BuyerRequestedCancel.IsBuyerRequestedCancel");
            any |= text_bool("getOrderItems", &field, flag)?;
        }
    }
    Ok(any)
}

fn gift(parts: &OrderParts, infos: &[(String, ItemBuyerInfo)]) -> Result<bool, NormalizeError> {
    let mut gift = infos.iter().any(|(_, i)| {
        i.gift_message_text.as_deref().is_some_and(|m| !m.trim().is_empty()) || i.gift_wrap_level.is_some()
    });
    for (i, line) in parts.items.iter().flatten().enumerate() {
        if let Some(flag) = &line.is_gift {
            gift |= text_bool("getOrderItems", &format!("OrderItems[{i}].IsGift"), flag)?;
        }
    }
    Ok(gift)
}

/// Buyer-written texts, verbatim, one per line after a fixed label: delivery instructions, drop-off
/// location, gift messages, cancel requests.
fn remarks(parts: &OrderParts, infos: &[(String, ItemBuyerInfo)]) -> String {
    let mut lines: Vec<String> = Vec::new();
    let mut push = |label: &str, text: Option<&str>| {
        if let Some(t) = text.filter(|t| !t.trim().is_empty()) {
            lines.push(format!("[{label}] {t}"));
        }
    };
    if let Some(prefs) = parts.address.as_ref().and_then(|a| a.delivery_preferences.as_ref()) {
        push("配送指示", prefs.address_instructions.as_deref());
        push("置き配場所", prefs.drop_off_location.as_deref());
    }
    for (_, info) in infos {
        push("ギフトメッセージ", info.gift_message_text.as_deref());
    }
    for line in parts.items.iter().flatten() {
        if let Some(c) = &line.buyer_requested_cancel {
            let requested = matches!(&c.is_buyer_requested_cancel, Some(TextBool::Bool(true)))
                || matches!(&c.is_buyer_requested_cancel, Some(TextBool::Text(s)) if s.eq_ignore_ascii_case("true"));
            if requested {
                lines.push(format!("[購入者キャンセル依頼] {}", c.buyer_cancel_reason.as_deref().unwrap_or_default()));
            }
        }
    }
    lines.join("\n")
}

fn buyer(h: &WireOrder, info: Option<&OrderBuyerInfo>) -> Buyer {
    let header = h.buyer_info.as_ref();
    let name = info
        .and_then(|b| b.buyer_name.clone())
        .or_else(|| header.and_then(|b| b.buyer_name.clone()))
        .unwrap_or_default();
    let email = info.and_then(|b| b.buyer_email.clone()).or_else(|| header.and_then(|b| b.buyer_email.clone()));
    Buyer { name, name_kana: None, email, phone: None }
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

/// Address; absent (Pending, no RDT) → empty strings and [`codes::COUNTRY_WITHOUT_ADDRESS`].
fn address(op: &str, a: Option<&WireAddress>) -> Result<Address, NormalizeError> {
    let Some(a) = a else {
        return Ok(Address { country: codes::COUNTRY_WITHOUT_ADDRESS.to_string(), ..Address::default() });
    };
    let country = a.country_code.clone().unwrap_or_else(|| codes::COUNTRY_WITHOUT_ADDRESS.to_string());
    // unverified: whether JP postal codes arrive hyphenated; both forms (and full-width digits) map.
    let raw_postal = a.postal_code.as_deref().unwrap_or_default();
    let postal_code = if country.eq_ignore_ascii_case("JP") && !raw_postal.trim().is_empty() {
        jp_postal_code(raw_postal)
            .ok_or_else(|| malformed(op, "ShippingAddress.PostalCode is not a 7-digit Japanese postal code"))?
    } else {
        raw_postal.to_string()
    };
    let join = |parts: &[&Option<String>]| {
        parts.iter().filter_map(|p| p.as_deref()).filter(|p| !p.trim().is_empty()).collect::<Vec<_>>().join(" ")
    };
    Ok(Address {
        country,
        postal_code,
        // unverified: for JP the 都道府県 is expected in StateOrRegion (the exact JP split of the
        // address fields is not documented).
        prefecture: a.state_or_region.clone().unwrap_or_default(),
        // 郡 (County) before the city, as Japanese addresses write it.
        city: join(&[&a.county, &a.city]),
        address1: join(&[&a.district, &a.address_line1]),
        // Company goes with the building lines so labels print it.
        address2: join(&[&a.address_line2, &a.address_line3, &a.company_name]),
        name: a.name.clone().unwrap_or_default(),
        phone: a.phone.clone(),
    })
}

/// Requested date and slot from the first line with a scheduled delivery window (JST).
fn scheduled(parts: &OrderParts) -> Result<(Option<NaiveDate>, Option<String>), NormalizeError> {
    for (i, line) in parts.items.iter().flatten().enumerate() {
        let Some(start) = &line.scheduled_delivery_start_date else { continue };
        let start = time("getOrderItems", &format!("OrderItems[{i}].ScheduledDeliveryStartDate"), start)?;
        let slot = match &line.scheduled_delivery_end_date {
            Some(end) => {
                let end = time("getOrderItems", &format!("OrderItems[{i}].ScheduledDeliveryEndDate"), end)?;
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
        assert_eq!(jp_postal_code("100-0001").as_deref(), Some("1000001"));
        assert_eq!(jp_postal_code("１００－０００１").as_deref(), Some("1000001"));
        assert_eq!(jp_postal_code("1000001").as_deref(), Some("1000001"));
        assert_eq!(jp_postal_code("98121-2778"), None);
        assert_eq!(jp_postal_code("100-000"), None);
    }
}
