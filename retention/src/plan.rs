//! The policy itself: one function, [`plan`], in the spirit of restic's `ApplyPolicy` — a few
//! named steps ([`steps`]): date and order the deployments, walk them newest first giving each
//! its guard or its rank and verdict, then warnings, totals and what blocks the plan. The types
//! it returns are in [`model`].

mod model;
mod steps;
mod words;

pub use model::*;

#[cfg(test)]
use crate::{DateOrigin, DateSource, Deployment, DeploymentId, Span, Versioning};
use crate::{Inventory, Policy};
use chrono::{DateTime, Utc};
#[cfg(test)]
use std::collections::BTreeSet;

pub use steps::Dated;

/// Step 1 of [`plan`] alone: every deployment's date under `policy`'s date source, newest
/// first (equal dates by id ascending). Every plan of `inventory` with that date source lists
/// its entries in this order with these dates, whatever its retain, minimum age or rules: the
/// dashboard's rows need only this, not a whole plan.
pub fn newest_first<'a>(inventory: &'a Inventory, policy: &Policy) -> Vec<Dated<'a>> {
    steps::dated_newest_first(inventory, policy).0
}

/// Decides, for every deployment of `inventory`, keep or delete and why.
///
/// A deployment is deleted iff it is not excluded, not pinned, not among the newest
/// `policy.retain` managed deployments, and — when a minimum age is set — strictly older than it
/// at `now`. Order is newest date first, equal dates by id ascending. The steps are in
/// [`steps`], each with its own tests.
pub fn plan(inventory: &Inventory, policy: &Policy, now: DateTime<Utc>) -> Plan {
    let (dated, mut warnings) = steps::dated_newest_first(inventory, policy);
    let mut walk = steps::Walk::new(inventory, policy, now);
    let entries: Vec<Entry> = dated.iter().map(|d| walk.entry(d)).collect();
    warnings.extend(steps::future_dates(&entries));
    warnings.extend(walk.ties());
    warnings.extend(walk.unmatched());
    warnings.extend(steps::input_warnings(inventory, policy, now));
    let summary = steps::totals(inventory, &entries);
    let rules = walk.rule_summaries(&entries);
    warnings.extend(steps::idle_rules(&rules));
    let blocked = steps::blocks(inventory, policy, &summary);
    Plan {
        policy: policy.clone(),
        now,
        versioning: inventory.versioning,
        entries,
        summary,
        warnings,
        blocked,
        rules,
    }
}

#[cfg(test)]
mod rule_tests;
#[cfg(test)]
mod tests;
