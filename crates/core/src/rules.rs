//! Shop rules: one TOML file (`rules.toml`) with blacklist, keywords, メール便 capacities, label
//! limits and the severity of each finding code. Every section is optional; defaults are sensible.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::finding::{FindingCode, Severity};

/// A commented example of every setting, the same text as `rules.example.toml` at the repo root.
pub const EXAMPLE_RULES: &str = include_str!("../../../rules.example.toml");

/// Why a rules file was refused.
#[derive(Debug, thiserror::Error)]
pub enum RulesError {
    /// Not valid TOML or an unknown key: the message names the line and the key.
    #[error("rules file: {0}")]
    Toml(#[from] toml::de::Error),
    /// Valid TOML, but a value makes no sense.
    #[error("rules file: {0}")]
    Invalid(String),
}

/// All shop rules.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Rules {
    /// Severity per finding code (`hold`, `warn`, `info` or `off`); codes not named keep their default.
    pub severity: BTreeMap<FindingCode, SeveritySetting>,
    /// Buyers the shop will not ship to without a person looking.
    pub blacklist: Vec<BlacklistEntry>,
    /// What makes an address or name look fake.
    pub suspicious: SuspiciousRules,
    /// Which items fit a メール便 parcel.
    pub mail_bin: MailBinRules,
    /// Carrier label field limits.
    pub label: LabelRules,
    /// Which parts of the buyer's remarks are not the buyer's words.
    pub remarks: RemarksRules,
    /// The shop's own conditions (`[[condition]]`): hold or note orders by marketplace, payment,
    /// total, SKU, a keyword in the remarks or the prefecture.
    #[serde(rename = "condition")]
    pub conditions: Vec<Condition>,
}

/// What a matching [`Condition`] does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ConditionAction {
    /// Hold the order (staff alerted, no buyer mail until released).
    #[default]
    Hold,
    /// Only note it for staff; the order flows on.
    Note,
}

/// One shop condition: every criterion given must match (AND); a list matches when any of its
/// values does (OR). A condition with no criterion is refused.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Condition {
    /// Shown to staff with the finding, e.g. `のし指定`.
    pub name: String,
    /// `hold` (default) or `note`.
    #[serde(default)]
    pub action: ConditionAction,
    /// Marketplaces (`rakuten`, `yahoo`, ...).
    #[serde(default)]
    pub marketplace: Vec<crate::order::Marketplace>,
    /// Unified payment methods (`cod`, `bank_transfer`, ...).
    #[serde(default)]
    pub payment: Vec<crate::order::PaymentMethod>,
    /// The order total (yen, tax included) is at least this.
    pub total_at_least: Option<i64>,
    /// The order total is below this.
    pub total_below: Option<i64>,
    /// An item line has one of these SKUs (exact).
    #[serde(default)]
    pub sku: Vec<String>,
    /// The remarks hold one of these words (width, case and spaces ignored).
    #[serde(default)]
    pub remarks_keyword: Vec<String>,
    /// A destination is in one of these prefectures (`沖縄県`).
    #[serde(default)]
    pub prefecture: Vec<String>,
}

impl Condition {
    /// The criteria that matched `order`, by name (`marketplace`, `total_at_least`, ...), when all
    /// given ones match; `None` otherwise.
    pub fn matches(&self, order: &crate::order::Order) -> Option<Vec<&'static str>> {
        let mut hit = Vec::new();
        let mut check = |given: bool, ok: bool, name: &'static str| {
            if given {
                hit.push(name);
            }
            !given || ok
        };
        let total = order.totals.total;
        let all = check(!self.marketplace.is_empty(), self.marketplace.contains(&order.marketplace), "marketplace")
            && check(!self.payment.is_empty(), self.payment.contains(&order.payment_method), "payment")
            && check(self.total_at_least.is_some(), self.total_at_least.is_none_or(|v| total >= v), "total_at_least")
            && check(self.total_below.is_some(), self.total_below.is_none_or(|v| total < v), "total_below")
            && check(!self.sku.is_empty(), order.items.iter().any(|i| self.sku.contains(&i.sku)), "sku")
            && check(!self.remarks_keyword.is_empty(), self.remarks_hit(&order.remarks).is_some(), "remarks_keyword")
            && check(
                !self.prefecture.is_empty(),
                order.destinations().any(|d| self.prefecture.iter().any(|p| p.trim() == d.prefecture.trim())),
                "prefecture",
            );
        (all && !hit.is_empty()).then_some(hit)
    }

    /// The first remarks keyword found in `remarks` (compared after normalisation).
    pub fn remarks_hit(&self, remarks: &str) -> Option<&str> {
        let key = crate::text::compact_key(remarks);
        self.remarks_keyword.iter().map(String::as_str).find(|k| {
            let k = crate::text::compact_key(k);
            !k.is_empty() && key.contains(&k)
        })
    }

    fn check(&self, n: usize) -> Result<(), RulesError> {
        let invalid = |why: &str| Err(RulesError::Invalid(format!("condition {n}: {why}")));
        if self.name.trim().is_empty() {
            return invalid("name is empty; give it a name staff will read (e.g. のし指定)");
        }
        let any = !self.marketplace.is_empty()
            || !self.payment.is_empty()
            || self.total_at_least.is_some()
            || self.total_below.is_some()
            || !self.sku.is_empty()
            || !self.remarks_keyword.is_empty()
            || !self.prefecture.is_empty();
        if !any {
            return invalid("has no criterion: it would match every order");
        }
        if self.remarks_keyword.iter().any(|k| crate::text::compact_key(k).is_empty()) {
            return invalid("remarks_keyword holds an empty keyword");
        }
        if let Some(p) = self.prefecture.iter().find(|p| !crate::address::PREFECTURES.contains(&p.trim())) {
            return invalid(&format!("prefecture {p:?} is not a prefecture (write it whole: 沖縄県, 東京都)"));
        }
        if let (Some(lo), Some(hi)) = (self.total_at_least, self.total_below)
            && lo >= hi
        {
            return invalid("total_at_least must be below total_below");
        }
        Ok(())
    }
}

/// A severity, or `off` to drop the finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SeveritySetting {
    /// Hold the order.
    Hold,
    /// Show, don't hold.
    Warn,
    /// Information only.
    Info,
    /// Don't report at all.
    Off,
}

/// One blacklist entry: it matches on name+phone, phone alone, email, or full address.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BlacklistEntry {
    /// Buyer or recipient name; must come with a phone or an address (a name alone is too weak).
    pub name: Option<String>,
    /// Phone number, any format.
    pub phone: Option<String>,
    /// E-mail address.
    pub email: Option<String>,
    /// Full address with prefecture, e.g. `東京都千代田区千代田1-1 ハイツ101`.
    pub address: Option<String>,
    /// Why the entry exists, shown to staff.
    #[serde(default)]
    pub reason: String,
}

impl BlacklistEntry {
    /// Why the entry cannot be used, if it cannot: it names nothing, names only a person (too many
    /// people share a name), or has a phone or e-mail that cannot be compared. The reason names
    /// the field, never its value.
    ///
    /// It also refuses a weak entry, one that would match far more than the buyer it is meant for
    /// (see [`BlacklistEntry::weakness`]), with a Japanese and English reason.
    pub fn validate(&self) -> Result<(), String> {
        self.validate_form()?;
        match self.weakness() {
            Some(why) => Err(why.to_string()),
            None => Ok(()),
        }
    }

    /// Why the entry would match orders it is not meant for, if it would: an address that is only
    /// a prefecture or punctuation (`東京都`, `-`) keeps nothing once the prefecture is taken off,
    /// which is also the key of every order without a street, so it would hold them all. Such an
    /// entry is refused when added, and ignored (and reported) when a rules file already has it.
    pub fn weakness(&self) -> Option<&'static str> {
        let address = self.address.as_deref().filter(|a| !a.trim().is_empty())?;
        let key = crate::checks::strip_prefecture(crate::text::address_key(address));
        // ー counts as a letter but is typed for a dash as often as not.
        if key.chars().any(|c| c.is_alphanumeric() && c != 'ー') {
            return None;
        }
        Some(
            "住所が都道府県名か記号だけです。番地のない注文すべてに一致してしまうため、番地まで入力してください \
             / the address is only a prefecture or punctuation: it would match every order without a street; \
             give the full address down to the house number",
        )
    }

    fn validate_form(&self) -> Result<(), String> {
        let has = |f: &Option<String>| f.as_deref().is_some_and(|s| !s.trim().is_empty());
        if !(has(&self.name) || has(&self.phone) || has(&self.email) || has(&self.address)) {
            return Err("has no name, phone, email or address".into());
        }
        if has(&self.name) && !(has(&self.phone) || has(&self.address) || has(&self.email)) {
            return Err("a name alone is too weak to match; add a phone, email or address".into());
        }
        if self.phone.as_deref().is_some_and(|p| crate::text::phone_key(p).is_none()) {
            return Err("phone is not a 10 or 11 digit number".into());
        }
        if self.email.as_deref().is_some_and(|m| crate::text::email_key(m).is_none()) {
            return Err("email has no '@'".into());
        }
        Ok(())
    }
}

/// Settings of `address.suspicious`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SuspiciousRules {
    /// Words that mark a test or prank order, matched after normalisation (width, case, spaces).
    pub keywords: Vec<String>,
    /// The same character this many times in a row (digits and hyphens excepted) is suspicious.
    pub repeated_chars: usize,
    /// A street part (町域 and 番地, without building) shorter than this many characters is suspicious.
    pub min_street_chars: usize,
}

impl Default for SuspiciousRules {
    fn default() -> Self {
        SuspiciousRules {
            keywords: ["テスト", "test", "ダミー", "dummy", "サンプル", "いたずら", "不明"].map(String::from).to_vec(),
            repeated_chars: 4,
            min_street_chars: 2,
        }
    }
}

/// Settings of `shipping.mail_bin_*`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MailBinRules {
    /// Name of the service the shop uses, shown in messages (ネコポス, ゆうパケット, クリックポスト ...).
    pub service: String,
    /// Units of each SKU that fit one parcel. SKUs not listed never fit.
    pub capacity: BTreeMap<String, u32>,
}

impl Default for MailBinRules {
    fn default() -> Self {
        MailBinRules { service: "ネコポス".into(), capacity: BTreeMap::new() }
    }
}

/// Settings of `address.label_overflow`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LabelRules {
    /// Carriers whose labels the shop prints.
    pub carriers: Vec<LabelCarrier>,
    /// Limits per carrier, replacing the built-in ones field by field.
    pub limits: BTreeMap<LabelCarrier, LabelLimitsOverride>,
}

impl Default for LabelRules {
    fn default() -> Self {
        LabelRules { carriers: vec![LabelCarrier::Yamato], limits: BTreeMap::new() }
    }
}

/// Label systems with known field limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LabelCarrier {
    /// ヤマト B2 / B2クラウド.
    Yamato,
    /// 佐川 e飛伝.
    Sagawa,
    /// 日本郵便 ゆうプリR.
    Japanpost,
}

impl LabelCarrier {
    /// Japanese name of the label system, for messages.
    pub fn label_system(self) -> &'static str {
        match self {
            LabelCarrier::Yamato => "ヤマト B2",
            LabelCarrier::Sagawa => "佐川 e飛伝",
            LabelCarrier::Japanpost => "ゆうプリR",
        }
    }

    /// Field limits in half-width units (全角N = 半角2N), from the carriers' CSV layouts.
    pub fn default_limits(self) -> LabelLimits {
        match self {
            // B2: お届け先住所 全角32, アパートマンション名 全角16, お届け先名 全角16, 電話 半角15.
            LabelCarrier::Yamato => LabelLimits { address: 64, building: Some(32), name: Some(32), phone: Some(15) },
            // e飛伝: 住所1-3 全角16 each (prefecture to building), 名称1 全角16, 電話 半角14.
            LabelCarrier::Sagawa => LabelLimits { address: 96, building: None, name: Some(32), phone: Some(14) },
            // ゆうプリR: 住所1-3 50 bytes each (prefecture to building); medium confidence, see docs.
            LabelCarrier::Japanpost => LabelLimits { address: 150, building: None, name: None, phone: None },
        }
    }
}

/// Effective field limits of one label system, in half-width units.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LabelLimits {
    /// Prefecture + city + street; with `building: None`, the building is counted here too.
    pub address: usize,
    /// Separate building field, when the layout has one.
    pub building: Option<usize>,
    /// Recipient name.
    pub name: Option<usize>,
    /// Recipient phone (hyphens count).
    pub phone: Option<usize>,
}

/// Per-field replacement of a carrier's built-in limits.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LabelLimitsOverride {
    /// See [`LabelLimits::address`].
    pub address: Option<usize>,
    /// See [`LabelLimits::building`].
    pub building: Option<usize>,
    /// See [`LabelLimits::name`].
    pub name: Option<usize>,
    /// See [`LabelLimits::phone`].
    pub phone: Option<usize>,
}

/// Settings of `order.remarks`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RemarksRules {
    /// More sections not written by the buyer, besides those each marketplace declares
    /// (`[配送日時指定:]` ...): their text is not the buyer's.
    pub system_sections: Vec<String>,
    /// Whole remarks that mean "nothing to say" (なし, 特になし ...), matched after normalisation.
    pub nothing_phrases: Vec<String>,
}

impl Default for RemarksRules {
    fn default() -> Self {
        RemarksRules {
            system_sections: Vec::new(),
            nothing_phrases: ["なし", "無し", "特になし", "特に無し", "ありません", "特にありません", "none", "-"]
                .map(String::from)
                .to_vec(),
        }
    }
}

impl Rules {
    /// Parses and checks a rules file.
    pub fn from_toml(text: &str) -> Result<Rules, RulesError> {
        let rules: Rules = toml::from_str(text)?;
        rules.check()?;
        Ok(rules)
    }

    /// The blacklist entries the checks ignore because they are weak (1-based number, why): they
    /// would hold every order without a street. Callers report them by number, never by value.
    pub fn weak_blacklist_entries(&self) -> Vec<(usize, &'static str)> {
        self.blacklist.iter().enumerate().filter_map(|(i, e)| e.weakness().map(|why| (i + 1, why))).collect()
    }

    /// The severity a finding of `code` gets, or `None` when the shop switched it off.
    pub fn severity_of(&self, code: FindingCode) -> Option<Severity> {
        match self.severity.get(&code) {
            None => Some(code.default_severity()),
            Some(SeveritySetting::Hold) => Some(Severity::Hold),
            Some(SeveritySetting::Warn) => Some(Severity::Warn),
            Some(SeveritySetting::Info) => Some(Severity::Info),
            Some(SeveritySetting::Off) => None,
        }
    }

    /// Effective label limits of a carrier: built-in ones with the shop's replacements.
    pub fn label_limits(&self, carrier: LabelCarrier) -> LabelLimits {
        let mut l = carrier.default_limits();
        if let Some(o) = self.label.limits.get(&carrier) {
            l.address = o.address.unwrap_or(l.address);
            l.building = o.building.or(l.building);
            l.name = o.name.or(l.name);
            l.phone = o.phone.or(l.phone);
        }
        l
    }

    fn check(&self) -> Result<(), RulesError> {
        // A weak entry is not an error: files written before entries were checked for it keep
        // loading, and the entry is ignored (see `weak_blacklist_entries`).
        for (i, e) in self.blacklist.iter().enumerate().filter(|(_, e)| e.weakness().is_none()) {
            e.validate_form().map_err(|why| RulesError::Invalid(format!("blacklist entry {}: {why}", i + 1)))?;
        }
        if let Some((sku, _)) = self.mail_bin.capacity.iter().find(|(_, c)| **c == 0) {
            return Err(RulesError::Invalid(format!(
                "mail_bin.capacity: SKU {sku:?} has capacity 0; leave it out if it never fits"
            )));
        }
        if self.suspicious.repeated_chars == 1 {
            return Err(RulesError::Invalid("suspicious.repeated_chars must be 2 or more (0 turns it off)".into()));
        }
        if self.suspicious.keywords.iter().any(|k| crate::text::compact_key(k).is_empty()) {
            return Err(RulesError::Invalid("suspicious.keywords holds an empty keyword".into()));
        }
        for (i, c) in self.conditions.iter().enumerate() {
            c.check(i + 1)?;
        }
        Ok(())
    }
}
