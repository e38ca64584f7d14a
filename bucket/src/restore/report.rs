//! What a restore did, per deployment: the objects brought back, what was already back or
//! never deleted, and the markers left or failed (with why).

use crate::delete::KeyFailure;
use chrono::{DateTime, Utc};
use retention::DeploymentId;
use serde::{Deserialize, Serialize};

/// One delete marker to remove: the key it hides, and its version id — or, for a key a run
/// sent but whose answer was never recorded (the process died, or the answer was lost), no
/// version id: then the key's current delete marker, if it was made at or after `not_before`.
/// Either way, markers made since `not_before` beneath it (a retried request made one per
/// attempt) are removed with it, so the object is visible again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarkerToRemove {
    pub key: String,
    pub version_id: Option<String>,
    pub not_before: Option<DateTime<Utc>>,
    /// Without a version id: delete markers of this key that later runs recorded as their own.
    /// A current marker among them is not this run's: it is left (that run's restore removes
    /// it).
    pub later: Vec<String>,
}

/// A marker left in place, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeftMarker {
    pub key: String,
    pub why: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RestoreOutcome {
    pub id: DeploymentId,
    /// Objects brought back (their markers removed).
    pub restored: u64,
    /// Keys a killed run meant to delete but never did (their batch was not sent before the
    /// process died): still there, nothing to bring back.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub never_deleted: u64,
    /// Keys the run meant to delete but never did, deleted since by a later run (whose record
    /// names their markers: its restore brings them back). Left as they are.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub by_later_run: u64,
    /// Keys the run deleted that are visible again, as they were before the run (their
    /// markers removed: restored already). Nothing to do.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub already_back: u64,
    pub left: Vec<LeftMarker>,
    pub failed: Vec<KeyFailure>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RestoreReport {
    pub deployments: Vec<RestoreOutcome>,
    pub duration_ms: u64,
    /// Deployments not begun: the restore was stopped first.
    #[serde(default)]
    pub not_begun: u64,
}

impl RestoreReport {
    pub fn restored_objects(&self) -> u64 {
        self.deployments.iter().map(|d| d.restored).sum()
    }
    /// Every marker was removed.
    pub fn is_complete(&self) -> bool {
        self.not_begun == 0
            && self
                .deployments
                .iter()
                .all(|d| d.left.is_empty() && d.failed.is_empty())
    }
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl RestoreOutcome {
    pub(super) fn new(id: DeploymentId) -> RestoreOutcome {
        RestoreOutcome {
            id,
            restored: 0,
            never_deleted: 0,
            already_back: 0,
            by_later_run: 0,
            left: Vec::new(),
            failed: Vec::new(),
        }
    }
}
