//! Reading canonical orders: JSON lines (read line by line), or one JSON array (read whole), from
//! a file or standard input.
//!
//! A bad order is reported with its line and field and skipped; the others are still read. A line
//! that is not UTF-8 costs that line only. Messages never echo input values: they may be a
//! buyer's personal data. They say which field and what kind of problem, nothing more.

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek};
use std::path::Path;

use anyhow::Context;
use ichigen_core::Order;
use serde_json::value::RawValue;

/// One order that could not be read.
#[derive(Debug)]
pub struct BadOrder {
    /// 1-based line where the order starts.
    pub line: usize,
    /// What is wrong, naming the field.
    pub message: String,
}

impl std::fmt::Display for BadOrder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

/// An input that can be read more than once: the file itself when it is a regular file, else
/// (standard input `-`, a pipe) a copy in an anonymous temporary file, so it is never held in
/// memory.
pub struct Input {
    file: File,
}

impl Input {
    /// Opens `path` (`-` = standard input).
    pub fn open(path: &Path) -> anyhow::Result<Input> {
        if path.as_os_str() != "-" {
            let file = File::open(path).with_context(|| format!("reading {}", path.display()))?;
            if file.metadata().is_ok_and(|m| m.is_file()) {
                return Ok(Input { file });
            }
            return Self::spool(file, &path.display().to_string());
        }
        Self::spool(std::io::stdin().lock(), "standard input")
    }

    fn spool(mut from: impl Read, what: &str) -> anyhow::Result<Input> {
        let mut file = tempfile::tempfile().context("creating a temporary file for the input")?;
        std::io::copy(&mut from, &mut file).with_context(|| format!("reading {what}"))?;
        Ok(Input { file })
    }

    /// Calls `each` with every order of the input, in input order, from the start: JSON lines one
    /// line at a time; a JSON array (first non-blank byte `[`) read whole. Returns how many orders
    /// (good and bad) there were.
    pub fn for_each(
        &mut self,
        mut each: impl FnMut(Result<Order, BadOrder>) -> anyhow::Result<()>,
    ) -> anyhow::Result<usize> {
        self.file.rewind().context("rewinding the input")?;
        let mut reader = BufReader::with_capacity(1 << 16, &self.file);
        if starts_with_array(&mut reader)? {
            let mut bytes = Vec::new();
            reader.read_to_end(&mut bytes).context("reading the input")?;
            let results = match std::str::from_utf8(&bytes) {
                Ok(text) => parse_array(text),
                Err(e) => vec![Err(BadOrder {
                    line: line_of(&bytes, e.valid_up_to()),
                    message: "not valid UTF-8 (the whole JSON array is skipped)".into(),
                })],
            };
            let n = results.len();
            for r in results {
                each(r)?;
            }
            return Ok(n);
        }
        let mut line = Vec::new();
        let mut number = 0usize;
        let mut n = 0usize;
        loop {
            line.clear();
            if reader.read_until(b'\n', &mut line).context("reading the input")? == 0 {
                return Ok(n);
            }
            number += 1;
            let result = match std::str::from_utf8(&line) {
                Ok(text) if text.trim().is_empty() => continue,
                Ok(text) => parse_one(text, number),
                Err(e) => Err(BadOrder {
                    line: number,
                    message: format!("not valid UTF-8 (byte {} of the line)", e.valid_up_to() + 1),
                }),
            };
            n += 1;
            each(result)?;
        }
    }
}

/// Whether the first non-blank byte is `[`; consumes nothing but the blanks before it.
fn starts_with_array(reader: &mut impl BufRead) -> anyhow::Result<bool> {
    loop {
        let buf = reader.fill_buf().context("reading the input")?;
        let Some(&first) = buf.first() else { return Ok(false) };
        if first.is_ascii_whitespace() {
            reader.consume(1);
        } else {
            return Ok(first == b'[');
        }
    }
}

/// Parses every order of one JSON array, in input order.
fn parse_array(text: &str) -> Vec<Result<Order, BadOrder>> {
    match serde_json::from_str::<Vec<&RawValue>>(text) {
        Ok(raws) => raws
            .into_iter()
            .map(|raw| {
                // The element is a slice of `text`: its offset gives its line.
                let offset = (raw.get().as_ptr() as usize).saturating_sub(text.as_ptr() as usize);
                parse_one(raw.get(), line_of(text.as_bytes(), offset))
            })
            .collect(),
        Err(e) => vec![Err(BadOrder {
            line: e.line().max(1),
            message: format!("the JSON array is malformed ({})", describe(&e)),
        })],
    }
}

fn parse_one(json: &str, line: usize) -> Result<Order, BadOrder> {
    let de = &mut serde_json::Deserializer::from_str(json);
    let order: Order = serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let field = if path == "." { String::new() } else { format!("field `{path}`: ") };
        BadOrder { line: line + inner.line().saturating_sub(1), message: format!("{field}{}", describe(&inner)) }
    })?;
    order.validate().map_err(|e| BadOrder { line, message: e.to_string() })?;
    Ok(order)
}

/// What is wrong, without any input value.
///
/// serde_json's syntax and end-of-input messages are fixed texts. Its data messages quote the
/// offending value in several ways (`"…"` with escaped quotes inside, `` `…` `` for enum values
/// and numbers), so they are reduced to their kind and to what was expected, which comes from the
/// order's type: serde writes `<kind>: <value>, expected <what>`, the value in the middle, so the
/// last `, expected ` starts the expectation whatever the value holds.
fn describe(e: &serde_json::Error) -> String {
    use serde_json::error::Category;
    let msg = e.to_string();
    let msg = match msg.rfind(" at line ") {
        Some(at) if e.line() > 0 => &msg[..at],
        _ => &msg[..],
    };
    match e.classify() {
        Category::Syntax | Category::Eof | Category::Io => msg.to_string(),
        Category::Data => {
            // Field names here come from the order's type, not from the input.
            if msg.starts_with("missing field `") || msg.starts_with("duplicate field `") {
                return msg.to_string();
            }
            let kind = [
                ("invalid type:", "wrong type"),
                ("invalid value:", "invalid value"),
                ("invalid length ", "wrong number of elements"),
                ("unknown variant ", "unknown value"),
                ("unknown field ", "unknown field"),
            ]
            .iter()
            .find(|(prefix, _)| msg.starts_with(prefix))
            .map_or("invalid value", |(_, kind)| kind);
            match msg.rfind(", expected ") {
                Some(at) => format!("{kind} (expected {})", &msg[at + ", expected ".len()..]),
                None => kind.to_string(),
            }
        }
    }
}

fn line_of(bytes: &[u8], offset: usize) -> usize {
    1 + bytes[..offset.min(bytes.len())].iter().filter(|&&b| b == b'\n').count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_errors_keep_the_kind_and_the_expectation_only() {
        let e = serde_json::from_str::<u32>(r#""a\", expected 山田""#).expect_err("must fail");
        assert_eq!(describe(&e), "wrong type (expected u32)");
        let e = serde_json::from_str::<u32>("-12345").expect_err("must fail");
        assert_eq!(describe(&e), "invalid value (expected u32)");
    }

    #[test]
    fn line_numbers_count_from_one() {
        assert_eq!(line_of(b"a\nb\nc", 0), 1);
        assert_eq!(line_of(b"a\nb\nc", 2), 2);
        assert_eq!(line_of(b"a\nb\nc", 4), 3);
    }
}
