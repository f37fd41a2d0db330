//! Text as the label programs take it: Shift_JIS (CP932) limited to JIS X 0208 (B2クラウド accepts
//! only JIS level 1 and 2 kanji; the others are expected to share the limit), no line breaks, no
//! characters that could shift CSV columns, lengths counted in Shift_JIS bytes.
//!
//! Substitutions are few and documented (`docs/LABELS.md`): look-alike symbols and the
//! IBM/NEC-extension forms of common name kanji (髙 → 高) become their JIS X 0208 form; anything
//! else outside the repertoire is an error naming the field, never a `&#NNNN;` on a label.

use encoding_rs::SHIFT_JIS;

use super::LabelError;

/// Characters replaced before encoding: (from, to).
const SUBSTITUTES: &[(char, &str)] = &[
    // Look-alikes that CP932 spells with another code point (Mac input, web forms).
    ('\u{301C}', "～"),
    ('\u{2016}', "∥"),
    ('\u{2014}', "―"),
    ('\u{2212}', "－"),
    ('\u{00A2}', "￠"),
    ('\u{00A3}', "￡"),
    ('\u{00AC}', "￢"),
    ('\u{00A0}', " "),
    // CSV safety: a quote or a comma never reaches the file (some importers split naively).
    ('"', "”"),
    (',', "，"),
    // Kanji outside JIS X 0208 that have a standard form (names: 髙橋, 山﨑, 𠮷田 ...).
    ('髙', "高"),
    ('﨑', "崎"),
    ('德', "徳"),
    ('濵', "濱"),
    ('栁', "柳"),
    ('桒', "桑"),
    ('瀨', "瀬"),
    ('\u{20BB7}', "吉"),
    ('\u{2123D}', "土"),
    // NEC special characters (row 13) that B2 does not take.
    ('㈱', "(株)"),
    ('㈲', "(有)"),
    ('№', "No."),
    ('℡', "TEL"),
];

/// Circled numbers ①–⑳ and Roman numerals Ⅰ–Ⅹ / ⅰ–ⅹ, spelled out.
fn numbered(c: char) -> Option<String> {
    let n = c as u32;
    match n {
        0x2460..=0x2473 => Some(format!("({})", n - 0x2460 + 1)),
        0x2160..=0x2169 => Some(roman(n - 0x2160 + 1).to_string()),
        0x2170..=0x2179 => Some(roman(n - 0x2170 + 1).to_ascii_lowercase()),
        _ => None,
    }
}

fn roman(n: u32) -> &'static str {
    ["I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X"][(n as usize).saturating_sub(1).min(9)]
}

/// `text` with line breaks, tabs and other control characters as spaces, the substitutions made,
/// and no leading or trailing spaces.
pub fn clean(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() {
            out.push(' ');
        } else if let Some((_, to)) = SUBSTITUTES.iter().find(|(from, _)| *from == c) {
            out.push_str(to);
        } else if let Some(spelled) = numbered(c) {
            out.push_str(&spelled);
        } else {
            out.push(c);
        }
    }
    out.trim_matches([' ', '　']).to_string()
}

/// The Shift_JIS bytes of one character, or `None` when it is outside the repertoire
/// (not in CP932, or in one of its extensions beyond JIS X 0208).
pub fn char_bytes(c: char) -> Option<Vec<u8>> {
    let mut buf = [0u8; 4];
    let (bytes, _, unmappable) = SHIFT_JIS.encode(c.encode_utf8(&mut buf));
    if unmappable {
        return None;
    }
    match bytes.as_ref() {
        [_] => Some(bytes.into_owned()),
        // JIS X 0208: rows 1–8 (lead 0x81–0x84) and the kanji rows 16–84 (lead 0x88–0xEA).
        [0x81..=0x84 | 0x88..=0xEA, _] => Some(bytes.into_owned()),
        _ => None,
    }
}

/// Encodes cleaned text strictly: the first character outside the repertoire is an error.
pub fn encode(field: &'static str, text: &str) -> Result<Vec<u8>, LabelError> {
    let mut out = Vec::with_capacity(text.len());
    for c in text.chars() {
        match char_bytes(c) {
            Some(b) => out.extend_from_slice(&b),
            None => return Err(LabelError::Unrepresentable { field, code: u32::from(c) }),
        }
    }
    Ok(out)
}

/// [`clean`]s and [`encode`]s `text`, which must fit `limit` bytes.
pub fn field(field: &'static str, text: &str, limit: usize) -> Result<Vec<u8>, LabelError> {
    let bytes = encode(field, &clean(text))?;
    if bytes.len() > limit {
        return Err(LabelError::TooLong { field, bytes: bytes.len(), limit });
    }
    Ok(bytes)
}

/// Spreads `parts` (already in reading order) over fields of `limits` bytes: each part in its own
/// field when they fit that way, else character by character across the fields in order.
/// Text that does not fit them all is an error, never cut.
pub fn lines(field: &'static str, parts: &[&str], limits: &[usize]) -> Result<Vec<Vec<u8>>, LabelError> {
    let cleaned: Vec<String> = parts.iter().map(|p| clean(p)).filter(|p| !p.is_empty()).collect();
    let encoded: Vec<Vec<u8>> = cleaned.iter().map(|p| encode(field, p)).collect::<Result<_, _>>()?;
    let mut out = vec![Vec::new(); limits.len()];
    if encoded.len() <= limits.len() && encoded.iter().zip(limits).all(|(e, &l)| e.len() <= l) {
        for (slot, e) in out.iter_mut().zip(encoded) {
            *slot = e;
        }
        return Ok(out);
    }
    let total: usize = encoded.iter().map(Vec::len).sum::<usize>() + encoded.len().saturating_sub(1);
    let joined = cleaned.join(" ");
    let mut line = 0;
    for c in joined.chars() {
        let b = char_bytes(c).ok_or(LabelError::Unrepresentable { field, code: u32::from(c) })?;
        while line < limits.len() && out[line].len() + b.len() > limits[line] {
            line += 1;
        }
        let Some(current) = out.get_mut(line) else {
            return Err(LabelError::TooLong { field, bytes: total, limit: limits.iter().sum() });
        };
        // A space that would start a field is dropped.
        if !(current.is_empty() && c == ' ') {
            current.extend_from_slice(&b);
        }
    }
    Ok(out)
}

/// Item names for 品名 fields: one item a field (`name×qty`), cut to the field with `…`; the last
/// field says how many more items there are (`他N点`). Characters outside the repertoire are
/// left out: 品名 describes the parcel and loses nothing the carrier needs.
pub fn goods(items: &[(String, u32)], fields: usize, limit: usize) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for (i, (name, qty)) in items.iter().enumerate().take(fields) {
        let text = if *qty > 1 { format!("{}×{qty}", clean(name)) } else { clean(name) };
        let more = items.len() - i - 1;
        let tail = if i + 1 == fields && more > 0 { format!(" 他{more}点") } else { String::new() };
        out.push(cut(&text, &tail, limit));
    }
    out
}

/// `text` + `tail` in at most `limit` bytes: `text` is cut, with `…`, to leave room for `tail`.
fn cut(text: &str, tail: &str, limit: usize) -> Vec<u8> {
    let lossy = |s: &str| -> Vec<u8> { s.chars().filter_map(char_bytes).flatten().collect() };
    let (body, tail) = (lossy(text), lossy(tail));
    if body.len() + tail.len() <= limit {
        return [body, tail].concat();
    }
    let ellipsis = lossy("…");
    let room = limit.saturating_sub(tail.len() + ellipsis.len());
    let mut kept = Vec::new();
    for c in text.chars() {
        let Some(b) = char_bytes(c) else { continue };
        if kept.len() + b.len() > room {
            break;
        }
        kept.extend_from_slice(&b);
    }
    let mut out = [kept, ellipsis, tail].concat();
    out.truncate(limit);
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn text(b: &[u8]) -> String {
        SHIFT_JIS.decode(b).0.into_owned()
    }

    #[test]
    fn substitutes_look_alikes_and_name_kanji() {
        assert_eq!(text(&field("f", "髙橋\u{301C}﨑 ①,\"x\"", 64).unwrap()), "高橋～崎 (1)，”x”");
        assert_eq!(text(&field("f", "𠮷田\r\n一郎", 64).unwrap()), "吉田  一郎");
    }

    #[test]
    fn rejects_what_has_no_form() {
        let e = field("お届け先名", "山田😀", 64).unwrap_err();
        assert!(matches!(e, LabelError::Unrepresentable { field: "お届け先名", code: 0x1F600 }), "{e}");
        assert!(encode("f", "ゔ").is_err());
    }

    #[test]
    fn counts_bytes_full_width_two_half_width_one() {
        assert_eq!(field("f", "ｱｲｳabc", 6).unwrap().len(), 6);
        assert!(matches!(field("f", "あいう", 5), Err(LabelError::TooLong { bytes: 6, limit: 5, .. })));
    }

    #[test]
    fn lines_keep_parts_apart_when_they_fit_and_spread_when_not() {
        let l = lines("住所", &["東京都千代田区", "千代田1-1"], &[32, 32]).unwrap();
        assert_eq!(text(&l[0]), "東京都千代田区");
        assert_eq!(text(&l[1]), "千代田1-1");
        let long = "あ".repeat(20);
        let l = lines("住所", &[&long, "い"], &[32, 32]).unwrap();
        assert_eq!(text(&l[0]), "あ".repeat(16));
        assert_eq!(text(&l[1]), "ああああ い");
        assert!(matches!(lines("住所", &[&"あ".repeat(40)], &[32, 32]), Err(LabelError::TooLong { .. })));
    }

    #[test]
    fn goods_fit_and_count_the_rest() {
        let items =
            vec![("マグカップ ホワイト".to_string(), 2), ("ステッカー".to_string(), 1), ("靴下".to_string(), 1)];
        let g = goods(&items, 2, 32);
        assert_eq!(text(&g[0]), "マグカップ ホワイト×2");
        assert_eq!(text(&g[1]), "ステッカー 他1点");
        let g = goods(&[("あ".repeat(30), 1)], 1, 20);
        assert_eq!(text(&g[0]), format!("{}…", "あ".repeat(9)));
    }
}
