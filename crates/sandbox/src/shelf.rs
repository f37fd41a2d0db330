//! A sandbox marketplace's own stock (在庫): one number per item the mall knows, as its fact
//! sheet (`../shared/marketplaces/inventory.md`) describes it. What the marketplaces share is here;
//! what differs (the key, whether an unknown item is taken silently, whether a cancel restores)
//! is each sandbox's choice.
//!
//! - An API write shows only after the mall's delay ([`Shelf::set_latency`]): until then reads
//!   and buyers see the old number, and a sale meanwhile counts down the old number — the write
//!   then lands over it, as an absolute write does.
//! - A staff edit in the mall's own screen ([`Shelf::edit`]) shows at once.
//! - A buyer takes units only when every item of the order shows enough ([`Shelf::sell`]): a
//!   buyer on a sold-out item gets no order.
//! - A cancellation gives the order's units back only where the mall restores
//!   ([`Shelf::cancel`]), once.
//! - A real mall's stock outlives any client: [`Shelf::kept`] and [`Shelf::restore`] carry the
//!   numbers over a restart of the sandbox (the demo keeps them in its folder).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use ichigen_core::sample::SampleOrders;
use ichigen_core::{Item, Marketplace, Order, OrderStatus};
use serde::{Deserialize, Serialize};

/// One item the mall knows.
#[derive(Debug, Clone)]
struct Entry {
    /// What buyers and reads see now.
    shown: i64,
    /// API writes not showing yet: (when it shows, the number), oldest first.
    pending: Vec<(Instant, i64)>,
    /// Whether a cancellation gives the units back (楽天 在庫戻しフラグ, Yahoo 購入者キャンセル在庫取り扱い ...).
    restock_on_cancel: bool,
    /// The mall keeps this item's stock itself (Amazon FBA).
    mall_managed: bool,
    /// When the number shown last changed.
    changed: DateTime<Utc>,
}

impl Entry {
    fn new(shown: i64, restock_on_cancel: bool, mall_managed: bool) -> Entry {
        Entry { shown, pending: Vec::new(), restock_on_cancel, mall_managed, changed: Utc::now() }
    }

    /// Lets every write due by `now` show.
    fn settle(&mut self, now: Instant) {
        let due = self.pending.iter().take_while(|(at, _)| *at <= now).count();
        for (_, n) in self.pending.drain(..due) {
            self.shown = n;
            self.changed = Utc::now();
        }
    }
}

#[derive(Debug, Default)]
struct Inner {
    items: HashMap<String, Entry>,
    /// Numbers written for keys the mall does not know (楽天 keeps such a row, attached to
    /// nothing; Yahoo links it to an item registered later).
    orphans: HashMap<String, i64>,
    latency: Duration,
    /// What each order took: (key, units), until a cancel settles it.
    sales: HashMap<String, Vec<(String, i64)>>,
    write_calls: u64,
    read_calls: u64,
}

/// The stock one sandbox marketplace keeps.
#[derive(Debug, Default)]
pub struct Shelf {
    inner: Mutex<Inner>,
}

/// Whether a cancellation gives the units back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Restock {
    /// As each item's own setting says (楽天 在庫戻しフラグ, Yahoo 購入者キャンセル在庫取り扱い).
    FollowItem,
    /// Always (楽天 `inventoryRestoreType` 1, Amazon buyer cancel).
    Always,
    /// Never (楽天 `inventoryRestoreType` 2, Amazon "no inventory").
    Never,
}

/// One item's number as the mall keeps it over a restart of the sandbox ([`Shelf::kept`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Kept {
    /// The mall's key of the item.
    pub key: String,
    /// What it shows once every write it took has landed.
    pub units: i64,
    /// When that number last changed.
    pub changed: DateTime<Utc>,
}

/// What an API write of one key did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Put {
    /// Will show after the mall's delay.
    Taken,
    /// The mall does not know the key; the number was kept apart, attached to nothing.
    Orphaned,
    /// The mall does not know the key and kept nothing.
    Unknown,
}

impl Shelf {
    /// An empty shelf whose writes show after `latency`.
    pub fn new(latency: Duration) -> Shelf {
        Shelf { inner: Mutex::new(Inner { latency, ..Inner::default() }) }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Changes the delay before an API write shows (tests scale it down).
    pub fn set_latency(&self, latency: Duration) {
        self.lock().latency = latency;
    }

    /// The delay before an API write shows.
    pub fn latency(&self) -> Duration {
        self.lock().latency
    }

    /// Registers an item in the mall (staff listing it) with `units` shown; a number written
    /// for the key before, kept apart, becomes its number (Yahoo links it).
    pub fn list(&self, key: &str, units: i64, restock_on_cancel: bool) {
        let mut inner = self.lock();
        let units = inner.orphans.remove(key).unwrap_or(units);
        inner.items.insert(key.to_owned(), Entry::new(units, restock_on_cancel, false));
    }

    /// Registers an item whose stock the mall keeps itself (Amazon FBA).
    pub fn list_mall_managed(&self, key: &str, units: i64) {
        self.lock().items.insert(key.to_owned(), Entry::new(units, true, true));
    }

    /// Whether the mall knows `key`.
    pub fn knows(&self, key: &str) -> bool {
        self.lock().items.contains_key(key)
    }

    /// Whether the mall keeps `key`'s stock itself.
    pub fn is_mall_managed(&self, key: &str) -> bool {
        self.lock().items.get(key).is_some_and(|e| e.mall_managed)
    }

    /// A staff member changes the number in the mall's own screen: it shows at once, and
    /// writes still pending are dropped (the screen shows the last word). False for an unknown key.
    pub fn edit(&self, key: &str, units: i64) -> bool {
        let mut inner = self.lock();
        match inner.items.get_mut(key) {
            Some(e) => {
                e.pending.clear();
                e.shown = units;
                e.changed = Utc::now();
                true
            }
            None => false,
        }
    }

    /// Counts one write call of the API (whatever it carried).
    pub fn count_write_call(&self) {
        self.lock().write_calls += 1;
    }

    /// Counts one read call of the API.
    pub fn count_read_call(&self) {
        self.lock().read_calls += 1;
    }

    /// Write calls received so far.
    pub fn write_calls(&self) -> u64 {
        self.lock().write_calls
    }

    /// Read calls received so far.
    pub fn read_calls(&self) -> u64 {
        self.lock().read_calls
    }

    /// An API write of `units` for `key`: shows after the delay. `keep_unknown`: the mall takes
    /// a number for a key it does not know and keeps it apart (楽天, Yahoo).
    pub fn put(&self, key: &str, units: i64, keep_unknown: bool) -> Put {
        let mut inner = self.lock();
        let at = Instant::now() + inner.latency;
        match inner.items.get_mut(key) {
            Some(e) => {
                e.pending.push((at, units));
                Put::Taken
            }
            None if keep_unknown => {
                inner.orphans.insert(key.to_owned(), units);
                Put::Orphaned
            }
            None => Put::Unknown,
        }
    }

    /// What the mall shows for `key` now (`None`: it does not know it).
    pub fn shown(&self, key: &str) -> Option<i64> {
        self.row(key).map(|(n, _)| n)
    }

    /// What the mall shows for `key` now and when that number last changed.
    pub fn row(&self, key: &str) -> Option<(i64, DateTime<Utc>)> {
        let mut inner = self.lock();
        let e = inner.items.get_mut(key)?;
        e.settle(Instant::now());
        Some((e.shown, e.changed))
    }

    /// Every item the mall knows: (key, shown now, last changed), by key.
    pub fn rows(&self) -> Vec<(String, i64, DateTime<Utc>)> {
        let mut inner = self.lock();
        let now = Instant::now();
        let mut out: Vec<_> = inner
            .items
            .iter_mut()
            .map(|(k, e)| {
                e.settle(now);
                (k.clone(), e.shown, e.changed)
            })
            .collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }

    /// Lets every write on its way show now, as if the mall's delay had passed: for a caller that
    /// compresses time (the demo's afternoon comes hours after its morning, in seconds).
    pub fn land_pending(&self) {
        let mut inner = self.lock();
        for e in inner.items.values_mut() {
            if let Some((_, n)) = e.pending.last() {
                e.shown = *n;
                e.changed = Utc::now();
                e.pending.clear();
            }
        }
    }

    /// Every item the mall knows with the number it shows once every write it took has landed
    /// (a write still inside the mall's delay counts as landed: by the time the mall is started
    /// again it would show), by key. Numbers kept apart for unknown keys are not included.
    pub fn kept(&self) -> Vec<Kept> {
        let mut inner = self.lock();
        let now = Instant::now();
        let mut out: Vec<Kept> = inner
            .items
            .iter_mut()
            .map(|(k, e)| {
                e.settle(now);
                let (units, changed) = e.pending.last().map_or((e.shown, e.changed), |(_, n)| (*n, Utc::now()));
                Kept { key: k.clone(), units, changed }
            })
            .collect();
        out.sort_by(|a, b| a.key.cmp(&b.key));
        out
    }

    /// Puts back numbers [`Shelf::kept`] gave before a restart: each item the mall lists now
    /// shows its kept number at once (with its time of change); a key it does not list any more
    /// is left out. Returns the items restored.
    pub fn restore(&self, kept: &[Kept]) -> usize {
        let mut inner = self.lock();
        let mut restored = 0;
        for k in kept {
            if let Some(e) = inner.items.get_mut(&k.key) {
                e.pending.clear();
                e.shown = k.units;
                e.changed = k.changed;
                restored += 1;
            }
        }
        restored
    }

    /// The number `key` will show once every write so far has landed (a relative write adds
    /// to it).
    pub fn latest(&self, key: &str) -> Option<i64> {
        let inner = self.lock();
        let e = inner.items.get(key)?;
        Some(e.pending.last().map_or(e.shown, |(_, n)| *n))
    }

    /// A buyer orders `lines` (key, units) as order `order_id`: taken only if every key is known
    /// and shows enough now, all or nothing. False: no order.
    pub fn sell(&self, order_id: &str, lines: &[(String, i64)]) -> bool {
        let mut inner = self.lock();
        let now = Instant::now();
        let mut wanted: HashMap<&str, i64> = HashMap::new();
        for (k, n) in lines {
            *wanted.entry(k.as_str()).or_default() += n;
        }
        for (k, n) in &wanted {
            match inner.items.get_mut(*k) {
                Some(e) => {
                    e.settle(now);
                    if e.shown < *n || *n <= 0 {
                        return false;
                    }
                }
                None => return false,
            }
        }
        for (k, n) in &wanted {
            if let Some(e) = inner.items.get_mut(*k) {
                e.shown -= n;
                e.changed = Utc::now();
            }
        }
        inner.sales.insert(order_id.to_owned(), lines.to_vec());
        true
    }

    /// Order `order_id` was cancelled: its units go back as `restock` says, once; a second
    /// cancel of the same order does nothing. Returns the units given back.
    pub fn cancel(&self, order_id: &str, restock: Restock) -> i64 {
        let mut inner = self.lock();
        let Some(lines) = inner.sales.remove(order_id) else { return 0 };
        let now = Instant::now();
        let mut back = 0;
        for (k, n) in lines {
            let Some(e) = inner.items.get_mut(&k) else { continue };
            let restore = match restock {
                Restock::FollowItem => e.restock_on_cancel,
                Restock::Always => true,
                Restock::Never => false,
            };
            if restore {
                e.settle(now);
                e.shown += n;
                e.changed = Utc::now();
                back += n;
            }
        }
        back
    }

    /// Whether order `order_id` was sold off this shelf and not cancelled yet.
    pub fn holds(&self, order_id: &str) -> bool {
        self.lock().sales.contains_key(order_id)
    }
}

/// An order a simulated buyer places now for `items` (sku, units) — a clean sample order of
/// `marketplace` with those lines, its totals made to match. Its id is the neutral
/// `<mp>-b<n>`: each sandbox renames it to its own format.
pub fn buyer_order(marketplace: Marketplace, shop_id: &str, n: usize, items: &[(String, u32, i64)]) -> Order {
    let mut o = SampleOrders::new(n as u64 + 1).clean_order(marketplace, n);
    o.items = items
        .iter()
        .map(|(sku, quantity, unit_price)| Item {
            sku: sku.clone(),
            name: format!("商品 {sku}"),
            quantity: *quantity,
            unit_price: *unit_price,
            options: Vec::new(),
        })
        .collect();
    let goods: i64 = o.items.iter().map(|i| i.unit_price * i64::from(i.quantity)).sum();
    o.totals.goods = goods;
    o.totals.discount = 0;
    o.totals.coupon = 0;
    o.totals.points = 0;
    o.totals.total = goods + o.totals.shipping + o.totals.fee;
    o.shipments.clear();
    o.status = OrderStatus::New;
    o.shop_id = shop_id.to_owned();
    o.order_id = format!("{}-b{n:07}", marketplace.as_str());
    let now = Utc::now().with_timezone(&crate::book::jst());
    let now = now - chrono::Duration::nanoseconds(i64::from(now.timestamp_subsec_nanos()));
    o.ordered_at = now;
    o.source_updated_at = now;
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_write_shows_after_the_delay_and_lands_over_a_sale_meanwhile() {
        let s = Shelf::new(Duration::from_millis(50));
        s.list("A", 5, true);
        assert_eq!(s.put("A", 9, false), Put::Taken);
        assert_eq!(s.shown("A"), Some(5), "not yet");
        assert!(s.sell("o1", &[("A".into(), 2)]));
        assert_eq!(s.shown("A"), Some(3));
        std::thread::sleep(Duration::from_millis(60));
        assert_eq!(s.shown("A"), Some(9), "the absolute write lands over the sale");
    }

    #[test]
    fn buyers_only_take_what_shows_and_cancels_restore_once_where_the_mall_does() {
        let s = Shelf::new(Duration::ZERO);
        s.list("A", 2, true);
        s.list("B", 1, false);
        assert!(!s.sell("o1", &[("A".into(), 1), ("B".into(), 2)]), "B shows 1");
        assert_eq!((s.shown("A"), s.shown("B")), (Some(2), Some(1)), "all or nothing");
        assert!(!s.sell("o2", &[("X".into(), 1)]), "an item the mall does not know");
        assert!(s.sell("o3", &[("A".into(), 2), ("B".into(), 1)]));
        assert!(!s.sell("o4", &[("A".into(), 1)]), "sold out");
        assert_eq!(s.cancel("o3", Restock::FollowItem), 2, "A restocks on cancel, B does not");
        assert_eq!(s.cancel("o3", Restock::FollowItem), 0, "once");
        assert_eq!((s.shown("A"), s.shown("B")), (Some(2), Some(0)));
    }

    #[test]
    fn the_numbers_outlive_a_restart_with_writes_on_their_way_landed() {
        let s = Shelf::new(Duration::from_secs(600));
        s.list("A", 5, true);
        s.list("B", 5, true);
        s.list("C", 5, true);
        assert!(s.sell("o1", &[("A".into(), 2)]));
        s.put("B", 9, false);
        s.put("GONE", 4, true);
        let kept = s.kept();
        let numbers: Vec<(&str, i64)> = kept.iter().map(|k| (k.key.as_str(), k.units)).collect();
        assert_eq!(numbers, [("A", 3), ("B", 9), ("C", 5)], "B's write counted as landed; orphans are not items");
        // The sandbox starts again, its hand-kept numbers listed anew, one item no longer listed.
        let again = Shelf::new(Duration::from_secs(600));
        again.list("A", 5, true);
        again.list("B", 5, true);
        assert_eq!(again.restore(&kept), 2);
        assert_eq!((again.shown("A"), again.shown("B"), again.shown("C")), (Some(3), Some(9), None));
        assert_eq!(again.row("A").map(|(_, at)| at), s.row("A").map(|(_, at)| at), "its time of change kept");
        // Time compressed: the write on its way shows at once.
        s.land_pending();
        assert_eq!(s.shown("B"), Some(9));
    }

    #[test]
    fn unknown_keys_are_kept_apart_or_refused_and_edits_show_at_once() {
        let s = Shelf::new(Duration::from_secs(60));
        assert_eq!(s.put("NEW", 4, true), Put::Orphaned);
        assert_eq!(s.shown("NEW"), None);
        s.list("NEW", 0, true);
        assert_eq!(s.shown("NEW"), Some(4), "linked when the item is registered");
        assert_eq!(s.put("NOPE", 4, false), Put::Unknown);
        s.put("NEW", 7, false);
        assert!(s.edit("NEW", 1));
        assert_eq!(s.shown("NEW"), Some(1));
        assert!(!s.edit("NOPE", 1));
    }
}
