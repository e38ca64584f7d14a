//! Deleting huge deployments with S3 itself (`apply --via-lifecycle`): one expiration lifecycle
//! rule per deployment folder, merged into the bucket's other rules (which are never touched).
//! S3 expires the objects asynchronously (usually within a day or two) at no request cost. A
//! later run checks each of s3-prune's expiration rules: when its folder is empty S3 has
//! finished, and the spent rule is removed.
//!
//! The trade-off, said in the README: a rule expires whatever is in the folder, so a key
//! published into a doomed folder while its rule stands would expire too (request deletes never
//! touch keys newer than the plan).

use crate::lifecycle::invalid_lifecycle;
use crate::pages::KeyPages;
use crate::{Bucket, S3Error};
use aws_sdk_s3::types::{
    ExpirationStatus, LifecycleExpiration, LifecycleRule, LifecycleRuleFilter,
};
use retention::DeploymentId;
use serde::{Deserialize, Serialize};

/// How s3-prune's expiration rule ids start; the rest is the folder (`<prefix><id>/`).
pub const EXPIRE_RULE: &str = "s3-prune-expire ";

/// One of s3-prune's expiration rules, and whether S3 has finished with its folder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Expiry {
    pub id: DeploymentId,
    pub rule_id: String,
    /// The folder is empty: S3 expired everything; the rule has been removed.
    pub finished: bool,
}

impl Bucket {
    fn expire_rule_id(&self, id: &DeploymentId) -> Result<String, S3Error> {
        let rule = format!("{EXPIRE_RULE}{}", self.deployment_prefix(id));
        if rule.len() > 255 {
            return Err(invalid_lifecycle(
                "InvalidArgument",
                format!("'{id}' is too long for a lifecycle rule id (255 characters): delete it without --via-lifecycle"),
            ));
        }
        Ok(rule)
    }

    /// Writes an expiration rule for each deployment's folder (objects expire one day after
    /// they were created — every doomed object is older), keeping every other rule as it is.
    /// Returns the rule ids.
    pub async fn expire_by_lifecycle(&self, ids: &[DeploymentId]) -> Result<Vec<String>, S3Error> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let wanted: Vec<(String, String)> = ids
            .iter()
            .map(|id| Ok((self.expire_rule_id(id)?, self.deployment_prefix(id))))
            .collect::<Result<_, S3Error>>()?;
        let mut rules: Vec<LifecycleRule> = self
            .lifecycle_rules()
            .await?
            .into_iter()
            .filter(|r| !wanted.iter().any(|(w, _)| r.id() == Some(w.as_str())))
            .collect();
        for (rule_id, folder) in &wanted {
            rules.push(
                LifecycleRule::builder()
                    .id(rule_id)
                    .status(ExpirationStatus::Enabled)
                    .filter(LifecycleRuleFilter::builder().prefix(folder).build())
                    .expiration(LifecycleExpiration::builder().days(1).build())
                    .build()
                    .map_err(|e| invalid_lifecycle("InvalidRule", e))?,
            );
        }
        self.put_rules(rules).await?;
        tracing::info!(bucket = %self.name, rules = wanted.len(), "expiration rules written");
        Ok(wanted.into_iter().map(|(r, _)| r).collect())
    }

    /// s3-prune's expiration rules for deployments under this prefix, each checked: a rule whose
    /// folder is empty is spent and removed (with the others kept as they are).
    pub async fn expiry_followup(&self) -> Result<Vec<Expiry>, S3Error> {
        let rules = self.lifecycle_rules().await?;
        let mine = format!("{EXPIRE_RULE}{}", self.prefix);
        let mut checked = Vec::new();
        for r in &rules {
            let Some(rule_id) = r.id().filter(|i| i.starts_with(&mine)) else {
                continue;
            };
            let folder = &rule_id[EXPIRE_RULE.len()..];
            let rel = folder[self.prefix.len()..].trim_end_matches('/');
            // Only a folder directly under the prefix is one of ours.
            let Ok(id) = DeploymentId::new(rel) else {
                continue;
            };
            let mut pages = KeyPages::new(self, folder, None, None);
            let empty = pages
                .next(Some(1))
                .await?
                .is_none_or(|p| p.contents().is_empty());
            checked.push(Expiry {
                id,
                rule_id: rule_id.to_string(),
                finished: empty,
            });
        }
        if checked.iter().any(|e| e.finished) {
            let spent: Vec<&str> = checked
                .iter()
                .filter(|e| e.finished)
                .map(|e| e.rule_id.as_str())
                .collect();
            let keep: Vec<LifecycleRule> = rules
                .into_iter()
                .filter(|r| !r.id().is_some_and(|i| spent.contains(&i)))
                .collect();
            self.put_rules(keep).await?;
        }
        Ok(checked)
    }
}
