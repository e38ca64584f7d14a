//! Reading the journal for `history` and the dashboard: the runs (the end record, or the start
//! while there is none; what cannot be read is named, never fatal), paged, and one run's record.
//! What `restore` needs of a run is read by `super::restore_read`.

use super::{EndPart, StartPart};
use audit::{Record, Status};
use bucket::{JournalPlace, RunId, S3Error};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

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
    /// For a run with no end on record: whether it is still going ([`mark_running`]); unset
    /// where that could not be told (the lease unreadable) and for ended runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub running: Option<bool>,
}

/// Tells each run with no end on record whether it is still running: a run takes the bucket's
/// lease before its start is written and renews it while it lasts, so one that does not hold
/// it now (`lease`, read before the runs were) died — killed, crashed or timed out — with no end
/// written. It stays `started` in the journal; this says which of the two it is.
pub fn mark_running(
    runs: &mut [RunSummary],
    lease: Option<&bucket::LeaseHolder>,
    now: DateTime<Utc>,
) {
    for r in runs.iter_mut().filter(|r| r.status == Status::Started) {
        r.running = Some(holds_lease(lease, &r.id, now));
    }
}

/// Whether run `run` holds the bucket's lease (`lease`, as read) at `now`: unexpired, and not
/// held by a process known to be gone (killed on this machine).
pub fn holds_lease(lease: Option<&bucket::LeaseHolder>, run: &str, now: DateTime<Utc>) -> bool {
    lease.is_some_and(|l| l.run == run && l.expires > now && !l.is_gone_from(&crate::apply::host()))
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
pub(super) async fn run_record(place: &JournalPlace, run: &RunId) -> Result<EndPart, String> {
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

/// The newest `limit` runs of `bucket`'s journal, newest first, each run with no end on record
/// told running or died ([`mark_running`]; the lease is read first, so a run that ends while
/// its record is read is not called dead for want of its lease).
pub async fn history_of(bucket: &bucket::Bucket, limit: usize) -> Result<History, S3Error> {
    let now = Utc::now();
    let lease = bucket.read_lease().await;
    let mut h = history(&JournalPlace::of(bucket), limit).await?;
    match lease {
        Ok(holder) => mark_running(&mut h.runs, holder.as_ref().map(|(h, _)| h), now),
        Err(e) => {
            tracing::debug!(error = %e, "the lease could not be read: runs with no end are not told running or died")
        }
    }
    Ok(h)
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
        // The run id, which names the run for every reader; the run as it was named (a local
        // record number means something only on the machine that restored it) otherwise.
        restore_of: ["restore_of_run", "restore_of"].iter().find_map(|k| {
            r.policy
                .get(*k)
                .and_then(|v| v.as_str().map(str::to_string))
        }),
        // Its deletes left delete markers (a versioned bucket, no purge).
        restorable: !restore && r.undoable,
        running: None,
    }
}
