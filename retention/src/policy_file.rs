//! The policy file: rules in TOML (`--policy FILE`, `S3_PRUNE_POLICY`, the dashboard's
//! download and upload). Every error names the line and the key, so a team fixes its file
//! without guessing.
//!
//! ```toml
//! [[rule]]
//! name = "previews"
//! match = "pr-*"
//! group = '^pr-(\d+)-'
//! retain = 1
//! min_retain_days = 7
//! ```

use crate::Rules;
use std::fmt;
use std::fmt::Write as _;
#[cfg(feature = "file")]
use {
    crate::{GroupPattern, Retain, Rule, RuleName, Span},
    serde::Deserialize,
    toml::Spanned,
};

/// What is wrong with a policy file, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyFileError {
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// The key at fault (`rule[2].retain`), when known.
    pub key: Option<String>,
    pub message: String,
}

impl fmt::Display for PolicyFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(l) = self.line {
            write!(f, "line {l}: ")?;
        }
        if let Some(k) = &self.key {
            write!(f, "`{k}`: ")?;
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for PolicyFileError {}

#[cfg(feature = "file")]
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileToml {
    #[serde(default)]
    rule: Vec<Spanned<RuleToml>>,
}

#[cfg(feature = "file")]
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleToml {
    name: Spanned<String>,
    #[serde(rename = "match")]
    matches: Spanned<String>,
    group: Option<Spanned<String>>,
    retain: Spanned<i64>,
    min_retain_days: Option<Spanned<i64>>,
    keep_within: Option<Spanned<String>>,
}

#[cfg(feature = "file")]
fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())]
        .bytes()
        .filter(|b| *b == b'\n')
        .count()
        + 1
}

/// A policy file's size, in bytes (also the limit for the dashboard's `?rules=`).
pub const MAX_POLICY_BYTES: usize = 64 * 1024;

#[cfg(feature = "file")]
/// Parses a policy file into [`Rules`].
pub fn parse_policy(text: &str) -> Result<Rules, PolicyFileError> {
    check_size(text)?;
    let file = read_toml(text)?;
    check_rule_count(file.rule.len())?;
    let mut rules = Vec::with_capacity(file.rule.len());
    for (i, r) in file.rule.iter().enumerate() {
        let rule = RuleAt { text, index: i + 1 }.rule(r.get_ref(), &rules)?;
        rules.push(rule);
    }
    Rules::new(rules).map_err(|e| PolicyFileError {
        line: None,
        key: None,
        message: e.to_string(),
    })
}

/// Refuses a policy longer than [`MAX_POLICY_BYTES`] before parsing it.
#[cfg(feature = "file")]
fn check_size(text: &str) -> Result<(), PolicyFileError> {
    if text.len() > MAX_POLICY_BYTES {
        return Err(PolicyFileError {
            line: None,
            key: None,
            message: format!(
                "the policy is {} bytes: the limit is {} KB (at most {} rules)",
                text.len(),
                MAX_POLICY_BYTES / 1024,
                crate::rules::MAX_RULES
            ),
        });
    }
    Ok(())
}

/// The TOML read into its shape; a syntax error or unknown key names its line.
#[cfg(feature = "file")]
fn read_toml(text: &str) -> Result<FileToml, PolicyFileError> {
    toml::from_str(text).map_err(|e| PolicyFileError {
        line: e.span().map(|s| line_of(text, s.start)),
        key: None,
        message: e.message().trim().to_string(),
    })
}

/// At least one `[[rule]]`, and no more than [`crate::rules::MAX_RULES`].
#[cfg(feature = "file")]
fn check_rule_count(n: usize) -> Result<(), PolicyFileError> {
    let message = if n == 0 {
        "the file has no rules: add at least one [[rule]] with name, match and retain".into()
    } else if n > crate::rules::MAX_RULES {
        crate::rules::RuleError::TooManyRules(n).to_string()
    } else {
        return Ok(());
    };
    Err(PolicyFileError {
        line: None,
        key: Some("rule".into()),
        message,
    })
}

/// One `[[rule]]` of the file (1-based `index`), whose errors name `rule[N].key` and the line.
#[cfg(feature = "file")]
struct RuleAt<'a> {
    text: &'a str,
    index: usize,
}

#[cfg(feature = "file")]
impl RuleAt<'_> {
    /// The error for `key` of this rule, at the line where `span` starts.
    fn error(&self, key: &str, span: std::ops::Range<usize>, message: String) -> PolicyFileError {
        PolicyFileError {
            line: Some(line_of(self.text, span.start)),
            key: Some(format!("rule[{}].{key}", self.index)),
            message,
        }
    }

    /// The rule checked key by key; `before` are the rules already read (names are unique).
    fn rule(&self, r: &RuleToml, before: &[Rule]) -> Result<Rule, PolicyFileError> {
        Ok(Rule {
            name: self.name(&r.name, before)?,
            matches: r.matches.get_ref().parse().map_err(|e: crate::GlobError| {
                self.error("match", r.matches.span(), e.to_string())
            })?,
            group: self.group(r.group.as_ref())?,
            retain: self.retain(&r.retain)?,
            keep_within: self.keep_within(r.min_retain_days.as_ref(), r.keep_within.as_ref())?,
        })
    }

    /// `name`: a valid rule name no earlier rule has.
    fn name(&self, name: &Spanned<String>, before: &[Rule]) -> Result<RuleName, PolicyFileError> {
        let parsed: RuleName = name
            .get_ref()
            .parse()
            .map_err(|e: crate::RuleError| self.error("name", name.span(), e.to_string()))?;
        if before.iter().any(|o| o.name == parsed) {
            return Err(self.error(
                "name",
                name.span(),
                format!("two rules are named '{parsed}': give each rule its own name"),
            ));
        }
        Ok(parsed)
    }

    /// `group`: a regex whose first capture names the group, when given.
    fn group(&self, g: Option<&Spanned<String>>) -> Result<Option<GroupPattern>, PolicyFileError> {
        g.map(|g| {
            g.get_ref()
                .parse::<GroupPattern>()
                .map_err(|e| self.error("group", g.span(), e.to_string()))
        })
        .transpose()
    }

    /// `retain`: a whole number ≥ 1.
    fn retain(&self, retain: &Spanned<i64>) -> Result<Retain, PolicyFileError> {
        u64::try_from(*retain.get_ref())
            .ok()
            .and_then(|n| Retain::new(n).ok())
            .ok_or_else(|| {
                self.error(
                    "retain",
                    retain.span(),
                    format!(
                        "must be a whole number ≥ 1: every group keeps at least its newest \
                         deployment (got {})",
                        retain.get_ref()
                    ),
                )
            })
    }

    /// The minimum age: `min_retain_days` or `keep_within`, not both.
    fn keep_within(
        &self,
        min_retain_days: Option<&Spanned<i64>>,
        keep_within: Option<&Spanned<String>>,
    ) -> Result<Option<Span>, PolicyFileError> {
        match (min_retain_days, keep_within) {
            (Some(d), Some(_)) => Err(self.error(
                "min_retain_days",
                d.span(),
                "give either min_retain_days or keep_within, not both".into(),
            )),
            (Some(d), None) => {
                let days = u64::try_from(*d.get_ref()).map_err(|_| {
                    self.error(
                        "min_retain_days",
                        d.span(),
                        format!("must be a whole number ≥ 0 (got {})", d.get_ref()),
                    )
                })?;
                Ok(Some(Span::from_days(days)))
            }
            (None, Some(k)) => k
                .get_ref()
                .parse::<Span>()
                .map(Some)
                .map_err(|e| self.error("keep_within", k.span(), e.to_string())),
            (None, None) => Ok(None),
        }
    }
}

/// The rules as a policy file, which [`parse_policy`] reads back to the same rules.
pub fn policy_to_toml(rules: &Rules) -> String {
    let mut out = String::new();
    for (i, r) in rules.as_slice().iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        out.push_str("[[rule]]\n");
        let _ = writeln!(out, "name = {}", quote(r.name.as_str()));
        let _ = writeln!(out, "match = {}", quote(r.matches.as_str()));
        if let Some(g) = &r.group {
            let _ = writeln!(out, "group = {}", quote(g.as_str()));
        }
        // TOML's integers are i64: a larger retain (the dashboard takes any u64) is written as
        // the largest one, which keeps every deployment all the same.
        let retain = r.retain.get().min(i64::MAX as u64);
        let _ = writeln!(out, "retain = {retain}");
        match r.keep_within {
            Some(w) if w.as_secs() % 86_400 == 0 => {
                let _ = writeln!(out, "min_retain_days = {}", w.as_secs() / 86_400);
            }
            Some(w) => {
                let _ = writeln!(out, "keep_within = \"{}s\"", w.as_secs());
            }
            None => {}
        }
    }
    out
}

/// A TOML string: literal ('…') where possible, so regexes stay readable.
fn quote(s: &str) -> String {
    if !s.contains('\'') && !s.chars().any(char::is_control) {
        return format!("'{s}'");
    }
    let mut q = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => q.push_str("\\\""),
            '\\' => q.push_str("\\\\"),
            c if c.is_control() => {
                let _ = write!(q, "\\u{:04X}", u32::from(c));
            }
            c => q.push(c),
        }
    }
    q.push('"');
    q
}

#[cfg(all(test, feature = "file"))]
mod tests;
