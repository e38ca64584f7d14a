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

/// One apply run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// Set when stored.
    #[serde(default)]
    pub id: Option<i64>,
    /// Session user, OS user or Lambda ARN.
    pub who: String,
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
}
