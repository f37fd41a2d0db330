//! The contract between a marketplace client and the puller.

use std::future::Future;

use chrono::{DateTime, FixedOffset};
use ichigen_core::pipeline::Rejected;
use ichigen_core::{Marketplace, Order, Tracking};

use super::ClientError;
use crate::BadOrder;

/// "Orders changed in `[from, to)`", in JST.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// Inclusive start (the stored watermark minus the overlap).
    pub from: DateTime<FixedOffset>,
    /// Exclusive end (now, or the end of a back-fill step).
    pub to: DateTime<FixedOffset>,
}

/// One page of a pull: canonical orders, the orders set aside, and where the next page starts.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OrderPage {
    /// Orders of this page, mapped and validated.
    pub orders: Vec<Order>,
    /// Orders of this page that could not be read, mapped or validated. One broken order does not
    /// fail its page: it lands here (to be quarantined) and the others still come through.
    pub rejected: Vec<Rejected>,
    /// Opaque resume point (page number, next token, sub-window ...); `None` when the window is done.
    pub next: Option<String>,
}

/// A marketplace the puller can pull from and write tracking back to.
///
/// A window larger than the API allows is split inside the client: the cursor says where the
/// pull is, so a puller stopped at its deadline resumes exactly there on the next run.
pub trait OrderSource: Send + Sync {
    /// Which marketplace.
    fn marketplace(&self) -> Marketplace;

    /// The page at `cursor` (`None`: the first) of the orders changed in `window`.
    fn changed_orders(
        &self,
        window: &Window,
        cursor: Option<&str>,
    ) -> impl Future<Output = Result<OrderPage, ClientError>> + Send;

    /// Registers a shipped parcel (carrier, number, date) on the marketplace's order.
    fn register_tracking(
        &self,
        order: &Order,
        tracking: &Tracking,
    ) -> impl Future<Output = Result<(), ClientError>> + Send;
}

impl From<OrderPage> for ichigen_core::pipeline::FeedPage {
    fn from(page: OrderPage) -> Self {
        ichigen_core::pipeline::FeedPage { orders: page.orders, rejected: page.rejected, next: page.next }
    }
}

/// A whole window pulled in one go.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Pulled {
    /// Every order of every page.
    pub orders: Vec<Order>,
    /// Every order set aside on the way.
    pub rejected: Vec<Rejected>,
    /// Pages fetched.
    pub pages: usize,
}

/// Every order changed in `window`, following the cursor page by page to the end. For a whole pull
/// in one go (tests, the demo); a puller with a deadline pages itself.
pub async fn pull_window<S: OrderSource>(source: &S, window: &Window) -> Result<Pulled, ClientError> {
    let mut pulled = Pulled::default();
    let mut cursor: Option<String> = None;
    loop {
        let page = source.changed_orders(window, cursor.as_deref()).await?;
        pulled.pages += 1;
        pulled.orders.extend(page.orders);
        pulled.rejected.extend(page.rejected);
        match page.next {
            Some(next) => cursor = Some(next),
            None => return Ok(pulled),
        }
    }
}

/// The rejected entries of `bad` orders of `shop_id`, with the error text (field names, never
/// values) as the reason.
pub fn rejects(shop_id: &str, marketplace: Marketplace, bad: Vec<BadOrder>) -> Vec<Rejected> {
    bad.into_iter()
        .map(|b| Rejected {
            shop_id: shop_id.to_owned(),
            marketplace,
            order_id: b.order_id,
            reason: b.error.to_string(),
        })
        .collect()
}
