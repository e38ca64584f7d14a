//! The bucket's lifecycle configuration, edited only where s3-prune owns it. A write puts back
//! every field it read (the rules s3-prune did not mean to change, and the configuration-level
//! `TransitionDefaultMinimumObjectSize`, which S3 resets to its default when a PUT omits it);
//! right before writing, the configuration is read again and the write is refused if anyone
//! changed it since it was read (the console, Terraform, another run). S3 has no conditional
//! PUT for lifecycle configurations, so what is left is the few milliseconds between that
//! re-read and the PUT.
//!
//! S3's bucket configurations are eventually consistent: for a while after a write a read may
//! still answer with the rules from before it. Every edit reads, then writes back what it read,
//! so an edit made on such a read would put back a rule just removed (an expiration rule over a
//! folder kept now). A write therefore returns once a read shows it; one not shown within 30 s
//! holds off this process's next edit until a read does.

use crate::{Bucket, S3Error};
use aws_sdk_s3::types::{
    BucketLifecycleConfiguration, ExpirationStatus, LifecycleRule,
    TransitionDefaultMinimumObjectSize,
};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The configuration as read: what a write must put back.
#[derive(Debug, Clone, PartialEq)]
pub struct LifecycleConfig {
    pub rules: Vec<LifecycleRule>,
    min_size: Option<TransitionDefaultMinimumObjectSize>,
}

/// The prefix a rule's filter scopes it to ("" for the whole bucket). A rule scoped by tags or
/// object size as well is treated as covering its whole prefix (the safe side for overlaps).
pub(crate) fn rule_prefix(r: &LifecycleRule) -> &str {
    #[allow(deprecated)] // the rule-level Prefix of old configurations still scopes a rule
    let old = r.prefix();
    let filter = r.filter();
    filter
        .and_then(|f| f.prefix().or_else(|| f.and().and_then(|a| a.prefix())))
        .or(old)
        .unwrap_or("")
}

/// Whether two prefixes share any key (one starts with the other).
pub(crate) fn overlap(a: &str, b: &str) -> bool {
    a.starts_with(b) || b.starts_with(a)
}

impl Bucket {
    /// The bucket's lifecycle configuration; no rules when it has none.
    pub async fn read_lifecycle(&self) -> Result<LifecycleConfig, S3Error> {
        match self
            .client
            .get_bucket_lifecycle_configuration()
            .bucket(&self.name)
            .send()
            .await
        {
            Ok(out) => Ok(LifecycleConfig {
                rules: out.rules().to_vec(),
                min_size: out.transition_default_minimum_object_size().cloned(),
            }),
            Err(e) => {
                let code = e.as_service_error().and_then(|s| {
                    aws_sdk_s3::error::ProvideErrorMetadata::code(s).map(str::to_string)
                });
                if code.as_deref() == Some("NoSuchLifecycleConfiguration") {
                    Ok(LifecycleConfig {
                        rules: Vec::new(),
                        min_size: None,
                    })
                } else {
                    Err(self.err(e, "s3:GetLifecycleConfiguration"))
                }
            }
        }
    }

    /// The bucket's rules, or none when it has no lifecycle configuration.
    pub(crate) async fn lifecycle_rules(&self) -> Result<Vec<LifecycleRule>, S3Error> {
        Ok(self.read_lifecycle().await?.rules)
    }

    /// Replaces `seen`'s rules with `rules` (callers pass every rule they read and did not mean
    /// to change), keeping its other fields; refused, with nothing written, when the
    /// configuration is no longer `seen`, or while S3 does not yet show this process's last
    /// write ([`S3Error::LifecycleUnsettled`]). No rules left removes the configuration.
    pub async fn write_lifecycle(
        &self,
        seen: &LifecycleConfig,
        rules: Vec<LifecycleRule>,
    ) -> Result<(), S3Error> {
        let now_read = self.read_lifecycle().await?;
        {
            let mut pending = self
                .lifecycle_pending
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            match may_write(
                pending.as_ref(),
                &rule_keys(&now_read.rules),
                Instant::now(),
            ) {
                MayWrite::Yes => *pending = None,
                MayWrite::NotYet => {
                    return Err(S3Error::LifecycleUnsettled {
                        bucket: self.name.clone(),
                    })
                }
            }
        }
        if now_read != *seen {
            return Err(S3Error::LifecycleChanged {
                bucket: self.name.clone(),
            });
        }
        let written = rule_keys(&rules);
        if rules.is_empty() {
            self.client
                .delete_bucket_lifecycle()
                .bucket(&self.name)
                .send()
                .await
                .map_err(|e| self.err(e, "s3:PutLifecycleConfiguration"))?;
        } else {
            let config = BucketLifecycleConfiguration::builder()
                .set_rules(Some(rules))
                .build()
                .map_err(|e| invalid_lifecycle("InvalidConfiguration", e))?;
            self.client
                .put_bucket_lifecycle_configuration()
                .bucket(&self.name)
                .lifecycle_configuration(config)
                .set_transition_default_minimum_object_size(seen.min_size.clone())
                .send()
                .await
                .map_err(|e| self.err(e, "s3:PutLifecycleConfiguration"))?;
        }
        self.until_read_shows(written).await;
        Ok(())
    }

    /// Waits until a read of the configuration shows the rules `written`, up to
    /// [`SETTLE_WITHIN`] (a read that fails counts as not yet). S3 took the write either way:
    /// not shown by then, it is remembered as pending, and the next edit of this process is
    /// refused until a read shows it (or [`PENDING_HELD`] has passed).
    async fn until_read_shows(&self, written: Vec<RuleKey>) {
        let started = Instant::now();
        let mut pause = Duration::from_millis(100);
        loop {
            match self.read_lifecycle().await {
                Ok(read) if rule_keys(&read.rules) == written => return,
                Ok(_) => {}
                Err(e) => {
                    tracing::debug!(error = %e, "the lifecycle configuration could not be read back")
                }
            }
            if started.elapsed() + pause > SETTLE_WITHIN {
                tracing::warn!(bucket = %self.name, "S3 took the lifecycle configuration but does not show it yet: no more edits until it does");
                *self
                    .lifecycle_pending
                    .lock()
                    .unwrap_or_else(|e| e.into_inner()) = Some(Pending {
                    written,
                    at: Instant::now(),
                });
                return;
            }
            tracing::debug!(bucket = %self.name, "the lifecycle configuration read is still the one from before the write");
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_secs(2));
        }
    }
}

/// How long a lifecycle write waits for a read to show it.
const SETTLE_WITHIN: Duration = Duration::from_secs(30);

/// How long a write S3 did not show is remembered: past it, edits go ahead (someone may have
/// changed the configuration since, and it would never show).
const PENDING_HELD: Duration = Duration::from_secs(300);

/// What identifies a rule's effect, as read back: id, prefix, status, expiry days, noncurrent
/// days (a write that keeps the ids and changes the days must show too).
type RuleKey = (String, String, String, Option<i32>, Option<i32>);

/// The rules' [`RuleKey`]s, sorted (servers need not keep the order written).
fn rule_keys(rules: &[LifecycleRule]) -> Vec<RuleKey> {
    let mut keys: Vec<RuleKey> = rules
        .iter()
        .map(|r| {
            (
                r.id().unwrap_or_default().to_string(),
                rule_prefix(r).to_string(),
                r.status().as_str().to_string(),
                r.expiration().and_then(|e| e.days()),
                (r.noncurrent_version_expiration()).and_then(|n| n.noncurrent_days()),
            )
        })
        .collect();
    keys.sort();
    keys
}

/// A write of this process that S3 took and did not show within [`SETTLE_WITHIN`].
#[derive(Debug, Clone)]
pub(crate) struct Pending {
    written: Vec<RuleKey>,
    at: Instant,
}

/// Shared by the clones of a bucket (the dashboard's), as the `meta:` cache is.
pub(crate) type PendingWrite = Arc<Mutex<Option<Pending>>>;

#[derive(Debug, PartialEq, Eq)]
enum MayWrite {
    Yes,
    NotYet,
}

/// Whether an edit may go ahead on a configuration read as `read`: yes unless a pending write
/// of this process is not shown by it, for [`PENDING_HELD`] after that write.
fn may_write(pending: Option<&Pending>, read: &[RuleKey], now: Instant) -> MayWrite {
    match pending {
        Some(p) if p.written != read && now.duration_since(p.at) < PENDING_HELD => MayWrite::NotYet,
        _ => MayWrite::Yes,
    }
}

/// Enabled rules of others that keep noncurrent versions under `prefix` longer than `days`:
/// a rule of `days` there would shorten them (S3 applies the shortest expiry).
pub(crate) fn longer_noncurrent_rules<'a>(
    rules: &'a [LifecycleRule],
    prefix: &str,
    days: i32,
    ours: &str,
) -> Vec<(&'a str, &'a str, i32)> {
    rules
        .iter()
        .filter(|r| r.id() != Some(ours) && r.status() == &ExpirationStatus::Enabled)
        .filter(|r| overlap(rule_prefix(r), prefix))
        .filter_map(|r| {
            let theirs = r.noncurrent_version_expiration()?.noncurrent_days()?;
            (theirs > days).then_some((r.id().unwrap_or("(no id)"), rule_prefix(r), theirs))
        })
        .collect()
}

/// A lifecycle rule or configuration the SDK refused to build (never sent).
pub(crate) fn invalid_lifecycle(code: &str, e: impl std::fmt::Display) -> S3Error {
    S3Error::Service {
        action: "s3:PutLifecycleConfiguration".into(),
        code: code.into(),
        message: e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_s3::types::{LifecycleRuleFilter, NoncurrentVersionExpiration};

    fn rule(id: &str, prefix: &str, noncurrent: i32) -> LifecycleRule {
        LifecycleRule::builder()
            .id(id)
            .status(ExpirationStatus::Enabled)
            .filter(LifecycleRuleFilter::builder().prefix(prefix).build())
            .noncurrent_version_expiration(
                NoncurrentVersionExpiration::builder()
                    .noncurrent_days(noncurrent)
                    .build(),
            )
            .build()
            .unwrap()
    }

    fn key(id: &str, days: i32) -> RuleKey {
        (
            id.into(),
            format!("{id}/"),
            "Enabled".into(),
            Some(days),
            None,
        )
    }

    #[test]
    fn an_edit_waits_while_a_read_does_not_show_this_processs_last_write() {
        let written = vec![key("new", 1)];
        let at = Instant::now();
        let pending = Pending {
            written: written.clone(),
            at,
        };
        let before = vec![key("old", 1), key("new", 1)];
        assert_eq!(
            may_write(None, &before, at),
            MayWrite::Yes,
            "nothing pending"
        );
        assert_eq!(
            may_write(Some(&pending), &before, at + Duration::from_secs(60)),
            MayWrite::NotYet,
            "a read from before the write: an edit on it would put 'old' back"
        );
        assert_eq!(
            may_write(Some(&pending), &written, at + Duration::from_secs(60)),
            MayWrite::Yes,
            "shown now"
        );
        assert_eq!(
            may_write(Some(&pending), &before, at + PENDING_HELD),
            MayWrite::Yes,
            "held no longer than PENDING_HELD (someone may have changed it since)"
        );
    }

    #[test]
    fn a_read_shows_a_write_by_its_rules_days_too_in_any_order() {
        let (a, b) = (rule("undo", "", 30), rule("logs", "logs/", 90));
        assert_eq!(
            rule_keys(&[a.clone(), b.clone()]),
            rule_keys(&[b.clone(), a]),
            "servers need not keep the order written"
        );
        assert_ne!(
            rule_keys(&[rule("undo", "", 7), b.clone()]),
            rule_keys(&[rule("undo", "", 30), b]),
            "the same ids with other days: not the write"
        );
    }

    #[test]
    fn a_users_longer_noncurrent_rule_that_overlaps_is_found_and_others_are_not() {
        let rules = [
            rule("compliance", "", 90),
            rule("logs", "logs/", 365),
            rule("short", "sites/", 3),
            rule("s3-prune-undo-window sites", "sites/", 7),
        ];
        let found = longer_noncurrent_rules(&rules, "sites/", 7, "s3-prune-undo-window sites");
        assert_eq!(
            found,
            vec![("compliance", "", 90)],
            "logs/ does not overlap sites/"
        );
        let whole = longer_noncurrent_rules(&rules, "", 7, "s3-prune-undo-window");
        assert_eq!(
            whole,
            vec![("compliance", "", 90), ("logs", "logs/", 365)],
            "a bucket-wide window overlaps every rule; shorter or equal ones are not cut"
        );
        assert!(longer_noncurrent_rules(&rules, "sites/", 400, "x").is_empty());
    }
}
