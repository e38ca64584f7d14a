//! Deleting deployments: list each one's keys afresh, then DeleteObjects in batches of ≤ 1000
//! shared across deployments, several in flight, reading every per-key error. A deployment is
//! deleted whole or not at all: if its fresh listing differs from what the plan saw of it (a key
//! newer than the plan, more objects than it counted), none of it is sent (`listing`).
//! Memory stays bounded however big a deployment is: keys flow from listing to batches page by
//! page (`listing`), and at most `concurrency` full batches wait for one of the `concurrency`
//! request slots (told to the watch as they fill, so their intents are on record by their turn).
//! What is booked per deployment is in `tally`, what the caller gets back in `report`.

mod batch;
mod listing;
mod report;
mod tally;
mod watch;

use crate::Bucket;
pub(crate) use batch::BatchAnswer;
use futures::stream::{FuturesUnordered, StreamExt};
use listing::Listed;
pub use report::{
    ChangedSincePlan, DeleteReport, DeploymentOutcome, KeyFailure, NewMarker, NewerKey, Progress,
};
use retention::{DeploymentId, Doomed};
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Instant;
use tally::{book, file_listed, hold_unsent, keys_of, report_of, Tagged, Tally};
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

/// A batch numbered and told to the watch ([`Watch::ahead`]), waiting for a request slot.
struct Queued {
    n: u64,
    batch: Vec<Tagged>,
    keys: Vec<BatchKey>,
}

/// Whether each deployment's keys may go, decided once — by the first batch holding any of them,
/// once its intent is on record, just before it is sent — and kept for its later batches, so a
/// deployment goes whole or not at all. Its listing asked too, but its keys may then wait
/// seconds in the queue (behind batches in flight and intents being written): a pin, the live
/// pointer or the live page that names it meanwhile still holds it. (The watch answers from a
/// reading it may have started beside the intent, [`Watch::prefetch`], if that reading is
/// fresh enough by then: `prune` takes one started at most 0.5 s before.)
#[derive(Default)]
struct Gates(std::sync::Mutex<HashMap<usize, Arc<tokio::sync::OnceCell<Option<String>>>>>);

impl Gates {
    /// Why deployment `i` must stay, asked of `watch` the first time only.
    async fn held(&self, i: usize, id: &DeploymentId, watch: &dyn Watch) -> Option<String> {
        let gate = {
            let mut gates = self.0.lock().unwrap_or_else(|e| e.into_inner());
            gates.entry(i).or_default().clone()
        };
        gate.get_or_init(|| watch.hold(id)).await.clone()
    }

    /// Whether deployment `i` was decided already.
    fn decided(&self, i: usize) -> bool {
        let gates = self.0.lock().unwrap_or_else(|e| e.into_inner());
        gates.get(&i).is_some_and(|g| g.initialized())
    }
}

/// What became of a batch: the keys sent and S3's answer; the keys of deployments held at the
/// last moment (not sent, by deployment: how many, and why). A batch the run stopped before
/// sending comes back with nothing sent: its keys stay unanswered.
struct Sent {
    batch: Vec<Tagged>,
    answer: BatchAnswer,
    held: Vec<(usize, u64, String)>,
}

impl Sent {
    /// A batch of which nothing went; `held`: what the pins held of it.
    fn nothing(held: Vec<(usize, u64, String)>) -> Sent {
        Sent {
            batch: Vec::new(),
            answer: BatchAnswer::default(),
            held,
        }
    }
}

/// S3 refused every key of a batch as not allowed: the role may not delete here, and every
/// later batch would be refused too (a million keys' failures on record, for nothing).
fn refused_whole(failed: &[KeyFailure], sent: usize) -> bool {
    // Per key, S3 says `AccessDenied: …`; a refused request is `access denied for …`.
    let denied = |e: &str| e.contains("AccessDenied") || e.starts_with("access denied");
    sent > 0 && failed.len() >= sent && failed.iter().all(|f| denied(&f.error))
}

/// Batch `n`, whose intent may be on record, was not sent (the run stopped first): answered
/// as such, so no reader of the run takes its keys for deleted (restore would otherwise treat
/// any delete marker made on them since the run began as the run's own).
async fn answer_unsent(n: u64, watch: &dyn Watch) {
    if let Err(e) = watch.after_batch(n, &BatchOutcome::default()).await {
        tracing::warn!(batch = n, error = %e, "that the batch was not sent could not be recorded");
    }
}

impl Bucket {
    /// One batch: its intent told to `watch` (refused: not sent, every key failed, the run
    /// stops); then, unless the run was stopped meanwhile, whether each of its deployments may
    /// still go ([`Gates`]), the DeleteObjects of what may go, and its answer told to `watch`
    /// (refused: the run stops).
    #[allow(clippy::too_many_arguments)]
    async fn send_watched(
        &self,
        batch: Vec<Tagged>,
        n: u64,
        keys: Vec<BatchKey>,
        how: Deletion,
        watch: &dyn Watch,
        progress: &Progress,
        gates: &Gates,
    ) -> Sent {
        let mut deployments: Vec<(usize, &DeploymentId)> = Vec::new();
        for ((i, _), k) in batch.iter().zip(&keys) {
            if !deployments.iter().any(|(j, _)| j == i) {
                deployments.push((*i, &k.deployment));
            }
        }
        if deployments.iter().any(|(i, _)| !gates.decided(*i)) {
            watch.prefetch();
        }
        let recorded = watch.before_batch(n, &keys).await;
        if let Err(e) = recorded {
            tracing::error!(batch = n, error = %e, "the batch's intent could not be recorded: not sent, stopping");
            progress.request_stop();
            // Its intent may be on record all the same (the start record failed, or another
            // batch's write): answered as unsent, so no reader takes its keys for deleted.
            answer_unsent(n, watch).await;
            let failed = keys
                .into_iter()
                .map(|k| KeyFailure {
                    key: k.key,
                    version_id: k.version_id,
                    error: format!("not sent: {e}"),
                })
                .collect();
            return Sent {
                batch,
                answer: BatchAnswer {
                    failed,
                    markers: Vec::new(),
                },
                held: Vec::new(),
            };
        }
        if progress.stop_requested() {
            // Stopped (a lost lease, a journal write failed, Ctrl-C) while this batch waited
            // for its intent: it is not sent.
            answer_unsent(n, watch).await;
            return Sent::nothing(Vec::new());
        }
        // Asked once the intent is on record (that may have taken seconds), just before sending.
        let holds =
            futures::future::join_all(deployments.iter().map(|(i, id)| gates.held(*i, id, watch)))
                .await;
        let mut held = Vec::new();
        for ((i, id), reason) in deployments.iter().zip(holds) {
            if let Some(reason) = reason {
                let count = batch.iter().filter(|(j, _)| j == i).count() as u64;
                tracing::warn!(deployment = %id, reason, "held since it was listed: none of it is sent");
                held.push((*i, count, reason));
            }
        }
        if progress.stop_requested() {
            // Stopped while the pins were read again: not sent either (what they hold is
            // still reported as held).
            answer_unsent(n, watch).await;
            return Sent::nothing(held);
        }
        let (batch, keys): (Vec<Tagged>, Vec<BatchKey>) = batch
            .into_iter()
            .zip(keys)
            .filter(|((i, _), _)| !held.iter().any(|(j, _, _)| j == i))
            .unzip();
        if batch.is_empty() {
            // Answered (nothing was sent), so no reader of the run takes its intent's keys
            // for sent.
            if let Err(e) = watch.after_batch(n, &BatchOutcome::default()).await {
                tracing::error!(batch = n, error = %e, "the batch's answer could not be recorded: stopping");
                progress.request_stop();
            }
            return Sent::nothing(held);
        }
        let pairs: Vec<(String, Option<String>)> = batch.iter().map(|(_, k)| k.clone()).collect();
        let mut answer = self
            .delete_batch(&pairs, how == Deletion::Marked, progress)
            .await;
        if refused_whole(&answer.failed, pairs.len()) {
            let actions = match pairs.iter().any(|(_, v)| v.is_some()) {
                true => "s3:DeleteObject and s3:DeleteObjectVersion",
                false => "s3:DeleteObject",
            };
            let why = format!(
                "S3 refused every key of batch {n} (AccessDenied): grant {actions} on \
                 arn:aws:s3:::{}/{}* to whoever runs s3-prune (or lift the bucket policy's Deny \
                 or the Object Lock that refuses it); no new batch was sent after it",
                self.name,
                self.prefix()
            );
            tracing::error!(batch = n, "{why}");
            progress.refuse(why);
        }
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
        Sent {
            batch,
            answer,
            held,
        }
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
        let gates = Gates::default();
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
            let gates = &gates;
            let send =
                |q: Queued| self.send_watched(q.batch, q.n, q.keys, how, watch, stopper, gates);
            loop {
                if stopping && in_flight.is_empty() {
                    // What was never sent stays, and the report says so; the full batches told
                    // to the watch (their intents may be on record) are answered as unsent.
                    for q in queued.drain(..) {
                        answer_unsent(q.n, watch).await;
                    }
                    break;
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
                    Some(sent) = in_flight.next(), if !in_flight.is_empty() => {
                        for (i, count, reason) in sent.held {
                            hold_unsent(&mut tally, i, count, reason, &progress);
                        }
                        book(&mut tally, &sent.batch, sent.answer, &progress);
                    }
                }
            }
            tally
        };
        let ((), tally) = futures::join!(lister, deleter);
        let mut report = report_of(doomed, tally, progress.stop_requested(), start);
        report.refused = progress.refused();
        report
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
    use chrono::{DateTime, Utc};

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
}
