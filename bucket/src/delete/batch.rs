//! One DeleteObjects request of at most 1,000 keys, with per-key retries for throttled keys;
//! every key the answer names as failed is reported, never hidden.

use super::{KeyFailure, NewMarker};
use crate::Bucket;
use aws_sdk_s3::types::{Delete, ObjectIdentifier};
use std::time::Duration;

/// Rounds for keys a DeleteObjects response reports as throttled or failed internally.
const KEY_RETRIES: u32 = 4;

/// The longest one batch may take, the SDK's retries and the per-key rounds included; past it
/// the batch is abandoned and its keys reported as not known to be deleted. Shorter than the
/// time a run stops before its lease could expire (`prune`'s `STOP_BEFORE_EXPIRY`), so no
/// delete of a run that stopped for its lease is still being sent when another run may take
/// the lease over. (Before, one request could go on for minutes: 6 attempts of up to 120 s.)
pub const BATCH_BUDGET: Duration = Duration::from_secs(20);

fn is_retryable(code: &str) -> bool {
    matches!(
        code,
        "SlowDown" | "InternalError" | "ServiceUnavailable" | "RequestTimeout" | "503" | "500"
    )
}

/// What one DeleteObjects batch answered.
#[derive(Default)]
pub(crate) struct BatchAnswer {
    pub(crate) failed: Vec<KeyFailure>,
    pub(crate) markers: Vec<NewMarker>,
}

impl Bucket {
    /// One DeleteObjects batch, with per-key retries for throttling. Returns the keys that could
    /// not be deleted; quiet mode lists only errors, so every other key of the batch is gone.
    /// With `markers`, the answer is verbose and the delete markers it names are returned.
    pub(crate) async fn delete_batch(
        &self,
        batch: &[(String, Option<String>)],
        markers: bool,
    ) -> BatchAnswer {
        let mut pending: Vec<(String, Option<String>)> = batch.to_vec();
        let mut answer = BatchAnswer::default();
        let failed = &mut answer.failed;
        let mut attempt = 0;
        let until = tokio::time::Instant::now() + BATCH_BUDGET;
        let out_of_time = |pending: &[(String, Option<String>)]| {
            let why = format!(
                "no answer within {} s: not known whether S3 carried it out (the batch was \
                 abandoned so that nothing of this run is sent once its lease could expire)",
                BATCH_BUDGET.as_secs()
            );
            fail_all(pending, &why)
        };
        loop {
            let delete = match request_body(&pending, markers) {
                Ok(d) => d,
                Err(e) => {
                    failed.extend(fail_all(&pending, &e.to_string()));
                    return answer;
                }
            };
            let sent = self
                .client
                .delete_objects()
                .bucket(&self.name)
                .delete(delete)
                .send();
            // Dropped at the budget's end: the SDK sends no further attempt.
            let Ok(res) = tokio::time::timeout_at(until, sent).await else {
                failed.extend(out_of_time(&pending));
                return answer;
            };
            let out = match res {
                Ok(out) => out,
                // The SDK already retried throttling and 5xx with backoff; what is left is reported.
                Err(e) => {
                    let action = if pending.iter().any(|(_, v)| v.is_some()) {
                        "s3:DeleteObjectVersion"
                    } else {
                        "s3:DeleteObject"
                    };
                    failed.extend(fail_all(&pending, &self.err(e, action).to_string()));
                    return answer;
                }
            };
            answer.markers.extend(out.deleted().iter().filter_map(|d| {
                (d.delete_marker() == Some(true)).then_some(())?;
                Some(NewMarker {
                    key: d.key()?.to_string(),
                    version_id: d.delete_marker_version_id()?.to_string(),
                })
            }));
            // Hard failures are kept; only throttled or internally failed keys go round again.
            let mut retry = Vec::new();
            for e in out.errors() {
                let key = e.key().unwrap_or_default().to_string();
                let version_id = e.version_id().map(str::to_string);
                let code = e.code().unwrap_or("Unknown");
                if is_retryable(code) && attempt < KEY_RETRIES {
                    retry.push((key, version_id));
                } else {
                    let msg = e.message().unwrap_or("");
                    failed.push(KeyFailure {
                        key,
                        version_id,
                        error: format!("{code}: {msg}").trim_end_matches(": ").to_string(),
                    });
                }
            }
            if retry.is_empty() {
                return answer;
            }
            attempt += 1;
            let wait = tokio::time::Instant::now() + backoff(attempt);
            if wait >= until {
                failed.extend(out_of_time(&retry));
                return answer;
            }
            tokio::time::sleep_until(wait).await;
            pending = retry;
        }
    }
}

/// The DeleteObjects body for `keys` (verbose when the markers are wanted).
fn request_body(
    keys: &[(String, Option<String>)],
    markers: bool,
) -> Result<Delete, aws_sdk_s3::error::BuildError> {
    let ids: Vec<ObjectIdentifier> = keys
        .iter()
        .filter_map(|(k, v)| {
            ObjectIdentifier::builder()
                .key(k)
                .set_version_id(v.clone())
                .build()
                .ok()
        })
        .collect();
    Delete::builder()
        .set_objects(Some(ids))
        .quiet(!markers)
        .build()
}

fn backoff(attempt: u32) -> Duration {
    Duration::from_millis(100u64.saturating_mul(1 << attempt.min(6)))
}

fn fail_all(keys: &[(String, Option<String>)], error: &str) -> Vec<KeyFailure> {
    keys.iter()
        .map(|(k, v)| KeyFailure {
            key: k.clone(),
            version_id: v.clone(),
            error: error.to_string(),
        })
        .collect()
}
