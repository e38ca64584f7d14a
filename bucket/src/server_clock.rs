//! How long ago an object was last written, by the server's own clock: its `Last-Modified`
//! against the `Date` of the same answer. Two hosts whose clocks disagree still agree on this —
//! what decides whether a lease has expired ([`crate::lease`]), not either host's clock. And
//! how far this machine's clock is from S3's ([`ClockSkew`]): a plan ages deployments by S3's
//! clock, the one their `Last-Modified` is written by.

use crate::state::Tagged;
use crate::{Bucket, S3Error};
use aws_sdk_s3::config::interceptors::BeforeDeserializationInterceptorContextRef;
use aws_sdk_s3::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_smithy_runtime_api::box_error::BoxError;
use chrono::{DateTime, Utc};
use std::sync::{Arc, Mutex};

/// A date in an S3 answer as chrono's (none: the epoch).
pub(crate) fn to_chrono(t: Option<&aws_smithy_types::DateTime>) -> DateTime<Utc> {
    t.and_then(|t| DateTime::from_timestamp(t.secs(), t.subsec_nanos()))
        .unwrap_or(DateTime::UNIX_EPOCH)
}

/// An object's body and ETag, and how long ago the server last wrote it (`None` where the
/// answer lacked a `Date` or `Last-Modified` the server's clock could be read from).
pub(crate) struct Aged {
    pub(crate) tagged: Tagged,
    pub(crate) age: Option<chrono::Duration>,
}

/// Keeps the `Date` header of the one answer it is attached to.
#[derive(Debug, Clone, Default)]
pub(crate) struct ServerDate(Arc<Mutex<Option<String>>>);

impl ServerDate {
    /// The answer's `Date`, if it had a readable one.
    pub(crate) fn read(&self) -> Option<DateTime<Utc>> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_deref()
            .and_then(|d| DateTime::parse_from_rfc2822(d).ok())
            .map(|d| d.with_timezone(&Utc))
    }
}

/// Below this, a difference between this machine's clock and S3's `Date` (whole seconds, read
/// after a round trip) is not told from the measurement's own error, and is taken as none.
const SKEW_IGNORED: chrono::Duration = chrono::Duration::minutes(2);

/// How far this machine's clock is ahead of S3's (behind: negative); zero where S3's answer had
/// no `Date` or the two agree within [`SKEW_IGNORED`]. A laptop whose clock ran 40 days ahead
/// aged a deployment uploaded a second before 40 days, and `--min-retain-days 30` deleted it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClockSkew(pub chrono::Duration);

impl ClockSkew {
    /// Of an answer whose `Date` is `server`, received when this machine's clock said `here`.
    pub(crate) fn of(server: Option<DateTime<Utc>>, here: DateTime<Utc>) -> ClockSkew {
        match server {
            Some(server) if (here - server).abs() >= SKEW_IGNORED => ClockSkew(here - server),
            _ => ClockSkew::default(),
        }
    }

    /// Now by S3's clock.
    pub fn now(self) -> DateTime<Utc> {
        Utc::now() - self.0
    }

    /// What to tell the user, when the clocks disagree.
    pub fn warning(self) -> Option<String> {
        if self.0.is_zero() {
            return None;
        }
        let (how, by) = if self.0 > chrono::Duration::zero() {
            ("ahead of", self.0)
        } else {
            ("behind", -self.0)
        };
        // In its largest whole unit ("10 d"): S3's `Date` is to the second, so the measured
        // skew is a second more or less than the clocks' real one (it read "864001 s").
        Some(format!(
            "this machine's clock is {} {how} S3's (the Date of its answers): deployments are \
             aged by S3's clock; set this machine's clock (NTP)",
            retention::human_age(by.num_seconds())
        ))
    }
}

impl Intercept for ServerDate {
    fn name(&self) -> &'static str {
        "ServerDate"
    }

    fn read_after_transmit(
        &self,
        context: &BeforeDeserializationInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(date) = context.response().headers().get("date") {
            *self.0.lock().unwrap_or_else(|e| e.into_inner()) = Some(date.to_string());
        }
        Ok(())
    }
}

impl Bucket {
    /// The object at `key` (none: `None`) with its age by the server's clock.
    pub(crate) async fn get_aged(&self, key: &str) -> Result<Option<Aged>, S3Error> {
        let date = ServerDate::default();
        let sent = self
            .client
            .get_object()
            .bucket(&self.name)
            .key(key)
            .customize()
            .interceptor(date.clone())
            .send()
            .await;
        let out = match sent {
            Ok(out) => out,
            Err(e) if e.as_service_error().is_some_and(|se| se.is_no_such_key()) => {
                return Ok(None)
            }
            Err(e) => return Err(self.key_err(e, "s3:GetObject", key)),
        };
        let written = out
            .last_modified()
            .and_then(|t| DateTime::<Utc>::from_timestamp(t.secs(), t.subsec_nanos()));
        let now = date.read();
        Ok(Some(Aged {
            tagged: Tagged::read(key, out).await?,
            age: written.zip(now).map(|(written, now)| now - written),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_skew_a_second_off_whole_days_reads_in_days() {
        // Before: "864001 s ahead" (S3's `Date` is to the second), which a test matching
        // "10 d ahead" caught once in a CI run.
        let ahead = ClockSkew(chrono::Duration::days(10) + chrono::Duration::seconds(1));
        let said = ahead.warning().unwrap();
        assert!(said.contains("clock is 10 d ahead of S3's"), "{said}");
        let behind = ClockSkew(-chrono::Duration::minutes(3));
        let said = behind.warning().unwrap();
        assert!(said.contains("clock is 3 min behind S3's"), "{said}");
    }
}
