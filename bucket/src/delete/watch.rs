//! What the caller of a deletion checks and records while it runs: beside a deployment's first
//! listing page, before any of its keys is sent, whether it is still to go (a pin or the live
//! pointer may have changed since the plan); before each batch is sent, that the run is on
//! record (`prune`: its start and folders); after S3 answered, the markers and failures. `prune` implements it; tests and plain callers use
//! [`Unwatched`].

use super::{KeyFailure, NewMarker};
use futures::future::BoxFuture;
use retention::DeploymentId;
use serde::{Deserialize, Serialize};

/// One key of a batch about to be sent, with the deployment it belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchKey {
    pub deployment: DeploymentId,
    pub key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_id: Option<String>,
}

/// What one batch's DeleteObjects answered, per deployment.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchOutcome {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub markers: Vec<(DeploymentId, NewMarker)>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub failed: Vec<KeyFailure>,
}

/// Hooks into a running deletion. An `Err` from a batch hook stops the run: no batch is sent
/// after it (and the batch a failed `before_batch` was for is not sent either).
pub trait Watch: Send + Sync {
    /// Beside deployment `id`'s first listing page, before any of its keys is sent, and for a
    /// deployment too big to hold again before its deleting pass (its checking pass may have
    /// taken minutes): `Some(reason)` leaves it untouched (it was pinned or went live since
    /// the plan).
    fn hold<'a>(&'a self, id: &'a DeploymentId) -> BoxFuture<'a, Option<String>>;
    /// A batch is about to wait on `before_batch` and then ask `hold` of a deployment not yet
    /// decided: the watch may start reading what `hold` needs now, beside that wait, as long
    /// as `hold` still answers from a reading fresh enough when it is asked.
    fn prefetch(&self) {}
    /// Batch `n` (numbered from 1), of `keys`, is about to be sent: it waits until this
    /// resolves (what the watch records before any delete is on record).
    fn before_batch<'a>(
        &'a self,
        n: u64,
        keys: &'a [BatchKey],
    ) -> BoxFuture<'a, Result<(), String>>;
    /// Batch `n` was answered — or, with an empty outcome, was never sent (numbered, then the
    /// run stopped): either way nothing of it is in doubt.
    fn after_batch<'a>(
        &'a self,
        n: u64,
        outcome: &'a BatchOutcome,
    ) -> BoxFuture<'a, Result<(), String>>;
    /// The delete markers are kept by the watch (journalled batch by batch), so the report
    /// need not hold them: memory stays flat however many objects a run deletes.
    fn records_markers(&self) -> bool {
        false
    }
}

/// No checks, no records.
pub struct Unwatched;

impl Watch for Unwatched {
    fn hold<'a>(&'a self, _: &'a DeploymentId) -> BoxFuture<'a, Option<String>> {
        Box::pin(async { None })
    }
    fn before_batch<'a>(&'a self, _: u64, _: &'a [BatchKey]) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async { Ok(()) })
    }
    fn after_batch<'a>(&'a self, _: u64, _: &'a BatchOutcome) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async { Ok(()) })
    }
}
