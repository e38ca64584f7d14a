//! Each front end's last success, as the dashboard's pages show it. Every page showed the three
//! notes and read them (three GETs a page, ~10 % of a page's CPU with every URL new, and the
//! S3 requests billed to the team); now a bucket's notes are read at most once per
//! [`NOTES_FOR`], and read again at once after this server's own apply, restore, pin change or
//! Rescan (`AppState::forget`). A run made by another front end shows at most `NOTES_FOR`, plus
//! the page cache's 2 s, later.

use crate::wire::SourceSuccess;
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

/// The notes of every bucket this server shows, with when they were read.
#[derive(Clone, Default)]
pub(super) struct Notes {
    read: Arc<Mutex<HashMap<String, Kept>>>,
}

impl Notes {
    /// Bucket `key`'s last successes: read now, unless read less than [`NOTES_FOR`] ago. What
    /// could not be read is shown as nothing and not kept (the next page tries again).
    pub(super) async fn of(&self, key: &str, b: &Bucket) -> Vec<SourceSuccess> {
        let kept = self
            .read
            .lock()
            .unwrap()
            .get(key)
            .and_then(|k| (k.at.elapsed() < NOTES_FOR).then(|| k.last.clone()));
        let read: Read = match kept {
            Some(last) => Ok(last),
            None => {
                let at = Instant::now();
                let read = prune::health::noted_successes(b).await;
                if let Ok(last) = &read {
                    let mut kept = self.read.lock().unwrap();
                    let last = last.clone();
                    kept.insert(key.to_string(), Kept { at, last });
                }
                read
            }
        };
        super::overview::successes_of(read)
    }

    /// Forgets bucket `key`'s notes (a run of this server may have written one).
    pub(super) fn forget(&self, key: &str) {
        self.read.lock().unwrap().remove(key);
    }
}
