//! Word after every apply and restore: a JSON summary POSTed to each `--notify` URL, with a
//! `text` field a Slack or Mattermost incoming webhook shows as it is. A notification that fails
//! is logged and retried a few times, and never fails the run it reports.

use audit::Record;
use http_body_util::Full;
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde::Serialize;
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// Tries per URL, and how long each may take.
const ATTEMPTS: u32 = 3;
const TIMEOUT: Duration = Duration::from_secs(5);

/// A webhook address: `http://` or `https://`, checked when given. Its path, query and any
/// `user:password@` are its secret: they are never shown (`Display` and `Debug` give scheme,
/// host and port only; a bad address is not echoed either).
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookUrl(hyper::Uri);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not a webhook URL: give an http:// or https:// address (e.g. a Slack incoming webhook)")]
pub struct BadWebhookUrl(String);

/// What may be shown of an address someone gave: its scheme and host, never the rest.
fn shown(s: &str) -> String {
    let s = s.trim();
    let (scheme, rest) = s.split_once("://").unwrap_or(("", s));
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    match (scheme, host) {
        ("", _) | (_, "") => "…".into(),
        _ => format!("{scheme}://{host}/…"),
    }
}

impl FromStr for WebhookUrl {
    type Err = BadWebhookUrl;
    fn from_str(s: &str) -> Result<Self, BadWebhookUrl> {
        let uri: hyper::Uri = s.trim().parse().map_err(|_| BadWebhookUrl(shown(s)))?;
        match (uri.scheme_str(), uri.host()) {
            (Some("http" | "https"), Some(_)) => Ok(WebhookUrl(uri)),
            _ => Err(BadWebhookUrl(shown(s))),
        }
    }
}

impl fmt::Display for WebhookUrl {
    /// Scheme, host and port only: this goes into logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let port = self
            .0
            .port_u16()
            .map(|p| format!(":{p}"))
            .unwrap_or_default();
        write!(
            f,
            "{}://{}{port}/…",
            self.0.scheme_str().unwrap_or(""),
            self.0.host().unwrap_or("")
        )
    }
}

impl fmt::Debug for WebhookUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "WebhookUrl({self})")
    }
}

/// What a notification says.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// One line for people (Slack's and Mattermost's `text`).
    pub text: String,
    /// `apply`, `restore`, or `approval` (a request and its decision).
    pub kind: &'static str,
    pub bucket: String,
    pub prefix: String,
    pub who: String,
    pub source: String,
    pub status: String,
    /// The audit record's number, when the journal gives one.
    pub audit_id: Option<i64>,
    pub policy: serde_json::Value,
    /// Deployments deleted (apply) or restored (restore).
    pub deployments: Vec<String>,
    pub objects: u64,
    pub bytes: u64,
    pub failures: usize,
    pub duration_ms: u64,
}

/// The run a restore undid, as it was named: `#N` (a record number) or its run id.
fn undone(r: &Record) -> String {
    match (
        r.restore_of,
        r.policy.get("restore_of").and_then(|v| v.as_str()),
    ) {
        (Some(n), _) => format!("#{n}"),
        (None, Some(id)) => id.to_string(),
        (None, None) => "?".into(),
    }
}

impl Summary {
    /// The summary of a finished apply's or restore's record.
    pub fn of(r: &Record) -> Summary {
        let restore = r.is_restore();
        let list = r.deployments();
        let objects = if restore {
            list.iter().map(|d| d.objects).sum()
        } else {
            r.deleted_objects
        };
        let place = if r.prefix.is_empty() {
            r.bucket.clone()
        } else {
            format!("{}/{}", r.bucket, r.prefix)
        };
        let what = if restore {
            format!(
                "restored {} deployment(s) ({objects} objects) of run {} in {place}",
                list.len(),
                undone(r)
            )
        } else {
            format!(
                "deleted {} deployment(s) ({objects} objects, {}) from {place}",
                list.len(),
                retention::human_size(r.deleted_bytes)
            )
        };
        let failures = if r.failures.is_empty() {
            String::new()
        } else {
            format!(" — {} failure(s), status {}", r.failures.len(), r.status)
        };
        let audit = r.id.map(|i| format!(", audit #{i}")).unwrap_or_default();
        Summary {
            text: format!(
                "s3-prune {what}{failures} (by {} via {}, {:.1} s{audit})",
                r.who,
                r.source,
                r.duration_ms as f64 / 1000.0
            ),
            kind: if restore { "restore" } else { "apply" },
            bucket: r.bucket.clone(),
            prefix: r.prefix.clone(),
            who: r.who.clone(),
            source: r.source.clone(),
            status: r.status.to_string(),
            audit_id: r.id,
            policy: r.policy.clone(),
            deployments: list.iter().map(|d| d.id.clone()).collect(),
            objects,
            bytes: if restore { 0 } else { r.deleted_bytes },
            failures: r.failures.len(),
            duration_ms: r.duration_ms,
        }
    }
}

/// Sends a run's summary to every configured webhook.
#[derive(Debug, Clone, Default)]
pub struct Notifier {
    urls: Vec<WebhookUrl>,
    /// Sending stops here, whatever is still trying (the scheduled job's deadline: a slow
    /// webhook must not turn a run's answer into "Task timed out").
    until: Option<tokio::time::Instant>,
}

impl Notifier {
    pub fn new(urls: Vec<WebhookUrl>) -> Notifier {
        Notifier { urls, until: None }
    }

    /// This notifier, giving up at `until` (logged) on what has not been delivered by then.
    pub fn until(&self, until: tokio::time::Instant) -> Notifier {
        Notifier {
            urls: self.urls.clone(),
            until: Some(until),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.urls.is_empty()
    }

    /// POSTs `record`'s summary to each URL (concurrently), retrying each a few times. Never
    /// fails: what could not be delivered is logged. Returns how many URLs took it.
    pub async fn send(&self, record: &Record) -> usize {
        self.send_summary(&Summary::of(record)).await
    }

    /// POSTs `summary` to each URL, as [`Notifier::send`] does.
    pub async fn send_summary(&self, summary: &Summary) -> usize {
        if self.urls.is_empty() {
            return 0;
        }
        let body = match serde_json::to_vec(summary) {
            Ok(b) => Bytes::from(b),
            Err(e) => {
                tracing::warn!(error = %e, "notification not sent: the summary did not serialize");
                return 0;
            }
        };
        let sends = self.urls.iter().map(|u| deliver(u, body.clone()));
        let all = futures::future::join_all(sends);
        let sent = match self.until {
            None => all.await,
            Some(until) => match tokio::time::timeout_at(until, all).await {
                Ok(sent) => sent,
                Err(_) => {
                    tracing::warn!("notifications given up: the run's time is up");
                    return 0;
                }
            },
        };
        sent.into_iter().filter(|ok| *ok).count()
    }
}

async fn deliver(url: &WebhookUrl, body: Bytes) -> bool {
    let https = match hyper_rustls::HttpsConnectorBuilder::new()
        .with_provider_and_native_roots(rustls::crypto::aws_lc_rs::default_provider())
    {
        Ok(b) => b.https_or_http().enable_http1().build(),
        Err(e) => {
            tracing::warn!(url = %url, error = %e, "notification not sent: no TLS root certificates");
            return false;
        }
    };
    let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new()).build(https);
    for attempt in 1..=ATTEMPTS {
        let req = hyper::Request::post(url.0.clone())
            .header("content-type", "application/json")
            .header(
                "user-agent",
                concat!("s3-prune/", env!("CARGO_PKG_VERSION")),
            )
            .body(Full::new(body.clone()));
        let req = match req {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(url = %url, error = %e, "notification not sent");
                return false;
            }
        };
        let why = match tokio::time::timeout(TIMEOUT, client.request(req)).await {
            Ok(Ok(resp)) if resp.status().is_success() => return true,
            Ok(Ok(resp)) => format!("answered {}", resp.status()),
            Ok(Err(e)) => e.to_string(),
            Err(_) => format!("no answer within {} s", TIMEOUT.as_secs()),
        };
        tracing::warn!(url = %url, attempt, error = %why, "notification failed");
        if attempt < ATTEMPTS {
            tokio::time::sleep(Duration::from_millis(500 * u64::from(attempt))).await;
        }
    }
    tracing::error!(url = %url, "notification not delivered after {ATTEMPTS} attempts (the run itself is unaffected)");
    false
}

#[cfg(test)]
mod tests {
    use super::{Summary, WebhookUrl};

    #[test]
    fn a_restore_named_by_run_id_is_told_as_a_restore_of_that_run() {
        let mut r = audit::Record::begin("ops", "dashboard", "b", "", chrono::Utc::now());
        r.policy = serde_json::json!({ "restore_of": "20261204T013000123Z-9f3a61c2" });
        r.restored = vec![audit::DeletedDeployment {
            id: "d1".into(),
            objects: 3,
            bytes: 0,
        }];
        let s = Summary::of(&r);
        assert_eq!(s.kind, "restore");
        assert!(
            s.text.contains(
                "restored 1 deployment(s) (3 objects) of run 20261204T013000123Z-9f3a61c2"
            ),
            "{}",
            s.text
        );
    }

    #[test]
    fn a_webhooks_credentials_path_and_query_never_reach_a_log_or_an_error() {
        let url: WebhookUrl =
            "https://bot:s3cr3t@hooks.example.com:8443/services/T0/B1/XyZ?token=abc"
                .parse()
                .unwrap();
        for shown in [url.to_string(), format!("{url:?}")] {
            assert_eq!(
                shown
                    .trim_start_matches("WebhookUrl(")
                    .trim_end_matches(')'),
                "https://hooks.example.com:8443/…"
            );
        }
        let err = "ftp://bot:s3cr3t@hooks.example.com/services/XyZ"
            .parse::<WebhookUrl>()
            .unwrap_err()
            .to_string();
        assert!(
            !err.contains("s3cr3t") && !err.contains("XyZ"),
            "a bad address is not echoed whole: {err}"
        );
        assert!(err.contains("ftp://hooks.example.com/…"), "{err}");
    }
}
