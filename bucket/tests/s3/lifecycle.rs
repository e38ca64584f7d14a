//! Handing deployments to S3 lifecycle expiration edits the bucket's lifecycle configuration
//! and loses nothing of the user's: every field survives, and a configuration changed since it
//! was read is not overwritten.

use crate::common::id;
use aws_sdk_s3::types::{
    BucketLifecycleConfiguration, ExpirationStatus, LifecycleExpiration, LifecycleRule,
    LifecycleRuleFilter, TransitionDefaultMinimumObjectSize,
};
use bucket::testkit::fresh_bucket;
use bucket::S3Error;

fn logs_rule() -> LifecycleRule {
    LifecycleRule::builder()
        .id("keep-logs")
        .status(ExpirationStatus::Enabled)
        .filter(LifecycleRuleFilter::builder().prefix("logs/").build())
        .expiration(LifecycleExpiration::builder().days(30).build())
        .build()
        .unwrap()
}

async fn put_config(b: &bucket::Bucket, rules: Vec<LifecycleRule>) {
    b.client()
        .put_bucket_lifecycle_configuration()
        .bucket(b.name())
        .lifecycle_configuration(
            BucketLifecycleConfiguration::builder()
                .set_rules(Some(rules))
                .build()
                .unwrap(),
        )
        .transition_default_minimum_object_size(
            TransitionDefaultMinimumObjectSize::VariesByStorageClass,
        )
        .send()
        .await
        .unwrap();
}

async fn min_size(b: &bucket::Bucket) -> Option<TransitionDefaultMinimumObjectSize> {
    b.client()
        .get_bucket_lifecycle_configuration()
        .bucket(b.name())
        .send()
        .await
        .unwrap()
        .transition_default_minimum_object_size()
        .cloned()
}

#[tokio::test]
async fn every_field_of_the_users_configuration_survives_s3_prunes_edits() {
    let b = fresh_bucket("lc-roundtrip").await;
    put_config(&b, vec![logs_rule()]).await;
    let set = Some(TransitionDefaultMinimumObjectSize::VariesByStorageClass);
    assert_eq!(min_size(&b).await, set, "the server keeps the field");
    b.expire_by_lifecycle(&[id("big")], chrono::Utc::now().date_naive())
        .await
        .unwrap();
    assert_eq!(min_size(&b).await, set, "a handover does not reset it");
    b.withdraw_expiries(&[id("big")]).await.unwrap();
    assert_eq!(min_size(&b).await, set, "a withdrawal does not reset it");
    let seen = b.read_lifecycle().await.unwrap();
    assert_eq!(
        seen.rules,
        vec![logs_rule()],
        "and the user's rule is as it was"
    );
}

#[tokio::test]
async fn a_configuration_changed_since_it_was_read_is_not_overwritten() {
    let b = fresh_bucket("lc-concurrent").await;
    put_config(&b, vec![logs_rule()]).await;
    let seen = b.read_lifecycle().await.unwrap();
    // Meanwhile someone (the console, Terraform) adds a rule.
    let theirs = LifecycleRule::builder()
        .id("archive")
        .status(ExpirationStatus::Enabled)
        .filter(LifecycleRuleFilter::builder().prefix("archive/").build())
        .expiration(LifecycleExpiration::builder().days(400).build())
        .build()
        .unwrap();
    put_config(&b, vec![logs_rule(), theirs.clone()]).await;
    let err = b.write_lifecycle(&seen, vec![]).await.unwrap_err();
    assert!(
        matches!(err, S3Error::LifecycleChanged { .. }),
        "refused: {err}"
    );
    let now = b.read_lifecycle().await.unwrap();
    assert_eq!(now.rules, vec![logs_rule(), theirs], "their edit stands");
}
