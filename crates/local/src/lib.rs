//! Embedded adapters of the ichigen pipeline ports, for running the whole pipeline on one machine
//! with nothing to install: [`SqliteStore`] (orders, watermarks, shop settings, blacklist and the
//! mail ledger in one SQLite file), [`EmlOutbox`] (each mail as an `.eml` file) and
//! [`JsonlQuarantine`] (unreadable input as JSON lines).
//!
//! [`SqliteQueue`] keeps the local pipeline's queues in the same file, so a run killed between
//! pull and store loses nothing: the next run takes up what is still queued.
//!
//! The use cases are the same code the Lambdas run; only these adapters differ from `ichigen-aws`.

mod console;
mod outbox;
mod parked;
mod quarantine;
mod queue;
mod staff_mail;
mod stock;
mod store;

pub use outbox::{EmlOutbox, OutboxError, Written};
pub use quarantine::JsonlQuarantine;
pub use queue::{DeadLetter, MAIL_QUEUE, MAX_ATTEMPTS, ORDERS_QUEUE, SqliteQueue};
pub use staff_mail::{LocalNotifier, LocalStaffMail};
pub use store::{OpenError, SqliteStore};
