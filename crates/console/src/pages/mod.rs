//! The console's pages: one module per screen, and what they share (the layout's context, the
//! error page, reading an order from the path).

pub mod audit;
pub mod blacklist;
pub mod io;
pub mod order;
pub mod orders;
pub mod rules;
pub mod stock;
pub mod templates;

use axum::extract::Multipart;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, LOCATION};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use ichigen_core::Marketplace;
use ichigen_core::pipeline::{OrderKey, PortError, StoredOrder};
use serde::Serialize;

use crate::auth::Staff;
use crate::{App, ConsoleStore};

/// Why a request was refused or failed, as a Japanese page.
#[derive(Debug)]
pub enum Failure {
    /// No live session.
    NoSession,
    /// A page opened without a session on the AWS home: to the sign-in.
    SignInFirst,
    /// The Cognito sign-in did not finish.
    SignInFailed(String),
    /// A login URL whose token is wrong or used.
    BadLogin,
    /// A form without this session's CSRF token.
    Forbidden,
    /// Nothing there.
    NotFound(String),
    /// The request cannot be done as asked.
    BadRequest(String),
    /// The store or a page failed.
    Internal(String),
}

impl From<PortError> for Failure {
    fn from(e: PortError) -> Self {
        // The port error names the operation and the adapter's error, never buyer data.
        Failure::Internal(format!("保存先の読み書きに失敗しました: {e}"))
    }
}

impl From<minijinja::Error> for Failure {
    fn from(e: minijinja::Error) -> Self {
        Failure::Internal(format!("画面を表示できません: {e}"))
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let (status, message) = match self {
            Failure::SignInFirst => {
                return (StatusCode::SEE_OTHER, [(LOCATION, "/login"), (CACHE_CONTROL, "no-store")]).into_response();
            }
            Failure::SignInFailed(m) => (StatusCode::UNAUTHORIZED, format!("サインインできませんでした: {m}")),
            Failure::NoSession => (
                StatusCode::UNAUTHORIZED,
                "ログインしていません。ichigen console を起動した端末に表示されたURLから開いてください。".to_string(),
            ),
            Failure::BadLogin => (
                StatusCode::UNAUTHORIZED,
                "このログインURLは使えません（使用済みか、違うURLです）。ichigen console を起動し直してください。"
                    .to_string(),
            ),
            Failure::Forbidden => (
                StatusCode::FORBIDDEN,
                "フォームの確認コードが一致しません。画面を開き直してからもう一度操作してください。".to_string(),
            ),
            Failure::NotFound(m) => (StatusCode::NOT_FOUND, m),
            Failure::BadRequest(m) => (StatusCode::BAD_REQUEST, m),
            Failure::Internal(m) => (StatusCode::INTERNAL_SERVER_ERROR, m),
        };
        let body = format!(
            "<!doctype html><html lang=\"ja\"><head><meta charset=\"utf-8\"><title>ichigen</title>\
             <link rel=\"stylesheet\" href=\"/static/console.css\"></head><body><main>\
             <p class=\"error\">{}</p><p><a href=\"/orders\">受注一覧へ</a></p></main></body></html>",
            escape(&message)
        );
        (status, [(CACHE_CONTROL, "no-store")], Html(body)).into_response()
    }
}

/// A form uploaded as multipart: its text fields (`csrf` among them) and its one `file`.
pub struct Upload {
    /// The text fields by name.
    pub fields: std::collections::BTreeMap<String, String>,
    /// The file's bytes (empty when none was chosen).
    pub file: Vec<u8>,
    /// The file's name as the browser gave it.
    pub filename: String,
}

impl Upload {
    /// The text field `name` (empty when not sent).
    pub fn field(&self, name: &str) -> &str {
        self.fields.get(name).map_or("", String::as_str)
    }
}

/// Reads an upload form: the part named `file` as the file, every other part as text.
pub async fn read_upload(mut multipart: Multipart) -> Result<Upload, Failure> {
    let bad =
        |e: axum::extract::multipart::MultipartError| Failure::BadRequest(format!("アップロードを読めません: {e}"));
    let mut upload = Upload { fields: Default::default(), file: Vec::new(), filename: String::new() };
    while let Some(field) = multipart.next_field().await.map_err(bad)? {
        let name = field.name().unwrap_or("").to_string();
        if name == "file" {
            upload.filename = field.file_name().unwrap_or("").to_string();
            upload.file = field.bytes().await.map_err(bad)?.to_vec();
        } else {
            let text = field.text().await.map_err(bad)?;
            upload.fields.insert(name, text);
        }
    }
    Ok(upload)
}

/// What every page's layout needs.
#[derive(Serialize)]
pub struct Layout<'a> {
    /// The current screen (highlighted in the menu).
    pub nav: &'static str,
    /// The session's CSRF token, for the forms.
    pub csrf: &'a str,
    /// A message from the last action.
    pub flash: Option<String>,
    /// The shop.
    pub shop_id: &'a str,
    /// The staff member.
    pub staff: &'a str,
}

/// The layout context of a page of `nav`.
pub fn layout<'a, S, T>(app: &'a App<S, T>, staff: &'a Staff, nav: &'static str) -> Layout<'a> {
    Layout {
        nav,
        csrf: &staff.session.csrf,
        flash: staff.session.flash.clone(),
        shop_id: &app.settings.shop_id,
        staff: staff.name(),
    }
}

/// Renders a page; never cached (it holds buyer data and the CSRF token).
pub fn html<S, T, C: Serialize>(app: &App<S, T>, name: &str, ctx: C) -> Result<Response, Failure> {
    let body = app.pages.render(name, ctx)?;
    Ok((
        [
            (CACHE_CONTROL, HeaderValue::from_static("no-store")),
            (CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8")),
        ],
        body,
    )
        .into_response())
}

/// Redirects to `to` after an action, with `message` shown there.
pub async fn done<S, T>(app: &App<S, T>, staff: &Staff, to: &str, message: String) -> Response {
    app.access.flash(staff, message).await;
    let mut r = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(to) {
        r.headers_mut().insert(LOCATION, v);
    }
    r
}

/// The stored order the path names.
pub async fn load_order<S: ConsoleStore, T>(
    app: &App<S, T>,
    marketplace: &str,
    order_id: &str,
) -> Result<StoredOrder, Failure> {
    let marketplace: Marketplace =
        marketplace.parse().map_err(|_| Failure::NotFound(format!("モール {marketplace} はありません")))?;
    let key = OrderKey { shop_id: app.settings.shop_id.clone(), marketplace, order_id: order_id.to_string() };
    app.store.get(&key).await?.ok_or_else(|| Failure::NotFound(format!("注文 {marketplace}/{order_id} はありません")))
}

/// `GET /`: the order list.
pub async fn home() -> Redirect {
    Redirect::to("/orders")
}

/// `GET /static/console.css`.
pub async fn css() -> Response {
    ([(CONTENT_TYPE, "text/css; charset=utf-8"), (CACHE_CONTROL, "max-age=3600")], crate::render::CSS).into_response()
}
