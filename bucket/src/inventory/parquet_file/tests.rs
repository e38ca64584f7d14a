//! Parquet inventory files: AWS's documented schema is accepted, the rows fold as a listing
//! would (old versions and delete markers are not objects), whatever the codec; a file that
//! lacks a needed column or is not Parquet is refused saying so.

use super::*;
use crate::testkit::{parquet_inventory, InventoryObject};
use ::parquet::basic::{Compression, GzipLevel};
use std::io::{Seek, Write};

/// AWS's example `fileSchema` for a Parquet inventory, as documented (all 18 columns).
const DOCUMENTED: &str = "message s3.inventory { required binary bucket (UTF8); required binary key (UTF8); optional binary version_id (UTF8); optional boolean is_latest; optional boolean is_delete_marker; optional int64 size; optional int64 last_modified_date (TIMESTAMP_MILLIS); optional binary e_tag (UTF8); optional binary storage_class (UTF8); optional boolean is_multipart_uploaded; optional binary replication_status (UTF8); optional binary encryption_status (UTF8); optional int64 object_lock_retain_until_date (TIMESTAMP_MILLIS); optional binary object_lock_mode (UTF8); optional binary object_lock_legal_hold_status (UTF8); optional binary intelligent_tiering_access_tier (UTF8); optional binary bucket_key_status (UTF8); optional binary checksum_algorithm (UTF8); }";

fn obj(key: &str, size: Option<i64>, ms: i64, latest: bool, marker: bool) -> InventoryObject {
    InventoryObject {
        key: key.into(),
        size,
        last_modified_ms: ms,
        is_latest: latest,
        is_delete_marker: marker,
    }
}

fn on_disk(bytes: &[u8]) -> File {
    let mut f = tempfile::tempfile().unwrap();
    f.write_all(bytes).unwrap();
    f.rewind().unwrap();
    f
}

fn rows() -> Vec<InventoryObject> {
    vec![
        obj(
            "site/d1/index.html",
            Some(100),
            1_764_000_000_000,
            true,
            false,
        ),
        obj(
            "site/d1/a b+c.css",
            Some(20),
            1_764_000_500_000,
            true,
            false,
        ),
        obj(
            "site/d2/index.html",
            Some(7),
            1_764_100_000_000,
            true,
            false,
        ),
        obj("site/robots.txt", Some(3), 1_764_000_000_000, true, false),
        obj(
            "site/d3/old.html",
            Some(99),
            1_700_000_000_000,
            false,
            false,
        ),
        obj("site/d3/old.html", None, 1_700_000_100_000, true, true),
        obj("elsewhere/x", Some(1), 1_764_000_000_000, true, false),
    ]
}

#[test]
fn the_documented_parquet_schema_is_accepted_and_one_without_size_is_refused() {
    assert_eq!(check_manifest_schema(DOCUMENTED), Ok(()));
    let no_size = DOCUMENTED.replace(" optional int64 size;", "");
    assert_eq!(
        check_manifest_schema(&no_size),
        Err(InventoryError::MissingColumn("size"))
    );
    assert!(matches!(
        check_manifest_schema("Bucket, Key, Size"),
        Err(InventoryError::ParquetSchema(_))
    ));
}

#[test]
fn a_parquet_file_folds_like_a_listing_whatever_its_codec() {
    for codec in [
        Compression::UNCOMPRESSED,
        Compression::SNAPPY,
        Compression::GZIP(GzipLevel::default()),
        Compression::ZSTD(Default::default()),
        Compression::LZ4_RAW,
        Compression::BROTLI(Default::default()),
    ] {
        let bytes = parquet_inventory("b", &rows(), codec);
        let folded = fold_file(on_disk(&bytes), "site/").unwrap_or_else(|e| panic!("{codec}: {e}"));
        let mut ids: Vec<_> = folded.aggs.keys().cloned().collect();
        ids.sort();
        // d3 has only an old version and a delete marker: no object, no deployment
        assert_eq!(ids, ["d1", "d2"], "{codec}");
        assert_eq!(folded.loose.objects, 1, "robots.txt");
        assert_eq!(folded.loose.bytes, 3);
        let d1 = format!("{:?}", folded.aggs["d1"]);
        assert!(d1.contains("objects: 2, bytes: 120"), "{codec}: {d1}");
        // the newest object dates the deployment; a Parquet key is taken as it is (no
        // URL-decoding: '+' stays '+')
        assert!(
            d1.contains("2025-11-24T16:08:20Z") && d1.contains("site/d1/a b+c.css"),
            "{codec}: {d1}"
        );
    }
}

#[test]
fn a_file_that_is_not_parquet_or_lacks_a_row_value_is_refused_saying_so() {
    let e = fold_file(on_disk(b"\"b\",\"k\",\"1\"\n"), "").unwrap_err();
    assert!(e.contains("not a readable Parquet file"), "{e}");
    let bytes = parquet_inventory(
        "b",
        &[obj("d1/x", None, 1, true, false)],
        Compression::SNAPPY,
    );
    let e = fold_file(on_disk(&bytes), "").unwrap_err();
    assert!(
        e.contains("row 1") && e.contains("'d1/x' has no size"),
        "{e}"
    );
    let bytes = parquet_inventory(
        "b",
        &[obj("d1/x", Some(-4), 1, true, false)],
        Compression::SNAPPY,
    );
    let e = fold_file(on_disk(&bytes), "").unwrap_err();
    assert!(e.contains("negative"), "{e}");
}
