//! Undo on a versioned bucket: removing the delete markers an apply created brings every object
//! of those deployments back with its content. A marker that is no longer the key's current
//! version (something newer was written, or it is gone) is left alone and reported.

use crate::delete::{KeyFailure, MAX_BATCH};
use crate::{Bucket, S3Error};
use chrono::{DateTime, Utc};
use retention::DeploymentId;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::time::Instant;

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

/// What a key's versions say now: its current delete marker, or that it has a current version.
enum Current {
    Marker(String, DateTime<Utc>),
    Version,
}

/// The versions of a deployment's keys as restore needs them: each key's current one, and the
/// delete markers beneath it made since the run began (one per retried attempt of a request).
struct Versions {
    current: HashMap<String, Current>,
    /// Per key, delete markers made at or after the run's start that are not its current one
    /// (usually none: kept apart so a big deployment's restore holds no more than before).
    beneath: HashMap<String, Vec<String>>,
}

impl Bucket {
    /// Removes the given delete markers of one deployment, each only while it is still the
    /// key's current version; a stop requested on `stop` ends it before its next request (what
    /// was not sent is listed as not restored). Needs s3:ListBucketVersions and
    /// s3:DeleteObjectVersion.
    pub async fn restore_deployment(
        &self,
        id: &DeploymentId,
        markers: &[MarkerToRemove],
        stop: &crate::Progress,
    ) -> RestoreOutcome {
        let mut out = RestoreOutcome {
            id: id.clone(),
            restored: 0,
            never_deleted: 0,
            by_later_run: 0,
            left: Vec::new(),
            failed: Vec::new(),
        };
        let prefix = self.deployment_prefix(id);
        let since = markers.iter().filter_map(|m| m.not_before).min();
        let versions = match self.current_versions(&prefix, since).await {
            Ok(c) => c,
            Err(e) => {
                out.failed.push(KeyFailure {
                    key: prefix,
                    version_id: None,
                    error: format!("not restored: {e}"),
                });
                return out;
            }
        };
        // Per key to bring back, every marker to remove.
        let mut todo: Vec<(String, Vec<String>)> = Vec::new();
        for m in markers {
            let Some(now) = versions.current.get(&m.key) else {
                out.left.push(LeftMarker {
                    key: m.key.clone(),
                    why: "its delete marker is gone (expired by a lifecycle rule, or removed)"
                        .into(),
                });
                continue;
            };
            match now {
                Current::Marker(v, at)
                    if m.version_id.as_ref() == Some(v)
                        || (m.version_id.is_none()
                            && m.not_before.is_some_and(|t| *at >= t)
                            && !m.later.contains(v)) =>
                {
                    let mut remove = vec![v.clone()];
                    if m.not_before.is_some() {
                        remove.extend(versions.beneath.get(&m.key).into_iter().flatten().cloned());
                    }
                    todo.push((m.key.clone(), remove));
                }
                Current::Marker(v, _) if m.later.contains(v) => out.by_later_run += 1,
                Current::Marker(..) => out.left.push(LeftMarker {
                    key: m.key.clone(),
                    why: "deleted again since: its current delete marker is not this run's".into(),
                }),
                // Only in the run's intent, and never hidden since: its batch never went out.
                Current::Version if m.version_id.is_none() => out.never_deleted += 1,
                Current::Version => out.left.push(LeftMarker {
                    key: m.key.clone(),
                    why: "a newer version was written (or it was restored already): left as it is"
                        .into(),
                }),
            }
        }
        let removals: Vec<(String, Option<String>)> = todo
            .iter()
            .flat_map(|(key, vs)| vs.iter().map(|v| (key.clone(), Some(v.clone()))))
            .collect();
        let mut failed_keys = std::collections::HashSet::new();
        for batch in removals.chunks(MAX_BATCH) {
            if stop.stop_requested() {
                for (key, version_id) in batch {
                    failed_keys.insert(key.clone());
                    out.failed.push(KeyFailure {
                        key: key.clone(),
                        version_id: version_id.clone(),
                        error: "not restored: the restore stopped first (its lease was lost)"
                            .into(),
                    });
                }
                continue;
            }
            let answer = self.delete_batch(batch, false).await;
            failed_keys.extend(answer.failed.iter().map(|f| f.key.clone()));
            out.failed.extend(answer.failed);
        }
        out.restored = todo
            .iter()
            .filter(|(key, _)| !failed_keys.contains(key))
            .count() as u64;
        out
    }

    /// Restores several deployments, one after the other; a stop requested on `stop` (the
    /// restore lost its lease) ends it before the next deployment, and the report counts what
    /// was not begun.
    pub async fn restore(
        &self,
        deployments: &[(DeploymentId, Vec<MarkerToRemove>)],
        stop: &crate::Progress,
    ) -> RestoreReport {
        let start = Instant::now();
        let mut report = RestoreReport::default();
        for (n, (id, markers)) in deployments.iter().enumerate() {
            if stop.stop_requested() {
                report.not_begun = (deployments.len() - n) as u64;
                break;
            }
            report
                .deployments
                .push(self.restore_deployment(id, markers, stop).await);
        }
        report.duration_ms = start.elapsed().as_millis() as u64;
        report
    }

    /// Per key under `prefix`: what its current (latest) version is, and with `since`, the
    /// other delete markers made at or after it.
    async fn current_versions(
        &self,
        prefix: &str,
        since: Option<DateTime<Utc>>,
    ) -> Result<Versions, S3Error> {
        let mut current = HashMap::new();
        let mut beneath: HashMap<String, Vec<String>> = HashMap::new();
        self.each_version_page(prefix, |out| {
            for v in out.versions() {
                if let (Some(k), Some(true)) = (v.key(), v.is_latest()) {
                    current.insert(k.to_string(), Current::Version);
                }
            }
            for m in out.delete_markers() {
                let Some(k) = m.key() else { continue };
                let v = m.version_id().unwrap_or("null").to_string();
                let at = crate::scan::to_chrono(m.last_modified());
                if m.is_latest() == Some(true) {
                    current.insert(k.to_string(), Current::Marker(v, at));
                } else if since.is_some_and(|t| at >= t) {
                    beneath.entry(k.to_string()).or_default().push(v);
                }
            }
        })
        .await?;
        Ok(Versions { current, beneath })
    }
}
