//! What the CLI prints for people: a plan as a restic-style table ([`plan`]), a run's report
//! and the bucket's history ([`run`]). (JSON is the engine's `PlanDoc`.) Names from the bucket
//! are escaped: a key cannot forge rows.

mod plan;
mod run;

pub use plan::human_plan;
pub use run::{human_history, human_report};

/// A name from the bucket, control characters escaped.
/// The undo window as this plan has it: `described` (the bucket's), unless the plan purges
/// versions, which leaves nothing to restore (before, the header promised a restore the
/// warning below it ruled out).
pub fn undo_of(planned: &prune::Planned, described: String) -> String {
    if planned.plan.policy.purge_versions && planned.plan.versioning.keeps_versions() {
        return "none for this run: --purge-versions removes every version and delete marker"
            .into();
    }
    described
}

pub fn escape(s: &str) -> String {
    prune::escape_controls(s).into_owned()
}

/// Sizes read the same in every front end.
pub fn size(bytes: u64) -> String {
    retention::human_size(bytes)
}

pub fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// `BUCKET [--prefix P] [--journal s3://…/]`: what names a bucket's runs on the command line, for
/// the commands a message suggests (without the prefix or the journal they find another place's
/// runs, or none).
pub fn bucket_args(
    bucket: &str,
    prefix: &str,
    journal: Option<&bucket::JournalLocation>,
) -> String {
    let mut s = bucket.to_string();
    if !prefix.is_empty() {
        s += &format!(" --prefix {prefix}");
    }
    if let Some(j) = journal {
        s += &format!(" --journal {j}");
    }
    s
}
