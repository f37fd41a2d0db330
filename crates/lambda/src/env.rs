//! Reading a function's config from env vars: collect every problem, then fail once naming them.

use std::collections::HashMap;
use std::str::FromStr;

/// What is wrong with the environment: every missing or unreadable variable, by name.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("configuration: {}", .problems.join("; "))]
pub struct ConfigError {
    /// One line per variable.
    pub problems: Vec<String>,
}

/// A reader over a set of variables (the process environment, or a map in tests).
#[derive(Debug)]
pub struct Env {
    vars: HashMap<String, String>,
    problems: Vec<String>,
}

impl Env {
    /// The process environment.
    pub fn from_process() -> Env {
        Env::from_pairs(std::env::vars())
    }

    /// Given variables (tests).
    pub fn from_pairs<K: Into<String>, V: Into<String>>(pairs: impl IntoIterator<Item = (K, V)>) -> Env {
        Env { vars: pairs.into_iter().map(|(k, v)| (k.into(), v.into())).collect(), problems: Vec::new() }
    }

    /// A variable that must be set and non-empty.
    pub fn required(&mut self, name: &str) -> String {
        match self.vars.get(name).map(|v| v.trim()) {
            Some(v) if !v.is_empty() => v.to_string(),
            _ => {
                self.problems.push(format!("{name} is not set"));
                String::new()
            }
        }
    }

    /// A variable that may be absent or empty.
    pub fn optional(&self, name: &str) -> Option<String> {
        self.vars.get(name).map(|v| v.trim().to_string()).filter(|v| !v.is_empty())
    }

    /// A variable parsed as `T`, `default` when absent.
    pub fn parsed_or<T: FromStr>(&mut self, name: &str, default: T) -> T {
        match self.optional(name) {
            None => default,
            Some(v) => v.parse().unwrap_or_else(|_| {
                self.problems.push(format!("{name} is not a valid {}", short_type_name::<T>()));
                default
            }),
        }
    }

    /// Records a problem found by checking values together.
    pub fn problem(&mut self, text: impl Into<String>) {
        self.problems.push(text.into());
    }

    /// Ok when every read succeeded; the list of problems otherwise.
    pub fn finish(self) -> Result<(), ConfigError> {
        if self.problems.is_empty() { Ok(()) } else { Err(ConfigError { problems: self.problems }) }
    }
}

fn short_type_name<T>() -> &'static str {
    let full = std::any::type_name::<T>();
    full.rsplit("::").next().unwrap_or(full)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_every_missing_and_bad_variable_at_once() {
        let mut env = Env::from_pairs([("TABLE_NAME", "t"), ("LEASE_SECONDS", "soon"), ("EMPTY", " ")]);
        assert_eq!(env.required("TABLE_NAME"), "t");
        env.required("MAIL_QUEUE_URL");
        env.required("EMPTY");
        assert_eq!(env.parsed_or("LEASE_SECONDS", 5u64), 5);
        assert_eq!(env.parsed_or("RETENTION_DAYS", 730u32), 730);
        let err = env.finish().expect_err("problems");
        assert_eq!(
            err.to_string(),
            "configuration: MAIL_QUEUE_URL is not set; EMPTY is not set; LEASE_SECONDS is not a valid u64"
        );
    }
}
