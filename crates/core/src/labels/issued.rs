//! Reading tracking numbers back: the files the label programs export after printing — B2クラウド's
//! 発行済データ, e飛伝's 出荷実績 (shipment history), ゆうパックプリントR's 発送履歴 — and a plain
//! `order,carrier,number[,date]` CSV for anything else (`shared/notes/carrier-csv.md` §2.5, §3.4,
//! §4.4, §6, §7). UTF-8 (with or without BOM) or Shift_JIS (CP932); CRLF or LF.
//!
//! Columns are found by their header names where the file has a header (the programs let the shop
//! choose output columns, so names are safer than positions), by the documented positions
//! otherwise (B2: お客様管理番号 1, 伝票番号 4; ゆうプリR: お客様側管理番号 1, お問い合わせ番号 2).
//! Pure: bytes in, rows and row errors out; matching rows to orders is the caller's.

use chrono::NaiveDate;

use crate::order::Carrier;

use super::{ParcelKey, Program};

/// What kind of file it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IssuedFormat {
    /// A label program's export: its carrier is the program's.
    Program(Program),
    /// `order,carrier,number[,date]`.
    Plain,
}

impl IssuedFormat {
    /// Every format, by its short code.
    pub const ALL: [IssuedFormat; 4] = [
        IssuedFormat::Program(Program::B2),
        IssuedFormat::Program(Program::Ehiden),
        IssuedFormat::Program(Program::Yupri),
        IssuedFormat::Plain,
    ];

    /// The name staff see.
    pub fn name(self) -> &'static str {
        match self {
            IssuedFormat::Program(p) => p.name(),
            IssuedFormat::Plain => "注文・運送会社・伝票番号のCSV",
        }
    }

    /// The short code staff write (`--format`, a file name's suffix).
    pub fn code(self) -> &'static str {
        match self {
            IssuedFormat::Program(Program::B2) => "b2",
            IssuedFormat::Program(Program::Ehiden) => "ehiden",
            IssuedFormat::Program(Program::Yupri) => "yupri",
            IssuedFormat::Plain => "plain",
        }
    }

    /// The format a file name names before its extension (`2026-12-01.b2.csv`, `実績.ehiden.txt`),
    /// if any: how a file dropped in the import bucket says what it is when its content cannot.
    pub fn from_file_name(name: &str) -> Option<IssuedFormat> {
        let name = name.rsplit('/').next().unwrap_or(name).to_ascii_lowercase();
        let mut parts = name.rsplit('.');
        let (_extension, code) = (parts.next()?, parts.next()?);
        IssuedFormat::ALL.into_iter().find(|f| f.code() == code)
    }
}

/// How a row names its parcel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowRef {
    /// By ichigen's お客様管理番号.
    Parcel(ParcelKey),
    /// By order id (`marketplace/order id`, or an order id alone), destination 1 unless the order
    /// has one destination only.
    Order(String),
}

/// One tracking number read from a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedRow {
    /// 1-based line of the file.
    pub line: usize,
    /// Which parcel.
    pub parcel: RowRef,
    /// Whose number.
    pub carrier: Carrier,
    /// The number as written.
    pub number: String,
    /// The ship date, when the file gives one.
    pub date: Option<NaiveDate>,
}

/// A line that could not be read. The reason names columns, never their content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowProblem {
    /// 1-based line of the file.
    pub line: usize,
    /// Why, in Japanese.
    pub reason: String,
}

/// Why a whole file could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IssuedError {
    /// Neither UTF-8 nor Shift_JIS.
    #[error("文字コードがUTF-8でもShift_JISでもありません({line}行目)")]
    Encoding {
        /// First line with a bad byte.
        line: usize,
    },
    /// The format could not be told from the file.
    #[error("どのソフトの出力か判別できません。--format b2|ehiden|yupri|plain で指定してください")]
    Unknown,
    /// A column the format needs is not in the header.
    #[error("{format}の見出し行に「{column}」の列がありません")]
    MissingColumn {
        /// The format's name.
        format: &'static str,
        /// The column.
        column: &'static str,
    },
    /// The format needs a header row to find its columns.
    #[error("{0}の出力は見出し行が必要です(列の位置が公開資料で確かめられないため)")]
    NeedsHeader(&'static str),
    /// Nothing in it.
    #[error("ファイルにデータ行がありません")]
    Empty,
    /// Not CSV.
    #[error("CSVとして読めません({line}行目)")]
    Csv {
        /// The line.
        line: usize,
    },
}

/// Header names of the お客様管理番号 column, in every program's spelling.
const KEY_NAMES: [&str; 4] = ["お客様管理番号", "お客様側管理番号", "お客様管理ナンバー", "お客様管理No"];
/// Header names of the tracking number column.
const NUMBER_NAMES: [&str; 8] = [
    "伝票番号",
    "送り状番号",
    "お問い合せ送り状No",
    "お問い合わせ送り状No",
    "お問合せ送り状No",
    "お問い合わせ番号",
    "お問合せ番号",
    "お問い合せ番号",
];
/// Header names of a ship date column.
const DATE_NAMES: [&str; 5] = ["出荷日", "出荷日時", "出荷予定日", "仮引受確定作業年月日", "発送日"];
/// Header names of the plain format.
const PLAIN: [&str; 4] = ["order", "carrier", "number", "date"];

/// Decodes a file: UTF-8 (a BOM dropped) when it is valid UTF-8, else Shift_JIS (CP932).
pub fn decode(bytes: &[u8]) -> Result<String, IssuedError> {
    crate::spreadsheet::decode(bytes).map_err(|e| IssuedError::Encoding { line: e.line })
}

/// Reads `bytes` as `format` (told from the file when `None`): the format, the rows read, and the
/// lines that could not be read.
pub fn read(
    bytes: &[u8],
    format: Option<IssuedFormat>,
) -> Result<(IssuedFormat, Vec<IssuedRow>, Vec<RowProblem>), IssuedError> {
    let text = decode(bytes)?;
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(text.as_bytes());
    let mut records: Vec<(usize, Vec<String>)> = Vec::new();
    let mut record = csv::StringRecord::new();
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => return Err(IssuedError::Csv { line: e.position().map_or(0, |p| p.line() as usize + 1) }),
        }
        // Lines counted from the record's byte offset, which may point at the `\n` of the CRLF
        // before it (the reader's own line count lags a record).
        let at = record.position().map_or(0, |p| p.byte() as usize);
        let line = text.as_bytes()[..(at + 1).min(text.len())].iter().filter(|&&b| b == b'\n').count() + 1;
        let cells: Vec<String> = record.iter().map(|c| c.trim_matches('\u{feff}').trim().to_string()).collect();
        if cells.iter().all(String::is_empty) {
            continue;
        }
        records.push((line, cells));
    }
    let Some((_, first)) = records.first() else { return Err(IssuedError::Empty) };
    let has_header = first.iter().any(|c| header_word(c));
    let format = match format {
        Some(f) => f,
        None => detect(first, has_header).ok_or(IssuedError::Unknown)?,
    };
    let columns = columns(format, has_header.then_some(first.as_slice()))?;
    let body = if has_header { &records[1..] } else { &records[..] };
    if body.is_empty() {
        return Err(IssuedError::Empty);
    }
    let mut rows = Vec::new();
    let mut problems = Vec::new();
    for (line, cells) in body {
        match row(format, &columns, *line, cells) {
            Ok(r) => rows.push(r),
            Err(reason) => problems.push(RowProblem { line: *line, reason }),
        }
    }
    Ok((format, rows, problems))
}

/// Whether a cell reads as a column name rather than data.
fn header_word(cell: &str) -> bool {
    let c = cell.trim();
    KEY_NAMES.contains(&c) || NUMBER_NAMES.contains(&c) || PLAIN[..3].iter().any(|p| c.eq_ignore_ascii_case(p))
}

/// The format told by the header, or by the first row's shape.
fn detect(first: &[String], has_header: bool) -> Option<IssuedFormat> {
    if has_header {
        let has = |names: &[&str]| first.iter().any(|c| names.contains(&c.trim()));
        if first.iter().any(|c| c.trim().eq_ignore_ascii_case("carrier")) {
            return Some(IssuedFormat::Plain);
        }
        if has(&["お客様側管理番号"]) || has(&["お問い合わせ番号", "お問合せ番号"]) {
            return Some(IssuedFormat::Program(Program::Yupri));
        }
        if has(&["お問い合せ送り状No", "お問い合わせ送り状No", "お問合せ送り状No", "お客様管理ナンバー"])
        {
            return Some(IssuedFormat::Program(Program::Ehiden));
        }
        if has(&["伝票番号"]) {
            return Some(IssuedFormat::Program(Program::B2));
        }
        return None;
    }
    let is_key = |i: usize| first.get(i).is_some_and(|c| ParcelKey::parse(c).is_some());
    let is_number =
        |i: usize| first.get(i).is_some_and(|c| c.len() >= 12 && crate::carrier::tracking_digits(c).len() == 12);
    if first.len() >= 3 && first.len() <= 4 && first.get(1).is_some_and(|c| parse_carrier(c).is_some()) {
        Some(IssuedFormat::Plain)
    } else if is_key(0) && first.len() >= 4 && is_number(3) {
        Some(IssuedFormat::Program(Program::B2))
    } else if is_key(0) && is_number(1) && first.len() <= 8 {
        Some(IssuedFormat::Program(Program::Yupri))
    } else {
        None
    }
}

/// Where the columns are: (key, carrier, number, date).
struct Columns {
    key: usize,
    carrier: Option<usize>,
    number: usize,
    date: Option<usize>,
}

fn columns(format: IssuedFormat, header: Option<&[String]>) -> Result<Columns, IssuedError> {
    let find = |names: &[&str]| header.and_then(|h| h.iter().position(|c| names.contains(&c.trim())));
    let missing = |column| IssuedError::MissingColumn { format: format.name(), column };
    match (format, header) {
        (IssuedFormat::Plain, Some(h)) => {
            let at = |name: &str| h.iter().position(|c| c.trim().eq_ignore_ascii_case(name));
            Ok(Columns {
                key: at("order").ok_or(missing("order"))?,
                carrier: Some(at("carrier").ok_or(missing("carrier"))?),
                number: at("number").ok_or(missing("number"))?,
                date: at("date"),
            })
        }
        (IssuedFormat::Plain, None) => Ok(Columns { key: 0, carrier: Some(1), number: 2, date: Some(3) }),
        (IssuedFormat::Program(p), Some(_)) => Ok(Columns {
            key: find(&KEY_NAMES).ok_or(missing("お客様管理番号"))?,
            carrier: None,
            number: find(&NUMBER_NAMES).ok_or(missing(if p == Program::B2 {
                "伝票番号"
            } else {
                "お問い合わせ番号"
            }))?,
            date: find(&DATE_NAMES),
        }),
        // B2's issued file keeps the import layout: col 1 お客様管理番号, col 4 伝票番号, col 5 出荷予定日.
        (IssuedFormat::Program(Program::B2), None) => Ok(Columns { key: 0, carrier: None, number: 3, date: Some(4) }),
        // ゆうプリR's six-column history export: お客様側管理番号, お問い合わせ番号, 仮引受確定作業年月日.
        (IssuedFormat::Program(Program::Yupri), None) => {
            Ok(Columns { key: 0, carrier: None, number: 1, date: Some(2) })
        }
        (IssuedFormat::Program(p @ Program::Ehiden), None) => Err(IssuedError::NeedsHeader(p.name())),
    }
}

fn row(format: IssuedFormat, c: &Columns, line: usize, cells: &[String]) -> Result<IssuedRow, String> {
    let cell = |i: usize| cells.get(i).map(|s| s.trim()).unwrap_or("");
    let key = cell(c.key);
    if key.is_empty() {
        return Err("お客様管理番号(注文番号)が空です".to_string());
    }
    let parcel = match ParcelKey::parse(key) {
        Some((k, ..)) => RowRef::Parcel(k),
        None if format == IssuedFormat::Plain => RowRef::Order(key.to_string()),
        None => return Err("お客様管理番号がichigenの番号(14桁の英数字)ではありません".to_string()),
    };
    let carrier = match (format, c.carrier) {
        (IssuedFormat::Program(p), _) => program_carrier(p),
        (IssuedFormat::Plain, Some(i)) => parse_carrier(cell(i))
            .ok_or_else(|| "運送会社が読めません(yamato/ヤマト, sagawa/佐川, japanpost/日本郵便, other)".to_string())?,
        (IssuedFormat::Plain, None) => Carrier::Other,
    };
    let number = cell(c.number);
    if number.is_empty() {
        return Err("伝票番号が空です".to_string());
    }
    let date = match c.date.map(cell).filter(|d| !d.is_empty()) {
        None => None,
        Some(d) => Some(parse_date(d).ok_or_else(|| "日付が読めません(YYYY/MM/DD, YYYYMMDD, YYYY-MM-DD)".to_string())?),
    };
    Ok(IssuedRow { line, parcel, carrier, number: number.to_string(), date })
}

/// The carrier whose labels a program prints.
pub fn program_carrier(p: Program) -> Carrier {
    match p {
        Program::B2 => Carrier::Yamato,
        Program::Ehiden => Carrier::Sagawa,
        Program::Yupri => Carrier::Japanpost,
    }
}

/// A carrier as staff write it: the wire name or the Japanese name.
pub fn parse_carrier(text: &str) -> Option<Carrier> {
    let t = text.trim().to_ascii_lowercase();
    match t.as_str() {
        "yamato" | "ヤマト" | "ヤマト運輸" | "クロネコヤマト" => Some(Carrier::Yamato),
        "sagawa" | "佐川" | "佐川急便" => Some(Carrier::Sagawa),
        "japanpost" | "japan_post" | "日本郵便" | "ゆうパック" | "郵便" => Some(Carrier::Japanpost),
        "other" | "その他" => Some(Carrier::Other),
        _ => None,
    }
}

/// `2026/12/01`, `20261201`, `2026-12-01`, with a time after a space ignored.
pub fn parse_date(text: &str) -> Option<NaiveDate> {
    let d = text.split_whitespace().next()?;
    ["%Y/%m/%d", "%Y%m%d", "%Y-%m-%d"].iter().find_map(|f| NaiveDate::parse_from_str(d, f).ok())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::order::Marketplace;
    use encoding_rs::SHIFT_JIS;

    fn key(n: usize) -> String {
        ParcelKey::new("demo", Marketplace::Yahoo, &format!("store-{n}"), 1).unwrap().to_string()
    }

    #[test]
    fn b2_with_header_and_by_position() {
        let text = format!(
            "お客様管理番号,送り状種類,クール区分,伝票番号,出荷予定日\r\n{},0,0,123456789013,2026/12/01\r\n",
            key(1)
        );
        let (f, rows, bad) = read(text.as_bytes(), None).unwrap();
        assert_eq!(f, IssuedFormat::Program(Program::B2));
        assert!(bad.is_empty());
        assert_eq!(rows[0].line, 2, "{rows:?}");
        assert_eq!(rows[0].carrier, Carrier::Yamato);
        assert_eq!(rows[0].date, NaiveDate::from_ymd_opt(2026, 12, 1));
        let bare = format!("{},0,0,123456789013,2026/12/01\n", key(1));
        let (f, rows, _) = read(bare.as_bytes(), None).unwrap();
        assert_eq!((f, rows[0].line), (IssuedFormat::Program(Program::B2), 1));
    }

    #[test]
    fn shift_jis_yupri_and_plain() {
        let text = format!(
            "\"お客様側管理番号\",\"お問い合わせ番号\",\"仮引受確定作業年月日\"\r\n\"{}\",\"1234-5678-9013\",\"20261201\"\r\n",
            key(2)
        );
        let (bytes, _, _) = SHIFT_JIS.encode(&text);
        let (f, rows, _) = read(&bytes, None).unwrap();
        assert_eq!((f, rows[0].carrier), (IssuedFormat::Program(Program::Yupri), Carrier::Japanpost));
        let plain = "order,carrier,number,date\nyahoo/store-1,佐川,123456789013,\nx,fedex,1,\n";
        let (f, rows, bad) = read(plain.as_bytes(), None).unwrap();
        assert_eq!(f, IssuedFormat::Plain);
        assert_eq!(rows[0].parcel, RowRef::Order("yahoo/store-1".into()));
        assert_eq!(bad[0].line, 3);
    }

    #[test]
    fn a_file_name_can_name_its_format() {
        assert_eq!(IssuedFormat::from_file_name("2026-12-01.b2.csv"), Some(IssuedFormat::Program(Program::B2)));
        assert_eq!(
            IssuedFormat::from_file_name("imports/shop/出荷実績.EHIDEN.txt"),
            Some(IssuedFormat::Program(Program::Ehiden))
        );
        assert_eq!(IssuedFormat::from_file_name("a/b.plain.csv"), Some(IssuedFormat::Plain));
        assert_eq!(IssuedFormat::from_file_name("yupri.csv"), Some(IssuedFormat::Program(Program::Yupri)));
        for none in ["b2", "x.b2x.csv", "x.yupri", "imports/b2.x/y.csv"] {
            assert_eq!(IssuedFormat::from_file_name(none), None, "{none}");
        }
    }

    #[test]
    fn ehiden_needs_its_header_and_unknown_files_are_refused() {
        let text = format!("お問い合せ送り状No,出荷日,お客様管理番号\n123456789013,2026/12/01,{}\n", key(3));
        let (f, rows, _) = read(text.as_bytes(), None).unwrap();
        assert_eq!((f, rows[0].carrier), (IssuedFormat::Program(Program::Ehiden), Carrier::Sagawa));
        assert_eq!(read(b"a,b\n1,2\n", None).unwrap_err(), IssuedError::Unknown);
        assert!(matches!(
            read(b"123456789013,x\n", Some(IssuedFormat::Program(Program::Ehiden))),
            Err(IssuedError::NeedsHeader(_))
        ));
        assert!(matches!(read(&[0x82, 0xff, 0xff], None), Err(IssuedError::Encoding { .. })));
    }
}
