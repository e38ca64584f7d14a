//! Step 2, what the walk found beside the verdicts: ties it broke by id, pins and excludes that
//! matched nothing, group patterns that matched badly (warnings), and each rule's totals.

use super::{present, Walk, ALONE_GROUPS_MIN};
use crate::plan::{Action, Entry, RuleSummary, Totals, Warning};
use crate::DeploymentId;

impl Walk<'_> {
    /// Deployments ranked against each other (one rule, one group) with equal dates: the order
    /// (and maybe the verdict) hinged on the id. Equal dates in different rules or groups
    /// decide nothing between them, and are not warned of.
    pub fn ties(&self) -> Vec<Warning> {
        let mut ties = Vec::new();
        for run in self.ranked_dates.chunk_by(|a, b| a.date == b.date) {
            if run.len() < 2 {
                continue;
            }
            let mut run = run.to_vec();
            // Stable: within a group, still in the order they were ranked.
            run.sort_by_key(|r| (r.rule, r.group));
            for same in run.chunk_by(|a, b| (a.rule, a.group) == (b.rule, b.group)) {
                if same.len() > 1 {
                    ties.push(Warning::TieBroken {
                        ids: same.iter().map(|r| r.id.clone()).collect(),
                    });
                }
            }
        }
        ties
    }

    /// Pins (given, or stored in the bucket) and excludes that matched no deployment: a typo
    /// keeps nothing.
    pub fn unmatched(&self) -> Vec<Warning> {
        let mut named: Vec<&DeploymentId> = self.pins.iter().copied().collect();
        for id in self.stored.keys() {
            if !named.contains(id) {
                named.push(*id);
            }
        }
        let pins = named
            .into_iter()
            .filter(|p| !present(self.inventory, p))
            .map(|p| Warning::PinMatchesNothing { id: p.clone() });
        let excludes = self
            .policy
            .excludes
            .iter()
            .zip(&self.excludes_used)
            .filter(|(_, used)| !**used)
            .map(|(g, _)| Warning::ExcludeMatchesNothing { pattern: g.clone() });
        pins.chain(excludes).collect()
    }

    /// What each rule's group pattern did, in rule order: ids it did not match (each ranked
    /// alone, kept: the pattern is probably wrong), or every deployment it matched in a group
    /// of its own over at least [`ALONE_GROUPS_MIN`] groups (the rule deletes none).
    pub fn group_warnings(&self) -> Vec<Warning> {
        let Some(rules) = &self.policy.rules else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (r, g) in rules.as_slice().iter().zip(&self.ranks) {
            let Some(pattern) = &r.group else { continue };
            if g.unmatched_count > 0 {
                out.push(Warning::GroupUnmatched {
                    rule: r.name.clone(),
                    pattern: pattern.clone(),
                    ids: g.unmatched.clone(),
                    count: g.unmatched_count,
                });
            }
            if g.names.len() >= ALONE_GROUPS_MIN && g.names.values().all(|&i| g.dates[i].len() <= 1)
            {
                out.push(Warning::GroupsAlone {
                    rule: r.name.clone(),
                    count: g.names.len() as u64,
                });
            }
        }
        out
    }

    /// Totals per rule, in rule order (none without rules).
    pub fn rule_summaries(&self, entries: &[Entry]) -> Vec<RuleSummary> {
        let Some(rules) = &self.policy.rules else {
            return Vec::new();
        };
        let mut out: Vec<RuleSummary> = rules
            .as_slice()
            .iter()
            .zip(&self.ranks)
            .map(|(r, groups)| RuleSummary {
                rule: r.name.clone(),
                groups: groups.dates.len() as u64,
                keep: Totals::default(),
                delete: Totals::default(),
            })
            .collect();
        for (e, i) in entries.iter().zip(&self.decided) {
            if let Some(s) = i.and_then(|i| out.get_mut(i)) {
                s.add(e);
            }
        }
        out
    }
}

impl RuleSummary {
    fn add(&mut self, e: &Entry) {
        match e.action {
            Action::Keep => self.keep.add(e),
            Action::Delete => self.delete.add(e),
        }
    }
}
