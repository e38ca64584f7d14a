//! S3 keeps at most 1,000 lifecycle rules a bucket and refuses a configuration of more whole.
//! A `--via-lifecycle` run hands over only what fits; the rest is left whole, each named with
//! why, and a later run hands it over once there is room again.

use super::{expiries, rules};
use crate::common::{put_seconds_apart, Run};
use aws_sdk_s3::types::{
    BucketLifecycleConfiguration, ExpirationStatus, LifecycleExpiration, LifecycleRule,
    LifecycleRuleFilter,
};
use bucket::testkit::{all_keys, fresh_bucket};

/// The bucket's own rules: `n` of them, each expiring `logs/<i>/` after 30 days.
async fn own_rules(b: &bucket::Bucket, n: usize) {
    let rules = (0..n).map(|i| {
        LifecycleRule::builder()
            .id(format!("logs-{i:04}"))
            .status(ExpirationStatus::Enabled)
            .filter(
                LifecycleRuleFilter::builder()
                    .prefix(format!("logs/{i}/"))
                    .build(),
            )
            .expiration(LifecycleExpiration::builder().days(30).build())
            .build()
            .unwrap()
    });
    b.client()
        .put_bucket_lifecycle_configuration()
        .bucket(b.name())
        .lifecycle_configuration(
            BucketLifecycleConfiguration::builder()
                .set_rules(Some(rules.collect()))
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
}

/// 998 rules of the bucket's own: of three big doomed deployments the two oldest are handed
/// over (zeta, yank: oldest first, not by name) and the newest, xray, is left whole, a failure
/// naming S3's limit; the small one is deleted by requests. Once a handover is spent (its
/// folder expired, its rule removed by the next run), xray goes. Before, all three rules were
/// written at once: on S3 a configuration of 1,001 rules, refused whole, every run — and
/// nothing of the three ever went.
#[tokio::test]
async fn a_handover_takes_only_the_lifecycle_rules_s3_has_room_for() {
    let b = fresh_bucket("lc-room").await;
    own_rules(&b, 998).await;
    put_seconds_apart(
        &b,
        vec![
            (0..3).map(|k| format!("zeta/f{k}")).collect(),
            (0..3).map(|k| format!("yank/f{k}")).collect(),
            (0..3).map(|k| format!("xray/f{k}")).collect(),
            vec!["mid/index.html".into()],
            vec!["new/index.html".into()],
        ],
    )
    .await;
    let apply =
        Run::apply(b.name(), 1).args(&["--via-lifecycle", "--lifecycle-threshold", "2", "--json"]);
    let out = apply.out();
    assert_eq!(
        out.status.code(),
        Some(1),
        "a deployment left whole fails the run"
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut handed = expiries(&v);
    handed.sort();
    assert_eq!(
        handed,
        vec![
            ("yank".into(), "handed".into()),
            ("zeta".into(), "handed".into())
        ],
        "{v}"
    );
    let failures = v["audit"]["failures"].as_array().unwrap();
    assert_eq!(failures.len(), 1, "{v}");
    assert_eq!(failures[0]["key"], "xray/");
    let why = failures[0]["error"].as_str().unwrap();
    assert!(
        why.contains("nothing of it deleted")
            && why.contains("holds 1000 rules and S3 takes at most 1000"),
        "{why}"
    );
    assert_eq!(rules(&b).await.len(), 1000, "S3's limit, not one more");
    let keys = all_keys(&b).await;
    let big = |k: &&String| ["zeta/", "yank/", "xray/"].iter().any(|p| k.starts_with(p));
    assert_eq!(
        keys.iter().filter(big).count(),
        9,
        "nothing of them deleted: {keys:?}"
    );
    assert!(!keys.iter().any(|k| k.starts_with("mid/")), "{keys:?}");

    // S3 expired zeta (done here by hand): the next run removes its spent rule and hands
    // xray over in its place.
    bucket::testkit::remove_keys(&b, (0..3).map(|k| format!("zeta/f{k}"))).await;
    let v = apply.ok();
    let v: serde_json::Value = serde_json::from_slice(&v.stdout).unwrap();
    let mut states = expiries(&v);
    states.sort();
    assert_eq!(
        states,
        vec![
            ("xray".into(), "handed".into()),
            ("yank".into(), "handed".into()),
            ("zeta".into(), "finished".into())
        ],
        "{v}"
    );
    let ours: Vec<_> = rules(&b)
        .await
        .into_iter()
        .map(|r| r.1)
        .filter(|p| !p.starts_with("logs/"))
        .collect();
    assert_eq!(ours, vec!["xray/", "yank/"]);
}

/// `undo-window` on a bucket whose lifecycle rules are full: refused before anything is
/// changed (no rule, versioning left off), saying what to do. (Before, S3 refused the
/// configuration of 1,001 rules with its own error.)
#[tokio::test]
async fn an_undo_window_is_refused_where_the_lifecycle_rules_are_full() {
    let b = fresh_bucket("lc-room-undo").await;
    own_rules(&b, 1000).await;
    let out = Run::new(&["undo-window", b.name(), "--days", "7", "--localstack"])
        .fails_with("holds 1000 rules and S3 takes at most 1000: nothing was changed");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(rules(&b).await.len(), 1000);
    assert_eq!(
        b.undo_window().await.unwrap().versioning,
        retention::Versioning::Unversioned
    );
}
