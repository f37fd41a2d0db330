//! Staff digests: instead of one alert per held order, one mail per window (every N minutes, or
//! once a day) listing the orders held and the orders with a warn-level finding that came in
//! during the window, each with what a clerk needs to act on it from a phone. The shop chooses
//! with [`StaffAlerts`]; a schedule (on AWS) or `ichigen mail digest` (embedded) asks for it, and
//! the mail ledger makes each window's digest go out once.

use std::fmt::Write as _;

use chrono::{DateTime, FixedOffset, TimeDelta, Timelike};
use serde::{Deserialize, Serialize};

use super::mail::{MailKey, MailKind, OutgoingMail, staff_recipients, yen};
use super::notify::{Notified, Notifier, NotifyError};
use super::ports::{MailEvents, MailLedger, Mailer, OrderStore, ParkedMail, RelayMailers, ShopDirectory};
use super::shop::ShopSettings;
use super::stored::{OrderKey, StoredOrder};
use crate::finding::Severity;
use crate::japanese;
use crate::order::{Marketplace, OrderStatus};

/// Minutes in a day: a digest window divides it.
const DAY_MINUTES: u32 = 24 * 60;
/// Orders a digest lists by name; the rest are counted (a phone screen, not a report).
pub const DIGEST_MAX_LISTED: usize = 100;
/// How far back a digest looks for warn-level orders by order time (bounds the store query; an
/// order first stored later than this after it was placed is not a new order any more).
const WARN_LOOKBACK: TimeDelta = TimeDelta::days(7);
/// Characters of a remark quoted in a digest.
const REMARK_CHARS: usize = 60;

/// How a shop's staff hear of orders that need a person.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "snake_case", deny_unknown_fields)]
pub enum StaffAlerts {
    /// One alert per order, as soon as it is held.
    #[default]
    Each,
    /// One digest per window of `every_minutes` (15 to 1440, dividing the day; windows start at
    /// midnight JST, so 1440 is one mail a day for the day before).
    Digest {
        /// Window length in minutes.
        every_minutes: u32,
    },
}

impl StaffAlerts {
    /// Whether it is the default (kept out of stored settings).
    pub fn is_each(&self) -> bool {
        *self == StaffAlerts::Each
    }

    /// A digest every `minutes`, or why not.
    pub fn digest(minutes: u32) -> Result<StaffAlerts, String> {
        if !(15..=DAY_MINUTES).contains(&minutes) || minutes % 15 != 0 || DAY_MINUTES % minutes != 0 {
            return Err(format!(
                "まとめの間隔は15分〜1440分で、1日を割り切れる15分単位にしてください（15, 30, 60, 120, 180, 240, 360, 480, 720, 1440）/ \
                 a digest window is 15 to 1440 minutes, a multiple of 15 that divides the day (got {minutes})"
            ));
        }
        Ok(StaffAlerts::Digest { every_minutes: minutes })
    }
}

/// One digest's span: `[start, end)` in JST.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DigestWindow {
    /// First instant.
    pub start: DateTime<FixedOffset>,
    /// First instant after it.
    pub end: DateTime<FixedOffset>,
}

impl DigestWindow {
    /// The last window of `every_minutes` that has ended at `now` (windows start at midnight JST).
    pub fn last_closed(now: DateTime<FixedOffset>, every_minutes: u32) -> DigestWindow {
        let now = now.with_timezone(&crate::JST);
        let minute_of_day = now.hour() * 60 + now.minute();
        let into = i64::from(minute_of_day % every_minutes.max(1));
        let end = now - TimeDelta::minutes(into) - TimeDelta::seconds(i64::from(now.second()))
            + TimeDelta::nanoseconds(-i64::from(now.nanosecond()));
        DigestWindow { start: end - TimeDelta::minutes(i64::from(every_minutes)), end }
    }

    /// The ledger key of this window's digest for `shop_id`. The ledger is keyed by order; a
    /// digest belongs to none, so it takes an id no marketplace order has (`digest-…`), under
    /// the first marketplace's slot, as a staff alert.
    pub fn ledger_key(&self, shop_id: &str) -> MailKey {
        let order = OrderKey {
            shop_id: shop_id.to_string(),
            marketplace: Marketplace::Rakuten,
            order_id: format!("digest-{}", self.start.format("%Y%m%d%H%M")),
        };
        MailKey::once(order, MailKind::StaffAlert)
    }
}

/// What asking for a shop's digest did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Digested {
    /// The shop gets one alert per order.
    NotDigestMode,
    /// Nothing came in during the window: no mail.
    NothingNew,
    /// Sent now (or before, for a repeated request): the mail ledger's outcome and the counts.
    Done {
        /// Sent now, or found sent before.
        notified: Notified,
        /// Orders held that came in during the window.
        held: usize,
        /// Orders with a warn-level finding (not held) that came in during the window.
        warned: usize,
    },
}

/// What a digest lists.
#[derive(Debug, Default)]
struct Contents {
    held_new: Vec<StoredOrder>,
    warned_new: Vec<StoredOrder>,
    held_before: usize,
}

/// Sends `shop_id`'s digest of the last window closed at `now`, once (the ledger keeps a second
/// request from sending again), when the shop chose digests and something came in.
pub async fn send_digest<S, D, L, M, R>(
    notifier: &Notifier<S, D, L, M, R>,
    shop_id: &str,
    now: DateTime<FixedOffset>,
) -> Result<Digested, NotifyError>
where
    S: OrderStore,
    D: ShopDirectory,
    L: MailLedger + ParkedMail + MailEvents,
    M: Mailer,
    R: RelayMailers,
{
    let shop = notifier.shop_settings(shop_id, now).await?;
    let StaffAlerts::Digest { every_minutes } = shop.staff_alerts else { return Ok(Digested::NotDigestMode) };
    let window = DigestWindow::last_closed(now, every_minutes);
    let contents = contents(notifier.order_store(), shop_id, &window).await?;
    if contents.held_new.is_empty() && contents.warned_new.is_empty() {
        return Ok(Digested::NothingNew);
    }
    let mail = render_digest(&shop, &window, &contents)?;
    let notified = notifier.send_keyed(&window.ledger_key(shop_id), &mail, now).await?;
    Ok(Digested::Done { notified, held: contents.held_new.len(), warned: contents.warned_new.len() })
}

/// The orders of the window: held ones (and a count of those held before it), and open ones
/// with a warn-level finding, by when the processor stored them.
async fn contents<S: OrderStore>(store: &S, shop_id: &str, window: &DigestWindow) -> Result<Contents, NotifyError> {
    let in_window = |s: &StoredOrder| s.stored_at >= window.start && s.stored_at < window.end;
    let mut out = Contents::default();
    for s in store.list_by_status(shop_id, OrderStatus::OnHold, None, None).await? {
        if in_window(&s) { out.held_new.push(s) } else { out.held_before += 1 }
    }
    let since = Some(window.start - WARN_LOOKBACK);
    for status in [OrderStatus::New, OrderStatus::AwaitingPayment, OrderStatus::ReadyToShip] {
        for s in store.list_by_status(shop_id, status, since, Some(window.end)).await? {
            if in_window(&s) && s.findings.iter().any(|f| f.severity == Severity::Warn) {
                out.warned_new.push(s);
            }
        }
    }
    for list in [&mut out.held_new, &mut out.warned_new] {
        list.sort_by(|a, b| a.order.ordered_at.cmp(&b.order.ordered_at).then(a.order.order_id.cmp(&b.order.order_id)));
    }
    Ok(out)
}

/// The digest mail: for the shop's staff, so it shows names, places and remarks.
fn render_digest(shop: &ShopSettings, window: &DigestWindow, c: &Contents) -> Result<OutgoingMail, NotifyError> {
    let staff = staff_recipients(shop, MailKind::StaffAlert)?;
    let span = if window.end - window.start == TimeDelta::days(1) {
        format!("{}（1日分）", window.start.format("%m/%d"))
    } else {
        format!("{}〜{}", window.start.format("%m/%d %H:%M"), window.end.format("%H:%M"))
    };
    let subject =
        format!("[ichigen] 要確認の注文まとめ {span}：保留 {}件・注意 {}件", c.held_new.len(), c.warned_new.len());
    let mut text = format!("{} の {span} に入った、確認が必要な注文のまとめです。\n", shop.shop_name);
    let mut listed = 0;
    for (title, list, held) in [
        ("保留した注文（出荷もお客様へのメールも止めています）", &c.held_new, true),
        ("注意のある注文（保留はしていません。念のためご確認ください）", &c.warned_new, false),
    ] {
        if list.is_empty() {
            continue;
        }
        let _ = write!(text, "\n■{title}：{}件\n", list.len());
        let room = DIGEST_MAX_LISTED - listed.min(DIGEST_MAX_LISTED);
        for s in list.iter().take(room) {
            entry(&mut text, s, held);
        }
        listed += list.len().min(room);
        if list.len() > room {
            let _ = write!(text, "\n（ほか {}件は ichigen orders list で確認できます）\n", list.len() - room);
        }
    }
    if c.held_before > 0 {
        let _ = write!(
            text,
            "\n■この時間より前から保留中の注文がほかに {}件あります（ichigen orders list --status on_hold）\n",
            c.held_before
        );
    }
    Ok(OutgoingMail {
        from: shop.mail_from.clone(),
        to: staff,
        reply_to: None,
        subject,
        text,
        tags: vec![("kind", "staff_digest".to_string())],
    })
}

/// One order of a digest: a few lines a clerk reads on a phone.
fn entry(text: &mut String, s: &StoredOrder, held: bool) {
    let o = &s.order;
    let prefecture = o.ship_to.prefecture.as_str();
    let _ = write!(
        text,
        "\n【{}】{}（{}）\n　{} 様／{}／{}・{}／合計 {}\n",
        japanese::marketplace_name(o.marketplace),
        o.order_id,
        o.ordered_at.with_timezone(&crate::JST).format("%m/%d %H:%M"),
        o.buyer.name,
        if prefecture.is_empty() { "都道府県なし" } else { prefecture },
        japanese::payment_method(o.payment_method, o.marketplace),
        japanese::delivery_method(o.delivery.method),
        yen(o.totals.total),
    );
    for f in s.findings.iter().filter(|f| f.severity != Severity::Info) {
        let _ = writeln!(text, "　・{}：{}", japanese::severity(f.severity), f.message);
    }
    if let super::stored::StaffDecision::Held { reason, .. } = &s.staff {
        let _ = writeln!(text, "　・保留（スタッフ）：{reason}");
    }
    let remarks = o.remarks.trim();
    if !remarks.is_empty() {
        let short: String = remarks.chars().take(REMARK_CHARS).collect();
        let more = if remarks.chars().count() > REMARK_CHARS { "…" } else { "" };
        let _ = writeln!(text, "　備考：{}{more}", short.replace(['\r', '\n'], " "));
    }
    if held {
        let _ = writeln!(text, "　解除：ichigen orders release {}/{}", o.marketplace, o.order_id);
    }
}
