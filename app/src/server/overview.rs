//! The start page's figures for every configured bucket: scanned concurrently (a few at a
//! time, from the cache when it has them), each planned with the configured policy by the
//! retention core, each with its own error, time, undo window and last apply.

use super::{AppState, CachedScan};
use crate::wire::{BucketSummary, Forecast, LastApply, OverviewRow};
use futures::stream::{self, StreamExt};
use retention::{Policy, PolicySpec};
use std::time::Instant;

/// Buckets scanned at once for the start page.
const AT_ONCE: usize = 4;

impl AppState {
    /// The policy the start page forecasts with: `serve --policy`, else the scheduled job's.
    fn forecast_policy(&self) -> Option<Policy> {
        let cfg = &self.config;
        let spec = match (&cfg.rules, &cfg.schedule) {
            (Some(rules), _) => PolicySpec {
                rules: Some(rules.clone()),
                ..PolicySpec::default()
            },
            (None, Some(s)) => PolicySpec {
                retain: Some(s.retain),
                min_retain_days: s.min_days,
                ..PolicySpec::default()
            },
            (None, None) => return None,
        };
        PolicySpec {
            date_source: Some(cfg.date_source.clone()),
            max_delete: Some(cfg.max_delete),
            ..spec
        }
        .build()
        .ok()
    }

    pub fn bucket_count(&self) -> usize {
        self.config.buckets.len()
    }

    pub async fn overview(&self) -> Vec<OverviewRow> {
        let policy = self.forecast_policy();
        // Every front end's runs: this server's log and each bucket's journal.
        let history = self.history(100).await.unwrap_or_default();
        stream::iter(self.config.buckets.clone())
            .map(|c| {
                let policy = policy.clone();
                let history = &history;
                async move {
                    let start = Instant::now();
                    let scan = match self.bucket(&c).await {
                        Ok(b) => self.cached_scan(&c, &b, false).await.map(|a| a.scan),
                        Err(e) => Err(e),
                    };
                    let scan_ms = start.elapsed().as_millis() as u64;
                    let last_apply = history
                        .iter()
                        .find(|r| {
                            r.restore_of.is_none()
                                && r.policy.get("restore_of").is_none()
                                && r.bucket == c.name
                                && r.prefix == bucket::normalize_prefix(&c.prefix)
                        })
                        .map(|r| LastApply {
                            run: r
                                .id
                                .map(|n| format!("#{n}"))
                                .or_else(|| r.run.clone())
                                .unwrap_or_default(),
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
                    }
                }
            })
            .buffered(AT_ONCE)
            .collect::<Vec<_>>()
            .await
    }
}

fn summary(s: &CachedScan, policy: Option<&Policy>) -> BucketSummary {
    let inv = &s.inventory;
    BucketSummary {
        deployments: inv.deployments.len() as u64,
        bytes: inv.deployments.iter().map(|d| d.bytes).sum(),
        scanned_at: s.scanned_at,
        undo_window: s.undo_window.clone(),
        forecast: policy.map(|p| {
            let plan = retention::plan(inv, p, chrono::Utc::now());
            Forecast {
                policy: match &p.rules {
                    Some(r) => format!("{} rule(s)", r.as_slice().len()),
                    None => p.to_string(),
                },
                delete_deployments: plan.summary.delete.deployments,
                delete_bytes: plan.summary.delete.bytes,
                blocked: !plan.blocked.is_empty(),
            }
        }),
    }
}
