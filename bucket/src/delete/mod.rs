//! Deleting deployments: list each one's keys afresh, then DeleteObjects in batches of ≤ 1000
//! shared across deployments, several in flight, reading every per-key error. A deployment is
//! deleted whole or not at all: if its fresh listing differs from what the plan saw of it (a key
//! newer than the plan, more objects than it counted), none of it is sent (`listing`).
//! Memory stays bounded however big a deployment is: keys flow from listing to batches page by
//! page (`listing`), and at most `concurrency` full batches wait for one of the `concurrency`
//! request slots (told to the watch as they fill, so their intents are on record by their turn).

mod batch;
mod listing;
mod watch;

use crate::Bucket;
pub(crate) use batch::BatchAnswer;
use chrono::{DateTime, Utc};
use futures::stream::{FuturesUnordered, StreamExt};
use listing::{Key, Listed};
use retention::{DeploymentId, Doomed};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;
pub use watch::{BatchKey, BatchOutcome, Unwatched, Watch};

/// S3's hard limit per DeleteObjects request.
pub const MAX_BATCH: usize = 1000;
/// The fewest keys a batch is filled to before it goes (a last, partial one may hold fewer).
const MIN_BATCH: usize = 100;

/// Keys per DeleteObjects for this run: enough batches to use every request slot when the
/// doomed deployments are small (10,000 keys at 16 slots: 625 each, not 10 batches of 1,000
/// with 6 slots idle; a server that works through one request's keys in turn finishes sooner),
/// never under [`MIN_BATCH`] nor over S3's [`MAX_BATCH`]. Which keys go is unchanged.
fn batch_size(doomed: &[Doomed], concurrency: usize) -> usize {
    let total = doomed.iter().fold(0u64, |n, d| n.saturating_add(d.objects));
    let per_slot = total.div_ceil(concurrency.max(1) as u64);
    usize::try_from(per_slot)
        .unwrap_or(MAX_BATCH)
        .clamp(MIN_BATCH, MAX_BATCH)
}

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
    /// With [`Deletion::Marked`]: the delete markers the deletes created.
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
/// Live counters for a progress bar or a web page, cheap to read from another task; and the
/// stop switch: after [`Progress::request_stop`] no new listing or batch is started, the batches
/// in flight are answered, and the report says `stopped`.
#[derive(Debug)]
pub struct Progress {
    pub deployments_done: AtomicU64,
    pub objects_done: AtomicU64,
    pub objects_failed: AtomicU64,
    stop: tokio::sync::watch::Sender<bool>,
    all_sent: tokio::sync::watch::Sender<bool>,
}

impl Default for Progress {
    fn default() -> Self {
        Progress {
            deployments_done: AtomicU64::new(0),
            objects_done: AtomicU64::new(0),
            objects_failed: AtomicU64::new(0),
            stop: tokio::sync::watch::Sender::new(false),
            all_sent: tokio::sync::watch::Sender::new(false),
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
    /// Resolves once the deletion will send no more batches (every one is sent, or it is
    /// stopping): what is left is the answers of those in flight.
    pub async fn all_sent(&self) {
        let mut rx = self.all_sent.subscribe();
        let _ = rx.wait_for(|s| *s).await;
    }
}

/// One key to delete, tagged with the deployment (index into the caller's list) it belongs to.
type Tagged = (usize, Key);

/// A batch numbered and told to the watch ([`Watch::ahead`]), waiting for a request slot.
struct Queued {
    n: u64,
    batch: Vec<Tagged>,
    keys: Vec<BatchKey>,
}

/// A batch's keys with the deployment each belongs to, as the watch is told them.
fn keys_of(batch: &[Tagged], doomed: &[Doomed]) -> Vec<BatchKey> {
    batch
        .iter()
        .map(|(i, (key, version_id))| BatchKey {
            deployment: doomed[*i].id.clone(),
            key: key.clone(),
            version_id: version_id.clone(),
        })
        .collect()
}

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
    /// Its listing is complete (all its keys are in the pipeline).
    listed_ok: bool,
    held: Option<String>,
    changed: Option<ChangedSincePlan>,
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
        if t.open == 0 && t.listed_ok {
            progress.deployments_done.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Files one listing message: keys into the batch being filled (full batches to `ready`),
/// a deployment's listing done, failed, held or changed since the plan, keys skipped as newer.
fn file_listed(
    listed: Listed,
    tally: &mut [Tally],
    batch: &mut Vec<Tagged>,
    ready: &mut VecDeque<Vec<Tagged>>,
    batch_size: usize,
    progress: &Progress,
) {
    let done = || {
        progress.deployments_done.fetch_add(1, Ordering::Relaxed);
    };
    match listed {
        Listed::Keys { i, keys } => {
            let t = &mut tally[i];
            t.listed += keys.len() as u64;
            t.open += keys.len() as u64;
            for k in keys {
                batch.push((i, k));
                if batch.len() == batch_size {
                    ready.push_back(std::mem::take(batch));
                }
            }
        }
        Listed::Done { i, result: Ok(()) } => {
            tally[i].listed_ok = true;
            if tally[i].open == 0 {
                done();
            }
        }
        Listed::Done {
            i,
            result: Err(failure),
        } => {
            tally[i].failed.push(failure);
            done();
        }
        Listed::Held { i, reason } => {
            tally[i].held = Some(reason);
            done();
        }
        Listed::Changed { i, changed } => {
            tally[i].changed = Some(changed);
            done();
        }
        Listed::Newer { i, keys } => tally[i].skipped.extend(keys),
    }
}

/// The report of a deletion: per deployment what it listed, deleted, failed, skipped.
fn report_of(doomed: &[Doomed], tally: Vec<Tally>, stopped: bool, start: Instant) -> DeleteReport {
    let mut report = DeleteReport {
        stopped,
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
            held: t.held,
            changed: t.changed,
        });
    }
    report.deployments.sort_by(|a, b| a.id.cmp(&b.id));
    report.duration_ms = start.elapsed().as_millis() as u64;
    report
}

impl Bucket {
    /// One batch: its intent told to `watch` (refused: not sent, every key failed, the run
    /// stops), the DeleteObjects, then its answer told to `watch` (refused: the run stops).
    async fn send_watched(
        &self,
        batch: &[Tagged],
        n: u64,
        keys: Vec<BatchKey>,
        how: Deletion,
        watch: &dyn Watch,
        progress: &Progress,
    ) -> BatchAnswer {
        if let Err(e) = watch.before_batch(n, &keys).await {
            tracing::error!(batch = n, error = %e, "the batch's intent could not be recorded: not sent, stopping");
            progress.request_stop();
            let failed = keys
                .into_iter()
                .map(|k| KeyFailure {
                    key: k.key,
                    version_id: k.version_id,
                    error: format!("not sent: {e}"),
                })
                .collect();
            return BatchAnswer {
                failed,
                markers: Vec::new(),
            };
        }
        let pairs: Vec<(String, Option<String>)> = batch.iter().map(|(_, k)| k.clone()).collect();
        let mut answer = self.delete_batch(&pairs, how == Deletion::Marked).await;
        let owner: HashMap<&str, &DeploymentId> = keys
            .iter()
            .map(|k| (k.key.as_str(), &k.deployment))
            .collect();
        let outcome = BatchOutcome {
            markers: answer
                .markers
                .iter()
                .filter_map(|m| Some(((*owner.get(m.key.as_str())?).clone(), m.clone())))
                .collect(),
            failed: answer.failed.clone(),
        };
        if let Err(e) = watch.after_batch(n, &outcome).await {
            tracing::error!(batch = n, error = %e, "the batch's answer could not be recorded: stopping");
            progress.request_stop();
        } else if watch.records_markers() {
            answer.markers.clear();
        }
        answer
    }

    /// Deletes every object of each doomed deployment that is as the plan saw it; one that
    /// changed since (a key newer than `Doomed::newest`, more objects than `Doomed::objects`) is
    /// left whole and reported. With `purge_versions`, every version and delete marker too.
    /// Failures are collected per key, never hidden; a deployment whose listing fails is left
    /// untouched (one past `WHOLE_LISTING` keys, in its deleting pass: the rest of it, and the
    /// failure says how much went). A stop requested on `progress` ends the run after the
    /// batches in flight.
    ///
    /// A pipeline: deployments are listed afresh, `concurrency` at a time, and their keys flow
    /// into DeleteObjects batches shared across deployments (`batch_size`: 100 to 1,000 keys,
    /// `concurrency` batches in flight). A batch goes out when it is full, at once when
    /// nothing else is in flight, or once every deployment is listed (the last one beside the
    /// batches in flight, not after them), so small deployments cost a fraction of a request
    /// each and the endpoint is never idle.
    pub async fn delete_deployments(
        &self,
        doomed: &[Doomed],
        how: Deletion,
        concurrency: usize,
        progress: Arc<Progress>,
    ) -> DeleteReport {
        self.delete_deployments_watched(doomed, how, concurrency, progress, &Unwatched)
            .await
    }

    /// [`Bucket::delete_deployments`] with `watch` asked before each deployment and told of
    /// each batch (see [`Watch`]).
    pub async fn delete_deployments_watched(
        &self,
        doomed: &[Doomed],
        how: Deletion,
        concurrency: usize,
        progress: Arc<Progress>,
        watch: &dyn Watch,
    ) -> DeleteReport {
        let start = Instant::now();
        let purge_versions = how == Deletion::Purge;
        let concurrency = concurrency.max(1);
        let batch_size = batch_size(doomed, concurrency);
        let mut tally: Vec<Tally> = doomed.iter().map(|_| Tally::default()).collect();
        let (tx, rx) = tokio::sync::mpsc::channel::<Listed>(concurrency);
        let lister = self.feed_all(doomed, purge_versions, concurrency, tx, &progress, watch);
        let deleter = async {
            // Owned here, so the lister sees a closed channel once deleting ends.
            let mut rx = rx;
            let mut stopping = false;
            let mut in_flight = FuturesUnordered::new();
            // Full batches as the listing fills them (numbered into `queued` at once), those
            // waiting for a slot (at most `concurrency`: their intents are written meanwhile,
            // off the path of the batches in flight), and the one being filled.
            let mut ready: VecDeque<Vec<Tagged>> = VecDeque::new();
            let mut queued: VecDeque<Queued> = VecDeque::new();
            let mut batch: Vec<Tagged> = Vec::new();
            let mut listing_done = false;
            let mut sent_n = 0u64;
            let stopper = &*progress;
            let send = |q: Queued| async move {
                let answer = self
                    .send_watched(&q.batch, q.n, q.keys, how, watch, stopper)
                    .await;
                (q.batch, answer)
            };
            loop {
                if stopping && in_flight.is_empty() {
                    break; // what was never sent stays, and the report says so
                }
                // Full batches numbered as they fill, and told to the watch.
                for full in ready.drain(..) {
                    sent_n += 1;
                    let keys = keys_of(&full, doomed);
                    watch.ahead(sent_n, &keys);
                    queued.push_back(Queued {
                        n: sent_n,
                        batch: full,
                        keys,
                    });
                }
                // Never more than `concurrency` DeleteObjects at once, however big a deployment.
                while !stopping && in_flight.len() < concurrency {
                    if let Some(q) = queued.pop_front() {
                        in_flight.push(send(q));
                    } else if !batch.is_empty() && (in_flight.is_empty() || listing_done) {
                        // Idle, or nothing more to fill it with: a partial batch goes now
                        // (the last one beside the batches still in flight, not after them).
                        sent_n += 1;
                        let batch = std::mem::take(&mut batch);
                        let keys = keys_of(&batch, doomed);
                        in_flight.push(send(Queued {
                            n: sent_n,
                            batch,
                            keys,
                        }));
                    } else {
                        break;
                    }
                }
                if stopping || (listing_done && queued.is_empty() && batch.is_empty()) {
                    progress
                        .all_sent
                        .send_if_modified(|sent| !std::mem::replace(sent, true));
                }
                if in_flight.is_empty() && listing_done {
                    break; // and so queued and batch are empty too
                }
                tokio::select! {
                    () = progress.stopped(), if !stopping => {
                        tracing::warn!(in_flight = in_flight.len(), "stop requested: no new batches");
                        stopping = true;
                    }
                    listing = rx.recv(), if !stopping && !listing_done && queued.len() < concurrency => {
                        let Some(listed) = listing else {
                            listing_done = true;
                            continue;
                        };
                        file_listed(listed, &mut tally, &mut batch, &mut ready, batch_size, &progress);
                    }
                    Some((sent, answer)) = in_flight.next(), if !in_flight.is_empty() => {
                        book(&mut tally, &sent, answer, &progress);
                    }
                }
            }
            tally
        };
        let ((), tally) = futures::join!(lister, deleter);
        report_of(doomed, tally, progress.stop_requested(), start)
    }

    /// Lists the doomed deployments, `concurrency` at a time, into `tx`. Each deployment's
    /// future is made when a slot frees: made all at once (one per doomed deployment, ~4.4 KB
    /// each un-started) they held ~218 MB for 50,000 deployments (bench/results-issue22.md).
    /// A plain loop, not a stream with a closure in its type: that trips the compiler's Send
    /// inference for callers that spawn this.
    async fn feed_all(
        &self,
        doomed: &[Doomed],
        purge_versions: bool,
        concurrency: usize,
        tx: tokio::sync::mpsc::Sender<Listed>,
        progress: &Progress,
        watch: &dyn Watch,
    ) {
        let mut next = doomed.iter().enumerate();
        let mut running = FuturesUnordered::new();
        loop {
            while running.len() < concurrency {
                let Some((i, d)) = next.next() else { break };
                let tx = tx.clone();
                running.push(self.feed_doomed(i, d, purge_versions, tx, progress, watch));
            }
            if running.next().await.is_none() {
                break;
            }
        }
        drop(tx); // the deleter sees the end once every sender is gone
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doomed_of(objects: &[u64]) -> Vec<Doomed> {
        objects
            .iter()
            .enumerate()
            .map(|(i, &objects)| Doomed {
                id: DeploymentId::new(format!("d{i}")).unwrap(),
                objects,
                bytes: 0,
                newest: DateTime::<Utc>::from_timestamp(0, 0).unwrap(),
            })
            .collect()
    }

    #[test]
    fn batches_fill_every_request_slot_within_s3s_limits() {
        // 100 deployments of 100 objects, 16 slots: 625 keys a batch, 16 batches
        assert_eq!(batch_size(&doomed_of(&[100; 100]), 16), 625);
        // big runs: S3's limit
        assert_eq!(batch_size(&doomed_of(&[5_000_000]), 16), MAX_BATCH);
        // tiny runs: not below the floor (nor when counts are unknown)
        assert_eq!(batch_size(&doomed_of(&[30, 40]), 16), MIN_BATCH);
        assert_eq!(batch_size(&doomed_of(&[0]), 16), MIN_BATCH);
        assert_eq!(batch_size(&[], 0), MIN_BATCH);
    }

    fn tagged(i: usize, key: &str) -> Tagged {
        (i, (key.to_string(), None))
    }

    #[test]
    fn a_shared_batch_books_each_key_to_its_own_deployment() {
        let progress = Progress::default();
        let mut tally: Vec<Tally> = (0..3).map(|_| Tally::default()).collect();
        tally[0].open = 2;
        tally[1].open = 3;
        tally[2].open = 1;
        for t in &mut tally {
            t.listed_ok = true; // each listing is complete: done once its keys are answered
        }
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
