//! [`EmlOutbox`]: a mail service that writes each mail as an RFC 5322 `.eml` file, which any mail
//! program opens: the subject RFC 2047-encoded (UTF-8), the body `text/plain; charset=utf-8` in a
//! 7-bit transfer encoding (base64 or quoted-printable, whichever is shorter).

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use chrono::Utc;
use ichigen_core::pipeline::{Mailer, OutgoingMail, SendError};
use mail_builder::MessageBuilder;
use mail_builder::headers::date::Date;
use mail_builder::headers::raw::Raw;

use crate::SqliteStore;
use ichigen_core::pipeline::PortError;

/// The file in the outbox naming the store it is written for.
const MARKER: &str = ".ichigen-store";

/// A mail's temporary file older than this is a crash's leftover, not a mail being written (which
/// takes milliseconds, perhaps in another process on the same outbox).
const LEFTOVER_AGE: Duration = Duration::from_secs(60);

/// Why an outbox cannot be used with a store.
#[derive(Debug, thiserror::Error)]
pub enum OutboxError {
    /// The folder could not be made or read.
    #[error("cannot use the outbox {}: {source}", dir.display())]
    Io {
        /// The outbox.
        dir: PathBuf,
        /// The error.
        #[source]
        source: io::Error,
    },
    /// The store could not be read.
    #[error("cannot tell which store the outbox {} belongs to: {source}", dir.display())]
    Store {
        /// The outbox.
        dir: PathBuf,
        /// The error.
        #[source]
        source: PortError,
    },
    /// The outbox holds mails another store sent: with this one, they would all be sent again.
    #[error(
        "the outbox {dir} holds {mails} mail(s) written for another store than {store} (the store was deleted, \
         emptied or replaced since): running on would mail those buyers again. Move the outbox away \
         (mv {dir} {dir}.old) to start a new one with this store, or run with a new --dir",
        dir = dir.display(),
        store = store.display()
    )]
    OtherStore {
        /// The outbox.
        dir: PathBuf,
        /// `.eml` files in it.
        mails: usize,
        /// The store's file.
        store: PathBuf,
    },
}

/// One mail the outbox wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    /// Its Message-ID (without angle brackets), as returned to the notifier.
    pub message_id: String,
    /// The file.
    pub path: PathBuf,
}

/// Writes mail to `<dir>/<UTC time>-<kind>-<marketplace>-<order id>.eml`.
#[derive(Debug)]
pub struct EmlOutbox {
    dir: PathBuf,
    written: Mutex<Vec<Written>>,
}

impl EmlOutbox {
    /// An outbox writing into `dir`, created if missing. Temporary files a crash left (older than
    /// a minute, so never one another process is writing) are removed.
    pub fn new(dir: impl Into<PathBuf>) -> io::Result<EmlOutbox> {
        let dir = dir.into();
        std::fs::create_dir_all(&dir)?;
        remove_leftovers(&dir)?;
        Ok(EmlOutbox { dir, written: Mutex::new(Vec::new()) })
    }

    /// The outbox of `store` in `dir`. The outbox records the store it is written for
    /// ([`SqliteStore::store_id`]) and refuses another one while it holds mails: a store deleted,
    /// emptied or replaced beside it has no ledger of those mails and would send them all again.
    /// An outbox from before the record, with mails in it, is taken over only by a store that has
    /// sent mail.
    pub fn for_store(dir: impl Into<PathBuf>, store: &SqliteStore) -> Result<EmlOutbox, OutboxError> {
        let dir = dir.into();
        let io_error = |source| OutboxError::Io { dir: dir.clone(), source };
        let outbox = EmlOutbox::new(&dir).map_err(io_error)?;
        let marker = dir.join(MARKER);
        let owner = match std::fs::read_to_string(&marker) {
            Ok(text) => Some(text.trim().to_string()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => return Err(io_error(e)),
        };
        if owner.as_deref() == Some(store.store_id()) {
            return Ok(outbox);
        }
        let mails = count_mails(&dir).map_err(io_error)?;
        if mails > 0 {
            let another = match owner {
                Some(_) => true,
                None => !store.has_mail_history().map_err(|source| OutboxError::Store { dir: dir.clone(), source })?,
            };
            if another {
                let store = store.path().map_or_else(|| PathBuf::from(":memory:"), Path::to_path_buf);
                return Err(OutboxError::OtherStore { dir, mails, store });
            }
        }
        let temp = dir.join(format!("{MARKER}.tmp"));
        std::fs::write(&temp, format!("{}\n", store.store_id()))
            .and_then(|()| std::fs::rename(&temp, &marker))
            .map_err(io_error)?;
        Ok(outbox)
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The mails this outbox wrote since it was made, in order.
    pub fn written(&self) -> Vec<Written> {
        self.written.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

/// Removes `.<name>.eml.tmp` files older than [`LEFTOVER_AGE`]: what a crash between writing a
/// mail and renaming it left behind.
fn remove_leftovers(dir: &Path) -> io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if !(name.starts_with('.') && name.ends_with(".eml.tmp")) {
            continue;
        }
        let old =
            entry.metadata().and_then(|m| m.modified()).is_ok_and(|t| t.elapsed().unwrap_or_default() >= LEFTOVER_AGE);
        if old {
            // Gone already (another process cleaning too) is as good.
            let _ = std::fs::remove_file(entry.path());
        }
    }
    Ok(())
}

/// The `.eml` files in `dir`.
fn count_mails(dir: &Path) -> io::Result<usize> {
    let mut n = 0;
    for entry in std::fs::read_dir(dir)? {
        n += usize::from(entry?.path().extension().is_some_and(|x| x == "eml"));
    }
    Ok(n)
}

/// `text` as a piece of a file name: ASCII letters, digits, `_` and `-`; anything else (path
/// separators above all) becomes `_`.
fn file_part(text: &str) -> String {
    let clean: String = text
        .chars()
        .take(80)
        .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '_' | '-') { c } else { '_' })
        .collect();
    if clean.is_empty() { "_".to_string() } else { clean }
}

/// `text` as a header name part or value: printable ASCII without spaces or colons, so a tag can
/// never break a header line.
fn header_part(text: &str) -> String {
    let clean: String =
        text.chars().take(200).map(|c| if c.is_ascii_graphic() && c != ':' { c } else { '_' }).collect();
    if clean.is_empty() { "_".to_string() } else { clean }
}

/// `thank_you` → `Thank-You`, for `X-Ichigen-*` header names.
fn header_name(tag: &str) -> String {
    header_part(tag)
        .split(['_', '-'])
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut chars = w.chars();
            chars.next().map(|c| c.to_ascii_uppercase().to_string() + chars.as_str()).unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join("-")
}

impl Mailer for EmlOutbox {
    async fn send(&self, mail: &OutgoingMail) -> Result<String, SendError> {
        let now = Utc::now();
        let tag = |name: &str| mail.tags.iter().find(|(n, _)| *n == name).map_or("", |(_, v)| v.as_str());
        let stamp = now.format("%Y%m%dT%H%M%S%6fZ").to_string();
        let name = format!(
            "{stamp}-{}-{}-{}.eml",
            file_part(tag("kind")),
            file_part(tag("marketplace")),
            file_part(tag("order_id"))
        );
        let domain = mail.from.rsplit_once('@').map_or("localhost", |(_, d)| d);
        let message_id = format!("{stamp}.{:016x}@{domain}", fastrand::u64(..));

        let to: Vec<&str> = mail.to.iter().map(String::as_str).collect();
        let mut message = MessageBuilder::new()
            .from(mail.from.as_str())
            .to(to)
            .subject(mail.subject.as_str())
            .date(Date::new(now.timestamp()))
            .message_id(message_id.as_str())
            .text_body(mail.text.as_str());
        if let Some(reply_to) = &mail.reply_to {
            message = message.reply_to(reply_to.as_str());
        }
        for (tag_name, value) in &mail.tags {
            message = message.header(format!("X-Ichigen-{}", header_name(tag_name)), Raw::new(header_part(value)));
        }
        let bytes = message.write_to_vec().map_err(|e| SendError::Unavailable(Box::new(e)))?;

        // Written whole under a hidden name, then renamed: a reader never sees half a mail, and a
        // crash leaves only a dot-file that no `*.eml` glob picks up.
        let path = self.dir.join(&name);
        let temp = self.dir.join(format!(".{name}.tmp"));
        std::fs::write(&temp, &bytes)
            .and_then(|()| std::fs::rename(&temp, &path))
            .map_err(|e| SendError::Unavailable(Box::new(e)))?;
        self.written.lock().unwrap_or_else(|p| p.into_inner()).push(Written { message_id: message_id.clone(), path });
        Ok(message_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_parts_cannot_leave_the_folder() {
        assert_eq!(file_part("../../etc/passwd"), "______etc_passwd");
        assert_eq!(file_part("123-20261127-0001"), "123-20261127-0001");
        assert_eq!(file_part(""), "_");
    }

    #[test]
    fn header_names_from_tags() {
        assert_eq!(header_name("order_id"), "Order-Id");
        assert_eq!(header_name("kind"), "Kind");
        assert_eq!(header_part("a b\r\nBcc: x"), "a_b__Bcc__x");
    }
}
