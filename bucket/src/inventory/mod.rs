//! S3 Inventory as a listing source (issue 14), its pure part: the `manifest.json` AWS writes
//! for a CSV inventory (`fileFormat`, `fileSchema`, `files[].key/size/MD5checksum`,
//! `creationTimestamp`) and the rows of its data files (gzip CSV), each checked against its
//! MD5, folded into the same per-deployment counters a listing makes, file by file as each
//! arrives (`data_file`). A plan from a report is
//! as good as the report is recent: its date goes with the inventory.

mod data_file;

use crate::scan::{Agg, RESERVED};
use crate::{Bucket, S3Error, ScanOptions};
use chrono::{DateTime, Utc};
use data_file::{DataFileReader, Folded};
use futures::stream::{self, StreamExt, TryStreamExt};
use retention::{Inventory, LooseObjects};
use serde::Deserialize;
use std::collections::HashMap;
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
        let prefix = self.prefix.as_str();
        // Each data file is read as it arrives and folded into its own counters (see
        // data_file.rs), several at once; a file's counters join the total when it is done.
        // Futures are collected first: a closure inside the stream type trips the compiler's
        // Send inference for callers that spawn this (as in delete.rs).
        let reads: Vec<_> = manifest
            .files
            .iter()
            .map(|f| {
                let reports = &reports;
                async move {
                    let mut body = reports.get_stream(&f.key).await?.ok_or_else(|| {
                        refuse(
                            &f.key,
                            "the manifest lists it, but it does not exist".into(),
                        )
                    })?;
                    let mut reader = DataFileReader::new(f, schema, prefix);
                    while let Some(chunk) = body
                        .try_next()
                        .await
                        .map_err(|e| refuse(&f.key, format!("reading it stopped: {e}")))?
                    {
                        reader.feed(&chunk);
                    }
                    reader.finish().map_err(|p| refuse(&f.key, p))
                }
            })
            .collect();
        let Folded { aggs, loose } = stream::iter(reads)
            .buffer_unordered(opts.concurrency.max(1))
            .try_fold(Folded::default(), |mut total, file| async move {
                total.merge(file);
                Ok(total)
            })
            .await?;
        let mut inventory = self.inventory_of(aggs, loose, facts, opts).await?;
        inventory.report_date = Some(manifest.created);
        Ok(inventory)
    }
}

#[cfg(test)]
mod tests;
