//! The fresh listing of a doomed deployment, into the delete pipeline: a deployment is deleted
//! whole or not at all.
//!
//! First a verifying pass lists all of it and compares it with the plan's view: a key (or
//! version) newer than the plan's newest, or more current objects than the plan counted (keys it never saw: a re-sync, a restore, a report that is a day old) means it
//! changed since the plan, and none of it is sent ([`ChangedSincePlan`]). A deployment of up to
//! [`WHOLE_LISTING`] keys is held whole during that pass and sent from it. A bigger one is not
//! held (memory stays bounded however big it is: 5,000,000 objects, see BENCHMARKS.md): a second
//! pass lists it again and sends it page by page, once pins and the live pointer have been asked
//! again (the first pass may have taken minutes); should a newer key appear during that pass,
//! or (unless purging versions) more current objects than the plan counted, no further key of
//! it is sent and the report says how many had gone. No key outside the
//! deployment's folder and no key newer than the plan is ever sent.

use super::{ChangedSincePlan, KeyFailure, NewerKey, Progress, Watch};
use crate::pages::{KeyPages, VersionPages};
use crate::{Bucket, S3Error};
use futures::stream::{self, StreamExt};
use retention::{DeploymentId, Doomed};
use tokio::sync::mpsc::Sender;
use verify::{split_newer, Found, Page, Verdict, Verify, EXAMPLES};

mod verify;

/// Keys of one deployment held during the verifying pass and sent from it; a bigger deployment
/// is listed a second time to be deleted.
pub(super) const WHOLE_LISTING: usize = 2_000;

/// One key (and version) to delete.
pub(super) type Key = (String, Option<String>);

/// What a lister tells the deleter about deployment `i` (its index in the doomed list).
pub(super) enum Listed {
    /// More keys to delete (never one newer than the plan).
    Keys { i: usize, keys: Vec<Key> },
    /// The listing is complete (`Ok`) or failed; no more `Keys` for `i` follow.
    Done {
        i: usize,
        result: Result<(), KeyFailure>,
    },
    /// Checked again before listing, it is to stay (the reason says why): nothing follows.
    Held { i: usize, reason: String },
    /// Its fresh listing differs from the plan's view: nothing of it was sent, nothing follows.
    Changed { i: usize, changed: ChangedSincePlan },
    /// During the deleting pass of a big deployment a key newer than the plan appeared: no
    /// further key of it is sent. `Done` follows.
    Newer { i: usize, keys: Vec<NewerKey> },
}

/// Current objects, or every version and delete marker, one page at a time.
enum Pager<'a> {
    Keys(KeyPages<'a>),
    Versions(VersionPages<'a>),
}

impl<'a> Pager<'a> {
    fn new(bucket: &'a Bucket, prefix: &str, purge: bool) -> Self {
        if purge {
            Pager::Versions(VersionPages::new(bucket, prefix))
        } else {
            Pager::Keys(KeyPages::new(bucket, prefix, None, None))
        }
    }

    async fn next(&mut self) -> Result<Option<Vec<Found>>, S3Error> {
        let to = crate::server_clock::to_chrono;
        Ok(match self {
            Pager::Keys(p) => p.next(None).await?.map(|out| {
                out.contents()
                    .iter()
                    .filter_map(|o| {
                        Some(Found {
                            key: o.key()?.to_string(),
                            version_id: None,
                            last_modified: to(o.last_modified()),
                            current: true,
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
                        current: v.is_latest().unwrap_or(false),
                    })
                });
                let markers = out.delete_markers().iter().filter_map(|m| {
                    Some(Found {
                        key: m.key()?.to_string(),
                        version_id: Some(m.version_id().unwrap_or("null").to_string()),
                        last_modified: to(m.last_modified()),
                        current: false,
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
        let prefix = self.deployment_prefix(&d.id);
        // The plan counted current objects: those found (all of a plain listing, the latest
        // versions that are no marker of a purge's) are compared with its count.
        let mut verify = Verify::new(WHOLE_LISTING, Some(d.objects));
        let mut pager = Pager::new(self, &prefix, purge);
        // Pins and the pointer are read again beside the first page (one round trip, not
        // two); no key is sent before they have said the deployment may go.
        let (held, mut page) = futures::join!(watch.hold(&d.id), pager.next());
        if let Some(reason) = held {
            tracing::warn!(deployment = %d.id, reason, "held since the plan: left untouched");
            let _ = tx.send(Listed::Held { i, reason }).await;
            return;
        }
        loop {
            if progress.stop_requested() {
                return;
            }
            match page {
                Ok(Some(found)) => verify.page(split_newer(found, &prefix, d.newest)),
                Ok(None) => break,
                Err(e) => {
                    tracing::warn!(prefix, error = %e, "listing failed: nothing of it deleted");
                    let result = Err(KeyFailure {
                        key: prefix.clone(),
                        version_id: None,
                        error: format!("not deleted: {e}"),
                    });
                    let _ = tx.send(Listed::Done { i, result }).await;
                    return;
                }
            }
            page = pager.next().await;
        }
        let result = match verify.verdict() {
            Verdict::Changed(changed) => {
                tracing::warn!(deployment = %d.id, %changed, "changed since the plan: left whole");
                let _ = tx.send(Listed::Changed { i, changed }).await;
                return;
            }
            Verdict::Whole(keys) => {
                if tx.send(Listed::Keys { i, keys }).await.is_err() {
                    return; // the deleter is gone (stopped)
                }
                Ok(())
            }
            Verdict::Big => {
                // Its checking pass may have taken minutes: pins and the pointer are asked
                // again before the deleting pass sends its first key.
                if let Some(reason) = watch.hold(&d.id).await {
                    tracing::warn!(deployment = %d.id, reason, "held while it was checked: left untouched");
                    let _ = tx.send(Listed::Held { i, reason }).await;
                    return;
                }
                match self.feed_pages(i, d, purge, &tx, progress).await {
                    Some(result) => result,
                    None => return,
                }
            }
        };
        let _ = tx.send(Listed::Done { i, result }).await;
    }

    /// The deleting pass of a deployment too big to hold: lists it again and sends it page by
    /// page, stopping at the first key newer than the plan, or (deleting current objects, not
    /// purging versions) at the first page that takes them past the plan's count (that page is
    /// not sent). `None`: stopped, or the deleter is gone.
    async fn feed_pages(
        &self,
        i: usize,
        d: &Doomed,
        purge: bool,
        tx: &Sender<Listed>,
        progress: &Progress,
    ) -> Option<Result<(), KeyFailure>> {
        let prefix = self.deployment_prefix(&d.id);
        let mut pager = Pager::new(self, &prefix, purge);
        let mut sent = 0u64;
        // Current objects listed so far: past the plan's count, keys it never saw appeared
        // since the checking pass (old-dated ones too: a delete marker removed, a replica).
        // Not while purging: deleting a key's versions as they are listed makes its next older
        // version the latest, so the same key can be counted again.
        let mut current = 0u64;
        let partly = |sent: u64, why: String| {
            tracing::warn!(prefix, sent, why, "partly deleted");
            Err(KeyFailure {
                key: prefix.clone(),
                version_id: None,
                error: format!(
                    "partly deleted: {sent} keys had been sent when {why}; the rest is left in place"
                ),
            })
        };
        loop {
            if progress.stop_requested() {
                return None;
            }
            match pager.next().await {
                Ok(Some(found)) => {
                    let page = split_newer(found, &prefix, d.newest);
                    current += page.current;
                    if !purge && page.newer.is_empty() && current > d.objects {
                        let why = format!(
                            "it held more objects than the plan counted ({current} of {}: keys it never saw appeared)",
                            d.objects
                        );
                        return Some(partly(sent, why));
                    }
                    let Page { keys, newer, .. } = page;
                    if !newer.is_empty() {
                        let why = format!(
                            "{} newer than the plan appeared while it was deleted (a deploy into it?)",
                            newer[0].key
                        );
                        let keys = newer.into_iter().take(EXAMPLES).collect();
                        tx.send(Listed::Newer { i, keys }).await.ok()?;
                        return Some(partly(sent, why));
                    }
                    sent += keys.len() as u64;
                    tx.send(Listed::Keys { i, keys }).await.ok()?;
                }
                Ok(None) => return Some(Ok(())),
                Err(e) => {
                    return Some(partly(
                        sent,
                        format!("the listing failed (run again to finish): {e}"),
                    ))
                }
            }
        }
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
