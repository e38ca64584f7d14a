//! Usage errors and what the CLI says about itself: each bad command line exits 2 (README's
//! "bad arguments, before any request") with a sentence saying what to do; flags do what their
//! help says; a second signal during apply says how the run was left.

use crate::common::{
    assert_stdout_has, deploy_seconds_apart, endpoint, s3_prune_env, stderr, stdout, Run,
};
use bucket::testkit::{all_keys, fresh_bucket, put_many};
use std::process::{Command, Stdio};
use std::time::Duration;

/// `s3-prune lambda` outside AWS Lambda panicked (exit 101, a backtrace); now a usage error
/// saying where it runs and what to run by hand.
#[test]
fn lambda_outside_aws_lambda_is_a_usage_error_not_a_panic() {
    let out = Command::new(env!("CARGO_BIN_EXE_s3-prune"))
        .arg("lambda")
        .env_remove("AWS_LAMBDA_RUNTIME_API")
        .env_remove("AWS_LAMBDA_FUNCTION_NAME")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    for part in [
        "only inside AWS Lambda",
        "AWS_LAMBDA_RUNTIME_API",
        "deploy/terraform",
        "apply",
    ] {
        assert!(err.contains(part), "expected '{part}' in: {err}");
    }
}

/// Each of these is refused before any request, exit 2, with the text given.
#[test]
fn bad_command_lines_exit_2_before_any_request() {
    let dir = std::env::temp_dir().join(format!("s3p-usage-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let garbage = dir.join("garbage.json");
    std::fs::write(&garbage, "garbage").unwrap();
    let garbage = garbage.to_str().unwrap();
    let missing = dir.join("missing.json");
    let missing = missing.to_str().unwrap();
    let out_file = dir.join("check-out.json");
    let out_file = out_file.to_str().unwrap();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        // was: "No runs on record in s3://…" however many there were
        (
            vec!["history", "some-bucket", "--limit", "0", "--localstack"],
            "--limit must be at least 1",
        ),
        // was: "write some-bucket --prefix , not some-bucket/"
        (
            vec!["plan", "some-bucket/", "3", "--localstack"],
            "write some-bucket, not some-bucket/",
        ),
        // was: exit 1, "cannot reach the S3 endpoint notaurl: dispatch failure …"
        (
            vec!["plan", "some-bucket", "3", "--endpoint-url", "notaurl"],
            "not a URL: give http(s)://host:port",
        ),
        (
            vec!["plan", "some-bucket", "3", "--endpoint-url", "ftp://x:21"],
            "not a URL: give http(s)://host:port",
        ),
        // was: exit 1
        (
            vec!["apply", "--plan", missing, "--localstack"],
            "cannot read the saved plan",
        ),
        (
            vec!["apply", "--plan", garbage, "--localstack"],
            "is not a plan saved by `s3-prune plan --out`",
        ),
        // was: exit 1 (README: listening on 0.0.0.0 requires naming them)
        (
            vec![
                "serve",
                "--bucket",
                "some-bucket",
                "--addr",
                "0.0.0.0:4596",
                "--localstack",
            ],
            "--allowed-host",
        ),
        // was: accepted and ignored (check writes no plan)
        (
            vec![
                "check",
                "some-bucket",
                "3",
                "--out",
                out_file,
                "--localstack",
            ],
            "--out: check writes no plan",
        ),
    ];
    // Every case is run, and every one that fails is shown.
    let mut wrong = Vec::new();
    for (args, text) in cases {
        let out = s3_prune_env(&args, &[]);
        let all = format!("{}{}", stdout(&out), stderr(&out));
        if out.status.code() != Some(2) || !all.contains(text) || all.contains("--prefix ,") {
            wrong.push(format!(
                "{args:?}: exit {:?}, expected 2 and '{text}' in: {all}",
                out.status.code()
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    assert!(
        !std::path::Path::new(out_file).exists(),
        "check wrote a plan"
    );
}

/// `apply --out FILE` saves the plan it applied, the document `plan --out` writes (it was
/// accepted and ignored).
#[tokio::test]
async fn apply_out_saves_the_plan_it_applied() {
    let b = fresh_bucket("apply-out").await;
    deploy_seconds_apart(&b, &["old", "mid", "new"]).await;
    let dir = std::env::temp_dir();
    let planned = dir.join(format!("{}.planned.json", b.name()));
    let applied = dir.join(format!("{}.applied.json", b.name()));
    Run::plan(b.name(), 1)
        .args(&["--out", planned.to_str().unwrap()])
        .ok();
    let out = Run::apply(b.name(), 1)
        .args(&["--out", applied.to_str().unwrap()])
        .ok();
    assert_stdout_has(&out, &format!("Saved to {}", applied.display()));
    let read = |p: &std::path::Path| -> serde_json::Value {
        let text = std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        serde_json::from_slice(&text).unwrap()
    };
    let (planned, applied) = (read(&planned), read(&applied));
    for field in ["format", "bucket", "prefix", "policy", "deletion_set"] {
        assert_eq!(planned[field], applied[field], "{field}");
    }
    assert_eq!(applied["deletion_set"].as_array().unwrap().len(), 2);
    assert_eq!(all_keys(&b).await.len(), 2, "new/ is left");
}

/// A second SIGTERM during apply leaves at once, exit 130, saying how the run was left (it
/// printed nothing).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_signal_during_apply_leaves_at_once_and_says_so() {
    let b = fresh_bucket("second-signal").await;
    for id in ["d0", "d1", "d2"] {
        put_many(&b, (0..100).map(|k| format!("{id}/f{k:03}")), &[]).await;
        tokio::time::sleep(Duration::from_millis(1100)).await;
    }
    let (url, proxy) = endpoint(|p| p.delay_all = Some(Duration::from_millis(400))).await;
    let child = crate::common::apply_through(&url, &[b.name(), "1", "--concurrency", "1"]);
    // The first DeleteObjects has reached the proxy (held 400 ms): the run is mid-batch for
    // both signals.
    crate::common::until_in_flight(&proxy.stats).await;
    let term = || {
        assert!(Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap()
            .success());
    };
    term();
    tokio::time::sleep(Duration::from_millis(100)).await;
    term();
    let out = child.wait_with_output().unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(130), "{err}");
    for part in ["left at once", "'started'", "s3-prune history", "--run ID"] {
        assert!(err.contains(part), "expected '{part}' in: {err}");
    }
}

/// `check` on a bucket with no run that ended well says so; it said "no run on record",
/// although failed runs were.
#[tokio::test]
async fn check_without_a_successful_run_says_no_successful_run() {
    let b = fresh_bucket("check-no-success").await;
    put_many(&b, ["only/index.html".into()], &[]).await;
    let out = Run::new(&["check", b.name(), "1", "--localstack"]).ok();
    assert_stdout_has(&out, "no successful run on record");
}

/// The scheduled job's variables set in a shell change nothing a command does — a pin in
/// `S3_PRUNE_PINS` protected nothing `apply` deleted, without a word. Each command now says so,
/// naming what it takes instead.
#[tokio::test]
async fn a_job_variable_set_for_a_command_is_said_to_do_nothing() {
    let b = fresh_bucket("job-vars").await;
    deploy_seconds_apart(&b, &["old", "new"]).await;
    let out = Run::plan(b.name(), 1)
        .env("S3_PRUNE_PINS", "old")
        .env("S3_PRUNE_DRY_RUN", "true")
        .ok();
    let err = stderr(&out);
    for said in [
        "S3_PRUNE_PINS is set, but only the scheduled job (`s3-prune lambda`) reads it: this command does not (it takes --pin (or `s3-prune pin`))",
        "S3_PRUNE_DRY_RUN is set, but only the scheduled job",
    ] {
        assert!(err.contains(said), "{err}");
    }
}

/// `S3_PRUNE_DRY_RUN=true` in the shell of an `apply`: whoever set it expects nothing deleted,
/// so the apply is refused, saying `plan` is the dry run (before: a warning, hidden by
/// `S3_PRUNE_LOG=error`, and the apply deleted); any other of the job's settings the same way.
#[tokio::test]
async fn an_apply_with_the_jobs_dry_run_switch_set_is_refused() {
    let b = fresh_bucket("job-dry-run").await;
    deploy_seconds_apart(&b, &["old", "new"]).await;
    let before = all_keys(&b).await;
    Run::apply(b.name(), 1)
        .env("S3_PRUNE_DRY_RUN", "true")
        .env("S3_PRUNE_LOG", "error")
        .fails_with("refusing to apply: S3_PRUNE_DRY_RUN=true is set");
    assert_eq!(all_keys(&b).await, before, "nothing deleted");
    // A value the job would not read either may mean "dry run" all the same (before: `on`
    // was taken as no dry run, and the apply deleted).
    for set in ["on", "y", "enabled"] {
        Run::apply(b.name(), 1)
            .env("S3_PRUNE_DRY_RUN", set)
            .fails_with(&format!("refusing to apply: S3_PRUNE_DRY_RUN={set} is set"));
    }
    assert_eq!(all_keys(&b).await, before, "nothing deleted");
    // The job's other settings too: a pin in S3_PRUNE_PINS, a lower S3_PRUNE_MAX_DELETE or
    // S3_PRUNE_LOCALSTACK (AWS instead) would not be followed (before: a warning, hidden by
    // S3_PRUNE_LOG=error, and `old` was deleted).
    Run::apply(b.name(), 1)
        .env("S3_PRUNE_PINS", "old")
        .env("S3_PRUNE_LOG", "error")
        .fails_with("refusing to apply: S3_PRUNE_PINS (this command takes --pin (or `s3-prune pin`)) is set");
    Run::apply(b.name(), 1)
        .env("S3_PRUNE_MAX_DELETE", "0")
        .env("S3_PRUNE_LOCALSTACK", "true")
        .fails_with("S3_PRUNE_MAX_DELETE (this command takes --max-delete), S3_PRUNE_LOCALSTACK (this command takes --localstack) are set");
    assert_eq!(all_keys(&b).await, before, "nothing deleted");
    // A switch set to false asks nothing (the Terraform module writes every one).
    Run::apply(b.name(), 1)
        .env("S3_PRUNE_DRY_RUN", "false")
        .env("S3_PRUNE_PURGE_VERSIONS", "false")
        .env("S3_PRUNE_VIA_LIFECYCLE", "false")
        .ok();
    let after = all_keys(&b).await;
    assert!(after.iter().all(|k| k.starts_with("new/")), "{after:?}");
}

/// Before: with `AWS_ENDPOINT_URL_S3` set (S3's own endpoint, which the SDK sends to), the
/// plan said "at AWS S3 (us-east-1)" while it listed another server (review).
#[tokio::test]
async fn the_plan_names_the_endpoint_s3_requests_go_to() {
    let b = fresh_bucket("endpoint-named").await;
    deploy_seconds_apart(&b, &["old", "new"]).await;
    let out = Run::plan(b.name(), 1)
        .env("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:4566")
        .ok();
    let said = stdout(&out);
    assert!(said.contains("at http://127.0.0.1:4566"), "{said}");
}
