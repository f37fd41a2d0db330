//! getOrder `OrderModel` → canonical [`Order`].
//!
//! Totals (integer yen; `total == goods + shipping + fee - discount` always holds):
//! - `goods` = Σ over live lines of `priceTaxIncl × units` (tax included, like `items[].unit_price`);
//! - `shipping` = `postagePrice`;
//! - `discount` = `couponAllTotalPrice` + `PointModel.usedPoint` (coupons of any funder and points);
//!   `coupon` = `couponAllTotalPrice`, `points` = `PointModel.usedPoint` (capped together at the
//!   discount when the discount itself is capped);
//! - `total` = `requestPrice`, the amount Rakuten bills the buyer (after coupons and points);
//! - `fee` = the rest: `total - goods - shipping + discount`. That is the COD fee, payment fee, gift
//!   wrapping and deferred-payment surcharges together, whichever of `deliveryPrice` / `paymentCharge`
//!   Rakuten counts them in, so nothing is counted twice. A negative rest is a broken body and fails
//!   `validate()` as `Invalid`.
//!
//! When any order amount is the "not fixed yet" sentinel (`-9999`, any negative) `requestPrice` cannot
//! be trusted: then every unknown amount counts as 0, `fee` = the known `deliveryPrice` +
//! `paymentCharge` + wrapping + buyer surcharge, the discount is capped at goods + shipping + fee, and
//! `total` is computed from the parts. Such an order is put `on_hold` (unless shipped or cancelled) so a
//! person looks at it once Rakuten fixes the amount; a later getOrder brings the real figures.

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveTime};
use ichigen_core::{
    Address, Buyer, Delivery, Item, ItemOption, JST, Marketplace, Order, OrderStatus, PaymentMethod, SCHEMA_VERSION,
    Shipment, Totals, Tracking,
};

use super::codes;
use super::wire::{ItemModel, OrderModel, PersonModel};
use crate::NormalizeError;

/// The operation whose bodies this module maps.
pub const OPERATION: &str = "getOrder";

fn malformed(detail: impl Into<String>) -> NormalizeError {
    NormalizeError::malformed(Marketplace::Rakuten, OPERATION, detail)
}

/// Parses a Rakuten date-time (`YYYY-MM-DDThh:mm:ss+0900`, colon offset tolerated) into JST.
fn datetime(field: &str, s: &str) -> Result<DateTime<FixedOffset>, NormalizeError> {
    DateTime::parse_from_str(s.trim(), "%Y-%m-%dT%H:%M:%S%z")
        .map(|t| t.with_timezone(&JST))
        .map_err(|_| malformed(format!("{field}: not a date-time of the form YYYY-MM-DDThh:mm:ss+0900")))
}

/// `orderDatetime` as JST, when it reads (for telling windows apart; mapping reports errors).
pub(crate) fn order_time(s: &str) -> Option<DateTime<FixedOffset>> {
    datetime("orderDatetime", s).ok()
}

fn opt_datetime(field: &str, s: &Option<String>) -> Result<Option<DateTime<FixedOffset>>, NormalizeError> {
    match s.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(s) => datetime(field, s).map(Some),
    }
}

fn date(field: &str, s: &Option<String>) -> Result<Option<NaiveDate>, NormalizeError> {
    match s.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| malformed(format!("{field}: not a date of the form YYYY-MM-DD"))),
    }
}

fn text(s: &Option<String>) -> &str {
    s.as_deref().unwrap_or("")
}

/// Joins the non-empty parts with `sep`.
fn join(parts: &[&Option<String>], sep: &str) -> String {
    parts.iter().map(|p| text(p).trim()).filter(|p| !p.is_empty()).collect::<Vec<_>>().join(sep)
}

fn non_empty(s: String) -> Option<String> {
    (!s.is_empty()).then_some(s)
}

/// `zipCode1` + `zipCode2` as 7 ASCII digits.
fn postal_code(field: &str, p: &PersonModel) -> Result<String, NormalizeError> {
    let code = format!("{}{}", text(&p.zip_code1).trim(), text(&p.zip_code2).trim());
    if code.len() == 7 && code.bytes().all(|b| b.is_ascii_digit()) {
        Ok(code)
    } else {
        Err(malformed(format!("{field}.zipCode1/zipCode2: not a 3+4 digit postal code")))
    }
}

fn address(field: &str, p: &PersonModel) -> Result<Address, NormalizeError> {
    Ok(Address {
        // Rakuten Ichiba delivers in Japan only (overseasFlag is dead since 2020).
        country: "JP".to_owned(),
        postal_code: postal_code(field, p)?,
        prefecture: text(&p.prefecture).to_owned(),
        city: text(&p.city).to_owned(),
        // subAddress is one string (町域, 番地 and building); splitting it would be a guess.
        address1: text(&p.sub_address).to_owned(),
        address2: String::new(),
        name: join(&[&p.family_name, &p.first_name], " "),
        phone: non_empty(join(&[&p.phone_number1, &p.phone_number2, &p.phone_number3], "-")),
    })
}

/// `name:value` lines (half- or full-width colon) → options; lines without a colon are values.
fn options(lines: &str, out: &mut Vec<ItemOption>) {
    for line in lines.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let split = line.split_once(':').or_else(|| line.split_once('：'));
        out.push(match split {
            Some((name, value)) => ItemOption { name: name.trim().to_owned(), value: value.trim().to_owned() },
            None => ItemOption { name: String::new(), value: line.to_owned() },
        });
    }
}

/// One line item; `unknown` is set when its price is not fixed yet.
fn item(field: &str, m: &ItemModel, unknown: &mut bool) -> Result<Item, NormalizeError> {
    let sku_model = m.sku_model_list.as_deref().and_then(|l| l.first());
    // SKU: system SKU number, then SKU 管理番号, then item number (old variant orders append the
    // option ids to it), then 商品管理番号, then the Rakuten item id.
    let sku = [
        sku_model.map(|s| text(&s.merchant_defined_sku_id)),
        sku_model.map(|s| text(&s.variant_id)),
        Some(text(&m.item_number)),
        Some(text(&m.manage_number)),
    ]
    .into_iter()
    .flatten()
    .map(str::trim)
    .find(|s| !s.is_empty())
    .map(str::to_owned)
    .or_else(|| m.item_id.map(|id| id.to_string()))
    .ok_or_else(|| malformed(format!("{field}: no itemNumber, manageNumber, SKU or itemId")))?;
    let units = m.units.ok_or_else(|| malformed(format!("{field}.units: missing")))?;
    let quantity = u32::try_from(units).map_err(|_| malformed(format!("{field}.units: out of range")))?;
    // Tax-included unit price: priceTaxIncl, or price when includeTaxFlag says it includes tax
    // (old shapes have no priceTaxIncl).
    let price = match (m.price_tax_incl, m.price, m.include_tax_flag) {
        (Some(p), _, _) => p,
        (None, Some(p), Some(1)) => p,
        _ => return Err(malformed(format!("{field}.priceTaxIncl: missing"))),
    };
    let unit_price = if codes::is_unknown_amount(price) {
        *unknown = true;
        0
    } else {
        price
    };
    let mut opts = Vec::new();
    if let Some(info) = sku_model.and_then(|s| s.sku_info.as_deref()) {
        options(info, &mut opts);
    }
    options(text(&m.selected_choice), &mut opts);
    Ok(Item { sku, name: text(&m.item_name).to_owned(), quantity, unit_price, options: opts })
}

fn add(field: &str, a: i64, b: i64) -> Result<i64, NormalizeError> {
    a.checked_add(b).ok_or_else(|| malformed(format!("{field}: amount out of range")))
}

/// Maps one getOrder `OrderModel` to a validated canonical Order for `shop_id`.
pub fn map_order(shop_id: &str, o: &OrderModel) -> Result<Order, NormalizeError> {
    let ordered_at = datetime("orderDatetime", &o.order_datetime)?;
    // Rakuten gives no "last updated" time: use the latest time the order carries (order, 注文確認,
    // 注文確定, 発送指示, 発送完了報告). Changes without a new time stamp (a memo edit) do not move it.
    let mut source_updated_at = ordered_at;
    for (field, value) in [
        ("shopOrderCfmDatetime", &o.shop_order_cfm_datetime),
        ("orderFixDatetime", &o.order_fix_datetime),
        ("shippingInstDatetime", &o.shipping_inst_datetime),
        ("shippingCmplRptDatetime", &o.shipping_cmpl_rpt_datetime),
    ] {
        if let Some(t) = opt_datetime(field, value)? {
            source_updated_at = source_updated_at.max(t);
        }
    }

    let orderer = o.orderer_model.as_ref().ok_or_else(|| malformed("OrdererModel: missing"))?;
    let buyer = Buyer {
        name: join(&[&orderer.family_name, &orderer.first_name], " "),
        name_kana: non_empty(join(&[&orderer.family_name_kana, &orderer.first_name_kana], " ")),
        email: non_empty(text(&orderer.email_address).trim().to_owned()),
        phone: non_empty(join(&[&orderer.phone_number1, &orderer.phone_number2, &orderer.phone_number3], "-")),
    };

    let mut unknown_amount = false;
    let mut placeholder_address = false;
    let mut items = Vec::new();
    let mut shipments = Vec::new();
    let mut tracking = Vec::new();
    let mut goods: i64 = 0;
    let mut pickup_store = false;
    let packages = o.package_model_list.as_deref().unwrap_or_default();
    for (i, p) in packages.iter().enumerate().filter(|(_, p)| p.package_delete_flag != Some(1)) {
        let field = format!("PackageModelList[{i}]");
        let sender = p.sender_model.as_ref().ok_or_else(|| malformed(format!("{field}.SenderModel: missing")))?;
        let ship_to = address(&format!("{field}.SenderModel"), sender)?;
        if [&ship_to.prefecture, &ship_to.city, &ship_to.address1, &ship_to.name]
            .iter()
            .any(|s| s.contains(codes::SOCIAL_GIFT_PLACEHOLDER))
        {
            placeholder_address = true;
        }
        pickup_store |= p.delivery_cvs_model.is_some();
        let mut package_items = Vec::new();
        for (j, m) in p.item_model_list.as_deref().unwrap_or_default().iter().enumerate() {
            if m.delete_item_flag == Some(1) {
                continue;
            }
            let it = item(&format!("{field}.ItemModelList[{j}]"), m, &mut unknown_amount)?;
            let line = i64::from(it.quantity)
                .checked_mul(it.unit_price)
                .ok_or_else(|| malformed(format!("{field}.ItemModelList[{j}].priceTaxIncl: amount out of range")))?;
            goods = add("goods", goods, line)?;
            package_items.push(it);
        }
        for (k, s) in p.shipping_model_list.as_deref().unwrap_or_default().iter().enumerate() {
            let number = text(&s.shipping_number).trim();
            if number.is_empty() {
                continue;
            }
            // Rakuten keeps only the ship date; it becomes midnight JST of that day.
            let shipped_at = date(&format!("{field}.ShippingModelList[{k}].shippingDate"), &s.shipping_date)?
                .and_then(|d| d.and_time(NaiveTime::MIN).and_local_timezone(JST).single());
            tracking.push(Tracking {
                carrier: codes::carrier(text(&s.delivery_company)),
                number: number.to_owned(),
                shipped_at,
                shipment_id: p.basket_id.map(|b| b.to_string()),
            });
        }
        items.extend(package_items.iter().cloned());
        shipments.push(Shipment { shipment_id: p.basket_id.map(|b| b.to_string()), ship_to, items: package_items });
    }
    let ship_to =
        shipments.first().map(|s| s.ship_to.clone()).ok_or_else(|| malformed("PackageModelList: no destination"))?;
    if shipments.len() < 2 {
        // One destination: ship_to says it all, shipments[] stays empty and parcels name no
        // destination (contract).
        for t in &mut tracking {
            t.shipment_id = None;
        }
        shipments.clear();
    }

    let totals = totals(o, goods, &mut unknown_amount)?;

    let mut status = codes::order_status(o.order_progress);
    let hold = o.rakuten_confirm_flag == Some(1)
        || o.caution_display_type.is_some_and(|c| c != 0)
        || unknown_amount
        || (o.social_gift_flag == Some(1) && placeholder_address);
    if hold && status.is_open() {
        status = OrderStatus::OnHold;
    }

    let (payment_method, source_payment_method) = match &o.settlement_model {
        Some(s) => {
            let name = text(&s.settlement_method).to_owned();
            let method = match s.settlement_method_code {
                Some(code) => codes::payment_method_by_code(code),
                None => codes::payment_method_by_name(&name),
            };
            let source = if name.is_empty() {
                s.settlement_method_code.map(|c| c.to_string()).unwrap_or_default()
            } else {
                name
            };
            (method, source)
        }
        None => (PaymentMethod::Other, String::new()),
    };

    let delivery_model = o.delivery_model.clone().unwrap_or_default();
    let delivery_name = text(&delivery_model.delivery_name).to_owned();
    let delivery = Delivery {
        method: codes::delivery_method(delivery_model.delivery_class, &delivery_name, pickup_store),
        source_method: delivery_name,
        requested_date: date("deliveryDate", &o.delivery_date)?,
        requested_time_slot: o.shipping_term.and_then(codes::time_slot),
    };

    let order = Order {
        schema_version: SCHEMA_VERSION,
        shop_id: shop_id.to_owned(),
        marketplace: Marketplace::Rakuten,
        order_id: o.order_number.clone(),
        ordered_at,
        source_updated_at,
        status,
        source_status: o.order_progress.to_string(),
        buyer,
        ship_to,
        shipments,
        items,
        payment_method,
        source_payment_method,
        delivery,
        totals,
        // Verbatim, Rakuten's system sections ([配送日時指定:] ...) included.
        remarks: text(&o.remarks).to_owned(),
        gift: o.gift_check_flag == Some(1) || o.social_gift_flag == Some(1),
        tracking,
        // Rakuten orders are shipped by the shop (RSL warehouse orders are not told apart by getOrder).
        fulfilled_by_marketplace: false,
    };
    order.validate().map_err(|source| NormalizeError::Invalid {
        marketplace: Marketplace::Rakuten,
        order_id: order.order_id.clone(),
        source,
    })?;
    Ok(order)
}

/// The money rules in the module doc.
fn totals(o: &OrderModel, goods: i64, unknown: &mut bool) -> Result<Totals, NormalizeError> {
    // Known amount or 0; a sentinel marks the order as having an unknown amount.
    let mut known = |v: Option<i64>| match v {
        Some(v) if codes::is_unknown_amount(v) => {
            *unknown = true;
            0
        }
        Some(v) => v,
        None => 0,
    };
    let shipping = known(o.postage_price);
    let coupons = known(o.coupon_all_total_price);
    let points = known(o.point_model.as_ref().and_then(|p| p.used_point));
    let cod_fee = known(o.delivery_price);
    let payment_fee = known(o.payment_charge);
    let surcharge = known(o.additional_fee_occur_amount_to_user);
    let wrapping1 = known(o.wrapping_model1.as_ref().and_then(|w| w.price));
    let wrapping2 = known(o.wrapping_model2.as_ref().and_then(|w| w.price));
    let request = o.request_price.map(|v| known(Some(v)));
    // goodsPrice / totalPrice are not used in the sum, but their sentinel still means "not fixed".
    known(o.goods_price);
    known(o.total_price);
    let discount = add("couponAllTotalPrice", coupons, points)?;
    match request {
        Some(total) if !*unknown => {
            let before_discount = add("requestPrice", total, discount)?;
            let fee = before_discount
                .checked_sub(goods)
                .and_then(|v| v.checked_sub(shipping))
                .ok_or_else(|| malformed("requestPrice: amount out of range"))?;
            Ok(Totals { goods, shipping, fee, discount, coupon: coupons, points, total })
        }
        _ => {
            let mut fee = 0i64;
            for v in [cod_fee, payment_fee, surcharge, wrapping1, wrapping2] {
                fee = add("fee", fee, v)?;
            }
            let gross = add("goods", add("goods", goods, shipping)?, fee)?;
            let discount = discount.min(gross);
            let total = gross.checked_sub(discount).ok_or_else(|| malformed("requestPrice: amount out of range"))?;
            // The cap takes from the points first: coupons are what the buyer was shown as a line.
            let coupon = coupons.min(discount);
            let points = points.min(discount - coupon);
            Ok(Totals { goods, shipping, fee, discount, coupon, points, total })
        }
    }
}
