//! `plan`, `apply`, `pin` and `unpin`: scan, decide with `retention`, print, and (apply) delete.

use crate::args::{ApplyArgs, Endpoint, HistoryArgs, PinArgs, PlanArgs};
use crate::output;
use anyhow::{bail, Context, Result};
use bucket::{Bucket, Progress, ScanOptions, Target};
use chrono::{DateTime, Utc};
use retention::{DeploymentId, Pin, Plan, Policy};
use serde::{Deserialize, Serialize};
use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;
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

/// A plan saved by `plan --out`, applied by `apply --plan` (Terraform style).
#[derive(Debug, Serialize, Deserialize)]
pub struct SavedPlan {
    pub format: u32,
    pub bucket: String,
    pub prefix: String,
    pub policy: Policy,
    pub live_pointer: Option<String>,
    pub created_at: DateTime<Utc>,
    pub deletion_set: Vec<(DeploymentId, u64, u64, DateTime<Utc>)>,
}

async fn open(bucket: &str, prefix: &str, endpoint: &Endpoint) -> Result<Bucket> {
    let target = Target::new(bucket, prefix)?;
    Ok(bucket::connect(&endpoint.connect(), &target).await?)
}

pub async fn make_plan(
    bucket: &Bucket,
    policy: &Policy,
    live_pointer: Option<&str>,
    concurrency: usize,
) -> Result<Planned> {
    let opts = ScanOptions {
        concurrency,
        meta_key: policy.date_source.meta_key().map(str::to_string),
        live_pointer: live_pointer.map(str::to_string),
    };
    let inventory = bucket.scan(&opts).await?;
    let plan = retention::plan(&inventory, policy, Utc::now());
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
    let (name, _) = args.required();
    let policy = args.policy();
    let bucket = open(name, &args.prefix, &args.endpoint).await?;
    let planned = make_plan(
        &bucket,
        &policy,
        args.live_pointer.as_deref(),
        args.endpoint.concurrency.into(),
    )
    .await?;
    if args.json {
        let doc = output::json_plan(&bucket, &planned, None);
        println!("{}", serde_json::to_string_pretty(&doc)?);
    } else {
        print!("{}", output::human_plan(&bucket, &planned));
    }
    if let Some(path) = &args.out {
        save(path, &bucket, &planned, args.live_pointer.clone())?;
        if !args.json {
            println!(
                "Saved to {}: apply it with `s3-prune apply --plan {}`.",
                path.display(),
                path.display()
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn save(
    path: &Path,
    bucket: &Bucket,
    planned: &Planned,
    live_pointer: Option<String>,
) -> Result<()> {
    let saved = SavedPlan {
        format: 1,
        bucket: bucket.name().to_string(),
        prefix: bucket.prefix().to_string(),
        policy: planned.plan.policy.clone(),
        live_pointer,
        created_at: planned.plan.now,
        deletion_set: planned.plan.deletion_set(),
    };
    std::fs::write(path, serde_json::to_vec_pretty(&saved)?)
        .with_context(|| format!("writing {}", path.display()))
}

pub async fn apply(args: ApplyArgs) -> Result<ExitCode> {
    let a = &args.plan;
    let concurrency: usize = a.endpoint.concurrency.into();
    let (bucket, policy, live_pointer, saved) = match &args.plan_file {
        Some(path) => {
            let text =
                std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
            let saved: SavedPlan = serde_json::from_slice(&text).with_context(|| {
                format!(
                    "{} is not a plan saved by `s3-prune plan --out`",
                    path.display()
                )
            })?;
            if saved.format != 1 {
                bail!(
                    "{}: plan format {} is not supported by this version",
                    path.display(),
                    saved.format
                );
            }
            let bucket = open(&saved.bucket, &saved.prefix, &a.endpoint).await?;
            (
                bucket,
                saved.policy.clone(),
                saved.live_pointer.clone(),
                Some(saved),
            )
        }
        None => {
            let (name, _) = a.required();
            let bucket = open(name, &a.prefix, &a.endpoint).await?;
            (bucket, a.policy(), a.live_pointer.clone(), None)
        }
    };
    let planned = make_plan(&bucket, &policy, live_pointer.as_deref(), concurrency).await?;
    if !a.json {
        print!("{}", output::human_plan(&bucket, &planned));
    }
    if let Some(saved) = &saved {
        if planned.plan.deletion_set() != saved.deletion_set {
            bail!(
                "the bucket no longer yields the deletions of the saved plan (made {}): nothing was \
                 deleted. Make a new plan.",
                saved.created_at.format("%Y-%m-%d %H:%M:%S UTC")
            );
        }
    }
    if let Err(blocks) = planned.plan.check_apply() {
        let why: Vec<String> = blocks.iter().map(|b| b.to_string()).collect();
        bail!("refusing to apply: {}", why.join("; "));
    }
    let doomed: Vec<_> = planned.plan.to_delete().map(|e| e.id.clone()).collect();
    if doomed.is_empty() {
        if a.json {
            let report = bucket::DeleteReport::default();
            let doc = output::json_plan(&bucket, &planned, Some(&report));
            println!("{}", serde_json::to_string_pretty(&doc)?);
        } else {
            println!("Nothing to delete.");
        }
        return Ok(ExitCode::SUCCESS);
    }

    if !args.yes && saved.is_none() {
        confirm(&bucket, &planned)?;
        // The user confirmed what they saw; make sure it is still what a fresh scan says.
        let again = make_plan(&bucket, &policy, live_pointer.as_deref(), concurrency).await?;
        if again.plan.deletion_set() != planned.plan.deletion_set() {
            bail!(
                "the bucket changed while you were confirming (a deployment was added, removed or \
                 changed); nothing was deleted. Run apply again to see the new plan."
            );
        }
    }

    // No record, no deletion: the audit log must be writable before anything is deleted.
    let audit_log = args.audit.open()?;
    let started_at = Utc::now();
    let progress = Arc::new(Progress::default());
    let total = planned
        .versions_to_purge
        .unwrap_or(planned.plan.summary.delete.objects);
    let bar = (!a.json && std::io::stderr().is_terminal()).then(|| {
        let bar = indicatif::ProgressBar::new(total);
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
                let done = progress.deployments_done.load(Ordering::Relaxed);
                bar.set_message(format!("{done}/{n} deployments"));
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

    let record = report.audit_record(&planned.plan, &bucket, &os_user(), "cli", started_at);
    let record = audit_log
        .append(record)
        .context("the deletion ran, but its audit record could not be written")?;
    if a.json {
        let mut doc = serde_json::to_value(output::json_plan(&bucket, &planned, Some(&report)))?;
        doc["audit"] = serde_json::to_value(&record)?;
        println!("{}", serde_json::to_string_pretty(&doc)?);
    } else {
        print!("{}", output::human_report(&report));
        println!(
            "Audit record #{} in {}.",
            record.id.unwrap_or_default(),
            audit_log.path().display()
        );
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
        bail!(
            "refusing to delete without confirmation: stdin is not a terminal. \
             Pass --yes to apply from a script."
        );
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

/// The OS user, for pins and audit records.
pub fn os_user() -> String {
    std::env::var("USER")
        .or_else(|_| std::env::var("USERNAME"))
        .unwrap_or_else(|_| "unknown".into())
}

pub async fn pin(args: PinArgs, add: bool) -> Result<ExitCode> {
    let bucket = open(&args.bucket, &args.prefix, &args.endpoint).await?;
    let mut pins = bucket.read_pins().await?;
    pins.retain(|p| p.id != args.id);
    if add {
        pins.push(Pin {
            id: args.id.clone(),
            reason: args.reason.clone(),
            by: os_user(),
            at: Some(Utc::now()),
        });
    }
    bucket.write_pins(&pins).await?;
    println!(
        "{} '{}' in {} ({} pinned).",
        if add { "Pinned" } else { "Unpinned" },
        args.id,
        bucket.pins_key(),
        pins.len()
    );
    Ok(ExitCode::SUCCESS)
}

pub fn history(args: HistoryArgs) -> Result<ExitCode> {
    let log = args.audit.open()?;
    for r in log.list(args.limit)? {
        println!("{}", serde_json::to_string(&r)?);
    }
    Ok(ExitCode::SUCCESS)
}
