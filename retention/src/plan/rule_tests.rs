//! Rules and groups: the issue's example reads as documented, and the guarantees hold on every
//! input (per-group retain, first match wins, input order, one rule = the plain policy).

use super::tests::{arb_inventory, arb_policy, dep, inv, t0};
use super::*;
use crate::{parse_policy, Retain, Rule, Rules};
use proptest::prelude::*;
use std::collections::HashMap;

fn by_id(p: &Plan) -> HashMap<String, (String, Option<String>, Option<String>)> {
    p.entries
        .iter()
        .map(|e| {
            (
                e.id.to_string(),
                (
                    e.reason_text(),
                    e.rule.as_ref().map(|r| r.to_string()),
                    e.group.clone(),
                ),
            )
        })
        .collect()
}

const EXAMPLE: &str = r#"
[[rule]]
name = "production"
match = "main-*"
retain = 2
min_retain_days = 30

[[rule]]
name = "previews"
match = "pr-*"
group = '^(pr-\d+)-'
retain = 1
min_retain_days = 7
"#;

#[test]
fn the_first_matching_rule_decides_and_reasons_name_rule_and_group() {
    let i = inv(vec![
        dep("main-a", 1),
        dep("main-b", 40),
        dep("main-c", 50),
        dep("main-d", 60),
        dep("pr-482-new", 2),
        dep("pr-482-mid", 3),
        dep("pr-482-old", 20),
        dep("pr-483-only", 30),
        dep("hotfix-login", 90),
    ]);
    let p = plan(
        &i,
        &Policy::with_rules(parse_policy(EXAMPLE).unwrap()),
        t0(),
    );
    let r = by_id(&p);
    let text = |id: &str| r[id].0.as_str();
    assert_eq!(text("main-a"), "keep: newest 1 of 2 (production)");
    assert_eq!(
        text("main-c"),
        "delete: rank 3 > 2 (production) and 50 d > 30 d"
    );
    assert_eq!(
        text("pr-482-new"),
        "keep: newest 1 of 1 in pr-482 (previews)"
    );
    assert_eq!(
        text("pr-482-mid"),
        "keep: 3 d old, younger than 7 d, in pr-482 (previews)"
    );
    assert_eq!(
        text("pr-482-old"),
        "delete: rank 3 > 1 in pr-482 (previews) and 20 d > 7 d"
    );
    assert_eq!(
        text("pr-483-only"),
        "keep: newest 1 of 1 in pr-483 (previews)"
    );
    assert_eq!(text("hotfix-login"), "keep: no rule matches");
    assert_eq!(r["hotfix-login"].1, None);
    assert_eq!(r["main-a"].1.as_deref(), Some("production"));
    assert_eq!(r["main-a"].2, None, "a rule without groups");
    assert_eq!(r["pr-483-only"].2.as_deref(), Some("pr-483"));
    assert_eq!(p.rules.len(), 2);
    assert_eq!(p.rules[1].groups, 2);
    assert_eq!(p.rules[1].delete.deployments, 1);
    assert_eq!(p.rules[0].delete.deployments, 2);
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);
}

#[test]
fn a_rule_that_decides_nothing_is_warned_about() {
    let rules = parse_policy(
        "[[rule]]\nname = \"all\"\nmatch = \"*\"\nretain = 1\n\n[[rule]]\nname = \"never\"\nmatch = \"pr-*\"\nretain = 1\n",
    )
    .unwrap();
    let p = plan(&inv(vec![dep("pr-1", 1)]), &Policy::with_rules(rules), t0());
    assert!(p.warnings.iter().any(|w| w
        .to_string()
        .starts_with("rule 'never' decides no deployment")));
}

fn arb_rules() -> impl Strategy<Value = Rules> {
    let rule = (
        prop::sample::select(vec!["a*", "*e", "b?", "[cd]*", "*", "?"]),
        prop::option::of(prop::sample::select(vec!["^([a-c])", "^.(.)", "(e)$"])),
        1u64..4,
        prop::option::of(0u64..25),
    );
    prop::collection::vec(rule, 1..4).prop_map(|v| {
        let rules = v
            .into_iter()
            .enumerate()
            .map(|(i, (m, g, retain, days))| Rule {
                name: format!("r{i}").parse().unwrap(),
                matches: m.parse().unwrap(),
                group: g.map(|g| g.parse().unwrap()),
                retain: Retain::new(retain).unwrap(),
                keep_within: days.map(Span::from_days),
            })
            .collect();
        Rules::new(rules).unwrap()
    })
}

fn with_rules(base: Policy, rules: Rules) -> Policy {
    Policy {
        rules: Some(rules),
        ..base
    }
}

/// The reason without its rule and group, to compare with the plain policy's.
fn unscoped(r: &Reason) -> Reason {
    let mut r = r.clone();
    match &mut r {
        Reason::Newest { scope, .. }
        | Reason::TooYoung { scope, .. }
        | Reason::Expired { scope, .. } => *scope = None,
        _ => {}
    }
    r
}

proptest! {
    #[test]
    fn a_scan_ordered_once_plans_exactly_as_plan_does(i in arb_inventory(), base in arb_policy(), rules in arb_rules(), ruled in any::<bool>(), made_for in 0u8..4) {
        // The dashboard dates and orders a scan once and plans every policy from that order;
        // an order made for another date source or `meta:` fallback must not be used (the
        // plan re-dates).
        let pol = if ruled { with_rules(base, rules) } else { base };
        let (source, fallback) = match made_for {
            0 => (DateSource::Newest, None),
            1 => (DateSource::Oldest, None),
            2 => (DateSource::Meta("built".into()), Some(crate::MetaFallback::Oldest)),
            _ => (pol.date_source.clone(), pol.meta_fallback),
        };
        let ordered = Ordered::new(std::sync::Arc::new(i.clone()), &source, fallback);
        prop_assert_eq!(ordered.plan(&pol, t0()), plan(&i, &pol, t0()));
    }

    #[test]
    fn each_group_of_each_rule_keeps_its_newest_retain(i in arb_inventory(), base in arb_policy(), rules in arb_rules()) {
        let pol = with_rules(base, rules.clone());
        let p = plan(&i, &pol, t0());
        let mut seen: HashMap<(String, String), u64> = HashMap::new();
        for e in &p.entries {
            let Some(rule) = &e.rule else { continue };
            let r = rules.as_slice().iter().find(|r| &r.name == rule).unwrap();
            let n = seen.entry((rule.to_string(), e.group.clone().unwrap_or_default())).or_insert(0);
            *n += 1;
            if *n <= r.retain.get() {
                prop_assert_eq!(e.action, Action::Keep, "{} is among the newest of its group", e.id);
            }
            if let (Action::Delete, Some(w)) = (e.action, r.keep_within) {
                prop_assert!(e.age_secs > w.as_secs() as i64);
            }
        }
    }

    #[test]
    fn the_first_matching_rule_decides(i in arb_inventory(), base in arb_policy(), rules in arb_rules()) {
        let p = plan(&i, &with_rules(base, rules.clone()), t0());
        for e in &p.entries {
            let first = rules.rule_for(e.id.as_str()).map(|(_, r)| r.name.clone());
            match &e.reason {
                Reason::Pinned { .. } | Reason::Excluded { .. } => prop_assert!(e.rule.is_none()),
                Reason::NoRule => {
                    prop_assert!(first.is_none());
                    prop_assert_eq!(e.action, Action::Keep);
                }
                // Undated, or dated in the future: kept before any rule ranks it.
                Reason::DateUnknown { .. } | Reason::FutureDate => {
                    prop_assert!(e.rule.is_none());
                    prop_assert_eq!(e.action, Action::Keep);
                }
                _ => prop_assert_eq!(&e.rule, &first),
            }
        }
    }

    #[test]
    fn rules_do_not_depend_on_input_order(i in arb_inventory(), base in arb_policy(), rules in arb_rules(), seed in any::<u64>()) {
        let pol = with_rules(base, rules);
        let p = plan(&i, &pol, t0());
        let mut shuffled = i.clone();
        let n = shuffled.deployments.len();
        let mut s = seed;
        for k in (1..n).rev() {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            shuffled.deployments.swap(k, (s >> 33) as usize % (k + 1));
        }
        prop_assert_eq!(plan(&shuffled, &pol, t0()), p);
    }

    #[test]
    fn one_catch_all_rule_is_the_plain_policy(i in arb_inventory(), base in arb_policy()) {
        let rules = Rules::new(vec![Rule {
            name: "all".parse().unwrap(),
            matches: "*".parse().unwrap(),
            group: None,
            retain: base.retain,
            keep_within: base.keep_within,
        }]).unwrap();
        let plain = plan(&i, &base, t0());
        let ruled = plan(&i, &with_rules(base.clone(), rules), t0());
        prop_assert_eq!(plain.entries.len(), ruled.entries.len());
        for (a, b) in plain.entries.iter().zip(&ruled.entries) {
            prop_assert_eq!(&a.id, &b.id);
            prop_assert_eq!(a.action, b.action);
            prop_assert_eq!(&a.reason, &unscoped(&b.reason));
        }
        prop_assert_eq!(plain.deletion_set(), ruled.deletion_set());
        prop_assert_eq!(plain.summary, ruled.summary);
    }

    #[test]
    fn policy_files_round_trip(rules in arb_rules()) {
        prop_assert_eq!(crate::parse_policy(&crate::policy_to_toml(&rules)).unwrap(), rules);
    }
}
