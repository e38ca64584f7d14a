//! What `plan` reads (and `apply`, `check`, `serve` with it): the bucket and prefix, the
//! policy (RETAIN and days, or a policy file), how deployments are dated, what is live.

use super::endpoint::Endpoint;
use super::values::{load_policy, parse_days};
use clap::Args;
use retention::{DateSource, DeploymentId, Glob, MetaFallback, Retain, Span};

/// `--live-pointer`, `--live-from` and `--inventory`: what is live and where the listing comes
/// from, for `plan`, `apply`, `check` and `serve` (whose help says it shorter).
#[derive(Args, Debug, Clone)]
pub struct LiveArgs {
    /// Key of an object whose body names the live deployment: always kept. If it cannot be
    /// read, nothing is deleted.
    #[arg(long, value_name = "KEY")]
    pub live_pointer: Option<String>,
    /// Key of a page of the site (e.g. index.html at the bucket root) whose src/href/refresh
    /// references name the deployments that are serving: each is kept. If it cannot be read,
    /// or references no deployment here, nothing is deleted.
    #[arg(long, value_name = "KEY")]
    pub live_from: Option<String>,
    /// Plan from this S3 Inventory report (CSV or Parquet) instead of listing the bucket: for
    /// buckets too big to list. A configuration's folder (ending in /) means its newest
    /// complete report. Warned when older than 48 h; apply still re-lists what it deletes.
    #[arg(long, value_name = "s3://…/manifest.json|s3://…/CONFIG-ID/")]
    pub inventory: Option<bucket::inventory::InventoryLocation>,
}

#[derive(Args, Debug, Clone)]
#[command(allow_negative_numbers = true)]
pub struct PlanArgs {
    /// The bucket holding one folder per deployment.
    #[arg(value_name = "BUCKET")]
    pub bucket: Option<String>,
    /// Keep at least this many of the newest deployments (≥ 1).
    #[arg(value_name = "RETAIN", conflicts_with = "policy")]
    pub retain: Option<Retain>,
    /// Rules from a policy file (TOML, see README "Rules and groups") instead of RETAIN.
    #[arg(long, value_name = "FILE", value_parser = load_policy, conflicts_with_all = ["min_retain_days", "keep_within"])]
    pub policy: Option<retention::Rules>,
    /// Delete only deployments older than D days (beyond the newest RETAIN).
    #[arg(long, value_name = "D", value_parser = parse_days, conflicts_with = "keep_within")]
    pub min_retain_days: Option<Span>,
    /// Like --min-retain-days, finer: 30d, 12h, 90s, 1d12h.
    #[arg(long, value_name = "DURATION")]
    pub keep_within: Option<Span>,
    /// Deployments live under this prefix (a folder; the trailing '/' is implied).
    #[arg(long, default_value = "", value_parser = super::parse_prefix)]
    pub prefix: String,
    /// Always keep this deployment (repeatable). Pins do not count towards RETAIN.
    #[arg(long = "pin", value_name = "ID")]
    pub pins: Vec<DeploymentId>,
    /// Leave deployments whose id matches this glob alone (repeatable): *, ?, [a-z].
    #[arg(long = "exclude", value_name = "GLOB")]
    pub excludes: Vec<Glob>,
    /// Where a deployment's date comes from: newest (default), oldest or meta:KEY.
    #[arg(long)]
    pub date_source: Option<DateSource>,
    /// With --date-source meta:KEY, a deployment whose KEY is missing or unparsable is kept
    /// (its date unknown); this dates it by its newest or oldest object instead.
    #[arg(long, value_name = "newest|oldest")]
    pub meta_fallback: Option<MetaFallback>,
    /// With --live-pointer: keep the deployment the pointer named before for this long after it
    /// moved on (open tabs still load its files; it is the rollback target). 0 turns it off.
    /// [default: 24h] (not clap's default: beside `apply --plan` a grace given is told apart
    /// from none given, and narrows the saved plan).
    #[arg(long, value_name = "SPAN")]
    pub live_grace: Option<Span>,
    /// On a versioned bucket, also remove every version and delete marker of deleted deployments.
    #[arg(long)]
    pub purge_versions: bool,
    /// Keep old versions (restorable deletes) though the configuration file says
    /// `policy.purge_versions = true`.
    #[arg(long, conflicts_with = "purge_versions")]
    pub no_purge_versions: bool,
    #[command(flatten)]
    pub live: LiveArgs,
    /// Refuse to apply a plan that deletes more deployments than this (default 100).
    #[arg(long, value_name = "N")]
    pub max_delete: Option<u64>,
    #[command(flatten)]
    pub endpoint: Endpoint,
    /// Print one JSON document instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Also save the plan to FILE, for `apply --plan FILE` (apply: the plan it applies, saved
    /// before it deletes; check refuses it).
    #[arg(long, value_name = "FILE")]
    pub out: Option<std::path::PathBuf>,
}

impl PlanArgs {
    /// Whether versions are purged: `--purge-versions` (or the configuration file's
    /// `policy.purge_versions`), unless `--no-purge-versions` is typed.
    pub fn purges(&self) -> bool {
        self.purge_versions && !self.no_purge_versions
    }

    /// BUCKET, and RETAIN or --policy, are optional only for `apply --plan FILE`.
    pub fn bucket(&self) -> &str {
        match (&self.bucket, self.retain.is_some() || self.policy.is_some()) {
            (Some(b), true) => b,
            _ => clap::Command::new("s3-prune")
                .error(
                    clap::error::ErrorKind::MissingRequiredArgument,
                    "BUCKET and RETAIN (or --policy FILE) are required (or, for apply, --plan FILE)",
                )
                .exit(),
        }
    }

    /// The policy as given on the command line: RETAIN and its options, or --policy's rules.
    pub fn spec(&self) -> prune::PolicySpec {
        prune::PolicySpec {
            retain: self.retain.map(Retain::get),
            min_retain_days: None,
            keep_within: self.min_retain_days.or(self.keep_within),
            pins: self.pins.clone(),
            excludes: self.excludes.clone(),
            date_source: self.date_source.clone(),
            meta_fallback: self.meta_fallback,
            live_grace: self.live_grace,
            purge_versions: Some(self.purges()),
            max_delete: self.max_delete,
            rules: self.policy.clone(),
        }
    }

    /// Refuses an option that would be silently ignored: `--live-grace` keeps what a
    /// `--live-pointer` named before, and `--meta-fallback` dates what `meta:KEY` cannot. With
    /// RETAIN and with a rules file alike (its rules carry neither: a rules file with
    /// `--live-grace` and no pointer was accepted, and the previous live went unguarded).
    pub fn refuse_ignored(&self) -> Result<(), String> {
        if self.live_grace.is_some() && self.live.live_pointer.is_none() {
            return Err(
                "--live-grace keeps the deployment a --live-pointer named before it \
                        moved on; without --live-pointer it does nothing: give --live-pointer \
                        KEY too (or live_pointer under [guards] in the config file), or drop \
                        --live-grace"
                    .into(),
            );
        }
        if self.meta_fallback.is_some() && !matches!(self.date_source, Some(DateSource::Meta(_))) {
            return Err(
                "--meta-fallback dates the deployments --date-source meta:KEY cannot; \
                        without meta:KEY it does nothing: give --date-source meta:KEY too (or \
                        date_source under [policy] in the config file), or drop --meta-fallback"
                    .into(),
            );
        }
        Ok(())
    }

    pub fn scan_settings(&self) -> prune::ScanSettings {
        prune::ScanSettings {
            live_pointer: self.live.live_pointer.clone(),
            live_from: self.live.live_from.clone(),
            inventory: self.live.inventory.clone(),
            concurrency: self.endpoint.concurrency.into(),
        }
    }
}
