//! The dashboard's server side against LocalStack: what the #[server] functions call.
#![cfg(feature = "ssr")]

use app::server::{parse_bucket_arg, AppState, ServeConfig};
use app::wire::{ApplyOutcome, ApplyRequest};
use bucket::testkit::{all_keys, fresh_bucket, localstack, put_many, remove_keys};
use bucket::Bucket;
use retention::{DateSource, Policy, Retain};
use std::sync::{Arc, Mutex};
use std::time::Duration;

mod apply;
mod approval;
mod held;
mod history;
mod overview;
mod scan;
mod shutdown;

async fn seeded(hint: &str, ids: &[&str]) -> Bucket {
    let b = fresh_bucket(hint).await;
    for (i, id) in ids.iter().enumerate() {
        // meta dates: i days apart, newest first, no waiting for LastModified to tick
        let at = (chrono::Utc::now() - chrono::Duration::days(i as i64)).to_rfc3339();
        put_many(
            &b,
            [format!("{id}/index.html"), format!("{id}/app.css")],
            &[("deployed-at", &at)],
        )
        .await;
    }
    b
}

fn state_for(b: &Bucket) -> Arc<AppState> {
    state_with(b, None)
}

/// `lifecycle_over`: as `serve --via-lifecycle --lifecycle-threshold N`.
fn state_with(b: &Bucket, lifecycle_over: Option<u64>) -> Arc<AppState> {
    Arc::new(AppState::new(config(b, lifecycle_over)))
}

fn statuses(bodies: &Mutex<Vec<serde_json::Value>>) -> Vec<String> {
    bodies
        .lock()
        .unwrap()
        .iter()
        .filter(|b| b["kind"] == "approval")
        .map(|b| b["status"].as_str().unwrap_or_default().to_string())
        .collect()
}

fn config(b: &Bucket, lifecycle_over: Option<u64>) -> ServeConfig {
    ServeConfig {
        connect: localstack(),
        buckets: vec![parse_bucket_arg(b.name()).unwrap()],
        date_source: DateSource::Meta("deployed-at".into()),
        concurrency: 8,
        live_pointer: None,
        live_from: None,
        inventory: None,
        max_delete: 100,
        pins: Vec::new(),
        excludes: Vec::new(),
        lifecycle_over,
        read_only: false,
        schedule: None,
        rules: None,
        notifier: prune::Notifier::default(),
        audit: Some(std::sync::Arc::new(
            audit::AuditLog::open(
                &std::env::temp_dir().join(format!("s3p-sf-audit-{}.sqlite", b.name())),
            )
            .unwrap(),
        )),
        approval_over: None,
        approval_over_for: Default::default(),
        approval_key: approval_key(),
    }
}

/// The approval key of every dashboard in these tests.
fn approval_key() -> prune::approval::ApprovalKey {
    prune::approval::ApprovalKey::new(b"the tests' approval key").unwrap()
}

/// What the browser does: plan over the scan it was given, with its `now`.
async fn preview(state: &AppState, bucket: &str, retain: u64) -> ApplyRequest {
    let view = state.scan_view(Some(bucket), false).await.unwrap();
    let mut p = Policy::new(Retain::new(retain).unwrap());
    p.date_source = view.date_source.clone();
    // What the server imposes, as the page lays it on (`dashboard::policy::Imposed`).
    p.pins = view.pins.clone();
    p.excludes = view.excludes.clone();
    let plan = retention::plan(&view.inventory, &p, view.now);
    ApplyRequest {
        bucket: bucket.into(),
        retain,
        min_days: None,
        policy: None,
        confirmed: plan.deletion_set(),
        confirm: bucket.into(),
        undoable: false,
    }
}

/// The whole record of the apply `job` once it ended (the page is sent its report; the
/// record is History's).
async fn report_of(state: &AppState, job: u64) -> audit::Record {
    let id = loop {
        let s = state.job_status(job).unwrap();
        if let Some(r) = s.report {
            break r.id;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let runs = state.history(50).await.unwrap();
    runs.into_iter()
        .find(|r| r.id == id)
        .expect("the run is on record")
}
