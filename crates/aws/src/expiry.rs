//! [`SsmExpiryRecords`]: each pair's credential expiry record, a plain String SSM parameter
//! `{prefix}{shop_id}/{marketplace}` holding `{"<credential>": "YYYY-MM-DD" | "unknown"}` (the
//! operator writes it with every renewal; the puller writes a rotated refresh token's date).

use std::collections::BTreeMap;

use aws_sdk_ssm::Client;
use aws_sdk_ssm::types::ParameterType;
use chrono::NaiveDate;
use ichigen_core::Marketplace;
use ichigen_core::pipeline::{ExpiryRecord, ExpiryRecords, PortError};

use crate::error::port_error;

/// The expiry records under one parameter path.
#[derive(Debug, Clone)]
pub struct SsmExpiryRecords {
    client: Client,
    prefix: String,
}

impl SsmExpiryRecords {
    /// Records under `prefix` (ends with `/`).
    pub fn new(client: Client, prefix: impl Into<String>) -> SsmExpiryRecords {
        SsmExpiryRecords { client, prefix: prefix.into() }
    }

    fn name(&self, shop_id: &str, marketplace: Marketplace) -> String {
        format!("{}{shop_id}/{marketplace}", self.prefix)
    }
}

impl ExpiryRecords for SsmExpiryRecords {
    async fn records(&self) -> Result<Vec<ExpiryRecord>, PortError> {
        let mut records = Vec::new();
        let mut pages = self
            .client
            .get_parameters_by_path()
            .path(self.prefix.trim_end_matches('/'))
            .recursive(true)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| port_error("ssm GetParametersByPath credential-expiry", e))?;
            for p in page.parameters.unwrap_or_default() {
                let (Some(name), Some(text)) = (p.name, p.value) else { continue };
                // `{shop_id}/{marketplace}` under the prefix; anything else is not ours to read.
                let Some((shop_id, marketplace)) =
                    name.strip_prefix(&self.prefix).and_then(|rest| rest.split_once('/'))
                else {
                    continue;
                };
                let Ok(marketplace) = marketplace.parse::<Marketplace>() else {
                    tracing::warn!(parameter = %name, "expiry record of an unknown marketplace skipped");
                    continue;
                };
                records.push(ExpiryRecord { shop_id: shop_id.to_string(), marketplace, text });
            }
        }
        Ok(records)
    }

    async fn set(
        &self,
        shop_id: &str,
        marketplace: Marketplace,
        credential: &str,
        last_day: NaiveDate,
    ) -> Result<(), PortError> {
        let name = self.name(shop_id, marketplace);
        let current = match self.client.get_parameter().name(&name).send().await {
            Ok(out) => out.parameter.and_then(|p| p.value).unwrap_or_default(),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_parameter_not_found()) => String::new(),
            Err(e) => return Err(port_error("ssm GetParameter credential-expiry", e)),
        };
        // A record the operator broke is replaced by one that holds at least this date.
        let mut fields: BTreeMap<String, serde_json::Value> = serde_json::from_str(&current).unwrap_or_default();
        fields.insert(credential.to_string(), last_day.format("%Y-%m-%d").to_string().into());
        let text = serde_json::to_string(&fields)
            .map_err(|e| PortError::permanent("ssm PutParameter credential-expiry", e))?;
        self.client
            .put_parameter()
            .name(&name)
            .value(text)
            .r#type(ParameterType::String)
            .overwrite(true)
            .send()
            .await
            .map_err(|e| port_error("ssm PutParameter credential-expiry", e))?;
        Ok(())
    }
}
