//! Each front end's last success, as the dashboard's pages show it. Every page showed the three
//! notes and read them (three GETs a page, ~10 % of a page's CPU with every URL new, and the
//! S3 requests billed to the team); now a bucket's notes are read at most once per
//! [`NOTES_FOR`], and read again at once after this server's own apply, restore, pin change or
//! Rescan (`AppState::forget`). A run made by another front end shows at most `NOTES_FOR`, plus
//! the page cache's 2 s, later.

use crate::wire::{SourceSuccess, OVERDUE_AFTER_SECS};
use bucket::Bucket;
use prune::health::LastSuccess;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a bucket's notes are shown without reading them again. A run of another front end
/// (the CLI, the scheduled job) shows on the page at most this much later.
pub const NOTES_FOR: Duration = Duration::from_secs(10);

type Read = Result<Vec<LastSuccess>, bucket::S3Error>;

/// One bucket's notes and when they were read.
struct Kept {
    at: Instant,
    last: Vec<LastSuccess>,
}

/// One bucket's notes, if kept, and how many times they were forgotten: a read that began
/// before a `forget` may hold what S3 had before this server's run, so it is not kept.
#[derive(Default)]
struct Slot {
    kept: Option<Kept>,
    forgotten: u64,
}

/// The notes of every bucket this server shows, with when they were read.
#[derive(Clone, Default)]
pub(super) struct Notes {
    read: Arc<Mutex<HashMap<String, Slot>>>,
}

impl Notes {
    /// Bucket `key`'s last successes: read now, unless read less than [`NOTES_FOR`] ago. What
    /// could not be read is shown as nothing and not kept (the next page tries again).
    /// Each is late by `now`, S3's (the notes are S3-dated).
    pub(super) async fn of(
        &self,
        key: &str,
        b: &Bucket,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Vec<SourceSuccess> {
        let read = self
            .kept_or_read(key, prune::health::noted_successes(b))
            .await;
        successes_of(read, now)
    }

    /// Bucket `key`'s notes if kept less than [`NOTES_FOR`] ago, else what `read` answers (kept
    /// when it succeeded).
    async fn kept_or_read(&self, key: &str, read: impl std::future::Future<Output = Read>) -> Read {
        let (kept, forgotten) = {
            let read = self.read.lock().unwrap();
            let slot = read.get(key);
            let kept = slot
                .and_then(|s| s.kept.as_ref())
                .filter(|k| k.at.elapsed() < NOTES_FOR)
                .map(|k| k.last.clone());
            (kept, slot.map_or(0, |s| s.forgotten))
        };
        if let Some(last) = kept {
            return Ok(last);
        }
        let at = Instant::now();
        let read = read.await;
        if let Ok(last) = &read {
            let mut slots = self.read.lock().unwrap();
            let slot = slots.entry(key.to_string()).or_default();
            if slot.forgotten == forgotten {
                let last = last.clone();
                slot.kept = Some(Kept { at, last });
            }
        }
        read
    }

    /// Forgets bucket `key`'s notes (a run of this server may have written one).
    pub(super) fn forget(&self, key: &str) {
        let mut slots = self.read.lock().unwrap();
        let slot = slots.entry(key.to_string()).or_default();
        slot.kept = None;
        slot.forgotten += 1;
    }
}

/// The wire form of the last successes (unreadable: none), each marked late when older than
/// [`OVERDUE_AFTER_SECS`] at `now` — S3's, as the notes are dated: by this host's clock, one
/// running days behind S3's hid a job that had stopped (and one ahead raised a false alarm).
pub(super) fn successes_of(
    last: Result<Vec<prune::health::LastSuccess>, bucket::S3Error>,
    now: chrono::DateTime<chrono::Utc>,
) -> Vec<SourceSuccess> {
    let mut last: Vec<SourceSuccess> = (last.unwrap_or_default().into_iter())
        .map(|l| SourceSuccess {
            late: false,
            source: l.source,
            at: l.at,
        })
        .collect();
    late_by(&mut last, now);
    last
}

/// Marks each of `last` late as [`successes_of`] does, by `now` (S3's, once a scan told it).
pub(super) fn late_by(last: &mut [SourceSuccess], now: chrono::DateTime<chrono::Utc>) {
    for l in last {
        l.late = (now - l.at).num_seconds() > OVERDUE_AFTER_SECS as i64;
    }
}

/// Whether a run ended after a scan began at `scanned_at`, by the notes `last`: the scan may
/// show what it deleted. Both times and `now` are S3's. A note dated ahead of `now` does not
/// count (a host whose clock runs ahead would make every page scan again).
pub(super) fn ran_since(
    last: &[SourceSuccess],
    scanned_at: chrono::DateTime<chrono::Utc>,
    now: chrono::DateTime<chrono::Utc>,
) -> bool {
    last.iter().any(|l| l.at > scanned_at && l.at <= now)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn note(source: &str) -> LastSuccess {
        LastSuccess {
            source: source.into(),
            at: chrono::Utc.with_ymd_and_hms(2026, 12, 5, 12, 0, 0).unwrap(),
            who: "ci".into(),
            run: None,
            deleted_deployments: 0,
        }
    }

    /// A page's read that began before this server's apply wrote its note and answers after the
    /// apply's `forget` must not put the notes from before the apply back: the next page reads
    /// again and shows the apply at once.
    #[tokio::test]
    async fn a_read_overlapping_forget_does_not_bring_back_the_notes_before_it() {
        let notes = Notes::default();
        let (answer, answered) = tokio::sync::oneshot::channel::<Read>();
        let page = notes.kept_or_read("b", async move { answered.await.unwrap() });
        let mut page = std::pin::pin!(page);
        assert!(
            futures::poll!(&mut page).is_pending(),
            "the page's read is out"
        );
        // The apply notes its success and forgets the bucket's notes while the page's read is
        // still out; then the read answers what S3 held before the apply.
        notes.forget("b");
        answer.send(Ok(vec![note("cli")])).unwrap();
        assert_eq!(page.await.unwrap(), vec![note("cli")]);

        let next = notes
            .kept_or_read("b", async { Ok(vec![note("dashboard")]) })
            .await
            .unwrap();
        assert_eq!(
            next,
            vec![note("dashboard")],
            "the next page reads the notes again"
        );
    }

    /// Within [`NOTES_FOR`] a second page is answered from what the first read, without reading.
    #[tokio::test]
    async fn notes_are_read_once_a_while() {
        let notes = Notes::default();
        let first = notes
            .kept_or_read("b", async { Ok(vec![note("cli")]) })
            .await;
        let second = notes
            .kept_or_read("b", async { panic!("read again within NOTES_FOR") })
            .await;
        assert_eq!(first.unwrap(), second.unwrap());
    }

    /// A read that failed is not kept: the next page tries again.
    #[tokio::test]
    async fn a_failed_read_is_not_kept() {
        let notes = Notes::default();
        let failed = notes
            .kept_or_read("b", async { Err(bucket::S3Error::NoCredentials) })
            .await;
        assert!(failed.is_err());
        let next = notes
            .kept_or_read("b", async { Ok(vec![note("cli")]) })
            .await;
        assert_eq!(next.unwrap(), vec![note("cli")]);
    }
}
