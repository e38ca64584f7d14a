//! The `s3-prune` binary end to end against a real LocalStack (started by `make test`).

use crate::common::{
    assert_contains, assert_stdout_has, deploy_seconds_apart, ids, json, reasons, s3_prune, stderr,
    stdout, Run,
};
use bucket::testkit::{all_keys, fresh_bucket, put_many};
use std::time::Duration;

#[tokio::test]
async fn the_original_example_retain_1_deletes_the_two_older() {
    let b = fresh_bucket("original").await;
    deploy_seconds_apart(&b, &["deployhash112", "dsfsfsl9074", "delkjlkploy3"]).await;

    let text = stdout(&Run::plan(b.name(), 1).ok());
    assert!(text.contains("keep: newest 1 of 1"), "{text}");
    assert!(text.contains("delete: rank 3 > 1"), "{text}");
    assert_eq!(all_keys(&b).await.len(), 6, "plan must not delete anything");

    let apply = s3_prune(&["apply", b.name(), "1", "--localstack", "--yes"]);
    assert!(
        apply.status.success(),
        "{}\n{}",
        stdout(&apply),
        stderr(&apply)
    );
    assert_eq!(
        all_keys(&b).await,
        vec!["delkjlkploy3/css/font.css", "delkjlkploy3/index.html"]
    );

    // Running it again converges: nothing left to delete.
    let again = s3_prune(&["apply", b.name(), "1", "--localstack", "--yes"]);
    assert!(again.status.success());
    assert!(stdout(&again).contains("Nothing to delete."));
    assert_eq!(all_keys(&b).await.len(), 2);
}

#[tokio::test]
async fn plan_json_has_the_documented_shape() {
    let b = fresh_bucket("json").await;
    deploy_seconds_apart(&b, &["old", "new"]).await;
    put_many(&b, ["robots.txt".into()], &[]).await;
    let v = Run::plan(b.name(), 1).json();
    assert_eq!(v["bucket"], b.name());
    assert_eq!(v["prefix"], "");
    assert_eq!(v["policy"]["retain"], 1);
    assert_eq!(v["loose_objects"]["objects"], 1);
    let deps = v["deployments"].as_array().unwrap();
    assert_eq!(deps.len(), 2);
    assert_eq!(deps[0]["id"], "new");
    assert_eq!(deps[0]["action"], "keep");
    assert_eq!(deps[1]["id"], "old");
    assert_eq!(deps[1]["action"], "delete");
    assert_eq!(deps[1]["reason"], "delete: rank 2 > 1");
    assert_eq!(deps[1]["objects"], 2);
    assert!(deps[1]["date"].as_str().unwrap().ends_with("+00:00"));
    assert_eq!(v["summary"]["delete"]["deployments"], 1);
    assert!(v["warnings"].as_array().unwrap().is_empty());
    assert_eq!(all_keys(&b).await.len(), 5);
}

#[tokio::test]
async fn apply_json_reports_deleted_objects_and_failures() {
    let b = fresh_bucket("apply-json").await;
    deploy_seconds_apart(&b, &["old", "new"]).await;
    let v = Run::apply(b.name(), 1).json();
    assert_eq!(v["deleted_objects"], 2);
    assert_eq!(v["failed"].as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn keep_within_seconds_uses_real_upload_times() {
    let b = fresh_bucket("keep-within").await;
    deploy_seconds_apart(&b, &["old1", "old2"]).await;
    // The window is wide (20 s) and the gap wider (25 s): on a busy CI machine the apply has
    // started 4 s after "young" was uploaded, which a 3 s window turned into a delete.
    tokio::time::sleep(Duration::from_secs(25)).await;
    deploy_seconds_apart(&b, &["young", "newest"]).await;
    let v = Run::apply(b.name(), 1)
        .args(&["--keep-within", "20s"])
        .json();
    let reasons = reasons(&v);
    assert_eq!(reasons[0], ("newest".into(), "keep: newest 1 of 1".into()));
    assert!(
        reasons[1].1.starts_with("keep: ") && reasons[1].1.ends_with("younger than 20 s"),
        "{reasons:?}"
    );
    assert!(
        reasons[2].1.starts_with("delete: rank 3 > 1 and "),
        "{reasons:?}"
    );
    let keys = all_keys(&b).await;
    assert!(
        keys.iter()
            .all(|k| k.starts_with("young/") || k.starts_with("newest/")),
        "{keys:?}"
    );
    assert_eq!(keys.len(), 4);
}

#[tokio::test]
async fn meta_dates_order_deployments_by_recorded_deploy_time() {
    let b = fresh_bucket("meta-cli").await;
    // Uploaded in the "wrong" order: the metadata holds the real deploy times.
    put_many(
        &b,
        ["march/index.html".into()],
        &[("deployed-at", "2026-03-01T00:00:00Z")],
    )
    .await;
    put_many(
        &b,
        ["june/index.html".into()],
        &[("deployed-at", "2026-06-01T00:00:00Z")],
    )
    .await;
    put_many(
        &b,
        ["january/index.html".into()],
        &[("deployed-at", "2026-01-01T00:00:00Z")],
    )
    .await;
    put_many(&b, ["nometa/index.html".into()], &[]).await;
    let v = Run::plan(b.name(), 2)
        .args(&[
            "--min-retain-days",
            "30",
            "--date-source",
            "meta:deployed-at",
        ])
        // Dated by its newest object instead of kept as unknown (see check.rs for the default).
        .args(&["--meta-fallback", "newest"])
        .json();
    assert_eq!(ids(&v), vec!["nometa", "june", "march", "january"]);
    assert_eq!(v["deployments"][1]["date"], "2026-06-01T00:00:00+00:00");
    assert_eq!(v["deployments"][2]["action"], "delete");
    let warnings = v["warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 1);
    assert!(warnings[0]
        .as_str()
        .unwrap()
        .starts_with("nometa: metadata 'deployed-at' is absent"));
}

#[tokio::test]
async fn apply_without_a_terminal_or_yes_refuses_and_deletes_nothing() {
    let b = fresh_bucket("no-tty").await;
    deploy_seconds_apart(&b, &["old", "new"]).await;
    Run::new(&["apply", b.name(), "1", "--localstack"])
        .fails_with("refusing to delete without confirmation");
    assert_eq!(all_keys(&b).await.len(), 4);
}

#[tokio::test]
async fn an_empty_bucket_plans_nothing() {
    let b = fresh_bucket("empty-cli").await;
    let out = Run::apply(b.name(), 3).ok();
    assert!(stdout(&out).contains("No deployments found."));
}

#[tokio::test]
async fn versioned_bucket_warns_and_purges_on_request() {
    let b = fresh_bucket("versioned-cli").await;
    b.enable_versioning().await.unwrap();
    deploy_seconds_apart(&b, &["old", "new"]).await;
    put_many(&b, ["old/index.html".into()], &[]).await; // a second version
                                                        // "old" now is the newest by LastModified; date by oldest object to keep the story simple
    let oldest = ["--date-source", "oldest"];
    let plan = Run::plan(b.name(), 1).args(&oldest).out();
    assert_stdout_has(&plan, "deleting only adds delete markers");
    let v = Run::apply(b.name(), 1)
        .args(&oldest)
        .args(&["--purge-versions"])
        .json();
    assert_eq!(v["versions_to_purge"], 3);
    assert_eq!(v["deleted_objects"], 3);
    let versions = bucket::testkit::all_versions(&b).await;
    assert!(
        versions.iter().all(|(k, _)| k.starts_with("new/")),
        "{versions:?}"
    );
}

#[tokio::test]
async fn a_purge_deletes_a_deployment_whose_last_file_was_deleted_before_the_plan() {
    // Before: the version of a file deleted before the plan (newer than every current object)
    // was taken for content written since the plan; every apply left the deployment whole,
    // "changed since the plan", exit 3, for ever.
    let b = fresh_bucket("purge-deleted-file").await;
    b.enable_versioning().await.unwrap();
    put_many(&b, ["old/app.js".into(), "old/style.css".into()], &[]).await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    put_many(&b, ["old/index.html".into()], &[]).await;
    bucket::testkit::remove_keys(&b, ["old/index.html".to_string()]).await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    put_many(&b, ["new/index.html".into()], &[]).await;
    let out = Run::apply(b.name(), 1).args(&["--purge-versions"]).out();
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let versions = bucket::testkit::all_versions(&b).await;
    assert!(
        versions.iter().all(|(k, _)| k.starts_with("new/")),
        "{versions:?}"
    );
}

const RULES: &str = r#"
[[rule]]
name = "production"
match = "main-*"
retain = 2

[[rule]]
name = "previews"
match = "pr-*"
group = '^(pr-\d+)-'
retain = 1
"#;

#[tokio::test]
async fn a_policy_file_keeps_per_group_and_apply_deletes_exactly_its_plan() {
    let b = fresh_bucket("rules").await;
    deploy_seconds_apart(
        &b,
        &[
            "main-1", "pr-7-a", "main-2", "pr-8-a", "pr-7-b", "main-3", "hotfix",
        ],
    )
    .await;
    let dir = std::env::temp_dir().join(format!("s3p-rules-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("policy.toml");
    std::fs::write(&file, RULES).unwrap();
    let f = file.to_str().unwrap();

    let plan = s3_prune(&["plan", b.name(), "--policy", f, "--localstack", "--json"]);
    assert!(plan.status.success(), "{}", stderr(&plan));
    let v = json(&plan);
    let deps = v["deployments"].as_array().unwrap();
    let get = |id: &str| deps.iter().find(|d| d["id"] == id).unwrap().clone();
    assert_eq!(get("main-1")["action"], "delete");
    assert_eq!(get("main-1")["reason"], "delete: rank 3 > 2 (production)");
    assert_eq!(get("main-1")["rule"], "production");
    assert!(get("main-1")["group"].is_null());
    assert_eq!(
        get("pr-7-a")["reason"],
        "delete: rank 2 > 1 in pr-7 (previews)"
    );
    assert_eq!(get("pr-7-a")["group"], "pr-7");
    assert_eq!(
        get("pr-8-a")["reason"],
        "keep: newest 1 of 1 in pr-8 (previews)"
    );
    assert_eq!(get("hotfix")["reason"], "keep: no rule matches");
    assert!(get("hotfix")["rule"].is_null());
    assert_eq!(v["rules"][1]["groups"], 2);
    assert_eq!(v["summary"]["delete"]["deployments"], 2);

    let human = s3_prune(&["plan", b.name(), "--policy", f, "--localstack"]);
    let text = stdout(&human);
    assert!(
        text.contains("previews: 'pr-*' keep newest 1 per group '^(pr-\\d+)-'"),
        "{text}"
    );
    assert!(
        text.contains("previews: keep 2, delete 1 (2 groups)"),
        "{text}"
    );

    // RETAIN and a policy file together: a usage error
    let both = s3_prune(&["plan", b.name(), "3", "--policy", f, "--localstack"]);
    assert_eq!(both.status.code(), Some(2), "{}", stderr(&both));

    // a bad file: usage error naming the line and the key; nothing deleted
    std::fs::write(
        dir.join("bad.toml"),
        RULES.replace("retain = 1", "retain = 0"),
    )
    .unwrap();
    let bad = dir.join("bad.toml");
    let bad = bad.to_str().unwrap();
    let out = Run::new(&["apply", b.name(), "--policy", bad, "--localstack", "--yes"]).out();
    assert_eq!(out.status.code(), Some(2));

    let err = stderr(&out);
    assert!(
        err.contains("line 11") && err.contains("rule[2].retain"),
        "{err}"
    );
    assert_eq!(all_keys(&b).await.len(), 14);

    let apply = s3_prune(&["apply", b.name(), "--policy", f, "--localstack", "--yes"]);
    assert!(
        apply.status.success(),
        "{}\n{}",
        stdout(&apply),
        stderr(&apply)
    );
    let left: std::collections::BTreeSet<String> = all_keys(&b)
        .await
        .into_iter()
        .map(|k| k.split('/').next().unwrap().to_string())
        .collect();
    assert_eq!(
        left.into_iter().collect::<Vec<_>>(),
        ["hotfix", "main-2", "main-3", "pr-7-b", "pr-8-a"]
    );
}

/// `s3-prune ARGS` on a pseudo-terminal (`script` types what its own stdin gets), answering
/// its prompt with a name that is not the bucket's once the scan is done: everything it
/// printed.
fn answered_at_a_terminal(args: &str) -> String {
    let line = format!("{} {args}", env!("CARGO_BIN_EXE_s3-prune"));
    let mut child = std::process::Command::new("script")
        .args(["-qec", &line, "/dev/null"])
        .env_remove("AWS_ENDPOINT_URL")
        .env("S3_PRUNE_AUDIT_DB", crate::common::audit_db())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("running script(1)");
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        // Typed once the prompt is up (the scan takes a moment).
        std::thread::sleep(Duration::from_secs(3));
        stdin.write_all(b"not-the-bucket\n").unwrap();
    }
    stdout(&child.wait_with_output().unwrap())
}

/// At a terminal, `apply --json` without `--yes` shows the plan (on stderr; stdout stays for
/// the JSON report) before it asks for the bucket name: nobody confirms what they have not
/// seen. A wrong name deletes nothing.
#[tokio::test]
async fn apply_json_at_a_terminal_shows_the_plan_before_asking_for_the_bucket_name() {
    let b = fresh_bucket("tty-json").await;
    deploy_seconds_apart(&b, &["old-one", "old-two", "newest"]).await;
    let seen = answered_at_a_terminal(&format!("apply {} 1 --localstack --json", b.name()));
    let asked = seen
        .find("Type the bucket name")
        .unwrap_or_else(|| panic!("no prompt: {seen}"));
    for id in ["old-one", "old-two"] {
        let shown = seen
            .find(id)
            .unwrap_or_else(|| panic!("{id} not shown: {seen}"));
        assert!(shown < asked, "{id} shown only after the prompt: {seen}");
    }
    assert!(seen.contains("did not match"), "{seen}");
    assert_eq!(all_keys(&b).await.len(), 6, "nothing deleted");
}

/// Before: with `--via-lifecycle` the prompt said "This deletes 3 deployments" of them all, though
/// those over the threshold go to S3 expiration after the run (reviewer). Said before the name
/// is typed now.
#[tokio::test]
async fn the_prompt_says_which_deployments_go_to_s3_lifecycle_expiration() {
    let b = fresh_bucket("tty-lifecycle").await;
    put_many(&b, (0..3).map(|i| format!("big/more{i}.js")), &[]).await;
    deploy_seconds_apart(&b, &["big", "small", "newest"]).await;
    let seen = answered_at_a_terminal(&format!(
        "apply {} 1 --localstack --via-lifecycle --lifecycle-threshold 3",
        b.name()
    ));
    let asked = seen
        .find("Type the bucket name")
        .unwrap_or_else(|| panic!("no prompt: {seen}"));
    let said = seen
        .find("1 of the deployments (5 objects) go to S3 lifecycle expiration")
        .unwrap_or_else(|| panic!("handover not said: {seen}"));
    assert!(said < asked, "{seen}");
    assert!(seen.contains("did not match"), "{seen}");
}

/// `demo` seeds an empty bucket, and the same one again, but never a bucket that holds anything
/// it did not write: its made-up deployments, dated now, would rank above the real ones and a
/// later apply would delete real deployments in their place.
#[tokio::test]
async fn the_demo_never_seeds_a_bucket_that_holds_real_deployments() {
    let b = fresh_bucket("demo-real").await;
    put_many(&b, ["release-41/index.html".to_string()], &[]).await;
    let out = s3_prune(&["demo", b.name(), "--localstack", "--deployments", "3"]);
    assert!(!out.status.success(), "{}", stderr(&out));
    assert_contains(&stderr(&out), "release-41/");
    assert_eq!(
        all_keys(&b).await,
        ["release-41/index.html"],
        "nothing written"
    );

    let demo = fresh_bucket("demo-again").await;
    for _ in 0..2 {
        let out = s3_prune(&["demo", demo.name(), "--localstack", "--deployments", "3"]);
        assert!(out.status.success(), "{}", stderr(&out));
    }
    let apply = s3_prune(&["apply", demo.name(), "1", "--localstack", "--yes"]);
    assert!(apply.status.success(), "{}", stderr(&apply));
    // what an apply left (.s3-prune/) is the demo's too
    let again = s3_prune(&["demo", demo.name(), "--localstack", "--deployments", "3"]);
    assert!(again.status.success(), "{}", stderr(&again));
}

/// A bad bucket name is a usage error (exit 2, as the README says of bad arguments) found while
/// the arguments are read, before any request, saying what to write instead (before: exit 1
/// from the S3 client's check, and `s3://my-bucket` was told only which characters to use).
/// The endpoint is a closed port: a request would fail with exit 1.
#[test]
fn a_bad_bucket_name_exits_2_before_any_request_saying_what_to_write() {
    let closed = [
        "--endpoint-url",
        "http://127.0.0.1:9",
        "--config",
        "/dev/null",
    ];
    for (args, says) in [
        (
            &["plan", "s3://my-bucket", "5"][..],
            "write my-bucket, not s3://my-bucket",
        ),
        (
            &["plan", "s3://my-bucket/sites/", "5"],
            "write my-bucket --prefix sites, not s3://my-bucket/sites/",
        ),
        (
            &["apply", "my-bucket/sites", "5", "--yes"],
            "write my-bucket --prefix sites, not my-bucket/sites",
        ),
        (
            &["plan", "ab", "5"],
            "'ab' is not a bucket name: a bucket name has 3 to 63",
        ),
        (
            &["check", "my_bucket!", "5"],
            "letters, digits, '.' and '-'",
        ),
        (&["pin", "s3://my-bucket", "d1"], "write my-bucket, not"),
        (
            &["history", "x-"],
            "starting and ending with a letter or digit",
        ),
        (
            &[
                "serve",
                "--bucket",
                "s3://my-bucket/sites",
                "--addr",
                "127.0.0.1:0",
            ],
            "write my-bucket/sites, not s3://my-bucket/sites",
        ),
    ] {
        let out = s3_prune(&[args, &closed[..]].concat());
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert_contains(&stderr(&out), says);
    }
    // What the check accepts is what the message says: legacy names (capitals, '_') pass it
    // (and then fail at the closed endpoint, exit 1).
    let legacy = s3_prune(&[&["plan", "Old_Bucket", "5"][..], &closed[..]].concat());
    assert_eq!(legacy.status.code(), Some(1), "{}", stderr(&legacy));
}
