//! `--live-pointer KEY` during an apply: a deployment the pointer named at any reading of the
//! run (or, on a versioned bucket, in a version written since the plan) is not deleted.

use super::point;
use crate::common::{deploy_seconds_apart, stdout};
use bucket::testkit::{all_keys, fresh_bucket};
use std::sync::atomic::Ordering::SeqCst;
use std::sync::Arc;
use std::time::Duration;

/// Waits (at most 30 s) until `ready` holds.
async fn until(what: &str, ready: impl Fn() -> bool) {
    let started = std::time::Instant::now();
    while !ready() {
        assert!(started.elapsed().as_secs() < 30, "never: {what}");
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}

/// d1 and d2 (1,000 keys each), d3, d4 and d5 (live, `current` names it), and `apply B 1
/// --live-pointer current --concurrency 1` started through a proxy that stalls each
/// DeleteObjects 1.5 s (batches of 1,000: d1's, d2's, then d3's and d4's) and answers each
/// read of the pointer as it stands 1 s after it was asked, counting them (past the 0.5 s a
/// reading is trusted: none is used twice). Returns once d1's batch is in flight.
async fn apply_stalled(b: &bucket::Bucket) -> (std::process::Child, Arc<crate::proxy::Proxy>) {
    apply_stalled_with(b, |_| {}).await
}

/// [`apply_stalled`] through a proxy set up further by `more`.
async fn apply_stalled_with(
    b: &bucket::Bucket,
    more: impl FnOnce(&mut crate::proxy::Proxy),
) -> (std::process::Child, Arc<crate::proxy::Proxy>) {
    for id in ["d1", "d2"] {
        bucket::testkit::put_many(b, (0..1000).map(|k| format!("{id}/f{k:04}")), &[]).await;
        tokio::time::sleep(Duration::from_millis(1100)).await;
    }
    deploy_seconds_apart(b, &["d3", "d4", "d5"]).await;
    point(b, "d5").await;
    let (url, proxy) = crate::common::endpoint(|p| {
        p.delay_delete = Some(Duration::from_millis(1500));
        p.delay_get = Some(("current".into(), Duration::from_millis(1000)));
        more(p);
    })
    .await;
    let args = [
        b.name(),
        "1",
        "--live-pointer",
        "current",
        "--concurrency",
        "1",
    ];
    let child = crate::common::apply_through(&url, &args);
    let s = &proxy.stats;
    until("d1's batch sent", || s.deletes_now.load(SeqCst) > 0).await;
    (child, proxy)
}

/// The apply ended with d4 left whole, held as live since the plan, and d2 deleted.
async fn d4_held(b: &bucket::Bucket, child: std::process::Child) {
    let out = crate::common::ended_within(child, 60, "the apply did not end").await;
    let keys = all_keys(b).await;
    assert!(
        keys.iter().any(|k| k.starts_with("d4/")),
        "d4 deleted: {}",
        stdout(&out)
    );
    assert!(!keys.iter().any(|k| k.starts_with("d2/")), "{keys:?}");
    let held = "d4: left untouched, live since the plan (the live pointer named it after the plan";
    assert!(stdout(&out).contains(held), "{}", stdout(&out));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deployment_the_pointer_named_at_a_reading_during_an_apply_is_not_deleted() {
    // Before: the apply asked only whether the pointer named a doomed deployment at that
    // moment. Moved to d4 while d1 was deleting and back to d5 a moment later, d4 — live
    // seconds before, and kept for the grace by any plan made then — was deleted, no warning.
    let b = fresh_bucket("live-mid-run").await;
    let (child, proxy) = apply_stalled(&b).await;
    let s = &proxy.stats;
    // The pointer moves to d4; the run's next reading sees it (the readings go one at a time),
    // and it is back on d5 before the one after is answered — before d4's listing and batch.
    let reads = s.gets_delayed.load(SeqCst);
    point(&b, "d4").await;
    until("the pointer read twice", || {
        s.gets_delayed.load(SeqCst) > reads + 1
    })
    .await;
    point(&b, "d5").await;
    d4_held(&b, child).await;
    // The change was recorded as a scan records one: the next plan gives d4 the grace (on
    // this bucket without versioning too).
    let seen = b.read_state("live-seen.json").await.unwrap().unwrap();
    let seen: serde_json::Value = serde_json::from_slice(&seen).unwrap();
    assert_eq!(seen["current"], "d5", "{seen}");
    assert_eq!(seen["previous"][0]["id"], "d4", "{seen}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_versioned_bucket_a_pointer_moved_and_back_between_two_readings_still_holds() {
    // Before: no reading of the run saw d4 (the pointer named it for a few milliseconds, as in
    // the reviewer's run), so d4 was deleted; its versions written since the plan say it.
    let b = fresh_bucket("live-mid-run-v").await;
    b.enable_versioning().await.unwrap();
    let (child, _proxy) = apply_stalled(&b).await;
    point(&b, "d4").await;
    point(&b, "d5").await;
    d4_held(&b, child).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pointer_moved_and_back_just_after_the_plan_holds_though_s3s_clock_is_a_little_behind() {
    // S3's clock 90 s behind this machine's: less than s3-prune tells apart from the
    // measurement's own error (2 min), so the plan is dated by this machine's clock, and the
    // pointer's versions written after it are dated by S3 before it. The apply reads the
    // versions written after the one the plan read, whatever their dates. (Before, it read
    // those dated after the plan's time: none here, and d4 was deleted.)
    let b = fresh_bucket("live-mid-run-skew").await;
    b.enable_versioning().await.unwrap();
    let behind = chrono::Duration::seconds(-90);
    let (child, _proxy) = apply_stalled_with(&b, |p| {
        p.shift_date = Some(behind);
        p.shift_last_modified = Some(behind);
    })
    .await;
    point(&b, "d4").await;
    point(&b, "d5").await;
    d4_held(&b, child).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pointer_versions_that_cannot_be_listed_mid_run_hold_what_is_left() {
    // The plan listed the pointer's versions; mid-run S3 answers every listing of them 500.
    // Before: taken as "none written since" (as for a role that may never list them), so d4,
    // named for a moment between two readings, was deleted. Now nothing more goes, and the run
    // fails saying why.
    let b = fresh_bucket("live-mid-run-unlisted").await;
    b.enable_versioning().await.unwrap();
    let (child, proxy) = apply_stalled(&b).await;
    proxy.stats.fail_version_lists.store(true, SeqCst);
    point(&b, "d4").await;
    point(&b, "d5").await;
    let out = crate::common::ended_within(child, 90, "the apply did not end").await;
    assert!(!out.status.success(), "{}", stdout(&out));
    let keys = all_keys(&b).await;
    assert!(
        keys.iter().any(|k| k.starts_with("d4/")),
        "d4 deleted: {}",
        stdout(&out)
    );
    assert!(
        stdout(&out).contains("could not be read mid-run"),
        "{}",
        stdout(&out)
    );
}
