//! Who holds a bucket's lease right now (`<prefix>.s3-prune/lease`), for the dashboard to say
//! before anyone opens the Apply dialog: an apply, a restore or an undo-window change, from the
//! CLI, the scheduled job or another dashboard.

use super::{AppError, AppState};
use crate::wire::LeaseView;
use bucket::LeaseTask;
use chrono::Utc;

impl AppState {
    /// The lease of bucket `key` as it stands; `None` when nobody holds it.
    pub async fn lease_holder(&self, key: &str) -> Result<Option<LeaseView>, AppError> {
        let c = self.choice(Some(key))?.clone();
        let b = self.bucket(&c).await?;
        let held = b.read_lease().await.map_err(AppError::new)?;
        Ok(held.map(|(h, _)| LeaseView {
            // Expired, or its process gone from this host (killed): an apply from here takes it
            // over at once, so the page does not hold Delete back for its last minute.
            expired: !prune::journal::holds_lease(Some(&h), &h.run, Utc::now()),
            who: h.who,
            source: h.source,
            host: h.host,
            run: h.run,
            since: h.since,
            what: what_holds(h.task).into(),
        }))
    }
}

/// What holds a bucket, to begin the page's sentence ("… is running on this bucket").
fn what_holds(task: Option<LeaseTask>) -> &'static str {
    match task {
        // Written before leases said (an apply or a restore of an older s3-prune).
        None | Some(LeaseTask::Apply) => "Another apply",
        Some(LeaseTask::Restore) => "A restore",
        Some(LeaseTask::UndoWindow) => "A change of the undo window",
        Some(LeaseTask::Other) => "Another run",
    }
}
