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
