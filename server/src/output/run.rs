//! A run for people: the report at the end of an apply, and `history BUCKET`'s one line a run.

use super::{escape, plural};
use audit::{Record, Status};
use std::fmt::Write;

pub fn human_report(r: &Record, journal: Option<&bucket::JournalLocation>) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "\nDeleted {} of {} in {:.1} s ({}).",
        plural(r.deleted_objects, "object", "objects"),
        plural(r.deleted.len() as u64, "deployment", "deployments"),
        r.duration_ms as f64 / 1000.0,
        r.status
    );
    if r.status == Status::Interrupted {
        let _ = writeln!(
            s,
            "Stopped on request: no deletion was started after the stop. Run apply again to finish."
        );
    }
    for e in &r.expiries {
        let _ = writeln!(s, "{}", escape(&e.to_string()));
    }
    for h in &r.held {
        let _ = writeln!(
            s,
            "{}: left untouched, {}.",
            escape(&h.deployment),
            escape(&h.reason)
        );
    }
    for c in &r.changed {
        let _ = writeln!(
            s,
            "{}: left whole, {}.",
            escape(&c.deployment),
            escape(&c.reason)
        );
    }
    if let Some(run) = &r.run {
        let _ = writeln!(
            s,
            "Run {run} is on record (`s3-prune history {}`).",
            super::bucket_args(&r.bucket, &r.prefix, journal)
        );
    }
    if !r.skipped.is_empty() {
        let _ = writeln!(
            s,
            "{} newer than the plan appeared while a deployment was deleted, left in place:",
            plural(r.skipped.len() as u64, "object is", "objects are")
        );
        for k in r.skipped.iter().take(50) {
            let _ = writeln!(s, "  {} ({})", escape(&k.key), k.last_modified.to_rfc3339());
        }
    }
    // What stopped the whole run (named by the bucket or the journal's address, s3://…) comes
    // first; then the keys that failed.
    let (run, keys): (Vec<_>, Vec<_>) = r.failures.iter().partition(|f| f.key.starts_with("s3://"));
    for f in &run {
        let _ = writeln!(s, "{}: {}", escape(&f.key), escape(&f.error));
    }
    // Keys S3 refused, apart from those it may have deleted though no answer said so.
    let (unknown, refused): (Vec<_>, Vec<_>) =
        keys.into_iter().partition(|f| f.error.contains(NOT_KNOWN));
    if !refused.is_empty() {
        let _ = writeln!(
            s,
            "{} could not be deleted:",
            plural(refused.len() as u64, "object", "objects")
        );
        list(&mut s, &refused);
    }
    // Refused for good: S3 Object Lock (a retention period or a legal hold) protects them, and
    // no re-run deletes them until it lifts (before, "run apply again to retry" of them too).
    let locked = refused.iter().filter(|f| is_locked(&f.error)).count();
    if locked > 0 {
        let _ = writeln!(
            s,
            "{} under S3 Object Lock (a retention period or a legal hold): no run deletes {} \
             until it lifts.",
            plural(locked as u64, "object is", "objects are"),
            if locked == 1 { "it" } else { "them" }
        );
    }
    // The deployments those keys belong to: partly deleted (the rest of each is gone).
    let mut partly: Vec<&str> = refused
        .iter()
        .chain(&unknown)
        .filter_map(|f| f.key.strip_prefix(r.prefix.as_str())?.split_once('/'))
        .map(|(id, _)| id)
        .collect();
    partly.sort_unstable();
    partly.dedup();
    let partly: Vec<&str> = partly
        .into_iter()
        .filter(|id| !r.deleted.iter().any(|d| d.id == *id))
        .collect();
    if !partly.is_empty() {
        let shown: Vec<String> = partly.iter().take(20).map(|id| escape(id)).collect();
        let _ = writeln!(
            s,
            "Partly deleted (the keys above are left, the rest is gone): {}{}",
            shown.join(", "),
            if partly.len() > 20 { ", …" } else { "" }
        );
    }
    // Those no key above names: a run stopped between a deployment's batches, or newer keys
    // left in it (before, a run stopped that way named nothing partly deleted).
    for p in r
        .partly
        .iter()
        .filter(|p| !partly.contains(&p.deployment.as_str()))
    {
        let _ = writeln!(
            s,
            "Partly deleted: {} ({} of {} objects; {}). Apply again to delete the rest{}.",
            escape(&p.deployment),
            p.deleted,
            p.listed,
            p.reason,
            match r.undoable || !r.markers.is_empty() {
                true => ", or restore the run to bring back what went",
                false => "",
            }
        );
    }
    if !unknown.is_empty() {
        let _ = writeln!(
            s,
            "not known whether deleted: {} (a re-run deletes what is left):",
            plural(unknown.len() as u64, "object", "objects")
        );
        list(&mut s, &unknown);
    }
    if r.failures.len() > locked {
        let _ = writeln!(s, "Run apply again to retry; what was kept stays kept.");
    }
    s
}

/// A key's failure S3 Object Lock caused (S3: "Access Denied because object protected by
/// object lock").
fn is_locked(error: &str) -> bool {
    let e = error.to_ascii_lowercase();
    e.contains("object lock") || e.contains("objectlock")
}

/// The words a key's failure carries when S3 may have deleted it though no answer said so (a
/// lost or cut answer, a batch given up): `bucket`'s deletes say it so.
const NOT_KNOWN: &str = "not known whether S3 carried it out";

/// Up to 50 failed keys, each with its error, and how many more there are.
fn list(s: &mut String, keys: &[&audit::Failure]) {
    for f in keys.iter().take(50) {
        let _ = writeln!(s, "  {}: {}", escape(&f.key), escape(&f.error));
    }
    if keys.len() > 50 {
        let _ = writeln!(s, "  … and {} more (use --json for all)", keys.len() - 50);
    }
}

/// `history BUCKET`: one line per run, newest first.
/// `named`: the bucket as the command line names it ([`super::bucket_args`]), for the hints.
pub fn human_history(runs: &[prune::journal::RunSummary], place: &str, named: &str) -> String {
    let mut s = String::new();
    if runs.is_empty() {
        let _ = writeln!(s, "No runs on record in {place}.");
        return s;
    }
    let _ = writeln!(
        s,
        "{:<28} {:<20} {:<9} {:<11} {:>9}  WHO / DEPLOYMENTS",
        "RUN", "STARTED (UTC)", "SOURCE", "STATUS", "OBJECTS"
    );
    for r in runs {
        let what = match &r.restore_of {
            Some(of) => format!("restore of {of}"),
            None => r.deleted_deployments.join(", "),
        };
        let _ = writeln!(
            s,
            "{:<28} {:<20} {:<9} {:<11} {:>9}  {} / {}",
            r.id,
            r.started.format("%Y-%m-%d %H:%M:%S"),
            escape(&r.source),
            status(r),
            r.deleted,
            escape(&r.who),
            escape(&what)
        );
    }
    if let Some(dead) = runs.iter().find(|r| r.running == Some(false)) {
        let _ = writeln!(
            s,
            "died: no end on record and no hold on the bucket (killed, crashed or timed out); what \
             it deleted is not counted above{}",
            match dead.restorable {
                true => format!(": `s3-prune restore {named} --run {}` brings it back", dead.id),
                false => String::new(),
            }
        );
    }
    s
}

/// A run's status as `history` shows it: a run with no end on record is `running` or `died`
/// where the lease tells which.
fn status(r: &prune::journal::RunSummary) -> String {
    match r.running {
        Some(true) => "running".into(),
        Some(false) => "died".into(),
        None => r.status.to_string(),
    }
}
