//! The `s3-prune` binary end to end against a real LocalStack (started by `make test`).

use crate::common::{deploy_seconds_apart, json, s3_prune, stderr, stdout};
use bucket::testkit::{all_keys, fresh_bucket, put_many};
use std::time::Duration;

#[tokio::test]
async fn the_original_example_retain_1_deletes_the_two_older() {
    let b = fresh_bucket("original").await;
    deploy_seconds_apart(&b, &["deployhash112", "dsfsfsl9074", "delkjlkploy3"]).await;

    let plan = s3_prune(&["plan", b.name(), "1", "--localstack"]);
    assert!(plan.status.success(), "{}", stderr(&plan));
    let text = stdout(&plan);
    assert!(text.contains("keep: newest 1 of 1"), "{text}");
    assert!(text.contains("delete: rank 3 > 1"), "{text}");
    assert_eq!(all_keys(&b).await.len(), 6, "plan must not delete anything");

    let apply = s3_prune(&["apply", b.name(), "1", "--localstack", "--yes"]);
    assert!(
        apply.status.success(),
        "{}\n{}",
        stdout(&apply),
        stderr(&apply)
    );
    assert_eq!(
        all_keys(&b).await,
        vec!["delkjlkploy3/css/font.css", "delkjlkploy3/index.html"]
    );

    // Running it again converges: nothing left to delete.
    let again = s3_prune(&["apply", b.name(), "1", "--localstack", "--yes"]);
    assert!(again.status.success());
    assert!(stdout(&again).contains("Nothing to delete."));
    assert_eq!(all_keys(&b).await.len(), 2);
}

#[tokio::test]
async fn plan_json_has_the_documented_shape() {
    let b = fresh_bucket("json").await;
    deploy_seconds_apart(&b, &["old", "new"]).await;
    put_many(&b, ["robots.txt".into()], &[]).await;
    let out = s3_prune(&["plan", b.name(), "1", "--localstack", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let v = json(&out);
    assert_eq!(v["bucket"], b.name());
    assert_eq!(v["prefix"], "");
    assert_eq!(v["policy"]["retain"], 1);
    assert_eq!(v["loose_objects"]["objects"], 1);
    let deps = v["deployments"].as_array().unwrap();
    assert_eq!(deps.len(), 2);
    assert_eq!(deps[0]["id"], "new");
    assert_eq!(deps[0]["action"], "keep");
    assert_eq!(deps[1]["id"], "old");
    assert_eq!(deps[1]["action"], "delete");
    assert_eq!(deps[1]["reason"], "delete: rank 2 > 1");
    assert_eq!(deps[1]["objects"], 2);
    assert!(deps[1]["date"].as_str().unwrap().ends_with("+00:00"));
    assert_eq!(v["summary"]["delete"]["deployments"], 1);
    assert!(v["warnings"].as_array().unwrap().is_empty());
    assert_eq!(all_keys(&b).await.len(), 5);
}

#[tokio::test]
async fn apply_json_reports_deleted_objects_and_failures() {
    let b = fresh_bucket("apply-json").await;
    deploy_seconds_apart(&b, &["old", "new"]).await;
    let out = s3_prune(&["apply", b.name(), "1", "--localstack", "--json", "--yes"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let v = json(&out);
    assert_eq!(v["deleted_objects"], 2);
    assert_eq!(v["failed"].as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn keep_within_seconds_uses_real_upload_times() {
    let b = fresh_bucket("keep-within").await;
    deploy_seconds_apart(&b, &["old1", "old2"]).await;
    tokio::time::sleep(Duration::from_secs(5)).await;
    deploy_seconds_apart(&b, &["young", "newest"]).await;
    let out = s3_prune(&[
        "apply",
        b.name(),
        "1",
        "--keep-within",
        "3s",
        "--localstack",
        "--yes",
        "--json",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let v = json(&out);
    let reasons: Vec<(String, String)> = v["deployments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["id"].as_str().unwrap().to_string(),
                d["reason"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(reasons[0], ("newest".into(), "keep: newest 1 of 1".into()));
    assert!(
        reasons[1].1.starts_with("keep: ") && reasons[1].1.ends_with("younger than 3 s"),
        "{reasons:?}"
    );
    assert!(
        reasons[2].1.starts_with("delete: rank 3 > 1 and "),
        "{reasons:?}"
    );
    let keys = all_keys(&b).await;
    assert!(
        keys.iter()
            .all(|k| k.starts_with("young/") || k.starts_with("newest/")),
        "{keys:?}"
    );
    assert_eq!(keys.len(), 4);
}

#[tokio::test]
async fn meta_dates_order_deployments_by_recorded_deploy_time() {
    let b = fresh_bucket("meta-cli").await;
    // Uploaded in the "wrong" order: the metadata holds the real deploy times.
    put_many(
        &b,
        ["march/index.html".into()],
        &[("deployed-at", "2026-03-01T00:00:00Z")],
    )
    .await;
    put_many(
        &b,
        ["june/index.html".into()],
        &[("deployed-at", "2026-06-01T00:00:00Z")],
    )
    .await;
    put_many(
        &b,
        ["january/index.html".into()],
        &[("deployed-at", "2026-01-01T00:00:00Z")],
    )
    .await;
    put_many(&b, ["nometa/index.html".into()], &[]).await;
    let out = s3_prune(&[
        "plan",
        b.name(),
        "2",
        "--min-retain-days",
        "30",
        "--date-source",
        "meta:deployed-at",
        "--localstack",
        "--json",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let v = json(&out);
    let ids: Vec<&str> = v["deployments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec!["nometa", "june", "march", "january"]);
    assert_eq!(v["deployments"][1]["date"], "2026-06-01T00:00:00+00:00");
    assert_eq!(v["deployments"][2]["action"], "delete");
    let warnings = v["warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 1);
    assert!(warnings[0]
        .as_str()
        .unwrap()
        .starts_with("nometa: metadata 'deployed-at' is absent"));
}

#[tokio::test]
async fn apply_without_a_terminal_or_yes_refuses_and_deletes_nothing() {
    let b = fresh_bucket("no-tty").await;
    deploy_seconds_apart(&b, &["old", "new"]).await;
    let out = s3_prune(&["apply", b.name(), "1", "--localstack"]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("refusing to delete without confirmation"),
        "{}",
        stderr(&out)
    );
    assert_eq!(all_keys(&b).await.len(), 4);
}

#[tokio::test]
async fn an_empty_bucket_plans_nothing() {
    let b = fresh_bucket("empty-cli").await;
    let out = s3_prune(&["apply", b.name(), "3", "--localstack", "--yes"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("No deployments found."));
}

#[tokio::test]
async fn versioned_bucket_warns_and_purges_on_request() {
    let b = fresh_bucket("versioned-cli").await;
    b.enable_versioning().await.unwrap();
    deploy_seconds_apart(&b, &["old", "new"]).await;
    put_many(&b, ["old/index.html".into()], &[]).await; // a second version
                                                        // "old" now is the newest by LastModified; date by oldest object to keep the story simple
    let plan = s3_prune(&[
        "plan",
        b.name(),
        "1",
        "--date-source",
        "oldest",
        "--localstack",
    ]);
    assert!(
        stdout(&plan).contains("deleting only adds delete markers"),
        "{}",
        stdout(&plan)
    );
    let out = s3_prune(&[
        "apply",
        b.name(),
        "1",
        "--date-source",
        "oldest",
        "--purge-versions",
        "--localstack",
        "--yes",
        "--json",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let v = json(&out);
    assert_eq!(v["versions_to_purge"], 3);
    assert_eq!(v["deleted_objects"], 3);
    let versions = bucket::testkit::all_versions(&b).await;
    assert!(
        versions.iter().all(|(k, _)| k.starts_with("new/")),
        "{versions:?}"
    );
}
