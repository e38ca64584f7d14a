//! `apply --via-lifecycle`: a deployment over the threshold is handed to S3 lifecycle
//! expiration (a rule for its folder, merged with the bucket's own rules), smaller ones are
//! deleted by requests as usual, and a later run reports the handover pending, then finished
//! once the folder is empty, removing the spent rule and nothing else.

use crate::common::{json, s3_prune};
use aws_sdk_s3::types::{
    BucketLifecycleConfiguration, ExpirationStatus, LifecycleExpiration, LifecycleRule,
    LifecycleRuleFilter,
};
use bucket::testkit::{all_keys, fresh_bucket, put_many, remove_keys};
use std::time::Duration;

pub(crate) async fn rules(b: &bucket::Bucket) -> Vec<(String, String, Option<i32>)> {
    let out = b
        .client()
        .get_bucket_lifecycle_configuration()
        .bucket(b.name())
        .send()
        .await
        .unwrap();
    let mut r: Vec<_> = out
        .rules()
        .iter()
        .map(|r| {
            (
                r.id().unwrap_or_default().to_string(),
                r.filter()
                    .and_then(|f| f.prefix())
                    .unwrap_or_default()
                    .to_string(),
                r.expiration().and_then(|e| e.days()),
            )
        })
        .collect();
    r.sort();
    r
}

fn apply(b: &str) -> serde_json::Value {
    let out = s3_prune(&[
        "apply",
        b,
        "1",
        "--localstack",
        "--yes",
        "--json",
        "--via-lifecycle",
        "--lifecycle-threshold",
        "2",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    json(&out)
}

pub(crate) fn expiries(v: &serde_json::Value) -> Vec<(String, String)> {
    v["audit"]["expiries"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|e| {
                    (
                        e["deployment"].as_str().unwrap().to_string(),
                        e["state"].as_str().unwrap().to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn a_big_deployment_is_handed_to_lifecycle_and_the_spent_rule_is_removed_later() {
    let b = fresh_bucket("via-lifecycle").await;
    let logs_rule = LifecycleRule::builder()
        .id("keep-logs")
        .status(ExpirationStatus::Enabled)
        .filter(LifecycleRuleFilter::builder().prefix("logs/").build())
        .expiration(LifecycleExpiration::builder().days(30).build())
        .build()
        .unwrap();
    b.client()
        .put_bucket_lifecycle_configuration()
        .bucket(b.name())
        .lifecycle_configuration(
            BucketLifecycleConfiguration::builder()
                .rules(logs_rule)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    put_many(&b, (0..3).map(|k| format!("big/f{k}")), &[]).await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    put_many(&b, ["mid/index.html".to_string()], &[]).await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    put_many(&b, ["new/index.html".to_string()], &[]).await;

    // big (3 objects > 2) is handed over, mid is deleted by requests, new is kept
    let v = apply(b.name());
    assert_eq!(expiries(&v), vec![("big".into(), "handed".into())], "{v}");
    assert_eq!(
        rules(&b).await,
        vec![
            ("keep-logs".into(), "logs/".into(), Some(30)),
            ("s3-prune-expire big/".into(), "big/".into(), Some(1)),
        ],
        "the rule is merged with the bucket's own"
    );
    let keys = all_keys(&b).await;
    assert_eq!(keys, vec!["big/f0", "big/f1", "big/f2", "new/index.html"]);

    // S3 has not expired it yet: the next run says so and hands it over again (same rule)
    let v = apply(b.name());
    assert_eq!(expiries(&v), vec![("big".into(), "handed".into())], "{v}");
    assert_eq!(rules(&b).await.len(), 2);

    // S3 expired the folder (done here by hand): the next run finds it finished and removes
    // only its rule
    remove_keys(&b, (0..3).map(|k| format!("big/f{k}"))).await;
    let v = apply(b.name());
    assert_eq!(expiries(&v), vec![("big".into(), "finished".into())], "{v}");
    assert_eq!(
        rules(&b).await,
        vec![("keep-logs".into(), "logs/".into(), Some(30))]
    );
    assert_eq!(all_keys(&b).await, vec!["new/index.html"]);
}
