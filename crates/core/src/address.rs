//! Japanese address helpers shared by the checks and the marketplace mappings.

use crate::postal::PostalTable;

/// The 47 prefectures as Japan Post writes them.
pub const PREFECTURES: [&str; 47] = [
    "北海道",
    "青森県",
    "岩手県",
    "宮城県",
    "秋田県",
    "山形県",
    "福島県",
    "茨城県",
    "栃木県",
    "群馬県",
    "埼玉県",
    "千葉県",
    "東京都",
    "神奈川県",
    "新潟県",
    "富山県",
    "石川県",
    "福井県",
    "山梨県",
    "長野県",
    "岐阜県",
    "静岡県",
    "愛知県",
    "三重県",
    "滋賀県",
    "京都府",
    "大阪府",
    "兵庫県",
    "奈良県",
    "和歌山県",
    "鳥取県",
    "島根県",
    "岡山県",
    "広島県",
    "山口県",
    "徳島県",
    "香川県",
    "愛媛県",
    "高知県",
    "福岡県",
    "佐賀県",
    "長崎県",
    "熊本県",
    "大分県",
    "宮崎県",
    "鹿児島県",
    "沖縄県",
];

/// Splits a one-line address (`東京都千代田区千代田1-1`) into prefecture, city and the rest. The
/// city is recognised through the postal table's cities for `postal_code`, so 市川市 and 四日市市
/// are cut right; what is not recognised stays in the rest. Spaces after each part are dropped.
pub fn split_address(postal_code: &str, line: &str) -> (String, String, String) {
    let skip = |s: &str| s.trim_start_matches([' ', '\u{3000}']).to_owned();
    let line = line.trim_start_matches([' ', '\u{3000}']);
    let (pref, rest) = match PREFECTURES.iter().find_map(|p| line.strip_prefix(p).map(|r| (*p, r))) {
        Some((p, r)) => (p, skip(r)),
        None => ("", line.to_owned()),
    };
    let city = PostalTable::embedded().get(postal_code).and_then(|e| {
        e.towns()
            .find(|t| (pref.is_empty() || t.prefecture == pref) && !t.city.is_empty() && rest.starts_with(t.city))
            .map(|t| t.city)
    });
    match city {
        Some(c) => (pref.to_owned(), c.to_owned(), skip(&rest[c.len()..])),
        None => (pref.to_owned(), String::new(), rest),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_prefecture_city_and_street() {
        let s = |code: &str, line: &str| split_address(code, line);
        assert_eq!(s("1000001", "東京都千代田区千代田1-1"), ("東京都".into(), "千代田区".into(), "千代田1-1".into()));
        assert_eq!(s("2720034", "千葉県 市川市 市川1-1"), ("千葉県".into(), "市川市".into(), "市川1-1".into()));
        // Unknown code: the city stays in the rest.
        assert_eq!(
            s("9999999", "大阪府大阪市北区梅田1-1"),
            ("大阪府".into(), String::new(), "大阪市北区梅田1-1".into())
        );
        // No prefecture written.
        assert_eq!(s("1000001", "千代田区千代田1-1"), (String::new(), "千代田区".into(), "千代田1-1".into()));
    }
}
