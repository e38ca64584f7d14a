//! A verdict and why: keep or delete, the typed reason behind it with the sentence users read,
//! and the rule and group that ranked it.

use crate::span::fmt_age;
use crate::{Glob, RuleName, Span};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Keep,
    Delete,
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Action::Keep => "keep",
            Action::Delete => "delete",
        })
    }
}

/// Why a deployment is kept or deleted. `Display` gives the sentence users read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Reason {
    /// Its id matches an `--exclude` pattern: not managed.
    Excluded { pattern: Glob },
    /// Pinned (`--pin`, or stored in the bucket with a note): always kept, not counted.
    Pinned {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        note: Option<String>,
    },
    /// What the live pointer names, or a page of the site references (`from`: its key):
    /// always kept (it still takes its rank).
    Live {
        rank: u64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        from: Option<String>,
    },
    /// Among the newest `retain` managed deployments (of its group, under rules).
    Newest {
        rank: u64,
        retain: u64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        scope: Option<Scope>,
    },
    /// Beyond the newest `retain`, but younger than the minimum age.
    TooYoung {
        rank: u64,
        retain: u64,
        age_secs: i64,
        keep_within: Span,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        scope: Option<Scope>,
    },
    /// Beyond the newest `retain` and (when a minimum age is set) older than it.
    Expired {
        rank: u64,
        retain: u64,
        age_secs: i64,
        keep_within: Option<Span>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        scope: Option<Scope>,
    },
    /// Under rules, no rule's `match` matches its id: kept.
    NoRule,
    /// `meta:KEY` is absent or not a deploy date (unparsable, or before S3 existed) and no
    /// `--meta-fallback` was given: its date is unknown, so it is kept (not ranked).
    DateUnknown { key: String },
    /// The live pointer named it until `until`, less than the live grace ago: kept (it still
    /// takes its rank), so open tabs still load its files and it can be rolled back to.
    WasLive { rank: u64, until: DateTime<Utc> },
    /// Dated more than `FUTURE_SLACK_SECS` ahead of now (a wrong clock or metadata): kept
    /// (not ranked) until its date is believable.
    FutureDate,
}

/// How far ahead of now a date may be before it is not believed (clocks drift a little).
pub const FUTURE_SLACK_SECS: i64 = 5 * 60;

/// Which rule, and which of its groups, ranked a deployment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scope {
    pub rule: RuleName,
    /// The group (the pattern's first capture; the id itself when `alone`). `None`: the rule
    /// has no group pattern.
    #[serde(default)]
    pub group: Option<String>,
    /// The rule's group pattern does not match the id: it is a group of its own, ranked
    /// against no other deployment.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub alone: bool,
}

impl fmt::Display for Scope {
    /// ` in pr-482 (previews)`, ` in a group of its own (previews)` for an id the group
    /// pattern does not match, or ` (production)` for a rule without groups.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.group {
            _ if self.alone => write!(f, " in a group of its own ({})", self.rule),
            Some(g) if g.is_empty() => write!(f, " in the group \"\" ({})", self.rule),
            Some(g) => write!(f, " in {g} ({})", self.rule),
            None => write!(f, " ({})", self.rule),
        }
    }
}

/// ` in pr-482 (previews)` or nothing.
fn scoped(scope: &Option<Scope>) -> String {
    scope.as_ref().map(|s| s.to_string()).unwrap_or_default()
}

impl Reason {
    pub fn action(&self) -> Action {
        match self {
            Reason::Expired { .. } => Action::Delete,
            _ => Action::Keep,
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::Excluded { pattern } => write!(f, "keep: excluded by '{pattern}'"),
            Reason::Pinned { note: None } => f.write_str("keep: pinned"),
            Reason::Pinned { note: Some(n) } => write!(f, "keep: pinned ({n})"),
            Reason::Live { from: None, .. } => f.write_str("keep: live"),
            Reason::Live { from: Some(k), .. } => write!(f, "keep: live (referenced by {k})"),
            Reason::NoRule => f.write_str("keep: no rule matches"),
            Reason::DateUnknown { key } => {
                write!(
                    f,
                    "keep: date unknown (metadata '{key}' absent or not a deploy date)"
                )
            }
            Reason::FutureDate => f.write_str("keep: dated in the future"),
            Reason::WasLive { until, .. } => write!(
                f,
                "keep: was live until {} UTC (live grace)",
                crate::span::minute_utc(until)
            ),
            Reason::Newest {
                rank,
                retain,
                scope,
            } => write!(f, "keep: newest {rank} of {retain}{}", scoped(scope)),
            Reason::TooYoung {
                age_secs,
                keep_within,
                scope,
                ..
            } => {
                // Exactly the minimum age is kept too: "30 d old, not older than 30 d".
                let than = match u64::try_from(*age_secs) == Ok(keep_within.as_secs()) {
                    true => "not older than",
                    false => "younger than",
                };
                write!(
                    f,
                    "keep: {}, {than} {keep_within}",
                    fmt_age(*age_secs, *keep_within)
                )?;
                match scope {
                    // ", in pr-482 (previews)"; a rule without groups: " (production)".
                    Some(s) if s.group.is_some() || s.alone => write!(f, ",{s}"),
                    Some(s) => write!(f, "{s}"),
                    None => Ok(()),
                }
            }
            Reason::Expired {
                rank,
                retain,
                age_secs,
                keep_within,
                scope,
            } => {
                write!(f, "delete: rank {rank} > {retain}{}", scoped(scope))?;
                // A minimum age of 0 holds for every deployment: "and 0.1 d > 0 d" said nothing.
                if let Some(w) = keep_within.filter(|w| w.as_secs() > 0) {
                    let age = fmt_age(*age_secs, w);
                    let age = age.trim_end_matches(" old");
                    write!(f, " and {age} > {w}")?;
                }
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_minimum_age_of_zero_is_not_given_as_a_reason_to_delete() {
        let expired = |days| Reason::Expired {
            rank: 3,
            retain: 1,
            age_secs: 8_640,
            keep_within: Some(Span::from_days(days)),
            scope: None,
        };
        // Before: "delete: rank 3 > 1 and 0.1 d > 0 d".
        assert_eq!(expired(0).to_string(), "delete: rank 3 > 1");
        assert!(expired(1)
            .to_string()
            .starts_with("delete: rank 3 > 1 and "));
    }

    #[test]
    fn a_young_deployments_reason_reads_without_a_stray_comma() {
        let young = |group: Option<&str>| Reason::TooYoung {
            rank: 3,
            retain: 2,
            age_secs: 3 * 86_400,
            keep_within: Span::from_days(30),
            scope: Some(Scope {
                rule: "production".parse().unwrap(),
                group: group.map(str::to_string),
                alone: false,
            }),
        };
        // Before: "keep: 30 d old, younger than 30 d" at exactly the minimum age.
        let exactly = Reason::TooYoung {
            rank: 3,
            retain: 2,
            age_secs: 30 * 86_400,
            keep_within: Span::from_days(30),
            scope: None,
        };
        assert_eq!(exactly.to_string(), "keep: 30 d old, not older than 30 d");
        // Before: "keep: 3 d old, younger than 30 d, (production)".
        assert_eq!(
            young(None).to_string(),
            "keep: 3 d old, younger than 30 d (production)"
        );
        assert_eq!(
            young(Some("pr-1")).to_string(),
            "keep: 3 d old, younger than 30 d, in pr-1 (production)"
        );
    }
}
