//! The fresh listing of a doomed deployment, into the delete pipeline: a deployment is deleted
//! whole or not at all.
//!
//! First a verifying pass lists all of it and compares it with the plan's view: a key (or
//! version) newer than the plan's newest, or — for current objects — more objects than the plan
//! counted (keys it never saw: a re-sync, a restore, a report that is a day old) means it
//! changed since the plan, and none of it is sent ([`ChangedSincePlan`]). A deployment of up to
//! [`WHOLE_LISTING`] keys is held whole during that pass and sent from it. A bigger one is not
//! held (memory stays bounded however big it is: 5,000,000 objects, see BENCHMARKS.md): a second
//! pass lists it again and sends it page by page; should a newer key appear during that pass,
//! no further key of it is sent and the report says how many had gone. No key outside the
//! deployment's folder and no key newer than the plan is ever sent.

use super::{ChangedSincePlan, KeyFailure, NewerKey, Progress, Watch};
use crate::pages::{KeyPages, VersionPages};
use crate::{Bucket, S3Error};
use chrono::{DateTime, Utc};
use futures::stream::{self, StreamExt};
use retention::{DeploymentId, Doomed};
use tokio::sync::mpsc::Sender;

/// Keys of one deployment held during the verifying pass and sent from it; a bigger deployment
/// is listed a second time to be deleted.
pub(super) const WHOLE_LISTING: usize = 2_000;

/// Newer keys named in a report of a deployment that changed; the rest are counted.
const EXAMPLES: usize = 10;

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

/// One listed object or version.
struct Found {
    key: String,
    version_id: Option<String>,
    last_modified: DateTime<Utc>,
    /// A delete marker (purge only): a file deleted since, never content published since, so
    /// never a reason to leave the deployment.
    marker: bool,
}

/// One page split into what may go and what is newer than the plan. Keys outside the
/// deployment's folder are dropped (defence in depth: nothing outside is ever sent).
#[derive(Default)]
struct Page {
    keys: Vec<Key>,
    newer: Vec<NewerKey>,
}

fn split_newer(found: Vec<Found>, prefix: &str, newest: DateTime<Utc>) -> Page {
    let mut out = Page::default();
    for f in found.into_iter().filter(|f| f.key.starts_with(prefix)) {
        if f.last_modified > newest && !f.marker {
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

/// The verifying pass over one deployment: counts what it finds against the plan's view, and
/// holds the keys while there are at most `limit` of them.
pub(super) struct Verify {
    limit: usize,
    /// The plan's object count, compared when current objects are listed (not versions).
    planned: Option<u64>,
    listed: u64,
    newer: u64,
    examples: Vec<NewerKey>,
    /// `None` once more than `limit` keys were found: a second pass deletes.
    held: Option<Vec<Key>>,
}

/// What the verifying pass found.
pub(super) enum Verdict {
    /// As the plan saw it, and small: these keys are all of it.
    Whole(Vec<Key>),
    /// As the plan saw it, too big to hold: list it again to delete.
    Big,
    /// Not as the plan saw it: delete none of it.
    Changed(ChangedSincePlan),
}

impl Verify {
    pub(super) fn new(limit: usize, planned: Option<u64>) -> Self {
        Verify {
            limit,
            planned,
            listed: 0,
            newer: 0,
            examples: Vec::new(),
            held: Some(Vec::new()),
        }
    }

    fn page(&mut self, page: Page) {
        self.listed += (page.keys.len() + page.newer.len()) as u64;
        self.newer += page.newer.len() as u64;
        let room = EXAMPLES.saturating_sub(self.examples.len());
        self.examples.extend(page.newer.into_iter().take(room));
        if let Some(held) = &mut self.held {
            held.extend(page.keys);
            if held.len() > self.limit {
                self.held = None; // memory stays bounded: the deleting pass lists again
            }
        }
    }

    pub(super) fn verdict(self) -> Verdict {
        let more = self.planned.is_some_and(|p| self.listed > p);
        if self.newer > 0 || more {
            return Verdict::Changed(ChangedSincePlan {
                newer: self.newer,
                listed: self.listed,
                planned: self.planned,
                examples: self.examples,
            });
        }
        match self.held {
            Some(keys) => Verdict::Whole(keys),
            None => Verdict::Big,
        }
    }
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
                            marker: false,
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
                        marker: false,
                    })
                });
                let markers = out.delete_markers().iter().filter_map(|m| {
                    Some(Found {
                        key: m.key()?.to_string(),
                        version_id: Some(m.version_id().unwrap_or("null").to_string()),
                        last_modified: to(m.last_modified()),
                        marker: true,
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
        // The plan counted current objects: a count is compared only when those are listed.
        let mut verify = Verify::new(WHOLE_LISTING, (!purge).then_some(d.objects));
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
            Verdict::Big => match self.feed_pages(i, d, purge, &tx, progress).await {
                Some(result) => result,
                None => return,
            },
        };
        let _ = tx.send(Listed::Done { i, result }).await;
    }

    /// The deleting pass of a deployment too big to hold: lists it again and sends it page by
    /// page, stopping at the first key newer than the plan. `None`: stopped, or the deleter is
    /// gone.
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
                    let Page { keys, newer } = split_newer(found, &prefix, d.newest);
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

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn found(k: &str, at: &str) -> Found {
        Found {
            key: k.into(),
            version_id: None,
            last_modified: t(at),
            marker: false,
        }
    }

    const PLAN_NEWEST: &str = "2026-01-01T00:00:05Z";

    fn page(keys: &[(&str, &str)]) -> Page {
        let found = keys.iter().map(|(k, at)| found(k, at)).collect();
        split_newer(found, "r7/", t(PLAN_NEWEST))
    }

    fn old(keys: &[&str]) -> Page {
        page(
            &keys
                .iter()
                .map(|k| (*k, "2026-01-01T00:00:00Z"))
                .collect::<Vec<_>>(),
        )
    }

    #[test]
    fn keys_newer_than_the_plan_and_keys_outside_the_folder_are_never_sent() {
        let l = page(&[
            ("r7/a", "2026-01-01T00:00:00Z"),
            ("r7/b", PLAN_NEWEST),
            ("r7/late", "2026-01-01T00:00:06Z"),
            ("r70/x", "2026-01-01T00:00:00Z"),
        ]);
        assert_eq!(
            l.keys,
            vec![("r7/a".to_string(), None), ("r7/b".to_string(), None)]
        );
        assert_eq!(l.newer.len(), 1);
        assert_eq!(l.newer[0].key, "r7/late");
    }

    #[test]
    fn a_delete_marker_made_since_the_plan_is_no_change() {
        // A file deleted after the plan (or a stopped run's markers): purge still takes it all.
        let mut late = found("r7/gone", "2026-01-02T00:00:00Z");
        late.marker = true;
        let l = split_newer(vec![late], "r7/", t(PLAN_NEWEST));
        assert_eq!((l.keys.len(), l.newer.len()), (1, 0));
    }

    #[test]
    fn a_small_deployment_as_planned_is_sent_whole_from_the_verifying_pass() {
        let mut v = Verify::new(3, Some(3));
        v.page(old(&["r7/a", "r7/b"]));
        v.page(old(&["r7/c"]));
        match v.verdict() {
            Verdict::Whole(keys) => assert_eq!(keys.len(), 3),
            _ => panic!("expected the whole deployment"),
        }
    }

    #[test]
    fn one_newer_key_anywhere_leaves_the_whole_deployment() {
        // 47 unchanged files and 3 re-synced ones: none of the 50 goes (issue 23, case 1).
        let mut v = Verify::new(2_000, Some(50));
        let unchanged: Vec<String> = (0..47).map(|n| format!("r7/f{n}")).collect();
        v.page(old(&unchanged
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()));
        v.page(page(&[
            ("r7/index.html", "2026-01-02T00:00:00Z"),
            ("r7/app.js", "2026-01-02T00:00:00Z"),
            ("r7/app.css", "2026-01-02T00:00:00Z"),
        ]));
        let Verdict::Changed(c) = v.verdict() else {
            panic!("a re-synced deployment must be left whole");
        };
        assert_eq!((c.newer, c.listed), (3, 50));
        assert_eq!(c.examples[0].key, "r7/index.html");
        assert!(
            c.to_string().contains("3 objects newer than the plan"),
            "{c}"
        );
    }

    #[test]
    fn more_objects_than_the_plan_counted_is_a_change_even_when_none_is_newer() {
        // Keys the plan (or a day-old inventory report) never saw, with old dates: a restore.
        let mut v = Verify::new(2_000, Some(2));
        v.page(old(&["r7/a", "r7/b", "r7/c"]));
        let Verdict::Changed(c) = v.verdict() else {
            panic!("more objects than planned must be left whole");
        };
        assert_eq!((c.newer, c.listed, c.planned), (0, 3, Some(2)));
        assert!(
            c.to_string().contains("3 objects now, the plan saw 2"),
            "{c}"
        );
        // Fewer (some deleted since the plan) is no reason to keep the rest.
        let mut v = Verify::new(2_000, Some(5));
        v.page(old(&["r7/a", "r7/b", "r7/c"]));
        assert!(matches!(v.verdict(), Verdict::Whole(_)));
        // Versions are not counted against the plan's current objects.
        let mut v = Verify::new(2_000, None);
        v.page(old(&["r7/a", "r7/b", "r7/c"]));
        assert!(matches!(v.verdict(), Verdict::Whole(_)));
    }

    #[test]
    fn a_big_deployment_is_not_held_but_verified_then_listed_again() {
        let mut v = Verify::new(3, Some(5));
        v.page(old(&["r7/a", "r7/b"]));
        v.page(old(&["r7/c", "r7/d"]));
        assert!(v.held.is_none(), "over the limit: nothing held");
        v.page(old(&["r7/e"]));
        assert!(matches!(v.verdict(), Verdict::Big));

        let mut v = Verify::new(3, Some(5));
        v.page(old(&["r7/a", "r7/b", "r7/c", "r7/d"]));
        v.page(page(&[("r7/e", "2026-01-02T00:00:00Z")]));
        assert!(
            matches!(v.verdict(), Verdict::Changed(_)),
            "changed, big or not"
        );
    }
}
