//! Carrier facts: tracking-number check digits and tracking URLs (see `shared/notes/carriers.md`).

use crate::order::Carrier;

// unverified: URL patterns used by public clients, not taken from the carriers' own pages.
/// ヤマト運輸 tracking page; `{number}` is replaced by the digits.
pub const YAMATO_TRACKING_URL: &str = "https://jizen.kuronekoyamato.co.jp/jizen/servlet/crjz.b.NQ0010?id={number}";
/// 佐川急便 tracking page.
pub const SAGAWA_TRACKING_URL: &str = "https://k2k.sagawa-exp.co.jp/p/web/okurijosearch.do?okurijoNo={number}";
/// 日本郵便 tracking page.
pub const JAPANPOST_TRACKING_URL: &str =
    "https://trackings.post.japanpost.jp/services/srv/search/direct?reqCodeNo1={number}";

/// The digits of a tracking number as carriers print it (`1234-5678-9012` → `123456789012`).
pub fn tracking_digits(number: &str) -> String {
    number.chars().filter_map(|c| c.to_digit(10).map(|d| char::from(b'0' + d as u8))).collect()
}

/// Check digit of the first 11 digits: the number they form, modulo 7.
// unverified: the mod-7 rule comes from public client code; the carriers do not publish it.
pub fn check_digit(first11: &str) -> Option<u8> {
    if first11.len() != 11 || !first11.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: u64 = first11.parse().ok()?;
    Some((n % 7) as u8)
}

/// Whether a Yamato, Sagawa or Japan Post number is 12 digits with a right check digit.
/// Numbers of other carriers are accepted when they have at least one digit.
pub fn tracking_number_valid(carrier: Carrier, number: &str) -> bool {
    let digits = tracking_digits(number);
    match carrier {
        Carrier::Yamato | Carrier::Sagawa | Carrier::Japanpost => {
            digits.len() == 12 && check_digit(&digits[..11]) == digits[11..].parse::<u8>().ok()
        }
        Carrier::Other => !digits.is_empty(),
    }
}

/// The buyer-facing tracking URL of a valid number, or `None` (unknown carrier or bad number).
pub fn tracking_url(carrier: Carrier, number: &str) -> Option<String> {
    let pattern = match carrier {
        Carrier::Yamato => YAMATO_TRACKING_URL,
        Carrier::Sagawa => SAGAWA_TRACKING_URL,
        Carrier::Japanpost => JAPANPOST_TRACKING_URL,
        Carrier::Other => return None,
    };
    tracking_number_valid(carrier, number).then(|| pattern.replace("{number}", &tracking_digits(number)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_digits() {
        // 12345678901 mod 7 = 3.
        assert_eq!(check_digit("12345678901"), Some(3));
        assert!(tracking_number_valid(Carrier::Yamato, "1234-5678-9013"));
        assert!(!tracking_number_valid(Carrier::Yamato, "1234-5678-9012"));
        assert!(!tracking_number_valid(Carrier::Sagawa, "12345"));
        assert!(tracking_number_valid(Carrier::Other, "EJ123456789JP"));
    }

    #[test]
    fn urls_only_for_valid_numbers() {
        assert_eq!(
            tracking_url(Carrier::Japanpost, "1234 5678 9013").as_deref(),
            Some("https://trackings.post.japanpost.jp/services/srv/search/direct?reqCodeNo1=123456789013")
        );
        assert_eq!(tracking_url(Carrier::Sagawa, "123456789012"), None);
        assert_eq!(tracking_url(Carrier::Other, "123"), None);
    }
}
