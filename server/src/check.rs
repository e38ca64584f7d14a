//! `s3-prune check`: whether a bucket keeps its policy — nothing overdue, and (with
//! `--last-run-within`) a run that ended well recently — in one line and an exit code, for
//! cron, Nagios-style monitors and CI. 0: it does; 1: it is behind; 2: it cannot tell (a scan
//! or the journal that cannot be read is never called healthy).

use crate::args::CheckArgs;
use crate::run::open;
use anyhow::Result;
use prune::health::{self, Health, HealthStatus};
use std::process::ExitCode;

/// Exit code 2: could not tell.
const UNKNOWN: u8 = 2;

pub async fn check(args: CheckArgs) -> ExitCode {
    let json = args.plan.json;
    match assess(&args).await {
        Ok(h) => {
            say(&h, args.plan.bucket(), json);
            match h.status {
                HealthStatus::Ok => ExitCode::SUCCESS,
                HealthStatus::Behind => ExitCode::FAILURE,
            }
        }
        Err(e) => {
            if json {
                let doc = serde_json::json!({"status": "unknown", "error": format!("{e:#}")});
                println!("{doc}");
            } else {
                println!("UNKNOWN: {}: {e:#}", args.plan.bucket());
            }
            ExitCode::from(UNKNOWN)
        }
    }
}

/// Scan and plan as `plan` does, then read the last successful runs.
async fn assess(args: &CheckArgs) -> Result<Health> {
    let a = &args.plan;
    let policy = a.spec().build()?;
    let bucket = open(a.bucket(), &a.prefix, &a.endpoint).await?;
    let planned = prune::scan_and_plan(&bucket, &policy, &a.scan_settings()).await?;
    let place = bucket::JournalPlace::of(&bucket);
    let last = health::last_successes(&bucket, &place).await?;
    Ok(health::health(
        &planned.plan,
        &planned.handovers,
        args.overdue_after,
        args.last_run_within,
        last,
    ))
}

fn say(h: &Health, bucket: &str, json: bool) {
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(h).expect("health serializes")
        );
        return;
    }
    match h.status {
        HealthStatus::Ok => {
            let last = h.last_successes.first().map_or_else(
                || "no successful run on record".to_string(),
                |l| {
                    format!(
                        "last successful run {} UTC from the {}",
                        retention::minute_utc(&l.at),
                        l.source
                    )
                },
            );
            println!(
                "OK: {bucket} keeps its policy (nothing deletable for more than {}; {last})",
                h.overdue_after
            );
        }
        HealthStatus::Behind => println!("BEHIND: {bucket}: {}", h.problems.join("; ")),
    }
}
