//! A tracking file dropped in the shop's import place (on AWS, the import bucket under
//! `imports/<shop id>/`): read it, run the same tracking import as `ichigen tracking import`
//! ([`import_tracking`]: all rows or none), and tell the shop's staff by mail what it did —
//! once per drop, however often the drop is delivered.

use std::fmt::Write as _;

use chrono::{DateTime, FixedOffset};
use sha2::{Digest, Sha256};

use super::mail::{MailKey, MailKind, OutgoingMail, staff_recipients};
use super::notify::{Notified, Notifier, NotifyError};
use super::ports::{MailEvents, MailLedger, Mailer, OrderStore, ParkedMail, PortError, RelayMailers, ShopDirectory};
use super::shipping::{Recorded, ShipError, TrackingWrites};
use super::shop::ShopSettings;
use super::stored::OrderKey;
use super::tracking::{ImportReport, import_tracking};
use crate::japanese;
use crate::labels::issued::{self, IssuedError, IssuedFormat};
use crate::order::Marketplace;
use crate::stock::StockStore;

/// Where a shop's files go: `imports/<shop id>/<file name>`.
pub const IMPORT_PREFIX: &str = "imports/";
/// The largest file read (a day's issued-label export is a few hundred kB at most).
pub const MAX_IMPORT_BYTES: u64 = 10 * 1024 * 1024;
/// Rows a result mail names one by one; the rest are counted.
const LISTED_ROWS: usize = 100;

/// One file that landed in the import place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DroppedFile {
    /// The bucket (or folder) it is in.
    pub bucket: String,
    /// Its key, decoded (`imports/<shop id>/<name>`).
    pub key: String,
    /// Its content hash as the store reports it, when known.
    pub etag: Option<String>,
    /// The store's order of writes to this key (S3's `sequencer`), when known: a new upload of
    /// the same name has a new one.
    pub sequencer: Option<String>,
}

impl DroppedFile {
    /// The shop its key names (`imports/<shop id>/<name>`, the name not empty).
    pub fn shop_id(&self) -> Option<&str> {
        let rest = self.key.strip_prefix(IMPORT_PREFIX)?;
        let (shop, name) = rest.split_once('/')?;
        (!shop.is_empty() && !name.is_empty() && !name.ends_with('/')).then_some(shop)
    }

    /// The file's name, as staff gave it (the key after the shop's folder).
    pub fn name(&self) -> &str {
        self.key.strip_prefix(IMPORT_PREFIX).and_then(|r| r.split_once('/')).map_or(&self.key, |(_, name)| name)
    }

    /// The mail ledger key of this drop's result mail: the same drop delivered again finds it,
    /// a new upload (another sequencer or content) does not. The ledger is keyed by order; like
    /// a staff digest, the mail takes an id no marketplace order has (`import-…`).
    pub fn ledger_key(&self, shop_id: &str) -> MailKey {
        let mut hash = Sha256::new();
        for part in [
            self.bucket.as_str(),
            &self.key,
            self.etag.as_deref().unwrap_or(""),
            self.sequencer.as_deref().unwrap_or(""),
        ] {
            hash.update(part.as_bytes());
            hash.update([0]);
        }
        let digest: String = hash.finalize().iter().take(16).map(|b| format!("{b:02x}")).collect();
        let order = OrderKey {
            shop_id: shop_id.to_string(),
            marketplace: Marketplace::Rakuten,
            order_id: format!("import-{digest}"),
        };
        MailKey::once(order, MailKind::StaffAlert)
    }
}

/// What reading a dropped file found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileRead {
    /// Its bytes.
    Bytes(Vec<u8>),
    /// No such file any more (deleted before it was read).
    Missing,
    /// Larger than the limit asked for: its size in bytes.
    TooLarge(u64),
}

/// Reads the files dropped in the import place.
pub trait DroppedFiles: Send + Sync {
    /// The bytes of `file`, unless it is gone or larger than `max_bytes`.
    fn read(&self, file: &DroppedFile, max_bytes: u64) -> impl Future<Output = Result<FileRead, PortError>> + Send;
}

/// What handling a drop did.
#[derive(Debug, Clone, PartialEq)]
pub enum Dropped {
    /// The file was read and imported (or, with problem rows, nothing applied); staff told.
    Imported {
        /// The file's format.
        format: IssuedFormat,
        /// What the import did.
        report: ImportReport,
        /// The result mail: sent now, or before for a redelivered drop.
        mail: Notified,
    },
    /// The file could not be read as any format (or is too large); staff told why.
    Unreadable {
        /// Why, in Japanese.
        reason: String,
        /// The mail.
        mail: Notified,
    },
    /// The file was gone before it was read: nothing to do.
    Missing,
}

/// Why a drop could not be handled.
#[derive(Debug, thiserror::Error)]
pub enum DropError {
    /// The key is not under `imports/<shop id>/`: nobody to tell. Permanent.
    #[error("key is not imports/<shop id>/<file name>")]
    NotAShopFile,
    /// The folder names no configured shop. Permanent.
    #[error("shop {0} is not configured")]
    UnknownShop(String),
    /// Reading the file failed.
    #[error("reading the file: {0}")]
    Read(#[source] PortError),
    /// Recording the numbers failed (a store failure, or an order that changed under the import:
    /// the next try checks every row again and reports what no longer fits).
    #[error("importing: {0}")]
    Import(#[from] ShipError),
    /// The result mail could not be sent.
    #[error("mailing staff: {0}")]
    Notify(#[from] NotifyError),
}

impl DropError {
    /// Whether the same drop may succeed when delivered again.
    pub fn is_retryable(&self) -> bool {
        match self {
            DropError::NotAShopFile | DropError::UnknownShop(_) => false,
            DropError::Read(e) => e.retryable,
            DropError::Import(_) => true,
            DropError::Notify(e) => e.is_retryable(),
        }
    }
}

/// Handles one dropped file at `now`: the shop from its folder, the format from its name's suffix
/// or its content (as `ichigen tracking import` tells it), the import all or nothing (moving the
/// shipped orders' units out of `stock`), and one
/// mail to the shop's staff with the result. A redelivered drop changes nothing (the import finds
/// every number recorded) and mails nothing again (the ledger).
pub async fn import_dropped<S, D, L, M, R, F, K>(
    notifier: &Notifier<S, D, L, M, R>,
    files: &F,
    stock: &K,
    file: &DroppedFile,
    now: DateTime<FixedOffset>,
) -> Result<Dropped, DropError>
where
    S: OrderStore + TrackingWrites,
    D: ShopDirectory,
    L: MailLedger + ParkedMail + MailEvents,
    M: Mailer,
    R: RelayMailers,
    F: DroppedFiles,
    K: StockStore,
{
    let shop_id = file.shop_id().ok_or(DropError::NotAShopFile)?;
    let shop = match notifier.shop_settings(shop_id, now).await {
        Ok(shop) => shop,
        Err(NotifyError::UnknownShop(_)) => return Err(DropError::UnknownShop(shop_id.to_string())),
        Err(e) => return Err(e.into()),
    };
    let bytes = match files.read(file, MAX_IMPORT_BYTES).await.map_err(DropError::Read)? {
        FileRead::Bytes(bytes) => bytes,
        FileRead::Missing => return Ok(Dropped::Missing),
        FileRead::TooLarge(size) => {
            let reason = format!(
                "ファイルが大きすぎます({size}バイト。上限は{}MBです)。分けて置いてください",
                MAX_IMPORT_BYTES / 1024 / 1024
            );
            return unreadable(notifier, &shop, file, reason, now).await;
        }
    };
    let (format, rows, problems) = match issued::read(&bytes, IssuedFormat::from_file_name(file.name())) {
        Ok(read) => read,
        Err(e) => return unreadable(notifier, &shop, file, read_reason(&e), now).await,
    };
    let report = import_tracking(notifier.order_store(), stock, shop_id, &rows, problems, now).await?;
    let mail = result_mail(&shop, file, format, &report)?;
    let mail = notifier.send_keyed(&file.ledger_key(shop_id), &mail, now).await?;
    Ok(Dropped::Imported { format, report, mail })
}

/// Tells staff the file could not be read.
async fn unreadable<S, D, L, M, R>(
    notifier: &Notifier<S, D, L, M, R>,
    shop: &ShopSettings,
    file: &DroppedFile,
    reason: String,
    now: DateTime<FixedOffset>,
) -> Result<Dropped, DropError>
where
    S: OrderStore,
    D: ShopDirectory,
    L: MailLedger + ParkedMail + MailEvents,
    M: Mailer,
    R: RelayMailers,
{
    let subject = format!("[ichigen] 伝票番号ファイルを読めませんでした：{}", one_line(file.name()));
    let text = format!(
        "{} の取り込みフォルダに置かれたファイルを読めなかったため、伝票番号は1件も登録していません。\n\n\
         ファイル：{}\n理由：{reason}\n\n\
         直したファイルをもう一度置いてください。\n",
        shop.shop_name, file.key
    );
    let mail = staff_mail(shop, subject, text)?;
    let mail = notifier.send_keyed(&file.ledger_key(&shop.shop_id), &mail, now).await?;
    Ok(Dropped::Unreadable { reason, mail })
}

/// Why a file could not be read, with what to do about it in the bucket (not the CLI's flag).
fn read_reason(e: &IssuedError) -> String {
    match e {
        IssuedError::Unknown => {
            let codes: Vec<&str> = IssuedFormat::ALL.iter().map(|f| f.code()).collect();
            format!(
                "どのソフトの出力か判別できません。ファイル名の拡張子の前に形式を付けてください(例: 2026-12-01.b2.csv。形式は {})",
                codes.join(" / ")
            )
        }
        other => other.to_string(),
    }
}

/// The result of an import, for staff: counts, and each row that kept the file from applying.
fn result_mail(
    shop: &ShopSettings,
    file: &DroppedFile,
    format: IssuedFormat,
    report: &ImportReport,
) -> Result<OutgoingMail, NotifyError> {
    let name = one_line(file.name());
    let mut text = String::new();
    let subject = if report.applied {
        let _ = write!(
            text,
            "{} の取り込みフォルダに置かれたファイルの伝票番号を取り込みました。\n\n\
             ファイル：{}\n形式：{}\n新たに出荷済にした荷物：{}件\n登録済みで変更なし：{}件\n",
            shop.shop_name,
            file.key,
            format.name(),
            report.shipped(),
            report.unchanged()
        );
        if report.shipped() > 0 {
            text.push_str(
                "\n出荷済にした荷物の伝票番号は、次回の受注取り込みのときに各モールへ登録されます。\
                 モールが受け付けたあと、お客様へ発送メールが送られます(Amazonの注文を除く)。\n\n■出荷済にした荷物\n",
            );
            let shipped: Vec<_> = report.matched.iter().filter(|m| m.outcome == Recorded::Shipped).collect();
            for m in shipped.iter().take(LISTED_ROWS) {
                let _ = writeln!(
                    text,
                    "{}行目：【{}】{}(送付先{})：{} {}",
                    m.line,
                    japanese::marketplace_name(m.order.marketplace),
                    m.order.order_id,
                    m.destination,
                    japanese::carrier_name(m.tracking.carrier),
                    m.tracking.number
                );
            }
            more(&mut text, shipped.len());
        }
        format!("[ichigen] 伝票番号を取り込みました：{name}(出荷済 {}件)", report.shipped())
    } else {
        let _ = write!(
            text,
            "{} の取り込みフォルダに置かれたファイルに、照合できないか正しくない行が{}行あったため、\
             どの伝票番号も登録していません(一部だけの登録はしません)。\n\n\
             ファイル：{}\n形式：{}\n照合できた行：{}行(登録はしていません)\n\n■直す必要のある行\n",
            shop.shop_name,
            report.problems.len(),
            file.key,
            format.name(),
            report.matched.len()
        );
        for p in report.problems.iter().take(LISTED_ROWS) {
            let _ = writeln!(text, "{}行目：{}", p.line, p.reason);
        }
        more(&mut text, report.problems.len());
        text.push_str("\n直したファイルをもう一度置いてください。\n");
        format!("[ichigen] 伝票番号を取り込めませんでした：{name}(要修正 {}行)", report.problems.len())
    };
    staff_mail(shop, subject, text)
}

/// "…ほか N件" after a list cut at [`LISTED_ROWS`].
fn more(text: &mut String, total: usize) {
    if total > LISTED_ROWS {
        let _ = writeln!(text, "(ほか {}件)", total - LISTED_ROWS);
    }
}

/// A mail to the shop's staff from the shop's sender.
fn staff_mail(shop: &ShopSettings, subject: String, text: String) -> Result<OutgoingMail, NotifyError> {
    Ok(OutgoingMail {
        from: shop.mail_from.clone(),
        to: staff_recipients(shop, MailKind::StaffAlert)?,
        reply_to: None,
        subject,
        text,
        tags: vec![("kind", "tracking_import".to_string()), ("shop", shop.shop_id.clone())],
    })
}

/// A file name fit for a subject: control characters (a line break would inject a header) dropped.
fn one_line(name: &str) -> String {
    name.chars().filter(|c| !c.is_control()).collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn file(key: &str, sequencer: Option<&str>) -> DroppedFile {
        DroppedFile {
            bucket: "b".into(),
            key: key.into(),
            etag: Some("e".into()),
            sequencer: sequencer.map(str::to_string),
        }
    }

    #[test]
    fn the_folder_names_the_shop() {
        assert_eq!(file("imports/shop-1/2026-12-01.b2.csv", None).shop_id(), Some("shop-1"));
        assert_eq!(file("imports/shop-1/a/b.csv", None).name(), "a/b.csv");
        for key in ["imports/shop-1/", "imports//x.csv", "imports/x.csv", "other/shop-1/x.csv", "imports/s/d/"] {
            assert_eq!(file(key, None).shop_id(), None, "{key}");
        }
    }

    #[test]
    fn a_redelivery_keeps_its_ledger_key_and_a_new_upload_does_not() {
        let a = file("imports/s/x.csv", Some("0A"));
        assert_eq!(a.ledger_key("s"), a.clone().ledger_key("s"));
        assert_ne!(a.ledger_key("s"), file("imports/s/x.csv", Some("0B")).ledger_key("s"));
        assert_ne!(a.ledger_key("s"), file("imports/s/y.csv", Some("0A")).ledger_key("s"));
        assert!(a.ledger_key("s").order.order_id.starts_with("import-"));
    }

    #[test]
    fn subjects_stay_one_line() {
        assert_eq!(one_line("a\r\nBcc: x.csv"), "aBcc: x.csv");
    }
}
