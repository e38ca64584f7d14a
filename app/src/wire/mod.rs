//! What the dashboard and the server say to each other: the types only (the server functions
//! are in [`crate::api`], the work in `crate::server`).

use chrono::{DateTime, Utc};
use retention::{DateSource, Doomed, Inventory};
use serde::{Deserialize, Serialize};

pub mod codec;
mod columns;
mod history;
mod person;
mod report;

pub use history::{HistoryPage, PageStart, RunDetails, RunRow, UnreadableRun};
pub use person::{Person, Role, VIA_TOKEN};
pub use report::{ApplyReport, LeftAlone, RestoreDone, REPORT_LINES};

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
    /// In columns on the wire (see `columns`); shared, not copied, by the page's parts.
    #[serde(with = "columns::shared")]
    pub inventory: std::sync::Arc<Inventory>,
    pub scanned_at: DateTime<Utc>,
    /// The server's clock when this answer was made: the preview's "now", so the page renders
    /// the same on the server and in the browser.
    pub now: DateTime<Utc>,
    /// The blast-radius guard the server applies (`--max-delete`), previewed too.
    pub max_delete: u64,
    /// Deployments the server always keeps and ids it leaves alone (`serve --pin`,
    /// `--exclude`, the config file's `guards`): the page plans with them, as the apply does.
    #[serde(default)]
    pub pins: Vec<retention::DeploymentId>,
    #[serde(default)]
    pub excludes: Vec<retention::Glob>,
    /// `serve --via-lifecycle`: an apply hands doomed deployments of more objects than this to
    /// S3 lifecycle expiration instead of deleting them by requests.
    #[serde(default)]
    pub lifecycle_over: Option<u64>,
    /// Started with `--read-only`: previews only.
    pub read_only: bool,
    pub live_pointer: Option<String>,
    /// "deleted deployments can be restored for 7 days" / "no undo: …", from the bucket.
    pub undo_window: String,
    /// The scheduled job's policy, when the server was told about it: the page forecasts it.
    pub schedule: Option<Schedule>,
    /// The server's policy file (`serve --policy FILE`): the page starts with these rules.
    #[serde(default)]
    pub rules: Option<retention::Rules>,
    /// s3-prune's S3 lifecycle handovers: pending (with the day each was handed over), and
    /// those the scan withdrew because their folders are kept now.
    #[serde(default)]
    pub handovers: Vec<audit::Expiry>,
    /// A kept folder's lifecycle rule could not be removed: S3 may still expire it.
    #[serde(default)]
    pub handover_error: Option<String>,
    /// Why this answer is not the fresh scan asked for (a Rescan too soon after the last one).
    #[serde(default)]
    pub notice: Option<String>,
    /// Each front end's last run that ended well on this bucket, newest first.
    #[serde(default)]
    pub last_successes: Vec<SourceSuccess>,
    /// What the scan itself warned of (the live pointer's versions unread, an inventory report
    /// out of date), in the dashboard's words, each "Warning: …": every preview shows them, as
    /// `s3-prune plan` does. Sent worded, as one text: the browser then carries no decoder for
    /// every kind of warning (that cost 12 KB brotli).
    #[serde(default)]
    pub scan_warnings: Option<String>,
    /// The scan dated and ordered once (see [`ScanView::ordered`]): set by the server from its
    /// cached scan, so pages do not date and sort every deployment again; not sent (the
    /// browser orders its copy once, when the page loads).
    #[serde(skip)]
    pub ordered: Option<std::sync::Arc<retention::Ordered>>,
}

impl ScanView {
    /// The scan dated and ordered under the page's date source: the server's copy (made once
    /// per scan) when it is of this inventory and date source, else made now.
    pub fn ordered(&self) -> std::sync::Arc<retention::Ordered> {
        use std::sync::Arc;
        match &self.ordered {
            Some(o)
                if Arc::ptr_eq(o.inventory(), &self.inventory)
                    && o.date_source() == &self.date_source =>
            {
                o.clone()
            }
            _ => Arc::new(retention::Ordered::new(
                self.inventory.clone(),
                &self.date_source,
                None,
            )),
        }
    }
}

/// Who holds a bucket's lease (an apply, a restore or an undo-window change is running, from any
/// front end or machine).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaseView {
    pub who: String,
    /// `cli`, `dashboard` or `lambda`.
    pub source: String,
    pub host: String,
    pub run: String,
    pub since: DateTime<Utc>,
    /// What holds it, to begin a sentence: "Another apply", "A restore", "A change of the undo
    /// window" (said by the server: the browser carries no names of its own).
    pub what: String,
    /// Past its expiry: a stopped run's lease, which the next apply takes over.
    pub expired: bool,
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
    /// The simple policy (unused when `policy` is given).
    pub retain: u64,
    pub min_days: Option<u64>,
    /// Rules, as a policy file: the server re-plans with exactly these.
    #[serde(default)]
    pub policy: Option<String>,
    /// The deletion set the user saw.
    pub confirmed: Vec<Doomed>,
    /// What the user typed to confirm: the bucket's name (checked by the server too).
    #[serde(default)]
    pub confirm: String,
    /// The dialog said History can undo the run: refused if it could not be any more.
    #[serde(default)]
    pub undoable: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ApplyOutcome {
    /// Deleting in the background; poll `apply_status`.
    Started { job: u64 },
    /// A fresh scan no longer yields what the user confirmed: nothing was deleted.
    Changed { message: String },
    /// Too many deployments for one person (`serve --approval-over`): filed as request `id`,
    /// which another deployer approves on the dashboard. Nothing was deleted.
    AwaitingApproval { id: String, message: String },
}

/// An approval request as a bucket's page lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApprovalView {
    pub id: String,
    pub requested_by: String,
    pub requested_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub deployments: u64,
    pub objects: u64,
    /// The deployments it would delete.
    pub ids: Vec<String>,
    /// Undecided and not expired.
    pub pending: bool,
    /// "waiting for a second deployer", "approved by …", "refused by …", "expired", "void: …".
    pub status: String,
    /// Asked by the person looking: they cannot decide it.
    pub mine: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobStatus {
    pub deployments_done: u64,
    pub deployments_total: u64,
    pub objects_done: u64,
    pub objects_total: u64,
    /// The run's report once it ended (its whole record is in History).
    pub report: Option<ApplyReport>,
    /// The apply never started (its audit record could not be written): nothing was deleted.
    #[serde(default)]
    pub error: Option<String>,
}

/// One bucket on the start page (several buckets configured).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OverviewRow {
    pub bucket: BucketChoice,
    /// The scan, or why there is none (that bucket only; the others still show).
    pub scan: Result<BucketSummary, String>,
    /// How long the scan took (0 when it came from the cache).
    pub scan_ms: u64,
    /// The newest apply on record for this bucket and prefix.
    pub last_apply: Option<LastApply>,
    /// Each front end's last run that ended well (nothing to delete counts), newest first.
    #[serde(default)]
    pub last_successes: Vec<SourceSuccess>,
    /// The bucket's runs on record (its newest hundred, however many other buckets ran since), by status.
    #[serde(default)]
    pub runs: Vec<RunCount>,
    /// Another apply holds the bucket's lease now.
    #[serde(default)]
    pub lease_held: bool,
}

/// One front end's last successful run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceSuccess {
    /// `cli`, `dashboard` or `lambda`.
    pub source: String,
    pub at: DateTime<Utc>,
    /// Older than [`OVERDUE_AFTER_SECS`] when the page was made: shown in red.
    pub late: bool,
}

/// How many runs on record ended with `status`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunCount {
    pub status: String,
    pub count: u64,
}

/// A deletion allowed by the policy for longer than this is overdue (`check`'s default): the
/// overview and the metrics count them.
pub const OVERDUE_AFTER_SECS: u64 = 2 * 24 * 3600;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BucketSummary {
    pub deployments: u64,
    pub bytes: u64,
    pub scanned_at: DateTime<Utc>,
    pub undo_window: String,
    /// What the configured policy (serve --policy, else the schedule) would delete now; `None`
    /// when neither is configured.
    pub forecast: Option<Forecast>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Forecast {
    /// The policy, as the plan states it.
    pub policy: String,
    pub delete_deployments: u64,
    pub delete_bytes: u64,
    /// Blocked (e.g. by --max-delete): it would delete nothing.
    pub blocked: bool,
    /// Of those, deletable for longer than [`OVERDUE_AFTER_SECS`]: cleanup is behind.
    #[serde(default)]
    pub overdue_deployments: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LastApply {
    /// `#N` in the server's audit log, or the run id in the bucket's journal.
    pub run: String,
    /// `cli`, `dashboard` or `lambda`.
    pub source: String,
    pub at: DateTime<Utc>,
    pub status: String,
    pub deleted: u64,
}
