//! The orders as one CSV row per item line, for Excel and for packing: UTF-8 with a byte order
//! mark (so Excel reads the Japanese as UTF-8), CRLF line ends, Japanese headers ([`COLUMNS`]; the
//! README documents each). `ichigen export --format csv` and the staff console's download write it.
//!
//! It holds what a shop needs to ship (destination name, address, phone): the shop's own data
//! going to the shop's own file. Every cell goes through [`spreadsheet::cell`]: buyer text that
//! starts like a formula is written as text.

use std::io::Write;

use serde::Serialize;

use crate::marketplace::JST;
use crate::order::{Address, Item};
use crate::pipeline::StoredOrder;
use crate::spreadsheet;

/// Why the CSV could not be written.
#[derive(Debug, thiserror::Error)]
#[error("writing the CSV: {0}")]
pub struct CsvError(#[from] csv::Error);

fn wire<T: Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => s,
        _ => String::new(),
    }
}

/// The header row.
pub const COLUMNS: [&str; 33] = [
    "モール",
    "モールコード",
    "注文番号",
    "注文日時",
    "ステータス",
    "モールステータス",
    "明細番号",
    "配送先番号",
    "SKU",
    "商品名",
    "オプション",
    "数量",
    "単価",
    "小計",
    "商品合計",
    "送料",
    "手数料",
    "割引",
    "合計",
    "支払方法",
    "モール支払方法",
    "配送方法",
    "お届け希望日",
    "お届け時間帯",
    "送付先氏名",
    "送付先郵便番号",
    "送付先都道府県",
    "送付先住所",
    "送付先電話番号",
    "ギフト",
    "備考",
    "検出コード",
    "保留",
];

/// The item lines of an order with the destination of each: per shipment when the order has
/// several destinations, else every item to the order's `ship_to`.
fn lines(s: &StoredOrder) -> Vec<(usize, &Address, &Item)> {
    let o = &s.order;
    if o.shipments.is_empty() {
        o.items.iter().map(|i| (1, &o.ship_to, i)).collect()
    } else {
        o.shipments
            .iter()
            .enumerate()
            .flat_map(|(n, sh)| sh.items.iter().map(move |i| (n + 1, &sh.ship_to, i)))
            .collect()
    }
}

/// The rows of one order.
pub fn rows(s: &StoredOrder) -> Vec<Vec<String>> {
    let o = &s.order;
    let t = &o.totals;
    let codes = s.findings.iter().map(|f| f.code.as_str()).collect::<Vec<_>>().join(" ");
    lines(s)
        .into_iter()
        .enumerate()
        .map(|(n, (destination, to, item))| {
            let options =
                item.options.iter().map(|op| format!("{}:{}", op.name, op.value)).collect::<Vec<_>>().join(" / ");
            let subtotal = item.unit_price * i64::from(item.quantity);
            vec![
                crate::pipeline::mail::marketplace_name(o.marketplace).to_string(),
                o.marketplace.as_str().to_string(),
                o.order_id.clone(),
                o.ordered_at.with_timezone(&JST).format("%Y-%m-%d %H:%M:%S").to_string(),
                wire(&s.status),
                o.source_status.clone(),
                (n + 1).to_string(),
                destination.to_string(),
                item.sku.clone(),
                item.name.clone(),
                options,
                item.quantity.to_string(),
                item.unit_price.to_string(),
                subtotal.to_string(),
                t.goods.to_string(),
                t.shipping.to_string(),
                t.fee.to_string(),
                t.discount.to_string(),
                t.total.to_string(),
                wire(&o.payment_method),
                o.source_payment_method.clone(),
                wire(&o.delivery.method),
                o.delivery.requested_date.map(|d| d.to_string()).unwrap_or_default(),
                o.delivery.requested_time_slot.clone().unwrap_or_default(),
                to.name.clone(),
                to.postal_code.clone(),
                to.prefecture.clone(),
                format!(
                    "{}{}{}",
                    to.city,
                    to.address1,
                    if to.address2.is_empty() { String::new() } else { format!(" {}", to.address2) }
                ),
                to.phone.clone().unwrap_or_default(),
                if o.gift { "1" } else { "0" }.to_string(),
                o.remarks.clone(),
                codes.clone(),
                if s.is_held() { "1" } else { "0" }.to_string(),
            ]
        })
        .collect()
}

/// Writes the CSV of `orders` to `out`; returns the number of rows.
pub fn write_csv(orders: &[StoredOrder], out: impl Write) -> Result<usize, CsvError> {
    let mut csv = spreadsheet::csv_writer(out)?;
    spreadsheet::write_row(&mut csv, COLUMNS)?;
    let mut n = 0;
    for s in orders {
        for row in rows(s) {
            spreadsheet::write_row(&mut csv, &row)?;
            n += 1;
        }
    }
    csv.flush().map_err(csv::Error::from)?;
    Ok(n)
}
