//! The start page's figures for every configured bucket: scanned concurrently (a few at a
//! time, from the cache when it has them), each planned with the configured policy by the
//! retention core, each with its own error, time, undo window and last apply.

use super::{AppState, CachedScan};
use crate::wire::{
    BucketSummary, Forecast, LastApply, OverviewRow, RunCount, SourceSuccess, OVERDUE_AFTER_SECS,
};
use futures::stream::{self, StreamExt};
use retention::{Policy, PolicySpec};
use std::time::Instant;

/// Buckets scanned at once for the start page.
const AT_ONCE: usize = 4;
/// A bucket's runs read for its row: its newest hundred, whatever other buckets ran since.
const RUNS_READ: usize = 100;

impl AppState {
    /// The policy the start page forecasts with: `serve --policy`, else the scheduled job's.
    fn forecast_policy(&self) -> Option<Policy> {
        let cfg = &self.config;
        let imposed = self.imposed().spec();
        let spec = match (&cfg.rules, &cfg.schedule) {
            (Some(rules), _) => PolicySpec {
                rules: Some(rules.clone()),
                ..imposed
            },
            (None, Some(s)) => PolicySpec {
                retain: Some(s.retain),
                min_retain_days: s.min_days,
                ..imposed
            },
            (None, None) => return None,
        };
        spec.build().ok()
    }

    pub fn bucket_count(&self) -> usize {
        self.config.buckets.len()
    }

    pub async fn overview(&self) -> Vec<OverviewRow> {
        self.overview_within(None).await
    }

    /// [`AppState::overview`], with scans older than `max_age` made afresh (the metrics). A
    /// scan older than a run that ended since is made afresh either way.
    pub async fn overview_within(&self, max_age: Option<chrono::TimeDelta>) -> Vec<OverviewRow> {
        let policy = self.forecast_policy();
        stream::iter(self.config.buckets.clone())
            .map(|c| {
                let policy = policy.clone();
                async move {
                    // Every front end's runs of this bucket: this server's log and its journal
                    // (its newest hundred, however many other buckets had since).
                    let history = self.history_of(&c, RUNS_READ).await.unwrap_or_default();
                    let ours: Vec<&audit::Record> = history.iter().collect();
                    let (mut last_successes, lease_held) = self.standing(&c, &ours).await;
                    let start = Instant::now();
                    let scan = match self.bucket(&c).await {
                        Ok(b) => self.scan_since(&c, &b, &last_successes, max_age).await,
                        Err(e) => Err(e),
                    };
                    // Late by S3's clock, which dated the notes, once the scan told it.
                    if let Ok(s) = &scan {
                        super::notes::late_by(&mut last_successes, s.skew.now());
                    }
                    let scan_ms = start.elapsed().as_millis() as u64;
                    let last_apply = ours.iter().find(|r| !r.is_restore()).map(|r| LastApply {
                        run: super::history::label(r),
                        source: r.source.clone(),
                        at: r.started_at,
                        status: r.status.to_string(),
                        deleted: r.deleted.len() as u64,
                    });
                    OverviewRow {
                        bucket: c,
                        scan: scan
                            .map(|s| summary(&s, policy.as_ref()))
                            .map_err(|e| e.to_string()),
                        scan_ms,
                        last_apply,
                        last_successes,
                        runs: run_counts(&ours),
                        lease_held,
                    }
                }
            })
            .buffered(AT_ONCE)
            .collect::<Vec<_>>()
            .await
    }
}

impl AppState {
    /// The cached scan, made afresh when a run ended after it or it is older than `max_age`.
    async fn scan_since(
        &self,
        c: &crate::wire::BucketChoice,
        b: &bucket::Bucket,
        last: &[SourceSuccess],
        max_age: Option<chrono::TimeDelta>,
    ) -> Result<CachedScan, super::AppError> {
        let scan = self.cached_scan(c, b, false).await?.scan;
        let now = scan.skew.now();
        let run_since = super::notes::ran_since(last, scan.scanned_at, now);
        let too_old = max_age.is_some_and(|m| now - scan.scanned_at > m);
        if run_since || too_old {
            // Forgotten rather than rescanned: a Rescan within seconds of the last scan would
            // be answered from the cache, and this one is known to be out of date.
            self.scans.forget(&c.key);
            return Ok(self.cached_scan(c, b, false).await?.scan);
        }
        Ok(scan)
    }

    /// Each front end's last successful run (the notes, and `runs`: the bucket's records the
    /// overview already read) and whether the lease is held; what cannot be read shows as
    /// nothing (the scan's own error says why).
    async fn standing(
        &self,
        c: &crate::wire::BucketChoice,
        runs: &[&audit::Record],
    ) -> (Vec<SourceSuccess>, bool) {
        let Ok(b) = self.bucket(c).await else {
            return (Vec::new(), false);
        };
        let (noted, lease) = futures::join!(prune::health::noted_successes(&b), b.read_lease());
        // Late by this host's clock until a scan tells S3's (`overview_within`).
        let last = super::notes::successes_of(
            noted.map(|n| prune::health::with_runs(n, runs.iter().copied())),
            chrono::Utc::now(),
        );
        let held = matches!(lease, Ok(Some((h, _))) if h.expires > chrono::Utc::now());
        (last, held)
    }
}

/// Runs on record by status, in a fixed order.
fn run_counts(records: &[&audit::Record]) -> Vec<RunCount> {
    let mut counts: std::collections::BTreeMap<String, u64> = Default::default();
    for r in records {
        *counts.entry(r.status.to_string()).or_default() += 1;
    }
    counts
        .into_iter()
        .map(|(status, count)| RunCount { status, count })
        .collect()
}

fn summary(s: &CachedScan, policy: Option<&Policy>) -> BucketSummary {
    let inv = &s.inventory;
    BucketSummary {
        deployments: inv.deployments.len() as u64,
        bytes: inv.deployments.iter().map(|d| d.bytes).sum(),
        scanned_at: s.scanned_at,
        undo_window: s.undo_window.clone(),
        forecast: policy.map(|p| {
            // From the scan's order (dated once); re-dated if the policy's date source differs.
            let plan = s.ordered.plan(p, s.skew.now());
            Forecast {
                policy: match &p.rules {
                    Some(r) => format!("{} rule(s)", r.as_slice().len()),
                    None => p.to_string(),
                },
                delete_deployments: plan.summary.delete.deployments,
                delete_bytes: plan.summary.delete.bytes,
                blocked: !plan.blocked.is_empty(),
                overdue_deployments: plan
                    .overdue(retention::Span::from_secs(OVERDUE_AFTER_SECS))
                    .len() as u64,
            }
        }),
    }
}
