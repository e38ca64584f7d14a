//! How long ago an object was last written, by the server's own clock: its `Last-Modified`
//! against the `Date` of the same answer. Two hosts whose clocks disagree still agree on this —
//! what decides whether a lease has expired ([`crate::lease`]), not either host's clock.

use crate::state::Tagged;
use crate::{Bucket, S3Error};
use aws_sdk_s3::config::interceptors::BeforeDeserializationInterceptorContextRef;
use aws_sdk_s3::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_smithy_runtime_api::box_error::BoxError;
use chrono::{DateTime, Utc};
use std::sync::{Arc, Mutex};

/// An object's body and ETag, and how long ago the server last wrote it (`None` where the
/// answer lacked a `Date` or `Last-Modified` the server's clock could be read from).
pub(crate) struct Aged {
    pub(crate) tagged: Tagged,
    pub(crate) age: Option<chrono::Duration>,
}

/// Keeps the `Date` header of the one answer it is attached to.
#[derive(Debug, Clone, Default)]
struct ServerDate(Arc<Mutex<Option<String>>>);

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
        let now = date
            .0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_deref()
            .and_then(|d| DateTime::parse_from_rfc2822(d).ok())
            .map(|d| d.with_timezone(&Utc));
        Ok(Some(Aged {
            tagged: Tagged::read(key, out).await?,
            age: written.zip(now).map(|(written, now)| now - written),
        }))
    }
}
