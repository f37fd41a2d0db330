//! The remote-island (離島) table: postal-code prefixes, longest match wins.
//!
//! 403 rows from `data/remote-islands-jp.csv`, parsed once on first use (tens of microseconds).

use std::collections::HashMap;
use std::sync::OnceLock;

const CSV: &str = include_str!("../data/remote-islands-jp.csv");
const HEADER: &str = "postal_code_or_prefix,prefecture,municipality,town,island_group,basis";
/// `basis` of the rows that mark 沖縄県 as a carrier rate zone, not as an island.
const CARRIER_ZONE_BASIS: &str = "carrier zone (not an island)";
/// Marks a row whose code is shared with the mainland part of the town.
const SHARED_CODE_MARK: &str = "共用";

/// One row of the table.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct IslandRow {
    /// 3–7 digit prefix of the postal code.
    pub prefix: &'static str,
    /// 都道府県.
    pub prefecture: &'static str,
    /// 市区町村 as in KEN_ALL.
    pub municipality: &'static str,
    /// 町域 names, blank when the whole municipality is on islands.
    pub town: &'static str,
    /// Island or island group.
    pub island_group: &'static str,
    /// Legal or carrier basis.
    pub basis: &'static str,
}

impl IslandRow {
    /// True for the Okinawa carrier-zone rows, which are not islands.
    pub fn is_carrier_zone(&self) -> bool {
        self.basis == CARRIER_ZONE_BASIS
    }

    /// True when the code is shared with a mainland area: only the address text can tell.
    pub fn is_shared_with_mainland(&self) -> bool {
        self.island_group.contains(SHARED_CODE_MARK)
    }

    /// The island's own name, for matching in the address text (`舳倉島(...)` → `舳倉島`).
    pub fn island_name(&self) -> &'static str {
        self.island_group.split(['(', '（']).next().unwrap_or(self.island_group)
    }
}

/// Why the island table could not be read (only possible if the committed file is edited badly).
#[derive(Debug, thiserror::Error)]
#[error("remote-island table line {line}: {problem}")]
pub struct IslandTableError {
    line: usize,
    problem: String,
}

/// The parsed table.
#[derive(Debug)]
pub struct IslandTable {
    rows: Vec<IslandRow>,
    by_prefix: HashMap<&'static str, Vec<usize>>,
}

impl IslandTable {
    /// The table built into the binary.
    pub fn embedded() -> &'static IslandTable {
        static TABLE: OnceLock<IslandTable> = OnceLock::new();
        // The CSV is part of the source tree and a test parses it, so a failure here is a build defect.
        TABLE.get_or_init(|| IslandTable::parse(CSV).expect("embedded remote-island table is valid"))
    }

    /// Parses the CSV (no quoting: the table has none and the parser refuses it).
    pub fn parse(csv: &'static str) -> Result<IslandTable, IslandTableError> {
        let mut lines = csv.lines().enumerate();
        match lines.next() {
            Some((_, h)) if h.trim_end() == HEADER => {}
            _ => return Err(IslandTableError { line: 1, problem: format!("header is not {HEADER}") }),
        }
        let mut rows = Vec::new();
        let mut by_prefix: HashMap<&'static str, Vec<usize>> = HashMap::new();
        for (i, line) in lines {
            let line = line.trim_end();
            if line.is_empty() {
                continue;
            }
            let err = |problem: &str| IslandTableError { line: i + 1, problem: problem.to_string() };
            if line.contains('"') {
                return Err(err("quoted fields are not supported"));
            }
            let f: Vec<&'static str> = line.split(',').collect();
            let [prefix, prefecture, municipality, town, island_group, basis] = f[..] else {
                return Err(err("expected 6 fields"));
            };
            if !(3..=7).contains(&prefix.len()) || !prefix.bytes().all(|b| b.is_ascii_digit()) {
                return Err(err("prefix is not 3 to 7 digits"));
            }
            by_prefix.entry(prefix).or_default().push(rows.len());
            rows.push(IslandRow { prefix, prefecture, municipality, town, island_group, basis });
        }
        Ok(IslandTable { rows, by_prefix })
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether the table has no rows.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The rows of the longest prefix of `code` (7 ASCII digits), or nothing.
    pub fn lookup(&self, code: &str) -> impl Iterator<Item = &IslandRow> {
        let hit = (3..=code.len().min(7)).rev().find_map(|n| code.get(..n).and_then(|p| self.by_prefix.get(p)));
        hit.into_iter().flatten().map(|&i| &self.rows[i])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn groups(code: &str) -> Vec<&'static str> {
        IslandTable::embedded().lookup(code).map(|r| r.island_group).collect()
    }

    #[test]
    fn embedded_table_has_every_row() {
        assert_eq!(IslandTable::embedded().len(), 403);
    }

    #[test]
    fn longest_prefix_wins() {
        // 八丈島 (prefix 10014) and 小笠原 (1002).
        assert_eq!(groups("1001401"), ["伊豆諸島(八丈島・八丈小島)"]);
        assert_eq!(groups("1002101"), ["小笠原諸島(父島・母島)"]);
        // 久米島 90131 beats the Okinawa zone row 901.
        let kume: Vec<_> = IslandTable::embedded().lookup("9013101").collect();
        assert_eq!(kume.len(), 1);
        assert!(!kume[0].is_carrier_zone());
        // 那覇 matches only the zone row.
        let naha: Vec<_> = IslandTable::embedded().lookup("9000001").collect();
        assert_eq!(naha.len(), 1);
        assert!(naha[0].is_carrier_zone());
    }

    #[test]
    fn shared_code_returns_every_row() {
        assert_eq!(groups("9070000").len(), 2);
    }

    #[test]
    fn mainland_codes_do_not_match() {
        for code in ["1000001", "0600042", "5300001", "8120011", "4130001"] {
            assert!(groups(code).is_empty(), "{code}");
        }
        assert_eq!(groups("4130004"), ["初島"]);
    }

    #[test]
    fn shared_with_mainland_rows_know_their_island() {
        let row = IslandTable::embedded().lookup("9280072").next().expect("row");
        assert!(row.is_shared_with_mainland());
        assert_eq!(row.island_name(), "舳倉島");
    }

    #[test]
    fn bad_tables_are_refused_with_the_line() {
        let e = IslandTable::parse("nope\n").unwrap_err();
        assert!(e.to_string().contains("line 1"));
        let e =
            IslandTable::parse("postal_code_or_prefix,prefecture,municipality,town,island_group,basis\n12,a,b,c,d,e\n")
                .unwrap_err();
        assert!(e.to_string().contains("line 2"), "{e}");
    }
}
