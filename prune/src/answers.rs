//! The journal's answers (what S3 said of each batch: the delete markers it made, the keys
//! that failed), written in groups off the batches' path: an answer waits with the others
//! until the oldest has waited [`GROUP_FOR`] or they name [`GROUP_KEYS`] keys, and then they
//! go in one part, `answers-FFFFFF-LLLLLL.json` (`{"answers": [{"n": 3, "outcome": {…}}]}`).
//! Those still waiting, or still being written, when the deleting ends go into the end record.
//!
//! A part per batch (`answer-NNNNNN.json`, still read) was one more write per DeleteObjects
//! for the store to finish beside the deletes; a 10,000-object run wrote 17
//! (`bench/journal_share.py`). A run killed with answers not on record loses no undo: `restore` finds
//! the rest of its markers in its folders, by S3's dates (`crate::journal::read_run`); the
//! answers make most of it exact, and memory stays bounded.

use crate::journal::{EndAnswer, RunJournal};
use bucket::BatchOutcome;
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::task::JoinHandle;

/// How long an answer may wait for others before its group is written.
const GROUP_FOR: Duration = Duration::from_secs(1);

/// Keys (markers and failures) a group may name before it is written whatever its age: the
/// bound on the memory answers hold while they wait (~100 bytes a marker), and on what the end
/// record carries besides the parts still being written (every `history` reads the end record).
const GROUP_KEYS: usize = 5_000;

/// `answers-FFFFFF-LLLLLL.json`: the answers of several batches.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AnswersPart {
    pub answers: Vec<EndAnswer>,
}

impl RunJournal {
    /// The answers of one or more batches, in one part.
    pub(crate) async fn answers(&self, group: &[EndAnswer]) -> Result<(), String> {
        let part = AnswersPart {
            answers: group.to_vec(),
        };
        self.write(&part_name(group), &part).await
    }
}

/// The part a group of answers is written to.
pub(crate) fn part_name(group: &[EndAnswer]) -> String {
    crate::journal::numbered_part("answers", group.iter().map(|a| a.n))
}

/// The answers an answer part holds (either form), or `None` for a name that is not one.
pub(crate) fn answers_of(part: &str, body: &[u8]) -> Option<Result<Vec<EndAnswer>, String>> {
    let damaged = |e: serde_json::Error| format!("{part}: {e}");
    if let Some(n) = part
        .strip_prefix("answer-")
        .and_then(|s| s.strip_suffix(".json"))
    {
        let n = n.parse().ok()?;
        let answer = serde_json::from_slice::<BatchOutcome>(body)
            .map(|outcome| vec![EndAnswer { n, outcome }])
            .map_err(damaged);
        return Some(answer);
    }
    part.strip_prefix("answers-")?.strip_suffix(".json")?;
    let group = serde_json::from_slice::<AnswersPart>(body)
        .map(|p| p.answers)
        .map_err(damaged);
    Some(group)
}

/// A group being written, and what it says (for the end record until it is on record: a group
/// whose write failed stays here, so its answers go into the end record).
struct Writing {
    group: Arc<Vec<EndAnswer>>,
    written: Arc<AtomicBool>,
    task: JoinHandle<()>,
}

/// Answers waiting for others, and the groups being written.
#[derive(Default)]
struct Waiting {
    answers: Vec<EndAnswer>,
    keys: usize,
    /// When the oldest waiting answer came.
    since: Option<Instant>,
    writing: Vec<Writing>,
}

impl Waiting {
    /// Adds an answer that came at `now`; returns the group to write if it is time.
    fn add(&mut self, answer: EndAnswer, now: Instant) -> Option<Vec<EndAnswer>> {
        self.keys += answer.outcome.markers.len() + answer.outcome.failed.len();
        self.answers.push(answer);
        let since = *self.since.get_or_insert(now);
        if now.duration_since(since) < GROUP_FOR && self.keys < GROUP_KEYS {
            return None;
        }
        self.take()
    }

    /// The group begun at `began`, if it still waits at `now` and has waited [`GROUP_FOR`]: a
    /// group no other answer came to join (a lull: a big deployment being listed) goes anyway.
    fn due(&mut self, began: Instant, now: Instant) -> Option<Vec<EndAnswer>> {
        if self.since != Some(began) || now.duration_since(began) < GROUP_FOR {
            return None;
        }
        self.take()
    }

    fn take(&mut self) -> Option<Vec<EndAnswer>> {
        (self.keys, self.since) = (0, None);
        Some(std::mem::take(&mut self.answers)).filter(|a| !a.is_empty())
    }

    /// Starts writing `group`; it is kept here until it is on record.
    fn write(&mut self, journal: &Arc<RunJournal>, group: Vec<EndAnswer>) {
        let group = Arc::new(group);
        let written = Arc::new(AtomicBool::new(false));
        let (journal, part, done) = (journal.clone(), group.clone(), written.clone());
        let task = tokio::spawn(async move {
            if journal.answers(&part).await.is_ok() {
                done.store(true, Ordering::SeqCst);
            }
        });
        self.writing.push(Writing {
            group,
            written,
            task,
        });
    }
}

/// A run's answers on their way to its journal. A write that fails is kept by the journal
/// ([`RunJournal::error`]), the run stops at its next batch, and the group's answers go into
/// the end record.
pub(crate) struct Answers {
    journal: Arc<RunJournal>,
    waiting: Arc<Mutex<Waiting>>,
}

impl Answers {
    pub(crate) fn new(journal: Arc<RunJournal>) -> Answers {
        Answers {
            journal,
            waiting: Arc::default(),
        }
    }

    /// Batch `n`'s answer: it waits with the others, or goes now with them. The first answer
    /// of a group also sets a timer: no answer may wait longer than [`GROUP_FOR`] (a run
    /// killed in a lull would lose what waits).
    pub(crate) fn push(&self, n: u64, outcome: &BatchOutcome) {
        let mut w = self.waiting.lock().unwrap_or_else(|e| e.into_inner());
        // Groups on record are let go now: a kept group holds its markers until the run's end.
        w.writing.retain(|g| !g.written.load(Ordering::SeqCst));
        let answer = EndAnswer {
            n,
            outcome: outcome.clone(),
        };
        let first = w.since.is_none();
        match w.add(answer, Instant::now()) {
            Some(group) => w.write(&self.journal, group),
            None if first => {
                let began = w.since.expect("set by add");
                let (waiting, journal) = (self.waiting.clone(), self.journal.clone());
                tokio::spawn(async move {
                    tokio::time::sleep_until((began + GROUP_FOR).into()).await;
                    let mut w = waiting.lock().unwrap_or_else(|e| e.into_inner());
                    if let Some(group) = w.due(began, Instant::now()) {
                        w.write(&journal, group);
                    }
                });
            }
            None => {}
        }
    }

    /// The answers not known to be on record (waiting, being written, or whose write failed:
    /// for the end record), and the writes still under way (to be waited for beside it).
    pub(crate) fn unanswered(&self) -> (Vec<EndAnswer>, Vec<JoinHandle<()>>) {
        let mut w = self.waiting.lock().unwrap_or_else(|e| e.into_inner());
        let mut answers = std::mem::take(&mut w.answers);
        (w.keys, w.since) = (0, None);
        let mut tasks = Vec::new();
        for g in std::mem::take(&mut w.writing) {
            if !g.written.load(Ordering::SeqCst) {
                answers.extend(g.group.iter().cloned());
            }
            tasks.push(g.task);
        }
        answers.sort_by_key(|a| a.n);
        (answers, tasks)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bucket::NewMarker;
    use retention::DeploymentId;

    fn outcome(markers: usize) -> BatchOutcome {
        let id = DeploymentId::new("d1").unwrap();
        BatchOutcome {
            markers: (0..markers)
                .map(|i| {
                    let key = format!("d1/{i}.js");
                    let version_id = format!("v{i}");
                    (id.clone(), NewMarker { key, version_id })
                })
                .collect(),
            failed: Vec::new(),
        }
    }

    #[test]
    fn a_group_is_named_by_its_first_and_last_batch_and_read_back_whole() {
        let group = vec![
            EndAnswer {
                n: 7,
                outcome: outcome(2),
            },
            EndAnswer {
                n: 9,
                outcome: outcome(0),
            },
        ];
        let name = part_name(&group);
        assert_eq!(name, "answers-000007-000009.json");
        let body = serde_json::to_vec(&AnswersPart {
            answers: group.clone(),
        })
        .unwrap();
        let read = answers_of(&name, &body).unwrap().unwrap();
        let numbers: Vec<u64> = read.iter().map(|a| a.n).collect();
        // Batch 8 is not in it though the name spans it: a reader goes by the body.
        assert_eq!(numbers, vec![7, 9]);
        assert_eq!(read[0].outcome.markers, group[0].outcome.markers);
    }

    #[test]
    fn a_part_of_one_answer_written_before_groups_is_still_read() {
        let body = serde_json::to_vec(&outcome(3)).unwrap();
        let read = answers_of("answer-000004.json", &body).unwrap().unwrap();
        assert_eq!(read.len(), 1);
        assert_eq!((read[0].n, read[0].outcome.markers.len()), (4, 3));
    }

    #[test]
    fn damaged_answer_parts_are_errors_and_other_parts_are_not_answers() {
        assert!(
            answers_of("answers-000001-000002.json", b"{\"answers\": 3}")
                .unwrap()
                .is_err()
        );
        assert!(answers_of("answer-000001.json", b"[").unwrap().is_err());
        for other in ["intents-000001-000002.json", "end.json", "answer-x.json"] {
            assert!(answers_of(other, b"{}").is_none(), "{other}");
        }
    }

    fn answer(n: u64, markers: usize) -> EndAnswer {
        EndAnswer {
            n,
            outcome: outcome(markers),
        }
    }

    #[test]
    fn answers_wait_for_each_other_until_the_oldest_has_waited_long_enough() {
        let mut w = Waiting::default();
        let t0 = Instant::now();
        assert!(w.add(answer(1, 10), t0).is_none());
        assert!(w.add(answer(2, 10), t0 + GROUP_FOR / 2).is_none());
        let group = w
            .add(answer(3, 10), t0 + GROUP_FOR)
            .expect("the first waited long enough");
        let numbers: Vec<u64> = group.iter().map(|a| a.n).collect();
        assert_eq!(numbers, vec![1, 2, 3]);
        // The next group's clock starts with its own first answer.
        assert!(w.add(answer(4, 10), t0 + GROUP_FOR * 2).is_none());
        assert_eq!(w.answers.len(), 1);
    }

    #[test]
    fn a_group_no_answer_joins_is_due_once_it_has_waited_long_enough() {
        let mut w = Waiting::default();
        let t0 = Instant::now();
        assert!(w.add(answer(1, 10), t0).is_none());
        assert!(w.due(t0, t0 + GROUP_FOR / 2).is_none(), "not yet");
        let group = w.due(t0, t0 + GROUP_FOR).expect("due");
        assert_eq!(group.len(), 1);
        // A timer of a group already written (by a later answer) finds nothing to write.
        assert!(w.add(answer(2, 10), t0 + GROUP_FOR).is_none());
        assert!(
            w.due(t0, t0 + GROUP_FOR * 2).is_none(),
            "another group began since"
        );
    }

    #[test]
    fn answers_naming_many_keys_go_at_once_so_memory_stays_bounded() {
        let mut w = Waiting::default();
        let t0 = Instant::now();
        assert!(w.add(answer(1, GROUP_KEYS - 1), t0).is_none());
        let group = w.add(answer(2, 1), t0).expect("the key bound reached");
        assert_eq!(group.len(), 2);
        assert!(w.answers.is_empty() && w.keys == 0);
    }
}
