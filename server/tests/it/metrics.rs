//! `serve --metrics-addr` (issue 28): Prometheus scrapes the buckets' standing — overdue
//! deployments, each front end's last success — with no dashboard session, read here by a
//! Prometheus text-format parser.

use crate::common::Run;
use crate::serve::{request, serve_env};
use bucket::testkit::{fresh_bucket, put_many};
use std::time::Duration;

fn scrape(addr: &str) -> prometheus_parse::Scrape {
    let r = request(addr, "GET", "/metrics", &[], "");
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        r.header("content-type")
            .is_some_and(|t| t.starts_with("application/openmetrics-text")),
        "{:?}",
        r.header("content-type")
    );
    let lines = r.body.lines().map(|l| Ok(l.to_string()));
    prometheus_parse::Scrape::parse(lines).expect("Prometheus text format")
}

/// The value of `name{bucket=…, extra…}`, if scraped.
fn value(s: &prometheus_parse::Scrape, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    s.samples
        .iter()
        .find(|x| x.metric == name && labels.iter().all(|(k, v)| x.labels.get(k) == Some(v)))
        .map(|x| match x.value {
            prometheus_parse::Value::Gauge(v) | prometheus_parse::Value::Untyped(v) => v,
            ref other => panic!("{name} is not a gauge: {other:?}"),
        })
}

#[tokio::test]
async fn metrics_show_overdue_deployments_and_the_last_success_after_an_apply() {
    let b = fresh_bucket("metrics").await;
    for (id, at) in [
        ("march", "2026-03-01T00:00:00Z"),
        ("april", "2026-04-01T00:00:00Z"),
        ("may", "2026-05-01T00:00:00Z"),
    ] {
        put_many(&b, [format!("{id}/index.html")], &[("deployed-at", at)]).await;
    }
    let s = serve_env(
        b.name(),
        &[
            "--date-source",
            "meta:deployed-at",
            "--schedule",
            "cron(0 3 * * ? *)",
            "--schedule-retain",
            "1",
            "--metrics-addr",
            "127.0.0.1:0",
        ],
        &[],
    );
    let metrics = loop {
        let line = s
            .stderr
            .recv_timeout(Duration::from_secs(20))
            .expect("the metrics address is printed");
        if let Some(a) = line.strip_prefix("Prometheus metrics on http://") {
            break a.trim_end_matches("/metrics").to_string();
        }
    };
    let bucket = [("bucket", b.name())];
    let before = scrape(&metrics);
    assert_eq!(value(&before, "s3prune_up", &bucket), Some(1.0));
    assert_eq!(value(&before, "s3prune_deployments", &bucket), Some(3.0));
    assert_eq!(
        value(&before, "s3prune_overdue_deployments", &bucket),
        Some(2.0),
        "march and april have been deletable since spring"
    );
    assert_eq!(
        value(
            &before,
            "s3prune_last_success_timestamp_seconds",
            &[("bucket", b.name()), ("source", "cli")]
        ),
        None
    );

    Run::apply(b.name(), 1).meta_dated().ok();
    let after = scrape(&metrics);
    let at = value(
        &after,
        "s3prune_last_success_timestamp_seconds",
        &[("bucket", b.name()), ("source", "cli")],
    )
    .expect("the CLI's success is scraped");
    let now = chrono::Utc::now().timestamp() as f64;
    assert!((now - at).abs() < 120.0, "last success {at}, now {now}");
    assert_eq!(
        value(&after, "s3prune_overdue_deployments", &bucket),
        Some(0.0),
        "the scan is made afresh once a run ended after it"
    );
    assert_eq!(
        value(
            &after,
            "s3prune_runs",
            &[("bucket", b.name()), ("status", "finished")]
        ),
        Some(1.0)
    );
    assert_eq!(value(&after, "s3prune_lease_held", &bucket), Some(0.0));
    // The dashboard's own listener does not serve it.
    assert_ne!(request(&s.addr, "GET", "/metrics", &[], "").status, 200);
    // DNS rebinding: a page of another site whose name resolves here names itself as the
    // Host. Refused (before, it read every bucket's standing); by IP address it is served.
    let port = metrics.rsplit_once(':').unwrap().1;
    let (evil, local) = (format!("evil.example:{port}"), format!("localhost:{port}"));
    let rebound = request(&metrics, "GET", "/metrics", &[("host", evil.as_str())], "");
    assert_eq!(rebound.status, 421, "{}", rebound.body);
    assert!(!rebound.body.contains(b.name()), "{}", rebound.body);
    let by_name = request(&metrics, "GET", "/metrics", &[("host", local.as_str())], "");
    assert_eq!(by_name.status, 200, "{}", by_name.body);
}

#[tokio::test]
async fn a_metrics_address_in_use_stops_serve_with_a_clear_error() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    Run::new(&[
        "serve",
        "--bucket",
        "any",
        "--localstack",
        "--addr",
        "127.0.0.1:0",
    ])
    .args(&["--metrics-addr", &addr])
    .fails_with(&format!("--metrics-addr {addr}: cannot listen there"));
}
