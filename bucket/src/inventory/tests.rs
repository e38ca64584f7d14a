//! The manifest and row parsing of S3 Inventory reports.

use super::*;

/// The shape of AWS's documented example, with our columns.
pub(super) const MANIFEST: &str = r#"{
    "sourceBucket": "example-source-bucket",
    "destinationBucket": "arn:aws:s3:::example-inventory-destination-bucket",
    "version": "2016-11-30",
    "creationTimestamp": "1514944800000",
    "fileFormat": "CSV",
    "fileSchema": "Bucket, Key, VersionId, IsLatest, IsDeleteMarker, Size, LastModifiedDate, ETag",
    "files": [{
        "key": "Inventory/example-source-bucket/2016-11-06T21-32Z/files/939c6d46.csv.gz",
        "size": 2147483647,
        "MD5checksum": "f11166069f1990abeb9c97ace9cdfabc"
    }]
}"#;

/// The CSV columns of a CSV manifest.
fn csv(m: &Manifest) -> &CsvSchema {
    match &m.schema {
        Schema::Csv(s) => s,
        other => panic!("not CSV: {other:?}"),
    }
}

#[test]
fn the_documented_manifest_reads() {
    let m = parse_manifest(MANIFEST).unwrap();
    assert_eq!(m.source_bucket, "example-source-bucket");
    assert_eq!(m.created.to_rfc3339(), "2018-01-03T02:00:00+00:00");
    assert_eq!(m.files.len(), 1);
    assert_eq!(m.files[0].md5, "f11166069f1990abeb9c97ace9cdfabc");
    let row = r#""example-source-bucket","d1/css/a%20b+c.css","v1","true","false","1024","2016-11-06T20:00:00.000Z","abc""#;
    assert_eq!(
        parse_row(row, csv(&m), 1).unwrap(),
        Some(Row {
            key: "d1/css/a b c.css".into(),
            size: 1024,
            last_modified: "2016-11-06T20:00:00Z".parse().unwrap(),
        })
    );
}

#[test]
fn old_versions_and_delete_markers_are_not_objects() {
    let m = parse_manifest(MANIFEST).unwrap();
    let old = r#""b","d1/x","v0","false","false","1","2016-11-06T20:00:00.000Z","e""#;
    let marker = r#""b","d1/x","v2","true","true","","2016-11-06T20:00:00.000Z","""#;
    assert_eq!(parse_row(old, csv(&m), 1).unwrap(), None);
    assert_eq!(parse_row(marker, csv(&m), 2).unwrap(), None);
}

#[test]
fn a_manifest_without_the_needed_columns_or_files_is_refused_with_what_to_do() {
    let no_size = MANIFEST.replace(" Size,", "");
    assert_eq!(
        parse_manifest(&no_size),
        Err(InventoryError::MissingColumn("Size"))
    );
    let orc = MANIFEST.replace("\"CSV\"", "\"ORC\"");
    assert!(parse_manifest(&orc)
        .unwrap_err()
        .to_string()
        .contains("set the report's format to CSV or Parquet"));
    // a Parquet manifest's schema is a message type, checked for the same columns
    let parquet = MANIFEST.replace("\"CSV\"", "\"Parquet\"");
    assert!(matches!(
        parse_manifest(&parquet),
        Err(InventoryError::ParquetSchema(_))
    ));
    let i = MANIFEST.find("\"files\"").unwrap();
    let empty = format!("{}\"files\": []}}", &MANIFEST[..i]);
    assert_eq!(parse_manifest(&empty), Err(InventoryError::NoFiles));
    assert!(matches!(
        parse_manifest("{"),
        Err(InventoryError::NotJson(_))
    ));
}

#[test]
fn a_broken_row_names_its_line() {
    let m = parse_manifest(MANIFEST).unwrap();
    let short = r#""b","d1/x""#;
    let e = parse_row(short, csv(&m), 7).unwrap_err().to_string();
    assert!(e.contains("row 7") && e.contains("2 fields"), "{e}");
    let size = r#""b","d1/x","v","true","false","big","2016-11-06T20:00:00.000Z","e""#;
    assert!(parse_row(size, csv(&m), 8)
        .unwrap_err()
        .to_string()
        .contains("size 'big'"));
    let quoted = r#""b","d1/say ""hi"".txt","v","true","false","3","2016-11-06T20:00:00.000Z","e""#;
    assert_eq!(
        parse_row(quoted, csv(&m), 9).unwrap().unwrap().key,
        "d1/say \"hi\".txt"
    );
}

#[test]
fn a_location_is_a_manifest_or_a_configurations_folder() {
    let m: InventoryLocation = "s3://inv/p/src/cfg/2026-11-26T00-00Z/manifest.json"
        .parse()
        .unwrap();
    assert_eq!(
        (m.bucket.as_str(), m.key.as_str()),
        ("inv", "p/src/cfg/2026-11-26T00-00Z/manifest.json")
    );
    let d: InventoryLocation = "s3://inv/p/src/cfg/".parse().unwrap();
    assert_eq!(d.key, "p/src/cfg/");
    for bad in [
        "https://inv/x/manifest.json",
        "s3://inv/p/src/cfg",
        "s3://inv/",
        "s3:///x/",
    ] {
        let e = bad.parse::<InventoryLocation>().unwrap_err();
        assert!(
            e.contains("s3://BUCKET/PATH/manifest.json") && e.contains("CONFIG-ID/"),
            "{bad}: {e}"
        );
    }
}

#[test]
fn the_newest_dated_folder_comes_first_and_other_folders_are_not_reports() {
    let dir = "p/src/cfg/";
    let listed = [
        "p/src/cfg/2026-11-24T01-00Z/",
        "p/src/cfg/data/",
        "p/src/cfg/hive/",
        "p/src/cfg/2026-11-26T01-00Z/",
        "p/src/cfg/2026-11-25T01-00Z/",
        "p/src/cfg/2026-11-27T01-00/",
    ]
    .map(String::from);
    assert_eq!(
        report::newest_first(dir, listed),
        [
            "p/src/cfg/2026-11-26T01-00Z/",
            "p/src/cfg/2026-11-25T01-00Z/",
            "p/src/cfg/2026-11-24T01-00Z/",
        ]
    );
    assert!(report::is_report_folder("2016-11-06T21-32Z"));
    assert!(!report::is_report_folder("2016-11-06T21:32Z"));
}

#[test]
fn a_deployment_gone_since_the_report_is_left_out_and_one_published_since_is_named() {
    use super::report::Drift;
    let at = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
    let mut reported: HashMap<String, Agg> = ["d1", "d2", "d6"]
        .iter()
        .map(|id| {
            let mut a = Agg::default();
            a.add(at, 1, &format!("{id}/x"), None);
            (id.to_string(), a)
        })
        .collect();
    let live: Vec<String> = ["d1", "d2", "d7"].iter().map(|s| s.to_string()).collect();
    let drift = Drift::between(&mut reported, &live);
    assert_eq!(drift.gone, ["d6"]);
    assert_eq!(drift.newer, ["d7"]);
    let mut left: Vec<&String> = reported.keys().collect();
    left.sort();
    assert_eq!(left, ["d1", "d2"]);
}
