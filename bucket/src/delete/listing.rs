//! The fresh listing of a doomed deployment, page by page, into the delete pipeline.
//!
//! A deployment of up to [`WHOLE_LISTING`] keys is listed whole before any of its keys is
//! sent, so a listing that fails deletes nothing of it. A bigger one is sent on as it is
//! listed, so memory stays bounded however big it is (5,000,000 objects: see BENCHMARKS.md);
//! if its listing fails partway, the report says how many keys had gone out and the rest stays
//! for the next run. Either way no key outside the deployment's folder and no key newer than
//! the plan's view of it is ever sent.

use super::{KeyFailure, NewerKey, Progress, Watch};
use crate::pages::{KeyPages, VersionPages};
use crate::{Bucket, S3Error};
use chrono::{DateTime, Utc};
use futures::stream::{self, StreamExt};
use retention::{DeploymentId, Doomed};
use tokio::sync::mpsc::Sender;

/// Keys of one deployment held back until its listing is known to be complete.
pub(super) const WHOLE_LISTING: usize = 2_000;

/// One key (and version) to delete.
pub(super) type Key = (String, Option<String>);

/// What a lister tells the deleter about deployment `i` (its index in the doomed list).
pub(super) enum Listed {
    /// More keys to delete, and keys left in place because they are newer than the plan.
    Keys { i: usize, part: Listing },
    /// The listing is complete (`Ok`) or failed; no more `Keys` for `i` follow.
    Done {
        i: usize,
        result: Result<(), KeyFailure>,
    },
    /// Checked again before listing, it is to stay (the reason says why): nothing follows.
    Held { i: usize, reason: String },
}

/// One listed object or version.
struct Found {
    key: String,
    version_id: Option<String>,
    last_modified: DateTime<Utc>,
}

/// Part of a doomed deployment's fresh listing: what may be deleted, and what is newer.
#[derive(Default)]
pub(super) struct Listing {
    pub(super) keys: Vec<Key>,
    pub(super) newer: Vec<NewerKey>,
}

/// Keeps keys inside the deployment's folder (defence in depth: nothing outside is ever sent)
/// and sets aside those newer than the plan's `newest`.
fn split_newer(found: Vec<Found>, prefix: &str, newest: DateTime<Utc>) -> Listing {
    let mut out = Listing::default();
    for f in found.into_iter().filter(|f| f.key.starts_with(prefix)) {
        if f.last_modified > newest {
            tracing::warn!(key = %f.key, "newer than the plan: left in place");
            out.newer.push(NewerKey {
                key: f.key,
                version_id: f.version_id,
                last_modified: f.last_modified,
            });
        } else {
            out.keys.push((f.key, f.version_id));
        }
    }
    out
}

/// Holds a deployment's listed keys while it may still be small; once more than `limit` are
/// held, everything held and every later page is let through at once.
pub(super) struct Hold {
    limit: usize,
    held: Listing,
    /// Keys already let through (the deployment is being deleted while it is listed).
    sent: u64,
}

impl Hold {
    pub(super) fn new(limit: usize) -> Self {
        Hold {
            limit,
            held: Listing::default(),
            sent: 0,
        }
    }

    /// Adds a page; returns what may be sent now.
    pub(super) fn page(&mut self, page: Listing) -> Option<Listing> {
        self.held.keys.extend(page.keys);
        self.held.newer.extend(page.newer);
        if self.sent > 0 || self.held.keys.len() > self.limit {
            self.sent += self.held.keys.len() as u64;
            Some(std::mem::take(&mut self.held))
        } else {
            None
        }
    }

    /// The listing ended. Complete: the rest may be sent. Failed: what is held is dropped, and
    /// the failure says whether part of the deployment was already sent.
    pub(super) fn end(
        self,
        listed: Result<(), S3Error>,
        prefix: &str,
    ) -> Result<Listing, KeyFailure> {
        match listed {
            Ok(()) => Ok(self.held),
            Err(e) => {
                let error = if self.sent == 0 {
                    format!("not deleted: {e}")
                } else {
                    format!(
                        "partly deleted: the listing failed after {} keys had been sent; the \
                         rest is left in place (run again to finish): {e}",
                        self.sent
                    )
                };
                tracing::warn!(prefix, sent = self.sent, error = %e, "listing failed");
                Err(KeyFailure {
                    key: prefix.to_string(),
                    version_id: None,
                    error,
                })
            }
        }
    }
}

/// Current objects, or every version and delete marker, one page at a time.
enum Pager<'a> {
    Keys(KeyPages<'a>),
    Versions(VersionPages<'a>),
}

impl Pager<'_> {
    async fn next(&mut self) -> Result<Option<Vec<Found>>, S3Error> {
        let to = crate::scan::to_chrono;
        Ok(match self {
            Pager::Keys(p) => p.next(None).await?.map(|out| {
                out.contents()
                    .iter()
                    .filter_map(|o| {
                        Some(Found {
                            key: o.key()?.to_string(),
                            version_id: None,
                            last_modified: to(o.last_modified()),
                        })
                    })
                    .collect()
            }),
            Pager::Versions(p) => p.next().await?.map(|out| {
                let versions = out.versions().iter().filter_map(|v| {
                    Some(Found {
                        key: v.key()?.to_string(),
                        version_id: Some(v.version_id().unwrap_or("null").to_string()),
                        last_modified: to(v.last_modified()),
                    })
                });
                let markers = out.delete_markers().iter().filter_map(|m| {
                    Some(Found {
                        key: m.key()?.to_string(),
                        version_id: Some(m.version_id().unwrap_or("null").to_string()),
                        last_modified: to(m.last_modified()),
                    })
                });
                versions.chain(markers).collect()
            }),
        })
    }
}

impl Bucket {
    /// Lists doomed deployment `i` afresh and feeds its keys to `tx` (see the module header).
    /// A stop requested on `progress` ends the listing without a `Done`: the deployment then
    /// counts as not finished.
    pub(super) async fn feed_doomed(
        &self,
        i: usize,
        d: &Doomed,
        purge: bool,
        tx: Sender<Listed>,
        progress: &Progress,
        watch: &dyn Watch,
    ) {
        if progress.stop_requested() {
            return;
        }
        if let Some(reason) = watch.hold(&d.id).await {
            tracing::warn!(deployment = %d.id, reason, "held since the plan: left untouched");
            let _ = tx.send(Listed::Held { i, reason }).await;
            return;
        }
        let prefix = self.deployment_prefix(&d.id);
        let mut pager = if purge {
            Pager::Versions(VersionPages::new(self, &prefix))
        } else {
            Pager::Keys(KeyPages::new(self, &prefix, None, None))
        };
        let mut hold = Hold::new(WHOLE_LISTING);
        let listed = loop {
            if progress.stop_requested() {
                return;
            }
            match pager.next().await {
                Ok(Some(found)) => {
                    if let Some(part) = hold.page(split_newer(found, &prefix, d.newest)) {
                        if tx.send(Listed::Keys { i, part }).await.is_err() {
                            return; // the deleter is gone (stopped)
                        }
                    }
                }
                Ok(None) => break Ok(()),
                Err(e) => break Err(e),
            }
        };
        let result = match hold.end(listed, &prefix) {
            Ok(part) => {
                if tx.send(Listed::Keys { i, part }).await.is_err() {
                    return;
                }
                Ok(())
            }
            Err(failure) => Err(failure),
        };
        let _ = tx.send(Listed::Done { i, result }).await;
    }

    /// How many versions and delete markers live under each deployment: what
    /// `--purge-versions` would remove. Counted page by page, nothing held.
    pub async fn count_versions(
        &self,
        ids: &[DeploymentId],
        concurrency: usize,
    ) -> Result<u64, S3Error> {
        let jobs: Vec<_> = ids
            .iter()
            .map(|id| async move {
                let mut n = 0u64;
                self.each_version_page(&self.deployment_prefix(id), |out| {
                    n += (out.versions().len() + out.delete_markers().len()) as u64;
                })
                .await?;
                Ok(n)
            })
            .collect();
        let counts: Vec<Result<u64, S3Error>> = stream::iter(jobs)
            .buffer_unordered(concurrency.max(1))
            .collect()
            .await;
        counts.into_iter().sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(keys: &[&str]) -> Listing {
        Listing {
            keys: keys.iter().map(|k| (k.to_string(), None)).collect(),
            newer: Vec::new(),
        }
    }

    fn listing_failed() -> S3Error {
        S3Error::ListingCut {
            prefix: "r7/".into(),
        }
    }

    #[test]
    fn a_small_deployment_is_held_whole_and_a_failed_listing_sends_none_of_it() {
        let mut h = Hold::new(3);
        assert!(h.page(part(&["r7/a", "r7/b"])).is_none());
        assert!(h.page(part(&["r7/c"])).is_none(), "3 keys are still held");
        let f = h.end(Err(listing_failed()), "r7/").err().unwrap();
        assert!(f.error.starts_with("not deleted: "), "{}", f.error);

        let mut h = Hold::new(3);
        assert!(h.page(part(&["r7/a", "r7/b"])).is_none());
        let rest = h.end(Ok(()), "r7/").ok().unwrap();
        assert_eq!(rest.keys.len(), 2);
    }

    #[test]
    fn a_big_deployment_flows_page_by_page_and_a_late_failure_says_what_went() {
        let mut h = Hold::new(3);
        assert!(h.page(part(&["r7/a", "r7/b"])).is_none());
        let first = h.page(part(&["r7/c", "r7/d"])).unwrap();
        assert_eq!(first.keys.len(), 4, "over the limit: everything held goes");
        let next = h.page(part(&["r7/e"])).unwrap();
        assert_eq!(next.keys.len(), 1, "then each page at once");
        let f = h.end(Err(listing_failed()), "r7/").err().unwrap();
        assert!(
            f.error
                .starts_with("partly deleted: the listing failed after 5 keys"),
            "{}",
            f.error
        );
    }

    #[test]
    fn keys_newer_than_the_plan_and_keys_outside_the_folder_are_never_sent() {
        let t = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        let found = |k: &str, at: &str| Found {
            key: k.into(),
            version_id: None,
            last_modified: t(at),
        };
        let l = split_newer(
            vec![
                found("r7/a", "2026-01-01T00:00:00Z"),
                found("r7/b", "2026-01-01T00:00:05Z"),
                found("r7/late", "2026-01-01T00:00:06Z"),
                found("r70/x", "2026-01-01T00:00:00Z"),
            ],
            "r7/",
            t("2026-01-01T00:00:05Z"),
        );
        assert_eq!(
            l.keys,
            vec![("r7/a".to_string(), None), ("r7/b".to_string(), None)]
        );
        assert_eq!(l.newer.len(), 1);
        assert_eq!(l.newer[0].key, "r7/late");
    }
}
