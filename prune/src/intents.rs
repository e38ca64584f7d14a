//! The journal's intents, written as a group commit: up to [`WRITERS`] parts are written at
//! once; a batch whose intent arrives while all of them are busy waits, and goes into the next
//! part with every batch that arrived meanwhile. Each batch is still sent only once its own
//! keys are on record; under load (16 batches in flight) a run writes a few intent parts
//! instead of one per batch, so the store spends less time on the journal and more on the
//! deleting (bench/results-issue22.md), and one slow part (a big one, a store under load) does
//! not hold up the batches behind it alone.
//!
//! Part names: `intent-NNNNNN.json` holds one batch (`{"keys": [...]}`, the first format, still
//! read); `intents-FFFFFF-LLLLLL.json` several (`{"batches": [{"n": …, "keys": [...]}]}`), the
//! first and last batch number in its name so a reader skips it when all of those were answered.

use crate::journal::RunJournal;
use bucket::BatchKey;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use tokio::sync::oneshot;

/// One batch's keys in an intent part.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntentBatch {
    pub n: u64,
    pub keys: Vec<BatchKey>,
}

/// `intents-FFFFFF-LLLLLL.json`: the keys of several batches, written before any of them is sent.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IntentsPart {
    pub batches: Vec<IntentBatch>,
}

/// The part a group of batches is written to.
pub(crate) fn part_name(group: &[IntentBatch]) -> String {
    let first = group.iter().map(|b| b.n).min().unwrap_or(0);
    let last = group.iter().map(|b| b.n).max().unwrap_or(0);
    if group.len() == 1 {
        format!("intent-{first:06}.json")
    } else {
        format!("intents-{first:06}-{last:06}.json")
    }
}

/// The batch numbers an intent part's name says it may hold (first to last), or `None` for a
/// name that is not an intent part.
pub(crate) fn numbers_in(part: &str) -> Option<std::ops::RangeInclusive<u64>> {
    if let Some(n) = part
        .strip_prefix("intent-")
        .and_then(|s| s.strip_suffix(".json"))
    {
        let n = n.parse().ok()?;
        return Some(n..=n);
    }
    let range = part.strip_prefix("intents-")?.strip_suffix(".json")?;
    let (first, last) = range.split_once('-')?;
    Some(first.parse().ok()?..=last.parse().ok()?)
}

/// Whether an intent part may hold a batch that was never answered (and so must be read).
pub(crate) fn may_hold_unanswered(part: &str, answered: &BTreeSet<u64>) -> bool {
    numbers_in(part).is_some_and(|mut range| range.any(|n| !answered.contains(&n)))
}

/// The batches an intent part holds, in either format.
pub(crate) fn batches_of(part: &str, body: &[u8]) -> Result<Vec<IntentBatch>, String> {
    let range = numbers_in(part).ok_or_else(|| format!("{part} is not an intent part"))?;
    if part.starts_with("intents-") {
        let p: IntentsPart = serde_json::from_slice(body).map_err(|e| format!("{part}: {e}"))?;
        return Ok(p.batches);
    }
    let p: crate::journal::IntentPart =
        serde_json::from_slice(body).map_err(|e| format!("{part}: {e}"))?;
    Ok(vec![IntentBatch {
        n: *range.start(),
        keys: p.keys,
    }])
}

type Waiting = (IntentBatch, oneshot::Sender<Result<(), String>>);

/// Intent parts being written at once, at most.
const WRITERS: usize = 4;

/// The group commit: batches waiting for their intent, and how many writes are under way.
#[derive(Default)]
struct Queue {
    waiting: Vec<Waiting>,
    writers: usize,
}

/// Writes intents for a run, grouping those that arrive while a write is under way.
pub(crate) struct Intents {
    journal: Arc<RunJournal>,
    queue: Arc<Mutex<Queue>>,
}

impl Intents {
    pub(crate) fn new(journal: Arc<RunJournal>) -> Intents {
        Intents {
            journal,
            queue: Arc::default(),
        }
    }

    /// Resolves once batch `n`'s keys are on record (alone or with others), or says why not.
    pub(crate) async fn record(&self, n: u64, keys: &[BatchKey]) -> Result<(), String> {
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
            tokio::spawn(drain(self.journal.clone(), self.queue.clone()));
        }
        rx.await
            .unwrap_or_else(|_| Err("the intent writer stopped".into()))
    }
}

/// One writer: writes every waiting group in turn until none waits.
async fn drain(journal: Arc<RunJournal>, queue: Arc<Mutex<Queue>>) {
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
        let written = journal.intents(&batches).await;
        for tx in answers {
            let _ = tx.send(written.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch(n: u64) -> IntentBatch {
        IntentBatch {
            n,
            keys: vec![BatchKey {
                deployment: retention::DeploymentId::new(format!("d{n}")).unwrap(),
                key: format!("d{n}/index.html"),
                version_id: None,
            }],
        }
    }

    #[test]
    fn one_batch_keeps_the_first_format_and_a_group_names_its_range() {
        assert_eq!(part_name(&[batch(7)]), "intent-000007.json");
        assert_eq!(
            part_name(&[batch(3), batch(2), batch(5)]),
            "intents-000002-000005.json"
        );
        assert_eq!(numbers_in("intent-000007.json"), Some(7..=7));
        assert_eq!(numbers_in("intents-000002-000005.json"), Some(2..=5));
        assert_eq!(numbers_in("answer-000002.json"), None);
        assert_eq!(numbers_in("intents-2.json"), None);
    }

    #[test]
    fn a_part_is_read_only_while_one_of_its_batches_is_unanswered() {
        let answered: BTreeSet<u64> = [2, 3, 5].into();
        assert!(!may_hold_unanswered("intent-000002.json", &answered));
        assert!(may_hold_unanswered("intent-000004.json", &answered));
        assert!(may_hold_unanswered("intents-000002-000005.json", &answered));
        assert!(!may_hold_unanswered(
            "intents-000002-000003.json",
            &answered
        ));
        assert!(!may_hold_unanswered("start.json", &answered));
    }

    #[test]
    fn both_formats_read_back_as_batches() {
        let one = serde_json::to_vec(&crate::journal::IntentPart {
            keys: batch(4).keys,
        })
        .unwrap();
        assert_eq!(
            batches_of("intent-000004.json", &one).unwrap(),
            vec![batch(4)]
        );
        let many = serde_json::to_vec(&IntentsPart {
            batches: vec![batch(2), batch(3)],
        })
        .unwrap();
        assert_eq!(
            batches_of("intents-000002-000003.json", &many).unwrap(),
            vec![batch(2), batch(3)]
        );
        assert!(batches_of("intents-000002-000003.json", b"{}").is_err());
    }
}
