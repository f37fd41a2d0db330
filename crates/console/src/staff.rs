//! The console's one call site of the staff decisions (`ichigen_core::pipeline::staff`), and of
//! sending the mails a decision queued, as `ichigen orders release|hold` does; and the audit record
//! every action writes.

use std::time::Duration;

use chrono::{DateTime, FixedOffset, Utc};
use ichigen_core::JST;
use ichigen_core::Order;
use ichigen_core::console::AuditEntry;
use ichigen_core::pipeline::memory::MemoryQueue;
use ichigen_core::pipeline::{
    MailJob, Mailer, Notified, Notifier, OrderKey, PortError, ProcessError, ProcessSettings, Processed, Processor,
    RelayMailers, StaffError, StoredOrder, staff,
};

use crate::{App, ConsoleStore};

/// How long a mail ledger claim made by a console action blocks other senders.
const LEASE: Duration = Duration::from_secs(120);

/// Now, in JST.
pub fn now() -> DateTime<FixedOffset> {
    Utc::now().with_timezone(&JST)
}

/// Release (`hold_reason` = None) or hold.
pub enum Decision<'a> {
    /// Let a held order go.
    Release,
    /// Hold it, with staff's reason.
    Hold(&'a str),
}

/// What a decision did.
pub struct Decided {
    /// The order after it.
    pub order: StoredOrder,
    /// What happened to each mail it queued, in Japanese.
    pub mails: Vec<String>,
}

/// Decides on `key`, then sends the mails the decision queued (the thank-you held back by a hold).
pub async fn decide<S: ConsoleStore, M: Mailer, R: RelayMailers>(
    app: &App<S, M, R>,
    key: &OrderKey,
    decision: Decision<'_>,
) -> Result<Decided, StaffError> {
    let jobs = MemoryQueue::<MailJob>::new();
    let at = now();
    let order = match decision {
        Decision::Release => staff::release(&app.store, &jobs, &app.store, &app.policies, key, at).await?,
        Decision::Hold(reason) => staff::hold(&app.store, &jobs, &app.store, &app.policies, key, reason, at).await?,
    };
    let mails = send(app, jobs.drain(), at).await;
    Ok(Decided { order, mails })
}

/// Corrects the destination of `key` through the processor, as if the marketplace had sent the
/// corrected order: the checks run again, a new hold alerts staff, a released order needs a new
/// look. The marketplace's own copy is not changed: a later change there replaces the correction.
pub async fn correct_destination<S: ConsoleStore, M: Mailer, R: RelayMailers>(
    app: &App<S, M, R>,
    corrected: Order,
) -> Result<(Processed, Vec<String>), ProcessError> {
    let jobs = MemoryQueue::<MailJob>::new();
    let at = now();
    let processor =
        Processor::new(&app.store, &app.store, &jobs, app.policies, ProcessSettings::default()).with_stock(&app.store);
    let processed = processor.process(corrected, at).await?;
    let mails = send(app, jobs.drain(), at).await;
    Ok((processed, mails))
}

/// Sends queued mail jobs now, as the notifier would; what happened to each, in Japanese.
async fn send<S: ConsoleStore, M: Mailer, R: RelayMailers>(
    app: &App<S, M, R>,
    jobs: Vec<MailJob>,
    at: DateTime<FixedOffset>,
) -> Vec<String> {
    let notifier =
        Notifier::new(&app.store, &app.store, &app.store, &app.mailer, app.policies, LEASE).with_relays(&app.relays);
    let mut mails = Vec::new();
    for job in jobs {
        let kind = job.kind;
        mails.push(match notifier.notify(&job, at).await {
            Ok(Notified::Sent(id)) => format!("{kind} メールを送信しました（{id}）"),
            Ok(Notified::AlreadySent(_)) => format!("{kind} メールは送信済みのため送っていません"),
            Ok(Notified::Skipped(why)) => format!("{kind} メールは送っていません: {why}"),
            Ok(Notified::Parked { route, .. }) => {
                format!("{kind} メールは {route} の設定待ちです（設定後に送信されます）")
            }
            Err(e) => format!("{kind} メールを送れませんでした: {e}"),
        });
    }
    mails
}

/// Records a staff action in the audit log.
pub async fn audit<S: ConsoleStore, M, R>(
    app: &App<S, M, R>,
    action: &str,
    order: Option<&OrderKey>,
    detail: String,
) -> Result<(), PortError> {
    let entry = AuditEntry {
        shop_id: app.settings.shop_id.clone(),
        at: now(),
        staff: app.settings.staff.clone(),
        action: action.to_string(),
        order: order.cloned(),
        detail,
    };
    app.store.record_action(&entry).await
}
