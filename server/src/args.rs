use clap::{Args, Parser, Subcommand};
use retention::{DateSource, DeploymentId, Glob, Retain, Span};

#[derive(Parser, Debug)]
#[command(
    name = "s3-prune",
    version,
    about = "Delete old deployment folders from an S3 bucket, safely."
)]
pub struct Cli {
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
    Serve(ServeArgs),
    /// Fill a bucket with a realistic set of demo deployments.
    Demo(DemoArgs),
}

#[derive(Args, Debug, Clone)]
pub struct Endpoint {
    /// Use LocalStack: http://localhost:4566 (unless AWS_ENDPOINT_URL is set), path-style,
    /// us-east-1 and test credentials when none are configured.
    #[arg(long, conflicts_with = "endpoint_url")]
    pub localstack: bool,
    /// Any other S3-compatible endpoint (path-style addressing).
    #[arg(long, value_name = "URL")]
    pub endpoint_url: Option<String>,
    /// Deployments listed or deleted at once.
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub concurrency: u16,
}

impl Endpoint {
    pub fn connect(&self) -> bucket::Connect {
        bucket::Connect {
            localstack: self.localstack,
            endpoint_url: self.endpoint_url.clone(),
            max_attempts: None,
        }
    }
}

fn parse_days(s: &str) -> Result<Span, String> {
    retention::parse_days(s).map_err(|e| e.to_string())
}

#[derive(Args, Debug, Clone)]
#[command(allow_negative_numbers = true)]
pub struct PlanArgs {
    /// The bucket holding one folder per deployment.
    pub bucket: String,
    /// Keep at least this many of the newest deployments (≥ 1).
    #[arg(value_name = "RETAIN")]
    pub retain: Retain,
    /// Delete only deployments older than D days (beyond the newest RETAIN).
    #[arg(long, value_name = "D", value_parser = parse_days, conflicts_with = "keep_within")]
    pub min_retain_days: Option<Span>,
    /// Like --min-retain-days, finer: 30d, 12h, 90s, 1d12h.
    #[arg(long, value_name = "DURATION")]
    pub keep_within: Option<Span>,
    /// Deployments live under this prefix (a folder; the trailing '/' is implied).
    #[arg(long, default_value = "")]
    pub prefix: String,
    /// Always keep this deployment (repeatable). Pins do not count towards RETAIN.
    #[arg(long = "pin", value_name = "ID")]
    pub pins: Vec<DeploymentId>,
    /// Leave deployments whose id matches this glob alone (repeatable): *, ?, [a-z].
    #[arg(long = "exclude", value_name = "GLOB")]
    pub excludes: Vec<Glob>,
    /// Where a deployment's date comes from: newest, oldest or meta:KEY.
    #[arg(long, default_value = "newest")]
    pub date_source: DateSource,
    /// On a versioned bucket, also remove every version and delete marker of deleted deployments.
    #[arg(long)]
    pub purge_versions: bool,
    #[command(flatten)]
    pub endpoint: Endpoint,
    /// Print one JSON document instead of a table.
    #[arg(long)]
    pub json: bool,
}

impl PlanArgs {
    pub fn policy(&self) -> retention::Policy {
        retention::Policy {
            retain: self.retain,
            keep_within: self.min_retain_days.or(self.keep_within),
            pins: self.pins.clone(),
            excludes: self.excludes.clone(),
            date_source: self.date_source.clone(),
            purge_versions: self.purge_versions,
        }
    }
}

#[derive(Args, Debug, Clone)]
pub struct ApplyArgs {
    #[command(flatten)]
    pub plan: PlanArgs,
    /// Do not ask for confirmation (for scripts).
    #[arg(long)]
    pub yes: bool,
}

#[derive(Args, Debug, Clone)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:3000", env = "LEPTOS_SITE_ADDR")]
    pub addr: std::net::SocketAddr,
    /// A bucket to offer, optionally with a prefix: NAME or NAME/PREFIX (repeatable).
    #[arg(long = "bucket", value_name = "NAME[/PREFIX]", required = true)]
    pub buckets: Vec<String>,
    #[arg(long, default_value = "newest")]
    pub date_source: DateSource,
    #[command(flatten)]
    pub endpoint: Endpoint,
    /// Where the built site (pkg/ with the wasm, js and css) lives.
    #[arg(long, default_value = "target/site", env = "LEPTOS_SITE_ROOT")]
    pub site_root: String,
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
