//! History for the dashboard: the runs of this server's audit log and of every configured
//! bucket's journal (the CLI's, the scheduled job's and other servers' included), merged newest
//! first and sent a page of one-line summaries at a time; a run's details when its row is opened.

mod rows;

use super::{AppError, AppState};
use crate::wire::{BucketChoice, HistoryPage, PageStart, RunDetails, RunRow, UnreadableRun};
use chrono::{DateTime, Utc};
pub(super) use rows::label;
use rows::{details, key, row};
use std::cmp::Reverse;
use std::collections::HashSet;

/// Runs on one History page.
pub const HISTORY_PAGE: usize = 50;

/// The runs on record that began at or before `by` (all with `None`), newest first by (start,
/// [`Tie`]), a run in both this server's log and a journal once (with this server's record number),
/// and what could not be read.
struct Gathered {
    runs: Vec<audit::Record>,
    unreadable: Vec<UnreadableRun>,
    /// A source has runs older than those it gave. Then `runs` stops at the newest of the
    /// oldest runs each such source gave: a run older than that may have others beside it not
    /// read yet, so it waits for the next page.
    more: bool,
    /// Each configured bucket's lease as read before its runs (bucket, prefix, holder): a run
    /// with no end on record is running while it holds it, else it died.
    leases: Vec<(String, String, Option<bucket::LeaseHolder>)>,
    /// Each configured bucket's undo window where its lifecycle removes old versions (bucket,
    /// prefix, days), read beside its lease.
    windows: Vec<(String, String, i32)>,
}

impl Gathered {
    /// For a run that could be restored but ran longer ago than its bucket's undo window (the
    /// lifecycle rule removing old versions), what History says instead of "can be restored":
    /// before, it offered the restore of runs whose versions S3 had long removed.
    fn past_undo_window(&self, r: &audit::Record, now: DateTime<Utc>) -> Option<String> {
        let (_, _, days) = self
            .windows
            .iter()
            .find(|(b, p, _)| *b == r.bucket && *p == r.prefix)?;
        // S3 expires a version the midnight (UTC) after its days are up, and may take a while.
        let gone_by = r.started_at + chrono::Duration::days(i64::from(*days) + 1);
        (r.restorable() && now > gone_by).then(|| {
            format!(
                "undo window passed: this bucket's lifecycle removes old versions {days} days \
                 after a delete, and this run is {} days old — a restore may find nothing to \
                 bring back",
                (now - r.started_at).num_days()
            )
        })
    }

    /// How History shows run `r`'s status: a run with no end on record is `running` while it
    /// holds its bucket's lease and `died` when it does not (killed, crashed, timed out), where
    /// the lease could be read.
    fn status(&self, r: &audit::Record, now: DateTime<Utc>) -> String {
        if r.status != audit::Status::Started {
            return r.status.to_string();
        }
        let lease = self
            .leases
            .iter()
            .find(|(b, p, _)| *b == r.bucket && *p == r.prefix);
        match (lease, &r.run) {
            (Some((_, _, holder)), Some(run)) => {
                match prune::journal::holds_lease(holder.as_ref(), run, now) {
                    true => "running".into(),
                    false => "died".into(),
                }
            }
            _ => r.status.to_string(),
        }
    }
}

/// One source's oldest run given, when it has older ones left.
fn oldest_if_more(runs: &[audit::Record], more: bool) -> Option<(DateTime<Utc>, Tie)> {
    more.then(|| runs.iter().map(place).min()).flatten()
}

/// Where a run falls among runs that began in the same millisecond, from its [`key`]: records
/// of this server's log (`#N`) by number, as the log lists them (#9 before #10; as text "#9"
/// came after "#10" and a page boundary among them skipped runs), before every run id.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Tie {
    Number(i64),
    Run(String),
}

impl Tie {
    fn of(key: &str) -> Tie {
        match key.strip_prefix('#').and_then(|n| n.parse().ok()) {
            Some(n) => Tie::Number(n),
            None => Tie::Run(key.to_string()),
        }
    }
}

/// Where run `r` falls in History: newest first by start, then [`Tie`].
fn place(r: &audit::Record) -> (DateTime<Utc>, Tie) {
    (r.started_at, Tie::of(&key(r)))
}

impl AppState {
    /// The newest runs on record, newest first: this server's audit log, and the journal of
    /// every configured bucket (runs of the CLI, the scheduled job and other servers included;
    /// a run in both is shown once, with this server's record number).
    pub async fn history(&self, limit: usize) -> Result<Vec<audit::Record>, AppError> {
        let mut g = self.gather(None, limit, false).await?;
        g.runs.truncate(limit);
        Ok(g.runs)
    }

    /// One page of History: the [`HISTORY_PAGE`] runs after `start` (the newest without one),
    /// summaries only.
    pub async fn history_page(&self, start: Option<PageStart>) -> Result<HistoryPage, AppError> {
        let after = start
            .as_ref()
            .map(|s| (s.after_started, Tie::of(&s.after_key)));
        let lookup = |n: i64| self.config.audit.as_ref()?.get(n).ok()??.run;
        let now = Utc::now();
        // Runs that began in the same millisecond as the last one shown come again (the
        // sources list by start): one more, or as many more as it takes to go past them.
        let mut limit = HISTORY_PAGE + 1;
        let (g, mut runs) = loop {
            let g = self
                .gather(after.as_ref().map(|a| a.0), limit, true)
                .await?;
            let runs: Vec<RunRow> = g
                .runs
                .iter()
                .filter(|r| after.as_ref().is_none_or(|a| place(r) < *a))
                .map(|r| {
                    let row = row(r, lookup);
                    RunRow {
                        status: g.status(r, now),
                        undo_note: g.past_undo_window(r, now).or(row.undo_note.clone()),
                        ..row
                    }
                })
                .collect();
            if runs.len() >= HISTORY_PAGE || !g.more {
                break (g, runs);
            }
            limit *= 2;
        };
        let more = g.more || runs.len() > HISTORY_PAGE;
        runs.truncate(HISTORY_PAGE);
        let next = match runs.last() {
            Some(last) if more => Some(PageStart {
                after_started: last.started_at,
                after_key: last.key.clone(),
            }),
            _ => None,
        };
        // A damaged run is named on the page whose span holds it.
        let newest = after.as_ref().map(|a| a.0);
        let oldest = next.as_ref().map(|n| n.after_started);
        let unreadable = g
            .unreadable
            .into_iter()
            .filter(|u| match bucket::RunId::parse(&u.name) {
                Some(id) => {
                    newest.is_none_or(|n| id.started() < n)
                        && oldest.is_none_or(|o| id.started() >= o)
                }
                None => true,
            })
            .collect();
        Ok(HistoryPage {
            runs,
            next,
            unreadable,
        })
    }

    /// What run `run` (a record number of this server's log, or a journal run id) shows when
    /// its History row is opened.
    pub async fn run_details(&self, run: &str) -> Result<RunDetails, AppError> {
        let (record, whole) = match run.parse::<i64>() {
            Ok(n) => {
                let log = self
                    .config
                    .audit
                    .as_ref()
                    .ok_or_else(|| AppError::new("no audit log is configured"))?;
                // As for a restore: a run of a bucket this server offers.
                let (r, _) = self.local_run(log, n)?;
                let whole = format!(
                    "record {n} of this server's audit log ({})",
                    log.path().display()
                );
                (r, whole)
            }
            Err(_) => {
                let (id, c) = self.journalled_run(run).await?;
                let b = self.bucket(&c).await?;
                let place = bucket::JournalPlace::of(&b);
                let r = prune::journal::record(&place, &id)
                    .await
                    .map_err(|e| AppError(format!("run {run} in {}: {e}", place.url())))?;
                (r, format!("under {}{id}/", place.url()))
            }
        };
        Ok(RunDetails {
            whole_record: whole,
            ..details(&record)
        })
    }

    /// The newest runs of bucket `c` on record, newest first, as [`AppState::history`] reads
    /// every bucket's: however many runs other buckets had since (the overview, `/metrics`).
    pub async fn history_of(
        &self,
        c: &BucketChoice,
        limit: usize,
    ) -> Result<Vec<audit::Record>, AppError> {
        let mut g = self.gather_in(Some(c), None, limit, false).await?;
        g.runs.truncate(limit);
        Ok(g.runs)
    }

    /// The runs of every configured bucket (see [`Gathered`]); with `leases`, each bucket's
    /// lease too, read before any run (this server's log included), so a run that ends
    /// meanwhile is not called dead.
    async fn gather(
        &self,
        by: Option<DateTime<Utc>>,
        limit: usize,
        leases: bool,
    ) -> Result<Gathered, AppError> {
        self.gather_in(None, by, limit, leases).await
    }

    /// [`AppState::gather`], of bucket `only` when given (its journal, and its runs in this
    /// server's log).
    async fn gather_in(
        &self,
        only: Option<&BucketChoice>,
        by: Option<DateTime<Utc>>,
        limit: usize,
        leases: bool,
    ) -> Result<Gathered, AppError> {
        let buckets = match only {
            Some(c) => std::slice::from_ref(c),
            None => &self.config.buckets[..],
        };
        let mut held = Vec::new();
        let mut windows = Vec::new();
        for c in buckets.iter().filter(|_| leases) {
            let b = self.bucket(c).await?;
            let (lease, days) = futures::join!(b.read_lease(), b.noncurrent_days());
            if let Ok(holder) = lease {
                let holder = holder.map(|(h, _)| h);
                held.push((b.name().to_string(), b.prefix().to_string(), holder));
            }
            if let Ok(Some(days)) = days {
                windows.push((b.name().to_string(), b.prefix().to_string(), days));
            }
        }
        let mut runs = match (&self.config.audit, only) {
            (Some(log), None) => log.list_before(by, limit).map_err(AppError::new)?,
            (Some(log), Some(c)) => log
                .list_of_before(&c.name, &bucket::normalize_prefix(&c.prefix), by, limit)
                .map_err(AppError::new)?,
            (None, _) => Vec::new(),
        };
        let mut horizon = oldest_if_more(&runs, runs.len() >= limit);
        let known: HashSet<String> = runs.iter().filter_map(|r| r.run.clone()).collect();
        let mut unreadable = Vec::new();
        for c in buckets {
            let b = self.bucket(c).await?;
            let place = bucket::JournalPlace::of(&b);
            match prune::journal::records_before(&place, by, limit, Some(&self.ended)).await {
                Ok(page) => {
                    horizon = horizon.max(oldest_if_more(&page.records, page.more));
                    for u in page.unreadable {
                        tracing::warn!(journal = %place.url(), name = %u.name, problem = %u.problem, "unreadable run skipped");
                        unreadable.push(UnreadableRun {
                            journal: place.url(),
                            name: u.name,
                            problem: u.problem,
                        });
                    }
                    for r in page.records {
                        match r.run.as_ref().filter(|id| known.contains(*id)) {
                            None => runs.push(r),
                            // Also in this server's log: shown once, with its record number; the
                            // journal's end wins over a local copy still `started` (the run ended
                            // since the log was read, or the log's finish failed).
                            Some(id) => {
                                let local = runs.iter_mut().find(|l| l.run.as_ref() == Some(id));
                                if let Some(local) = local.filter(|l| {
                                    l.status == audit::Status::Started
                                        && r.status != audit::Status::Started
                                }) {
                                    let n = local.id;
                                    *local = audit::Record { id: n, ..r };
                                }
                            }
                        }
                    }
                }
                Err(e) => {
                    tracing::warn!(journal = %place.url(), error = %e, "journal unreadable");
                    unreadable.push(UnreadableRun {
                        journal: place.url(),
                        name: String::new(),
                        problem: format!("the journal could not be listed: {e}"),
                    });
                }
            }
        }
        runs.sort_by_key(|r| Reverse(place(r)));
        if let Some(h) = &horizon {
            runs.retain(|r| place(r) >= *h);
        }
        Ok(Gathered {
            runs,
            unreadable,
            more: horizon.is_some(),
            leases: held,
            windows,
        })
    }
}

#[cfg(test)]
mod tests;
