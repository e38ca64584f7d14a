//! A plan's view of a deployment, and deleting with it: what the tests share.

use bucket::{Deletion, Progress};
use retention::{DeploymentId, Doomed};
use std::sync::Arc;

pub fn id(s: &str) -> DeploymentId {
    DeploymentId::new(s).unwrap()
}

/// A deployment to delete whole: its plan saw everything up to a minute from now.
/// A plan's view that nothing in these tests can have outgrown (any count, any date up to a
/// minute from now): they are about deleting; changes since the plan have their own tests.
pub fn doomed(s: &str) -> Doomed {
    Doomed {
        id: id(s),
        objects: u64::MAX,
        bytes: 0,
        newest: chrono::Utc::now() + chrono::Duration::minutes(1),
    }
}

pub fn mode(purge: bool) -> Deletion {
    if purge {
        Deletion::Purge
    } else {
        Deletion::Plain
    }
}

pub async fn delete(b: &bucket::Bucket, ids: &[&str], purge: bool) -> bucket::DeleteReport {
    let ids: Vec<_> = ids.iter().map(|s| doomed(s)).collect();
    b.delete_deployments(&ids, mode(purge), 8, Arc::new(Progress::default()))
        .await
}
