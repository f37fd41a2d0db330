//! [`SecretCache`]: Secrets Manager values kept in memory for a while, so a warm Lambda does not
//! fetch a marketplace token on every invocation.

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_secretsmanager::Client;
use ichigen_core::pipeline::{BoxError, Retryable};
use secrecy::SecretString;
use tokio::sync::Mutex;
use tokio::time::Instant;

use crate::error::{AwsError, is_retryable};

/// How long a value is used before it is fetched again, unless told otherwise.
pub const DEFAULT_TTL: Duration = Duration::from_secs(300);

/// A secret that could not be read. Names the secret, never its value.
#[derive(Debug, thiserror::Error)]
#[error("secret {secret_id}: {source}")]
pub struct SecretsError {
    /// Which secret.
    pub secret_id: String,
    /// Throttling, 5xx, timeouts: a later try may succeed.
    pub retryable: bool,
    /// What failed.
    #[source]
    pub source: BoxError,
}

impl Retryable for SecretsError {
    fn is_retryable(&self) -> bool {
        self.retryable
    }
}

/// Secret values by id, each fetched at most once per `ttl`.
#[derive(Debug)]
pub struct SecretCache {
    client: Client,
    ttl: Duration,
    // A tokio mutex, held across the fetch: concurrent misses of one Lambda make one call.
    values: Mutex<HashMap<String, (Instant, SecretString)>>,
}

impl SecretCache {
    /// A cache keeping values for [`DEFAULT_TTL`].
    pub fn new(client: Client) -> Self {
        SecretCache::with_ttl(client, DEFAULT_TTL)
    }

    /// A cache keeping values for `ttl`.
    pub fn with_ttl(client: Client, ttl: Duration) -> Self {
        SecretCache { client, ttl, values: Mutex::new(HashMap::new()) }
    }

    /// The secret's text value, from the cache while fresh.
    pub async fn get(&self, secret_id: &str) -> Result<SecretString, SecretsError> {
        let mut values = self.values.lock().await;
        if let Some((fetched, value)) = values.get(secret_id)
            && fetched.elapsed() < self.ttl
        {
            return Ok(value.clone());
        }
        let out = self.client.get_secret_value().secret_id(secret_id).send().await.map_err(|e| SecretsError {
            secret_id: secret_id.to_string(),
            retryable: is_retryable(&e),
            source: Box::new(AwsError::new(e)),
        })?;
        let value = SecretString::from(out.secret_string.ok_or_else(|| SecretsError {
            secret_id: secret_id.to_string(),
            retryable: false,
            source: "the secret holds no text value".into(),
        })?);
        values.insert(secret_id.to_string(), (Instant::now(), value.clone()));
        Ok(value)
    }
}
