//! The puller's use case: pull one shop × marketplace from its watermark to now, put every
//! order on the orders queue, and move the watermark only past what is queued.

use std::time::Duration;

use chrono::{DateTime, FixedOffset, TimeDelta};

use crate::order::Marketplace;

use super::ports::{OrderFeed, OrderQueue, PortError, Quarantine, Retryable, WatermarkStore, Written};
use super::stored::{PendingWindow, Watermark};

/// Puller settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PullSettings {
    /// How far before the watermark each window starts again: marketplaces index changes late,
    /// and the processor ignores what it already has.
    pub overlap: Duration,
    /// How far back the very first pull of a pair reaches.
    pub first_lookback: Duration,
    /// The longest a page may take (HTTP timeout with retries): no page starts with less time
    /// left before the deadline.
    pub page_budget: Duration,
}

impl Default for PullSettings {
    fn default() -> Self {
        PullSettings {
            overlap: Duration::from_secs(15 * 60),
            first_lookback: Duration::from_secs(3 * 24 * 3600),
            page_budget: Duration::from_secs(20),
        }
    }
}

/// What a pull did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PullReport {
    /// Which shop.
    pub shop_id: String,
    /// Which marketplace.
    pub marketplace: Marketplace,
    /// Pages read.
    pub pages: u32,
    /// Orders put on the orders queue.
    pub queued: usize,
    /// Orders quarantined as unreadable.
    pub quarantined: usize,
    /// False when the run stopped at its deadline with a window under way (resumed next run).
    pub finished: bool,
    /// Every order changed before this instant is queued.
    pub pulled_to: DateTime<FixedOffset>,
}

/// Why a pull stopped early. Progress up to the last queued page is kept.
#[derive(Debug, thiserror::Error)]
pub enum PullError<E: std::error::Error + 'static> {
    /// The marketplace call failed.
    #[error("{marketplace}: {source}")]
    Feed {
        /// Which marketplace.
        marketplace: Marketplace,
        /// The client's error.
        #[source]
        source: E,
    },
    /// The queue or the watermark store failed.
    #[error(transparent)]
    Port(#[from] PortError),
    /// Another run of the same pair moved the watermark meanwhile (overlapping schedules).
    #[error("shop {shop_id} {marketplace}: another pull of this pair is under way")]
    Busy {
        /// Which shop.
        shop_id: String,
        /// Which marketplace.
        marketplace: Marketplace,
    },
}

impl<E: std::error::Error + Retryable + 'static> PullError<E> {
    /// Whether the next run may succeed by itself.
    pub fn is_retryable(&self) -> bool {
        match self {
            PullError::Feed { source, .. } => source.is_retryable(),
            PullError::Port(e) => e.retryable,
            PullError::Busy { .. } => true,
        }
    }
}

/// The puller: a feed for one shop × marketplace, and where its orders and place go.
pub struct Puller<'a, F, Q, W, X> {
    /// The marketplace client.
    pub feed: &'a F,
    /// The orders queue.
    pub queue: &'a Q,
    /// Where the watermark is kept.
    pub marks: &'a W,
    /// Where unreadable orders go.
    pub quarantine: &'a X,
    /// Settings.
    pub settings: PullSettings,
}

impl<F: OrderFeed, Q: OrderQueue, W: WatermarkStore, X: Quarantine> Puller<'_, F, Q, W, X> {
    /// Pulls `shop_id` up to `now`; `time_left` says how long the run may still go on.
    pub async fn run(
        &self,
        shop_id: &str,
        now: DateTime<FixedOffset>,
        time_left: impl Fn() -> Duration,
    ) -> Result<PullReport, PullError<F::Error>> {
        let marketplace = self.feed.marketplace();
        let stored = self.marks.get_watermark(shop_id, marketplace).await?;
        let mut rev = stored.as_ref().map(|m| m.rev);
        let mut pulled_to = stored.as_ref().map_or(now - delta(self.settings.first_lookback), |m| m.pulled_to);
        let mut pending = stored.and_then(|m| m.pending);
        let mut report = PullReport {
            shop_id: shop_id.to_string(),
            marketplace,
            pages: 0,
            queued: 0,
            quarantined: 0,
            finished: false,
            pulled_to,
        };
        // A resumed window, then one fresh window up to now.
        let mut resumed = pending.is_some();
        loop {
            let mut window = match pending.take() {
                Some(p) => p,
                None => {
                    let from = if rev.is_some() { pulled_to - delta(self.settings.overlap) } else { pulled_to };
                    if from >= now {
                        report.finished = true;
                        return Ok(report);
                    }
                    PendingWindow { from, to: now, cursor: None, pages_done: 0 }
                }
            };
            loop {
                if time_left() < self.settings.page_budget {
                    self.save(shop_id, marketplace, pulled_to, Some(&window), &mut rev, now).await?;
                    report.pulled_to = pulled_to;
                    return Ok(report);
                }
                let page = match self.feed.changed_orders(window.from, window.to, window.cursor.as_deref()).await {
                    Ok(page) => page,
                    // A saved cursor can expire between runs (next tokens do): start the window over.
                    Err(e) if resumed && window.cursor.is_some() && !e.is_retryable() => {
                        window.cursor = None;
                        resumed = false;
                        continue;
                    }
                    Err(source) => return Err(PullError::Feed { marketplace, source }),
                };
                resumed = false;
                self.queue.send_all(&page.orders).await?;
                self.quarantine.quarantine(&page.rejected).await?;
                report.pages += 1;
                report.queued += page.orders.len();
                report.quarantined += page.rejected.len();
                window.pages_done += 1;
                match page.next {
                    Some(next) => {
                        window.cursor = Some(next);
                        self.save(shop_id, marketplace, pulled_to, Some(&window), &mut rev, now).await?;
                    }
                    None => {
                        pulled_to = pulled_to.max(window.to);
                        self.save(shop_id, marketplace, pulled_to, None, &mut rev, now).await?;
                        break;
                    }
                }
            }
            if window.to >= now {
                report.finished = true;
                report.pulled_to = pulled_to;
                return Ok(report);
            }
        }
    }

    async fn save(
        &self,
        shop_id: &str,
        marketplace: Marketplace,
        pulled_to: DateTime<FixedOffset>,
        pending: Option<&PendingWindow>,
        rev: &mut Option<u64>,
        now: DateTime<FixedOffset>,
    ) -> Result<(), PullError<F::Error>> {
        let mark = Watermark {
            shop_id: shop_id.to_string(),
            marketplace,
            pulled_to,
            pending: pending.cloned(),
            rev: rev.map_or(1, |r| r + 1),
            updated_at: now,
        };
        match self.marks.put_watermark(&mark, *rev).await? {
            Written::Yes => {
                *rev = Some(mark.rev);
                Ok(())
            }
            Written::Conflict => Err(PullError::Busy { shop_id: shop_id.to_string(), marketplace }),
        }
    }
}

fn delta(d: Duration) -> TimeDelta {
    TimeDelta::from_std(d).unwrap_or(TimeDelta::MAX)
}
