//! After the deleting, the deployments deleted whole are looked for once more: objects
//! uploaded into a folder after its keys were listed (while they waited for their batch, or
//! since) are not deleted, so that folder is not gone. Reported as deleted, its leftovers
//! would count at the next plan as a new deployment taking a place among the newest, and the
//! run would say it did what it did not.

use audit::Failure;
use bucket::{Bucket, DeleteReport};
use retention::DeploymentId;

/// Marks each deployment of `report` deleted whole whose folder holds objects now as only
/// partly gone: those objects are its skipped keys (left, newer than its listing). One
/// delimited listing of the bucket's folders ([`Bucket::left_of`]); when it fails, the failure
/// the run's record carries (before, a warning only, and the run ended "finished" unchecked).
pub(super) async fn look_again(bucket: &Bucket, report: &mut DeleteReport) -> Option<Failure> {
    let gone: Vec<DeploymentId> = (report.deployments.iter())
        .filter(|d| d.is_gone())
        .map(|d| d.id.clone())
        .collect();
    if gone.is_empty() {
        return None;
    }
    let left = match bucket.left_of(&gone).await {
        Ok(left) => left,
        Err(e) => {
            tracing::warn!(error = %e, "whether the deployments deleted have objects again could not be listed: not checked");
            return Some(Failure {
                key: bucket.url(),
                error: format!(
                    "whether the deployments deleted have objects again (uploaded after their \
                     keys were listed) could not be listed: {e}; they may be only partly gone — \
                     the next plan shows what is there"
                ),
            });
        }
    };
    for l in left {
        if let Some(d) = report.deployments.iter_mut().find(|d| d.id == l.id) {
            tracing::warn!(deployment = %l.id, keys = l.keys.len(), "objects uploaded into a deployment after its keys were listed are left: it is only partly deleted");
            d.skipped.extend(l.keys);
        }
    }
    None
}
