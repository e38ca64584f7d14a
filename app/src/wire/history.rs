//! What the History page is sent: a page of run summaries (one line each, never a run's lists
//! of deployments, failures or markers), where the next page starts, what could not be read;
//! and one run's details when its row is opened.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Runs are listed newest first by (start, key); a page further back starts after this one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageStart {
    pub after_started: DateTime<Utc>,
    pub after_key: String,
}

/// One page of History.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HistoryPage {
    pub runs: Vec<RunRow>,
    /// Where the next page (older runs) starts; `None` when there is none.
    pub next: Option<PageStart>,
    /// Objects under a journal's `runs/` that are no readable run: listed, never fatal.
    pub unreadable: Vec<UnreadableRun>,
}

/// One run, as its History row shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRow {
    /// What names the run across pages: its journal run id, or `#N` for a record of this
    /// server's log from before runs were journalled.
    pub key: String,
    /// How the page names it: `#N` in this server's audit log, else its run id.
    pub label: String,
    /// What restore and the details are given: the record number, or the run id.
    pub handle: String,
    pub started_at: DateTime<Utc>,
    pub who: String,
    pub source: String,
    pub bucket: String,
    pub prefix: String,
    pub status: String,
    pub deployments: u64,
    pub objects: u64,
    pub bytes: u64,
    pub failures: u64,
    pub plan: String,
    pub restorable: bool,
    /// What the Undo column says instead of "can be restored" (the undo window passed).
    #[serde(default)]
    pub undo_note: Option<String>,
    /// A restore: the run it undid, as this page names it (`#N` of this server's log, a run
    /// id, or `#N on HOST` for another machine's record number).
    pub restore_of: Option<String>,
    /// A restore: the `key` of the run it undid, where that is known.
    pub undid: Option<String>,
}

/// A name under a journal's `runs/` that is no readable run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UnreadableRun {
    /// The journal it is in (`s3://…/runs/`).
    pub journal: String,
    pub name: String,
    pub problem: String,
}

/// What a History row shows once opened.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunDetails {
    pub policy: String,
    pub duration_ms: u64,
    pub host: Option<String>,
    /// `id (N objects, size)` per deployment deleted (a restore: brought back), at most
    /// [`RunDetails::SHOWN`].
    pub deployments: Vec<String>,
    /// `key: error` per failure, at most [`RunDetails::SHOWN`].
    pub failures: Vec<String>,
    /// Deployments and failures beyond those shown.
    pub not_shown: u64,
    /// Where the run's whole record is read.
    pub whole_record: String,
}

impl RunDetails {
    /// Lines of each list a row shows.
    pub const SHOWN: usize = 200;
}
