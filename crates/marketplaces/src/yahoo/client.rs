//! Yahoo!ショッピング order API client: YConnect v2 tokens, public-key signature headers,
//! `orderList` (search by order time, paged) → `orderInfo` per order, `orderShipStatusChange`.
//!
//! "Orders changed in a window": the search has no last-update condition, so the client searches
//! `OrderTimeFrom`/`OrderTimeTo` over `[window.from - lookback, window.to)`, asks for
//! `LastUpdateTime` in the headers, keeps the orders changed inside the window and fetches each
//! with `orderInfo` (one order per call, the API's largest batch). The order-time range is split
//! into sub-windows of at most [`MAX_SEARCH_SPAN_DAYS`], each paged with `Start`/`Result`; both
//! are walked newest first (`Sort` `-order_time`), and on each list page the orders placed inside
//! the window are read first, oldest first: a new order's thank-you does not wait behind the
//! reads of older orders that changed ([`reading_order`]).
//!
//! Orders placed before the look-back can still change (a reservation, an order on hold):
//! [`YahooClient::orders_by_id`] re-reads stored open orders by id with `orderInfo`.
//!
//! Every order-API response carries `X-SWS-Authorize-Status`; the client keeps the latest value
//! ([`YahooClient::authorize_status`]) and when the refresh token is expected to stop working
//! ([`YahooClient::refresh_token_days_left`]). A refresh token the token endpoint rotates is kept
//! for the caller to save ([`YahooClient::take_rotated_refresh_token`]).

use std::sync::Mutex as SyncMutex;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use chrono::{DateTime, FixedOffset, TimeDelta};
use ichigen_core::pipeline::{CredentialHealth, CredentialUpdate, KnownVersions, is_known};
use ichigen_core::{Carrier, JST, Marketplace, Order, Tracking};
use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, WWW_AUTHENTICATE};
use rsa::pkcs1::DecodeRsaPublicKey;
use rsa::pkcs8::DecodePublicKey;
use rsa::{Pkcs1v15Encrypt, RsaPublicKey};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;

use super::authorize::{self, AuthorizeStatus, RefreshClock};
use super::{codes, map, wire};
use crate::client::{
    ClientError, Cursor, Http, HttpConfig, Limit, OrderPage, OrderSource, Reply, Window, rejects, retry_after,
};
use crate::{BadOrder, NormalizeError};

/// Production API host (paths start with `/ShoppingWebService/V1/`).
pub const PRODUCTION_BASE_URL: &str = "https://circus.shopping.yahooapis.jp";
/// Test-environment API host (store accounts starting with `snbx-`).
pub const TEST_BASE_URL: &str = "https://test.circus.shopping.yahooapis.jp";
/// YConnect v2 token endpoint.
pub const TOKEN_URL: &str = "https://auth.login.yahoo.co.jp/yconnect/v2/token";
/// Path prefix of every order API.
pub const API_PATH: &str = "/ShoppingWebService/V1/";

/// Token endpoint operation name (rate limits, errors).
pub const OP_TOKEN: &str = "token";
/// 注文検索.
pub const OP_LIST: &str = "orderList";
/// 注文詳細.
pub const OP_INFO: &str = "orderInfo";
/// 出荷ステータス変更 (tracking write-back).
pub const OP_SHIP: &str = "orderShipStatusChange";

/// Documented limits, one per operation.
pub const LIMITS: &[(&str, Limit)] = &[
    // unverified: the order API index asks for "1 query per second" to the same URL; no burst is
    // documented, so the bucket holds one request.
    (OP_LIST, Limit::new(1.0, 1)),
    // unverified: as orderList.
    (OP_INFO, Limit::new(1.0, 1)),
    // unverified: as orderList.
    (OP_SHIP, Limit::new(1.0, 1)),
    // About one query a second per URL for the stock family (developer.yahoo.co.jp/webapi/shopping/stock).
    (super::stock::GET_STOCK, Limit::new(1.0, 1)),
    (super::stock::SET_STOCK, Limit::new(1.0, 1)),
    // unverified: no limit is documented for the YConnect token endpoint; one a second is plenty.
    (OP_TOKEN, Limit::new(1.0, 1)),
];

/// Largest `Result` (page size) of `orderList`.
// unverified: public clients use up to 2000; the official maximum is not documented.
pub const MAX_PAGE_SIZE: u32 = 2000;
/// Longest `OrderTimeFrom`–`OrderTimeTo` span searched at once.
// unverified: the official maximum is not documented; public clients search 30-day windows.
pub const MAX_SEARCH_SPAN_DAYS: i64 = 30;
/// Default look-back: orders placed this long before the window may have changed inside it.
pub const DEFAULT_LOOKBACK_DAYS: i64 = 60;
/// Error codes of an `orderInfo` answer that mean "no such order": the id is reported missing.
// unverified: one public client treats `or-01001` as "order not found" on orderInfo; `od91801` is
// orderList's documented "OrderId does not exist" and is accepted in case orderInfo shares it.
pub const ORDER_NOT_FOUND_CODES: &[&str] = &["or-01001", "od91801"];
/// Orders read with `orderInfo` per page by default. Each page goes to the orders queue before
/// the next is read, so at 1 call a second an order waits at most about this many seconds behind
/// the others of its pull (a burst of 100 would hold the first one back 100 s); a page is also
/// where a puller stopped at its deadline resumes. Pages of one list page share its `orderList`
/// answer ([`LIST_REUSE`]), so small pages cost no extra search.
pub const DEFAULT_DETAILS_PER_PAGE: usize = 5;
/// How long an `orderList` answer serves the next page of the same window: longer than a page's
/// reads take ([`DEFAULT_DETAILS_PER_PAGE`] calls at 1 a second). A window's first page always
/// searches afresh.
const LIST_REUSE: Duration = Duration::from_secs(30);
/// Access tokens are renewed this long before they expire.
const TOKEN_MARGIN: Duration = Duration::from_secs(60);
/// Header fields asked for in the search.
const LIST_FIELDS: &str = "OrderId,OrderTime,LastUpdateTime";
/// Fields asked for in `orderInfo`: everything `map.rs` reads.
const INFO_FIELDS: &str = "OrderId,Version,OrderTime,LastUpdateTime,OrderStatus,IsSeen,CancelReason,BuyerComments,\
TotalCouponDiscount,SocialGiftType,IsLineGiftOrder,IsMultiShip,MultiShipId,\
PayStatus,PayType,PayKind,PayMethod,PayMethodName,PayDate,BillFirstName,BillFirstNameKana,BillLastName,\
BillLastNameKana,BillZipCode,BillPrefecture,BillCity,BillAddress1,BillAddress2,BillPhoneNumber,BillMailAddress,\
ShipStatus,ShipMethod,ShipMethodName,ShipRequestDate,ShipRequestTime,ShipNotes,ShipCompanyCode,\
ShipInvoiceNumber1,ShipInvoiceNumber2,ShipDate,ArrivalDate,ArriveType,NeedGiftWrap,GiftWrapType,GiftWrapMessage,\
ShipFirstName,ShipFirstNameKana,ShipLastName,ShipLastNameKana,ShipZipCode,ShipPrefecture,ShipCity,ShipAddress1,\
ShipAddress2,ShipPhoneNumber,ReceiveShopCode,\
PayCharge,ShipCharge,GiftWrapCharge,Discount,Adjustments,UsePoint,GiftCardDiscount,TotalMallCouponDiscount,\
TotalPrice,SettleAmount,SellerId,\
LineId,ItemId,Title,SubCode,SubCodeOption,ItemOption,Inscription,UnitPrice,Quantity";

/// What the store was issued: YConnect app, refresh token, public key.
#[derive(Debug, Clone)]
pub struct YahooCredentials {
    /// ストアアカウント (seller id).
    pub seller_id: String,
    /// YConnect Client ID.
    pub client_id: String,
    /// YConnect client secret.
    pub client_secret: SecretString,
    /// Refresh token from the authorization.
    pub refresh_token: SecretString,
    /// The store's public key (PEM, SubjectPublicKeyInfo or PKCS#1) from ストアクリエイターPro.
    pub public_key_pem: SecretString,
    /// The key's version number (`X-sws-signature-version`).
    pub key_version: String,
    /// Token endpoint URL ([`TOKEN_URL`] in production).
    pub token_url: String,
}

/// Why a client could not be built.
#[derive(Debug, thiserror::Error)]
pub enum YahooSetupError {
    /// The HTTP client could not be built.
    #[error("yahoo: HTTP client: {0}")]
    Http(#[from] reqwest::Error),
    /// The public key is not an RSA public key in PEM.
    #[error("yahoo: the store public key is not an RSA public key in PEM")]
    PublicKey,
    /// The public key cannot encrypt `sellerId:unixtime` (too short).
    #[error("yahoo: the store public key cannot encrypt the signature text")]
    KeyTooShort,
}

#[derive(Debug)]
struct CachedToken {
    token: SecretString,
    expires: Instant,
}

#[derive(Debug)]
struct TokenState {
    refresh_token: SecretString,
    access: Option<CachedToken>,
}

/// What the responses said about public-key authentication and the refresh token.
#[derive(Debug, Default)]
struct AuthState {
    status: Option<AuthorizeStatus>,
    clock: RefreshClock,
    /// A refresh token the token endpoint rotated, not yet taken by the caller.
    rotated: Option<SecretString>,
}

/// The Yahoo!ショッピング order API client for one store.
#[derive(Debug)]
pub struct YahooClient {
    http: Http,
    shop_id: String,
    pub(super) creds: YahooCredentials,
    key: RsaPublicKey,
    tokens: Mutex<TokenState>,
    /// Boxed: kept out of line so the client stays small next to the other marketplaces' clients.
    auth: Box<SyncMutex<AuthState>>,
    page_size: u32,
    details_per_page: usize,
    lookback: TimeDelta,
    /// The last `orderList` page read, with what was asked and when: the pages of one pull that
    /// read the orders of one list page in turn list it once ([`LIST_REUSE`]).
    last_list: SyncMutex<Option<ListedPage>>,
}

/// Where a pull is: sub-window end (unix seconds; the sub-windows are walked newest first),
/// `Start` of the list page, headers of that page already handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct Position {
    sub_to: i64,
    start: u32,
    skip: usize,
}

impl Cursor for Position {
    // 3: newest first (2 walked oldest first; a saved one is not read and its window starts over).
    const TAG: &'static str = "yahoo-3";
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    expires_in: Option<u64>,
    refresh_token: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct TokenError {
    error: String,
    error_description: String,
}

/// Escapes text for an XML element.
fn xml_escape(s: &str) -> String {
    quick_xml::escape::escape(s).into_owned()
}

/// Request date-time: `YYYYMMDDHHmmss` in JST.
fn request_time(t: DateTime<FixedOffset>) -> String {
    t.with_timezone(&JST).format("%Y%m%d%H%M%S").to_string()
}

fn malformed(operation: &str, detail: impl Into<String>) -> ClientError {
    ClientError::Malformed(map::malformed(operation, detail))
}

impl YahooClient {
    /// A client for `shop_id` (the ichigen shop) with the store's credentials.
    pub fn new(config: HttpConfig, shop_id: &str, creds: YahooCredentials) -> Result<YahooClient, YahooSetupError> {
        let pem = creds.public_key_pem.expose_secret();
        let key = RsaPublicKey::from_public_key_pem(pem)
            .or_else(|_| RsaPublicKey::from_pkcs1_pem(pem))
            .map_err(|_| YahooSetupError::PublicKey)?;
        let probe = format!("{}:{}", creds.seller_id, chrono::Utc::now().timestamp());
        key.encrypt(&mut rsa::rand_core::OsRng, Pkcs1v15Encrypt, probe.as_bytes())
            .map_err(|_| YahooSetupError::KeyTooShort)?;
        let http = Http::new(Marketplace::Yahoo, config, LIMITS)?;
        let tokens = TokenState { refresh_token: creds.refresh_token.clone(), access: None };
        Ok(YahooClient {
            http,
            shop_id: shop_id.to_string(),
            creds,
            key,
            tokens: Mutex::new(tokens),
            auth: Box::new(SyncMutex::new(AuthState::default())),
            page_size: MAX_PAGE_SIZE,
            details_per_page: DEFAULT_DETAILS_PER_PAGE,
            lookback: TimeDelta::days(DEFAULT_LOOKBACK_DAYS),
            last_list: SyncMutex::new(None),
        })
    }

    /// `orderList` page size (1 to [`MAX_PAGE_SIZE`]; default the maximum, fewest search calls).
    pub fn with_page_size(mut self, n: u32) -> YahooClient {
        self.page_size = n.clamp(1, MAX_PAGE_SIZE);
        self
    }

    /// Most orders fetched with `orderInfo` per [`OrderPage`] (default [`DEFAULT_DETAILS_PER_PAGE`]).
    pub fn with_details_per_page(mut self, n: usize) -> YahooClient {
        self.details_per_page = n.max(1);
        self
    }

    /// How long before a window orders may have been placed and still change in it (default 60 days).
    pub fn with_lookback(mut self, lookback: TimeDelta) -> YahooClient {
        self.lookback = lookback.max(TimeDelta::zero());
        self
    }

    /// When the store's refresh token reaches the end of its 28-day life, if the caller knows
    /// (saved with the token). Without it only the 12-hour limit of unauthenticated calls is known.
    pub fn with_refresh_token_expires_at(self, at: DateTime<FixedOffset>) -> YahooClient {
        if let Ok(mut a) = self.auth.lock() {
            a.clock.expires_at = Some(at);
        }
        self
    }

    /// The refresh token now in use (YConnect may rotate it): persist it when it changes.
    pub async fn current_refresh_token(&self) -> SecretString {
        self.tokens.lock().await.refresh_token.clone()
    }

    /// A refresh token the token endpoint returned in place of the old one, once: the caller saves
    /// it to the shop's secret (with [`Self::refresh_token_expires_at`]). The client already uses it.
    pub fn take_rotated_refresh_token(&self) -> Option<SecretString> {
        self.auth.lock().ok()?.rotated.take()
    }

    /// The latest `X-SWS-Authorize-Status` (`None` before the first order-API response).
    pub fn authorize_status(&self) -> Option<AuthorizeStatus> {
        self.auth.lock().ok()?.status.clone()
    }

    /// End of the refresh token's 28-day life: given by the caller, or started by a rotation.
    pub fn refresh_token_expires_at(&self) -> Option<DateTime<FixedOffset>> {
        self.auth.lock().ok()?.clock.expires_at
    }

    /// When the refresh token is expected to stop working: the end of its life, or — while the
    /// calls are not key-authenticated — 12 hours after that started, whichever comes first.
    pub fn refresh_token_deadline(&self) -> Option<DateTime<FixedOffset>> {
        self.auth.lock().ok()?.clock.deadline()
    }

    /// Whole days left before [`Self::refresh_token_deadline`] (0: under a day); `None` when nothing
    /// is known (authenticated calls and no known expiry).
    pub fn refresh_token_days_left(&self) -> Option<i64> {
        self.auth.lock().ok()?.clock.days_left(chrono::Utc::now().with_timezone(&JST))
    }

    /// Records the `X-SWS-Authorize-Status` of a response. A response without the header counts
    /// as `none` when it is a successful order-API answer; the token endpoint's and error
    /// answers count only when they carry it. A change is logged (status and advice, no secrets).
    fn observe_authorize(&self, op: &'static str, reply: &Reply) {
        let value = reply.headers.get(authorize::HEADER).and_then(|v| v.to_str().ok());
        if value.is_none() && (op == OP_TOKEN || !reply.status.is_success()) {
            return;
        }
        let status = AuthorizeStatus::from_header(value);
        let now = chrono::Utc::now().with_timezone(&JST);
        let (changed, days_left) = {
            let Ok(mut a) = self.auth.lock() else { return };
            let changed = a.status.as_ref() != Some(&status);
            if status.is_authorized() {
                a.clock.unauthorized_since = None;
            } else if a.clock.unauthorized_since.is_none() {
                a.clock.unauthorized_since = Some(now);
            }
            a.status = Some(status.clone());
            (changed, a.clock.days_left(now))
        };
        if !changed {
            return;
        }
        if status.is_authorized() {
            tracing::info!(
                marketplace = "yahoo",
                shop = %self.shop_id,
                operation = op,
                authorize_status = %status,
                refresh_token_days_left = ?days_left,
                "X-SWS-Authorize-Status: public-key authentication works"
            );
        } else {
            tracing::warn!(
                marketplace = "yahoo",
                shop = %self.shop_id,
                operation = op,
                authorize_status = %status,
                refresh_token_days_left = ?days_left,
                advice = status.advice(),
                "X-SWS-Authorize-Status is not authorized: the refresh token stops working within 12 hours"
            );
        }
    }

    /// `X-sws-signature`: Base64 of RSA PKCS#1 v1.5 encryption of `sellerId:unixtime`.
    fn signature(&self) -> String {
        let text = format!("{}:{}", self.creds.seller_id, chrono::Utc::now().timestamp());
        // Encryption was proven to work with this key in `new`; an empty header would be refused.
        self.key
            .encrypt(&mut rsa::rand_core::OsRng, Pkcs1v15Encrypt, text.as_bytes())
            .map(|c| BASE64.encode(c))
            .unwrap_or_default()
    }

    /// A valid access token: the cached one, or a fresh one from the refresh token.
    async fn access_token(&self, force: bool) -> Result<SecretString, ClientError> {
        let mut state = self.tokens.lock().await;
        if !force {
            if let Some(t) = state.access.as_ref().filter(|t| t.expires > Instant::now()) {
                return Ok(t.token.clone());
            }
        }
        state.access = None;
        let url = self.creds.token_url.clone();
        let refresh = state.refresh_token.clone();
        let reply = self
            .http
            .send(
                OP_TOKEN,
                || {
                    self.http
                        .client()
                        .post(&url)
                        .basic_auth(&self.creds.client_id, Some(self.creds.client_secret.expose_secret()))
                        .header("X-sws-signature", self.signature())
                        .header("X-sws-signature-version", &self.creds.key_version)
                        .form(&[("grant_type", "refresh_token"), ("refresh_token", refresh.expose_secret())])
                },
                |op, reply| {
                    self.observe_authorize(op, &reply);
                    self.classify_token(op, reply)
                },
            )
            .await?;
        let t: TokenResponse = serde_json::from_str(&reply.body)
            .map_err(|_| malformed(OP_TOKEN, "the token response is not JSON with access_token"))?;
        if t.access_token.is_empty() {
            return Err(malformed(OP_TOKEN, "access_token is empty"));
        }
        let lifetime = Duration::from_secs(t.expires_in.unwrap_or(3600));
        let token = SecretString::from(t.access_token);
        // The refresh answer may carry a new refresh token (fact sheet §3.1: unverified whether it
        // does; a production client treats it as optional and starts a new 28-day clock).
        if let Some(new_refresh) = t.refresh_token.filter(|r| !r.is_empty() && r != refresh.expose_secret()) {
            let new_refresh = SecretString::from(new_refresh);
            state.refresh_token = new_refresh.clone();
            if let Ok(mut a) = self.auth.lock() {
                a.rotated = Some(new_refresh);
                a.clock.expires_at =
                    Some(chrono::Utc::now().with_timezone(&JST) + authorize::REFRESH_LIFETIME_WITH_KEY);
            }
            tracing::info!(
                marketplace = "yahoo",
                shop = %self.shop_id,
                "YConnect rotated the refresh token: the new one must be saved to the shop's secret"
            );
        }
        state.access =
            Some(CachedToken { token: token.clone(), expires: Instant::now() + lifetime.saturating_sub(TOKEN_MARGIN) });
        Ok(token)
    }

    fn classify_token(&self, op: &'static str, reply: Reply) -> Result<Reply, ClientError> {
        if reply.status.is_success() {
            return Ok(reply);
        }
        if matches!(reply.status, StatusCode::BAD_REQUEST | StatusCode::UNAUTHORIZED) {
            let e: TokenError = serde_json::from_str(&reply.body).unwrap_or_default();
            let code = if e.error.is_empty() { reply.status.as_u16().to_string() } else { e.error };
            return Err(ClientError::Auth {
                marketplace: Marketplace::Yahoo,
                operation: op,
                code,
                message: e.error_description,
            });
        }
        self.http.classify_status(op, reply)
    }

    /// Yahoo's own error rules, then the generic status rules.
    fn classify(&self, op: &'static str, reply: Reply) -> Result<Reply, ClientError> {
        let status = reply.status;
        if status.is_success() {
            return Ok(reply);
        }
        let body: wire::ErrorBody = quick_xml::de::from_str(&reply.body).unwrap_or_default();
        let code = map::text(&body.code).unwrap_or_default().to_string();
        let message = map::text(&body.message).unwrap_or_default().to_string();
        let auth = |code: String, message: String| ClientError::Auth {
            marketplace: Marketplace::Yahoo,
            operation: op,
            code,
            message,
        };
        if status == StatusCode::UNAUTHORIZED {
            // Expired / unknown token: the challenge names it; the caller refreshes once and retries.
            let challenge = reply.headers.get(WWW_AUTHENTICATE).and_then(|v| v.to_str().ok()).unwrap_or_default();
            let code = if challenge.contains("invalid_token") {
                "invalid_token".to_string()
            } else if code.is_empty() {
                "401".to_string()
            } else {
                code
            };
            return Err(auth(code, message));
        }
        if status == StatusCode::FORBIDDEN {
            // px-04307 (use not permitted) and other px- auth codes are permanent; the other 403 is
            // "利用制限を超えている" (usage limit exceeded), which passes after a wait.
            if code.starts_with("px-") {
                return Err(auth(code, message));
            }
            return Err(ClientError::Throttled {
                marketplace: Marketplace::Yahoo,
                operation: op,
                retry_after: retry_after(&reply.headers),
            });
        }
        if status.is_server_error() {
            // od91133 is a parameter error even though it comes with 500.
            if code == "od91133" {
                return Err(ClientError::Rejected {
                    marketplace: Marketplace::Yahoo,
                    operation: op,
                    status: status.as_u16(),
                    code,
                    message,
                });
            }
            return Err(ClientError::Server {
                marketplace: Marketplace::Yahoo,
                operation: op,
                status: status.as_u16(),
                code,
            });
        }
        if status.is_client_error() && status != StatusCode::TOO_MANY_REQUESTS {
            return Err(ClientError::Rejected {
                marketplace: Marketplace::Yahoo,
                operation: op,
                status: status.as_u16(),
                code,
                message,
            });
        }
        self.http.classify_status(op, reply)
    }

    /// POSTs `xml` to `op` with token and signature; on an expired token, refreshes once and retries.
    async fn call(&self, op: &'static str, xml: &str) -> Result<String, ClientError> {
        self.send_body(op, "application/xml; charset=UTF-8", xml).await
    }

    /// POSTs `body` of `content_type` to `op` with token and signature; on an expired token,
    /// refreshes once and retries.
    pub(super) async fn send_body(
        &self,
        op: &'static str,
        content_type: &str,
        body: &str,
    ) -> Result<String, ClientError> {
        let url = self.http.url(&format!("{API_PATH}{op}"));
        let mut force = false;
        loop {
            let token = self.access_token(force).await?;
            let result = self
                .http
                .send(
                    op,
                    || {
                        self.http
                            .client()
                            .post(&url)
                            .header(AUTHORIZATION, format!("Bearer {}", token.expose_secret()))
                            .header("X-sws-signature", self.signature())
                            .header("X-sws-signature-version", &self.creds.key_version)
                            .header(CONTENT_TYPE, content_type)
                            .body(body.to_string())
                    },
                    |op, reply| {
                        self.observe_authorize(op, &reply);
                        self.classify(op, reply)
                    },
                )
                .await;
            match result {
                Err(ClientError::Auth { code, .. }) if !force && (code == "invalid_token" || code == "px-04102") => {
                    force = true;
                }
                other => return other.map(|r| r.body),
            }
        }
    }

    fn list_xml(&self, from: DateTime<FixedOffset>, to: DateTime<FixedOffset>, start: u32) -> String {
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Req><Search><Result>{}</Result><Start>{start}</Start>\
<Sort>-order_time</Sort><Condition><OrderTimeFrom>{}</OrderTimeFrom><OrderTimeTo>{}</OrderTimeTo></Condition>\
<Field>{LIST_FIELDS}</Field></Search><SellerId>{}</SellerId></Req>",
            self.page_size,
            request_time(from),
            request_time(to),
            xml_escape(&self.creds.seller_id)
        )
    }

    /// One `orderList` page: total hits and its headers.
    async fn list_page(
        &self,
        from: DateTime<FixedOffset>,
        to: DateTime<FixedOffset>,
        start: u32,
    ) -> Result<ListPage, ClientError> {
        let asked = (from.timestamp(), to.timestamp(), start);
        if let Ok(last) = self.last_list.lock()
            && let Some((key, at, page)) = last.as_ref()
            && *key == asked
            && at.elapsed() < LIST_REUSE
        {
            return Ok(page.clone());
        }
        let body = self.call(OP_LIST, &self.list_xml(from, to, start)).await?;
        let page = parse_list(&body)?;
        if let Ok(mut last) = self.last_list.lock() {
            *last = Some((asked, Instant::now(), page.clone()));
        }
        Ok(page)
    }

    /// One order with `orderInfo`: the order, or why it could not be mapped or validated (the
    /// body itself was a readable orderInfo answer for this order).
    async fn order_info(&self, order_id: &str) -> Result<Result<Order, BadOrder>, ClientError> {
        let xml = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Req><Target><OrderId>{}</OrderId><Field>{INFO_FIELDS}</Field>\
</Target><SellerId>{}</SellerId></Req>",
            xml_escape(order_id),
            xml_escape(&self.creds.seller_id)
        );
        let body = self.call(OP_INFO, &xml).await?;
        let infos = super::parse_info(OP_INFO, &body).map_err(|e| match e {
            NormalizeError::Api { code, message, .. } => ClientError::Rejected {
                marketplace: Marketplace::Yahoo,
                operation: OP_INFO,
                status: 200,
                code,
                message,
            },
            other => ClientError::Malformed(other),
        })?;
        let info = match infos.as_slice() {
            [info] if map::text(&info.order_id) == Some(order_id) => info,
            _ => return Err(malformed(OP_INFO, "the response does not hold exactly the order asked for")),
        };
        Ok(map::map_order(&self.shop_id, info).map_err(|error| BadOrder::new(Some(order_id), error)))
    }

    /// One page of the orders changed in `window`: headers listed, and each one changed inside the
    /// window read with `orderInfo` unless its listed version is in `known`.
    async fn changed_page(
        &self,
        window: &Window,
        cursor: Option<&str>,
        known: &KnownVersions,
    ) -> Result<OrderPage, ClientError> {
        let (range_from, range_to) = self.search_range(window);
        let mut cur = match cursor {
            None => Position { sub_to: range_to.timestamp(), start: 1, skip: 0 },
            Some(c) => {
                Position::decode(c).ok_or_else(|| malformed("changed_orders", "the cursor is not a Yahoo cursor"))?
            }
        };
        if window.to <= window.from {
            return Ok(OrderPage::default());
        }
        if cursor.is_none()
            && let Ok(mut last) = self.last_list.lock()
        {
            // A window's first page searches afresh; only its later pages share a list answer.
            *last = None;
        }
        let sub_to = DateTime::from_timestamp(cur.sub_to, 0)
            .ok_or_else(|| malformed("changed_orders", "the cursor time is out of range"))?
            .with_timezone(&JST);
        // Sub-window: at most MAX_SEARCH_SPAN_DAYS, inclusive at both ends (second precision),
        // the newest first and each listed newest first, so the orders just placed are on the
        // first list page (read first: `reading_order`).
        let span_start = sub_to - TimeDelta::days(MAX_SEARCH_SPAN_DAYS) + TimeDelta::seconds(1);
        let sub_from = span_start.max(range_from);
        let (total, headers) = self.list_page(sub_from, sub_to, cur.start).await?;
        let mut orders = Vec::new();
        let mut bad = Vec::new();
        let mut consumed = cur.skip.min(headers.len());
        for h in reading_order(&headers, window).into_iter().skip(cur.skip).map(|i| &headers[i]) {
            if orders.len() + bad.len() >= self.details_per_page {
                break;
            }
            consumed += 1;
            if h.updated >= window.from && h.updated < window.to && !is_known(known, &h.id, h.updated) {
                match self.order_info(&h.id).await? {
                    Ok(order) => orders.push(order),
                    Err(b) => bad.push(b),
                }
            }
        }
        let next = if consumed < headers.len() {
            cur.skip = consumed;
            Some(cur)
        } else if !headers.is_empty() && u64::from(cur.start) + u64::from(self.page_size) <= total {
            Some(Position { sub_to: cur.sub_to, start: cur.start + self.page_size, skip: 0 })
        } else if sub_from > range_from {
            Some(Position { sub_to: (sub_from - TimeDelta::seconds(1)).timestamp(), start: 1, skip: 0 })
        } else {
            None
        };
        let rejected = rejects(&self.shop_id, Marketplace::Yahoo, bad);
        Ok(OrderPage { orders, rejected, next: next.map(|c| c.encode()), missing: Vec::new() })
    }

    /// Order-time range searched for changes in `window`: `[from - lookback, to - 1 s]`, inclusive.
    fn search_range(&self, window: &Window) -> (DateTime<FixedOffset>, DateTime<FixedOffset>) {
        (window.from - self.lookback, window.to - TimeDelta::seconds(1))
    }

    /// Largest number of order ids [`Self::orders_by_id`] sends in one marketplace call: `orderInfo`
    /// reads one order per call (fact sheet §5). `orderList` takes a comma-separated `OrderId`
    /// condition but returns header fields only (§4.2), so it cannot replace `orderInfo`.
    pub const MAX_IDS_PER_CALL: usize = 1;

    /// The current state of stored orders, by id: one `orderInfo` call per id, each waiting its
    /// turn in the operation's rate limit (1/s). An id the API does not know
    /// ([`ORDER_NOT_FOUND_CODES`]) or an empty one is returned as `missing`, to be
    /// retried on the next pull; an order that does not map or validate lands in `rejected`; a
    /// repeated id is read once. Any other failure fails the call (nothing is half-returned).
    async fn read_by_id(&self, ids: &[String]) -> Result<OrderPage, ClientError> {
        let mut orders = Vec::new();
        let mut bad = Vec::new();
        let mut missing = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for id in ids {
            if !seen.insert(id.as_str()) {
                continue;
            }
            if id.trim().is_empty() {
                missing.push(id.clone());
                continue;
            }
            match self.order_info(id).await {
                Ok(Ok(order)) => orders.push(order),
                Ok(Err(b)) => bad.push(b),
                Err(ClientError::Rejected { code, .. }) if ORDER_NOT_FOUND_CODES.contains(&code.as_str()) => {
                    missing.push(id.clone());
                }
                Err(e) => return Err(e),
            }
        }
        let rejected = rejects(&self.shop_id, Marketplace::Yahoo, bad);
        Ok(OrderPage { orders, rejected, missing, next: None })
    }
}

/// One `orderList` page: total hits and `(order id, last update)` of this page's headers.
type ListPage = (u64, Vec<Header>);

/// One `orderList` hit.
#[derive(Debug, Clone)]
struct Header {
    id: String,
    /// When it was placed (`None`: the list did not say).
    ordered: Option<DateTime<FixedOffset>>,
    /// When it last changed.
    updated: DateTime<FixedOffset>,
}

/// The order in which a list page's hits are looked at: those placed inside the window first,
/// oldest first — a new order's buyer waits for its thank-you, the oldest longest —, then the
/// older orders that may have changed, as listed (newest first). A function of the page and the
/// window only, so a cursor's count of hits handled stays exact across the window's pages.
fn reading_order(headers: &[Header], window: &Window) -> Vec<usize> {
    let placed_inside = |h: &Header| h.ordered.is_some_and(|t| t >= window.from);
    let mut order: Vec<usize> = (0..headers.len()).filter(|&i| placed_inside(&headers[i])).collect();
    order.sort_by_key(|&i| (headers[i].ordered, i));
    order.extend((0..headers.len()).filter(|&i| !placed_inside(&headers[i])));
    order
}

/// A time of an `orderList` hit. unverified: response times carry an offset; one without is
/// read as JST.
fn list_time(text: &str) -> Option<DateTime<FixedOffset>> {
    DateTime::parse_from_rfc3339(text).ok().or_else(|| {
        chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S")
            .ok()
            .and_then(|n| n.and_local_timezone(JST).single())
    })
}

/// A list page as read: what was asked (from, to as unix seconds, `Start`), when, and the answer.
type ListedPage = ((i64, i64, u32), Instant, ListPage);

/// Reads an `orderList` body: `<Result><Status>OK</Status><Search>…`.
fn parse_list(body: &str) -> Result<ListPage, ClientError> {
    let text = body.strip_prefix('\u{feff}').unwrap_or(body);
    let r: wire::ResultBody = quick_xml::de::from_str(text)
        .map_err(|_| malformed(OP_LIST, "the body is not an orderList <Result> document"))?;
    match map::text(&r.status) {
        Some("OK") => {}
        Some(_) => {
            return Err(ClientError::Rejected {
                marketplace: Marketplace::Yahoo,
                operation: OP_LIST,
                status: 200,
                code: map::text(&r.code).unwrap_or_default().to_string(),
                message: map::text(&r.message).unwrap_or_default().to_string(),
            });
        }
        None => return Err(malformed(OP_LIST, "Result.Status is missing")),
    }
    let search = r.search.ok_or_else(|| malformed(OP_LIST, "Result.Search is missing"))?;
    let total: u64 = map::text(&search.total_count)
        .ok_or_else(|| malformed(OP_LIST, "Search.TotalCount is missing"))?
        .parse()
        .map_err(|_| malformed(OP_LIST, "Search.TotalCount is not a count"))?;
    let mut headers = Vec::with_capacity(search.order_info.len());
    for (i, h) in search.order_info.iter().enumerate() {
        let id =
            map::text(&h.order_id).ok_or_else(|| malformed(OP_LIST, format!("OrderInfo[{i}].OrderId is missing")))?;
        let updated = map::text(&h.last_update_time)
            .or(map::text(&h.order_time))
            .ok_or_else(|| malformed(OP_LIST, format!("OrderInfo[{i}].LastUpdateTime is missing")))?;
        let updated = list_time(updated)
            .ok_or_else(|| malformed(OP_LIST, format!("OrderInfo[{i}].LastUpdateTime is not a date-time")))?;
        let ordered = map::text(&h.order_time).and_then(list_time);
        headers.push(Header { id: id.to_string(), ordered, updated });
    }
    Ok((total, headers))
}

impl OrderSource for YahooClient {
    type Error = ClientError;

    fn max_ids_per_call(&self) -> usize {
        YahooClient::MAX_IDS_PER_CALL
    }

    async fn orders_by_id(&self, ids: &[String]) -> Result<OrderPage, ClientError> {
        self.read_by_id(ids).await
    }

    fn credential_health(&self) -> Option<CredentialHealth> {
        let status = self.authorize_status()?;
        Some(CredentialHealth {
            status: status.as_str().to_owned(),
            ok: status.is_authorized(),
            days_left: self.refresh_token_days_left(),
            advice: status.advice(),
        })
    }

    fn take_credential_update(&self) -> Option<CredentialUpdate> {
        let token = self.take_rotated_refresh_token()?;
        // The rotated token's life restarts now; its last day is what the expiry record keeps.
        let last_day = self.refresh_token_expires_at().map(|at| at.with_timezone(&ichigen_core::JST).date_naive());
        Some(CredentialUpdate::new(super::credentials::REFRESH_TOKEN, token.expose_secret().to_owned(), last_day))
    }

    fn marketplace(&self) -> Marketplace {
        Marketplace::Yahoo
    }

    async fn changed_orders(&self, window: &Window, cursor: Option<&str>) -> Result<OrderPage, ClientError> {
        self.changed_page(window, cursor, &KnownVersions::new()).await
    }

    async fn changed_orders_skipping(
        &self,
        window: &Window,
        cursor: Option<&str>,
        known: &KnownVersions,
    ) -> Result<OrderPage, ClientError> {
        self.changed_page(window, cursor, known).await
    }

    async fn register_tracking(&self, order: &Order, tracking: &Tracking) -> Result<(), ClientError> {
        if !ichigen_core::carrier::tracking_number_valid(tracking.carrier, &tracking.number) {
            return Err(ClientError::Rejected {
                marketplace: Marketplace::Yahoo,
                operation: OP_SHIP,
                status: 0,
                code: "invalid_tracking_number".into(),
                message: "the tracking number fails the carrier's check".into(),
            });
        }
        let code = codes::carrier_code(tracking.carrier);
        // Domestic carriers' numbers are sent as their 12 digits (Yamato accepts digits and '-' only,
        // at most 14 bytes); other carriers' numbers (e.g. EMS `EJ123456789JP`) as given.
        let number = match tracking.carrier {
            Carrier::Yamato | Carrier::Sagawa | Carrier::Japanpost => {
                ichigen_core::carrier::tracking_digits(&tracking.number)
            }
            Carrier::Other => tracking.number.trim().to_string(),
        };
        let ship_date = tracking
            .shipped_at
            .map(|t| t.with_timezone(&JST).format("<ShipDate>%Y%m%d</ShipDate>").to_string())
            .unwrap_or_default();
        let xml = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Req><Target><OrderId>{}</OrderId><IsPointFix>true</IsPointFix>\
</Target><Order><Ship><ShipStatus>3</ShipStatus><ShipCompanyCode>{code}</ShipCompanyCode>\
<ShipInvoiceNumber1>{}</ShipInvoiceNumber1>{ship_date}</Ship></Order><SellerId>{}</SellerId></Req>",
            xml_escape(&order.order_id),
            xml_escape(&number),
            xml_escape(&self.creds.seller_id)
        );
        let body = self.call(OP_SHIP, &xml).await?;
        let set: wire::ResultSet = quick_xml::de::from_str(body.strip_prefix('\u{feff}').unwrap_or(&body))
            .map_err(|_| malformed(OP_SHIP, "the body is not a <ResultSet> document"))?;
        let r = set.result.ok_or_else(|| malformed(OP_SHIP, "ResultSet.Result is missing"))?;
        match map::text(&r.status) {
            Some("OK") => Ok(()),
            None => Err(malformed(OP_SHIP, "Result.Status is missing")),
            Some(_) => Err(ClientError::Rejected {
                marketplace: Marketplace::Yahoo,
                operation: OP_SHIP,
                status: 200,
                code: map::text(&r.code).unwrap_or_default().to_string(),
                message: map::text(&r.message).unwrap_or_default().to_string(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        let c = Position { sub_to: 1_790_000_000, start: 2001, skip: 17 };
        assert_eq!(Position::decode(&c.encode()), Some(c));
        assert_eq!(Position::decode("y1.1.2.3"), None);
        assert_eq!(Position::decode("x"), None);
    }

    #[test]
    fn list_bodies_are_read_and_broken_ones_named() {
        let body = "<Result><Status>OK</Status><Search><TotalCount>1</TotalCount><OrderInfo><Index>1</Index>\
<OrderId>s-1</OrderId><LastUpdateTime>2026-11-01T09:00:00+09:00</LastUpdateTime></OrderInfo></Search></Result>";
        let (total, headers) = parse_list(body).unwrap();
        assert_eq!((total, headers.len()), (1, 1));
        let err = parse_list(&body[..40]).unwrap_err();
        assert!(err.to_string().contains("orderList"), "{err}");
    }

    #[test]
    fn request_times_are_jst_without_separators() {
        let t = DateTime::parse_from_rfc3339("2026-11-01T00:00:00Z").unwrap();
        assert_eq!(request_time(t), "20261101090000");
        assert_eq!(xml_escape("a&<b>"), "a&amp;&lt;b&gt;");
    }

    /// A 2048-bit test public key (generated for these tests; no private key is kept).
    const TEST_KEY: &str = "-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAwnkHbT1Tt+13hQatIu3P
GnAKpbIv6HJivBFYli/LUcscY4fm7YPlM+RjKYtD92mVLAson6Nt9fxjurEtHhhw
4K5f9FZPHdfeijzub4rrtssZC0D97laPHl4Zk01duaEG4LHYbd6+FnadFcgd9m4m
U7Qk7/PaW+LWX88eEz4h680jHOFNPb5sJV0RMGNlChCYJ6MU/r9zOFrmakqJXFT3
CiM8B4MVc5VRxyun45ds9WfIz3l9s9Wb3C2zsOvrJpwcGQYNyvN6DfhCNK7PLttw
pOQmdMa3xe4E1r/YiMbSFHIqy8q5fKP/iJnhCTdV5c5MLCDSDV+b71OLpIjbSukS
swIDAQAB
-----END PUBLIC KEY-----
";

    fn test_client() -> YahooClient {
        let creds = YahooCredentials {
            seller_id: "snbx-test".into(),
            client_id: "id".into(),
            client_secret: SecretString::from("s3cr3t-value"),
            refresh_token: SecretString::from("r3fr3sh-value"),
            public_key_pem: SecretString::from(TEST_KEY),
            key_version: "1".into(),
            token_url: "http://127.0.0.1:9/token".into(),
        };
        YahooClient::new(HttpConfig::new("http://127.0.0.1:9"), "shop", creds).unwrap()
    }

    fn reply(status: u16, body: &str) -> Reply {
        Reply { status: StatusCode::from_u16(status).unwrap(), headers: Default::default(), body: body.into() }
    }

    #[test]
    fn yahoo_error_bodies_are_classified() {
        let c = test_client();
        let e = |status, code: &str| {
            let body = format!("<Error xmlns=\"urn:yahoo:api\"><Message>m</Message><Code>{code}</Code></Error>");
            c.classify(OP_LIST, reply(status, &body)).err().unwrap()
        };
        assert!(matches!(e(403, "px-04307"), ClientError::Auth { .. }));
        assert!(matches!(
            c.classify(OP_LIST, reply(403, "<Error><Message>limit</Message></Error>")),
            Err(ClientError::Throttled { .. })
        ));
        assert!(matches!(e(400, "od90101"), ClientError::Rejected { status: 400, .. }));
        assert!(matches!(e(500, "od91133"), ClientError::Rejected { status: 500, .. }));
        assert!(matches!(e(500, "od91001"), ClientError::Server { .. }));
        assert!(matches!(e(503, ""), ClientError::Server { .. }));
        assert!(matches!(e(401, "px-04102"), ClientError::Auth { ref code, .. } if code == "px-04102"));
        assert!(c.classify(OP_LIST, reply(200, "<Result/>")).is_ok());
    }

    #[test]
    fn signatures_are_base64_of_one_key_block_and_secrets_stay_hidden() {
        let c = test_client();
        let sig = BASE64.decode(c.signature()).unwrap();
        assert_eq!(sig.len(), 256);
        let debug = format!("{c:?}");
        assert!(!debug.contains("s3cr3t-value") && !debug.contains("r3fr3sh-value"), "{debug}");
        let mut bad = c.creds.clone();
        bad.public_key_pem = SecretString::from("not a key");
        assert!(matches!(
            YahooClient::new(HttpConfig::new("http://127.0.0.1:9"), "shop", bad),
            Err(YahooSetupError::PublicKey)
        ));
    }
}
