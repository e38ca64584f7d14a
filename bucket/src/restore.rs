//! Undo on a versioned bucket: removing the delete markers an apply created brings every object
//! of those deployments back with its content. A marker that is no longer the key's current
//! version (something newer was written, or it is gone) is left alone and reported.
//!
//! A run of millions of objects is restored a window at a time ([`Restoring`]): up to
//! [`WINDOW`] markers are taken as they come (read from the run's journal part by part), each
//! deployment's among them checked against a listing of just their key range and removed, and
//! only per-deployment counts and what was left or failed are kept.

use crate::delete::{KeyFailure, MAX_BATCH};
use crate::{Bucket, S3Error};
use chrono::{DateTime, Utc};
use retention::DeploymentId;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, HashSet};
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

/// Markers taken before they are checked and removed, at most: the bound on what a restore
/// holds of a run however big it was (a few MB), and the key range each deployment's listing
/// covers at a time (a page of it listed twice, at most, per window).
pub const WINDOW: usize = 10_000;

/// What a key's versions say now: its current delete marker, or that it has a current version.
enum Current {
    Marker(String, DateTime<Utc>),
    Version,
}

/// The versions of some of a deployment's keys as restore needs them: each key's current one,
/// and the delete markers beneath it made since the run began (one per retried attempt of a
/// request).
struct Versions {
    current: HashMap<String, Current>,
    /// Keys with a version that is not a delete marker: something a marker's removal brings
    /// back. A key without one had its versions expired (a noncurrent-version lifecycle rule).
    kept: HashSet<String>,
    /// Per key, delete markers made at or after the run's start that are not its current one
    /// (usually none).
    beneath: HashMap<String, Vec<String>>,
    /// Per key, the version ids of its delete markers, current or not: a run's marker not
    /// among them was removed.
    markers: HashMap<String, HashSet<String>>,
}

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
        RestoreReport {
            not_begun: self.deployments.saturating_sub(self.outcomes.len()) as u64,
            deployments: self.outcomes.into_values().collect(),
            duration_ms: self.start.elapsed().as_millis() as u64,
        }
    }
}

/// A removal not sent: the restore was stopped.
const STOPPED: &str = "not restored: the restore stopped first (its lease was lost)";

impl RestoreOutcome {
    fn new(id: DeploymentId) -> RestoreOutcome {
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

/// A key-marker just before `key` (what lists from `key` on): `key` less its last character,
/// which sorts before it; `None` lists from the start.
fn just_before(key: &str) -> Option<String> {
    let mut k = key.to_string();
    k.pop();
    (!k.is_empty()).then_some(k)
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
        let mut out = RestoreOutcome::new(id.clone());
        for window in markers.chunks(WINDOW) {
            if !self.restore_window(id, window, stop, &mut out).await {
                break;
            }
        }
        out
    }

    /// [`Bucket::restore_deployment`] of some of a deployment's markers, into `out`: their key
    /// range is listed (not the whole deployment), then what is still theirs removed. `false`
    /// when the listing failed (nothing of them was restored; `out` says why).
    async fn restore_window(
        &self,
        id: &DeploymentId,
        markers: &[MarkerToRemove],
        stop: &crate::Progress,
        out: &mut RestoreOutcome,
    ) -> bool {
        let prefix = self.deployment_prefix(id);
        let since = markers.iter().filter_map(|m| m.not_before).min();
        let wanted: HashSet<&str> = markers.iter().map(|m| m.key.as_str()).collect();
        let (Some(first), Some(last)) = (wanted.iter().min(), wanted.iter().max()) else {
            return true;
        };
        let versions = match self
            .current_versions(&prefix, first, last, &wanted, since)
            .await
        {
            Ok(c) => c,
            Err(e) => {
                out.failed.push(KeyFailure {
                    key: prefix,
                    version_id: None,
                    error: format!("not restored: {e}"),
                });
                return false;
            }
        };
        // Per key to bring back, every marker to remove.
        let mut todo: Vec<(&str, Vec<&str>)> = Vec::new();
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
                    if !versions.kept.contains(&m.key) {
                        // Removing the marker would bring nothing back and say it did.
                        out.left.push(LeftMarker {
                            key: m.key.clone(),
                            why: "its earlier versions are gone (expired by a lifecycle rule, or removed): nothing to bring back".into(),
                        });
                        continue;
                    }
                    let mut remove = vec![v.as_str()];
                    if m.not_before.is_some() {
                        let beneath = versions.beneath.get(&m.key).into_iter().flatten();
                        remove.extend(beneath.map(String::as_str));
                    }
                    todo.push((m.key.as_str(), remove));
                }
                Current::Marker(v, _) if m.later.contains(v) => out.by_later_run += 1,
                Current::Marker(..) => out.left.push(LeftMarker {
                    key: m.key.clone(),
                    why: "deleted again since: its current delete marker is not this run's".into(),
                }),
                // Only in the run's intent, and never hidden since: its batch never went out.
                Current::Version if m.version_id.is_none() => out.never_deleted += 1,
                // The run's marker is gone and a version is current: the marker was removed
                // (an earlier restore of the run). One written over the marker leaves it.
                Current::Version
                    if m.version_id.as_ref().is_some_and(|v| {
                        !versions
                            .markers
                            .get(&m.key)
                            .is_some_and(|vs| vs.contains(v))
                    }) =>
                {
                    out.already_back += 1
                }
                Current::Version => out.left.push(LeftMarker {
                    key: m.key.clone(),
                    why: "a version written since the run began is current: left as it is".into(),
                }),
            }
        }
        let removals: Vec<(String, Option<String>)> = todo
            .iter()
            .flat_map(|(key, vs)| vs.iter().map(|v| (key.to_string(), Some(v.to_string()))))
            .collect();
        let mut failed_keys = HashSet::new();
        for batch in removals.chunks(MAX_BATCH) {
            if stop.stop_requested() {
                for (key, version_id) in batch {
                    failed_keys.insert(key.clone());
                    out.failed.push(KeyFailure {
                        key: key.clone(),
                        version_id: version_id.clone(),
                        error: STOPPED.into(),
                    });
                }
                continue;
            }
            let answer = self.delete_batch(batch, false, stop).await;
            failed_keys.extend(answer.failed.iter().map(|f| f.key.clone()));
            out.failed.extend(answer.failed);
        }
        out.restored += todo
            .iter()
            .filter(|(key, _)| !failed_keys.contains(*key))
            .count() as u64;
        true
    }

    /// Restores several deployments, one after the other; a stop requested on `stop` (the
    /// restore lost its lease) ends it before the next deployment, and the report counts what
    /// was not begun.
    pub async fn restore(
        &self,
        deployments: &[(DeploymentId, Vec<MarkerToRemove>)],
        stop: &crate::Progress,
    ) -> RestoreReport {
        let mut restoring = Restoring::new(deployments.len());
        for (id, markers) in deployments {
            for m in markers {
                restoring.push(self, id.clone(), m.clone(), stop).await;
            }
        }
        restoring.finish(self, stop).await
    }

    /// Per key of `wanted` (all under `prefix`, from `first` to `last`): what its current
    /// (latest) version is, and with `since`, the other delete markers made at or after it.
    /// Only that key range is listed.
    async fn current_versions(
        &self,
        prefix: &str,
        first: &str,
        last: &str,
        wanted: &HashSet<&str>,
        since: Option<DateTime<Utc>>,
    ) -> Result<Versions, S3Error> {
        let mut current = HashMap::new();
        let mut kept = HashSet::new();
        let mut beneath: HashMap<String, Vec<String>> = HashMap::new();
        let mut markers: HashMap<String, HashSet<String>> = HashMap::new();
        let mut pages = crate::pages::VersionPages::after(self, prefix, just_before(first));
        while let Some(out) = pages.next().await? {
            let mut past = false;
            for v in out.versions() {
                let Some(k) = v.key() else { continue };
                past |= k > last;
                if !wanted.contains(k) {
                    continue;
                }
                kept.insert(k.to_string());
                if v.is_latest() == Some(true) {
                    current.insert(k.to_string(), Current::Version);
                }
            }
            for m in out.delete_markers() {
                let Some(k) = m.key() else { continue };
                past |= k > last;
                if !wanted.contains(k) {
                    continue;
                }
                let v = m.version_id().unwrap_or("null").to_string();
                let at = crate::scan::to_chrono(m.last_modified());
                markers.entry(k.to_string()).or_default().insert(v.clone());
                if m.is_latest() == Some(true) {
                    current.insert(k.to_string(), Current::Marker(v, at));
                } else if since.is_some_and(|t| at >= t) {
                    beneath.entry(k.to_string()).or_default().push(v);
                }
            }
            // Every version of `last` is listed once a later key is.
            if past {
                break;
            }
        }
        Ok(Versions {
            current,
            kept,
            beneath,
            markers,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::just_before;

    /// A window is listed from just before its first key: nothing of that key is skipped,
    /// whatever its last character.
    #[test]
    fn a_window_is_listed_from_just_before_its_first_key() {
        for key in ["d1/index.html", "d1/é", "d1/", "x", "d1/a\u{10ffff}"] {
            let from = just_before(key);
            assert!(from.as_deref().is_none_or(|f| f < key), "{key}: {from:?}");
        }
        assert_eq!(
            just_before("x"),
            None,
            "a one-character key is listed from the start"
        );
        assert_eq!(just_before("d1/é").as_deref(), Some("d1/"));
    }
}
