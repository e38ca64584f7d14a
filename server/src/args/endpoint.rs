//! `--localstack`, `--endpoint-url`, `--concurrency` and `--journal`: where a command's S3
//! requests go, shared by every command that talks to a bucket.

use super::values::parse_endpoint_url;
use clap::Args;

#[derive(Args, Debug, Clone)]
pub struct Endpoint {
    /// Use LocalStack: http://localhost:4566 (unless AWS_ENDPOINT_URL is set), path-style,
    /// us-east-1 and test credentials when none are configured.
    #[arg(long, conflicts_with = "endpoint_url")]
    pub localstack: bool,
    /// Any other S3-compatible endpoint (path-style addressing): http(s)://host:port.
    #[arg(long, value_name = "URL", value_parser = parse_endpoint_url)]
    pub endpoint_url: Option<String>,
    /// Requests in flight: key ranges while scanning; listings and DeleteObjects batches while deleting.
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub concurrency: u16,
    /// Keep the run journal in s3://BUCKET/PATH/ (an audit bucket) instead of beside the
    /// deployments (<prefix>.s3-prune/runs/); every front end of the bucket must be given it.
    #[arg(long, value_name = "s3://BUCKET/PATH/")]
    pub journal: Option<bucket::JournalLocation>,
}

impl Endpoint {
    pub fn connect(&self) -> bucket::Connect {
        bucket::Connect {
            localstack: self.localstack,
            endpoint_url: self.endpoint_url.clone(),
            max_attempts: None,
            journal: self.journal.clone(),
        }
    }
}
