//! History for the dashboard: the runs of this server's audit log and of every configured
//! bucket's journal (the CLI's, the scheduled job's and other servers' included), merged newest
//! first and sent a page of one-line summaries at a time; a run's details when its row is opened.

use super::{AppError, AppState};
use crate::wire::{HistoryPage, PageStart, RunDetails, RunRow, UnreadableRun};
use chrono::{DateTime, Utc};
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
                .map(|r| RunRow {
                    status: g.status(r, now),
                    undo_note: g.past_undo_window(r, now),
                    ..row(r, lookup)
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

    /// The runs (see [`Gathered`]); with `leases`, each bucket's lease too, read before any
    /// run (this server's log included), so a run that ends meanwhile is not called dead.
    async fn gather(
        &self,
        by: Option<DateTime<Utc>>,
        limit: usize,
        leases: bool,
    ) -> Result<Gathered, AppError> {
        let mut held = Vec::new();
        let mut windows = Vec::new();
        for c in self.config.buckets.iter().filter(|_| leases) {
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
        let mut runs = match &self.config.audit {
            Some(log) => log.list_before(by, limit).map_err(AppError::new)?,
            None => Vec::new(),
        };
        let mut horizon = oldest_if_more(&runs, runs.len() >= limit);
        let known: HashSet<String> = runs.iter().filter_map(|r| r.run.clone()).collect();
        let mut unreadable = Vec::new();
        for c in self.config.buckets.clone() {
            let b = self.bucket(&c).await?;
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

/// What names a run across pages: its run id, else `#N` (a record from before runs were
/// journalled).
fn key(r: &audit::Record) -> String {
    match (&r.run, r.id) {
        (Some(run), _) => run.clone(),
        (None, Some(n)) => format!("#{n}"),
        (None, None) => String::new(),
    }
}

/// How a run is named to people: `#N` in this server's audit log, else its run id.
pub(super) fn label(r: &audit::Record) -> String {
    match (r.id, &r.run) {
        (Some(n), _) => format!("#{n}"),
        (None, Some(run)) => run.clone(),
        (None, None) => "?".into(),
    }
}

/// A run's History row; `lookup` gives the run id of a record number of this server's log.
fn row(r: &audit::Record, lookup: impl Fn(i64) -> Option<String>) -> RunRow {
    let restore = undid(r, lookup);
    let listed = r.deployments();
    RunRow {
        key: key(r),
        label: label(r),
        handle: match (r.id, &r.run) {
            (Some(n), _) => n.to_string(),
            (None, Some(run)) => run.clone(),
            (None, None) => String::new(),
        },
        started_at: r.started_at,
        who: r.who.clone(),
        source: r.source.clone(),
        bucket: r.bucket.clone(),
        prefix: r.prefix.clone(),
        status: r.status.to_string(),
        deployments: listed.len() as u64,
        objects: listed.iter().map(|d| d.objects).sum(),
        bytes: listed.iter().map(|d| d.bytes).sum(),
        failures: r.failures.len() as u64,
        plan: r.plan_fingerprint.clone(),
        restorable: r.restorable(),
        undo_note: None,
        undid: restore.as_ref().and_then(|u| u.key.clone()),
        restore_of: restore.map(|u| u.shown),
    }
}

/// A restore's run it undid, as the page names it and by the key of that run's row.
struct Undid {
    shown: String,
    key: Option<String>,
}

/// The run a restore undid: by run id when the restore recorded one; a record number of this
/// server's log as `#N`; a number another machine's restore recorded as that machine's
/// (`#N on HOST`), which names no run here.
fn undid(r: &audit::Record, lookup: impl Fn(i64) -> Option<String>) -> Option<Undid> {
    let text = |key: &str| {
        r.policy
            .get(key)
            .and_then(|v| match v {
                serde_json::Value::String(s) => Some(s.clone()),
                serde_json::Value::Number(n) => Some(n.to_string()),
                _ => None,
            })
            .filter(|s| !s.is_empty())
    };
    let run_id = text("restore_of_run")
        .or_else(|| text("restore_of"))
        .and_then(|s| bucket::RunId::parse(&s))
        .map(|id| id.to_string());
    let number = r
        .restore_of
        .map(|n| n.to_string())
        .or_else(|| text("restore_of").filter(|s| bucket::RunId::parse(s).is_none()));
    let shown = match (&number, &run_id, r.id, &r.host) {
        (Some(n), _, Some(_), _) => format!("#{n}"),
        (_, Some(id), _, _) => id.clone(),
        (Some(n), None, None, Some(host)) => format!("#{n} on {host}"),
        (Some(n), None, None, None) => format!("#{n} on another machine"),
        (None, None, _, _) => return None,
    };
    // A restore recorded before `restore_of_run` was: this server's record names the run.
    let key = match (run_id, number, r.id) {
        (Some(id), _, _) => Some(id),
        (None, Some(n), Some(_)) => Some(
            n.parse()
                .ok()
                .and_then(&lookup)
                .unwrap_or_else(|| format!("#{n}")),
        ),
        _ => None,
    };
    Some(Undid { shown, key })
}

/// A run's details, each list cut at [`RunDetails::SHOWN`].
fn details(r: &audit::Record) -> RunDetails {
    let listed = r.deployments();
    let deployments: Vec<String> = listed
        .iter()
        .take(RunDetails::SHOWN)
        .map(|d| {
            format!(
                "{} ({}, {})",
                d.id,
                crate::format::plural(d.objects, "object", "objects"),
                crate::format::size(d.bytes)
            )
        })
        .collect();
    let failures: Vec<String> = r
        .failures
        .iter()
        .take(RunDetails::SHOWN)
        .map(|f| format!("{}: {}", f.key, f.error))
        .collect();
    let not_shown = (listed.len() - deployments.len() + r.failures.len() - failures.len()) as u64;
    RunDetails {
        policy: r.policy.to_string(),
        duration_ms: r.duration_ms,
        host: r.host.clone(),
        deployments,
        failures,
        not_shown,
        whole_record: String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(id: Option<i64>, run: Option<&str>) -> audit::Record {
        audit::Record {
            id,
            run: run.map(str::to_string),
            ..audit::Record::begin("a", "cli", "b", "", Utc::now())
        }
    }

    #[test]
    fn record_numbers_tie_by_number_and_before_run_ids() {
        let mut ties: Vec<Tie> = ["20261204T013000123Z-9f3a61c2", "#10", "#9", "#100"]
            .into_iter()
            .map(Tie::of)
            .collect();
        ties.sort();
        assert_eq!(
            ties,
            [
                Tie::Number(9),
                Tie::Number(10),
                Tie::Number(100),
                Tie::Run("20261204T013000123Z-9f3a61c2".into())
            ]
        );
    }

    #[test]
    fn a_restore_names_the_run_it_undid_by_run_id_or_says_whose_number_it_is() {
        let id = "20261204T013000123Z-9f3a61c2";
        let shown = |r: &audit::Record| undid(r, |_| None).map(|u| (u.shown, u.key));
        let mut by_id = record(None, Some("20261205T013000123Z-00000001"));
        by_id.policy = serde_json::json!({ "restore_of": id });
        assert_eq!(shown(&by_id), Some((id.into(), Some(id.into()))));

        // This server's restore of its #5: shown as #5, matched by #5's run id when recorded.
        let mut ours = record(Some(7), None);
        ours.policy = serde_json::json!({ "restore_of": "5", "restore_of_run": id });
        ours.restore_of = Some(5);
        assert_eq!(shown(&ours), Some(("#5".into(), Some(id.into()))));
        ours.policy = serde_json::json!({ "restore_of": "5" });
        assert_eq!(shown(&ours), Some(("#5".into(), Some("#5".into()))));
        // recorded before restore_of_run was: #5's own record names its run
        let looked_up = undid(&ours, |n| (n == 5).then(|| id.to_string())).map(|u| u.key);
        assert_eq!(looked_up, Some(Some(id.into())));

        // Another machine's restore of its #5, from the journal: not this server's #5.
        let mut theirs = record(None, Some("20261205T013000123Z-00000002"));
        theirs.policy = serde_json::json!({ "restore_of": "5" });
        theirs.restore_of = Some(5);
        theirs.host = Some("laptop".into());
        assert_eq!(shown(&theirs), Some(("#5 on laptop".into(), None)));
        theirs.policy = serde_json::json!({ "restore_of": "5", "restore_of_run": id });
        assert_eq!(shown(&theirs), Some((id.into(), Some(id.into()))));

        assert!(undid(&record(Some(1), None), |_| None).is_none());
    }

    #[test]
    fn a_row_carries_counts_not_lists_and_details_cut_long_lists() {
        let mut r = record(Some(3), Some("20261204T013000123Z-9f3a61c2"));
        r.deleted = (0..250)
            .map(|i| audit::DeletedDeployment {
                id: format!("d{i}"),
                objects: 2,
                bytes: 10,
            })
            .collect();
        r.failures = vec![audit::Failure {
            key: "d1/x".into(),
            error: "AccessDenied".into(),
        }];
        let row = row(&r, |_| None);
        assert_eq!((row.deployments, row.objects, row.bytes), (250, 500, 2500));
        assert_eq!((row.label.as_str(), row.handle.as_str()), ("#3", "3"));
        assert_eq!(row.key, "20261204T013000123Z-9f3a61c2");
        let d = details(&r);
        assert_eq!(d.deployments.len(), RunDetails::SHOWN);
        assert_eq!(d.failures, vec!["d1/x: AccessDenied"]);
        assert_eq!(d.not_shown, 50);
    }
}
