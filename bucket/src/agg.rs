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
    /// The oldest object, where known: a `meta:` date missing on the newest (a file touched
    /// later without it, robots.txt rewritten everywhere) is read from it.
    pub(crate) oldest_object: Option<ObjectRef>,
    /// A key of s3-prune's own state beneath it (`<id>/…/.s3-prune/…`): the folder is a
    /// prefix someone else prunes, not a deployment.
    pub(crate) state: Option<String>,
    /// The sum of its objects' prints (keys and sizes): what a reset clock leaves alone.
    pub(crate) print: u64,
    /// The run journal of another bucket beneath it (`--journal s3://THIS/PATH/`:
    /// `PATH/<bucket>/runs/<run>/…`), up to its `runs/` or `approvals/`. Its objects are not
    /// counted: a folder holding only a journal is no deployment, and one holding more is
    /// refused (deleting it would delete that history).
    pub(crate) journal: Option<String>,
}

impl Agg {
    /// An object of the deployment; `etag` where the source has it (it lets `meta:` dates be
    /// cached across rescans).
    pub(crate) fn add(&mut self, t: DateTime<Utc>, size: u64, key: &str, etag: Option<&str>) {
        if self.state.is_none() {
            if let Some(at) = key.find(STATE_FOLDER) {
                self.state = Some(key[..at + STATE_FOLDER.len()].to_string());
            } else if let Some(journal) = journal_of(key) {
                self.journal.get_or_insert(journal);
                return;
            }
        }
        self.objects += 1;
        self.bytes += size;
        self.print = self
            .print
            .wrapping_add(crate::dates::object_print(key, size));
        self.see(t, || ObjectRef {
            key: key.to_string(),
            etag: etag.map(str::to_string),
            last_modified: t,
        });
    }

    /// An object as a listing names it.
    pub(crate) fn add_listed(&mut self, o: &aws_sdk_s3::types::Object) {
        let t = crate::server_clock::to_chrono(o.last_modified());
        let size = o.size().unwrap_or(0).max(0) as u64;
        self.add(t, size, o.key().unwrap_or_default(), o.e_tag());
    }

    #[cfg(test)]
    pub(crate) fn objects(&self) -> u64 {
        self.objects
    }

    pub(crate) fn merge(&mut self, o: Agg) {
        self.objects += o.objects;
        self.bytes += o.bytes;
        self.print = self.print.wrapping_add(o.print);
        self.state = self.state.take().or(o.state);
        self.journal = self.journal.take().or(o.journal);
        if let Some((t, k)) = o.newest {
            if self.newest.as_ref().is_none_or(|(n, _)| t > *n) {
                self.newest = Some((t, k));
            }
        }
        if let Some(t) = o.oldest {
            self.see_oldest(t, || o.oldest_object);
        }
    }

    /// An object modified at `t`: the newest so far is kept (only then is its key copied).
    fn see(&mut self, t: DateTime<Utc>, object: impl Fn() -> ObjectRef) {
        if self.newest.as_ref().is_none_or(|(n, _)| t > *n) {
            self.newest = Some((t, object()));
        }
        self.see_oldest(t, || Some(object()));
    }

    /// The oldest so far is kept (only then is its key copied).
    fn see_oldest(&mut self, t: DateTime<Utc>, object: impl FnOnce() -> Option<ObjectRef>) {
        if self.oldest.is_none_or(|old| t < old) {
            self.oldest = Some(t);
            self.oldest_object = object();
        }
    }
}

/// `PATH/<bucket>/runs/` (or `…/approvals/`) when `key` is a part of a run journal kept there:
/// a `runs` or `approvals` folder followed by a run id.
fn journal_of(key: &str) -> Option<String> {
    let mut at = 0;
    let mut parts = key.split('/').peekable();
    while let Some(part) = parts.next() {
        at += part.len() + 1;
        if matches!(part, "runs" | "approvals")
            && parts
                .peek()
                .is_some_and(|id| crate::journal::RunId::parse(id).is_some())
        {
            return Some(key[..at].to_string());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A deployment listed in several ranges (or report files) has the print of all its
    /// objects: a print left at zero would call every changed deployment a copy in place.
    #[test]
    fn merged_counters_hold_every_objects_print() {
        let t = chrono::Utc::now();
        let mut whole = Agg::default();
        whole.add(t, 10, "d1/index.html", None);
        whole.add(t, 20, "d1/app.js", None);
        let (mut a, mut b) = (Agg::default(), Agg::default());
        a.add(t, 10, "d1/index.html", None);
        b.add(t, 20, "d1/app.js", None);
        let mut merged = Agg::default();
        merged.merge(a);
        merged.merge(b);
        assert_ne!(whole.print, 0);
        assert_eq!(merged.print, whole.print);
        assert_eq!((merged.objects, merged.bytes), (2, 30));
    }

    #[test]
    fn another_buckets_journal_is_recognised_by_its_run_folders() {
        assert_eq!(
            journal_of("audit/site/runs/20261206T162522240Z-0eb92ad7/start.json").as_deref(),
            Some("audit/site/runs/")
        );
        assert_eq!(
            journal_of("audit/site/sites/approvals/20261206T162522240Z-0eb92ad7/request.json")
                .as_deref(),
            Some("audit/site/sites/approvals/")
        );
        assert_eq!(journal_of("d1/runs/index.html"), None);
        assert_eq!(journal_of("d1/assets/app.js"), None);
    }
}
