//! Connecting to a bucket: credentials, region, endpoint (LocalStack, Garage, a proxy), retries
//! and timeouts, and where the run journal is kept (`--journal`), checked before any request.

use crate::{normalize_prefix, validate_bucket_name, Bucket, S3Error};
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region};
use aws_sdk_s3::config::interceptors::{
    AfterDeserializationInterceptorContextRef, BeforeDeserializationInterceptorContextMut,
    InterceptorContext,
};
use aws_sdk_s3::config::retry::{ClassifyRetry, RetryAction};
use aws_sdk_s3::config::{ConfigBag, Credentials, Intercept, RuntimeComponents};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use std::time::Duration;

/// How to reach S3. Everything not given here comes from the standard AWS chain
/// (environment, profile, SSO, IMDS; `AWS_ENDPOINT_URL` included).
#[derive(Debug, Clone, Default)]
pub struct Connect {
    /// Talk to LocalStack: `http://localhost:4566` unless `AWS_ENDPOINT_URL` is set, path-style
    /// addressing, `us-east-1` and test credentials when none are configured.
    pub localstack: bool,
    /// Any other S3-compatible endpoint.
    pub endpoint_url: Option<String>,
    /// Attempts per request, first included (throttling and 5xx are retried with backoff).
    pub max_attempts: Option<u32>,
    /// Keep the run journal here instead of beside the deployments (`--journal`); the same
    /// endpoint and credentials.
    pub journal: Option<crate::JournalLocation>,
}

/// Which bucket, and under which prefix the deployments live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub bucket: String,
    pub prefix: String,
}

impl Target {
    pub fn new(bucket: &str, prefix: &str) -> Result<Self, S3Error> {
        validate_bucket_name(bucket)?;
        Ok(Target {
            bucket: bucket.to_string(),
            prefix: normalize_prefix(prefix),
        })
    }
}

/// Stamps a refusal that may be about the region (301, 400) with the region its request was
/// signed for ([`crate::error::REGION_USED`]), so that its error can name both that region and
/// the bucket's (`x-amz-bucket-region`) whichever way the region was configured.
#[derive(Debug)]
struct StampRegion;

impl Intercept for StampRegion {
    fn name(&self) -> &'static str {
        "StampRegion"
    }

    fn modify_before_deserialization(
        &self,
        context: &mut BeforeDeserializationInterceptorContextMut<'_>,
        _: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let status = context.response().status().as_u16();
        if matches!(status, 301 | 400) {
            if let Some(region) = cfg.load::<Region>() {
                let region = region.to_string();
                // A region no header can carry is left out (the error then names neither).
                let _ = context
                    .response_mut()
                    .headers_mut()
                    .try_insert(crate::error::REGION_USED, region);
            }
        }
        Ok(())
    }
}

/// The operations whose answer is refused when cut short: a listing or a DeleteObjects answer
/// cut at an element boundary (with a Content-Length to match, so the transport does not
/// notice) still parses, and the SDK's parser does not complain. A listing cut short would plan
/// from a partial view (a deployment smaller or older than it is); a DeleteObjects answer cut
/// short would report keys deleted that S3 refused, and lose the delete markers of others.
const CHECKED: [&str; 3] = ["DeleteObjects", "ListObjectsV2", "ListObjectVersions"];

/// A 200 answer that ends before its root element does.
#[derive(Debug, thiserror::Error)]
#[error(
    "the answer to {operation} ended before its root element did ({bytes} bytes, {ending}): it \
     was cut short in transit, so it is not used"
)]
struct CutShort {
    /// The operation's name.
    operation: &'static str,
    bytes: usize,
    ending: String,
}

/// Refuses a 200 answer of the [`CHECKED`] operations that does not end with its root element's
/// closing tag ([`whole_document`]), as an error the SDK retries ([`RetryCutShort`]).
#[derive(Debug)]
struct WholeAnswer;

impl Intercept for WholeAnswer {
    fn name(&self) -> &'static str {
        "WholeAnswer"
    }

    fn read_after_deserialization(
        &self,
        context: &AfterDeserializationInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let response = context.response();
        if response.status().as_u16() != 200 || context.output_or_error().is_err() {
            return Ok(());
        }
        let Some(operation) = cfg
            .load::<Metadata>()
            .and_then(|m| CHECKED.iter().find(|c| **c == m.name()))
        else {
            return Ok(());
        };
        // Read into memory by now (these operations do not stream their answer).
        let Some(body) = response.body().bytes() else {
            return Ok(());
        };
        match whole_document(body) {
            Ok(()) => Ok(()),
            Err(ending) => Err(Box::new(CutShort {
                operation,
                bytes: body.len(),
                ending,
            })),
        }
    }
}

/// Whether an XML document ends with the end of its root element: its closing tag, or the
/// root's own `/>` (an empty `<DeleteResult/>`). Otherwise, how it ends, for the error.
fn whole_document(body: &[u8]) -> Result<(), String> {
    let text = String::from_utf8_lossy(body);
    let text = text.trim_end();
    if text.is_empty() {
        return Err("an empty body".into());
    }
    // The root's opening tag: the first one past the declaration and any comment.
    let mut at = 0;
    let (tag, open_end) = loop {
        let Some(start) = text[at..].find('<').map(|i| at + i + 1) else {
            return Err("no element".into());
        };
        let Some(end) = text[start..].find('>').map(|i| start + i) else {
            return Err("no whole opening tag".into());
        };
        at = end + 1;
        if !text[start..].starts_with(['?', '!']) {
            break (&text[start..end], at);
        }
    };
    let name = tag
        .split(|c: char| c.is_whitespace() || c == '/')
        .next()
        .unwrap_or_default();
    if tag.ends_with('/') {
        return match open_end == text.len() {
            true => Ok(()),
            false => Err(format!("text after an empty <{name}/>")),
        };
    }
    if text.ends_with(&format!("</{name}>")) {
        return Ok(());
    }
    let tail = text
        .char_indices()
        .rev()
        .nth(39)
        .map_or(text, |(i, _)| &text[i..]);
    Err(format!("no closing </{name}>, it ends with '{tail}'"))
}

/// Retries an answer [`WholeAnswer`] refused as cut short, as a transient error: the next
/// attempt is likely whole.
#[derive(Debug)]
struct RetryCutShort;

impl ClassifyRetry for RetryCutShort {
    fn classify_retry(&self, ctx: &InterceptorContext) -> RetryAction {
        let Some(Err(err)) = ctx.output_or_error() else {
            return RetryAction::NoActionIndicated;
        };
        let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
        while let Some(e) = source {
            if e.is::<CutShort>() {
                return RetryAction::transient_error();
            }
            source = e.source();
        }
        RetryAction::NoActionIndicated
    }

    fn name(&self) -> &'static str {
        "RetryCutShort"
    }
}

pub const LOCALSTACK_URL: &str = "http://localhost:4566";

fn env_set(k: &str) -> bool {
    std::env::var(k).is_ok_and(|v| !v.is_empty())
}

/// Builds a client for `target`. Makes no request: errors show up on first use.
pub async fn connect(opts: &Connect, target: &Target) -> Result<Bucket, S3Error> {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .retry_config(
            RetryConfig::adaptive()
                .with_max_attempts(opts.max_attempts.unwrap_or(6))
                .with_initial_backoff(Duration::from_millis(100))
                .with_max_backoff(Duration::from_secs(5)),
        )
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(3))
                .operation_attempt_timeout(Duration::from_secs(120))
                .build(),
        );
    let mut path_style = false;
    if let Some(url) = &opts.endpoint_url {
        loader = loader.endpoint_url(url);
        path_style = true;
    }
    if opts.localstack {
        path_style = true;
        if opts.endpoint_url.is_none()
            && !env_set("AWS_ENDPOINT_URL")
            && !env_set("AWS_ENDPOINT_URL_S3")
        {
            loader = loader.endpoint_url(LOCALSTACK_URL);
        }
        if !env_set("AWS_REGION") && !env_set("AWS_DEFAULT_REGION") {
            loader = loader.region(Region::new("us-east-1"));
        }
        if !env_set("AWS_ACCESS_KEY_ID") {
            loader = loader.credentials_provider(Credentials::new(
                "test",
                "test",
                None,
                None,
                "localstack",
            ));
        }
    }
    let sdk = loader.load().await;
    let mut conf = aws_sdk_s3::config::Builder::from(&sdk)
        .force_path_style(path_style)
        .interceptor(StampRegion)
        .interceptor(WholeAnswer)
        .retry_classifier(RetryCutShort);
    if sdk.region().is_none() {
        // Without a region the SDK refuses to sign; S3's global default is a fine guess (a
        // bucket elsewhere answers with its region, and the error names both: `WrongRegion`).
        conf = conf.region(Region::new("us-east-1"));
    }
    let endpoint = s3_endpoint(&sdk).unwrap_or_else(|| {
        format!(
            "AWS S3 ({})",
            sdk.region().map(|r| r.as_ref()).unwrap_or("us-east-1")
        )
    });
    let mut b = Bucket {
        client: aws_sdk_s3::Client::from_conf(conf.build()),
        name: target.bucket.clone(),
        prefix: target.prefix.clone(),
        endpoint,
        meta_cache: Default::default(),
        journal: None,
        lifecycle_pending: Default::default(),
    };
    if let Some(at) = &opts.journal {
        // Inside the pruned prefix its folder would count as a deployment (and could go). Its
        // runs and approvals go under PATH/BUCKET/PREFIX: that is what must lie outside.
        let own = format!("{}{}/", b.prefix, crate::RESERVED);
        let root = format!("{}{}/{}", at.path, b.name, b.prefix);
        if at.bucket == b.name && root.starts_with(&b.prefix) && !root.starts_with(&own) {
            return Err(S3Error::Pointer {
                key: at.to_string(),
                problem: format!(
                    "a journal inside the prefix s3-prune prunes ('{}') would be taken for a \
                     deployment: give another bucket, or a path outside that prefix",
                    b.prefix
                ),
            });
        }
        let place = crate::JournalPlace::elsewhere(b.sibling(&at.bucket), at, &b);
        b.journal = Some(std::sync::Arc::new(place));
    }
    Ok(b)
}

/// The endpoint S3 requests go to, as the S3 client resolves it (`aws-sdk-s3`'s
/// `Builder::from(&SdkConfig)`): one given in code, else S3's own (`AWS_ENDPOINT_URL_S3`, a
/// profile's `services` section), else the general one. The plan's header and the lease's
/// messages name it: before, `AWS_ENDPOINT_URL_S3=http://minio:9000` listed from there while
/// they said "AWS S3 (us-east-1)".
fn s3_endpoint(sdk: &aws_config::SdkConfig) -> Option<String> {
    if sdk.get_origin("endpoint_url").is_client_config() {
        return sdk.endpoint_url().map(str::to_string);
    }
    let key = aws_types::service_config::ServiceConfigKey::builder()
        .service_id("S3")
        .env("AWS_ENDPOINT_URL")
        .profile("endpoint_url")
        .build();
    let s3 = key.ok().and_then(|k| sdk.service_config()?.load_config(k));
    s3.or_else(|| sdk.endpoint_url().map(str::to_string))
}

#[cfg(test)]
mod tests {
    use super::whole_document;

    #[test]
    fn an_answer_cut_at_an_element_boundary_is_not_whole() {
        let head = r#"<?xml version="1.0" encoding="UTF-8"?>
<DeleteResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">"#;
        let entry = "<Deleted><Key>a</Key><DeleteMarker>true</DeleteMarker></Deleted>";
        let whole = format!("{head}{entry}{entry}</DeleteResult>\n");
        assert_eq!(whole_document(whole.as_bytes()), Ok(()));
        // cut after an entry, after the opening tag, inside an entry, or nothing at all
        for cut in [
            format!("{head}{entry}"),
            head.to_string(),
            format!("{head}<Deleted><Key>a</Key>"),
            String::new(),
            r#"<?xml version="1.0"?>"#.to_string(),
        ] {
            let said = whole_document(cut.as_bytes()).unwrap_err();
            assert!(!said.is_empty(), "{cut}");
        }
        assert!(whole_document(format!("{head}{entry}").as_bytes())
            .unwrap_err()
            .contains("no closing </DeleteResult>"));
        // quiet mode with no errors: an empty root
        let empty = r#"<?xml version="1.0" encoding="UTF-8"?><DeleteResult xmlns="x"/>"#;
        assert_eq!(whole_document(empty.as_bytes()), Ok(()));
        assert!(whole_document(format!("{empty}<Error>").as_bytes()).is_err());
        // a listing, with a comment before it
        let list = "<!-- x --><ListBucketResult><KeyCount>0</KeyCount></ListBucketResult>";
        assert_eq!(whole_document(list.as_bytes()), Ok(()));
        assert!(whole_document(&list.as_bytes()[..list.len() - 1]).is_err());
    }
}
