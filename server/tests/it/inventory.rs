//! `--inventory s3://…/manifest.json`: the plan from an S3 Inventory report equals the plan
//! from listing the same bucket; an old report is warned about; a bad address is a usage error.

use crate::common::{deploy_seconds_apart, json, reasons, s3_prune, stderr};
use bucket::testkit::{all_keys, fresh_bucket, write_inventory, INVENTORY_SCHEMA};

#[tokio::test]
async fn a_plan_from_the_inventory_equals_the_plan_from_listing() {
    let b = fresh_bucket("cli-inv").await;
    let reports = fresh_bucket("cli-inv-reports").await;
    deploy_seconds_apart(&b, &["d1", "d2", "d3", "d4"]).await;
    let at = write_inventory(&b, &reports, INVENTORY_SCHEMA, None, true, "run-1").await;
    let listed = s3_prune(&["plan", b.name(), "2", "--localstack", "--json"]);
    let from_report = s3_prune(&[
        "plan",
        b.name(),
        "2",
        "--localstack",
        "--json",
        "--inventory",
        &at,
    ]);
    assert!(from_report.status.success(), "{}", stderr(&from_report));
    let (l, r) = (json(&listed), json(&from_report));
    assert_eq!(reasons(&l), reasons(&r));
    assert_eq!(l["plan_fingerprint"], r["plan_fingerprint"]);
    assert_eq!(r["inventory_date"], "2026-11-26T00:00:00+00:00");
    assert!(l.get("inventory_date").is_none());
    // the report is dated 2026-11-26 00:00 (write_inventory): old once two days have passed
    let old = r["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|w| w.as_str().unwrap().contains("inventory report is from"));
    let dated: chrono::DateTime<chrono::Utc> = "2026-11-26T00:00:00Z".parse().unwrap();
    let age = chrono::Utc::now() - dated;
    assert_eq!(old, age.num_hours() > 48, "{r}");
    // apply from the report deletes what the listing plan would
    let out = s3_prune(&[
        "apply",
        b.name(),
        "2",
        "--localstack",
        "--yes",
        "--inventory",
        &at,
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let keys = all_keys(&b).await;
    assert!(
        keys.iter()
            .all(|k| k.starts_with("d3/") || k.starts_with("d4/")),
        "{keys:?}"
    );
}

#[test]
fn an_inventory_address_that_is_not_a_manifest_is_a_usage_error() {
    let out = s3_prune(&["plan", "b", "2", "--inventory", "https://x/manifest.json"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("s3://BUCKET/PATH/manifest.json"),
        "{}",
        stderr(&out)
    );
}
