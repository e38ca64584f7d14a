//! The front end's own record of a run, beside the bucket's journal: the SQLite audit log (CLI,
//! dashboard) or JSON log lines (the scheduled job, kept by CloudWatch).

use audit::{AuditLog, Record};

/// Where runs are recorded: the SQLite audit log, or JSON log lines for the scheduled job.
pub trait Journal: Send + Sync {
    /// Records a run about to delete; returns the record's id when the journal gives one.
    fn begin(&self, record: &Record) -> Result<Option<i64>, String>;
    /// Completes the record `begin` wrote.
    fn finish(&self, record: &Record) -> Result<(), String>;
    /// The journal run id of record `n`, when this journal numbers its records and that one
    /// was journalled in the bucket too.
    fn run_id(&self, _n: i64) -> Option<String> {
        None
    }
}

impl Journal for AuditLog {
    fn begin(&self, record: &Record) -> Result<Option<i64>, String> {
        self.append(record.clone())
            .map(|r| r.id)
            .map_err(|e| e.to_string())
    }
    fn finish(&self, record: &Record) -> Result<(), String> {
        self.update(record).map_err(|e| e.to_string())
    }
    fn run_id(&self, n: i64) -> Option<String> {
        self.get(n).ok().flatten()?.run
    }
}

/// One JSON log line per step (CloudWatch keeps them for the scheduled job), under the
/// `s3_prune::journal` target so the binary's default filter shows them.
pub struct LogJournal;

impl Journal for LogJournal {
    fn begin(&self, record: &Record) -> Result<Option<i64>, String> {
        let json = serde_json::to_string(record).map_err(|e| e.to_string())?;
        tracing::info!(target: "s3_prune::journal", audit = %json, "apply started");
        Ok(None)
    }
    fn finish(&self, record: &Record) -> Result<(), String> {
        let json = serde_json::to_string(record).map_err(|e| e.to_string())?;
        tracing::info!(target: "s3_prune::journal", audit = %json, "apply finished");
        Ok(())
    }
}
