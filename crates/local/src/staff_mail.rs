//! The embedded home's [`StaffMail`]: a staff action's mail jobs go on the SQLite mail queue, and
//! this process sends what waits there at once, through the notifier — a send that fails leaves
//! its job queued for the next action, `ichigen mail drain` or the next demo run.

use chrono::Utc;
use ichigen_core::pipeline::{MailJob, Mailer, Notifier, PortError, QueueSent, RelayMailers, StaffMail};

use crate::{MAIL_QUEUE, SqliteQueue, SqliteStore};

/// The notifier of the embedded store, sending through `M` (the outbox) and the relays `R`.
pub type LocalNotifier<'s, M, R> = Notifier<&'s SqliteStore, &'s SqliteStore, &'s SqliteStore, M, R>;

/// Staff mail on the embedded store: queued in SQLite, sent now by `notifier`.
pub struct LocalStaffMail<'s, M, R> {
    store: &'s SqliteStore,
    queue: SqliteQueue<'s, MailJob>,
    notifier: LocalNotifier<'s, M, R>,
}

impl<'s, M, R> LocalStaffMail<'s, M, R> {
    /// The mail queue of `store`, sent by `notifier`.
    pub fn new(store: &'s SqliteStore, notifier: LocalNotifier<'s, M, R>) -> Self {
        LocalStaffMail { store, queue: SqliteQueue::new(store, MAIL_QUEUE), notifier }
    }
}

impl<'s, M: Mailer, R: RelayMailers> StaffMail for LocalStaffMail<'s, M, R> {
    type Queue = SqliteQueue<'s, MailJob>;

    fn queue(&self) -> &Self::Queue {
        &self.queue
    }

    async fn send_queued(&self) -> Result<Option<QueueSent>, PortError> {
        // A new consumer each time: one run takes each waiting job once (a failed one again next run).
        let run = SqliteQueue::<MailJob>::new(self.store, MAIL_QUEUE);
        self.notifier.send_queue(&run, || Utc::now().fixed_offset()).await.map(Some)
    }
}
