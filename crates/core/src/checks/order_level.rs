//! Order-level checks: buyer remarks a person should read, and 同梱 (ship-together) candidates.

use std::collections::HashMap;

use serde_json::json;
use sha2::{Digest, Sha256};

use super::{CheckEngine, Destination, Findings};
use crate::finding::{FindingCode, Severity};
use crate::marketplace::Policies;
use crate::order::{Marketplace, Order};
use crate::rules::{ConditionAction, RemarksRules};
use crate::text;

/// Longest excerpt of the remarks put into the evidence.
const REMARKS_EXCERPT_CHARS: usize = 500;

/// Most other orders a 同梱 finding names in its evidence; the rest are only counted (`more`), so
/// the evidence stays a few KB however many open orders go to one recipient (a stored order must
/// fit a 400 KB DynamoDB item, and `ichigen check` output must not grow with the square of them).
pub const BUNDLE_MATES_LISTED: usize = 20;

/// Compiled `remarks` rules, with each marketplace's declared sections.
pub(super) struct RemarksFilter {
    system_sections: Vec<(Marketplace, Vec<String>)>,
    nothing: Vec<String>,
}

impl RemarksFilter {
    pub(super) fn compile(r: &RemarksRules, policies: &Policies) -> Self {
        let extra: Vec<String> = r.system_sections.iter().map(|s| text::compact_key(s)).collect();
        let system_sections = Marketplace::ALL
            .iter()
            .map(|&m| {
                let mut keys: Vec<String> =
                    policies.of(m).remark_sections.iter().map(|s| text::compact_key(s)).collect();
                keys.extend(extra.iter().cloned());
                (m, keys)
            })
            .collect();
        RemarksFilter { system_sections, nothing: r.nothing_phrases.iter().map(|s| text::compact_key(s)).collect() }
    }

    /// The buyer's own words: sections written by the marketplace (`[配送日時指定:]` ...) and
    /// their headings removed, blank lines dropped.
    fn buyer_text<'a>(&self, marketplace: Marketplace, remarks: &'a str) -> Vec<&'a str> {
        let sections: &[String] =
            self.system_sections.iter().find(|(m, _)| *m == marketplace).map_or(&[], |(_, k)| k.as_slice());
        let mut keep = Vec::new();
        let mut in_system = false;
        for line in remarks.lines().map(str::trim) {
            if let Some(heading) = line.strip_prefix('[').and_then(|l| l.strip_suffix(":]")) {
                in_system = sections.contains(&text::compact_key(heading));
                continue;
            }
            if !in_system && !line.is_empty() {
                keep.push(line);
            }
        }
        keep
    }
}

/// The shop's own conditions: one finding per matching condition, held or only noted (warn).
pub(super) fn check_conditions(eng: &CheckEngine, order: &Order, out: &mut Findings<'_>) {
    for c in &eng.rules.conditions {
        let Some(matched) = c.matches(order) else { continue };
        let (cap, verb) = match c.action {
            ConditionAction::Hold => (Severity::Hold, "保留にしました"),
            ConditionAction::Note => (Severity::Warn, "確認してください"),
        };
        let mut evidence = json!({"condition": c.name, "action": c.action, "matched": matched});
        if let Some(k) = c.remarks_hit(&order.remarks) {
            evidence["keyword"] = json!(k);
        }
        out.push_capped(
            FindingCode::ShopCondition,
            cap,
            format!("ショップの条件「{}」に該当します。{verb}", c.name),
            evidence,
        );
    }
}

pub(super) fn check_remarks(eng: &CheckEngine, order: &Order, out: &mut Findings<'_>) {
    if order.remarks.trim().is_empty() {
        return;
    }
    let lines = eng.remarks.buyer_text(order.marketplace, &order.remarks);
    let joined = lines.join("\n");
    let key = text::compact_key(&joined);
    if key.is_empty() || eng.remarks.nothing.contains(&key) {
        return;
    }
    let excerpt: String = joined.chars().take(REMARKS_EXCERPT_CHARS).collect();
    out.push(
        FindingCode::Remarks,
        "購入者からの備考・要望があります。内容を確認してください".to_string(),
        json!({"text": excerpt, "truncated": joined.chars().count() > REMARKS_EXCERPT_CHARS}),
    );
}

/// The shop's open orders keyed by shop, recipient name and destination address.
///
/// `ichigen check` indexes every open order of its input, so the index is most of what it holds
/// in memory: keys are kept as a 128-bit digest, and the orders of a key as a chain through one
/// array, their ids in one string (about 60 bytes an order plus its id, against some 300 with a
/// list and a string per order).
#[derive(Debug, Default)]
pub struct BundleIndex {
    /// First and last entry of each key's chain.
    by_key: HashMap<KeyDigest, (u32, u32)>,
    entries: Vec<Entry>,
    ids: String,
}

/// One indexed order: its id is `ids[start..start + len]`.
#[derive(Debug)]
struct Entry {
    start: usize,
    len: u32,
    /// The next entry of the same key, or [`NONE`].
    next: u32,
    marketplace: Marketplace,
}

const NONE: u32 = u32::MAX;

/// The first 128 bits of the SHA-256 of a bundle key.
type KeyDigest = [u8; 16];

fn digest(key: &str) -> KeyDigest {
    let full = Sha256::digest(key.as_bytes());
    let mut out = [0u8; 16];
    out.copy_from_slice(&full[..16]);
    out
}

impl BundleIndex {
    /// An index with no orders: no bundle candidates will be found.
    pub fn empty() -> BundleIndex {
        BundleIndex::default()
    }

    pub(super) fn build<'a>(orders: impl IntoIterator<Item = &'a Order>) -> BundleIndex {
        let mut idx = BundleIndex::default();
        for o in orders {
            if let Some(key) = bundle_key(o, None) {
                idx.insert(key, o.marketplace, o.order_id.clone());
            }
        }
        idx
    }

    /// Files `order_id` of `marketplace` under a [`CheckEngine::bundle_key`](super::CheckEngine::bundle_key).
    ///
    /// # Panics
    /// With more than 4,294,967,294 orders, or an order id over 4 GB.
    pub fn insert(&mut self, key: String, marketplace: Marketplace, order_id: String) {
        let at = u32::try_from(self.entries.len()).ok().filter(|&n| n != NONE).expect("fewer than 2^32-1 orders");
        let len = u32::try_from(order_id.len()).expect("an order id under 4 GB");
        self.entries.push(Entry { start: self.ids.len(), len, next: NONE, marketplace });
        self.ids.push_str(&order_id);
        match self.by_key.entry(digest(&key)) {
            std::collections::hash_map::Entry::Occupied(mut chain) => {
                let (_, last) = chain.get_mut();
                self.entries[*last as usize].next = at;
                *last = at;
            }
            std::collections::hash_map::Entry::Vacant(v) => {
                v.insert((at, at));
            }
        }
    }

    /// Number of indexed orders.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no order is indexed.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The orders filed under `key`, in the order they were inserted.
    fn orders_of(&self, key: &str) -> impl Iterator<Item = (Marketplace, &str)> {
        let mut at = self.by_key.get(&digest(key)).map_or(NONE, |&(first, _)| first);
        std::iter::from_fn(move || {
            let e = self.entries.get(at as usize)?;
            at = e.next;
            Some((e.marketplace, &self.ids[e.start..e.start + e.len as usize]))
        })
    }
}

/// Shop + recipient + address of an open order we ship ourselves; `None` for other orders.
pub(super) fn bundle_key(o: &Order, first: Option<&Destination<'_>>) -> Option<String> {
    if !o.status.is_open() || o.fulfilled_by_marketplace {
        return None;
    }
    let built;
    let d = match first {
        Some(d) => d,
        None => {
            built = Destination::new(0, o.destinations().next()?);
            &built
        }
    };
    let name = if d.addr.name.trim().is_empty() { &o.buyer.name } else { &d.addr.name };
    let name = text::name_key(name);
    if name.is_empty() || d.full_key.is_empty() {
        return None;
    }
    Some(format!("{}\u{1f}{name}\u{1f}{}", o.shop_id, d.full_key))
}

pub(super) fn check_bundle(order: &Order, dests: &[Destination<'_>], open: &BundleIndex, out: &mut Findings<'_>) {
    if open.is_empty() {
        return;
    }
    let Some(key) = bundle_key(order, dests.first()) else { return };
    let mut others = open.orders_of(&key).filter(|&(m, id)| !(m == order.marketplace && id == order.order_id));
    let listed: Vec<_> =
        others.by_ref().take(BUNDLE_MATES_LISTED).map(|(m, id)| json!({"marketplace": m, "order_id": id})).collect();
    if listed.is_empty() {
        return;
    }
    let more = others.count();
    out.push(
        FindingCode::BundleCandidate,
        format!("同じお届け先への未発送の注文が他に{}件あります: 同梱を検討してください", listed.len() + more),
        json!({"orders": listed, "more": more}),
    );
}
