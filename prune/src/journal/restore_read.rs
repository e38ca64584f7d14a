//! Reading one run for `restore`: its record, the deployments its delete markers are of, and
//! what its answers did not record: for a run killed before its end, its folders, where its
//! markers are found by S3's dates (up to the next run's start); for runs written before
//! 2026-12-08, the keys of batches sent but never answered, as markers to find (told apart
//! from markers later runs made of the same keys); and keys an answer reports failed. The markers its answers recorded are not held:
//! they are counted as the run is checked, and read again part by part as they are removed
//! ([`RunMarkers::read`]), so restoring a run of millions of objects holds a few parts at a time.

use super::markers::{reads, RunMarkers, PARTS_IN_FLIGHT};
use super::read::run_record;
use super::{EndAnswer, EndPart};
use audit::Record;
use bucket::{JournalPlace, MarkerToRemove, RunId};
use futures::stream::{self, StreamExt};
use retention::DeploymentId;
use std::collections::{BTreeMap, BTreeSet};

/// How long before the run's start a delete marker may be dated and still be taken as the
/// run's (clocks of S3's own nodes; the run's start is read by S3's clock where it can be).
pub(super) const CLOCK_SKEW: chrono::Duration = chrono::Duration::minutes(5);

/// A run as `restore` needs it: its record and its markers ([`RunMarkers`]).
pub struct RunToRestore {
    pub record: Record,
    pub markers: RunMarkers,
    /// When the run began, by S3's clock where its start was listed (else its host's).
    pub started: chrono::DateTime<chrono::Utc>,
}

/// Whether `part` is one this version writes or reads (earlier versions' forms included).
fn is_known_part(part: &str) -> bool {
    matches!(
        part,
        "start.json" | "end.json" | super::HANDOVERS | super::HANDING | super::FOLDERS
    ) || is_answer_part(part)
        || part.starts_with("intent-")
        || part.starts_with("intents-")
}

/// Whether `part` is an answer part (either form).
pub(super) fn is_answer_part(part: &str) -> bool {
    part.starts_with("answer-") || part.starts_with("answers-")
}

/// Reads what `restore` needs of `run`: its record, and its markers counted (the keys to look
/// up kept), its answer parts read one after the other.
async fn read_run_alone(place: &JournalPlace, run: &RunId) -> Result<Option<RunToRestore>, String> {
    let dated = place.parts_dated(run).await.map_err(|e| e.to_string())?;
    if dated.is_empty() {
        return Ok(None);
    }
    let EndPart {
        mut record,
        answers: in_end,
    } = run_record(place, run).await?;
    // The run began before S3 wrote its start (and before its first delete): by S3's clock,
    // which dates the markers too. The host's `started_at` is the fallback: a host whose
    // clock runs ahead would leave its own markers as "made before the run".
    let started = dated
        .iter()
        .find(|(p, _)| p == "start.json")
        .map_or(record.started_at, |(_, at)| *at);
    let not_before = started - CLOCK_SKEW;
    let parts: Vec<String> = dated.into_iter().map(|(p, _)| p).collect();
    // A part this version does not know may hold what the run deleted: restoring from the
    // rest would leave that deleted and say "nothing to restore". (A folder marker, the run's
    // folder itself, is no part.)
    if let Some(unknown) = parts.iter().find(|p| !p.is_empty() && !is_known_part(p)) {
        return Err(format!(
            "run {run} has a part this s3-prune does not know ({unknown}): a newer s3-prune \
             wrote it, or something else did. Restore the run with the version that wrote it \
             (what it deleted can still be brought back), or move that object out of the run's \
             folder if it is not s3-prune's; nothing was restored"
        ));
    }
    // A run killed before its end: its lifecycle handovers are in their own part, or, killed
    // while their rules were on their way, the handovers it was about to make.
    let handed = [super::HANDOVERS, super::HANDING]
        .into_iter()
        .find(|part| parts.iter().any(|p| p == part));
    if let Some(part) = handed.filter(|_| record.expiries.is_empty()) {
        let body = place
            .read(run, part)
            .await
            .map_err(|e| e.to_string())?
            .unwrap_or_default();
        let h: super::Handovers =
            serde_json::from_slice(&body).map_err(|e| format!("{part}: {e}"))?;
        record.expiries = h.handovers;
    }
    // A run since 2026-12-08 wrote its folders, once, and no intents.
    let folders = match parts.iter().any(|p| p == super::FOLDERS) {
        true => Some(read_folders(place, run).await?),
        false => None,
    };
    // Which batches were answered is in the answer parts' bodies (a group's name spans
    // batches it may not hold), so they are read first, then the intents of the rest. Of the
    // markers they record only the count per deployment is kept; they are read again as they
    // are removed.
    let answer_parts: Vec<String> = parts
        .iter()
        .filter(|p| is_answer_part(p))
        .cloned()
        .collect();
    let mut answered = BTreeSet::new();
    let mut counts: BTreeMap<DeploymentId, u64> = BTreeMap::new();
    let mut recorded = false;
    // Keys an answer reports failed may have been deleted all the same (S3 did the work and
    // its answer was lost in transit): they are looked for as those of unanswered batches are.
    let mut doubtful: BTreeMap<u64, BTreeSet<String>> = BTreeMap::new();
    let mut take = |a: &EndAnswer| {
        if !answered.insert(a.n) {
            return;
        }
        if !a.outcome.failed.is_empty() {
            let failed = a.outcome.failed.iter().map(|f| f.key.clone()).collect();
            doubtful.insert(a.n, failed);
        }
        for (id, _) in &a.outcome.markers {
            recorded = true;
            match counts.get_mut(id) {
                Some(n) => *n += 1,
                None => {
                    counts.insert(id.clone(), 1);
                }
            }
        }
    };
    let mut read = reads(place, run, &answer_parts, PARTS_IN_FLIGHT);
    while let Some((name, body)) = read.next().await {
        let body = body.map_err(|e| e.to_string())?.unwrap_or_default();
        let Some(answers) = crate::answers::answers_of(&name, &body) else {
            continue;
        };
        answers?.iter().for_each(&mut take);
    }
    drop(read);
    // Then those the end record carries, for batches without an answer part of their own.
    in_end.iter().for_each(&mut take);
    let settled: BTreeSet<u64> = answered
        .into_iter()
        .filter(|n| !doubtful.contains_key(n))
        .collect();
    let mut looked_up: BTreeMap<DeploymentId, Vec<MarkerToRemove>> = BTreeMap::new();
    let mut look_up = |id: DeploymentId, key: String| {
        *counts.entry(id.clone()).or_default() += 1;
        looked_up.entry(id).or_default().push(MarkerToRemove {
            key,
            version_id: None,
            not_before: Some(not_before),
            later: Vec::new(),
        });
    };
    let mut listed = BTreeSet::new();
    if let Some(folders) = &folders {
        if record.status == audit::Status::Started {
            // Killed (no end): what its answers did not record is in its folders, found there
            // as restored; the keys answered failed with them. Not a folder it handed to S3
            // lifecycle: that was not deleted by requests, and withdrawing its rule brings
            // back what S3 expired of it.
            let handed: BTreeSet<&str> = record
                .expiries
                .iter()
                .filter(|e| e.state == audit::ExpiryState::Handed)
                .map(|e| e.deployment.as_str())
                .collect();
            let searched = folders.iter().filter(|id| !handed.contains(id.as_str()));
            listed.extend(searched.cloned());
        } else {
            // Ended: every batch sent was answered on record. Keys an answer reports failed
            // are looked up one by one.
            for key in doubtful.values().flatten().cloned() {
                if let Some(id) = folder_of(&key, &record.prefix, folders) {
                    look_up(id, key);
                }
            }
        }
    }
    // Runs before 2026-12-08: batches sent (or about to be) but never answered on record, and
    // the failed keys of those answered: their keys' current markers, if made since the run
    // began.
    let intents: Vec<String> = parts
        .iter()
        .filter(|p| crate::intents::may_hold_unanswered(p, &settled))
        .cloned()
        .collect();
    let mut read = reads(place, run, &intents, PARTS_IN_FLIGHT);
    while let Some((name, body)) = read.next().await {
        let body = body.map_err(|e| e.to_string())?.unwrap_or_default();
        let batches = crate::intents::batches_of(&name, &body)?;
        for b in batches.into_iter().filter(|b| !settled.contains(&b.n)) {
            let only = doubtful.get(&b.n);
            for k in b.keys {
                if only.is_some_and(|failed| !failed.contains(&k.key)) {
                    continue;
                }
                look_up(k.deployment, k.key);
            }
        }
    }
    drop(read);
    for id in &listed {
        counts.entry(id.clone()).or_default();
    }
    Ok(Some(RunToRestore {
        record,
        markers: RunMarkers {
            place: place.clone(),
            run: run.clone(),
            answer_parts,
            in_end,
            not_before,
            counts,
            recorded,
            looked_up,
            listed,
            since: started - super::folders::BEFORE_START,
            until: None,
            theirs: BTreeMap::new(),
        },
        started,
    }))
}

/// The folders `run` wrote before its first delete (`folders.json`).
async fn read_folders(place: &JournalPlace, run: &RunId) -> Result<Vec<DeploymentId>, String> {
    let body = place
        .read(run, super::FOLDERS)
        .await
        .map_err(|e| e.to_string())?
        .unwrap_or_default();
    let part: super::FoldersPart =
        serde_json::from_slice(&body).map_err(|e| format!("{}: {e}", super::FOLDERS))?;
    Ok(part.folders)
}

/// The deployment of `folders` whose folder holds `key` (under `prefix`).
fn folder_of(key: &str, prefix: &str, folders: &[DeploymentId]) -> Option<DeploymentId> {
    let (name, _) = key.strip_prefix(prefix)?.split_once('/')?;
    folders.iter().find(|id| id.as_str() == name).cloned()
}

/// Each delete marker run `run`'s answers recorded, handed to `take`: those of its answer parts
/// `answer_parts` (read one after the other), then, with `with_end`, those its end record
/// carries. A part that cannot be read ends it with why.
pub(super) async fn each_recorded(
    place: &JournalPlace,
    run: &RunId,
    answer_parts: &[String],
    with_end: bool,
    mut take: impl FnMut(DeploymentId, bucket::NewMarker),
) -> Result<(), String> {
    let mut take_all = |answers: Vec<EndAnswer>| {
        let markers = answers.into_iter().flat_map(|a| a.outcome.markers);
        markers.for_each(|(id, m)| take(id, m));
    };
    let mut read = reads(place, run, answer_parts, 4);
    while let Some((name, body)) = read.next().await {
        let body = body.map_err(|e| e.to_string())?.unwrap_or_default();
        if let Some(answers) = crate::answers::answers_of(&name, &body) {
            take_all(answers?);
        }
    }
    drop(read);
    if with_end {
        take_all(run_record(place, run).await?.answers);
    }
    Ok(())
}

/// The delete markers of the keys `keys` that run `run`'s answers recorded (its answer parts
/// read one after the other, only those markers kept).
async fn recorded_markers_of(
    place: &JournalPlace,
    run: &RunId,
    keys: &BTreeSet<&str>,
) -> Result<Vec<(String, String)>, String> {
    let parts = place.parts(run).await.map_err(|e| e.to_string())?;
    if parts.is_empty() {
        return Ok(Vec::new());
    }
    let answer_parts: Vec<String> = parts.into_iter().filter(|p| is_answer_part(p)).collect();
    let mut found = Vec::new();
    each_recorded(place, run, &answer_parts, true, |_, m| {
        if keys.contains(m.key.as_str()) {
            found.push((m.key, m.version_id));
        }
    })
    .await?;
    Ok(found)
}

/// Later runs read for the markers they recorded, at most.
const LATER_RUNS_READ: usize = 50;

/// [`read_run_alone`], with each key looked up without a version id told which delete markers
/// of it later runs recorded as theirs: a key the run meant to delete but never sent, that a
/// later apply deleted, keeps that apply's marker (its own restore brings the key back). Later
/// means a higher run id, or one up to twice the clock skew lower (ids are hosts' clocks); the
/// first [`LATER_RUNS_READ`] of those are read (a run that made the marker among those not
/// read: the key is restored, as before). Ownership is by recorded version id, never by time.
/// A later run's answer parts are read one after the other, keeping only the markers of the
/// keys looked up.
pub async fn read_run(place: &JournalPlace, run: &RunId) -> Result<Option<RunToRestore>, String> {
    let Some(mut found) = read_run_alone(place, run).await? else {
        return Ok(None);
    };
    // A run killed before its end: its folders are searched up to when the next run began,
    // leaving what later runs recorded as theirs.
    if !found.markers.listed.is_empty() {
        let search = super::folders::bound(place, run, &found).await?;
        found.markers.until = search.until;
        found.markers.theirs = search.theirs;
    }
    let looked_up: BTreeSet<&str> = found
        .markers
        .looked_up
        .values()
        .flatten()
        .map(|m| m.key.as_str())
        .collect();
    if looked_up.is_empty() {
        return Ok(Some(found));
    }
    let (runs, _) = place.runs().await.map_err(|e| e.to_string())?;
    // Later by S3's clock too: a run whose host ran ahead has an id later than runs that came
    // after it (whose markers would otherwise be taken for its own).
    let from = run.started().min(found.started) - CLOCK_SKEW * 2;
    let later: Vec<RunId> = runs
        .into_iter()
        .filter(|id| id != run && !id.began_by(from - chrono::Duration::milliseconds(1)))
        .take(LATER_RUNS_READ)
        .collect();
    let mut theirs: BTreeMap<String, Vec<String>> = BTreeMap::new();
    // A few runs at a time; each keeps only the markers of the keys looked up.
    let looked_up = &looked_up;
    let mut read = stream::iter(later)
        .map(|id| async move {
            match recorded_markers_of(place, &id, looked_up).await {
                Ok(markers) => markers,
                // A later run that cannot be read lends no markers: its keys are restored as
                // before.
                Err(e) => {
                    tracing::warn!(run = %id, error = %e, "a later run could not be read: its markers are not told apart");
                    Vec::new()
                }
            }
        })
        .buffered(4);
    while let Some(markers) = read.next().await {
        for (key, version_id) in markers {
            theirs.entry(key).or_default().push(version_id);
        }
    }
    drop(read);
    for m in found.markers.looked_up.values_mut().flatten() {
        m.later = theirs.get(&m.key).cloned().unwrap_or_default();
    }
    Ok(Some(found))
}
