//! What the plan's warnings and blocks say, to whom. The CLI's words (`Display`) name its
//! flags; the dashboard's ([`Warning::for_dashboard`], [`Block::for_dashboard`]) name what its
//! user can do there, or who can when it is an operator's setting.

use super::{Block, Warning};
use std::fmt;

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Warning::TieBroken { ids } => {
                let ids: Vec<&str> = ids.iter().map(|i| i.as_str()).collect();
                write!(f, "same date for {}: ordered by id", ids.join(", "))
            }
            Warning::MetaFallback {
                id,
                key,
                problem,
                by,
            } => write!(
                f,
                "{id}: metadata '{key}' {problem}; dated by its {by} object instead"
            ),
            Warning::DateUnknown { id, key, problem } => write!(
                f,
                "{id}: metadata '{key}' {problem}, so its date is unknown: kept \
                 (--meta-fallback newest or oldest dates it by its objects instead)"
            ),
            Warning::DatesReset { ids } => write!(
                f,
                "dates reset (copy or re-encryption?) for {} deployment(s) whose keys and sizes did not change ({}): ranked by first-seen dates",
                ids.len(),
                ids.iter().map(|i| i.as_str()).collect::<Vec<_>>().join(", ")
            ),
            Warning::FutureDate { id, date } => write!(
                f,
                "{id} is dated {} UTC, in the future: kept until then (a wrong clock or metadata?)",
                crate::span::minute_utc(date)
            ),
            Warning::PinMatchesNothing { id } => write!(f, "pin '{id}' matches no deployment"),
            Warning::ExcludeMatchesNothing { pattern } => {
                write!(f, "exclude '{pattern}' matches no deployment")
            }
            Warning::RuleMatchesNothing { rule } => write!(
                f,
                "rule '{rule}' decides no deployment: its pattern matches none, or each it \
                 matches is pinned, excluded, undated or future-dated, or taken by an earlier rule"
            ),
            Warning::GroupUnmatched {
                rule,
                pattern,
                ids,
                count,
            } => {
                let named: Vec<&str> = ids.iter().map(|i| i.as_str()).collect();
                let more = match *count > ids.len() as u64 {
                    true => ", …",
                    false => "",
                };
                write!(
                    f,
                    "rule '{rule}': its group pattern '{pattern}' does not match {}{more} \
                     ({count} deployment(s)), so each is a group of its own and ranked against \
                     no other: fix the rule's group pattern; these are kept",
                    named.join(", ")
                )
            }
            Warning::GroupsAlone { rule, count } => write!(
                f,
                "rule '{rule}' deletes none: each of its {count} groups holds one deployment \
                 (is its group pattern right?)"
            ),
            Warning::OldInventory {
                report_date,
                age_hours,
            } => write!(
                f,
                "the inventory report is from {} UTC ({age_hours} h ago): the deployments in it \
                 are planned as they were then (a listing added those published since and left \
                 out those gone; apply still re-lists each one it deletes)",
                crate::span::minute_utc(report_date)
            ),
            Warning::InventoryGone { report_date, ids } => write!(
                f,
                "{}: in the report of {} UTC, gone since (a listing finds no such folder now): \
                 left out of the plan",
                ids.iter().map(|i| i.as_str()).collect::<Vec<_>>().join(", "),
                crate::span::minute_utc(report_date)
            ),
            Warning::InventoryNewer { report_date, ids } => write!(
                f,
                "{}: not in the report of {} UTC (published since): listed now and planned as a \
                 listing would",
                ids.iter().map(|i| i.as_str()).collect::<Vec<_>>().join(", "),
                crate::span::minute_utc(report_date)
            ),
            Warning::InventoryMissesPrefix { prefix } => write!(
                f,
                "the report holds no key under {prefix}: does the inventory configuration's \
                 filter cover it? (its folders were listed instead)"
            ),
            Warning::LiveVersionsUnread { why } => write!(
                f,
                "the live pointer's earlier versions could not be listed ({why}): the live \
                 grace keeps only what earlier scans saw it name (grant s3:ListBucketVersions)"
            ),
            Warning::LiveVersionsCut { why } => write!(
                f,
                "the live pointer's versions inside the live grace were not all read ({why}): \
                 a deployment named only in those left unread gets no grace"
            ),
            Warning::VersionedNoPurge { versioning } => write!(
                f,
                "bucket versioning is {versioning}: deleting only adds delete markers and frees no \
                 storage; add --purge-versions to remove every version for good (by requests: \
                 not with --via-lifecycle, whose expiry only adds markers too)"
            ),
            Warning::VersionedPurge { versioning } => write!(
                f,
                "bucket versioning is {versioning}: --purge-versions removes every version and \
                 delete marker of the deleted deployments; they cannot be restored"
            ),
            Warning::VersioningUnknown => f.write_str(
                "the server does not report bucket versioning (GetBucketVersioning not \
                 implemented): treated as unversioned; if it keeps versions, deleting frees no \
                 storage and the run cannot be restored",
            ),
        }
    }
}

impl fmt::Display for Block {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Block::TooMany { count, max } => write!(
                f,
                "the plan deletes {count} deployments, more than --max-delete {max}: nothing will be \
                 deleted. Raise --max-delete if this is intended."
            ),
            Block::LiveMissing { id } => write!(
                f,
                "the live pointer names '{id}', which is not a deployment here (check --prefix and the \
                 pointer): nothing will be deleted"
            ),
            Block::LiveFromNothing { key } => write!(
                f,
                "{key} references no deployment of this bucket (check --prefix and the page), so \
                 what is serving is unknown: nothing will be deleted"
            ),
        }
    }
}

impl Warning {
    /// The warning as the dashboard shows it: where the CLI's sentence names a flag, what the
    /// dashboard's user can do instead (or that it is the server's setting).
    pub fn for_dashboard(&self) -> String {
        match self {
            Warning::DateUnknown { id, key, problem } => format!(
                "{id}: metadata '{key}' {problem}, so its date is unknown: kept (set that \
                 metadata on its objects to date it)"
            ),
            Warning::VersionedNoPurge {
                versioning: crate::Versioning::Suspended,
            } => "bucket versioning is suspended: deleting here removes what was uploaded since \
                  for good, while versions kept from before stay and take storage; these runs \
                  cannot be undone"
                .to_string(),
            Warning::VersionedNoPurge { versioning } => format!(
                "bucket versioning is {versioning}: deleting here only adds delete markers, so it \
                 frees no storage until the old versions expire (a lifecycle rule), and every run \
                 can be undone from History"
            ),
            Warning::VersionedPurge { versioning } => format!(
                "bucket versioning is {versioning} and this server's policy purges versions: every \
                 version and delete marker of the deleted deployments is removed, and History \
                 cannot undo the run"
            ),
            other => other.to_string(),
        }
    }
}

impl Block {
    /// The block as the dashboard shows it: what its user can change (the controls), or which
    /// of the server's settings is at fault.
    pub fn for_dashboard(&self) -> String {
        match self {
            Block::TooMany { count, max } => format!(
                "the plan deletes {count} deployments, more than this server lets one apply \
                 delete ({max}): nothing will be deleted. Keep more (RETAIN or minimum days), or \
                 ask an operator to raise its max_delete setting"
            ),
            Block::LiveMissing { id } => format!(
                "the live pointer names '{id}', which is not a deployment here (the server's \
                 prefix or live pointer setting is wrong): nothing will be deleted"
            ),
            Block::LiveFromNothing { key } => format!(
                "{key} references no deployment of this bucket (the server's prefix or live page \
                 setting is wrong), so what is serving is unknown: nothing will be deleted"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DeploymentId;

    #[test]
    fn the_dashboard_never_names_a_command_line_flag() {
        let id = DeploymentId::new("d1").unwrap();
        let warnings = [
            Warning::DateUnknown {
                id: id.clone(),
                key: "deployed-at".into(),
                problem: "is missing".into(),
            },
            Warning::VersionedNoPurge {
                versioning: crate::Versioning::Enabled,
            },
            Warning::VersionedPurge {
                versioning: crate::Versioning::Enabled,
            },
        ];
        let blocks = [
            Block::TooMany { count: 9, max: 5 },
            Block::LiveMissing { id },
            Block::LiveFromNothing {
                key: "index.html".into(),
            },
        ];
        let said = warnings
            .iter()
            .map(|w| (w.to_string(), w.for_dashboard()))
            .chain(blocks.iter().map(|b| (b.to_string(), b.for_dashboard())));
        for (cli, dashboard) in said {
            assert!(
                cli.contains("--"),
                "the CLI's sentence names its flag: {cli}"
            );
            assert!(
                !dashboard.contains("--"),
                "no flag on the dashboard: {dashboard}"
            );
            // nor a setting `serve` does not have (it neither purges versions nor dates by a
            // fallback)
            for unknown in ["purge_versions", "meta-fallback", "meta_fallback"] {
                assert!(!dashboard.contains(unknown), "{unknown}: {dashboard}");
            }
        }
        assert!(Warning::VersionedNoPurge {
            versioning: crate::Versioning::Enabled
        }
        .for_dashboard()
        .contains("undone from History"));
        // A suspended bucket's deletes leave nothing to undo: it is not said they can be.
        let suspended = Warning::VersionedNoPurge {
            versioning: crate::Versioning::Suspended,
        }
        .for_dashboard();
        assert!(suspended.contains("cannot be undone"), "{suspended}");
    }
}
