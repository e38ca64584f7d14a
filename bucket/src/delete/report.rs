//! What a deletion reports: per deployment what was listed, deleted, failed, skipped or left
//! whole, the delete markers it made; and the live counters (and stop switch) of one under way.

use chrono::{DateTime, Utc};
use retention::DeploymentId;
use serde::{Deserialize, Serialize};
use std::sync::atomic::AtomicU64;

/// A delete marker one of our deletes created.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewMarker {
    pub key: String,
    pub version_id: String,
}

/// One object (or object version) that could not be deleted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyFailure {
    pub key: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version_id: Option<String>,
    pub error: String,
}

/// A key (or version) left in place because it is newer than the plan's view of its deployment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewerKey {
    pub key: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version_id: Option<String>,
    pub last_modified: DateTime<Utc>,
}

/// A doomed deployment whose fresh listing differed from the plan's view of it: it was re-deployed
/// (or restored) since, so none of it was deleted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangedSincePlan {
    /// Keys (or versions) newer than the newest the plan saw.
    pub newer: u64,
    /// Keys (or versions) listed now.
    pub listed: u64,
    /// Objects the plan counted, when current objects were compared (not with purge).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub planned: Option<u64>,
    /// The first few newer keys.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub examples: Vec<NewerKey>,
}

impl std::fmt::Display for ChangedSincePlan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "changed since the plan")?;
        if self.newer > 0 {
            let s = if self.newer == 1 { "" } else { "s" };
            write!(f, ": {} object{s} newer than the plan", self.newer)?;
            if let Some(k) = self.examples.first() {
                write!(f, " ({} at {})", k.key, k.last_modified.to_rfc3339())?;
            }
        }
        if let Some(planned) = self.planned.filter(|p| self.listed > *p) {
            let sep = if self.newer > 0 { ";" } else { ":" };
            write!(
                f,
                "{sep} {} objects now, the plan saw {planned}",
                self.listed
            )?;
        }
        write!(f, ", so none of it was deleted (plan again)")
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeploymentOutcome {
    pub id: DeploymentId,
    /// Objects (or versions and delete markers, with purge) listed for deletion.
    pub listed: u64,
    pub deleted: u64,
    pub failed: Vec<KeyFailure>,
    /// Keys newer than the plan that appeared while a big deployment was being deleted: not
    /// deleted, nor anything of it listed after them, so the deployment is only partly gone.
    pub skipped: Vec<NewerKey>,
    /// Listed, and every listed key sent and answered (false when stopped before).
    pub finished: bool,
    /// With [`Deletion::Marked`](super::Deletion::Marked): the delete markers the deletes created.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub markers: Vec<NewMarker>,
    /// Left untouched because, checked again just before its keys would go, it was pinned or
    /// live (the reason says which): nothing of it was listed or sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub held: Option<String>,
    /// Left whole because its fresh listing differed from the plan's view of it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub changed: Option<ChangedSincePlan>,
}

impl DeploymentOutcome {
    /// Nothing of it is left that the plan saw.
    pub fn is_gone(&self) -> bool {
        self.finished
            && self.failed.is_empty()
            && self.skipped.is_empty()
            && self.held.is_none()
            && self.changed.is_none()
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeleteReport {
    pub deployments: Vec<DeploymentOutcome>,
    pub deleted_objects: u64,
    pub failed: Vec<KeyFailure>,
    /// A stop was requested: no batch was sent after it.
    pub stopped: bool,
    /// Why the deletion stopped itself, when it did (S3 refused a whole batch: the role may
    /// not delete here, and every later batch would be refused too).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refused: Option<String>,
    pub duration_ms: u64,
}

impl DeleteReport {
    /// Every deployment is gone, or was left whole on purpose (pinned or live since the plan,
    /// or changed since it).
    pub fn is_complete(&self) -> bool {
        !self.stopped
            && self
                .deployments
                .iter()
                .all(|d| d.is_gone() || d.held.is_some() || d.changed.is_some())
    }

    /// The deployments left whole because they changed since the plan.
    pub fn changed(&self) -> impl Iterator<Item = (&DeploymentId, &ChangedSincePlan)> {
        self.deployments
            .iter()
            .filter_map(|d| Some((&d.id, d.changed.as_ref()?)))
    }
}
/// Live counters for a progress bar or a web page, cheap to read from another task; the stop
/// switch: after [`Progress::request_stop`] no new listing or batch is started, the batches in
/// flight are answered, and the report says `stopped`; and the moment by which nothing of the
/// run may still be out ([`Progress::hold_until`]).
#[derive(Debug)]
pub struct Progress {
    pub deployments_done: AtomicU64,
    pub objects_done: AtomicU64,
    pub objects_failed: AtomicU64,
    stop: tokio::sync::watch::Sender<bool>,
    /// The last moment a delete of this run may still be waiting for its answer: the run's
    /// lease could expire soon after it. `None` while no lease bounds the run.
    held_until: tokio::sync::watch::Sender<Option<tokio::time::Instant>>,
    /// The moment the run must be over by whatever its lease says ([`Progress::end_by`]).
    ends_by: std::sync::Mutex<Option<tokio::time::Instant>>,
    pub(super) all_sent: tokio::sync::watch::Sender<bool>,
    /// Why the deletion stopped itself ([`Progress::refuse`]).
    refused: std::sync::Mutex<Option<String>>,
}

impl Default for Progress {
    fn default() -> Self {
        Progress {
            deployments_done: AtomicU64::new(0),
            objects_done: AtomicU64::new(0),
            objects_failed: AtomicU64::new(0),
            stop: tokio::sync::watch::Sender::new(false),
            held_until: tokio::sync::watch::Sender::new(None),
            ends_by: std::sync::Mutex::new(None),
            all_sent: tokio::sync::watch::Sender::new(false),
            refused: std::sync::Mutex::new(None),
        }
    }
}

impl Progress {
    pub fn request_stop(&self) {
        self.stop.send_replace(true);
    }
    /// Stops the deletion because S3 refuses it (`why`, said in the report): the first reason
    /// given is kept.
    pub(super) fn refuse(&self, why: String) {
        self.refused
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get_or_insert(why);
        self.request_stop();
    }
    /// Why the deletion stopped itself, if it did.
    pub(super) fn refused(&self) -> Option<String> {
        self.refused
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
    pub fn stop_requested(&self) -> bool {
        *self.stop.borrow()
    }
    /// Resolves once a stop is requested (at once if it already was).
    pub async fn stopped(&self) {
        let mut rx = self.stop.subscribe();
        let _ = rx.wait_for(|s| *s).await;
    }
    /// Moves the moment by which every delete of the run must have its answer or be given up
    /// (the run's lease is held until a little after it); set again at each renewal.
    pub fn hold_until(&self, until: tokio::time::Instant) {
        self.held_until.send_replace(Some(until));
    }
    /// A moment no delete of the run may still be waiting past, whatever its lease says (the
    /// scheduled job's invocation deadline, less the time to write the run's record).
    pub fn end_by(&self, at: tokio::time::Instant) {
        *self.ends_by.lock().unwrap_or_else(|e| e.into_inner()) = Some(at);
    }
    /// Resolves once a delete still waiting for its answer must be given up, saying why: the
    /// run's lease is no longer known to be held long enough (the moment
    /// [`Progress::hold_until`] last set has passed), or the moment set by
    /// [`Progress::end_by`] has come. Never while neither bounds the run.
    pub async fn out_of_time(&self) -> &'static str {
        let lease = "the run's lease could not be renewed";
        let ends_by = *self.ends_by.lock().unwrap_or_else(|e| e.into_inner());
        match ends_by {
            Some(at) => tokio::select! {
                () = tokio::time::sleep_until(at) => "the run had to end (the scheduled job's deadline is near)",
                () = self.lease_out_of_time() => lease,
            },
            None => {
                self.lease_out_of_time().await;
                lease
            }
        }
    }
    async fn lease_out_of_time(&self) {
        let mut rx = self.held_until.subscribe();
        loop {
            let until = *rx.borrow_and_update();
            let Some(until) = until else {
                if rx.changed().await.is_err() {
                    std::future::pending::<()>().await;
                }
                continue;
            };
            tokio::select! {
                _ = tokio::time::sleep_until(until) => return,
                moved = rx.changed() => if moved.is_err() {
                    tokio::time::sleep_until(until).await;
                    return;
                },
            }
        }
    }
    /// Resolves once the deletion will send no more batches (every one is sent, or it is
    /// stopping): what is left is the answers of those in flight.
    pub async fn all_sent(&self) {
        let mut rx = self.all_sent.subscribe();
        let _ = rx.wait_for(|s| *s).await;
    }
}
