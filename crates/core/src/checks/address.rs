//! Address checks: postal code known and matching, 番地 present, label fits, nothing fake-looking.

use aho_corasick::{AhoCorasick, MatchKind};
use serde_json::json;

use super::{CheckEngine, Destination, Findings, dest_label};
use crate::finding::{FindingCode, Severity};
use crate::order::Order;
use crate::postal::{CodeKind, Town};
use crate::rules::SuspiciousRules;
use crate::text;

/// Words in the written address that mark Kyoto street-name addressing, which has no 番地.
const STREET_STYLE_MARKS: [&str; 6] = ["上ル", "下ル", "上る", "下る", "東入", "西入"];

/// Postal code, prefecture/city/town agreement and 番地 for one destination.
pub(super) fn check_destination(eng: &CheckEngine, d: &Destination<'_>, out: &mut Findings<'_>) {
    let a = d.addr;
    let label = dest_label(d);
    if !a.is_domestic() {
        return;
    }
    let Some(code) = d.postal.as_deref() else {
        out.push(
            FindingCode::PostalCodeUnknown,
            format!("{label}の郵便番号が7桁の数字ではありません"),
            json!({"destination": d.index, "postal_code": a.postal_code, "reason": "malformed"}),
        );
        return;
    };
    let Some(entry) = eng.postal.get(code) else {
        out.push(
            FindingCode::PostalCodeUnknown,
            format!("{label}の郵便番号 {code} は日本郵便のデータにありません"),
            json!({"destination": d.index, "postal_code": code, "reason": "not_found",
                   "data": eng.postal.source_version()}),
        );
        return;
    };

    let written_key = text::place_key(&a.prefecture);
    let written_pref = pref_stem(&written_key);
    let towns: Vec<Town<'_>> = entry.towns().collect();
    // Japan Post writes the 47 prefectures in their standard form: no key needed on that side.
    let pref_ok: Vec<&Town<'_>> =
        towns.iter().filter(|t| written_pref.is_empty() || pref_stem(t.prefecture) == written_pref).collect();
    // Candidates whose city is written, with where it ends; towns of one code mostly share a city.
    let mut city_ok: Vec<(&Town<'_>, usize)> = Vec::with_capacity(pref_ok.len());
    let mut last: Option<(&str, Option<usize>)> = None;
    for t in pref_ok.iter().copied() {
        let end = match last {
            Some((city, end)) if city == t.city => end,
            _ => city_end(t.city, &d.street_key),
        };
        last = Some((t.city, end));
        if let Some(end) = end {
            city_ok.push((t, end));
        }
    }

    let expected = || {
        towns.iter().map(|t| json!({"prefecture": t.prefecture, "city": t.city, "town": t.town})).collect::<Vec<_>>()
    };
    if pref_ok.is_empty() || city_ok.is_empty() {
        let part = if pref_ok.is_empty() { "prefecture" } else { "city" };
        let (want_pref, want_city) = towns.first().map(|t| (t.prefecture, t.city)).unwrap_or_default();
        out.push(
            FindingCode::PostalMismatch,
            if pref_ok.is_empty() {
                format!("{label}の郵便番号 {code} は{want_pref}の番号ですが、住所は{}です", a.prefecture)
            } else {
                format!("{label}の郵便番号 {code} は{want_pref}{want_city}の番号ですが、住所の市区町村が一致しません")
            },
            json!({"destination": d.index, "postal_code": code, "part": part, "expected": expected(),
                   "written": {"prefecture": a.prefecture, "city": a.city}}),
        );
        return;
    }

    // Town (町域): a warning only, since spellings vary more than Japan Post's data admits.
    let located =
        city_ok.iter().find_map(|&(t, after_city)| locate_town(t, after_city, &d.street_key).map(|end| (t, end)));
    let town_named = city_ok.iter().any(|(t, _)| !t.town.is_empty() && !t.catch_all);
    if located.is_none() && town_named && entry.kind() == CodeKind::Area {
        out.push_capped(
            FindingCode::PostalMismatch,
            Severity::Warn,
            format!("{label}の町域が郵便番号 {code} の町域と一致しません"),
            json!({"destination": d.index, "postal_code": code, "part": "town", "expected": expected()}),
        );
    }

    check_house_number(d, entry.kind(), &city_ok, located, &label, out);
}

/// Where the town's key ends in the street key, if the town is written there. The town is
/// looked for after the city, so 千代田 is not found inside 千代田区.
fn locate_town(t: &Town<'_>, after_city: usize, street_key: &str) -> Option<usize> {
    if t.town.is_empty() || t.catch_all {
        // No town to find: the street starts after the city.
        return Some(after_city);
    }
    let rest = street_key.get(after_city..)?;
    let key = text::place_key(t.town);
    if let Some(i) = rest.find(&key) {
        return Some(after_city + i + key.len());
    }
    // People often write 大字 / 字 that Japan Post leaves out, or leave out what it keeps.
    for prefix in ["大字", "字"] {
        if let Some(stripped) = key.strip_prefix(prefix)
            && let Some(i) = rest.find(stripped)
        {
            return Some(after_city + i + stripped.len());
        }
    }
    None
}

/// Where the city ends in the street key, under any of the ways it may be written.
/// A city typed twice (千葉県柏市 + 柏市柏4-14-13 in the street line) ends after the second.
fn city_end(city: &str, street_key: &str) -> Option<usize> {
    let variants = city_variants(city);
    let mut end = variants.iter().find_map(|v| street_key.find(v.as_str()).map(|i| i + v.len()))?;
    while let Some(v) = variants.iter().find(|v| street_key[end..].starts_with(v.as_str())) {
        end += v.len();
    }
    Some(end)
}

fn check_house_number(
    d: &Destination<'_>,
    kind: CodeKind,
    city_ok: &[(&Town<'_>, usize)],
    located: Option<(&Town<'_>, usize)>,
    label: &str,
    out: &mut Findings<'_>,
) {
    // Office and PO-box codes name one building: its number is known to the carrier.
    if kind != CodeKind::Area {
        return;
    }
    let written = [d.addr.address1.as_str(), d.addr.address2.as_str()];
    if city_ok.iter().any(|(t, _)| t.street_style || t.chiwari)
        || STREET_STYLE_MARKS.iter().any(|m| written.iter().any(|w| w.contains(m)))
    {
        return;
    }
    let rest = match located {
        Some((_, end)) => &d.street_key[end..],
        None => d.street_key.as_str(),
    };
    let town = located.map(|(t, _)| t).or_else(|| city_ok.first().map(|(t, _)| *t));
    let chome = town.is_some_and(|t| t.chome);
    // In a 丁目 town the number follows the town name directly (大通西5-1-2), so a building with a
    // room number (大通西サンハイツ101) is not a 番地. Elsewhere 小字 names may come first (字XX12).
    let numbered = if chome && located.is_some() {
        text::starts_with_house_number(rest)
    } else {
        rest.bytes().any(|b| b.is_ascii_digit())
    };
    // The number may also start the building line ("5-1-2 サンハイツ101").
    if numbered || text::starts_with_house_number(&text::address_key(&d.addr.address2)) {
        return;
    }
    let cap = if chome { Severity::Hold } else { Severity::Warn };
    out.push_capped(
        FindingCode::MissingHouseNumber,
        cap,
        if chome {
            format!("{label}の住所に丁目・番地がありません(この町域は丁目あり)")
        } else {
            format!("{label}の住所に番地がないようです")
        },
        json!({"destination": d.index, "town": town.map(|t| t.town), "chome": chome}),
    );
}

/// Strips the 都/府/県 suffix so `東京` and `東京都` agree (北海道 stays whole).
fn pref_stem(key: &str) -> &str {
    key.strip_suffix(['都', '府', '県']).unwrap_or(key)
}

/// Keys under which a city may be written: as Japan Post has it, without its 郡, the ward alone
/// for 政令市 (`札幌市中央区` → `中央区`), and without an island prefix (`八丈島八丈町` → `八丈町`).
fn city_variants(city: &str) -> Vec<String> {
    let key = text::place_key(city);
    let mut v = Vec::with_capacity(3);
    if let Some(i) = key.find('郡').filter(|&i| i > 0)
        && (key.ends_with('町') || key.ends_with('村'))
    {
        v.push(key[i + '郡'.len_utf8()..].to_string());
    }
    if let Some(i) = key.find('市')
        && key.ends_with('区')
        && i + '市'.len_utf8() < key.len()
    {
        v.push(key[i + '市'.len_utf8()..].to_string());
    }
    if let Some(i) = key.rfind('島') {
        let after = &key[i + '島'.len_utf8()..];
        if after.chars().count() >= 2 && (after.ends_with('町') || after.ends_with('村')) {
            v.push(after.to_string());
        }
    }
    v.retain(|s| !s.is_empty());
    v.push(key);
    v
}

/// Label field limits of each carrier the shop prints with.
pub(super) fn check_label(eng: &CheckEngine, d: &Destination<'_>, out: &mut Findings<'_>) {
    let a = d.addr;
    if !a.is_domestic() {
        return;
    }
    let w = |s: &str| text::label_width(s);
    let street = w(&a.prefecture) + w(&a.city) + w(&a.address1);
    let building = w(&a.address2);
    let mut over = Vec::new();
    for &carrier in &eng.rules.label.carriers {
        let l = eng.rules.label_limits(carrier);
        let mut field = |name: &str, width: usize, limit: Option<usize>| {
            if let Some(limit) = limit.filter(|&limit| width > limit) {
                over.push(json!({"carrier": carrier, "system": carrier.label_system(),
                                 "field": name, "width": width, "limit": limit}));
            }
        };
        match l.building {
            Some(b) => {
                field("address", street, Some(l.address));
                field("building", building, Some(b));
            }
            None => field("address", street + building, Some(l.address)),
        }
        field("name", w(&a.name), l.name);
        // Exporters write phones half-width; measure what will be printed.
        field("phone", a.phone.as_deref().map_or(0, |p| w(&text::compact_key(p))), l.phone);
    }
    if !over.is_empty() {
        let fields: Vec<String> = over
            .iter()
            .map(|o| {
                format!(
                    "{} {} {}/{}",
                    o["system"].as_str().unwrap_or_default(),
                    field_ja(o["field"].as_str().unwrap_or_default()),
                    o["width"],
                    o["limit"]
                )
            })
            .collect();
        out.push(
            FindingCode::LabelOverflow,
            format!("{}が送り状の文字数を超えます(半角換算): {}", dest_label(d), fields.join("、")),
            json!({"destination": d.index, "overflows": over}),
        );
    }
}

fn field_ja(field: &str) -> &'static str {
    match field {
        "address" => "住所",
        "building" => "建物名",
        "name" => "氏名",
        "phone" => "電話番号",
        _ => "項目",
    }
}

/// Compiled `suspicious` rules.
pub(super) struct SuspiciousMatcher {
    keywords: Option<AhoCorasick>,
    /// For each pattern, the keyword it came from.
    pattern_keyword: Vec<String>,
    repeated: usize,
    min_street: usize,
}

impl SuspiciousMatcher {
    pub(super) fn compile(r: &SuspiciousRules) -> Self {
        // Names are compared as name_key (katakana); addresses as address_key (kana as typed). So
        // each keyword goes in as its name key and in hiragana, and matches テスト, てすと and ﾃｽﾄ.
        let mut patterns = Vec::new();
        let mut pattern_keyword = Vec::new();
        for k in &r.keywords {
            let key = text::name_key(k);
            let hira: String = key.chars().map(katakana_to_hiragana).collect();
            for p in [key.clone(), hira, text::address_key(k)] {
                if !p.is_empty() && !patterns.contains(&p) {
                    patterns.push(p);
                    pattern_keyword.push(key.clone());
                }
            }
        }
        let keywords = (!patterns.is_empty())
            .then(|| AhoCorasick::builder().match_kind(MatchKind::LeftmostLongest).build(&patterns).ok())
            .flatten();
        SuspiciousMatcher { keywords, pattern_keyword, repeated: r.repeated_chars, min_street: r.min_street_chars }
    }

    fn keyword_in(&self, key: &str) -> Option<&str> {
        let m = self.keywords.as_ref()?.find(key)?;
        Some(self.pattern_keyword[m.pattern().as_usize()].as_str())
    }

    /// The first run of `repeated` equal characters (digits and hyphens excepted).
    fn repeated_run(&self, key: &str) -> Option<char> {
        if self.repeated < 2 {
            return None;
        }
        let mut last = None;
        let mut run = 0;
        for c in key.chars() {
            if Some(c) == last {
                run += 1;
            } else {
                last = Some(c);
                run = 1;
            }
            if run >= self.repeated && !c.is_ascii_digit() && c != '-' {
                return Some(c);
            }
        }
        None
    }

    /// A keyword hit or a repeated run in a key, as evidence.
    fn look(&self, field: &str, key: &str, hits: &mut Vec<serde_json::Value>) {
        if let Some(k) = self.keyword_in(key) {
            hits.push(json!({"field": field, "reason": "keyword", "keyword": k}));
        } else if let Some(c) = self.repeated_run(key) {
            hits.push(json!({"field": field, "reason": "repeated_chars", "char": c.to_string()}));
        }
    }
}

fn katakana_to_hiragana(c: char) -> char {
    match c {
        'ァ'..='ヶ' => char::from_u32(c as u32 - 0x60).unwrap_or(c),
        _ => c,
    }
}

/// Characters other than whitespace.
fn visible_chars(s: &str) -> usize {
    s.chars().filter(|c| !c.is_whitespace()).count()
}

/// Test-like, repeated characters, too short, or a keyword in names and addresses.
pub(super) fn check_suspicious(eng: &CheckEngine, order: &Order, dests: &[Destination<'_>], out: &mut Findings<'_>) {
    let m = &eng.suspicious;
    let mut hits = Vec::new();
    let mut key = String::new();
    if !order.buyer.name.is_empty() {
        text::name_key_into(&order.buyer.name, &mut key);
        m.look("buyer.name", &key, &mut hits);
    }
    for d in dests {
        let a = d.addr;
        let p = if d.index == 0 && order.shipments.is_empty() {
            "ship_to".to_string()
        } else {
            format!("shipments[{}].ship_to", d.index)
        };
        if !a.name.is_empty() && a.name != order.buyer.name {
            text::name_key_into(&a.name, &mut key);
            m.look(&format!("{p}.name"), &key, &mut hits);
        }
        m.look(&format!("{p}.address"), &d.full_key, &mut hits);
        let street = visible_chars(&a.address1) + visible_chars(&a.address2);
        // The city field sometimes carries the whole street (postal-code autofill quirks).
        let city_holds_street = visible_chars(&a.city) > 8;
        if a.is_domestic() && street < m.min_street && !city_holds_street {
            hits.push(json!({"field": format!("{p}.address1"), "reason": "too_short", "chars": street}));
        }
    }
    if !hits.is_empty() {
        let reasons: Vec<&str> = hits
            .iter()
            .map(|h| match h["reason"].as_str() {
                Some("keyword") => "テスト等のキーワード",
                Some("repeated_chars") => "同じ文字の繰り返し",
                _ => "住所が短すぎる",
            })
            .collect();
        out.push(
            FindingCode::Suspicious,
            format!("氏名・住所に不審な点があります: {}", dedup(reasons).join("、")),
            json!({"hits": hits}),
        );
    }
}

fn dedup(mut v: Vec<&str>) -> Vec<&str> {
    let mut seen = Vec::with_capacity(v.len());
    v.retain(|s| {
        let new = !seen.contains(s);
        seen.push(*s);
        new
    });
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::postal::PostalTable;

    #[test]
    fn no_real_place_name_looks_suspicious_under_the_default_rules() {
        let m = SuspiciousMatcher::compile(&SuspiciousRules::default());
        let mut flagged = Vec::new();
        for e in PostalTable::embedded().entries().filter(|e| e.kind() == CodeKind::Area) {
            for t in e.towns() {
                let key = text::address_key(&format!("{}{}{}", t.city, t.town, "1-2-3"));
                if m.keyword_in(&key).is_some() || m.repeated_run(&key).is_some() {
                    flagged.push(format!("{} {}{}", e.code_str(), t.city, t.town));
                }
            }
        }
        assert!(flagged.is_empty(), "{flagged:?}");
    }

    #[test]
    fn city_variants_cover_how_cities_are_written() {
        assert!(city_variants("札幌市中央区").contains(&"中央区".to_string()));
        assert!(city_variants("苫前郡羽幌町").contains(&"羽幌町".to_string()));
        assert!(city_variants("八丈島八丈町").contains(&"八丈町".to_string()));
        // 郡山市 starts with 郡: no variant that drops it.
        assert_eq!(city_variants("郡山市"), vec![text::place_key("郡山市")]);
    }
}
