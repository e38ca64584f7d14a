//! The rows of a CSV inventory: columns by position, as the manifest's `fileSchema` lists them,
//! every field quoted, keys URL-encoded (AWS encodes them in CSV reports only).

use super::{InventoryError, Row};
use chrono::{DateTime, Utc};

/// Where the columns s3-prune needs are in each CSV row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvSchema {
    key: usize,
    size: usize,
    last_modified: usize,
    is_latest: Option<usize>,
    is_delete_marker: Option<usize>,
    columns: usize,
}

impl CsvSchema {
    /// The positions of the needed columns in a CSV manifest's `fileSchema`
    /// (`Bucket, Key, VersionId, …`).
    pub(super) fn from_manifest(file_schema: &str) -> Result<Self, InventoryError> {
        let cols: Vec<&str> = file_schema.split(',').map(str::trim).collect();
        let at = |name: &'static str| cols.iter().position(|c| *c == name);
        let need = |name: &'static str| at(name).ok_or(InventoryError::MissingColumn(name));
        Ok(CsvSchema {
            key: need("Key")?,
            size: need("Size")?,
            last_modified: need("LastModifiedDate")?,
            is_latest: at("IsLatest"),
            is_delete_marker: at("IsDeleteMarker"),
            columns: cols.len(),
        })
    }
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
pub fn parse_row(
    line: &str,
    schema: &CsvSchema,
    line_no: u64,
) -> Result<Option<Row>, InventoryError> {
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
