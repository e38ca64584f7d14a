//! The dashboard's scans of its buckets. Single flight: page loads and Rescans of a bucket
//! that arrive while its scan runs join that scan instead of starting another (each scan costs
//! the team S3 requests). At most [`SCANS_AT_ONCE`] scans run at a time across buckets. A
//! finished scan is cached for page loads; a Rescan within [`RESCAN_GAP`] of the last one is
//! answered with that one and a notice saying so. Applies never come here: the engine always
//! scans afresh after the confirmation.

use super::{AppError, CachedScan};
use futures::future::{BoxFuture, FutureExt, Shared};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::Semaphore;

/// Scans running at once, across all buckets.
pub const SCANS_AT_ONCE: usize = 4;
/// How soon after a bucket's scan began a Rescan starts a new one.
pub const RESCAN_GAP: chrono::TimeDelta = chrono::TimeDelta::seconds(5);

type Running = Shared<BoxFuture<'static, Result<CachedScan, AppError>>>;

/// The scans of every bucket this server shows.
#[derive(Clone)]
pub(super) struct Scans {
    inner: Arc<Inner>,
}

struct Inner {
    cache: Mutex<HashMap<String, Cached>>,
    running: Mutex<HashMap<String, Running>>,
    permits: Arc<Semaphore>,
    /// The number the next finished scan is cached under (never reused).
    next_generation: AtomicU64,
    /// How many times each bucket's scans were forgotten: a scan that began before the last
    /// time is not cached when it ends (it may predate the pin or the deletes that made the
    /// cache be forgotten).
    forgotten: Mutex<HashMap<String, u64>>,
}

/// A finished scan and the number that tells it from every other scan this server made.
struct Cached {
    generation: u64,
    scan: CachedScan,
}

impl Default for Scans {
    fn default() -> Self {
        Scans {
            inner: Arc::new(Inner {
                cache: Default::default(),
                running: Default::default(),
                permits: Arc::new(Semaphore::new(SCANS_AT_ONCE)),
                next_generation: AtomicU64::new(1),
                forgotten: Default::default(),
            }),
        }
    }
}

/// A scan as the page gets it, with why it is not a new one when a Rescan was spaced out.
pub(super) struct Answer {
    pub(super) scan: CachedScan,
    pub(super) notice: Option<String>,
}

impl Scans {
    /// Forgets a bucket's cached scan (its pins or deployments changed), and the scan running
    /// now: it may have read the bucket before the change, so the next page load or Rescan
    /// starts a new one, and it is not cached when it ends.
    pub(super) fn forget(&self, key: &str) {
        let mut running = self.inner.running.lock().unwrap();
        *self
            .inner
            .forgotten
            .lock()
            .unwrap()
            .entry(key.to_string())
            .or_default() += 1;
        running.remove(key);
        self.inner.cache.lock().unwrap().remove(key);
    }

    /// How many times bucket `key`'s scans were forgotten so far.
    fn forgotten(&self, key: &str) -> u64 {
        forgotten_of(&self.inner, key)
    }

    /// The number of the scan a page load of bucket `key` would show now: the cached one's,
    /// or `None` when there is none or a new one is running (the page would wait for that).
    /// Two equal answers mean the same scan was cached all the time between them.
    pub(super) fn generation(&self, key: &str) -> Option<u64> {
        let running = self.inner.running.lock().unwrap();
        if running.contains_key(key) {
            return None;
        }
        let cache = self.inner.cache.lock().unwrap();
        cache.get(key).map(|c| c.generation)
    }

    /// Bucket `key`'s scan: the one running, else the cached one (unless `rescan`), else a new
    /// one made by `scan`.
    pub(super) async fn get(
        &self,
        key: &str,
        rescan: bool,
        scan: impl FnOnce() -> BoxFuture<'static, Result<CachedScan, AppError>>,
    ) -> Result<Answer, AppError> {
        let running = {
            let mut running = self.inner.running.lock().unwrap();
            match running.get(key) {
                Some(r) => r.clone(),
                None => {
                    if let Some(Cached { scan: hit, .. }) =
                        self.inner.cache.lock().unwrap().get(key)
                    {
                        // Both S3's: `scanned_at` is when the listing began, by S3's clock.
                        let age = hit.skew.now() - hit.scanned_at;
                        if !rescan {
                            return Ok(Answer {
                                scan: hit.clone(),
                                notice: None,
                            });
                        }
                        if age < RESCAN_GAP {
                            return Ok(Answer {
                                scan: hit.clone(),
                                notice: Some(spaced_out(age)),
                            });
                        }
                    }
                    let r = self.start(key, scan());
                    running.insert(key.to_string(), r.clone());
                    r
                }
            }
        };
        Ok(Answer {
            scan: running.await?,
            notice: None,
        })
    }

    /// Runs `job` in its own task (a client that goes away does not stop the scan the others
    /// wait for); when it ends, its result is cached and it is no longer the running one.
    fn start(&self, key: &str, job: BoxFuture<'static, Result<CachedScan, AppError>>) -> Running {
        let inner = self.inner.clone();
        let key = key.to_string();
        let began = self.forgotten(&key);
        let handle = tokio::spawn(async move {
            let permit = inner.permits.clone().acquire_owned().await;
            let result = job.await;
            drop(permit);
            // Under the running lock, as `forget` takes it: forgotten since it began, this scan
            // is neither cached nor the running one any more (a newer one may be).
            let mut running = inner.running.lock().unwrap();
            if forgotten_of(&inner, &key) == began {
                if let Ok(hit) = &result {
                    let generation = inner.next_generation.fetch_add(1, Ordering::Relaxed);
                    let scan = hit.clone();
                    inner
                        .cache
                        .lock()
                        .unwrap()
                        .insert(key.clone(), Cached { generation, scan });
                }
                running.remove(&key);
            }
            drop(running);
            result
        });
        async move {
            handle
                .await
                .unwrap_or_else(|e| Err(AppError(format!("the scan stopped: {e}"))))
        }
        .boxed()
        .shared()
    }
}

fn forgotten_of(inner: &Inner, key: &str) -> u64 {
    inner
        .forgotten
        .lock()
        .unwrap()
        .get(key)
        .copied()
        .unwrap_or(0)
}

/// The notice for a Rescan that came too soon after the last scan.
fn spaced_out(age: chrono::TimeDelta) -> String {
    let ago = age.num_seconds().max(0);
    let wait = (RESCAN_GAP - age).num_seconds().max(1);
    format!(
        "a scan of this bucket began {ago} s ago: showing it (each Rescan lists the bucket \
         again at the team's cost; rescan in {wait} s for a new one)"
    )
}
