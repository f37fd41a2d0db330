//! Marketplace response bodies: `normalize` as the CLI and tests call it, and the lenient
//! readers the puller's clients call page by page.

use ichigen_core::Marketplace;
use ichigen_marketplaces::qoo10::{OPERATION_BY_ORDER, OPERATION_CLAIMS, OPERATION_V2};
use ichigen_marketplaces::{BadOrder, Body, NormalizeError, amazon, aupay as au, qoo10 as q, rakuten as r};

use crate::{SHOP, assert_no_marker, assert_sound_order};

/// 楽天 RMS: getOrder bodies, whole and order by order.
pub fn rakuten(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    normalized(Marketplace::Rakuten, &["getOrder.json"], &text);
    if let Some((models, bad)) = ok(&text, r::parse_get_order_lenient(&text)) {
        bad_orders(&text, &bad);
        for m in &models {
            mapped(Marketplace::Rakuten, &text, r::map_order(SHOP, m));
        }
    }
}

/// Yahoo!ショッピング: orderInfo bodies (the body's name tells the operation in messages).
pub fn yahoo(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    normalized(Marketplace::Yahoo, &["orderInfo.xml", "orderList_page1.xml"], &text);
}

/// Amazon SP-API: searchOrders and getOrder bodies, whole and order by order.
pub fn amazon(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let names = ["searchOrders.json", "getOrder.json", "body.json"];
    normalized(Marketplace::Amazon, &names, &text);
    let search = Body { name: amazon::SEARCH_ORDERS.into(), text: text.to_string() };
    if let Some(page) = ok(&text, amazon::parse_search_lenient(&search)) {
        bad_orders(&text, &page.bad);
        for o in &page.orders {
            mapped(Marketplace::Amazon, &text, amazon::map_order(SHOP, amazon::SEARCH_ORDERS, o));
        }
    }
    let get = Body { name: amazon::GET_ORDER.into(), text: text.to_string() };
    if let Some(inner) = ok(&text, amazon::parse_get_order_split(&get)) {
        if let Some(o) = ok(&text, inner) {
            mapped(Marketplace::Amazon, &text, amazon::map_order(SHOP, amazon::GET_ORDER, &o));
        }
    }
}

/// au PAY マーケット: searchTradeInfoListProc bodies, whole and order by order.
pub fn aupay(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    normalized(Marketplace::Aupay, &["searchTradeInfoListProc.xml"], &text);
    if let Some(response) = ok(&text, au::parse_body(&text)) {
        for info in &response.order_info {
            // As the client does: au PAY's map_order leaves validation to its caller.
            if let Some(o) = ok(&text, au::map_order(SHOP, info)) {
                if let Err(source) = o.validate() {
                    let order_id = o.order_id.clone();
                    error_without_values(
                        &text,
                        &NormalizeError::Invalid { marketplace: Marketplace::Aupay, order_id, source },
                    );
                } else {
                    sound(Marketplace::Aupay, &o);
                }
            }
        }
    }
}

/// Qoo10 QSM: shipping, claim and by-order answers (JSON or XML), whole and row by row.
pub fn qoo10(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    normalized(Marketplace::Qoo10, &["GetShippingInfo_v2.json"], &text);
    let body = Body { name: "GetShippingInfo_v2.json".into(), text: text.to_string() };
    if let Some((_, rows, bad_rows)) = ok(&text, q::parse_body_lenient(&body)) {
        let rows = rows.into_iter().map(|row| (OPERATION_V2, row)).collect();
        if let Some((orders, bad)) = ok(&text, q::orders_from_rows_lenient(SHOP, rows, bad_rows)) {
            bad_orders(&text, &bad);
            for o in &orders {
                sound(Marketplace::Qoo10, o);
            }
        }
    }
    let _ = ok(&text, q::claim_rows(&text));
    if let Some((_, objects)) = ok(&text, q::json_objects(OPERATION_BY_ORDER, &text)) {
        for (i, obj) in objects.into_iter().enumerate() {
            let _ = ok(&text, q::row_from_object(OPERATION_BY_ORDER, i, obj.clone()));
            let _ = ok(&text, q::claim_row(i, obj));
        }
    }
    let _ = ok(&text, q::json_objects(OPERATION_CLAIMS, &text));
}

/// `normalize` of one body under each name: the orders are sound, the error names no value.
fn normalized(marketplace: Marketplace, names: &[&str], text: &str) {
    for name in names {
        let bodies = [Body { name: (*name).into(), text: text.to_owned() }];
        if let Some(orders) = ok(text, ichigen_marketplaces::normalize(marketplace, SHOP, &bodies)) {
            for o in &orders {
                sound(marketplace, o);
            }
        }
    }
}

/// One mapped order: sound when it maps, an error without values when it does not.
fn mapped(marketplace: Marketplace, text: &str, result: Result<ichigen_core::Order, NormalizeError>) {
    if let Some(o) = ok(text, result) {
        sound(marketplace, &o);
    }
}

fn sound(marketplace: Marketplace, o: &ichigen_core::Order) {
    assert_eq!(o.marketplace, marketplace, "order of another marketplace");
    assert_eq!(o.shop_id, SHOP, "order of another shop");
    assert_sound_order(o);
}

/// The value, or `None` after checking that the error names no value from the input.
fn ok<T>(text: &str, result: Result<T, NormalizeError>) -> Option<T> {
    match result {
        Ok(v) => Some(v),
        Err(e) => {
            error_without_values(text, &e);
            None
        }
    }
}

fn bad_orders(text: &str, bad: &[BadOrder]) {
    for b in bad {
        error_without_values(text, &b.error);
    }
}

/// `Malformed` names the field, `Invalid` says what validation found: neither quotes a value.
/// (`Api` is the marketplace's own error text, and an order id is an id: both may be shown.)
fn error_without_values(text: &str, e: &NormalizeError) {
    match e {
        NormalizeError::Api { .. } => {}
        NormalizeError::Malformed { detail, .. } => assert_no_marker(text, "a malformed-body error", detail),
        NormalizeError::Invalid { source, .. } => assert_no_marker(text, "a validation error", &source.to_string()),
    }
    // Every message must also format without trouble.
    let _ = e.to_string();
}
