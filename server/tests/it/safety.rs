//! The CLI's safety guarantees against LocalStack: each test would fail without its guarantee.

use crate::common::{
    assert_stderr_has, assert_stdout_has, deploy_seconds_apart, endpoint, id_and, ids, json,
    s3_prune, s3_prune_env, stderr, stdout, Run,
};
use bucket::testkit::{all_keys, fresh_bucket, put_many};
use std::process::{Command, Stdio};
use std::time::Duration;

#[tokio::test]
async fn a_saved_plan_applies_only_while_the_bucket_still_yields_it() {
    let b = fresh_bucket("saved-plan").await;
    deploy_seconds_apart(&b, &["old", "mid", "new"]).await;
    let file = std::env::temp_dir().join(format!("{}.plan.json", b.name()));
    let f = file.to_str().unwrap();
    Run::plan(b.name(), 2).args(&["--out", f]).ok();

    // a deployment lands: the saved plan no longer holds, nothing is deleted
    tokio::time::sleep(Duration::from_millis(1100)).await;
    put_many(&b, ["newer/index.html".into()], &[]).await;
    let apply = Run::new(&["apply", "--plan", f, "--localstack"]);
    apply.fails_with("refusing to apply: what the plan deletes changed since it was confirmed");
    assert_eq!(all_keys(&b).await.len(), 7);

    // a fresh plan applies exactly, without a prompt
    let out = s3_prune(&["plan", b.name(), "2", "--localstack", "--out", f]);
    assert!(out.status.success());
    apply.ok();
    assert_eq!(
        all_keys(&b).await,
        vec!["new/css/font.css", "new/index.html", "newer/index.html"]
    );

    // a file that is not a plan is refused
    std::fs::write(&file, "{\"hello\": 1}").unwrap();
    assert_stderr_has(&apply.out(), "is not a plan saved by");
}

/// A saved plan confirms one bucket at one place, deleted one way: applied at another endpoint
/// (here the same LocalStack through a proxy; in life a copy of the bucket, same names and
/// dates) or after versioning was suspended (its deletes could be undone, now they could not),
/// nothing is deleted. Before, both applied (review).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_saved_plan_applies_only_where_and_as_it_was_made() {
    let b = fresh_bucket("saved-where").await;
    b.enable_versioning().await.unwrap();
    deploy_seconds_apart(&b, &["old", "mid", "new"]).await;
    let file = std::env::temp_dir().join(format!("{}.plan.json", b.name()));
    let f = file.to_str().unwrap();
    Run::plan(b.name(), 2).args(&["--out", f]).ok();
    let before = all_keys(&b).await;
    let (url, _proxy) = endpoint(|_| {}).await;
    Run::new(&["apply", "--plan", f, "--localstack"])
        .env("AWS_ENDPOINT_URL", &url)
        .env("AWS_REGION", "us-east-1")
        .fails_with(&format!("and this apply would delete at {url}"));
    bucket::testkit::suspend_versioning(&b).await;
    Run::new(&["apply", "--plan", f, "--localstack"])
        .fails_with("now they could not (versioning is suspended): nothing was deleted");
    assert_eq!(all_keys(&b).await, before, "nothing deleted");
}

#[tokio::test]
async fn the_live_deployment_survives_and_an_unreadable_pointer_deletes_nothing() {
    let b = fresh_bucket("live").await;
    deploy_seconds_apart(&b, &["rolled-back-to", "bad-release", "newest"]).await;
    let apply = Run::apply(b.name(), 1).args(&["--live-pointer", "current"]);
    // no pointer object yet: unreadable, so nothing is deleted
    apply.fails_with("cannot use 'current': it does not exist");
    assert_eq!(all_keys(&b).await.len(), 6);

    // a pointer naming a deployment that is not there blocks the plan
    b.put("current", b"gone-release\n".to_vec(), "text/plain", &[])
        .await
        .unwrap();
    apply.fails_with("the live pointer names 'gone-release'");
    assert_eq!(all_keys(&b).await.len(), 7);

    b.put("current", b"rolled-back-to\n".to_vec(), "text/plain", &[])
        .await
        .unwrap();
    let v = apply.json();
    assert_eq!(
        id_and(&v, "reason"),
        vec![
            ("newest", "keep: newest 1 of 1"),
            ("bad-release", "delete: rank 2 > 1"),
            ("rolled-back-to", "keep: live")
        ]
    );
    let keys = all_keys(&b).await;
    assert!(keys.iter().any(|k| k.starts_with("rolled-back-to/")));
    assert!(!keys.iter().any(|k| k.starts_with("bad-release/")));
}

#[tokio::test]
async fn max_delete_refuses_a_larger_plan() {
    let b = fresh_bucket("max-delete").await;
    put_many(&b, (0..6).map(|i| format!("d{i}/index.html")), &[]).await;
    let apply = |max: &str| Run::apply(b.name(), 1).args(&["--max-delete", max]);
    let out = apply("3").fails_with("more than --max-delete 3");
    assert!(
        stdout(&out).contains("blocked: "),
        "the plan shows the guard"
    );
    assert_eq!(all_keys(&b).await.len(), 6);
    apply("5").ok();
    assert_eq!(all_keys(&b).await.len(), 1);
}

#[tokio::test]
async fn stored_pins_are_kept_and_a_broken_pins_file_deletes_nothing() {
    let b = fresh_bucket("pins").await;
    deploy_seconds_apart(&b, &["audit-2025", "old", "new"]).await;
    Run::new(&["pin", b.name(), "audit-2025", "--reason", "SOC2 evidence"])
        .args(&["--localstack"])
        .ok();
    let v = json(&Run::plan(b.name(), 1).args(&["--json"]).out());
    assert!(
        !ids(&v).contains(&".s3-prune"),
        "the pins folder is never a deployment"
    );
    assert_eq!(
        v["deployments"][2]["reason"],
        "keep: pinned (SOC2 evidence)"
    );

    // a pins file that cannot be read means no deletion at all
    b.put(
        &b.pins_key(),
        b"{ not json".to_vec(),
        "application/json",
        &[],
    )
    .await
    .unwrap();
    Run::apply(b.name(), 1).fails_with("it is not a valid pins file");
    assert!(all_keys(&b).await.iter().any(|k| k.starts_with("old/")));

    b.put(
        &b.pins_key(),
        b"{\"pins\":[]}".to_vec(),
        "application/json",
        &[],
    )
    .await
    .unwrap();
    // The mended file pins nothing: audit-2025 goes with old.
    let out = s3_prune(&["unpin", b.name(), "audit-2025", "--localstack"]);
    assert!(stdout(&out).contains("was not pinned"), "{}", stdout(&out));
    // Pins are kept per prefix: the hint says so (before: "check the id" alone).
    assert!(
        stdout(&out).contains("--prefix if it was pinned under one"),
        "{}",
        stdout(&out)
    );
    // Before: --reason was accepted by unpin and did nothing.
    let out = s3_prune(&[
        "unpin",
        b.name(),
        "audit-2025",
        "--reason",
        "x",
        "--localstack",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("unpin takes no --reason"),
        "{}",
        stderr(&out)
    );
    let out = s3_prune(&["apply", b.name(), "1", "--localstack", "--yes"]);
    assert!(out.status.success());
    let keys = all_keys(&b).await;
    assert!(
        keys.iter()
            .all(|k| k.starts_with("new/") || k.starts_with(".s3-prune/")),
        "{keys:?}"
    );
}

#[tokio::test]
async fn every_apply_is_on_record_and_no_record_means_no_deletion() {
    let b = fresh_bucket("audit").await;
    deploy_seconds_apart(&b, &["old", "new"]).await;
    let db = std::env::temp_dir().join(format!("{}.sqlite", b.name()));
    let db_s = db.to_str().unwrap();

    // an audit log that cannot be written: nothing is deleted
    Run::apply(b.name(), 1)
        .env("S3_PRUNE_AUDIT_DB", "/proc/nope/audit.sqlite")
        .fails_with("audit log /proc/nope/audit.sqlite");
    assert_eq!(all_keys(&b).await.len(), 4);

    let v = Run::apply(b.name(), 1)
        .env("S3_PRUNE_AUDIT_DB", db_s)
        .env("USER", "release-bot")
        .json();
    assert!(
        v["audit"]["who"]
            .as_str()
            .unwrap()
            .starts_with("release-bot@"),
        "{}",
        v["audit"]
    );
    assert_eq!(v["audit"]["status"], "finished");
    assert_eq!(v["audit"]["source"], "cli");
    assert_eq!(v["audit"]["deleted"][0]["id"], "old");
    assert_eq!(v["audit"]["deleted"][0]["objects"], 2);
    assert_eq!(v["audit"]["bucket"], b.name());
    assert_eq!(v["audit"]["policy"]["retain"], 1);
    assert_eq!(v["audit"]["plan_fingerprint"].as_str().unwrap().len(), 16);

    let out = s3_prune_env(&["history"], &[("S3_PRUNE_AUDIT_DB", db_s)]);
    let lines: Vec<serde_json::Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["deleted_objects"], 2);
}

// The binary runs blocking here, so the proxy needs a thread of its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn access_denied_names_the_iam_action_and_deletes_nothing() {
    let b = fresh_bucket("denied").await;
    deploy_seconds_apart(&b, &["old", "new"]).await;
    let (url, _) = endpoint(|p| p.deny_list = true).await;
    let apply = Run::apply(b.name(), 1);
    apply
        .clone()
        .env("AWS_ENDPOINT_URL", &url)
        .fails_with(&format!(
            "access denied for s3:ListBucket on '{}'",
            b.name()
        ));
    assert_eq!(all_keys(&b).await.len(), 4);

    let (url, _) = endpoint(|p| p.deny_delete = true).await;
    let out = apply.env("AWS_ENDPOINT_URL", &url).out();
    assert!(!out.status.success());
    assert!(
        stdout(&out).contains("access denied for s3:DeleteObject"),
        "{}",
        stdout(&out)
    );
    assert!(
        stdout(&out).contains("old/index.html"),
        "the failing keys are listed: {}",
        stdout(&out)
    );
    assert_eq!(all_keys(&b).await.len(), 4);
}

/// A role that may not delete is found out by the first batch: S3 refuses every key of it
/// (AccessDenied), and the run sends no other (each would be refused too, a million failures
/// on record for nothing), ends failed and says which action to grant, on what.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_role_that_may_not_delete_stops_the_run_after_its_first_batch() {
    let b = fresh_bucket("denied-batches").await;
    for id in ["e0", "e1", "e2", "e3", "e4", "e5"] {
        put_many(&b, (0..500).map(|k| format!("{id}/f{k:03}")), &[]).await;
        tokio::time::sleep(Duration::from_millis(1100)).await;
    }
    let (url, proxy) = endpoint(|p| p.deny_delete = true).await;
    let out = Run::apply(b.name(), 1)
        .args(&["--concurrency", "1"])
        .env("AWS_ENDPOINT_URL", &url)
        .out();
    assert!(!out.status.success());
    let sent = proxy
        .stats
        .delete_requests
        .load(std::sync::atomic::Ordering::SeqCst);
    assert_eq!(
        sent, 1,
        "2,500 doomed keys, 3 batches: only the first was sent"
    );
    crate::common::assert_contains(&stdout(&out), "grant s3:DeleteObject on arn:aws:s3:::");
    assert_eq!(all_keys(&b).await.len(), 3000, "nothing deleted");
}

/// Stops an apply in the middle (slowed down by the proxy) and checks that nothing kept was
/// touched and that the next run finishes the job.
async fn interrupted(signal: &str) {
    let b = fresh_bucket(&format!("kill-{}", signal.to_lowercase())).await;
    let ids = ["d0", "d1", "d2", "d3", "d4", "d5"];
    for id in ids {
        put_many(&b, (0..150).map(|k| format!("{id}/f{k:03}")), &[]).await;
        tokio::time::sleep(Duration::from_millis(1100)).await;
    }
    let kept_before: Vec<String> = all_keys(&b)
        .await
        .into_iter()
        .filter(|k| k.starts_with("d5/") || k.starts_with("d4/"))
        .collect();
    // Every DeleteObjects is held 2 s at the proxy: the stop lands while the first batch is
    // held (before, it had to land in the few hundred ms between the first batch and the next,
    // which could carry every key left).
    let (url, proxy) = endpoint(|p| {
        p.delay_all = Some(Duration::from_millis(150));
        p.delay_delete = Some(Duration::from_secs(2));
    })
    .await;
    let db = std::env::temp_dir().join(format!("{}.sqlite", b.name()));
    let child = Command::new(env!("CARGO_BIN_EXE_s3-prune"))
        .args([
            "apply",
            b.name(),
            "2",
            "--localstack",
            "--yes",
            "--concurrency",
            "1",
        ])
        .env("AWS_ENDPOINT_URL", &url)
        .env("S3_PRUNE_AUDIT_DB", &db)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // wait until the first DeleteObjects is out (held at the proxy), then stop it
    crate::common::until_in_flight(&proxy.stats).await;
    let in_flight = || {
        proxy
            .stats
            .deletes_now
            .load(std::sync::atomic::Ordering::SeqCst)
    };
    let pid = child.id().to_string();
    assert!(Command::new("kill")
        .args([&format!("-{signal}"), &pid])
        .status()
        .unwrap()
        .success());
    let out = child.wait_with_output().unwrap();
    // (a killed run's held batch may still reach S3: let it land before looking)
    while in_flight() > 0 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // A record was written before the first delete: the run is on record however it ended.
    let history = s3_prune_env(&["history"], &[("S3_PRUNE_AUDIT_DB", db.to_str().unwrap())]);
    let runs: Vec<serde_json::Value> = stdout(&history)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(runs.len(), 1, "{}", stderr(&history));
    if signal == "KILL" {
        assert_eq!(runs[0]["status"], "started", "died mid-way: {:?}", runs[0]);
    } else {
        // stopped gracefully: the batches in flight finished, the record says so
        assert_eq!(out.status.code(), Some(1), "a stopped apply exits non-zero");
        assert_eq!(runs[0]["status"], "interrupted", "{:?}", runs[0]);
        assert!(
            stdout(&out).contains("Stopped on request"),
            "{}",
            stdout(&out)
        );
    }
    let midway = all_keys(&b).await;
    let left_doomed = midway
        .iter()
        .filter(|k| !k.starts_with("d5/") && !k.starts_with("d4/"))
        .count();
    println!(
        "{signal}: {} of 600 doomed objects left after the stop",
        left_doomed
    );
    assert!(left_doomed > 0, "stopped before the end");
    let kept_now: Vec<String> = midway
        .iter()
        .filter(|k| k.starts_with("d5/") || k.starts_with("d4/"))
        .cloned()
        .collect();
    assert_eq!(kept_now, kept_before);
    // the next run finishes the job
    Run::apply(b.name(), 2).ok();
    assert_eq!(all_keys(&b).await, kept_before);
}

// A stopped apply waits for its requests in flight: the proxy needs a thread of its own
// while this test blocks on the child.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_mid_apply_loses_nothing_and_the_next_run_finishes() {
    interrupted("TERM").await;
}

// A stopped apply waits for its requests in flight: the proxy needs a thread of its own
// while this test blocks on the child.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_apply_loses_nothing_and_the_next_run_finishes() {
    interrupted("KILL").await;
}

/// Hostile and careless input: each gets a clear error, or the correct (harmless) result.
#[tokio::test]
async fn bad_input_table() {
    let b = fresh_bucket("bad-input").await;
    deploy_seconds_apart(&b, &["old", "new"]).await;
    let name = b.name().to_string();
    let missing = format!("{name}-missing");
    // (args, extra env, expected exit code, text expected in stderr or stdout)
    let no_creds: &[(&str, &str)] = &[
        ("AWS_ACCESS_KEY_ID", ""),
        ("AWS_SECRET_ACCESS_KEY", ""),
        ("AWS_PROFILE", "s3-prune-test-no-such-profile"),
        ("AWS_CONFIG_FILE", "/dev/null"),
        ("AWS_SHARED_CREDENTIALS_FILE", "/dev/null"),
        ("AWS_EC2_METADATA_DISABLED", "true"),
    ];
    type Case<'a> = (Vec<&'a str>, &'a [(&'a str, &'a str)], i32, &'a str);
    let prefixed = format!("s3://{name}/sites");
    let rules =
        std::env::temp_dir().join(format!("s3p-bad-input-rules-{}.toml", std::process::id()));
    std::fs::write(
        &rules,
        "[[rule]]\nname = \"all\"\nmatch = \"*\"\nretain = 1\n",
    )
    .unwrap();
    let rules = rules.to_str().unwrap().to_string();
    let cases: Vec<Case> = vec![
        // Before: accepted and ignored (no pointer, no grace; no date source to fall back from).
        (
            vec!["apply", &name, "2", "--live-grace", "48h"],
            &[],
            2,
            "without --live-pointer it does nothing",
        ),
        (
            vec!["apply", &name, "2", "--meta-fallback", "newest"],
            &[],
            2,
            "without meta:KEY it does nothing",
        ),
        // With a rules file too (before: accepted, the rules carry neither).
        (
            vec!["apply", &name, "--policy", &rules, "--live-grace", "48h"],
            &[],
            2,
            "without --live-pointer it does nothing",
        ),
        (
            vec![
                "apply",
                &name,
                "--policy",
                &rules,
                "--meta-fallback",
                "newest",
            ],
            &[],
            2,
            "without meta:KEY it does nothing",
        ),
        // Before: taken as a key prefix, it found no deployments ("nothing to delete", exit 0).
        (
            vec!["apply", &name, "2", "--prefix", &prefixed],
            &[],
            2,
            "write --prefix sites, not s3://",
        ),
        (
            vec!["apply", &name, "0"],
            &[],
            2,
            "RETAIN must be at least 1",
        ),
        (
            vec!["apply", &name, "-1"],
            &[],
            2,
            "RETAIN must be at least 1",
        ),
        (
            vec!["apply", &name, "two"],
            &[],
            2,
            "RETAIN must be a whole number",
        ),
        (
            vec!["apply", &name, "1000000000000"],
            &[],
            0,
            "Nothing to delete.",
        ),
        (
            vec!["apply", &name, "1", "--min-retain-days", "-1"],
            &[],
            2,
            "--min-retain-days must be a whole number",
        ),
        (
            vec!["apply", &name, "1", "--min-retain-days", "x"],
            &[],
            2,
            "--min-retain-days must be a whole number",
        ),
        (
            vec!["apply", &name, "1", "--keep-within", "30m"],
            &[],
            2,
            "ambiguous",
        ),
        (
            vec!["apply", "--plan", "p.json", "--prefix", "sites"],
            &[],
            2,
            "cannot be used with",
        ),
        (
            vec!["apply", "--plan", "p.json", "--min-retain-days", "3"],
            &[],
            2,
            "cannot be used with",
        ),
        (
            vec!["apply", &name, "1", "--min-retain-days", "1000000000"],
            &[],
            0,
            "Nothing to delete.",
        ),
        (
            vec![
                "apply",
                &name,
                "1",
                "--min-retain-days",
                "1",
                "--keep-within",
                "1d",
            ],
            &[],
            2,
            "cannot be used with",
        ),
        (
            vec!["apply", "Not A Bucket", "1"],
            &[],
            2,
            "is not a bucket name",
        ),
        (vec!["apply", "ab", "1"], &[], 2, "is not a bucket name"),
        (
            vec!["apply", "bucket/with/prefix", "1"],
            &[],
            2,
            "a prefix goes in --prefix",
        ),
        (vec!["apply", &missing, "1"], &[], 1, "does not exist"),
        (
            vec!["apply", &name, "1", "--exclude", "v[0-9"],
            &[],
            2,
            "without a closing ']'",
        ),
        (
            // Before: accepted, matched nothing, and release-1 was deleted.
            vec!["apply", &name, "1", "--exclude", "release-*/"],
            &[],
            2,
            "contains '/': patterns match top-level folder names only (write 'release-*')",
        ),
        (
            // Before: accepted, matched nothing, and v1.0 was deleted.
            vec!["apply", &name, "1", "--pin", "v1.0 "],
            &[],
            2,
            "deployment id 'v1.0 ' has a space at its start or end: write 'v1.0'",
        ),
        (
            vec!["apply", &name, "1", "--exclude", "main-* "],
            &[],
            2,
            "pattern 'main-* ' has a space at its start or end: write 'main-*'",
        ),
        (
            vec!["apply", &name, "1", "--pin", "a/b"],
            &[],
            2,
            "contains '/'",
        ),
        (
            vec!["apply", &name, "1", "--date-source", "yesterday"],
            &[],
            2,
            "expected newest, oldest or meta:KEY",
        ),
    ];
    for (mut args, env, code, text) in cases {
        args.extend(["--localstack", "--yes"]);
        let out = s3_prune_env(&args, env);
        let all = format!("{}{}", stdout(&out), stderr(&out));
        assert_eq!(out.status.code(), Some(code), "{args:?}: {all}");
        assert!(all.contains(text), "{args:?}: expected '{text}' in: {all}");
        if code == 1 {
            // one clear error, not a wall of text (2 is clap's usage error, with its hint)
            let err = stderr(&out);
            assert!(
                err.trim().lines().count() <= 3,
                "{args:?}: not short: {err}"
            );
        }
    }
    // no credentials, and an endpoint that is down (not LocalStack mode: no test credentials)
    let out = s3_prune_env(
        &[
            "plan",
            &name,
            "1",
            "--endpoint-url",
            "http://127.0.0.1:4566",
        ],
        no_creds,
    );
    assert!(
        stderr(&out).contains("no AWS credentials found"),
        "{}",
        stderr(&out)
    );
    let out = s3_prune_env(
        &["plan", &name, "1", "--localstack"],
        &[("AWS_ENDPOINT_URL", "http://127.0.0.1:9")],
    );
    assert!(
        stderr(&out)
            .contains("cannot reach the S3 endpoint http://127.0.0.1:9: connection refused"),
        "{}",
        stderr(&out)
    );
    // after all of that, nothing was deleted
    assert_eq!(all_keys(&b).await.len(), 4);
}

#[tokio::test]
async fn prefix_without_slash_only_loose_objects_and_ten_thousand_deployments() {
    let b = fresh_bucket("odd-buckets").await;
    put_many(
        &b,
        [
            "sites/a/index.html".into(),
            "sites/b/index.html".into(),
            "sites-old/c/index.html".into(),
        ],
        &[],
    )
    .await;
    let v = json(
        &Run::plan(b.name(), 1)
            .args(&["--prefix", "sites", "--json"])
            .out(),
    );
    assert_eq!(v["prefix"], "sites/");
    assert_eq!(
        v["deployments"].as_array().unwrap().len(),
        2,
        "sites-old/ is not under sites/"
    );

    let loose = fresh_bucket("only-loose").await;
    put_many(
        &loose,
        ["robots.txt".into(), "/leading-slash/x".into()],
        &[],
    )
    .await;
    let out = Run::apply(loose.name(), 1).out();
    assert!(out.status.success());
    assert_stdout_has(&out, "No deployments found.");
    assert_stdout_has(&out, "loose  2 objects");
    assert_eq!(all_keys(&loose).await.len(), 2);

    let many = fresh_bucket("ten-thousand").await;
    put_many(
        &many,
        (0..10_000).map(|i| format!("d{i:05}/index.html")),
        &[],
    )
    .await;
    let started = std::time::Instant::now();
    let v = Run::plan(many.name(), 9990)
        .args(&["--concurrency", "64"])
        .json();
    println!("plan over 10,000 deployments took {:?}", started.elapsed());
    assert_eq!(v["deployments"].as_array().unwrap().len(), 10_000);
    assert_eq!(v["summary"]["delete"]["deployments"], 10);
}

#[tokio::test]
async fn a_saved_plan_applies_the_guards_given_with_it() {
    let b = fresh_bucket("saved-guards").await;
    deploy_seconds_apart(&b, &["hotfix", "old", "new"]).await;
    let file = std::env::temp_dir().join(format!("{}.plan.json", b.name()));
    let f = file.to_str().unwrap();
    Run::plan(b.name(), 1).args(&["--out", f]).ok();
    let cases: [(&[&str], &str); 4] = [
        // a pin given with the plan keeps its deployment: the plan no longer holds
        (&["--pin", "hotfix"], "No longer to delete: hotfix"),
        (&["--exclude", "hot*"], "No longer to delete: hotfix"),
        // a lower max-delete blocks it
        (&["--max-delete", "1"], "more than --max-delete 1"),
        // flags that would delete more than the saved plan are refused, by name
        (
            &["--purge-versions"],
            "--purge-versions conflicts with the saved plan",
        ),
    ];
    for (extra, text) in cases {
        let mut args = vec!["apply", "--plan", f, "--localstack", "--yes"];
        args.extend(extra);
        let out = s3_prune(&args);
        assert!(!out.status.success(), "{extra:?} applied");
        assert!(stderr(&out).contains(text), "{extra:?}: {}", stderr(&out));
        // Before: "the bucket changed since the plan" alone, though the bucket had not: the
        // guard given here had (reviewer).
        if text.starts_with("No longer") {
            assert!(
                stderr(&out).contains("Guards given with --plan"),
                "{extra:?}: {}",
                stderr(&out)
            );
        }
        assert_eq!(all_keys(&b).await.len(), 6, "{extra:?} deleted something");
    }
    // the plan alone still applies
    Run::new(&["apply", "--plan", f, "--localstack", "--yes"]).ok();
    assert_eq!(all_keys(&b).await.len(), 2);
}

#[tokio::test]
async fn control_characters_in_ids_cannot_forge_rows() {
    let b = fresh_bucket("ctrl-ids").await;
    deploy_seconds_apart(&b, &["new"]).await;
    put_many(&b, ["x\nforged  keep: pinned\t/index.html".into()], &[]).await;
    let text = stdout(&Run::plan(b.name(), 5).ok());
    assert!(
        !text.lines().any(|l| l.starts_with("forged")),
        "a key forged a row:\n{text}"
    );
    assert!(text.contains("x\\u{a}forged  keep: pinned\\u{9}"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listing_that_repeats_a_page_aborts_the_plan() {
    let b = fresh_bucket("repeat-page").await;
    put_many(&b, (0..6).map(|i| format!("d{i}/index.html")), &[]).await;
    let (url, _) = endpoint(|p| p.repeat_list_page = true).await;
    let child = crate::common::apply_through(&url, &[b.name(), "1"]);
    let out = crate::common::ended_within(child, 30, "the listing still looped").await;
    let err = stderr(&out);
    assert!(!out.status.success());
    assert!(err.contains("did not ascend"), "{err}");
    assert_eq!(all_keys(&b).await.len(), 6);
}

/// A key holding a control character cannot be carried in S3's XML listing (the SDK cannot
/// read the page): the run stops saying so and how to find the key, and deletes nothing.
#[tokio::test]
async fn a_key_with_a_control_character_stops_the_plan_with_a_way_to_find_it() {
    let b = fresh_bucket("ctrl-key").await;
    deploy_seconds_apart(&b, &["old", "new"]).await;
    put_many(&b, ["old/a\u{1}b.js".to_string()], &[]).await;
    let out = s3_prune(&["apply", b.name(), "1", "--localstack", "--yes"]);
    assert!(!out.status.success(), "{}", stdout(&out));
    let err = stderr(&out);
    assert!(
        err.contains("control character") && err.contains("--encoding-type url"),
        "{err}"
    );
    assert_eq!(all_keys_raw(&b).await, 5, "nothing deleted");
}

/// Keys under the bucket, counted from a URL-encoded listing (one holds a control character).
async fn all_keys_raw(b: &bucket::Bucket) -> usize {
    let out = b
        .client()
        .list_objects_v2()
        .bucket(b.name())
        .encoding_type(aws_sdk_s3::types::EncodingType::Url)
        .send()
        .await
        .unwrap();
    out.contents().len()
}

/// The same for version listings (`--purge-versions`, restore): a page that does not move on
/// aborts the run instead of looping for ever.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_version_listing_that_repeats_a_page_aborts_the_run() {
    let b = fresh_bucket("repeat-versions").await;
    b.enable_versioning().await.unwrap();
    deploy_seconds_apart(&b, &["old", "new"]).await;
    put_many(&b, (0..6).map(|i| format!("old/f{i}.js")), &[]).await;
    let (url, _) = endpoint(|p| p.repeat_version_page = true).await;
    let child = crate::common::apply_through(&url, &[b.name(), "1", "--purge-versions"]);
    let out = crate::common::ended_within(child, 30, "the version listing still looped").await;
    assert!(!out.status.success());
    let said = format!("{}{}", stdout(&out), stderr(&out));
    assert!(said.contains("did not ascend"), "{said}");
    assert!(
        all_keys(&b).await.iter().any(|k| k.starts_with("old/")),
        "old is not deleted"
    );
}

#[tokio::test]
async fn cli_records_name_the_os_account_and_host_without_user() {
    let b = fresh_bucket("who").await;
    deploy_seconds_apart(&b, &["old", "new"]).await;
    let db = std::env::temp_dir().join(format!("{}.sqlite", b.name()));
    let v = Run::apply(b.name(), 1)
        .env("S3_PRUNE_AUDIT_DB", db.to_str().unwrap())
        .env("USER", "")
        .json();
    let account = Command::new("id").arg("-un").output().unwrap();
    let account = String::from_utf8_lossy(&account.stdout).trim().to_string();
    let who = v["audit"]["who"].as_str().unwrap().to_string();
    assert!(who.starts_with(&format!("{account}@")), "{who}");
    assert!(who.len() > account.len() + 1, "a host follows: {who}");
}

/// The person at the terminal confirms; meanwhile the live pointer is moved to a deployment that
/// does not exist. The set to delete is unchanged, but the re-plan is blocked: nothing goes.
#[tokio::test]
async fn the_re_plan_after_the_prompt_runs_the_blocking_checks() {
    let b = fresh_bucket("prompt-blocks").await;
    deploy_seconds_apart(&b, &["old", "mid", "new"]).await;
    b.put("current", b"new\n".to_vec(), "text/plain", &[])
        .await
        .unwrap();
    // `script` gives the binary a terminal, as a person running it has.
    let cmd = format!(
        "{} apply {} 1 --localstack --live-pointer current",
        env!("CARGO_BIN_EXE_s3-prune"),
        b.name()
    );
    let mut child = Command::new("script")
        .args(["-qefc", &cmd, "/dev/null"])
        .env_remove("AWS_ENDPOINT_URL")
        .env("S3_PRUNE_AUDIT_DB", crate::common::audit_db())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = std::io::Read::read(&mut out, &mut buf) {
            if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                break;
            }
        }
    });
    let mut seen = String::new();
    let started = std::time::Instant::now();
    while !seen.contains("Type the bucket name to confirm") {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no prompt: {seen}"
        );
        if let Ok(chunk) = rx.recv_timeout(Duration::from_millis(100)) {
            seen.push_str(&String::from_utf8_lossy(&chunk));
        }
    }
    // during the prompt, the pointer moves to a deployment that is not there
    b.put("current", b"gone-release\n".to_vec(), "text/plain", &[])
        .await
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    std::io::Write::write_all(&mut stdin, format!("{}\n", b.name()).as_bytes()).unwrap();
    let status = child.wait().unwrap();
    while let Ok(chunk) = rx.recv_timeout(Duration::from_millis(200)) {
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(!status.success(), "applied: {seen}");
    assert!(seen.contains("refusing to apply"), "{seen}");
    assert!(seen.contains("gone-release"), "{seen}");
    assert_eq!(all_keys(&b).await.len(), 7, "nothing was deleted");
}

#[tokio::test]
async fn a_folder_holding_another_prefixs_state_is_never_a_deployment() {
    // Two sites under one bucket, each pruned with its own --prefix: a run without --prefix
    // would see `site-a` and `site-b` as two deployments and delete the older whole site.
    let b = fresh_bucket("nested-state").await;
    put_many(
        &b,
        [
            "site-a/.s3-prune/runs/20261204T000000000Z-0badc0de/start.json".into(),
            "site-a/d1/index.html".into(),
        ],
        &[],
    )
    .await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    put_many(&b, ["site-b/d1/index.html".into()], &[]).await;
    for args in [
        vec!["apply", b.name(), "1", "--localstack", "--yes"],
        vec!["plan", b.name(), "1", "--localstack"],
    ] {
        let out = s3_prune(&args);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", stdout(&out));
        let err = stderr(&out);
        assert!(
            err.contains("'site-a/' holds s3-prune's own state folder")
                && err.contains("give --prefix site-a/"),
            "{err}"
        );
    }
    assert_eq!(
        all_keys(&b).await,
        vec!["site-a/d1/index.html", "site-b/d1/index.html"],
        "nothing deleted"
    );
    // With the prefix it names, the site is pruned as usual.
    Run::plan(b.name(), 1).args(&["--prefix", "site-a/"]).ok();
}
