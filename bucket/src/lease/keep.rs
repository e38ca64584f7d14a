//! The lease while its run lasts and at its end: renewed only while it is still the run's
//! (`If-Match`), read ahead of its release, and removed only if it is still the run's.

use super::{Lease, LeaseError, LeaseReading};
use crate::state::{condition_refused, not_implemented, Put};
use crate::Bucket;
use chrono::{DateTime, Utc};
use std::sync::atomic::Ordering;
use std::time::Instant;

impl Bucket {
    /// Moves the lease's expiry to `expires`, only if it is still ours (`If-Match`). A renewal
    /// that fails leaves the lease in doubt ([`Lease::doubt`]).
    pub async fn renew_lease(
        &self,
        lease: &Lease,
        expires: DateTime<Utc>,
    ) -> Result<(), LeaseError> {
        let mut holder = lease.holder();
        holder.expires = expires;
        let asked_at = Instant::now();
        let valid_for = (expires - Utc::now()).to_std().unwrap_or_default();
        let etag = lease.etag.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let put = self
            .put_lease(&holder, Some(etag.as_deref().unwrap_or("*")))
            .await;
        let written = match put {
            Ok(Put::Written(etag)) => Ok(etag),
            Ok(Put::Refused) => match self.read_lease_as_written().await {
                // This very renewal, carried out, its answer lost and the SDK's retry refused
                // by the old ETag: the lease there is ours, as just written.
                Ok(Some((current, etag))) if current == holder => Ok(etag),
                _ => Err(LeaseError::Lost {
                    key: lease.key.clone(),
                    detail: "its ETag no longer matches".into(),
                }),
            },
            Err(e) => Err(e),
        };
        match written {
            Ok(etag) => {
                *lease.valid_until.lock().unwrap_or_else(|e| e.into_inner()) = asked_at + valid_for;
                *lease.etag.lock().unwrap_or_else(|e| e.into_inner()) = etag;
                *lease.holder.lock().unwrap_or_else(|e| e.into_inner()) = holder;
                Ok(())
            }
            Err(e) => {
                lease.doubt();
                Err(e)
            }
        }
    }

    /// The lease read back ahead of its release, while a run's last batches are in flight
    /// (see [`Bucket::release_lease`]).
    pub async fn read_lease_ahead(&self) -> LeaseReading {
        LeaseReading(self.read_lease().await)
    }

    /// Removes the lease if it is still this run's, never another run's: read back first (or,
    /// on a server that ignores conditional writes, `ahead`: read while the run's last batches
    /// were in flight, if no renewal failed since);
    /// or, while nobody else can hold it yet ([`Lease::probed`]), removed with `If-Match` on
    /// its ETag beside that read (one round trip fewer at a run's end where the server honours
    /// it).
    pub async fn release_lease(
        &self,
        lease: &Lease,
        ahead: Option<LeaseReading>,
    ) -> Result<(), LeaseError> {
        let etag = lease.etag.lock().unwrap_or_else(|e| e.into_inner()).clone();
        // The reading ahead stands in for one now only where the server ignores conditional
        // writes (the lease cannot hold there anyway, and was said to be so) and no renewal
        // failed since: where it honours them, the lease is read now, as ever.
        let ahead = ahead.filter(|_| {
            !lease.honoured.load(Ordering::SeqCst) && !lease.doubted.load(Ordering::SeqCst)
        });
        let read_back = async {
            match ahead {
                Some(LeaseReading(read)) => read,
                None => self.read_lease().await,
            }
        };
        // Whether the server was seen to refuse a conditional removal (LocalStack 4.13: 501).
        let mut unconditional_only = false;
        let read = match (lease.surely_ours(), etag) {
            (true, Some(etag)) => {
                // The conditional removal and the read go out together: where the server
                // honours If-Match on a delete (S3) the lease is gone in one round trip; where
                // it refuses it (LocalStack 4.13 answers 501) the read says what to do.
                let removal = self
                    .client
                    .delete_object()
                    .bucket(&self.name)
                    .key(&lease.key)
                    .if_match(etag)
                    .send();
                let (removed, read) = futures::join!(removal, read_back);
                match removed {
                    Ok(_) => return Ok(()),
                    // Its ETag changed: another run's now, whatever the read saw before.
                    Err(e) if condition_refused(&e) => return Ok(()),
                    Err(e) => {
                        tracing::debug!(error = %e, "the lease's conditional removal was refused; going by its read");
                        unconditional_only = not_implemented(&e);
                        read
                    }
                }
            }
            _ => read_back.await,
        };
        let ours = lease.holder().run;
        let (held, etag) = match read? {
            Some((h, etag)) if h.run == ours => (h, etag),
            _ => return Ok(()),
        };
        // Removed as it was read (`If-Match` on the ETag just read): taken over since (it
        // expired meanwhile), it is another run's and stays.
        if let (Some(etag), false) = (etag, unconditional_only) {
            let removal = self
                .client
                .delete_object()
                .bucket(&self.name)
                .key(&lease.key);
            match removal.if_match(etag).send().await {
                Ok(_) => return Ok(()),
                Err(e) if condition_refused(&e) => return Ok(()),
                // Only a server that cannot remove conditionally goes on to a plain removal; any
                // other failure (a timeout, a 5xx: it may yet land, or another run's lease may
                // be there by now) leaves the lease to expire.
                Err(e) if not_implemented(&e) => {
                    tracing::debug!(error = %e, "the lease's conditional removal is not implemented here; removing it while it cannot yet be taken over")
                }
                Err(e) => {
                    tracing::info!(error = %e, "the lease could not be removed: left to expire");
                    return Ok(());
                }
            }
        }
        // A server that cannot remove it conditionally: only while nobody can take it over
        // before the removal lands (it expires in more than [`RELEASE_MARGIN`] by S3's clock).
        // Before, a run reaching its end with its lease about to expire read it as its own, and
        // its removal could land after another run took it over: that run's lease was gone, and
        // a third apply ran beside it. Left, it expires; the next run takes it over then.
        if held.expires < Utc::now() + RELEASE_MARGIN {
            tracing::info!(key = %lease.key, expires = %held.expires, "the lease expires too soon to be removed safely: left to expire");
            return Ok(());
        }
        self.client
            .delete_object()
            .bucket(&self.name)
            .key(&lease.key)
            .send()
            .await
            .map_err(|e| self.lease_err(e, "s3:DeleteObject"))?;
        Ok(())
    }
}

/// How long a lease must still have to live, by S3's clock, to be removed without a condition
/// at its run's end: more than a removal takes to land, its retries included.
const RELEASE_MARGIN: chrono::Duration = chrono::Duration::seconds(20);
