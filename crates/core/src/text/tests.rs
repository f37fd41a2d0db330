use super::*;

/// The equivalent house-number forms of address-checks-jp.md §3.4 (3-chome 5-ban 7-go).
const FORMS_357: &[&str] = &[
    "３丁目５番地７号",
    "3丁目5番7号",
    "3丁目5-7",
    "三丁目5-7",
    "三丁目五番七号",
    "3-5-7",
    "３－５－７",
    "3ー5ー7",
    "3の5の7",
    "三丁目５番地の７",
    "３丁目５番地７",
    "三丁目五番地七",
    "3丁5番7号",
    "3 - 5 - 7",
    "3−5−7",
    "3ｰ5ｰ7",
];

#[test]
fn house_number_forms_agree() {
    for f in FORMS_357 {
        assert_eq!(address_key(f), "3-5-7", "{f}");
    }
}

#[test]
fn hyphen_lookalikes_between_digits() {
    let dashes = [
        '\u{2010}', '\u{2011}', '\u{2012}', '\u{2013}', '\u{2014}', '\u{2015}', '\u{2212}', '\u{2500}', '\u{2501}',
        '\u{2043}', '\u{02D7}', '\u{FE58}', '\u{FE63}', '\u{FF0D}', '-', 'ー', 'ｰ',
    ];
    for d in dashes {
        let s = format!("1{d}2");
        assert_eq!(compact_key(&s), "1-2", "U+{:04X}", d as u32);
        assert_eq!(place_key(&s), "1-2", "U+{:04X}", d as u32);
        assert_eq!(address_key(&s), "1-2", "U+{:04X}", d as u32);
        assert_eq!(address_key(&format!("3{d}5{d}7")), "3-5-7", "U+{:04X}", d as u32);
    }
}

#[test]
fn choon_is_kept_in_words() {
    assert_eq!(compact_key("テクノパーク"), "テクノパーク");
    assert_eq!(compact_key("ﾃｸﾉﾊﾟｰｸ"), "テクノパーク");
    assert_eq!(compact_key("流通センター1ー2"), "流通センター1-2");
    assert_eq!(place_key("流通センター"), "流通センター");
    assert_eq!(address_key("流通センター１ー２"), "流通センター1-2");
    // Only between digits: after a digit but before a letter, or at the end, it stays.
    assert_eq!(compact_key("1ー"), "1ー");
    assert_eq!(compact_key("1ーa"), "1ーa");
    assert_eq!(compact_key("aー1"), "aー1");
    // Whitespace goes first, so a spaced-out ー still sits between digits.
    assert_eq!(compact_key("1 ー 2"), "1-2");
    // compact_key knows only Arabic digits; place/address keys also accept kanji numerals.
    assert_eq!(compact_key("三ー五"), "三ー五");
    assert_eq!(address_key("三ー五"), "3-5");
}

#[test]
fn compact_key_basics() {
    assert_eq!(compact_key("Ａｂｃ　Ｄ\tE\n"), "abcde");
    assert_eq!(compact_key("㈱イチゲン"), "(株)イチゲン");
    assert_eq!(compact_key("ＡＢＣ\u{200B}ビル"), "abcビル");
    assert_eq!(compact_key(""), "");
    assert_eq!(compact_key("   "), "");
    // compact_key does not fold variants or ヶ.
    assert_eq!(compact_key("茅ヶ崎"), "茅ヶ崎");
}

#[test]
fn place_names_keep_their_numerals() {
    for name in [
        "一宮",
        "四日市",
        "八王子",
        "九十九里",
        "三軒茶屋",
        "六本木",
        "五反田",
        "十日町",
        "千代田",
        "二子玉川",
        "百合ケ丘",
        "千種区",
        "八幡西区",
    ] {
        assert_eq!(place_key(name), name);
        assert_eq!(address_key(name), name);
    }
    assert_eq!(place_key("百合ヶ丘"), "百合ケ丘");
}

#[test]
fn ke_no_and_variant_folding() {
    assert_eq!(place_key("茅ヶ崎"), place_key("茅ケ崎"));
    assert_eq!(place_key("茅ヵ崎"), place_key("茅ケ崎"));
    assert_eq!(place_key("百合ヶ丘"), place_key("百合が丘"));
    assert_eq!(place_key("一ノ宮"), place_key("一の宮"));
    assert_eq!(place_key("一之宮"), place_key("一の宮"));
    assert_eq!(place_key("髙島"), place_key("高島"));
    assert_eq!(place_key("長﨑"), place_key("長崎"));
    assert_eq!(place_key("橫浜"), place_key("横浜"));
    assert_eq!(place_key("澁谷"), place_key("渋谷"));
    // が and の elsewhere are left alone.
    assert_eq!(place_key("ひばりが丘"), "ひばりが丘");
    assert_eq!(place_key("みなとの見える丘"), "みなとの見える丘");
    // Spaces do not hide the kanji neighbours.
    assert_eq!(place_key("百合 が 丘"), place_key("百合ヶ丘"));
}

#[test]
fn numbers_before_jo_sen_go_ku() {
    assert_eq!(place_key("北十条西"), place_key("北10条西"));
    assert_eq!(place_key("北１０条西"), place_key("北10条西"));
    assert_eq!(place_key("北十條西"), place_key("北10条西"));
    assert_eq!(place_key("北10条西"), "北10条西");
    assert_eq!(place_key("東四線"), "東4線");
    assert_eq!(place_key("南七号"), "南7号");
    assert_eq!(place_key("第二地割"), "第2地割");
    assert_eq!(place_key("第二地区"), "第二地区");
    assert_eq!(place_key("一番町"), place_key("1番町"));
    assert_eq!(place_key("一番町"), place_key("１番町"));
    assert!(address_key("一番町5-3").starts_with(&place_key("一番町")));
    assert!(address_key("1番町五丁目3").starts_with(&place_key("一番町")));
}

#[test]
fn kanji_numbers_in_streets() {
    assert!(address_key("六本木一二四五").contains("1245"));
    assert_eq!(address_key("六本木一二四五"), "六本木1245");
    assert_eq!(address_key("西五反田三-十一-六"), "西五反田3-11-6");
    assert_eq!(address_key("六本木一二四-五"), "六本木124-5");
    assert_eq!(address_key("三丁目二十一番地"), "3-21");
    assert_eq!(address_key("二百五番地の三"), "205-3");
    assert_eq!(address_key("二〇五番地"), "205");
    assert_eq!(address_key("十二"), "12");
    assert_eq!(address_key("字北山百番地"), "字北山100");
    assert_eq!(address_key("第二地割二十番地"), "第2地割20");
    // Not numbers: the numeral is part of a name.
    assert_eq!(address_key("三の宮"), "三ノ宮");
    // Unparseable runs in a number context are left as written.
    assert_eq!(address_key("十十番"), "十十番");
}

#[test]
fn go_is_dropped_only_after_a_separated_number() {
    assert_eq!(address_key("5番7号"), "5-7");
    assert_eq!(address_key("5番7号ハイツ青葉"), address_key("5-7 ハイツ青葉"));
    assert_eq!(address_key("南7号"), "南7号");
    assert_eq!(address_key("南七号"), "南7号");
    assert_eq!(address_key("7号"), "7号");
    assert_eq!(address_key("5-7号8"), "5-7号8");
    assert_eq!(address_key("3-5-7-101号室"), "3-5-7-101号室");
    assert_eq!(address_key("3-5-7-2号棟"), "3-5-7-2号棟");
    assert_eq!(address_key("6丁目10番1号 六本木ヒルズ"), "6-10-1六本木ヒルズ");
    assert_eq!(address_key("3-5-7-"), "3-5-7");
    assert_eq!(address_key("3--5"), "3-5");
}

#[test]
fn kisakata_town_with_full_width_digit() {
    let town = place_key("象潟町５丁目塩越");
    assert_eq!(town, "象潟町5-塩越");
    assert!(address_key("象潟町５丁目塩越").starts_with(&town));
    assert!(address_key("象潟町五丁目塩越１２３").starts_with(&town));
}

/// Towns as KEN_ALL spells them, with spellings an order may use for them.
const TOWNS: &[(&str, &[&str])] = &[
    ("象潟町５丁目塩越", &["象潟町５丁目塩越", "象潟町5丁目塩越", "象潟町五丁目塩越"]),
    ("北十条西", &["北十条西", "北10条西", "北１０条西", "北十條西"]),
    ("一番町", &["一番町", "1番町", "１番町"]),
    ("茅ケ崎", &["茅ヶ崎", "茅ケ崎", "茅ヵ崎"]),
    ("百合ヶ丘", &["百合が丘", "百合ヶ丘", "百合ケ丘"]),
    ("一ノ宮", &["一の宮", "一之宮", "一ノ宮"]),
    ("流通センター", &["流通センター", "流通ｾﾝﾀｰ"]),
    ("テクノパーク", &["テクノパーク"]),
    ("六本木", &["六本木"]),
    ("九十九里", &["九十九里"]),
    ("三軒茶屋", &["三軒茶屋"]),
    ("八丁堀", &["八丁堀", "8丁堀"]),
    ("西五反田", &["西五反田"]),
    ("高島町", &["髙島町", "高島町"]),
    ("大泉町西井出", &["大泉町西井出"]),
    ("南７号", &["南7号", "南七号", "南７号"]),
    ("東四線", &["東4線", "東四線", "東４線"]),
    ("旭町３丁目", &["旭町3丁目", "旭町三丁目", "旭町３丁目"]),
    ("本町二丁", &["本町2丁", "本町二丁"]),
];

/// Street text after the town, with what should be left after the town key (one leading `-`
/// aside). Towns written with their 丁目 take the second list.
const SUFFIXES: &[(&str, &str)] = &[
    ("", ""),
    ("ハイツ青葉101", "ハイツ青葉101"),
    (" 3-5-7 ハイツ青葉101", "3-5-7ハイツ青葉101"),
    ("３丁目５番地７号　ハイツ青葉", "3-5-7ハイツ青葉"),
];
const SUFFIXES_AFTER_CHOME: &[(&str, &str)] =
    &[("5番7号", "5-7"), ("５－７", "5-7"), ("5の7", "5-7"), ("五番地七", "5-7"), ("5番地の7", "5-7"), ("-5-7", "5-7")];

fn check_prefix(official: &str, street: &str, rest_want: &str) {
    let town = place_key(official);
    let key = address_key(street);
    let Some(rest) = key.strip_prefix(town.as_str()) else {
        panic!("address_key({street:?}) = {key:?} does not start with place_key({official:?}) = {town:?}");
    };
    assert_eq!(rest.strip_prefix('-').unwrap_or(rest), rest_want, "{official} / {street}");
    let want_number = rest_want.starts_with(|c: char| c.is_ascii_digit());
    assert_eq!(starts_with_house_number(rest), want_number, "{official} / {street}");
}

#[test]
fn town_key_is_a_prefix_of_street_key() {
    for &(official, spellings) in TOWNS {
        let with_chome = official.ends_with('目') || official.ends_with('丁');
        for &spelling in spellings {
            for &(suffix, rest) in SUFFIXES {
                check_prefix(official, &format!("{spelling}{suffix}"), rest);
            }
            if with_chome {
                for &(suffix, rest) in SUFFIXES_AFTER_CHOME {
                    check_prefix(official, &format!("{spelling}{suffix}"), rest);
                }
            } else {
                for form in FORMS_357 {
                    check_prefix(official, &format!("{spelling}{form}"), "3-5-7");
                }
            }
        }
    }
}

/// Same property with spaces (half-width, full-width, tab) sprinkled anywhere.
#[test]
fn town_key_is_a_prefix_with_random_spaces() {
    let mut rng = Rng(0x1C41_6E1E);
    let spaces = [" ", "　", "\t", "\u{200B}"];
    for _ in 0..2_000 {
        let (official, spellings) = TOWNS[rng.below(TOWNS.len())];
        let spelling = spellings[rng.below(spellings.len())];
        let with_chome = official.ends_with('目') || official.ends_with('丁');
        let (suffix, rest) = if with_chome {
            SUFFIXES_AFTER_CHOME[rng.below(SUFFIXES_AFTER_CHOME.len())]
        } else {
            (FORMS_357[rng.below(FORMS_357.len())], "3-5-7")
        };
        let mut street = String::new();
        for c in spelling.chars().chain(suffix.chars()) {
            if rng.below(4) == 0 {
                street.push_str(spaces[rng.below(spaces.len())]);
            }
            street.push(c);
        }
        check_prefix(official, &street, rest);
    }
}

#[test]
fn name_keys() {
    let kana = name_key("ﾔﾏﾀﾞ ﾀﾛｳ");
    assert_eq!(kana, "ヤマダタロウ");
    assert_eq!(name_key("やまだ たろう"), kana);
    assert_eq!(name_key("ヤマダ　タロウ様"), kana);
    assert_eq!(name_key("やまだ　たろう　さま"), kana);
    let kanji = name_key("山田　太郎");
    assert_eq!(kanji, "山田太郎");
    for n in ["山田太郎", "山田 太郎 様", "山田太郎さま", "山田太郎殿", "山田太郎様様"] {
        assert_eq!(name_key(n), kanji, "{n}");
    }
    assert_ne!(name_key("山田太郎"), name_key("やまだたろう"));
    assert_eq!(name_key("ＪＯＨＮ　ＳＭＩＴＨ"), "johnsmith");
    assert_eq!(name_key("John Smith"), "johnsmith");
    assert_eq!(name_key("髙橋"), name_key("高橋"));
    assert_eq!(name_key("渡邊"), name_key("渡辺"));
    assert_eq!(name_key("渡邉"), name_key("渡辺"));
    assert_eq!(name_key("齋藤"), name_key("斎藤"));
    assert_eq!(name_key("山﨑"), name_key("山崎"));
    assert_eq!(name_key("𠮷田"), name_key("吉田"));
    assert_eq!(name_key("ゔぁ"), "ヴァ");
    assert_eq!(name_key("様"), "");
}

#[test]
fn phone_keys() {
    let want = Some("09012345678".to_string());
    assert_eq!(phone_key("０９０－１２３４－５６７８"), want);
    assert_eq!(phone_key("090 1234 5678"), want);
    assert_eq!(phone_key("+81-90-1234-5678"), want);
    assert_eq!(phone_key("81 90 1234 5678"), want);
    assert_eq!(phone_key("+81 (0)90-1234-5678"), want);
    assert_eq!(phone_key("(090)1234-5678"), want);
    assert_eq!(phone_key("03-1234-5678").as_deref(), Some("0312345678"));
    assert_eq!(phone_key("0120-123-456").as_deref(), Some("0120123456"));
    assert_eq!(phone_key("123"), None);
    assert_eq!(phone_key(""), None);
    assert_eq!(phone_key("090-1234-5678 内線 12"), None);
    assert_eq!(phone_key("090-1234-5678 / 03-1234-5678"), None);
    assert_eq!(phone_key("012-345-678"), None);
}

#[test]
fn email_keys() {
    assert_eq!(email_key(" Foo.Bar@Example.COM ").as_deref(), Some("foo.bar@example.com"));
    assert_eq!(email_key("ｆｏｏ＠ｅｘａｍｐｌｅ．ｃｏｍ").as_deref(), Some("foo@example.com"));
    assert_eq!(email_key("　a@b　").as_deref(), Some("a@b"));
    assert_eq!(email_key("@example.com"), None);
    assert_eq!(email_key("foo@"), None);
    assert_eq!(email_key(" foo@ "), None);
    assert_eq!(email_key("foo"), None);
    assert_eq!(email_key(""), None);
    assert_eq!(email_key("@"), None);
}

#[test]
fn postal_code_keys() {
    assert_eq!(postal_code_key("〒１００－１４０１").as_deref(), Some("1001401"));
    assert_eq!(postal_code_key("100-1401").as_deref(), Some("1001401"));
    assert_eq!(postal_code_key("1001401").as_deref(), Some("1001401"));
    assert_eq!(postal_code_key("〒 100 1401").as_deref(), Some("1001401"));
    assert_eq!(postal_code_key("100ー1401").as_deref(), Some("1001401"));
    assert_eq!(postal_code_key("１００−１４０１").as_deref(), Some("1001401"));
    assert_eq!(postal_code_key("100-14"), None);
    assert_eq!(postal_code_key("100-14011"), None);
    assert_eq!(postal_code_key("〒100-1401 東京都"), None);
    assert_eq!(postal_code_key(""), None);
}

#[test]
fn label_widths() {
    assert_eq!(label_width("ｱｲｳ"), 3);
    assert_eq!(label_width("アイウ"), 6);
    assert_eq!(label_width("abc"), 3);
    assert_eq!(label_width("ﾀﾞ"), 2);
    assert_eq!(label_width("Ａ1"), 3);
    assert_eq!(label_width(""), 0);
}

#[test]
fn kanji_number_parsing() {
    let cases: &[(&str, u64)] = &[
        ("二〇五", 205),
        ("二百五", 205),
        ("十二", 12),
        ("二十", 20),
        ("百", 100),
        ("十", 10),
        ("一二", 12),
        ("〇", 0),
        ("零", 0),
        ("〇五", 5),
        ("千二百三十四", 1234),
        ("三千", 3000),
        ("壱", 1),
        ("弐拾参", 23),
        ("参百", 300),
        ("拾", 10),
        ("廿", 20),
        ("廿五", 25),
        ("百廿", 120),
        ("百〇五", 105),
        ("九十九", 99),
        ("一万二千三百四十五", 12_345),
        ("万", 10_000),
        ("九千九百九十九兆", 9_999_000_000_000_000),
        ("千京", 10_000_000_000_000_000_000),
        ("一八四四六七四四〇七三七〇九五五一六一五", u64::MAX),
    ];
    for &(s, v) in cases {
        assert_eq!(parse_kanji_number(s), Some(v), "{s}");
    }
    for s in [
        "",
        "十十",
        "百千",
        "一二百",
        "二廿",
        "〇十",
        "五〇十",
        "一億万",
        "万万",
        "十a",
        "12",
        "１２",
        "宮",
        "一八四四六七四四〇七三七〇九五五一六一六",
        "九千九百九十九京",
        "二千京",
    ] {
        assert_eq!(parse_kanji_number(s), None, "{s}");
    }
    assert_eq!(parse_kanji_number(&"〇".repeat(1_000)), Some(0));
    assert_eq!(parse_kanji_number(&"十".repeat(500)), None);
    assert_eq!(parse_kanji_number(&"九".repeat(30)), None);
}

#[test]
fn house_number_start() {
    assert!(starts_with_house_number("3-5-7"));
    assert!(starts_with_house_number("-3"));
    assert!(!starts_with_house_number("--3"));
    assert!(!starts_with_house_number("字3"));
    assert!(!starts_with_house_number("大字北3"));
    assert!(!starts_with_house_number("ハイツ"));
    assert!(!starts_with_house_number(""));
    assert!(!starts_with_house_number("-"));
}

#[test]
fn into_variants_clear_and_reuse_the_buffer() {
    let mut buf = String::from("leftover text");
    address_key_into("3丁目5番7号", &mut buf);
    assert_eq!(buf, "3-5-7");
    compact_key_into("Ａ Ｂ", &mut buf);
    assert_eq!(buf, "ab");
    place_key_into("茅ヶ崎", &mut buf);
    assert_eq!(buf, "茅ケ崎");
    name_key_into("やまだ様", &mut buf);
    assert_eq!(buf, "ヤマダ");
    // The leftover must not leak into context rules: 丁 after a digit at the old end.
    let mut buf = String::from("5");
    place_key_into("丁子", &mut buf);
    assert_eq!(buf, "丁子");
}

/// xorshift64*: a small deterministic generator for the tests.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[test]
fn never_panics_on_odd_input() {
    let alphabet: Vec<char> = concat!(
        "aZ09 -_@+.()#\t\n\r\u{0}\u{7}\u{1b}\u{7f}\u{85}\u{a0}\u{ad}",
        "０９ＡＺ＠－　〒〶",
        "〇零一二三四五六七八九壱弐参壹貳參拾廿十百千万萬億兆京",
        "丁目番地号條条線区割の之ノがヶケヵゕゖーｰ様殿さまサマ",
        "髙﨑邊澤齋橫𠮷茅崎百合丘宮町北西",
        "ｱｲｳﾀﾞﾟﾞ゛゜ぁゖゝゞ",
        "\u{301}\u{308}\u{3099}\u{309a}\u{20dd}\u{d7ff}\u{e000}\u{fffd}\u{fffe}\u{ffff}",
        "\u{10000}\u{10ffff}\u{200b}\u{200d}\u{2060}\u{feff}\u{2028}\u{3000}",
        "\u{2010}\u{2011}\u{2012}\u{2013}\u{2014}\u{2015}\u{2212}\u{2500}\u{2501}\u{2043}",
        "\u{2d7}\u{fe58}\u{fe63}\u{ff0d}\u{301c}\u{ff5e}①㈱⑴Ⅳ\u{fa11}\u{f900}\u{2f800}",
        "\u{a8}\u{b4}\u{2d8}",
    )
    .chars()
    .collect();
    let mut specials: Vec<String> = vec![
        "〇".repeat(2_000),
        "十".repeat(2_000),
        format!("{}番", "〇".repeat(1_000)),
        format!("{}番", "十".repeat(1_000)),
        format!("{}丁目", "九".repeat(40)),
        "九千九百九十九兆".into(),
        "九千九百九十九兆番地".into(),
        "九千九百九十九京".into(),
        "ー".repeat(1_000),
        format!("1{}2", "ー".repeat(1_000)),
        "-".repeat(1_000),
        "号".repeat(100),
        "様".repeat(100),
        "\u{3099}".repeat(100),
        format!("ﾀ{}", "ﾞ".repeat(100)),
    ];
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for _ in 0..5_000 {
        let len = if rng.below(20) == 0 { 200 } else { rng.below(40) };
        specials.push((0..len).map(|_| alphabet[rng.below(alphabet.len())]).collect());
    }
    let mut buf = String::new();
    for s in &specials {
        let c = compact_key(s);
        assert!(!c.chars().any(char::is_whitespace), "{s:?}");
        assert!(!c.chars().any(|c| c.is_ascii_uppercase()), "{s:?}");
        compact_key_into(s, &mut buf);
        assert_eq!(buf, c);

        let n = name_key(s);
        assert!(!n.ends_with('様') && !n.ends_with('殿') && !n.ends_with("サマ"), "{s:?}");

        for k in [place_key(s), address_key(s)] {
            assert!(!k.ends_with('-') && !k.contains("--"), "{s:?} → {k:?}");
            assert!(!k.chars().any(char::is_whitespace), "{s:?}");
            let _ = starts_with_house_number(&k);
        }
        address_key_into(s, &mut buf);
        assert_eq!(buf, address_key(s));

        if let Some(p) = phone_key(s) {
            assert!((10..=11).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit()));
        }
        if let Some(p) = postal_code_key(s) {
            assert!(p.len() == 7 && p.bytes().all(|b| b.is_ascii_digit()));
        }
        if let Some(e) = email_key(s) {
            assert!(e.contains('@') && e.trim() == e);
        }
        assert!(label_width(s) >= s.chars().count());
        let _ = parse_kanji_number(s);
    }
    // parse_kanji_number over runs of numeral characters only.
    let numerals: Vec<char> = "〇零一二三四五六七八九壱弐参拾廿十百千万億兆京".chars().collect();
    for _ in 0..20_000 {
        let len = 1 + rng.below(24);
        let s: String = (0..len).map(|_| numerals[rng.below(numerals.len())]).collect();
        let _ = parse_kanji_number(&s);
        let _ = address_key(&s);
    }
}

/// The shortcuts around the normaliser (see `choose_nfkc`) rest on facts about Unicode data that
/// are checked here against the library.
#[test]
fn nfkc_shortcuts_agree_with_the_normaliser() {
    use unicode_normalization::char::canonical_combining_class;
    let ranges =
        [('\0', '\u{7F}'), ('\u{3041}', '\u{3096}'), ('\u{30A1}', '\u{30FA}'), ('ー', 'ー'), ('\u{4E00}', '\u{9FFF}')];
    for (lo, hi) in ranges {
        for c in lo..=hi {
            assert!(is_plain_starter(c));
            assert_eq!(is_nfkc_quick(std::iter::once(c)), IsNormalized::Yes, "U+{:04X}", c as u32);
            assert_eq!(canonical_combining_class(c), 0, "U+{:04X}", c as u32);
        }
    }
    for c in ('\u{FF01}'..='\u{FF5E}').chain(['\u{3000}']) {
        let mapped = simple_nfkc(c);
        assert_ne!(mapped, c);
        assert!(mapped.is_ascii());
        assert_eq!(std::iter::once(c).nfkc().collect::<String>(), mapped.to_string());
    }
    assert_eq!(choose_nfkc("六本木3丁目5番7号"), Nfkc::AsIs);
    assert_eq!(choose_nfkc("西新宿２－８－１　都庁"), Nfkc::Simple);
    assert_eq!(choose_nfkc("ﾔﾏﾀﾞ"), Nfkc::Full);
    assert_eq!(choose_nfkc("か\u{3099}"), Nfkc::Full);
    assert_eq!(choose_nfkc("Ａ\u{301}"), Nfkc::Full);
    assert_eq!(choose_nfkc("々〒「」"), Nfkc::AsIs);
}

/// Keys through the shortcut paths equal keys through the full normaliser.
#[test]
fn shortcut_paths_match_full_nfkc() {
    let mut rng = Rng(0x5EED_0FC0_FFEE);
    let alphabet: Vec<char> = "aZ9 -　０Ｚ＠－～一三丁目番の々〒ﾀﾞｰ\u{3099}\u{301}①がヶ".chars().collect();
    let (mut a, mut b) = (String::new(), String::new());
    for _ in 0..20_000 {
        let len = rng.below(12);
        let s: String = (0..len).map(|_| alphabet[rng.below(alphabet.len())]).collect();
        for mode in [Mode::Compact, Mode::Name, Mode::Place, Mode::Address] {
            key_into(&s, mode, &mut a);
            b.clear();
            scan(s.nfkc(), mode, &mut b);
            assert_eq!(a, b, "{s:?}");
        }
        let full_digits: String = s.nfkc().filter(char::is_ascii_digit).collect();
        let mut fast_digits = String::new();
        nfkc_all(&s, |c| {
            if c.is_ascii_digit() {
                fast_digits.push(c);
            }
            true
        });
        assert_eq!(fast_digits, full_digits, "{s:?}");
    }
}
