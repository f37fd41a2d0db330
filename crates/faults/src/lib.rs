//! The fault-injection harness of ichigen's embedded pipeline (issue 13).
//!
//! Every port the use cases call is wrapped in [`wrap::Faulty`] around its real embedded adapter
//! (the SQLite store, its queues, the `.eml` outbox, the quarantine file, the marketplace
//! clients against the sandboxes). A clean run of the day ([`day`]) records every (port, method,
//! call index) boundary; [`run::enumerate`] then runs the day once per boundary × fault kind
//! (fail, timeout, kill), resumes it to the end, and [`check::check`]s the invariants on what
//! was delivered and stored.

pub mod check;
pub mod day;
pub mod inject;
pub mod run;
pub mod wrap;

pub use check::{Checked, Violation};
pub use inject::{Boundary, Fault, FaultKind, Injector, Method};
pub use run::{Figures, Indices, Options, Outcome, enumerate, run_one};
