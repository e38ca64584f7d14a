//! What the engine checks and records while a deletion runs (the [`bucket::Watch`] it hands
//! the pipeline): pins and the live pointer read again before each deployment's keys go, each
//! batch's intent (grouped with those written at the same time) and answer journalled, and
//! the bucket's lease kept.

use crate::intents::Intents;
use crate::journal::RunJournal;
use bucket::{BatchKey, BatchOutcome, Bucket, Lease, Progress, Watch};
use futures::future::{BoxFuture, FutureExt, Shared};
use retention::{DeploymentId, Pin};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long a lease lasts without renewal; it is renewed every third of it.
pub(crate) const LEASE_TTL: Duration = Duration::from_secs(60);

/// Pins read this recently are trusted; older, they are read again (one GetObject a second at
/// most, however many deployments a run deletes).
const PINS_FRESH: Duration = Duration::from_millis(500);

/// Pins and the live pointer as they stand now, read again when stale.
pub(crate) struct Guard {
    bucket: Bucket,
    live_pointer: Option<String>,
    seen: tokio::sync::Mutex<Option<(Instant, Current)>>,
}

#[derive(Clone)]
struct Current {
    pins: Vec<Pin>,
    live: Option<DeploymentId>,
}

impl Guard {
    pub(crate) fn new(bucket: Bucket, live_pointer: Option<String>) -> Guard {
        Guard {
            bucket,
            live_pointer,
            seen: tokio::sync::Mutex::new(None),
        }
    }

    async fn current(&self) -> Result<Current, String> {
        let mut seen = self.seen.lock().await;
        if let Some((at, c)) = &*seen {
            if at.elapsed() < PINS_FRESH {
                return Ok(c.clone());
            }
        }
        let read_at = Instant::now();
        let live = async {
            match &self.live_pointer {
                Some(key) => self.bucket.read_live_pointer(key).await.map(Some),
                None => Ok(None),
            }
        };
        let (pins, live) = futures::join!(self.bucket.read_pins(), live);
        let c = Current {
            pins: pins.map_err(|e| e.to_string())?,
            live: live.map_err(|e| e.to_string())?,
        };
        *seen = Some((read_at, c.clone()));
        Ok(c)
    }

    /// Reads pins and the pointer now, so the first deployment's check finds them fresh (a
    /// failure is left for that check to meet again: it keeps the deployment).
    pub(crate) async fn prefetch(&self) {
        let _ = self.current().await;
    }

    /// Why `id` must stay now, if it must. Pins or pointer unreadable: it stays (nothing is
    /// deleted on a guess).
    pub(crate) async fn hold(&self, id: &DeploymentId) -> Option<String> {
        match self.current().await {
            Err(e) => Some(format!(
                "pins or live pointer unreadable mid-run, so left: {e}"
            )),
            Ok(c) => {
                if let Some(p) = c.pins.iter().find(|p| &p.id == id) {
                    let by = if p.by.is_empty() { "someone" } else { &p.by };
                    return Some(format!("pinned since the plan (by {by})"));
                }
                if c.live.as_ref() == Some(id) {
                    return Some("live since the plan (the live pointer names it)".into());
                }
                None
            }
        }
    }
}

/// The run's start record being written (see `crate::apply`): the record's id in the front
/// end's journal once both journals hold the start, or why they do not. Nothing may be
/// deleted before it has succeeded.
#[derive(Clone)]
pub(crate) struct Started(Shared<BoxFuture<'static, Result<Option<i64>, String>>>);

impl Started {
    pub(crate) fn new(task: tokio::task::JoinHandle<Result<Option<i64>, String>>) -> Started {
        let written = async move {
            task.await
                .unwrap_or_else(|e| Err(format!("writing the start record failed: {e}")))
        };
        Started(written.boxed().shared())
    }

    /// Waits until the start is on record (or could not be written).
    pub(crate) async fn wait(&self) -> Result<Option<i64>, String> {
        self.0.clone().await
    }
}

/// The engine's watch over one run. A batch's answer is written beside the next batches (off
/// their path: only the intent must precede a batch); a failed write stops the run at the next
/// batch's intent, and [`Watcher::flush`] waits for every answer before the run's end is written.
pub(crate) struct Watcher {
    pub(crate) guard: Guard,
    pub(crate) journal: Arc<RunJournal>,
    started: Started,
    intents: Intents,
    pub(crate) answers: std::sync::Mutex<Vec<tokio::task::JoinHandle<()>>>,
}

impl Watcher {
    pub(crate) fn new(guard: Guard, journal: Arc<RunJournal>, started: Started) -> Watcher {
        Watcher {
            guard,
            started,
            intents: Intents::new(journal.clone()),
            journal,
            answers: std::sync::Mutex::new(Vec::new()),
        }
    }

    /// Waits until every answer is written (or has failed, which `journal.error()` then says).
    pub(crate) async fn flush(&self) {
        let pending = std::mem::take(&mut *self.answers.lock().unwrap_or_else(|e| e.into_inner()));
        for task in pending {
            let _ = task.await;
        }
    }
}

impl Watch for Watcher {
    fn hold<'a>(&'a self, id: &'a DeploymentId) -> BoxFuture<'a, Option<String>> {
        Box::pin(self.guard.hold(id))
    }
    fn before_batch<'a>(
        &'a self,
        n: u64,
        keys: &'a [BatchKey],
    ) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            // The start went out beside the first listing; no intent (so no batch) before
            // it is on record.
            if let Err(e) = self.started.wait().await {
                return Err(format!("the run's start could not be recorded: {e}"));
            }
            if let Some(e) = self.journal.error() {
                return Err(e);
            }
            self.intents.record(n, keys).await
        })
    }
    fn after_batch<'a>(
        &'a self,
        n: u64,
        outcome: &'a BatchOutcome,
    ) -> BoxFuture<'a, Result<(), String>> {
        let (journal, outcome) = (self.journal.clone(), outcome.clone());
        let task = tokio::spawn(async move {
            let _ = journal.answer(n, &outcome).await;
        });
        // Finished answers are let go now: a kept handle keeps its task's memory (~12 KB a
        // batch, 11.7 MB per million keys: bench/results-issue22.md) until the run's end.
        let mut answers = self.answers.lock().unwrap_or_else(|e| e.into_inner());
        answers.retain(|t| !t.is_finished());
        answers.push(task);
        Box::pin(async { Ok(()) })
    }
    fn records_markers(&self) -> bool {
        true
    }
}

/// Renews `lease` every third of its life until aborted; a renewal refused or failing past the
/// lease's expiry stops the run (no new batches) and leaves why in `lost`.
pub(crate) async fn keep_lease(
    bucket: Bucket,
    lease: Arc<Lease>,
    progress: Arc<Progress>,
    lost: Arc<std::sync::Mutex<Option<String>>>,
) {
    let mut valid_until = Instant::now() + LEASE_TTL;
    loop {
        tokio::time::sleep(LEASE_TTL / 3).await;
        let expires =
            chrono::Utc::now() + chrono::Duration::from_std(LEASE_TTL).unwrap_or_default();
        match bucket.renew_lease(&lease, expires).await {
            Ok(()) => valid_until = Instant::now() + LEASE_TTL,
            Err(e @ bucket::LeaseError::Lost { .. }) => {
                return stop(&progress, &lost, e.to_string())
            }
            Err(e) if Instant::now() + LEASE_TTL / 3 >= valid_until => {
                return stop(
                    &progress,
                    &lost,
                    format!("the lease could not be renewed: {e}"),
                )
            }
            Err(e) => tracing::warn!(error = %e, "lease renewal failed; trying again"),
        }
    }
}

fn stop(progress: &Progress, lost: &std::sync::Mutex<Option<String>>, why: String) {
    tracing::error!(why, "lease lost: no new batches");
    *lost.lock().unwrap_or_else(|e| e.into_inner()) = Some(why);
    progress.request_stop();
}
