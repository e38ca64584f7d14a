//! Step 1: every deployment's date under the policy's date source (a remembered first-seen
//! date, LastModified, or a `meta:` value with its fallback), newest first.

use crate::plan::Warning;
#[cfg(test)]
use crate::Policy;
use crate::{DateOrigin, DateSource, Deployment, DeploymentId, Inventory, MetaFallback};
use chrono::{DateTime, Utc};

/// A deployment with the date it is ranked by.
#[derive(Debug, Clone, Copy)]
pub struct Dated<'a> {
    /// The deployment as listed.
    pub d: &'a Deployment,
    /// The date it is ranked by.
    pub date: DateTime<Utc>,
    /// Where that date came from.
    pub origin: DateOrigin,
}

impl Dated<'_> {
    /// How old it is at `now`, in seconds (negative for a date in the future).
    pub fn age_secs(&self, now: DateTime<Utc>) -> i64 {
        (now - self.date).num_seconds()
    }
}

/// A deployment's place in step 1's order: where it is in the inventory, and its date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(in crate::plan) struct Slot {
    index: usize,
    date: DateTime<Utc>,
    origin: DateOrigin,
}

impl Slot {
    /// The deployment of `inventory` (the one this slot was made from) with its date.
    pub(in crate::plan) fn dated<'a>(&self, inventory: &'a Inventory) -> Dated<'a> {
        Dated {
            d: &inventory.deployments[self.index],
            date: self.date,
            origin: self.origin,
        }
    }
}

/// Step 1: every deployment's date, newest first (equal dates by id ascending: one total
/// order for ranking and display), and a warning per `meta:` date that fell back or is
/// unknown, in that order — so the plan does not depend on the order of the listing.
pub(in crate::plan) fn order(
    inventory: &Inventory,
    source: &DateSource,
    fallback: Option<MetaFallback>,
) -> (Vec<Slot>, Vec<Warning>) {
    let ds = &inventory.deployments;
    let mut dated: Vec<(Slot, Option<Warning>)> = ds
        .iter()
        .enumerate()
        .map(|(index, d)| {
            let (date, origin, warning) = match remembered(inventory, d, source) {
                Some(date) => (date, DateOrigin::Remembered, None),
                None => resolve_date(d, source, fallback, inventory),
            };
            let slot = Slot {
                index,
                date,
                origin,
            };
            (slot, warning)
        })
        .collect();
    dated.sort_by(|(a, _), (b, _)| {
        (b.date.cmp(&a.date)).then_with(|| ds[a.index].id.cmp(&ds[b.index].id))
    });
    let mut warnings: Vec<Warning> = dated.iter_mut().filter_map(|(_, w)| w.take()).collect();
    let reset: Vec<DeploymentId> = dated
        .iter()
        .filter(|(x, _)| x.origin == DateOrigin::Remembered)
        .map(|(x, _)| ds[x.index].id.clone())
        .collect();
    if !reset.is_empty() {
        warnings.push(Warning::DatesReset { ids: reset });
    }
    (dated.into_iter().map(|(s, _)| s).collect(), warnings)
}

/// Step 1 with the deployments themselves, under `policy`'s date source.
#[cfg(test)]
pub(in crate::plan) fn dated_newest_first<'a>(
    inventory: &'a Inventory,
    policy: &Policy,
) -> (Vec<Dated<'a>>, Vec<Warning>) {
    let (slots, warnings) = order(inventory, &policy.date_source, policy.meta_fallback);
    let dated = slots.iter().map(|s| s.dated(inventory)).collect();
    (dated, warnings)
}

/// The first-seen date of a deployment whose LastModified was reset (same content), for the
/// LastModified date sources (a `meta:` date travels with a copy).
fn remembered(inventory: &Inventory, d: &Deployment, source: &DateSource) -> Option<DateTime<Utc>> {
    let r = inventory.remembered.iter().find(|r| r.id == d.id)?;
    match source {
        DateSource::Newest => Some(r.newest),
        DateSource::Oldest => Some(r.oldest),
        DateSource::Meta(_) => None,
    }
}

/// One deployment's date from the date source. A `meta:` date that is absent or not a deploy
/// date ([`meta_date`]) is dated by its objects when `fallback` says so (with a warning) — by
/// their first-seen dates where their LastModified was reset (a copy in place that dropped the
/// metadata); otherwise its date is unknown (it is shown at its newest object's date, and kept).
fn resolve_date(
    d: &Deployment,
    source: &DateSource,
    fallback: Option<MetaFallback>,
    inventory: &Inventory,
) -> (DateTime<Utc>, DateOrigin, Option<Warning>) {
    match source {
        DateSource::Newest => (d.newest, DateOrigin::Newest, None),
        DateSource::Oldest => (d.oldest, DateOrigin::Oldest, None),
        DateSource::Meta(key) => {
            let problem = match d.meta.as_deref() {
                None => "is absent".to_string(),
                Some(raw) => match meta_date(raw) {
                    Ok(t) => return (t, DateOrigin::Meta, None),
                    Err(problem) => problem,
                },
            };
            let (id, key) = (d.id.clone(), key.clone());
            match fallback {
                None => (
                    d.newest,
                    DateOrigin::Unknown,
                    Some(Warning::DateUnknown { id, key, problem }),
                ),
                Some(by) => {
                    let first = inventory.remembered.iter().find(|r| r.id == d.id);
                    let date = match (by, first) {
                        (MetaFallback::Newest, Some(r)) => r.newest,
                        (MetaFallback::Oldest, Some(r)) => r.oldest,
                        (MetaFallback::Newest, None) => d.newest,
                        (MetaFallback::Oldest, None) => d.oldest,
                    };
                    let w = Warning::MetaFallback {
                        id,
                        key,
                        problem,
                        by,
                    };
                    (date, DateOrigin::MetaFallback, Some(w))
                }
            }
        }
    }
}

/// When S3 opened (2006-03-14T00:00:00Z, in seconds since the epoch): no deployment in a
/// bucket was deployed before.
const S3_OPENED_SECS: i64 = 1_142_294_400;

/// A `meta:` value as a deploy date, or what is wrong with it (said after the key in the
/// warning). An RFC 3339 date before S3 existed is not one: it is what a pipeline writes when
/// it failed to set the deploy time (Go's zero time 0001-01-01, the Unix epoch 1970-01-01),
/// and believed it would rank a deployment uploaded a moment ago the oldest of all.
fn meta_date(raw: &str) -> Result<DateTime<Utc>, String> {
    let t = DateTime::parse_from_rfc3339(raw.trim())
        .map_err(|_| format!("'{raw}' is not an RFC 3339 date"))?
        .with_timezone(&Utc);
    if t.timestamp() < S3_OPENED_SECS {
        return Err(format!(
            "'{raw}' is before S3 existed (2006-03-14): not a deploy date"
        ));
    }
    Ok(t)
}
