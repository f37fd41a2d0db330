//! The staff console: server-rendered Japanese pages for order clerks — the order list and an
//! order's page (release, hold, destination correction, tracking number), the blacklist, the
//! shop's rules with a simulation, mail templates with a preview, the stock (在庫: counts, each
//! mall's allotment, drift decisions, a SKU's history), exports and the tracking import.
//!
//! Every page calls the same use cases as the `ichigen` commands (`ichigen_core::pipeline`), over
//! the store ports only, so one router serves the embedded store (`ichigen console`) and DynamoDB
//! behind a Lambda (`functions/console`). Every staff action is written to the audit log.
//!
//! Security model (docs/CONSOLE.md): staff get a session cookie (HttpOnly, expiring) by the
//! home's [`Login`] — a one-time token locally, Amazon Cognito on AWS; every form carries the
//! session's CSRF token, checked on each POST; requests without a session are refused.

mod auth;
pub mod cognito;
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
    MailEvents, MailLedger, OrderStore, ParkedMail, ShopDirectory, StaffMail, TrackingWrites,
};
use ichigen_core::stock::StockStore;

pub use auth::{Login, LoginToken, MemorySessions};
pub use cognito::{CognitoConfig, CognitoLogin, SignInError};

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
    /// The staff member's name recorded with every action of a one-time-token session (a Cognito
    /// session records the name in its ID token).
    pub staff: String,
}

/// The console's state: the ports, the marketplaces' policies, the sessions and the pages.
pub struct Console<S, T> {
    pub(crate) store: S,
    pub(crate) mail: T,
    pub(crate) policies: Policies,
    pub(crate) settings: Settings,
    pub(crate) access: auth::Access,
    pub(crate) pages: render::Pages,
}

impl<S: ConsoleStore, T: StaffMail + 'static> Console<S, T> {
    /// A console over `store`, putting the mails staff actions call for on `mail`'s durable queue
    /// (sent at once on the embedded store, by the notifier on AWS), opened with `login`.
    pub fn new(store: S, mail: T, settings: Settings, login: impl Into<Login>) -> Self {
        Console {
            store,
            mail,
            policies: ichigen_marketplaces::registry::policies(),
            settings,
            access: auth::Access::new(login.into()),
            pages: render::Pages::new(),
        }
    }

    /// The routes.
    pub fn router(self) -> Router {
        let app = Arc::new(self);
        Router::new()
            .route("/", get(pages::home))
            .route("/login", get(auth::login::<S, T>))
            .route("/auth/callback", get(auth::callback::<S, T>))
            .route("/logout", post(auth::logout::<S, T>))
            .route("/static/console.css", get(pages::css))
            .route("/orders", get(pages::orders::list::<S, T>))
            .route("/orders/{marketplace}/{order_id}", get(pages::order::show::<S, T>))
            .route("/orders/{marketplace}/{order_id}/release", post(pages::order::release::<S, T>))
            .route("/orders/{marketplace}/{order_id}/hold", post(pages::order::hold::<S, T>))
            .route("/orders/{marketplace}/{order_id}/tracking", post(pages::order::tracking::<S, T>))
            .route("/orders/{marketplace}/{order_id}/destination", post(pages::order::destination::<S, T>))
            .route("/blacklist", get(pages::blacklist::show::<S, T>).post(pages::blacklist::add::<S, T>))
            .route("/blacklist/{id}/remove", post(pages::blacklist::remove::<S, T>))
            .route("/rules", get(pages::rules::show::<S, T>).post(pages::rules::submit::<S, T>))
            .route("/templates", get(pages::templates::show::<S, T>).post(pages::templates::submit::<S, T>))
            .route("/io", get(pages::io::show::<S, T>))
            .route("/io/export", post(pages::io::export::<S, T>))
            .route("/io/tracking", post(pages::io::tracking::<S, T>))
            .route("/stock", get(pages::stock::list::<S, T>))
            .route("/stock/edit/set", post(pages::stock::set::<S, T>))
            .route("/stock/edit/adjust", post(pages::stock::adjust::<S, T>))
            .route("/stock/edit/map", post(pages::stock::map::<S, T>))
            .route("/stock/drift/accept", post(pages::stock::accept::<S, T>))
            .route("/stock/drift/force", post(pages::stock::force::<S, T>))
            .route("/stock/edit/load", post(pages::stock::load::<S, T>))
            // Two segments: a SKU's page is one (its `/` escaped), so no SKU name takes an action's path.
            .route("/stock/{sku}", get(pages::stock::history::<S, T>))
            .route("/audit", get(pages::audit::show::<S, T>))
            .with_state(app)
    }
}

/// The shared state handlers get.
pub(crate) type App<S, T> = Arc<Console<S, T>>;
