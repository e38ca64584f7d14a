//! The steps [`plan`](super::plan) is made of, in the order it takes them: date every
//! deployment and order them newest first ([`date`]); walk them, giving each its guard (exclude,
//! pin) or its rank within its rule and group and the verdict of that rank ([`walk`]); then the
//! warnings about the input, the totals and what blocks the plan (here). Each is a small
//! function with its own tests.

mod date;
mod walk;

#[cfg(test)]
pub(super) use date::dated_newest_first;
pub use date::Dated;
pub(super) use date::{order, Slot};
use walk::present;
pub(super) use walk::Walk;

use super::{Action, Block, Entry, Reason, RuleSummary, Summary, Warning};
use crate::{Inventory, Policy, Versioning};
use chrono::{DateTime, Utc};

/// Step 3: what the plan should say about its input: an old inventory report, versioning.
pub(super) fn input_warnings(
    inventory: &Inventory,
    policy: &Policy,
    now: DateTime<Utc>,
) -> Vec<Warning> {
    let mut w = Vec::new();
    if let Some(report_date) = inventory.report_date {
        let age_hours = (now - report_date).num_hours();
        if age_hours > 48 {
            w.push(Warning::OldInventory {
                report_date,
                age_hours,
            });
        }
    }
    if inventory.versioning == Versioning::Unknown {
        w.push(Warning::VersioningUnknown);
    }
    if inventory.versioning.keeps_versions() {
        let versioning = inventory.versioning;
        w.push(match policy.purge_versions {
            true => Warning::VersionedPurge { versioning },
            false => Warning::VersionedNoPurge { versioning },
        });
    }
    w
}

/// Deployments dated in the future, kept until their date is believable.
pub(super) fn future_dates(entries: &[Entry]) -> Vec<Warning> {
    entries
        .iter()
        .filter(|e| e.reason == Reason::FutureDate)
        .map(|e| Warning::FutureDate {
            id: e.id.clone(),
            date: e.date,
        })
        .collect()
}

/// Step 4: kept and deleted totals (and the loose objects, never deleted).
pub(super) fn totals(inventory: &Inventory, entries: &[Entry]) -> Summary {
    let mut summary = Summary {
        loose: inventory.loose,
        ..Summary::default()
    };
    for e in entries {
        match e.action {
            Action::Keep => summary.keep.add(e),
            Action::Delete => summary.delete.add(e),
        }
    }
    summary
}

/// Rules that decided nothing: probably a pattern that matches no folder.
pub(super) fn idle_rules(rules: &[RuleSummary]) -> Vec<Warning> {
    rules
        .iter()
        .filter(|r| r.keep.deployments + r.delete.deployments == 0)
        .map(|r| Warning::RuleMatchesNothing {
            rule: r.rule.clone(),
        })
        .collect()
}

/// Step 5: what stops the plan from being applied: the live deployment missing, a live page
/// that names none, more deletions than the guard allows.
pub(super) fn blocks(inventory: &Inventory, policy: &Policy, summary: &Summary) -> Vec<Block> {
    let mut blocked = Vec::new();
    if let Some(live) = &inventory.live {
        if !present(inventory, live) {
            blocked.push(Block::LiveMissing { id: live.clone() });
        }
    }
    if let Some(refs) = &inventory.live_from {
        if !refs.ids.iter().any(|id| present(inventory, id)) {
            blocked.push(Block::LiveFromNothing {
                key: refs.key.clone(),
            });
        }
    }
    if let Some(max) = policy.max_delete {
        if summary.delete.deployments > max {
            blocked.push(Block::TooMany {
                count: summary.delete.deployments,
                max,
            });
        }
    }
    blocked
}

#[cfg(test)]
mod tests;
