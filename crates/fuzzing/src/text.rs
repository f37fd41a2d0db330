//! The text normaliser: every public key function on one input, with the shape each promises.

use ichigen_core::text as t;

/// Every key function of `ichigen_core::text` on the input, and on each of its words.
pub fn text(data: &[u8]) {
    let s = String::from_utf8_lossy(data);
    keys(&s);
    for word in s.split_whitespace().take(16) {
        keys(word);
    }
}

fn keys(s: &str) {
    // The `_into` variants clear the buffer first and give the same key.
    let mut buf = String::from("前の内容");
    let into = |f: fn(&str, &mut String), buf: &mut String| {
        f(s, buf);
        buf.clone()
    };

    let compact = t::compact_key(s);
    assert_eq!(into(t::compact_key_into, &mut buf), compact, "compact_key_into");
    assert!(!compact.chars().any(char::is_whitespace), "compact_key keeps whitespace");
    assert!(!compact.bytes().any(|b| b.is_ascii_uppercase()), "compact_key keeps upper case");

    let name = t::name_key(s);
    assert_eq!(into(t::name_key_into, &mut buf), name, "name_key_into");
    assert!(!name.ends_with(['様', '殿']) && !name.ends_with("サマ"), "name_key keeps an honorific");

    for (what, key, f) in [
        ("place_key", t::place_key(s), t::place_key_into as fn(&str, &mut String)),
        ("address_key", t::address_key(s), t::address_key_into),
    ] {
        assert_eq!(into(f, &mut buf), key, "{what}_into");
        assert!(!key.contains("--"), "{what} keeps a run of hyphens");
        assert!(!key.ends_with('-'), "{what} keeps a trailing hyphen");
        let _ = t::starts_with_house_number(&key);
    }

    if let Some(p) = t::phone_key(s) {
        assert!((10..=11).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit()), "phone_key shape");
    }
    if let Some(p) = t::postal_code_key(s) {
        assert!(p.len() == 7 && p.bytes().all(|b| b.is_ascii_digit()), "postal_code_key shape");
    }
    if let Some(e) = t::email_key(s) {
        assert_eq!(e.trim(), e, "email_key is not trimmed");
        let b = e.as_bytes();
        assert!(b.len() >= 3 && b[1..b.len() - 1].contains(&b'@'), "email_key has no @ with text on both sides");
    }

    let _ = t::parse_kanji_number(s);
    let _ = t::starts_with_house_number(s);
    let n = s.chars().count();
    let width = t::label_width(s);
    assert!((n..=2 * n).contains(&width), "label_width out of range");
}
