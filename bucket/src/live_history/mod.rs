//! What the live pointer named before, and until when: the live grace's input. Two sources,
//! both best effort (a grace is a courtesy; what is live *now* is still read strictly):
//! - on a versioned bucket, the pointer object's earlier versions — each named a deployment
//!   until the next version replaced it;
//! - everywhere, `<prefix>.s3-prune/live-seen.json` (`seen.rs`), where every scan that reads
//!   the pointer records a change it sees (the time it first saw the new one is when the old
//!   one stopped). Only the values scans see are known there: on a bucket without versioning,
//!   a deployment the pointer named only between two scans gets no grace.
//!
//! A `live-seen.json` that is not one stops the scan, as a damaged dates file does: overwritten,
//! the deployments it remembers as live until recently would lose their grace. A change is
//! recorded only when the pointer names a deployment that exists (a mistyped `--prefix` leaves
//! no state folder behind).

use crate::state::RESERVED;
use crate::{Bucket, S3Error};
use chrono::{DateTime, Utc};
use retention::{DeploymentId, Warning, WasLive};

mod seen;

/// Pages of the pointer's versions listed at most (1,000 versions each): a safety cap. Hit
/// while the versions are still inside the grace, the plan says so
/// ([`retention::Warning::LiveVersionsCut`]); never a silent cut.
const VERSION_PAGES_MAX: usize = 10;
/// Versions whose body is read at most (one per change of the pointer: a version with the same
/// ETag as the one that replaced it named the same deployment and is not read), ...
const VERSION_READS_MAX: usize = 100;
/// ... this many at once.
const VERSION_READS_AT_ONCE: usize = 5;
/// A version of the live pointer a plan read, and when S3 wrote it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PointerRead {
    pub version: String,
    pub at: DateTime<Utc>,
}

/// Since when an apply reads the live pointer's changes ([`Bucket::named_since`]): the plan's
/// time (S3's), and the version the plan read where it read one — the changes are then the
/// versions written after it, whatever the clocks say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PointerSince {
    pub at: DateTime<Utc>,
    pub read: Option<PointerRead>,
}

impl Bucket {
    /// The deployments `key` named before `live`, each with when it stopped (back to `grace`
    /// ago, or as far back as the caps allow when `grace` is `None` or `past_grace`); records a
    /// change of the pointer in `live-seen.json` on the way. With what the plan should say when
    /// the pointer's earlier versions inside the grace could not all be read (the grace then
    /// knows less). `now` is S3's (a change is dated by it, not by a host whose clock may be
    /// days off).
    pub(crate) async fn live_history(
        &self,
        key: &str,
        live: &DeploymentId,
        versioned: bool,
        grace: Option<std::time::Duration>,
        past_grace: bool,
        now: DateTime<Utc>,
    ) -> Result<(Vec<WasLive>, Vec<Warning>), S3Error> {
        // `now` is S3's, as the versions' LastModified are.
        let since = grace.and_then(|g| {
            let g = chrono::Duration::from_std(g).ok()?;
            now.checked_sub_signed(g)
        });
        let read_since = since.filter(|_| !past_grace);
        let (seen, versions) = futures::join!(self.observe_live(key, live, now), async {
            if versioned {
                self.pointer_versions(key, read_since, None, since).await
            } else {
                Ok(Read::default())
            }
        });
        let mut seen = seen?;
        let mut warnings = Vec::new();
        // What scans saw, cut while its oldest change is still inside the grace (a grace past
        // a month, or a full record): older ones are not known.
        if let (Some(since), Some(oldest)) = (since, seen.last()) {
            if seen::may_lack_older(&seen, now) && oldest.until >= since {
                warnings.push(Warning::LiveVersionsCut {
                    why: format!(
                        "{RESERVED}/live-seen.json keeps {} changes, back to {} UTC",
                        seen.len(),
                        retention::minute_utc(&oldest.until)
                    ),
                });
            }
        }
        match versions {
            Ok(read) => {
                seen.extend(read.was_live);
                warnings.extend(read.cut.map(|why| Warning::LiveVersionsCut { why }));
            }
            Err(e) => warnings.push(Warning::LiveVersionsUnread { why: e.to_string() }),
        }
        seen.retain(|w| &w.id != live);
        Ok((seen, warnings))
    }

    /// The deployments the pointer named at some moment after `since` (a plan's time) besides
    /// what it names now, from its versions: an apply asks at each reading of the pointer, so
    /// one moved and moved back between two readings still holds what it named meanwhile.
    /// Versions this role or server can never list (no s3:ListBucketVersions, no versions
    /// API): none (the plan warned already; what the pointer names at each reading still
    /// holds). Versions that could not be listed now, or listed but not all read: why, and
    /// nothing may go.
    pub async fn named_since(
        &self,
        key: &str,
        since: &PointerSince,
    ) -> Result<Vec<DeploymentId>, String> {
        let read = match self
            .pointer_versions(key, Some(since.at), since.read.as_ref(), None)
            .await
        {
            Ok(read) => read,
            Err(S3Error::AccessDenied { .. }) => return Ok(Vec::new()),
            Err(S3Error::Service { code, .. }) if code == "NotImplemented" => return Ok(Vec::new()),
            Err(e) => {
                return Err(format!(
                    "the live pointer's versions written since the plan could not be listed ({e})"
                ))
            }
        };
        match read.cut {
            Some(why) => Err(format!(
                "the live pointer's versions written since the plan were not all read ({why})"
            )),
            None => Ok(read.was_live.into_iter().map(|w| w.id).collect()),
        }
    }

    /// What the pointer's earlier versions named, newest first, back to `since` (`None`: as far
    /// as the caps allow): each named its deployment until the next version was written (by
    /// S3's LastModified). With `after`, a version read before: back to it instead, whatever
    /// the times say (S3 dates versions to the second, and `since` may be a clock that
    /// differs from S3's by less than is told apart); `since` where it is not listed. What was
    /// left unread is said (`cut`) where it reaches past `matters` (`None`: wherever it is): a
    /// change that ended before the grace began keeps nothing. An error when they cannot be
    /// listed.
    async fn pointer_versions(
        &self,
        key: &str,
        since: Option<DateTime<Utc>>,
        after: Option<&PointerRead>,
        matters: Option<DateTime<Utc>>,
    ) -> Result<Read, S3Error> {
        let from = match (since, after) {
            (Some(s), Some(a)) => Some(s.min(a.at) - chrono::Duration::seconds(1)),
            _ => since,
        };
        let (versions, more) = self.list_pointer_versions(key, from).await?;
        // Listed newest first: those before the version read are the ones written after it.
        let read_at = after.and_then(|a| versions.iter().position(|v| v.version == a.version));
        // The version read is gone (deleted to roll back: S3 serves the one before again).
        // Every version written after it is dated its second or later.
        let since = match (after, read_at) {
            (Some(a), None) => {
                tracing::warn!(version = a.version, "the live pointer's version the plan read is gone: its changes since are told by their dates");
                since.map(|s| s.min(a.at))
            }
            _ => since,
        };
        // Version k named its deployment until version k-1 replaced it; one with the same ETag
        // as its replacement named the same deployment, which was live until later: not read.
        let changes: Vec<(DateTime<Utc>, &str)> = versions
            .windows(2)
            .enumerate()
            .filter(|(k, p)| match read_at {
                Some(read) => *k < read,
                None => since.is_none_or(|s| p[0].at >= s),
            })
            .filter(|(_, p)| p[0].etag != p[1].etag)
            .map(|(_, p)| (p[0].at, p[1].version.as_str()))
            .collect();
        // Whether a change that ended at `until` is one the grace needs.
        let matters_at = |until: DateTime<Utc>| matters.is_none_or(|m| until >= m);
        // (found, the version read bounds the changes: what was not listed is older; listed
        // back past `matters`, what was not is older than it)
        let listed_past = matters.is_some_and(|m| versions.last().is_some_and(|v| v.at < m));
        let mut cut = more.filter(|_| read_at.is_none() && !listed_past);
        if changes.len() > VERSION_READS_MAX && matters_at(changes[VERSION_READS_MAX].0) {
            let (at, _) = changes[VERSION_READS_MAX - 1];
            also(
                &mut cut,
                format!(
                    "{} changes, the newest {VERSION_READS_MAX} read, back to {} UTC",
                    changes.len(),
                    retention::minute_utc(&at)
                ),
            );
        }
        let mut out = Read::default();
        let mut failed: Vec<String> = Vec::new();
        for chunk in changes
            .iter()
            .take(VERSION_READS_MAX)
            .collect::<Vec<_>>()
            .chunks(VERSION_READS_AT_ONCE)
        {
            let reads = chunk.iter().map(|(until, version)| async move {
                let read = self.read_pointer_version(key, version).await;
                (read, *until, *version)
            });
            for (read, until, version) in futures::future::join_all(reads).await {
                match read {
                    Ok(id) if !out.was_live.iter().any(|w| w.id == id) => {
                        out.was_live.push(WasLive { id, until })
                    }
                    Ok(_) => {}
                    Err(e) => {
                        tracing::warn!(error = %e, version, "an earlier version of the live pointer could not be read");
                        if matters_at(until) {
                            failed.push(e);
                        }
                    }
                }
            }
        }
        if let Some(e) = failed.first() {
            also(&mut cut, format!("{} could not be read: {e}", failed.len()));
        }
        out.cut = cut;
        Ok(out)
    }

    /// The pointer's versions, newest first, listed until one older than `since` (it named its
    /// deployment until the next one, inside the grace) or [`VERSION_PAGES_MAX`] pages; with
    /// why versions inside the grace were left unlisted, if some were.
    async fn list_pointer_versions(
        &self,
        key: &str,
        since: Option<DateTime<Utc>>,
    ) -> Result<(Vec<Version>, Option<String>), S3Error> {
        let mut versions: Vec<Version> = Vec::new();
        let mut pages = crate::pages::VersionPages::new(self, key);
        for _ in 0..VERSION_PAGES_MAX {
            let page = pages.next().await.inspect_err(|e| {
                tracing::warn!(error = %e, "the live pointer's earlier versions could not be listed: the live grace knows only what scans saw");
            })?;
            let Some(page) = page else {
                return Ok((versions, None));
            };
            // Other keys under the same prefix (`current.bak`) sort after this one's.
            let past_key = page.versions().iter().any(|v| v.key() > Some(key));
            versions.extend(
                page.versions()
                    .iter()
                    .filter(|v| v.key() == Some(key))
                    .filter_map(|v| {
                        Some(Version {
                            at: DateTime::from_timestamp_millis(
                                v.last_modified()?.to_millis().ok()?,
                            )?,
                            version: v.version_id()?.to_string(),
                            etag: v.e_tag().unwrap_or_default().to_string(),
                        })
                    }),
            );
            versions.sort_by_key(|v| std::cmp::Reverse(v.at));
            let old_enough = since.is_some_and(|s| versions.last().is_some_and(|v| v.at < s));
            if past_key || old_enough || pages.is_done() {
                return Ok((versions, None));
            }
        }
        let why = format!(
            "more than {} versions, listed back to {} UTC",
            VERSION_PAGES_MAX * 1000,
            versions
                .last()
                .map(|v| retention::minute_utc(&v.at))
                .unwrap_or_default()
        );
        Ok((versions, Some(why)))
    }

    async fn read_pointer_version(&self, key: &str, version: &str) -> Result<DeploymentId, String> {
        let out = self
            .client
            .get_object()
            .bucket(&self.name)
            .key(key)
            .version_id(version)
            .send()
            .await
            .map_err(|e| self.err(e, "s3:GetObjectVersion").to_string())?;
        let body = out.body.collect().await.map_err(|e| e.to_string())?;
        let text = String::from_utf8(body.into_bytes().to_vec()).map_err(|e| e.to_string())?;
        crate::state::parse_pointer(&text, &self.prefix)
    }
}

/// `why` added to what `cut` says already.
fn also(cut: &mut Option<String>, why: String) {
    *cut = Some(match cut.take() {
        Some(c) => format!("{c}; {why}"),
        None => why,
    });
}

/// One version of the pointer object.
struct Version {
    at: DateTime<Utc>,
    version: String,
    etag: String,
}

/// What the pointer's versions told: the deployments it named, and why some inside the grace
/// were not read, if some were not.
#[derive(Default)]
struct Read {
    was_live: Vec<WasLive>,
    cut: Option<String>,
}
