//! The journal's intents, written as a group commit: up to [`WRITERS`] parts are written at
//! once; a batch whose intent arrives while all of them are busy waits, and goes into the next
//! part with every batch that arrived meanwhile. Each batch is still sent only once its own
//! keys are on record; under load (16 batches in flight) a run writes a few intent parts
//! instead of one per batch, so the store spends less time on the journal and more on the
//! deleting (bench/results-issue22.md), and one slow part (a big one, a store under load) does
//! not hold up the batches behind it alone.
//!
//! What a part holds and how it is named: [`part`].

use crate::journal::RunJournal;
use crate::lease::Leased;
use bucket::BatchKey;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::oneshot;

mod part;

pub(crate) use part::{batches_of, may_hold_unanswered};
pub use part::{IntentBatch, IntentsPart, StoredBatch};

type Waiting = (IntentBatch, oneshot::Sender<Result<(), String>>);

/// Intent parts being written at once, at most.
const WRITERS: usize = 4;

/// The group commit: batches waiting for their intent, and how many writes are under way.
#[derive(Default)]
struct Queue {
    waiting: Vec<Waiting>,
    writers: usize,
}

impl RunJournal {
    /// The intents of one or more batches, in one part (see `part`).
    pub(crate) async fn intents(&self, group: &[IntentBatch]) -> Result<(), String> {
        let part = IntentsPart {
            batches: group.iter().map(StoredBatch::of).collect(),
        };
        self.write(&part::part_name(group), &part).await
    }
}

/// Writes intents for a run, grouping those that arrive while a write is under way; none
/// before the bucket's lease is held.
pub(crate) struct Intents {
    journal: Arc<RunJournal>,
    leased: Leased,
    queue: Arc<Mutex<Queue>>,
    /// Batches whose intents went ahead of their turn ([`Intents::ahead`]), by number.
    ahead: Mutex<HashMap<u64, oneshot::Receiver<Result<(), String>>>>,
}

impl Intents {
    pub(crate) fn new(journal: Arc<RunJournal>, leased: Leased) -> Intents {
        Intents {
            journal,
            leased,
            queue: Arc::default(),
            ahead: Mutex::default(),
        }
    }

    /// Starts writing batch `n`'s intent now, ahead of its turn to be sent.
    pub(crate) fn ahead(&self, n: u64, keys: &[BatchKey]) {
        let written = self.enqueue(n, keys);
        let mut ahead = self.ahead.lock().unwrap_or_else(|e| e.into_inner());
        ahead.insert(n, written);
    }

    /// Resolves once batch `n`'s keys are on record (alone or with others, written ahead or
    /// now), or says why not.
    pub(crate) async fn record(&self, n: u64, keys: &[BatchKey]) -> Result<(), String> {
        let went_ahead = {
            let mut ahead = self.ahead.lock().unwrap_or_else(|e| e.into_inner());
            ahead.remove(&n)
        };
        let written = match went_ahead {
            Some(written) => written,
            None => self.enqueue(n, keys),
        };
        written
            .await
            .unwrap_or_else(|_| Err("the intent writer stopped".into()))
    }

    /// Queues batch `n`'s intent, starting a writer if fewer than [`WRITERS`] are at work.
    fn enqueue(&self, n: u64, keys: &[BatchKey]) -> oneshot::Receiver<Result<(), String>> {
        let (tx, rx) = oneshot::channel();
        let batch = IntentBatch {
            n,
            keys: keys.to_vec(),
        };
        let lead = {
            let mut q = self.queue.lock().unwrap_or_else(|e| e.into_inner());
            q.waiting.push((batch, tx));
            let free = q.writers < WRITERS;
            q.writers += usize::from(free);
            free
        };
        if lead {
            let (journal, queue) = (self.journal.clone(), self.queue.clone());
            tokio::spawn(drain(journal, self.leased.clone(), queue));
        }
        rx
    }
}

/// One writer: once the lease is held, writes every waiting group in turn until none waits
/// (refused, it answers each with the refusal and writes nothing).
async fn drain(journal: Arc<RunJournal>, leased: Leased, queue: Arc<Mutex<Queue>>) {
    let refused = leased
        .wait()
        .await
        .err()
        .map(|e| format!("the bucket's lease was not taken: {e}"));
    loop {
        let group = {
            let mut q = queue.lock().unwrap_or_else(|e| e.into_inner());
            if q.waiting.is_empty() {
                q.writers -= 1;
                return;
            }
            std::mem::take(&mut q.waiting)
        };
        let (batches, answers): (Vec<IntentBatch>, Vec<_>) = group.into_iter().unzip();
        let written = match &refused {
            Some(e) => Err(e.clone()),
            None => journal.intents(&batches).await,
        };
        for tx in answers {
            let _ = tx.send(written.clone());
        }
    }
}
