//! `X-SWS-Authorize-Status`: whether the public-key authentication (公開鍵認証) of a call worked,
//! and what that means for the refresh token's life.
//!
//! Fact sheet §3.1–§3.2: with working public-key auth a refresh token lives 28 days; without it (no
//! signature, an expired / unknown / disabled key) only 12 hours, after which a person must
//! authorize the store again. Every order-API response reports the outcome in this header;
//! anything but `authorized` means the call ran without key authentication. The client keeps the
//! latest value and an estimate of when the refresh token stops working, so the pull use case can
//! alert staff (and metrics) days before it does.

use std::fmt;

use chrono::{DateTime, FixedOffset, TimeDelta};

/// The response header (HTTP header names are case-insensitive; the fact sheet writes
/// `X-SWS-Authorize-Status`).
pub const HEADER: &str = "x-sws-authorize-status";

/// Life of a refresh token while public-key authentication works (28 days of continuous use:
/// sokuhan.jp notices 2024-08-06 / 2025-08-07, a production client's expiry bookkeeping).
pub const REFRESH_LIFETIME_WITH_KEY: TimeDelta = TimeDelta::days(28);

/// Life of a refresh token for the order APIs without public-key authentication (same notices;
/// older write-ups say the same for the client-certificate era).
pub const REFRESH_LIFETIME_WITHOUT_KEY: TimeDelta = TimeDelta::hours(12);

/// One value of `X-SWS-Authorize-Status` (fact sheet §3.2 table).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum AuthorizeStatus {
    /// `authorized`: public-key authentication succeeded.
    Authorized,
    /// `none`: no `X-sws-signature` header was sent (also a response without the header).
    NoSignature,
    /// `expired-key-version`: the public key of that version has expired.
    ExpiredKeyVersion,
    /// `invalid-key-version`: the `X-sws-signature-version` header is malformed.
    InvalidKeyVersion,
    /// `not-found-key-version`: no key with that version exists.
    NotFoundKeyVersion,
    /// `invalid-key-status`: the key is not valid (e.g. set to 無効).
    InvalidKeyStatus,
    /// `expired-timestamp`: the time inside the signature is too old.
    ExpiredTimestamp,
    /// `invalid-timestamp`: the time inside the signature is malformed.
    InvalidTimestamp,
    /// `invalid-sellerid`: the seller id inside the signature is wrong.
    InvalidSellerId,
    /// `invalid-authorize-value`: the signature header is not in the expected format.
    InvalidAuthorizeValue,
    /// `unauthorized`: public-key authentication failed.
    Unauthorized,
    /// A value the fact sheet does not list (kept as sent, cut to 64 characters of `[a-z0-9-_]`).
    Other(String),
}

/// `(header value, status)` of every listed value.
const VALUES: &[(&str, AuthorizeStatus)] = &[
    ("authorized", AuthorizeStatus::Authorized),
    ("none", AuthorizeStatus::NoSignature),
    ("expired-key-version", AuthorizeStatus::ExpiredKeyVersion),
    ("invalid-key-version", AuthorizeStatus::InvalidKeyVersion),
    ("not-found-key-version", AuthorizeStatus::NotFoundKeyVersion),
    ("invalid-key-status", AuthorizeStatus::InvalidKeyStatus),
    ("expired-timestamp", AuthorizeStatus::ExpiredTimestamp),
    ("invalid-timestamp", AuthorizeStatus::InvalidTimestamp),
    ("invalid-sellerid", AuthorizeStatus::InvalidSellerId),
    ("invalid-authorize-value", AuthorizeStatus::InvalidAuthorizeValue),
    ("unauthorized", AuthorizeStatus::Unauthorized),
];

impl AuthorizeStatus {
    /// The status a header value reports. A response without the header counts as `none`
    /// (fact sheet: whether unsigned calls get the header is unverified; treat a missing one so).
    pub fn from_header(value: Option<&str>) -> AuthorizeStatus {
        let Some(value) = value.map(str::trim) else { return AuthorizeStatus::NoSignature };
        let lower = value.to_ascii_lowercase();
        if let Some((_, s)) = VALUES.iter().find(|(v, _)| *v == lower) {
            return s.clone();
        }
        // Outside data: keep only harmless characters, so a log line cannot be forged through it.
        let clean: String = lower
            .chars()
            .filter(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-' || *c == '_')
            .take(64)
            .collect();
        AuthorizeStatus::Other(clean)
    }

    /// The header value (`authorized`, `expired-key-version`, ...).
    pub fn as_str(&self) -> &str {
        match self {
            AuthorizeStatus::Other(v) => v,
            known => VALUES.iter().find(|(_, s)| s == known).map_or("", |(v, _)| v),
        }
    }

    /// Whether public-key authentication worked (the refresh token keeps its 28 days).
    pub fn is_authorized(&self) -> bool {
        *self == AuthorizeStatus::Authorized
    }

    /// What staff should do about it (English; the console translates).
    pub fn advice(&self) -> &'static str {
        match self {
            AuthorizeStatus::Authorized => "public-key authentication works",
            AuthorizeStatus::NoSignature => "calls are sent without X-sws-signature: configure the store's public key",
            AuthorizeStatus::ExpiredKeyVersion => {
                "the public key has expired: issue a new key in ストアクリエイターPro → 設定 → 暗号鍵管理 and update the key and its version"
            }
            AuthorizeStatus::InvalidKeyVersion => "the key version in the shop's secret is malformed",
            AuthorizeStatus::NotFoundKeyVersion => "no public key has the version in the shop's secret",
            AuthorizeStatus::InvalidKeyStatus => "the public key is not valid (set to 無効?) in 暗号鍵管理",
            AuthorizeStatus::ExpiredTimestamp => "the signature's time is too old: check the server clock",
            AuthorizeStatus::InvalidTimestamp => "the signature's time is malformed",
            AuthorizeStatus::InvalidSellerId => "the seller id inside the signature is wrong",
            AuthorizeStatus::InvalidAuthorizeValue => {
                "the signature is not in the expected format: check the public key"
            }
            AuthorizeStatus::Unauthorized => "public-key authentication failed: check the public key",
            AuthorizeStatus::Other(_) => "public-key authentication did not succeed (unlisted status)",
        }
    }
}

impl fmt::Display for AuthorizeStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the client knows about its refresh token's life.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct RefreshClock {
    /// End of the refresh token's 28-day life, when known (from the caller, or started by a rotation).
    pub(crate) expires_at: Option<DateTime<FixedOffset>>,
    /// When the calls stopped being key-authenticated (first non-`authorized` status after an
    /// `authorized` one, or at the start).
    pub(crate) unauthorized_since: Option<DateTime<FixedOffset>>,
}

impl RefreshClock {
    /// When the refresh token is expected to stop working: its known end, or — while calls are
    /// not key-authenticated — at most 12 hours after that started. `None`: nothing is known.
    pub(crate) fn deadline(&self) -> Option<DateTime<FixedOffset>> {
        let short = self.unauthorized_since.map(|t| t + REFRESH_LIFETIME_WITHOUT_KEY);
        match (self.expires_at, short) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Whole days from `now` to [`Self::deadline`] (0 when under a day or past).
    pub(crate) fn days_left(&self, now: DateTime<FixedOffset>) -> Option<i64> {
        self.deadline().map(|d| (d - now).num_days().max(0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_values_are_read_and_unknown_ones_cleaned() {
        assert_eq!(AuthorizeStatus::from_header(Some("authorized")), AuthorizeStatus::Authorized);
        assert_eq!(AuthorizeStatus::from_header(Some(" Expired-Key-Version ")), AuthorizeStatus::ExpiredKeyVersion);
        assert_eq!(AuthorizeStatus::from_header(None), AuthorizeStatus::NoSignature);
        for (v, s) in VALUES {
            assert_eq!(AuthorizeStatus::from_header(Some(v)), *s);
            assert_eq!(s.as_str(), *v);
            assert_eq!(s.is_authorized(), *v == "authorized");
        }
        let odd = AuthorizeStatus::from_header(Some("new-value\r\nX: y"));
        assert_eq!(odd, AuthorizeStatus::Other("new-valuexy".into()));
        assert!(!odd.is_authorized());
    }

    #[test]
    fn the_deadline_is_the_known_end_or_twelve_hours_without_the_key() {
        let t = DateTime::parse_from_rfc3339("2026-11-01T09:00:00+09:00").unwrap();
        let mut c = RefreshClock::default();
        assert_eq!(c.deadline(), None);
        c.expires_at = Some(t + TimeDelta::days(28));
        assert_eq!(c.days_left(t), Some(28));
        assert_eq!(c.days_left(t + TimeDelta::hours(25)), Some(26));
        c.unauthorized_since = Some(t);
        assert_eq!(c.deadline(), Some(t + TimeDelta::hours(12)));
        assert_eq!(c.days_left(t), Some(0));
        c.expires_at = None;
        assert_eq!(c.deadline(), Some(t + TimeDelta::hours(12)));
        c.expires_at = Some(t + TimeDelta::hours(1));
        assert_eq!(c.deadline(), Some(t + TimeDelta::hours(1)));
        assert_eq!(c.days_left(t + TimeDelta::days(3)), Some(0));
    }
}
