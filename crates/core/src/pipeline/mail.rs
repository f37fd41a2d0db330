//! Mail jobs, the mail ledger key, and rendering a mail from the shop's templates (Japanese
//! defaults built in).

use minijinja::{Environment, UndefinedBehavior};
use serde::{Deserialize, Serialize};

use crate::marketplace::Policies;

use super::shop::ShopSettings;
use super::stored::{OrderKey, StoredOrder};

mod context;

pub use context::VARIABLES;

/// The kinds of mail ichigen sends; at most one of each per order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MailKind {
    /// サンクスメール to the buyer.
    ThankYou,
    /// 発送完了メール with tracking, to the buyer.
    Shipping,
    /// Alert to the shop's staff: the order is held.
    StaffAlert,
    /// 入金確認メール to a buyer who paid in advance (bank transfer, convenience store): the
    /// payment arrived and the order goes to shipping.
    PaymentReceived,
}

impl MailKind {
    /// Every kind.
    pub const ALL: [MailKind; 4] =
        [MailKind::ThankYou, MailKind::Shipping, MailKind::StaffAlert, MailKind::PaymentReceived];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            MailKind::ThankYou => "thank_you",
            MailKind::Shipping => "shipping",
            MailKind::StaffAlert => "staff_alert",
            MailKind::PaymentReceived => "payment_received",
        }
    }

    /// Whether it goes to the buyer (and so never for Amazon orders).
    pub fn to_buyer(self) -> bool {
        !matches!(self, MailKind::StaffAlert)
    }
}

impl std::fmt::Display for MailKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for MailKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        MailKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| format!("unknown mail kind {s:?} (thank_you, shipping, staff_alert, payment_received)"))
    }
}

/// One message on the mail queue: which order, which mail. The notifier reads the order from
/// the store, so no personal data travels on the queue.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MailJob {
    /// The order.
    #[serde(flatten)]
    pub order: OrderKey,
    /// The mail.
    pub kind: MailKind,
}

/// The mail ledger key: one entry per (order, kind), and for a staff alert per hold episode too,
/// so an order held a second time alerts staff again while a buyer mail still goes out once.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MailKey {
    /// The order.
    pub order: OrderKey,
    /// The mail.
    pub kind: MailKind,
    /// [`StoredOrder::hold_episode`] for a staff alert; 0 for buyer mails (and for the alerts of
    /// orders stored before episodes were counted).
    pub episode: u32,
}

impl MailKey {
    /// The entry `job` takes for the order as stored now.
    pub fn of(job: &MailJob, stored: &StoredOrder) -> MailKey {
        let episode = if job.kind == MailKind::StaffAlert { stored.hold_episode } else { 0 };
        MailKey { order: job.order.clone(), kind: job.kind, episode }
    }

    /// The entry of a buyer mail (or of an alert of episode 0).
    pub fn once(order: OrderKey, kind: MailKind) -> MailKey {
        MailKey { order, kind, episode: 0 }
    }
}

/// A rendered mail, ready for the mail service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingMail {
    /// Sender address.
    pub from: String,
    /// Recipients.
    pub to: Vec<String>,
    /// Reply-To address (buyer mails of a shop that chose one); `None`: replies go to `from`.
    pub reply_to: Option<String>,
    /// One line, Japanese.
    pub subject: String,
    /// Plain text, UTF-8.
    pub text: String,
    /// Tags for the mail service's event stream (kind, marketplace, order id): no personal data.
    pub tags: Vec<(&'static str, String)>,
}

/// Why a mail could not be made. Messages name the template or field, never its values.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// The shop's template does not render.
    #[error("{kind} template of shop {shop_id}: {detail}")]
    Template {
        /// Which mail.
        kind: MailKind,
        /// Which shop.
        shop_id: String,
        /// minijinja's error (names the template line and the undefined variable).
        detail: String,
    },
    /// The rendered subject holds a line break or control character (header injection).
    #[error("{kind} subject of shop {shop_id} is not one line of text")]
    Subject {
        /// Which mail.
        kind: MailKind,
        /// Which shop.
        shop_id: String,
    },
    /// No usable recipient address.
    #[error("{kind} mail: {who} e-mail address is missing or not a valid address")]
    Recipient {
        /// Which mail.
        kind: MailKind,
        /// `buyer` or `staff`.
        who: &'static str,
    },
    /// The sender address is not a valid address.
    #[error("shop {shop_id}: mail_from is not a valid address")]
    Sender {
        /// Which shop.
        shop_id: String,
    },
}

const DEFAULTS: [(MailKind, &str, &str); 4] = [
    (MailKind::ThankYou, include_str!("templates/thank_you.subject.j2"), include_str!("templates/thank_you.body.j2")),
    (MailKind::Shipping, include_str!("templates/shipping.subject.j2"), include_str!("templates/shipping.body.j2")),
    (
        MailKind::StaffAlert,
        include_str!("templates/staff_alert.subject.j2"),
        include_str!("templates/staff_alert.body.j2"),
    ),
    (
        MailKind::PaymentReceived,
        include_str!("templates/payment_received.subject.j2"),
        include_str!("templates/payment_received.body.j2"),
    ),
];

/// The built-in Japanese template of `kind`: (subject, body).
pub fn default_template(kind: MailKind) -> (&'static str, &'static str) {
    DEFAULTS.iter().find(|(k, ..)| *k == kind).map(|(_, s, b)| (*s, *b)).unwrap_or(("", ""))
}

pub use crate::japanese::{carrier_name, marketplace_name};

/// Renders `kind` for `stored` with the shop's template (or the default). `policies` say what
/// releasing a held order will send (a staff alert tells it).
pub fn render(
    kind: MailKind,
    shop: &ShopSettings,
    stored: &StoredOrder,
    policies: &Policies,
) -> Result<OutgoingMail, RenderError> {
    let order = &stored.order;
    let (subject, text) = render_text(kind, shop, stored, policies)?;
    if !is_mail_address(&shop.mail_from) {
        return Err(RenderError::Sender { shop_id: shop.shop_id.clone() });
    }
    let to = if kind.to_buyer() {
        let email = order.buyer.email.as_deref().unwrap_or("").trim();
        if !is_mail_address(email) {
            return Err(RenderError::Recipient { kind, who: "buyer" });
        }
        vec![email.to_string()]
    } else {
        staff_recipients(shop, kind)?
    };
    // Buyers' answers go where the shop chose; staff alerts need no Reply-To.
    let reply_to =
        shop.reply_to.as_deref().map(str::trim).filter(|r| kind.to_buyer() && is_mail_address(r)).map(str::to_string);
    Ok(OutgoingMail {
        from: shop.mail_from.clone(),
        to,
        reply_to,
        subject,
        text,
        // An order id is the marketplace's reference, not personal data: it lets a bounce event or
        // an outbox file be traced back to its order.
        tags: vec![
            ("kind", kind.as_str().to_string()),
            ("marketplace", order.marketplace.as_str().to_string()),
            ("order_id", order.order_id.clone()),
        ],
    })
}

/// The shop's staff addresses, trimmed; refused when there is none or one is not an address.
pub(crate) fn staff_recipients(shop: &ShopSettings, kind: MailKind) -> Result<Vec<String>, RenderError> {
    let staff: Vec<String> = shop.staff_to.iter().map(|s| s.trim().to_string()).collect();
    if staff.is_empty() || !staff.iter().all(|s| is_mail_address(s)) {
        return Err(RenderError::Recipient { kind, who: "staff" });
    }
    Ok(staff)
}

/// The subject (one line) and body of `kind` for `stored`, from the shop's template or the
/// default: what [`render`] sends, without the addresses. Template checks use it too.
pub fn render_text(
    kind: MailKind,
    shop: &ShopSettings,
    stored: &StoredOrder,
    policies: &Policies,
) -> Result<(String, String), RenderError> {
    let (subject_src, body_src) = match shop.templates.get(&kind) {
        Some(t) => (t.subject.as_str(), t.body.as_str()),
        None => default_template(kind),
    };
    render_sources(kind, shop, stored, policies, subject_src, body_src)
}

/// Renders the given subject and body templates of `kind` for `stored`.
pub fn render_sources(
    kind: MailKind,
    shop: &ShopSettings,
    stored: &StoredOrder,
    policies: &Policies,
    subject_src: &str,
    body_src: &str,
) -> Result<(String, String), RenderError> {
    let template_error = |detail: String| RenderError::Template { kind, shop_id: shop.shop_id.clone(), detail };
    let mut env = Environment::new();
    // A typo in a shop's template must fail that mail, not print an empty gap to the buyer.
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_keep_trailing_newline(true);
    env.add_filter("yen", yen);
    env.add_template("subject", subject_src).map_err(|e| template_error(describe(&e, &[])))?;
    env.add_template("body", body_src).map_err(|e| template_error(describe(&e, &[])))?;
    let ctx = context::context(shop, stored, policies);
    let mut out = Vec::with_capacity(2);
    for name in ["subject", "body"] {
        let template = env.get_template(name).map_err(|e| template_error(describe(&e, &[])))?;
        match template.render(&ctx) {
            Ok(text) => out.push(text),
            Err(e) => {
                let unknown = undefined_names(&template.undeclared_variables(true), &ctx);
                return Err(template_error(describe(&e, &unknown)));
            }
        }
    }
    let (subject, text) = (out.remove(0), out.remove(0));
    let subject = subject.trim().to_string();
    if subject.is_empty() || subject.chars().any(char::is_control) {
        return Err(RenderError::Subject { kind, shop_id: shop.shop_id.clone() });
    }
    Ok((subject, normalise_newlines(&text)))
}

/// The variables of `template` that name nothing in the context (`shop.nmae`, `oder_id`), also
/// in branches not taken: a typo is found before it meets the order that takes the branch.
pub fn unknown_variables(shop: &ShopSettings, stored: &StoredOrder, policies: &Policies, source: &str) -> Vec<String> {
    let env = Environment::new();
    let Ok(template) = env.template_from_str(source) else { return Vec::new() };
    undefined_names(&template.undeclared_variables(true), &context::context(shop, stored, policies))
}

/// Those of the dotted `names` that do not resolve in `ctx`, sorted.
fn undefined_names(names: &std::collections::HashSet<String>, ctx: &minijinja::Value) -> Vec<String> {
    let mut out: Vec<String> = names
        .iter()
        .filter(|name| {
            let mut v = ctx.clone();
            for part in name.split('.') {
                match v.get_attr(part) {
                    Ok(next) if !next.is_undefined() => v = next,
                    _ => return true,
                }
            }
            false
        })
        .cloned()
        .collect();
    out.sort();
    out
}

/// `1980` → `1,980円`.
pub(crate) fn yen(v: i64) -> String {
    let digits = v.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + 5);
    if v < 0 {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out.push('円');
    out
}

/// minijinja's message with the template line and the variables that name nothing, without
/// the rendered values.
fn describe(e: &minijinja::Error, unknown: &[String]) -> String {
    let what = match e.detail() {
        Some(detail) if e.kind() == minijinja::ErrorKind::SyntaxError => format!("{}: {detail}", e.kind()),
        _ => e.kind().to_string(),
    };
    let vars = if unknown.is_empty() { String::new() } else { format!(": {}", unknown.join(", ")) };
    match (e.name(), e.line()) {
        (Some(name), Some(line)) => format!("{what}{vars} ({name} line {line})"),
        _ => format!("{what}{vars}"),
    }
}

fn normalise_newlines(text: &str) -> String {
    text.replace("\r\n", "\n").replace('\r', "\n")
}

/// A plausible single mailbox: `local@domain.tld`, no spaces, controls or angle brackets. The
/// mail service does the real check; this keeps header tricks and empty fields out.
pub fn is_mail_address(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else { return false };
    !local.is_empty()
        && local.len() <= 64
        && domain.len() <= 253
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
        && s.chars().all(|c| !c.is_control() && !c.is_whitespace() && !matches!(c, '<' | '>' | ',' | ';' | '"'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yen_groups_thousands() {
        assert_eq!(yen(0), "0円");
        assert_eq!(yen(980), "980円");
        assert_eq!(yen(1980), "1,980円");
        assert_eq!(yen(1234567), "1,234,567円");
        assert_eq!(yen(-5000), "-5,000円");
    }

    #[test]
    fn mail_addresses() {
        assert!(is_mail_address("shop@example.jp"));
        assert!(!is_mail_address("shop@example"));
        assert!(!is_mail_address("a b@example.jp"));
        assert!(!is_mail_address("x@example.jp\r\nBcc: y@example.jp"));
        assert!(!is_mail_address(""));
    }
}
