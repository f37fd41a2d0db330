//! `buyer.blacklisted`: the buyer or a recipient matches the shop's blacklist, compared on
//! normalised keys so width, spaces, hyphen variants, case, 様 and +81 make no difference.

use std::collections::HashMap;

use serde_json::json;

use super::{CheckEngine, Destination, Findings, strip_prefecture};
use crate::finding::FindingCode;
use crate::order::Order;
use crate::rules::BlacklistEntry;
use crate::text;

/// One entry with its keys.
struct Entry {
    /// 1-based position in the rules file, shown to staff.
    number: usize,
    name: Option<String>,
    reason: String,
}

/// The blacklist, indexed by phone, e-mail and address key.
pub(super) struct Blacklist {
    entries: Vec<Entry>,
    by_phone: HashMap<String, Vec<usize>>,
    by_email: HashMap<String, Vec<usize>>,
    by_address: HashMap<String, Vec<usize>>,
}

impl Blacklist {
    pub(super) fn compile(list: &[BlacklistEntry]) -> Self {
        let mut bl = Blacklist {
            entries: Vec::with_capacity(list.len()),
            by_phone: HashMap::new(),
            by_email: HashMap::new(),
            by_address: HashMap::new(),
        };
        // Weak entries (an address of only a prefecture or `-`) would hold every order without a
        // street: they are left out, keeping the numbers of the others.
        for (i, e) in list.iter().enumerate().filter(|(_, e)| e.weakness().is_none()) {
            let at = bl.entries.len();
            let nonempty = |s: &Option<String>| s.as_deref().filter(|s| !s.trim().is_empty()).map(str::to_owned);
            if let Some(k) = e.phone.as_deref().and_then(text::phone_key) {
                bl.by_phone.entry(k).or_default().push(at);
            }
            if let Some(k) = e.email.as_deref().and_then(text::email_key) {
                bl.by_email.entry(k).or_default().push(at);
            }
            if let Some(a) = nonempty(&e.address) {
                bl.by_address.entry(strip_prefecture(text::address_key(&a))).or_default().push(at);
            }
            bl.entries.push(Entry {
                number: i + 1,
                name: nonempty(&e.name).map(|n| text::name_key(&n)),
                reason: e.reason.clone(),
            });
        }
        bl
    }

    fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

pub(super) fn check_blacklist(eng: &CheckEngine, order: &Order, dests: &[Destination<'_>], out: &mut Findings<'_>) {
    let bl = &eng.blacklist;
    if bl.is_empty() {
        return;
    }
    // Names of everyone on the order, for entries that pair a name with a phone or address;
    // computed only when a phone, e-mail or address hits.
    let names = std::cell::OnceCell::new();
    let name_ok = |e: &Entry| {
        e.name.as_ref().is_none_or(|n| {
            let names = names.get_or_init(|| {
                let mut v = Vec::with_capacity(1 + dests.len());
                v.push(text::name_key(&order.buyer.name));
                v.extend(dests.iter().map(|d| text::name_key(&d.addr.name)));
                v
            });
            names.contains(n)
        })
    };

    // (entry index, what matched)
    let mut hits: Vec<(usize, &'static str)> = Vec::new();
    let phones = std::iter::once(order.buyer.phone.as_deref()).chain(dests.iter().map(|d| d.addr.phone.as_deref()));
    for phone in phones.flatten().filter_map(text::phone_key) {
        for &i in bl.by_phone.get(&phone).into_iter().flatten() {
            if name_ok(&bl.entries[i]) {
                hits.push((i, if bl.entries[i].name.is_some() { "name+phone" } else { "phone" }));
            }
        }
    }
    if let Some(email) = order.buyer.email.as_deref().and_then(text::email_key) {
        for &i in bl.by_email.get(&email).into_iter().flatten() {
            if name_ok(&bl.entries[i]) {
                hits.push((i, "email"));
            }
        }
    }
    for d in dests {
        for &i in bl.by_address.get(&d.full_key).into_iter().flatten() {
            if name_ok(&bl.entries[i]) {
                hits.push((i, if bl.entries[i].name.is_some() { "name+address" } else { "address" }));
            }
        }
    }
    hits.sort_unstable();
    hits.dedup_by_key(|h| h.0);
    if hits.is_empty() {
        return;
    }
    let evidence: Vec<_> = hits
        .iter()
        .map(|&(i, on)| {
            let e = &bl.entries[i];
            json!({"entry": e.number, "matched_on": on, "reason": e.reason})
        })
        .collect();
    let first = &bl.entries[hits[0].0];
    let why = if first.reason.is_empty() { String::new() } else { format!(" ({})", first.reason) };
    out.push(
        FindingCode::Blacklisted,
        format!("ブラックリストの{}番目の登録と一致します{why}", first.number),
        json!({"matches": evidence}),
    );
}
