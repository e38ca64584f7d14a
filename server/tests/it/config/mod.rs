//! `s3-prune.toml` and the conveniences of an installed tool: the file sets flag defaults,
//! flags win, unknown keys are refused by name; `--version`, completions, man page, NO_COLOR.

use crate::common::{audit_db, deploy_seconds_apart, json, stderr, stdout};
use bucket::testkit::{all_keys, fresh_bucket};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

mod defaults;
mod refused;
mod tools;

/// A fresh empty working directory.
fn workdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("s3p-config-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The binary run in `dir`, as a team runs it next to its committed s3-prune.toml.
fn run_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_s3-prune"))
        .current_dir(dir)
        .args(args)
        .env_remove("AWS_ENDPOINT_URL")
        .env_remove("S3_PRUNE_CONFIG")
        .env("S3_PRUNE_AUDIT_DB", audit_db())
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn deletes(o: &Output) -> Vec<String> {
    let v = json(o);
    v["deployments"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["action"] == "delete")
        .map(|d| d["id"].as_str().unwrap().to_string())
        .collect()
}

/// `policy.toml` (previews grouped by PR, the newest of each kept) and an `s3-prune.toml`
/// naming it and bucket `b`, in `dir`.
fn previews_policy_beside_config(dir: &Path, b: &bucket::Bucket) {
    std::fs::write(
        dir.join("policy.toml"),
        "[[rule]]\nname = \"previews\"\nmatch = \"pr-*\"\ngroup = '^(pr-\\d+)-'\nretain = 1\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("s3-prune.toml"),
        format!(
            "localstack = true\nbucket = \"{}\"\n[policy]\nfile = \"policy.toml\"\n",
            b.name()
        ),
    )
    .unwrap();
}
