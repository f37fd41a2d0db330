//! The contract between a marketplace client and the puller.

use std::future::Future;

use chrono::{DateTime, FixedOffset};
use ichigen_core::{Marketplace, Order, Tracking};

use super::ClientError;

/// "Orders changed in `[from, to)`", in JST.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// Inclusive start (the stored watermark minus the overlap).
    pub from: DateTime<FixedOffset>,
    /// Exclusive end (now, or the end of a back-fill step).
    pub to: DateTime<FixedOffset>,
}

/// One page of a pull: canonical orders, and where the next page starts.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderPage {
    /// Orders of this page, mapped and validated.
    pub orders: Vec<Order>,
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

/// Every order changed in `window`, following the cursor page by page to the end, and the number
/// of pages. For a whole pull in one go (tests, the demo); a puller with a deadline pages itself.
pub async fn pull_window<S: OrderSource>(source: &S, window: &Window) -> Result<(Vec<Order>, usize), ClientError> {
    let mut orders = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let page = source.changed_orders(window, cursor.as_deref()).await?;
        pages += 1;
        orders.extend(page.orders);
        match page.next {
            Some(next) => cursor = Some(next),
            None => return Ok((orders, pages)),
        }
    }
}
