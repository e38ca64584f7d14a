//! The S3 side of s3-prune: connect, scan a bucket into deployments, delete deployments.
//!
//! Every S3 request the product makes lives in this crate. What to delete is decided elsewhere
//! (the `retention` crate); this crate only lists, counts and deletes exactly what it is given.

mod agg;
mod connect;
mod dates;
mod delete;
mod error;
mod expire;
pub mod inventory;
mod journal;
mod lease;
mod lifecycle;
mod lifecycle_config;
pub use lifecycle_config::LifecycleConfig;
mod live_from;
mod live_history;
pub use live_history::{PointerRead, PointerSince};
mod meta;
mod pages;
pub use pages::TopLevel;
mod pins;
mod put;
mod restore;
mod scan;
mod server_clock;
mod state;

pub use connect::{connect, Connect, Target};
pub use dates::{DatesAhead, DatesUpdate, Scanned};
pub use delete::{
    BatchKey, BatchOutcome, ChangedSincePlan, DeleteReport, Deletion, DeploymentOutcome,
    KeyFailure, LeftOver, NewMarker, NewerKey, Progress, Unwatched, Watch,
};
pub use error::S3Error;
pub use expire::{Expiry, Handed, RuleWritten, EXPIRE_RULE, LIFECYCLE_RULES_MAX};
pub use journal::{JournalLocation, JournalPlace, RunId, RunPart};
pub use lease::{pid_namespace, Lease, LeaseError, LeaseHolder, LeaseReading, LeaseTask, LEASE};
pub use lifecycle::{undo_rule_id, UndoWindow, UndoWindowSet};
pub use live_from::referenced_ids;
pub use restore::{
    LeftMarker, MadeBetween, MarkerToRemove, RestoreOutcome, RestoreReport, Restoring,
};
pub use scan::ScanOptions;
pub use server_clock::ClockSkew;
pub use state::RESERVED;

use aws_sdk_s3::Client;
use retention::DeploymentId;

/// The IAM actions the scheduled job needs on the bucket itself (`arn:aws:s3:::BUCKET`).
/// `deploy/terraform` grants exactly these; a test checks it.
pub const IAM_BUCKET_ACTIONS: &[&str] = &[
    "s3:ListBucket",
    "s3:ListBucketVersions",
    "s3:GetBucketVersioning",
    // Every scan compares s3-prune's expiration rules with its plan (`prune::expire`): a kept
    // folder handed over earlier has its rule withdrawn, or the run fails saying S3 will expire it.
    "s3:GetLifecycleConfiguration",
];

/// The IAM actions the scheduled job needs on objects (`arn:aws:s3:::BUCKET/PREFIX*`): HeadObject
/// and GetObject for `meta:` dates, the live pointer and the pins file; PutObject for the run
/// journal and the lease (`<prefix>.s3-prune/runs/`, `<prefix>.s3-prune/lease`); deletes;
/// GetObjectVersion for the live pointer's earlier versions (the live grace).
pub const IAM_OBJECT_ACTIONS: &[&str] = &[
    "s3:GetObject",
    "s3:PutObject",
    "s3:DeleteObject",
    "s3:DeleteObjectVersion",
    "s3:GetObjectVersion",
];

/// The IAM actions `--via-lifecycle` (and the scheduled job's `S3_PRUNE_VIA_LIFECYCLE`) adds, on
/// the bucket.
pub const IAM_LIFECYCLE_ACTIONS: &[&str] = &[
    "s3:GetLifecycleConfiguration",
    "s3:PutLifecycleConfiguration",
];

/// The IAM actions planning from an S3 Inventory report adds, on the reports' location: list
/// it (to find a configuration's newest report) and read the manifest and data files.
pub const IAM_INVENTORY_ACTIONS: &[&str] = &["s3:ListBucket", "s3:GetObject"];

/// The IAM actions a journal kept in an audit bucket (`--journal`) needs there: list the runs,
/// write and read their parts. Never a delete.
pub const IAM_JOURNAL_ACTIONS: &[&str] = &["s3:ListBucket", "s3:PutObject", "s3:GetObject"];

/// A bucket and the prefix its deployments live under.
#[derive(Clone, Debug)]
pub struct Bucket {
    client: Client,
    name: String,
    prefix: String,
    endpoint: String,
    /// `meta:` values read so far, shared by the clones of this bucket (the dashboard's rescans).
    meta_cache: meta::MetaCache,
    /// Where its runs are journalled when not beside the deployments (`Connect::journal`).
    journal: Option<std::sync::Arc<JournalPlace>>,
    /// A lifecycle write S3 took and did not show yet (`lifecycle_config`), shared by clones.
    lifecycle_pending: lifecycle_config::PendingWrite,
}

impl Bucket {
    /// Another bucket at the same endpoint with the same credentials, no prefix (the inventory
    /// reports', the audit journal's).
    pub(crate) fn sibling(&self, name: &str) -> Bucket {
        Bucket {
            client: self.client.clone(),
            name: name.to_string(),
            prefix: String::new(),
            endpoint: self.endpoint.clone(),
            meta_cache: Default::default(),
            journal: None,
            lifecycle_pending: Default::default(),
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }
    /// Normalised: empty, or ending in `/`.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }
    /// `s3://NAME/PREFIX`: the bucket and prefix as messages and records name them.
    pub fn url(&self) -> String {
        format!("s3://{}/{}", self.name, self.prefix)
    }
    /// Where requests go, for messages.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }
    /// The key prefix that holds exactly one deployment's objects.
    pub fn deployment_prefix(&self, id: &DeploymentId) -> String {
        format!("{}{}/", self.prefix, id)
    }
    /// The raw client, for test fixtures and the demo seeder; product code goes through methods.
    pub fn client(&self) -> &Client {
        &self.client
    }
}

/// Checks a bucket name before any request so a typo gets a clear message, not an HTTP error.
/// Accepts today's rules and the legacy us-east-1 names (uppercase, `_`, up to 255).
pub fn validate_bucket_name(name: &str) -> Result<(), S3Error> {
    let bad = |why: &str| {
        Err(S3Error::InvalidBucketName {
            name: name.to_string(),
            why: why.to_string(),
        })
    };
    if let Some(bare) = name.strip_prefix("s3://") {
        return bad(&format!("write {bare}, not s3://{bare}"));
    }
    // One sentence for every fault: what a name may be.
    const RULES: &str = "a bucket name has 3 to 63 characters (older us-east-1 names up to \
                         255): letters, digits, '.' and '-' ('_' in older names), starting and \
                         ending with a letter or digit";
    let chars_ok = name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
    if !chars_ok {
        return bad(&format!(
            "{RULES}; a prefix goes in --prefix, not in the name"
        ));
    }
    let ends_ok = name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.ends_with(|c: char| c.is_ascii_alphanumeric());
    if name.len() < 3 || name.len() > 255 || !ends_ok {
        return bad(RULES);
    }
    Ok(())
}

/// `sites` and `sites/` both mean the folder `sites/`; a bare `sites` would also match `sites-old/`.
pub fn normalize_prefix(prefix: &str) -> String {
    let p = prefix.trim_start_matches('/');
    if p.is_empty() || p.ends_with('/') {
        p.to_string()
    } else {
        format!("{p}/")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_names() {
        assert!(validate_bucket_name("demo-bucket.1").is_ok());
        assert!(validate_bucket_name("ab").is_err());
        assert!(validate_bucket_name("my bucket").is_err());
        assert!(validate_bucket_name("bucket/prefix").is_err());
        assert!(validate_bucket_name("-bucket").is_err());
        assert!(validate_bucket_name(&"a".repeat(256)).is_err());
        let said = |n: &str| validate_bucket_name(n).unwrap_err().to_string();
        assert!(said("s3://my-bucket").contains("write my-bucket, not s3://my-bucket"));
        assert!(said("ab").contains("older us-east-1 names up to 255"));
        assert!(said("my bucket").contains("'_' in older names"));
    }

    #[test]
    fn prefixes() {
        assert_eq!(normalize_prefix(""), "");
        assert_eq!(normalize_prefix("sites"), "sites/");
        assert_eq!(normalize_prefix("sites/"), "sites/");
        assert_eq!(normalize_prefix("/a/b"), "a/b/");
    }
}

/// Test support shared by the integration tests of this crate and of the binary.
#[doc(hidden)]
pub mod testkit;
