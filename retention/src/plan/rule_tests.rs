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

/// Before: `main-4` (rule production) and `pr-1-bb` (rule previews) dated alike were warned
/// "same date … ordered by id", though they are never ranked against each other (reviewer).
#[test]
fn equal_dates_are_a_tie_only_within_one_rule_and_group() {
    let i = inv(vec![
        dep("main-a", 5),
        dep("main-b", 5),
        dep("pr-1-x", 5),
        dep("pr-2-y", 5),
        dep("pr-2-z", 5),
    ]);
    let p = plan(
        &i,
        &Policy::with_rules(parse_policy(EXAMPLE).unwrap()),
        t0(),
    );
    let ties: Vec<Vec<String>> = p
        .warnings
        .iter()
        .filter_map(|w| match w {
            Warning::TieBroken { ids } => Some(ids.iter().map(|d| d.to_string()).collect()),
            _ => None,
        })
        .collect();
    assert_eq!(
        ties,
        vec![vec!["main-a", "main-b"], vec!["pr-2-y", "pr-2-z"]],
        "{:?}",
        p.warnings
    );
}

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
    // Before: "(nothing matches it before an earlier rule does)" also of a first rule whose
    // pattern matched nothing, or whose matches were all excluded (reviewer): every cause named.
    let rules = parse_policy("[[rule]]\nname = \"first\"\nmatch = \"v*\"\nretain = 1\n").unwrap();
    let p = plan(&inv(vec![dep("pr-1", 1)]), &Policy::with_rules(rules), t0());
    assert!(
        p.warnings.iter().any(|w| w.to_string()
            == "rule 'first' decides no deployment: its pattern matches none, or each it matches is pinned, excluded, undated or future-dated, or taken by an earlier rule"),
        "{:?}",
        p.warnings
    );
}

const PREVIEWS: &str = r#"
[[rule]]
name = "previews"
match = "pr-*"
group = '^(pr-\d+)-'
retain = 1
min_retain_days = 7
"#;

#[test]
fn an_id_the_group_pattern_does_not_match_is_a_group_of_its_own_kept_and_warned_about() {
    // CI dropped the `-sha` suffix: the pattern matches none of these. Ranked together (the
    // group ""), four of the five were deleted.
    let i = inv(vec![
        dep("pr-482", 14),
        dep("pr-483", 13),
        dep("pr-484", 12),
        dep("pr-485", 11),
        dep("pr-486", 10),
    ]);
    let p = plan(
        &i,
        &Policy::with_rules(parse_policy(PREVIEWS).unwrap()),
        t0(),
    );
    let alone = "keep: newest 1 of 1 in a group of its own (previews)";
    assert_eq!(
        super::tests::reasons(&p),
        super::tests::pairs(&[
            ("pr-486", alone),
            ("pr-485", alone),
            ("pr-484", alone),
            ("pr-483", alone),
            ("pr-482", alone),
        ])
    );
    assert_eq!(p.summary.delete.deployments, 0);
    let r = by_id(&p);
    assert_eq!(r["pr-482"].2.as_deref(), Some("pr-482"), "named by its id");
    assert_eq!(
        (p.rules[0].keep.deployments, p.rules[0].groups),
        (5, 5),
        "previews: keep 5, delete 0 (5 groups)"
    );
    let said: Vec<String> = p.warnings.iter().map(|w| w.to_string()).collect();
    assert_eq!(
        said,
        [
            "rule 'previews': its group pattern '^(pr-\\d+)-' does not match pr-486, pr-485, \
             pr-484, pr-483, pr-482 (5 deployment(s)), so each is a group of its own and ranked \
             against no other: fix the rule's group pattern; these are kept"
        ]
    );
    // More than the warning names: the first few, newest first, and the count.
    let many: Vec<_> = (0..8)
        .map(|k| dep(&format!("pr-{}", 500 + k), 20 - k))
        .collect();
    let p = plan(
        &inv(many),
        &Policy::with_rules(parse_policy(PREVIEWS).unwrap()),
        t0(),
    );
    let said: Vec<String> = p.warnings.iter().map(|w| w.to_string()).collect();
    let named = "does not match pr-507, pr-506, pr-505, pr-504, pr-503, … (8 deployment(s))";
    assert!(said[0].contains(named), "{said:?}");
    assert_eq!(p.summary.delete.deployments, 0);
}

#[test]
fn a_pattern_that_matches_some_ids_groups_those_as_before() {
    let i = inv(vec![
        dep("pr-480-aaa", 30),
        dep("pr-480-bbb", 20),
        dep("pr-481-ccc", 25),
        dep("pr-482", 14),
        dep("pr-483", 13),
    ]);
    let p = plan(
        &i,
        &Policy::with_rules(parse_policy(PREVIEWS).unwrap()),
        t0(),
    );
    let alone = "keep: newest 1 of 1 in a group of its own (previews)";
    assert_eq!(
        super::tests::reasons(&p),
        super::tests::pairs(&[
            ("pr-483", alone),
            ("pr-482", alone),
            ("pr-480-bbb", "keep: newest 1 of 1 in pr-480 (previews)"),
            ("pr-481-ccc", "keep: newest 1 of 1 in pr-481 (previews)"),
            (
                "pr-480-aaa",
                "delete: rank 2 > 1 in pr-480 (previews) and 30 d > 7 d"
            ),
        ])
    );
    let r = by_id(&p);
    assert_eq!(r["pr-480-aaa"].2.as_deref(), Some("pr-480"));
    assert_eq!(
        (
            p.rules[0].keep.deployments,
            p.rules[0].delete.deployments,
            p.rules[0].groups
        ),
        (4, 1, 4),
        "previews: keep 4, delete 1 (4 groups)"
    );
    let said: Vec<String> = p.warnings.iter().map(|w| w.to_string()).collect();
    assert_eq!(said.len(), 1, "{said:?}");
    assert!(
        said[0].contains("does not match pr-483, pr-482 (2 deployment(s))"),
        "{said:?}"
    );
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
    fn an_id_its_rules_group_pattern_does_not_match_is_never_deleted(i in arb_inventory(), base in arb_policy(), rules in arb_rules()) {
        let p = plan(&i, &with_rules(base, rules.clone()), t0());
        for e in p.to_delete() {
            let (_, r) = rules.rule_for(e.id.as_str()).unwrap();
            if let Some(g) = &r.group {
                // Asked of the pattern itself: it matches, and its first capture takes part.
                let re = regex_lite::Regex::new(g.as_str()).unwrap();
                let named = re.captures(e.id.as_str()).and_then(|c| c.get(1)).is_some();
                prop_assert!(named, "{} is in no group of {}", e.id, r.name);
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

#[test]
fn a_rule_whose_every_group_holds_one_deployment_says_it_deletes_none() {
    // The pattern captures the build (`^(pr-\d+-\w+)`), not the PR: every build a group of its
    // own, kept for ever, and before nothing said so (`check` saw nothing overdue either).
    const BY_BUILD: &str = r#"
[[rule]]
name = "previews"
match = "pr-*"
group = '^(pr-\d+-\w+)'
retain = 1
"#;
    let policy = Policy::with_rules(parse_policy(BY_BUILD).unwrap());
    let builds = |ids: &[&str]| {
        let deps = ids
            .iter()
            .enumerate()
            .map(|(k, id)| dep(id, 30 - k as i64))
            .collect();
        plan(&inv(deps), &policy, t0())
    };
    let p = builds(&["pr-1-aaa", "pr-1-bbb", "pr-2-ccc"]);
    assert_eq!(p.summary.delete.deployments, 0);
    let said: Vec<String> = p.warnings.iter().map(|w| w.to_string()).collect();
    assert_eq!(
        said,
        [
            "rule 'previews' deletes none: each of its 3 groups holds one deployment (is its \
             group pattern right?)"
        ]
    );
    // Two groups of one each is a common start (two branches, one build each): not warned;
    // nor is a rule with one group of more.
    assert!(builds(&["pr-1-aaa", "pr-2-bbb"]).warnings.is_empty());
    let p = plan(
        &inv(vec![
            dep("pr-1-a", 30),
            dep("pr-1-b", 29),
            dep("pr-2-c", 28),
            dep("pr-3-d", 27),
        ]),
        &Policy::with_rules(parse_policy(PREVIEWS).unwrap()),
        t0(),
    );
    assert!(
        !p.warnings
            .iter()
            .any(|w| matches!(w, Warning::GroupsAlone { .. })),
        "{:?}",
        p.warnings
    );
}
