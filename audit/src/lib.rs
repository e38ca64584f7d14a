//! Every apply on record: who, when, which bucket and policy, what was deleted, what failed.
//! Stored in an embedded SQLite file so a team can answer "what deleted this?" later.
//! No S3 and no policy here: callers hand over finished records.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[cfg(feature = "store")]
mod store;
#[cfg(feature = "store")]
pub use store::{default_path, AuditError, AuditLog};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeletedDeployment {
    pub id: String,
    pub objects: u64,
    pub bytes: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failure {
    pub key: String,
    pub error: String,
}

/// A key apply left alone because it is newer than the plan (published after it was made).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Skipped {
    pub key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_id: Option<String>,
    pub last_modified: DateTime<Utc>,
}

/// A deployment handed to S3 lifecycle expiration (`apply --via-lifecycle`), or one such
/// handover checked again by a later run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Expiry {
    pub deployment: String,
    /// The lifecycle rule's id.
    pub rule: String,
    pub state: ExpiryState,
    /// The day the rule was written, when known.
    #[serde(default)]
    pub since: Option<chrono::NaiveDate>,
    /// Why it was withdrawn (the deployment's verdict now).
    #[serde(default)]
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ExpiryState {
    /// This run wrote the rule: S3 expires the folder within a day or two.
    Handed,
    /// A rule of an earlier run: S3 has not finished with the folder yet.
    Pending,
    /// A rule of an earlier run whose folder is now empty: removed.
    Finished,
    /// A rule of an earlier run whose folder is kept now (pinned, live, re-deployed, a changed
    /// policy): removed before S3 expired it.
    Withdrawn,
}

impl std::fmt::Display for Expiry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let d = &self.deployment;
        match self.state {
            ExpiryState::Handed => write!(
                f,
                "{d}: handed to S3 lifecycle (rule '{}'); S3 expires it within a day or two",
                self.rule
            ),
            ExpiryState::Pending => write!(
                f,
                "{d}: S3 lifecycle is still expiring it (rule '{}')",
                self.rule
            ),
            ExpiryState::Finished => write!(
                f,
                "{d}: expired by S3 lifecycle; rule '{}' removed",
                self.rule
            ),
            ExpiryState::Withdrawn => write!(
                f,
                "{d}: kept now ({}), so its S3 lifecycle rule '{}' was removed (S3 may have expired part of it already)",
                self.reason.as_deref().unwrap_or("no longer doomed"),
                self.rule
            ),
        }
    }
}

/// A deployment the plan doomed that a run left untouched: checked again just before its keys
/// would go, it had been pinned, or had gone live.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Held {
    pub deployment: String,
    pub reason: String,
}

/// A deployment the plan doomed that a run left whole because its fresh listing differed from
/// the plan's view of it (re-deployed or restored since): the reason says what was new.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Changed {
    pub deployment: String,
    pub reason: String,
}

/// A doomed deployment a run deleted only some of: the run stopped before the rest was sent,
/// some of its keys failed, or keys newer than its listing were left. What is left is named by
/// the run's failures and skipped keys, or by nothing when it stopped: a re-run deletes the
/// rest (and on a versioned bucket `restore` brings back what was deleted).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Partly {
    pub deployment: String,
    /// Objects deleted, of `listed`.
    pub deleted: u64,
    pub listed: u64,
    pub reason: String,
}

impl Partly {
    /// `partly deleted (1000 of 1500 objects), <why>`, as the dashboard's report and History
    /// say it.
    pub fn what(&self) -> String {
        format!(
            "partly deleted ({} of {} objects), {}",
            self.deleted, self.listed, self.reason
        )
    }
}

/// A delete marker a run's delete created on a versioned bucket: removing it brings the object
/// back with its content (see `s3-prune restore`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Marker {
    pub deployment: String,
    pub key: String,
    pub version_id: String,
}

/// Where a run stands. A record is written `Started` before the first delete and completed
/// after, so a run that dies mid-way still leaves a row that says so.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Deleting began and no outcome was written: the process died (SIGKILL, Lambda timeout).
    Started,
    /// Every doomed object was deleted.
    #[default]
    Finished,
    /// Stopped on request (SIGINT/SIGTERM, shutdown): no new batches after the stop.
    Interrupted,
    /// Ended with objects that could not be deleted, or were skipped as newer than the plan.
    Failed,
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Status::Started => "started",
            Status::Finished => "finished",
            Status::Interrupted => "interrupted",
            Status::Failed => "failed",
        })
    }
}

/// One apply run: the report every front end prints (`--json`, the Lambda response, the
/// dashboard) and the row the audit log keeps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// Set when stored.
    #[serde(default)]
    pub id: Option<i64>,
    /// Session user, OS user or Lambda ARN.
    pub who: String,
    /// How the dashboard's user signed in (`oidc`, `token`, `proxy`); none for the CLI and the
    /// scheduled job.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub via: Option<String>,
    /// `cli`, `dashboard` or `lambda`.
    pub source: String,
    pub started_at: DateTime<Utc>,
    pub duration_ms: u64,
    pub bucket: String,
    pub prefix: String,
    /// The policy as JSON, exactly as planned.
    pub policy: serde_json::Value,
    /// Fingerprint of the plan's deletion set.
    pub plan_fingerprint: String,
    pub deleted: Vec<DeletedDeployment>,
    pub deleted_objects: u64,
    pub deleted_bytes: u64,
    pub failures: Vec<Failure>,
    /// Records written before runs were journalled have no status: they were finished.
    #[serde(default)]
    pub status: Status,
    /// Keys newer than the plan, left in place.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skipped: Vec<Skipped>,
    /// The delete markers this run made (versioning enabled, no purge): what a restore removes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub markers: Vec<Marker>,
    /// Set on a restore's own record: the run it restored. Its `deleted` then lists nothing and
    /// `restored` the deployments brought back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restore_of: Option<i64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub restored: Vec<DeletedDeployment>,
    /// Deployments handed to S3 lifecycle expiration, and earlier handovers checked.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub expiries: Vec<Expiry>,
    /// The run's id in the bucket's journal (`<prefix>.s3-prune/runs/<run>/`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run: Option<String>,
    /// The machine it ran on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// Doomed deployments left untouched because they were pinned or went live mid-run.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub held: Vec<Held>,
    /// Doomed deployments left whole because they changed since the plan.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub changed: Vec<Changed>,
    /// Doomed deployments only partly deleted (not in `deleted`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub partly: Vec<Partly>,
    /// Its deletes left delete markers, recorded in the bucket's journal (`run`) rather than
    /// in `markers`: `restore` reads them there.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub undoable: bool,
    /// Why this run is no success even if it finishes: its plan shows the policy not kept (no
    /// deployment found, some it cannot rank) or S3 set to expire a folder it keeps. Readers of
    /// the journal (`check`, the dashboard's overview, `/metrics`) count it as no success, as
    /// its front end noted none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shortfall: Option<String>,
}

impl Record {
    /// A run about to start on `bucket`/`prefix`: `started`, nothing done yet. Callers fill in
    /// what they know (the policy, the plan's fingerprint, the run a restore undoes).
    pub fn begin(
        who: &str,
        source: &str,
        bucket: &str,
        prefix: &str,
        started_at: DateTime<Utc>,
    ) -> Record {
        Record {
            id: None,
            who: who.to_string(),
            via: None,
            source: source.to_string(),
            started_at,
            duration_ms: 0,
            bucket: bucket.to_string(),
            prefix: prefix.to_string(),
            policy: serde_json::Value::Null,
            plan_fingerprint: String::new(),
            deleted: Vec::new(),
            deleted_objects: 0,
            deleted_bytes: 0,
            failures: Vec::new(),
            status: Status::Started,
            skipped: Vec::new(),
            markers: Vec::new(),
            restore_of: None,
            restored: Vec::new(),
            expiries: Vec::new(),
            run: None,
            host: None,
            held: Vec::new(),
            partly: Vec::new(),
            changed: Vec::new(),
            undoable: false,
            shortfall: None,
        }
    }

    /// Everything planned was deleted.
    pub fn is_complete(&self) -> bool {
        self.status == Status::Finished
    }

    /// Some doomed deployments changed since the plan and were left whole: plan again.
    pub fn left_changed(&self) -> bool {
        !self.changed.is_empty()
    }

    /// Whether `s3-prune restore` can bring back what this run deleted: it recorded delete
    /// markers (a versioned bucket, no purge) and is not itself a restore.
    pub fn restorable(&self) -> bool {
        !self.is_restore() && (!self.markers.is_empty() || (self.undoable && self.run.is_some()))
    }

    /// Whether this run handed folders to S3 lifecycle expiration: a restore withdraws those
    /// rules (while S3 has not expired the folders yet) even where deletes cannot be undone.
    pub fn handed_over(&self) -> bool {
        !self.is_restore() && self.expiries.iter().any(|e| e.state == ExpiryState::Handed)
    }

    /// A restore's own record: it names the run it undid (by record number in `restore_of`, or
    /// as named, a run id included, in its policy's `restore_of`).
    pub fn is_restore(&self) -> bool {
        self.restore_of.is_some() || self.policy.get("restore_of").is_some()
    }

    /// What the run changed: the deployments an apply deleted, or those a restore brought back.
    pub fn deployments(&self) -> &[DeletedDeployment] {
        if self.is_restore() {
            &self.restored
        } else {
            &self.deleted
        }
    }
}
