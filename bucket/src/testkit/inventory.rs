//! Test support for S3 Inventory: reports written into LocalStack in AWS's documented layout
//! (a data file and a `manifest.json` naming it with its MD5), as gzip CSV or as Parquet.

use crate::inventory::hex;
use crate::Bucket;
use ::parquet::basic::Compression;
use ::parquet::data_type::{BoolType, ByteArray, ByteArrayType, Int64Type};
use ::parquet::file::properties::WriterProperties;
use ::parquet::file::writer::SerializedFileWriter;
use ::parquet::schema::parser::parse_message_type;
use md5::{Digest, Md5};
use std::sync::Arc;

/// The columns of the CSV reports [`write_inventory`] writes.
pub const INVENTORY_SCHEMA: &str =
    "Bucket, Key, VersionId, IsLatest, IsDeleteMarker, Size, LastModifiedDate, ETag";

/// The Parquet schema AWS documents for an inventory, with the first eight of its columns (a
/// report has those its configuration asks for).
pub const PARQUET_INVENTORY_SCHEMA: &str = "message s3.inventory { required binary bucket (UTF8); \
     required binary key (UTF8); optional binary version_id (UTF8); optional boolean is_latest; \
     optional boolean is_delete_marker; optional int64 size; \
     optional int64 last_modified_date (TIMESTAMP_MILLIS); optional binary e_tag (UTF8); }";

/// One row of an inventory: an object, an old version or a delete marker.
#[derive(Debug, Clone)]
pub struct InventoryObject {
    pub key: String,
    pub size: Option<i64>,
    pub last_modified_ms: i64,
    pub is_latest: bool,
    pub is_delete_marker: bool,
}

/// Every current object of `b` (a listing), then one old version and one delete marker (rows
/// that are not objects).
async fn rows_of(b: &Bucket) -> Vec<InventoryObject> {
    let out = b
        .client()
        .list_objects_v2()
        .bucket(b.name())
        .send()
        .await
        .unwrap();
    let mut rows: Vec<InventoryObject> = out
        .contents()
        .iter()
        .map(|o| InventoryObject {
            key: o.key().unwrap().to_string(),
            size: o.size(),
            last_modified_ms: o.last_modified().unwrap().to_millis().unwrap(),
            is_latest: true,
            is_delete_marker: false,
        })
        .collect();
    let old = |ms: i64, marker: bool| InventoryObject {
        key: "zzz/old.html".into(),
        size: (!marker).then_some(99),
        last_modified_ms: ms,
        is_latest: marker,
        is_delete_marker: marker,
    };
    rows.push(old(1_577_836_800_000, false));
    rows.push(old(1_577_923_200_000, true));
    rows
}

/// Writes an S3 Inventory report of `b` (a gzip CSV data file with columns `schema`) into
/// `reports`, from a listing of `b` plus one old version and one delete marker row; returns the
/// manifest's s3:// address.
pub async fn write_inventory(
    b: &Bucket,
    reports: &Bucket,
    schema: &str,
    md5_override: Option<&str>,
    write_data: bool,
    run: &str,
) -> String {
    let data = csv_inventory(b.name(), &rows_of(b).await);
    let report = Report {
        format: "CSV",
        schema,
        files: vec![("part-1.csv.gz".into(), data)],
    };
    report.put(b, reports, md5_override, write_data, run).await
}

/// The same report as [`write_inventory`], as one Parquet data file (SNAPPY).
pub async fn write_parquet_inventory(
    b: &Bucket,
    reports: &Bucket,
    md5_override: Option<&str>,
    run: &str,
) -> String {
    let rows = rows_of(b).await;
    let report = Report {
        format: "Parquet",
        schema: PARQUET_INVENTORY_SCHEMA,
        files: vec![(
            "part-1.parquet".into(),
            parquet_inventory(b.name(), &rows, Compression::SNAPPY),
        )],
    };
    report.put(b, reports, md5_override, true, run).await
}

/// A gzip CSV inventory data file of `rows` in [`INVENTORY_SCHEMA`], keys URL-encoded as AWS
/// writes them (the characters the tests use: `%`, `+`, space).
pub fn csv_inventory(bucket: &str, rows: &[InventoryObject]) -> Vec<u8> {
    use std::io::Write;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    for r in rows {
        let at = chrono::DateTime::from_timestamp_millis(r.last_modified_ms)
            .unwrap()
            .format("%Y-%m-%dT%H:%M:%S%.3fZ");
        let size = r.size.map(|s| s.to_string()).unwrap_or_default();
        let key = r
            .key
            .replace('%', "%25")
            .replace('+', "%2B")
            .replace(' ', "+");
        writeln!(
            gz,
            "\"{bucket}\",\"{key}\",\"v1\",\"{}\",\"{}\",\"{size}\",\"{at}\",\"etag\"",
            r.is_latest, r.is_delete_marker,
        )
        .unwrap();
    }
    gz.finish().unwrap()
}

/// A Parquet inventory data file of `rows` in [`PARQUET_INVENTORY_SCHEMA`].
pub fn parquet_inventory(
    bucket: &str,
    rows: &[InventoryObject],
    compression: Compression,
) -> Vec<u8> {
    let schema = Arc::new(parse_message_type(PARQUET_INVENTORY_SCHEMA).unwrap());
    let props = Arc::new(
        WriterProperties::builder()
            .set_compression(compression)
            .build(),
    );
    let mut out = Vec::new();
    let mut file = SerializedFileWriter::new(&mut out, schema, props).unwrap();
    let mut group = file.next_row_group().unwrap();
    let text = |f: &dyn Fn(&InventoryObject) -> String| -> Vec<ByteArray> {
        rows.iter()
            .map(|r| ByteArray::from(f(r).as_str()))
            .collect()
    };
    let all = vec![1i16; rows.len()];
    let mut column = 0;
    while let Some(mut col) = group.next_column().unwrap() {
        match column {
            0 => {
                col.typed::<ByteArrayType>()
                    .write_batch(&text(&|_| bucket.to_string()), None, None)
            }
            1 => col
                .typed::<ByteArrayType>()
                .write_batch(&text(&|r| r.key.clone()), None, None),
            2 | 7 => {
                col.typed::<ByteArrayType>()
                    .write_batch(&text(&|_| "v1".into()), Some(&all), None)
            }
            3 | 4 => {
                let v: Vec<bool> = rows
                    .iter()
                    .map(|r| {
                        if column == 3 {
                            r.is_latest
                        } else {
                            r.is_delete_marker
                        }
                    })
                    .collect();
                col.typed::<BoolType>().write_batch(&v, Some(&all), None)
            }
            5 => {
                let v: Vec<i64> = rows.iter().filter_map(|r| r.size).collect();
                let def: Vec<i16> = rows.iter().map(|r| r.size.is_some() as i16).collect();
                col.typed::<Int64Type>().write_batch(&v, Some(&def), None)
            }
            6 => {
                let v: Vec<i64> = rows.iter().map(|r| r.last_modified_ms).collect();
                col.typed::<Int64Type>().write_batch(&v, Some(&all), None)
            }
            n => panic!("column {n} is not in the schema"),
        }
        .unwrap();
        col.close().unwrap();
        column += 1;
    }
    group.close().unwrap();
    file.close().unwrap();
    out
}

/// A report's data files and what its manifest says of them.
pub struct Report<'a> {
    /// `CSV` or `Parquet`.
    pub format: &'a str,
    /// The manifest's `fileSchema`.
    pub schema: &'a str,
    /// Each data file's name (under `files/`) and bytes.
    pub files: Vec<(String, Vec<u8>)>,
}

impl Report<'_> {
    /// Puts the data files (unless `write_data` is false) and a manifest naming them, dated
    /// 2026-11-26 00:00 UTC, under `inv/<bucket>/<run>/`; returns the manifest's address.
    pub async fn put(
        self,
        b: &Bucket,
        reports: &Bucket,
        md5_override: Option<&str>,
        write_data: bool,
        run: &str,
    ) -> String {
        let mut listed = Vec::new();
        for (name, data) in self.files {
            let md5 = hex(&Md5::digest(&data));
            let data_key = format!("inv/{}/{run}/files/{name}", b.name());
            let size = data.len();
            if write_data {
                reports
                    .put(&data_key, data, "application/octet-stream", &[])
                    .await
                    .unwrap();
            }
            listed.push(serde_json::json!({
                "key": data_key, "size": size, "MD5checksum": md5_override.unwrap_or(&md5),
            }));
        }
        let manifest = serde_json::json!({
            "sourceBucket": b.name(),
            "destinationBucket": format!("arn:aws:s3:::{}", reports.name()),
            "version": "2016-11-30",
            "creationTimestamp": "1795651200000",
            "fileFormat": self.format,
            "fileSchema": self.schema,
            "files": listed,
        });
        let dir = format!("inv/{}/{run}/", b.name());
        let manifest = manifest.to_string().into_bytes();
        // AWS writes manifest.checksum (the manifest's MD5) last: a report is complete with it
        let checksum = hex(&Md5::digest(&manifest));
        let key = format!("{dir}manifest.json");
        reports
            .put(&key, manifest, "application/json", &[])
            .await
            .unwrap();
        reports
            .put(
                &format!("{dir}manifest.checksum"),
                checksum.into_bytes(),
                "text/plain",
                &[],
            )
            .await
            .unwrap();
        format!("s3://{}/{key}", reports.name())
    }
}
