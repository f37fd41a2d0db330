//! The sandbox's own order state: searched by time window, read by id, changed by write-backs.

use std::collections::HashMap;
use std::sync::RwLock;

use chrono::{DateTime, Duration, FixedOffset, Utc};
use ichigen_core::Order;

/// Orders of one sandbox marketplace.
#[derive(Debug)]
pub struct OrderBook {
    inner: RwLock<Inner>,
}

#[derive(Debug)]
struct Inner {
    orders: Vec<Order>,
    by_id: HashMap<String, usize>,
}

/// Which time a search filters on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeField {
    /// `ordered_at`.
    Ordered,
    /// `source_updated_at`.
    Updated,
}

impl OrderBook {
    /// A book holding `orders` (ids must be unique; later duplicates are dropped).
    pub fn new(orders: Vec<Order>) -> OrderBook {
        let mut inner = Inner { orders: Vec::with_capacity(orders.len()), by_id: HashMap::new() };
        for o in orders {
            if !inner.by_id.contains_key(&o.order_id) {
                inner.by_id.insert(o.order_id.clone(), inner.orders.len());
                inner.orders.push(o);
            }
        }
        OrderBook { inner: RwLock::new(inner) }
    }

    /// Adds an order a buyer placed (false, and nothing added, when its id is taken).
    pub fn insert(&self, order: Order) -> bool {
        let Ok(mut inner) = self.inner.write() else { return false };
        if inner.by_id.contains_key(&order.order_id) {
            return false;
        }
        let at = inner.orders.len();
        inner.by_id.insert(order.order_id.clone(), at);
        inner.orders.push(order);
        true
    }

    /// Number of orders.
    pub fn len(&self) -> usize {
        self.inner.read().map(|i| i.orders.len()).unwrap_or(0)
    }

    /// Whether the book is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Orders whose `field` is in `[from, to]` (inclusive, as the marketplace APIs search), oldest
    /// first, ties by id: a stable order so paging neither skips nor repeats.
    pub fn search(&self, field: TimeField, from: DateTime<FixedOffset>, to: DateTime<FixedOffset>) -> Vec<Order> {
        let Ok(inner) = self.inner.read() else { return Vec::new() };
        let now = Utc::now().fixed_offset();
        let at = |o: &Order| match field {
            TimeField::Ordered => o.ordered_at,
            TimeField::Updated => o.source_updated_at,
        };
        let mut hits: Vec<Order> =
            inner.orders.iter().filter(|o| placed(o, now) && at(o) >= from && at(o) <= to).cloned().collect();
        hits.sort_by(|a, b| at(a).cmp(&at(b)).then_with(|| a.order_id.cmp(&b.order_id)));
        hits
    }

    /// One order by id, once it is placed.
    pub fn get(&self, order_id: &str) -> Option<Order> {
        let inner = self.inner.read().ok()?;
        let o = inner.by_id.get(order_id).map(|&i| &inner.orders[i])?;
        placed(o, Utc::now().fixed_offset()).then(|| o.clone())
    }

    /// Changes an order as a write-back does, and moves its update time to now (at least one
    /// second after the previous one), so the next search for changes finds it.
    pub fn update(&self, order_id: &str, change: impl FnOnce(&mut Order)) -> Option<Order> {
        let mut inner = self.inner.write().ok()?;
        let &i = inner.by_id.get(order_id)?;
        let o = &mut inner.orders[i];
        change(o);
        let now = Utc::now().fixed_offset().with_timezone(&jst());
        o.source_updated_at = now.max(o.source_updated_at + Duration::seconds(1));
        Some(o.clone())
    }

    /// Changes an order the way a marketplace does without a write-back: `at` is the update time
    /// the marketplace gives the change (`None`: the time does not move, as 楽天, au PAY and Qoo10
    /// leave it on some changes; an instant before the puller's watermark minus its overlap: a
    /// change indexed late). For the fault-injection harness (crates/faults).
    pub fn update_at(
        &self,
        order_id: &str,
        at: Option<DateTime<FixedOffset>>,
        change: impl FnOnce(&mut Order),
    ) -> Option<Order> {
        let mut inner = self.inner.write().ok()?;
        let &i = inner.by_id.get(order_id)?;
        let o = &mut inner.orders[i];
        change(o);
        if let Some(at) = at {
            o.source_updated_at = at;
        }
        Some(o.clone())
    }

    /// Every order placed so far, in insertion order.
    pub fn all(&self) -> Vec<Order> {
        let now = Utc::now().fixed_offset();
        self.inner.read().map(|i| i.orders.iter().filter(|o| placed(o, now)).cloned().collect()).unwrap_or_default()
    }

    /// Every order, also those timed to be placed later (for tests and benches to know what is
    /// coming).
    pub fn scheduled(&self) -> Vec<Order> {
        self.inner.read().map(|i| i.orders.clone()).unwrap_or_default()
    }
}

/// Whether `o` exists at `now`: an order seeded with a time to come is placed when that time
/// comes, as a marketplace shows no order before a buyer placed it.
fn placed(o: &Order, now: DateTime<FixedOffset>) -> bool {
    o.ordered_at <= now
}

/// Japan Standard Time.
pub fn jst() -> FixedOffset {
    ichigen_core::JST
}
