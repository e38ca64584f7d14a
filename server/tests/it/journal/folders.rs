//! A run killed before its end, as runs since 2026-12-08 leave it (its start and the folders it
//! may delete from on record, its keys not): restored from its answers, then from its folders —
//! what it deleted there, and nothing a later run or someone else deleted after it. Each case
//! fabricates the killed run (start and folders x0 and x1, no answer: it died before any was
//! written) and deletes x0's keys as it would have.

use super::*;

/// `b` (versioned) with deployments x0–x3 of five keys, and a run killed over folders x0 and x1,
/// begun at `began` by its host's clock (S3 dates its start). Returns the bucket, the run and
/// every key before.
async fn killed_over_x0_x1(
    hint: &str,
    began: chrono::DateTime<chrono::Utc>,
) -> (Bucket, bucket::RunId, Vec<String>) {
    let b = fresh_bucket(hint).await;
    b.enable_versioning().await.unwrap();
    deploy(&b, &["x0", "x1", "x2", "x3"], 5).await;
    let before = all_keys(&b).await;
    let killed = killed_start(&b, began).await;
    let folders = serde_json::json!({ "folders": ["x0", "x1"] });
    bucket::JournalPlace::of(&b)
        .write(
            &killed,
            "folders.json",
            serde_json::to_vec(&folders).unwrap(),
        )
        .await
        .unwrap();
    // It ran a while before it died: what follows is in a later second by S3's clock (a run of
    // its own second cannot be told to be after it, and sets no end to its window).
    tokio::time::sleep(Duration::from_millis(1100)).await;
    (b, killed, before)
}

/// The keys of `before` under folder `d`.
fn under(before: &[String], d: &str) -> Vec<String> {
    let folder = format!("{d}/");
    before
        .iter()
        .filter(|k| k.starts_with(&folder))
        .cloned()
        .collect()
}

/// The next apply, at `retain` with `extra`, that deletes `expected` first.
fn next_apply(b: &Bucket, retain: &str, extra: &[&str], expected: &str) {
    let next = apply_json(b, retain, extra);
    assert_eq!(next["audit"]["deleted"][0]["id"], expected, "{next}");
}

/// After the killed run's restore (`said`: what it answered): x0 is back, x1 is not.
async fn x0_back_x1_not(b: &Bucket, case: &str, said: &str) {
    let now = all_keys(b).await;
    assert_eq!(
        now.iter().filter(|k| k.starts_with("x0/")).count(),
        5,
        "{case}: what the killed run deleted is back: {said}"
    );
    assert!(
        !now.iter().any(|k| k.starts_with("x1/")),
        "{case}: the killed run's restore brought back what it did not delete: {said}"
    );
}

/// Its deletes of x0 land before the next apply, or just after it began (`late`: a run on the
/// killed run's host takes the lease over at once, while S3 still carries out what the killed
/// run sent); the next apply deletes x1. Restoring the killed run brings x0 back and leaves x1:
/// the next run's markers are on its record. (Searched only up to the next run's start, the
/// late deletes stayed deleted.) Its host's clock may run ahead: S3 dates its start.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_run_is_restored_from_its_folders_and_leaves_what_the_next_run_deleted() {
    let now = chrono::Utc::now();
    for (hint, began, late) in [
        ("folders-next", now - chrono::Duration::seconds(30), false),
        ("folders-ahead", now + chrono::Duration::minutes(8), false),
        ("folders-late", now - chrono::Duration::seconds(30), true),
    ] {
        let (b, killed, before) = killed_over_x0_x1(hint, began).await;
        if !late {
            remove_keys(&b, under(&before, "x0")).await;
        }
        // x0 not a deployment of the next run's plan, there or not.
        next_apply(&b, "2", &["--exclude", "x0"], "x1");
        if late {
            // A second after the next run's start at the least: S3 dates to the second.
            tokio::time::sleep(Duration::from_millis(1100)).await;
            remove_keys(&b, under(&before, "x0")).await;
        }
        let out = restore_elsewhere(&b, &killed.to_string());
        assert!(
            out.status.success(),
            "{hint}: {}\n{}",
            stdout(&out),
            stderr(&out)
        );
        x0_back_x1_not(&b, hint, &stdout(&out)).await;
    }
}

/// Checked for restore before the next apply ran (a prompt waiting), and restored after: its
/// folders are searched up to that apply, read again once the restore holds the lease.
/// (Before, the window of the check stood: the apply's deletes in the run's folders were
/// brought back as the killed run's.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_run_checked_before_the_next_apply_is_restored_without_that_applys_deletes() {
    let began = chrono::Utc::now() - chrono::Duration::seconds(30);
    let (b, killed, before) = killed_over_x0_x1("folders-stale", began).await;
    remove_keys(&b, under(&before, "x0")).await;
    let log = audit::AuditLog::open(&elsewhere()).unwrap();
    let todo = prune::check_restore_named(&b, &killed.to_string(), &log, &[])
        .await
        .expect("restorable");
    // While the restore waits for its confirmation, the next apply deletes x1.
    next_apply(&b, "2", &[], "x1");
    let ctx = prune::RestoreContext {
        who: "ops".into(),
        via: None,
        source: "cli",
        journal: std::sync::Arc::new(log),
        notifier: prune::Notifier::default(),
    };
    let done = prune::restore(&b, &killed.to_string(), todo, ctx)
        .await
        .expect("restored");
    x0_back_x1_not(&b, "checked before", &format!("{:?}", done.report)).await;
}

/// What someone deletes in its folders more than a minute after the next run of the bucket
/// began is not the killed run's (it cannot have sent anything that late): its restore leaves
/// it. (Searched with no end, it was brought back with the run's own.) Takes a minute.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_runs_restore_leaves_what_was_deleted_in_its_folders_after_the_next_runs_first_minute(
) {
    let began = chrono::Utc::now() - chrono::Duration::seconds(30);
    let (b, killed, before) = killed_over_x0_x1("folders-until", began).await;
    remove_keys(&b, under(&before, "x0")).await;
    // The next run deletes x2, none of the killed run's folders.
    next_apply(&b, "1", &["--exclude", "x1"], "x2");
    tokio::time::sleep(Duration::from_secs(62)).await;
    // Someone else deletes x1, long after the killed run could have.
    remove_keys(&b, under(&before, "x1")).await;
    let out = restore_elsewhere(&b, &killed.to_string());
    assert!(out.status.success(), "{}\n{}", stdout(&out), stderr(&out));
    x0_back_x1_not(&b, "a minute after", &stdout(&out)).await;
}
