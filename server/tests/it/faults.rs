//! Apply under injected faults, through a proxy between s3-prune and LocalStack: 503 SlowDown,
//! 500, reset connections, slow responses, and DeleteObjects answers that report per-key
//! errors (the proxy really withholds those keys from LocalStack). Nothing kept may be touched,
//! every failure must be reported with its key, and a clean second run must converge.

use bucket::testkit::{all_keys, fresh_bucket, put_many};
use std::collections::BTreeSet;
use std::process::{Command, Stdio};
use std::sync::atomic::Ordering;
use std::time::Duration;

fn apply(bucket: &str, endpoint: Option<&str>) -> (i32, serde_json::Value) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_s3-prune"));
    cmd.args([
        "apply",
        bucket,
        "3",
        "--localstack",
        "--yes",
        "--json",
        "--concurrency",
        "8",
    ]);
    if let Some(e) = endpoint {
        cmd.env("AWS_ENDPOINT_URL", e);
    } else {
        cmd.env_remove("AWS_ENDPOINT_URL");
    }
    let out = cmd.stdin(Stdio::null()).output().unwrap();
    let v = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    (out.status.code().unwrap_or(-1), v)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn apply_under_faults_touches_nothing_kept_reports_every_failure_and_converges() {
    let b = fresh_bucket("faults").await;
    // 10 deployments of 120 objects, 1 s apart so the order is clear: keep 3, delete 7.
    let ids: Vec<String> = (0..10).map(|i| format!("dep{i:02}")).collect();
    for id in &ids {
        put_many(
            &b,
            (0..120).map(|k| format!("{id}/assets/file {k:03}+%.css")),
            &[],
        )
        .await;
        tokio::time::sleep(Duration::from_millis(1100)).await;
    }
    let kept: BTreeSet<String> = ids[7..].iter().cloned().collect();
    let before = all_keys(&b).await;
    let kept_before: Vec<String> = before
        .iter()
        .filter(|k| kept.iter().any(|id| k.starts_with(&format!("{id}/"))))
        .cloned()
        .collect();
    assert_eq!(kept_before.len(), 360);

    // Every 4th request faults: the apply makes ~30 requests, so each kind of fault is hit.
    let (proxy_url, proxy) = crate::proxy::start(crate::proxy::Proxy::new(4)).await;
    let (code, v) = apply(b.name(), Some(&proxy_url));
    let s = &proxy.stats;
    let deleted_keys = s.deleted_keys.lock().unwrap().clone();
    let denied = s.denied_keys.lock().unwrap().clone();
    let failed: BTreeSet<String> = v["failed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["key"].as_str().unwrap().to_string())
        .collect();
    let wrongly = deleted_keys
        .iter()
        .filter(|k| kept.iter().any(|id| k.starts_with(&format!("{id}/"))))
        .count();
    let after = all_keys(&b).await;
    println!(
        "faults: requests={} slowdown={} internal={} resets={} delays={} per-key-errors={} | \
         deleted={} reported-failed={} denied={} exit={} | objects wrongly deleted={}",
        s.requests.load(Ordering::Relaxed),
        s.slowdown.load(Ordering::Relaxed),
        s.internal.load(Ordering::Relaxed),
        s.resets.load(Ordering::Relaxed),
        s.delays.load(Ordering::Relaxed),
        s.key_errors.load(Ordering::Relaxed),
        v["deleted_objects"],
        failed.len(),
        denied.len(),
        code,
        wrongly
    );
    // Every kind of fault was injected (a test of retries whose faults never fired holds
    // nothing): SlowDown, 500s, resets, delays, and per-key errors beyond the denied keys.
    for (fault, n) in [
        ("SlowDown", &s.slowdown),
        ("InternalError", &s.internal),
        ("resets", &s.resets),
        ("delays", &s.delays),
    ] {
        assert!(n.load(Ordering::Relaxed) > 0, "no {fault} was injected");
    }
    assert!(
        s.key_errors.load(Ordering::Relaxed) as usize > denied.len(),
        "no transient per-key error was injected beside the denied keys"
    );
    assert_eq!(
        wrongly, 0,
        "a key of a kept deployment was sent for deletion"
    );
    let kept_after: Vec<String> = after
        .iter()
        .filter(|k| kept.iter().any(|id| k.starts_with(&format!("{id}/"))))
        .cloned()
        .collect();
    assert_eq!(kept_after, kept_before, "kept deployments are intact");
    assert!(!denied.is_empty(), "the proxy denied some keys");
    let errors: Vec<String> = v["failed"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| !denied.contains(f["key"].as_str().unwrap_or("")))
        .map(|f| f.to_string())
        .collect();
    assert_eq!(
        failed, denied,
        "exactly the denied keys are reported as failed, each with its key; the others: {errors:?}"
    );
    assert_ne!(code, 0, "a run with failures exits non-zero");
    for k in &failed {
        assert!(after.contains(k), "a reported failure is still there: {k}");
    }
    assert_eq!(
        v["deleted_objects"].as_u64().unwrap() as usize + failed.len(),
        840
    );

    // A second run without faults converges to exactly the planned state.
    let (code, v) = apply(b.name(), None);
    assert_eq!(code, 0, "{v}");
    assert_eq!(
        v["deleted_objects"].as_u64().unwrap() as usize,
        failed.len()
    );
    assert_eq!(all_keys(&b).await, kept_before);
}

/// A deployment of 4,200 objects is 5 DeleteObjects batches; with `--concurrency 2` no more
/// than 2 may be in flight at once (and the pipeline should use both).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_big_deployment_is_deleted_with_at_most_concurrency_batches_in_flight() {
    // 4,200 keys: past the 2,000 a deployment is held whole for, so it is verified by one
    // listing, then its keys flow from a second listing into batches page by page (bounded
    // memory) and must still all go.
    let b = fresh_bucket("in-flight").await;
    put_many(&b, (0..4200).map(|k| format!("big/f{k:04}")), &[]).await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    put_many(&b, ["new/index.html".to_string()], &[]).await;
    // slow deletes (as on S3), so batches overlap when the client lets them: the deleting
    // pass lists the next page while a batch is in flight
    let (url, proxy) =
        crate::common::endpoint(|p| p.delay_delete = Some(Duration::from_millis(500))).await;
    let out = Command::new(env!("CARGO_BIN_EXE_s3-prune"))
        .args([
            "apply",
            b.name(),
            "1",
            "--localstack",
            "--yes",
            "--json",
            "--concurrency",
            "2",
        ])
        .env("AWS_ENDPOINT_URL", &url)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(all_keys(&b).await, vec!["new/index.html"]);
    assert_eq!(
        proxy.stats.deletes_max.load(Ordering::SeqCst),
        2,
        "DeleteObjects in flight at most (and at least once) --concurrency"
    );
}

/// A slow server (here 25 s for a DeleteObjects) is waited for as long as the run's lease is
/// renewed: the batch is deleted and the run succeeds. Before, every batch was given up after a
/// fixed 20 s, so every big apply against a server that slow failed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_delete_batch_is_waited_for_while_the_lease_is_renewed() {
    let b = fresh_bucket("slow-batch").await;
    crate::common::put_seconds_apart(
        &b,
        vec![vec!["old/index.html".into()], vec!["new/index.html".into()]],
    )
    .await;
    let (url, _proxy) =
        crate::common::endpoint(|p| p.delay_delete = Some(Duration::from_secs(25))).await;
    let out = Command::new(env!("CARGO_BIN_EXE_s3-prune"))
        .args(["apply", b.name(), "1", "--localstack", "--yes", "--json"])
        .env("AWS_ENDPOINT_URL", &url)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(all_keys(&b).await, vec!["new/index.html"]);
}

/// A DeleteObjects that gets no answer while the run's lease cannot be renewed is given up
/// before the lease could expire, its keys reported as not known to be deleted: nothing of the
/// run is still out when another run may take the lease over. Before, one request could go on
/// for minutes (6 attempts of up to 120 s), past the lease's expiry.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delete_batch_without_an_answer_is_given_up_before_the_lease_could_expire() {
    let b = fresh_bucket("batch-budget").await;
    crate::common::put_seconds_apart(
        &b,
        vec![vec!["old/index.html".into()], vec!["new/index.html".into()]],
    )
    .await;
    let (url, _proxy) = crate::common::endpoint(|p| {
        p.delay_delete = Some(Duration::from_secs(90));
        // The lease's taking and the conditional-write probe go through; its renewals hang.
        p.hang_put = Some(("/.s3-prune/lease".into(), 2, Duration::from_secs(100)));
    })
    .await;
    let started = std::time::Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_s3-prune"))
        .args(["apply", b.name(), "1", "--localstack", "--yes", "--json"])
        .env("AWS_ENDPOINT_URL", &url)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let took = started.elapsed();
    assert!(
        !out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    // The lease (60 s) was taken after the scan; given up 5 s before it could expire.
    assert!(took < Duration::from_secs(60), "took {took:?}");
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        said.contains("the run's lease could not be renewed: not known whether S3 carried it out"),
        "{said}"
    );
}

/// A DeleteObjects still without an answer when another run takes the lease over is given up at
/// once (its keys reported as not known to be deleted), not waited for until the lost lease
/// would have expired. Before, the run waited ~40 s more for a batch sent under a lease that
/// was no longer its own, and counted its deletes as done (a reviewer's proxy run).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delete_batch_out_when_the_lease_changes_hands_is_given_up_at_once() {
    let b = fresh_bucket("lease-changed-hands").await;
    crate::common::put_seconds_apart(
        &b,
        vec![vec!["old/index.html".into()], vec!["new/index.html".into()]],
    )
    .await;
    let (url, proxy) =
        crate::common::endpoint(|p| p.delay_delete = Some(Duration::from_secs(60))).await;
    let child = Command::new(env!("CARGO_BIN_EXE_s3-prune"))
        .args(["apply", b.name(), "1", "--localstack", "--yes", "--json"])
        .env("AWS_ENDPOINT_URL", &url)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let waited = std::time::Instant::now();
    while proxy.stats.deletes_max.load(Ordering::SeqCst) == 0 {
        assert!(waited.elapsed() < Duration::from_secs(30), "no batch sent");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Someone else's lease now (another run took it over, or it was removed and taken).
    b.put(
        ".s3-prune/lease",
        br#"{"run":"20261206T000000000Z-00000000","who":"other","source":"cli","host":"elsewhere","since":"2026-12-06T00:00:00Z","expires":"2099-01-01T00:00:00Z","pid":1,"pid_ns":"","ttl_secs":60}"#.to_vec(),
        "application/json",
        &[],
    )
    .await
    .unwrap();
    let changed = std::time::Instant::now();
    let out = tokio::task::spawn_blocking(move || child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    let took = changed.elapsed();
    assert!(
        !out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    // The next renewal (within 10 s) finds it changed hands, and the batch is given up then.
    assert!(
        took < Duration::from_secs(20),
        "took {took:?} after the lease changed hands"
    );
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        said.contains("not known whether S3 carried it out"),
        "{said}"
    );
}

/// s3s-fs and other S3-compatible servers answer GetBucketVersioning with 501 NotImplemented:
/// the scan goes on, the plan says versioning is unknown, and apply deletes as on an
/// unversioned bucket.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_without_get_bucket_versioning_plans_with_a_warning() {
    let b = fresh_bucket("no-versioning-api").await;
    crate::common::put_seconds_apart(
        &b,
        vec![vec!["old/index.html".into()], vec!["new/index.html".into()]],
    )
    .await;
    let (url, _) = crate::common::endpoint(|p| p.no_versioning_api = true).await;
    let out = Command::new(env!("CARGO_BIN_EXE_s3-prune"))
        .args(["apply", b.name(), "1", "--localstack", "--yes", "--json"])
        .env("AWS_ENDPOINT_URL", &url)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let warnings = v["warnings"].to_string();
    assert!(
        warnings.contains("the server does not report bucket versioning"),
        "{v}"
    );
    assert_eq!(v["versioning"], "unknown", "{v}");
    assert_eq!(all_keys(&b).await, vec!["new/index.html"]);
}

/// ListObjectsV2 answers cut short at an element boundary (Content-Length to match, so the
/// transport does not notice) parsed as a smaller listing: the plan saw fewer deployments, or
/// fewer and older objects in each, and planned from that. Now a page cut short is refused and
/// listed again (cut once: the same plan as without the proxy), and when every page is cut the
/// plan fails; a page whose XML is whole but holds fewer entries than its KeyCount fails too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listing_cut_short_is_never_planned_from() {
    use crate::common::{json, stderr, Run};
    use crate::proxy::CutAnswers;
    let b = fresh_bucket("cut-list").await;
    let groups = (0..4)
        .map(|d| (0..6).map(|f| format!("d{d}/f{f}.js")).collect())
        .collect();
    crate::common::put_seconds_apart(&b, groups).await;
    // what each deployment is planned to be, and how many objects it has
    let view = |v: &serde_json::Value| {
        let deployments = v["deployments"].as_array().unwrap().iter();
        let seen = deployments
            .map(|d| format!("{} {} {} {}", d["id"], d["action"], d["objects"], d["date"]));
        seen.collect::<Vec<_>>()
    };
    let whole = view(&Run::plan(b.name(), 1).json());
    for (cut, whole_again) in [
        (CutAnswers::lists(1), true),
        (CutAnswers::lists(u64::MAX), false),
        (CutAnswers::lists(u64::MAX).closed(), false),
    ] {
        let said = format!("cut {} times, closed: {}", cut.times, cut.close_root);
        let (url, proxy) = crate::common::endpoint(|p| p.cut_answers = Some(cut)).await;
        let out = Run::plan(b.name(), 1)
            .args(&["--json"])
            .env("AWS_ENDPOINT_URL", &url)
            .out();
        assert!(proxy.stats.answers_cut.load(Ordering::SeqCst) > 0, "{said}");
        if whole_again {
            assert!(out.status.success(), "{said}: {}", stderr(&out));
            assert_eq!(view(&json(&out)), whole, "{said}");
        } else {
            assert!(
                !out.status.success(),
                "{said}: planned from a partial listing: {}",
                crate::common::stdout(&out)
            );
        }
    }
}

/// Before: a server that lists objects without their LastModified had them dated 1970 — the
/// oldest, first to go, never newer than a plan — and the apply deleted by that guess.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn objects_listed_without_their_last_modified_are_never_dated_by_a_guess() {
    use crate::common::{stderr, Run};
    let b = fresh_bucket("undated-list").await;
    crate::common::deploy_seconds_apart(&b, &["old", "new"]).await;
    let before = all_keys(&b).await;
    let (url, _proxy) = crate::common::endpoint(|p| p.strip_last_modified = true).await;
    for out in [
        Run::plan(b.name(), 1).env("AWS_ENDPOINT_URL", &url).out(),
        Run::apply(b.name(), 1).env("AWS_ENDPOINT_URL", &url).out(),
    ] {
        assert!(
            !out.status.success(),
            "planned: {}",
            crate::common::stdout(&out)
        );
        assert!(
            stderr(&out).contains("without its LastModified"),
            "{}",
            stderr(&out)
        );
    }
    assert_eq!(all_keys(&b).await, before, "nothing deleted");
}

/// A DeleteObjects S3 refuses (403 AccessDenied) did nothing: its keys are listed as could not
/// be deleted, not among those whose deletion is not known (a lost answer's).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_of_a_refused_delete_are_reported_as_not_deleted() {
    let b = fresh_bucket("refused-batch").await;
    crate::common::put_seconds_apart(
        &b,
        vec![vec!["old/index.html".into()], vec!["new/index.html".into()]],
    )
    .await;
    let (url, _proxy) = crate::common::endpoint(|p| p.deny_delete = true).await;
    let out = Command::new(env!("CARGO_BIN_EXE_s3-prune"))
        .args(["apply", b.name(), "1", "--localstack", "--yes"])
        .env("AWS_ENDPOINT_URL", &url)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let said = String::from_utf8_lossy(&out.stdout);
    crate::common::assert_contains(&said, "1 object could not be deleted:");
    assert!(!said.contains("not known whether"), "{said}");
    assert_eq!(all_keys(&b).await.len(), 2);
}

/// After the deletes, the deployments deleted whole are listed once more (objects uploaded
/// after their keys were listed are left, so such a folder is not gone). That listing failing
/// was only logged, and the run ended "finished", exit 0, unchecked; the run fails now, saying
/// so (review).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_leftover_check_that_cannot_list_fails_the_run_saying_so() {
    let b = fresh_bucket("left-unlisted").await;
    crate::common::deploy_seconds_apart(&b, &["old", "new"]).await;
    let (url, proxy) =
        crate::common::endpoint(|p| p.delay_delete = Some(Duration::from_secs(2))).await;
    let apply = crate::common::apply_through(&url, &[b.name(), "1"]);
    crate::common::until_in_flight(&proxy.stats).await;
    proxy.stats.fail_lists.store(true, Ordering::SeqCst);
    let out = apply.wait_with_output().unwrap();
    let said = crate::common::stdout(&out);
    assert!(!out.status.success(), "{said}");
    crate::common::assert_contains(&said, "could not be listed");
    let keys = all_keys(&b).await;
    assert!(keys.iter().all(|k| k.starts_with("new/")), "{keys:?}");
}
