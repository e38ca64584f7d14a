//! The engine (`prune`) against LocalStack, at the seams a front end cannot reach: between the
//! last check and the delete, and around the journal.

use crate::common::deploy_seconds_apart;
use audit::{Record, Status};
use bucket::testkit::{all_keys, fresh_bucket, put_many};
use bucket::{Bucket, Progress};
use prune::{ApplyContext, Journal, PolicySpec, Refusal, ScanSettings};
use std::sync::{Arc, Mutex};
use std::time::Duration;

fn settings() -> ScanSettings {
    ScanSettings {
        live_pointer: None,
        live_from: None,
        inventory: None,
        concurrency: 4,
    }
}

fn policy(retain: u64) -> retention::Policy {
    PolicySpec {
        retain: Some(retain),
        ..Default::default()
    }
    .build()
    .unwrap()
}

/// Remembers what was journalled; `begin` and `finish` can be made to fail.
#[derive(Default)]
struct Recorder {
    begun: Mutex<Vec<Record>>,
    finished: Mutex<Vec<Record>>,
    fail_begin: bool,
    fail_finish: bool,
}

impl Journal for Recorder {
    fn begin(&self, r: &Record) -> Result<Option<i64>, String> {
        if self.fail_begin {
            return Err("disk I/O error".into());
        }
        self.begun.lock().unwrap().push(r.clone());
        Ok(Some(1))
    }
    fn finish(&self, r: &Record) -> Result<(), String> {
        if self.fail_finish {
            return Err("database is locked".into());
        }
        self.finished.lock().unwrap().push(r.clone());
        Ok(())
    }
}

fn ctx(journal: Arc<Recorder>) -> ApplyContext {
    ApplyContext {
        via: None,
        who: "tester@host".into(),
        source: "cli",
        concurrency: 4,
        progress: Arc::new(Progress::default()),
        journal,
        notifier: prune::Notifier::default(),
        lifecycle_over: None,
        require_lease: false,
    }
}

async fn two_old_one_new(hint: &str) -> Bucket {
    let b = fresh_bucket(hint).await;
    deploy_seconds_apart(&b, &["release-6", "release-7", "release-8"]).await;
    b
}

#[tokio::test]
async fn a_deployment_re_synced_after_the_plan_is_deleted_whole_or_not_at_all() {
    // old-a/ of 50 files; `aws s3 sync` re-uploads the 3 that changed between plan and delete.
    let b = fresh_bucket("engine-resync").await;
    let files: Vec<String> = (0..50).map(|n| format!("old-a/f{n:02}.js")).collect();
    put_many(&b, files.clone(), &[]).await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    deploy_seconds_apart(&b, &["old-b", "new"]).await;
    let planned = prune::scan_and_plan(&b, &policy(1), &settings())
        .await
        .unwrap();
    let checked = prune::check(planned, None).unwrap();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    put_many(&b, files[..3].to_vec(), &[]).await;
    let journal = Arc::new(Recorder::default());
    let report = prune::apply(checked, ctx(journal.clone())).await.unwrap();
    let left = all_keys(&b).await;
    let old_a = left.iter().filter(|k| k.starts_with("old-a/")).count();
    assert_eq!(old_a, 50, "not 47 deleted and 3 kept: a broken site");
    assert!(left.iter().all(|k| !k.starts_with("old-b/")), "{left:?}");
    let r = &report.record;
    let deleted: Vec<&str> = r.deleted.iter().map(|d| d.id.as_str()).collect();
    assert_eq!(deleted, vec!["old-b"]);
    assert_eq!(r.deleted_objects, 2);
    assert_eq!(r.changed.len(), 1);
    assert_eq!(r.changed[0].deployment, "old-a");
    assert!(
        r.changed[0]
            .reason
            .contains("3 objects newer than the plan"),
        "{}",
        r.changed[0].reason
    );
    assert!(r.left_changed() && r.skipped.is_empty());
    assert_eq!(r.status, Status::Finished, "left whole on purpose");
}

/// The front end's record is begun once, as `started`, and the report survives a finish that
/// fails. (That nothing is deleted before it is begun is held by
/// `a_run_whose_own_log_cannot_begin_deletes_nothing…`: a record begun with a copy made before
/// the deleting says nothing of the order.)
#[tokio::test]
async fn the_record_is_begun_once_and_the_report_survives_a_failed_finish() {
    let b = two_old_one_new("engine-journal").await;
    let planned = prune::scan_and_plan(&b, &policy(2), &settings())
        .await
        .unwrap();
    let checked = prune::check(planned, None).unwrap();
    let journal = Arc::new(Recorder {
        fail_finish: true,
        ..Default::default()
    });
    let report = prune::apply(checked, ctx(journal.clone())).await.unwrap();
    let begun = journal.begun.lock().unwrap().clone();
    assert_eq!(begun.len(), 1);
    assert_eq!(begun[0].status, Status::Started);
    assert_eq!(report.record.status, Status::Finished);
    assert_eq!(report.record.deleted_objects, 2);
    assert_eq!(report.journal_error.as_deref(), Some("database is locked"));
}

/// A stop asked before the run starts sends nothing and says `interrupted`. (A stop with
/// requests in flight is held by the CLI's SIGTERM test in `safety.rs`.)
#[tokio::test]
async fn a_stop_before_the_run_starts_sends_nothing_and_says_so() {
    let b = fresh_bucket("engine-stop").await;
    deploy_seconds_apart(&b, &["a", "b", "c"]).await;
    let planned = prune::scan_and_plan(&b, &policy(1), &settings())
        .await
        .unwrap();
    let checked = prune::check(planned, None).unwrap();
    let journal = Arc::new(Recorder::default());
    let c = ctx(journal.clone());
    c.progress.request_stop();
    let report = prune::apply(checked, c).await.unwrap();
    assert_eq!(report.record.status, Status::Interrupted);
    assert_eq!(report.record.deleted_objects, 0);
    assert!(report.record.deleted.is_empty());
    assert_eq!(all_keys(&b).await.len(), 6);
    assert_eq!(
        journal.finished.lock().unwrap()[0].status,
        Status::Interrupted
    );
}

#[tokio::test]
async fn every_re_plan_runs_the_blocking_checks_even_when_the_set_matches() {
    let b = two_old_one_new("engine-blocks").await;
    let with_pointer = ScanSettings {
        live_pointer: Some("live.txt".into()),
        ..settings()
    };
    put_many(&b, ["live.txt".into()], &[]).await;
    // the pointer's body is its key ("live.txt"), which names no deployment: blocked
    let planned = prune::scan_and_plan(&b, &policy(1), &with_pointer)
        .await
        .unwrap();
    let confirmed = planned.plan.deletion_set();
    match prune::check(planned, Some(&confirmed)) {
        Err(Refusal::Blocked(blocks)) => assert_eq!(blocks.len(), 1),
        other => panic!("expected a block, got {other:?}"),
    }
    assert_eq!(all_keys(&b).await.len(), 7);
}

/// The bucket's journal holds the run's start before the front end's own log is written; when
/// that log then fails, nothing is deleted, and the bucket's journal says the run ended failed
/// (not "started" for ever, as a run still going or dead would show).
#[tokio::test]
async fn a_run_whose_own_log_cannot_begin_deletes_nothing_and_its_journal_says_it_failed() {
    let b = two_old_one_new("engine-begin").await;
    let before = all_keys(&b).await;
    let planned = prune::scan_and_plan(&b, &policy(1), &settings())
        .await
        .unwrap();
    let checked = prune::check(planned, None).unwrap();
    let journal = Arc::new(Recorder {
        fail_begin: true,
        ..Default::default()
    });
    let refused = prune::apply(checked, ctx(journal)).await;
    assert!(refused.is_err(), "the run cannot be recorded: it fails");
    assert_eq!(all_keys(&b).await, before, "nothing deleted");
    let out = crate::common::s3_prune(&["history", b.name(), "--localstack", "--json"]);
    let runs: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(runs.as_array().unwrap().len(), 1, "{runs}");
    assert_eq!(runs[0]["status"], "failed", "{runs}");
    assert_eq!(runs[0]["deleted"], 0, "{runs}");
}
