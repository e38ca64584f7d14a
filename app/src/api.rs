//! The server functions the dashboard calls. Each is thin: the work is in `crate::server`
//! (ssr only), where it can be tested without HTTP; its one error type is turned into a
//! `ServerFnError` here, once.

use crate::wire::codec::Wire;
use crate::wire::{
    ApplyOutcome, ApplyRequest, ApprovalView, HistoryPage, JobStatus, LeaseView, OverviewRow,
    PageStart, Person, RestoreDone, RunDetails, ScanView,
};
#[cfg(feature = "ssr")]
use crate::{
    server::{require, require_in},
    wire::Role,
};
use leptos::prelude::*;
use leptos::server_fn::codec::Json;

/// Scans (or returns the cached scan of) one of the configured buckets; `None` = the first.
#[server(input = Json, output = Wire, endpoint = "scan_bucket")]
pub async fn scan_bucket(bucket: Option<String>, rescan: bool) -> Result<ScanView, ServerFnError> {
    let role = if rescan { Role::Deployer } else { Role::Viewer };
    require_in(bucket.as_deref(), role).await?;
    let state = crate::server::state()?;
    state
        .scan_view(bucket.as_deref(), rescan)
        .await
        .map_err(ServerFnError::from)
}

/// Re-scans, re-plans and, only if the result is exactly what the user confirmed, starts
/// deleting.
#[server(input = Json, output = Wire, endpoint = "start_apply")]
pub async fn start_apply(request: ApplyRequest) -> Result<ApplyOutcome, ServerFnError> {
    let me = require_in(Some(&request.bucket), Role::Deployer).await?;
    let state = crate::server::state()?;
    state
        .start_apply(request, &me)
        .await
        .map_err(ServerFnError::from)
}

/// Who holds the bucket's apply lease now (a run from the CLI, the scheduled job or a
/// dashboard), so the page can say so before anyone opens the Apply dialog.
#[server(input = Json, output = Wire, endpoint = "lease_holder")]
pub async fn lease_holder(bucket: String) -> Result<Option<LeaseView>, ServerFnError> {
    require(Role::Viewer).await?;
    let state = crate::server::state()?;
    state
        .lease_holder(&bucket)
        .await
        .map_err(ServerFnError::from)
}

#[server(input = Json, output = Wire, endpoint = "apply_status")]
pub async fn apply_status(job: u64) -> Result<JobStatus, ServerFnError> {
    require(Role::Viewer).await?;
    let state = crate::server::state()?;
    state.job_status(job).map_err(ServerFnError::from)
}

/// Pins (or unpins) a deployment in the bucket, with a reason, as the signed-in user.
#[server(input = Json, output = Wire, endpoint = "set_pin")]
pub async fn set_pin(
    bucket: String,
    id: String,
    reason: String,
    pin: bool,
) -> Result<(), ServerFnError> {
    let user = require_in(Some(&bucket), Role::Deployer).await?.name;
    let state = crate::server::state()?;
    state
        .set_pin(&bucket, &id, &reason, pin, &user)
        .await
        .map_err(ServerFnError::from)
}

/// A page of the runs on record, summaries only: the newest, or those after `start`.
#[server(input = Json, output = Wire, endpoint = "history")]
pub async fn history(start: Option<PageStart>) -> Result<HistoryPage, ServerFnError> {
    require(Role::Viewer).await?;
    let state = crate::server::state()?;
    state.history_page(start).await.map_err(ServerFnError::from)
}

/// What one run's History row shows once opened (`run`: a record number or a run id).
#[server(input = Json, output = Wire, endpoint = "run_details")]
pub async fn details_of_run(run: String) -> Result<RunDetails, ServerFnError> {
    require(Role::Viewer).await?;
    let state = crate::server::state()?;
    state.run_details(&run).await.map_err(ServerFnError::from)
}

/// Every configured bucket's figures for the start page; `None` when only one is configured
/// (the start page is then that bucket's dashboard).
#[server(input = Json, output = Wire, endpoint = "overview")]
pub async fn overview() -> Result<Option<Vec<OverviewRow>>, ServerFnError> {
    require(Role::Viewer).await?;
    let state = crate::server::state()?;
    if state.bucket_count() < 2 {
        return Ok(None);
    }
    Ok(Some(state.overview().await))
}

/// Undoes run `run` (a versioned bucket's apply) once the user typed the bucket's name.
#[server(input = Json, output = Wire, endpoint = "restore_run")]
pub async fn restore_run(run: String, confirm: String) -> Result<RestoreDone, ServerFnError> {
    require(Role::Viewer).await?;
    let state = crate::server::state()?;
    let key = state.restore_target(&run).await?;
    let me = require_in(Some(&key), Role::Deployer).await?;
    state
        .restore(&run, &confirm, &me)
        .await
        .map(|r| RestoreDone::from(&r))
        .map_err(ServerFnError::from)
}

/// Reads a policy file the user loaded into the rule editor (the TOML parser stays out of the
/// browser's wasm). A mistake in the file is an answer (`Err` with the line and the key), not
/// a failed request.
#[server(input = Json, output = Wire, endpoint = "read_policy")]
pub async fn read_policy(text: String) -> Result<Result<retention::Rules, String>, ServerFnError> {
    require(Role::Viewer).await?;
    Ok(retention::parse_policy(&text).map_err(|e| e.to_string()))
}

/// Who is signed in and their role, for the page's header (the server checks the role on every
/// server function; the page only hides what the role cannot do).
#[server(input = Json, output = Wire, endpoint = "whoami")]
pub async fn whoami() -> Result<Person, ServerFnError> {
    require(Role::Viewer).await
}

/// The newest approval requests of a bucket (`serve --approval-over`).
#[server(input = Json, output = Wire, endpoint = "approvals")]
pub async fn approvals(bucket: String) -> Result<Vec<ApprovalView>, ServerFnError> {
    let me = require(Role::Viewer).await?;
    let state = crate::server::state()?;
    state
        .approvals(&bucket, &me.name)
        .await
        .map_err(ServerFnError::from)
}

/// Decides another deployer's request: approved — once the approver typed the bucket's name
/// (`confirm`), as every apply asks — it runs if it still deletes exactly what they confirmed
/// (`Some`: how it started); refused, it never runs (`None`).
#[server(input = Json, output = Wire, endpoint = "decide_request")]
pub async fn decide_request(
    bucket: String,
    id: String,
    approve: bool,
    confirm: Option<String>,
) -> Result<Option<ApplyOutcome>, ServerFnError> {
    let me = require_in(Some(&bucket), Role::Deployer).await?;
    let state = crate::server::state()?;
    if approve {
        return state
            .approve(&bucket, &id, confirm.as_deref().unwrap_or_default(), &me)
            .await
            .map(Some)
            .map_err(ServerFnError::from);
    }
    state
        .refuse_request(&bucket, &id, &me)
        .await
        .map(|()| None)
        .map_err(ServerFnError::from)
}
