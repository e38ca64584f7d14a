//! `s3-prune restore BUCKET --run N [--deployment ID]…`: the CLI front end of the engine's undo;
//! and `s3-prune undo-window BUCKET --days N`, which makes future deletes undoable.

use crate::args::{RestoreArgs, UndoWindowArgs};
use crate::{output, run};
use anyhow::Result;
use std::process::ExitCode;
use std::sync::Arc;

pub async fn undo_window(args: UndoWindowArgs) -> Result<ExitCode> {
    let bucket = run::open(&args.bucket, &args.prefix, &args.endpoint).await?;
    let who = crate::who::os_account();
    let by = prune::UndoWindowBy {
        who: &who,
        source: "cli",
    };
    let set = prune::set_undo_window(&bucket, args.days, args.expire_old_versions, by).await?;
    println!(
        "{}{}: {}.\nLifecycle rule '{}' set; {} kept as they were.",
        bucket.name(),
        if bucket.prefix().is_empty() {
            String::new()
        } else {
            format!("/{}", bucket.prefix())
        },
        set.window,
        bucket::undo_rule_id(bucket.prefix()),
        output::plural(set.others as u64, "other rule", "other rules"),
    );
    if set.versioning_before != retention::Versioning::Enabled {
        // S3's own advice: versioning newly enabled takes a while to be in force everywhere.
        let from = chrono::Utc::now() + chrono::Duration::minutes(15);
        println!(
            "Versioning was {} until now: S3 asks to wait 15 minutes after enabling it before \
             writing or deleting objects. Apply after {} UTC: deletes before may not be undoable.",
            match set.versioning_before {
                retention::Versioning::Suspended => "suspended",
                retention::Versioning::Unknown => "not reported by the server",
                _ => "off",
            },
            from.format("%H:%M"),
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn restore(args: RestoreArgs) -> Result<ExitCode> {
    let bucket = run::open(&args.bucket, &args.prefix, &args.endpoint).await?;
    let journal = Arc::new(args.audit.open()?);
    let todo = prune::check_restore_named(&bucket, &args.run, &journal, &args.deployments).await?;
    if !args.yes && !asked(&args, &todo)? {
        println!("Nothing restored.");
        return Ok(ExitCode::FAILURE);
    }
    let path = journal.path().to_path_buf();
    let ctx = prune::RestoreContext {
        via: None,
        who: crate::who::os_account(),
        source: "cli",
        journal,
        notifier: args.notify.notifier(),
    };
    let done = prune::restore(&bucket, &args.run, todo, ctx).await?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&done.record)?);
    } else {
        for d in &done.report.deployments {
            let mut never = String::new();
            if d.never_deleted > 0 {
                never += &format!(
                    " ({} still there: the run never deleted them, or they were brought back \
                     already)",
                    output::plural(d.never_deleted, "object", "objects")
                );
            }
            if d.already_back > 0 {
                never += &format!(
                    " ({} back already: restored before)",
                    output::plural(d.already_back, "object", "objects")
                );
            }
            if d.by_later_run > 0 {
                never += &format!(
                    " ({} the run never deleted: a later run did, and its restore \
                     brings them back)",
                    output::plural(d.by_later_run, "object", "objects")
                );
            }
            println!(
                "{}: {} restored{never}{}",
                output::escape(d.id.as_str()),
                output::plural(d.restored, "object", "objects"),
                if d.left.is_empty() && d.failed.is_empty() {
                    String::new()
                } else {
                    format!(", {} left, {} failed", d.left.len(), d.failed.len())
                }
            );
            for l in &d.left {
                println!("  left {}: {}", output::escape(&l.key), l.why);
            }
            for f in &d.failed {
                println!("  failed {}: {}", output::escape(&f.key), f.error);
            }
        }
        // Deployments the run handed to S3 lifecycle expiration: their rules withdrawn (S3
        // will not expire them), or a failure saying why not.
        for e in &done.record.expiries {
            println!(
                "{}: handed to S3 lifecycle expiration by the run; its rule '{}' withdrawn, S3 will not expire it",
                output::escape(&e.deployment),
                e.rule
            );
        }
        // A run whose deletes cannot be undone: only its handovers were (said, not a failure).
        if let Some(why) = &done.not_restored {
            println!("Only the run's lifecycle handovers were undone; the rest is not: {why}");
        }
        // The run's own failures (a journal part unreadable, the pins not written, the lease
        // lost): those not already shown per deployment or per handover.
        let shown: std::collections::HashSet<&str> = done
            .report
            .deployments
            .iter()
            .flat_map(|d| {
                let left = d.left.iter().map(|l| l.key.as_str());
                left.chain(d.failed.iter().map(|f| f.key.as_str()))
            })
            .collect();
        let runs_own = done
            .record
            .failures
            .iter()
            .filter(|f| !shown.contains(f.key.as_str()) && !done.handovers_failed.contains(f));
        for f in done.handovers_failed.iter().chain(runs_own) {
            println!("{}: {}", output::escape(&f.key), f.error);
        }
        if !done.pinned.is_empty() {
            let ids: Vec<String> = done
                .pinned
                .iter()
                .map(|id| output::escape(id.as_str()))
                .collect();
            println!(
                "Pinned {} so that the next run of the policy keeps what came back \
                 (`s3-prune unpin {} ID` hands a deployment back to it).",
                ids.join(", "),
                output::bucket_args(&args.bucket, bucket.prefix(), None)
            );
        }
        if let Some(id) = done.record.id {
            println!(
                "Restore of run {} recorded as #{id} in {}.",
                args.run,
                path.display()
            );
        }
    }
    if let Some(e) = &done.journal_error {
        eprintln!("error: the restore ran (report above), but its audit record could not be completed: {e}");
        return Ok(ExitCode::FAILURE);
    }
    Ok(
        if done.report.is_complete() && done.record.status == audit::Status::Finished {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        },
    )
}

/// On a terminal: what the restore brings back and pins, and whether to go on (`y`). Without
/// one (a script) the restore goes on: nothing it does deletes.
fn asked(args: &RestoreArgs, todo: &prune::ToRestore) -> Result<bool> {
    use std::io::{BufRead, IsTerminal, Write};
    if !std::io::stdin().is_terminal() {
        return Ok(true);
    }
    let mut ids: Vec<String> = todo
        .deployments()
        .iter()
        .chain(&todo.handed)
        .map(|id| output::escape(id.as_str()))
        .collect();
    ids.dedup();
    eprint!(
        "This restores run {} of '{}': {} ({}) — brought back and pinned, so the policy keeps \
         them until unpinned. Go on? [y/N] ",
        args.run,
        args.bucket,
        output::plural(ids.len() as u64, "deployment", "deployments"),
        ids.join(", "),
    );
    std::io::stderr().flush().ok();
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(matches!(line.trim(), "y" | "Y" | "yes"))
}
