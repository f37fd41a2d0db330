//! Per-shop values kept for a while in a warm Lambda: shop settings and compiled rules change
//! rarely, and reading them for every message would be one store call per order or mail.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, FixedOffset};

/// How long a shop's settings and rules are reused before they are read again.
pub const SHOP_TTL_SECONDS: i64 = 60;

/// Values by shop id, each good for [`SHOP_TTL_SECONDS`] after it was loaded.
#[derive(Debug)]
pub struct ShopCache<V> {
    entries: Mutex<HashMap<String, (V, DateTime<FixedOffset>)>>,
}

impl<V> Default for ShopCache<V> {
    fn default() -> Self {
        ShopCache { entries: Mutex::new(HashMap::new()) }
    }
}

impl<V: Clone> ShopCache<V> {
    /// The value of `shop_id` if loaded less than the TTL before `now`.
    pub fn get(&self, shop_id: &str, now: DateTime<FixedOffset>) -> Option<V> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries.get(shop_id).filter(|(_, at)| (now - *at).num_seconds() < SHOP_TTL_SECONDS).map(|(v, _)| v.clone())
    }

    /// Keeps `value` for `shop_id`, loaded at `now`.
    pub fn put(&self, shop_id: &str, value: V, now: DateTime<FixedOffset>) {
        self.entries.lock().unwrap_or_else(|p| p.into_inner()).insert(shop_id.to_string(), (value, now));
    }
}
