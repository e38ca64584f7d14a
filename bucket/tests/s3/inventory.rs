//! An S3 Inventory report, CSV or Parquet, yields the inventory a listing does; a reports folder
//! means its newest complete report; a damaged, missing or incomplete report, or a manifest
//! that does not match its checksum, is an error naming it.

use bucket::testkit::{
    fresh_bucket, put_many, remove_keys, write_inventory, write_parquet_inventory, INVENTORY_SCHEMA,
};
use bucket::ScanOptions;

#[tokio::test]
async fn an_inventory_report_csv_or_parquet_yields_the_same_inventory_as_a_listing() {
    let b = fresh_bucket("inv-src").await;
    let reports = fresh_bucket("inv-reports").await;
    put_many(
        &b,
        (0..30)
            .map(|i| format!("d{:02}/f{}.html", i % 7, i))
            .chain([
                "robots.txt".into(),
                "d01/a b+c%.css".into(),
                ".s3-prune/notes.txt".into(),
            ]),
        &[],
    )
    .await;
    let opts = ScanOptions::default();
    let listed = b.scan(&opts).await.unwrap();
    let csv = write_inventory(&b, &reports, INVENTORY_SCHEMA, None, true, "csv").await;
    let parquet = write_parquet_inventory(&b, &reports, None, "parquet").await;
    for at in [csv, parquet] {
        let from_report = b
            .scan_inventory(&at.parse().unwrap(), &opts)
            .await
            .unwrap_or_else(|e| panic!("{at}: {e}"));
        let created = from_report.report_date.unwrap();
        assert_eq!(created.to_rfc3339(), "2026-11-26T00:00:00+00:00");
        assert_eq!(
            retention::Inventory {
                report_date: None,
                ..from_report.clone()
            },
            listed,
            "{at}"
        );
        assert_eq!(from_report.deployments.len(), 7);
        assert_eq!(from_report.loose.objects, 1);
    }
}

#[tokio::test]
async fn a_reports_folder_means_its_newest_complete_report_and_a_bad_checksum_is_refused() {
    let b = fresh_bucket("inv-dir").await;
    let reports = fresh_bucket("inv-dir-reports").await;
    let opts = ScanOptions::default();
    let csv_report =
        |run: &'static str| write_inventory(&b, &reports, INVENTORY_SCHEMA, None, true, run);
    put_many(&b, ["d1/index.html".into()], &[]).await;
    csv_report("2026-11-24T00-00Z").await;
    put_many(&b, ["d2/index.html".into()], &[]).await;
    let second = write_parquet_inventory(&b, &reports, None, "2026-11-25T00-00Z").await;
    // a newer report still being written: no manifest.checksum yet
    put_many(&b, ["d3/index.html".into()], &[]).await;
    csv_report("2026-11-26T00-00Z").await;
    remove_keys(
        &reports,
        [format!(
            "inv/{}/2026-11-26T00-00Z/manifest.checksum",
            b.name()
        )],
    )
    .await;
    let folder: bucket::inventory::InventoryLocation =
        format!("s3://{}/inv/{}/", reports.name(), b.name())
            .parse()
            .unwrap();
    let ids = |inv: &retention::Inventory| {
        inv.deployments
            .iter()
            .map(|d| d.id.to_string())
            .collect::<Vec<_>>()
    };
    let scanned = b
        .scan_inventory_unsaved(&folder, &opts)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    // the 25th's report, the newest complete one: d3, published since, is listed and named
    assert_eq!(ids(&scanned.inventory), ["d1", "d2", "d3"]);
    assert!(
        matches!(&scanned.warnings[..], [retention::Warning::InventoryNewer { ids, .. }] if ids.len() == 1 && ids[0].as_str() == "d3"),
        "the 25th's report, the newest complete one: {:?}",
        scanned.warnings
    );
    // a folder with no complete report is an error that says what to do
    let empty: bucket::inventory::InventoryLocation =
        format!("s3://{}/inv/nothing-here/", reports.name())
            .parse()
            .unwrap();
    let e = b
        .scan_inventory(&empty, &opts)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("no complete report") && e.contains("manifest.checksum"),
        "{e}"
    );
    // a manifest that does not match its checksum is refused, by folder or by address
    let checksum = format!("inv/{}/2026-11-25T00-00Z/manifest.checksum", b.name());
    reports
        .put(
            &checksum,
            b"0123456789abcdef0123456789abcdef".to_vec(),
            "text/plain",
            &[],
        )
        .await
        .unwrap();
    for at in [folder.clone(), second.parse().unwrap()] {
        let e = b.scan_inventory(&at, &opts).await.unwrap_err().to_string();
        assert!(e.contains("manifest.checksum says"), "{e}");
    }
}

#[tokio::test]
async fn a_damaged_missing_or_incomplete_report_is_an_error_naming_it() {
    let b = fresh_bucket("inv-bad").await;
    let reports = fresh_bucket("inv-bad-reports").await;
    put_many(&b, ["d1/index.html".into()], &[]).await;
    let opts = ScanOptions::default();
    let err = |at: String| {
        let b = b.clone();
        let opts = opts.clone();
        async move {
            b.scan_inventory(&at.parse().unwrap(), &opts)
                .await
                .unwrap_err()
                .to_string()
        }
    };
    let e = err(write_inventory(
        &b,
        &reports,
        INVENTORY_SCHEMA,
        Some("0123456789abcdef0123456789abcdef"),
        true,
        "md5",
    )
    .await)
    .await;
    assert!(
        e.contains("MD5") && e.contains("part-1.csv.gz") && e.contains("Nothing will be deleted"),
        "{e}"
    );
    let e = err(write_parquet_inventory(
        &b,
        &reports,
        Some("0123456789abcdef0123456789abcdef"),
        "parquet-md5",
    )
    .await)
    .await;
    assert!(e.contains("MD5") && e.contains("part-1.parquet"), "{e}");
    let e =
        err(write_inventory(&b, &reports, INVENTORY_SCHEMA, None, false, "missing").await).await;
    assert!(
        e.contains("does not exist") && e.contains("part-1.csv.gz"),
        "{e}"
    );
    let no_size = INVENTORY_SCHEMA.replace(" Size,", "");
    let e = err(write_inventory(&b, &reports, &no_size, None, true, "no-size").await).await;
    assert!(e.contains("no Size column"), "{e}");
    let e = err(format!("s3://{}/nowhere/manifest.json", reports.name())).await;
    assert!(
        e.contains("manifest.json") && e.contains("does not exist"),
        "{e}"
    );
}
