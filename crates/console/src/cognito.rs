//! Staff sign-in on AWS with an Amazon Cognito user pool: the authorization-code flow with PKCE
//! (S256) through the pool's hosted UI, and the ID token verified here (RS256 against the pool's
//! JWKS, issuer, audience = the app client, expiry, `token_use` = `id`).
//!
//! `/login` sends the browser to `{domain}/oauth2/authorize` with a random `state` and the
//! verifier's challenge; both are kept for ten minutes in a cookie signed with the console's key
//! (HttpOnly, Secure, SameSite=Lax — Lax so that it comes back with Cognito's redirect). The
//! callback checks `state` against it, exchanges the code and the verifier at
//! `{domain}/oauth2/token`, and verifies the ID token it gets.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio::sync::RwLock;

use crate::auth::{random_token, same_secret};
use crate::pages::Failure;

/// The short-lived cookie holding the sign-in's state and PKCE verifier.
pub(crate) const LOGIN_COOKIE: &str = "ichigen_login";
/// How long a sign-in may take at the hosted UI.
const LOGIN_TTL: Duration = Duration::from_secs(600);
/// How long a call to Cognito may take.
const HTTP_TIMEOUT: Duration = Duration::from_secs(10);

/// What the console needs to know of the user pool and its app client.
#[derive(Debug, Clone)]
pub struct CognitoConfig {
    /// The hosted UI's base URL (`https://{prefix}.auth.{region}.amazoncognito.com`).
    pub domain_url: String,
    /// The app client id (public client: no secret; PKCE protects the code).
    pub client_id: String,
    /// The pool's issuer: `https://cognito-idp.{region}.amazonaws.com/{pool id}`.
    pub issuer: String,
    /// Where the pool's signing keys are (`{issuer}/.well-known/jwks.json` on AWS).
    pub jwks_url: String,
    /// This console's callback URL, as registered in the app client (`…/auth/callback`).
    pub redirect_uri: String,
}

impl CognitoConfig {
    /// The configuration of pool `pool_id` in `region`, its JWKS at the issuer, as on AWS.
    pub fn new(region: &str, pool_id: &str, client_id: &str, domain_url: &str, redirect_uri: &str) -> CognitoConfig {
        let issuer = format!("https://cognito-idp.{region}.amazonaws.com/{pool_id}");
        CognitoConfig {
            domain_url: domain_url.trim_end_matches('/').to_string(),
            client_id: client_id.to_string(),
            jwks_url: format!("{issuer}/.well-known/jwks.json"),
            issuer,
            redirect_uri: redirect_uri.to_string(),
        }
    }
}

/// Why a sign-in did not finish (shown to the person signing in; no token in it).
#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    /// No or a broken sign-in cookie, or another state: not the sign-in this browser started.
    #[error("サインインの途中の情報が見つからないか一致しません。もう一度 /login から始めてください")]
    State,
    /// Cognito did not answer the code exchange as it should.
    #[error("Cognito でのコードの交換に失敗しました: {0}")]
    Exchange(String),
    /// The pool's keys could not be read.
    #[error("Cognito の署名鍵を取得できません: {0}")]
    Keys(String),
    /// The ID token is not one this console accepts.
    #[error("ID トークンを受け付けられません: {0}")]
    Token(String),
    /// The token names nobody.
    #[error("ID トークンに利用者名がありません")]
    NoName,
}

#[derive(Serialize, Deserialize)]
struct LoginState {
    state: String,
    verifier: String,
    exp: u64,
}

#[derive(Deserialize)]
struct TokenResponse {
    id_token: String,
}

#[derive(Deserialize)]
struct IdClaims {
    token_use: String,
    name: Option<String>,
    email: Option<String>,
    #[serde(rename = "cognito:username")]
    username: Option<String>,
}

/// The staff sign-in through a Cognito app client.
pub struct CognitoLogin {
    config: CognitoConfig,
    cookie_key: Vec<u8>,
    http: reqwest::Client,
    keys: RwLock<Option<JwkSet>>,
}

/// The `Set-Cookie` value that removes the sign-in cookie.
pub(crate) fn clear_login_cookie() -> String {
    format!("{LOGIN_COOKIE}=; HttpOnly; Secure; SameSite=Lax; Path=/auth/callback; Max-Age=0")
}

impl CognitoLogin {
    /// The sign-in of `config`, signing its sign-in cookie with `cookie_key` (32 bytes or more,
    /// from SSM).
    pub fn new(config: CognitoConfig, cookie_key: Vec<u8>) -> Result<CognitoLogin, reqwest::Error> {
        let http =
            reqwest::Client::builder().timeout(HTTP_TIMEOUT).redirect(reqwest::redirect::Policy::none()).build()?;
        Ok(CognitoLogin { config, cookie_key, http, keys: RwLock::new(None) })
    }

    /// `/login`: to the hosted UI, with a fresh state and PKCE challenge kept in the sign-in cookie.
    pub(crate) fn redirect_to_sign_in(&self) -> Result<axum::response::Response, Failure> {
        use axum::http::header::{LOCATION, SET_COOKIE};
        use axum::response::IntoResponse;
        let no_random = |_| Failure::Internal("乱数を取得できません".into());
        let state = random_token().map_err(no_random)?;
        let verifier = random_token().map_err(no_random)?;
        let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
        let exp = jsonwebtoken::get_current_timestamp() + LOGIN_TTL.as_secs();
        let signed = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &LoginState { state: state.clone(), verifier, exp },
            &EncodingKey::from_secret(&self.cookie_key)
                .map_err(|e| Failure::Internal(format!("署名鍵が使えません: {e}")))?,
        )
        .map_err(|e| Failure::Internal(format!("サインイン情報に署名できません: {e}")))?;
        let mut url = reqwest::Url::parse(&format!("{}/oauth2/authorize", self.config.domain_url))
            .map_err(|e| Failure::Internal(format!("Cognito のドメインが URL ではありません: {e}")))?;
        url.query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", &self.config.client_id)
            .append_pair("redirect_uri", &self.config.redirect_uri)
            .append_pair("scope", "openid email profile")
            .append_pair("state", &state)
            .append_pair("code_challenge", &challenge)
            .append_pair("code_challenge_method", "S256");
        let cookie = format!(
            "{LOGIN_COOKIE}={signed}; HttpOnly; Secure; SameSite=Lax; Path=/auth/callback; Max-Age={}",
            LOGIN_TTL.as_secs()
        );
        Ok((
            axum::http::StatusCode::SEE_OTHER,
            [(LOCATION, url.to_string()), (SET_COOKIE, cookie), (axum::http::header::CACHE_CONTROL, "no-store".into())],
        )
            .into_response())
    }

    /// The callback: checks `state` against the sign-in cookie, exchanges `code` with the PKCE
    /// verifier, verifies the ID token; the staff member's name (`name`, else `email`, else
    /// `cognito:username`).
    pub(crate) async fn finish_sign_in(
        &self,
        code: &str,
        state: &str,
        login_cookie: Option<&str>,
    ) -> Result<String, SignInError> {
        let cookie = login_cookie.ok_or(SignInError::State)?;
        let key = DecodingKey::from_secret(&self.cookie_key).map_err(|_| SignInError::State)?;
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_required_spec_claims(&["exp"]);
        validation.validate_aud = false;
        let kept = jsonwebtoken::decode::<LoginState>(cookie, &key, &validation).map_err(|_| SignInError::State)?;
        if !same_secret(&kept.claims.state, state) {
            return Err(SignInError::State);
        }
        let response = self
            .http
            .post(format!("{}/oauth2/token", self.config.domain_url))
            .form(&[
                ("grant_type", "authorization_code"),
                ("client_id", self.config.client_id.as_str()),
                ("code", code),
                ("redirect_uri", self.config.redirect_uri.as_str()),
                ("code_verifier", kept.claims.verifier.as_str()),
            ])
            .send()
            .await
            .map_err(|e| SignInError::Exchange(e.without_url().to_string()))?;
        let status = response.status();
        if !status.is_success() {
            return Err(SignInError::Exchange(format!("HTTP {status}")));
        }
        let tokens: TokenResponse =
            response.json().await.map_err(|e| SignInError::Exchange(format!("応答を読めません: {e}")))?;
        self.verify_id_token(&tokens.id_token).await
    }

    /// The staff name in `token` once it verifies as this pool's ID token for this client.
    pub async fn verify_id_token(&self, token: &str) -> Result<String, SignInError> {
        let header = jsonwebtoken::decode_header(token).map_err(|e| SignInError::Token(e.to_string()))?;
        if header.alg != Algorithm::RS256 {
            return Err(SignInError::Token(format!("署名方式 {:?} は受け付けません", header.alg)));
        }
        let kid = header.kid.ok_or_else(|| SignInError::Token("鍵 ID (kid) がありません".into()))?;
        let key = self.key(&kid).await?;
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_issuer(&[&self.config.issuer]);
        validation.set_audience(&[&self.config.client_id]);
        validation.set_required_spec_claims(&["exp", "iss", "aud"]);
        let data = jsonwebtoken::decode::<IdClaims>(token, &key, &validation)
            .map_err(|e| SignInError::Token(e.to_string()))?;
        if data.claims.token_use != "id" {
            return Err(SignInError::Token(format!("token_use が {} です（id が必要です）", data.claims.token_use)));
        }
        let c = data.claims;
        [c.name, c.email, c.username]
            .into_iter()
            .flatten()
            .map(|n| n.trim().to_string())
            .find(|n| !n.is_empty())
            .ok_or(SignInError::NoName)
    }

    /// The pool's key `kid`, from the JWKS read once and read again when a new key appears
    /// (Cognito rotates keys rarely; an unknown kid is otherwise refused).
    async fn key(&self, kid: &str) -> Result<DecodingKey, SignInError> {
        if let Some(jwk) = self.keys.read().await.as_ref().and_then(|set| set.find(kid)) {
            return DecodingKey::from_jwk(jwk).map_err(|e| SignInError::Keys(e.to_string()));
        }
        let response = self
            .http
            .get(&self.config.jwks_url)
            .send()
            .await
            .map_err(|e| SignInError::Keys(e.without_url().to_string()))?;
        if !response.status().is_success() {
            return Err(SignInError::Keys(format!("HTTP {}", response.status())));
        }
        let set: JwkSet = response.json().await.map_err(|e| SignInError::Keys(e.to_string()))?;
        let found = set.find(kid).map(DecodingKey::from_jwk);
        *self.keys.write().await = Some(set);
        match found {
            Some(key) => key.map_err(|e| SignInError::Keys(e.to_string())),
            None => Err(SignInError::Token(format!("プールにない鍵 ID {kid} で署名されています"))),
        }
    }
}
