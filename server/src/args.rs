//! The command line: every subcommand's flags, and the few conversions into engine types.

use clap::{Args, Parser, Subcommand};
use retention::{DeploymentId, Span};

mod endpoint;
pub(crate) mod plan;
mod serve;
pub(crate) mod values;
mod variables;
pub use endpoint::Endpoint;
pub use plan::{LiveArgs, PlanArgs};
pub use serve::ServeArgs;
use values::parse_limit;
pub use values::{
    load_policy, parse_bucket, parse_endpoint_url, parse_prefix, parse_served_bucket,
};
pub use variables::{job_variables_ignored, COMMAND_VARIABLES, JOB_VARIABLES};

/// `s3-prune --version`: the version and the commit it was built from.
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("S3P_GIT_COMMIT"),
    ")"
);

#[derive(Parser, Debug)]
#[command(
    name = "s3-prune",
    version = VERSION,
    about = "Delete old deployment folders from an S3 bucket, safely.",
    after_help = "Settings can live in s3-prune.toml (see --config); flags override it."
)]
pub struct Cli {
    /// Read settings from FILE instead of ./s3-prune.toml (also S3_PRUNE_CONFIG). Flags
    /// override it.
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<std::path::PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Show what a policy would keep and delete, and why. Deletes nothing.
    Plan(PlanArgs),
    /// Delete what the plan says, after confirmation.
    Apply(ApplyArgs),
    /// Serve the dashboard.
    Serve(Box<ServeArgs>),
    /// Fill a bucket with a realistic set of demo deployments.
    Demo(DemoArgs),
    /// Pin a deployment: always kept by every front end (stored in the bucket).
    Pin(PinArgs),
    /// Remove a stored pin.
    Unpin(PinArgs),
    /// The runs on record for a bucket (from its journal, `<prefix>.s3-prune/runs/`), newest
    /// first, whichever front end or machine ran them. Without a bucket: this machine's
    /// local audit log (SQLite) as JSON lines.
    History(HistoryArgs),
    /// Whether the bucket keeps its policy: exit 0 when it does, 1 when a deletion is overdue
    /// (allowed by the policy for longer than --overdue-after) or no run ended well within
    /// --last-run-within, 2 when it cannot tell. For cron, monitors and CI.
    Check(CheckArgs),
    /// Undo an apply on a versioned bucket: remove the delete markers it made, so every object
    /// of its deployments is back with its content.
    Restore(RestoreArgs),
    /// Make deletes undoable for N days: enable versioning and add (beside the bucket's other
    /// lifecycle rules) one that expires old versions N days after a delete.
    UndoWindow(UndoWindowArgs),
    /// Run as an AWS Lambda function (the scheduled job); configured by S3_PRUNE_* variables
    /// and the event. Chosen automatically when AWS_LAMBDA_RUNTIME_API is set.
    Lambda,
    /// Print a shell completion script: `s3-prune completions bash > /etc/bash_completion.d/s3-prune`.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff): `s3-prune man > s3-prune.1`.
    Man,
}

/// [`parse_bucket`] or [`parse_served_bucket`].
pub type BucketCheck = fn(&str) -> Result<String, String>;

impl Command {
    /// Every bucket name given, with the parser that checks it ([`parse_bucket`], or
    /// [`parse_served_bucket`] for `serve --bucket NAME[/PREFIX]`).
    pub fn bucket_names(&self) -> Vec<(&str, BucketCheck)> {
        fn one(b: &Option<String>) -> Vec<(&str, BucketCheck)> {
            b.iter().map(|b| (b.as_str(), parse_bucket as _)).collect()
        }
        match self {
            Command::Plan(a) => one(&a.bucket),
            Command::Apply(a) => one(&a.plan.bucket),
            Command::Check(a) => one(&a.plan.bucket),
            Command::History(a) => one(&a.bucket),
            Command::Pin(a) | Command::Unpin(a) => vec![(&a.bucket, parse_bucket)],
            Command::Restore(a) => vec![(&a.bucket, parse_bucket)],
            Command::UndoWindow(a) => vec![(&a.bucket, parse_bucket)],
            Command::Demo(a) => vec![(&a.bucket, parse_bucket)],
            Command::Serve(a) => a
                .buckets
                .iter()
                .map(|b| (b.as_str(), parse_served_bucket as _))
                .collect(),
            _ => vec![],
        }
    }

    /// The endpoint flags of the commands that talk to S3.
    pub fn endpoint_mut(&mut self) -> Option<&mut Endpoint> {
        match self {
            Command::Plan(a) => Some(&mut a.endpoint),
            Command::Check(a) => Some(&mut a.plan.endpoint),
            Command::Apply(a) => Some(&mut a.plan.endpoint),
            Command::Serve(a) => Some(&mut a.endpoint),
            Command::Demo(a) => Some(&mut a.endpoint),
            Command::Pin(a) | Command::Unpin(a) => Some(&mut a.endpoint),
            Command::Restore(a) => Some(&mut a.endpoint),
            Command::History(a) => Some(&mut a.endpoint),
            Command::UndoWindow(a) => Some(&mut a.endpoint),
            _ => None,
        }
    }

    /// The plan flags of `plan` and `apply`.
    pub fn plan_mut(&mut self) -> Option<&mut PlanArgs> {
        match self {
            Command::Plan(a) => Some(a),
            Command::Apply(a) => Some(&mut a.plan),
            Command::Check(a) => Some(&mut a.plan),
            _ => None,
        }
    }

    /// Pins and excludes from the configuration file are added to the ones given as flags
    /// (`plan`, `apply`, `check` and `serve`, whose previews and applies plan with them): they
    /// only ever keep more.
    pub fn add_config_lists(&mut self, config: &crate::config::Config) {
        let (pins, excludes) = match self {
            Command::Serve(a) => (&mut a.pins, &mut a.excludes),
            other => match other.plan_mut() {
                Some(plan) => (&mut plan.pins, &mut plan.excludes),
                None => return,
            },
        };
        for p in &config.pins {
            if !pins.contains(p) {
                pins.push(p.clone());
            }
        }
        for g in &config.excludes {
            if !excludes.contains(g) {
                excludes.push(g.clone());
            }
        }
    }
}

#[derive(Args, Debug, Clone)]
pub struct PinArgs {
    pub bucket: String,
    /// The deployment id.
    pub id: DeploymentId,
    /// Why it must stay (shown in every plan).
    #[arg(long, default_value = "")]
    pub reason: String,
    #[arg(long, default_value = "", value_parser = parse_prefix)]
    pub prefix: String,
    #[command(flatten)]
    pub endpoint: Endpoint,
}

#[derive(Args, Debug, Clone)]
pub struct UndoWindowArgs {
    pub bucket: String,
    /// How many days deleted deployments stay restorable.
    #[arg(long, value_parser = clap::value_parser!(i32).range(1..=36500))]
    pub days: i32,
    /// Where the bucket keeps every old version now (versioning on, no rule expiring them):
    /// let S3 permanently delete those older than the window, of every key under the prefix.
    /// Refused without it.
    #[arg(long)]
    pub expire_old_versions: bool,
    #[arg(long, default_value = "", value_parser = parse_prefix)]
    pub prefix: String,
    #[command(flatten)]
    pub endpoint: Endpoint,
}

#[derive(Args, Debug, Clone)]
pub struct RestoreArgs {
    pub bucket: String,
    /// The apply to undo: its run id in the bucket's journal (`s3-prune history BUCKET`, the
    /// dashboard's History), or the number of a record in the local audit log.
    #[arg(long, value_name = "ID")]
    pub run: String,
    /// Restore only this deployment of the run (repeatable; default: all it deleted).
    #[arg(long = "deployment", value_name = "ID")]
    pub deployments: Vec<DeploymentId>,
    #[arg(long, default_value = "", value_parser = parse_prefix)]
    pub prefix: String,
    /// Do not ask. On a terminal, restore says what it brings back (and pins) and asks first;
    /// without one (a script) it does not ask.
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Print the restore's record as JSON.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub endpoint: Endpoint,
    #[command(flatten)]
    pub audit: AuditArgs,
    #[command(flatten)]
    pub notify: NotifyArgs,
}

/// `--via-lifecycle [--lifecycle-threshold N]`, for `apply` and `serve` (every apply started
/// from the dashboard).
#[derive(Args, Debug, Clone)]
pub struct LifecycleArgs {
    /// Hand doomed deployments of more than --lifecycle-threshold objects to S3 lifecycle
    /// expiration (one rule per folder, merged with the bucket's rules) instead of deleting them
    /// by requests; also checks earlier handovers and removes the rules S3 has finished with.
    /// Needs s3:GetLifecycleConfiguration and s3:PutLifecycleConfiguration.
    #[arg(long)]
    pub via_lifecycle: bool,
    /// With --via-lifecycle: deployments of more objects than this go to lifecycle.
    #[arg(
        long,
        value_name = "N",
        default_value_t = 1_000_000,
        requires = "via_lifecycle"
    )]
    pub lifecycle_threshold: u64,
}

impl LifecycleArgs {
    /// The engine's `lifecycle_over`: the threshold, when switched on.
    pub fn over(&self) -> Option<u64> {
        self.via_lifecycle.then_some(self.lifecycle_threshold)
    }
}

#[derive(Args, Debug, Clone)]
// Lifecycle expiration cannot remove old versions: the two are refused together.
#[command(group(clap::ArgGroup::new("versions_or_lifecycle").args(["purge_versions", "via_lifecycle"]).multiple(false)))]
pub struct ApplyArgs {
    #[command(flatten)]
    pub plan: PlanArgs,
    /// Do not ask for confirmation (for scripts).
    #[arg(long)]
    pub yes: bool,
    /// Apply a plan saved with `plan --out FILE`, only if the bucket still yields exactly its
    /// deletions (no confirmation prompt: the saved plan is the confirmation).
    /// Guards given with it (--pin, --exclude, --max-delete, --live-pointer, a longer
    /// --live-grace) narrow it; flags that would change what it deletes are refused.
    #[arg(long = "plan", value_name = "FILE", conflicts_with_all = ["bucket", "retain", "policy", "min_retain_days", "keep_within", "prefix", "date_source"])]
    pub plan_file: Option<std::path::PathBuf>,
    /// The plan in --plan's file, read once the arguments are parsed (`main`: an unreadable
    /// or damaged file is a usage error, after clap's own).
    #[arg(skip)]
    pub saved: Option<std::sync::Arc<crate::saved::SavedPlan>>,
    /// Refuse to apply where the S3 server ignores conditional writes (If-None-Match), so the
    /// bucket's lease could not stop a second apply running at once (default: a warning).
    #[arg(long)]
    pub require_lease: bool,
    /// Apply although the bucket's dashboard asks a second deployer to approve applies this
    /// large (`serve --approval-over`): your own S3 rights allow it; the record says you did.
    #[arg(long)]
    pub without_approval: bool,
    #[command(flatten)]
    pub lifecycle: LifecycleArgs,
    #[command(flatten)]
    pub audit: AuditArgs,
    #[command(flatten)]
    pub notify: NotifyArgs,
}

#[derive(Args, Debug, Clone)]
pub struct NotifyArgs {
    /// POST a JSON summary of the run to URL when it ends (repeatable): bucket, who, what was
    /// deleted or restored, failures, audit id, and a `text` line Slack and Mattermost incoming
    /// webhooks show as is. A failed notification is logged, never fails the run.
    #[arg(long = "notify", value_name = "URL", value_parser = WebhookArg)]
    pub notify: Vec<prune::WebhookUrl>,
}

/// `--notify URL`, refused without echoing it: clap's own message would print the whole
/// address, and a webhook's path is its secret (Slack's token).
#[derive(Clone)]
struct WebhookArg;

impl clap::builder::TypedValueParser for WebhookArg {
    type Value = prune::WebhookUrl;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        _: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<prune::WebhookUrl, clap::Error> {
        let refused = |why: String| {
            clap::Error::raw(
                clap::error::ErrorKind::ValueValidation,
                format!("--notify: {why}\n"),
            )
            .with_cmd(cmd)
        };
        let text = value
            .to_str()
            .ok_or_else(|| refused("the address is not UTF-8".into()))?;
        text.parse()
            .map_err(|e: prune::BadWebhookUrl| refused(e.to_string()))
    }
}

impl NotifyArgs {
    pub fn notifier(&self) -> prune::Notifier {
        prune::Notifier::new(self.notify.clone())
    }
}

#[derive(Args, Debug, Clone)]
pub struct AuditArgs {
    /// The audit log (SQLite). Default: $XDG_DATA_HOME/s3-prune/audit.sqlite.
    #[arg(long, value_name = "PATH", env = "S3_PRUNE_AUDIT_DB")]
    pub audit_db: Option<std::path::PathBuf>,
}

impl AuditArgs {
    pub fn open(&self) -> anyhow::Result<audit::AuditLog> {
        let path = self.audit_db.clone().unwrap_or_else(audit::default_path);
        Ok(audit::AuditLog::open(&path)?)
    }
}

#[derive(Args, Debug, Clone)]
pub struct CheckArgs {
    #[command(flatten)]
    pub plan: PlanArgs,
    /// A deletion the policy has allowed for longer than this is overdue (e.g. 2d, 36h).
    #[arg(long, value_name = "SPAN", default_value = "2d")]
    pub overdue_after: Span,
    /// Also behind when no run (any front end) ended well within this span (e.g. 2d).
    #[arg(long, value_name = "SPAN")]
    pub last_run_within: Option<Span>,
}

#[derive(Args, Debug, Clone)]
pub struct HistoryArgs {
    /// The bucket whose journal to read (default: the local audit log).
    pub bucket: Option<String>,
    #[arg(long, default_value = "", value_parser = parse_prefix)]
    pub prefix: String,
    /// A list of runs as JSON (id, source, who, status, started, deleted, …).
    #[arg(long)]
    pub json: bool,
    /// How many runs, newest first (at least 1).
    #[arg(long, default_value_t = 20, value_parser = parse_limit)]
    pub limit: usize,
    #[command(flatten)]
    pub endpoint: Endpoint,
    #[command(flatten)]
    pub audit: AuditArgs,
}

#[derive(Args, Debug, Clone)]
pub struct DemoArgs {
    /// The bucket to create and fill.
    pub bucket: String,
    /// How many deployments to create.
    #[arg(long, default_value_t = 30)]
    pub deployments: u32,
    #[command(flatten)]
    pub endpoint: Endpoint,
}
