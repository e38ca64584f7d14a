//! The server half of the dashboard (ssr only): the scan cache for previews, and applies, which
//! are the engine's (`prune`): a fresh scan, the check against what the user confirmed, the
//! journal, the deletion. One apply per bucket at a time, released on every path.

use crate::wire::{BucketChoice, ScanView, Schedule};
use bucket::{Bucket, Connect, Target};
use chrono::{DateTime, Utc};
use futures::FutureExt;
use leptos::prelude::*;
use prune::ScanSettings;
use retention::{DateSource, Inventory};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

mod apply;
mod approvals;
mod busy;
mod choices;
mod csp;
mod history;
mod jobs;
mod lease;
mod notes;
mod overview;
mod people;
mod restore;
mod scans;

use busy::Busy;
pub use choices::{check_overlaps, parse_bucket_arg};
pub use csp::{content_security_policy, not_found, page_csp};
pub use history::HISTORY_PAGE;
pub use notes::NOTES_FOR;
pub use people::{current_user, require, require_in, signed_in, Actor, User};
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

impl From<prune::PinError> for AppError {
    fn from(e: prune::PinError) -> Self {
        AppError::new(e)
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
    /// `serve --pin` and `--exclude` (and the config file's `guards`): kept in every preview and
    /// apply.
    pub pins: Vec<retention::DeploymentId>,
    pub excludes: Vec<retention::Glob>,
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
    /// What this dashboard seals its approval requests with (`--approval-key-file`, else a key
    /// kept beside the audit log); it runs only requests sealed with it.
    pub approval_key: prune::approval::ApprovalKey,
}

/// Everything the server functions share; provided to them as context.
pub struct AppState {
    config: ServeConfig,
    clients: tokio::sync::Mutex<HashMap<String, Bucket>>,
    scans: scans::Scans,
    notes: notes::Notes,
    /// Run records of the buckets' journals that have ended (immutable), read once.
    ended: prune::journal::EndedRuns,
    jobs: jobs::Jobs,
    /// Buckets with an apply or restore running from here, and which: one at a time per bucket.
    /// Held by [`Busy`] guards.
    busy: Arc<Mutex<HashMap<String, busy::Work>>>,
}

/// One bucket's scan as the page shows it, with what its configuration says about undo.
#[derive(Clone)]
struct CachedScan {
    inventory: std::sync::Arc<Inventory>,
    /// The inventory dated and ordered under the server's date source, once per scan.
    ordered: std::sync::Arc<retention::Ordered>,
    scanned_at: DateTime<Utc>,
    /// This server's clock against S3's: pages are planned at S3's now, as an apply is.
    skew: bucket::ClockSkew,
    undo_window: String,
    handovers: prune::Handovers,
    /// What the scan warned of, for every page's plan.
    warnings: Vec<retention::Warning>,
}

/// The state of this server, from the request's context.
pub fn state() -> Result<Arc<AppState>, ServerFnError> {
    use_context::<Arc<AppState>>()
        .ok_or_else(|| ServerFnError::new("server state missing: s3-prune serve was not set up"))
}

/// The bucket's name, typed to confirm a change. The page asks for it before it sends
/// anything; a request that did not type it (another client, a script) is refused here too,
/// and `nothing` says what did not happen ("deleted", "restored").
fn typed_name(confirm: &str, c: &BucketChoice, nothing: &str) -> Result<(), AppError> {
    if confirm.trim() == c.name {
        return Ok(());
    }
    Err(AppError(format!(
        "type the bucket name '{}' to confirm; nothing was {nothing}",
        c.name
    )))
}

impl AppState {
    pub fn new(config: ServeConfig) -> Self {
        AppState {
            config,
            clients: Default::default(),
            scans: Default::default(),
            notes: Default::default(),
            ended: Default::default(),
            jobs: Default::default(),
            busy: Default::default(),
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
        let settings = self.settings();
        let date_source = self.config.date_source.clone();
        let b = b.clone();
        self.scans
            .get(&c.key, rescan, move || {
                async move {
                    // The undo window's lifecycle rules, beside the scan (which reads the
                    // versioning). Best effort: the page still shows without
                    // s3:GetLifecycleConfiguration.
                    // Listed, or read from the report (`--inventory`), as the apply's check.
                    // When the listing began, by S3's clock (the notes' clock): a run that
                    // ended during the listing is later than it, so the next page scans again.
                    // Before, the time after the listing was taken, by this host's clock, and
                    // such a run's deletions stayed on the page until a Rescan.
                    let began = Utc::now();
                    let (scanned, days) = futures::join!(
                        prune::scan(&b, &settings, &date_source),
                        b.noncurrent_days()
                    );
                    let scanned = scanned?;
                    let skew = scanned.skew;
                    let warnings = scanned.warnings.clone();
                    let inventory = scanned.remembered().await;
                    let scanned_at = began - skew.0;
                    let undo_window = bucket::UndoWindow::describe(inventory.versioning, days);
                    // Handovers of folders kept whatever the policy (pinned, live,
                    // re-deployed) are withdrawn here; the plan-based check runs on apply.
                    let handovers =
                        prune::expire::reconcile_with_scan(&b, &inventory, skew.now()).await;
                    let inventory = std::sync::Arc::new(inventory);
                    // Dated and sorted here, once, not on every page (the dashboard's rows and
                    // plans all start from this order).
                    let ordered = retention::Ordered::new(inventory.clone(), &date_source, None);
                    Ok(CachedScan {
                        ordered: std::sync::Arc::new(ordered),
                        inventory,
                        scanned_at,
                        skew,
                        undo_window,
                        handovers,
                        warnings,
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

    /// A scan of the bucket for previews (see `AppState::cached_scan`).
    pub async fn scan_view(&self, key: Option<&str>, rescan: bool) -> Result<ScanView, AppError> {
        let c = self.choice(key)?.clone();
        let b = self.bucket(&c).await?;
        let mut answer = self.cached_scan(&c, &b, rescan).await?;
        // The notes only (a GET each, at most once per `NOTES_FOR`): a page load must not list
        // the journal.
        if rescan {
            self.notes.forget(&c.key);
        }
        let last_successes = self.notes.of(&c.key, &b, answer.scan.skew.now()).await;
        // A run that ended after the cached scan (the CLI's, the scheduled job's, another
        // server's, or this one's from a page since closed) deleted what the scan still shows:
        // scanned again, as the overview does.
        let s3_now = answer.scan.skew.now();
        if !rescan && notes::ran_since(&last_successes, answer.scan.scanned_at, s3_now) {
            self.scans.forget(&c.key);
            answer = self.cached_scan(&c, &b, false).await?;
        }
        let scans::Answer {
            scan:
                CachedScan {
                    inventory,
                    ordered,
                    scanned_at,
                    skew,
                    undo_window,
                    handovers,
                    warnings: scan_warnings,
                },
            notice,
        } = answer;
        let handover_error = handovers
            .is_dangerous()
            .then(|| handovers.error.clone())
            .flatten();
        let cfg = &self.config;
        Ok(ScanView {
            last_successes,
            bucket: c,
            buckets: cfg.buckets.clone(),
            endpoint: b.endpoint().to_string(),
            date_source: cfg.date_source.clone(),
            inventory,
            scanned_at,
            now: skew.now(),
            max_delete: cfg.max_delete,
            pins: cfg.pins.clone(),
            excludes: cfg.excludes.clone(),
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
            scan_warnings: (!scan_warnings.is_empty()).then(|| {
                let worded = scan_warnings
                    .iter()
                    .map(|w| format!("Warning: {}", w.for_dashboard()));
                worded.collect::<Vec<_>>().join(" ")
            }),
            ordered: Some(ordered),
        })
    }

    /// What this server lays on every policy (`dashboard::policy::Imposed`, as the page has it
    /// from the scan view).
    fn imposed(&self) -> crate::dashboard::policy::Imposed {
        let cfg = &self.config;
        crate::dashboard::policy::Imposed {
            date_source: cfg.date_source.clone(),
            max_delete: cfg.max_delete,
            pins: cfg.pins.clone(),
            excludes: cfg.excludes.clone(),
        }
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
            // Saved all the same: the page must not read it as refused.
            let danger = change.handovers.error.unwrap_or_default();
            return Err(AppError(format!("saved, but {danger}")));
        }
        Ok(())
    }
}
