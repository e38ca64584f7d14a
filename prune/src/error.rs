//! Why an apply did not start: the journal could not record it, or the bucket's lease could
//! not be taken. Either way nothing was deleted.

use bucket::LeaseError;

/// No record, no deletion: the journal could not record the run, so nothing was deleted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the audit record could not be written before deleting, so nothing was deleted: {0}")]
pub struct JournalError(pub String);

/// Why an apply did not start; nothing was deleted.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ApplyError {
    #[error(transparent)]
    Journal(#[from] JournalError),
    /// Another apply holds the bucket's lease (or it could not be taken).
    #[error(transparent)]
    Lease(#[from] LeaseError),
    #[error("the server at {endpoint} ignores conditional writes (a second If-None-Match PUT of the lease succeeded), so it cannot stop two applies at once; --require-lease refuses to apply there. Nothing was deleted")]
    NoConditionalWrites { endpoint: String },
    /// The front ends refuse it first; the engine too, so no front end's plan says "purge"
    /// while its run hands folders to S3 expiration.
    #[error("refusing to apply: handing folders to S3 lifecycle expiration leaves their old versions behind, and this plan purges versions. Nothing was deleted; drop one of the two")]
    LifecycleWithPurge,
}
