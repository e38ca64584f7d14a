//! Pins, as every front end sets them: stored in the bucket (`<prefix>.s3-prune/pins.json`),
//! and a pinned deployment's S3 lifecycle handover, if it has one, is withdrawn at once (the
//! rule would expire a folder that is meant to stay).

use crate::expire::{reconcile, Handovers};
use bucket::{Bucket, S3Error};
use retention::{DeploymentId, Pin};

/// What a pin change did.
#[derive(Debug, Clone)]
pub struct PinChange {
    /// Pins stored now.
    pub pins: usize,
    /// False for an unpin of an id that was not pinned (nothing written).
    pub changed: bool,
    /// The deployment's lifecycle handover, withdrawn (or why it could not be).
    pub handovers: Handovers,
}

/// Why a pin change was refused; nothing was changed.
#[derive(Debug, thiserror::Error)]
pub enum PinError {
    /// A pin on a folder that is not there protects nothing: a typo would leave the deployment
    /// meant to stay unpinned, silently.
    #[error("no deployment '{id}' in {place}: nothing pinned (check the id against the plan's list of deployments)")]
    NoSuchDeployment { id: DeploymentId, place: String },
    #[error(transparent)]
    S3(#[from] S3Error),
}

/// Pins `id` (with `pin`'s reason, who and when) or, with `None`, unpins it. A deployment that
/// is not in the bucket cannot be pinned; unpinning one that is not pinned changes nothing.
pub async fn set_pin(
    bucket: &Bucket,
    id: &DeploymentId,
    pin: Option<Pin>,
) -> Result<PinChange, PinError> {
    let pinning = pin.is_some();
    if pinning && bucket.folder_is_empty(id).await? {
        return Err(PinError::NoSuchDeployment {
            id: id.clone(),
            place: bucket.url(),
        });
    }
    if !pinning {
        let stored = bucket.read_pins().await?;
        if !stored.iter().any(|p| &p.id == id) {
            // Nothing to undo: said, and not an error (an unpin in a script is idempotent).
            return Ok(PinChange {
                pins: stored.len(),
                changed: false,
                handovers: Handovers::default(),
            });
        }
    }
    let pins = bucket
        .update_pins(|pins| {
            pins.retain(|p| &p.id != id);
            pins.extend(pin.clone());
        })
        .await?;
    let handovers = if pinning {
        reconcile(bucket, |rule| {
            (&rule.id == id).then(|| "pinned".to_string())
        })
        .await
    } else {
        Handovers::default()
    };
    Ok(PinChange {
        pins: pins.len(),
        changed: true,
        handovers,
    })
}
