//! Any run can be restored from the bucket's journal, even one killed mid-run or whose answers
//! were lost, and only of what it deleted itself.

use super::*;
use crate::proxy::CutAnswers;
use std::sync::atomic::Ordering;

/// S3 carried out a batch's deletes but the answers were lost (500 after the work; the SDK's
/// retries made a second and a third marker per key): the run reports the keys as not known to
/// be deleted (before: "could not be deleted", as if S3 had refused them), and `restore --run`
/// still brings every one of them back, all their markers removed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_deleted_by_a_batch_whose_answer_was_lost_are_restored() {
    let b = fresh_bucket("lost-answer").await;
    b.enable_versioning().await.unwrap();
    deploy(&b, &["a1", "a2"], 5).await;
    let before = all_keys(&b).await;
    let mut p = Proxy::new(0);
    p.lose_delete_answers = true;
    let (url, proxy) = start(p).await;
    let out = Command::new(env!("CARGO_BIN_EXE_s3-prune"))
        .args(["apply", b.name(), "1", "--localstack", "--yes"])
        .env("AWS_ENDPOINT_URL", &url)
        .env("S3_PRUNE_AUDIT_DB", audit_db())
        .stdin(Stdio::null())
        .output()
        .expect("running s3-prune");
    assert!(!out.status.success(), "its keys are reported failed");
    let said = stdout(&out);
    crate::common::assert_contains(
        &said,
        "not known whether deleted: 5 objects (a re-run deletes what is left):",
    );
    crate::common::assert_contains(&said, "not known whether S3 carried it out");
    assert!(!said.contains("could not be deleted"), "{said}");
    assert!(
        proxy
            .stats
            .internal
            .load(std::sync::atomic::Ordering::Relaxed)
            > 1
    );
    assert_eq!(all_keys(&b).await.len(), 5, "yet S3 deleted a1");
    let id = json(&history_elsewhere(&b))[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    restore_elsewhere_brings_back(&b, &id, &before).await;
}

/// A versioned bucket's old deployment of 60 keys deleted through a proxy that cuts the
/// DeleteObjects answers short (`cut`, Content-Length to match); then `restore --run` must
/// bring back every object. Returns the apply's exit code and JSON.
async fn apply_with_answers_cut(hint: &str, cut: CutAnswers) -> (i32, serde_json::Value) {
    let b = fresh_bucket(hint).await;
    b.enable_versioning().await.unwrap();
    deploy(&b, &["a1", "a2"], 60).await;
    let before = all_keys(&b).await;
    let mut p = Proxy::new(0);
    p.cut_answers = Some(cut);
    let (url, proxy) = start(p).await;
    let out = Command::new(env!("CARGO_BIN_EXE_s3-prune"))
        .args(["apply", b.name(), "1", "--localstack", "--yes", "--json"])
        .env("AWS_ENDPOINT_URL", &url)
        .env("S3_PRUNE_AUDIT_DB", audit_db())
        .stdin(Stdio::null())
        .output()
        .expect("running s3-prune");
    assert!(proxy.stats.answers_cut.load(Ordering::SeqCst) > 0);
    assert_eq!(
        all_keys(&b).await.len(),
        60,
        "S3 deleted a1: {}",
        stdout(&out)
    );
    let id = json(&history_elsewhere(&b))[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    restore_elsewhere_brings_back(&b, &id, &before).await;
    (out.status.code().unwrap_or(-1), json(&out))
}

/// A DeleteObjects answer cut in half once, its root never closed: before, it parsed, the run
/// said all 60 deleted with the markers of only half, and `restore --run` brought back half.
/// Now it is refused as cut short and sent again; the run is whole and restorable.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delete_answer_cut_short_once_is_retried_and_the_run_restored_whole() {
    let (code, v) = apply_with_answers_cut("cut-once", CutAnswers::deletes(1)).await;
    assert_eq!(code, 0, "the second answer was whole: {v}");
    assert_eq!(v["deleted_objects"], 60, "{v}");
}

/// Every DeleteObjects answer cut short: no answer is used, every key is reported as not known
/// to be deleted (never as deleted), and `restore --run` looks for their markers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_of_delete_answers_always_cut_short_are_not_reported_deleted() {
    let (code, v) = apply_with_answers_cut("cut-always", CutAnswers::deletes(u64::MAX)).await;
    assert_ne!(code, 0, "{v}");
    assert_eq!(v["deleted_objects"], 0, "{v}");
    let failed = v["failed"].as_array().unwrap();
    assert_eq!(failed.len(), 60, "{v}");
    assert!(failed.iter().all(|f| f["error"]
        .as_str()
        .unwrap()
        .contains("not known whether S3 carried it out")));
}

/// A verbose DeleteObjects answer that lost half its entries yet is whole XML: the keys it
/// does not name are reported as not known to be deleted, and restored with the rest.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_a_delete_answer_leaves_out_are_not_reported_deleted() {
    let (code, v) = apply_with_answers_cut("cut-closed", CutAnswers::deletes(1).closed()).await;
    assert_ne!(code, 0, "{v}");
    let failed = v["failed"].as_array().unwrap();
    assert_eq!(failed.len(), 30, "{v}");
    assert!(failed.iter().all(|f| f["error"]
        .as_str()
        .unwrap()
        .contains("not known whether S3 carried it out")));
    assert_eq!(v["deleted_objects"], 30, "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_apply_killed_mid_run_is_restored_from_the_bucket_journal() {
    let b = fresh_bucket("kill-restore").await;
    b.enable_versioning().await.unwrap();
    deploy(&b, &["k1", "k2", "k3"], 600).await;
    let before = all_keys(&b).await;
    // Each batch is held 8 s more before it is sent on: the history read below (a process of
    // its own) and the kill land while the second waits, however loaded the machine (with every
    // request 300 ms slower only, the run once ended first, in a run of every test at once).
    let mut p = Proxy::new(0);
    p.delay_all = Some(Duration::from_millis(300));
    p.delay_delete = Some(Duration::from_secs(8));
    let (url, _proxy) = start(p).await;
    let mut apply = apply_via(&url, &b, "1", 1, &[]);
    until("the first deletes", || async {
        all_keys(&b).await.len() < before.len()
    })
    .await;
    let going = json(&history_elsewhere(&b));
    assert_eq!(going[0]["status"], "started", "{going}");
    assert_eq!(going[0]["running"], true, "it holds the lease: {going}");
    apply.kill().expect("kill -9");
    let _ = apply.wait();
    settled(&b).await;
    assert!(
        all_keys(&b).await.len() < before.len(),
        "it deleted something"
    );

    // Another machine: another audit log, and only the bucket to go by.
    let out = history_elsewhere(&b);
    assert!(out.status.success(), "{}", stderr(&out));
    let runs = json(&out);
    let run = &runs[0];
    assert_eq!(run["status"], "started", "killed: no end on record: {runs}");
    // Its lease is still in the bucket, but its process is gone from this machine: it died.
    assert_eq!(run["running"], false, "{runs}");
    let text = s3_prune(&[
        "history",
        b.name(),
        "--localstack",
        "--audit-db",
        elsewhere().to_str().unwrap(),
    ]);
    crate::common::assert_contains(&stdout(&text), "died");
    crate::common::assert_contains(
        &stdout(&text),
        &format!("s3-prune restore {} --run", b.name()),
    );
    assert_eq!(run["source"], "cli");
    for field in ["id", "who", "started", "deleted"] {
        assert!(!run[field].is_null(), "history names {field}: {runs}");
    }
    let id = run["id"].as_str().unwrap().to_string();
    // The killed run's lease is still in the bucket: its process is gone, so the restore on
    // this host takes it over at once.
    assert!(lease_taken(&b).await);

    restore_elsewhere_brings_back(&b, &id, &before).await;
    let runs = json(&history_elsewhere(&b));
    assert_eq!(
        runs[0]["restore_of"],
        id.as_str(),
        "the restore is on record too: {runs}"
    );
}

/// Killed with batches answered by S3 and not yet by the run, a run's journal names no key of
/// them: only its folders, written before its first delete. `restore --run` finds what it
/// deleted there (the keys whose current version is a delete marker made since it began) and
/// brings back every object.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_apply_killed_with_batches_in_flight_is_restored_from_its_folders() {
    let b = fresh_bucket("kill-grouped").await;
    b.enable_versioning().await.unwrap();
    deploy(&b, &["g1", "g2", "g3", "g4"], 500).await;
    let before = all_keys(&b).await;
    // Each DeleteObjects answer is held 5 s after S3 carried it out: the kill lands while
    // batches are answered by S3 and not yet by the run, however long the listing below takes
    // on a loaded machine.
    let mut p = Proxy::new(0);
    p.delay_all = Some(Duration::from_millis(400));
    p.hold_delete_answers = Some(Duration::from_secs(5));
    let (url, _proxy) = start(p).await;
    let mut apply = apply_via(&url, &b, "1", 16, &[]);
    // Batches of 100 keys (1,500 doomed in 16 slots): more than 100 gone means several
    // batches went, their answers still held.
    until("deletes past the first batch", || async {
        all_keys(&b).await.len() < before.len() - 100
    })
    .await;
    apply.kill().expect("kill -9");
    let _ = apply.wait();
    let parts = keys_under(&b, ".s3-prune/runs/").await;
    assert!(
        parts.iter().any(|p| p.ends_with("/folders.json"))
            && !parts.iter().any(|p| p.contains("/intents-")),
        "the run's folders on record, no keys: {parts:?}"
    );
    // What its answers recorded is less than what it deleted: the rest is found by date.
    let mut recorded = 0;
    for p in parts.iter().filter(|p| p.contains("/answers-")) {
        let body: serde_json::Value =
            serde_json::from_slice(&object_body(&b, p).await.unwrap()).unwrap();
        for a in body["answers"].as_array().unwrap() {
            recorded += a["outcome"]["markers"].as_array().map_or(0, Vec::len);
        }
    }
    settled(&b).await;
    let gone = before.len() - all_keys(&b).await.len();
    assert!(
        recorded < gone,
        "some deletes have no answer on record: {recorded} of {gone}"
    );
    let runs = json(&history_elsewhere(&b));
    assert_eq!(runs[0]["status"], "started", "killed mid-run: {runs}");

    let id = runs[0]["id"].as_str().unwrap().to_string();
    restore_elsewhere_brings_back(&b, &id, &before).await;
}

/// Stopped while its batches waited for its start to be on record, a run sent none of them, and
/// its journal says so: a key of its folders that someone else deletes afterwards is not the
/// run's to bring back — `restore --run` leaves it deleted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restoring_a_stopped_run_leaves_what_others_deleted_of_its_unsent_batches() {
    let (b, child, proxy) = waiting_for_the_start("stopped-unsent", true).await;
    crate::common::terminate(&child);
    let out = finish(child);
    let report = json(&out);
    assert_eq!(report["audit"]["status"], "interrupted", "{report}");
    assert_eq!(
        proxy.stats.deleted_keys.lock().unwrap().len(),
        0,
        "nothing sent"
    );
    let run = report["audit"]["run"].as_str().unwrap().to_string();
    // Someone else deletes a key the run had meant to delete (its folder is on record).
    remove_keys(&b, ["s1/f0000.js".to_string()]).await;
    let db = elsewhere();
    let out = s3_prune(&[
        "restore",
        b.name(),
        "--run",
        &run,
        "--localstack",
        "--audit-db",
        db.to_str().unwrap(),
    ]);
    // The run deleted nothing: there is nothing of it to restore.
    assert!(!out.status.success(), "{}", stdout(&out));
    assert!(
        stderr(&out).contains("nothing to restore"),
        "{}",
        stderr(&out)
    );
    let keys = all_keys(&b).await;
    assert!(
        !keys.iter().any(|k| k == "s1/f0000.js"),
        "restore brought back a key the run never deleted: {}",
        stdout(&out)
    );
    assert_eq!(keys.len(), 599, "the rest untouched");
}

/// A run on a bucket whose versioning was suspended deleted for good (a delete overwrites the
/// "null" version): killed, its batches have no answers, and the "null" markers it left would
/// be found in its folders by time. Restore refuses it, rather than remove those markers, bring
/// nothing back (or an older version of a key) and report the keys restored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_run_that_left_no_undo_is_not_restored() {
    let b = fresh_bucket("kill-suspended").await;
    b.enable_versioning().await.unwrap();
    bucket::testkit::suspend_versioning(&b).await;
    deploy(&b, &["s1", "s2", "s3"], 600).await;
    let before = all_keys(&b).await;
    // Each batch is held 3 s more before it is sent on: the kill lands while the second waits,
    // however long the listing that sees the first batch's deletes takes on a loaded machine
    // (with every request 300 ms slower only, the run could end first).
    let mut p = Proxy::new(0);
    p.delay_all = Some(Duration::from_millis(300));
    p.delay_delete = Some(Duration::from_secs(3));
    let (url, _proxy) = start(p).await;
    let mut apply = apply_via(&url, &b, "1", 1, &[]);
    kill_after_first_deletes(&b, &mut apply, before.len()).await;
    let left = all_keys(&b).await;
    assert!(left.len() < before.len(), "it deleted something");
    let runs = json(&history_elsewhere(&b));
    assert_eq!(runs[0]["status"], "started", "killed: {runs}");
    let id = runs[0]["id"].as_str().unwrap().to_string();
    let out = s3_prune(&[
        "restore",
        b.name(),
        "--run",
        &id,
        "--localstack",
        "--audit-db",
        elsewhere().to_str().unwrap(),
    ]);
    assert!(!out.status.success(), "{}", stdout(&out));
    crate::common::assert_contains(&stderr(&out), "no delete markers");
    assert_eq!(all_keys(&b).await, left, "the restore touched nothing");
}

/// A `--via-lifecycle` run killed while deleting by requests: its handover of the big
/// deployment is on record in its own part (the end record, which held it, was never
/// written), so `restore --run` withdraws that rule too, beside bringing back what was deleted
/// (it brought back the small ones and left the rule: S3 expired big a day later).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_run_that_handed_a_deployment_to_lifecycle_is_restored_rule_and_all() {
    let b = fresh_bucket("kill-handed").await;
    b.enable_versioning().await.unwrap();
    put_many(&b, (0..700).map(|k| format!("big/f{k:04}.js")), &[]).await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    deploy(&b, &["s1", "s2", "s3", "s4"], 300).await;
    let before = all_keys(&b).await;
    let over = ["--via-lifecycle", "--lifecycle-threshold", "500"];
    let mut apply = slow_apply_with(&b, "1", Duration::from_millis(300), 1, &over).await;
    kill_after_first_deletes(&b, &mut apply, before.len()).await;
    assert_eq!(
        crate::lifecycle::rules(&b).await.len(),
        1,
        "big was handed over"
    );
    let runs = json(&history_elsewhere(&b));
    assert_eq!(runs[0]["status"], "started", "killed: {runs}");
    let id = runs[0]["id"].as_str().unwrap().to_string();
    restore_elsewhere_brings_back(&b, &id, &before).await;
    assert_eq!(
        crate::lifecycle::rules(&b).await,
        vec![],
        "S3 will not expire big"
    );
}

/// A run killed after its lifecycle rules are written but before anything else is on record
/// (S3 not yet showing the rules, the run waiting for them) is restored rule and all: what it is
/// about to hand over goes into its journal before the rules are written. (Before: the restore
/// refused, "no delete markers", and S3 would have expired `big` a day later.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_killed_while_its_handover_settles_is_restored_rule_and_all() {
    let b = fresh_bucket("kill-handing").await;
    b.enable_versioning().await.unwrap();
    put_many(&b, (0..700).map(|k| format!("big/f{k:04}.js")), &[]).await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    deploy(&b, &["s1"], 10).await;
    let before = all_keys(&b).await;
    // Every read of the lifecycle rules after the write answers what it did before: the run
    // waits for S3 to show its rule (up to 30 s) with nothing more on record.
    let mut p = Proxy::new(0);
    p.stale_lifecycle = Some(10_000);
    let (url, _proxy) = start(p).await;
    let over = ["--via-lifecycle", "--lifecycle-threshold", "500"];
    let mut apply = apply_via(&url, &b, "1", 1, &over);
    until("big's rule", || async {
        crate::lifecycle::rules(&b).await.len() == 1
    })
    .await;
    apply.kill().expect("kill -9");
    let _ = apply.wait();
    let runs = json(&history_elsewhere(&b));
    assert_eq!(runs[0]["status"], "started", "killed: {runs}");
    let id = runs[0]["id"].as_str().unwrap().to_string();
    restore_elsewhere_brings_back(&b, &id, &before).await;
    assert_eq!(
        crate::lifecycle::rules(&b).await,
        vec![],
        "S3 will not expire big"
    );
}

/// Waits until `apply` deleted something of `b` (fewer than `before` keys), then kills it (-9).
async fn kill_after_first_deletes(b: &Bucket, apply: &mut Child, before: usize) {
    until("the first deletes", || async {
        all_keys(b).await.len() < before
    })
    .await;
    apply.kill().expect("kill -9");
    let _ = apply.wait();
    settled(b).await;
}

/// Returns once `b`'s keys stop changing: a batch the server was deleting when the process
/// died goes on to its end (LocalStack deletes a batch's keys one by one, and the proxy may
/// still forward a held one), so what a killed run left is read, and restored, after that.
async fn settled(b: &Bucket) {
    let mut last = all_keys(b).await.len();
    loop {
        tokio::time::sleep(Duration::from_millis(700)).await;
        let now = all_keys(b).await.len();
        if now == last {
            break;
        }
        last = now;
    }
}
