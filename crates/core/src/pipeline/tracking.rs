//! Tracking import: the rows of an issued-label file (or a plain CSV) matched to the shop's
//! parcels, checked, and recorded all together or not at all.

use std::collections::BTreeMap;

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveTime, TimeZone};

use crate::labels::issued::{IssuedRow, RowProblem, RowRef};
use crate::marketplace::JST;
use crate::order::{Marketplace, OrderStatus, Tracking};
use crate::stock::StockStore;

use super::holdings;
use super::ports::OrderStore;
use super::shipping::{Recorded, ShipError, TrackingWrites, check_recordable, record_with, same_number};
use super::stored::{OrderKey, StoredOrder};

/// One row matched to its parcel.
#[derive(Debug, Clone, PartialEq)]
pub struct Matched {
    /// 1-based line of the file.
    pub line: usize,
    /// The order.
    pub order: OrderKey,
    /// 1-based destination.
    pub destination: usize,
    /// What to record.
    pub tracking: Tracking,
    /// What recording it does: a new number, or one already recorded.
    pub outcome: Recorded,
}

/// What an import did, or would do.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ImportReport {
    /// Rows matched and valid.
    pub matched: Vec<Matched>,
    /// Rows that could not be matched or are invalid: when any, nothing was recorded.
    pub problems: Vec<RowProblem>,
    /// Whether the rows were recorded.
    pub applied: bool,
}

impl ImportReport {
    /// Parcels that became 出荷済.
    pub fn shipped(&self) -> usize {
        self.matched.iter().filter(|m| self.applied && m.outcome == Recorded::Shipped).count()
    }

    /// Rows whose number was recorded before.
    pub fn unchanged(&self) -> usize {
        self.matched.iter().filter(|m| m.outcome == Recorded::Unchanged).count()
    }
}

/// Matches `rows` to the shop's stored orders and checks each; when every row (and every line
/// `read_problems` names) is fine, records them all. A key that matches two orders is unmatched.
pub async fn import_tracking<S: OrderStore + TrackingWrites, K: StockStore>(
    store: &S,
    stock: &K,
    shop_id: &str,
    rows: &[IssuedRow],
    read_problems: Vec<RowProblem>,
    now: DateTime<FixedOffset>,
) -> Result<ImportReport, ShipError> {
    let mut orders: Vec<StoredOrder> = Vec::new();
    // A file may name an order in any status.
    for status in OrderStatus::ALL {
        orders.extend(store.list_by_status(shop_id, status, None, None).await?);
    }
    let mut report = ImportReport { problems: read_problems, ..ImportReport::default() };
    // (order, destination) → (line, tracking) of the file so far.
    let mut seen: BTreeMap<(OrderKey, usize), (usize, Tracking)> = BTreeMap::new();
    for row in rows {
        match match_row(&orders, row, now) {
            Err(reason) => report.problems.push(RowProblem { line: row.line, reason }),
            Ok((lead, destination, tracking)) => {
                // The parcel's own order, and the 同梱 orders that travel in its first destination.
                let members = orders.iter().filter(|s| destination == 1 && s.ship_with.as_ref() == Some(&lead.key()));
                for (stored, destination) in std::iter::once((lead, destination)).chain(members.map(|m| (m, 1))) {
                    let key = stored.key();
                    if let Some((line, earlier)) = seen.get(&(key.clone(), destination)) {
                        if !same_number(earlier, &tracking) {
                            report.problems.push(RowProblem {
                                line: row.line,
                                reason: format!("{line}行目と同じ荷物に別の伝票番号があります"),
                            });
                        }
                        continue;
                    }
                    match check_recordable(stored, destination, &tracking) {
                        Ok(outcome) => {
                            seen.insert((key.clone(), destination), (row.line, tracking.clone()));
                            let tracking = tracking.clone();
                            report.matched.push(Matched { line: row.line, order: key, destination, tracking, outcome });
                        }
                        Err(e) => report.problems.push(RowProblem { line: row.line, reason: e.to_string() }),
                    }
                }
            }
        }
    }
    report.problems.sort_by_key(|p| p.line);
    if !report.problems.is_empty() {
        return Ok(report);
    }
    let catalogue = holdings::catalogue(stock, shop_id).await?;
    for m in &mut report.matched {
        m.outcome = record_with(store, stock, &catalogue, &m.order, m.destination, m.tracking.clone(), now).await?;
    }
    report.applied = true;
    Ok(report)
}

/// The stored order and destination a row names, and the tracking to record.
fn match_row<'a>(
    orders: &'a [StoredOrder],
    row: &IssuedRow,
    now: DateTime<FixedOffset>,
) -> Result<(&'a StoredOrder, usize, Tracking), String> {
    let (stored, destination) = match &row.parcel {
        RowRef::Parcel(key) => {
            let hits: Vec<(&StoredOrder, usize)> =
                orders.iter().filter_map(|s| key.matches(&s.order).map(|d| (s, d))).collect();
            match hits.as_slice() {
                [one] => *one,
                [] => return Err("お客様管理番号に合う注文がありません".to_string()),
                _ => return Err("お客様管理番号が複数の注文に合います(照合できません)".to_string()),
            }
        }
        RowRef::Order(text) => {
            let (marketplace, id) = match text.split_once('/') {
                Some((m, id)) => match m.parse::<Marketplace>() {
                    Ok(m) => (Some(m), id),
                    Err(_) => (None, text.as_str()),
                },
                None => (None, text.as_str()),
            };
            let hits: Vec<&StoredOrder> = orders
                .iter()
                .filter(|s| s.order.order_id == id && marketplace.is_none_or(|m| s.order.marketplace == m))
                .collect();
            let stored = match hits.as_slice() {
                [one] => *one,
                [] => return Err("注文番号に合う注文がありません".to_string()),
                _ => {
                    return Err(
                        "注文番号が複数のモールの注文に合います(モール/注文番号 で指定してください)".to_string()
                    );
                }
            };
            if stored.order.destinations().count() > 1 {
                return Err("送付先が複数ある注文です。お客様管理番号で荷物を指定してください".to_string());
            }
            (stored, 1)
        }
    };
    let tracking = Tracking {
        carrier: row.carrier,
        number: row.number.clone(),
        shipped_at: Some(shipped_at(row.date, now)),
        shipment_id: None,
    };
    Ok((stored, destination, tracking))
}

/// The hand-over time of a parcel shipped on `date` (noon JST: the day is all the file says),
/// or now when the file gives no date.
pub fn shipped_at(date: Option<NaiveDate>, now: DateTime<FixedOffset>) -> DateTime<FixedOffset> {
    date.and_then(|d| JST.from_local_datetime(&d.and_time(NaiveTime::from_hms_opt(12, 0, 0)?)).single()).unwrap_or(now)
}
