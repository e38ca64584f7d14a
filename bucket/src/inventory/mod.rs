//! S3 Inventory as a listing source (issue 14), its pure part: the `manifest.json` AWS writes
//! for a CSV inventory (`fileFormat`, `fileSchema`, `files[].key/size/MD5checksum`,
//! `creationTimestamp`) and the rows of its data files (gzip CSV), each checked against its
//! MD5, folded into the same per-deployment counters a listing makes. A plan from a report is
//! as good as the report is recent: its date goes with the inventory.

use crate::scan::{Agg, RESERVED};
use crate::{Bucket, S3Error, ScanOptions};
use chrono::{DateTime, Utc};
use futures::stream::{self, StreamExt, TryStreamExt};
use retention::{Inventory, LooseObjects};
use serde::Deserialize;
use std::collections::HashMap;
use std::io::Read;
use std::str::FromStr;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InventoryError {
    #[error("the inventory manifest is not valid JSON: {0}")]
    NotJson(String),
    #[error("the inventory is in {0} format; s3-prune reads CSV inventories (set the report's format to CSV)")]
    Format(String),
    #[error("the inventory's fileSchema has no {0} column; add it to the report's optional fields (Size and Last modified date) and wait for the next report")]
    MissingColumn(&'static str),
    #[error("the inventory manifest lists no data files")]
    NoFiles,
    #[error("the inventory manifest's creationTimestamp '{0}' is not milliseconds since 1970")]
    Timestamp(String),
    #[error("inventory row {line}: {problem}")]
    Row { line: u64, problem: String },
}

/// One data file of the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataFile {
    pub key: String,
    pub size: u64,
    pub md5: String,
}

/// Where the columns s3-prune needs are in each row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schema {
    key: usize,
    size: usize,
    last_modified: usize,
    is_latest: Option<usize>,
    is_delete_marker: Option<usize>,
    columns: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    pub source_bucket: String,
    /// When AWS began the report: the plan states it and warns when it is old.
    pub created: DateTime<Utc>,
    pub schema: Schema,
    pub files: Vec<DataFile>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawManifest {
    source_bucket: String,
    file_format: String,
    file_schema: String,
    creation_timestamp: String,
    files: Vec<RawFile>,
}

#[derive(Deserialize)]
struct RawFile {
    key: String,
    size: u64,
    #[serde(rename = "MD5checksum")]
    md5: String,
}

pub fn parse_manifest(text: &str) -> Result<Manifest, InventoryError> {
    let raw: RawManifest =
        serde_json::from_str(text).map_err(|e| InventoryError::NotJson(e.to_string()))?;
    if !raw.file_format.eq_ignore_ascii_case("CSV") {
        return Err(InventoryError::Format(raw.file_format));
    }
    let cols: Vec<&str> = raw.file_schema.split(',').map(str::trim).collect();
    let at = |name: &'static str| cols.iter().position(|c| *c == name);
    let need = |name: &'static str| at(name).ok_or(InventoryError::MissingColumn(name));
    let schema = Schema {
        key: need("Key")?,
        size: need("Size")?,
        last_modified: need("LastModifiedDate")?,
        is_latest: at("IsLatest"),
        is_delete_marker: at("IsDeleteMarker"),
        columns: cols.len(),
    };
    if raw.files.is_empty() {
        return Err(InventoryError::NoFiles);
    }
    let ms: i64 = raw
        .creation_timestamp
        .trim()
        .parse()
        .map_err(|_| InventoryError::Timestamp(raw.creation_timestamp.clone()))?;
    let created = DateTime::from_timestamp_millis(ms)
        .ok_or_else(|| InventoryError::Timestamp(raw.creation_timestamp.clone()))?;
    Ok(Manifest {
        source_bucket: raw.source_bucket,
        created,
        schema,
        files: raw
            .files
            .into_iter()
            .map(|f| DataFile {
                key: f.key,
                size: f.size,
                md5: f.md5,
            })
            .collect(),
    })
}

/// One current object of the inventory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub key: String,
    pub size: u64,
    pub last_modified: DateTime<Utc>,
}

/// The fields of one CSV line: `"a","b"` with `""` for a quote inside a field.
fn fields(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => out.push(std::mem::take(&mut cur)),
            (c, _) => cur.push(c),
        }
    }
    out.push(cur);
    out
}

/// Inventory keys are URL-encoded (`%XX`, and `+` for a space).
fn url_decode(s: &str) -> Result<String, String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = s
                    .get(i + 1..i + 3)
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or_else(|| format!("bad %-escape in key '{s}'"))?;
                out.push(hex);
                i += 2;
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|_| format!("key '{s}' is not UTF-8 once decoded"))
}

/// One data-file line: the current object it describes, or `None` for an old version or a
/// delete marker (they are not part of any deployment as a listing sees it).
pub fn parse_row(line: &str, schema: &Schema, line_no: u64) -> Result<Option<Row>, InventoryError> {
    let bad = |problem: String| InventoryError::Row {
        line: line_no,
        problem,
    };
    let f = fields(line);
    if f.len() != schema.columns {
        return Err(bad(format!(
            "{} fields where the schema has {}",
            f.len(),
            schema.columns
        )));
    }
    let flag = |i: Option<usize>| i.is_some_and(|i| f[i].eq_ignore_ascii_case("true"));
    if schema.is_latest.is_some() && !flag(schema.is_latest) {
        return Ok(None);
    }
    if flag(schema.is_delete_marker) {
        return Ok(None);
    }
    let key = url_decode(&f[schema.key]).map_err(bad)?;
    let size = f[schema.size]
        .parse::<u64>()
        .map_err(|_| bad(format!("size '{}' is not a number", f[schema.size])))?;
    let last_modified = DateTime::parse_from_rfc3339(&f[schema.last_modified])
        .map_err(|_| {
            bad(format!(
                "LastModifiedDate '{}' is not an RFC 3339 date",
                f[schema.last_modified]
            ))
        })?
        .with_timezone(&Utc);
    Ok(Some(Row {
        key,
        size,
        last_modified,
    }))
}

/// Where a report's manifest is: `s3://BUCKET/PATH/manifest.json`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InventoryLocation {
    pub bucket: String,
    pub key: String,
}

impl FromStr for InventoryLocation {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let rest = s.strip_prefix("s3://").ok_or_else(|| {
            format!("'{s}' is not an s3:// address: give s3://BUCKET/PATH/manifest.json")
        })?;
        match rest.split_once('/') {
            Some((b, k)) if !b.is_empty() && k.ends_with("manifest.json") => {
                Ok(InventoryLocation {
                    bucket: b.to_string(),
                    key: k.to_string(),
                })
            }
            _ => Err(format!(
                "'{s}' does not name a manifest: give s3://BUCKET/PATH/manifest.json"
            )),
        }
    }
}

/// Adds one current object to the counters of its deployment folder under `prefix` (or to the
/// loose objects beside them); objects outside the prefix and s3-prune's own folder are not
/// counted, as in a listing.
pub(crate) fn fold(
    row: &Row,
    prefix: &str,
    aggs: &mut HashMap<String, Agg>,
    loose: &mut LooseObjects,
) {
    let Some(rest) = row.key.strip_prefix(prefix) else {
        return;
    };
    if rest.is_empty() {
        return; // the prefix's own folder marker
    }
    match rest.split_once('/') {
        Some((id, _)) if id == RESERVED => {}
        Some((id, _)) => {
            aggs.entry(id.to_string())
                .or_default()
                .add(row.last_modified, row.size, &row.key, None)
        }
        None => {
            loose.objects += 1;
            loose.bytes += row.size;
        }
    }
}

fn md5_hex(bytes: &[u8]) -> String {
    use md5::{Digest, Md5};
    Md5::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The text of a data file: checked against the manifest's MD5, un-gzipped when `.gz`.
fn data_text(file: &DataFile, body: &[u8]) -> Result<String, String> {
    let got = md5_hex(body);
    if !got.eq_ignore_ascii_case(&file.md5) {
        return Err(format!(
            "its MD5 is {got}, the manifest says {}: the file is damaged or not the one listed",
            file.md5
        ));
    }
    let mut text = String::new();
    if file.key.ends_with(".gz") {
        flate2::read::MultiGzDecoder::new(body)
            .read_to_string(&mut text)
            .map_err(|e| format!("it is not valid gzip text: {e}"))?;
    } else {
        text = String::from_utf8(body.to_vec()).map_err(|_| "it is not UTF-8 text".to_string())?;
    }
    Ok(text)
}

impl Bucket {
    /// Plans from an S3 Inventory report instead of a listing: the same counters, from the
    /// report's data files (several at once), with the report's date (`report_date`). A
    /// manifest or data file that is missing, damaged or lacks the needed columns is an error:
    /// nothing is planned from part of a report.
    pub async fn scan_inventory(
        &self,
        at: &InventoryLocation,
        opts: &ScanOptions,
    ) -> Result<Inventory, S3Error> {
        let facts = self.facts(opts).await?;
        let reports = Bucket {
            client: self.client.clone(),
            name: at.bucket.clone(),
            prefix: String::new(),
            endpoint: self.endpoint.clone(),
            meta_cache: Default::default(),
        };
        let url = |k: &str| format!("s3://{}/{k}", at.bucket);
        let refuse = |k: &str, problem: String| S3Error::Pointer {
            key: url(k),
            problem,
        };
        let body = reports
            .get_body(&at.key)
            .await?
            .ok_or_else(|| refuse(&at.key, "it does not exist".into()))?;
        let text =
            String::from_utf8(body).map_err(|_| refuse(&at.key, "it is not UTF-8".into()))?;
        let manifest = parse_manifest(&text).map_err(|e| refuse(&at.key, e.to_string()))?;
        if manifest.source_bucket != self.name {
            return Err(refuse(
                &at.key,
                format!(
                    "it is the report of bucket '{}', not '{}'",
                    manifest.source_bucket, self.name
                ),
            ));
        }
        let schema = &manifest.schema;
        // Futures are collected first: a closure inside the stream type trips the compiler's
        // Send inference for callers that spawn this (as in delete.rs).
        let reads: Vec<_> = manifest
            .files
            .iter()
            .enumerate()
            .map(|(i, f)| {
                let reports = &reports;
                async move {
                    let body = reports.get_body(&f.key).await?.ok_or_else(|| {
                        refuse(
                            &f.key,
                            "the manifest lists it, but it does not exist".into(),
                        )
                    })?;
                    let text = data_text(f, &body).map_err(|p| refuse(&f.key, p))?;
                    Ok::<_, S3Error>((i, text))
                }
            })
            .collect();
        let texts: Vec<(usize, String)> = stream::iter(reads)
            .buffer_unordered(opts.concurrency.max(1))
            .try_collect()
            .await?;
        let mut aggs: HashMap<String, Agg> = HashMap::new();
        let mut loose = LooseObjects::default();
        for (i, text) in texts {
            let key = &manifest.files[i].key;
            for (n, line) in text
                .lines()
                .enumerate()
                .filter(|(_, l)| !l.trim().is_empty())
            {
                let row = parse_row(line, schema, n as u64 + 1)
                    .map_err(|e| refuse(key, e.to_string()))?;
                if let Some(row) = row {
                    fold(&row, &self.prefix, &mut aggs, &mut loose);
                }
            }
        }
        let mut inventory = self.inventory_of(aggs, loose, facts, opts).await?;
        inventory.report_date = Some(manifest.created);
        Ok(inventory)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shape of AWS's documented example, with our columns.
    const MANIFEST: &str = r#"{
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

    #[test]
    fn the_documented_manifest_reads() {
        let m = parse_manifest(MANIFEST).unwrap();
        assert_eq!(m.source_bucket, "example-source-bucket");
        assert_eq!(m.created.to_rfc3339(), "2018-01-03T02:00:00+00:00");
        assert_eq!(m.files.len(), 1);
        assert_eq!(m.files[0].md5, "f11166069f1990abeb9c97ace9cdfabc");
        let row = r#""example-source-bucket","d1/css/a%20b+c.css","v1","true","false","1024","2016-11-06T20:00:00.000Z","abc""#;
        assert_eq!(
            parse_row(row, &m.schema, 1).unwrap(),
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
        assert_eq!(parse_row(old, &m.schema, 1).unwrap(), None);
        assert_eq!(parse_row(marker, &m.schema, 2).unwrap(), None);
    }

    #[test]
    fn a_manifest_without_the_needed_columns_or_files_is_refused_with_what_to_do() {
        let no_size = MANIFEST.replace(" Size,", "");
        assert_eq!(
            parse_manifest(&no_size),
            Err(InventoryError::MissingColumn("Size"))
        );
        let parquet = MANIFEST.replace("\"CSV\"", "\"Parquet\"");
        assert!(parse_manifest(&parquet)
            .unwrap_err()
            .to_string()
            .contains("set the report's format to CSV"));
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
        let e = parse_row(short, &m.schema, 7).unwrap_err().to_string();
        assert!(e.contains("row 7") && e.contains("2 fields"), "{e}");
        let size = r#""b","d1/x","v","true","false","big","2016-11-06T20:00:00.000Z","e""#;
        assert!(parse_row(size, &m.schema, 8)
            .unwrap_err()
            .to_string()
            .contains("size 'big'"));
        let quoted =
            r#""b","d1/say ""hi"".txt","v","true","false","3","2016-11-06T20:00:00.000Z","e""#;
        assert_eq!(
            parse_row(quoted, &m.schema, 9).unwrap().unwrap().key,
            "d1/say \"hi\".txt"
        );
    }
}
