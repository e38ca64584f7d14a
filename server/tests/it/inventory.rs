//! `--inventory s3://…/manifest.json`: the plan from an S3 Inventory report (CSV or Parquet)
//! equals the plan from listing the same bucket, also when folders were deleted or published
//! since the report; an old report is warned about; a bad address is a usage error. A report
//! never rewrites the first-seen dates, and never hands a folder to S3 lifecycle expiration.

use crate::common::{
    deploy_seconds_apart, json, reasons, s3_prune, stderr, stdout, to_delete, Run,
};
use bucket::testkit::{
    all_keys, csv_inventory, fresh_bucket, keys_under, put_many, remove_keys, write_inventory,
    write_parquet_inventory, Report, INVENTORY_SCHEMA,
};
use std::time::Duration;

#[tokio::test]
async fn a_plan_from_the_inventory_equals_the_plan_from_listing() {
    let b = fresh_bucket("cli-inv").await;
    let reports = fresh_bucket("cli-inv-reports").await;
    deploy_seconds_apart(&b, &["d1", "d2", "d3", "d4"]).await;
    let at = write_inventory(&b, &reports, INVENTORY_SCHEMA, None, true, "run-1").await;
    let (l, r) = same_plan_as_listing(b.name(), 2, &at);
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
    apply_from(b.name(), &at).ok();
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
    same_plan_as_listing(b.name(), 1, &at);
}

/// `plan BUCKET RETAIN --json` from the listing and from the report at `at`: asserts the
/// report's plan succeeds with the listing's reasons and fingerprint, dated by the report.
fn same_plan_as_listing(
    bucket: &str,
    retain: u32,
    at: &str,
) -> (serde_json::Value, serde_json::Value) {
    let plan = Run::plan(bucket, retain).args(&["--json"]);
    let (listed, from_report) = (plan.out(), plan.args(&["--inventory", at]).out());
    assert!(from_report.status.success(), "{}", stderr(&from_report));
    let (l, r) = (json(&listed), json(&from_report));
    assert_eq!(reasons(&l), reasons(&r));
    assert_eq!(l["plan_fingerprint"], r["plan_fingerprint"]);
    assert_eq!(r["inventory_date"], "2026-11-26T00:00:00+00:00");
    (l, r)
}

/// `apply BUCKET 2 --inventory AT`.
fn apply_from(bucket: &str, at: &str) -> Run {
    Run::apply(bucket, 2).args(&["--inventory", at])
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
    let out = apply_from(b.name(), &at).out();
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
    let json_out = apply_from(b.name(), &at).args(&["--json"]).out();
    assert_eq!(json_out.status.code(), Some(3), "{}", stderr(&json_out));
    assert_eq!(json(&json_out)["audit"]["changed"][0]["deployment"], "old");
}

/// Reports S3 Inventory writes into the bucket it prunes, in a folder under the prefix: that
/// folder is not a deployment. Before, `inv/` (newer than every build) was ranked as one and
/// took a kept place: `apply 2` deleted d2 in its stead.
#[tokio::test]
async fn reports_written_inside_the_pruned_prefix_are_not_a_deployment() {
    let b = fresh_bucket("cli-inv-inside").await;
    deploy_seconds_apart(&b, &["d1", "d2", "d3"]).await;
    let at = write_inventory(&b, &b, INVENTORY_SCHEMA, None, true, "run-in").await;
    let plan = Run::plan(b.name(), 2).args(&["--inventory", &at]).json();
    let ids: Vec<&str> = (plan["deployments"].as_array().unwrap().iter())
        .map(|d| d["id"].as_str().unwrap())
        .collect();
    assert!(!ids.contains(&"inv"), "{ids:?}");
    Run::apply(b.name(), 2).args(&["--inventory", &at]).ok();
    let keys = all_keys(&b).await;
    assert!(keys.iter().all(|k| !k.starts_with("d1/")), "{keys:?}");
    for kept in ["d2/", "d3/", "inv/"] {
        assert!(keys.iter().any(|k| k.starts_with(kept)), "{kept}: {keys:?}");
    }
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
    let v = Run::new(&["plan", b.name(), "1", "--config", cfg.to_str().unwrap()]).json();
    assert_eq!(v["inventory_date"], "2026-11-26T00:00:00+00:00");
    // serve takes it for one bucket only
    Run::new(&["serve", "--bucket", b.name(), "--bucket", reports.name()])
        .args(&["--inventory", &at, "--localstack"])
        .fails_with("exactly one --bucket");

    // a bad address in the Lambda's environment stops it at start, naming the variable
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_s3-prune"))
        .env("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9")
        .env("AWS_LAMBDA_FUNCTION_NAME", "s3-prune")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
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

#[tokio::test]
async fn a_deployment_deleted_since_the_report_does_not_take_the_place_of_one_that_exists() {
    let b = fresh_bucket("cli-inv-gone").await;
    let reports = fresh_bucket("cli-inv-gone-reports").await;
    deploy_seconds_apart(&b, &["d1", "d2", "d3", "d4", "d5", "d6"]).await;
    let at = write_inventory(&b, &reports, INVENTORY_SCHEMA, None, true, "run-gone").await;
    remove_keys(&b, keys_under(&b, "d6/").await).await;
    let plan = Run::plan(b.name(), 3).args(&["--inventory", &at]).json();
    assert_eq!(to_delete(&plan), ["d2", "d1"], "{plan}");
    assert!(
        plan["warnings"]
            .to_string()
            .contains("d6: in the report of"),
        "{plan}"
    );
    Run::apply(b.name(), 3).args(&["--inventory", &at]).ok();
    let keys = all_keys(&b).await;
    for d in ["d3/", "d4/", "d5/"] {
        assert!(
            keys.iter().any(|k| k.starts_with(d)),
            "{d} deleted: {keys:?}"
        );
    }
}

#[tokio::test]
async fn a_live_deployment_published_after_the_report_is_kept_as_live_not_a_block() {
    let b = fresh_bucket("cli-inv-newer").await;
    let reports = fresh_bucket("cli-inv-newer-reports").await;
    deploy_seconds_apart(&b, &["d1", "d2", "d3"]).await;
    let at = write_inventory(&b, &reports, INVENTORY_SCHEMA, None, true, "run-newer").await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    deploy_seconds_apart(&b, &["d7"]).await;
    b.put("live.txt", b"d7".to_vec(), "text/plain", &[])
        .await
        .unwrap();
    let plan = Run::plan(b.name(), 2)
        .args(&["--inventory", &at, "--live-pointer", "live.txt"])
        .json();
    assert_eq!(plan["blocked"], serde_json::json!([]), "{plan}");
    let reasons = reasons(&plan);
    assert!(
        reasons
            .iter()
            .any(|(id, r)| id == "d7" && r.contains("live")),
        "{reasons:?}"
    );
    assert_eq!(to_delete(&plan), ["d2", "d1"], "{plan}");
    assert!(
        plan["warnings"]
            .to_string()
            .contains("d7: not in the report of"),
        "{plan}"
    );
}

#[tokio::test]
async fn a_plan_from_a_report_never_rewrites_the_first_seen_dates() {
    let b = fresh_bucket("cli-inv-dates").await;
    let reports = fresh_bucket("cli-inv-dates-reports").await;
    deploy_seconds_apart(&b, &["d1", "d2"]).await;
    Run::plan(b.name(), 1).ok(); // a listing records the first-seen dates
    let before = b.read_state("dates.json").await.unwrap();
    assert!(before.is_some());
    // A report holding nothing under the prefix (its filter covers another one).
    let report = Report {
        format: "CSV",
        schema: INVENTORY_SCHEMA,
        files: vec![("part-1.csv.gz".into(), csv_inventory(b.name(), &[]))],
    };
    let at = report.put(&b, &reports, None, true, "run-dates").await;
    let plan = Run::plan(b.name(), 1).args(&["--inventory", &at]).json();
    assert_eq!(b.read_state("dates.json").await.unwrap(), before);
    assert!(
        plan["warnings"]
            .to_string()
            .contains("the report holds no key under the bucket's root"),
        "{plan}"
    );
    assert_eq!(to_delete(&plan), ["d1"], "{plan}");

    // A report older than d2's last re-sync: its view of d2 is not recorded either.
    let stale = write_inventory(&b, &reports, INVENTORY_SCHEMA, None, true, "run-stale").await;
    put_many(&b, ["d2/more.js".to_string()], &[]).await;
    Run::plan(b.name(), 1).ok();
    let listed = b.read_state("dates.json").await.unwrap();
    Run::plan(b.name(), 1).args(&["--inventory", &stale]).ok();
    assert_eq!(b.read_state("dates.json").await.unwrap(), listed);
}

/// A bucket with `old/` (40 files) handed over or not, then d2 and d3; returns old/'s keys.
async fn big_old_then_two(b: &bucket::Bucket) -> Vec<String> {
    let files: Vec<String> = (0..40).map(|n| format!("old/f{n:02}.css")).collect();
    put_many(b, files.clone(), &[]).await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    deploy_seconds_apart(b, &["d2", "d3"]).await;
    files
}

const VIA_LIFECYCLE: [&str; 3] = ["--via-lifecycle", "--lifecycle-threshold", "10"];

#[tokio::test]
async fn a_plan_from_a_report_hands_no_folder_to_s3_lifecycle() {
    let b = fresh_bucket("cli-inv-lc").await;
    let reports = fresh_bucket("cli-inv-lc-reports").await;
    let files = big_old_then_two(&b).await;
    // Yesterday's report; since then CI re-synced three files of old/.
    let at = write_inventory(&b, &reports, INVENTORY_SCHEMA, None, true, "run-lc").await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    put_many(&b, files[..3].to_vec(), &[]).await;
    let out = apply_from(b.name(), &at).args(&VIA_LIFECYCLE).out();
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let said = format!("{}{}", stdout(&out), stderr(&out));
    assert!(
        said.contains("--inventory") && said.contains("--via-lifecycle"),
        "{said}"
    );
    assert_eq!(
        b.expiries().await.unwrap(),
        [],
        "no expiration rule written"
    );
    let keys = all_keys(&b).await;
    assert_eq!(keys.iter().filter(|k| k.starts_with("old/")).count(), 40);
}

#[tokio::test]
async fn a_pending_handover_of_a_folder_re_synced_since_the_report_is_withdrawn() {
    let b = fresh_bucket("cli-inv-lc-pending").await;
    let reports = fresh_bucket("cli-inv-lc-pending-reports").await;
    let files = big_old_then_two(&b).await;
    // A run from a listing hands old/ over; the report is written while the rule is pending.
    Run::apply(b.name(), 2).args(&VIA_LIFECYCLE).out();
    assert_eq!(b.expiries().await.unwrap().len(), 1, "old/ handed over");
    let at = write_inventory(&b, &reports, INVENTORY_SCHEMA, None, true, "run-pend").await;
    // Then CI re-synced old/: the report still shows it as it was.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    put_many(&b, files[..3].to_vec(), &[]).await;
    let plan = Run::plan(b.name(), 2).args(&["--inventory", &at]).json();
    assert_eq!(b.expiries().await.unwrap(), [], "{plan}");
    assert!(
        plan.to_string()
            .contains("changed since the inventory report"),
        "{plan}"
    );
}

/// `plan --inventory M --out F`, then `apply --plan F`: the apply plans from the same report
/// (the saved plan names it), so the sets compare like with like and it goes ahead. Before, it
/// planned from a listing, whose dates are not the report's, and was refused as "changed since
/// the plan" (a reviewer's run); another report, or one given with a listing's plan, is refused
/// by name.
#[tokio::test]
async fn a_plan_saved_from_a_report_is_applied_from_that_report() {
    let b = fresh_bucket("inv-saved").await;
    let reports = fresh_bucket("inv-saved-reports").await;
    deploy_seconds_apart(&b, &["d1", "d2", "d3", "d4"]).await;
    let at = write_inventory(&b, &reports, INVENTORY_SCHEMA, None, true, "run-saved").await;
    let dir = std::env::temp_dir().join(format!("s3p-inv-saved-{}", b.name()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("plan.json");
    let file = file.to_str().unwrap();
    let out = s3_prune(&[
        "plan",
        b.name(),
        "2",
        "--localstack",
        "--inventory",
        &at,
        "--out",
        file,
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = s3_prune(&["apply", "--plan", file, "--localstack", "--yes"]);
    assert!(out.status.success(), "{}\n{}", stdout(&out), stderr(&out));
    let keys = all_keys(&b).await;
    assert!(
        keys.iter()
            .all(|k| k.starts_with("d3/") || k.starts_with("d4/")),
        "{keys:?}"
    );
    // A listing's plan applied with a report is refused, naming it.
    let listing = dir.join("listing.json");
    let listing = listing.to_str().unwrap();
    let out = s3_prune(&["plan", b.name(), "1", "--localstack", "--out", listing]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = s3_prune(&[
        "apply",
        "--plan",
        listing,
        "--localstack",
        "--yes",
        "--inventory",
        &at,
    ]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("the saved plan was made from a listing"),
        "{}",
        stderr(&out)
    );
}
