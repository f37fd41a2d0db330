//! Who may use the console: a one-time login token (printed by `ichigen console`) is exchanged
//! for a session cookie (HttpOnly, SameSite=Strict, expiring); each session has its own CSRF
//! token, which every form carries and every POST handler checks.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{FromRequestParts, Query, State};
use axum::http::header::{COOKIE, LOCATION, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::{App, pages::Failure};

/// The session cookie's name.
const COOKIE_NAME: &str = "ichigen_session";

/// 32 random bytes as hex, from the operating system's generator.
pub fn random_token() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Compares two secrets in time independent of where they differ.
fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
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

/// One logged-in browser.
#[derive(Debug, Clone)]
pub struct Session {
    /// The token every form of this session carries.
    pub csrf: String,
    expires: Instant,
    /// A message for the next page (after a redirect).
    flash: Option<String>,
}

/// The console's sessions and its unused login token.
#[derive(Debug)]
pub struct Sessions {
    login: Mutex<Option<LoginToken>>,
    ttl: Duration,
    live: Mutex<HashMap<String, Session>>,
}

impl Sessions {
    /// Sessions of `ttl` each, opened once with `login`.
    pub fn new(login: LoginToken, ttl: Duration) -> Sessions {
        Sessions { login: Mutex::new(Some(login)), ttl, live: Mutex::new(HashMap::new()) }
    }

    /// A new session id for `token` when it is the unused login token (it is used up).
    fn exchange(&self, token: &str) -> Option<String> {
        let mut login = self.login.lock().unwrap_or_else(|p| p.into_inner());
        let ok = login.as_ref().is_some_and(|t| same_secret(t.as_str(), token));
        if !ok {
            return None;
        }
        let id = random_token().ok()?;
        let csrf = random_token().ok()?;
        *login = None;
        let session = Session { csrf, expires: Instant::now() + self.ttl, flash: None };
        self.live.lock().unwrap_or_else(|p| p.into_inner()).insert(id.clone(), session);
        Some(id)
    }

    fn get(&self, id: &str) -> Option<Session> {
        let mut live = self.live.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        live.retain(|_, s| s.expires > now);
        live.get(id).cloned()
    }

    fn end(&self, id: &str) {
        self.live.lock().unwrap_or_else(|p| p.into_inner()).remove(id);
    }

    /// Keeps `message` for the session's next page.
    pub fn flash(&self, id: &str, message: String) {
        if let Some(s) = self.live.lock().unwrap_or_else(|p| p.into_inner()).get_mut(id) {
            s.flash = Some(message);
        }
    }

    /// Takes the session's kept message.
    pub fn take_flash(&self, id: &str) -> Option<String> {
        self.live.lock().unwrap_or_else(|p| p.into_inner()).get_mut(id).and_then(|s| s.flash.take())
    }
}

/// The request's session: handlers that take it refuse requests without a live one.
pub struct Staff {
    /// The session id (the cookie's value).
    pub id: String,
    /// The session.
    pub session: Session,
}

impl Staff {
    /// Refuses a form whose CSRF token is not this session's.
    pub fn check_csrf(&self, token: &str) -> Result<(), Failure> {
        if same_secret(&self.session.csrf, token) { Ok(()) } else { Err(Failure::Forbidden) }
    }
}

fn session_cookie(parts: &Parts) -> Option<String> {
    parts.headers.get_all(COOKIE).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(';')).find_map(|c| {
        let (name, value) = c.trim().split_once('=')?;
        (name == COOKIE_NAME).then(|| value.to_string())
    })
}

impl<S, M, R> FromRequestParts<App<S, M, R>> for Staff
where
    S: Send + Sync + 'static,
    M: Send + Sync + 'static,
    R: Send + Sync + 'static,
{
    type Rejection = Failure;

    async fn from_request_parts(parts: &mut Parts, app: &App<S, M, R>) -> Result<Self, Self::Rejection> {
        let id = session_cookie(parts).ok_or(Failure::NoSession)?;
        let session = app.sessions.get(&id).ok_or(Failure::NoSession)?;
        Ok(Staff { id, session })
    }
}

/// `?token=`.
#[derive(Deserialize)]
pub struct LoginQuery {
    token: String,
}

/// `GET /login?token=`: the one-time token for a session cookie, then the order list.
pub async fn login<S, M, R>(State(app): State<App<S, M, R>>, Query(q): Query<LoginQuery>) -> Response
where
    S: Send + Sync + 'static,
    M: Send + Sync + 'static,
    R: Send + Sync + 'static,
{
    let Some(id) = app.sessions.exchange(&q.token) else {
        return Failure::BadLogin.into_response();
    };
    let max_age = app.sessions.ttl.as_secs();
    let cookie = format!("{COOKIE_NAME}={id}; HttpOnly; SameSite=Strict; Path=/; Max-Age={max_age}");
    let mut response = StatusCode::SEE_OTHER.into_response();
    let headers = response.headers_mut();
    headers.insert(LOCATION, HeaderValue::from_static("/orders"));
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        headers.insert(SET_COOKIE, v);
    }
    response
}

/// The CSRF field of a form that has no other.
#[derive(Deserialize)]
pub struct CsrfForm {
    csrf: String,
}

/// `POST /logout`: ends the session.
pub async fn logout<S, M, R>(
    State(app): State<App<S, M, R>>,
    staff: Staff,
    axum::Form(form): axum::Form<CsrfForm>,
) -> Result<Response, Failure>
where
    S: Send + Sync + 'static,
    M: Send + Sync + 'static,
    R: Send + Sync + 'static,
{
    staff.check_csrf(&form.csrf)?;
    app.sessions.end(&staff.id);
    let mut response = "ログアウトしました。もう一度使うには ichigen console を起動し直してください。".into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("{COOKIE_NAME}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0")) {
        response.headers_mut().insert(SET_COOKIE, v);
    }
    Ok(response)
}
