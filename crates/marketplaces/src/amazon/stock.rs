//! Amazon seller-fulfilled stock with the Listings Items API v2021-08-01 (inventory.md §3): read
//! with `searchListingsItems` (20 seller SKUs a call, `fulfillmentAvailability` and `summaries`),
//! written with `patchListingsItem` — one SKU a call, `merge` on
//! `/attributes/fulfillment_availability` with channel `DEFAULT`, so the handling time and the
//! rest of the attribute stay as they are (the 2025-06 `merge` op; `replace` reset them).
//!
//! Why PATCH and not `JSON_LISTINGS_FEED` (25,000 SKUs a feed): a feed is 5 calls (document,
//! upload, create, poll, report), allowed 5 times in 5 minutes, processed in queue order behind
//! the seller's other listing feeds — reports of 12 hours and more before a zero arrived
//! (issue #4823) — and answers per SKU only in its report. The PATCH answers per SKU at once
//! (`ACCEPTED` / `INVALID` with issues) at 5 a second (burst 5): 300 changed SKUs a minute, more
//! than a shop's sales change between two pushes, and a sold-out SKU reaches Amazon in seconds,
//! not behind a queue. The cost is one call per SKU, hence [`MAX_ITEMS_PER_WRITE`] = 1.
//!
//! **FBA SKUs are never written**: before writing, the SKUs are read (20 a call); a SKU whose
//! `fulfillmentAvailability` names a channel other than `DEFAULT` (`AMAZON_JP`) is Amazon's —
//! a seller quantity would switch it to merchant-fulfilled and strand its FBA stock — and is
//! answered [`SetOutcome::MallManaged`] with no call. The same read gives the `productType` the
//! PATCH requires. A SKU the read does not find is still written (with productType `PRODUCT`,
//! which issue threads report accepted — unverified): Amazon accepts a PATCH for an unknown SKU
//! without a word (issue #2797), so the client does not invent an error; the read-back shows it
//! missing. `ACCEPTED` is not "applied": the number shows after Amazon's own processing.

use std::collections::HashMap;

use ichigen_core::Marketplace;
use ichigen_core::stock::mall::{ItemSet, ItemShown, MallStock, Quantity, SetOutcome, Shown};
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Deserialize;
use serde_json::json;

use super::client::{AmazonClient, json_body};
use crate::client::ClientError;

/// `patchListingsItem`.
pub const PATCH_LISTINGS_ITEM: &str = "patchListingsItem";
/// `searchListingsItems`.
pub const SEARCH_LISTINGS_ITEMS: &str = "searchListingsItems";
/// One SKU per PATCH.
pub const MAX_ITEMS_PER_WRITE: usize = 1;
/// Most SKUs one search by identifiers takes.
pub const MAX_ITEMS_PER_READ: usize = 20;
/// The seller-fulfilled channel.
pub const MERCHANT_CHANNEL: &str = "DEFAULT";
/// The product type sent for a SKU the read did not find (unverified: issue threads report it
/// accepted).
const UNKNOWN_PRODUCT_TYPE: &str = "PRODUCT";
/// Longest seller SKU (Seller Central's limit).
const MAX_SKU_CHARS: usize = 40;

/// A search answer.
#[derive(Debug, Deserialize)]
struct SearchResult {
    #[serde(default)]
    items: Vec<ListingItem>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ListingItem {
    sku: String,
    #[serde(default)]
    summaries: Vec<Summary>,
    #[serde(default)]
    fulfillment_availability: Vec<Availability>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Summary {
    #[serde(default)]
    product_type: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Availability {
    fulfillment_channel_code: String,
    #[serde(default)]
    quantity: Option<i64>,
}

/// A PATCH answer (`ListingsItemSubmissionResponse`).
#[derive(Debug, Deserialize)]
struct Submission {
    status: String,
    #[serde(default)]
    issues: Vec<Issue>,
}

#[derive(Debug, Deserialize)]
struct Issue {
    #[serde(default)]
    code: String,
    #[serde(default)]
    message: String,
    #[serde(default)]
    severity: String,
}

/// What a listing read tells about one SKU.
struct Listing {
    product_type: Option<String>,
    /// (channel, quantity) as Amazon applies them.
    availability: Vec<(String, i64)>,
}

impl Listing {
    fn is_fba(&self) -> bool {
        self.availability.iter().any(|(c, _)| c != MERCHANT_CHANNEL)
    }
}

/// A path segment with every byte outside `A-Z a-z 0-9` percent-encoded: SKUs with `/` or `#`
/// gave 403 when sent raw (issue #4429).
fn encode(s: &str) -> String {
    utf8_percent_encode(s, NON_ALPHANUMERIC).to_string()
}

impl AmazonClient {
    fn seller_id(&self, operation: &'static str) -> Result<&str, ClientError> {
        self.inner.config.seller_id.as_deref().ok_or_else(|| ClientError::Rejected {
            marketplace: Marketplace::Amazon,
            operation,
            status: 0,
            code: "seller_id".into(),
            message: "the secret has no seller_id (出品者ID): the Listings Items API needs it".into(),
        })
    }

    /// The listings of up to 20 SKUs, by SKU; SKUs Amazon does not know are absent.
    async fn listings(&self, skus: &[&str]) -> Result<HashMap<String, Listing>, ClientError> {
        let seller = self.seller_id(SEARCH_LISTINGS_ITEMS)?;
        let token = self.access_token().await?;
        let url = self.inner.api.url(&format!("/listings/2021-08-01/items/{}", encode(seller)));
        let query = [
            ("marketplaceIds", self.inner.config.marketplace_id.clone()),
            ("identifiersType", "SKU".to_owned()),
            ("identifiers", skus.join(",")),
            ("includedData", "summaries,fulfillmentAvailability".to_owned()),
            ("pageSize", MAX_ITEMS_PER_READ.to_string()),
        ];
        let reply = self
            .send_sp(SEARCH_LISTINGS_ITEMS, || self.sp(self.inner.api.client().get(&url), &token).query(&query))
            .await?;
        let found: SearchResult = json_body(SEARCH_LISTINGS_ITEMS, &reply.body)?;
        Ok(found
            .items
            .into_iter()
            .map(|i| {
                let listing = Listing {
                    product_type: i.summaries.into_iter().find_map(|s| s.product_type),
                    availability: i
                        .fulfillment_availability
                        .into_iter()
                        .map(|a| (a.fulfillment_channel_code, a.quantity.unwrap_or(0)))
                        .collect(),
                };
                (i.sku, listing)
            })
            .collect())
    }

    /// The listings of any number of SKUs (20 a call).
    async fn all_listings(&self, skus: &[&str]) -> Result<HashMap<String, Listing>, ClientError> {
        let mut out = HashMap::new();
        for chunk in skus.chunks(MAX_ITEMS_PER_READ) {
            out.extend(self.listings(chunk).await?);
        }
        Ok(out)
    }

    /// One PATCH of a SKU's seller-fulfilled quantity.
    async fn patch_quantity(&self, sku: &str, product_type: &str, units: u32) -> Result<SetOutcome, ClientError> {
        let seller = self.seller_id(PATCH_LISTINGS_ITEM)?;
        let token = self.access_token().await?;
        let url = self.inner.api.url(&format!("/listings/2021-08-01/items/{}/{}", encode(seller), encode(sku)));
        let query = [("marketplaceIds", self.inner.config.marketplace_id.clone())];
        let body = json!({
            "productType": product_type,
            "patches": [{
                "op": "merge",
                "path": "/attributes/fulfillment_availability",
                "value": [{"fulfillment_channel_code": MERCHANT_CHANNEL, "quantity": units}],
            }],
        })
        .to_string();
        let reply = self
            .send_sp(PATCH_LISTINGS_ITEM, || {
                self.sp(self.inner.api.client().patch(&url), &token)
                    .query(&query)
                    .header("content-type", "application/json")
                    .body(body.clone())
            })
            .await;
        let reply = match reply {
            Ok(r) => r,
            // A refusal of this SKU alone (a bad SKU, a listing Amazon locked) is its answer.
            Err(ClientError::Rejected { code, message, status, .. }) if status == 400 || status == 404 => {
                return Ok(SetOutcome::Refused { code, reason: message });
            }
            Err(e) => return Err(e),
        };
        let s: Submission = json_body(PATCH_LISTINGS_ITEM, &reply.body)?;
        if s.status == "ACCEPTED" {
            return Ok(SetOutcome::Written);
        }
        let first = s.issues.iter().find(|i| i.severity == "ERROR").or(s.issues.first());
        Ok(SetOutcome::Refused {
            code: first.map(|i| i.code.clone()).unwrap_or_else(|| s.status.clone()),
            reason: first.map(|i| i.message.clone()).unwrap_or_default(),
        })
    }
}

/// Whether `sku` can be a seller SKU at all.
fn plausible_sku(sku: &str) -> bool {
    !sku.trim().is_empty()
        && sku.chars().count() <= MAX_SKU_CHARS
        && !sku.contains(',')
        && !sku.chars().any(char::is_control)
}

impl MallStock for AmazonClient {
    type Error = ClientError;

    fn marketplace(&self) -> Marketplace {
        Marketplace::Amazon
    }

    fn max_items_per_write(&self) -> usize {
        MAX_ITEMS_PER_WRITE
    }

    fn max_items_per_read(&self) -> usize {
        MAX_ITEMS_PER_READ
    }

    async fn set_quantities(&self, items: &[Quantity]) -> Result<Vec<ItemSet>, ClientError> {
        let skus: Vec<&str> = items.iter().map(|q| q.item.as_str()).filter(|s| plausible_sku(s)).collect();
        let listings = self.all_listings(&skus).await?;
        let mut out = Vec::with_capacity(items.len());
        for q in items {
            let outcome = if !plausible_sku(&q.item) {
                SetOutcome::Refused {
                    code: "sku".into(), reason: "出品者SKUは40文字以内でカンマを含みません".into()
                }
            } else {
                match listings.get(&q.item) {
                    Some(l) if l.is_fba() => SetOutcome::MallManaged,
                    Some(l) => {
                        let product_type = l.product_type.as_deref().unwrap_or(UNKNOWN_PRODUCT_TYPE);
                        self.patch_quantity(&q.item, product_type, q.units).await?
                    }
                    None => self.patch_quantity(&q.item, UNKNOWN_PRODUCT_TYPE, q.units).await?,
                }
            };
            out.push(ItemSet { item: q.item.clone(), outcome });
        }
        Ok(out)
    }

    async fn read_quantities(&self, items: &[String]) -> Result<Vec<ItemShown>, ClientError> {
        let skus: Vec<&str> = items.iter().map(String::as_str).filter(|s| plausible_sku(s)).collect();
        let listings = self.all_listings(&skus).await?;
        Ok(items
            .iter()
            .map(|sku| {
                let shown = match listings.get(sku) {
                    None => Shown::Missing,
                    Some(l) if l.is_fba() => Shown::MallManaged(l.availability.iter().map(|(_, n)| *n).sum()),
                    Some(l) => {
                        Shown::Units(l.availability.iter().find(|(c, _)| c == MERCHANT_CHANNEL).map_or(0, |(_, n)| *n))
                    }
                };
                ItemShown { item: sku.clone(), shown }
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_segments_are_encoded() {
        assert_eq!(encode("MUG/WHT#1"), "MUG%2FWHT%231");
        assert_eq!(encode("TEA50G"), "TEA50G");
        assert!(plausible_sku("TEA-50G") && !plausible_sku("a,b") && !plausible_sku(""));
    }
}
