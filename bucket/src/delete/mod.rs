//! Deleting deployments: list each one's keys afresh, then DeleteObjects in batches of ≤ 1000
//! shared across deployments, several in flight, reading every per-key error. A deployment is
//! deleted whole or not at all: if its fresh listing differs from what the plan saw of it (a key
//! newer than the plan, more objects than it counted), none of it is sent (`listing`).
//! Memory stays bounded however big a deployment is: keys flow from listing to batches page by
//! page (`listing`), and at most `concurrency` full batches wait for one of the `concurrency`
//! request slots.
//! What is booked per deployment is in `tally`, what the caller gets back in `report`.

mod batch;
mod left;
mod listing;
mod report;
mod send;
mod tally;
mod watch;

use crate::Bucket;
pub(crate) use batch::BatchAnswer;
use futures::stream::{FuturesUnordered, StreamExt};
pub use left::LeftOver;
use listing::Listed;
pub use report::{
    ChangedSincePlan, DeleteReport, DeploymentOutcome, KeyFailure, NewMarker, NewerKey, Progress,
};
use retention::Doomed;
use send::{answer_unsent, Gates};
use std::collections::VecDeque;
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

/// A batch numbered, waiting for a request slot.
struct Queued {
    n: u64,
    batch: Vec<Tagged>,
    keys: Vec<BatchKey>,
}

impl Bucket {
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
            // waiting for a slot (at most `concurrency`), and the one being filled.
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
                    // What was never sent stays, and the report says so; the full batches
                    // numbered are answered to the watch as unsent.
                    for q in queued.drain(..) {
                        answer_unsent(q.n, watch).await;
                    }
                    break;
                }
                // Full batches numbered as they fill, and told to the watch.
                for full in ready.drain(..) {
                    sent_n += 1;
                    let keys = keys_of(&full, doomed);
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
    use retention::DeploymentId;

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
