//! What a plan is made of: the verdict and its reason per deployment, the warnings, what
//! blocks it, and the totals. [`plan`](super::plan) makes it; every front end shows it.

use crate::span::fmt_age;
use crate::{DateOrigin, DeploymentId, Glob, LooseObjects, Policy, RuleName, Span, Versioning};
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
    /// `meta:KEY` is absent or unparsable and no `--meta-fallback` was given: its date is
    /// unknown, so it is kept (not ranked).
    DateUnknown { key: String },
    /// The live pointer named it until `until`, less than the live grace ago: kept (it still
    /// takes its rank), so open tabs still load its files and it can be rolled back to.
    WasLive { rank: u64, until: DateTime<Utc> },
    /// Dated more than [`FUTURE_SLACK_SECS`] ahead of now (a wrong clock or metadata): kept
    /// (not ranked) until its date is believable.
    FutureDate,
}

/// How far ahead of now a date may be before it is not believed (clocks drift a little).
pub const FUTURE_SLACK_SECS: i64 = 5 * 60;

/// Which rule, and which of its groups, ranked a deployment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scope {
    pub rule: RuleName,
    /// The group (the pattern's first capture; `""` when it did not match). `None`: the rule
    /// has no group pattern.
    #[serde(default)]
    pub group: Option<String>,
}

impl fmt::Display for Scope {
    /// ` in pr-482 (previews)`, or ` (production)` for a rule without groups.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.group {
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
                    "keep: date unknown (metadata '{key}' absent or unreadable)"
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
                write!(
                    f,
                    "keep: {}, younger than {keep_within}",
                    fmt_age(*age_secs, *keep_within)
                )?;
                if let Some(s) = scope {
                    write!(f, ",{s}")?;
                }
                Ok(())
            }
            Reason::Expired {
                rank,
                retain,
                age_secs,
                keep_within,
                scope,
            } => {
                write!(f, "delete: rank {rank} > {retain}{}", scoped(scope))?;
                if let Some(w) = keep_within {
                    let age = fmt_age(*age_secs, *w);
                    let age = age.trim_end_matches(" old");
                    write!(f, " and {age} > {w}")?;
                }
                Ok(())
            }
        }
    }
}

/// One deployment's verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub id: DeploymentId,
    /// The date the policy used (see `date_origin`).
    pub date: DateTime<Utc>,
    pub date_origin: DateOrigin,
    pub age_secs: i64,
    pub objects: u64,
    pub bytes: u64,
    /// Newest LastModified: part of what apply re-checks before deleting.
    pub newest: DateTime<Utc>,
    pub action: Action,
    pub reason: Reason,
    /// Under rules: the rule that decided it (null when none did, or without rules).
    #[serde(default)]
    pub rule: Option<RuleName>,
    /// Under rules: its group within that rule (null when the rule has no group pattern).
    #[serde(default)]
    pub group: Option<String>,
    /// A deleted deployment: since when the policy has allowed it (the later of its minimum
    /// age passing and the newer deployment that took it past `retain` arriving).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deletable_since: Option<DateTime<Utc>>,
}

impl Entry {
    /// The human sentence for `reason`. Made when shown, not with the plan: the browser
    /// re-plans on every keystroke and shows a few dozen rows of thousands.
    pub fn reason_text(&self) -> String {
        self.reason.to_string()
    }
}

fn newest() -> crate::MetaFallback {
    crate::MetaFallback::Newest
}

/// A thing the user should know before applying.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Warning {
    /// Deployments with equal dates were ordered by id.
    TieBroken { ids: Vec<DeploymentId> },
    /// `meta:KEY` was absent or unparsable; `--meta-fallback` dated it by its objects.
    MetaFallback {
        id: DeploymentId,
        key: String,
        problem: String,
        #[serde(default = "newest")]
        by: crate::MetaFallback,
    },
    /// `meta:KEY` was absent or unparsable and no fallback was given: kept, date unknown.
    DateUnknown {
        id: DeploymentId,
        key: String,
        problem: String,
    },
    /// LastModified dates reset while the content stayed: ranked by first-seen dates.
    DatesReset { ids: Vec<DeploymentId> },
    /// Dated in the future: kept until its date is believable.
    FutureDate {
        id: DeploymentId,
        date: DateTime<Utc>,
    },
    /// A `--pin` names no deployment in the bucket.
    PinMatchesNothing { id: DeploymentId },
    /// An `--exclude` pattern matches no deployment.
    ExcludeMatchesNothing { pattern: Glob },
    /// A rule decides no deployment (none matches it, or earlier rules take them all).
    RuleMatchesNothing { rule: RuleName },
    /// The deployments come from an S3 Inventory report older than 48 hours.
    OldInventory {
        report_date: DateTime<Utc>,
        age_hours: i64,
    },
    /// Deleting on a versioned bucket leaves old versions unless purged.
    VersionedNoPurge { versioning: Versioning },
    /// Versions and delete markers will be removed for good.
    VersionedPurge { versioning: Versioning },
    /// The server does not say whether the bucket keeps versions.
    VersioningUnknown,
}

/// Why a plan may not be applied as it stands. Shown with the plan; apply refuses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Block {
    /// More deletions than `--max-delete` allows.
    TooMany { count: u64, max: u64 },
    /// The live pointer names a deployment that is not in the bucket: a wrong prefix or
    /// pointer would make every guess unsafe.
    LiveMissing { id: DeploymentId },
    /// `--live-from KEY` references no deployment of the bucket: what is serving is unknown.
    LiveFromNothing { key: String },
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    pub deployments: u64,
    pub objects: u64,
    pub bytes: u64,
}

impl Totals {
    pub(super) fn add(&mut self, e: &Entry) {
        self.deployments += 1;
        self.objects += e.objects;
        self.bytes += e.bytes;
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub keep: Totals,
    pub delete: Totals,
    pub loose: LooseObjects,
}

/// The verdict for every deployment, newest first, with totals and warnings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    pub policy: Policy,
    pub now: DateTime<Utc>,
    pub versioning: Versioning,
    pub entries: Vec<Entry>,
    pub summary: Summary,
    pub warnings: Vec<Warning>,
    /// Non-empty when the plan must not be applied.
    #[serde(default)]
    pub blocked: Vec<Block>,
    /// Under rules: what each rule keeps and deletes, in rule order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<RuleSummary>,
}

/// One rule's share of a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleSummary {
    pub rule: RuleName,
    /// Distinct groups among the deployments it decided.
    pub groups: u64,
    pub keep: Totals,
    pub delete: Totals,
}

impl Plan {
    /// Whether apply may go ahead; the reasons it may not otherwise.
    pub fn check_apply(&self) -> Result<(), &[Block]> {
        if self.blocked.is_empty() {
            Ok(())
        } else {
            Err(&self.blocked)
        }
    }

    pub fn to_delete(&self) -> impl Iterator<Item = &Entry> {
        self.entries.iter().filter(|e| e.action == Action::Delete)
    }

    /// Deletions the policy has allowed for longer than `after` at the plan's `now`: cleanup
    /// is behind (a job that stopped, or fails every night). Longest overdue first.
    pub fn overdue(&self, after: Span) -> Vec<&Entry> {
        let after = chrono::Duration::seconds(i64::try_from(after.as_secs()).unwrap_or(i64::MAX));
        let mut late: Vec<&Entry> = self
            .to_delete()
            .filter(|e| {
                e.deletable_since
                    .is_some_and(|since| self.now.signed_duration_since(since) > after)
            })
            .collect();
        late.sort_by_key(|e| (e.deletable_since, e.id.clone()));
        late
    }

    /// A short hex fingerprint of the policy and the deletion set, for audit records and for
    /// telling two plans apart at a glance.
    pub fn fingerprint(&self) -> String {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        let mut eat = |s: &str| {
            for b in s.bytes().chain(std::iter::once(b'\n')) {
                h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
            }
        };
        eat(&self.policy.to_string());
        for d in self.deletion_set() {
            eat(&format!(
                "{}|{}|{}|{}",
                d.id,
                d.objects,
                d.bytes,
                d.newest.to_rfc3339()
            ));
        }
        format!("{h:016x}")
    }

    /// What apply binds to: the deployments to delete with the facts that make them what the
    /// user saw, sorted by id. If a rescan yields a different set, the user has not confirmed it.
    pub fn deletion_set(&self) -> Vec<Doomed> {
        let mut v: Vec<Doomed> = self.to_delete().map(Doomed::of).collect();
        v.sort();
        v
    }
}

/// One deployment a plan deletes, with the facts the user confirmed: the unit every front end
/// binds an apply to, and the cut-off apply honours (nothing newer than `newest` is deleted).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Doomed {
    pub id: DeploymentId,
    pub objects: u64,
    pub bytes: u64,
    /// The newest LastModified the plan saw in it.
    pub newest: DateTime<Utc>,
}

impl Doomed {
    pub fn of(e: &Entry) -> Doomed {
        Doomed {
            id: e.id.clone(),
            objects: e.objects,
            bytes: e.bytes,
            newest: e.newest,
        }
    }
}
