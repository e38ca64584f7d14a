//! The run's hold on the bucket: its lease taken (beside the run's first listings, see
//! `crate::apply`), renewed while the run lasts, and released at its end. Nothing is written
//! to the run's journal, and nothing is sent, before the lease is held.

use crate::error::{ApplyError, JournalError};
use audit::Record;
use bucket::{Bucket, Lease, LeaseError, LeaseHolder, LeaseReading, LeaseTask, Progress};
use chrono::Utc;
use futures::future::{BoxFuture, FutureExt, Shared};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long a lease lasts without renewal.
pub(crate) const LEASE_TTL: Duration = Duration::from_secs(60);

/// How often a lease is renewed: a renewal that fails is tried again twice before the run must
/// stop ([`STOP_BEFORE_EXPIRY`]).
const RENEW_EVERY: Duration = Duration::from_secs(10);

/// The bucket's lease being taken for one run: the start record (every batch waits for it) and
/// the lifecycle handovers wait for it.
#[derive(Clone)]
pub(crate) struct Leased(Shared<BoxFuture<'static, Result<Arc<Lease>, ApplyError>>>);

impl Leased {
    /// Starts taking the lease for the run of `record`. Where the server ignores conditional
    /// writes, `--require-lease` (`require`) refuses before anything is journalled (a refused
    /// run leaves no record); otherwise the probe goes beside the start record.
    pub(crate) fn take(bucket: Bucket, record: &Record, require: bool) -> Leased {
        let holder = holder_of(record, LeaseTask::Apply);
        let task = tokio::spawn(async move {
            if require {
                take_lease(&bucket, holder, true).await
            } else {
                Ok(bucket.take_lease_unprobed(holder).await?)
            }
        });
        let taken = async move {
            match task.await {
                Ok(taken) => taken.map(Arc::new),
                Err(e) => {
                    Err(JournalError(format!("taking the bucket's lease failed: {e}")).into())
                }
            }
        };
        Leased(taken.boxed().shared())
    }

    /// Waits until the lease is held (or refused).
    pub(crate) async fn wait(&self) -> Result<Arc<Lease>, ApplyError> {
        self.0.clone().await
    }
}

/// Takes the bucket's lease for `holder`, or says who holds it.
pub(crate) async fn take_lease(
    bucket: &Bucket,
    holder: LeaseHolder,
    require: bool,
) -> Result<Lease, ApplyError> {
    if require {
        bucket.refuse_if_held(&holder).await?;
    }
    let lease = bucket.take_lease(holder).await?;
    if !lease.conditional {
        if require {
            release(bucket, &lease, None).await;
            return Err(ApplyError::NoConditionalWrites {
                endpoint: bucket.endpoint().to_string(),
            });
        }
        warn_unless_conditional(bucket, Ok(false));
    }
    Ok(lease)
}

/// The lease's holder for the run of `record` (an apply or a restore: `task`), from now for
/// [`LEASE_TTL`].
pub(crate) fn holder_of(record: &Record, task: LeaseTask) -> LeaseHolder {
    holder(
        record.run.clone().unwrap_or_default(),
        &record.who,
        &record.source,
        record.host.clone().unwrap_or_default(),
        task,
    )
}

/// A holder of the lease on `host` (this process), from now for [`LEASE_TTL`]: `run` and
/// `task` name what holds it to anyone refused meanwhile.
pub(crate) fn holder(
    run: String,
    who: &str,
    source: &str,
    host: String,
    task: LeaseTask,
) -> LeaseHolder {
    let since = Utc::now();
    LeaseHolder {
        run,
        who: who.to_string(),
        source: source.to_string(),
        host,
        since,
        expires: since + chrono::Duration::from_std(LEASE_TTL).unwrap_or_default(),
        pid: std::process::id(),
        pid_ns: bucket::pid_namespace(),
        ttl_secs: Some(LEASE_TTL.as_secs()),
        task: Some(task),
    }
}

/// Asks the server whether it honours conditional writes (a second conditional create of the
/// lease must be refused), tells the lease, and warns when the lease cannot hold.
pub(crate) async fn probe(bucket: &Bucket, lease: &Lease) {
    let answer = bucket.honours_conditional_writes(&lease.holder()).await;
    lease.probed(matches!(answer, Ok(true)));
    warn_unless_conditional(bucket, answer);
}

/// The probe's answer, said when the lease cannot hold.
fn warn_unless_conditional(bucket: &Bucket, probe: Result<bool, LeaseError>) {
    match probe {
        Ok(true) => {}
        Ok(false) => tracing::warn!(endpoint = bucket.endpoint(), "the server ignores conditional writes: the lease cannot stop a second apply running at once (--require-lease refuses instead)"),
        Err(e) => tracing::warn!(endpoint = bucket.endpoint(), error = %e, "could not tell whether the server honours conditional writes (the lease may not stop a second apply; --require-lease refuses instead)"),
    }
}

/// How long before the lease could expire a renewal still unanswered stops the run: time for
/// the batches in flight to get their answers before they are given up.
const STOP_BEFORE_EXPIRY: Duration = Duration::from_secs(25);

/// How long before the lease could expire a delete still waiting for its answer is given up
/// ([`bucket::Progress::out_of_time`]): nothing of this run is out when another run may take
/// the lease over. While renewals are answered the moment moves on with each, so a slow server
/// may take as long as it needs for a batch (a fixed 20 s per batch failed every big apply on
/// a server that answers a 1,000-key DeleteObjects more slowly).
const GIVE_UP_BEFORE_EXPIRY: Duration = Duration::from_secs(5);
const _: () = assert!(GIVE_UP_BEFORE_EXPIRY.as_secs() < STOP_BEFORE_EXPIRY.as_secs());

/// Renews `lease` every [`RENEW_EVERY`] until aborted; a renewal refused, failing past the
/// lease's expiry, or not answered [`STOP_BEFORE_EXPIRY`] before it stops the run (no new
/// batches) and leaves why in `lost`. The lease counts as valid until the expiry it was last
/// written with, from the moment that write was sent (not answered); deletes still out
/// [`GIVE_UP_BEFORE_EXPIRY`] before then are given up.
async fn keep_lease(
    bucket: Bucket,
    lease: Arc<Lease>,
    progress: Arc<Progress>,
    lost: Arc<std::sync::Mutex<Option<String>>>,
) {
    let left = (lease.holder().expires - Utc::now())
        .to_std()
        .unwrap_or_default();
    let mut valid_until = Instant::now() + left.min(LEASE_TTL);
    let hold = |valid_until: Instant| {
        let until = valid_until
            .checked_sub(GIVE_UP_BEFORE_EXPIRY)
            .unwrap_or(valid_until);
        progress.hold_until(until.into());
    };
    hold(valid_until);
    loop {
        // The next renewal in [`RENEW_EVERY`], never after the last moment one can still be
        // answered in time.
        let stop_at = valid_until.checked_sub(STOP_BEFORE_EXPIRY);
        let next = Instant::now() + RENEW_EVERY;
        tokio::time::sleep_until(stop_at.map_or(next, |s| next.min(s)).into()).await;
        let sent = Instant::now();
        let expires = Utc::now() + chrono::Duration::from_std(LEASE_TTL).unwrap_or_default();
        let deadline = valid_until
            .checked_sub(STOP_BEFORE_EXPIRY)
            .unwrap_or(sent)
            .max(sent);
        let renewed =
            tokio::time::timeout_at(deadline.into(), bucket.renew_lease(&lease, expires)).await;
        match renewed {
            Err(_) => {
                return stop(
                    &progress,
                    &lost,
                    format!(
                        "the lease could not be renewed before it expires (no answer in {} s)",
                        sent.elapsed().as_secs()
                    ),
                )
            }
            Ok(Ok(())) => {
                valid_until = sent + LEASE_TTL;
                hold(valid_until);
            }
            Ok(Err(e @ LeaseError::Lost { .. })) => {
                // Another run holds it now: what is still out is given up at once, not at the
                // end of a lease that is no longer this run's.
                progress.hold_until(tokio::time::Instant::now());
                return stop(&progress, &lost, e.to_string());
            }
            Ok(Err(e)) if Instant::now() + RENEW_EVERY + STOP_BEFORE_EXPIRY >= valid_until => {
                return stop(
                    &progress,
                    &lost,
                    format!("the lease could not be renewed: {e}"),
                )
            }
            Ok(Err(e)) => tracing::warn!(error = %e, "lease renewal failed; trying again"),
        }
    }
}

/// One run's lease kept ([`keep_lease`]) while the run lasts: stopped when the run ends
/// ([`Keeper::stop`]) — or when it is dropped (the run's future was cancelled: a dashboard
/// request whose browser went away), so a lease is never renewed for a run that no longer
/// exists.
pub(crate) struct Keeper {
    task: Option<tokio::task::JoinHandle<()>>,
    /// Why the lease was lost, if it was (the run was stopped then).
    lost: Arc<std::sync::Mutex<Option<String>>>,
}

impl Keeper {
    /// Renews the lease `held` yields, once it does (`None`: none was taken, nothing to
    /// renew); losing it stops `progress`.
    pub(crate) fn start(
        bucket: Bucket,
        held: impl std::future::Future<Output = Option<Arc<Lease>>> + Send + 'static,
        progress: Arc<Progress>,
    ) -> Keeper {
        let lost = Arc::new(std::sync::Mutex::new(None));
        let losing = lost.clone();
        let task = tokio::spawn(async move {
            if let Some(lease) = held.await {
                keep_lease(bucket, lease, progress, losing).await;
            }
        });
        Keeper {
            task: Some(task),
            lost,
        }
    }

    /// Stops renewing (a renewal under way is cancelled) and waits until the task has ended,
    /// so no renewal starts after the release that follows. Why the lease was lost, if it was.
    pub(crate) async fn stop(mut self) -> Option<String> {
        if let Some(task) = self.task.take() {
            task.abort();
            let _ = task.await;
        }
        self.lost.lock().unwrap_or_else(|e| e.into_inner()).take()
    }
}

impl Drop for Keeper {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

fn stop(progress: &Progress, lost: &std::sync::Mutex<Option<String>>, why: String) {
    tracing::error!(why, "lease lost: no new batches");
    *lost.lock().unwrap_or_else(|e| e.into_inner()) = Some(why);
    progress.request_stop();
}

/// Removes the lease if it is still this run's (`ahead`: as read while the last batches were
/// in flight, see [`bucket::Bucket::release_lease`]).
pub(crate) async fn release(bucket: &Bucket, lease: &Lease, ahead: Option<LeaseReading>) {
    if let Err(e) = bucket.release_lease(lease, ahead).await {
        tracing::warn!(error = %e, key = lease.key(), "the lease could not be removed: it expires by itself");
    }
}
