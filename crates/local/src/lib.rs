//! Embedded adapters of the ichigen pipeline ports, for running the whole pipeline on one machine
//! with nothing to install: [`SqliteStore`] (orders, watermarks, shop settings, blacklist and the
//! mail ledger in one SQLite file), [`EmlOutbox`] (each mail as an `.eml` file) and
//! [`JsonlQuarantine`] (unreadable input as JSON lines).
//!
//! The queues of the local pipeline are `ichigen_core::pipeline::memory::MemoryQueue`: in-process,
//! as the use cases only need `Queue::send_all` and the runner drains them.
//!
//! The use cases are the same code the Lambdas run; only these adapters differ from `ichigen-aws`.

mod outbox;
mod quarantine;
mod store;

pub use outbox::{EmlOutbox, Written};
pub use quarantine::JsonlQuarantine;
pub use store::{OpenError, SqliteStore};
