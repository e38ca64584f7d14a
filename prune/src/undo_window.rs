//! `undo-window`: the bucket's lifecycle rule for old versions, set under the bucket's lease.
//!
//! S3 has no conditional write of a bucket's lifecycle rules: every edit reads them and writes
//! back what it read. An apply handing folders to S3 expiration (`--via-lifecycle`) and a
//! restore withdrawing handovers edit the same rules under the lease; an undo window set beside
//! them could write back a rule they had just withdrawn (S3 would then expire a kept folder) or
//! drop one they had just written. So it takes the lease too, and is refused while a run holds it.

use crate::error::ApplyError;
use bucket::{Bucket, RunId, S3Error, UndoWindowSet};
use chrono::Utc;
use std::sync::Arc;

/// Why the undo window was not set; nothing was changed.
#[derive(Debug, thiserror::Error)]
pub enum UndoWindowError {
    /// Another run holds the bucket's lease (or it could not be taken).
    #[error("the undo window was not changed (an apply or restore may be editing the bucket's lifecycle rules): {0}")]
    Lease(#[from] ApplyError),
    #[error(transparent)]
    S3(#[from] S3Error),
}

/// Who sets the window, for the lease's holder (named to anyone refused meanwhile).
pub struct UndoWindowBy<'a> {
    /// `user@host` or the dashboard's user.
    pub who: &'a str,
    /// `cli`, `dashboard` or `lambda`.
    pub source: &'a str,
}

/// Sets the bucket's undo window to `days` ([`Bucket::set_undo_window`]; where old versions
/// are kept for ever now, only with `expire_kept`) while holding the bucket's lease: refused,
/// naming the holder, while an apply or restore runs.
pub async fn set_undo_window(
    bucket: &Bucket,
    days: i32,
    expire_kept: bool,
    by: UndoWindowBy<'_>,
) -> Result<UndoWindowSet, UndoWindowError> {
    // Not a run (nothing is journalled): named so in every refusal that quotes the holder.
    let run = format!("undo-window-{}", RunId::new(Utc::now()));
    let holder = crate::lease::holder(
        run,
        by.who,
        by.source,
        crate::apply::host(),
        bucket::LeaseTask::UndoWindow,
    );
    let lease = crate::lease::take_lease(bucket, holder, false).await?;
    // Renewed while the rules settle (a write S3 has not shown yet is waited for, up to 30 s).
    let lease = Arc::new(lease);
    let held = std::future::ready(Some(lease.clone()));
    let keeper =
        crate::lease::Keeper::start(bucket.clone(), held, Arc::new(bucket::Progress::default()));
    let set = bucket.set_undo_window(days, expire_kept).await;
    if let Some(why) = keeper.stop().await {
        tracing::warn!(
            why,
            "the bucket's lease was lost while the undo window was set"
        );
    }
    crate::lease::release(bucket, &lease, None).await;
    Ok(set?)
}
