//! Who may use the console. Two ways in, one session model:
//! - [`Login::OneTime`] (`ichigen console`): a one-time token printed at start is exchanged for a
//!   session cookie (HttpOnly, SameSite=Strict); sessions live in the process.
//! - [`Login::Cognito`] (the AWS home): the Cognito hosted UI with the authorization-code flow and
//!   PKCE (`crate::cognito`); sessions live in a [`SessionStore`] (DynamoDB), cookie HttpOnly,
//!   Secure, SameSite=Lax.
//!
//! Either way each session has its own CSRF token, which every form carries and every POST
//! handler checks, and the staff name every action is recorded with.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{FromRequestParts, Query, State};
use axum::http::header::{COOKIE, LOCATION, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use ichigen_core::console::{PortFuture, SessionStore, StaffSession};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::cognito::CognitoLogin;
use crate::{App, SESSION_TTL, pages::Failure};

/// The session cookie's name.
pub(crate) const COOKIE_NAME: &str = "ichigen_session";

/// 32 random bytes as hex, from the operating system's generator.
pub fn random_token() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Compares two secrets in time independent of where they differ.
pub(crate) fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The key a session is kept under: the SHA-256 of its cookie, so that a copy of the session
/// store (a table export, a backup) holds no usable cookie.
fn session_key(cookie: &str) -> String {
    Sha256::digest(cookie.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// The one-time login token of a console run.
#[derive(Debug, Clone)]
pub struct LoginToken(String);

impl LoginToken {
    /// A fresh random token.
    pub fn generate() -> Result<LoginToken, getrandom::Error> {
        random_token().map(LoginToken)
    }

    /// The token, for the login URL printed at start.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// How staff get in: the login method of one of the console's two homes.
pub enum Login {
    /// `ichigen console`: the token printed at start, once; sessions in the process.
    OneTime(LoginToken),
    /// The AWS home: Amazon Cognito's hosted UI; sessions in `sessions` (the table).
    Cognito {
        /// The user pool's app client.
        cognito: Box<CognitoLogin>,
        /// Where sessions are kept.
        sessions: Arc<dyn SessionStore>,
    },
}

impl From<LoginToken> for Login {
    fn from(token: LoginToken) -> Self {
        Login::OneTime(token)
    }
}

/// The login method as the console runs it.
pub(crate) enum Way {
    OneTime(Mutex<Option<LoginToken>>),
    Cognito(Box<CognitoLogin>),
}

/// Sessions kept in the process (the embedded console: a restart logs everyone out).
#[derive(Debug, Default)]
pub struct MemorySessions {
    live: Mutex<HashMap<String, StaffSession>>,
}

impl SessionStore for MemorySessions {
    fn put_session<'a>(&'a self, key: &'a str, session: &'a StaffSession) -> PortFuture<'a, ()> {
        self.live.lock().unwrap_or_else(|p| p.into_inner()).insert(key.to_string(), session.clone());
        Box::pin(async { Ok(()) })
    }

    fn session<'a>(&'a self, key: &'a str, now: i64) -> PortFuture<'a, Option<StaffSession>> {
        let mut live = self.live.lock().unwrap_or_else(|p| p.into_inner());
        live.retain(|_, s| s.expires_at > now);
        let found = live.get(key).cloned();
        Box::pin(async move { Ok(found) })
    }

    fn end_session<'a>(&'a self, key: &'a str) -> PortFuture<'a, ()> {
        self.live.lock().unwrap_or_else(|p| p.into_inner()).remove(key);
        Box::pin(async { Ok(()) })
    }
}

/// The console's way in and its sessions.
pub struct Access {
    pub(crate) method: Way,
    pub(crate) sessions: Arc<dyn SessionStore>,
}

impl Access {
    pub(crate) fn new(login: Login) -> Access {
        match login {
            Login::OneTime(token) => {
                Access { method: Way::OneTime(Mutex::new(Some(token))), sessions: Arc::new(MemorySessions::default()) }
            }
            Login::Cognito { cognito, sessions } => Access { method: Way::Cognito(cognito), sessions },
        }
    }

    /// Whether this is the AWS home (Cognito sign-in, cookies over HTTPS only).
    pub(crate) fn is_cognito(&self) -> bool {
        matches!(self.method, Way::Cognito(_))
    }

    /// The attributes of this home's cookies.
    fn cookie_attributes(&self) -> &'static str {
        // Lax on AWS: the browser comes back from the Cognito domain, a cross-site redirect that a
        // Strict cookie would not follow into the first page; POSTs still need the CSRF token.
        if self.is_cognito() { "HttpOnly; Secure; SameSite=Lax; Path=/" } else { "HttpOnly; SameSite=Strict; Path=/" }
    }

    /// Starts a session for `staff`: the response that sets its cookie and goes to `to`.
    pub(crate) async fn start(&self, staff: String, to: &str) -> Result<Response, Failure> {
        let id = random_token().map_err(|_| Failure::Internal("乱数を取得できません".into()))?;
        let csrf = random_token().map_err(|_| Failure::Internal("乱数を取得できません".into()))?;
        let ttl = SESSION_TTL.as_secs();
        let expires_at = Utc::now().timestamp().saturating_add(i64::try_from(ttl).unwrap_or(i64::MAX));
        let session = StaffSession { staff, csrf, expires_at, flash: None };
        self.sessions.put_session(&session_key(&id), &session).await?;
        let cookie = format!("{COOKIE_NAME}={id}; {}; Max-Age={ttl}", self.cookie_attributes());
        let mut response = StatusCode::SEE_OTHER.into_response();
        let headers = response.headers_mut();
        if let Ok(v) = HeaderValue::from_str(to) {
            headers.insert(LOCATION, v);
        }
        if let Ok(v) = HeaderValue::from_str(&cookie) {
            headers.append(SET_COOKIE, v);
        }
        Ok(response)
    }

    /// Keeps `message` for the session's next page (best effort: a lost message loses no data).
    pub(crate) async fn flash(&self, staff: &Staff, message: String) {
        let mut session = staff.session.clone();
        session.flash = Some(message);
        let _ = self.sessions.put_session(&staff.key, &session).await;
    }
}

/// The request's session: handlers that take it refuse requests without a live one.
pub struct Staff {
    /// The key the session is kept under.
    pub(crate) key: String,
    /// The session (its message for this page taken out of the store).
    pub session: StaffSession,
}

impl Staff {
    /// Refuses a form whose CSRF token is not this session's.
    pub fn check_csrf(&self, token: &str) -> Result<(), Failure> {
        if same_secret(&self.session.csrf, token) { Ok(()) } else { Err(Failure::Forbidden) }
    }

    /// The staff member's name, recorded with each action.
    pub fn name(&self) -> &str {
        &self.session.staff
    }
}

/// The value of cookie `name` in the request.
pub(crate) fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers.get_all(COOKIE).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(';')).find_map(|c| {
        let (n, value) = c.trim().split_once('=')?;
        (n == name).then(|| value.to_string())
    })
}

impl<S, T> FromRequestParts<App<S, T>> for Staff
where
    S: Send + Sync + 'static,
    T: Send + Sync + 'static,
{
    type Rejection = Failure;

    async fn from_request_parts(parts: &mut Parts, app: &App<S, T>) -> Result<Self, Self::Rejection> {
        // On AWS a page opened without a session goes to the sign-in; an action is refused.
        let refused = if app.access.is_cognito() && parts.method == Method::GET {
            Failure::SignInFirst
        } else {
            Failure::NoSession
        };
        let Some(id) = cookie(&parts.headers, COOKIE_NAME) else { return Err(refused) };
        let key = session_key(&id);
        let Some(mut session) = app.access.sessions.session(&key, Utc::now().timestamp()).await? else {
            return Err(refused);
        };
        if session.flash.is_some() {
            // Shown once: this page takes it.
            let mut kept = session.clone();
            kept.flash = None;
            app.access.sessions.put_session(&key, &kept).await?;
        }
        if parts.method != Method::GET {
            // An action's page shows its own message, not one left from before.
            session.flash = None;
        }
        Ok(Staff { key, session })
    }
}

/// `?token=` (the embedded console), or nothing (the AWS home).
#[derive(Deserialize)]
pub struct LoginQuery {
    token: Option<String>,
}

/// `GET /login`: the embedded console exchanges its one-time token for a session; the AWS home
/// sends the browser to Cognito's sign-in.
pub async fn login<S, T>(State(app): State<App<S, T>>, Query(q): Query<LoginQuery>) -> Response
where
    S: Send + Sync + 'static,
    T: Send + Sync + 'static,
{
    let result = match &app.access.method {
        Way::OneTime(login) => {
            let ok = {
                let mut login = login.lock().unwrap_or_else(|p| p.into_inner());
                let ok = match (login.as_ref(), q.token.as_deref()) {
                    (Some(t), Some(given)) => same_secret(t.as_str(), given),
                    _ => false,
                };
                if ok {
                    *login = None;
                }
                ok
            };
            if ok { app.access.start(app.settings.staff.clone(), "/orders").await } else { Err(Failure::BadLogin) }
        }
        Way::Cognito(cognito) => cognito.redirect_to_sign_in(),
    };
    result.unwrap_or_else(IntoResponse::into_response)
}

/// `?code=&state=` from Cognito.
#[derive(Deserialize)]
pub struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

/// `GET /auth/callback`: Cognito sends the browser back with a code; exchanged, the ID token
/// verified, a session starts.
pub async fn callback<S, T>(
    State(app): State<App<S, T>>,
    Query(q): Query<CallbackQuery>,
    headers: HeaderMap,
) -> Response
where
    S: Send + Sync + 'static,
    T: Send + Sync + 'static,
{
    let Way::Cognito(cognito) = &app.access.method else {
        return Failure::NotFound("このページはありません".into()).into_response();
    };
    let result = async {
        if q.error.is_some() {
            return Err(Failure::SignInFailed("サインインが取り消されたか、拒否されました".into()));
        }
        let (Some(code), Some(state)) = (q.code.as_deref(), q.state.as_deref()) else {
            return Err(Failure::SignInFailed("サインインの応答に code または state がありません".into()));
        };
        let staff = cognito
            .finish_sign_in(code, state, cookie(&headers, crate::cognito::LOGIN_COOKIE).as_deref())
            .await
            .map_err(|e| Failure::SignInFailed(e.to_string()))?;
        let mut response = app.access.start(staff, "/orders").await?;
        if let Ok(v) = HeaderValue::from_str(&crate::cognito::clear_login_cookie()) {
            response.headers_mut().append(SET_COOKIE, v);
        }
        Ok(response)
    }
    .await;
    result.unwrap_or_else(IntoResponse::into_response)
}

/// The CSRF field of a form that has no other.
#[derive(Deserialize)]
pub struct CsrfForm {
    csrf: String,
}

/// `POST /logout`: ends the session.
pub async fn logout<S, T>(
    State(app): State<App<S, T>>,
    staff: Staff,
    axum::Form(form): axum::Form<CsrfForm>,
) -> Result<Response, Failure>
where
    S: Send + Sync + 'static,
    T: Send + Sync + 'static,
{
    staff.check_csrf(&form.csrf)?;
    app.access.sessions.end_session(&staff.key).await?;
    let text = if app.access.is_cognito() {
        "ログアウトしました。もう一度使うには /login からサインインしてください。"
    } else {
        "ログアウトしました。もう一度使うには ichigen console を起動し直してください。"
    };
    let mut response = text.into_response();
    let clear = format!("{COOKIE_NAME}=; {}; Max-Age=0", app.access.cookie_attributes());
    if let Ok(v) = HeaderValue::from_str(&clear) {
        response.headers_mut().insert(SET_COOKIE, v);
    }
    Ok(response)
}
