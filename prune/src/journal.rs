//! The run journal in the bucket, shared by every front end: `<prefix>.s3-prune/runs/<run>/`.
//!
//! A run writes, each part once and never again:
//! 1. `start.json` before the first delete: who, from where, the policy, the plan's fingerprint
//!    and the doomed set;
//! 2. `intent-NNNNNN.json` before each DeleteObjects batch is sent: its keys (or
//!    `intents-FFFFFF-LLLLLL.json` for batches whose intents were written together: see
//!    [`crate::intents`]);
//! 3. `answer-NNNNNN.json` once S3 answered it: the delete markers made and the failures;
//! 4. `end.json` at the end: the run's record (finished, interrupted or failed), with the
//!    answers of the batches whose own answer part was still being written (the end is
//!    written beside them, not after them; a reader takes each batch's answer from either).
//!
//! So a run killed at any moment can be restored (its intents name every key it may have
//! deleted), memory stays bounded (markers go to the bucket batch by batch), and `history`,
//! the dashboard and `restore` read one truth whichever machine ran it.

use crate::intents::{IntentBatch, IntentsPart};
use audit::{Record, Status};
use bucket::{BatchKey, BatchOutcome, JournalPlace, MarkerToRemove, RunId, S3Error};
use chrono::{DateTime, Utc};
use retention::{DeploymentId, Doomed};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

/// `start.json`: the run's record as it began, and what it was to delete.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StartPart {
    pub record: Record,
    pub doomed: Vec<Doomed>,
}

/// `intent-NNNNNN.json`: the keys of one batch, written before it is sent.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IntentPart {
    pub keys: Vec<BatchKey>,
}

/// `end.json`: the run's record (its fields at the top level, as before), and under
/// `answers` those not yet on record when it was written.
#[derive(Debug, Clone)]
pub struct EndPart {
    pub record: Record,
    pub answers: Vec<EndAnswer>,
}

/// The `answers` of an `end.json` (a reader of the record alone skips them).
#[derive(Serialize, Deserialize)]
struct Carried {
    #[serde(default)]
    answers: Vec<EndAnswer>,
}

impl EndPart {
    fn to_json(&self) -> Result<Vec<u8>, serde_json::Error> {
        let mut end = serde_json::to_value(&self.record)?;
        if let (Some(fields), false) = (end.as_object_mut(), self.answers.is_empty()) {
            fields.insert("answers".into(), serde_json::to_value(&self.answers)?);
        }
        serde_json::to_vec(&end)
    }

    fn from_json(body: &[u8]) -> Result<EndPart, serde_json::Error> {
        Ok(EndPart {
            record: serde_json::from_slice(body)?,
            answers: serde_json::from_slice::<Carried>(body)?.answers,
        })
    }
}

/// A batch's answer carried by the end record.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EndAnswer {
    pub n: u64,
    pub outcome: BatchOutcome,
}

/// How long before the run's start a delete marker may be dated and still be taken as the
/// run's (clock skew between this host and S3).
const CLOCK_SKEW: chrono::Duration = chrono::Duration::minutes(5);

fn answer_name(n: u64) -> String {
    format!("answer-{n:06}.json")
}

/// A run being written. The first failed write is kept: the engine stops on it.
pub struct RunJournal {
    place: JournalPlace,
    run: RunId,
    error: Mutex<Option<String>>,
}

impl RunJournal {
    pub fn new(place: JournalPlace, run: RunId) -> RunJournal {
        RunJournal {
            place,
            run,
            error: Mutex::new(None),
        }
    }

    pub fn place(&self) -> &JournalPlace {
        &self.place
    }

    /// The first write that failed, if any.
    pub fn error(&self) -> Option<String> {
        self.error.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    async fn write<T: Serialize>(&self, part: &str, value: &T) -> Result<(), String> {
        let body = serde_json::to_vec(value).map_err(|e| e.to_string())?;
        self.write_bytes(part, body).await
    }

    async fn write_bytes(&self, part: &str, body: Vec<u8>) -> Result<(), String> {
        let result = self
            .place
            .write(&self.run, part, body)
            .await
            .map_err(|e| format!("journal {}{}/{part}: {e}", self.place.url(), self.run));
        if let Err(e) = &result {
            let mut first = self.error.lock().unwrap_or_else(|e| e.into_inner());
            first.get_or_insert_with(|| e.clone());
        }
        result
    }

    pub async fn start(&self, record: &Record, doomed: &[Doomed]) -> Result<(), String> {
        let part = StartPart {
            record: record.clone(),
            doomed: doomed.to_vec(),
        };
        self.write("start.json", &part).await
    }

    /// The intents of one or more batches, in one part (see [`crate::intents`]).
    pub(crate) async fn intents(&self, group: &[IntentBatch]) -> Result<(), String> {
        let name = crate::intents::part_name(group);
        match group {
            [one] => {
                let part = IntentPart {
                    keys: one.keys.clone(),
                };
                self.write(&name, &part).await
            }
            _ => {
                let part = IntentsPart {
                    batches: group.to_vec(),
                };
                self.write(&name, &part).await
            }
        }
    }

    pub async fn answer(&self, n: u64, outcome: &BatchOutcome) -> Result<(), String> {
        self.write(&answer_name(n), outcome).await
    }

    /// The end record, without its markers (they are in the answers), and the answers that
    /// may not be on record yet (`unanswered`).
    pub async fn end(&self, record: &Record, unanswered: Vec<EndAnswer>) -> Result<(), String> {
        let mut record = record.clone();
        record.markers.clear();
        let end = EndPart {
            record,
            answers: unanswered,
        };
        let body = end.to_json().map_err(|e| e.to_string())?;
        self.write_bytes("end.json", body).await
    }
}

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
    use futures::stream::{self, StreamExt};
    let (runs, foreign) = place.runs().await?;
    let mut unreadable: Vec<Unreadable> = foreign
        .into_iter()
        .map(|name| Unreadable {
            name,
            problem: "not a run id".into(),
        })
        .collect();
    let newest: Vec<RunId> = runs.into_iter().rev().take(limit).collect();
    let read: Vec<_> = stream::iter(newest)
        .map(|id| async move {
            let r = run_record(place, &id).await;
            (id, r)
        })
        .buffered(16)
        .collect()
        .await;
    let mut out = Vec::new();
    for (id, r) in read {
        match r {
            Ok(EndPart { mut record, .. }) => {
                record.run = Some(id.to_string());
                // A record number belongs to the audit log of the machine that ran it.
                record.id = None;
                out.push(record);
            }
            Err(problem) => unreadable.push(Unreadable {
                name: id.to_string(),
                problem,
            }),
        }
    }
    Ok((out, unreadable))
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
    let restore = r.restore_of.is_some() || r.policy.get("restore_of").is_some();
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
        deleted_deployments: if restore { &r.restored } else { &r.deleted }
            .iter()
            .map(|d| d.id.clone())
            .collect(),
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
pub async fn read_run(place: &JournalPlace, run: &RunId) -> Result<Option<RunToRestore>, String> {
    let parts = place.parts(run).await.map_err(|e| e.to_string())?;
    if parts.is_empty() {
        return Ok(None);
    }
    let EndPart {
        mut record,
        answers: in_end,
    } = run_record(place, run).await?;
    let not_before = record.started_at - CLOCK_SKEW;
    let mut answered = BTreeSet::new();
    let mut answers = Vec::new();
    for p in &parts {
        if let Some(n) = p
            .strip_prefix("answer-")
            .and_then(|s| s.strip_suffix(".json"))
            .and_then(|n| n.parse::<u64>().ok())
        {
            answered.insert(n);
            answers.push(p.clone());
        }
    }
    // Answers the end record carries, for batches without an answer part of their own.
    let in_end: Vec<BatchOutcome> = in_end
        .into_iter()
        .filter(|a| answered.insert(a.n))
        .map(|a| a.outcome)
        .collect();
    let intents: Vec<String> = parts
        .iter()
        .filter(|p| crate::intents::may_hold_unanswered(p, &answered))
        .cloned()
        .collect();
    let mut markers: BTreeMap<DeploymentId, Vec<MarkerToRemove>> = BTreeMap::new();
    let mut add = |outcome: BatchOutcome| {
        for (id, m) in outcome.markers {
            record.markers.push(audit::Marker {
                deployment: id.to_string(),
                key: m.key.clone(),
                version_id: m.version_id.clone(),
            });
            markers.entry(id).or_default().push(MarkerToRemove {
                key: m.key,
                version_id: Some(m.version_id),
                not_before: None,
            });
        }
    };
    for (name, body) in place.read_many(run, &answers).await {
        let body = body.map_err(|e| e.to_string())?.unwrap_or_default();
        add(serde_json::from_slice(&body).map_err(|e| format!("{name}: {e}"))?);
    }
    in_end.into_iter().for_each(&mut add);
    // Batches sent (or about to be) but never answered on record: their keys' current
    // markers, if made since the run began.
    for (name, body) in place.read_many(run, &intents).await {
        let body = body.map_err(|e| e.to_string())?.unwrap_or_default();
        let batches = crate::intents::batches_of(&name, &body)?;
        for k in batches
            .into_iter()
            .filter(|b| !answered.contains(&b.n))
            .flat_map(|b| b.keys)
        {
            markers
                .entry(k.deployment)
                .or_default()
                .push(MarkerToRemove {
                    key: k.key,
                    version_id: None,
                    not_before: Some(not_before),
                });
        }
    }
    Ok(Some(RunToRestore { record, markers }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use bucket::NewMarker;

    fn record() -> Record {
        Record::begin("ci@here", "cli", "site", "", Utc::now())
    }

    #[test]
    fn an_end_record_carries_its_answers_and_reads_as_a_plain_record_too() {
        let id = DeploymentId::new("d1").unwrap();
        let marker = NewMarker {
            key: "d1/index.html".into(),
            version_id: "v1".into(),
        };
        let end = EndPart {
            record: record(),
            answers: vec![EndAnswer {
                n: 3,
                outcome: BatchOutcome {
                    markers: vec![(id, marker.clone())],
                    failed: Vec::new(),
                },
            }],
        };
        let json = end.to_json().unwrap();
        let back = EndPart::from_json(&json).unwrap();
        assert_eq!(back.record.who, "ci@here");
        assert_eq!(back.answers.len(), 1);
        assert_eq!(back.answers[0].n, 3);
        assert_eq!(back.answers[0].outcome.markers[0].1, marker);
        // A reader of the record alone (an older s3-prune) skips the answers.
        let plain: Record = serde_json::from_slice(&json).unwrap();
        assert_eq!(plain.who, "ci@here");
    }

    #[test]
    fn an_end_record_without_answers_is_written_as_before_and_read_with_none() {
        let json = serde_json::to_vec(&record()).unwrap();
        assert!(EndPart::from_json(&json).unwrap().answers.is_empty());
        let end = EndPart {
            record: record(),
            answers: Vec::new(),
        };
        let written: serde_json::Value = serde_json::from_slice(&end.to_json().unwrap()).unwrap();
        assert!(written.get("answers").is_none(), "{written}");
    }
}
