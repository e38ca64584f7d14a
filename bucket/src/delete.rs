//! Deleting deployments: list each one's keys afresh, then DeleteObjects in batches of ≤ 1000
//! shared across deployments, several in flight, reading every per-key error. A key (or version)
//! newer than what the plan saw of its deployment is never sent: it was published after the plan.

use crate::{Bucket, S3Error};
use aws_sdk_s3::types::{Delete, ObjectIdentifier};
use chrono::{DateTime, Utc};
use futures::stream::{self, FuturesUnordered, StreamExt};
use retention::{DeploymentId, Doomed};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// S3's hard limit per DeleteObjects request.
pub const MAX_BATCH: usize = 1000;
/// Rounds for keys a DeleteObjects response reports as throttled or failed internally.
const KEY_RETRIES: u32 = 4;

/// How a deployment's objects are deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deletion {
    /// Current objects, on an unversioned bucket (quiet DeleteObjects).
    Plain,
    /// Current objects on a versioned bucket: each delete leaves a delete marker, whose version
    /// id is recorded (`DeploymentOutcome::markers`) so `restore` can remove it again.
    Marked,
    /// Every version and delete marker: gone for good.
    Purge,
}

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

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeploymentOutcome {
    pub id: DeploymentId,
    /// Objects (or versions and delete markers, with purge) listed for deletion.
    pub listed: u64,
    pub deleted: u64,
    pub failed: Vec<KeyFailure>,
    /// Keys newer than the plan: not deleted, so the deployment is only partly gone.
    pub skipped: Vec<NewerKey>,
    /// Listed, and every listed key sent and answered (false when stopped before).
    pub finished: bool,
    /// With [`Deletion::Marked`]: the delete markers the deletes created.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub markers: Vec<NewMarker>,
}

impl DeploymentOutcome {
    /// Nothing of it is left that the plan saw.
    pub fn is_gone(&self) -> bool {
        self.finished && self.failed.is_empty() && self.skipped.is_empty()
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeleteReport {
    pub deployments: Vec<DeploymentOutcome>,
    pub deleted_objects: u64,
    pub failed: Vec<KeyFailure>,
    /// A stop was requested: no batch was sent after it.
    pub stopped: bool,
    pub duration_ms: u64,
}

impl DeleteReport {
    pub fn is_complete(&self) -> bool {
        !self.stopped && self.deployments.iter().all(DeploymentOutcome::is_gone)
    }
}
/// Live counters for a progress bar or a web page, cheap to read from another task; and the
/// stop switch: after [`Progress::request_stop`] no new listing or batch is started, the batches
/// in flight are answered, and the report says `stopped`.
#[derive(Debug)]
pub struct Progress {
    pub deployments_done: AtomicU64,
    pub objects_done: AtomicU64,
    pub objects_failed: AtomicU64,
    stop: tokio::sync::watch::Sender<bool>,
}

impl Default for Progress {
    fn default() -> Self {
        Progress {
            deployments_done: AtomicU64::new(0),
            objects_done: AtomicU64::new(0),
            objects_failed: AtomicU64::new(0),
            stop: tokio::sync::watch::Sender::new(false),
        }
    }
}

impl Progress {
    pub fn request_stop(&self) {
        self.stop.send_replace(true);
    }
    pub fn stop_requested(&self) -> bool {
        *self.stop.borrow()
    }
    /// Resolves once a stop is requested (at once if it already was).
    pub async fn stopped(&self) {
        let mut rx = self.stop.subscribe();
        let _ = rx.wait_for(|s| *s).await;
    }
}

fn is_retryable(code: &str) -> bool {
    matches!(
        code,
        "SlowDown" | "InternalError" | "ServiceUnavailable" | "RequestTimeout" | "503" | "500"
    )
}

/// One key to delete, tagged with the deployment (index into the caller's list) it belongs to.
type Tagged = (usize, (String, Option<String>));

/// Per-deployment bookkeeping while its keys are in flight.
#[derive(Default)]
struct Tally {
    listed: u64,
    deleted: u64,
    /// Keys sent but not yet answered; the deployment is done when listed and this is 0.
    open: u64,
    failed: Vec<KeyFailure>,
    skipped: Vec<NewerKey>,
    markers: Vec<NewMarker>,
    /// Its listing arrived (its keys are in the pipeline).
    listed_ok: bool,
}

/// What one DeleteObjects batch answered.
#[derive(Default)]
pub(crate) struct BatchAnswer {
    pub(crate) failed: Vec<KeyFailure>,
    pub(crate) markers: Vec<NewMarker>,
}

/// Books one batch's answer to the deployments its keys came from: a key is deleted unless the
/// answer names it as failed; a deployment is done once every one of its keys is answered.
fn book(tally: &mut [Tally], sent: &[Tagged], answer: BatchAnswer, progress: &Progress) {
    let BatchAnswer { failed, markers } = answer;
    let owner: HashMap<&str, usize> = sent.iter().map(|(i, (k, _))| (k.as_str(), *i)).collect();
    for m in markers {
        if let Some(&i) = owner.get(m.key.as_str()) {
            tally[i].markers.push(m);
        }
    }
    let mut sent_to: HashMap<usize, u64> = HashMap::new();
    for (i, _) in sent {
        *sent_to.entry(*i).or_default() += 1;
    }
    let mut failed_of: HashMap<usize, u64> = HashMap::new();
    for f in failed {
        // delete_batch reports only keys it was given; anything else is ignored.
        if let Some(&i) = owner.get(f.key.as_str()) {
            *failed_of.entry(i).or_default() += 1;
            tally[i].failed.push(f);
        }
    }
    for (i, n) in sent_to {
        let bad = failed_of.get(&i).copied().unwrap_or(0);
        let t = &mut tally[i];
        t.deleted += n - bad;
        t.open -= n;
        progress.objects_done.fetch_add(n - bad, Ordering::Relaxed);
        progress.objects_failed.fetch_add(bad, Ordering::Relaxed);
        if t.open == 0 {
            progress.deployments_done.fetch_add(1, Ordering::Relaxed);
        }
    }
}

impl Bucket {
    /// Deletes every object of each doomed deployment that is not newer than the plan saw it
    /// (`Doomed::newest`); newer keys are skipped and reported. With `purge_versions`, every
    /// such version and delete marker too. Failures are collected per key, never hidden; a
    /// deployment whose listing fails is left untouched. A stop requested on `progress` ends the
    /// run after the batches in flight.
    ///
    /// A pipeline: deployments are listed afresh, `concurrency` at a time, and their keys flow
    /// into DeleteObjects batches shared across deployments (≤ 1000 keys, `concurrency` batches
    /// in flight). A batch goes out when it is full, or at once when nothing else is in flight,
    /// so small deployments cost a fraction of a request each and the endpoint is never idle.
    pub async fn delete_deployments(
        &self,
        doomed: &[Doomed],
        how: Deletion,
        concurrency: usize,
        progress: Arc<Progress>,
    ) -> DeleteReport {
        let start = Instant::now();
        let purge_versions = how == Deletion::Purge;
        let concurrency = concurrency.max(1);
        let mut tally: Vec<Tally> = doomed.iter().map(|_| Tally::default()).collect();
        let (tx, rx) = tokio::sync::mpsc::channel(concurrency);
        let stop = progress.clone();
        let lister = async move {
            // Futures are collected first: a closure inside the stream type trips the
            // compiler's Send inference for callers that spawn this.
            let jobs: Vec<_> = doomed
                .iter()
                .enumerate()
                .map(|(i, d)| async move { (i, self.list_doomed(d, purge_versions).await) })
                .collect();
            let mut listings = stream::iter(jobs).buffer_unordered(concurrency);
            while let Some(listing) = listings.next().await {
                if stop.stop_requested() || tx.send(listing).await.is_err() {
                    break;
                }
            }
        };
        let deleter = async {
            // Owned here, so the lister sees a closed channel once deleting ends.
            let mut rx = rx;
            let mut stopping = false;
            let mut in_flight = FuturesUnordered::new();
            // Full batches waiting for a slot, and the one being filled.
            let mut ready: VecDeque<Vec<Tagged>> = VecDeque::new();
            let mut batch: Vec<Tagged> = Vec::new();
            let mut listing_done = false;
            let send = |batch: Vec<Tagged>| async move {
                let keys: Vec<(String, Option<String>)> =
                    batch.iter().map(|(_, k)| k.clone()).collect();
                let answer = self.delete_batch(&keys, how == Deletion::Marked).await;
                (batch, answer)
            };
            loop {
                if stopping && in_flight.is_empty() {
                    break; // what was never sent stays, and the report says so
                }
                // Never more than `concurrency` DeleteObjects at once, however big a deployment.
                while !stopping && in_flight.len() < concurrency {
                    if let Some(full) = ready.pop_front() {
                        in_flight.push(send(full));
                    } else if in_flight.is_empty() && !batch.is_empty() {
                        // Idle: a partial batch goes now rather than wait to fill up.
                        in_flight.push(send(std::mem::take(&mut batch)));
                    } else {
                        break;
                    }
                }
                if in_flight.is_empty() && listing_done {
                    break; // and so ready and batch are empty too
                }
                tokio::select! {
                    () = progress.stopped(), if !stopping => {
                        tracing::warn!(in_flight = in_flight.len(), "stop requested: no new batches");
                        stopping = true;
                    }
                    listing = rx.recv(), if !stopping && !listing_done && ready.is_empty() => {
                        let Some((i, listed)) = listing else {
                            listing_done = true;
                            continue;
                        };
                        match listed {
                            Ok(Listing { keys, newer }) => {
                                tally[i].listed = keys.len() as u64;
                                tally[i].open = keys.len() as u64;
                                tally[i].listed_ok = true;
                                tally[i].skipped = newer;
                                if keys.is_empty() {
                                    progress.deployments_done.fetch_add(1, Ordering::Relaxed);
                                }
                                for k in keys {
                                    batch.push((i, k));
                                    if batch.len() == MAX_BATCH {
                                        ready.push_back(std::mem::take(&mut batch));
                                    }
                                }
                            }
                            Err(failure) => {
                                tally[i].failed.push(failure);
                                progress.deployments_done.fetch_add(1, Ordering::Relaxed);
                            }
                        }
                    }
                    Some((sent, answer)) = in_flight.next(), if !in_flight.is_empty() => {
                        book(&mut tally, &sent, answer, &progress);
                    }
                }
            }
            tally
        };
        let ((), tally) = futures::join!(lister, deleter);
        let mut report = DeleteReport {
            stopped: progress.stop_requested(),
            ..Default::default()
        };
        for (d, t) in doomed.iter().zip(tally) {
            report.deleted_objects += t.deleted;
            report.failed.extend(t.failed.iter().cloned());
            report.deployments.push(DeploymentOutcome {
                id: d.id.clone(),
                listed: t.listed,
                deleted: t.deleted,
                failed: t.failed,
                skipped: t.skipped,
                finished: t.listed_ok && t.open == 0,
                markers: t.markers,
            });
        }
        report.deployments.sort_by(|a, b| a.id.cmp(&b.id));
        report.duration_ms = start.elapsed().as_millis() as u64;
        report
    }

    /// The keys (or versions) of one deployment, listed now, split into those the plan saw
    /// (at or before its newest LastModified) and newer ones, which are left alone. A failed
    /// listing becomes the one failure of that deployment, and nothing of it is deleted.
    async fn list_doomed(&self, d: &Doomed, purge: bool) -> Result<Listing, KeyFailure> {
        let id = &d.id;
        let prefix = self.deployment_prefix(id);
        let listed = if purge {
            self.list_versions(&prefix).await
        } else {
            self.list_keys(&prefix).await
        };
        match listed {
            Ok(found) => Ok(split_newer(found, &prefix, d.newest)),
            Err(e) => {
                tracing::warn!(deployment = %id, error = %e, "listing failed; deleting nothing of it");
                Err(KeyFailure {
                    key: prefix,
                    version_id: None,
                    error: format!("not deleted: {e}"),
                })
            }
        }
    }

    /// One DeleteObjects batch, with per-key retries for throttling. Returns the keys that could
    /// not be deleted; quiet mode lists only errors, so every other key of the batch is gone.
    /// With `markers`, the answer is verbose and the delete markers it names are returned.
    pub(crate) async fn delete_batch(
        &self,
        batch: &[(String, Option<String>)],
        markers: bool,
    ) -> BatchAnswer {
        let mut pending: Vec<(String, Option<String>)> = batch.to_vec();
        let mut answer = BatchAnswer::default();
        let failed = &mut answer.failed;
        let mut attempt = 0;
        loop {
            let ids: Vec<ObjectIdentifier> = pending
                .iter()
                .filter_map(|(k, v)| {
                    ObjectIdentifier::builder()
                        .key(k)
                        .set_version_id(v.clone())
                        .build()
                        .ok()
                })
                .collect();
            let delete = match Delete::builder()
                .set_objects(Some(ids))
                .quiet(!markers)
                .build()
            {
                Ok(d) => d,
                Err(e) => {
                    failed.extend(fail_all(&pending, &e.to_string()));
                    return answer;
                }
            };
            let res = self
                .client
                .delete_objects()
                .bucket(&self.name)
                .delete(delete)
                .send()
                .await;
            let out = match res {
                Ok(out) => out,
                // The SDK already retried throttling and 5xx with backoff; what is left is reported.
                Err(e) => {
                    let action = if pending.iter().any(|(_, v)| v.is_some()) {
                        "s3:DeleteObjectVersion"
                    } else {
                        "s3:DeleteObject"
                    };
                    failed.extend(fail_all(&pending, &self.err(e, action).to_string()));
                    return answer;
                }
            };
            answer.markers.extend(out.deleted().iter().filter_map(|d| {
                (d.delete_marker() == Some(true)).then_some(())?;
                Some(NewMarker {
                    key: d.key()?.to_string(),
                    version_id: d.delete_marker_version_id()?.to_string(),
                })
            }));
            // Hard failures are kept; only throttled or internally failed keys go round again.
            let mut retry = Vec::new();
            for e in out.errors() {
                let key = e.key().unwrap_or_default().to_string();
                let version_id = e.version_id().map(str::to_string);
                let code = e.code().unwrap_or("Unknown");
                if is_retryable(code) && attempt < KEY_RETRIES {
                    retry.push((key, version_id));
                } else {
                    let msg = e.message().unwrap_or("");
                    failed.push(KeyFailure {
                        key,
                        version_id,
                        error: format!("{code}: {msg}").trim_end_matches(": ").to_string(),
                    });
                }
            }
            if retry.is_empty() {
                return answer;
            }
            attempt += 1;
            tokio::time::sleep(backoff(attempt)).await;
            pending = retry;
        }
    }

    /// Every current key under `prefix`, listed now (never from an earlier scan).
    async fn list_keys(&self, prefix: &str) -> Result<Vec<Found>, S3Error> {
        let mut keys = Vec::new();
        self.each_page(prefix, None, None, |out| {
            keys.extend(out.contents().iter().filter_map(|o| {
                Some(Found {
                    key: o.key()?.to_string(),
                    version_id: None,
                    last_modified: crate::scan::to_chrono(o.last_modified()),
                })
            }));
            std::ops::ControlFlow::Continue(None)
        })
        .await?;
        Ok(keys)
    }

    /// Every version and delete marker under `prefix`.
    async fn list_versions(&self, prefix: &str) -> Result<Vec<Found>, S3Error> {
        let mut out_keys = Vec::new();
        self.each_version_page(prefix, |out| {
            for v in out.versions() {
                if let Some(k) = v.key() {
                    out_keys.push(Found {
                        key: k.to_string(),
                        version_id: Some(v.version_id().unwrap_or("null").to_string()),
                        last_modified: crate::scan::to_chrono(v.last_modified()),
                    });
                }
            }
            for m in out.delete_markers() {
                if let Some(k) = m.key() {
                    out_keys.push(Found {
                        key: k.to_string(),
                        version_id: Some(m.version_id().unwrap_or("null").to_string()),
                        last_modified: crate::scan::to_chrono(m.last_modified()),
                    });
                }
            }
        })
        .await?;
        Ok(out_keys)
    }

    /// Each page of ListObjectVersions under `prefix`, in order; a page that says it is cut
    /// short without saying where to go on is an error (never a partial listing).
    pub(crate) async fn each_version_page(
        &self,
        prefix: &str,
        mut f: impl FnMut(&aws_sdk_s3::operation::list_object_versions::ListObjectVersionsOutput),
    ) -> Result<(), S3Error> {
        let (mut key_marker, mut version_marker): (Option<String>, Option<String>) = (None, None);
        loop {
            let out = self
                .client
                .list_object_versions()
                .bucket(&self.name)
                .prefix(prefix)
                .set_key_marker(key_marker.take())
                .set_version_id_marker(version_marker.take())
                .send()
                .await
                .map_err(|e| self.err(e, "s3:ListBucketVersions"))?;
            f(&out);
            if !out.is_truncated().unwrap_or(false) {
                return Ok(());
            }
            match out.next_key_marker() {
                Some(k) if !k.is_empty() => {
                    key_marker = Some(k.to_string());
                    version_marker = out.next_version_id_marker().map(str::to_string);
                }
                _ => {
                    return Err(S3Error::ListingCut {
                        prefix: prefix.to_string(),
                    })
                }
            }
        }
    }

    /// How many versions and delete markers live under each deployment: what
    /// `--purge-versions` would remove.
    pub async fn count_versions(
        &self,
        ids: &[DeploymentId],
        concurrency: usize,
    ) -> Result<u64, S3Error> {
        let jobs: Vec<_> = ids
            .iter()
            .map(|id| async move {
                Ok(self.list_versions(&self.deployment_prefix(id)).await?.len() as u64)
            })
            .collect();
        let counts: Vec<Result<u64, S3Error>> = stream::iter(jobs)
            .buffer_unordered(concurrency.max(1))
            .collect()
            .await;
        counts.into_iter().sum()
    }
}

/// One listed object or version.
struct Found {
    key: String,
    version_id: Option<String>,
    last_modified: DateTime<Utc>,
}

/// A doomed deployment's fresh listing: what may be deleted, and what is newer than the plan.
struct Listing {
    keys: Vec<(String, Option<String>)>,
    newer: Vec<NewerKey>,
}

/// Keeps keys inside the deployment's folder (defence in depth: nothing outside is ever sent)
/// and sets aside those newer than the plan's `newest`.
fn split_newer(found: Vec<Found>, prefix: &str, newest: DateTime<Utc>) -> Listing {
    let mut out = Listing {
        keys: Vec::new(),
        newer: Vec::new(),
    };
    for f in found.into_iter().filter(|f| f.key.starts_with(prefix)) {
        if f.last_modified > newest {
            tracing::warn!(key = %f.key, "newer than the plan: left in place");
            out.newer.push(NewerKey {
                key: f.key,
                version_id: f.version_id,
                last_modified: f.last_modified,
            });
        } else {
            out.keys.push((f.key, f.version_id));
        }
    }
    out
}

fn backoff(attempt: u32) -> Duration {
    Duration::from_millis(100u64.saturating_mul(1 << attempt.min(6)))
}

fn fail_all(keys: &[(String, Option<String>)], error: &str) -> Vec<KeyFailure> {
    keys.iter()
        .map(|(k, v)| KeyFailure {
            key: k.clone(),
            version_id: v.clone(),
            error: error.to_string(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tagged(i: usize, key: &str) -> Tagged {
        (i, (key.to_string(), None))
    }

    #[test]
    fn keys_newer_than_the_plan_and_keys_outside_the_folder_are_never_sent() {
        let t = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        let found = |k: &str, at: &str| Found {
            key: k.into(),
            version_id: None,
            last_modified: t(at),
        };
        let l = split_newer(
            vec![
                found("r7/a", "2026-01-01T00:00:00Z"),
                found("r7/b", "2026-01-01T00:00:05Z"),
                found("r7/late", "2026-01-01T00:00:06Z"),
                found("r70/x", "2026-01-01T00:00:00Z"),
            ],
            "r7/",
            t("2026-01-01T00:00:05Z"),
        );
        assert_eq!(
            l.keys,
            vec![("r7/a".to_string(), None), ("r7/b".to_string(), None)]
        );
        assert_eq!(l.newer.len(), 1);
        assert_eq!(l.newer[0].key, "r7/late");
    }

    #[test]
    fn a_shared_batch_books_each_key_to_its_own_deployment() {
        let progress = Progress::default();
        let mut tally: Vec<Tally> = (0..3).map(|_| Tally::default()).collect();
        tally[0].open = 2;
        tally[1].open = 3;
        tally[2].open = 1;
        // The first batch carries all of deployment 0 and part of deployment 1.
        let sent = [
            tagged(0, "a/1"),
            tagged(0, "a/2"),
            tagged(1, "b/1"),
            tagged(1, "b/2"),
        ];
        let failed = vec![KeyFailure {
            key: "b/2".into(),
            version_id: None,
            error: "AccessDenied: no".into(),
        }];
        let markers = vec![NewMarker {
            key: "b/1".into(),
            version_id: "m1".into(),
        }];
        book(
            &mut tally,
            &sent,
            BatchAnswer { failed, markers },
            &progress,
        );
        assert_eq!(
            tally[1].markers[0].version_id, "m1",
            "a marker goes to its deployment"
        );
        assert_eq!(
            (tally[0].deleted, tally[0].open, tally[0].failed.len()),
            (2, 0, 0)
        );
        assert_eq!((tally[1].deleted, tally[1].open), (1, 1));
        assert_eq!(tally[1].failed[0].key, "b/2");
        assert_eq!(progress.deployments_done.load(Ordering::Relaxed), 1);
        assert_eq!(progress.objects_done.load(Ordering::Relaxed), 3);
        assert_eq!(progress.objects_failed.load(Ordering::Relaxed), 1);

        book(
            &mut tally,
            &[tagged(1, "b/3"), tagged(2, "c/1")],
            BatchAnswer::default(),
            &progress,
        );
        assert_eq!((tally[1].deleted, tally[1].open), (2, 0));
        assert_eq!((tally[2].deleted, tally[2].open), (1, 0));
        assert_eq!(progress.deployments_done.load(Ordering::Relaxed), 3);
        assert_eq!(progress.objects_done.load(Ordering::Relaxed), 5);
    }
}
