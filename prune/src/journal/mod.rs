//! The run journal in the bucket, shared by every front end: `<prefix>.s3-prune/runs/<run>/`.
//!
//! A run writes, each part once and never again:
//! 1. `start.json` before the first delete: who, from where, the policy, the plan's fingerprint
//!    and the doomed set; beside it, `folders.json`: the folders it may delete from (its
//!    intent, one for the whole run; see [`FoldersPart`]);
//! 2. `answers-FFFFFF-LLLLLL.json` once S3 answered: the delete markers made and the failures,
//!    of the batches answered within about a second of each other (see `crate::answers`;
//!    `answer-NNNNNN.json`, one per batch, in runs written before 2026-12-05);
//! 3. `end.json` at the end: the run's record (finished, interrupted or failed), with the
//!    answers not yet in a part, or whose part was still being written (the end is written
//!    beside them, not after them; a reader takes each batch's answer from either).
//!
//! Runs written before 2026-12-08 have no `folders.json`: they wrote each batch's keys before
//! sending it (`intents-FFFFFF-LLLLLL.json`, see `crate::intents`), and are read and restored
//! as before.
//!
//! So a run killed at any moment can be restored (its folders are on record before its first
//! delete; what its answers did not record is found there by S3's dates), memory stays bounded
//! (markers go to the bucket in parts), and `history`, the dashboard and `restore` read one
//! truth whichever machine ran it.

use audit::Record;
use bucket::{BatchOutcome, JournalPlace, RunId};
use retention::{DeploymentId, Doomed};
use serde::{Deserialize, Serialize};
use std::sync::Mutex;

mod folders;
mod markers;
mod read;
mod restore_read;
#[cfg(test)]
mod tests;

pub use markers::{FoldersToSearch, MarkerReader, RunMarkers, Unread};
pub use read::{
    history, history_of, holds_lease, mark_running, record, records, records_before, EndedRuns,
    History, RecordsPage, RunSummary, Unreadable,
};
pub use restore_read::{read_run, RunToRestore};

/// The part naming a run's lifecycle handovers ([`RunJournal::handovers`]).
pub(crate) const HANDOVERS: &str = "handovers.json";

/// The part naming the deployments a run is about to hand to S3 lifecycle, written before
/// their rules ([`RunJournal::handing`]).
pub(crate) const HANDING: &str = "handing.json";

/// The part naming the folders a run may delete from, written beside its start
/// ([`RunJournal::folders`]).
pub(crate) const FOLDERS: &str = "folders.json";

/// `folders.json`: the run's intent, once for the whole run. Every delete it sends is of a key
/// in one of these deployments' folders; a restore of the run when killed (no `end.json`) finds
/// what it deleted there: the keys whose current version is a delete marker S3 made since the
/// run began (and before the next run of the bucket began). One write before the first delete
/// in place of one per batch: the journal's writes no longer queue beside the deletes
/// (BENCHMARKS.md, "the journal's share"). A reader that does not know this part refuses to
/// restore the run rather than find nothing to restore.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct FoldersPart {
    pub(crate) folders: Vec<DeploymentId>,
}

/// `handovers.json` and `handing.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Handovers {
    pub(crate) handovers: Vec<audit::Expiry>,
}

/// `start.json`: the run's record as it began, and what it was to delete.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StartPart {
    pub record: Record,
    pub doomed: Vec<Doomed>,
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
    pub(super) fn to_json(&self) -> Result<Vec<u8>, serde_json::Error> {
        let mut end = serde_json::to_value(&self.record)?;
        if let (Some(fields), false) = (end.as_object_mut(), self.answers.is_empty()) {
            fields.insert("answers".into(), serde_json::to_value(&self.answers)?);
        }
        serde_json::to_vec(&end)
    }

    pub(super) fn from_json(body: &[u8]) -> Result<EndPart, serde_json::Error> {
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

/// The name of a part holding batches `numbers` (intents or answers): `KIND-FFFFFF-LLLLLL.json`,
/// the first and last of them, so a reader can tell from the name which batches it may hold.
pub(crate) fn numbered_part(kind: &str, numbers: impl IntoIterator<Item = u64>) -> String {
    let mut numbers = numbers.into_iter();
    let first = numbers.next().unwrap_or(0);
    let (first, last) = numbers.fold((first, first), |(lo, hi), n| (lo.min(n), hi.max(n)));
    format!("{kind}-{first:06}-{last:06}.json")
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

    /// `handing.json`: the deployments this run is about to hand to S3 lifecycle expiration,
    /// before their rules are written: a run killed while they are on their way (or while S3
    /// settles, before `handovers.json`) is restored rule and all.
    pub(crate) async fn handing(&self, expiries: &[audit::Expiry]) -> Result<(), String> {
        self.write(
            HANDING,
            &Handovers {
                handovers: expiries.to_vec(),
            },
        )
        .await
    }

    /// `handovers.json`: the deployments this run handed to S3 lifecycle expiration, once their
    /// rules are written, so a run killed before its end can be restored (its rules withdrawn).
    pub(crate) async fn handovers(&self, expiries: &[audit::Expiry]) -> Result<(), String> {
        self.write(
            HANDOVERS,
            &Handovers {
                handovers: expiries.to_vec(),
            },
        )
        .await
    }

    pub(crate) async fn write<T: Serialize>(&self, part: &str, value: &T) -> Result<(), String> {
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

    /// `folders.json`: the folders of `doomed`, before the first delete ([`FoldersPart`]).
    pub(crate) async fn folders(&self, doomed: &[Doomed]) -> Result<(), String> {
        let part = FoldersPart {
            folders: doomed.iter().map(|d| d.id.clone()).collect(),
        };
        self.write(FOLDERS, &part).await
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
