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
    /// The deployment's lifecycle handover, withdrawn (or why it could not be).
    pub handovers: Handovers,
}

/// Pins `id` (with `pin`'s reason, who and when) or, with `None`, unpins it.
pub async fn set_pin(
    bucket: &Bucket,
    id: &DeploymentId,
    pin: Option<Pin>,
) -> Result<PinChange, S3Error> {
    let pinning = pin.is_some();
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
        handovers,
    })
}
