//! Reading canonical orders: JSON lines, or one JSON array, from a file or standard input.
//!
//! A bad order is reported with its line and field and skipped; the others are still read.
//! Messages never echo input values: they may be a buyer's personal data.

use std::io::Read;
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

/// Reads the whole input (`-` = standard input).
pub fn read_text(path: &Path) -> anyhow::Result<String> {
    let mut text = String::new();
    if path.as_os_str() == "-" {
        std::io::stdin().read_to_string(&mut text).context("reading standard input")?;
    } else {
        text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    }
    Ok(text)
}

/// Parses every order in `text`, in input order.
pub fn parse_orders(text: &str) -> Vec<Result<Order, BadOrder>> {
    let trimmed = text.trim_start();
    if trimmed.starts_with('[') {
        let start_line = line_of(text, text.len() - trimmed.len());
        match serde_json::from_str::<Vec<&RawValue>>(text) {
            Ok(raws) => raws
                .into_iter()
                .map(|raw| {
                    // The element is a slice of `text`: its offset gives its line.
                    let offset = (raw.get().as_ptr() as usize).saturating_sub(text.as_ptr() as usize);
                    parse_one(raw.get(), line_of(text, offset))
                })
                .collect(),
            Err(e) => vec![Err(BadOrder {
                line: if e.line() > 0 { e.line() } else { start_line },
                message: format!("the JSON array is malformed ({})", describe(&e)),
            })],
        }
    } else {
        text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()).map(|(i, l)| parse_one(l, i + 1)).collect()
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

/// serde_json's message without any quoted input value and without its own position suffix.
fn describe(e: &serde_json::Error) -> String {
    let msg = e.to_string();
    let msg = msg.split(" at line ").next().unwrap_or(&msg);
    redact_quoted(msg)
}

/// Replaces every `"..."` in a message with `"…"`: serde quotes offending input values.
fn redact_quoted(msg: &str) -> String {
    let mut out = String::with_capacity(msg.len());
    let mut parts = msg.split('"');
    if let Some(first) = parts.next() {
        out.push_str(first);
    }
    for (i, part) in parts.enumerate() {
        out.push('"');
        out.push_str(if i % 2 == 0 { "…" } else { part });
    }
    out
}

fn line_of(text: &str, offset: usize) -> usize {
    1 + text.as_bytes()[..offset.min(text.len())].iter().filter(|&&b| b == b'\n').count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_values_are_redacted() {
        assert_eq!(
            redact_quoted(r#"invalid type: string "山田太郎", expected u32"#),
            r#"invalid type: string "…", expected u32"#
        );
        assert_eq!(redact_quoted("missing field `order_id`"), "missing field `order_id`");
    }

    #[test]
    fn line_numbers_count_from_one() {
        assert_eq!(line_of("a\nb\nc", 0), 1);
        assert_eq!(line_of("a\nb\nc", 2), 2);
        assert_eq!(line_of("a\nb\nc", 4), 3);
    }
}
