//! What the dashboard and the server say to each other, and the server functions themselves.
//! The server functions are thin: the work is in [`crate::server`] (ssr only), where it can be
//! tested without HTTP.

use chrono::{DateTime, Utc};
use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use retention::{DateSource, DeploymentId, Inventory};
use serde::{Deserialize, Serialize};

/// A bucket the server was started with (`--bucket NAME[/PREFIX]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BucketChoice {
    /// `NAME` or `NAME/PREFIX`: what goes into the URL.
    pub key: String,
    pub name: String,
    pub prefix: String,
}

/// One scan of a bucket, as the browser plans over it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScanView {
    pub bucket: BucketChoice,
    pub buckets: Vec<BucketChoice>,
    pub endpoint: String,
    pub date_source: DateSource,
    pub inventory: Inventory,
    pub scanned_at: DateTime<Utc>,
    /// The server's clock when this answer was made: the preview's "now", so the page renders
    /// the same on the server and in the browser.
    pub now: DateTime<Utc>,
    /// The blast-radius guard the server applies (`--max-delete`), previewed too.
    pub max_delete: u64,
    /// Started with `--read-only`: previews only.
    pub read_only: bool,
    pub live_pointer: Option<String>,
    /// The scheduled job's policy, when the server was told about it: the page forecasts it.
    pub schedule: Option<Schedule>,
}

/// A scheduled run's policy (`serve --schedule … --schedule-retain … --schedule-min-days …`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Schedule {
    /// As EventBridge Scheduler spells it, e.g. `cron(0 3 * * ? *)`; shown, not interpreted.
    pub expression: String,
    pub retain: u64,
    pub min_days: Option<u64>,
}

/// What the user confirmed in the dialog.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApplyRequest {
    pub bucket: String,
    pub retain: u64,
    pub min_days: Option<u64>,
    /// The deletion set the user saw: (id, objects, bytes, newest LastModified).
    pub confirmed: Vec<(DeploymentId, u64, u64, DateTime<Utc>)>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ApplyOutcome {
    /// Deleting in the background; poll [`apply_status`].
    Started { job: u64 },
    /// A fresh scan no longer yields what the user confirmed: nothing was deleted.
    Changed { message: String },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailedKey {
    pub key: String,
    pub error: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplyReport {
    pub bucket: String,
    pub deleted_deployments: u64,
    pub deleted_objects: u64,
    pub failed: Vec<FailedKey>,
    pub duration_ms: u64,
    /// The audit record of this run, when it was written.
    pub audit_id: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobStatus {
    pub deployments_done: u64,
    pub deployments_total: u64,
    pub objects_done: u64,
    pub objects_total: u64,
    pub report: Option<ApplyReport>,
}

/// Scans (or returns the cached scan of) one of the configured buckets; `None` = the first.
#[server(input = Json, endpoint = "scan_bucket")]
pub async fn scan_bucket(bucket: Option<String>, rescan: bool) -> Result<ScanView, ServerFnError> {
    let state = crate::server::state()?;
    state
        .scan_view(bucket.as_deref(), rescan)
        .await
        .map_err(ServerFnError::new)
}

/// Re-scans, re-plans and, only if the result is exactly what the user confirmed, starts
/// deleting.
#[server(input = Json, endpoint = "start_apply")]
pub async fn start_apply(request: ApplyRequest) -> Result<ApplyOutcome, ServerFnError> {
    let state = crate::server::state()?;
    let user = crate::server::current_user().await;
    state
        .start_apply(request, &user)
        .await
        .map_err(ServerFnError::new)
}

#[server(input = Json, endpoint = "apply_status")]
pub async fn apply_status(job: u64) -> Result<JobStatus, ServerFnError> {
    let state = crate::server::state()?;
    state.job_status(job).map_err(ServerFnError::new)
}

/// Pins (or unpins) a deployment in the bucket, with a reason, as the signed-in user.
#[server(input = Json, endpoint = "set_pin")]
pub async fn set_pin(
    bucket: String,
    id: String,
    reason: String,
    pin: bool,
) -> Result<(), ServerFnError> {
    let state = crate::server::state()?;
    let user = crate::server::current_user().await;
    state
        .set_pin(&bucket, &id, &reason, pin, &user)
        .await
        .map_err(ServerFnError::new)
}

/// The newest applies on record, for the History page.
#[server(input = Json, endpoint = "history")]
pub async fn history() -> Result<Vec<audit::Record>, ServerFnError> {
    let state = crate::server::state()?;
    state.history(200).map_err(ServerFnError::new)
}
