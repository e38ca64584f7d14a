//! The overview (and `/metrics`, which reads it): each bucket's row from its own runs.

use super::{config, history::past_run};
use app::server::{parse_bucket_arg, AppState};
use app::wire::RunCount;
use bucket::testkit::fresh_bucket;

#[tokio::test]
async fn a_quiet_buckets_runs_are_shown_however_many_runs_a_busy_one_had_since() {
    // Before: the overview read the newest 100 runs of all buckets together, so 101 runs of a
    // busy bucket left a quiet one's row with no last run, no success and no counts.
    let busy = fresh_bucket("sf-ov-busy").await;
    let quiet = fresh_bucket("sf-ov-quiet").await;
    let mut cfg = config(&busy, None);
    cfg.buckets.push(parse_bucket_arg(quiet.name()).unwrap());
    let log = cfg.audit.clone().unwrap();
    let t0 = chrono::Utc::now() - chrono::Duration::days(1);
    log.append(past_run(&quiet, "cli", t0, 1)).unwrap();
    for i in 0..101 {
        let at = t0 + chrono::Duration::minutes(1 + i);
        log.append(past_run(&busy, "dashboard", at, 0)).unwrap();
    }
    let rows = AppState::new(cfg).overview().await;
    let row = |name: &str| rows.iter().find(|r| r.bucket.name == name).unwrap();
    let last = row(quiet.name()).last_apply.clone().expect("its last run");
    assert_eq!((last.source.as_str(), last.deleted), ("cli", 1));
    assert_eq!(last.at.timestamp_millis(), t0.timestamp_millis());
    let finished = |count| {
        vec![RunCount {
            status: "finished".into(),
            count,
        }]
    };
    assert_eq!(row(quiet.name()).runs, finished(1));
    assert!(
        row(quiet.name())
            .last_successes
            .iter()
            .any(|s| s.source == "cli" && s.at.timestamp_millis() == t0.timestamp_millis()),
        "{:?}",
        row(quiet.name()).last_successes
    );
    // The busy bucket's row reads its newest hundred.
    assert_eq!(row(busy.name()).runs, finished(100));
}
