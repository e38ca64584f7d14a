//! `s3-prune lambda`: the scheduled job. Runs as an AWS Lambda function (provided.al2023) with
//! `lambda_runtime`; also chosen automatically when `AWS_LAMBDA_RUNTIME_API` is set.
//!
//! Configuration comes from `S3_PRUNE_*` environment variables. An invocation's event names the
//! bucket only where none is configured, and may only *narrow* the configured policy (a higher
//! RETAIN, more pins, a lower max-delete, a dry run); anything that would delete more, or
//! elsewhere, is refused through `/error`.
//! The work is the engine's (`prune`); this module only gathers the job (`job.rs`) and
//! answers (`answer.rs`).

mod answer;
pub(crate) mod env;
mod job;

pub use job::{Configured, Job};

use anyhow::{anyhow, bail, Context, Result};
use bucket::{Bucket, Progress, Target};
use lambda_runtime::{service_fn, LambdaEvent};
use prune::{Checked, LogJournal, PlanDoc, PolicySpec, ScanSettings};
use serde_json::Value;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// Requests in flight for the scheduled job.
const CONCURRENCY: usize = 16;
/// Stop issuing deletes this long before the invocation's deadline, so the record is written.
const DEADLINE_MARGIN: Duration = Duration::from_secs(20);
/// Give up a delete still waiting for its answer this long before the deadline: the rest is
/// the time to record its keys as not known to be deleted, and the run's end.
const GIVE_UP_MARGIN: Duration = Duration::from_secs(10);
/// Give up webhooks still trying this long before the deadline: the answer (and its metrics
/// line) goes out after them.
const NOTIFY_MARGIN: Duration = Duration::from_secs(3);
const _: () = assert!(GIVE_UP_MARGIN.as_secs() < DEADLINE_MARGIN.as_secs());

/// Handles one invocation: plan, and unless dry run, apply. Errors go to the Runtime API's
/// `/error` (and so to the function's error metric).
pub async fn handle(
    base: &Configured,
    payload: Value,
    who: &str,
    deadline: Option<SystemTime>,
) -> Result<Value> {
    let event = event_job(payload)?;
    base.refuse_other_bucket(&event)?;
    let bucket = open_bucket(base, &event).await?;
    let from_bucket = base.policy_from_bucket(&bucket).await?;
    let base = from_bucket.as_ref().unwrap_or(base);
    let (job, spec) = base.narrowed_by(&event)?;
    let policy = policy_of(&spec)?;
    let planned = prune::scan_and_plan(&bucket, &policy, &scan_settings(&job)?).await?;
    let dry_run = job.dry_run.unwrap_or(false);
    // The plan as a dry run answers it, and as the log shows it (cut as an apply's answer is:
    // a log event of CloudWatch holds at most 256 KB).
    let plan_doc = serde_json::to_value(PlanDoc::new(&planned).dry_run(dry_run))?;
    let logged = || answer::bounded(plan_doc.clone());
    let checked = prune::check(planned, None).map_err(|refusal| {
        tracing::error!(bucket = %bucket.name(), result = %logged(), "refusing to apply");
        anyhow!("{refusal}")
    })?;
    if dry_run {
        tracing::info!(bucket = %bucket.name(), result = %logged(), "dry run: nothing deleted");
        // A kept folder S3 lifecycle will still expire fails a dry run as it fails an apply:
        // before, the dry run answered its plan, so no error metric (the one alarm a dry-run
        // job has) fired while S3 was set to expire what the policy keeps.
        answer::refuse_danger(checked.planned(), "dry run", "nothing was deleted")?;
        return Ok(answer::planned(plan_doc));
    }
    // The scheduler invokes the job asynchronously and keeps no answer: what the plan warns
    // of (an old inventory report, a versioned bucket) is said in the log, or nowhere.
    if plan_doc["warnings"]
        .as_array()
        .is_some_and(|w| !w.is_empty())
    {
        tracing::warn!(
            bucket = %bucket.name(),
            warnings = %plan_doc["warnings"],
            inventory_date = %plan_doc["inventory_date"],
            "the plan warns"
        );
    }
    apply(checked, base, who, deadline).await
}

/// The event as a job: none (`null`) is the configured job unchanged.
fn event_job(payload: Value) -> Result<Job> {
    if payload.is_null() {
        return Ok(Job::default());
    }
    serde_json::from_value(payload).context("the event payload is not an s3-prune job")
}

/// The event's bucket, else the configured one, under the configured prefix.
async fn open_bucket(base: &Configured, event: &Job) -> Result<Bucket> {
    let name = event
        .bucket
        .clone()
        .or(base.job.bucket.clone())
        .ok_or_else(|| anyhow!("no bucket: set S3_PRUNE_BUCKET or \"bucket\" in the event"))?;
    let target = Target::new(&name, base.job.prefix.as_deref().unwrap_or(""))?;
    Ok(bucket::connect(&job::connect_from_env()?, &target).await?)
}

/// The policy, which must keep something: RETAIN or rules.
fn policy_of(spec: &PolicySpec) -> Result<retention::Policy> {
    if spec.retain.is_none() && spec.rules.is_none() {
        bail!(
            "no RETAIN: set S3_PRUNE_RETAIN (or S3_PRUNE_POLICY, S3_PRUNE_POLICY_KEY) or \"retain\" in the event"
        );
    }
    Ok(spec.build()?)
}

/// How the job scans: its live pointer and page, its S3 Inventory report.
fn scan_settings(job: &Job) -> Result<ScanSettings> {
    Ok(ScanSettings {
        live_pointer: job.live_pointer.clone(),
        live_from: job.live_from.clone(),
        inventory: job
            .inventory
            .as_deref()
            .map(str::parse)
            .transpose()
            .map_err(|e: String| anyhow!("S3_PRUNE_INVENTORY: {e}"))?,
        concurrency: CONCURRENCY,
    })
}

/// Deletes what the checked plan dooms, recorded in the log, stopping before the deadline;
/// the answer is the bounded report.
async fn apply(
    checked: Checked,
    base: &Configured,
    who: &str,
    deadline: Option<SystemTime>,
) -> Result<Value> {
    let progress = Arc::new(Progress::default());
    let watchdog = deadline.map(|d| stop_before(d, progress.clone()));
    let notifier = match deadline {
        Some(d) => {
            let left = d.duration_since(SystemTime::now()).unwrap_or_default();
            let until = tokio::time::Instant::now() + left.saturating_sub(NOTIFY_MARGIN);
            base.notifier.until(until)
        }
        None => base.notifier.clone(),
    };
    let ctx = prune::ApplyContext {
        via: None,
        who: who.to_string(),
        source: "lambda",
        concurrency: CONCURRENCY,
        progress,
        journal: Arc::new(LogJournal),
        notifier,
        lifecycle_over: base.lifecycle_over,
        require_lease: false,
    };
    let report = prune::apply(checked, ctx).await;
    if let Some(w) = watchdog {
        w.abort();
    }
    answer::of(&report?)
}

/// Stops issuing deletes [`DEADLINE_MARGIN`] before the invocation's deadline, and gives up
/// those still out [`GIVE_UP_MARGIN`] before it, so the record is completed before Lambda
/// kills the process.
fn stop_before(deadline: SystemTime, progress: Arc<Progress>) -> tokio::task::JoinHandle<()> {
    let until_deadline = deadline
        .duration_since(SystemTime::now())
        .unwrap_or_default();
    progress.end_by(tokio::time::Instant::now() + until_deadline.saturating_sub(GIVE_UP_MARGIN));
    let left = until_deadline.saturating_sub(DEADLINE_MARGIN);
    tokio::spawn(async move {
        tokio::time::sleep(left).await;
        tracing::warn!("the invocation's deadline is near: stopping after the requests in flight");
        progress.request_stop();
    })
}

/// Whether this process runs inside AWS Lambda: the variables `lambda_runtime` reads (and
/// panics without) are set. Checked before `lambda` starts, so that `s3-prune lambda` typed
/// by hand is a usage error saying what to run instead.
pub fn inside_lambda() -> Result<(), String> {
    let by_hand = "To run the scheduled job, deploy it (deploy/terraform); to delete by hand, \
                   run `s3-prune apply BUCKET RETAIN` (or `plan` first)";
    if std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_none() {
        return Err(format!(
            "`s3-prune lambda` runs only inside AWS Lambda (AWS_LAMBDA_RUNTIME_API is unset). \
             {by_hand}."
        ));
    }
    let missing: Vec<&str> = [
        "AWS_LAMBDA_FUNCTION_NAME",
        "AWS_LAMBDA_FUNCTION_VERSION",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    ]
    .into_iter()
    .filter(|v| std::env::var_os(v).is_none())
    .collect();
    if !missing.is_empty() {
        return Err(format!(
            "`s3-prune lambda` runs only inside AWS Lambda, which sets {}: they are unset. \
             {by_hand}.",
            missing.join(", ")
        ));
    }
    let memory = std::env::var("AWS_LAMBDA_FUNCTION_MEMORY_SIZE").unwrap_or_default();
    if memory.parse::<i32>().is_err() {
        return Err(format!(
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE is '{memory}', not a number of MB: \
             `s3-prune lambda` runs only inside AWS Lambda, which sets it. {by_hand}."
        ));
    }
    Ok(())
}

/// The Lambda runtime's loop: the configuration read once, then one [`handle`] per event.
/// [`inside_lambda`] must hold (`lambda_runtime` panics otherwise).
pub async fn run() -> Result<ExitCode> {
    // Read once; configuration the environment gets wrong fails the init, not every invocation.
    let base = Configured::from_env()?;
    let base = &base;
    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| async move {
        let who = event.context.invoked_function_arn.clone();
        let deadline = Some(event.context.deadline()).filter(|_| event.context.deadline > 0);
        handle(base, event.payload, &who, deadline)
            .await
            .map_err(|e| {
                tracing::error!(error = %format!("{e:#}"), "invocation failed");
                // One error type to filter on in CloudWatch, not a Rust type's name.
                lambda_runtime::Diagnostic {
                    error_type: "S3PruneError".into(),
                    error_message: format!("{e:#}"),
                }
            })
    }))
    .await
    .map_err(|e| anyhow!("lambda runtime: {e}"))?;
    Ok(ExitCode::SUCCESS)
}
