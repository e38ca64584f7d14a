//! The requests of a restore: a window of one deployment's markers is checked against a
//! listing of just their key range, and those still current removed (each with the markers a
//! retried request made beneath it).

use super::{
    LeftMarker, MarkerToRemove, RestoreOutcome, RestoreReport, Restoring, STOPPED, WINDOW,
};
use crate::delete::{KeyFailure, MAX_BATCH};
use crate::{Bucket, S3Error};
use chrono::{DateTime, Utc};
use retention::DeploymentId;
use std::collections::{HashMap, HashSet};

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
    pub(super) async fn restore_window(
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
                // Only looked up (a key an answer says failed, or in an intent of a run before
                // 2026-12-08), and never hidden since: it was never deleted.
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
                let at = crate::server_clock::to_chrono(m.last_modified());
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
