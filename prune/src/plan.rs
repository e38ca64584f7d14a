//! Step 1: a fresh scan, decided by the retention core.

use bucket::{Bucket, S3Error, ScanOptions, Scanned};
use chrono::Utc;
use retention::{DateSource, Plan, Policy};

/// How to scan: the live pointer to read and how many requests may be in flight.
#[derive(Debug, Clone)]
pub struct ScanSettings {
    pub live_pointer: Option<String>,
    /// A page of the site whose references name the live deployments (`--live-from`).
    pub live_from: Option<String>,
    /// Plan from this S3 Inventory report instead of listing the bucket (`--inventory`).
    pub inventory: Option<bucket::inventory::InventoryLocation>,
    pub concurrency: usize,
}

impl ScanSettings {
    /// What to ask a scan for, dating deployments by `date_source`.
    pub fn scan_options(&self, date_source: &DateSource) -> ScanOptions {
        ScanOptions {
            concurrency: self.concurrency,
            meta_key: date_source.meta_key().map(str::to_string),
            live_pointer: self.live_pointer.clone(),
            live_from: self.live_from.clone(),
            // The dashboard's: its previews keep the previous live for the default grace, and
            // its timeline shows what was live before that too.
            live_grace: Some(std::time::Duration::from_secs(
                retention::DEFAULT_LIVE_GRACE.as_secs(),
            )),
            live_history_past_grace: true,
        }
    }
}

/// A plan with the bucket it was made of and the extra facts a report needs.
#[derive(Debug, Clone)]
pub struct Planned {
    pub bucket: Bucket,
    pub plan: Plan,
    /// Versions and delete markers `--purge-versions` would remove, when asked.
    pub versions_to_purge: Option<u64>,
    /// The date of the S3 Inventory report the plan was made from (`--inventory`).
    pub report_date: Option<chrono::DateTime<Utc>>,
    /// The live pointer's key the plan read (`--live-pointer`): read again while applying.
    pub live_pointer: Option<String>,
    /// The page of the site the plan read for live deployments (`--live-from`): read again
    /// while applying.
    pub live_from: Option<String>,
    /// s3-prune's S3 lifecycle handovers, compared with this plan: rules of folders it keeps
    /// were removed by this scan.
    pub handovers: crate::Handovers,
    /// This machine's clock against S3's, as the scan measured it: the run's times (its notes,
    /// the live pointer's changes it records) are S3's, as the plan's `now` is.
    pub skew: bucket::ClockSkew,
    /// The live pointer's version the plan read (a versioned bucket's): an apply holds what
    /// the versions written after it named.
    pub live_read: Option<bucket::PointerRead>,
}

impl Planned {
    /// Whether `restore` could undo a run of this plan: the bucket keeps versions and the
    /// policy does not purge them (the run then records its delete markers).
    pub fn undoable(&self) -> bool {
        crate::apply::deletion(self) == bucket::Deletion::Marked
    }
}

/// The bucket's deployments as every front end sees them: listed now, or read from the S3
/// Inventory report `settings` names (`--inventory`) — one choice for the dashboard's preview
/// and for every plan an apply is checked against. The dates file is left for the caller to
/// write ([`Scanned`]).
pub async fn scan(
    bucket: &Bucket,
    settings: &ScanSettings,
    date_source: &retention::DateSource,
) -> Result<Scanned, S3Error> {
    scan_with(bucket, settings, settings.scan_options(date_source)).await
}

/// [`scan`] asked as `opts` says.
async fn scan_with(
    bucket: &Bucket,
    settings: &ScanSettings,
    opts: ScanOptions,
) -> Result<Scanned, S3Error> {
    // Boxed: a scan's future is large (its listings, facts and a report's reading side by
    // side), and every caller's future would hold it — a debug build's dashboard request then
    // overflowed a 2 MiB thread stack.
    let scanned = match &settings.inventory {
        None => Box::pin(bucket.scan_unsaved(&opts)).await,
        Some(at) => Box::pin(bucket.scan_inventory_unsaved(at, &opts)).await,
    }?;
    // Aged by S3's clock, which wrote every Last-Modified (a machine whose clock runs days
    // ahead would otherwise delete what --min-retain-days keeps): said when this one's is off.
    if let Some(w) = scanned.skew.warning() {
        tracing::warn!(bucket = %bucket.name(), "{w}");
    }
    Ok(scanned)
}

/// Lists the bucket now (or reads its report, [`scan`]) and plans it with `policy` at the
/// current time.
pub async fn scan_and_plan(
    bucket: &Bucket,
    policy: &Policy,
    settings: &ScanSettings,
) -> Result<Planned, S3Error> {
    let Scanned {
        inventory,
        dates,
        warnings,
        skew,
        live_read,
    } = scan_with(bucket, settings, {
        // The live pointer's versions are read back as far as this policy's grace.
        let mut opts = settings.scan_options(&policy.date_source);
        opts.live_grace = Some(std::time::Duration::from_secs(policy.live_grace.as_secs()));
        opts.live_history_past_grace = false;
        opts
    })
    .await?;
    let mut plan = retention::plan(&inventory, policy, skew.now());
    // How the input was read (a report a listing contradicts): said with the plan's own.
    plan.warnings.extend(warnings);
    // The dates file is written beside the handovers' check: one round trip, not two.
    let (handovers, ()) = futures::join!(
        crate::expire::reconcile_with_plan(bucket, &plan, inventory.report_date),
        dates.write()
    );
    let versions_to_purge = if policy.purge_versions && plan.versioning.keeps_versions() {
        let ids: Vec<_> = plan.to_delete().map(|e| e.id.clone()).collect();
        Some(bucket.count_versions(&ids, settings.concurrency).await?)
    } else {
        None
    };
    Ok(Planned {
        bucket: bucket.clone(),
        plan,
        versions_to_purge,
        report_date: inventory.report_date,
        live_pointer: settings.live_pointer.clone(),
        live_from: settings.live_from.clone(),
        handovers,
        skew,
        live_read,
    })
}
