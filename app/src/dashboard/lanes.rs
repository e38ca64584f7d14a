//! The timeline's lanes: one per rule — split into one per group when the rule groups its
//! deployments into a few groups (at most [`MAX_SPLIT`]), so each group's newest-N is visible
//! side by side — and a last one for what no rule decides. Without rules, one lane.

use retention::{Entry, Plan, Span};

/// A rule with more groups than this keeps one lane (200 PR lanes would be unreadable); the
/// table's Group column and filter show its groups instead.
pub const MAX_SPLIT: usize = 6;

#[derive(Debug, Clone, PartialEq)]
pub struct Lane {
    pub label: String,
    /// The minimum age of the lane's rule: where "old enough to delete" begins.
    pub keep_within: Option<Span>,
    /// Whether the lane's deployments can be deleted at all (not the "other" lane).
    pub managed: bool,
    /// The rule (its position) and, for a group lane, the group.
    rule: Option<usize>,
    group: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Lanes(Vec<Lane>);

/// The groups one rule decided, up to one more than [`MAX_SPLIT`] (enough to know "too many").
fn groups_of(p: &Plan, rule: &retention::RuleName) -> Vec<String> {
    let mut groups: Vec<String> = Vec::new();
    for e in p.entries.iter().filter(|e| e.rule.as_ref() == Some(rule)) {
        let g = e.group.as_deref().unwrap_or("");
        if !groups.iter().any(|x| x == g) {
            groups.push(g.to_string());
            if groups.len() > MAX_SPLIT {
                break;
            }
        }
    }
    groups.sort();
    groups
}

impl Lanes {
    pub fn of(p: &Plan) -> Lanes {
        let Some(rules) = &p.policy.rules else {
            return Lanes(vec![Lane {
                label: String::new(),
                keep_within: p.policy.keep_within,
                managed: true,
                rule: None,
                group: None,
            }]);
        };
        let mut lanes = Vec::new();
        for (i, r) in rules.as_slice().iter().enumerate() {
            let groups = if r.group.is_some() {
                groups_of(p, &r.name)
            } else {
                vec![]
            };
            if groups.len() > 1 && groups.len() <= MAX_SPLIT {
                lanes.extend(groups.into_iter().map(|g| Lane {
                    label: format!("{} · {}", r.name, if g.is_empty() { "\"\"" } else { &g }),
                    keep_within: r.keep_within,
                    managed: true,
                    rule: Some(i),
                    group: Some(g),
                }));
            } else {
                let label = if groups.len() > MAX_SPLIT {
                    format!("{} (more than {MAX_SPLIT} groups)", r.name)
                } else {
                    r.name.to_string()
                };
                lanes.push(Lane {
                    label,
                    keep_within: r.keep_within,
                    managed: true,
                    rule: Some(i),
                    group: None,
                });
            }
        }
        lanes.push(Lane {
            label: "no rule, pinned, excluded".into(),
            keep_within: None,
            managed: false,
            rule: None,
            group: None,
        });
        Lanes(lanes)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Lane> {
        self.0.iter()
    }

    /// How many lanes the picture has.
    pub fn count(&self) -> usize {
        self.0.len()
    }

    /// The lane of one of the plan's entries.
    pub fn lane_of(&self, p: &Plan, e: &Entry) -> usize {
        let Some(rules) = &p.policy.rules else {
            return 0;
        };
        let Some(rule) = e
            .rule
            .as_ref()
            .and_then(|r| rules.as_slice().iter().position(|x| &x.name == r))
        else {
            return self.0.len().saturating_sub(1);
        };
        let group = e.group.as_deref().unwrap_or("");
        self.0
            .iter()
            .position(|l| l.rule == Some(rule) && l.group.as_deref().is_none_or(|g| g == group))
            .unwrap_or(self.0.len().saturating_sub(1))
    }
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};
    use retention::{Deployment, DeploymentId, Inventory, Policy};

    fn plan_of(ids: &[&str], policy: &str) -> Plan {
        let t = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let deployments = ids
            .iter()
            .enumerate()
            .map(|(i, id)| Deployment {
                id: DeploymentId::new(*id).unwrap(),
                objects: 1,
                bytes: 1,
                newest: t + chrono::Duration::hours(i as i64),
                oldest: t,
                meta: None,
            })
            .collect();
        let inv = Inventory {
            deployments,
            ..Inventory::default()
        };
        let rules = retention::parse_policy(policy).unwrap();
        retention::plan(
            &inv,
            &Policy::with_rules(rules),
            t + chrono::Duration::days(9),
        )
    }

    const POLICY: &str = "[[rule]]\nname = \"main\"\nmatch = \"main-*\"\nretain = 1\n\n\
        [[rule]]\nname = \"previews\"\nmatch = \"pr-*\"\ngroup = '^(pr-\\d+)-'\nretain = 1\n";

    #[test]
    fn a_rule_with_a_few_groups_gets_a_lane_per_group_in_group_order() {
        let p = plan_of(&["main-1", "pr-8-a", "pr-7-a", "pr-7-b", "odd"], POLICY);
        let lanes = Lanes::of(&p);
        let labels: Vec<&str> = lanes.iter().map(|l| l.label.as_str()).collect();
        assert_eq!(
            labels,
            [
                "main",
                "previews · pr-7",
                "previews · pr-8",
                "no rule, pinned, excluded"
            ]
        );
        let lane = |id: &str| {
            let e = p.entries.iter().find(|e| e.id.as_str() == id).unwrap();
            lanes.lane_of(&p, e)
        };
        assert_eq!(
            [
                lane("main-1"),
                lane("pr-7-b"),
                lane("pr-7-a"),
                lane("pr-8-a"),
                lane("odd")
            ],
            [0, 1, 1, 2, 3]
        );
    }

    #[test]
    fn a_rule_with_many_groups_keeps_one_lane() {
        let ids: Vec<String> = (0..=MAX_SPLIT).map(|g| format!("pr-{g}-a")).collect();
        let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
        let p = plan_of(&ids, POLICY);
        let lanes = Lanes::of(&p);
        assert_eq!(lanes.count(), 3, "{lanes:?}");
        assert!(lanes
            .iter()
            .nth(1)
            .unwrap()
            .label
            .starts_with("previews (more than"));
        assert!(p.entries.iter().all(|e| lanes.lane_of(&p, e) == 1));
    }
}
