//! Running the real binary in tests.
#![allow(dead_code)]

use bucket::testkit::put_many;
use bucket::Bucket;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

pub fn s3_prune(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_s3-prune"))
        .args(args)
        .env_remove("AWS_ENDPOINT_URL")
        .env("S3_PRUNE_AUDIT_DB", audit_db())
        .stdin(Stdio::null())
        .output()
        .expect("running s3-prune")
}

pub fn audit_db() -> std::path::PathBuf {
    std::env::temp_dir().join(format!("s3p-cli-audit-{}.sqlite", std::process::id()))
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub fn json(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}\n{}", stdout(o), stderr(o)))
}

/// `(id, reason)` of each deployment of a `--json` plan or report, in plan order.
pub fn reasons(v: &serde_json::Value) -> Vec<(String, String)> {
    v["deployments"]
        .as_array()
        .unwrap_or_else(|| panic!("no deployments in {v}"))
        .iter()
        .map(|d| {
            (
                d["id"].as_str().unwrap().to_string(),
                d["reason"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// Deployments with distinct LastModified seconds, oldest first.
pub async fn deploy_seconds_apart(b: &Bucket, ids: &[&str]) {
    for (i, id) in ids.iter().enumerate() {
        if i > 0 {
            tokio::time::sleep(Duration::from_millis(1100)).await;
        }
        put_many(
            b,
            [format!("{id}/index.html"), format!("{id}/css/font.css")],
            &[],
        )
        .await;
    }
}

/// Like [`s3_prune`] with extra environment variables.
pub fn s3_prune_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_s3-prune"));
    cmd.args(args)
        .env_remove("AWS_ENDPOINT_URL")
        .env("S3_PRUNE_AUDIT_DB", audit_db())
        .stdin(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("running s3-prune")
}
