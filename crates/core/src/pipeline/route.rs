//! Which way a mail leaves, decided once: the shop's own sender (SES on AWS, the outbox on one
//! machine) or a marketplace's mail relay (楽天あんしんメルアドサービス's SMTP server, au PAY
//! マーケット's when a shop chooses it), and the relay's settings as the shop stores them with that
//! marketplace's credentials.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::order::{Marketplace, Order};

use super::mail::{MailKind, OutgoingMail, is_mail_address, marketplace_name};
use super::shop::ShopSettings;

/// Domains (and their subdomains) of masked buyer addresses that only their marketplace's relay
/// accepts: 楽天あんしんメルアドサービス hands shops `…@pc.fw.rakuten.ne.jp` (also seen:
/// `…@dm.fw.rakuten.ne.jp`); sent any other way they bounce (fact sheet rakuten-rms §13).
pub const MASKED_DOMAINS: [(&str, Marketplace); 1] = [("fw.rakuten.ne.jp", Marketplace::Rakuten)];

/// 楽天's relay host as two production clients configure it; the authoritative value is the one
/// R-Login shows (あんしんメルアドサービスメニュー → メールサーバ設定情報).
pub const RAKUTEN_RELAY_HOST: &str = "sub.fw.rakuten.ne.jp";
/// SMTP submission port (STARTTLS).
pub const SUBMISSION_PORT: u16 = 587;

/// The way one mail goes out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MailRoute {
    /// The shop's own sender: SESv2 on AWS, the `.eml` outbox on one machine.
    Shop,
    /// The marketplace's SMTP relay, with the shop's relay settings kept with its credentials.
    Relay(Marketplace),
}

impl MailRoute {
    /// The name in mail tags, outbox headers and logs: `shop`, `rakuten-relay`, `aupay-relay`.
    pub fn name(self) -> String {
        match self {
            MailRoute::Shop => "shop".to_string(),
            MailRoute::Relay(m) => format!("{m}-relay"),
        }
    }
}

impl fmt::Display for MailRoute {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

/// The marketplace whose relay alone accepts `address` (a masked buyer address), if any.
pub fn masked_by(address: &str) -> Option<Marketplace> {
    let domain = address.rsplit_once('@')?.1.trim().trim_end_matches('.').to_ascii_lowercase();
    MASKED_DOMAINS.iter().find_map(|(masked, m)| {
        (domain == *masked || domain.strip_suffix(masked).is_some_and(|rest| rest.ends_with('.'))).then_some(*m)
    })
}

/// The route of a `kind` mail about `order` to `recipients`, for `shop`. Staff mail always takes
/// the shop's route. A buyer mail takes a marketplace's relay when the recipient is masked by
/// it, when the order is 楽天's (its buyers' addresses are masked, and its relay wants the
/// RMS-registered From anyway), or when the shop chose the relay of the order's marketplace.
pub fn route_of(kind: MailKind, order: &Order, recipients: &[String], shop: &ShopSettings) -> MailRoute {
    if !kind.to_buyer() {
        return MailRoute::Shop;
    }
    if let Some(m) = recipients.iter().find_map(|r| masked_by(r)) {
        return MailRoute::Relay(m);
    }
    if order.marketplace == Marketplace::Rakuten || shop.relay_marketplaces.contains(&order.marketplace) {
        return MailRoute::Relay(order.marketplace);
    }
    MailRoute::Shop
}

/// Why a mail may not take the route it was given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RouteError {
    /// A masked address would reach the shop's own sender (SES): it would bounce, and bounces
    /// count against the whole account.
    #[error("a {0} masked buyer address must go through the {0} relay, never the shop's sender")]
    MaskedOnShopRoute(Marketplace),
}

/// Refuses a mail to a masked marketplace address on the shop's route.
pub fn check_route(route: MailRoute, mail: &OutgoingMail) -> Result<(), RouteError> {
    if route == MailRoute::Shop
        && let Some(m) = mail.to.iter().find_map(|r| masked_by(r))
    {
        return Err(RouteError::MaskedOnShopRoute(m));
    }
    Ok(())
}

/// A relay password: kept out of `Debug` and `Display`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RelayPassword(String);

impl RelayPassword {
    /// Wraps the password.
    pub fn new(password: impl Into<String>) -> Self {
        RelayPassword(password.into())
    }

    /// The password, for the SMTP AUTH exchange only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for RelayPassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RelayPassword(***)")
    }
}

/// A shop's settings for one marketplace's SMTP relay (SMTP submission with STARTTLS and AUTH).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RelaySettings {
    /// Server name (楽天: the one R-Login shows, usually [`RAKUTEN_RELAY_HOST`]).
    pub host: String,
    /// Port ([`SUBMISSION_PORT`]).
    pub port: u16,
    /// SMTP AUTH ID.
    pub auth_id: String,
    /// SMTP AUTH password.
    pub password: RelayPassword,
    /// The sender address registered with the marketplace (楽天: 店舗連絡先メールアドレス or
    /// 注文確認メール送り先メールアドレス in RMS); the relay refuses any other.
    pub from: String,
    /// Extra CA certificate (PEM) to trust for this server's STARTTLS, besides the public roots
    /// (a private relay, or the tests' own CA). Certificates are always verified.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_pem: Option<String>,
}

/// A relay setting that is not usable. Names the field, never its value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("mail relay: {field} {problem}")]
pub struct RelaySettingsError {
    /// The field.
    pub field: &'static str,
    /// What is wrong.
    pub problem: &'static str,
}

impl RelaySettings {
    /// Checks what typing cannot: filled fields, a plain host name, a port, a mail address.
    pub fn validate(&self) -> Result<(), RelaySettingsError> {
        let bad = |field, problem| Err(RelaySettingsError { field, problem });
        let host = self.host.trim();
        if host.is_empty() {
            return bad("host", "is empty");
        }
        if !host.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']')) {
            return bad("host", "is not a host name or IP address");
        }
        if self.port == 0 {
            return bad("port", "is not a port number");
        }
        if self.auth_id.trim().is_empty() {
            return bad("auth_id", "is empty");
        }
        if self.password.expose().is_empty() {
            return bad("password", "is empty");
        }
        if !is_mail_address(self.from.trim()) {
            return bad("from", "is not a mail address");
        }
        if self.ca_pem.as_deref().is_some_and(|pem| !pem.contains("-----BEGIN CERTIFICATE-----")) {
            return bad("ca_pem", "is not a PEM certificate");
        }
        Ok(())
    }
}

/// The staff notice that a marketplace's buyer mails are waiting for relay settings: one per
/// waiting spell, naming the first waiting order; fixed Japanese text (not a shop template).
pub fn waiting_notice(shop: &ShopSettings, marketplace: Marketplace, first_order: &str) -> OutgoingMail {
    let name = marketplace_name(marketplace);
    let how = match marketplace {
        Marketplace::Rakuten => format!(
            "R-Login →「あんしんメルアドサービスメニュー」→「メールサーバ設定情報」に表示される\n\
             SMTPサーバ名・SMTP AUTH ID・SMTP AUTH パスワードと、RMS に登録済みの送信元アドレス\n\
             （店舗連絡先メールアドレス または 注文確認メール送り先メールアドレス）を、\n\
             楽天の認証情報と一緒に保存してください（host は通常 {RAKUTEN_RELAY_HOST}、port は {SUBMISSION_PORT}）。\n\
             ※「新しいパスワード」を発行すると、他の送信ツールのメールも止まります。"
        ),
        _ => format!(
            "{name} の管理画面で確認できる送信サーバ（ホスト・ポート・認証ID・パスワード）と、\n\
             登録済みの送信元アドレスを、{name} の認証情報と一緒に保存してください。"
        ),
    };
    let text = format!(
        "{shop_name} の{name}のお客様へのメールが送信待ちになっています。\n\
         \n\
         {name}のお客様のメールアドレスは{name}のメール中継サーバ経由でしか届かないため、\n\
         中継サーバの設定が保存されるまで、サンクスメール・発送メールは送らずに保管しています。\n\
         （メールは失われていません。設定後、保管中のメールを1通ずつ、1回だけ送信します。）\n\
         \n\
         ■最初に保管した注文：{first_order}\n\
         \n\
         ■設定すること\n\
         {how}\n\
         \n\
         ■設定のしかた\n\
         AWS：SSM パラメータ（{marketplace} の認証情報）の JSON に \"mail_relay\" を追加（docs/DEPLOY.md 参照）\n\
         この PC：ichigen mail relay set --marketplace {marketplace} --file 設定.json\n\
         保存すると、次の{name}のメール送信時、または ichigen mail drain で、保管中のメールが送られます。\n",
        shop_name = shop.shop_name,
    );
    OutgoingMail {
        from: shop.mail_from.clone(),
        to: shop.staff_to.iter().map(|s| s.trim().to_string()).collect(),
        reply_to: None,
        subject: format!("[ichigen] {name}のお客様へのメールが送信待ちです（メール中継の設定が必要）"),
        text,
        tags: vec![
            ("kind", "relay_waiting".to_string()),
            ("marketplace", marketplace.as_str().to_string()),
            ("order_id", first_order.to_string()),
            ("route", MailRoute::Shop.name()),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masked_addresses_are_recognised_by_domain() {
        assert_eq!(masked_by("a1b2c3s1@pc.fw.rakuten.ne.jp"), Some(Marketplace::Rakuten));
        assert_eq!(masked_by("x@dm.fw.rakuten.ne.jp"), Some(Marketplace::Rakuten));
        assert_eq!(masked_by("x@FW.Rakuten.NE.JP"), Some(Marketplace::Rakuten));
        assert_eq!(masked_by("x@notfw.rakuten.ne.jp"), None);
        assert_eq!(masked_by("x@rakuten.ne.jp"), None);
        assert_eq!(masked_by("buyer@example.jp"), None);
        assert_eq!(masked_by("no-at-sign"), None);
    }

    #[test]
    fn relay_settings_errors_name_the_field_only() {
        let ok = RelaySettings {
            host: RAKUTEN_RELAY_HOST.into(),
            port: SUBMISSION_PORT,
            auth_id: "id".into(),
            password: RelayPassword::new("hidden-pw"),
            from: "shop@example.jp".into(),
            ca_pem: None,
        };
        assert_eq!(ok.validate(), Ok(()));
        assert!(!format!("{ok:?}").contains("hidden-pw"));
        let e = RelaySettings { from: "not an address".into(), ..ok.clone() }.validate().unwrap_err();
        assert_eq!(e.field, "from");
        let e = RelaySettings { host: "evil host\r\n".into(), ..ok.clone() }.validate().unwrap_err();
        assert_eq!(e.field, "host");
        let e = RelaySettings { password: RelayPassword::new(""), ..ok }.validate().unwrap_err();
        assert_eq!(e.field, "password");
    }
}
