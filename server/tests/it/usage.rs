//! Usage errors and what the CLI says about itself: each bad command line exits 2 (README's
//! "bad arguments, before any request") with a sentence saying what to do; flags do what their
//! help says; a second signal during apply says how the run was left.

use crate::common::stderr;
use std::process::{Command, Stdio};

/// `s3-prune lambda` outside AWS Lambda panicked (exit 101, a backtrace); now a usage error
/// saying where it runs and what to run by hand.
#[test]
fn lambda_outside_aws_lambda_is_a_usage_error_not_a_panic() {
    let out = Command::new(env!("CARGO_BIN_EXE_s3-prune"))
        .arg("lambda")
        .env_remove("AWS_LAMBDA_RUNTIME_API")
        .env_remove("AWS_LAMBDA_FUNCTION_NAME")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    for part in [
        "only inside AWS Lambda",
        "AWS_LAMBDA_RUNTIME_API",
        "deploy/terraform",
        "apply",
    ] {
        assert!(err.contains(part), "expected '{part}' in: {err}");
    }
}
