//! The undo window: how long deleted deployments stay restorable, read from (and set in) the
//! bucket's versioning and lifecycle configuration. `set_undo_window` merges one rule of its
//! own (by id) into the existing rules and never replaces the others.

use crate::lifecycle_config::{invalid_lifecycle, longer_noncurrent_rules, rule_prefix};
use crate::{Bucket, S3Error};
use aws_sdk_s3::types::{
    ExpirationStatus, LifecycleExpiration, LifecycleRule, LifecycleRuleFilter,
    NoncurrentVersionExpiration,
};
use retention::Versioning;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The id of the lifecycle rule s3-prune manages for `prefix`.
pub fn undo_rule_id(prefix: &str) -> String {
    if prefix.is_empty() {
        "s3-prune-undo-window".into()
    } else {
        format!("s3-prune-undo-window {}", prefix.trim_end_matches('/'))
    }
}

/// What the bucket's configuration says about undoing a delete.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UndoWindow {
    pub versioning: Versioning,
    /// The shortest NoncurrentVersionExpiration of an enabled rule covering the prefix.
    pub noncurrent_days: Option<i32>,
}

impl UndoWindow {
    /// The sentence a plan shows, from a scan's versioning and [`Bucket::noncurrent_days`];
    /// best effort: without s3:GetLifecycleConfiguration it says "unknown" and why.
    pub fn describe(versioning: Versioning, days: Result<Option<i32>, S3Error>) -> String {
        match days {
            Ok(noncurrent_days) => UndoWindow {
                versioning,
                noncurrent_days,
            }
            .to_string(),
            Err(e) => format!("unknown ({e})"),
        }
    }
}

impl fmt::Display for UndoWindow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.versioning, self.noncurrent_days) {
            (Versioning::Unversioned, _) => f.write_str("no undo: the bucket is not versioned"),
            (Versioning::Suspended, _) => f.write_str("no undo: versioning is suspended"),
            (Versioning::Unknown, _) => {
                f.write_str("no undo known: the server does not report bucket versioning")
            }
            (Versioning::Enabled, Some(d)) => write!(
                f,
                "deleted deployments can be restored for {d} day{}",
                if d == 1 { "" } else { "s" }
            ),
            (Versioning::Enabled, None) => f.write_str(
                "deleted deployments can be restored until their old versions are removed (no expiry rule)",
            ),
        }
    }
}

impl Bucket {
    /// The undo window of this bucket and prefix.
    pub async fn undo_window(&self) -> Result<UndoWindow, S3Error> {
        // Two independent requests, made at once; the versioning error is reported first.
        let (versioning, days) = futures::join!(self.versioning(), self.noncurrent_days());
        Ok(UndoWindow {
            versioning: versioning?,
            noncurrent_days: days?,
        })
    }

    /// The shortest NoncurrentVersionExpiration of an enabled rule covering the prefix: the
    /// undo window's length when versioning is on. Read beside a scan, which reads the
    /// versioning itself ([`UndoWindow::describe`] puts the two together).
    pub async fn noncurrent_days(&self) -> Result<Option<i32>, S3Error> {
        Ok(self.shortest_noncurrent(&self.lifecycle_rules().await?))
    }

    /// The shortest NoncurrentVersionExpiration among `rules` enabled over the whole prefix
    /// (rules without a filter cover everything).
    fn shortest_noncurrent(&self, rules: &[LifecycleRule]) -> Option<i32> {
        let covers = |r: &LifecycleRule| self.prefix.starts_with(rule_prefix(r));
        rules
            .iter()
            .filter(|r| r.status() == &ExpirationStatus::Enabled && covers(r))
            .filter_map(|r| r.noncurrent_version_expiration()?.noncurrent_days())
            .min()
    }

    /// Enables versioning and sets s3-prune's lifecycle rule for the prefix: old versions
    /// expire `days` after they stop being current, expired delete markers are removed. Every
    /// other rule is kept as it is. On a bucket that keeps old versions under the prefix for
    /// ever now (versioning on or suspended, no rule expiring them), only with `expire_kept`:
    /// S3 would permanently delete every one older than the window, of any key there.
    pub async fn set_undo_window(
        &self,
        days: i32,
        expire_kept: bool,
    ) -> Result<UndoWindowSet, S3Error> {
        let id = undo_rule_id(&self.prefix);
        if id.chars().count() > 255 {
            return Err(invalid_lifecycle(
                "InvalidArgument",
                format!("the undo window's rule id '{id}' is longer than S3 takes (255 characters), so this prefix cannot have one: nothing was changed. Give the prefix a NoncurrentVersionExpiration rule of your own"),
            ));
        }
        let (versioning, seen) = futures::join!(self.versioning(), self.read_lifecycle());
        let (versioning_before, seen) = (versioning?, seen?);
        // S3 applies the shortest expiry: a window shorter than a user's rule over the same
        // keys would silently cut theirs. Refused, before anything is changed.
        if let Some((rule, scope, theirs)) =
            longer_noncurrent_rules(&seen.rules, &self.prefix, days, &id).first()
        {
            return Err(S3Error::WouldShorten {
                rule: rule.to_string(),
                scope: if scope.is_empty() {
                    "the whole bucket".into()
                } else {
                    format!("'{scope}'")
                },
                theirs: *theirs,
                days,
            });
        }
        // Old versions kept for ever now: the new rule would purge years of them at once.
        let keeps_versions = matches!(
            versioning_before,
            Versioning::Enabled | Versioning::Suspended
        );
        if keeps_versions && !expire_kept && self.shortest_noncurrent(&seen.rules).is_none() {
            return Err(S3Error::WouldExpireKept {
                scope: if self.prefix.is_empty() {
                    "the whole bucket".into()
                } else {
                    format!("'{}'", self.prefix)
                },
                versioning: match versioning_before {
                    Versioning::Suspended => "versioning suspended".into(),
                    _ => "versioning on".into(),
                },
                days,
            });
        }
        let mut rules: Vec<LifecycleRule> = seen
            .rules
            .iter()
            .filter(|r| r.id() != Some(id.as_str()))
            .cloned()
            .collect();
        let others = rules.len();
        if others >= crate::LIFECYCLE_RULES_MAX {
            return Err(S3Error::LifecycleFull {
                bucket: self.name.clone(),
                rules: seen.rules.len(),
            });
        }
        let rule = LifecycleRule::builder()
            .id(&id)
            .status(ExpirationStatus::Enabled)
            .filter(LifecycleRuleFilter::builder().prefix(&self.prefix).build())
            .noncurrent_version_expiration(
                NoncurrentVersionExpiration::builder()
                    .noncurrent_days(days)
                    .build(),
            )
            .expiration(
                LifecycleExpiration::builder()
                    .expired_object_delete_marker(true)
                    .build(),
            )
            .build()
            .map_err(|e| invalid_lifecycle("InvalidRule", e))?;
        rules.push(rule);
        // The rule first: it does nothing on a bucket without versions, while versioning
        // enabled without it would keep every old version for ever if the rule then failed.
        self.write_lifecycle(&seen, rules).await?;
        self.enable_versioning().await?;
        Ok(UndoWindowSet {
            window: self.undo_window().await?,
            others,
            versioning_before,
        })
    }
}

/// What [`Bucket::set_undo_window`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UndoWindowSet {
    /// The window now in force.
    pub window: UndoWindow,
    /// The bucket's other lifecycle rules, kept as they were.
    pub others: usize,
    /// The bucket's versioning before: S3 asks for 15 minutes after versioning is first
    /// enabled before objects are written or deleted (deletes meanwhile may not be undoable).
    pub versioning_before: Versioning,
}
