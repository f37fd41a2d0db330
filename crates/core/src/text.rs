//! Japanese text normalisation for comparison keys (names, phones, e-mails, postal codes,
//! place names and street addresses).
//!
//! A key is only for comparing: it is never shown or printed. Labels keep what the customer typed.
//!
//! Every key function makes a single pass over the characters of its input (after a cheap pass
//! that decides whether NFKC is needed), keeps at most two characters of look-ahead and allocates
//! nothing but the returned `String`; the `_into` variants write into a caller-owned buffer
//! instead, which they clear first. No regex. Nothing here panics, whatever the input.
//!
//! The pipeline has two stages:
//! 1. per character: NFKC (skipped when the input already is NFKC, as decided with
//!    [`is_nfkc_quick`]; full-width ASCII and U+3000 are mapped directly), hyphen look-alikes →
//!    `-`, whitespace and zero-width characters dropped, ASCII lower-cased, plus per-key folds
//!    (hiragana → katakana for names, variant kanji, ヶ/ヵ → ケ for places);
//! 2. in context: ー between digits → `-` (all text keys); for place and address keys also kanji
//!    numerals in number contexts → Arabic, 丁目/丁/番地/番 after a number → `-`, が/の/之
//!    between kanji, and the `-` clean-up.
//!
//! The rules for place and street keys are built so that, for a KEN_ALL town name `t` and an order
//! street text that begins with `t` (in any of the equivalent spellings),
//! `address_key(street).starts_with(&place_key(t))`; the tests check this.

use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfkc_quick};

/// KATAKANA-HIRAGANA PROLONGED SOUND MARK; NFKC turns the half-width ｰ into this.
const CHOON: char = 'ー';

/// NFKC, hyphen/dash look-alikes → `-`, ー/ｰ between digits → `-`, all whitespace removed, ASCII
/// lower-cased.
///
/// Zero-width characters (U+200B–U+200D, U+2060, U+FEFF) and the soft hyphen U+00AD are dropped
/// with the whitespace, since they are invisible in what the customer typed.
pub fn compact_key(s: &str) -> String {
    let mut out = String::new();
    compact_key_into(s, &mut out);
    out
}

/// [`compact_key`] written into `out`, which is cleared first (its capacity is reused).
pub fn compact_key_into(s: &str, out: &mut String) {
    key_into(s, Mode::Compact, out);
}

/// Person names: [`compact_key`] + hiragana → katakana, variant kanji → standard form, trailing
/// 様/さま/殿 dropped.
///
/// Kana and kanji spellings of the same name do not meet: `name_key("山田太郎")` and
/// `name_key("やまだたろう")` differ.
pub fn name_key(s: &str) -> String {
    let mut out = String::new();
    name_key_into(s, &mut out);
    out
}

/// [`name_key`] written into `out`, which is cleared first.
pub fn name_key_into(s: &str, out: &mut String) {
    key_into(s, Mode::Name, out);
    // さま has become サマ by now. Repeated honorifics (様様) are all dropped.
    while let Some(rest) = out.strip_suffix(['様', '殿']).or_else(|| out.strip_suffix("サマ")) {
        let len = rest.len();
        out.truncate(len);
    }
}

/// Phone: digits only after NFKC; a leading +81 / 81 country code becomes 0; `None` if fewer
/// than 10 or more than 11 digits remain.
///
/// `+81 (0)90…` (country code followed by the trunk 0) also gives `090…`. Domestic numbers
/// always start with 0, so a leading `81` can only be the country code.
pub fn phone_key(s: &str) -> Option<String> {
    // "81" + "0" + 11 digits is the longest input that can still give a valid key.
    const MAX_RAW: usize = 14;
    let mut buf = [0u8; MAX_RAW];
    let mut n = 0usize;
    let mut push = |c: char| -> bool {
        if c.is_ascii_digit() {
            if n == MAX_RAW {
                return false;
            }
            buf[n] = c as u8;
            n += 1;
        }
        true
    };
    if !nfkc_all(s, &mut push) {
        return None;
    }
    let digits = &buf[..n];
    let mut out = String::with_capacity(11);
    let rest = match digits.strip_prefix(b"81") {
        Some(rest) => {
            if rest.first() != Some(&b'0') {
                out.push('0');
            }
            rest
        }
        None => digits,
    };
    out.extend(rest.iter().map(|&b| char::from(b)));
    (10..=11).contains(&out.len()).then_some(out)
}

/// E-mail: NFKC, trimmed, lower-cased (full Unicode lower-casing). `None` if it has no `@` with
/// text on both sides.
pub fn email_key(s: &str) -> Option<String> {
    let mut out = String::with_capacity(s.len());
    nfkc_all(s, |c| {
        if c.is_ascii() {
            out.push(c.to_ascii_lowercase());
        } else {
            out.extend(c.to_lowercase());
        }
        true
    });
    // Trim after NFKC: it turns U+3000 and friends into plain spaces.
    let end = out.trim_end().len();
    out.truncate(end);
    let start = out.len() - out.trim_start().len();
    out.drain(..start);
    let b = out.as_bytes();
    (b.len() >= 3 && b[1..b.len() - 1].contains(&b'@')).then_some(out)
}

/// Postal code: NFKC, strip 〒, spaces and hyphen look-alikes; `Some(7 ASCII digits)` or `None`.
///
/// ー/ｰ count as hyphens here (a postal code has no kana), so `100ー0001` is accepted. Any other
/// character, or a digit count other than 7, gives `None`.
pub fn postal_code_key(s: &str) -> Option<String> {
    let mut buf = [0u8; 7];
    let mut n = 0usize;
    let mut push = |c: char| -> bool {
        if c.is_ascii_digit() {
            if n == buf.len() {
                return false;
            }
            buf[n] = c as u8;
            n += 1;
            true
        } else {
            c == '〒' || c == '-' || c == CHOON || is_dash(c) || c.is_whitespace() || is_invisible(c)
        }
    };
    let ok = nfkc_all(s, &mut push);
    (ok && n == buf.len()).then(|| buf.iter().map(|&b| char::from(b)).collect())
}

/// Place names (prefecture, city, KEN_ALL 町域): [`compact_key`] + variant kanji + ヶ/ヵ/ケ/が
/// between kanji (and ヶ/ヵ anywhere) → ケ, の/ノ/之 between kanji → ノ, kanji numerals → Arabic
/// only in number contexts (before 丁目 丁 番地 番 号 条 線 地割 区, or before a hyphen-like
/// char), then 丁目/丁/番地/番 right after a number → `-`.
///
/// Like [`address_key`], runs of `-` collapse to one and a trailing `-` is dropped, so that a town
/// written with its 丁目 (`…３丁目`) is still a prefix of a street text that stops right there.
pub fn place_key(s: &str) -> String {
    let mut out = String::new();
    place_key_into(s, &mut out);
    out
}

/// [`place_key`] written into `out`, which is cleared first.
pub fn place_key_into(s: &str, out: &mut String) {
    key_into(s, Mode::Place, out);
}

/// Street part of an order address (address1/address2 joined): as [`place_key`], and in addition:
/// end of text is a number context, 「の」 between numbers → `-`, a trailing 号 after a number is
/// dropped, runs of `-` collapse to one, a trailing `-` is dropped.
///
/// 号 is dropped only after a number that itself follows a `-` (`3-5-7号` → `3-5-7`), so that
/// Hokkaido grid towns such as 南7号, where 号 is part of the town name, keep it. It is dropped
/// there also when a building name follows (`5-7号ハイツ` → `5-7ハイツ`), not only at the end, so
/// that whole keys of the same address compare equal; it is kept before an Arabic digit and in
/// 号室/号棟/号館.
pub fn address_key(s: &str) -> String {
    let mut out = String::new();
    address_key_into(s, &mut out);
    out
}

/// [`address_key`] written into `out`, which is cleared first.
pub fn address_key_into(s: &str, out: &mut String) {
    key_into(s, Mode::Address, out);
}

/// Parse a kanji numeral run (positional or unit style), e.g. "二〇五" → 205, "二百五" → 205,
/// "十二" → 12, "百" → 100. `None` if not a numeral, or if the value does not fit in a `u64`.
///
/// Digits: 〇 零 一…九 and the legal forms 壱 弐 参 (壹 貳 參). Units: 十 拾 百 千 and 廿 (= 二十);
/// also 万 萬 億 兆 京, which the address keys never treat as numerals (万 is common in place
/// names and house numbers do not use it). Without any unit the run is read positionally (any
/// length, leading 〇 allowed). With units, each unit takes at most one digit in front (none
/// means 1), small units must decrease within each 万 group, and big units must decrease:
/// "一二百", "十十" and "百千" are `None`.
pub fn parse_kanji_number(s: &str) -> Option<u64> {
    if s.is_empty() {
        return None;
    }
    if s.chars().all(|c| kanji_digit(c).is_some()) {
        return s.chars().try_fold(0u64, |v, c| v.checked_mul(10)?.checked_add(kanji_digit(c)?));
    }
    let mut total = 0u64; // sum of finished 万/億/兆/京 groups
    let mut section = 0u64; // the group being read, below 10000
    let mut pending: Option<u64> = None; // a digit still waiting for its unit
    let mut last_small = u64::MAX;
    let mut last_big = u64::MAX;
    for c in s.chars() {
        if let Some(d) = kanji_digit(c) {
            // 〇五 reads as 5; two significant digits in a row (一二百) is not unit style.
            let p = pending.unwrap_or(0) * 10 + d;
            if p > 9 {
                return None;
            }
            pending = Some(p);
        } else if let Some(u) = small_unit(c) {
            if u >= last_small {
                return None;
            }
            let m = match (c, pending.take()) {
                ('廿', None) => 2,
                ('廿', Some(_)) | (_, Some(0)) => return None,
                (_, Some(m)) => m,
                (_, None) => 1,
            };
            section += m * u;
            last_small = u;
        } else if let Some(b) = big_unit(c) {
            if b >= last_big {
                return None;
            }
            let group = match (section, pending.take()) {
                (0, Some(0)) => return None,
                // A bare 万 means 一万, but only at the start (一億万 is not a numeral).
                (0, None) if last_big == u64::MAX => 1,
                (0, None) => return None,
                (sec, p) => sec + p.unwrap_or(0),
            };
            total = total.checked_add(group.checked_mul(b)?)?;
            section = 0;
            last_small = u64::MAX;
            last_big = b;
        } else {
            return None;
        }
    }
    total.checked_add(section + pending.unwrap_or(0))
}

/// Whether `rest` (a suffix of an [`address_key`]) starts with a house number: optional leading
/// `-` or 字/大字 prefix-words are NOT skipped; it must start with an ASCII digit (after at most
/// one leading `-`).
pub fn starts_with_house_number(rest: &str) -> bool {
    let b = rest.as_bytes();
    let b = b.strip_prefix(b"-").unwrap_or(b);
    b.first().is_some_and(u8::is_ascii_digit)
}

/// Label width in half-width units: ASCII and half-width katakana (U+FF61–U+FF9F) count 1,
/// everything else 2 (carrier limits are 全角N = 半角2N). Counts the text as given, without
/// normalising it.
pub fn label_width(s: &str) -> usize {
    s.chars().map(|c| if c.is_ascii() || ('\u{FF61}'..='\u{FF9F}').contains(&c) { 1 } else { 2 }).sum()
}

// ---------------------------------------------------------------------------------------------
// Implementation
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Compact,
    Name,
    Place,
    Address,
}

impl Mode {
    /// Place and address keys get the context rules (numerals, 丁目/番地, が/の, `-` collapsing).
    fn structured(self) -> bool {
        matches!(self, Mode::Place | Mode::Address)
    }
}

/// How to get the NFKC form of a string.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Nfkc {
    /// Already NFKC.
    AsIs,
    /// NFKC only by full-width ASCII and U+3000, which map one-to-one: see [`simple_nfkc`].
    Simple,
    /// Needs the real normaliser.
    Full,
}

/// Chooses the cheapest correct way to NFKC `s`.
///
/// Order text is mostly kana, kanji and ASCII, with full-width digits, hyphens and spaces.
/// Running the normaliser over all of it costs several times the rest of a key, so:
/// - kana, CJK ideographs and ASCII are known to be starters (combining class 0) with NFKC
///   quick-check `Yes` (a test checks them against the library), so they need no look-up;
/// - any other character is checked on its own with [`is_nfkc_quick`] and the combining class;
///   a string made only of class-0 `Yes` characters is NFKC (this is the quick-check algorithm:
///   anything that could compose with a neighbour is `Maybe` and sends us to `Full`);
/// - full-width ASCII and U+3000 map one-to-one onto ASCII under NFKC. NFKC only depends on the
///   compatibility decomposition, which is the same before and after that mapping, and the
///   mapped string is made of class-0 `Yes` characters, so the mapping *is* its NFKC.
///
/// Anything else (half-width kana, combining marks, ①, ㈱ …) takes the full normaliser.
fn choose_nfkc(s: &str) -> Nfkc {
    let mut path = Nfkc::AsIs;
    for c in s.chars() {
        if is_plain_starter(c) {
            continue;
        }
        if simple_nfkc(c) != c {
            path = Nfkc::Simple;
            continue;
        }
        if unicode_normalization::char::canonical_combining_class(c) != 0
            || is_nfkc_quick(std::iter::once(c)) != IsNormalized::Yes
        {
            return Nfkc::Full;
        }
    }
    path
}

/// Class-0 characters with NFKC quick-check `Yes` that make up most order text: ASCII, hiragana
/// ぁ…ゖ, katakana ァ…ヺ and ー, CJK unified ideographs.
fn is_plain_starter(c: char) -> bool {
    matches!(
        c,
        '\0'..='\u{7F}'
            | '\u{3041}'..='\u{3096}'
            | '\u{30A1}'..='\u{30FA}'
            | 'ー'
            | '\u{4E00}'..='\u{9FFF}'
    )
}

/// NFKC of full-width ASCII (U+FF01–U+FF5E) and of the ideographic space; other characters are
/// returned unchanged.
fn simple_nfkc(c: char) -> char {
    match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        '\u{3000}' => ' ',
        _ => c,
    }
}

/// `f` over the NFKC form of `s`, stopping at the first `false` (like [`Iterator::all`]).
fn nfkc_all(s: &str, f: impl FnMut(char) -> bool) -> bool {
    match choose_nfkc(s) {
        Nfkc::AsIs => s.chars().all(f),
        Nfkc::Simple => s.chars().map(simple_nfkc).all(f),
        Nfkc::Full => s.nfkc().all(f),
    }
}

fn key_into(s: &str, mode: Mode, out: &mut String) {
    out.clear();
    out.reserve(s.len());
    // Monomorphic copies of the scanner for each way of normalising. The normaliser's iterator
    // buffers a few chars inline, without heap allocation.
    match choose_nfkc(s) {
        Nfkc::AsIs => scan(s.chars(), mode, out),
        Nfkc::Simple => scan(s.chars().map(simple_nfkc), mode, out),
        Nfkc::Full => scan(s.nfkc(), mode, out),
    }
}

/// Stage 1: the context-free per-character fold. `None` drops the character.
#[inline]
fn fold_char(c: char, mode: Mode) -> Option<char> {
    if c.is_ascii() {
        return if c.is_ascii_uppercase() {
            Some(c.to_ascii_lowercase())
        } else if c.is_whitespace() {
            None
        } else {
            Some(c)
        };
    }
    if is_dash(c) {
        return Some('-');
    }
    if c.is_whitespace() || is_invisible(c) {
        return None;
    }
    Some(match mode {
        Mode::Compact => c,
        Mode::Name => variant_kanji(hiragana_to_katakana(c)),
        // Small ke/ka (and their rare hiragana forms) only ever stand for the ケ of 茅ヶ崎.
        Mode::Place | Mode::Address => match c {
            'ヶ' | 'ヵ' | 'ゖ' | 'ゕ' => 'ケ',
            _ => variant_kanji(c),
        },
    })
}

/// Two characters of look-ahead over the stage-1 stream: enough for 丁目, 番地, 地割, ー+digit
/// and の+digit after a numeral run.
struct Look<I> {
    it: I,
    a: Option<char>,
    b: Option<char>,
}

impl<I: Iterator<Item = char>> Look<I> {
    fn new(mut it: I) -> Self {
        let a = it.next();
        let b = if a.is_some() { it.next() } else { None };
        Look { it, a, b }
    }
    fn peek(&self) -> Option<char> {
        self.a
    }
    fn peek2(&self) -> Option<char> {
        self.b
    }
    fn bump(&mut self) -> Option<char> {
        let c = self.a;
        self.a = self.b;
        // Never poll the inner iterator again once it has returned None.
        self.b = if self.a.is_some() { self.it.next() } else { None };
        c
    }
}

/// Stage 2, writing into `out` (already cleared).
fn scan<I: Iterator<Item = char>>(it: I, mode: Mode, out: &mut String) {
    let structured = mode.structured();
    let mut look = Look::new(it.filter_map(|c| fold_char(c, mode)));
    while let Some(c) = look.bump() {
        if structured && structured_char(c, &mut look, mode, out) {
            continue;
        }
        if c == CHOON {
            // ー typed for a hyphen: only between digits (or, in place/address keys, kanji
            // numerals), because KEN_ALL has thousands of genuine ー (流通センター).
            let mut n = 1usize;
            while look.peek() == Some(CHOON) {
                look.bump();
                n += 1;
            }
            let dash = last_char(out).is_some_and(|p| digit_like(p, structured))
                && look.peek().is_some_and(|q| digit_like(q, structured));
            for _ in 0..n {
                if dash {
                    push_dash(out, structured);
                } else {
                    out.push(CHOON);
                }
            }
            continue;
        }
        out.push(c);
    }
    if structured {
        trim_trailing_dashes(out);
    }
}

/// The context rules of place and address keys. Returns false when `c` is not theirs.
fn structured_char<I: Iterator<Item = char>>(c: char, look: &mut Look<I>, mode: Mode, out: &mut String) -> bool {
    if is_numeral_char(c) {
        numeral_run(c, look, mode, out);
        return true;
    }
    match c {
        '-' => push_dash(out, true),
        '丁' | '番' if ends_with_digit(out) => {
            push_dash(out, true);
            let second = if c == '丁' { '目' } else { '地' };
            if look.peek() == Some(second) {
                look.bump();
            }
        }
        'の' if mode == Mode::Address && ends_with_number(out) && look.peek().is_some_and(|n| digit_like(n, true)) => {
            push_dash(out, true);
        }
        // 号 closing a house number (`5-7号`, from 5番7号): dropped, also before a building
        // name. Not after a bare number: in 南7号 (Hokkaido grid) it belongs to the town. Kept
        // before an Arabic digit and in 号室/号棟/号館, which number rooms and buildings; a kanji
        // numeral after it starts a building name (1号 六本木ヒルズ).
        '号' if mode == Mode::Address
            && ends_with_dash_number(out)
            && !look.peek().is_some_and(|n| n.is_ascii_digit() || matches!(n, '室' | '棟' | '館')) => {}
        'が' if between_kanji(out, look.peek()) => out.push('ケ'),
        'の' | '之' if between_kanji(out, look.peek()) => out.push('ノ'),
        _ => return false,
    }
    true
}

/// Copies a run of kanji numerals to `out`; if what follows makes it a number, rewrites it in
/// Arabic digits. Writing first and truncating afterwards avoids any scratch buffer.
fn numeral_run<I: Iterator<Item = char>>(first: char, look: &mut Look<I>, mode: Mode, out: &mut String) {
    let start = out.len();
    out.push(first);
    while let Some(c) = look.peek() {
        if !is_numeral_char(c) {
            break;
        }
        out.push(c);
        look.bump();
    }
    let context = match look.peek() {
        None => mode == Mode::Address,
        Some('丁' | '番' | '号' | '条' | '線' | '区' | '-') => true,
        Some('地') => look.peek2() == Some('割'),
        Some(CHOON) => look.peek2().is_some_and(|c| digit_like(c, true)),
        Some('の') => mode == Mode::Address && look.peek2().is_some_and(|c| digit_like(c, true)),
        Some(_) => false,
    };
    if context {
        // A run that does not parse (十十, or one too large for u64) is left as written.
        if let Some(v) = parse_kanji_number(&out[start..]) {
            out.truncate(start);
            push_u64(out, v);
        }
    }
}

fn push_u64(out: &mut String, mut v: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    out.extend(buf[i..].iter().map(|&b| char::from(b)));
}

fn push_dash(out: &mut String, collapse: bool) {
    if !(collapse && out.ends_with('-')) {
        out.push('-');
    }
}

fn trim_trailing_dashes(out: &mut String) {
    let len = out.trim_end_matches('-').len();
    out.truncate(len);
}

/// The output ends in `-` followed by ASCII digits.
fn ends_with_dash_number(out: &str) -> bool {
    let body = out.trim_end_matches(|c: char| c.is_ascii_digit());
    body.len() < out.len() && body.ends_with('-')
}

fn last_char(out: &str) -> Option<char> {
    out.chars().next_back()
}

fn ends_with_digit(out: &str) -> bool {
    out.as_bytes().last().is_some_and(u8::is_ascii_digit)
}

/// The output ends in a number, or in a number and its separator (`5-` from 5番地, before の).
fn ends_with_number(out: &str) -> bool {
    match out.as_bytes() {
        [.., d] if d.is_ascii_digit() => true,
        [.., d, b'-'] => d.is_ascii_digit(),
        _ => false,
    }
}

fn between_kanji(out: &str, next: Option<char>) -> bool {
    last_char(out).is_some_and(is_kanji) && next.is_some_and(is_kanji)
}

fn digit_like(c: char, with_kanji: bool) -> bool {
    c.is_ascii_digit() || (with_kanji && is_numeral_char(c))
}

fn is_kanji(c: char) -> bool {
    matches!(c as u32, 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x3FFFF)
        || matches!(c, '々' | '〆' | '〇')
}

/// Hyphen and dash look-alikes (address-checks-jp.md §3.1), including the forms NFKC leaves alone.
fn is_dash(c: char) -> bool {
    matches!(
        c,
        '\u{2010}'
            ..='\u{2015}'
                | '\u{2212}'
                | '\u{2500}'
                | '\u{2501}'
                | '\u{2043}'
                | '\u{02D7}'
                | '\u{FE58}'
                | '\u{FE63}'
                | '\u{FF0D}'
    )
}

/// Invisible characters that are not Unicode whitespace but are pasted along with text.
fn is_invisible(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}' | '\u{00AD}')
}

/// A character that can be part of a numeral run in an address (big units excluded).
fn is_numeral_char(c: char) -> bool {
    kanji_digit(c).is_some() || small_unit(c).is_some()
}

fn kanji_digit(c: char) -> Option<u64> {
    Some(match c {
        '〇' | '零' => 0,
        '一' | '壱' | '壹' => 1,
        '二' | '弐' | '貳' => 2,
        '三' | '参' | '參' => 3,
        '四' => 4,
        '五' => 5,
        '六' => 6,
        '七' => 7,
        '八' => 8,
        '九' => 9,
        _ => return None,
    })
}

/// Units below 万. 廿 sits in the tens place with its own multiplier 2.
fn small_unit(c: char) -> Option<u64> {
    Some(match c {
        '十' | '拾' | '廿' => 10,
        '百' => 100,
        '千' => 1000,
        _ => return None,
    })
}

fn big_unit(c: char) -> Option<u64> {
    Some(match c {
        '万' | '萬' => 10_000,
        '億' => 100_000_000,
        '兆' => 1_000_000_000_000,
        '京' => 10_000_000_000_000_000,
        _ => return None,
    })
}

fn hiragana_to_katakana(c: char) -> char {
    match c {
        // ぁ…ゖ and ゝゞ sit exactly 0x60 below ァ…ヶ and ヽヾ.
        '\u{3041}'..='\u{3096}' | '\u{309D}' | '\u{309E}' => char::from_u32(c as u32 + 0x60).unwrap_or(c),
        _ => c,
    }
}

/// Old and variant kanji → the standard form, for matching only. All sources and targets are
/// NFKC-stable (﨑 U+FA11 is one of the compatibility-block ideographs NFKC does not map).
fn variant_kanji(c: char) -> char {
    match c {
        '髙' => '高',
        '﨑' | '嵜' => '崎',
        '邊' | '邉' => '辺',
        '澤' => '沢',
        '齋' => '斎',
        '齊' => '斉',
        '橫' => '横',
        '濱' | '濵' => '浜',
        '廣' => '広',
        '國' => '国',
        '嶋' | '嶌' => '島',
        '櫻' => '桜',
        '德' => '徳',
        '眞' => '真',
        '實' => '実',
        '惠' => '恵',
        '榮' => '栄',
        '藏' => '蔵',
        '龍' => '竜',
        '渕' => '淵',
        '冨' => '富',
        '槇' => '槙',
        '舘' => '館',
        '峯' => '峰',
        '澁' => '渋',
        '淺' => '浅',
        '黑' => '黒',
        '縣' => '県',
        '戶' => '戸',
        '靑' => '青',
        '增' => '増',
        '淸' => '清',
        '條' => '条',
        '號' => '号',
        '樣' => '様',
        '壹' => '壱',
        '貳' => '弐',
        '參' => '参',
        '瀨' => '瀬',
        '驒' => '騨',
        '𠮷' => '吉',
        '栁' => '柳',
        '槗' => '橋',
        '莊' => '荘',
        '萬' => '万',
        '鷗' => '鴎',
        '圓' => '円',
        '會' => '会',
        '寳' | '寶' => '宝',
        '驛' => '駅',
        '舊' => '旧',
        '桒' => '桑',
        _ => c,
    }
}

#[cfg(test)]
mod tests;
