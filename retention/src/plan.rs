//! The policy itself: one function, [`plan`], in the spirit of restic's `ApplyPolicy` — a few
//! named steps ([`steps`]): date and order the deployments, walk them newest first giving each
//! its guard or its rank and verdict, then warnings, totals and what blocks the plan. The types
//! it returns are in [`model`], each verdict's reason in [`reason`].

mod model;
mod order;
mod reason;
mod steps;
mod words;

pub use model::*;
pub use order::Ordered;
pub use reason::*;

#[cfg(test)]
use crate::{DateOrigin, DateSource, Deployment, DeploymentId, Span, Versioning};
use crate::{Inventory, Policy};
use chrono::{DateTime, Utc};
#[cfg(test)]
use std::collections::BTreeSet;

pub use steps::Dated;

/// Decides, for every deployment of `inventory`, keep or delete and why.
///
/// A deployment is deleted iff it is not excluded, not pinned, not among the newest
/// `policy.retain` managed deployments, and — when a minimum age is set — strictly older than it
/// at `now`. Order is newest date first, equal dates by id ascending. The steps are in
/// `steps`, each with its own tests.
/// A front end that plans one scan many times makes an [`Ordered`] once and plans from it.
pub fn plan(inventory: &Inventory, policy: &Policy, now: DateTime<Utc>) -> Plan {
    let (order, warnings) = steps::order(inventory, &policy.date_source, policy.meta_fallback);
    plan_from(inventory, &order, warnings, policy, now)
}

/// The steps after the first: `order` and `warnings` are step 1's answer for `inventory`
/// under `policy`'s date source.
fn plan_from(
    inventory: &Inventory,
    order: &[steps::Slot],
    mut warnings: Vec<Warning>,
    policy: &Policy,
    now: DateTime<Utc>,
) -> Plan {
    let mut walk = steps::Walk::new(inventory, policy, now);
    let entries: Vec<Entry> = order
        .iter()
        .map(|s| walk.entry(&s.dated(inventory)))
        .collect();
    warnings.extend(steps::future_dates(&entries));
    warnings.extend(walk.ties());
    warnings.extend(walk.unmatched());
    warnings.extend(walk.group_warnings());
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
