//! A run that is still deleting is not restored: what it deleted so far is not all it will
//! delete, so a restore then would bring back part of it and say it was done.

use super::*;

/// Before: `restore --run ID` checked a running apply's journal (three deployments deleted so
/// far), waited at its prompt while the apply went on to delete eight, then restored the three
/// and exited 0 — five stayed deleted and nothing said so (a reviewer's run under a pty).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_still_deleting_is_refused_by_restore_naming_it() {
    let b = fresh_bucket("restore-running").await;
    b.enable_versioning().await.unwrap();
    deploy(&b, &["r1", "r2", "r3", "r4", "r5"], 300).await;
    let child = slow_apply(&b, "1", Duration::from_millis(300)).await;
    // Its folders are on record, its first batch about to go: the run is under way.
    until("the run's folders", || async {
        keys_under(&b, ".s3-prune/runs/")
            .await
            .iter()
            .any(|k| k.ends_with("/folders.json"))
    })
    .await;
    assert!(lease_taken(&b).await);
    let parts = keys_under(&b, ".s3-prune/runs/").await;
    let run = parts[0]
        .trim_start_matches(".s3-prune/runs/")
        .split('/')
        .next()
        .unwrap()
        .to_string();
    let db = elsewhere();
    let log = audit::AuditLog::open(&db).unwrap();
    let checked = prune::check_restore_named(&b, &run, &log, &[]).await;
    let out = finish(child);
    assert!(out.status.success(), "{}", stderr(&out));
    match checked {
        Err(e) => assert!(e.to_string().contains("is still running"), "{e}"),
        Ok(todo) => panic!(
            "a running run was checked for restore: {:?}",
            todo.deployments()
        ),
    }
    // Once it has ended, it is restored whole.
    let out = s3_prune(&[
        "restore",
        b.name(),
        "--run",
        &run,
        "--localstack",
        "--yes",
        "--audit-db",
        db.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}\n{}", stdout(&out), stderr(&out));
    assert_eq!(
        all_keys(&b)
            .await
            .iter()
            .filter(|k| !k.starts_with(".s3-prune/"))
            .count(),
        1500
    );
}
