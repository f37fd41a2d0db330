//! The console Lambda: the staff console's router (`ichigen_console`) over the AWS adapters —
//! the DynamoDB store (orders, audit log, sessions) and the notifier's SQS mail queue, where a
//! staff action's mails go (the notifier sends them, through SES or the marketplaces' relays) —
//! with staff signed in through the shop's Amazon Cognito user pool. Config from env vars; the
//! sign-in cookie's key from SSM (SecureString), never from env.

use std::sync::Arc;

use ichigen_aws::{DynamoStore, SecretCache, SqsQueue};
use ichigen_console::{CognitoConfig, CognitoLogin, Console, Login, Settings};
use ichigen_core::pipeline::{MailJob, NotifierQueue};
use ichigen_lambda::Env;
use secrecy::ExposeSecret;
use serde::Deserialize;

/// The console's settings, read once at cold start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// DynamoDB table of orders, shops, the ledger, the audit log and sessions.
    pub table_name: String,
    /// The shop whose orders the console shows.
    pub shop_id: String,
    /// The notifier's SQS mail queue: a staff action's mails go there (the notifier sends them).
    pub mail_queue_url: String,
    /// The Cognito user pool id.
    pub pool_id: String,
    /// The hosted UI's base URL (`https://{prefix}.auth.{region}.amazoncognito.com`).
    pub cognito_domain: String,
    /// SSM parameter (String) with the app client id and this console's URL, as JSON
    /// `{"client_id": …, "console_url": …}`: Terraform writes it once the function URL exists
    /// (the app client's callback URL is the function URL, so neither can be an env var here).
    pub client_parameter: String,
    /// SSM parameter (SecureString) holding the key that signs the sign-in cookie.
    pub cookie_key_parameter: String,
    /// Where the pool's signing keys are read; by default the issuer's JWKS on AWS.
    pub jwks_url: Option<String>,
}

impl Config {
    /// Reads `TABLE_NAME`, `SHOP_ID`, `MAIL_QUEUE_URL`, `COGNITO_POOL_ID`, `COGNITO_DOMAIN`, `COGNITO_CLIENT_PARAMETER`,
    /// `COOKIE_KEY_PARAMETER` and `COGNITO_JWKS_URL` (optional; a local emulator's JWKS).
    pub fn from_env(mut env: Env) -> Result<Config, ichigen_lambda::ConfigError> {
        let config = Config {
            table_name: env.required("TABLE_NAME"),
            shop_id: env.required("SHOP_ID"),
            mail_queue_url: env.required("MAIL_QUEUE_URL"),
            pool_id: env.required("COGNITO_POOL_ID"),
            cognito_domain: env.required("COGNITO_DOMAIN"),
            client_parameter: env.required("COGNITO_CLIENT_PARAMETER"),
            cookie_key_parameter: env.required("COOKIE_KEY_PARAMETER"),
            jwks_url: env.optional("COGNITO_JWKS_URL"),
        };
        env.finish().map(|()| config)
    }
}

/// What the app client parameter holds.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ClientParameter {
    client_id: String,
    console_url: String,
}

/// Why the console could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The SDK configuration names no region (Lambda always sets `AWS_REGION`).
    #[error("no AWS region configured")]
    NoRegion,
    /// An SSM parameter could not be read.
    #[error("SSM parameter {name}: {source}")]
    Parameter {
        /// The parameter's name.
        name: String,
        /// The cache's error.
        #[source]
        source: ichigen_aws::SecretsError,
    },
    /// The app client parameter is not the JSON the console reads.
    #[error("SSM parameter {name} is not {{\"client_id\", \"console_url\"}} JSON: {source}")]
    ClientParameter {
        /// The parameter's name.
        name: String,
        /// serde's error.
        #[source]
        source: serde_json::Error,
    },
    /// The cookie key is still Terraform's placeholder, or too short to sign with.
    #[error("SSM parameter {0}: put a key of at least 32 random characters in it (docs/CONSOLE.md)")]
    NoKey(String),
    /// The HTTP client for Cognito could not be built.
    #[error("HTTP client: {0}")]
    Http(String),
}

/// The console's router on the AWS adapters, clients built once (cold start); the user pool is
/// in the SDK configuration's region.
pub async fn build(config: &Config, aws: &aws_config::SdkConfig) -> Result<axum::Router, StartError> {
    let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(aws), config.table_name.clone());
    let mail = NotifierQueue(SqsQueue::<MailJob>::new(aws_sdk_sqs::Client::new(aws), config.mail_queue_url.clone()));
    let secrets = SecretCache::new(aws_sdk_ssm::Client::new(aws));
    let read = async |name: &str| {
        secrets.get(name).await.map_err(|source| StartError::Parameter { name: name.to_string(), source })
    };
    let client = read(&config.client_parameter).await?;
    let client: ClientParameter = serde_json::from_str(client.expose_secret())
        .map_err(|source| StartError::ClientParameter { name: config.client_parameter.clone(), source })?;
    let key = read(&config.cookie_key_parameter).await?;
    let key = key.expose_secret().as_bytes().to_vec();
    if key.len() < 32 || key.starts_with(b"PLACEHOLDER") {
        return Err(StartError::NoKey(config.cookie_key_parameter.clone()));
    }
    let redirect = format!("{}/auth/callback", client.console_url.trim_end_matches('/'));
    let region = aws.region().ok_or(StartError::NoRegion)?.to_string();
    let mut cognito =
        CognitoConfig::new(&region, &config.pool_id, &client.client_id, &config.cognito_domain, &redirect);
    if let Some(url) = &config.jwks_url {
        cognito.jwks_url = url.clone();
    }
    let login = CognitoLogin::new(cognito, key).map_err(|e| StartError::Http(e.to_string()))?;
    let login = Login::Cognito { cognito: Box::new(login), sessions: Arc::new(store.clone()) };
    // Cognito sessions carry the staff name; this one is never recorded.
    let settings = Settings { shop_id: config.shop_id.clone(), staff: String::new() };
    Ok(Console::new(store, mail, settings, login).router())
}
