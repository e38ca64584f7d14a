//! The rows of a Parquet inventory. AWS documents the schema as
//! `message s3.inventory { required binary bucket (UTF8); required binary key (UTF8); …
//! optional boolean is_latest; optional boolean is_delete_marker; optional int64 size;
//! optional int64 last_modified_date (TIMESTAMP_MILLIS); … }`; keys are not URL-encoded (AWS
//! encodes them in CSV only). Columns are found by name in each file's own schema and only
//! those five are read (a projection), row group by row group.
//!
//! A Parquet file's index is at its end, so it cannot be folded as it arrives the way a CSV
//! file is: `data_file` spools it to an unnamed temporary file (gone when closed, even after a
//! crash) while hashing it, and it is read from there once whole and its MD5 matches.

use super::data_file::Folded;
use super::{fold, InventoryError, Row};
use ::parquet::file::reader::{FileReader, SerializedFileReader};
use ::parquet::record::Field;
use ::parquet::schema::parser::parse_message_type;
use ::parquet::schema::types::Type;
use chrono::{DateTime, Utc};
use std::fs::File;
use std::sync::Arc;

/// The columns read; the first three are needed.
const NEEDED: [&str; 3] = ["key", "size", "last_modified_date"];
const FLAGS: [&str; 2] = ["is_latest", "is_delete_marker"];

/// A Parquet manifest's `fileSchema` must be a message type with the needed columns: checked
/// before any data file is fetched.
pub(super) fn check_manifest_schema(file_schema: &str) -> Result<(), InventoryError> {
    let schema = parse_message_type(file_schema)
        .map_err(|e| InventoryError::ParquetSchema(e.to_string()))?;
    let has = |name: &str| schema.get_fields().iter().any(|f| f.name() == name);
    match NEEDED.into_iter().find(|n| !has(n)) {
        Some(missing) => Err(InventoryError::MissingColumn(missing)),
        None => Ok(()),
    }
}

/// Folds every current object of a whole, checked Parquet data file into its counters.
pub(super) fn fold_file(file: File, prefix: &str) -> Result<Folded, String> {
    let reader = SerializedFileReader::new(file)
        .map_err(|e| format!("it is not a readable Parquet file: {e}"))?;
    let schema = reader.metadata().file_metadata().schema();
    let fields: Vec<Arc<Type>> = schema
        .get_fields()
        .iter()
        .filter(|f| NEEDED.contains(&f.name()) || FLAGS.contains(&f.name()))
        .cloned()
        .collect();
    if let Some(missing) = NEEDED
        .into_iter()
        .find(|n| !fields.iter().any(|f| f.name() == *n))
    {
        return Err(format!("its schema has no {missing} column"));
    }
    let has_is_latest = fields.iter().any(|f| f.name() == "is_latest");
    let projection = Type::group_type_builder(schema.name())
        .with_fields(fields)
        .build()
        .map_err(|e| format!("its schema cannot be read: {e}"))?;
    let rows = reader
        .get_row_iter(Some(projection))
        .map_err(|e| format!("its rows cannot be read: {e}"))?;
    let mut folded = Folded::default();
    for (i, row) in rows.enumerate() {
        let bad = |problem: String| {
            InventoryError::Row {
                line: i as u64 + 1,
                problem,
            }
            .to_string()
        };
        let row = row.map_err(|e| bad(e.to_string()))?;
        if let Some(object) = object(&row, has_is_latest).map_err(bad)? {
            fold(&object, prefix, &mut folded.aggs, &mut folded.loose);
        }
    }
    Ok(folded)
}

/// One row: the current object it describes, or `None` for an old version or a delete marker
/// (as in a CSV report).
fn object(row: &::parquet::record::Row, has_is_latest: bool) -> Result<Option<Row>, String> {
    let (mut key, mut size, mut at) = (None, None, None);
    let (mut latest, mut marker) = (false, false);
    for (name, field) in row.get_column_iter() {
        match (name.as_str(), field) {
            (_, Field::Null) => {}
            ("key", Field::Str(k)) => key = Some(k.clone()),
            ("size", Field::Long(n)) => {
                size = Some(u64::try_from(*n).map_err(|_| format!("size {n} is negative"))?)
            }
            ("last_modified_date", Field::TimestampMillis(ms)) => {
                at = Some(date(DateTime::from_timestamp_millis(*ms), *ms)?)
            }
            ("last_modified_date", Field::TimestampMicros(us)) => {
                at = Some(date(DateTime::from_timestamp_micros(*us), *us)?)
            }
            ("is_latest", Field::Bool(b)) => latest = *b,
            ("is_delete_marker", Field::Bool(b)) => marker = *b,
            (name, other) => {
                return Err(format!("{name} holds {other}, not what an inventory holds"))
            }
        }
    }
    if (has_is_latest && !latest) || marker {
        return Ok(None);
    }
    let key = key.ok_or("it has no key")?;
    Ok(Some(Row {
        size: size.ok_or_else(|| format!("'{key}' has no size"))?,
        last_modified: at.ok_or_else(|| format!("'{key}' has no last_modified_date"))?,
        key,
    }))
}

fn date(d: Option<DateTime<Utc>>, raw: i64) -> Result<DateTime<Utc>, String> {
    d.ok_or_else(|| format!("last_modified_date {raw} is out of range"))
}

#[cfg(test)]
mod tests;
