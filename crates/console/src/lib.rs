//! The staff console: server-rendered Japanese pages for order clerks — the order list and an
//! order's page (release, hold, destination correction, tracking number), the blacklist, the
//! shop's rules with a simulation, mail templates with a preview, exports and the tracking import.
//!
//! Every page calls the same use cases as the `ichigen` commands (`ichigen_core::pipeline`), over
//! the store ports only, so one router serves the embedded store (`ichigen console`) and could
//! serve DynamoDB behind a Lambda. Every staff action is written to the audit log.
//!
//! Security model (docs/CONSOLE.md): a one-time login token is exchanged for a session cookie
//! (HttpOnly, SameSite=Strict, expiring); every form carries the session's CSRF token, checked on
//! each POST; requests without a session are refused.

mod auth;
mod pages;
mod render;
mod staff;
mod view;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::routing::{get, post};
use ichigen_core::Policies;
use ichigen_core::console::{AuditLog, MailHistory, OrderList};
use ichigen_core::pipeline::{
    MailEvents, MailLedger, Mailer, OrderStore, ParkedMail, RelayMailers, ShopDirectory, TrackingWrites,
};
use ichigen_core::stock::StockStore;

pub use auth::{LoginToken, Sessions};

/// Every store port the console drives.
pub trait ConsoleStore:
    OrderStore
    + ShopDirectory
    + MailLedger
    + ParkedMail
    + MailEvents
    + TrackingWrites
    + OrderList
    + AuditLog
    + MailHistory
    + StockStore
    + 'static
{
}
impl<T> ConsoleStore for T where
    T: OrderStore
        + ShopDirectory
        + MailLedger
        + ParkedMail
        + MailEvents
        + TrackingWrites
        + OrderList
        + AuditLog
        + MailHistory
        + StockStore
        + 'static
{
}

/// How long a staff session lasts without a new login.
pub const SESSION_TTL: Duration = Duration::from_secs(8 * 3600);

/// Orders per list page.
pub const PAGE_SIZE: usize = 50;

/// What the console serves and for whom.
pub struct Settings {
    /// The shop whose orders it shows.
    pub shop_id: String,
    /// The staff member's name recorded with every action.
    pub staff: String,
}

/// The console's state: the ports, the marketplaces' policies, the sessions and the pages.
pub struct Console<S, M, R> {
    pub(crate) store: S,
    pub(crate) mailer: M,
    pub(crate) relays: R,
    pub(crate) policies: Policies,
    pub(crate) settings: Settings,
    pub(crate) sessions: Sessions,
    pub(crate) pages: render::Pages,
}

impl<S: ConsoleStore, M: Mailer + 'static, R: RelayMailers + 'static> Console<S, M, R> {
    /// A console over `store`, sending the mails staff decisions call for through `mailer` (and
    /// the shop's marketplace `relays`), opened with `login`.
    pub fn new(store: S, mailer: M, relays: R, settings: Settings, login: LoginToken) -> Self {
        Console {
            store,
            mailer,
            relays,
            policies: ichigen_marketplaces::registry::policies(),
            settings,
            sessions: Sessions::new(login, SESSION_TTL),
            pages: render::Pages::new(),
        }
    }

    /// The routes.
    pub fn router(self) -> Router {
        let app = Arc::new(self);
        Router::new()
            .route("/", get(pages::home))
            .route("/login", get(auth::login::<S, M, R>))
            .route("/logout", post(auth::logout::<S, M, R>))
            .route("/static/console.css", get(pages::css))
            .route("/orders", get(pages::orders::list::<S, M, R>))
            .route("/orders/{marketplace}/{order_id}", get(pages::order::show::<S, M, R>))
            .route("/orders/{marketplace}/{order_id}/release", post(pages::order::release::<S, M, R>))
            .route("/orders/{marketplace}/{order_id}/hold", post(pages::order::hold::<S, M, R>))
            .route("/orders/{marketplace}/{order_id}/tracking", post(pages::order::tracking::<S, M, R>))
            .route("/orders/{marketplace}/{order_id}/destination", post(pages::order::destination::<S, M, R>))
            .route("/blacklist", get(pages::blacklist::show::<S, M, R>).post(pages::blacklist::add::<S, M, R>))
            .route("/blacklist/{id}/remove", post(pages::blacklist::remove::<S, M, R>))
            .route("/rules", get(pages::rules::show::<S, M, R>).post(pages::rules::submit::<S, M, R>))
            .route("/templates", get(pages::templates::show::<S, M, R>).post(pages::templates::submit::<S, M, R>))
            .route("/io", get(pages::io::show::<S, M, R>))
            .route("/io/export", post(pages::io::export::<S, M, R>))
            .route("/io/tracking", post(pages::io::tracking::<S, M, R>))
            .route("/audit", get(pages::audit::show::<S, M, R>))
            .with_state(app)
    }
}

/// The shared state handlers get.
pub(crate) type App<S, M, R> = Arc<Console<S, M, R>>;
