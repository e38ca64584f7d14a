//! Step 2: a plan is applied only if nothing blocks it and it deletes exactly what was
//! confirmed. [`Checked`] can only be made here, so no front end can skip this.

use crate::Planned;
use retention::{Block, DeploymentId, Doomed};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// A plan that passed [`check`]: what [`crate::apply`] takes.
#[derive(Debug)]
pub struct Checked {
    pub(crate) planned: Planned,
    pub(crate) doomed: Vec<Doomed>,
}

impl Checked {
    pub fn planned(&self) -> &Planned {
        &self.planned
    }
    /// What will be deleted, sorted by id.
    pub fn doomed(&self) -> &[Doomed] {
        &self.doomed
    }
}

/// How the plan's deletion set differs from the confirmed one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SetChange {
    /// Would now also be deleted.
    pub added: Vec<DeploymentId>,
    /// No longer deleted.
    pub dropped: Vec<DeploymentId>,
    /// Still deleted, but its objects, size or newest date changed.
    pub changed: Vec<DeploymentId>,
    /// Confirmed more than once: not a set this plan (or any) deletes, and every total made
    /// from it (a request's "deletes N deployments") would be wrong.
    pub repeated: Vec<DeploymentId>,
}

/// Why an apply did not start. Nothing was deleted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The plan itself may not be applied (max-delete, live pointer).
    Blocked(Vec<Block>),
    /// A fresh plan does not delete exactly what was confirmed.
    Changed(SetChange),
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("refusing to apply: ")?;
        match self {
            Refusal::Blocked(blocks) => {
                let why: Vec<String> = blocks.iter().map(|b| b.to_string()).collect();
                f.write_str(&why.join("; "))
            }
            Refusal::Changed(c) => {
                // Not "the bucket changed": a plan confirmed yesterday also moves when a
                // deployment passes the minimum age or leaves the live grace overnight.
                f.write_str(
                    "what the plan deletes changed since it was confirmed (the bucket changed, or \
                     time took deployments past the minimum age or the live grace), so nothing \
                     was deleted.",
                )?;
                let list = |ids: &[DeploymentId]| {
                    ids.iter()
                        .map(|i| crate::escape_controls(i.as_str()))
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                if !c.added.is_empty() {
                    write!(f, " Would now also delete: {}.", list(&c.added))?;
                }
                if !c.dropped.is_empty() {
                    write!(f, " No longer to delete: {}.", list(&c.dropped))?;
                }
                if !c.changed.is_empty() {
                    write!(f, " Changed (objects, size or date): {}.", list(&c.changed))?;
                }
                if !c.repeated.is_empty() {
                    write!(f, " Confirmed more than once: {}.", list(&c.repeated))?;
                }
                f.write_str(" Review the new plan and confirm again.")
            }
        }
    }
}

/// Passes `planned` only if it has no blocks and, when `confirmed` is given, deletes exactly
/// that set (ids, object counts, sizes and newest dates). `None` means the caller confirmed this
/// very plan (a script's `--yes`, the scheduled job).
pub fn check(planned: Planned, confirmed: Option<&[Doomed]>) -> Result<Checked, Refusal> {
    if let Err(blocks) = planned.plan.check_apply() {
        return Err(Refusal::Blocked(blocks.to_vec()));
    }
    let doomed = planned.plan.deletion_set();
    if let Some(confirmed) = confirmed {
        let change = diff(confirmed, &doomed);
        if change != SetChange::default() {
            return Err(Refusal::Changed(change));
        }
    }
    Ok(Checked { planned, doomed })
}

fn diff(confirmed: &[Doomed], now: &[Doomed]) -> SetChange {
    // By id, once each (a confirmed set of 10,000 was compared with the plan's one pair at a
    // time: 10^8 comparisons).
    let by_id = |set: &[Doomed]| -> BTreeMap<DeploymentId, Doomed> {
        set.iter()
            .rev()
            .map(|d| (d.id.clone(), d.clone()))
            .collect()
    };
    let (was, is) = (by_id(confirmed), by_id(now));
    let mut c = SetChange::default();
    for d in now {
        match was.get(&d.id) {
            None => c.added.push(d.id.clone()),
            Some(was) if was != d => c.changed.push(d.id.clone()),
            Some(_) => {}
        }
    }
    let mut seen = BTreeSet::new();
    for d in confirmed {
        if !seen.insert(&d.id) {
            if !c.repeated.contains(&d.id) {
                c.repeated.push(d.id.clone());
            }
        } else if !is.contains_key(&d.id) {
            c.dropped.push(d.id.clone());
        }
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    fn d(id: &str, objects: u64) -> Doomed {
        Doomed {
            id: DeploymentId::new(id).unwrap(),
            objects,
            bytes: 10,
            newest: Utc.timestamp_opt(1_700_000_000, 0).unwrap(),
        }
    }

    #[test]
    fn a_deployment_confirmed_twice_is_not_the_plans_set() {
        // Before: `[a, a, b]` passed against a plan of `[a, b]`, and an approval request said
        // it deletes 3 deployments.
        let c = diff(&[d("a", 1), d("a", 1), d("b", 1)], &[d("a", 1), d("b", 1)]);
        assert_eq!(c.repeated, vec![DeploymentId::new("a").unwrap()]);
        assert_ne!(c, SetChange::default());
        let why = Refusal::Changed(c).to_string();
        assert!(why.contains("Confirmed more than once: a."), "{why}");
    }

    #[test]
    fn every_difference_is_named() {
        let c = diff(&[d("a", 1), d("b", 1)], &[d("b", 2), d("c", 1)]);
        assert_eq!(c.added, vec![DeploymentId::new("c").unwrap()]);
        assert_eq!(c.dropped, vec![DeploymentId::new("a").unwrap()]);
        assert_eq!(c.changed, vec![DeploymentId::new("b").unwrap()]);
        assert_eq!(diff(&[d("a", 1)], &[d("a", 1)]), SetChange::default());
        let text = Refusal::Changed(c).to_string();
        assert!(
            text.starts_with("refusing to apply: what the plan deletes changed since it"),
            "{text}"
        );
        assert!(text.contains("Would now also delete: c."), "{text}");
    }
}
