//! `apply --via-lifecycle`: a deployment over the threshold is handed to S3 lifecycle
//! expiration (a rule for its folder, merged with the bucket's own rules), smaller ones are
//! deleted by requests as usual, and a later run reports the handover pending, then finished
//! once the folder is empty, removing the spent rule and nothing else.

use crate::common::{json, put_seconds_apart, s3_prune, Run};
use aws_sdk_s3::types::{
    BucketLifecycleConfiguration, ExpirationStatus, LifecycleExpiration, LifecycleRule,
    LifecycleRuleFilter,
};
use bucket::testkit::{all_keys, fresh_bucket, put_many, remove_keys};

mod pinned;
mod restore;
mod room;
mod settle;
mod unread;

pub(crate) async fn rules(b: &bucket::Bucket) -> Vec<(String, String, Option<i32>)> {
    let config = b.read_lifecycle().await.unwrap(); // (no configuration: no rules)
    let mut r: Vec<_> = config
        .rules
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

/// `apply BUCKET 1 --via-lifecycle --lifecycle-threshold 2 --json`, asserted to succeed.
fn apply(b: &str) -> serde_json::Value {
    Run::apply(b, 1)
        .args(&["--via-lifecycle", "--lifecycle-threshold", "2"])
        .json()
}

/// `apply BUCKET 1 --via-lifecycle --lifecycle-threshold 2 --json` through the proxy at `url`.
pub(crate) fn apply_through_handing_over(url: &str, bucket: &str) -> std::process::Child {
    let args = [
        "1",
        "--via-lifecycle",
        "--lifecycle-threshold",
        "2",
        "--json",
    ];
    crate::common::apply_through(url, &[&[bucket][..], &args[..]].concat())
}

/// big (3 objects), mid and new, seconds apart, oldest first.
pub(crate) async fn big_mid_new(b: &bucket::Bucket) {
    put_seconds_apart(
        b,
        vec![
            (0..3).map(|k| format!("big/f{k}")).collect(),
            vec!["mid/index.html".into()],
            vec!["new/index.html".into()],
        ],
    )
    .await;
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
    big_mid_new(&b).await;

    // big (3 objects > 2) is handed over, mid is deleted by requests, new is kept
    let v = apply(b.name());
    assert_eq!(expiries(&v), vec![("big".into(), "handed".into())], "{v}");
    let today = chrono::Utc::now().date_naive();
    assert_eq!(
        rules(&b).await,
        vec![
            ("keep-logs".into(), "logs/".into(), Some(30)),
            (
                format!("s3-prune-expire@{today} big/"),
                "big/".into(),
                Some(1)
            ),
        ],
        "the rule is merged with the bucket's own, dated"
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

/// big (3 objects) handed to S3, mid deleted, new kept: the starting point of the tests below.
async fn handed_over(hint: &str) -> bucket::Bucket {
    let b = fresh_bucket(hint).await;
    big_mid_new(&b).await;
    let v = apply(b.name());
    assert_eq!(expiries(&v), vec![("big".into(), "handed".into())], "{v}");
    assert_eq!(rules(&b).await.len(), 1);
    b
}

#[tokio::test]
async fn pinning_a_handed_over_folder_withdraws_its_rule_at_once() {
    let b = handed_over("lc-pin").await;
    // A rollback to big: pinned. S3 must not expire it.
    let out = Run::new(&[
        "pin",
        b.name(),
        "big",
        "--reason",
        "rollback",
        "--localstack",
    ])
    .ok();

    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        said.contains("big: kept now (pinned), so its S3 lifecycle rule"),
        "{said}"
    );
    assert!(rules(&b).await.is_empty(), "the rule is gone");
    let big = all_keys(&b)
        .await
        .into_iter()
        .filter(|k| k.starts_with("big/"))
        .count();
    assert_eq!(big, 3, "big/ is whole");
}

#[tokio::test]
async fn a_plan_that_keeps_a_handed_over_folder_withdraws_its_rule_and_says_why() {
    let b = handed_over("lc-policy").await;
    // The next run still dooms it: the rule stays, and the plan shows it pending with its age.
    let out = s3_prune(&["plan", b.name(), "1", "--localstack"]);
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        said.contains("lifecycle: big is being expired by S3 (rule 's3-prune-expire@")
            && said.contains("handed over 0 d ago"),
        "{said}"
    );
    assert_eq!(rules(&b).await.len(), 1);
    // The policy changed: keep 3. Planning alone withdraws the rule of what it keeps now.
    let out = s3_prune(&["plan", b.name(), "3", "--localstack", "--json"]);
    assert!(out.status.success());
    let v = json(&out);
    assert_eq!(v["handovers"]["withdrawn"][0]["deployment"], "big", "{v}");
    assert_eq!(v["handovers"]["withdrawn"][0]["state"], "withdrawn", "{v}");
    assert!(
        v["handovers"]["withdrawn"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("keep"),
        "{v}"
    );
    assert!(
        rules(&b).await.is_empty(),
        "S3 will not expire a kept folder"
    );
}

/// Whether one of s3-prune's expiration rules covers `key` (its prefix starts the key).
async fn expired_by_a_rule(b: &bucket::Bucket, key: &str) -> bool {
    rules(b)
        .await
        .iter()
        .any(|(id, prefix, _)| id.starts_with("s3-prune-expire") && key.starts_with(prefix))
}

/// A handed-over folder that is gone (S3 expired it, or it was deleted some other way) has its
/// spent rule removed by the next plan, so a new deployment that reuses the name (a PR
/// preview) is not expired the day it is uploaded. (The rule stayed, and `plan` kept saying
/// "big is being expired by S3" of a folder that no longer existed.)
#[tokio::test]
async fn a_gone_folders_spent_rule_is_removed_by_the_next_plan() {
    let b = handed_over("lc-gone").await;
    remove_keys(&b, (0..3).map(|k| format!("big/f{k}"))).await;
    let out = s3_prune(&["plan", b.name(), "1", "--localstack"]);
    assert!(out.status.success(), "{}", crate::common::stderr(&out));
    let said = crate::common::stdout(&out);
    assert!(!said.contains("big is being expired by S3"), "{said}");
    assert_eq!(rules(&b).await, vec![], "the spent rule is gone: {said}");
    put_many(&b, ["big/index.html".to_string()], &[]).await;
    assert!(!expired_by_a_rule(&b, "big/index.html").await);
}

/// A handed-over folder that a later apply deletes by requests (a plain apply, without
/// `--via-lifecycle`) has its rule removed by that apply: a new deployment that reuses the
/// name is not expired by S3. (The apply deleted it and left the rule, which expired the next
/// deployment named so unless a plan came first.)
#[tokio::test]
async fn deleting_a_handed_over_folder_by_requests_removes_its_rule() {
    let b = handed_over("lc-by-requests").await;
    put_seconds_apart(&b, vec![vec![], vec!["newer/index.html".into()]]).await;
    // big and new are doomed: deleted by requests
    let v = Run::apply(b.name(), 1).json();
    assert_eq!(expiries(&v), vec![("big".into(), "finished".into())], "{v}");
    assert_eq!(rules(&b).await, vec![], "{v}");
    assert_eq!(all_keys(&b).await, vec!["newer/index.html"]);
    // PR preview "big" published again: nothing expires it
    put_many(&b, ["big/index.html".to_string()], &[]).await;
    assert!(!expired_by_a_rule(&b, "big/index.html").await);
}

/// Restoring a run that handed a big deployment to S3 lifecycle expiration withdraws that
/// rule (S3 has not expired the folder yet: it stays), beside bringing back what the run
/// deleted by requests; what S3 expired of a handed folder already is brought back by removing
/// the delete markers its expiration made. (Restore ignored the handovers: it brought back mid,
/// exited 0, and S3 expired big within a day or two; then it withdrew the rule of a folder S3
/// had partly expired and said it restored, the expired keys still hidden.)
#[tokio::test]
async fn restoring_a_run_withdraws_its_lifecycle_handovers() {
    let b = fresh_bucket("restore-handed").await;
    b.enable_versioning().await.unwrap();
    big_mid_new(&b).await;
    let before = all_keys(&b).await;
    let v = apply(b.name());
    assert_eq!(expiries(&v), vec![("big".into(), "handed".into())], "{v}");
    let run = v["audit"]["run"].as_str().unwrap().to_string();
    assert_eq!(rules(&b).await.len(), 1, "big's rule");
    let out = s3_prune(&["restore", b.name(), "--run", &run, "--localstack"]);
    assert!(out.status.success(), "{}", crate::common::stderr(&out));
    crate::common::assert_contains(&crate::common::stdout(&out), "withdrawn");
    assert_eq!(rules(&b).await, vec![], "S3 will not expire big");
    assert_eq!(
        all_keys(&b).await,
        before,
        "mid is back, big was never gone"
    );

    // S3 expired part of big before the restore (done here by hand: two of its keys under
    // delete markers S3 made, which no journal records), its rule still there: those markers
    // are removed too, and every object of big is current again. The restore pinned what it
    // brought back: handed back to the policy first.
    for id in ["big", "mid"] {
        let out = s3_prune(&["unpin", b.name(), id, "--localstack"]);
        crate::common::assert_contains(&crate::common::stdout(&out), "Unpinned");
    }
    let v = apply(b.name());
    assert_eq!(expiries(&v), vec![("big".into(), "handed".into())], "{v}");
    let run = v["audit"]["run"].as_str().unwrap().to_string();
    remove_keys(&b, (0..2).map(|k| format!("big/f{k}"))).await;
    let out = s3_prune(&["restore", b.name(), "--run", &run, "--localstack"]);
    let said = crate::common::stdout(&out);
    assert!(
        out.status.success(),
        "{said}{}",
        crate::common::stderr(&out)
    );
    crate::common::assert_contains(&said, "big: 2 objects restored");
    assert_eq!(rules(&b).await, vec![], "S3 will not expire big: {said}");
    assert_eq!(
        all_keys(&b).await,
        before,
        "big whole again, mid back: {said}"
    );
}

/// A kept folder whose expiration rule cannot be withdrawn (the role may read the lifecycle
/// configuration but not write it) will be expired by S3: `plan` and `apply` fail saying so, and
/// the scheduled job answers an error with `Success: 0`, a dry-run job an error. Before, all
/// three said it and ended well (exit 0, `Success: 1`), so no alarm fired while S3 expired a
/// kept deployment.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kept_folder_whose_rule_cannot_be_withdrawn_fails_every_front_end() {
    let b = handed_over("lc-stuck").await;
    let (url, _proxy) =
        crate::common::endpoint(|p| p.deny_put_query = Some("lifecycle".into())).await;
    let via_proxy = |args: &[&str]| {
        Run::new(args)
            .env("AWS_ENDPOINT_URL", &url)
            .env("AWS_REGION", "us-east-1")
            .out()
    };
    // RETAIN 3 keeps big now: its rule must go, and cannot.
    for args in [
        vec!["plan", b.name(), "3", "--localstack"],
        vec!["apply", b.name(), "3", "--yes", "--localstack"],
    ] {
        let out = via_proxy(&args);
        let said = String::from_utf8_lossy(&out.stdout);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {said} {err}");
        assert!(
            said.contains("S3 lifecycle may still expire big (kept now)"),
            "{args:?}: {said}"
        );
    }
    assert_eq!(rules(&b).await.len(), 1, "the rule stands");
    // A dry-run job answers the error too: an error is the one alarm it has (Terraform sets no
    // missing-success alarm on a dry run). Before, it answered its plan.
    let (error, _) = crate::lambda::invoke_failing(&[
        ("S3_PRUNE_BUCKET", b.name()),
        ("S3_PRUNE_RETAIN", "3"),
        ("S3_PRUNE_DRY_RUN", "true"),
        ("AWS_ENDPOINT_URL", url.as_str()),
    ])
    .await;
    assert!(
        error.contains("dry run: S3 lifecycle may still expire big (kept now)")
            && error.contains("nothing was deleted"),
        "{error}"
    );
    let (error, metrics) = crate::lambda::invoke_failing(&[
        ("S3_PRUNE_BUCKET", b.name()),
        ("S3_PRUNE_RETAIN", "3"),
        ("AWS_ENDPOINT_URL", url.as_str()),
    ])
    .await;
    assert!(
        error.contains("S3 lifecycle may still expire big (kept now)"),
        "{error}"
    );
    assert!(metrics.contains(r#""Success":0"#), "{metrics}");
    // And the job notes no success for `check` and the dashboard to read (before, the engine
    // noted it: `check` said OK while S3 was set to expire the kept folder). The CLI's note is
    // the handover's own, which did its job.
    let state = bucket::testkit::keys_under(&b, ".s3-prune/").await;
    let notes: Vec<&String> = state
        .iter()
        .filter(|k| k.contains("last-success"))
        .collect();
    assert_eq!(notes, [".s3-prune/last-success-cli.json"]);
    let out = via_proxy(&[
        "check",
        b.name(),
        "3",
        "--localstack",
        "--last-run-within",
        "1d",
    ]);
    let said = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(
        said.contains("S3 lifecycle may still expire big (kept now)"),
        "{said}"
    );
}
