//! A deployment's counters, folded from its objects as a listing page or an S3 Inventory
//! report's rows arrive: objects, bytes, newest and oldest dates, a print of its keys, and
//! whether s3-prune's own state lies beneath it.

use crate::meta::ObjectRef;
use chrono::{DateTime, Utc};

const STATE_FOLDER: &str = "/.s3-prune/";

/// Per-deployment counters; the newest object is kept only to read its metadata.
#[derive(Debug, Default)]
pub(crate) struct Agg {
    pub(crate) objects: u64,
    pub(crate) bytes: u64,
    pub(crate) newest: Option<(DateTime<Utc>, ObjectRef)>,
    pub(crate) oldest: Option<DateTime<Utc>>,
    /// A key of s3-prune's own state beneath it (`<id>/…/.s3-prune/…`): the folder is a
    /// prefix someone else prunes, not a deployment.
    pub(crate) state: Option<String>,
    /// The sum of its objects' prints (keys and sizes): what a reset clock leaves alone.
    pub(crate) print: u64,
}

impl Agg {
    /// An object of the deployment; `etag` where the source has it (it lets `meta:` dates be
    /// cached across rescans).
    pub(crate) fn add(&mut self, t: DateTime<Utc>, size: u64, key: &str, etag: Option<&str>) {
        self.objects += 1;
        self.bytes += size;
        self.print = self
            .print
            .wrapping_add(crate::dates::object_print(key, size));
        if self.state.is_none() {
            if let Some(at) = key.find(STATE_FOLDER) {
                self.state = Some(key[..at + STATE_FOLDER.len()].to_string());
            }
        }
        self.see(t, || ObjectRef {
            key: key.to_string(),
            etag: etag.map(str::to_string),
            last_modified: t,
        });
    }

    #[cfg(test)]
    pub(crate) fn objects(&self) -> u64 {
        self.objects
    }

    pub(crate) fn merge(&mut self, o: Agg) {
        self.objects += o.objects;
        self.bytes += o.bytes;
        self.state = self.state.take().or(o.state);
        if let Some((t, k)) = o.newest {
            self.see(t, || k);
        }
        if let Some(t) = o.oldest {
            self.see_oldest(t);
        }
    }

    /// An object modified at `t`: the newest so far is kept (only then is its key copied).
    fn see(&mut self, t: DateTime<Utc>, object: impl FnOnce() -> ObjectRef) {
        if self.newest.as_ref().is_none_or(|(n, _)| t > *n) {
            self.newest = Some((t, object()));
        }
        self.see_oldest(t);
    }

    fn see_oldest(&mut self, t: DateTime<Utc>) {
        if self.oldest.is_none_or(|old| t < old) {
            self.oldest = Some(t);
        }
    }
}
