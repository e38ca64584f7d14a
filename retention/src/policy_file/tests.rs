//! The policy file: the documented example, a round trip, and an error naming line and key for
//! every mistake the issue lists.

use super::*;

pub const EXAMPLE: &str = r#"
[[rule]]
name = "production"
match = "main-*"
retain = 10
min_retain_days = 30

[[rule]]
name = "previews"
match = "pr-*"
group = '^pr-(\d+)-'
retain = 1
min_retain_days = 7

[[rule]]
name = "rest"
match = "*"
retain = 3
"#;

#[test]
fn the_documented_example_parses_and_round_trips() {
    let rules = parse_policy(EXAMPLE).unwrap();
    let r = rules.as_slice();
    assert_eq!(r.len(), 3);
    assert_eq!(r[1].name.as_str(), "previews");
    assert_eq!(r[1].group.as_ref().unwrap().as_str(), r"^pr-(\d+)-");
    assert_eq!(r[1].keep_within, Some(Span::from_days(7)));
    assert_eq!(r[2].keep_within, None);
    let again = parse_policy(&policy_to_toml(&rules)).unwrap();
    assert_eq!(again, rules);
}

#[test]
fn odd_strings_and_hour_ages_round_trip() {
    let text = "[[rule]]\nname = \"it's \\\"x\\\"\"\nmatch = \"*\"\ngroup = \"^(a')\"\nretain = 2\nkeep_within = \"12h\"\n";
    let rules = parse_policy(text).unwrap();
    assert_eq!(parse_policy(&policy_to_toml(&rules)).unwrap(), rules);
}

#[test]
fn a_retain_past_tomls_integers_is_written_as_one_that_keeps_as_much() {
    let text = "[[rule]]\nname = \"all\"\nmatch = \"*\"\nretain = 3\n";
    let mut rules = parse_policy(text).unwrap().as_slice().to_vec();
    rules[0].retain = Retain::new(u64::MAX).unwrap();
    let rules = Rules::new(rules).unwrap();
    let again =
        parse_policy(&policy_to_toml(&rules)).expect("the server reads what the page wrote");
    assert_eq!(again.as_slice()[0].retain.get(), i64::MAX as u64);
}

fn err(text: &str) -> PolicyFileError {
    parse_policy(text).unwrap_err()
}

#[test]
fn every_mistake_names_its_line_and_key() {
    let unknown = err("[[rule]]\nname = \"a\"\nmatch = \"*\"\nretian = 3\n");
    assert_eq!(unknown.line, Some(4), "{unknown}");
    assert!(unknown.message.contains("retian"), "{unknown}");

    let zero = err("[[rule]]\nname = \"a\"\nmatch = \"*\"\nretain = 0\n");
    assert_eq!(
        (zero.line, zero.key.as_deref()),
        (Some(4), Some("rule[1].retain")),
        "{zero}"
    );

    let bad_regex = err("[[rule]]\nname = \"a\"\nmatch = \"*\"\ngroup = '^pr-(\\d+'\nretain = 1\n");
    assert_eq!(bad_regex.line, Some(4), "{bad_regex}");
    assert_eq!(bad_regex.key.as_deref(), Some("rule[1].group"));

    let no_capture = err("[[rule]]\nname = \"a\"\nmatch = \"*\"\ngroup = '^pr-\\d+'\nretain = 1\n");
    assert_eq!(no_capture.key.as_deref(), Some("rule[1].group"));
    assert!(no_capture.message.contains("capture"), "{no_capture}");

    let dup = err("[[rule]]\nname = \"a\"\nmatch = \"x*\"\nretain = 1\n\n[[rule]]\nname = \"a\"\nmatch = \"*\"\nretain = 1\n");
    assert_eq!(
        (dup.line, dup.key.as_deref()),
        (Some(7), Some("rule[2].name")),
        "{dup}"
    );

    let both = err("[[rule]]\nname = \"a\"\nmatch = \"*\"\nretain = 1\nmin_retain_days = 3\nkeep_within = \"3d\"\n");
    assert_eq!(both.key.as_deref(), Some("rule[1].min_retain_days"));

    let missing = err("[[rule]]\nname = \"a\"\nretain = 1\n");
    assert!(missing.message.contains("match"), "{missing}");

    let wrong_type = err("[[rule]]\nname = \"a\"\nmatch = \"*\"\nretain = \"many\"\n");
    assert_eq!(wrong_type.line, Some(4), "{wrong_type}");

    let empty = err("# nothing yet\n");
    assert!(empty.message.contains("no rules"), "{empty}");

    let glob = err("[[rule]]\nname = \"a\"\nmatch = \"[a\"\nretain = 1\n");
    assert_eq!(glob.key.as_deref(), Some("rule[1].match"));
    assert!(
        glob.to_string().starts_with("line 3: `rule[1].match`: "),
        "{glob}"
    );
}

/// `n` rules, each with the given group pattern.
fn rules_with_group(n: usize, group: &str) -> String {
    (0..n)
        .map(|i| {
            format!(
                "[[rule]]\nname = \"r{i}\"\nmatch = \"r{i}-*\"\ngroup = '{group}'\nretain = 1\n"
            )
        })
        .collect()
}

#[test]
fn a_policy_that_would_take_seconds_and_hundreds_of_mb_to_compile_is_refused_at_once() {
    // 50 rules of a pattern whose compiled form is huge: refused by the first, quickly.
    let started = std::time::Instant::now();
    let e = err(&rules_with_group(50, "^((a{1000}){300})(x)"));
    assert!(
        started.elapsed() < std::time::Duration::from_millis(500),
        "refused in {:?}",
        started.elapsed()
    );
    assert_eq!(e.key.as_deref(), Some("rule[1].group"));
    assert!(
        e.message
            .contains("more than the limit of 256 KB per pattern"),
        "{e}"
    );

    let long = format!("^(a){}", "b".repeat(crate::MAX_PATTERN_CHARS));
    let e = err(&rules_with_group(1, &long));
    assert!(e.message.contains("the limit is 500 characters"), "{e}");

    let e = err(&rules_with_group(crate::MAX_RULES + 1, "^(x)"));
    assert!(e.message.contains("at most 100 rules"), "{e}");
    assert!(parse_policy(&rules_with_group(crate::MAX_RULES, "^(x)")).is_ok());

    let padded = format!("{}\n#{}", EXAMPLE, " ".repeat(crate::MAX_POLICY_BYTES));
    let e = err(&padded);
    assert!(e.message.contains("the limit is 64 KB"), "{e}");
}

#[test]
fn the_same_limits_hold_for_rules_that_arrive_as_json() {
    // What the dashboard's ?rules= becomes on the server: a Policy in a server function's body.
    let rule = |i: usize| serde_json::json!({ "name": format!("r{i}"), "match": "*", "group": "^(x)", "retain": 1 });
    let many: Vec<_> = (0..=crate::MAX_RULES).map(rule).collect();
    let e = serde_json::from_value::<Rules>(serde_json::Value::Array(many)).unwrap_err();
    assert!(e.to_string().contains("at most 100 rules"), "{e}");
    let mut big = rule(0);
    big["group"] = "^((a{1000}){300})(x)".into();
    let e = serde_json::from_value::<Rules>(serde_json::Value::Array(vec![big])).unwrap_err();
    assert!(e.to_string().contains("per pattern"), "{e}");
}

/// Before: `match = "main-* "` parsed and matched nothing, so the catch-all rule deleted the
/// `main-*` deployments in the CLI and the scheduled job, while the dashboard trimmed the field
/// and showed them kept (a reviewer's run: 13 deletions against the preview's 8).
#[test]
fn a_rule_field_with_a_space_at_either_end_is_refused_naming_it() {
    let glob = err("[[rule]]\nname = \"p\"\nmatch = \"main-* \"\nretain = 1\n");
    assert_eq!(
        (glob.line, glob.key.as_deref()),
        (Some(3), Some("rule[1].match")),
        "{glob}"
    );
    assert!(glob.message.contains("write 'main-*'"), "{glob}");
    let group = err("[[rule]]\nname = \"p\"\nmatch = \"*\"\ngroup = ' ^pr-(\\d+)-'\nretain = 1\n");
    assert_eq!(group.key.as_deref(), Some("rule[1].group"), "{group}");
    let name = err("[[rule]]\nname = \"p \"\nmatch = \"*\"\nretain = 1\n");
    assert_eq!(name.key.as_deref(), Some("rule[1].name"), "{name}");
}
