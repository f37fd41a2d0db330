//! Records to DynamoDB items and back with serde_dynamo: native attributes, no top-level nulls,
//! and decode errors that name the field path but never the stored value (it may be personal data).

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use ichigen_core::pipeline::PortError;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::table::{KEY_ATTRIBUTES, LIST_ATTRIBUTES};

/// An item as the SDK takes and gives it.
pub(crate) type Item = HashMap<String, AttributeValue>;

/// A record that could not be turned into an item or back.
#[derive(Debug, thiserror::Error)]
pub enum ItemError {
    /// The record did not serialise (a map with non-text keys, ...).
    #[error("{what} {key}: cannot be written as an item: {source}")]
    Encode {
        /// The kind of record.
        what: &'static str,
        /// Its table key.
        key: String,
        /// serde_dynamo's error (type-level, no values of the record).
        #[source]
        source: serde_dynamo::Error,
    },
    /// The stored item does not match the record's schema.
    #[error("{what} {key}: stored item does not match the schema at `{path}`")]
    Decode {
        /// The kind of record.
        what: &'static str,
        /// Its table key.
        key: String,
        /// The field path where decoding stopped.
        path: String,
    },
}

/// `record` as an item, without top-level null attributes (`None` fields are left out, so a
/// missing `expires_at` is no TTL and a missing `bundle_key` no index entry).
pub(crate) fn encode<T: Serialize>(what: &'static str, key: &str, record: &T) -> Result<Item, PortError> {
    let mut item: Item = serde_dynamo::to_item(record).map_err(|source| {
        PortError::permanent("encode item", ItemError::Encode { what, key: key.to_string(), source })
    })?;
    item.retain(|_, v| !matches!(v, AttributeValue::Null(_)));
    Ok(item)
}

/// The record in `item`, after dropping the table's key attributes and the order list's columns
/// (records with `deny_unknown_fields` would refuse them).
pub(crate) fn decode<T: DeserializeOwned>(what: &'static str, mut item: Item) -> Result<T, PortError> {
    let key = match (item.get(crate::table::PK), item.get(crate::table::SK)) {
        (Some(AttributeValue::S(pk)), Some(AttributeValue::S(sk))) => format!("{pk}/{sk}"),
        _ => "(no key)".to_string(),
    };
    for name in KEY_ATTRIBUTES.into_iter().chain(LIST_ATTRIBUTES) {
        item.remove(name);
    }
    let value: serde_dynamo::AttributeValue = AttributeValue::M(item).into();
    serde_path_to_error::deserialize(serde_dynamo::Deserializer::from_attribute_value(value)).map_err(|e| {
        // serde's message may quote the stored value (a name, an address): keep only where it failed.
        let path = e.path().to_string();
        PortError::permanent("decode item", ItemError::Decode { what, key, path })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Rec {
        name: String,
        n: u64,
        note: Option<String>,
    }

    #[test]
    fn round_trip_without_nulls_and_keys() {
        let rec = Rec { name: "山田".into(), n: 3, note: None };
        let mut item = encode("rec", "k", &rec).unwrap();
        assert!(!item.contains_key("note"));
        item.insert("pk".into(), AttributeValue::S("SHOP#s".into()));
        item.insert("sk".into(), AttributeValue::S("X".into()));
        assert_eq!(decode::<Rec>("rec", item).unwrap(), rec);
    }

    #[test]
    fn decode_error_names_the_path_not_the_value() {
        let mut item = Item::new();
        item.insert("pk".into(), AttributeValue::S("SHOP#s".into()));
        item.insert("sk".into(), AttributeValue::S("X".into()));
        item.insert("name".into(), AttributeValue::N("1".into()));
        item.insert("n".into(), AttributeValue::S("山田太郎".into()));
        let err = decode::<Rec>("rec", item).unwrap_err();
        let text = format!("{err}");
        assert!(!text.contains("山田"), "{text}");
        assert!(text.contains("SHOP#s/X"), "{text}");
    }
}
