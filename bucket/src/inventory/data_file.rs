//! One inventory data file read as it arrives: its bytes are hashed for the manifest's MD5,
//! and a CSV file is un-gzipped and split into lines chunk by chunk, each line folded straight
//! into the file's own per-deployment counters. Memory stays O(deployments) however large the
//! file (a report of 10⁹ objects has files of millions of rows); nothing of it is kept as text.
//! A Parquet file (its index is at its end) is spooled to an unnamed temporary file instead and
//! read from there once whole (`parquet_file`): disk, not memory, holds it meanwhile.
//!
//! A file whose MD5 does not match is refused with that reason even when it also fails to
//! un-gzip or parse (the damage explains the rest); the counters of a refused file are never
//! used: nothing is planned from part of a report.

use super::{fold, hex, parse_row, CsvSchema, DataFile, Schema};
use crate::agg::Agg;
use md5::{Digest, Md5};
use retention::LooseObjects;
use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Seek, Write};

/// What one data file adds up to.
#[derive(Debug, Default)]
pub(crate) struct Folded {
    pub(crate) aggs: HashMap<String, Agg>,
    pub(crate) loose: LooseObjects,
}

impl Folded {
    /// Adds another file's counters to these.
    pub(crate) fn merge(&mut self, other: Folded) {
        for (id, agg) in other.aggs {
            self.aggs.entry(id).or_default().merge(agg);
        }
        self.loose.objects += other.loose.objects;
        self.loose.bytes += other.loose.bytes;
    }
}

/// A data file being read: feed it the body's chunks in order, then `finish`.
pub(crate) struct DataFileReader<'a> {
    file: &'a DataFile,
    md5: Md5,
    sink: Sink<'a>,
    /// Why the body could not be un-gzipped or spooled (the rest is then only hashed).
    broken: Option<String>,
}

enum Sink<'a> {
    /// Boxed: the decoder's state is large beside the plain case.
    Gz(Box<flate2::write::MultiGzDecoder<Lines<'a>>>),
    Plain(Lines<'a>),
    /// A Parquet file on its way to disk.
    Spool(File),
    /// A Parquet file that could not be spooled: only hashed, then refused.
    Nowhere,
}

/// The un-gzipped text, split into lines and folded as it comes.
struct Lines<'a> {
    schema: &'a CsvSchema,
    prefix: &'a str,
    /// The start of a line whose end has not come yet.
    partial: Vec<u8>,
    line_no: u64,
    folded: Folded,
    /// The first bad line; later text is not parsed.
    error: Option<String>,
}

impl<'a> DataFileReader<'a> {
    pub(crate) fn new(file: &'a DataFile, schema: &'a Schema, prefix: &'a str) -> Self {
        let mut broken = None;
        let sink = match schema {
            Schema::Csv(schema) => {
                let lines = Lines {
                    schema,
                    prefix,
                    partial: Vec::new(),
                    line_no: 0,
                    folded: Folded::default(),
                    error: None,
                };
                if file.key.ends_with(".gz") {
                    Sink::Gz(Box::new(flate2::write::MultiGzDecoder::new(lines)))
                } else {
                    Sink::Plain(lines)
                }
            }
            Schema::Parquet => match tempfile::tempfile() {
                Ok(spool) => Sink::Spool(spool),
                Err(e) => {
                    broken = Some(spool_failed(e));
                    Sink::Nowhere
                }
            },
        };
        DataFileReader {
            file,
            md5: Md5::new(),
            sink,
            broken,
        }
    }

    /// The next chunk of the file's body.
    pub(crate) fn feed(&mut self, chunk: &[u8]) {
        self.md5.update(chunk);
        if self.broken.is_some() {
            return;
        }
        let written = match &mut self.sink {
            Sink::Gz(d) => d.write_all(chunk),
            Sink::Plain(l) => l.write_all(chunk),
            Sink::Spool(f) => {
                if let Err(e) = f.write_all(chunk) {
                    self.broken = Some(spool_failed(e));
                }
                return;
            }
            Sink::Nowhere => return,
        };
        if let Err(e) = written {
            self.broken = Some(format!("it is not valid gzip text: {e}"));
        }
    }

    /// The whole body was fed: a CSV file's counters, or a checked Parquet file ready to be
    /// read (CPU work for its caller to put where it blocks nothing), or why it cannot be used.
    pub(crate) fn end(self) -> Result<Ended, String> {
        let got = hex(&self.md5.finalize());
        if !got.eq_ignore_ascii_case(&self.file.md5) {
            return Err(format!(
                "its MD5 is {got}, the manifest says {}: the file is damaged or not the one listed",
                self.file.md5
            ));
        }
        if let Some(b) = self.broken {
            return Err(b);
        }
        let lines = match self.sink {
            Sink::Gz(d) => d
                .finish()
                .map_err(|e| format!("it is not valid gzip text: {e}"))?,
            Sink::Plain(l) => l,
            Sink::Spool(mut f) => {
                f.rewind().map_err(spool_failed)?;
                return Ok(Ended::Parquet(f));
            }
            Sink::Nowhere => return Err("it was not read".into()),
        };
        lines.finish().map(Ended::Folded)
    }
}

/// A data file read to its end.
pub(crate) enum Ended {
    Folded(Folded),
    /// Whole on disk and matching its MD5: `parquet_file::fold_file` reads it.
    Parquet(File),
}

/// Why a Parquet file could not be put on disk to be read.
fn spool_failed(e: io::Error) -> String {
    format!(
        "it could not be kept in a temporary file to be read ({e}); \
         point TMPDIR at a directory with room for the report's largest data file"
    )
}

impl Lines<'_> {
    fn line(&mut self, raw: &[u8]) {
        self.line_no += 1;
        if self.error.is_some() {
            return;
        }
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        let Ok(text) = std::str::from_utf8(raw) else {
            self.error = Some(format!("line {} is not UTF-8 text", self.line_no));
            return;
        };
        if text.trim().is_empty() {
            return;
        }
        match parse_row(text, self.schema, self.line_no) {
            Ok(Some(row)) => fold(
                &row,
                self.prefix,
                &mut self.folded.aggs,
                &mut self.folded.loose,
            ),
            Ok(None) => {}
            Err(e) => self.error = Some(e.to_string()),
        }
    }

    fn finish(mut self) -> Result<Folded, String> {
        if !self.partial.is_empty() {
            let last = std::mem::take(&mut self.partial);
            self.line(&last);
        }
        match self.error {
            Some(e) => Err(e),
            None => Ok(self.folded),
        }
    }
}

impl Write for Lines<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut rest = buf;
        while let Some(end) = rest.iter().position(|&b| b == b'\n') {
            if self.partial.is_empty() {
                self.line(&rest[..end]);
            } else {
                let mut whole = std::mem::take(&mut self.partial);
                whole.extend_from_slice(&rest[..end]);
                self.line(&whole);
            }
            rest = &rest[end + 1..];
        }
        self.partial.extend_from_slice(rest);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests;
