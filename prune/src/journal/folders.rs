//! Where a killed run's folders are searched (runs since 2026-12-08 write the folders they may
//! delete from, not each batch's keys, before their first delete): the delete markers made
//! from its start, by S3's clock, until a little after the next run of the bucket and prefix
//! began; and of those, the ones later runs recorded as their own, which are left.

use super::read::run_record;
use super::restore_read::{each_recorded, is_answer_part, CLOCK_SKEW};
use super::{EndPart, RunToRestore};
use bucket::{JournalPlace, RunId};
use chrono::{DateTime, Duration, Utc};
use futures::stream::{self, StreamExt};
use retention::DeploymentId;
use std::collections::{BTreeMap, BTreeSet};

/// Markers are taken from this long before S3 wrote the run's start (its first delete came
/// after; S3's own clocks, which date to the second).
pub(super) const BEFORE_START: Duration = Duration::seconds(5);

/// ... and up to this long after the next run began: a run on the killed run's host takes its
/// lease over at once, while S3 may still be carrying out requests the killed run sent (the
/// lease's life; what a later run made meanwhile is told apart by its record).
const AFTER_NEXT_RUN: Duration = Duration::seconds(60);

/// Journal parts of a later run written this long after the window are not read for its
/// markers: a batch sent within the window is answered within the lease's life (a run gives
/// up on one still out 5 s before its lease could expire), its answer a second later.
const PART_SLACK: Duration = Duration::seconds(60);

/// Later runs read for their start and bucket, at most (a journal shared by many buckets).
const RUNS_READ: usize = 1_000;

/// Where a killed run's folders are searched ([`bound`]).
pub(super) struct Search {
    /// Markers made after this are not the run's; `None`: no later run.
    pub(super) until: Option<DateTime<Utc>>,
    /// Per key in the run's folders, the version ids of markers later runs recorded within
    /// the window: theirs, not the run's.
    pub(super) theirs: BTreeMap<String, Vec<String>>,
}

/// A run of the same bucket and prefix whose journal S3 wrote to within the window (from
/// [`BEFORE_START`] before the killed run): when S3 wrote its start, its parts, and whether it
/// began after the killed run for certain (S3 dates to the second: one of the same second, or
/// just before, is not, and only its record tells its markers apart).
struct Later {
    id: RunId,
    began: DateTime<Utc>,
    parts: Vec<(String, DateTime<Utc>)>,
    after: bool,
}

/// The window of `found`'s folders ([`Search`]): the first run of its bucket and prefix that
/// began after it by S3's clock bounds it, and the markers that runs whose journal was written
/// to within it (one just before it included) recorded in those folders, in their parts
/// written by then, are theirs. Runs are read in id order from a little before the run (ids
/// are hosts' clocks), until one began past the window for certain. A run that cannot be read
/// refuses the restore (it may have deleted in those folders): read again, it may be there.
pub(super) async fn bound(
    place: &JournalPlace,
    run: &RunId,
    found: &RunToRestore,
) -> Result<Search, String> {
    let (runs, _) = place.runs().await.map_err(|e| e.to_string())?;
    let from = run.started().min(found.started) - CLOCK_SKEW * 2;
    let candidates: Vec<RunId> = runs
        .into_iter()
        .filter(|id| id != run && !id.began_by(from - Duration::milliseconds(1)))
        .take(RUNS_READ)
        .collect();
    let window_from = found.started - BEFORE_START;
    let same_place = |id: RunId| async move {
        let unread = |e: String| unread_run(&id, e);
        let parts = place
            .parts_dated(&id)
            .await
            .map_err(|e| unread(e.to_string()))?;
        let Some(began) = parts.iter().find(|(p, _)| p == "start.json").map(|p| p.1) else {
            tracing::warn!(run = %id, "a later run without start.json: it deleted nothing");
            return Ok::<_, String>(None);
        };
        let last = parts.iter().map(|p| p.1).max().unwrap_or(began);
        if last < window_from {
            return Ok(None);
        }
        let EndPart { record, .. } = run_record(place, &id).await.map_err(unread)?;
        let same = record.bucket == found.record.bucket && record.prefix == found.record.prefix;
        let after = began > found.started;
        Ok(same.then_some(Later {
            id,
            began,
            parts,
            after,
        }))
    };
    let mut later: Vec<Later> = Vec::new();
    let mut read = stream::iter(candidates)
        .map(|id| async move { (id.clone(), same_place(id).await) })
        .buffered(4);
    let first_after = |later: &[Later]| later.iter().filter(|l| l.after).map(|l| l.began).min();
    while let Some((id, run)) = read.next().await {
        let first = first_after(&later);
        // Ids are hosts' clocks, off by the skew at most: one this late began after the window.
        if first.is_some_and(|f| !id.began_by(f + AFTER_NEXT_RUN + CLOCK_SKEW * 2)) {
            break;
        }
        later.extend(run?);
    }
    drop(read);
    // No run after it for certain: no end to the window (a run of its second, or just before,
    // told apart by its record only).
    let until = first_after(&later).map(|first| first + AFTER_NEXT_RUN);
    // Ownership is by version id: a run of the killed run's second counts whichever came first.
    // (Where the server ignores conditional writes, runs may overlap: one that began while the
    // killed run was deleting closes the window early, and what it deleted since is left.)
    let mut theirs: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for l in later.iter().filter(|l| until.is_none_or(|u| l.began <= u)) {
        let by = until.map(|u| u + PART_SLACK);
        recorded_in(place, l, &found.markers.listed, by, &mut theirs)
            .await
            .map_err(|e| unread_run(&l.id, e))?;
    }
    Ok(Search { until, theirs })
}

/// Why a later run that could not be read refuses the restore.
fn unread_run(id: &RunId, e: String) -> String {
    format!(
        "run {id}, which may have deleted in this run's folders since, could not be read ({e}): \
         restore again; if that run's folder is damaged, move it out of the journal"
    )
}

/// The markers a later run recorded in `folders` in its parts written by `by` (all, without
/// it: its answer parts, and the answers its end carries), into `theirs`, or why it could not
/// be read.
async fn recorded_in(
    place: &JournalPlace,
    later: &Later,
    folders: &BTreeSet<DeploymentId>,
    by: Option<DateTime<Utc>>,
    theirs: &mut BTreeMap<String, Vec<String>>,
) -> Result<(), String> {
    let written = |p: &&(String, DateTime<Utc>)| by.is_none_or(|by| p.1 <= by);
    let answer_parts: Vec<String> = (later.parts.iter())
        .filter(written)
        .filter(|(p, _)| is_answer_part(p))
        .map(|(p, _)| p.clone())
        .collect();
    let ended = (later.parts.iter())
        .filter(written)
        .any(|(p, _)| p == "end.json");
    each_recorded(place, &later.id, &answer_parts, ended, |id, m| {
        if folders.contains(&id) {
            theirs.entry(m.key).or_default().push(m.version_id);
        }
    })
    .await
}
