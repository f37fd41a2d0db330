//! CSV cells that a spreadsheet could run: OWASP's CSV-injection rule.
//!
//! Excel, LibreOffice and Google Sheets read a cell that starts with `=`, `+`, `-` or `@` as a
//! formula (`=HYPERLINK(…)` sends data away, `+cmd|…` runs a program with DDE), and a leading
//! tab or carriage return hides such a start. Buyer names, addresses, remarks and marketplace
//! labels are free text, so every CSV the staff open gets [`cell`] on each field: a cell that
//! starts with one of these characters (or their full-width forms, which Japanese input produces)
//! is prefixed with `'`, which the spreadsheet shows and never evaluates. A plain integer (`-300`)
//! is not a formula and is left as it is, so amounts stay numbers.

use std::borrow::Cow;

/// First characters that make a spreadsheet evaluate a cell.
const TRIGGERS: [char; 10] = ['=', '+', '-', '@', '\t', '\r', '＝', '＋', '－', '＠'];

/// `value` as safe to open in a spreadsheet: `'` in front when it starts like a formula.
pub fn cell(value: &str) -> Cow<'_, str> {
    if value.starts_with(TRIGGERS) && !is_plain_integer(value) {
        Cow::Owned(format!("'{value}"))
    } else {
        Cow::Borrowed(value)
    }
}

/// `-` or `+` and then ASCII digits only: a number, never a formula.
fn is_plain_integer(value: &str) -> bool {
    let digits = value.strip_prefix(['-', '+']).unwrap_or(value);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::cell;

    #[test]
    fn formula_starts_are_neutralised() {
        for v in [
            "=1+1",
            "+cmd|' /C calc'!A0",
            "-2+3+cmd|' /C calc'!A0",
            "@SUM(A1)",
            "\t=1",
            "\r=1",
            "＝1+1",
            "+81 90-1234-5678",
        ] {
            assert_eq!(cell(v), format!("'{v}"), "{v:?}");
        }
    }

    #[test]
    fn everything_else_is_kept() {
        for v in ["", "高橋 健一", "-300", "3800", "+81", "千代田1-1", "a=b", "'=1"] {
            assert_eq!(cell(v), v, "{v:?}");
        }
    }
}
