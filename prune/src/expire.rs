//! `--via-lifecycle`: doomed deployments too big to delete by requests are handed to S3
//! lifecycle expiration (one rule per folder), and the handovers of earlier runs are checked:
//! finished ones (folder empty) have their rule removed. Anything that cannot be read or
//! written is a failure in the record and the deployments it concerns are left alone.

use audit::{Expiry, ExpiryState, Failure};
use bucket::Bucket;
use retention::Doomed;

/// What the handover decided: the deployments still to delete by requests, the expiries to
/// record, and failures (their deployments are neither deleted nor handed over).
pub(crate) struct Handover {
    pub(crate) by_requests: Vec<Doomed>,
    pub(crate) expiries: Vec<Expiry>,
    pub(crate) failures: Vec<Failure>,
}

pub(crate) async fn hand_over(bucket: &Bucket, doomed: Vec<Doomed>, over: u64) -> Handover {
    let mut out = Handover {
        by_requests: Vec::new(),
        expiries: Vec::new(),
        failures: Vec::new(),
    };
    match bucket.expiry_followup().await {
        Ok(checked) => out.expiries.extend(checked.into_iter().map(|e| Expiry {
            deployment: e.id.to_string(),
            rule: e.rule_id,
            state: if e.finished {
                ExpiryState::Finished
            } else {
                ExpiryState::Pending
            },
        })),
        Err(e) => out.failures.push(Failure {
            key: format!("{}{}", bucket.prefix(), bucket::EXPIRE_RULE.trim_end()),
            error: format!("earlier lifecycle handovers not checked: {e}"),
        }),
    }
    let (big, small): (Vec<Doomed>, Vec<Doomed>) =
        doomed.into_iter().partition(|d| d.objects > over);
    out.by_requests = small;
    let ids: Vec<_> = big.iter().map(|d| d.id.clone()).collect();
    match bucket.expire_by_lifecycle(&ids).await {
        Ok(rules) => {
            // A handover replaces the "pending" line of the same deployment.
            out.expiries
                .retain(|e| !ids.iter().any(|i| i.as_str() == e.deployment));
            out.expiries
                .extend(ids.iter().zip(rules).map(|(id, rule)| Expiry {
                    deployment: id.to_string(),
                    rule,
                    state: ExpiryState::Handed,
                }))
        }
        Err(e) => out.failures.extend(big.iter().map(|d| Failure {
            key: bucket.deployment_prefix(&d.id),
            error: format!("not handed to S3 lifecycle, nothing of it deleted: {e}"),
        })),
    }
    out
}
