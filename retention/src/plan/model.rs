//! What a plan is made of: the verdict per deployment (its reason in [`reason`](super::reason)),
//! the warnings, what blocks it, and the totals. [`plan`](super::plan) makes it; every front end shows it.

use super::{Action, Reason};
use crate::{
    DateOrigin, DeploymentId, Glob, GroupPattern, LooseObjects, Policy, RuleName, Span, Versioning,
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

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
    /// Under rules: its group within that rule (null when the rule has no group pattern; its
    /// id when the pattern does not match it, a group of its own).
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
    /// `meta:KEY` was absent or not a deploy date (unparsable, or before S3 existed);
    /// `--meta-fallback` dated it by its objects.
    MetaFallback {
        id: DeploymentId,
        key: String,
        problem: String,
        #[serde(default = "newest")]
        by: crate::MetaFallback,
    },
    /// `meta:KEY` was absent or not a deploy date (unparsable, or before S3 existed) and no
    /// fallback was given: kept, date unknown.
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
    /// A rule's group pattern does not match `count` of the ids it decides (`ids`: the first
    /// few, newest first): each is a group of its own, so kept.
    GroupUnmatched {
        rule: RuleName,
        pattern: GroupPattern,
        ids: Vec<DeploymentId>,
        count: u64,
    },
    /// Every group of a rule's group pattern holds one deployment (`count` groups, at least
    /// three): the rule deletes none — the pattern likely captures what differs
    /// between builds (a hash, a number) rather than what they share (the branch).
    GroupsAlone { rule: RuleName, count: u64 },
    /// The deployments come from an S3 Inventory report older than 48 hours.
    OldInventory {
        report_date: DateTime<Utc>,
        age_hours: i64,
    },
    /// Deployments in the S3 Inventory report that a listing no longer finds: left out of
    /// the plan, so that they do not count towards RETAIN in place of ones that exist.
    InventoryGone {
        report_date: DateTime<Utc>,
        ids: Vec<DeploymentId>,
    },
    /// Folders a listing finds that the report does not hold (published since it): listed now
    /// and planned as a listing would.
    InventoryNewer {
        report_date: DateTime<Utc>,
        ids: Vec<DeploymentId>,
    },
    /// The report holds no key under the prefix while a listing finds folders there: its
    /// filter probably does not cover the prefix (the plan is from a listing of them).
    InventoryMissesPrefix { prefix: String },
    /// The live pointer's earlier versions could not be listed (`why`): the live grace knows
    /// only the changes scans recorded.
    LiveVersionsUnread { why: String },
    /// Some of the live pointer's versions inside the live grace were not read (`why`: too many
    /// to read, or unreadable): a deployment named only in those gets no grace.
    LiveVersionsCut { why: String },
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
        // Past what chrono can hold (hundreds of millions of years): nothing is that late.
        let after = i64::try_from(after.as_secs())
            .ok()
            .and_then(chrono::Duration::try_seconds)
            .unwrap_or(chrono::Duration::MAX);
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

    /// Deployments the policy cannot rank, so never deletes: undated (`meta:KEY` missing or
    /// not a date, and no fallback) or dated more than a day ahead (a clock's skew is less). A
    /// job that leaves these has stopped cleaning up for them, however well its runs end.
    pub fn unranked(&self) -> Vec<&Entry> {
        let believable = self.now + chrono::Duration::days(1);
        self.entries
            .iter()
            .filter(|e| match e.reason {
                Reason::DateUnknown { .. } => true,
                Reason::FutureDate => e.date > believable,
                _ => false,
            })
            .collect()
    }

    /// A short hex fingerprint of the policy, how its deletes go (purged or restorable: the
    /// policy's purge and the bucket's versioning) and the deletion set, for audit records, an
    /// approval's check and telling two plans apart at a glance. (Added 2026-12-07: approval
    /// requests filed before then are void when decided.)
    pub fn fingerprint(&self) -> String {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        let mut eat = |s: &str| {
            for b in s.bytes().chain(std::iter::once(b'\n')) {
                h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
            }
        };
        eat(&self.policy.to_string());
        // How the set goes: purged (nothing to restore) or marked (restorable), which the
        // policy's words leave out. Before, the two had one fingerprint.
        eat(&format!(
            "purge={}|versioning={}",
            self.policy.purge_versions, self.versioning
        ));
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
