//! `s3-prune`: delete old deployment folders from S3, safely.
//!
//! A thin binary: arguments in, calls into the engine (`prune`), text out.

mod args;
mod auth;
mod demo;
mod lambda;
mod output;
mod run;
mod saved;
mod serve;
mod site;
mod who;

use clap::Parser;
use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    // Inside Lambda there are no arguments: the runtime API variable says what to do.
    let in_lambda =
        std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some() && std::env::args_os().len() == 1;
    let command = if in_lambda {
        args::Command::Lambda
    } else {
        args::Cli::parse().command
    };
    let filter = || {
        tracing_subscriber::EnvFilter::try_from_env("S3_PRUNE_LOG").unwrap_or_else(|_| {
            tracing_subscriber::EnvFilter::new(
                "warn,aws_config=error,aws_smithy_runtime=error,s3_prune=info,app=info",
            )
        })
    };
    if matches!(command, args::Command::Lambda) {
        // CloudWatch gets one JSON object per line.
        tracing_subscriber::fmt()
            .json()
            .with_env_filter(filter())
            .with_writer(std::io::stderr)
            .init();
    } else {
        tracing_subscriber::fmt()
            .with_env_filter(filter())
            .with_writer(std::io::stderr)
            .init();
    }
    let result = match command {
        args::Command::Plan(a) => run::plan(a).await,
        args::Command::Apply(a) => run::apply(a).await,
        args::Command::Serve(a) => serve::serve(a).await,
        args::Command::Demo(a) => demo::demo(a).await,
        args::Command::Pin(a) => run::pin(a, true).await,
        args::Command::Unpin(a) => run::pin(a, false).await,
        args::Command::History(a) => run::history(a),
        args::Command::Lambda => lambda::run().await,
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
