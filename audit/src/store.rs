//! The local audit log: one SQLite file per machine (`--audit-db`, default
//! `~/.local/share/s3-prune/audit.sqlite`) holding each run's record as JSON, numbered in the
//! order runs took their lease. Every run is also in the bucket's journal; this file is the
//! machine's own copy (record numbers, older runs from before the journal).

use crate::Record;
use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("audit log {path}: {source}")]
    Db {
        path: String,
        source: rusqlite::Error,
    },
    #[error("audit log {path}: cannot create its folder: {source}")]
    Dir {
        path: String,
        source: std::io::Error,
    },
}

pub struct AuditLog {
    path: PathBuf,
    conn: Mutex<Connection>,
}

/// `$XDG_DATA_HOME/s3-prune/audit.sqlite`, else `~/.local/share/s3-prune/audit.sqlite`.
pub fn default_path() -> PathBuf {
    let base = std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
        .unwrap_or_else(|| PathBuf::from("."));
    base.join("s3-prune").join("audit.sqlite")
}

impl std::fmt::Debug for AuditLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditLog")
            .field("path", &self.path)
            .finish()
    }
}

impl AuditLog {
    pub fn open(path: &Path) -> Result<Self, AuditError> {
        let p = path.display().to_string();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| AuditError::Dir {
                path: p.clone(),
                source,
            })?;
        }
        let db = |source| AuditError::Db {
            path: p.clone(),
            source,
        };
        let conn = Connection::open(path).map_err(db)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(db)?;
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS runs (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                started_at TEXT NOT NULL,
                who TEXT NOT NULL,
                source TEXT NOT NULL,
                bucket TEXT NOT NULL,
                prefix TEXT NOT NULL,
                record TEXT NOT NULL
            );
            CREATE INDEX IF NOT EXISTS runs_bucket ON runs(bucket, started_at);",
        )
        .map_err(db)?;
        Ok(AuditLog {
            path: path.to_path_buf(),
            conn: Mutex::new(conn),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn db(&self, source: rusqlite::Error) -> AuditError {
        AuditError::Db {
            path: self.path.display().to_string(),
            source,
        }
    }

    /// Stores a record and returns it with its id.
    pub fn append(&self, mut record: Record) -> Result<Record, AuditError> {
        let conn = self.conn.lock().unwrap_or_else(|e| e.into_inner());
        let json = serde_json::to_string(&record).expect("records serialize");
        conn.execute(
            "INSERT INTO runs (started_at, who, source, bucket, prefix, record) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![record.started_at.to_rfc3339(), record.who, record.source, record.bucket, record.prefix, json],
        )
        .map_err(|e| self.db(e))?;
        record.id = Some(conn.last_insert_rowid());
        Ok(record)
    }

    /// Rewrites a stored record (the same id): how a `started` row is completed.
    pub fn update(&self, record: &Record) -> Result<(), AuditError> {
        let Some(id) = record.id else {
            return self.append(record.clone()).map(|_| ());
        };
        let conn = self.conn.lock().unwrap_or_else(|e| e.into_inner());
        let json = serde_json::to_string(record).expect("records serialize");
        conn.execute(
            "UPDATE runs SET record = ?1 WHERE id = ?2",
            params![json, id],
        )
        .map_err(|e| self.db(e))?;
        Ok(())
    }

    /// The newest runs first.
    pub fn list(&self, limit: usize) -> Result<Vec<Record>, AuditError> {
        self.list_before(None, limit)
    }

    /// The newest `limit` runs that began at or before `by` (all with `None`), newest first by
    /// start (then record number): a page of history further back. Record numbers are not in
    /// start order (an apply is numbered once its lease is taken), so the start times are read
    /// first, and only the records of the page after.
    pub fn list_before(
        &self,
        by: Option<DateTime<Utc>>,
        limit: usize,
    ) -> Result<Vec<Record>, AuditError> {
        self.list_where(None, by, limit)
    }

    /// [`AuditLog::list_before`], of the runs of `bucket` under `prefix` only: a bucket's newest
    /// runs, however many other buckets' came after them.
    pub fn list_of_before(
        &self,
        bucket: &str,
        prefix: &str,
        by: Option<DateTime<Utc>>,
        limit: usize,
    ) -> Result<Vec<Record>, AuditError> {
        self.list_where(Some((bucket, prefix)), by, limit)
    }

    fn list_where(
        &self,
        of: Option<(&str, &str)>,
        by: Option<DateTime<Utc>>,
        limit: usize,
    ) -> Result<Vec<Record>, AuditError> {
        let conn = self.conn.lock().unwrap_or_else(|e| e.into_inner());
        let mut starts: Vec<(DateTime<Utc>, i64)> = {
            let mut stmt = conn
                .prepare(match of {
                    None => "SELECT id, started_at FROM runs",
                    Some(_) => "SELECT id, started_at FROM runs WHERE bucket = ?1 AND prefix = ?2",
                })
                .map_err(|e| self.db(e))?;
            let row = |r: &rusqlite::Row| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?));
            let rows = match of {
                None => stmt.query_map([], row),
                Some((bucket, prefix)) => stmt.query_map(params![bucket, prefix], row),
            }
            .map_err(|e| self.db(e))?;
            let mut out = Vec::new();
            for row in rows {
                let (id, at) = row.map_err(|e| self.db(e))?;
                // A start that does not parse sorts last: the row is still listed.
                let at = DateTime::parse_from_rfc3339(&at)
                    .map(|t| t.with_timezone(&Utc))
                    .unwrap_or(DateTime::<Utc>::MIN_UTC);
                if by.is_none_or(|by| at <= by) {
                    out.push((at, id));
                }
            }
            out
        };
        starts.sort_unstable_by(|a, b| b.cmp(a));
        let mut stmt = conn
            .prepare("SELECT record FROM runs WHERE id = ?1")
            .map_err(|e| self.db(e))?;
        let mut out = Vec::new();
        for (_, id) in starts {
            if out.len() == limit {
                break;
            }
            let json: String = stmt
                .query_row(params![id], |r| r.get(0))
                .map_err(|e| self.db(e))?;
            if let Ok(mut rec) = serde_json::from_str::<Record>(&json) {
                rec.id = Some(id);
                out.push(rec);
            }
        }
        Ok(out)
    }

    pub fn get(&self, id: i64) -> Result<Option<Record>, AuditError> {
        let conn = self.conn.lock().unwrap_or_else(|e| e.into_inner());
        let json: Option<String> = conn
            .query_row("SELECT record FROM runs WHERE id = ?1", params![id], |r| {
                r.get(0)
            })
            .optional()
            .map_err(|e| self.db(e))?;
        Ok(json
            .and_then(|j| serde_json::from_str::<Record>(&j).ok())
            .map(|mut r| {
                r.id = Some(id);
                r
            }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{DeletedDeployment, Failure};

    fn record(bucket: &str) -> Record {
        Record {
            id: None,
            who: "alice".into(),
            via: None,
            source: "cli".into(),
            started_at: Utc::now(),
            duration_ms: 12,
            bucket: bucket.into(),
            prefix: String::new(),
            policy: serde_json::json!({"retain": 3}),
            plan_fingerprint: "abc".into(),
            deleted: vec![DeletedDeployment {
                id: "d1".into(),
                objects: 2,
                bytes: 20,
            }],
            deleted_objects: 2,
            deleted_bytes: 20,
            failures: vec![Failure {
                key: "d2/x".into(),
                error: "AccessDenied".into(),
            }],
            status: crate::Status::Failed,
            skipped: vec![],
            markers: vec![],
            restore_of: None,
            restored: vec![],
            expiries: vec![],
            run: None,
            host: None,
            held: vec![],
            partly: vec![],
            changed: vec![],
            undoable: false,
            shortfall: None,
        }
    }

    #[test]
    fn a_started_row_is_completed_in_place_and_old_rows_read_as_finished() {
        let path = std::env::temp_dir().join(format!(
            "s3p-audit-upd-{}-{}.sqlite",
            std::process::id(),
            Utc::now().timestamp_nanos_opt().unwrap()
        ));
        let log = AuditLog::open(&path).unwrap();
        let mut r = record("a");
        r.status = crate::Status::Started;
        let mut r = log.append(r).unwrap();
        r.status = crate::Status::Interrupted;
        log.update(&r).unwrap();
        assert_eq!(log.list(10).unwrap(), vec![r]);
        let old: Record = serde_json::from_str(
            r#"{"who":"a","source":"cli","started_at":"2026-01-01T00:00:00Z","duration_ms":1,
            "bucket":"b","prefix":"","policy":{},"plan_fingerprint":"x","deleted":[],
            "deleted_objects":0,"deleted_bytes":0,"failures":[]}"#,
        )
        .unwrap();
        assert_eq!(old.status, crate::Status::Finished);
        std::fs::remove_file(path).ok();
    }

    #[test]
    fn records_round_trip_newest_first_and_survive_reopening() {
        let dir = std::env::temp_dir().join(format!(
            "s3p-audit-{}-{}",
            std::process::id(),
            Utc::now().timestamp_nanos_opt().unwrap()
        ));
        let path = dir.join("nested").join("audit.sqlite");
        let log = AuditLog::open(&path).unwrap();
        let a = log.append(record("a")).unwrap();
        let b = log.append(record("b")).unwrap();
        assert!(b.id > a.id);
        drop(log);
        let log = AuditLog::open(&path).unwrap();
        let all = log.list(10).unwrap();
        assert_eq!(
            all.iter().map(|r| r.bucket.as_str()).collect::<Vec<_>>(),
            vec!["b", "a"]
        );
        assert_eq!(log.get(a.id.unwrap()).unwrap().unwrap(), a);
        assert!(log.get(999).unwrap().is_none());
        std::fs::remove_dir_all(dir).ok();
    }

    #[test]
    fn a_page_further_back_holds_the_runs_begun_by_its_time_newest_first() {
        let path = std::env::temp_dir().join(format!(
            "s3p-audit-page-{}-{}.sqlite",
            std::process::id(),
            Utc::now().timestamp_nanos_opt().unwrap()
        ));
        let log = AuditLog::open(&path).unwrap();
        let t0 = Utc::now();
        for i in 0..5 {
            let mut r = record(&format!("b{i}"));
            r.started_at = t0 + chrono::TimeDelta::seconds(i);
            log.append(r).unwrap();
        }
        let names = |rs: Vec<Record>| rs.into_iter().map(|r| r.bucket).collect::<Vec<_>>();
        assert_eq!(names(log.list(2).unwrap()), vec!["b4", "b3"]);
        let by = t0 + chrono::TimeDelta::seconds(2);
        assert_eq!(
            names(log.list_before(Some(by), 2).unwrap()),
            vec!["b2", "b1"]
        );
        assert_eq!(
            names(log.list_before(Some(by), 10).unwrap()),
            vec!["b2", "b1", "b0"]
        );
        // Numbered out of start order (an apply numbered once its lease was taken): listed by start.
        let mut late = record("early");
        late.started_at = t0 + chrono::TimeDelta::milliseconds(1500);
        log.append(late).unwrap();
        assert_eq!(
            names(log.list_before(Some(by), 2).unwrap()),
            vec!["b2", "early"]
        );
        let before_all = t0 - chrono::TimeDelta::seconds(1);
        assert!(log.list_before(Some(before_all), 10).unwrap().is_empty());
        std::fs::remove_file(path).ok();
    }

    #[test]
    fn a_buckets_runs_are_listed_however_many_of_other_buckets_came_after() {
        let path = std::env::temp_dir().join(format!(
            "s3p-audit-of-{}-{}.sqlite",
            std::process::id(),
            Utc::now().timestamp_nanos_opt().unwrap()
        ));
        let log = AuditLog::open(&path).unwrap();
        let t0 = Utc::now();
        let mut quiet = record("quiet");
        quiet.started_at = t0;
        log.append(quiet).unwrap();
        let mut other_prefix = record("quiet");
        other_prefix.prefix = "sites/".into();
        other_prefix.started_at = t0 + chrono::TimeDelta::seconds(1);
        log.append(other_prefix).unwrap();
        for i in 0..5 {
            let mut r = record("busy");
            r.started_at = t0 + chrono::TimeDelta::seconds(2 + i);
            log.append(r).unwrap();
        }
        assert!(log.list(5).unwrap().iter().all(|r| r.bucket == "busy"));
        let of = |prefix| log.list_of_before("quiet", prefix, None, 5).unwrap();
        assert_eq!(of("").len(), 1);
        assert_eq!(of("")[0].started_at, t0);
        assert_eq!(of("sites/").len(), 1);
        assert_eq!(log.list_of_before("busy", "", None, 3).unwrap().len(), 3);
        let by = t0 - chrono::TimeDelta::seconds(1);
        assert!(log
            .list_of_before("quiet", "", Some(by), 5)
            .unwrap()
            .is_empty());
        std::fs::remove_file(path).ok();
    }

    #[test]
    fn an_unwritable_path_is_a_clear_error() {
        let err = AuditLog::open(Path::new("/proc/s3-prune/audit.sqlite"))
            .err()
            .unwrap();
        assert!(
            err.to_string()
                .starts_with("audit log /proc/s3-prune/audit.sqlite"),
            "{err}"
        );
    }
}
