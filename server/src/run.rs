//! `plan`, `apply`, `pin`, `unpin` and `history`: arguments in, the engine (`prune`) does the
//! work, text or JSON out.

use crate::args::{Endpoint, HistoryArgs, PinArgs, PlanArgs};
use crate::output;
use crate::saved::SavedPlan;
use anyhow::Result;
use bucket::{Bucket, Target, UndoWindow};
use chrono::Utc;
use prune::PlanDoc;
use retention::Pin;
use std::process::ExitCode;

mod apply;
pub use apply::apply;

pub async fn open(bucket: &str, prefix: &str, endpoint: &Endpoint) -> Result<Bucket> {
    let target = Target::new(bucket, prefix)?;
    Ok(bucket::connect(&endpoint.connect(), &target).await?)
}

pub async fn plan(args: PlanArgs) -> Result<ExitCode> {
    let name = args.bucket();
    let policy = args.spec().build()?;
    let bucket = open(name, &args.prefix, &args.endpoint).await?;
    // The undo window's lifecycle rules are read beside the scan, which reads the versioning.
    let settings = args.scan_settings();
    let (planned, days) = futures::join!(
        prune::scan_and_plan(&bucket, &policy, &settings),
        bucket.noncurrent_days()
    );
    let planned = planned?;
    let undo = output::undo_of(
        &planned,
        UndoWindow::describe(planned.plan.versioning, days),
    );
    if args.json {
        let doc = PlanDoc::new(&planned).undo_window(undo);
        println!("{}", serde_json::to_string_pretty(&doc)?);
    } else {
        print!("{}", output::human_plan(&planned, Some(&undo)));
    }
    if let Some(path) = &args.out {
        SavedPlan::of(&planned, &settings).write(path)?;
        if !args.json {
            println!(
                "Saved to {}: apply it with `s3-prune apply --plan {}`.",
                path.display(),
                path.display()
            );
        }
    }
    // A kept folder S3 will still expire (its rule could not be withdrawn): said with the plan
    // (`error: …`, or `handovers.error`), and the plan fails so a script sees it.
    if planned.handovers.is_dangerous() {
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn pin(args: PinArgs, add: bool) -> Result<ExitCode> {
    if !add && !args.reason.is_empty() {
        // Accepted and ignored before: its help says it is shown in every plan.
        eprintln!("error: unpin takes no --reason: the pin and its reason are removed together");
        return Ok(ExitCode::from(2));
    }
    let bucket = open(&args.bucket, &args.prefix, &args.endpoint).await?;
    let pin = add.then(|| Pin {
        id: args.id.clone(),
        reason: args.reason.clone(),
        by: crate::who::os_account(),
        at: Some(Utc::now()),
    });
    let change = prune::set_pin(&bucket, &args.id, pin).await?;
    if !change.changed {
        println!(
            "'{}' was not pinned in {}: nothing changed (check the id{}; {} pinned).",
            output::escape(args.id.as_str()),
            bucket.pins_key(),
            // Pins are kept per prefix: one pinned under a prefix is not in the root's file.
            if args.prefix.is_empty() {
                ", and --prefix if it was pinned under one"
            } else {
                " and the prefix"
            },
            change.pins
        );
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{} '{}' in {} ({} pinned).",
        if add { "Pinned" } else { "Unpinned" },
        output::escape(args.id.as_str()),
        bucket.pins_key(),
        change.pins
    );
    for e in &change.handovers.withdrawn {
        println!("{}", output::escape(&e.to_string()));
    }
    if change.handovers.is_dangerous() {
        let e = change.handovers.error.unwrap_or_default();
        eprintln!("error: {}", output::escape(&e));
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn history(args: HistoryArgs) -> Result<ExitCode> {
    let Some(name) = &args.bucket else {
        // This machine's audit log, as before runs were journalled in the bucket.
        let log = args.audit.open()?;
        for r in log.list(args.limit)? {
            println!("{}", serde_json::to_string(&r)?);
        }
        return Ok(ExitCode::SUCCESS);
    };
    let bucket = open(name, &args.prefix, &args.endpoint).await?;
    let place = bucket::JournalPlace::of(&bucket);
    let history = prune::journal::history_of(&bucket, args.limit).await?;
    for u in &history.unreadable {
        eprintln!(
            "warning: {}{}: unreadable, skipped: {}",
            place.url(),
            output::escape(&u.name),
            u.problem
        );
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&history.runs)?);
    } else {
        let named = output::bucket_args(name, bucket.prefix(), args.endpoint.journal.as_ref());
        print!(
            "{}",
            output::human_history(&history.runs, &place.url(), &named)
        );
    }
    Ok(ExitCode::SUCCESS)
}
