//! What s3-prune reads besides the deployments: the live pointer, a policy file kept in the
//! bucket, and its own small state objects under `<prefix>.s3-prune/` (the pins: `crate::pins`).

use crate::{Bucket, S3Error};
use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::operation::get_object::GetObjectOutput;
use aws_sdk_s3::operation::put_object::builders::PutObjectFluentBuilder;
use aws_sdk_s3::operation::put_object::PutObjectError;
use aws_sdk_s3::primitives::ByteStream;
use retention::DeploymentId;

/// The folder under the prefix where s3-prune keeps its own state (pins, the journal, the
/// lease); never a deployment.
pub const RESERVED: &str = ".s3-prune";

/// An object's body with its ETag (and version, on a versioned bucket).
pub(crate) struct Tagged {
    pub(crate) body: Vec<u8>,
    pub(crate) etag: Option<String>,
    pub(crate) version: Option<String>,
    /// When S3 wrote it.
    pub(crate) modified: Option<chrono::DateTime<chrono::Utc>>,
}

impl Tagged {
    /// The body and ETag of the answer `out` to a GetObject of `key`, read to its end.
    pub(crate) async fn read(key: &str, out: GetObjectOutput) -> Result<Tagged, S3Error> {
        let etag = out.e_tag().map(str::to_string);
        let version = out.version_id().map(str::to_string);
        let modified = (out.last_modified())
            .and_then(|t| t.to_millis().ok())
            .and_then(chrono::DateTime::from_timestamp_millis);
        let body = out.body.collect().await.map_err(|e| S3Error::Service {
            action: "s3:GetObject".into(),
            code: "ReadError".into(),
            message: format!("reading {key}: {e}"),
        })?;
        Ok(Tagged {
            body: body.into_bytes().to_vec(),
            etag,
            version,
            modified,
        })
    }
}

/// The answer to a conditional PUT ([`Bucket::put_if`]).
pub(crate) enum Put {
    /// Written; its new ETag.
    Written(Option<String>),
    /// 412 Precondition Failed (or 409 ConditionalRequestConflict): the condition did not hold.
    Refused,
}

/// A conditional write refused: 412 Precondition Failed (or 409 ConditionalRequestConflict).
pub(crate) fn condition_refused<E: ProvideErrorMetadata>(e: &SdkError<E, HttpResponse>) -> bool {
    e.raw_response()
        .is_some_and(|r| matches!(r.status().as_u16(), 412 | 409))
        || matches!(
            e.as_service_error().and_then(|s| s.code()),
            Some("PreconditionFailed" | "ConditionalRequestConflict")
        )
}

/// A 501 answer: the server does not implement the condition asked (LocalStack 4.13 on a
/// conditional DeleteObject; some S3-compatible servers on a conditional PutObject).
pub(crate) fn not_implemented<E>(e: &SdkError<E, HttpResponse>) -> bool {
    e.raw_response().is_some_and(|r| r.status().as_u16() == 501)
}

/// A state file as it was read, which a write of it goes over ([`Bucket::put_state_if`]).
#[derive(Debug, Clone)]
pub(crate) enum AsRead {
    /// There was none: written only while there is still none (`If-None-Match: *`).
    Absent,
    /// Read with this ETag: written only while it is still the one (`If-Match`).
    Tagged(String),
    /// Read from a server that sends no ETag: written plainly, as nothing else can be.
    Untagged,
}

impl AsRead {
    /// A file read with `etag` (none: from a server that sends none).
    pub(crate) fn read(etag: Option<String>) -> AsRead {
        etag.map_or(AsRead::Untagged, AsRead::Tagged)
    }
}

/// A 409 answer (S3's ConditionalRequestConflict: a conditional write met another write of the
/// same key still under way). S3 says to send it again.
pub(crate) fn write_conflict<E: ProvideErrorMetadata>(e: &SdkError<E, HttpResponse>) -> bool {
    e.raw_response().is_some_and(|r| r.status().as_u16() == 409)
        || e.as_service_error().and_then(|s| s.code()) == Some("ConditionalRequestConflict")
}

impl Bucket {
    /// An object's body as it arrives (for files too large to hold), or `None` when there
    /// is no such key.
    pub(crate) async fn get_stream(&self, key: &str) -> Result<Option<ByteStream>, S3Error> {
        Ok(self.get_object(key).await?.map(|out| out.body))
    }

    /// An object's whole body, or `None` when there is no such key.
    pub(crate) async fn get_body(&self, key: &str) -> Result<Option<Vec<u8>>, S3Error> {
        Ok(self.get_tagged(key).await?.map(|t| t.body))
    }

    /// An object's whole body and its ETag (what a conditional write of it names), or `None`
    /// when there is no such key.
    pub(crate) async fn get_tagged(&self, key: &str) -> Result<Option<Tagged>, S3Error> {
        let Some(out) = self.get_object(key).await? else {
            return Ok(None);
        };
        Ok(Some(Tagged::read(key, out).await?))
    }

    /// PUT of JSON `body` at `key` only while the object is still the one with `etag`
    /// (`If-Match`) or, with `None`, while there is none (`If-None-Match: *`). The caller
    /// names the failure (its own key, its own error).
    pub(crate) async fn put_if(
        &self,
        key: &str,
        body: Vec<u8>,
        etag: Option<&str>,
    ) -> Result<Put, SdkError<PutObjectError, HttpResponse>> {
        let req = self.json_put(key, body);
        let req = match etag {
            Some(etag) => req.if_match(etag),
            None => req.if_none_match("*"),
        };
        match req.send().await {
            Ok(out) => Ok(Put::Written(out.e_tag().map(str::to_string))),
            Err(e) if condition_refused(&e) => Ok(Put::Refused),
            Err(e) => Err(e),
        }
    }

    /// Writes state file `key` over the file as it was `read` ([`Bucket::put_state_if`]'s
    /// condition): `Refused` when another scan or run wrote it since. Where the server cannot
    /// write conditionally (a file read without an ETag, a 501 answer) it is written plainly,
    /// as before conditions were used: there, two writers at once can still lose one's change.
    pub(crate) async fn put_state_if(
        &self,
        key: &str,
        body: Vec<u8>,
        read: &AsRead,
    ) -> Result<Put, S3Error> {
        let etag = match read {
            AsRead::Untagged => return self.put_plain(key, body).await,
            AsRead::Absent => None,
            AsRead::Tagged(etag) => Some(etag.as_str()),
        };
        match self.put_if(key, body.clone(), etag).await {
            Ok(put) => Ok(put),
            Err(e) if not_implemented(&e) => self.put_plain(key, body).await,
            Err(e) => Err(self.key_err(e, "s3:PutObject", key)),
        }
    }

    /// PUT of JSON `body` at `key`, whatever is there.
    async fn put_plain(&self, key: &str, body: Vec<u8>) -> Result<Put, S3Error> {
        let out = (self.json_put(key, body).send().await)
            .map_err(|e| self.key_err(e, "s3:PutObject", key))?;
        Ok(Put::Written(out.e_tag().map(str::to_string)))
    }

    /// A PUT of JSON `body` at `key`, to send as it is or with a condition.
    fn json_put(&self, key: &str, body: Vec<u8>) -> PutObjectFluentBuilder {
        self.client
            .put_object()
            .bucket(&self.name)
            .key(key)
            .content_type("application/json")
            .body(ByteStream::from(body))
    }

    async fn get_object(&self, key: &str) -> Result<Option<GetObjectOutput>, S3Error> {
        match self
            .client
            .get_object()
            .bucket(&self.name)
            .key(key)
            .send()
            .await
        {
            Ok(out) => Ok(Some(out)),
            Err(e) if e.as_service_error().is_some_and(|se| se.is_no_such_key()) => Ok(None),
            Err(e) => Err(self.key_err(e, "s3:GetObject", key)),
        }
    }

    /// The error of a request about one object, naming it: a grant missing on
    /// `<prefix>.s3-prune/*` or on the live pointer, an object gone since the listing.
    pub(crate) fn key_err<E, R>(&self, e: SdkError<E, R>, action: &str, key: &str) -> S3Error
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
        R: std::fmt::Debug + Send + Sync + 'static,
    {
        S3Error::from_sdk_at(e, action, &self.name, Some(key), &self.endpoint)
    }

    /// The id the live pointer names. Missing, unreadable or not an id: an error, so nothing
    /// is deleted on a guess.
    pub async fn read_live_pointer(&self, key: &str) -> Result<DeploymentId, S3Error> {
        Ok(self.read_live_pointer_version(key).await?.0)
    }

    /// [`Bucket::read_live_pointer`], with the version read where it names one (a versioned
    /// bucket's; "null" too — the caller drops it on a suspended bucket, whose next write
    /// replaces it): the versions written after it are the pointer's changes since
    /// ([`Bucket::named_since`]).
    pub(crate) async fn read_live_pointer_version(
        &self,
        key: &str,
    ) -> Result<(DeploymentId, Option<crate::PointerRead>), S3Error> {
        let Tagged {
            body,
            version,
            modified,
            ..
        } = self
            .get_tagged(key)
            .await?
            .ok_or_else(|| S3Error::Pointer {
                key: key.to_string(),
                problem: "it does not exist".into(),
            })?;
        let text = String::from_utf8(body).map_err(|_| S3Error::Pointer {
            key: key.into(),
            problem: "it is not UTF-8 text".into(),
        })?;
        let id = parse_pointer(&text, &self.prefix).map_err(|problem| S3Error::Pointer {
            key: key.into(),
            problem,
        })?;
        let read = match (version, modified) {
            (Some(version), Some(at)) => Some(crate::PointerRead { version, at }),
            _ => None,
        };
        Ok((id, read))
    }

    /// A policy file kept in the bucket (the scheduled job's `S3_PRUNE_POLICY_KEY`): `rel` is
    /// relative to the prefix and must lie where no run can delete it — a loose object
    /// (`policy.toml`) or under `.s3-prune/` — never inside a deployment folder. Missing or not
    /// UTF-8: an error, so nothing is deleted under a policy nobody can see.
    pub async fn read_policy_file(&self, rel: &str) -> Result<String, S3Error> {
        let key = format!("{}{rel}", self.prefix);
        let outside = rel.is_empty()
            || rel.starts_with('/')
            || (rel.contains('/') && !rel.starts_with(&format!("{RESERVED}/")));
        if outside {
            return Err(S3Error::Pointer {
                key,
                problem: format!(
                    "a policy file must be a loose object under the prefix (e.g. 'policy.toml') \
                     or under '{RESERVED}/' (e.g. '{RESERVED}/policy.toml'), never inside a \
                     deployment folder a run could delete"
                ),
            });
        }
        let body = self.get_body(&key).await?.ok_or_else(|| S3Error::Pointer {
            key: key.clone(),
            problem: "it does not exist (upload the policy file there)".into(),
        })?;
        String::from_utf8(body).map_err(|_| S3Error::Pointer {
            key,
            problem: "it is not UTF-8 text".into(),
        })
    }

    /// A small state object of s3-prune's own, `<prefix>.s3-prune/NAME`; `None` when absent.
    pub async fn read_state(&self, name: &str) -> Result<Option<Vec<u8>>, S3Error> {
        self.get_body(&format!("{}{}/{name}", self.prefix, RESERVED))
            .await
    }

    /// Writes (or replaces) `<prefix>.s3-prune/NAME`.
    pub async fn write_state(&self, name: &str, body: Vec<u8>) -> Result<(), S3Error> {
        let key = format!("{}{}/{name}", self.prefix, RESERVED);
        self.put_plain(&key, body).await.map(|_| ())
    }
}

/// `deployhash112`, `deployhash112/` or `<prefix>deployhash112/` all name `deployhash112`.
pub(crate) fn parse_pointer(text: &str, prefix: &str) -> Result<DeploymentId, String> {
    // A leading byte-order mark (an editor on Windows saved the pointer) is not part of the id.
    let t = text.strip_prefix('\u{feff}').unwrap_or(text).trim();
    let t = t.strip_prefix(prefix).unwrap_or(t);
    let t = t.strip_suffix('/').unwrap_or(t);
    // The body is not echoed: whoever can name the key must not read any object through the
    // error (a Lambda event, a shared log).
    DeploymentId::new(t).map_err(|_| {
        format!(
            "its {} bytes are not a deployment id (one folder name such as 'abc123', 'abc123/' \
             or '{prefix}abc123/')",
            text.len()
        )
    })
}

/// The format of s3-prune's state files this version reads and writes. A later s3-prune that
/// changes what one of them means marks it with a higher one — a top-level `format` in
/// `pins.json` and `live-seen.json`, the entry [`FORMAT_KEY`] in `dates.json` (a map by
/// deployment) — and this version then refuses the file instead of planning from a misreading.
/// Fields this version does not know are written back as they were read.
pub(crate) const STATE_FORMAT: u64 = 1;

/// `dates.json`'s format entry: a key no deployment id can be (an id is one folder, no `/`).
pub(crate) const FORMAT_KEY: &str = "s3-prune/format";

/// Refuses state file `key` when its format (`format`, absent for 1) is newer than this
/// version's ([`STATE_FORMAT`]).
pub(crate) fn check_format(format: Option<&serde_json::Value>, key: &str) -> Result<(), S3Error> {
    let Some(format) = format else {
        return Ok(());
    };
    match format.as_u64() {
        Some(n) if n <= STATE_FORMAT => Ok(()),
        _ => Err(S3Error::Pointer {
            key: key.to_string(),
            problem: format!(
                "it was written by a newer s3-prune (format {format}; this one reads format \
                 {STATE_FORMAT}): upgrade s3-prune here (`s3-prune --version`), and do not \
                 remove or edit the file. Nothing was changed"
            ),
        }),
    }
}

/// What to say first of a state file this version cannot parse: when it is JSON (of a shape
/// this version does not know), perhaps a newer s3-prune wrote it, and removing it would lose
/// what that one keeps there.
pub(crate) fn newer_hint(body: &[u8]) -> &'static str {
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(_) => {
            "if a newer s3-prune wrote it, upgrade this one and leave the file as it is; otherwise "
        }
        Err(_) => "",
    }
}

#[cfg(test)]
mod tests {
    use super::parse_pointer;

    #[test]
    fn pointer_bodies() {
        assert_eq!(parse_pointer("abc\n", "").unwrap().as_str(), "abc");
        assert_eq!(parse_pointer("abc/", "").unwrap().as_str(), "abc");
        assert_eq!(
            parse_pointer("sites/abc/", "sites/").unwrap().as_str(),
            "abc"
        );
        assert_eq!(
            parse_pointer("\u{feff}abc\r\n", "").unwrap().as_str(),
            "abc"
        );
        assert!(parse_pointer("", "").is_err());
        assert!(parse_pointer("a/b", "").is_err());
        let e = parse_pointer("db/password=hunter2", "").unwrap_err();
        assert!(!e.contains("hunter2"), "the body is never echoed: {e}");
    }
}
