//! `--inventory s3://…/manifest.json`: the plan from an S3 Inventory report (CSV or Parquet)
//! equals the plan from listing the same bucket; an old report is warned about; a bad address
//! is a usage error.

use crate::common::{deploy_seconds_apart, json, reasons, s3_prune, stderr};
use bucket::testkit::{
    all_keys, fresh_bucket, put_many, write_inventory, write_parquet_inventory, INVENTORY_SCHEMA,
};
use std::time::Duration;

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

#[tokio::test]
async fn a_plan_from_a_parquet_inventory_equals_the_plan_from_listing() {
    let b = fresh_bucket("cli-inv-pq").await;
    let reports = fresh_bucket("cli-inv-pq-reports").await;
    deploy_seconds_apart(&b, &["d1", "d2", "d3"]).await;
    let at = write_parquet_inventory(&b, &reports, None, "run-pq").await;
    let plan = |extra: &[&str]| {
        let mut args = vec!["plan", b.name(), "1", "--localstack", "--json"];
        args.extend_from_slice(extra);
        s3_prune(&args)
    };
    let (listed, from_report) = (plan(&[]), plan(&["--inventory", &at]));
    assert!(from_report.status.success(), "{}", stderr(&from_report));
    let (l, r) = (json(&listed), json(&from_report));
    assert_eq!(reasons(&l), reasons(&r));
    assert_eq!(l["plan_fingerprint"], r["plan_fingerprint"]);
    assert_eq!(r["inventory_date"], "2026-11-26T00:00:00+00:00");
}

#[tokio::test]
async fn a_folder_re_synced_since_the_report_is_left_whole_and_the_exit_status_says_so() {
    let b = fresh_bucket("cli-inv-resync").await;
    let reports = fresh_bucket("cli-inv-resync-reports").await;
    let files: Vec<String> = (0..40).map(|n| format!("old/f{n:02}.css")).collect();
    put_many(&b, files.clone(), &[]).await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    deploy_seconds_apart(&b, &["d2", "d3"]).await;
    // Yesterday's report; since then CI re-synced three files of old/.
    let at = write_inventory(&b, &reports, INVENTORY_SCHEMA, None, true, "run-resync").await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    put_many(&b, files[..3].to_vec(), &[]).await;
    let out = s3_prune(&[
        "apply",
        b.name(),
        "2",
        "--localstack",
        "--yes",
        "--inventory",
        &at,
    ]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("old: left whole, changed since the plan: 3 objects newer"),
        "{text}"
    );
    let old = all_keys(&b).await;
    assert_eq!(
        old.iter().filter(|k| k.starts_with("old/")).count(),
        40,
        "not 37 of 40 deleted"
    );
    // Again, as a script would: still left whole (the report predates the re-sync), in JSON.
    let json_out = s3_prune(&[
        "apply",
        b.name(),
        "2",
        "--localstack",
        "--yes",
        "--json",
        "--inventory",
        &at,
    ]);
    assert_eq!(json_out.status.code(), Some(3), "{}", stderr(&json_out));
    assert_eq!(json(&json_out)["audit"]["changed"][0]["deployment"], "old");
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

#[tokio::test]
async fn the_inventory_can_come_from_s3_prune_toml_and_the_lambda_environment() {
    let b = fresh_bucket("cfg-inv").await;
    let reports = fresh_bucket("cfg-inv-reports").await;
    deploy_seconds_apart(&b, &["d1", "d2", "d3"]).await;
    let at = write_inventory(&b, &reports, INVENTORY_SCHEMA, None, true, "run-2").await;
    let cfg = std::env::temp_dir().join(format!("s3p-inv-{}.toml", b.name()));
    std::fs::write(&cfg, format!("localstack = true\ninventory = \"{at}\"\n")).unwrap();
    let out = s3_prune(&[
        "plan",
        b.name(),
        "1",
        "--json",
        "--config",
        cfg.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(json(&out)["inventory_date"], "2026-11-26T00:00:00+00:00");
    // serve takes it for one bucket only
    let out = s3_prune(&[
        "serve",
        "--bucket",
        b.name(),
        "--bucket",
        reports.name(),
        "--inventory",
        &at,
        "--localstack",
    ]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("exactly one --bucket"),
        "{}",
        stderr(&out)
    );
    // a bad address in the Lambda's environment stops it at start, naming the variable
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_s3-prune"))
        .env("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9")
        .env("S3_PRUNE_BUCKET", b.name())
        .env("S3_PRUNE_RETAIN", "1")
        .env("S3_PRUNE_INVENTORY", "https://not/s3/manifest.json")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("S3_PRUNE_INVENTORY"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
