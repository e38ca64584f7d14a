//! The server half of the dashboard (ssr only): scan cache, plan binding and delete jobs.

use crate::api::{
    ApplyOutcome, ApplyReport, ApplyRequest, BucketChoice, FailedKey, JobStatus, ScanView,
};
use bucket::{Bucket, Connect, Progress, ScanOptions, Target};
use chrono::{DateTime, Utc};
use leptos::prelude::*;
use retention::{DateSource, Inventory, Policy, Retain, Span};
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// Everything the server functions share; provided to them as context.
pub struct AppState {
    connect: Connect,
    buckets: Vec<BucketChoice>,
    date_source: DateSource,
    concurrency: usize,
    clients: tokio::sync::Mutex<HashMap<String, Bucket>>,
    cache: Mutex<HashMap<String, (Inventory, DateTime<Utc>)>>,
    jobs: Mutex<HashMap<u64, Arc<Job>>>,
    /// Buckets with an apply running: one at a time per bucket.
    busy: Arc<Mutex<HashSet<String>>>,
    next_job: AtomicU64,
}

struct Job {
    bucket: String,
    deployments_total: u64,
    objects_total: u64,
    progress: Arc<Progress>,
    report: Mutex<Option<ApplyReport>>,
}

/// The state of this server, from the request's context.
pub fn state() -> Result<Arc<AppState>, ServerFnError> {
    use_context::<Arc<AppState>>()
        .ok_or_else(|| ServerFnError::new("server state missing: s3-prune serve was not set up"))
}

/// Parses `NAME` or `NAME/PREFIX`.
pub fn parse_bucket_arg(arg: &str) -> Result<BucketChoice, String> {
    let (name, prefix) = arg.split_once('/').unwrap_or((arg, ""));
    let target = Target::new(name, prefix).map_err(|e| e.to_string())?;
    let key = if target.prefix.is_empty() {
        target.bucket.clone()
    } else {
        format!("{}/{}", target.bucket, target.prefix)
    };
    Ok(BucketChoice {
        key,
        name: target.bucket,
        prefix: target.prefix,
    })
}

impl AppState {
    pub fn new(
        connect: Connect,
        buckets: Vec<BucketChoice>,
        date_source: DateSource,
        concurrency: usize,
    ) -> Self {
        AppState {
            connect,
            buckets,
            date_source,
            concurrency,
            clients: Default::default(),
            cache: Default::default(),
            jobs: Default::default(),
            busy: Default::default(),
            next_job: AtomicU64::new(1),
        }
    }

    fn choice(&self, key: Option<&str>) -> Result<&BucketChoice, String> {
        match key {
            None | Some("") => self
                .buckets
                .first()
                .ok_or_else(|| "no bucket configured: start with --bucket NAME".to_string()),
            Some(k) => self
                .buckets
                .iter()
                .find(|b| b.key == k || b.name == k)
                .ok_or_else(|| {
                    let known: Vec<&str> = self.buckets.iter().map(|b| b.key.as_str()).collect();
                    format!(
                        "bucket '{k}' is not one this server was started with ({})",
                        known.join(", ")
                    )
                }),
        }
    }

    async fn bucket(&self, c: &BucketChoice) -> Result<Bucket, String> {
        let mut clients = self.clients.lock().await;
        if let Some(b) = clients.get(&c.key) {
            return Ok(b.clone());
        }
        let target = Target::new(&c.name, &c.prefix).map_err(|e| e.to_string())?;
        let b = bucket::connect(&self.connect, &target)
            .await
            .map_err(|e| e.to_string())?;
        clients.insert(c.key.clone(), b.clone());
        Ok(b)
    }

    async fn fresh_scan(
        &self,
        c: &BucketChoice,
    ) -> Result<(Bucket, Inventory, DateTime<Utc>), String> {
        let b = self.bucket(c).await?;
        let opts = ScanOptions {
            concurrency: self.concurrency,
            meta_key: self.date_source.meta_key().map(str::to_string),
        };
        let inv = b.scan(&opts).await.map_err(|e| e.to_string())?;
        let at = Utc::now();
        self.cache
            .lock()
            .unwrap()
            .insert(c.key.clone(), (inv.clone(), at));
        Ok((b, inv, at))
    }

    /// A scan of the bucket: cached unless `rescan`, so visits do not re-list the bucket.
    pub async fn scan_view(&self, key: Option<&str>, rescan: bool) -> Result<ScanView, String> {
        let c = self.choice(key)?.clone();
        let cached = if rescan {
            None
        } else {
            self.cache.lock().unwrap().get(&c.key).cloned()
        };
        let (inventory, scanned_at) = match cached {
            Some(hit) => hit,
            None => {
                let (_, inv, at) = self.fresh_scan(&c).await?;
                (inv, at)
            }
        };
        let endpoint = self.bucket(&c).await?.endpoint().to_string();
        Ok(ScanView {
            bucket: c,
            buckets: self.buckets.clone(),
            endpoint,
            date_source: self.date_source.clone(),
            inventory,
            scanned_at,
            now: Utc::now(),
        })
    }

    fn policy(&self, req: &ApplyRequest) -> Result<Policy, String> {
        let mut p = Policy::new(Retain::new(req.retain).map_err(|e| e.to_string())?);
        p.keep_within = req.min_days.map(Span::from_days);
        p.date_source = self.date_source.clone();
        Ok(p)
    }

    /// Plan binding: rescans and replans with the confirmed policy; deletes only when the
    /// result is exactly the confirmed set.
    pub async fn start_apply(&self, req: ApplyRequest) -> Result<ApplyOutcome, String> {
        let c = self.choice(Some(&req.bucket))?.clone();
        let policy = self.policy(&req)?;
        if !self.busy.lock().unwrap().insert(c.key.clone()) {
            return Err(format!("an apply on '{}' is already running", c.key));
        }
        let result = self.bind_and_start(&c, &policy, req).await;
        if !matches!(result, Ok(ApplyOutcome::Started { .. })) {
            self.busy.lock().unwrap().remove(&c.key);
        }
        result
    }

    async fn bind_and_start(
        &self,
        c: &BucketChoice,
        policy: &Policy,
        req: ApplyRequest,
    ) -> Result<ApplyOutcome, String> {
        let (bucket, inventory, _) = self.fresh_scan(c).await?;
        let plan = retention::plan(&inventory, policy, Utc::now());
        let now_set = plan.deletion_set();
        let mut confirmed = req.confirmed;
        confirmed.sort();
        if now_set != confirmed {
            return Ok(ApplyOutcome::Changed {
                message: changed_message(&confirmed, &now_set),
            });
        }
        if now_set.is_empty() {
            return Ok(ApplyOutcome::Changed {
                message: "Nothing to delete: the plan keeps every deployment.".into(),
            });
        }
        let ids: Vec<_> = now_set.iter().map(|(id, ..)| id.clone()).collect();
        let job = Arc::new(Job {
            bucket: c.key.clone(),
            deployments_total: ids.len() as u64,
            objects_total: plan.summary.delete.objects,
            progress: Arc::new(Progress::default()),
            report: Mutex::new(None),
        });
        let id = self.next_job.fetch_add(1, Ordering::Relaxed);
        self.jobs.lock().unwrap().insert(id, job.clone());
        tracing::info!(bucket = %c.key, deployments = ids.len(), objects = job.objects_total, "apply started from the dashboard");
        let concurrency = self.concurrency;
        let purge = policy.purge_versions;
        // Runs to the end even if the browser goes away.
        let busy = self.busy.clone();
        tokio::spawn(async move {
            let report = bucket
                .delete_deployments(&ids, purge, concurrency, job.progress.clone())
                .await;
            tracing::info!(bucket = %job.bucket, deleted = report.deleted_objects, failed = report.failed.len(), "apply finished");
            let ok = report
                .deployments
                .iter()
                .filter(|d| d.failed.is_empty())
                .count() as u64;
            *job.report.lock().unwrap() = Some(ApplyReport {
                bucket: job.bucket.clone(),
                deleted_deployments: ok,
                deleted_objects: report.deleted_objects,
                failed: report
                    .failed
                    .iter()
                    .map(|f| FailedKey {
                        key: f.key.clone(),
                        error: f.error.clone(),
                    })
                    .collect(),
                duration_ms: report.duration_ms,
            });
            busy.lock().unwrap().remove(&job.bucket);
        });
        Ok(ApplyOutcome::Started { job: id })
    }

    pub fn job_status(&self, job: u64) -> Result<JobStatus, String> {
        let j = self
            .jobs
            .lock()
            .unwrap()
            .get(&job)
            .cloned()
            .ok_or_else(|| format!("no apply job {job}"))?;
        let report = j.report.lock().unwrap().clone();
        Ok(JobStatus {
            deployments_done: j.progress.deployments_done.load(Ordering::Relaxed),
            deployments_total: j.deployments_total,
            objects_done: j.progress.objects_done.load(Ordering::Relaxed),
            objects_total: j.objects_total,
            report,
        })
    }
}

type SetEntry = (retention::DeploymentId, u64, u64, DateTime<Utc>);

fn changed_message(confirmed: &[SetEntry], now: &[SetEntry]) -> String {
    let ids = |v: &[SetEntry]| v.iter().map(|(id, ..)| id.to_string()).collect::<Vec<_>>();
    let (was, is) = (ids(confirmed), ids(now));
    let added: Vec<_> = is.iter().filter(|i| !was.contains(i)).cloned().collect();
    let dropped: Vec<_> = was.iter().filter(|i| !is.contains(i)).cloned().collect();
    let mut m = String::from("The bucket changed since your preview, so nothing was deleted.");
    if !added.is_empty() {
        m.push_str(&format!(" Would now also delete: {}.", added.join(", ")));
    }
    if !dropped.is_empty() {
        m.push_str(&format!(" No longer to delete: {}.", dropped.join(", ")));
    }
    if added.is_empty() && dropped.is_empty() {
        m.push_str(" A deployment to delete has changed (objects, size or date).");
    }
    m.push_str(" Review the new preview and confirm again.");
    m
}
