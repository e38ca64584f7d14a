//! The server half of the dashboard (ssr only): the scan cache for previews, and applies, which
//! are the engine's (`prune`): a fresh scan, the check against what the user confirmed, the
//! journal, the deletion. One apply per bucket at a time, released on every path.

use crate::wire::{ApplyOutcome, ApplyRequest, BucketChoice, JobStatus, ScanView, Schedule};
use bucket::{Bucket, Connect, Progress, Target};
use chrono::{DateTime, Utc};
use futures::FutureExt;
use leptos::prelude::*;
use prune::{PolicySpec, Refusal, ScanSettings};
use retention::{DateSource, Inventory, Policy};
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

mod approvals;
mod lease;
mod notes;
mod overview;
mod restore;
mod scans;

pub use notes::NOTES_FOR;
pub use scans::{RESCAN_GAP, SCANS_AT_ONCE};

/// The one error of the server side, turned into a `ServerFnError` at the boundary (api.rs,
/// through server_fn's `From` for every `std::error::Error`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct AppError(pub String);

impl AppError {
    fn new(e: impl std::fmt::Display) -> Self {
        AppError(e.to_string())
    }
}

impl From<bucket::S3Error> for AppError {
    fn from(e: bucket::S3Error) -> Self {
        AppError::new(e)
    }
}

/// How `s3-prune serve` was started.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    pub connect: Connect,
    pub buckets: Vec<BucketChoice>,
    pub date_source: DateSource,
    pub concurrency: usize,
    pub live_pointer: Option<String>,
    /// `--live-from KEY`: a page of the site naming the live deployments.
    pub live_from: Option<String>,
    /// `--inventory`: plan the (one) bucket from this S3 Inventory report.
    pub inventory: Option<bucket::inventory::InventoryLocation>,
    pub max_delete: u64,
    /// `serve --via-lifecycle`: applies hand doomed deployments of more objects than this to
    /// S3 lifecycle expiration.
    pub lifecycle_over: Option<u64>,
    pub read_only: bool,
    /// Where every apply is recorded; `None` refuses applies (no record, no deletion).
    pub audit: Option<Arc<audit::AuditLog>>,
    /// The scheduled job's policy, forecast on the page.
    pub schedule: Option<Schedule>,
    /// `serve --policy FILE`: the rules the page starts with.
    pub rules: Option<retention::Rules>,
    /// `serve --notify URL`: told after every apply and restore.
    pub notifier: prune::Notifier,
    /// `serve --approval-over N`: an apply deleting more than N deployments waits for a second
    /// deployer's approval.
    pub approval_over: Option<u64>,
    /// `serve --approval-over BUCKET=N`: the same for one bucket (its `--bucket` key), over the
    /// default.
    pub approval_over_for: HashMap<String, u64>,
}

/// Everything the server functions share; provided to them as context.
pub struct AppState {
    config: ServeConfig,
    clients: tokio::sync::Mutex<HashMap<String, Bucket>>,
    scans: scans::Scans,
    notes: notes::Notes,
    jobs: Mutex<HashMap<u64, Arc<Job>>>,
    /// Buckets with an apply running: one at a time per bucket. Held by [`Busy`] guards.
    busy: Arc<Mutex<HashSet<String>>>,
    next_job: AtomicU64,
}

/// One bucket's scan as the page shows it, with what its configuration says about undo.
#[derive(Clone)]
struct CachedScan {
    inventory: std::sync::Arc<Inventory>,
    /// The inventory dated and ordered under the server's date source, once per scan.
    ordered: std::sync::Arc<retention::Ordered>,
    scanned_at: DateTime<Utc>,
    undo_window: String,
    handovers: prune::Handovers,
}

struct Job {
    deployments_total: u64,
    objects_total: u64,
    progress: Arc<Progress>,
    /// Set when the apply ended: its record, or why it never started (nothing deleted).
    outcome: Mutex<Option<Result<audit::Record, String>>>,
}

/// A bucket's apply mark; released when dropped — on success, error, a dropped request or a
/// panic alike.
struct Busy {
    key: String,
    set: Arc<Mutex<HashSet<String>>>,
}

impl Busy {
    fn take(set: &Arc<Mutex<HashSet<String>>>, key: &str) -> Result<Busy, AppError> {
        let mut s = set.lock().unwrap_or_else(|e| e.into_inner());
        if !s.insert(key.to_string()) {
            return Err(AppError(format!("an apply on '{key}' is already running")));
        }
        Ok(Busy {
            key: key.to_string(),
            set: set.clone(),
        })
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.set
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&self.key);
    }
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

/// Refuses two choices of one bucket where one prefix holds the other: the outer one would see
/// the inner folder as one deletable deployment (pins file and all).
pub fn check_overlaps(choices: &[BucketChoice]) -> Result<(), String> {
    for (i, a) in choices.iter().enumerate() {
        for b in &choices[i + 1..] {
            if a.name == b.name
                && (a.prefix.starts_with(&b.prefix) || b.prefix.starts_with(&a.prefix))
            {
                return Err(format!(
                    "--bucket {} and --bucket {} overlap: the deployments of one would be inside a \
                     deployment of the other. Offer each folder of a bucket once, without nesting.",
                    a.key, b.key
                ));
            }
        }
    }
    Ok(())
}

impl AppState {
    pub fn new(config: ServeConfig) -> Self {
        AppState {
            config,
            clients: Default::default(),
            scans: Default::default(),
            notes: Default::default(),
            jobs: Default::default(),
            busy: Default::default(),
            next_job: AtomicU64::new(1),
        }
    }

    pub(crate) fn choice(&self, key: Option<&str>) -> Result<&BucketChoice, AppError> {
        let buckets = &self.config.buckets;
        match key {
            None | Some("") => buckets
                .first()
                .ok_or_else(|| AppError::new("no bucket configured: start with --bucket NAME")),
            Some(k) => buckets
                .iter()
                .find(|b| b.key == k || b.name == k)
                .ok_or_else(|| {
                    let known: Vec<&str> = buckets.iter().map(|b| b.key.as_str()).collect();
                    AppError(format!(
                        "bucket '{k}' is not one this server was started with ({})",
                        known.join(", ")
                    ))
                }),
        }
    }

    async fn bucket(&self, c: &BucketChoice) -> Result<Bucket, AppError> {
        let mut clients = self.clients.lock().await;
        if let Some(b) = clients.get(&c.key) {
            return Ok(b.clone());
        }
        let target = Target::new(&c.name, &c.prefix).map_err(AppError::new)?;
        let b = bucket::connect(&self.config.connect, &target).await?;
        clients.insert(c.key.clone(), b.clone());
        Ok(b)
    }

    fn settings(&self) -> ScanSettings {
        ScanSettings {
            live_pointer: self.config.live_pointer.clone(),
            live_from: self.config.live_from.clone(),
            inventory: self.config.inventory.clone(),
            concurrency: self.config.concurrency,
        }
    }

    /// The bucket's scan: the one running, else the cached one unless `rescan` (see
    /// [`scans`]), so visits do not re-list it.
    async fn cached_scan(
        &self,
        c: &BucketChoice,
        b: &Bucket,
        rescan: bool,
    ) -> Result<scans::Answer, AppError> {
        let opts = self.settings().scan_options(&self.config.date_source);
        let date_source = self.config.date_source.clone();
        let b = b.clone();
        self.scans
            .get(&c.key, rescan, move || {
                async move {
                    // The undo window's lifecycle rules, beside the scan (which reads the
                    // versioning). Best effort: the page still shows without
                    // s3:GetLifecycleConfiguration.
                    let (inventory, days) = futures::join!(b.scan(&opts), b.noncurrent_days());
                    let inventory = inventory?;
                    let scanned_at = Utc::now();
                    let undo_window = bucket::UndoWindow::describe(inventory.versioning, days);
                    // Handovers of folders kept whatever the policy (pinned, live,
                    // re-deployed) are withdrawn here; the plan-based check runs on apply.
                    let handovers = prune::expire::reconcile_with_scan(&b, &inventory).await;
                    let inventory = std::sync::Arc::new(inventory);
                    // Dated and sorted here, once, not on every page (the dashboard's rows and
                    // plans all start from this order).
                    let ordered = retention::Ordered::new(inventory.clone(), &date_source, None);
                    Ok(CachedScan {
                        ordered: std::sync::Arc::new(ordered),
                        inventory,
                        scanned_at,
                        undo_window,
                        handovers,
                    })
                }
                .boxed()
            })
            .await
    }

    /// Forgets what this server remembers of bucket `key` (its scan, its notes): it changed.
    fn forget(&self, key: &str) {
        self.scans.forget(key);
        self.notes.forget(key);
    }

    /// Which scan a page load of bucket `key` would show now (see `Scans::generation`): a
    /// page rendered from it may be served again while this stays the same.
    pub fn scan_generation(&self, key: Option<&str>) -> Option<u64> {
        let c = self.choice(key).ok()?;
        self.scans.generation(&c.key)
    }

    /// A scan of the bucket for previews (see [`AppState::cached_scan`]).
    pub async fn scan_view(&self, key: Option<&str>, rescan: bool) -> Result<ScanView, AppError> {
        let c = self.choice(key)?.clone();
        let b = self.bucket(&c).await?;
        let scans::Answer {
            scan:
                CachedScan {
                    inventory,
                    ordered,
                    scanned_at,
                    undo_window,
                    handovers,
                },
            notice,
        } = self.cached_scan(&c, &b, rescan).await?;
        let handover_error = handovers
            .is_dangerous()
            .then(|| handovers.error.clone())
            .flatten();
        let cfg = &self.config;
        // The notes only (a GET each, at most once per `NOTES_FOR`): a page load must not list
        // the journal.
        if rescan {
            self.notes.forget(&c.key);
        }
        let last_successes = self.notes.of(&c.key, &b).await;
        Ok(ScanView {
            last_successes,
            bucket: c,
            buckets: cfg.buckets.clone(),
            endpoint: b.endpoint().to_string(),
            date_source: cfg.date_source.clone(),
            inventory,
            scanned_at,
            now: Utc::now(),
            max_delete: cfg.max_delete,
            lifecycle_over: cfg.lifecycle_over,
            read_only: cfg.read_only,
            live_pointer: cfg.live_pointer.clone(),
            undo_window,
            schedule: cfg.schedule.clone(),
            rules: cfg.rules.clone(),
            handovers: handovers
                .pending
                .into_iter()
                .chain(handovers.withdrawn)
                .collect(),
            handover_error,
            notice,
            ordered: Some(ordered),
        })
    }

    /// The policy the user confirmed: rules (a policy file's text) or RETAIN and a minimum age.
    fn policy(&self, req: &ApplyRequest) -> Result<Policy, AppError> {
        let mut spec = PolicySpec {
            date_source: Some(self.config.date_source.clone()),
            max_delete: Some(self.config.max_delete),
            ..PolicySpec::default()
        };
        match &req.policy {
            Some(text) => {
                spec.rules = Some(
                    retention::parse_policy(text)
                        .map_err(|e| AppError::new(format!("the rules: {e}")))?,
                );
            }
            None => {
                spec.retain = Some(req.retain);
                spec.min_retain_days = req.min_days;
            }
        }
        spec.build().map_err(AppError::new)
    }

    fn refuse_if_read_only(&self) -> Result<(), AppError> {
        if self.config.read_only {
            Err(AppError::new("this dashboard is read-only (started with --read-only): previews only, nothing is changed"))
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
    ) -> Result<(), AppError> {
        self.refuse_if_read_only()?;
        let c = self.choice(Some(key))?.clone();
        let id = retention::DeploymentId::new(id).map_err(AppError::new)?;
        let b = self.bucket(&c).await?;
        let pin = pin.then(|| retention::Pin {
            id: id.clone(),
            reason: reason.trim().to_string(),
            by: user.to_string(),
            at: Some(Utc::now()),
        });
        let pinned = pin.is_some();
        let change = prune::set_pin(&b, &id, pin).await?;
        tracing::info!(bucket = %c.key, deployment = %id, pin = pinned, user, withdrawn = change.handovers.withdrawn.len(), "pin changed from the dashboard");
        self.forget(&c.key);
        if change.handovers.is_dangerous() {
            return Err(AppError(change.handovers.error.unwrap_or_default()));
        }
        Ok(())
    }

    /// Plan binding: a fresh scan and plan with the confirmed policy; deletes (in the
    /// background) only when the result is exactly the confirmed set.
    pub async fn start_apply(
        &self,
        req: ApplyRequest,
        user: impl Into<Actor>,
    ) -> Result<ApplyOutcome, AppError> {
        let user = user.into();
        self.refuse_if_read_only()?;
        let journal = self.audit_log()?;
        let c = self.choice(Some(&req.bucket))?.clone();
        let policy = self.policy(&req)?;
        let busy = Busy::take(&self.busy, &c.key)?;
        let b = self.bucket(&c).await?;
        let checked = match self.recheck(&c, &b, &policy, req.confirmed.clone()).await? {
            Ok(checked) => checked,
            Err(changed) => return Ok(changed),
        };
        if let Some(over) = self
            .approval_over(&c.key)
            .filter(|n| checked.doomed().len() as u64 > *n)
        {
            return self.ask_approval(&b, req, &checked, &user.name, over).await;
        }
        Ok(self.launch(&c, checked, busy, journal, &user))
    }

    /// The audit log every apply is recorded in; none refuses applies.
    fn audit_log(&self) -> Result<Arc<audit::AuditLog>, AppError> {
        self.config
            .audit
            .clone()
            .ok_or_else(|| AppError::new("no audit log is configured: applies are refused"))
    }

    /// Scans and plans afresh and checks the plan deletes exactly `confirmed`; `Err` is what
    /// the page is told instead (nothing deleted).
    async fn recheck(
        &self,
        c: &BucketChoice,
        b: &Bucket,
        policy: &Policy,
        mut confirmed: Vec<retention::Doomed>,
    ) -> Result<Result<prune::Checked, ApplyOutcome>, AppError> {
        let planned = prune::scan_and_plan(b, policy, &self.settings()).await?;
        // What the preview was made of is stale now, whatever happens next.
        self.forget(&c.key);
        confirmed.sort();
        let checked = match prune::check(planned, Some(&confirmed)) {
            Ok(c) => c,
            Err(r @ Refusal::Changed(_)) => {
                return Ok(Err(ApplyOutcome::Changed {
                    message: r.to_string(),
                }))
            }
            Err(r) => return Err(AppError::new(r)),
        };
        if checked.doomed().is_empty() {
            return Ok(Err(ApplyOutcome::Changed {
                message: "Nothing to delete: the plan keeps every deployment.".into(),
            }));
        }
        Ok(Ok(checked))
    }

    /// Starts deleting in the background as `who`; the page follows the job.
    fn launch(
        &self,
        c: &BucketChoice,
        checked: prune::Checked,
        busy: Busy,
        journal: Arc<audit::AuditLog>,
        who: &Actor,
    ) -> ApplyOutcome {
        let job = Arc::new(Job {
            deployments_total: checked.doomed().len() as u64,
            objects_total: checked.planned().plan.summary.delete.objects,
            progress: Arc::new(Progress::default()),
            outcome: Mutex::new(None),
        });
        let id = self.next_job.fetch_add(1, Ordering::Relaxed);
        self.jobs.lock().unwrap().insert(id, job.clone());
        let ctx = prune::ApplyContext {
            who: who.name.clone(),
            via: who.via.clone(),
            source: "dashboard",
            concurrency: self.config.concurrency,
            progress: job.progress.clone(),
            journal,
            notifier: self.config.notifier.clone(),
            lifecycle_over: self.config.lifecycle_over,
            require_lease: false,
        };
        tracing::info!(bucket = %c.key, deployments = job.deployments_total, objects = job.objects_total, who = %who.name, "apply started from the dashboard");
        let (notes, key) = (self.notes.clone(), c.key.clone());
        // Runs to the end even if the browser goes away; the mark goes with it.
        tokio::spawn(async move {
            let _busy = busy;
            let outcome = match prune::apply(checked, ctx).await {
                Ok(report) => {
                    let r = &report.record;
                    tracing::info!(bucket = %r.bucket, status = %r.status, deleted = r.deleted_objects, failed = r.failures.len(), "apply finished");
                    Ok(report.record)
                }
                Err(e) => {
                    tracing::error!(error = %e, "apply did not start");
                    Err(e.to_string())
                }
            };
            // The run noted its success: the next page reads the notes again.
            notes.forget(&key);
            *job.outcome.lock().unwrap_or_else(|e| e.into_inner()) = Some(outcome);
        });
        ApplyOutcome::Started { job: id }
    }

    /// For shutdown: asks every running apply to stop after its requests in flight and waits
    /// until each has written its record.
    pub async fn stop_applies(&self) {
        let jobs: Vec<Arc<Job>> = self.jobs.lock().unwrap().values().cloned().collect();
        for j in &jobs {
            j.progress.request_stop();
        }
        while !self
            .busy
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_empty()
        {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }

    /// Buckets with an apply running now.
    pub fn applies_running(&self) -> usize {
        self.busy.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// The newest runs on record, newest first: this server's audit log, and the journal of
    /// every configured bucket (runs of the CLI, the scheduled job and other servers included;
    /// a run in both is shown once, with this server's record number).
    pub async fn history(&self, limit: usize) -> Result<Vec<audit::Record>, AppError> {
        let mut runs = match &self.config.audit {
            Some(log) => log.list(limit).map_err(AppError::new)?,
            None => Vec::new(),
        };
        let known: std::collections::HashSet<String> =
            runs.iter().filter_map(|r| r.run.clone()).collect();
        for c in self.config.buckets.clone() {
            let b = self.bucket(&c).await?;
            let place = bucket::JournalPlace::of(&b);
            match prune::journal::records(&place, limit).await {
                Ok((records, unreadable)) => {
                    for u in unreadable {
                        tracing::warn!(journal = %place.url(), name = %u.name, problem = %u.problem, "unreadable run skipped");
                    }
                    runs.extend(
                        records
                            .into_iter()
                            .filter(|r| r.run.as_ref().is_none_or(|id| !known.contains(id))),
                    );
                }
                Err(e) => tracing::warn!(journal = %place.url(), error = %e, "journal unreadable"),
            }
        }
        runs.sort_by_key(|r| std::cmp::Reverse(r.started_at));
        runs.truncate(limit);
        Ok(runs)
    }

    pub fn job_status(&self, job: u64) -> Result<JobStatus, AppError> {
        let j = self
            .jobs
            .lock()
            .unwrap()
            .get(&job)
            .cloned()
            .ok_or_else(|| AppError(format!("no apply job {job}")))?;
        let outcome = j.outcome.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let (report, error) = match outcome {
            Some(Ok(r)) => (Some(r), None),
            Some(Err(e)) => (None, Some(e)),
            None => (None, None),
        };
        Ok(JobStatus {
            deployments_done: j.progress.deployments_done.load(Ordering::Relaxed),
            deployments_total: j.deployments_total,
            objects_done: j.progress.objects_done.load(Ordering::Relaxed),
            objects_total: j.objects_total,
            report,
            error,
        })
    }
}

/// Who acts, as the records name them: the person, and how they signed in.
#[derive(Debug, Clone)]
pub struct Actor {
    pub name: String,
    pub via: Option<String>,
}

impl From<&str> for Actor {
    fn from(name: &str) -> Self {
        Actor {
            name: name.to_string(),
            via: None,
        }
    }
}

impl From<&crate::wire::Person> for Actor {
    fn from(p: &crate::wire::Person) -> Self {
        Actor {
            name: p.name.clone(),
            via: Some(p.via.clone()),
        }
    }
}

/// Who is signed in, as the server's auth layer recorded it on the request.
#[derive(Debug, Clone)]
pub struct User(pub crate::wire::Person);

/// The signed-in person of this request; `None` when the auth layer recorded nobody.
pub async fn signed_in() -> Option<crate::wire::Person> {
    leptos_axum::extract::<axum::Extension<User>>()
        .await
        .ok()
        .map(|axum::Extension(User(p))| p)
}

/// The name the records carry for this request's person.
pub async fn current_user() -> String {
    signed_in()
        .await
        .map_or_else(|| "unknown".into(), |p| p.name)
}

/// This request's person if their role on bucket `bucket` (a `--bucket` key or name; `None`:
/// the first) is at least `role`; otherwise the request is refused (401, 403).
pub async fn require_in(
    bucket: Option<&str>,
    role: crate::wire::Role,
) -> Result<crate::wire::Person, ServerFnError> {
    let p = require(crate::wire::Role::Viewer).await?;
    let key = state()?
        .choice(bucket)
        .map(|c| c.key.clone())
        .map_err(|e| ServerFnError::new(e.0))?;
    if p.role_in(&key) >= role {
        return Ok(p);
    }
    if let Some(r) = use_context::<leptos_axum::ResponseOptions>() {
        r.set_status(axum::http::StatusCode::FORBIDDEN);
    }
    tracing::warn!(who = %p.name, bucket = %key, needs = role.name(), "refused a request the role does not allow on this bucket");
    Err(ServerFnError::new(format!(
        "{} signed in as {} on {key}: this needs the {} role there (an admin maps your group to it in [serve.roles])",
        p.name,
        p.role_in(&key).name(),
        role.name()
    )))
}

/// This request's person if their role is at least `role`; otherwise the request is refused
/// (401 nobody signed in, 403 a role too small), whatever the page showed.
pub async fn require(role: crate::wire::Role) -> Result<crate::wire::Person, ServerFnError> {
    use axum::http::StatusCode;
    let refuse = |status: StatusCode, msg: String| {
        if let Some(r) = use_context::<leptos_axum::ResponseOptions>() {
            r.set_status(status);
        }
        Err(ServerFnError::new(msg))
    };
    match signed_in().await {
        None => refuse(StatusCode::UNAUTHORIZED, "not signed in".into()),
        Some(p) if p.role < role => {
            tracing::warn!(who = %p.name, role = p.role.name(), needs = role.name(), "refused a request the role does not allow");
            refuse(
                StatusCode::FORBIDDEN,
                format!(
                    "{} signed in as {}: this needs the {} role (an admin maps your group to it in [serve.roles])",
                    p.name,
                    p.role.name(),
                    role.name()
                ),
            )
        }
        Some(p) => Ok(p),
    }
}

/// Sets the page's Content-Security-Policy: scripts only from us or carrying this response's
/// nonce (the hydration script), wasm allowed, no framing, no foreign connections.
pub fn content_security_policy() {
    let Some(response) = use_context::<leptos_axum::ResponseOptions>() else {
        return;
    };
    let nonce = leptos::nonce::use_nonce()
        .map(|n| format!("'nonce-{n}'"))
        .unwrap_or_default();
    if let Ok(v) = axum::http::HeaderValue::from_str(&page_csp(&nonce)) {
        response.insert_header(axum::http::header::CONTENT_SECURITY_POLICY, v);
    }
}

/// The pages' Content-Security-Policy, with `inline` the sources that allow the page's own
/// inline scripts (this response's nonce, or the hashes of a page served from the page cache).
pub fn page_csp(inline: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' {inline} 'wasm-unsafe-eval'; style-src 'self'; \
         img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    )
}
