//! Rules: an ordered list of retention rules, each keeping its newest N **per group**.
//!
//! The first rule whose `match` glob matches a deployment id decides it; a deployment no rule
//! matches is kept. A rule's optional `group` regex splits what it matches into groups by its
//! first capture (`^pr-(\d+)-` puts `pr-482-9c1d0e2` in group `482`); an id it does not match is
//! a group of its own, ranked against no other (and so kept), and the plan warns. `retain` and
//! the minimum age then apply within each group.

use crate::{Glob, Retain, Span};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A rule's name: shown in every reason it gives. 1–40 characters, no control characters.
/// Shared (`Arc`): every entry a rule decides carries it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RuleName(std::sync::Arc<str>);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleError {
    #[error("a rule's name must be 1 to 40 characters, without control characters or a space at either end (got '{0}')")]
    BadName(String),
    #[error("group '{pattern}' is not a valid regular expression: {problem}")]
    BadRegex { pattern: String, problem: String },
    #[error(
        "group '{0}' has no capture group: put the part that names the group in parentheses, \
         e.g. '^pr-(\\d+)-'"
    )]
    NoCapture(String),
    #[error(
        "group '{0}' has a space at its start or end: remove it (match a real space with '\\x20')"
    )]
    Space(String),
    #[error("there must be at least one rule")]
    NoRules,
    #[error("two rules are named '{0}': give each rule its own name")]
    DuplicateName(String),
    #[error("{0} rules: a policy has at most {MAX_RULES} rules (match several deployments with one glob)")]
    TooManyRules(usize),
    #[error("a group pattern of {0} characters: the limit is {MAX_PATTERN_CHARS} characters")]
    PatternTooLong(usize),
    #[error(
        "group '{pattern}' compiles to more than the limit of {kb} KB per pattern: simplify it \
         (counted repetitions such as a{{1000}} multiply its size)",
        kb = MAX_PATTERN_COMPILED / 1024
    )]
    PatternTooBig { pattern: String },
}

/// Rules a policy may hold: enough for any site, few enough that planning stays instant.
pub const MAX_RULES: usize = 100;
/// A group pattern's length, in characters.
pub const MAX_PATTERN_CHARS: usize = 500;
/// A group pattern's compiled size, in bytes (regex-lite's estimate): 100 rules stay within
/// ~25 MB and a few milliseconds to compile, however they are written.
pub const MAX_PATTERN_COMPILED: usize = 256 * 1024;

impl FromStr for RuleName {
    type Err = RuleError;
    fn from_str(s: &str) -> Result<Self, RuleError> {
        let n = s.chars().count();
        if n == 0 || n > 40 || s.chars().any(char::is_control) || s.trim() != s {
            return Err(RuleError::BadName(s.escape_debug().to_string()));
        }
        Ok(RuleName(s.into()))
    }
}
impl TryFrom<String> for RuleName {
    type Error = RuleError;
    fn try_from(s: String) -> Result<Self, RuleError> {
        s.parse()
    }
}
impl From<RuleName> for String {
    fn from(n: RuleName) -> String {
        n.0.to_string()
    }
}
impl fmt::Display for RuleName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
impl RuleName {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A regex with at least one capture group; the first capture names a deployment's group.
#[derive(Clone, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct GroupPattern {
    source: String,
    regex: regex_lite::Regex,
}

impl FromStr for GroupPattern {
    type Err = RuleError;
    fn from_str(s: &str) -> Result<Self, RuleError> {
        let chars = s.chars().count();
        if chars > MAX_PATTERN_CHARS {
            return Err(RuleError::PatternTooLong(chars));
        }
        if s.trim() != s {
            return Err(RuleError::Space(s.to_string()));
        }
        let regex = regex_lite::RegexBuilder::new(s)
            .size_limit(MAX_PATTERN_COMPILED)
            .build()
            .map_err(|e| {
                let problem = e.to_string();
                if problem.contains("size limit") {
                    return RuleError::PatternTooBig {
                        pattern: s.to_string(),
                    };
                }
                RuleError::BadRegex {
                    pattern: s.to_string(),
                    problem: problem.lines().last().unwrap_or("").trim().to_string(),
                }
            })?;
        if regex.captures_len() < 2 {
            return Err(RuleError::NoCapture(s.to_string()));
        }
        Ok(GroupPattern {
            source: s.to_string(),
            regex,
        })
    }
}
impl TryFrom<String> for GroupPattern {
    type Error = RuleError;
    fn try_from(s: String) -> Result<Self, RuleError> {
        s.parse()
    }
}
impl From<GroupPattern> for String {
    fn from(g: GroupPattern) -> String {
        g.source
    }
}
impl PartialEq for GroupPattern {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}
impl Eq for GroupPattern {}
impl fmt::Debug for GroupPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "GroupPattern({:?})", self.source)
    }
}
impl fmt::Display for GroupPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

impl GroupPattern {
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// The group of `id`: the first capture; `None` when the pattern does not match (or the
    /// capture took no part in the match), so it names no group.
    pub fn group_of(&self, id: &str) -> Option<String> {
        self.regex
            .captures(id)
            .and_then(|c| c.get(1))
            .map(|m| m.as_str().to_string())
    }
}

/// One rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rule {
    pub name: RuleName,
    /// Which deployment ids this rule decides (the first matching rule wins).
    #[serde(rename = "match")]
    pub matches: Glob,
    #[serde(default)]
    pub group: Option<GroupPattern>,
    /// Kept per group: the newest `retain` of each.
    pub retain: Retain,
    /// Never delete one younger than this (per rule).
    #[serde(default)]
    pub keep_within: Option<Span>,
}

/// A non-empty list of rules with distinct names, in the order they are tried.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Vec<Rule>", into = "Vec<Rule>")]
pub struct Rules(Vec<Rule>);

impl Rules {
    pub fn new(rules: Vec<Rule>) -> Result<Rules, RuleError> {
        if rules.is_empty() {
            return Err(RuleError::NoRules);
        }
        if rules.len() > MAX_RULES {
            return Err(RuleError::TooManyRules(rules.len()));
        }
        for (i, r) in rules.iter().enumerate() {
            if rules[..i].iter().any(|o| o.name == r.name) {
                return Err(RuleError::DuplicateName(r.name.to_string()));
            }
        }
        Ok(Rules(rules))
    }

    pub fn as_slice(&self) -> &[Rule] {
        &self.0
    }

    /// The rule deciding `id`: the first whose glob matches it.
    pub fn rule_for(&self, id: &str) -> Option<(usize, &Rule)> {
        self.0
            .iter()
            .enumerate()
            .find(|(_, r)| r.matches.matches(id))
    }
}

impl TryFrom<Vec<Rule>> for Rules {
    type Error = RuleError;
    fn try_from(v: Vec<Rule>) -> Result<Self, RuleError> {
        Rules::new(v)
    }
}
impl From<Rules> for Vec<Rule> {
    fn from(r: Rules) -> Vec<Rule> {
        r.0
    }
}

impl fmt::Display for Rule {
    /// `previews: 'pr-*' keep newest 1 per group '^(pr-\d+)-', and anything younger than 7 d`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: '{}' keep newest {}",
            self.name, self.matches, self.retain
        )?;
        if let Some(g) = &self.group {
            write!(f, " per group '{g}'")?;
        }
        if let Some(w) = self.keep_within {
            write!(f, ", and anything younger than {w}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Rules {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, r) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{r}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_group_pattern_needs_a_capture_and_names_the_group_by_it() {
        let g: GroupPattern = r"^pr-(\d+)-".parse().unwrap();
        assert_eq!(g.group_of("pr-482-9c1d0e2").as_deref(), Some("482"));
        assert_eq!(g.group_of("main-3f9a2c1"), None, "no match: no group");
        assert!(matches!(
            "^pr-\\d+".parse::<GroupPattern>(),
            Err(RuleError::NoCapture(_))
        ));
        let bad = "^pr-(\\d+".parse::<GroupPattern>().unwrap_err();
        assert!(matches!(bad, RuleError::BadRegex { .. }), "{bad}");
        // an optional capture that took no part: no group either
        let opt: GroupPattern = "^x(a)?".parse().unwrap();
        assert_eq!(opt.group_of("xb"), None);
        // an empty capture that took part names the group ""
        let empty: GroupPattern = "^x(a*)".parse().unwrap();
        assert_eq!(empty.group_of("xb").as_deref(), Some(""));
    }

    #[test]
    fn rule_names_are_short_printable_and_distinct() {
        assert!("previews".parse::<RuleName>().is_ok());
        assert!("".parse::<RuleName>().is_err());
        assert!("a\nb".parse::<RuleName>().is_err());
        assert!("x".repeat(41).parse::<RuleName>().is_err());
        let r = |n: &str| Rule {
            name: n.parse().unwrap(),
            matches: "*".parse().unwrap(),
            group: None,
            retain: Retain::new(1).unwrap(),
            keep_within: None,
        };
        assert_eq!(
            Rules::new(vec![r("a"), r("a")]),
            Err(RuleError::DuplicateName("a".into()))
        );
        assert_eq!(Rules::new(vec![]), Err(RuleError::NoRules));
        let rules = Rules::new(vec![r("a"), r("b")]).unwrap();
        assert_eq!(
            rules.rule_for("x").unwrap().1.name.as_str(),
            "a",
            "first match wins"
        );
    }
}
