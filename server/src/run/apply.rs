//! `apply`: the plan shown, confirmed (typed bucket name, `--yes`, or a saved plan), the second
//! deployer's approval asked for where the bucket wants one, then the engine's apply with a
//! progress bar, Ctrl-C as a clean stop, and the report.

mod beside;

use super::open;
use crate::args::ApplyArgs;
use crate::output;
use crate::saved::SavedPlan;
use anyhow::{bail, Context, Result};
use beside::Watch;
use bucket::{Bucket, UndoWindow};
use prune::approval::ApprovalRule;
use prune::{Checked, PlanDoc, Planned};
use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;
use std::sync::Arc;

/// The bucket's dashboard asks a second deployer to approve applies of more than N deployments
/// (`serve --approval-over`): say how to get one instead of applying — unless
/// `--without-approval`, which the record names. Who the record says applied. `rule` is the
/// bucket's rule as read beside the scan the plan was shown from; asked before the
/// confirmation, so nobody types the bucket name to hear then that the run needs a second
/// deployer (the confirmed set is the plan's: a fresh scan must yield exactly it).
fn approval_demanded(
    rule: Result<Option<ApprovalRule>, bucket::S3Error>,
    doomed: u64,
    without: bool,
) -> Result<String> {
    let me = crate::who::os_account();
    if doomed == 0 {
        return Ok(me);
    }
    let Some(rule) = rule? else {
        return Ok(me);
    };
    if doomed <= rule.over {
        return Ok(me);
    }
    if without {
        eprintln!(
            "warning: applying {doomed} deployments without the second deployer's approval this bucket asks for (more than {}), with your own S3 rights; the record says so",
            rule.over
        );
        return Ok(format!("{me} (without approval)"));
    }
    anyhow::bail!(
        "this bucket asks a second deployer to approve applies of more than {} deployments, and this one deletes {doomed}. Nothing was deleted.\n  Get an approval: preview the same policy on the dashboard ({}) and press Delete; the request waits there until another deployer approves it, and then it runs.\n  Your own S3 rights can still delete without it: `--without-approval` does, and the record says so.",
        rule.over,
        rule.dashboard
    )
}

pub async fn apply(args: ApplyArgs) -> Result<ExitCode> {
    let json = args.plan.json;
    let job = ApplyJob::of(&args).await?;
    // The approval rule does not depend on the scan: read beside it, not after it.
    let (planned, rule) = futures::join!(
        scan_and_show(&job, json),
        prune::approval::read_rule(&job.bucket)
    );
    let planned = planned?;
    let doomed = planned.plan.summary.delete.deployments;
    // A plan blocked anyway says so first (`confirmed`); else the approval rule is asked before
    // the confirmation.
    let who = if planned.plan.blocked.is_empty() {
        approval_demanded(rule, doomed, args.without_approval)?
    } else {
        crate::who::os_account()
    };
    let checked = confirmed(&args, &job, planned).await?;
    if let Some(path) = &args.plan.out {
        save_applied(&checked, &job, path, json)?;
    }
    // (With --via-lifecycle a run goes on: it checks earlier handovers.)
    if nothing_to_do(&checked, &args) {
        return nothing_to_delete(&checked, json).await;
    }
    // No record, no deletion: the audit log must be writable before anything is deleted.
    let journal = Arc::new(args.audit.open()?);
    let path = journal.path().to_path_buf();
    let watch = Watch::start(&checked, json);
    let ctx = prune::ApplyContext {
        via: None,
        who,
        source: "cli",
        concurrency: args.plan.endpoint.concurrency.into(),
        progress: watch.progress.clone(),
        journal,
        notifier: args.notify.notifier(),
        lifecycle_over: args.lifecycle.over(),
        require_lease: args.require_lease,
    };
    let report = prune::apply(checked, ctx).await;
    watch.stop();
    let journal = args.plan.endpoint.journal.as_ref();
    report_and_exit(&report?, &path, json, journal)
}

/// What `apply` works on: the bucket, the policy and how to scan, from a saved plan (`--plan`)
/// or from the arguments.
struct ApplyJob {
    bucket: Bucket,
    policy: retention::Policy,
    settings: prune::ScanSettings,
    /// The saved plan, whose deletion set is the confirmation.
    saved: Option<Arc<SavedPlan>>,
}

impl ApplyJob {
    /// Reads the saved plan when one is given (guards given with it only narrow it) and opens
    /// the bucket.
    async fn of(args: &ApplyArgs) -> Result<ApplyJob> {
        let a = &args.plan;
        let Some(path) = &args.plan_file else {
            let bucket = open(a.bucket(), &a.prefix, &a.endpoint).await?;
            return Ok(ApplyJob {
                bucket,
                policy: a.spec().build()?,
                settings: a.scan_settings(),
                saved: None,
            });
        };
        // Read while the arguments were parsed (`main`), so a bad file is a usage error.
        let saved = match &args.saved {
            Some(saved) => saved.clone(),
            None => Arc::new(SavedPlan::read(path)?),
        };
        // Guards given with --plan narrow it; anything that would widen it is refused.
        let (policy, live_pointer) = saved.narrowed_by(a)?;
        let bucket = open(&saved.bucket, &saved.prefix, &a.endpoint).await?;
        let settings = prune::ScanSettings {
            live_pointer,
            live_from: saved.live_from_with(a)?,
            inventory: saved.inventory_with(a)?,
            ..a.scan_settings()
        };
        Ok(ApplyJob {
            bucket,
            policy,
            settings,
            saved: Some(saved),
        })
    }

    /// Lists the bucket and plans it now.
    async fn scan(&self) -> Result<Planned> {
        Ok(prune::scan_and_plan(&self.bucket, &self.policy, &self.settings).await?)
    }
}

/// Scans and plans; without `--json` prints the table, with the undo window (its lifecycle
/// rules are read beside the scan).
async fn scan_and_show(job: &ApplyJob, json: bool) -> Result<Planned> {
    let (planned, days) = futures::join!(job.scan(), async {
        if json {
            None
        } else {
            Some(job.bucket.noncurrent_days().await)
        }
    });
    let planned = planned?;
    if let Some(days) = days {
        let undo = output::undo_of(
            &planned,
            UndoWindow::describe(planned.plan.versioning, days),
        );
        print!("{}", output::human_plan(&planned, Some(&undo)));
    }
    Ok(planned)
}

/// The plan checked and confirmed: by the saved plan, by `--yes`, or by the person typing the
/// bucket name, after which a fresh scan must yield exactly what they confirmed. A plan with
/// nothing to do is returned as it is, without asking.
async fn confirmed(args: &ApplyArgs, job: &ApplyJob, planned: Planned) -> Result<Checked> {
    match &job.saved {
        // The saved plan is the confirmation.
        Some(saved) => {
            saved.still_where_it_was(&planned)?;
            confirmed_by_file(args, saved, planned)
        }
        None if args.yes => Ok(prune::check(planned, None)?),
        None => {
            // What the person sees must pass too, or they would confirm a plan that cannot run.
            let seen = prune::check(planned, None)?;
            if nothing_to_do(&seen, args) {
                return Ok(seen);
            }
            confirm(&seen, args.plan.json, args.lifecycle.over())?;
            // Bind to what they confirmed: a fresh scan must yield exactly it.
            Ok(prune::check(job.scan().await?, Some(seen.doomed()))?)
        }
    }
}

/// `apply --out FILE`: the plan this run applies, as `plan --out` saves one, written before
/// anything is deleted (a file that cannot be written stops the run there).
fn save_applied(
    checked: &Checked,
    job: &ApplyJob,
    path: &std::path::Path,
    json: bool,
) -> Result<()> {
    SavedPlan::of(checked.planned(), &job.settings).write(path)?;
    if !json {
        println!("Saved to {}: the plan this run applies.", path.display());
    }
    Ok(())
}

/// Nothing is doomed, and no lifecycle handovers are to be checked (`--via-lifecycle`).
fn nothing_to_do(checked: &Checked, args: &ApplyArgs) -> bool {
    checked.doomed().is_empty() && !args.lifecycle.via_lifecycle
}

/// Prints the report (JSON, or text with the audit record's place) and gives the exit code:
/// failure when the record is incomplete or something could not be deleted, [`EXIT_CHANGED`]
/// when deployments that changed were left whole.
fn report_and_exit(
    report: &prune::Report,
    path: &std::path::Path,
    json: bool,
    journal: Option<&bucket::JournalLocation>,
) -> Result<ExitCode> {
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&PlanDoc::applied(report))?
        );
    } else {
        print!("{}", output::human_report(&report.record, journal));
        if let (None, Some(id)) = (&report.journal_error, report.record.id) {
            println!("Audit record #{id} in {}.", path.display());
        }
    }
    if let Some(e) = &report.journal_error {
        eprintln!(
            "error: the deletion ran (report above), but its audit record could not be completed: {e}"
        );
        return Ok(ExitCode::FAILURE);
    }
    Ok(
        if !report.is_complete() || report.planned.handovers.is_dangerous() {
            // (The dangerous handover was printed with the plan: `error: S3 lifecycle may …`.)
            ExitCode::FAILURE
        } else if report.record.left_changed() {
            // Not an error, but not everything planned went: scripts must be able to tell.
            ExitCode::from(EXIT_CHANGED)
        } else {
            ExitCode::SUCCESS
        },
    )
}

/// `apply` deleted what it could, and left deployments whole that changed since the plan.
pub const EXIT_CHANGED: u8 = 3;

/// A run with nothing to delete ended well: noted for `check`, then said.
async fn nothing_to_delete(checked: &Checked, json: bool) -> Result<ExitCode> {
    if checked.planned().handovers.is_dangerous() {
        // Printed with the plan (`error: S3 lifecycle may still expire …`): no success.
        return Ok(ExitCode::FAILURE);
    }
    let last = prune::health::LastSuccess {
        source: "cli".into(),
        // S3's clock, as `check` judges it.
        at: checked.planned().skew.now(),
        who: crate::who::os_account(),
        run: None,
        deleted_deployments: 0,
    };
    prune::health::note_success(checked.planned(), &last).await;
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&PlanDoc::new(checked.planned()))?
        );
    } else {
        println!("Nothing to delete.");
    }
    Ok(ExitCode::SUCCESS)
}

/// `BUCKET`, or `BUCKET --prefix P`, as `history` and `restore` take it.
fn run_target(checked: &Checked) -> String {
    let bucket = &checked.planned().bucket;
    match bucket.prefix() {
        "" => bucket.name().to_string(),
        p => format!("{} --prefix {p}", bucket.name()),
    }
}

/// Asks the person at the terminal to type the bucket name. Without a terminal, refuses. With
/// `--json` (the table not printed, stdout kept for the report) the plan is shown on stderr
/// first: nobody confirms what they have not seen.
fn confirm(checked: &Checked, json: bool, lifecycle_over: Option<u64>) -> Result<()> {
    if !std::io::stdin().is_terminal() {
        bail!(
            "refusing to delete without confirmation: stdin is not a terminal. \
             Pass --yes to apply from a script."
        );
    }
    let p: &Planned = checked.planned();
    if json {
        eprint!("{}", output::human_plan(p, None));
    }
    // Those over --lifecycle-threshold are not deleted by this run but handed to S3: said
    // before the name is typed (before, the prompt said "deletes" of them all).
    let handed: Vec<&retention::Doomed> = (checked.doomed().iter())
        .filter(|d| prune::expire::goes_to_lifecycle(d, lifecycle_over))
        .collect();
    if !handed.is_empty() {
        eprint!(
            "\n{} of the deployments ({} objects) go to S3 lifecycle expiration, not deleted \
             by this run: S3 deletes them within a day or two (until then `s3-prune restore \
             --run ID` or a pin withdraws it).",
            handed.len(),
            handed.iter().map(|d| d.objects).sum::<u64>()
        );
    }
    let d = p.plan.summary.delete;
    let name = p.bucket.name();
    eprint!(
        "\nThis deletes {} deployments ({} objects, {}) from '{name}'. Type the bucket name to confirm: ",
        d.deployments,
        d.objects,
        output::size(d.bytes),
    );
    std::io::stderr().flush().ok();
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("reading the confirmation")?;
    if line.trim() != name {
        bail!("confirmation did not match the bucket name; nothing was deleted");
    }
    Ok(())
}

/// The fresh plan checked against a saved plan's set, the guards given beside it named when
/// they are what changed it.
fn confirmed_by_file(args: &ApplyArgs, saved: &SavedPlan, planned: Planned) -> Result<Checked> {
    prune::check(planned, Some(&saved.deletion_set)).map_err(|refusal| {
        let guarded = !(args.plan.pins.is_empty() && args.plan.excludes.is_empty())
            || args.plan.max_delete.is_some()
            || args.plan.live_grace.is_some();
        match refusal {
            // The bucket may be as it was: what changed may be the guards given here.
            prune::Refusal::Changed(_) if guarded => anyhow::anyhow!(
                "{refusal} (Guards given with --plan — --pin, --exclude, --max-delete, \
                     --live-grace — change the plan too: the run deletes exactly the saved \
                     plan's set or nothing. Save a new plan with them: `s3-prune plan … --out \
                     FILE`.)"
            ),
            refusal => refusal.into(),
        }
    })
}
