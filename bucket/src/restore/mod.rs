//! Undo on a versioned bucket: removing the delete markers an apply created brings every object
//! of those deployments back with its content. A marker that is no longer the key's current
//! version (something newer was written, or it is gone) is left alone and reported.
//!
//! A run of millions of objects is restored a window at a time ([`Restoring`]): up to
//! [`WINDOW`] markers are taken as they come (read from the run's journal part by part), each
//! deployment's among them checked against a listing of just their key range and removed, and
//! only per-deployment counts and what was left or failed are kept.

mod made;
mod report;
mod window;

pub use made::MadeBetween;
pub use report::{LeftMarker, MarkerToRemove, RestoreOutcome, RestoreReport};

use crate::delete::KeyFailure;
use crate::Bucket;
use retention::DeploymentId;
use std::collections::{BTreeMap, HashSet};
use std::time::Instant;

/// Markers taken before they are checked and removed, at most: the bound on what a restore
/// holds of a run however big it was (a few MB), and the key range each deployment's listing
/// covers at a time (a page of it listed twice, at most, per window).
pub const WINDOW: usize = 10_000;

/// A restore under way: markers come in ([`Restoring::push`]) in any order of deployments,
/// and every [`WINDOW`] of them are checked and removed, deployment by deployment. What it
/// keeps is per deployment: the counts, and the markers left or failed.
pub struct Restoring {
    start: Instant,
    /// The deployments to restore, in the order they are reported.
    deployments: usize,
    outcomes: BTreeMap<DeploymentId, RestoreOutcome>,
    /// Deployments whose listing failed: the rest of their markers are not looked at (the
    /// failure says they were not restored).
    unlisted: HashSet<DeploymentId>,
    /// Deployments whose folders were searched for markers ([`Bucket::bring_back_made`]):
    /// begun, though one may have had none.
    searched: HashSet<DeploymentId>,
    pending: BTreeMap<DeploymentId, Vec<MarkerToRemove>>,
    pending_n: usize,
    /// Markers taken before they are restored.
    window: usize,
}

impl Restoring {
    /// A restore of `deployments` deployments (those not begun when it is stopped are counted).
    pub fn new(deployments: usize) -> Restoring {
        Self::with_window(deployments, WINDOW)
    }

    /// [`Restoring::new`], restoring every `window` markers instead of every [`WINDOW`].
    pub fn with_window(deployments: usize, window: usize) -> Restoring {
        Restoring {
            start: Instant::now(),
            deployments,
            window: window.max(1),
            outcomes: BTreeMap::new(),
            unlisted: HashSet::new(),
            searched: HashSet::new(),
            pending: BTreeMap::new(),
            pending_n: 0,
        }
    }

    /// Takes one marker of deployment `id`; once a window of them (usually [`WINDOW`]) is
    /// waiting, they are restored.
    /// Markers of one deployment are looked at in the order they come.
    pub async fn push(
        &mut self,
        bucket: &Bucket,
        id: DeploymentId,
        marker: MarkerToRemove,
        stop: &crate::Progress,
    ) {
        self.pending.entry(id).or_default().push(marker);
        self.pending_n += 1;
        if self.pending_n >= self.window {
            self.flush(bucket, stop).await;
        }
    }

    /// Deployment `id`'s folder could not be listed for its markers (`error`): a failure of it
    /// (what it holds is not known to be back; the markers found before are restored).
    pub fn unlisted(&mut self, id: &DeploymentId, folder: String, error: String) {
        let out = self
            .outcomes
            .entry(id.clone())
            .or_insert_with(|| RestoreOutcome::new(id.clone()));
        out.failed.push(KeyFailure {
            key: folder,
            version_id: None,
            error,
        });
    }

    /// The keys of deployment `id` whose markers were taken already and left or failed (not to
    /// be taken again).
    fn settled(&self, id: &DeploymentId) -> HashSet<String> {
        let Some(out) = self.outcomes.get(id) else {
            return HashSet::new();
        };
        let left = out.left.iter().map(|l| l.key.clone());
        left.chain(out.failed.iter().map(|f| f.key.clone()))
            .collect()
    }

    /// Restores the markers waiting, deployment by deployment. Once a stop is requested, no
    /// request is sent: a deployment not begun stays so (counted in the report), and the
    /// markers of one begun are each a failure.
    async fn flush(&mut self, bucket: &Bucket, stop: &crate::Progress) {
        self.pending_n = 0;
        for (id, markers) in std::mem::take(&mut self.pending) {
            let begun = self.outcomes.contains_key(&id);
            if stop.stop_requested() && !begun {
                continue;
            }
            let out = self
                .outcomes
                .entry(id.clone())
                .or_insert_with(|| RestoreOutcome::new(id.clone()));
            if stop.stop_requested() {
                out.failed.extend(markers.into_iter().map(|m| KeyFailure {
                    key: m.key,
                    version_id: m.version_id,
                    error: STOPPED.into(),
                }));
            } else if !self.unlisted.contains(&id)
                && !bucket.restore_window(&id, &markers, stop, out).await
            {
                self.unlisted.insert(id);
            }
        }
    }

    /// Restores what still waits; the report, per deployment in id order.
    pub async fn finish(mut self, bucket: &Bucket, stop: &crate::Progress) -> RestoreReport {
        self.flush(bucket, stop).await;
        let searched_only = self
            .searched
            .iter()
            .filter(|id| !self.outcomes.contains_key(*id))
            .count();
        let begun = self.outcomes.len() + searched_only;
        RestoreReport {
            not_begun: self.deployments.saturating_sub(begun) as u64,
            deployments: self.outcomes.into_values().collect(),
            duration_ms: self.start.elapsed().as_millis() as u64,
        }
    }
}

/// A removal not sent: the restore was stopped.
const STOPPED: &str = "not restored: the restore stopped first (its lease was lost)";
