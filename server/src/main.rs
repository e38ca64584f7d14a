//! `s3-prune`: delete old deployment folders from S3, safely.
//!
//! A thin binary: arguments in, calls into `bucket` (S3) and `retention` (policy), text out.

mod args;
mod auth;
mod demo;
mod output;
mod run;
mod serve;

use clap::Parser;
use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = args::Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("S3_PRUNE_LOG").unwrap_or_else(|_| {
                tracing_subscriber::EnvFilter::new(
                    "warn,aws_config=error,aws_smithy_runtime=error,server=info,app=info",
                )
            }),
        )
        .with_writer(std::io::stderr)
        .init();
    let result = match cli.command {
        args::Command::Plan(a) => run::plan(a).await,
        args::Command::Apply(a) => run::apply(a).await,
        args::Command::Serve(a) => serve::serve(a).await,
        args::Command::Demo(a) => demo::demo(a).await,
        args::Command::Pin(a) => run::pin(a, true).await,
        args::Command::Unpin(a) => run::pin(a, false).await,
        args::Command::History(a) => run::history(a),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
