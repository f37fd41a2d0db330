//! CSV files staff open and save in a spreadsheet: cells it could run (OWASP's CSV-injection
//! rule), and reading back what it saved ([`decode`]).
//!
//! Excel, LibreOffice and Google Sheets read a cell that starts with `=`, `+`, `-` or `@` as a
//! formula (`=HYPERLINK(…)` sends data away, `+cmd|…` runs a program with DDE), and a leading
//! tab or carriage return hides such a start. Buyer names, addresses, remarks and marketplace
//! labels are free text, so every CSV the staff open gets [`cell`] on each field: a cell that
//! starts with one of these characters (or their full-width forms, which Japanese input produces)
//! is prefixed with `'`, which the spreadsheet shows and never evaluates. A plain integer (`-300`)
//! is not a formula and is left as it is, so amounts stay numbers.

use std::borrow::Cow;
use std::io::Write;

/// UTF-8 byte order mark: without it Excel opens the file as Shift_JIS.
const BOM: &[u8] = "\u{feff}".as_bytes();

/// A CSV writer for a file staff open in a spreadsheet (`ichigen export --format csv`, `ichigen
/// orders list --format csv`, the console's download): UTF-8 with a byte order mark, so Excel
/// reads the Japanese as UTF-8, and CRLF line ends. Write its rows with [`write_row`].
pub fn csv_writer<W: Write>(mut out: W) -> Result<csv::Writer<W>, csv::Error> {
    out.write_all(BOM)?;
    Ok(csv::WriterBuilder::new().terminator(csv::Terminator::CRLF).from_writer(out))
}

/// Writes one row of a [`csv_writer`], every field through [`cell`].
pub fn write_row<W: Write, C: AsRef<str>>(
    csv: &mut csv::Writer<W>,
    row: impl IntoIterator<Item = C>,
) -> Result<(), csv::Error> {
    csv.write_record(row.into_iter().map(|c| cell(c.as_ref()).into_owned()))
}

/// A file that is neither UTF-8 nor Shift_JIS: the first line that does not read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{line}行目がUTF-8でもShift_JISでも読めません")]
pub struct BadEncoding {
    /// 1-based line.
    pub line: usize,
}

/// Decodes a file a spreadsheet or a label program saved: UTF-8 (a BOM dropped) when it is valid
/// UTF-8, else Shift_JIS (CP932, what Excel on Japanese Windows saves as CSV).
pub fn decode(bytes: &[u8]) -> Result<String, BadEncoding> {
    let bytes = bytes.strip_prefix("\u{feff}".as_bytes()).unwrap_or(bytes);
    if let Ok(text) = std::str::from_utf8(bytes) {
        return Ok(text.to_string());
    }
    let (text, had_errors) = encoding_rs::SHIFT_JIS.decode_without_bom_handling(bytes);
    if had_errors {
        let line = text.lines().position(|l| l.contains('\u{fffd}')).map_or(1, |i| i + 1);
        return Err(BadEncoding { line });
    }
    Ok(text.into_owned())
}

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
