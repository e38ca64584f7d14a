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
//! folder kept now). A write therefore returns only once a read shows it.

use crate::{Bucket, S3Error};
use aws_sdk_s3::types::{
    BucketLifecycleConfiguration, ExpirationStatus, LifecycleRule,
    TransitionDefaultMinimumObjectSize,
};

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
    /// configuration is no longer `seen`. No rules left removes the configuration.
    pub async fn write_lifecycle(
        &self,
        seen: &LifecycleConfig,
        rules: Vec<LifecycleRule>,
    ) -> Result<(), S3Error> {
        if self.read_lifecycle().await? != *seen {
            return Err(S3Error::LifecycleChanged {
                bucket: self.name.clone(),
            });
        }
        let written = rule_ids(&rules);
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
                .map_err(|e| crate::lifecycle::invalid_lifecycle("InvalidConfiguration", e))?;
            self.client
                .put_bucket_lifecycle_configuration()
                .bucket(&self.name)
                .lifecycle_configuration(config)
                .set_transition_default_minimum_object_size(seen.min_size.clone())
                .send()
                .await
                .map_err(|e| self.err(e, "s3:PutLifecycleConfiguration"))?;
        }
        self.until_read_shows(&written).await
    }

    /// Waits until a read of the configuration holds the rules `written` (by id), up to
    /// [`SETTLE_WITHIN`]: a read right after a write may still show the rules from before it.
    async fn until_read_shows(&self, written: &[String]) -> Result<(), S3Error> {
        let started = std::time::Instant::now();
        let mut pause = std::time::Duration::from_millis(100);
        loop {
            if rule_ids(&self.read_lifecycle().await?.rules) == written {
                return Ok(());
            }
            if started.elapsed() + pause > SETTLE_WITHIN {
                return Err(S3Error::LifecycleUnsettled {
                    bucket: self.name.clone(),
                    secs: started.elapsed().as_secs(),
                });
            }
            tracing::debug!(bucket = %self.name, "the lifecycle configuration read is still the one from before the write");
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(std::time::Duration::from_secs(2));
        }
    }
}

/// How long a lifecycle write waits for a read to show it.
const SETTLE_WITHIN: std::time::Duration = std::time::Duration::from_secs(30);

/// The rules' ids, sorted: what tells a configuration read after a write from the one before.
fn rule_ids(rules: &[LifecycleRule]) -> Vec<String> {
    let mut ids: Vec<String> = rules
        .iter()
        .map(|r| r.id().unwrap_or_default().to_string())
        .collect();
    ids.sort();
    ids
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
