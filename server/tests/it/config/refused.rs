//! Settings that cannot be followed stop the command before anything is deleted or served:
//! a bad key or value named with its file (a broken file stops only the commands that read it),
//! roles without an identity provider, a provider that is down, purging with `--via-lifecycle`.

use super::*;

#[test]
fn a_bad_config_file_is_refused_naming_the_key_and_deletes_nothing() {
    let dir = workdir("bad");
    for (text, expect) in [
        ("bucket = \"b\"\n[policy]\nretian = 3\n", "retian"),
        ("[policy]\nretain = 0\n", "policy.retain"),
        ("[guards]\nexcludes = [\"[a\"]\n", "guards.excludes"),
        // Before: a space at either end matched nothing, and `apply --yes` deleted what the
        // pin and the exclude were there to keep (the scheduled job trimmed them and kept it).
        (
            "[guards]\nexcludes = [\"main-* \"]\n",
            "`guards.excludes`: pattern 'main-* ' has a space at its start or end: write 'main-*'",
        ),
        (
            "[guards]\npins = [\"v1.0 \"]\n",
            "`guards.pins`: deployment id 'v1.0 ' has a space at its start or end: write 'v1.0'",
        ),
        ("buckett = \"b\"\n", "buckett"),
        // A role that does not exist is never a group silently given no role.
        ("[serve.roles]\ndeployers = [\"release\"]\n", "deployers"),
        // A bucket is its name alone: exit 2 before any request, saying what to write.
        (
            "bucket = \"s3://b-1\"\n[policy]\nretain = 2\n",
            "`bucket`: write b-1, not s3://b-1",
        ),
        (
            "bucket = \"ab\"\n[policy]\nretain = 2\n",
            "`bucket`: 'ab' is not a bucket name",
        ),
        (
            "[serve]\nbuckets = [\"s3://b-1/x\"]\n",
            "`serve.buckets`: write b-1/x",
        ),
    ] {
        std::fs::write(dir.join("s3-prune.toml"), text).unwrap();
        let out = run_in(&dir, &["apply", "--yes"]);
        assert_eq!(out.status.code(), Some(2), "{text}");
        let err = stderr(&out);
        assert!(err.contains(expect), "{text}: {err}");
        assert!(err.contains("s3-prune.toml"), "{err}");
    }
    let roles = "[serve.roles]\nviewer = [\"staff\"]\nsuperuser = [\"ops\"]\n";
    std::fs::write(dir.join("s3-prune.toml"), roles).unwrap();
    let out = run_in(&dir, &["serve"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("superuser") && err.contains("line 3"), "{err}");
    std::fs::remove_file(dir.join("s3-prune.toml")).unwrap();
    let missing = run_in(&dir, &["plan", "--config", "nope.toml"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(stderr(&missing).contains("nope.toml"));
}

/// Roles come from the identity provider's groups: without one, everyone who signs in (the
/// token's holder, a proxy's users) is an admin, so roles given without it are refused at start
/// rather than ignored.
#[test]
fn roles_without_an_identity_provider_are_refused_not_ignored() {
    let dir = workdir("roles-alone");
    let flags = run_in(
        &dir,
        &[
            "serve",
            "--bucket",
            "my-bucket",
            "--addr",
            "127.0.0.1:0",
            "--trust-user-header",
            "X-Forwarded-User",
            "--trusted-proxy",
            "10.0.0.2",
            "--role",
            "viewer=staff",
        ],
    );
    assert_eq!(flags.status.code(), Some(2), "{}", stderr(&flags));
    assert!(
        stderr(&flags).contains("--oidc-issuer"),
        "{}",
        stderr(&flags)
    );
    assert!(!stderr(&flags).contains("dashboard on"));
    let file = "bucket = \"my-bucket\"\n[serve]\naddr = \"127.0.0.1:0\"\n[serve.bucket_roles.\"my-bucket\"]\ndeployer = [\"release\"]\n";
    std::fs::write(dir.join("s3-prune.toml"), file).unwrap();
    let from_file = run_in(&dir, &["serve", "--bucket", "my-bucket"]);
    assert_eq!(from_file.status.code(), Some(2), "{}", stderr(&from_file));
    assert!(
        stderr(&from_file).contains("--role"),
        "{}",
        stderr(&from_file)
    );
}

#[test]
fn an_identity_provider_that_is_down_at_start_is_named_and_nothing_is_served() {
    let dir = workdir("oidc-down");
    std::fs::write(dir.join("secret"), "s3cret").unwrap();
    // Nothing listens on port 9 of loopback (discard): the discovery request is refused.
    let serve = [
        "serve",
        "--bucket",
        "my-bucket",
        "--addr",
        "127.0.0.1:0",
        "--oidc-issuer",
        "http://127.0.0.1:9/realms/eng",
        "--oidc-client-id",
        "s3-prune",
        "--oidc-client-secret-file",
        "secret",
    ];
    let out = run_in(&dir, &serve);
    assert_ne!(out.status.code(), Some(0));
    let err = stderr(&out);
    assert!(
        err.contains("OpenID provider at http://127.0.0.1:9/realms/eng could not be reached"),
        "{err}"
    );
    assert!(!err.contains("dashboard on"), "{err}");
    // A viewer role on one bucket would let the group read every bucket (a viewer sees them
    // all): refused before the provider is asked.
    let role = ["--role", "viewer=contractors@my-bucket"];
    let one_bucket_viewer = run_in(&dir, &[&serve[..], &role[..]].concat());
    assert_ne!(one_bucket_viewer.status.code(), Some(0));
    assert!(
        stderr(&one_bucket_viewer).contains("a viewer sees every bucket"),
        "{}",
        stderr(&one_bucket_viewer)
    );
    // An unknown role on the command line is refused naming the roles there are.
    let bad = run_in(&dir, &["serve", "--role", "owner=ops"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        stderr(&bad).contains("viewer, deployer and admin"),
        "{}",
        stderr(&bad)
    );
}

/// A broken s3-prune.toml in the working directory stops no command that takes nothing from it
/// (`--version`, `--help`, `completions`, `man`: before, each failed on the file), and the
/// commands that do read it say how to run without it.
#[test]
fn a_broken_config_file_stops_only_the_commands_that_read_it_and_says_how_to_bypass_it() {
    let dir = workdir("broken");
    // Broken as TOML, and well-formed with a value clap refuses (serve.addr).
    for broken in [
        "[policy\nretain = 3\n",
        "[serve]\naddr = \"localhost:3000\"\n",
    ] {
        std::fs::write(dir.join("s3-prune.toml"), broken).unwrap();
        for args in [
            &["--version"][..],
            &["--help"],
            &["plan", "--help"],
            &["help", "serve"],
            &["completions", "bash"],
            &["man"],
        ] {
            let out = run_in(&dir, args);
            assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
            assert!(!stdout(&out).is_empty(), "{args:?}");
        }
    }
    std::fs::write(dir.join("s3-prune.toml"), "[policy\nretain = 3\n").unwrap();
    let plan = run_in(&dir, &["plan"]);
    assert_eq!(plan.status.code(), Some(2), "{}", stderr(&plan));
    let err = stderr(&plan);
    assert!(
        err.contains("s3-prune.toml") && err.contains("line 1"),
        "{err}"
    );
    assert!(
        err.contains("it is in the working directory")
            && err.contains("--config /dev/null")
            && err.contains("S3_PRUNE_CONFIG=/dev/null"),
        "{err}"
    );
    // and the way out works
    let bypass = run_in(&dir, &["plan", "--config", "/dev/null", "ab", "1"]);
    assert_eq!(bypass.status.code(), Some(2), "{}", stderr(&bypass));
    assert!(
        !stderr(&bypass).contains("s3-prune.toml"),
        "{}",
        stderr(&bypass)
    );
}

/// A value clap refuses as a default from the file names the file and its key, not a flag
/// nobody typed (before: "invalid value 'nope' for '--addr <ADDR>'"); and `policy.file` is
/// read from the configuration file's folder, so the two files sit side by side wherever the
/// command runs (before: from the working directory, and its error named no file).
#[tokio::test]
async fn config_values_are_refused_naming_the_file_and_key_and_policy_file_is_read_beside_it() {
    let dir = workdir("keys");
    for (text, says) in [
        (
            "[serve]\naddr = \"nope\"\n",
            "`serve.addr`: \"nope\": invalid socket address syntax",
        ),
        (
            "[serve]\ntrusted_proxies = [\"proxy\"]\n",
            "`serve.trusted_proxies`: \"proxy\": invalid IP address syntax",
        ),
        (
            "[serve.approval_over_for]\n\"s3://site-a\" = 1\n",
            "`serve.approval_over_for`: \"s3://site-a=1\": write site-a, not s3://site-a",
        ),
    ] {
        std::fs::write(dir.join("s3-prune.toml"), text).unwrap();
        for command in ["serve", "plan"] {
            let out = run_in(&dir, &[command]);
            assert_eq!(out.status.code(), Some(2), "{text}");
            let err = stderr(&out);
            assert!(
                err.contains("s3-prune.toml: ") && err.contains(says),
                "{text}: {err}"
            );
            assert!(
                !err.contains("--addr") && !err.contains("--trusted-proxy"),
                "{err}"
            );
        }
    }
    // policy.file beside the configuration file, run from elsewhere with --config
    let b = fresh_bucket("cfgbeside").await;
    deploy_seconds_apart(&b, &["pr-1-a", "pr-1-b", "pr-2-a"]).await;
    let team = workdir("beside-team");
    std::fs::write(
        team.join("policy.toml"),
        "[[rule]]\nname = \"previews\"\nmatch = \"pr-*\"\ngroup = '^(pr-\\d+)-'\nretain = 1\n",
    )
    .unwrap();
    let cfg = team.join("s3-prune.toml");
    std::fs::write(
        &cfg,
        format!(
            "localstack = true\nbucket = \"{}\"\n[policy]\nfile = \"policy.toml\"\n",
            b.name()
        ),
    )
    .unwrap();
    let elsewhere = workdir("beside-elsewhere");
    let plan = run_in(
        &elsewhere,
        &["plan", "--config", cfg.to_str().unwrap(), "--json"],
    );
    assert!(plan.status.success(), "{}", stderr(&plan));
    assert_eq!(deletes(&plan), ["pr-1-a"]);
    // a missing one names the configuration file, the key, and where it was looked for
    std::fs::write(
        &cfg,
        format!(
            "bucket = \"{}\"\n[policy]\nfile = \"nope.toml\"\n",
            b.name()
        ),
    )
    .unwrap();
    let out = run_in(&elsewhere, &["plan", "--config", cfg.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    let looked = team.join("nope.toml");
    assert!(
        err.contains(&format!("{}: `policy.file`", cfg.display()))
            && err.contains(&looked.display().to_string())
            && err.contains("configuration file's folder"),
        "{err}"
    );
}

/// Before: clap refused `--via-lifecycle --purge-versions` together, but `purge_versions = true`
/// in the configuration file (or a saved plan made with `--purge-versions`) got past it: the
/// plan said "purge 9 versions … cannot be restored", the run handed the folders to S3
/// expiration (which purges nothing) and its record's purge made `restore` refuse (reviewer).
#[tokio::test]
async fn purging_versions_from_the_config_or_a_saved_plan_is_refused_with_via_lifecycle() {
    let b = fresh_bucket("cfg-lc-purge").await;
    b.enable_versioning().await.unwrap();
    deploy_seconds_apart(&b, &["d1", "d2", "d3"]).await;
    let before = all_keys(&b).await;
    let dir = workdir("lc-purge");
    std::fs::write(
        dir.join("s3-prune.toml"),
        format!(
            "bucket = \"{}\"\nlocalstack = true\n[policy]\nretain = 1\npurge_versions = true\n",
            b.name()
        ),
    )
    .unwrap();
    let lc = ["--via-lifecycle", "--lifecycle-threshold", "1", "--yes"];
    let out = run_in(&dir, &[&["apply"][..], &lc].concat());
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("policy.purge_versions in the configuration file purges versions"),
        "{}",
        stderr(&out)
    );
    // `--no-purge-versions` switches the file's purge off for one run (before: nothing could,
    // short of --config /dev/null, which dropped the file's pins and guards too).
    let purging = run_in(&dir, &["plan", "--json"]);
    assert_eq!(
        json(&purging)["undo_window"],
        "none for this run: --purge-versions removes every version and delete marker"
    );
    let kept = run_in(&dir, &["plan", "--json", "--no-purge-versions"]);
    assert!(kept.status.success(), "{}", stderr(&kept));
    assert_ne!(json(&kept)["undo_window"], json(&purging)["undo_window"]);
    assert!(
        (json(&kept)["undo_window"].as_str().unwrap())
            .starts_with("deleted deployments can be restored"),
        "{}",
        stdout(&kept)
    );
    let both = run_in(&dir, &["plan", "--purge-versions", "--no-purge-versions"]);
    assert_eq!(both.status.code(), Some(2), "{}", stderr(&both));
    assert_eq!(all_keys(&b).await, before, "nothing deleted");

    std::fs::remove_file(dir.join("s3-prune.toml")).unwrap();
    let saved = dir.join("plan.json");
    let out = run_in(
        &dir,
        &[
            "plan",
            b.name(),
            "1",
            "--localstack",
            "--purge-versions",
            "--out",
            saved.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let out = run_in(
        &dir,
        &[&["apply", "--plan", saved.to_str().unwrap()][..], &lc].concat(),
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("the saved plan purges versions"),
        "{}",
        stderr(&out)
    );
    assert_eq!(all_keys(&b).await, before, "nothing deleted");
    assert!(
        crate::lifecycle::rules(&b).await.is_empty(),
        "nothing handed to S3"
    );
}

/// Before: `serve --bucket NAME` typed for the file's bucket replaced the file's entry, and with
/// `prefix` in the file the dashboard planned and applied at the bucket's root — where the
/// prefix is one deployment among others and none of the commands' pins are (review).
#[test]
fn serve_typed_at_the_root_of_the_files_prefixed_bucket_is_refused() {
    let dir = workdir("serve-typed-root");
    std::fs::write(
        dir.join("s3-prune.toml"),
        "bucket = \"my-site-bucket\"\nprefix = \"sites/\"\n",
    )
    .unwrap();
    let out = run_in(
        &dir,
        &["serve", "--bucket", "my-site-bucket", "--localstack"],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("Give --bucket my-site-bucket/sites") && err.contains("s3-prune.toml"),
        "{err}"
    );
}

/// Before: RETAIN or a minimum age given beside the file's rules was found once the command
/// ran, exit 1; the same conflict typed on the command line is a usage error (review).
#[test]
fn a_minimum_age_beside_the_files_rules_is_a_usage_error() {
    let dir = workdir("rules-and-age");
    std::fs::write(
        dir.join("rules.toml"),
        "[[rule]]\nname = \"all\"\nmatch = \"*\"\nretain = 1\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("s3-prune.toml"),
        "bucket = \"my-site-bucket\"\n[policy]\nfile = \"rules.toml\"\n",
    )
    .unwrap();
    let out = run_in(&dir, &["plan", "--min-retain-days", "30", "--localstack"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("cannot be given with a policy file"),
        "{}",
        stderr(&out)
    );
}
