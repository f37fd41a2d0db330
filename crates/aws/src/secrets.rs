//! [`SecretCache`]: marketplace credentials read from SSM Parameter Store SecureString parameters
//! (`GetParameter` with decryption) and kept in memory across warm invocations, so a Lambda does
//! not fetch (and KMS does not decrypt) a pair's credentials on every run. A caller that finds
//! the credentials refused calls [`SecretCache::invalidate`]: the next `get` reads the parameter
//! again, so a renewal by the operator is picked up at once instead of after the TTL.

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_ssm::Client;
use ichigen_core::pipeline::{BoxError, Retryable};
use secrecy::SecretString;
use tokio::sync::Mutex;
use tokio::time::Instant;

use crate::error::{AwsError, is_retryable};

/// How long a value is used before it is read again, unless invalidated first. An hour: renewed
/// credentials arrive through [`SecretCache::invalidate`] (on an authentication error), so the
/// TTL only bounds how long a value the marketplace still accepts is kept.
pub const DEFAULT_TTL: Duration = Duration::from_secs(3600);

/// Credentials that could not be read. Names the parameter, never its value.
#[derive(Debug, thiserror::Error)]
#[error("parameter {secret_id}: {source}")]
pub struct SecretsError {
    /// Which parameter.
    pub secret_id: String,
    /// Throttling, 5xx, timeouts: a later try may succeed.
    pub retryable: bool,
    /// What failed.
    #[source]
    pub source: BoxError,
}

impl SecretsError {
    /// Whether the parameter does not exist (`ParameterNotFound`).
    pub fn is_not_found(&self) -> bool {
        self.source.downcast_ref::<AwsError>().and_then(AwsError::code) == Some("ParameterNotFound")
    }
}

impl Retryable for SecretsError {
    fn is_retryable(&self) -> bool {
        self.retryable
    }
}

/// SecureString parameter values by name, each read at most once per `ttl` unless invalidated.
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

    /// The parameter's decrypted value, from the cache while fresh.
    pub async fn get(&self, name: &str) -> Result<SecretString, SecretsError> {
        let mut values = self.values.lock().await;
        if let Some((fetched, value)) = values.get(name)
            && fetched.elapsed() < self.ttl
        {
            return Ok(value.clone());
        }
        let out =
            self.client.get_parameter().name(name).with_decryption(true).send().await.map_err(|e| SecretsError {
                secret_id: name.to_string(),
                retryable: is_retryable(&e),
                source: Box::new(AwsError::new(e)),
            })?;
        let value = SecretString::from(out.parameter.and_then(|p| p.value).ok_or_else(|| SecretsError {
            secret_id: name.to_string(),
            retryable: false,
            source: "the parameter holds no value".into(),
        })?);
        values.insert(name.to_string(), (Instant::now(), value.clone()));
        Ok(value)
    }

    /// Replaces the parameter's value (a credential the marketplace rotated), keeping its type
    /// and key, and caches the new value.
    pub async fn put(&self, name: &str, value: SecretString) -> Result<(), SecretsError> {
        use secrecy::ExposeSecret;
        self.client
            .put_parameter()
            .name(name)
            .value(value.expose_secret())
            .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
            .overwrite(true)
            .send()
            .await
            .map_err(|e| SecretsError {
                secret_id: name.to_string(),
                retryable: is_retryable(&e),
                source: Box::new(AwsError::new(e)),
            })?;
        self.values.lock().await.insert(name.to_string(), (Instant::now(), value));
        Ok(())
    }

    /// Forgets the cached value of `name`: the next [`SecretCache::get`] reads the parameter.
    pub async fn invalidate(&self, name: &str) {
        self.values.lock().await.remove(name);
    }
}
