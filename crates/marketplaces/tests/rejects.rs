//! Reading a page order by order: one order whose fields do not read is set aside with its id,
//! the others still read, and a body that is not the operation's answer still fails as a whole.
//! The strict `normalize` (the CLI's) keeps failing on the same bodies.

// Test helpers may unwrap: a failure is a test failure.
#![allow(clippy::unwrap_used)]

use ichigen_core::Marketplace;
use ichigen_marketplaces::{Body, NormalizeError, amazon, qoo10, rakuten};
use serde_json::{Value, json};

fn fixture(path: &str) -> Value {
    let text = std::fs::read_to_string(format!("{}/tests/fixtures/{path}", env!("CARGO_MANIFEST_DIR"))).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn body(name: &str, value: &Value) -> Body {
    Body { name: name.to_owned(), text: value.to_string() }
}

/// Two getOrder orders in one body, the second changed by `break_it`.
fn rakuten_pair(break_it: impl Fn(&mut Value)) -> Value {
    let mut page = fixture("rakuten/multi_item_card.json");
    let mut second = fixture("rakuten/cancelled.json")["OrderModelList"][0].clone();
    break_it(&mut second);
    page["OrderModelList"].as_array_mut().unwrap().push(second);
    page
}

#[test]
fn rakuten_an_order_missing_a_required_field_is_set_aside_with_its_number() {
    let page = rakuten_pair(|o| {
        o.as_object_mut().unwrap().remove("orderDatetime");
    });
    let (good, bad) = rakuten::parse_get_order_lenient(&page.to_string()).unwrap();
    assert_eq!(good.len(), 1);
    assert_eq!(good[0].order_number, "999999-20250301-0000000101");
    assert_eq!(bad.len(), 1);
    assert_eq!(bad[0].order_id.as_deref(), Some("999999-20250303-0000000103"));
    assert!(bad[0].ordered_at.is_none());
    let reason = bad[0].error.to_string();
    assert!(reason.contains("orderDatetime") && reason.contains("OrderModelList[1]"), "{reason}");

    // The CLI's strict reading still refuses the body.
    let strict = rakuten::normalize("shop-1", &[body("page.json", &page)]);
    assert!(matches!(strict, Err(NormalizeError::Malformed { .. })), "{strict:?}");
}

#[test]
fn rakuten_an_order_without_a_readable_number_is_set_aside_without_one() {
    let page = rakuten_pair(|o| o["orderNumber"] = json!({"not": "text"}));
    let (good, bad) = rakuten::parse_get_order_lenient(&page.to_string()).unwrap();
    assert_eq!((good.len(), bad.len()), (1, 1));
    assert_eq!(bad[0].order_id, None);
    // Its order time still reads, so a client can tell which window it belongs to.
    assert!(bad[0].ordered_at.is_some());
}

#[test]
fn rakuten_a_body_that_is_no_getorder_answer_still_fails_whole() {
    let text = fixture("rakuten/cancelled.json").to_string();
    let cut = &text[..text.len() / 2];
    assert!(matches!(rakuten::parse_get_order_lenient(cut), Err(NormalizeError::Malformed { .. })));
    let error = r#"{"Results":{"errorCode":"ES01-01","message":"Un-Authorised"}}"#;
    assert!(matches!(rakuten::parse_get_order_lenient(error), Err(NormalizeError::Api { .. })));
}

#[test]
fn amazon_an_order_missing_a_required_field_is_set_aside_with_its_id() {
    let mut page = fixture("amazon/searchOrders_page1.json");
    page["orders"][1].as_object_mut().unwrap().remove("lastUpdatedTime");
    let amazon::SearchPage { orders: good, bad, next_token: next } =
        amazon::parse_search_lenient(&body("searchOrders_page1.json", &page)).unwrap();
    assert_eq!(good.len(), 1);
    assert_eq!(good[0].order_id, "503-1000001-0000001");
    assert_eq!(bad.len(), 1);
    assert_eq!(bad[0].order_id.as_deref(), Some("503-1000002-0000002"));
    assert!(bad[0].ordered_at.is_some(), "createdTime still reads");
    let reason = bad[0].error.to_string();
    assert!(reason.contains("orders[1]") && reason.contains("lastUpdatedTime"), "{reason}");
    assert!(next.is_some(), "the page's nextToken is kept");

    let strict = amazon::normalize("shop-1", &[body("searchOrders_page1.json", &page)]);
    assert!(matches!(strict, Err(NormalizeError::Malformed { .. })), "{strict:?}");
}

#[test]
fn amazon_a_body_of_another_operation_still_fails_whole() {
    let order = fixture("amazon/getOrder_1000005_fba.json");
    let err = amazon::parse_search_lenient(&body("page.json", &order)).unwrap_err();
    assert!(matches!(err, NormalizeError::Malformed { marketplace: Marketplace::Amazon, .. }), "{err}");
}

#[test]
fn qoo10_a_line_that_does_not_read_sets_its_whole_pack_aside() {
    let mut page = fixture("qoo10/several_packs.json");
    // The second line of pack 900000701; its first line reads fine.
    page["ResultObject"][2]["orderQty"] = json!([3]);
    let (operation, rows, bad_rows) = qoo10::parse_body_lenient(&body("several_packs.json", &page)).unwrap();
    assert_eq!((rows.len(), bad_rows.len()), (2, 1));
    assert_eq!(bad_rows[0].0.as_deref(), Some("900000701"));
    let rows = rows.into_iter().map(|r| (operation, r)).collect();
    let (orders, bad) = qoo10::orders_from_rows_lenient("shop-1", rows, bad_rows).unwrap();
    assert_eq!(orders.iter().map(|o| o.order_id.as_str()).collect::<Vec<_>>(), ["900000801"]);
    assert_eq!(bad.len(), 1);
    assert_eq!(bad[0].order_id.as_deref(), Some("900000701"));
    assert!(bad[0].error.to_string().contains("ResultObject[2].orderQty"), "{}", bad[0].error);

    let strict = qoo10::normalize("shop-1", &[body("several_packs.json", &page)]);
    assert!(matches!(strict, Err(NormalizeError::Malformed { .. })), "{strict:?}");
}

#[test]
fn qoo10_a_broken_line_of_no_known_pack_fails_the_page() {
    let mut page = fixture("qoo10/several_packs.json");
    let row = page["ResultObject"][1].as_object_mut().unwrap();
    row.remove("packNo");
    row.remove("orderNo");
    row.insert("orderQty".into(), json!({"n": 1}));
    let (operation, rows, bad_rows) = qoo10::parse_body_lenient(&body("several_packs.json", &page)).unwrap();
    assert_eq!(bad_rows[0].0, None);
    let rows = rows.into_iter().map(|r| (operation, r)).collect();
    assert!(qoo10::orders_from_rows_lenient("shop-1", rows, bad_rows).is_err());
}

#[test]
fn qoo10_a_broken_line_whose_pack_number_does_not_read_fails_the_page() {
    // Its orderNo reads, but it is no pack key while packNo is there: the pack is unknown.
    let mut page = fixture("qoo10/several_packs.json");
    page["ResultObject"][2]["packNo"] = json!({"n": 900000701});
    let (operation, rows, bad_rows) = qoo10::parse_body_lenient(&body("several_packs.json", &page)).unwrap();
    assert_eq!(bad_rows[0].0, None);
    let rows = rows.into_iter().map(|r| (operation, r)).collect();
    assert!(qoo10::orders_from_rows_lenient("shop-1", rows, bad_rows).is_err());
}
