//! The function's settings come from its environment, never from an event: the rules of
//! S3_PRUNE_POLICY, or of a file in the bucket read at each run (none: nothing deleted); a
//! misspelt setting, or two that cannot go together, fails the start.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_function_runs_the_rules_of_s3_prune_policy_and_events_cannot_swap_them() {
    let a = fresh_bucket("lambda-rules").await;
    deploy_seconds_apart(&a, &["pr-1-a", "pr-2-a", "pr-1-b", "other"]).await;
    let (addr, rt) = start_runtime().await;
    {
        let mut ev = rt.events.lock().unwrap();
        ev.push_back(("w-retain".into(), r#"{"retain": 1}"#.into()));
        ev.push_back((
            "w-policy".into(),
            r#"{"policy": "[[rule]]\nname = \"all\"\nmatch = \"*\"\nretain = 1\n"}"#.into(),
        ));
        ev.push_back(("apply".into(), "{}".into()));
    }
    let policy =
        "[[rule]]\nname = \"previews\"\nmatch = \"pr-*\"\ngroup = '^(pr-\\d+)-'\nretain = 1\n";
    let mut child = function(
        &addr,
        &[("S3_PRUNE_BUCKET", a.name()), ("S3_PRUNE_POLICY", policy)],
    );
    wait_for(&rt, 3).await;
    child.kill().unwrap();
    child.wait_with_output().unwrap();
    for id in ["w-retain", "w-policy"] {
        let body = rt.error(id);
        assert!(body.contains("may not widen"), "{id}: {body}");
    }
    let v = rt.response("apply");
    assert_eq!(to_delete(&v), ["pr-1-a"], "{v}");
    let left: Vec<String> = all_keys(&a).await;
    assert_eq!(left.len(), 6);
    assert!(!left.iter().any(|k| k.starts_with("pr-1-a/")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_function_reads_its_rules_from_the_bucket_each_run_and_deletes_nothing_without_them() {
    let a = fresh_bucket("lambda-policy-key").await;
    deploy_seconds_apart(&a, &["pr-1-a", "pr-2-a", "pr-1-b", "other"]).await;
    let (addr, rt) = start_runtime().await;
    let (hook, told) = crate::notify::receiver(0).await;
    let mut child = function(
        &addr,
        &[
            ("S3_PRUNE_BUCKET", a.name()),
            ("S3_PRUNE_POLICY_KEY", ".s3-prune/policy.toml"),
            ("S3_PRUNE_NOTIFY", &hook),
        ],
    );
    let run = |id: &str| {
        rt.events
            .lock()
            .unwrap()
            .push_back((id.to_string(), "{}".to_string()))
    };
    // 1. No file yet: refused, nothing deleted.
    run("missing");
    wait_for(&rt, 1).await;
    // 2. A file with an error: refused, naming the file and the key.
    let put = |body: &str| {
        let body = body.as_bytes().to_vec();
        let a = &a;
        async move {
            a.put(".s3-prune/policy.toml", body, "application/toml", &[])
                .await
                .unwrap()
        }
    };
    put("[[rule]]\nname = \"all\"\nmatch = \"*\"\nretain = 0\n").await;
    run("bad");
    wait_for(&rt, 2).await;
    assert_eq!(all_keys(&a).await.len(), 9, "nothing deleted yet");
    // 3. A good file: its rules decide (one per PR group), read at this run, not at start-up.
    put("[[rule]]\nname = \"previews\"\nmatch = \"pr-*\"\ngroup = '^(pr-\\d+)-'\nretain = 1\n")
        .await;
    run("apply");
    wait_for(&rt, 3).await;
    child.kill().unwrap();
    child.wait_with_output().unwrap();

    let body = |id: &str| rt.error(id);
    assert_contains(&body("missing"), "does not exist");
    assert_contains(&body("missing"), "Nothing will be deleted");
    let bad = body("bad");
    assert!(
        bad.contains(".s3-prune/policy.toml") && bad.contains("retain"),
        "{bad}"
    );
    let v = rt.response("apply");
    assert_eq!(to_delete(&v), ["pr-1-a"], "{v}");
    // S3_PRUNE_NOTIFY: the one apply (the refused runs deleted nothing) was told.
    let told = told.bodies.lock().unwrap().clone();
    assert_eq!(told.len(), 1, "{told:?}");
    assert_eq!(told[0]["source"], "lambda");
    assert_eq!(told[0]["deployments"], serde_json::json!(["pr-1-a"]));
    let left = all_keys(&a).await;
    assert!(
        left.iter().any(|k| k == ".s3-prune/policy.toml"),
        "{left:?}"
    );
    assert!(!left.iter().any(|k| k.starts_with("pr-1-a/")), "{left:?}");

    // A policy file inside a deployment folder could be deleted by the run it governs: refused.
    let (addr, rt) = start_runtime().await;
    a.put(
        "other/policy.toml",
        b"[[rule]]\nname = \"all\"\nmatch = \"*\"\nretain = 1\n".to_vec(),
        "application/toml",
        &[],
    )
    .await
    .unwrap();
    let mut child = function(
        &addr,
        &[
            ("S3_PRUNE_BUCKET", a.name()),
            ("S3_PRUNE_POLICY_KEY", "other/policy.toml"),
        ],
    );
    rt.events
        .lock()
        .unwrap()
        .push_back(("inside".into(), "{}".into()));
    wait_for(&rt, 1).await;
    child.kill().unwrap();
    child.wait_with_output().unwrap();
    let errors = rt.errors.lock().unwrap().clone();
    assert!(
        errors
            .iter()
            .any(|(r, b)| r == "inside" && b.contains("never inside a deployment folder")),
        "{errors:?}"
    );
    assert_eq!(all_keys(&a).await.len(), left.len() + 1);
}

#[test]
fn a_policy_key_beside_s3_prune_policy_or_retain_is_refused_at_start() {
    for (env, want) in [
        (
            vec![("S3_PRUNE_POLICY_KEY", "p.toml"), ("S3_PRUNE_POLICY", "x")],
            "not both",
        ),
        (
            vec![("S3_PRUNE_POLICY_KEY", "p.toml"), ("S3_PRUNE_RETAIN", "3")],
            "not both",
        ),
        // Before: the function started and every run failed, naming the CLI's flags.
        (
            vec![
                ("S3_PRUNE_POLICY_KEY", "p.toml"),
                ("S3_PRUNE_MIN_RETAIN_DAYS", "7"),
            ],
            "set S3_PRUNE_POLICY_KEY or S3_PRUNE_RETAIN / S3_PRUNE_MIN_RETAIN_DAYS",
        ),
        (
            vec![
                ("S3_PRUNE_POLICY_KEY", "p.toml"),
                ("S3_PRUNE_KEEP_WITHIN", "7d"),
            ],
            "set S3_PRUNE_POLICY_KEY or S3_PRUNE_RETAIN / S3_PRUNE_MIN_RETAIN_DAYS",
        ),
        // Before: the function started and every run failed.
        (
            vec![("S3_PRUNE_POLICY", "retain = 3"), ("S3_PRUNE_RETAIN", "3")],
            "set S3_PRUNE_POLICY or S3_PRUNE_RETAIN",
        ),
        (
            vec![
                ("S3_PRUNE_POLICY", "retain = 3"),
                ("S3_PRUNE_MIN_RETAIN_DAYS", "7"),
            ],
            "set S3_PRUNE_POLICY or S3_PRUNE_RETAIN",
        ),
        (
            vec![
                ("S3_PRUNE_RETAIN", "3"),
                ("S3_PRUNE_MIN_RETAIN_DAYS", "7"),
                ("S3_PRUNE_KEEP_WITHIN", "7d"),
            ],
            "which minimum age is meant",
        ),
        (
            vec![
                ("S3_PRUNE_RETAIN", "3"),
                ("S3_PRUNE_LIFECYCLE_THRESHOLD", "10"),
            ],
            "set both, or neither",
        ),
        (
            vec![
                ("S3_PRUNE_RETAIN", "3"),
                ("S3_PRUNE_VIA_LIFECYCLE", "true"),
                ("S3_PRUNE_PURGE_VERSIONS", "true"),
            ],
            "not both",
        ),
    ] {
        let mut env = env;
        env.push(("S3_PRUNE_BUCKET", "b"));
        let out = function("127.0.0.1:9", &env).wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success());
        assert!(err.contains(want), "{err}");
    }
}

#[test]
fn a_misspelt_variable_or_a_list_not_separated_by_commas_fails_the_start() {
    // Before: `S3_PRUNE_DRYRUN=true` (and `S3_PRUNE_MIN_RETAIN_DAY=60`) were not read, and the
    // "dry run" deleted seven deployments; `S3_PRUNE_PINS="d05 d06"` was one pin matching
    // nothing, and d05 and d06 were deleted.
    for (env, want) in [
        (
            vec![("S3_PRUNE_DRYRUN", "true")],
            "S3_PRUNE_DRYRUN is not a setting of s3-prune: did you mean S3_PRUNE_DRY_RUN?",
        ),
        (
            vec![
                ("S3_PRUNE_MIN_RETAIN_DAY", "60"),
                ("S3_PRUNE_DRY_RUN", "true"),
                ("S3_PRUNE_MAX_DELET", "3"),
            ],
            "S3_PRUNE_MAX_DELET is not a setting of s3-prune (and 1 more: S3_PRUNE_MIN_RETAIN_DAY): did you mean S3_PRUNE_MAX_DELETE?",
        ),
        // Another case or no first `_` is not read either (before: started, and deleted).
        (
            vec![("s3_prune_dry_run", "true")],
            "s3_prune_dry_run is not a setting of s3-prune: did you mean S3_PRUNE_DRY_RUN?",
        ),
        (
            vec![("S3PRUNE_DRY_RUN", "true")],
            "S3PRUNE_DRY_RUN is not a setting of s3-prune: did you mean S3_PRUNE_DRY_RUN?",
        ),
        // The CLI's configuration file would be ignored here, its guards and pins with it.
        (
            vec![("S3_PRUNE_CONFIG", "/var/task/s3-prune.toml")],
            "S3_PRUNE_CONFIG is read by the CLI and the dashboard, not by the scheduled job",
        ),
        // `on` read as false sent a test job to real AWS; a bad endpoint failed each run.
        (
            vec![("S3_PRUNE_LOCALSTACK", "on")],
            "S3_PRUNE_LOCALSTACK must be true or false (got 'on')",
        ),
        (
            vec![("S3_PRUNE_ENDPOINT_URL", "notaurl")],
            "S3_PRUNE_ENDPOINT_URL: not a URL",
        ),
        (
            vec![("S3_PRUNE_PINS", "d05 d06")],
            "S3_PRUNE_PINS: 'd05 d06' holds a space or ';': separate ids with commas",
        ),
        (
            vec![("S3_PRUNE_EXCLUDES", "d07;d08")],
            "S3_PRUNE_EXCLUDES: 'd07;d08' holds a space or ';'",
        ),
    ] {
        let mut env = env;
        env.extend([("S3_PRUNE_BUCKET", "b"), ("S3_PRUNE_RETAIN", "3")]);
        let out = function("127.0.0.1:9", &env).wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success());
        assert!(err.contains(want), "{env:?}: {err}");
    }
    // Commas, with spaces around them, are a list.
    let env = [
        ("S3_PRUNE_BUCKET", "b"),
        ("S3_PRUNE_RETAIN", "3"),
        ("S3_PRUNE_PINS", "d05, d06"),
    ];
    let out = function("127.0.0.1:9", &env).wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("S3_PRUNE_PINS"), "{err}");
}
