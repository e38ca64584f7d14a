//! What the engine checks and records while a deletion runs (the [`bucket::Watch`] it hands
//! the pipeline): pins, the live pointer and the live page read again before each deployment's
//! keys go (every deployment the pointer named since the plan stays, not only the one it names
//! now); no batch sent before the run's start and folders are on record (its intent, once for
//! the whole run: `crate::journal::FoldersPart`), each batch's answer journalled (grouped with
//! others: `crate::answers`), none before the bucket's lease is held.

use crate::answers::Answers;
use crate::journal::{EndAnswer, RunJournal};
use crate::lease::Leased;
use bucket::{BatchKey, BatchOutcome, Bucket, Watch};
use chrono::{DateTime, Utc};
use futures::future::{BoxFuture, FutureExt, Shared};
use retention::{DeploymentId, Pin};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::task::JoinHandle;

/// Pins read this recently are trusted; older, they are read again (one reading — the pins,
/// and the live pointer and page when given — every 0.5 s at most, however many deployments a
/// run deletes).
const PINS_FRESH: Duration = Duration::from_millis(500);

/// Pins, the live pointer and the live page as they stand now, read again when stale. Cheap to
/// clone: the clones share one reading.
#[derive(Clone)]
pub(crate) struct Guard(Arc<Watched>);

struct Watched {
    bucket: Bucket,
    live_pointer: Option<String>,
    /// `--live-from KEY`: a page of the site whose references are live.
    live_from: Option<String>,
    /// On a versioned bucket, the plan's time and the pointer's version it read: the versions
    /// written since are read at each reading (what it named between two readings stays too).
    versions_since: Option<bucket::PointerSince>,
    seen: tokio::sync::Mutex<Seen>,
    /// This machine's clock against S3's: a change recorded mid-run is dated by S3's.
    skew: bucket::ClockSkew,
    /// Deployments left whole because the pins, pointer or page could not be read, and the
    /// first such error: the run did not do what was confirmed, and must say so.
    unread: std::sync::Mutex<Unread>,
}

/// What an unreadable guard held ([`Guard::unread`]).
#[derive(Debug, Clone, Default)]
pub(crate) struct Unread {
    pub(crate) held: Vec<DeploymentId>,
    pub(crate) error: String,
}

/// The latest reading, and every deployment the live pointer named in any reading of this run
/// (and, on a versioned bucket, in any of its versions written since the plan).
#[derive(Default)]
struct Seen {
    latest: Option<(Instant, Current)>,
    /// A deployment the pointer named a moment ago and no longer names is the rollback target
    /// of a deploy gone wrong: it stays for the rest of the run (a plan made then would keep it
    /// for the live grace).
    was_live: Vec<DeploymentId>,
}

#[derive(Clone)]
struct Current {
    pins: Vec<Pin>,
    live: Option<DeploymentId>,
    /// What the live page references now.
    referenced: Vec<DeploymentId>,
}

impl Guard {
    pub(crate) fn new(
        bucket: Bucket,
        live_pointer: Option<String>,
        live_from: Option<String>,
        versions_since: Option<bucket::PointerSince>,
        skew: bucket::ClockSkew,
    ) -> Guard {
        Guard(Arc::new(Watched {
            bucket,
            live_pointer,
            live_from,
            versions_since,
            skew,
            unread: Default::default(),
            seen: tokio::sync::Mutex::new(Seen::default()),
        }))
    }

    /// S3's time now (this machine's clock corrected by the scan's measure of it).
    pub(crate) fn now(&self) -> DateTime<Utc> {
        self.0.skew.now()
    }

    /// Starts reading them again if they are stale, without waiting: a batch whose intent is
    /// being written asks this first, so the reading goes beside the intent instead of after
    /// it. What it reads is used only if still fresh once the intent is on record
    /// (`PINS_FRESH`); an intent that took longer is followed by another reading.
    pub(crate) fn refresh(&self) {
        let guard = self.clone();
        tokio::spawn(async move {
            let _ = guard.current(None).await;
        });
    }

    /// The latest reading (fresh, and begun at or after `after` if given; else read again),
    /// and every deployment the pointer named in this run's readings.
    async fn current(
        &self,
        after: Option<Instant>,
    ) -> Result<(Current, Vec<DeploymentId>), String> {
        let this = &self.0;
        let mut seen = this.seen.lock().await;
        if let Some((at, c)) = &seen.latest {
            if at.elapsed() < PINS_FRESH && after.is_none_or(|after| *at >= after) {
                return Ok((c.clone(), seen.was_live.clone()));
            }
        }
        let read_at = Instant::now();
        let live = async {
            match &this.live_pointer {
                Some(key) => this.bucket.read_live_pointer(key).await.map(Some),
                None => Ok(None),
            }
        };
        let referenced = async {
            match &this.live_from {
                Some(key) => this.bucket.read_live_from(key).await.map(|r| r.ids),
                None => Ok(Vec::new()),
            }
        };
        let named = async {
            match (&this.live_pointer, &this.versions_since) {
                (Some(key), Some(since)) => this.bucket.named_since(key, since).await,
                _ => Ok(Vec::new()),
            }
        };
        let (pins, live, referenced, named) =
            futures::join!(this.bucket.read_pins(), live, referenced, named);
        for id in named? {
            if !seen.was_live.contains(&id) {
                seen.was_live.push(id);
            }
        }
        let c = Current {
            pins: pins.map_err(|e| e.to_string())?,
            live: live.map_err(|e| e.to_string())?,
            referenced: referenced.map_err(|e| e.to_string())?,
        };
        let before = seen.latest.as_ref().and_then(|(_, b)| b.live.clone());
        if let (Some(key), Some(live)) = (&this.live_pointer, &c.live) {
            if !seen.was_live.contains(live) {
                seen.was_live.push(live.clone());
            }
            if before.as_ref() != Some(live) {
                // Recorded as a scan records it (still under the lock, so changes are recorded
                // in the order read): the next plan gives the one it replaced its grace, on a
                // bucket without versioning too. Best effort, as a scan's recording is.
                if let Err(e) = this.bucket.observe_live(key, live, this.skew.now()).await {
                    tracing::info!(error = %e, "the live pointer's change seen mid-run could not be recorded");
                }
            }
        }
        seen.latest = Some((read_at, c.clone()));
        Ok((c, seen.was_live.clone()))
    }

    /// The deployments left whole because a reading failed, if any: not what was confirmed
    /// (nothing the user chose kept them), so the run fails and says to run again.
    pub(crate) fn unread(&self) -> Option<Unread> {
        let unread = self.0.unread.lock().unwrap_or_else(|p| p.into_inner());
        (!unread.held.is_empty()).then(|| unread.clone())
    }

    /// Why `id` must stay now, if it must. Pins, pointer or live page unreadable: it stays
    /// (nothing is deleted on a guess), for the rest of the run — a later reading that works
    /// does not let it go (a big deployment whose handover to lifecycle was refused that way
    /// was deleted by requests, the record saying it was left whole).
    pub(crate) async fn hold(&self, id: &DeploymentId) -> Option<String> {
        {
            let unread = self.0.unread.lock().unwrap_or_else(|p| p.into_inner());
            if unread.held.contains(id) {
                return Some(unread_reason(&unread.error));
            }
        }
        self.hold_read_after(id, None).await
    }

    /// [`Guard::hold`] from a reading begun at or after `after`: what a change written at
    /// `after` must be checked against (a pin set while it was being written).
    pub(crate) async fn hold_read_after(
        &self,
        id: &DeploymentId,
        after: Option<Instant>,
    ) -> Option<String> {
        match self.current(after).await {
            Err(e) => {
                let mut unread = self.0.unread.lock().unwrap_or_else(|p| p.into_inner());
                if unread.held.is_empty() {
                    unread.error = e.clone();
                }
                if !unread.held.contains(id) {
                    unread.held.push(id.clone());
                }
                Some(unread_reason(&e))
            }
            Ok((c, was_live)) => {
                if let Some(p) = c.pins.iter().find(|p| &p.id == id) {
                    let by = if p.by.is_empty() { "someone" } else { &p.by };
                    return Some(format!("pinned since the plan (by {by})"));
                }
                if c.live.as_ref() == Some(id) {
                    return Some("live since the plan (the live pointer names it)".into());
                }
                if was_live.contains(id) {
                    return Some(
                        "live since the plan (the live pointer named it after the plan was made)"
                            .into(),
                    );
                }
                if c.referenced.contains(id) {
                    let page = self.0.live_from.as_deref().unwrap_or_default();
                    return Some(format!(
                        "live since the plan (the page {page} references it)"
                    ));
                }
                None
            }
        }
    }
}

/// The run's start record being written (see `crate::apply`), once the lease is held: the
/// record's id in the front end's journal once both journals hold the start, or why they do
/// not. Nothing may be deleted before it has succeeded.
#[derive(Clone)]
pub(crate) struct Started(Shared<BoxFuture<'static, Result<Option<i64>, String>>>);

impl Started {
    pub(crate) fn new(task: JoinHandle<Result<Option<i64>, String>>) -> Started {
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

/// The engine's watch over one run. A batch is sent once the run's start and folders are on
/// record (written once, when the lease is held: nothing is written per batch before it goes).
/// Its answer waits for others and goes with them, off the batches' path ([`crate::answers`]);
/// a failed write stops the run at the next batch. The answers still waiting or being written
/// when the deleting ends go into the end record ([`Watcher::unanswered`]), so the end need
/// not wait.
pub(crate) struct Watcher {
    pub(crate) guard: Guard,
    pub(crate) journal: Arc<RunJournal>,
    leased: Leased,
    started: Started,
    answers: Answers,
}

impl Watcher {
    pub(crate) fn new(
        guard: Guard,
        journal: Arc<RunJournal>,
        leased: Leased,
        started: Started,
    ) -> Watcher {
        Watcher {
            guard,
            answers: Answers::new(journal.clone()),
            leased,
            started,
            journal,
        }
    }

    /// The answers not yet known to be on record (for the end record), and the writes still
    /// under way (to be waited for beside it).
    pub(crate) fn unanswered(&self) -> (Vec<EndAnswer>, Vec<JoinHandle<()>>) {
        self.answers.unanswered()
    }
}

impl Watch for Watcher {
    fn hold<'a>(&'a self, id: &'a DeploymentId) -> BoxFuture<'a, Option<String>> {
        Box::pin(self.guard.hold(id))
    }
    fn prefetch(&self) {
        // The pins are asked again once the intent is on record (`bucket`'s gates): their
        // reading starts now, beside it, and is used only if still fresh by then.
        self.guard.refresh();
    }
    fn before_batch<'a>(
        &'a self,
        _n: u64,
        _keys: &'a [BatchKey],
    ) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            // The lease went out beside the first listings: nothing is sent before it is held.
            // Refused, the apply ends with the refusal and drops the whole deletion
            // (`crate::apply`); this batch only waits for that, it does not fail on its own.
            if self.leased.wait().await.is_err() {
                return std::future::pending().await;
            }
            if let Some(e) = self.journal.error() {
                return Err(e);
            }
            // The run's start and folders: on record once, before its first batch.
            if let Err(e) = self.started.wait().await {
                return Err(format!("the run's start could not be recorded: {e}"));
            }
            // A write of the answers may have failed meanwhile.
            match self.journal.error() {
                Some(e) => Err(e),
                None => Ok(()),
            }
        })
    }
    fn after_batch<'a>(
        &'a self,
        n: u64,
        outcome: &'a BatchOutcome,
    ) -> BoxFuture<'a, Result<(), String>> {
        self.answers.push(n, outcome);
        Box::pin(async { Ok(()) })
    }
    fn records_markers(&self) -> bool {
        true
    }
}

/// Why a deployment is left when pins, the pointer or the live page could not be read.
fn unread_reason(e: &str) -> String {
    format!("pins, live pointer or live page unreadable mid-run, so left: {e}")
}
