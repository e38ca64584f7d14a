//! `s3-prune lambda`: the scheduled job. Runs as an AWS Lambda function (provided.al2023) with
//! `lambda_runtime`; also chosen automatically when `AWS_LAMBDA_RUNTIME_API` is set.
//!
//! Configuration comes from `S3_PRUNE_*` environment variables and can be overridden per
//! invocation by the event payload, so one function can serve several buckets from several
//! schedules. Only the S3 engine and the retention core run here: nothing of the dashboard is
//! initialised, which keeps cold starts short.

use crate::run::make_plan;
use anyhow::{anyhow, bail, Context, Result};
use bucket::{Progress, Target};
use lambda_runtime::{service_fn, LambdaEvent};
use retention::{DateSource, DeploymentId, Policy, Retain, Span};
use serde::Deserialize;
use serde_json::{json, Value};
use std::process::ExitCode;
use std::sync::Arc;

/// One job, from the environment and then the event (event fields win).
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Job {
    pub bucket: Option<String>,
    pub retain: Option<u64>,
    pub min_retain_days: Option<u64>,
    pub keep_within: Option<String>,
    pub prefix: Option<String>,
    pub date_source: Option<String>,
    pub pins: Option<Vec<String>>,
    pub live_pointer: Option<String>,
    pub max_delete: Option<u64>,
    pub purge_versions: Option<bool>,
    pub dry_run: Option<bool>,
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn env_num(name: &str) -> Result<Option<u64>> {
    env(name)
        .map(|v| {
            v.trim()
                .parse::<u64>()
                .map_err(|_| anyhow!("{name} must be a whole number ≥ 0 (got '{v}')"))
        })
        .transpose()
}

fn env_bool(name: &str) -> Result<Option<bool>> {
    env(name)
        .map(|v| match v.trim().to_ascii_lowercase().as_str() {
            "1" | "true" | "yes" => Ok(true),
            "0" | "false" | "no" => Ok(false),
            _ => Err(anyhow!("{name} must be true or false (got '{v}')")),
        })
        .transpose()
}

impl Job {
    /// The job the environment describes (`S3_PRUNE_BUCKET`, `S3_PRUNE_RETAIN`, …).
    pub fn from_env() -> Result<Job> {
        Ok(Job {
            bucket: env("S3_PRUNE_BUCKET"),
            retain: env_num("S3_PRUNE_RETAIN")?,
            min_retain_days: env_num("S3_PRUNE_MIN_RETAIN_DAYS")?,
            keep_within: env("S3_PRUNE_KEEP_WITHIN"),
            prefix: env("S3_PRUNE_PREFIX"),
            date_source: env("S3_PRUNE_DATE_SOURCE"),
            pins: env("S3_PRUNE_PINS").map(|v| {
                v.split(',')
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect()
            }),
            live_pointer: env("S3_PRUNE_LIVE_POINTER"),
            max_delete: env_num("S3_PRUNE_MAX_DELETE")?,
            purge_versions: env_bool("S3_PRUNE_PURGE_VERSIONS")?,
            dry_run: env_bool("S3_PRUNE_DRY_RUN")?,
        })
    }

    /// `over`'s fields win.
    pub fn overlay(self, over: Job) -> Job {
        Job {
            bucket: over.bucket.or(self.bucket),
            retain: over.retain.or(self.retain),
            min_retain_days: over.min_retain_days.or(self.min_retain_days),
            keep_within: over.keep_within.or(self.keep_within),
            prefix: over.prefix.or(self.prefix),
            date_source: over.date_source.or(self.date_source),
            pins: over.pins.or(self.pins),
            live_pointer: over.live_pointer.or(self.live_pointer),
            max_delete: over.max_delete.or(self.max_delete),
            purge_versions: over.purge_versions.or(self.purge_versions),
            dry_run: over.dry_run.or(self.dry_run),
        }
    }

    pub fn policy(&self) -> Result<Policy> {
        let retain = self
            .retain
            .ok_or_else(|| anyhow!("no RETAIN: set S3_PRUNE_RETAIN or \"retain\" in the event"))?;
        let mut p = Policy::new(Retain::new(retain)?);
        p.keep_within = match (self.min_retain_days, &self.keep_within) {
            (Some(_), Some(_)) => bail!("give either min_retain_days or keep_within, not both"),
            (Some(d), None) => Some(Span::from_days(d)),
            (None, Some(k)) => Some(k.parse::<Span>()?),
            (None, None) => None,
        };
        p.pins = self
            .pins
            .iter()
            .flatten()
            .map(|s| DeploymentId::new(s.as_str()))
            .collect::<Result<_, _>>()?;
        p.date_source = match &self.date_source {
            Some(s) => s.parse::<DateSource>()?,
            None => DateSource::Newest,
        };
        p.purge_versions = self.purge_versions.unwrap_or(false);
        p.max_delete = Some(self.max_delete.unwrap_or(retention::DEFAULT_MAX_DELETE));
        Ok(p)
    }
}

fn connect_from_env() -> bucket::Connect {
    bucket::Connect {
        localstack: env("S3_PRUNE_LOCALSTACK").is_some_and(|v| v == "1" || v == "true"),
        endpoint_url: env("S3_PRUNE_ENDPOINT_URL"),
        max_attempts: None,
    }
}

/// Handles one invocation: plan, and unless dry run, apply. Errors go to the Runtime API's
/// `/error` (and so to the function's error metric).
pub async fn handle(base: &Job, payload: Value, who: &str) -> Result<Value> {
    let over: Job = if payload.is_null() {
        Job::default()
    } else {
        serde_json::from_value(payload).context("the event payload is not an s3-prune job")?
    };
    let job = base.clone().overlay(over);
    let name = job
        .bucket
        .clone()
        .ok_or_else(|| anyhow!("no bucket: set S3_PRUNE_BUCKET or \"bucket\" in the event"))?;
    let policy = job.policy()?;
    let target = Target::new(&name, job.prefix.as_deref().unwrap_or(""))?;
    let bucket = bucket::connect(&connect_from_env(), &target).await?;
    let planned = make_plan(&bucket, &policy, job.live_pointer.as_deref(), 16).await?;
    let plan = &planned.plan;
    let deployments: Vec<Value> = plan
        .entries
        .iter()
        .map(|e| json!({"id": e.id, "date": e.date.to_rfc3339(), "objects": e.objects, "bytes": e.bytes, "action": e.action, "reason": e.reason_text}))
        .collect();
    let mut out = json!({
        "bucket": bucket.name(),
        "prefix": bucket.prefix(),
        "policy": plan.policy,
        "dry_run": job.dry_run.unwrap_or(false),
        "deployments": deployments,
        "warnings": plan.warnings.iter().map(|w| w.to_string()).collect::<Vec<_>>(),
        "blocked": plan.blocked.iter().map(|b| b.to_string()).collect::<Vec<_>>(),
        "summary": plan.summary,
        "plan_fingerprint": plan.fingerprint(),
    });
    if let Err(blocks) = plan.check_apply() {
        let why: Vec<String> = blocks.iter().map(|b| b.to_string()).collect();
        tracing::error!(bucket = %name, result = %out, "refusing to apply");
        bail!("refusing to apply: {}", why.join("; "));
    }
    if job.dry_run.unwrap_or(false) {
        tracing::info!(bucket = %name, result = %out, "dry run: nothing deleted");
        return Ok(out);
    }
    let doomed: Vec<_> = plan.to_delete().map(|e| e.id.clone()).collect();
    let started = chrono::Utc::now();
    let report = bucket
        .delete_deployments(
            &doomed,
            policy.purge_versions,
            16,
            Arc::new(Progress::default()),
        )
        .await;
    let record = report.audit_record(plan, &bucket, who, "lambda", started);
    out["deleted_objects"] = json!(report.deleted_objects);
    out["failed"] = json!(report.failed);
    out["audit"] = serde_json::to_value(&record)?;
    // The log carries the same record as the response.
    tracing::info!(audit = %out["audit"], "apply finished");
    if !report.is_complete() {
        bail!(
            "{} objects could not be deleted (first: {}); audit: {}",
            report.failed.len(),
            report
                .failed
                .first()
                .map(|f| format!("{}: {}", f.key, f.error))
                .unwrap_or_default(),
            out["audit"]
        );
    }
    Ok(out)
}

pub async fn run() -> Result<ExitCode> {
    // Read once; configuration the environment gets wrong fails the init, not every invocation.
    let base = Job::from_env()?;
    let base = &base;
    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| async move {
        let who = event.context.invoked_function_arn.clone();
        handle(base, event.payload, &who).await.map_err(|e| {
            tracing::error!(error = %format!("{e:#}"), "invocation failed");
            lambda_runtime::Error::from(format!("{e:#}"))
        })
    }))
    .await
    .map_err(|e| anyhow!("lambda runtime: {e}"))?;
    Ok(ExitCode::SUCCESS)
}
