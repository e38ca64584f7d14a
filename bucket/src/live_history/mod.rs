//! What the live pointer named before, and until when: the live grace's input. Two sources,
//! both best effort (a grace is a courtesy; what is live *now* is still read strictly):
//! - on a versioned bucket, the pointer object's earlier versions — each named a deployment
//!   until the next version replaced it;
//! - everywhere, `<prefix>.s3-prune/live-seen.json`, where every scan that reads the pointer
//!   records a change it sees (the time it first saw the new one is when the old one stopped).
//!   Only the values scans see are known there: on a bucket without versioning, a deployment
//!   the pointer named only between two scans gets no grace.
//!
//! A `live-seen.json` that is not one stops the scan, as a damaged dates file does: overwritten,
//! the deployments it remembers as live until recently would lose their grace. A change is
//! recorded only when the pointer names a deployment that exists (a mistyped `--prefix` leaves
//! no state folder behind).

use crate::scan::RESERVED;
use crate::state::Put;
use crate::{Bucket, S3Error};
use chrono::{DateTime, Utc};
use retention::{DeploymentId, Warning, WasLive};
use serde::{Deserialize, Serialize};

/// Pages of the pointer's versions listed at most (1,000 versions each): a safety cap. Hit
/// while the versions are still inside the grace, the plan says so
/// ([`retention::Warning::LiveVersionsCut`]); never a silent cut.
const VERSION_PAGES_MAX: usize = 10;
/// Versions whose body is read at most (one per change of the pointer: a version with the same
/// ETag as the one that replaced it named the same deployment and is not read), ...
const VERSION_READS_MAX: usize = 100;
/// ... this many at once.
const VERSION_READS_AT_ONCE: usize = 5;
/// Changes kept in `live-seen.json`.
const CHANGES_KEPT: usize = 20;
const SEEN: &str = "live-seen.json";
/// Conditional writes of [`SEEN`] tried, each on the file read again, before the change is
/// left unrecorded (the next scan records it).
const SEEN_WRITE_TRIES: usize = 5;

/// `live-seen.json`: the pointer, what it names now and since when, and what it named before.
#[derive(Debug, Default, Serialize, Deserialize)]
struct LiveSeen {
    pointer: String,
    current: Option<DeploymentId>,
    since: Option<DateTime<Utc>>,
    #[serde(default)]
    previous: Vec<WasLive>,
    /// What this version does not know of the file (a newer s3-prune's fields): written back
    /// as read.
    #[serde(flatten)]
    rest: serde_json::Map<String, serde_json::Value>,
}

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
    /// ago; `None`: as far back as the caps allow); records a change of the pointer in
    /// `live-seen.json` on the way. With what the plan should say when the pointer's earlier
    /// versions could not all be read (the grace then knows less). `now` is S3's (a change is
    /// dated by it, not by a host whose clock may be days off).
    pub(crate) async fn live_history(
        &self,
        key: &str,
        live: &DeploymentId,
        versioned: bool,
        grace: Option<std::time::Duration>,
        now: DateTime<Utc>,
    ) -> Result<(Vec<WasLive>, Vec<Warning>), S3Error> {
        // `now` is S3's, as the versions' LastModified are.
        let since = grace.and_then(|g| {
            let g = chrono::Duration::from_std(g).ok()?;
            now.checked_sub_signed(g)
        });
        let (seen, versions) = futures::join!(self.observe_live(key, live, now), async {
            if versioned {
                self.pointer_versions(key, since, None).await
            } else {
                Ok(Read::default())
            }
        });
        let mut seen = seen?;
        let mut warnings = Vec::new();
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

    /// Reads `live-seen.json` and, when the pointer names another deployment than it says,
    /// writes the change (the old one was live until `now`, S3's): every scan does, and an
    /// apply for each change it reads mid-run. Returns what it named before. The write is
    /// conditional on the file as read (`If-Match`), and read again when another scan or run
    /// wrote it meanwhile: before, a plain write laid over a change recorded since it read the
    /// file, and the deployment live in between lost its grace.
    pub async fn observe_live(
        &self,
        key: &str,
        live: &DeploymentId,
        now: DateTime<Utc>,
    ) -> Result<Vec<WasLive>, S3Error> {
        let place = format!("{}{RESERVED}/{SEEN}", self.prefix);
        // Whether the pointer names nothing here (asked once, on the first change seen).
        let mut names_nothing = None;
        let mut previous = Vec::new();
        for attempt in 0..SEEN_WRITE_TRIES {
            let (seen, etag) = self.read_seen(&place).await?;
            let mut seen = if seen.pointer == key {
                seen
            } else {
                carried_over(seen, key, now)
            };
            if seen.current.as_ref() == Some(live) {
                return Ok(seen.previous);
            }
            // A pointer naming nothing here blocks the plan anyway; recording it would make a
            // state folder under a mistyped prefix. Not known (the listing failed): recorded,
            // so the deployment live until now keeps its grace.
            if *names_nothing.get_or_insert(matches!(self.folder_is_empty(live).await, Ok(true))) {
                return Ok(seen.previous);
            }
            // Read again after a refused write, a change recorded after this one read the
            // pointer: it stands (written over, the newer deployment would be "live until"
            // before it became live), and what this one read was live until that change at
            // most — recorded so, unless it is already. What the newer change names is kept as
            // live until now beside the rest.
            let newer = seen.since.filter(|since| attempt > 0 && *since > now);
            let now_live = seen.current.clone();
            match newer {
                Some(since) => {
                    if seen
                        .previous
                        .iter()
                        .any(|w| &w.id == live && w.until >= since)
                    {
                        return Ok(with_newer(seen.previous, now_live, since));
                    }
                    seen.previous.insert(
                        0,
                        WasLive {
                            id: live.clone(),
                            until: since,
                        },
                    );
                    seen.previous.truncate(CHANGES_KEPT);
                }
                None => {
                    if let Some(old) = seen.current.take() {
                        seen.previous.insert(
                            0,
                            WasLive {
                                id: old,
                                until: now,
                            },
                        );
                        seen.previous.truncate(CHANGES_KEPT);
                    }
                    seen.current = Some(live.clone());
                    seen.since = Some(now);
                }
            }
            previous = match newer {
                Some(since) => with_newer(seen.previous.clone(), now_live, since),
                None => seen.previous.clone(),
            };
            let body = serde_json::to_vec_pretty(&seen).expect("live-seen serializes");
            let written = match &etag {
                // A file read without an ETag (a server that sends none) cannot be written
                // conditionally: plainly, as before.
                Some(None) => Err(None),
                // As read, or (none yet) only if there is still none.
                Some(Some(etag)) => self
                    .put_if(&place, body.clone(), Some(etag))
                    .await
                    .map_err(Some),
                None => self.put_if(&place, body.clone(), None).await.map_err(Some),
            };
            let failed = match written {
                Err(None) => self.write_state(SEEN, body).await.err(),
                Ok(Put::Written(_)) => return Ok(previous),
                // Written by another scan or run since this one read it: read again, and this
                // change laid on theirs.
                Ok(Put::Refused) => continue,
                // A server that cannot write conditionally: plainly, as before.
                Err(Some(e)) if e.raw_response().is_some_and(|r| r.status().as_u16() == 501) => {
                    self.write_state(SEEN, body).await.err()
                }
                Err(Some(e)) => Some(self.key_err(e, "s3:PutObject", &place)),
            };
            if let Some(e) = failed {
                tracing::info!(error = %e, "the live pointer's change could not be recorded in {RESERVED}/{SEEN}");
            }
            return Ok(previous);
        }
        tracing::info!("the live pointer's change was not recorded in {RESERVED}/{SEEN}: written by others {SEEN_WRITE_TRIES} times while this one read it");
        Ok(previous)
    }

    /// `live-seen.json` and its ETag if it has one (an empty record and `None` when there is no
    /// file yet).
    async fn read_seen(&self, place: &str) -> Result<(LiveSeen, Option<Option<String>>), S3Error> {
        // Not read, the deployments live until recently would lose their grace and be planned
        // like any other: the scan stops instead (as for `dates.json`).
        let Some(tagged) = self.get_tagged(place).await? else {
            return Ok((LiveSeen::default(), None));
        };
        let seen =
            serde_json::from_slice::<LiveSeen>(&tagged.body).map_err(|e| S3Error::Pointer {
                key: place.to_string(),
                problem: format!(
                "it is not s3-prune's record of the live pointer ({e}): {}restore its previous \
                 version, or remove it to start recording afresh (the deployments it remembers \
                 as live until recently then lose their grace)",
                crate::state::newer_hint(&tagged.body)
            ),
            })?;
        crate::state::check_format(seen.rest.get("format"), place)?;
        Ok((seen, Some(tagged.etag)))
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
            .pointer_versions(key, Some(since.at), since.read.as_ref())
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
    /// differs from S3's by less than is told apart); `since` where it is not listed. An
    /// error when they cannot be listed.
    async fn pointer_versions(
        &self,
        key: &str,
        since: Option<DateTime<Utc>>,
        after: Option<&PointerRead>,
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
        // (found, the version read bounds the changes: what was not listed is older)
        let mut cut = more.filter(|_| read_at.is_none());
        if changes.len() > VERSION_READS_MAX {
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
                        failed.push(e);
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

/// A record kept for another pointer key (`--live-pointer` changed, or another front end reads
/// another one), started afresh for `key` with what the other remembers: the deployments it
/// named before keep their grace (the plan drops those past it), and the one it named last is
/// taken as live until `now` (when it stopped is not known; a deployment kept a little longer
/// beats the rollback target deleted).
fn carried_over(old: LiveSeen, key: &str, now: DateTime<Utc>) -> LiveSeen {
    if !old.pointer.is_empty() {
        tracing::info!(
            was = old.pointer,
            now = key,
            "live-seen.json was kept for another pointer: started afresh, its earlier deployments kept"
        );
    }
    let mut previous = old.previous;
    if let Some(id) = old.current {
        previous.retain(|w| w.id != id);
        previous.insert(0, WasLive { id, until: now });
    }
    previous.truncate(CHANGES_KEPT);
    LiveSeen {
        pointer: key.to_string(),
        previous,
        rest: old.rest,
        ..LiveSeen::default()
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

/// `previous` with `newer` (what a change recorded at `since`, after this reading, names) as
/// live until `since`, first.
fn with_newer(
    mut previous: Vec<WasLive>,
    newer: Option<DeploymentId>,
    since: DateTime<Utc>,
) -> Vec<WasLive> {
    if let Some(id) = newer {
        previous.insert(0, WasLive { id, until: since });
    }
    previous
}
