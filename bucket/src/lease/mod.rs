//! One apply per bucket and prefix, whichever front end or machine runs it: a lease object at
//! `<prefix>.s3-prune/lease`, taken with a conditional PUT (`If-None-Match: *`), renewed with
//! `If-Match` on its ETag while the run lasts, removed at its end, and taken over only once it
//! has expired. A server that ignores the conditions is detected (a second `If-None-Match: *`
//! PUT that succeeds) and said so: the caller warns or, with `--require-lease`, refuses.

mod holder;
mod keep;

pub use holder::{pid_namespace, LeaseHolder, LeaseTask};

use crate::state::RESERVED;
use crate::state::{Put, Tagged};
use crate::{Bucket, S3Error};
use aws_sdk_s3::error::ProvideErrorMetadata;
use chrono::Utc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A lease valid for at least this long yet (by this process's monotonic clock) on a server
/// that honours conditional writes cannot have been taken over by an expiry: it is removed at
/// its end without being read back first (with `If-Match` on its ETag, so a lease taken over
/// some other way is still not removed). The margin covers clock skew between the hosts.
const SURELY_OURS_FOR: Duration = Duration::from_secs(20);

/// The lease as read back ahead of its release ([`Bucket::read_lease_ahead`]).
#[derive(Debug)]
pub struct LeaseReading(Result<Option<(LeaseHolder, Option<String>)>, LeaseError>);

/// A lease this process holds. Renew it before `expires`; release it at the end.
#[derive(Debug)]
pub struct Lease {
    key: String,
    holder: Mutex<LeaseHolder>,
    etag: Mutex<Option<String>>,
    /// The server honoured `If-None-Match` (a second conditional create was refused).
    pub conditional: bool,
    /// A probe saw the server refuse a second conditional create.
    honoured: AtomicBool,
    /// A renewal failed (for good: a later probe does not clear it).
    doubted: AtomicBool,
    /// Until when the lease is valid by this process's clock (taken or last renewed + TTL).
    valid_until: Mutex<Instant>,
}

impl Lease {
    pub fn holder(&self) -> LeaseHolder {
        self.holder
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
    pub fn key(&self) -> &str {
        &self.key
    }

    /// Records the conditional-write probe's answer.
    pub fn probed(&self, honoured: bool) {
        self.honoured.store(honoured, Ordering::SeqCst);
    }

    /// A renewal failed: from now on the lease is read back before it is removed.
    pub fn doubt(&self) {
        self.doubted.store(true, Ordering::SeqCst);
    }

    /// Nobody else can have taken it over by its expiry: the server honours the conditions,
    /// no renewal failed, and it is valid for [`SURELY_OURS_FOR`] yet.
    fn surely_ours(&self) -> bool {
        let valid_until = *self.valid_until.lock().unwrap_or_else(|e| e.into_inner());
        self.honoured.load(Ordering::SeqCst)
            && !self.doubted.load(Ordering::SeqCst)
            && valid_until.saturating_duration_since(Instant::now()) > SURELY_OURS_FOR
    }
}

/// The lease's name in the state folder: the one state object a run deletes (at its end), so
/// the Terraform module denies deleting the others (`*.json`) and not it.
pub const LEASE: &str = "lease";

/// Creates of the lease tried at most, where each is refused yet no lease is found after.
const TAKE_TRIES: u32 = 5;

/// Why a lease could not be taken or kept.
#[derive(Debug, Clone, thiserror::Error)]
pub enum LeaseError {
    #[error("another {task} holds this bucket: {0}. Nothing was deleted; wait for it to end (or, if it died, for its lease to expire) and run again", task = LeaseTask::name(.0.task))]
    Held(LeaseHolder),
    #[error("the lease '{key}' changed under this run (another run took it over): {detail}")]
    Lost { key: String, detail: String },
    #[error("the lease '{key}' is not a lease this s3-prune can read ({detail}): if a newer s3-prune wrote it, upgrade this one (its apply may be running); otherwise remove it if no apply is running")]
    Unreadable { key: String, detail: String },
    #[error("the lease '{key}' could not be taken: the server refused to create it {tries} times, yet none was there when read (others taking it at that moment, or a server that answers conditional writes wrongly). Nothing was deleted; run again")]
    Contended { key: String, tries: u32 },
    #[error(transparent)]
    S3(#[from] S3Error),
}

impl Bucket {
    pub fn lease_key(&self) -> String {
        format!("{}{RESERVED}/{LEASE}", self.prefix)
    }

    /// The lease as it stands (for history, the dashboard and refusals); `None` when nobody
    /// holds it. Its `expires` is on this host's clock, from S3's: what is left of the life of
    /// its last write since S3 made it (as written where that cannot be told), so a reader
    /// comparing it with its own clock agrees with a run taking the lease over.
    pub async fn read_lease(&self) -> Result<Option<(LeaseHolder, Option<String>)>, LeaseError> {
        Ok(self
            .read_lease_aged()
            .await?
            .map(|(holder, etag, age)| (on_this_clock(holder, age), etag)))
    }

    /// The lease exactly as its holder wrote it.
    async fn read_lease_as_written(
        &self,
    ) -> Result<Option<(LeaseHolder, Option<String>)>, LeaseError> {
        let key = self.lease_key();
        let Some(Tagged { body, etag, .. }) = self.get_tagged(&key).await? else {
            return Ok(None);
        };
        let holder = serde_json::from_slice(&body).map_err(|e| LeaseError::Unreadable {
            key,
            detail: e.to_string(),
        })?;
        Ok(Some((holder, etag)))
    }

    /// Takes the lease for `holder` (its `expires` says how long), or says who holds it. An
    /// expired lease is taken over with `If-Match` on the ETag read, so two runs that both saw
    /// it expired cannot both win.
    pub async fn take_lease(&self, holder: LeaseHolder) -> Result<Lease, LeaseError> {
        let mut lease = self.take_lease_unprobed(holder).await?;
        lease.conditional = self.honours_conditional_writes(&lease.holder()).await?;
        lease.probed(lease.conditional);
        Ok(lease)
    }

    /// [`Bucket::take_lease`] without the probe of the server (its `conditional` is `true`
    /// until [`Bucket::honours_conditional_writes`] says otherwise): the caller runs the probe
    /// beside its next request instead of before it.
    pub async fn take_lease_unprobed(&self, holder: LeaseHolder) -> Result<Lease, LeaseError> {
        let key = self.lease_key();
        let mut tries = 0;
        let (taken_at, etag) = loop {
            tries += 1;
            let taken_at = Instant::now();
            match self.put_lease(&holder, None).await? {
                Put::Written(etag) => break (taken_at, etag),
                Put::Refused => match self.read_lease_aged().await? {
                    // This very create, carried out, its answer lost and the SDK's retry
                    // refused by the condition: the lease is ours.
                    Some((current, etag, _)) if current == holder => break (taken_at, etag),
                    Some((current, etag, age)) => {
                        let current = on_this_clock(current, age);
                        break (taken_at, self.take_over(&holder, current, etag).await?);
                    }
                    // Released between the two requests: once more from the start, a few
                    // times (a server refusing every create of an absent key would loop).
                    None if tries < TAKE_TRIES => continue,
                    None => return Err(LeaseError::Contended { key, tries }),
                },
            }
        };
        Ok(Lease {
            key,
            valid_until: Mutex::new(taken_at + lease_ttl(&holder)),
            holder: Mutex::new(holder),
            etag: Mutex::new(etag),
            conditional: true,
            honoured: AtomicBool::new(false),
            doubted: AtomicBool::new(false),
        })
    }

    /// The lease as it stands, with how long ago it was last written by the server's clock.
    async fn read_lease_aged(
        &self,
    ) -> Result<Option<(LeaseHolder, Option<String>, Option<chrono::Duration>)>, LeaseError> {
        let key = self.lease_key();
        let Some(aged) = self.get_aged(&key).await? else {
            return Ok(None);
        };
        let holder =
            serde_json::from_slice(&aged.tagged.body).map_err(|e| LeaseError::Unreadable {
                key,
                detail: e.to_string(),
            })?;
        Ok(Some((holder, aged.tagged.etag, aged.age)))
    }

    /// The lease `current` (read with `etag`, its expiry on this host's clock) taken over for
    /// `holder` when it has expired or its process is gone, with `If-Match` on that ETag (two
    /// runs that both saw it expired cannot both win); else who holds it. The new ETag.
    async fn take_over(
        &self,
        holder: &LeaseHolder,
        current: LeaseHolder,
        etag: Option<String>,
    ) -> Result<Option<String>, LeaseError> {
        if holds(&current, holder) {
            return Err(LeaseError::Held(current));
        }
        let dead = current.is_dead_here(holder);
        tracing::warn!(holder = %current, dead, "taking over an expired lease, or one whose process is gone");
        match self
            .put_lease(holder, Some(etag.as_deref().unwrap_or("*")))
            .await?
        {
            Put::Written(etag) => Ok(etag),
            Put::Refused => match self.read_lease_as_written().await? {
                // This very takeover, carried out, its answer lost and the SDK's retry refused
                // by the old ETag: the lease is ours. (Before, the run refused itself, "held
                // by" its own holder, and left its lease to block every other run a minute.)
                Some((now, etag)) if now == *holder => Ok(etag),
                _ => {
                    let now = self.read_lease().await?.map(|(h, _)| h);
                    Err(LeaseError::Held(now.unwrap_or(current)))
                }
            },
        }
    }

    /// Refuses, naming the holder, when the lease is held by a live run now: read before a
    /// create where that create must not overwrite anyone's (`--require-lease`: on a server
    /// that ignores `If-None-Match`, the create would replace a running apply's lease, and the
    /// refusal then remove it). Racy where conditions are ignored, as everything there is.
    pub async fn refuse_if_held(&self, holder: &LeaseHolder) -> Result<(), LeaseError> {
        match self.read_lease().await? {
            Some((current, _)) if holds(&current, holder) => Err(LeaseError::Held(current)),
            _ => Ok(()),
        }
    }

    /// Whether the server honours `If-None-Match` on the lease just taken by `holder`: a
    /// second conditional create must be refused. (A server that ignores it lets this second
    /// create through: the same holder written again, so nothing is lost.)
    pub async fn honours_conditional_writes(
        &self,
        holder: &LeaseHolder,
    ) -> Result<bool, LeaseError> {
        Ok(match self.put_lease(holder, None).await? {
            Put::Refused => true,
            Put::Written(_) => false,
        })
    }

    /// An error about the lease object, naming it (`BUCKET/PREFIX.s3-prune/lease`): access to
    /// the deployments may be granted where access to s3-prune's state is not.
    fn lease_err<E, R>(&self, e: aws_sdk_s3::error::SdkError<E, R>, action: &str) -> S3Error
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
        R: std::fmt::Debug + Send + Sync + 'static,
    {
        let at = format!("{}/{}", self.name, self.lease_key());
        S3Error::from_sdk(e, action, &at, &self.endpoint)
    }

    /// PUT of the lease: `If-None-Match: *` without an ETag, `If-Match` with one.
    async fn put_lease(
        &self,
        holder: &LeaseHolder,
        if_match: Option<&str>,
    ) -> Result<Put, LeaseError> {
        let body = serde_json::to_vec_pretty(holder).expect("a lease serializes");
        self.put_if(&self.lease_key(), body, if_match)
            .await
            .map_err(|e| self.lease_err(e, "s3:PutObject").into())
    }
}

/// `holder` with its expiry on this host's clock, from the server's: what is left of the life
/// of one write (`ttl_secs`) since the server last wrote it, `age` ago — no host's clock in it,
/// so hosts whose clocks disagree agree on it. Without the server's clock (no `Date` or
/// `Last-Modified` in the answer), as written. Before,
/// always as written: a holder 50 s behind lost its lease 10 s after a renewal, and two runs
/// deleted.
fn on_this_clock(mut holder: LeaseHolder, age: Option<chrono::Duration>) -> LeaseHolder {
    let ttl = holder.ttl_secs.unwrap_or(OLDER_VERSIONS_TTL_SECS);
    let left = age.and_then(|age| {
        let ttl = chrono::Duration::try_seconds(i64::try_from(ttl).ok()?)?;
        // A server whose `Date` runs behind its own `Last-Modified`: no age.
        Utc::now().checked_add_signed(ttl.checked_sub(&age.max(chrono::Duration::zero()))?)
    });
    match (left, holder.ttl_secs) {
        (Some(at), Some(_)) => holder.expires = at,
        // An older version's lease (no `ttl_secs`): held while its written expiry or S3's age
        // says so. Before, by its written expiry alone: the lease of an older build on a host
        // 70 s behind, renewed seconds before, was taken over at once and both runs deleted.
        (Some(at), None) => holder.expires = holder.expires.max(at),
        (None, _) => {}
    }
    holder
}

/// The life of one write of a lease written by a version before `ttl_secs` (all wrote 60 s).
const OLDER_VERSIONS_TTL_SECS: u64 = 60;

/// Whether `current` (its expiry on this host's clock, [`on_this_clock`]) is held against
/// `me`: unexpired, and its process not known to be gone from this host.
fn holds(current: &LeaseHolder, me: &LeaseHolder) -> bool {
    current.expires > Utc::now() && !current.is_dead_here(me)
}

/// How long `holder`'s lease lasts from the moment it was asked for (its expiry minus its
/// since, as written; zero for a lease written already expired).
fn lease_ttl(holder: &LeaseHolder) -> Duration {
    (holder.expires - holder.since).to_std().unwrap_or_default()
}

#[cfg(test)]
mod tests;
