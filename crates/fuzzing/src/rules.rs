//! The shop's rules file: parsed, and when it parses, the check engine built on it over sample
//! orders.

use ichigen_core::{CheckEngine, FindingCode, Rules};

use crate::{assert_outcome, samples};

/// `Rules::from_toml`, then every rule read and the checks run with them.
pub fn rules(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let rules = match Rules::from_toml(&text) {
        Ok(rules) => rules,
        Err(e) => {
            let _ = e.to_string();
            return;
        }
    };
    let _ = rules.weak_blacklist_entries();
    for code in FindingCode::ALL {
        let _ = rules.severity_of(code);
    }
    let engine = CheckEngine::new(rules, ichigen_marketplaces::policies());
    let orders = samples();
    let open = engine.bundle_index(orders);
    for o in orders {
        let _ = engine.bundle_key(o);
        let outcome = engine.check(o, &open);
        assert_outcome(&engine, o, &outcome);
    }
}
