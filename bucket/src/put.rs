//! Writing objects: only for seeding demo and test buckets, never used by plan or apply.

use crate::{Bucket, S3Error};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{BucketVersioningStatus, VersioningConfiguration};

impl Bucket {
    /// Creates the bucket; an existing bucket of ours is fine.
    pub async fn create(&self) -> Result<(), S3Error> {
        match self.client.create_bucket().bucket(&self.name).send().await {
            Ok(_) => Ok(()),
            Err(e) => match self.err(e, "s3:CreateBucket") {
                S3Error::Service { code, .. }
                    if code == "BucketAlreadyOwnedByYou" || code == "BucketAlreadyExists" =>
                {
                    Ok(())
                }
                other => Err(other),
            },
        }
    }

    pub async fn enable_versioning(&self) -> Result<(), S3Error> {
        self.client
            .put_bucket_versioning()
            .bucket(&self.name)
            .versioning_configuration(
                VersioningConfiguration::builder()
                    .status(BucketVersioningStatus::Enabled)
                    .build(),
            )
            .send()
            .await
            .map_err(|e| self.err(e, "s3:PutBucketVersioning"))?;
        Ok(())
    }

    /// Puts `body` at `key` (relative to the bucket root), with optional user metadata.
    pub async fn put(
        &self,
        key: &str,
        body: Vec<u8>,
        content_type: &str,
        meta: &[(&str, &str)],
    ) -> Result<(), S3Error> {
        let mut req = self
            .client
            .put_object()
            .bucket(&self.name)
            .key(key)
            .content_type(content_type)
            .body(ByteStream::from(body));
        for (k, v) in meta {
            req = req.metadata(*k, *v);
        }
        req.send().await.map_err(|e| self.err(e, "s3:PutObject"))?;
        Ok(())
    }
}
