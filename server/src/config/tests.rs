//! The configuration file: errors that name the key and line, and the flag defaults it sets.

use super::*;

fn parse_str(text: &str) -> Result<Config> {
    parse(Path::new("s3-prune.toml"), text)
}

#[test]
fn an_unknown_key_is_an_error_naming_it_and_its_line() {
    let e = parse_str("bucket = \"b\"\n[policy]\nretian = 3\n")
        .unwrap_err()
        .to_string();
    assert!(e.contains("retian"), "{e}");
    assert!(e.contains("line 3"), "{e}");
    assert!(e.contains("s3-prune.toml"), "{e}");
}

#[test]
fn bad_values_name_the_key() {
    for (text, key) in [
        ("[policy]\nretain = 0", "policy.retain"),
        ("[policy]\nkeep_within = \"soon\"", "policy.keep_within"),
        ("[policy]\ndate_source = \"meta:\"", "policy.date_source"),
        ("[guards]\nexcludes = [\"[\"]", "guards.excludes"),
        ("[guards]\npins = [\"a/b\"]", "guards.pins"),
        ("concurrency = 0", "concurrency"),
        ("inventory = \"s3://b/x.json\"", "inventory"),
        ("journal = \"https://audit/\"", "journal"),
        ("[serve]\nsession_idle = \"x\"", "serve.session_idle"),
        (
            "[policy]\nmin_retain_days = 3\nkeep_within = \"3d\"",
            "policy.min_retain_days",
        ),
    ] {
        let e = parse_str(text).unwrap_err().to_string();
        assert!(e.contains(key), "{text}: {e}");
    }
    let e = parse_str("[policy]\nretain = \"x\"")
        .unwrap_err()
        .to_string();
    assert!(e.contains("retain") && e.contains("line 2"), "{e}");
}

#[test]
fn min_retain_days_is_the_default_of_keep_within() {
    let c = parse_str("[policy]\nretain = 4\nmin_retain_days = 30\n").unwrap();
    let d = c.defaults();
    let get = |id: &str| d.iter().find(|d| d.id == id).map(|d| d.values.clone());
    assert_eq!(get("keep_within"), Some(vec!["30d".to_string()]));
    assert_eq!(get("retain"), None, "positional: filled in after parsing");
    let c = parse_str("bucket = \"bkt\"\nprefix = \"sites/\"\n").unwrap();
    let d = c.defaults();
    let buckets = d.iter().find(|d| d.id == "buckets").unwrap();
    assert_eq!(buckets.values, ["bkt/sites"], "serve offers the one bucket");
}

#[test]
fn team_keys_become_the_serve_flags_defaults() {
    let c = parse_str(
        "[serve]\napproval_over = 5\n[serve.approval_over_for]\n\"site-a\" = 0\n\
         [serve.roles]\ndeployer = [\"release\"]\nviewer = [\"staff\", \"ops\"]\n\
         [serve.bucket_roles.\"site-a\"]\ndeployer = [\"web\"]\n\
         [serve.oidc]\nissuer = \"https://login.example.com\"\nclient_id = \"s3p\"\n\
         client_secret_file = \"/run/secret\"\n",
    )
    .unwrap();
    let d = c.defaults();
    let get = |id: &str| d.iter().find(|d| d.id == id).map(|d| d.values.clone());
    assert_eq!(
        get("approval_over"),
        Some(vec!["5".into(), "site-a=0".into()])
    );
    assert_eq!(
        get("roles"),
        Some(vec![
            "viewer=staff".into(),
            "viewer=ops".into(),
            "deployer=release".into(),
            "deployer=web@site-a".into()
        ])
    );
    assert_eq!(
        get("oidc_issuer"),
        Some(vec!["https://login.example.com".into()])
    );
    assert_eq!(
        get("oidc_client_secret_file"),
        Some(vec!["/run/secret".into()])
    );
}

#[test]
fn config_is_found_in_the_arguments_before_clap_runs() {
    let args = |v: &[&str]| {
        v.iter()
            .map(Into::into)
            .collect::<Vec<std::ffi::OsString>>()
    };
    assert_eq!(
        given_path(&args(&["s3-prune", "plan", "--config", "x.toml"])),
        Some(PathBuf::from("x.toml"))
    );
    assert_eq!(
        given_path(&args(&["s3-prune", "--config=y.toml", "plan"])),
        Some(PathBuf::from("y.toml"))
    );
    assert_eq!(
        given_path(&args(&["s3-prune", "plan", "--", "--config"])),
        None
    );
}

#[test]
fn a_prefix_beside_served_buckets_at_their_root_is_refused_saying_what_to_write() {
    // Before: README's own example served "my-site-bucket" at its root while plan, apply and
    // history worked under "sites/" — two sets of deployments, pins and runs, and no word.
    let e = parse_str(
        "bucket = \"my-site-bucket\"\nprefix = \"sites/\"\n[serve]\nbuckets = [\"my-site-bucket\", \"other/x\"]\n",
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("offers 'my-site-bucket' at its root"), "{e}");
    assert!(e.contains("Write \"my-site-bucket/sites\""), "{e}");
    // Each entry under a prefix of its own, or no prefix in the file: as before.
    parse_str("prefix = \"sites/\"\n[serve]\nbuckets = [\"my-site-bucket/sites\", \"other/x\"]\n")
        .unwrap();
    parse_str("[serve]\nbuckets = [\"my-site-bucket\"]\n").unwrap();
    // Another bucket's deployments may sit at its root; `NAME/` is the root too.
    parse_str("bucket = \"my-site-bucket\"\nprefix = \"sites/\"\n[serve]\nbuckets = [\"my-site-bucket/sites\", \"other\"]\n")
        .unwrap();
    let e = parse_str("bucket = \"my-site-bucket\"\nprefix = \"sites/\"\n[serve]\nbuckets = [\"my-site-bucket/\"]\n")
        .unwrap_err()
        .to_string();
    assert!(e.contains("offers 'my-site-bucket' at its root"), "{e}");
    // An s3:// address is no prefix.
    let e = parse_str("prefix = \"s3://my-site-bucket/sites\"\n")
        .unwrap_err()
        .to_string();
    assert!(e.contains("write --prefix sites"), "{e}");
}
