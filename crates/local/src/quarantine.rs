//! [`JsonlQuarantine`]: unreadable marketplace orders (and orders the pipeline gave up on) kept as
//! JSON lines for a person, with the reason and when.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use chrono::{DateTime, FixedOffset, Utc};
use ichigen_core::pipeline::{PortError, Quarantine, Rejected};
use serde::Serialize;

/// One line of the file.
#[derive(Serialize)]
struct Line<'a> {
    quarantined_at: DateTime<FixedOffset>,
    #[serde(flatten)]
    rejected: &'a Rejected,
}

/// Appends each rejected order to one JSON-lines file.
#[derive(Debug)]
pub struct JsonlQuarantine {
    path: PathBuf,
    // Lines of concurrent calls must not interleave.
    lock: Mutex<()>,
}

impl JsonlQuarantine {
    /// A quarantine appending to `path` (created on the first rejected order).
    pub fn new(path: impl Into<PathBuf>) -> JsonlQuarantine {
        JsonlQuarantine { path: path.into(), lock: Mutex::new(()) }
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Quarantine for JsonlQuarantine {
    async fn quarantine(&self, rejected: &[Rejected]) -> Result<(), PortError> {
        const OP: &str = "quarantine append";
        if rejected.is_empty() {
            return Ok(());
        }
        let now = Utc::now().fixed_offset();
        let mut text = String::new();
        for r in rejected {
            let line = serde_json::to_string(&Line { quarantined_at: now, rejected: r })
                .map_err(|e| PortError::permanent(OP, e))?;
            text.push_str(&line);
            text.push('\n');
        }
        let _guard = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        // One write of whole lines in append mode: a crash leaves at most a last line cut short.
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .and_then(|mut f| f.write_all(text.as_bytes()))
            .map_err(|e| PortError::retryable(OP, e))
    }
}
