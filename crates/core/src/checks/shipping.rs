//! Shipping checks: remote islands (and the Okinawa carrier zone), メール便 fit, and whether a
//! requested delivery date can be kept.

use chrono::{Days, NaiveDate};
use serde_json::json;

use super::{CheckEngine, Destination, Findings, dest_label};
use crate::finding::{FindingCode, Severity};
use crate::islands::IslandTable;
use crate::order::{DeliveryMethod, Item, Order, PaymentMethod};
use crate::text;

/// `shipping.remote_island` for one destination.
pub(super) fn check_island(eng: &CheckEngine, d: &Destination<'_>, out: &mut Findings<'_>) {
    let Some(code) = d.postal.as_deref() else { return };
    let rows: Vec<_> = eng.islands.lookup(code).collect();
    if rows.is_empty() {
        return;
    }
    let label = dest_label(d);
    if rows.iter().all(|r| r.is_carrier_zone()) {
        out.push_capped(
            FindingCode::RemoteIsland,
            Severity::Info,
            format!("{label}は沖縄県です(離島ではありませんが運送会社の沖縄料金・日数が適用されます)"),
            json!({"destination": d.index, "postal_code": code, "kind": "okinawa_zone"}),
        );
        return;
    }
    // A code shared with the mainland part of a town: only the address can tell.
    let islands: Vec<_> = rows
        .iter()
        .filter(|r| {
            !r.is_carrier_zone()
                && (!r.is_shared_with_mainland() || d.full_key.contains(&text::place_key(r.island_name())))
        })
        .collect();
    let Some(first) = islands.first() else { return };
    let groups: Vec<&str> = islands.iter().map(|r| r.island_group).collect();
    out.push(
        FindingCode::RemoteIsland,
        format!("{label}は離島({})です: 送料・中継料とお届け日数を確認してください", groups.join(" / ")),
        json!({"destination": d.index, "postal_code": code, "kind": "island",
               "prefix": first.prefix, "islands": groups,
               "basis": islands.iter().map(|r| r.basis).collect::<Vec<_>>()}),
    );
}

/// `shipping.mail_bin_conflict` when メール便 was chosen and can't be used;
/// `shipping.mail_bin_eligible` when 宅配便 was chosen but everything fits one mail-bin parcel.
pub(super) fn check_mail_bin(eng: &CheckEngine, order: &Order, dests: &[Destination<'_>], out: &mut Findings<'_>) {
    let rules = &eng.rules.mail_bin;
    let service = rules.service.as_str();
    let mut blockers: Vec<&'static str> = Vec::new();
    if order.payment_method == PaymentMethod::Cod {
        blockers.push("cod");
    }
    if order.delivery.requested_date.is_some() {
        blockers.push("requested_date");
    }
    if order.delivery.requested_time_slot.as_deref().is_some_and(|s| !s.trim().is_empty()) {
        blockers.push("requested_time_slot");
    }
    // Each destination is its own parcel.
    let parcels: Vec<&[Item]> = if order.shipments.is_empty() {
        vec![&order.items]
    } else {
        order.shipments.iter().map(|s| s.items.as_slice()).collect()
    };
    let fill: Vec<Fill> = parcels.iter().map(|items| Fill::of(items, |sku| rules.capacity.get(sku).copied())).collect();
    let fits = fill.iter().all(|f| f.fits());
    let evidence = |blockers: &[&str]| {
        json!({"service": service, "fits": fits,
               "parcels": fill.iter().map(Fill::evidence).collect::<Vec<_>>(),
               "blockers": blockers})
    };

    match order.delivery.method {
        DeliveryMethod::MailBin => {
            if !fits {
                blockers.insert(0, "does_not_fit");
            }
            if blockers.is_empty() {
                return;
            }
            let why: Vec<&str> = blockers
                .iter()
                .map(|b| match *b {
                    "does_not_fit" => "商品が1通に収まらない",
                    "cod" => "代引き",
                    "requested_date" => "お届け日指定",
                    _ => "時間帯指定",
                })
                .collect();
            out.push(
                FindingCode::MailBinConflict,
                format!("{service}(メール便)が選ばれていますが使えません: {}", why.join("、")),
                evidence(&blockers),
            );
        }
        DeliveryMethod::Standard if fits && blockers.is_empty() && !dests.is_empty() => {
            out.push(
                FindingCode::MailBinEligible,
                format!("商品がすべて{service}(メール便)1通に収まります"),
                evidence(&[]),
            );
        }
        _ => {}
    }
}

/// How full one parcel is: the sum of quantity / capacity over its items, as an exact fraction.
struct Fill {
    num: u128,
    den: u128,
    /// SKUs with no capacity configured (never fit).
    unknown: Vec<String>,
    /// Already more than one parcel: stop adding (keeps the fraction from overflowing).
    over: bool,
}

impl Fill {
    fn of(items: &[Item], capacity: impl Fn(&str) -> Option<u32>) -> Fill {
        let mut f = Fill { num: 0, den: 1, unknown: Vec::new(), over: false };
        for item in items {
            match capacity(&item.sku) {
                Some(c) if c > 0 => {
                    if !f.over {
                        f.add(u128::from(item.quantity), u128::from(c));
                    }
                }
                _ => f.unknown.push(item.sku.clone()),
            }
        }
        f
    }

    /// num/den + q/c, kept reduced; past one parcel (or on overflow) only `over` is kept.
    fn add(&mut self, q: u128, c: u128) {
        let sum = (|| {
            let n = self.num.checked_mul(c)?.checked_add(q.checked_mul(self.den)?)?;
            let d = self.den.checked_mul(c)?;
            Some((n, d))
        })();
        match sum {
            Some((n, d)) if n <= d => {
                let g = gcd(n, d);
                (self.num, self.den) = (n / g, d / g);
            }
            _ => self.over = true,
        }
    }

    fn fits(&self) -> bool {
        self.unknown.is_empty() && !self.over && self.num > 0
    }

    fn evidence(&self) -> serde_json::Value {
        // Per cent of one parcel, rounded up, for staff.
        let percent = if self.over { None } else { Some((self.num * 100).div_ceil(self.den) as u64) };
        json!({"fill_percent": percent, "over_one_parcel": self.over, "skus_without_capacity": self.unknown})
    }
}

fn gcd(mut a: u128, mut b: u128) -> u128 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a.max(1)
}

/// Days from the order date to the earliest date a parcel can be delivered to an ordinary
/// destination: shipped the day it is ordered at the soonest, delivered the next day — the
/// fastest 宅配便 (ヤマト・佐川・ゆうパック 翌日配達) between neighbouring regions. A requested date
/// earlier than that is not one any carrier can keep.
pub const EARLIEST_DELIVERY_DAYS: u32 = 1;
/// Extra days for the Okinawa carrier zone (沖縄本島 is one day further by air freight).
pub const OKINAWA_EXTRA_DAYS: u32 = 1;
/// Extra days for a remote island (離島): the ferry or feeder flight adds one to three days; two is
/// the plain case carriers quote.
pub const ISLAND_EXTRA_DAYS: u32 = 2;

/// Why a requested delivery date cannot be promised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateIssue {
    /// Before the order date.
    BeforeOrder {
        /// The order date (JST).
        ordered_on: NaiveDate,
    },
    /// Sooner than the farthest destination can be reached.
    TooSoon {
        /// The order date (JST).
        ordered_on: NaiveDate,
        /// The earliest plausible delivery date.
        earliest: NaiveDate,
        /// Days from the order date to `earliest`.
        lead_days: u32,
        /// The destination (0 = first) that needs the most days.
        destination: usize,
    },
}

/// Whether `order`'s requested delivery date can be kept, judged from its order date and its
/// destinations: `None` when there is no requested date or it is plausible.
pub fn requested_date_issue(order: &Order) -> Option<DateIssue> {
    let requested = order.delivery.requested_date?;
    let ordered_on = order.ordered_at.with_timezone(&crate::JST).date_naive();
    if requested < ordered_on {
        return Some(DateIssue::BeforeOrder { ordered_on });
    }
    let islands = IslandTable::embedded();
    let (destination, lead_days) = order
        .destinations()
        .enumerate()
        .map(|(i, a)| {
            let extra = match a.is_domestic().then(|| text::postal_code_key(&a.postal_code)).flatten() {
                Some(code) => {
                    let rows: Vec<_> = islands.lookup(&code).collect();
                    if rows.is_empty() {
                        0
                    } else if rows.iter().all(|r| r.is_carrier_zone()) {
                        OKINAWA_EXTRA_DAYS
                    } else {
                        ISLAND_EXTRA_DAYS
                    }
                }
                None => 0,
            };
            (i, EARLIEST_DELIVERY_DAYS + extra)
        })
        .max_by_key(|&(i, days)| (days, std::cmp::Reverse(i)))
        .unwrap_or((0, EARLIEST_DELIVERY_DAYS));
    let earliest = ordered_on + Days::new(u64::from(lead_days));
    (requested < earliest).then_some(DateIssue::TooSoon { ordered_on, earliest, lead_days, destination })
}

/// `shipping.requested_date_before_order` and `shipping.requested_date_too_soon`.
pub(super) fn check_requested_date(order: &Order, out: &mut Findings<'_>) {
    let Some(issue) = requested_date_issue(order) else { return };
    let Some(requested) = order.delivery.requested_date else { return };
    let day = |d: NaiveDate| d.format("%Y-%m-%d").to_string();
    match issue {
        DateIssue::BeforeOrder { ordered_on } => out.push(
            FindingCode::RequestedDateBeforeOrder,
            format!(
                "お届け希望日({})が注文日({})より前です: お客様に希望日を確認してください",
                day(requested),
                day(ordered_on)
            ),
            json!({"requested_date": day(requested), "ordered_on": day(ordered_on)}),
        ),
        DateIssue::TooSoon { ordered_on, earliest, lead_days, destination } => out.push(
            FindingCode::RequestedDateTooSoon,
            format!(
                "お届け希望日({})はお届け先{}への最短のお届け日({})より前です: 間に合うか確認してください",
                day(requested),
                if destination == 0 { String::new() } else { (destination + 1).to_string() },
                day(earliest)
            ),
            json!({"requested_date": day(requested), "ordered_on": day(ordered_on),
                   "earliest_date": day(earliest), "lead_days": lead_days, "destination": destination}),
        ),
    }
}
