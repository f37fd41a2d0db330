//! 監査ログ: the shop's latest staff actions.

use axum::extract::State;
use axum::response::Response;

use super::{Failure, html, layout};
use crate::auth::Staff;
use crate::view::AuditRow;
use crate::{App, ConsoleStore};

/// Entries shown.
const SHOWN: usize = 500;

/// `GET /audit`.
pub async fn show<S: ConsoleStore, T: Send + Sync + 'static>(
    State(app): State<App<S, T>>,
    staff: Staff,
) -> Result<Response, Failure> {
    let rows: Vec<AuditRow> =
        app.store.recent_actions(&app.settings.shop_id, SHOWN).await?.iter().map(AuditRow::from).collect();
    html(&app, "audit.html", minijinja::context! { layout => layout(&app, &staff, "audit"), rows })
}
