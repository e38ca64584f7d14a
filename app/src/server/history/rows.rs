//! One run as History shows it: the row of its summary (what names it across pages, what it
//! undid) and its details when the row is opened.

use crate::wire::{RunDetails, RunRow};

/// What names a run across pages: its run id, else `#N` (a record from before runs were
/// journalled).
pub(super) fn key(r: &audit::Record) -> String {
    match (&r.run, r.id) {
        (Some(run), _) => run.clone(),
        (None, Some(n)) => format!("#{n}"),
        (None, None) => String::new(),
    }
}

/// How a run is named to people: `#N` in this server's audit log, else its run id.
pub(in crate::server) fn label(r: &audit::Record) -> String {
    match (r.id, &r.run) {
        (Some(n), _) => format!("#{n}"),
        (None, Some(run)) => run.clone(),
        (None, None) => "?".into(),
    }
}

/// A run's History row; `lookup` gives the run id of a record number of this server's log.
pub(super) fn row(r: &audit::Record, lookup: impl Fn(i64) -> Option<String>) -> RunRow {
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
        // Its details list the deployments only partly deleted first, then the failures.
        failures: (r.partly.len() + r.failures.len()) as u64,
        plan: r.plan_fingerprint.clone(),
        // A run that handed folders to S3 lifecycle can be restored while S3 has not expired
        // them, on any bucket: the restore withdraws its rules (as the CLI's does).
        restorable: r.restorable() || r.handed_over(),
        undo_note: (!r.restorable() && r.handed_over()).then(|| {
            "its S3 lifecycle handovers can be withdrawn until S3 expires them; what it deleted \
             by requests cannot be brought back (the bucket kept no versions of it)"
                .to_string()
        }),
        undid: restore.as_ref().and_then(|u| u.key.clone()),
        restore_of: restore.map(|u| u.shown),
    }
}

/// A restore's run it undid, as the page names it and by the key of that run's row.
pub(super) struct Undid {
    pub(super) shown: String,
    pub(super) key: Option<String>,
}

/// The run a restore undid: by run id when the restore recorded one; a record number of this
/// server's log as `#N`; a number another machine's restore recorded as that machine's
/// (`#N on HOST`), which names no run here.
pub(super) fn undid(r: &audit::Record, lookup: impl Fn(i64) -> Option<String>) -> Option<Undid> {
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
pub(super) fn details(r: &audit::Record) -> RunDetails {
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
    // The deployments only partly deleted first: nothing else names one the run stopped in.
    let failures: Vec<String> = (r.partly.iter())
        .map(|p| format!("{}: {}", p.deployment, p.what()))
        .chain(r.failures.iter().map(|f| format!("{}: {}", f.key, f.error)))
        .take(RunDetails::SHOWN)
        .collect();
    let failing = r.partly.len() + r.failures.len();
    let not_shown = (listed.len() - deployments.len() + failing - failures.len()) as u64;
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
