//! Order-level checks: buyer remarks a person should read, and 同梱 (ship-together) candidates.

use std::collections::HashMap;

use serde_json::json;
use sha2::{Digest, Sha256};

use super::{CheckEngine, Destination, Findings};
use crate::finding::FindingCode;
use crate::order::{Marketplace, Order};
use crate::rules::RemarksRules;
use crate::text;

/// Longest excerpt of the remarks put into the evidence.
const REMARKS_EXCERPT_CHARS: usize = 500;

/// Most other orders a 同梱 finding names in its evidence; the rest are only counted (`more`), so
/// the evidence stays a few KB however many open orders go to one recipient (a stored order must
/// fit a 400 KB DynamoDB item, and `ichigen check` output must not grow with the square of them).
pub const BUNDLE_MATES_LISTED: usize = 20;

/// Compiled `remarks` rules.
pub(super) struct RemarksFilter {
    system_sections: Vec<String>,
    nothing: Vec<String>,
}

impl RemarksFilter {
    pub(super) fn compile(r: &RemarksRules) -> Self {
        RemarksFilter {
            system_sections: r.system_sections.iter().map(|s| text::compact_key(s)).collect(),
            nothing: r.nothing_phrases.iter().map(|s| text::compact_key(s)).collect(),
        }
    }

    /// The buyer's own words: marketplace-written sections (`[配送日時指定:]` ...) and their
    /// headings removed, blank lines dropped.
    fn buyer_text<'a>(&self, remarks: &'a str) -> Vec<&'a str> {
        let mut keep = Vec::new();
        let mut in_system = false;
        for line in remarks.lines().map(str::trim) {
            if let Some(heading) = line.strip_prefix('[').and_then(|l| l.strip_suffix(":]")) {
                in_system = self.system_sections.contains(&text::compact_key(heading));
                continue;
            }
            if !in_system && !line.is_empty() {
                keep.push(line);
            }
        }
        keep
    }
}

pub(super) fn check_remarks(eng: &CheckEngine, order: &Order, out: &mut Findings<'_>) {
    if order.remarks.trim().is_empty() {
        return;
    }
    let lines = eng.remarks.buyer_text(&order.remarks);
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
/// Keys are kept as a 128-bit digest and ids as boxed strings: `ichigen check` indexes every open
/// order of its input, so the index is most of what it holds in memory.
#[derive(Debug, Default)]
pub struct BundleIndex {
    by_key: HashMap<KeyDigest, Vec<(Marketplace, Box<str>)>>,
}

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
    pub fn insert(&mut self, key: String, marketplace: Marketplace, order_id: String) {
        self.by_key.entry(digest(&key)).or_default().push((marketplace, order_id.into_boxed_str()));
    }

    /// Number of indexed orders.
    pub fn len(&self) -> usize {
        self.by_key.values().map(Vec::len).sum()
    }

    /// Whether no order is indexed.
    pub fn is_empty(&self) -> bool {
        self.by_key.is_empty()
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
    let mut others = open
        .by_key
        .get(&digest(&key))
        .into_iter()
        .flatten()
        .filter(|(m, id)| !(*m == order.marketplace && **id == *order.order_id));
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
