//! Step 3: lease, journal, delete, report. One apply per bucket and prefix, everywhere: the
//! bucket's lease is taken beside the first listings, and nothing is journalled or sent before
//! it is held (`crate::lease`). The run is journalled in the bucket (`crate::journal`) and in
//! the front end's own journal as `started` before the first delete, each batch's keys before
//! it is sent, and completed after, so every run is on record even if the process dies mid-way.

pub use crate::error::{ApplyError, JournalError};
use crate::journal::{EndAnswer, RunJournal};
use crate::lease::{probe, release, Keeper, Leased};
use crate::watch::{Guard, Started, Watcher};
use crate::{Checked, Planned};
use audit::{Record, Status};
use bucket::{Bucket, DeleteReport, Deletion, JournalPlace, LeaseReading, Progress, RunId};
use retention::{DeploymentId, Doomed};
use std::sync::Arc;

mod front_journal;
mod left;
mod record;
mod spent;

pub use front_journal::{Journal, LogJournal};
use record::{complete, started};
pub(crate) use record::{deletion, host};

/// Who applies, from where, and how.
pub struct ApplyContext {
    /// Session user, `user@host`, or the Lambda ARN.
    pub who: String,
    /// How the dashboard's user signed in (`oidc`, `token`, `proxy`).
    pub via: Option<String>,
    /// `cli`, `dashboard` or `lambda`.
    pub source: &'static str,
    pub concurrency: usize,
    /// Live counters, and the stop switch (SIGINT/SIGTERM, shutdown, the Lambda deadline).
    pub progress: Arc<Progress>,
    pub journal: Arc<dyn Journal>,
    /// Told the outcome once the record is complete (`--notify`); never fails the apply.
    pub notifier: crate::Notifier,
    /// `--via-lifecycle`: doomed deployments of more objects than this are handed to S3
    /// lifecycle expiration instead of deleted by requests, and earlier handovers are checked.
    pub lifecycle_over: Option<u64>,
    /// Refuse to apply where the server ignores conditional writes (the lease cannot hold);
    /// otherwise such a server gets a warning.
    pub require_lease: bool,
}

/// What an apply did: the audit record (one shape for every front end), and whether writing
/// its completion failed (the deletion happened all the same; the report must still be shown).
#[derive(Debug, Clone)]
pub struct Report {
    /// The plan that was applied.
    pub planned: Planned,
    pub record: Record,
    pub journal_error: Option<String>,
}

impl Report {
    /// Everything planned went (or was left whole on purpose) **and** the run's end is on
    /// record: a run whose journal could not be completed is not a success, whatever it deleted.
    pub fn is_complete(&self) -> bool {
        self.record.is_complete() && self.journal_error.is_none()
    }
}

/// Deletes what `checked` dooms. Fails only before the first delete (the bucket's lease was
/// refused, or the journal could not be written); from then on everything — failures, skipped
/// newer keys, a stop — is in the report.
pub async fn apply(checked: Checked, ctx: ApplyContext) -> Result<Report, ApplyError> {
    let Checked { planned, doomed } = checked;
    if ctx.lifecycle_over.is_some() && deletion(&planned) == Deletion::Purge {
        return Err(ApplyError::LifecycleWithPurge);
    }
    // S3's clock, as the plan's: the record and its run id are dated alike on every host, and
    // `check` judges the run's time against S3's.
    let now = planned.skew.now();
    let mut record = started(&planned, &ctx.who, ctx.source, now);
    record.shortfall = crate::health::no_success(&planned.plan, &planned.handovers);
    record.via = ctx.via.clone();
    record.undoable = planned.undoable();
    if doomed.is_empty() && ctx.lifecycle_over.is_none() {
        record.status = Status::Finished;
        note_success(&planned, &record).await;
        return Ok(Report {
            planned,
            record,
            journal_error: None,
        });
    }
    let run = RunId::new(now);
    record.run = Some(run.to_string());
    record.host = Some(host());
    let bucket = planned.bucket.clone();
    let journal = Arc::new(RunJournal::new(JournalPlace::of(&bucket), run));
    // The lease goes out beside the first listings (and their pins re-reads); the start
    // record and the run's folders once it is held.
    let leased = Leased::take(bucket.clone(), &record, ctx.require_lease);
    let started = start(&bucket, &journal, &leased, &record, &doomed, &ctx);
    tracing::debug!(bucket = %record.bucket, deployments = doomed.len(), source = ctx.source, "apply started");
    let guard = Guard::new(
        bucket.clone(),
        planned.live_pointer.clone(),
        planned.live_from.clone(),
        (planned.plan.versioning.keeps_versions()).then(|| bucket::PointerSince {
            at: planned.plan.now,
            read: planned.live_read.clone(),
        }),
        planned.skew,
    );
    let mut lease_read = LeaseRead::start(&bucket, &leased, ctx.progress.clone());
    // The dates file, read beside the deleting: at the end, the deployments deleted whole are
    // forgotten in one conditional write beside the end record ([`end`]).
    let dates_ahead = {
        let (bucket, started) = (bucket.clone(), started.clone());
        async move {
            match started.wait().await {
                Ok(_) => bucket.read_dates_ahead().await,
                Err(_) => bucket::DatesAhead::default(),
            }
        }
    };
    let deleting = async {
        futures::join!(
            delete(&planned, doomed, &journal, &leased, guard, &started, &ctx),
            dates_ahead
        )
    };
    // Every batch waits for the lease: refused, nothing was sent and nothing journalled, and
    // the listings under way are dropped.
    let refused = async {
        match leased.wait().await {
            Err(e) => e,
            Ok(_) => std::future::pending().await,
        }
    };
    let (deleted, dates_ahead) = tokio::select! {
        // The refusal first: the batches waiting for the lease are not woken to fail one by one.
        biased;
        refused = refused => return Err(refused),
        deleted = deleting => deleted,
    };
    let lease = leased.wait().await?;
    // Nothing is deleted any more. The end record is written beside the last answers (it
    // carries those not yet on record) and the lease's release.
    let (unanswered, writing) = deleted.watcher.unanswered();
    let ended = async {
        // Every batch and every lifecycle handover waited for the start record: if it could
        // not be written, nothing was sent.
        record.id = started.wait().await.map_err(JournalError)?;
        record_outcome(&mut record, deleted, &planned, &journal);
        Ok::<_, JournalError>(end(&planned, &journal, &record, unanswered, dates_ahead, &ctx).await)
    };
    let answers = futures::future::join_all(writing);
    // Released once the start task (and the conditional-write probe in it, which writes the
    // lease) is done, so the probe cannot put the lease back after its removal.
    let released = async {
        let _ = started.wait().await;
        release(&bucket, &lease, lease_read.taken().await).await
    };
    let (ended, (), _) = futures::join!(ended, released, answers);
    let journal_error = ended?;
    tracing::debug!(bucket = %record.bucket, status = %record.status, deleted = record.deleted_objects, failed = record.failures.len(), skipped = record.skipped.len(), "apply ended");
    Ok(Report {
        planned,
        record,
        journal_error,
    })
}

/// The run's start, recorded once the lease is held: in the bucket's journal, then in the
/// front end's own, giving the record's id; beside it, the folders the run may delete from
/// (`folders.json`, its intent). Nothing is deleted until both have succeeded ([`Watcher`]
/// waits for them before each batch is sent, the lifecycle handovers before they are made). Without `--require-lease` the
/// conditional-write probe goes beside it: only a warning hangs on it.
fn start(
    bucket: &Bucket,
    journal: &Arc<RunJournal>,
    leased: &Leased,
    record: &Record,
    doomed: &[Doomed],
    ctx: &ApplyContext,
) -> Started {
    let probing = (!ctx.require_lease).then(|| bucket.clone());
    let (journal, record, doomed) = (journal.clone(), record.clone(), doomed.to_vec());
    let (leased, front) = (leased.clone(), ctx.journal.clone());
    let task = tokio::spawn(async move {
        let lease = leased
            .wait()
            .await
            .map_err(|e| format!("the bucket's lease was not taken: {e}"))?;
        let probe = async {
            if let Some(bucket) = probing {
                probe(&bucket, &lease).await;
            }
        };
        // The folders go beside the start: every delete waits for both.
        let (started, folders, ()) = futures::join!(
            journal.start(&record, &doomed),
            journal.folders(&doomed),
            probe
        );
        started?;
        if let Err(e) = folders {
            // Its start is on record: it ends there too, deleting nothing (History would show
            // it started, then dead).
            let failed = refused_start(&record, &journal, &e);
            if let Err(end) = journal.end(&failed, Vec::new()).await {
                tracing::warn!(error = %end, "the run's end could not be recorded either");
            }
            return Err(e);
        }
        let begun = front.begin(&record);
        if let Err(e) = &begun {
            // The bucket's journal holds the start: it ends there too, so History does not
            // show a run that never deleted anything as started (running, or dead).
            let failed = refused_start(&record, &journal, e);
            if let Err(end) = journal.end(&failed, Vec::new()).await {
                tracing::warn!(error = %end, "the run's end could not be recorded either");
            }
        }
        begun
    });
    Started::new(task)
}

/// The record of a run whose front end could not record its start (`why`): failed, nothing
/// deleted.
fn refused_start(record: &Record, journal: &RunJournal, why: &str) -> Record {
    let mut failed = record.clone();
    failed.status = Status::Failed;
    failed.failures.push(audit::Failure {
        key: journal.place().url(),
        error: format!("nothing deleted: the run's own log could not record its start: {why}"),
    });
    failed
}

/// What the deleting did, and what stopped it early.
struct Deleted {
    report: DeleteReport,
    /// The deployments deleted by requests (the rest were handed to lifecycle rules).
    doomed: Vec<Doomed>,
    handover: crate::expire::Handover,
    /// The lease lost mid-run, if it was.
    lost: Option<String>,
    /// Why the deployments deleted whole could not be looked for again, if they could not.
    unchecked: Option<audit::Failure>,
    /// What watched the batches: its last answers may still be being written.
    watcher: Watcher,
}

/// The lease read back beside the run's last batches, so its release at the end is one
/// round trip where the server cannot remove it conditionally (a read and then a removal).
/// Dropped (the reading taken, or the apply ended early), the read is no longer waited for.
struct LeaseRead(tokio::task::JoinHandle<Option<LeaseReading>>);

impl LeaseRead {
    fn start(bucket: &Bucket, leased: &Leased, progress: Arc<Progress>) -> LeaseRead {
        let (bucket, leased) = (bucket.clone(), leased.clone());
        LeaseRead(tokio::spawn(async move {
            leased.wait().await.ok()?;
            progress.all_sent().await;
            Some(bucket.read_lease_ahead().await)
        }))
    }

    /// The reading, if it is done by now (else the lease is read again at the release).
    async fn taken(&mut self) -> Option<LeaseReading> {
        if !self.0.is_finished() {
            return None;
        }
        (&mut self.0).await.ok().flatten()
    }
}

impl Drop for LeaseRead {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The deleting itself, under the lease (renewed beside it): big deployments handed to
/// lifecycle rules when asked, the rest deleted with pins, the pointer and the journal watched.
/// Returns once the last batch is answered; the caller waits for the last answers
/// ([`Deleted::watcher`]) beside the end record and releases the lease.
async fn delete(
    planned: &Planned,
    doomed: Vec<Doomed>,
    journal: &Arc<RunJournal>,
    leased: &Leased,
    guard: Guard,
    started: &Started,
    ctx: &ApplyContext,
) -> Deleted {
    let bucket = &planned.bucket;
    let held = {
        let leased = leased.clone();
        async move { leased.wait().await.ok() }
    };
    let keeper = Keeper::start(bucket.clone(), held, ctx.progress.clone());
    let mut handover = match ctx.lifecycle_over {
        Some(over) if started.wait().await.is_ok() => {
            crate::expire::hand_over(bucket, doomed, over, planned.report_date, &guard, journal)
                .await
        }
        // No start record: the batches wait for it, fail, and send nothing.
        _ => crate::expire::Handover {
            by_requests: doomed,
            expiries: Vec::new(),
            failures: Vec::new(),
        },
    };
    if !handover.expiries.is_empty() {
        // On record before anything is deleted by requests: a failed write stops the run there
        // (the journal keeps the error), and `restore` of a killed run withdraws these rules.
        let _ = journal.handovers(&handover.expiries).await;
    }
    let doomed = std::mem::take(&mut handover.by_requests);
    let watcher = Watcher::new(guard, journal.clone(), leased.clone(), started.clone());
    let mut report = bucket
        .delete_deployments_watched(
            &doomed,
            deletion(planned),
            ctx.concurrency,
            ctx.progress.clone(),
            &watcher,
        )
        .await;
    let unchecked = left::look_again(bucket, &mut report).await;
    spent::withdraw_spent(planned, &report, &mut handover).await;
    let lost = keeper.stop().await;
    Deleted {
        report,
        doomed,
        handover,
        lost,
        unchecked,
        watcher,
    }
}

/// The record of what the deleting did: deletions, failures, what stopped the run, the
/// lifecycle handovers made and withdrawn.
fn record_outcome(record: &mut Record, d: Deleted, planned: &Planned, journal: &RunJournal) {
    complete(record, &d.report, &d.doomed);
    if let Some(why) = &d.report.refused {
        // First: what every reader shows first (the Lambda's answer names the first failure).
        record.failures.insert(
            0,
            audit::Failure {
                key: planned.bucket.url(),
                error: format!("the run stopped: {why}"),
            },
        );
        record.status = Status::Failed;
    }
    if let Some(unread) = d.watcher.guard.unread() {
        let ids: Vec<&str> = unread.held.iter().map(DeploymentId::as_str).collect();
        record.failures.push(audit::Failure {
            key: planned.bucket.url(),
            error: format!(
                "{} left whole though confirmed: the pins, live pointer or live page could not \
                 be read mid-run ({}), and nothing is deleted on a guess. Run again once they \
                 can be read",
                ids.join(", "),
                unread.error
            ),
        });
        if record.status == Status::Finished {
            record.status = Status::Failed;
        }
    }
    for why in [d.lost, journal.error()].into_iter().flatten() {
        record.failures.push(audit::Failure {
            key: journal.place().url(),
            error: format!("the run stopped: {why}"),
        });
        record.status = Status::Failed;
    }
    if let Some(unchecked) = d.unchecked {
        record.failures.push(unchecked);
        if record.status == Status::Finished {
            record.status = Status::Failed;
        }
    }
    // Rules this run's scan withdrew (their folders are kept now) are on record too.
    record.expiries = planned.handovers.withdrawn.clone();
    record.expiries.extend(d.handover.expiries);
    if !d.handover.failures.is_empty() {
        record.failures.extend(d.handover.failures);
        if record.status == Status::Finished {
            record.status = Status::Failed;
        }
    }
}

/// The end record and the success note — independent, so sent at once — then the
/// notification. Returns why the record could not be completed, if it could not.
async fn end(
    planned: &Planned,
    journal: &RunJournal,
    record: &Record,
    unanswered: Vec<EndAnswer>,
    dates_ahead: bucket::DatesAhead,
    ctx: &ApplyContext,
) -> Option<String> {
    let success = async {
        if record.status == Status::Finished {
            note_success(planned, record).await;
        }
    };
    // Published again under the same name, a deployment deleted whole is a new one, not the
    // deleted one copied back: its first-seen date is forgotten (only those deleted whole: one
    // handed to lifecycle, held, changed or partly deleted keeps it).
    let gone: Vec<DeploymentId> = (record.deleted.iter())
        .filter_map(|d| DeploymentId::new(d.id.as_str()).ok())
        .collect();
    let forgotten = planned.bucket.forget_dates(&gone, dates_ahead);
    let (ended, (), ()) = futures::join!(journal.end(record, unanswered), success, forgotten);
    let journal_error = match ended {
        Ok(()) => ctx.journal.finish(record).err(),
        Err(e) => Some(e),
    };
    ctx.notifier.send(record).await;
    if let Some(e) = &journal_error {
        tracing::error!(error = %e, "the apply ran but its audit record could not be completed");
    }
    journal_error
}

/// Notes a run that ended well, for `check` and the dashboard's "last successful run" (not
/// when it is no success however it ended: [`crate::health::no_success`], the record's
/// `shortfall`).
pub async fn note_success(planned: &Planned, record: &Record) {
    let last = crate::health::LastSuccess {
        source: record.source.clone(),
        // When it ended (S3's clock, as `check` judges it): a page's scan older than this is
        // out of date.
        at: planned.skew.now(),
        who: record.who.clone(),
        run: record.run.clone(),
        deleted_deployments: record.deleted.len() as u64,
    };
    crate::health::note_success(planned, &last).await;
}
