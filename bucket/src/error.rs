//! The one error of every S3 request, phrased for the person who has to fix it: which bucket,
//! which endpoint, and for a refusal the IAM action that is missing.

use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_smithy_types::error::display::DisplayErrorContext;
use std::error::Error as StdError;

/// An S3 failure, phrased for the person who has to fix it.
#[derive(Debug, Clone, thiserror::Error)]
pub enum S3Error {
    #[error("bucket '{bucket}' does not exist at {endpoint}: check the name, the region and the endpoint")]
    NoSuchBucket { bucket: String, endpoint: String },
    #[error("access denied for {action} on '{bucket}': the credentials in use need the IAM permission {action} on arn:aws:s3:::{bucket}")]
    AccessDenied {
        action: String,
        /// The bucket, or `BUCKET/KEY` for a request about one object.
        bucket: String,
    },
    #[error("{}", wrong_region(.bucket, .theirs.as_deref(), .ours.as_deref()))]
    WrongRegion {
        bucket: String,
        /// The bucket's region, when S3 said it.
        theirs: Option<String>,
        /// The region the request was signed for.
        ours: Option<String>,
    },
    #[error("'{object}' is gone ({action} answered 404 Not Found): was it deleted since the listing? Nothing was deleted; run again")]
    Gone {
        action: String,
        /// `BUCKET/KEY`.
        object: String,
    },
    #[error("no AWS credentials found: set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (or pass --localstack for a local emulator)")]
    NoCredentials,
    #[error("cannot reach the S3 endpoint {endpoint}: {detail}. Is it running and is the address right?")]
    Unreachable { endpoint: String, detail: String },
    #[error("'{name}' is not a bucket name: {why}")]
    InvalidBucketName { name: String, why: String },
    #[error("listing of '{prefix}' was cut short (truncated without a continuation token): nothing deleted")]
    ListingCut { prefix: String },
    #[error("listing of '{prefix}' did not ascend ('{key}' came after '{after}'): the endpoint repeated or reordered a page, so the plan would be wrong. Nothing deleted; if this is an S3-compatible server, report it to its maintainers")]
    ListingNotAscending {
        prefix: String,
        key: String,
        after: String,
    },
    #[error("'{folder}' holds s3-prune's own state folder ('{state}'): its subfolders are another prefix's deployments, not one deployment. Nothing will be deleted; give --prefix {folder} (or the prefix you meant)")]
    ForeignState { folder: String, state: String },
    #[error("'{folder}' holds a run journal ('{journal}', another bucket's --journal) beside other objects: deleting the folder would delete that history. Nothing will be deleted; move the other objects out of it, or the journal elsewhere")]
    JournalInside { folder: String, journal: String },
    #[error("the lifecycle configuration of '{bucket}' changed while s3-prune was editing it (the console, Terraform or another run): nothing was written. Run again")]
    LifecycleChanged { bucket: String },
    #[error("the lifecycle configuration of '{bucket}' holds {rules} rules and S3 takes at most 1000: nothing was changed. Remove a rule the bucket no longer needs, then run again")]
    LifecycleFull { bucket: String, rules: usize },
    #[error("S3 does not show the last change s3-prune made to the lifecycle configuration of '{bucket}' yet (bucket configurations are eventually consistent): nothing more was changed, lest an edit put back a rule just removed. Run again in a few minutes; `s3-prune plan` lists s3-prune's rules")]
    LifecycleUnsettled { bucket: String },
    #[error("lifecycle rule '{rule}' keeps old versions of {scope} for {theirs} days; an undo window of {days} days over the same keys would shorten it (S3 applies the shortest). Nothing was changed: give --days {theirs} or more, a --prefix outside it, or change that rule")]
    WouldShorten {
        rule: String,
        scope: String,
        theirs: i32,
        days: i32,
    },
    #[error("the bucket keeps every old version of {scope} now ({versioning}, no rule expires them); an undo window of {days} days makes S3 permanently delete each one that stopped being current more than {days} days ago — of every key there, not only deployments'. Nothing was changed: to go ahead, add --expire-old-versions")]
    WouldExpireKept {
        scope: String,
        versioning: String,
        days: i32,
    },
    #[error("cannot use '{key}': {problem}. Nothing will be deleted until it can be read")]
    Pointer { key: String, problem: String },
    #[error("{action} failed: {code}: {message}")]
    Service {
        action: String,
        code: String,
        message: String,
    },
}

/// A bucket addressed in the wrong region: where it is, where requests went, and how to send them
/// there (the region comes from the AWS chain; s3-prune.toml has no setting for it).
fn wrong_region(bucket: &str, theirs: Option<&str>, ours: Option<&str>) -> String {
    let ours = ours.unwrap_or("the region configured");
    match theirs {
        Some(theirs) => format!(
            "bucket '{bucket}' is in {theirs}, but requests went to {ours}: set \
             AWS_REGION={theirs} (or `region = {theirs}` in the AWS profile in use, \
             ~/.aws/config) and run again; the scheduled job uses its Lambda's region, so deploy \
             it in {theirs}"
        ),
        None => format!(
            "bucket '{bucket}' is not in {ours}, where requests went: set AWS_REGION to its \
             region (`aws s3api get-bucket-location --bucket {bucket}` names it; or `region = …` \
             in the AWS profile in use) and run again"
        ),
    }
}

impl S3Error {
    /// Turns an SDK error into one a user can act on. `action` is the IAM action of the call.
    pub(crate) fn from_sdk<E, R>(
        err: SdkError<E, R>,
        action: &str,
        bucket: &str,
        endpoint: &str,
    ) -> S3Error
    where
        E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
        R: std::fmt::Debug + Send + Sync + 'static,
    {
        Self::from_sdk_at(err, action, bucket, None, endpoint)
    }

    /// [`S3Error::from_sdk`] of a request about one object, `key`, which the message names.
    pub(crate) fn from_sdk_at<E, R>(
        err: SdkError<E, R>,
        action: &str,
        bucket: &str,
        key: Option<&str>,
        endpoint: &str,
    ) -> S3Error
    where
        E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
        R: std::fmt::Debug + Send + Sync + 'static,
    {
        let chain = DisplayErrorContext(&err).to_string();
        let answer = Answer::of(&err);
        let at = At {
            action,
            bucket,
            key,
            endpoint,
        };
        match &err {
            SdkError::ServiceError(se) => {
                let e = se.err();
                if let Some(wrong) =
                    answer.wrong_region(e.code(), e.message().unwrap_or(""), bucket)
                {
                    return wrong;
                }
                match (e.code(), answer.status) {
                    // A HEAD answer has no body to carry a code: its status is all there is.
                    (None, Some(status)) if status >= 300 => by_status(status, &at),
                    (None, _) if e.message().is_none() => {
                        // Not an S3 error but an answer the SDK could not read: say what it said.
                        S3Error::Service {
                            action: action.into(),
                            code: "UnreadableAnswer".into(),
                            message: unreadable(&chain, action),
                        }
                    }
                    (code, _) => {
                        let message = e.message().unwrap_or("").to_string();
                        classify(code.unwrap_or("Unknown"), message, &at)
                    }
                }
            }
            _ if chain.contains("credentials") || chain.contains("Credentials") => {
                S3Error::NoCredentials
            }
            SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) => S3Error::Unreachable {
                endpoint: endpoint.to_string(),
                detail: network_detail(&chain),
            },
            _ => {
                // A response the SDK could not parse: the raw status often tells it all.
                let code = if let Some(e) = err.as_service_error() {
                    e.code().unwrap_or("").to_string()
                } else {
                    String::new()
                };
                if code.is_empty()
                    && (chain.contains("NoSuchBucket") || chain.contains("404"))
                    && action == "s3:GetBucketVersioning"
                {
                    return S3Error::NoSuchBucket {
                        bucket: bucket.into(),
                        endpoint: endpoint.into(),
                    };
                }
                S3Error::Service {
                    action: action.into(),
                    code: "Error".into(),
                    message: short(&chain),
                }
            }
        }
    }
}

/// The header [`crate::connect`]'s interceptor puts on a 301 or 400 answer: the region its
/// request was signed for (the SDK keeps no other trace of it in an error).
pub(crate) const REGION_USED: &str = "x-s3-prune-region-used";

/// What the raw answer says beside its code: its status, and for a request sent to the wrong
/// region the bucket's region and the one used.
#[derive(Default)]
struct Answer {
    status: Option<u16>,
    bucket_region: Option<String>,
    region_used: Option<String>,
}

impl Answer {
    fn of<E, R: 'static>(err: &SdkError<E, R>) -> Answer {
        let raw = err
            .raw_response()
            .and_then(|r| (r as &dyn std::any::Any).downcast_ref::<HttpResponse>());
        let Some(raw) = raw else {
            return Answer::default();
        };
        let header = |name: &str| {
            raw.headers()
                .get(name)
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_string)
        };
        Answer {
            status: Some(raw.status().as_u16()),
            bucket_region: header("x-amz-bucket-region"),
            region_used: header(REGION_USED),
        }
    }

    /// The request went to another region than the bucket's: S3 says so with a 301
    /// (PermanentRedirect, or a bodiless HEAD answer) or a 400 (AuthorizationHeaderMalformed:
    /// "the region 'us-east-1' is wrong; expecting 'eu-west-1'"), the bucket's region in the
    /// `x-amz-bucket-region` header or in the message.
    fn wrong_region(&self, code: Option<&str>, message: &str, bucket: &str) -> Option<S3Error> {
        let quoted = |after: &str| {
            let rest = &message[message.find(after)? + after.len()..];
            Some(rest.split('\'').next()?.to_string()).filter(|r| !r.is_empty())
        };
        let moved = self.status == Some(301) || code == Some("PermanentRedirect");
        let elsewhere = code == Some("AuthorizationHeaderMalformed")
            || (self.status == Some(400) && code.is_none());
        if !moved && !elsewhere {
            return None;
        }
        let theirs = self.bucket_region.clone().or_else(|| quoted("expecting '"));
        let ours = self.region_used.clone().or_else(|| quoted("the region '"));
        if (theirs.is_none() && !moved) || (theirs.is_some() && theirs == ours) {
            // Not about the region after all: a plain 400, or a bucket where requests went.
            return None;
        }
        Some(S3Error::WrongRegion {
            // A lease names `BUCKET/KEY`; the region is the bucket's.
            bucket: bucket.split('/').next().unwrap_or(bucket).to_string(),
            theirs,
            ours,
        })
    }
}

/// What one request was about, for its message.
struct At<'a> {
    action: &'a str,
    bucket: &'a str,
    key: Option<&'a str>,
    endpoint: &'a str,
}

impl At<'_> {
    /// `BUCKET/KEY` for a request about an object, else the bucket.
    fn resource(&self) -> String {
        match self.key {
            Some(key) => format!("{}/{key}", self.bucket),
            None => self.bucket.to_string(),
        }
    }
}

/// S3's message (its last full stop dropped) and, for a request about one object, which:
/// `… (on 'BUCKET/KEY')`.
fn with_object(message: &str, at: &At) -> String {
    let message = message.trim().trim_end_matches('.');
    match at.key {
        Some(_) => format!("{message} (on '{}')", at.resource())
            .trim_start()
            .to_string(),
        None => message.to_string(),
    }
}

/// An answer with no error code (a HEAD's has no body), by its HTTP status.
fn by_status(status: u16, at: &At) -> S3Error {
    match status {
        403 => classify("AccessDenied", String::new(), at),
        404 if at.key.is_some() => classify("NotFound", String::new(), at),
        404 => classify("NoSuchBucket", String::new(), at),
        503 => classify("ServiceUnavailable", format!("S3 answered {status}"), at),
        500..=599 => classify("InternalError", format!("S3 answered {status}"), at),
        _ => S3Error::Service {
            action: at.action.into(),
            code: format!("HTTP {status}"),
            message: format!(
                "S3 answered {status} about '{}' without saying why",
                at.resource()
            ),
        },
    }
}

/// Why an answer could not be read, and for a listing the usual cause: a key with a control
/// character, which S3's XML listings cannot carry.
fn unreadable(chain: &str, action: &str) -> String {
    let what = short(chain);
    if action.starts_with("s3:ListBucket") {
        format!(
            "the listing could not be read ({what}). A key holding a control character \
             (U+0001–U+001F) makes S3's XML listing unreadable: find it with `aws s3api \
             list-objects-v2 --bucket BUCKET --encoding-type url`, rename or delete it, and run \
             again. Nothing was deleted"
        )
    } else {
        format!("the answer could not be read: {what}")
    }
}

fn classify(code: &str, message: String, at: &At) -> S3Error {
    let action = at.action;
    match code {
        "NoSuchBucket" => S3Error::NoSuchBucket {
            bucket: at.bucket.into(),
            endpoint: at.endpoint.into(),
        },
        "AccessDenied" | "AllAccessDisabled" | "AccountProblem" => S3Error::AccessDenied {
            action: action.into(),
            bucket: at.resource(),
        },
        "NotFound" | "NoSuchKey" if at.key.is_some() => S3Error::Gone {
            action: action.into(),
            object: at.resource(),
        },
        "InvalidAccessKeyId" | "SignatureDoesNotMatch" | "ExpiredToken" | "InvalidToken" => {
            S3Error::Service {
                action: action.into(),
                code: code.into(),
                message: format!("{message} (check the credentials in use)"),
            }
        }
        "SlowDown" | "ServiceUnavailable" | "InternalError" | "RequestTimeout" => {
            let advice = if code == "SlowDown" {
                "S3 kept throttling after every retry: lower --concurrency (default 16), or run \
                 again later"
            } else {
                "S3 kept failing after every retry, usually for a short while: run again"
            };
            S3Error::Service {
                action: action.into(),
                code: code.into(),
                message: format!("{}. {advice}", with_object(&message, at)),
            }
        }
        _ => S3Error::Service {
            action: action.into(),
            code: code.into(),
            message: with_object(&message, at),
        },
    }
}

/// The part of a connector error chain a person needs.
fn network_detail(chain: &str) -> String {
    let c = chain.to_ascii_lowercase();
    if c.contains("connection refused") {
        "connection refused".into()
    } else if c.contains("dns error")
        || c.contains("failed to lookup")
        || c.contains("name or service not known")
    {
        "host name not found".into()
    } else if c.contains("timed out") || c.contains("timeout") {
        "timed out".into()
    } else if c.contains("connection reset") {
        "connection reset".into()
    } else {
        short(chain.split(" (").next().unwrap_or(chain))
    }
}

fn short(s: &str) -> String {
    let s = s.replace('\n', " ");
    if s.len() > 300 {
        let mut end = 300;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        format!("{}…", &s[..end])
    } else {
        s
    }
}
