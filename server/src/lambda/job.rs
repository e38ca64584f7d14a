//! The scheduled job's configuration: the function's own job from the `S3_PRUNE_*`
//! environment, and an invocation's event, which may only narrow it.

use super::env::{env, env_bool, env_ids, env_list, env_num, refuse_unknown_variables};
use anyhow::{anyhow, bail, Context, Result};
use prune::PolicySpec;
use retention::{DateSource, DeploymentId, Glob, MetaFallback, Retain, Span};
use serde::Deserialize;

/// `S3_PRUNE_LIFECYCLE_THRESHOLD`'s default, as `--lifecycle-threshold`'s.
const LIFECYCLE_THRESHOLD: u64 = 1_000_000;

/// One job, as the environment or an event spells it.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Job {
    pub bucket: Option<String>,
    pub retain: Option<u64>,
    pub min_retain_days: Option<u64>,
    pub keep_within: Option<String>,
    pub prefix: Option<String>,
    pub date_source: Option<String>,
    /// `newest` or `oldest`: what dates a deployment whose `meta:` date is missing (default:
    /// none, it is kept).
    pub meta_fallback: Option<String>,
    /// How long the deployment the live pointer named before is kept (default 24h; 0: off).
    pub live_grace: Option<String>,
    pub pins: Option<Vec<String>>,
    pub excludes: Option<Vec<String>>,
    pub live_pointer: Option<String>,
    pub live_from: Option<String>,
    /// `S3_PRUNE_INVENTORY`: plan from this S3 Inventory report instead of listing.
    pub inventory: Option<String>,
    pub max_delete: Option<u64>,
    pub purge_versions: Option<bool>,
    pub dry_run: Option<bool>,
    /// Rules, as a policy file's TOML (`S3_PRUNE_POLICY`), instead of `retain`.
    pub policy: Option<String>,
    /// Rules read from this key of the bucket at every run (`S3_PRUNE_POLICY_KEY`, relative to
    /// the prefix, e.g. `.s3-prune/policy.toml`): the team edits the file, not the function.
    pub policy_key: Option<String>,
}

/// The function's own job, read and parsed once at start-up.
pub struct Configured {
    pub(super) job: Job,
    pub(super) spec: PolicySpec,
    /// `S3_PRUNE_NOTIFY`: webhooks told after every apply (comma-separated URLs).
    pub(super) notifier: prune::Notifier,
    /// `S3_PRUNE_VIA_LIFECYCLE` (+ `S3_PRUNE_LIFECYCLE_THRESHOLD`, default 1,000,000): as
    /// `apply --via-lifecycle`. Configured only: an event cannot switch it.
    pub(super) lifecycle_over: Option<u64>,
}

impl Configured {
    /// The job the environment describes (`S3_PRUNE_BUCKET`, `S3_PRUNE_RETAIN`, …).
    pub fn from_env() -> Result<Configured> {
        refuse_unknown_variables(std::env::vars_os().filter_map(|(k, _)| k.into_string().ok()))?;
        // How to reach S3, read at start too: a bad value fails the start, not each run.
        connect_from_env()?;
        let job = Job {
            bucket: env("S3_PRUNE_BUCKET"),
            retain: env_num("S3_PRUNE_RETAIN")?,
            min_retain_days: env_num("S3_PRUNE_MIN_RETAIN_DAYS")?,
            keep_within: env("S3_PRUNE_KEEP_WITHIN"),
            prefix: env("S3_PRUNE_PREFIX"),
            date_source: env("S3_PRUNE_DATE_SOURCE"),
            meta_fallback: env("S3_PRUNE_META_FALLBACK"),
            live_grace: env("S3_PRUNE_LIVE_GRACE"),
            pins: env_ids("S3_PRUNE_PINS")?,
            excludes: env_ids("S3_PRUNE_EXCLUDES")?,
            live_pointer: env("S3_PRUNE_LIVE_POINTER"),
            live_from: env("S3_PRUNE_LIVE_FROM"),
            inventory: env("S3_PRUNE_INVENTORY"),
            max_delete: env_num("S3_PRUNE_MAX_DELETE")?,
            purge_versions: env_bool("S3_PRUNE_PURGE_VERSIONS")?,
            dry_run: env_bool("S3_PRUNE_DRY_RUN")?,
            policy: env("S3_PRUNE_POLICY"),
            policy_key: env("S3_PRUNE_POLICY_KEY"),
        };
        if let Some(i) = &job.inventory {
            i.parse::<bucket::inventory::InventoryLocation>()
                .map_err(|e| anyhow!("S3_PRUNE_INVENTORY: {e}"))?;
        }
        if job.policy.is_some() && job.policy_key.is_some() {
            bail!("set S3_PRUNE_POLICY or S3_PRUNE_POLICY_KEY, not both: which policy is meant?");
        }
        // A minimum age beside it failed every run at the policy's build, naming the CLI's flags.
        if job.policy_key.is_some()
            && (job.retain.is_some() || job.min_retain_days.is_some() || job.keep_within.is_some())
        {
            bail!("set S3_PRUNE_POLICY_KEY or S3_PRUNE_RETAIN / S3_PRUNE_MIN_RETAIN_DAYS / S3_PRUNE_KEEP_WITHIN, not both: the policy file in the bucket holds its own retain and minimum age");
        }
        // Refused at the start, not by every run: the policy file's own RETAIN and minimum age
        // are the policy, and one minimum age is meant.
        if job.policy.is_some()
            && (job.retain.is_some() || job.min_retain_days.is_some() || job.keep_within.is_some())
        {
            bail!("set S3_PRUNE_POLICY or S3_PRUNE_RETAIN / S3_PRUNE_MIN_RETAIN_DAYS / S3_PRUNE_KEEP_WITHIN, not both: the policy's TOML holds its own retain and minimum age");
        }
        if job.min_retain_days.is_some() && job.keep_within.is_some() {
            bail!("set S3_PRUNE_MIN_RETAIN_DAYS or S3_PRUNE_KEEP_WITHIN, not both: which minimum age is meant?");
        }
        let via_lifecycle = env_bool("S3_PRUNE_VIA_LIFECYCLE")?.unwrap_or(false);
        let threshold = env_num("S3_PRUNE_LIFECYCLE_THRESHOLD")?;
        if threshold.is_some() && !via_lifecycle {
            bail!("S3_PRUNE_LIFECYCLE_THRESHOLD is set but S3_PRUNE_VIA_LIFECYCLE is not: set both, or neither");
        }
        if via_lifecycle && job.purge_versions == Some(true) {
            bail!("set S3_PRUNE_VIA_LIFECYCLE or S3_PRUNE_PURGE_VERSIONS, not both: lifecycle expiration leaves old versions behind");
        }
        let lifecycle_over = via_lifecycle.then(|| threshold.unwrap_or(LIFECYCLE_THRESHOLD));
        let spec = job.spec().context("the S3_PRUNE_* environment")?;
        let urls = env_list("S3_PRUNE_NOTIFY")
            .unwrap_or_default()
            .iter()
            .map(|u| u.parse::<prune::WebhookUrl>())
            .collect::<Result<Vec<_>, _>>()
            .context("S3_PRUNE_NOTIFY")?;
        Ok(Configured {
            job,
            spec,
            notifier: prune::Notifier::new(urls),
            lifecycle_over,
        })
    }

    /// The configured bucket is the one its policy, pins and role were written for: an event
    /// aimed at another one would run this policy there (checked before anything is read).
    pub fn refuse_other_bucket(&self, ev: &Job) -> Result<()> {
        let base = &self.job;
        if ev.bucket.is_some() && base.bucket.is_some() && ev.bucket != base.bucket {
            bail!(
                "the event may not widen the configured job: 'bucket' differs from the configured \
                 one (another bucket needs its own function); nothing was done"
            );
        }
        Ok(())
    }

    /// This job narrowed by an event; anything that would delete more is refused.
    pub fn narrowed_by(&self, ev: &Job) -> Result<(Job, PolicySpec)> {
        let base = &self.job;
        let refuse = |field: &str, why: &str| {
            bail!("the event may not widen the configured job: '{field}' {why}; nothing was done")
        };
        let spec = self.spec.narrowed_by(&ev.spec()?).map_err(|w| {
            anyhow!("the event may not widen the configured job: {w}; nothing was done")
        })?;
        if base.dry_run == Some(true) && ev.dry_run == Some(false) {
            refuse(
                "dry_run",
                "is false, but this function is configured as a dry run",
            )?;
        }
        self.refuse_other_bucket(ev)?;
        // Another prefix changes what a deployment is (a folder of one is a deployment of the
        // other): refused even where none is configured (the bucket root).
        let norm = |p: &Option<String>| bucket::normalize_prefix(p.as_deref().unwrap_or(""));
        if ev.prefix.is_some() && norm(&ev.prefix) != norm(&base.prefix) {
            refuse("prefix", "differs from the configured one")?;
        }
        // A pointer or page the function was not given is an object of the event's choosing,
        // which the scan would read: only the configuration names them.
        let named = |configured: &Option<String>, event: &Option<String>| match configured {
            Some(_) if event.is_some() && event != configured => {
                Some("differs from the configured one")
            }
            None if event.is_some() => {
                Some("is not configured for this function (set it in the function's environment)")
            }
            _ => None,
        };
        if let Some(why) = named(&base.live_pointer, &ev.live_pointer) {
            refuse("live_pointer", why)?;
        }
        if ev.inventory.is_some() && ev.inventory != base.inventory {
            refuse("inventory", "differs from the configured one")?;
        }
        if let Some(why) = named(&base.live_from, &ev.live_from) {
            refuse("live_from", why)?;
        }
        if ev.policy_key.is_some() && ev.policy_key != base.policy_key {
            refuse("policy_key", "differs from the configured one")?;
        }
        let job = Job {
            bucket: ev.bucket.clone().or(base.bucket.clone()),
            prefix: ev.prefix.clone().or(base.prefix.clone()),
            live_pointer: ev.live_pointer.clone().or(base.live_pointer.clone()),
            live_from: ev.live_from.clone().or(base.live_from.clone()),
            inventory: base.inventory.clone(),
            dry_run: ev.dry_run.or(base.dry_run),
            ..Job::default()
        };
        Ok((job, spec))
    }
}

impl Job {
    /// The policy part, parsed.
    fn spec(&self) -> Result<PolicySpec> {
        if let Some(r) = self.retain {
            Retain::new(r)?;
        }
        Ok(PolicySpec {
            retain: self.retain,
            min_retain_days: self.min_retain_days,
            keep_within: self
                .keep_within
                .as_deref()
                .map(str::parse::<Span>)
                .transpose()?,
            // As typed ids are read everywhere: `v1 ` (a space kept) pinned nothing.
            pins: (self.pins.iter().flatten())
                .map(|s| s.parse::<DeploymentId>())
                .collect::<Result<_, _>>()?,
            excludes: (self.excludes.iter().flatten())
                .map(|s| s.parse::<Glob>())
                .collect::<Result<_, _>>()?,
            date_source: self
                .date_source
                .as_deref()
                .map(str::parse::<DateSource>)
                .transpose()?,
            meta_fallback: self
                .meta_fallback
                .as_deref()
                .map(str::parse::<MetaFallback>)
                .transpose()
                .map_err(|e| anyhow!("meta_fallback {e}"))?,
            live_grace: self
                .live_grace
                .as_deref()
                .map(str::parse::<Span>)
                .transpose()
                .map_err(|e| anyhow!("live_grace: {e}"))?,
            purge_versions: self.purge_versions,
            max_delete: self.max_delete,
            rules: self
                .policy
                .as_deref()
                .map(retention::parse_policy)
                .transpose()
                .map_err(|e| anyhow!("the policy (S3_PRUNE_POLICY or \"policy\"): {e}"))?,
        })
    }
}

/// How to reach S3: `S3_PRUNE_LOCALSTACK`, `S3_PRUNE_ENDPOINT_URL`, `S3_PRUNE_JOURNAL`.
pub(super) fn connect_from_env() -> Result<bucket::Connect> {
    Ok(bucket::Connect {
        // Strict: `TRUE` or `on` read as false would send a test job to real AWS.
        localstack: env_bool("S3_PRUNE_LOCALSTACK")?.unwrap_or(false),
        endpoint_url: env("S3_PRUNE_ENDPOINT_URL")
            .map(|u| crate::args::parse_endpoint_url(u.trim()))
            .transpose()
            .map_err(|e| anyhow!("S3_PRUNE_ENDPOINT_URL: {e}"))?,
        max_attempts: None,
        // `S3_PRUNE_JOURNAL`: the run journal kept in an audit bucket (see README).
        journal: env("S3_PRUNE_JOURNAL")
            .map(|j| j.parse::<bucket::JournalLocation>())
            .transpose()
            .map_err(|e| anyhow!("S3_PRUNE_JOURNAL: {e}"))?,
    })
}

impl Configured {
    /// With `S3_PRUNE_POLICY_KEY`, this job with the rules of the policy file kept in the
    /// bucket (read now, so an edit of the file applies from the next run); else `None`.
    pub(super) async fn policy_from_bucket(
        &self,
        bucket: &bucket::Bucket,
    ) -> Result<Option<Configured>> {
        match &self.job.policy_key {
            None => Ok(None),
            Some(rel) => self.with_policy_from(bucket, rel).await.map(Some),
        }
    }

    /// This job with the rules of the policy file at `rel` in the bucket. Unreadable or
    /// invalid: an error, nothing deleted.
    async fn with_policy_from(&self, bucket: &bucket::Bucket, rel: &str) -> Result<Configured> {
        let text = bucket.read_policy_file(rel).await?;
        let rules = retention::parse_policy(&text).map_err(|e| {
            anyhow!(
                "the policy file '{rel}' (S3_PRUNE_POLICY_KEY) in bucket '{}': {e}; nothing was deleted",
                bucket.name()
            )
        })?;
        Ok(Configured {
            job: self.job.clone(),
            spec: PolicySpec {
                rules: Some(rules),
                ..self.spec.clone()
            },
            notifier: self.notifier.clone(),
            lifecycle_over: self.lifecycle_over,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::{Configured, Job};
    use prune::PolicySpec;
    use serde_json::json;

    #[test]
    fn an_event_may_not_name_another_bucket_or_a_live_pointer_or_page_the_function_was_not_given() {
        let configured = |live_pointer: Option<&str>| Configured {
            job: Job {
                bucket: Some("b".into()),
                live_pointer: live_pointer.map(str::to_string),
                ..Job::default()
            },
            spec: PolicySpec {
                retain: Some(3),
                ..Default::default()
            },
            notifier: prune::Notifier::default(),
            lifecycle_over: None,
        };
        let event = |field: &str| -> Job {
            serde_json::from_value(json!({ field: "secrets/db-password.txt" })).unwrap()
        };
        for field in ["live_pointer", "live_from"] {
            let err = configured(None).narrowed_by(&event(field)).unwrap_err();
            assert!(
                err.to_string()
                    .contains(&format!("'{field}' is not configured")),
                "{err}"
            );
        }
        let err = configured(Some("live.txt"))
            .narrowed_by(&event("live_pointer"))
            .unwrap_err();
        assert!(err.to_string().contains("differs"), "{err}");
        let other: Job = serde_json::from_value(json!({ "bucket": "another" })).unwrap();
        let err = configured(None).narrowed_by(&other).unwrap_err();
        assert!(err.to_string().contains("'bucket' differs"), "{err}");
        let same: Job = serde_json::from_value(json!({ "live_pointer": "live.txt" })).unwrap();
        let (job, _) = configured(Some("live.txt")).narrowed_by(&same).unwrap();
        assert_eq!(job.live_pointer.as_deref(), Some("live.txt"));
    }
}
