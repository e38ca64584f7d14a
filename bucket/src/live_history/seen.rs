//! `<prefix>.s3-prune/live-seen.json`: every scan that reads the live pointer records a change
//! it sees there (the time it first saw the new one is when the old one stopped), written over
//! the file as it read it, so two scans at once lose neither change.

use crate::state::RESERVED;
use crate::state::{AsRead, Put};
use crate::{Bucket, S3Error};
use chrono::{DateTime, Utc};
use retention::{DeploymentId, WasLive};
use serde::{Deserialize, Serialize};

/// Changes kept in `live-seen.json` whatever their age, ...
const CHANGES_KEPT: usize = 20;
/// ... and every change younger than this (a live grace longer than a month is not expected):
/// before, only the newest 20, so on a bucket without versioning a pointer moved more often
/// than that inside the grace silently lost the oldest their grace. ...
const CHANGES_KEPT_DAYS: i64 = 31;
/// ... up to this many: the record's size stays bounded. A scan whose grace reaches back past
/// what was kept says so ([`Bucket::live_history`], [`may_lack_older`]).
const CHANGES_MAX: usize = 1000;
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

impl Bucket {
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
            let (seen, read) = self.read_seen(&place).await?;
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
                    trim(&mut seen.previous, now);
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
                        trim(&mut seen.previous, now);
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
            match self.put_state_if(&place, body, &read).await {
                Ok(Put::Written(_)) => {}
                // Written by another scan or run since this one read it: read again, and this
                // change laid on theirs.
                Ok(Put::Refused) => continue,
                Err(e) => {
                    tracing::info!(error = %e, "the live pointer's change could not be recorded in {RESERVED}/{SEEN}");
                }
            }
            return Ok(previous);
        }
        tracing::info!("the live pointer's change was not recorded in {RESERVED}/{SEEN}: written by others {SEEN_WRITE_TRIES} times while this one read it");
        Ok(previous)
    }

    /// `live-seen.json` and how it was read, which its write goes over (an empty record when
    /// there is no file yet).
    async fn read_seen(&self, place: &str) -> Result<(LiveSeen, AsRead), S3Error> {
        // Not read, the deployments live until recently would lose their grace and be planned
        // like any other: the scan stops instead (as for `dates.json`).
        let Some(tagged) = self.get_tagged(place).await? else {
            return Ok((LiveSeen::default(), AsRead::Absent));
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
        Ok((seen, AsRead::read(tagged.etag)))
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
    trim(&mut previous, now);
    LiveSeen {
        pointer: key.to_string(),
        previous,
        rest: old.rest,
        ..LiveSeen::default()
    }
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

/// The changes `live-seen.json` keeps of `previous`: each deployment's latest (only its latest
/// end counts for the grace), newest first; the newest [`CHANGES_KEPT`], and any younger than
/// [`CHANGES_KEPT_DAYS`] at `now`, [`CHANGES_MAX`] at most.
fn trim(previous: &mut Vec<WasLive>, now: DateTime<Utc>) {
    previous.sort_by_key(|w| std::cmp::Reverse(w.until));
    let mut ids = std::collections::HashSet::new();
    previous.retain(|w| ids.insert(w.id.clone()));
    let recent = kept_since(now);
    let mut k = 0;
    previous.retain(|w| {
        k += 1;
        k <= CHANGES_KEPT || w.until >= recent
    });
    previous.truncate(CHANGES_MAX);
}

/// Changes that ended since this are kept whatever their number (up to [`CHANGES_MAX`]).
fn kept_since(now: DateTime<Utc>) -> DateTime<Utc> {
    now - chrono::Duration::days(CHANGES_KEPT_DAYS)
}

/// Whether `previous`, as [`trim`] left it, may lack changes that ended at or after its
/// oldest: it is full, or its oldest is past the month kept beyond the newest 20.
pub(super) fn may_lack_older(previous: &[WasLive], now: DateTime<Utc>) -> bool {
    let recent = kept_since(now);
    previous.len() >= CHANGES_MAX
        || (previous.len() >= CHANGES_KEPT && previous.last().is_some_and(|w| w.until < recent))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn changes(n: usize, now: DateTime<Utc>, apart: chrono::Duration) -> Vec<WasLive> {
        (0..n)
            .map(|i| WasLive {
                id: DeploymentId::new(format!("d{i}")).unwrap(),
                until: now - apart * i as i32,
            })
            .collect()
    }

    #[test]
    fn every_change_of_the_last_month_is_kept_and_the_newest_twenty_of_any_age() {
        let now = Utc::now();
        // 30 changes an hour apart (inside a day's grace): all kept (before: the newest 20).
        let mut recent = changes(30, now, chrono::Duration::hours(1));
        trim(&mut recent, now);
        assert_eq!(recent.len(), 30);
        // 30 changes ten days apart: the newest 20 of any age.
        let mut old = changes(30, now, chrono::Duration::days(10));
        trim(&mut old, now);
        assert_eq!(old.len(), 20);
        assert_eq!(old[0].id.as_str(), "d0");
        assert!(
            may_lack_older(&old, now),
            "a grace past a month may miss some"
        );
        assert!(!may_lack_older(&recent, now));
        // Never more than CHANGES_MAX.
        let mut many = changes(CHANGES_MAX + 5, now, chrono::Duration::seconds(1));
        trim(&mut many, now);
        assert_eq!(many.len(), CHANGES_MAX);
        assert!(may_lack_older(&many, now));
        // A deployment live several times: its latest end only.
        let mut again = changes(3, now, chrono::Duration::hours(1));
        again.push(WasLive {
            id: again[0].id.clone(),
            until: now - chrono::Duration::hours(5),
        });
        trim(&mut again, now);
        assert_eq!(again.len(), 3);
        assert_eq!(again[0].until, now);
    }
}
