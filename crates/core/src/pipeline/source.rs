//! The one contract between a marketplace client and the pipeline: orders changed in a window,
//! orders read again by id, tracking written back, orders acknowledged.

use std::collections::BTreeMap;
use std::future::Future;

use chrono::{DateTime, FixedOffset, NaiveDate};

use crate::order::{Marketplace, Order, Tracking};

use super::credentials::KnownExpiry;
use super::ports::{Rejected, Retryable};

/// "Orders changed in `[from, to)`", in JST.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// Inclusive start (the stored watermark minus the overlap).
    pub from: DateTime<FixedOffset>,
    /// Exclusive end (now, or the end of a back-fill step).
    pub to: DateTime<FixedOffset>,
}

/// Orders already queued by the pair, with the marketplace time of the version queued.
pub type KnownVersions = BTreeMap<String, DateTime<FixedOffset>>;

/// Whether the version of `order_id` stamped `updated` was queued already (a later or equal
/// marketplace time was).
pub fn is_known(known: &KnownVersions, order_id: &str, updated: DateTime<FixedOffset>) -> bool {
    known.get(order_id).is_some_and(|queued| *queued >= updated)
}

/// One page from a marketplace: canonical orders, the orders set aside, the orders it listed
/// but did not return, and where the next page starts.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OrderPage {
    /// Orders of this page, mapped and validated.
    pub orders: Vec<Order>,
    /// Orders of this page that could not be read, mapped or validated. One broken order does not
    /// fail its page: it lands here (to be quarantined) and the others still come through.
    pub rejected: Vec<Rejected>,
    /// Order ids the marketplace listed (or was asked for) but did not return: read again by id
    /// on the next pull.
    pub missing: Vec<String>,
    /// Opaque resume point (page number, next token, sub-window ...); `None` when the window is done.
    pub next: Option<String>,
}

/// What a client learned about its own credentials while it called the marketplace.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CredentialHealth {
    /// The marketplace's own word on the credentials (Yahoo's `X-SWS-Authorize-Status` ...).
    pub status: String,
    /// False when the marketplace says something is wrong that a person must fix.
    pub ok: bool,
    /// Whole days before the credentials are expected to stop working (0: under a day).
    pub days_left: Option<i64>,
    /// What to do about it, for staff.
    pub advice: &'static str,
}

/// A credential the marketplace replaced during a call (a rotated refresh token): the field of
/// the stored secret and its new value, to be saved back. `Debug` never shows the value.
#[derive(Clone, PartialEq, Eq)]
pub struct CredentialUpdate {
    /// The field of the marketplace's secret JSON.
    pub field: &'static str,
    value: String,
    /// The new value's last valid day (JST), when the marketplace's rules fix it: recorded in
    /// the pair's expiry record under the same name.
    pub last_day: Option<NaiveDate>,
}

impl CredentialUpdate {
    /// `field` now holds `value`, valid through `last_day` where known.
    pub fn new(field: &'static str, value: String, last_day: Option<NaiveDate>) -> CredentialUpdate {
        CredentialUpdate { field, value, last_day }
    }

    /// The new value, for writing it to the secret store only.
    pub fn expose_value(&self) -> &str {
        &self.value
    }
}

impl std::fmt::Debug for CredentialUpdate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CredentialUpdate")
            .field("field", &self.field)
            .field("last_day", &self.last_day)
            .finish_non_exhaustive()
    }
}

/// What the marketplace answered to the acknowledgement of one order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Acknowledged {
    /// It took the acknowledgement (or already had it from this shop).
    Done,
    /// The order no longer awaits one (acknowledged in the back office, moved on, cancelled), or
    /// the marketplace expects none: nothing was done and nothing is wrong.
    NotAwaited {
        /// Why, in the marketplace's terms (status codes, never buyer data).
        why: String,
    },
    /// Refused.
    Refused {
        /// Whether a later try may pass.
        retryable: bool,
        /// The marketplace's code and message (never buyer data).
        reason: String,
    },
}

/// A marketplace the pipeline pulls from and writes tracking back to.
///
/// A window larger than the API allows is split inside the client: the cursor says where the
/// pull is, so a puller stopped at its deadline resumes exactly there on the next run.
pub trait OrderSource: Send + Sync {
    /// The client's error.
    type Error: std::error::Error + Retryable + Send + Sync + 'static;

    /// Which marketplace.
    fn marketplace(&self) -> Marketplace;

    /// The page at `cursor` (`None`: the first) of the orders changed in `window`.
    fn changed_orders(
        &self,
        window: &Window,
        cursor: Option<&str>,
    ) -> impl Future<Output = Result<OrderPage, Self::Error>> + Send;

    /// As [`OrderSource::changed_orders`], leaving out orders whose listed version is in `known`
    /// ([`is_known`]). A client whose search lists versions before it reads each order (Yahoo)
    /// saves those reads — the overlap would otherwise read every order of it again; the others
    /// return what `changed_orders` returns.
    fn changed_orders_skipping(
        &self,
        window: &Window,
        cursor: Option<&str>,
        known: &KnownVersions,
    ) -> impl Future<Output = Result<OrderPage, Self::Error>> + Send {
        let _ = known;
        self.changed_orders(window, cursor)
    }

    /// The most order ids [`OrderSource::orders_by_id`] reads in one marketplace call.
    fn max_ids_per_call(&self) -> usize;

    /// The marketplace's current state of these orders (at most [`OrderSource::max_ids_per_call`]
    /// ids; the client may make several calls for more). Ids it does not return are in `missing`;
    /// `next` is always `None`.
    fn orders_by_id(&self, ids: &[String]) -> impl Future<Output = Result<OrderPage, Self::Error>> + Send;

    /// Registers a shipped parcel (carrier, number, date) on the marketplace's order.
    fn register_tracking(
        &self,
        order: &Order,
        tracking: &Tracking,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send;

    /// The most orders [`OrderSource::acknowledge`] takes in one marketplace call.
    fn max_acks_per_call(&self) -> usize {
        1
    }

    /// Acknowledges `orders` (at most [`OrderSource::max_acks_per_call`]) as the marketplace
    /// expects a shop to (楽天's 注文確認, Qoo10's seller check), promising to ship by `ship_by`
    /// where the marketplace asks; one answer per order, in order. The default: this marketplace
    /// expects no acknowledgement.
    fn acknowledge(
        &self,
        orders: &[Order],
        ship_by: NaiveDate,
    ) -> impl Future<Output = Result<Vec<Acknowledged>, Self::Error>> + Send {
        let _ = ship_by;
        let answers = orders
            .iter()
            .map(|_| Acknowledged::NotAwaited { why: "the marketplace expects no acknowledgement".to_string() })
            .collect();
        async move { Ok(answers) }
    }

    /// What the marketplace said about the credentials so far (`None`: it says nothing).
    fn credential_health(&self) -> Option<CredentialHealth> {
        None
    }

    /// A credential the marketplace replaced since the last call of this, once.
    fn take_credential_update(&self) -> Option<CredentialUpdate> {
        None
    }

    /// The expiry dates the marketplace reports by API (楽天's license key); empty where it
    /// reports none (the operator's record is all there is).
    fn credential_expiry(&self) -> impl Future<Output = Result<Vec<KnownExpiry>, Self::Error>> + Send {
        async { Ok(Vec::new()) }
    }
}

/// A whole window pulled in one go.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Pulled {
    /// Every order of every page.
    pub orders: Vec<Order>,
    /// Every order set aside on the way.
    pub rejected: Vec<Rejected>,
    /// Every order listed but not returned.
    pub missing: Vec<String>,
    /// Pages fetched.
    pub pages: usize,
}

/// Every order changed in `window`, following the cursor page by page to the end. For a whole pull
/// in one go (tests, benches); the puller pages itself, with a deadline.
pub async fn pull_window<S: OrderSource>(source: &S, window: &Window) -> Result<Pulled, S::Error> {
    let mut pulled = Pulled::default();
    let mut cursor: Option<String> = None;
    loop {
        let page = source.changed_orders(window, cursor.as_deref()).await?;
        pulled.pages += 1;
        pulled.orders.extend(page.orders);
        pulled.rejected.extend(page.rejected);
        pulled.missing.extend(page.missing);
        match page.next {
            Some(next) => cursor = Some(next),
            None => return Ok(pulled),
        }
    }
}
