//! A deployment a run deleted only some of is named so by the CLI's report (from the run's
//! record, whose `partly` the dashboard's report and History show too), never counted deleted.

use crate::common::{
    apply_through, ended_within, endpoint, put_seconds_apart, stdout, terminate, until_in_flight,
};
use bucket::testkit::{all_keys, fresh_bucket};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deployment_the_run_stopped_in_between_its_batches_is_named_partly_deleted() {
    // Before: a stop between a deployment's batches left it half deleted with no word of it —
    // the "Partly deleted" line came from failed keys only, and no key had failed.
    let b = fresh_bucket("partly-stopped").await;
    let old: Vec<String> = (0..1500).map(|i| format!("old/f{i:04}.js")).collect();
    put_seconds_apart(&b, vec![old, vec!["new/index.html".into()]]).await;
    // One batch at a time (1,000 keys), each held 3 s: the stop lands while the first is out.
    let (url, proxy) = endpoint(|p| p.delay_delete = Some(Duration::from_secs(3))).await;
    let child = apply_through(&url, &[b.name(), "1", "--concurrency", "1"]);
    until_in_flight(&proxy.stats).await;
    terminate(&child);
    let out = ended_within(child, 60, "the stopped apply").await;
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let left = all_keys(&b).await;
    let old_left = left.iter().filter(|k| k.starts_with("old/")).count();
    assert_eq!(
        old_left, 500,
        "the batch out finished, the next was never sent"
    );
    let text = stdout(&out);
    assert!(
        text.contains(
            "Partly deleted: old (1000 of 1500 objects; the run stopped before the rest of it \
             was sent). Apply again to delete the rest."
        ),
        "{text}"
    );
    assert!(left.contains(&"new/index.html".to_string()));
}
