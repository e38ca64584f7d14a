//! Whether a bucket keeps its policy over time: deletions the policy has allowed for too long
//! (overdue: cleanup has stopped or fails) and when each front end last ended a run well. Every
//! apply that ends well — one with nothing to delete too — leaves
//! `<prefix>.s3-prune/last-success-<source>.json`, so a job that runs every night and finds
//! nothing due is told apart from one that no longer runs.

use crate::journal;
use audit::{Record, Status};
use bucket::{Bucket, JournalPlace, S3Error};
use chrono::{DateTime, Utc};
use retention::{Entry, Plan, Span};
use serde::{Deserialize, Serialize};

/// The front ends that run applies.
pub const SOURCES: [&str; 3] = ["cli", "dashboard", "lambda"];

/// One front end's last run that ended well.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LastSuccess {
    /// `cli`, `dashboard` or `lambda`.
    pub source: String,
    pub at: DateTime<Utc>,
    pub who: String,
    /// The journalled run, when it deleted something.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run: Option<String>,
    pub deleted_deployments: u64,
}

fn name(source: &str) -> String {
    format!("last-success-{source}.json")
}

/// Notes a run of `planned` that ended well (best effort: a failure is logged, never fails the
/// run) — unless it is no success however it ended ([`no_success`]): a run that found no
/// deployment, cannot rank some, or leaves a kept folder to S3's expiration did not do its
/// job, and must not hide that from `check` or the dashboard. Nothing is written then, so a
/// mistyped prefix gets no state folder either.
pub async fn note_success(planned: &crate::Planned, last: &LastSuccess) {
    if let Some(why) = no_success(&planned.plan, &planned.handovers) {
        tracing::warn!(source = last.source, "no successful run noted: {why}");
        return;
    }
    write_note(&planned.bucket, last).await;
}

/// Why a run of `plan` is no success however it ends: the policy not kept ([`shortfalls`]),
/// or a kept folder S3 is set to expire (`handovers` the scan could not withdraw).
pub fn no_success(plan: &Plan, handovers: &crate::Handovers) -> Option<String> {
    let danger = handovers.danger().map(str::to_string);
    danger.or_else(|| shortfalls(plan).into_iter().next())
}

/// Writes the note of `last` (best effort).
async fn write_note(bucket: &Bucket, last: &LastSuccess) {
    let body = serde_json::to_vec(last).expect("a LastSuccess serializes");
    if let Err(e) = bucket.write_state(&name(&last.source), body).await {
        tracing::warn!(error = %e, source = last.source, "the last successful run could not be noted: `check` may call this bucket late");
    }
}

/// Each front end's last successful run: from the notes, and from the journal's finished runs
/// (whichever is newer). Newest first.
pub async fn last_successes(
    bucket: &Bucket,
    place: &JournalPlace,
) -> Result<Vec<LastSuccess>, S3Error> {
    let noted = noted_successes(bucket).await?;
    let (records, _) = journal::records(place, 200).await?;
    Ok(with_runs(noted, &records))
}

/// `noted` with the finished runs of `records` (no restores) where one is newer than the note
/// of its front end. Newest first. For callers that already hold the records. A note naming a
/// run that is on record as anything but finished is dropped: the note is written beside the
/// run's end record, and a run whose end could not be written is no success.
pub fn with_runs<'a>(
    mut found: Vec<LastSuccess>,
    records: impl IntoIterator<Item = &'a Record>,
) -> Vec<LastSuccess> {
    let records: Vec<&Record> = records.into_iter().collect();
    found.retain(|f| {
        let on_record = f
            .run
            .as_ref()
            .and_then(|run| records.iter().find(|r| r.run.as_ref() == Some(run)));
        on_record.is_none_or(|r| r.status == Status::Finished)
    });
    for r in records {
        // (a finished run whose plan showed the policy not kept noted no success either)
        if r.status != Status::Finished || r.is_restore() || r.shortfall.is_some() {
            continue;
        }
        let newer = found
            .iter()
            .find(|f| f.source == r.source)
            .is_none_or(|f| f.at < r.started_at);
        if newer {
            found.retain(|f| f.source != r.source);
            found.push(LastSuccess {
                source: r.source.clone(),
                at: r.started_at,
                who: r.who.clone(),
                run: r.run.clone(),
                deleted_deployments: r.deleted.len() as u64,
            });
        }
    }
    found.sort_by_key(|f| std::cmp::Reverse(f.at));
    found
}

/// Each front end's last successful run as noted (one GET per front end, no listing: what a
/// page load can afford). Runs from before the notes existed are only in the journal.
pub async fn noted_successes(bucket: &Bucket) -> Result<Vec<LastSuccess>, S3Error> {
    // At once: a dashboard page waits for them (one round trip, not one per front end).
    let names: Vec<String> = SOURCES.iter().map(|source| name(source)).collect();
    let reads = futures::future::join_all(names.iter().map(|n| bucket.read_state(n))).await;
    let mut found: Vec<LastSuccess> = Vec::new();
    for body in reads {
        if let Some(body) = body? {
            if let Ok(last) = serde_json::from_slice::<LastSuccess>(&body) {
                found.push(last);
            }
        }
    }
    found.sort_by_key(|f| std::cmp::Reverse(f.at));
    Ok(found)
}

/// What `check` found.
#[derive(Debug, Clone, Serialize)]
pub struct Health {
    /// `ok`, or `behind` (no deployments, some it cannot rank, something overdue, or no
    /// successful run within the window).
    pub status: HealthStatus,
    pub overdue_after: Span,
    /// Deployments deletable for longer than `overdue_after`, longest first.
    pub overdue: Vec<Overdue>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_run_within: Option<Span>,
    pub last_successes: Vec<LastSuccess>,
    /// One line each: what is wrong and since when.
    pub problems: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HealthStatus {
    Ok,
    Behind,
}

/// One overdue deployment.
#[derive(Debug, Clone, Serialize)]
pub struct Overdue {
    pub id: String,
    pub deletable_since: DateTime<Utc>,
    pub bytes: u64,
}

impl Overdue {
    fn of(e: &Entry) -> Overdue {
        Overdue {
            id: e.id.to_string(),
            deletable_since: e.deletable_since.unwrap_or(e.date),
            bytes: e.bytes,
        }
    }
}

/// An S3 Inventory report older than this (hours) is older than a weekly report can be: made
/// each week and delivered within 48 h, the newest complete one is at most 9 days old.
const STALE_REPORT_HOURS: i64 = 10 * 24;

/// Why a plan shows its policy not kept, whatever its runs do: no deployment found at all (a
/// wrong bucket or prefix), deployments it cannot rank and so never deletes, or an S3
/// Inventory report older than a weekly one can be (its delivery stopped, or one fixed
/// manifest is named: the ranking is that old, and only the plan's warning said so). One
/// sentence each; empty when the policy can be kept.
pub fn shortfalls(plan: &Plan) -> Vec<String> {
    let stale = plan.warnings.iter().find_map(|w| match w {
        retention::Warning::OldInventory {
            report_date,
            age_hours,
        } if *age_hours > STALE_REPORT_HOURS => Some(format!(
            "the S3 Inventory report planned from is from {} UTC, {} days old, older than a weekly \
             report can be: has its delivery stopped, or is one fixed manifest.json named? (name \
             the configuration's folder for its newest report, or plan from a listing)",
            retention::minute_utc(report_date),
            age_hours / 24
        )),
        _ => None,
    });
    let mut found = unranked_or_none(plan);
    found.extend(stale);
    found
}

/// No deployment found, or deployments the plan cannot rank.
fn unranked_or_none(plan: &Plan) -> Vec<String> {
    if plan.entries.is_empty() {
        return vec![
            "no deployments found: is the bucket or --prefix right? (a job here has nothing to clean up)"
                .to_string(),
        ];
    }
    // Named in id order, so the sentence a monitor sees does not change with upload times.
    let unranked = plan.unranked();
    let Some(first) = unranked.iter().min_by(|a, b| a.id.cmp(&b.id)) else {
        return Vec::new();
    };
    let why = match &first.reason {
        retention::Reason::DateUnknown { key } => format!("has no readable '{key}' date"),
        _ => format!(
            "is dated {} UTC, in the future",
            retention::minute_utc(&first.date)
        ),
    };
    vec![format!(
        "{} deployment(s) cannot be ranked, so are never deleted: the first by name, {}, {why} (fix the metadata or the date source; pin or exclude the ones to keep on purpose)",
        unranked.len(),
        first.id,
    )]
}

/// How far ahead of this clock a note's time may be and still count (clock skew).
const FUTURE_SLACK_SECS: i64 = 300;

/// The verdict on `plan` and the runs on record, at the plan's `now`.
pub fn health(
    plan: &Plan,
    handovers: &crate::Handovers,
    overdue_after: Span,
    last_run_within: Option<Span>,
    last_successes: Vec<LastSuccess>,
) -> Health {
    let overdue: Vec<Overdue> = plan
        .overdue(overdue_after)
        .into_iter()
        .map(Overdue::of)
        .collect();
    let mut problems = shortfalls(plan);
    // A kept folder's lifecycle rule the scan could not withdraw: S3 would expire what the
    // policy keeps (before, `check` said OK, and every run's success was noted all the same).
    problems.extend(handovers.danger().map(str::to_string));
    if let Some(first) = overdue.first() {
        problems.push(format!(
            "{} deployment(s) deletable for more than {overdue_after}: the first, {}, since {} UTC ({} ago)",
            overdue.len(),
            first.id,
            retention::minute_utc(&first.deletable_since),
            retention::human_age((plan.now - first.deletable_since).num_seconds()),
        ));
    }
    if let Some(window) = last_run_within {
        // A note dated in the future (a host whose clock runs ahead) is no recent run: it would
        // hide a stopped job for as long as that clock is off.
        let within = |l: &&LastSuccess| {
            let age = (plan.now - l.at).num_seconds();
            (-FUTURE_SLACK_SECS..=i64::try_from(window.as_secs()).unwrap_or(i64::MAX))
                .contains(&age)
        };
        if !last_successes.iter().any(|l| within(&l)) {
            problems.push(match last_successes.first() {
                Some(l) => {
                    let age = (plan.now - l.at).num_seconds();
                    format!(
                        "no successful run within {window}: the last, from the {}, was {} UTC ({})",
                        l.source,
                        retention::minute_utc(&l.at),
                        // Noted by a machine whose clock ran ahead of S3's.
                        if age < 0 {
                            "in the future: a clock that runs ahead noted it".to_string()
                        } else {
                            format!("{} ago", retention::human_age(age))
                        },
                    )
                }
                None => format!("no successful run within {window}: none on record"),
            });
        }
    }
    Health {
        status: if problems.is_empty() {
            HealthStatus::Ok
        } else {
            HealthStatus::Behind
        },
        overdue_after,
        overdue,
        last_run_within,
        last_successes,
        problems,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_note_of_a_run_whose_end_is_not_on_record_is_no_success() {
        let now = Utc::now();
        let note = LastSuccess {
            source: "lambda".into(),
            at: now,
            who: "job".into(),
            run: Some("r1".into()),
            deleted_deployments: 2,
        };
        let mut run = Record::begin("job", "lambda", "b", "", now);
        run.run = Some("r1".into());
        assert!(with_runs(vec![note.clone()], [&run]).is_empty());
        run.status = Status::Finished;
        assert_eq!(with_runs(vec![note.clone()], [&run]).len(), 1);
        // A run no longer among the records read keeps its note.
        assert_eq!(with_runs(vec![note], []).len(), 1);
    }

    /// Before: the journal's finished run stood in for the note its front end withheld (its
    /// plan could not rank a deployment), and the dashboard's overview and `/metrics` showed a
    /// fresh success every night while undated deployments piled up (review).
    #[test]
    fn a_finished_run_whose_plan_fell_short_is_no_success() {
        let now = Utc::now();
        let mut run = Record::begin("job", "lambda", "b", "", now);
        run.run = Some("r1".into());
        run.status = Status::Finished;
        assert_eq!(with_runs(vec![], [&run]).len(), 1);
        run.shortfall = Some("1 deployment(s) cannot be ranked".into());
        assert!(with_runs(vec![], [&run]).is_empty());
    }

    /// A plan from an S3 Inventory report older than a weekly one can be is no success: the
    /// report's delivery stopped (or one fixed manifest is named) and only a warning said so,
    /// which a scheduled job's answer keeps from everyone. A report days old is a warning only.
    #[test]
    fn a_plan_from_a_report_older_than_a_week_is_no_success() {
        let now = Utc::now();
        let policy = retention::Policy::new(retention::Retain::new(1).unwrap());
        let plan_from = |days| {
            let inventory = retention::Inventory {
                deployments: vec![retention::Deployment {
                    id: retention::DeploymentId::new("only").unwrap(),
                    objects: 1,
                    bytes: 1,
                    newest: now - chrono::Duration::days(20),
                    oldest: now - chrono::Duration::days(20),
                    meta: None,
                }],
                report_date: Some(now - chrono::Duration::days(days)),
                ..retention::Inventory::default()
            };
            retention::plan(&inventory, &policy, now)
        };
        assert_eq!(shortfalls(&plan_from(3)), Vec::<String>::new());
        assert_eq!(
            shortfalls(&plan_from(9)),
            Vec::<String>::new(),
            "a weekly report, late"
        );
        let stale = shortfalls(&plan_from(11));
        assert_eq!(stale.len(), 1, "{stale:?}");
        assert!(stale[0].contains("11 days old"), "{stale:?}");
    }

    #[test]
    fn a_success_noted_in_the_future_is_no_recent_run() {
        let now = Utc::now();
        let policy = retention::Policy::new(retention::Retain::new(1).unwrap());
        let only = retention::Deployment {
            id: retention::DeploymentId::new("only").unwrap(),
            objects: 1,
            bytes: 1,
            newest: now - chrono::Duration::days(3),
            oldest: now - chrono::Duration::days(3),
            meta: None,
        };
        let inventory = retention::Inventory {
            deployments: vec![only],
            ..retention::Inventory::default()
        };
        let plan = retention::plan(&inventory, &policy, now);
        let noted = |at| LastSuccess {
            source: "cli".into(),
            at,
            who: "someone@laptop".into(),
            run: None,
            deleted_deployments: 0,
        };
        let day = Span::from_days(1);
        let verdict =
            |at| health(&plan, &Default::default(), day, Some(day), vec![noted(at)]).status;
        assert_eq!(verdict(now - chrono::Duration::hours(2)), HealthStatus::Ok);
        assert_eq!(
            verdict(now + chrono::Duration::minutes(2)),
            HealthStatus::Ok,
            "skew"
        );
        assert_eq!(
            verdict(now + chrono::Duration::days(3)),
            HealthStatus::Behind
        );
    }
}
