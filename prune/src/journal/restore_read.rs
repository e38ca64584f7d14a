//! Reading one run for `restore`: its record, the delete markers its answers recorded, and for
//! batches sent but never answered on record, their keys as markers to find (told apart from
//! markers later runs made of the same keys).

use super::read::run_record;
use super::EndPart;
use audit::Record;
use bucket::{BatchOutcome, JournalPlace, MarkerToRemove, RunId};
use retention::DeploymentId;
use std::collections::{BTreeMap, BTreeSet};

/// How long before the run's start a delete marker may be dated and still be taken as the
/// run's (clocks of S3's own nodes; the run's start is read by S3's clock where it can be).
const CLOCK_SKEW: chrono::Duration = chrono::Duration::minutes(5);

/// A run as `restore` needs it: its record (with the markers its answers recorded) and, for
/// batches sent but never answered on record, their keys as markers to find.
pub struct RunToRestore {
    pub record: Record,
    /// Per deployment: the markers to remove (exact, or "the current one since the run began").
    pub markers: BTreeMap<DeploymentId, Vec<MarkerToRemove>>,
    /// When the run began, by S3's clock where its start was listed (else its host's).
    pub started: chrono::DateTime<chrono::Utc>,
}

/// Reads everything the journal holds of `run`.
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
    // A run killed before its end: its lifecycle handovers are in their own part.
    if record.expiries.is_empty() && parts.iter().any(|p| p == super::HANDOVERS) {
        let body = place
            .read(run, super::HANDOVERS)
            .await
            .map_err(|e| e.to_string())?
            .unwrap_or_default();
        let h: super::Handovers =
            serde_json::from_slice(&body).map_err(|e| format!("{}: {e}", super::HANDOVERS))?;
        record.expiries = h.handovers;
    }
    // Which batches were answered is in the answer parts' bodies (a group's name spans
    // batches it may not hold), so they are read first, then the intents of the rest.
    let answer_parts: Vec<String> = parts
        .iter()
        .filter(|p| p.starts_with("answer-") || p.starts_with("answers-"))
        .cloned()
        .collect();
    let mut answered = BTreeSet::new();
    let mut outcomes = Vec::new();
    for (name, body) in place.read_many(run, &answer_parts).await {
        let body = body.map_err(|e| e.to_string())?.unwrap_or_default();
        let Some(answers) = crate::answers::answers_of(&name, &body) else {
            continue;
        };
        outcomes.extend(answers?);
    }
    // Then those the end record carries, for batches without an answer part of their own.
    outcomes.extend(in_end);
    let outcomes: Vec<(u64, BatchOutcome)> = outcomes
        .into_iter()
        .filter(|a| answered.insert(a.n))
        .map(|a| (a.n, a.outcome))
        .collect();
    // Keys an answer reports failed may have been deleted all the same (S3 did the work and
    // its answer was lost in transit): they are looked for as those of unanswered batches are.
    let doubtful: BTreeMap<u64, BTreeSet<String>> = outcomes
        .iter()
        .filter(|(_, o)| !o.failed.is_empty())
        .map(|(n, o)| (*n, o.failed.iter().map(|f| f.key.clone()).collect()))
        .collect();
    let settled: BTreeSet<u64> = answered
        .into_iter()
        .filter(|n| !doubtful.contains_key(n))
        .collect();
    let intents: Vec<String> = parts
        .iter()
        .filter(|p| crate::intents::may_hold_unanswered(p, &settled))
        .cloned()
        .collect();
    let mut markers: BTreeMap<DeploymentId, Vec<MarkerToRemove>> = BTreeMap::new();
    for (_, outcome) in outcomes {
        for (id, m) in outcome.markers {
            record.markers.push(audit::Marker {
                deployment: id.to_string(),
                key: m.key.clone(),
                version_id: m.version_id.clone(),
            });
            // Made since the run began, so markers a retried request made beneath it go too.
            markers.entry(id).or_default().push(MarkerToRemove {
                key: m.key,
                version_id: Some(m.version_id),
                not_before: Some(not_before),
                later: Vec::new(),
            });
        }
    }
    // Batches sent (or about to be) but never answered on record, and the failed keys of
    // those answered: their keys' current markers, if made since the run began.
    for (name, body) in place.read_many(run, &intents).await {
        let body = body.map_err(|e| e.to_string())?.unwrap_or_default();
        let batches = crate::intents::batches_of(&name, &body)?;
        for b in batches.into_iter().filter(|b| !settled.contains(&b.n)) {
            let only = doubtful.get(&b.n);
            for k in b.keys {
                if only.is_some_and(|failed| !failed.contains(&k.key)) {
                    continue;
                }
                markers
                    .entry(k.deployment)
                    .or_default()
                    .push(MarkerToRemove {
                        key: k.key,
                        version_id: None,
                        not_before: Some(not_before),
                        later: Vec::new(),
                    });
            }
        }
    }
    Ok(Some(RunToRestore {
        record,
        markers,
        started,
    }))
}

/// Later runs read for the markers they recorded, at most.
const LATER_RUNS_READ: usize = 50;

/// [`read_run_alone`], with each key looked up without a version id told which delete markers
/// of it later runs recorded as theirs: a key the run meant to delete but never sent, that a
/// later apply deleted, keeps that apply's marker (its own restore brings the key back). Later
/// means a higher run id, or one up to twice the clock skew lower (ids are hosts' clocks); the
/// first [`LATER_RUNS_READ`] of those are read (a run that made the marker among those not
/// read: the key is restored, as before). Ownership is by recorded version id, never by time.
pub async fn read_run(place: &JournalPlace, run: &RunId) -> Result<Option<RunToRestore>, String> {
    let Some(mut found) = read_run_alone(place, run).await? else {
        return Ok(None);
    };
    let looked_up: BTreeSet<&str> = found
        .markers
        .values()
        .flatten()
        .filter(|m| m.version_id.is_none())
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
    // Read a few at a time; each keeps only the markers of the keys looked up.
    use futures::stream::StreamExt;
    let looked_up = &looked_up;
    let mut read = futures::stream::iter(later)
        .map(|id| async move {
            match read_run_alone(place, &id).await {
                Ok(Some(other)) => other
                    .record
                    .markers
                    .into_iter()
                    .filter(|m| looked_up.contains(m.key.as_str()))
                    .map(|m| (m.key, m.version_id))
                    .collect(),
                Ok(None) => Vec::new(),
                // A later run that cannot be read lends no markers: its keys are restored as
                // before.
                Err(e) => {
                    tracing::warn!(run = %id, error = %e, "a later run could not be read: its markers are not told apart");
                    Vec::new()
                }
            }
        })
        .buffered(8);
    while let Some(markers) = read.next().await {
        for (key, version_id) in markers {
            theirs.entry(key).or_default().push(version_id);
        }
    }
    drop(read);
    for m in found.markers.values_mut().flatten() {
        if m.version_id.is_none() {
            m.later = theirs.get(&m.key).cloned().unwrap_or_default();
        }
    }
    Ok(Some(found))
}
