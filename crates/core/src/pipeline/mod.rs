//! The order pipeline without I/O: port traits, the stored records, mail rendering, and the
//! three use cases the Lambdas (and the local demo) run — pull, process, notify — plus the staff
//! actions. Adapters live in `ichigen-aws` and `ichigen-local`.

pub mod acknowledge;
pub mod bounce;
pub mod bundle;
pub mod cache;
pub mod consume;
pub mod credentials;
pub mod digest;
pub mod dropped;
mod forward;
pub mod holdings;
pub mod mail;
pub mod memory;
pub mod notify;
pub mod ports;
pub mod process;
pub mod pull;
pub mod route;
pub mod shipping;
pub mod shop;
pub mod source;
pub mod staff;
pub mod stock_push;
pub mod stock_staff;
pub mod stored;
pub mod template_check;
pub mod tracking;

pub use acknowledge::{AckWrite, Acknowledgement};
pub use bounce::{MailEvent, MailEventKind};
pub use consume::{Consumed, MessageFailure, consume_batch};
pub use credentials::{
    CREDENTIAL_WARN_DAYS, CheckReport, ExpiryRecord, ExpiryRecords, KnownExpiry, StaffNotices, check_credentials,
};
pub use digest::{DigestWindow, Digested, StaffAlerts, send_digest};
pub use dropped::{DropError, Dropped, DroppedFile, DroppedFiles, FileRead, import_dropped};
pub use holdings::NoStock;
pub use mail::{MailJob, MailKey, MailKind, OutgoingMail, RenderError};
pub use notify::{Drained, NoRelays, Notified, Notifier, NotifyError, QueueSent};
pub use ports::{
    BoxError, Claim, Consumer, Delivery, MailEvents, MailLedger, MailQueue, Mailer, OrderQueue, OrderStore, ParkedMail,
    PortError, Quarantine, Queue, Rejected, RelayDirectory, RelayMailers, Retryable, SendError, ShopDirectory,
    WatermarkStore, Written,
};
pub use process::{Change, ProcessError, ProcessSettings, Processed, Processor};
pub use pull::{PullError, PullReport, PullSettings, Puller};
pub use route::{MailRoute, RelayPassword, RelaySettings, RelaySettingsError};
pub use shipping::{
    FailedWrite, ParcelShipping, PendingWrites, Printed, Recorded, ShipError, ShipState, TrackingWrite, TrackingWrites,
};
pub use shop::{CarrierAccounts, DEFAULT_SHIP_LEAD_DAYS, MailTemplate, ShopContact, ShopSettings};
pub use source::{
    Acknowledged, CredentialHealth, CredentialUpdate, KnownVersions, OrderPage, OrderSource, Pulled, Window, is_known,
    pull_window,
};
pub use staff::{Decided, Decision, NotifierQueue, StaffError, StaffMail};
pub use stock_push::{DecideError, NoPush, PairStock, StockPush, StockReport, accept_drift, force_push};
pub use stored::{OrderKey, PendingWindow, StaffDecision, StoredOrder, Watermark};
