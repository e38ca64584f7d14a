//! Reading the journal: `history`'s runs (the end record, or the start while there is none;
//! what cannot be read is named, never fatal) and everything `restore` needs of one run.

use super::{EndPart, StartPart};
use audit::{Record, Status};
use bucket::{BatchOutcome, JournalPlace, MarkerToRemove, RunId, S3Error};
use chrono::{DateTime, Utc};
use retention::DeploymentId;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// How long before the run's start a delete marker may be dated and still be taken as the
/// run's (clock skew between this host and S3).
const CLOCK_SKEW: chrono::Duration = chrono::Duration::minutes(5);

/// One run as `history` lists it: the end record when there is one, else the start record
/// with status `started` (still running, or it died).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunSummary {
    pub id: String,
    pub source: String,
    pub who: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    pub status: Status,
    pub started: DateTime<Utc>,
    /// Objects deleted (restored, for a restore).
    pub deleted: u64,
    pub deleted_deployments: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restore_of: Option<String>,
    /// It recorded what a restore needs (a versioned bucket, no purge).
    pub restorable: bool,
}

/// A name under `runs/` that is not a readable run: listed, never fatal.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Unreadable {
    pub name: String,
    pub problem: String,
}

/// What `history` reads: runs newest first, and what could not be read.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct History {
    pub runs: Vec<RunSummary>,
    pub unreadable: Vec<Unreadable>,
}

/// A run's record as far as the journal has it: the end record, or the start record (status
/// `started`) when the run has not ended.
async fn run_record(place: &JournalPlace, run: &RunId) -> Result<EndPart, String> {
    let parts = [String::from("end.json"), String::from("start.json")];
    let mut read = place.read_many(run, &parts).await.into_iter();
    let (_, end) = read.next().expect("two parts");
    let (_, start) = read.next().expect("two parts");
    let not_a_record =
        |what: &str, e: serde_json::Error| format!("{what} is not a run record: {e}");
    match (
        end.map_err(|e| e.to_string())?,
        start.map_err(|e| e.to_string())?,
    ) {
        (Some(body), _) => EndPart::from_json(&body).map_err(|e| not_a_record("end.json", e)),
        (None, Some(body)) => serde_json::from_slice::<StartPart>(&body)
            .map(|s| EndPart {
                record: s.record,
                answers: Vec::new(),
            })
            .map_err(|e| not_a_record("start.json", e)),
        (None, None) => Err("it has neither start.json nor end.json".into()),
    }
}

/// The records of the newest `limit` runs of the journal at `place`, newest first (each the
/// end record, or the start record while there is no end), and what could not be read.
pub async fn records(
    place: &JournalPlace,
    limit: usize,
) -> Result<(Vec<Record>, Vec<Unreadable>), S3Error> {
    let page = records_before(place, None, limit, None).await?;
    Ok((page.records, page.unreadable))
}

/// Run records read from `end.json`, which is written once: read again, it is the same. A
/// long-lived reader (the dashboard: History, the overview, every metrics scrape) keeps them, so
/// each ended run is fetched once, not on every page (up to two GETs a run a bucket).
#[derive(Debug, Default)]
pub struct EndedRuns(std::sync::Mutex<std::collections::HashMap<String, Record>>);

impl EndedRuns {
    /// Records kept at most (then they are forgotten and read again as needed).
    const MAX: usize = 2_000;
    /// A record listing more deployments, failures and keys than this is not kept (read again
    /// when needed): memory stays small whatever the runs were.
    const MAX_LINES: usize = 1_000;

    fn get(&self, key: &str) -> Option<Record> {
        let kept = self.0.lock().unwrap_or_else(|e| e.into_inner());
        kept.get(key).cloned()
    }

    fn keep(&self, key: String, record: &Record) {
        let r = record;
        let lines = r.deleted.len()
            + r.restored.len()
            + r.failures.len()
            + r.skipped.len()
            + r.held.len()
            + r.changed.len()
            + r.expiries.len()
            + r.markers.len();
        if lines > Self::MAX_LINES {
            return;
        }
        let mut kept = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if kept.len() >= Self::MAX {
            kept.clear();
        }
        kept.insert(key, record.clone());
    }
}

/// A page of a journal's runs: up to `limit` readable records, what could not be read on the
/// way, and whether older runs are left.
#[derive(Debug, Default)]
pub struct RecordsPage {
    pub records: Vec<Record>,
    pub unreadable: Vec<Unreadable>,
    pub more: bool,
}

/// [`records`] of the runs that began at or before `by` (all with `None`): a page of history
/// further back. Runs are read newest first until `limit` of them are readable (an unreadable
/// one takes no place on the page). Names under `runs/` that are no run id are listed only
/// with the newest page. With `ended`, a run that has ended is read from there once kept.
pub async fn records_before(
    place: &JournalPlace,
    by: Option<DateTime<Utc>>,
    limit: usize,
    ended: Option<&EndedRuns>,
) -> Result<RecordsPage, S3Error> {
    use futures::stream::{self, StreamExt};
    let (runs, foreign) = place.runs().await?;
    let mut page = RecordsPage::default();
    if by.is_none() {
        page.unreadable = foreign
            .into_iter()
            .map(|name| Unreadable {
                name,
                problem: "not a run id".into(),
            })
            .collect();
    }
    let mut newest = runs
        .into_iter()
        .rev()
        .filter(|id| by.is_none_or(|at| id.began_by(at)))
        .peekable();
    while page.records.len() < limit && newest.peek().is_some() {
        let ids: Vec<RunId> = newest.by_ref().take(limit - page.records.len()).collect();
        let read: Vec<_> = stream::iter(ids)
            .map(|id| async move {
                let r = record_kept(place, &id, ended).await;
                (id, r)
            })
            .buffered(16)
            .collect()
            .await;
        for (id, r) in read {
            match r {
                Ok(record) => page.records.push(record),
                Err(problem) => page.unreadable.push(Unreadable {
                    name: id.to_string(),
                    problem,
                }),
            }
        }
    }
    page.more = newest.peek().is_some();
    Ok(page)
}

/// One run's record (its end record, or its start record while it has not ended), as History
/// shows it on demand.
pub async fn record(place: &JournalPlace, run: &RunId) -> Result<Record, String> {
    let EndPart { mut record, .. } = run_record(place, run).await?;
    record.run = Some(run.to_string());
    // A record number belongs to the audit log of the machine that ran it.
    record.id = None;
    Ok(record)
}

/// [`record`], read from `ended` once the run has ended and is kept there.
async fn record_kept(
    place: &JournalPlace,
    run: &RunId,
    ended: Option<&EndedRuns>,
) -> Result<Record, String> {
    let key = format!("{}{run}", place.url());
    if let Some(kept) = ended.and_then(|e| e.get(&key)) {
        return Ok(kept);
    }
    let r = record(place, run).await?;
    // Only an end record is final; a start record gets its end later.
    if let Some(e) = ended.filter(|_| r.status != Status::Started) {
        e.keep(key, &r);
    }
    Ok(r)
}

/// The newest `limit` runs of the journal at `place`, newest first.
pub async fn history(place: &JournalPlace, limit: usize) -> Result<History, S3Error> {
    let (records, unreadable) = records(place, limit).await?;
    Ok(History {
        runs: records
            .iter()
            .filter_map(|r| Some(summary(&RunId::parse(r.run.as_deref()?)?, r)))
            .collect(),
        unreadable,
    })
}

fn summary(id: &RunId, r: &Record) -> RunSummary {
    let restore = r.is_restore();
    RunSummary {
        id: id.to_string(),
        source: r.source.clone(),
        who: r.who.clone(),
        host: r.host.clone(),
        status: r.status,
        started: r.started_at,
        deleted: if restore {
            r.restored.iter().map(|d| d.objects).sum()
        } else {
            r.deleted_objects
        },
        deleted_deployments: r.deployments().iter().map(|d| d.id.clone()).collect(),
        restore_of: r
            .policy
            .get("restore_of")
            .and_then(|v| v.as_str().map(str::to_string)),
        // Its deletes left delete markers (a versioned bucket, no purge).
        restorable: !restore && r.undoable,
    }
}

/// A run as `restore` needs it: its record (with the markers its answers recorded) and, for
/// batches sent but never answered on record, their keys as markers to find.
pub struct RunToRestore {
    pub record: Record,
    /// Per deployment: the markers to remove (exact, or "the current one since the run began").
    pub markers: BTreeMap<DeploymentId, Vec<MarkerToRemove>>,
}

/// Reads everything the journal holds of `run`.
async fn read_run_alone(place: &JournalPlace, run: &RunId) -> Result<Option<RunToRestore>, String> {
    let parts = place.parts(run).await.map_err(|e| e.to_string())?;
    if parts.is_empty() {
        return Ok(None);
    }
    let EndPart {
        mut record,
        answers: in_end,
    } = run_record(place, run).await?;
    let not_before = record.started_at - CLOCK_SKEW;
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
    Ok(Some(RunToRestore { record, markers }))
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
    let from = run.started() - CLOCK_SKEW * 2;
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
