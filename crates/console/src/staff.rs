//! The console's one call site of the staff decisions (`ichigen_core::pipeline::staff`, as
//! `ichigen orders release|hold` decides): the mails a decision calls for go on the home's durable
//! mail queue with it and out through its consumer; and the audit record every action writes.

use chrono::{DateTime, FixedOffset, Utc};
use ichigen_core::JST;
use ichigen_core::Order;
use ichigen_core::console::AuditEntry;
use ichigen_core::pipeline::{
    Decision, Notified, OrderKey, PortError, ProcessError, ProcessSettings, Processed, Processor, QueueSent,
    StaffError, StaffMail, StoredOrder, staff,
};

use crate::{App, ConsoleStore};

/// Now, in JST.
pub fn now() -> DateTime<FixedOffset> {
    Utc::now().with_timezone(&JST)
}

/// What a decision did.
pub struct Decided {
    /// The order after it.
    pub order: StoredOrder,
    /// What happened to each mail it queued, in Japanese.
    pub mails: Vec<String>,
}

/// Decides on `key`; its mails (the thank-you held back by a hold) go on the durable queue and out.
pub async fn decide<S: ConsoleStore, T: StaffMail>(
    app: &App<S, T>,
    key: &OrderKey,
    decision: Decision<'_>,
) -> Result<Decided, StaffError> {
    let decided =
        staff::decide_and_send(&app.store, &app.mail, &app.store, &app.policies, key, decision, now()).await?;
    let mails = said(key, &decided.order.mails_due, decided.sent);
    Ok(Decided { order: decided.order, mails })
}

/// Corrects the destination of `key` through the processor, as if the marketplace had sent the
/// corrected order: the checks run again, a new hold alerts staff, a released order needs a new
/// look; its mails go on the durable queue and out. The marketplace's own copy is not changed: a
/// later change there replaces the correction.
pub async fn correct_destination<S: ConsoleStore, T: StaffMail>(
    app: &App<S, T>,
    corrected: Order,
) -> Result<(Processed, Vec<String>), ProcessError> {
    let key = OrderKey::of(&corrected);
    let processor = Processor::new(&app.store, &app.store, app.mail.queue(), app.policies, ProcessSettings::default())
        .with_stock(&app.store);
    let processed = processor.process(corrected, now()).await?;
    let mails = said(&key, &processed.mails, app.mail.send_queued().await);
    Ok((processed, mails))
}

/// What became of `key`'s mails, in Japanese: each sent now, or queued for the notifier.
fn said(
    key: &OrderKey,
    queued: &[ichigen_core::pipeline::MailKind],
    sent: Result<Option<QueueSent>, PortError>,
) -> Vec<String> {
    match sent {
        Ok(Some(sent)) => sent
            .iter()
            .filter(|(job, _)| job.order == *key)
            .map(|(job, outcome)| {
                let kind = crate::pages::order::mail_kind_label(job.kind);
                match outcome {
                    Ok(Notified::Sent(id)) => format!("{kind} メールを送信しました（{id}）"),
                    Ok(Notified::AlreadySent(_)) => format!("{kind} メールは送信済みのため送っていません"),
                    Ok(Notified::Skipped(why)) => format!("{kind} メールは送っていません: {why}"),
                    Ok(Notified::Parked { route, .. }) => {
                        format!("{kind} メールは {route} の設定待ちです（設定後に送信されます）")
                    }
                    Err(failure) => format!(
                        "{kind} メールを送れませんでした（キューに残し、次の操作か `ichigen mail drain` で送ります）: {}",
                        failure.reason
                    ),
                }
            })
            .collect(),
        Ok(None) => queued
            .iter()
            .map(|kind| {
                format!("{} メールを送信キューに入れました（まもなく送信されます）", crate::pages::order::mail_kind_label(*kind))
            })
            .collect(),
        Err(e) => vec![format!("メールはキューに残しました（次の操作か `ichigen mail drain` で送ります）: {e}")],
    }
}

/// Records a staff action in the audit log, with the session's staff name.
pub async fn audit<S: ConsoleStore, T>(
    app: &App<S, T>,
    staff: &crate::auth::Staff,
    action: &str,
    order: Option<&OrderKey>,
    detail: String,
) -> Result<(), PortError> {
    let entry = AuditEntry {
        shop_id: app.settings.shop_id.clone(),
        at: now(),
        staff: staff.name().to_string(),
        action: action.to_string(),
        order: order.cloned(),
        detail,
    };
    app.store.record_action(&entry).await
}
