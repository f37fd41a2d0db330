//! Orders a marketplace sent that could not be read, as the pipeline quarantines them.

use ichigen_core::Marketplace;
use ichigen_core::pipeline::Rejected;

use crate::BadOrder;

/// The rejected entries of `bad` orders of `shop_id`, with the error text (field names, never
/// values) as the reason.
pub fn rejects(shop_id: &str, marketplace: Marketplace, bad: Vec<BadOrder>) -> Vec<Rejected> {
    bad.into_iter()
        .map(|b| Rejected {
            shop_id: shop_id.to_owned(),
            marketplace,
            order_id: b.order_id,
            reason: b.error.to_string(),
        })
        .collect()
}
