//! `serve --metrics-addr ADDR`: the buckets' standing in Prometheus text format (OpenMetrics,
//! by `prometheus-client`) on a listener of its own, with no dashboard session — what a
//! Prometheus scrapes and alerts on. Each scrape reads what the overview reads (scans from the
//! dashboard's cache, the journal, the lease).

use anyhow::{Context, Result};
use app::server::AppState;
use app::wire::OverviewRow;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use prometheus_client::encoding::text::encode;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BucketLabel {
    bucket: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SourceLabel {
    bucket: String,
    source: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StatusLabel {
    bucket: String,
    status: String,
}

/// How old a cached scan may be when scraped.
const MAX_SCAN_AGE: chrono::TimeDelta = chrono::TimeDelta::minutes(5);

type Gauges<L> = Family<L, Gauge>;
type Seconds<L> = Family<L, Gauge<f64, AtomicU64>>;

/// Binds `addr` (a clear error when it is in use) and serves `/metrics` there until the
/// process ends, to requests for an IP address, `localhost` or one of `allowed_hosts` (the
/// dashboard's, any port). Returns the address bound.
pub async fn start(
    addr: SocketAddr,
    state: Arc<AppState>,
    allowed_hosts: &[String],
) -> Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind(addr).await.with_context(|| {
        format!("--metrics-addr {addr}: cannot listen there (in use?); give another address")
    })?;
    let bound = listener.local_addr()?;
    let names: Arc<Vec<String>> = Arc::new(
        (allowed_hosts.iter())
            .map(|h| host_name(h).to_string())
            .collect(),
    );
    let app = Router::new().route(
        "/metrics",
        get(move |headers: HeaderMap| {
            let (state, names) = (state.clone(), names.clone());
            async move {
                let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
                if !host_allowed(host, &names) {
                    tracing::warn!(?host, "refused a metrics request for a host not allowed");
                    return (
                        StatusCode::MISDIRECTED_REQUEST,
                        "this Host is not one s3-prune serves metrics for: scrape it by IP \
                         address, or add the name with --allowed-host",
                    )
                        .into_response();
                }
                scrape(&state).await.into_response()
            }
        }),
    );
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!(error = %e, "the metrics listener stopped");
        }
    });
    Ok(bound)
}

/// DNS rebinding: a page of another site that resolves its own name to this address sends
/// that name as the Host, and reads the answer. An IP address or `localhost` cannot be such a
/// name; any other must be one the dashboard allows (`names`, without their ports). Before,
/// every Host was answered: such a page could read the buckets' names, counts and last runs.
fn host_allowed(host: Option<&str>, names: &[String]) -> bool {
    let Some(host) = host.map(str::to_ascii_lowercase) else {
        return false;
    };
    let name = host_name(&host);
    name == "localhost" || name.parse::<IpAddr>().is_ok() || names.iter().any(|n| n == name)
}

/// A Host's name without its port: `[::1]:9000` → `::1`, `prune.internal:9000` →
/// `prune.internal`.
fn host_name(host: &str) -> &str {
    match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => host.rsplit_once(':').map_or(host, |(name, _)| name),
    }
}

async fn scrape(state: &AppState) -> impl IntoResponse {
    // Fresh enough for a gauge, without a scan on every scrape (each costs S3 requests).
    let rows = state.overview_within(Some(MAX_SCAN_AGE)).await;
    let body = render(&rows);
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        body,
    )
}

/// The rows as OpenMetrics text.
fn render(rows: &[OverviewRow]) -> String {
    let mut registry = Registry::with_prefix("s3prune");
    let up = Gauges::<BucketLabel>::default();
    let deployments = Gauges::<BucketLabel>::default();
    let bytes = Gauges::<BucketLabel>::default();
    let overdue = Gauges::<BucketLabel>::default();
    let reclaimable = Gauges::<BucketLabel>::default();
    let lease = Gauges::<BucketLabel>::default();
    let last_success = Seconds::<SourceLabel>::default();
    let runs = Gauges::<StatusLabel>::default();
    registry.register("up", "1 when the bucket could be scanned", up.clone());
    registry.register(
        "deployments",
        "Deployments in the bucket",
        deployments.clone(),
    );
    registry.register("bytes", "Bytes in the bucket's deployments", bytes.clone());
    registry.register(
        "overdue_deployments",
        "Deployments the configured policy has allowed to delete for more than 2 days",
        overdue.clone(),
    );
    registry.register(
        "reclaimable_bytes",
        "Bytes the configured policy would delete now",
        reclaimable.clone(),
    );
    registry.register(
        "lease_held",
        "1 while an apply holds the bucket's lease",
        lease.clone(),
    );
    registry.register(
        "last_success_timestamp_seconds",
        "When each front end last ended a run well (Unix time)",
        last_success.clone(),
    );
    registry.register(
        "runs",
        "Runs on record (the bucket's newest hundred) by status",
        runs.clone(),
    );
    for r in rows {
        let b = BucketLabel {
            bucket: r.bucket.key.clone(),
        };
        up.get_or_create(&b).set(i64::from(r.scan.is_ok()));
        lease.get_or_create(&b).set(i64::from(r.lease_held));
        if let Ok(s) = &r.scan {
            deployments.get_or_create(&b).set(gauge(s.deployments));
            bytes.get_or_create(&b).set(gauge(s.bytes));
            if let Some(f) = &s.forecast {
                overdue.get_or_create(&b).set(gauge(f.overdue_deployments));
                reclaimable.get_or_create(&b).set(gauge(f.delete_bytes));
            }
        }
        for l in &r.last_successes {
            let label = SourceLabel {
                bucket: b.bucket.clone(),
                source: l.source.clone(),
            };
            last_success
                .get_or_create(&label)
                .set(l.at.timestamp_millis() as f64 / 1000.0);
        }
        for c in &r.runs {
            let label = StatusLabel {
                bucket: b.bucket.clone(),
                status: c.status.clone(),
            };
            runs.get_or_create(&label).set(gauge(c.count));
        }
    }
    let mut out = String::new();
    encode(&mut out, &registry).expect("writing to a String cannot fail");
    out
}

fn gauge(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}
