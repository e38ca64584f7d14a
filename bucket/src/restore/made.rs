//! Markers found by their date, not by a record: a deployment's folder listed for the keys whose
//! current version is a delete marker S3 made within a span ([`MadeBetween`]), each brought
//! back with the markers beneath it made since. What S3's lifecycle expiration of a handed
//! folder made, and what a run killed before its end deleted that its answers did not record.

use super::{MarkerToRemove, Restoring};
use crate::{Bucket, S3Error};
use chrono::{DateTime, Utc};
use retention::DeploymentId;
use std::collections::BTreeMap;

/// When the delete markers to bring back were made, by S3's clock: at or after `since`, and
/// up to `until` when given (S3 dates to the second: a marker made in the second `until` names
/// is taken; one another run recorded as its own is told apart by its version id).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MadeBetween {
    pub since: DateTime<Utc>,
    pub until: Option<DateTime<Utc>>,
}

impl MadeBetween {
    fn holds(&self, at: DateTime<Utc>) -> bool {
        at >= self.since && self.until.is_none_or(|until| at <= until)
    }
}

impl Bucket {
    /// Brings back what delete markers made within `span` hide in deployment `id`'s folder:
    /// each key whose current version is such a marker has it removed, with the markers beneath
    /// it made since, when an earlier version is there (a key without one is reported left:
    /// nothing to bring back). A marker among `theirs` (per key, the version ids of markers
    /// another run recorded as its own) is left: that run's restore brings it back. The markers
    /// `restoring` holds are removed first, so those found here are the rest; a key it left or
    /// failed already is not taken again. One listing of
    /// the folder's versions, the markers restored a window at a time as they are found.
    /// Returns why the listing stopped early, if it did (what it found so far is restored).
    /// Needs s3:ListBucketVersions and s3:DeleteObjectVersion.
    pub async fn bring_back_made(
        &self,
        restoring: &mut Restoring,
        id: &DeploymentId,
        span: MadeBetween,
        theirs: &BTreeMap<String, Vec<String>>,
        stop: &crate::Progress,
    ) -> Option<S3Error> {
        restoring.flush(self, stop).await;
        if stop.stop_requested() {
            return None;
        }
        restoring.searched.insert(id.clone());
        let settled = restoring.settled(id);
        let mut pages = crate::pages::VersionPages::new(self, &self.deployment_prefix(id));
        loop {
            let page = match pages.next().await {
                Ok(Some(page)) => page,
                Ok(None) => return None,
                Err(e) => return Some(e),
            };
            for m in page.delete_markers() {
                let Some(key) = m.key() else { continue };
                let version_id = m.version_id().unwrap_or("null");
                let another_runs = theirs
                    .get(key)
                    .is_some_and(|v| v.iter().any(|t| t == version_id));
                if m.is_latest() != Some(true)
                    || another_runs
                    || !span.holds(crate::server_clock::to_chrono(m.last_modified()))
                    || settled.contains(key)
                {
                    continue;
                }
                let marker = MarkerToRemove {
                    key: key.to_string(),
                    version_id: Some(version_id.to_string()),
                    not_before: Some(span.since),
                    later: Vec::new(),
                };
                restoring.push(self, id.clone(), marker, stop).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::MadeBetween;
    use chrono::{Duration, TimeZone, Utc};

    #[test]
    fn a_marker_is_taken_from_the_start_up_to_the_second_the_next_run_began() {
        let since = Utc.with_ymd_and_hms(2026, 12, 8, 10, 0, 0).unwrap();
        let until = since + Duration::minutes(3);
        let span = MadeBetween {
            since,
            until: Some(until),
        };
        assert!(!span.holds(since - Duration::seconds(1)), "before the run");
        assert!(span.holds(since), "at its start");
        assert!(
            span.holds(until),
            "S3's second of the next run's start: told apart by version"
        );
        assert!(
            !span.holds(until + Duration::seconds(1)),
            "after the next run began"
        );
        let open = MadeBetween { since, until: None };
        assert!(
            open.holds(since + Duration::days(400)),
            "no next run: no end"
        );
    }
}
