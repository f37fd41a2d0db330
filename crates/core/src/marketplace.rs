//! What the pipeline must know of each marketplace's rules, declared by that marketplace's own
//! module (in `ichigen-marketplaces`) and handed to the use cases, so core never matches on a
//! marketplace to decide policy.

use std::time::Duration;

use chrono::FixedOffset;

use crate::order::{Marketplace, Order};

/// Japan Standard Time (UTC+9, no daylight saving): every marketplace speaks it.
pub const JST: FixedOffset = match FixedOffset::east_opt(9 * 3600) {
    Some(offset) => offset,
    None => panic!("UTC+9 is a valid offset"),
};

/// A marketplace's rules that the pipeline applies.
#[derive(Debug, Clone, Copy)]
pub struct MarketplacePolicy {
    /// Which marketplace.
    pub marketplace: Marketplace,
    /// Whether the shop may mail the marketplace's buyers (thank-you, shipping). Staff alerts
    /// are not buyer contact and go out either way.
    pub buyer_mail: bool,
    /// Headings of the sections the marketplace itself writes into the remarks
    /// (`[配送日時指定:]` ...): not the buyer's words, so not a reason to hold.
    pub remark_sections: &'static [&'static str],
    /// Reading the pair's stored open orders again by id, to catch changes the marketplace's
    /// search cannot filter on (cancellations, status moves). `None`: its search sees them all.
    pub reconcile: Option<Reconcile>,
    /// Whether an order, as the marketplace last showed it, awaits the shop's acknowledgement
    /// (楽天's 注文確認, Qoo10's seller check). `None`: the marketplace expects none.
    pub awaits_acknowledgement: Option<fn(&Order) -> bool>,
    /// How long the marketplace takes to show a stock number written by API (zero: at once, or
    /// not documented). The stock push neither compares nor writes an item written less long ago.
    pub stock_latency: Duration,
}

/// When stored open orders are read again by id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reconcile {
    /// At most this often (zero: on every pull).
    pub every: Duration,
    /// Only orders placed longer ago than this: younger ones are re-read by the client's own
    /// look-back search anyway (zero: every open order).
    pub older_than: Duration,
}

impl MarketplacePolicy {
    /// The rules of a marketplace nobody declared (orders imported by hand): buyers may be
    /// mailed, remarks are all the buyer's, nothing to reconcile.
    pub const fn plain(marketplace: Marketplace) -> MarketplacePolicy {
        MarketplacePolicy {
            marketplace,
            buyer_mail: true,
            remark_sections: &[],
            reconcile: None,
            awaits_acknowledgement: None,
            stock_latency: Duration::ZERO,
        }
    }

    /// Whether `order` of this marketplace awaits the shop's acknowledgement now.
    pub fn awaits_acknowledgement(&self, order: &Order) -> bool {
        self.awaits_acknowledgement.is_some_and(|awaits| awaits(order))
    }

    /// Whether buyer mails may go out for `order` of this marketplace: it allows them, and it
    /// does not ship the order itself (Amazon AFN).
    pub fn buyer_mail_allowed(&self, order: &Order) -> bool {
        self.buyer_mail && !order.fulfilled_by_marketplace
    }
}

/// The declared policies of every marketplace, looked up by marketplace.
#[derive(Debug, Clone, Copy)]
pub struct Policies {
    declared: fn(Marketplace) -> Option<MarketplacePolicy>,
}

impl Policies {
    /// Policies from the marketplaces' declarations (the marketplaces' registry).
    pub const fn new(declared: fn(Marketplace) -> Option<MarketplacePolicy>) -> Policies {
        Policies { declared }
    }

    /// The policy of `marketplace` ([`MarketplacePolicy::plain`] when it declared none).
    pub fn of(&self, marketplace: Marketplace) -> MarketplacePolicy {
        (self.declared)(marketplace).unwrap_or(MarketplacePolicy::plain(marketplace))
    }

    /// Whether buyer mails may go out for `order` at all: its marketplace allows them, and the
    /// marketplace does not ship it itself (Amazon AFN).
    pub fn buyer_mail_allowed(&self, order: &Order) -> bool {
        self.of(order.marketplace).buyer_mail_allowed(order)
    }
}
