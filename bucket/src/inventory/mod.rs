//! S3 Inventory as a listing source (issue 14): the `manifest.json` AWS writes for a CSV or
//! Parquet inventory (`fileFormat`, `fileSchema`, `files[].key/size/MD5checksum`,
//! `creationTimestamp`) and the rows of its data files (gzip CSV in `csv`, Parquet in
//! `parquet_file`), each checked against its MD5, folded into the same per-deployment counters a
//! listing makes, file by file as each arrives (`data_file`). Which folders there are is not
//! taken from the report: a delimiter listing beside it adds those published since and leaves
//! out those gone (`report`). The rest of a plan from a report is as good as the report is
//! recent: its date goes with the inventory.

mod csv;
mod data_file;
mod parquet_file;
mod report;

use crate::agg::Agg;
use crate::state::RESERVED;
use chrono::{DateTime, Utc};
pub use csv::{parse_row, CsvSchema};
use retention::LooseObjects;
use serde::Deserialize;
use std::collections::HashMap;
use std::str::FromStr;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InventoryError {
    #[error("the inventory manifest is not valid JSON: {0}")]
    NotJson(String),
    #[error("the inventory is in {0} format; s3-prune reads CSV and Parquet inventories (set the report's format to CSV or Parquet)")]
    Format(String),
    #[error("the inventory's fileSchema has no {0} column; add it to the report's optional fields (Size and Last modified date) and wait for the next report")]
    MissingColumn(&'static str),
    #[error("the inventory's fileSchema is not a Parquet message type ({0})")]
    ParquetSchema(String),
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

/// How the report's rows are read: CSV columns by position (from the manifest's
/// `fileSchema`), or Parquet columns by name (from each file's own schema).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Schema {
    Csv(CsvSchema),
    Parquet,
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
    let schema = if raw.file_format.eq_ignore_ascii_case("CSV") {
        Schema::Csv(CsvSchema::from_manifest(&raw.file_schema)?)
    } else if raw.file_format.eq_ignore_ascii_case("Parquet") {
        parquet_file::check_manifest_schema(&raw.file_schema)?;
        Schema::Parquet
    } else {
        return Err(InventoryError::Format(raw.file_format));
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

/// Where a report is: its manifest (`s3://BUCKET/PATH/manifest.json`), or the folder AWS
/// writes a configuration's reports into (`s3://BUCKET/PREFIX/SOURCE-BUCKET/CONFIG-ID/`, each
/// report in a dated folder beneath it), meaning its newest complete report: what a scheduled
/// job wants, since every day's report has a new address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InventoryLocation {
    pub bucket: String,
    /// The manifest's key, or the reports' folder (ending in `/`).
    pub key: String,
}

const LOCATION_HELP: &str = "give s3://BUCKET/PATH/manifest.json, or the configuration's \
     folder s3://BUCKET/PREFIX/SOURCE-BUCKET/CONFIG-ID/ for its newest report";

/// `s3://BUCKET/KEY`, as it is given.
impl std::fmt::Display for InventoryLocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "s3://{}/{}", self.bucket, self.key)
    }
}

impl FromStr for InventoryLocation {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let rest = s
            .strip_prefix("s3://")
            .ok_or_else(|| format!("'{s}' is not an s3:// address: {LOCATION_HELP}"))?;
        match rest.split_once('/') {
            Some((b, k))
                if !b.is_empty()
                    && (k.ends_with("manifest.json") || (k.ends_with('/') && k.len() > 1)) =>
            {
                Ok(InventoryLocation {
                    bucket: b.to_string(),
                    key: k.to_string(),
                })
            }
            _ => Err(format!(
                "'{s}' does not name a manifest or a reports' folder: {LOCATION_HELP}"
            )),
        }
    }
}

/// Bytes (an MD5 digest) as the lowercase hex a manifest and `manifest.checksum` write.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
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

#[cfg(test)]
mod tests;
