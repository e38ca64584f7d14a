//! The bucket remembers: one lease per bucket so two applies never run at once, pins read again
//! while an apply runs, and a journal in the bucket that `history` and `restore` read whichever
//! machine (or killed process) ran the apply.

use crate::common::{audit_db, json, s3_prune, stderr, stdout};
use crate::proxy::{start, Proxy};
use bucket::testkit::{all_keys, fresh_bucket, keys_under, object_body, put_many, remove_keys};
use bucket::Bucket;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

mod folders;
mod intents;
mod killed;
mod lease;
mod pins;
mod readers;
mod restore_again;
mod restore_running;
mod uploads;
mod writes;

/// Deployments `ids` of `files` objects each, a second apart (oldest first).
async fn deploy(b: &Bucket, ids: &[&str], files: usize) {
    for (i, id) in ids.iter().enumerate() {
        if i > 0 {
            tokio::time::sleep(Duration::from_millis(1100)).await;
        }
        put_many(b, (0..files).map(|f| format!("{id}/f{f:04}.js")), &[]).await;
    }
}

/// `s3-prune apply BUCKET RETAIN --yes --json` through a proxy that slows every request by
/// `delay`, one request slot: an apply that takes seconds, to be caught in the middle.
async fn slow_apply(b: &Bucket, retain: &str, delay: Duration) -> Child {
    slow_apply_in_slots(b, retain, delay, 1).await
}

/// [`slow_apply`] with `slots` requests in flight at once (`--concurrency`).
async fn slow_apply_in_slots(b: &Bucket, retain: &str, delay: Duration, slots: u32) -> Child {
    slow_apply_with(b, retain, delay, slots, &[]).await
}

/// [`slow_apply_in_slots`] with `extra` arguments.
async fn slow_apply_with(
    b: &Bucket,
    retain: &str,
    delay: Duration,
    slots: u32,
    extra: &[&str],
) -> Child {
    let mut p = Proxy::new(0);
    p.delay_all = Some(delay);
    let (url, _proxy) = start(p).await;
    apply_via(&url, b, retain, slots, extra)
}

/// Five doomed deployments of 300 keys (p1–p5; p6 kept) and `apply B 1`, one slot, through a
/// proxy that holds each DeleteObjects 3 s: batch 1 (p1–p3 and 100 keys of p4) goes at once;
/// p4's rest and p5 are listed (pins read) while it is in flight, and wait. Returns once
/// batch 1 is in flight and p5's listing has reached the proxy, `after_listing` later.
async fn apply_with_listed_keys_waiting(b: &Bucket, after_listing: Duration) -> Child {
    deploy(b, &LISTED_WAITING, 300).await;
    listed_keys_waiting(b, after_listing).await
}

/// The deployments [`apply_with_listed_keys_waiting`] deploys (p5 is the one whose keys wait).
const LISTED_WAITING: [&str; 6] = ["p1", "p2", "p3", "p4", "p5", "p6"];

/// [`apply_with_listed_keys_waiting`] of deployments already there.
async fn listed_keys_waiting(b: &Bucket, after_listing: Duration) -> Child {
    let mut p = Proxy::new(0);
    p.delay_delete = Some(Duration::from_secs(3));
    let (url, proxy) = start(p).await;
    let apply = apply_via(&url, b, "1", 1, &[]);
    until_counted("the first DeleteObjects", &proxy.stats.deletes_now).await;
    // p5's keys listed (before: a fixed wait, which a loaded machine outran — the upload then
    // landed before p5's listing, and p5 was left whole as changed instead)...
    until("p5's listing", || {
        let listed = proxy
            .stats
            .listed_prefixes
            .lock()
            .unwrap()
            .iter()
            .any(|p| p == "p5%2F");
        async move { listed }
    })
    .await;
    // ...its keys waiting behind batch 1's 3 s; `after_listing` later, the listing is answered
    // too (the request seen at the proxy may still be on its way to the server: an upload
    // landing first was listed, and p5 left whole as changed).
    tokio::time::sleep(after_listing).await;
    apply
}

/// `s3-prune apply BUCKET RETAIN --yes --json --concurrency SLOTS EXTRA…` through the proxy at
/// `url`, running.
fn apply_via(url: &str, b: &Bucket, retain: &str, slots: u32, extra: &[&str]) -> Child {
    let slots = slots.to_string();
    let mut args = vec![b.name(), retain, "--json", "--concurrency", &slots];
    args.extend_from_slice(extra);
    crate::common::apply_through(url, &args)
}

/// Waits (up to 60 s) until `cond` holds.
async fn until<F, Fut>(what: &str, mut cond: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = Instant::now();
    while !cond().await {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn lease_taken(b: &Bucket) -> bool {
    matches!(b.read_lease().await, Ok(Some(_)))
}

/// `restore BUCKET --run ID` on "another machine" (its own audit log): it succeeds and every
/// key of `before` is back.
async fn restore_elsewhere_brings_back(b: &Bucket, id: &str, before: &[String]) {
    let out = restore_elsewhere(b, id);
    assert!(out.status.success(), "{}\n{}", stdout(&out), stderr(&out));
    let after = all_keys(b).await;
    assert!(
        after == before,
        "every object the killed run deleted is back: {} of {}",
        after.len(),
        before.len()
    );
}

/// `restore BUCKET --run ID` on "another machine" (its own audit log).
fn restore_elsewhere(b: &Bucket, id: &str) -> std::process::Output {
    let db = elsewhere();
    s3_prune(&[
        "restore",
        b.name(),
        "--run",
        id,
        "--localstack",
        "--audit-db",
        db.to_str().unwrap(),
    ])
}

/// A run of `b` killed right after writing its start (begun at `began` by its host's clock;
/// S3 dates the part), nothing else of it on record. Nothing is deleted here.
async fn killed_start(b: &Bucket, began: chrono::DateTime<chrono::Utc>) -> bucket::RunId {
    let killed = bucket::RunId::new(began);
    let record = serde_json::json!({
        "who": "ops@laptop", "source": "cli", "started_at": began, "duration_ms": 0,
        "bucket": b.name(), "prefix": "", "policy": {"retain": 2}, "plan_fingerprint": "x",
        "deleted": [], "deleted_objects": 0, "deleted_bytes": 0, "failures": [],
        "status": "started", "run": killed.to_string(), "host": "laptop", "undoable": true,
    });
    let start = serde_json::json!({ "record": record, "doomed": [] });
    bucket::JournalPlace::of(b)
        .write(&killed, "start.json", serde_json::to_vec(&start).unwrap())
        .await
        .unwrap();
    killed
}

/// `apply BUCKET RETAIN --localstack --yes --json` with `extra`: its JSON answer.
fn apply_json(b: &Bucket, retain: &str, extra: &[&str]) -> serde_json::Value {
    let mut args = vec!["apply", b.name(), retain];
    args.extend_from_slice(extra);
    args.extend_from_slice(&["--localstack", "--yes", "--json"]);
    json(&s3_prune(&args))
}

/// The audit log of "another machine": none of this test process's runs are in it.
fn elsewhere() -> std::path::PathBuf {
    std::env::temp_dir().join(format!("s3p-elsewhere-{}.sqlite", std::process::id()))
}

/// `history BUCKET --json`, run as from another machine (its own audit log).
fn history_elsewhere(b: &Bucket) -> std::process::Output {
    let db = elsewhere();
    s3_prune(&[
        "history",
        b.name(),
        "--localstack",
        "--json",
        "--audit-db",
        db.to_str().unwrap(),
    ])
}

/// Waits (up to 60 s) until the proxy has counted at least one of `what`.
async fn until_counted(what: &str, counted: &std::sync::atomic::AtomicU64) {
    until(what, || {
        let seen = counted.load(std::sync::atomic::Ordering::SeqCst) > 0;
        async move { seen }
    })
    .await;
}

fn finish(child: Child) -> std::process::Output {
    child.wait_with_output().expect("waiting for s3-prune")
}

/// Five doomed deployments of 100 keys (one kept), applied four batches at a time through a
/// proxy that holds the run's `folders.json` PUT 3 s: returned once it is being written, so
/// every batch is waiting for the run's start to be on record. `versioned`: on a bucket with
/// versioning.
async fn waiting_for_the_start(
    hint: &str,
    versioned: bool,
) -> (Bucket, Child, std::sync::Arc<Proxy>) {
    let b = fresh_bucket(hint).await;
    if versioned {
        b.enable_versioning().await.unwrap();
    }
    deploy(&b, &["s1", "s2", "s3", "s4", "s5", "s6"], 100).await;
    let mut p = Proxy::new(0);
    p.delay_put = Some(("/folders.json".into(), Duration::from_secs(3)));
    let (url, proxy) = start(p).await;
    let child = apply_via(&url, &b, "1", 4, &[]);
    until_counted("the run's folders being written", &proxy.stats.puts_delayed).await;
    (b, child, proxy)
}

/// `apply BUCKET 1 --yes --json --concurrency 1` through a proxy that refuses PUTs to the
/// journal after the first `allowed` of them.
fn apply_with_journal_refused(b: &Bucket, url: &str) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_s3-prune"))
        .args(["apply", b.name(), "1", "--localstack", "--yes", "--json"])
        .args(["--concurrency", "1"])
        .env("AWS_ENDPOINT_URL", url)
        .env("S3_PRUNE_AUDIT_DB", audit_db())
        .stdin(Stdio::null())
        .output()
        .expect("running s3-prune")
}

/// Three deployments of 300 objects (two doomed at retain 1), and the bucket's keys.
async fn three_deployments(hint: &str) -> (Bucket, Vec<String>) {
    let b = fresh_bucket(hint).await;
    deploy(&b, &["s1", "s2", "s3"], 300).await;
    let before = all_keys(&b).await;
    (b, before)
}

/// A proxy that holds each PUT whose path holds `path` for 1.5 s (long after the first
/// listings and the run's start could be done), then refuses it.
fn slow_then_refused(path: &str) -> Proxy {
    let mut p = Proxy::new(0);
    p.delay_put = Some((path.into(), Duration::from_millis(1500)));
    p.deny_put = Some((path.into(), 0));
    p
}
