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

/// `(id, FIELD)` of each deployment of a `--json` plan or report, in plan order.
pub fn id_and<'a>(v: &'a serde_json::Value, field: &str) -> Vec<(&'a str, &'a str)> {
    deployments(v)
        .map(|d| (d["id"].as_str().unwrap(), d[field].as_str().unwrap()))
        .collect()
}

/// `(id, action)` of each deployment of a `--json` plan or report, in plan order.
pub fn actions(v: &serde_json::Value) -> Vec<(&str, &str)> {
    id_and(v, "action")
}

/// The ids of a `--json` plan's deployments, in plan order.
pub fn ids(v: &serde_json::Value) -> Vec<&str> {
    deployments(v).map(|d| d["id"].as_str().unwrap()).collect()
}

/// The ids of the deployments a `--json` plan deletes, in plan order.
pub fn to_delete(v: &serde_json::Value) -> Vec<&str> {
    deployments(v)
        .filter(|d| d["action"] == "delete")
        .map(|d| d["id"].as_str().unwrap())
        .collect()
}

/// The deployments of a `--json` plan or report.
fn deployments(v: &serde_json::Value) -> impl Iterator<Item = &serde_json::Value> {
    v["deployments"].as_array().unwrap().iter()
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

/// Groups of keys put with distinct LastModified seconds, first group oldest.
pub async fn put_seconds_apart(b: &Bucket, groups: Vec<Vec<String>>) {
    for (i, keys) in groups.into_iter().enumerate() {
        if i > 0 {
            tokio::time::sleep(Duration::from_millis(1100)).await;
        }
        put_many(b, keys, &[]).await;
    }
}

/// A proxy in front of LocalStack, set up by `tune` (slowed, faulty, denying) and started.
pub async fn endpoint(
    tune: impl FnOnce(&mut crate::proxy::Proxy),
) -> (String, std::sync::Arc<crate::proxy::Proxy>) {
    let mut p = crate::proxy::Proxy::new(0);
    tune(&mut p);
    crate::proxy::start(p).await
}

/// A run of the binary against LocalStack, built from what differs: the command, flags, env.
#[derive(Clone)]
pub struct Run {
    args: Vec<String>,
    env: Vec<(String, String)>,
}

impl Run {
    /// Any command line, as given.
    pub fn new(args: &[&str]) -> Self {
        Run {
            args: args.iter().map(|a| a.to_string()).collect(),
            env: Vec::new(),
        }
    }
    /// `apply BUCKET RETAIN --localstack --yes`.
    pub fn apply(bucket: &str, retain: impl std::fmt::Display) -> Self {
        Self::new(&[
            "apply",
            bucket,
            &retain.to_string(),
            "--localstack",
            "--yes",
        ])
    }
    /// `plan BUCKET RETAIN --localstack`.
    pub fn plan(bucket: &str, retain: impl std::fmt::Display) -> Self {
        Self::new(&["plan", bucket, &retain.to_string(), "--localstack"])
    }
    /// Adds `--date-source meta:deployed-at`: deployments dated by their deploy-time metadata.
    pub fn meta_dated(self) -> Self {
        self.args(&["--date-source", "meta:deployed-at"])
    }
    /// More arguments after those given so far.
    pub fn args(mut self, more: &[&str]) -> Self {
        self.args.extend(more.iter().map(|a| a.to_string()));
        self
    }
    /// An environment variable for the run.
    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }
    /// Runs it and returns its output, unchecked.
    pub fn out(&self) -> Output {
        let args: Vec<&str> = self.args.iter().map(String::as_str).collect();
        let env: Vec<(&str, &str)> = self
            .env
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        s3_prune_env(&args, &env)
    }
    /// Runs it, asserts it succeeded (showing stderr if not) and returns the output.
    pub fn ok(&self) -> Output {
        let out = self.out();
        assert!(out.status.success(), "{}", stderr(&out));
        out
    }
    /// Runs it with `--json`, asserts it succeeded and returns the JSON.
    pub fn json(&self) -> serde_json::Value {
        json(&self.clone().args(&["--json"]).ok())
    }
    /// Runs it, asserts it failed with `text` in stderr and returns the output.
    pub fn fails_with(&self, text: &str) -> Output {
        let out = self.out();
        assert!(!out.status.success());
        assert!(stderr(&out).contains(text), "{}", stderr(&out));
        out
    }
}

/// Asserts `part` is in `text`, showing `text` if not.
pub fn assert_contains(text: &str, part: &str) {
    assert!(text.contains(part), "{text}");
}

/// Asserts `text` is in the run's stdout, showing stdout if not.
pub fn assert_stdout_has(out: &Output, text: &str) {
    assert!(stdout(out).contains(text), "{}", stdout(out));
}

/// Asserts `text` is in the run's stderr, showing stderr if not.
pub fn assert_stderr_has(out: &Output, text: &str) {
    assert!(stderr(out).contains(text), "{}", stderr(out));
}

/// `s3-prune apply ARGS… --localstack --yes` through the endpoint at `url` (a fault proxy),
/// running.
pub fn apply_through(url: &str, args: &[&str]) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_s3-prune"))
        .arg("apply")
        .args(args)
        .args(["--localstack", "--yes"])
        .env("AWS_ENDPOINT_URL", url)
        .env("S3_PRUNE_AUDIT_DB", audit_db())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("running s3-prune")
}

/// Waits (up to 30 s) until a DeleteObjects has reached the proxy (held or being answered).
pub async fn until_in_flight(stats: &crate::proxy::Stats) {
    let started = std::time::Instant::now();
    while stats.deletes_now.load(std::sync::atomic::Ordering::SeqCst) == 0 {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "apply never started deleting"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// What `child` printed once it ended, waiting at most `secs` seconds: past that it is killed
/// and the test fails with `what` (a run that loops instead of failing).
pub async fn ended_within(mut child: std::process::Child, secs: u64, what: &str) -> Output {
    let started = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(secs) {
            child.kill().ok();
            panic!("{what} after {secs} s");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    child.wait_with_output().expect("waiting for s3-prune")
}

/// Sends SIGTERM to `child` (a clean stop, as Ctrl-C or a shutdown asks).
pub fn terminate(child: &std::process::Child) {
    let term = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(term.success());
}
