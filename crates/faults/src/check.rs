//! The invariants, checked on what was delivered (the outbox's `.eml` files, parsed) and stored
//! (the SQLite file, read afresh), against the marketplaces' truth (the sandboxes' books):
//!
//! 1. every sandbox order stored at its latest version (status, address, tracking numbers);
//! 2. at most one mail per (order, kind) — per hold episode for staff alerts — delivered, except
//!    the documented window, counted apart: one extra copy of the one mail the injected fault
//!    hit at its send (an outcome lost: timeout or kill after the request) or at its `mark_sent`,
//!    the first copy's claim never marked sent and the second claimed after its lease ended;
//! 3. no buyer mail for an order held or cancelled at send time, none for Amazon;
//! 4. a staff alert delivered each time an order becomes held by its checks;
//! 5. no decided mail left without a durable job: every mail once due is delivered, finished by
//!    the notifier (already sent, nothing to send), or still queued or parked.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use anyhow::Context;
use ichigen_core::pipeline::{MailJob, MailKind, OrderKey, OrderSource, ParkedMail, StoredOrder};
use ichigen_core::{Marketplace, Order, OrderStatus};
use ichigen_local::{MAIL_QUEUE, SqliteQueue, SqliteStore};

use crate::day::{MARKETPLACES, Market, SHOP_ID, all_stored};
use crate::inject::Injector;

/// One broken promise. Names orders by marketplace and id only: no buyer data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// Which invariant (1–5, or 0: the code under test panicked).
    pub invariant: u8,
    /// The order, as `marketplace/order id`.
    pub order: Option<String>,
    /// What was found.
    pub detail: String,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "invariant {} ", self.invariant)?;
        if let Some(o) = &self.order {
            write!(f, "order {o}: ")?;
        }
        f.write_str(&self.detail)
    }
}

/// What a check found.
#[derive(Debug, Default, Clone)]
pub struct Checked {
    /// Broken promises.
    pub violations: Vec<Violation>,
    /// Duplicates inside the documented window (the faulted mail's outcome lost or its mark not
    /// written, sent once more after the claim's lease ended).
    pub documented_duplicates: usize,
    /// `.eml` files in the outbox.
    pub delivered: usize,
    /// Orders the sandboxes hold.
    pub orders: usize,
}

/// One delivered mail, from its file.
#[derive(Debug, Clone)]
struct Mail {
    message_id: String,
    kind: Option<MailKind>,
    key: Option<OrderKey>,
}

fn short(key: &OrderKey) -> String {
    format!("{}/{}", key.marketplace, key.order_id)
}

/// Reads the outbox's `.eml` files in the order they were written (their names start with the
/// UTC time): the `Message-ID` and the `X-Ichigen-*` tags of each.
fn read_outbox(dir: &Path) -> anyhow::Result<Vec<Mail>> {
    let mut names: Vec<_> = std::fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "eml"))
        .collect();
    names.sort();
    let mut out = Vec::new();
    for path in names {
        let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
        let mut headers = BTreeMap::new();
        for line in text.lines() {
            if line.is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(':') {
                headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_string());
            }
        }
        let h = |n: &str| headers.get(n).cloned();
        let message_id = h("message-id").unwrap_or_default().trim_matches(['<', '>']).to_string();
        let kind = h("x-ichigen-kind").and_then(|k| k.parse().ok());
        let key = match (h("x-ichigen-shop"), h("x-ichigen-marketplace"), h("x-ichigen-order-id")) {
            (Some(shop_id), Some(m), Some(order_id)) => {
                m.parse::<Marketplace>().ok().map(|marketplace| OrderKey { shop_id, marketplace, order_id })
            }
            _ => None,
        };
        out.push(Mail { message_id, kind, key });
    }
    Ok(out)
}

/// The tracking numbers of an order, digits only, sorted.
fn numbers(o: &Order) -> BTreeSet<String> {
    o.tracking.iter().map(|t| ichigen_core::carrier::tracking_digits(&t.number)).collect()
}

/// Checks every invariant of the scenario in `dir` against `markets`, with what `inj` saw.
pub async fn check(
    dir: &Path,
    markets: &[Market],
    inj: &Injector,
    changes: &[(OrderKey, &'static str)],
) -> anyhow::Result<Checked> {
    let store = SqliteStore::open(&dir.join("ichigen.db"))?;
    let stored: BTreeMap<OrderKey, StoredOrder> = all_stored(&store).await?.into_iter().map(|s| (s.key(), s)).collect();
    let mails = read_outbox(&dir.join("outbox"))?;
    let o = inj.observed().clone();
    let mut checked = Checked { delivered: mails.len(), ..Checked::default() };
    let mut v = |invariant: u8, key: Option<&OrderKey>, detail: String| {
        checked.violations.push(Violation { invariant, order: key.map(short), detail });
    };

    // 1. Every sandbox order stored at its latest version: the marketplace's current copy, read
    // by id through a fresh client (so both sides are mapped the same way).
    let mut orders = 0;
    let mut reads = tokio::task::JoinSet::new();
    for m in markets {
        let client = m.client()?;
        let (marketplace, ids): (Marketplace, Vec<String>) =
            (m.marketplace, m.sandbox.book.all().into_iter().map(|o| o.order_id).collect());
        reads.spawn(async move {
            let mut page = ichigen_core::pipeline::OrderPage::default();
            for chunk in ids.chunks(client.max_ids_per_call().max(1)) {
                let got = client.orders_by_id(chunk).await.with_context(|| format!("reading {marketplace} by id"))?;
                page.orders.extend(got.orders);
                page.missing.extend(got.missing.into_iter().map(|id| format!("{marketplace}/{id}")));
            }
            anyhow::Ok(page)
        });
    }
    let mut current = Vec::new();
    while let Some(read) = reads.join_next().await {
        let page = read??;
        current.extend(page.orders);
        for id in page.missing {
            v(1, None, format!("{id}: the marketplace does not return it by id"));
        }
    }
    {
        for truth in current {
            orders += 1;
            let key = OrderKey::of(&truth);
            let Some(s) = stored.get(&key) else {
                v(1, Some(&key), "not stored".to_string());
                continue;
            };
            let mut behind = Vec::new();
            if s.order.status != truth.status {
                behind.push(format!("status {:?} where the marketplace has {:?}", s.order.status, truth.status));
            }
            // A cancelled order's address is history (Qoo10's claim records leave it blank).
            if truth.status.is_open() && s.order.ship_to.address2 != truth.ship_to.address2 {
                behind.push("address (line 2) differs from the marketplace's current copy".to_string());
            }
            if !numbers(&truth).is_subset(&numbers(&s.order)) && !numbers(&truth).is_subset(&parcel_numbers(s)) {
                behind.push("tracking numbers the marketplace has are missing".to_string());
            }
            if !behind.is_empty() {
                let what: Vec<&str> = changes.iter().filter(|(k, _)| *k == key).map(|(_, w)| *w).collect();
                if !what.is_empty() {
                    behind.push(format!("after: {}", what.join(", ")));
                }
                v(1, Some(&key), behind.join("; "));
            }
        }
    }

    // 2 and 3: per delivered mail.
    let mut by_mail: BTreeMap<(OrderKey, MailKind), Vec<&Mail>> = BTreeMap::new();
    for mail in &mails {
        let (Some(key), Some(kind)) = (&mail.key, mail.kind) else { continue };
        by_mail.entry((key.clone(), kind)).or_default().push(mail);
        if kind.to_buyer() {
            if key.marketplace == Marketplace::Amazon {
                v(3, Some(key), format!("{kind} mail delivered to an Amazon buyer"));
            }
            match o.deliveries.get(&mail.message_id).and_then(|d| d.status_at_send) {
                Some(OrderStatus::OnHold) => v(3, Some(key), format!("{kind} mail delivered while the order was held")),
                Some(OrderStatus::Cancelled) => {
                    v(3, Some(key), format!("{kind} mail delivered after the order was cancelled"))
                }
                _ => {}
            }
        }
    }
    for ((key, kind), sent) in &by_mail {
        let allowed = match kind {
            MailKind::StaffAlert => o.hold_episodes.get(key).copied().unwrap_or(1).max(1) as usize,
            _ => 1,
        };
        let claim = |m: &Mail| o.deliveries.get(&m.message_id).and_then(|d| d.claim).map(|c| &o.claims[c]);
        // The documented window (ADR 0002): the injected fault hit this mail's send or its
        // mark, the copy before was never marked sent, and the extra one was claimed only after
        // that claim's lease ended. One extra copy, no more.
        let faulted = o.faulted_mail.as_ref() == Some(&(key.clone(), *kind));
        let extras = sent.len().saturating_sub(allowed);
        for (i, extra) in sent.iter().enumerate().skip(allowed) {
            let prev = sent[i - 1];
            let after_lease = match (claim(prev), claim(extra)) {
                (Some(p), Some(c)) => !p.marked && c.now >= p.lease_until,
                _ => false,
            };
            if faulted && extras == 1 && after_lease {
                checked.documented_duplicates += 1;
            } else {
                let how = match (claim(prev), claim(extra)) {
                    (Some(p), Some(_)) if p.marked => "after the first was marked sent".to_string(),
                    (Some(_), Some(_)) if !after_lease => "again before the first claim's lease ended".to_string(),
                    (Some(_), Some(_)) if !faulted => "after the lease, but no fault hit this mail".to_string(),
                    (Some(_), Some(_)) => "more than the one copy the window allows".to_string(),
                    _ => "without a claim".to_string(),
                };
                v(2, Some(key), format!("{kind} mail delivered {} times ({how})", sent.len()));
            }
        }
    }

    // 4. A staff alert each time an order became held by its checks.
    for (key, episodes) in &o.hold_episodes {
        let alerts = by_mail.get(&(key.clone(), MailKind::StaffAlert)).map_or(0, Vec::len);
        if alerts < *episodes as usize {
            v(4, Some(key), format!("held {episodes} times by its checks, {alerts} staff alert(s) delivered"));
        }
    }

    // 5. No decided mail left without a durable job.
    // Every queued job, due now or put back to wait for a claim's lease.
    let queue = SqliteQueue::<MailJob>::new(&store, MAIL_QUEUE);
    let mut durable: BTreeSet<(OrderKey, MailKind)> =
        queue.queued()?.into_iter().filter_map(Result::ok).map(|j| (j.order, j.kind)).collect();
    for m in MARKETPLACES {
        for job in store.parked(SHOP_ID, m, 100_000).await? {
            durable.insert((job.order, job.kind));
        }
    }
    for s in stored.values() {
        for &kind in &s.mails_due {
            if !durable.contains(&(s.key(), kind)) && !by_mail.contains_key(&(s.key(), kind)) {
                v(5, Some(&s.key()), format!("{kind} mail due in the store but on no queue"));
            }
        }
    }
    for decided in &o.decided {
        let done = by_mail.contains_key(decided) || o.settled.contains(decided) || durable.contains(decided);
        let still_due = stored.get(&decided.0).is_some_and(|s| s.mails_due.contains(&decided.1));
        if !done && !still_due {
            v(
                5,
                Some(&decided.0),
                format!("{} mail was decided, then neither delivered nor kept on a queue", decided.1),
            );
        }
    }
    checked.orders = orders;
    Ok(checked)
}

fn parcel_numbers(s: &StoredOrder) -> BTreeSet<String> {
    s.parcels
        .iter()
        .filter_map(|p| p.tracking.as_ref())
        .map(|t| ichigen_core::carrier::tracking_digits(&t.number))
        .collect()
}
