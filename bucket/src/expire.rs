//! Deleting huge deployments with S3 itself (`apply --via-lifecycle`): one expiration lifecycle
//! rule per deployment folder, merged into the bucket's other rules (which are never touched).
//! S3 expires the objects asynchronously (usually within a day or two) at no request cost. A
//! later run checks each of s3-prune's expiration rules: when its folder is empty S3 has
//! finished, and the spent rule is removed.
//!
//! The trade-off, said in the README: a rule expires whatever is in the folder, so a rule must
//! not outlive its reason: every scan compares the pending rules with what is kept now, and
//! [`Bucket::withdraw_expiries`] removes the rule of a folder that is now kept (pinned, live,
//! re-deployed, kept by a changed policy). A rule's id carries the day it was written
//! (`s3-prune-expire@2026-12-04 <folder>`), so its age can be shown. On a versioned bucket,
//! what S3 expired of a folder before its rule was withdrawn is brought back by
//! [`Bucket::unexpire`] (its delete markers made since the handover removed).

use crate::lifecycle_config::{invalid_lifecycle, LifecycleConfig};
use crate::pages::KeyPages;
use crate::{Bucket, S3Error};
use aws_sdk_s3::types::{
    ExpirationStatus, LifecycleExpiration, LifecycleRule, LifecycleRuleFilter,
};
use chrono::{DateTime, NaiveDate, Utc};
use retention::DeploymentId;
use serde::{Deserialize, Serialize};

/// How s3-prune's expiration rule ids start: `s3-prune-expire@<date> <folder>`, or
/// `s3-prune-expire <folder>` as written before the date was added.
pub const EXPIRE_RULE: &str = "s3-prune-expire";

/// The most lifecycle rules S3 keeps for a bucket (its documented limit; a configuration of
/// more is refused whole).
pub const LIFECYCLE_RULES_MAX: usize = 1000;

/// What [`Bucket::expire_by_lifecycle`] wrote, and what it left for want of room.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Handed {
    /// The deployments handed over, with their rules: those handed over before first, then
    /// the new ones in the order asked.
    pub rules: Vec<RuleWritten>,
    /// Deployments not handed over: the bucket's rules were at [`LIFECYCLE_RULES_MAX`].
    /// Nothing was written for them.
    pub no_room: Vec<DeploymentId>,
    /// How many rules the bucket holds now (every owner's).
    pub rules_now: usize,
}

/// One deployment handed to S3 and the id of its expiration rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleWritten {
    pub id: DeploymentId,
    pub rule_id: String,
}

/// One of s3-prune's expiration rules, and whether S3 has finished with its folder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Expiry {
    pub id: DeploymentId,
    pub rule_id: String,
    /// The folder is empty: S3 expired everything; the rule has been removed.
    pub finished: bool,
    /// The day the rule was written (unknown for rules written before it was recorded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<NaiveDate>,
}

/// The day and folder of one of s3-prune's expiration rule ids.
fn parse_rule_id(rule_id: &str) -> Option<(Option<NaiveDate>, &str)> {
    let rest = rule_id.strip_prefix(EXPIRE_RULE)?;
    if let Some(folder) = rest.strip_prefix(' ') {
        return Some((None, folder));
    }
    let (day, folder) = rest.strip_prefix('@')?.split_once(' ')?;
    Some((
        Some(NaiveDate::parse_from_str(day, "%Y-%m-%d").ok()?),
        folder,
    ))
}

impl Bucket {
    /// The id of the rule that hands `id` to S3 expiration on `today` (refused past S3's 255
    /// characters).
    pub fn expire_rule_id(&self, id: &DeploymentId, today: NaiveDate) -> Result<String, S3Error> {
        let rule = format!("{EXPIRE_RULE}@{today} {}", self.deployment_prefix(id));
        if rule.chars().count() > 255 {
            return Err(invalid_lifecycle(
                "InvalidArgument",
                format!("'{id}' is too long for a lifecycle rule id (255 characters): delete it without --via-lifecycle"),
            ));
        }
        Ok(rule)
    }

    /// s3-prune's expiration rules of deployments directly under this prefix, as read in
    /// `config` (nothing listed: `finished` is false).
    fn expiries_in(&self, config: &LifecycleConfig) -> Vec<Expiry> {
        config
            .rules
            .iter()
            .filter_map(|r| {
                let rule_id = r.id()?;
                let (since, folder) = parse_rule_id(rule_id)?;
                let rel = folder.strip_prefix(self.prefix.as_str())?;
                // Only a folder directly under the prefix is one of ours.
                let id = DeploymentId::new(rel.strip_suffix('/')?).ok()?;
                Some(Expiry {
                    id,
                    rule_id: rule_id.to_string(),
                    finished: false,
                    since,
                })
            })
            .collect()
    }

    /// s3-prune's pending expiration rules under this prefix (one read, nothing listed).
    pub async fn expiries(&self) -> Result<Vec<Expiry>, S3Error> {
        Ok(self.expiries_in(&self.read_lifecycle().await?))
    }

    /// Writes an expiration rule for each deployment's folder (objects expire one day after
    /// they were created — every doomed object is older), keeping every other rule as it is.
    /// A new rule's id carries `today` (S3's day: see [`crate::ClockSkew`]).
    ///
    /// S3 takes at most [`LIFECYCLE_RULES_MAX`] rules a bucket and refuses a configuration of
    /// more whole: the folders handed over before keep their rules, new ones are written while
    /// there is room (in the order given), and the rest are returned as [`Handed::no_room`],
    /// nothing of them written.
    pub async fn expire_by_lifecycle(
        &self,
        ids: &[DeploymentId],
        today: NaiveDate,
    ) -> Result<Handed, S3Error> {
        if ids.is_empty() {
            return Ok(Handed::default());
        }
        let seen = self.read_lifecycle().await?;
        let existing = self.expiries_in(&seen);
        let (mut again, mut new) = (Vec::new(), Vec::new());
        for id in ids {
            // A folder handed over before keeps its rule (and its date).
            match existing.iter().find(|e| &e.id == id) {
                Some(e) => again.push(RuleWritten {
                    id: id.clone(),
                    rule_id: e.rule_id.clone(),
                }),
                None => new.push(RuleWritten {
                    id: id.clone(),
                    rule_id: self.expire_rule_id(id, today)?,
                }),
            }
        }
        let mut rules: Vec<LifecycleRule> = seen
            .rules
            .iter()
            .filter(|r| !again.iter().any(|w| r.id() == Some(w.rule_id.as_str())))
            .cloned()
            .collect();
        // Only new rules take room: one handed over before replaces itself.
        let room = LIFECYCLE_RULES_MAX.saturating_sub(rules.len() + again.len());
        let no_room = new.split_off(room.min(new.len()));
        again.extend(new);
        let handed = Handed {
            rules: again,
            no_room: no_room.into_iter().map(|w| w.id).collect(),
            rules_now: seen.rules.len(),
        };
        if handed.rules.is_empty() {
            return Ok(handed);
        }
        for w in &handed.rules {
            rules.push(
                LifecycleRule::builder()
                    .id(&w.rule_id)
                    .status(ExpirationStatus::Enabled)
                    .filter(
                        LifecycleRuleFilter::builder()
                            .prefix(self.deployment_prefix(&w.id))
                            .build(),
                    )
                    .expiration(LifecycleExpiration::builder().days(1).build())
                    .build()
                    .map_err(|e| invalid_lifecycle("InvalidRule", e))?,
            );
        }
        let rules_now = rules.len();
        self.write_lifecycle(&seen, rules).await?;
        tracing::info!(bucket = %self.name, rules = handed.rules.len(), no_room = handed.no_room.len(), "expiration rules written");
        Ok(Handed {
            rules_now,
            ..handed
        })
    }

    /// Removes s3-prune's expiration rules of these deployments (now kept: S3 must not expire
    /// them), every other rule kept as it is. Returns the rules removed.
    pub async fn withdraw_expiries(&self, ids: &[DeploymentId]) -> Result<Vec<Expiry>, S3Error> {
        let seen = self.read_lifecycle().await?;
        let gone: Vec<Expiry> = self
            .expiries_in(&seen)
            .into_iter()
            .filter(|e| ids.contains(&e.id))
            .collect();
        if gone.is_empty() {
            return Ok(gone);
        }
        let keep = seen
            .rules
            .iter()
            .filter(|r| !gone.iter().any(|e| r.id() == Some(e.rule_id.as_str())))
            .cloned()
            .collect();
        self.write_lifecycle(&seen, keep).await?;
        tracing::warn!(bucket = %self.name, rules = gone.len(), "expiration rules withdrawn: their folders are kept now");
        Ok(gone)
    }

    /// Whether deployment `id`'s folder holds no current object (expired, or deleted).
    pub async fn folder_is_empty(&self, id: &DeploymentId) -> Result<bool, S3Error> {
        let mut pages = KeyPages::new(self, &self.deployment_prefix(id), None, None);
        Ok(pages
            .next(Some(1))
            .await?
            .is_none_or(|p| p.contents().is_empty()))
    }

    /// Brings back what S3's expiration of deployment `id`'s folder hid: its delete markers
    /// made at or after `since` (the handover), see [`Bucket::bring_back_made`]. Also returns
    /// why the listing stopped early, if it did (what it found so far is restored). Needs
    /// s3:ListBucketVersions and s3:DeleteObjectVersion.
    pub async fn unexpire(
        &self,
        id: &DeploymentId,
        since: DateTime<Utc>,
        stop: &crate::Progress,
    ) -> (crate::RestoreReport, Option<S3Error>) {
        // No deployment counted as "not begun": one without expired keys has no outcome.
        let mut restoring = crate::Restoring::new(0);
        let span = crate::MadeBetween { since, until: None };
        let none = std::collections::BTreeMap::new();
        let listed = self
            .bring_back_made(&mut restoring, id, span, &none, stop)
            .await;
        (restoring.finish(self, stop).await, listed)
    }

    /// s3-prune's expiration rules for deployments under this prefix, each checked: a rule whose
    /// folder is empty is spent and removed (with the others kept as they are).
    pub async fn expiry_followup(&self) -> Result<Vec<Expiry>, S3Error> {
        let seen = self.read_lifecycle().await?;
        let mut checked = self.expiries_in(&seen);
        for e in &mut checked {
            e.finished = self.folder_is_empty(&e.id).await?;
        }
        if checked.iter().any(|e| e.finished) {
            let keep: Vec<LifecycleRule> = seen
                .rules
                .iter()
                .filter(|r| {
                    !checked
                        .iter()
                        .any(|e| e.finished && r.id() == Some(e.rule_id.as_str()))
                })
                .cloned()
                .collect();
            self.write_lifecycle(&seen, keep).await?;
        }
        Ok(checked)
    }
}

#[cfg(test)]
mod tests {
    use super::parse_rule_id;
    use chrono::NaiveDate;

    #[test]
    fn rule_ids_old_and_dated_name_their_folder() {
        assert_eq!(parse_rule_id("s3-prune-expire big/"), Some((None, "big/")));
        assert_eq!(
            parse_rule_id("s3-prune-expire@2026-12-04 sites/big/"),
            Some((NaiveDate::from_ymd_opt(2026, 12, 4), "sites/big/"))
        );
        assert_eq!(parse_rule_id("keep-logs"), None);
        assert_eq!(parse_rule_id("s3-prune-expire@yesterday big/"), None);
    }
}
