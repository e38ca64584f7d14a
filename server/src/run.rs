//! `plan` and `apply`: scan, decide with `retention`, print, and (apply) delete.

use crate::args::{ApplyArgs, PlanArgs};
use crate::output;
use anyhow::{bail, Context, Result};
use bucket::{Bucket, Progress, ScanOptions, Target};
use retention::{Plan, Policy};
use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

/// What a scan + plan produced, with the extra facts the report needs.
pub struct Planned {
    pub plan: Plan,
    /// Versions and delete markers `--purge-versions` would remove, when asked.
    pub versions_to_purge: Option<u64>,
}

async fn open(args: &PlanArgs) -> Result<Bucket> {
    let target = Target::new(&args.bucket, &args.prefix)?;
    Ok(bucket::connect(&args.endpoint.connect(), &target).await?)
}

pub async fn make_plan(bucket: &Bucket, policy: &Policy, concurrency: usize) -> Result<Planned> {
    let opts = ScanOptions {
        concurrency,
        meta_key: policy.date_source.meta_key().map(str::to_string),
    };
    let inventory = bucket.scan(&opts).await?;
    let plan = retention::plan(&inventory, policy, chrono::Utc::now());
    let versions_to_purge = if policy.purge_versions && plan.versioning.keeps_versions() {
        let ids: Vec<_> = plan.to_delete().map(|e| e.id.clone()).collect();
        Some(bucket.count_versions(&ids, concurrency).await?)
    } else {
        None
    };
    Ok(Planned {
        plan,
        versions_to_purge,
    })
}

pub async fn plan(args: PlanArgs) -> Result<ExitCode> {
    let bucket = open(&args).await?;
    let planned = make_plan(&bucket, &args.policy(), args.endpoint.concurrency.into()).await?;
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&output::json_plan(&bucket, &planned, None))?
        );
    } else {
        print!("{}", output::human_plan(&bucket, &planned));
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn apply(args: ApplyArgs) -> Result<ExitCode> {
    let a = &args.plan;
    let bucket = open(a).await?;
    let policy = a.policy();
    let concurrency: usize = a.endpoint.concurrency.into();
    let planned = make_plan(&bucket, &policy, concurrency).await?;
    if !a.json {
        print!("{}", output::human_plan(&bucket, &planned));
    }
    let doomed: Vec<_> = planned.plan.to_delete().map(|e| e.id.clone()).collect();
    if doomed.is_empty() {
        if a.json {
            let report = bucket::DeleteReport::default();
            println!(
                "{}",
                serde_json::to_string_pretty(&output::json_plan(&bucket, &planned, Some(&report)))?
            );
        } else {
            println!("Nothing to delete.");
        }
        return Ok(ExitCode::SUCCESS);
    }

    if !args.yes {
        confirm(&bucket, &planned)?;
        // The user confirmed what they saw; make sure it is still what a fresh scan says.
        let again = make_plan(&bucket, &policy, concurrency).await?;
        if again.plan.deletion_set() != planned.plan.deletion_set() {
            bail!(
                "the bucket changed while you were confirming (a deployment was added, removed or changed); \
                 nothing was deleted. Run apply again to see the new plan."
            );
        }
    }

    let progress = Arc::new(Progress::default());
    let total_objects = planned.plan.summary.delete.objects;
    let bar = (!a.json && std::io::stderr().is_terminal()).then(|| {
        let bar = indicatif::ProgressBar::new(planned.versions_to_purge.unwrap_or(total_objects));
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{bar:40} {pos}/{len} objects, {msg} [{elapsed}]",
            )
            .expect("static template"),
        );
        bar
    });
    let ticker = bar.clone().map(|bar| {
        let progress = progress.clone();
        let n = doomed.len();
        tokio::spawn(async move {
            loop {
                bar.set_position(progress.objects_done.load(Ordering::Relaxed));
                bar.set_message(format!(
                    "{}/{n} deployments",
                    progress.deployments_done.load(Ordering::Relaxed)
                ));
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
    });
    let report = bucket
        .delete_deployments(
            &doomed,
            policy.purge_versions,
            concurrency,
            progress.clone(),
        )
        .await;
    if let Some(t) = ticker {
        t.abort();
    }
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }

    if a.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&output::json_plan(&bucket, &planned, Some(&report)))?
        );
    } else {
        print!("{}", output::human_report(&report));
    }
    Ok(if report.is_complete() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Asks the person at the terminal to type the bucket name. Without a terminal, refuses.
fn confirm(bucket: &Bucket, planned: &Planned) -> Result<()> {
    if !std::io::stdin().is_terminal() {
        bail!("refusing to delete without confirmation: stdin is not a terminal. Pass --yes to apply from a script.");
    }
    let d = planned.plan.summary.delete;
    eprint!(
        "\nThis deletes {} deployments ({} objects, {}) from '{}'. Type the bucket name to confirm: ",
        d.deployments,
        d.objects,
        output::size(d.bytes),
        bucket.name()
    );
    std::io::stderr().flush().ok();
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("reading the confirmation")?;
    if line.trim() != bucket.name() {
        bail!("confirmation did not match the bucket name; nothing was deleted");
    }
    Ok(())
}
