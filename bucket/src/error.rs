//! The one error of every S3 request, phrased for the person who has to fix it: which bucket,
//! which endpoint, and for a refusal the IAM action that is missing.

use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_smithy_types::error::display::DisplayErrorContext;
use std::error::Error as StdError;

/// An S3 failure, phrased for the person who has to fix it.
#[derive(Debug, Clone, thiserror::Error)]
pub enum S3Error {
    #[error("bucket '{bucket}' does not exist at {endpoint}: check the name, the region and the endpoint")]
    NoSuchBucket { bucket: String, endpoint: String },
    #[error("access denied for {action} on '{bucket}': the credentials in use need the IAM permission {action}")]
    AccessDenied { action: String, bucket: String },
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
    #[error("the lifecycle configuration of '{bucket}' changed while s3-prune was editing it (the console, Terraform or another run): nothing was written. Run again")]
    LifecycleChanged { bucket: String },
    #[error("lifecycle rule '{rule}' keeps old versions of {scope} for {theirs} days; an undo window of {days} days over the same keys would shorten it (S3 applies the shortest). Nothing was changed: give --days {theirs} or more, a --prefix outside it, or change that rule")]
    WouldShorten {
        rule: String,
        scope: String,
        theirs: i32,
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
        let chain = DisplayErrorContext(&err).to_string();
        match &err {
            SdkError::ServiceError(se)
                if se.err().code().is_none() && se.err().message().is_none() =>
            {
                // Not an S3 error but an answer the SDK could not read: say what it said.
                S3Error::Service {
                    action: action.into(),
                    code: "UnreadableAnswer".into(),
                    message: unreadable(&chain, action),
                }
            }
            SdkError::ServiceError(se) => {
                let e = se.err();
                let code = e.code().unwrap_or("Unknown").to_string();
                let message = e.message().unwrap_or("").to_string();
                classify_code(&code, message, action, bucket, endpoint)
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

pub(crate) fn classify_code(
    code: &str,
    message: String,
    action: &str,
    bucket: &str,
    endpoint: &str,
) -> S3Error {
    match code {
        "NoSuchBucket" => S3Error::NoSuchBucket {
            bucket: bucket.into(),
            endpoint: endpoint.into(),
        },
        "AccessDenied" | "AllAccessDisabled" | "AccountProblem" => S3Error::AccessDenied {
            action: action.into(),
            bucket: bucket.into(),
        },
        "InvalidAccessKeyId" | "SignatureDoesNotMatch" | "ExpiredToken" | "InvalidToken" => {
            S3Error::Service {
                action: action.into(),
                code: code.into(),
                message: format!("{message} (check the credentials in use)"),
            }
        }
        _ => S3Error::Service {
            action: action.into(),
            code: code.into(),
            message,
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
