//! One DeleteObjects request of at most 1,000 keys, with per-key retries for throttled keys;
//! every key the answer names as failed is reported, never hidden, and in a verbose answer so
//! is every key it does not name. A key whose delete may have been carried out though no
//! answer says so is reported as not known to be deleted, never as refused.

use super::{KeyFailure, NewMarker, Progress};
use crate::Bucket;
use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::SdkError;
use aws_sdk_s3::types::{Delete, DeletedObject, ObjectIdentifier};
use std::collections::HashSet;
use std::time::Duration;

/// Rounds for keys a DeleteObjects response reports as throttled or failed internally.
const KEY_RETRIES: u32 = 4;

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
    /// not be deleted; quiet mode lists only errors, so every other key of the batch is gone
    /// (an answer cut short is refused before it gets here: `connect`'s `WholeAnswer`).
    /// With `markers`, the answer is verbose and the delete markers it names are returned; a
    /// key it does not name is reported as not known to be deleted ([`unanswered`]).
    ///
    /// A batch takes as long as S3 does (the SDK's retries and the per-key rounds included)
    /// while the run's lease is renewed; once it is not known to be held long enough
    /// ([`Progress::out_of_time`]) the batch is given up and its keys reported as not known to
    /// be deleted, so nothing of a run that lost its lease is still out when another run may
    /// take the lease over.
    pub(crate) async fn delete_batch(
        &self,
        batch: &[(String, Option<String>)],
        markers: bool,
        progress: &Progress,
    ) -> BatchAnswer {
        let mut pending: Vec<(String, Option<String>)> = batch.to_vec();
        let mut answer = BatchAnswer::default();
        let failed = &mut answer.failed;
        let mut attempt = 0;
        let started = tokio::time::Instant::now();
        let out_of_time = |pending: &[(String, Option<String>)], why: &str| {
            let why = format!(
                "no answer after {} s and {why}: not known whether S3 carried it out (given up \
                 so that nothing of this run is still out once it has to end)",
                started.elapsed().as_secs()
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
            // Dropped when out of time: the SDK sends no further attempt.
            let res = tokio::select! {
                res = sent => res,
                why = progress.out_of_time() => {
                    failed.extend(out_of_time(&pending, why));
                    return answer;
                }
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
                    let refused = refused(&e);
                    let mut why = self.err(e, action).to_string();
                    if !refused {
                        why.push_str(
                            ": not known whether S3 carried it out (the request may have \
                             reached S3 before it failed, its answer lost)",
                        );
                    }
                    failed.extend(fail_all(&pending, &why));
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
            if markers {
                // A verbose answer names every key: one it leaves out may have been deleted
                // (its marker unknown) or not.
                failed.extend(unanswered(&pending, out.deleted(), out.errors()));
            }
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
            tokio::select! {
                () = tokio::time::sleep(backoff(attempt)) => {}
                why = progress.out_of_time() => {
                    failed.extend(out_of_time(&retry, why));
                    return answer;
                }
            }
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

/// S3 refused the request (a 4xx answer: AccessDenied, a bad request), or it was never sent:
/// nothing of it was carried out. Anything else — no answer, an I/O error or a timeout once
/// sent, an answer that could not be read or was cut short, a 5xx — may come after S3 did
/// the work (its answer lost), so whether the keys are gone is not known.
fn refused<E>(e: &SdkError<E, HttpResponse>) -> bool {
    match e {
        SdkError::ConstructionFailure(_) => true,
        SdkError::ServiceError(se) => se.raw().status().is_client_error(),
        _ => false,
    }
}

/// What a verbose answer should have named but did not: S3 answers every key of a verbose
/// DeleteObjects under `Deleted` or `Error`, so a key under neither means an answer that lost
/// entries (one cut short in transit, say). Whether S3 deleted it is not known, nor its delete
/// marker: it is reported failed, so `restore --run` looks for its marker as it does for a
/// batch whose answer was lost, and a re-run deletes it if it is still there.
fn unanswered(
    sent: &[(String, Option<String>)],
    deleted: &[DeletedObject],
    errors: &[aws_sdk_s3::types::Error],
) -> Vec<KeyFailure> {
    let named: HashSet<(&str, Option<&str>)> = deleted
        .iter()
        .map(|d| (d.key(), d.version_id()))
        .chain(errors.iter().map(|e| (e.key(), e.version_id())))
        .filter_map(|(k, v)| Some((k?, v)))
        .collect();
    let keys: HashSet<&str> = named.iter().map(|(k, _)| *k).collect();
    sent.iter()
        .filter(|(k, v)| match v {
            // Sent without a version: any entry of the key (its marker's version id may be given).
            None => !keys.contains(k.as_str()),
            Some(v) => {
                !named.contains(&(k.as_str(), Some(v.as_str())))
                    && !named.contains(&(k.as_str(), None))
            }
        })
        .map(|(k, v)| KeyFailure {
            key: k.clone(),
            version_id: v.clone(),
            error: "S3's answer named it neither deleted nor failed (the answer lost entries): \
                    not known whether S3 carried it out"
                .into(),
        })
        .collect()
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

#[cfg(test)]
mod tests {
    use super::unanswered;
    use aws_sdk_s3::types::{DeletedObject, Error};

    #[test]
    fn a_key_a_verbose_answer_does_not_name_is_not_known_to_be_deleted() {
        let sent: Vec<(String, Option<String>)> = ["a", "b", "c", "d"]
            .iter()
            .map(|k| (k.to_string(), None))
            .collect();
        let deleted = [DeletedObject::builder()
            .key("a")
            .delete_marker(true)
            .delete_marker_version_id("m1")
            .build()];
        let errors = [Error::builder().key("b").code("AccessDenied").build()];
        let missing = unanswered(&sent, &deleted, &errors);
        let keys: Vec<&str> = missing.iter().map(|f| f.key.as_str()).collect();
        assert_eq!(keys, ["c", "d"]);
        assert!(missing[0]
            .error
            .contains("not known whether S3 carried it out"));
        // a version sent is answered by that version (or by its key alone)
        let sent = vec![
            ("a".to_string(), Some("v1".to_string())),
            ("a".to_string(), Some("v2".to_string())),
        ];
        let deleted = [DeletedObject::builder().key("a").version_id("v1").build()];
        let missing = unanswered(&sent, &deleted, &[]);
        assert_eq!(missing.len(), 1);
        assert_eq!(missing[0].version_id.as_deref(), Some("v2"));
    }
}
