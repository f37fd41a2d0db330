//! The canonical-order reader: JSON → Order → validate → the checks with the default rules.

use ichigen_core::{CheckEngine, Order, Rules};

use crate::{assert_no_marker, assert_outcome, assert_sound_order, samples};

/// One canonical order as JSON (what `ichigen check` reads per line and the processor per
/// message); when it validates, it is checked beside the sample orders.
pub fn order(data: &[u8]) {
    let Ok(order) = serde_json::from_slice::<Order>(data) else { return };
    if let Err(e) = order.validate() {
        assert_no_marker(&String::from_utf8_lossy(data), "a validation error", &e.to_string());
        return;
    }
    assert_sound_order(&order);
    let engine = engine();
    let open = engine.bundle_index(samples().iter().chain([&order]));
    let _ = engine.bundle_key(&order);
    let outcome = engine.check(&order, &open);
    assert_outcome(engine, &order, &outcome);
}

/// The engine with the default rules, built once.
fn engine() -> &'static CheckEngine {
    static ENGINE: std::sync::OnceLock<CheckEngine> = std::sync::OnceLock::new();
    ENGINE.get_or_init(|| CheckEngine::new(Rules::default(), ichigen_marketplaces::policies()))
}
