//! The bodies of the fuzz targets, as plain functions of the input bytes.
//!
//! `fuzz/fuzz_targets/<name>.rs` hands libFuzzer's input to one of them (nightly, `scripts/fuzz`);
//! `tests/corpus.rs` runs each over its seed corpus `fuzz/corpus/<name>/` and its found crashes
//! `fuzz/regressions/<name>/` on stable, so that a crash, once fixed, stays a regression test.
//!
//! Each body asserts what must hold for any input: no panic, and the promises the code makes
//! (orders that come out validate and survive the queue's JSON; keys have their documented shape;
//! a finding never beats the shop's severity; errors that name fields never carry a value).
//!
//! Text inputs are the bytes read as lossy UTF-8: that is what the marketplace clients hand the
//! parsers (reqwest's `Response::text` replaces invalid bytes), and for files it is a superset of
//! what a strict read passes on, so no input is wasted.

mod bodies;
mod order;
mod rules;
mod text;

use ichigen_core::{CheckEngine, CheckOutcome, Order, OrderStatus, Severity};

pub use bodies::{amazon, aupay, qoo10, rakuten, yahoo};
pub use order::order;
pub use rules::rules;
pub use text::text;

/// A fuzz target's body.
pub type Target = fn(&[u8]);

/// Every target by name: the name of its `fuzz/fuzz_targets/` file and of its corpus folders.
pub const TARGETS: [(&str, Target); 8] = [
    ("rakuten", rakuten),
    ("yahoo", yahoo),
    ("amazon", amazon),
    ("aupay", aupay),
    ("qoo10", qoo10),
    ("text", text),
    ("rules", rules),
    ("order", order),
];

/// A value the seed generator plants in personal-data fields (names) of some seed bodies.
/// Messages that name fields must never carry it.
pub const MARKER: &str = "FUZZMARKER";

/// Shop id the targets pass in.
const SHOP: &str = "shop";

/// Panics when `message` carries [`MARKER`]; `input` is checked first, so inputs without the
/// marker cost one search.
fn assert_no_marker(input: &str, what: &str, message: &str) {
    if input.contains(MARKER) {
        assert!(!message.contains(MARKER), "{what} carries a value from the input: {message}");
    }
}

/// What holds for every order that comes out of a reader: it validates, and it survives the
/// JSON of the queues unchanged.
fn assert_sound_order(order: &Order) {
    if let Err(e) = order.validate() {
        panic!("an order that came out of a reader does not validate: {e}");
    }
    let json = serde_json::to_string(order).expect("an Order serialises");
    let back: Order = serde_json::from_str(&json).expect("an Order reads back");
    assert_eq!(&back, order, "the Order changed on its way through JSON");
}

/// What holds for every check outcome: each finding is at or below the severity the shop set for
/// its code (and none of a code switched off), and an open order is held exactly when a finding holds.
fn assert_outcome(engine: &CheckEngine, order: &Order, outcome: &CheckOutcome) {
    for f in &outcome.findings {
        match engine.rules().severity_of(f.code) {
            None => panic!("finding {:?} reported although switched off", f.code),
            Some(set) => assert!(f.severity <= set, "finding {:?} above its set severity", f.code),
        }
    }
    let held = outcome.findings.iter().any(|f| f.severity == Severity::Hold);
    let expected = if held && order.status.is_open() { OrderStatus::OnHold } else { order.status };
    assert_eq!(outcome.status, expected, "status after the checks");
}

/// A small, fixed set of varied sample orders (every marketplace), built once.
fn samples() -> &'static [Order] {
    static SAMPLES: std::sync::OnceLock<Vec<Order>> = std::sync::OnceLock::new();
    SAMPLES.get_or_init(|| {
        let mut sample = ichigen_core::sample::SampleOrders::new(13);
        let mut out = Vec::new();
        for (i, m) in ichigen_core::Marketplace::ALL.into_iter().enumerate() {
            for k in 0..3 {
                out.push(sample.varied_order(m, i * 3 + k));
            }
        }
        out
    })
}
