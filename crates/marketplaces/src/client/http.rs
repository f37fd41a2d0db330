//! One marketplace's HTTP plumbing: per-operation rate limits, retries, status classification.

use std::collections::HashMap;
use std::time::Duration;

use ichigen_core::Marketplace;
use reqwest::header::{HeaderMap, RETRY_AFTER};
use reqwest::{RequestBuilder, StatusCode};

use super::{ClientError, Limit, RateLimiter, RetryPolicy};

/// Settings every marketplace client shares.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// Base URL of the API (the real one, or a sandbox on 127.0.0.1).
    pub base_url: String,
    /// Whole-request timeout.
    pub timeout: Duration,
    /// Retry policy for retryable failures.
    pub retry: RetryPolicy,
    /// Multiplies every rate limit (1.0 in production; benches scale limits and sandbox alike).
    pub rate_scale: f64,
}

impl HttpConfig {
    /// Production defaults against `base_url`.
    pub fn new(base_url: impl Into<String>) -> HttpConfig {
        HttpConfig {
            base_url: base_url.into().trim_end_matches('/').to_string(),
            timeout: Duration::from_secs(30),
            retry: RetryPolicy::default(),
            rate_scale: 1.0,
        }
    }
}

/// What a response was, before the operation parses its body.
pub struct Reply {
    /// HTTP status.
    pub status: StatusCode,
    /// Response headers.
    pub headers: HeaderMap,
    /// Body text.
    pub body: String,
}

/// Sends requests for one marketplace: waits for the operation's token, sends, classifies the
/// reply with the marketplace's own rules, retries what is retryable.
#[derive(Debug)]
pub struct Http {
    marketplace: Marketplace,
    client: reqwest::Client,
    config: HttpConfig,
    limiters: HashMap<&'static str, RateLimiter>,
    /// One bucket every operation also waits on, for APIs limited per license or shop.
    shared: Option<RateLimiter>,
}

impl Http {
    /// A client with one token bucket per `(operation, documented limit)`.
    pub fn new(
        marketplace: Marketplace,
        config: HttpConfig,
        limits: &[(&'static str, Limit)],
    ) -> Result<Http, reqwest::Error> {
        let client = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(Duration::from_secs(10).min(config.timeout))
            .user_agent(concat!("ichigen/", env!("CARGO_PKG_VERSION")))
            .build()?;
        let limiters = limits.iter().map(|&(op, l)| (op, RateLimiter::new(l.scaled(config.rate_scale)))).collect();
        Ok(Http { marketplace, client, config, limiters, shared: None })
    }

    /// Adds a limit shared by all operations (楽天 "1 request/second per license", au PAY and
    /// Qoo10 "per shop"), on top of each operation's own.
    pub fn with_shared_limit(mut self, limit: Limit) -> Http {
        self.shared = Some(RateLimiter::new(limit.scaled(self.config.rate_scale)));
        self
    }

    /// The underlying HTTP client, for building requests.
    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// `base_url` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.config.base_url)
    }

    /// Sends `build()` for `operation` until it succeeds or fails for good. `classify` turns a
    /// reply into `Ok(reply)` or the marketplace's error; replies it passes are returned.
    pub async fn send(
        &self,
        operation: &'static str,
        build: impl Fn() -> RequestBuilder,
        classify: impl Fn(&'static str, Reply) -> Result<Reply, ClientError>,
    ) -> Result<Reply, ClientError> {
        self.config
            .retry
            .run(|| async {
                if let Some(l) = &self.shared {
                    l.acquire().await;
                }
                if let Some(l) = self.limiters.get(operation) {
                    l.acquire().await;
                }
                let transport = |source: reqwest::Error| ClientError::Transport {
                    marketplace: self.marketplace,
                    operation,
                    timeout: source.is_timeout(),
                    // A URL's query may carry a credential (楽天's licenseKey): never in an error.
                    source: source.without_url(),
                };
                let resp = build().send().await.map_err(transport)?;
                let status = resp.status();
                let headers = resp.headers().clone();
                let body = resp.text().await.map_err(transport)?;
                classify(operation, Reply { status, headers, body })
            })
            .await
    }

    /// The generic part of classifying: 429 → throttled (with Retry-After), 5xx → server error.
    /// Marketplace rules run first and call this for what they do not recognise.
    pub fn classify_status(&self, operation: &'static str, reply: Reply) -> Result<Reply, ClientError> {
        let status = reply.status;
        if status == StatusCode::TOO_MANY_REQUESTS {
            return Err(ClientError::Throttled {
                marketplace: self.marketplace,
                operation,
                retry_after: retry_after(&reply.headers),
            });
        }
        if status.is_server_error() {
            return Err(ClientError::Server {
                marketplace: self.marketplace,
                operation,
                status: status.as_u16(),
                code: String::new(),
            });
        }
        if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
            return Err(ClientError::Auth {
                marketplace: self.marketplace,
                operation,
                code: status.as_u16().to_string(),
                message: status.canonical_reason().unwrap_or("refused").to_string(),
            });
        }
        if status.is_client_error() {
            return Err(ClientError::Rejected {
                marketplace: self.marketplace,
                operation,
                status: status.as_u16(),
                code: String::new(),
                message: status.canonical_reason().unwrap_or("refused").to_string(),
            });
        }
        Ok(reply)
    }

    /// Which marketplace this client speaks to.
    pub fn marketplace(&self) -> Marketplace {
        self.marketplace
    }
}

/// `Retry-After` as seconds or an HTTP date.
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let v = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = chrono::DateTime::parse_from_rfc2822(v).ok()?;
    let wait = at.signed_duration_since(chrono::Utc::now());
    wait.to_std().ok()
}

#[cfg(test)]
mod tests {
    use reqwest::header::HeaderValue;

    use super::*;

    #[test]
    fn retry_after_seconds_and_dates() {
        let mut h = HeaderMap::new();
        h.insert(RETRY_AFTER, HeaderValue::from_static("3"));
        assert_eq!(retry_after(&h), Some(Duration::from_secs(3)));
        h.insert(RETRY_AFTER, HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"));
        assert_eq!(retry_after(&h), None, "a date in the past means no wait");
        h.insert(RETRY_AFTER, HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&h), None);
    }
}
