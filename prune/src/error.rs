//! What can stop the engine before or while it deletes.

use crate::{Refusal, SpecError};
use bucket::S3Error;

#[derive(Debug, thiserror::Error)]
pub enum PruneError {
    #[error(transparent)]
    S3(#[from] S3Error),
    #[error(transparent)]
    Refused(#[from] Refusal),
    #[error(transparent)]
    Spec(#[from] SpecError),
    /// No record, no deletion.
    #[error("the audit record could not be written before deleting, so nothing was deleted: {0}")]
    Journal(String),
}
