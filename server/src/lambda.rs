//! `s3-prune lambda`: the scheduled job. Runs as an AWS Lambda function (provided.al2023) with
//! `lambda_runtime`; also chosen automatically when `AWS_LAMBDA_RUNTIME_API` is set.
//!
//! Configuration comes from `S3_PRUNE_*` environment variables. An invocation's event may pick
//! another bucket and may only *narrow* the configured policy (a higher RETAIN, more pins, a
//! lower max-delete, a dry run); anything that would delete more is refused through `/error`.
//! The work is the engine's (`prune`); this file only gathers the job and answers.

use anyhow::{anyhow, bail, Context, Result};
use bucket::{Progress, Target};
use lambda_runtime::{service_fn, LambdaEvent};
use prune::{LogJournal, PlanDoc, PolicySpec, ScanSettings};
use retention::{DateSource, DeploymentId, Glob, MetaFallback, Retain, Span};
use serde::Deserialize;
use serde_json::Value;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// Requests in flight for the scheduled job.
const CONCURRENCY: usize = 16;
/// `S3_PRUNE_LIFECYCLE_THRESHOLD`'s default, as `--lifecycle-threshold`'s.
const LIFECYCLE_THRESHOLD: u64 = 1_000_000;
/// Stop issuing deletes this long before the invocation's deadline, so the record is written.
const DEADLINE_MARGIN: Duration = Duration::from_secs(20);

/// One job, as the environment or an event spells it.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Job {
    pub bucket: Option<String>,
    pub retain: Option<u64>,
    pub min_retain_days: Option<u64>,
    pub keep_within: Option<String>,
    pub prefix: Option<String>,
    pub date_source: Option<String>,
    /// `newest` or `oldest`: what dates a deployment whose `meta:` date is missing (default:
    /// none, it is kept).
    pub meta_fallback: Option<String>,
    /// How long the deployment the live pointer named before is kept (default 24h; 0: off).
    pub live_grace: Option<String>,
    pub pins: Option<Vec<String>>,
    pub excludes: Option<Vec<String>>,
    pub live_pointer: Option<String>,
    pub live_from: Option<String>,
    /// `S3_PRUNE_INVENTORY`: plan from this S3 Inventory report instead of listing.
    pub inventory: Option<String>,
    pub max_delete: Option<u64>,
    pub purge_versions: Option<bool>,
    pub dry_run: Option<bool>,
    /// Rules, as a policy file's TOML (`S3_PRUNE_POLICY`), instead of `retain`.
    pub policy: Option<String>,
    /// Rules read from this key of the bucket at every run (`S3_PRUNE_POLICY_KEY`, relative to
    /// the prefix, e.g. `.s3-prune/policy.toml`): the team edits the file, not the function.
    pub policy_key: Option<String>,
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

fn env_list(name: &str) -> Option<Vec<String>> {
    env(name).map(|v| {
        v.split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect()
    })
}

/// The function's own job, read and parsed once at start-up.
pub struct Configured {
    job: Job,
    spec: PolicySpec,
    /// `S3_PRUNE_NOTIFY`: webhooks told after every apply (comma-separated URLs).
    notifier: prune::Notifier,
    /// `S3_PRUNE_VIA_LIFECYCLE` (+ `S3_PRUNE_LIFECYCLE_THRESHOLD`, default 1,000,000): as
    /// `apply --via-lifecycle`. Configured only: an event cannot switch it.
    lifecycle_over: Option<u64>,
}

impl Configured {
    /// The job the environment describes (`S3_PRUNE_BUCKET`, `S3_PRUNE_RETAIN`, …).
    pub fn from_env() -> Result<Configured> {
        let job = Job {
            bucket: env("S3_PRUNE_BUCKET"),
            retain: env_num("S3_PRUNE_RETAIN")?,
            min_retain_days: env_num("S3_PRUNE_MIN_RETAIN_DAYS")?,
            keep_within: env("S3_PRUNE_KEEP_WITHIN"),
            prefix: env("S3_PRUNE_PREFIX"),
            date_source: env("S3_PRUNE_DATE_SOURCE"),
            meta_fallback: env("S3_PRUNE_META_FALLBACK"),
            live_grace: env("S3_PRUNE_LIVE_GRACE"),
            pins: env_list("S3_PRUNE_PINS"),
            excludes: env_list("S3_PRUNE_EXCLUDES"),
            live_pointer: env("S3_PRUNE_LIVE_POINTER"),
            live_from: env("S3_PRUNE_LIVE_FROM"),
            inventory: env("S3_PRUNE_INVENTORY"),
            max_delete: env_num("S3_PRUNE_MAX_DELETE")?,
            purge_versions: env_bool("S3_PRUNE_PURGE_VERSIONS")?,
            dry_run: env_bool("S3_PRUNE_DRY_RUN")?,
            policy: env("S3_PRUNE_POLICY"),
            policy_key: env("S3_PRUNE_POLICY_KEY"),
        };
        if let Some(i) = &job.inventory {
            i.parse::<bucket::inventory::InventoryLocation>()
                .map_err(|e| anyhow!("S3_PRUNE_INVENTORY: {e}"))?;
        }
        if job.policy.is_some() && job.policy_key.is_some() {
            bail!("set S3_PRUNE_POLICY or S3_PRUNE_POLICY_KEY, not both: which policy is meant?");
        }
        if job.retain.is_some() && job.policy_key.is_some() {
            bail!("set S3_PRUNE_RETAIN or S3_PRUNE_POLICY_KEY, not both: the policy file's rules replace RETAIN");
        }
        let via_lifecycle = env_bool("S3_PRUNE_VIA_LIFECYCLE")?.unwrap_or(false);
        let threshold = env_num("S3_PRUNE_LIFECYCLE_THRESHOLD")?;
        if threshold.is_some() && !via_lifecycle {
            bail!("S3_PRUNE_LIFECYCLE_THRESHOLD is set but S3_PRUNE_VIA_LIFECYCLE is not: set both, or neither");
        }
        if via_lifecycle && job.purge_versions == Some(true) {
            bail!("set S3_PRUNE_VIA_LIFECYCLE or S3_PRUNE_PURGE_VERSIONS, not both: lifecycle expiration leaves old versions behind");
        }
        let lifecycle_over = via_lifecycle.then(|| threshold.unwrap_or(LIFECYCLE_THRESHOLD));
        let spec = job.spec().context("the S3_PRUNE_* environment")?;
        let urls = env_list("S3_PRUNE_NOTIFY")
            .unwrap_or_default()
            .iter()
            .map(|u| u.parse::<prune::WebhookUrl>())
            .collect::<Result<Vec<_>, _>>()
            .context("S3_PRUNE_NOTIFY")?;
        Ok(Configured {
            job,
            spec,
            notifier: prune::Notifier::new(urls),
            lifecycle_over,
        })
    }

    /// This job narrowed by an event; anything that would delete more is refused.
    pub fn narrowed_by(&self, ev: &Job) -> Result<(Job, PolicySpec)> {
        let base = &self.job;
        let refuse = |field: &str, why: &str| {
            bail!("the event may not widen the configured job: '{field}' {why}; nothing was done")
        };
        let spec = self.spec.narrowed_by(&ev.spec()?).map_err(|w| {
            anyhow!("the event may not widen the configured job: {w}; nothing was done")
        })?;
        if base.dry_run == Some(true) && ev.dry_run == Some(false) {
            refuse(
                "dry_run",
                "is false, but this function is configured as a dry run",
            )?;
        }
        // Another prefix changes what a deployment is (a folder of one is a deployment of the
        // other): refused even where none is configured (the bucket root).
        let norm = |p: &Option<String>| bucket::normalize_prefix(p.as_deref().unwrap_or(""));
        if ev.prefix.is_some() && norm(&ev.prefix) != norm(&base.prefix) {
            refuse("prefix", "differs from the configured one")?;
        }
        // A pointer or page the function was not given is an object of the event's choosing,
        // which the scan would read: only the configuration names them.
        let named = |configured: &Option<String>, event: &Option<String>| match configured {
            Some(_) if event.is_some() && event != configured => {
                Some("differs from the configured one")
            }
            None if event.is_some() => {
                Some("is not configured for this function (set it in the function's environment)")
            }
            _ => None,
        };
        if let Some(why) = named(&base.live_pointer, &ev.live_pointer) {
            refuse("live_pointer", why)?;
        }
        if ev.inventory.is_some() && ev.inventory != base.inventory {
            refuse("inventory", "differs from the configured one")?;
        }
        if let Some(why) = named(&base.live_from, &ev.live_from) {
            refuse("live_from", why)?;
        }
        if ev.policy_key.is_some() && ev.policy_key != base.policy_key {
            refuse("policy_key", "differs from the configured one")?;
        }
        let job = Job {
            bucket: ev.bucket.clone().or(base.bucket.clone()),
            prefix: ev.prefix.clone().or(base.prefix.clone()),
            live_pointer: ev.live_pointer.clone().or(base.live_pointer.clone()),
            live_from: ev.live_from.clone().or(base.live_from.clone()),
            inventory: base.inventory.clone(),
            dry_run: ev.dry_run.or(base.dry_run),
            ..Job::default()
        };
        Ok((job, spec))
    }
}

impl Job {
    /// The policy part, parsed.
    fn spec(&self) -> Result<PolicySpec> {
        if let Some(r) = self.retain {
            Retain::new(r)?;
        }
        Ok(PolicySpec {
            retain: self.retain,
            min_retain_days: self.min_retain_days,
            keep_within: self
                .keep_within
                .as_deref()
                .map(str::parse::<Span>)
                .transpose()?,
            pins: (self.pins.iter().flatten())
                .map(|s| DeploymentId::new(s.as_str()))
                .collect::<Result<_, _>>()?,
            excludes: (self.excludes.iter().flatten())
                .map(|s| s.parse::<Glob>())
                .collect::<Result<_, _>>()?,
            date_source: self
                .date_source
                .as_deref()
                .map(str::parse::<DateSource>)
                .transpose()?,
            meta_fallback: self
                .meta_fallback
                .as_deref()
                .map(str::parse::<MetaFallback>)
                .transpose()
                .map_err(|e| anyhow!("meta_fallback {e}"))?,
            live_grace: self
                .live_grace
                .as_deref()
                .map(str::parse::<Span>)
                .transpose()
                .map_err(|e| anyhow!("live_grace: {e}"))?,
            purge_versions: self.purge_versions,
            max_delete: self.max_delete,
            rules: self
                .policy
                .as_deref()
                .map(retention::parse_policy)
                .transpose()
                .map_err(|e| anyhow!("the policy (S3_PRUNE_POLICY or \"policy\"): {e}"))?,
        })
    }
}

fn connect_from_env() -> Result<bucket::Connect> {
    Ok(bucket::Connect {
        localstack: env("S3_PRUNE_LOCALSTACK").is_some_and(|v| v == "1" || v == "true"),
        endpoint_url: env("S3_PRUNE_ENDPOINT_URL"),
        max_attempts: None,
        // `S3_PRUNE_JOURNAL`: the run journal kept in an audit bucket (see README).
        journal: env("S3_PRUNE_JOURNAL")
            .map(|j| j.parse::<bucket::JournalLocation>())
            .transpose()
            .map_err(|e| anyhow!("S3_PRUNE_JOURNAL: {e}"))?,
    })
}

impl Configured {
    /// This job with the rules of the policy file kept in the bucket (read now, so an edit of
    /// the file applies from the next run). Unreadable or invalid: an error, nothing deleted.
    async fn with_policy_from(&self, bucket: &bucket::Bucket, rel: &str) -> Result<Configured> {
        let text = bucket.read_policy_file(rel).await?;
        let rules = retention::parse_policy(&text).map_err(|e| {
            anyhow!(
                "the policy file '{rel}' (S3_PRUNE_POLICY_KEY) in bucket '{}': {e}; nothing was deleted",
                bucket.name()
            )
        })?;
        Ok(Configured {
            job: self.job.clone(),
            spec: PolicySpec {
                rules: Some(rules),
                ..self.spec.clone()
            },
            notifier: self.notifier.clone(),
            lifecycle_over: self.lifecycle_over,
        })
    }
}

/// Handles one invocation: plan, and unless dry run, apply. Errors go to the Runtime API's
/// `/error` (and so to the function's error metric).
pub async fn handle(
    base: &Configured,
    payload: Value,
    who: &str,
    deadline: Option<SystemTime>,
) -> Result<Value> {
    let event: Job = if payload.is_null() {
        Job::default()
    } else {
        serde_json::from_value(payload).context("the event payload is not an s3-prune job")?
    };
    let name = event
        .bucket
        .clone()
        .or(base.job.bucket.clone())
        .ok_or_else(|| anyhow!("no bucket: set S3_PRUNE_BUCKET or \"bucket\" in the event"))?;
    let target = Target::new(&name, base.job.prefix.as_deref().unwrap_or(""))?;
    let bucket = bucket::connect(&connect_from_env()?, &target).await?;
    let from_bucket;
    let base = match &base.job.policy_key {
        None => base,
        Some(rel) => {
            from_bucket = base.with_policy_from(&bucket, rel).await?;
            &from_bucket
        }
    };
    let (job, spec) = base.narrowed_by(&event)?;
    if spec.retain.is_none() && spec.rules.is_none() {
        bail!(
            "no RETAIN: set S3_PRUNE_RETAIN (or S3_PRUNE_POLICY, S3_PRUNE_POLICY_KEY) or \"retain\" in the event"
        );
    }
    let policy = spec.build()?;
    let settings = ScanSettings {
        live_pointer: job.live_pointer.clone(),
        live_from: job.live_from.clone(),
        inventory: job
            .inventory
            .as_deref()
            .map(str::parse)
            .transpose()
            .map_err(|e: String| anyhow!("S3_PRUNE_INVENTORY: {e}"))?,
        concurrency: CONCURRENCY,
    };
    let planned = prune::scan_and_plan(&bucket, &policy, &settings).await?;
    let dry_run = job.dry_run.unwrap_or(false);
    // The plan as the log and a dry run's answer show it.
    let plan_doc = serde_json::to_value(PlanDoc::new(&planned).dry_run(dry_run))?;
    let checked = prune::check(planned, None).map_err(|refusal| {
        tracing::error!(bucket = %name, result = %plan_doc, "refusing to apply");
        anyhow!("{refusal}")
    })?;
    if dry_run {
        tracing::info!(bucket = %name, result = %plan_doc, "dry run: nothing deleted");
        return Ok(plan_doc);
    }
    let progress = Arc::new(Progress::default());
    // Stop issuing deletes before Lambda kills the process, so the record is completed.
    let watchdog = deadline.map(|d| {
        let progress = progress.clone();
        let left = d
            .duration_since(SystemTime::now())
            .unwrap_or_default()
            .saturating_sub(DEADLINE_MARGIN);
        tokio::spawn(async move {
            tokio::time::sleep(left).await;
            tracing::warn!(
                "the invocation's deadline is near: stopping after the requests in flight"
            );
            progress.request_stop();
        })
    });
    let ctx = prune::ApplyContext {
        via: None,
        who: who.to_string(),
        source: "lambda",
        concurrency: CONCURRENCY,
        progress,
        journal: Arc::new(LogJournal),
        notifier: base.notifier.clone(),
        lifecycle_over: base.lifecycle_over,
        require_lease: false,
    };
    let report = prune::apply(checked, ctx).await;
    if let Some(w) = watchdog {
        w.abort();
    }
    let report = report?;
    // The metrics line first: an incomplete run below is an error, and its line says so too.
    println!(
        "{}",
        crate::emf::run_metrics(&report, chrono::Utc::now().timestamp_millis())
    );
    let doc = bounded(serde_json::to_value(
        PlanDoc::applied(&report).dry_run(false),
    )?);
    if !report.is_complete() {
        let r = &report.record;
        bail!(
            "apply {}: {} objects could not be deleted, {} were left as newer than the plan \
             (first failure: {}); audit: {}",
            r.status,
            r.failures.len(),
            r.skipped.len(),
            r.failures
                .first()
                .map(|f| format!("{}: {}", f.key, f.error))
                .unwrap_or_else(|| "none".into()),
            doc["audit"]
        );
    }
    Ok(doc)
}

/// Entries of a list the Lambda's answer carries at most (the rest is counted, and whole in
/// the run's journal in the bucket): an answer far below Lambda's 6 MB limit at any run size.
const ANSWER_LIST_MAX: usize = 100;

/// What an answer may weigh: Lambda's limit is 6 MB; a summary stays far below it, whatever
/// the run's size or its warnings.
const ANSWER_MAX_BYTES: usize = 48 * 1024;

/// The answer to an apply: the kept deployments left out (the plan's summary counts them),
/// every list — deployments, warnings, the audit's — cut to [`ANSWER_LIST_MAX`] with
/// `<name>_omitted` counts (fewer if the answer would still pass [`ANSWER_MAX_BYTES`]), and the
/// journal's address for the whole record.
fn bounded(mut doc: Value) -> Value {
    if let Some(all) = doc.get_mut("deployments").and_then(Value::as_array_mut) {
        all.retain(|d| d["action"] == "delete");
    }
    if let Some(audit) = doc.get_mut("audit") {
        let journal = match (audit["bucket"].as_str(), audit["run"].as_str()) {
            (Some(b), Some(run)) => Some(format!(
                "s3://{b}/{}.s3-prune/runs/{run}/",
                audit["prefix"].as_str().unwrap_or("")
            )),
            _ => None,
        };
        if let Some(j) = journal {
            audit["journal"] = Value::String(j);
        }
    }
    for max in [ANSWER_LIST_MAX, 10, 0] {
        let mut cut = doc.clone();
        cut_lists(&mut cut, max);
        if serde_json::to_vec(&cut).map_or(0, |v| v.len()) <= ANSWER_MAX_BYTES || max == 0 {
            return cut;
        }
    }
    unreachable!("the last round returns")
}

/// Every array under `doc`, at any depth, cut to `max` items with a `<name>_omitted` count.
fn cut_lists(doc: &mut Value, max: usize) {
    let Some(fields) = doc.as_object_mut() else {
        return;
    };
    let mut omitted = Vec::new();
    for (name, v) in fields.iter_mut() {
        if let Some(items) = v.as_array_mut() {
            if items.len() > max {
                omitted.push((format!("{name}_omitted"), items.len() - max));
                items.truncate(max);
            }
            items.iter_mut().for_each(|i| cut_lists(i, max));
        } else {
            cut_lists(v, max);
        }
    }
    for (name, n) in omitted {
        let before = fields.get(&name).and_then(Value::as_u64).unwrap_or(0);
        fields.insert(name, Value::from(before + n as u64));
    }
}

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
                lambda_runtime::Error::from(format!("{e:#}"))
            })
    }))
    .await
    .map_err(|e| anyhow!("lambda runtime: {e}"))?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::{bounded, Configured, Job, ANSWER_LIST_MAX};
    use prune::PolicySpec;
    use serde_json::{json, Value};

    #[test]
    fn an_event_may_not_name_a_live_pointer_or_page_the_function_was_not_given() {
        let configured = |live_pointer: Option<&str>| Configured {
            job: Job {
                bucket: Some("b".into()),
                live_pointer: live_pointer.map(str::to_string),
                ..Job::default()
            },
            spec: PolicySpec {
                retain: Some(3),
                ..Default::default()
            },
            notifier: prune::Notifier::default(),
            lifecycle_over: None,
        };
        let event = |field: &str| -> Job {
            serde_json::from_value(json!({ field: "secrets/db-password.txt" })).unwrap()
        };
        for field in ["live_pointer", "live_from"] {
            let err = configured(None).narrowed_by(&event(field)).unwrap_err();
            assert!(
                err.to_string()
                    .contains(&format!("'{field}' is not configured")),
                "{err}"
            );
        }
        let err = configured(Some("live.txt"))
            .narrowed_by(&event("live_pointer"))
            .unwrap_err();
        assert!(err.to_string().contains("differs"), "{err}");
        let same: Job = serde_json::from_value(json!({ "live_pointer": "live.txt" })).unwrap();
        let (job, _) = configured(Some("live.txt")).narrowed_by(&same).unwrap();
        assert_eq!(job.live_pointer.as_deref(), Some("live.txt"));
    }

    /// A run of 1,000 deployments of 100 objects each on a versioned bucket, every list as long
    /// as such a run makes it: the answer stays far below Lambda's 6 MB, and under 64 KB.
    #[test]
    fn the_answer_of_a_huge_run_is_bounded_and_says_where_the_rest_is() {
        let deployments: Vec<Value> = (0..1000)
            .map(|i| json!({ "id": format!("release-{i:04}"), "action": if i < 500 { "delete" } else { "keep" }, "reason": "x".repeat(120) }))
            .collect();
        let deleted: Vec<Value> = (0..500)
            .map(|i| json!({ "id": format!("release-{i:04}"), "objects": 100, "bytes": 123_456 }))
            .collect();
        let markers: Vec<Value> = (0..50_000)
            .map(|i| json!({ "deployment": "release-0001", "key": format!("release-0001/chunk-{i}.js"), "version_id": "3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY" }))
            .collect();
        let failures: Vec<Value> = (0..3_000)
            .map(|i| json!({ "key": format!("release-0002/f{i}"), "error": "AccessDenied: no" }))
            .collect();
        let doc = json!({
            "bucket": "b",
            "deployments": deployments,
            "audit": { "bucket": "b", "prefix": "sites/", "run": "20261204T013000123Z-9f3a61c2",
                       "deleted": deleted, "markers": markers, "failures": failures },
        });
        let before = serde_json::to_vec(&doc).unwrap().len();
        let answer = bounded(doc);
        let size = serde_json::to_vec(&answer).unwrap().len();
        assert!(
            before > 6 * 1024 * 1024 / 2,
            "the unbounded answer was {before} bytes"
        );
        assert!(size < 64 * 1024, "the answer is {size} bytes");
        assert_eq!(
            answer["deployments"].as_array().unwrap().len(),
            ANSWER_LIST_MAX
        );
        assert_eq!(
            answer["deployments_omitted"], 400,
            "only doomed ones, cut to 100"
        );
        assert_eq!(answer["audit"]["markers_omitted"], 50_000 - ANSWER_LIST_MAX);
        assert_eq!(answer["audit"]["failures_omitted"], 3_000 - ANSWER_LIST_MAX);
        assert_eq!(
            answer["audit"]["journal"],
            "s3://b/sites/.s3-prune/runs/20261204T013000123Z-9f3a61c2/"
        );
    }

    #[test]
    fn warnings_and_every_other_list_are_cut_too_and_the_answer_stays_small() {
        // 600 "same date" warnings passed 64 KB before: only named lists were cut.
        let warnings: Vec<Value> = (0..600)
            .map(|i| {
                json!(format!(
                    "same date for release-{i:04}-a, release-{i:04}-b: ordered by id"
                ))
            })
            .collect();
        let held: Vec<Value> = (0..400)
            .map(|i| json!({ "deployment": format!("d{i}"), "reason": "y".repeat(400) }))
            .collect();
        let doc = json!({
            "warnings": warnings,
            "audit": { "bucket": "b", "run": "20261204T013000123Z-9f3a61c2", "held": held },
        });
        let answer = bounded(doc);
        let size = serde_json::to_vec(&answer).unwrap().len();
        assert!(
            size <= super::ANSWER_MAX_BYTES,
            "the answer is {size} bytes"
        );
        assert!(answer["warnings_omitted"].as_u64().unwrap() >= 500);
        // 100 held reasons of 400 bytes would pass the cap: cut further, and counted.
        let held = answer["audit"]["held"].as_array().unwrap().len() as u64;
        assert_eq!(
            held + answer["audit"]["held_omitted"].as_u64().unwrap(),
            400
        );
    }
}
