//! What a scan saw: the deployments (aggregates only), the objects beside them, the bucket's
//! versioning, and what the bucket remembers (live pointer, pins, dates first seen).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// The name of a deployment: the top-level folder under the prefix, without the `/`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DeploymentId(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("a deployment id cannot be empty")]
    Empty,
    #[error("deployment id '{0}' contains '/': ids are the top-level folder name only")]
    Slash(String),
    /// Typed by a person (a flag, the configuration file): a space at either end, kept, names
    /// no folder they meant, and a pin that matches nothing protects nothing.
    #[error("deployment id '{0}' has a space at its start or end: write '{1}'")]
    Space(String, String),
}

impl DeploymentId {
    pub fn new(s: impl Into<String>) -> Result<Self, IdError> {
        let s = s.into();
        if s.is_empty() {
            Err(IdError::Empty)
        } else if s.contains('/') {
            Err(IdError::Slash(s))
        } else {
            Ok(DeploymentId(s))
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}
/// An id as a person gives it (`--pin`, `guards.pins`, `pin ID`, `--deployment`): as
/// [`DeploymentId::new`], and no space at either end (a folder's name read from the bucket may
/// have one; nobody types it on purpose).
impl FromStr for DeploymentId {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, IdError> {
        if s.trim().is_empty() {
            return Err(IdError::Empty);
        }
        if s.trim() != s {
            return Err(IdError::Space(s.into(), s.trim().into()));
        }
        DeploymentId::new(s)
    }
}
impl TryFrom<String> for DeploymentId {
    type Error = IdError;
    fn try_from(s: String) -> Result<Self, IdError> {
        DeploymentId::new(s)
    }
}
impl From<DeploymentId> for String {
    fn from(d: DeploymentId) -> String {
        d.0
    }
}
impl fmt::Display for DeploymentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What a scan saw of one deployment. Aggregates only: no key list is kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deployment {
    pub id: DeploymentId,
    pub objects: u64,
    pub bytes: u64,
    /// Newest LastModified among its objects.
    pub newest: DateTime<Utc>,
    /// Oldest LastModified among its objects.
    pub oldest: DateTime<Utc>,
    /// The raw value of the `meta:KEY` user metadata on the newest object, when the date source
    /// asked for it and it was present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<String>,
}

/// Objects directly under the prefix: never a deployment, never deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LooseObjects {
    pub objects: u64,
    pub bytes: u64,
}

/// The bucket's versioning status, as GetBucketVersioning reports it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Versioning {
    #[default]
    Unversioned,
    Enabled,
    Suspended,
    /// The server does not implement GetBucketVersioning (some S3-compatible stores): treated as
    /// unversioned, with a warning in the plan.
    Unknown,
}

impl Versioning {
    /// Whether deleting a key may leave older versions behind (as far as the server says).
    pub fn keeps_versions(self) -> bool {
        matches!(self, Versioning::Enabled | Versioning::Suspended)
    }
}

impl fmt::Display for Versioning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Versioning::Unversioned => "unversioned",
            Versioning::Enabled => "enabled",
            Versioning::Suspended => "suspended",
            Versioning::Unknown => "unknown",
        })
    }
}

/// Everything a plan is computed from that came out of the bucket.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inventory {
    pub deployments: Vec<Deployment>,
    pub loose: LooseObjects,
    pub versioning: Versioning,
    /// The deployment the live pointer names (`--live-pointer KEY`), when one is configured.
    #[serde(default)]
    pub live: Option<DeploymentId>,
    /// Pins stored in the bucket (`.s3-prune/pins.json`), shared by every front end.
    #[serde(default)]
    pub pins: Vec<Pin>,
    /// The deployments a page of the site references (`--live-from KEY`): all kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub live_from: Option<LiveRefs>,
    /// When read from an S3 Inventory report (`--inventory`) instead of a listing: its date.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report_date: Option<chrono::DateTime<chrono::Utc>>,
    /// Deployments the live pointer named before, and until when (from the pointer's earlier
    /// versions, or the bucket's record of what scans saw): kept for the live grace.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub was_live: Vec<WasLive>,
    /// Deployments whose LastModified moved since they were first seen while their content
    /// (keys and sizes) did not — a copy in place, a re-encryption, a storage-class change:
    /// their first-seen dates, which the plan ranks them by.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub remembered: Vec<Remembered>,
}

/// A deployment's dates as first seen (newest and oldest LastModified).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Remembered {
    pub id: DeploymentId,
    pub newest: chrono::DateTime<chrono::Utc>,
    pub oldest: chrono::DateTime<chrono::Utc>,
}

/// A deployment that was live until `until` (the pointer moved on then, or was first seen to
/// have).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WasLive {
    pub id: DeploymentId,
    pub until: chrono::DateTime<chrono::Utc>,
}

/// What `--live-from KEY` found: the page's key and the deployment folders it references.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveRefs {
    pub key: String,
    pub ids: Vec<DeploymentId>,
}

/// A pin that lasts: stored in the bucket with who set it and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pin {
    pub id: DeploymentId,
    #[serde(default)]
    pub reason: String,
    #[serde(default)]
    pub by: String,
    #[serde(default)]
    pub at: Option<DateTime<Utc>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_one_folder() {
        assert!(DeploymentId::new("").is_err());
        assert!(DeploymentId::new("a/b").is_err());
        assert_eq!(
            DeploymentId::new("deployhash112").unwrap().as_str(),
            "deployhash112"
        );
    }
}
