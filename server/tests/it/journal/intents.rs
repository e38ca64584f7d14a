//! Runs written before 2026-12-08 journalled each batch's keys before sending it (intents):
//! such a run killed mid-way is still restored from them, and only of what it deleted itself.
//! Each case fabricates the killed run as those versions wrote it.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restoring_a_killed_run_leaves_what_a_later_run_deleted_of_its_unsent_batches() {
    // A run killed with two batches on record and no answers: x0's, which went (its keys are
    // gone), and x1's, which it never sent; the next apply deletes x1. Restoring the killed
    // run brings x0 back and leaves x1: its markers are the later run's (on its record), and
    // that run's own restore brings x1 back.
    let b = fresh_bucket("killed-then-next").await;
    b.enable_versioning().await.unwrap();
    deploy(&b, &["x0", "x1", "x2", "x3"], 5).await;
    let before = all_keys(&b).await;
    let began = chrono::Utc::now() - chrono::Duration::seconds(30);
    let (killed, keys) = killed_run(&b, began, &["x0", "x1"]).await;

    // Batch 1 went: x0's keys are deleted (markers made since the run began).
    remove_keys(&b, keys.iter().map(|k| format!("x0/{k}"))).await;
    let next = apply_json(&b, "2", &[]);
    let next_run = next["audit"]["run"].as_str().unwrap().to_string();
    assert!(!all_keys(&b).await.iter().any(|k| k.starts_with("x1/")));

    let db = elsewhere();
    let restore = |run: &str| {
        s3_prune(&[
            "restore",
            b.name(),
            "--run",
            run,
            "--localstack",
            "--audit-db",
            db.to_str().unwrap(),
        ])
    };
    let out = restore(&killed.to_string());
    let now = all_keys(&b).await;
    assert_eq!(
        now.iter().filter(|k| k.starts_with("x0/")).count(),
        5,
        "what the killed run deleted is back: {}",
        stdout(&out)
    );
    assert!(
        !now.iter().any(|k| k.starts_with("x1/")),
        "the killed run's restore undid the next run: {}\n{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(
        out.status.success(),
        "x1 is not this run's to restore, so nothing is left undone: {}\n{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(
        stdout(&out).contains("5 objects the run never deleted: a later run did"),
        "it says why x1 stays: {}",
        stdout(&out)
    );
    let out = restore(&next_run);
    assert!(out.status.success(), "{}\n{}", stdout(&out), stderr(&out));
    assert_eq!(
        all_keys(&b).await,
        before,
        "the next run's own restore brings x1 back"
    );
}

/// A killed run of a host whose clock ran 8 minutes ahead: its markers are dated by S3's
/// clock, before the run's `started_at` by the host's. The run's start is read by S3's clock
/// (when S3 wrote start.json), so its own markers are still its own and come back (they were
/// left as "made before the run").
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_run_of_a_host_whose_clock_runs_ahead_is_restored() {
    let b = fresh_bucket("clock-ahead").await;
    b.enable_versioning().await.unwrap();
    deploy(&b, &["y0", "y1"], 5).await;
    let before = all_keys(&b).await;
    let began = chrono::Utc::now() + chrono::Duration::minutes(8);
    let (killed, keys) = killed_run(&b, began, &["y0"]).await;
    // Batch 1 went: y0's keys are deleted now, by S3's clock.
    remove_keys(&b, keys.iter().map(|k| format!("y0/{k}"))).await;
    restore_elsewhere_brings_back(&b, &killed.to_string(), &before).await;
}

/// A run of `b` killed after writing its start (begun at `began` by its host's clock) and one
/// intent part, as runs before 2026-12-08 wrote them: batch N+1 deletes the keys (`deploy`'s
/// five) of deployment `ids[N]`. Nothing is deleted here. Returns the run and the keys, under
/// each deployment.
async fn killed_run(
    b: &Bucket,
    began: chrono::DateTime<chrono::Utc>,
    ids: &[&str],
) -> (bucket::RunId, Vec<String>) {
    let keys: Vec<String> = (0..5).map(|f| format!("f{f:04}.js")).collect();
    let killed = killed_start(b, began).await;
    let place = bucket::JournalPlace::of(b);
    let batches: Vec<serde_json::Value> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| {
            serde_json::json!({ "n": i + 1, "deployments": [
                { "deployment": id, "under": format!("{id}/"), "keys": keys }
            ]})
        })
        .collect();
    let part = format!("intents-000001-{:06}.json", ids.len());
    let intents = serde_json::json!({ "batches": batches });
    place
        .write(&killed, &part, serde_json::to_vec(&intents).unwrap())
        .await
        .unwrap();
    (killed, keys)
}

/// A killed run of a host 15 min ahead, with a batch on record it never sent; a later apply
/// (a right clock: its id is lower) deletes those keys. Restoring the killed run leaves them
/// deleted: the later runs are chosen by S3's clock too, so the later apply's markers are told
/// apart (they were taken for the killed run's and its deletions undone).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_run_of_a_host_ahead_leaves_what_a_later_run_deleted() {
    let b = fresh_bucket("ahead-later").await;
    b.enable_versioning().await.unwrap();
    deploy(&b, &["z0", "z1", "z2"], 5).await;
    let began = chrono::Utc::now() + chrono::Duration::minutes(15);
    let (killed, _) = killed_run(&b, began, &["z0"]).await;
    let next = apply_json(&b, "2", &[]);
    assert_eq!(next["audit"]["deleted"][0]["id"], "z0", "{next}");
    let out = s3_prune(&[
        "restore",
        b.name(),
        "--run",
        &killed.to_string(),
        "--localstack",
        "--audit-db",
        elsewhere().to_str().unwrap(),
    ]);
    assert!(
        !all_keys(&b).await.iter().any(|k| k.starts_with("z0/")),
        "the killed run's restore undid the later apply: {}",
        stdout(&out)
    );
}
