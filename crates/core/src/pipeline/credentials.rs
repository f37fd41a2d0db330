//! The daily credential check: when each pair's marketplace credentials expire (the dates the
//! operator records with every renewal, and what a marketplace tells by API), and one notice to
//! staff listing every credential that expires within [`CREDENTIAL_WARN_DAYS`], has expired, or
//! whose expiry cannot be known. Credentials do not expire silently.

use std::collections::BTreeMap;
use std::future::Future;

use chrono::{Datelike, NaiveDate, Weekday};

use crate::order::Marketplace;

use super::ports::PortError;

/// Staff are told this many days before a credential stops working.
pub const CREDENTIAL_WARN_DAYS: i64 = 14;

/// The word the operator records for a date not known yet (the value Terraform creates).
pub const UNKNOWN: &str = "unknown";

/// Day of the week on which credentials with no recorded date are listed (once a week, not daily).
const UNKNOWN_REMINDER_DAY: Weekday = Weekday::Mon;

/// A credential whose expiry a marketplace reported by API (楽天's license key).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KnownExpiry {
    /// The credential, as named in the pair's expiry record (`license_key`).
    pub credential: &'static str,
    /// Its last valid day (JST).
    pub last_day: NaiveDate,
}

/// One pair's expiry record: credential → `YYYY-MM-DD` or [`UNKNOWN`], as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpiryRecord {
    /// The shop.
    pub shop_id: String,
    /// The marketplace.
    pub marketplace: Marketplace,
    /// The record's text (JSON object), as the operator wrote it.
    pub text: String,
}

/// Where the pairs' expiry records are kept, and a credential's new date written after a renewal
/// the pipeline made itself (a rotated refresh token).
pub trait ExpiryRecords: Send + Sync {
    /// Every pair's record.
    fn records(&self) -> impl Future<Output = Result<Vec<ExpiryRecord>, PortError>> + Send;

    /// Sets `credential` of the pair's record to `last_day`, keeping its other credentials.
    fn set(
        &self,
        shop_id: &str,
        marketplace: Marketplace,
        credential: &str,
        last_day: NaiveDate,
    ) -> impl Future<Output = Result<(), PortError>> + Send;
}

/// Where a notice to the shop's staff goes (the alarm topic on AWS).
pub trait StaffNotices: Send + Sync {
    /// Delivers `subject` and `text` to staff.
    fn notify(&self, subject: &str, text: &str) -> impl Future<Output = Result<(), PortError>> + Send;
}

/// What is known of one credential's expiry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expiry {
    /// Its last valid day.
    On(NaiveDate),
    /// Nobody recorded it yet.
    Unknown,
    /// The record or the marketplace's answer could not be read; why (no credential value).
    Unreadable(String),
}

/// One credential's state on the day of the check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialState {
    /// The shop.
    pub shop_id: String,
    /// The marketplace.
    pub marketplace: Marketplace,
    /// The credential (`license_key`, `refresh_token` ...); `*` for the pair's whole record.
    pub credential: String,
    /// What is known.
    pub expiry: Expiry,
    /// True when the date came from the marketplace's API rather than the operator's record.
    pub from_marketplace: bool,
}

impl CredentialState {
    /// Days from `today` to the last valid day (0: today is the last; negative: expired).
    pub fn days_left(&self, today: NaiveDate) -> Option<i64> {
        match self.expiry {
            Expiry::On(day) => Some((day - today).num_days()),
            _ => None,
        }
    }

    /// Whether staff must act now: expires within the warning period, expired, or unreadable.
    pub fn is_due(&self, today: NaiveDate) -> bool {
        match self.expiry {
            Expiry::On(_) => self.days_left(today).is_some_and(|d| d <= CREDENTIAL_WARN_DAYS),
            Expiry::Unknown => false,
            Expiry::Unreadable(_) => true,
        }
    }
}

/// The credentials of one pair: the operator's record, with the marketplace's own word (where it
/// gives one) taking the place of the recorded date of the same credential.
pub fn pair_states(record: &ExpiryRecord, from_marketplace: Result<Vec<KnownExpiry>, String>) -> Vec<CredentialState> {
    let state = |credential: &str, expiry: Expiry, from_marketplace: bool| CredentialState {
        shop_id: record.shop_id.clone(),
        marketplace: record.marketplace,
        credential: credential.to_string(),
        expiry,
        from_marketplace,
    };
    let mut states: BTreeMap<String, CredentialState> = BTreeMap::new();
    match serde_json::from_str::<BTreeMap<String, serde_json::Value>>(&record.text) {
        Ok(fields) => {
            for (credential, value) in fields {
                let expiry = match value.as_str().map(str::trim) {
                    Some(UNKNOWN) => Expiry::Unknown,
                    Some(text) => match NaiveDate::parse_from_str(text, "%Y-%m-%d") {
                        Ok(day) => Expiry::On(day),
                        Err(_) => Expiry::Unreadable("記録された日付が YYYY-MM-DD ではありません".into()),
                    },
                    None => Expiry::Unreadable("記録された値が文字列ではありません".into()),
                };
                states.insert(credential.clone(), state(&credential, expiry, false));
            }
        }
        Err(_) => {
            states.insert("*".into(), state("*", Expiry::Unreadable("期限の記録が JSON ではありません".into()), false));
        }
    }
    match from_marketplace {
        Ok(known) => {
            for k in known {
                states.insert(k.credential.to_string(), state(k.credential, Expiry::On(k.last_day), true));
            }
        }
        Err(why) => {
            states.insert("api".into(), state("api", Expiry::Unreadable(why), true));
        }
    }
    states.into_values().collect()
}

/// The day's notice to staff: every due credential, and on the reminder day the ones with no
/// recorded date. `None` when there is nothing to say.
pub fn notice(states: &[CredentialState], today: NaiveDate) -> Option<(String, String)> {
    let due: Vec<&CredentialState> = states.iter().filter(|s| s.is_due(today)).collect();
    let unknown: Vec<&CredentialState> = if today.weekday() == UNKNOWN_REMINDER_DAY {
        states.iter().filter(|s| s.expiry == Expiry::Unknown).collect()
    } else {
        Vec::new()
    };
    if due.is_empty() && unknown.is_empty() {
        return None;
    }
    // The ASCII part leads: some channels (SNS subjects) carry ASCII only.
    let subject = if due.is_empty() {
        format!("[ichigen] credential expiry not recorded ({}) 有効期限が未記録の認証情報があります", unknown.len())
    } else {
        format!("[ichigen] credentials expire soon ({}) 認証情報の期限切れが近づいています", due.len())
    };
    let mut text = format!(
        "{} 時点の確認結果です。期限が切れるとそのモールの受注取込が止まります。\n",
        today.format("%Y年%m月%d日")
    );
    if !due.is_empty() {
        text.push_str(&format!("\n■ {CREDENTIAL_WARN_DAYS} 日以内に期限切れ・期限切れ・確認できないもの\n"));
        for s in &due {
            text.push_str(&line(s, today));
        }
    }
    if !unknown.is_empty() {
        text.push_str("\n■ 有効期限が記録されていないもの（更新のたびに期限を記録してください）\n");
        for s in &unknown {
            text.push_str(&line(s, today));
        }
    }
    text.push_str(
        "\n更新の手順と期限の記録方法: docs/DEPLOY.md「Credentials that expire」。\n\
         新しい認証情報を SSM パラメータに入れ、期限の記録（credential-expiry）も書き換えてください。\n",
    );
    Some((subject, text))
}

/// What a daily check found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub struct CheckReport {
    /// Pairs with an expiry record.
    pub pairs: usize,
    /// Credentials that need a person now.
    pub due: usize,
    /// Credentials with no recorded date.
    pub unknown: usize,
    /// Whether staff were sent a notice.
    pub notified: bool,
}

/// The daily check over every pair's record: `from_marketplace` asks a pair's marketplace for
/// the dates it reports (an error text when it cannot); one notice lists what is due.
pub async fn check_credentials<R, N, F, Fut>(
    records: &R,
    notices: &N,
    today: NaiveDate,
    mut from_marketplace: F,
) -> Result<CheckReport, PortError>
where
    R: ExpiryRecords,
    N: StaffNotices,
    F: FnMut(&ExpiryRecord) -> Fut,
    Fut: Future<Output = Result<Vec<KnownExpiry>, String>>,
{
    let records = records.records().await?;
    let mut states = Vec::new();
    for record in &records {
        states.extend(pair_states(record, from_marketplace(record).await));
    }
    let mut report = CheckReport {
        pairs: records.len(),
        due: states.iter().filter(|s| s.is_due(today)).count(),
        unknown: states.iter().filter(|s| s.expiry == Expiry::Unknown).count(),
        notified: false,
    };
    if let Some((subject, text)) = notice(&states, today) {
        notices.notify(&subject, &text).await?;
        report.notified = true;
    }
    Ok(report)
}

fn line(s: &CredentialState, today: NaiveDate) -> String {
    let what = match &s.expiry {
        Expiry::On(day) => match s.days_left(today).unwrap_or_default() {
            d if d < 0 => format!("{} に期限切れ（{} 日経過）", day.format("%Y-%m-%d"), -d),
            0 => format!("{} 本日まで", day.format("%Y-%m-%d")),
            d => format!("{} まで（あと {d} 日）", day.format("%Y-%m-%d")),
        },
        Expiry::Unknown => "未記録".to_string(),
        Expiry::Unreadable(why) => format!("確認できません: {why}"),
    };
    let source = if s.from_marketplace { "（モールの API による）" } else { "" };
    format!("・ショップ {} / {} / {}：{what}{source}\n", s.shop_id, s.marketplace, s.credential)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap_or_default()
    }

    fn record(text: &str) -> ExpiryRecord {
        ExpiryRecord { shop_id: "s1".into(), marketplace: Marketplace::Yahoo, text: text.into() }
    }

    #[test]
    fn a_credential_is_due_from_fourteen_days_before_its_last_day() {
        let states = pair_states(&record(r#"{"refresh_token": "2026-12-21", "public_key": "2026-12-22"}"#), Ok(vec![]));
        let today = day("2026-12-07");
        let due: Vec<&str> = states.iter().filter(|s| s.is_due(today)).map(|s| s.credential.as_str()).collect();
        assert_eq!(due, ["refresh_token"], "21st is 14 days ahead, 22nd is 15");
        let (subject, text) = notice(&states, today).expect("a notice");
        assert!(subject.starts_with("[ichigen] credentials expire soon (1)"), "{subject}");
        assert!(text.contains("s1 / yahoo / refresh_token：2026-12-21 まで（あと 14 日）"), "{text}");
        assert!(!text.contains("public_key"), "{text}");
    }

    #[test]
    fn expired_and_unreadable_credentials_are_due() {
        let states = pair_states(&record(r#"{"refresh_token": "2026-12-01", "public_key": "next year"}"#), Ok(vec![]));
        let today = day("2026-12-08");
        assert!(states.iter().all(|s| s.is_due(today)));
        let (_, text) = notice(&states, today).expect("a notice");
        assert!(text.contains("2026-12-01 に期限切れ（7 日経過）"), "{text}");
        assert!(text.contains("public_key：確認できません"), "{text}");
        assert!(!text.contains("next year"), "the recorded text is not echoed");
        let broken = pair_states(&record("{not json"), Ok(vec![]));
        assert!(broken[0].is_due(today));
    }

    #[test]
    fn unknown_dates_are_listed_weekly_not_daily() {
        let states = pair_states(&record(r#"{"refresh_token": "unknown"}"#), Ok(vec![]));
        assert_eq!(notice(&states, day("2026-12-08")), None, "a Tuesday");
        let (subject, text) = notice(&states, day("2026-12-07")).expect("Monday's reminder");
        assert!(subject.contains("未記録"), "{subject}");
        assert!(text.contains("refresh_token：未記録"), "{text}");
    }

    #[test]
    fn the_marketplace_date_replaces_the_recorded_one_and_its_failure_is_due() {
        let rakuten = ExpiryRecord { marketplace: Marketplace::Rakuten, ..record(r#"{"license_key": "unknown"}"#) };
        let known = KnownExpiry { credential: "license_key", last_day: day("2026-12-10") };
        let states = pair_states(&rakuten, Ok(vec![known]));
        assert_eq!(states.len(), 1);
        assert!(states[0].from_marketplace && states[0].is_due(day("2026-12-08")));
        let failed = pair_states(&rakuten, Err("HTTP 401".into()));
        let (_, text) = notice(&failed, day("2026-12-08")).expect("a notice");
        assert!(text.contains("api：確認できません: HTTP 401"), "{text}");
    }

    #[test]
    fn nothing_due_sends_nothing() {
        let states = pair_states(&record(r#"{"refresh_token": "2027-01-31"}"#), Ok(vec![]));
        assert_eq!(notice(&states, day("2026-12-07")), None);
    }
}
