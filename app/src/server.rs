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

/// How `s3-prune serve` was started.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    pub connect: Connect,
    pub buckets: Vec<BucketChoice>,
    pub date_source: DateSource,
    pub concurrency: usize,
    pub live_pointer: Option<String>,
    pub max_delete: u64,
    pub read_only: bool,
    /// Where every apply is recorded; `None` refuses applies (no record, no deletion).
    pub audit: Option<Arc<audit::AuditLog>>,
    /// The scheduled job's policy, forecast on the page.
    pub schedule: Option<crate::api::Schedule>,
}

/// Everything the server functions share; provided to them as context.
pub struct AppState {
    connect: Connect,
    buckets: Vec<BucketChoice>,
    date_source: DateSource,
    concurrency: usize,
    live_pointer: Option<String>,
    max_delete: u64,
    read_only: bool,
    audit: Option<Arc<audit::AuditLog>>,
    schedule: Option<crate::api::Schedule>,
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
    pub fn new(c: ServeConfig) -> Self {
        AppState {
            connect: c.connect,
            buckets: c.buckets,
            date_source: c.date_source,
            concurrency: c.concurrency,
            live_pointer: c.live_pointer,
            max_delete: c.max_delete,
            read_only: c.read_only,
            audit: c.audit,
            schedule: c.schedule,
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
            live_pointer: self.live_pointer.clone(),
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
            max_delete: self.max_delete,
            read_only: self.read_only,
            live_pointer: self.live_pointer.clone(),
            schedule: self.schedule.clone(),
        })
    }

    fn policy(&self, req: &ApplyRequest) -> Result<Policy, String> {
        let mut p = Policy::new(Retain::new(req.retain).map_err(|e| e.to_string())?);
        p.keep_within = req.min_days.map(Span::from_days);
        p.date_source = self.date_source.clone();
        p.max_delete = Some(self.max_delete);
        Ok(p)
    }

    fn refuse_if_read_only(&self) -> Result<(), String> {
        if self.read_only {
            Err("this dashboard is read-only (started with --read-only): previews only, nothing is changed".into())
        } else {
            Ok(())
        }
    }

    /// Pins or unpins a deployment in the bucket's pins file, then forgets the cached scan.
    pub async fn set_pin(
        &self,
        key: &str,
        id: &str,
        reason: &str,
        pin: bool,
        user: &str,
    ) -> Result<(), String> {
        self.refuse_if_read_only()?;
        let c = self.choice(Some(key))?.clone();
        let id = retention::DeploymentId::new(id).map_err(|e| e.to_string())?;
        let b = self.bucket(&c).await?;
        let mut pins = b.read_pins().await.map_err(|e| e.to_string())?;
        pins.retain(|p| p.id != id);
        if pin {
            pins.push(retention::Pin {
                id: id.clone(),
                reason: reason.trim().to_string(),
                by: user.to_string(),
                at: Some(Utc::now()),
            });
        }
        b.write_pins(&pins).await.map_err(|e| e.to_string())?;
        tracing::info!(bucket = %c.key, deployment = %id, pin, user, "pin changed from the dashboard");
        self.cache.lock().unwrap().remove(&c.key);
        Ok(())
    }

    /// Plan binding: rescans and replans with the confirmed policy; deletes only when the
    /// result is exactly the confirmed set.
    pub async fn start_apply(&self, req: ApplyRequest, user: &str) -> Result<ApplyOutcome, String> {
        self.refuse_if_read_only()?;
        if self.audit.is_none() {
            return Err("no audit log is configured: applies are refused".into());
        }
        let c = self.choice(Some(&req.bucket))?.clone();
        let policy = self.policy(&req)?;
        if !self.busy.lock().unwrap().insert(c.key.clone()) {
            return Err(format!("an apply on '{}' is already running", c.key));
        }
        let result = self.bind_and_start(&c, &policy, req, user).await;
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
        user: &str,
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
        if let Err(blocks) = plan.check_apply() {
            let why: Vec<String> = blocks.iter().map(|b| b.to_string()).collect();
            return Err(format!("refusing to apply: {}", why.join("; ")));
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
        let audit_log = self.audit.clone();
        let who = user.to_string();
        let started_at = Utc::now();
        tokio::spawn(async move {
            let report = bucket
                .delete_deployments(&ids, purge, concurrency, job.progress.clone())
                .await;
            let record = report.audit_record(&plan, &bucket, &who, "dashboard", started_at);
            let audit_id = match audit_log.map(|log| log.append(record)) {
                Some(Ok(r)) => r.id,
                Some(Err(e)) => {
                    tracing::error!(error = %e, "the apply ran but its audit record could not be written");
                    None
                }
                None => None,
            };
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
                audit_id,
            });
            busy.lock().unwrap().remove(&job.bucket);
        });
        Ok(ApplyOutcome::Started { job: id })
    }

    /// The newest applies from the audit log.
    pub fn history(&self, limit: usize) -> Result<Vec<audit::Record>, String> {
        match &self.audit {
            Some(log) => log.list(limit).map_err(|e| e.to_string()),
            None => Err("no audit log is configured".into()),
        }
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

/// Who is signed in, as the server's auth layer recorded it on the request.
#[derive(Debug, Clone)]
pub struct User(pub String);

pub async fn current_user() -> String {
    match leptos_axum::extract::<axum::Extension<User>>().await {
        Ok(axum::Extension(User(u))) => u,
        Err(_) => "unknown".into(),
    }
}

/// Sets the page's Content-Security-Policy: scripts only from us or carrying this response's
/// nonce (the hydration script), wasm allowed, no framing, no foreign connections.
pub fn content_security_policy() {
    let Some(response) = use_context::<leptos_axum::ResponseOptions>() else {
        return;
    };
    let nonce = leptos::nonce::use_nonce()
        .map(|n| format!(" 'nonce-{n}'"))
        .unwrap_or_default();
    let csp = format!(
        "default-src 'self'; script-src 'self'{nonce} 'wasm-unsafe-eval'; style-src 'self'; \
         img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    );
    if let Ok(v) = axum::http::HeaderValue::from_str(&csp) {
        response.insert_header(axum::http::header::CONTENT_SECURITY_POLICY, v);
    }
}
